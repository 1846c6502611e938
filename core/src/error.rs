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
    /// The session store (the database or Redis) failed or is unreachable.
    #[error("session store error: {0}")]
    Sessions(String),
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

    /// Whether the database refused this data for good: a constraint it can
    /// never meet, a value it cannot hold. The same write fails again
    /// however often it is retried; anything else (a database or Redis
    /// that is down, read-only, full or slow) may pass later.
    pub fn is_refused_content(&self) -> bool {
        use sqlx::error::ErrorKind;
        match self {
            Self::Database(sqlx::Error::Database(db)) => {
                matches!(
                    db.kind(),
                    ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation | ErrorKind::NotNullViolation | ErrorKind::CheckViolation
                ) || db.code().is_some_and(|code| refused_content_code(&code))
            }
            Self::Database(sqlx::Error::Encode(_) | sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)) => true,
            Self::Payload(_) | Self::Input { .. } => true,
            _ => false,
        }
    }

    /// Whether a dependency (the database or Redis) is unreachable or
    /// degraded rather than refusing the request itself: callers answer 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Database(_) | Self::Redis(_) | Self::Sessions(_) | Self::ShuttingDown) && !self.is_refused_content()
    }

    /// Whether this is a unique-constraint violation (a duplicate key).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(db)) if db.is_unique_violation())
    }
}

/// Error codes saying that the data itself is wrong: PostgreSQL's
/// (five-character SQLSTATE) class 22, data exceptions (out of range, bad
/// encoding…), and 23, integrity; SQLite's (a number) TOOBIG (18),
/// CONSTRAINT (19) and MISMATCH (20), with their extended codes (primary
/// code in the low byte).
fn refused_content_code(code: &str) -> bool {
    if code.len() == 5 {
        return code.starts_with("22") || code.starts_with("23");
    }
    code.parse::<u32>().is_ok_and(|code| matches!(code & 0xff, 18..=20))
}

#[cfg(test)]
mod tests {
    use super::refused_content_code;

    #[test]
    fn content_codes_are_told_from_outages() {
        for content in ["22001", "22P05", "23505", "23503", "18", "19", "787", "2067", "20"] {
            assert!(refused_content_code(content), "{content}");
        }
        // Read-only transaction, disk full, too many connections, admin
        // shutdown; SQLite BUSY, LOCKED, READONLY, IOERR, FULL.
        for outage in ["25006", "53100", "53300", "57P01", "5", "6", "8", "10", "13", "1032"] {
            assert!(!refused_content_code(outage), "{outage}");
        }
    }
}
