//! Rooms and the public directory.

use sqlx::FromRow;

use super::{Store, on_pool};
pub use crate::room::{RoomSummary, Visibility};
use crate::{
    Error, Result,
    ids::{RoomId, Seq, UnixMillis, UserId},
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

const ROOM_COLUMNS: &str =
    "id, slug, name, description, visibility, indexable, owner_id, last_seq, last_activity_at, created_at";

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

    pub async fn room_by_slug(&self, slug: &str) -> Result<Option<Room>> {
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE slug = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Room>(&sql).bind(slug).fetch_optional(pool).await?))
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

    /// Public rooms, most recently active first.
    pub async fn public_rooms(&self, limit: i64, offset: i64) -> Result<Vec<RoomSummary>> {
        let sql = "SELECT r.slug, r.name, r.description, r.last_activity_at,
                          (SELECT COUNT(*) FROM room_members m WHERE m.room_id = r.id) AS member_count
                   FROM rooms r
                   WHERE r.visibility = 'public'
                   ORDER BY r.last_activity_at DESC, r.id DESC
                   LIMIT $1 OFFSET $2";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, RoomSummary>(sql).bind(limit).bind(offset).fetch_all(pool).await?))
    }
}
