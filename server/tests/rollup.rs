//! Rollups on SQLite and PostgreSQL: kept exact as readings arrive late or twice, used by
//! long-range queries, and still there when the raw readings are gone.

mod common;

use app::device::Device;
use app::reading::ssr::{Incoming, history, store};
use app::rollup::{HOUR_MS, MINUTE_MS};
use app::sensor::Kind;
use app::store::Db;
use common::TestDb;

/// A whole hour, far enough back that nothing is "in the future".
const HOUR: i64 = 1_764_000_000_000 - 1_764_000_000_000 % HOUR_MS;

fn reading(at_ms: i64, value: f64) -> Incoming {
    Incoming { key: "meter".into(), value, at_ms, kind: Some(Kind::Power), room: None }
}

async fn device(db: &Db) -> Device {
    app::device::ssr::create(db, "meter-box").await.unwrap().0
}

/// (count, sum, min, max, first value, last value) of one rollup bucket.
async fn bucket(db: &Db, tier_ms: i64, bucket_ms: i64) -> (i64, f64, f64, f64, f64, f64) {
    const SQL: &str = "select value_count, value_sum, value_min, value_max, first_value, last_value \
         from rollup where tier_ms = $1 and bucket_ms = $2";
    match db {
        Db::Sqlite(s) => sqlx::query_as(SQL).bind(tier_ms).bind(bucket_ms).fetch_one(&s.read).await.unwrap(),
        Db::Postgres(p) => sqlx::query_as(SQL).bind(tier_ms).bind(bucket_ms).fetch_one(&p.pool).await.unwrap(),
    }
}

async fn rollups_stay_exact_with_late_and_repeated_readings(t: TestDb) {
    let device = device(&t.db).await;
    let first = vec![reading(HOUR + 10_000, 100.0), reading(HOUR + 50_000, 300.0), reading(HOUR + 70_000, 50.0)];
    store(&t.db, &device, first.clone()).await.unwrap();
    // A late reading, earlier than all others in the first minute, and a retry of the first batch.
    store(&t.db, &device, vec![reading(HOUR + 1_000, 20.0)]).await.unwrap();
    let retry = store(&t.db, &device, first).await.unwrap();
    assert_eq!(retry.duplicates, 3);

    assert_eq!(bucket(&t.db, MINUTE_MS, HOUR).await, (3, 420.0, 20.0, 300.0, 20.0, 300.0));
    assert_eq!(bucket(&t.db, MINUTE_MS, HOUR + MINUTE_MS).await, (1, 50.0, 50.0, 50.0, 50.0, 50.0));
    assert_eq!(bucket(&t.db, HOUR_MS, HOUR).await, (4, 470.0, 20.0, 300.0, 20.0, 50.0));
}

async fn long_ranges_are_read_from_rollups_even_without_raw_readings(t: TestDb) {
    let device = device(&t.db).await;
    // Three days at one reading per 10 minutes; each hour's values are its hour index and
    // its hour index + 10, so every hourly mean is the hour index + 5.
    let readings: Vec<Incoming> = (0..72 * 6)
        .map(|i| reading(HOUR - 72 * HOUR_MS + i * 600_000, (i / 6) as f64 + if i % 2 == 0 { 0.0 } else { 10.0 }))
        .collect();
    store(&t.db, &device, readings).await.unwrap();
    // 25 days in 600 points: one point per hour, read from the hourly tier.
    let twenty_five_days = |db: Db| async move { history(&db, Kind::Power, HOUR - 25 * 24 * HOUR_MS, HOUR).await.unwrap() };
    let before = twenty_five_days(t.db.clone()).await;
    let points = &before[0].points;
    assert_eq!(points.len(), 72);
    assert!(points.iter().enumerate().all(|(h, p)| p.value == h as f64 + 5.0), "{points:?}");

    match &t.db {
        Db::Sqlite(s) => drop(sqlx::query("delete from reading").execute(&s.write).await.unwrap()),
        Db::Postgres(p) => drop(sqlx::query("delete from reading").execute(&p.pool).await.unwrap()),
    }
    let after = twenty_five_days(t.db.clone()).await;
    assert_eq!(after[0].points, before[0].points);
}

async fn retention_drops_old_raw_readings_but_charts_keep_them(t: TestDb) {
    let device = device(&t.db).await;
    const DAY: i64 = 24 * HOUR_MS;
    let now = HOUR;
    let old: Vec<Incoming> = (0..24).map(|h| reading(now - 40 * DAY + h * HOUR_MS, 7.0)).collect();
    let recent: Vec<Incoming> = (0..24).map(|h| reading(now - DAY + h * HOUR_MS, 9.0)).collect();
    store(&t.db, &device, old).await.unwrap();
    store(&t.db, &device, recent).await.unwrap();
    let sixty_days = |db: Db| async move { history(&db, Kind::Power, now - 60 * DAY, now).await.unwrap() };
    let before = sixty_days(t.db.clone()).await;

    let retention = hearth::retention::Retention { raw_days: Some(30), minute_days: Some(365), ten_minute_days: None, hour_days: None };
    let deleted = hearth::retention::prune(&t.db, retention, now).await.unwrap();
    assert_eq!(deleted, 24, "only the readings older than 30 days go");
    let raw = history(&t.db, Kind::Power, now - 2 * HOUR_MS, now).await.unwrap();
    assert_eq!(raw[0].latest.map(|p| p.value), Some(9.0));
    assert_eq!(sixty_days(t.db.clone()).await[0].points, before[0].points, "old ranges are drawn from rollups");
    assert!(before[0].points.iter().any(|p| p.value == 7.0));

    let shorter = hearth::retention::Retention { raw_days: None, minute_days: None, ten_minute_days: Some(30), hour_days: Some(30) };
    hearth::retention::prune(&t.db, shorter, now).await.unwrap();
    let after = sixty_days(t.db.clone()).await;
    assert!(after[0].points.iter().all(|p| p.value == 9.0), "10-minute and hourly buckets older than 30 days are gone too");
}

on_both_databases!(
    retention_drops_old_raw_readings_but_charts_keep_them,
    rollups_stay_exact_with_late_and_repeated_readings,
    long_ranges_are_read_from_rollups_even_without_raw_readings,
);
