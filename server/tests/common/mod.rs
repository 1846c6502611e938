//! Starts the real server (router, layers, embedded worker) on a free port
//! against a test environment, for tests to talk to over HTTP.

#![allow(dead_code)]

use std::{sync::Arc, time::Duration};

use leptos::prelude::LeptosOptions;
use server::AppState;
use tchatche_core::testing::TestEnv;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub struct TestApp {
    /// `http://127.0.0.1:PORT`, where the server listens.
    pub url: String,
    /// The configured public origin (the same unless given another).
    pub origin: String,
    pub env: TestEnv,
    /// A client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

pub async fn spawn_app(env: TestEnv) -> TestApp {
    spawn_app_with(env, None).await
}

/// With `public_url`, the server believes it is reached there (https, say)
/// while tests talk to it on its local port.
pub async fn spawn_app_with(env: TestEnv, public_url: Option<&str>) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().unwrap();
    let local = format!("http://{addr}");
    let url = public_url.unwrap_or(&local).to_owned();
    let config = env.config(&[
        ("LEPTOS_SITE_ADDR", &addr.to_string()),
        ("PUBLIC_URL", &url),
        ("EMBEDDED_WORKER", "true"),
        ("WORKER_NAME", "test-server"),
    ]);
    let url = local;
    let origin = config.public_origin();
    let leptos_options =
        LeptosOptions::builder().output_name("tchatche").site_root("target/site").site_addr(addr).build();
    let limiter = env.limiter().await;
    let state =
        AppState { leptos_options, config: Arc::new(config), store: env.store.clone(), bus: env.bus.clone(), limiter };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(server::run(state, listener, shutdown.clone()));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp { url, origin, env, client, shutdown, task }
}

impl TestApp {
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// A plain HTML form post from our own pages (as a browser sends it).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.at(path))
            .header("origin", &self.origin)
            .header("referer", self.at("/"))
            .header("accept", "text/html")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A server-function call as the hydrated app makes it (JSON answers,
    /// real status codes).
    pub async fn call(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.at(path))
            .header("origin", &self.origin)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Creates an account through the sign-up form and stays signed in.
    pub async fn sign_up(&self, username: &str, password: &str) -> reqwest::Response {
        let response = self
            .post_form("/api/sign_up", &[("username", username), ("display_name", username), ("password", password)])
            .await;
        assert_eq!(response.status(), 302, "sign-up of {username} failed");
        response
    }

    /// Who the header says is signed in (their display name), if anyone.
    pub async fn signed_in_as(&self) -> Option<String> {
        let html = self.client.get(self.at("/")).send().await.unwrap().text().await.unwrap();
        let start = html.find(r#"data-testid="account-link""#)?;
        let name_start = html[start..].find(r#"<span class="max-w-32 truncate">"#)? + start + 32;
        let name_end = html[name_start..].find('<')? + name_start;
        Some(html[name_start..name_end].to_owned())
    }

    /// Another browser on the same server (its own cookies).
    pub fn other_browser(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// Stops the server the way SIGTERM does, and waits for it.
    pub async fn stop(self) -> TestEnv {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.task)
            .await
            .expect("the server stops within 15 s")
            .expect("server task")
            .expect("server result");
        self.env
    }
}
