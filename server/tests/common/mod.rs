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
    /// `http://127.0.0.1:PORT`, also the configured public URL.
    pub url: String,
    pub env: TestEnv,
    /// A client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

pub async fn spawn_app(env: TestEnv) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}");
    let config = env.config(&[
        ("LEPTOS_SITE_ADDR", &addr.to_string()),
        ("PUBLIC_URL", &url),
        ("EMBEDDED_WORKER", "true"),
        ("WORKER_NAME", "test-server"),
    ]);
    let leptos_options =
        LeptosOptions::builder().output_name("tchatche").site_root("target/site").site_addr(addr).build();
    let state = AppState { leptos_options, config: Arc::new(config), store: env.store.clone(), bus: env.bus.clone() };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(server::run(state, listener, shutdown.clone()));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp { url, env, client, shutdown, task }
}

impl TestApp {
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// A plain HTML form post from our own pages (as a browser sends it).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.at(path))
            .header("origin", &self.url)
            .header("referer", self.at("/"))
            .header("accept", "text/html")
            .form(form)
            .send()
            .await
            .unwrap()
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
