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
    /// The client's cookies.
    pub jar: Arc<reqwest::cookie::Jar>,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

pub async fn spawn_app(env: TestEnv) -> TestApp {
    spawn_app_with(env, None).await
}

/// With `public_url`, the server believes it is reached there (https, say)
/// while tests talk to it on its local port.
pub async fn spawn_app_with(env: TestEnv, public_url: Option<&str>) -> TestApp {
    match public_url {
        Some(url) => spawn_app_configured(env, &[("PUBLIC_URL", url)]).await,
        None => spawn_app_configured(env, &[]).await,
    }
}

/// A server with more configuration (`PUBLIC_URL`, `TRUST_PROXY`…).
pub async fn spawn_app_configured(env: TestEnv, vars: &[(&str, &str)]) -> TestApp {
    let Process { url, origin, shutdown, task } = start(&env, vars).await;
    let (client, jar) = browser();
    TestApp { url, origin, env, client, jar, shutdown, task }
}

/// One server process on a test environment.
pub struct Process {
    /// `http://127.0.0.1:PORT`, where it listens.
    pub url: String,
    /// Its configured public origin.
    pub origin: String,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Process {
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(15), self.task).await;
    }
}

async fn start(env: &TestEnv, vars: &[(&str, &str)]) -> Process {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().unwrap();
    let local = format!("http://{addr}");
    let url = vars.iter().find(|(name, _)| *name == "PUBLIC_URL").map_or(local.as_str(), |(_, url)| *url).to_owned();
    let mut all = vec![
        ("LEPTOS_SITE_ADDR", addr.to_string()),
        ("PUBLIC_URL", url),
        ("EMBEDDED_WORKER", "true".to_owned()),
        ("WORKER_NAME", "test-server".to_owned()),
    ];
    all.extend(vars.iter().filter(|(name, _)| *name != "PUBLIC_URL").map(|(name, value)| (*name, value.to_string())));
    let all: Vec<(&str, &str)> = all.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let config = env.config(&all);
    let origin = config.public_origin();
    let leptos_options =
        LeptosOptions::builder().output_name("tchatche").site_root("target/site").site_addr(addr).build();
    // A test that names Redis itself (through a proxy, or as another
    // process) gets a bus and a limiter of their own, as a process would.
    let (bus, limiter) = match vars.iter().find(|(name, _)| *name == "REDIS_URL") {
        Some(_) => {
            let url = config.redis_url.as_ref().unwrap();
            (
                tchatche_core::Bus::connect_redis(url, &config.redis_prefix).await.expect("bus"),
                tchatche_core::limits::Limiter::connect_redis(url, &config.redis_prefix).await.expect("limiter"),
            )
        }
        None => (env.bus.clone(), env.limiter().await),
    };
    let sessions = tchatche_core::sessions::Sessions::connect(&config, &env.store).await.expect("session store");
    let state = AppState { leptos_options, config: Arc::new(config), store: env.store.clone(), bus, limiter, sessions };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(server::run(state, listener, shutdown.clone()));
    Process { url: local, origin, shutdown, task }
}

impl TestApp {
    /// Scaled mode: a second server process behind the same public origin,
    /// with its own bus and limiter on the same Redis and database.
    pub async fn another_process(&self) -> Process {
        let redis = tchatche_core::testing::redis_url();
        let vars = [("PUBLIC_URL", self.origin.as_str()), ("REDIS_URL", redis.as_str()), ("EMBEDDED_WORKER", "false")];
        start(&self.env, &vars).await
    }

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

    /// A reading server function (a `GET`) as the hydrated app calls it.
    pub async fn read(&self, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
        read_as(&self.client, &self.at(path), query).await
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
        let marker = r#"<bdi class="max-w-32 truncate">"#;
        let name_start = html[start..].find(marker)? + start + marker.len();
        let name_end = html[name_start..].find('<')? + name_start;
        Some(html[name_start..name_end].to_owned())
    }

    /// Another browser on the same server (its own cookies).
    pub fn other_browser(&self) -> reqwest::Client {
        browser().0
    }

    /// The `Cookie` header this app's client sends.
    pub fn cookie_header(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        self.jar.cookies(&self.url.parse().unwrap()).map(|v| v.to_str().unwrap().to_owned())
    }

    /// Opens the socket as this app's client (its cookies, our origin).
    pub async fn socket(&self) -> Ws {
        open_socket(&self.url, &self.origin, self.cookie_header()).await
    }

    /// Creates a room as the signed-in client; returns its slug.
    pub async fn create_room(&self, name: &str, visibility: &str) -> String {
        let response = self.call("/api/create_room", &[("name", name), ("description", ""), ("visibility", visibility)]).await;
        assert_eq!(response.status(), 200, "creating {name}: {:?}", response.text().await);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        location.trim_start_matches("/r/").to_owned()
    }

    /// The id of a room, from storage.
    pub async fn room_id(&self, slug: &str) -> tchatche_core::ids::RoomId {
        self.env.store.room_by_slug(slug).await.unwrap().expect("the room exists").id
    }

    /// Posts a message as the signed-in client (the hydrated app's call).
    pub async fn post(&self, room: tchatche_core::ids::RoomId, body: &str) -> reqwest::Response {
        self.post_with_id(room, &uuid::Uuid::new_v4().to_string(), body).await
    }

