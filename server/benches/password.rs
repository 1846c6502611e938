//! Password hashing: the time of one argon2id hash and of one verification
//! with the parameters tchatche uses, which is what a sign-up or a sign-in
//! costs the server (and an attacker guessing offline).
//!
//! `cargo bench -p server --bench password`

use std::time::{Duration, Instant};

use tchatche_core::password;

const ROUNDS: u32 = 20;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let stored = password::hash("correct horse battery staple").await.unwrap();
        let hashing = time(|| async { password::hash("correct horse battery staple").await.unwrap() }).await;
        let verifying = time(|| async { password::verify("a wrong guess", Some(&stored)).await.unwrap() }).await;
        let unknown = time(|| async { password::verify("a wrong guess", None).await.unwrap() }).await;
        println!(
            "argon2id m={} KiB t={} p={}: hash {:.1} ms, verify (wrong password) {:.1} ms, verify (unknown user, dummy hash) {:.1} ms",
            password::MEMORY_KIB,
            password::PASSES,
            password::LANES,
            ms(hashing),
            ms(verifying),
            ms(unknown),
        );
    });
}

/// Mean time of one call, over `ROUNDS` sequential calls.
async fn time<F, Fut, T>(mut call: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let started = Instant::now();
    for _ in 0..ROUNDS {
        std::hint::black_box(call().await);
    }
    started.elapsed() / ROUNDS
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
