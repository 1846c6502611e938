//! Messages: the idempotent batch write used by the worker, and the reads
//! behind history pages and catch-up.

use std::collections::{BTreeMap, HashMap};

use sqlx::{FromRow, QueryBuilder};

use super::{Store, in_transaction, on_pool};
use crate::{
    Result,
    event::{Author, MessageView, Quote, ThreadSummary, Threading},
    ids::{MessageId, RoomId, Seq, UnixMillis, UserId, UtcDay},
    room::IndexQuality,
};

/// A page of history, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessagePage {
    pub messages: Vec<MessageView>,
    /// Whether older messages exist before the first one.
    pub has_older: bool,
}

/// A thread: a message with replies.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Thread {
    pub root_id: MessageId,
    pub room_id: RoomId,
    /// Replies not deleted.
    pub replies: i64,
    /// The newest post, edit or deletion in it.
    pub last_activity_at: UnixMillis,
    /// Meets [`IndexQuality`], and its first message is there.
    pub indexable: bool,
    /// Its first message was deleted.
    pub deleted: bool,
}

/// `start` followed by the ids, bound, and a closing parenthesis: a
/// statement ending with `IN (`.
pub(super) fn id_list<'a, DB, Id>(start: &str, ids: &[Id]) -> QueryBuilder<'a, DB>
where
    DB: sqlx::Database,
    Id: Copy + sqlx::Encode<'a, DB> + sqlx::Type<DB> + 'a,
{
    let mut query = QueryBuilder::new(start);
    push_ids(&mut query, ids);
    query
}

/// Appends the ids, bound, and a closing parenthesis to a statement that
/// ends with `IN (`.
pub(super) fn push_ids<'a, DB, Id>(query: &mut QueryBuilder<'a, DB>, ids: &[Id])
where
    DB: sqlx::Database,
    Id: Copy + sqlx::Encode<'a, DB> + sqlx::Type<DB> + 'a,
{
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    query.push(")");
}

/// What a history page walks: a room's timeline, or one thread's replies.
#[derive(Clone, Copy)]
enum PageOf {
    Room(RoomId),
    Thread(MessageId),
}

fn newest_page(mut rows: Vec<MessageRow>, limit: u32) -> MessagePage {
    let has_older = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    rows.reverse();
    MessagePage { messages: rows.into_iter().map(MessageView::from).collect(), has_older }
}

#[derive(FromRow)]
struct MessageRow {
    id: MessageId,
    room_id: RoomId,
    seq: Seq,
    version: Seq,
    author_id: Option<UserId>,
    username: Option<String>,
    display_name: Option<String>,
    hidden_from_search: Option<bool>,
    body: String,
    html: String,
    mentions: String,
    created_at: UnixMillis,
    edited_at: Option<UnixMillis>,
    deleted_at: Option<UnixMillis>,
    lang: Option<String>,
    reply_to: Option<MessageId>,
    thread_id: Option<MessageId>,
    /// The answered message, as it is now.
    quoted_name: Option<String>,
    quoted_body: Option<String>,
    quoted_deleted_at: Option<UnixMillis>,
    quoted_hidden_from_search: Option<bool>,
    /// The thread it opens, if it has replies.
    replies: Option<i64>,
    last_reply_at: Option<UnixMillis>,
}

impl From<MessageRow> for MessageView {
    fn from(row: MessageRow) -> Self {
        let author = author_of(row.author_id, row.username, row.display_name, row.hidden_from_search);
        Self {
            id: row.id,
            room_id: row.room_id,
            seq: row.seq,
            version: row.version,
            author,
            body: row.body,
            html: row.html,
            mentions: row.mentions.split_whitespace().map(str::to_owned).collect(),
            created_at: row.created_at,
            edited_at: row.edited_at,
            deleted: row.deleted_at.is_some(),
            lang: row.lang,
            translation: None,
            threading: Threading {
                // A missing original (never stored) reads as deleted.
                reply_to: row.reply_to.map(|id| {
                    let deleted = row.quoted_deleted_at.is_some() || row.quoted_body.is_none();
                    let hidden = row.quoted_hidden_from_search.unwrap_or_default();
                    Quote::of(id, row.quoted_name, row.quoted_body.as_deref().unwrap_or_default(), deleted, hidden)
                }),
                root: row.thread_id,
                replies: row.replies.filter(|&count| count > 0).map(|count| ThreadSummary {
                    count: u32::try_from(count).unwrap_or(u32::MAX),
                    last_reply_at: row.last_reply_at,
                }),
            },
            reactions: Default::default(),
        }
    }
}

