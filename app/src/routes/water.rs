//! `/water`: litres per local day over the chosen range (with the previous period beside
//! it on request) and, with a tariff, each day's cost; the flow over time, and today's total;
//! all of it live but the costs.

use crate::components::bars::{BarChart, day_bars};
use crate::components::chart::{Axis, LineChart};
use crate::components::cost_days::{CostColumn, CostDays};
use crate::components::live_page::{LivePage, ViewData, ViewLive};
use crate::components::plot::swatch_class;
use crate::components::range_picker::use_zoom;
use crate::functions::water::{Water, load_water};
use hearth_core::consumption::add_to_days;
use hearth_core::range::{Preset, Window};
use hearth_core::reading::merge_live;
use hearth_core::sensor::Kind;
use hearth_core::time::{Zone, now_ms};
use leptos::prelude::*;

impl ViewData for Water {
    fn shown(&self) -> Option<(Window, Zone)> {
        Some((self.window, self.zone.clone()))
    }

    fn day_end_ms(&self) -> i64 {
        self.today_ms.1
    }
}

/// The water view.
#[component]
pub fn WaterPage() -> impl IntoView {
    view! {
        <LivePage title="Water" csv="water,flow" default=Some(Preset::Week) load=load_water what="the water history"
            placeholder=|| view! { <section class="panel"><div class="chart placeholder"></div></section> }
            children=|data, live| view! { <LiveWater data=data live=live /> } />
    }
}

#[component]
fn LiveWater(data: Water, live: ViewLive) -> impl IntoView {
    let Water { zone, window, today_ms, flow, daily, today, costs } = data;
    let cost_zone = zone.clone();
    let zone = RwSignal::new(zone);
    let window = RwSignal::new(window);
    let flow = RwSignal::new(flow);
    let meters = daily.meters.clone();
    let days = RwSignal::new(daily.days);
    let today = RwSignal::new(today);
    let (currency, cost_days, today_costs) = costs.map_or((None, Vec::new(), None), |c| (Some(c.currency), c.days, Some(c.today)));
    let cost_days = RwSignal::new(cost_days);
    let today_costs = StoredValue::new(today_costs);
    let compare = RwSignal::new(false);
    let last: StoredValue<Vec<(i64, f64)>> = StoredValue::new(today.get_untracked().iter().filter_map(|c| c.last.map(|v| (c.sensor_id, v))).collect());
    let zoom = use_zoom();
    live.on_readings(move |reading, at_ms| match reading.kind {
        Kind::Flow => {
            let w = window.get_untracked();
            if w.is_live(now_ms()) && at_ms >= w.from_ms {
                let keep_from = w.at(now_ms()).from_ms;
                flow.update(|all| merge_live(all, reading, at_ms, keep_from));
            }
        }
        Kind::Water if meters.contains(&reading.sensor_id) => {
            last.update_value(|l| days.update(|d| add_to_days(d, l, reading.sensor_id, reading.value, at_ms)));
            if at_ms >= today_ms.0 {
                let mut rise = 0.0;
                today.update(|t| {
                    t.iter_mut().filter(|c| c.sensor_id == reading.sensor_id).for_each(|c| {
                        let before = c.today;
                        c.add(reading.value);
                        rise += c.today - before;
                    })
                });
                if rise != 0.0 {
                    today_costs.update_value(|t| {
                        if let Some(t) = t {
                            t.add_water(at_ms, rise);
                            zone.with_untracked(|z| cost_days.update(|d| t.reprice(z, d)));
                        }
                    });
                }
            }
        }
        _ => {}
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
                <h2>"Today"</h2>
                <div class="big">{move || litres_today().map_or_else(|| "–".to_owned(), |l| format!("{l:.0}"))}<small>"L"</small></div>
                <div class="sub">"since midnight"</div>
            </div>
            <div class="card" data-testid="flow-now">
                <h2>"Flowing now"</h2>
                <div class="big">{move || flow_now().map_or_else(|| "–".to_owned(), |f| format!("{f:.1}"))}<small>"L/min"</small></div>
                <div class="sub">{move || if flow_now().is_some_and(|f| f > 0.0) { "water is running" } else { "" }}</div>
            </div>
            <div class="card">
                <h2>"This period"</h2>
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
                <span><span class=swatch_class(1)></span>{move || format!("This period: {:.0} L", total())}</span>
                <Show when=move || compare.get()>
                    <span><span class="swatch previous"></span>{move || format!("Previous period: {:.0} L", previous_total())}</span>
                </Show>
            </div>
        </section>
        {currency.map(|currency| view! {
            <CostDays currency=currency days=cost_days zone=cost_zone used=|d| d.water_l unit="L" decimals=0 testid="water-costs"
                columns=vec![CostColumn { title: "Water", key: "water", of: |d| d.water_cost }]
                note="Water by the cubic metre; its standing charge is in each day's total on Electricity." />
        })}
        <section class="panel">
            <h2>"Flow"</h2>
            <Show when=move || flow.with(|f| !f.is_empty()) fallback=|| view! { <p class="empty">"No flow sensor has reported yet."</p> }>
                <LineChart series=flow window=window zone=zone axis=Axis { unit: "L/min", decimals: 1, from_zero: true } label="Water flow" on_zoom=Some(zoom) first_color=1 />
            </Show>
        </section>
    }
}
