//! Hostile input, on both backends: every server function (as GET and as
//! POST; form-encoded, JSON and raw bytes; signed in and not) and the
//! socket get arbitrary and hostile values: wrong types, huge numbers,
//! invalid UTF-8, deeply nested JSON, unknown variants, very long text.
//! Nothing may panic, nothing may answer 500, and a refused request leaves
//! the database as it was.
//!
//! `FUZZ_CASES` (default 200 per backend) sets how many requests, and
//! `FUZZ_SEED` replays a run (each failure prints its seed).

mod common;

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use common::{TestApp, browser, spawn_app};
use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use tchatche_core::{
    backend_tests,
    testing::{Backend, TestEnv},
};
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "correct horse battery staple";

/// Every server function and the fields it takes.
const ENDPOINTS: &[(&str, &[&str])] = &[
    ("sign_up", &["username", "display_name", "password"]),
    ("sign_in", &["username", "password", "remember"]),
    ("sign_out", &[]),
    ("viewer", &[]),
    ("archive_page", &["slug", "day", "after"]),
    ("create_room", &["name", "description", "visibility"]),
    ("accept_invite", &["token"]),
    ("invite_room", &["token"]),
    ("room_settings", &["slug"]),
    ("update_room", &["slug", "name", "description", "visibility", "indexable", "translate"]),
    ("delete_room", &["slug", "confirm"]),
    ("create_invite", &["slug"]),
    ("revoke_invite", &["slug", "token"]),
    ("room_page", &["slug", "before", "translate"]),
    ("older_messages", &["room", "thread", "before"]),
    ("post_message", &["room", "id", "body", "reply_to"]),
    ("thread_page", &["slug", "id", "before", "reply"]),
    ("edit_message", &["room", "id", "body"]),
    ("delete_message", &["room", "id"]),
    ("react_to_message", &["room", "id", "emoji", "on"]),
    ("my_rooms", &[]),
    ("join_room", &["slug"]),
    ("leave_room", &["slug"]),
    ("set_locale", &["locale"]),
    ("update_display_name", &["display_name"]),
    ("change_password", &["current_password", "new_password"]),
    ("save_preferences", &["locale", "theme"]),
    ("save_search_visibility", &["hidden"]),
    ("conversations", &[]),
    ("start_conversation", &["with"]),
    ("block_person", &["username"]),
    ("unblock_person", &["username"]),
    ("blocked_people", &[]),
    ("delete_account", &["password"]),
    ("set_theme", &["theme"]),
    ("profile", &["username"]),
    ("public_rooms", &["q", "sort", "after"]),
    ("save_translation", &["mode", "known[]"]),
    ("translate_message", &["room", "id"]),
    ("search", &["q", "room", "author", "from", "to", "before"]),
];

/// A small, seedable generator (xorshift64*): a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What the generator knows of the world, to aim close to real values.
struct Targets {
    slug: String,
    room: String,
    message: String,
}

/// A value: raw bytes (forms may carry invalid UTF-8).
fn value(rng: &mut Rng, targets: &Targets) -> Vec<u8> {
    let text = match rng.below(24) {
        0 => String::new(),
        1 => rng.pick(&["0", "-1", "1", "2", "9223372036854775807", "9223372036854775808", "-9223372036854775809"]).to_string(),
        2 => rng.pick(&["1e309", "NaN", "-0", "0x10", "true", "false", "null", "[]", "{}"]).to_string(),
        3 => "a".repeat(rng.below(70_000)),
        4 => "😀".repeat(rng.below(5_000)),
        5 => "[".repeat(rng.below(10_000)) + &"]".repeat(rng.below(10_000)),
        6 => "{\"a\":".repeat(rng.below(3_000)),
        7 => rng.pick(&["\u{202E}evil", "\u{200B}", "\u{FEFF}\u{2060}", "a\u{0}b", "\u{3164}", "\r\n\t"]).to_string(),
        8 => rng.pick(&["public", "private", "secret", "PUBLIC", "on", "off"]).to_string(),
        9 => rng.pick(&["en", "fr", "xx", "en-GB", "../../etc/passwd", "light", "dark", "system", "purple"]).to_string(),
        10 => uuid::Uuid::new_v4().to_string(),
        11 => targets.slug.clone(),
        12 => targets.room.clone(),
        13 => targets.message.clone(),
        14 => "<script>alert(1)</script>".to_owned(),
        15 => "%FF%FE%00".to_owned(),
        16 => PASSWORD.to_owned(),
        17 => rng.pick(&["2026-01-01", "2026-13-45", "9999-99-99", "-1-01-01"]).to_string(),
        18 => format!("{}", rng.next()),
        19 => format!("-{}", rng.next()),
        _ => {
            let len = rng.below(64);
            (0..len).map(|_| char::from_u32(rng.below(0x3000) as u32).unwrap_or('?')).collect()
        }
    };
    let mut bytes = text.into_bytes();
    // Invalid UTF-8, now and then, in the middle of a value.
    if rng.below(8) == 0 {
        let at = rng.below(bytes.len() + 1);
        bytes.splice(at..at, [0xFF, 0xFE, 0xC3]);
    }
    bytes
}

