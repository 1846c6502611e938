//! The live side of a member's conversation in the browser: the room's
//! timeline as signals, fed by the tab's socket ([`super::socket`]), which
//! resumes after the last version seen.

use std::collections::BTreeMap;

use leptos::prelude::*;
use tchatche_core::{
    event::{Author, MessageView, RoomEvent, ServerFrame, ThreadSummary, Translation},
    ids::{MessageId, RoomId, Seq},
    languages::{Reading, TranslateMode},
    reaction::Reactions,
    room::MyRoom,
};

/// A message this tab posted that the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPost {
    pub id: MessageId,
    pub body: String,
    /// The message it answers (on a thread's page).
    pub reply_to: Option<MessageId>,
    /// Why it failed, once it did (it can be retried: same id, no double).
    pub failed: Option<crate::error::AppError>,
}

/// How the live connection is doing, shown to the person.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    /// Lost; trying again in this many seconds.
    Retrying(u32),
}

/// Everything live about the open room (and the sidebar's counters).
#[derive(Clone, Copy)]
pub struct Timeline {
    pub room: RoomId,
    /// On a thread's page, its first message: only the thread is shown.
    pub thread: Option<MessageId>,
    /// The newest version of the room this tab has heard of, shown or
    /// not (a thread's page skips the rest of the room), to resume after.
    pub heard: StoredValue<Seq>,
    /// Confirmed messages by seq.
    pub messages: RwSignal<BTreeMap<Seq, MessageView>>,
    pub pending: RwSignal<Vec<PendingPost>>,
    pub has_older: RwSignal<bool>,
    pub typing: RwSignal<Vec<(Author, f64)>>,
    pub online: RwSignal<Vec<Author>>,
    pub connection: RwSignal<Connection>,
    pub my_rooms: RwSignal<Vec<MyRoom>>,
    pub viewer: StoredValue<Option<String>>,
    /// How the viewer reads translations, if at all.
    pub reading: StoredValue<Option<Reading>>,
    /// Messages an "ask" reader asked to translate: their translations are
    /// shown when they come.
    pub asked: RwSignal<Vec<MessageId>>,
    /// The newest reaction seq this tab has heard of (to resume after).
    pub reactions_heard: StoredValue<Seq>,
    /// Whether the viewer may post here, as the socket last said (a block
    /// can take it away while the page is open: the composer hides).
    pub may_post: RwSignal<bool>,
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
impl Timeline {
    pub fn new(room: RoomId, messages: Vec<MessageView>, has_older: bool, viewer: Option<String>) -> Self {
        Self {
            room,
            thread: None,
            heard: StoredValue::new(Seq::default()),
            messages: RwSignal::new(messages.into_iter().map(|m| (m.seq, m)).collect()),
            pending: RwSignal::new(Vec::new()),
            has_older: RwSignal::new(has_older),
            typing: RwSignal::new(Vec::new()),
            online: RwSignal::new(Vec::new()),
            connection: RwSignal::new(Connection::Connecting),
            my_rooms: RwSignal::new(Vec::new()),
            viewer: StoredValue::new(viewer),
            reading: StoredValue::new(None),
            asked: RwSignal::new(Vec::new()),
            reactions_heard: StoredValue::new(Seq::default()),
            may_post: RwSignal::new(true),
        }
    }

    /// The newest version this tab has of the room (to resume after).
    pub fn newest_version(&self) -> Seq {
        let shown = self.messages.with_untracked(|m| m.values().map(|m| m.version).max().unwrap_or_default());
        shown.max(self.heard.get_value())
    }

    pub fn newest_seq(&self) -> Seq {
        self.messages.with_untracked(|m| m.keys().next_back().copied().unwrap_or_default())
    }

    /// Where older messages start: before the oldest shown (on a thread's
    /// page, the oldest reply shown: its first message comes before all).
    pub fn oldest_seq(&self) -> Option<Seq> {
        self.messages.with_untracked(|m| m.values().find(|m| Some(m.id) != self.thread).map(|m| m.seq))
    }

