//! `GET /ws`: one WebSocket per browser tab, carrying live events of the
//! rooms it follows.
//!
//! - Authenticated by the session cookie; the `Origin` must be ours.
//! - Every subscription is authorized when it is made: public rooms for
//!   anyone (read-only for visitors), private rooms for members only; any
//!   other room looks like one that does not exist.
//! - A subscription may resume after a version: the socket first sends
//!   everything newer from storage (and the queue), then live events, with
//!   no gap and no repeat.
//! - Each socket reads the bus through bounded channels: a slow socket falls
//!   behind alone, and is then resynchronized from storage.
//! - The server pings every 25 s and closes a socket silent for 75 s.

use std::{collections::HashMap, pin::Pin, sync::Arc, time::Duration};

use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures::{FutureExt, Sink, SinkExt, Stream, StreamExt, stream::BoxStream};
use tchatche_core::{
    bus::{FannedOut, Received},
    chat,
    event::{Author, ClientFrame, RoomEvent, ServerFrame},
    ids::{RoomId, Seq},
    room::Visibility,
    store::User,
};
use tokio::time::{Instant, interval};
use tokio_stream::StreamMap;
use tower_sessions::Session;

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
/// Rooms one socket may follow at once.
const MAX_ROOMS: usize = 200;

pub async fn upgrade(State(state): State<AppState>, session: Session, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin != Some(state.config.public_origin().as_str()) {
        tracing::warn!(?origin, "socket from another origin refused");
        return (StatusCode::FORBIDDEN, "cross-origin socket refused").into_response();
    }
    let viewer = match app::auth::session::user_of(&session, &state.store).await {
        Ok(viewer) => viewer,
        Err(err) => {
            tracing::error!(%err, "socket: loading the session failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| serve(state, viewer, socket))
}

async fn serve(state: AppState, viewer: Option<User>, socket: WebSocket) {
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
        Ok::<_, axum::Error>(match outgoing {
            Outgoing::Frame(text) => Message::Text(text.into()),
            Outgoing::Ping => Message::Ping(Default::default()),
            Outgoing::Close => Message::Close(None),
        })
    });
    Connection::new(state, viewer).run(Box::pin(stream), Box::pin(sink)).await;
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
#[derive(Debug)]
pub enum Outgoing {
    Frame(String),
    Ping,
    Close,
}

/// A frame for this socket: built for it, or shared by every socket
/// following the room (encoded once for all of them).
enum Reply {
    Own(ServerFrame),
    Shared(Arc<FannedOut>),
}

fn own(frames: Vec<ServerFrame>) -> Vec<Reply> {
    frames.into_iter().map(Reply::Own).collect()
}

struct Followed {
    /// Highest message version sent for this room.
    sent: Seq,
    member: bool,
    /// When the last typing notices were relayed.
    typing: Vec<Instant>,
}

pub struct Connection {
    state: AppState,
    viewer: Option<User>,
    /// This connection's presence key.
    id: String,
    rooms: HashMap<RoomId, Followed>,
    events: StreamMap<RoomId, BoxStream<'static, Received>>,
}

impl Connection {
    pub fn new(state: AppState, viewer: Option<User>) -> Self {
        Self {
            state,
            viewer,
            id: uuid::Uuid::new_v4().simple().to_string(),
            rooms: HashMap::new(),
            events: StreamMap::new(),
        }
    }

    pub async fn run<I, O>(mut self, mut incoming: Pin<Box<I>>, mut outgoing: Pin<Box<O>>)
    where
        I: Stream<Item = Incoming> + Send + ?Sized,
        O: Sink<Outgoing> + Send + ?Sized,
    {
        let mut heartbeat = interval(HEARTBEAT);
        heartbeat.reset();
        let mut last_heard = Instant::now();
        loop {
            let mut replies = tokio::select! {
                message = incoming.next() => match message {
                    None | Some(Incoming::Closed) => break,
                    Some(Incoming::Alive) => { last_heard = Instant::now(); Vec::new() }
                    // Binary frames are not part of the protocol: ignored.
                    Some(Incoming::Unsupported) => Vec::new(),
                    Some(Incoming::Text(text)) => {
                        last_heard = Instant::now();
                        match serde_json::from_str::<ClientFrame>(&text) {
                            Ok(frame) => own(self.handle(frame).await),
                            // Unknown frames are ignored (a newer client, or noise).
                            Err(_) => Vec::new(),
                        }
                    }
                },
                Some((room, received)) = self.events.next(), if !self.events.is_empty() => self.deliver(room, received).await,
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > SILENCE_LIMIT {
                        break;
                    }
                    self.refresh_presence().await;
                    if send(&mut outgoing, Outgoing::Ping).await.is_err() { break }
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
                break;
            }
        }
        let _ = send(&mut outgoing, Outgoing::Close).await;
        self.leave_all().await;
    }

    async fn handle(&mut self, frame: ClientFrame) -> Vec<ServerFrame> {
        match frame {
            ClientFrame::Ping => vec![ServerFrame::Pong],
            ClientFrame::Subscribe { room, after } => self.subscribe(room, after).await,
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
                let event = RoomEvent::Typing { room_id: room, user: author(viewer) };
                if let Err(err) = self.state.bus.publish(event).await {
                    tracing::warn!(%err, "typing notice not published");
                }
                Vec::new()
            }
            ClientFrame::Read { room, seq } => {
                if let (Some(viewer), Some(followed)) = (&self.viewer, self.rooms.get(&room)) {
                    if followed.member {
                        if let Err(err) = self.state.store.mark_read(room, viewer.id, seq).await {
                            tracing::warn!(%err, "read position not saved");
                        }
                    }
                }
                Vec::new()
            }
        }
    }

    async fn subscribe(&mut self, room_id: RoomId, after: Option<Seq>) -> Vec<ServerFrame> {
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
        let member = match &self.viewer {
            Some(viewer) => self.state.store.is_member(room.id, viewer.id).await.unwrap_or(false),
            None => false,
        };
        if room.visibility == Visibility::Private && !member {
            return vec![ServerFrame::Denied(room_id)];
        }
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
        self.rooms.insert(room_id, Followed { sent: after.unwrap_or(room.last_seq), member, typing: Vec::new() });

        let mut frames = Vec::new();
        let online = match (&self.viewer, member) {
            (Some(viewer), true) => self.state.bus.set_presence(room_id, &self.id, &author(viewer), true).await.unwrap_or_default(),
            _ => Vec::new(),
        };
        frames.push(ServerFrame::Subscribed { room: room_id, member, online });
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
        let Some(sent) = self.rooms.get(&room).map(|f| f.sent) else { return Vec::new() };
        match chat::catch_up(&self.state.store, &self.state.bus, room, sent).await {
            Ok((_, true)) => vec![ServerFrame::Reload(room)],
            Ok((missed, false)) => {
                if let (Some(last), Some(followed)) = (missed.last(), self.rooms.get_mut(&room)) {
                    followed.sent = followed.sent.max(last.version);
                }
                missed.into_iter().map(|m| ServerFrame::Event(RoomEvent::Message(m))).collect()
            }
            Err(err) => {
                tracing::error!(%err, "socket: catch-up failed");
                vec![ServerFrame::Reload(room)]
            }
        }
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
                RoomEvent::Resync(_) => own(self.catch_up(room).await),
            },
            // Events were dropped for this slow socket: fill the hole from storage.
            Received::Lagged(missed) => {
                tracing::debug!(missed, %room, "socket lagged; resynchronizing");
                own(self.catch_up(room).await)
            }
            Received::Closed => Vec::new(),
        }
    }

    async fn unfollow(&mut self, room: RoomId) {
        self.events.remove(&room);
        if let (Some(followed), Some(viewer)) = (self.rooms.remove(&room), &self.viewer) {
            if followed.member {
                let _ = self.state.bus.set_presence(room, &self.id, &author(viewer), false).await;
            }
        }
    }

    async fn refresh_presence(&mut self) {
        let Some(viewer) = &self.viewer else { return };
        for (room, followed) in &self.rooms {
            if followed.member {
                let _ = self.state.bus.refresh_presence(*room, &self.id, &author(viewer)).await;
            }
        }
    }

    async fn leave_all(&mut self) {
        let rooms: Vec<RoomId> = self.rooms.keys().copied().collect();
        for room in rooms {
            self.unfollow(room).await;
        }
    }
}

fn author(user: &User) -> Author {
    Author { id: user.id, username: user.username.clone(), display_name: user.display_name.clone() }
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
