//! The Overview's data: each room's climate now, the house's power now and over the last day,
//! today's electricity and water, and the appliances with whether they are on.

use crate::error::AppResult;
use hearth_core::consumption::CounterToday;
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
    for l in sensors.iter().filter(|l| matches!(l.sensor.kind, Kind::Temperature | Kind::Humidity)) {
        let name = l.sensor.label();
        let at = match rooms.iter().position(|r| r.room == name) {
            Some(i) => i,
            None => {
                rooms.push(RoomNow { room: name, temperature: None, humidity: None });
                rooms.len() - 1
            }
        };
        let slot = if l.sensor.kind == Kind::Temperature { &mut rooms[at].temperature } else { &mut rooms[at].humidity };
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
    Ok(Overview {
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
