//! Public rooms for anonymous readers and search engines, on both backends:
//! the directory's search, order and pages; `noindex` wherever a page is
//! not meant for search results; the indexable flag; canonical addresses,
//! social tags and JSON-LD; the archive's day pages and their caching; the
//! sitemaps (split at 50,000 addresses) and `robots.txt`; and a private room
//! staying invisible through all of them.

mod common;

use common::{Page, TestApp, browser, fetch_page, read_as, spawn_app};
use reqwest::StatusCode;
use tchatche_core::{
    backend_tests,
    event::{Author, MessageView},
    ids::{MessageId, RoomId, Seq, UnixMillis, UtcDay},
    store::{NewRoom, Store, Visibility},
    testing::TestEnv,
};

const PASSWORD: &str = "correct horse battery staple";
const DAY_MS: i64 = 86_400_000;

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> Page {
    fetch_page(client, &app.at(path)).await
}

/// The script nonce of a page.
fn nonce(html: &str) -> &str {
    let (_, rest) = html.split_once(r#"nonce=""#).expect("the page has a nonce");
    rest.split_once('"').unwrap().0
}

/// Signs a new person up in a browser of their own.
async fn person(app: &TestApp, username: &str) -> reqwest::Client {
    let (client, _) = browser();
    let response = call(app, &client, "/api/sign_up", &[("username", username), ("display_name", username), ("password", PASSWORD)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    client
}

async fn call(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(app.at(path)).header("origin", &app.origin).header("accept", "application/json").form(form).send().await.unwrap()
}

/// Saves a room's settings as its owner (the app's own client).
async fn set_room(app: &TestApp, slug: &str, name: &str, visibility: &str, indexable: Option<&str>) -> reqwest::Response {
    let mut form = vec![("slug", slug), ("name", name), ("description", "A friendly place"), ("visibility", visibility)];
    if let Some(value) = indexable {
        form.push(("indexable", value));
    }
    app.call("/api/update_room", &form).await
}

/// Stores messages written `days_ago` (one each), as the worker would:
/// archive days are about the past, which posting cannot create.
async fn write_past(store: &Store, room: RoomId, author: &str, days_ago: &[i64]) -> Vec<MessageView> {
    let user = store.user_by_username(author).await.unwrap().unwrap();
    let author = Author::from(&user);
    let first = store.room_last_seq(room).await.unwrap().0 + 1;
    let now = UnixMillis::now().0;
    let messages: Vec<MessageView> = days_ago
        .iter()
        .enumerate()
        .map(|(i, days)| {
            let seq = Seq(first + i as i64);
            MessageView {
                id: MessageId(uuid::Uuid::now_v7()),
                room_id: room,
                seq,
                version: seq,
                author: Some(author.clone()),
                body: format!("said {days} days ago (#{i}). {FILLER}"),
                html: format!("<p>said {days} days ago (#{i}). {FILLER}</p>"),
                mentions: vec![],
                created_at: UnixMillis(now - days * DAY_MS),
                edited_at: None,
                deleted: false,
                lang: None,
                translation: None,
                threading: Default::default(),
                reactions: Default::default(),
            }
        })
        .collect();
    store.upsert_messages(&messages).await.unwrap();
    messages
}

/// Words enough that three messages from two people make an archive day
/// worth indexing (`IndexQuality`).
const FILLER: &str = "Here is a longer thought, so that the conversation is worth reading for someone else.";

fn day_ago(days: i64) -> String {
    UtcDay::of(UnixMillis(UnixMillis::now().0 - days * DAY_MS)).to_string()
}

/// A public room of alice's, named `name`, where she posted "first words".
async fn room_with_first_words(env: TestEnv, name: &str) -> (TestApp, String, RoomId) {
    let app = spawn_app(env).await;
    app.sign_up("alice", PASSWORD).await;
    let slug = app.create_room(name, "public").await;
    let room = app.room_id(&slug).await;
    assert_eq!(app.post(room, "first words").await.status(), StatusCode::OK);
    (app, slug, room)
}

/// The props the server gave an island named `name` on a page.
fn island_props(html: &str, name: &str) -> String {
    let (_, rest) = html.split_once(&format!(r#"data-component="{name}"#)).unwrap_or_else(|| panic!("no {name} island"));
    let (_, props) = rest.split_once(r#"data-props=""#).expect("the island has props");
    props.split_once('"').unwrap().0.replace("&quot;", "\"")
}

/// Rooms listed on a directory page, in order (by their links).
fn listed(html: &str) -> Vec<String> {
    html.match_indices("#latest\"").map(|(end, _)| {
        let start = html[..end].rfind("/r/").unwrap() + 3;
        html[start..end].to_owned()
    }).collect()
}

backend_tests! {
    /// Anyone can search the directory, order it by name or activity and
    /// page through it with links; `%` and `_` are plain characters; bad
    /// parameters get a 400 and a translated message; private rooms never
    /// show up.
    async fn directory_search_order_and_pages(env: TestEnv) {
        let owner = env.user("owner").await;
        for n in (1..=30).rev() {
            let new = NewRoom { slug: format!("room-{n:02}"), name: format!("Room {n:02}"), description: String::new(), visibility: Visibility::Public, owner_id: owner.id };
            env.store.create_room(&new).await.unwrap();
        }
        for (slug, name, visibility) in [("zebra", "Zebra talk", Visibility::Public), ("pct", "100% pure_fun", Visibility::Public), ("zebra-secret", "Zebra secrets", Visibility::Private)] {
            let new = NewRoom { slug: slug.into(), name: name.into(), description: String::new(), visibility, owner_id: owner.id };
            env.store.create_room(&new).await.unwrap();
        }
        let app = spawn_app(env).await;
        let visitor = browser().0;

        let first = get(&app, &visitor, "/").await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(listed(&first.html).len(), 24);
        assert!(first.html.contains(r#"href="/?page=2""#) && !first.html.contains(r#"rel="prev""#));
        assert!(first.indexable());
        assert!(first.html.contains(&format!(r#"<link href="{}/" rel="canonical""#, app.origin)));
        let second = get(&app, &visitor, "/?page=2").await;
        assert_eq!(listed(&second.html).len(), 8, "32 public rooms in all");
        assert!(second.html.contains(r#"href="/""#) && second.html.contains(r#"rel="prev""#) && !second.html.contains(r#"rel="next""#));
        let everyone: Vec<String> = listed(&first.html).into_iter().chain(listed(&second.html)).collect();
        assert!(!everyone.contains(&"zebra-secret".to_owned()));

        let by_name = get(&app, &visitor, "/?sort=name").await;
        let names = listed(&by_name.html);
        assert_eq!(names[..3], ["pct", "room-01", "room-02"]);
        assert!(by_name.html.contains(r#"href="/?sort=name&amp;page=2""#), "pages keep the order");
        assert!(by_name.noindex(), "another order of the same rooms is not for search engines");

        let search = get(&app, &visitor, "/?q=ZEBRA").await;
        assert_eq!(listed(&search.html), ["zebra"]);
        assert!(search.noindex());
        assert_eq!(listed(&get(&app, &visitor, "/?q=%25").await.html), ["pct"]);
        assert_eq!(listed(&get(&app, &visitor, "/?q=e_f").await.html), ["pct"]);
        assert!(listed(&get(&app, &visitor, "/?q=r_o").await.html).is_empty(), "_ is no wildcard");
        let nothing = get(&app, &visitor, "/?q=nothing+like+this").await;
        assert!(nothing.html.contains("directory-empty"));

        for bad in [format!("/?q={}", "x".repeat(65)), "/?sort=size".into(), "/?page=0".into(), "/?page=two".into(), "/?page=1001".into()] {
            let page = get(&app, &visitor, &bad).await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(page.html.contains("directory-error"), "{bad}");
            assert!(page.noindex(), "{bad}");
        }
        let french = visitor.get(app.at(&format!("/?q={}", "x".repeat(65)))).header("accept-language", "fr").send().await.unwrap();
        let french = french.text().await.unwrap();
        assert!(french.contains("Utilisez au plus") && french.contains("caractères"), "the message in the reader's language");
        app.stop().await;
    }

    /// Only the owner (or an admin) opens a room to search engines; a
    /// private room never is, whatever the form says.
    async fn indexable_flag(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Garden", "public").await;
        let room = |app: &TestApp| { let slug = slug.clone(); let store = app.env.store.clone(); async move { store.room_by_slug(&slug).await.unwrap().unwrap() } };
        assert!(!room(&app).await.indexable, "off by default");
        let page = get(&app, &browser().0, &format!("/r/{slug}")).await;
        assert!(page.noindex());
        assert!(!page.html.contains(r#"data-testid="room-indexed""#), "the page says nothing of search engines");
        assert!(page.html.contains(&format!(r#"href="/search?room={slug}""#)), "the room can be searched");

        assert_eq!(set_room(&app, &slug, "Garden", "public", Some("on")).await.status(), StatusCode::OK);
        assert!(room(&app).await.indexable);
        let page = get(&app, &browser().0, &format!("/r/{slug}")).await;
        assert!(page.indexable());
        assert!(page.html.contains(r#"data-testid="room-indexed">Visible to search engines<"#), "the page says so");

        let bad = set_room(&app, &slug, "Garden", "public", Some("maybe")).await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        assert!(bad.text().await.unwrap().contains(r#""field":"indexable""#));
        assert!(room(&app).await.indexable, "a refused form changes nothing");

        let bob = person(&app, "bob").await;
        let theirs = call(&app, &bob, "/api/update_room", &[("slug", &slug), ("name", "Garden"), ("description", ""), ("visibility", "public")]).await;
        assert_eq!(theirs.status(), StatusCode::FORBIDDEN);
        assert!(room(&app).await.indexable);

        assert_eq!(set_room(&app, &slug, "Garden", "private", Some("on")).await.status(), StatusCode::OK);
        assert!(!room(&app).await.indexable, "private rooms are never indexable");
        assert_eq!(set_room(&app, &slug, "Garden", "public", None).await.status(), StatusCode::OK);
        assert!(!room(&app).await.indexable, "an unticked box turns it off");
        app.stop().await;
    }

    /// Visitors of a public room share one render a second, each with a
    /// nonce of its own; signed-in people and other languages get their own
    /// page; a write through this server shows at once, one through another
    /// process (here: straight into the store) within a second.
    async fn visitors_share_fresh_pages(env: TestEnv) {
        let (app, slug, room) = room_with_first_words(env, "Reading room").await;
        let path = format!("/r/{slug}");

        let visitor = browser().0;
        let (first, second) = (get(&app, &visitor, &path).await, get(&app, &visitor, &path).await);
        assert_eq!(first.header("cache-control"), "public, no-cache");
        assert!(first.html.contains("first words") && first.html.contains(r#"data-testid="sign-in-to-post""#));
        assert_eq!(first.html.replace(nonce(&first.html), ""), second.html.replace(nonce(&second.html), ""));
        assert_ne!(nonce(&first.html), nonce(&second.html), "a nonce is never given twice");
        let etag = first.header("etag");
        assert!(!etag.is_empty());
        let again = visitor.get(app.at(&path)).header("if-none-match", etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        // The browser keeps its copy's policy, which names its scripts' nonce.
        assert!(!again.headers().contains_key("content-security-policy"), "a 304 must not replace the stored policy");

        let french = visitor.get(app.at(&path)).header("accept-language", "fr").send().await.unwrap();
        assert!(french.text().await.unwrap().contains("Connectez-vous pour écrire dans ce salon."));
        let owners = get(&app, &app.client, &path).await;
        assert_eq!(owners.header("cache-control"), "private, no-cache");
        assert!(owners.html.contains(r#"data-testid="composer""#) && !owners.html.contains("sign-in-to-post"));

        assert_eq!(app.post(room, "second words").await.status(), StatusCode::OK);
        assert!(get(&app, &visitor, &path).await.html.contains("second words"), "a post shows at once");
        // Stored by the worker first, so that the next seq is free.
        app.until_stored(room).await;
        let elsewhere = write_past(&app.env.store, room, "alice", &[0]).await;
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        assert!(get(&app, &visitor, &path).await.html.contains(&elsewhere[0].body), "another process's write shows within a second");

        assert_eq!(set_room(&app, &slug, "Reading room", "private", None).await.status(), StatusCode::OK);
        assert_eq!(get(&app, &visitor, &path).await.status, StatusCode::NOT_FOUND, "made private: gone at once");
        app.stop().await;
    }

    /// A signed-out reader's latest page is kept live by fetching it again
    /// (`reader.rs`): its island carries no messages, its list says which
    /// versions it shows (where the reader's socket resumes), and a fetch
    /// keyed by a change shows that change at once, one render shared by
    /// every reader asking with that key, even while the plain page is
    /// still cached without it. An older page is not live at all.
    async fn readers_refresh_by_change(env: TestEnv) {
        let (app, slug, room) = room_with_first_words(env, "Live reading").await;
        let path = format!("/r/{slug}");
        app.until_stored(room).await;

        let visitor = browser().0;
        let page = get(&app, &visitor, &path).await;
        let newest = app.env.store.room_last_seq(room).await.unwrap();
        assert!(page.html.contains(&format!(r#"data-version="{}""#, newest.0)), "the list names its newest version");
        assert!(page.html.contains(r#"data-reactions="0""#));
        assert!(page.html.contains(r#"data-testid="connection""#) && page.html.contains(r#"data-live="● Live""#));
        let island = island_props(&page.html, "ReadOnlyConversation");
        assert_eq!(island, format!(r#"{{"room":{}}}"#, room.0), "the island is told the room, and nothing else");

        // Stored by another process (the worker): the plain page, shared
        // for a second, does not show it yet; a keyed fetch does, and is
        // shared by the readers who ask with the same key.
        let elsewhere = write_past(&app.env.store, room, "alice", &[0]).await;
        let keyed = format!("{path}?live=1f2e");
        let (first, second) = (get(&app, &visitor, &keyed).await, get(&app, &browser().0, &keyed).await);
        assert_eq!(first.status, StatusCode::OK);
        assert!(first.html.contains(&elsewhere[0].body), "a fetch keyed by the change shows it");
        assert!(first.html.contains(&format!(r#"data-version="{}""#, newest.0 + 1)));
        assert_eq!(first.html.replace(nonce(&first.html), ""), second.html.replace(nonce(&second.html), ""), "one render for both");
        assert!(!get(&app, &visitor, &path).await.html.contains(&elsewhere[0].body), "the plain page stays shared for its second");

        let older = get(&app, &visitor, &format!("{path}?before={}", newest.0 + 1)).await;
        assert!(older.html.contains("first words"));
        assert!(!older.html.contains(r#"data-testid="connection""#) && !older.html.contains("ReadOnlyConversation"), "an older page is not live");
        app.stop().await;
    }

    /// `noindex` (meta tag and header) on every page that is not meant for
    /// search results; an indexable room carries its canonical address,
    /// social tags and structured data, which no message can break out of.
    async fn noindex_everywhere_else(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let open = app.create_room("Open house", "public").await;
        let plain = app.create_room("Plain", "public").await;
        let private = app.create_room("Hideout", "private").await;
        set_room(&app, &open, "Open house", "public", Some("on")).await;
        let open_id = app.room_id(&open).await;
        assert_eq!(app.post(open_id, "</script><script>alert(1)</script> **hello** search engines").await.status(), StatusCode::OK);
        app.call("/api/create_invite", &[("slug", &private)]).await;
        let invite = app.env.store.invites(app.room_id(&private).await).await.unwrap().remove(0).token;

        for path in ["/signin", "/signup", "/settings", "/messages", "/rooms/new", &format!("/r/{plain}"), &format!("/r/{private}"),
                     &format!("/r/{open}/settings"), &format!("/invite/{invite}"), "/u/alice", "/no/such/page", &format!("/r/{open}?before=2")] {
            let page = get(&app, &app.client, path).await;
            assert!(page.noindex(), "{path}: {} {}", page.status, page.robots_header());
        }
        for path in ["/healthz", "/sitemap.xml", "/robots.txt", "/api/my_rooms"] {
            let response = app.client.get(app.at(path)).send().await.unwrap();
            assert_eq!(response.headers()["x-robots-tag"], "noindex", "{path}");
        }

        let visitor = browser().0;
        // A visitor learns a display name and an avatar, nothing more.
        let profile = get(&app, &visitor, "/u/alice").await;
        assert!(profile.html.contains("alice") && !profile.html.contains("Member since"));
        assert!(get(&app, &app.client, "/u/alice").await.html.contains("Member since"));
        let page = get(&app, &visitor, &format!("/r/{open}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.indexable());
        let canonical = format!("{}/r/{open}", app.origin);
        assert!(page.html.contains(&format!(r#"<link href="{canonical}" rel="canonical""#)));
        assert!(page.html.contains(&format!(r#"<meta property="og:url" content="{canonical}""#)));
        assert!(page.html.contains(r#"<meta property="og:title" content="Open house""#));
        assert!(page.html.contains(r#"<meta name="twitter:card" content="summary""#));
        assert!(page.html.contains("<title>Open house · tchatche</title>"));
        let start = page.html.find(r#"<script type="application/ld+json">"#).expect("JSON-LD") + 35;
        let end = page.html[start..].find("</script>").unwrap() + start;
        let data: serde_json::Value = serde_json::from_str(&page.html[start..end]).expect("valid JSON-LD");
        assert_eq!(data["@type"], "DiscussionForumPosting");
        assert_eq!(data["url"], canonical.as_str());
        assert_eq!(data["author"]["name"], "alice");
        assert_eq!(data["comment"][0]["text"], "</script><script>alert(1)</script> **hello** search engines");
        assert!(!page.html.contains("<script>alert(1)"), "the message stays inert");

        // Outsiders: the private room is a 404 on its page, its archive and its server functions.
        for path in [format!("/r/{private}"), format!("/r/{private}/{}", day_ago(0))] {
            assert_eq!(get(&app, &visitor, &path).await.status, StatusCode::NOT_FOUND, "{path}");
        }
        let via_api = read_as(&visitor, &app.at("/api/archive_page"), &[("slug", &private), ("day", &day_ago(0))]).await;
        assert_eq!(via_api.status(), StatusCode::NOT_FOUND);
        app.stop().await;
    }

    /// A day of long messages is cut into pages by size as well as count,
    /// so no archive page can pass the server's render cap.
    async fn a_day_of_long_messages_is_paged(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Essays", "public").await;
        let room = app.room_id(&slug).await;
        let mut messages = write_past(&app.env.store, room, "alice", &[1; 150]).await;
        let longest = "😀".repeat(tchatche_core::message::MessageBody::MAX as usize);
        for message in &mut messages {
            // A later version of each, as an edit would store it.
            message.version = Seq(message.version.0 + 1_000);
            message.body = longest.clone();
            message.html = format!("<p>{longest}</p>");
        }
        app.env.store.upsert_messages(&messages).await.unwrap();
        let first = get(&app, &browser().0, &format!("/r/{slug}/{}", day_ago(1))).await;
        assert_eq!(first.status, StatusCode::OK);
        let shown = first.html.matches(&longest).count();
        assert!(shown > 0 && shown < 2 * 150, "the first page holds part of the day ({shown} copies)");
        let next = first.html.find(&format!("/r/{slug}/{}?after=", day_ago(1))).expect("a link to the rest of the day");
        let href: String = first.html[next..].chars().take_while(|c| *c != '"').collect();
        let rest = get(&app, &browser().0, &href.replace("&amp;", "&")).await;
        assert_eq!(rest.status, StatusCode::OK);
        assert!(rest.html.contains(&longest));
        app.stop().await;
    }

    /// One page per day with messages, linked to its neighbours and from
    /// the room; long-lived caching for past days, short for today,
    /// private for signed-in people; ETags answer with 304.
    async fn archive_days(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let slug = app.create_room("Diary", "public").await;
        set_room(&app, &slug, "Diary", "public", Some("on")).await;
        let room = app.room_id(&slug).await;
        write_past(&app.env.store, room, "alice", &[3, 3, 1, 0]).await;
        app.env.user("bob").await;
        write_past(&app.env.store, room, "bob", &[1, 1]).await;
        let visitor = browser().0;
        let (three, one, today) = (day_ago(3), day_ago(1), day_ago(0));

        let room_page = get(&app, &visitor, &format!("/r/{slug}")).await;
        assert!(room_page.html.contains(&format!(r#"href="/r/{slug}/{today}""#)), "the room links to its archive");

        let past = get(&app, &visitor, &format!("/r/{slug}/{one}")).await;
        assert_eq!(past.status, StatusCode::OK);
        assert!(past.html.contains("said 1 days ago") && !past.html.contains("said 3 days ago") && !past.html.contains("said 0 days ago"));
        assert!(past.html.contains(&format!(r#"href="/r/{slug}/{three}" rel="prev""#)));
        assert!(past.html.contains(&format!(r#"href="/r/{slug}/{today}" rel="next""#)));
        assert!(past.html.contains(&format!(r#"<link href="{}/r/{slug}/{one}" rel="canonical""#, app.origin)));
        assert!(past.indexable());
        assert_eq!(past.header("cache-control"), "public, max-age=86400, stale-while-revalidate=604800");
        let etag = past.header("etag").to_owned();
        assert!(etag.starts_with("W/\""), "{etag}");
        let again = visitor.get(app.at(&format!("/r/{slug}/{one}"))).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(again.text().await.unwrap().is_empty());
        let stale = visitor.get(app.at(&format!("/r/{slug}/{one}"))).header("if-none-match", "W/\"0\"").send().await.unwrap();
        assert_eq!(stale.status(), StatusCode::OK);

        let oldest = get(&app, &visitor, &format!("/r/{slug}/{three}")).await;
        assert!(oldest.html.contains("said 3 days ago (#0)") && oldest.html.contains("said 3 days ago (#1)"));
        assert!(!oldest.html.contains(r#"rel="prev""#));
        // One person's two messages are below the indexing bar: readable,
        // its links followed, but not for search results.
        assert_eq!(oldest.status, StatusCode::OK);
        assert!(oldest.noindex() && !oldest.html.contains(r#"rel="canonical""#));
        assert!(oldest.html.contains(&format!(r#"href="/r/{slug}/{one}" rel="next""#)));
        assert_eq!(get(&app, &visitor, &format!("/r/{slug}/{today}")).await.header("cache-control"), "public, max-age=60");
        // Signed in, the page shows the person: it stays in their browser.
        assert_eq!(get(&app, &app.client, &format!("/r/{slug}/{one}")).await.header("cache-control"), "private, no-cache");

        for missing in [day_ago(2), "2026-02-30".into(), "yesterday".into(), "1969-12-31".into()] {
            let page = get(&app, &visitor, &format!("/r/{slug}/{missing}")).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{missing}");
            assert!(page.noindex());
        }
        // The settings page keeps its address.
        assert!(get(&app, &app.client, &format!("/r/{slug}/settings")).await.html.contains(r#"name="indexable""#));

        // A room that is not indexable keeps its archive out of search engines.
        set_room(&app, &slug, "Diary", "public", None).await;
        assert!(get(&app, &visitor, &format!("/r/{slug}/{one}")).await.noindex());
        app.stop().await;
    }

    /// The sitemap index and its sitemap list indexable public rooms and
    /// their days, nothing else; `robots.txt` points at it.
    async fn sitemap_and_robots(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let listed_room = app.create_room("Listed", "public").await;
        let unlisted = app.create_room("Unlisted", "public").await;
        let went_private = app.create_room("Went private", "public").await;
        set_room(&app, &listed_room, "Listed", "public", Some("on")).await;
        set_room(&app, &went_private, "Went private", "public", Some("on")).await;
        set_room(&app, &went_private, "Went private", "private", Some("on")).await;
        app.env.user("bob").await;
        for slug in [&listed_room, &unlisted, &went_private] {
            write_past(&app.env.store, app.room_id(slug).await, "alice", &[2, 0]).await;
            write_past(&app.env.store, app.room_id(slug).await, "bob", &[2, 2, 0, 0]).await;
        }
        // A day below the indexing bar stays out.
        write_past(&app.env.store, app.room_id(&listed_room).await, "alice", &[5]).await;

        let robots = app.client.get(app.at("/robots.txt")).send().await.unwrap().text().await.unwrap();
        assert!(robots.contains(&format!("Sitemap: {}/sitemap.xml", app.origin)));
        for private_area in
            ["Disallow: /settings", "Disallow: /invite/", "Disallow: /api/", "Disallow: /r/*/settings", "Disallow: /search", "Disallow: /messages"]
        {
            assert!(robots.contains(private_area), "{private_area}");
        }

        let index = app.client.get(app.at("/sitemap.xml")).send().await.unwrap();
        assert_eq!(index.headers()["content-type"], "application/xml; charset=utf-8");
        let index = index.text().await.unwrap();
        assert_eq!(index.matches("<sitemap>").count(), 1);
        assert!(index.contains(&format!("<loc>{}/sitemaps/1.xml</loc>", app.origin)));
        let sitemap = app.client.get(app.at("/sitemaps/1.xml")).send().await.unwrap().text().await.unwrap();
        let urls: Vec<&str> = sitemap.match_indices("<loc>").map(|(i, _)| &sitemap[i + 5..i + sitemap[i..].find("</loc>").unwrap()]).collect();
        let origin = &app.origin;
        assert_eq!(urls, [format!("{origin}/r/{listed_room}"), format!("{origin}/r/{listed_room}/{}", day_ago(2)), format!("{origin}/r/{listed_room}/{}", day_ago(0))]);
        assert_eq!(sitemap.matches("<lastmod>").count(), 3);
        for path in ["/sitemaps/2.xml", "/sitemaps/0.xml", "/sitemaps/one.xml", "/sitemaps/1"] {
            assert_eq!(app.client.get(app.at(path)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{path}");
        }
        app.stop().await;
    }

    /// Past 50,000 addresses the sitemap is split into several files, all
    /// listed in the index.
    async fn sitemap_splits_large_archives(env: TestEnv) {
        let owner = env.user("owner").await;
        let room = env.room("ancient", &owner).await;
        env.store.update_room(room.id, &tchatche_core::store::RoomChanges { name: "Ancient", description: "", visibility: Visibility::Public, indexable: true, translate_private: false }).await.unwrap();
        // 60,000 days with messages: 164 years of daily conversation.
        let fill = "INSERT INTO room_days (room_id, day, last_activity_at, indexable)
                    WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < 59999)
                    SELECT $1, CAST(n AS BIGINT), CAST(n AS BIGINT) * 86400000, CAST(1 AS BOOLEAN) FROM d";
        match &env.store {
            Store::Sqlite(pool) => { sqlx::query(fill).bind(room.id).execute(pool).await.unwrap(); }
            Store::Postgres(pool) => { sqlx::query(fill).bind(room.id).execute(pool).await.unwrap(); }
        }
        let app = spawn_app(env).await;
        let index = app.client.get(app.at("/sitemap.xml")).send().await.unwrap().text().await.unwrap();
        assert_eq!(index.matches("<sitemap>").count(), 2);
        let first = app.client.get(app.at("/sitemaps/1.xml")).send().await.unwrap().text().await.unwrap();
        let second = app.client.get(app.at("/sitemaps/2.xml")).send().await.unwrap().text().await.unwrap();
        assert_eq!(first.matches("<url>").count(), 50_000);
        assert_eq!(second.matches("<url>").count(), 10_001, "the room page and 60,000 days");
        assert!(first.contains(&format!("<loc>{}/r/ancient</loc>", app.origin)));
        assert!(second.contains(&format!("<loc>{}/r/ancient/{}</loc>", app.origin, UtcDay(59_999))));
        app.stop().await;
    }
}
