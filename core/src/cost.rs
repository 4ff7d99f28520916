//! Costs: a range priced by the tariffs in force. A range is cut into slots at every instant
//! a price may change ([`schedule`]): local midnights, the local clock times where
//! time-of-use zones begin and end (each instant the clocks show them: none on the hour the
//! clocks skip, two on the hour they repeat), a tariff's first day, and every reading of a
//! price sensor (each holding until the next). Each slot has one price; consumption is
//! measured per slot (a counter's rises, [`crate::consumption::per_interval`], so a reset
//! inside a zone counts nothing), multiplied by its price and summed per local day
//! ([`days`]). Money is never rounded here: only pages round, to show it.

use crate::energy::{Flows, Metered, Role};
use crate::tariff::{Tariff, Window};
use crate::time::{HOUR_MS, Zone};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Each price sensor's readings `(at_ms, price)`, oldest first, from the last one before the
/// range on (a reading holds until the next).
pub type PriceReadings = BTreeMap<i64, Vec<(i64, f64)>>;

/// A range cut where prices may change: `slots[i]` is `[edges[i], edges[i + 1])`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// The slots' boundaries, strictly increasing; the first is the range's start, the last
    /// its end.
    pub edges: Vec<i64>,
    /// What each slot costs.
    pub slots: Vec<Slot>,
}

/// One slot of a [`Schedule`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    /// The index of the tariff in force, `None` before the first.
    pub tariff: Option<usize>,
    /// The import price per kWh, `None` without a tariff or before a price sensor's first
    /// reading.
    pub import_price: Option<f64>,
}

/// Every instant at which local clocks show `wall`: none in a skipped hour, two in a
/// repeated one.
fn instants(zone: &Zone, wall: NaiveDateTime) -> Vec<i64> {
    let at = wall.and_utc().timestamp_millis();
    let mut seconds: Vec<i32> = zone.offsets.iter().map(|o| o.seconds).collect();
    seconds.sort_unstable();
    seconds.dedup();
    seconds.into_iter().map(|s| at - i64::from(s) * 1000).filter(|&t| zone.local(t) == wall).collect()
}

/// The first instant of local date `date`.
pub fn day_start(zone: &Zone, date: NaiveDate) -> i64 {
    zone.instant(date.and_time(NaiveTime::MIN))
}

/// The schedule of `[from_ms, to_ms)` under `tariffs` (sorted by date, as
/// [`crate::tariff::check`] returns them) in the house's `zone`, whose offsets must cover
/// the range; `prices` holds the readings of the price sensors the tariffs name.
pub fn schedule(tariffs: &[Tariff], zone: &Zone, prices: &PriceReadings, from_ms: i64, to_ms: i64) -> Schedule {
    if from_ms >= to_ms {
        return Schedule { edges: vec![from_ms], slots: Vec::new() };
    }
    let starts: Vec<i64> = tariffs.iter().map(|t| t.from_date().map_or(i64::MAX, |d| day_start(zone, d))).collect();
    let windows: Vec<Vec<(Window, f64)>> =
        tariffs.iter().map(|t| t.import.zones.iter().filter_map(|z| Some((z.window()?, z.price))).collect()).collect();
    let mut minutes: Vec<u32> = windows.iter().flatten().flat_map(|(w, _)| [w.from_min, w.to_min]).collect();
    minutes.push(0);
    minutes.sort_unstable();
    minutes.dedup();

    let mut edges = vec![from_ms, to_ms];
    edges.extend(zone.offsets.iter().map(|o| o.from_ms));
    edges.extend(starts.iter().copied());
    let mut date = zone.local(from_ms).date() - Duration::days(1);
    let last = zone.local(to_ms).date();
    while date <= last {
        for &m in &minutes {
            edges.extend(instants(zone, date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(m))));
        }
        date += Duration::days(1);
    }
    for readings in prices.values() {
        edges.extend(readings.iter().map(|(at, _)| *at));
    }
    edges.retain(|e| (from_ms..=to_ms).contains(e));
    edges.sort_unstable();
    edges.dedup();

    let slots = edges[..edges.len() - 1]
        .iter()
        .map(|&at| {
            let Some(i) = starts.iter().rposition(|s| *s <= at) else { return Slot { tariff: None, import_price: None } };
            let import = &tariffs[i].import;
            let import_price = match import.price_sensor {
                Some(id) => prices.get(&id).and_then(|r| r.partition_point(|(t, _)| *t <= at).checked_sub(1).map(|k| r[k].1)),
                None => {
                    let local = zone.local(at);
                    windows[i].iter().find(|(w, _)| w.covers(local)).map(|(_, p)| *p).or(import.price)
                }
            };
            Slot { tariff: Some(i), import_price }
        })
        .collect();
    Schedule { edges, slots }
}

