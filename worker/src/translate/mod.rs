//! Message translation, after storage and never on the posting path:
//!
//! 1. [`queue_stored`]: once the worker has stored a batch, each new or
//!    edited message in a room that may be translated gets one job listing
//!    the languages its room's "always" readers want (the cost grows with
//!    languages, not readers).
//! 2. [`run_translator`]: takes jobs from their own queue, asks the engine
//!    (code, mentions and links kept out of its reach), sanitizes its answer
//!    like any message, stores it for that message version, tells the room.
//!    An engine that is down pauses the translator (a circuit breaker)
//!    without losing a job; one that refuses a text for good sets it aside.
//! 3. [`reconcile`]: every few minutes, recent messages still missing a
//!    wanted translation are queued again (after a crash of the in-process
//!    queue, or a reader who just switched to "always").
//!
//! - `engine`: the HTTP clients (Apertium APy, LibreTranslate).
//! - `protect`: keeping code, mentions and links out of the engine's hands.

pub mod engine;
pub mod protect;

use std::{
    collections::{HashMap, HashSet, hash_map::Entry},
    time::{Duration, Instant},
};

use tchatche_core::{
    Error, Store,
    bus::{Bus, JobReceipt, TranslationJob},
    config::{TranslationConfig, TranslationEngine},
    event::{MessageView, RoomEvent, Translation},
    ids::{RoomId, UnixMillis},
    message::sanitize,
    store::RoomReaders,
};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use self::engine::{Engine, EngineConfig, EngineError, EngineKind};

/// Jobs taken at once.
const MAX_JOBS: usize = 16;
const POLL: Duration = Duration::from_millis(500);
/// Failures in a row that open the breaker, and how long it stays open.
const BREAKER_FAILURES: u32 = 3;
const BREAKER_OPEN: Duration = Duration::from_secs(15);
/// Retries of an engine that cannot answer are never further apart than
/// the breaker's pause: translations resume soon after it is back.
const MAX_BACKOFF: Duration = BREAKER_OPEN;
/// How far back the reconciliation pass looks, and how often it runs.
const RECONCILE_WINDOW_MS: i64 = 24 * 3600 * 1000;
const RECONCILE_EVERY: Duration = Duration::from_secs(300);
const RECONCILE_LIMIT: u32 = 2_000;

