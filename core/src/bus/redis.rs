//! The Redis transport: sequencing, the durable stream read by `worker`
//! processes through a consumer group, and pub/sub fan-out across server
//! processes (a channel per room).
//!
//! Keys, all under the configured prefix `P`:
//! - `P:queue`: the stream of message versions waiting to be stored;
//!   consumer group `persist`. `P:queue:dead`: entries the database refused
//!   for their content (the newest 10,000 or so).
//! - `P:room:{id}:seq`: the room's event counter.
//! - `P:room:{id}:pending`: hash of versions accepted but not yet stored,
//!   so history includes them (removed by the worker after its commit).
//! - `P:posted:{message id}`: marks a post as accepted, for a week, so a
//!   retried post never takes a second seq.
//! - channel `P:room:{id}`: the room's events.
//! - channel `P:access`: changes of access, for every server process.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use fred::{
    clients::SubscriberClient,
    prelude::*,
    types::streams::XReadValue,
};
use tokio::{sync::broadcast::error::RecvError, task::JoinHandle};

use super::{Batch, DraftKind, Receipts, fanout::RoomFanout};
use crate::{
    Error, Result,
    event::{MessageView, RoomEvent},
    ids::RoomId,
    store::Store,
};

/// The consumer group every worker process joins.
const GROUP: &str = "persist";
/// A pending entry idle this long belongs to a dead consumer: take it over.
const CLAIM_IDLE: Duration = Duration::from_secs(30);
/// How often a consumer looks for entries to take over.
const CLAIM_EVERY: Duration = Duration::from_secs(5);
/// Deliveries after which an entry the database refuses for its content is
/// set aside.
pub const MAX_DELIVERIES: u64 = 5;
/// Dead letters kept (about): the oldest go first, so a flood of refused
/// entries cannot fill Redis's memory. Operators read them as they come.
const DEAD_LETTERS_KEPT: i64 = 10_000;
/// How long the idempotency marker of a post lives.
const POSTED_TTL_SECS: i64 = 7 * 24 * 3600;

/// Drops acknowledged entries: everything older than the oldest entry
/// still pending in the group or, when none is, everything delivered (the
/// smallest id after the last delivered one is `ms-(seq+1)`). Atomic: two
/// separate reads would let another worker take entries in between, which
/// this would then delete while they are still pending.
/// KEYS: stream. ARGV: group.
const TRIM_LUA: &str = r#"
local oldest = redis.call('XPENDING', KEYS[1], ARGV[1])[2]
if not oldest then
  for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local fields = {}
    for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
    if fields['name'] == ARGV[1] then
      local ms, seq = string.match(fields['last-delivered-id'], '^(%d+)-(%d+)$')
      if ms then oldest = ms .. '-' .. string.format('%d', tonumber(seq) + 1) end
    end
  end
end
if not oldest then return 0 end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', oldest)
"#;

/// Sequences one message version, records it as pending, queues it and
/// publishes it, atomically: publication order is sequence order.
/// KEYS: seq counter, pending hash, stream, posted marker.
/// ARGV: 'post'|'revise', message id, seq (revise), message JSON without
/// seq and version, channel, room id.
const SUBMIT_LUA: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOSEQ'} end
if ARGV[1] == 'post' then
  if not redis.call('SET', KEYS[4], ARGV[6], 'NX', 'EX', ARGV[7]) then
    return {'DUP', redis.call('HGET', KEYS[2], ARGV[2]) or ''}
  end
end
local version = redis.call('INCR', KEYS[1])
local seq = version
if ARGV[1] == 'revise' then seq = ARGV[3] end
local json = '{"seq":' .. seq .. ',"version":' .. version .. ',' .. string.sub(ARGV[4], 2)
redis.call('HSET', KEYS[2], ARGV[2], json)
redis.call('XADD', KEYS[3], '*', 'm', json)
redis.call('PUBLISH', ARGV[5], '{"message":' .. json .. '}')
return {'OK', json}
"#;

/// Removes stored versions from their pending hashes, unless a newer
/// version replaced them meanwhile. KEYS: pending hashes; ARGV: id, json pairs.
const FORGET_PENDING_LUA: &str = r#"
for i = 1, #KEYS do
  if redis.call('HGET', KEYS[i], ARGV[2 * i - 1]) == ARGV[2 * i] then
    redis.call('HDEL', KEYS[i], ARGV[2 * i - 1])
  end
end
return #KEYS
"#;

#[derive(Clone)]
struct Keys {
    prefix: String,
}

