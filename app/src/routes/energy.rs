//! `/energy`: the power drawn over the chosen range, kWh per local day (with the previous
//! period beside it on request), and today's use per device with what the devices don't
//! account for ("untracked": the house meter minus the devices).

use crate::components::bars::{BarChart, PREVIOUS_COLOR, day_bars};
use crate::components::chart::{Axis, LineChart};
use crate::components::cost_days::{CostColumn, CostDays};
use crate::components::flows::FlowPicture;
use crate::components::live_page::{LivePage, ViewData, ViewLive};
use crate::components::plot::{series_color, swatch_class};
use crate::components::range_picker::use_zoom;
use crate::format::{money, watts};
use crate::functions::electricity::{Electricity, load_electricity};
use hearth_core::consumption::add_to_days;
use hearth_core::energy::Metered;
use hearth_core::range::{Preset, Window};
use hearth_core::reading::merge_live;
use hearth_core::sensor::Kind;
use hearth_core::time::{Zone, now_ms};
use leptos::prelude::*;

impl ViewData for Electricity {
    fn shown(&self) -> Option<(Window, Zone)> {
        Some((self.window, self.zone.clone()))
    }

    fn day_end_ms(&self) -> i64 {
        self.today_ms.1
    }
}

/// The electricity view.
#[component]
pub fn EnergyPage() -> impl IntoView {
    view! {
        <LivePage title="Electricity" csv="power,energy" default=Some(Preset::Day) load=load_electricity what="the electricity history"
            placeholder=|| view! { <section class="panel"><div class="chart placeholder"></div></section> }
            children=|data, live| view! { <LiveElectricity data=data live=live /> } />
    }
}

