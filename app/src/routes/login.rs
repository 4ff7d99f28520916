//! The login page at `/login` and the first-start page at `/setup`, which creates the
//! homeowner's account. Both work without JavaScript too: the forms post to their server
//! functions, which answer with a redirect.

use crate::error::AppError;
use crate::functions::account::{Login, Logout, Setup};
use hearth_core::account::MIN_PASSWORD_CHARS;
use leptos::form::ActionForm;
use leptos::prelude::*;
use server_fn::ServerFn;

/// `/login`: name and password.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    view! {
        <section class="panel auth">
            <h1>"Log in to Hearth"</h1>
            <ActionForm action=login attr:class="auth-form">
                <label>"Name" <input type="text" name="name" autocomplete="username" required /></label>
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required /></label>
                <button type="submit" disabled=move || login.pending().get()>"Log in"</button>
            </ActionForm>
            <Failure result=login.value() />
        </section>
    }
}

/// `/setup`: shown while no account exists, to create the homeowner's.
#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<Setup>::new();
    view! {
        <section class="panel auth">
            <h1>"Welcome to Hearth"</h1>
            <p class="intro">"Create the homeowner's account. Devices post with their own tokens; this account is for looking and changing settings."</p>
            <ActionForm action=setup attr:class="auth-form">
                <label>"Name" <input type="text" name="name" autocomplete="username" required maxlength="64" /></label>
                <label>"Password" <input type="password" name="password" autocomplete="new-password" required minlength=MIN_PASSWORD_CHARS /></label>
                <label>"Password again" <input type="password" name="confirm" autocomplete="new-password" required minlength=MIN_PASSWORD_CHARS /></label>
                <button type="submit" disabled=move || setup.pending().get()>"Create the account"</button>
            </ActionForm>
            <Failure result=setup.value() />
        </section>
    }
}

/// The error of the last attempt, if it failed.
#[component]
fn Failure(#[prop(into)] result: Signal<Option<Result<(), AppError>>>) -> impl IntoView {
    move || {
        result.get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    }
}

/// The URL of the logout server function, for a plain form that reloads the page.
pub fn logout_url() -> &'static str {
    Logout::PATH
}
