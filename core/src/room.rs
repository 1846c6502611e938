//! Rooms: what browsers and the server share about them.

use serde::{Deserialize, Serialize};

use crate::ids::UnixMillis;

/// Who can see a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Listed in the directory, readable by anyone, joinable by anyone signed in.
    Public,
    /// Reached only through an invite link; invisible to everyone else.
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

impl TryFrom<String> for Visibility {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        match value.as_str() {
            "public" => Ok(Self::Public),
            "private" => Ok(Self::Private),
            _ => Err(format!("unknown visibility {value:?}")),
        }
    }
}

/// A row of the public directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct RoomSummary {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub member_count: i64,
    pub last_activity_at: UnixMillis,
}

