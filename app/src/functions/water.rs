//! The Water view's data: litres per local day with the previous period's (and, with a
//! tariff, what each day's water cost and today's tariff), the flow over the range, and
//! today's total.

use crate::error::AppResult;
use hearth_core::consumption::{CounterToday, Daily};
use hearth_core::cost::{DayCost, LiveDay};
use hearth_core::range::{RangeQuery, Window};
use hearth_core::reading::Series;
use hearth_core::time::Zone;
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
    /// What the days of the bars cost, when a tariff is set.
    pub costs: Option<WaterCosts>,
}

/// What the water view's days cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaterCosts {
    /// The tariffs' currency.
    pub currency: String,
    /// The days of the bars (`water_cost` `None` where no tariff prices water).
    pub days: Vec<DayCost>,
    /// Today slot by slot with its tariffs: what live readings add moves today's row of
    /// `days`, priced as the stored days are.
    pub today: LiveDay,
}

/// The water view's data for `range` (7 days by default).
#[server]
pub async fn load_water(#[server(default)] range: RangeQuery) -> AppResult<Water> {
    use hearth_core::consumption::{bar_days, house_meters};
    use hearth_core::range::Preset;
    use hearth_core::reading::MAX_POINTS;
    use hearth_core::sensor::Kind;
    use hearth_core::time::DAY_MS;
    use hearth_store::consumption;
    let (window, house, now) = super::window(&range, Preset::Week)?;
    let db = crate::context::db()?;
    let sensors = hearth_store::sensor::list_all(&db).await?;
    let flow = hearth_store::reading::history_in(&db, Kind::Flow, window.from_ms, window.to_ms, MAX_POINTS).await?;
    let meters = house_meters(&sensors, Kind::Water);
    let daily = consumption::daily(&db, &house, &meters, &bar_days(&house, &window, now)).await?;
    let day = house.day_of(now);
    let today = consumption::today(&db, &meters, day.start_ms, now).await?;
    let days = bar_days(&house, &window, now);
    let (from, to) = (days.first().map_or(day.start_ms, |d| d.start_ms), days.last().map_or(now, |d| d.end_ms).min(now + 1));
    let costs = hearth_store::cost::costs(&db, &house, &sensors, from, to).await?;
    let costs = match costs.currency {
        Some(currency) => Some(WaterCosts { currency, days: costs.days, today: hearth_store::cost::live_day(&db, &house, &sensors, &day).await? }),
        None => None,
    };
    Ok(Water {
        costs,
        zone: house.zone(window.from_ms.min(day.start_ms) - 31 * DAY_MS, window.to_ms.max(day.end_ms)),
        window,
        today_ms: (day.start_ms, day.end_ms),
        flow,
        daily,
        today,
    })
}
