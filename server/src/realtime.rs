//! `GET /ws`: one WebSocket per browser tab, carrying live events of the
//! rooms it follows.
//!
//! - Authenticated by the session cookie; the `Origin` must be ours.
//! - Every subscription is authorized when it is made, by the one rule of
//!   `tchatche_core::access`: public rooms for anyone (read-only for
//!   visitors), private rooms for members only; any other room looks like
//!   one that does not exist.
//! - And again whenever access changes, in every server process (changes of
//!   access travel on the bus): a room the person may no longer read is
//!   `Denied`, and the socket of a session that ended is closed.
//! - Each address (`MAX_SOCKETS_PER_ADDRESS`, IPv6 by /64) and each account
//!   ([`SOCKETS_PER_ACCOUNT`]) holds a bounded number of sockets per server
//!   process; a socket follows at most [`MAX_ROOMS`] rooms and sends at most
//!   [`FRAME_BURST`] frames at once, then [`FRAMES_PER_SECOND`].
//! - Read positions are written at most every [`READ_FLUSH`] per room.
//! - At shutdown every socket is closed ("going away"): browsers reconnect
//!   to another process.
//! - A subscription may resume after a version: the socket first sends
//!   everything newer from storage (and the queue), then live events, with
//!   no gap and no repeat.
//! - Each socket reads the bus through bounded channels: a slow socket falls
//!   behind alone, and is then resynchronized from storage.
//! - The server pings every 25 s and closes a socket silent for 75 s.

use std::{
    collections::HashMap,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    Extension,
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket, close_code},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures::{FutureExt, Sink, SinkExt, Stream, StreamExt, stream::BoxStream};
use tchatche_core::{
    access::{AccessChange, RoomAccess, conceals_from_search, room_access},
    bus::{FannedOut, Received},
    chat,
    event::{Author, ClientFrame, MessageView, RoomEvent, ServerFrame},
    ids::{RoomId, Seq, UserId},
    store::User,
};
use tokio::{
    sync::broadcast::{self, error::RecvError},
    time::{Instant, interval},
};
use tokio_stream::StreamMap;
use tokio_util::sync::CancellationToken;
use tower_sessions::{Session, session::Id};

use crate::AppState;

/// Documented route of the socket.
pub const ROUTE: &str = "/ws";
const HEARTBEAT: Duration = Duration::from_secs(25);
const SILENCE_LIMIT: Duration = Duration::from_secs(75);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames from browsers are small; anything bigger is refused.
const MAX_FRAME: usize = 16 * 1024;
/// Typing notices from one socket and room: at most this many per window
/// (browsers send one every few seconds while typing, and one at once after
/// a message is sent).
const TYPING_BURST: usize = 3;
const TYPING_WINDOW: Duration = Duration::from_secs(3);
/// Events taken at once when several are ready, before writing them.
const MAX_EVENTS_PER_WRITE: usize = 64;
/// Frames gather in the socket's write buffer up to this size before they
/// are written out (a flush writes them at once anyway); it grows only on
/// sockets that receive bursts.
const WRITE_BUFFER: usize = 16 * 1024;
/// Rooms one socket may follow at once: a page follows its own room, so
/// this leaves room for what pages may follow later, and no more (each
/// subscription holds a bus subscription and presence).
pub const MAX_ROOMS: usize = 20;
/// Sockets one account may hold open in one server process (tabs, devices).
pub const SOCKETS_PER_ACCOUNT: usize = 20;
/// Frames a socket may send at once, then this many a second; frames over
/// it are dropped, and a socket that keeps sending them is closed.
pub const FRAME_BURST: f64 = 30.0;
pub const FRAMES_PER_SECOND: f64 = 10.0;
const DROPPED_FRAMES_LIMIT: u32 = 100;
/// Read positions are written at most this often per socket: a browser
/// says it has read up to a message for every message it shows.
pub const READ_FLUSH: Duration = Duration::from_secs(2);

