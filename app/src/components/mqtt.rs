//! The MQTT panel for the Devices page: the broker connection, each device's topic prefix and
//! online state (editable), the prefixes heard on the broker that no device claims yet (each
//! can be added as a device, its token shown once), and inputs skipped for want of a kind.
//! It refreshes itself every few seconds, except while a field in it is being edited.

use crate::functions::mqtt::{AddMqttDevice, SetMqttPrefix, get_mqtt_overview};
use hearth_core::mqtt::{Discovered, Linked, MqttOverview, Skipped};
use leptos::prelude::*;

/// Seconds between refreshes.
const REFRESH_SECONDS: u64 = 5;

/// The MQTT panel.
#[component]
pub fn MqttPanel() -> impl IntoView {
    let set_prefix = ServerAction::<SetMqttPrefix>::new();
    let add_device = ServerAction::<AddMqttDevice>::new();
    let tick = RwSignal::new(0u32);
    let overview = Resource::new(
        move || (tick.get(), set_prefix.version().get(), add_device.version().get()),
        |_| get_mqtt_overview(),
    );
    // Ages ("12 s ago") are the browser's to compute, so only once hydrated.
    let now_ms = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        now_ms.set(Some(hearth_core::time::now_ms()));
        let refresh = set_interval_with_handle(
            move || {
                if !editing() {
                    now_ms.set(Some(hearth_core::time::now_ms()));
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_secs(REFRESH_SECONDS),
        );
        if let Ok(refresh) = refresh {
            on_cleanup(move || refresh.clear());
        }
    });
    view! {
        <section class="panel mqtt-panel" data-hydrated=move || now_ms.get().is_some().to_string()>
            <div class="panel-head">
                <h2>"MQTT"</h2>
                <span class="muted subtitle">"Tasmota, Shelly, ESPHome and hearth/<device>/<sensor> topics"</span>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => view! { <Overview overview now_ms set_prefix add_device /> }.into_any(),
                        Err(e) => view! { <p class="error">"Could not load the MQTT state: " {e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <NewDeviceToken add_device />
            <ActionError result=Signal::derive(move || set_prefix.value().get().and_then(Result::err).map(|e| e.to_string())) />
        </section>
    }
}

#[component]
fn Overview(
    overview: MqttOverview,
    now_ms: RwSignal<Option<i64>>,
    set_prefix: ServerAction<SetMqttPrefix>,
    add_device: ServerAction<AddMqttDevice>,
) -> impl IntoView {
    let MqttOverview { broker, devices, discovered, skipped } = overview;
    let broker_view = match broker {
        None => view! {
            <p class="mqtt-broker" data-state="off">
                <span class="dot"></span>
                "No broker configured: start Hearth with HEARTH_MQTT_URL=mqtt://host:1883 to take MQTT devices."
            </p>
        }
        .into_any(),
        Some(broker) => {
            let state = if broker.connected { "on" } else { "down" };
            let since = broker.since_ms;
            view! {
                <p class="mqtt-broker" data-state=state>
                    <span class="dot"></span>
                    {if broker.connected { "Connected to " } else { "Not connected to " }}
                    <code>{broker.url}</code>
                    <span class="muted">{move || ago(since, now_ms.get()).map(|a| format!(" · since {a}")).unwrap_or_default()}</span>
                    {broker.last_error.map(|e| view! { <span class="error">" · " {e}</span> })}
                </p>
            }
            .into_any()
        }
    };
    view! {
        {broker_view}
        <h3>"Devices"</h3>
        <div class="table-wrap">
            <table class="mqtt-devices">
                <thead>
                    <tr><th>"Device"</th><th>"Topic prefix"</th><th>"State"</th><th>"Protocol"</th><th>"Messages"</th><th>"Last"</th></tr>
                </thead>
                <tbody>
                    {devices.into_iter().map(|linked| view! { <DeviceRow linked now_ms set_prefix /> }).collect_view()}
                </tbody>
            </table>
        </div>
        <h3>"Discovered, not yet added"</h3>
        {if discovered.is_empty() {
            view! { <p class="hint">"No unknown prefix heard. Messages of a prefix no device claims are counted here, never stored."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="mqtt-discovered">
                        <thead>
                            <tr><th>"Prefix"</th><th>"Looks like"</th><th>"Messages"</th><th>"Last topic"</th><th>"Seen"</th><th>"Add as device"</th></tr>
                        </thead>
                        <tbody>
                            {discovered.into_iter().map(|d| view! { <DiscoveredRow discovered=d now_ms add_device /> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any()
        }}
        {(!skipped.is_empty()).then(|| view! { <SkippedInputs skipped now_ms /> })}
    }
}

#[component]
fn DeviceRow(linked: Linked, now_ms: RwSignal<Option<i64>>, set_prefix: ServerAction<SetMqttPrefix>) -> impl IntoView {
    let Linked { device, prefix, online, online_at_ms, protocol, messages, last_message_ms, last_error } = linked;
    let (state, label) = match online {
        Some(true) => ("on", "Online"),
        Some(false) => ("down", "Offline"),
        None => ("off", "–"),
    };
    let aria = format!("MQTT topic prefix of {}", device.name);
    view! {
        <tr data-device=device.name.clone()>
            <td class="name">{device.name.clone()}</td>
            <td data-label="Topic prefix">
                <ActionForm action=set_prefix attr:class="inline-form">
                    <input type="hidden" name="device_id" value=device.device_id />
                    <input
                        name="prefix"
                        value=prefix.clone().unwrap_or_default()
                        placeholder="none"
                        aria-label=aria
                        maxlength="128"
                    />
                    <button type="submit">"Save"</button>
                </ActionForm>
            </td>
            <td data-label="State">
                <span class="online" data-state=state title=move || ago(online_at_ms, now_ms.get()).unwrap_or_default()>
                    <span class="dot"></span>
                    {label}
                </span>
            </td>
            <td data-label="Protocol">{protocol.unwrap_or_else(|| "–".into())}</td>
            <td class="num" data-label="Messages">{messages}</td>
            <td data-label="Last">
                <span class="muted">{move || ago(last_message_ms, now_ms.get()).unwrap_or_default()}</span>
                {last_error.map(|e| view! { <div class="error small">{e}</div> })}
            </td>
        </tr>
    }
}

#[component]
fn DiscoveredRow(discovered: Discovered, now_ms: RwSignal<Option<i64>>, add_device: ServerAction<AddMqttDevice>) -> impl IntoView {
    let Discovered { prefix, protocol, messages, last_topic, last_seen_ms } = discovered;
    let suggested: String = prefix.rsplit('/').next().unwrap_or(&prefix).to_lowercase();
    let aria = format!("Name of the device with prefix {prefix}");
    let (row, shown) = (prefix.clone(), prefix.clone());
    view! {
        <tr data-prefix=row>
            <td class="name"><code>{shown}</code></td>
            <td data-label="Looks like">{protocol}</td>
            <td class="num" data-label="Messages">{messages}</td>
            <td data-label="Last topic"><code class="small">{last_topic}</code></td>
            <td class="muted" data-label="Seen">{move || ago(Some(last_seen_ms), now_ms.get()).unwrap_or_default()}</td>
            <td>
                <ActionForm action=add_device attr:class="inline-form">
                    <input type="hidden" name="prefix" value=prefix />
                    <input name="name" value=suggested aria-label=aria maxlength="64" />
                    <button type="submit">"Add as device"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn SkippedInputs(skipped: Vec<Skipped>, now_ms: RwSignal<Option<i64>>) -> impl IntoView {
    view! {
        <h3>"Skipped inputs"</h3>
        <p class="hint">
            "Values of sensors that do not exist yet and whose kind nothing tells. Post one reading of the sensor with its "
            <code>"kind"</code>
            " to the JSON API and the next values are stored."
        </p>
        <div class="table-wrap">
            <table class="mqtt-skipped">
                <thead>
                    <tr><th>"Device"</th><th>"Sensor key"</th><th>"Protocol"</th><th>"Values"</th><th>"Last"</th></tr>
                </thead>
                <tbody>
                    {skipped
                        .into_iter()
                        .map(|s| {
                            let at = s.last_seen_ms;
                            view! {
                                <tr>
                                    <td class="name">{s.device}</td>
                                    <td data-label="Sensor key"><code>{s.key}</code></td>
                                    <td data-label="Protocol">{s.protocol}</td>
                                    <td class="num" data-label="Values">{s.count}</td>
                                    <td class="muted" data-label="Last">{move || ago(Some(at), now_ms.get()).unwrap_or_default()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The token of a device just added, shown once.
#[component]
fn NewDeviceToken(add_device: ServerAction<AddMqttDevice>) -> impl IntoView {
    move || {
        add_device.value().get().map(|result| match result {
            Ok(new) => view! {
                <div class="mqtt-token" role="status">
                    "Device " <strong>{new.device.name}</strong> " added. Its token, shown only this once:"
                    <code>{new.token}</code>
                </div>
            }
            .into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    }
}

#[component]
fn ActionError(result: Signal<Option<String>>) -> impl IntoView {
    move || result.get().map(|e| view! { <p class="error" role="alert">{e}</p> })
}

/// "5 s ago", "3 min ago", "2 h ago", "4 d ago"; `None` before hydration or without a time.
fn ago(at_ms: Option<i64>, now_ms: Option<i64>) -> Option<String> {
    let seconds = (now_ms? - at_ms?).max(0) / 1000;
    Some(match seconds {
        0..60 => format!("{seconds} s ago"),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86_400 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    })
}

/// Whether the person is typing in a field, when a refresh would wipe what they typed.
#[cfg(feature = "hydrate")]
fn editing() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .is_some_and(|e| e.tag_name().eq_ignore_ascii_case("input"))
}

#[cfg(not(feature = "hydrate"))]
fn editing() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_a_person_says_them() {
        assert_eq!(ago(Some(0), Some(5_000)).as_deref(), Some("5 s ago"));
        assert_eq!(ago(Some(0), Some(180_000)).as_deref(), Some("3 min ago"));
        assert_eq!(ago(Some(0), Some(7_200_000)).as_deref(), Some("2 h ago"));
        assert_eq!(ago(Some(0), Some(4 * 86_400_000)).as_deref(), Some("4 d ago"));
        assert_eq!(ago(Some(10), None), None);
    }
}
