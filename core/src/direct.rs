//! Direct conversations: one person writing to one other, or to a small
//! group, privately. Each is a private room (same pipeline, socket and
//! access rule as any private room) that cannot be made public, has no
//! owner, settings or invitations, and whose people are fixed when it
//! starts: starting one with the same people again opens the same room.
//!
//! Who may start one: people who share a room (a direct conversation
//! counts), and between whom nobody blocked anybody.

use crate::{
    input::{InputError, check_len},
    user::Username,
};

/// Whom a conversation is started with, from the text a person typed:
/// usernames separated by spaces or commas, an `@` before each allowed;
/// the person themselves and repeated names are left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participants(Vec<Username>);

impl Participants {
    /// People besides the one who starts it (8 in all, as Slack's group DMs).
    pub const MAX_OTHERS: u32 = 7;
    /// Room for `MAX_OTHERS` of the longest usernames, with `@` and spaces.
    pub const MAX_INPUT: u32 = 400;

    /// The others named in `raw` by `starter`. A text that cannot be a
    /// username is nobody's (`NoSuchPerson`), as is an unknown one later.
    pub fn parse(raw: &str, starter: &str) -> Result<Self, InputError> {
        check_len(raw, 0, Self::MAX_INPUT)?;
        let mut others: Vec<Username> = Vec::new();
        for name in raw.split(|c: char| c == ',' || c.is_whitespace()).filter(|name| !name.is_empty()) {
            let name = Username::parse(name.strip_prefix('@').unwrap_or(name)).map_err(|_| InputError::NoSuchPerson)?;
            let seen = |other: &str| other.eq_ignore_ascii_case(name.as_str());
            if !seen(starter) && !others.iter().any(|other| seen(other.as_str())) {
                others.push(name);
            }
        }
        if others.is_empty() {
            return Err(InputError::Required);
        }
        if others.len() > Self::MAX_OTHERS as usize {
            return Err(InputError::TooManyPeople { max: Self::MAX_OTHERS });
        }
        Ok(Self(others))
    }

    pub fn usernames(&self) -> &[Username] {
        &self.0
    }
}

#[cfg(feature = "server")]
pub use server::start;

#[cfg(feature = "server")]
mod server {
    use super::Participants;
    use crate::{
        Error, Result,
        input::InputError,
        store::{Room, Store, User},
    };

    /// Opens the conversation of `starter` with `others` (the room it
    /// already has, or a new one), if each of them exists and may be
    /// written to; else an input error on the field `with`.
    pub async fn start(store: &Store, starter: &User, others: &Participants) -> Result<Room> {
        let mut people = vec![starter.clone()];
        for username in others.usernames() {
            match store.user_by_username(username.as_str()).await? {
                Some(user) if !user.disabled => people.push(user),
                _ => return Err(Error::input("with", InputError::NoSuchPerson)),
            }
        }
        let ids: Vec<_> = people.iter().map(|person| person.id).collect();
        // The same answer for "no room in common" and "blocked", so that
        // nobody learns they were blocked.
        if !store.shares_rooms_with(starter.id, &ids[1..]).await? || store.any_block_among(&ids).await? {
            return Err(Error::input("with", InputError::Unreachable));
        }
        let names: Vec<&str> = people.iter().map(|person| person.display_name.as_str()).collect();
        store.open_direct(&ids, &names.join(", ")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(raw: &str) -> Result<Vec<String>, InputError> {
        Participants::parse(raw, "ana").map(|p| p.usernames().iter().map(|u| u.as_str().to_owned()).collect())
    }

    #[test]
    fn participants_are_read_from_what_people_type() {
        assert_eq!(names("bob").unwrap(), ["bob"]);
        assert_eq!(names(" @bob, carla  dan,,").unwrap(), ["bob", "carla", "dan"]);
        assert_eq!(names("Bob bob @BOB").unwrap(), ["Bob"], "one person once");
        assert_eq!(names("ana ANA bob").unwrap(), ["bob"], "not oneself");
    }

    #[test]
    fn bad_lists_are_refused() {
        assert_eq!(names(""), Err(InputError::Required));
        assert_eq!(names(" , @ana "), Err(InputError::Required), "only oneself");
        assert_eq!(names("bob c@rla"), Err(InputError::NoSuchPerson));
        assert_eq!(names("@"), Err(InputError::NoSuchPerson));
        assert_eq!(names("bob\u{0}dan"), Err(InputError::NoSuchPerson));
        assert_eq!(names("bob u1"), Err(InputError::NoSuchPerson), "too short to be anyone's");
        assert_eq!(names("us1 us2 us3 us4 us5 us6 us7").unwrap().len(), 7);
        assert_eq!(names("us1 us2 us3 us4 us5 us6 us7 us8"), Err(InputError::TooManyPeople { max: 7 }));
        assert_eq!(names(&"b".repeat(401)), Err(InputError::TooLong { max: 400 }));
    }
}
