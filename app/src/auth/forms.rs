//! Sign-up, sign-in and sign-out: the server functions and their pages.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tchatche_core::user::{DisplayName, NewPassword, Username};

use super::safe_return_path;
use crate::{
    components::{FieldCheck, FormAlert, SubmitButton, TextField},
    error::{AppError, Outcome},
    i18n::*,
    seo::NoIndex,
};

/// Creates an account and signs it in, then goes to `next`.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    username: String,
    display_name: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use tchatche_core::{limits::Scope, store::NewUser, user::Role};

    use crate::{error::InvalidForm, state::app_state};

    let state = app_state();
    let kept = |form: InvalidForm| form.keep("username", &username).keep("display_name", &display_name);
    let mut form = InvalidForm::new();
    let parsed_username = form.check("username", Username::parse(&username));
    let parsed_name = form.check("display_name", DisplayName::parse(&display_name));
    let parsed_password = form.check("password", NewPassword::parse(&password, &username));
    // Said now with the other errors; the insert below still catches a race.
    if let Some(name) = &parsed_username
        && state.store.user_by_username(name.as_str()).await?.is_some()
    {
        form.check::<()>("username", Err(tchatche_core::input::InputError::Taken));
    }
    let (Some(parsed_username), Some(parsed_name), Some(parsed_password)) = (parsed_username, parsed_name, parsed_password)
    else {
        return Err(with_status(AppError::Invalid(kept(form))));
    };

    let address = super::session::client_address().map(tchatche_core::limits::address_key).unwrap_or_default();
    if let Err(wait) = state.limiter.hit(Scope::SignUpAddress, &address).await? {
        return Err(with_status(AppError::RateLimited { retry_after_secs: wait.secs() }));
    }
    let password_hash = tchatche_core::password::hash(parsed_password.as_str()).await?;
    let new = NewUser {
        username: parsed_username.as_str().to_owned(),
        display_name: parsed_name.as_str().to_owned(),
        password_hash,
        role: Role::User,
    };
    let user = state
        .store
        .create_user(&new)
        .await
        .map_err(|err| with_status(AppError::from(err).keeping(&[("username", &username), ("display_name", &display_name)])))?;
    tracing::info!(user = %user.id, "account created");
    super::session::start(&user, false).await?;
    remember_device(&user, device_token()).await?;
    leptos_axum::redirect(&safe_return_path(next.as_deref()));
    Ok(())
}

/// Signs in, then goes to `next`. Throttled per client address and per
/// account; an unknown account and a wrong password look the same.
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    username: String,
    password: String,
    remember: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    use tchatche_core::{
        input::InputError,
        limits::Scope,
        password::{Verified, verify},
    };

    use crate::{error::InvalidForm, state::app_state};

    let state = app_state();
    let refuse = |error: InputError| {
        let mut form = InvalidForm::new().keep("username", &username);
        form.check::<()>("password", Err(error));
        with_status(AppError::Invalid(form))
    };
    let address = super::session::client_address().map(tchatche_core::limits::address_key).unwrap_or_default();
    if let Err(wait) = state.limiter.hit(Scope::SignInAddress, &address).await? {
        return Err(with_status(AppError::RateLimited { retry_after_secs: wait.secs() }));
    }
    // Attempts on one account are limited by name (existing or not, so the
    // limit says nothing about which accounts exist), except from a browser
    // the account signed in on before, which has its own allowance.
    let account_key = username.trim().to_ascii_lowercase();
    let stored = state.store.credentials(&account_key).await?;
    let device = device_token();
    let known_device = match (&stored, &device) {
        (Some((user, _)), Some(token)) => state.store.is_known_device(user.id, token).await?,
        _ => false,
    };
    let limit = if known_device {
        state.limiter.hit(Scope::SignInKnownDevice, &format!("{account_key}:{}", device.as_deref().unwrap_or(""))).await?
    } else {
        state.limiter.hit(Scope::SignInAccount, &account_key).await?
    };
    if let Err(wait) = limit {
        return Err(with_status(AppError::RateLimited { retry_after_secs: wait.secs() }));
    }

    let verified = verify(&password, stored.as_ref().map(|(_, hash)| hash.as_str())).await?;
    let (user, rehashed) = match (stored, verified) {
        (Some((user, _)), Verified::Match { rehashed }) => (user, rehashed),
        _ => return Err(refuse(InputError::BadCredentials)),
    };
    if user.disabled {
        return Err(refuse(InputError::AccountDisabled));
    }
    if let Some(hash) = rehashed {
        state.store.set_password_hash(user.id, &hash).await?;
    }
    super::session::start(&user, remember.is_some()).await?;
    remember_device(&user, device).await?;
    crate::settings::apply_account_preferences(&user);
    leptos_axum::redirect(&safe_return_path(next.as_deref()));
    Ok(())
}

