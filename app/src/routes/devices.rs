//! `/devices`: every device with when it was last seen and its sensors; adding a device (its
//! token shown once), naming sensors, setting their room and marking whole-house meters,
//! revoking a device's token; importing readings from CSV; and the MQTT panel (topic prefixes, online states, discovered
//! prefixes).

use crate::components::import::{ImportForm, ImportPanel};
use crate::components::mqtt::MqttPanel;
use crate::format::{ago, reading_text};
use crate::functions::devices::{AddDevice, Devices, RevokeDevice, UpdateSensor, load_devices};
use hearth_core::device::DeviceOverview;
use hearth_core::sensor::Listed;
use hearth_core::time::Zone;
use leptos::form::ActionForm;
use hearth_core::energy::Role;
use leptos::prelude::*;

/// The devices view.
#[component]
pub fn DevicesPage() -> impl IntoView {
    let add = ServerAction::<AddDevice>::new();
    let update = ServerAction::<UpdateSensor>::new();
    let revoke = ServerAction::<RevokeDevice>::new();
    let import = ImportForm::new();
    let data = Resource::new(
        move || (add.version().get(), update.version().get(), revoke.version().get(), import.imported()),
        |_| load_devices(),
    );
    let new_token = move || add.value().get().and_then(|r| r.ok());
    let add_error = move || add.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    let update_error = move || update.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    view! {
        <div class="view-head"><h1>"Devices"</h1></div>
        <Transition fallback=|| view! { <section class="panel"><p class="muted">"Loading…"</p></section> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Devices { zone, now_ms, devices, owner }) => {
                        let zone = StoredValue::new(zone);
                        let owner = Signal::derive(move || owner);
                        let empty = devices.is_empty();
                        view! {
                            <Show when=move || owner.get()>
                                <section class="panel">
                                    <h2>"Add a device"</h2>
                                    <ActionForm action=add attr:class="inline-form">
                                        <input type="text" name="name" placeholder="kitchen-esp32" required maxlength="64" aria-label="Device name" />
                                        <button type="submit" class="primary">"Add device"</button>
                                    </ActionForm>
                                    {move || add_error().map(|e| view! { <p class="error">{e}</p> })}
                                    {move || new_token().map(|token| view! {
                                        <div class="callout" data-testid="new-token">
                                            <p>"The device's token, shown only this once. Put it in the device's requests as " <code>"Authorization: Bearer <token>"</code> ":"</p>
                                            <p class="token">{token}</p>
                                        </div>
                                    })}
                                </section>
                                <ImportPanel form=import />
                            </Show>
                            {move || update_error().map(|e| view! { <p class="error">{e}</p> })}
                            <Show when=move || empty>
                                <p class="empty">"No device yet. Add one above, then post readings with its token."</p>
                            </Show>
                            {devices.into_iter().map(|d| view! { <DeviceCard device=d zone=zone now_ms=now_ms owner=owner update=update revoke=revoke /> }).collect_view()}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error">"Could not load the devices: " {e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <MqttPanel />
    }
}

#[component]
fn DeviceCard(
    device: DeviceOverview,
    zone: StoredValue<Zone>,
    now_ms: i64,
    owner: Signal<bool>,
    update: ServerAction<UpdateSensor>,
    revoke: ServerAction<RevokeDevice>,
) -> impl IntoView {
    let DeviceOverview { device, created_at_ms, last_seen_ms, sensors } = device;
    let has_sensors = !sensors.is_empty();
    let sensors = StoredValue::new(sensors);
    let name = device.name.clone();
    let seen = match last_seen_ms {
        Some(at) => format!("last seen {} ({})", ago(now_ms - at), zone.with_value(|z| z.format(at, "%-d %b %H:%M"))),
        None => "never seen".to_owned(),
    };
    view! {
        <section class="panel device" data-device=device.name.clone()>
            <div class="panel-head">
                <h2>{device.name.clone()}</h2>
                <span class="muted">{seen}" · added "{zone.with_value(|z| z.format(created_at_ms, "%-d %b %Y"))}</span>
            </div>
            <Show when=move || has_sensors fallback=|| view! { <p class="muted">"No sensor has reported yet."</p> }>
                <div class="table-wrap">
                    <table class="sensors">
                        <thead><tr>
                            <th>"Sensor"</th><th>"Kind"</th><th>"Name"</th><th>"Room"</th><th>"House meter"</th><th>"Energy role"</th><th class="r">"Latest"</th><th><span class="sr-only">"Save"</span></th>
                        </tr></thead>
                        <tbody>
                            {sensors.get_value().into_iter().map(|l| view! { <SensorRow listed=l zone=zone now_ms=now_ms owner=owner update=update /> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </Show>
            <Show when=move || owner.get()>
                {
                    let name = name.clone();
                    view! {
                        <ActionForm action=revoke attr:class="revoke" on:submit=move |ev| {
                            let sure = window().confirm_with_message("Revoke this device's token? It will no longer be able to post.").unwrap_or(false);
                            if !sure {
                                ev.prevent_default();
                            }
                        }>
                            <input type="hidden" name="name" value=name />
                            <button type="submit" class="quiet">"Revoke token"</button>
                        </ActionForm>
                    }
                }
            </Show>
        </section>
    }
}

#[component]
fn SensorRow(listed: Listed, zone: StoredValue<Zone>, now_ms: i64, owner: Signal<bool>, update: ServerAction<UpdateSensor>) -> impl IntoView {
    let Listed { sensor, last_at_ms, last_value } = listed;
    let latest = match (last_value, last_at_ms) {
        (Some(v), Some(at)) => format!("{} · {}", reading_text(sensor.kind, v), ago(now_ms - at)),
        _ => "–".to_owned(),
    };
    let last_title = zone.with_value(|z| last_at_ms.map(|at| z.format(at, "%a %-d %b %H:%M:%S")));
    let form_id = format!("sensor-{}", sensor.sensor_id);
    let kind = format!("{} ({})", sensor.kind, sensor.kind.unit()).replace(" ()", "");
    let (key, sensor_id) = (sensor.key.clone(), sensor.sensor_id);
    let (title, name, room, main) = (sensor.title(), sensor.name.clone().unwrap_or_default(), sensor.room.clone().unwrap_or_default(), sensor.main);
    let shown = (title.clone(), room.clone());
    let (kind_of, role) = (sensor.kind, sensor.role);
    let roles: Vec<Role> = Role::ALL.into_iter().filter(|r| kind_of.plays(*r)).collect();
    let role_shown = role.map_or("", Role::label);
    let edit = {
        let form_id = form_id.clone();
        move || {
            let roles = roles.clone();
            view! {
                <td><input type="text" name="name" form=form_id.clone() value=name.clone() placeholder=title.clone() maxlength="64" aria-label="Name" /></td>
                <td><input type="text" name="room" form=form_id.clone() value=room.clone() placeholder="Room" maxlength="64" aria-label="Room" /></td>
                <td><input type="checkbox" name="main" form=form_id.clone() checked=main aria-label="Whole-house meter" /></td>
                <td>
                    {(!roles.is_empty()).then(|| view! {
                        <select name="role" form=form_id.clone() aria-label="Energy role">
                            <option value="none" selected=role.is_none()>"none"</option>
                            {roles.iter().map(|r| view! { <option value=r.as_str() selected=role == Some(*r)>{r.label()}</option> }).collect_view()}
                        </select>
                    })}
                </td>
            }
        }
    };
    view! {
        <tr data-sensor=key.clone()>
            <td><code>{key.clone()}</code></td>
            <td>{kind}</td>
            <Show
                when=move || owner.get()
                fallback=move || view! { <td>{shown.0.clone()}</td><td>{shown.1.clone()}</td><td>{if main { "yes" } else { "" }}</td><td>{role_shown}</td> }
            >
                {edit.clone()}
            </Show>
            <td class="r" title=last_title>{latest}</td>
            <td>
                <Show when=move || owner.get()>
                    <ActionForm action=update attr:id=form_id.clone()>
                        <input type="hidden" name="sensor_id" value=sensor_id />
                        <button type="submit" class="quiet">"Save"</button>
                    </ActionForm>
                </Show>
            </td>
        </tr>
    }
}
