//! Requests that change state must come from our own pages, and every
//! response carries the usual protective headers.

use axum::{
    extract::{Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::set_header::SetResponseHeaderLayer;

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

/// Headers on every response.
pub fn headers() -> tower::layer::util::Stack<
    SetResponseHeaderLayer<HeaderValue>,
    tower::layer::util::Stack<SetResponseHeaderLayer<HeaderValue>, SetResponseHeaderLayer<HeaderValue>>,
> {
    let nosniff = SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let referrer = SetResponseHeaderLayer::if_not_present(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    let frames = SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    tower::layer::util::Stack::new(nosniff, tower::layer::util::Stack::new(referrer, frames))
}
