//! The tchatche server: axum around the Leptos app.
//!
//! # Layout
//! - [`run`]: start-up and graceful shutdown of the whole process (HTTP
//!   server, and in embedded mode the worker task).
//! - [`router`]: every route and layer; tests call it directly.
//! - `health`: `GET /healthz` (liveness) and `GET /readyz` (readiness).
//! - `listener`: the accept loop: header deadline, connection cap, shutdown grace.
//! - `sessions`: the tower-sessions layer (the store is `core::sessions`).
//! - `avatars`: avatar upload and serving.
//! - `realtime`: the WebSocket carrying live room events.
//! - `admin`: the `tchatche admin …` commands.
//! - `security`: the same-origin rule for state-changing requests, and
//!   security headers.
//! - `api_errors`: a server function's error answered with its own status, not 500.
//! - `assets`: cache headers for the compiled site.
//! - `caching`: ETags and `304 Not Modified` for cacheable pages.
//! - `shared_pages`: public pages rendered once a second for every anonymous
//!   reader, forgotten on every write.
//! - `crawlers`: `robots.txt`, the sitemaps, `X-Robots-Tag: noindex` by default.
//! - `markup`: Leptos' `<!>` markers written as standard empty comments, and
//!   each page's Content-Security-Policy with its nonce.
//! - `stalls`: renders a page again when Leptos leaves its render hanging.

pub mod admin;
mod api_errors;
mod assets;
pub mod avatars;
mod caching;
pub mod crawlers;
mod health;
mod listener;
mod markup;
pub mod realtime;
mod security;
mod sessions;
mod shared_pages;
mod stalls;

use std::{sync::Arc, time::Duration};

use anyhow::Context;
pub use app::state::AppState;
pub use listener::{HEADER_READ_TIMEOUT, SHUTDOWN_GRACE};
use app::{App, shell};
use axum::{
    Router,
    extract::DefaultBodyLimit,
    handler::Handler,
    routing::{get, post},
};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tchatche_core::{Bus, Store, config::Config, limits::Limiter, sessions::Sessions};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::{compression::CompressionLayer, timeout::TimeoutLayer, trace::TraceLayer};

/// mimalloc instead of glibc's allocator: rendering a page allocates and
/// frees thousands of small strings, and glibc's malloc took about a third
/// of the server's time under load (`perf` on the room page benchmark).
/// Declared here, not in `main`, so that tests and benchmarks run the
/// server on the allocator it runs on in production.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Connects storage and the bus for this configuration.
pub async fn connect(config: Config, leptos_options: LeptosOptions) -> anyhow::Result<AppState> {
    let store = Store::connect(&config.database_url, config.database_max_connections)
        .await
        .with_context(|| format!("opening the database {:?}", config.database_url))?;
    let (bus, limiter) = match &config.redis_url {
        Some(url) => (
            Bus::connect_redis(url, &config.redis_prefix).await.context("connecting to Redis")?,
            Limiter::connect_redis(url, &config.redis_prefix).await.context("connecting to Redis")?,
        ),
        None => (Bus::in_process(), Limiter::in_process()),
    };
    let sessions = Sessions::connect(&config, &store).await.context("opening the session store")?;
    Ok(AppState { leptos_options, config: Arc::new(config), store, bus, limiter, sessions })
}

