//! Rollups on SQLite and PostgreSQL: kept exact as readings arrive late or twice, used by
//! long-range queries, and still there when the raw readings are gone.


use hearth_core::device::Device;
use hearth_core::reading::Incoming;
use hearth_store::reading::{history, history_in, store};
use hearth_store::testing;
use hearth_core::time::{HOUR_MS, MINUTE_MS};
use hearth_core::sensor::Kind;
use hearth_store::Db;
use hearth_store::on_both_databases;
use hearth_store::testing::TestDb;

/// A whole hour, far enough back that nothing is "in the future".
const HOUR: i64 = 1_764_000_000_000 - 1_764_000_000_000 % HOUR_MS;

fn reading(at_ms: i64, value: f64) -> Incoming {
    Incoming { key: "meter".into(), value, at_ms, kind: Some(Kind::Power), room: None }
}

async fn device(db: &Db) -> Device {
    hearth_store::device::create(db, "meter-box").await.unwrap().0
}

/// (count, sum, min, max, first value, last value) of one rollup bucket.
async fn bucket(db: &Db, tier_ms: i64, bucket_ms: i64) -> (i64, f64, f64, f64, f64, f64) {
    const SQL: &str = "select value_count, value_sum, value_min, value_max, first_value, last_value \
         from rollup where tier_ms = $1 and bucket_ms = $2";
    testing::row(db, SQL.replace("$1", &tier_ms.to_string()).replace("$2", &bucket_ms.to_string())).await
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

async fn a_small_batch_with_a_stored_reading_or_one_given_twice_stores_only_the_new_ones(t: TestDb) {
    let device = device(&t.db).await;
    store(&t.db, &device, vec![reading(HOUR + 10_000, 100.0)]).await.unwrap();
    // The sensor is known now: one stored reading beside a new one, then a new one given twice.
    let mixed = store(&t.db, &device, vec![reading(HOUR + 10_000, 100.0), reading(HOUR + 20_000, 40.0)]).await.unwrap();
    assert_eq!((mixed.stored.len(), mixed.duplicates), (1, 1));
    assert_eq!(mixed.stored[0].at_ms, HOUR + 20_000);
    let twice = store(&t.db, &device, vec![reading(HOUR + 30_000, 60.0), reading(HOUR + 30_000, 61.0)]).await.unwrap();
    assert_eq!((twice.stored.len(), twice.duplicates), (1, 1));
    assert_eq!(twice.stored[0].value, 60.0);
    let fresh = store(&t.db, &device, vec![reading(HOUR + 40_000, 0.0)]).await.unwrap();
    assert_eq!((fresh.stored.len(), fresh.duplicates), (1, 0));

    assert_eq!(bucket(&t.db, MINUTE_MS, HOUR).await, (4, 200.0, 0.0, 100.0, 100.0, 0.0));
    assert_eq!(bucket(&t.db, HOUR_MS, HOUR).await, (4, 200.0, 0.0, 100.0, 100.0, 0.0));
}

async fn a_large_batch_with_a_stored_reading_and_one_given_twice_stores_only_the_first_of_each(t: TestDb) {
    let device = device(&t.db).await;
    store(&t.db, &device, vec![reading(HOUR, 7.0)]).await.unwrap();
    // More readings than PostgreSQL sends through the group writer: the stored one again,
    // 149 new ones a second apart, and the last of them given twice with another value.
    let mut batch: Vec<Incoming> = (0..150).map(|i| reading(HOUR + i * 1_000, 1.0)).collect();
    batch.push(reading(HOUR + 149_000, 99.0));
    assert!(batch.len() > hearth_store::reading::GROUP_BATCH_MAX);
    let outcome = store(&t.db, &device, batch).await.unwrap();
    assert_eq!((outcome.stored.len(), outcome.duplicates), (149, 2));
    assert!(outcome.stored.iter().all(|r| r.value == 1.0 && r.at_ms > HOUR));
    assert_eq!(bucket(&t.db, HOUR_MS, HOUR).await, (150, 156.0, 1.0, 7.0, 7.0, 1.0));
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
    let twenty_five_days = |db: Db| async move { history_in(&db, Kind::Power, HOUR - 25 * 24 * HOUR_MS, HOUR, 600).await.unwrap() };
    let before = twenty_five_days(t.db.clone()).await;
    let points = &before[0].points;
    assert_eq!(points.len(), 72);
    assert!(points.iter().enumerate().all(|(h, p)| p.value == h as f64 + 5.0), "{points:?}");

    testing::execute(&t.db, "delete from reading").await;
    let after = twenty_five_days(t.db.clone()).await;
    assert_eq!(after[0].points, before[0].points);
}

async fn retention_drops_old_raw_readings_but_charts_keep_them(t: TestDb) {
    let device = device(&t.db).await;
    const DAY: i64 = hearth_core::time::DAY_MS;
    let now = HOUR;
    let old: Vec<Incoming> = (0..24).map(|h| reading(now - 40 * DAY + h * HOUR_MS, 7.0)).collect();
    let recent: Vec<Incoming> = (0..24).map(|h| reading(now - DAY + h * HOUR_MS, 9.0)).collect();
    store(&t.db, &device, old).await.unwrap();
    store(&t.db, &device, recent).await.unwrap();
    // An appliance's runs are read from its switch readings: those are kept.
    let switch = |at_ms: i64, on: bool| Incoming { key: "washer.switch".into(), value: f64::from(u8::from(on)), at_ms, kind: Some(Kind::Switch), room: None };
    store(&t.db, &device, vec![switch(now - 40 * DAY, true), switch(now - 40 * DAY + HOUR_MS, false)]).await.unwrap();
    let sixty_days = |db: Db| async move { history(&db, Kind::Power, now - 60 * DAY, now).await.unwrap() };
    let before = sixty_days(t.db.clone()).await;

    let retention = hearth_store::retention::Retention { raw_days: Some(30), minute_days: Some(365), ten_minute_days: None, hour_days: None };
    let deleted = hearth_store::retention::prune(&t.db, retention, now).await.unwrap();
    assert_eq!(deleted, 24, "only the readings older than 30 days go, and not the switch's");
    let runs = hearth_store::usage::runs(&t.db, switch_id(&t.db).await, now - 60 * DAY, now, now).await.unwrap();
    assert_eq!(runs.iter().map(|r| (r.start_ms, r.end_ms)).collect::<Vec<_>>(), [(now - 40 * DAY, Some(now - 40 * DAY + HOUR_MS))]);
    let raw = history(&t.db, Kind::Power, now - 2 * HOUR_MS, now).await.unwrap();
    assert_eq!(raw[0].latest.map(|p| p.value), Some(9.0));
    assert_eq!(sixty_days(t.db.clone()).await[0].points, before[0].points, "old ranges are drawn from rollups");
    assert!(before[0].points.iter().any(|p| p.value == 7.0));

    let shorter = hearth_store::retention::Retention { raw_days: None, minute_days: None, ten_minute_days: Some(30), hour_days: Some(30) };
    hearth_store::retention::prune(&t.db, shorter, now).await.unwrap();
    let after = sixty_days(t.db.clone()).await;
    assert!(after[0].points.iter().all(|p| p.value == 9.0), "10-minute and hourly buckets older than 30 days are gone too");
}

/// The id of the sensor `washer.switch`.
async fn switch_id(db: &Db) -> i64 {
    const SQL: &str = "select sensor_id from sensor where key = 'washer.switch'";
    testing::row::<(i64,)>(db, SQL).await.0
}

fn counter(at_ms: i64, value: f64) -> Incoming {
    Incoming { key: "house.energy".into(), value, at_ms, kind: Some(Kind::Energy), room: None }
}

/// Every stored reading, sorted by time.
async fn raw_readings(db: &Db) -> Vec<(i64, f64)> {
    const SQL: &str = "select at_ms, value from reading order by at_ms";
    testing::rows(db, SQL).await
}

/// Every rollup bucket as (tier, bucket, count, increase), sorted.
async fn increases(db: &Db) -> Vec<(i64, i64, i64, f64)> {
    const SQL: &str = "select tier_ms, bucket_ms, value_count, value_increase from rollup order by tier_ms, bucket_ms";
    testing::rows(db, SQL).await
}

/// What every bucket's count and increase must be for these readings (sorted by time): the
/// positive steps between consecutive readings inside each bucket.
fn expected_increases(readings: &[(i64, f64)]) -> Vec<(i64, i64, i64, f64)> {
    let mut out: Vec<(i64, i64, i64, f64)> = Vec::new();
    for tier_ms in [MINUTE_MS, 600_000, HOUR_MS] {
        let mut previous: Option<(i64, f64)> = None;
        for &(at_ms, value) in readings {
            let bucket_ms = at_ms - at_ms % tier_ms;
            let step = match previous {
                Some((bucket, last)) if bucket == bucket_ms => (value - last).max(0.0),
                _ => {
                    out.push((tier_ms, bucket_ms, 0, 0.0));
                    0.0
                }
            };
            let current = out.last_mut().unwrap();
            current.2 += 1;
            current.3 += step;
            previous = Some((bucket_ms, value));
        }
    }
    out
}

fn assert_increases(actual: &[(i64, i64, i64, f64)], expected: &[(i64, i64, i64, f64)]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?}\n{expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert_eq!((a.0, a.1, a.2), (e.0, e.1, e.2), "{a:?} vs {e:?}");
        assert!((a.3 - e.3).abs() < 1e-9, "tier {} bucket {}: increase {} instead of {}", a.0, a.1, a.3, e.3);
    }
}

