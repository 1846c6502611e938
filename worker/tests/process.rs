//! The real `tchatche-worker` process against PostgreSQL and Redis.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use tchatche_core::{
    bus::DraftKind,
    testing::{TestEnv, draft},
};

/// Without Redis there is nothing for the worker process to do: it says so.
#[test]
fn refuses_to_start_without_redis() {
    let output = Command::new(env!("CARGO_BIN_EXE_tchatche-worker")).env_remove("REDIS_URL").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("REDIS_URL"));
}

/// Messages queued on Redis are stored by the worker process, which then
/// stops with status 0 on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_queued_messages_and_stops_on_sigterm() {
    let env = TestEnv::scaled().await;
    let alice = env.user("alice").await;
    let room = env.room("room", &alice).await;
    let mut posted = Vec::new();
    for i in 0..25 {
        posted.push(env.bus.submit(&env.store, draft(&room, &alice, &format!("m{i}")), DraftKind::Post).await.unwrap());
    }

    let mut child = Command::new(env!("CARGO_BIN_EXE_tchatche-worker"))
        .envs(env.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("WORKER_NAME", "process-test")
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stored = env.store.messages_before(room.id, None, 100).await.unwrap().messages;
        if stored == posted {
            break;
        }
        assert!(Instant::now() < deadline, "stored {} of {} messages", stored.len(), posted.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running 10 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}
