//! A thread's page, `/r/{slug}/t/{id}`: a message and its replies, rendered
//! on the server, older replies by `?before=` links, live with JavaScript
//! (the conversation island, following only this thread). `?reply={id}`
//! opens the composer answering that reply rather than the first message.
//!
//! In a room search engines may index, a thread that meets the quality bar
//! is an indexable page of its own: the unit of a past conversation, as
//! forums index topics. A thread whose first message was deleted is gone
//! (410), so search engines drop it.

use leptos::{prelude::*, server_fn::codec::GetUrl};
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};
use tchatche_core::{
    event::{MessageView, Quote},
    ids::{MessageId, Seq},
};

use super::{
    PostMessage, RoomInfo,
    conversation::{ConversationPage, ThreadView},
    my_rooms,
};
use crate::{
    error::AppError,
    i18n::*,
    pages::page_or_error,
    seo::{PageHead, PageSeo},
};

/// Everything a thread's page renders on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadPageData {
    pub room: RoomInfo,
    /// The first message; then its replies, oldest first.
    pub root: MessageView,
    pub replies: Vec<MessageView>,
    pub has_older: bool,
    /// The latest replies (live), not `?before=`.
    pub latest: bool,
    pub viewer: Option<String>,
    /// A fresh id for a reply posted without JavaScript (members, latest page).
    pub next_message_id: Option<MessageId>,
    /// The room's newest version as this page was read: the island resumes
    /// after it.
    pub room_version: Seq,
    /// What the composer answers: `?reply=`, else the first message.
    pub answering: Quote,
    /// How the viewer reads translations here, if at all.
    pub reading: Option<tchatche_core::languages::Reading>,
    /// The start of the first message: the page's heading and headline.
    pub headline: String,
    pub description: String,
    pub seo: Option<PageSeo>,
}

#[server(endpoint = "thread_page", input = GetUrl)]
pub async fn thread_page(slug: String, id: String, before: Option<i64>, reply: Option<String>) -> Result<ThreadPageData, AppError> {
    use tchatche_core::{chat, event::excerpt};

    use super::{access, translation};
    use crate::{error::with_status, seo::ssr, state::app_state};

    /// Characters of the first message in a thread's title.
    const TITLE_CHARS: usize = 70;
    /// Characters of the thread's text in its description.
    const DESCRIPTION_CHARS: usize = 160;

    let (overview, viewer, member) = access::visible_overview(&slug).await?;
    let room = &overview.room;
    let state = app_state();
    let not_found = || with_status(AppError::NotFound);
    let root_id = uuid::Uuid::parse_str(&id).map(MessageId).map_err(|_| not_found())?;
    let mut root = match chat::find(&state.store, &state.bus, room.id, root_id).await {
        Err(tchatche_core::Error::NotFound(_)) => return Err(not_found()),
        found => found?,
    };
    // A reply's thread is its first message's.
    if root.threading.root.is_some() {
        return Err(not_found());
    }
    if root.deleted {
        return Err(with_status(AppError::Gone));
    }
    let before = before.map(Seq);
    let mut page = chat::thread_history(&state.store, &state.bus, room.id, root.id, before).await?;
    state.store.attach_reactions(std::slice::from_mut(&mut root)).await?;
    let reading = translation::ssr::reading_of(viewer.as_ref(), room);
    if let Some(reading) = &reading {
        state.store.attach_translations(std::slice::from_mut(&mut root), reading, None).await?;
        state.store.attach_translations(&mut page.messages, reading, None).await?;
    }
    access::cache_for(room, viewer.as_ref(), access::Freshness::Live);
    tchatche_core::access::conceal_for(room, viewer.as_ref(), std::slice::from_mut(&mut root));
    tchatche_core::access::conceal_for(room, viewer.as_ref(), &mut page.messages);

    // `?reply=` answers one of the replies shown; anything else answers the first message.
    let reply = reply.and_then(|r| uuid::Uuid::parse_str(&r).ok()).map(MessageId);
    let answered = reply.and_then(|id| page.messages.iter().find(|m| m.id == id && !m.deleted)).unwrap_or(&root);
    let answering = Quote::of_message(answered);

    let headline = excerpt(&root.body, TITLE_CHARS);
    let text = std::iter::once(&root).chain(&page.messages).filter(|m| !m.deleted).map(|m| m.body.as_str()).collect::<Vec<_>>();
    let description = excerpt(&text.join(" "), DESCRIPTION_CHARS);
    let thread = state.store.thread(root.id).await?;
    // A thread is named after its first message: not one whose words are
    // kept off search engines.
    let worth_indexing = thread.as_ref().is_some_and(|thread| thread.indexable) && !root.is_concealed();
    // Search engines read originals, the first page, and threads worth it.
    let seo = if room.is_indexable() && reading.is_none() && before.is_none() && reply.is_none() && worth_indexing {
        let room_url = format!("{}/r/{}", ssr::site_url(), room.slug);
        let url = format!("{room_url}/t/{}", root.id);
        let replies = thread.as_ref().map_or(0, |thread| thread.replies);
        let json_ld = ssr::thread_posting(&ssr::ThreadPosting {
            room_name: &room.name,
            room_url: &room_url,
            url: &url,
            headline: &headline,
            root: &root,
            replies: &page.messages,
            reply_count: replies,
        });
        ssr::allow_indexing();
        Some(PageSeo { canonical: url, json_ld })
    } else {
        None
    };
    Ok(ThreadPageData {
        room: access::info(&overview, viewer.as_ref(), member),
        root,
        replies: page.messages,
        has_older: page.has_older,
        latest: before.is_none(),
        viewer: viewer.map(|v| v.username),
        next_message_id: (member && before.is_none()).then(|| MessageId(uuid::Uuid::now_v7())),
        room_version: room.last_seq,
        answering,
        reading,
        headline,
        description,
        seo,
    })
}