    /// Applies a message version: new, or newer than the one shown. A new
    /// reply counts in its thread's summary, where that is shown.
    pub fn apply(&self, message: MessageView) {
        if message.room_id != self.room {
            return;
        }
        let mut fresh = false;
        self.heard.update_value(|heard| {
            fresh = message.version > *heard;
            *heard = (*heard).max(message.version);
        });
        let thread = message.threading.root;
        if self.thread.is_some_and(|shown| shown != message.id && Some(shown) != thread) {
            return;
        }
        let id = message.id;
        self.messages.update(|messages| {
            let new_reply = thread.filter(|_| !messages.contains_key(&message.seq) && !message.deleted);
            // A reply deleted now was counted: shown alive, or older than the page.
            let counted_before = messages.get(&message.seq).map_or(fresh, |shown| !shown.deleted && shown.version < message.version);
            let deleted_reply = thread.filter(|_| message.deleted && counted_before);
            let at = message.created_at;
            match messages.get(&message.seq) {
                Some(shown) if shown.version >= message.version => {}
                shown => {
                    // An edit read before its replies were stored keeps the count shown.
                    let counted = shown.and_then(|shown| shown.threading.replies);
                    let mut message = message;
                    message.threading.replies = message.threading.replies.or(counted);
                    // Versions carry no reactions: those shown stay (a
                    // deleted message shows none).
                    if let Some(shown) = shown.filter(|_| !message.deleted && message.reactions.is_empty()) {
                        message.reactions = shown.reactions.clone();
                    }
                    messages.insert(message.seq, message);
                }
            }
            if let Some(root) = new_reply.and_then(|root| messages.values_mut().find(|m| m.id == root)) {
                let summary = root.threading.replies.get_or_insert(ThreadSummary { count: 0, last_reply_at: None });
                summary.count += 1;
                summary.last_reply_at = Some(at);
            }
            if let Some(root) = deleted_reply.and_then(|root| messages.values_mut().find(|m| m.id == root)) {
                if let Some(summary) = root.threading.replies.as_mut() {
                    summary.count = summary.count.saturating_sub(1);
                }
                // No replies left: no thread to point to (as the server shows it).
                if root.threading.replies.is_some_and(|summary| summary.count == 0) {
                    root.threading.replies = None;
                }
            }
        });
        self.pending.update(|pending| pending.retain(|p| p.id != id));
    }

    /// Shows a translation that came in, if this reader wants it: in their
    /// language, of the version shown, and read "always" or asked for.
    pub fn translated(&self, id: MessageId, translation: Translation) {
        let Some(reading) = self.reading.get_value() else { return };
        let wanted = reading.lang == translation.lang
            && (reading.mode == TranslateMode::Always || self.asked.with_untracked(|asked| asked.contains(&id)));
        if !wanted {
            return;
        }
        self.messages.update(|messages| {
            let shown = messages.values_mut().find(|m| m.id == id && m.version == translation.version);
            if let Some(message) = shown.filter(|message| reading.needs(message)) {
                message.translation = Some(translation);
            }
        });
    }

    /// Shows a message's reactions, unless those shown are as new.
    pub fn reacted(&self, id: MessageId, reactions: Reactions) {
        self.reactions_heard.update_value(|heard| *heard = (*heard).max(reactions.seq));
        self.messages.update(|messages| {
            if let Some(message) = messages.values_mut().find(|m| m.id == id && m.reactions.seq < reactions.seq) {
                message.reactions = reactions;
            }
        });
    }

    pub fn prepend(&self, older: Vec<MessageView>, has_older: bool) {
        self.messages.update(|messages| {
            for message in older {
                messages.entry(message.seq).or_insert(message);
            }
        });
        self.has_older.set(has_older);
    }

    /// Counts a message of another room in the sidebar.
    fn count_elsewhere(&self, message: &MessageView) {
        let viewer = self.viewer.get_value();
        let own = message.author.as_ref().map(|a| &a.username) == viewer.as_ref();
        if message.version != message.seq || message.deleted || own {
            return; // an edit, a deletion, or one's own: nothing new to read
        }
        let mentioned = viewer.as_ref().is_some_and(|me| message.mentions.iter().any(|m| m.eq_ignore_ascii_case(me)));
        self.my_rooms.update(|rooms| {
            if let Some(room) = rooms.iter_mut().find(|r| r.id == message.room_id) {
                room.unread += 1;
                if mentioned {
                    room.mentions += 1;
                }
            }
        });
    }

