//! `tchatche-worker`: the persistence worker as a process of its own, for
//! the scaled deployment (PostgreSQL + Redis). Stops cleanly on SIGTERM or
//! SIGINT: the batch in hand is finished, the rest stays in the stream.
//! (`tchatche worker` runs the same thing from the server binary.)

use tchatche_core::config::Config;
use tokio_util::sync::CancellationToken;

/// The allocator the server runs on (see the server crate).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("tchatche-worker: {err}");
            std::process::exit(2);
        }
    };
    tchatche_core::process::init_tracing(&config);
    let shutdown = CancellationToken::new();
    tokio::spawn(tchatche_core::process::stop_on_signal(shutdown.clone()));
    if let Err(err) = worker::run_process(&config, shutdown).await {
        eprintln!("tchatche-worker: {err:#}");
        std::process::exit(2);
    }
}
