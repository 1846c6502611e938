//! Message translation end to end, on both backends, with a real engine
//! (Apertium's APy from Debian, English → Spanish): an English post in a
//! room with a Spanish "always" reader is translated after it is stored,
//! reaches that reader's page and socket, and an engine that dies mid-run
//! loses nothing. "Ask" readers translate one message on request.

mod common;

#[path = "../../worker/tests/common/apy.rs"]
mod apy;

use std::time::Duration;

use apy::ApyProcess;
use common::{TestApp, browser, next_frame, open_socket, send_frame, spawn_app_configured};
use reqwest::StatusCode;
use tchatche_core::{
    backend_tests,
    event::{ClientFrame, MessageView, RoomEvent, ServerFrame, Translation},
    ids::{MessageId, RoomId},
    testing::TestEnv,
};

const PASSWORD: &str = "correct horse battery staple";
const ENGLISH: &str = "The house is red and the dog is very big.";

/// Longest wait for the translator (an APy pair's first request takes
/// about 300 ms; a loaded CI machine is slower).
const TRANSLATED_WITHIN: Duration = Duration::from_secs(30);

async fn start_apy() -> ApyProcess {
    tokio::task::spawn_blocking(ApyProcess::start).await.unwrap()
}

async fn app_with_engine(env: TestEnv, apy: &ApyProcess, extra: &[(&str, &str)]) -> TestApp {
    let url = apy.url();
    let mut vars = vec![("TRANSLATE_ENGINE", "apertium"), ("TRANSLATE_URL", url.as_str()), ("TRANSLATE_TIMEOUT_SECS", "2")];
    vars.extend_from_slice(extra);
    spawn_app_configured(env, &vars).await
}

/// A second person in their own browser, reading the interface in `lang`.
struct Reader {
    client: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    lang: &'static str,
}

impl Reader {
    async fn sign_up(app: &TestApp, username: &str, lang: &'static str) -> Self {
        let (client, jar) = browser();
        let reader = Self { client, jar, lang };
        let form = [("username", username), ("display_name", username), ("password", PASSWORD)];
        assert_eq!(reader.form(app, "/api/sign_up", &form, "text/html").await.status(), 302);
        reader
    }