async fn increases_stay_exact_however_readings_arrive(t: TestDb) {
    let device = device(&t.db).await;
    let s = 1_000;
    // The middle of the first minute, in order.
    store(&t.db, &device, vec![counter(HOUR + 20 * s, 10.0), counter(HOUR + 30 * s, 10.5), counter(HOUR + 40 * s, 11.0)]).await.unwrap();
    // Later readings, one of them a reset to 0 in the second minute.
    store(&t.db, &device, vec![counter(HOUR + 50 * s, 12.0), counter(HOUR + 70 * s, 0.0), counter(HOUR + 80 * s, 0.25)]).await.unwrap();
    // Late readings before everything stored in the first minute.
    store(&t.db, &device, vec![counter(HOUR + 5 * s, 9.0), counter(HOUR + 10 * s, 9.5)]).await.unwrap();
    // Readings landing between stored ones, one at a time and out of order; the one at 75 s
    // is a glitch above its neighbours, so the rise to it counts and the fall after it not.
    store(&t.db, &device, vec![counter(HOUR + 35 * s, 10.75)]).await.unwrap();
    store(&t.db, &device, vec![counter(HOUR + 75 * s, 5.0), counter(HOUR + 25 * s, 10.2)]).await.unwrap();
    // A reading far later (another hour), and one in between that lowers nothing.
    store(&t.db, &device, vec![counter(HOUR + HOUR_MS + 5 * s, 3.0)]).await.unwrap();
    store(&t.db, &device, vec![counter(HOUR + 30 * 60 * s, 1.0)]).await.unwrap();
    // Retries with other values, and a new reading given twice in one batch: each counts
    // once, with the first value given.
    let retry = store(&t.db, &device, vec![counter(HOUR + 30 * s, 99.0), counter(HOUR + 70 * s, 50.0), counter(HOUR + 90 * s, 0.5), counter(HOUR + 90 * s, 70.0)]).await.unwrap();
    assert_eq!((retry.stored.len(), retry.duplicates), (1, 3));

    let readings = raw_readings(&t.db).await;
    assert_eq!(readings.iter().find(|r| r.0 == HOUR + 90 * s), Some(&(HOUR + 90 * s, 0.5)));
    assert_eq!(readings.iter().find(|r| r.0 == HOUR + 30 * s), Some(&(HOUR + 30 * s, 10.5)));
    let expected = expected_increases(&readings);
    assert_increases(&increases(&t.db).await, &expected);
    // The first minute: 9 → 9.5 → 10 → 10.2 → 10.5 → 10.75 → 11 → 12 rises by 3; the
    // second: 0 → 5 → 0.25 → 0.5 by 5.25.
    assert!(expected.contains(&(MINUTE_MS, HOUR, 8, 3.0)));
    assert!(expected.contains(&(MINUTE_MS, HOUR + MINUTE_MS, 4, 5.25)));
}

