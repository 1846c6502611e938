//! The conversation page, `/r/{slug}`: the latest messages rendered on the
//! server, older ones by `?before=` links (and scrolling back with
//! JavaScript), posting, editing and deleting, live updates, typing and
//! presence. Everything under [`Conversation`] is one island: it runs in the
//! browser with the page's data as its props, and without the router, so it
//! reads the address itself where it must. Its parts are plain functions
//! rather than components (`sidebar`, `message_list`, `composer`, …): every
//! component is one more view type compiled into the browser bundle, which
//! has a size budget.

use leptos::{html, prelude::*, server_fn::ServerFn};
use leptos_router::hooks::{use_params_map, use_query_map};
use tchatche_core::{
    event::{ClientFrame, MessageView, Quote},
    ids::{MessageId, RoomId, Seq},
    languages::{Reading, TranslateMode},
    message::MessageBody,
    reaction::Reactions,
    room::{MyRoom, Visibility},
};

use super::{
    DeleteMessage, EditMessage, JoinRoom, LeaveRoom, PostMessage, RoomInfo, RoomPageData, delete_message, edit_message,
    live,
    live::{Connection, PendingPost, Socket, Timeline},
    my_rooms, older_messages, post_message, reactions, room_page,
};
use crate::{
    auth::urlencode,
    error::AppError,
    i18n::*,
    pages::{LocalTime, page_or_error},
    phrases::{Counted, Phrase, PhraseBook, Phrases},
    seo::PageHead,
};

/// Consecutive messages of one author within this time share one header.
const GROUP_WITHIN_MS: i64 = 5 * 60 * 1000;

#[component]
pub fn RoomPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let before = move || query.read().get("before").and_then(|b| b.parse::<i64>().ok());
    let translate = move || query.read().get("translate");
    // Without JavaScript, an Edit link opens `?edit={id}` with its form, and
    // a refused post or edit comes back with the server's reason (leptos_axum
    // puts it in the address). Read here, on the server, so the island does
    // not carry the actions' code.
    let editing = query.with_untracked(|query| query.get("edit").and_then(|id| uuid::Uuid::parse_str(&id).ok())).map(|id| OpenEdit {
        id: MessageId(id),
        refused: ServerAction::<EditMessage>::new().value().get_untracked().and_then(Result::err),
    });
    let post_refused = ServerAction::<PostMessage>::new().value().get_untracked().and_then(Result::err);
    let reaction_refused = reactions::refusal();
    let data = Resource::new(move || (slug(), before(), translate()), |(slug, before, translate)| room_page(slug, before, translate));
    // Created here, outside the Suspense: a resource created while a
    // Suspense renders its children can keep the server's stream open forever.
    let sidebar = Resource::new(|| (), |_| my_rooms());
    view! {
        <Suspense fallback=move || view! { <p class="text-slate-500">{tu_string!(i18n, room_loading)}</p> }>
            {move || {
                let (editing, post_refused) = (editing.clone(), post_refused.clone());
                Suspend::new(async move {
                    let my_rooms = sidebar.await.unwrap_or_default();
                    page_or_error(data.await, |data| {
                        let RoomPageData { room, messages, has_older, latest, viewer, next_message_id, latest_day, seo, reading, asked } =
                            data;
                        let header = view! { <RoomHeader room=room.clone() latest_day /> {reactions::refusal_alert(reaction_refused)} };
                        let page = ConversationPage {
                            path: format!("/r/{}", room.slug),
                            room: room.clone(),
                            messages,
                            has_older,
                            latest,
                            viewer,
                            composer_id: next_message_id,
                            my_rooms,
                            editing,
                            post_refused,
                            reading,
                            asked,
                            thread: None,
                        };
                        view! {
                            <RoomHead room seo />
                            {page.render(header.into_any())}
                        }
                            .into_any()
                    })
                })
            }}
        </Suspense>
    }
}

/// What a room's or a thread's page shows around its header: the member's
/// island, or for a signed-out reader the server-rendered conversation
/// ([`super::reader`]), and, beside it, what a person without a composer may do instead.
pub(super) struct ConversationPage {
    /// The page's own path (where signing in comes back to).
    pub path: String,
    pub room: RoomInfo,
    pub messages: Vec<MessageView>,
    pub has_older: bool,
    pub latest: bool,
    pub viewer: Option<String>,
    pub composer_id: Option<MessageId>,
    pub my_rooms: Vec<MyRoom>,
    pub editing: Option<OpenEdit>,
    pub post_refused: Option<AppError>,
    pub reading: Option<Reading>,
    pub asked: Option<MessageId>,
    pub thread: Option<ThreadView>,
}

impl ConversationPage {
    pub fn render(self, header: AnyView) -> AnyView {
        let Self { path, room, messages, has_older, latest, viewer, composer_id, my_rooms, editing, post_refused, reading, asked, thread } =
            self;
        let instead_of_composer = composer_alternative(viewer.is_some(), &room, composer_id.is_some(), &path);
        // Someone with no rooms gets no empty "Your rooms" column.
        let (grid, beside) = if my_rooms.is_empty() {
            ("grid gap-6", "-mt-3")
        } else {
            ("grid gap-6 lg:grid-cols-[15rem_minmax(0,1fr)]", "-mt-3 lg:col-start-2")
        };
        let island = if viewer.is_none() {
            super::reader::read_only_conversation(header, &room, messages, has_older, latest, thread)
        } else {
            view! {
                <Conversation
                    room
                    messages
                    has_older
                    latest
                    viewer
                    composer_id
                    my_rooms
                    editing
                    post_refused
                    reading
                    asked
                    thread
                    phrases=Phrases::for_reader()
                >
                    {header}
                </Conversation>
            }
                .into_any()
        };
        view! {
            <div class=grid>
                {island}
                // Beside the island (it is `display: contents`, so this is
                // the grid's next cell): what a person without a composer
                // may do instead.
                {instead_of_composer.map(|prompt| view! { <div class=beside>{prompt}</div> })}
            </div>
        }
            .into_any()
    }
}