#[cfg(feature = "ssr")]
fn device_token() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    crate::language::cookie_value(&parts.headers, super::session::device_cookie_name())
        .filter(|token| token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Marks this browser as one the account signs in on (a long-lived cookie).
#[cfg(feature = "ssr")]
async fn remember_device(user: &tchatche_core::store::User, token: Option<String>) -> Result<(), AppError> {
    let token = token.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    crate::state::app_state().store.remember_device(user.id, &token).await?;
    let secure = if crate::state::app_state().config.is_https() { "; Secure" } else { "" };
    let cookie = format!(
        "{}={token}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}",
        super::session::device_cookie_name()
    );
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(http::header::SET_COOKIE, http::HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?);
    Ok(())
}

/// Signs out: the session is deleted on the server and its cookie removed.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    super::session::end().await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[cfg(feature = "ssr")]
use crate::error::with_status;

/// Where to go after signing in or up: the page's `?next=`, if it is ours.
fn next_from_query() -> String {
    use_query_map().with_untracked(|query| safe_return_path(query.get("next").as_deref()))
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let i18n = use_i18n();
    let next = next_from_query();
    let sign_in = format!("/signin?next={}", urlencode(&next));
    view! {
        <Title text=t_string!(i18n, signup_title) />
        <NoIndex />
        <AuthCard title=move || t_string!(i18n, signup_title)>
            <SignUpForm next />
            <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                {t!(i18n, signup_have_account)} " "
                <a href=sign_in class="font-medium text-indigo-700 underline dark:text-indigo-300">
                    {t!(i18n, signin_title)}
                </a>
            </p>
        </AuthCard>
    }
}

/// A plain form (its fields are islands, checked as they are typed). The
/// server function's redirect takes the browser to `next` once signed up.
#[component]
fn SignUpForm(next: String) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<SignUp>::new();
    let result: Outcome = action.value().into();
    view! {
        <ActionForm action attr:class="flex flex-col gap-3" attr:novalidate="">
            <input type="hidden" name="next" value=next />
            <TextField
                label=move || t_string!(i18n, field_username)
                name="username"
                autocomplete="username"
                result
                check=FieldCheck::Username
                minlength=Username::MIN
                maxlength=Username::MAX
            />
            <p class="-mt-2 text-xs text-slate-500 dark:text-slate-400">{t!(i18n, hint_username)}</p>
            <TextField
                label=move || t_string!(i18n, field_display_name)
                name="display_name"
                autocomplete="nickname"
                result
                check=FieldCheck::DisplayName
                maxlength=DisplayName::MAX
            />
            <TextField
                label=move || t_string!(i18n, field_password)
                name="password"
                input_type="password"
                autocomplete="new-password"
                result
                check=FieldCheck::NewPassword
                minlength=NewPassword::MIN
                maxlength=NewPassword::MAX
            />
            <p class="-mt-2 text-xs text-slate-500 dark:text-slate-400">{t!(i18n, hint_password)}</p>
            <FormAlert result />
            <SubmitButton label=move || t_string!(i18n, signup_submit) pending=action.pending() />
        </ActionForm>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let i18n = use_i18n();
    let next = next_from_query();
    let sign_up = format!("/signup?next={}", urlencode(&next));
    view! {
        <Title text=t_string!(i18n, signin_title) />
        <NoIndex />
        <AuthCard title=move || t_string!(i18n, signin_title)>
            <SignInForm next />
            <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                {t!(i18n, signin_no_account)} " "
                <a href=sign_up class="font-medium text-indigo-700 underline dark:text-indigo-300">
                    {t!(i18n, signup_title)}
                </a>
            </p>
        </AuthCard>
    }
}

/// A plain form, like the sign-up form.
#[component]
fn SignInForm(next: String) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<SignIn>::new();
    let result: Outcome = action.value().into();
    view! {
        <ActionForm action attr:class="flex flex-col gap-3" attr:novalidate="">
            <input type="hidden" name="next" value=next />
            <TextField
                label=move || t_string!(i18n, field_username)
                name="username"
                autocomplete="username"
                result
                maxlength=Username::MAX
            />
            <TextField
                label=move || t_string!(i18n, field_password)
                name="password"
                input_type="password"
                autocomplete="current-password"
                result
                maxlength=NewPassword::MAX
            />
            <label class="flex items-center gap-2 text-sm">
                <input type="checkbox" name="remember" value="on" class="h-4 w-4 rounded border-slate-300" />
                {t!(i18n, field_remember)}
            </label>
            <FormAlert result />
            <SubmitButton label=move || t_string!(i18n, signin_submit) pending=action.pending() />
        </ActionForm>
    }
}

/// The sign-out button of the header: a POST form (never a link: a GET must
/// not change anything). The server function redirects home.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form method="post" action=SignOut::PATH>
            <button
                type="submit"
                data-testid="sign-out"
                class="rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800"
            >
                {t!(i18n, signout_submit)}
            </button>
        </form>
    }
}

#[component]
fn AuthCard<T: Fn() -> &'static str + Send + Sync + 'static>(title: T, children: Children) -> impl IntoView {
    view! {
        <section class="mx-auto w-full max-w-md rounded-2xl border border-slate-200 p-6 shadow-sm sm:p-8 dark:border-slate-800">
            <h1 class="mb-6 text-2xl font-bold tracking-tight">{title}</h1>
            {children()}
        </section>
    }
}

/// Percent-encodes a path for a `next=` query parameter.
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
