//! Requests that change state must come from our own pages, and every
//! response carries the usual protective headers.

use axum::{
    extract::{Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use crate::AppState;

/// Refuses a state-changing request (anything but GET, HEAD, OPTIONS) whose
/// `Origin` is not the configured public URL, or that the browser marks as
/// cross-site. Browsers send `Origin` with every such request, so a forged
/// form on another site is stopped here, whatever cookie it carries.
pub async fn same_origin_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let allowed = match origin {
        Some(origin) => origin == state.config.public_origin(),
        // No Origin: not a browser, or an old one; trust Fetch Metadata if sent.
        None => !matches!(fetch_site, Some("cross-site" | "same-site")),
    };
    if allowed {
        next.run(request).await
    } else {
        tracing::warn!(?origin, ?fetch_site, path = %request.uri().path(), "cross-origin write refused");
        (StatusCode::FORBIDDEN, "cross-origin request refused").into_response()
    }
}

/// Headers on every response: no MIME sniffing, no referrer beyond our
/// origin, never framed, and (when served over https) HTTPS only for a
/// year. Pages bring their own script policy (see `markup`); anything else
/// (JSON, images, errors) may run nothing at all.
pub async fn protective_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let not_modified = response.status() == StatusCode::NOT_MODIFIED;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    set(HeaderName::from_static("x-frame-options"), "DENY");
    // A 304 leaves the stored answer's policy in place (see `caching`).
    if !not_modified {
        set(header::CONTENT_SECURITY_POLICY, "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    }
    if state.config.public_url.scheme() == "https" {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    response
}
