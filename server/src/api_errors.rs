//! server_fn answers 500 to every error it raises itself, including a
//! request whose arguments cannot be read (missing, malformed, of the wrong
//! type): the client's mistake, not ours. Those answers become 400, with
//! the same body.

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
pub async fn unreadable_arguments_are_400(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if matches!(serde_json::from_slice::<app::error::AppError>(&bytes), Ok(app::error::AppError::Request(_))) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}
