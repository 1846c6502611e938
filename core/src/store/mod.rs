//! The one storage API: SQLite (embedded default) or PostgreSQL, through sqlx.
//!
//! Both engines run the same SQL text: positional `$1` parameters work on
//! both, times are integer milliseconds, and the few spots where the dialects
//! differ are written in their common subset. Each domain keeps its queries
//! in its own file.

mod access;
mod direct;
mod messages;
mod reactions;
mod rooms;
mod search;
mod sessions;
mod translations;
mod users;

use std::{str::FromStr, time::Duration};

use sqlx::{
    PgPool, SqlitePool,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub use messages::{MessagePage, Thread};
pub use rooms::{
    DirectoryPage, DirectoryQuery, DirectorySort, IndexablePage, Invite, MyRoom, NewRoom, Room, RoomChanges, RoomOverview, RoomSummary,
    Visibility,
};
pub use sessions::StoredSession;
pub use translations::{RoomReaders, Untranslated};
pub use users::{Avatar, NewUser, Role, User, fnv1a};

use crate::{Result, config::DatabaseUrl};

/// A handle on the database; cheap to clone (it is a pool).
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same expression against whichever pool the store holds. The
/// expression is compiled once per engine, so it must only use SQL and types
/// both engines accept.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Runs the same expression inside a transaction on either engine, commits
/// it when the expression succeeds and rolls back otherwise.
macro_rules! in_transaction {
    ($store:expr, $tx:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(pool) => {
                let mut $tx = pool.begin().await?;
                let value = $body;
                $tx.commit().await?;
                value
            }
            $crate::store::Store::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let value = $body;
                $tx.commit().await?;
                value
            }
        }
    };
}
pub(crate) use in_transaction;

/// Which engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Store {
    /// Opens the pool (creating the SQLite file and its folder if needed)
    /// and applies pending migrations.
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Self> {
        let store = match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    // WAL lets readers work while the worker writes.
                    .journal_mode(SqliteJournalMode::Wal)
                    // Durable at each checkpoint, and far fewer fsyncs than FULL.
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                let pool = SqlitePoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(options)
                    .await?;
                Self::Sqlite(pool)
            }
            DatabaseUrl::Postgres(url) => {
                let options = PgConnectOptions::from_str(url.as_str())?;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(options)
                    .await?;
                Self::Postgres(pool)
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Brings the schema up to date; safe to run at every start and from
    /// several processes at once (sqlx takes a lock).
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Self::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Self::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => { sqlx::query("SELECT 1").execute(pool).await?; });
        Ok(())
    }

    /// Closes every connection (at shutdown, so SQLite checkpoints its WAL).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await);
    }
}
