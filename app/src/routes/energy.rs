//! `/energy`: the power drawn over the chosen range, kWh per local day (with the previous
//! period beside it on request), and today's use per device with what the devices don't
//! account for ("untracked": the house meter minus the devices).

use crate::components::bars::{Bar, BarChart, PREVIOUS_COLOR};
use crate::components::chart::{Axis, LineChart, now_ms};
use crate::components::plot::series_color;
use crate::components::range_picker::{ViewHead, use_range_query, use_zoom};
use crate::live::{LiveEvent, use_live};
use crate::range::{Preset, RangeQuery, Window};
use crate::reading::{Series, merge_live};
use crate::routes::overview::{CounterToday, watts};
use crate::sensor::Kind;
use crate::time::Zone;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A local day of a daily chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayTotal {
    /// Its first instant, Unix ms.
    pub start_ms: i64,
    /// The next day's first instant.
    pub end_ms: i64,
    /// The consumption that day, `None` before the first reading.
    pub value: Option<f64>,
    /// The consumption on the day at the same position of the previous period.
    pub previous: Option<f64>,
}

/// One device's part of today's use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// What it is called.
    pub name: String,
    /// Its counter today, kept current by live readings.
    pub counter: CounterToday,
}

/// A meter's daily totals for a range: the counters summed (the main meters, else every
/// counter of the kind), per local day, with the previous period's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Daily {
    /// The counters summed.
    pub meters: Vec<i64>,
    /// The days of the range.
    pub days: Vec<DayTotal>,
}

/// What the electricity view shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Electricity {
    /// The house's time zone.
    pub zone: Zone,
    /// The range shown.
    pub window: Window,
    /// Today's bounds, Unix ms.
    pub today_ms: (i64, i64),
    /// Power sensors' histories, the house meter first.
    pub power: Vec<Series>,
    /// kWh per day.
    pub daily: Daily,
    /// The house meters' counters today (their sum is the house's use).
    pub house: Vec<CounterToday>,
    /// Every other electricity counter today, largest first.
    pub parts: Vec<Part>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    //! Daily totals of counters, shared by the electricity and water views.

    use super::{DayTotal, Daily, Part};
    use crate::routes::overview::CounterToday;
    use crate::sensor::Kind;
    use crate::sensor::ssr::Listed;
    use crate::store::Db;
    use crate::time::ssr::{Day, HouseZone};

    /// The counters of `kind` among `sensors` that measure the whole house: the main meters,
    /// or every counter when none is marked main.
    pub fn meters(sensors: &[Listed], kind: Kind) -> Vec<&Listed> {
        let all: Vec<&Listed> = sensors.iter().filter(|l| l.sensor.kind == kind).collect();
        if all.iter().any(|l| l.sensor.main) { all.into_iter().filter(|l| l.sensor.main).collect() } else { all }
    }

    /// The local days of daily bars for `window`: its days, and at least the last 7.
    pub fn bar_days(house: &HouseZone, window: &crate::range::Window, now_ms: i64) -> Vec<Day> {
        let today = house.day_of(now_ms);
        let week_ago = today.date.checked_sub(jiff::Span::new().days(6)).map_or(today.start_ms, |d| house.day(d).start_ms);
        house.days(window.from_ms.min(week_ago), window.to_ms.min(now_ms + 1))
    }

    /// Daily totals of `meters` over `days`, with as many days before them.
    pub async fn daily(db: &Db, house: &HouseZone, meters: &[&Listed], days: &[Day]) -> Result<Daily, sqlx::Error> {
        let previous: Vec<Day> = match days.first() {
            Some(first) => match first.date.checked_sub(jiff::Span::new().days(days.len() as i64)) {
                Ok(date) => house.days(house.day(date).start_ms, first.start_ms),
                Err(_) => Vec::new(),
            },
            None => Vec::new(),
        };
        let mut values: Vec<Option<f64>> = vec![None; days.len()];
        let mut earlier: Vec<Option<f64>> = vec![None; previous.len()];
        for meter in meters {
            let first_at = first_reading(db, meter.sensor.sensor_id).await?;
            let add = |slot: &mut Option<f64>, day: &Day, v: f64| {
                if first_at.is_some_and(|f| f < day.end_ms) {
                    *slot = Some(slot.unwrap_or(0.0) + v);
                }
            };
            let per_day = crate::consumption::ssr::per_day(db, meter.sensor.sensor_id, house, days).await?;
            for ((slot, day), v) in values.iter_mut().zip(days).zip(per_day) {
                add(slot, day, v);
            }
            let per_day = crate::consumption::ssr::per_day(db, meter.sensor.sensor_id, house, &previous).await?;
            for ((slot, day), v) in earlier.iter_mut().zip(&previous).zip(per_day) {
                add(slot, day, v);
            }
        }
        // The previous period lines up with this one from its end, day by day.
        let offset = earlier.len() as i64 - days.len() as i64;
        let days = days
            .iter()
            .enumerate()
            .map(|(i, d)| DayTotal {
                start_ms: d.start_ms,
                end_ms: d.end_ms,
                value: values[i],
                previous: usize::try_from(i as i64 + offset).ok().and_then(|j| earlier.get(j).copied().flatten()),
            })
            .collect();
        Ok(Daily { meters: meters.iter().map(|m| m.sensor.sensor_id).collect(), days })
    }

    /// When a sensor's first reading was measured (from the hourly rollups, which outlive
    /// raw readings).
    async fn first_reading(db: &Db, sensor_id: i64) -> Result<Option<i64>, sqlx::Error> {
        const SQL: &str = "select min(first_at_ms) from rollup where sensor_id = $1 and tier_ms = 3600000";
        crate::store::with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(sensor_id).fetch_one(pool).await)
    }

    /// Each counter's consumption since `from_ms`, with its newest value.
    pub async fn today(db: &Db, counters: &[&Listed], from_ms: i64, now_ms: i64) -> Result<Vec<CounterToday>, sqlx::Error> {
        let mut out = Vec::with_capacity(counters.len());
        for c in counters {
            let today = crate::consumption::ssr::total(db, c.sensor.sensor_id, from_ms, now_ms + 1).await?;
            out.push(CounterToday { sensor_id: c.sensor.sensor_id, today, last: c.last_value });
        }
        Ok(out)
    }

    /// Today's parts: every counter of `kind` that is not a house meter, largest first.
    pub async fn parts(db: &Db, sensors: &[Listed], kind: Kind, from_ms: i64, now_ms: i64) -> Result<Vec<Part>, sqlx::Error> {
        let devices: Vec<&Listed> = sensors.iter().filter(|l| l.sensor.kind == kind && !l.sensor.main).collect();
        let counters = today(db, &devices, from_ms, now_ms).await?;
        let mut parts: Vec<Part> = devices.iter().zip(counters).map(|(l, counter)| Part { name: l.sensor.title(), counter }).collect();
        parts.sort_by(|a, b| b.counter.today.total_cmp(&a.counter.today));
        Ok(parts)
    }
}

