//! A room's archive, one page per UTC day: `/r/{slug}/{yyyy-mm-dd}`.
//! Past days do not change (but for the odd edit), so their pages are
//! stable, cacheable, and the canonical address of past conversations for
//! search engines; each links to the days before and after it.

use leptos::{prelude::*, server_fn::codec::GetUrl};
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};
use tchatche_core::event::MessageView;

use super::{
    RoomInfo,
    conversation::{MessageRow, rows},
};
use crate::{
    error::AppError,
    i18n::*,
    pages::page_or_error,
    seo::{PageHead, PageSeo},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveData {
    pub room: RoomInfo,
    /// `yyyy-mm-dd`.
    pub day: String,
    /// Oldest first.
    pub messages: Vec<MessageView>,
    /// More messages of this day follow the last one shown.
    pub has_more: bool,
    /// The nearest days with messages, `yyyy-mm-dd`.
    pub previous_day: Option<String>,
    pub next_day: Option<String>,
    pub seo: Option<PageSeo>,
}

/// Message text (body and markup) on one archive page: a page holds each
/// message twice (as HTML and as hydration data), so 500 messages of the
/// longest kind would pass the server's render cap; past this many bytes
/// the day continues on the next page instead.
#[cfg(feature = "ssr")]
const ARCHIVE_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// Keeps the first messages whose text fits in `ARCHIVE_PAGE_BYTES` (at
/// least one); whether any had to go.
#[cfg(feature = "ssr")]
fn keep_within_page_bytes(messages: &mut Vec<MessageView>) -> bool {
    let mut total = 0;
    let fitting = messages
        .iter()
        .position(|message| {
            total += message.body.len() + message.html.len();
            total > ARCHIVE_PAGE_BYTES
        })
        .map_or(messages.len(), |first_over| first_over.max(1));
    let cut = fitting < messages.len();
    messages.truncate(fitting);
    cut
}

/// One day of a room. A day without messages, a malformed date or a room
/// the viewer may not see are all 404.
#[server(endpoint = "archive_page", input = GetUrl)]
pub async fn archive_page(slug: String, day: String, after: Option<i64>) -> Result<ArchiveData, AppError> {
    use tchatche_core::ids::{Seq, UnixMillis, UtcDay};

    use super::access::{self, Freshness};
    use crate::{error::with_status, seo::ssr, state::app_state};

    /// Messages on one archive page; a busier day continues on `?after=`.
    const ARCHIVE_PAGE: u32 = 500;

    let (overview, viewer, member) = access::visible_overview(&slug).await?;
    let room = &overview.room;
    let store = &app_state().store;
    let Some(day) = UtcDay::parse(&day) else { return Err(with_status(AppError::NotFound)) };
    let Some(worth_indexing) = store.archive_day(room.id, day).await? else { return Err(with_status(AppError::NotFound)) };
    let (mut messages, mut has_more) = store.messages_on_day(room.id, day, after.map(Seq), ARCHIVE_PAGE).await?;
    if keep_within_page_bytes(&mut messages) {
        has_more = true;
    }
    store.attach_reactions(&mut messages).await?;
    tchatche_core::access::conceal_for(room, viewer.as_ref(), &mut messages);
    let (previous_day, next_day) = store.neighbour_days(room.id, day).await?;

    let freshness = if day == UtcDay::of(UnixMillis::now()) { Freshness::Today } else { Freshness::PastDay };
    access::cache_for(room, viewer.as_ref(), freshness);
    // A continuation page (`?after=`) is reached from its day's first page;
    // a thin day (`IndexQuality`) is `noindex`, its links still followed.
    let seo = if room.is_indexable() && after.is_none() && worth_indexing {
        let url = format!("{}/r/{}/{day}", ssr::site_url(), room.slug);
        let headline = format!("{} · {day}", room.name);
        let owner = overview.owner_name.as_deref();
        ssr::allow_indexing();
        Some(PageSeo { json_ld: ssr::discussion(room, owner, &headline, &url, &messages), canonical: url })
    } else {
        None
    };
    Ok(ArchiveData {
        room: access::info(&overview, viewer.as_ref(), member),
        day: day.to_string(),
        messages,
        has_more,
        previous_day: previous_day.map(|d| d.to_string()),
        next_day: next_day.map(|d| d.to_string()),
        seo,
    })
}

#[component]
pub fn ArchivePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let params = params.read();
            let after = query.read().get("after").and_then(|a| a.parse::<i64>().ok());
            (params.get("slug").unwrap_or_default(), params.get("day").unwrap_or_default(), after)
        },
        |(slug, day, after)| archive_page(slug, day, after),
    );
    view! {
        <Suspense fallback=move || view! { <p class="text-slate-500">{t!(i18n, room_loading)}</p> }>
            {move || Suspend::new(async move { page_or_error(data.await, |data| view! { <ArchiveDay data /> }.into_any()) })}
        </Suspense>
    }
}

