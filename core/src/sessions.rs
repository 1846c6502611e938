//! Signed-in sessions: what one holds, the rules that keep it valid, and
//! where the records are kept.
//!
//! tower-sessions reads the cookie and keeps the session's data; this module
//! stores its records: in the database (table `sessions`), or in Redis
//! under `REDIS_PREFIX` (`P:session:{id}`, and `P:user:{id}:sessions` naming
//! an account's sessions). Either way, an account's sessions are found, and
//! ended, at once.
//!
//! A session names its account by id *and* by the account's session key, a
//! random value the account draws again when its sessions must end
//! (password change, disabling, role change). Ids are never reused either,
//! but the key alone already makes a session worthless for any other
//! account, or for the same account after such a change.

use async_trait::async_trait;
use fred::prelude::*;
use serde::{Deserialize, Serialize};
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

use crate::{
    Result,
    config::Config,
    ids::{UnixMillis, UserId},
    store::{Store, StoredSession, User},
};

/// The key under which a session holds [`SignedIn`].
pub const SIGNED_IN: &str = "signed_in";

const HOUR_MS: i64 = 3_600_000;
/// Idle time after which a session ends: with "keep me signed in", and without.
pub const IDLE_PERSISTENT_MS: i64 = 14 * 24 * HOUR_MS;
pub const IDLE_BROWSER_MS: i64 = 12 * HOUR_MS;
/// A session ends this long after signing in, however active.
pub const ABSOLUTE_MS: i64 = 60 * 24 * HOUR_MS;
/// How often the last-seen time is written (each write is a store write).
const TOUCH_EVERY_MS: i64 = HOUR_MS;

/// What a signed-in session holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub user: UserId,
    /// The account's session key when this session started.
    pub key: String,
    pub since: UnixMillis,
    pub seen: UnixMillis,
    /// "Keep me signed in": a long idle time and a cookie that outlives the browser.
    pub persistent: bool,
}

impl SignedIn {
    pub fn new(user: &User, persistent: bool) -> Self {
        let now = UnixMillis::now();
        Self { user: user.id, key: user.session_key.clone(), since: now, seen: now, persistent }
    }

    /// The rule of a valid session: it holds this very account (same id and
    /// session key), which is not disabled, and it is neither idle too long
    /// nor too old.
    pub fn holds(&self, user: &User, now: UnixMillis) -> bool {
        let idle = if self.persistent { IDLE_PERSISTENT_MS } else { IDLE_BROWSER_MS };
        user.id == self.user
            && user.session_key == self.key
            && !user.disabled
            && now.0 - self.since.0 <= ABSOLUTE_MS
            && now.0 - self.seen.0 <= idle
    }

    /// The account this session holds, if it still holds it.
    pub async fn account(&self, store: &Store) -> Result<Option<User>> {
        let user = store.user_by_id(self.user).await?;
        Ok(user.filter(|user| self.holds(user, UnixMillis::now())))
    }

    /// Whether the last-seen time is old enough to be written again.
    pub fn needs_touch(&self, now: UnixMillis) -> bool {
        now.0 - self.seen.0 > TOUCH_EVERY_MS
    }

    fn of_record(record: &Record) -> Option<Self> {
        serde_json::from_value(record.data.get(SIGNED_IN)?.clone()).ok()
    }
}

/// Where session records are kept. Cheap to clone.
#[derive(Clone)]
pub enum Sessions {
    Database(Store),
    Redis { pool: Pool, prefix: String },
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Database(_) => "Sessions::Database",
            Self::Redis { .. } => "Sessions::Redis",
        })
    }
}

