//! The life of a message, in one place for every entry point (server
//! functions, the socket): posting, editing, deleting, and reading history
//! and catch-up from storage plus what the queue has not stored yet.

use std::collections::HashMap;

use crate::{
    Error, Result,
    bus::{Bus, DraftKind},
    event::{Author, MessageView, Quote, RoomEvent, Threading},
    ids::{MessageId, RoomId, Seq, UnixMillis},
    input::InputError,
    message::{MessageBody, mention_candidates, render},
    reaction::{Emoji, Reactions},
    store::{MessagePage, Store, User},
    user::Role,
};

/// Messages per history page.
pub const PAGE: u32 = 50;
/// Most versions sent in one catch-up; past this the client reloads.
pub const CATCH_UP_LIMIT: u32 = 500;

async fn rendered(store: &Store, body: &MessageBody) -> Result<(String, Vec<String>)> {
    let known = store.existing_usernames(&mention_candidates(body.as_str())).await?;
    Ok(render(body.as_str(), &known))
}

/// Who writes, and in which interface language (a message's language when
/// its text does not say it clearly).
pub struct Writer<'a> {
    pub user: &'a User,
    /// The interface language of the request (an ISO 639-1 or interface tag).
    pub interface: Option<&'a str>,
}

/// The language a message is written in: detected when the text says it
/// clearly, else the author's interface language, else unknown.
fn language_of(body: &MessageBody, writer: &Writer<'_>) -> Option<String> {
    crate::languages::detect(body.as_str())
        .or_else(|| writer.interface.or(writer.user.locale.as_deref()).and_then(crate::languages::base_of))
        .map(str::to_owned)
}

/// Posts a message under the client's `id` (retrying with the same id is
/// safe: one message), answering `reply_to` if set. Answered once the
/// message is durable.
pub async fn post(
    store: &Store,
    bus: &Bus,
    room: RoomId,
    writer: &Writer<'_>,
    id: MessageId,
    raw: &str,
    reply_to: Option<MessageId>,
) -> Result<MessageView> {
    let by = writer.user;
    let body = MessageBody::parse(raw).map_err(|error| Error::input("body", error))?;
    let threading = match reply_to {
        Some(answered) => replying_to(store, bus, room, answered).await?,
        None => Threading::default(),
    };
    let (html, mentions) = rendered(store, &body).await?;
    let message = MessageView {
        id,
        room_id: room,
        seq: Seq(0),
        version: Seq(0),
        author: Some(Author::from(by)),
        body: body.as_str().to_owned(),
        html,
        mentions,
        created_at: UnixMillis::now(),
        edited_at: None,
        deleted: false,
        lang: language_of(&body, writer),
        translation: None,
        threading,
        reactions: Default::default(),
    };
    bus.submit(store, message, DraftKind::Post).await
}

/// A reply's place: under the message it answers, in that message's
/// thread (or the one it opens). The answered message must be in the same
/// room and not deleted.
async fn replying_to(store: &Store, bus: &Bus, room: RoomId, answered: MessageId) -> Result<Threading> {
    let gone = || Error::input("reply_to", InputError::Gone);
    let original = match find(store, bus, room, answered).await {
        Err(Error::NotFound(_)) => return Err(gone()),
        found => found?,
    };
    if original.deleted {
        return Err(gone());
    }
    Ok(Threading {
        reply_to: Some(Quote::of_message(&original)),
        root: Some(original.threading.root.unwrap_or(original.id)),
        replies: None,
    })
}

/// A message of a room as it is now (stored, or still queued).
pub async fn find(store: &Store, bus: &Bus, room: RoomId, id: MessageId) -> Result<MessageView> {
    let pending = bus.pending_messages(room).await?.into_iter().find(|m| m.id == id);
    let stored = store.message_by_id(id).await?.filter(|m| m.room_id == room);
    newest(stored, pending).ok_or(Error::NotFound("message"))
}

