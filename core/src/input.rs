//! The vocabulary of input errors. Validation lives beside each type (parse,
//! don't validate); what goes wrong is described with these codes, which the
//! app turns into a translated sentence next to the right field.

use serde::{Deserialize, Serialize};

/// Why one input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputError {
    Required,
    TooShort { min: u32 },
    TooLong { max: u32 },
    /// A character outside what the field allows.
    InvalidCharacters,
    /// Unique field already used (usernames, room slugs).
    Taken,
    /// A password from the shipped list of common passwords.
    CommonPassword,
    /// A password equal to the username.
    SameAsUsername,
    /// Something that must parse (a date, an id, a URL) did not.
    Malformed,
    /// Sign-in: this username and password do not match an account (the
    /// same answer whether or not the account exists).
    BadCredentials,
    /// The current password given to confirm a change is wrong.
    WrongPassword,
    /// Sign-in: the account was disabled by an administrator.
    AccountDisabled,
    /// What the input points at is no longer there (a deleted message
    /// being answered).
    Gone,
    /// Too many in a short time (messages): wait this long.
    TooFast { retry_after_secs: u64 },
    /// A reaction that is not one emoji.
    NotAnEmoji,
    /// Past how many there may be (different reactions on a message).
    TooMany { max: u32 },
    /// No account has this username (or it was disabled).
    NoSuchPerson,
    /// A direct conversation with someone the person shares no room with,
    /// or with a block between them (one answer for both).
    Unreachable,
    /// More people than a direct conversation holds besides its starter.
    TooManyPeople { max: u32 },
}

/// Counts characters as people do (Unicode scalar values), not bytes.
pub fn char_len(text: &str) -> u32 {
    text.chars().count().min(u32::MAX as usize) as u32
}

/// Checks a length in characters against inclusive bounds.
pub fn check_len(text: &str, min: u32, max: u32) -> Result<(), InputError> {
    let len = char_len(text);
    if len == 0 && min > 0 {
        Err(InputError::Required)
    } else if len < min {
        Err(InputError::TooShort { min })
    } else if len > max {
        Err(InputError::TooLong { max })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert_eq!(char_len("héé"), 3);
        assert_eq!(check_len("", 1, 3), Err(InputError::Required));
        assert_eq!(check_len("ab", 3, 5), Err(InputError::TooShort { min: 3 }));
        assert_eq!(check_len("ééé", 1, 3), Ok(()));
        assert_eq!(check_len("éééé", 1, 3), Err(InputError::TooLong { max: 3 }));
    }
}
