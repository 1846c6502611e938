//! Rooms: what browsers and the server share about them.

use serde::{Deserialize, Serialize};

use crate::ids::{RoomId, Seq, UnixMillis};

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


/// A room in someone's list, with what they have not read yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct MyRoom {
    pub id: RoomId,
    pub slug: String,
    pub name: String,
    pub read_seq: Seq,
    /// Messages by others after the read position.
    pub unread: i64,
    /// Of those, the ones mentioning this person.
    pub mentions: i64,
}

use crate::input::{InputError, check_len};

/// A room's name: 1–64 characters once trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomName(String);

impl RoomName {
    pub const MAX: u32 = 64;

    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let name = raw.trim();
        check_len(name, 1, Self::MAX)?;
        if name.chars().any(|c| c.is_control() || crate::user::is_bidi_control(c)) {
            return Err(InputError::InvalidCharacters);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room's description: at most 280 characters once trimmed; line breaks
/// become spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomDescription(String);

impl RoomDescription {
    pub const MAX: u32 = 280;

    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let text: String = raw
            .chars()
            .map(|c| if c == '\n' || c == '\r' || c == '\t' { ' ' } else { c })
            .filter(|c| !(c.is_control() || crate::user::is_bidi_control(*c)))
            .collect();
        let text = text.trim();
        check_len(text, 0, Self::MAX)?;
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Visibility {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        Self::try_from(raw.to_owned()).map_err(|_| InputError::Malformed)
    }
}

/// A room's address from its name: lowercase ASCII letters and digits
/// separated by single dashes, at most 48 characters ("Café Crème" →
/// "cafe-creme"); "room" when nothing is left.
#[cfg(feature = "server")]
pub fn slugify(name: &str) -> String {
    let ascii = deunicode::deunicode(name).to_ascii_lowercase();
    let mut slug = String::new();
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 48 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() { "room".to_owned() } else { slug.to_owned() }
}

/// Whether a path segment can be a room slug (to refuse anything else early).
pub fn is_slug(value: &str) -> bool {
    (1..=64).contains(&value.len()) && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_descriptions() {
        assert_eq!(RoomName::parse("  Rust FR ").unwrap().as_str(), "Rust FR");
        assert_eq!(RoomName::parse("  "), Err(InputError::Required));
        assert_eq!(RoomName::parse(&"x".repeat(65)), Err(InputError::TooLong { max: 64 }));
        assert_eq!(RoomName::parse("a\u{0000}b"), Err(InputError::InvalidCharacters));
        assert_eq!(RoomDescription::parse(" line\none ").unwrap().as_str(), "line one");
        assert_eq!(RoomDescription::parse("").unwrap().as_str(), "");
        assert_eq!(RoomDescription::parse(&"d".repeat(281)), Err(InputError::TooLong { max: 280 }));
        assert_eq!(Visibility::parse("secret"), Err(InputError::Malformed));
    }

    #[cfg(feature = "server")]
    #[test]
    fn slugs() {
        assert_eq!(slugify("Café Crème"), "cafe-creme");
        assert_eq!(slugify("  Rust -- FR!! "), "rust-fr");
        assert_eq!(slugify("🦀🦀"), "crab-crab");
        assert_eq!(slugify("!!!"), "room");
        assert!(slugify(&"long name ".repeat(20)).len() <= 48);
        assert!(is_slug(&slugify("Ünïcödé ROOM 2026")));
        assert!(!is_slug("Bad/Slug") && !is_slug(""));
    }
}