    /// Handles one frame from the server.
    pub fn receive(&self, frame: ServerFrame, now: f64) {
        match frame {
            ServerFrame::Subscribed { room, member, online } if room == self.room => {
                self.may_post.set(member);
                self.online.set(online);
            }
            ServerFrame::Event(RoomEvent::Message(message)) => {
                if message.room_id == self.room {
                    let author = message.author.as_ref().map(|a| a.id);
                    self.typing.update(|typing| typing.retain(|(who, _)| Some(who.id) != author));
                    self.apply(message);
                } else {
                    self.count_elsewhere(&message);
                }
            }
            ServerFrame::Event(RoomEvent::Typing { room_id, user }) if room_id == self.room => {
                self.typing.update(|typing| {
                    typing.retain(|(who, _)| who.id != user.id);
                    typing.push((user, now + 6_000.0));
                });
            }
            ServerFrame::Event(RoomEvent::Presence { room_id, online }) if room_id == self.room => self.online.set(online),
            ServerFrame::Event(RoomEvent::Translated { room_id, message_id, translation }) if room_id == self.room => {
                self.translated(message_id, translation);
            }
            ServerFrame::Event(RoomEvent::Reacted { room_id, message_id, reactions }) if room_id == self.room => {
                self.reacted(message_id, reactions);
            }
            _ => {}
        }
    }

    /// Forgets typing notices older than a few seconds.
    pub fn expire_typing(&self, now: f64) {
        if self.typing.with_untracked(|t| t.iter().any(|(_, until)| *until <= now)) {
            self.typing.update(|typing| typing.retain(|(_, until)| *until > now));
        }
    }
}

/// Sends frames on the tab's socket (a no-op on the server).
#[derive(Clone, Copy)]
pub struct Socket {
    #[cfg(feature = "hydrate")]
    inner: StoredValue<super::socket::Handle, LocalStorage>,
}

impl Socket {
    pub fn send(&self, frame: tchatche_core::event::ClientFrame) {
        #[cfg(feature = "hydrate")]
        if let Ok(text) = serde_json::to_string(&frame) {
            self.inner.with_value(|handle| handle.send(&text));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = frame;
    }
}

/// Opens the socket for this timeline (in the browser; the server renders
/// the state as "connecting").
pub fn connect(timeline: Timeline, other_rooms: Signal<Vec<RoomId>>) -> Socket {
    #[cfg(feature = "hydrate")]
    {
        let handle = super::socket::Handle::start(std::rc::Rc::new(TimelineListener { timeline, other_rooms }));
        let inner = StoredValue::new_local(handle);
        on_cleanup(move || inner.with_value(|handle| handle.stop()));
        Socket { inner }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (timeline, other_rooms);
        Socket {}
    }
}

/// The member's island listens with its whole timeline: every frame is
/// decoded and applied.
#[cfg(feature = "hydrate")]
struct TimelineListener {
    timeline: Timeline,
    other_rooms: Signal<Vec<RoomId>>,
}

#[cfg(feature = "hydrate")]
impl super::socket::Listener for TimelineListener {
    /// Resumes after the newest version this tab has: the server sends
    /// everything newer first, then live events. The other rooms only
    /// count what comes from now on.
    fn subscriptions(&self) -> Vec<String> {
        use tchatche_core::event::ClientFrame;
        let room = self.timeline.room;
        let after = Some(self.timeline.newest_version());
        let reactions_after = Some(self.timeline.reactions_heard.get_value());
        let others = self.other_rooms.get_untracked().into_iter().filter(|other| *other != room);
        std::iter::once(ClientFrame::Subscribe { room, after, reactions_after })
            .chain(others.map(|room| ClientFrame::Subscribe { room, after: None, reactions_after: None }))
            .filter_map(|frame| serde_json::to_string(&frame).ok())
            .collect()
    }

    fn connection(&self, state: Connection) {
        self.timeline.connection.set(state);
    }

