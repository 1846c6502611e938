//! The search page over HTTP, on both backends: what visitors and members
//! find, how a result links into its conversation, paging, and every bad
//! input answered with a 400 and a translated sentence.

mod common;

use std::time::Duration;

use common::{TestApp, browser, spawn_app};
use reqwest::StatusCode;
use tchatche_core::{
    backend_tests,
    ids::{Seq, UnixMillis},
    testing::{TestEnv, draft},
};

const PASSWORD: &str = "correct horse battery staple";

/// A search page as a browser without JavaScript gets it.
async fn search(app: &TestApp, client: &reqwest::Client, query: &str) -> (StatusCode, String) {
    let response = client.get(app.at(&format!("/search?{query}"))).header("accept", "text/html").send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// The results' links, in page order.
fn hit_links(html: &str) -> Vec<String> {
    html.match_indices(r#"data-testid="search-hit-link""#)
        .map(|(at, _)| {
            let tag = &html[html[..at].rfind("<a ").unwrap()..at + html[at..].find('>').unwrap()];
            let href = tag.split("href=\"").nth(1).unwrap();
            href[..href.find('"').unwrap()].replace("&amp;", "&")
        })
        .collect()
}

/// Posts through the real pipeline and waits until search finds it.
async fn post_and_index(app: &TestApp, slug: &str, body: &str, marker: &str) {
    let room = app.room_id(slug).await;
    assert_eq!(app.post(room, body).await.status(), StatusCode::OK);
    for _ in 0..100 {
        let (_, html) = search(app, &app.client, &format!("q={marker}")).await;
        if html.contains("data-testid=\"search-hit\"") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{body:?} never became searchable");
}

backend_tests! {
    /// A visitor finds public messages only; a member finds their private
    /// room's too. Matches are marked, the page is kept out of search
    /// engines, and a result opens its conversation at the message.
    async fn visitors_and_members_find_what_they_may_read(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let lobby = app.create_room("Lobby", "public").await;
        let secret = app.create_room("Secret", "private").await;
        post_and_index(&app, &lobby, "a swordfish is a fish", "fish").await;
        post_and_index(&app, &secret, "the password is swordfish", "password").await;

        let visitor = browser().0;
        let (status, html) = search(&app, &visitor, "q=Swordfish").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(hit_links(&html).len(), 1, "{html}");
        assert!(html.contains("<mark") && html.contains(">swordfish</mark>"), "the match is marked");
        assert!(!html.contains("password"), "a private room's words never reach a visitor");
        assert!(html.contains(r#"<meta name="robots" content="noindex""#));

        let (_, html) = search(&app, &app.client, "q=swordfish").await;
        let links = hit_links(&html);
        assert_eq!(links.len(), 2, "the member reads both rooms");
        assert!(links[0].starts_with(&format!("/r/{secret}?before=")), "newest first: {links:?}");

        // The link opens the conversation with the message on the page.
        let (path, anchor) = links[1].split_once('#').unwrap();
        let page = visitor.get(app.at(path)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&format!(r#"id="{anchor}""#)), "the linked page holds {anchor}");

        // Naming the private room does not let a visitor in, nor tell them it exists.
        let (status, html) = search(&app, &visitor, &format!("q=swordfish&room={secret}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains(r#"data-testid="search-error-room""#) && html.contains("This value is not valid."));
        let (nowhere, _) = search(&app, &visitor, "q=swordfish&room=no-such-room").await;
        assert_eq!(nowhere, status, "the same answer as for a room that does not exist");
    }

    /// Filters narrow the results; pages go back in time by links without
    /// gaps or repeats.
    async fn filters_and_older_pages(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let first = app.create_room("First", "public").await;
        let second = app.create_room("Second", "public").await;
        // More than posting allows at once: stored directly, as the worker would.
        let store = &app.env.store;
        let alice = store.user_by_username("alice").await.unwrap().unwrap();
        let (first_room, second_room) = (store.room_by_slug(&first).await.unwrap().unwrap(), store.room_by_slug(&second).await.unwrap().unwrap());
        let mut messages: Vec<_> = (0..26)
            .map(|n| {
                let mut message = draft(&first_room, &alice, &format!("update number {n}"));
                (message.seq, message.version, message.created_at) = (Seq(n + 1), Seq(n + 1), UnixMillis(1_800_000_000_000 + n * 1000));
                message
            })
            .collect();
        let mut elsewhere = draft(&second_room, &alice, "update elsewhere");
        (elsewhere.seq, elsewhere.version) = (Seq(1), Seq(1));
        messages.push(elsewhere);
        store.upsert_messages(&messages).await.unwrap();

        let visitor = browser().0;
        let (_, html) = search(&app, &visitor, "q=update").await;
        let mut links = hit_links(&html);
        assert_eq!(links.len(), 20);
        let older = html.split(r#"data-testid="search-older""#).next().unwrap();
        let href = older[older.rfind("href=\"").unwrap() + 6..].split('"').next().unwrap().replace("&amp;", "&");
        assert!(href.starts_with("/search?q=update&before="), "{href}");
        let (_, html) = search(&app, &visitor, href.trim_start_matches("/search?")).await;
        links.extend(hit_links(&html));
        assert_eq!(links.len(), 27, "every message once");
        links.sort();
        links.dedup();
        assert_eq!(links.len(), 27, "no repeats");
        assert!(!html.contains(r#"data-testid="search-older""#));

        let (_, html) = search(&app, &visitor, &format!("q=update&room={second}")).await;
        assert_eq!(hit_links(&html).len(), 1);
        let (_, html) = search(&app, &visitor, "q=update&author=alice&room=/r/second/").await;
        assert_eq!(hit_links(&html).len(), 1, "a room given as its address works too");
        let (_, html) = search(&app, &visitor, "q=update&from=2000-01-01&to=2000-12-31").await;
        assert!(html.contains(r#"data-testid="search-empty""#));
    }

    /// Every bad input: a 400, the form filled in again, and a sentence in
    /// the reader's language next to the field at fault. A search without
    /// words is just the form.
    async fn bad_input_is_refused_in_the_readers_language(env: TestEnv) {
        let app = spawn_app(env).await;
        let visitor = browser().0;
        let (status, html) = search(&app, &visitor, "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(r#"data-testid="search-form""#) && !html.contains("search-empty"));

        let long = "a".repeat(201);
        let cases: [(&str, &str, &str); 7] = [
            ("q=%3F%21%E2%80%A6", "q", "This value is not valid."),
            (&format!("q={long}"), "q", "Use at most 200 characters."),
            ("q=ok&author=nobody-here", "author", "This value is not valid."),
            ("q=ok&from=2026-13-45", "from", "This value is not valid."),
            ("q=ok&from=2026-02-01&to=2026-01-01", "to", "This value is not valid."),
            ("q=ok&to=yesterday", "to", "This value is not valid."),
            ("q=ok&room=%00", "room", "This value is not valid."),
        ];
        for (query, field, sentence) in cases {
            let (status, html) = search(&app, &visitor, query).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {}", &html[html.find("<main").unwrap_or(0)..]);
            assert!(html.contains(&format!(r#"data-testid="search-error-{field}""#)), "{query}: no error on {field}");
            assert!(html.contains(sentence), "{query}: {sentence:?} missing");
        }
        let (status, html) = search(&app, &visitor, "q=ok&before=garbage").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains(r#"data-testid="search-error""#));

        // What was typed comes back in the form.
        let (_, html) = search(&app, &visitor, "q=kept+words&from=2026-13-45").await;
        assert!(html.contains(r#"value="kept words""#), "the words are kept");

        let french = visitor.get(app.at("/search?q=%3F")).header("accept-language", "fr").send().await.unwrap().text().await.unwrap();
        assert!(french.contains("Cette valeur n’est pas valide."), "in French");

        let (status, html) = search(&app, &visitor, "q=a+b+c+d+e+f+g+h+i+j").await;
        assert_eq!(status, StatusCode::OK);
        let cut = html.split(r#"data-testid="search-words-cut""#).nth(1).map(|rest| rest[rest.find('>').unwrap() + 1..rest.find("</p>").unwrap()].replace("<!---->", ""));
        assert_eq!(cut.as_deref(), Some("Only the first 8 words were searched."), "the words left out are mentioned");
    }

    /// Searches are throttled per person (or address): a burst gets a 429
    /// with Retry-After, not an overloaded database.
    async fn searches_are_throttled(env: TestEnv) {
        let app = spawn_app(env).await;
        let visitor = browser().0;
        let mut refused = None;
        for _ in 0..60 {
            let response = visitor.get(app.at("/search?q=anything")).header("accept", "text/html").send().await.unwrap();
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                refused = Some(response);
                break;
            }
            assert_eq!(response.status(), StatusCode::OK);
        }
        let refused = refused.expect("a burst of searches is throttled");
        assert!(refused.headers().contains_key("retry-after"));
    }
}
