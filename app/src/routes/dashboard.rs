//! The dashboard at `/`: every temperature sensor's last 24 hours as a live chart, with the
//! latest value of each.

use crate::components::chart::{TimeChart, series_color};
use crate::live::{LiveStatus, merge_live, use_live_readings};
use crate::reading::{Series, history};
use crate::sensor::Kind;
use leptos::prelude::*;

const WINDOW_HOURS: u32 = 24;
const WINDOW_MS: i64 = WINDOW_HOURS as i64 * 3_600_000;

/// The dashboard page.
#[component]
pub fn Dashboard() -> impl IntoView {
    let history = Resource::new(|| (), |_| history(Kind::Temperature, WINDOW_HOURS));
    view! {
        <section class="panel">
            <div class="panel-head">
                <h1>"Temperature"</h1>
                <span class="muted">"Last 24 hours"</span>
            </div>
            <Suspense fallback=|| view! { <div class="chart placeholder"></div> }>
                {move || Suspend::new(async move {
                    match history.await {
                        Ok(series) => view! { <LiveTemperatures initial=series on_resync=move || history.refetch() /> }.into_any(),
                        Err(e) => view! { <p class="error">"Could not load the history: " {e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The chart and the latest values, kept current by the live stream.
#[component]
fn LiveTemperatures(initial: Vec<Series>, on_resync: impl Fn() + 'static) -> impl IntoView {
    let series = RwSignal::new(initial);
    let status = use_live_readings(
        move |reading, at_ms| {
            if reading.kind == Kind::Temperature {
                series.update(|all| merge_live(all, &reading, at_ms, WINDOW_MS));
            }
        },
        on_resync,
    );
    let sensors = move || {
        series.with(|all| {
            all.iter()
                .enumerate()
                .map(|(i, s)| (i, s.sensor.sensor_id, s.sensor.label(), s.latest))
                .collect::<Vec<_>>()
        })
    };
    // Times are shown in the browser's zone, so only once hydrated: the server's zone may differ.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <div class="live" data-live=move || status.get().as_str()>
            <span class="dot"></span>
            {move || if status.get() == LiveStatus::Open { "Live" } else { "Connecting…" }}
        </div>
        <Show
            when=move || series.with(|s| !s.is_empty())
            fallback=|| view! {
                <p class="empty">"No temperature sensor has reported yet. Readings appear here as soon as a device posts them."</p>
            }
        >
            <TimeChart series=series unit=Kind::Temperature.unit() window_ms=WINDOW_MS label="Temperature by room, last 24 hours" />
        </Show>
        <ul class="latest">
            <For each=sensors key=|(i, id, label, latest)| (*i, *id, label.clone(), latest.map(|p| (p.at_ms, p.value.to_bits()))) let:((i, id, label, latest))>
                <li data-sensor-id=id>
                    <span class="swatch" style:background=series_color(i)></span>
                    <span class="room">{label}</span>
                    <span class="value">{latest.map_or_else(|| "–".to_owned(), |p| format!("{:.1} °C", p.value))}</span>
                    <span class="at">{move || match latest {
                        Some(p) if hydrated.get() => format!("at {}", local_time(p.at_ms)),
                        _ => String::new(),
                    }}</span>
                </li>
            </For>
        </ul>
    }
}

/// `HH:MM` in the browser's time zone.
#[cfg(feature = "hydrate")]
fn local_time(at_ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

#[cfg(not(feature = "hydrate"))]
fn local_time(_at_ms: i64) -> String {
    String::new()
}
