//! What the server pushes to browsers about a room. The same types travel
//! over the bus between server processes and over the socket to browsers.

use serde::{Deserialize, Serialize};

use crate::{
    ids::{MessageId, RoomId, Seq, UnixMillis, UserId},
    reaction::Reactions,
};

/// One version of a message: as posted, as edited, or its tombstone.
/// Every version carries the full message, so applying versions in any order
/// (keeping the highest `version`) gives the same result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: MessageId,
    pub room_id: RoomId,
    /// Position in the room, fixed when the message is first posted.
    pub seq: Seq,
    /// The room event that produced this version (= `seq` until edited).
    pub version: Seq,
    /// `None` once the author deleted their account.
    pub author: Option<Author>,
    /// The text as typed (markdown source), empty once deleted.
    pub body: String,
    /// Sanitized HTML rendered from `body` on the server.
    pub html: String,
    /// Usernames mentioned with `@username`.
    pub mentions: Vec<String>,
    pub created_at: UnixMillis,
    pub edited_at: Option<UnixMillis>,
    pub deleted: bool,
    /// The language it is written in (ISO 639-1), when detection was sure
    /// or the author's interface language said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Its machine translation for the reader at hand: filled in for each
    /// reader on pages and sockets, never stored with the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translation: Option<Translation>,
    /// Its place in a conversation: what it answers, and its replies.
    #[serde(default, skip_serializing_if = "Threading::is_none")]
    pub threading: Threading,
    /// Its reactions, on pages. A version sent live carries none: reactions
    /// change on their own ([`RoomEvent::Reacted`]), and the page keeps them.
    #[serde(default, skip_serializing_if = "Reactions::is_empty")]
    pub reactions: Reactions,
}

impl MessageView {
    /// What a signed-out reader (a crawler among them) of a page search
    /// engines may index gets: the words of people who keep theirs off
    /// search engines are left out, of their messages and of the quotes of
    /// them. Who wrote, when, and the message's place stay.
    #[cfg(feature = "server")]
    pub fn conceal_from_search(&mut self) {
        if self.author.as_ref().is_some_and(|author| author.hidden_from_search) && !self.deleted {
            self.body.clear();
            self.html.clear();
            self.mentions.clear();
            self.translation = None;
        }
        if let Some(quote) = self.threading.reply_to.as_mut().filter(|quote| quote.hidden_from_search) {
            quote.excerpt.clear();
        }
    }

    /// Whether [`Self::conceal_from_search`] would leave words out.
    #[cfg(feature = "server")]
    pub fn has_words_off_search(&self) -> bool {
        self.author.as_ref().is_some_and(|author| author.hidden_from_search)
            || self.threading.reply_to.as_ref().is_some_and(|quote| quote.hidden_from_search)
    }

    /// Shown without its words (only a deleted message is otherwise empty).
    pub fn is_concealed(&self) -> bool {
        !self.deleted && self.body.is_empty()
    }
}

/// Where a message stands among replies. A reply names the message it
/// answers and the thread it belongs to: the first message of the chain,
/// so answering a reply stays in the same thread. Both are fixed when the
/// reply is posted; the quote and the summary are read as they are now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threading {
    /// The message it answers, quoted above it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Quote>,
    /// The first message of its thread (for a reply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<MessageId>,
    /// Its replies (for a message that has some).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<ThreadSummary>,
}

impl Threading {
    pub fn is_none(&self) -> bool {
        self == &Self::default()
    }

    /// The thread this message opens or belongs to, if any.
    pub fn thread_of(&self, id: MessageId) -> Option<MessageId> {
        self.root.or(self.replies.as_ref().map(|_| id))
    }
}

/// The message a reply answers, as shown above the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub id: MessageId,
    /// Its author's display name; `None` once the account is deleted.
    pub author: Option<String>,
    /// The start of its text, on one line; empty once deleted or concealed.
    pub excerpt: String,
    pub deleted: bool,
    /// Its author keeps their messages off search engines.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden_from_search: bool,
}

impl Quote {
    /// Characters of the quoted text shown above a reply.
    pub const EXCERPT_CHARS: usize = 140;

    pub fn of(id: MessageId, author: Option<String>, body: &str, deleted: bool, hidden_from_search: bool) -> Self {
        let excerpt = if deleted { String::new() } else { excerpt(body, Self::EXCERPT_CHARS) };
        Self { id, author, excerpt, deleted, hidden_from_search }
    }

    /// The quote above a reply to `original`, as it is now.
    #[cfg(feature = "server")]
    pub fn of_message(original: &MessageView) -> Self {
        let author = original.author.as_ref();
        let hidden = author.is_some_and(|a| a.hidden_from_search);
        Self::of(original.id, author.map(|a| a.display_name.clone()), &original.body, original.deleted, hidden)
    }

    /// Shown without its words: see [`MessageView::conceal_from_search`].
    pub fn is_concealed(&self) -> bool {
        !self.deleted && self.excerpt.is_empty()
    }
}