/// Longest a request may take to be answered (a WebSocket only its upgrade).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Every route and layer of the server. `shutdown` closes live sockets.
pub fn router(state: AppState, shutdown: CancellationToken) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let shared_pages = shared_pages::SharedPages::default();
    let pages = Router::new()
        .leptos_routes(&state, routes, move || shell(leptos_options.clone()))
        .route_layer(axum::middleware::from_fn(stalls::retry_stalled_renders))
        .route_layer(axum::middleware::from_fn(markup::standard_comments))
        .route_layer(axum::middleware::from_fn_with_state(shared_pages.clone(), shared_pages::share_public_pages))
        .route_layer(axum::middleware::from_fn(caching::etag_cacheable_pages));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/avatars/{username}", get(avatars::serve))
        .route(
            realtime::ROUTE,
            get(realtime::upgrade).layer(axum::Extension(realtime::Realtime { open: Default::default(), shutdown })),
        )
        .route(
            "/settings/avatar",
            post(avatars::upload)
                .layer((DefaultBodyLimit::max(avatars::MAX_REQUEST_BYTES), axum::Extension(avatars::Decoders::default()))),
        )
        .merge(crawlers::routes(state.store.clone(), state.config.public_url.as_str()))
        .merge(pages)
        .nest_service(
            &format!("/{}", state.leptos_options.site_pkg_dir),
            assets::hashed_assets(&state.leptos_options),
        )
        // Unknown paths render the app's 404 page, which needs the state too.
        .fallback(
            leptos_axum::file_and_error_handler_with_context::<AppState, _>(
                {
                    let state = state.clone();
                    move || provide_context(state.clone())
                },
                shell,
            )
            .layer(axum::middleware::from_fn(stalls::retry_stalled_renders))
            .layer(axum::middleware::from_fn(markup::standard_comments)),
        )
        .layer(axum::middleware::from_fn(api_errors::status_of_app_errors))
        .layer(sessions::layer(state.sessions.clone(), &state.config))
        .layer(axum::middleware::from_fn_with_state(shared_pages, shared_pages::forget_after_writes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::same_origin_writes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::protective_headers))
        .layer(axum::middleware::from_fn(crawlers::noindex_by_default))
        .layer(CompressionLayer::new().br(true).gzip(true))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` is cancelled, then stops accepting requests,
/// lets the ones in flight finish, drains the embedded worker and closes
/// connections.
pub async fn run(state: AppState, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let translation = state.config.translation.clone().filter(|_| state.config.embedded_worker);
    let worker = state.config.embedded_worker.then(|| {
        let (store, bus, stop) = (state.store.clone(), state.bus.clone(), shutdown.clone());
        let name = state.config.worker_name.clone();
        let languages = translation.as_ref().map(|t| t.languages.clone()).unwrap_or_default();
        tokio::spawn(async move { worker::run_until_stopped(store, bus, &name, &languages, stop).await })
    });
    // Beside the embedded worker: the translator (it stops with `shutdown`;
    // what it has not translated, the next start's reconciliation finds).
    if let Some(translation) = translation {
        let (store, bus, stop) = (state.store.clone(), state.bus.clone(), shutdown.clone());
        let name = state.config.worker_name.clone();
        tokio::spawn(async move {
            if let Err(err) = worker::translate::run_translator(store, bus, translation, &name, stop).await {
                tracing::error!(%err, "the translator stopped");
            }
        });
    }

    tokio::spawn(state.sessions.clone().delete_expired_forever());
    if !state.bus.is_redis() {
        // Changes of access made by admin commands reach this server
        // through the database (with Redis, through Redis).
        let (store, bus, stop) = (state.store.clone(), state.bus.clone(), shutdown.clone());
        tokio::spawn(tchatche_core::access::relay_recorded_changes(store, bus, stop));
    }
    let app = router(state.clone(), shutdown.clone());
    listener::serve(listener, app, state.config.max_connections, shutdown).await;

    // No request is in flight any more: the queue can close and drain.
    state.bus.shutdown().await;
    if let Some(worker) = worker {
        match tokio::time::timeout(Duration::from_secs(10), worker).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => tracing::error!(%err, "worker failed"),
            Ok(Err(err)) => tracing::error!(%err, "worker task panicked"),
            Err(_) => tracing::error!("worker did not stop within 10 s"),
        }
    }
    state.store.close().await;
    Ok(())
}

/// Leptos' options from its `LEPTOS_*` variables, with the listen address
/// from our configuration. Hashed asset names are used whenever cargo-leptos
/// left its hash file beside the binary, so running the binary directly works.
pub fn leptos_options(config: &Config) -> anyhow::Result<LeptosOptions> {
    let mut options = get_configuration(None).context("reading the LEPTOS_* variables")?.leptos_options;
    options.site_addr = config.listen_addr;
    if options.output_name.is_empty() {
        options.output_name = "tchatche".into();
    }
    let beside_binary = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(&*options.hash_file)));
    if beside_binary.is_some_and(|path| path.exists()) {
        options.hash_files = true;
    }
    Ok(options)
}