/// What one slot of a schedule used: electricity by role (kWh), gas (m³) and water (L),
/// `None` where nothing meters it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Use {
    /// Electricity by role.
    pub energy: Metered,
    /// Gas, m³.
    pub gas_m3: Option<f64>,
    /// Water, L.
    pub water_l: Option<f64>,
}

/// One local day's energy and what it cost, as the costs API gives it. Costs are `None` on a
/// day without a tariff; `export_credit`, `gas_*` and `water_cost` also where the tariff does
/// not price them; `import_cost` (and `total`) where a dynamic price is not known for a slot
/// that imported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DayCost {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// Its first instant, Unix ms.
    pub start_ms: i64,
    /// The next day's first instant, Unix ms.
    pub end_ms: i64,
    /// Its length in hours (23 or 25 when the clocks change).
    pub hours: f64,
    /// Drawn from the grid, kWh.
    pub import_kwh: f64,
    /// Fed into the grid, kWh.
    pub export_kwh: f64,
    /// Produced by solar, kWh.
    pub solar_kwh: f64,
    /// Used by the house, kWh.
    pub consumption_kwh: f64,
    /// Solar used by the house, directly or through the battery, kWh.
    pub self_consumption_kwh: f64,
    /// The share of consumption not drawn from the grid.
    pub self_sufficiency: Option<f64>,
    /// What the import cost.
    pub import_cost: Option<f64>,
    /// What the export earned.
    pub export_credit: Option<f64>,
    /// Gas burnt, kWh.
    pub gas_kwh: Option<f64>,
    /// What the gas cost.
    pub gas_cost: Option<f64>,
    /// Water used, L.
    pub water_l: f64,
    /// What the water cost.
    pub water_cost: Option<f64>,
    /// The day's standing charges (electricity, gas, water).
    pub standing: Option<f64>,
    /// Import + gas + water + standing − export credit.
    pub total: Option<f64>,
    /// How the energy flowed.
    pub flows: Flows,
}

/// One local day's use slot by slot with the tariffs that price it, so that what live readings
/// add is priced as the stored days are ([`days`]): each counter's rise lands in the slot of its
/// instant, under its energy role.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveDay {
    /// The tariffs the schedule indexes.
    pub tariffs: Vec<Tariff>,
    /// The whole day, cut where prices change.
    pub schedule: Schedule,
    /// What each slot used so far.
    pub uses: Vec<Use>,
}

impl LiveDay {
    /// Adds `kwh` that a counter playing `role` counted at `at_ms` (nothing outside the day).
    pub fn add(&mut self, role: Role, at_ms: i64, kwh: f64) {
        if let Some(slot) = self.slot(at_ms) {
            slot.energy.add(role, kwh);
        }
    }

    /// Adds `litres` that a house water meter counted at `at_ms` (nothing outside the day).
    pub fn add_water(&mut self, at_ms: i64, litres: f64) {
        if let Some(slot) = self.slot(at_ms) {
            *slot.water_l.get_or_insert(0.0) += litres;
        }
    }

    /// The use of the slot holding `at_ms`.
    fn slot(&mut self, at_ms: i64) -> Option<&mut Use> {
        let i = self.schedule.edges.partition_point(|&edge| edge <= at_ms);
        if i >= 1 && i < self.schedule.edges.len() { self.uses.get_mut(i - 1) } else { None }
    }

    /// The day as priced now; `zone` must cover it.
    pub fn cost(&self, zone: &Zone) -> Option<DayCost> {
        days(&self.tariffs, zone, &self.schedule, &self.uses).into_iter().next()
    }

    /// Puts the day as priced now in place of its row of `days`, when it is among them;
    /// `zone` must cover it.
    pub fn reprice(&self, zone: &Zone, days: &mut [DayCost]) {
        if let Some(live) = self.cost(zone)
            && let Some(day) = days.iter_mut().find(|d| d.start_ms == live.start_ms)
        {
            *day = live;
        }
    }
}

