//! Reactions under a message: everyone who reads the room sees each emoji
//! with its count and who reacted (in its accessible name and tooltip, not
//! only as a glyph); members add or take back theirs with plain forms that
//! work without JavaScript, and at once, live for everyone, with it.

use leptos::{html, prelude::*, server_fn::ServerFn};
use tchatche_core::{
    ids::{MessageId, RoomId},
    reaction::{QUICK, ReactionCount, Reactions},
};

use super::live::Timeline;
use crate::{
    codec::JsonAnswer,
    error::AppError,
    phrases::{Phrase, PhraseBook},
};

/// Adds (`on`) or takes back the signed-in member's reaction `emoji` on a
/// message. Without JavaScript the person lands back on the page they
/// reacted from, at the message.
#[server(endpoint = "react_to_message", output = JsonAnswer)]
pub async fn react_to_message(room: RoomId, id: MessageId, emoji: String, on: bool) -> Result<Reactions, AppError> {
    use crate::{error::with_status, state::app_state};
    let (room, viewer) = super::access::member_room(room).await?;
    crate::state::throttle(tchatche_core::limits::Scope::React, &viewer.id.to_string()).await?;
    let state = app_state();
    let reactions = tchatche_core::chat::react(&state.store, &state.bus, room.id, &viewer, id, &emoji, on)
        .await
        .map_err(|err| match err {
            tchatche_core::Error::Input { field, error } => with_status(AppError::invalid(field, error)),
            err => with_status(AppError::from(err)),
        })?;
    let page = super::access::referring_page(&room.slug).unwrap_or_else(|| format!("/r/{}", room.slug));
    super::access::redirect_html(&format!("{page}#m-{id}"));
    Ok(reactions)
}

/// Without JavaScript, a refused reaction comes back to its page with the
/// server's reason (leptos_axum puts it in the address): read on the
/// server, outside the page's Suspense, and said above the messages.
pub(super) fn refusal() -> StoredValue<Option<String>> {
    let error = ServerAction::<ReactToMessage>::new().value().get_untracked().and_then(Result::err);
    StoredValue::new(error.map(|error| {
        error.field("emoji").map(crate::error::input_error_text).unwrap_or_else(|| crate::error::error_text(&error))
    }))
}

/// [`refusal`], said.
pub(super) fn refusal_alert(refusal: StoredValue<Option<String>>) -> impl IntoView {
    refusal.get_value().map(|text| {
        view! { <p role="alert" class="mb-2 text-sm text-red-700 dark:text-red-400" data-testid="reaction-refused">{text}</p> }
    })
}

/// Who reacted with one emoji, named: "Ana, Bo, +3".
fn who(count: &ReactionCount) -> String {
    let mut names: Vec<&str> = count.by.iter().map(|author| author.display_name.as_str()).collect();
    let rest = (count.count as usize).saturating_sub(names.len());
    let more = format!("+{rest}");
    if rest > 0 {
        names.push(&more);
    }
    names.join(", ")
}

/// What a reaction is called by screen readers (its glyph they name in
/// their own language): "👍 2: Ana, Bo".
fn accessible_name(count: &ReactionCount) -> String {
    format!("{} {}: {}", count.emoji, count.count, who(count))
}

const CHIP: &str = "inline-flex items-center gap-1 rounded-full border border-slate-300 px-2 text-sm dark:border-slate-700";