/// A message's author from its joined columns: none once the account is deleted.
pub(super) fn author_of(
    id: Option<UserId>,
    username: Option<String>,
    display_name: Option<String>,
    hidden_from_search: Option<bool>,
) -> Option<Author> {
    match (id, username, display_name) {
        (Some(id), Some(username), Some(display_name)) => {
            Some(Author { id, username, display_name, hidden_from_search: hidden_from_search.unwrap_or_default() })
        }
        _ => None,
    }
}

/// Messages with their author, the message each answers (`p`, by `pu`) and
/// the thread each opens (`t`).
const SELECT_MESSAGES: &str = "SELECT m.id, m.room_id, m.seq, m.version, m.author_id, u.username, u.display_name,
            u.hidden_from_search, m.body, m.html, m.mentions, m.created_at, m.edited_at, m.deleted_at, m.lang, m.reply_to,
            m.thread_id, pu.display_name AS quoted_name, p.body AS quoted_body, p.deleted_at AS quoted_deleted_at,
            pu.hidden_from_search AS quoted_hidden_from_search,
            t.replies, t.last_reply_at
     FROM messages m LEFT JOIN users u ON u.id = m.author_id
     LEFT JOIN messages p ON p.id = m.reply_to LEFT JOIN users pu ON pu.id = p.author_id
     LEFT JOIN threads t ON t.root_id = m.id";

/// Rows per multi-row INSERT: 14 parameters each stays far below SQLite's
/// 32,766 bound parameters (and PostgreSQL's 65,535, for the archive days).
pub(super) const ROWS_PER_STATEMENT: usize = 500;

/// The one statement of a batch write that differs per engine: PostgreSQL
/// takes the whole batch as one array per column (`UNNEST`), a single small
/// statement however big the batch; SQLite, which has no arrays, takes
/// multi-row `VALUES`.
trait InsertMessageRows {
    /// Inserts the rows, or replaces stored versions older than them.
    async fn insert_message_rows(&mut self, rows: &[&MessageView]) -> Result<()>;
}

/// What an insert does with a message already stored (a retry, an edit, a
/// deletion): newer versions win, `seq` and `created_at` never change.
const ON_CONFLICT_NEWER_VERSION: &str = " ON CONFLICT (id) DO UPDATE SET version = excluded.version, body = excluded.body,
      html = excluded.html, mentions = excluded.mentions, edited_at = excluded.edited_at,
      deleted_at = excluded.deleted_at, lang = excluded.lang
      WHERE messages.version < excluded.version";

const INSERT_MESSAGES: &str =
    "INSERT INTO messages (id, room_id, seq, version, author_id, body, html, mentions, created_at, edited_at, deleted_at, lang,
                           reply_to, thread_id) ";

fn deleted_at(m: &MessageView) -> Option<UnixMillis> {
    m.deleted.then(|| m.edited_at.unwrap_or(m.created_at))
}