/// The start of a text on one line, at most `chars` characters with "…"
/// when cut (titles and quotes).
pub fn excerpt(text: &str, chars: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let line = words.join(" ");
    if line.chars().count() <= chars {
        return line;
    }
    let mut cut: String = line.chars().take(chars.saturating_sub(1)).collect();
    // At the last word boundary, unless that drops more than half.
    if let Some(space) = cut.rfind(' ').filter(|&at| at > cut.len() / 2) {
        cut.truncate(space);
    }
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// How many replies a thread has and when the latest came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadSummary {
    pub count: u32,
    /// `None` once every reply was deleted.
    pub last_reply_at: Option<UnixMillis>,
}

/// A message's text in another language, made by the translation engine
/// from one version of it and sanitized like any message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    pub lang: String,
    /// The message version it translates: shown only while it is current.
    pub version: Seq,
    pub html: String,
}

/// Who wrote a message, as shown beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    /// They keep their messages off search engines (a setting): see
    /// [`MessageView::conceal_from_search`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden_from_search: bool,
}

#[cfg(feature = "server")]
impl From<&crate::store::User> for Author {
    fn from(user: &crate::store::User) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            hidden_from_search: user.hidden_from_search,
        }
    }
}

/// Something that happened in a room, fanned out to every process and
/// every open socket subscribed to that room. Externally tagged
/// (`{"message":{…}}`), like [`ServerFrame`]: serde reads that without
/// buffering, which keeps its buffering code out of the browser bundle.
// Most events are messages: boxing them would add an allocation to nearly
// every event for the sake of the few small ones.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomEvent {
    /// A new message, an edit or a deletion (durable: stored in order).
    Message(MessageView),
    /// Someone is typing (ephemeral: lost if nobody listens).
    Typing { room_id: RoomId, user: Author },
    /// The set of members online changed (ephemeral).
    Presence { room_id: RoomId, online: Vec<Author> },
    /// Events may have been lost on the way to this process (a Redis
    /// reconnect, a lagging receiver): subscribers reload from storage.
    Resync(RoomId),
    /// A message's translation was stored (sent to readers of its language).
    Translated { room_id: RoomId, message_id: MessageId, translation: Translation },
    /// A message's reactions changed: all of them, as of `reactions.seq`
    /// (durable: stored first, and sent again to a socket that catches up).
    Reacted { room_id: RoomId, message_id: MessageId, reactions: Reactions },
}

impl RoomEvent {
    pub fn room_id(&self) -> RoomId {
        match self {
            Self::Message(message) => message.room_id,
            Self::Typing { room_id, .. }
            | Self::Presence { room_id, .. }
            | Self::Resync(room_id)
            | Self::Translated { room_id, .. }
            | Self::Reacted { room_id, .. } => *room_id,
        }
    }
}

/// What a browser sends over its socket (`GET /ws`, JSON text frames).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Follow a room. With `after`, first receive every version newer than
    /// it (what was missed); without, only what happens from now on. With
    /// `reactions_after` (a reaction seq), also every message's reactions
    /// changed after it.
    Subscribe {
        room: RoomId,
        after: Option<Seq>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reactions_after: Option<Seq>,
    },
    Unsubscribe { room: RoomId },
    /// The person is typing in the room (members only; sent at most every
    /// few seconds).
    Typing { room: RoomId },
    /// The person has read the room up to `seq`.
    Read { room: RoomId, seq: Seq },
    /// Keeps the connection alive through proxies; answered with `Pong`.
    Ping,
}

impl ClientFrame {
    /// A `Ping`, encoded (for clients that carry no JSON encoder).
    pub const PING_TEXT: &str = r#"{"type":"ping"}"#;

    /// A `Subscribe` with both seqs, encoded by hand: a signed-out reader's
    /// island sends only this and `Ping`, so its code carries no JSON
    /// encoder. Pinned to serde's encoding by a test.
    pub fn subscribe_text(room: RoomId, after: Seq, reactions_after: Seq) -> String {
        format!(r#"{{"type":"subscribe","room":{},"after":{},"reactions_after":{}}}"#, room.0, after.0, reactions_after.0)
    }
}

/// What a frame from the server means to a client that does not decode it
/// (a signed-out reader's island, which fetches the page again instead of
/// applying events): read from the frame's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// Something a reader sees changed (a message, its reactions), or may
    /// have (a resync): show the page as it is now.
    Changed,
    /// Too much was missed to say what: show the page as it is now,
    /// rendered afresh (the same frame reaches readers at different times).
    Missed,
    /// The room is not (or no longer) visible to this viewer.
    Denied,
    /// Nothing a reader shows (typing, presence, pongs, subscriptions).
    Other,
}