    pub async fn post_with_id(&self, room: tchatche_core::ids::RoomId, id: &str, body: &str) -> reqwest::Response {
        self.call("/api/post_message", &[("room", &room.0.to_string()), ("id", id), ("body", body)]).await
    }

    /// Waits until the worker stored every message posted in `room` so
    /// far (what reads storage, as unread counts do, sees them then).
    pub async fn until_stored(&self, room: tchatche_core::ids::RoomId) {
        for _ in 0..100 {
            if self.env.bus.pending_messages(room).await.unwrap().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the messages of room {room} were not stored within 5 s");
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

    /// Asks the server to stop; how long it took (at most `limit`: `None`
    /// if it had not stopped by then).
    pub async fn stop_timed(self, limit: Duration) -> Option<Duration> {
        let started = std::time::Instant::now();
        self.shutdown.cancel();
        tokio::time::timeout(limit, self.task).await.ok().map(|_| started.elapsed())
    }
}

/// A client that keeps cookies (readable through the jar) and does not follow redirects.
pub fn browser() -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (client, jar)
}

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/ws` on a server, as a browser tab would.
pub async fn open_socket(url: &str, origin: &str, cookie: Option<String>) -> Ws {
    try_open_socket(url, origin, cookie).await.expect("socket opens")
}

/// Opens `/ws`, or says why the server refused.
pub async fn try_open_socket(url: &str, origin: &str, cookie: Option<String>) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("{}/ws", url.replacen("http", "ws", 1)).into_client_request().unwrap();
    request.headers_mut().insert("origin", origin.parse().unwrap());
    if let Some(cookie) = cookie {
        request.headers_mut().insert("cookie", cookie.parse().unwrap());
    }
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

/// Sends one client frame.
pub async fn send_frame(ws: &mut Ws, frame: &tchatche_core::event::ClientFrame) {
    use futures::SinkExt;
    let text = serde_json::to_string(frame).unwrap();
    ws.send(tokio_tungstenite::tungstenite::Message::text(text)).await.unwrap();
}

/// The next server frame (pings skipped), within 5 s.
pub async fn next_frame(ws: &mut Ws) -> tchatche_core::event::ServerFrame {
    use futures::StreamExt;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("the socket is open")
            .expect("a valid frame");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            return serde_json::from_str(&text).expect("a server frame");
        }
    }
}

/// Asserts no frame (but pings) arrives for `wait`.
pub async fn no_frame(ws: &mut Ws, wait: Duration) {
    use futures::StreamExt;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text)))) => panic!("unexpected frame {text}"),
            Ok(_) => {}
        }
    }
}

/// A reading server function (a `GET`) called by `client`.
pub async fn read_as(client: &reqwest::Client, url: &str, query: &[(&str, &str)]) -> reqwest::Response {
    client.get(url).header("accept", "application/json").query(query).send().await.unwrap()
}

/// A TCP proxy to the test Redis that can stop passing bytes on, as a hung
/// Redis or a network partition does, to test what the app does then.
pub struct FreezableProxy {
    /// `redis://127.0.0.1:PORT`, to configure as `REDIS_URL`.
    pub url: String,
    frozen: Arc<std::sync::atomic::AtomicBool>,
}

impl FreezableProxy {
    pub async fn to_redis() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let upstream = tchatche_core::testing::redis_url();
        let upstream = upstream.trim_start_matches("redis://").split('/').next().unwrap().to_owned();
        let frozen = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = frozen.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { continue };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(client_read, server_write, flag.clone()));
                tokio::spawn(pump(server_read, client_write, flag.clone()));
            }
        });
        Self { url, frozen }
    }

    /// Stops (or resumes) passing bytes either way; connections stay open.
    pub fn freeze(&self, frozen: bool) {
        self.frozen.store(frozen, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn pump(mut from: impl tokio::io::AsyncRead + Unpin, mut to: impl tokio::io::AsyncWrite + Unpin, frozen: Arc<std::sync::atomic::AtomicBool>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        while frozen.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let Ok(read) = from.read(&mut buffer).await else { return };
        if read == 0 {
            return;
        }
        while frozen.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// A page as a browser gets it (asking for HTML).
pub struct Page {
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

pub async fn fetch_page(client: &reqwest::Client, url: &str) -> Page {
    let response = client.get(url).header("accept", "text/html").send().await.unwrap();
    Page { status: response.status(), headers: response.headers().clone(), html: response.text().await.unwrap() }
}

impl Page {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
    }

    pub fn robots_header(&self) -> &str {
        self.header("x-robots-tag")
    }

    pub fn has_noindex_meta(&self) -> bool {
        self.html.contains(r#"<meta name="robots" content="noindex""#)
    }

    /// Neither the header nor the meta tag keeps search engines out.
    pub fn indexable(&self) -> bool {
        !self.robots_header().contains("noindex") && !self.has_noindex_meta()
    }

    /// Both say `noindex`.
    pub fn noindex(&self) -> bool {
        self.robots_header() == "noindex" && self.has_noindex_meta()
    }

    /// The page's JSON-LD, parsed.
    pub fn structured_data(&self) -> serde_json::Value {
        let start = self.html.find(r#"<script type="application/ld+json">"#).expect("JSON-LD") + 35;
        let end = self.html[start..].find("</script>").unwrap() + start;
        serde_json::from_str(&self.html[start..end]).expect("valid JSON-LD")
    }
}
