//! Persistence: how many messages per second the worker stores, into SQLite
//! (embedded: in-process queue, group commit) and into PostgreSQL (scaled:
//! drained from the Redis stream).
//!
//! `cargo bench -p server --bench persistence` (PostgreSQL and Redis must run).

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use tchatche_core::{
    bus::DraftKind,
    testing::{Backend, TestEnv, draft},
};
use tokio_util::sync::CancellationToken;

const MESSAGES: usize = 20_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(embedded());
    runtime.block_on(scaled());
}

/// Embedded: posters wait for their batch to commit; measured end to end.
async fn embedded() {
    let env = TestEnv::new(Backend::Embedded).await;
    let author = env.user("writer").await;
    let room = env.room("persist", &author).await;
    let stop = CancellationToken::new();
    let worker = tokio::spawn(worker::run_until_stopped(env.store.clone(), env.bus.clone(), "bench", &[], stop.clone()));
    let started = Instant::now();
    stream::iter(0..MESSAGES)
        .for_each_concurrent(1_000, |i| {
            let (env, room, author) = (&env, &room, &author);
            async move {
                env.bus.submit(&env.store, draft(room, author, &format!("m{i}")), DraftKind::Post).await.unwrap();
            }
        })
        .await;
    let elapsed = started.elapsed();
    report("SQLite (embedded, posts answered after commit)", elapsed);
    env.bus.shutdown().await;
    stop.cancel();
    let _ = worker.await;
}

/// Scaled: fill the stream first, then time the worker draining it.
async fn scaled() {
    let env = TestEnv::new(Backend::Scaled).await;
    let author = env.user("writer").await;
    let room = env.room("persist", &author).await;
    stream::iter(0..MESSAGES)
        .for_each_concurrent(64, |i| {
            let (env, room, author) = (&env, &room, &author);
            async move {
                env.bus.submit(&env.store, draft(room, author, &format!("m{i}")), DraftKind::Post).await.unwrap();
            }
        })
        .await;
    let stop = CancellationToken::new();
    let started = Instant::now();
    let worker = tokio::spawn(worker::run_until_stopped(env.store.clone(), env.bus.clone(), "bench", &[], stop.clone()));
    // Done when the room's counter, advanced in the same transaction as
    // the messages, reaches the last one. (Reading the pending hash here
    // instead would copy megabytes out of Redis every poll.)
    while env.store.room_last_seq(room.id).await.unwrap().0 < MESSAGES as i64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let stored = env.store.messages_before(room.id, None, 10).await.unwrap();
    assert!(!stored.messages.is_empty());
    report("PostgreSQL (scaled, drained from the Redis stream)", elapsed);
    stop.cancel();
    let _ = worker.await;
}

fn report(what: &str, elapsed: Duration) {
    println!(
        "persistence [{what}]: {MESSAGES} messages in {:.2} s = {:.0} messages/s",
        elapsed.as_secs_f64(),
        MESSAGES as f64 / elapsed.as_secs_f64()
    );
}
