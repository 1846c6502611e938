//! Rooms: creating, joining, inviting, and the conversation page.
//!
//! Visibility is checked in every server function here (and by the socket
//! when it subscribes): to anyone but its members, a private room does not
//! exist.

mod archive;
mod conversation;
mod forms;
mod live;
mod manage;
mod reactions;
mod reader;
#[cfg(feature = "hydrate")]
mod socket;
mod thread;
mod translation;

pub use archive::ArchivePage;
pub use conversation::RoomPage;
pub use forms::{InvitePage, NewRoomPage};
pub use manage::RoomSettingsPage;
pub use thread::ThreadPage;
pub use translation::autonym;
use leptos::{prelude::*, server_fn::codec::GetUrl};
use serde::{Deserialize, Serialize};
use tchatche_core::{
    event::MessageView,
    ids::{MessageId, RoomId},
    room::{MyRoom, Visibility},
};

use crate::{codec::JsonAnswer, error::AppError, seo::PageSeo};
#[cfg(feature = "ssr")]
use crate::error::with_status;

/// A room as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub id: RoomId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    pub indexable: bool,
    /// A private room whose owner lets the translation engine read it.
    pub translate_private: bool,
    pub member_count: i64,
    pub is_owner: bool,
    /// May post here (a member, unless a block silences a direct conversation).
    pub is_member: bool,
    /// A direct conversation: no settings, no invitations.
    pub direct: bool,
    /// The room's reaction seq as the page was read (live reactions resume
    /// after it).
    pub reactions_seq: tchatche_core::ids::Seq,
    /// The room's newest version as the page was read (read before its
    /// messages): a signed-out reader's socket resumes after it.
    pub version: tchatche_core::ids::Seq,
}

/// Everything the conversation page renders on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPageData {
    pub room: RoomInfo,
    /// Oldest first.
    pub messages: Vec<MessageView>,
    pub has_older: bool,
    /// The page shown is the latest one (not `?before=`).
    pub latest: bool,
    /// The signed-in person's username (mentions of them are highlighted).
    pub viewer: Option<String>,
    /// A fresh id for the next message posted without JavaScript, where
    /// the page has a composer (members, latest page). Visitors' pages
    /// carry none, so theirs are the same bytes for all of them.
    pub next_message_id: Option<MessageId>,
    /// The newest day of the room's archive (`yyyy-mm-dd`), if any.
    pub latest_day: Option<String>,
    /// Set when search engines may index this page.
    pub seo: Option<PageSeo>,
    /// How the viewer reads translations here, if at all.
    pub reading: Option<tchatche_core::languages::Reading>,
    /// The message an "ask" reader asked to translate (`?translate=`).
    pub asked: Option<MessageId>,
}

#[cfg(feature = "ssr")]
pub(crate) mod access {
    use tchatche_core::store::{Room, RoomOverview, User};

    use super::*;
    use crate::{auth::session, state::app_state};

    /// A room's name, description and visibility from a form (creating or
    /// editing a room), or every broken rule with the typed values kept.
    pub fn room_fields(
        name: &str,
        description: &str,
        visibility: &str,
    ) -> Result<(tchatche_core::room::RoomName, tchatche_core::room::RoomDescription, Visibility), AppError> {
        use tchatche_core::room::{RoomDescription, RoomName};

        use crate::error::InvalidForm;
        let mut form = InvalidForm::new().keep("name", name).keep("description", description).keep("visibility", visibility);
        let name = form.check("name", RoomName::parse(name));
        let description = form.check("description", RoomDescription::parse(description));
        let visibility = form.check("visibility", Visibility::parse(visibility));
        match (name, description, visibility) {
            (Some(name), Some(description), Some(visibility)) => Ok((name, description, visibility)),
            _ => Err(with_status(AppError::Invalid(form))),
        }
    }

    /// The room and the viewer, if the viewer may see it; else 404.
    pub async fn visible_room(slug: &str) -> Result<(Room, Option<User>, bool), AppError> {
        let room = app_state().store.room_by_slug(slug).await?;
        let room = room.ok_or_else(|| with_status(AppError::NotFound))?;
        let (viewer, member) = admit(&room).await?;
        Ok((room, viewer, member))
    }

