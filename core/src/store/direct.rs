//! Direct conversations and the block list (see `crate::direct`).

use std::collections::HashMap;

use super::{
    Room, Store,
    messages::{id_list, push_ids},
    on_pool,
    rooms::ROOM_COLUMNS,
    users::SELECT_USERS,
};
use crate::{
    Error, Result,
    ids::{RoomId, UnixMillis, UserId},
    store::User,
};

/// A room's `direct_key`: its people's ids, sorted, joined by commas.
fn direct_key(people: &[UserId]) -> String {
    let mut ids: Vec<i64> = people.iter().map(|id| id.0).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

impl Store {
    /// The direct conversation of exactly `people`: the one they already
    /// have (with anyone who left it back in), or a new one named `name`.
    /// Its slug is random, so that it tells nothing of who talks.
    pub async fn open_direct(&self, people: &[UserId], name: &str) -> Result<Room> {
        let key = direct_key(people);
        let name: String = if name.chars().count() > 64 { name.chars().take(63).chain(['…']).collect() } else { name.to_owned() };
        let slug = format!("dm-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let now = UnixMillis::now();
        // A write first: it takes SQLite's write lock at once (a read first
        // could not be upgraded while another start writes), and makes a
        // second start of the same conversation in PostgreSQL wait for the
        // first one's commit, then find its room.
        let create = "INSERT INTO rooms (slug, name, description, visibility, owner_id, last_activity_at, created_at, direct_key)
                      VALUES ($1, $2, '', 'private', NULL, $3, $3, $4)
                      ON CONFLICT (direct_key) WHERE direct_key IS NOT NULL DO NOTHING";
        let find = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE direct_key = $1");
        let join = "INSERT INTO room_members (room_id, user_id, read_seq, joined_at) VALUES ($1, $2, 0, $3)
                    ON CONFLICT (room_id, user_id) DO NOTHING";
        let room = super::in_transaction!(self, tx => {
            sqlx::query(create).bind(&slug).bind(&name).bind(now).bind(&key).execute(&mut *tx).await?;
            let room = sqlx::query_as::<_, Room>(&find).bind(&key).fetch_one(&mut *tx).await?;
            for person in people {
                sqlx::query(join).bind(room.id).bind(*person).bind(now).execute(&mut *tx).await?;
            }
            room
        });
        Ok(room)
    }

    /// Whether `person` shares at least one room (direct ones included)
    /// with every one of `others`.
    pub async fn shares_rooms_with(&self, person: UserId, others: &[UserId]) -> Result<bool> {
        let wanted: Vec<UserId> = others.iter().copied().filter(|other| *other != person).collect();
        if wanted.is_empty() {
            return Ok(true);
        }
        let found: i64 = on_pool!(self, pool => {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT COUNT(DISTINCT theirs.user_id) FROM room_members mine
                 JOIN room_members theirs ON theirs.room_id = mine.room_id WHERE mine.user_id = ",
            );
            query.push_bind(person).push(" AND theirs.user_id IN (");
            push_ids(&mut query, &wanted);
            query.build_query_scalar().fetch_one(pool).await?
        });
        Ok(found == wanted.len() as i64)
    }

    /// Whether anyone of `people` blocked anyone else of them.
    pub async fn any_block_among(&self, people: &[UserId]) -> Result<bool> {
        let count: i64 = on_pool!(self, pool => {
            let mut query = id_list("SELECT COUNT(*) FROM blocks WHERE blocker_id IN (", people);
            query.push(" AND blocked_id IN (");
            push_ids(&mut query, people);
            query.build_query_scalar().fetch_one(pool).await?
        });
        Ok(count > 0)
    }

    /// Whether a member of direct room `room` has a block with another of
    /// its members, either way (then neither may write in it).
    pub async fn blocked_in_room(&self, room: RoomId, person: UserId) -> Result<bool> {
        let sql = "SELECT COUNT(*) FROM room_members m JOIN blocks b
                     ON (b.blocker_id = $2 AND b.blocked_id = m.user_id) OR (b.blocked_id = $2 AND b.blocker_id = m.user_id)
                   WHERE m.room_id = $1";
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(sql).bind(room).bind(person).fetch_one(pool).await?);
        Ok(count > 0)
    }

    /// `blocker` blocks `blocked` (again: nothing changes). Returns the
    /// direct rooms they share, whose access just changed.
    pub async fn block(&self, blocker: UserId, blocked: UserId) -> Result<Vec<RoomId>> {
        if blocker == blocked {
            return Err(Error::input("username", crate::input::InputError::Unreachable));
        }
        let sql = "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3)
                   ON CONFLICT (blocker_id, blocked_id) DO NOTHING";
        on_pool!(self, pool => { sqlx::query(sql).bind(blocker).bind(blocked).bind(UnixMillis::now()).execute(pool).await?; });
        self.shared_direct_rooms(blocker, blocked).await
    }

    /// Lifts a block (none: nothing changes); returns the direct rooms the
    /// two share, as [`Self::block`].
    pub async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<Vec<RoomId>> {
        let sql = "DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2";
        on_pool!(self, pool => { sqlx::query(sql).bind(blocker).bind(blocked).execute(pool).await?; });
        self.shared_direct_rooms(blocker, blocked).await
    }

    /// The people `user` blocked, by username.
    pub async fn blocked_by(&self, user: UserId) -> Result<Vec<User>> {
        let sql = format!("{SELECT_USERS} JOIN blocks b ON b.blocked_id = u.id WHERE b.blocker_id = $1 ORDER BY lower(u.username)");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(user).fetch_all(pool).await?))
    }

    /// Whether `blocker` blocked `blocked`.
    pub async fn has_blocked(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        let sql = "SELECT COUNT(*) FROM blocks WHERE blocker_id = $1 AND blocked_id = $2";
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(sql).bind(blocker).bind(blocked).fetch_one(pool).await?);
        Ok(count > 0)
    }

    /// People `user` may start a conversation with (sharing a room, no
    /// block either way), by username, at most `limit`: the picker's list.
    pub async fn contacts(&self, user: UserId, limit: i64) -> Result<Vec<User>> {
        let sql = format!(
            "{SELECT_USERS} WHERE u.id <> $1 AND NOT u.disabled
               AND u.id IN (SELECT theirs.user_id FROM room_members mine
                            JOIN room_members theirs ON theirs.room_id = mine.room_id WHERE mine.user_id = $1)
               AND u.id NOT IN (SELECT blocked_id FROM blocks WHERE blocker_id = $1)
               AND u.id NOT IN (SELECT blocker_id FROM blocks WHERE blocked_id = $1)
             ORDER BY lower(u.username) LIMIT $2"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(user).bind(limit).fetch_all(pool).await?))
    }

    /// Each of `rooms` (direct conversations) named for `viewer`: the
    /// display names of its other people as they are now, by name. A
    /// conversation everyone else left is absent (it keeps its stored name).
    pub async fn direct_names(&self, rooms: &[RoomId], viewer: UserId) -> Result<HashMap<RoomId, String>> {
        let mut names: HashMap<RoomId, Vec<String>> = HashMap::new();
        for chunk in rooms.chunks(super::messages::ROWS_PER_STATEMENT) {
            let rows: Vec<(RoomId, String)> = on_pool!(self, pool => {
                let mut query = id_list(
                    "SELECT m.room_id, u.display_name FROM room_members m JOIN users u ON u.id = m.user_id WHERE m.room_id IN (",
                    chunk,
                );
                query.push(" AND m.user_id <> ").push_bind(viewer).push(" ORDER BY lower(u.display_name), u.id");
                query.build_query_as().fetch_all(pool).await?
            });
            for (room, name) in rows {
                names.entry(room).or_default().push(name);
            }
        }
        Ok(names.into_iter().map(|(room, people)| (room, people.join(", "))).collect())
    }

    async fn shared_direct_rooms(&self, a: UserId, b: UserId) -> Result<Vec<RoomId>> {
        let sql = "SELECT r.id FROM rooms r
                   JOIN room_members ma ON ma.room_id = r.id AND ma.user_id = $1
                   JOIN room_members mb ON mb.room_id = r.id AND mb.user_id = $2
                   WHERE r.direct_key IS NOT NULL";
        Ok(on_pool!(self, pool => sqlx::query_scalar(sql).bind(a).bind(b).fetch_all(pool).await?))
    }
}
