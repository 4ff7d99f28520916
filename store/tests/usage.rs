//! Appliance runs on SQLite and PostgreSQL: runs from a switch's transitions (repeated states
//! are not transitions), their energy from the paired power sensor, on-time per local day
//! across midnight and clock changes, and the run in progress.


use hearth_core::device::Device;
use hearth_core::reading::Incoming;
use hearth_store::reading::store;
use hearth_core::sensor::Kind;
use hearth_store::Db;
use hearth_core::time::house::HouseZone;
use hearth_core::usage::Run;
use hearth_store::usage::{current, on_ms_per_interval, paired_power, runs};
use hearth_store::on_both_databases;
use hearth_store::testing::TestDb;
use jiff::civil::Date;

const MINUTE: i64 = hearth_core::time::MINUTE_MS;
const HOUR: i64 = 60 * MINUTE;

fn reading(key: &str, kind: Kind, at_ms: i64, value: f64) -> Incoming {
    Incoming { key: key.into(), value, at_ms, kind: Some(kind), room: None }
}

/// Stores `readings` from `device` and returns the id of the sensor with `key`.
async fn post(db: &Db, device: &Device, readings: Vec<Incoming>, key: &str) -> i64 {
    let outcome = store(db, device, readings).await.unwrap();
    outcome.stored.iter().find(|s| s.sensor.key == key).map(|s| s.sensor.sensor_id).unwrap()
}

fn local(zone: &HouseZone, date: &str, hour: i8, minute: i8) -> i64 {
    let date: Date = date.parse().unwrap();
    date.at(hour, minute, 0, 0).to_zoned(zone.0.clone()).unwrap().timestamp().as_millisecond()
}

fn assert_kwh(run: &Run, expected: f64) {
    let kwh = run.kwh.expect("a run of a switch with a power sensor has its energy");
    assert!((kwh - expected).abs() < 1e-9, "{kwh} kWh instead of {expected}");
}

async fn washer_runs_with_their_energy(t: TestDb) {
    let zone = HouseZone::named("Europe/Lisbon").unwrap();
    let at = |date: &str, hour: i8, minute: i8| local(&zone, date, hour, minute);
    let device = hearth_store::device::create(&t.db, "utility").await.unwrap().0;
    let switch = |at_ms: i64, on: bool| reading("washer.switch", Kind::Switch, at_ms, if on { 1.0 } else { 0.0 });
    let power = |at_ms: i64, watts: f64| reading("washer.power", Kind::Power, at_ms, watts);
    let readings = vec![
        // A whole-house meter on the same device must not be taken for the washer's power.
        reading("house.power", Kind::Power, at("2026-06-10", 0, 0), 9_999.0),
        switch(at("2026-06-10", 9, 0), false),
        // Run 1, 10:00–11:30: 2,000 W for 30 min, 500 W for 60 min: 1.5 kWh. The switch
        // repeats its state every 15 minutes (a heartbeat).
        switch(at("2026-06-10", 10, 0), true),
        power(at("2026-06-10", 10, 0), 2_000.0),
        switch(at("2026-06-10", 10, 15), true),
        power(at("2026-06-10", 10, 30), 500.0),
        switch(at("2026-06-10", 10, 45), true),
        switch(at("2026-06-10", 11, 30), false),
        power(at("2026-06-10", 11, 30), 0.0),
        switch(at("2026-06-10", 11, 45), false),
        // Run 2 across midnight, 23:00–01:00, 1,200 W: 2.4 kWh.
        switch(at("2026-06-10", 23, 0), true),
        power(at("2026-06-10", 23, 0), 1_200.0),
        switch(at("2026-06-11", 1, 0), false),
        power(at("2026-06-11", 1, 0), 0.0),
        // Run 3 from 08:00, still on: 800 W.
        switch(at("2026-06-11", 8, 0), true),
        power(at("2026-06-11", 8, 0), 800.0),
    ];
    let id = post(&t.db, &device, readings, "washer.switch").await;
    let washer = hearth_store::sensor::find(&t.db, id).await.unwrap().unwrap();
    assert_eq!(paired_power(&t.db, &washer).await.unwrap().map(|s| s.key), Some("washer.power".to_owned()));

    let now = at("2026-06-11", 9, 30);
    let all = runs(&t.db, id, at("2026-06-10", 0, 0), at("2026-06-12", 0, 0), now).await.unwrap();
    let spans: Vec<(i64, Option<i64>)> = all.iter().map(|r| (r.start_ms, r.end_ms)).collect();
    assert_eq!(
        spans,
        [
            (at("2026-06-10", 10, 0), Some(at("2026-06-10", 11, 30))),
            (at("2026-06-10", 23, 0), Some(at("2026-06-11", 1, 0))),
            (at("2026-06-11", 8, 0), None),
        ]
    );
    assert_kwh(&all[0], 1.5);
    assert_kwh(&all[1], 2.4);
    assert_kwh(&all[2], 1.2);
    assert!(all.iter().all(|r| r.sensor_id == id));

    // A range starting mid-run gives the run with its real start and end.
    let night = runs(&t.db, id, at("2026-06-11", 0, 0), at("2026-06-11", 0, 30), now).await.unwrap();
    assert_eq!(night.len(), 1);
    assert_eq!((night[0].start_ms, night[0].end_ms), (at("2026-06-10", 23, 0), Some(at("2026-06-11", 1, 0))));
    assert_kwh(&night[0], 2.4);

    // On-time per local day: the midnight run is split, the running one counts up to now.
    let days = zone.days(at("2026-06-10", 0, 0), at("2026-06-12", 0, 0));
    let boundaries = [days[0].start_ms, days[1].start_ms, days[1].end_ms];
    let on = on_ms_per_interval(&t.db, id, &boundaries, now).await.unwrap();
    assert_eq!(on, [HOUR + 30 * MINUTE + HOUR, HOUR + 90 * MINUTE]);

    let running = current(&t.db, id, now).await.unwrap().expect("the washer is on");
    assert_eq!((running.start_ms, running.end_ms), (at("2026-06-11", 8, 0), None));
    assert_kwh(&running, 1.2);
    assert_eq!(current(&t.db, id, at("2026-06-10", 12, 0)).await.unwrap(), None);
}

