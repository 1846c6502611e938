//! Direct conversations and the block list: the `/messages` page, starting
//! a conversation (there, or from a profile), blocking and unblocking (from
//! a profile or the settings). Plain forms throughout. A conversation
//! itself is a room (`crate::rooms`); the rules are in
//! `tchatche_core::direct`.

use leptos::{prelude::*, server_fn::{ServerFn, codec::GetUrl}};
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use tchatche_core::{direct::Participants, room::MyRoom};

use crate::{
    auth::SignInFirst,
    components::{FormAlert, SubmitButton, TextField},
    error::{AppError, Outcome, input_error_text},
    i18n::*,
    seo::NoIndex,
};
#[cfg(feature = "ssr")]
use crate::{auth::session, error::with_status, state::app_state};

/// What `/messages` shows: the person's conversations and whom they may
/// start one with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationList {
    /// Most recently active first, with unread counts.
    pub rooms: Vec<MyRoom>,
    /// Usernames the picker suggests.
    pub contacts: Vec<String>,
}

/// How many people the picker suggests.
#[cfg(feature = "ssr")]
const CONTACTS_SHOWN: i64 = 200;

#[server(endpoint = "conversations", input = GetUrl)]
pub async fn conversations() -> Result<ConversationList, AppError> {
    let viewer = session::require_user().await.map_err(with_status)?;
    let store = &app_state().store;
    let rooms = store.rooms_of(viewer.id, &viewer.username).await?.into_iter().filter(|room| room.direct).collect();
    let contacts = store.contacts(viewer.id, CONTACTS_SHOWN).await?.into_iter().map(|user| user.username).collect();
    Ok(ConversationList { rooms, contacts })
}

/// Opens the signed-in person's conversation with the usernames in `with`
/// (the one they have, or a new one), then goes there.
#[server(endpoint = "start_conversation")]
pub async fn start_conversation(with: String) -> Result<(), AppError> {
    let viewer = session::require_user().await.map_err(with_status)?;
    let refused = |error| with_status(AppError::invalid("with", error).keeping(&[("with", &with)]));
    let others = Participants::parse(&with, &viewer.username).map_err(refused)?;
    crate::state::throttle(tchatche_core::limits::Scope::Direct, &viewer.id.to_string()).await?;
    let room = tchatche_core::direct::start(&app_state().store, &viewer, &others).await.map_err(|err| match err {
        tchatche_core::Error::Input { error, .. } => refused(error),
        err => with_status(err.into()),
    })?;
    leptos_axum::redirect(&format!("/r/{}#latest", room.slug));
    Ok(())
}

/// Blocks `username`: they can no longer start a conversation with the
/// signed-in person, and neither can write in one they share. Without
/// JavaScript the form lands back where it was sent from.
#[server(endpoint = "block_person")]
pub async fn block_person(username: String) -> Result<(), AppError> {
    set_block(&username, true).await
}

/// Lifts a block.
#[server(endpoint = "unblock_person")]
pub async fn unblock_person(username: String) -> Result<(), AppError> {
    set_block(&username, false).await
}

#[cfg(feature = "ssr")]
async fn set_block(username: &str, on: bool) -> Result<(), AppError> {
    use tchatche_core::{access::AccessChange, input::InputError};
    let viewer = session::require_user().await.map_err(with_status)?;
    let refused = |error| with_status(AppError::invalid("username", error).keeping(&[("username", username)]));
    let username = username.trim().trim_start_matches('@');
    crate::state::throttle(tchatche_core::limits::Scope::Direct, &viewer.id.to_string()).await?;
    let state = app_state();
    let other = state.store.user_by_username(username).await?.ok_or_else(|| refused(InputError::NoSuchPerson))?;
    if other.id == viewer.id {
        return Err(refused(InputError::Unreachable));
    }
    let shared = if on { state.store.block(viewer.id, other.id).await? } else { state.store.unblock(viewer.id, other.id).await? };
    // Open pages of the conversations they share learn who may write now.
    for room in shared {
        for user in [viewer.id, other.id] {
            state.bus.announce(AccessChange::Membership { room, user }).await?;
        }
    }
    Ok(())
}

