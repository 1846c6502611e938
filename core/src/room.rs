//! Rooms: what browsers and the server share about them.

use serde::{Deserialize, Serialize};

use crate::{
    ids::{RoomId, Seq, UnixMillis},
    input::{InputError, check_len},
};

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


/// How the public directory is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DirectorySort {
    /// Most recently active first.
    #[default]
    Activity,
    /// Alphabetical.
    Name,
}

impl DirectorySort {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activity => "activity",
            Self::Name => "name",
        }
    }
}

/// What the directory shows (`/?q=…&sort=…&page=…`), parsed from the
/// query string: a search in room names, an order, and a page number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryQuery {
    /// Lowercase words to find in room names; empty: every public room.
    pub search: String,
    pub sort: DirectorySort,
    /// From 1.
    pub page: u32,
}

/// Every public room, most recently active first, first page.
impl Default for DirectoryQuery {
    fn default() -> Self {
        Self { search: String::new(), sort: DirectorySort::Activity, page: 1 }
    }
}

impl DirectoryQuery {
    pub const PAGE_SIZE: u32 = 24;
    pub const MAX_SEARCH: u32 = 64;
    /// Far past any real directory; keeps offsets (and their cost) bounded.
    pub const MAX_PAGE: u32 = 1_000;

    /// Parses the three query parameters; the error names the parameter
    /// at fault. Absent or empty parameters take their defaults.
    pub fn parse(search: Option<&str>, sort: Option<&str>, page: Option<&str>) -> Result<Self, (&'static str, InputError)> {
        let search: String = search
            .unwrap_or_default()
            .chars()
            .filter(|c| !(c.is_control() || crate::user::is_bidi_control(*c)))
            .collect::<String>()
            .trim()
            .to_lowercase();
        check_len(&search, 0, Self::MAX_SEARCH).map_err(|err| ("q", err))?;
        let sort = match sort.unwrap_or_default() {
            "" | "activity" => DirectorySort::Activity,
            "name" => DirectorySort::Name,
            _ => return Err(("sort", InputError::Malformed)),
        };
        let page = match page.unwrap_or_default() {
            "" => 1,
            raw => match raw.parse::<u32>() {
                Ok(page @ 1..=Self::MAX_PAGE) => page,
                _ => return Err(("page", InputError::Malformed)),
            },
        };
        Ok(Self { search, sort, page })
    }

    /// The query string of this search and order at `page` (`?q=…&page=2`),
    /// leaving out defaults; `encode` percent-encodes a value.
    pub fn query_string(&self, page: u32, encode: impl Fn(&str) -> String) -> String {
        let mut parts = Vec::new();
        if !self.search.is_empty() {
            parts.push(format!("q={}", encode(&self.search)));
        }
        if self.sort != DirectorySort::Activity {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
    }
}

/// One page of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DirectoryPage {
    pub rooms: Vec<RoomSummary>,
    pub has_next: bool,
}

/// A room in someone's list, with what they have not read yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct MyRoom {
    pub id: RoomId,
    pub slug: String,
    pub name: String,
    pub read_seq: Seq,
    /// A direct conversation (named after its people), not a room.
    pub direct: bool,
    /// Messages by others after the read position.
    pub unread: i64,
    /// Of those, the ones mentioning this person.
    pub mentions: i64,
}

/// A room's name: 1–64 characters once trimmed, with the characters of
/// [`crate::user::check_name_characters`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomName(String);

impl RoomName {
    pub const MAX: u32 = 64;

    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let name = raw.trim();
        check_len(name, 1, Self::MAX)?;
        crate::user::check_name_characters(name)?;
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

/// The bar a page of conversation must meet for search engines to be asked
/// to index it: thin pages (a greeting, a lone question) are `noindex,
/// follow` and stay out of the sitemap, so that a site's indexed pages are
/// the ones worth finding. Deleted messages do not count.
pub struct IndexQuality;

impl IndexQuality {
    pub const MIN_MESSAGES: i64 = 3;
    pub const MIN_AUTHORS: i64 = 2;
    /// Characters of message text, all messages together.
    pub const MIN_CHARS: i64 = 300;
}

/// Whether a path segment can be a room slug (to refuse anything else early).
pub fn is_slug(value: &str) -> bool {
    (1..=64).contains(&value.len()) && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Whether text can be an invitation token: 64 lowercase hex digits, as
/// `Store::create_invite` draws them (to refuse anything else early).
pub fn is_invite_token(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
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
        assert_eq!(RoomName::parse("\u{200B}\u{200B}"), Err(InputError::InvalidCharacters), "zero-width spaces");
        assert_eq!(RoomName::parse("\u{3164}"), Err(InputError::Required), "a filler that shows nothing");
        assert_eq!(RoomDescription::parse(" line\none ").unwrap().as_str(), "line one");
        assert_eq!(RoomDescription::parse("").unwrap().as_str(), "");
        assert_eq!(RoomDescription::parse(&"d".repeat(281)), Err(InputError::TooLong { max: 280 }));
        assert_eq!(Visibility::parse("secret"), Err(InputError::Malformed));
    }

    #[test]
    fn directory_queries() {
        let all = DirectoryQuery::parse(None, None, None).unwrap();
        assert_eq!(all, DirectoryQuery { search: String::new(), sort: DirectorySort::Activity, page: 1 });
        let query = DirectoryQuery::parse(Some("  Rust\u{0007} FR "), Some("name"), Some("3")).unwrap();
        assert_eq!((query.search.as_str(), query.sort, query.page), ("rust fr", DirectorySort::Name, 3));
        assert_eq!(query.query_string(2, |v| v.replace(' ', "+")), "?q=rust+fr&sort=name&page=2");
        assert_eq!(all.query_string(1, str::to_owned), "");
        assert_eq!(DirectoryQuery::parse(Some(&"x".repeat(65)), None, None), Err(("q", InputError::TooLong { max: 64 })));
        assert_eq!(DirectoryQuery::parse(None, Some("size"), None), Err(("sort", InputError::Malformed)));
        for page in ["0", "-1", "1001", "two", "1e3"] {
            assert_eq!(DirectoryQuery::parse(None, None, Some(page)), Err(("page", InputError::Malformed)), "{page}");
        }
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
