//! The settings page: display name, avatar, password, language and theme,
//! and deleting the account.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tchatche_core::{
    languages::TranslateMode,
    user::{DisplayName, NewPassword},
};

use crate::{
    auth::{SignInFirst, Viewer, use_viewer},
    components::{FieldCheck, FormAlert, SubmitButton, TextField},
    error::{AppError, Outcome},
    i18n::*,
    theme::Theme,
    seo::NoIndex,
};

#[cfg(feature = "ssr")]
use crate::{auth::session, error::with_status, state::app_state};

/// Writes the account's language and theme into this browser's cookies, so
/// the server renders them from the next request on.
#[cfg(feature = "ssr")]
pub fn apply_account_preferences(user: &tchatche_core::store::User) {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return };
    let mut cookies = Vec::new();
    if let Some(locale) = user.locale.as_deref().and_then(|l| l.parse::<Locale>().ok()) {
        cookies.push(crate::language::locale_cookie(locale));
    }
    if let Some(theme) = user.theme.as_deref().and_then(Theme::parse) {
        cookies.push(theme.cookie());
    }
    for cookie in cookies {
        if let Ok(value) = http::HeaderValue::from_str(&cookie) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }
}

#[server(endpoint = "update_display_name")]
pub async fn update_display_name(display_name: String) -> Result<(), AppError> {
    let user = session::require_user().await.map_err(with_status)?;
    let name = DisplayName::parse(&display_name)
        .map_err(|error| with_status(AppError::invalid("display_name", error).keeping(&[("display_name", &display_name)])))?;
    app_state().store.set_display_name(user.id, name.as_str()).await?;
    Ok(())
}

/// Changes the password after checking the current one; every other session
/// of the account ends, this one stays.
#[server(endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    use tchatche_core::{
        input::InputError,
        limits::Scope,
        password::{Verified, hash, verify},
    };
    let user = session::require_user().await.map_err(with_status)?;
    let state = app_state();
    let new = NewPassword::parse(&new_password, &user.username)
        .map_err(|error| with_status(AppError::invalid("new_password", error)))?;
    crate::state::throttle(Scope::PasswordCheck, &user.id.to_string()).await?;
    let stored = state.store.credentials(&user.username).await?.map(|(_, hash)| hash);
    if !matches!(verify(&current_password, stored.as_deref()).await?, Verified::Match { .. }) {
        return Err(with_status(AppError::invalid("current_password", InputError::WrongPassword)));
    }
    let key = state.store.change_password(user.id, &hash(new.as_str()).await?).await?;
    session::keep_only_this_one(user.id, key).await?;
    tracing::info!(user = %user.id, "password changed; other sessions ended");
    Ok(())
}

/// Stores the language and theme on the account and in this browser.
#[server(endpoint = "save_preferences")]
pub async fn save_preferences(locale: String, theme: String) -> Result<(), AppError> {
    use tchatche_core::input::InputError;
    let user = session::require_user().await.map_err(with_status)?;
    let locale: Locale = locale.parse().map_err(|()| with_status(AppError::invalid("locale", InputError::Malformed)))?;
    let theme = Theme::parse(&theme).ok_or_else(|| with_status(AppError::invalid("theme", InputError::Malformed)))?;
    app_state().store.set_preferences(user.id, Some(locale.as_str()), Some(theme.as_str())).await?;
    let mut updated = user;
    updated.locale = Some(locale.as_str().to_owned());
    updated.theme = Some(theme.as_str().to_owned());
    apply_account_preferences(&updated);
    Ok(())
}

/// How messages in other languages are shown: always translated into the
/// interface language, on request, or never; and the languages read
/// without translation (checkboxes: `known` comes once per ticked box).
#[server(endpoint = "save_translation")]
pub async fn save_translation(mode: String, #[server(default)] known: Vec<String>) -> Result<(), AppError> {
    use tchatche_core::{
        input::InputError,
        languages::{SUPPORTED, TranslateMode, parse_known},
    };
    let user = session::require_user().await.map_err(with_status)?;
    let mode = TranslateMode::parse(&mode).ok_or_else(|| with_status(AppError::invalid("mode", InputError::Malformed)))?;
    if known.len() > SUPPORTED.len() || known.iter().any(|code| !SUPPORTED.contains(&code.as_str())) {
        return Err(with_status(AppError::invalid("known", InputError::Malformed)));
    }
    let known = parse_known(&known.join(" "));
    // Translations go into the interface language the person uses now.
    let locale = crate::language::request_locale();
    app_state().store.set_translation_preferences(user.id, locale.as_str(), mode, &known).await?;
    Ok(())
}