/// What a person without a composer on a room's or thread's page (at
/// `path`) may do instead: go to the latest page, join, or sign in; in a
/// direct conversation they cannot write in, read why. `None` where the
/// page has a composer.
fn composer_alternative(signed_in: bool, room: &RoomInfo, has_composer: bool, path: &str) -> Option<AnyView> {
    let slug = room.slug.clone();
    match (signed_in, room.is_member, has_composer) {
        (true, true, true) => None,
        (true, true, false) => Some(view! { <JumpToLatest href=format!("{path}#latest") /> }.into_any()),
        (true, false, _) if room.direct => Some(view! { <CannotWrite /> }.into_any()),
        (true, false, _) => Some(view! { <JoinPrompt slug /> }.into_any()),
        (false, _, _) => Some(view! { <SignInPrompt next=path.to_owned() /> }.into_any()),
    }
}

/// Where a member of a direct conversation may not write (a block between
/// two of its people), instead of the composer.
#[component]
fn CannotWrite() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="rounded-md border border-slate-200 p-3 text-sm text-slate-600 dark:border-slate-800 dark:text-slate-400" data-testid="cannot-write">
            {t!(i18n, direct_cannot_write)}
        </p>
    }
}

/// What the island needs on a thread's page.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ThreadView {
    /// Its first message: the island shows and follows only this thread.
    pub root: MessageId,
    /// The room's newest version as the page was read (to resume after).
    pub room_version: Seq,
    /// What the composer answers.
    pub answering: Quote,
}

/// What the room page tells browsers and search engines in `<head>`.
#[component]
fn RoomHead(room: RoomInfo, seo: Option<crate::seo::PageSeo>) -> impl IntoView {
    let description = if room.description.is_empty() { room.name.clone() } else { room.description.clone() };
    view! { <PageHead title=room.name.clone() description seo /> }
}

/// The island: the person's rooms list, the messages and the composer, live
/// on the latest page. The room's header comes as server-rendered children:
/// nothing in it changes, so the browser bundle does not carry it. Lazy: its
/// code is a WASM file of its own, loaded by the pages that show a
/// conversation only (not the home page, settings or search).
#[island(lazy)]
#[allow(clippy::too_many_arguments)]
pub(super) fn Conversation(
    room: RoomInfo,
    /// Oldest first.
    messages: Vec<MessageView>,
    has_older: bool,
    /// The latest page (live), not `?before=` (a stable archive).
    latest: bool,
    viewer: Option<String>,
    /// The id of the next message, where the page has a composer.
    composer_id: Option<MessageId>,
    my_rooms: Vec<MyRoom>,
    editing: Option<OpenEdit>,
    post_refused: Option<AppError>,
    /// How the viewer reads translations, if at all.
    reading: Option<Reading>,
    /// The message an "ask" reader asked to translate (`?translate=`).
    asked: Option<MessageId>,
    /// Set on a thread's page.
    thread: Option<ThreadView>,
    /// Every word it shows, in the reader's language.
    phrases: Phrases,
    children: Children,
) -> impl IntoView {
    PhraseBook::provide(phrases);
    MemberControls::provide(room.is_member);
    let signed_in = viewer.is_some();
    let has_rooms = !my_rooms.is_empty();
    let timeline = Timeline { thread: thread.as_ref().map(|t| t.root), ..Timeline::new(room.id, messages, has_older, viewer) };
    timeline.reactions_heard.set_value(room.reactions_seq);
    timeline.reading.set_value(reading);
    timeline.asked.update(|ids| ids.extend(asked));
    timeline.my_rooms.set(my_rooms);
    let other_rooms = Signal::derive(move || timeline.my_rooms.with(|rooms| rooms.iter().map(|r| r.id).collect()));
    let socket = follow(timeline, thread.as_ref(), latest, other_rooms);
    view! {
        {has_rooms.then(|| sidebar(room.id, signed_in))}
        <section aria-labelledby="room-title" class="flex min-w-0 flex-col">
            {children()}
            {live_status(room.is_member, socket.is_some())}
            {message_list(room.slug.clone(), latest, socket, editing)}
            {typing_line()}
            {composer_id.map(|next_id| {
                // Hidden, not removed, when the socket says the viewer may no
                // longer post: what they were typing stays if it comes back.
                view! {
                    <div hidden=move || !timeline.may_post.get() data-testid="composer-area">
                        {composer(room.id, next_id, socket, post_refused.clone(), thread.map(|t| (t.root, t.answering)))}
                    </div>
                }
            })}
        </section>
    }
}

/// Shares the timeline with the island's parts and, on the latest page,
/// opens its socket (subscribed to `other_rooms` too, for their counts).
fn follow(timeline: Timeline, thread: Option<&ThreadView>, latest: bool, other_rooms: Signal<Vec<RoomId>>) -> Option<Socket> {
    if let Some(thread) = thread {
        timeline.heard.set_value(thread.room_version);
    }
    provide_context(timeline);
    latest.then(|| live::connect(timeline, other_rooms))
}

/// What the member's island adds to the message list it shares with the
/// server-rendered pages of signed-out readers: the messages this tab is
/// sending, and on each message its edit form and actions (reply, edit,
/// delete, ask for a translation). Provided as context by the member's
/// island only; without it, the list is read-only.
#[derive(Clone, Copy)]
struct MemberControls {
    /// A member of the room (others who are signed in read its reactions).
    may_react: bool,
    pending_rows: fn() -> AnyView,
    edit_form: fn(RoomId, MessageId, String, RwSignal<bool>, Option<AppError>) -> AnyView,
    actions: fn(RoomId, MessageId, RwSignal<bool>, bool, String) -> AnyView,
    ask_translation: fn(Timeline, RoomId, MessageId, bool) -> AnyView,
    reactions: fn(RoomId, MessageId, Reactions, String) -> AnyView,
}

impl MemberControls {
    fn provide(may_react: bool) {
        provide_context(Self {
            may_react,
            pending_rows: || {
                let timeline = expect_context::<Timeline>();
                view! { <For each=move || timeline.pending.get() key=|pending| (pending.id, pending.failed.is_some()) children=pending_row /> }
                    .into_any()
            },
            edit_form: |room, id, body, open, refused| edit_form(room, id, body, open, refused).into_any(),
            actions: |room, id, open, own, reply_href| message_actions(room, id, open, own, reply_href).into_any(),
            ask_translation: |timeline, room, id, asked| ask_translation(timeline, room, id, asked).into_any(),
            reactions: reactions::reaction_controls,
        });
    }
}

