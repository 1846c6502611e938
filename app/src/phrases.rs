//! The words islands show. Islands run in the browser without translation
//! tables (the bundle must not grow with the number of languages): the
//! server renders every phrase an island may need in the reader's language
//! and sends them with the island's props. A counted phrase travels as one
//! template per plural category of that language; the browser picks the
//! category and formats the number with `Intl`, the server with ICU, so
//! both agree.
//!
//! A phrase is named once, in the tables below, next to its locale key.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tchatche_core::input::InputError;

use crate::error::AppError;

/// Where a counted template puts its number.
const COUNT: &str = "{count}";

macro_rules! phrase_tables {
    (
        plain { $($phrase:ident => $key:ident,)* }
        counted { $($counted:ident => $counted_key:ident,)* }
    ) => {
        /// A sentence an island shows as it is.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Phrase { $($phrase,)* }

        /// A sentence with a number in it, in the plural form the number takes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Counted { $($counted,)* }

        impl Phrase {
            pub const ALL: &[Phrase] = &[$(Phrase::$phrase,)*];
        }

        impl Counted {
            pub const ALL: &[Counted] = &[$(Counted::$counted,)*];
        }

        /// The phrase in the reader's language, straight from the locale
        /// files (on the server: islands read their [`Phrases`]).
        pub fn plain_text(phrase: Phrase) -> String {
            use crate::i18n::*;
            let i18n = use_i18n();
            match phrase { $(Phrase::$phrase => tu_string!(i18n, $key).to_string(),)* }
        }

        /// The counted phrase for `count`, in the reader's language.
        pub fn counted_text(counted: Counted, count: u64) -> String {
            use crate::i18n::*;
            let i18n = use_i18n();
            match counted { $(Counted::$counted => tu_string!(i18n, $counted_key, count).to_string(),)* }
        }
    };
}

phrase_tables! {
    plain {
        RoomListLabel => room_list_label,
        RoomListTitle => room_list_title,
        RoomNewShort => room_new_short,
        DirectListTitle => direct_title,
        DirectNewShort => direct_new_short,
        ConnectionLive => connection_live,
        ConnectionConnecting => connection_connecting,
        RoomOlder => room_older,
        RoomEmpty => room_empty,
        RoomMessagesLabel => room_messages_label,
        RoomJumpLatest => room_jump_latest,
        DeletedAccount => deleted_account,
        MessageDeleted => message_deleted,
        MessageConcealed => message_hidden_from_search,
        MessageEdited => message_edited,
        MessageEdit => message_edit,
        MessageDelete => message_delete,
        MessageReply => message_reply,
        InReplyTo => message_in_reply_to,
        MessageSave => settings_save,
        MessageCancel => message_cancel,
        MessageSending => message_sending,
        MessageFailed => message_failed,
        MessageRetry => message_retry,
        ComposerLabel => composer_label,
        ComposerPlaceholder => composer_placeholder,
        ComposerSend => composer_send,
        ComposerHint => composer_hint,
        ErrorInvalid => error_invalid,
        ErrorUnauthorized => error_unauthorized,
        ErrorForbidden => error_forbidden,
        ErrorNotFound => error_not_found,
        ErrorGone => error_gone,
        ErrorInternal => error_internal,
        ErrorUnavailable => error_unavailable,
        ErrorRequest => error_request,
        InputRequired => input_required,
        InputInvalidCharacters => input_invalid_characters,
        InputTaken => input_taken,
        InputCommonPassword => input_common_password,
        InputSameAsUsername => input_same_as_username,
        InputMalformed => input_malformed,
        InputBadCredentials => input_bad_credentials,
        InputWrongPassword => input_wrong_password,
        InputAccountDisabled => input_account_disabled,
        InputGone => input_gone,
        InputNotAnEmoji => input_not_an_emoji,
        InputNoSuchPerson => input_no_such_person,
        InputUnreachable => input_unreachable,
        ReactionsLabel => reactions_label,
        ReactionAdd => reaction_add,
        ReactionAny => reaction_any,
        ReactionSubmit => reaction_submit,
        ThemeLabel => theme_label,
        ThemeSystem => theme_system,
        ThemeLight => theme_light,
        ThemeDark => theme_dark,
        TranslationOriginal => translation_original,
        TranslateMessage => translate_message,
        TranslationPending => translation_pending,
    }
    counted {
        RoomUnread => room_unread,
        RoomOnline => room_online,
        ConnectionRetrying => connection_retrying,
        ThreadReplies => thread_replies,
        ErrorRateLimited => error_rate_limited,
        InputTooShort => input_too_short,
        InputTooLong => input_too_long,
        InputTooFast => input_too_fast,
        InputTooMany => input_too_many_kinds,
        InputTooManyPeople => input_too_many_people,
    }
}

