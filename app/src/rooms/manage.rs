//! A room's settings, for its owner: name, description, visibility,
//! invitation links, deletion.

use leptos::{prelude::*, server_fn::codec::GetUrl};
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};
use tchatche_core::{ids::UnixMillis, room::{RoomDescription, RoomName}};

use super::{RoomInfo, forms::VisibilityChoice};
use crate::{
    auth::SignInFirst,
    components::{FormAlert, SubmitButton, TextField},
    error::{AppError, Outcome},
    i18n::*,
    pages::LocalTime,
    seo::NoIndex,
};
#[cfg(feature = "ssr")]
use crate::{error::with_status, rooms::access, state::app_state};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    pub token: String,
    pub url: String,
    pub created_at: UnixMillis,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSettings {
    pub room: RoomInfo,
    pub invites: Vec<InviteView>,
}

#[server(endpoint = "room_settings", input = GetUrl)]
pub async fn load_room_settings(slug: String) -> Result<RoomSettings, AppError> {
    let (overview, viewer) = access::owned_overview(&slug).await?;
    let room = &overview.room;
    let state = app_state();
    let base = state.config.public_url.as_str().trim_end_matches('/').to_owned();
    let invites = state
        .store
        .invites(room.id)
        .await?
        .into_iter()
        .map(|invite| InviteView {
            url: format!("{base}/invite/{}", invite.token),
            token: invite.token,
            created_at: invite.created_at,
            revoked: invite.revoked_at.is_some(),
        })
        .collect();
    Ok(RoomSettings { room: access::info(&overview, Some(&viewer), true), invites })
}

/// Saves the settings form. `indexable` and `translate` are checkboxes
/// (sent only when ticked); `indexable` has no effect on a private room,
/// `translate` none on a public one (public rooms are translated).
#[server(endpoint = "update_room")]
pub async fn update_room(
    slug: String,
    name: String,
    description: String,
    visibility: String,
    indexable: Option<String>,
    translate: Option<String>,
) -> Result<(), AppError> {
    use tchatche_core::store::RoomChanges;

    use crate::error::checkbox;
    let (room, _) = access::owned_room(&slug).await?;
    let (name, description, visibility) = access::room_fields(&name, &description, &visibility)?;
    let indexable = checkbox("indexable", indexable)?;
    let translate_private = checkbox("translate", translate)?;
    let changes = RoomChanges { name: name.as_str(), description: description.as_str(), visibility, indexable, translate_private };
    let state = app_state();
    state.store.update_room(room.id, &changes).await?;
    // Made private: its readers who are not members lose it.
    state.bus.announce(tchatche_core::access::AccessChange::Room(room.id)).await?;
    Ok(())
}

/// Deletes the room for good, after its name is typed to confirm.
#[server(endpoint = "delete_room")]
pub async fn delete_room(slug: String, confirm: String) -> Result<(), AppError> {
    use tchatche_core::input::InputError;
    let (room, _) = access::owned_room(&slug).await?;
    if confirm.trim() != room.name {
        return Err(with_status(AppError::invalid("confirm", InputError::Malformed)));
    }
    let state = app_state();
    state.store.delete_room(room.id).await?;
    state.bus.announce(tchatche_core::access::AccessChange::Room(room.id)).await?;
    tracing::info!(room = %room.id, "room deleted");
    leptos_axum::redirect("/");
    Ok(())
}

#[server(endpoint = "create_invite")]
pub async fn create_invite(slug: String) -> Result<(), AppError> {
    let (room, viewer) = access::owned_room(&slug).await?;
    crate::state::throttle(tchatche_core::limits::Scope::CreateInvite, &viewer.id.to_string()).await?;
    app_state().store.create_invite(room.id, viewer.id).await?;
    Ok(())
}

#[server(endpoint = "revoke_invite")]
pub async fn revoke_invite(slug: String, token: String) -> Result<(), AppError> {
    let (room, _) = access::owned_room(&slug).await?;
    app_state().store.revoke_invite(room.id, &token).await?;
    Ok(())
}