    /// [`visible_room`], with what the room's pages show besides messages;
    /// a direct conversation named after the others in it, for the viewer.
    pub async fn visible_overview(slug: &str) -> Result<(RoomOverview, Option<User>, bool), AppError> {
        let store = &app_state().store;
        let overview = store.room_overview(slug).await?;
        let mut overview = overview.ok_or_else(|| with_status(AppError::NotFound))?;
        let (viewer, member) = admit(&overview.room).await?;
        if let (true, Some(viewer)) = (overview.room.is_direct(), &viewer)
            && let Some(name) = store.direct_names(&[overview.room.id], viewer.id).await?.remove(&overview.room.id)
        {
            overview.room.name = name;
        }
        Ok((overview, viewer, member))
    }

    /// The viewer and whether they are a member, if they may see the room
    /// (the one rule, `tchatche_core::access`); else 404, so that a private
    /// room does not exist to outsiders.
    async fn admit(room: &Room) -> Result<(Option<User>, bool), AppError> {
        let viewer = session::current_user().await?;
        let access = tchatche_core::access::room_access(&app_state().store, room, viewer.as_ref()).await?;
        if !access.may_read() {
            return Err(with_status(AppError::NotFound));
        }
        Ok((viewer, access.may_post()))
    }

    pub async fn visible_room_by_id(id: RoomId) -> Result<(Room, Option<User>, bool), AppError> {
        let room = app_state().store.room_by_id(id).await?.ok_or_else(|| with_status(AppError::NotFound))?;
        let (viewer, member) = admit(&room).await?;
        Ok((room, viewer, member))
    }

    /// The room, if the signed-in viewer is a member (for posting).
    pub async fn member_room(id: RoomId) -> Result<(Room, User), AppError> {
        let (room, viewer, member) = visible_room_by_id(id).await?;
        let viewer = viewer.ok_or_else(|| with_status(AppError::Unauthorized))?;
        if !member {
            return Err(with_status(AppError::Forbidden));
        }
        Ok((room, viewer))
    }

    /// The room, if the signed-in viewer owns it (or is an admin).
    pub async fn owned_room(slug: &str) -> Result<(Room, User), AppError> {
        let (room, viewer, _) = visible_room(slug).await?;
        let viewer = owner(&room, viewer)?;
        Ok((room, viewer))
    }

    /// [`owned_room`], with what the room's pages show besides messages.
    pub async fn owned_overview(slug: &str) -> Result<(RoomOverview, User), AppError> {
        // Visitors are asked to sign in first, whatever the room (a room
        // that does not exist looks the same to them as one that does).
        if crate::auth::session::current_user().await?.is_none() {
            return Err(with_status(AppError::Unauthorized));
        }
        let (overview, viewer, _) = visible_overview(slug).await?;
        let viewer = owner(&overview.room, viewer)?;
        Ok((overview, viewer))
    }

    /// The viewer, if they own the room or are an admin. A direct
    /// conversation has no owner and no settings: not found.
    fn owner(room: &Room, viewer: Option<User>) -> Result<User, AppError> {
        let viewer = viewer.ok_or_else(|| with_status(AppError::Unauthorized))?;
        if room.is_direct() {
            return Err(with_status(AppError::NotFound));
        }
        if room.owner_id != Some(viewer.id) && viewer.role != tchatche_core::user::Role::Admin {
            return Err(with_status(AppError::Forbidden));
        }
        Ok(viewer)
    }

    pub fn info(overview: &RoomOverview, viewer: Option<&User>, member: bool) -> RoomInfo {
        let room = &overview.room;
        RoomInfo {
            id: room.id,
            slug: room.slug.clone(),
            name: room.name.clone(),
            description: room.description.clone(),
            visibility: room.visibility,
            indexable: room.indexable,
            translate_private: room.translate_private,
            member_count: overview.member_count,
            is_owner: viewer.is_some_and(|v| room.owner_id == Some(v.id)),
            is_member: member,
            direct: room.is_direct(),
            reactions_seq: room.reactions_seq,
            version: room.last_seq,
        }
    }

    /// How long a room's page stays true.
    pub enum Freshness {
        /// The latest messages: they change with every message.
        Live,
        /// An archive day still being written.
        Today,
        /// An archive day that is over.
        PastDay,
    }

