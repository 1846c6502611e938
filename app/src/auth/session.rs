//! Sessions (tower-sessions): what is stored in one, and the rules that end
//! one. Idle timeout: 14 days with "keep me signed in", else 12 hours (and
//! the cookie ends with the browser). Absolute lifetime: 60 days. A session
//! also ends when its account is disabled, deleted or changes its password
//! (the account's session epoch moves on).

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use tchatche_core::{Store, ids::UnixMillis, store::User};
use tower_sessions::{Expiry, Session};

use crate::{error::AppError, state::app_state};

const USER: &str = "user";
const EPOCH: &str = "epoch";
const SIGNED_IN_AT: &str = "since";
const LAST_SEEN: &str = "seen";
const PERSISTENT: &str = "keep";

const HOUR_MS: i64 = 3_600_000;
pub const IDLE_PERSISTENT_MS: i64 = 14 * 24 * HOUR_MS;
pub const IDLE_BROWSER_MS: i64 = 12 * HOUR_MS;
pub const ABSOLUTE_MS: i64 = 60 * 24 * HOUR_MS;
/// Seen-times are written at most this often (each write is a store write).
const TOUCH_EVERY_MS: i64 = HOUR_MS;

/// The device cookie: set when someone signs in on a browser, it spares that
/// browser the per-account sign-in limit an attacker elsewhere may exhaust.
pub fn device_cookie_name() -> &'static str {
    if app_state().config.is_https() { "__Host-tchatche-device" } else { "tchatche-device" }
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|err| {
        tracing::error!(%err, "no session layer around this request");
        AppError::Internal
    })
}

/// The signed-in account, if the session is still valid; an invalid session
/// is ended on the spot.
pub async fn current_user() -> Result<Option<User>, AppError> {
    Ok(user_of(&session().await?, &app_state().store).await?)
}

/// The rules of a valid session, for any holder of a `Session` (pages,
/// server functions, the socket).
pub async fn user_of(session: &Session, store: &Store) -> tchatche_core::Result<Option<User>> {
    let get = |key: &'static str| {
        let session = session.clone();
        async move { session.get::<i64>(key).await.ok().flatten() }
    };
    let Some(user_id) = get(USER).await else { return Ok(None) };
    let (epoch, since, seen) = (get(EPOCH).await, get(SIGNED_IN_AT).await, get(LAST_SEEN).await);
    let persistent = session.get::<bool>(PERSISTENT).await.ok().flatten().unwrap_or(false);
    let now = UnixMillis::now().0;
    let idle = if persistent { IDLE_PERSISTENT_MS } else { IDLE_BROWSER_MS };
    let fresh = since.is_some_and(|since| now - since <= ABSOLUTE_MS) && seen.is_some_and(|seen| now - seen <= idle);

    match store.user_by_id(tchatche_core::ids::UserId(user_id)).await? {
        Some(user) if fresh && !user.disabled && Some(user.session_epoch) == epoch => {
            if seen.is_some_and(|seen| now - seen > TOUCH_EVERY_MS) {
                let _ = session.insert(LAST_SEEN, now).await;
            }
            Ok(Some(user))
        }
        _ => {
            let _ = session.flush().await;
            Ok(None)
        }
    }
}

/// The signed-in account, or 401.
pub async fn require_user() -> Result<User, AppError> {
    current_user().await?.ok_or(AppError::Unauthorized)
}

/// Starts a session for `user` under a new id (no session fixation).
pub async fn start(user: &User, persistent: bool) -> Result<(), AppError> {
    let session = session().await?;
    let now = UnixMillis::now().0;
    let internal = |err: tower_sessions::session::Error| {
        tracing::error!(%err, "session store failed");
        AppError::Internal
    };
    session.cycle_id().await.map_err(internal)?;
    session.insert(USER, user.id.0).await.map_err(internal)?;
    session.insert(EPOCH, user.session_epoch).await.map_err(internal)?;
    session.insert(SIGNED_IN_AT, now).await.map_err(internal)?;
    session.insert(LAST_SEEN, now).await.map_err(internal)?;
    session.insert(PERSISTENT, persistent).await.map_err(internal)?;
    session.set_expiry(Some(if persistent {
        Expiry::OnInactivity(time::Duration::milliseconds(IDLE_PERSISTENT_MS))
    } else {
        Expiry::OnSessionEnd
    }));
    Ok(())
}

/// Keeps this session valid after the account's epoch moved on (a password
/// change ends every other session, not this one).
pub async fn restamp(epoch: i64) -> Result<(), AppError> {
    session().await?.insert(EPOCH, epoch).await.map_err(|_| AppError::Internal)
}

/// Ends the session: deleted from the store, cookie removed.
pub async fn end() -> Result<(), AppError> {
    session().await?.flush().await.map_err(|_| AppError::Internal)
}

/// The client's address, for rate limits: the socket peer, or the first
/// `X-Forwarded-For` hop when the configuration trusts a proxy.
pub fn client_address() -> Option<IpAddr> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    if app_state().config.trust_proxy {
        let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        if let Some(ip) = forwarded.and_then(|v| v.split(',').next()).and_then(|v| v.trim().parse().ok()) {
            return Some(ip);
        }
    }
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())
}
