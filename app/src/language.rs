//! The UI language: leptos_i18n picks it on the server from its cookie,
//! else `Accept-Language`, and writes `<html lang dir>`. The switcher posts a
//! form, and the server renders the page again in the new language (the
//! page is the server's HTML: only its islands could switch in place).

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_i18n::I18nContext;

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

/// Islands hydrate apart from the app, so each one starts with this: on the
/// server it finds the app's i18n context; in the browser it makes one for
/// the language the server chose (`<html lang>`), without touching the
/// cookie, which only the server writes.
pub fn provide_island_i18n() -> I18nContext<Locale> {
    use_context::<I18nContext<Locale>>().unwrap_or_else(|| {
        let options = leptos_i18n::context::I18nContextOptions::<Locale> { enable_cookie: false, ..Default::default() };
        let context = leptos_i18n::context::init_i18n_context_with_options(options);
        provide_context(context);
        context
    })
}

/// One button per language, each in its own form.
#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let current = i18n.get_locale_untracked();
    let languages = Locale::get_all().iter().copied().map(move |locale| {
        view! {
            <form method="post" action=SetLocale::PATH>
                <input type="hidden" name="locale" value=locale.as_str() />
                <button
                    type="submit"
                    lang=locale.as_str()
                    aria-pressed=(locale == current).to_string()
                    class="h-9 rounded-md px-2 text-sm font-medium uppercase text-slate-600 hover:bg-slate-100 aria-pressed:bg-slate-900 aria-pressed:text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 dark:text-slate-300 dark:hover:bg-slate-800 dark:aria-pressed:bg-slate-100 dark:aria-pressed:text-slate-900"
                    title=td_string!(locale, language_name)
                    data-testid=format!("language-{}", locale.as_str())
                >
                    {locale.as_str()}
                </button>
            </form>
        }
    });
    view! {
        <div role="group" aria-label=t_string!(i18n, language_label) class="flex items-center gap-0.5">
            {languages.collect_view()}
        </div>
    }
}
