//! What a range cost and where its energy came from, from the stored tariffs, price readings
//! and counters: each counter's consumption measured in the slots of the range's price
//! schedule ([`hearth_core::cost::schedule`]), by the role its sensor plays, then priced and
//! summed per local day ([`hearth_core::cost::days`]).

use crate::consumption::per_interval;
use crate::db::Db;
use crate::error::Error;
use hearth_core::cost::{DayCost, LiveDay, LivePricing, Schedule, Use, days, priced, schedule};
use hearth_core::energy::Role;
use hearth_core::sensor::{Kind, Listed};
use hearth_core::tariff::Tariff;
use hearth_core::time::house::{Day, HouseZone};
use serde::{Deserialize, Serialize};

/// A device's electricity over a range and what it cost at the import price of each moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceCost {
    /// Its energy counter.
    pub sensor_id: i64,
    /// What it is called.
    pub name: String,
    /// kWh it used.
    pub kwh: f64,
    /// What that cost; `None` where the price is not known.
    pub cost: Option<f64>,
}

/// A range's costs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    /// The tariffs' currency, `None` without tariffs.
    pub currency: Option<String>,
    /// Per local day, oldest first.
    pub days: Vec<DayCost>,
    /// Each device's energy counter (not a house meter, no energy role), largest first.
    pub devices: Vec<DeviceCost>,
    /// The tariff in force at the range's end (and its price sensor's newest reading), to
    /// price what live readings add.
    pub pricing: LivePricing,
    /// The house's consumption priced at the import price of each moment (as devices are),
    /// `None` where a price is not known.
    pub consumption_cost: Option<f64>,
}

/// Whether a sensor is a device's own electricity counter: not the house's, no energy role.
pub fn is_device_counter(l: &Listed) -> bool {
    l.sensor.kind == Kind::Energy && l.sensor.energy_role().is_none() && !l.sensor.main
}

/// The schedule of `[from_ms, to_ms)` under the stored tariffs, with the tariffs.
pub async fn schedule_of(db: &Db, house: &HouseZone, from_ms: i64, to_ms: i64) -> Result<(Vec<Tariff>, Schedule), Error> {
    let tariffs = crate::tariff::list(db).await?;
    let zone = house.zone(from_ms, to_ms);
    let price_sensors: Vec<i64> = tariffs.iter().filter_map(|t| t.import.price_sensor).collect();
    let prices = crate::tariff::prices(db, &price_sensors, from_ms, to_ms).await?;
    let schedule = schedule(&tariffs, &zone, &prices, from_ms, to_ms);
    Ok((tariffs, schedule))
}

/// The tariff of `schedule`'s last slot, with its price sensor's reading in force at `to_ms`
/// and those posted ahead of it.
async fn live_pricing(db: &Db, tariffs: &[Tariff], schedule: &Schedule, to_ms: i64) -> Result<LivePricing, Error> {
    let Some(tariff) = schedule.slots.last().and_then(|s| s.tariff).map(|i| tariffs[i].clone()) else {
        return Ok(LivePricing::default());
    };
    let price_readings = match tariff.import.price_sensor {
        Some(id) => crate::tariff::prices(db, &[id], to_ms - 1, to_ms + Kind::Price.max_ahead_ms()).await?.remove(&id).unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(LivePricing { tariff: Some(tariff), price_readings })
}

/// What each slot of `schedule` used: electricity by energy role, gas and water from the
/// house's meters.
async fn uses_of(db: &Db, sensors: &[Listed], schedule: &Schedule) -> Result<Vec<Use>, Error> {
    let mut uses = vec![Use::default(); schedule.slots.len()];
    for l in sensors {
        let id = l.sensor.sensor_id;
        match (l.sensor.kind, l.sensor.energy_role()) {
            (Kind::Energy, Some(role)) if role != Role::BatterySoc => {
                for (u, kwh) in uses.iter_mut().zip(per_interval(db, id, &schedule.edges).await?) {
                    u.energy.add(role, kwh);
                }
            }
            _ => {}
        }
    }
    for (kind, liters) in [(Kind::Gas, false), (Kind::Water, true)] {
        for meter in hearth_core::consumption::house_meters(sensors, kind) {
            for (u, v) in uses.iter_mut().zip(per_interval(db, meter.sensor.sensor_id, &schedule.edges).await?) {
                let slot = if liters { &mut u.water_l } else { &mut u.gas_m3 };
                *slot = Some(slot.unwrap_or(0.0) + v);
            }
        }
    }
    Ok(uses)
}

/// The local day `day` as used so far, slot by slot with its tariffs, for live readings to add
/// to ([`LiveDay`]).
pub async fn live_day(db: &Db, house: &HouseZone, sensors: &[Listed], day: &Day) -> Result<LiveDay, Error> {
    let (tariffs, schedule) = schedule_of(db, house, day.start_ms, day.end_ms).await?;
    let uses = uses_of(db, sensors, &schedule).await?;
    Ok(LiveDay { tariffs, schedule, uses })
}

/// The costs of `[from_ms, to_ms)`: its local days (whole in their bounds, measured within
/// the range) and the devices, from the sensors `sensors` lists.
pub async fn costs(db: &Db, house: &HouseZone, sensors: &[Listed], from_ms: i64, to_ms: i64) -> Result<Costs, Error> {
    if from_ms >= to_ms {
        return Ok(Costs::default());
    }
    let (tariffs, schedule) = schedule_of(db, house, from_ms, to_ms).await?;
    let pricing = live_pricing(db, &tariffs, &schedule, to_ms).await?;
    let uses = uses_of(db, sensors, &schedule).await?;
    let zone = house.zone(from_ms, to_ms);
    let days = days(&tariffs, &zone, &schedule, &uses);
    let mut devices = Vec::new();
    for l in sensors.iter().filter(|l| is_device_counter(l)) {
        let (kwh, cost) = priced(&schedule, &per_interval(db, l.sensor.sensor_id, &schedule.edges).await?);
        devices.push(DeviceCost { sensor_id: l.sensor.sensor_id, name: l.sensor.title(), kwh, cost });
    }
    devices.sort_by(|a, b| b.kwh.total_cmp(&a.kwh));
    let consumption: Vec<f64> = uses.iter().map(|u| u.energy.balance().consumption).collect();
    let (_, consumption_cost) = priced(&schedule, &consumption);
    Ok(Costs {
        currency: tariffs.first().map(|t| t.currency.clone()),
        days,
        devices,
        pricing,
        consumption_cost,
    })
}
