//! The one message bus: room fan-out to every server process and the
//! durable queue that the worker drains into the database.
//!
//! Two transports behind one API:
//! - in-process (embedded default): a channel to the worker task inside the
//!   server; a post is answered once the batch holding it has committed
//!   (group commit), then fanned out.
//! - Redis (`REDIS_URL`): one Lua script sequences a message, records it as
//!   pending, appends it to a stream (read by `worker` processes through a
//!   consumer group) and publishes it on the room's channel, atomically, so
//!   every process sees each room's messages in sequence order.
//!
//! Pub/sub is only a signal: the database (plus the messages still pending
//! in the queue) is the truth that history and catch-up read.
//!
//! Changes of access ([`AccessChange`]) travel on the bus too, to every
//! socket of every server process.

mod fanout;
mod local;
mod presence;
mod redis;
mod translation_jobs;

use std::sync::Arc;

pub use fanout::{FannedOut, ROOM_CHANNEL_CAPACITY, Received, RoomSubscription};
use fanout::RoomFanout;
pub use local::LocalConsumer;
pub use redis::{DeadLetter, MAX_DELIVERIES, RedisConsumer};
pub use translation_jobs::{JobReceipt, TranslationConsumer, TranslationJob};

use crate::{
    Error, Result,
    access::AccessChange,
    event::{MessageView, RoomEvent},
    ids::RoomId,
    store::Store,
};

/// How a message version enters the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftKind {
    /// A new message: it gets the room's next seq, which is also its version.
    Post,
    /// An edit or a deletion: it keeps its seq and gets a new version.
    Revise,
}

/// A handle on the bus; cheap to clone.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    fanout: Arc<RoomFanout>,
    transport: Transport,
    presence: presence::LocalPresence,
    /// The translator's queue when it runs in this process.
    translation_jobs: translation_jobs::LocalJobs,
}

enum Transport {
    Local(local::LocalQueue),
    Redis(redis::RedisTransport),
}

/// The worker's end of the durable queue.
pub enum QueueConsumer {
    Local(LocalConsumer),
    Redis(RedisConsumer),
}

impl Bus {
    /// The embedded bus: everything stays in this process.
    pub fn in_process() -> Self {
        Self::with_transport(Arc::default(), |_| Transport::Local(local::LocalQueue::new()))
    }

    /// The scaled bus on Redis. `prefix` namespaces every key and channel.
    pub async fn connect_redis(url: &url::Url, prefix: &str) -> Result<Self> {
        let fanout: Arc<RoomFanout> = Arc::default();
        let transport = redis::RedisTransport::connect(url, prefix, fanout.clone()).await?;
        Ok(Self::with_transport(fanout, |_| Transport::Redis(transport)))
    }

    fn with_transport(fanout: Arc<RoomFanout>, transport: impl FnOnce(&RoomFanout) -> Transport) -> Self {
        let transport = transport(&fanout);
        let translation_jobs = translation_jobs::LocalJobs::new();
        Self { inner: Arc::new(Inner { fanout, transport, presence: Default::default(), translation_jobs }) }
    }

    pub fn is_redis(&self) -> bool {
        matches!(self.inner.transport, Transport::Redis(_))
    }

    /// Subscribes this process to a room's events. Returns once events
    /// published from now on are sure to arrive, so a caller may subscribe,
    /// then read storage, and miss nothing in between.
    pub async fn subscribe(&self, room: RoomId) -> Result<RoomSubscription> {
        let (receiver, _first) = self.inner.fanout.subscribe(room);
        let release: Box<dyn FnOnce() + Send + Sync> = match &self.inner.transport {
            Transport::Local(_) => {
                let fanout = self.inner.fanout.clone();
                Box::new(move || {
                    fanout.release(room);
                })
            }
            Transport::Redis(transport) => {
                transport.listen(room).await?;
                transport.release_handle(room)
            }
        };
        Ok(RoomSubscription { room, receiver, release: Some(release) })
    }

