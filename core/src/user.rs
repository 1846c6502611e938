//! Accounts: what browsers and the server share about them.

use serde::{Deserialize, Serialize};

/// What a person may do beyond talking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Moderator => "moderator",
            Self::Admin => "admin",
        }
    }
}

impl TryFrom<String> for Role {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        match value.as_str() {
            "user" => Ok(Self::User),
            "moderator" => Ok(Self::Moderator),
            "admin" => Ok(Self::Admin),
            _ => Err(format!("unknown role {value:?}")),
        }
    }
}


use crate::input::{InputError, check_len};

/// A login name: 3–32 ASCII letters, digits, `_` or `-`, unique whatever its
/// case. ASCII only, so two different accounts can never look alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    pub const MIN: u32 = 3;
    pub const MAX: u32 = 32;

    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let raw = raw.trim();
        check_len(raw, Self::MIN, Self::MAX)?;
        if raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InputError::InvalidCharacters)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name shown beside messages: 1–48 characters once trimmed, without
/// control characters or the invisible marks that reorder text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MIN: u32 = 1;
    pub const MAX: u32 = 48;

    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let name = raw.trim();
        check_len(name, Self::MIN, Self::MAX)?;
        check_name_characters(name)?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The characters of a name (a person's or a room's): none that control
/// or reorder text, no zero-width space, word joiner or byte-order mark
/// (nothing written needs them in a name), and at least one character
/// that shows. Zero-width joiners stay: emoji sequences and several
/// scripts need them between visible characters.
pub fn check_name_characters(name: &str) -> Result<(), InputError> {
    let hidden = |c: char| matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{3164}');
    if name.chars().any(|c| c.is_control() || is_bidi_control(c) || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')) {
        return Err(InputError::InvalidCharacters);
    }
    if name.chars().all(|c| c.is_whitespace() || hidden(c)) {
        return Err(InputError::Required);
    }
    Ok(())
}

/// Characters that reorder text invisibly (used to disguise names).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A new password: 8–128 characters, no composition rules, not the username.
/// The server also refuses passwords from the list of common ones.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

impl NewPassword {
    pub const MIN: u32 = 8;
    pub const MAX: u32 = 128;

    pub fn parse(raw: &str, username: &str) -> Result<Self, InputError> {
        check_len(raw, Self::MIN, Self::MAX)?;
        if raw.eq_ignore_ascii_case(username.trim()) {
            return Err(InputError::SameAsUsername);
        }
        #[cfg(feature = "server")]
        if is_common_password(raw) {
            return Err(InputError::CommonPassword);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a password is in the list shipped in `core/data` (compared
/// without case: "Password1" is as weak as "password1").
#[cfg(feature = "server")]
pub fn is_common_password(password: &str) -> bool {
    use std::{collections::HashSet, sync::LazyLock};
    static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
        include_str!("../data/common-passwords.txt").lines().filter(|line| !line.starts_with('#')).collect()
    });
    COMMON.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse("  alice_2-b ").unwrap().as_str(), "alice_2-b");
        assert_eq!(Username::parse("ab"), Err(InputError::TooShort { min: 3 }));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(InputError::TooLong { max: 32 }));
        assert_eq!(Username::parse("al ice"), Err(InputError::InvalidCharacters));
        assert_eq!(Username::parse("élodie"), Err(InputError::InvalidCharacters));
        assert_eq!(Username::parse("0ne"), Ok(Username("0ne".into())), "digits, 0 included, are letters here");
        assert_eq!(Username::parse("   "), Err(InputError::Required));
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse("  Élodie Dupont ").unwrap().as_str(), "Élodie Dupont");
        assert_eq!(DisplayName::parse(" "), Err(InputError::Required));
        assert_eq!(DisplayName::parse(&"é".repeat(49)), Err(InputError::TooLong { max: 48 }));
        assert_eq!(DisplayName::parse("bad\u{0007}bell"), Err(InputError::InvalidCharacters));
        assert_eq!(DisplayName::parse("evil\u{202E}gnp.exe"), Err(InputError::InvalidCharacters));
        for invisible in ["\u{200B}", "a\u{FEFF}", "\u{2060}b"] {
            assert_eq!(DisplayName::parse(invisible), Err(InputError::InvalidCharacters), "{invisible:?}");
        }
        for blank in ["\u{200C}\u{200D}", "\u{3164}", " \u{00AD} "] {
            assert_eq!(DisplayName::parse(blank), Err(InputError::Required), "{blank:?}");
        }
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(DisplayName::parse(family).unwrap().as_str(), family, "joiners between visible characters stay");
    }

    #[test]
    fn passwords() {
        assert!(NewPassword::parse("correct horse battery", "alice").is_ok());
        assert_eq!(NewPassword::parse("short", "alice"), Err(InputError::TooShort { min: 8 }));
        assert_eq!(NewPassword::parse(&"x".repeat(129), "alice"), Err(InputError::TooLong { max: 128 }));
        assert_eq!(NewPassword::parse("Alice_Smith", "alice_smith"), Err(InputError::SameAsUsername));
        assert!(!format!("{:?}", NewPassword::parse("correct horse battery", "a").unwrap()).contains("horse"));
    }

    #[cfg(feature = "server")]
    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert_eq!(NewPassword::parse("password", "alice"), Err(InputError::CommonPassword));
        assert_eq!(NewPassword::parse("Sunshine", "alice"), Err(InputError::CommonPassword));
        assert_eq!(NewPassword::parse("1qaz2wsx", "alice"), Err(InputError::CommonPassword));
        assert!(!is_common_password("tchatche-is-a-nice-chat"));
    }
}
