//! Readings: storing a batch through the group writer, and reading histories back as
//! buckets (from the rollups when they are wide enough), extremes and latest values.

use crate::db::Db;
use crate::pool::{Backend, with_db};
use crate::error::Error;
use hearth_core::device::Device;
use crate::bus::Event;
use hearth_core::reading::{Bucket, Incoming, MAX_POINTS, Point, Series};
use hearth_core::sensor::{Kind, Sensor};

pub use crate::writer::Outcome;

/// Batches up to this size go through PostgreSQL's group writer; larger ones commit alone.
pub const GROUP_BATCH_MAX: usize = 100;

/// Stores a batch from `device`: creates the sensors it introduces, checks every reading
/// against its sensor's kind and inserts the readings, all in one transaction, and announces
/// the stored ones on the bus once they are committed. A reading whose (sensor, time) is already stored counts as a
/// duplicate. When this returns `Ok`, the batch is durably committed; on `Err`, nothing of it
/// is stored.
///
/// Batches posted at the same time are committed together by the group writer, so many small
/// requests share one disk flush; on PostgreSQL a batch of more than [`GROUP_BATCH_MAX`]
/// readings is worth a transaction of its own beside it.
pub async fn store(db: &Db, device: &Device, batch: Vec<Incoming>) -> Result<Outcome, Error> {
    if batch.is_empty() {
        return Ok(Outcome::default());
    }
    match &db.backend {
        Backend::Postgres { pool } if batch.len() > GROUP_BATCH_MAX => crate::writer::commit_alone(pool, device, &batch).await,
        Backend::Postgres { .. } => db.writer.submit(device.clone(), batch).await,
        // Announced here, in the request's task, so that the writer goes on to the next group.
        Backend::Sqlite { .. } => {
            let outcome = db.writer.submit(device.clone(), batch).await?;
            if !outcome.stored.is_empty() {
                db.bus.deliver(&Event::Readings(outcome.stored.iter().cloned().collect()));
            }
            Ok(outcome)
        }
    }
}

/// [`history_in`] with at most [`MAX_POINTS`] points per sensor.
pub async fn history(db: &Db, kind: Kind, from_ms: i64, to_ms: i64) -> Result<Vec<Series>, Error> {
    history_in(db, kind, from_ms, to_ms, MAX_POINTS).await
}

/// The history of every sensor of `kind` between `from_ms` and `to_ms`, as at most
/// `points` buckets per sensor (mean, min and max of each), with each sensor's latest
/// reading. Buckets at least a minute wide are read from the coarsest rollup tier that
/// fits, not from raw readings; narrower ones are single readings.
pub async fn history_in(db: &Db, kind: Kind, from_ms: i64, to_ms: i64, points: i64) -> Result<Vec<Series>, Error> {
    let sensors = crate::sensor::list_by_kind(db, kind).await?;
    let mut series = Vec::with_capacity(sensors.len());
    for sensor in sensors {
        series.push(sensor_history(db, sensor, from_ms, to_ms, points).await?);
    }
    // The order of the legend and of live additions (`merge_live`), whatever the database's.
    series.sort_by_cached_key(|s| (s.sensor.label(), s.sensor.sensor_id));
    Ok(series)
}

/// One sensor's history, as [`history`] gives it.
pub async fn sensor_history(db: &Db, sensor: Sensor, from_ms: i64, to_ms: i64, points: i64) -> Result<Series, Error> {
    const LATEST: &str = "select at_ms, value from reading where sensor_id = $1 \
         order by at_ms desc limit 1";
    let plan = Plan::new(from_ms, to_ms, points);
    let buckets = buckets(db, sensor.sensor_id, from_ms, to_ms, plan).await?;
    let latest: Option<(i64, f64)> =
        with_db!(db, read, |pool| sqlx::query_as(LATEST).bind(sensor.sensor_id).fetch_optional(pool).await)?;
    let half = plan.bucket_ms / 2;
    let points = buckets
        .into_iter()
        .map(|b| {
            if b.count == 1 && plan.tier_ms.is_none() {
                Point { at_ms: b.first_at_ms, value: b.mean, min: b.min, max: b.max, span_ms: 0 }
            } else {
                Point { at_ms: b.start_ms + half, value: b.mean, min: b.min, max: b.max, span_ms: plan.bucket_ms }
            }
        })
        .collect();
    Ok(Series { sensor, points, latest: latest.map(|(at_ms, value)| Point::raw(at_ms, value)) })
}

