//! A one-second cache of the pages every visitor without an account sees
//! alike: public rooms and their archive days, which the app marks
//! `Cache-Control: public`. A public room linked from somewhere busy is read
//! far more often than it changes; its readers then share one render a
//! second instead of each costing one.
//!
//! - Only `public` answers are kept, and the request's cookies and
//!   languages are part of the key: signed-in people (whose pages are
//!   `private`) never share a page, and nobody gets another's language.
//! - Every successful write through this process (any request but GET,
//!   HEAD or OPTIONS: read server functions are GETs) but those changing
//!   only the writer's browser forgets every page, so its effect shows at once; a write through another process shows within
//!   [`FRESH_FOR`], as do the worker's and the admin commands'.
//! - Readers asking for the same page while it renders wait for that render.
//! - Each answer gets its own script nonce.
//! - A request saying `Cache-Control: no-cache` (a hard reload) is rendered
//!   afresh, and its render is kept for the others.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::OnceCell;

use crate::{
    caching::cache_directive,
    markup::{MAX_PAGE_BYTES, content_security_policy, leptos_nonce},
};

/// How long a page is shared: short enough that nobody notices, long
/// enough that a crowd reading one room costs one render a second.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// Bounds memory: at most this many pages of at most [`MAX_SHARED_BYTES`].
const MAX_PAGES: usize = 64;
const MAX_SHARED_BYTES: usize = 1024 * 1024;

/// The pages being shared, and how many times writes have made them stale.
#[derive(Clone, Default)]
pub struct SharedPages {
    pages: Arc<Mutex<HashMap<PageKey, Arc<Slot>>>>,
    writes: Arc<AtomicU64>,
}

/// What a page's render may depend on besides the database.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    uri: Uri,
    cookies: Vec<HeaderValue>,
    /// The language the page is rendered in (not the raw header: a
    /// thousand spellings of `Accept-Language` mean seventeen pages).
    language: app::i18n::Locale,
}

/// One page: rendered once, by the first reader to ask for it.
struct Slot {
    rendered_at: Instant,
    /// The writes seen when its render started: a later write makes it stale.
    writes: u64,
    page: OnceCell<Option<SharedPage>>,
}

#[derive(Clone)]
struct SharedPage {
    headers: HeaderMap,
    body: Bytes,
}

impl SharedPages {
    /// Every page is stale from now on.
    fn forget_all(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.pages.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// The slot serving `key`: the current one, or a new one (replacing a
    /// stale one). A cache full of fresh pages forgets its oldest: readers
    /// following a busy room ask for a new address at each change, and the
    /// newest pages are the ones being asked for.
    fn slot(&self, key: &PageKey, afresh: bool) -> Arc<Slot> {
        let writes = self.writes.load(Ordering::SeqCst);
        let now = Instant::now();
        let is_fresh = |slot: &Slot| slot.writes == writes && now.duration_since(slot.rendered_at) < FRESH_FOR;
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = pages.get(key).filter(|slot| !afresh && is_fresh(slot)) {
            return slot.clone();
        }
        if pages.len() >= MAX_PAGES && !pages.contains_key(key) {
            pages.retain(|_, slot| is_fresh(slot));
            if pages.len() >= MAX_PAGES
                && let Some(oldest) = pages.iter().min_by_key(|(_, slot)| slot.rendered_at).map(|(key, _)| key.clone())
            {
                pages.remove(&oldest);
            }
        }
        let slot = Arc::new(Slot { rendered_at: now, writes, page: OnceCell::new() });
        pages.insert(key.clone(), slot.clone());
        slot
    }

    fn remove(&self, key: &PageKey, slot: &Arc<Slot>) {
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if pages.get(key).is_some_and(|current| Arc::ptr_eq(current, slot)) {
            pages.remove(key);
        }
    }
}

/// Middleware for page routes (inside the ETag layer, which then answers
/// `If-None-Match` for shared pages too).
pub async fn share_public_pages(State(shared): State<SharedPages>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET || request.headers().contains_key(header::UPGRADE) {
        return next.run(request).await;
    }
    let key = PageKey::of(&request);
    let slot = shared.slot(&key, asks_afresh(request.headers()));

    // A GET has no body: its head is all it takes to render it again.
    let (head, _) = request.into_parts();
    let mut own_render = None;
    let page = slot
        .page
        .get_or_init(|| async {
            let response = next.clone().run(Request::from_parts(head.clone(), Body::empty())).await;
            match SharedPage::from_response(response).await {
                Ok(page) => Some(page),
                Err(response) => {
                    own_render = Some(response);
                    None
                }
            }
        })
        .await
        .clone();
    match (page, own_render) {
        (Some(page), _) => page.to_response(),
        (None, Some(response)) => {
            // Not shareable: nobody else should wait for this key.
            shared.remove(&key, &slot);
            response
        }
        // Another reader rendered a page that is not shareable: render ours.
        (None, None) => next.run(Request::from_parts(head, Body::empty())).await,
    }
}

/// Middleware for every route: a write that changed something forgets
/// every shared page once it is done.
pub async fn forget_after_writes(State(shared): State<SharedPages>, request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok());
    if changes_shared_pages(&method, &path, response.status(), location) {
        shared.forget_all();
    }
    response
}