async fn a_plug_without_power_sensor_has_runs_without_energy(t: TestDb) {
    let device = hearth_store::device::create(&t.db, "lamp-plug").await.unwrap().0;
    let start = 1_780_000_000_000 - 1_780_000_000_000 % HOUR;
    let readings = vec![
        reading("switch", Kind::Switch, start, 1.0),
        reading("switch", Kind::Switch, start + HOUR, 0.0),
        reading("house.power", Kind::Power, start, 100.0),
    ];
    let id = post(&t.db, &device, readings, "switch").await;
    let all = runs(&t.db, id, start - HOUR, start + 2 * HOUR, start + 3 * HOUR).await.unwrap();
    assert_eq!(all, [Run { sensor_id: id, start_ms: start, end_ms: Some(start + HOUR), kwh: None }]);
    // Unknown before its first reading: nothing runs.
    assert!(runs(&t.db, id, start - 2 * HOUR, start - HOUR, start).await.unwrap().is_empty());
}

async fn on_hours_across_clock_changes_in_lisbon_and_adelaide(t: TestDb) {
    let device = hearth_store::device::create(&t.db, "heater-plug").await.unwrap().0;
    let mut index = 0;
    for (name, short, long) in [("Europe/Lisbon", "2026-03-29", "2026-10-25"), ("Australia/Adelaide", "2026-10-04", "2026-04-05")] {
        let zone = HouseZone::named(name).unwrap();
        for (date, hours) in [(short, 23), (long, 25)] {
            // Each case on its own switch, so cases cannot see each other's readings.
            index += 1;
            let key = format!("heater{index}.switch");
            let day: Date = date.parse().unwrap();
            let (before, after) = (day.yesterday().unwrap().to_string(), day.tomorrow().unwrap().to_string());
            let switch = |at_ms: i64, on: bool| reading(&key, Kind::Switch, at_ms, if on { 1.0 } else { 0.0 });
            // On 22:00 the evening before to 04:00 across the clock change, and 23:00 to 01:00.
            let readings = vec![
                switch(local(&zone, &before, 22, 0), true),
                switch(local(&zone, date, 4, 0), false),
                switch(local(&zone, date, 23, 0), true),
                switch(local(&zone, &after, 1, 0), false),
            ];
            let id = post(&t.db, &device, readings, &key).await;
            let days = [zone.day(day.yesterday().unwrap()), zone.day(day), zone.day(day.tomorrow().unwrap())];
            let boundaries = [days[0].start_ms, days[1].start_ms, days[2].start_ms, days[2].end_ms];
            let on = on_ms_per_interval(&t.db, id, &boundaries, i64::MAX).await.unwrap();
            assert_eq!(on, [2 * HOUR, (hours - 19) * HOUR, HOUR], "{name} {date}");
        }
    }
}

on_both_databases!(
    washer_runs_with_their_energy,
    a_plug_without_power_sensor_has_runs_without_energy,
    on_hours_across_clock_changes_in_lisbon_and_adelaide,
);
