//! Who of a room's members is online: one entry per open connection, so a
//! person with two tabs stays online until both close. In Redis the
//! entries expire unless refreshed, so a crashed process' connections
//! disappear on their own.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::Duration,
};

use fred::prelude::*;

use crate::{Result, event::Author, ids::{RoomId, UnixMillis}};

/// A connection's presence lasts this long without a refresh (Redis).
pub const PRESENCE_TTL: Duration = Duration::from_secs(60);

#[derive(Default)]
pub(crate) struct LocalPresence {
    rooms: Mutex<HashMap<RoomId, HashMap<String, Author>>>,
}

impl LocalPresence {
    pub(crate) fn set(&self, room: RoomId, connection: &str, who: &Author, here: bool) -> Vec<Author> {
        let mut rooms = self.rooms.lock().expect("presence lock poisoned");
        let entries = rooms.entry(room).or_default();
        if here {
            entries.insert(connection.to_owned(), who.clone());
        } else {
            entries.remove(connection);
        }
        let online = distinct(entries.values().cloned());
        if entries.is_empty() {
            rooms.remove(&room);
        }
        online
    }

    pub(crate) fn online(&self, room: RoomId) -> Vec<Author> {
        let rooms = self.rooms.lock().expect("presence lock poisoned");
        rooms.get(&room).map(|entries| distinct(entries.values().cloned())).unwrap_or_default()
    }
}

/// One entry per person, by display name.
pub(crate) fn distinct(authors: impl Iterator<Item = Author>) -> Vec<Author> {
    let mut people: Vec<Author> = Vec::new();
    for author in authors {
        if !people.iter().any(|p| p.id == author.id) {
            people.push(author);
        }
    }
    people.sort_by(|a, b| a.display_name.to_lowercase().cmp(&b.display_name.to_lowercase()).then(a.id.cmp(&b.id)));
    people
}

pub(crate) fn key(prefix: &str, room: RoomId) -> String {
    format!("{prefix}:room:{room}:online")
}

fn member(connection: &str, who: &Author) -> Result<String> {
    Ok(format!("{connection}|{}", serde_json::to_string(who)?))
}

pub(crate) async fn redis_set(pool: &Pool, prefix: &str, room: RoomId, connection: &str, who: &Author, here: bool) -> Result<Vec<Author>> {
    let key = key(prefix, room);
    let member = member(connection, who)?;
    if here {
        let expires = UnixMillis::now().0 + PRESENCE_TTL.as_millis() as i64;
        let _: i64 = pool.zadd(&key, None, None, false, false, (expires as f64, member)).await?;
        let _: i64 = pool.pexpire(&key, PRESENCE_TTL.as_millis() as i64 * 2, None).await?;
    } else {
        let _: i64 = pool.zrem(&key, member).await?;
    }
    redis_online(pool, prefix, room).await
}

pub(crate) async fn redis_online(pool: &Pool, prefix: &str, room: RoomId) -> Result<Vec<Author>> {
    let key = key(prefix, room);
    let now = UnixMillis::now().0 as f64;
    let _: i64 = pool.zremrangebyscore(&key, f64::NEG_INFINITY, now).await?;
    let members: Vec<String> = pool.zrange(&key, 0, -1, None, false, None, false).await?;
    Ok(distinct(members.iter().filter_map(|m| m.split_once('|')).filter_map(|(_, json)| serde_json::from_str(json).ok())))
}