impl Keys {
    fn stream(&self) -> String {
        format!("{}:queue", self.prefix)
    }
    fn dead_letters(&self) -> String {
        format!("{}:queue:dead", self.prefix)
    }
    fn seq(&self, room: RoomId) -> String {
        format!("{}:room:{room}:seq", self.prefix)
    }
    fn pending(&self, room: RoomId) -> String {
        format!("{}:room:{room}:pending", self.prefix)
    }
    fn posted(&self, message: &MessageView) -> String {
        format!("{}:posted:{}", self.prefix, message.id)
    }
    fn channel(&self, room: RoomId) -> String {
        format!("{}:room:{room}", self.prefix)
    }
    fn access_channel(&self) -> String {
        format!("{}:access", self.prefix)
    }
    fn room_of_channel(&self, channel: &str) -> Option<RoomId> {
        let rest = channel.strip_prefix(&self.prefix)?.strip_prefix(":room:")?;
        rest.parse().ok().map(RoomId)
    }
}

pub(crate) struct RedisTransport {
    url: url::Url,
    /// Commands (sequencing, publishing, reading pending messages).
    pool: Pool,
    /// The one subscriber connection of this process.
    subscriber: SubscriberClient,
    keys: Keys,
    fanout: Arc<RoomFanout>,
    /// Rooms this process has subscribed to on Redis.
    listening: Arc<tokio::sync::Mutex<HashSet<RoomId>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl RedisTransport {
    pub(crate) async fn connect(url: &url::Url, prefix: &str, fanout: Arc<RoomFanout>) -> Result<Self> {
        let pool = crate::redis::pool(url, 4).await?;
        let subscriber = crate::redis::builder(url)?
            .with_performance_config(|p| p.broadcast_channel_capacity = 4096)
            .build_subscriber_client()?;
        subscriber.init().await?;

        let keys = Keys { prefix: prefix.to_owned() };
        ensure_group(&pool, &keys).await?;
        subscriber.subscribe(keys.access_channel()).await?;

        let pump = spawn_pump(&subscriber, keys.clone(), fanout.clone());
        let resubscribe = subscriber.manage_subscriptions();
        Ok(Self {
            url: url.clone(),
            pool,
            subscriber,
            keys,
            fanout,
            listening: Arc::default(),
            tasks: Mutex::new(vec![pump, resubscribe]),
        })
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    pub(crate) fn url(&self) -> &url::Url {
        &self.url
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.keys.prefix
    }

    /// Makes sure this process is subscribed to the room's channel.
    pub(crate) async fn listen(&self, room: RoomId) -> Result<()> {
        let mut listening = self.listening.lock().await;
        if !listening.contains(&room) {
            self.subscriber.subscribe(self.keys.channel(room)).await?;
            listening.insert(room);
        }
        Ok(())
    }

    /// What a dropped subscription runs: unsubscribe from Redis once this
    /// process has no subscriber left for the room.
    pub(crate) fn release_handle(&self, room: RoomId) -> Box<dyn FnOnce() + Send + Sync> {
        let fanout = self.fanout.clone();
        let listening = self.listening.clone();
        let subscriber = self.subscriber.clone();
        let channel = self.keys.channel(room);
        Box::new(move || {
            if !fanout.release(room) {
                return;
            }
            let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
            runtime.spawn(async move {
                let mut listening = listening.lock().await;
                // Someone may have subscribed again meanwhile.
                if fanout.subscriber_count(room) == 0 && listening.remove(&room)
                    && let Err(err) = subscriber.unsubscribe(channel).await
                {
                    tracing::warn!(%err, %room, "unsubscribe failed");
                }
            });
        })
    }

    pub(crate) async fn publish(&self, event: &RoomEvent) -> Result<()> {
        let payload = serde_json::to_string(event)?;
        let _: i64 = self.pool.next().publish(self.keys.channel(event.room_id()), payload).await?;
        Ok(())
    }

    pub(crate) async fn announce(&self, change: &crate::access::AccessChange) -> Result<()> {
        let payload = serde_json::to_string(change)?;
        let _: i64 = self.pool.next().publish(self.keys.access_channel(), payload).await?;
        Ok(())
    }

    pub(crate) async fn submit(&self, store: &Store, message: MessageView, kind: DraftKind) -> Result<MessageView> {
        let room = message.room_id;
        let mut body = serde_json::to_value(&message)?;
        if let Some(fields) = body.as_object_mut() {
            fields.remove("seq");
            fields.remove("version");
        }
        let body = serde_json::to_string(&body)?;
        let keys = vec![
            self.keys.seq(room),
            self.keys.pending(room),
            self.keys.stream(),
            self.keys.posted(&message),
        ];
        let args = vec![
            match kind {
                DraftKind::Post => "post".to_owned(),
                DraftKind::Revise => "revise".to_owned(),
            },
            message.id.to_string(),
            message.seq.to_string(),
            body,
            self.keys.channel(room),
            room.to_string(),
            POSTED_TTL_SECS.to_string(),
        ];
        for _attempt in 0..2 {
            let reply: Vec<String> = self.pool.next().eval(SUBMIT_LUA, keys.clone(), args.clone()).await?;
            match reply.first().map(String::as_str) {
                Some("OK") => return Ok(serde_json::from_str(&reply[1])?),
                Some("DUP") => {
                    return match reply.get(1).filter(|json| !json.is_empty()) {
                        Some(json) => super::same_post(serde_json::from_str(json)?, &message),
                        // No longer pending: stored by the worker since.
                        None => match store.message_by_id(message.id).await? {
                            Some(stored) => super::same_post(stored, &message),
                            None => Err(Error::NotStored("an earlier attempt with this id was set aside".into())),
                        },
                    };
                }
                Some("NOSEQ") => {
                    // First message since Redis started (or lost its data):
                    // continue the counter from what the database holds.
                    let last = store.room_last_seq(room).await?;
                    let _: Option<String> =
                        self.pool.set(self.keys.seq(room), last.0, None, Some(SetOptions::NX), false).await?;
                }
                other => return Err(Error::NotStored(format!("unexpected reply {other:?}"))),
            }
        }
        Err(Error::NotStored("the room counter could not be initialised".into()))
    }

    pub(crate) async fn set_presence(
        &self,
        room: RoomId,
        connection: &str,
        who: &crate::event::Author,
        here: bool,
    ) -> Result<Vec<crate::event::Author>> {
        super::presence::redis_set(&self.pool, &self.keys.prefix, room, connection, who, here).await
    }

    /// Answers when Redis does (within the command timeout).
    pub(crate) async fn ping(&self) -> Result<()> {
        let _: String = self.pool.ping(None).await?;
        Ok(())
    }

    pub(crate) async fn online(&self, room: RoomId) -> Result<Vec<crate::event::Author>> {
        super::presence::redis_online(&self.pool, &self.keys.prefix, room).await
    }

    pub(crate) async fn pending_messages(&self, room: RoomId) -> Result<Vec<MessageView>> {
        let values: Vec<String> = self.pool.hvals(self.keys.pending(room)).await?;
        let mut messages = values
            .iter()
            .map(|json| serde_json::from_str::<MessageView>(json))
            .collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|m| m.seq);
        Ok(messages)
    }

    pub(crate) async fn consumer(&self, name: &str) -> Result<RedisConsumer> {
        // Blocking reads hold their connection: the consumer gets its own.
        let client = crate::redis::builder(&self.url)?.build()?;
        client.init().await?;
        ensure_group(&client, &self.keys).await?;
        Ok(RedisConsumer {
            client,
            keys: self.keys.clone(),
            name: name.to_owned(),
            own_pending_after: Some(BEFORE_ANY_ENTRY.to_owned()),
            last_claim: None,
        })
    }

    pub(crate) async fn shutdown(&self) {
        for task in self.tasks.lock().expect("task list poisoned").drain(..) {
            task.abort();
        }
        let _ = self.subscriber.quit().await;
        let _ = self.pool.quit().await;
    }
}

/// Creates the stream and its consumer group if missing. The group starts
/// at the beginning, so entries added before any worker ran are stored too.
async fn ensure_group(client: &(impl StreamsInterface + Sync), keys: &Keys) -> Result<()> {
    match client.xgroup_create::<(), _, _, _>(keys.stream(), GROUP, "0", true).await {
        Ok(()) => Ok(()),
        Err(err) if err.details().starts_with("BUSYGROUP") => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Moves events from the subscriber connection to local subscribers.
fn spawn_pump(subscriber: &SubscriberClient, keys: Keys, fanout: Arc<RoomFanout>) -> JoinHandle<()> {
    let mut messages = subscriber.message_rx();
    let mut reconnects = subscriber.reconnect_rx();
    let access_channel = keys.access_channel();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                received = messages.recv() => match received {
                    Ok(message) if *message.channel == *access_channel => {
                        match message.value.as_str().map(|payload| serde_json::from_str(&payload)) {
                            Some(Ok(change)) => fanout.deliver_access(change),
                            _ => tracing::warn!("undecodable change of access ignored"),
                        }
                    }
                    Ok(message) => {
                        let Some(room) = keys.room_of_channel(&message.channel) else { continue };
                        let Some(payload) = message.value.as_str() else { continue };
                        match serde_json::from_str::<RoomEvent>(&payload) {
                            Ok(event) if event.room_id() == room => fanout.deliver(event),
                            Ok(_) => tracing::warn!(%room, "event on the wrong channel ignored"),
                            Err(err) => tracing::warn!(%err, %room, "undecodable event ignored"),
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "pub/sub receiver lagged; resynchronizing every room");
                        resync_all(&fanout);
                    }
                    Err(RecvError::Closed) => break,
                },
                reconnected = reconnects.recv() => match reconnected {
                    // Messages published while disconnected are lost for pub/sub:
                    // subscribers must catch up from storage.
                    Ok(_) | Err(RecvError::Lagged(_)) => resync_all(&fanout),
                    Err(RecvError::Closed) => break,
                },
            }
        }
    })
}