/// The rooms and direct conversations the person belongs to, each list
/// with unread counts and mentions.
fn sidebar(current: RoomId, signed_in: bool) -> impl IntoView {
    let say = PhraseBook::expect();
    let timeline = expect_context::<Timeline>();
    let has_direct = move || timeline.my_rooms.with(|rooms| rooms.iter().any(|room| room.direct));
    let heading = move |title: Phrase, new_href: &'static str, new_label: Phrase| {
        view! {
            <div class="mb-2 flex items-center justify-between">
                <h2 class="text-sm font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">{say.get(title)}</h2>
                {signed_in.then(|| view! {
                    <a href=new_href class="text-sm font-medium text-indigo-700 underline dark:text-indigo-300">{say.get(new_label)}</a>
                })}
            </div>
        }
    };
    view! {
        <nav aria-label=say.get(Phrase::RoomListLabel) class="order-last lg:order-first">
            {heading(Phrase::RoomListTitle, "/rooms/new", Phrase::RoomNewShort)}
            {room_links(current, false, "my-rooms")}
            {move || has_direct().then(|| view! {
                <div class="mt-4">
                    {heading(Phrase::DirectListTitle, "/messages", Phrase::DirectNewShort)}
                    {room_links(current, true, "my-conversations")}
                </div>
            })}
        </nav>
    }
}

/// The person's rooms, or their direct conversations, as links.
fn room_links(current: RoomId, direct: bool, test_id: &'static str) -> impl IntoView {
    let say = PhraseBook::expect();
    let timeline = expect_context::<Timeline>();
    view! {
        <ul class="flex flex-col gap-0.5" data-testid=test_id>
            <For
                each=move || timeline.my_rooms.get().into_iter().filter(move |room| room.direct == direct)
                key=|room| (room.id, room.unread, room.mentions)
                children=move |room| {
                    let here = room.id == current;
                    let unread = if here { 0 } else { room.unread };
                    let mentioned = !here && room.mentions > 0;
                    view! {
                        <li>
                            <a
                                href=format!("/r/{}#latest", room.slug)
                                aria-current=here.then_some("page")
                                data-testid=format!("room-link-{}", room.slug)
                                data-mentioned=mentioned.to_string()
                                class="flex items-center justify-between gap-2 rounded-md px-2 py-1.5 text-sm hover:bg-slate-100 aria-[current=page]:bg-indigo-50 aria-[current=page]:font-semibold data-[mentioned=true]:font-semibold dark:hover:bg-slate-800 dark:aria-[current=page]:bg-indigo-950"
                            >
                                <span class="truncate" dir="auto">{room.name}</span>
                                {(unread > 0).then(|| view! {
                                    <span
                                        class="rounded-full bg-slate-200 px-2 text-xs font-semibold text-slate-800 data-[mentioned=true]:bg-amber-400 data-[mentioned=true]:text-amber-950 dark:bg-slate-700 dark:text-slate-100"
                                        data-mentioned=mentioned.to_string()
                                        data-testid="unread"
                                        title=say.count(Counted::RoomUnread, u64::try_from(unread).unwrap_or_default())
                                    >
                                        {if mentioned { format!("@ {unread}") } else { unread.to_string() }}
                                    </span>
                                })}
                            </a>
                        </li>
                    }
                }
            />
        </ul>
    }
}

/// The room's name, description and facts, and what its owner or a member
/// can do with it: rendered on the server only.
#[component]
fn RoomHeader(room: RoomInfo, latest_day: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <header class="mb-2 flex flex-wrap items-start justify-between gap-3 border-b border-slate-200 pb-3 dark:border-slate-800">
            <div class="min-w-0">
                <h1 id="room-title" class="text-2xl font-bold tracking-tight" dir="auto">{room.name.clone()}</h1>
                {(!room.description.is_empty()).then(|| view! {
                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400" dir="auto">{room.description.clone()}</p>
                })}
                <p class="mt-1 flex flex-wrap gap-x-3 text-xs text-slate-500 dark:text-slate-400">
                    <span data-testid="room-visibility">
                        {match (room.direct, room.visibility) {
                            (true, _) => tu_string!(i18n, direct_badge),
                            (false, Visibility::Public) => tu_string!(i18n, room_public),
                            (false, Visibility::Private) => tu_string!(i18n, room_private),
                        }}
                    </span>
                    <span>{tu_string!(i18n, directory_members, count = room.member_count)}</span>
                    {(room.visibility == Visibility::Public && room.indexable).then(|| view! {
                        <span data-testid="room-indexed">{tu_string!(i18n, room_indexed)}</span>
                    })}
                    <a href=format!("/search?room={}", room.slug) class="underline" data-testid="room-search">
                        {tu_string!(i18n, room_search)}
                    </a>
                    {latest_day.map(|day| view! {
                        <a href=format!("/r/{}/{day}", room.slug) class="underline" data-testid="archive-link">
                            {tu_string!(i18n, archive_link)}
                        </a>
                    })}
                </p>
            </div>
            <div class="flex items-center gap-2">
                {room.is_owner.then(|| view! {
                    <a href=format!("/r/{}/settings", room.slug) class="rounded-md border border-slate-300 px-3 py-1.5 text-sm dark:border-slate-700">
                        {tu_string!(i18n, room_settings_title)}
                    </a>
                })}
                // Everyone who sees a direct conversation is one of its
                // people, writing or not (a block): each may leave it.
                {((room.is_member || room.direct) && !room.is_owner).then(|| view! {
                    // A plain form: the server sends the person on (home, or
                    // the public room they can still read).
                    <form method="post" action=LeaveRoom::PATH>
                        <input type="hidden" name="slug" value=room.slug.clone() />
                        <button type="submit" class="rounded-md border border-slate-300 px-3 py-1.5 text-sm dark:border-slate-700">
                            {tu_string!(i18n, room_leave)}
                        </button>
                    </form>
                })}
            </div>
        </header>
    }
}