/// Writes that change only the writer's own browser or session: anyone may
/// send them, as often as they like, so they must not empty the cache.
const PRIVATE_WRITES: &[&str] = &["/api/sign_in", "/api/sign_up", "/api/sign_out", "/api/set_locale", "/api/set_theme"];

/// Whether a request may have changed what visitors see: a write (any
/// method but GET, HEAD or OPTIONS) that succeeded, other than the private
/// ones. A refused write changed nothing, so nobody can keep the cache
/// empty by sending writes that fail. (A plain form post that failed is
/// sent back to its form with the error in the query, `__err=`.)
fn changes_shared_pages(method: &Method, path: &str, status: StatusCode, location: Option<&str>) -> bool {
    let is_write = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let refused = status.is_client_error() || status.is_server_error() || location.is_some_and(|l| l.contains("__err="));
    is_write && !refused && !PRIVATE_WRITES.contains(&path)
}

impl PageKey {
    fn of(request: &Request) -> Self {
        let headers = request.headers();
        Self {
            uri: request.uri().clone(),
            cookies: headers.get_all(header::COOKIE).iter().cloned().collect(),
            language: app::language::resolve(headers),
        }
    }
}

/// `Cache-Control: no-cache` (or `no-store`) from the browser.
fn asks_afresh(headers: &HeaderMap) -> bool {
    cache_directive(headers, "no-cache") || cache_directive(headers, "no-store")
}

impl SharedPage {
    /// The page, if everybody may be given it; else the response as it is
    /// (rebuilt, if its body had to be read to find out).
    async fn from_response(response: Response) -> Result<Self, Response> {
        let shareable = response.status() == StatusCode::OK
            && !response.headers().contains_key(header::SET_COOKIE)
            && cache_directive(response.headers(), "public");
        if !shareable {
            return Err(response);
        }
        let (mut parts, body) = response.into_parts();
        let Ok(body) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        if body.len() > MAX_SHARED_BYTES {
            return Err(Response::from_parts(parts, Body::from(body)));
        }
        parts.headers.remove(header::CONTENT_LENGTH);
        Ok(Self { headers: parts.headers, body })
    }

    fn to_response(&self) -> Response {
        let (body, nonce) = with_fresh_nonce(&self.body);
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = self.headers.clone();
        if let Some(nonce) = nonce {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, content_security_policy(&nonce));
        }
        response
    }
}

