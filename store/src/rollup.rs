//! The rollup table: merging newly stored readings into it ([`merge`]: in the writer's
//! transaction on PostgreSQL, from the [`backlog`] in bulk on SQLite), and reading spans back
//! by the segments of a range.

pub(crate) mod backlog;
pub(crate) mod merge;

use crate::db::Db;
use crate::pool::{Backend, with_db};
use crate::error::Error;
use hearth_core::rollup::{Segment, Span, TEN_MINUTES_MS, segments};
use hearth_core::time::{HOUR_MS, MINUTE_MS};
use sqlx::QueryBuilder;

/// The spans of sensor `sensor_id` between the first and last of the sorted `boundaries`,
/// oldest first, each inside one interval: read as [`segments`] says, one query per tier.
pub async fn spans_within(db: &Db, sensor_id: i64, boundaries: &[i64]) -> Result<Vec<Span>, Error> {
    let segments = segments(boundaries);
    let mut out = Vec::new();
    for tier_ms in [None, Some(MINUTE_MS), Some(TEN_MINUTES_MS), Some(HOUR_MS)] {
        let ranges: Vec<(i64, i64)> =
            segments.iter().filter(|s| s.tier_ms == tier_ms).map(|s| (s.from_ms, s.to_ms)).collect();
        if !ranges.is_empty() {
            out.extend(read_ranges(db, sensor_id, tier_ms, &ranges).await?);
        }
    }
    out.sort_by_key(|span| span.at_ms);
    Ok(out)
}

/// The spans of sensor `sensor_id` in one segment, oldest first: the buckets of its tier
/// that start in it, or its raw readings.
pub async fn segment_spans(db: &Db, sensor_id: i64, segment: Segment) -> Result<Vec<Span>, Error> {
    read_ranges(db, sensor_id, segment.tier_ms, &[(segment.from_ms, segment.to_ms)]).await
}

/// The buckets of `tier_ms` (or raw readings) of sensor `sensor_id` that start in any of
/// `ranges`, oldest first. The ranges are a table the query loops over, one index search
/// each: SQLite keeps the order of a `cross join`, and PostgreSQL that of a `lateral`
/// subquery it cannot flatten (`offset 0`); otherwise both may scan all of the sensor's
/// rows against every range.
async fn read_ranges(db: &Db, sensor_id: i64, tier_ms: Option<i64>, ranges: &[(i64, i64)]) -> Result<Vec<Span>, Error> {
    const RAW: &str = "select r.at_ms, cast(1 as bigint) as count, r.value as sum, r.value as min, r.value as max, \
         r.value as first_value, r.value as last_value, cast(0 as double precision) as increase";
    const ROLLUP: &str = "select r.bucket_ms as at_ms, r.value_count as count, r.value_sum as sum, \
         r.value_min as min, r.value_max as max, r.first_value, r.last_value, r.value_increase as increase";
    if tier_ms.is_some() {
        db.settle().await?;
    }
    let (table, column, select) = match tier_ms {
        Some(_) => ("rollup", "bucket_ms", ROLLUP),
        None => ("reading", "at_ms", RAW),
    };
    macro_rules! query {
        ($pool:expr, $lateral:expr) => {{
            let mut query = QueryBuilder::new("with ranges (from_ms, to_ms) as (");
            query.push_values(ranges, |mut row, (from_ms, to_ms)| {
                row.push_bind(*from_ms).push_bind(*to_ms);
            });
            query.push(format_args!(") {select} from ranges cross join "));
            query.push(if $lateral { "lateral (select * from " } else { "" }).push(table);
            query.push(if $lateral { " where " } else { " r where " });
            query.push(format_args!("{column} >= ranges.from_ms and {column} < ranges.to_ms and sensor_id = ")).push_bind(sensor_id);
            if let Some(tier_ms) = tier_ms {
                query.push(" and tier_ms = ").push_bind(tier_ms);
            }
            query.push(if $lateral { " offset 0) r" } else { "" }).push(format_args!(" order by r.{column}"));
            query.build_query_as().fetch_all($pool).await
        }};
    }
    let rows: Vec<(i64, i64, f64, f64, f64, f64, f64, f64)> = match &db.backend {
        Backend::Sqlite { read, .. } => query!(read, false),
        Backend::Postgres { pool } => query!(pool, true),
    }?;
    Ok(rows
        .into_iter()
        .map(|(at_ms, count, sum, min, max, first_value, last_value, increase)| Span {
            at_ms,
            count,
            sum,
            min,
            max,
            first_value,
            last_value,
            increase,
        })
        .collect())
}

/// The value of sensor `sensor_id`'s last reading before `at_ms`: the raw reading, or where
/// raw readings were deleted, the last value of the newest bucket that ends by `at_ms`.
pub async fn last_before(db: &Db, sensor_id: i64, at_ms: i64) -> Result<Option<f64>, Error> {
    const SQL: &str = "select value from ( \
           select * from (select at_ms, value from reading where sensor_id = $1 and at_ms < $2 \
                          order by at_ms desc limit 1) r \
           union all select * from (select last_at_ms, last_value from rollup where sensor_id = $1 \
                          and tier_ms = 60000 and bucket_ms <= $2 - 60000 order by bucket_ms desc limit 1) m \
           union all select * from (select last_at_ms, last_value from rollup where sensor_id = $1 \
                          and tier_ms = 600000 and bucket_ms <= $2 - 600000 order by bucket_ms desc limit 1) t \
           union all select * from (select last_at_ms, last_value from rollup where sensor_id = $1 \
                          and tier_ms = 3600000 and bucket_ms <= $2 - 3600000 order by bucket_ms desc limit 1) h \
         ) latest order by at_ms desc limit 1";
    db.settle().await?;
    Ok(with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(sensor_id).bind(at_ms).fetch_optional(pool).await)?)
}