/// Who of the members is here and how the live connection is doing: shown
/// once the page runs (without JavaScript there is no live state).
fn live_status(is_member: bool, socket_live: bool) -> impl IntoView {
    let say = PhraseBook::expect();
    let timeline = expect_context::<Timeline>();
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    view! {
        <p class="mb-2 flex min-h-4 flex-wrap gap-x-3 text-xs text-slate-500 dark:text-slate-400">
            {is_member.then(|| view! {
                <span data-testid="presence">
                    {move || {
                        timeline.online.with(|people| {
                            (!people.is_empty()).then(|| {
                                let names = people.iter().map(|p| isolate(&p.display_name)).collect::<Vec<_>>().join(", ");
                                format!("{}: {names}", say.count(Counted::RoomOnline, people.len() as u64))
                            })
                        })
                    }}
                </span>
            })}
            {move || (mounted.get() && socket_live).then(connection_state)}
        </p>
    }
}

fn connection_state() -> impl IntoView {
    let say = PhraseBook::expect();
    let timeline = expect_context::<Timeline>();
    view! {
        <span role="status" data-testid="connection" data-state=move || match timeline.connection.get() {
            Connection::Live => "live",
            Connection::Connecting => "connecting",
            Connection::Retrying(_) => "retrying",
        }>
            {move || match timeline.connection.get() {
                Connection::Live => format!("● {}", say.get(Phrase::ConnectionLive)),
                Connection::Connecting => format!("○ {}", say.get(Phrase::ConnectionConnecting)),
                Connection::Retrying(seconds) => format!("○ {}", say.count(Counted::ConnectionRetrying, seconds.into())),
            }}
        </span>
    }
}

/// The edit form a page opens without JavaScript (`?edit={id}`), with the
/// server's refusal of its last submission, if there was one.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenEdit {
    id: MessageId,
    refused: Option<AppError>,
}

/// One row to render: a confirmed message and whether it opens a group.
#[derive(Clone, PartialEq)]
pub(super) struct Row {
    message: MessageView,
    first_of_group: bool,
}

pub(super) fn rows(messages: &std::collections::BTreeMap<tchatche_core::ids::Seq, MessageView>) -> Vec<Row> {
    let mut previous: Option<&MessageView> = None;
    messages
        .values()
        .map(|message| {
            let same_author = previous.is_some_and(|p| {
                !p.deleted
                    && p.author.as_ref().map(|a| a.id) == message.author.as_ref().map(|a| a.id)
                    && message.created_at.0 - p.created_at.0 < GROUP_WITHIN_MS
            });
            previous = Some(message);
            Row { message: message.clone(), first_of_group: !same_author || message.deleted }
        })
        .collect()
}