fn newest(a: Option<MessageView>, b: Option<MessageView>) -> Option<MessageView> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.version > a.version { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Edits one's own message: it keeps its place and is marked edited.
pub async fn edit(store: &Store, bus: &Bus, room: RoomId, writer: &Writer<'_>, id: MessageId, raw: &str) -> Result<MessageView> {
    let by = writer.user;
    let body = MessageBody::parse(raw).map_err(|error| Error::input("body", error))?;
    let mut message = find(store, bus, room, id).await?;
    if message.deleted || message.author.as_ref().map(|a| a.id) != Some(by.id) {
        return Err(Error::NotFound("message"));
    }
    let (html, mentions) = rendered(store, &body).await?;
    message.lang = language_of(&body, writer);
    message.body = body.as_str().to_owned();
    message.html = html;
    message.mentions = mentions;
    message.edited_at = Some(UnixMillis::now());
    bus.submit(store, message, DraftKind::Revise).await
}

/// Deletes a message (its author, or a moderator): a tombstone stays in its
/// place, without the text.
pub async fn delete(store: &Store, bus: &Bus, room: RoomId, by: &User, id: MessageId) -> Result<MessageView> {
    let mut message = find(store, bus, room, id).await?;
    let own = message.author.as_ref().map(|a| a.id) == Some(by.id);
    if message.deleted || !(own || by.role >= Role::Moderator) {
        return Err(Error::NotFound("message"));
    }
    message.body.clear();
    message.html.clear();
    message.lang = None;
    message.mentions.clear();
    message.deleted = true;
    message.edited_at = Some(UnixMillis::now());
    bus.submit(store, message, DraftKind::Revise).await
}

/// Adds (`on`) or takes back `by`'s reaction `emoji` on a message of
/// `room`, and tells the room. Doing what was already done changes
/// nothing (and tells nobody). Returns the message's reactions.
pub async fn react(store: &Store, bus: &Bus, room: RoomId, by: &User, id: MessageId, emoji: &str, on: bool) -> Result<Reactions> {
    let emoji = Emoji::parse(emoji).map_err(|error| Error::input("emoji", error))?;
    let message = find(store, bus, room, id).await?;
    if message.deleted {
        return Err(Error::NotFound("message"));
    }
    let changed = store.react(room, id, by.id, &emoji, on).await?;
    let reactions = store.reactions_of(&[id]).await?.remove(&id).unwrap_or_default();
    if changed {
        // Stored is what counts: a reader who misses this live event gets
        // the change with their next page or catch-up.
        let event = RoomEvent::Reacted { room_id: room, message_id: id, reactions: reactions.clone() };
        if let Err(err) = bus.publish(event).await {
            tracing::warn!(%err, "a reaction was stored but not announced");
        }
    }
    Ok(reactions)
}

/// A page of history before `before` (the latest when `None`), oldest
/// first, including accepted messages not stored yet.
pub async fn history(store: &Store, bus: &Bus, room: RoomId, before: Option<Seq>) -> Result<MessagePage> {
    history_of(store, bus, room, None, before).await
}

/// [`history`] of one thread's replies.
pub async fn thread_history(store: &Store, bus: &Bus, room: RoomId, root: MessageId, before: Option<Seq>) -> Result<MessagePage> {
    history_of(store, bus, room, Some(root), before).await
}

/// The room's messages, or one thread's replies (`thread`).
async fn history_of(store: &Store, bus: &Bus, room: RoomId, thread: Option<MessageId>, before: Option<Seq>) -> Result<MessagePage> {
    // Pending first: a message leaves the pending set only after it is
    // stored, so reading in this order never misses one.
    let pending: Vec<MessageView> = bus
        .pending_messages(room)
        .await?
        .into_iter()
        .filter(|m| before.is_none_or(|before| m.seq < before))
        .filter(|m| thread.is_none() || m.threading.root == thread)
        .collect();
    let stored = match thread {
        Some(root) => store.replies_before(root, before, PAGE).await?,
        None => store.messages_before(room, before, PAGE).await?,
    };
    let mut page = if pending.is_empty() {
        stored
    } else {
        let mut merged = merge(stored.messages, pending);
        merged.sort_by_key(|m| m.seq);
        let has_older = stored.has_older || merged.len() > PAGE as usize;
        let skip = merged.len().saturating_sub(PAGE as usize);
        MessagePage { messages: merged.split_off(skip), has_older }
    };
    store.attach_reactions(&mut page.messages).await?;
    Ok(page)
}

/// Every version after `after` (new messages, edits, deletions), in
/// version order, and whether there were more than one batch can hold.
pub async fn catch_up(store: &Store, bus: &Bus, room: RoomId, after: Seq) -> Result<(Vec<MessageView>, bool)> {
    let pending: Vec<MessageView> =
        bus.pending_messages(room).await?.into_iter().filter(|m| m.version > after).collect();
    let stored = store.messages_changed_after(room, after, CATCH_UP_LIMIT + 1).await?;
    let truncated = stored.len() > CATCH_UP_LIMIT as usize;
    let mut merged = merge(stored, pending);
    merged.sort_by_key(|m| m.version);
    merged.truncate(CATCH_UP_LIMIT as usize);
    Ok((merged, truncated))
}

/// One version per message: the newest.
fn merge(stored: Vec<MessageView>, pending: Vec<MessageView>) -> Vec<MessageView> {
    let mut by_id: HashMap<MessageId, MessageView> = HashMap::with_capacity(stored.len() + pending.len());
    for message in stored.into_iter().chain(pending) {
        match by_id.get(&message.id) {
            Some(kept) if kept.version >= message.version => {}
            _ => {
                by_id.insert(message.id, message);
            }
        }
    }
    by_id.into_values().collect()
}

/// Refuses `raw` with the body's rule, for callers validating early.
pub fn check_body(raw: &str) -> Result<(), InputError> {
    MessageBody::parse(raw).map(|_| ())
}
