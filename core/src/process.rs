//! What every tchatche process does the same way: logging, and stopping on
//! SIGTERM or SIGINT.

use tokio_util::sync::CancellationToken;

use crate::config::{Config, LogFormat};

/// `RUST_LOG` filters (default `info`), `LOG_FORMAT` picks the shape.
pub fn init_tracing(config: &Config) {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = match config.log_format {
        LogFormat::Json => fmt().json().with_env_filter(filter).try_init(),
        LogFormat::Pretty => fmt().with_env_filter(filter).try_init(),
    };
}

/// Cancels `shutdown` on SIGTERM or SIGINT.
pub async fn stop_on_signal(shutdown: CancellationToken) {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("stop signal received; finishing what is in flight");
    shutdown.cancel();
}
