//! Trust, on both backends: a session belongs to one account for good,
//! live sockets lose what their owner loses (within a second), two
//! deployments sharing a Redis stay apart, a proxy's client addresses are
//! read from the right end, and every socket has limits.

mod common;

use std::{sync::Arc, time::Duration};

use common::{TestApp, browser, next_frame, open_socket, send_frame, spawn_app, spawn_app_configured};
use futures::StreamExt;
use reqwest::StatusCode;
use server::admin::{Admin, AdminCommand, execute};
use tchatche_core::{
    backend_tests,
    event::{ClientFrame, ServerFrame},
    ids::RoomId,
    testing::TestEnv,
};
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "correct horse battery staple";
/// What the issue promises: a lost access reaches open sockets within this.
const WITHIN: Duration = Duration::from_secs(1);
/// The close code of a socket whose session ended (RFC 6455 policy violation).
const POLICY: u16 = 1008;

/// Someone with a browser of their own (cookies included).
struct Person {
    client: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
}

impl Person {
    fn new() -> Self {
        let (client, jar) = browser();
        Self { client, jar }
    }

    async fn sign_up(app: &TestApp, username: &str) -> Self {
        let person = Self::new();
        let response = person.call(app, "/api/sign_up", &[("username", username), ("display_name", username), ("password", PASSWORD)]).await;
        assert_eq!(response.status(), StatusCode::OK, "sign-up of {username}");
        person
    }

    async fn sign_in(app: &TestApp, username: &str) -> Self {
        let person = Self::new();
        let response = person.call(app, "/api/sign_in", &[("username", username), ("password", PASSWORD), ("remember", "on")]).await;
        assert_eq!(response.status(), StatusCode::OK, "sign-in of {username}");
        person
    }

    async fn call(&self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(app.at(path)).header("origin", &app.origin).header("accept", "application/json").form(form).send().await.unwrap()
    }

    /// Whom the server takes this browser for (a username), if anyone.
    async fn who(&self, app: &TestApp) -> Option<String> {
        let viewer: serde_json::Value = self.client.get(app.at("/api/viewer")).send().await.unwrap().json().await.unwrap();
        viewer["username"].as_str().map(str::to_owned)
    }

    async fn socket(&self, app: &TestApp) -> common::Ws {
        use reqwest::cookie::CookieStore;
        let cookie = self.jar.cookies(&app.url.parse().unwrap()).map(|v| v.to_str().unwrap().to_owned());
        open_socket(&app.url, &app.origin, cookie).await
    }
}

async fn subscribe(ws: &mut common::Ws, room: RoomId) -> bool {
    send_frame(ws, &ClientFrame::Subscribe { room, after: None, reactions_after: None }).await;
    loop {
        match next_frame(ws).await {
            ServerFrame::Subscribed { room: r, member, .. } if r == room => return member,
            ServerFrame::Denied(r) if r == room => panic!("subscription to {room} denied"),
            _ => {}
        }
    }
}

/// Waits (at most `WITHIN`) for the server to say the room is denied.
async fn denied(ws: &mut common::Ws, room: RoomId) {
    let wait = async {
        loop {
            if let ServerFrame::Denied(r) = next_frame(ws).await
                && r == room
            {
                return;
            }
        }
    };
    tokio::time::timeout(WITHIN, wait).await.unwrap_or_else(|_| panic!("room {room} not denied within {WITHIN:?}"));
}

/// Waits (at most `WITHIN`) for the server to close the socket; its code.
async fn closed(ws: &mut common::Ws) -> u16 {
    let wait = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map_or(1005, |frame| u16::from(frame.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return 1006,
            }
        }
    };
    tokio::time::timeout(WITHIN, wait).await.unwrap_or_else(|_| panic!("socket still open after {WITHIN:?}"))
}