/// A sentence to show: plain, or counted with its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Plain(Phrase),
    Counted(Counted, u64),
}

impl Text {
    /// How an error is said (one rule for pages and islands).
    pub fn of_error(error: &AppError) -> Self {
        match error {
            AppError::Invalid(_) => Self::Plain(Phrase::ErrorInvalid),
            AppError::Unauthorized => Self::Plain(Phrase::ErrorUnauthorized),
            AppError::Forbidden => Self::Plain(Phrase::ErrorForbidden),
            AppError::NotFound => Self::Plain(Phrase::ErrorNotFound),
            AppError::Gone => Self::Plain(Phrase::ErrorGone),
            AppError::RateLimited { retry_after_secs } => Self::Counted(Counted::ErrorRateLimited, *retry_after_secs),
            AppError::Internal => Self::Plain(Phrase::ErrorInternal),
            AppError::Unavailable => Self::Plain(Phrase::ErrorUnavailable),
            AppError::Request(_) => Self::Plain(Phrase::ErrorRequest),
        }
    }

    /// How a broken input rule is said.
    pub fn of_input_error(error: InputError) -> Self {
        match error {
            InputError::Required => Self::Plain(Phrase::InputRequired),
            InputError::TooShort { min } => Self::Counted(Counted::InputTooShort, min.into()),
            InputError::TooLong { max } => Self::Counted(Counted::InputTooLong, max.into()),
            InputError::InvalidCharacters => Self::Plain(Phrase::InputInvalidCharacters),
            InputError::Taken => Self::Plain(Phrase::InputTaken),
            InputError::CommonPassword => Self::Plain(Phrase::InputCommonPassword),
            InputError::SameAsUsername => Self::Plain(Phrase::InputSameAsUsername),
            InputError::Malformed => Self::Plain(Phrase::InputMalformed),
            InputError::BadCredentials => Self::Plain(Phrase::InputBadCredentials),
            InputError::WrongPassword => Self::Plain(Phrase::InputWrongPassword),
            InputError::AccountDisabled => Self::Plain(Phrase::InputAccountDisabled),
            InputError::Gone => Self::Plain(Phrase::InputGone),
            InputError::TooFast { retry_after_secs } => Self::Counted(Counted::InputTooFast, retry_after_secs),
            InputError::NotAnEmoji => Self::Plain(Phrase::InputNotAnEmoji),
            InputError::TooMany { max } => Self::Counted(Counted::InputTooMany, max.into()),
            InputError::NoSuchPerson => Self::Plain(Phrase::InputNoSuchPerson),
            InputError::Unreachable => Self::Plain(Phrase::InputUnreachable),
            InputError::TooManyPeople { max } => Self::Counted(Counted::InputTooManyPeople, max.into()),
        }
    }

    /// The sentence in the reader's language, on the server.
    pub fn render(self) -> String {
        match self {
            Self::Plain(phrase) => plain_text(phrase),
            Self::Counted(counted, count) => counted_text(counted, count),
        }
    }
}

/// Every phrase an island may show, in one language: sent once per island.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phrases {
    /// The language's BCP 47 tag, for `Intl` in the browser.
    locale: String,
    /// Indexed by [`Phrase`].
    plain: Vec<String>,
    /// Indexed by [`Counted`]: each plural category of the language (as
    /// `Intl.PluralRules` names it) with its template.
    counted: Vec<Vec<(String, String)>>,
    /// "{names} typing…", with `{names}` left in.
    typing: String,
    /// "Machine-translated from …", for each language a message may be in.
    translated_from: Vec<(String, String)>,
}

