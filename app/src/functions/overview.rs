//! The Overview's data: each room's climate now, the house's power now and over the last day,
//! today's electricity and water, and the appliances with whether they are on.

use crate::error::AppResult;
use hearth_core::consumption::CounterToday;
use hearth_core::cost::LivePricing;
use hearth_core::reading::Series;
use hearth_core::sensor::Sensor;
use hearth_core::time::Zone;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A sensor's newest value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latest {
    /// The sensor.
    pub sensor_id: i64,
    /// Its newest value, if it ever reported.
    pub value: Option<f64>,
    /// When that was measured, Unix ms.
    pub at_ms: Option<i64>,
}

/// A room's climate now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomNow {
    /// The room's name.
    pub room: String,
    /// Its temperature sensor's newest value.
    pub temperature: Option<Latest>,
    /// Its humidity sensor's newest value.
    pub humidity: Option<Latest>,
    /// Its CO2 sensor's newest value.
    #[serde(default)]
    pub co2: Option<Latest>,
}

/// What the house costs: today and this month so far, in the tariffs' currency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostNow {
    /// The tariffs' currency.
    pub currency: String,
    /// Today so far, standing charges included (`None` where a price is not known).
    pub today: Option<f64>,
    /// This month so far.
    pub month: Option<f64>,
    /// This month projected from its days so far.
    pub projected: Option<f64>,
    /// Today's tariff, which prices what live readings add to `today`.
    pub pricing: LivePricing,
    /// The import counters today (grid import, else the house meters): each rise costs the
    /// import price of its instant, so the cost moves with live readings.
    pub import: Vec<CounterToday>,
}

/// An appliance (a switch) and whether it is on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApplianceNow {
    /// The switch.
    pub sensor: Sensor,
    /// Since when it is on; `None` when off.
    pub on_since: Option<i64>,
    /// Its paired power sensor and the power it draws now.
    pub power: Option<Latest>,
}

/// What the overview shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// The house's time zone around today.
    pub zone: Zone,
    /// Today's start and end, Unix ms.
    pub today_ms: (i64, i64),
    /// Rooms with a temperature or humidity sensor, by name.
    pub rooms: Vec<RoomNow>,
    /// The power sensors whose sum is the house's draw: its main meters, else every one.
    pub power: Vec<Latest>,
    /// Electricity counters whose sum is the house's use: main meters, else every one.
    pub energy: Vec<CounterToday>,
    /// Water counters, likewise.
    pub water: Vec<CounterToday>,
    /// Every appliance.
    pub appliances: Vec<ApplianceNow>,
    /// The house's power meters over the last 24 hours.
    pub power_history: Vec<Series>,
    /// What the house costs, when a tariff is set.
    #[serde(default)]
    pub cost: Option<CostNow>,
}

/// The overview's data.
#[server]
pub async fn load_overview() -> AppResult<Overview> {
    use crate::context;
    use hearth_core::consumption::house_meters;
    use hearth_core::sensor::{Kind, Listed};
    use hearth_core::time::DAY_MS;
    use hearth_store::{consumption, reading, usage};
    let (db, house) = (context::db()?, context::zone());
    let now = hearth_core::time::now_ms();
    let day = house.day_of(now);
    let sensors = hearth_store::sensor::list_all(&db).await?;
    let latest = |l: &Listed| Latest { sensor_id: l.sensor.sensor_id, value: l.last_value, at_ms: l.last_at_ms };

    let mut rooms: Vec<RoomNow> = Vec::new();
    for l in sensors.iter().filter(|l| matches!(l.sensor.kind, Kind::Temperature | Kind::Humidity | Kind::Co2) && l.sensor.room.is_some()) {
        let name = l.sensor.label();
        let at = match rooms.iter().position(|r| r.room == name) {
            Some(i) => i,
            None => {
                rooms.push(RoomNow { room: name, temperature: None, humidity: None, co2: None });
                rooms.len() - 1
            }
        };
        let slot = match l.sensor.kind {
            Kind::Temperature => &mut rooms[at].temperature,
            Kind::Humidity => &mut rooms[at].humidity,
            _ => &mut rooms[at].co2,
        };
        slot.get_or_insert(latest(l));
    }
    rooms.sort_by(|a, b| a.room.cmp(&b.room));

    let energy = consumption::today(&db, &house_meters(&sensors, Kind::Energy), day.start_ms, now).await?;
    let water = consumption::today(&db, &house_meters(&sensors, Kind::Water), day.start_ms, now).await?;

    let all_sensors: Vec<Sensor> = sensors.iter().map(|l| l.sensor.clone()).collect();
    let mut appliances = Vec::new();
    for l in sensors.iter().filter(|l| l.sensor.kind == Kind::Switch) {
        let run = usage::current(&db, l.sensor.sensor_id, now).await?;
        let power = hearth_core::usage::pair(&l.sensor, &all_sensors)
            .and_then(|p| sensors.iter().find(|s| s.sensor.sensor_id == p.sensor_id))
            .map(latest);
        appliances.push(ApplianceNow { sensor: l.sensor.clone(), on_since: run.map(|r| r.start_ms), power });
    }
    appliances.sort_by_key(|a| a.sensor.title());

    let power = house_meters(&sensors, Kind::Power);
    let mut power_history = Vec::with_capacity(power.len());
    for l in &power {
        power_history.push(reading::sensor_history(&db, l.sensor.clone(), now - DAY_MS, now, 288).await?);
    }
    let cost = cost_now(&db, &house, &sensors, now).await?;
    Ok(Overview {
        cost,
        zone: house.zone(now - DAY_MS, day.end_ms),
        today_ms: (day.start_ms, day.end_ms),
        rooms,
        power: power.into_iter().map(latest).collect(),
        energy,
        water,
        appliances,
        power_history,
    })
}

/// Today's and this month's costs, `None` without a tariff.
#[cfg(feature = "ssr")]
async fn cost_now(
    db: &hearth_store::Db,
    house: &hearth_core::time::house::HouseZone,
    sensors: &[hearth_core::sensor::Listed],
    now: i64,
) -> AppResult<Option<CostNow>> {
    use hearth_core::energy::Role;
    use hearth_core::sensor::Kind;
    let today = house.day_of(now);
    let first = today.date.first_of_month();
    let month_start = house.day(first).start_ms;
    let month_end = today.date.last_of_month().tomorrow().map_or(today.end_ms, |d| house.day(d).start_ms);
    let costs = hearth_store::cost::costs(db, house, sensors, month_start, now + 1).await?;
    let Some(currency) = costs.currency else { return Ok(None) };
    let today_cost = costs.days.last().filter(|d| d.date == today.iso()).and_then(|d| d.total);
    let month = costs.days.iter().map(|d| d.total).sum::<Option<f64>>();
    let days_left = u32::try_from(today.date.days_in_month() - today.date.day()).unwrap_or(0);
    let projected = hearth_core::cost::projected_month(&costs.days, now, month_end, days_left);
    let grid: Vec<&hearth_core::sensor::Listed> =
        sensors.iter().filter(|l| l.sensor.kind == Kind::Energy && l.sensor.energy_role() == Some(Role::GridImport)).collect();
    let meters = if grid.is_empty() { hearth_core::consumption::house_meters(sensors, Kind::Energy) } else { grid };
    let import = hearth_store::consumption::today(db, &meters, today.start_ms, now).await?;
    Ok(Some(CostNow { currency, today: today_cost, month, projected, pricing: costs.pricing, import }))
}