async fn room_of(app: &TestApp, owner: &Person, name: &str, visibility: &str) -> (String, RoomId) {
    let response = owner.call(app, "/api/create_room", &[("name", name), ("description", ""), ("visibility", visibility)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let slug = response.headers()["location"].to_str().unwrap().trim_start_matches("/r/").to_owned();
    let id = app.room_id(&slug).await;
    (slug, id)
}

backend_tests! {
    /// Sign up, sign in again elsewhere with "keep me signed in", delete
    /// the account, let someone else sign up: the spare session is nobody's
    /// (on SQLite the newcomer used to get the deleted account's id, and
    /// with it the spare session), and no session of the account is left.
    async fn a_deleted_accounts_spare_session_is_nobodys(env: TestEnv) {
        let app = spawn_app(env).await;
        let alice = Person::sign_up(&app, "alice").await;
        let spare = Person::sign_in(&app, "alice").await;
        assert_eq!(spare.who(&app).await.as_deref(), Some("alice"));
        let alice_id = app.env.store.user_by_username("alice").await.unwrap().unwrap().id;

        assert_eq!(alice.call(&app, "/api/delete_account", &[("password", PASSWORD)]).await.status(), StatusCode::OK);
        assert_eq!(app.env.sessions().await.end_all(alice_id, None).await.unwrap(), 0, "her sessions were deleted with her");
        let bob = Person::sign_up(&app, "bob").await;
        let bob_id = app.env.store.user_by_username("bob").await.unwrap().unwrap().id;
        assert_ne!(bob_id, alice_id, "an account's id is never given again");
        assert_eq!(bob.who(&app).await.as_deref(), Some("bob"));
        assert_eq!(spare.who(&app).await, None, "the spare session is signed out, and not bob's");
        app.stop().await;
    }

    /// Disabling an account from the admin CLI (no server of its own to
    /// tell but through the bus or the database) deletes its sessions and
    /// closes its sockets; deleting it does the same.
    async fn the_admin_cli_ends_sessions_and_sockets(env: TestEnv) {
        let app = spawn_app(env).await;
        let alice = Person::sign_up(&app, "alice").await;
        let (_, room) = room_of(&app, &alice, "Alice's", "public").await;
        let mut socket = alice.socket(&app).await;
        assert!(subscribe(&mut socket, room).await);
        let admin = Admin::connect(&app.env.config(&[])).await.unwrap();
        let alice_id = admin.store.user_by_username("alice").await.unwrap().unwrap().id;

        execute(&admin, AdminCommand::Disable { username: "alice".into() }, &mut &b""[..]).await.unwrap();
        assert_eq!(closed(&mut socket).await, POLICY);
        assert_eq!(alice.who(&app).await, None);
        assert_eq!(app.env.sessions().await.end_all(alice_id, None).await.unwrap(), 0, "no session is left");

        execute(&admin, AdminCommand::Enable { username: "alice".into() }, &mut &b""[..]).await.unwrap();
        let again = Person::sign_in(&app, "alice").await;
        let mut socket = again.socket(&app).await;
        assert!(subscribe(&mut socket, room).await);
        execute(&admin, AdminCommand::DeleteUser { username: "alice".into(), yes: true }, &mut &b""[..]).await.unwrap();
        assert_eq!(closed(&mut socket).await, POLICY);
        assert_eq!(again.who(&app).await, None);
        admin.close().await;
        app.stop().await;
    }

    /// A new password ends the account's other sessions and closes their
    /// sockets; the session that changed it stays. Signing out closes that
    /// session's sockets.
    async fn a_new_password_or_signing_out_closes_sockets(env: TestEnv) {
        let app = spawn_app(env).await;
        let here = Person::sign_up(&app, "alice").await;
        let elsewhere = Person::sign_in(&app, "alice").await;
        let (_, room) = room_of(&app, &here, "Alice's", "public").await;
        let mut other_socket = elsewhere.socket(&app).await;
        assert!(subscribe(&mut other_socket, room).await);

        let mut own_socket = here.socket(&app).await;
        assert!(subscribe(&mut own_socket, room).await);
        let new_password = "another horse battery staple";
        let changed = here.call(&app, "/api/change_password", &[("current_password", PASSWORD), ("new_password", new_password)]).await;
        assert_eq!(changed.status(), StatusCode::OK);
        assert_eq!(closed(&mut other_socket).await, POLICY);
        assert_eq!(elsewhere.who(&app).await, None);
        assert_eq!(here.who(&app).await.as_deref(), Some("alice"), "the session that changed it stays");
        send_frame(&mut own_socket, &ClientFrame::Ping).await;
        let still_open = async {
            loop {
                match own_socket.next().await {
                    Some(Ok(Message::Text(text))) if serde_json::from_str::<ServerFrame>(&text).ok() == Some(ServerFrame::Pong) => return true,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return false,
                    Some(Ok(_)) => {}
                }
            }
        };
        assert!(tokio::time::timeout(Duration::from_secs(5), still_open).await.unwrap(), "and so does its socket");

        assert_eq!(here.call(&app, "/api/sign_out", &[]).await.status(), StatusCode::OK);
        assert_eq!(closed(&mut own_socket).await, POLICY);
        app.stop().await;
    }

    /// Sockets lose a room as their owner does: readers when it turns
    /// private, a member who leaves a private room, everyone when it is
    /// deleted. Members of a room made private keep it.
    async fn sockets_lose_rooms_they_may_no_longer_read(env: TestEnv) {
        let app = spawn_app(env).await;
        let alice = Person::sign_up(&app, "alice").await;
        let bob = Person::sign_up(&app, "bob").await;
        let carol = Person::sign_up(&app, "carol").await;
        let (slug, room) = room_of(&app, &alice, "Soon private", "public").await;
        assert_eq!(bob.call(&app, "/api/join_room", &[("slug", &slug)]).await.status(), StatusCode::OK);
        let mut bob_socket = bob.socket(&app).await;
        let mut carol_socket = carol.socket(&app).await;
        let mut visitor_socket = Person::new().socket(&app).await;
        assert!(subscribe(&mut bob_socket, room).await, "bob is a member");
        assert!(!subscribe(&mut carol_socket, room).await, "carol reads a public room");
        assert!(!subscribe(&mut visitor_socket, room).await);

        let private = [("slug", slug.as_str()), ("name", "Soon private"), ("description", ""), ("visibility", "private")];
        assert_eq!(alice.call(&app, "/api/update_room", &private).await.status(), StatusCode::OK);
        denied(&mut carol_socket, room).await;
        denied(&mut visitor_socket, room).await;
        assert_eq!(bob.call(&app, "/api/leave_room", &[("slug", &slug)]).await.status(), StatusCode::OK);
        denied(&mut bob_socket, room).await;

        let (other_slug, other) = room_of(&app, &alice, "Doomed", "public").await;
        assert!(!subscribe(&mut carol_socket, other).await);
        let confirm = [("slug", other_slug.as_str()), ("confirm", "Doomed")];
        assert_eq!(alice.call(&app, "/api/delete_room", &confirm).await.status(), StatusCode::OK);
        denied(&mut carol_socket, other).await;
        app.stop().await;
    }

    /// Behind one trusted proxy, the client is the address the proxy saw
    /// (the rightmost `X-Forwarded-For` entry): a client writing anything
    /// it likes on the left is throttled all the same.
    async fn a_spoofed_forwarded_for_does_not_escape_throttling(env: TestEnv) {
        let app = spawn_app_configured(env, &[("TRUST_PROXY", "1")]).await;
        let client = Person::new();
        let attempt = |i: usize| {
            client
                .client
                .post(app.at("/api/sign_in"))
                .header("origin", &app.origin)
                .header("accept", "application/json")
                .header("x-forwarded-for", format!("203.0.113.{}, 198.51.100.7", i % 250))
                .form(&[("username", format!("user{i}")), ("password", "guess guess guess".to_owned())])
                .send()
        };
        for i in 0..20 {
            assert_eq!(attempt(i).await.unwrap().status(), StatusCode::BAD_REQUEST, "attempt {i}");
        }
        assert_eq!(attempt(20).await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
        app.stop().await;
    }

    /// What is costly or abusable has a bucket of its own per person: an
    /// attacker draining the sign-in bucket of an account does not stop its
    /// owner changing the password, while password checks, edits, rooms
    /// and invitations are throttled.
    async fn costly_actions_are_throttled(env: TestEnv) {
        let app = spawn_app(env).await;
        let alice = Person::sign_up(&app, "alice").await;
        let attacker = Person::new();
        for _ in 0..10 {
            attacker.call(&app, "/api/sign_in", &[("username", "alice"), ("password", "guess guess guess")]).await;
        }
        let changed = alice.call(&app, "/api/change_password", &[("current_password", PASSWORD), ("new_password", PASSWORD)]).await;
        assert_eq!(changed.status(), StatusCode::OK, "the owner is not locked out by the attacker");
        let wrong = [("password", "not my password at all")];
        for _ in 0..4 {
            assert_eq!(alice.call(&app, "/api/delete_account", &wrong).await.status(), StatusCode::BAD_REQUEST);
        }
        assert_eq!(alice.call(&app, "/api/delete_account", &wrong).await.status(), StatusCode::TOO_MANY_REQUESTS);

        let mut last = StatusCode::OK;
        let mut created = 0;
        while last == StatusCode::OK && created < 50 {
            let name = format!("Room {created}");
            last = alice.call(&app, "/api/create_room", &[("name", &name), ("description", ""), ("visibility", "public")]).await.status();
            created += 1;
        }
        assert_eq!((last, created), (StatusCode::TOO_MANY_REQUESTS, 11), "ten rooms at once, then one every six minutes");
        let slug = app.env.store.rooms_of(app.env.store.user_by_username("alice").await.unwrap().unwrap().id, "alice").await.unwrap()[0].slug.clone();
        let form = [("slug", slug.as_str())];
        let invites = futures::future::join_all((0..21).map(|_| alice.call(&app, "/api/create_invite", &form))).await;
        let invites: Vec<StatusCode> = invites.iter().map(reqwest::Response::status).collect();
        assert_eq!(invites.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 1, "{invites:?}");

        let room = app.room_id(&slug).await.0.to_string();
        let id = uuid::Uuid::new_v4().to_string();
        let posted = alice.call(&app, "/api/post_message", &[("room", &room), ("id", &id), ("body", "v0")]).await;
        assert_eq!(posted.status(), StatusCode::OK);
        let bodies: Vec<String> = (1..=25).map(|i| format!("v{i}")).collect();
        let forms: Vec<[(&str, &str); 3]> = bodies.iter().map(|body| [("room", room.as_str()), ("id", id.as_str()), ("body", body.as_str())]).collect();
        let edits = futures::future::join_all(forms.iter().map(|form| alice.call(&app, "/api/edit_message", form))).await;
        let edits: Vec<StatusCode> = edits.iter().map(reqwest::Response::status).collect();
        assert!(edits.contains(&StatusCode::TOO_MANY_REQUESTS), "{edits:?}");
        app.stop().await;
    }

    /// Sockets per address are capped; a socket follows at most
    /// `MAX_ROOMS` rooms; one that floods frames is closed.
    async fn sockets_have_limits(env: TestEnv) {
        let app = spawn_app_configured(env, &[("MAX_SOCKETS_PER_ADDRESS", "2")]).await;
        let alice = Person::sign_up(&app, "alice").await;
        let (_, room) = room_of(&app, &alice, "Alice's", "public").await;
        let mut first = alice.socket(&app).await;
        let mut second = alice.socket(&app).await;
        match common::try_open_socket(&app.url, &app.origin, None).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(refused)) => assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS),
            other => panic!("a third socket from the address is refused, got {:?}", other.map(|_| "a socket")),
        }

        let owner = app.env.store.user_by_username("alice").await.unwrap().unwrap();
        let mut rooms = vec![room];
        for i in 1..=server::realtime::MAX_ROOMS {
            rooms.push(app.env.room(&format!("more-{i}"), &owner).await.id);
        }
        for room in &rooms[..server::realtime::MAX_ROOMS] {
            subscribe(&mut first, *room).await;
        }
        let one_too_many = rooms[server::realtime::MAX_ROOMS];
        send_frame(&mut first, &ClientFrame::Subscribe { room: one_too_many, after: None, reactions_after: None }).await;
        loop {
            match next_frame(&mut first).await {
                ServerFrame::Denied(room) if room == one_too_many => break,
                ServerFrame::Subscribed { room, .. } if room == one_too_many => panic!("one room too many was followed"),
                _ => {}
            }
        }
        use futures::SinkExt;
        first.close(None).await.unwrap();
        second.close(None).await.unwrap();
        // The server gives the places back once it has seen the sockets close.
        let mut flooder = None;
        for _ in 0..50 {
            if let Ok(ws) = common::try_open_socket(&app.url, &app.origin, None).await {
                flooder = Some(ws);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut flooder = flooder.expect("a place frees up when a socket closes");
        let ping = serde_json::to_string(&ClientFrame::Ping).unwrap();
        let mut code = None;
        for _ in 0..1000 {
            if flooder.send(Message::text(ping.clone())).await.is_err() {
                break;
            }
            if let Ok(Some(Ok(Message::Close(frame)))) = tokio::time::timeout(Duration::ZERO, flooder.next()).await {
                code = frame.map(|frame| u16::from(frame.code));
                break;
            }
        }
        let code = match code {
            Some(code) => code,
            None => closed(&mut flooder).await,
        };
        assert_eq!(code, POLICY, "a socket flooding frames is closed");
        app.stop().await;
    }
}

/// Two deployments sharing one Redis (each with its own `REDIS_PREFIX` and
/// database) never accept each other's session cookies, even where the
/// account ids coincide.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_sharing_redis_keep_their_sessions_apart() {
    let first = spawn_app(TestEnv::scaled().await).await;
    let second = spawn_app(TestEnv::scaled().await).await;
    let alice = Person::sign_up(&first, "alice").await;
    let mallory = Person::sign_up(&second, "mallory").await;
    assert_eq!(
        first.env.store.user_by_username("alice").await.unwrap().unwrap().id,
        second.env.store.user_by_username("mallory").await.unwrap().unwrap().id,
        "the same id in both databases"
    );
    use reqwest::cookie::CookieStore;
    let cookie = alice.jar.cookies(&first.url.parse().unwrap()).unwrap();
    let viewer: serde_json::Value =
        reqwest::Client::new().get(second.at("/api/viewer")).header("cookie", cookie).send().await.unwrap().json().await.unwrap();
    assert!(viewer.is_null(), "the first deployment's cookie means nothing to the second: {viewer}");
    assert_eq!(mallory.who(&second).await.as_deref(), Some("mallory"));
    first.stop().await;
    second.stop().await;
}

/// A Redis that stops answering (hung, or cut off by the network) makes
/// requests answer 503 with a clear message within Redis's command
/// timeout, never hang; /readyz says so while /healthz stays alive; and
/// nothing is lost: the person is still signed in once Redis answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_answers_503_instead_of_hanging() {
    let proxy = common::FreezableProxy::to_redis().await;
    let app = spawn_app_configured(TestEnv::scaled().await, &[("REDIS_URL", &proxy.url)]).await;
    let alice = Person::sign_up(&app, "alice").await;
    assert_eq!(alice.who(&app).await.as_deref(), Some("alice"));

    proxy.freeze(true);
    let started = std::time::Instant::now();
    let page = alice.client.get(app.at("/settings")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().await.unwrap().contains("briefly unavailable"), "a clear message");
    assert!(started.elapsed() < Duration::from_secs(10), "answered in {:?}", started.elapsed());
    let ready = reqwest::get(app.at("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.text().await.unwrap().contains("\"redis\":\"timeout\""));
    assert_eq!(reqwest::get(app.at("/healthz")).await.unwrap().status(), StatusCode::OK);

    proxy.freeze(false);
    assert_eq!(alice.who(&app).await.as_deref(), Some("alice"), "still signed in afterwards");
    app.stop().await;
}

