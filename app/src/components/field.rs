//! Form fields with a real label, the right `autocomplete`, an error next to
//! the field (from the server, or checked as it is typed once hydrated) and
//! the value kept after a refused submission.

use leptos::prelude::*;
use tchatche_core::input::InputError;

use crate::error::{AppError, ErrorText, InputErrorText};

/// A checker run as the person types (once hydrated).
pub type Check = fn(&str) -> Result<(), InputError>;

#[component]
pub fn TextField<L: IntoView + 'static>(
    /// The visible label.
    label: L,
    /// The form field name (the server function argument).
    name: &'static str,
    #[prop(default = "text")] input_type: &'static str,
    autocomplete: &'static str,
    /// The last result of the form's action (for its errors and kept values).
    #[prop(into)]
    result: Signal<Option<Result<(), AppError>>>,
    #[prop(optional)] check: Option<Check>,
    #[prop(optional)] minlength: Option<u32>,
    #[prop(optional)] maxlength: Option<u32>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(default = true)] required: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let server_error = move || result.get().and_then(|r| r.err()).and_then(|e| e.field(name));
    let typed_error = RwSignal::new(None::<InputError>);
    // Once the server has answered, its verdict on the field replaces ours.
    Effect::new(move |_| {
        result.track();
        typed_error.set(None);
    });
    let error = move || typed_error.get().or_else(server_error);
    let kept = move || {
        result.get().and_then(|r| r.err()).and_then(|e| e.kept(name)).or_else(|| value.clone()).unwrap_or_default()
    };
    let on_change = move |ev: leptos::ev::Event| {
        if let Some(check) = check {
            typed_error.set(check(&event_target_value(&ev)).err());
        }
    };
    view! {
        <div class="flex flex-col gap-1">
            <label for=id.clone() class="text-sm font-medium">
                {label}
            </label>
            <input
                id=id
                name=name
                type=input_type
                autocomplete=autocomplete
                required=required
                minlength=minlength
                maxlength=maxlength
                value=kept
                aria-invalid=move || error().is_some().to_string()
                aria-describedby=move || error().map(|_| error_id.clone())
                on:change=on_change
                class="rounded-md border border-slate-300 bg-white px-3 py-2 text-base shadow-sm focus:border-indigo-500 focus:outline-2 focus:outline-indigo-500 aria-[invalid=true]:border-red-600 dark:border-slate-700 dark:bg-slate-900"
            />
            <p id=format!("field-{name}-error") class="min-h-5 text-sm text-red-700 dark:text-red-400" role="alert">
                {move || error().map(|error| view! { <InputErrorText error /> })}
            </p>
        </div>
    }
}

/// The form-wide error (rate limits, server trouble), if any.
#[component]
pub fn FormAlert(#[prop(into)] result: Signal<Option<Result<(), AppError>>>) -> impl IntoView {
    let error = move || match result.get() {
        Some(Err(error)) if !matches!(error, AppError::Invalid(_)) => Some(error),
        _ => None,
    };
    view! {
        <div role="alert" aria-live="polite">
            {move || {
                error()
                    .map(|error| {
                        view! {
                            <p class="rounded-md bg-red-50 p-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
                                <ErrorText error />
                            </p>
                        }
                    })
            }}
        </div>
    }
}

#[component]
pub fn SubmitButton<L: IntoView + 'static>(label: L, #[prop(into)] pending: Signal<bool>) -> impl IntoView {
    view! {
        <button
            type="submit"
            aria-disabled=move || pending.get().to_string()
            class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 aria-disabled:opacity-60"
        >
            {label}
        </button>
    }
}