/// The electricity view's data for `range`.
#[server]
pub async fn load_electricity(#[server(default)] range: RangeQuery) -> Result<Electricity, ServerFnError> {
    use crate::reading::MAX_POINTS;
    use crate::reading::ssr::history_in;
    let (db, house) = (crate::store::Db::from_context()?, crate::time::ssr::HouseZone::from_context());
    let now = jiff::Timestamp::now().as_millisecond();
    let window = crate::range::ssr::resolve(&range, Preset::Day, &house, now).map_err(|e| crate::account::ssr::fail(422, &e.to_string()))?;
    let failed = |e: sqlx::Error| {
        tracing::error!(error = %e, "electricity query failed");
        ServerFnError::new("could not read the electricity history")
    };
    let sensors = crate::sensor::ssr::list_all(&db).await.map_err(failed)?;
    let mut power = history_in(&db, Kind::Power, window.from_ms, window.to_ms, MAX_POINTS).await.map_err(failed)?;
    power.sort_by_key(|s| (!s.sensor.main, s.sensor.title()));
    let meters = ssr::meters(&sensors, Kind::Energy);
    let days = ssr::bar_days(&house, &window, now);
    let daily = ssr::daily(&db, &house, &meters, &days).await.map_err(failed)?;
    let today = house.day_of(now);
    let house_meters: Vec<_> = meters.iter().copied().filter(|m| m.sensor.main).collect();
    let house_today = ssr::today(&db, &house_meters, today.start_ms, now).await.map_err(failed)?;
    let parts = ssr::parts(&db, &sensors, Kind::Energy, today.start_ms, now).await.map_err(failed)?;
    Ok(Electricity {
        zone: house.zone(window.from_ms.min(today.start_ms) - 31 * crate::time::DAY_MS, window.to_ms.max(today.end_ms)),
        window,
        today_ms: (today.start_ms, today.end_ms),
        power,
        daily,
        house: house_today,
        parts,
    })
}

/// The bars of daily totals, labelled in the house's zone.
pub fn day_bars(zone: &Zone, days: &[DayTotal]) -> Vec<Bar> {
    days.iter()
        .map(|d| Bar {
            label: zone.format(d.start_ms, if days.len() > 10 { "%-d %b" } else { "%a %-d" }),
            title: zone.format(d.start_ms, "%A %-d %B"),
            values: vec![d.value],
            previous: d.previous,
        })
        .collect()
}

/// Adds a live counter reading to the day it falls in (`last` holds each counter's newest
/// value, for the rise since the previous reading).
pub fn add_to_days(days: &mut [DayTotal], last: &mut Vec<(i64, f64)>, sensor_id: i64, value: f64, at_ms: i64) {
    let previous = last.iter_mut().find(|(id, _)| *id == sensor_id);
    let rise = match previous {
        Some((_, before)) => {
            let rise = (value - *before).max(0.0);
            *before = value;
            rise
        }
        None => {
            last.push((sensor_id, value));
            0.0
        }
    };
    if let Some(day) = days.iter_mut().find(|d| d.start_ms <= at_ms && at_ms < d.end_ms) {
        day.value = Some(day.value.unwrap_or(0.0) + rise);
    }
}

