//! The languages messages are written in and translated into: the base
//! languages of the interface (ISO 639-1: `pt-BR` reads as `pt`), and how a
//! message's language is told when it is posted.

use serde::{Deserialize, Serialize};

/// Every language a message may be detected in or translated into.
pub const SUPPORTED: &[&str] = &["en", "fr", "de", "es", "pt", "it", "nl", "pl", "ru", "el", "tr", "ar", "he", "zh", "ja", "ko"];

/// Fewer letters than this and detection guesses: short chat lines ("ok",
/// "lol") are right about 70 % of the time, sentences about 96 %.
#[cfg(feature = "server")]
const MIN_LETTERS: usize = 20;

/// The base language of an interface language tag (`pt-BR` → `pt`), if it
/// is one messages can be in.
pub fn base_of(tag: &str) -> Option<&'static str> {
    let base = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    SUPPORTED.iter().copied().find(|supported| *supported == base)
}

/// The language of a message's text, when detection is sure of it: only
/// our languages, only a reliable answer, only on enough letters (code,
/// links and mentions are not counted: they are in no language).
#[cfg(feature = "server")]
pub fn detect(body: &str) -> Option<&'static str> {
    let prose = prose_of(body);
    if prose.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return None;
    }
    let allowed = SUPPORTED.iter().filter_map(|code| whatlang_of(code)).collect();
    let info = whatlang::Detector::with_allowlist(allowed).detect(&prose)?;
    if !info.is_reliable() {
        return None;
    }
    SUPPORTED.iter().copied().find(|code| whatlang_of(code) == Some(info.lang()))
}

/// The message's words without what is in no language: code spans and
/// blocks, links and @mentions.
#[cfg(feature = "server")]
fn prose_of(body: &str) -> String {
    let mut prose = String::with_capacity(body.len());
    for (index, part) in body.split("```").enumerate() {
        // Odd parts are inside fenced code blocks.
        if index % 2 == 1 {
            continue;
        }
        for (index, part) in part.split('`').enumerate() {
            if index % 2 == 1 {
                continue;
            }
            for word in part.split_whitespace() {
                let is_link = word.contains("://") || word.starts_with("www.");
                if !is_link && !word.starts_with('@') {
                    prose.push_str(word);
                    prose.push(' ');
                }
            }
        }
    }
    prose
}

#[cfg(feature = "server")]
fn whatlang_of(code: &str) -> Option<whatlang::Lang> {
    use whatlang::Lang;
    Some(match code {
        "en" => Lang::Eng,
        "fr" => Lang::Fra,
        "de" => Lang::Deu,
        "es" => Lang::Spa,
        "pt" => Lang::Por,
        "it" => Lang::Ita,
        "nl" => Lang::Nld,
        "pl" => Lang::Pol,
        "ru" => Lang::Rus,
        "el" => Lang::Ell,
        "tr" => Lang::Tur,
        "ar" => Lang::Ara,
        "he" => Lang::Heb,
        "zh" => Lang::Cmn,
        "ja" => Lang::Jpn,
        "ko" => Lang::Kor,
        _ => return None,
    })
}

/// How a person reads messages in other languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TranslateMode {
    /// Shown translated into their language, the original a click away.
    Always,
    /// A Translate control on each message.
    #[default]
    Ask,
    Never,
}

impl TranslateMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Ask => "ask",
            Self::Never => "never",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "always" => Some(Self::Always),
            "ask" => Some(Self::Ask),
            "never" => Some(Self::Never),
            _ => None,
        }
    }
}

impl TryFrom<String> for TranslateMode {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or(value)
    }
}

/// How the person at hand reads a room: into which language, when, and
/// what they read without help. Absent when nothing is translated for them
/// (signed out, "never", no engine, or a private room that keeps its words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// Who reads: their own messages are never translated for them.
    pub reader: crate::ids::UserId,
    /// Their interface language's base (ISO 639-1).
    pub lang: String,
    pub mode: TranslateMode,
    pub known: Vec<String>,
}

impl Reading {
    /// `known` as the account stores it (space-separated codes).
    pub fn new(reader: crate::ids::UserId, lang: &str, mode: TranslateMode, known: &str) -> Self {
        Self { reader, lang: lang.to_owned(), mode, known: parse_known(known).into_iter().map(str::to_owned).collect() }
    }

    /// Whether this message is someone else's, in a language they do not read.
    pub fn needs(&self, message: &crate::event::MessageView) -> bool {
        let own = message.author.as_ref().is_some_and(|author| author.id == self.reader);
        match &message.lang {
            Some(lang) => !own && !message.deleted && *lang != self.lang && !self.known.contains(lang),
            None => false,
        }
    }
}

/// The languages someone reads without translation: known codes only,
/// each once, in the order given.
pub fn parse_known(codes: &str) -> Vec<&'static str> {
    let mut known: Vec<&'static str> = Vec::new();
    for code in codes.split([' ', ',']).filter_map(base_of) {
        if !known.contains(&code) {
            known.push(code);
        }
    }
    known
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;

    #[test]
    fn interface_tags_read_as_their_base_language() {
        assert_eq!(base_of("pt-BR"), Some("pt"));
        assert_eq!(base_of("zh-CN"), Some("zh"));
        assert_eq!(base_of("en-GB"), Some("en"));
        assert_eq!(base_of("EN"), Some("en"));
        assert_eq!(base_of("sv"), None);
        assert_eq!(base_of(""), None);
    }

    #[test]
    fn sentences_are_detected_in_our_languages() {
        for (text, expected) in [
            ("The weather is lovely today, shall we meet at the park after lunch?", "en"),
            ("Il fait beau aujourd'hui, on se retrouve au parc après le déjeuner ?", "fr"),
            ("Hace buen tiempo hoy, ¿nos vemos en el parque después de comer?", "es"),
            ("Heute ist schönes Wetter, treffen wir uns nach dem Mittagessen im Park?", "de"),
            ("Сегодня прекрасная погода, встретимся в парке после обеда?", "ru"),
            ("اليوم الطقس جميل، هل نلتقي في الحديقة بعد الغداء؟", "ar"),
            ("מזג האוויר נפלא היום, ניפגש בפארק אחרי ארוחת הצהריים?", "he"),
            ("今日はとても良い天気ですね。お昼ご飯の後で公園で会いませんか。", "ja"),
        ] {
            assert_eq!(detect(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn short_or_unreadable_text_is_not_guessed() {
        assert_eq!(detect("ok lol"), None);
        assert_eq!(detect("👍👍👍"), None);
        assert_eq!(detect(""), None);
        // Code, links and mentions are in no language.
        assert_eq!(detect("`let value = compute_the_thing(input);` https://example.com/some/long/path @someone_else"), None);
    }

    #[test]
    fn known_languages_are_parsed_once_each() {
        assert_eq!(parse_known("fr es,pt-BR fr xx"), vec!["fr", "es", "pt"]);
        assert!(parse_known("").is_empty());
    }

    #[test]
    fn modes_round_trip() {
        for mode in [TranslateMode::Always, TranslateMode::Ask, TranslateMode::Never] {
            assert_eq!(TranslateMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(TranslateMode::parse("sometimes"), None);
    }
}
