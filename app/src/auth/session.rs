//! Sessions in a request: who is signed in, starting and ending sessions,
//! and the client's address. What a session holds and the rules that keep
//! it valid live in `tchatche_core::sessions`, shared with the socket.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use tchatche_core::{
    Store,
    access::AccessChange,
    ids::{UnixMillis, UserId},
    sessions::{IDLE_PERSISTENT_MS, SIGNED_IN, SignedIn},
    store::User,
};
use tower_sessions::{Expiry, Session};

use crate::{error::AppError, state::app_state};

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

fn store_failed(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(%err, "session store failed");
    AppError::Unavailable
}

/// The signed-in account, if the session is still valid; an invalid session
/// is ended on the spot.
pub async fn current_user() -> Result<Option<User>, AppError> {
    Ok(user_of(&session().await?, &app_state().store).await?)
}

/// The account a session holds, by the rules of `SignedIn::holds`, for any
/// holder of a `Session` (pages, server functions, the socket).
pub async fn user_of(session: &Session, store: &Store) -> tchatche_core::Result<Option<User>> {
    let signed_in = match session.get::<SignedIn>(SIGNED_IN).await {
        Ok(signed_in) => signed_in,
        // Written by an older version: as good as signed out.
        Err(tower_sessions::session::Error::SerdeJson(_)) => None,
        // Unreadable now: an outage, not a reason to sign anyone out.
        Err(err) => return Err(tchatche_core::Error::Sessions(err.to_string())),
    };
    let Some(mut signed_in) = signed_in else { return Ok(None) };
    match signed_in.account(store).await? {
        Some(user) => {
            let now = UnixMillis::now();
            if signed_in.needs_touch(now) {
                signed_in.seen = now;
                let _ = session.insert(SIGNED_IN, signed_in).await;
            }
            Ok(Some(user))
        }
        None => {
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
    session.cycle_id().await.map_err(store_failed)?;
    session.insert(SIGNED_IN, SignedIn::new(user, persistent)).await.map_err(store_failed)?;
    session.set_expiry(Some(if persistent {
        Expiry::OnInactivity(time::Duration::milliseconds(IDLE_PERSISTENT_MS))
    } else {
        Expiry::OnSessionEnd
    }));
    Ok(())
}

/// Ends every other session of the account, whose key just changed
/// (a new password), and keeps this one under the new key.
pub async fn keep_only_this_one(user: UserId, key: String) -> Result<(), AppError> {
    let session = session().await?;
    if let Some(mut signed_in) = session.get::<SignedIn>(SIGNED_IN).await.map_err(store_failed)? {
        signed_in.key = key;
        session.insert(SIGNED_IN, signed_in).await.map_err(store_failed)?;
    }
    // Stored now, not after the response: the sockets about to check their
    // sessions must find this one under the new key, and stay open.
    session.save().await.map_err(store_failed)?;
    let state = app_state();
    state.sessions.end_all(user, session.id().as_ref()).await?;
    state.bus.announce(AccessChange::Account(user)).await?;
    Ok(())
}

/// Ends this session (deleted from the store, cookie removed) and closes
/// its sockets.
pub async fn end() -> Result<(), AppError> {
    let session = session().await?;
    let user = session.get::<SignedIn>(SIGNED_IN).await.ok().flatten().map(|signed_in| signed_in.user);
    session.flush().await.map_err(store_failed)?;
    if let Some(user) = user {
        app_state().bus.announce(AccessChange::Account(user)).await?;
    }
    Ok(())
}

/// Ends every session of an account, this one included, in every store,
/// and closes its sockets in every server process (the account is deleted).
pub async fn end_all(user: UserId) -> Result<(), AppError> {
    session().await?.flush().await.map_err(store_failed)?;
    let state = app_state();
    state.sessions.end_all(user, None).await?;
    state.bus.announce(AccessChange::Account(user)).await?;
    Ok(())
}

/// The client's address, for rate limits: the socket peer, or what the
/// trusted proxies in front of it saw (`TRUST_PROXY`).
pub fn client_address() -> Option<IpAddr> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    Some(client_address_from(&app_state().config, peer, &parts.headers))
}

/// [`client_address`], for plain routes.
pub fn client_address_from(config: &tchatche_core::config::Config, peer: IpAddr, headers: &http::HeaderMap) -> IpAddr {
    let forwarded_for = headers.get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok());
    config.trust_proxy.client_address(peer, forwarded_for)
}
