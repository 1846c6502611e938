//! Rooms and the public directory.

use sqlx::FromRow;

use super::{Store, on_pool};
pub use crate::room::{DirectoryPage, DirectoryQuery, DirectorySort, MyRoom, RoomSummary, Visibility};
use crate::{
    Error, Result,
    ids::{MessageId, RoomId, Seq, UnixMillis, UserId, UtcDay},
    input::InputError,
};

#[derive(Debug, Clone, FromRow)]
pub struct Room {
    pub id: RoomId,
    pub slug: String,
    pub name: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub visibility: Visibility,
    pub indexable: bool,
    pub owner_id: Option<UserId>,
    pub last_seq: Seq,
    pub last_activity_at: UnixMillis,
    pub created_at: UnixMillis,
    /// A private room's messages go to the translation engine only when
    /// its owner turned this on.
    pub translate_private: bool,
    /// The reaction seq of the room's last change of reactions.
    pub reactions_seq: Seq,
    /// A direct conversation's people (see `Store::open_direct`); `None`
    /// for other rooms.
    pub direct_key: Option<String>,
}

impl Room {
    /// Whether it is a direct conversation: private for good, without
    /// owner, settings or invitations.
    pub fn is_direct(&self) -> bool {
        self.direct_key.is_some()
    }

    /// Whether search engines may index its pages: a public room whose
    /// owner said so.
    pub fn is_indexable(&self) -> bool {
        self.visibility == Visibility::Public && self.indexable
    }

    /// Whether its messages may be sent to the translation engine: public
    /// rooms may, private ones when their owner said so.
    pub fn may_be_translated(&self) -> bool {
        self.visibility == Visibility::Public || self.translate_private
    }
}

/// A validated room to create.
#[derive(Debug, Clone)]
pub struct NewRoom {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    pub owner_id: UserId,
}

/// What the room's owner can change.
#[derive(Debug, Clone)]
pub struct RoomChanges<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub visibility: Visibility,
    pub indexable: bool,
    pub translate_private: bool,
}

/// A page of the sitemap: a room (`day` is `None`) or one of its archive days.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct IndexablePage {
    pub slug: String,
    /// An archive day of the room…
    pub day: Option<UtcDay>,
    /// …or a thread of it (else the room's own page).
    pub thread: Option<MessageId>,
    /// Its content's last change.
    pub last_activity_at: UnixMillis,
}

/// A room with what its pages show besides messages, read in one query:
/// the room page is the most visited page, and each query is a round trip.
#[derive(Debug, Clone, FromRow)]
pub struct RoomOverview {
    #[sqlx(flatten)]
    pub room: Room,
    pub member_count: i64,
    /// The owner's display name, while the room has an owner.
    pub owner_name: Option<String>,
    /// The newest day of the room's archive, if it has messages.
    pub latest_day: Option<UtcDay>,
}

pub(super) const ROOM_COLUMNS: &str =
    "id, slug, name, description, visibility, indexable, owner_id, last_seq, last_activity_at, created_at, translate_private, reactions_seq, direct_key";

impl Store {
    /// Creates a room owned (and joined) by its creator.
    pub async fn create_room(&self, new: &NewRoom) -> Result<Room> {
        let now = UnixMillis::now();
        let insert = format!(
            "INSERT INTO rooms (slug, name, description, visibility, owner_id, last_activity_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {ROOM_COLUMNS}"
        );
        let join = "INSERT INTO room_members (room_id, user_id, joined_at) VALUES ($1, $2, $3)";
        let room = super::in_transaction!(self, tx => {
            let room = sqlx::query_as::<_, Room>(&insert)
                .bind(&new.slug)
                .bind(&new.name)
                .bind(&new.description)
                .bind(new.visibility.as_str())
                .bind(new.owner_id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|err| match Error::from(err) {
                    err if err.is_unique_violation() => Error::input("slug", InputError::Taken),
                    err => err,
                })?;
            sqlx::query(join).bind(room.id).bind(new.owner_id).bind(now).execute(&mut *tx).await?;
            room
        });
        Ok(room)
    }