/// Writes a record. KEYS: the record, the account's index (absent for a
/// session without account). ARGV: the record, its expiry (Unix seconds),
/// the session id, 'NX' to create only. Returns 0 when 'NX' found the id taken.
const PUT_LUA: &str = r#"
local set = {'SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2]}
if ARGV[4] == 'NX' then table.insert(set, 'NX') end
if not redis.call(unpack(set)) then return 0 end
if KEYS[2] then
  redis.call('SADD', KEYS[2], ARGV[3])
  if redis.call('EXPIRETIME', KEYS[2]) < tonumber(ARGV[2]) then redis.call('EXPIREAT', KEYS[2], ARGV[2]) end
end
return 1
"#;

/// Deletes an account's sessions but one. KEYS: the account's index.
/// ARGV: the prefix of record keys, the id to keep (or '').
const END_ALL_LUA: &str = r#"
local ended = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if id ~= ARGV[2] then
    ended = ended + redis.call('DEL', ARGV[1] .. id)
    redis.call('SREM', KEYS[1], id)
  end
end
return ended
"#;

impl Sessions {
    /// Redis when configured (a pool of its own), else the database.
    pub async fn connect(config: &Config, store: &Store) -> Result<Self> {
        Ok(match &config.redis_url {
            Some(url) => Self::Redis { pool: crate::redis::pool(url, 2).await?, prefix: config.redis_prefix.clone() },
            None => Self::Database(store.clone()),
        })
    }

    /// The account a session holds, read afresh from the store (the socket
    /// checks its session again whenever the account changes).
    pub async fn account(&self, id: &Id, store: &Store) -> Result<Option<User>> {
        let Some(record) = self.read(id).await? else { return Ok(None) };
        match SignedIn::of_record(&record) {
            Some(signed_in) => signed_in.account(store).await,
            None => Ok(None),
        }
    }

    /// Ends every session of an account but `keep`, at once; returns how many.
    pub async fn end_all(&self, user: UserId, keep: Option<&Id>) -> Result<u64> {
        let keep = keep.map(Id::to_string);
        match self {
            Self::Database(store) => store.delete_sessions_of(user, keep.as_deref()).await,
            Self::Redis { pool, prefix } => {
                let args = vec![format!("{prefix}:session:"), keep.unwrap_or_default()];
                Ok(pool.next().eval(END_ALL_LUA, vec![account_index(prefix, user)], args).await?)
            }
        }
    }

    /// Deletes expired records (Redis expires them by itself).
    pub async fn delete_expired(&self) -> Result<u64> {
        match self {
            Self::Database(store) => store.delete_expired_sessions().await,
            Self::Redis { .. } => Ok(0),
        }
    }

    /// Deletes expired records every hour, forever.
    pub async fn delete_expired_forever(self) {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(err) = self.delete_expired().await {
                tracing::warn!(%err, "deleting expired sessions failed");
            }
        }
    }

    async fn read(&self, id: &Id) -> Result<Option<Record>> {
        let stored = match self {
            Self::Database(store) => store.session(&id.to_string()).await?,
            Self::Redis { pool, prefix } => {
                let json: Option<String> = pool.get(record_key(prefix, id)).await?;
                json.map(|json| serde_json::from_str::<RedisRecord>(&json)).transpose()?.map(|record| StoredSession {
                    data: record.data,
                    expires_at: record.expires_at,
                })
            }
        };
        let Some(stored) = stored else { return Ok(None) };
        let expiry_date = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(stored.expires_at.0) * 1_000_000)
            .map_err(|err| crate::Error::NotStored(format!("session expiry out of range: {err}")))?;
        Ok(Some(Record { id: *id, data: serde_json::from_str(&stored.data)?, expiry_date }))
    }

    /// Writes a record; with `only_new`, returns false when its id is taken.
    async fn write(&self, record: &Record, only_new: bool) -> Result<bool> {
        let user = SignedIn::of_record(record).map(|signed_in| signed_in.user);
        let expires_at = UnixMillis((record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64);
        let data = serde_json::to_string(&record.data)?;
        match self {
            Self::Database(store) => {
                let session = StoredSession { data, expires_at };
                if store.put_session(&record.id.to_string(), user, &session, only_new).await? {
                    return Ok(true);
                }
                // Not written: its id is taken, or its account is gone (then
                // nothing is to be stored, and nothing must be retried).
                Ok(!(only_new && store.session_exists(&record.id.to_string()).await?))
            }
            Self::Redis { pool, prefix } => {
                let json = serde_json::to_string(&RedisRecord { data, expires_at })?;
                let mut keys = vec![record_key(prefix, &record.id)];
                keys.extend(user.map(|user| account_index(prefix, user)));
                let expiry_secs = record.expiry_date.unix_timestamp().max(UnixMillis::now().0 / 1000 + 1);
                let args = vec![json, expiry_secs.to_string(), record.id.to_string(), if only_new { "NX" } else { "" }.to_owned()];
                let written: i64 = pool.next().eval(PUT_LUA, keys, args).await?;
                Ok(written == 1)
            }
        }
    }
}

#[derive(Serialize, Deserialize)]
struct RedisRecord {
    data: String,
    expires_at: UnixMillis,
}

fn record_key(prefix: &str, id: &Id) -> String {
    format!("{prefix}:session:{id}")
}

fn account_index(prefix: &str, user: UserId) -> String {
    format!("{prefix}:user:{user}:sessions")
}

fn backend(err: crate::Error) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits: a collision is only theoretical, but a
        // session must never land on another's record.
        while !self.write(record, true).await.map_err(backend)? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record, false).await.map(|_| ()).map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.read(id).await.map_err(backend)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Database(store) => store.delete_session(&id.to_string()).await.map_err(backend),
            Self::Redis { pool, prefix } => {
                let _: i64 = pool.del(record_key(prefix, id)).await.map_err(|err| backend(err.into()))?;
                Ok(())
            }
        }
    }
}
