//! Every page, component and server function of tchatche. Compiled twice:
//! with `ssr` into the server (rendering HTML, running server functions) and
//! with `hydrate` into the browser bundle. The browser runs only the islands
//! (`#[island]`): the parts that change in place. The rest stays the server's
//! HTML, with plain links and forms, so the bundle carries only what runs.
//!
//! # Layout
//! - [`shell`] and [`App`]: the document and the router.
//! - `layout`: header, navigation, footer.
//! - `theme`, `language`: the colour theme and the UI language, both chosen
//!   by cookie on the server (no flash) and switchable with or without JS.
//! - `auth`: accounts and sessions: sign-up, sign-in, sign-out.
//! - `rooms`: rooms, invitations and the conversation page (live).
//! - `direct`: direct conversations (`/messages`) and the block list.
//! - `settings`: the settings page.
//! - `pages`: the other pages.
//! - `seo`: what pages tell search engines (noindex, canonical, JSON-LD).
//! - `phrases`: the words islands show, rendered by the server in the
//!   reader's language (islands carry no translation tables).
//! - `components`: form fields and other shared pieces.
//! - `error`: the one error type of server functions.
//! - `codec`: the JSON of server functions' answers, read as text.
//! - `state` (ssr): what the server hands to every render and server function.
//!
//! Server functions that only read are `GET`s (`input = GetUrl`), those that
//! change something `POST`s: the server forgets the public pages it shares
//! between visitors on every request that is not a `GET`.

#![recursion_limit = "256"]

// The `i18n` module generated from `locales/` by build.rs.
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

pub mod auth;
pub mod codec;
pub mod components;
pub mod direct;
pub mod error;
pub mod language;
pub mod layout;
pub mod pages;
pub mod phrases;
pub mod rooms;
pub mod seo;
pub mod settings;
#[cfg(feature = "ssr")]
pub mod state;
pub mod theme;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::{i18n::*, layout::Layout, pages::NotFound, theme::Theme};

/// The HTML document around the app, rendered on the server only. The theme
/// is written on `<html>` here, from the request's cookie, so the first
/// paint already has the right colours.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let theme = Theme::current();
    view! {
        <!DOCTYPE html>
        <html data-theme=theme.as_str()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-white text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

/// The browser's start: hydrates each island of the server's page (the
/// islands script then calls the island functions this crate exports).
#[cfg(feature = "hydrate")]
pub fn hydrate_islands() {
    leptos::mount::hydrate_islands();
    // Lets browser tests (and curious people) know the page is interactive.
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    auth::provide_viewer();
    view! {
        <I18nContextProvider cookie_options=language::cookie_options()>
            <Title formatter=|page: String| if page.is_empty() { "tchatche".to_owned() } else { format!("{page} · tchatche") } />
            <Router>
                <Layout>
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=pages::HomePage ssr=SsrMode::Async />
                        <Route path=path!("/signin") view=auth::SignInPage ssr=SsrMode::Async />
                        <Route path=path!("/signup") view=auth::SignUpPage ssr=SsrMode::Async />
                        <Route path=path!("/settings") view=settings::SettingsPage ssr=SsrMode::Async />
                        <Route path=path!("/rooms/new") view=rooms::NewRoomPage ssr=SsrMode::Async />
                        <Route path=path!("/r/:slug") view=rooms::RoomPage ssr=SsrMode::Async />
                        <Route path=path!("/r/:slug/settings") view=rooms::RoomSettingsPage ssr=SsrMode::Async />
                        // After `settings`: the first route that matches wins.
                        <Route path=path!("/r/:slug/:day") view=rooms::ArchivePage ssr=SsrMode::Async />
                        <Route path=path!("/r/:slug/t/:id") view=rooms::ThreadPage ssr=SsrMode::Async />
                        <Route path=path!("/invite/:token") view=rooms::InvitePage ssr=SsrMode::Async />
                        <Route path=path!("/u/:username") view=pages::ProfilePage ssr=SsrMode::Async />
                        <Route path=path!("/search") view=pages::SearchPage ssr=SsrMode::Async />
                        <Route path=path!("/messages") view=direct::DirectMessagesPage ssr=SsrMode::Async />
                    </Routes>
                </Layout>
            </Router>
        </I18nContextProvider>
    }
}
