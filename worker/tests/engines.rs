//! The translation engine clients against the engines' own answers:
//! LibreTranslate as an in-process server speaking its exact shapes (a real
//! one needs gigabytes of models), Apertium APy for real, as Debian ships
//! it.

#[path = "common/apy.rs"]
mod apy;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use apy::ApyProcess;
use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    routing::{get, post},
};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use worker::translate::{
    engine::{Engine, EngineConfig, EngineError, EngineKind},
    protect::protect,
};

// ---- LibreTranslate, faked --------------------------------------------

/// Serves `router` on a free local port, for the rest of the test.
async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}

fn libretranslate(url: &str, api_key: Option<&str>) -> Engine {
    Engine::new(EngineConfig {
        kind: EngineKind::LibreTranslate,
        url: url.to_owned(),
        api_key: api_key.map(str::to_owned),
        timeout: Duration::from_millis(500),
    })
}

/// A LibreTranslate whose `/translate` always gives this answer.
async fn libretranslate_answering(
    status: StatusCode,
    headers: &'static [(&'static str, &'static str)],
    body: Value,
) -> Engine {
    let router = Router::new().route(
        "/translate",
        post(move || async move {
            let headers: HeaderMap = headers
                .iter()
                .map(|(name, value)| (HeaderName::from_static(name), HeaderValue::from_static(value)))
                .collect();
            (status, headers, Json(body))
        }),
    );
    libretranslate(&serve(router).await, None)
}

async fn translate(engine: &Engine) -> Result<String, EngineError> {
    engine.translate_html("<p>Hello</p>", "en", "es").await
}

/// The request carries the HTML, both codes, the HTML format, and the API
/// key only when one is configured; the answer's text is returned.
#[tokio::test]
async fn libretranslate_sends_html_and_the_key_only_when_there_is_one() {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let router = Router::new()
        .route(
            "/translate",
            post(|State(received): State<Arc<Mutex<Vec<Value>>>>, Json(request): Json<Value>| async move {
                received.lock().unwrap().push(request);
                Json(json!({ "translatedText": "<p>Hola <span data-keep=\"0\"></span></p>" }))
            }),
        )
        .with_state(received.clone());
    let url = serve(router).await;

    let html = "<p>Hello <span data-keep=\"0\"></span></p>";
    let with_key = libretranslate(&url, Some("k3y")).translate_html(html, "en", "es").await.unwrap();
    assert_eq!(with_key, "<p>Hola <span data-keep=\"0\"></span></p>");
    libretranslate(&url, None).translate_html(html, "en", "es").await.unwrap();

    let received = received.lock().unwrap();
    assert_eq!(received[0], json!({ "q": html, "source": "en", "target": "es", "format": "html", "api_key": "k3y" }));
    assert_eq!(
        received[1],
        json!({ "q": html, "source": "en", "target": "es", "format": "html" }),
        "no api_key at all"
    );
}

/// An unsupported language (400) is refused for good, with the engine's
/// explanation.
#[tokio::test]
async fn libretranslate_bad_request_is_refused() {
    let engine =
        libretranslate_answering(StatusCode::BAD_REQUEST, &[], json!({ "error": "xx is not supported" })).await;
    match translate(&engine).await {
        Err(EngineError::Refused { status: 400, message }) => assert_eq!(message, "xx is not supported"),
        other => panic!("{other:?}"),
    }
}

/// A wrong API key (403) is refused for good.
#[tokio::test]
async fn libretranslate_bad_key_is_refused() {
    let engine = libretranslate_answering(StatusCode::FORBIDDEN, &[], json!({ "error": "Invalid API key" })).await;
    assert!(matches!(translate(&engine).await, Err(EngineError::Refused { status: 403, .. })));
}

/// Too many requests (429) says how long to wait, from Retry-After.
#[tokio::test]
async fn libretranslate_rate_limit_says_when_to_retry() {
    let engine = libretranslate_answering(
        StatusCode::TOO_MANY_REQUESTS,
        &[("retry-after", "7")],
        json!({ "error": "Slowdown: 30 per 1 minute" }),
    )
    .await;
    match translate(&engine).await {
        Err(EngineError::RateLimited { retry_after }) => assert_eq!(retry_after, Some(Duration::from_secs(7))),
        other => panic!("{other:?}"),
    }
}

/// An engine error (500) is worth retrying later.
#[tokio::test]
async fn libretranslate_server_error_is_unavailable() {
    let engine = libretranslate_answering(
        StatusCode::INTERNAL_SERVER_ERROR,
        &[],
        json!({ "error": "Cannot translate text: out of memory" }),
    )
    .await;
    match translate(&engine).await {
        Err(EngineError::Unavailable(message)) => assert!(message.contains("out of memory"), "{message}"),
        other => panic!("{other:?}"),
    }
}

