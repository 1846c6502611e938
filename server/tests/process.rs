//! The real `tchatche` binary: a bad configuration stops it with one line,
//! and SIGTERM stops it cleanly.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use tchatche_core::testing::TestEnv;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `DATABASE_URL=mysql://…` stops start-up with a one-line error naming it.
#[test]
fn a_bad_database_url_stops_start_up_with_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_tchatche"))
        .env("DATABASE_URL", "mysql://root@localhost/db")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATABASE_URL") && stderr.contains("postgres://"), "{stderr}");
}

/// An unparsable listen address is reported the same way.
#[test]
fn an_unparsable_address_stops_start_up() {
    let output = Command::new(env!("CARGO_BIN_EXE_tchatche")).env("LEPTOS_SITE_ADDR", "here:there").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("LEPTOS_SITE_ADDR"));
}

async fn starts_serves_and_stops_on_sigterm(env: TestEnv) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tchatche"))
        .envs(env.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("EMBEDDED_WORKER", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
    assert_eq!(first_line.trim(), format!("tchatche is running: open http://127.0.0.1:{port}/"));

    let health = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    let started = Instant::now();
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "still running 15 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}

/// Embedded defaults: the binary serves, then stops on SIGTERM with status 0.
#[tokio::test]
async fn embedded_binary_stops_cleanly_on_sigterm() {
    starts_serves_and_stops_on_sigterm(TestEnv::embedded().await).await;
}

/// Scaled mode (PostgreSQL + Redis): the same.
#[tokio::test]
async fn scaled_binary_stops_cleanly_on_sigterm() {
    starts_serves_and_stops_on_sigterm(TestEnv::scaled().await).await;
}
