//! What a signed-out reader of a public room (a visitor, or a search
//! engine's renderer) gets: the conversation rendered by the server, kept
//! live by the smallest island we could make.
//!
//! The island carries no view of a message, no timeline and no JSON
//! decoder. It listens on the socket only for the kind of each frame
//! ([`FrameKind`]); when something it shows changed, it fetches the page
//! again (at most once a second) and merges the fetched rows into the list
//! by id: a changed row is replaced, a new one appended, nothing removed,
//! so the reader keeps their place, focus stays, and screen readers hear
//! only what is new. Those fetches carry a key made from the frame that
//! prompted them, so readers of one server process who heard the same
//! frame, in the same language, ask for the same address, and its
//! one-second page cache (`server::shared_pages`) renders it once for them,
//! after the change was stored (events are sent after their commit).
//! Older messages are plain `?before=` links, as without JavaScript.

use leptos::prelude::*;
use tchatche_core::{event::MessageView, ids::RoomId};

use super::{
    RoomInfo,
    conversation::{ThreadView, message_list},
    live::Timeline,
};
use crate::phrases::{Phrase, PhraseBook, Phrases};

/// What a signed-out reader's page shows of a conversation, under its
/// header: rendered on the server, and live (on the latest page) through
/// [`ReadOnlyConversation`].
pub(super) fn read_only_conversation(
    header: AnyView,
    room: &RoomInfo,
    messages: Vec<MessageView>,
    has_older: bool,
    latest: bool,
    thread: Option<ThreadView>,
) -> AnyView {
    let say = PhraseBook::provide(Phrases::for_reader());
    let timeline = Timeline { thread: thread.map(|t| t.root), ..Timeline::new(room.id, messages, has_older, None) };
    // Versions of messages not on the page (an old one edited) are heard
    // too: the socket does not send them again.
    timeline.heard.set_value(room.version);
    timeline.reactions_heard.set_value(room.reactions_seq);
    provide_context(timeline);
    let transcript = view! {
        <section aria-labelledby="room-title" class="flex min-w-0 flex-col">
            {header}
            <p class="mb-2 flex min-h-4 flex-wrap gap-x-3 text-xs text-slate-500 dark:text-slate-400">
                // Shown by the island once it runs (without JavaScript the
                // page is not live); it says both states in the reader's
                // language.
                {latest.then(|| {
                    let connecting = format!("○ {}", say.get(Phrase::ConnectionConnecting));
                    let text = connecting.clone();
                    view! {
                        <span
                            role="status"
                            data-testid="connection"
                            data-state="connecting"
                            data-live=format!("● {}", say.get(Phrase::ConnectionLive))
                            data-connecting=connecting
                            hidden
                        >
                            {text}
                        </span>
                    }
                })}
            </p>
            {message_list(room.slug.clone(), latest, None, None)}
        </section>
    };
    if latest {
        view! { <ReadOnlyConversation room=room.id>{transcript}</ReadOnlyConversation> }.into_any()
    } else {
        // An older page never changes: nothing to keep live.
        transcript.into_any()
    }
}

/// Keeps a signed-out reader's latest page live (see the module's doc).
/// Lazy: its code is a file of its own, loaded by such pages only.
#[island(lazy)]
fn ReadOnlyConversation(room: RoomId, children: Children) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| refresh::start(room));
    #[cfg(not(feature = "hydrate"))]
    let _ = room;
    children()
}

#[cfg(feature = "hydrate")]
mod refresh {
    use std::{cell::RefCell, rc::Rc, time::Duration};

    use leptos::prelude::*;
    use tchatche_core::{
        event::{ClientFrame, FrameKind},
        ids::{RoomId, Seq},
    };
    use wasm_bindgen::JsCast;
    use web_sys::{DomParser, Element, SupportedType};

    use crate::rooms::{
        live::Connection,
        socket::{self, Handle, Listener},
    };

    /// A reader fetches the page at most once per this long, however busy
    /// the room (what changed meanwhile comes with the next fetch).
    const MIN_GAP_MS: f64 = 1_000.0;
    /// A fetch that failed is tried again this many times (then the next
    /// change, or the socket's next catch-up, brings it).
    const RETRIES: u32 = 3;
    /// The message list, on this page and on a fetched one.
    const LIST: &str = "[data-testid=messages]";
    /// Closer than this to the bottom, the reader follows new messages.
    const FOLLOW_WITHIN_PX: i32 = 80;

