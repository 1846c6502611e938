//! Replies and threads through the running app, on both backends: replying
//! (and every way a reply can be refused), thread pages for people and for
//! search engines (title, canonical address, structured data, quality bar,
//! sitemap, 410 once deleted), and replying without JavaScript.

mod common;

use common::{TestApp, browser, fetch_page, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;
use tchatche_core::{backend_tests, event::MessageView, ids::RoomId, testing::TestEnv};

const PASSWORD: &str = "correct horse battery staple";
/// Long enough that a few messages make a thread worth indexing.
const LONG: &str = "A reply with enough words in it to be worth reading later, for anyone who has the same question.";

/// Posts as `client` (the hydrated app's call), answering `reply_to` if set.
async fn post(app: &TestApp, client: &reqwest::Client, room: RoomId, body: &str, reply_to: Option<&str>) -> reqwest::Response {
    let id = uuid::Uuid::new_v4().to_string();
    let room = room.0.to_string();
    let mut form = vec![("room", room.as_str()), ("id", id.as_str()), ("body", body)];
    if let Some(reply_to) = reply_to {
        form.push(("reply_to", reply_to));
    }
    client.post(app.at("/api/post_message")).header("origin", &app.origin).header("accept", "application/json").form(&form).send().await.unwrap()
}

async fn posted(app: &TestApp, client: &reqwest::Client, room: RoomId, body: &str, reply_to: Option<&str>) -> MessageView {
    let response = post(app, client, room, body, reply_to).await;
    assert_eq!(response.status(), StatusCode::OK, "posting {body:?}");
    response.json().await.unwrap()
}

/// Signs a second person up in a browser of their own and joins `slug`.
async fn member(app: &TestApp, username: &str, slug: &str) -> reqwest::Client {
    let (client, _) = browser();
    let form = [("username", username), ("display_name", username), ("password", PASSWORD)];
    let call = |path: &'static str, form: Vec<(&'static str, String)>| {
        client.post(app.at(path)).header("origin", &app.origin).header("accept", "application/json").form(&form).send()
    };
    let signed_up = call("/api/sign_up", form.iter().map(|(k, v)| (*k, v.to_string())).collect()).await.unwrap();
    assert_eq!(signed_up.status(), StatusCode::OK);
    let joined = call("/api/join_room", vec![("slug", slug.to_owned())]).await.unwrap();
    assert_eq!(joined.status(), StatusCode::OK);
    client
}

/// Waits until the worker stored everything accepted in `room` (with
/// Redis, a post is answered once it is durable in the queue).
async fn settled(app: &TestApp, room: RoomId) {
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !app.env.bus.pending_messages(room).await.unwrap().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the worker stores the room's messages");
}

/// The field error a refused post names.
async fn refusal(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (status, body["Invalid"]["errors"][0].clone())
}