    /// Tells every server process (this one included) to apply a change of
    /// access to its open sockets.
    pub async fn announce(&self, change: AccessChange) -> Result<()> {
        match &self.inner.transport {
            Transport::Local(_) => {
                self.inner.fanout.deliver_access(change);
                Ok(())
            }
            Transport::Redis(transport) => transport.announce(&change).await,
        }
    }

    /// Hands a change of access to this process' sockets only (changes
    /// recorded in the database by another process).
    pub fn deliver_access(&self, change: AccessChange) {
        self.inner.fanout.deliver_access(change);
    }

    /// The changes of access announced from now on.
    pub fn access_changes(&self) -> tokio::sync::broadcast::Receiver<AccessChange> {
        self.inner.fanout.access_changes()
    }

    /// How many subscriptions this process holds for a room.
    pub fn local_subscribers(&self, room: RoomId) -> usize {
        self.inner.fanout.subscriber_count(room)
    }

    /// Fans out an ephemeral event (typing, presence): not stored, not queued.
    pub async fn publish(&self, event: RoomEvent) -> Result<()> {
        match &self.inner.transport {
            Transport::Local(_) => {
                self.inner.fanout.deliver(event);
                Ok(())
            }
            Transport::Redis(transport) => transport.publish(&event).await,
        }
    }

    /// Marks one connection of `who` as in the room (or gone), tells the
    /// room who is online now, and returns that list.
    pub async fn set_presence(&self, room: RoomId, connection: &str, who: &crate::event::Author, here: bool) -> Result<Vec<crate::event::Author>> {
        let online = match &self.inner.transport {
            Transport::Local(_) => self.inner.presence.set(room, connection, who, here),
            Transport::Redis(transport) => transport.set_presence(room, connection, who, here).await?,
        };
        self.publish(RoomEvent::Presence { room_id: room, online: online.clone() }).await?;
        Ok(online)
    }

    /// Keeps a connection's presence alive (Redis entries expire otherwise).
    pub async fn refresh_presence(&self, room: RoomId, connection: &str, who: &crate::event::Author) -> Result<()> {
        if let Transport::Redis(transport) = &self.inner.transport {
            transport.set_presence(room, connection, who, true).await?;
        }
        Ok(())
    }

    /// Whether the transport answers: always in-process; Redis must reply
    /// to a PING (for readiness checks).
    pub async fn ping(&self) -> Result<()> {
        match &self.inner.transport {
            Transport::Local(_) => Ok(()),
            Transport::Redis(transport) => transport.ping().await,
        }
    }

    /// Who of the room's members is online.
    pub async fn online(&self, room: RoomId) -> Result<Vec<crate::event::Author>> {
        match &self.inner.transport {
            Transport::Local(_) => Ok(self.inner.presence.online(room)),
            Transport::Redis(transport) => transport.online(room).await,
        }
    }

    /// Sequences a message version, makes it durable and fans it out; returns
    /// it with its seq and version. Posting an id that already exists returns
    /// the stored message instead of creating a second one.
    pub async fn submit(&self, store: &Store, message: MessageView, kind: DraftKind) -> Result<MessageView> {
        if kind == DraftKind::Post
            && let Some(existing) = store.message_by_id(message.id).await?
        {
            return same_post(existing, &message);
        }
        match &self.inner.transport {
            Transport::Local(queue) => queue.submit(store, message, kind).await,
            Transport::Redis(transport) => transport.submit(store, message, kind).await,
        }
    }

    /// Messages accepted but not yet written by the worker (Redis mode; the
    /// embedded bus answers only after writing, so it has none).
    pub async fn pending_messages(&self, room: RoomId) -> Result<Vec<MessageView>> {
        match &self.inner.transport {
            Transport::Local(_) => Ok(Vec::new()),
            Transport::Redis(transport) => transport.pending_messages(room).await,
        }
    }

    /// The worker's end of the queue. In-process there is exactly one
    /// consumer; on Redis, each worker process names its own.
    pub async fn consumer(&self, name: &str) -> Result<QueueConsumer> {
        match &self.inner.transport {
            Transport::Local(queue) => Ok(QueueConsumer::Local(queue.consumer(self.inner.fanout.clone())?)),
            Transport::Redis(transport) => Ok(QueueConsumer::Redis(transport.consumer(name).await?)),
        }
    }