/// After a gap in pub/sub: every room reloads what it missed, and every
/// socket checks its access (a change of access may be among what was lost).
fn resync_all(fanout: &RoomFanout) {
    for room_id in fanout.rooms() {
        fanout.deliver(RoomEvent::Resync(room_id));
    }
    fanout.deliver_access(crate::access::AccessChange::Everything);
}

/// An entry that kept failing and was moved to the dead-letter stream.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub entry_id: String,
    pub message: Option<MessageView>,
    pub reason: String,
}

/// The stream id before every entry: re-reading own pending entries from it
/// starts at the first.
const BEFORE_ANY_ENTRY: &str = "0";

/// A worker process' membership in the consumer group.
pub struct RedisConsumer {
    client: Client,
    keys: Keys,
    name: String,
    /// Re-read this consumer's own unacknowledged entries after this entry
    /// id (after a restart or a failed batch) before taking new ones: a
    /// cursor, so that reading ahead never returns an entry twice.
    own_pending_after: Option<String>,
    last_claim: Option<Instant>,
}

type Entry = XReadValue<String, String, String>;

impl RedisConsumer {
    pub(crate) async fn next_batch(&mut self, max: usize, wait: Duration) -> Result<Batch> {
        match self.read(max, wait).await {
            Err(Error::Redis(err)) if err.details().starts_with("NOGROUP") => {
                // Redis lost the group (restarted without its data, or an
                // operator removed it): what is still in the stream is read
                // again from the start, and storing it again changes nothing.
                tracing::warn!("the consumer group is missing in Redis; creating it again");
                ensure_group(&self.client, &self.keys).await?;
                self.reread_own_pending();
                self.read(max, wait).await
            }
            read => read,
        }
    }

