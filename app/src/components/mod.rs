//! Small building blocks shared by pages.

mod field;

pub use field::{FormAlert, SubmitButton, TextField};
