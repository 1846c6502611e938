//! Reactions ([`crate::reaction`]): stored at once rather than through the
//! message queue (a reaction is not a version of its message), each change
//! numbered by its room's reaction seq.

use std::collections::HashMap;

use sqlx::FromRow;

use super::{
    Store, in_transaction,
    messages::{ROWS_PER_STATEMENT, author_of, id_list},
    on_pool,
};
use crate::{
    Error, Result,
    ids::{MessageId, RoomId, Seq, UnixMillis, UserId},
    input::InputError,
    reaction::{Emoji, MAX_KINDS, NAMED, ReactionCount, Reactions},
};

/// Messages whose reactions one catch-up sends at most; past this the
/// client reloads.
pub const REACTIONS_CATCH_UP_LIMIT: u32 = 500;

#[derive(FromRow)]
struct ReactionRow {
    message_id: MessageId,
    seq: Seq,
    emoji: Option<String>,
    user_id: Option<UserId>,
    username: Option<String>,
    display_name: Option<String>,
    hidden_from_search: Option<bool>,
}

impl Store {
    /// Adds (`on`) or takes back `user`'s `emoji` on `message` of `room`.
    /// Returns whether anything changed: reacting as one already has is no
    /// change (it may use up a reaction seq: seqs only grow, with gaps). A
    /// new emoji on a message that already has [`MAX_KINDS`] different
    /// ones is refused.
    pub async fn react(&self, room: RoomId, message: MessageId, user: UserId, emoji: &Emoji, on: bool) -> Result<bool> {
        let changed = in_transaction!(self, tx => {
            // The room's row first: it numbers the change and, locked, makes
            // the room's reactions one at a time (so the limit holds).
            let seq: Option<Seq> = sqlx::query_scalar("UPDATE rooms SET reactions_seq = reactions_seq + 1 WHERE id = $1 RETURNING reactions_seq")
                .bind(room)
                .fetch_optional(&mut *tx)
                .await?;
            let seq = seq.ok_or(Error::NotFound("room"))?;
            let changed = if on {
                let (kinds, this_one): (i64, i64) = sqlx::query_as(
                    "SELECT COUNT(DISTINCT emoji), COUNT(CASE WHEN emoji = $2 THEN 1 END) FROM reactions WHERE message_id = $1",
                )
                .bind(message)
                .bind(emoji.as_str())
                .fetch_one(&mut *tx)
                .await?;
                if this_one == 0 && kinds >= i64::from(MAX_KINDS) {
                    return Err(Error::input("emoji", InputError::TooMany { max: MAX_KINDS }));
                }
                sqlx::query(
                    "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (message_id, user_id, emoji) DO NOTHING",
                )
                .bind(message)
                .bind(user)
                .bind(emoji.as_str())
                .bind(UnixMillis::now())
                .execute(&mut *tx)
                .await?
                .rows_affected()
            } else {
                sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3")
                    .bind(message)
                    .bind(user)
                    .bind(emoji.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            };
            if changed > 0 {
                sqlx::query(
                    "INSERT INTO reaction_changes (message_id, room_id, seq) VALUES ($1, $2, $3)
                     ON CONFLICT (message_id) DO UPDATE SET seq = excluded.seq",
                )
                .bind(message)
                .bind(room)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            }
            changed > 0
        });
        Ok(changed)
    }

    /// The reactions of `messages` (those never reacted to are absent),
    /// each with the reaction seq it is as of: one statement, so each state
    /// and its seq agree.
    pub async fn reactions_of(&self, messages: &[MessageId]) -> Result<HashMap<MessageId, Reactions>> {
        let mut found: HashMap<MessageId, Reactions> = HashMap::new();
        for chunk in messages.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<ReactionRow> = on_pool!(self, pool => {
                let mut query = id_list(
                    "SELECT c.message_id, c.seq, r.emoji, u.id AS user_id, u.username, u.display_name, u.hidden_from_search
                     FROM reaction_changes c
                     LEFT JOIN reactions r ON r.message_id = c.message_id
                     LEFT JOIN users u ON u.id = r.user_id
                     WHERE c.message_id IN (",
                    chunk,
                );
                query.push(" ORDER BY r.created_at, r.user_id");
                query.build_query_as().fetch_all(pool).await?
            });
            for row in rows {
                let reactions = found.entry(row.message_id).or_default();
                reactions.seq = row.seq;
                let (Some(emoji), Some(by)) =
                    (row.emoji, author_of(row.user_id, row.username, row.display_name, row.hidden_from_search))
                else {
                    continue;
                };
                match reactions.counts.iter_mut().find(|count| count.emoji == emoji) {
                    Some(count) => {
                        count.count += 1;
                        if count.by.len() < NAMED {
                            count.by.push(by);
                        }
                    }
                    None => reactions.counts.push(ReactionCount { emoji, count: 1, by: vec![by] }),
                }
            }
        }
        Ok(found)
    }

    /// The reactions of every message of `room` that changed after reaction
    /// seq `after`, in the order of their changes, and whether there were
    /// more than [`REACTIONS_CATCH_UP_LIMIT`].
    pub async fn reactions_changed_after(&self, room: RoomId, after: Seq) -> Result<(Vec<(MessageId, Reactions)>, bool)> {
        let sql = "SELECT message_id FROM reaction_changes WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";
        let mut ids: Vec<MessageId> = on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(room)
            .bind(after)
            .bind(i64::from(REACTIONS_CATCH_UP_LIMIT) + 1)
            .fetch_all(pool)
            .await?);
        let truncated = ids.len() > REACTIONS_CATCH_UP_LIMIT as usize;
        ids.truncate(REACTIONS_CATCH_UP_LIMIT as usize);
        let mut reactions = self.reactions_of(&ids).await?;
        let mut changed: Vec<(MessageId, Reactions)> =
            ids.into_iter().filter_map(|id| reactions.remove(&id).map(|r| (id, r))).collect();
        changed.sort_by_key(|(_, reactions)| reactions.seq);
        Ok((changed, truncated))
    }

    /// Puts their reactions on messages read for a page (deleted ones keep
    /// none).
    pub async fn attach_reactions(&self, messages: &mut [crate::event::MessageView]) -> Result<()> {
        let ids: Vec<MessageId> = messages.iter().filter(|m| !m.deleted).map(|m| m.id).collect();
        if ids.is_empty() {
            return Ok(());
        }
        let mut reactions = self.reactions_of(&ids).await?;
        for message in messages {
            if let Some(found) = reactions.remove(&message.id) {
                message.reactions = found;
            }
        }
        Ok(())
    }
}
