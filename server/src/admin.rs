//! `tchatche admin …`: account administration from the command line, on the
//! configured database (the server need not be running).

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::Subcommand;
use tchatche_core::{
    Store,
    config::Config,
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
    /// Give an account a role: user, moderator or admin.
    SetRole { username: String, role: String },
    /// Disable an account: it cannot sign in, and all its sessions end now.
    Disable { username: String },
    /// Re-enable a disabled account.
    Enable { username: String },
    /// Delete an account (its messages stay, shown as from a deleted account).
    DeleteUser {
        username: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    let store = Store::connect(&config.database_url, 2).await.context("opening the database")?;
    let result = execute(&store, command, &mut std::io::stdin().lock()).await;
    store.close().await;
    result
}

/// Runs one command; `input` gives the password for `create-admin`.
pub async fn execute(store: &Store, command: AdminCommand, input: &mut impl BufRead) -> anyhow::Result<()> {
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
            println!("{} is now {}", user.username, role.as_str());
        }
        AdminCommand::Disable { username } => {
            let user = find(store, &username).await?;
            store.set_disabled(user.id, true).await?;
            println!("{} is disabled; its sessions have ended", user.username);
        }
        AdminCommand::Enable { username } => {
            let user = find(store, &username).await?;
            store.set_disabled(user.id, false).await?;
            println!("{} is enabled", user.username);
        }
        AdminCommand::DeleteUser { username, yes } => {
            let user = find(store, &username).await?;
            if !yes {
                bail!("add --yes to delete {} for good", user.username);
            }
            store.delete_user(user.id).await?;
            println!("{} is deleted", user.username);
        }
    }
    Ok(())
}

async fn find(store: &Store, username: &str) -> anyhow::Result<User> {
    store.user_by_username(username).await?.with_context(|| format!("no account named {username:?}"))
}
