//! Reactions: people mark a message with an emoji. One per message, person
//! and emoji (reacting twice is reacting once); a message carries at most
//! [`MAX_KINDS`] different emoji.
//!
//! A message's reactions change apart from its versions: each change takes
//! the room's next *reaction seq*, so a page knows how far its reactions
//! go, a live event carries the whole new state of one message's reactions
//! (applied only when newer than what is shown), and a reconnecting socket
//! is sent every message whose reactions changed after what it heard.

use serde::{Deserialize, Serialize};

use crate::{event::Author, ids::Seq};

/// What every message offers at one click; any other single emoji can be
/// typed.
pub const QUICK: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "🙏"];

/// Different emoji one message may carry (a spam wave of every emoji is
/// not a conversation).
pub const MAX_KINDS: u32 = 20;

/// People named per emoji (the rest are counted).
pub const NAMED: usize = 20;

/// A message's reactions as of its reaction seq `seq`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reactions {
    /// The room's reaction seq of the last change (0: never reacted to).
    pub seq: Seq,
    /// One entry per emoji, in the order of the earliest reaction with it
    /// still there.
    pub counts: Vec<ReactionCount>,
}

impl Reactions {
    pub fn is_empty(&self) -> bool {
        self.seq == Seq::default() && self.counts.is_empty()
    }
}

/// One emoji on one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: u32,
    /// The first [`NAMED`] people who reacted with it, earliest first.
    pub by: Vec<Author>,
}

impl ReactionCount {
    /// Whether `username` is among the people named.
    pub fn includes(&self, username: &str) -> bool {
        self.by.iter().any(|author| author.username == username)
    }
}

/// One emoji, as a reaction: anything the Unicode emoji list (v17) holds,
/// skin tones, flags and sequences included, in its fully qualified form
/// (so "❤" and "❤️" are one reaction). Checked on the server only: the
/// browser offers the quick set and sends anything typed for the server
/// to judge.
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoji(&'static str);

#[cfg(feature = "server")]
impl Emoji {
    pub fn parse(raw: &str) -> Result<Self, crate::input::InputError> {
        use crate::input::InputError;
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(InputError::Required);
        }
        // The longest emoji (a tag sequence) is 28 bytes.
        if raw.len() > 32 {
            return Err(InputError::NotAnEmoji);
        }
        // Typed without the emoji presentation selector, or with it where
        // the list has none.
        let found = emojis::get(raw)
            .or_else(|| emojis::get(&format!("{raw}\u{fe0f}")))
            .or_else(|| emojis::get(&raw.replace('\u{fe0f}', "")));
        found.map(|emoji| Self(emoji.as_str())).ok_or(InputError::NotAnEmoji)
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;
    use crate::input::InputError;

    #[test]
    fn single_emoji_of_every_kind_are_reactions() {
        for emoji in QUICK {
            assert_eq!(Emoji::parse(emoji).map(|e| e.as_str()), Ok(emoji), "the quick set");
        }
        for emoji in ["🦀", "👍🏽", "🇫🇷", "👩‍💻", "👨‍👩‍👧", "🏳️‍🌈", "1️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"] {
            assert_eq!(Emoji::parse(emoji).map(|e| e.as_str()), Ok(emoji));
        }
        assert_eq!(Emoji::parse(" 🎉 ").map(|e| e.as_str()), Ok("🎉"), "spaces around are dropped");
        assert_eq!(Emoji::parse("❤").map(|e| e.as_str()), Ok("❤️"), "one heart, with or without the selector");
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(Emoji::parse(""), Err(InputError::Required));
        assert_eq!(Emoji::parse("  "), Err(InputError::Required));
        for text in ["a", "+1", ":thumbsup:", "👍👍", "👍 🎉", "<b>", "\u{0}", "\u{200d}", "🏽", "\u{fe0f}", "👍x"] {
            assert_eq!(Emoji::parse(text), Err(InputError::NotAnEmoji), "{text:?}");
        }
        assert_eq!(Emoji::parse(&"👍".repeat(10_000)), Err(InputError::NotAnEmoji));
    }
}