/// What the socket route needs besides the app's state.
#[derive(Clone)]
pub struct Realtime {
    pub open: OpenSockets,
    /// Cancelled at shutdown: every socket closes.
    pub shutdown: CancellationToken,
}

pub async fn upgrade(
    State(state): State<AppState>,
    Extension(realtime): Extension<Realtime>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin != Some(state.config.public_origin().as_str()) {
        tracing::warn!(?origin, "socket from another origin refused");
        return (StatusCode::FORBIDDEN, "cross-origin socket refused").into_response();
    }
    let viewer = match app::auth::session::user_of(&session, &state.store).await {
        Ok(viewer) => viewer,
        Err(err) => {
            tracing::error!(%err, "socket: loading the session failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "sessions are unavailable; try again shortly").into_response();
        }
    };
    let address = app::auth::session::client_address_from(&state.config, peer.ip(), &headers);
    let Some(slot) = realtime.open.take(
        tchatche_core::limits::address_key(address),
        viewer.as_ref().map(|v| v.id),
        state.config.max_sockets_per_address,
    ) else {
        return (StatusCode::TOO_MANY_REQUESTS, "too many open sockets from this address or account").into_response();
    };
    let session = session.id();
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| async move {
            serve(Connection::new(state, viewer, session), realtime.shutdown, socket).await;
            drop(slot);
        })
}

/// The sockets open in this process, per address and per account.
#[derive(Clone, Default)]
pub struct OpenSockets {
    counts: Arc<Mutex<SocketCounts>>,
}

#[derive(Default)]
struct SocketCounts {
    by_address: HashMap<String, usize>,
    by_account: HashMap<UserId, usize>,
}

/// One open socket's place in [`OpenSockets`], given back when dropped.
pub struct SocketSlot {
    counts: Arc<Mutex<SocketCounts>>,
    address: String,
    account: Option<UserId>,
}

impl OpenSockets {
    /// A place for one more socket, unless its address or account holds
    /// its share already.
    pub fn take(&self, address: String, account: Option<UserId>, per_address: usize) -> Option<SocketSlot> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let at_address = counts.by_address.get(&address).copied().unwrap_or(0);
        let of_account = account.map_or(0, |id| counts.by_account.get(&id).copied().unwrap_or(0));
        if at_address >= per_address || of_account >= SOCKETS_PER_ACCOUNT {
            return None;
        }
        *counts.by_address.entry(address.clone()).or_default() += 1;
        if let Some(id) = account {
            *counts.by_account.entry(id).or_default() += 1;
        }
        Some(SocketSlot { counts: self.counts.clone(), address, account })
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
            if let Some(count) = map.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    map.remove(key);
                }
            }
        }
        release(&mut counts.by_address, &self.address);
        if let Some(id) = self.account {
            release(&mut counts.by_account, &id);
        }
    }
}

async fn serve(connection: Connection, shutdown: CancellationToken, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let stream = stream.filter_map(|message| async move {
        match message {
            Ok(Message::Text(text)) => Some(Incoming::Text(text.to_string())),
            Ok(Message::Binary(_)) => Some(Incoming::Unsupported),
            Ok(Message::Close(_)) | Err(_) => Some(Incoming::Closed),
            Ok(Message::Ping(_) | Message::Pong(_)) => Some(Incoming::Alive),
        }
    });
    let sink = sink.with(|outgoing: Outgoing| async move {
        let close = |code, reason: &'static str| Message::Close(Some(CloseFrame { code, reason: reason.into() }));
        Ok::<_, axum::Error>(match outgoing {
            Outgoing::Frame(text) => Message::Text(text.into()),
            Outgoing::Ping => Message::Ping(Default::default()),
            Outgoing::Close(Closing::Normal) => close(close_code::NORMAL, ""),
            Outgoing::Close(Closing::SessionEnded) => close(close_code::POLICY, "session ended"),
            Outgoing::Close(Closing::TooManyFrames) => close(close_code::POLICY, "too many frames"),
            Outgoing::Close(Closing::GoingAway) => close(close_code::AWAY, "server shutting down"),
        })
    });
    connection.run(Box::pin(stream), Box::pin(sink), shutdown).await;
}

