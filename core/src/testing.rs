//! Test support shared by every crate's integration tests: each test gets
//! its own storage and bus, on the embedded backend (a fresh SQLite file and
//! the in-process bus) or the scaled one (a fresh PostgreSQL database and a
//! fresh Redis key prefix). Nothing is mocked.
//!
//! The scaled backend expects PostgreSQL and Redis at the addresses below
//! (or `TEST_POSTGRES_URL` / `TEST_REDIS_URL`) and panics, naming them, when
//! they are unreachable: a test suite that silently skips them proves nothing.

use std::path::PathBuf;

use crate::{
    bus::Bus,
    config::{Config, DatabaseUrl},
    event::{Author, MessageView},
    ids::{MessageId, Seq, UnixMillis},
    store::{NewRoom, NewUser, Role, Room, Store, User, Visibility},
};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Which deployment a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file + in-process bus.
    Embedded,
    /// PostgreSQL + Redis.
    Scaled,
}

/// Storage and bus for one test, removed when dropped.
pub struct TestEnv {
    pub backend: Backend,
    pub store: Store,
    pub bus: Bus,
    /// The variables a server or worker process needs to use the same
    /// storage and bus (for tests that start real processes).
    pub vars: Vec<(String, String)>,
    _cleanup: Cleanup,
}

enum Cleanup {
    Embedded(#[allow(dead_code)] tempfile::TempDir),
    Scaled { database: String, redis_prefix: String },
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
}

fn unique_name() -> String {
    format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..16])
}

impl TestEnv {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Embedded => Self::embedded().await,
            Backend::Scaled => Self::scaled().await,
        }
    }

    pub async fn embedded() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path: PathBuf = dir.path().join("tchatche.db");
        let store = Store::connect(&DatabaseUrl::Sqlite(path.clone()), 5).await.expect("SQLite store");
        let vars = vec![("DATABASE_URL".to_owned(), format!("sqlite://{}", path.display()))];
        Self { backend: Backend::Embedded, store, bus: Bus::in_process(), vars, _cleanup: Cleanup::Embedded(dir) }
    }

    pub async fn scaled() -> Self {
        let admin_url = postgres_admin_url();
        let database = unique_name();
        let admin = sqlx::PgPool::connect(&admin_url).await.unwrap_or_else(|err| {
            panic!("PostgreSQL at {admin_url} is unreachable ({err}); the scaled-backend tests need it (see TOOLCHAIN.md to start it)")
        });
        sqlx::query(&format!("CREATE DATABASE {database}")).execute(&admin).await.expect("create test database");
        admin.close().await;

        let mut url = url::Url::parse(&admin_url).expect("TEST_POSTGRES_URL is a URL");
        url.set_path(&database);
        let store = Store::connect(&DatabaseUrl::Postgres(url.clone()), 5).await.expect("PostgreSQL store");

        let redis = redis_url();
        let redis_prefix = unique_name();
        let bus = Bus::connect_redis(&url::Url::parse(&redis).expect("TEST_REDIS_URL is a URL"), &redis_prefix)
            .await
            .unwrap_or_else(|err| panic!("Redis at {redis} is unreachable ({err}); the scaled-backend tests need it"));
        let vars = vec![
            ("DATABASE_URL".to_owned(), url.to_string()),
            ("REDIS_URL".to_owned(), redis),
            ("REDIS_PREFIX".to_owned(), redis_prefix.clone()),
        ];
        Self { backend: Backend::Scaled, store, bus, vars, _cleanup: Cleanup::Scaled { database, redis_prefix } }
    }

    /// A configuration pointing at this environment's storage and bus.
    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let mut vars: Vec<(String, String)> = self.vars.clone();
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Config::from_lookup(|name| vars.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .expect("test configuration")
    }

    /// A rate limiter on this environment's backend (Redis in scaled mode,
    /// under the same prefix, so it is cleaned up with the rest).
    pub async fn limiter(&self) -> crate::limits::Limiter {
        match &self._cleanup {
            Cleanup::Embedded(_) => crate::limits::Limiter::in_process(),
            Cleanup::Scaled { redis_prefix, .. } => {
                let url = url::Url::parse(&redis_url()).expect("Redis URL");
                crate::limits::Limiter::connect_redis(&url, redis_prefix).await.expect("Redis limiter")
            }
        }
    }

    /// The session store this environment's server uses (the database, or
    /// Redis under the environment's prefix).
    pub async fn sessions(&self) -> crate::sessions::Sessions {
        crate::sessions::Sessions::connect(&self.config(&[]), &self.store).await.expect("session store")
    }

    /// Scaled mode: switches the test database to read-only (or back), as a
    /// failover to a replica does, and drops its open connections so the
    /// store's pool reconnects under the new setting.
    pub async fn set_database_read_only(&self, read_only: bool) {
        let Cleanup::Scaled { database, .. } = &self._cleanup else { panic!("only PostgreSQL can be switched to read-only") };
        let admin = sqlx::PgPool::connect(&postgres_admin_url()).await.expect("PostgreSQL");
        let setting = if read_only { "on" } else { "off" };
        sqlx::query(&format!("ALTER DATABASE {database} SET default_transaction_read_only = {setting}"))
            .execute(&admin)
            .await
            .expect("switch the database");
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
            .bind(database)
            .execute(&admin)
            .await
            .expect("drop the database's connections");
        admin.close().await;
    }

    /// Scaled mode: runs a Lua script on Redis, with `keys` under this
    /// environment's prefix (`queue` → `P:queue`), as an operator or a
    /// failure would act behind the application's back.
    pub async fn redis_eval(&self, script: &str, keys: &[&str]) -> i64 {
        use fred::prelude::*;
        let Cleanup::Scaled { redis_prefix, .. } = &self._cleanup else { panic!("only the scaled backend has Redis") };
        let client = Builder::from_config(Config::from_url(&redis_url()).expect("Redis URL")).build().expect("Redis client");
        client.init().await.expect("Redis");
        let keys: Vec<String> = keys.iter().map(|key| format!("{redis_prefix}:{key}")).collect();
        let result = client.eval(script, keys, Vec::<String>::new()).await.expect("Redis script");
        let _ = client.quit().await;
        result
    }

    /// A second bus on the same transport, as another server process has.
    pub async fn another_bus(&self) -> Bus {
        match &self._cleanup {
            Cleanup::Embedded(_) => panic!("the in-process bus cannot be shared between processes"),
            Cleanup::Scaled { redis_prefix, .. } => {
                Bus::connect_redis(&url::Url::parse(&redis_url()).expect("Redis URL"), redis_prefix).await.expect("Redis bus")
            }
        }
    }

    /// An account with a throwaway password hash.
    pub async fn user(&self, username: &str) -> User {
        let new = NewUser {
            username: username.to_owned(),
            display_name: username.to_uppercase(),
            password_hash: "$argon2id$test".to_owned(),
            role: Role::User,
        };
        self.store.create_user(&new).await.expect("create user")
    }

    /// A public room owned by `owner`.
    pub async fn room(&self, slug: &str, owner: &User) -> Room {
        let new = NewRoom {
            slug: slug.to_owned(),
            name: slug.to_owned(),
            description: String::new(),
            visibility: Visibility::Public,
            owner_id: owner.id,
        };
        self.store.create_room(&new).await.expect("create room")
    }
}