#[component]
pub fn ThreadPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let (params, query) = (params.read(), query.read());
            let before = query.get("before").and_then(|b| b.parse::<i64>().ok());
            (params.get("slug").unwrap_or_default(), params.get("id").unwrap_or_default(), before, query.get("reply"))
        },
        |(slug, id, before, reply)| thread_page(slug, id, before, reply),
    );
    // A reply refused without JavaScript comes back with the server's reason.
    let post_refused = ServerAction::<PostMessage>::new().value().get_untracked().and_then(Result::err);
    let reaction_refused = super::reactions::refusal();
    let sidebar = Resource::new(|| (), |_| my_rooms());
    view! {
        <Suspense fallback=move || view! { <p class="text-slate-500">{tu_string!(i18n, room_loading)}</p> }>
            {move || {
                let post_refused = post_refused.clone();
                Suspend::new(async move {
                    let my_rooms = sidebar.await.unwrap_or_default();
                    page_or_error(data.await, |data| {
                        let ThreadPageData {
                            room, root, replies, has_older, latest, viewer, next_message_id, room_version, answering, reading, headline,
                            description, seo,
                        } = data;
                        // A first message shown without its words leaves the thread unnamed.
                        let headline = if headline.is_empty() { tu_string!(i18n, thread_untitled).to_string() } else { headline };
                        // Unique: the thread's words, then its room's name.
                        let title = format!("{headline} · {}", room.name);
                        let path = format!("/r/{}/t/{}", room.slug, root.id);
                        let thread = ThreadView { root: root.id, room_version, answering };
                        let messages = std::iter::once(root).chain(replies).collect();
                        let back = view! {
                            <header class="mb-2 border-b border-slate-200 pb-3 dark:border-slate-800">
                                <p class="text-sm">
                                    <a href=format!("/r/{}", room.slug) class="text-indigo-700 underline dark:text-indigo-300" data-testid="thread-room">
                                        <span aria-hidden="true" class="inline-block rtl:-scale-x-100">"←"</span> " " <bdi>{room.name.clone()}</bdi>
                                    </a>
                                </p>
                                <h1 id="room-title" class="mt-1 text-xl font-bold tracking-tight" dir="auto">{headline}</h1>
                                <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">{tu_string!(i18n, thread_explained)}</p>
                            </header>
                            {super::reactions::refusal_alert(reaction_refused)}
                        };
                        let page = ConversationPage {
                            path,
                            room,
                            messages,
                            has_older,
                            latest,
                            viewer,
                            composer_id: next_message_id,
                            my_rooms,
                            editing: None,
                            post_refused,
                            reading,
                            asked: None,
                            thread: Some(thread),
                        };
                        view! {
                            <PageHead title description seo />
                            {page.render(back.into_any())}
                        }
                            .into_any()
                    })
                })
            }}
        </Suspense>
    }
}