/// What the connection loop reads, whatever the transport (tests drive it
/// with channels).
#[derive(Debug)]
pub enum Incoming {
    Text(String),
    Unsupported,
    Alive,
    Closed,
}

/// What the connection loop writes.
#[derive(Debug, PartialEq, Eq)]
pub enum Outgoing {
    Frame(String),
    Ping,
    Close(Closing),
}

/// Why the server closes a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// The browser closed it, or went silent.
    Normal,
    /// Its session ended (signed out, disabled, deleted, new password).
    SessionEnded,
    /// It kept sending more frames than allowed.
    TooManyFrames,
    /// The server is shutting down: reconnect elsewhere.
    GoingAway,
}

/// A frame for this socket: built for it, or shared by every socket
/// following the room (encoded once for all of them).
#[allow(clippy::large_enum_variant)] // short-lived, and mostly `Shared`
enum Reply {
    Own(ServerFrame),
    Shared(Arc<FannedOut>),
}

/// What an "always" reader missed comes translated, like their page
/// (into the language their translation settings were saved in).
async fn with_translations(state: &AppState, viewer: Option<&User>, room: RoomId, mut missed: Vec<MessageView>) -> Vec<MessageView> {
    use tchatche_core::languages::{Reading, TranslateMode, base_of};
    let (Some(viewer), Some(translation)) = (viewer, &state.config.translation) else { return missed };
    let lang = viewer.locale.as_deref().and_then(base_of).filter(|lang| translation.languages.contains(lang));
    let Some(lang) = lang.filter(|_| viewer.translate_mode == TranslateMode::Always) else { return missed };
    if !matches!(state.store.room_by_id(room).await, Ok(Some(room)) if room.may_be_translated()) {
        return missed;
    }
    let reading = Reading::new(viewer.id, lang, viewer.translate_mode, &viewer.known_languages);
    if let Err(err) = state.store.attach_translations(&mut missed, &reading, None).await {
        // The originals, then: the next page load shows the translations.
        tracing::warn!(%err, "socket: translations for catch-up not read");
    }
    missed
}

fn own(frames: Vec<ServerFrame>) -> Vec<Reply> {
    frames.into_iter().map(Reply::Own).collect()
}

struct Followed {
    /// Highest message version sent for this room.
    sent: Seq,
    /// Highest reaction seq sent for this room (where a catch-up resumes).
    reactions_sent: Seq,
    member: bool,
    /// Messages go out without the words their authors keep off search
    /// engines (`access::conceals_from_search`).
    conceal: bool,
    /// When the last typing notices were relayed.
    typing: Vec<Instant>,
    /// A read position said but not written yet (see [`READ_FLUSH`]).
    unsaved_read: Option<Seq>,
}

/// How many frames a socket may still send: a token bucket.
pub struct FrameBudget {
    tokens: f64,
    refilled: Instant,
    /// Frames dropped since the bucket was last full; past a limit the
    /// socket is closed. Only a pause long enough to refill the whole
    /// bucket forgives them, so a client sending a little faster than
    /// allowed, forever, is closed too.
    dropped: u32,
}

impl FrameBudget {
    pub fn new(now: Instant) -> Self {
        Self { tokens: FRAME_BURST, refilled: now, dropped: 0 }
    }

    /// Whether one more frame, arriving at `now`, is within the budget.
    pub fn spend(&mut self, now: Instant) -> Result<bool, Closing> {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * FRAMES_PER_SECOND).min(FRAME_BURST);
        self.refilled = now;
        if self.tokens >= FRAME_BURST {
            self.dropped = 0;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(true);
        }
        self.dropped += 1;
        if self.dropped > DROPPED_FRAMES_LIMIT { Err(Closing::TooManyFrames) } else { Ok(false) }
    }
}

