use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    error::{AppError, error_text},
    i18n::*,
    seo::NoIndex,
};

/// What a page shows for its loaded data: `page` when it loaded, the 404
/// page when it does not exist (or may not be seen), else a translated alert.
pub fn page_or_error<T>(result: Result<T, AppError>, page: impl FnOnce(T) -> AnyView) -> AnyView {
    match result {
        Ok(data) => page(data),
        Err(AppError::NotFound) => view! { <NotFound /> }.into_any(),
        Err(error) => view! {
            <p role="alert" class="rounded-md bg-red-50 p-4 text-red-800 dark:bg-red-950 dark:text-red-200">
                {error_text(&error)}
            </p>
        }
        .into_any(),
    }
}

/// Shown for any address that matches no page, with a 404 status.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    view! {
        <Title text=move || t_string!(i18n, not_found_title) />
        <NoIndex />
        <section class="mx-auto max-w-xl py-16 text-center">
            <p class="text-sm font-semibold text-indigo-600 dark:text-indigo-400">"404"</p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight">{t!(i18n, not_found_title)}</h1>
            <p class="mt-4 text-slate-600 dark:text-slate-400">{t!(i18n, not_found_body)}</p>
            <A
                href="/"
                attr:class="mt-8 inline-block rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500"
            >
                {t!(i18n, not_found_home)}
            </A>
        </section>
    }
}
