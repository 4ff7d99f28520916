//! `/water`: litres per local day over the chosen range (with the previous period beside
//! it on request), the flow over time, and today's total; all of it live.

use crate::components::bars::{BarChart, PREVIOUS_COLOR};
use crate::components::chart::{Axis, LineChart, now_ms};
use crate::components::plot::series_color;
use crate::components::range_picker::{ViewHead, use_range_query, use_zoom};
use crate::live::{LiveEvent, use_live};
use crate::range::{Preset, RangeQuery, Window};
use crate::reading::{Series, merge_live};
use crate::routes::energy::{Daily, add_to_days, day_bars};
use crate::routes::overview::CounterToday;
use crate::sensor::Kind;
use crate::time::Zone;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the water view shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Water {
    /// The house's time zone.
    pub zone: Zone,
    /// The range shown.
    pub window: Window,
    /// Today's bounds, Unix ms.
    pub today_ms: (i64, i64),
    /// Flow sensors' histories.
    pub flow: Vec<Series>,
    /// Litres per day.
    pub daily: Daily,
    /// The water meters' counters today.
    pub today: Vec<CounterToday>,
}

/// The water view's data for `range` (7 days by default).
#[server]
pub async fn load_water(#[server(default)] range: RangeQuery) -> Result<Water, ServerFnError> {
    use crate::reading::MAX_POINTS;
    use crate::reading::ssr::history_in;
    use crate::routes::energy::ssr;
    let (db, house) = (crate::store::Db::from_context()?, crate::time::ssr::HouseZone::from_context());
    let now = jiff::Timestamp::now().as_millisecond();
    let window = crate::range::ssr::resolve(&range, Preset::Week, &house, now).map_err(|e| crate::account::ssr::fail(422, &e.to_string()))?;
    let failed = |e: sqlx::Error| {
        tracing::error!(error = %e, "water query failed");
        ServerFnError::new("could not read the water history")
    };
    let sensors = crate::sensor::ssr::list_all(&db).await.map_err(failed)?;
    let flow = history_in(&db, Kind::Flow, window.from_ms, window.to_ms, MAX_POINTS).await.map_err(failed)?;
    let meters = ssr::meters(&sensors, Kind::Water);
    let days = ssr::bar_days(&house, &window, now);
    let daily = ssr::daily(&db, &house, &meters, &days).await.map_err(failed)?;
    let day = house.day_of(now);
    let today = ssr::today(&db, &meters, day.start_ms, now).await.map_err(failed)?;
    Ok(Water {
        zone: house.zone(window.from_ms.min(day.start_ms) - 31 * crate::time::DAY_MS, window.to_ms.max(day.end_ms)),
        window,
        today_ms: (day.start_ms, day.end_ms),
        flow,
        daily,
        today,
    })
}

