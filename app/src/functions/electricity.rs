//! The Electricity view's data: power over the range, kWh per local day with the previous
//! period's, and today's use per device beside the house meter's.

use crate::error::AppResult;
use hearth_core::consumption::{CounterToday, Daily, Part};
use hearth_core::cost::{DayCost, LiveDay, LivePricing};
use hearth_core::energy::{Flows, Role};
use hearth_core::range::{RangeQuery, Window};
use hearth_core::reading::Series;
use hearth_core::time::Zone;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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
    /// What the days of the bars cost, when a tariff is set.
    pub costs: Option<Costs>,
    /// How energy flowed over the days the range touches.
    pub flows: Flows,
    /// Power sensors playing an energy role, with their newest value: the flows now.
    pub power_roles: Vec<(i64, Role, Option<f64>)>,
}

/// The electricity view's money.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    /// The tariffs' currency.
    pub currency: String,
    /// Per day of the bars.
    pub days: Vec<DayCost>,
    /// Each device counter's cost today, by sensor id.
    pub devices: Vec<(i64, Option<f64>)>,
    /// The house's consumption today at the import price of each moment.
    pub consumption: Option<f64>,
    /// Today's tariff: what live readings add to the costs above is priced with it.
    pub pricing: LivePricing,
    /// Today slot by slot, for today's row of `days` to move with live readings.
    pub today: LiveDay,
    /// The counters playing an energy role, with their newest value.
    pub counters: Vec<(i64, Role, Option<f64>)>,
}

/// The electricity view's data for `range`.
#[server]
pub async fn load_electricity(#[server(default)] range: RangeQuery) -> AppResult<Electricity> {
    use hearth_core::consumption::{bar_days, house_meters};
    use hearth_core::range::Preset;
    use hearth_core::reading::MAX_POINTS;
    use hearth_core::sensor::Kind;
    use hearth_core::time::DAY_MS;
    use hearth_store::consumption;
    let (window, house, now) = super::window(&range, Preset::Day)?;
    let db = crate::context::db()?;
    let sensors = hearth_store::sensor::list_all(&db).await?;
    let mut power = hearth_store::reading::history_in(&db, Kind::Power, window.from_ms, window.to_ms, MAX_POINTS).await?;
    power.sort_by_key(|s| (!s.sensor.main, s.sensor.title()));
    let meters = house_meters(&sensors, Kind::Energy);
    let daily = consumption::daily(&db, &house, &meters, &bar_days(&house, &window, now)).await?;
    let today = house.day_of(now);
    let house_meters: Vec<_> = meters.iter().copied().filter(|m| m.sensor.main).collect();
    let house_today = consumption::today(&db, &house_meters, today.start_ms, now).await?;
    let parts = consumption::parts(&db, &sensors, Kind::Energy, today.start_ms, now).await?;
    let days = bar_days(&house, &window, now);
    let (from, to) = (days.first().map_or(today.start_ms, |d| d.start_ms), days.last().map_or(now, |d| d.end_ms).min(now + 1));
    let range = hearth_store::cost::costs(&db, &house, &sensors, from, to).await?;
    let mut flows = hearth_core::energy::Flows::default();
    for d in range.days.iter().filter(|d| d.end_ms > window.from_ms && d.start_ms < window.to_ms) {
        flows += d.flows;
    }
    let costs = match range.currency {
        Some(currency) => {
            let today_costs = hearth_store::cost::costs(&db, &house, &sensors, today.start_ms, now + 1).await?;
            let counters = sensors
                .iter()
                .filter(|l| l.sensor.kind == Kind::Energy)
                .filter_map(|l| l.sensor.energy_role().map(|r| (l.sensor.sensor_id, r, l.last_value)))
                .collect();
            Some(Costs {
                today: hearth_store::cost::live_day(&db, &house, &sensors, &today).await?,
                counters,
                currency,
                days: range.days,
                devices: today_costs.devices.iter().map(|d| (d.sensor_id, d.cost)).collect(),
                consumption: today_costs.consumption_cost,
                pricing: today_costs.pricing,
            })
        }
        None => None,
    };
    let power_roles = sensors
        .iter()
        .filter(|l| l.sensor.kind == Kind::Power)
        .filter_map(|l| l.sensor.energy_role().map(|r| (l.sensor.sensor_id, r, l.last_value)))
        .collect();
    Ok(Electricity {
        costs,
        flows,
        power_roles,
        zone: house.zone(window.from_ms.min(today.start_ms) - 31 * DAY_MS, window.to_ms.max(today.end_ms)),
        window,
        today_ms: (today.start_ms, today.end_ms),
        power,
        daily,
        house: house_today,
        parts,
    })
}
