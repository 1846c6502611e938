//! Direct conversations and blocks through the running app, on both
//! backends: starting one (and every refusal, with its field and reason,
//! creating nothing), who may read and write it, that it never reaches
//! visitors, outsiders, settings, invitations or the sitemap (search is
//! proven in core's `direct.rs`), and blocks
//! that stop a conversation from starting and silence a shared one, live.

mod common;

use common::{TestApp, browser, fetch_page, next_frame, open_socket, send_frame, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;
use tchatche_core::{
    backend_tests,
    event::{ClientFrame, ServerFrame},
    testing::TestEnv,
};

const PASSWORD: &str = "correct horse battery staple";

/// Someone signed up in a browser of their own.
async fn someone(app: &TestApp, username: &str) -> reqwest::Client {
    let (client, _) = browser();
    let form = [("username", username), ("display_name", username), ("password", PASSWORD)];
    let response = call(app, &client, "/api/sign_up", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    client
}

/// A server function called as `client` (the hydrated app's call).
async fn call(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(app.at(path)).header("origin", &app.origin).header("accept", "application/json").form(form).send().await.unwrap()
}

/// Starts a conversation as `client`; the slug it opened, or the status
/// and the refusal's reason for field `with`.
async fn start(app: &TestApp, client: &reqwest::Client, with: &str) -> Result<String, (StatusCode, String)> {
    let response = call(app, client, "/api/start_conversation", &[("with", with)]).await;
    match response.status() {
        StatusCode::OK => {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            Ok(location.trim_start_matches("/r/").trim_end_matches("#latest").to_owned())
        }
        status => {
            let body: Value = response.json().await.unwrap_or_default();
            let reason = body["Invalid"]["errors"][0]["error"].clone();
            let reason = reason.as_str().map(str::to_owned).unwrap_or_else(|| reason.to_string());
            Err((status, reason))
        }
    }
}

async fn post_as(app: &TestApp, client: &reqwest::Client, slug: &str, body: &str) -> StatusCode {
    let room = app.room_id(slug).await.0.to_string();
    let id = uuid::Uuid::now_v7().to_string();
    call(app, client, "/api/post_message", &[("room", &room), ("id", &id), ("body", body)]).await.status()
}

/// Alice (the app's client) and Bob share the public room Lobby; Carol
/// shares nothing.
async fn three_people(app: &TestApp) -> (reqwest::Client, reqwest::Client) {
    app.sign_up("alice", PASSWORD).await;
    let lobby = app.create_room("Lobby", "public").await;
    let bob = someone(app, "bob").await;
    assert_eq!(call(app, &bob, "/api/join_room", &[("slug", &lobby)]).await.status(), StatusCode::OK);
    let carol = someone(app, "carol").await;
    (bob, carol)
}

backend_tests! {
    /// People sharing a room start a conversation, from either side the same
    /// one; only they read it, it lists on /messages, and it has no
    /// settings, no invitations, no place in the sitemap. Each bad request
    /// is refused on the field `with` with its reason, and makes nothing.
    async fn conversations_start_among_people_who_share_a_room(env: TestEnv) {
        let app = spawn_app(env).await;
        let (bob, carol) = three_people(&app).await;

        let slug = start(&app, &app.client, "@bob").await.expect("started");
        assert!(slug.starts_with("dm-"), "{slug}");
        assert_eq!(start(&app, &bob, "alice").await, Ok(slug.clone()), "the same conversation from the other side");
        assert_eq!(post_as(&app, &bob, &slug, "Coffee later?").await, StatusCode::OK);
        app.until_stored(app.room_id(&slug).await).await;
        let listed = fetch_page(&app.client, &app.at("/messages")).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert!(listed.html.contains(&format!(r#"href="/r/{slug}#latest""#)), "listed on /messages");
        assert!(listed.html.contains(r#"data-testid="unread""#), "with its unread count");
        assert!(listed.html.contains(r#"<option value="bob">"#), "the picker suggests Bob");
        assert!(listed.html.contains(r#"<bdi class="truncate font-medium">bob</bdi>"#), "named after the other person");
        let page = fetch_page(&app.client, &app.at(&format!("/r/{slug}"))).await;
        assert!(page.html.contains("Coffee later?") && page.noindex());
        assert!(page.html.contains(r#"tracking-tight">bob</h1>"#), "titled for its reader, not \"alice, bob\"");

        // Nobody else reads it, and it has nothing a room's owner could open up.
        assert_eq!(fetch_page(&carol, &app.at(&format!("/r/{slug}"))).await.status, StatusCode::NOT_FOUND);
        assert_eq!(fetch_page(&browser().0, &app.at(&format!("/r/{slug}"))).await.status, StatusCode::NOT_FOUND);
        assert_eq!(post_as(&app, &carol, &slug, "let me in").await, StatusCode::NOT_FOUND);
        assert_eq!(fetch_page(&app.client, &app.at(&format!("/r/{slug}/settings"))).await.status, StatusCode::NOT_FOUND);
        let invite = call(&app, &app.client, "/api/create_invite", &[("slug", &slug)]).await;
        assert_eq!(invite.status(), StatusCode::NOT_FOUND, "{:?}", invite.text().await);
        let sitemap = app.client.get(app.at("/sitemap.xml")).send().await.unwrap().text().await.unwrap();
        assert!(!sitemap.contains(&slug));

        // Refused, each with its reason, creating nothing.
        let refused = |reason: &str| Err((StatusCode::BAD_REQUEST, reason.to_owned()));
        assert_eq!(start(&app, &app.client, "").await, refused("Required"));
        assert_eq!(start(&app, &app.client, "alice").await, refused("Required"), "oneself only");
        assert_eq!(start(&app, &app.client, "nobody_here").await, refused("NoSuchPerson"));
        assert_eq!(start(&app, &app.client, "b@d!").await, refused("NoSuchPerson"));
        assert_eq!(start(&app, &app.client, "carol").await, refused("Unreachable"), "no room in common");
        let crowd = (1..=8).map(|n| format!("user{n}")).collect::<Vec<_>>().join(" ");
        match start(&app, &app.client, &crowd).await {
            Err((StatusCode::BAD_REQUEST, reason)) => assert!(reason.contains("TooManyPeople"), "{reason}"),
            other => panic!("{other:?}"),
        }
        match start(&app, &app.client, &"bob ".repeat(101)).await {
            Err((StatusCode::BAD_REQUEST, reason)) => assert!(reason.contains("TooLong"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(start(&app, &browser().0, "bob").await.map_err(|(status, _)| status), Err(StatusCode::UNAUTHORIZED));
        let alice = app.env.store.user_by_username("alice").await.unwrap().unwrap();
        let direct = app.env.store.rooms_of(alice.id, "alice").await.unwrap().into_iter().filter(|room| room.direct).count();
        assert_eq!(direct, 1, "nothing else was made");
        app.stop().await;
    }

    /// Bob blocks Alice: she can no longer start a conversation with him,
    /// neither can write in the one they share (her open socket learns it at
    /// once), his settings list her and her profile offers to unblock;
    /// unblocking undoes it all. Bad requests are refused.
    async fn blocks_stop_and_silence_conversations(env: TestEnv) {
        let app = spawn_app(env).await;
        let (bob, _carol) = three_people(&app).await;
        let slug = start(&app, &app.client, "bob").await.unwrap();
        let room = app.room_id(&slug).await;
        let mut socket = open_socket(&app.url, &app.origin, app.cookie_header()).await;
        send_frame(&mut socket, &ClientFrame::Subscribe { room, after: None, reactions_after: None }).await;
        assert!(matches!(next_frame(&mut socket).await, ServerFrame::Subscribed { member: true, .. }));

        assert_eq!(call(&app, &bob, "/api/block_person", &[("username", "alice")]).await.status(), StatusCode::OK);
        loop {
            match next_frame(&mut socket).await {
                ServerFrame::Subscribed { member, .. } => {
                    assert!(!member, "no longer writes there");
                    break;
                }
                ServerFrame::Event(_) | ServerFrame::Pong => continue,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(post_as(&app, &app.client, &slug, "hello?").await, StatusCode::FORBIDDEN);
        assert_eq!(post_as(&app, &bob, &slug, "bye").await, StatusCode::FORBIDDEN, "the one who blocked neither");
        assert_eq!(start(&app, &app.client, "bob").await, Err((StatusCode::BAD_REQUEST, "Unreachable".to_owned())));
        let page = fetch_page(&app.client, &app.at(&format!("/r/{slug}"))).await;
        assert_eq!(page.status, StatusCode::OK, "still readable");
        assert!(page.html.contains(r#"data-testid="cannot-write""#) && !page.html.contains(r#"data-testid="composer""#));
        assert!(page.html.contains(r#"action="/api/leave_room""#), "they may still leave it");
        let settings = fetch_page(&bob, &app.at("/settings")).await;
        assert!(settings.html.contains(r#"data-testid="blocked-people""#) && settings.html.contains(r#"href="/u/alice""#));
        let profile = fetch_page(&bob, &app.at("/u/alice")).await;
        assert!(profile.html.contains(r#"data-testid="unblock-person""#) && !profile.html.contains(r#"data-testid="message-person""#));

        // Bad requests.
        let status = |response: reqwest::Response| response.status();
        assert_eq!(status(call(&app, &bob, "/api/block_person", &[("username", "nobody_here")]).await), StatusCode::BAD_REQUEST);
        assert_eq!(status(call(&app, &bob, "/api/block_person", &[("username", "bob")]).await), StatusCode::BAD_REQUEST, "oneself");
        assert_eq!(status(call(&app, &browser().0, "/api/block_person", &[("username", "bob")]).await), StatusCode::UNAUTHORIZED);

        assert_eq!(call(&app, &bob, "/api/unblock_person", &[("username", "alice")]).await.status(), StatusCode::OK);
        assert_eq!(post_as(&app, &app.client, &slug, "hello again").await, StatusCode::OK);
        assert!(fetch_page(&bob, &app.at("/settings")).await.html.contains(r#"data-testid="blocked-none""#));

        // Throttled: a burst of blocks and unblocks ends in 429.
        let mut statuses = Vec::new();
        for n in 0..30 {
            let path = if n % 2 == 0 { "/api/block_person" } else { "/api/unblock_person" };
            statuses.push(call(&app, &bob, path, &[("username", "carol")]).await.status());
        }
        assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");

        // Silenced by her own block, Alice still leaves the conversation.
        assert_eq!(call(&app, &app.client, "/api/block_person", &[("username", "bob")]).await.status(), StatusCode::OK);
        assert_eq!(call(&app, &app.client, "/api/leave_room", &[("slug", &slug)]).await.status(), StatusCode::OK);
        assert_eq!(fetch_page(&app.client, &app.at(&format!("/r/{slug}"))).await.status, StatusCode::NOT_FOUND);
        app.stop().await;
    }
}