    async fn read(&mut self, max: usize, wait: Duration) -> Result<Batch> {
        let stream = self.keys.stream();
        let count = Some(max as u64);

        if self.last_claim.is_none_or(|at| at.elapsed() >= CLAIM_EVERY) {
            self.last_claim = Some(Instant::now());
            let (_cursor, claimed): (String, Vec<Entry>) = self
                .client
                .xautoclaim_values(&stream, GROUP, &self.name, CLAIM_IDLE.as_millis() as u64, "0-0", count, false)
                .await?;
            if !claimed.is_empty() {
                tracing::info!(count = claimed.len(), "took over entries of a stopped worker");
                return self.decode(claimed).await;
            }
        }

        // BLOCK 0 would wait forever: no wait means no BLOCK at all.
        let (id, block) = match &self.own_pending_after {
            Some(after) => (after.clone(), None),
            None => (">".to_owned(), (!wait.is_zero()).then_some(wait.as_millis() as u64)),
        };
        let reply: Value = self.client.xreadgroup(GROUP, &self.name, count, block, false, &stream, id.as_str()).await?;
        let entries = if reply.is_null() {
            Vec::new()
        } else {
            let mut streams: HashMap<String, Vec<Entry>> = reply.into_xread_response()?;
            streams.remove(&stream).unwrap_or_default()
        };
        if self.own_pending_after.is_some() {
            self.own_pending_after = entries.last().map(|(entry_id, _)| entry_id.clone());
        }
        self.decode(entries).await
    }

    /// Decodes entries; one that cannot be decoded can never be stored and is
    /// set aside at once.
    async fn decode(&mut self, entries: Vec<Entry>) -> Result<Batch> {
        let mut messages = Vec::with_capacity(entries.len());
        let mut receipts = Vec::with_capacity(entries.len());
        for (entry_id, fields) in entries {
            let json = fields.get("m").cloned().unwrap_or_default();
            match serde_json::from_str::<MessageView>(&json) {
                Ok(message) => {
                    messages.push(message);
                    receipts.push(RedisReceipt { entry_id, json });
                }
                Err(err) => {
                    let dead = DeadLetter { entry_id, message: None, reason: format!("undecodable entry: {err}") };
                    tracing::error!(entry = %dead.entry_id, reason = %dead.reason, "queue entry set aside");
                    self.set_aside(&dead, &json).await?;
                }
            }
        }
        Ok(Batch { messages, receipts: Receipts::Redis(receipts) })
    }

