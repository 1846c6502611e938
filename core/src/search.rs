//! Searching messages: what a search may ask for, and what a result shows.
//!
//! A query is reduced to words before it reaches either engine: letters and
//! digits only, so nothing a person types can be read as the engines' query
//! syntax (FTS5's `NEAR`, `"`, `*`; PostgreSQL's `&`, `!`, `:`). Every word
//! must appear, as a word or the start of one ("deploy" finds "deployment").
//! The engines mark the matches in the text with two control characters,
//! which message bodies never contain (see `MessageBody::parse`); [`Excerpt`]
//! turns that into marked and plain pieces, so no HTML is ever built from
//! a body's text.

use serde::{Deserialize, Serialize};

use crate::{
    event::Author,
    ids::{MessageId, RoomId, Seq, UnixMillis},
    input::{InputError, check_len},
};

/// Starts a match in the text the engines return.
pub const MARK_START: char = '\u{1}';
/// Ends a match in the text the engines return.
pub const MARK_END: char = '\u{2}';

/// The words searched for: 1–8 words of letters and digits, from at most
/// 200 characters of input. Words past the eighth are left out (and the
/// page says so), as search engines do, rather than refusing the search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    words: Vec<String>,
    /// Some words were left out.
    cut: bool,
}

impl SearchQuery {
    pub const MAX_CHARS: u32 = 200;
    pub const MAX_WORDS: usize = 8;
    /// Longer "words" are cut: no language has them, pasted hashes do.
    const MAX_WORD_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InputError> {
        check_len(raw.trim(), 1, Self::MAX_CHARS)?;
        let mut words: Vec<String> = raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(|word| word.chars().take(Self::MAX_WORD_CHARS).collect::<String>().to_lowercase())
            .fold(Vec::new(), |mut words, word| {
                if !words.contains(&word) {
                    words.push(word);
                }
                words
            });
        if words.is_empty() {
            return Err(InputError::Malformed);
        }
        let cut = words.len() > Self::MAX_WORDS;
        words.truncate(Self::MAX_WORDS);
        Ok(Self { words, cut })
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether words past [`Self::MAX_WORDS`] were left out.
    pub fn was_cut(&self) -> bool {
        self.cut
    }

    /// The FTS5 query: each word quoted, as a prefix, all required.
    pub fn fts5(&self) -> String {
        self.words.iter().map(|word| format!("\"{word}\"*")).collect::<Vec<_>>().join(" ")
    }

    /// The PostgreSQL `to_tsquery` text: each word as a prefix, all required.
    pub fn tsquery(&self) -> String {
        self.words.iter().map(|word| format!("{word}:*")).collect::<Vec<_>>().join(" & ")
    }
}

/// Where one search looks, besides the words: all validated by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchScope {
    /// One room only.
    pub room: Option<RoomId>,
    /// One author only (by account id).
    pub author: Option<crate::ids::UserId>,
    /// Written at or after this time.
    pub since: Option<UnixMillis>,
    /// Written before this time.
    pub until: Option<UnixMillis>,
    /// Results older than this one (keyset paging: the last result shown).
    pub before: Option<SearchCursor>,
}

/// A result's place in the order (newest first): where the next page starts.
/// `position` is the engine's key of that order: the time it was written
/// on PostgreSQL, its row in the SQLite index (see the search migration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchCursor {
    pub position: i64,
    pub id: MessageId,
}

impl SearchCursor {
    /// `{position}_{id}`, as it travels in a link.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.position, self.id.0)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (position, id) = text.split_once('_')?;
        Some(Self { position: position.parse().ok()?, id: MessageId(id.parse().ok()?) })
    }
}

/// One message found, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: MessageId,
    /// Its place in the order ([`SearchCursor::position`]).
    pub position: i64,
    pub seq: Seq,
    pub room_slug: String,
    pub room_name: String,
    pub author: Option<Author>,
    pub created_at: UnixMillis,
    pub edited_at: Option<UnixMillis>,
    pub excerpt: Excerpt,
}

/// A page of results, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Where the next (older) page starts, when there is one.
    pub next: Option<SearchCursor>,
}

/// A message's text around its matches, in pieces: `(text, is_match)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excerpt(pub Vec<(String, bool)>);

impl Excerpt {
    /// Characters of text shown per result; longer messages are cut around
    /// their first match, with "…" where text was left out.
    pub const MAX_CHARS: usize = 280;

    /// Reads the engines' marked text (see [`MARK_START`]).
    pub fn from_marked(marked: &str) -> Self {
        let mut pieces: Vec<(String, bool)> = Vec::new();
        let mut in_match = false;
        // Walk characters: a marker switches between plain and matched text.
        let mut current = String::new();
        for c in marked.chars() {
            let switch_to = match c {
                MARK_START => Some(true),
                MARK_END => Some(false),
                _ => None,
            };
            match switch_to {
                Some(matched) => {
                    if !current.is_empty() {
                        pieces.push((std::mem::take(&mut current), in_match));
                    }
                    in_match = matched;
                }
                None => current.push(c),
            }
        }
        if !current.is_empty() {
            pieces.push((current, in_match));
        }
        Self(pieces).shortened(Self::MAX_CHARS)
    }