async fn late_readings_in_a_bucket_whose_raw_readings_are_gone_add_their_own_increase(t: TestDb) {
    let device = device(&t.db).await;
    store(&t.db, &device, vec![counter(HOUR + 10_000, 1.0), counter(HOUR + 50_000, 2.0)]).await.unwrap();
    testing::execute(&t.db, "delete from reading").await;
    // Two readings between the deleted ones: they cannot be placed exactly, so only their own
    // rise (0.5) is added rather than recomputing the bucket from the one raw reading left.
    store(&t.db, &device, vec![counter(HOUR + 20_000, 1.0), counter(HOUR + 30_000, 1.5)]).await.unwrap();
    let minute = increases(&t.db).await.into_iter().find(|b| b.0 == MINUTE_MS).unwrap();
    assert_eq!(minute, (MINUTE_MS, HOUR, 4, 1.5));
}

/// Closing the database (as the server does when it stops) merges the rollup backlog: the
/// file holds the rollups of every reading, for whatever opens it next.
#[tokio::test]
async fn closing_the_database_merges_the_rollup_backlog() {
    use sqlx::Connection;
    let t = testing::sqlite().await;
    let device = device(&t.db).await;
    store(&t.db, &device, vec![counter(HOUR + 10_000, 5.0), counter(HOUR + 20_000, 6.5)]).await.unwrap();
    t.db.close().await;
    let mut conn = sqlx::SqliteConnection::connect(&t.url).await.unwrap();
    let left: i64 = sqlx::query_scalar("select count(*) from rollup_backlog").fetch_one(&mut conn).await.unwrap();
    let tiers: Vec<(i64, i64, f64)> =
        sqlx::query_as("select tier_ms, value_count, value_increase from rollup order by tier_ms").fetch_all(&mut conn).await.unwrap();
    assert_eq!(left, 0);
    assert_eq!(tiers, [(MINUTE_MS, 2, 1.5), (600_000, 2, 1.5), (HOUR_MS, 2, 1.5)]);
}

