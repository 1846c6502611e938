//! The colour theme: follows the system unless the person picked light or
//! dark. The choice lives in a cookie, so the server renders it on `<html>`
//! (no flash of the wrong colours) and it works without JavaScript.

use leptos::{prelude::*, server_fn::ServerFn};
use serde::{Deserialize, Serialize};

use crate::{error::AppError, i18n::*};

pub const COOKIE: &str = "theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "system" => Some(Self::System),
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            _ => None,
        }
    }

    /// The toggle cycles system → light → dark → system.
    pub fn next(self) -> Self {
        match self {
            Self::System => Self::Light,
            Self::Light => Self::Dark,
            Self::Dark => Self::System,
        }
    }

    /// The theme this page is rendered with: the request's cookie on the
    /// server; in the browser, what the server wrote on `<html>`.
    pub fn current() -> Self {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|parts| crate::language::cookie_value(&parts.headers, COOKIE))
                .and_then(|value| Self::parse(&value))
                .unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            document()
                .document_element()
                .and_then(|html| html.get_attribute("data-theme"))
                .and_then(|value| Self::parse(&value))
                .unwrap_or_default()
        }
    }

    pub fn cookie(self) -> String {
        format!("{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", self.as_str())
    }
}

/// Stores the theme choice in a cookie (and on the account, when signed in);
/// a plain form post is redirected back.
#[server(endpoint = "set_theme", output = crate::codec::JsonAnswer)]
pub async fn set_theme(theme: String) -> Result<(), AppError> {
    use crate::error::with_status;
    let theme = Theme::parse(&theme)
        .ok_or_else(|| with_status(AppError::invalid("theme", tchatche_core::input::InputError::Malformed)))?;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    let cookie = http::HeaderValue::from_str(&theme.cookie()).map_err(|_| AppError::Internal)?;
    response.append_header(http::header::SET_COOKIE, cookie);
    if let Some(user) = crate::auth::session::current_user().await? {
        crate::state::app_state().store.set_preferences(user.id, user.locale.as_deref(), Some(theme.as_str())).await?;
    }
    Ok(())
}

/// The toggle's words, rendered by the server in the reader's language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThemeWords {
    label: String,
    /// System, light, dark.
    names: [String; 3],
    /// "Switch theme (now: {current})", with `{current}` left in.
    switch_to: String,
}

impl ThemeWords {
    pub fn for_reader() -> Self {
        use crate::phrases::{Phrase, plain_text};
        let i18n = use_i18n();
        Self {
            label: plain_text(Phrase::ThemeLabel),
            names: [Phrase::ThemeSystem, Phrase::ThemeLight, Phrase::ThemeDark].map(plain_text),
            switch_to: tu_string!(i18n, theme_switch_to, current = "{current}").to_string(),
        }
    }
}

/// A button cycling through the themes. Without JavaScript it posts a form;
/// with it, it switches in place: `<html data-theme>` and the cookie at once,
/// the account in the background.
#[island]
pub fn ThemeToggle(words: ThemeWords) -> impl IntoView {
    let ThemeWords { label, names, switch_to } = words;
    let theme = RwSignal::new(Theme::current());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        let theme = theme.get();
        let document = document();
        if let Some(html) = document.document_element() {
            let _ = html.set_attribute("data-theme", theme.as_str());
        }
        if let Ok(html_document) = document.dyn_into::<web_sys::HtmlDocument>() {
            let _ = html_document.set_cookie(&theme.cookie());
        }
    });
    let names = StoredValue::new(names);
    let name = move || {
        let index = match theme.get() {
            Theme::System => 0,
            Theme::Light => 1,
            Theme::Dark => 2,
        };
        names.with_value(|names| names[index].clone())
    };
    let icon = move || match theme.get() {
        Theme::System => "◐",
        Theme::Light => "☀",
        Theme::Dark => "☾",
    };
    view! {
        <form
            method="post"
            action=SetTheme::PATH
            on:submit=move |ev| {
                ev.prevent_default();
                let next = theme.get_untracked().next();
                theme.set(next);
                // Also remembered on the account, when signed in.
                leptos::task::spawn_local(async move {
                    let _ = set_theme(next.as_str().to_owned()).await;
                });
            }
        >
            <input type="hidden" name="theme" value=move || theme.get().next().as_str() />
            <button
                type="submit"
                class="inline-flex h-9 items-center gap-1.5 rounded-md px-2.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 dark:text-slate-200 dark:hover:bg-slate-800"
                title=move || switch_to.replacen("{current}", &name(), 1)
                data-testid="theme-toggle"
                data-theme-current=move || theme.get().as_str()
            >
                <span aria-hidden="true">{icon}</span>
                <span class="sr-only">{label} ": "</span>
                <span>{name}</span>
            </button>
        </form>
    }
}
