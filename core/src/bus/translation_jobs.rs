//! The translator's queue: stored message versions to translate. The worker
//! queues them after it has stored a batch, never on the posting path, and
//! its translator takes them.
//!
//! - In-process: a channel (what a crash loses, the translator's
//!   reconciliation pass finds again: recent messages missing a wanted
//!   translation).
//! - Redis: a stream of its own with a consumer group (`translate`); an
//!   entry is acknowledged once its translations are stored, taken over
//!   from a stopped translator after a minute, and set aside in a
//!   dead-letter stream when the engine refuses it for good.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use fred::{prelude::*, types::streams::XReadValue};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::{
    Error, Result,
    ids::{MessageId, RoomId, Seq},
};

const GROUP: &str = "translate";
/// An entry unacknowledged this long belongs to a stopped translator.
const CLAIM_IDLE: Duration = Duration::from_secs(60);
const CLAIM_EVERY: Duration = Duration::from_secs(10);
/// Bounds both streams: a translator down for days must not fill Redis.
const JOBS_KEPT: i64 = 100_000;
const DEAD_KEPT: i64 = 10_000;

/// One stored message version to translate into some languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranslationJob {
    pub message_id: MessageId,
    pub room_id: RoomId,
    pub version: Seq,
    /// The message's language (ISO 639-1).
    pub from: String,
    pub targets: Vec<String>,
}

pub(crate) fn stream_key(prefix: &str) -> String {
    format!("{prefix}:translate")
}

fn dead_key(prefix: &str) -> String {
    format!("{prefix}:translate:dead")
}

/// The in-process queue: one channel, one consumer.
pub(crate) struct LocalJobs {
    sender: mpsc::UnboundedSender<TranslationJob>,
    receiver: Mutex<Option<mpsc::UnboundedReceiver<TranslationJob>>>,
}

impl LocalJobs {
    pub(crate) fn new() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        Self { sender, receiver: Mutex::new(Some(receiver)) }
    }

    pub(crate) fn queue(&self, job: TranslationJob) {
        // Fails only once the consumer is gone (shutdown): the
        // reconciliation pass of the next start finds the message again.
        let _ = self.sender.send(job);
    }

    pub(crate) fn consumer(&self) -> Result<TranslationConsumer> {
        let receiver = self.receiver.lock().expect("receiver lock poisoned").take();
        // The in-process queue has one consumer, the translator task.
        let receiver = receiver.ok_or(Error::ShuttingDown)?;
        Ok(TranslationConsumer(Consumer::Local(receiver)))
    }
}

pub(crate) async fn queue_on_redis(pool: &Pool, prefix: &str, job: &TranslationJob) -> Result<()> {
    let json = serde_json::to_string(job)?;
    let _: String = pool.xadd(stream_key(prefix), false, ("MAXLEN", "~", JOBS_KEPT), "*", ("job", json)).await?;
    Ok(())
}

pub(crate) async fn redis_consumer(url: &url::Url, prefix: &str, name: &str) -> Result<TranslationConsumer> {
    // Blocking reads hold their connection: the consumer gets its own.
    let client = crate::redis::builder(url)?.build()?;
    client.init().await?;
    ensure_group(&client, prefix).await?;
    Ok(TranslationConsumer(Consumer::Redis { client, prefix: prefix.to_owned(), name: name.to_owned(), last_claim: None }))
}