fn urlencode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| if b.is_ascii_alphanumeric() { (*b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// One hostile request to one server function.
/// Returns the path, the status and whether the request was refused (an
/// error status, or a plain form sent back to its page with `__err=`).
async fn hostile_request(app: &TestApp, client: &reqwest::Client, rng: &mut Rng, targets: &Targets) -> (String, StatusCode, bool) {
    let (name, fields) = rng.pick(ENDPOINTS);
    let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
    for field in *fields {
        match rng.below(6) {
            0 => {}                                                                               // missing
            1 => pairs.extend([(field.to_string(), value(rng, targets)), (field.to_string(), value(rng, targets))]), // twice
            _ => pairs.push((field.to_string(), value(rng, targets))),
        }
    }
    if rng.below(4) == 0 {
        pairs.push((String::from_utf8_lossy(&value(rng, targets)).into_owned(), value(rng, targets)));
    }
    let form: String = pairs.iter().map(|(k, v)| format!("{}={}", urlencode(k.as_bytes()), urlencode(v))).collect::<Vec<_>>().join("&");
    let path = format!("/api/{name}");
    let accept = if rng.below(2) == 0 { "application/json" } else { "text/html" };
    let request = match rng.below(4) {
        // Within what URLs may hold (the client refuses longer ones).
        0 if form.len() < 16 * 1024 => client.get(app.at(&format!("{path}?{form}"))),
        0 | 1 => client.post(app.at(&path)).header("content-type", "application/x-www-form-urlencoded").body(form.clone()),
        2 => {
            // Raw bytes as the body: invalid UTF-8 unescaped.
            let raw: Vec<u8> = pairs.iter().flat_map(|(k, v)| [k.as_bytes(), b"=", v.as_slice(), b"&"].concat()).collect();
            client.post(app.at(&path)).header("content-type", "application/x-www-form-urlencoded").body(raw)
        }
        _ => {
            let json = match rng.below(3) {
                0 => serde_json::Value::Object(
                    pairs.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(String::from_utf8_lossy(v).into_owned()))).collect(),
                ),
                1 => serde_json::json!({ "room": u64::MAX, "id": [1, 2, 3], "body": { "nested": [[[[]]]] }, "slug": 1.5e300 }),
                _ => serde_json::json!([String::from_utf8_lossy(&value(rng, targets))]),
            };
            client.post(app.at(&path)).header("content-type", "application/json").body(json.to_string())
        }
    };
    let response = request.header("origin", &app.origin).header("accept", accept).send().await;
    let response = response.unwrap_or_else(|err| panic!("{path}: no answer ({err}): the server failed"));
    let status = response.status();
    let sent_back = response.headers().get("location").and_then(|l| l.to_str().ok()).is_some_and(|l| l.contains("__err="));
    if status.is_server_error() {
        let body = response.text().await.unwrap_or_default();
        return (format!("{path} ({} bytes of {form:.200}…): {body:.300}", form.len()), status, true);
    }
    (path, status, status.is_client_error() || sent_back)
}

/// What refused requests must leave alone (message rows only on the
/// embedded backend: elsewhere the worker stores accepted posts whenever
/// it gets to them, which would read as a change).
async fn digest(env: &TestEnv) -> Vec<i64> {
    const TABLES: &str = "SELECT (SELECT COUNT(*) FROM users), (SELECT COALESCE(SUM(LENGTH(display_name) + LENGTH(username)), 0) FROM users),
        (SELECT COUNT(*) FROM rooms), (SELECT COALESCE(SUM(LENGTH(name) + LENGTH(description)), 0) FROM rooms),
        (SELECT COUNT(*) FROM room_members), (SELECT COUNT(*) FROM room_invites), (SELECT COUNT(*) FROM room_invites WHERE revoked_at IS NOT NULL)";
    const MESSAGES: &str =
        "SELECT COUNT(*), CAST(COALESCE(SUM(LENGTH(body)), 0) AS BIGINT), CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM messages";
    let url = env.vars.iter().find(|(name, _)| name == "DATABASE_URL").map(|(_, url)| url.clone()).expect("a database URL");
    type Row = (i64, i64, i64, i64, i64, i64, i64);
    match env.backend {
        Backend::Embedded => {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let t: Row = sqlx::query_as(TABLES).fetch_one(&pool).await.unwrap();
            let m: (i64, i64, i64) = sqlx::query_as(MESSAGES).fetch_one(&pool).await.unwrap();
            pool.close().await;
            vec![t.0, t.1, t.2, t.3, t.4, t.5, t.6, m.0, m.1, m.2]
        }
        Backend::Scaled => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let t: Row = sqlx::query_as(TABLES).fetch_one(&pool).await.unwrap();
            pool.close().await;
            vec![t.0, t.1, t.2, t.3, t.4, t.5, t.6]
        }
    }
}