pub(super) fn message_list(slug: String, latest: bool, socket: Option<Socket>, editing: Option<OpenEdit>) -> impl IntoView {
    let say = PhraseBook::expect();
    let timeline = expect_context::<Timeline>();
    let controls = use_context::<MemberControls>();
    let list = NodeRef::<html::Div>::new();
    let older = NodeRef::<html::A>::new();
    let loading = RwSignal::new(false);
    // The page's own address: the room's, or the thread's.
    let base = StoredValue::new(match timeline.thread {
        Some(root) => format!("/r/{slug}/t/{root}"),
        None => format!("/r/{slug}"),
    });
    let slug = StoredValue::new(slug);
    let older_href =
        move || timeline.oldest_seq().map(|seq| format!("{}?before={}", base.get_value(), seq.0)).unwrap_or_default();

    // Scrolling back: fetch the previous page and keep the view where it was.
    let load_older = move || {
        if loading.get_untracked() || !timeline.has_older.get_untracked() {
            return;
        }
        let Some(before) = timeline.oldest_seq() else { return };
        loading.set(true);
        leptos::task::spawn_local(async move {
            let height_before = list.get_untracked().map(|l| (l.scroll_height(), l.scroll_top()));
            if let Ok((messages, has_older)) = older_messages(timeline.room, timeline.thread, before.0).await {
                timeline.prepend(messages, has_older);
                if let (Some(list), Some((height, top))) = (list.get_untracked(), height_before) {
                    request_animation_frame(move || list.set_scroll_top(top + list.scroll_height() - height));
                }
            }
            loading.set(false);
        });
    };

    #[cfg(feature = "hydrate")]
    {
        // Start at the newest message, and follow new ones when at the bottom.
        Effect::new(move |was_at_bottom: Option<bool>| {
            timeline.messages.track();
            timeline.pending.track();
            let Some(list) = list.get() else { return true };
            let at_bottom = list.scroll_height() - list.scroll_top() - list.client_height() < 80;
            if was_at_bottom.is_none() || was_at_bottom == Some(true) {
                request_animation_frame(move || list.set_scroll_top(list.scroll_height()));
            }
            at_bottom || was_at_bottom.is_none()
        });
        // Reaching the top loads older messages.
        Effect::new(move |_| {
            use wasm_bindgen::{JsCast, closure::Closure};
            let (Some(older), Some(list)) = (older.get(), list.get()) else { return };
            let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
                let visible = entries
                    .iter()
                    .filter_map(|entry| entry.dyn_into::<web_sys::IntersectionObserverEntry>().ok())
                    .any(|entry| entry.is_intersecting());
                if visible {
                    load_older();
                }
            });
            let options = web_sys::IntersectionObserverInit::new();
            options.set_root(Some(&list));
            if let Ok(observer) = web_sys::IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &options) {
                observer.observe(&older);
            }
            callback.forget();
        });
        // Tell the server what has been read, while the tab is visible.
        Effect::new(move |_| {
            timeline.messages.track();
            let newest = timeline.newest_seq();
            let visible = document().visibility_state() == web_sys::VisibilityState::Visible;
            // (A thread's page shows only part of the room.)
            if let (Some(socket), true) = (socket, visible && latest && timeline.thread.is_none()) {
                socket.send(ClientFrame::Read { room: timeline.room, seq: newest });
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (socket, latest, &load_older);

    let viewer = data_viewer(&timeline);
    view! {
        // The versions it shows, as rendered (the member's island does not
        // keep them up to date): where a signed-out reader's socket resumes.
        <div
            node_ref=list
            class="max-h-[65vh] min-h-[40vh] overflow-y-auto rounded-xl border border-slate-200 py-2 dark:border-slate-800"
            data-testid="messages"
            data-version=timeline.newest_version().0
            data-reactions=timeline.reactions_heard.get_value().0
        >
            <p class="px-3 pb-2 text-center text-sm">
                {move || {
                    timeline
                        .has_older
                        .get()
                        .then(|| {
                            view! {
                                <a
                                    node_ref=older
                                    href=older_href
                                    data-testid="older"
                                    class="text-indigo-700 underline dark:text-indigo-300"
                                    on:click=move |ev| {
                                        ev.prevent_default();
                                        load_older();
                                    }
                                >
                                    {say.get(Phrase::RoomOlder)}
                                </a>
                            }
                        })
                }}
            </p>
            {move || timeline.messages.with(|m| m.is_empty()).then(|| view! {
                <p class="px-3 py-8 text-center text-slate-500 dark:text-slate-400" data-testid="no-messages">{say.get(Phrase::RoomEmpty)}</p>
            })}
            // A live region: screen readers announce new messages. (`log`
            // is not a role a list may take, hence the wrapper.)
            <div role="log" aria-label=say.get(Phrase::RoomMessagesLabel)>
                <ol class="flex flex-col">
                    <For
                        each=move || timeline.messages.with(rows)
                        key=|row| (row.message.id, row.message.version, row.first_of_group, row.message.translation.is_some(), row.message.reactions.seq)
                        children=move |row| {
                            let editing = editing.clone().filter(|edit| edit.id == row.message.id);
                            view! { <MessageRow row viewer=viewer.clone() editing slug=slug.get_value() /> }
                        }
                    />
                    {controls.map(|controls| (controls.pending_rows)())}
                </ol>
            </div>
            <span id="latest"></span>
        </div>
        {(!latest).then(|| view! {
            <p class="mt-2 text-center text-sm">
                <a href=format!("{}#latest", base.get_value()) class="text-indigo-700 underline dark:text-indigo-300">{say.get(Phrase::RoomJumpLatest)}</a>
            </p>
        })}
    }
}

fn data_viewer(timeline: &Timeline) -> Option<String> {
    timeline.viewer.get_value()
}

#[component]
pub(super) fn MessageRow(
    row: Row,
    viewer: Option<String>,
    /// Opened with its edit form (`?edit={id}`, without JavaScript).
    #[prop(optional_no_strip)]
    editing: Option<OpenEdit>,
    /// The room's address (links to threads).
    slug: String,
) -> impl IntoView {
    let say = PhraseBook::expect();
    let controls = use_context::<MemberControls>();
    let message = row.message;
    let own = message.author.as_ref().map(|a| &a.username) == viewer.as_ref() && viewer.is_some();
    let mentioned = viewer.as_ref().is_some_and(|me| message.mentions.iter().any(|m| m.eq_ignore_ascii_case(me)));
    // Without JavaScript the Edit link opens `?edit={id}`, rendered by the
    // server; hydrated, it only flips `open`, so nothing is fetched again.
    let open = RwSignal::new(editing.is_some());
    let refused = editing.and_then(|edit| edit.refused);
    let editing = move || own && open.get();
    let (name, avatar) = match &message.author {
        Some(author) => (author.display_name.clone(), crate::auth::avatar_url(&author.username, None)),
        None => (say.get(Phrase::DeletedAccount), "/favicon.svg".to_owned()),
    };
    let body = message.body.clone();
    let html = message.html.clone();
    let lang = message.lang.clone();
    // Only a translation of the version shown; none in the archive (no timeline).
    let timeline = use_context::<Timeline>();
    let translation = message.translation.clone().filter(|t| t.version == message.version && !message.deleted);
    let translated_from = say.translated_from(lang.as_deref());
    let asked = timeline.is_some_and(|t| t.asked.with_untracked(|asked| asked.contains(&message.id)));
    // Its thread; on that thread's page, what answers the first message
    // needs no quote and the first message no count.
    let thread_path = format!("/r/{slug}/t/{}", message.threading.root.unwrap_or(message.id));
    let shown_thread = timeline.and_then(|t| t.thread);
    let quote = message.threading.reply_to.clone().filter(|quote| shown_thread != Some(quote.id));
    let replies = message.threading.replies.filter(|_| shown_thread != Some(message.id));
    let reply_href = viewer.is_some().then(|| format!("{thread_path}?reply={}#composer", message.id));
    let ask = timeline.filter(|t| {
        translation.is_none() && t.reading.with_value(|r| r.as_ref().is_some_and(|r| r.mode == TranslateMode::Ask && r.needs(&message)))
    });
    view! {
        <li
            id=format!("m-{}", message.id)
            data-seq=message.seq.0
            data-mentioned=mentioned.to_string()
            class="group flex gap-3 px-3 py-0.5 hover:bg-slate-50 data-[mentioned=true]:border-s-2 data-[mentioned=true]:border-amber-400 data-[mentioned=true]:bg-amber-50 dark:hover:bg-slate-900 dark:data-[mentioned=true]:bg-amber-950/40"
            class:mt-3=row.first_of_group
        >
            <div class="w-9 shrink-0">
                {row.first_of_group.then(|| view! { <img src=avatar alt="" width="36" height="36" loading="lazy" class="h-9 w-9 rounded-full bg-slate-200" /> })}
            </div>
            <div class="min-w-0 flex-1">
                {row.first_of_group.then(|| view! {
                    <p class="flex items-baseline gap-2" data-part="header">
                        <bdi class="font-semibold">{name.clone()}</bdi>
                        <span class="text-xs text-slate-500 dark:text-slate-400"><LocalTime at=message.created_at /></span>
                    </p>
                })}
                {quote.map(|quote| {
                    let concealed = quote.is_concealed();
                    view! {
                    <a
                        href=format!("{thread_path}#m-{}", quote.id)
                        data-testid="quote"
                        class="mb-0.5 flex max-w-full items-baseline gap-1 border-s-2 border-slate-300 ps-2 text-xs text-slate-600 hover:underline dark:border-slate-600 dark:text-slate-400"
                    >
                        <span class="sr-only">{say.get(Phrase::InReplyTo)}</span>
                        <bdi class="shrink-0 font-semibold">{quote.author.unwrap_or_else(|| say.get(Phrase::DeletedAccount))}</bdi>
                        <span class="truncate" dir="auto" class:italic=quote.deleted || concealed>
                            {if quote.deleted {
                                say.get(Phrase::MessageDeleted)
                            } else if concealed {
                                say.get(Phrase::MessageConcealed)
                            } else {
                                quote.excerpt
                            }}
                        </span>
                    </a>
                    }
                })}
                {if message.deleted {
                    view! { <p class="text-sm italic text-slate-500 dark:text-slate-400" data-testid="tombstone">{say.get(Phrase::MessageDeleted)}</p> }.into_any()
                } else if message.is_concealed() {
                    view! { <p class="text-sm italic text-slate-500 dark:text-slate-400" data-testid="concealed">{say.get(Phrase::MessageConcealed)}</p> }.into_any()
                } else {
                    (move || {
                        if let Some(controls) = controls.filter(|_| editing()) {
                            (controls.edit_form)(message.room_id, message.id, body.clone(), open, refused.clone())
                        } else if let Some(translation) = translation.clone() {
                            // Machine-translated, the original a click away (no JavaScript needed).
                            view! {
                                <div class="message-body break-words" dir="auto" lang=translation.lang inner_html=translation.html data-testid="translation"></div>
                                <details class="text-xs text-slate-500 dark:text-slate-400">
                                    <summary class="cursor-pointer">{translated_from.clone()} " · " {say.get(Phrase::TranslationOriginal)}</summary>
                                    <div class="message-body break-words text-sm text-slate-700 dark:text-slate-300" dir="auto" lang=lang.clone() inner_html=html.clone() data-testid="original"></div>
                                </details>
                            }
                                .into_any()
                        } else {
                            view! { <div class="message-body break-words" dir="auto" lang=lang.clone() inner_html=html.clone()></div> }.into_any()
                        }
                    })
                        .into_any()
                }}
                {(message.edited_at.is_some() && !message.deleted).then(|| view! {
                    <span class="text-xs text-slate-500 dark:text-slate-400" data-testid="edited">{say.get(Phrase::MessageEdited)}</span>
                })}
                {(!message.deleted).then(|| match (controls.filter(|c| c.may_react), viewer.clone()) {
                    (Some(controls), Some(me)) => (controls.reactions)(message.room_id, message.id, message.reactions.clone(), me),
                    _ => reactions::reaction_list(&message.reactions).into_any(),
                })}
                {replies.map(|summary| view! {
                    <a href=thread_path.clone() data-testid="thread-link" class="text-xs font-medium text-indigo-700 underline dark:text-indigo-300">
                        {say.count(Counted::ThreadReplies, summary.count.into())}
                        {summary.last_reply_at.map(|at| view! { " · " <LocalTime at /> })}
                    </a>
                })}
                {reply_href.filter(|_| !message.deleted).zip(controls).map(|(reply, controls)| (controls.actions)(message.room_id, message.id, open, own, reply))}
                {ask.zip(controls).map(|(timeline, controls)| (controls.ask_translation)(timeline, message.room_id, message.id, asked))}
            </div>
        </li>
    }
}

/// An "ask" reader's Translate control, then "on its way" until the
/// translation comes (live, or with the next page).
fn ask_translation(timeline: Timeline, room: RoomId, id: MessageId, asked: bool) -> impl IntoView {
    let say = PhraseBook::expect();
    let waiting = RwSignal::new(asked);
    let on_translated = move |found: Option<tchatche_core::event::Translation>| {
        timeline.asked.update(|asked| asked.push(id));
        match found {
            Some(translation) => timeline.translated(id, translation),
            None => {
                waiting.set(true);
                ask_again(timeline, room, id, 0);
            }
        }
    };
    view! {
        <div class="text-xs text-slate-500 dark:text-slate-400">
            {move || {
                if waiting.get() {
                    view! { <span data-testid="translation-pending">{say.get(Phrase::TranslationPending)}</span> }.into_any()
                } else {
                    super::translation::translate_form(room, id, on_translated).into_any()
                }
            }}
        </div>
    }
}

/// Asks again after 1, 2, 4… seconds (six times) until the translation is
/// shown: it comes live too, but an event sent while the socket was
/// (re)connecting would otherwise be missed until the next page load.
fn ask_again(timeline: Timeline, room: RoomId, id: MessageId, attempt: u32) {
    if attempt >= 6 {
        return;
    }
    let delay = std::time::Duration::from_secs(1 << attempt);
    set_timeout(
        move || {
            let shown = timeline.messages.with_untracked(|m| m.values().any(|m| m.id == id && m.translation.is_some()));
            if shown {
                return;
            }
            leptos::task::spawn_local(async move {
                match super::translation::translate_message(room, id).await {
                    Ok(Some(translation)) => timeline.translated(id, translation),
                    _ => ask_again(timeline, room, id, attempt + 1),
                }
            });
        },
        delay,
    );
}

/// Reply (anyone signed in), and edit or delete (one's own message).
fn message_actions(room: RoomId, id: MessageId, open: RwSignal<bool>, own: bool, reply_href: String) -> impl IntoView {
    let say = PhraseBook::expect();
    let refused = RwSignal::new(None::<String>);
    // Hydrated, the deletion reaches this page over the socket like anyone
    // else's; without JavaScript the form posts and the server sends the
    // person back.
    let delete = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            refused.set(delete_message(room, id).await.err().map(|error| say.error(&error)));
        });
    };
    let own_actions = own.then(|| view! {
        <a
            href=format!("?edit={id}#m-{id}")
            class="underline"
            data-testid="edit-message"
            on:click=move |ev| {
                ev.prevent_default();
                open.set(true);
            }
        >
            {say.get(Phrase::MessageEdit)}
        </a>
        <form method="post" action=DeleteMessage::PATH on:submit=delete>
            <input type="hidden" name="room" value=room.0 />
            <input type="hidden" name="id" value=id.to_string() />
            <button type="submit" class="underline" data-testid="delete-message">{say.get(Phrase::MessageDelete)}</button>
        </form>
        {move || refused.get().map(|text| view! { <span role="alert" class="text-red-700 dark:text-red-400">{text}</span> })}
    });
    view! {
        <div class="flex gap-3 text-xs text-slate-500 opacity-70 group-hover:opacity-100 dark:text-slate-400">
            <a href=reply_href class="underline" data-testid="reply">{say.get(Phrase::MessageReply)}</a>
            {own_actions}
        </div>
    }
}

