//! The in-process queue: posters wait for the worker task to commit the
//! batch holding their message (group commit), then it is fanned out.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{mpsc, oneshot};

use super::{Batch, DraftKind, Receipts, fanout::RoomFanout};
use crate::{
    Error, Result,
    event::{MessageView, RoomEvent},
    ids::{MessageId, RoomId, Seq},
    store::Store,
};

type Reply = oneshot::Sender<Result<MessageView, String>>;

pub(crate) struct LocalQueue {
    state: Arc<Mutex<LocalState>>,
    sender: Mutex<Option<mpsc::UnboundedSender<MessageView>>>,
    /// Taken by the one worker task.
    receiver: Mutex<Option<mpsc::UnboundedReceiver<MessageView>>>,
}

#[derive(Default)]
struct LocalState {
    /// Each room's last given seq, loaded from the database on first use.
    last_seq: HashMap<RoomId, i64>,
    /// Posters waiting for a version to commit, by (message, version).
    waiting: HashMap<(MessageId, Seq), Vec<Reply>>,
    /// Posts queued but not committed yet, so a retried post joins the
    /// first one instead of taking a second seq.
    posts_in_flight: HashMap<MessageId, Seq>,
}

/// The worker's end of the in-process queue.
pub struct LocalConsumer {
    state: Arc<Mutex<LocalState>>,
    receiver: mpsc::UnboundedReceiver<MessageView>,
    fanout: Arc<RoomFanout>,
}

impl LocalQueue {
    pub(crate) fn new() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        Self {
            state: Arc::default(),
            sender: Mutex::new(Some(sender)),
            receiver: Mutex::new(Some(receiver)),
        }
    }

    pub(crate) async fn submit(&self, store: &Store, mut message: MessageView, kind: DraftKind) -> Result<MessageView> {
        let room = message.room_id;
        let known = self.state.lock().expect("queue lock poisoned").last_seq.contains_key(&room);
        if !known {
            let stored = store.room_last_seq(room).await?;
            self.state.lock().expect("queue lock poisoned").last_seq.entry(room).or_insert(stored.0);
        }

        let (reply, answer) = oneshot::channel();
        {
            let mut state = self.state.lock().expect("queue lock poisoned");
            if let Some(version) = state.posts_in_flight.get(&message.id).copied().filter(|_| kind == DraftKind::Post) {
                state.waiting.entry((message.id, version)).or_default().push(reply);
            } else {
                let counter = state.last_seq.get_mut(&room).expect("counter loaded above");
                *counter += 1;
                message.version = Seq(*counter);
                if kind == DraftKind::Post {
                    message.seq = message.version;
                    state.posts_in_flight.insert(message.id, message.version);
                }
                state.waiting.entry((message.id, message.version)).or_default().push(reply);
                // Sent under the lock: the queue holds each room's versions in order.
                let sender = self.sender.lock().expect("queue lock poisoned");
                sender.as_ref().ok_or(Error::ShuttingDown)?.send(message).map_err(|_| Error::ShuttingDown)?;
            }
        }
        match answer.await {
            Ok(Ok(stored)) => Ok(stored),
            Ok(Err(reason)) => Err(Error::NotStored(reason)),
            Err(_) => Err(Error::ShuttingDown),
        }
    }

    pub(crate) fn consumer(&self, fanout: Arc<RoomFanout>) -> Result<LocalConsumer> {
        let receiver = self.receiver.lock().expect("queue lock poisoned").take().ok_or(Error::ShuttingDown)?;
        Ok(LocalConsumer { state: self.state.clone(), receiver, fanout })
    }

    /// Refuses new posts; the worker drains what is queued, then stops.
    pub(crate) fn close(&self) {
        self.sender.lock().expect("queue lock poisoned").take();
    }
}

impl LocalConsumer {
    pub(crate) async fn next_batch(&mut self, max: usize, wait: Duration) -> Result<Batch> {
        let mut messages = Vec::new();
        match tokio::time::timeout(wait, self.receiver.recv_many(&mut messages, max)).await {
            Ok(0) => Err(Error::ShuttingDown),
            _ => Ok(Batch { messages, receipts: Receipts::Local }),
        }
    }

    pub(crate) fn committed(&mut self, batch: Batch) -> Result<()> {
        for message in batch.messages {
            let waiters = self.forget(&message);
            self.fanout.deliver(RoomEvent::Message(message.clone()));
            for waiter in waiters {
                let _ = waiter.send(Ok(message.clone()));
            }
        }
        Ok(())
    }

    pub(crate) fn failed(&mut self, batch: Batch, error: &Error) {
        for message in batch.messages {
            for waiter in self.forget(&message) {
                let _ = waiter.send(Err(error.to_string()));
            }
        }
    }

    fn forget(&self, message: &MessageView) -> Vec<Reply> {
        let mut state = self.state.lock().expect("queue lock poisoned");
        if state.posts_in_flight.get(&message.id) == Some(&message.version) {
            state.posts_in_flight.remove(&message.id);
        }
        state.waiting.remove(&(message.id, message.version)).unwrap_or_default()
    }
}
