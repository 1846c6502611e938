//! One module per page.

mod home;
mod not_found;
mod profile;
mod search;

pub use home::{HomePage, LocalTime};
#[cfg(feature = "hydrate")]
pub use home::local_time_text;
pub use not_found::{NotFound, page_or_error};
pub use profile::ProfilePage;
pub use search::SearchPage;