    /// How long browsers and proxies may keep a room's page. What visitors
    /// see of a public room is the same for all of them, and may be shared
    /// (the server itself shares it for a second: `shared_pages`); with an
    /// ETag, checking it again is cheap. Pages for a signed-in person stay
    /// in their browser.
    pub fn cache_for(room: &Room, viewer: Option<&User>, freshness: Freshness) {
        use http::{HeaderValue, header};
        let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return };
        let shared = viewer.is_none() && room.visibility == Visibility::Public;
        let policy = match (shared, freshness) {
            (true, Freshness::Live) => "public, no-cache",
            (true, Freshness::Today) => "public, max-age=60",
            (true, Freshness::PastDay) => "public, max-age=86400, stale-while-revalidate=604800",
            (false, _) => "private, no-cache",
        };
        response.insert_header(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        // The page differs between visitors and signed-in people (the header).
        response.insert_header(header::VARY, HeaderValue::from_static("Cookie"));
    }

    /// Whether this GET is the person opening the page themselves: a
    /// top-level navigation from this site or typed in (Fetch Metadata),
    /// not a prefetch, a prerender or another site's embed. Only then may
    /// a GET move their read position (a GET otherwise changes nothing).
    pub fn is_own_navigation() -> bool {
        let Some(parts) = use_context::<http::request::Parts>() else { return false };
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let prefetch = header("sec-purpose").or(header("purpose")).is_some_and(|p| p.contains("prefetch") || p.contains("prerender"));
        !prefetch && matches!(header("sec-fetch-site"), Some("same-origin" | "none")) && header("sec-fetch-dest") == Some("document")
    }

    /// The page of room `slug` a form was sent from (from the Referer), if
    /// it was one of this site: where a plain form post lands back. Nothing
    /// else, so no one is sent elsewhere; of its query only `before` (an
    /// older page) is kept, not what was passing (an error, an open form).
    pub fn referring_page(slug: &str) -> Option<String> {
        let parts = use_context::<http::request::Parts>()?;
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let referer: http::Uri = header(http::header::REFERER)?.parse().ok()?;
        if referer.authority().map(|a| a.as_str()) != header(http::header::HOST) {
            return None;
        }
        let room = format!("/r/{slug}");
        let path = referer.path();
        if !(path == room || path.strip_prefix(&room).is_some_and(|rest| rest.starts_with('/'))) {
            return None;
        }
        let before = referer.query().into_iter().flat_map(|q| q.split('&')).find(|pair| pair.starts_with("before="));
        Some(match before {
            Some(before) => format!("{path}?{before}"),
            None => path.to_owned(),
        })
    }

    /// After a plain form post (no JavaScript), where to land.
    pub fn redirect_html(path: &str) {
        if crate::error::is_html_form_post() {
            leptos_axum::redirect(path);
        }
    }
}

/// The conversation page's data: the latest messages, or those before
/// `before`. A member opening the latest page has read it (with JavaScript,
/// the page also says so over the socket as messages arrive).
#[server(endpoint = "room_page", input = GetUrl)]
pub async fn room_page(slug: String, before: Option<i64>, translate: Option<String>) -> Result<RoomPageData, AppError> {
    // `?translate={id}`: the message an "ask" reader asked for (no JavaScript).
    let translate = translate.and_then(|id| uuid::Uuid::parse_str(&id).ok()).map(MessageId);
    use crate::state::app_state;
    let (overview, viewer, member) = access::visible_overview(&slug).await?;
    let room = &overview.room;
    let state = app_state();
    let mut page = tchatche_core::chat::history(&state.store, &state.bus, room.id, before.map(tchatche_core::ids::Seq)).await?;
    let reading = translation::ssr::reading_of(viewer.as_ref(), room);
    if let Some(reading) = &reading {
        state.store.attach_translations(&mut page.messages, reading, translate).await?;
    }
    access::cache_for(room, viewer.as_ref(), access::Freshness::Live);
    tchatche_core::access::conceal_for(room, viewer.as_ref(), &mut page.messages);
    if let (Some(viewer), true, None, true) = (&viewer, member, before, access::is_own_navigation())
        && let Some(newest) = page.messages.last()
    {
        state.store.mark_read(room.id, viewer.id, newest.seq).await?;
    }
    // Older pages move as messages arrive: the archive's days are their
    // stable, indexable form.
    let seo = match before {
        // Search engines read originals: a page that may show translations is not theirs.
        None if room.is_indexable() && reading.is_none() => {
            let url = format!("{}/r/{}", crate::seo::ssr::site_url(), room.slug);
            let json_ld =
                crate::seo::ssr::discussion(room, overview.owner_name.as_deref(), &room.name, &url, &page.messages);
            crate::seo::ssr::allow_indexing();
            Some(PageSeo { canonical: url, json_ld })
        }
        _ => None,
    };
    Ok(RoomPageData {
        room: access::info(&overview, viewer.as_ref(), member),
        messages: page.messages,
        has_older: page.has_older,
        latest: before.is_none(),
        viewer: viewer.map(|v| v.username),
        next_message_id: (member && before.is_none()).then(|| MessageId(uuid::Uuid::now_v7())),
        latest_day: overview.latest_day.map(|day| day.to_string()),
        seo,
        reading,
        asked: translate,
    })
}