#[component]
pub fn RoomSettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let update = ServerAction::<UpdateRoom>::new();
    let delete = ServerAction::<DeleteRoom>::new();
    let invite = ServerAction::<CreateInvite>::new();
    let revoke = ServerAction::<RevokeInvite>::new();
    let settings = Resource::new(
        move || (slug(), update.version().get(), invite.version().get(), revoke.version().get()),
        |(slug, ..)| load_room_settings(slug),
    );
    let update_result: Outcome = update.value().into();
    let delete_result: Outcome = delete.value().into();
    view! {
        <Title text=move || t_string!(i18n, room_settings_title) />
        <NoIndex />
        <Suspense>
            {move || Suspend::new(async move {
                let settings = match settings.await {
                    Ok(settings) => settings,
                    Err(AppError::Unauthorized) => {
                        return view! { <SignInFirst error=None next=format!("/r/{}/settings", slug()) /> }.into_any();
                    }
                    Err(error @ AppError::Unavailable) => {
                        return view! { <SignInFirst error=Some(error) next=String::new() /> }.into_any();
                    }
                    Err(_) => return view! { <crate::pages::NotFound /> }.into_any(),
                };
                let room = settings.room;
                let room_slug = room.slug.clone();
                let (slug_update, slug_invite, slug_delete) = (room.slug.clone(), room.slug.clone(), room.slug.clone());
                view! {
                    <div class="mx-auto flex max-w-2xl flex-col gap-6">
                        <p>
                            <a href=format!("/r/{}", room.slug) class="text-sm text-indigo-700 underline dark:text-indigo-300">
                                <span aria-hidden="true" class="inline-block rtl:-scale-x-100">"←"</span> " " <bdi>{room.name.clone()}</bdi>
                            </a>
                        </p>
                        <h1 class="text-3xl font-bold tracking-tight">{t!(i18n, room_settings_title)}</h1>
                        <section class="rounded-2xl border border-slate-200 p-6 dark:border-slate-800">
                            <ActionForm action=update attr:class="flex flex-col gap-3" attr:novalidate="">
                                <input type="hidden" name="slug" value=slug_update />
                                <TextField
                                    label=move || t_string!(i18n, field_room_name)
                                    name="name"
                                    autocomplete="off"
                                    result=update_result
                                    value=room.name.clone()
                                    maxlength=RoomName::MAX
                                />
                                <TextField
                                    label=move || t_string!(i18n, field_room_description)
                                    name="description"
                                    autocomplete="off"
                                    result=update_result
                                    required=false
                                    value=room.description.clone()
                                    maxlength=RoomDescription::MAX
                                />
                                <VisibilityChoice result=update_result current=room.visibility />
                                <label class="flex items-start gap-2 text-sm">
                                    <input type="checkbox" name="indexable" checked=room.indexable class="mt-1" data-testid="indexable" />
                                    <span>
                                        <strong>{t!(i18n, room_indexable)}</strong>
                                        " — "
                                        {t!(i18n, room_indexable_explained)}
                                    </span>
                                </label>
                                <label class="flex items-start gap-2 text-sm">
                                    <input type="checkbox" name="translate" checked=room.translate_private class="mt-1" data-testid="translate-private" />
                                    <span>
                                        <strong>{t!(i18n, room_translation)}</strong>
                                        " — "
                                        {t!(i18n, room_translation_explained)}
                                    </span>
                                </label>
                                <FormAlert result=update_result />
                                <div>
                                    <SubmitButton label=move || t_string!(i18n, settings_save) pending=update.pending() />
                                </div>
                            </ActionForm>
                        </section>

                        <section class="rounded-2xl border border-slate-200 p-6 dark:border-slate-800" aria-labelledby="invites-title">
                            <h2 id="invites-title" class="mb-2 text-lg font-semibold">{t!(i18n, room_invites)}</h2>
                            <p class="mb-4 text-sm text-slate-600 dark:text-slate-400">{t!(i18n, room_invites_explained)}</p>
                            <ul class="mb-4 flex flex-col gap-2" data-testid="invites">
                                {settings
                                    .invites
                                    .into_iter()
                                    .map(|invite| {
                                        let slug = room_slug.clone();
                                        view! {
                                            <li class="flex flex-wrap items-center gap-2 text-sm">
                                                <code class="break-all rounded bg-slate-100 px-2 py-1 dark:bg-slate-900" class:line-through=invite.revoked>
                                                    {invite.url}
                                                </code>
                                                <LocalTime at=invite.created_at />
                                                {if invite.revoked {
                                                    view! { <span class="text-slate-500">{t!(i18n, room_invite_revoked)}</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <ActionForm action=revoke>
                                                            <input type="hidden" name="slug" value=slug />
                                                            <input type="hidden" name="token" value=invite.token />
                                                            <button type="submit" class="text-red-700 underline dark:text-red-400">
                                                                {t!(i18n, room_invite_revoke)}
                                                            </button>
                                                        </ActionForm>
                                                    }
                                                        .into_any()
                                                }}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            <ActionForm action=invite>
                                <input type="hidden" name="slug" value=slug_invite />
                                <SubmitButton label=move || t_string!(i18n, room_invite_create) pending=invite.pending() />
                            </ActionForm>
                        </section>

                        <section class="rounded-2xl border border-red-200 p-6 dark:border-red-900">
                            <h2 class="mb-2 text-lg font-semibold">{t!(i18n, room_delete)}</h2>
                            <p class="mb-4 text-sm text-slate-600 dark:text-slate-400">{t!(i18n, room_delete_explained)}</p>
                            <ActionForm action=delete attr:class="flex flex-col gap-3" attr:novalidate="">
                                <input type="hidden" name="slug" value=slug_delete />
                                <TextField
                                    label=move || t_string!(i18n, field_room_confirm)
                                    name="confirm"
                                    autocomplete="off"
                                    result=delete_result
                                />
                                <FormAlert result=delete_result />
                                <div>
                                    <button type="submit" class="rounded-md bg-red-700 px-4 py-2 text-sm font-semibold text-white hover:bg-red-600">
                                        {t!(i18n, room_delete_submit)}
                                    </button>
                                </div>
                            </ActionForm>
                        </section>
                    </div>
                }
                    .into_any()
            })}
        </Suspense>
    }
}
