//! `/temperature`: a line per room over the chosen range (a min–max band where a point stands
//! for many readings), each room's current value, today's minimum and maximum and its CO2 now
//! (worded as the Overview words it), and the rooms' humidity below; all of it live.

use crate::components::air::Co2Note;
use crate::components::chart::{Axis, LineChart};
use crate::components::live_page::{LivePage, ViewData, ViewLive};
use crate::components::plot::swatch_class;
use crate::components::range_picker::use_zoom;
use crate::functions::climate::{Climate, load_climate};
use hearth_core::range::{Preset, Window};
use hearth_core::reading::{Series, merge_live};
use hearth_core::sensor::Kind;
use hearth_core::time::{Zone, now_ms};
use leptos::prelude::*;

impl ViewData for Climate {
    fn shown(&self) -> Option<(Window, Zone)> {
        Some((self.window, self.zone.clone()))
    }

    fn day_end_ms(&self) -> i64 {
        self.today_ms.1
    }
}

/// The temperature view.
#[component]
pub fn TemperaturePage() -> impl IntoView {
    view! {
        <LivePage title="Temperature" csv="temperature,humidity" default=Some(Preset::Day) load=load_climate what="the history" placeholder=ClimatePlaceholder
            children=|climate, live| view! { <LiveClimate climate=climate live=live /> } />
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
fn LiveClimate(climate: Climate, live: ViewLive) -> impl IntoView {
    let Climate { zone, window, temperature, humidity, today, today_ms, co2 } = climate;
    let co2 = RwSignal::new(co2);
    let zone = RwSignal::new(zone);
    let window = RwSignal::new(window);
    let temperature = RwSignal::new(temperature);
    let humidity = RwSignal::new(humidity);
    let today = RwSignal::new(today);
    let zoom = use_zoom();
    live.on_readings(move |reading, at_ms| {
        let target = match reading.kind {
            Kind::Temperature => temperature,
            Kind::Humidity => humidity,
            Kind::Co2 => {
                let known = co2.try_update(|c| c.iter_mut().find(|(id, _, _)| *id == reading.sensor_id).map(|c| c.2 = Some(reading.value)).is_some());
                if known == Some(false) && reading.sensor().room.is_some() {
                    live.refetch();
                }
                return;
            }
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
            <Legend series=temperature today=today unit="°C" decimals=1 co2=co2 />
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
fn Legend(
    series: RwSignal<Vec<Series>>,
    today: RwSignal<Vec<(i64, f64, f64)>>,
    unit: &'static str,
    decimals: usize,
    /// Each room's CO2 (sensor id, room, value), shown beside its temperature.
    #[prop(optional)]
    co2: Option<RwSignal<Vec<(i64, String, Option<f64>)>>>,
) -> impl IntoView {
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
                    let room = label.clone();
                    let air = move || {
                        let ppm = co2?.with(|c| c.iter().find(|(_, r, _)| *r == room).and_then(|c| c.2))?;
                        Some(view! { <Co2Note ppm=ppm /> })
                    };
                    view! {
                        <li data-sensor-id=id>
                            <span class=swatch_class(i)></span>
                            <span class="name">{label}</span>
                            <span class="value">{latest.map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$} {unit}"))}</span>
                            <span class="muted">{range}</span>
                            {air}
                        </li>
                    }
                }
            </For>
        </ul>
    }
}