/// The page with a nonce of its own (returned): a nonce is only worth
/// anything if nobody else was given it.
fn with_fresh_nonce(body: &Bytes) -> (Bytes, Option<String>) {
    let Some((html, nonce)) = std::str::from_utf8(body).ok().and_then(|html| Some((html, leptos_nonce(html)?))) else {
        return (body.clone(), None);
    };
    let fresh = uuid::Uuid::new_v4().simple().to_string();
    (Bytes::from(html.replace(nonce, &fresh)), Some(fresh))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, headers: &[(header::HeaderName, &str)]) -> Request {
        let mut request = Request::builder().uri(uri);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        request.body(Body::empty()).unwrap()
    }

    #[test]
    fn pages_differ_by_address_cookies_and_languages() {
        let plain = PageKey::of(&request("/r/lobby", &[]));
        assert_eq!(plain, PageKey::of(&request("/r/lobby", &[(header::USER_AGENT, "curl")])));
        assert_ne!(plain, PageKey::of(&request("/r/lobby?before=9", &[])));
        assert_ne!(plain, PageKey::of(&request("/r/lobby", &[(header::COOKIE, "tchatche=abc")])));
        let french = PageKey::of(&request("/r/lobby", &[(header::ACCEPT_LANGUAGE, "fr")]));
        assert_ne!(plain, french);
        for same in ["fr-FR", "fr-CA,en;q=0.5", "sv-SE,fr;q=0.8,en;q=0.5"] {
            assert_eq!(french, PageKey::of(&request("/r/lobby", &[(header::ACCEPT_LANGUAGE, same)])), "{same}");
        }
        assert_ne!(french, PageKey::of(&request("/r/lobby", &[(header::ACCEPT_LANGUAGE, "ar")])));
        assert_eq!(plain, PageKey::of(&request("/r/lobby", &[(header::ACCEPT_LANGUAGE, "sv, xx")])), "unsupported: English");
    }

    /// Readers following a busy room ask for a new address at each change
    /// (`?live=`): a cache full of fresh pages makes room for the next one
    /// by forgetting its oldest, so that page is still shared.
    #[test]
    fn a_full_cache_still_shares_new_pages() {
        let shared = SharedPages::default();
        let key = |n: usize| PageKey::of(&request(&format!("/r/lobby?live={n}"), &[]));
        let first = shared.slot(&key(0), false);
        std::thread::sleep(std::time::Duration::from_millis(2)); // strictly the oldest
        for n in 1..MAX_PAGES {
            shared.slot(&key(n), false);
        }
        let newest = shared.slot(&key(MAX_PAGES), false);
        assert!(Arc::ptr_eq(&newest, &shared.slot(&key(MAX_PAGES), false)), "the new page is shared");
        assert!(Arc::ptr_eq(&shared.slot(&key(1), false), &shared.slot(&key(1), false)), "the others still are");
        assert_eq!(shared.pages.lock().unwrap().len(), MAX_PAGES, "memory stays bounded");
        assert!(!Arc::ptr_eq(&first, &shared.slot(&key(0), false)), "the oldest was forgotten");
    }

    #[test]
    fn hard_reloads_ask_afresh() {
        let asks = |value: &str| asks_afresh(request("/", &[(header::CACHE_CONTROL, value)]).headers());
        assert!(asks("no-cache") && asks("max-age=0, no-store"));
        assert!(!asks("max-age=0"));
        assert!(!asks_afresh(request("/", &[]).headers()));
    }

    #[tokio::test]
    async fn only_public_answers_are_shared() {
        let answer = |status: StatusCode, headers: &[(header::HeaderName, &str)]| {
            let mut response = Response::new(Body::from("<p>page</p>"));
            *response.status_mut() = status;
            for (name, value) in headers {
                response.headers_mut().append(name.clone(), HeaderValue::from_str(value).unwrap());
            }
            SharedPage::from_response(response)
        };
        let page = answer(StatusCode::OK, &[(header::CACHE_CONTROL, "public, no-cache")]).await.ok().unwrap();
        assert_eq!(page.body, Bytes::from_static(b"<p>page</p>"));
        for (status, headers) in [
            (StatusCode::OK, &[(header::CACHE_CONTROL, "private, no-cache")][..]),
            (StatusCode::OK, &[]),
            (StatusCode::OK, &[(header::CACHE_CONTROL, "public"), (header::SET_COOKIE, "a=b")]),
            (StatusCode::NOT_FOUND, &[(header::CACHE_CONTROL, "public")]),
        ] {
            let refused = answer(status, headers).await.err().expect("not shareable");
            assert_eq!(refused.status(), status, "the response comes back as it was");
        }
    }

    #[test]
    fn every_answer_has_its_own_nonce() {
        let page = Bytes::from_static(br#"<script nonce="n0nce">a</script><link crossorigin="anonymous"><script nonce="n0nce">b</script>"#);
        let ((first, first_nonce), (second, _)) = (with_fresh_nonce(&page), with_fresh_nonce(&page));
        let nonce = |body: &Bytes| leptos_nonce(std::str::from_utf8(body).unwrap()).unwrap().to_owned();
        assert_ne!(nonce(&first), "n0nce");
        assert_ne!(nonce(&first), nonce(&second));
        assert_eq!(std::str::from_utf8(&first).unwrap().matches(&nonce(&first)).count(), 2);
        assert_eq!(first_nonce, Some(nonce(&first)), "the policy names the page's new nonce");
        assert_eq!(with_fresh_nonce(&Bytes::from_static(b"{}")), (Bytes::from_static(b"{}"), None));
    }

    #[test]
    fn writes_make_every_page_stale() {
        let shared = SharedPages::default();
        let key = PageKey::of(&request("/r/lobby", &[]));
        let first = shared.slot(&key, false);
        assert!(Arc::ptr_eq(&first, &shared.slot(&key, false)));
        assert!(!Arc::ptr_eq(&first, &shared.slot(&key, true)), "a hard reload renders afresh");
        let current = shared.slot(&key, false);
        shared.forget_all();
        assert!(!Arc::ptr_eq(&current, &shared.slot(&key, false)));
    }

    #[test]
    fn only_successful_writes_that_others_see_make_pages_stale() {
        assert!(changes_shared_pages(&Method::POST, "/api/post_message", StatusCode::OK, None));
        assert!(changes_shared_pages(&Method::POST, "/api/update_room", StatusCode::FOUND, Some("/r/lobby")), "a form's redirect");
        assert!(!changes_shared_pages(&Method::GET, "/api/room_page", StatusCode::OK, None));
        for refused in [StatusCode::BAD_REQUEST, StatusCode::FORBIDDEN, StatusCode::TOO_MANY_REQUESTS, StatusCode::SERVICE_UNAVAILABLE] {
            assert!(!changes_shared_pages(&Method::POST, "/api/post_message", refused, None), "{refused}");
        }
        let sent_back = Some("/r/lobby?__err=eyJ4Ijp9&__path=%2Fapi%2Fpost_message");
        assert!(!changes_shared_pages(&Method::POST, "/api/post_message", StatusCode::FOUND, sent_back), "a failed form post");
        for private in PRIVATE_WRITES {
            assert!(!changes_shared_pages(&Method::POST, private, StatusCode::OK, None), "{private}");
        }
    }
}
