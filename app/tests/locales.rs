//! Every interface language is complete: the same keys as English, the same
//! placeholders, and a form for each plural category the language has
//! (CLDR, through ICU), each showing its number.
#![cfg(feature = "ssr")]

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

use icu_locale_core::Locale;
use icu_plurals::{PluralCategory, PluralRules};

const SUFFIXES: &[(&str, PluralCategory)] = &[
    ("zero", PluralCategory::Zero),
    ("one", PluralCategory::One),
    ("two", PluralCategory::Two),
    ("few", PluralCategory::Few),
    ("many", PluralCategory::Many),
    ("other", PluralCategory::Other),
];

/// One locale file: plain keys, and plural keys by base name and category.
struct LocaleFile {
    plain: BTreeMap<String, String>,
    plural: BTreeMap<String, BTreeMap<PluralCategory, String>>,
}

fn read(path: &Path) -> LocaleFile {
    let text = fs::read_to_string(path).unwrap();
    let values: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut file = LocaleFile { plain: BTreeMap::new(), plural: BTreeMap::new() };
    for (key, value) in values {
        let value = value.as_str().unwrap_or_else(|| panic!("{}: {key} is not a string", path.display())).to_owned();
        let category = SUFFIXES
            .iter()
            .find_map(|(suffix, category)| key.strip_suffix(&format!("_{suffix}")).map(|base| (base.to_owned(), *category)));
        match category {
            Some((base, category)) => {
                file.plural.entry(base).or_default().insert(category, value);
            }
            None => {
                file.plain.insert(key, value);
            }
        }
    }
    file
}

/// The `{{ … }}` placeholders of a text.
fn placeholders(text: &str) -> BTreeSet<String> {
    text.split("{{").skip(1).filter_map(|rest| rest.split_once("}}")).map(|(inside, _)| inside.trim().to_owned()).collect()
}

fn locale_files() -> Vec<(String, LocaleFile)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| (path.file_stem().unwrap().to_string_lossy().into_owned(), read(&path)))
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

/// The categories of a language the counts we show (whole numbers up to
/// 1,000) fall in.
fn plural_categories(tag: &str) -> BTreeSet<PluralCategory> {
    let rules = PluralRules::try_new_cardinal((&Locale::try_from_str(tag).unwrap()).into()).unwrap();
    (0..=1_000u32).map(|n| rules.category_for(n)).collect()
}

/// The languages the issue asks for, with correct BCP 47 tags.
#[test]
fn the_seventeen_languages_are_there() {
    let tags: BTreeSet<String> = locale_files().into_iter().map(|(tag, _)| tag).collect();
    let wanted = ["en", "en-GB", "fr", "de", "es", "pt-BR", "it", "ru", "ar", "he", "zh-CN", "ja", "ko", "nl", "tr", "pl", "el"];
    assert_eq!(tags, wanted.iter().map(|tag| tag.to_string()).collect());
    for tag in &tags {
        assert!(Locale::try_from_str(tag).is_ok(), "{tag} is a valid language tag");
    }
}

#[test]
fn every_language_has_every_key_with_its_placeholders() {
    let files = locale_files();
    let english = &files.iter().find(|(tag, _)| tag == "en").unwrap().1;
    for (tag, file) in &files {
        let keys = |f: &LocaleFile| f.plain.keys().chain(f.plural.keys()).cloned().collect::<BTreeSet<_>>();
        assert_eq!(keys(file), keys(english), "{tag}: the keys of en.json");
        for (key, text) in &file.plain {
            let expected = match (english.plain.get(key), english.plural.get(key)) {
                (Some(english), _) => placeholders(english),
                // Plural in English, one form in a language with one plural
                // category (Chinese, Japanese, Korean).
                (None, Some(forms)) => {
                    assert_eq!(plural_categories(tag).len(), 1, "{tag}: {key} needs its plural forms");
                    placeholders(&forms[&PluralCategory::Other])
                }
                (None, None) => unreachable!("the key sets are equal"),
            };
            assert_eq!(placeholders(text), expected, "{tag}: {key} has the placeholders of en.json");
            assert!(!text.trim().is_empty(), "{tag}: {key} is empty");
        }
        for (key, forms) in &file.plural {
            let expected = placeholders(&english.plural[key][&PluralCategory::Other]);
            for (category, text) in forms {
                let found = placeholders(text);
                // A language may say one or two with a word ("two members"
                // in Arabic is one word): those forms may drop the number.
                let may_drop_count = matches!(category, PluralCategory::Zero | PluralCategory::One | PluralCategory::Two);
                let mut needed = expected.clone();
                if may_drop_count {
                    needed.retain(|p| !p.starts_with("count"));
                }
                assert!(found.is_subset(&expected) && needed.is_subset(&found), "{tag}: {key} ({category:?}) has {found:?}, en.json {expected:?}");
            }
        }
    }
}

/// leptos_i18n falls back to `other` for a missing form: in Russian that
/// would print "5 участника" instead of "5 участников". Every category of
/// [`plural_categories`] needs its form (French "many" is for millions, so
/// not needed), and no form may be for a category the language lacks.
#[test]
fn plural_forms_follow_each_languages_rules() {
    for (tag, file) in locale_files() {
        let categories = plural_categories(&tag);
        let rules = PluralRules::try_new_cardinal((&Locale::try_from_str(&tag).unwrap()).into()).unwrap();
        for (key, forms) in &file.plural {
            let written: BTreeSet<PluralCategory> = forms.keys().copied().collect();
            let allowed: BTreeSet<PluralCategory> = rules.categories().collect();
            assert!(categories.is_subset(&written), "{tag}: {key} has forms {written:?}, the language needs {categories:?}");
            assert!(written.is_subset(&allowed), "{tag}: {key} has forms {written:?}, the language has only {categories:?}");
            assert!(forms[&PluralCategory::Other].contains("{{ count, number }}"), "{tag}: {key} shows its number");
        }
    }
}