/// Counts panics in the server (it runs in this test binary, on the
/// runtime's worker threads; a failing test's own thread is not counted).
///
/// One upstream panic is not counted: leptos_i18n 0.6 starts an isomorphic
/// effect with every page render, and under load that effect's task may
/// first run after the render ended and disposed the signal it reads
/// (the race of leptos-rs/leptos#2842). The answer was already sent and the
/// task alone dies; it is a known upstream defect, not one of our paths.
fn count_panics() -> Arc<AtomicUsize> {
    static PANICS: std::sync::OnceLock<Arc<AtomicUsize>> = std::sync::OnceLock::new();
    PANICS
        .get_or_init(|| {
            let panics = Arc::new(AtomicUsize::new(0));
            let counter = panics.clone();
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let message = info.payload().downcast_ref::<String>().map(String::as_str).unwrap_or_default();
                let upstream_race = message.contains("leptos_i18n") && message.contains("already been disposed");
                if !upstream_race && !std::thread::current().name().is_some_and(|name| name.contains("::")) {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                previous(info);
            }));
            panics
        })
        .clone()
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| rand_seed() | 1)
}

fn rand_seed() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

fn cases() -> usize {
    std::env::var("FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(200)
}

backend_tests! {
    /// Server functions under hostile input: never a panic nor a 500, and
    /// the database unchanged by whatever was refused.
    async fn server_functions_survive_hostile_input(env: TestEnv) {
        let panics = count_panics();
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Fuzzed", "public").await;
        let room = app.room_id(&slug).await;
        let posted: serde_json::Value = app.post(room, "a first message").await.json().await.unwrap();
        let targets = Targets { slug, room: room.0.to_string(), message: posted["id"].as_str().unwrap().to_owned() };
        let anonymous = browser().0;
        let seed = seed();
        let mut rng = Rng(seed);
        for case in 0..cases() {
            let client = if rng.below(3) == 0 { &anonymous } else { &app.client };
            let before = digest(&app.env).await;
            let (path, status, refused) = hostile_request(&app, client, &mut rng, &targets).await;
            assert!(!status.is_server_error(), "{path} answered {status} (seed {seed}, case {case})");
            if refused {
                assert_eq!(digest(&app.env).await, before, "{path} was refused ({status}) yet changed the database (seed {seed}, case {case})");
            }
            // Keep a signed-in session to fuzz with.
            if app.signed_in_as().await.is_none() {
                app.client.post(app.at("/api/sign_in")).header("origin", &app.origin).form(&[("username", "alice"), ("password", PASSWORD)]).send().await.unwrap();
            }
        }
        assert_eq!(reqwest::get(app.at("/healthz")).await.unwrap().status(), StatusCode::OK);
        assert_eq!(panics.load(Ordering::SeqCst), 0, "a panic happened (seed {seed})");
        app.stop().await;
    }

    /// Socket frames under hostile input: nothing panics, the server keeps
    /// serving, and a socket is at most closed.
    async fn socket_frames_survive_hostile_input(env: TestEnv) {
        let panics = count_panics();
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Fuzzed", "public").await;
        let room = app.room_id(&slug).await.0;
        let seed = seed();
        let mut rng = Rng(seed);
        let frames = [
            format!(r#"{{"type":"subscribe","room":{room},"after":null}}"#),
            format!(r#"{{"type":"subscribe","room":{room},"after":-9223372036854775808}}"#),
            r#"{"type":"subscribe","room":18446744073709551616}"#.to_owned(),
            r#"{"type":"subscribe","room":"1"}"#.to_owned(),
            format!(r#"{{"type":"read","room":{room},"seq":9223372036854775807}}"#),
            format!(r#"{{"type":"typing","room":{room},"extra":[1,2,3]}}"#),
            r#"{"type":"unknown_variant"}"#.to_owned(),
            r#"{"type":null}"#.to_owned(),
            "[".repeat(20_000),
            "{\"type\":".repeat(2_000),
            "not json at all".to_owned(),
            String::new(),
            "x".repeat(15_000),
        ];
        let mut socket = app.socket().await;
        for _ in 0..cases() {
            let message = match rng.below(10) {
                0 => Message::binary(vec![0xFF, 0xFE, 0x00, 0xC3]),
                1 => Message::binary(value(&mut rng, &Targets { slug: slug.clone(), room: room.to_string(), message: String::new() })),
                _ => Message::text(rng.pick(&frames).clone()),
            };
            if socket.send(message).await.is_err() {
                socket = app.socket().await;
            }
            // Drain what came back, without waiting.
            while let Ok(Some(received)) = tokio::time::timeout(std::time::Duration::ZERO, socket.next()).await {
                if received.is_err() || matches!(received, Ok(Message::Close(_))) {
                    socket = app.socket().await;
                    break;
                }
            }
        }
        let mut fresh = app.socket().await;
        common::send_frame(&mut fresh, &tchatche_core::event::ClientFrame::Ping).await;
        assert_eq!(common::next_frame(&mut fresh).await, tchatche_core::event::ServerFrame::Pong, "the server still answers");
        assert_eq!(panics.load(Ordering::SeqCst), 0, "a panic happened (seed {seed})");
        app.stop().await;
    }
}