fn edit_form(room: RoomId, id: MessageId, body: String, open: RwSignal<bool>, refused: Option<AppError>) -> impl IntoView {
    let say = PhraseBook::expect();
    let textarea = NodeRef::<html::Textarea>::new();
    let error = RwSignal::new(refused.as_ref().map(|refusal| say.field_or_error(refusal, "body")));
    // A refused edit comes back with the text as it was sent.
    let body = refused.and_then(|refusal| refusal.kept("body")).unwrap_or(body);
    let close = move || {
        open.set(false);
        forget_edit_link();
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(text) = textarea.get_untracked().map(|t| t.value()) else { return };
        if let Err(problem) = MessageBody::parse(&text) {
            error.set(Some(say.input_error(problem)));
            return;
        }
        leptos::task::spawn_local(async move {
            match edit_message(room, id, text).await {
                Ok(()) => close(),
                Err(refusal) => error.set(Some(say.field_or_error(&refusal, "body"))),
            }
        });
    };
    view! {
        <form method="post" action=EditMessage::PATH class="flex flex-col gap-2" on:submit=save>
            <input type="hidden" name="room" value=room.0 />
            <input type="hidden" name="id" value=id.to_string() />
            <label for=format!("edit-{id}") class="sr-only">{say.get(Phrase::MessageEdit)}</label>
            <textarea
                id=format!("edit-{id}")
                node_ref=textarea
                name="body"
                rows="2"
                maxlength=MessageBody::MAX
                class="rounded-md border border-slate-300 bg-white px-3 py-2 dark:border-slate-700 dark:bg-slate-900"
            >
                {body}
            </textarea>
            <p class="text-sm text-red-700 dark:text-red-400" role="alert">{move || error.get()}</p>
            <div class="flex gap-2">
                <button type="submit" class="rounded-md bg-indigo-600 px-3 py-1 text-sm font-semibold text-white">{say.get(Phrase::MessageSave)}</button>
                // `?` keeps the path and drops the query (`?edit=`).
                <a
                    href=format!("?#m-{id}")
                    class="px-3 py-1 text-sm underline"
                    on:click=move |ev| {
                        ev.prevent_default();
                        close();
                    }
                >
                    {say.get(Phrase::MessageCancel)}
                </a>
            </div>
        </form>
    }
}