/// Queues translation jobs for message versions just stored.
pub async fn queue_stored(store: &Store, bus: &Bus, languages: &[&'static str], written: &[MessageView]) -> Result<usize, Error> {
    let mut readers: HashMap<RoomId, Option<RoomReaders>> = HashMap::new();
    let mut queued = 0;
    for message in written.iter().filter(|m| !m.deleted) {
        let Some(lang) = message.lang.as_deref().filter(|lang| languages.contains(lang)) else { continue };
        if let Entry::Vacant(slot) = readers.entry(message.room_id) {
            let wanted = match store.room_by_id(message.room_id).await? {
                Some(room) if room.may_be_translated() => Some(store.room_readers(room.id).await?),
                _ => None,
            };
            slot.insert(wanted);
        }
        let Some(Some(room_readers)) = readers.get(&message.room_id) else { continue };
        let targets: Vec<String> =
            room_readers.targets(lang).into_iter().filter(|target| languages.contains(target)).map(str::to_owned).collect();
        if targets.is_empty() {
            continue;
        }
        let job = TranslationJob { message_id: message.id, room_id: message.room_id, version: message.version, from: lang.to_owned(), targets };
        bus.queue_translation(&job).await?;
        queued += 1;
    }
    Ok(queued)
}

/// Queues again the recent messages that miss a translation someone wants.
pub async fn reconcile(store: &Store, bus: &Bus, languages: &[&'static str]) -> Result<usize, Error> {
    let since = UnixMillis(UnixMillis::now().0 - RECONCILE_WINDOW_MS);
    let candidates = store.translatable_since(since, RECONCILE_LIMIT).await?;
    let mut readers: HashMap<RoomId, RoomReaders> = HashMap::new();
    let mut queued = 0;
    for candidate in candidates {
        if !languages.contains(&candidate.lang.as_str()) {
            continue;
        }
        if let Entry::Vacant(slot) = readers.entry(candidate.room_id) {
            slot.insert(store.room_readers(candidate.room_id).await?);
        }
        let mut missing = Vec::new();
        for target in readers[&candidate.room_id].targets(&candidate.lang) {
            if languages.contains(&target) && store.translations(&[candidate.message_id], target).await?.is_empty() {
                missing.push(target.to_owned());
            }
        }
        if !missing.is_empty() {
            let job = TranslationJob {
                message_id: candidate.message_id,
                room_id: candidate.room_id,
                version: candidate.version,
                from: candidate.lang,
                targets: missing,
            };
            bus.queue_translation(&job).await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// What became of one job.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every wanted translation is stored (or no longer wanted).
    Done { stored: usize },
    /// The engine refused it for good: set aside.
    SetAside(String),
    /// The engine cannot answer now: the job stays queued.
    Later(Option<Duration>),
}

/// The translator: the engine, its breaker and its daily budget. Shared by
/// the jobs in flight (`TRANSLATE_CONCURRENCY` at once).
pub struct Translator {
    store: Store,
    bus: Bus,
    engine: Engine,
    config: TranslationConfig,
    limits: std::sync::Mutex<Limits>,
    /// The language pairs the engine offers, asked once it answers.
    pairs: tokio::sync::OnceCell<HashSet<(String, String)>>,
}

/// The breaker and the daily budget.
#[derive(Default)]
struct Limits {
    failures: u32,
    open_until: Option<Instant>,
    budget_day: i64,
    spent_today: u64,
}

impl Translator {
    pub fn new(store: Store, bus: Bus, config: TranslationConfig) -> Self {
        let kind = match config.engine {
            TranslationEngine::Apertium => EngineKind::Apertium,
            TranslationEngine::LibreTranslate => EngineKind::LibreTranslate,
        };
        let engine = Engine::new(EngineConfig {
            kind,
            url: config.url.as_str().trim_end_matches('/').to_owned(),
            api_key: config.api_key.clone(),
            timeout: config.timeout,
        });
        Self { store, bus, engine, config, limits: Default::default(), pairs: Default::default() }
    }

    /// Translates one job into each of its languages not stored yet.
    pub async fn translate(&self, job: &TranslationJob) -> Result<Outcome, Error> {
        let Some(message) = self.store.message_by_id(job.message_id).await? else { return Ok(Outcome::Done { stored: 0 }) };
        // Edited since (a newer job comes), deleted, or the room changed its mind.
        if message.version != job.version || message.deleted {
            return Ok(Outcome::Done { stored: 0 });
        }
        if !self.store.room_by_id(job.room_id).await?.is_some_and(|room| room.may_be_translated()) {
            return Ok(Outcome::Done { stored: 0 });
        }
        if message.body.chars().count() > self.config.max_chars {
            return Ok(Outcome::SetAside(format!("longer than TRANSLATE_MAX_CHARS ({})", self.config.max_chars)));
        }
        let offered = || async { self.engine.pairs().await.map(|pairs| pairs.into_iter().collect::<HashSet<_>>()) };
        let pairs = match self.pairs.get_or_try_init(offered).await {
            Ok(pairs) => pairs,
            Err(err) => return Ok(self.engine_failed(&err.to_string())),
        };
        let mut stored = 0;
        let mut refused = Vec::new();
        for target in &job.targets {
            // A pair the engine lacks is no job for it (APy has no en-fr).
            if !pairs.contains(&(job.from.clone(), target.clone())) {
                continue;
            }
            if !self.store.translations(&[job.message_id], target).await?.is_empty() {
                continue;
            }
            if let Some(wait) = self.must_wait(message.body.chars().count() as u64) {
                return Ok(Outcome::Later(Some(wait)));
            }
            let protected = protect::protect(&message.html);
            match self.engine.translate_html(protected.html(), &job.from, target).await {
                Ok(translated) => {
                    self.limits().failures = 0;
                    let html = sanitize(&protected.restore(&translated));
                    if self.store.put_translation(job.message_id, job.version, target, &html).await? {
                        stored += 1;
                        let translation = Translation { lang: target.clone(), version: job.version, html };
                        let event = RoomEvent::Translated { room_id: job.room_id, message_id: job.message_id, translation };
                        if let Err(err) = self.bus.publish(event).await {
                            // Stored: readers get it with their next page or catch-up.
                            tracing::warn!(%err, "a translation could not be announced");
                        }
                    }
                }
                Err(EngineError::Refused { status, message }) => refused.push(format!("{target}: {status} {message}")),
                Err(EngineError::RateLimited { retry_after }) => return Ok(Outcome::Later(retry_after)),
                Err(EngineError::Unavailable(reason)) => return Ok(self.engine_failed(&reason)),
            }
        }
        if refused.is_empty() { Ok(Outcome::Done { stored }) } else { Ok(Outcome::SetAside(refused.join("; "))) }
    }

    /// Counts a failure of the engine, opening the breaker after a few in a row.
    fn engine_failed(&self, reason: &str) -> Outcome {
        let mut limits = self.limits();
        limits.failures += 1;
        if limits.failures >= BREAKER_FAILURES {
            limits.open_until = Some(Instant::now() + BREAKER_OPEN);
            tracing::warn!(%reason, "the translation engine is down; translations wait");
        }
        Outcome::Later(None)
    }

    /// Whether the breaker is open or today's characters are spent (then
    /// how long to wait); else counts `chars` as spent.
    fn must_wait(&self, chars: u64) -> Option<Duration> {
        let mut limits = self.limits();
        if let Some(until) = limits.open_until {
            let now = Instant::now();
            if until > now {
                return Some(until - now);
            }
            limits.open_until = None;
        }
        let day = UnixMillis::now().0 / 86_400_000;
        if day != limits.budget_day {
            (limits.budget_day, limits.spent_today) = (day, 0);
        }
        if limits.spent_today + chars > self.config.daily_chars {
            let next_day_ms = (day + 1) * 86_400_000 - UnixMillis::now().0;
            return Some(Duration::from_millis(next_day_ms.max(1_000) as u64));
        }
        limits.spent_today += chars;
        None
    }

    fn limits(&self) -> std::sync::MutexGuard<'_, Limits> {
        self.limits.lock().expect("translator limits poisoned")
    }
}

/// Takes jobs until `shutdown`: the translator task of the worker process,
/// or of the server in embedded mode.
pub async fn run_translator(store: Store, bus: Bus, config: TranslationConfig, name: &str, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut consumer = bus.translation_consumer(name).await?;
    let languages = config.languages.clone();
    let concurrency = config.concurrency;
    let translator = Translator::new(store.clone(), bus.clone(), config);
    tracing::info!(name, engine = ?translator.config.engine, "translator started");
    let mut last_reconcile: Option<Instant> = None;
    let mut backoff = Duration::from_secs(1);
    while !shutdown.is_cancelled() {
        if last_reconcile.is_none_or(|at| at.elapsed() >= RECONCILE_EVERY) {
            last_reconcile = Some(Instant::now());
            match reconcile(&store, &bus, &languages).await {
                Ok(0) => {}
                Ok(queued) => tracing::info!(queued, "queued again messages missing a translation"),
                Err(err) => tracing::warn!(%err, "the reconciliation pass failed"),
            }
        }
        let jobs = tokio::select! {
            jobs = consumer.next(MAX_JOBS, POLL) => jobs,
            () = shutdown.cancelled() => break,
        };
        let jobs = match jobs {
            Ok(jobs) => jobs,
            Err(err) => {
                tracing::warn!(%err, "reading translation jobs failed");
                sleep_or_stop(backoff, &shutdown).await;
                continue;
            }
        };
        // Up to `concurrency` jobs in flight; their entries are settled after.
        let outcomes: Vec<(JobReceipt, TranslationJob, Result<Settle, Error>)> = futures::stream::iter(jobs)
            .map(|(receipt, job)| {
                let (translator, shutdown) = (&translator, &shutdown);
                async move {
                    let result = run_job(translator, &job, shutdown).await;
                    (receipt, job, result)
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        for (receipt, job, result) in outcomes {
            let settled = match result {
                Ok(Settle::Done) => consumer.done(receipt).await,
                Ok(Settle::SetAside(reason)) => consumer.dead(receipt, &job, &reason).await,
                Ok(Settle::Unfinished) => Ok(()),
                Err(err) => Err(err),
            };
            match settled {
                Ok(()) => backoff = Duration::from_secs(1),
                Err(err) => {
                    tracing::warn!(%err, message = %job.message_id, "translation job failed; it waits");
                    sleep_or_stop(backoff, &shutdown).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
    tracing::info!(name, "translator stopped");
    Ok(())
}

/// What to do with a job's queue entry.
enum Settle {
    Done,
    SetAside(String),
    /// The process stops: the entry stays (on Redis another translator, or
    /// this one restarted, takes it; in-process, reconciliation finds it).
    Unfinished,
}

/// Runs one job to its end, retrying it for as long as the engine cannot
/// answer, unless the process stops.
async fn run_job(translator: &Translator, job: &TranslationJob, shutdown: &CancellationToken) -> Result<Settle, Error> {
    let mut backoff = Duration::from_secs(1);
    loop {
        match translator.translate(job).await? {
            Outcome::Done { .. } => return Ok(Settle::Done),
            Outcome::SetAside(reason) => return Ok(Settle::SetAside(reason)),
            Outcome::Later(wait) => {
                // The engine's Retry-After, the breaker or the budget say how
                // long; else back off.
                if sleep_or_stop(wait.unwrap_or(backoff), shutdown).await {
                    return Ok(Settle::Unfinished);
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Sleeps, or returns `true` at once when the process stops.
async fn sleep_or_stop(wait: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = tokio::time::sleep(wait) => false,
        () = shutdown.cancelled() => true,
    }
}
