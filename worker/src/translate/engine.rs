//! The machine-translation engines the worker talks to, behind one API:
//! [`Engine::pairs`] and [`Engine::translate_html`], in ISO 639-1 codes
//! whichever engine is configured.
//!
//! - **Apertium APy** (rule-based, small, a Debian package): form posts to
//!   `/translate`, pairs from `/listPairs`, languages in ISO 639-3.
//! - **LibreTranslate** (neural, heavier, often a hosted instance with an
//!   API key): JSON posts to `/translate`, languages from `/languages`, in
//!   ISO 639-1 already.
//!
//! Every failure is sorted into one of three [`EngineError`]s, which is all
//! the worker needs to decide between giving up on a message, waiting the
//! time the engine asked for, and retrying later. Both engines get the
//! message's HTML in their HTML mode, where tags are kept as they are; run
//! it through [`super::protect`] first so code, mentions and links are not
//! translated.
//!
//! The languages the clients know, and their Apertium codes, are
//! [`LANGUAGES`]: anything an engine offers outside it is left out of
//! [`Engine::pairs`].

use std::{
    fmt,
    time::{Duration, SystemTime},
};

use reqwest::{
    StatusCode,
    header::{HeaderMap, RETRY_AFTER},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// The languages the engine clients translate between: our ISO 639-1 code
/// and Apertium's ISO 639-3 code. The only place either is spelled out.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "eng"),
    ("es", "spa"),
    ("fr", "fra"),
    ("pt", "por"),
    ("it", "ita"),
    ("de", "deu"),
    ("nl", "nld"),
    ("pl", "pol"),
    ("ru", "rus"),
    ("el", "ell"),
    ("tr", "tur"),
    ("ar", "ara"),
    ("he", "heb"),
    ("zh", "zho"),
    ("ja", "jpn"),
    ("ko", "kor"),
    ("ca", "cat"),
];

/// Apertium's code for one of our languages.
fn apertium_code(iso639_1: &str) -> Option<&'static str> {
    LANGUAGES.iter().find(|(ours, _)| *ours == iso639_1).map(|(_, theirs)| *theirs)
}

/// Our code for an Apertium language, variants included: APy lists
/// regional and orthographic variants (`por_BR`, `cat_valencia`) as
/// languages of their own, which for us are their base language.
fn from_apertium_code(code: &str) -> Option<&'static str> {
    let base = code.split('_').next().unwrap_or_default();
    LANGUAGES.iter().find(|(_, theirs)| *theirs == base).map(|(ours, _)| *ours)
}

/// Our code for a LibreTranslate language: only exact codes we know.
/// Regional ones (`pt-BR`, `zh-Hans`, or the older `pb`, `zt`) are left
/// out, since [`Engine::translate_html`] sends our code as it is.
fn from_libretranslate_code(code: &str) -> Option<&'static str> {
    LANGUAGES.iter().find(|(ours, _)| *ours == code).map(|(ours, _)| *ours)
}

/// Which engine speaks at the configured URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Apertium,
    LibreTranslate,
}

/// Where and how to reach an engine.
#[derive(Clone)]
pub struct EngineConfig {
    pub kind: EngineKind,
    /// Base URL, e.g. `http://127.0.0.1:2737` (a trailing `/` is fine).
    pub url: String,
    /// LibreTranslate's API key, when the instance asks for one (APy has
    /// none and never gets it).
    pub api_key: Option<String>,
    /// The longest a whole request may take, answer included.
    pub timeout: Duration,
}

// By hand, so the API key never reaches a log.
impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why an engine did not translate.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine will never take this request as it is (400 bad request or
    /// unknown pair, 401/403 bad key, 413 too long…): do not retry it.
    #[error("the translation engine refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    /// 429: retry after this long (from the Retry-After header, in seconds
    /// or as an HTTP date; `None` if absent).
    #[error("the translation engine asks to slow down (retry after {retry_after:?})")]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx, timeouts, refused connections, unreadable answers: the engine is
    /// down or struggling; retry later.
    #[error("the translation engine is unavailable: {0}")]
    Unavailable(String),
}

