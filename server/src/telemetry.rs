//! Logging: `RUST_LOG` filters (default `info`), `LOG_FORMAT` picks the shape.

use tchatche_core::config::{Config, LogFormat};
use tracing_subscriber::{EnvFilter, fmt};

pub fn init(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let _ = match config.log_format {
        LogFormat::Json => fmt().json().with_env_filter(filter).try_init(),
        LogFormat::Pretty => fmt().with_env_filter(filter).try_init(),
    };
}