#[component]
fn ArchiveDay(data: ArchiveData) -> impl IntoView {
    let i18n = use_i18n();
    let ArchiveData { room, day, messages, has_more, previous_day, next_day, seo } = data;
    let title = format!("{} · {day}", room.name);
    let description = if room.description.is_empty() {
        t_string!(i18n, archive_description, room = room.name.clone(), day = day.clone()).to_string()
    } else {
        room.description.clone()
    };
    let continue_href = has_more.then(|| {
        let last = messages.last().map(|m| m.seq.0).unwrap_or_default();
        format!("/r/{}/{day}?after={last}", room.slug)
    });
    let day_link = |day: Option<String>, rel: &'static str, label: AnyView| {
        day.map(|day| {
            view! {
                <a href=format!("/r/{}/{day}", room.slug) rel=rel class="rounded-md border border-slate-300 px-3 py-1.5 dark:border-slate-700">
                    {label} " " <time datetime=day.clone()>{day.clone()}</time>
                </a>
            }
        })
    };
    let by_seq = messages.into_iter().map(|m| (m.seq, m)).collect();
    // The rows are the conversation island's, which says its words this way.
    crate::phrases::PhraseBook::provide(crate::phrases::Phrases::for_reader());
    view! {
        <PageHead title=title.clone() description seo />
        <article aria-labelledby="archive-title" class="mx-auto flex max-w-3xl flex-col gap-4">
            <header class="border-b border-slate-200 pb-3 dark:border-slate-800">
                <p class="text-sm">
                    <a href=format!("/r/{}", room.slug) class="text-indigo-700 underline dark:text-indigo-300"><span aria-hidden="true" class="inline-block rtl:-scale-x-100">"←"</span> " " <bdi>{room.name.clone()}</bdi></a>
                </p>
                <h1 id="archive-title" class="mt-1 text-2xl font-bold tracking-tight">
                    <bdi>{room.name.clone()}</bdi> " · " <time datetime=day.clone()>{day.clone()}</time>
                </h1>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{t!(i18n, archive_explained)}</p>
            </header>
            <ol class="flex flex-col pb-2" data-testid="archive-messages" aria-label=move || t_string!(i18n, room_messages_label)>
                {rows(&by_seq).into_iter().map(|row| view! { <MessageRow row viewer=None slug=room.slug.clone() /> }).collect_view()}
            </ol>
            {continue_href.map(|href| view! {
                <p><a href=href class="text-indigo-700 underline dark:text-indigo-300" data-testid="archive-more">{t!(i18n, archive_more)}</a></p>
            })}
            <nav aria-label=move || t_string!(i18n, archive_days) class="flex flex-wrap justify-between gap-3 text-sm" data-testid="archive-days">
                {day_link(previous_day, "prev", t!(i18n, archive_previous).into_any())}
                {day_link(next_day, "next", t!(i18n, archive_next).into_any())}
            </nav>
        </article>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn message(bytes: usize) -> MessageView {
        let mut message: MessageView = serde_json::from_value(serde_json::json!({
            "id": "00000000-0000-0000-0000-000000000001", "room_id": 1, "seq": 1, "version": 1, "author": null,
            "body": "", "html": "", "mentions": [], "created_at": 0, "edited_at": null, "deleted": false
        }))
        .unwrap();
        message.body = "x".repeat(bytes);
        message
    }

    #[test]
    fn an_archive_page_stops_before_its_byte_budget() {
        let mut small = vec![message(100); 10];
        assert!(!keep_within_page_bytes(&mut small));
        assert_eq!(small.len(), 10);

        let mut large = vec![message(ARCHIVE_PAGE_BYTES / 4); 10];
        assert!(keep_within_page_bytes(&mut large));
        assert_eq!(large.len(), 4);

        let mut huge = vec![message(ARCHIVE_PAGE_BYTES * 2); 3];
        assert!(keep_within_page_bytes(&mut huge));
        assert_eq!(huge.len(), 1, "a page always shows at least one message");
    }
}
