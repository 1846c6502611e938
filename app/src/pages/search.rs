//! `/search`: full-text search over the messages the reader may read
//! (public rooms, and their rooms when signed in). A GET form and plain
//! links, rendered on the server: no code reaches the browser for it, and
//! every result page is an address to share or come back to.

use leptos::{prelude::*, server_fn::codec::GetUrl};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use tchatche_core::search::{Excerpt, SearchHit, SearchResults};

use crate::{
    auth::urlencode,
    error::{AppError, error_text, input_error_text},
    i18n::*,
    pages::LocalTime,
    seo::NoIndex,
};

/// Results per page.
#[cfg(feature = "ssr")]
const RESULTS_PER_PAGE: u32 = 20;

/// The fields of the search form, in the order of the address.
const FIELDS: [&str; 5] = ["q", "room", "author", "from", "to"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchAnswer {
    /// Signed in: their rooms are searched too.
    pub member: bool,
    /// `None` until some words are asked for.
    pub results: Option<SearchResults>,
    /// Words past the limit were left out.
    pub words_cut: bool,
}

/// One page of results for `?q=&room=&author=&from=&to=&before=`. A field
/// out of its rules is refused (400) with the field named; a room or an
/// author the reader cannot see is "not valid", like one that does not exist.
#[server(endpoint = "search", input = GetUrl)]
pub async fn search_messages(
    q: Option<String>,
    room: Option<String>,
    author: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
) -> Result<SearchAnswer, AppError> {
    use tchatche_core::{
        access::{reading_account, room_access},
        ids::UtcDay,
        input::InputError,
        languages::base_of,
        limits::{Scope, address_key},
        search::{SearchCursor, SearchQuery, SearchScope},
    };

    use crate::{error::InvalidForm, state::app_state};

    // Every refusal, from the checks below or from storage, answers with its status.
    async move {
        let viewer = crate::auth::session::current_user().await?;
        let answer = |results, words_cut| SearchAnswer { member: viewer.is_some(), results, words_cut };
        let given = |value: &Option<String>| {
            value.as_deref().map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned)
        };
        let Some(words) = given(&q) else { return Ok(answer(None, false)) };

        let store = &app_state().store;
        let mut form = InvalidForm::new();
        let query = form.check("q", SearchQuery::parse(&words));
        let mut scope = SearchScope::default();
        if let Some(slug) = given(&room) {
            let slug = slug.trim_start_matches("/r/").trim_matches('/').to_owned();
            let readable = match store.room_by_slug(&slug).await? {
                Some(room) if room_access(store, &room, viewer.as_ref()).await?.may_read() => Some(room.id),
                _ => None,
            };
            scope.room = form.check("room", readable.ok_or(InputError::Malformed));
        }
        if let Some(username) = given(&author) {
            let found = store.user_by_username(&username).await?.map(|user| user.id);
            scope.author = form.check("author", found.ok_or(InputError::Malformed));
        }
        let day = |field: &str, value: &Option<String>, form: &mut InvalidForm| {
            given(value).and_then(|text| form.check(field, UtcDay::parse(&text).ok_or(InputError::Malformed)))
        };
        let since = day("from", &from, &mut form);
        let until = day("to", &to, &mut form);
        if let (Some(since), Some(until)) = (since, until)
            && until < since
        {
            form.check::<()>("to", Err(InputError::Malformed));
        }
        scope.since = since.map(UtcDay::start);
        scope.until = until.map(UtcDay::end);
        if let Some(cursor) = given(&before) {
            scope.before = form.check("before", SearchCursor::decode(&cursor).ok_or(InputError::Malformed));
        }
        let Some(query) = query.filter(|_| form.is_empty()) else {
            let kept: Vec<(&str, &str)> = FIELDS
                .iter()
                .zip([&q, &room, &author, &from, &to])
                .filter_map(|(field, value)| Some((*field, value.as_deref()?)))
                .collect();
            return Err(AppError::Invalid(form).keeping(&kept));
        };

        let throttle_key = match &viewer {
            Some(viewer) => viewer.id.to_string(),
            None => crate::auth::session::client_address().map(address_key).unwrap_or_default(),
        };
        crate::state::throttle(Scope::Search, &throttle_key).await?;
        let reader_lang = base_of(crate::language::request_locale().as_str());
        let results = store
            .search_messages(&query, reader_lang, reading_account(viewer.as_ref()), &scope, RESULTS_PER_PAGE)
            .await?;
        Ok(answer(Some(results), query.was_cut()))
    }
    .await
    .map_err(crate::error::with_status)
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_query_map();
    let param = move |name: &str| params.read().get(name);
    let answer = Resource::new_blocking(
        move || (param("q"), param("room"), param("author"), param("from"), param("to"), param("before")),
        |(q, room, author, from, to, before)| search_messages(q, room, author, from, to, before),
    );
    // What the form shows and the "older" link keeps: the address's fields.
    let asked = move || FIELDS.map(|field| (field, param(field).unwrap_or_default()));
    view! {
        <Title text=move || t_string!(i18n, search_title) />
        <NoIndex />
        <section aria-labelledby="search-title" class="mx-auto flex max-w-3xl flex-col gap-6">
            <h1 id="search-title" class="text-3xl font-bold tracking-tight">{t!(i18n, search_title)}</h1>
            <Suspense>
                {move || Suspend::new(async move {
                    let asked = asked();
                    match answer.await {
                        Ok(answer) => view! {
                            <SearchForm asked=asked.clone() error=None member=answer.member />
                            {answer.results.map(|results| view! { <Results results asked words_cut=answer.words_cut /> })}
                        }.into_any(),
                        Err(error) => view! { <SearchForm asked error=Some(error) member=false /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

const INPUT: &str = "rounded-md border border-slate-300 bg-white px-3 py-2 text-base font-normal dark:border-slate-700 dark:bg-slate-900";

/// The GET form; a refused field says why beside it.
#[component]
fn SearchForm(asked: [(&'static str, String); 5], error: Option<AppError>, member: bool) -> impl IntoView {
    let i18n = use_i18n();
    let value =
        |field: &str| asked.iter().find(|(name, _)| *name == field).map(|(_, value)| value.clone()).unwrap_or_default();
    let problem = |field: &str| error.as_ref().and_then(|error| error.field(field));
    let field_error = move |field: &'static str| {
        problem(field).map(|problem| {
            view! { <span id=format!("{field}-error") class="text-sm font-normal text-red-700 dark:text-red-300" data-testid=format!("search-error-{field}")>{input_error_text(problem)}</span> }
        })
    };
    // An error that is not about one field (a bad link, a limit, an outage).
    let general = error.as_ref().filter(|error| FIELDS.iter().all(|field| error.field(field).is_none())).map(|error| {
        view! { <p role="alert" class="rounded-md bg-red-50 p-4 text-red-800 dark:bg-red-950 dark:text-red-200" data-testid="search-error">{error_text(error)}</p> }
    });
    let filters_open = ["room", "author", "from", "to"].iter().any(|field| !value(field).is_empty());
    let text_field = |field: &'static str, label: String, kind: &'static str, max: Option<u32>| {
        view! {
            <label class="flex flex-col gap-1 text-sm font-medium">
                {label}
                <input
                    type=kind
                    name=field
                    value=value(field)
                    maxlength=max
                    aria-invalid=problem(field).map(|_| "true")
                    aria-describedby=problem(field).map(|_| format!("{field}-error"))
                    class=INPUT
                />
                {field_error(field)}
            </label>
        }
    };
    view! {
        <p class="text-slate-600 dark:text-slate-400">
            {if member { t_string!(i18n, search_intro_member).to_string() } else { t_string!(i18n, search_intro_visitor).to_string() }}
        </p>
        {general}
        <form method="get" action="/search" role="search" class="flex flex-col gap-3" data-testid="search-form">
            <div class="flex flex-wrap items-end gap-3">
                <label class="flex min-w-48 flex-1 flex-col gap-1 text-sm font-medium">
                    {t!(i18n, search_words_label)}
                    <input
                        type="search"
                        name="q"
                        value=value("q")
                        required
                        maxlength=tchatche_core::search::SearchQuery::MAX_CHARS
                        aria-invalid=problem("q").map(|_| "true")
                        aria-describedby=if problem("q").is_some() { "q-error" } else { "search-hint" }
                        class=INPUT
                    />
                    {field_error("q")}
                </label>
                <button type="submit" class="rounded-md bg-indigo-700 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-600">
                    {t!(i18n, search_submit)}
                </button>
            </div>
            <p id="search-hint" class="text-sm text-slate-600 dark:text-slate-400">{t!(i18n, search_hint)}</p>
            <details open=filters_open class="rounded-md border border-slate-200 p-3 dark:border-slate-800">
                <summary class="cursor-pointer text-sm font-medium">{t!(i18n, search_filters)}</summary>
                <div class="mt-3 grid gap-3 sm:grid-cols-2">
                    {text_field("room", t_string!(i18n, search_room_label).to_string(), "text", Some(64))}
                    {text_field("author", t_string!(i18n, search_author_label).to_string(), "text", Some(32))}
                    {text_field("from", t_string!(i18n, search_from_label).to_string(), "date", None)}
                    {text_field("to", t_string!(i18n, search_to_label).to_string(), "date", None)}
                </div>
            </details>
        </form>
    }
}

#[component]
fn Results(results: SearchResults, asked: [(&'static str, String); 5], words_cut: bool) -> impl IntoView {
    let i18n = use_i18n();
    let address = move |before: Option<String>| {
        let mut pairs: Vec<String> = asked
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(field, value)| format!("{field}={}", urlencode(value)))
            .collect();
        pairs.extend(before.map(|before| format!("before={}", urlencode(&before))));
        format!("/search?{}", pairs.join("&"))
    };
    let paged = use_query_map().read_untracked().get("before").is_some();
    let link = "rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800";
    let older = results.next.map(|next| address(Some(next.encode())));
    let newest = paged.then(|| address(None));
    view! {
        {words_cut.then(|| view! {
            <p class="text-sm text-amber-800 dark:text-amber-300" data-testid="search-words-cut">
                {t!(i18n, search_words_cut, count = move || tchatche_core::search::SearchQuery::MAX_WORDS)}
            </p>
        })}
        {if results.hits.is_empty() {
            view! {
                <p class="rounded-xl border border-dashed border-slate-300 p-10 text-center dark:border-slate-700" data-testid="search-empty">
                    {t!(i18n, search_no_results)}
                </p>
            }.into_any()
        } else {
            view! {
                <ol aria-label=move || t_string!(i18n, search_results_label) class="flex flex-col gap-3" data-testid="search-results">
                    {results.hits.into_iter().map(|hit| view! { <Hit hit /> }).collect_view()}
                </ol>
            }.into_any()
        }}
        {(older.is_some() || newest.is_some()).then(|| view! {
            <nav aria-label=move || t_string!(i18n, search_results_label) class="flex flex-wrap justify-between gap-3" data-testid="search-pages">
                {newest.map(|href| view! { <a href=href class=link>{t!(i18n, search_newest)}</a> })}
                {older.map(|href| view! { <a href=href rel="next" class=link data-testid="search-older">{t!(i18n, search_older)}</a> })}
            </nav>
        })}
    }
}

/// One message found: who wrote it, where and when, and its words with the
/// matches marked, linking to it in its conversation.
#[component]
fn Hit(hit: SearchHit) -> impl IntoView {
    let i18n = use_i18n();
    let SearchHit { id, seq, room_slug, room_name, author, created_at, excerpt, .. } = hit;
    // The history page that ends with this message, scrolled to it.
    let href = format!("/r/{room_slug}?before={}#m-{id}", seq.0 + 1);
    let author = match author {
        Some(author) => author.display_name,
        None => t_string!(i18n, deleted_account).to_string(),
    };
    view! {
        <li class="rounded-xl border border-slate-200 p-4 dark:border-slate-800" data-testid="search-hit">
            <p class="flex flex-wrap gap-x-2 text-xs text-slate-600 dark:text-slate-400">
                <bdi class="font-semibold text-slate-800 dark:text-slate-200">{author}</bdi>
                <a href=format!("/r/{room_slug}") class="underline"><bdi>{room_name}</bdi></a>
                <LocalTime at=created_at />
            </p>
            <a href=href class="mt-1 block hover:underline" dir="auto" data-testid="search-hit-link">
                <ExcerptText excerpt />
            </a>
        </li>
    }
}

/// The words of a result, its matches in `<mark>`.
#[component]
fn ExcerptText(excerpt: Excerpt) -> impl IntoView {
    excerpt
        .0
        .into_iter()
        .map(|(text, matched)| {
            if matched {
                view! { <mark class="rounded bg-amber-200 px-0.5 text-inherit dark:bg-amber-700">{text}</mark> }
                    .into_any()
            } else {
                text.into_any()
            }
        })
        .collect_view()
}
