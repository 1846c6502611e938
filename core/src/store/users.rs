//! Accounts, their avatars and the browsers they sign in on.

use std::collections::BTreeSet;

use sqlx::FromRow;

pub use crate::user::Role;
use super::{Store, in_transaction, messages::refresh_quality, on_pool};
use crate::{
    Error, Result,
    ids::{MessageId, RoomId, UnixMillis, UserId, UtcDay},
    input::InputError,
};

#[derive(Debug, Clone, FromRow)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub created_at: UnixMillis,
    /// Random, drawn again when every session of the account must end
    /// (password change, disabling, role change): a session holds the key
    /// it started under (`sessions::SignedIn`).
    pub session_key: String,
    pub disabled: bool,
    /// Preferred UI language and theme, if chosen.
    pub locale: Option<String>,
    pub theme: Option<String>,
    /// The avatar's ETag, when one was uploaded (versions its URL).
    pub avatar_version: Option<String>,
    /// How they read messages in other languages.
    #[sqlx(try_from = "String")]
    pub translate_mode: crate::languages::TranslateMode,
    /// Languages they read without translation (ISO 639-1, space-separated).
    pub known_languages: String,
    /// Keeps their messages off search engines (see
    /// `MessageView::conceal_from_search`).
    pub hidden_from_search: bool,
}

/// A validated sign-up, with the password already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
}

/// An uploaded avatar, as stored.
#[derive(Debug, Clone, FromRow)]
pub struct Avatar {
    pub image: Vec<u8>,
    pub etag: String,
}

pub(super) const SELECT_USERS: &str = "SELECT u.id, u.username, u.display_name, u.role, u.created_at, u.session_key, u.disabled,
            u.locale, u.theme, a.etag AS avatar_version, u.translate_mode, u.known_languages, u.hidden_from_search
     FROM users u LEFT JOIN avatars a ON a.user_id = u.id";

fn taken_username(err: sqlx::Error) -> Error {
    match Error::from(err) {
        err if err.is_unique_violation() => Error::input("username", InputError::Taken),
        err => err,
    }
}

