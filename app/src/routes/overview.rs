//! `/`: the house at a glance — each room's temperature and humidity, the power drawn now,
//! today's electricity and water, and the appliances that are on and for how long. Every
//! number moves with the live stream.

use crate::components::chart::{Axis, LineChart, now_ms};
use crate::range::{Preset, Window};
use crate::reading::merge_live;
use crate::time::DAY_MS;
use crate::components::timeline::duration;
use crate::live::{LiveEvent, use_live};
use crate::sensor::{Kind, Sensor};
use crate::time::Zone;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A sensor's newest value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latest {
    /// The sensor.
    pub sensor_id: i64,
    /// Its newest value, if it ever reported.
    pub value: Option<f64>,
    /// When that was measured, Unix ms.
    pub at_ms: Option<i64>,
}

/// A room's climate now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomNow {
    /// The room's name.
    pub room: String,
    /// Its temperature sensor's newest value.
    pub temperature: Option<Latest>,
    /// Its humidity sensor's newest value.
    pub humidity: Option<Latest>,
}

/// A counter's consumption today and its newest value (to add what live readings add).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CounterToday {
    /// The counter.
    pub sensor_id: i64,
    /// Consumption since local midnight.
    pub today: f64,
    /// The counter's newest value.
    pub last: Option<f64>,
}

impl CounterToday {
    /// Adds a new reading of the counter: what it rose by counts, a drop starts a new baseline.
    pub fn add(&mut self, value: f64) {
        if let Some(last) = self.last
            && value > last
        {
            self.today += value - last;
        }
        self.last = Some(value);
    }
}

/// An appliance (a switch) and whether it is on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApplianceNow {
    /// The switch.
    pub sensor: Sensor,
    /// Since when it is on; `None` when off.
    pub on_since: Option<i64>,
    /// Its paired power sensor and the power it draws now.
    pub power: Option<Latest>,
}

/// What the overview shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// The house's time zone around today.
    pub zone: Zone,
    /// Today's start and end, Unix ms.
    pub today_ms: (i64, i64),
    /// Rooms with a temperature or humidity sensor, by name.
    pub rooms: Vec<RoomNow>,
    /// The power sensors whose sum is the house's draw: its main meters, else every one.
    pub power: Vec<Latest>,
    /// Electricity counters whose sum is the house's use: main meters, else every one.
    pub energy: Vec<CounterToday>,
    /// Water counters, likewise.
    pub water: Vec<CounterToday>,
    /// Every appliance.
    pub appliances: Vec<ApplianceNow>,
    /// The house's power meters over the last 24 hours.
    pub power_history: Vec<crate::reading::Series>,
}