#[component]
fn LiveElectricity(data: Electricity, live: ViewLive) -> impl IntoView {
    let Electricity { zone, window, today_ms, power, daily, house, parts, costs, flows, power_roles } = data;
    let power_roles = RwSignal::new(power_roles);
    let flows_now = Signal::derive(move || {
        power_roles.with(|roles| {
            let mut m = Metered::default();
            for (_, role, value) in roles {
                if let Some(v) = value {
                    m.add_signed(*role, *v);
                }
            }
            m.balance().flows()
        })
    });
    let has_roles = !power_roles.with_untracked(Vec::is_empty) || flows != Default::default();
    let flows_days = Signal::stored(flows);
    let costs = RwSignal::new(costs);
    let zone = RwSignal::new(zone);
    let window = RwSignal::new(window);
    let power = RwSignal::new(power);
    let meters = daily.meters.clone();
    let days = RwSignal::new(daily.days);
    let house = RwSignal::new(house);
    let parts = RwSignal::new(parts);
    let compare = RwSignal::new(false);
    let last: StoredValue<Vec<(i64, f64)>> = StoredValue::new(Vec::new());
    // Seed each meter's newest value from today's counters, so the first live reading adds its rise.
    last.update_value(|l| l.extend(house.get_untracked().iter().chain(parts.get_untracked().iter().map(|p| &p.counter)).filter_map(|c| c.last.map(|v| (c.sensor_id, v)))));
    let zoom = use_zoom();
    live.on_readings(move |reading, at_ms| match reading.kind {
        Kind::Power => {
            if power_roles.with_untracked(|r| r.iter().any(|(id, _, _)| *id == reading.sensor_id)) {
                power_roles.update(|r| r.iter_mut().filter(|(id, _, _)| *id == reading.sensor_id).for_each(|r| r.2 = Some(reading.value)));
            }
            let w = window.get_untracked();
            if w.is_live(now_ms()) && at_ms >= w.from_ms {
                let keep_from = w.at(now_ms()).from_ms;
                power.update(|all| merge_live(all, reading, at_ms, keep_from));
            }
        }
        Kind::Energy => {
            if meters.contains(&reading.sensor_id) {
                last.update_value(|l| days.update(|d| add_to_days(d, l, reading.sensor_id, reading.value, at_ms)));
            }
            if at_ms >= today_ms.0 {
                let id = reading.sensor_id;
                // What each counter rose by, for the costs: priced at its instant by today's tariff.
                let mut house_rise = 0.0;
                let mut part_rise = 0.0;
                house.update(|h| {
                    h.iter_mut().filter(|c| c.sensor_id == id).for_each(|c| {
                        let before = c.today;
                        c.add(reading.value);
                        house_rise += c.today - before;
                    })
                });
                parts.update(|p| {
                    p.iter_mut().filter(|p| p.counter.sensor_id == id).for_each(|p| {
                        let before = p.counter.today;
                        p.counter.add(reading.value);
                        part_rise += p.counter.today - before;
                    });
                    p.sort_by(|a, b| b.counter.today.total_cmp(&a.counter.today));
                });
                costs.update(|c| {
                    let Some(c) = c else { return };
                    zone.with_untracked(|z| {
                        // A counter with an energy role moves today's row of the cost table.
                        if let Some((_, role, last)) = c.counters.iter_mut().find(|(counter, _, _)| *counter == id) {
                            let rise = last.map_or(0.0, |before| (reading.value - before).max(0.0));
                            *last = Some(reading.value);
                            if rise != 0.0 {
                                c.today.add(*role, at_ms, rise);
                                c.today.reprice(z, &mut c.days);
                            }
                        }
                        c.pricing.charge(&mut c.consumption, z, at_ms, house_rise);
                        for (_, cost) in c.devices.iter_mut().filter(|(d, _)| *d == id) {
                            c.pricing.charge(cost, z, at_ms, part_rise);
                        }
                    });
                });
            }
        }
        Kind::Price => costs.update(|c| {
            if let Some(c) = c {
                c.pricing.read_price(reading.sensor_id, at_ms, reading.value);
            }
        }),
        _ => {}
    });
    let bars = Signal::derive(move || zone.with(|z| days.with(|d| day_bars(z, d))));
    let names = Signal::derive(|| vec!["Electricity".to_owned()]);
    let total = move || days.with(|d| d.iter().filter_map(|d| d.value).sum::<f64>());
    let previous_total = move || days.with(|d| d.iter().filter_map(|d| d.previous).sum::<f64>());
    let house_today = move || house.with(|h| (!h.is_empty()).then(|| h.iter().map(|c| c.today).sum::<f64>()));
    let tracked = move || parts.with(|p| p.iter().map(|p| p.counter.today).sum::<f64>());
    let untracked = move || house_today().map(|h| (h - tracked()).max(0.0));
    let scale = move || house_today().unwrap_or_else(tracked).max(parts.with(|p| p.first().map_or(0.0, |p| p.counter.today))).max(1e-9);
    // A device's bar has the colour of its line in the power chart.
    let ranked = move || {
        let titles: Vec<String> = power.with(|p| p.iter().map(|s| s.sensor.title()).collect());
        parts.get().into_iter().enumerate().map(|(i, p)| (titles.iter().position(|t| *t == p.name).unwrap_or(titles.len() + i), p)).collect::<Vec<_>>()
    };
    let has_currency = costs.with_untracked(Option::is_some);
    let device_cost = move |sensor_id: i64| {
        costs.with(|c| {
            let c = c.as_ref()?;
            let cost = c.devices.iter().find(|(id, _)| *id == sensor_id)?.1?;
            Some(format!(" · {}", money(&c.currency, cost)))
        })
    };
    let untracked_cost = move || {
        costs.with(|c| {
            let c = c.as_ref()?;
            let devices: f64 = c.devices.iter().filter_map(|d| d.1).sum();
            Some(format!(" · {}", money(&c.currency, (c.consumption? - devices).max(0.0))))
        })
    };
    let currency = costs.with_untracked(|c| c.as_ref().map(|c| c.currency.clone()));
    // A memo: a reading that changes only the devices' costs leaves the table as it is.
    let cost_days = Memo::new(move |_| costs.with(|c| c.as_ref().map(|c| c.days.clone()).unwrap_or_default()));
    let power_key = move || power.with(|p| p.iter().enumerate().map(|(i, s)| (i, s.sensor.title())).collect::<Vec<_>>());
    let now_w = move || power.with(|p| p.first().filter(|s| s.sensor.main).and_then(|s| s.latest).map(|l| l.value));
    view! {
        <section class="panel">
            <div class="panel-head">
                <h2>"Power"</h2>
                <span class="muted" data-testid="power-now">{move || now_w().map(|w| format!("now {}", watts(w)))}</span>
            </div>
            <Show when=move || power.with(|p| !p.is_empty()) fallback=|| view! { <p class="empty">"No power sensor has reported yet."</p> }>
                <LineChart series=power window=window zone=zone axis=Axis { unit: "W", decimals: 0, from_zero: true } label="Power drawn, by meter" on_zoom=Some(zoom) />
            </Show>
            <ul class="key">
                <For each=power_key key=|k| k.clone() let:k>
                    <li><span class=swatch_class(k.0)></span>{k.1}</li>
                </For>
            </ul>
        </section>
        <div class="grid-2">
            <section class="panel">
                <div class="panel-head">
                    <h2>"kWh per day"</h2>
                    <label class="toggle"><input type="checkbox" on:change=move |ev| compare.set(event_target_checked(&ev)) />"Compare with previous period"</label>
                </div>
                <BarChart bars=bars names=names unit="kWh" decimals=2 compare=compare label="Electricity used per day" wide_width=747.0 />
                <div class="key">
                    <span><span class=swatch_class(0)></span>{move || format!("This period: {:.1} kWh", total())}</span>
                    <Show when=move || compare.get()>
                        <span><span class="swatch previous"></span>{move || format!("Previous period: {:.1} kWh", previous_total())}</span>
                    </Show>
                </div>
            </section>
            <section class="panel" data-testid="breakdown">
                <div class="panel-head">
                    <h2>"Today by device"</h2>
                    <span class="muted">{move || house_today().map(|h| format!("{h:.2} kWh in all"))}</span>
                </div>
                <Show when=move || parts.with(|p| !p.is_empty()) || house_today().is_some() fallback=|| view! { <p class="empty">"No electricity counter has reported yet."</p> }>
                    <ul class="breakdown">
                        <For each=ranked key=|(i, p)| (*i, p.name.clone(), p.counter.today.to_bits()) let:item>
                            <li data-part=item.1.name.clone()>
                                <div class="row"><span>{item.1.name.clone()}</span><span class="num">{format!("{:.2} kWh", item.1.counter.today)}{move || device_cost(item.1.counter.sensor_id)}</span></div>
                                <div class="track"><div class="fill" style:width=move || format!("{:.1}%", item.1.counter.today / scale() * 100.0) style:background=series_color(item.0)></div></div>
                            </li>
                        </For>
                        <Show when=move || untracked().is_some()>
                            <li data-part="Untracked">
                                <div class="row"><span>"Untracked"</span><span class="num">{move || format!("{:.2} kWh", untracked().unwrap_or(0.0))}{untracked_cost}</span></div>
                                <div class="track"><div class="fill" style:width=move || format!("{:.1}%", untracked().unwrap_or(0.0) / scale() * 100.0) style:background=PREVIOUS_COLOR></div></div>
                            </li>
                        </Show>
                    </ul>
                    <p class="muted">"Untracked is what the house meter counted beyond the devices' own meters."{has_currency.then_some(" Costs are at the import price of the moment they were used.")}</p>
                </Show>
            </section>
        </div>
        <div class="grid-2">
            {currency.map(|currency| view! {
                <CostDays currency=currency days=Signal::from(cost_days) zone=zone.get_untracked() used=|d| d.consumption_kwh unit="kWh" decimals=2 testid="costs"
                    columns=vec![
                        CostColumn { title: "Electricity", key: "import", of: |d| d.import_cost },
                        CostColumn { title: "All", key: "total", of: |d| d.total },
                    ] />
            })}
            {has_roles.then(|| view! {
                <section class="panel" data-testid="flows">
                    <div class="panel-head"><h2>"Where the energy came from"</h2></div>
                    <div class="flow-pair">
                        <div>
                            <h3 class="muted">"Days shown"</h3>
                            <FlowPicture flows=flows_days amount=|k| format!("{k:.1} kWh") label="Energy flows over the days shown" />
                            <p class="muted" data-testid="self-sufficiency">{flows_days.get_untracked().self_sufficiency().map(|s| format!("Self-sufficiency {:.0} %, solar used at home {:.1} kWh", s * 100.0, flows_days.get_untracked().self_consumption()))}</p>
                        </div>
                        <div data-testid="flows-now">
                            <h3 class="muted">"Now"</h3>
                            <FlowPicture flows=flows_now amount=watts label="Power flows now" />
                        </div>
                    </div>
                </section>
            })}
        </div>
    }
}
