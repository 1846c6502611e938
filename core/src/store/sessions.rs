//! Session records in the database (embedded mode, or PostgreSQL without
//! Redis), one row each, keyed to their account so its sessions end at once.

use super::{Store, on_pool};
use crate::{
    Result,
    ids::{UnixMillis, UserId},
};

/// A session record as stored: its data as JSON, and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub data: String,
    pub expires_at: UnixMillis,
}

impl Store {
    /// Writes a session (replacing it), unless it holds an account that no
    /// longer exists: a session must never outlive its account. With
    /// `only_new`, an existing session of that id is left alone. Returns
    /// whether the row was written.
    pub async fn put_session(&self, id: &str, user: Option<UserId>, session: &StoredSession, only_new: bool) -> Result<bool> {
        let on_conflict = if only_new {
            "DO NOTHING"
        } else {
            "DO UPDATE SET user_id = excluded.user_id, data = excluded.data, expires_at = excluded.expires_at"
        };
        let sql = format!(
            "INSERT INTO sessions (id, user_id, data, expires_at)
             SELECT $1, $2, $3, $4 WHERE $2 IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $2)
             ON CONFLICT (id) {on_conflict}"
        );
        let written = on_pool!(self, pool => sqlx::query(&sql)
            .bind(id)
            .bind(user)
            .bind(&session.data)
            .bind(session.expires_at)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(written > 0)
    }

    pub async fn session_exists(&self, id: &str) -> Result<bool> {
        let count: i64 =
            on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE id = $1").bind(id).fetch_one(pool).await?);
        Ok(count > 0)
    }

    /// A session that has not expired.
    pub async fn session(&self, id: &str) -> Result<Option<StoredSession>> {
        let sql = "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2";
        let row: Option<(String, UnixMillis)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(id).bind(UnixMillis::now()).fetch_optional(pool).await?);
        Ok(row.map(|(data, expires_at)| StoredSession { data, expires_at }))
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        on_pool!(self, pool => { sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(pool).await?; });
        Ok(())
    }

    /// Deletes every session of an account but `keep`; returns how many.
    pub async fn delete_sessions_of(&self, user: UserId, keep: Option<&str>) -> Result<u64> {
        let sql = "DELETE FROM sessions WHERE user_id = $1 AND id <> $2";
        Ok(on_pool!(self, pool => sqlx::query(sql).bind(user).bind(keep.unwrap_or("")).execute(pool).await?.rows_affected()))
    }

    pub async fn delete_expired_sessions(&self) -> Result<u64> {
        let sql = "DELETE FROM sessions WHERE expires_at <= $1";
        Ok(on_pool!(self, pool => sqlx::query(sql).bind(UnixMillis::now()).execute(pool).await?.rows_affected()))
    }
}
