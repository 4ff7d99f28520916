//! Tariffs and costs on SQLite and PostgreSQL: tariffs replaced whole, a 23-hour day in
//! Lisbon priced by time of use from stored counters with energy roles (house meter, solar,
//! export), gas and a device, the same once raw readings are gone; energy roles checked
//! against the sensor's kind; price readings accepted up to 48 hours ahead; the tariff and
//! price that live readings are priced with, and a day that live readings extend.

use hearth_core::device::Device;
use hearth_core::energy::Role;
use hearth_core::reading::Incoming;
use hearth_core::sensor::{Kind, SensorUpdate};
use hearth_core::tariff::{Export, Gas, Import, PriceZone, Tariff};
use hearth_core::time::house::HouseZone;
use hearth_core::time::{HOUR_MS, MINUTE_MS, now_ms};
use hearth_store::reading::store;
use hearth_store::testing::{self, TestDb};
use hearth_store::{Db, Error, on_both_databases};

fn tariff(from: &str, price: f64) -> Tariff {
    Tariff {
        from: from.into(),
        currency: "EUR".into(),
        import: Import { price: Some(price), ..Import::default() },
        standing_per_day: 0.30,
        export: None,
        gas: None,
        water: None,
    }
}

async fn device(db: &Db) -> Device {
    hearth_store::device::create(db, "meter-box").await.unwrap().0
}

/// A counter `key` read every 10 minutes over `[from, to)`, each reading a millisecond before
/// its step ends, advancing at `rate(ms since from)` per hour.
fn counter(key: &str, kind: Kind, from: i64, to: i64, rate: impl Fn(i64) -> f64) -> Vec<Incoming> {
    let step = 10 * MINUTE_MS;
    let mut value = 0.0;
    let mut out = vec![Incoming { key: key.into(), value, at_ms: from - 1, kind: Some(kind), room: None }];
    let mut at = from;
    while at < to {
        value += rate(at - from) * step as f64 / HOUR_MS as f64;
        at += step;
        out.push(Incoming { key: key.into(), value, at_ms: at - 1, kind: Some(kind), room: None });
    }
    out
}

async fn post(db: &Db, device: &Device, readings: Vec<Incoming>) -> i64 {
    let outcome = store(db, device, readings).await.unwrap();
    outcome.stored[0].sensor.sensor_id
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-6)
}

async fn tariffs_are_replaced_whole(t: TestDb) {
    assert!(hearth_store::tariff::list(&t.db).await.unwrap().is_empty());
    let stored = hearth_store::tariff::replace(&t.db, vec![tariff("2025-01-01", 0.2), tariff("2026-01-01", 0.3)]).await.unwrap();
    assert_eq!(stored, [tariff("2025-01-01", 0.2), tariff("2026-01-01", 0.3)]);
    hearth_store::tariff::replace(&t.db, vec![tariff("2026-02-01", 0.25)]).await.unwrap();
    assert_eq!(hearth_store::tariff::list(&t.db).await.unwrap(), [tariff("2026-02-01", 0.25)]);
}