/// A client for one engine. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Engine {
    http: reqwest::Client,
    config: EngineConfig,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("tchatche-worker/", env!("CARGO_PKG_VERSION")))
            .build()
            // Only fails when the TLS backend cannot start, which no retry fixes.
            .expect("the HTTP client for the translation engine");
        Self { http, config }
    }

    pub fn kind(&self) -> EngineKind {
        self.config.kind
    }

    /// The language pairs the engine offers, as ISO 639-1 codes ("en",
    /// "es", "pt", "zh"…), each once, sorted; only languages of
    /// [`LANGUAGES`].
    pub async fn pairs(&self) -> Result<Vec<(String, String)>, EngineError> {
        let mut pairs: Vec<(String, String)> = match self.config.kind {
            EngineKind::Apertium => {
                let listed: Vec<ApyPair> = apy_data(self.send(self.http.get(self.endpoint("listPairs"))).await?)?;
                listed
                    .iter()
                    .filter_map(|pair| Some((from_apertium_code(&pair.source)?, from_apertium_code(&pair.target)?)))
                    .map(|(from, to)| (from.to_owned(), to.to_owned()))
                    .collect()
            }
            EngineKind::LibreTranslate => {
                let languages: Vec<LibreLanguage> = json(self.send(self.http.get(self.endpoint("languages"))).await?)?;
                let mut pairs = Vec::new();
                for language in &languages {
                    let Some(from) = from_libretranslate_code(&language.code) else { continue };
                    // Older versions list no targets: every language
                    // translates into every other.
                    let targets: Vec<&str> = match &language.targets {
                        Some(targets) => targets.iter().map(String::as_str).collect(),
                        None => languages.iter().map(|other| other.code.as_str()).collect(),
                    };
                    for to in targets.into_iter().filter_map(from_libretranslate_code) {
                        pairs.push((from.to_owned(), to.to_owned()));
                    }
                }
                pairs
            }
        };
        // Variants map to one language (por, por_BR → pt): the same pair
        // may come several times, or become a language to itself.
        pairs.retain(|(from, to)| from != to);
        pairs.sort();
        pairs.dedup();
        Ok(pairs)
    }

    /// Translates sanitized message HTML from one language to another (ISO
    /// 639-1 codes). The HTML is sent in the engine's HTML mode: tags come
    /// back, text between them is translated.
    pub async fn translate_html(&self, html: &str, from: &str, to: &str) -> Result<String, EngineError> {
        match self.config.kind {
            EngineKind::Apertium => {
                // Apertium could only have pairs we can name.
                let (Some(from3), Some(to3)) = (apertium_code(from), apertium_code(to)) else {
                    return Err(EngineError::Refused {
                        status: StatusCode::BAD_REQUEST.as_u16(),
                        message: format!("no Apertium pair for {from}→{to}: not a language we know"),
                    });
                };
                let langpair = format!("{from3}|{to3}");
                // A form post: a long message would not fit in a query string.
                let request = self.http.post(self.endpoint("translate")).form(&[
                    ("langpair", langpair.as_str()),
                    ("q", html),
                    // Unknown words as they are, not marked with `*`.
                    ("markUnknown", "no"),
                    ("format", "html"),
                ]);
                let translated: ApyTranslation = apy_data(self.send(request).await?)?;
                Ok(translated.translated_text)
            }
            EngineKind::LibreTranslate => {
                let request = self.http.post(self.endpoint("translate")).json(&LibreRequest {
                    q: html,
                    source: from,
                    target: to,
                    format: "html",
                    api_key: self.config.api_key.as_deref(),
                });
                let translated: LibreTranslation = json(self.send(request).await?)?;
                Ok(translated.translated_text)
            }
        }
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/{path}", self.config.url.trim_end_matches('/'))
    }

    /// Sends a request and returns the body of a successful answer; every
    /// other outcome becomes the [`EngineError`] it means.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, EngineError> {
        let response = request.send().await.map_err(|error| EngineError::Unavailable(describe(&error)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|error| EngineError::Unavailable(describe(&error)))?;
        if status.is_success() {
            return Ok(body.into());
        }
        Err(classify(status, &headers, &body, SystemTime::now()))
    }
}

/// What a failed answer means for the worker. The one place statuses are
/// sorted.
fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8], now: SystemTime) -> EngineError {
    let message = error_message(status, body);
    match status.as_u16() {
        429 => EngineError::RateLimited {
            retry_after: headers
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| parse_retry_after(value, now)),
        },
        // The engine timed out waiting for us: nothing wrong with the request.
        408 => EngineError::Unavailable(format!("{status}: {message}")),
        // No engine at that URL: the deployment is wrong, not the message,
        // which should wait for it to be fixed rather than be given up on.
        404 | 405 => EngineError::Unavailable(format!("{status} (is this the engine's URL?): {message}")),
        400..=499 => EngineError::Refused { status: status.as_u16(), message },
        _ => EngineError::Unavailable(format!("{status}: {message}")),
    }
}

/// The engine's explanation of an error: LibreTranslate's `{"error": …}`,
/// APy's `{"explanation": …}`, or the start of whatever else it said.
fn error_message(status: StatusCode, body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: Option<String>,
        explanation: Option<String>,
        message: Option<String>,
    }
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    if let Some(text) = parsed.and_then(|body| body.error.or(body.explanation).or(body.message)) {
        return text;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("no explanation").to_owned();
    }
    // An HTML error page from a proxy can be long: its start is enough.
    text.chars().take(200).collect()
}

/// How long a `Retry-After` header asks to wait: delay-seconds or an HTTP
/// date (a date already past means now).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The error and its causes on one line: reqwest's own message only says
/// "error sending request"; the cause says refused, reset or timed out.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_timeout() && !text.contains("timed out") {
        text.push_str(" (timed out)");
    }
    text
}