/// An answer that is not LibreTranslate's (a proxy's page) is unavailable,
/// not a crash or an empty translation.
#[tokio::test]
async fn libretranslate_unreadable_answer_is_unavailable() {
    let router = Router::new().route("/translate", post(|| async { "<html>It works!</html>" }));
    let engine = libretranslate(&serve(router).await, None);
    assert!(matches!(translate(&engine).await, Err(EngineError::Unavailable(_))));
}

/// An engine slower than the timeout is given up on at the timeout.
#[tokio::test]
async fn libretranslate_past_the_timeout_is_unavailable() {
    let router = Router::new().route(
        "/translate",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Json(json!({ "translatedText": "too late" }))
        }),
    );
    let engine = libretranslate(&serve(router).await, None);
    let started = Instant::now();
    match translate(&engine).await {
        Err(EngineError::Unavailable(message)) => assert!(message.contains("timed out"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

/// Nothing listening (a refused connection) is unavailable.
#[tokio::test]
async fn libretranslate_closed_port_is_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let engine = libretranslate(&format!("http://127.0.0.1:{port}"), None);
    assert!(matches!(translate(&engine).await, Err(EngineError::Unavailable(_))));
    assert!(matches!(engine.pairs().await, Err(EngineError::Unavailable(_))));
}

/// `/languages` becomes pairs of our codes: each language into its targets,
/// regional codes left out.
#[tokio::test]
async fn libretranslate_languages_become_pairs() {
    let router = Router::new().route(
        "/languages",
        get(|| async {
            Json(json!([
                { "code": "en", "name": "English", "targets": ["en", "es", "fr", "pt-BR", "zh-Hans"] },
                { "code": "es", "name": "Spanish", "targets": ["en", "es"] },
                { "code": "pt-BR", "name": "Portuguese (Brazil)", "targets": ["en"] },
            ]))
        }),
    );
    let engine = libretranslate(&serve(router).await, None);
    let pairs = engine.pairs().await.unwrap();
    assert_eq!(pairs, [("en".to_owned(), "es".to_owned()), ("en".into(), "fr".into()), ("es".into(), "en".into())]);
}

// ---- Apertium APy, for real ----------------------------------------------

fn apertium(apy: &ApyProcess) -> Engine {
    Engine::new(EngineConfig {
        kind: EngineKind::Apertium,
        url: apy.url(),
        api_key: None,
        // The first translation of a pair starts its pipeline.
        timeout: Duration::from_secs(20),
    })
}

/// APy's pairs come back in ISO 639-1 (variants such as `eng_US` folded
/// into their language); HTML is translated with its tags kept; with
/// `protect`, code and links (mentions too) come back untouched; a pair
/// APy lacks is refused.
#[tokio::test]
async fn apertium_lists_pairs_and_translates_html() {
    let apy = ApyProcess::start();
    let engine = apertium(&apy);

    let pairs = engine.pairs().await.unwrap();
    for pair in [("en", "es"), ("es", "en"), ("fr", "es"), ("es", "fr")] {
        assert!(pairs.contains(&(pair.0.to_owned(), pair.1.to_owned())), "{pair:?} in {pairs:?}");
    }
    assert_eq!(pairs.iter().filter(|(from, to)| from == "es" && to == "en").count(), 1, "eng_US folded into en");

    let house = engine.translate_html("<p>The house is red</p>", "en", "es").await.unwrap();
    assert!(house.starts_with("<p>") && house.ends_with("</p>"), "{house}");
    assert!(house.contains("casa"), "{house}");

    let code = "<code>cargo build</code>";
    let link = r#"<a href="https://example.com" rel="nofollow noopener noreferrer ugc">the site</a>"#;
    let mention = r#"<a class="mention" href="/u/alice" rel="nofollow noopener noreferrer ugc">@alice</a>"#;
    let message = format!("<p>Hello {mention}, run {code} on {link} to build the house</p>");
    let protected = protect(&message);
    let translated = protected.restore(&engine.translate_html(protected.html(), "en", "es").await.unwrap());
    for kept in [code, link, mention] {
        assert!(translated.contains(kept), "{kept} in {translated}");
    }
    assert!(translated.contains("casa") && translated.starts_with("<p>"), "{translated}");
    // Unprotected, Apertium would have translated the code.
    let unprotected = engine.translate_html(&message, "en", "es").await.unwrap();
    assert!(!unprotected.contains(code), "{unprotected}");

    match engine.translate_html("<p>Hello</p>", "en", "ja").await {
        Err(EngineError::Refused { status: 400, message }) => assert!(message.contains("not installed"), "{message}"),
        other => panic!("{other:?}"),
    }
}

/// Once APy is gone, translating is unavailable (retry later), not refused.
#[tokio::test]
async fn apertium_stopped_is_unavailable() {
    let mut apy = ApyProcess::start();
    let engine = apertium(&apy);
    engine.translate_html("<p>Good morning</p>", "en", "es").await.unwrap();

    apy.stop();
    assert!(matches!(engine.translate_html("<p>Good morning</p>", "en", "es").await, Err(EngineError::Unavailable(_))));
    assert!(matches!(engine.pairs().await, Err(EngineError::Unavailable(_))));
}
