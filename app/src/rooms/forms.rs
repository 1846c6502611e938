//! Creating a room, and joining a private one through its invitation link.

use leptos::{prelude::*, server_fn::codec::GetUrl};
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use tchatche_core::room::{RoomDescription, RoomName};

use crate::{
    auth::{SignInFirst, use_viewer},
    components::{FieldCheck, FormAlert, SubmitButton, TextField},
    error::{AppError, Outcome},
    i18n::*,
    seo::NoIndex,
};
#[cfg(feature = "ssr")]
use crate::error::with_status;

/// Creates a room owned by the signed-in person, then opens it.
#[server(endpoint = "create_room")]
pub async fn create_room(name: String, description: String, visibility: String) -> Result<(), AppError> {
    use crate::{auth::session, state::app_state};
    let viewer = session::require_user().await.map_err(with_status)?;
    let (name, description, visibility) = super::access::room_fields(&name, &description, &visibility)?;
    crate::state::throttle(tchatche_core::limits::Scope::CreateRoom, &viewer.id.to_string()).await?;
    let room = app_state()
        .store
        .create_room_named(name.as_str(), description.as_str(), visibility, viewer.id)
        .await?;
    tracing::info!(room = %room.id, slug = %room.slug, "room created");
    leptos_axum::redirect(&format!("/r/{}", room.slug));
    Ok(())
}

/// Joins the private room an invitation opens, then goes there.
#[server(endpoint = "accept_invite")]
pub async fn accept_invite(token: String) -> Result<(), AppError> {
    use crate::{auth::session, state::app_state};
    let viewer = session::require_user().await.map_err(with_status)?;
    let state = app_state();
    // One statement: a link revoked meanwhile lets nobody in.
    let room = state.store.join_by_invite(token.trim(), viewer.id).await?.ok_or_else(|| with_status(AppError::NotFound))?;
    leptos_axum::redirect(&format!("/r/{}", room.slug));
    Ok(())
}

/// The name of the room an invitation opens (signed-in people only: a link
/// says nothing to anyone else).
#[server(endpoint = "invite_room", input = GetUrl)]
pub async fn invite_room(token: String) -> Result<String, AppError> {
    use crate::{auth::session, state::app_state};
    session::require_user().await.map_err(with_status)?;
    let room = app_state().store.room_by_invite(token.trim()).await?.ok_or_else(|| with_status(AppError::NotFound))?;
    Ok(room.name)
}

#[component]
pub fn NewRoomPage() -> impl IntoView {
    let i18n = use_i18n();
    let viewer = use_viewer();
    let action = ServerAction::<CreateRoom>::new();
    let result: Outcome = action.value().into();
    view! {
        <Title text=move || t_string!(i18n, room_new_title) />
        <NoIndex />
        <Suspense>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Some(_)) => {}
                    Ok(None) => return view! { <SignInFirst error=None next="/rooms/new".to_owned() /> }.into_any(),
                    Err(error) => return view! { <SignInFirst error=Some(error) next="/rooms/new".to_owned() /> }.into_any(),
                }
                view! {
                    <section class="mx-auto w-full max-w-lg rounded-2xl border border-slate-200 p-6 shadow-sm sm:p-8 dark:border-slate-800">
                        <h1 class="mb-6 text-2xl font-bold tracking-tight">{t!(i18n, room_new_title)}</h1>
                        <ActionForm action attr:class="flex flex-col gap-3" attr:novalidate="">
                            <TextField
                                label=move || t_string!(i18n, field_room_name)
                                name="name"
                                autocomplete="off"
                                result
                                check=FieldCheck::RoomName
                                maxlength=RoomName::MAX
                            />
                            <TextField
                                label=move || t_string!(i18n, field_room_description)
                                name="description"
                                autocomplete="off"
                                result
                                required=false
                                check=FieldCheck::RoomDescription
                                maxlength=RoomDescription::MAX
                            />
                            <VisibilityChoice result />
                            <FormAlert result />
                            <SubmitButton label=move || t_string!(i18n, room_new_submit) pending=action.pending() />
                        </ActionForm>
                    </section>
                }
                    .into_any()
            })}
        </Suspense>
    }
}

/// Public or private, as two radio buttons.
#[component]
pub fn VisibilityChoice(
    result: Outcome,
    #[prop(default = tchatche_core::room::Visibility::Public)] current: tchatche_core::room::Visibility,
) -> impl IntoView {
    let i18n = use_i18n();
    let chosen = move || {
        result
            .get()
            .and_then(|r| r.err())
            .and_then(|e| e.kept("visibility"))
            .unwrap_or_else(|| current.as_str().to_owned())
    };
    view! {
        <fieldset class="flex flex-col gap-2">
            <legend class="mb-1 text-sm font-medium">{t!(i18n, field_room_visibility)}</legend>
            <label class="flex items-start gap-2 text-sm">
                <input type="radio" name="visibility" value="public" checked=move || chosen() == "public" class="mt-1" />
                <span>
                    <strong>{t!(i18n, room_public)}</strong>
                    " — "
                    {t!(i18n, room_public_explained)}
                </span>
            </label>
            <label class="flex items-start gap-2 text-sm">
                <input type="radio" name="visibility" value="private" checked=move || chosen() == "private" class="mt-1" />
                <span>
                    <strong>{t!(i18n, room_private)}</strong>
                    " — "
                    {t!(i18n, room_private_explained)}
                </span>
            </label>
        </fieldset>
    }
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let viewer = use_viewer();
    let room = Resource::new(token, invite_room);
    let action = ServerAction::<AcceptInvite>::new();
    view! {
        <Title text=move || t_string!(i18n, invite_title) />
        <NoIndex />
        <Suspense>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Some(_)) => {}
                    Ok(None) => return view! { <SignInFirst error=None next=format!("/invite/{}", token()) /> }.into_any(),
                    Err(error) => return view! { <SignInFirst error=Some(error) next=format!("/invite/{}", token()) /> }.into_any(),
                }
                match room.await {
                    Ok(name) => {
                        view! {
                            <section class="mx-auto max-w-md rounded-2xl border border-slate-200 p-8 text-center dark:border-slate-800">
                                <h1 class="text-2xl font-bold">{t!(i18n, invite_title)}</h1>
                                <p class="mt-3 text-slate-600 dark:text-slate-400">{t!(i18n, invite_body)}</p>
                                <p class="mt-2 text-lg font-semibold" dir="auto">{name}</p>
                                <ActionForm action attr:class="mt-6">
                                    <input type="hidden" name="token" value=token() />
                                    <SubmitButton label=move || t_string!(i18n, invite_accept) pending=action.pending() />
                                </ActionForm>
                            </section>
                        }
                            .into_any()
                    }
                    Err(_) => view! { <crate::pages::NotFound /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