async fn a_23_hour_day_is_priced_from_stored_counters_and_roles(t: TestDb) {
    let house = HouseZone::named("Europe/Lisbon").unwrap();
    let day = house.day("2026-03-29".parse().unwrap());
    let (from, to) = (day.start_ms, day.end_ms);
    let device = device(&t.db).await;
    // Local 10:00 to 14:00 is 09:00 to 13:00 UTC, 9 to 13 real hours after local midnight.
    let sunny = |ms: i64| (9 * HOUR_MS..13 * HOUR_MS).contains(&ms);
    post(&t.db, &device, counter("house.energy", Kind::Energy, from, to, |_| 1.0)).await;
    let solar = post(&t.db, &device, counter("roof.energy", Kind::Energy, from, to, |ms| if sunny(ms) { 0.5 } else { 0.0 })).await;
    let export = post(&t.db, &device, counter("grid.export", Kind::Energy, from, to, |ms| if sunny(ms) { 0.2 } else { 0.0 })).await;
    post(&t.db, &device, counter("boiler.gas", Kind::Gas, from, to, |_| 1.0 / 23.0)).await;
    let fridge = post(&t.db, &device, counter("fridge.energy", Kind::Energy, from, to, |_| 0.1)).await;
    for (id, role) in [(solar, Role::Solar), (export, Role::GridExport)] {
        let update = SensorUpdate { role: Some(Some(role)), ..SensorUpdate::default() };
        assert_eq!(hearth_store::sensor::update(&t.db, id, update).await.unwrap().role, Some(role));
    }
    let mut t0 = tariff("2026-01-01", 0.30);
    t0.import.zones = vec![PriceZone { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map(String::from).to_vec(), from: "00:00".into(), to: "07:00".into(), price: 0.10 }];
    t0.export = Some(Export { price: 0.08 });
    t0.gas = Some(Gas { price: 0.11, standing_per_day: 0.28, kwh_per_m3: 11.2 });
    hearth_store::tariff::replace(&t.db, vec![t0]).await.unwrap();

    for pass in ["raw", "rollups"] {
        let sensors = hearth_store::sensor::list_all(&t.db).await.unwrap();
        let costs = hearth_store::cost::costs(&t.db, &house, &sensors, from, to).await.unwrap();
        assert_eq!(costs.currency.as_deref(), Some("EUR"));
        let d = &costs.days[..];
        assert_eq!((d.len(), d[0].date.as_str(), d[0].hours), (1, "2026-03-29", 23.0), "{pass}");
        let d = &d[0];
        assert!(close(Some(d.consumption_kwh), 23.0) && close(Some(d.solar_kwh), 2.0) && close(Some(d.export_kwh), 0.8), "{pass} {d:?}");
        // The house meter without a grid meter: import = house − solar + export.
        assert!(close(Some(d.import_kwh), 21.8), "{pass} {d:?}");
        // Six hours of night at 0.10 (the clocks skip 01:00 to 02:00), the rest at 0.30.
        assert!(close(d.import_cost, 6.0 * 0.10 + 15.8 * 0.30), "{pass} {d:?}");
        assert!(close(d.export_credit, 0.8 * 0.08), "{pass} {d:?}");
        assert!(close(d.gas_kwh, 11.2) && close(d.gas_cost, 11.2 * 0.11), "{pass} {d:?}");
        assert!(close(d.standing, 0.58), "{pass} {d:?}");
        assert!(close(d.total, 0.58 + 0.6 + 4.74 - 0.064 + 1.232), "{pass} {d:?}");
        let fridge_cost = costs.devices.iter().find(|x| x.sensor_id == fridge).unwrap();
        assert!(close(Some(fridge_cost.kwh), 2.3) && close(fridge_cost.cost, 0.6 * 0.10 + 1.7 * 0.30), "{pass} {fridge_cost:?}");
        assert_eq!(costs.devices.len(), 1, "the house meter, solar and export are not devices");
        // The day as live readings extend it: the same day, until a rise lands in a slot.
        let mut live = hearth_store::cost::live_day(&t.db, &house, &sensors, &day).await.unwrap();
        let zone = house.zone(from, to);
        assert_eq!(live.cost(&zone).as_ref(), Some(d), "{pass}");
        live.add(Role::House, from + 3 * HOUR_MS, 1.0);
        let moved = live.cost(&zone).unwrap();
        assert!(close(Some(moved.import_kwh), 22.8) && close(moved.import_cost, 6.0 * 0.10 + 15.8 * 0.30 + 0.10), "{pass} {moved:?}");
        assert!(close(moved.total, 0.58 + 0.6 + 4.74 - 0.064 + 1.232 + 0.10), "{pass} {moved:?}");
        testing::execute(&t.db, "delete from reading").await;
    }
}