    /// The room at `/r/{slug}`; none for text no slug can be (without a
    /// query: PostgreSQL refuses some text, a NUL byte, outright).
    pub async fn room_by_slug(&self, slug: &str) -> Result<Option<Room>> {
        if !crate::room::is_slug(slug) {
            return Ok(None);
        }
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE slug = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Room>(&sql).bind(slug).fetch_optional(pool).await?))
    }

    /// [`Self::room_by_slug`] with what a room's pages show besides messages.
    pub async fn room_overview(&self, slug: &str) -> Result<Option<RoomOverview>> {
        if !crate::room::is_slug(slug) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {ROOM_COLUMNS},
                    (SELECT COUNT(*) FROM room_members m WHERE m.room_id = rooms.id) AS member_count,
                    (SELECT u.display_name FROM users u WHERE u.id = rooms.owner_id) AS owner_name,
                    (SELECT MAX(d.day) FROM room_days d WHERE d.room_id = rooms.id) AS latest_day
             FROM rooms WHERE slug = $1"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, RoomOverview>(&sql).bind(slug).fetch_optional(pool).await?))
    }

    pub async fn room_by_id(&self, id: RoomId) -> Result<Option<Room>> {
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Room>(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// The room's last given seq (new messages continue after it).
    pub async fn room_last_seq(&self, id: RoomId) -> Result<Seq> {
        let sql = "SELECT last_seq FROM rooms WHERE id = $1";
        let seq = on_pool!(self, pool => sqlx::query_scalar::<_, Seq>(sql).bind(id).fetch_optional(pool).await?);
        seq.ok_or(Error::NotFound("room"))
    }

    /// One page of the public directory: rooms whose name contains the
    /// search, in the asked order.
    pub async fn public_rooms(&self, query: &DirectoryQuery) -> Result<DirectoryPage> {
        let order = match query.sort {
            DirectorySort::Activity => "r.last_activity_at DESC, r.id DESC",
            DirectorySort::Name => "lower(r.name), r.id",
        };
        let sql = format!(
            "SELECT r.slug, r.name, r.description, r.last_activity_at,
                    (SELECT COUNT(*) FROM room_members m WHERE m.room_id = r.id) AS member_count
             FROM rooms r
             WHERE r.visibility = 'public' AND lower(r.name) LIKE $1 ESCAPE '\\'
             ORDER BY {order}
             LIMIT $2 OFFSET $3"
        );
        // `%` and `_` typed by a visitor are literal characters, not wildcards.
        let escaped = query.search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let size = i64::from(DirectoryQuery::PAGE_SIZE);
        let offset = i64::from(query.page.saturating_sub(1)) * size;
        let mut rooms = on_pool!(self, pool => sqlx::query_as::<_, RoomSummary>(&sql)
            .bind(&pattern)
            .bind(size + 1)
            .bind(offset)
            .fetch_all(pool)
            .await?);
        let has_next = rooms.len() > DirectoryQuery::PAGE_SIZE as usize;
        rooms.truncate(DirectoryQuery::PAGE_SIZE as usize);
        Ok(DirectoryPage { rooms, has_next })
    }

    /// The days before and after `day` on which the room has messages.
    pub async fn neighbour_days(&self, room: RoomId, day: UtcDay) -> Result<(Option<UtcDay>, Option<UtcDay>)> {
        let before = "SELECT MAX(day) FROM room_days WHERE room_id = $1 AND day < $2";
        let after = "SELECT MIN(day) FROM room_days WHERE room_id = $1 AND day > $2";
        on_pool!(self, pool => {
            let before: Option<UtcDay> = sqlx::query_scalar(before).bind(room).bind(day).fetch_one(pool).await?;
            let after: Option<UtcDay> = sqlx::query_scalar(after).bind(room).bind(day).fetch_one(pool).await?;
            Ok((before, after))
        })
    }

    /// Whether the room has messages on `day` (`None` if not) and, if so,
    /// whether that day meets [`crate::room::IndexQuality`].
    pub async fn archive_day(&self, room: RoomId, day: UtcDay) -> Result<Option<bool>> {
        let sql = "SELECT indexable FROM room_days WHERE room_id = $1 AND day = $2";
        Ok(on_pool!(self, pool => sqlx::query_scalar(sql).bind(room).bind(day).fetch_optional(pool).await?))
    }

    /// Every page search engines may index, room by room: each public,
    /// indexable room (`day` and `thread` are `None`), then its archive
    /// days and its threads that meet [`crate::room::IndexQuality`] (as
    /// the worker stores them: see `messages::thread_upsert_sql`).
    pub async fn indexable_pages(&self) -> Result<Vec<IndexablePage>> {
        // (PostgreSQL types a column of NULLs as text unless told.)
        let sql = "SELECT slug, day, thread, last_activity_at FROM (
                       SELECT r.slug, NULL AS day, CAST(NULL AS uuid) AS thread, r.last_activity_at FROM rooms r
                       WHERE r.visibility = 'public' AND r.indexable
                       UNION ALL
                       SELECT r.slug, d.day, CAST(NULL AS uuid), d.last_activity_at FROM room_days d JOIN rooms r ON r.id = d.room_id
                       WHERE r.visibility = 'public' AND r.indexable AND d.indexable
                       UNION ALL
                       SELECT r.slug, NULL, t.root_id, t.last_activity_at FROM threads t JOIN rooms r ON r.id = t.room_id
                       WHERE r.visibility = 'public' AND r.indexable AND t.indexable AND NOT t.deleted
                   ) pages
                   ORDER BY slug, CASE WHEN thread IS NULL THEN 0 ELSE 1 END, COALESCE(day, -1), last_activity_at";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, IndexablePage>(sql).fetch_all(pool).await?))
    }
}