    pub fn start(room: RoomId) {
        if let Some(list) = current_list() {
            list.set_scroll_top(list.scroll_height());
        }
        // The handle lives as long as the page: its socket's callbacks hold it.
        let _ = Handle::start(Rc::new(PageRefresh { room, fetches: Rc::default() }));
    }

    struct PageRefresh {
        room: RoomId,
        fetches: Rc<RefCell<Fetches>>,
    }

    /// The fetch of the page in progress (or waiting for its turn), and the
    /// key of a change heard meanwhile.
    #[derive(Default)]
    struct Fetches {
        running: bool,
        waiting: Option<u64>,
        last_start: f64,
        failures: u32,
    }

    impl Listener for PageRefresh {
        /// Resumes after what the list shows (it says which versions), so
        /// what changed since it was rendered comes first.
        fn subscriptions(&self) -> Vec<String> {
            let seq = |name: &str| {
                current_list().and_then(|list| list.get_attribute(name)).and_then(|value| value.parse().ok()).map(Seq).unwrap_or_default()
            };
            vec![ClientFrame::subscribe_text(self.room, seq("data-version"), seq("data-reactions"))]
        }

        fn connection(&self, state: Connection) {
            let Some(status) = document().query_selector("[data-testid=connection]").ok().flatten() else { return };
            let (name, text) = match state {
                Connection::Live => ("live", "data-live"),
                Connection::Connecting => ("connecting", "data-connecting"),
                Connection::Retrying(_) => ("retrying", "data-connecting"),
            };
            let _ = status.remove_attribute("hidden");
            let _ = status.set_attribute("data-state", name);
            status.set_text_content(status.get_attribute(text).as_deref());
        }

        fn frame(&self, text: &str) -> bool {
            match FrameKind::of(text) {
                FrameKind::Changed => changed(&self.fetches, fnv1a(text)),
                // The same frame reaches readers at different times: a
                // key of their own, so none gets a render older than it.
                FrameKind::Missed => changed(&self.fetches, (js_sys::Math::random() * 9e15) as u64),
                // No longer visible (made private): the page says so.
                FrameKind::Denied => {
                    let _ = window().location().reload();
                    return false;
                }
                FrameKind::Other => {}
            }
            true
        }
    }

    /// Something changed: fetch the page now, or after the running fetch
    /// (then with the newest key), at most once per [`MIN_GAP_MS`].
    fn changed(fetches: &Rc<RefCell<Fetches>>, key: u64) {
        let wait = {
            let mut state = fetches.borrow_mut();
            state.waiting = Some(key);
            if state.running {
                return;
            }
            state.running = true;
            (state.last_start + MIN_GAP_MS - socket::now()).max(0.0)
        };
        let fetches = fetches.clone();
        set_timeout(move || leptos::task::spawn_local(fetch_and_show(fetches)), Duration::from_millis(wait as u64));
    }

    async fn fetch_and_show(fetches: Rc<RefCell<Fetches>>) {
        let key = {
            let mut state = fetches.borrow_mut();
            state.last_start = socket::now();
            state.waiting.take().unwrap_or_default()
        };
        let fetched = fetch_page(key).await;
        match &fetched {
            Ok(page) => show(page),
            // The thread or room is gone (deleted, made private): the page says so.
            Err(Some(404 | 410)) => {
                let _ = window().location().reload();
                return;
            }
            Err(_) => {}
        }
        let next = {
            let mut state = fetches.borrow_mut();
            state.running = false;
            if fetched.is_ok() {
                state.failures = 0;
            } else if state.failures < RETRIES {
                state.failures += 1;
                state.waiting.get_or_insert(key);
            }
            state.waiting.take()
        };
        if let Some(key) = next {
            changed(&fetches, key);
        }
    }

    /// The page as the server renders it now, or the status that refused
    /// it (`None`: no answer).
    async fn fetch_page(key: u64) -> Result<String, Option<u16>> {
        use wasm_bindgen_futures::JsFuture;
        let path = window().location().pathname().map_err(|_| None)?;
        let answer = JsFuture::from(window().fetch_with_str(&format!("{path}?live={key:x}"))).await.map_err(|_| None)?;
        let response = answer.dyn_into::<web_sys::Response>().map_err(|_| None)?;
        if !response.ok() {
            return Err(Some(response.status()));
        }
        JsFuture::from(response.text().map_err(|_| None)?).await.ok().and_then(|text| text.as_string()).ok_or(None)
    }

