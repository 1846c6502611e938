//! Translation: what it costs a post (nothing on its path: the worker queues
//! jobs after storing), and how many messages per second the translator
//! gets through against a real Apertium APy on this machine (English →
//! Spanish, one reader language).
//!
//! `cargo bench -p server --bench translation` (APy from Debian:
//! `scripts/install-tools.sh --browser`).

#[path = "../../worker/tests/common/apy.rs"]
mod apy;

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use tchatche_core::{
    bus::DraftKind,
    config::{TranslationConfig, TranslationEngine},
    languages::TranslateMode,
    store::{Room, User},
    testing::{Backend, TestEnv, draft},
};
use tokio_util::sync::CancellationToken;

const POSTS: usize = 2_000;
const TRANSLATED: usize = 300;
const SENTENCES: &[&str] = &[
    "The house is red and the dog is very big.",
    "My brother eats bread in the kitchen every morning.",
    "The children play in the garden with the cat.",
    "We are going to the market to buy fresh fruit tomorrow.",
    "She writes a long letter to her friend in the city.",
];

fn main() {
    let apy = apy::ApyProcess::start();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let off = posting(None, false).await;
        let queued = posting(Some(config(&apy.url())), false).await;
        let on = posting(Some(config(&apy.url())), true).await;
        println!(
            "translation [post cost]: {POSTS} posts answered after commit: {off:.0} posts/s with translation off, \
             {queued:.0} with jobs queued (no translator), {on:.0} with the translator and APy on the same 2 cores"
        );
        throughput(config(&apy.url())).await;
    });
}

fn config(url: &str) -> TranslationConfig {
    TranslationConfig {
        engine: TranslationEngine::Apertium,
        url: url.parse().unwrap(),
        api_key: None,
        languages: vec!["en", "es"],
        timeout: Duration::from_secs(10),
        concurrency: 4,
        max_chars: 2_000,
        daily_chars: u64::MAX,
    }
}

/// A room of an English writer with a Spanish reader who reads "always".
async fn babel(env: &TestEnv) -> (User, Room) {
    let writer = env.user("writer").await;
    let room = env.room("babel", &writer).await;
    let reader = env.user("lector").await;
    env.store.join_room(room.id, reader.id).await.unwrap();
    env.store.set_translation_preferences(reader.id, "es", TranslateMode::Always, &[]).await.unwrap();
    (writer, room)
}

fn english(room: &Room, writer: &User, i: usize) -> tchatche_core::event::MessageView {
    let mut message = draft(room, writer, SENTENCES[i % SENTENCES.len()]);
    message.lang = Some("en".into());
    message
}

/// Posts per second (each answered once stored), with the worker queueing
/// translation jobs when `translation` is set, and the translator running
/// when `translating`.
async fn posting(translation: Option<TranslationConfig>, translating: bool) -> f64 {
    let env = TestEnv::new(Backend::Embedded).await;
    let (writer, room) = babel(&env).await;
    let stop = CancellationToken::new();
    let languages = translation.as_ref().map(|t| t.languages.clone()).unwrap_or_default();
    let worker = tokio::spawn({
        let (store, bus, stop) = (env.store.clone(), env.bus.clone(), stop.clone());
        async move { worker::run_until_stopped(store, bus, "bench", &languages, stop).await }
    });
    let translator = translation.filter(|_| translating).map(|translation| {
        let (store, bus, stop) = (env.store.clone(), env.bus.clone(), stop.clone());
        tokio::spawn(async move { worker::translate::run_translator(store, bus, translation, "bench", stop).await })
    });
    let started = Instant::now();
    stream::iter(0..POSTS)
        .for_each_concurrent(64, |i| {
            let (env, room, writer) = (&env, &room, &writer);
            async move {
                env.bus.submit(&env.store, english(room, writer, i), DraftKind::Post).await.unwrap();
            }
        })
        .await;
    let rate = POSTS as f64 / started.elapsed().as_secs_f64();
    env.bus.shutdown().await;
    stop.cancel();
    let _ = worker.await;
    if let Some(translator) = translator {
        let _ = translator.await;
    }
    rate
}

/// Messages translated per second: the messages are stored first, then the
/// translator is timed until each has its Spanish translation.
async fn throughput(translation: TranslationConfig) {
    let env = TestEnv::new(Backend::Embedded).await;
    let (writer, room) = babel(&env).await;
    let mut messages = Vec::with_capacity(TRANSLATED);
    for i in 0..TRANSLATED {
        let mut message = english(&room, &writer, i);
        message.seq = tchatche_core::ids::Seq(i as i64 + 1);
        message.version = message.seq;
        messages.push(message);
    }
    env.store.upsert_messages(&messages).await.unwrap();
    let concurrency = translation.concurrency;
    let stop = CancellationToken::new();
    let started = Instant::now();
    worker::translate::queue_stored(&env.store, &env.bus, &translation.languages, &messages).await.unwrap();
    let translator = tokio::spawn({
        let (store, bus, stop) = (env.store.clone(), env.bus.clone(), stop.clone());
        async move { worker::translate::run_translator(store, bus, translation, "bench", stop).await }
    });
    let ids: Vec<_> = messages.iter().map(|m| m.id).collect();
    while env.store.translations(&ids, "es").await.unwrap().len() < TRANSLATED {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    println!(
        "translation [APy en→es, {concurrency} in flight]: {TRANSLATED} messages in {:.2} s = {:.0} messages/s ({:.1} ms each)",
        elapsed.as_secs_f64(),
        TRANSLATED as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / TRANSLATED as f64,
    );
    stop.cancel();
    let _ = translator.await;
}