/// Older messages of a room or of one of its threads, for scrolling back
/// (oldest first).
#[server(endpoint = "older_messages", input = GetUrl, output = JsonAnswer)]
pub async fn older_messages(room: RoomId, thread: Option<MessageId>, before: i64) -> Result<(Vec<MessageView>, bool), AppError> {
    use tchatche_core::{chat, ids::Seq};

    use crate::state::app_state;
    let (room, viewer, _) = access::visible_room_by_id(room).await?;
    let state = app_state();
    let before = Some(Seq(before));
    let mut page = match thread {
        Some(root) => chat::thread_history(&state.store, &state.bus, room.id, root, before).await?,
        None => chat::history(&state.store, &state.bus, room.id, before).await?,
    };
    if let Some(reading) = translation::ssr::reading_of(viewer.as_ref(), &room) {
        state.store.attach_translations(&mut page.messages, &reading, None).await?;
    }
    tchatche_core::access::conceal_for(&room, viewer.as_ref(), &mut page.messages);
    Ok((page.messages, page.has_older))
}

/// The signed-in author, writing in the interface language of the request.
#[cfg(feature = "ssr")]
fn writer(viewer: &tchatche_core::store::User) -> tchatche_core::chat::Writer<'_> {
    use leptos_i18n::Locale as _;
    tchatche_core::chat::Writer { user: viewer, interface: Some(crate::language::request_locale().as_str()) }
}

/// Posts a message, answering `reply_to` if given (a message of the same
/// room). `id` is chosen by the client: sending it again (a retry) returns
/// the same message. Limited to a burst of 10, then one a second.
#[server(endpoint = "post_message", output = JsonAnswer)]
pub async fn post_message(room: RoomId, id: String, body: String, reply_to: Option<String>) -> Result<MessageView, AppError> {
    use tchatche_core::{input::InputError, limits::Scope};

    use crate::{error::InvalidForm, state::app_state};
    let reply_to = reply_to.filter(|r| !r.trim().is_empty());
    let kept = |field: &str, error: InputError| {
        let mut form = InvalidForm::new().keep("body", &body);
        form.check::<()>(field, Err(error));
        with_status(AppError::Invalid(form))
    };
    let (room, viewer) = access::member_room(room).await?;
    let id = uuid::Uuid::parse_str(id.trim()).map(MessageId).map_err(|_| kept("body", InputError::Malformed))?;
    let reply_to = match reply_to {
        Some(raw) => Some(uuid::Uuid::parse_str(raw.trim()).map(MessageId).map_err(|_| kept("reply_to", InputError::Malformed))?),
        None => None,
    };
    tchatche_core::chat::check_body(&body).map_err(|error| kept("body", error))?;
    let state = app_state();
    if let Err(wait) = state.limiter.hit(Scope::Post, &viewer.id.to_string()).await? {
        return Err(kept("body", InputError::TooFast { retry_after_secs: wait.secs() }));
    }
    let writer = writer(&viewer);
    let message = tchatche_core::chat::post(&state.store, &state.bus, room.id, &writer, id, &body, reply_to)
        .await
        .map_err(|err| match err {
            tchatche_core::Error::Input { field, error } => kept(field, error),
            err => with_status(AppError::from(err)),
        })?;
    state.store.mark_read(room.id, viewer.id, message.seq).await?;
    // Without JavaScript, a reply lands in its thread.
    let back = match message.threading.root {
        Some(root) => format!("/r/{}/t/{root}#m-{}", room.slug, message.id),
        None => format!("/r/{}#latest", room.slug),
    };
    access::redirect_html(&back);
    Ok(message)
}