    async fn form(&self, app: &TestApp, path: &str, form: &[(&str, &str)], accept: &str) -> reqwest::Response {
        self.client
            .post(app.at(path))
            .header("origin", &app.origin)
            .header("accept", accept)
            .header("accept-language", self.lang)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn call(&self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.form(app, path, form, "application/json").await
    }

    async fn page(&self, app: &TestApp, path: &str) -> String {
        let response = self.client.get(app.at(path)).header("accept-language", self.lang).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }

    async fn socket(&self, app: &TestApp) -> common::Ws {
        use reqwest::cookie::CookieStore;
        let cookie = self.jar.cookies(&app.url.parse().unwrap()).map(|v| v.to_str().unwrap().to_owned());
        open_socket(&app.url, &app.origin, cookie).await
    }
}

/// Alice's public room, joined by a Spanish reader in `mode`.
async fn room_with_spanish_reader(app: &TestApp, mode: &str) -> (RoomId, String, Reader) {
    app.sign_up("alice", PASSWORD).await;
    let slug = app.create_room("Babel", "public").await;
    let room = app.room_id(&slug).await;
    let pedro = Reader::sign_up(app, "pedro", "es").await;
    assert_eq!(pedro.call(app, "/api/join_room", &[("slug", &slug)]).await.status(), StatusCode::OK);
    let saved = pedro.call(app, "/api/save_translation", &[("mode", mode)]).await;
    assert_eq!(saved.status(), StatusCode::OK, "{:?}", saved.text().await);
    (room, slug, pedro)
}

async fn posted(app: &TestApp, room: RoomId, body: &str) -> MessageView {
    let response = app.post(room, body).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Waits for the translation of `id` on a socket.
async fn translation_on(ws: &mut common::Ws, id: MessageId) -> Translation {
    tokio::time::timeout(TRANSLATED_WITHIN, async {
        loop {
            if let ServerFrame::Event(RoomEvent::Translated { message_id, translation, .. }) = next_frame(ws).await
                && message_id == id
            {
                return translation;
            }
        }
    })
    .await
    .expect("the translation reaches the reader's socket")
}

/// Waits for the translation of `id` into `lang` in storage.
async fn stored_translation(app: &TestApp, id: MessageId, lang: &str) -> Translation {
    tokio::time::timeout(TRANSLATED_WITHIN, async {
        loop {
            if let Some(found) = app.env.store.translations(&[id], lang).await.unwrap().remove(&id) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the translation of {id} is stored"))
}

backend_tests! {
    /// An English post in a room with a Spanish "always" reader: detected as
    /// English, translated by APy after it is stored, in storage, live on
    /// the reader's socket and on their server-rendered page (with the
    /// original a click away), while the author's page shows their words.
    async fn an_english_post_reaches_a_spanish_reader_in_spanish(env: TestEnv) {
        let apy = start_apy().await;
        let app = app_with_engine(env, &apy, &[]).await;
        let (room, slug, pedro) = room_with_spanish_reader(&app, "always").await;
        let mut socket = pedro.socket(&app).await;
        send_frame(&mut socket, &ClientFrame::Subscribe { room, after: None, reactions_after: None }).await;

        let message = posted(&app, room, ENGLISH).await;
        assert_eq!(message.lang.as_deref(), Some("en"), "detected when posted");
        let live = translation_on(&mut socket, message.id).await;
        assert_eq!((live.lang.as_str(), live.version), ("es", message.version));
        assert!(live.html.contains("casa"), "Spanish: {}", live.html);
        assert_eq!(stored_translation(&app, message.id, "es").await, live);

        let page = pedro.page(&app, &format!("/r/{slug}")).await;
        assert!(page.contains(&live.html) && page.contains(r#"data-testid="translation""#), "the reader's page is in Spanish");
        assert!(page.contains(r#"data-testid="original""#) && page.contains("The house is red"), "the original is there too");
        assert!(page.contains("<details"), "one click away, without JavaScript");
        assert!(page.contains(r#"lang="en""#), "the original says its language");

        // A reconnecting socket catches up with what it missed, translated.
        let mut again = pedro.socket(&app).await;
        send_frame(&mut again, &ClientFrame::Subscribe { room, after: Some(tchatche_core::ids::Seq(0)), reactions_after: None }).await;
        let caught_up = tokio::time::timeout(TRANSLATED_WITHIN, async {
            loop {
                if let ServerFrame::Event(RoomEvent::Message(missed)) = next_frame(&mut again).await
                    && missed.id == message.id
                {
                    return missed;
                }
            }
        })
        .await
        .expect("the missed message");
        assert_eq!(caught_up.translation.as_ref(), Some(&live), "caught up in Spanish");

        // Pedro's own English words stay as he wrote them, for him.
        let id = uuid::Uuid::new_v4().to_string();
        let form = [("room", room.0.to_string()), ("id", id.clone()), ("body", "My brother eats bread in the kitchen every morning before he goes to work.".to_owned())];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(pedro.call(&app, "/api/post_message", &form).await.status(), StatusCode::OK);
        let his = stored_translation(&app, MessageId(id.parse().unwrap()), "es").await;
        assert!(!pedro.page(&app, &format!("/r/{slug}")).await.contains(&his.html), "authors see their own words");

        let own = app.client.get(app.at(&format!("/r/{slug}"))).send().await.unwrap().text().await.unwrap();
        assert!(!own.contains(r#"data-testid="translation""#), "the author sees their own words");
        let anonymous = browser().0.get(app.at(&format!("/r/{slug}"))).header("accept-language", "es").send().await.unwrap();
        assert!(!anonymous.text().await.unwrap().contains(&live.html), "public pages show originals");
        app.stop().await;
    }

    /// APy killed mid-run: posts are stored and shown at once, nothing is
    /// set aside, and every translation arrives once APy is back.
    async fn an_engine_that_dies_loses_nothing(env: TestEnv) {
        let mut apy = start_apy().await;
        let port = apy.port();
        let app = app_with_engine(env, &apy, &[]).await;
        let (room, _, _pedro) = room_with_spanish_reader(&app, "always").await;
        let first = posted(&app, room, ENGLISH).await;
        stored_translation(&app, first.id, "es").await;

        apy.stop();
        let mut waiting = Vec::new();
        for body in ["My brother eats bread in the kitchen every morning.", "The children play in the garden with the cat."] {
            let started = std::time::Instant::now();
            waiting.push(posted(&app, room, body).await);
            assert!(started.elapsed() < Duration::from_secs(2), "posting never waits for the engine");
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        for message in &waiting {
            assert!(app.env.store.message_by_id(message.id).await.unwrap().is_some(), "stored without the engine");
            assert!(app.env.store.translations(&[message.id], "es").await.unwrap().is_empty());
        }

        let _apy = tokio::task::spawn_blocking(move || ApyProcess::start_on(port)).await.unwrap();
        for message in &waiting {
            let translation = stored_translation(&app, message.id, "es").await;
            assert_eq!(translation.version, message.version);
        }
        app.stop().await;
    }

    /// An "ask" reader gets nothing unasked; asking queues the message
    /// (answering at once), and asking again once it is done answers the
    /// translation. Without JavaScript the form leads back to the message.
    async fn an_ask_reader_translates_one_message(env: TestEnv) {
        let apy = start_apy().await;
        let app = app_with_engine(env, &apy, &[]).await;
        let (room, slug, pedro) = room_with_spanish_reader(&app, "ask").await;
        let message = posted(&app, room, ENGLISH).await;
        let other = posted(&app, room, "The children play in the garden with the cat.").await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(app.env.store.translations(&[message.id, other.id], "es").await.unwrap().is_empty(), "nothing unasked");
        let page = pedro.page(&app, &format!("/r/{slug}")).await;
        assert!(page.contains(r#"data-testid="translate""#), "a Translate control");

        let ask = [("room", room.0.to_string()), ("id", message.id.to_string())];
        let ask: Vec<(&str, &str)> = ask.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let first: Option<Translation> = pedro.call(&app, "/api/translate_message", &ask).await.json().await.unwrap();
        assert!(first.is_none(), "queued, not awaited");
        let stored = stored_translation(&app, message.id, "es").await;
        let again: Option<Translation> = pedro.call(&app, "/api/translate_message", &ask).await.json().await.unwrap();
        assert_eq!(again, Some(stored.clone()));
        assert!(app.env.store.translations(&[other.id], "es").await.unwrap().is_empty(), "only what was asked");

        let plain = pedro.form(&app, "/api/translate_message", &ask, "text/html").await;
        let location = plain.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(location, format!("/r/{slug}?translate={}#m-{}", message.id, message.id));
        let page = pedro.page(&app, location.split('#').next().unwrap()).await;
        assert!(page.contains(&stored.html), "the page shows what was asked for");
        app.stop().await;
    }

    /// A pair the engine lacks (APy has no English to French) is skipped,
    /// not set aside as a refusal over and over: the French reader reads
    /// the original, the Spanish one gets theirs, no dead letter appears.
    async fn a_pair_the_engine_lacks_is_skipped(env: TestEnv) {
        let apy = start_apy().await;
        let app = app_with_engine(env, &apy, &[]).await;
        let (room, slug, _pedro) = room_with_spanish_reader(&app, "always").await;
        let claire = Reader::sign_up(&app, "claire", "fr").await;
        assert_eq!(claire.call(&app, "/api/join_room", &[("slug", &slug)]).await.status(), StatusCode::OK);
        assert_eq!(claire.call(&app, "/api/save_translation", &[("mode", "always")]).await.status(), StatusCode::OK);
        let message = posted(&app, room, ENGLISH).await;
        stored_translation(&app, message.id, "es").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(app.env.store.translations(&[message.id], "fr").await.unwrap().is_empty());
        if app.env.backend == tchatche_core::testing::Backend::Scaled {
            let dead = app.env.redis_eval("return redis.call('XLEN', KEYS[1])", &["translate:dead"]).await;
            assert_eq!(dead, 0, "nothing set aside");
        }
        app.stop().await;
    }

    /// Bad input to the translation endpoints is refused, and what is stored
    /// stays: unknown modes and languages, someone else's room, signed out.
    async fn bad_translation_requests_are_refused(env: TestEnv) {
        let apy = start_apy().await;
        let app = app_with_engine(env, &apy, &[]).await;
        let (room, _, pedro) = room_with_spanish_reader(&app, "always").await;
        for form in [vec![("mode", "sometimes")], vec![("mode", "ask"), ("known[]", "xx")], vec![("mode", "ask"), ("known[]", "pt-BR")]] {
            assert_eq!(pedro.call(&app, "/api/save_translation", &form).await.status(), StatusCode::BAD_REQUEST, "{form:?}");
        }
        let user = app.env.store.user_by_username("pedro").await.unwrap().unwrap();
        assert_eq!(user.translate_mode, tchatche_core::languages::TranslateMode::Always, "kept");
        let message = posted(&app, room, ENGLISH).await;
        let ask = [("room", room.0.to_string()), ("id", message.id.to_string())];
        let ask: Vec<(&str, &str)> = ask.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let stranger = browser().0;
        let response = stranger.post(app.at("/api/translate_message")).header("origin", &app.origin).form(&ask).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let bad_id = [("room", room.0.to_string()), ("id", "not-a-uuid".to_owned())];
        let bad_id: Vec<(&str, &str)> = bad_id.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(pedro.call(&app, "/api/translate_message", &bad_id).await.status(), StatusCode::BAD_REQUEST);
        app.stop().await;
    }
}

/// With no engine configured nothing is translated or queued, and the
/// settings page says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_engine_messages_stay_as_written() {
    let env = TestEnv::new(tchatche_core::testing::Backend::Embedded).await;
    let app = spawn_app_configured(env, &[]).await;
    let (room, slug, pedro) = room_with_spanish_reader(&app, "always").await;
    let message = posted(&app, room, ENGLISH).await;
    let page = pedro.page(&app, "/settings").await;
    assert!(page.contains(r#"data-testid="translation-off""#));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(app.env.store.translations(&[message.id], "es").await.unwrap().is_empty());
    assert!(!pedro.page(&app, &format!("/r/{slug}")).await.contains(r#"data-testid="translate""#));
    app.stop().await;
}
