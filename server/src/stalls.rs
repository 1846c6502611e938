//! A guard around page renders. Leptos 0.8 can, rarely (seen here in about
//! one test run in forty, under load), leave a server render waiting forever
//! on a `<Suspense>` whose data has in fact arrived: a race between threads
//! in its task tracking (leptos-rs/leptos#4851, #4866). The visitor would
//! wait for ever. A page read (GET or HEAD, which change nothing worth
//! repeating) that has not fully rendered in time is dropped and rendered
//! again.

use std::time::Duration;

use axum::{
    body::Body,
    extract::Request,
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::markup::MAX_PAGE_BYTES;

/// Far longer than any healthy render (tens of milliseconds), short enough
/// that a visitor is not left staring at a blank tab.
const STALLED_AFTER: Duration = Duration::from_secs(8);
const ATTEMPTS: u32 = 3;

/// Middleware for the Leptos page routes: renders the whole page (body
/// included) within [`STALLED_AFTER`], else starts again.
pub async fn retry_stalled_renders(request: Request, next: Next) -> Response {
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    if !is_read || request.headers().contains_key(header::UPGRADE) {
        return next.run(request).await;
    }
    // A read has no body: its head is all it takes to render it again.
    let (head, _) = request.into_parts();
    for attempt in 1..=ATTEMPTS {
        let render = async {
            let response = next.clone().run(Request::from_parts(head.clone(), Body::empty())).await;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, MAX_PAGE_BYTES).await;
            bytes.map(|bytes| Response::from_parts(parts, Body::from(bytes)))
        };
        match tokio::time::timeout(STALLED_AFTER, render).await {
            Ok(Ok(response)) => return response,
            Ok(Err(error)) => {
                tracing::error!(uri = %head.uri, %error, "a page could not be rendered");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            Err(_) => tracing::warn!(uri = %head.uri, attempt, "a page render stalled; rendering it again"),
        }
    }
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}