/// The overview's data.
#[server]
pub async fn load_overview() -> Result<Overview, ServerFnError> {
    use crate::sensor::ssr::{Listed, list_all};
    let (db, house) = (crate::store::Db::from_context()?, crate::time::ssr::HouseZone::from_context());
    let failed = |e: sqlx::Error| {
        tracing::error!(error = %e, "overview query failed");
        ServerFnError::new("could not read the house's state")
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let day = house.day_of(now);
    let sensors = list_all(&db).await.map_err(failed)?;
    let latest = |l: &Listed| Latest { sensor_id: l.sensor.sensor_id, value: l.last_value, at_ms: l.last_at_ms };
    let of_kind = |kind: Kind| -> Vec<&Listed> {
        let all: Vec<&Listed> = sensors.iter().filter(|l| l.sensor.kind == kind).collect();
        if all.iter().any(|l| l.sensor.main) { all.into_iter().filter(|l| l.sensor.main).collect() } else { all }
    };

    let mut rooms: Vec<RoomNow> = Vec::new();
    for l in sensors.iter().filter(|l| matches!(l.sensor.kind, Kind::Temperature | Kind::Humidity)) {
        let name = l.sensor.label();
        let at = match rooms.iter().position(|r| r.room == name) {
            Some(i) => i,
            None => {
                rooms.push(RoomNow { room: name, temperature: None, humidity: None });
                rooms.len() - 1
            }
        };
        let slot = if l.sensor.kind == Kind::Temperature { &mut rooms[at].temperature } else { &mut rooms[at].humidity };
        slot.get_or_insert(latest(l));
    }
    rooms.sort_by(|a, b| a.room.cmp(&b.room));

    let energy = crate::routes::energy::ssr::today(&db, &of_kind(Kind::Energy), day.start_ms, now).await.map_err(failed)?;
    let water = crate::routes::energy::ssr::today(&db, &of_kind(Kind::Water), day.start_ms, now).await.map_err(failed)?;

    let all_sensors: Vec<Sensor> = sensors.iter().map(|l| l.sensor.clone()).collect();
    let mut appliances = Vec::new();
    for l in sensors.iter().filter(|l| l.sensor.kind == Kind::Switch) {
        let run = crate::usage::ssr::current(&db, l.sensor.sensor_id, now).await.map_err(failed)?;
        let power = crate::usage::pair(&l.sensor, &all_sensors)
            .and_then(|p| sensors.iter().find(|s| s.sensor.sensor_id == p.sensor_id))
            .map(latest);
        appliances.push(ApplianceNow { sensor: l.sensor.clone(), on_since: run.map(|r| r.start_ms), power });
    }
    appliances.sort_by_key(|a| a.sensor.title());

    let power = of_kind(Kind::Power);
    let mut power_history = Vec::with_capacity(power.len());
    for l in &power {
        let history = crate::reading::ssr::sensor_history(&db, l.sensor.clone(), now - crate::time::DAY_MS, now, 288).await.map_err(failed)?;
        power_history.push(history);
    }
    Ok(Overview {
        zone: house.zone(now - crate::time::DAY_MS, day.end_ms),
        today_ms: (day.start_ms, day.end_ms),
        rooms,
        power: power.into_iter().map(latest).collect(),
        energy,
        water,
        appliances,
        power_history,
    })
}

/// The overview page.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_overview());
    view! {
        <div class="view-head"><h1>"Home"</h1></div>
        <Suspense fallback=|| view! { <div class="cards"><div class="card"></div><div class="card"></div><div class="card"></div><div class="card"></div></div> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(overview) => view! { <LiveOverview overview=overview refetch=move || data.refetch() /> }.into_any(),
                    Err(e) => view! { <p class="error">"Could not load the house's state: " {e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A clock for "on for 1 h 05 min": the current time, ticking every 15 s in the browser.
fn use_clock() -> ReadSignal<i64> {
    let (now, set_now) = signal(now_ms());
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(move || set_now.set(now_ms()), std::time::Duration::from_secs(15));
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = set_now;
    now
}

/// Watts as a person reads them: `640 W`, `2.35 kW`.
pub fn watts(w: f64) -> String {
    if w.abs() >= 1000.0 { format!("{:.2} kW", w / 1000.0) } else { format!("{w:.0} W") }
}

#[component]
fn LiveOverview(overview: Overview, refetch: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let Overview { zone, today_ms, rooms, power, energy, water, appliances, power_history } = overview;
    let power_history = RwSignal::new(power_history);
    let day = Window { from_ms: now_ms() - DAY_MS, to_ms: now_ms(), preset: Some(Preset::Day) };
    let chart_zone = Signal::stored(zone.clone());
    let rooms = RwSignal::new(rooms);
    let power = RwSignal::new(power);
    let energy = RwSignal::new(energy);
    let water = RwSignal::new(water);
    let appliances = RwSignal::new(appliances);
    let zone = StoredValue::new(zone);
    let clock = use_clock();
    use_live(move |event| {
        let (reading, at_ms) = match event {
            LiveEvent::Reading(reading, at_ms) => (reading, at_ms),
            LiveEvent::Resync => return refetch(),
            LiveEvent::Alert(_) => return,
        };
        let (id, value, at_ms) = (reading.sensor_id, reading.value, *at_ms);
        if at_ms >= today_ms.1 {
            return refetch();
        }
        let set_latest = |l: &mut Latest| {
            if l.at_ms.is_none_or(|t| t <= at_ms) {
                (l.value, l.at_ms) = (Some(value), Some(at_ms));
            }
        };
        match reading.kind {
            Kind::Temperature | Kind::Humidity => {
                let known = rooms.try_update(|rooms| {
                    let slot = rooms.iter_mut().flat_map(|r| [r.temperature.as_mut(), r.humidity.as_mut()]).flatten().find(|l| l.sensor_id == id);
                    slot.map(set_latest).is_some()
                });
                if known == Some(false) {
                    refetch();
                }
            }
            Kind::Power => {
                if power_history.with_untracked(|h| h.iter().any(|s| s.sensor.sensor_id == id)) {
                    power_history.update(|h| merge_live(h, reading, at_ms, now_ms() - DAY_MS));
                }
                let known = power.try_update(|p| {
                    let mut found = p.iter_mut().filter(|l| l.sensor_id == id).peekable();
                    let known = found.peek().is_some();
                    found.for_each(set_latest);
                    known
                });
                appliances.update(|a| a.iter_mut().filter_map(|a| a.power.as_mut()).filter(|l| l.sensor_id == id).for_each(set_latest));
                // A new house meter changes what "the house" sums.
                if known == Some(false) && (reading.sensor().main || power.with_untracked(Vec::is_empty)) {
                    refetch();
                }
            }
            Kind::Energy | Kind::Water if at_ms >= today_ms.0 => {
                let counters = if reading.kind == Kind::Energy { energy } else { water };
                let known = counters.try_update(|c| {
                    let mut found = c.iter_mut().filter(|c| c.sensor_id == id).peekable();
                    let known = found.peek().is_some();
                    found.for_each(|c| c.add(value));
                    known
                });
                if known == Some(false) && (reading.sensor().main || counters.with_untracked(Vec::is_empty)) {
                    refetch();
                }
            }
            Kind::Switch => {
                let known = appliances.try_update(|a| {
                    let found = a.iter_mut().find(|a| a.sensor.sensor_id == id);
                    found
                        .map(|a| match (value > 0.5, a.on_since) {
                            (true, None) => a.on_since = Some(at_ms),
                            (false, Some(_)) => a.on_since = None,
                            _ => {}
                        })
                        .is_some()
                });
                if known == Some(false) {
                    refetch();
                }
            }
            _ => {}
        }
    });

    let power_now = move || power.with(|p| p.iter().filter_map(|l| l.value).reduce(|a, b| a + b));
    let energy_today = move || energy.with(|c| c.iter().map(|c| c.today).reduce(|a, b| a + b));
    let water_today = move || water.with(|c| c.iter().map(|c| c.today).reduce(|a, b| a + b));
    let on_now = move || appliances.with(|a| a.iter().filter(|a| a.on_since.is_some()).cloned().collect::<Vec<_>>());
    let updated = move |at: Option<i64>| at.map(|at| zone.with_value(|z| z.format(at, "%H:%M")));
    view! {
        <div class="cards" data-testid="totals">
            <a class="card" href="/energy" data-testid="power-now">
                <h3>"Power now"</h3>
                <div class="big">{move || power_now().map_or_else(|| "–".to_owned(), watts)}</div>
                <div class="sub">{move || if power.with(Vec::is_empty) { "no power meter yet".to_owned() } else { "whole house".to_owned() }}</div>
            </a>
            <a class="card" href="/energy" data-testid="energy-today">
                <h3>"Electricity today"</h3>
                <div class="big">{move || energy_today().map_or_else(|| "–".to_owned(), |k| format!("{k:.2}"))}<small>"kWh"</small></div>
                <div class="sub">"since midnight"</div>
            </a>
            <a class="card" href="/water" data-testid="water-today">
                <h3>"Water today"</h3>
                <div class="big">{move || water_today().map_or_else(|| "–".to_owned(), |l| format!("{l:.0}"))}<small>"L"</small></div>
                <div class="sub">"since midnight"</div>
            </a>
            <a class="card" href="/appliances" data-testid="appliances-on">
                <h3>"Appliances on"</h3>
                <div class="big">{move || on_now().len()}<small>{move || format!("of {}", appliances.with(Vec::len))}</small></div>
                <div class="sub">{move || on_now().first().map(|a| a.sensor.title()).unwrap_or_else(|| "all off".into())}</div>
            </a>
        </div>

        <h2 class="section-title">"Rooms"</h2>
        <Show when=move || rooms.with(|r| !r.is_empty()) fallback=|| view! { <p class="empty">"No room sensor has reported yet."</p> }>
            <div class="cards rooms">
                <For each=move || rooms.get() key=|r| (r.room.clone(), [r.temperature, r.humidity].map(|l| l.map(|l| (l.value.map(f64::to_bits), l.at_ms)))) let:room>
                    <a class="card room" href="/temperature" data-room=room.room.clone()>
                        <h3>{room.room.clone()}</h3>
                        <div class="big">
                            {room.temperature.and_then(|t| t.value).map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))}
                            <small>"°C"</small>
                        </div>
                        <div class="sub">
                            {room.humidity.and_then(|h| h.value).map(|v| format!("{v:.0} % humidity"))}
                            {updated(room.temperature.and_then(|t| t.at_ms)).map(|t| format!(" · {t}"))}
                        </div>
                    </a>
                </For>
            </div>
        </Show>

        <h2 class="section-title">"Appliances on now"</h2>
        <section class="panel">
            <Show when=move || !on_now().is_empty() fallback=|| view! { <p class="muted">"Every appliance is off."</p> }>
                <ul class="on-list">
                    <For each=on_now key=|a| (a.sensor.sensor_id, a.on_since, a.power.and_then(|p| p.value).map(f64::to_bits)) let:a>
                        <li data-appliance=a.sensor.key.clone()>
                            <span><span class="badge-on"></span>{a.sensor.title()}</span>
                            <span class="muted">
                                {a.power.and_then(|p| p.value).map(|w| format!("{} · ", watts(w)))}
                                {move || format!("on for {}", duration(clock.get().max(a.on_since.unwrap_or(0)) - a.on_since.unwrap_or(0)))}
                            </span>
                        </li>
                    </For>
                </ul>
            </Show>
        </section>
        <Show when=move || power_history.with(|h| !h.is_empty())>
            <section class="panel">
                <div class="panel-head"><h2>"Power, last 24 hours"</h2><a class="muted" href="/energy">"Electricity →"</a></div>
                <LineChart series=power_history window=day zone=chart_zone axis=Axis { unit: "W", decimals: 0, from_zero: true } label="The house's power, last 24 hours" />
            </section>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_adds_its_rises_and_restarts_after_a_drop() {
        let mut c = CounterToday { sensor_id: 1, today: 2.0, last: Some(100.0) };
        c.add(100.5);
        c.add(100.5);
        c.add(3.0);
        c.add(3.25);
        assert_eq!((c.today, c.last), (2.75, Some(3.25)));
    }

    #[test]
    fn watts_switch_to_kilowatts() {
        assert_eq!(watts(640.4), "640 W");
        assert_eq!(watts(2345.0), "2.35 kW");
    }
}