backend_tests! {
    /// A reply quotes what it answers and lands in its thread (answering a
    /// reply stays in the same thread); the room shows the thread's count.
    /// A reply to nothing, to a deleted message or to another room's is
    /// refused with a reason, and stores nothing.
    async fn replies_and_their_refusals(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Help desk", "public").await;
        let other = app.create_room("Elsewhere", "public").await;
        let (room, other) = (app.room_id(&slug).await, app.room_id(&other).await);
        let bob = member(&app, "bob", &slug).await;

        let root = posted(&app, &app.client, room, "How do I reset my password?", None).await;
        let answer = posted(&app, &bob, room, "From the settings page", Some(&root.id.to_string())).await;
        let follow_up = posted(&app, &app.client, room, "Thanks!", Some(&answer.id.to_string())).await;
        let quote = answer.threading.reply_to.as_ref().expect("a quote");
        assert_eq!((quote.id, quote.excerpt.as_str(), answer.threading.root), (root.id, "How do I reset my password?", Some(root.id)));
        assert_eq!(follow_up.threading.root, Some(root.id), "answering a reply stays in the thread");
        assert_eq!(follow_up.threading.reply_to.as_ref().map(|q| q.author.as_deref()), Some(Some("bob")));
        settled(&app, room).await;

        let room_page = fetch_page(&app.client, &app.at(&format!("/r/{slug}"))).await;
        assert!(room_page.html.contains(&format!(r#"href="/r/{slug}/t/{}""#, root.id)), "the room links the thread");
        assert!(room_page.html.contains("2 replies"));
        assert!(room_page.html.contains(r#"data-testid="quote""#));
        let thread = fetch_page(&bob, &app.at(&format!("/r/{slug}/t/{}", root.id))).await;
        assert_eq!(thread.status, StatusCode::OK);
        for message in [&root, &answer, &follow_up] {
            assert!(thread.html.contains(&format!(r#"id="m-{}""#, message.id)));
        }
        assert!(thread.html.contains(&format!(r#"name="reply_to" value="{}""#, root.id)), "the composer answers the thread");
        let answering = fetch_page(&bob, &app.at(&format!("/r/{slug}/t/{}?reply={}", root.id, answer.id))).await;
        assert!(answering.html.contains(&format!(r#"name="reply_to" value="{}""#, answer.id)));
        assert!(answering.html.contains(r#"data-testid="answering""#));

        let elsewhere = posted(&app, &app.client, other, "In another room", None).await;
        let last_seq = app.env.store.room_last_seq(room).await.unwrap();
        let deleted = app.call("/api/delete_message", &[("room", &room.0.to_string()), ("id", &follow_up.id.to_string())]).await;
        assert_eq!(deleted.status(), StatusCode::OK);
        settled(&app, room).await;
        let cases = [
            ("not an id", "Malformed"),
            ("00000000-0000-0000-0000-000000000042", "Gone"),
            (&elsewhere.id.to_string()[..], "Gone"),
            (&follow_up.id.to_string()[..], "Gone"),
        ];
        for (reply_to, why) in cases {
            let (status, error) = refusal(post(&app, &bob, room, "hello?", Some(reply_to)).await).await;
            assert_eq!((status, error["field"].as_str(), error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("reply_to"), Some(why)), "{reply_to}");
        }
        assert_eq!(app.env.store.room_last_seq(room).await.unwrap().0, last_seq.0 + 1, "only the deletion was stored");
        assert_eq!(app.env.store.thread(root.id).await.unwrap().unwrap().replies, 1);
        app.stop().await;
    }

    /// In a room search engines may index, a thread worth reading is a page
    /// of its own: title, description and canonical address from its
    /// messages, structured data describing what the page shows (checked
    /// property by property), and a sitemap entry whose lastmod follows
    /// edits. A thin thread is `noindex`; a deleted one answers 410 and
    /// leaves the sitemap; ids that are no thread are 404.
    async fn threads_for_search_engines(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Open forum", "public").await;
        let saved = app
            .call("/api/update_room", &[("slug", &slug), ("name", "Open forum"), ("description", "Questions"), ("visibility", "public"), ("indexable", "on")])
            .await;
        assert_eq!(saved.status(), StatusCode::OK);
        let room = app.room_id(&slug).await;
        let bob = member(&app, "bob", &slug).await;

        let root = posted(&app, &app.client, room, &format!("Why is the sky blue? {LONG}"), None).await;
        let root_id = root.id.to_string();
        let first = posted(&app, &bob, room, &format!("Rayleigh scattering. {LONG}"), Some(&root_id)).await;
        let second = posted(&app, &app.client, room, &format!("Thanks. {LONG}"), Some(&root_id)).await;
        let third = posted(&app, &bob, room, &format!("And sunsets are red for the same reason. {LONG}"), Some(&root_id)).await;
        let thin = posted(&app, &app.client, room, "Anyone here?", None).await;
        posted(&app, &bob, room, "Yes", Some(&thin.id.to_string())).await;
        settled(&app, room).await;
        for (client, message, emoji) in [(&app.client, &root, "👍"), (&bob, &root, "👍"), (&bob, &root, "🎉"), (&app.client, &first, "🙏")] {
            let form = [("room", room.0.to_string()), ("id", message.id.to_string()), ("emoji", emoji.to_owned()), ("on", "true".to_owned())];
            let reacted = client.post(app.at("/api/react_to_message")).header("origin", &app.origin).header("accept", "application/json").form(&form).send().await.unwrap();
            assert_eq!(reacted.status(), StatusCode::OK);
        }

        let visitor = browser().0;
        let url = app.at(&format!("/r/{slug}/t/{root_id}"));
        let canonical = format!("{}/r/{slug}/t/{root_id}", app.origin);
        let page = fetch_page(&visitor, &url).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.indexable(), "{}", page.robots_header());
        assert!(page.html.contains(&format!(r#"<link href="{canonical}" rel="canonical""#)));
        assert!(page.html.contains("<title>Why is the sky blue? A reply with enough words in it to be worth… · Open forum · tchatche</title>"));
        assert!(page.html.contains(r#"<meta name="description" content="Why is the sky blue?"#));

        let data = page.structured_data();
        assert_eq!(data["@type"], "DiscussionForumPosting");
        assert_eq!((data["url"].as_str(), data["@id"].as_str()), (Some(canonical.as_str()), Some(canonical.as_str())));
        assert_eq!(data["headline"], "Why is the sky blue? A reply with enough words in it to be worth…");
        assert_eq!(data["text"], root.body.as_str());
        assert_eq!(data["author"]["name"], "alice");
        assert_eq!(data["author"]["url"], format!("{}/u/alice", app.origin).as_str());
        assert_eq!(data["datePublished"], root.created_at.to_rfc3339().as_str());
        assert!(data.get("dateModified").is_none(), "not edited yet");
        assert_eq!(data["isPartOf"]["url"], format!("{}/r/{slug}", app.origin).as_str());
        assert_eq!(data["isPartOf"]["name"], "Open forum");
        assert_eq!(data["interactionStatistic"][0]["interactionType"], "https://schema.org/CommentAction");
        assert_eq!(data["interactionStatistic"][0]["userInteractionCount"], 3);
        assert_eq!(data["interactionStatistic"][1]["interactionType"], "https://schema.org/LikeAction", "reactions");
        assert_eq!(data["interactionStatistic"][1]["userInteractionCount"], 3);
        let comments = data["comment"].as_array().unwrap();
        assert_eq!(comments[0]["interactionStatistic"][0]["userInteractionCount"], 1, "a reply's reactions");
        assert!(comments[1].get("interactionStatistic").is_none(), "none without reactions");
        assert_eq!(comments.len(), 3);
        for (comment, reply) in comments.iter().zip([&first, &second, &third]) {
            assert_eq!(comment["@type"], "Comment");
            assert_eq!(comment["url"], format!("{canonical}#m-{}", reply.id).as_str());
            assert_eq!(comment["text"], reply.body.as_str());
            assert_eq!(comment["datePublished"], reply.created_at.to_rfc3339().as_str());
            assert!(comment["author"]["name"].is_string());
        }

        // The sitemap lists the thread worth indexing, not the thin one.
        let sitemap = visitor.get(app.at("/sitemaps/1.xml")).send().await.unwrap().text().await.unwrap();
        assert!(sitemap.contains(&format!("<loc>{canonical}</loc>")));
        assert!(!sitemap.contains(&thin.id.to_string()));
        let thin_page = fetch_page(&visitor, &app.at(&format!("/r/{slug}/t/{}", thin.id))).await;
        assert_eq!(thin_page.status, StatusCode::OK);
        assert!(!thin_page.indexable(), "below the quality bar");

        // Edits and deletions show in the structured data and move lastmod.
        let lastmod = |pages: Vec<tchatche_core::store::IndexablePage>| {
            pages.into_iter().find(|p| p.thread == Some(root.id)).map(|p| p.last_activity_at)
        };
        let before_edit = lastmod(app.env.store.indexable_pages().await.unwrap()).expect("listed");
        let room_field = room.0.to_string();
        let edited = app.call("/api/edit_message", &[("room", &room_field), ("id", &root_id), ("body", &format!("Why is the sky blue, really? {LONG}"))]).await;
        assert_eq!(edited.status(), StatusCode::OK);
        let deleted = bob
            .post(app.at("/api/delete_message"))
            .header("origin", &app.origin)
            .header("accept", "application/json")
            .form(&[("room", room_field.as_str()), ("id", &first.id.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), StatusCode::OK);
        settled(&app, room).await;
        let after = lastmod(app.env.store.indexable_pages().await.unwrap()).expect("still listed");
        assert!(after > before_edit, "lastmod follows edits and deletions");
        let data = fetch_page(&visitor, &url).await.structured_data();
        assert!(data["dateModified"].is_string());
        assert_eq!(data["comment"][0]["creativeWorkStatus"], "Deleted");
        assert!(data["comment"][0].get("text").is_none(), "a deleted reply's words are gone");
        assert_eq!(data["interactionStatistic"][0]["userInteractionCount"], 2);

        // Deleting the first message deletes the thread.
        let gone = app.call("/api/delete_message", &[("room", &room_field), ("id", &root_id)]).await;
        assert_eq!(gone.status(), StatusCode::OK);
        settled(&app, room).await;
        assert_eq!(fetch_page(&visitor, &url).await.status, StatusCode::GONE);
        assert_eq!(lastmod(app.env.store.indexable_pages().await.unwrap()), None);

        for path in [format!("/r/{slug}/t/not-an-id"), format!("/r/{slug}/t/{}", uuid::Uuid::new_v4()), format!("/r/{slug}/t/{}", second.id)] {
            assert_eq!(fetch_page(&visitor, &app.at(&path)).await.status, StatusCode::NOT_FOUND, "{path}");
        }
        app.stop().await;
    }

    /// Someone who keeps their messages off search engines: signed-out
    /// readers (crawlers among them) of an indexable room get their
    /// messages without the words, on every page, in the structured data,
    /// in quotes and over the socket; a thread they started is `noindex`.
    /// Members read everything; a bad value of the setting is refused.
    async fn words_kept_off_search_engines(env: TestEnv) {
        use tchatche_core::event::{ClientFrame, RoomEvent, ServerFrame};

        use common::{next_frame, open_socket, send_frame};
        const SECRET: &str = "A question about the pelican";
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Open forum", "public").await;
        let saved = app.call("/api/update_room", &[("slug", &slug), ("name", "Open forum"), ("description", ""), ("visibility", "public"), ("indexable", "on")]).await;
        assert_eq!(saved.status(), StatusCode::OK);
        let room = app.room_id(&slug).await;
        let bob = member(&app, "bob", &slug).await;
        let setting = |value: &'static str| {
            bob.post(app.at("/api/save_search_visibility")).header("origin", &app.origin).header("accept", "application/json").form(&[("hidden", value)]).send()
        };
        assert_eq!(setting("maybe").await.unwrap().status(), StatusCode::BAD_REQUEST);
        assert_eq!(setting("on").await.unwrap().status(), StatusCode::OK);

        let root = posted(&app, &bob, room, &format!("{SECRET}? {LONG}"), None).await;
        let root_id = root.id.to_string();
        for i in 0..3 {
            posted(&app, &app.client, room, &format!("Answer {i}. {LONG}"), Some(&root_id)).await;
        }
        settled(&app, room).await;
        let visitor = browser().0;
        let thread_url = app.at(&format!("/r/{slug}/t/{root_id}"));
        for url in [app.at(&format!("/r/{slug}")), thread_url.clone()] {
            let page = fetch_page(&visitor, &url).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(!page.html.contains("pelican"), "{url}: the words are left out, props included");
            assert!(page.html.contains("Its author keeps their words off search engines."), "{url}");
            assert!(page.html.contains(r#"data-testid="concealed""#), "{url}");
        }
        let thread = fetch_page(&visitor, &thread_url).await;
        assert!(!thread.indexable(), "a thread named after hidden words is not for search engines");
        assert!(thread.html.contains("<title>A conversation · Open forum · tchatche</title>"));
        let in_sitemap = || async { app.env.store.indexable_pages().await.unwrap().iter().any(|p| p.thread == Some(root.id)) };
        assert!(!in_sitemap().await, "nor is it in the sitemap");
        let room_data = fetch_page(&visitor, &app.at(&format!("/r/{slug}"))).await.structured_data();
        assert_eq!(room_data["comment"].as_array().unwrap().len(), 3, "only the others' messages");
        let members_view = fetch_page(&bob, &thread_url).await;
        assert!(members_view.html.contains(SECRET) && !members_view.html.contains(r#"data-testid="concealed""#));
        assert!(fetch_page(&app.client, &thread_url).await.html.contains(SECRET), "any signed-in reader");

        // Live: a signed-out socket gets the message without its words.
        let mut socket = open_socket(&app.url, &app.origin, None).await;
        send_frame(&mut socket, &ClientFrame::Subscribe { room, after: None, reactions_after: None }).await;
        assert!(matches!(next_frame(&mut socket).await, ServerFrame::Subscribed { member: false, .. }));
        posted(&app, &bob, room, "pelican, live", None).await;
        match next_frame(&mut socket).await {
            ServerFrame::Event(RoomEvent::Message(message)) => {
                assert!(message.is_concealed() && message.html.is_empty(), "{message:?}");
                assert_eq!(message.author.map(|a| a.username).as_deref(), Some("bob"));
            }
            other => panic!("{other:?}"),
        }
        // The owner closes the room to search engines: the open socket follows.
        let closed = app.call("/api/update_room", &[("slug", &slug), ("name", "Open forum"), ("description", ""), ("visibility", "public")]).await;
        assert_eq!(closed.status(), StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await; // the change reaches the socket
        posted(&app, &bob, room, "pelican, unindexed", None).await;
        match next_frame(&mut socket).await {
            ServerFrame::Event(RoomEvent::Message(message)) => assert_eq!(message.body, "pelican, unindexed"),
            other => panic!("{other:?}"),
        }
        let reopened = app.call("/api/update_room", &[("slug", &slug), ("name", "Open forum"), ("description", ""), ("visibility", "public"), ("indexable", "on")]).await;
        assert_eq!(reopened.status(), StatusCode::OK);

        // The setting off again: the words are back, old ones included.
        let off = bob.post(app.at("/api/save_search_visibility")).header("origin", &app.origin).header("accept", "application/json").form::<[(&str, &str); 0]>(&[]).send().await.unwrap();
        assert_eq!(off.status(), StatusCode::OK);
        settled(&app, room).await;
        let page = fetch_page(&visitor, &thread_url).await;
        assert!(page.html.contains(SECRET) && page.indexable());
        assert!(in_sitemap().await);
        app.stop().await;
    }

    /// Without JavaScript a reply is a plain form post that lands on its
    /// thread; a thread of a private room does not exist to outsiders.
    async fn replying_without_javascript(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Backroom", "private").await;
        let room = app.room_id(&slug).await;
        let root = posted(&app, &app.client, room, "Plans for Friday?", None).await;
        let id = uuid::Uuid::new_v4().to_string();
        let form = [("room", room.0.to_string()), ("id", id.clone()), ("body", "Pizza".to_owned()), ("reply_to", root.id.to_string())];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = app.post_form("/api/post_message", &form).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()["location"], format!("/r/{slug}/t/{}#m-{id}", root.id).as_str());
        settled(&app, room).await;
        let thread = fetch_page(&app.client, &app.at(&format!("/r/{slug}/t/{}", root.id))).await;
        assert!(thread.html.contains("Pizza"));
        assert_eq!(fetch_page(&browser().0, &app.at(&format!("/r/{slug}/t/{}", root.id))).await.status, StatusCode::NOT_FOUND);
        app.stop().await;
    }
}
