//! What search engines read besides pages: `robots.txt`, the sitemaps, and
//! the `X-Robots-Tag: noindex` every response carries unless its page was
//! opened to indexing (`app::seo`).
//!
//! The sitemap lists the public rooms whose owner made them indexable and
//! each of their archive days and threads worth indexing: a sitemap index
//! at `/sitemap.xml` pointing at `/sitemaps/{n}.xml`, each of at most 50,000
//! addresses (the protocol's limit). They are generated from the database and kept for a few minutes,
//! so crawlers hammering them cost one query per interval.

use std::{
    fmt::Write,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{Path, Request, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use tchatche_core::{Store, store::IndexablePage};
use tokio::sync::Mutex;

/// The sitemap protocol's limit of addresses per file.
pub const MAX_URLS_PER_SITEMAP: usize = 50_000;
/// How long generated sitemaps are served before being generated again.
const REGENERATE_AFTER: Duration = Duration::from_secs(600);
const CACHE_CONTROL: &str = "public, max-age=600";
const X_ROBOTS_TAG: HeaderName = HeaderName::from_static("x-robots-tag");

/// The `robots.txt`, sitemap index and sitemap routes.
pub fn routes<S>(store: Store, site_url: &str) -> Router<S> {
    let sitemaps = Arc::new(Sitemaps { store, site_url: site_url.trim_end_matches('/').to_owned(), cached: Mutex::default() });
    Router::new()
        .route("/robots.txt", get(robots_txt))
        .route("/sitemap.xml", get(sitemap_index))
        .route("/sitemaps/{file}", get(sitemap))
        .with_state(sitemaps)
}

/// Middleware: `X-Robots-Tag: noindex` on every response that did not opt
/// in (an indexable page sets `X-Robots-Tag: all`).
pub async fn noindex_by_default(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().entry(X_ROBOTS_TAG).or_insert(HeaderValue::from_static("noindex"));
    response
}

struct Sitemaps {
    store: Store,
    site_url: String,
    /// When the files were generated, and the files: the index, then each sitemap.
    cached: Mutex<Option<(Instant, Arc<Vec<String>>)>>,
}

impl Sitemaps {
    /// The index and the sitemaps, generated again when stale. Requests
    /// arriving meanwhile wait for the one generation instead of repeating it.
    async fn files(&self) -> Result<Arc<Vec<String>>, tchatche_core::Error> {
        let mut cached = self.cached.lock().await;
        if let Some((at, files)) = cached.as_ref()
            && at.elapsed() < REGENERATE_AFTER
        {
            return Ok(files.clone());
        }
        let pages = self.store.indexable_pages().await?;
        let files = Arc::new(render(&self.site_url, &pages));
        *cached = Some((Instant::now(), files.clone()));
        Ok(files)
    }
}

/// The sitemap index followed by its sitemaps.
fn render(site: &str, pages: &[IndexablePage]) -> Vec<String> {
    let chunks: Vec<&[IndexablePage]> = pages.chunks(MAX_URLS_PER_SITEMAP).collect();
    let mut index = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut files = Vec::with_capacity(chunks.len() + 1);
    for (n, chunk) in chunks.iter().enumerate() {
        let newest = chunk.iter().map(|page| page.last_activity_at).max().unwrap_or(tchatche_core::ids::UnixMillis(0));
        let _ = writeln!(
            index,
            "<sitemap><loc>{}/sitemaps/{}.xml</loc><lastmod>{}</lastmod></sitemap>",
            xml_escape(site),
            n + 1,
            newest.to_rfc3339()
        );
        let mut sitemap = String::with_capacity(chunk.len() * 120);
        sitemap.push_str(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
        );
        for page in *chunk {
            let path = match (page.day, page.thread) {
                (Some(day), _) => format!("/r/{}/{day}", page.slug),
                (None, Some(thread)) => format!("/r/{}/t/{thread}", page.slug),
                (None, None) => format!("/r/{}", page.slug),
            };
            let _ = writeln!(
                sitemap,
                "<url><loc>{}{}</loc><lastmod>{}</lastmod></url>",
                xml_escape(site),
                xml_escape(&path),
                page.last_activity_at.to_rfc3339()
            );
        }
        sitemap.push_str("</urlset>\n");
        files.push(sitemap);
    }
    index.push_str("</sitemapindex>\n");
    files.insert(0, index);
    files
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

async fn sitemap_index(State(sitemaps): State<Arc<Sitemaps>>) -> Response {
    match sitemaps.files().await {
        Ok(files) => xml(files[0].clone()),
        Err(err) => unavailable(err),
    }
}

/// `/sitemaps/{n}.xml`, n from 1.
async fn sitemap(State(sitemaps): State<Arc<Sitemaps>>, Path(file): Path<String>) -> Response {
    let number = file.strip_suffix(".xml").and_then(|n| n.parse::<usize>().ok()).filter(|n| *n >= 1);
    let Some(number) = number else { return StatusCode::NOT_FOUND.into_response() };
    match sitemaps.files().await {
        Ok(files) => match files.get(number) {
            Some(sitemap) => xml(sitemap.clone()),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        Err(err) => unavailable(err),
    }
}

fn xml(body: String) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8")),
        (header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL)),
    ];
    (headers, body).into_response()
}

fn unavailable(err: tchatche_core::Error) -> Response {
    tracing::error!(%err, "the sitemap could not be generated");
    (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "60")], "sitemap unavailable, try again later").into_response()
}

/// Crawlers may read everything public; the rest is behind sign-in anyway,
/// and pages that are not meant for search results say `noindex` themselves.
async fn robots_txt(State(sitemaps): State<Arc<Sitemaps>>) -> Response {
    let body = format!(
        "User-agent: *\n\
         Disallow: /api/\n\
         Disallow: /ws\n\
         Disallow: /settings\n\
         Disallow: /rooms/new\n\
         Disallow: /invite/\n\
         Disallow: /r/*/settings\n\
         Disallow: /search\n\
         Disallow: /messages\n\
         \n\
         Sitemap: {}/sitemap.xml\n",
        sitemaps.site_url
    );
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8")),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
    ];
    (headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use tchatche_core::ids::{UnixMillis, UtcDay};

    use super::*;

    fn page(slug: &str, day: Option<i64>, at: i64) -> IndexablePage {
        IndexablePage { slug: slug.into(), day: day.map(UtcDay), thread: None, last_activity_at: UnixMillis(at) }
    }

    #[test]
    fn splits_at_fifty_thousand_addresses() {
        let pages: Vec<IndexablePage> = (0..MAX_URLS_PER_SITEMAP as i64 + 1).map(|d| page("big", Some(d), d * 86_400_000)).collect();
        let files = render("https://chat.example", &pages);
        assert_eq!(files.len(), 3, "an index and two sitemaps");
        assert_eq!(files[0].matches("<sitemap>").count(), 2);
        assert!(files[0].contains("<loc>https://chat.example/sitemaps/2.xml</loc>"));
        assert_eq!(files[1].matches("<url>").count(), MAX_URLS_PER_SITEMAP);
        assert_eq!(files[2].matches("<url>").count(), 1);
        assert!(files[2].contains(&format!("/r/big/{}", UtcDay(MAX_URLS_PER_SITEMAP as i64))));
    }

    #[test]
    fn escapes_addresses() {
        let files = render("https://chat.example/a&b", &[page("r", None, 0)]);
        assert!(files[1].contains("<loc>https://chat.example/a&amp;b/r/r</loc><lastmod>1970-01-01T00:00:00.000Z</lastmod>"));
        assert!(!files[1].contains("a&b"));
    }
}
