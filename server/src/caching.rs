//! Conditional requests for pages that say how long they may be cached
//! (the archive's days): a weak `ETag` computed from the rendered body,
//! and `304 Not Modified` when the browser or proxy already has it.

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tchatche_core::store::fnv1a;

use crate::markup::{MAX_PAGE_BYTES, leptos_nonce};

/// Middleware for page routes. Weak, because the compression layer above
/// serves the same entity in several encodings.
pub async fn etag_cacheable_pages(request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || !cacheable(response.headers()) || response.headers().contains_key(header::ETAG) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let etag = format!("W/\"{:016x}\"", fingerprint(&bytes));
    let matches = if_none_match.as_ref().and_then(|v| v.to_str().ok()).is_some_and(|v| matches_etag(v, &etag));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, value);
    }
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The body's fingerprint, leaving out the script nonce Leptos draws for
/// every response (the rest of an unchanged page is the same bytes).
fn fingerprint(body: &[u8]) -> u64 {
    let Ok(html) = std::str::from_utf8(body) else { return fnv1a(body) };
    match leptos_nonce(html) {
        Some(nonce) => fnv1a(html.replace(nonce, "").as_bytes()),
        None => fnv1a(body),
    }
}

fn cacheable(headers: &HeaderMap) -> bool {
    headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|policy| !policy.contains("no-store"))
}

/// `If-None-Match` compares weakly: `*`, or any listed tag equal to ours
/// once the `W/` prefixes are set aside.
fn matches_etag(if_none_match: &str, etag: &str) -> bool {
    let ours = etag.trim_start_matches("W/");
    if_none_match.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_the_nonce_only() {
        let page = |nonce: &str, text: &str| format!(r#"<script nonce="{nonce}">x</script><p>{text}</p><script nonce="{nonce}">y</script>"#);
        assert_eq!(fingerprint(page("abc", "hi").as_bytes()), fingerprint(page("xyz", "hi").as_bytes()));
        assert_ne!(fingerprint(page("abc", "hi").as_bytes()), fingerprint(page("abc", "ho").as_bytes()));
    }

    #[test]
    fn compares_tags_weakly() {
        assert!(matches_etag("W/\"ab\"", "W/\"ab\""));
        assert!(matches_etag("\"x\", \"ab\"", "W/\"ab\""));
        assert!(matches_etag("*", "W/\"ab\""));
        assert!(!matches_etag("W/\"abc\"", "W/\"ab\""));
        assert!(!matches_etag("", "W/\"ab\""));
    }
}