/// Once an edit form opened by `?edit=` closes, the address drops that
/// query, so a reload does not open it again.
fn forget_edit_link() {
    #[cfg(feature = "hydrate")]
    {
        let location = window().location();
        if location.search().is_ok_and(|search| search.contains("edit=")) {
            let path = location.pathname().unwrap_or_default();
            if let Ok(history) = window().history() {
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
            }
        }
    }
}

/// A message this tab sent: shown at once, confirmed or failed with a retry.
fn pending_row(pending: PendingPost) -> impl IntoView {
    let say = PhraseBook::expect();
    let timeline = expect_context::<Timeline>();
    let failed = pending.failed.clone();
    let is_failed = failed.is_some();
    let PendingPost { id, body, reply_to, .. } = pending;
    let retry_body = body.clone();
    view! {
        <li class="flex gap-3 px-3 py-0.5" data-testid="pending" data-failed=is_failed.to_string()>
            <div class="w-9 shrink-0"></div>
            <div class="min-w-0 flex-1">
                <p class="whitespace-pre-wrap break-words text-slate-500 dark:text-slate-400">{body}</p>
                {match failed {
                    None => view! { <span class="text-xs text-slate-500">{say.get(Phrase::MessageSending)}</span> }.into_any(),
                    Some(reason) => {
                        let reason = say.field_or_error(&reason, "body");
                        view! {
                            <p class="text-xs text-red-700 dark:text-red-400" role="alert">
                                {say.get(Phrase::MessageFailed)} " " {reason} " "
                                <button
                                    type="button"
                                    class="underline"
                                    data-testid="retry"
                                    on:click=move |_| send(timeline, id, retry_body.clone(), reply_to)
                                >
                                    {say.get(Phrase::MessageRetry)}
                                </button>
                            </p>
                        }
                            .into_any()
                    }
                }}
            </div>
        </li>
    }
}

/// Sends a message (again) under its id and tracks its fate.
fn send(timeline: Timeline, id: MessageId, body: String, reply_to: Option<MessageId>) {
    timeline.pending.update(|pending| {
        match pending.iter_mut().find(|p| p.id == id) {
            Some(existing) => existing.failed = None,
            None => pending.push(PendingPost { id, body: body.clone(), reply_to, failed: None }),
        }
    });
    leptos::task::spawn_local(async move {
        match post_message(timeline.room, id.to_string(), body, reply_to.map(|id| id.to_string())).await {
            Ok(message) => timeline.apply(message),
            Err(error) => timeline.pending.update(|pending| {
                if let Some(p) = pending.iter_mut().find(|p| p.id == id) {
                    p.failed = Some(error);
                }
            }),
        }
    });
}

