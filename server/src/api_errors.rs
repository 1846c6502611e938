//! server_fn answers 500 to every error a server function returns unless
//! the function set a status itself, and to every error it raises itself,
//! such as arguments it cannot read (missing, malformed, of the wrong
//! type). Here, once for all of them, an error answer gets the status its
//! `AppError` names (400 for unreadable arguments, 404, 429…), with the
//! same body.

use axum::{
    body::Body,
    extract::Request,
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The most of an error body read to classify it (ours are tiny).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Middleware for every route.
pub async fn status_of_app_errors(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        parts.status = error.status();
    }
    Response::from_parts(parts, Body::from(bytes))
}
