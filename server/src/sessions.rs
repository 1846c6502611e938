//! The session layer (tower-sessions): sessions live in the database in
//! embedded mode and in Redis in scaled mode, so any server process can
//! serve any request.

use async_trait::async_trait;
use tchatche_core::{Store, config::Config};
use tower_sessions::{
    SessionManagerLayer,
    cookie::SameSite,
    session::{Id, Record},
    session_store::{self, ExpiredDeletion, SessionStore},
};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// Where sessions are kept.
#[derive(Debug, Clone)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
    Redis(RedisStore<fred::prelude::Pool>),
}

macro_rules! each {
    ($sessions:expr, $store:ident => $body:expr) => {
        match $sessions {
            Sessions::Sqlite($store) => $body,
            Sessions::Postgres($store) => $body,
            Sessions::Redis($store) => $body,
        }
    };
}

impl Sessions {
    /// Redis when configured (a pool of its own), else the database.
    pub async fn connect(config: &Config, store: &Store) -> anyhow::Result<Self> {
        if let Some(url) = &config.redis_url {
            use fred::prelude::*;
            let pool = Builder::from_config(fred::prelude::Config::from_url(url.as_str())?)
                .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
                .build_pool(2)?;
            pool.init().await?;
            return Ok(Self::Redis(RedisStore::new(pool)));
        }
        Ok(match store {
            Store::Sqlite(pool) => {
                let sessions = SqliteStore::new(pool.clone());
                sessions.migrate().await?;
                Self::Sqlite(sessions)
            }
            Store::Postgres(pool) => {
                let sessions = PostgresStore::new(pool.clone());
                sessions.migrate().await?;
                Self::Postgres(sessions)
            }
        })
    }

    /// The layer: an `HttpOnly`, `SameSite=Lax` cookie, `Secure` and
    /// `__Host-` prefixed when the public URL is https. Expiry is chosen per
    /// session at sign-in ("keep me signed in").
    pub fn layer(self, config: &Config) -> SessionManagerLayer<Self> {
        let name = if config.is_https() { "__Host-tchatche" } else { "tchatche" };
        SessionManagerLayer::new(self)
            .with_name(name)
            .with_secure(config.is_https())
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_path("/")
    }

    /// Deletes expired sessions from the database every hour (Redis expires
    /// them by itself).
    pub async fn delete_expired_forever(self) {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(err) = self.delete_expired().await {
                tracing::warn!(%err, "deleting expired sessions failed");
            }
        }
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        each!(self, store => store.create(record).await)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        each!(self, store => store.save(record).await)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        each!(self, store => store.load(id).await)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        each!(self, store => store.delete(id).await)
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Self::Sqlite(store) => store.delete_expired().await,
            Self::Postgres(store) => store.delete_expired().await,
            Self::Redis(_) => Ok(()),
        }
    }
}
