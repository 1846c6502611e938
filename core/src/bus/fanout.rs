//! Process-local fan-out: one bounded broadcast channel per room that has
//! subscribers in this process, and one for changes of access. Every
//! transport feeds them; sockets read them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use tokio::sync::broadcast;

use crate::{
    access::AccessChange,
    event::{RoomEvent, ServerFrame},
    ids::RoomId,
};

/// How many events a subscriber may fall behind before it is told it lagged
/// (and must resynchronize from storage). Bounded so that one slow socket
/// never holds memory or delays anyone else.
pub const ROOM_CHANNEL_CAPACITY: usize = 256;

/// Changes of access a socket may fall behind on before it must check
/// everything again.
const ACCESS_CHANNEL_CAPACITY: usize = 1024;

pub(crate) struct RoomFanout {
    rooms: Mutex<HashMap<RoomId, broadcast::Sender<Arc<FannedOut>>>>,
    access: broadcast::Sender<AccessChange>,
}

impl Default for RoomFanout {
    fn default() -> Self {
        Self { rooms: Mutex::default(), access: broadcast::channel(ACCESS_CHANNEL_CAPACITY).0 }
    }
}

/// An event as every subscriber of its room receives it: one shared copy,
/// whose socket frame is encoded once for all of them (a busy room has
/// thousands of sockets; encoding per socket was most of the fan-out's cost).
#[derive(Debug)]
pub struct FannedOut {
    pub event: RoomEvent,
    frame: OnceLock<String>,
}

impl FannedOut {
    pub fn new(event: RoomEvent) -> Arc<Self> {
        Arc::new(Self { event, frame: OnceLock::new() })
    }

    /// The event as a socket's JSON text frame (`ServerFrame::Event`).
    pub fn frame(&self) -> &str {
        self.frame.get_or_init(|| serde_json::to_string(&ServerFrame::Event(self.event.clone())).expect("frames serialize"))
    }
}

/// A subscription to one room's events. Dropping it unsubscribes.
pub struct RoomSubscription {
    pub room: RoomId,
    pub(crate) receiver: broadcast::Receiver<Arc<FannedOut>>,
    pub(crate) release: Option<Box<dyn FnOnce() + Send + Sync>>,
}

/// What a subscriber gets next.
#[derive(Debug)]
pub enum Received {
    Event(Arc<FannedOut>),
    /// The subscriber fell this many events behind and they were dropped for
    /// it: it must reload from storage to have no holes.
    Lagged(u64),
    /// The bus is gone (shutdown).
    Closed,
}

impl RoomSubscription {
    pub async fn recv(&mut self) -> Received {
        match self.receiver.recv().await {
            Ok(event) => Received::Event(event),
            Err(broadcast::error::RecvError::Lagged(missed)) => Received::Lagged(missed),
            Err(broadcast::error::RecvError::Closed) => Received::Closed,
        }
    }
}

impl Drop for RoomSubscription {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

impl RoomFanout {
    /// Subscribes to a room; returns whether this is the first local
    /// subscriber (the transport may need to start listening for it).
    pub(crate) fn subscribe(&self, room: RoomId) -> (broadcast::Receiver<Arc<FannedOut>>, bool) {
        let mut rooms = self.rooms.lock().expect("fan-out lock poisoned");
        match rooms.get(&room) {
            Some(sender) => (sender.subscribe(), false),
            None => {
                let (sender, receiver) = broadcast::channel(ROOM_CHANNEL_CAPACITY);
                rooms.insert(room, sender);
                (receiver, true)
            }
        }
    }

    /// Forgets a room once its last local subscriber is gone; returns
    /// whether it was forgotten (the transport may stop listening).
    pub(crate) fn release(&self, room: RoomId) -> bool {
        let mut rooms = self.rooms.lock().expect("fan-out lock poisoned");
        // The subscription being released still counts until it is dropped,
        // which happens right after this call.
        if rooms.get(&room).is_some_and(|sender| sender.receiver_count() <= 1) {
            rooms.remove(&room);
            true
        } else {
            false
        }
    }

    /// Hands an event to this process' subscribers of its room, if any.
    pub(crate) fn deliver(&self, event: RoomEvent) {
        let rooms = self.rooms.lock().expect("fan-out lock poisoned");
        if let Some(sender) = rooms.get(&event.room_id()) {
            // No receiver left is not an error: the last one is leaving.
            let _ = sender.send(FannedOut::new(event));
        }
    }

    /// Hands a change of access to every socket of this process.
    pub(crate) fn deliver_access(&self, change: AccessChange) {
        // No receiver is not an error: no socket is open.
        let _ = self.access.send(change);
    }

    pub(crate) fn access_changes(&self) -> broadcast::Receiver<AccessChange> {
        self.access.subscribe()
    }

    /// Rooms with local subscribers (to resubscribe after a reconnect).
    pub(crate) fn rooms(&self) -> Vec<RoomId> {
        self.rooms.lock().expect("fan-out lock poisoned").keys().copied().collect()
    }

    pub(crate) fn subscriber_count(&self, room: RoomId) -> usize {
        self.rooms.lock().expect("fan-out lock poisoned").get(&room).map_or(0, |s| s.receiver_count())
    }
}