pub struct Connection {
    state: AppState,
    viewer: Option<User>,
    /// The session the socket was opened with: checked again whenever its
    /// account changes.
    session: Option<Id>,
    /// This connection's presence key.
    id: String,
    rooms: HashMap<RoomId, Followed>,
    events: StreamMap<RoomId, BoxStream<'static, Received>>,
    access: broadcast::Receiver<AccessChange>,
}

impl Connection {
    pub fn new(state: AppState, viewer: Option<User>, session: Option<Id>) -> Self {
        let access = state.bus.access_changes();
        Self {
            state,
            viewer,
            session,
            id: uuid::Uuid::new_v4().simple().to_string(),
            rooms: HashMap::new(),
            events: StreamMap::new(),
            access,
        }
    }

    pub async fn run<I, O>(mut self, mut incoming: Pin<Box<I>>, mut outgoing: Pin<Box<O>>, shutdown: CancellationToken)
    where
        I: Stream<Item = Incoming> + Send + ?Sized,
        O: Sink<Outgoing> + Send + ?Sized,
    {
        let mut heartbeat = interval(HEARTBEAT);
        heartbeat.reset();
        let mut read_flush = interval(READ_FLUSH);
        read_flush.reset();
        let mut last_heard = Instant::now();
        let mut budget = FrameBudget::new(last_heard);
        let closing = loop {
            let mut replies = tokio::select! {
                message = incoming.next() => match message {
                    None | Some(Incoming::Closed) => break Closing::Normal,
                    Some(Incoming::Alive) => { last_heard = Instant::now(); Vec::new() }
                    // Binary frames are not part of the protocol: ignored.
                    Some(Incoming::Unsupported) => Vec::new(),
                    Some(Incoming::Text(text)) => {
                        last_heard = Instant::now();
                        match budget.spend(last_heard) {
                            Err(closing) => break closing,
                            Ok(false) => Vec::new(),
                            Ok(true) => match serde_json::from_str::<ClientFrame>(&text) {
                                Ok(frame) => own(self.handle(frame).await),
                                // Unknown frames are ignored (a newer client, or noise).
                                Err(_) => Vec::new(),
                            },
                        }
                    }
                },
                Some((room, received)) = self.events.next(), if !self.events.is_empty() => self.deliver(room, received).await,
                change = self.access.recv() => {
                    let change = match change {
                        Ok(change) => change,
                        Err(RecvError::Lagged(_)) => AccessChange::Everything,
                        Err(RecvError::Closed) => break Closing::GoingAway,
                    };
                    match self.access_changed(change).await {
                        Ok(frames) => own(frames),
                        Err(closing) => break closing,
                    }
                }
                _ = read_flush.tick() => {
                    self.save_read_positions().await;
                    Vec::new()
                }
                () = shutdown.cancelled() => break Closing::GoingAway,
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > SILENCE_LIMIT {
                        break Closing::Normal;
                    }
                    self.refresh_presence().await;
                    if send(&mut outgoing, Outgoing::Ping).await.is_err() { break Closing::Normal }
                    Vec::new()
                }
            };
            // Under load several events are ready at once: take them all and
            // write them with one flush (one write to the socket, not one each).
            for _ in 0..MAX_EVENTS_PER_WRITE {
                match self.events.next().now_or_never() {
                    Some(Some((room, received))) => replies.extend(self.deliver(room, received).await),
                    _ => break,
                }
            }
            if write_all(&mut outgoing, replies).await.is_err() {
                break Closing::Normal;
            }
        };
        let _ = send(&mut outgoing, Outgoing::Close(closing)).await;
        self.leave_all().await;
    }

    async fn handle(&mut self, frame: ClientFrame) -> Vec<ServerFrame> {
        match frame {
            ClientFrame::Ping => vec![ServerFrame::Pong],
            ClientFrame::Subscribe { room, after, reactions_after } => self.subscribe(room, after, reactions_after).await,
            ClientFrame::Unsubscribe { room } => {
                self.unfollow(room).await;
                Vec::new()
            }
            ClientFrame::Typing { room } => {
                let (Some(viewer), Some(followed)) = (&self.viewer, self.rooms.get_mut(&room)) else { return Vec::new() };
                followed.typing.retain(|at| at.elapsed() < TYPING_WINDOW);
                if !followed.member || followed.typing.len() >= TYPING_BURST {
                    return Vec::new();
                }
                followed.typing.push(Instant::now());
                let event = RoomEvent::Typing { room_id: room, user: Author::from(viewer) };
                if let Err(err) = self.state.bus.publish(event).await {
                    tracing::warn!(%err, "typing notice not published");
                }
                Vec::new()
            }
            ClientFrame::Read { room, seq } => {
                if let (Some(_), Some(followed)) = (&self.viewer, self.rooms.get_mut(&room))
                    && followed.member
                {
                    followed.unsaved_read = followed.unsaved_read.max(Some(seq));
                }
                Vec::new()
            }
        }
    }

    /// Writes the read positions said since the last time.
    async fn save_read_positions(&mut self) {
        let Some(viewer) = &self.viewer else { return };
        for (room, followed) in &mut self.rooms {
            if let Some(seq) = followed.unsaved_read.take()
                && let Err(err) = self.state.store.mark_read(*room, viewer.id, seq).await
            {
                tracing::warn!(%err, "read position not saved");
            }
        }
    }

    /// Applies a change of access: rooms no longer readable are `Denied`,
    /// a change of membership is told with a new `Subscribed`, and a
    /// session that ended closes the socket.
    async fn access_changed(&mut self, change: AccessChange) -> Result<Vec<ServerFrame>, Closing> {
        let mine = |user: UserId| self.viewer.as_ref().is_some_and(|viewer| viewer.id == user);
        let rooms: Vec<RoomId> = match change {
            AccessChange::Room(room) => vec![room],
            AccessChange::Membership { room, user } if mine(user) => vec![room],
            AccessChange::Account(user) if mine(user) => {
                self.check_session().await?;
                self.rooms.keys().copied().collect()
            }
            AccessChange::Everything => {
                self.check_session().await?;
                self.rooms.keys().copied().collect()
            }
            AccessChange::Membership { .. } | AccessChange::Account(_) => return Ok(Vec::new()),
        };
        let mut frames = Vec::new();
        for room in rooms {
            if self.rooms.contains_key(&room) {
                frames.extend(self.check_room(room).await);
            }
        }
        Ok(frames)
    }

    /// Whether the socket's session still holds its account; the account
    /// is read afresh (its name or role may have changed).
    async fn check_session(&mut self) -> Result<(), Closing> {
        let Some(viewer) = &self.viewer else { return Ok(()) };
        let Some(session) = &self.session else { return Err(Closing::SessionEnded) };
        match self.state.sessions.account(session, &self.state.store).await {
            Ok(Some(user)) if user.id == viewer.id => {
                self.viewer = Some(user);
                Ok(())
            }
            Ok(_) => Err(Closing::SessionEnded),
            Err(err) => {
                // Unable to tell: closed, and the browser's reconnection asks again.
                tracing::warn!(%err, "socket: checking its session failed");
                Err(Closing::SessionEnded)
            }
        }
    }

    /// What the viewer may do in a room, by the one rule (`Hidden` when it
    /// cannot be told: a storage failure denies rather than leaks), and
    /// whether its messages reach them concealed (`conceals_from_search`).
    async fn access(&mut self, room: RoomId) -> (RoomAccess, bool) {
        let access = match self.state.store.room_by_id(room).await {
            Ok(Some(room)) => room_access(&self.state.store, &room, self.viewer.as_ref())
                .await
                .map(|access| (access, conceals_from_search(&room, self.viewer.as_ref()))),
            Ok(None) => Ok((RoomAccess::Hidden, true)),
            Err(err) => Err(err),
        };
        access.unwrap_or_else(|err| {
            tracing::error!(%err, %room, "socket: checking access failed");
            (RoomAccess::Hidden, true)
        })
    }

    async fn check_room(&mut self, room: RoomId) -> Vec<ServerFrame> {
        let (access, conceal) = self.access(room).await;
        if !access.may_read() {
            self.unfollow(room).await;
            return vec![ServerFrame::Denied(room)];
        }
        let member = access.may_post();
        match self.rooms.get_mut(&room) {
            // The room's owner may have opened it to search engines, or closed it.
            Some(followed) if followed.member == member => {
                followed.conceal = conceal;
                return Vec::new();
            }
            Some(followed) => {
                followed.member = member;
                followed.conceal = conceal;
            }
            None => return Vec::new(),
        }
        let online = match &self.viewer {
            Some(viewer) => self.state.bus.set_presence(room, &self.id, &Author::from(viewer), member).await.unwrap_or_default(),
            None => Vec::new(),
        };
        vec![ServerFrame::Subscribed { room, member, online: if member { online } else { Vec::new() } }]
    }

    async fn subscribe(&mut self, room_id: RoomId, after: Option<Seq>, reactions_after: Option<Seq>) -> Vec<ServerFrame> {
        if self.rooms.contains_key(&room_id) {
            self.unfollow(room_id).await;
        }
        if self.rooms.len() >= MAX_ROOMS {
            return vec![ServerFrame::Denied(room_id)];
        }
        let room = match self.state.store.room_by_id(room_id).await {
            Ok(Some(room)) => room,
            Ok(None) => return vec![ServerFrame::Denied(room_id)],
            Err(err) => {
                tracing::error!(%err, "socket: loading a room failed");
                return vec![ServerFrame::Denied(room_id)];
            }
        };
        let access = match room_access(&self.state.store, &room, self.viewer.as_ref()).await {
            Ok(access) => access,
            Err(err) => {
                tracing::error!(%err, "socket: checking access failed");
                RoomAccess::Hidden
            }
        };
        if !access.may_read() {
            return vec![ServerFrame::Denied(room_id)];
        }
        let member = access.may_post();
        // Listen first, then read storage: nothing falls in between.
        let subscription = match self.state.bus.subscribe(room_id).await {
            Ok(subscription) => subscription,
            Err(err) => {
                tracing::error!(%err, "socket: subscribing failed");
                return vec![ServerFrame::Denied(room_id)];
            }
        };
        let stream = futures::stream::unfold(subscription, |mut subscription| async move {
            match subscription.recv().await {
                Received::Closed => None,
                received => Some((received, subscription)),
            }
        });
        self.events.insert(room_id, stream.boxed());
        let sent = after.unwrap_or(room.last_seq);
        let conceal = conceals_from_search(&room, self.viewer.as_ref());
        let reactions_sent = reactions_after.unwrap_or(room.reactions_seq);
        self.rooms.insert(room_id, Followed { sent, reactions_sent, member, conceal, typing: Vec::new(), unsaved_read: None });

        let mut frames = Vec::new();
        let online = match (&self.viewer, member) {
            (Some(viewer), true) => self.state.bus.set_presence(room_id, &self.id, &Author::from(viewer), true).await.unwrap_or_default(),
            _ => Vec::new(),
        };
        frames.push(ServerFrame::Subscribed { room: room_id, member, online });
        if reactions_after.is_some() {
            frames.extend(self.catch_up_reactions(room_id).await);
        }
        if after.is_some() {
            frames.extend(self.catch_up(room_id).await);
        } else if let Ok(page) = chat::history(&self.state.store, &self.state.bus, room_id, None).await {
            // Live from what storage holds now (pending messages included).
            let newest = page.messages.iter().map(|m| m.version).max().unwrap_or_default();
            if let Some(followed) = self.rooms.get_mut(&room_id) {
                followed.sent = followed.sent.max(newest);
            }
        }
        frames
    }

    /// Everything newer than what this socket sent for the room.
    async fn catch_up(&mut self, room: RoomId) -> Vec<ServerFrame> {
        let Some((sent, conceal)) = self.rooms.get(&room).map(|f| (f.sent, f.conceal)) else { return Vec::new() };
        match chat::catch_up(&self.state.store, &self.state.bus, room, sent).await {
            Ok((_, true)) => vec![ServerFrame::Reload(room)],
            Ok((missed, false)) => {
                if let (Some(last), Some(followed)) = (missed.last(), self.rooms.get_mut(&room)) {
                    followed.sent = followed.sent.max(last.version);
                }
                let mut missed = with_translations(&self.state, self.viewer.as_ref(), room, missed).await;
                if conceal {
                    missed.iter_mut().for_each(MessageView::conceal_from_search);
                }
                missed.into_iter().map(|m| ServerFrame::Event(RoomEvent::Message(m))).collect()
            }
            Err(err) => {
                tracing::error!(%err, "socket: catch-up failed");
                vec![ServerFrame::Reload(room)]
            }
        }
    }

    /// Every message's reactions changed after what this socket sent.
    async fn catch_up_reactions(&mut self, room: RoomId) -> Vec<ServerFrame> {
        let Some(after) = self.rooms.get(&room).map(|f| f.reactions_sent) else { return Vec::new() };
        match self.state.store.reactions_changed_after(room, after).await {
            Ok((_, true)) => vec![ServerFrame::Reload(room)],
            Ok((changed, false)) => {
                if let (Some((_, last)), Some(followed)) = (changed.last(), self.rooms.get_mut(&room)) {
                    followed.reactions_sent = followed.reactions_sent.max(last.seq);
                }
                changed
                    .into_iter()
                    .map(|(message_id, reactions)| ServerFrame::Event(RoomEvent::Reacted { room_id: room, message_id, reactions }))
                    .collect()
            }
            Err(err) => {
                tracing::error!(%err, "socket: reactions catch-up failed");
                vec![ServerFrame::Reload(room)]
            }
        }
    }

    /// Both catch-ups, after events were lost on the way.
    async fn resync(&mut self, room: RoomId) -> Vec<Reply> {
        let mut frames = self.catch_up_reactions(room).await;
        frames.extend(self.catch_up(room).await);
        own(frames)
    }

    async fn deliver(&mut self, room: RoomId, received: Received) -> Vec<Reply> {
        let Some(followed) = self.rooms.get_mut(&room) else { return Vec::new() };
        match received {
            Received::Event(shared) => match &shared.event {
                RoomEvent::Message(message) => {
                    if message.version <= followed.sent {
                        return Vec::new(); // already sent (catch-up overlap)
                    }
                    followed.sent = message.version;
                    // The frame encoded for everyone, unless this reader's differs.
                    if followed.conceal && message.has_words_off_search() {
                        let mut concealed = message.clone();
                        concealed.conceal_from_search();
                        return own(vec![ServerFrame::Event(RoomEvent::Message(concealed))]);
                    }
                    vec![Reply::Shared(shared)]
                }
                RoomEvent::Typing { user, .. } => {
                    let mine = self.viewer.as_ref().is_some_and(|v| v.id == user.id);
                    if followed.member && !mine { vec![Reply::Shared(shared)] } else { Vec::new() }
                }
                // Visitors never see who is online.
                RoomEvent::Presence { .. } => {
                    if followed.member { vec![Reply::Shared(shared)] } else { Vec::new() }
                }
                RoomEvent::Resync(_) => self.resync(room).await,
                // Everyone who reads the room sees its reactions. (Sent even
                // when older than the newest sent: seqs of different messages
                // may cross on the way; the page keeps each message's newest.)
                RoomEvent::Reacted { reactions, .. } => {
                    followed.reactions_sent = followed.reactions_sent.max(reactions.seq);
                    vec![Reply::Shared(shared)]
                }
                // Translations are for signed-in readers who take them (the
                // page in the browser keeps those in its language).
                RoomEvent::Translated { .. } => {
                    let reads = self.viewer.as_ref().is_some_and(|v| v.translate_mode != tchatche_core::languages::TranslateMode::Never);
                    if reads { vec![Reply::Shared(shared)] } else { Vec::new() }
                }
            },
            // Events were dropped for this slow socket: fill the hole from storage.
            Received::Lagged(missed) => {
                tracing::debug!(missed, %room, "socket lagged; resynchronizing");
                self.resync(room).await
            }
            Received::Closed => Vec::new(),
        }
    }

    async fn unfollow(&mut self, room: RoomId) {
        self.events.remove(&room);
        if let (Some(followed), Some(viewer)) = (self.rooms.remove(&room), &self.viewer) {
            if let Some(seq) = followed.unsaved_read
                && let Err(err) = self.state.store.mark_read(room, viewer.id, seq).await
            {
                tracing::warn!(%err, "read position not saved");
            }
            if followed.member {
                let _ = self.state.bus.set_presence(room, &self.id, &Author::from(viewer), false).await;
            }
        }
    }

    async fn refresh_presence(&mut self) {
        let Some(viewer) = &self.viewer else { return };
        for (room, followed) in &self.rooms {
            if followed.member {
                let _ = self.state.bus.refresh_presence(*room, &self.id, &Author::from(viewer)).await;
            }
        }
    }

    async fn leave_all(&mut self) {
        self.save_read_positions().await;
        let rooms: Vec<RoomId> = self.rooms.keys().copied().collect();
        for room in rooms {
            self.unfollow(room).await;
        }
    }
}