/// The composer; on a thread's page (`thread`: its first message and the
/// message answered), it answers in the thread.
fn composer(
    room: RoomId,
    next_id: MessageId,
    socket: Option<Socket>,
    refused: Option<AppError>,
    thread: Option<(MessageId, Quote)>,
) -> impl IntoView {
    let say = PhraseBook::expect();
    let timeline = expect_context::<Timeline>();
    let root = thread.as_ref().map(|(root, _)| *root);
    // Answering a reply rather than the first message (`?reply=`): said
    // above the text, until sent or cancelled.
    let answering = RwSignal::new(thread.and_then(|(root, quote)| (quote.id != root).then_some(quote)));
    let reply_to = move || answering.with(|quote| quote.as_ref().map(|q| q.id)).or(root);
    // Without JavaScript, a refused post comes back here with its error and text.
    let kept = refused.as_ref().and_then(|refusal| refusal.kept("body")).unwrap_or_default();
    let error = RwSignal::new(refused.as_ref().map(|refusal| say.field_or_error(refusal, "body")));
    let textarea = NodeRef::<html::Textarea>::new();
    let last_typing = StoredValue::new(0.0f64);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(input) = textarea.get_untracked() else { return };
        let text = input.value();
        match MessageBody::parse(&text) {
            Err(problem) => error.set(Some(say.input_error(problem))),
            Ok(_) => {
                error.set(None);
                input.set_value("");
                // The next keystroke starts a new "typing" at once.
                last_typing.set_value(0.0);
                send(timeline, MessageId(uuid::Uuid::new_v4()), text, reply_to());
                answering.set(None);
            }
        }
    };
    let on_input = move |_| {
        let now = now_ms();
        if now - last_typing.get_value() > 3_000.0 {
            last_typing.set_value(now);
            if let Some(socket) = socket {
                socket.send(ClientFrame::Typing { room });
            }
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            if let Some(form) = textarea.get_untracked().and_then(|t| t.form()) {
                let _ = form.request_submit();
            }
        }
    };
    view! {
        <form method="post" action=PostMessage::PATH class="mt-3 flex flex-col gap-2" on:submit=submit data-testid="composer">
            <input type="hidden" name="room" value=room.0 />
            <input type="hidden" name="id" value=next_id.to_string() />
            {root.map(|_| view! { <input type="hidden" name="reply_to" value=move || reply_to().map(|id| id.to_string()) /> })}
            {move || answering.get().map(|quote| view! {
                <p class="flex items-baseline gap-2 text-sm text-slate-600 dark:text-slate-400" data-testid="answering">
                    <span>{say.get(Phrase::InReplyTo)}</span>
                    <bdi class="font-semibold">{quote.author.unwrap_or_else(|| say.get(Phrase::DeletedAccount))}</bdi>
                    <span class="min-w-0 flex-1 truncate" dir="auto">{quote.excerpt}</span>
                    // `?` keeps the path and drops `?reply=`.
                    <a href="?#composer" class="underline" on:click=move |ev| {
                        ev.prevent_default();
                        answering.set(None);
                    }>
                        {say.get(Phrase::MessageCancel)}
                    </a>
                </p>
            })}
            <label for="composer" class="sr-only">{say.get(Phrase::ComposerLabel)}</label>
            <div class="flex items-end gap-2">
                <textarea
                    id="composer"
                    node_ref=textarea
                    name="body"
                    rows="2"
                    required
                    maxlength=MessageBody::MAX
                    placeholder=say.get(Phrase::ComposerPlaceholder)
                    on:input=on_input
                    on:keydown=on_keydown
                    class="min-h-12 flex-1 resize-y rounded-md border border-slate-300 bg-white px-3 py-2 dark:border-slate-700 dark:bg-slate-900"
                >
                    {kept}
                </textarea>
                <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">
                    {say.get(Phrase::ComposerSend)}
                </button>
            </div>
            <p class="min-h-5 text-sm text-red-700 dark:text-red-400" role="alert" data-testid="composer-error">
                {move || error.get()}
            </p>
            <p class="text-xs text-slate-500 dark:text-slate-400">{say.get(Phrase::ComposerHint)}</p>
        </form>
    }
}

/// A name set apart from the text around it (what `<bdi>` does for an
/// element), so a Hebrew name in an English list keeps its place.
fn isolate(name: &str) -> String {
    format!("\u{2068}{name}\u{2069}")
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

fn typing_line() -> impl IntoView {
    let say = PhraseBook::expect();
    let timeline = expect_context::<Timeline>();
    view! {
        <p class="mt-1 min-h-5 text-sm italic text-slate-500 dark:text-slate-400" aria-live="polite" data-testid="typing">
            {move || {
                let names: Vec<String> = timeline.typing.get().into_iter().map(|(who, _)| isolate(&who.display_name)).collect();
                (!names.is_empty()).then(|| say.typing(&names.join(", ")))
            }}
        </p>
    }
}

/// For a member on an older page: the composer is on the latest one.
#[component]
fn JumpToLatest(href: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="text-sm">
            <a href=href class="text-indigo-700 underline dark:text-indigo-300">
                {tu_string!(i18n, room_jump_latest)}
            </a>
        </p>
    }
}

/// A plain form: the server adds the person and renders the room again, now
/// with their composer.
#[component]
fn JoinPrompt(slug: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="rounded-xl border border-slate-200 p-4 dark:border-slate-800">
            <p class="mb-3 text-sm text-slate-600 dark:text-slate-400">{tu_string!(i18n, room_join_prompt)}</p>
            <form method="post" action=JoinRoom::PATH>
                <input type="hidden" name="slug" value=slug />
                <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white" data-testid="join">
                    {tu_string!(i18n, room_join)}
                </button>
            </form>
        </div>
    }
}

#[component]
fn SignInPrompt(
    /// Where to come back to.
    next: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let next = urlencode(&next);
    view! {
        <div class="rounded-xl border border-slate-200 p-4 text-sm dark:border-slate-800" data-testid="sign-in-to-post">
            {tu_string!(i18n, room_signin_prompt)} " "
            <a href=format!("/signin?next={next}") class="font-medium text-indigo-700 underline dark:text-indigo-300">{tu_string!(i18n, nav_signin)}</a>
            " · "
            <a href=format!("/signup?next={next}") class="font-medium text-indigo-700 underline dark:text-indigo-300">{tu_string!(i18n, nav_signup)}</a>
        </div>
    }
}