/// The people the signed-in person blocked: (username, display name).
#[server(endpoint = "blocked_people", input = GetUrl)]
pub async fn blocked_people() -> Result<Vec<(String, String)>, AppError> {
    let viewer = session::require_user().await.map_err(with_status)?;
    let blocked = app_state().store.blocked_by(viewer.id).await?;
    Ok(blocked.into_iter().map(|user| (user.username, user.display_name)).collect())
}

/// `/messages`: the person's conversations and a form to start one.
#[component]
pub fn DirectMessagesPage() -> impl IntoView {
    let i18n = use_i18n();
    let data = Resource::new(|| (), |_| conversations());
    let action = ServerAction::<StartConversation>::new();
    let result: Outcome = action.value().into();
    view! {
        <Title text=move || t_string!(i18n, direct_title) />
        <NoIndex />
        <Suspense>
            {move || Suspend::new(async move {
                let ConversationList { rooms, contacts } = match data.await {
                    Ok(data) => data,
                    Err(AppError::Unauthorized) => return view! { <SignInFirst error=None next="/messages".to_owned() /> }.into_any(),
                    Err(error) => return view! { <SignInFirst error=Some(error) next="/messages".to_owned() /> }.into_any(),
                };
                view! {
                    <section class="mx-auto flex w-full max-w-2xl flex-col gap-6" aria-labelledby="direct-title">
                        <div>
                            <h1 id="direct-title" class="text-3xl font-bold tracking-tight">{t!(i18n, direct_title)}</h1>
                            <p class="mt-2 text-slate-600 dark:text-slate-400">{t!(i18n, direct_intro)}</p>
                        </div>
                        <ConversationLinks rooms />
                        <div class="rounded-2xl border border-slate-200 p-6 dark:border-slate-800">
                            <h2 class="mb-3 text-lg font-semibold">{t!(i18n, direct_new)}</h2>
                            <ActionForm action attr:class="flex flex-col gap-3" attr:novalidate="" attr:data-testid="start-conversation">
                                <PeopleField result contacts />
                                <FormAlert result />
                                <div>
                                    <SubmitButton label=move || t_string!(i18n, direct_start) pending=action.pending() />
                                </div>
                            </ActionForm>
                        </div>
                    </section>
                }
                    .into_any()
            })}
        </Suspense>
    }
}

/// Whom to write to, with the picker's suggestions (a `datalist`: the
/// browser offers them as the person types, no script needed).
#[component]
fn PeopleField(result: Outcome, contacts: Vec<String>) -> impl IntoView {
    let i18n = use_i18n();
    let refusal = result.get_untracked().and_then(Result::err);
    let error = refusal.as_ref().and_then(|refusal| refusal.field("with"));
    let typed = refusal.as_ref().and_then(|refusal| refusal.kept("with")).unwrap_or_default();
    view! {
        <div class="flex flex-col gap-1">
            <label for="field-with" class="text-sm font-medium">{t!(i18n, direct_with_label)}</label>
            <input
                id="field-with"
                name="with"
                list="contacts"
                autocomplete="off"
                required
                maxlength=Participants::MAX_INPUT
                value=typed
                aria-invalid=error.is_some().to_string()
                aria-describedby="field-with-help field-with-error"
                class="rounded-md border border-slate-300 bg-white px-3 py-2 text-base shadow-sm aria-[invalid=true]:border-red-600 dark:border-slate-700 dark:bg-slate-900"
            />
            <p id="field-with-help" class="text-sm text-slate-600 dark:text-slate-400">{t!(i18n, direct_with_help)}</p>
            <p id="field-with-error" class="min-h-5 text-sm text-red-700 dark:text-red-400" role="alert" data-testid="with-error">
                {error.map(input_error_text)}
            </p>
            <datalist id="contacts">
                {contacts.into_iter().map(|username| view! { <option value=username></option> }).collect_view()}
            </datalist>
        </div>
    }
}