    /// Queues a stored message version for the translator.
    pub async fn queue_translation(&self, job: &TranslationJob) -> Result<()> {
        match &self.inner.transport {
            Transport::Local(_) => {
                self.inner.translation_jobs.queue(job.clone());
                Ok(())
            }
            Transport::Redis(transport) => translation_jobs::queue_on_redis(transport.pool(), transport.prefix(), job).await,
        }
    }

    /// The translator's end of its queue. In-process there is one; on
    /// Redis, each translator names its own.
    pub async fn translation_consumer(&self, name: &str) -> Result<TranslationConsumer> {
        match &self.inner.transport {
            Transport::Local(_) => self.inner.translation_jobs.consumer(),
            Transport::Redis(transport) => translation_jobs::redis_consumer(transport.url(), transport.prefix(), name).await,
        }
    }

    /// Stops accepting work and closes connections.
    pub async fn shutdown(&self) {
        match &self.inner.transport {
            Transport::Local(queue) => queue.close(),
            Transport::Redis(transport) => transport.shutdown().await,
        }
    }
}

/// A retried post: the stored message if it is the same author's, else the
/// id is someone else's and the post is refused.
fn same_post(existing: MessageView, attempt: &MessageView) -> Result<MessageView> {
    let same_author = existing.author.as_ref().map(|a| a.id) == attempt.author.as_ref().map(|a| a.id);
    if same_author && existing.room_id == attempt.room_id {
        Ok(existing)
    } else {
        Err(Error::input("id", crate::input::InputError::Taken))
    }
}

/// One batch taken from the queue.
pub struct Batch {
    pub messages: Vec<MessageView>,
    /// Transport bookkeeping (reply channels, stream entry ids).
    pub(crate) receipts: Receipts,
}

pub(crate) enum Receipts {
    Local,
    Redis(Vec<redis::RedisReceipt>),
}

impl QueueConsumer {
    /// Waits up to `wait` for messages and returns at most `max` of them
    /// (an empty batch when none came).
    pub async fn next_batch(&mut self, max: usize, wait: std::time::Duration) -> Result<Batch> {
        match self {
            Self::Local(consumer) => consumer.next_batch(max, wait).await,
            Self::Redis(consumer) => consumer.next_batch(max, wait).await,
        }
    }

    /// Reports a batch as written: replies to waiting posters / acknowledges
    /// the stream entries.
    pub async fn committed(&mut self, batch: Batch) -> Result<()> {
        match self {
            Self::Local(consumer) => consumer.committed(batch),
            Self::Redis(consumer) => consumer.committed(batch).await,
        }
    }

    /// Reports a batch the database refused while it was up (a poison
    /// message). In-process the posters get the error; on Redis the entries
    /// stay pending for a retry, and one delivered too often goes to the
    /// dead-letter stream (returned).
    pub async fn failed(&mut self, batch: Batch, error: &Error) -> Result<Vec<DeadLetter>> {
        match self {
            Self::Local(consumer) => {
                consumer.failed(batch, error);
                Ok(Vec::new())
            }
            Self::Redis(consumer) => consumer.failed(batch).await,
        }
    }

    /// Reports a batch not written because the database cannot take it now.
    /// In-process the posters get the error (nothing was promised to them);
    /// on Redis the entries stay pending, uncounted, for after the outage.
    pub fn retry_later(&mut self, batch: Batch, error: &Error) {
        match self {
            Self::Local(consumer) => consumer.failed(batch, error),
            Self::Redis(consumer) => consumer.retry_later(),
        }
    }
}

impl Batch {
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// One batch per message, to find which of them the database refuses.
    pub fn split(self) -> Vec<Batch> {
        match self.receipts {
            Receipts::Local => {
                self.messages.into_iter().map(|m| Batch { messages: vec![m], receipts: Receipts::Local }).collect()
            }
            Receipts::Redis(receipts) => self
                .messages
                .into_iter()
                .zip(receipts)
                .map(|(m, r)| Batch { messages: vec![m], receipts: Receipts::Redis(vec![r]) })
                .collect(),
        }
    }
}
