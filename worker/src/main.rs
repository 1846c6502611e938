//! `tchatche-worker`: the persistence worker as a process of its own, for
//! the scaled deployment (PostgreSQL + Redis). Stops cleanly on SIGTERM or
//! SIGINT: the batch in hand is finished, the rest stays in the stream.

use anyhow::Context;
use tchatche_core::{Store, bus::Bus, config::Config};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("tchatche-worker: {err}");
            std::process::exit(2);
        }
    };
    init_tracing(&config);
    let Some(redis_url) = &config.redis_url else {
        eprintln!("tchatche-worker: REDIS_URL is not set; without Redis the server runs the worker itself");
        std::process::exit(2);
    };
    let store = Store::connect(&config.database_url, config.database_max_connections)
        .await
        .context("connecting to the database")?;
    let bus = Bus::connect_redis(redis_url, &config.redis_prefix).await.context("connecting to Redis")?;

    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    worker::run_until_stopped(store.clone(), bus.clone(), &config.worker_name, shutdown).await?;
    bus.shutdown().await;
    store.close().await;
    Ok(())
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match config.log_format {
        tchatche_core::config::LogFormat::Json => fmt().json().with_env_filter(filter).init(),
        tchatche_core::config::LogFormat::Pretty => fmt().with_env_filter(filter).init(),
    }
}

async fn stop_on_signal(shutdown: CancellationToken) {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("stop signal received");
    shutdown.cancel();
}