#[component]
fn ConversationLinks(rooms: Vec<MyRoom>) -> impl IntoView {
    let i18n = use_i18n();
    if rooms.is_empty() {
        return view! {
            <p class="rounded-xl border border-dashed border-slate-300 p-6 text-center dark:border-slate-700" data-testid="conversations-empty">
                {t!(i18n, direct_empty)}
            </p>
        }
        .into_any();
    }
    view! {
        <ul class="flex flex-col divide-y divide-slate-200 rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800" data-testid="conversations">
            {rooms
                .into_iter()
                .map(|room| {
                    let unread = room.unread;
                    view! {
                        <li>
                            <a href=format!("/r/{}#latest", room.slug) class="flex items-center justify-between gap-3 px-4 py-3 hover:bg-slate-50 dark:hover:bg-slate-900" data-testid=format!("conversation-{}", room.slug)>
                                <bdi class="truncate font-medium">{room.name}</bdi>
                                {(unread > 0).then(|| view! {
                                    <span class="rounded-full bg-indigo-600 px-2 text-xs font-semibold text-white" data-testid="unread"
                                        title=t_string!(i18n, room_unread, count = unread)>
                                        {unread}
                                    </span>
                                })}
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// "Send a message" to one person, as a plain form (on their profile).
#[component]
pub fn MessageButton(username: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form method="post" action=StartConversation::PATH data-testid="message-person">
            <input type="hidden" name="with" value=username />
            <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">
                {t!(i18n, profile_message)}
            </button>
        </form>
    }
}

/// Block or unblock one person, as a plain form.
#[component]
pub fn BlockButton(username: String, blocked: bool) -> impl IntoView {
    let i18n = use_i18n();
    let path = if blocked { UnblockPerson::PATH } else { BlockPerson::PATH };
    view! {
        <form method="post" action=path data-testid=if blocked { "unblock-person" } else { "block-person" }>
            <input type="hidden" name="username" value=username />
            <button type="submit" class="rounded-md border border-slate-300 px-4 py-2 text-sm font-semibold hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
                {if blocked { t_string!(i18n, unblock_person) } else { t_string!(i18n, block_person) }}
            </button>
        </form>
    }
}

/// The settings' list of blocked people, and a form to block someone.
#[component]
pub fn BlockedPeople(
    /// (username, display name).
    people: Vec<(String, String)>,
) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<BlockPerson>::new();
    let result: Outcome = action.value().into();
    let listed = if people.is_empty() {
        view! { <p class="mb-3 text-sm" data-testid="blocked-none">{t!(i18n, settings_blocked_none)}</p> }.into_any()
    } else {
        view! {
            <ul class="mb-3 flex flex-col gap-2" data-testid="blocked-people">
                {people
                    .into_iter()
                    .map(|(username, display_name)| view! {
                        <li class="flex items-center justify-between gap-3">
                            <a href=format!("/u/{username}") class="underline"><bdi>{display_name}</bdi> " (@" {username.clone()} ")"</a>
                            <BlockButton username blocked=true />
                        </li>
                    })
                    .collect_view()}
            </ul>
        }
            .into_any()
    };
    view! {
        <p class="mb-3 text-sm text-slate-600 dark:text-slate-400">{t!(i18n, settings_blocked_explained)}</p>
        {listed}
        <ActionForm action attr:class="flex flex-col gap-3" attr:novalidate="" attr:data-testid="block-form">
            <TextField
                label=move || t_string!(i18n, settings_block_label)
                name="username"
                autocomplete="off"
                result
                maxlength=tchatche_core::user::Username::MAX
            />
            <FormAlert result />
            <div>
                <SubmitButton label=move || t_string!(i18n, block_person) pending=action.pending() />
            </div>
        </ActionForm>
    }
}