/// Writes frames and flushes once: the socket's write buffer gathers them.
async fn write_all<O: Sink<Outgoing> + Send + ?Sized>(outgoing: &mut Pin<Box<O>>, replies: Vec<Reply>) -> Result<(), ()> {
    if replies.is_empty() {
        return Ok(());
    }
    let write = async {
        for reply in replies {
            let text = match reply {
                Reply::Own(frame) => serde_json::to_string(&frame).expect("frames serialize"),
                Reply::Shared(event) => event.frame().to_owned(),
            };
            outgoing.feed(Outgoing::Frame(text)).await?;
        }
        outgoing.flush().await
    };
    in_time(write).await
}

/// Sends a ping or the closing frame.
async fn send<O: Sink<Outgoing> + Send + ?Sized>(outgoing: &mut Pin<Box<O>>, message: Outgoing) -> Result<(), ()> {
    in_time(outgoing.send(message)).await
}

/// A write still unfinished after [`WRITE_TIMEOUT`] has failed: the peer
/// stopped reading.
async fn in_time<E>(write: impl Future<Output = Result<(), E>>) -> Result<(), ()> {
    match tokio::time::timeout(WRITE_TIMEOUT, write).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_sending_a_little_too_fast_is_closed_in_the_end() {
        let start = Instant::now();
        let mut budget = FrameBudget::new(start);
        // Twice the allowed rate: every other frame fits in the budget.
        let closed_after = (0..10_000u64).find(|frame| budget.spend(start + Duration::from_millis(frame * 50)).is_err());
        let frames = closed_after.expect("closed in the end");
        assert!(frames > FRAME_BURST as u64 + u64::from(DROPPED_FRAMES_LIMIT), "{frames}");
    }

    #[test]
    fn a_pause_forgives_a_burst() {
        let start = Instant::now();
        let mut budget = FrameBudget::new(start);
        for round in 0..10u64 {
            let at = start + Duration::from_secs(round * 4);
            for _ in 0..(FRAME_BURST as u32 + DROPPED_FRAMES_LIMIT) {
                assert!(budget.spend(at).is_ok(), "round {round}");
            }
        }
    }
}
