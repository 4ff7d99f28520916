//! `/devices`: every device with when it was last seen and its sensors; adding a device (its
//! token shown once), naming sensors, setting their room and marking whole-house meters,
//! revoking a device's token; and the MQTT panel (topic prefixes, online states, discovered
//! prefixes).

use crate::components::mqtt::MqttPanel;
use crate::device::{DeviceOverview, RevokeDevice};
use crate::routes::overview::watts;
use crate::sensor::{Kind, Listed};
use crate::time::Zone;
use leptos::prelude::*;
use leptos::form::ActionForm;
use serde::{Deserialize, Serialize};

/// What the devices view shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Devices {
    /// The house's time zone.
    pub zone: Zone,
    /// The time the list was read, Unix ms.
    pub now_ms: i64,
    /// Every device, by name.
    pub devices: Vec<DeviceOverview>,
    /// Whether the owner is looking (a read-only share session cannot change anything).
    pub owner: bool,
}

/// Every device with its sensors.
#[server]
pub async fn load_devices() -> Result<Devices, ServerFnError> {
    let (db, house) = (crate::store::Db::from_context()?, crate::time::ssr::HouseZone::from_context());
    let now = jiff::Timestamp::now().as_millisecond();
    let devices = crate::device::ssr::overview(&db).await.map_err(|e| {
        tracing::error!(error = %e, "devices query failed");
        ServerFnError::new("could not read the devices")
    })?;
    let oldest = devices.iter().map(|d| d.created_at_ms).min().unwrap_or(now);
    let owner = crate::account::ssr::viewer().is_some_and(|v| !v.read_only);
    Ok(Devices { zone: house.zone(oldest, now), now_ms: now, devices, owner })
}

/// Registers a device and returns its token, which is shown this once.
#[server(prefix = "/api/owner", endpoint = "add_device")]
pub async fn add_device(name: String) -> Result<String, ServerFnError> {
    use crate::device::ssr::CreateError;
    crate::account::ssr::require_owner()?;
    let db = crate::store::Db::from_context()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(crate::account::ssr::fail(422, "name: a device name is 1 to 64 characters without control characters"));
    }
    match crate::device::ssr::create(&db, name).await {
        Ok((_, token)) => Ok(token),
        Err(CreateError::NameTaken(name)) => Err(crate::account::ssr::fail(409, &format!("name: a device named {name:?} already exists"))),
        Err(CreateError::Db(e)) => {
            tracing::error!(error = %e, "device not created");
            Err(ServerFnError::new("could not add the device"))
        }
    }
}

/// Names a sensor, sets its room and whether it meters the whole house (a form: an empty
/// text clears the field; the checkbox is absent when unticked).
#[server(prefix = "/api/owner", endpoint = "update_sensor")]
pub async fn update_sensor(sensor_id: i64, name: String, room: String, main: Option<String>) -> Result<(), ServerFnError> {
    use crate::sensor::SensorUpdate;
    use crate::sensor::ssr::UpdateError;
    crate::account::ssr::require_owner()?;
    let db = crate::store::Db::from_context()?;
    let text = |t: String| Some(Some(t).filter(|t| !t.trim().is_empty()));
    let update = SensorUpdate { name: text(name), room: text(room), main: Some(main.is_some()) };
    match crate::sensor::ssr::update(&db, sensor_id, update).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(crate::account::ssr::fail(404, "no such sensor")),
        Err(UpdateError::Invalid { field, message }) => Err(crate::account::ssr::fail(422, &format!("{field}: {message}"))),
        Err(UpdateError::Db(e)) => {
            tracing::error!(error = %e, "sensor not updated");
            Err(ServerFnError::new("could not save the sensor"))
        }
    }
}

/// "3 min ago", "2 h ago", "5 days ago".
pub fn ago(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match minutes {
        0 => "just now".into(),
        1..60 => format!("{minutes} min ago"),
        60..2880 => format!("{} h ago", minutes / 60),
        _ => format!("{} days ago", minutes / 1440),
    }
}

/// A reading's value with its unit.
fn reading_text(kind: Kind, value: f64) -> String {
    match kind {
        Kind::Switch => if value > 0.5 { "on" } else { "off" }.to_owned(),
        Kind::Power => watts(value),
        Kind::Temperature => format!("{value:.1} °C"),
        Kind::Humidity => format!("{value:.0} %"),
        Kind::Energy => format!("{value:.2} kWh"),
        Kind::Water => format!("{value:.0} L"),
        Kind::Flow => format!("{value:.1} L/min"),
    }
}

/// The devices view.
#[component]
pub fn DevicesPage() -> impl IntoView {
    let add = ServerAction::<AddDevice>::new();
    let update = ServerAction::<UpdateSensor>::new();
    let revoke = ServerAction::<RevokeDevice>::new();
    let data = Resource::new(
        move || (add.version().get(), update.version().get(), revoke.version().get()),
        |_| load_devices(),
    );
    let new_token = move || add.value().get().and_then(|r| r.ok());
    let add_error = move || add.value().get().and_then(|r| r.err()).map(|e| crate::account::error_text(&e));
    let update_error = move || update.value().get().and_then(|r| r.err()).map(|e| crate::account::error_text(&e));
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
                            <th>"Sensor"</th><th>"Kind"</th><th>"Name"</th><th>"Room"</th><th>"House meter"</th><th class="r">"Latest"</th><th></th>
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
    let edit = {
        let form_id = form_id.clone();
        move || {
            view! {
                <td><input type="text" name="name" form=form_id.clone() value=name.clone() placeholder=title.clone() maxlength="64" aria-label="Name" /></td>
                <td><input type="text" name="room" form=form_id.clone() value=room.clone() placeholder="Room" maxlength="64" aria-label="Room" /></td>
                <td><input type="checkbox" name="main" form=form_id.clone() checked=main aria-label="Whole-house meter" /></td>
            }
        }
    };
    view! {
        <tr data-sensor=key.clone()>
            <td><code>{key.clone()}</code></td>
            <td>{kind}</td>
            <Show
                when=move || owner.get()
                fallback=move || view! { <td>{shown.0.clone()}</td><td>{shown.1.clone()}</td><td>{if main { "yes" } else { "" }}</td> }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_minutes_hours_and_days() {
        assert_eq!(ago(20_000), "just now");
        assert_eq!(ago(5 * 60_000), "5 min ago");
        assert_eq!(ago(3 * 3_600_000), "3 h ago");
        assert_eq!(ago(3 * 86_400_000), "3 days ago");
    }
}
