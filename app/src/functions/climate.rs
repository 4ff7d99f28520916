//! The Temperature view's data: each room's temperature and humidity over the range,
//! today's lowest and highest, and each room's CO2 now.

use crate::error::AppResult;
use hearth_core::range::{RangeQuery, Window};
use hearth_core::reading::Series;
use hearth_core::time::Zone;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the temperature view shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Climate {
    /// The house's time zone over the range.
    pub zone: Zone,
    /// The range shown.
    pub window: Window,
    /// Temperature sensors' histories.
    pub temperature: Vec<Series>,
    /// Humidity sensors' histories.
    pub humidity: Vec<Series>,
    /// Today's lowest and highest value per sensor id.
    pub today: Vec<(i64, f64, f64)>,
    /// When today started and ends, Unix ms.
    pub today_ms: (i64, i64),
    /// Each CO2 sensor with a room: its id, the room, its newest value.
    pub co2: Vec<(i64, String, Option<f64>)>,
}

/// The temperature view's data for `range`.
#[server]
pub async fn load_climate(#[server(default)] range: RangeQuery) -> AppResult<Climate> {
    use hearth_core::range::Preset;
    use hearth_core::reading::MAX_POINTS;
    use hearth_core::sensor::Kind;
    use hearth_store::reading::{extremes, history_in};
    let (window, house, now) = super::window(&range, Preset::Day)?;
    let db = crate::context::db()?;
    let temperature = history_in(&db, Kind::Temperature, window.from_ms, window.to_ms, MAX_POINTS).await?;
    let humidity = history_in(&db, Kind::Humidity, window.from_ms, window.to_ms, MAX_POINTS).await?;
    let day = house.day_of(now);
    let mut today = Vec::new();
    for s in temperature.iter().chain(&humidity) {
        if let Some((lo, hi)) = extremes(&db, s.sensor.sensor_id, day.start_ms, day.end_ms).await? {
            today.push((s.sensor.sensor_id, lo, hi));
        }
    }
    let sensors = hearth_store::sensor::list_all(&db).await?;
    let co2 = sensors.into_iter().filter(|l| l.sensor.kind == Kind::Co2 && l.sensor.room.is_some()).map(|l| (l.sensor.sensor_id, l.sensor.label(), l.last_value)).collect();
    Ok(Climate {
        co2,
        zone: house.zone(window.from_ms.min(day.start_ms), window.to_ms.max(day.end_ms)),
        window,
        temperature,
        humidity,
        today,
        today_ms: (day.start_ms, day.end_ms),
    })
}
