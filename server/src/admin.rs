//! `tchatche admin …`: account administration from the command line, on the
//! configured database (the server need not be running).

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::Subcommand;
use tchatche_core::{
    Bus, Store,
    access::AccessChange,
    config::Config,
    ids::UserId,
    sessions::Sessions,
    store::{NewUser, Role, User},
    user::{DisplayName, NewPassword, Username},
};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator account. The password is read from standard
    /// input (typed, or piped: `echo "$PASSWORD" | tchatche admin create-admin …`).
    CreateAdmin {
        #[arg(long)]
        username: String,
        /// Shown beside messages (default: the username).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List accounts, optionally those whose username or name contains SEARCH.
    ListUsers {
        search: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Give an account a role: user, moderator or admin (its sessions end).
    SetRole { username: String, role: String },
    /// Disable an account: it cannot sign in, and all its sessions end now.
    Disable { username: String },
    /// Re-enable a disabled account.
    Enable { username: String },
    /// Fill a public, search-engine-visible room with sample messages, for
    /// demonstrations, audits and benchmarks. Creates the account `demo`
    /// (unable to sign in) and the room if they do not exist. Run it while no
    /// server uses the database: message numbers are given here, not by the bus.
    SeedRoom {
        #[arg(long)]
        slug: String,
        #[arg(long, default_value_t = 200)]
        messages: u32,
        /// Spread the messages over this many days, ending now.
        #[arg(long, default_value_t = 1)]
        days: u32,
        /// Then a thread of this many replies (by `demo` and `guest`, so it
        /// is worth indexing), whose address is printed last.
        #[arg(long, default_value_t = 0)]
        thread: u32,
    },
    /// Delete an account (its messages stay, shown as from a deleted account).
    DeleteUser {
        username: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    let admin = Admin::connect(config).await?;
    let result = execute(&admin, command, &mut std::io::stdin().lock()).await;
    admin.close().await;
    result
}

/// What the commands act on: the configured database and session store,
/// and a way to tell running servers that an account's sessions ended.
pub struct Admin {
    pub store: Store,
    pub sessions: Sessions,
    /// With Redis, changes of access reach every server process through it;
    /// without, they are recorded in the database for the server to read.
    pub bus: Option<Bus>,
}

impl Admin {
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url, 2).await.context("opening the database")?;
        let sessions = Sessions::connect(config, &store).await.context("opening the session store")?;
        let bus = match &config.redis_url {
            Some(url) => Some(Bus::connect_redis(url, &config.redis_prefix).await.context("connecting to Redis")?),
            None => None,
        };
        Ok(Self { store, sessions, bus })
    }

    /// Ends every session of the account and closes its sockets, in every
    /// running server.
    async fn end_sessions(&self, user: UserId) -> anyhow::Result<()> {
        self.sessions.end_all(user, None).await?;
        let change = AccessChange::Account(user);
        match &self.bus {
            Some(bus) => bus.announce(change).await?,
            None => self.store.record_access_change(&change).await?,
        }
        Ok(())
    }

    pub async fn close(self) {
        if let Some(bus) = self.bus {
            bus.shutdown().await;
        }
        self.store.close().await;
    }
}

/// Runs one command; `input` gives the password for `create-admin`.
pub async fn execute(admin: &Admin, command: AdminCommand, input: &mut impl BufRead) -> anyhow::Result<()> {
    let store = &admin.store;
    match command {
        AdminCommand::CreateAdmin { username, display_name } => {
            let username = Username::parse(&username).map_err(|e| anyhow::anyhow!("username: {e:?}"))?;
            let display_name = DisplayName::parse(display_name.as_deref().unwrap_or(username.as_str()))
                .map_err(|e| anyhow::anyhow!("display name: {e:?}"))?;
            if std::io::stdin().is_terminal() {
                eprint!("Password for {}: ", username.as_str());
            }
            let mut password = String::new();
            input.read_line(&mut password).context("reading the password")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let password =
                NewPassword::parse(password, username.as_str()).map_err(|e| anyhow::anyhow!("password: {e:?}"))?;
            let new = NewUser {
                username: username.as_str().to_owned(),
                display_name: display_name.as_str().to_owned(),
                password_hash: tchatche_core::password::hash(password.as_str()).await?,
                role: Role::Admin,
            };
            let user = store.create_user(&new).await.map_err(|err| anyhow::anyhow!("cannot create the account: {err}"))?;
            println!("created administrator {} (id {})", user.username, user.id);
        }
        AdminCommand::ListUsers { search, limit } => {
            let users = store.search_users(search.as_deref().unwrap_or(""), limit.clamp(1, 10_000)).await?;
            println!("{:<8} {:<32} {:<10} {:<8} display name", "id", "username", "role", "status");
            for user in users {
                let status = if user.disabled { "disabled" } else { "active" };
                println!("{:<8} {:<32} {:<10} {:<8} {}", user.id, user.username, user.role.as_str(), status, user.display_name);
            }
        }
        AdminCommand::SetRole { username, role } => {
            let role = Role::try_from(role.to_ascii_lowercase()).map_err(|_| anyhow::anyhow!("role: user, moderator or admin"))?;
            let user = find(store, &username).await?;
            store.set_role(user.id, role).await?;
            admin.end_sessions(user.id).await?;
            println!("{} is now {}; its sessions have ended", user.username, role.as_str());
        }
        AdminCommand::Disable { username } => {
            let user = find(store, &username).await?;
            store.set_disabled(user.id, true).await?;
            admin.end_sessions(user.id).await?;
            println!("{} is disabled; its sessions have ended", user.username);
        }
        AdminCommand::Enable { username } => {
            let user = find(store, &username).await?;
            store.set_disabled(user.id, false).await?;
            println!("{} is enabled", user.username);
        }
        AdminCommand::SeedRoom { slug, messages, days, thread } => {
            seed_room(store, &slug, messages.min(100_000), days.clamp(1, 3_650), thread.min(10_000)).await?
        }
        AdminCommand::DeleteUser { username, yes } => {
            let user = find(store, &username).await?;
            if !yes {
                bail!("add --yes to delete {} for good", user.username);
            }
            store.delete_user(user.id).await?;
            admin.end_sessions(user.id).await?;
            println!("{} is deleted", user.username);
        }
    }
    Ok(())
}

