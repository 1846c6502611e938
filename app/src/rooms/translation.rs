//! Translated reading of a room: which translations a reader gets with
//! their page (all of them when they chose "always"), and the Translate
//! control of "ask" readers (a plain form, or a live update with
//! JavaScript). Translations are made by the worker's translator: asking
//! queues a job and never waits for the engine.

use leptos::prelude::*;
use tchatche_core::{
    event::Translation,
    ids::{MessageId, RoomId},
};

use crate::{codec::JsonAnswer, error::AppError};

/// Asks for one message in the reader's language: answers the translation
/// when it is stored, else queues it and answers `None` (it comes live, or
/// with the next page). Without JavaScript the page comes back with it.
#[server(endpoint = "translate_message", output = JsonAnswer)]
pub async fn translate_message(room: RoomId, id: MessageId) -> Result<Option<Translation>, AppError> {
    use tchatche_core::{bus::TranslationJob, chat};

    use super::access;
    use crate::{error::with_status, state::app_state};

    let (room, viewer, _) = access::visible_room_by_id(room).await?;
    let viewer = viewer.ok_or_else(|| with_status(AppError::Unauthorized))?;
    crate::state::throttle(tchatche_core::limits::Scope::Translate, &viewer.id.to_string()).await?;
    let state = app_state();
    access::redirect_html(&format!("/r/{}?translate={id}#m-{id}", room.slug));
    let reading = ssr::reading_of(Some(&viewer), &room).ok_or_else(|| with_status(AppError::Forbidden))?;
    let message = chat::find(&state.store, &state.bus, room.id, id).await?;
    if !reading.needs(&message) {
        return Ok(None);
    }
    if let Some(found) = state.store.translations(&[id], &reading.lang).await?.remove(&id) {
        return Ok(Some(found));
    }
    let job = TranslationJob {
        message_id: id,
        room_id: room.id,
        version: message.version,
        from: message.lang.clone().unwrap_or_default(),
        targets: vec![reading.lang],
    };
    state.bus.queue_translation(&job).await?;
    Ok(None)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use tchatche_core::{
        languages::{Reading, TranslateMode, base_of},
        store::{Room, User},
    };

    use crate::state::app_state;

    /// How `viewer` reads `room`, when anything in it is translated for
    /// them: signed in, not "never", an engine for their language, and a
    /// room that lets its words go to the engine.
    pub fn reading_of(viewer: Option<&User>, room: &Room) -> Option<Reading> {
        use leptos_i18n::Locale as _;
        let viewer = viewer?;
        let state = app_state();
        let languages = &state.config.translation.as_ref()?.languages;
        if viewer.translate_mode == TranslateMode::Never || !room.may_be_translated() {
            return None;
        }
        let lang = base_of(crate::language::request_locale().as_str())?;
        languages.contains(&lang).then(|| Reading::new(viewer.id, lang, viewer.translate_mode, &viewer.known_languages))
    }
}

/// Each language's own name (for "machine-translated from …" and the
/// settings): rendered by the server only, so not in the browser bundle.
pub fn autonym(code: &str) -> &'static str {
    match code {
        "en" => "English",
        "fr" => "Français",
        "de" => "Deutsch",
        "es" => "Español",
        "pt" => "Português",
        "it" => "Italiano",
        "nl" => "Nederlands",
        "pl" => "Polski",
        "ru" => "Русский",
        "el" => "Ελληνικά",
        "tr" => "Türkçe",
        "ar" => "العربية",
        "he" => "עברית",
        "zh" => "中文",
        "ja" => "日本語",
        "ko" => "한국어",
        _ => "?",
    }
}

/// The Translate control of an "ask" reader: a form without JavaScript;
/// with it, the translation shows in place (or once the translator is done).
pub(super) fn translate_form(room: RoomId, id: MessageId, on_translated: impl Fn(Option<Translation>) + Copy + 'static) -> impl IntoView {
    use leptos::server_fn::ServerFn;

    use crate::phrases::{Phrase, PhraseBook};
    let say = PhraseBook::expect();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            on_translated(translate_message(room, id).await.ok().flatten());
        });
    };
    view! {
        <form method="post" action=TranslateMessage::PATH on:submit=submit class="inline">
            <input type="hidden" name="room" value=room.0 />
            <input type="hidden" name="id" value=id.to_string() />
            <button type="submit" class="underline" data-testid="translate">{say.get(Phrase::TranslateMessage)}</button>
        </form>
    }
}
