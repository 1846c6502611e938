//! Full-text search over the messages a person may read: FTS5 on SQLite, a
//! `tsvector` with a GIN index on PostgreSQL (the migrations keep both in
//! step with every edit and deletion). Only the matching and the marking of
//! matches differ per engine; the rule of who reads what, the filters and
//! the order are one text for both.

use sqlx::FromRow;

use super::Store;
use crate::{
    Result,
    access::may_read_sql,
    ids::{MessageId, Seq, UnixMillis, UserId},
    search::{Excerpt, SearchCursor, SearchHit, SearchQuery, SearchResults, SearchScope},
};

#[derive(FromRow)]
struct HitRow {
    id: MessageId,
    position: i64,
    seq: Seq,
    slug: String,
    name: String,
    author_id: Option<UserId>,
    username: Option<String>,
    display_name: Option<String>,
    hidden_from_search: Option<bool>,
    created_at: UnixMillis,
    edited_at: Option<UnixMillis>,
    /// The body with its matches between `MARK_START` and `MARK_END`.
    marked: String,
}

impl From<HitRow> for SearchHit {
    fn from(row: HitRow) -> Self {
        let author = super::messages::author_of(row.author_id, row.username, row.display_name, row.hidden_from_search);
        Self {
            id: row.id,
            position: row.position,
            seq: row.seq,
            room_slug: row.slug,
            room_name: row.name,
            author,
            created_at: row.created_at,
            edited_at: row.edited_at,
            excerpt: Excerpt::from_marked(&row.marked),
        }
    }
}

const HIT_COLUMNS: &str =
    "m.id, m.seq, r.slug, r.name, m.author_id, u.username, u.display_name, u.hidden_from_search, m.created_at, m.edited_at";

/// The conditions both engines share, numbered from `$first`: the reading
/// rule (account), room, author, since, until. Signed out, the words of
/// people who keep theirs off search engines are not found where search
/// engines may look (their messages show there without them).
fn shared_conditions(first: usize) -> String {
    let p = |offset: usize| format!("${}", first + offset);
    format!(
        "m.deleted_at IS NULL AND {may_read}
         AND ({account} IS NOT NULL OR NOT r.indexable OR u.hidden_from_search IS NULL OR NOT u.hidden_from_search)
         AND ({room} IS NULL OR m.room_id = {room}) AND ({author} IS NULL OR m.author_id = {author})
         AND m.created_at >= {since} AND m.created_at < {until}",
        may_read = may_read_sql("r", &p(0)),
        account = p(0),
        room = p(1),
        author = p(2),
        since = p(3),
        until = p(4),
    )
}

impl Store {
    /// The newest `limit` messages (older than the scope's cursor) that
    /// contain every word of `query`, among those `account` may read (see
    /// `access::reading_account`: `None` reads public rooms only).
    /// `reader_lang` (ISO 639-1) lets PostgreSQL also match the words'
    /// stems in the searcher's language.
    pub async fn search_messages(
        &self,
        query: &SearchQuery,
        reader_lang: Option<&str>,
        account: Option<UserId>,
        scope: &SearchScope,
        limit: u32,
    ) -> Result<SearchResults> {
        let since = scope.since.unwrap_or(UnixMillis(i64::MIN));
        let until = scope.until.unwrap_or(UnixMillis(i64::MAX));
        let (before, before_id) = match scope.before {
            Some(cursor) => (cursor.position, cursor.id),
            None => (i64::MAX, MessageId(uuid::Uuid::max())),
        };
        let fetch = i64::from(limit) + 1;
        macro_rules! bind_shared {
            ($query:expr) => {
                $query.bind(account).bind(scope.room).bind(scope.author).bind(since).bind(until)
            };
        }
        let mut rows: Vec<HitRow> = match self {
            // Newest first is the index's own order backwards (rows follow
            // the order messages were stored): no sort of every match, so
            // a common word costs no more than a rare one.
            Self::Sqlite(pool) => {
                let sql = format!(
                    "SELECT {HIT_COLUMNS}, message_search.rowid AS position,
                            highlight(message_search, 0, char(1), char(2)) AS marked
                     FROM message_search
                     JOIN message_search_rows sr ON sr.row = message_search.rowid
                     JOIN messages m ON m.id = sr.message_id
                     JOIN rooms r ON r.id = m.room_id
                     LEFT JOIN users u ON u.id = m.author_id
                     WHERE message_search MATCH $1 AND message_search.rowid < $7 AND {}
                     ORDER BY message_search.rowid DESC LIMIT $8",
                    shared_conditions(2)
                );
                bind_shared!(sqlx::query_as(&sql).bind(query.fts5())).bind(before).bind(fetch).fetch_all(pool).await?
            }
            Self::Postgres(pool) => {
                // Words as written ('simple') or, in the searcher's
                // language, as stems: the index holds both (see the
                // migration). Written out, not in a CTE, so that the planner
                // sees the words and knows how common they are: a common
                // word walks the messages newest first, a rare one the GIN
                // index.
                let query_of = "(to_tsquery('pg_catalog.simple', $1) || to_tsquery(message_search_config($2), $1))";
                let sql = format!(
                    "SELECT {HIT_COLUMNS}, m.created_at AS position,
                            ts_headline(message_search_config(m.lang), m.body, {query_of},
                                        'HighlightAll=true, StartSel=' || chr(1) || ', StopSel=' || chr(2)) AS marked
                     FROM messages m
                     JOIN rooms r ON r.id = m.room_id
                     LEFT JOIN users u ON u.id = m.author_id
                     WHERE m.search @@ {query_of} AND (m.created_at, m.id) < ($8, $9) AND {}
                     ORDER BY m.created_at DESC, m.id DESC LIMIT $10",
                    shared_conditions(3)
                );
                // Not a named prepared statement: PostgreSQL then plans each
                // search with its words (a generic plan would guess how
                // common they are, and pick the wrong index for most).
                bind_shared!(sqlx::query_as(&sql).persistent(false).bind(query.tsquery()).bind(reader_lang))
                    .bind(before)
                    .bind(before_id)
                    .bind(fetch)
                    .fetch_all(pool)
                    .await?
            }
        };
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let hits: Vec<SearchHit> = rows.into_iter().map(SearchHit::from).collect();
        let next = more.then(|| hits.last().map(|hit| SearchCursor { position: hit.position, id: hit.id })).flatten();
        Ok(SearchResults { hits, next })
    }
}
