//! The UI language: leptos_i18n picks it on the server from its cookie,
//! else `Accept-Language`, and writes `<html lang dir>`. The switcher posts a
//! form, and the server renders the page again in the new language (the
//! page is the server's HTML: only its islands could switch in place).

use leptos::{prelude::*, server_fn::ServerFn};

use crate::{error::AppError, i18n::*};

/// leptos_i18n's cookie (its default name).
pub const COOKIE: &str = "i18n_pref_locale";
const ONE_YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

/// The cookie leptos_i18n writes (on the server only): one path for the
/// whole site, else the browser keeps one cookie per directory and the
/// language seems to revert.
pub fn cookie_options() -> leptos_i18n::context::CookieOptions<Locale> {
    leptos_i18n::context::CookieOptions::<Locale>::default()
        .path("/")
        .max_age(ONE_YEAR_MS)
}

/// Reads one cookie from request headers.
#[cfg(feature = "ssr")]
pub fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The `Set-Cookie` value that makes `locale` this browser's language.
pub fn locale_cookie(locale: Locale) -> String {
    format!("{COOKIE}={locale}; Path=/; Max-Age={}; SameSite=Lax", ONE_YEAR_MS / 1000)
}

/// Stores the language choice (on the account too, when signed in); a plain
/// form post is redirected back.
#[server(endpoint = "set_locale")]
pub async fn set_locale(locale: String) -> Result<(), AppError> {
    use crate::error::with_status;
    let locale: Locale = locale
        .parse()
        .map_err(|()| with_status(AppError::invalid("locale", tchatche_core::input::InputError::Malformed)))?;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(
        http::header::SET_COOKIE,
        http::HeaderValue::from_str(&locale_cookie(locale)).map_err(|_| AppError::Internal)?,
    );
    if let Some(user) = crate::auth::session::current_user().await? {
        crate::state::app_state().store.set_preferences(user.id, Some(locale.as_str()), user.theme.as_deref()).await?;
    }
    Ok(())
}

/// The language a request is rendered in, resolved as leptos_i18n does it:
/// the cookie, else the first supported language of `Accept-Language`
/// (split as leptos-use splits it), else English. The shared page cache
/// keys on this, so two headers meaning the same language share a page.
#[cfg(feature = "ssr")]
pub fn resolve(headers: &http::HeaderMap) -> Locale {
    use leptos_i18n::Locale as _;
    if let Some(locale) = cookie_value(headers, COOKIE).and_then(|value| value.parse::<Locale>().ok()) {
        return locale;
    }
    let accepted = headers.get(http::header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let tags: Vec<&str> = accepted.split(',').map(|tag| tag.split_once(';').map_or(tag, |(tag, _)| tag)).collect();
    Locale::find_locale(&tags)
}

/// The language of the request at hand: the page's, while one renders;
/// in a server function (no page), resolved from the request's headers.
#[cfg(feature = "ssr")]
pub fn request_locale() -> Locale {
    if let Some(i18n) = use_context::<leptos_i18n::I18nContext<Locale>>() {
        return i18n.get_locale_untracked();
    }
    use_context::<http::request::Parts>().map(|parts| resolve(&parts.headers)).unwrap_or_default()
}

/// One control: every language in its own name, and a button, so it works
/// without JavaScript (and carries no code to the browser).
#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let current = i18n.get_locale_untracked();
    let options = Locale::get_all().iter().copied().map(move |locale| {
        view! {
            <option value=locale.as_str() lang=locale.as_str() selected=locale == current>
                {td_string!(locale, language_name)}
            </option>
        }
    });
    view! {
        <form method="post" action=SetLocale::PATH class="flex items-center gap-1" data-testid="language-picker">
            <label for="language" class="sr-only">{t!(i18n, language_label)}</label>
            <select
                id="language"
                name="locale"
                class="h-9 max-w-36 rounded-md border border-slate-300 bg-white px-2 text-sm dark:border-slate-700 dark:bg-slate-900"
            >
                {options.collect_view()}
            </select>
            <button
                type="submit"
                class="h-9 rounded-md px-2 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 dark:text-slate-200 dark:hover:bg-slate-800"
            >
                {t!(i18n, language_submit)}
            </button>
        </form>
    }
}
