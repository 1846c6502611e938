//! The frame around every page: header with navigation, theme and language
//! controls; the main landmark; the footer.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::{
    auth::{SignOutButton, use_viewer},
    i18n::*,
    language::LanguageSwitcher,
    theme::ThemeToggle,
};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <a
            href="#main"
            class="sr-only focus:not-sr-only focus:absolute focus:start-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-slate-900"
        >
            {t!(i18n, skip_to_content)}
        </a>
        <div class="flex min-h-screen flex-col">
            <header class="border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-950/90">
                <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-2 px-4 py-2 sm:px-6">
                    <A href="/" attr:class="flex items-center gap-2 text-lg font-bold tracking-tight">
                        <span aria-hidden="true" class="grid h-8 w-8 place-items-center rounded-lg bg-indigo-600 text-white">
                            "t"
                        </span>
                        <span>"tchatche"</span>
                    </A>
                    <nav aria-label=move || t_string!(i18n, nav_main) class="flex flex-wrap items-center gap-1">
                        <A
                            href="/"
                            attr:class="rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 aria-[current=page]:text-indigo-700 dark:text-slate-200 dark:hover:bg-slate-800 dark:aria-[current=page]:text-indigo-300"
                        >
                            {t!(i18n, nav_home)}
                        </A>
                        <A href="/search" attr:class=NAV_LINK attr:data-testid="search-link">
                            {t!(i18n, nav_search)}
                        </A>
                        <AccountNav />
                        <ThemeToggle words=crate::theme::ThemeWords::for_reader() />
                        <LanguageSwitcher />
                    </nav>
                </div>
            </header>
            <main id="main" tabindex="-1" class="mx-auto w-full max-w-5xl flex-1 px-4 py-8 sm:px-6">
                {children()}
            </main>
            <footer class="border-t border-slate-200 text-sm text-slate-600 dark:border-slate-800 dark:text-slate-400">
                <div class="mx-auto flex max-w-5xl flex-col gap-1 px-4 py-6 sm:flex-row sm:justify-between sm:px-6">
                    <p>{t!(i18n, footer_about)}</p>
                    <p>"tchatche"</p>
                </div>
            </footer>
        </div>
    }
}

const NAV_LINK: &str = "rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800";

/// Sign-in and sign-up links, or the signed-in person and sign-out.
#[component]
fn AccountNav() -> impl IntoView {
    let i18n = use_i18n();
    let viewer = use_viewer();
    let location = use_location();
    // Come back here after signing in (but not to the sign-in page itself).
    let here = move || {
        let path = location.pathname.get();
        if path == "/signin" || path == "/signup" {
            "/".to_owned()
        } else {
            format!("{path}{}", location.search.get())
        }
    };
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Some(viewer)) => {
                        view! {
                            <A href="/messages" attr:class=NAV_LINK attr:data-testid="messages-link">
                                {t!(i18n, nav_messages)}
                            </A>
                            <A href="/settings" attr:class=format!("{NAV_LINK} flex items-center gap-2") attr:data-testid="account-link">
                                <img src=viewer.avatar_url alt="" width="24" height="24" class="h-6 w-6 rounded-full bg-slate-200" />
                                <bdi class="max-w-32 truncate">{viewer.display_name}</bdi>
                            </A>
                            <SignOutButton />
                        }
                            .into_any()
                    }
                    _ => {
                        // Test ids on both branches: the links are patched in
                        // place when the viewer changes, and an attribute only
                        // one branch sets would linger.
                        view! {
                            <A href=move || format!("/signin?next={}", crate::auth::urlencode(&here())) attr:class=NAV_LINK attr:data-testid="sign-in-link">
                                {t!(i18n, nav_signin)}
                            </A>
                            <A href=move || format!("/signup?next={}", crate::auth::urlencode(&here())) attr:class=NAV_LINK attr:data-testid="sign-up-link">
                                {t!(i18n, nav_signup)}
                            </A>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