    /// Merges the fetched page's rows into the list, keeping the reader's
    /// place: at the bottom, following; elsewhere, on the message in view.
    fn show(page: &str) {
        let Ok(parser) = DomParser::new() else { return };
        let Ok(page) = parser.parse_from_string(page, SupportedType::TextHtml) else { return };
        let (Some(fresh), Some(list)) = (page.query_selector(LIST).ok().flatten(), current_list()) else { return };
        let Some(rows) = list.query_selector("ol").ok().flatten() else { return };
        let place = Place::of(&list);
        localize_times(&fresh);
        merge(&rows, &fresh);
        if rows.child_element_count() > 0
            && let Ok(Some(empty)) = list.query_selector("[data-testid=no-messages]")
        {
            empty.remove();
        }
        // Where the socket resumes next time.
        for name in ["data-version", "data-reactions"] {
            if let Some(value) = fresh.get_attribute(name) {
                let _ = list.set_attribute(name, &value);
            }
        }
        place.restore(&list);
    }

    /// Each fetched row replaces the row shown with its id, where they
    /// differ, or joins the end of the list. Rows already shown stay (the
    /// list only grows, as a member's does).
    fn merge(rows: &Element, fresh: &Element) {
        let Ok(found) = fresh.query_selector_all("ol > li[id]") else { return };
        for index in 0..found.length() {
            let Some(row) = found.item(index).and_then(|node| node.dyn_into::<Element>().ok()) else { continue };
            let Some(shown) = document().get_element_by_id(&row.id()) else {
                let _ = rows.append_child(&row);
                continue;
            };
            // The first fetched row opens a group only because nothing
            // comes before it on the fetched page; here, something may.
            if index == 0 && shown.previous_element_sibling().is_some() {
                keep_grouping(&shown, &row);
            }
            if shown.outer_html() != row.outer_html() {
                let _ = shown.replace_with_with_node_1(&row);
            }
        }
    }

    /// Gives `row` the avatar column, header and spacing `shown` has.
    fn keep_grouping(shown: &Element, row: &Element) {
        row.set_class_name(&shown.class_name());
        if let (Some(avatar), Some(theirs)) = (shown.first_element_child(), row.first_element_child())
            && let Ok(copy) = avatar.clone_node_with_deep(true)
        {
            let _ = theirs.replace_with_with_node_1(&copy);
        }
        let header = "[data-part=header]";
        if let (Ok(None), Ok(Some(theirs))) = (shown.query_selector(header), row.query_selector(header)) {
            theirs.remove();
        }
    }

    fn current_list() -> Option<Element> {
        document().query_selector(LIST).ok().flatten()
    }

    /// The fetched rows' times are in UTC, as the server writes them (their
    /// `LocalTime` islands are not hydrated): shown as the page shows them.
    fn localize_times(list: &Element) {
        let Ok(times) = list.query_selector_all("time[datetime]") else { return };
        for index in 0..times.length() {
            let Some(time) = times.item(index).and_then(|node| node.dyn_into::<Element>().ok()) else { continue };
            if let Some(iso) = time.get_attribute("datetime") {
                let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&iso));
                time.set_text_content(Some(&crate::pages::local_time_text(&date)));
            }
        }
    }

    /// Where the reader is in the list.
    enum Place {
        Bottom,
        /// The first message in view, and how far below the list's top.
        At { id: String, offset: f64 },
        Unknown,
    }

    impl Place {
        fn of(list: &Element) -> Self {
            if list.scroll_height() - list.scroll_top() - list.client_height() < FOLLOW_WITHIN_PX {
                return Self::Bottom;
            }
            let top = list.get_bounding_client_rect().top();
            let Ok(rows) = list.query_selector_all("li[id]") else { return Self::Unknown };
            (0..rows.length())
                .filter_map(|index| rows.item(index).and_then(|node| node.dyn_into::<Element>().ok()))
                .find(|row| row.get_bounding_client_rect().bottom() > top)
                .map_or(Self::Unknown, |row| Self::At { offset: row.get_bounding_client_rect().top() - top, id: row.id() })
        }

        fn restore(self, list: &Element) {
            match self {
                Self::Bottom => list.set_scroll_top(list.scroll_height()),
                Self::At { id, offset } => {
                    if let Some(row) = document().get_element_by_id(&id) {
                        let now = row.get_bounding_client_rect().top() - list.get_bounding_client_rect().top();
                        list.set_scroll_top(list.scroll_top() + (now - offset) as i32);
                    }
                }
                Self::Unknown => {}
            }
        }
    }

    /// FNV-1a: the same frame gives every reader the same key.
    fn fnv1a(text: &str) -> u64 {
        text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
    }
}
