//! The home page: the directory of public rooms, with search, two orders
//! and pages, all plain links and a GET form (no JavaScript needed).

use leptos::{prelude::*, server_fn::codec::GetUrl};
use leptos_meta::{Link, Meta, Title};
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use tchatche_core::{
    ids::UnixMillis,
    room::{DirectoryPage, DirectoryQuery, DirectorySort, RoomSummary},
};

use crate::{
    auth::urlencode,
    error::{AppError, error_text, input_error_text},
    i18n::*,
    seo::NoIndex,
};

/// A page of the directory as the home page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    pub page: DirectoryPage,
    /// The page's absolute address when search engines may index it: the
    /// plain pages, not searches or other orders (the same rooms again).
    pub canonical: Option<String>,
}

/// One page of public rooms for `?q=&sort=&page=`; a parameter out of its
/// limits is refused (400) with the parameter named.
#[server(endpoint = "public_rooms", input = GetUrl)]
pub async fn public_rooms(q: Option<String>, sort: Option<String>, page: Option<String>) -> Result<Directory, AppError> {
    let query = match DirectoryQuery::parse(q.as_deref(), sort.as_deref(), page.as_deref()) {
        Ok(query) => query,
        Err((field, error)) => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::BAD_REQUEST);
            }
            return Err(AppError::invalid(field, error));
        }
    };
    let page = crate::state::app_state().store.public_rooms(&query).await?;
    let canonical = (query.search.is_empty() && query.sort == DirectorySort::Activity).then(|| {
        crate::seo::ssr::allow_indexing();
        format!("{}/{}", crate::seo::ssr::site_url(), query.query_string(query.page, urlencode))
    });
    Ok(Directory { page, canonical })
}

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_query_map();
    let param = move |name: &str| params.read().get(name);
    let rooms = Resource::new_blocking(
        move || (param("q"), param("sort"), param("page")),
        |(q, sort, page)| public_rooms(q, sort, page),
    );
    // What the links of this page keep; the defaults when the query is refused.
    let query = Memo::new(move |_| {
        DirectoryQuery::parse(param("q").as_deref(), param("sort").as_deref(), param("page").as_deref()).unwrap_or_default()
    });
    view! {
        // Each page of the directory has a title of its own.
        <Title text=move || match query.get().page {
            1 => t_string!(i18n, home_title).to_string(),
            page => format!("{} · {}", t_string!(i18n, home_title), t_string!(i18n, directory_page, page)),
        } />
        <Meta name="description" content=move || t_string!(i18n, site_tagline) />
        <section aria-labelledby="directory-title">
            <div class="flex flex-wrap items-end justify-between gap-3">
                <div>
                    <h1 id="directory-title" class="text-3xl font-bold tracking-tight">{t!(i18n, home_title)}</h1>
                    <p class="mt-2 text-slate-600 dark:text-slate-400">{t!(i18n, home_intro)}</p>
                </div>
                <a href="/rooms/new" class="rounded-md bg-indigo-700 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-600" data-testid="new-room">
                    {t!(i18n, home_new_room)}
                </a>
            </div>
            <SearchForm query />
            <Suspense>
                {move || Suspend::new(async move {
                    let directory = match rooms.await {
                        Ok(directory) => directory,
                        Err(error) => return view! { <NoIndex /> <DirectoryError error /> }.into_any(),
                    };
                    let robots = match directory.canonical {
                        Some(href) => view! { <Link rel="canonical" href /> }.into_any(),
                        None => view! { <NoIndex /> }.into_any(),
                    };
                    let page = directory.page;
                    let listing = if page.rooms.is_empty() && query.get().page == 1 {
                        view! { <EmptyDirectory searching=!query.get().search.is_empty() /> }.into_any()
                    } else {
                        view! {
                            <RoomList rooms=page.rooms />
                            <Pagination query=query.get() has_next=page.has_next />
                        }
                            .into_any()
                    };
                    view! { {robots} {listing} }.into_any()
                })}
            </Suspense>
        </section>
    }
}

/// A GET form: the results page is an ordinary link, shareable and
/// working without JavaScript.
#[component]
fn SearchForm(query: Memo<DirectoryQuery>) -> impl IntoView {
    let i18n = use_i18n();
    let sort = move || query.get().sort;
    view! {
        <form method="get" action="/" role="search" class="mt-6 flex flex-wrap items-end gap-3" data-testid="directory-search">
            <label class="flex min-w-48 flex-1 flex-col gap-1 text-sm font-medium">
                {t!(i18n, directory_search_label)}
                <input
                    type="search"
                    name="q"
                    maxlength=DirectoryQuery::MAX_SEARCH
                    prop:value=move || query.get().search
                    class="rounded-md border border-slate-300 bg-white px-3 py-2 text-base font-normal dark:border-slate-700 dark:bg-slate-900"
                />
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium">
                {t!(i18n, directory_sort_label)}
                <select name="sort" class="rounded-md border border-slate-300 bg-white px-3 py-2 text-base font-normal dark:border-slate-700 dark:bg-slate-900">
                    <option value="activity" selected=move || sort() == DirectorySort::Activity>
                        {t!(i18n, directory_sort_activity)}
                    </option>
                    <option value="name" selected=move || sort() == DirectorySort::Name>
                        {t!(i18n, directory_sort_name)}
                    </option>
                </select>
            </label>
            <button type="submit" class="rounded-md border border-slate-300 px-4 py-2 text-sm font-semibold hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
                {t!(i18n, directory_search_submit)}
            </button>
        </form>
    }
}

