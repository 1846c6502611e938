//! The session layer (tower-sessions) around every request. Records live
//! where `tchatche_core::sessions::Sessions` keeps them: the database in
//! embedded mode, Redis (under `REDIS_PREFIX`) in scaled mode, so any server
//! process can serve any request.

use tchatche_core::{config::Config, sessions::Sessions};
use tower_sessions::{SessionManagerLayer, cookie::SameSite};

/// An `HttpOnly`, `SameSite=Lax` cookie, `Secure` and `__Host-` prefixed
/// when the public URL is https. Expiry is chosen per session at sign-in
/// ("keep me signed in").
pub fn layer(sessions: Sessions, config: &Config) -> SessionManagerLayer<Sessions> {
    let name = if config.is_https() { "__Host-tchatche" } else { "tchatche" };
    SessionManagerLayer::new(sessions)
        .with_name(name)
        .with_secure(config.is_https())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
}
