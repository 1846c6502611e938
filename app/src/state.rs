//! What the server hands to every page render and server function (as the
//! router state, which leptos_axum provides as context).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::*;
use tchatche_core::{Bus, Store, config::Config, limits::Limiter, sessions::Sessions};

#[derive(Clone)]
pub struct AppState {
    /// Where the compiled site lives and how it is named (cargo-leptos).
    pub leptos_options: LeptosOptions,
    /// The parsed environment: public URL, modes, limits.
    pub config: Arc<Config>,
    /// Accounts, rooms, messages.
    pub store: Store,
    /// Room fan-out and the durable message queue.
    pub bus: Bus,
    /// Rate limits (sign-in, sign-up, posting), shared through Redis when
    /// there is one.
    pub limiter: Limiter,
    /// Where session records are kept (the database, or Redis): the
    /// session layer reads them, and an account's sessions are ended here.
    pub sessions: Sessions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state, inside a server function or a server render.
pub fn app_state() -> AppState {
    expect_context::<AppState>()
}

/// Counts one more `scope` event for `key` (a person's id, an address):
/// `RateLimited`, with when to try again, once over the scope's quota.
pub async fn throttle(scope: tchatche_core::limits::Scope, key: &str) -> Result<(), crate::error::AppError> {
    match app_state().limiter.hit(scope, key).await? {
        Ok(()) => Ok(()),
        Err(wait) => Err(crate::error::with_status(crate::error::AppError::RateLimited { retry_after_secs: wait.secs() })),
    }
}