/// The smallest and largest value of a sensor in `[from_ms, to_ms)`, from the 1-minute
/// rollups (`from_ms` and `to_ms` are taken as whole minutes; local days start on one).
pub async fn extremes(db: &Db, sensor_id: i64, from_ms: i64, to_ms: i64) -> Result<Option<(f64, f64)>, Error> {
    const SQL: &str = "select min(value_min), max(value_max) from rollup \
         where sensor_id = $1 and tier_ms = 60000 and bucket_ms >= $2 and bucket_ms < $3";
    db.settle().await?;
    let (lo, hi): (Option<f64>, Option<f64>) =
        with_db!(db, read, |pool| sqlx::query_as(SQL).bind(sensor_id).bind(from_ms).bind(to_ms).fetch_one(pool).await)?;
    Ok(lo.zip(hi))
}

/// Where a range query reads from, and how wide its buckets are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Bucket width in milliseconds: the range divided by the points asked for, or wider.
    pub bucket_ms: i64,
    /// The rollup tier read, or `None` for raw readings.
    pub tier_ms: Option<i64>,
}

impl Plan {
    /// The plan for `points` buckets over `[from_ms, to_ms)`.
    pub fn new(from_ms: i64, to_ms: i64, points: i64) -> Plan {
        let bucket_ms = ((to_ms - from_ms) / points.max(1)).max(1);
        Plan { bucket_ms, tier_ms: hearth_core::rollup::tier_for(bucket_ms) }
    }
}

/// One sensor's readings in `[from_ms, to_ms)` as buckets of `plan.bucket_ms` (aligned to
/// multiples of it), from the rollup tier the plan names or from raw readings.
pub async fn buckets(db: &Db, sensor_id: i64, from_ms: i64, to_ms: i64, plan: Plan) -> Result<Vec<Bucket>, Error> {
    const RAW: &str = "select (at_ms / $4) * $4 as start_ms, min(value) as min, max(value) as max, \
         avg(value) as mean, count(*) as count, min(at_ms) as first_at_ms \
         from reading where sensor_id = $1 and at_ms >= $2 and at_ms < $3 \
         group by at_ms / $4 order by 1";
    const ROLLUP: &str = "select (bucket_ms / $4) * $4 as start_ms, min(value_min) as min, \
         max(value_max) as max, sum(value_sum) / sum(value_count) as mean, \
         cast(sum(value_count) as bigint) as count, min(first_at_ms) as first_at_ms \
         from rollup where sensor_id = $1 and tier_ms = $5 and bucket_ms >= $2 and bucket_ms < $3 \
         group by bucket_ms / $4 order by 1";
    if plan.tier_ms.is_some() {
        db.settle().await?;
    }
    let rows: Vec<(i64, f64, f64, f64, i64, i64)> = with_db!(db, read, |pool| {
        let query = match plan.tier_ms {
            Some(tier_ms) => sqlx::query_as(ROLLUP).bind(sensor_id).bind(from_ms).bind(to_ms).bind(plan.bucket_ms).bind(tier_ms),
            None => sqlx::query_as(RAW).bind(sensor_id).bind(from_ms).bind(to_ms).bind(plan.bucket_ms),
        };
        query.fetch_all(pool).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(start_ms, min, max, mean, count, first_at_ms)| Bucket { start_ms, min, max, mean, count, first_at_ms })
        .collect())
}