impl Phrases {
    /// Renders them all in the reader's language.
    #[cfg(feature = "ssr")]
    pub fn for_reader() -> Self {
        use crate::i18n::*;
        let i18n = use_i18n();
        let locale = i18n.get_locale_untracked().as_str().to_owned();
        let numbers = numbers::Numbers::new(&locale);
        let counted = Counted::ALL
            .iter()
            .map(|&counted| {
                numbers
                    .samples()
                    .into_iter()
                    .map(|(category, sample)| {
                        let text = counted_text(counted, sample);
                        (category.to_owned(), text.replacen(&numbers.format(sample), COUNT, 1))
                    })
                    .collect()
            })
            .collect();
        Self {
            plain: Phrase::ALL.iter().map(|&phrase| plain_text(phrase)).collect(),
            counted,
            typing: tu_string!(i18n, room_typing, names = "{names}").to_string(),
            translated_from: tchatche_core::languages::SUPPORTED
                .iter()
                .chain(["?"].iter())
                .map(|&code| {
                    let language = match code {
                        "?" => tu_string!(i18n, language_unknown).to_string(),
                        code => crate::rooms::autonym(code).to_owned(),
                    };
                    (code.to_owned(), tu_string!(i18n, translated_from, language).to_string())
                })
                .collect(),
            locale,
        }
    }

    /// Pages, and so the islands' props, are rendered on the server only.
    #[cfg(not(feature = "ssr"))]
    pub fn for_reader() -> Self {
        unreachable!("island props are rendered on the server")
    }

    pub fn get(&self, phrase: Phrase) -> String {
        self.plain.get(phrase as usize).cloned().unwrap_or_default()
    }

    pub fn count(&self, counted: Counted, count: u64) -> String {
        let forms = self.counted.get(counted as usize).map(Vec::as_slice).unwrap_or_default();
        let category = plural_category(&self.locale, count);
        let template = forms
            .iter()
            .find(|(name, _)| *name == category)
            .or_else(|| forms.iter().find(|(name, _)| name == "other"))
            .or_else(|| forms.first())
            .map_or("", |(_, template)| template.as_str());
        template.replacen(COUNT, &format_number(&self.locale, count), 1)
    }

    pub fn text(&self, text: Text) -> String {
        match text {
            Text::Plain(phrase) => self.get(phrase),
            Text::Counted(counted, count) => self.count(counted, count),
        }
    }

    pub fn error(&self, error: &AppError) -> String {
        self.text(Text::of_error(error))
    }

    /// What went wrong with one field of a refused submission, or else with
    /// the submission as a whole.
    pub fn field_or_error(&self, error: &AppError, field: &str) -> String {
        self.text(error.field(field).map_or_else(|| Text::of_error(error), Text::of_input_error))
    }

    pub fn typing(&self, names: &str) -> String {
        self.typing.replacen("{names}", names, 1)
    }

    /// "Machine-translated from …" for a message in `lang` (unknown: `None`).
    pub fn translated_from(&self, lang: Option<&str>) -> String {
        let code = lang.unwrap_or("?");
        self.translated_from.iter().find(|(known, _)| known == code).map(|(_, label)| label.clone()).unwrap_or_default()
    }
}

#[cfg(feature = "hydrate")]
fn plural_category(locale: &str, count: u64) -> String {
    let locales = js_sys::Array::of1(&locale.into());
    let rules = js_sys::Intl::PluralRules::new(&locales, &js_sys::Object::new());
    rules.select(count as f64).into()
}

#[cfg(feature = "hydrate")]
fn format_number(locale: &str, count: u64) -> String {
    js_sys::Number::from(count as f64).to_locale_string(locale).into()
}

#[cfg(all(feature = "ssr", not(feature = "hydrate")))]
fn plural_category(locale: &str, count: u64) -> String {
    numbers::Numbers::new(locale).category(count).to_owned()
}

