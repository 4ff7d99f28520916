//! The owner's panel of where alerts are sent besides the live stream: email through an SMTP
//! server and ntfy, each with a form to save it, a button to turn it off and one to send a
//! test. Saved passwords and tokens are never shown: an empty field keeps them.

use crate::functions::alerts::{RemoveAlertChannel, SaveAlertEmail, SaveAlertNtfy, TestAlertChannel};
use hearth_core::alert::channel::{ChannelsShown, EmailShown, Security};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// The channels panel; `saved` tells the page to reload after a change.
#[component]
pub fn ChannelsPanel(channels: ChannelsShown, saved: ServerAction<SaveAlertEmail>, saved_ntfy: ServerAction<SaveAlertNtfy>, removed: ServerAction<RemoveAlertChannel>) -> impl IntoView {
    let test = ServerAction::<TestAlertChannel>::new();
    let outcome = |result: Option<Result<String, crate::error::AppError>>| match result {
        Some(Ok(said)) => Some(view! { <p class="ok" role="status">{said}</p> }.into_any()),
        Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()),
        None => None,
    };
    let error = |result: Option<Result<(), crate::error::AppError>>| result.and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> });
    let email = channels.email.clone().unwrap_or_else(|| EmailShown { port: 587, ..EmailShown::default() });
    let ntfy = channels.ntfy.clone().unwrap_or_default();
    let (email_set, ntfy_set) = (channels.email.is_some(), channels.ntfy.is_some());
    view! {
        <section class="panel alert-channels" data-testid="alert-channels">
            <h2>"Send alerts to"</h2>
            <p class="muted hint">"Every alert that opens or resolves is sent to each channel set here, in order, retried for about half a minute when it fails."</p>
            <h3>"Email" {state(email_set)}</h3>
            <ActionForm action=saved attr:class="rule-form channel-form" attr:data-channel="email">
                <label class="wide"><span>"SMTP server"</span><input type="text" name="email[host]" aria-label="SMTP server" value=email.host.clone() prop:value=email.host.clone() placeholder="smtp.example.org" /></label>
                <label><span>"Security"</span>
                    <select name="email[security]" aria-label="Security">
                        <option value="starttls" selected={email.security == Security::StartTls}>"STARTTLS"</option>
                        <option value="tls" selected={email.security == Security::Tls}>"TLS"</option>
                    </select>
                </label>
                <label><span>"Port"</span><input type="text" inputmode="numeric" name="email[port]" aria-label="Port" value=email.port.to_string() prop:value=email.port.to_string() /></label>
                <label><span>"User"</span><input type="text" name="email[user]" aria-label="User" value=email.user.clone() prop:value=email.user.clone() autocomplete="off" /></label>
                <PasswordField name="email[password]" label="Password" saved=email.password_saved cleared=Signal::derive(move || saved.version().get()) />
                <label class="wide"><span>"From"</span><input type="text" name="email[from]" aria-label="From" value=email.from.clone() prop:value=email.from.clone() placeholder="hearth@example.org" /></label>
                <label class="wide"><span>"To"</span><input type="text" name="email[to]" aria-label="To" value=email.to.clone() prop:value=email.to.clone() placeholder="me@example.org, you@example.org" /></label>
                <button type="submit" class="primary">"Save email"</button>
            </ActionForm>
            {move || error(saved.value().get())}
            <ChannelButtons channel="email" set=email_set test removed />
            <h3>"ntfy" {state(ntfy_set)}</h3>
            <ActionForm action=saved_ntfy attr:class="rule-form channel-form" attr:data-channel="ntfy">
                <label class="wide"><span>"Topic URL"</span><input type="text" name="ntfy[url]" aria-label="Topic URL" value=ntfy.url.clone() prop:value=ntfy.url.clone() placeholder="https://ntfy.sh/my-house-alerts" /></label>
                <PasswordField name="ntfy[token]" label="Access token" saved=ntfy.token_saved cleared=Signal::derive(move || saved_ntfy.version().get()) />
                <button type="submit" class="primary">"Save ntfy"</button>
            </ActionForm>
            {move || error(saved_ntfy.value().get())}
            <ChannelButtons channel="ntfy" set=ntfy_set test removed />
            {move || error(removed.value().get())}
            {move || outcome(test.value().get())}
        </section>
    }
}

fn state(set: bool) -> impl IntoView {
    view! { <span class="muted channel-state">{if set { " · on" } else { " · off" }}</span> }
}

/// A password or token field: empty keeps the saved one, which is never shown. It is emptied
/// whenever `cleared` changes (each save), since the page keeps its elements when it reloads
/// the settings.
#[component]
fn PasswordField(name: &'static str, label: &'static str, saved: bool, cleared: Signal<usize>) -> impl IntoView {
    let placeholder = if saved { "saved (empty: keep)" } else { "" };
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        cleared.track();
        if let Some(input) = input.get_untracked() {
            input.set_value("");
        }
    });
    view! {
        <label><span>{label}</span><input node_ref=input type="password" name=name aria-label=label placeholder=placeholder autocomplete="new-password" /></label>
    }
}

/// "Send a test" and "Turn off" for a channel that is set.
#[component]
fn ChannelButtons(channel: &'static str, set: bool, test: ServerAction<TestAlertChannel>, removed: ServerAction<RemoveAlertChannel>) -> impl IntoView {
    set.then(|| {
        view! {
            <div class="channel-buttons">
                <ActionForm action=test>
                    <input type="hidden" name="channel" value=channel />
                    <button type="submit" class="quiet" aria-label=format!("Send a test by {channel}")>"Send a test"</button>
                </ActionForm>
                <ActionForm action=removed>
                    <input type="hidden" name="channel" value=channel />
                    <button type="submit" class="quiet" aria-label=format!("Turn {channel} off")>"Turn off"</button>
                </ActionForm>
            </div>
        }
    })
}