/// Edits one's own message.
#[server(endpoint = "edit_message", output = JsonAnswer)]
pub async fn edit_message(room: RoomId, id: MessageId, body: String) -> Result<(), AppError> {
    use crate::{error::InvalidForm, state::app_state};
    let (room, viewer) = access::member_room(room).await?;
    crate::state::throttle(tchatche_core::limits::Scope::Revise, &viewer.id.to_string()).await?;
    let state = app_state();
    tchatche_core::chat::edit(&state.store, &state.bus, room.id, &writer(&viewer), id, &body).await.map_err(|err| match err {
        tchatche_core::Error::Input { error, .. } => {
            let mut form = InvalidForm::new().keep("body", &body);
            form.check::<()>("body", Err(error));
            with_status(AppError::Invalid(form))
        }
        err => with_status(AppError::from(err)),
    })?;
    access::redirect_html(&format!("/r/{}#m-{}", room.slug, id));
    Ok(())
}

/// Deletes one's own message (moderators and admins: any message).
#[server(endpoint = "delete_message", output = JsonAnswer)]
pub async fn delete_message(room: RoomId, id: MessageId) -> Result<(), AppError> {
    use crate::state::app_state;
    let (room, viewer, _) = access::visible_room_by_id(room).await?;
    let viewer = viewer.ok_or_else(|| with_status(AppError::Unauthorized))?;
    crate::state::throttle(tchatche_core::limits::Scope::Revise, &viewer.id.to_string()).await?;
    let state = app_state();
    tchatche_core::chat::delete(&state.store, &state.bus, room.id, &viewer, id).await.map_err(|e| with_status(e.into()))?;
    access::redirect_html(&format!("/r/{}#m-{}", room.slug, id));
    Ok(())
}

/// The rooms the signed-in person belongs to, with unread counts.
#[server(endpoint = "my_rooms", input = GetUrl)]
pub async fn my_rooms() -> Result<Vec<MyRoom>, AppError> {
    let Some(viewer) = crate::auth::session::current_user().await? else { return Ok(Vec::new()) };
    Ok(crate::state::app_state().store.rooms_of(viewer.id, &viewer.username).await?)
}

/// Joins a public room.
#[server(endpoint = "join_room")]
pub async fn join_room(slug: String) -> Result<(), AppError> {
    let (room, viewer, _) = access::visible_room(&slug).await?;
    let viewer = viewer.ok_or_else(|| with_status(AppError::Unauthorized))?;
    crate::state::app_state().store.join_room(room.id, viewer.id).await?;
    access::redirect_html(&format!("/r/{}#latest", room.slug));
    Ok(())
}

/// Leaves a room (its owner cannot: they delete it instead).
#[server(endpoint = "leave_room")]
pub async fn leave_room(slug: String) -> Result<(), AppError> {
    let (room, viewer, _) = access::visible_room(&slug).await?;
    let viewer = viewer.ok_or_else(|| with_status(AppError::Unauthorized))?;
    if room.owner_id == Some(viewer.id) {
        return Err(with_status(AppError::Forbidden));
    }
    let state = crate::state::app_state();
    state.store.leave_room(room.id, viewer.id).await?;
    state.bus.announce(tchatche_core::access::AccessChange::Membership { room: room.id, user: viewer.id }).await?;
    // A public room can still be read; a private one is gone for them.
    let back = match (room.is_direct(), room.visibility) {
        (true, _) => "/messages".to_owned(),
        (false, Visibility::Public) => format!("/r/{}", room.slug),
        (false, Visibility::Private) => "/".to_owned(),
    };
    access::redirect_html(&back);
    Ok(())
}
