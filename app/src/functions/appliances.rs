//! The Appliances view's data: each appliance's runs over the range, with their energy.

use crate::error::AppResult;
use hearth_core::range::{RangeQuery, Window};
use hearth_core::sensor::Sensor;
use hearth_core::time::Zone;
use hearth_core::usage::Run;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An appliance and its runs in the range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Appliance {
    /// Its switch.
    pub sensor: Sensor,
    /// Its runs overlapping the range, oldest first.
    pub runs: Vec<Run>,
}

/// What the appliances view shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Appliances {
    /// The house's time zone.
    pub zone: Zone,
    /// The range shown.
    pub window: Window,
    /// The local days of the range: start and end, Unix ms.
    pub days: Vec<(i64, i64)>,
    /// Every appliance, by name.
    pub appliances: Vec<Appliance>,
    /// When today started and ends, Unix ms.
    pub today_ms: (i64, i64),
    /// With a tariff: its currency, and the cost of each run with energy by (switch, start).
    #[serde(default)]
    pub run_costs: Option<(String, Vec<((i64, i64), f64)>)>,
}

/// The appliances view's data for `range` (7 days by default).
#[server]
pub async fn load_appliances(#[server(default)] range: RangeQuery) -> AppResult<Appliances> {
    use hearth_core::range::Preset;
    use hearth_core::sensor::Kind;
    use hearth_core::time::DAY_MS;
    let (window, house, now) = super::window(&range, Preset::Week)?;
    let db = crate::context::db()?;
    let switches = hearth_store::sensor::list_by_kind(&db, Kind::Switch).await?;
    let mut appliances = Vec::with_capacity(switches.len());
    for sensor in switches {
        let runs = hearth_store::usage::runs(&db, sensor.sensor_id, window.from_ms, window.to_ms, now).await?;
        appliances.push(Appliance { sensor, runs });
    }
    appliances.sort_by_key(|a| a.sensor.title());
    let (tariffs, schedule) = hearth_store::cost::schedule_of(&db, &house, window.from_ms - DAY_MS, window.to_ms.min(now + 1)).await?;
    let run_costs = tariffs.first().map(|t| {
        let costs = appliances
            .iter()
            .flat_map(|a| a.runs.iter())
            .filter_map(|r| {
                let kwh = r.kwh?;
                let price = hearth_core::cost::mean_price(&schedule, r.start_ms, r.end_ms.unwrap_or(now))?;
                Some(((r.sensor_id, r.start_ms), kwh * price))
            })
            .collect();
        (t.currency.clone(), costs)
    });
    let days = house.days(window.from_ms, window.to_ms.min(now + 1)).iter().map(|d| (d.start_ms, d.end_ms)).collect();
    let today = house.day_of(now);
    Ok(Appliances {
        zone: house.zone(window.from_ms - 31 * DAY_MS, window.to_ms + DAY_MS),
        window,
        days,
        appliances,
        today_ms: (today.start_ms, today.end_ms),
        run_costs,
    })
}