async fn ensure_group(client: &Client, prefix: &str) -> Result<()> {
    match client.xgroup_create::<(), _, _, _>(stream_key(prefix), GROUP, "0", true).await {
        Ok(()) => Ok(()),
        Err(err) if err.details().starts_with("BUSYGROUP") => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// The translator's end of the queue.
pub struct TranslationConsumer(Consumer);

enum Consumer {
    Local(mpsc::UnboundedReceiver<TranslationJob>),
    Redis { client: Client, prefix: String, name: String, last_claim: Option<Instant> },
}

/// Which entry a job came from, to acknowledge it.
#[derive(Debug)]
pub struct JobReceipt(Option<String>);

type Entry = XReadValue<String, String, String>;

impl TranslationConsumer {
    /// Waits up to `wait` for jobs and returns at most `max` of them.
    pub async fn next(&mut self, max: usize, wait: Duration) -> Result<Vec<(JobReceipt, TranslationJob)>> {
        match &mut self.0 {
            Consumer::Local(receiver) => {
                let mut jobs = Vec::new();
                if let Ok(Some(job)) = tokio::time::timeout(wait, receiver.recv()).await {
                    jobs.push((JobReceipt(None), job));
                    while jobs.len() < max {
                        let Ok(job) = receiver.try_recv() else { break };
                        jobs.push((JobReceipt(None), job));
                    }
                }
                Ok(jobs)
            }
            Consumer::Redis { client, prefix, name, last_claim } => {
                let stream = stream_key(prefix);
                let count = Some(max as u64);
                let entries: Vec<Entry> = if last_claim.is_none_or(|at| at.elapsed() >= CLAIM_EVERY) {
                    *last_claim = Some(Instant::now());
                    let (_cursor, claimed): (String, Vec<Entry>) = client
                        .xautoclaim_values(&stream, GROUP, name.as_str(), CLAIM_IDLE.as_millis() as u64, "0-0", count, false)
                        .await?;
                    claimed
                } else {
                    Vec::new()
                };
                let entries = if entries.is_empty() {
                    let block = (!wait.is_zero()).then_some(wait.as_millis() as u64);
                    let reply: Value = match client.xreadgroup(GROUP, name.as_str(), count, block, false, &stream, ">").await {
                        Err(err) if err.details().starts_with("NOGROUP") => {
                            tracing::warn!("the translation consumer group is missing in Redis; creating it again");
                            ensure_group(client, prefix).await?;
                            Value::Null
                        }
                        reply => reply?,
                    };
                    if reply.is_null() {
                        Vec::new()
                    } else {
                        let mut streams: std::collections::HashMap<String, Vec<Entry>> = reply.into_xread_response()?;
                        streams.remove(&stream).unwrap_or_default()
                    }
                } else {
                    entries
                };
                let mut jobs = Vec::with_capacity(entries.len());
                for (id, fields) in entries {
                    match fields.get("job").map(|json| serde_json::from_str::<TranslationJob>(json)) {
                        Some(Ok(job)) => jobs.push((JobReceipt(Some(id)), job)),
                        _ => {
                            // Never readable: nothing to translate, nothing to keep.
                            tracing::warn!(entry = %id, "undecodable translation job dropped");
                            let _: i64 = client.xack(&stream, GROUP, id.as_str()).await?;
                        }
                    }
                }
                Ok(jobs)
            }
        }
    }

    /// The job's translations are stored (or were not wanted any more).
    pub async fn done(&mut self, receipt: JobReceipt) -> Result<()> {
        if let (Consumer::Redis { client, prefix, .. }, Some(id)) = (&self.0, receipt.0) {
            let stream = stream_key(prefix);
            let _: i64 = client.xack(&stream, GROUP, id.as_str()).await?;
            let _: i64 = client.xdel(&stream, id.as_str()).await?;
        }
        Ok(())
    }

    /// The engine refuses the job for good: kept aside (Redis) for an
    /// operator to see, and acknowledged.
    pub async fn dead(&mut self, receipt: JobReceipt, job: &TranslationJob, reason: &str) -> Result<()> {
        if let Consumer::Redis { client, prefix, .. } = &self.0 {
            let json = serde_json::to_string(job)?;
            let _: String =
                client.xadd(dead_key(prefix), false, ("MAXLEN", "~", DEAD_KEPT), "*", vec![("job", json), ("reason", reason.to_owned())]).await?;
        }
        tracing::warn!(message = %job.message_id, reason, "translation set aside");
        self.done(receipt).await
    }

    /// Jobs set aside so far (Redis; in-process none are kept).
    pub async fn dead_count(&self) -> Result<u64> {
        match &self.0 {
            Consumer::Local(_) => Ok(0),
            Consumer::Redis { client, prefix, .. } => Ok(client.xlen(dead_key(prefix)).await?),
        }
    }
}