/// The electricity view.
#[component]
pub fn EnergyPage() -> impl IntoView {
    let query = use_range_query();
    let data = Resource::new(move || query.get(), load_electricity);
    // What the range buttons describe, set once the data is in (read inside the Suspense).
    let shown = RwSignal::new(None);
    view! {
        <ViewHead title="Electricity" default=Preset::Day shown=shown />
        <Suspense fallback=|| view! { <section class="panel"><div class="chart placeholder"></div></section> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(e) => {
                        shown.set(Some((e.window, e.zone.clone())));
                        view! { <LiveElectricity data=e refetch=move || data.refetch() /> }.into_any()
                    }
                    Err(e) => view! { <p class="error">"Could not load the electricity history: " {e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn LiveElectricity(data: Electricity, refetch: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let Electricity { zone, window, today_ms, power, daily, house, parts } = data;
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
    use_live(move |event| {
        let (reading, at_ms) = match event {
            LiveEvent::Reading(reading, at_ms) => (reading, at_ms),
            LiveEvent::Resync => return refetch(),
            LiveEvent::Alert(_) => return,
        };
        let at_ms = *at_ms;
        match reading.kind {
            Kind::Power => {
                let w = window.get_untracked();
                if w.is_live(now_ms()) && at_ms >= w.from_ms {
                    let keep_from = w.at(now_ms()).from_ms;
                    power.update(|all| merge_live(all, reading, at_ms, keep_from));
                }
            }
            Kind::Energy => {
                if at_ms >= today_ms.1 {
                    return refetch();
                }
                if meters.contains(&reading.sensor_id) {
                    last.update_value(|l| days.update(|d| add_to_days(d, l, reading.sensor_id, reading.value, at_ms)));
                }
                if at_ms >= today_ms.0 {
                    house.update(|h| h.iter_mut().filter(|c| c.sensor_id == reading.sensor_id).for_each(|c| c.add(reading.value)));
                    parts.update(|p| {
                        p.iter_mut().filter(|p| p.counter.sensor_id == reading.sensor_id).for_each(|p| p.counter.add(reading.value));
                        p.sort_by(|a, b| b.counter.today.total_cmp(&a.counter.today));
                    });
                }
            }
            _ => {}
        }
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
                    <span><span class="swatch" style:background=series_color(k.0)></span>{k.1}</span>
                </For>
            </ul>
        </section>
        <div class="grid-2">
            <section class="panel">
                <div class="panel-head">
                    <h2>"kWh per day"</h2>
                    <label class="toggle"><input type="checkbox" on:change=move |ev| compare.set(event_target_checked(&ev)) />"Compare with previous period"</label>
                </div>
                <BarChart bars=bars names=names unit="kWh" decimals=2 compare=compare label="Electricity used per day" />
                <div class="key">
                    <span><span class="swatch" style:background=series_color(0)></span>{move || format!("This period: {:.1} kWh", total())}</span>
                    <Show when=move || compare.get()>
                        <span><span class="swatch" style:background=PREVIOUS_COLOR></span>{move || format!("Previous period: {:.1} kWh", previous_total())}</span>
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
                                <div class="row"><span>{item.1.name.clone()}</span><span class="num">{format!("{:.2} kWh", item.1.counter.today)}</span></div>
                                <div class="track"><div class="fill" style:width=move || format!("{:.1}%", item.1.counter.today / scale() * 100.0) style:background=series_color(item.0)></div></div>
                            </li>
                        </For>
                        <Show when=move || untracked().is_some()>
                            <li data-part="Untracked">
                                <div class="row"><span>"Untracked"</span><span class="num">{move || format!("{:.2} kWh", untracked().unwrap_or(0.0))}</span></div>
                                <div class="track"><div class="fill" style:width=move || format!("{:.1}%", untracked().unwrap_or(0.0) / scale() * 100.0) style:background=PREVIOUS_COLOR></div></div>
                            </li>
                        </Show>
                    </ul>
                    <p class="muted">"Untracked is what the house meter counted beyond the devices' own meters."</p>
                </Show>
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_counter_readings_add_their_rise_to_their_day() {
        let mut days = vec![
            DayTotal { start_ms: 0, end_ms: 100, value: Some(1.0), previous: None },
            DayTotal { start_ms: 100, end_ms: 200, value: None, previous: None },
        ];
        let mut last = vec![(7, 50.0)];
        add_to_days(&mut days, &mut last, 7, 50.5, 99);
        add_to_days(&mut days, &mut last, 7, 51.0, 150);
        add_to_days(&mut days, &mut last, 7, 0.5, 160); // a reset: nothing
        add_to_days(&mut days, &mut last, 8, 10.0, 170); // a counter seen for the first time: its baseline
        assert_eq!(days[0].value, Some(1.5));
        assert_eq!(days[1].value, Some(0.5));
        assert_eq!(last, [(7, 0.5), (8, 10.0)]);
    }
}