/// The water view.
#[component]
pub fn WaterPage() -> impl IntoView {
    let query = use_range_query();
    let data = Resource::new(move || query.get(), load_water);
    // What the range buttons describe, set once the data is in (read inside the Suspense).
    let shown = RwSignal::new(None);
    view! {
        <ViewHead title="Water" default=Preset::Week shown=shown />
        <Suspense fallback=|| view! { <section class="panel"><div class="chart placeholder"></div></section> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(w) => {
                        shown.set(Some((w.window, w.zone.clone())));
                        view! { <LiveWater data=w refetch=move || data.refetch() /> }.into_any()
                    }
                    Err(e) => view! { <p class="error">"Could not load the water history: " {e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn LiveWater(data: Water, refetch: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let Water { zone, window, today_ms, flow, daily, today } = data;
    let zone = RwSignal::new(zone);
    let window = RwSignal::new(window);
    let flow = RwSignal::new(flow);
    let meters = daily.meters.clone();
    let days = RwSignal::new(daily.days);
    let today = RwSignal::new(today);
    let compare = RwSignal::new(false);
    let last: StoredValue<Vec<(i64, f64)>> = StoredValue::new(today.get_untracked().iter().filter_map(|c| c.last.map(|v| (c.sensor_id, v))).collect());
    let zoom = use_zoom();
    use_live(move |event| {
        let (reading, at_ms) = match event {
            LiveEvent::Reading(reading, at_ms) => (reading, at_ms),
            LiveEvent::Resync => return refetch(),
            LiveEvent::Alert(_) => return,
        };
        let at_ms = *at_ms;
        match reading.kind {
            Kind::Flow => {
                let w = window.get_untracked();
                if w.is_live(now_ms()) && at_ms >= w.from_ms {
                    let keep_from = w.at(now_ms()).from_ms;
                    flow.update(|all| merge_live(all, reading, at_ms, keep_from));
                }
            }
            Kind::Water if meters.contains(&reading.sensor_id) => {
                if at_ms >= today_ms.1 {
                    return refetch();
                }
                last.update_value(|l| days.update(|d| add_to_days(d, l, reading.sensor_id, reading.value, at_ms)));
                if at_ms >= today_ms.0 {
                    today.update(|t| t.iter_mut().filter(|c| c.sensor_id == reading.sensor_id).for_each(|c| c.add(reading.value)));
                }
            }
            _ => {}
        }
    });
    let bars = Signal::derive(move || zone.with(|z| days.with(|d| day_bars(z, d))));
    let names = Signal::derive(|| vec!["Water".to_owned()]);
    let total = move || days.with(|d| d.iter().filter_map(|d| d.value).sum::<f64>());
    let previous_total = move || days.with(|d| d.iter().filter_map(|d| d.previous).sum::<f64>());
    let litres_today = move || today.with(|t| (!t.is_empty()).then(|| t.iter().map(|c| c.today).sum::<f64>()));
    let flow_now = move || flow.with(|f| f.iter().filter_map(|s| s.latest.map(|p| p.value)).reduce(|a, b| a + b));
    view! {
        <div class="cards">
            <div class="card" data-testid="water-today">
                <h3>"Today"</h3>
                <div class="big">{move || litres_today().map_or_else(|| "–".to_owned(), |l| format!("{l:.0}"))}<small>"L"</small></div>
                <div class="sub">"since midnight"</div>
            </div>
            <div class="card" data-testid="flow-now">
                <h3>"Flowing now"</h3>
                <div class="big">{move || flow_now().map_or_else(|| "–".to_owned(), |f| format!("{f:.1}"))}<small>"L/min"</small></div>
                <div class="sub">{move || if flow_now().is_some_and(|f| f > 0.0) { "water is running" } else { "" }}</div>
            </div>
            <div class="card">
                <h3>"This period"</h3>
                <div class="big">{move || format!("{:.0}", total())}<small>"L"</small></div>
                <div class="sub">{move || days.with(|d| if d.is_empty() { String::new() } else { format!("{:.0} L a day on average", total() / d.len() as f64) })}</div>
            </div>
        </div>
        <section class="panel">
            <div class="panel-head">
                <h2>"Litres per day"</h2>
                <label class="toggle"><input type="checkbox" on:change=move |ev| compare.set(event_target_checked(&ev)) />"Compare with previous period"</label>
            </div>
            <BarChart bars=bars names=names unit="L" decimals=0 compare=compare first_color=1 label="Water used per day" />
            <div class="key">
                <span><span class="swatch" style:background=series_color(1)></span>{move || format!("This period: {:.0} L", total())}</span>
                <Show when=move || compare.get()>
                    <span><span class="swatch" style:background=PREVIOUS_COLOR></span>{move || format!("Previous period: {:.0} L", previous_total())}</span>
                </Show>
            </div>
        </section>
        <section class="panel">
            <h2>"Flow"</h2>
            <Show when=move || flow.with(|f| !f.is_empty()) fallback=|| view! { <p class="empty">"No flow sensor has reported yet."</p> }>
                <LineChart series=flow window=window zone=zone axis=Axis { unit: "L/min", decimals: 1, from_zero: true } label="Water flow" on_zoom=Some(zoom) first_color=1 />
            </Show>
        </section>
    }
}