    /// The text without marks.
    pub fn text(&self) -> String {
        self.0.iter().map(|(text, _)| text.as_str()).collect()
    }

    /// Keeps at most `max` characters, starting a little before the first
    /// match so that it is in view.
    fn shortened(self, max: usize) -> Self {
        let total: usize = self.0.iter().map(|(text, _)| text.chars().count()).sum();
        if total <= max {
            return self;
        }
        let first_match: usize =
            self.0.iter().take_while(|(_, matched)| !matched).map(|(text, _)| text.chars().count()).sum();
        // Some words of lead-in before the match, unless it is near the start.
        let start = first_match.saturating_sub(max / 4).min(total - max);
        let end = start + max;
        let mut pieces = Vec::new();
        if start > 0 {
            pieces.push(("…".to_owned(), false));
        }
        let mut offset = 0;
        for (text, matched) in self.0 {
            let len = text.chars().count();
            let (from, to) = (start.max(offset), end.min(offset + len));
            if from < to {
                pieces.push((text.chars().skip(from - offset).take(to - from).collect(), matched));
            }
            offset += len;
        }
        if end < total {
            pieces.push(("…".to_owned(), false));
        }
        Self(pieces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_words_of_letters_and_digits() {
        let query = SearchQuery::parse("  Deploy, the NEW café-v2!  ").unwrap();
        assert_eq!(query.words(), ["deploy", "the", "new", "café", "v2"]);
        assert_eq!(query.fts5(), r#""deploy"* "the"* "new"* "café"* "v2"*"#);
        assert_eq!(query.tsquery(), "deploy:* & the:* & new:* & café:* & v2:*");
        assert_eq!(SearchQuery::parse("日本語 テスト").unwrap().words(), ["日本語", "テスト"]);
        assert_eq!(SearchQuery::parse("a a A").unwrap().words(), ["a"], "repeated words count once");
    }

    #[test]
    fn engine_syntax_never_reaches_the_engines() {
        for hostile in [r#"" OR 1=1 --"#, "NEAR(a b)", "a:* | !b", "x* ^y", "'); DROP TABLE messages; --"] {
            let query = SearchQuery::parse(hostile).unwrap();
            for word in query.words() {
                assert!(word.chars().all(char::is_alphanumeric), "{hostile:?} gave {word:?}");
            }
        }
    }

    #[test]
    fn bad_queries_say_what_is_wrong() {
        assert_eq!(SearchQuery::parse(""), Err(InputError::Required));
        assert_eq!(SearchQuery::parse("   "), Err(InputError::Required));
        assert_eq!(SearchQuery::parse("?!…"), Err(InputError::Malformed));
        assert_eq!(SearchQuery::parse(&"a".repeat(201)), Err(InputError::TooLong { max: 200 }));
        let many = SearchQuery::parse("a b c d e f g h i j").unwrap();
        assert_eq!((many.words().len(), many.was_cut()), (8, true));
        assert!(!SearchQuery::parse("a b c d e f g h").unwrap().was_cut());
        let long_word = SearchQuery::parse(&"x".repeat(100)).unwrap();
        assert_eq!(long_word.words()[0].len(), 64);
    }

    #[test]
    fn cursors_travel_in_links() {
        let cursor = SearchCursor { position: 1_700_000_000_123, id: MessageId(uuid::Uuid::nil()) };
        assert_eq!(SearchCursor::decode(&cursor.encode()), Some(cursor));
        for bad in ["", "_", "12", "x_00000000-0000-0000-0000-000000000000", "1_not-a-uuid"] {
            assert_eq!(SearchCursor::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn marks_become_pieces() {
        let excerpt = Excerpt::from_marked("we \u{1}deploy\u{2} on \u{1}Friday\u{2}");
        assert_eq!(
            excerpt.0,
            [("we ".into(), false), ("deploy".into(), true), (" on ".into(), false), ("Friday".into(), true)]
        );
        assert_eq!(excerpt.text(), "we deploy on Friday");
        assert_eq!(Excerpt::from_marked("no match at all").0, [("no match at all".into(), false)]);
    }

    #[test]
    fn long_texts_are_cut_around_their_first_match() {
        let text = format!("{}\u{1}needle\u{2}{}", "a".repeat(1000), "b".repeat(1000));
        let excerpt = Excerpt::from_marked(&text);
        let shown = excerpt.text();
        assert_eq!(shown.chars().count(), Excerpt::MAX_CHARS + 2, "the text and two ellipses");
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert!(excerpt.0.contains(&("needle".into(), true)));

        let early = Excerpt::from_marked(&format!("\u{1}needle\u{2}{}", "b".repeat(1000)));
        assert_eq!(early.0[0], ("needle".into(), true), "no ellipsis before a match at the start");
    }
}
