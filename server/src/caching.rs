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
        // The browser keeps the body it has, whose scripts carry the nonce
        // of its first answer: it must keep that answer's policy too (a
        // 304's headers replace the stored ones).
        parts.headers.remove(header::CONTENT_SECURITY_POLICY);
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
    headers.contains_key(header::CACHE_CONTROL) && !cache_directive(headers, "no-store")
}

/// Whether `Cache-Control` (in any of its header lines) carries the directive
/// `name`, with or without an argument (`max-age=60`). Directive names are
/// case-insensitive.
pub(crate) fn cache_directive(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|directive| directive.split('=').next().unwrap_or_default().trim().eq_ignore_ascii_case(name))
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
    fn directives_are_read_whole_and_in_every_line() {
        let mut headers = HeaderMap::new();
        headers.append(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
        headers.append(header::CACHE_CONTROL, HeaderValue::from_static("No-Cache"));
        assert!(cache_directive(&headers, "public"));
        assert!(cache_directive(&headers, "max-age"));
        assert!(cache_directive(&headers, "no-cache"));
        assert!(!cache_directive(&headers, "no-store"));
        assert!(!cache_directive(&headers, "age"), "a directive is matched whole, not as a substring");
        assert!(cacheable(&headers));
        headers.append(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        assert!(!cacheable(&headers));
        assert!(!cacheable(&HeaderMap::new()), "no policy, no validator");
    }

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