impl Store {
    /// Creates an account; a username taken in any letter case is refused.
    pub async fn create_user(&self, new: &NewUser) -> Result<User> {
        let insert = "INSERT INTO users (username, display_name, password_hash, role, created_at)
                      VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let id: UserId = on_pool!(self, pool => sqlx::query_scalar(insert)
            .bind(&new.username)
            .bind(&new.display_name)
            .bind(&new.password_hash)
            .bind(new.role.as_str())
            .bind(UnixMillis::now())
            .fetch_one(pool)
            .await
            .map_err(taken_username)?);
        self.user_by_id(id).await?.ok_or(Error::NotFound("user"))
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("{SELECT_USERS} WHERE u.id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// Finds an account by username, whatever its letter case. A name no
    /// account can have (a NUL byte, which PostgreSQL refuses in text, or
    /// anything else `Username` refuses) finds none without a query.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        if crate::user::Username::parse(username).is_err() {
            return Ok(None);
        }
        let sql = format!("{SELECT_USERS} WHERE lower(u.username) = lower($1)");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(username).fetch_optional(pool).await?))
    }

    /// The account and its password hash, for signing in.
    pub async fn credentials(&self, username: &str) -> Result<Option<(User, String)>> {
        let Some(user) = self.user_by_username(username).await? else { return Ok(None) };
        let sql = "SELECT password_hash FROM users WHERE id = $1";
        let hash: Option<String> =
            on_pool!(self, pool => sqlx::query_scalar(sql).bind(user.id).fetch_optional(pool).await?);
        Ok(hash.map(|hash| (user, hash)))
    }

    /// Replaces the hash of the same password (new parameters).
    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<()> {
        self.update_user(id, "UPDATE users SET password_hash = $2 WHERE id = $1", hash).await
    }

    /// Sets a new password and a new session key, which ends every session
    /// of the account; returns the new key (for the session that made the
    /// change, which stays).
    pub async fn change_password(&self, id: UserId, hash: &str) -> Result<String> {
        let key = new_session_key();
        let sql = "UPDATE users SET password_hash = $2, session_key = $3 WHERE id = $1";
        let done = on_pool!(self, pool => sqlx::query(sql).bind(id).bind(hash).bind(&key).execute(pool).await?.rows_affected());
        if done == 0 { Err(Error::NotFound("user")) } else { Ok(key) }
    }

    pub async fn set_display_name(&self, id: UserId, name: &str) -> Result<()> {
        self.update_user(id, "UPDATE users SET display_name = $2 WHERE id = $1", name).await
    }

    /// How someone wants messages in other languages, and into which
    /// language (their interface language, kept as their locale).
    pub async fn set_translation_preferences(
        &self,
        id: UserId,
        locale: &str,
        mode: crate::languages::TranslateMode,
        known: &[&str],
    ) -> Result<()> {
        let sql = "UPDATE users SET locale = $2, translate_mode = $3, known_languages = $4 WHERE id = $1";
        let known = known.join(" ");
        let done = on_pool!(self, pool => sqlx::query(sql).bind(id).bind(locale).bind(mode.as_str()).bind(&known).execute(pool).await?.rows_affected());
        if done == 0 { Err(Error::NotFound("user")) } else { Ok(()) }
    }

    pub async fn set_preferences(&self, id: UserId, locale: Option<&str>, theme: Option<&str>) -> Result<()> {
        let sql = "UPDATE users SET locale = $2, theme = $3 WHERE id = $1";
        let done = on_pool!(self, pool => sqlx::query(sql).bind(id).bind(locale).bind(theme).execute(pool).await?.rows_affected());
        if done == 0 { Err(Error::NotFound("user")) } else { Ok(()) }
    }

    /// Keeps an account's messages off search engines, or lets them back:
    /// every page reads the setting with the messages, old ones included.
    /// The days and threads they wrote in are measured against the quality
    /// bar again, as search engines now read them.
    pub async fn set_hidden_from_search(&self, id: UserId, hidden: bool) -> Result<()> {
        in_transaction!(self, tx => {
            let done = sqlx::query("UPDATE users SET hidden_from_search = $2 WHERE id = $1")
                .bind(id)
                .bind(hidden)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done == 0 {
                return Err(Error::NotFound("user"));
            }
            let written: Vec<(RoomId, UnixMillis)> =
                sqlx::query_as("SELECT DISTINCT room_id, created_at FROM messages WHERE author_id = $1").bind(id).fetch_all(&mut *tx).await?;
            let days: BTreeSet<(RoomId, UtcDay)> = written.into_iter().map(|(room, at)| (room, UtcDay::of(at))).collect();
            let roots: Vec<MessageId> = sqlx::query_scalar(
                "SELECT thread_id FROM messages WHERE author_id = $1 AND thread_id IS NOT NULL
                 UNION
                 SELECT m.id FROM messages m WHERE m.author_id = $1 AND EXISTS (SELECT 1 FROM messages r WHERE r.thread_id = m.id)",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            refresh_quality!(tx, days.into_iter().map(|key| (key, true)), roots);
        });
        Ok(())
    }

    /// Gives an account a role; its sessions end (they were started with
    /// other rights).
    pub async fn set_role(&self, id: UserId, role: Role) -> Result<()> {
        let sql = "UPDATE users SET role = $2, session_key = $3 WHERE id = $1";
        let done = on_pool!(self, pool => sqlx::query(sql).bind(id).bind(role.as_str()).bind(new_session_key()).execute(pool).await?.rows_affected());
        if done == 0 { Err(Error::NotFound("user")) } else { Ok(()) }
    }

    /// Disables or re-enables an account; either way its sessions end.
    pub async fn set_disabled(&self, id: UserId, disabled: bool) -> Result<()> {
        let sql = "UPDATE users SET disabled = $2, session_key = $3 WHERE id = $1";
        let done = on_pool!(self, pool => sqlx::query(sql).bind(id).bind(disabled).bind(new_session_key()).execute(pool).await?.rows_affected());
        if done == 0 { Err(Error::NotFound("user")) } else { Ok(()) }
    }

    /// Deletes an account. Its messages stay, unattributed (author NULL);
    /// its avatar, memberships, remembered devices and database sessions go
    /// with it.
    pub async fn delete_user(&self, id: UserId) -> Result<()> {
        let done = on_pool!(self, pool => sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(pool).await?.rows_affected());
        if done == 0 { Err(Error::NotFound("user")) } else { Ok(()) }
    }

    /// Accounts whose username or display name contains `search`, by username.
    pub async fn search_users(&self, search: &str, limit: i64) -> Result<Vec<User>> {
        let sql = format!(
            "{SELECT_USERS} WHERE lower(u.username) LIKE $1 ESCAPE '\\' OR lower(u.display_name) LIKE $1 ESCAPE '\\'
             ORDER BY lower(u.username) LIMIT $2"
        );
        let pattern = format!("%{}%", like_escape(&search.to_lowercase()));
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(pattern).bind(limit).fetch_all(pool).await?))
    }

    async fn update_user(&self, id: UserId, sql: &str, value: &str) -> Result<()> {
        let done = on_pool!(self, pool => sqlx::query(sql).bind(id).bind(value).execute(pool).await?.rows_affected());
        if done == 0 { Err(Error::NotFound("user")) } else { Ok(()) }
    }

    /// Stores an avatar (already re-encoded); its ETag is derived from the bytes.
    pub async fn set_avatar(&self, id: UserId, image: &[u8]) -> Result<()> {
        let etag = format!("\"{:016x}\"", fnv1a(image));
        let sql = "INSERT INTO avatars (user_id, image, etag, updated_at) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (user_id) DO UPDATE SET image = excluded.image, etag = excluded.etag,
                   updated_at = excluded.updated_at";
        on_pool!(self, pool => { sqlx::query(sql).bind(id).bind(image).bind(&etag).bind(UnixMillis::now()).execute(pool).await?; });
        Ok(())
    }

    pub async fn avatar(&self, username: &str) -> Result<Option<Avatar>> {
        if crate::user::Username::parse(username).is_err() {
            return Ok(None);
        }
        let sql = "SELECT a.image, a.etag FROM avatars a JOIN users u ON u.id = a.user_id WHERE lower(u.username) = lower($1)";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Avatar>(sql).bind(username).fetch_optional(pool).await?))
    }

    /// Remembers that the account signed in on the browser holding `token`.
    pub async fn remember_device(&self, id: UserId, token: &str) -> Result<()> {
        let now = UnixMillis::now();
        let sql = "INSERT INTO known_devices (user_id, token, created_at, last_used_at) VALUES ($1, $2, $3, $3)
                   ON CONFLICT (user_id, token) DO UPDATE SET last_used_at = excluded.last_used_at";
        on_pool!(self, pool => { sqlx::query(sql).bind(id).bind(token).bind(now).execute(pool).await?; });
        Ok(())
    }

    pub async fn is_known_device(&self, id: UserId, token: &str) -> Result<bool> {
        let sql = "SELECT COUNT(*) FROM known_devices WHERE user_id = $1 AND token = $2";
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(sql).bind(id).bind(token).fetch_one(pool).await?);
        Ok(count > 0)
    }
}

/// A fresh session key: 128 random bits, in hex.
fn new_session_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// FNV-1a: a stable fingerprint (ETags), the same in every process.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

impl Store {
    /// The accounts among `candidates` (up to 20), as their usernames are spelled.
    pub async fn existing_usernames(&self, candidates: &[String]) -> Result<Vec<String>> {
        let mut found = Vec::new();
        for name in candidates.iter().take(20) {
            if let Some(user) = self.user_by_username(name).await? {
                found.push(user.username);
            }
        }
        Ok(found)
    }
}
