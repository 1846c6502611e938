//! Form fields with a real label, the right `autocomplete`, an error next to
//! the field (from the server, or checked as it is typed once hydrated) and
//! the value kept after a refused submission.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tchatche_core::{
    input::{InputError, check_len},
    room::{RoomDescription, RoomName},
    user::{DisplayName, NewPassword, Username},
};

use crate::error::{AppError, error_text, input_error_text};

/// What a field is checked against as the person types (once hydrated):
/// the same rules the server applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldCheck {
    Username,
    DisplayName,
    /// Length only: the common-password list stays on the server.
    NewPassword,
    RoomName,
    RoomDescription,
}

impl FieldCheck {
    fn run(self, value: &str) -> Result<(), InputError> {
        match self {
            Self::Username => Username::parse(value).map(|_| ()),
            Self::DisplayName => DisplayName::parse(value).map(|_| ()),
            Self::NewPassword => check_len(value, NewPassword::MIN, NewPassword::MAX),
            Self::RoomName => RoomName::parse(value).map(|_| ()),
            Self::RoomDescription => RoomDescription::parse(value).map(|_| ()),
        }
    }

    /// Every error [`Self::run`] can answer with, so the server can say
    /// each one in the reader's language ahead of time.
    fn possible_errors(self) -> [InputError; 4] {
        let (min, max) = match self {
            Self::Username => (Username::MIN, Username::MAX),
            Self::DisplayName => (DisplayName::MIN, DisplayName::MAX),
            Self::NewPassword => (NewPassword::MIN, NewPassword::MAX),
            Self::RoomName => (1, RoomName::MAX),
            Self::RoomDescription => (0, RoomDescription::MAX),
        };
        [InputError::Required, InputError::TooShort { min }, InputError::TooLong { max }, InputError::InvalidCharacters]
    }
}

/// A labelled field. The page renders it with the server's verdict on the
/// last submission (its error, the value kept); the input itself is an
/// island, so it is checked as it is typed on a page that is otherwise the
/// server's HTML.
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
    #[prop(optional)] check: Option<FieldCheck>,
    #[prop(optional)] minlength: Option<u32>,
    #[prop(optional)] maxlength: Option<u32>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(default = true)] required: bool,
) -> impl IntoView {
    let refusal = result.get_untracked().and_then(Result::err);
    let server_error = refusal.as_ref().and_then(|e| e.field(name));
    // The island carries no translations: the sentences it may show come
    // with it, already in the reader's language.
    let error_texts = server_error
        .into_iter()
        .chain(check.into_iter().flat_map(FieldCheck::possible_errors))
        .map(|error| (error, input_error_text(error)))
        .collect();
    let input = FieldInput {
        name: name.to_owned(),
        input_type: input_type.to_owned(),
        autocomplete: autocomplete.to_owned(),
        check,
        minlength,
        maxlength,
        required,
        value: refusal.as_ref().and_then(|e| e.kept(name)).or(value).unwrap_or_default(),
        server_error,
        error_texts,
    };
    view! {
        <div class="flex flex-col gap-1">
            <label for=format!("field-{name}") class="text-sm font-medium">
                {label}
            </label>
            <CheckedInput input />
        </div>
    }
}

/// Everything the input island needs, sent with the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldInput {
    name: String,
    input_type: String,
    autocomplete: String,
    check: Option<FieldCheck>,
    minlength: Option<u32>,
    maxlength: Option<u32>,
    required: bool,
    value: String,
    server_error: Option<InputError>,
    /// Each error the field may show, said in the reader's language.
    error_texts: Vec<(InputError, String)>,
}

/// Lazy: its code loads only on the pages that have a checked field.
#[island(lazy)]
fn CheckedInput(input: FieldInput) -> impl IntoView {
    let FieldInput { name, input_type, autocomplete, check, minlength, maxlength, required, value, server_error, error_texts } =
        input;
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let described_by = error_id.clone();
    // Until the person changes the field, the server's verdict stands.
    let typed_error = RwSignal::new(None::<InputError>);
    let error = move || typed_error.get().or(server_error);
    let on_change = move |ev: leptos::ev::Event| {
        if let Some(check) = check {
            typed_error.set(check.run(&event_target_value(&ev)).err());
        }
    };
    view! {
        <input
            id=id
            name=name
            type=input_type
            autocomplete=autocomplete
            required=required
            minlength=minlength
            maxlength=maxlength
            value=value
            aria-invalid=move || error().is_some().to_string()
            aria-describedby=move || error().map(|_| described_by.clone())
            on:change=on_change
            class="rounded-md border border-slate-300 bg-white px-3 py-2 text-base shadow-sm focus:border-indigo-500 focus:outline-2 focus:outline-indigo-500 aria-[invalid=true]:border-red-600 dark:border-slate-700 dark:bg-slate-900"
        />
        <p id=error_id class="min-h-5 text-sm text-red-700 dark:text-red-400" role="alert">
            {move || {
                error().map(|error| {
                    error_texts.iter().find(|(known, _)| *known == error).map(|(_, text)| text.clone()).unwrap_or_default()
                })
            }}
        </p>
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
                                {error_text(&error)}
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The island only has sentences for the errors the server expected:
    /// whatever a person types, the check answers one of those.
    #[test]
    fn every_error_a_check_gives_has_its_sentence() {
        let inputs = ["", " ", "a", "ab", "bad name!", "x\u{202e}y", "ok_name", "é", &"x".repeat(300), &"mot ".repeat(40)];
        for check in [FieldCheck::Username, FieldCheck::DisplayName, FieldCheck::NewPassword, FieldCheck::RoomName, FieldCheck::RoomDescription] {
            for input in inputs {
                if let Err(error) = check.run(input) {
                    assert!(check.possible_errors().contains(&error), "{check:?} on {input:?}: {error:?}");
                }
            }
        }
    }
}