fn json<T: DeserializeOwned>(body: Vec<u8>) -> Result<T, EngineError> {
    serde_json::from_slice(&body).map_err(|error| EngineError::Unavailable(format!("unreadable answer: {error}")))
}

/// The `responseData` of an APy answer, which also carries a status of its
/// own.
fn apy_data<T: DeserializeOwned>(body: Vec<u8>) -> Result<T, EngineError> {
    let answer: ApyAnswer<T> = json(body)?;
    match StatusCode::from_u16(answer.response_status) {
        Ok(StatusCode::OK) => Ok(answer.response_data),
        Ok(status) => Err(classify(
            status,
            &HeaderMap::new(),
            answer.response_details.unwrap_or_default().as_bytes(),
            SystemTime::now(),
        )),
        Err(_) => Err(EngineError::Unavailable(format!("unreadable answer: status {}", answer.response_status))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApyAnswer<T> {
    response_data: T,
    response_status: u16,
    response_details: Option<String>,
}

#[derive(Deserialize)]
struct ApyPair {
    #[serde(rename = "sourceLanguage")]
    source: String,
    #[serde(rename = "targetLanguage")]
    target: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApyTranslation {
    translated_text: String,
}

#[derive(Serialize)]
struct LibreRequest<'a> {
    q: &'a str,
    source: &'a str,
    target: &'a str,
    format: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LibreTranslation {
    translated_text: String,
}

#[derive(Deserialize)]
struct LibreLanguage {
    code: String,
    targets: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn codes_map_both_ways_and_variants_read_as_their_base() {
        for (ours, theirs) in LANGUAGES {
            assert_eq!(apertium_code(ours), Some(*theirs));
            assert_eq!(from_apertium_code(theirs), Some(*ours));
        }
        assert_eq!(from_apertium_code("por_BR"), Some("pt"));
        assert_eq!(from_apertium_code("cat_valencia"), Some("ca"));
        assert_eq!(from_apertium_code("eng_US"), Some("en"));
        assert_eq!(from_apertium_code("oci"), None);
        assert_eq!(from_apertium_code(""), None);
        assert_eq!(apertium_code("eng"), None, "only ISO 639-1 codes go in");
        assert_eq!(from_libretranslate_code("pt-BR"), None);
        assert_eq!(from_libretranslate_code("zh"), Some("zh"));
    }

    #[test]
    fn every_language_messages_may_be_in_has_an_apertium_code() {
        for code in tchatche_core::languages::SUPPORTED {
            assert!(apertium_code(code).is_some(), "{code}");
        }
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_a_date() {
        let now = httpdate::parse_http_date("Tue, 01 Dec 2026 12:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Tue, 01 Dec 2026 12:01:30 GMT", now), Some(Duration::from_secs(90)));
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 11:00:00 GMT", now),
            Some(Duration::ZERO),
            "past dates mean now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn failures_are_sorted_by_what_the_worker_should_do() {
        let now = SystemTime::now();
        let none = HeaderMap::new();
        let refused = |status: u16, body: &str| match classify(
            StatusCode::from_u16(status).unwrap(),
            &none,
            body.as_bytes(),
            now,
        ) {
            EngineError::Refused { status, message } => Some((status, message)),
            _ => None,
        };
        assert_eq!(refused(400, r#"{"error":"en is not supported"}"#), Some((400, "en is not supported".into())));
        assert_eq!(
            refused(
                400,
                r#"{"status":"error","code":400,"message":"Bad Request","explanation":"That pair is not installed"}"#
            ),
            Some((400, "That pair is not installed".into()))
        );
        assert_eq!(refused(403, r#"{"error":"Invalid API key"}"#), Some((403, "Invalid API key".into())));
        assert_eq!(refused(413, ""), Some((413, "Payload Too Large".into())));
        for status in [404, 405, 408, 500, 502, 503, 504] {
            let error = classify(StatusCode::from_u16(status).unwrap(), &none, b"<html>oops</html>", now);
            assert!(matches!(error, EngineError::Unavailable(_)), "{status}: {error:?}");
        }

        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, &headers, b"{}", now),
            EngineError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(7)
        ));
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, &none, b"", now),
            EngineError::RateLimited { retry_after: None }
        ));
    }

    #[test]
    fn long_error_pages_are_cut() {
        let page = "x".repeat(10_000);
        assert_eq!(error_message(StatusCode::BAD_GATEWAY, page.as_bytes()).len(), 200);
    }

    #[test]
    fn the_api_key_is_not_shown() {
        let config = EngineConfig {
            kind: EngineKind::LibreTranslate,
            url: "https://translate.example".into(),
            api_key: Some("s3cret".into()),
            timeout: Duration::from_secs(5),
        };
        assert!(!format!("{:?}", Engine::new(config)).contains("s3cret"));
    }
}
