//! Rooms and messages over HTTP on both backends: creation, visibility,
//! invitations, posting (and its limits), history pages, edits, deletions,
//! unread counts.

mod common;

use common::{TestApp, browser, read_as, spawn_app};
use reqwest::{StatusCode, header};
use tchatche_core::{backend_tests, event::MessageView, testing::TestEnv};

const PASSWORD: &str = "correct horse battery staple";

async fn html(app: &TestApp, client: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let response = client.get(app.at(path)).header("accept", "text/html").send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A second person on the same server, signed up and signed in.
async fn person(app: &TestApp, username: &str) -> reqwest::Client {
    let (client, _) = browser();
    let response = client
        .post(app.at("/api/sign_up"))
        .header("origin", &app.origin)
        .header("accept", "application/json")
        .form(&[("username", username), ("display_name", username), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{:?}", response.text().await);
    client
}

async fn call(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(app.at(path)).header("origin", &app.origin).header("accept", "application/json").form(form).send().await.unwrap()
}

async fn message(response: reqwest::Response) -> MessageView {
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

backend_tests! {
    /// Rooms get unique slugs from their names; bad names are refused.
    async fn creating_rooms(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        assert_eq!(app.create_room("Café Crème", "public").await, "cafe-creme");
        assert_eq!(app.create_room("café crème!", "public").await, "cafe-creme-2");
        // A private room's slug tells nothing, and takes nothing from public rooms.
        let secret = app.create_room("Secret plans", "private").await;
        assert!(secret.starts_with("secret-plans-") && secret.len() == "secret-plans-".len() + 8, "{secret}");
        assert_eq!(app.create_room("Secret plans", "public").await, "secret-plans", "the private room is not revealed");
        for (name, description, visibility, field, error) in [
            ("", "", "public", "name", "Required"),
            (&"n".repeat(65), "", "public", "name", "TooLong"),
            ("ok", &"d".repeat(281), "public", "description", "TooLong"),
            ("ok", "", "secret", "visibility", "Malformed"),
        ] {
            let response = app.call("/api/create_room", &[("name", name), ("description", description), ("visibility", visibility)]).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            let body = response.text().await.unwrap();
            assert!(body.contains(&format!(r#""field":"{field}","error":"#)) && body.contains(error), "{body}");
        }
        let anonymous = call(&app, &browser().0, "/api/create_room", &[("name", "x"), ("description", ""), ("visibility", "public")]).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        app.stop().await;
    }

    /// Public rooms are listed and readable by anyone; private ones are a
    /// 404 to everyone outside, everywhere.
    async fn private_rooms_do_not_exist_for_outsiders(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let public = app.create_room("Town square", "public").await;
        let private = app.create_room("Back office", "private").await;
        let private_id = app.room_id(&private).await;
        app.post(private_id, "secret plans").await;

        let (_, home) = html(&app, &browser().0, "/").await;
        assert!(home.contains("Town square") && !home.contains("Back office"));
        let (status, page) = html(&app, &browser().0, &format!("/r/{public}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("sign-in-to-post"));

        let bob = person(&app, "bob").await;
        for client in [browser().0, bob.clone()] {
            let (status, page) = html(&app, &client, &format!("/r/{private}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            assert!(!page.contains("Back office") && !page.contains("secret plans"));
            for (path, form) in [
                ("/api/room_page", vec![("slug", private.as_str())]),
                ("/api/older_messages", vec![("room", &*private_id.0.to_string()), ("before", "100")]),
            ] {
                let response = read_as(&client, &app.at(path), &form).await;
                assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            }
            let post = call(&app, &client, "/api/post_message", &[("room", &private_id.0.to_string()), ("id", &uuid::Uuid::new_v4().to_string()), ("body", "hi")]).await;
            assert!(matches!(post.status(), StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED), "{}", post.status());
            let join = call(&app, &client, "/api/join_room", &[("slug", &private)]).await;
            assert!(matches!(join.status(), StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED));
        }
        // An unknown room and a private one answer the same.
        let (status, _) = html(&app, &bob, "/r/no-such-room").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app.stop().await;
    }

    /// Invitation links let people into a private room until revoked.
    async fn invitations(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let private = app.create_room("Club", "private").await;
        let room_id = app.room_id(&private).await;
        assert_eq!(app.call("/api/create_invite", &[("slug", &private)]).await.status(), StatusCode::OK);
        let invite = app.env.store.invites(room_id).await.unwrap().remove(0);

        let bob = person(&app, "bob").await;
        let forbidden = call(&app, &bob, "/api/create_invite", &[("slug", &private)]).await;
        assert_eq!(forbidden.status(), StatusCode::NOT_FOUND, "outsiders cannot even see the room");
        let accepted = call(&app, &bob, "/api/accept_invite", &[("token", &invite.token)]).await;
        assert_eq!(accepted.status(), StatusCode::OK);
        let (status, _) = html(&app, &bob, &format!("/r/{private}")).await;
        assert_eq!(status, StatusCode::OK);
        let member_invites = call(&app, &bob, "/api/create_invite", &[("slug", &private)]).await;
        assert_eq!(member_invites.status(), StatusCode::FORBIDDEN, "only the owner manages links");

        assert_eq!(app.call("/api/revoke_invite", &[("slug", &private), ("token", &invite.token)]).await.status(), StatusCode::OK);
        let carol = person(&app, "carol").await;
        assert_eq!(call(&app, &carol, "/api/accept_invite", &[("token", &invite.token)]).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(call(&app, &carol, "/api/accept_invite", &[("token", "forged-token")]).await.status(), StatusCode::NOT_FOUND);
        let (status, _) = html(&app, &carol, &format!("/r/{private}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app.stop().await;
    }

    /// Posting: members only; limits; control characters removed; HTML and
    /// javascript: links inert; a retried id stores one message.
    async fn posting_rules(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("General", "public").await;
        let room = app.room_id(&slug).await;

        let posted = message(app.post(room, "  hello\u{0007} **world** <script>alert(1)</script> [x](javascript:alert(1)) @alice ").await).await;
        assert_eq!(posted.body, "hello **world** <script>alert(1)</script> [x](javascript:alert(1)) @alice");
        assert!(posted.html.contains("<strong>world</strong>"));
        assert!(!posted.html.contains("<script") && !posted.html.contains("javascript:"), "{}", posted.html);
        assert_eq!(posted.mentions, ["alice"]);

        let id = uuid::Uuid::new_v4().to_string();
        let first = message(app.post_with_id(room, &id, "once").await).await;
        let again = message(app.post_with_id(room, &id, "once").await).await;
        assert_eq!((first.id, first.seq), (again.id, again.seq));

        for (body, error) in [("   ", "Required"), (&*"x".repeat(4001), "TooLong")] {
            let response = app.post(room, body).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            let text = response.text().await.unwrap();
            assert!(text.contains(error), "{text}");
            assert!(text.contains(r#"["body","#), "the text is kept: {text}");
        }
        let bad_id = app.post_with_id(room, "not-a-uuid", "hi").await;
        assert_eq!(bad_id.status(), StatusCode::BAD_REQUEST);

        let bob = person(&app, "bob").await;
        let outsider = call(&app, &bob, "/api/post_message", &[("room", &room.0.to_string()), ("id", &uuid::Uuid::new_v4().to_string()), ("body", "hi")]).await;
        assert_eq!(outsider.status(), StatusCode::FORBIDDEN, "join first");
        assert_eq!(call(&app, &bob, "/api/join_room", &[("slug", &slug)]).await.status(), StatusCode::OK);
        let member = call(&app, &bob, "/api/post_message", &[("room", &room.0.to_string()), ("id", &uuid::Uuid::new_v4().to_string()), ("body", "hi")]).await;
        assert_eq!(member.status(), StatusCode::OK);

        let history = tchatche_core::chat::history(&app.env.store, &app.env.bus, room, None).await.unwrap();
        assert_eq!(history.messages.len(), 3, "three messages, the retried one once");
        app.stop().await;
    }

    /// After a burst of 10, posting is limited to about one a second: 429
    /// with Retry-After, and the text comes back.
    async fn posting_is_rate_limited(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let room = app.room_id(&app.create_room("Fast", "public").await).await;
        for i in 0..10 {
            assert_eq!(app.post(room, &format!("m{i}")).await.status(), StatusCode::OK, "message {i}");
        }
        let limited = app.post(room, "one too many").await;
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(limited.headers().contains_key(header::RETRY_AFTER));
        let text = limited.text().await.unwrap();
        assert!(text.contains("TooFast") && text.contains("one too many"), "{text}");
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(app.post(room, "after a pause").await.status(), StatusCode::OK);
        app.stop().await;
    }

    /// Without JavaScript: the form posts, redirects back to the room, and
    /// the message is in the page; older messages by `?before=` links.
    async fn posting_and_paging_without_javascript(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Plain", "public").await;
        let room = app.room_id(&slug).await;
        let id = uuid::Uuid::new_v4().to_string();
        let response = app.post_form("/api/post_message", &[("room", &room.0.to_string()), ("id", &id), ("body", "no *script* here")]).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()[header::LOCATION], format!("/r/{slug}#latest").as_str());
        let (_, page) = html(&app, &app.client, &format!("/r/{slug}")).await;
        assert!(page.contains("no <em>script</em> here"));

        for i in 1..=119 {
            let mut message = tchatche_core::testing::draft(&app.env.store.room_by_slug(&slug).await.unwrap().unwrap(), &app.env.store.user_by_username("alice").await.unwrap().unwrap(), &format!("old {i}"));
            message.seq = tchatche_core::ids::Seq(1000 + i);
            message.version = message.seq;
            app.env.store.upsert_messages(&[message]).await.unwrap();
        }
        let (_, latest) = html(&app, &app.client, &format!("/r/{slug}")).await;
        let seqs = |page: &str| -> Vec<i64> {
            page.match_indices("data-seq=\"").map(|(at, _)| page[at + 10..].split('"').next().unwrap().parse().unwrap()).collect()
        };
        let newest = seqs(&latest);
        assert_eq!(newest.len(), 50);
        let older_link = format!("/r/{slug}?before={}", newest[0]);
        assert!(latest.contains(&older_link.replace('&', "&amp;")), "an older-messages link");
        let (_, older) = html(&app, &app.client, &older_link).await;
        let previous = seqs(&older);
        assert_eq!(previous.len(), 50);
        assert_eq!(previous.last().unwrap() + 1, newest[0], "no gap between pages");
        app.stop().await;
    }

    /// Edits keep the place and are marked; deletions leave a tombstone;
    /// only the author edits; moderators may delete anyone's message.
    async fn edits_and_deletions(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Edits", "public").await;
        let room = app.room_id(&slug).await;
        let posted = message(app.post(room, "tyop").await).await;
        let edit = app.call("/api/edit_message", &[("room", &room.0.to_string()), ("id", &posted.id.to_string()), ("body", "typo fixed")]).await;
        assert_eq!(edit.status(), StatusCode::OK);
        let too_long = app.call("/api/edit_message", &[("room", &room.0.to_string()), ("id", &posted.id.to_string()), ("body", &"x".repeat(4001))]).await;
        assert_eq!(too_long.status(), StatusCode::BAD_REQUEST);

        let bob = person(&app, "bob").await;
        call(&app, &bob, "/api/join_room", &[("slug", &slug)]).await;
        let theirs = call(&app, &bob, "/api/edit_message", &[("room", &room.0.to_string()), ("id", &posted.id.to_string()), ("body", "hijacked")]).await;
        assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
        let delete_theirs = call(&app, &bob, "/api/delete_message", &[("room", &room.0.to_string()), ("id", &posted.id.to_string())]).await;
        assert_eq!(delete_theirs.status(), StatusCode::NOT_FOUND);

        let current = tchatche_core::chat::find(&app.env.store, &app.env.bus, room, posted.id).await.unwrap();
        assert_eq!((current.body.as_str(), current.seq), ("typo fixed", posted.seq));
        assert!(current.edited_at.is_some() && current.version > posted.version);

        let bobs = message(call(&app, &bob, "/api/post_message", &[("room", &room.0.to_string()), ("id", &uuid::Uuid::new_v4().to_string()), ("body", "spam")]).await).await;
        let bob_user = app.env.store.user_by_username("bob").await.unwrap().unwrap();
        let alice_user = app.env.store.user_by_username("alice").await.unwrap().unwrap();
        app.env.store.set_role(alice_user.id, tchatche_core::user::Role::Moderator).await.unwrap();
        let viewer: serde_json::Value = read_as(&app.client, &app.at("/api/viewer"), &[]).await.json().await.unwrap();
        assert!(viewer.is_null(), "a change of role ends the account's sessions: {viewer}");
        let again = call(&app, &app.client, "/api/sign_in", &[("username", "alice"), ("password", PASSWORD)]).await;
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(app.call("/api/delete_message", &[("room", &room.0.to_string()), ("id", &bobs.id.to_string())]).await.status(), StatusCode::OK);
        let gone = tchatche_core::chat::find(&app.env.store, &app.env.bus, room, bobs.id).await.unwrap();
        assert!(gone.deleted && gone.body.is_empty() && gone.html.is_empty());
        assert_eq!(gone.author.map(|a| a.id), Some(bob_user.id), "a tombstone keeps its place and author");
        app.stop().await;
    }

    /// Unread counts per member, and mentions, in the room list.
    async fn unread_counts_and_mentions(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("News", "public").await;
        let room = app.room_id(&slug).await;
        let bob = person(&app, "bob").await;
        call(&app, &bob, "/api/join_room", &[("slug", &slug)]).await;
        for body in ["one", "two", "hey @bob look"] {
            message(app.post(room, body).await).await;
        }
        app.until_stored(room).await;
        let rooms: Vec<tchatche_core::room::MyRoom> = read_as(&bob, &app.at("/api/my_rooms"), &[]).await.json().await.unwrap();
        let news = rooms.iter().find(|r| r.slug == slug).unwrap();
        assert_eq!((news.unread, news.mentions), (3, 1));
        let mine: Vec<tchatche_core::room::MyRoom> = app.read("/api/my_rooms", &[]).await.json().await.unwrap();
        assert_eq!(mine[0].unread, 0, "one's own messages are read");

        // A link preview, a prefetch or another site's embed is no visit.
        html(&app, &bob, &format!("/r/{slug}")).await;
        let prefetched = bob
            .get(app.at(&format!("/r/{slug}")))
            .header("sec-fetch-site", "same-origin")
            .header("sec-fetch-dest", "document")
            .header("sec-purpose", "prefetch")
            .send()
            .await
            .unwrap();
        assert_eq!(prefetched.status(), StatusCode::OK);
        let rooms: Vec<tchatche_core::room::MyRoom> = read_as(&bob, &app.at("/api/my_rooms"), &[]).await.json().await.unwrap();
        assert_eq!((rooms[0].unread, rooms[0].mentions), (3, 1), "a GET that is not a visit reads nothing");

        let visit = bob
            .get(app.at(&format!("/r/{slug}")))
            .header("sec-fetch-site", "none")
            .header("sec-fetch-dest", "document")
            .send()
            .await
            .unwrap();
        assert_eq!(visit.status(), StatusCode::OK);
        let rooms: Vec<tchatche_core::room::MyRoom> = read_as(&bob, &app.at("/api/my_rooms"), &[]).await.json().await.unwrap();
        assert_eq!((rooms[0].unread, rooms[0].mentions), (0, 0), "viewing the latest page reads it");
        app.stop().await;
    }

    /// Owners edit and delete their rooms; nobody else does.
    async fn room_settings(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Old name", "public").await;
        let update = app.call("/api/update_room", &[("slug", &slug), ("name", "New name"), ("description", "About things"), ("visibility", "public")]).await;
        assert_eq!(update.status(), StatusCode::OK);
        let room = app.env.store.room_by_slug(&slug).await.unwrap().unwrap();
        assert_eq!((room.name.as_str(), room.description.as_str()), ("New name", "About things"));

        let bob = person(&app, "bob").await;
        let theirs = call(&app, &bob, "/api/update_room", &[("slug", &slug), ("name", "Mine now"), ("description", ""), ("visibility", "public")]).await;
        assert_eq!(theirs.status(), StatusCode::FORBIDDEN);
        let wrong_name = app.call("/api/delete_room", &[("slug", &slug), ("confirm", "Old name")]).await;
        assert_eq!(wrong_name.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app.call("/api/delete_room", &[("slug", &slug), ("confirm", "New name")]).await.status(), StatusCode::OK);
        assert!(app.env.store.room_by_slug(&slug).await.unwrap().is_none());
        app.stop().await;
    }
}
