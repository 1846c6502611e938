//! Probes for orchestrators:
//! - `GET /healthz`, liveness: the process serves requests. It never looks
//!   at dependencies, so a database or Redis outage does not get every
//!   server process restarted at once (which would fix nothing).
//! - `GET /readyz`, readiness: the database and Redis (when configured)
//!   answer now. 503 takes this process out of a load balancer's rotation
//!   until they answer again.

use std::time::Duration;

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

use crate::AppState;

/// Longest a dependency may take to answer a readiness check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (database, redis) = tokio::join!(check("database", state.store.ping()), async {
        if state.config.redis_url.is_some() { check("redis", state.bus.ping()).await } else { "not configured" }
    });
    let ready = database == "ok" && matches!(redis, "ok" | "not configured");
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let summary = if ready { "ok" } else { "unavailable" };
    (status, Json(json!({ "status": summary, "database": database, "redis": redis })))
}

async fn check(name: &str, answer: impl Future<Output = tchatche_core::Result<()>>) -> &'static str {
    match tokio::time::timeout(CHECK_TIMEOUT, answer).await {
        Ok(Ok(())) => "ok",
        Ok(Err(err)) => {
            tracing::warn!(%err, dependency = name, "readiness check: unavailable");
            "error"
        }
        Err(_) => {
            tracing::warn!(dependency = name, "readiness check: no answer in time");
            "timeout"
        }
    }
}