async fn roles_fit_their_sensors_kinds(t: TestDb) {
    let device = device(&t.db).await;
    let now = now_ms();
    let temp = post(&t.db, &device, vec![Incoming { key: "hall.temp".into(), value: 20.0, at_ms: now, kind: Some(Kind::Temperature), room: None }]).await;
    let soc = post(&t.db, &device, vec![Incoming { key: "battery.soc".into(), value: 55.0, at_ms: now, kind: Some(Kind::Battery), room: None }]).await;
    let update = |role| SensorUpdate { role: Some(role), ..SensorUpdate::default() };
    let refused = hearth_store::sensor::update(&t.db, temp, update(Some(Role::Solar))).await.unwrap_err();
    assert_eq!(refused.field(), Some("role"));
    assert!(hearth_store::sensor::update(&t.db, soc, update(Some(Role::Solar))).await.is_err());
    assert_eq!(hearth_store::sensor::update(&t.db, soc, update(Some(Role::BatterySoc))).await.unwrap().role, Some(Role::BatterySoc));
    assert_eq!(hearth_store::sensor::update(&t.db, soc, update(None)).await.unwrap().role, None);
}

async fn prices_may_come_48_hours_ahead(t: TestDb) {
    let device = device(&t.db).await;
    let now = now_ms();
    let price = |at_ms, kind| Incoming { key: "spot.price".into(), value: -0.02, at_ms, kind, room: None };
    post(&t.db, &device, vec![price(now + 47 * HOUR_MS, Some(Kind::Price))]).await;
    // Without its kind, a reading of the price sensor is held to the price's limit.
    post(&t.db, &device, vec![price(now + 46 * HOUR_MS, None)]).await;
    let far = store(&t.db, &device, vec![price(now + 49 * HOUR_MS, None)]).await.unwrap_err();
    assert!(matches!(far, Error::Invalid { field: "at", .. }), "{far:?}");
    // Other kinds keep the 5 minutes of clock drift.
    let energy = |at_ms, kind| Incoming { key: "plug.energy".into(), value: 1.0, at_ms, kind, room: None };
    post(&t.db, &device, vec![energy(now, Some(Kind::Energy))]).await;
    let ahead = store(&t.db, &device, vec![energy(now + 10 * MINUTE_MS, None)]).await.unwrap_err();
    assert!(matches!(ahead, Error::Invalid { field: "at", .. }), "{ahead:?}");
}

async fn live_pricing_is_the_tariff_in_force_with_its_prices_in_force_and_posted_ahead(t: TestDb) {
    let device = device(&t.db).await;
    let house = HouseZone::named("Europe/Lisbon").unwrap();
    let now = now_ms();
    let price = |value, at_ms| Incoming { key: "spot.price".into(), value, at_ms, kind: Some(Kind::Price), room: None };
    let sensor = post(&t.db, &device, vec![price(0.30, now - 3 * HOUR_MS), price(-0.04, now - HOUR_MS), price(0.50, now + HOUR_MS)]).await;
    let sensors = hearth_store::sensor::list_all(&t.db).await.unwrap();
    // Without a tariff, nothing prices live readings.
    let none = hearth_store::cost::costs(&t.db, &house, &sensors, now - 2 * HOUR_MS, now).await.unwrap();
    assert_eq!(none.pricing, hearth_core::cost::LivePricing::default());
    let dynamic = Tariff { import: Import { price: None, zones: vec![], price_sensor: Some(sensor) }, ..tariff("2020-01-01", 0.0) };
    let old = tariff("2019-01-01", 0.2);
    hearth_store::tariff::replace(&t.db, vec![old, dynamic.clone()]).await.unwrap();
    let costs = hearth_store::cost::costs(&t.db, &house, &sensors, now - 2 * HOUR_MS, now).await.unwrap();
    // Today's tariff, the price in force at the range's end and the one posted ahead (each
    // prices its own time).
    assert_eq!(costs.pricing.tariff, Some(dynamic));
    assert_eq!(costs.pricing.price_readings, [(now - HOUR_MS, -0.04), (now + HOUR_MS, 0.50)]);
}

on_both_databases!(
    live_pricing_is_the_tariff_in_force_with_its_prices_in_force_and_posted_ahead,
    tariffs_are_replaced_whole,
    a_23_hour_day_is_priced_from_stored_counters_and_roles,
    roles_fit_their_sensors_kinds,
    prices_may_come_48_hours_ahead,
);
