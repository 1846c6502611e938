//! The error type of the Store and the Bus. Callers at the HTTP boundary map
//! it to a status and a safe message; the detail here is for the logs.

use crate::input::InputError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Redis failed or is unreachable.
    #[error("redis error: {0}")]
    Redis(#[from] fred::error::Error),
    /// A payload on the bus could not be encoded or decoded.
    #[error("bad payload: {0}")]
    Payload(#[from] serde_json::Error),
    /// The thing asked for does not exist (or is not visible to the asker).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A field broke one of its rules (including uniqueness).
    #[error("invalid {field}: {error:?}")]
    Input { field: &'static str, error: InputError },
    /// The worker could not write the message (the poster may retry).
    #[error("message not stored: {0}")]
    NotStored(String),
    /// The bus or worker is shutting down and accepts no more work.
    #[error("shutting down")]
    ShuttingDown,
}

impl Error {
    pub fn input(field: &'static str, error: InputError) -> Self {
        Self::Input { field, error }
    }

    /// Whether this is a unique-constraint violation (a duplicate key).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(db)) if db.is_unique_violation())
    }
}