/// A crash on SQLite between commits and the merge of their readings leaves the readings
/// stored and their 1-minute buckets in the rollup backlog; opening the database merges them
/// into every tier, exactly, also where the commits' readings interleave.
#[tokio::test]
async fn a_rollup_backlog_left_by_a_crash_is_merged_when_the_database_opens() {
    use sqlx::Connection;
    let t = testing::sqlite().await;
    let device = device(&t.db).await;
    store(&t.db, &device, vec![counter(HOUR + 50_000, 5.0)]).await.unwrap();
    assert_eq!(increases(&t.db).await.len(), 3, "merged: one bucket per tier");
    t.db.close().await;
    // Two commits before the crash, both before the stored reading: 1.0 at 5 s and 20 s,
    // then 4.0 at 15 s, between them. The counter went 1 → 4 → 1 → 5: it rose by 7.
    let mut conn = sqlx::SqliteConnection::connect(&t.url).await.unwrap();
    let commits = format!(
        "insert into reading (sensor_id, at_ms, value) select sensor_id, {h} + 5000, 1.0 from sensor; \
         insert into reading (sensor_id, at_ms, value) select sensor_id, {h} + 20000, 1.0 from sensor; \
         insert into rollup_backlog (sensor_id, tier_ms, bucket_ms, value_count, value_sum, value_min, value_max, \
                first_at_ms, first_value, last_at_ms, last_value, value_increase) \
             select sensor_id, 60000, {h}, 2, 2.0, 1.0, 1.0, {h} + 5000, 1.0, {h} + 20000, 1.0, 0 from sensor; \
         insert into reading (sensor_id, at_ms, value) select sensor_id, {h} + 15000, 4.0 from sensor; \
         insert into rollup_backlog (sensor_id, tier_ms, bucket_ms, value_count, value_sum, value_min, value_max, \
                first_at_ms, first_value, last_at_ms, last_value, value_increase) \
             select sensor_id, 60000, {h}, 1, 4.0, 4.0, 4.0, {h} + 15000, 4.0, {h} + 15000, 4.0, 0 from sensor",
        h = HOUR,
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(commits)).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();

    let db = Db::connect(&t.url).await.unwrap();
    let left: (i64,) = testing::row(&db, "select count(*) from rollup_backlog").await;
    assert_eq!(left, (0,));
    let expected = expected_increases(&raw_readings(&db).await);
    assert_eq!(expected[0], (MINUTE_MS, HOUR, 4, 7.0));
    assert_increases(&increases(&db).await, &expected);
    assert_eq!(bucket(&db, HOUR_MS, HOUR).await, (4, 11.0, 1.0, 5.0, 1.0, 5.0));
}

