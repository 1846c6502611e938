//! `/u/{username}`: who someone is (what @mentions link to).

use leptos::{prelude::*, server_fn::codec::GetUrl};
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};
use tchatche_core::ids::UnixMillis;

use crate::{direct::{BlockButton, MessageButton, StartConversation}, error::AppError, i18n::*, pages::{LocalTime, NotFound}, seo::NoIndex};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub username: String,
    pub display_name: String,
    pub avatar_url: String,
    /// Shown to people signed in only: visitors see a name and a picture.
    pub member_since: Option<UnixMillis>,
    /// Whether the signed-in viewer blocked this person; `None` for
    /// visitors and on one's own profile (nothing to offer there).
    pub blocked: Option<bool>,
}

#[server(endpoint = "profile", input = GetUrl)]
pub async fn load_profile(username: String) -> Result<Profile, AppError> {
    let viewer = crate::auth::session::current_user().await?;
    let store = &crate::state::app_state().store;
    let user = store.user_by_username(&username).await?.ok_or_else(|| crate::error::with_status(AppError::NotFound))?;
    let signed_in = viewer.is_some();
    let blocked = match viewer {
        Some(viewer) if viewer.id != user.id => Some(store.has_blocked(viewer.id, user.id).await?),
        _ => None,
    };
    Ok(Profile {
        blocked,
        avatar_url: crate::auth::avatar_url(&user.username, user.avatar_version.as_deref()),
        username: user.username,
        display_name: user.display_name,
        member_since: signed_in.then_some(user.created_at),
    })
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let profile = Resource::new(move || params.read().get("username").unwrap_or_default(), load_profile);
    // A refused "Send a message" (no room in common, a block) lands back here
    // with the server's reason.
    let refused = ServerAction::<StartConversation>::new().value().get_untracked().and_then(Result::err);
    let refusal = refused.and_then(|error| error.field("with")).map(crate::error::input_error_text);
    view! {
        <Suspense>
            {move || {
                let refusal = refusal.clone();
                Suspend::new(async move {
                match profile.await {
                    Ok(profile) => view! {
                        <Title text=profile.display_name.clone() />
                        <NoIndex />
                        <section class="mx-auto flex max-w-md flex-col items-center gap-3 py-10 text-center">
                            <img src=profile.avatar_url alt="" width="96" height="96" class="h-24 w-24 rounded-full bg-slate-200" />
                            <h1 class="text-2xl font-bold" dir="auto">{profile.display_name}</h1>
                            <p class="text-slate-600 dark:text-slate-400">"@" {profile.username.clone()}</p>
                            {profile.member_since.map(|at| view! {
                                <p class="text-sm text-slate-500">{t!(i18n, profile_member_since)} " " <LocalTime at /></p>
                            })}
                            {profile.blocked.map(|blocked| view! {
                                {blocked.then(|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">{t!(i18n, profile_blocked)}</p> })}
                                {refusal.map(|text| view! {
                                    <p role="alert" class="text-sm text-red-700 dark:text-red-400" data-testid="message-refused">{text}</p>
                                })}
                                <div class="mt-2 flex gap-2">
                                    {(!blocked).then(|| view! { <MessageButton username=profile.username.clone() /> })}
                                    <BlockButton username=profile.username.clone() blocked />
                                </div>
                            })}
                        </section>
                    }.into_any(),
                    Err(_) => view! { <NotFound /> }.into_any(),
                }
                })
            }}
        </Suspense>
    }
}