/// An account for sample messages: its hash is of nothing anyone knows, so
/// it cannot sign in.
async fn sample_account(store: &Store, username: &str, display_name: &str) -> anyhow::Result<User> {
    if let Some(user) = store.user_by_username(username).await? {
        return Ok(user);
    }
    let secret = uuid::Uuid::new_v4().to_string();
    let new = NewUser {
        username: username.into(),
        display_name: display_name.into(),
        password_hash: tchatche_core::password::hash(&secret).await?,
        role: Role::User,
    };
    Ok(store.create_user(&new).await?)
}

async fn seed_room(store: &Store, slug: &str, count: u32, days: u32, thread_replies: u32) -> anyhow::Result<()> {
    use tchatche_core::{
        event::{Author, MessageView, Quote, Threading},
        ids::{MessageId, Seq, UnixMillis},
        room::is_slug,
        store::{NewRoom, RoomChanges, Visibility},
    };
    if !is_slug(slug) {
        bail!("slug: lowercase letters, digits and dashes, at most 64");
    }
    let demo = sample_account(store, "demo", "Demo").await?;
    let room = match store.room_by_slug(slug).await? {
        Some(room) => room,
        None => {
            let name = format!("Demo {slug}");
            let new = NewRoom {
                slug: slug.to_owned(),
                name,
                description: "Sample conversation for demonstrations and audits.".into(),
                visibility: Visibility::Public,
                owner_id: demo.id,
            };
            store.create_room(&new).await?
        }
    };
    let changes = RoomChanges { name: &room.name, description: &room.description, visibility: Visibility::Public, indexable: true, translate_private: false };
    store.update_room(room.id, &changes).await?;

    let now = UnixMillis::now().0;
    let span = i64::from(days) * 86_400_000 - 60_000;
    let first_seq = store.room_last_seq(room.id).await?.0 + 1;
    let message = |seq: i64, author: &User, body: String, created_at: i64| {
        let (html, mentions) = tchatche_core::message::render(&body, &[]);
        MessageView {
            id: MessageId(uuid::Uuid::now_v7()),
            room_id: room.id,
            seq: Seq(seq),
            version: Seq(seq),
            author: Some(Author::from(author)),
            body,
            html,
            mentions,
            created_at: UnixMillis(created_at),
            edited_at: None,
            deleted: false,
            lang: None,
            translation: None,
            threading: Threading::default(),
            reactions: Default::default(),
        }
    };
    let messages: Vec<MessageView> = (0..i64::from(count))
        .map(|i| {
            let body = format!("Message **{}** of the sample: the quick brown fox jumps over the lazy dog.", i + 1);
            message(first_seq + i, &demo, body, now - span + span * i / i64::from(count.max(1)))
        })
        .collect();
    for batch in messages.chunks(1_000) {
        store.upsert_messages(batch).await?;
    }
    println!("/r/{slug}");
    if thread_replies == 0 {
        return Ok(());
    }

    let guest = sample_account(store, "guest", "Guest").await?;
    let first_seq = first_seq + i64::from(count);
    let question = "How does the sample thread work? It shows a question and its answers, one page per conversation.";
    let root = message(first_seq, &demo, question.into(), now - 60_000);
    let quote = Quote::of_message(&root);
    let replies = (1..=i64::from(thread_replies)).map(|i| {
        let by = if i % 2 == 1 { &guest } else { &demo };
        let body = format!("Answer **{i}** of the sample thread: the quick brown fox jumps over the lazy dog.");
        let mut reply = message(first_seq + i, by, body, now - 60_000 + i);
        reply.threading = Threading { reply_to: Some(quote.clone()), root: Some(root.id), replies: None };
        reply
    });
    let thread: Vec<MessageView> = std::iter::once(root.clone()).chain(replies).collect();
    for batch in thread.chunks(1_000) {
        store.upsert_messages(batch).await?;
    }
    println!("/r/{slug}/t/{}", root.id);
    Ok(())
}

async fn find(store: &Store, username: &str) -> anyhow::Result<User> {
    store.user_by_username(username).await?.with_context(|| format!("no account named {username:?}"))
}
