//! Standard HTML out of Leptos' server rendering, for validators and
//! crawlers; browsers build the very same DOM either way, so hydration is
//! unchanged.
//! - Leptos marks where text nodes and empty branches begin with `<!>`, a
//!   "bogus comment" to validators: written `<!---->`, the same empty comment.
//! - It appends the scripts carrying resolved data after `</html>`, where a
//!   browser's parser moves them to the end of `<body>`: they are written there.
//! - It writes the script nonce where `crossorigin` expects a keyword.
//!
//! Pages also get their Content-Security-Policy here, where the nonce of
//! their scripts is known.

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Pages are tens of kilobytes; anything near this is a bug. (Every layer
/// that reads a whole page body reads at most this much.)
pub(crate) const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;

/// The script nonce Leptos drew for this response, if the page has one.
pub(crate) fn leptos_nonce(html: &str) -> Option<&str> {
    let (_, rest) = html.split_once("nonce=\"")?;
    rest.split_once('"').map(|(nonce, _)| nonce).filter(|nonce| !nonce.is_empty())
}

/// The policy of a page whose inline scripts carry `nonce`: scripts only
/// from this site or with the nonce (never inline otherwise), WebAssembly
/// compiled from them, nothing framing the page.
pub(crate) fn content_security_policy(nonce: &str) -> HeaderValue {
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).expect("a nonce is base64 or hex")
}

/// Middleware for page routes.
pub async fn standard_comments(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(html) = std::str::from_utf8(&bytes) else { return Response::from_parts(parts, Body::from(bytes)) };
    let rewritten = standard_crossorigin(&scripts_inside_body(&rewrite_placeholders(html)));
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Some(nonce) = leptos_nonce(&rewritten) {
        parts.headers.insert(header::CONTENT_SECURITY_POLICY, content_security_policy(nonce));
    }
    Response::from_parts(parts, Body::from(rewritten))
}

/// Replaces `<!>` where markup is read (between elements), never inside an
/// attribute value, a `<script>`, a `<style>` or a comment, where the same
/// characters would be text.
fn rewrite_placeholders(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 32);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("<!>") {
            out.push_str("<!---->");
            rest = after;
            continue;
        }
        // Copy the whole construct starting here, whatever it contains.
        let end = if rest.starts_with("<!--") {
            rest.find("-->").map_or(rest.len(), |i| i + 3)
        } else {
            let tag_end = tag_end(rest);
            let name: String = rest[1..tag_end].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            match name.to_ascii_lowercase().as_str() {
                raw @ ("script" | "style") => {
                    let close = format!("</{raw}");
                    rest[tag_end..]
                        .to_ascii_lowercase()
                        .find(&close)
                        .map_or(rest.len(), |i| tag_end + i)
                }
                _ => tag_end,
            }
        };
        out.push_str(&rest[..end]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Moves whatever follows `</html>` to just before `</body>` (resource
/// data is JSON with `<` escaped, so it never contains `</html>` itself).
fn scripts_inside_body(html: &str) -> String {
    const HTML_END: &str = "</html>";
    let Some(html_end) = html.rfind(HTML_END).map(|at| at + HTML_END.len()) else { return html.to_owned() };
    let trailing = &html[html_end..];
    let body_end = html[..html_end].rfind("</body>");
    match body_end {
        Some(body_end) if !trailing.trim().is_empty() => {
            format!("{}{trailing}{}", &html[..body_end], &html[body_end..html_end])
        }
        _ => html.to_owned(),
    }
}

/// Leptos writes the script nonce into the `crossorigin` attribute of the
/// preload links; a browser reads an unknown value as `anonymous`, which is
/// written instead.
fn standard_crossorigin(html: &str) -> String {
    let Some(nonce) = leptos_nonce(html) else {
        return html.to_owned();
    };
    html.replace(&format!("crossorigin=\"{nonce}\""), "crossorigin=\"anonymous\"")
}

/// Where the tag starting `text` ends (just past its `>`), skipping quoted
/// attribute values.
fn tag_end(text: &str) -> usize {
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return i + 1,
            (None, _) => {}
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_markers_between_elements_only() {
        assert_eq!(rewrite_placeholders("<p>a<!>b</p><!>"), "<p>a<!---->b</p><!---->");
        let untouched = [
            r#"<meta content="x <!> y"><p title='<!>'>t</p>"#,
            r#"<script>let s = "<!>";</script>"#,
            "<style>a::before { content: '<!>' }</style>",
            "<!-- <!> -->",
            "text &lt;!&gt; escaped",
        ];
        for html in untouched {
            assert_eq!(rewrite_placeholders(html), html);
        }
        assert_eq!(rewrite_placeholders(r#"<script>"<!>"</script><!>"#), r#"<script>"<!>"</script><!---->"#);
        assert_eq!(rewrite_placeholders("<p>unterminated <!"), "<p>unterminated <!");
    }

    #[test]
    fn trailing_scripts_move_into_the_body() {
        assert_eq!(
            scripts_inside_body("<html><body><p>x</p></body></html><script>a</script><script>b</script>"),
            "<html><body><p>x</p><script>a</script><script>b</script></body></html>"
        );
        assert_eq!(scripts_inside_body("<html><body></body></html>"), "<html><body></body></html>");
        assert_eq!(
            scripts_inside_body("<html><body><p>x</p></body><!----></html><!----><script>a</script>"),
            "<html><body><p>x</p><!----><script>a</script></body><!----></html>"
        );
    }

    #[test]
    fn nonces_leave_crossorigin() {
        let html = r#"<link rel="modulepreload" crossorigin="n0nce"><script nonce="n0nce">x</script>"#;
        assert_eq!(standard_crossorigin(html), r#"<link rel="modulepreload" crossorigin="anonymous"><script nonce="n0nce">x</script>"#);
    }
}