    pub(crate) async fn committed(&mut self, batch: Batch) -> Result<()> {
        let Receipts::Redis(receipts) = batch.receipts else { unreachable!("a Redis batch carries Redis receipts") };
        if receipts.is_empty() {
            return Ok(());
        }
        // Forget pending copies first: if we stop before acknowledging, the
        // entry is simply stored again (a no-op) and acknowledged then.
        let keys: Vec<String> = batch.messages.iter().map(|m| self.keys.pending(m.room_id)).collect();
        let args: Vec<String> = batch
            .messages
            .iter()
            .zip(&receipts)
            .flat_map(|(message, receipt)| [message.id.to_string(), receipt.json.clone()])
            .collect();
        let _: i64 = self.client.eval(FORGET_PENDING_LUA, keys, args).await?;
        let ids: Vec<String> = receipts.iter().map(|r| r.entry_id.clone()).collect();
        let _: i64 = self.client.xack(self.keys.stream(), GROUP, ids).await?;
        self.trim().await
    }

    /// Drops acknowledged entries from the stream, in one script so that
    /// no other worker reads entries between the two looks it takes.
    async fn trim(&self) -> Result<()> {
        let _: i64 = self.client.eval(TRIM_LUA, vec![self.keys.stream()], vec![GROUP]).await?;
        Ok(())
    }

    /// Leaves a failed batch pending. Entries delivered `MAX_DELIVERIES`
    /// times are moved to the dead-letter stream and returned.
    pub(crate) async fn failed(&mut self, batch: Batch) -> Result<Vec<DeadLetter>> {
        let Receipts::Redis(receipts) = batch.receipts else { unreachable!("a Redis batch carries Redis receipts") };
        self.reread_own_pending();
        let mut dead = Vec::new();
        for (message, receipt) in batch.messages.into_iter().zip(receipts) {
            let detail: Vec<(String, String, u64, u64)> = self
                .client
                .xpending(self.keys.stream(), GROUP, (receipt.entry_id.as_str(), receipt.entry_id.as_str(), 1u64))
                .await?;
            let deliveries = detail.first().map_or(0, |(_, _, _, deliveries)| *deliveries);
            if deliveries >= MAX_DELIVERIES {
                let letter = DeadLetter {
                    entry_id: receipt.entry_id.clone(),
                    reason: format!("failed {deliveries} times"),
                    message: Some(message.clone()),
                };
                self.set_aside(&letter, &receipt.json).await?;
                let _: i64 = self
                    .client
                    .eval(FORGET_PENDING_LUA, vec![self.keys.pending(message.room_id)], vec![message.id.to_string(), receipt.json])
                    .await?;
                dead.push(letter);
            }
        }
        Ok(dead)
    }

    pub(crate) fn retry_later(&mut self) {
        self.reread_own_pending();
    }

    /// Takes this consumer's unacknowledged entries again, from the first.
    fn reread_own_pending(&mut self) {
        self.own_pending_after = Some(BEFORE_ANY_ENTRY.to_owned());
    }

    async fn set_aside(&self, letter: &DeadLetter, json: &str) -> Result<()> {
        let fields = vec![("entry", letter.entry_id.as_str()), ("reason", letter.reason.as_str()), ("m", json)];
        let _: String = self.client.xadd(self.keys.dead_letters(), false, ("MAXLEN", "~", DEAD_LETTERS_KEPT), "*", fields).await?;
        let _: i64 = self.client.xack(self.keys.stream(), GROUP, letter.entry_id.as_str()).await?;
        Ok(())
    }

    /// Entries in the dead-letter stream (for operators and tests).
    pub async fn dead_letter_count(&self) -> Result<u64> {
        Ok(self.client.xlen(self.keys.dead_letters()).await?)
    }

    pub async fn quit(&self) {
        let _ = self.client.quit().await;
    }
}

pub(crate) struct RedisReceipt {
    entry_id: String,
    /// The entry exactly as queued (compared before removing the pending copy).
    json: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_map_back_to_rooms() {
        let keys = Keys { prefix: "t1".into() };
        assert_eq!(keys.room_of_channel(&keys.channel(RoomId(42))), Some(RoomId(42)));
        assert_eq!(keys.room_of_channel("t1:room:x"), None);
        assert_eq!(keys.room_of_channel("other:room:1"), None);
    }
}
