//! Accounts: who is signed in, signing up, in and out.
//!
//! Every form posts to a server function, so it works without JavaScript;
//! once hydrated, fields are checked as they are typed and nothing reloads.

mod forms;
#[cfg(feature = "ssr")]
pub mod session;

pub use forms::{SignInPage, SignOutButton, SignUpPage, urlencode};
use leptos::{prelude::*, server_fn::codec::GetUrl};
use serde::{Deserialize, Serialize};
use tchatche_core::{ids::UserId, user::Role};

use crate::error::AppError;

/// The signed-in person, as pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Changes whenever the avatar does, so browsers may cache it for long.
    pub avatar_url: String,
    pub translate_mode: tchatche_core::languages::TranslateMode,
    /// Languages they read without translation (ISO 639-1).
    pub known_languages: Vec<String>,
    /// Keeps their messages off search engines.
    pub hidden_from_search: bool,
}

/// The avatar address of a person; `version` busts caches after a change.
pub fn avatar_url(username: &str, version: Option<&str>) -> String {
    match version {
        Some(version) => format!("/avatars/{username}?v={version}"),
        None => format!("/avatars/{username}"),
    }
}

/// Who is signed in (nobody: `None`).
#[server(endpoint = "viewer", input = GetUrl)]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    let user = session::current_user().await.map_err(crate::error::with_status)?;
    Ok(user.map(|user| Viewer {
        avatar_url: avatar_url(&user.username, user.avatar_version.as_deref()),
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        translate_mode: user.translate_mode,
        known_languages: tchatche_core::languages::parse_known(&user.known_languages).into_iter().map(str::to_owned).collect(),
        hidden_from_search: user.hidden_from_search,
    }))
}

type ViewerResource = Resource<Result<Option<Viewer>, AppError>>;

/// Every page can ask who is signed in, read once per render.
pub fn provide_viewer() {
    provide_context::<ViewerResource>(Resource::new(|| (), |_| current_viewer()));
}

pub fn use_viewer() -> ViewerResource {
    expect_context::<ViewerResource>()
}

/// What a page for signed-in people shows to anyone else: a visitor is
/// sent to sign in and back to `next`; when sessions cannot be read now
/// (the answer is then a 503), the reason, and nobody is signed out.
#[component]
pub fn SignInFirst(error: Option<AppError>, next: String) -> impl IntoView {
    use leptos_router::components::Redirect;
    match error {
        None => view! { <Redirect path=format!("/signin?next={}", urlencode(&next)) /> }.into_any(),
        Some(error) => view! {
            <p role="alert" class="mx-auto max-w-lg rounded-xl border border-red-300 p-4 text-red-800 dark:border-red-800 dark:text-red-300">
                {crate::error::error_text(&error)}
            </p>
        }
        .into_any(),
    }
}

/// Where to send someone after signing in: only a path on this site, never
/// another site (`//evil.example`, `/\evil.example`) nor a script.
pub fn safe_return_path(next: Option<&str>) -> String {
    let next = next.unwrap_or("/").trim();
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 1024;
    if local { next.to_owned() } else { "/".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    #[test]
    fn only_same_site_paths_are_return_targets() {
        assert_eq!(safe_return_path(Some("/r/general?before=12")), "/r/general?before=12");
        assert_eq!(safe_return_path(None), "/");
        for hostile in ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "/a\nb", ""] {
            assert_eq!(safe_return_path(Some(hostile)), "/", "{hostile:?}");
        }
    }
}