/// A message's reactions, to read.
pub(super) fn reaction_list(reactions: &Reactions) -> impl IntoView + use<> {
    let say = PhraseBook::expect();
    let counts = reactions.counts.clone();
    (!counts.is_empty()).then(|| {
        view! {
            <ul class="mt-1 flex flex-wrap gap-1" aria-label=say.get(Phrase::ReactionsLabel) data-testid="reactions">
                {counts
                    .into_iter()
                    .map(|count| {
                        view! {
                            <li class=CHIP title=who(&count) aria-label=accessible_name(&count) data-testid="reaction">
                                <span aria-hidden="true">{count.emoji.clone()} " " {count.count}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

/// A message's reactions as a member of its room sees them: each a button
/// that adds or takes back their own, then a picker of the quick set and
/// any other emoji. `viewer` is their username.
pub(super) fn reaction_controls(room: RoomId, id: MessageId, reactions: Reactions, viewer: String) -> AnyView {
    let say = PhraseBook::expect();
    let refused = RwSignal::new(None::<String>);
    let other = NodeRef::<html::Input>::new();
    let chips = reactions
        .counts
        .into_iter()
        .map(|count| {
            let mine = count.includes(&viewer);
            let label = accessible_name(&count);
            let shown = view! { <span aria-hidden="true">{count.emoji.clone()} " " {count.count}</span> };
            view! {
                <li>
                    {toggle_form(room, id, count.emoji.clone(), !mine, refused, None, move || {
                        view! {
                            <button
                                type="submit"
                                class=format!("{CHIP} hover:bg-slate-100 aria-pressed:border-indigo-500 aria-pressed:bg-indigo-50 dark:hover:bg-slate-800 dark:aria-pressed:bg-indigo-950")
                                aria-pressed=mine.to_string()
                                aria-label=label
                                title=who(&count)
                                data-testid="reaction"
                               
                            >
                                {shown}
                            </button>
                        }
                    })}
                </li>
            }
        })
        .collect_view();
    let quick = QUICK
        .into_iter()
        .map(|emoji| {
            toggle_form(room, id, emoji.to_owned(), true, refused, None, move || {
                view! {
                    <button type="submit" class="rounded px-1 text-lg hover:bg-slate-100 dark:hover:bg-slate-800" data-testid="quick-reaction">
                        {emoji}
                    </button>
                }
            })
        })
        .collect_view();
    let any_id = format!("react-{id}");
    view! {
        <div class="mt-1 flex flex-wrap items-center gap-1">
            <ul class="contents" aria-label=say.get(Phrase::ReactionsLabel) data-testid="reactions">{chips}</ul>
            <details class="text-sm" data-testid="add-reaction">
                <summary class="cursor-pointer list-none rounded-full border border-slate-300 px-2 text-slate-500 dark:border-slate-700 dark:text-slate-400" title=say.get(Phrase::ReactionAdd)>
                    <span aria-hidden="true">"☺︎+"</span>
                    <span class="sr-only">{say.get(Phrase::ReactionAdd)}</span>
                </summary>
                <div class="mt-1 flex flex-wrap items-center gap-1">
                    {quick}
                    {toggle_form(room, id, String::new(), true, refused, Some(other), move || {
                        view! {
                            <label for=any_id.clone() class="sr-only">{say.get(Phrase::ReactionAny)}</label>
                            <input
                                id=any_id.clone()
                                node_ref=other
                                name="emoji"
                                required
                                maxlength="32"
                                size="4"
                                placeholder=say.get(Phrase::ReactionAny)
                                class="w-28 rounded-md border border-slate-300 bg-white px-2 py-0.5 dark:border-slate-700 dark:bg-slate-900"
                            />
                            <button type="submit" class="rounded-md border border-slate-300 px-2 py-0.5 dark:border-slate-700">
                                {say.get(Phrase::ReactionSubmit)}
                            </button>
                        }
                    })}
                </div>
            </details>
            {move || refused.get().map(|text| view! { <span role="alert" class="text-xs text-red-700 dark:text-red-400">{text}</span> })}
        </div>
    }
    .into_any()
}

/// One form adding (`on`) or taking back `emoji`; with `typed`, the emoji
/// is what that field holds. Hydrated, it asks the server function and
/// shows the answer at once; a refusal is said in `refused`.
fn toggle_form<V: IntoView + 'static>(
    room: RoomId,
    id: MessageId,
    emoji: String,
    on: bool,
    refused: RwSignal<Option<String>>,
    typed: Option<NodeRef<html::Input>>,
    fields: impl FnOnce() -> V,
) -> impl IntoView {
    let say = PhraseBook::expect();
    let timeline = use_context::<Timeline>();
    let fixed = emoji.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let emoji = match typed.and_then(|input| input.get_untracked()) {
            Some(input) => input.value(),
            None => fixed.clone(),
        };
        leptos::task::spawn_local(async move {
            match react_to_message(room, id, emoji, on).await {
                Ok(reactions) => {
                    refused.set(None);
                    if let Some(timeline) = timeline {
                        timeline.reacted(id, reactions);
                    }
                }
                Err(error) => refused.set(Some(say.field_or_error(&error, "emoji"))),
            }
        });
    };
    view! {
        <form method="post" action=ReactToMessage::PATH class="contents" on:submit=submit>
            <input type="hidden" name="room" value=room.0 />
            <input type="hidden" name="id" value=id.to_string() />
            {typed.is_none().then(|| view! { <input type="hidden" name="emoji" value=emoji /> })}
            <input type="hidden" name="on" value=on.to_string() />
            {fields()}
        </form>
    }
}