/// An invitation link to a private room.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Invite {
    pub token: String,
    pub room_id: RoomId,
    pub created_at: UnixMillis,
    pub revoked_at: Option<UnixMillis>,
}

impl Store {
    /// Creates a room with a unique slug derived from its name; its creator
    /// owns it and is its first member. A public room takes `name`, else
    /// `name-2`, `name-3`…; a private room always takes `name-` and eight
    /// random characters, so that it never holds a slug someone creating a
    /// public room could find taken (which would tell them it exists).
    pub async fn create_room_named(
        &self,
        name: &str,
        description: &str,
        visibility: Visibility,
        owner_id: UserId,
    ) -> Result<Room> {
        let base = crate::room::slugify(name);
        let random = || format!("{base}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        for attempt in 1..=50 {
            let slug = match (visibility, attempt) {
                (Visibility::Private, _) => random(),
                (Visibility::Public, 1) => base.clone(),
                (Visibility::Public, n) if n <= 20 => format!("{base}-{n}"),
                (Visibility::Public, _) => random(),
            };
            let new = NewRoom { slug, name: name.to_owned(), description: description.to_owned(), visibility, owner_id };
            match self.create_room(&new).await {
                Err(Error::Input { field: "slug", .. }) => continue,
                other => return other,
            }
        }
        Err(Error::input("slug", crate::input::InputError::Taken))
    }