impl InsertMessageRows for sqlx::Transaction<'_, sqlx::Postgres> {
    async fn insert_message_rows(&mut self, rows: &[&MessageView]) -> Result<()> {
        let column = |f: fn(&MessageView) -> i64| rows.iter().map(|m| f(m)).collect::<Vec<i64>>();
        let sql = format!(
            "{INSERT_MESSAGES} SELECT * FROM UNNEST($1::uuid[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], \
             $6::text[], $7::text[], $8::text[], $9::int8[], $10::int8[], $11::int8[], $12::text[], $13::uuid[], $14::uuid[]) {ON_CONFLICT_NEWER_VERSION}"
        );
        sqlx::query(&sql)
            .bind(rows.iter().map(|m| m.id.0).collect::<Vec<uuid::Uuid>>())
            .bind(column(|m| m.room_id.0))
            .bind(column(|m| m.seq.0))
            .bind(column(|m| m.version.0))
            .bind(rows.iter().map(|m| m.author.as_ref().map(|a| a.id.0)).collect::<Vec<Option<i64>>>())
            .bind(rows.iter().map(|m| m.body.as_str()).collect::<Vec<&str>>())
            .bind(rows.iter().map(|m| m.html.as_str()).collect::<Vec<&str>>())
            .bind(rows.iter().map(|m| m.mentions.join(" ")).collect::<Vec<String>>())
            .bind(column(|m| m.created_at.0))
            .bind(rows.iter().map(|m| m.edited_at.map(|t| t.0)).collect::<Vec<Option<i64>>>())
            .bind(rows.iter().map(|m| deleted_at(m).map(|t| t.0)).collect::<Vec<Option<i64>>>())
            .bind(rows.iter().map(|m| m.lang.as_deref()).collect::<Vec<Option<&str>>>())
            .bind(rows.iter().map(|m| m.threading.reply_to.as_ref().map(|q| q.id.0)).collect::<Vec<Option<uuid::Uuid>>>())
            .bind(rows.iter().map(|m| m.threading.root.map(|id| id.0)).collect::<Vec<Option<uuid::Uuid>>>())
            .execute(&mut **self)
            .await?;
        Ok(())
    }
}

impl InsertMessageRows for sqlx::Transaction<'_, sqlx::Sqlite> {
    async fn insert_message_rows(&mut self, rows: &[&MessageView]) -> Result<()> {
        // In the order they were written: the search index numbers its rows
        // in insertion order and lists results by it (the search migration).
        // (SQLite has one writer: the order of locks does not matter here.)
        let mut rows = rows.to_vec();
        rows.sort_by_key(|m| (m.created_at, m.room_id, m.seq));
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::new(INSERT_MESSAGES);
            insert.push_values(chunk, |mut row, m| {
                row.push_bind(m.id)
                    .push_bind(m.room_id)
                    .push_bind(m.seq)
                    .push_bind(m.version)
                    .push_bind(m.author.as_ref().map(|a| a.id))
                    .push_bind(m.body.as_str())
                    .push_bind(m.html.as_str())
                    .push_bind(m.mentions.join(" "))
                    .push_bind(m.created_at)
                    .push_bind(m.edited_at)
                    .push_bind(deleted_at(m))
                    .push_bind(m.lang.as_deref())
                    .push_bind(m.threading.reply_to.as_ref().map(|q| q.id))
                    .push_bind(m.threading.root);
            });
            insert.push(ON_CONFLICT_NEWER_VERSION);
            insert.build().execute(&mut **self).await?;
        }
        Ok(())
    }
}

/// Recomputes whether a day (`$1` room, `$2` day, from `$4` to `$5`) meets
/// [`IndexQuality`], unless it already did and no message of it was revised
/// (`$3`). Only what search engines read counts: not the words of people
/// who keep theirs off search engines.
pub(crate) fn day_quality_sql() -> String {
    format!(
        "UPDATE room_days SET indexable = (
             SELECT COUNT(*) >= {messages} AND COUNT(DISTINCT m.author_id) >= {authors}
                    AND COALESCE(SUM(LENGTH(m.body)), 0) >= {chars}
             FROM messages m LEFT JOIN users u ON u.id = m.author_id
             WHERE m.room_id = $1 AND m.created_at >= $4 AND m.created_at < $5 AND m.deleted_at IS NULL
               AND (u.hidden_from_search IS NULL OR NOT u.hidden_from_search))
         WHERE room_id = $1 AND day = $2 AND (NOT indexable OR $3)",
        messages = IndexQuality::MIN_MESSAGES,
        authors = IndexQuality::MIN_AUTHORS,
        chars = IndexQuality::MIN_CHARS,
    )
}

