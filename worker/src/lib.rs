//! The background pipeline of tchatche: takes message versions from the
//! durable queue and stores them in batches; then, when an engine is
//! configured, queues them for the translator ([`translate`]), which runs
//! beside it and never holds up storage.
//!
//! In Redis mode this runs as the `tchatche-worker` binary (any number of
//! replicas, each a consumer of the stream's group); in embedded mode the
//! server runs the same loop as a task. Tests step it with
//! [`try_process_next`].

pub mod translate;

use std::time::Duration;

use anyhow::Context;
use tchatche_core::{
    Error, Store,
    bus::{Batch, Bus, DeadLetter, QueueConsumer},
    config::Config,
};
use tokio_util::sync::CancellationToken;

/// Most messages written in one transaction.
pub const MAX_BATCH: usize = 512;
/// How long one read waits for new messages before checking for shutdown.
const POLL: Duration = Duration::from_millis(500);
/// Pause after a failure, doubling up to `MAX_BACKOFF` while it lasts.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What one step of the worker did.
#[derive(Debug, Default)]
pub struct Step {
    /// Message versions stored.
    pub stored: usize,
    /// Message versions the database refused for their content (left for
    /// a retry, or set aside).
    pub failed: usize,
    /// Entries moved to the dead-letter stream.
    pub dead: Vec<DeadLetter>,
    /// Message versions left queued because the database could not take
    /// them now (down, read-only, full, slow): retried for as long as it
    /// takes, never counted against the messages.
    pub waiting: usize,
    /// The versions stored, for the translator.
    pub written: Vec<tchatche_core::event::MessageView>,
}

/// The worker as a process of its own (scaled mode): connects to the
/// configured database and Redis and runs until `shutdown`.
pub async fn run_process(config: &Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let Some(redis_url) = &config.redis_url else {
        anyhow::bail!("REDIS_URL is not set; without Redis the server runs the worker itself");
    };
    let store = Store::connect(&config.database_url, config.database_max_connections)
        .await
        .context("connecting to the database")?;
    let bus = Bus::connect_redis(redis_url, &config.redis_prefix).await.context("connecting to Redis")?;
    let languages = config.translation.as_ref().map(|t| t.languages.clone()).unwrap_or_default();
    let translator = config.translation.clone().map(|translation| {
        let (store, bus, name, shutdown) = (store.clone(), bus.clone(), config.worker_name.clone(), shutdown.clone());
        tokio::spawn(async move { translate::run_translator(store, bus, translation, &name, shutdown).await })
    });
    let result = run_until_stopped(store.clone(), bus.clone(), &config.worker_name, &languages, shutdown).await;
    if let Some(translator) = translator {
        translator.await.context("the translator task")??;
    }
    bus.shutdown().await;
    store.close().await;
    result
}