/// `message` as stored at `seq` (its first version), for tests that write
/// to the store directly, without the bus.
pub fn stamped(mut message: MessageView, seq: i64) -> MessageView {
    message.seq = Seq(seq);
    message.version = Seq(seq);
    message
}

/// A message as a client would post it (seq and version are given by the bus).
pub fn draft(room: &Room, author: &User, body: &str) -> MessageView {
    MessageView {
        id: MessageId(uuid::Uuid::now_v7()),
        room_id: room.id,
        seq: Seq(0),
        version: Seq(0),
        author: Some(Author::from(author)),
        body: body.to_owned(),
        html: format!("<p>{body}</p>"),
        mentions: Vec::new(),
        created_at: UnixMillis::now(),
        edited_at: None,
        deleted: false,
        lang: None,
        translation: None,
        threading: Default::default(),
        reactions: Default::default(),
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Self::Scaled { database, redis_prefix } = self else { return };
        let (database, redis_prefix) = (database.clone(), redis_prefix.clone());
        // Drop runs outside async context: clean up on a thread of its own.
        let cleaned = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                if let Ok(admin) = sqlx::PgPool::connect(&postgres_admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).execute(&admin).await;
                    admin.close().await;
                }
                delete_redis_prefix(&redis_prefix).await;
            });
        });
        let _ = cleaned.join();
    }
}

async fn delete_redis_prefix(prefix: &str) {
    use fred::prelude::*;
    let Ok(config) = Config::from_url(&redis_url()) else { return };
    let Ok(client) = Builder::from_config(config).build() else { return };
    if client.init().await.is_err() {
        return;
    }
    let script = "local n = 0
        for _, key in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', key); n = n + 1 end
        return n";
    let _: Result<i64, _> = client.eval(script, Vec::<String>::new(), vec![format!("{prefix}:*")]).await;
    let _ = client.quit().await;
}

/// Defines each test once and runs it against both backends, as
/// `embedded::name` and `scaled::name`.
#[macro_export]
macro_rules! backend_tests {
    ($($(#[$meta:meta])* async fn $name:ident($env:ident: $env_type:ty) $body:block)*) => {
        $( $(#[$meta])* async fn $name($env: $env_type) $body )*

        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::TestEnv::new($crate::testing::Backend::Embedded).await).await
                }
            )*
        }

        mod scaled {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::TestEnv::new($crate::testing::Backend::Scaled).await).await
                }
            )*
        }
    };
}
