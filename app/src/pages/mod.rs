//! One module per page.

mod home;
mod not_found;
mod profile;

pub use home::{HomePage, LocalTime};
pub use not_found::NotFound;
pub use profile::ProfilePage;
