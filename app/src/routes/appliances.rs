//! `/appliances`: each appliance's runs on a timeline over the chosen range, its hours of use
//! per local day, and a table of recent runs with their start, duration and energy.

use crate::components::bars::{Bar, BarChart};
use crate::components::live_page::{LivePage, ViewData, ViewLive};
use crate::components::plot::swatch_class;
use crate::components::range_picker::use_zoom;
use crate::components::timeline::{Lane, Span, Timeline};
use crate::format::run_length;
use crate::functions::appliances::{Appliances, load_appliances};
use hearth_core::range::{Preset, Window};
use hearth_core::sensor::Kind;
use hearth_core::time::{HOUR_MS, Zone, now_ms};
use hearth_core::usage::Run;
use leptos::prelude::*;

impl ViewData for Appliances {
    fn shown(&self) -> Option<(Window, Zone)> {
        Some((self.window, self.zone.clone()))
    }

    fn day_end_ms(&self) -> i64 {
        self.today_ms.1
    }
}

/// The appliances view.
#[component]
pub fn AppliancesPage() -> impl IntoView {
    view! {
        <LivePage title="Appliances" csv="switch,power,energy" default=Some(Preset::Week) load=load_appliances what="the appliances"
            placeholder=|| view! { <section class="panel"><div class="chart timeline placeholder"></div></section> }
            children=|data, live| view! { <LiveAppliances data=data live=live /> } />
    }
}

/// Applies a live switch reading to an appliance's runs: on opens a run, off closes the open
/// one. Returns whether a run ended (its energy is then worth refetching).
pub fn apply_switch(runs: &mut Vec<Run>, sensor_id: i64, on: bool, at_ms: i64) -> bool {
    let open = runs.last_mut().filter(|r| r.end_ms.is_none());
    match (on, open) {
        (true, None) => {
            runs.push(Run { sensor_id, start_ms: at_ms, end_ms: None, kwh: None });
            false
        }
        (false, Some(run)) if at_ms >= run.start_ms => {
            run.end_ms = Some(at_ms);
            true
        }
        _ => false,
    }
}

