//! The HTTP surface of the shell on both backends: pages, status codes,
//! headers, cookies, the same-origin rule and graceful shutdown.

mod common;

use common::{TestApp, spawn_app};
use reqwest::{StatusCode, header};
use tchatche_core::{backend_tests, testing::TestEnv};

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut request = app.client.get(app.at(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

backend_tests! {
    /// /healthz is liveness only: it stays 200 when the database is gone,
    /// while /readyz reports the database (and Redis) and answers 503.
    async fn liveness_and_readiness(env: TestEnv) {
        let app = spawn_app(env).await;
        let (status, _, body) = get(&app, "/readyz", &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("\"database\":\"ok\""), "{body}");
        let redis = if app.env.config(&[]).redis_url.is_some() { "\"redis\":\"ok\"" } else { "\"redis\":\"not configured\"" };
        assert!(body.contains(redis), "{body}");
        app.env.store.close().await;
        let (status, _, body) = get(&app, "/readyz", &[]).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("\"database\":\"error\""), "{body}");
        let (status, _, _) = get(&app, "/healthz", &[]).await;
        assert_eq!(status, StatusCode::OK, "the process itself is alive");
    }

    /// The home page is rendered on the server, in the reader's language.
    async fn home_is_server_rendered_in_the_negotiated_language(env: TestEnv) {
        let app = spawn_app(env).await;
        // Swedish is not one of ours: the next language asked for is.
        let (status, headers, html) = get(&app, "/", &[("accept-language", "sv-SE,fr;q=0.8,en;q=0.5")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        assert!(html.contains("Salons publics"), "French chosen from Accept-Language");
        assert!(html.contains(r#"lang="fr""#) && html.contains(r#"dir="ltr""#));
        assert!(html.contains(r#"data-theme="system""#));
        assert!(html.contains(r#"data-testid="directory-empty""#), "no rooms yet: the empty state");

        // The cookie wins over the header.
        let (_, _, html) = get(&app, "/", &[("accept-language", "fr"), ("cookie", "i18n_pref_locale=en")]).await;
        assert!(html.contains("Public rooms") && html.contains(r#"lang="en""#));

        // Right to left for Arabic and Hebrew; regional tags as written.
        for (asked, lang, dir) in [("ar-EG", "ar", "rtl"), ("he", "he", "rtl"), ("pt-BR", "pt-BR", "ltr"), ("zh-CN", "zh-CN", "ltr")] {
            // A browser of its own: the one above holds a language cookie.
            let visitor = common::browser().0;
            let html = visitor.get(app.at("/")).header("accept-language", asked).send().await.unwrap().text().await.unwrap();
            let html_tag = html.split("<head").next().unwrap_or_default();
            assert!(html_tag.contains(&format!(r#"lang="{lang}""#)) && html_tag.contains(&format!(r#"dir="{dir}""#)), "{asked}: {html_tag}");
        }
        // The picker lists every language in its own name, the current one chosen.
        let html = common::browser().0.get(app.at("/")).header("accept-language", "ja").send().await.unwrap().text().await.unwrap();
        for name in ["English (US)", "Deutsch", "العربية", "עברית", "简体中文", "日本語", "한국어", "Ελληνικά", "Русский", "Türkçe"] {
            assert!(html.contains(&format!(">{name}</option>")), "{name} in the picker");
        }
        assert!(html.contains(r#"<option value="ja" lang="ja" selected>"#), "the current language is chosen");
        app.stop().await;
    }

    /// The member's conversation island gets its words from the server, in
    /// the reader's language, with a template per plural category whole
    /// numbers take in that language (Russian: one, few, many; "other" is
    /// for fractions), the number left to the browser; the bundle has no
    /// tables of its own. A signed-out reader's page is rendered by the
    /// server: its island gets no words at all.
    async fn islands_get_their_words_in_the_readers_language(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", "correct horse battery staple").await;
        let slug = app.create_room("Lobby", "public").await;
        let page = |client: reqwest::Client| {
            let url = app.at(&format!("/r/{slug}"));
            async move { client.get(url).header("accept-language", "ru").send().await.unwrap().text().await.unwrap() }
        };
        let visitors = page(common::browser().0).await.replace("&quot;", "\"");
        assert!(visitors.contains("Войдите, чтобы писать в этой комнате."), "the visitor's page is in Russian");
        assert!(!visitors.contains("[\"few\",\""), "and its island carries no words");
        let props = page(app.client.clone()).await.replace("&quot;", "\"").replace("&#x27;", "'");
        assert!(props.contains("Напишите сообщение") || props.contains("Сообщение"), "Russian words in the island's props");
        for category in ["one", "few", "many"] {
            assert!(props.contains(&format!("[\"{category}\",\"")), "a {category} template");
        }
        assert!(props.contains("{count}"), "the number is the browser's to write");
        assert!(!props.contains("{{"), "no raw locale placeholders");
        app.stop().await;
    }

    /// Unknown pages answer 404 with a page; an unknown theme cookie falls back.
    async fn unknown_pages_are_404(env: TestEnv) {
        let app = spawn_app(env).await;
        let (status, _, html) = get(&app, "/nothing/here", &[("cookie", "theme=purple")]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("Page not found"));
        assert!(html.contains(r#"data-theme="system""#));
        app.stop().await;
    }

    /// The theme form sets a cookie and goes back; a forged origin is refused.
    async fn theme_choice_is_a_same_origin_form_post(env: TestEnv) {
        let app = spawn_app(env).await;
        let response = app.post_form("/api/set_theme", &[("theme", "dark")]).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        assert!(location.trim_end_matches('?') == app.at("/"), "back to the page of the form: {location}");
        let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(cookie.starts_with("theme=dark;") && cookie.contains("Path=/"), "{cookie}");
        let (_, _, html) = get(&app, "/", &[]).await;
        assert!(html.contains(r#"data-theme="dark""#), "the server renders the stored theme");

        let forged = app
            .client
            .post(app.at("/api/set_theme"))
            .header("origin", "https://evil.example")
            .form(&[("theme", "light")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert!(forged.headers().get(header::SET_COOKIE).is_none());
        let cross_site = app
            .client
            .post(app.at("/api/set_theme"))
            .header("sec-fetch-site", "cross-site")
            .form(&[("theme", "light")])
            .send()
            .await
            .unwrap();
        assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
        app.stop().await;
    }

    /// A bad theme or language value is refused with 400 and changes nothing.
    async fn bad_preferences_are_refused(env: TestEnv) {
        let app = spawn_app(env).await;
        for (path, field, value) in [("/api/set_theme", "theme", "purple"), ("/api/set_locale", "locale", "xx")] {
            let response = app
                .client
                .post(app.at(path))
                .header("origin", &app.url)
                .header("accept", "application/json")
                .form(&[(field, value)])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
            assert!(response.headers().get(header::SET_COOKIE).is_none());
            let body = response.text().await.unwrap();
            assert!(body.contains("Malformed"), "{body}");
        }
        let response = app.post_form("/api/set_locale", &[("locale", "fr")]).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let (_, _, html) = get(&app, "/", &[]).await;
        assert!(html.contains(r#"lang="fr""#));
        app.stop().await;
    }

    /// Responses are compressed and carry the protective headers.
    async fn responses_are_compressed_and_hardened(env: TestEnv) {
        let app = spawn_app(env).await;
        for encoding in ["br", "gzip"] {
            let (_, headers, _) = get(&app, "/", &[("accept-encoding", encoding)]).await;
            assert_eq!(headers[header::CONTENT_ENCODING], encoding);
        }
        let (_, headers, _) = get(&app, "/", &[]).await;
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert!(headers.contains_key(header::REFERRER_POLICY));
        assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY), "plain http: no HSTS");
        app.stop().await;
    }

    /// Pages carry a script policy naming the nonce of their own inline
    /// scripts (a fresh one on every answer, shared pages included), never
    /// `unsafe-inline` scripts, and refuse to be framed; every other
    /// response may run nothing.
    async fn pages_have_a_nonce_based_content_security_policy(env: TestEnv) {
        let app = common::spawn_app_with(env, Some("https://chat.example")).await;
        let mut nonces = Vec::new();
        for _ in 0..2 {
            let (status, headers, html) = get(&app, "/", &[]).await;
            assert_eq!(status, StatusCode::OK);
            let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
            let script_src = policy.split(';').map(str::trim).find(|d| d.starts_with("script-src")).expect("a script-src");
            let nonce = script_src.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce").to_owned();
            assert!(!script_src.contains("unsafe-inline"), "{policy}");
            assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
            // Every inline script of the page carries it (an empty one never runs).
            for script in html.split("<script").skip(1) {
                let tag = &script[..script.find('>').unwrap()];
                let empty = script[tag.len()..].starts_with("></script>");
                if !empty && !tag.contains("src=") && !tag.contains("application/ld+json") {
                    assert!(tag.contains(&format!(r#"nonce="{nonce}""#)), "an inline script without the nonce: <script{tag}>");
                }
            }
            assert_eq!(headers[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000", "https: HSTS");
            nonces.push(nonce);
        }
        assert_ne!(nonces[0], nonces[1], "a nonce is used once");
        let (_, headers, _) = get(&app, "/robots.txt", &[]).await;
        assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().starts_with("default-src 'none'"));
        app.stop().await;
    }

    /// Pages meant for signed-in people send a visitor to sign in, and back.
    async fn signed_in_pages_send_visitors_to_sign_in(env: TestEnv) {
        let app = spawn_app(env).await;
        for (path, next) in [
            ("/settings", "/settings"),
            ("/rooms/new", "/rooms/new"),
            ("/r/some-room/settings", "/r/some-room/settings"),
            ("/invite/abcdef", "/invite/abcdef"),
        ] {
            let (status, headers, _) = get(&app, path, &[("accept", "text/html")]).await;
            assert!(status.is_redirection(), "{path}: {status}");
            let location = headers[header::LOCATION].to_str().unwrap();
            let expected = format!("/signin?next={}", next.replace('/', "%2F"));
            assert!(location == expected || location == format!("/signin?next={next}"), "{path} → {location}");
        }
        app.stop().await;
    }
}

/// A client that sends its headers too slowly (slowloris) is cut off after
/// the header deadline, not held forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app(TestEnv::embedded().await).await;
    let mut slow = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://")).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(server::HEADER_READ_TIMEOUT * 2, slow.read_to_end(&mut rest)).await;
    assert!(ended.is_ok(), "the connection is still open after {:?}", server::HEADER_READ_TIMEOUT * 2);
    assert!(started.elapsed() >= server::HEADER_READ_TIMEOUT - std::time::Duration::from_secs(1), "cut off early: {:?}", started.elapsed());
    app.stop().await;
}

/// Past `MAX_CONNECTIONS` open connections, a new one waits until one
/// closes, then is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_their_turn() {
    use tokio::io::AsyncWriteExt;
    let app = common::spawn_app_configured(TestEnv::embedded().await, &[("MAX_CONNECTIONS", "16")]).await;
    let mut held = Vec::new();
    for _ in 0..16 {
        let mut idle = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://")).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        held.push(idle);
    }
    let health = || reqwest::Client::new().get(app.at("/healthz")).timeout(std::time::Duration::from_secs(2)).send();
    assert!(health().await.is_err(), "a seventeenth connection is not served while sixteen are open");
    held.clear();
    assert_eq!(health().await.unwrap().status(), StatusCode::OK, "served once the others closed");
    app.stop().await;
}

/// At shutdown, a request still in flight (here an upload that stalls) is
/// given `SHUTDOWN_GRACE`, then dropped: the process stops in bounded time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_stalled_requests_only_so_long() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app(TestEnv::embedded().await).await;
    app.sign_up("alice", "correct horse battery staple").await;
    let cookie = app.cookie_header().unwrap();
    let mut stalled = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://")).await.unwrap();
    let head = format!(
        "POST /settings/avatar HTTP/1.1\r\nHost: localhost\r\nOrigin: {}\r\nCookie: {cookie}\r\n\
         Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000\r\n\r\n--x\r\n",
        app.origin
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let took = app.stop_timed(server::SHUTDOWN_GRACE * 2).await.expect("the server stops after its grace period");
    assert!(took >= server::SHUTDOWN_GRACE - std::time::Duration::from_secs(1), "the request in flight was given its grace: {took:?}");
    drop(stalled);
}