/// Keeps the person's messages off search engines (a ticked checkbox), or
/// lets them back: on the pages of rooms search engines may index,
/// signed-out readers and crawlers then get their messages without their
/// words, old ones included, and anonymous search does not find them.
#[server(endpoint = "save_search_visibility")]
pub async fn save_search_visibility(hidden: Option<String>) -> Result<(), AppError> {
    let user = session::require_user().await.map_err(with_status)?;
    let hidden = crate::error::checkbox("hidden", hidden)?;
    app_state().store.set_hidden_from_search(user.id, hidden).await?;
    Ok(())
}

/// Deletes the account after checking its password. Its messages stay in
/// their rooms, shown as from a deleted account; its avatar, memberships and
/// sessions go.
#[server(endpoint = "delete_account")]
pub async fn delete_account(password: String) -> Result<(), AppError> {
    use tchatche_core::{
        input::InputError,
        password::{Verified, verify},
    };
    let user = session::require_user().await.map_err(with_status)?;
    crate::state::throttle(tchatche_core::limits::Scope::PasswordCheck, &user.id.to_string()).await?;
    let state = app_state();
    let stored = state.store.credentials(&user.username).await?.map(|(_, hash)| hash);
    if !matches!(verify(&password, stored.as_deref()).await?, Verified::Match { .. }) {
        return Err(with_status(AppError::invalid("password", InputError::WrongPassword)));
    }
    state.store.delete_user(user.id).await?;
    session::end_all(user.id).await?;
    tracing::info!(user = %user.id, "account deleted");
    leptos_axum::redirect("/");
    Ok(())
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let viewer = use_viewer();
    // Created here, outside the Suspense (as the room page's resources).
    let blocked = Resource::new(|| (), |_| crate::direct::blocked_people());
    view! {
        <Title text=move || t_string!(i18n, settings_title) />
        <NoIndex />
        <Suspense>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Some(viewer)) => {
                        let blocked = blocked.await.unwrap_or_default();
                        view! { <SettingsSections viewer blocked /> }.into_any()
                    }
                    Ok(None) => view! { <SignInFirst error=None next="/settings".to_owned() /> }.into_any(),
                    Err(error) => view! { <SignInFirst error=Some(error) next="/settings".to_owned() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Whether an administrator configured a translation engine.
fn translation_configured() -> bool {
    #[cfg(feature = "ssr")]
    {
        app_state().config.translation.is_some()
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

#[component]
fn Section<T: Fn() -> &'static str + Send + Sync + 'static>(title: T, id: &'static str, children: Children) -> impl IntoView {
    view! {
        <section aria-labelledby=id class="rounded-2xl border border-slate-200 p-6 dark:border-slate-800">
            <h2 id=id class="mb-4 text-lg font-semibold">
                {title}
            </h2>
            {children()}
        </section>
    }
}

#[component]
fn Saved(#[prop(into)] result: Signal<Option<Result<(), AppError>>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p role="status" class="text-sm text-emerald-700 dark:text-emerald-400">
            {move || matches!(result.get(), Some(Ok(()))).then(|| t!(i18n, settings_saved))}
        </p>
    }
}

#[component]
fn SettingsSections(
    viewer: Viewer,
    /// The people the viewer blocked: (username, display name).
    blocked: Vec<(String, String)>,
) -> impl IntoView {
    let i18n = use_i18n();
    let name_action = ServerAction::<UpdateDisplayName>::new();
    let password_action = ServerAction::<ChangePassword>::new();
    let preferences_action = ServerAction::<SavePreferences>::new();
    let translation_action = ServerAction::<SaveTranslation>::new();
    let translation_result: Outcome = translation_action.value().into();
    let delete_action = ServerAction::<DeleteAccount>::new();
    let search_action = ServerAction::<SaveSearchVisibility>::new();
    let search_result: Outcome = search_action.value().into();
    let name_result: Outcome = name_action.value().into();
    let password_result: Outcome = password_action.value().into();
    let preferences_result: Outcome = preferences_action.value().into();
    let delete_result: Outcome = delete_action.value().into();
    let query = use_query_map();
    let avatar_status = move || query.read().get("avatar");
    let current_theme = Theme::current();
    let current_locale = i18n.get_locale_untracked();

    view! {
        <div class="mx-auto flex max-w-2xl flex-col gap-6">
            <h1 class="text-3xl font-bold tracking-tight">{t!(i18n, settings_title)}</h1>
            <p class="text-slate-600 dark:text-slate-400">
                {t!(i18n, settings_signed_in_as)} " " <strong>{viewer.username.clone()}</strong>
            </p>

            <Section title=move || t_string!(i18n, settings_profile) id="settings-profile">
                <ActionForm action=name_action attr:class="flex flex-col gap-3" attr:novalidate="">
                    <TextField
                        label=move || t_string!(i18n, field_display_name)
                        name="display_name"
                        autocomplete="nickname"
                        result=name_result
                        value=viewer.display_name.clone()
                        check=FieldCheck::DisplayName
                        maxlength=DisplayName::MAX
                    />
                    <FormAlert result=name_result />
                    <div class="flex items-center gap-3">
                        <SubmitButton label=move || t_string!(i18n, settings_save) pending=name_action.pending() />
                        <Saved result=name_result />
                    </div>
                </ActionForm>
            </Section>

            <Section title=move || t_string!(i18n, settings_avatar) id="settings-avatar">
                <form method="post" action="/settings/avatar" enctype="multipart/form-data" class="flex flex-col gap-3">
                    <div class="flex items-center gap-4">
                        <img
                            src=viewer.avatar_url.clone()
                            alt=""
                            width="64"
                            height="64"
                            class="h-16 w-16 rounded-full bg-slate-200"
                            data-testid="settings-avatar"
                        />
                        <div class="flex flex-col gap-1">
                            <label for="field-avatar" class="text-sm font-medium">{t!(i18n, field_avatar)}</label>
                            <input
                                id="field-avatar"
                                name="avatar"
                                type="file"
                                required
                                accept="image/png,image/jpeg,image/webp,image/gif"
                                class="text-sm"
                            />
                            <p class="text-xs text-slate-500 dark:text-slate-400">{t!(i18n, hint_avatar)}</p>
                        </div>
                    </div>
                    <p role="status" class="text-sm" data-testid="avatar-status">
                        {move || avatar_status().map(|status| view! { <AvatarStatus status /> })}
                    </p>
                    <div>
                        <SubmitButton label=move || t_string!(i18n, settings_upload) pending=Signal::derive(|| false) />
                    </div>
                </form>
            </Section>

            <Section title=move || t_string!(i18n, settings_password) id="settings-password">
                <ActionForm action=password_action attr:class="flex flex-col gap-3" attr:novalidate="">
                    <input type="hidden" name="username" autocomplete="username" value=viewer.username.clone() />
                    <TextField
                        label=move || t_string!(i18n, field_current_password)
                        name="current_password"
                        input_type="password"
                        autocomplete="current-password"
                        result=password_result
                        maxlength=NewPassword::MAX
                    />
                    <TextField
                        label=move || t_string!(i18n, field_new_password)
                        name="new_password"
                        input_type="password"
                        autocomplete="new-password"
                        result=password_result
                        check=FieldCheck::NewPassword
                        minlength=NewPassword::MIN
                        maxlength=NewPassword::MAX
                    />
                    <p class="-mt-2 text-xs text-slate-500 dark:text-slate-400">{t!(i18n, hint_password_change)}</p>
                    <FormAlert result=password_result />
                    <div class="flex items-center gap-3">
                        <SubmitButton label=move || t_string!(i18n, settings_change_password) pending=password_action.pending() />
                        <Saved result=password_result />
                    </div>
                </ActionForm>
            </Section>

            <Section title=move || t_string!(i18n, settings_preferences) id="settings-preferences">
                <ActionForm action=preferences_action attr:class="flex flex-col gap-3">
                    <label for="field-locale" class="text-sm font-medium">{t!(i18n, language_label)}</label>
                    <select id="field-locale" name="locale" class="rounded-md border border-slate-300 bg-white px-3 py-2 dark:border-slate-700 dark:bg-slate-900">
                        {Locale::get_all()
                            .iter()
                            .map(|locale| {
                                view! {
                                    <option value=locale.as_str() selected=*locale == current_locale>
                                        {td_string!(*locale, language_name)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <label for="field-theme" class="text-sm font-medium">{t!(i18n, theme_label)}</label>
                    <select id="field-theme" name="theme" class="rounded-md border border-slate-300 bg-white px-3 py-2 dark:border-slate-700 dark:bg-slate-900">
                        <option value="system" selected=current_theme == Theme::System>{t!(i18n, theme_system)}</option>
                        <option value="light" selected=current_theme == Theme::Light>{t!(i18n, theme_light)}</option>
                        <option value="dark" selected=current_theme == Theme::Dark>{t!(i18n, theme_dark)}</option>
                    </select>
                    <FormAlert result=preferences_result />
                    <div class="flex items-center gap-3">
                        <SubmitButton label=move || t_string!(i18n, settings_save) pending=preferences_action.pending() />
                        <Saved result=preferences_result />
                    </div>
                </ActionForm>
            </Section>

            <Section title=move || t_string!(i18n, settings_translation) id="settings-translation">
                {(!translation_configured()).then(|| view! {
                    <p class="mb-3 text-sm text-slate-600 dark:text-slate-400" data-testid="translation-off">{t!(i18n, translation_not_configured)}</p>
                })}
                <ActionForm action=translation_action attr:class="flex flex-col gap-3">
                    <fieldset class="flex flex-col gap-1">
                        <legend class="mb-1 text-sm font-medium">{t!(i18n, translation_mode_label)}</legend>
                        {[
                            (TranslateMode::Always, t_string!(i18n, translation_mode_always)),
                            (TranslateMode::Ask, t_string!(i18n, translation_mode_ask)),
                            (TranslateMode::Never, t_string!(i18n, translation_mode_never)),
                        ]
                            .into_iter()
                            .map(|(mode, label)| view! {
                                <label class="flex items-center gap-2 text-sm">
                                    <input type="radio" name="mode" value=mode.as_str() checked=viewer.translate_mode == mode data-testid=format!("translate-{}", mode.as_str()) />
                                    {label}
                                </label>
                            })
                            .collect_view()}
                    </fieldset>
                    <fieldset class="flex flex-col gap-1">
                        <legend class="mb-1 text-sm font-medium">{t!(i18n, translation_known_label)}</legend>
                        <div class="grid grid-cols-2 gap-1 sm:grid-cols-4">
                            {tchatche_core::languages::SUPPORTED
                                .iter()
                                .map(|code| view! {
                                    <label class="flex items-center gap-2 text-sm" lang=*code>
                                        <input type="checkbox" name="known[]" value=*code checked=viewer.known_languages.iter().any(|k| k == code) />
                                        {crate::rooms::autonym(code)}
                                    </label>
                                })
                                .collect_view()}
                        </div>
                    </fieldset>
                    <FormAlert result=translation_result />
                    <div class="flex items-center gap-3">
                        <SubmitButton label=move || t_string!(i18n, settings_save) pending=translation_action.pending() />
                        <Saved result=translation_result />
                    </div>
                </ActionForm>
            </Section>

            <Section title=move || t_string!(i18n, settings_search_engines) id="settings-search-engines">
                <ActionForm action=search_action attr:class="flex flex-col gap-3">
                    <label class="flex items-start gap-2 text-sm">
                        <input type="checkbox" name="hidden" checked=viewer.hidden_from_search class="mt-1" data-testid="hidden-from-search" />
                        <span>
                            <strong>{t!(i18n, settings_hidden_from_search)}</strong>
                            " — "
                            {t!(i18n, settings_hidden_from_search_explained)}
                        </span>
                    </label>
                    <FormAlert result=search_result />
                    <div class="flex items-center gap-3">
                        <SubmitButton label=move || t_string!(i18n, settings_save) pending=search_action.pending() />
                        <Saved result=search_result />
                    </div>
                </ActionForm>
            </Section>

            <Section title=move || t_string!(i18n, settings_blocked) id="settings-blocked">
                <crate::direct::BlockedPeople people=blocked />
            </Section>

            <Section title=move || t_string!(i18n, settings_delete) id="settings-delete">
                <p class="mb-3 text-sm text-slate-600 dark:text-slate-400">{t!(i18n, settings_delete_explained)}</p>
                <ActionForm action=delete_action attr:class="flex flex-col gap-3" attr:novalidate="">
                    <TextField
                        label=move || t_string!(i18n, field_confirm_password)
                        name="password"
                        input_type="password"
                        autocomplete="current-password"
                        result=delete_result
                        maxlength=NewPassword::MAX
                    />
                    <FormAlert result=delete_result />
                    <div>
                        <button
                            type="submit"
                            class="rounded-md bg-red-700 px-4 py-2 text-sm font-semibold text-white hover:bg-red-600"
                        >
                            {t!(i18n, settings_delete_submit)}
                        </button>
                    </div>
                </ActionForm>
            </Section>
        </div>
    }
}

/// The outcome of an avatar upload, passed back in the query string.
#[component]
fn AvatarStatus(status: String) -> impl IntoView {
    let i18n = use_i18n();
    match status.as_str() {
        "saved" => view! { <span class="text-emerald-700 dark:text-emerald-400">{t!(i18n, avatar_saved)}</span> }.into_any(),
        "too_large" => view! { <span class="text-red-700 dark:text-red-400">{t!(i18n, avatar_too_large)}</span> }.into_any(),
        "too_many_pixels" => {
            view! { <span class="text-red-700 dark:text-red-400">{t!(i18n, avatar_too_many_pixels)}</span> }.into_any()
        }
        "not_image" => view! { <span class="text-red-700 dark:text-red-400">{t!(i18n, avatar_not_image)}</span> }.into_any(),
        "too_fast" => view! { <span class="text-red-700 dark:text-red-400">{t!(i18n, avatar_too_fast)}</span> }.into_any(),
        _ => view! { <span class="text-red-700 dark:text-red-400">{t!(i18n, error_internal)}</span> }.into_any(),
    }
}
