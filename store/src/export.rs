//! Reading stored history back a page at a time for export, by keyset (after the last time
//! read, never by offset), so that an export of any size holds one page in memory and each
//! page is found through the primary key.

use crate::db::Db;
use crate::error::Error;
use crate::pool::with_db;

/// One rollup bucket as exported: start, count, mean, min and max.
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct BucketRow {
    /// Start of the bucket, Unix ms.
    pub bucket_ms: i64,
    /// Readings in it.
    pub count: i64,
    /// Their sum (the mean is `sum / count`).
    pub sum: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// At most `limit` raw readings `(at_ms, value)` of `sensor_id` with `after_ms < at_ms <
/// to_ms`, oldest first.
pub async fn readings_after(db: &Db, sensor_id: i64, after_ms: i64, to_ms: i64, limit: i64) -> Result<Vec<(i64, f64)>, Error> {
    const SQL: &str = "select at_ms, value from reading where sensor_id = $1 and at_ms > $2 and at_ms < $3 \
         order by at_ms limit $4";
    Ok(with_db!(db, read, |pool| sqlx::query_as(SQL).bind(sensor_id).bind(after_ms).bind(to_ms).bind(limit).fetch_all(pool).await)?)
}

/// At most `limit` buckets of `sensor_id`'s `tier_ms` rollup with `after_ms < bucket_ms <
/// to_ms`, oldest first.
pub async fn buckets_after(
    db: &Db,
    sensor_id: i64,
    tier_ms: i64,
    after_ms: i64,
    to_ms: i64,
    limit: i64,
) -> Result<Vec<BucketRow>, Error> {
    const SQL: &str = "select bucket_ms, value_count as count, value_sum as sum, value_min as min, value_max as max \
         from rollup where sensor_id = $1 and tier_ms = $2 and bucket_ms > $3 and bucket_ms < $4 \
         order by bucket_ms limit $5";
    Ok(with_db!(db, read, |pool| {
        sqlx::query_as(SQL).bind(sensor_id).bind(tier_ms).bind(after_ms).bind(to_ms).bind(limit).fetch_all(pool).await
    })?)
}
