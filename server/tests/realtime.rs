//! The socket on both backends: authorization at subscription, live
//! delivery, catch-up without gaps or repeats, typing and presence for
//! members only, edits and deletions live, and a slow reader resynchronized.

mod common;

use std::time::Duration;

use common::{TestApp, browser, next_frame, no_frame, open_socket, send_frame, spawn_app};
use reqwest::StatusCode;
use tchatche_core::{
    backend_tests,
    event::{ClientFrame, MessageView, RoomEvent, ServerFrame},
    ids::{RoomId, Seq},
    testing::TestEnv,
};

const PASSWORD: &str = "correct horse battery staple";

async fn subscribed(ws: &mut common::Ws, room: RoomId, after: Option<Seq>) -> (bool, Vec<String>) {
    send_frame(ws, &ClientFrame::Subscribe { room, after, reactions_after: None }).await;
    match next_frame(ws).await {
        ServerFrame::Subscribed { room: r, member, online } if r == room => {
            (member, online.into_iter().map(|a| a.username).collect())
        }
        other => panic!("expected Subscribed, got {other:?}"),
    }
}

async fn next_message(ws: &mut common::Ws) -> MessageView {
    loop {
        match next_frame(ws).await {
            ServerFrame::Event(RoomEvent::Message(message)) => return message,
            ServerFrame::Event(RoomEvent::Presence { .. } | RoomEvent::Typing { .. }) | ServerFrame::Pong => {}
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// Reads presence events until one lists `count` people; returns their names.
async fn presence_until(ws: &mut common::Ws, count: usize) -> Vec<String> {
    loop {
        if let ServerFrame::Event(RoomEvent::Presence { online, .. }) = next_frame(ws).await
            && online.len() == count
        {
            return online.into_iter().map(|a| a.username).collect();
        }
    }
}

async fn posted(app: &TestApp, room: RoomId, body: &str) -> MessageView {
    let response = app.post(room, body).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

backend_tests! {
    /// A socket from another origin is refused before the upgrade.
    async fn forged_origin_is_refused(env: TestEnv) {
        let app = spawn_app(env).await;
        let response = app
            .client
            .get(app.at("/ws"))
            .header("origin", "https://evil.example")
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        app.stop().await;
    }

    /// Visitors follow public rooms read-only: messages, but no typing or
    /// presence; private rooms are denied to non-members.
    async fn visitors_read_public_rooms_only(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let public = app.room_id(&app.create_room("Open", "public").await).await;
        let private = app.room_id(&app.create_room("Closed", "private").await).await;
        let mut visitor = open_socket(&app.url, &app.origin, None).await;
        assert_eq!(subscribed(&mut visitor, public, None).await, (false, vec![]));
        send_frame(&mut visitor, &ClientFrame::Subscribe { room: private, after: None, reactions_after: None }).await;
        assert_eq!(next_frame(&mut visitor).await, ServerFrame::Denied(private));
        send_frame(&mut visitor, &ClientFrame::Subscribe { room: RoomId(999_999), after: None, reactions_after: None }).await;
        assert_eq!(next_frame(&mut visitor).await, ServerFrame::Denied(RoomId(999_999)));

        let mut alice = app.socket().await;
        let (member, online) = subscribed(&mut alice, public, None).await;
        assert!(member);
        assert_eq!(online, ["alice"]);
        send_frame(&mut alice, &ClientFrame::Typing { room: public }).await;
        let message = posted(&app, public, "hello visitors").await;
        // The visitor gets the message, never the typing notice or presence.
        match next_frame(&mut visitor).await {
            ServerFrame::Event(RoomEvent::Message(m)) => assert_eq!(m, message),
            other => panic!("visitor got {other:?}"),
        }
        // Nothing about the private room's messages either.
        app.post(private, "members only").await;
        no_frame(&mut visitor, Duration::from_millis(500)).await;
        app.stop().await;
    }

    /// Typing and presence reach the other members.
    async fn typing_and_presence(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Lounge", "public").await;
        let room = app.room_id(&slug).await;
        let (bob, bob_jar) = browser();
        bob.post(app.at("/api/sign_up")).header("origin", &app.origin).header("accept", "application/json")
            .form(&[("username", "bob"), ("display_name", "Bob"), ("password", PASSWORD)]).send().await.unwrap();
        bob.post(app.at("/api/join_room")).header("origin", &app.origin).header("accept", "application/json")
            .form(&[("slug", slug.as_str())]).send().await.unwrap();
        let bob_cookie = { use reqwest::cookie::CookieStore; bob_jar.cookies(&app.url.parse().unwrap()).map(|v| v.to_str().unwrap().to_owned()) };

        let mut alice = app.socket().await;
        subscribed(&mut alice, room, None).await;
        let mut bob_ws = open_socket(&app.url, &app.origin, bob_cookie).await;
        let (_, online) = subscribed(&mut bob_ws, room, None).await;
        assert_eq!(online, ["alice", "bob"]);
        assert_eq!(presence_until(&mut alice, 2).await, ["alice", "bob"]);
        send_frame(&mut bob_ws, &ClientFrame::Typing { room }).await;
        loop {
            match next_frame(&mut alice).await {
                ServerFrame::Event(RoomEvent::Typing { user, .. }) => break assert_eq!(user.username, "bob"),
                ServerFrame::Event(RoomEvent::Presence { .. }) => {}
                other => panic!("expected typing, got {other:?}"),
            }
        }
        drop(bob_ws);
        assert_eq!(presence_until(&mut alice, 1).await, ["alice"]);
        app.stop().await;
    }

    /// A reconnecting client gives the last version it saw and gets
    /// everything after it, edits and deletions included, then live events,
    /// with no gap and no repeat.
    async fn reconnect_catches_up(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let room = app.room_id(&app.create_room("Resume", "public").await).await;
        let first = posted(&app, room, "seen").await;
        let missed = posted(&app, room, "missed while offline").await;
        let edited = app.call("/api/edit_message", &[("room", &room.0.to_string()), ("id", &first.id.to_string()), ("body", "seen, then edited")]).await;
        assert_eq!(edited.status(), StatusCode::OK);

        let mut ws = open_socket(&app.url, &app.origin, None).await;
        subscribed(&mut ws, room, Some(first.version)).await;
        let caught = [next_message(&mut ws).await, next_message(&mut ws).await];
        assert_eq!(caught[0].id, missed.id);
        assert_eq!((caught[1].id, caught[1].body.as_str()), (first.id, "seen, then edited"));
        assert!(caught[0].version < caught[1].version, "in version order");
        let live = posted(&app, room, "live").await;
        assert_eq!(next_message(&mut ws).await, live);
        no_frame(&mut ws, Duration::from_millis(300)).await;

        let deleted = app.call("/api/delete_message", &[("room", &room.0.to_string()), ("id", &live.id.to_string())]).await;
        assert_eq!(deleted.status(), StatusCode::OK);
        let tombstone = next_message(&mut ws).await;
        assert!(tombstone.deleted && tombstone.id == live.id && tombstone.body.is_empty());
        app.stop().await;
    }

    /// A socket that stops reading falls behind alone; when it reads again
    /// it gets every message, in order, without holes.
    async fn a_slow_reader_is_resynchronized(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let room = app.room_id(&app.create_room("Flood", "public").await).await;
        let author = app.env.store.user_by_username("alice").await.unwrap().unwrap();
        let mut slow = open_socket(&app.url, &app.origin, None).await;
        subscribed(&mut slow, room, Some(Seq(0))).await;
        let mut fast = open_socket(&app.url, &app.origin, None).await;
        subscribed(&mut fast, room, Some(Seq(0))).await;

        // More than a room channel holds, while `slow` reads nothing.
        let total = tchatche_core::bus::ROOM_CHANNEL_CAPACITY + 200;
        let mut posted = Vec::new();
        for i in 0..total {
            let body = format!("m{i} {}", "x".repeat(3000));
            let draft = tchatche_core::testing::draft(&app.env.store.room_by_id(room).await.unwrap().unwrap(), &author, &body);
            let message = app.env.bus.submit(&app.env.store, draft, tchatche_core::bus::DraftKind::Post).await.unwrap();
            posted.push(message.version);
            if i % 50 == 0 {
                // The fast one keeps up meanwhile.
                while let Ok(frame) = tokio::time::timeout(Duration::from_millis(1), next_frame(&mut fast)).await {
                    let _ = frame;
                }
            }
        }
        let mut received = Vec::new();
        while received.len() < total {
            let message = next_message(&mut slow).await;
            assert!(received.last().is_none_or(|last| *last < message.version), "in order, no repeat");
            received.push(message.version);
        }
        assert_eq!(received, posted, "every message, none missing");
        app.stop().await;
    }
}