/// Recomputes the `threads` rows of `count` messages, whose ids are bound
/// twice (`$1`…`$count`, then again), from each thread's messages: its
/// first message (`is_reply = 0`) and every reply. A message without
/// replies gets no row. The quality bar counts only what search engines
/// read (`shown`); a thread whose first message's words are kept off them
/// is not indexable (it would be named after them).
pub(crate) fn thread_upsert_sql(count: usize) -> String {
    let placeholders = |from: usize| (from..from + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    let (roots, again) = (placeholders(1), placeholders(count + 1));
    format!(
        "INSERT INTO threads (root_id, room_id, replies, last_reply_at, last_activity_at, indexable, deleted)
         SELECT t.root, MIN(t.room_id),
                SUM(CASE WHEN t.is_reply = 1 AND t.deleted_at IS NULL THEN 1 ELSE 0 END),
                MAX(CASE WHEN t.is_reply = 1 AND t.deleted_at IS NULL THEN t.created_at END),
                MAX(COALESCE(t.edited_at, t.created_at)),
                SUM(CASE WHEN t.deleted_at IS NULL AND t.shown = 1 THEN 1 ELSE 0 END) >= {messages}
                    AND COUNT(DISTINCT CASE WHEN t.deleted_at IS NULL AND t.shown = 1 THEN t.author_id END) >= {authors}
                    AND SUM(CASE WHEN t.deleted_at IS NULL AND t.shown = 1 THEN LENGTH(t.body) ELSE 0 END) >= {chars}
                    AND MAX(CASE WHEN t.is_reply = 0 AND (t.deleted_at IS NOT NULL OR t.shown = 0) THEN 1 ELSE 0 END) = 0,
                MAX(CASE WHEN t.is_reply = 0 AND t.deleted_at IS NOT NULL THEN 1 ELSE 0 END) = 1
         FROM (
             SELECT m.id AS root, m.room_id, 0 AS is_reply, m.author_id, m.body, m.created_at, m.edited_at, m.deleted_at,
                    CASE WHEN u.hidden_from_search THEN 0 ELSE 1 END AS shown
             FROM messages m LEFT JOIN users u ON u.id = m.author_id WHERE m.id IN ({roots})
             UNION ALL
             SELECT m.thread_id, m.room_id, 1, m.author_id, m.body, m.created_at, m.edited_at, m.deleted_at,
                    CASE WHEN u.hidden_from_search THEN 0 ELSE 1 END
             FROM messages m LEFT JOIN users u ON u.id = m.author_id WHERE m.thread_id IN ({again})
         ) t
         WHERE true
         GROUP BY t.root
         -- Replies, and their first message stored (another worker may
         -- store a reply first; the thread is counted when it arrives).
         HAVING SUM(t.is_reply) > 0 AND MIN(t.is_reply) = 0
         ON CONFLICT (root_id) DO UPDATE SET replies = excluded.replies, last_reply_at = excluded.last_reply_at,
             last_activity_at = excluded.last_activity_at, indexable = excluded.indexable, deleted = excluded.deleted",
        messages = IndexQuality::MIN_MESSAGES,
        authors = IndexQuality::MIN_AUTHORS,
        chars = IndexQuality::MIN_CHARS,
    )
}

/// Recomputes, in transaction `$tx`, the quality bar of `$days` (`((room,
/// day), revised)` pairs: see [`day_quality_sql`]) and the threads of the
/// message ids `$roots` (see [`thread_upsert_sql`]). A macro, as the
/// transaction is either engine's.
macro_rules! refresh_quality {
    ($tx:ident, $days:expr, $roots:expr) => {
        for ((room, day), revised) in $days {
            sqlx::query(&$crate::store::messages::day_quality_sql())
                .bind(room)
                .bind(day)
                .bind(revised)
                .bind(day.start())
                .bind(day.end())
                .execute(&mut *$tx)
                .await?;
        }
        for chunk in $roots.chunks($crate::store::messages::ROWS_PER_STATEMENT) {
            let sql = $crate::store::messages::thread_upsert_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for id in chunk.iter().chain(chunk) {
                query = query.bind(*id);
            }
            query.execute(&mut *$tx).await?;
        }
    };
}
pub(super) use refresh_quality;

impl Store {
    /// Stores message versions in one transaction. Idempotent and order
    /// independent: a version only replaces a stored one with a lower
    /// `version`, and `seq` never changes once stored. Also advances each
    /// room's counter and last activity.
    pub async fn upsert_messages(&self, versions: &[MessageView]) -> Result<()> {
        if versions.is_empty() {
            return Ok(());
        }
        // One statement may not touch a row twice: keep each message's newest version.
        let mut newest: HashMap<MessageId, &MessageView> = HashMap::with_capacity(versions.len());
        for version in versions {
            newest
                .entry(version.id)
                .and_modify(|kept| {
                    if version.version > kept.version {
                        *kept = version;
                    }
                })
                .or_insert(version);
        }
        let mut rows: Vec<&MessageView> = newest.into_values().collect();
        rows.sort_by_key(|m| (m.room_id, m.seq));

        // Ordered maps: concurrent workers then lock rows in the same order.
        let mut rooms: BTreeMap<RoomId, (Seq, UnixMillis)> = BTreeMap::new();
        // Each day's last activity, and whether the batch revises a message
        // of it (an edit or a deletion: a new version of an older message).
        let mut days: BTreeMap<(RoomId, UtcDay), (UnixMillis, bool)> = BTreeMap::new();
        for m in &rows {
            let activity = m.edited_at.unwrap_or(m.created_at);
            let entry = rooms.entry(m.room_id).or_insert((m.version, activity));
            entry.0 = entry.0.max(m.version);
            entry.1 = entry.1.max(activity);
            let day = days.entry((m.room_id, UtcDay::of(m.created_at))).or_insert((activity, false));
            day.0 = day.0.max(activity);
            day.1 |= m.version > m.seq;
        }
        let days: Vec<((RoomId, UtcDay), (UnixMillis, bool))> = days.into_iter().collect();

        // A deleted message keeps no translation of its words.
        let deleted: Vec<MessageId> = rows.iter().filter(|m| m.deleted).map(|m| m.id).collect();
        // The threads the batch touches: those its replies belong to, and
        // those its edited or deleted messages may open. A new message may
        // open one too, when another worker stored a reply to it first:
        // those are looked up once the batch is written.
        let mut thread_roots: Vec<MessageId> =
            rows.iter().filter_map(|m| m.threading.root.or((m.version > m.seq).then_some(m.id))).collect();
        let new_messages: Vec<MessageId> =
            rows.iter().filter(|m| m.threading.root.is_none() && m.version == m.seq).map(|m| m.id).collect();

        in_transaction!(self, tx => {
            tx.insert_message_rows(&rows).await?;
            for chunk in deleted.chunks(ROWS_PER_STATEMENT) {
                id_list("DELETE FROM message_translations WHERE message_id IN (", chunk).build().execute(&mut *tx).await?;
            }
            for (room_id, (seq, activity)) in &rooms {
                sqlx::query(
                    "UPDATE rooms SET
                        last_seq = CASE WHEN last_seq < $2 THEN $2 ELSE last_seq END,
                        last_activity_at = CASE WHEN last_activity_at < $3 THEN $3 ELSE last_activity_at END
                     WHERE id = $1",
                )
                .bind(room_id)
                .bind(seq)
                .bind(activity)
                .execute(&mut *tx)
                .await?;
            }
            // The archive's days (few per batch: usually one per room).
            for chunk in days.chunks(ROWS_PER_STATEMENT) {
                let mut insert = QueryBuilder::new("INSERT INTO room_days (room_id, day, last_activity_at) ");
                insert.push_values(chunk, |mut row, ((room, day), (activity, _))| {
                    row.push_bind(*room).push_bind(*day).push_bind(*activity);
                });
                insert.push(
                    " ON CONFLICT (room_id, day) DO UPDATE SET last_activity_at = excluded.last_activity_at
                      WHERE room_days.last_activity_at < excluded.last_activity_at",
                );
                insert.build().execute(&mut *tx).await?;
            }
            // (A probe of the replies' index: cheap, and usually empty.)
            for chunk in new_messages.chunks(ROWS_PER_STATEMENT) {
                let mut probe = id_list("SELECT DISTINCT thread_id FROM messages WHERE thread_id IN (", chunk);
                thread_roots.extend(probe.build_query_scalar::<MessageId>().fetch_all(&mut *tx).await?);
            }
            thread_roots.sort_unstable();
            thread_roots.dedup();
            // The days' quality: new messages only raise it, so a day that
            // met the bar is looked at again only when a message of it was
            // edited or deleted.
            refresh_quality!(tx, days.iter().map(|(key, (_, revised))| (*key, *revised)), thread_roots);
        });
        Ok(())
    }

    pub async fn message_by_id(&self, id: MessageId) -> Result<Option<MessageView>> {
        let sql = format!("{SELECT_MESSAGES} WHERE m.id = $1");
        let row = on_pool!(self, pool => sqlx::query_as::<_, MessageRow>(&sql).bind(id).fetch_optional(pool).await?);
        Ok(row.map(MessageView::from))
    }

    /// Up to `limit` messages before `before` (or the latest when `None`),
    /// oldest first: keyset paging on the room's seq, so pages never skip or
    /// repeat a message however many arrive meanwhile.
    pub async fn messages_before(&self, room: RoomId, before: Option<Seq>, limit: u32) -> Result<MessagePage> {
        self.page_before(PageOf::Room(room), before, limit).await
    }

    /// [`Store::messages_before`] for the replies of one thread.
    pub async fn replies_before(&self, root: MessageId, before: Option<Seq>, limit: u32) -> Result<MessagePage> {
        self.page_before(PageOf::Thread(root), before, limit).await
    }

    async fn page_before(&self, of: PageOf, before: Option<Seq>, limit: u32) -> Result<MessagePage> {
        let column = match of {
            PageOf::Room(_) => "m.room_id",
            PageOf::Thread(_) => "m.thread_id",
        };
        let sql = format!("{SELECT_MESSAGES} WHERE {column} = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3");
        let before = before.unwrap_or(Seq(i64::MAX));
        let rows = on_pool!(self, pool => {
            let query = sqlx::query_as::<_, MessageRow>(&sql);
            let query = match of {
                PageOf::Room(room) => query.bind(room),
                PageOf::Thread(root) => query.bind(root),
            };
            query.bind(before).bind(i64::from(limit) + 1).fetch_all(pool).await?
        });
        Ok(newest_page(rows, limit))
    }

    /// The thread `root` opens, once it has had a reply.
    pub async fn thread(&self, root: MessageId) -> Result<Option<Thread>> {
        let sql = "SELECT root_id, room_id, replies, last_activity_at, indexable, deleted FROM threads WHERE root_id = $1";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Thread>(sql).bind(root).fetch_optional(pool).await?))
    }

    /// The messages written on `day` (UTC) after `after` (the start of the
    /// day when `None`), oldest first, at most `limit`, and whether more
    /// of that day follow.
    pub async fn messages_on_day(&self, room: RoomId, day: UtcDay, after: Option<Seq>, limit: u32) -> Result<(Vec<MessageView>, bool)> {
        let sql = format!(
            "{SELECT_MESSAGES} WHERE m.room_id = $1 AND m.created_at >= $2 AND m.created_at < $3 AND m.seq > $4
             ORDER BY m.seq LIMIT $5"
        );
        let mut rows = on_pool!(self, pool => sqlx::query_as::<_, MessageRow>(&sql)
            .bind(room)
            .bind(day.start())
            .bind(day.end())
            .bind(after.unwrap_or(Seq(0)))
            .bind(i64::from(limit) + 1)
            .fetch_all(pool)
            .await?);
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Ok((rows.into_iter().map(MessageView::from).collect(), has_more))
    }

    /// Every message version newer than `after` (new messages, edits and
    /// deletions), in version order: what a reconnecting client missed.
    pub async fn messages_changed_after(&self, room: RoomId, after: Seq, limit: u32) -> Result<Vec<MessageView>> {
        let sql = format!("{SELECT_MESSAGES} WHERE m.room_id = $1 AND m.version > $2 ORDER BY m.version LIMIT $3");
        let rows = on_pool!(self, pool => sqlx::query_as::<_, MessageRow>(&sql)
            .bind(room)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().map(MessageView::from).collect())
    }
}
