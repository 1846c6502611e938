//! Who may read or post in a room: the one rule that pages, server
//! functions and the socket all call, and the changes of access that every
//! server process applies to its open sockets at once.
//!
//! A change of access (a member leaving, a room made private or deleted, an
//! account disabled, deleted, signed out or given a new password) is
//! announced on the bus as an [`AccessChange`]: in-process, or through Redis
//! to every server process. Commands run from another process without Redis
//! (`tchatche admin …` beside an embedded server) record theirs in the
//! database, which the server reads every [`RECORDED_POLL`].

use std::{collections::HashMap, time::Duration};

use serde::{Deserialize, Serialize};

use crate::{
    Bus, Result,
    event::MessageView,
    ids::{RoomId, UnixMillis, UserId},
    room::Visibility,
    store::{Room, Store, User},
};

/// What a person may do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoomAccess {
    /// The room does not exist for them: a private room they are not a
    /// member of (pages answer 404, the socket `Denied`).
    Hidden,
    /// They may read it: a public room, to a visitor or a non-member.
    Read,
    /// A member: reads, posts, and is seen online.
    Member,
}

impl RoomAccess {
    pub fn may_read(self) -> bool {
        self >= Self::Read
    }

    pub fn may_post(self) -> bool {
        self == Self::Member
    }
}

/// The rule: members may read and post; anyone may read a public room;
/// nobody else learns that a private room exists. In a direct conversation,
/// a member with a block between them and another member (either way) may
/// read it but not write.
pub async fn room_access(store: &Store, room: &Room, viewer: Option<&User>) -> Result<RoomAccess> {
    let account = reading_account(viewer);
    let member = match account {
        Some(account) => store.is_member(room.id, account).await?,
        None => false,
    };
    if let (true, true, Some(account)) = (member, room.is_direct(), account)
        && store.blocked_in_room(room.id, account).await?
    {
        return Ok(RoomAccess::Read);
    }
    Ok(match (member, room.visibility) {
        (true, _) => RoomAccess::Member,
        (false, Visibility::Public) => RoomAccess::Read,
        (false, Visibility::Private) => RoomAccess::Hidden,
    })
}

/// The account whose memberships count: none for a visitor or a disabled
/// account (which reads as a visitor does).
pub fn reading_account(viewer: Option<&User>) -> Option<UserId> {
    viewer.filter(|viewer| !viewer.disabled).map(|viewer| viewer.id)
}

/// Whether a reader gets the words of people who keep theirs off search
/// engines left out ([`MessageView::conceal_from_search`]): anyone reading
/// as a visitor (signed out, a crawler, a disabled account) a room search
/// engines may index. Anonymous search follows the same rule in its SQL.
pub fn conceals_from_search(room: &Room, viewer: Option<&User>) -> bool {
    reading_account(viewer).is_none() && room.is_indexable()
}

/// Messages as `viewer` may be shown them in `room` (see
/// [`conceals_from_search`]).
pub fn conceal_for(room: &Room, viewer: Option<&User>, messages: &mut [MessageView]) {
    if conceals_from_search(room, viewer) {
        messages.iter_mut().for_each(MessageView::conceal_from_search);
    }
}

/// [`room_access`]'s "may read" as an SQL condition, for queries over many
/// rooms at once (search): the room aliased `room` is public, or the
/// account bound at `account` (see [`reading_account`]; NULL for nobody)
/// is a member of it. Kept beside the rule; a test checks they agree.
pub(crate) fn may_read_sql(room: &str, account: &str) -> String {
    format!(
        "({room}.visibility = 'public' OR EXISTS (SELECT 1 FROM room_members readable \
         WHERE readable.room_id = {room}.id AND readable.user_id = {account}))"
    )
}

/// A change after which open sockets must check their access again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessChange {
    /// Who may read the room changed for everyone (made private, deleted).
    Room(RoomId),
    /// One person's membership of a room changed (left, removed).
    Membership { room: RoomId, user: UserId },
    /// An account's sessions may have ended (disabled, deleted, signed out,
    /// new password, new role): its sockets check their session again.
    Account(UserId),
    /// Changes may have been missed (a lost Redis connection, a socket too
    /// slow to read them): every socket checks everything again.
    Everything,
}

/// How often a server without Redis reads the changes other processes recorded.
pub const RECORDED_POLL: Duration = Duration::from_millis(250);
/// Recorded changes are deleted after this long.
const RECORDED_KEPT: Duration = Duration::from_secs(60);

/// Hands the changes that other processes recorded in the database to this
/// process' sockets, until the bus shuts down (a server without Redis).
pub async fn relay_recorded_changes(store: Store, bus: Bus, stop: tokio_util::sync::CancellationToken) {
    // Ids may commit out of order (PostgreSQL): rows are read by time, with
    // a margin, and the ids already relayed are remembered for as long.
    const MARGIN_MS: i64 = 5_000;
    let mut relayed: HashMap<i64, UnixMillis> = HashMap::new();
    let mut since = UnixMillis::now();
    let mut polls = 0u32;
    let mut every = tokio::time::interval(RECORDED_POLL);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = stop.cancelled() => return,
        }
        let now = UnixMillis::now();
        match store.recorded_access_changes(UnixMillis(since.0 - MARGIN_MS)).await {
            Ok(rows) => {
                for (id, change) in rows {
                    if relayed.insert(id, now).is_none() {
                        bus.deliver_access(change);
                    }
                }
                since = now;
            }
            Err(err) => tracing::warn!(%err, "reading recorded access changes failed"),
        }
        relayed.retain(|_, at| now.0 - at.0 <= 2 * MARGIN_MS);
        polls += 1;
        if polls.is_multiple_of(240)
            && let Err(err) = store.forget_access_changes(UnixMillis(now.0 - RECORDED_KEPT.as_millis() as i64)).await
        {
            tracing::warn!(%err, "deleting old access changes failed");
        }
    }
}
