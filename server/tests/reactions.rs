//! Reactions through the running app, on both backends: the server function
//! for members and each refusal (its status, and nothing stored), a plain
//! form post without JavaScript, live frames to members' and visitors'
//! sockets, the catch-up of a socket that comes back, private rooms kept
//! private, the throttle, and the likes in a thread's structured data.

mod common;

use common::{TestApp, browser, fetch_page, next_frame, open_socket, send_frame, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;
use tchatche_core::{
    backend_tests,
    event::{ClientFrame, MessageView, RoomEvent, ServerFrame},
    ids::{MessageId, RoomId, Seq},
    reaction::Reactions,
    testing::TestEnv,
};

const PASSWORD: &str = "correct horse battery staple";

/// Reacts as `client` (the hydrated app's call).
async fn react(app: &TestApp, client: &reqwest::Client, room: RoomId, id: MessageId, emoji: &str, on: &str) -> reqwest::Response {
    let form = [("room", room.0.to_string()), ("id", id.to_string()), ("emoji", emoji.to_owned()), ("on", on.to_owned())];
    client.post(app.at("/api/react_to_message")).header("origin", &app.origin).header("accept", "application/json").form(&form).send().await.unwrap()
}

async fn reacted(app: &TestApp, client: &reqwest::Client, room: RoomId, id: MessageId, emoji: &str, on: bool) -> Reactions {
    let response = react(app, client, room, id, emoji, &on.to_string()).await;
    assert_eq!(response.status(), StatusCode::OK, "reacting with {emoji:?}");
    response.json().await.unwrap()
}

/// Signs someone up in a browser of their own.
async fn someone(app: &TestApp, username: &str) -> reqwest::Client {
    let (client, _) = browser();
    let form = [("username", username), ("display_name", username), ("password", PASSWORD)];
    let response = client.post(app.at("/api/sign_up")).header("origin", &app.origin).header("accept", "application/json").form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    client
}

async fn subscribe(app: &TestApp, cookie: Option<String>, room: RoomId, after: Option<Seq>, reactions_after: Option<Seq>) -> common::Ws {
    let mut socket = open_socket(&app.url, &app.origin, cookie).await;
    send_frame(&mut socket, &ClientFrame::Subscribe { room, after, reactions_after }).await;
    assert!(matches!(next_frame(&mut socket).await, ServerFrame::Subscribed { .. }));
    socket
}

/// The next frame, which must be a message's reactions.
async fn next_reactions(socket: &mut common::Ws) -> (MessageId, Reactions) {
    match next_frame(socket).await {
        ServerFrame::Event(RoomEvent::Reacted { message_id, reactions, .. }) => (message_id, reactions),
        other => panic!("not reactions: {other:?}"),
    }
}

backend_tests! {
    /// A member reacts: the answer, a visitor's socket and the room's page
    /// all show it; a socket that comes back gets what it missed; every bad
    /// request is refused with its status and changes nothing.
    async fn members_react_live_and_bad_requests_change_nothing(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Lobby", "public").await;
        let room = app.room_id(&slug).await;
        let message: MessageView = app.post(room, "Lunch at noon?").await.json().await.unwrap();
        let mut visitor = subscribe(&app, None, room, None, None).await;

        let pizza = reacted(&app, &app.client, room, message.id, "🍕", true).await;
        assert_eq!((pizza.seq, pizza.counts[0].emoji.as_str(), pizza.counts[0].count), (Seq(1), "🍕", 1));
        assert_eq!(next_reactions(&mut visitor).await, (message.id, pizza.clone()), "live, to visitors too");
        let page = fetch_page(&browser().0, &app.at(&format!("/r/{slug}"))).await;
        assert!(page.html.contains(r#"aria-label="🍕 1: alice""#), "named on the page");

        // A socket that missed a change gets it when it comes back.
        let both = reacted(&app, &app.client, room, message.id, "👍", true).await;
        let mut back = subscribe(&app, app.cookie_header(), room, Some(message.version), Some(pizza.seq)).await;
        assert_eq!(next_reactions(&mut back).await, (message.id, both.clone()));

        // Refused, each with its reason, and nothing changes.
        let (status, body) = {
            let response = react(&app, &app.client, room, message.id, "nope", "true").await;
            (response.status(), response.json::<Value>().await.unwrap())
        };
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["Invalid"]["errors"][0]["field"], "emoji");
        assert_eq!(body["Invalid"]["errors"][0]["error"], "NotAnEmoji");
        assert_eq!(react(&app, &app.client, room, message.id, "🍕", "maybe").await.status(), StatusCode::BAD_REQUEST);
        assert_eq!(react(&app, &app.client, room, MessageId(uuid::Uuid::now_v7()), "🍕", "true").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(react(&app, &browser().0, room, message.id, "🍕", "true").await.status(), StatusCode::UNAUTHORIZED, "signed out");
        let bob = someone(&app, "bob").await;
        assert_eq!(react(&app, &bob, room, message.id, "🍕", "true").await.status(), StatusCode::FORBIDDEN, "not a member");
        let stored = app.env.store.reactions_of(&[message.id]).await.unwrap().remove(&message.id).unwrap();
        assert_eq!(stored, both, "nothing changed");

        // Throttled like posts: a burst of toggles ends in 429.
        let mut statuses = Vec::new();
        for n in 0..30 {
            statuses.push(react(&app, &app.client, room, message.id, "🎉", &(n % 2 == 0).to_string()).await.status());
        }
        assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
        app.stop().await;
    }

    /// Without JavaScript a reaction is a plain form post that lands back on
    /// the page it came from, at the message (never on another site); a
    /// private room's reactions reach no outsider.
    async fn reacting_without_javascript_and_private_rooms(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Backroom", "private").await;
        let room = app.room_id(&slug).await;
        let message: MessageView = app.post(room, "Plans for Friday?").await.json().await.unwrap();
        let form = [("room", room.0.to_string()), ("id", message.id.to_string()), ("emoji", "🎉".to_owned()), ("on", "true".to_owned())];
        let post = |referer: String| {
            app.client
                .post(app.at("/api/react_to_message"))
                .header("origin", &app.origin)
                .header("referer", referer)
                .header("accept", "text/html")
                .form(&form)
                .send()
        };
        let response = post(app.at(&format!("/r/{slug}?before=9"))).await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()["location"], format!("/r/{slug}?before=9#m-{}", message.id).as_str());
        let response = post(app.at(&format!("/r/{slug}?__err=x&edit=y&before=9"))).await.unwrap();
        assert_eq!(response.headers()["location"], format!("/r/{slug}?before=9#m-{}", message.id).as_str(), "a passing error is not kept");
        let response = post("https://elsewhere.example/r/x".to_owned()).await.unwrap();
        assert_eq!(response.headers()["location"], format!("/r/{slug}#m-{}", message.id).as_str(), "not to another site");
        let page = fetch_page(&app.client, &app.at(&format!("/r/{slug}"))).await;
        assert!(page.html.contains(r#"aria-label="🎉 1: alice""#) && page.html.contains(r#"aria-pressed="true""#));

        // Outsiders: no room, no socket, no reacting.
        let bob = someone(&app, "bob").await;
        assert_eq!(react(&app, &bob, room, message.id, "🎉", "true").await.status(), StatusCode::NOT_FOUND);
        let mut socket = open_socket(&app.url, &app.origin, None).await;
        send_frame(&mut socket, &ClientFrame::Subscribe { room, after: None, reactions_after: Some(Seq(0)) }).await;
        assert_eq!(next_frame(&mut socket).await, ServerFrame::Denied(room));
        app.stop().await;
    }
}
