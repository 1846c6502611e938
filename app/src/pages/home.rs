//! The home page: the directory of public rooms.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use tchatche_core::{ids::UnixMillis, room::RoomSummary};

use crate::{
    error::{AppError, ErrorText},
    i18n::*,
};

/// Public rooms, most recently active first.
#[server(endpoint = "public_rooms")]
pub async fn public_rooms() -> Result<Vec<RoomSummary>, AppError> {
    let state = crate::state::app_state();
    Ok(state.store.public_rooms(50, 0).await?)
}

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let rooms = Resource::new_blocking(|| (), |()| public_rooms());
    view! {
        <Title text=move || t_string!(i18n, home_title) />
        <Meta name="description" content=move || t_string!(i18n, site_tagline) />
        <section aria-labelledby="directory-title">
            <div class="flex flex-wrap items-end justify-between gap-3">
                <div>
                    <h1 id="directory-title" class="text-3xl font-bold tracking-tight">{t!(i18n, home_title)}</h1>
                    <p class="mt-2 text-slate-600 dark:text-slate-400">{t!(i18n, home_intro)}</p>
                </div>
                <a href="/rooms/new" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500" data-testid="new-room">
                    {t!(i18n, home_new_room)}
                </a>
            </div>
            <Suspense>
                {move || Suspend::new(async move {
                    match rooms.await {
                        Ok(rooms) if rooms.is_empty() => view! { <EmptyDirectory /> }.into_any(),
                        Ok(rooms) => view! { <RoomList rooms /> }.into_any(),
                        Err(error) => {
                            view! {
                                <p role="alert" class="mt-8 rounded-md bg-red-50 p-4 text-red-800 dark:bg-red-950 dark:text-red-200">
                                    <ErrorText error />
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn EmptyDirectory() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div
            class="mt-8 rounded-xl border border-dashed border-slate-300 p-10 text-center dark:border-slate-700"
            data-testid="directory-empty"
        >
            <p class="text-lg font-semibold">{t!(i18n, directory_empty_title)}</p>
            <p class="mt-1 text-slate-600 dark:text-slate-400">{t!(i18n, directory_empty_body)}</p>
        </div>
    }
}

#[component]
fn RoomList(rooms: Vec<RoomSummary>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="mt-8 grid gap-3 sm:grid-cols-2" data-testid="directory">
            {rooms
                .into_iter()
                .map(|room| {
                    let href = format!("/r/{}#latest", room.slug);
                    let count = room.member_count;
                    view! {
                        <li class="rounded-xl border border-slate-200 p-4 hover:border-indigo-400 dark:border-slate-800">
                            <a href=href class="text-lg font-semibold hover:underline">
                                {room.name}
                            </a>
                            <p class="mt-1 line-clamp-2 text-sm text-slate-600 dark:text-slate-400">{room.description}</p>
                            <p class="mt-3 flex gap-3 text-xs text-slate-500 dark:text-slate-400">
                                <span>{t!(i18n, directory_members, count)}</span>
                                <span>
                                    {t!(i18n, directory_last_activity)} " "
                                    <LocalTime at=room.last_activity_at />
                                </span>
                            </p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// A UTC time the server renders as-is and the browser then shows in the
/// reader's own time zone and language (same markup on both sides first, so
/// hydration never mismatches).
#[component]
pub fn LocalTime(at: UnixMillis) -> impl IntoView {
    let iso = at.to_rfc3339();
    let text = RwSignal::new(iso.replace('T', " ")[..16].to_owned() + " UTC");
    #[cfg(feature = "hydrate")]
    {
        let i18n = use_i18n();
        Effect::new(move |_| {
            let locale = i18n.get_locale();
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.0 as f64));
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
            let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
            let formatted = date.to_locale_string(locale.as_str(), &options);
            text.set(formatted.as_string().unwrap_or_default());
        });
    }
    view! { <time datetime=iso>{text}</time> }
}
