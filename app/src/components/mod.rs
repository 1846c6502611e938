//! Small building blocks shared by pages.

mod field;

pub use field::{FieldCheck, FormAlert, SubmitButton, TextField};
