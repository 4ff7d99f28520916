//! `/`: the house at a glance — each room's temperature and humidity, the power drawn now,
//! today's electricity and water, and the appliances that are on and for how long. Every
//! number moves with the live stream.

use crate::components::chart::{Axis, LineChart};
use crate::components::live_page::{LivePage, ViewData, ViewLive};
use crate::components::air::Co2Note;
use crate::format::{money, run_length, watts};
use crate::functions::overview::{Latest, Overview, load_overview};
use hearth_core::range::{Preset, Window};
use hearth_core::reading::merge_live;
use hearth_core::sensor::Kind;
use hearth_core::time::{DAY_MS, Zone, now_ms};
use leptos::prelude::*;

impl ViewData for Overview {
    fn shown(&self) -> Option<(Window, Zone)> {
        None
    }

    fn day_end_ms(&self) -> i64 {
        self.today_ms.1
    }
}

/// The overview page.
#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <LivePage title="Home" default=None load=|_| load_overview() what="the house's state"
            placeholder=|| view! { <div class="cards"><div class="card"></div><div class="card"></div><div class="card"></div><div class="card"></div></div> }
            children=|overview, live| view! { <LiveOverview overview=overview live=live /> } />
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

#[component]
fn LiveOverview(overview: Overview, live: ViewLive) -> impl IntoView {
    let Overview { zone, today_ms, rooms, power, energy, water, appliances, power_history, cost } = overview;
    // Today's cost moves with the import counters' rises, each at the price of its instant.
    let cost = RwSignal::new(cost);
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
    live.on_readings(move |reading, at_ms| {
        let (id, value) = (reading.sensor_id, reading.value);
        let set_latest = |l: &mut Latest| {
            if l.at_ms.is_none_or(|t| t <= at_ms) {
                (l.value, l.at_ms) = (Some(value), Some(at_ms));
            }
        };
        match reading.kind {
            Kind::Temperature | Kind::Humidity | Kind::Co2 => {
                let known = rooms.try_update(|rooms| {
                    let slot = rooms.iter_mut().flat_map(|r| [r.temperature.as_mut(), r.humidity.as_mut(), r.co2.as_mut()]).flatten().find(|l| l.sensor_id == id);
                    slot.map(set_latest).is_some()
                });
                if known == Some(false) {
                    live.refetch();
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
                    live.refetch();
                }
            }
            Kind::Energy | Kind::Water if at_ms >= today_ms.0 => {
                if reading.kind == Kind::Energy {
                    cost.update(|c| {
                        let Some(c) = c else { return };
                        let mut rise = 0.0;
                        c.import.iter_mut().filter(|i| i.sensor_id == id).for_each(|i| {
                            let before = i.today;
                            i.add(value);
                            rise += i.today - before;
                        });
                        zone.with_value(|z| c.pricing.charge(&mut c.today, z, at_ms, rise));
                    });
                }
                let counters = if reading.kind == Kind::Energy { energy } else { water };
                let known = counters.try_update(|c| {
                    let mut found = c.iter_mut().filter(|c| c.sensor_id == id).peekable();
                    let known = found.peek().is_some();
                    found.for_each(|c| c.add(value));
                    known
                });
                if known == Some(false) && (reading.sensor().main || counters.with_untracked(Vec::is_empty)) {
                    live.refetch();
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
                    live.refetch();
                }
            }
            Kind::Price => cost.update(|c| {
                if let Some(c) = c {
                    c.pricing.read_price(id, at_ms, value);
                }
            }),
            _ => {}
        }
    });

    let power_now = move || power.with(|p| p.iter().filter_map(|l| l.value).reduce(|a, b| a + b));
    let energy_today = move || energy.with(|c| c.iter().map(|c| c.today).reduce(|a, b| a + b));
    let water_today = move || water.with(|c| c.iter().map(|c| c.today).reduce(|a, b| a + b));
    let cost_today = move || {
        cost.with(|c| {
            let c = c.as_ref()?;
            Some(money(&c.currency, c.today?))
        })
    };
    let cost_month = move || {
        cost.with(|c| {
            let c = c.as_ref()?;
            let month = c.month.map(|m| format!("this month {}", money(&c.currency, m)));
            let projected = c.projected.map(|p| format!("on course for {}", money(&c.currency, p)));
            Some([month, projected].into_iter().flatten().collect::<Vec<_>>().join(" · "))
        })
    };
    let on_now = move || appliances.with(|a| a.iter().filter(|a| a.on_since.is_some()).cloned().collect::<Vec<_>>());
    let updated = move |at: Option<i64>| at.map(|at| zone.with_value(|z| z.format(at, "%H:%M")));
    view! {
        <div class="cards" data-testid="totals">
            <a class="card" href="/energy" data-testid="power-now">
                <h2>"Power now"</h2>
                <div class="big">{move || power_now().map_or_else(|| "–".to_owned(), watts)}</div>
                <div class="sub">{move || if power.with(Vec::is_empty) { "no power meter yet".to_owned() } else { "whole house".to_owned() }}</div>
            </a>
            <a class="card" href="/energy" data-testid="energy-today">
                <h2>"Electricity today"</h2>
                <div class="big">{move || energy_today().map_or_else(|| "–".to_owned(), |k| format!("{k:.2}"))}<small>"kWh"</small></div>
                <div class="sub">"since midnight"</div>
            </a>
            <Show when=move || cost.with(Option::is_some)>
                <a class="card" href="/energy" data-testid="cost-today">
                    <h3>"Cost today"</h3>
                    <div class="big">{move || cost_today().unwrap_or_else(|| "–".to_owned())}</div>
                    <div class="sub" data-testid="cost-month">{cost_month}</div>
                </a>
            </Show>
            <a class="card" href="/water" data-testid="water-today">
                <h2>"Water today"</h2>
                <div class="big">{move || water_today().map_or_else(|| "–".to_owned(), |l| format!("{l:.0}"))}<small>"L"</small></div>
                <div class="sub">"since midnight"</div>
            </a>
            <a class="card" href="/appliances" data-testid="appliances-on">
                <h2>"Appliances on"</h2>
                <div class="big">{move || on_now().len()}<small>{move || format!("of {}", appliances.with(Vec::len))}</small></div>
                <div class="sub">{move || on_now().first().map(|a| a.sensor.title()).unwrap_or_else(|| "all off".into())}</div>
            </a>
        </div>

        // The house's power right under its figures: on a phone's first screen.
        <Show when=move || power_history.with(|h| !h.is_empty())>
            <section class="panel">
                <div class="panel-head"><h2>"Power, last 24 hours"</h2><a class="muted" href="/energy">"Electricity →"</a></div>
                <LineChart series=power_history window=day zone=chart_zone axis=Axis { unit: "W", decimals: 0, from_zero: true } label="The house's power, last 24 hours" />
            </section>
        </Show>

        <h2 class="section-title">"Rooms"</h2>
        <Show when=move || rooms.with(|r| !r.is_empty()) fallback=|| view! { <p class="empty">"No room sensor has reported yet."</p> }>
            <div class="cards rooms">
                <For each=move || rooms.get() key=|r| (r.room.clone(), [r.temperature, r.humidity, r.co2].map(|l| l.map(|l| (l.value.map(f64::to_bits), l.at_ms)))) let:room>
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
                        {room.co2.and_then(|c| c.value).map(|ppm| view! { <Co2Note ppm=ppm tag="div" /> })}
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
                                {move || format!("on for {}", run_length(clock.get().max(a.on_since.unwrap_or(0)) - a.on_since.unwrap_or(0)))}
                            </span>
                        </li>
                    </For>
                </ul>
            </Show>
        </section>
    }
}