#[component]
fn LiveAppliances(data: Appliances, live: ViewLive) -> impl IntoView {
    let Appliances { zone, window, days, appliances, run_costs, .. } = data;
    let run_costs = StoredValue::new(run_costs);
    let run_cost = move |sensor_id: i64, start_ms: i64| {
        run_costs.with_value(|c| {
            let (currency, costs) = c.as_ref()?;
            let cost = costs.iter().find(|(key, _)| *key == (sensor_id, start_ms))?.1;
            Some(format!(" · {}", crate::format::money(currency, cost)))
        })
    };
    let zone = RwSignal::new(zone);
    let window = RwSignal::new(window);
    let appliances = RwSignal::new(appliances);
    let clock = RwSignal::new(now_ms());
    let zoom = use_zoom();
    let refetch_later = move || {
        // The paired power sensor's last readings of the run arrive around the switch-off.
        #[cfg(feature = "hydrate")]
        set_timeout(move || live.refetch(), std::time::Duration::from_secs(3));
    };
    live.on_readings(move |reading, at_ms| {
        clock.set(now_ms());
        if reading.kind != Kind::Switch {
            return;
        }
        let ended = appliances.try_update(|all| {
            all.iter_mut()
                .find(|a| a.sensor.sensor_id == reading.sensor_id)
                .map(|a| apply_switch(&mut a.runs, reading.sensor_id, reading.value > 0.5, at_ms))
        });
        match ended {
            Some(Some(true)) => refetch_later(),
            Some(None) => live.refetch(),
            _ => {}
        }
    });
    let lanes = Signal::derive(move || {
        appliances.with(|all| {
            all.iter()
                .map(|a| Lane {
                    name: a.sensor.title(),
                    spans: a.runs.iter().map(|r| Span { start_ms: r.start_ms, end_ms: r.end_ms, kwh: r.kwh }).collect(),
                })
                .collect::<Vec<_>>()
        })
    });
    let names = Signal::derive(move || appliances.with(|all| all.iter().map(|a| a.sensor.title()).collect::<Vec<_>>()));
    let bars = Signal::derive(move || {
        let now = clock.get();
        zone.with(|z| {
            appliances.with(|all| {
                let boundaries: Vec<i64> = days.iter().map(|d| d.0).chain(days.last().map(|d| d.1)).collect();
                let per_appliance: Vec<Vec<i64>> = all
                    .iter()
                    .map(|a| {
                        let spans: Vec<(i64, Option<i64>)> = a.runs.iter().map(|r| (r.start_ms, r.end_ms)).collect();
                        hearth_core::usage::on_ms_per_interval(&spans, &boundaries, now)
                    })
                    .collect();
                days.iter()
                    .enumerate()
                    .map(|(i, d)| Bar {
                        label: z.format(d.0, if days.len() > 10 { "%-d %b" } else { "%a %-d" }),
                        title: z.format(d.0, "%A %-d %B"),
                        values: per_appliance.iter().map(|ms| ms.get(i).map(|ms| *ms as f64 / HOUR_MS as f64)).collect(),
                        previous: None,
                    })
                    .collect::<Vec<_>>()
            })
        })
    });
    let only = RwSignal::new(None::<i64>);
    let recent = move || {
        let only = only.get();
        let mut runs: Vec<(usize, String, Run)> = appliances.with(|all| {
            all.iter()
                .enumerate()
                .filter(|(_, a)| only.is_none_or(|id| id == a.sensor.sensor_id))
                .flat_map(|(i, a)| a.runs.iter().map(move |r| (i, a.sensor.title(), *r)))
                .collect()
        });
        runs.sort_by_key(|(_, _, r)| std::cmp::Reverse(r.start_ms));
        runs.truncate(30);
        runs
    };
    let keyed_names = move || names.get().into_iter().enumerate().collect::<Vec<_>>();
    view! {
        <Show when=move || appliances.with(|a| !a.is_empty()) fallback=|| view! { <p class="empty">"No appliance (a switch sensor) has reported yet."</p> }>
            <section class="panel">
                <h2>"Runs"</h2>
                <Timeline lanes=lanes window=window zone=zone label="Appliance runs over time" on_zoom=Some(zoom) />
            </section>
            <section class="panel">
                <h2>"Hours of use per day"</h2>
                <BarChart bars=bars names=names unit="h" decimals=1 compare=Signal::derive(|| false) label="Hours each appliance was on, per day" />
                <ul class="key">
                    <For each=keyed_names key=|k| k.clone() let:k>
                        <li><span class=swatch_class(k.0)></span>{k.1}</li>
                    </For>
                </ul>
            </section>
            <section class="panel">
                <div class="panel-head">
                    <h2>"Recent runs"</h2>
                    <label class="filter">
                        "Show "
                        <select on:change=move |ev| only.set(event_target_value(&ev).parse().ok())>
                            <option value="">"every appliance"</option>
                            {move || appliances.with(|all| all.iter().map(|a| view! { <option value=a.sensor.sensor_id.to_string()>{a.sensor.title()}</option> }).collect_view())}
                        </select>
                    </label>
                </div>
                <div class="table-wrap">
                    <table data-testid="runs">
                        <thead><tr><th>"Appliance"</th><th>"Started"</th><th class="r">"Duration"</th><th class="r">"Energy"</th></tr></thead>
                        <tbody>
                            <For each=recent key=|(i, _, r)| (*i, r.start_ms, r.end_ms, r.kwh.map(f64::to_bits)) let:row>
                                {
                                    let (i, name, run) = row;
                                    view! {
                                        <tr>
                                            <td><span class=swatch_class(i)></span>" "{name}</td>
                                            <td>{move || zone.with(|z| z.format(run.start_ms, "%a %-d %b %H:%M"))}</td>
                                            <td class="r">{move || {
                                                let text = run_length(run.duration_ms(clock.get().max(run.start_ms)));
                                                if run.end_ms.is_none() { format!("{text}, still on") } else { text }
                                            }}</td>
                                            <td class="r">{run.kwh.map_or_else(|| "–".to_owned(), |k| format!("{k:.2} kWh"))}{run_cost(run.sensor_id, run.start_ms)}</td>
                                        </tr>
                                    }
                                }
                            </For>
                        </tbody>
                    </table>
                </div>
            </section>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_readings_open_and_close_runs() {
        let mut runs = Vec::new();
        assert!(!apply_switch(&mut runs, 3, true, 100));
        assert!(!apply_switch(&mut runs, 3, true, 150), "a repeated on is no new run");
        assert!(apply_switch(&mut runs, 3, false, 400));
        assert!(!apply_switch(&mut runs, 3, false, 500), "a repeated off ends nothing");
        assert_eq!(runs, [Run { sensor_id: 3, start_ms: 100, end_ms: Some(400), kwh: None }]);
    }
}
