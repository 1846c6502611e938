//! Generates the `i18n` module from `locales/*.json` (leptos_i18n).

use std::{error::Error, path::PathBuf};

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};

/// Every interface language, by its BCP 47 tag (and file name in `locales/`).
const LOCALES: &[&str] =
    &["en", "en-GB", "fr", "de", "es", "pt-BR", "it", "nl", "pl", "ru", "el", "tr", "ar", "he", "zh-CN", "ja", "ko"];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is set by cargo")?).join("i18n");
    // The first locale is the default, used when nothing else matches.
    let config = Config::new(LOCALES[0])?
        .add_locales(&LOCALES[1..])?
        .parse_options(ParseOptions::default().interpolate_display(true));
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(out)?;
    Ok(())
}