    /// Changes a room's name, description, visibility and whether search
    /// engines may index it (its slug stays). A private room is never
    /// indexable, whatever `indexable` says; a direct conversation has no
    /// settings (not found).
    pub async fn update_room(&self, id: RoomId, changes: &RoomChanges<'_>) -> Result<()> {
        let sql = "UPDATE rooms SET name = $2, description = $3, visibility = $4, indexable = $5, translate_private = $6
                   WHERE id = $1 AND direct_key IS NULL";
        let indexable = changes.indexable && changes.visibility == Visibility::Public;
        let done = on_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(changes.name)
            .bind(changes.description)
            .bind(changes.visibility.as_str())
            .bind(indexable)
            .bind(changes.translate_private)
            .execute(pool)
            .await?
            .rows_affected());
        if done == 0 { Err(Error::NotFound("room")) } else { Ok(()) }
    }

    /// Deletes a room with its messages, memberships and invitations.
    pub async fn delete_room(&self, id: RoomId) -> Result<()> {
        let done = on_pool!(self, pool => sqlx::query("DELETE FROM rooms WHERE id = $1").bind(id).execute(pool).await?.rows_affected());
        if done == 0 { Err(Error::NotFound("room")) } else { Ok(()) }
    }

    /// Makes `user` a member (no-op when already one), reading from now on.
    pub async fn join_room(&self, room: RoomId, user: UserId) -> Result<()> {
        let sql = "INSERT INTO room_members (room_id, user_id, read_seq, joined_at)
                   SELECT id, $2, last_seq, $3 FROM rooms WHERE id = $1
                   ON CONFLICT (room_id, user_id) DO NOTHING";
        on_pool!(self, pool => { sqlx::query(sql).bind(room).bind(user).bind(UnixMillis::now()).execute(pool).await?; });
        Ok(())
    }

    /// Makes `user` a member of the room an unrevoked invitation opens, in
    /// one statement (a revocation is either before it, and nobody joins,
    /// or after); returns the room, or `None` for a bad or revoked link (text
    /// no token can be finds none without a query: PostgreSQL refuses a NUL).
    pub async fn join_by_invite(&self, token: &str, user: UserId) -> Result<Option<Room>> {
        if !crate::room::is_invite_token(token) {
            return Ok(None);
        }
        let sql = "INSERT INTO room_members (room_id, user_id, read_seq, joined_at)
                   SELECT r.id, $2, r.last_seq, $3 FROM room_invites i JOIN rooms r ON r.id = i.room_id
                   WHERE i.token = $1 AND i.revoked_at IS NULL
                   ON CONFLICT (room_id, user_id) DO NOTHING";
        on_pool!(self, pool => { sqlx::query(sql).bind(token).bind(user).bind(UnixMillis::now()).execute(pool).await?; });
        // Whether the link was revoked since does not matter: a member is one.
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE id = (SELECT room_id FROM room_invites WHERE token = $1)");
        let room = on_pool!(self, pool => sqlx::query_as::<_, Room>(&sql).bind(token).fetch_optional(pool).await?);
        let Some(room) = room else { return Ok(None) };
        Ok(self.is_member(room.id, user).await?.then_some(room))
    }

    pub async fn leave_room(&self, room: RoomId, user: UserId) -> Result<()> {
        let sql = "DELETE FROM room_members WHERE room_id = $1 AND user_id = $2";
        on_pool!(self, pool => { sqlx::query(sql).bind(room).bind(user).execute(pool).await?; });
        Ok(())
    }

    pub async fn is_member(&self, room: RoomId, user: UserId) -> Result<bool> {
        let sql = "SELECT COUNT(*) FROM room_members WHERE room_id = $1 AND user_id = $2";
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(sql).bind(room).bind(user).fetch_one(pool).await?);
        Ok(count > 0)
    }

    /// Advances a member's read position (never backwards).
    pub async fn mark_read(&self, room: RoomId, user: UserId, seq: Seq) -> Result<()> {
        let sql = "UPDATE room_members SET read_seq = CASE WHEN read_seq < $3 THEN $3 ELSE read_seq END
                   WHERE room_id = $1 AND user_id = $2";
        on_pool!(self, pool => { sqlx::query(sql).bind(room).bind(user).bind(seq).execute(pool).await?; });
        Ok(())
    }

    /// The rooms and direct conversations a person belongs to, most
    /// recently active first, with their unread and mention counts; a
    /// conversation is named after the others in it.
    pub async fn rooms_of(&self, user: UserId, username: &str) -> Result<Vec<MyRoom>> {
        let sql = "SELECT r.id, r.slug, r.name, m.read_seq, r.direct_key IS NOT NULL AS direct,
                       (SELECT COUNT(*) FROM messages x WHERE x.room_id = r.id AND x.seq > m.read_seq
                          AND x.deleted_at IS NULL AND (x.author_id IS NULL OR x.author_id <> $1)) AS unread,
                       (SELECT COUNT(*) FROM messages x WHERE x.room_id = r.id AND x.seq > m.read_seq
                          AND x.deleted_at IS NULL AND lower(' ' || x.mentions || ' ') LIKE $2) AS mentions
                   FROM room_members m JOIN rooms r ON r.id = m.room_id
                   WHERE m.user_id = $1
                   ORDER BY r.last_activity_at DESC, r.id DESC";
        let pattern = format!("% {} %", username.to_ascii_lowercase());
        let mut rooms = on_pool!(self, pool => sqlx::query_as::<_, MyRoom>(sql).bind(user).bind(pattern).fetch_all(pool).await?);
        // A conversation is named after the others in it, as they are named now.
        let direct: Vec<RoomId> = rooms.iter().filter(|room| room.direct).map(|room| room.id).collect();
        if !direct.is_empty() {
            let mut names = self.direct_names(&direct, user).await?;
            for room in rooms.iter_mut().filter(|room| room.direct) {
                if let Some(name) = names.remove(&room.id) {
                    room.name = name;
                }
            }
        }
        Ok(rooms)
    }

    /// A new invitation link for a room (a direct conversation has none:
    /// not found).
    pub async fn create_invite(&self, room: RoomId, by: UserId) -> Result<Invite> {
        let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let now = UnixMillis::now();
        let sql = "INSERT INTO room_invites (token, room_id, created_by, created_at)
                   SELECT $1, id, $3, $4 FROM rooms WHERE id = $2 AND direct_key IS NULL";
        let done = on_pool!(self, pool => sqlx::query(sql).bind(&token).bind(room).bind(by).bind(now).execute(pool).await?.rows_affected());
        if done == 0 {
            return Err(Error::NotFound("room"));
        }
        Ok(Invite { token, room_id: room, created_at: now, revoked_at: None })
    }

    pub async fn revoke_invite(&self, room: RoomId, token: &str) -> Result<()> {
        if !crate::room::is_invite_token(token) {
            return Err(Error::NotFound("invite"));
        }
        let sql = "UPDATE room_invites SET revoked_at = $3 WHERE room_id = $1 AND token = $2 AND revoked_at IS NULL";
        let done = on_pool!(self, pool => sqlx::query(sql).bind(room).bind(token).bind(UnixMillis::now()).execute(pool).await?.rows_affected());
        if done == 0 { Err(Error::NotFound("invite")) } else { Ok(()) }
    }

    /// A room's invitation links, newest first (revoked ones included).
    pub async fn invites(&self, room: RoomId) -> Result<Vec<Invite>> {
        let sql = "SELECT token, room_id, created_at, revoked_at FROM room_invites WHERE room_id = $1 ORDER BY created_at DESC";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Invite>(sql).bind(room).fetch_all(pool).await?))
    }

    /// The room an unrevoked invitation opens.
    pub async fn room_by_invite(&self, token: &str) -> Result<Option<Room>> {
        if !crate::room::is_invite_token(token) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {} FROM rooms WHERE id = (SELECT room_id FROM room_invites WHERE token = $1 AND revoked_at IS NULL)",
            ROOM_COLUMNS
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Room>(&sql).bind(token).fetch_optional(pool).await?))
    }
}
