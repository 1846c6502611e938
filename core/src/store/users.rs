//! Accounts.

use sqlx::FromRow;

use super::{Store, on_pool};
pub use crate::user::Role;
use crate::{
    Error, Result,
    ids::{UnixMillis, UserId},
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
}

/// A validated sign-up, with the password already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
}

const USER_COLUMNS: &str = "id, username, display_name, role, created_at";

impl Store {
    /// Creates an account; a username taken in any letter case is refused.
    pub async fn create_user(&self, new: &NewUser) -> Result<User> {
        let sql = format!(
            "INSERT INTO users (username, display_name, password_hash, role, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLUMNS}"
        );
        let result = on_pool!(self, pool => sqlx::query_as::<_, User>(&sql)
            .bind(&new.username)
            .bind(&new.display_name)
            .bind(&new.password_hash)
            .bind(new.role.as_str())
            .bind(UnixMillis::now())
            .fetch_one(pool)
            .await);
        result.map_err(|err| match Error::from(err) {
            err if err.is_unique_violation() => Error::input("username", InputError::Taken),
            err => err,
        })
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(id).fetch_optional(pool).await?))
    }
}