    fn frame(&self, text: &str) -> bool {
        let Ok(frame) = serde_json::from_str::<ServerFrame>(text) else { return true };
        match frame {
            ServerFrame::Reload(room) if room == self.timeline.room => {
                let _ = window().location().reload();
            }
            ServerFrame::Denied(room) if room == self.timeline.room => return false,
            frame => self.timeline.receive(frame, super::socket::now()),
        }
        true
    }

    fn tick(&self, now: f64) {
        self.timeline.expire_typing(now);
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use tchatche_core::{
        event::Translation,
        ids::{UnixMillis, UserId},
    };

    use super::*;

    fn message(seq: i64, version: i64) -> MessageView {
        MessageView {
            id: MessageId(uuid::Uuid::from_u128(seq as u128)),
            room_id: RoomId(1),
            seq: Seq(seq),
            version: Seq(version),
            author: None,
            body: "The house is red".into(),
            html: "<p>The house is red</p>".into(),
            mentions: Vec::new(),
            created_at: UnixMillis(0),
            edited_at: None,
            deleted: false,
            lang: Some("en".into()),
            translation: None,
            threading: Default::default(),
            reactions: Default::default(),
        }
    }

    fn spanish(version: i64) -> Translation {
        Translation { lang: "es".into(), version: Seq(version), html: "<p>La casa es roja</p>".into() }
    }

    /// The socket says whether the viewer may still post (a block in a
    /// direct conversation takes it away, lifting it gives it back).
    #[test]
    fn the_socket_says_who_may_post() {
        Owner::new().with(|| {
            let timeline = Timeline::new(RoomId(1), Vec::new(), false, Some("ana".into()));
            assert!(timeline.may_post.get_untracked());
            timeline.receive(ServerFrame::Subscribed { room: RoomId(1), member: false, online: Vec::new() }, 0.0);
            assert!(!timeline.may_post.get_untracked());
            timeline.receive(ServerFrame::Subscribed { room: RoomId(2), member: true, online: Vec::new() }, 0.0);
            assert!(!timeline.may_post.get_untracked(), "another room's");
            timeline.receive(ServerFrame::Subscribed { room: RoomId(1), member: true, online: Vec::new() }, 0.0);
            assert!(timeline.may_post.get_untracked());
        });
    }

    fn shown(timeline: &Timeline, seq: i64) -> Option<Translation> {
        timeline.messages.with_untracked(|m| m[&Seq(seq)].translation.clone())
    }

    /// Live translations land on the message they translate, for readers
    /// who want them: "always" readers in their language, "ask" readers
    /// for what they asked, nobody for an older version.
    #[test]
    fn live_translations_reach_only_the_readers_who_want_them() {
        Owner::new().with(|| {
            let timeline = Timeline::new(RoomId(1), vec![message(1, 1), message(2, 3)], false, None);
            let (first, edited) = (message(1, 1).id, message(2, 3).id);
            timeline.translated(first, spanish(1));
            assert_eq!(shown(&timeline, 1), None, "no reading: nothing");

            let reading = |mode| Some(Reading { reader: UserId(7), lang: "es".into(), mode, known: Vec::new() });
            timeline.reading.set_value(reading(TranslateMode::Ask));
            timeline.translated(first, spanish(1));
            assert_eq!(shown(&timeline, 1), None, "ask: not asked");
            timeline.asked.update(|asked| asked.push(first));
            timeline.translated(first, spanish(1));
            assert_eq!(shown(&timeline, 1), Some(spanish(1)), "asked");

            timeline.reading.set_value(reading(TranslateMode::Always));
            timeline.translated(edited, spanish(2));
            assert_eq!(shown(&timeline, 2), None, "a translation of the version before the edit");
            timeline.translated(edited, Translation { lang: "fr".into(), ..spanish(3) });
            assert_eq!(shown(&timeline, 2), None, "another language");
            timeline.translated(edited, spanish(3));
            assert_eq!(shown(&timeline, 2), Some(spanish(3)));

            // A newer version (an edit) replaces the message and its translation.
            timeline.apply(message(2, 4));
            assert_eq!(shown(&timeline, 2), None);

            // The reader's own message stays in their words.
            let mut own = message(3, 5);
            own.author = Some(tchatche_core::event::Author { id: UserId(7), username: "me".into(), display_name: "Me".into(), hidden_from_search: false });
            timeline.apply(own.clone());
            timeline.translated(own.id, spanish(5));
            assert_eq!(shown(&timeline, 3), None, "authors see their own words");
        });
    }

    fn reply_to(seq: i64, root: &MessageView) -> MessageView {
        let mut reply = message(seq, seq);
        reply.threading.root = Some(root.id);
        reply
    }

    /// A room's timeline counts new replies in their thread's summary (once
    /// each); a thread's timeline shows only the thread, yet resumes after
    /// the newest version of the room it heard.
    #[test]
    fn replies_count_in_the_room_and_threads_show_only_themselves() {
        Owner::new().with(|| {
            let root = message(1, 1);
            let room = Timeline::new(RoomId(1), vec![root.clone(), message(2, 2)], false, None);
            room.apply(reply_to(3, &root));
            room.apply(reply_to(3, &root));
            let summary = room.messages.with_untracked(|m| m[&Seq(1)].threading.replies);
            assert_eq!(summary.map(|s| s.count), Some(1), "a version heard twice counts once");
            assert_eq!(room.messages.with_untracked(|m| m.len()), 3, "replies are messages of the room too");

            let thread = Timeline { thread: Some(root.id), ..Timeline::new(RoomId(1), vec![root.clone()], false, None) };
            thread.apply(message(4, 4));
            thread.apply(reply_to(5, &root));
            let shown: Vec<i64> = thread.messages.with_untracked(|m| m.keys().map(|s| s.0).collect());
            assert_eq!(shown, [1, 5]);
            thread.apply(message(6, 6));
            assert_eq!(thread.newest_version(), Seq(6), "resumes after what it heard, shown or not");
        });
    }

    /// Reactions land on their message only when newer than those shown
    /// (states of one message can cross on the way), and stay through its
    /// later versions, which carry none; its tombstone shows none.
    #[test]
    fn reactions_keep_the_newest_and_outlive_edits() {
        use tchatche_core::reaction::{ReactionCount, Reactions};
        Owner::new().with(|| {
            let timeline = Timeline::new(RoomId(1), vec![message(1, 1)], false, None);
            let id = message(1, 1).id;
            let state = |seq, count| Reactions { seq: Seq(seq), counts: vec![ReactionCount { emoji: "👍".into(), count, by: Vec::new() }] };
            let shown = || timeline.messages.with_untracked(|m| m[&Seq(1)].reactions.clone());
            timeline.reacted(id, state(3, 2));
            timeline.reacted(id, state(2, 1));
            assert_eq!(shown(), state(3, 2), "an older state arriving late changes nothing");
            assert_eq!(timeline.reactions_heard.get_value(), Seq(3), "where a reconnect resumes");
            timeline.apply(message(1, 4));
            assert_eq!(shown(), state(3, 2), "an edit keeps them");
            let mut deleted = message(1, 5);
            deleted.deleted = true;
            timeline.apply(deleted);
            assert!(shown().is_empty(), "a tombstone shows none");
        });
    }

    /// A deleted reply leaves its thread's count (once, whether it was
    /// shown or older than the page); the last one leaves no thread.
    #[test]
    fn deleted_replies_leave_the_count() {
        Owner::new().with(|| {
            let deletion = |mut reply: MessageView, version: i64| {
                reply.version = Seq(version);
                reply.deleted = true;
                reply
            };
            let mut root = message(1, 1);
            let older = reply_to(2, &root);
            root.threading.replies = Some(ThreadSummary { count: 1, last_reply_at: None });
            let room = Timeline::new(RoomId(1), vec![root.clone(), message(3, 3)], false, None);
            let shown = reply_to(4, &root);
            room.apply(shown.clone());
            let count = || room.messages.with_untracked(|m| m[&Seq(1)].threading.replies.map(|s| s.count));
            assert_eq!(count(), Some(2));
            room.apply(deletion(shown.clone(), 5));
            room.apply(deletion(shown, 5));
            assert_eq!(count(), Some(1), "a deletion heard twice counts once");
            room.apply(deletion(older.clone(), 6));
            assert_eq!(count(), None, "the reply older than the page was counted too");
            room.apply(deletion(older, 6));
            assert_eq!(count(), None);
        });
    }
}