on_both_databases!(
    retention_drops_old_raw_readings_but_charts_keep_them,
    rollups_stay_exact_with_late_and_repeated_readings,
    a_small_batch_with_a_stored_reading_or_one_given_twice_stores_only_the_new_ones,
    a_large_batch_with_a_stored_reading_and_one_given_twice_stores_only_the_first_of_each,
    long_ranges_are_read_from_rollups_even_without_raw_readings,
    increases_stay_exact_however_readings_arrive,
    late_readings_in_a_bucket_whose_raw_readings_are_gone_add_their_own_increase,
);

/// Migration 0004 on a database filled before it: whole-house meters are flagged, and every
/// bucket's increase is computed from the readings already stored.
mod migration {
    use super::*;
    use sqlx::migrate::Migrator;
    use std::path::Path;

    /// A device, a whole-house energy meter and a kettle, as the first release stored them;
    /// `overriding` lets PostgreSQL's identity columns take the ids given.
    fn before_0004(overriding: &str) -> String {
        format!(
            "insert into device (device_id, name, token_hash, created_at_ms) {overriding} values (1, 'meter-box', 'x', 0); \
             insert into sensor (sensor_id, device_id, key, kind, room, created_at_ms) {overriding} values \
                 (1, 1, 'house.energy', 'energy', null, 0), (2, 1, 'kettle.power', 'power', null, 0);"
        )
    }

    /// A counter over two hours with a reset, every 7 seconds, as (time, value).
    fn history() -> Vec<(i64, f64)> {
        (0..2 * 3600 / 7)
            .map(|i| {
                let at_ms = HOUR + i * 7_000;
                let value = if i < 600 { 1000.0 + i as f64 * 0.125 } else { (i - 600) as f64 * 0.25 };
                (at_ms, value)
            })
            .collect()
    }

    fn insert_history() -> String {
        let rows: Vec<String> = history().iter().map(|(at_ms, value)| format!("(1, {at_ms}, {value})")).collect();
        format!("insert into reading (sensor_id, at_ms, value) values {};", rows.join(", "))
    }

    async fn migrated(db: &Db) {
        let expected = expected_increases(&history());
        assert_increases(&increases(db).await, &expected);
        let house = hearth_store::sensor::find(db, 1).await.unwrap().unwrap();
        let kettle = hearth_store::sensor::find(db, 2).await.unwrap().unwrap();
        assert!(house.main && !kettle.main);
        assert_eq!((house.name.as_deref(), house.title().as_str()), (None, "House"));
    }

    #[tokio::test]
    async fn sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let migrator = Migrator::new(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))).await.unwrap();
        migrator.run_to(1, &pool).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("{} {}", before_0004(""), insert_history()))).execute(&pool).await.unwrap();
        pool.close().await;
        migrated(&Db::connect(&url).await.unwrap()).await;
    }

    #[tokio::test]
    async fn postgres() {
        let name = format!("hearth_migration_{}", std::process::id());
        let admin_url = hearth_store::testing::postgres_admin_url();
        let admin = sqlx::PgPool::connect(&admin_url).await.expect("PostgreSQL is reachable");
        sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {name} with (force)"))).execute(&admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}"))).execute(&admin).await.unwrap();
        let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let migrator = Migrator::new(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))).await.unwrap();
        migrator.run_to(1, &pool).await.unwrap();
        let setup = before_0004("overriding system value");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("{setup} {}", insert_history()))).execute(&pool).await.unwrap();
        pool.close().await;
        let db = Db::connect(&url).await.unwrap();
        migrated(&db).await;
        db.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!("drop database {name} with (force)"))).execute(&admin).await.unwrap();
    }
}
