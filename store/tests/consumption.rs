//! Counter consumption on SQLite and PostgreSQL: per local day in Lisbon and Adelaide across
//! their clock changes, read from the rollup tiers (the same after the raw readings are gone),
//! with a reset, a gap and repeated posts.


use hearth_store::consumption::{per_day, per_interval, total};
use hearth_core::device::Device;
use hearth_core::reading::Incoming;
use hearth_store::reading::store;
use hearth_store::testing;
use hearth_core::sensor::Kind;
use hearth_store::Db;
use hearth_core::time::house::{Day, HouseZone};
use hearth_store::on_both_databases;
use hearth_store::testing::TestDb;

const MINUTE: i64 = hearth_core::time::MINUTE_MS;
const HOUR: i64 = 60 * MINUTE;

fn meter(at_ms: i64, value: f64) -> Incoming {
    Incoming { key: "house.energy".into(), value, at_ms, kind: Some(Kind::Energy), room: None }
}

async fn device(db: &Db) -> Device {
    hearth_store::device::create(db, "meter-box").await.unwrap().0
}

/// Stores `readings` in batches of at most 5,000 and returns the meter's sensor id.
async fn post(db: &Db, device: &Device, readings: Vec<Incoming>) -> i64 {
    let mut id = 0;
    for chunk in readings.chunks(5_000) {
        let outcome = store(db, device, chunk.to_vec()).await.unwrap();
        id = outcome.stored.first().map_or(id, |s| s.sensor.sensor_id);
    }
    id
}

async fn delete_raw_readings(db: &Db) {
    testing::execute(db, "delete from reading").await;
}

fn assert_close(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-6, "{actual:?} vs {expected:?}");
    }
}

/// Three local days around `date` in `zone`: the one before, `date`, the one after.
fn three_days(zone: &HouseZone, date: &str) -> Vec<Day> {
    let day = zone.day(date.parse().unwrap());
    zone.days(day.start_ms - 1, day.end_ms + 1)
}

/// A whole-house meter read every minute over three local days around a clock change, using
/// 0.01 kWh a minute: 0.6 kWh per real hour, so 13.8 on a 23-hour day and 15 on a 25-hour one.
async fn days_around_a_clock_change(t: &TestDb, zone_name: &str, date: &str, hours: f64) {
    let zone = HouseZone::named(zone_name).unwrap();
    let days = three_days(&zone, date);
    let device = device(&t.db).await;
    let minutes = (days[2].end_ms - days[0].start_ms) / MINUTE;
    let readings = (0..=minutes).map(|m| meter(days[0].start_ms - MINUTE + m * MINUTE, 5_000.0 + m as f64 * 0.01)).collect();
    let id = post(&t.db, &device, readings).await;

    let expected = [14.4, hours * 0.6, 14.4];
    assert_close(&per_day(&t.db, id, &zone, &days).await.unwrap(), &expected);
    assert_close(&[total(&t.db, id, days[1].start_ms, days[1].end_ms).await.unwrap()], &[expected[1]]);
    // The days are read from the rollups alone: the same without any raw reading.
    delete_raw_readings(&t.db).await;
    assert_close(&per_day(&t.db, id, &zone, &days).await.unwrap(), &expected);
}

async fn lisbon_23_hour_day(t: TestDb) {
    days_around_a_clock_change(&t, "Europe/Lisbon", "2026-03-29", 23.0).await;
}

async fn lisbon_25_hour_day(t: TestDb) {
    days_around_a_clock_change(&t, "Europe/Lisbon", "2026-10-25", 25.0).await;
}

async fn adelaide_23_hour_day(t: TestDb) {
    days_around_a_clock_change(&t, "Australia/Adelaide", "2026-10-04", 23.0).await;
}

async fn adelaide_25_hour_day(t: TestDb) {
    days_around_a_clock_change(&t, "Australia/Adelaide", "2026-04-05", 25.0).await;
}

async fn kathmandu_days_start_on_a_quarter_hour(t: TestDb) {
    // UTC+05:45: midnights at 18:15 UTC, so only 1-minute buckets fit.
    days_around_a_clock_change(&t, "Asia/Kathmandu", "2026-06-10", 24.0).await;
}

async fn a_reset_a_gap_and_repeated_posts(t: TestDb) {
    let zone = HouseZone::named("Europe/Lisbon").unwrap();
    let days = three_days(&zone, "2026-06-10");
    let device = device(&t.db).await;
    let at = |day: usize, hour: i64, minute: i64| days[day].start_ms + hour * HOUR + minute * MINUTE;
    let readings = vec![
        // Day 1: 100 → 103, then the meter is replaced at 20:00 and restarts from 0 → 1.5.
        meter(at(0, 8, 0), 100.0),
        meter(at(0, 12, 0), 102.0),
        meter(at(0, 19, 0), 103.0),
        meter(at(0, 20, 0), 0.0),
        meter(at(0, 22, 0), 1.5),
        // Silent from 22:00 until 09:30 on day 3: the 4 kWh used meanwhile count on day 3.
        meter(at(2, 9, 30), 5.5),
        meter(at(2, 10, 0), 6.0),
    ];
    let id = post(&t.db, &device, readings.clone()).await;
    // Posted again (a device retrying): nothing changes.
    store(&t.db, &device, readings).await.unwrap();
    let per = per_day(&t.db, id, &zone, &days).await.unwrap();
    assert_close(&per, &[4.5, 0.0, 4.5]);
    // Never negative, in whatever intervals.
    let hours: Vec<i64> = (0..=72).map(|h| days[0].start_ms + h * HOUR).collect();
    let hourly = per_interval(&t.db, id, &hours).await.unwrap();
    assert!(hourly.iter().all(|c| *c >= 0.0), "{hourly:?}");
    assert_close(&[hourly.iter().sum()], &[9.0]);
    assert_close(&[hourly[12], hourly[20], hourly[22], hourly[48 + 9]], &[2.0, 0.0, 1.5, 4.0]);
    // A range from the middle of the gap sees the step where the meter was read again.
    assert_close(&[total(&t.db, id, at(1, 5, 17), at(2, 9, 45)).await.unwrap()], &[4.0]);
}

async fn a_range_with_ends_between_minutes_reads_them_exactly(t: TestDb) {
    let device = device(&t.db).await;
    let start = 1_780_000_000_000 - 1_780_000_000_000 % HOUR;
    // One reading every 7 seconds for three hours, using 0.001 kWh each step.
    let readings = (0..3 * 3600 / 7).map(|i| meter(start + i * 7_000, i as f64 * 0.001)).collect();
    let id = post(&t.db, &device, readings).await;
    // From 00:17:31 to 02:43:03: the steps whose later reading falls inside, counted exactly.
    let (from, to) = (start + 17 * MINUTE + 31_000, start + 2 * HOUR + 43 * MINUTE + 3_000);
    let inside = (0..3 * 3600 / 7).map(|i| start + i * 7_000).filter(|at| (from..to).contains(at)).count();
    assert_close(&[total(&t.db, id, from, to).await.unwrap()], &[inside as f64 * 0.001]);
    assert_eq!(total(&t.db, id, to, from).await.unwrap(), 0.0);
}

on_both_databases!(
    lisbon_23_hour_day,
    lisbon_25_hour_day,
    adelaide_23_hour_day,
    adelaide_25_hour_day,
    kathmandu_days_start_on_a_quarter_hour,
    a_reset_a_gap_and_repeated_posts,
    a_range_with_ends_between_minutes_reads_them_exactly,
);
