//! The one error type of server functions. Each variant names the HTTP
//! status it answers with; internal detail is logged on the server and never
//! sent. The browser shows each variant as a translated sentence.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tchatche_core::input::InputError;

/// The last answer of a form's action: nothing yet, done, or refused.
pub type Outcome = Signal<Option<Result<(), AppError>>>;

/// One field that broke one of its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub error: InputError,
}

/// A refused form: what is wrong with it, and what was typed (never a
/// password), so the form comes back filled in, even without JavaScript.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InvalidForm {
    pub errors: Vec<FieldError>,
    pub kept: Vec<(String, String)>,
}

impl InvalidForm {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a field's error (the first one found for it wins).
    pub fn check<T>(&mut self, field: &str, result: Result<T, InputError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                if !self.errors.iter().any(|e| e.field == field) {
                    self.errors.push(FieldError { field: field.to_owned(), error });
                }
                None
            }
        }
    }

    pub fn keep(mut self, field: &str, value: &str) -> Self {
        self.kept.push((field.to_owned(), value.to_owned()));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 400: some fields broke their rules; shown next to each field.
    #[error("invalid input: {:?}", .0.errors)]
    Invalid(InvalidForm),
    /// 401: the action needs a signed-in person.
    #[error("sign-in required")]
    Unauthorized,
    /// 403: signed in, but not allowed (also a refused cross-site request).
    #[error("forbidden")]
    Forbidden,
    /// 404: does not exist, or is not visible to this person.
    #[error("not found")]
    NotFound,
    /// 410: existed, and was deleted (a thread whose first message was).
    #[error("gone")]
    Gone,
    /// 429: too many attempts; try again after this many seconds.
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 500: a failure on our side, logged with its detail.
    #[error("internal error")]
    Internal,
    /// 503: the database or Redis is unreachable or degraded; try again soon.
    #[error("service unavailable")]
    Unavailable,
    /// 400: the request could not be read (a missing or malformed argument,
    /// sent by something other than our pages); in the browser, a request
    /// that did not complete (network, decoding).
    #[error("request failed: {0}")]
    Request(String),
}

impl AppError {
    pub fn invalid(field: &str, error: InputError) -> Self {
        Self::Invalid(InvalidForm { errors: vec![FieldError { field: field.to_owned(), error }], kept: Vec::new() })
    }

    /// The error for one field, if it is among the invalid ones.
    pub fn field(&self, name: &str) -> Option<InputError> {
        match self {
            Self::Invalid(form) => form.errors.iter().find(|f| f.field == name).map(|f| f.error),
            _ => None,
        }
    }

    /// What was typed in a field of a refused form.
    pub fn kept(&self, name: &str) -> Option<String> {
        match self {
            Self::Invalid(form) => form.kept.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            _ => None,
        }
    }

    /// Keeps typed values in an input error (other errors are unchanged).
    pub fn keeping(self, kept: &[(&str, &str)]) -> Self {
        match self {
            Self::Invalid(mut form) => {
                form.kept.extend(kept.iter().map(|(k, v)| (k.to_string(), v.to_string())));
                Self::Invalid(form)
            }
            other => other,
        }
    }

    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            Self::Invalid(form) if form.errors.iter().any(|e| matches!(e.error, InputError::TooFast { .. })) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Gone => StatusCode::GONE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Request(_) => StatusCode::BAD_REQUEST,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = crate::codec::JsonText;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;

    impl From<tchatche_core::Error> for AppError {
        fn from(err: tchatche_core::Error) -> Self {
            use tchatche_core::Error;
            match err {
                Error::Input { field, error } => Self::invalid(field, error),
                Error::NotFound(_) => Self::NotFound,
                err if err.is_unavailable() => {
                    tracing::warn!(%err, "a dependency is unavailable");
                    Self::Unavailable
                }
                err => {
                    tracing::error!(%err, "request failed");
                    Self::Internal
                }
            }
        }
    }

    impl From<ServerFnErrorErr> for AppError {
        fn from(err: ServerFnErrorErr) -> Self {
            tracing::error!(%err, "server function plumbing failed");
            Self::Internal
        }
    }

    impl axum::response::IntoResponse for AppError {
        fn into_response(self) -> axum::response::Response {
            (self.status(), self.to_string()).into_response()
        }
    }

    /// Sets the response status of the current server function to match an
    /// error it is about to return. A plain form post (no JavaScript) is
    /// left to server_fn's redirect back to the form, which then shows the
    /// error: a browser would show a bare 4xx page instead.
    pub fn with_status(err: AppError) -> AppError {
        let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return err };
        let retry_after = match &err {
            AppError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            AppError::Invalid(form) => form.errors.iter().find_map(|e| match e.error {
                InputError::TooFast { retry_after_secs } => Some(retry_after_secs),
                _ => None,
            }),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        if !is_html_form_post() {
            response.set_status(err.status());
        }
        err
    }

    /// A checkbox of a form: sent (as "on") only when ticked.
    pub fn checkbox(field: &'static str, value: Option<String>) -> Result<bool, AppError> {
        match value.as_deref() {
            None => Ok(false),
            Some("on" | "true") => Ok(true),
            Some(_) => Err(with_status(AppError::invalid(field, InputError::Malformed))),
        }
    }

    /// Whether the request is a browser's own form submission (it asks for
    /// an HTML page back), as opposed to the server-function client.
    pub fn is_html_form_post() -> bool {
        use_context::<http::request::Parts>().is_some_and(|parts| {
            parts.method == http::Method::POST
                && parts.headers.get(http::header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"))
        })
    }
}

#[cfg(feature = "ssr")]
pub use ssr::{checkbox, is_html_form_post, with_status};

/// A translated, human sentence for an error, rendered on the server
/// (islands say it with their [`crate::phrases::Phrases`]).
pub fn error_text(error: &AppError) -> String {
    crate::phrases::Text::of_error(error).render()
}

/// A translated sentence for one broken input rule.
pub fn input_error_text(error: InputError) -> String {
    crate::phrases::Text::of_input_error(error).render()
}