/// A sum of money that is unknown as soon as one of its parts is.
#[derive(Clone, Copy)]
struct Money(Option<f64>);

impl Money {
    fn add(&mut self, part: Option<f64>) {
        self.0 = self.0.zip(part).map(|(a, b)| a + b);
    }
}

/// The slots' use per local day of `zone`, priced by `tariffs` (those the schedule was made
/// with); `uses` has one entry per slot. Each day is whole in `start_ms`, `end_ms` and
/// `hours`, whatever part of it the schedule covers.
pub fn days(tariffs: &[Tariff], zone: &Zone, schedule: &Schedule, uses: &[Use]) -> Vec<DayCost> {
    let mut out: Vec<DayCost> = Vec::new();
    let mut sums: Vec<[Money; 4]> = Vec::new();
    for ((&at, slot), u) in schedule.edges.iter().zip(&schedule.slots).zip(uses) {
        let date = zone.local(at).date();
        if out.last().is_none_or(|d| d.date != date.to_string()) {
            let start_ms = day_start(zone, date);
            let end_ms = day_start(zone, date + Duration::days(1));
            let tariff = slot.tariff.map(|i| &tariffs[i]);
            let known = |some: bool| Money(some.then_some(0.0));
            sums.push([
                known(tariff.is_some()),
                known(tariff.is_some_and(|t| t.export.is_some())),
                known(tariff.is_some_and(|t| t.gas.is_some())),
                known(tariff.is_some_and(|t| t.water.is_some())),
            ]);
            out.push(DayCost {
                date: date.to_string(),
                start_ms,
                end_ms,
                hours: (end_ms - start_ms) as f64 / HOUR_MS as f64,
                gas_kwh: tariff.and_then(|t| t.gas.as_ref()).map(|_| 0.0),
                standing: tariff.map(|t| {
                    t.standing_per_day
                        + t.gas.as_ref().map_or(0.0, |g| g.standing_per_day)
                        + t.water.as_ref().map_or(0.0, |w| w.standing_per_day)
                }),
                ..DayCost::default()
            });
        }
        let day = out.last_mut().expect("pushed above");
        let [import, export, gas, water] = sums.last_mut().expect("pushed above");
        let tariff = slot.tariff.map(|i| &tariffs[i]);
        let b = u.energy.balance();
        day.import_kwh += b.import;
        day.export_kwh += b.export;
        day.solar_kwh += b.solar;
        day.consumption_kwh += b.consumption;
        day.flows += b.flows();
        import.add(if b.import == 0.0 { Some(0.0) } else { slot.import_price.map(|p| b.import * p) });
        export.add(tariff.and_then(|t| t.export.as_ref()).map(|e| b.export * e.price));
        let gas_m3 = u.gas_m3.unwrap_or(0.0);
        if let Some(g) = tariff.and_then(|t| t.gas.as_ref()) {
            day.gas_kwh = day.gas_kwh.map(|k| k + gas_m3 * g.kwh_per_m3);
            gas.add(Some(gas_m3 * g.kwh_per_m3 * g.price));
        }
        let water_l = u.water_l.unwrap_or(0.0);
        day.water_l += water_l;
        water.add(tariff.and_then(|t| t.water.as_ref()).map(|w| water_l / 1000.0 * w.price_per_m3));
    }
    for (day, [import, export, gas, water]) in out.iter_mut().zip(sums) {
        day.self_consumption_kwh = day.flows.self_consumption();
        day.self_sufficiency = day.flows.self_sufficiency();
        day.import_cost = import.0;
        day.export_credit = export.0;
        day.gas_cost = gas.0;
        day.water_cost = water.0;
        day.total = day.standing.zip(day.import_cost).map(|(standing, import)| {
            standing + import - day.export_credit.unwrap_or(0.0) + day.gas_cost.unwrap_or(0.0) + day.water_cost.unwrap_or(0.0)
        });
    }
    out
}

/// Adds `kwh` bought at `price` to `cost`: unknown from the first energy used without a
/// price on (using nothing costs nothing, priced or not).
pub fn add_priced(cost: &mut Option<f64>, kwh: f64, price: Option<f64>) {
    if kwh != 0.0 {
        *cost = cost.zip(price).map(|(c, p)| c + kwh * p);
    }
}

