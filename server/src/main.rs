//! `tchatche`: runs the server (the default) or an admin command.

use clap::{Parser, Subcommand};
use tchatche_core::config::Config;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(name = "tchatche", version, about = "Realtime group chat")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Run the persistence worker (scaled mode; same as `tchatche-worker`).
    Worker,
    /// Account administration (first admin, roles, disabling, deleting).
    Admin {
        #[command(subcommand)]
        command: server::admin::AdminCommand,
    },
    /// Exit 0 when the local server answers /readyz with 200: it serves and
    /// reaches its database and Redis (for container health checks: the
    /// image has no curl).
    Healthcheck,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("tchatche: {err}");
            std::process::exit(2);
        }
    };
    tchatche_core::process::init_tracing(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Healthcheck => healthcheck(&config).await,
        Command::Admin { command } => server::admin::run(&config, command).await,
        Command::Worker => {
            let shutdown = CancellationToken::new();
            tokio::spawn(tchatche_core::process::stop_on_signal(shutdown.clone()));
            worker::run_process(&config, shutdown).await
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let leptos_options = server::leptos_options(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {} (LEPTOS_SITE_ADDR): {err}", config.listen_addr))?;
    let mode = if config.redis_url.is_some() { "scaled (Redis)" } else { "embedded" };
    let state = server::connect(config, leptos_options).await?;
    tracing::info!(mode, database = ?state.config.database_url, "tchatche is ready");
    println!("tchatche is running: open {}", state.config.public_url);

    let shutdown = CancellationToken::new();
    tokio::spawn(tchatche_core::process::stop_on_signal(shutdown.clone()));
    server::run(state, listener, shutdown).await?;
    tracing::info!("tchatche stopped");
    Ok(())
}

async fn healthcheck(config: &Config) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut addr = config.listen_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await?;
        let mut status_line = [0u8; 12];
        stream.read_exact(&mut status_line).await?;
        anyhow::Ok(status_line.ends_with(b" 200"))
    };
    match tokio::time::timeout(std::time::Duration::from_secs(3), check).await {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => anyhow::bail!("unhealthy"),
        Ok(Err(err)) => anyhow::bail!("unreachable: {err}"),
        Err(_) => anyhow::bail!("no answer within 3 s"),
    }
}