/// Scaled mode with two server processes: access lost through one reaches
/// the sockets open on the other within a second (through Redis).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_lost_on_one_process_reaches_sockets_on_another() {
    let app = spawn_app(TestEnv::scaled().await).await;
    let other = app.another_process().await;
    let alice = Person::sign_up(&app, "alice").await;
    let carol = Person::sign_up(&app, "carol").await;
    let carol_elsewhere = Person::sign_in(&app, "carol").await;
    let (slug, room) = room_of(&app, &alice, "Soon private", "public").await;
    let socket_on_other = |person: &Person| {
        use reqwest::cookie::CookieStore;
        let cookie = person.jar.cookies(&app.url.parse().unwrap()).map(|v| v.to_str().unwrap().to_owned());
        open_socket(&other.url, &app.origin, cookie)
    };
    let mut reader = socket_on_other(&carol).await;
    let mut session_elsewhere = socket_on_other(&carol_elsewhere).await;
    assert!(!subscribe(&mut reader, room).await);
    assert!(!subscribe(&mut session_elsewhere, room).await);

    let private = [("slug", slug.as_str()), ("name", "Soon private"), ("description", ""), ("visibility", "private")];
    assert_eq!(alice.call(&app, "/api/update_room", &private).await.status(), StatusCode::OK);
    denied(&mut reader, room).await;

    let new_password = "another horse battery staple";
    let changed = carol.call(&app, "/api/change_password", &[("current_password", PASSWORD), ("new_password", new_password)]).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(closed(&mut session_elsewhere).await, POLICY);
    other.stop().await;
    app.stop().await;
}
