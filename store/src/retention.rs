//! Retention: deleting raw readings and rollup buckets older than their tier's configured age,
//! a small slice at a time so that ingest never waits long behind it. Switch and price
//! readings are kept: appliance runs and hours of use are computed from the first, the cost
//! of energy under a dynamic tariff from the second.

use crate::db::Db;
use crate::error::Error;
use crate::pool::with_db;
use hearth_core::rollup::TEN_MINUTES_MS;
use hearth_core::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// How long each tier is kept; `None` keeps it forever.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Raw readings.
    pub raw_days: Option<u32>,
    /// 1-minute rollups.
    pub minute_days: Option<u32>,
    /// 10-minute rollups.
    pub ten_minute_days: Option<u32>,
    /// 1-hour rollups.
    pub hour_days: Option<u32>,
}

/// Deletes what is older than `retention` allows, as of `now_ms`; returns rows deleted.
pub async fn prune(db: &Db, retention: Retention, now_ms: i64) -> Result<u64, Error> {
    let before = |days: u32| now_ms - i64::from(days) * DAY_MS;
    // A bucket waiting in the backlog is merged while its raw readings are all there.
    db.settle().await?;
    let mut deleted = 0;
    if let Some(days) = retention.raw_days {
        deleted += prune_raw(db, before(days)).await?;
    }
    let tiers = [(MINUTE_MS, retention.minute_days), (TEN_MINUTES_MS, retention.ten_minute_days), (HOUR_MS, retention.hour_days)];
    for (tier_ms, days) in tiers {
        if let Some(days) = days {
            deleted += prune_tier(db, tier_ms, before(days)).await?;
        }
    }
    Ok(deleted)
}

/// Deletes the readings older than `before_ms`, one sensor and one hour at a time so that
/// no transaction holds the write lock for long. Returns how many were deleted.
///
/// Switch readings are kept: appliance runs and hours of use are computed from them (they
/// are few: a device reports a switch when it changes, and now and then). So are prices
/// (a few a day; each holds until the next, so no rollup can stand for them).
pub async fn prune_raw(db: &Db, before_ms: i64) -> Result<u64, Error> {
    const SENSORS: &str = "select sensor_id from sensor where kind not in ('switch', 'price') order by sensor_id";
    const OLDEST: &str = "select min(at_ms) from reading where sensor_id = $1";
    const DELETE: &str = "delete from reading where sensor_id = $1 and at_ms < $2";
    prune_by_slices(db, SENSORS, before_ms, HOUR_MS, OLDEST, DELETE).await
}

/// Deletes, for every sensor, the rows that `oldest` (the oldest time of sensor `$1`) and
/// `delete` (rows of sensor `$1` before `$2`) select, `slice_ms` at a time, up to `before_ms`.
async fn prune_by_slices(
    db: &Db,
    sensors: &'static str,
    before_ms: i64,
    slice_ms: i64,
    oldest: &'static str,
    delete: &'static str,
) -> Result<u64, Error> {
    let sensors: Vec<i64> = with_db!(db, read, |pool| sqlx::query_scalar(sensors).fetch_all(pool).await)?;
    let mut deleted = 0;
    for sensor_id in sensors {
        loop {
            let first: Option<i64> =
                with_db!(db, read, |pool| sqlx::query_scalar(oldest).bind(sensor_id).fetch_one(pool).await)?;
            let Some(first) = first.filter(|first| *first < before_ms) else { break };
            let end = before_ms.min(first.saturating_add(slice_ms));
            deleted += with_db!(db, write, |pool| sqlx::query(delete)
                .bind(sensor_id)
                .bind(end)
                .execute(pool)
                .await?
                .rows_affected());
            tokio::task::yield_now().await;
        }
    }
    Ok(deleted)
}

/// Deletes the `tier_ms` buckets that start before `before_ms`, a day at a time.
pub async fn prune_tier(db: &Db, tier_ms: i64, before_ms: i64) -> Result<u64, Error> {
    let (oldest, delete) = match tier_ms {
        MINUTE_MS => (
            "select min(bucket_ms) from rollup where sensor_id = $1 and tier_ms = 60000",
            "delete from rollup where sensor_id = $1 and tier_ms = 60000 and bucket_ms < $2",
        ),
        TEN_MINUTES_MS => (
            "select min(bucket_ms) from rollup where sensor_id = $1 and tier_ms = 600000",
            "delete from rollup where sensor_id = $1 and tier_ms = 600000 and bucket_ms < $2",
        ),
        _ => (
            "select min(bucket_ms) from rollup where sensor_id = $1 and tier_ms = 3600000",
            "delete from rollup where sensor_id = $1 and tier_ms = 3600000 and bucket_ms < $2",
        ),
    };
    const SENSORS: &str = "select sensor_id from sensor order by sensor_id";
    prune_by_slices(db, SENSORS, before_ms, DAY_MS, oldest, delete).await
}
