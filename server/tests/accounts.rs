//! Accounts on both backends: sign-up, sign-in, sign-out, sessions,
//! throttling, settings, avatars and the admin commands, with their bad cases.

mod common;

use common::{TestApp, spawn_app, spawn_app_with};
use reqwest::{StatusCode, header};
use server::admin::{Admin, AdminCommand, execute};
use tchatche_core::{backend_tests, testing::TestEnv};

const PASSWORD: &str = "correct horse battery staple";

async fn error_body(response: reqwest::Response) -> (StatusCode, String) {
    (response.status(), response.text().await.unwrap())
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

fn session_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    set_cookies(response).into_iter().find(|c| c.starts_with(&format!("{name}=")))
}

async fn sign_in(app: &TestApp, client: &reqwest::Client, username: &str, password: &str) -> reqwest::Response {
    client
        .post(app.at("/api/sign_in"))
        .header("origin", &app.origin)
        .header("accept", "application/json")
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
}

backend_tests! {
    /// Sign up signs in; sign out deletes the session on the server, so its
    /// cookie is worthless afterwards.
    async fn sign_up_sign_out_sign_in(env: TestEnv) {
        let app = spawn_app(env).await;
        let response = app
            .post_form("/api/sign_up", &[("username", "alice"), ("display_name", " Alice L "), ("password", PASSWORD), ("next", "/settings")])
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()[header::LOCATION], "/settings");
        let cookie = session_cookie(&response, "tchatche").expect("a session cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
        assert!(!cookie.contains("Max-Age"), "no 'keep me signed in': a browser-session cookie: {cookie}");
        assert_eq!(app.signed_in_as().await.as_deref(), Some("Alice L"));

        let stolen = cookie.split(';').next().unwrap().to_owned();
        let response = app.post_form("/api/sign_out", &[]).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(app.signed_in_as().await, None);
        // The old cookie, replayed, is no longer a session.
        let replayed = app.other_browser().get(app.at("/")).header("cookie", stolen).send().await.unwrap();
        assert!(!replayed.text().await.unwrap().contains("account-link"));

        let response = sign_in(&app, &app.client, "ALICE", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "usernames sign in whatever their case");
        assert_eq!(app.signed_in_as().await.as_deref(), Some("Alice L"));
        app.stop().await;
    }

    /// Every sign-up rule gives a field error, keeps what was typed (never
    /// the password) and creates nothing.
    async fn sign_up_rules(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("Alice", PASSWORD).await;
        let other = app.other_browser();
        let cases: [(&str, &str, &str, &str, &str); 7] = [
            ("aLICE", "Someone", PASSWORD, "username", "Taken"),
            ("ab", "Someone", PASSWORD, "username", "TooShort"),
            (&"x".repeat(33), "Someone", PASSWORD, "username", "TooLong"),
            ("bob smith", "Someone", PASSWORD, "username", "InvalidCharacters"),
            ("bob", &"n".repeat(49), PASSWORD, "display_name", "TooLong"),
            ("bob", "Bob", "password1", "password", "CommonPassword"),
            ("bobby_tables", "Bob", "Bobby_Tables", "password", "SameAsUsername"),
        ];
        for (username, display_name, password, field, error) in cases {
            let response = other
                .post(app.at("/api/sign_up"))
                .header("origin", &app.origin)
                .header("accept", "application/json")
                .form(&[("username", username), ("display_name", display_name), ("password", password)])
                .send()
                .await
                .unwrap();
            let (status, body) = error_body(response).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{username}/{display_name}: {body}");
            assert!(body.contains(&format!(r#""field":"{field}","error":"{error}""#)) || body.contains(&format!(r#""field":"{field}","error":{{"{error}""#)), "{field} {error}: {body}");
            assert!(body.contains(&format!(r#"["username","{username}"]"#)), "the username is kept: {body}");
            assert!(!body.contains(password) || password == username, "the password is never sent back");
        }
        assert_eq!(app.env.store.search_users("", 100).await.unwrap().len(), 1);
        app.stop().await;
    }

    /// A wrong password and an unknown account get the same answer.
    async fn sign_in_does_not_reveal_accounts(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let stranger = app.other_browser();
        let wrong = error_body(sign_in(&app, &stranger, "alice", "wrong password!").await).await;
        let unknown = error_body(sign_in(&app, &stranger, "nobody", "wrong password!").await).await;
        assert_eq!(wrong.0, StatusCode::BAD_REQUEST);
        assert!(wrong.1.contains("BadCredentials"), "{}", wrong.1);
        assert_eq!(wrong.1.replace("alice", "X"), unknown.1.replace("nobody", "X"));
        app.stop().await;
    }

    /// After a handful of failures on one account: 429 with Retry-After, even
    /// with the right password; the browser the owner signed in on before
    /// keeps its own allowance.
    async fn sign_in_is_throttled_per_account(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await; // this browser is now a known device
        app.post_form("/api/sign_out", &[]).await;
        let attacker = app.other_browser();
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(sign_in(&app, &attacker, "alice", "guess guess guess").await.status());
        }
        assert_eq!(statuses[..5], [StatusCode::BAD_REQUEST; 5]);
        let limited = sign_in(&app, &attacker, "alice", PASSWORD).await;
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS, "the right password does not help now");
        let retry_after: u64 = limited.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert!(limited.text().await.unwrap().contains("RateLimited"));

        // Unknown accounts are limited the same way (nothing to learn).
        for _ in 0..5 {
            sign_in(&app, &attacker, "nobody", "guess guess guess").await;
        }
        assert_eq!(sign_in(&app, &attacker, "nobody", "x").await.status(), StatusCode::TOO_MANY_REQUESTS);

        // The owner's own browser still gets in.
        assert_eq!(sign_in(&app, &app.client, "alice", PASSWORD).await.status(), StatusCode::OK);
        app.stop().await;
    }

    /// One address gets 20 attempts, then 429, whatever the accounts.
    async fn sign_in_is_throttled_per_address(env: TestEnv) {
        let app = spawn_app(env).await;
        let client = app.other_browser();
        for i in 0..20 {
            let status = sign_in(&app, &client, &format!("user{i}"), "guess guess guess").await.status();
            assert_eq!(status, StatusCode::BAD_REQUEST, "attempt {i}");
        }
        assert_eq!(sign_in(&app, &client, "user99", "guess").await.status(), StatusCode::TOO_MANY_REQUESTS);
        app.stop().await;
    }

    /// Sign-up is limited per address too.
    async fn sign_up_is_throttled_per_address(env: TestEnv) {
        let app = spawn_app(env).await;
        for i in 0..5 {
            app.other_browser();
            let response = app.call("/api/sign_up", &[("username", &format!("user{i}")), ("display_name", "U"), ("password", PASSWORD)]).await;
            assert_eq!(response.status(), StatusCode::OK, "sign-up {i}");
        }
        let response = app.call("/api/sign_up", &[("username", "user5"), ("display_name", "U"), ("password", PASSWORD)]).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(app.env.store.user_by_username("user5").await.unwrap().is_none());
        app.stop().await;
    }

    /// Requests from another origin never reach sign-in or sign-up.
    async fn forged_origins_are_refused(env: TestEnv) {
        let app = spawn_app(env).await;
        for path in ["/api/sign_up", "/api/sign_in", "/api/sign_out", "/settings/avatar"] {
            let response = app
                .client
                .post(app.at(path))
                .header("origin", "https://evil.example")
                .form(&[("username", "mallory"), ("display_name", "M"), ("password", PASSWORD)])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        }
        assert!(app.env.store.user_by_username("mallory").await.unwrap().is_none());
        app.stop().await;
    }

    /// Signing in gives a new session id (no fixation); "keep me signed in"
    /// makes the cookie outlive the browser.
    async fn sign_in_cycles_the_session_and_honours_keep_me_signed_in(env: TestEnv) {
        let app = spawn_app(env).await;
        let first = app.sign_up("alice", PASSWORD).await;
        let before = session_cookie(&first, "tchatche").unwrap();
        let response = app
            .client
            .post(app.at("/api/sign_in"))
            .header("origin", &app.origin)
            .header("accept", "application/json")
            .form(&[("username", "alice"), ("password", PASSWORD), ("remember", "on")])
            .send()
            .await
            .unwrap();
        let after = session_cookie(&response, "tchatche").unwrap();
        assert_ne!(before.split(';').next(), after.split(';').next(), "a new session id at sign-in");
        assert!(after.contains("Max-Age=1209600"), "14 days: {after}");
        app.stop().await;
    }

    /// Behind https the cookies are Secure and the session one __Host- prefixed.
    async fn https_cookies_are_secure(env: TestEnv) {
        let app = spawn_app_with(env, Some("https://chat.example.org")).await;
        let response = app.post_form("/api/sign_up", &[("username", "alice"), ("display_name", "A"), ("password", PASSWORD)]).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let cookie = session_cookie(&response, "__Host-tchatche").expect("a __Host- session cookie");
        assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
        let device = session_cookie(&response, "__Host-tchatche-device").expect("this browser is remembered");
        assert!(device.contains("Secure") && device.contains("HttpOnly"), "{device}");
        app.stop().await;
    }

    /// A weaker stored hash is replaced by one with today's parameters at sign-in.
    async fn old_hashes_are_upgraded_at_sign_in(env: TestEnv) {
        use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version, password_hash::{SaltString, rand_core::OsRng}};
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let user = app.env.store.user_by_username("alice").await.unwrap().unwrap();
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(4096, 1, 1, None).unwrap())
            .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        app.env.store.set_password_hash(user.id, &weak).await.unwrap();
        assert_eq!(sign_in(&app, &app.other_browser(), "alice", PASSWORD).await.status(), StatusCode::OK);
        let (_, stored) = app.env.store.credentials("alice").await.unwrap().unwrap();
        assert!(stored.contains("m=19456,t=2,p=1"), "{stored}");
        app.stop().await;
    }

    /// Changing the password needs the current one and ends the other sessions.
    async fn password_change_ends_other_sessions(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let laptop = app.other_browser();
        assert_eq!(sign_in(&app, &laptop, "alice", PASSWORD).await.status(), StatusCode::OK);

        let wrong = app.call("/api/change_password", &[("current_password", "not it at all"), ("new_password", "a brand new secret")]).await;
        let (status, body) = error_body(wrong).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("WrongPassword"), "{body}");
        let common = app.call("/api/change_password", &[("current_password", PASSWORD), ("new_password", "iloveyou")]).await;
        assert!(error_body(common).await.1.contains("CommonPassword"));

        let ok = app.call("/api/change_password", &[("current_password", PASSWORD), ("new_password", "a brand new secret")]).await;
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(app.signed_in_as().await.as_deref(), Some("alice"), "this session stays");
        let laptop_page = laptop.get(app.at("/")).send().await.unwrap().text().await.unwrap();
        assert!(!laptop_page.contains("account-link"), "the other session ended");
        assert_eq!(sign_in(&app, &laptop, "alice", "a brand new secret").await.status(), StatusCode::OK);
        app.stop().await;
    }

    /// Display name, language and theme are saved on the account and used
    /// at the next sign-in on another browser.
    async fn settings_are_saved(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        assert_eq!(app.call("/api/update_display_name", &[("display_name", "Alice in Chains")]).await.status(), StatusCode::OK);
        assert_eq!(app.signed_in_as().await.as_deref(), Some("Alice in Chains"));
        let bad = app.call("/api/update_display_name", &[("display_name", "   ")]).await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app.signed_in_as().await.as_deref(), Some("Alice in Chains"), "a refused change changes nothing");

        let saved = app.call("/api/save_preferences", &[("locale", "fr"), ("theme", "dark")]).await;
        assert_eq!(saved.status(), StatusCode::OK);
        let bad = app.call("/api/save_preferences", &[("locale", "klingon"), ("theme", "dark")]).await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let elsewhere = app.other_browser();
        let response = sign_in(&app, &elsewhere, "alice", PASSWORD).await;
        let cookies = set_cookies(&response);
        assert!(cookies.iter().any(|c| c.starts_with("i18n_pref_locale=fr")), "{cookies:?}");
        assert!(cookies.iter().any(|c| c.starts_with("theme=dark")), "{cookies:?}");
        let html = elsewhere.get(app.at("/")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(r#"lang="fr""#) && html.contains(r#"data-theme="dark""#));
        app.stop().await;
    }

    /// Settings need a session: anonymous calls get 401.
    async fn settings_need_a_session(env: TestEnv) {
        let app = spawn_app(env).await;
        let response = app.call("/api/update_display_name", &[("display_name", "Nobody")]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let page = app.client.get(app.at("/settings")).header("accept", "text/html").send().await.unwrap();
        assert_eq!(page.status(), StatusCode::FOUND);
        assert_eq!(page.headers()[header::LOCATION], "/signin?next=/settings");
        app.stop().await;
    }

    /// Avatars: a PNG becomes a cached WebP; too large, not an image or a
    /// decompression bomb are refused with their reason; the old one stays.
    async fn avatar_upload(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let default = app.client.get(app.at("/avatars/alice")).send().await.unwrap();
        assert_eq!(default.headers()[header::CONTENT_TYPE], "image/svg+xml");

        let upload = |bytes: Vec<u8>, name: &'static str| {
            let form = reqwest::multipart::Form::new()
                .part("avatar", reqwest::multipart::Part::bytes(bytes).file_name(name));
            app.client.post(app.at("/settings/avatar")).header("origin", &app.origin).multipart(form).send()
        };
        let response = upload(png(200, 100), "me.png").await.unwrap();
        assert_eq!(response.headers()[header::LOCATION], "/settings?avatar=saved");
        let served = app.client.get(app.at("/avatars/alice")).send().await.unwrap();
        assert_eq!(served.headers()[header::CONTENT_TYPE], "image/webp");
        let etag = served.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert!(served.headers()[header::CACHE_CONTROL].to_str().unwrap().contains("max-age"));
        let stored = served.bytes().await.unwrap();
        let again = app.client.get(app.at("/avatars/ALICE")).header(header::IF_NONE_MATCH, &etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

        for (bytes, outcome) in [
            (vec![0u8; 3 * 1024 * 1024], "too_large"),
            (b"just some text".to_vec(), "not_image"),
            (bomb_png(60_000, 60_000), "too_many_pixels"),
        ] {
            let response = upload(bytes, "x.png").await.unwrap();
            assert_eq!(response.headers()[header::LOCATION], format!("/settings?avatar={outcome}").as_str());
        }
        let still = app.client.get(app.at("/avatars/alice")).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(still, stored, "a refused upload keeps the previous avatar");
        // Every upload is decoded: five a minute per person.
        let fifth = upload(png(20, 20), "me.png").await.unwrap();
        assert_eq!(fifth.headers()[header::LOCATION], "/settings?avatar=saved");
        let sixth = upload(png(20, 20), "me.png").await.unwrap();
        assert_eq!(sixth.headers()[header::LOCATION], "/settings?avatar=too_fast");
        let page = app.client.get(app.at("/settings?avatar=too_fast")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Wait a minute"), "the page says why");

        let anonymous = app.other_browser().post(app.at("/settings/avatar")).header("origin", &app.origin)
            .multipart(reqwest::multipart::Form::new().part("avatar", reqwest::multipart::Part::bytes(png(10, 10))))
            .send().await.unwrap();
        assert_eq!(anonymous.headers()[header::LOCATION], "/signin?next=/settings");
        app.stop().await;
    }

    /// Deleting the account needs its password; its messages stay, unattributed.
    async fn account_deletion(env: TestEnv) {
        let app = spawn_app(env).await;
        app.sign_up("alice", PASSWORD).await;
        let alice = app.env.store.user_by_username("alice").await.unwrap().unwrap();
        let room = app.env.room("general", &alice).await;
        let mut message = tchatche_core::testing::draft(&room, &alice, "hello");
        message.seq = tchatche_core::ids::Seq(1);
        message.version = message.seq;
        app.env.store.upsert_messages(&[message.clone()]).await.unwrap();

        let wrong = app.call("/api/delete_account", &[("password", "not my password")]).await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        assert!(app.env.store.user_by_id(alice.id).await.unwrap().is_some());

        let done = app.call("/api/delete_account", &[("password", PASSWORD)]).await;
        assert_eq!(done.status(), StatusCode::OK);
        assert!(app.env.store.user_by_id(alice.id).await.unwrap().is_none());
        assert_eq!(app.signed_in_as().await, None);
        let kept = app.env.store.message_by_id(message.id).await.unwrap().expect("the message stays");
        assert_eq!((kept.body.as_str(), kept.author), ("hello", None));
        app.stop().await;
    }

    /// The admin commands: first admin (password on stdin), roles, disabling
    /// (which ends sessions at once), enabling, deleting.
    async fn admin_commands(env: TestEnv) {
        let app = spawn_app(env).await;
        let admin = Admin::connect(&app.env.config(&[])).await.unwrap();
        let store = admin.store.clone();
        let mut password = "root password is long\n".as_bytes();
        execute(&admin, AdminCommand::CreateAdmin { username: "root".into(), display_name: None }, &mut password).await.unwrap();
        let root = store.user_by_username("root").await.unwrap().unwrap();
        assert_eq!(root.role, tchatche_core::user::Role::Admin);
        let mut weak = "password\n".as_bytes();
        let refused = execute(&admin, AdminCommand::CreateAdmin { username: "root2".into(), display_name: None }, &mut weak).await;
        assert!(refused.is_err(), "a common password is refused here too");

        app.sign_up("alice", PASSWORD).await;
        execute(&admin, AdminCommand::SetRole { username: "ALICE".into(), role: "moderator".into() }, &mut &b""[..]).await.unwrap();
        assert_eq!(store.user_by_username("alice").await.unwrap().unwrap().role, tchatche_core::user::Role::Moderator);
        assert!(execute(&admin, AdminCommand::SetRole { username: "alice".into(), role: "king".into() }, &mut &b""[..]).await.is_err());

        execute(&admin, AdminCommand::Disable { username: "alice".into() }, &mut &b""[..]).await.unwrap();
        assert_eq!(app.signed_in_as().await, None, "disabling ends the session at once");
        let (status, body) = error_body(sign_in(&app, &app.other_browser(), "alice", PASSWORD).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("AccountDisabled"), "{body}");
        execute(&admin, AdminCommand::Enable { username: "alice".into() }, &mut &b""[..]).await.unwrap();
        assert_eq!(sign_in(&app, &app.client, "alice", PASSWORD).await.status(), StatusCode::OK);

        assert!(execute(&admin, AdminCommand::DeleteUser { username: "alice".into(), yes: false }, &mut &b""[..]).await.is_err());
        execute(&admin, AdminCommand::DeleteUser { username: "alice".into(), yes: true }, &mut &b""[..]).await.unwrap();
        assert!(store.user_by_username("alice").await.unwrap().is_none());
        assert!(execute(&admin, AdminCommand::Disable { username: "ghost".into() }, &mut &b""[..]).await.is_err());
        app.stop().await;
    }
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 200]));
    let mut out = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

/// A valid PNG header claiming a huge image, with a tiny body.
fn bomb_png(width: u32, height: u32) -> Vec<u8> {
    server::avatars::bomb_png(width, height)
}