impl FrameKind {
    pub fn of(frame: &str) -> Self {
        const CHANGED: [&str; 3] = [r#"{"event":{"message":"#, r#"{"event":{"reacted":"#, r#"{"event":{"resync":"#];
        if CHANGED.iter().any(|prefix| frame.starts_with(prefix)) {
            Self::Changed
        } else if frame.starts_with(r#"{"reload":"#) {
            Self::Missed
        } else if frame.starts_with(r#"{"denied":"#) {
            Self::Denied
        } else {
            Self::Other
        }
    }
}

/// What the server sends over a socket.
#[allow(clippy::large_enum_variant)] // as for `RoomEvent`: mostly messages
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerFrame {
    /// The subscription is live; `member` says whether the viewer may post,
    /// and `online` who of the members is here (members only see it).
    Subscribed { room: RoomId, member: bool, online: Vec<Author> },
    /// The room does not exist or is not visible to this viewer.
    Denied(RoomId),
    /// Too much was missed to catch up over the socket: reload the room.
    Reload(RoomId),
    Event(RoomEvent),
    Pong,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{RoomId, Seq};

    /// The socket's wire format, as README.md describes it to anyone who
    /// writes a client.
    #[test]
    fn frames_have_the_documented_shape() {
        let subscribe: ClientFrame = serde_json::from_str(r#"{"type":"subscribe","room":7,"after":41}"#).unwrap();
        assert_eq!(subscribe, ClientFrame::Subscribe { room: RoomId(7), after: Some(Seq(41)), reactions_after: None });
        let frame = |frame: &ServerFrame| serde_json::to_string(frame).unwrap();
        assert_eq!(frame(&ServerFrame::Event(RoomEvent::Resync(RoomId(7)))), r#"{"event":{"resync":7}}"#);
        assert_eq!(frame(&ServerFrame::Denied(RoomId(7))), r#"{"denied":7}"#);
        assert_eq!(frame(&ServerFrame::Pong), r#""pong""#);
        // Unknown or broken frames are errors, not panics.
        assert!(serde_json::from_str::<ServerFrame>(r#"{"shout":1}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"subscribe"}"#).is_err());
    }

    /// The hand-written encodings and the frame kinds follow serde's wire
    /// format: a change to the types that would break readers fails here.
    #[test]
    fn readers_frames_match_the_wire_format() {
        let encoded = |frame: &ClientFrame| serde_json::to_string(frame).unwrap();
        assert_eq!(ClientFrame::PING_TEXT, encoded(&ClientFrame::Ping));
        let subscribe = ClientFrame::Subscribe { room: RoomId(7), after: Some(Seq(41)), reactions_after: Some(Seq(3)) };
        assert_eq!(ClientFrame::subscribe_text(RoomId(7), Seq(41), Seq(3)), encoded(&subscribe));

        let kind = |frame: ServerFrame| FrameKind::of(&serde_json::to_string(&frame).unwrap());
        let message = MessageView {
            id: crate::ids::MessageId(uuid::Uuid::nil()),
            room_id: RoomId(7),
            seq: Seq(1),
            version: Seq(1),
            author: None,
            body: String::new(),
            html: String::new(),
            mentions: Vec::new(),
            created_at: UnixMillis(0),
            edited_at: None,
            deleted: false,
            lang: None,
            translation: None,
            threading: Threading::default(),
            reactions: Reactions::default(),
        };
        assert_eq!(kind(ServerFrame::Event(RoomEvent::Message(message.clone()))), FrameKind::Changed);
        let reactions = Reactions::default();
        assert_eq!(kind(ServerFrame::Event(RoomEvent::Reacted { room_id: RoomId(7), message_id: message.id, reactions })), FrameKind::Changed);
        assert_eq!(kind(ServerFrame::Event(RoomEvent::Resync(RoomId(7)))), FrameKind::Changed);
        assert_eq!(kind(ServerFrame::Reload(RoomId(7))), FrameKind::Missed);
        assert_eq!(kind(ServerFrame::Denied(RoomId(7))), FrameKind::Denied);
        assert_eq!(kind(ServerFrame::Pong), FrameKind::Other);
        assert_eq!(kind(ServerFrame::Subscribed { room: RoomId(7), member: false, online: Vec::new() }), FrameKind::Other);
        let typing = RoomEvent::Typing { room_id: RoomId(7), user: Author { id: UserId(1), username: "a".into(), display_name: "A".into(), hidden_from_search: false } };
        assert_eq!(kind(ServerFrame::Event(typing)), FrameKind::Other);
        assert_eq!(FrameKind::of("not json"), FrameKind::Other);
    }

    #[test]
    fn excerpts_keep_one_line_and_cut_with_an_ellipsis() {
        assert_eq!(excerpt("  hello\n\n  world ", 20), "hello world");
        assert_eq!(excerpt("abcdef ghij", 8), "abcdef…");
        assert_eq!(excerpt("one two three four", 12), "one two…", "cut between words");
        assert_eq!(excerpt("a verylongwordindeed", 12), "a verylongw…", "or within a long one");
        assert_eq!(excerpt("ééééé", 3), "éé…");
        assert_eq!(excerpt("", 3), "");
        let quote = Quote::of(crate::ids::MessageId(uuid::Uuid::nil()), None, "secret words", true, false);
        assert!(quote.excerpt.is_empty(), "a deleted message's words are not quoted");
    }
}