/// Previous and next pages, as links.
#[component]
fn Pagination(query: DirectoryQuery, has_next: bool) -> impl IntoView {
    let i18n = use_i18n();
    let page = query.page;
    let previous = (page > 1).then(|| format!("/{}", query.query_string(page - 1, urlencode)));
    let next = has_next.then(|| format!("/{}", query.query_string(page + 1, urlencode)));
    let link = "rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800";
    (previous.is_some() || next.is_some()).then(|| {
        view! {
            <nav aria-label=move || t_string!(i18n, directory_pages) class="mt-6 flex items-center justify-between gap-3" data-testid="directory-pages">
                {previous.map(|href| view! { <a href=href rel="prev" class=link>{t!(i18n, directory_previous)}</a> })}
                <span class="text-sm text-slate-600 dark:text-slate-400">{t!(i18n, directory_page, page = move || page)}</span>
                {next.map(|href| view! { <a href=href rel="next" class=link>{t!(i18n, directory_next)}</a> })}
            </nav>
        }
    })
}

#[component]
fn DirectoryError(error: AppError) -> impl IntoView {
    let i18n = use_i18n();
    let detail = match &error {
        AppError::Invalid(_) => ["q", "sort", "page"].into_iter().find_map(|field| Some((field, error.field(field)?))),
        _ => None,
    };
    view! {
        <div role="alert" class="mt-8 rounded-md bg-red-50 p-4 text-red-800 dark:bg-red-950 dark:text-red-200" data-testid="directory-error">
            {match detail {
                Some((field, problem)) => {
                    let label = match field {
                        "q" => t_string!(i18n, directory_search_label),
                        "sort" => t_string!(i18n, directory_sort_label),
                        _ => t_string!(i18n, directory_page_label),
                    };
                    view! { <p>{label} ": " {input_error_text(problem)}</p> }.into_any()
                }
                None => view! { <p>{error_text(&error)}</p> }.into_any(),
            }}
            <p class="mt-2"><a href="/" class="underline">{t!(i18n, directory_reset)}</a></p>
        </div>
    }
}

#[component]
fn EmptyDirectory(searching: bool) -> impl IntoView {
    let i18n = use_i18n();
    if searching {
        return view! {
            <p class="mt-8 rounded-xl border border-dashed border-slate-300 p-10 text-center dark:border-slate-700" data-testid="directory-empty">
                {t!(i18n, directory_no_match)}
            </p>
        }
        .into_any();
    }
    view! {
        <div
            class="mt-8 rounded-xl border border-dashed border-slate-300 p-10 text-center dark:border-slate-700"
            data-testid="directory-empty"
        >
            <p class="text-lg font-semibold">{t!(i18n, directory_empty_title)}</p>
            <p class="mt-1 text-slate-600 dark:text-slate-400">{t!(i18n, directory_empty_body)}</p>
        </div>
    }
    .into_any()
}

#[component]
fn RoomList(rooms: Vec<RoomSummary>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="mt-8 grid gap-3 sm:grid-cols-2" data-testid="directory">
            {rooms
                .into_iter()
                .map(|room| {
                    let href = format!("/r/{}#latest", room.slug);
                    let count = room.member_count;
                    view! {
                        <li class="rounded-xl border border-slate-200 p-4 hover:border-indigo-400 dark:border-slate-800">
                            <a href=href class="text-lg font-semibold hover:underline">
                                <bdi>{room.name}</bdi>
                            </a>
                            <p class="mt-1 line-clamp-2 text-sm text-slate-600 dark:text-slate-400" dir="auto">{room.description}</p>
                            <p class="mt-3 flex gap-3 text-xs text-slate-500 dark:text-slate-400">
                                <span>{t!(i18n, directory_members, count = move || count)}</span>
                                <span>
                                    {t!(i18n, directory_last_activity)} " "
                                    <LocalTime at=room.last_activity_at />
                                </span>
                            </p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// A UTC time the server renders as-is and the browser then shows in the
/// reader's own time zone and language (same markup on both sides first, so
/// hydration never mismatches). An island of its own, so it runs on pages
/// that are otherwise static; inside another island it is a plain part of it.
#[island]
pub fn LocalTime(at: UnixMillis) -> impl IntoView {
    let iso = at.to_rfc3339();
    let text = RwSignal::new(iso.replace('T', " ")[..16].to_owned() + " UTC");
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| text.set(local_time_text(&js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.0 as f64)))));
    }
    view! { <time datetime=iso>{text}</time> }
}

/// A time as the reader's browser writes it, in the page's language (as the
/// server wrote it on `<html lang>`).
#[cfg(feature = "hydrate")]
pub fn local_time_text(date: &js_sys::Date) -> String {
    let locale = document().document_element().map(|html| html.get_attribute("lang").unwrap_or_default()).unwrap_or_default();
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    date.to_locale_string(&locale, &options).as_string().unwrap_or_default()
}