/// Runs until `shutdown` is cancelled (and, in-process, the queue is closed
/// and drained). Stored messages are queued for translation into
/// `languages` (none: translation is off).
pub async fn run_until_stopped(
    store: Store,
    bus: Bus,
    name: &str,
    languages: &[&'static str],
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut consumer = bus.consumer(name).await?;
    let in_process = !bus.is_redis();
    tracing::info!(name, in_process, "worker started");
    let mut backoff = MIN_BACKOFF;
    // The batch read while the previous one was being written.
    let mut read_ahead: Option<Batch> = None;
    loop {
        // In-process, the queue is closed at shutdown and drained to the end
        // (posters are waiting); the stream keeps what is left for later.
        if shutdown.is_cancelled() && !in_process {
            break;
        }
        let batch = match read_ahead.take() {
            Some(batch) => Ok(batch),
            None => tokio::select! {
                batch = consumer.next_batch(MAX_BATCH, POLL) => batch,
                () = shutdown.cancelled(), if !in_process => break,
            },
        };
        let mut step = match batch {
            Ok(batch) if batch.is_empty() => continue,
            Ok(batch) => {
                let (step, next) = store_reading_ahead(&mut consumer, &store, batch).await;
                read_ahead = match next {
                    Ok(next) if !next.is_empty() => Some(next),
                    Ok(_) | Err(Error::ShuttingDown) => None,
                    Err(err) => {
                        tracing::warn!(%err, "reading ahead failed; reading again after this batch");
                        None
                    }
                };
                step
            }
            Err(err) => Err(err),
        };
        if let (Ok(step), false) = (&mut step, languages.is_empty()) {
            // Beside the loop, so the next batch's commit does not wait for it.
            let (store, bus, languages, written) = (store.clone(), bus.clone(), languages.to_vec(), std::mem::take(&mut step.written));
            tokio::spawn(async move {
                if let Err(err) = translate::queue_stored(&store, &bus, &languages, &written).await {
                    // The translator's reconciliation pass finds them again.
                    tracing::warn!(%err, "stored messages could not be queued for translation");
                }
            });
        }
        match step {
            Ok(step) if step.failed == 0 && step.waiting == 0 => backoff = MIN_BACKOFF,
            Ok(_) => backoff = pause(backoff, &shutdown).await,
            Err(Error::ShuttingDown) => break,
            Err(err) => {
                tracing::error!(%err, "worker step failed");
                backoff = pause(backoff, &shutdown).await;
            }
        }
    }
    if let QueueConsumer::Redis(consumer) = &consumer {
        consumer.quit().await;
    }
    tracing::info!(name, "worker stopped");
    Ok(())
}

async fn pause(backoff: Duration, shutdown: &CancellationToken) -> Duration {
    tokio::select! {
        () = tokio::time::sleep(backoff) => {}
        () = shutdown.cancelled() => {}
    }
    (backoff * 2).min(MAX_BACKOFF)
}

/// Takes one batch (waiting up to `wait`) and stores it. A batch the
/// database refuses is retried message by message, so one bad message never
/// holds back the others.
pub async fn try_process_next(consumer: &mut QueueConsumer, store: &Store, wait: Duration) -> Result<Step, Error> {
    let batch = consumer.next_batch(MAX_BATCH, wait).await?;
    if batch.is_empty() {
        return Ok(Step::default());
    }
    let written = store.upsert_messages(&batch.messages).await;
    settle(consumer, store, batch, written).await
}

/// Stores a batch while reading the next one (without waiting for it), so
/// that the queue and the database work at the same time. The next batch is
/// only read, not acknowledged: it is stored on the next turn.
async fn store_reading_ahead(consumer: &mut QueueConsumer, store: &Store, batch: Batch) -> (Result<Step, Error>, Result<Batch, Error>) {
    let (written, next) = tokio::join!(store.upsert_messages(&batch.messages), consumer.next_batch(MAX_BATCH, Duration::ZERO));
    (settle(consumer, store, batch, written).await, next)
}

/// Acknowledges a written batch, or sorts out why it was not written. Only
/// the database refusing a message for its own content (a constraint it
/// can never meet) counts against that message; any other failure leaves
/// the whole batch queued for a later try, so an accepted message is never
/// dropped because the database was degraded.
async fn settle(consumer: &mut QueueConsumer, store: &Store, batch: Batch, written: Result<(), Error>) -> Result<Step, Error> {
    let mut step = Step::default();
    match written {
        Ok(()) => {
            step.stored = batch.len();
            step.written.extend_from_slice(&batch.messages);
            consumer.committed(batch).await?;
        }
        Err(err) if !err.is_refused_content() => wait(consumer, batch, err, &mut step),
        Err(err) if batch.len() == 1 => refused(consumer, batch, err, &mut step).await?,
        Err(_) => {
            // One message spoils the transaction: find which, storing the others.
            for single in batch.split() {
                match store.upsert_messages(&single.messages).await {
                    Ok(()) => {
                        step.stored += 1;
                        step.written.extend_from_slice(&single.messages);
                        consumer.committed(single).await?;
                    }
                    Err(err) if err.is_refused_content() => refused(consumer, single, err, &mut step).await?,
                    Err(err) => wait(consumer, single, err, &mut step),
                }
            }
        }
    }
    Ok(step)
}

/// Leaves a batch queued while the database cannot take it, saying how far
/// behind storage is (the age of its oldest message). The worker's backoff
/// (at most `MAX_BACKOFF`) spaces these reports.
fn wait(consumer: &mut QueueConsumer, batch: Batch, err: Error, step: &mut Step) {
    let oldest = batch.messages.iter().map(|m| m.created_at.0).min().unwrap_or_default();
    let lag_seconds = (tchatche_core::ids::UnixMillis::now().0 - oldest).max(0) / 1000;
    tracing::warn!(%err, queued = batch.len(), lag_seconds, "the database cannot store messages now; they wait and are retried");
    step.waiting += batch.len();
    consumer.retry_later(batch, &err);
}

async fn refused(consumer: &mut QueueConsumer, batch: Batch, err: Error, step: &mut Step) -> Result<(), Error> {
    let ids: Vec<String> = batch.messages.iter().map(|m| m.id.to_string()).collect();
    tracing::error!(%err, ?ids, "the database refused a message");
    step.failed += batch.len();
    let dead = consumer.failed(batch, &err).await?;
    for letter in &dead {
        tracing::error!(entry = %letter.entry_id, reason = %letter.reason, "message moved to the dead-letter stream");
    }
    step.dead.extend(dead);
    Ok(())
}