/// A device's kWh per slot priced at the import price of its slot: `(kWh, cost)`, the cost
/// `None` where a slot that used energy has no price.
pub fn priced(schedule: &Schedule, kwh: &[f64]) -> (f64, Option<f64>) {
    let mut cost = Some(0.0);
    let mut total = 0.0;
    for (slot, k) in schedule.slots.iter().zip(kwh) {
        total += k;
        add_priced(&mut cost, *k, slot.import_price);
    }
    (total, cost)
}

/// Today's tariff, for pricing what live readings add to a cost the page loaded: each rise at
/// the import price of its reading's instant, found by [`schedule`] as for any stored range.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LivePricing {
    /// The tariff in force when the page loaded; `None` before the first.
    pub tariff: Option<Tariff>,
    /// Its price sensor's readings, `(at_ms, price)` in time order, for a dynamic tariff: the
    /// one in force when the page loaded, those posted ahead, and those that arrive live.
    pub price_readings: Vec<(i64, f64)>,
}

impl LivePricing {
    /// The import price per kWh at `at_ms` (`zone` must cover it).
    pub fn price_at(&self, zone: &Zone, at_ms: i64) -> Option<f64> {
        let tariff = self.tariff.as_ref()?;
        let prices: PriceReadings = tariff.import.price_sensor.map(|id| (id, self.price_readings.clone())).into_iter().collect();
        schedule(std::slice::from_ref(tariff), zone, &prices, at_ms, at_ms + 1).slots.first()?.import_price
    }

    /// Takes a live reading of a price sensor: the tariff's own holds from its instant until
    /// the next reading's, whether it came before it or after (a day-ahead price).
    pub fn read_price(&mut self, sensor_id: i64, at_ms: i64, price: f64) {
        if self.tariff.as_ref().is_some_and(|t| t.import.price_sensor == Some(sensor_id)) {
            let i = self.price_readings.partition_point(|&(t, _)| t < at_ms);
            match self.price_readings.get_mut(i) {
                Some(same) if same.0 == at_ms => same.1 = price,
                _ => self.price_readings.insert(i, (at_ms, price)),
            }
        }
    }

    /// Adds `kwh` used at `at_ms` to `cost`, at the import price then ([`add_priced`]).
    pub fn charge(&self, cost: &mut Option<f64>, zone: &Zone, at_ms: i64, kwh: f64) {
        add_priced(cost, kwh, self.price_at(zone, at_ms));
    }
}

/// The import price over `[from_ms, to_ms)` weighted by time (what a steady load then paid per
/// kWh), from `schedule`'s slots; `None` where a slot of it has no price or it is empty.
pub fn mean_price(schedule: &Schedule, from_ms: i64, to_ms: i64) -> Option<f64> {
    let mut paid = 0.0;
    let mut covered = 0;
    for (w, slot) in schedule.edges.windows(2).zip(&schedule.slots) {
        let overlap = w[1].min(to_ms) - w[0].max(from_ms);
        if overlap > 0 {
            paid += slot.import_price? * overlap as f64;
            covered += overlap;
        }
    }
    (covered > 0).then(|| paid / covered as f64)
}

/// The month's total projected from its days so far (the last of them today, up to
/// `now_ms`): what they cost, the variable part going on at the rate so far until
/// `month_end_ms`, and the standing charge of today's tariff on each of the `days_left` days
/// after today. `None` if a day's total is unknown.
pub fn projected_month(days: &[DayCost], now_ms: i64, month_end_ms: i64, days_left: u32) -> Option<f64> {
    let first = days.first()?;
    let mut total = 0.0;
    let mut variable = 0.0;
    for d in days {
        total += d.total?;
        variable += d.total? - d.standing?;
    }
    let elapsed = (now_ms - first.start_ms).max(1) as f64;
    let remaining = (month_end_ms - now_ms).max(0) as f64;
    let standing = days.last()?.standing?;
    Some(total + variable / elapsed * remaining + standing * f64::from(days_left))
}

/// The first day of the month holding `date`, and the first of the next one.
pub fn month_of(date: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = date.with_day(1).unwrap_or(date);
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    (first, next.unwrap_or(first))
}

#[cfg(test)]
mod tests;
