//! `/temperature`: a line per room over the chosen range (a min–max band where a point stands
//! for many readings), each room's current value and today's minimum and maximum, and the
//! rooms' humidity below; all of it live.

use crate::components::chart::{Axis, LineChart, now_ms};
use crate::components::plot::series_color;
use crate::components::range_picker::{ViewHead, use_range_query, use_zoom};
use crate::live::{LiveEvent, use_live};
use crate::range::{Preset, RangeQuery, Window};
use crate::reading::{Series, merge_live};
use crate::sensor::Kind;
use crate::time::Zone;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the temperature view shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Climate {
    /// The house's time zone over the range.
    pub zone: Zone,
    /// The range shown.
    pub window: Window,
    /// Temperature sensors' histories.
    pub temperature: Vec<Series>,
    /// Humidity sensors' histories.
    pub humidity: Vec<Series>,
    /// Today's lowest and highest value per sensor id.
    pub today: Vec<(i64, f64, f64)>,
    /// When today started and ends, Unix ms.
    pub today_ms: (i64, i64),
}

/// The temperature view's data for `range`.
#[server]
pub async fn load_climate(#[server(default)] range: RangeQuery) -> Result<Climate, ServerFnError> {
    use crate::reading::MAX_POINTS;
    use crate::reading::ssr::{extremes, history_in};
    let (db, house) = (crate::store::Db::from_context()?, crate::time::ssr::HouseZone::from_context());
    let now = jiff::Timestamp::now().as_millisecond();
    let window = crate::range::ssr::resolve(&range, Preset::Day, &house, now).map_err(|e| crate::account::ssr::fail(422, &e.to_string()))?;
    let failed = |e: sqlx::Error| {
        tracing::error!(error = %e, "climate query failed");
        ServerFnError::new("could not read the history")
    };
    let temperature = history_in(&db, Kind::Temperature, window.from_ms, window.to_ms, MAX_POINTS).await.map_err(failed)?;
    let humidity = history_in(&db, Kind::Humidity, window.from_ms, window.to_ms, MAX_POINTS).await.map_err(failed)?;
    let day = house.day_of(now);
    let mut today = Vec::new();
    for s in temperature.iter().chain(&humidity) {
        if let Some((lo, hi)) = extremes(&db, s.sensor.sensor_id, day.start_ms, day.end_ms).await.map_err(failed)? {
            today.push((s.sensor.sensor_id, lo, hi));
        }
    }
    Ok(Climate {
        zone: house.zone(window.from_ms.min(day.start_ms), window.to_ms.max(day.end_ms)),
        window,
        temperature,
        humidity,
        today,
        today_ms: (day.start_ms, day.end_ms),
    })
}

/// The temperature view.
#[component]
pub fn TemperaturePage() -> impl IntoView {
    let query = use_range_query();
    let data = Resource::new(move || query.get(), load_climate);
    // What the range buttons describe, set once the data is in (read inside the Suspense).
    let shown = RwSignal::new(None);
    view! {
        <ViewHead title="Temperature" default=Preset::Day shown=shown />
        <Suspense fallback=|| view! { <ClimatePlaceholder /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(climate) => {
                        shown.set(Some((climate.window, climate.zone.clone())));
                        view! { <LiveClimate climate=climate refetch=move || data.refetch() /> }.into_any()
                    }
                    Err(e) => view! { <p class="error">"Could not load the history: " {e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ClimatePlaceholder() -> impl IntoView {
    view! {
        <section class="panel"><div class="chart placeholder"></div></section>
        <section class="panel"><div class="chart placeholder"></div></section>
    }
}

/// The charts and numbers, kept current by the live stream.
#[component]
fn LiveClimate(climate: Climate, refetch: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let Climate { zone, window, temperature, humidity, today, today_ms } = climate;
    let zone = RwSignal::new(zone);
    let window = RwSignal::new(window);
    let temperature = RwSignal::new(temperature);
    let humidity = RwSignal::new(humidity);
    let today = RwSignal::new(today);
    let zoom = use_zoom();
    use_live(move |event| match event {
        LiveEvent::Reading(reading, at_ms) => {
            let at_ms = *at_ms;
            if at_ms >= today_ms.1 {
                return refetch();
            }
            let target = match reading.kind {
                Kind::Temperature => temperature,
                Kind::Humidity => humidity,
                _ => return,
            };
            let w = window.get_untracked();
            if w.is_live(now_ms()) && at_ms >= w.from_ms {
                let keep_from = w.at(now_ms()).from_ms;
                target.update(|all| merge_live(all, reading, at_ms, keep_from));
            }
            if at_ms >= today_ms.0 {
                today.update(|t| match t.iter_mut().find(|(id, _, _)| *id == reading.sensor_id) {
                    Some((_, lo, hi)) => {
                        *lo = lo.min(reading.value);
                        *hi = hi.max(reading.value);
                    }
                    None => t.push((reading.sensor_id, reading.value, reading.value)),
                });
            }
        }
        LiveEvent::Resync => refetch(),
        LiveEvent::Alert(_) => {}
    });
    view! {
        <section class="panel">
            <h2>"Temperature by room"</h2>
            <Show
                when=move || temperature.with(|s| !s.is_empty())
                fallback=|| view! { <p class="empty">"No temperature sensor has reported yet. Readings appear here as soon as a device posts them."</p> }
            >
                <LineChart
                    series=temperature
                    window=window
                    zone=zone
                    axis=Axis { unit: "°C", decimals: 1, from_zero: false }
                    label="Temperature by room"
                    on_zoom=Some(zoom)
                />
            </Show>
            <Legend series=temperature today=today unit="°C" decimals=1 />
        </section>
        <section class="panel">
            <h2>"Humidity by room"</h2>
            <Show
                when=move || humidity.with(|s| !s.is_empty())
                fallback=|| view! { <p class="empty">"No humidity sensor has reported yet."</p> }
            >
                <LineChart
                    series=humidity
                    window=window
                    zone=zone
                    axis=Axis { unit: "%", decimals: 0, from_zero: false }
                    label="Relative humidity by room"
                    on_zoom=Some(zoom)
                />
            </Show>
            <Legend series=humidity today=today unit="%" decimals=0 />
        </section>
    }
}

/// Each line's colour, room, current value and today's range.
#[component]
fn Legend(series: RwSignal<Vec<Series>>, today: RwSignal<Vec<(i64, f64, f64)>>, unit: &'static str, decimals: usize) -> impl IntoView {
    let rows = move || {
        series.with(|all| all.iter().enumerate().map(|(i, s)| (i, s.sensor.sensor_id, s.sensor.label(), s.latest.map(|p| p.value))).collect::<Vec<_>>())
    };
    view! {
        <ul class="legend">
            <For each=rows key=|row| (row.0, row.1, row.3.map(f64::to_bits)) let:row>
                {
                    let (i, id, label, latest) = row;
                    let range = move || {
                        today.with(|t| t.iter().find(|(s, _, _)| *s == id).map(|(_, lo, hi)| format!("today {lo:.decimals$}–{hi:.decimals$} {unit}")))
                    };
                    view! {
                        <li data-sensor-id=id>
                            <span class="swatch" style:background=series_color(i)></span>
                            <span class="name">{label}</span>
                            <span class="value">{latest.map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$} {unit}"))}</span>
                            <span class="muted">{range}</span>
                        </li>
                    }
                }
            </For>
        </ul>
    }
}
