//! Changes of access recorded for a server without Redis (see `access`).

use super::{Store, on_pool};
use crate::{Result, access::AccessChange, ids::UnixMillis};

impl Store {
    pub async fn record_access_change(&self, change: &AccessChange) -> Result<()> {
        let sql = "INSERT INTO access_changes (change, created_at) VALUES ($1, $2)";
        let json = serde_json::to_string(change)?;
        on_pool!(self, pool => { sqlx::query(sql).bind(json).bind(UnixMillis::now()).execute(pool).await?; });
        Ok(())
    }

    /// Changes recorded at or after `since`, with their ids; undecodable
    /// rows (from a newer version) are skipped.
    pub async fn recorded_access_changes(&self, since: UnixMillis) -> Result<Vec<(i64, AccessChange)>> {
        let sql = "SELECT id, change FROM access_changes WHERE created_at >= $1 ORDER BY id";
        let rows: Vec<(i64, String)> = on_pool!(self, pool => sqlx::query_as(sql).bind(since).fetch_all(pool).await?);
        Ok(rows.into_iter().filter_map(|(id, json)| Some((id, serde_json::from_str(&json).ok()?))).collect())
    }

    pub async fn forget_access_changes(&self, before: UnixMillis) -> Result<()> {
        let sql = "DELETE FROM access_changes WHERE created_at < $1";
        on_pool!(self, pool => { sqlx::query(sql).bind(before).execute(pool).await?; });
        Ok(())
    }
}