#[cfg(all(feature = "ssr", not(feature = "hydrate")))]
fn format_number(locale: &str, count: u64) -> String {
    numbers::Numbers::new(locale).format(count)
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn plural_category(_: &str, _: u64) -> String {
    "other".to_owned()
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn format_number(_: &str, count: u64) -> String {
    count.to_string()
}

/// ICU's plural rules and number formats on the server: the same CLDR data
/// the browser's `Intl` follows.
#[cfg(feature = "ssr")]
pub mod numbers {
    use icu_decimal::{DecimalFormatter, input::Decimal};
    use icu_locale_core::Locale;
    use icu_plurals::{PluralCategory, PluralRules};

    pub struct Numbers {
        rules: PluralRules,
        formatter: DecimalFormatter,
    }

    impl Numbers {
        /// Falls back to the root locale's rules for a tag ICU cannot read
        /// (never one of ours: a test renders every locale).
        pub fn new(tag: &str) -> Self {
            let locale = Locale::try_from_str(tag).unwrap_or(Locale::UNKNOWN);
            let rules = PluralRules::try_new_cardinal((&locale).into())
                .or_else(|_| PluralRules::try_new_cardinal(Default::default()))
                .expect("compiled data has root plural rules");
            let formatter = DecimalFormatter::try_new((&locale).into(), Default::default())
                .or_else(|_| DecimalFormatter::try_new(Default::default(), Default::default()))
                .expect("compiled data has root number formats");
            Self { rules, formatter }
        }

        pub fn category(&self, count: u64) -> &'static str {
            category_name(self.rules.category_for(count))
        }

        pub fn format(&self, count: u64) -> String {
            self.formatter.format(&Decimal::from(count)).to_string()
        }

        /// One number of each of the language's plural categories, the
        /// smallest above zero where there is one (zero itself names the
        /// "zero" category where a language has it).
        pub fn samples(&self) -> Vec<(&'static str, u64)> {
            self.rules
                .categories()
                .filter_map(|category| {
                    (1..=1_000).chain([0]).find(|&n| self.rules.category_for(n) == category).map(|n| (category_name(category), n))
                })
                .collect()
        }
    }

    /// The names `Intl.PluralRules.select` answers with.
    fn category_name(category: PluralCategory) -> &'static str {
        match category {
            PluralCategory::Zero => "zero",
            PluralCategory::One => "one",
            PluralCategory::Two => "two",
            PluralCategory::Few => "few",
            PluralCategory::Many => "many",
            PluralCategory::Other => "other",
        }
    }
}

/// An island's phrases, shared by its parts through context. A copyable
/// handle, so event handlers and tasks can keep it.
#[derive(Debug, Clone, Copy)]
pub struct PhraseBook(StoredValue<Phrases>);

impl PhraseBook {
    /// Called first thing in an island (or a server-rendered page that
    /// reuses an island's parts).
    pub fn provide(phrases: Phrases) -> Self {
        let book = Self(StoredValue::new(phrases));
        provide_context(book);
        book
    }

    pub fn expect() -> Self {
        expect_context()
    }

    pub fn get(self, phrase: Phrase) -> String {
        self.0.with_value(|phrases| phrases.get(phrase))
    }

    pub fn count(self, counted: Counted, count: u64) -> String {
        self.0.with_value(|phrases| phrases.count(counted, count))
    }

    pub fn input_error(self, error: InputError) -> String {
        self.0.with_value(|phrases| phrases.text(Text::of_input_error(error)))
    }

    pub fn error(self, error: &AppError) -> String {
        self.0.with_value(|phrases| phrases.error(error))
    }

    pub fn field_or_error(self, error: &AppError, field: &str) -> String {
        self.0.with_value(|phrases| phrases.field_or_error(error, field))
    }

    pub fn typing(self, names: &str) -> String {
        self.0.with_value(|phrases| phrases.typing(names))
    }

    pub fn translated_from(self, lang: Option<&str>) -> String {
        self.0.with_value(|phrases| phrases.translated_from(lang))
    }
}
