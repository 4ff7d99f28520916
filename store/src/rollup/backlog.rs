//! The rollup backlog (SQLite): readings already committed whose merge into the rollup table
//! waits. A commit of a few readings per sensor would otherwise rewrite, for every sensor, the
//! table pages of its newest minute, ten minutes and hour; it appends its readings' 1-minute
//! buckets to the end of `rollup_backlog` instead (a page or two), and the writer merges the
//! readings into every tier in bulk: at most [`FLUSH_AFTER`] later, once [`FLUSH_READINGS`]
//! wait, and before any query reads rollups ([`Db::settle`](crate::Db)). The buckets of all
//! the readings waiting are computed at once, in time order, so they are exact however the
//! commits interleaved. What a crash leaves in the table is merged when the writer starts:
//! each 1-minute bucket also into its ten-minute and hour buckets.
//!
//! PostgreSQL, whose servers may share a database, merges into the rollups in each commit.

use super::merge;
use hearth_core::reading::Stored;
use hearth_core::rollup::{Bucket, Merged, TIERS, buckets};
use hearth_core::time::MINUTE_MS;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Database, Encode, QueryBuilder, Type};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The longest a reading waits in the backlog while nothing asks for rollups.
pub(crate) const FLUSH_AFTER: Duration = Duration::from_millis(250);
/// Readings waiting at which the backlog is merged without waiting longer.
pub(crate) const FLUSH_READINGS: usize = 100_000;
/// How long the writer waits to merge the backlog again after it failed, unless a reader
/// asks.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The backlog as the writer keeps it: the readings committed since the last merge, or
/// after a crash the buckets its table held.
#[derive(Debug)]
pub(crate) struct Backlog {
    readings: Vec<Stored>,
    /// Buckets of every tier read back from the table, merged, with whether their readings
    /// interleaved (the increase is then counted again from the raw readings).
    recovered: HashMap<(i64, i64, i64), (Bucket, Merged)>,
    since: Option<Instant>,
    /// After a merge failed: not before then again, unless a reader asks.
    retry_at: Option<Instant>,
    /// Whether the table was read since the writer started.
    loaded: bool,
    /// Set while anything waits (or may, before the table is read), for readers to see.
    waiting: Arc<AtomicBool>,
}

impl Backlog {
    /// An empty backlog that has not read its table yet; `waiting` is shared with readers.
    pub(crate) fn new(waiting: Arc<AtomicBool>) -> Backlog {
        waiting.store(true, Ordering::Release);
        Backlog { readings: Vec::new(), recovered: HashMap::new(), since: None, retry_at: None, loaded: false, waiting }
    }

    /// Whether the backlog should be merged now, by its size or age.
    pub(crate) fn due(&self) -> bool {
        let now = Instant::now();
        if self.retry_at.is_some_and(|at| now < at) {
            return false;
        }
        self.readings.len() >= FLUSH_READINGS || self.since.is_some_and(|since| now >= since + FLUSH_AFTER)
    }

    /// When the backlog will be due by age, if anything waits.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let due = self.since? + FLUSH_AFTER;
        Some(self.retry_at.map_or(due, |at| at.max(due)))
    }

    /// Takes in `stored`, whose 1-minute buckets a transaction that is about to commit (or
    /// has committed) appended to the table. Readers see that something waits from now on.
    pub(crate) fn add(&mut self, stored: Vec<Stored>) {
        if stored.is_empty() {
            return;
        }
        self.waiting.store(true, Ordering::Release);
        self.since.get_or_insert_with(Instant::now);
        self.readings.extend(stored);
    }

    /// Reads the table, once after the writer starts: the buckets of readings a crash kept
    /// from being merged, each 1-minute bucket also counted into its coarser tiers.
    async fn load(&mut self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        if self.loaded {
            return Ok(());
        }
        const SQL: &str = "select sensor_id, tier_ms, bucket_ms, value_count, value_sum, value_min, value_max, \
             first_at_ms, first_value, last_at_ms, last_value, value_increase from rollup_backlog order by seq";
        let rows: Vec<BacklogRow> = sqlx::query_as(SQL).fetch_all(&mut *conn).await?;
        for minute in rows.into_iter().map(Bucket::from) {
            for tier_ms in TIERS {
                merge_into(&mut self.recovered, minute.in_tier(tier_ms));
            }
        }
        self.loaded = true;
        if self.recovered.is_empty() && self.readings.is_empty() {
            self.waiting.store(false, Ordering::Release);
        }
        Ok(())
    }

    /// Merges the backlog into the rollups and empties its table, in one transaction on the
    /// writer's connection `conn`; a no-op when nothing waits. On failure the backlog is kept
    /// as it was, and not tried again by age for [`RETRY_AFTER`].
    pub(crate) async fn flush(&mut self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        let result = self.try_flush(conn).await;
        self.retry_at = result.is_err().then(|| Instant::now() + RETRY_AFTER);
        result
    }

    async fn try_flush(&mut self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        self.load(conn).await?;
        if self.recovered.is_empty() && self.readings.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let mut merged = self.recovered.clone();
        for bucket in buckets(&self.readings) {
            merge_into(&mut merged, bucket);
        }
        let mut merged: Vec<(Bucket, Merged)> = merged.into_values().collect();
        merged.sort_by_key(|(b, _)| (b.sensor_id, b.tier_ms, b.bucket_ms));
        let all: Vec<Bucket> = merged.iter().map(|(b, _)| *b).collect();
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "begin immediate").await?;
        for chunk in all.chunks(merge::BUCKETS_PER_UPSERT) {
            let persistent = chunk.len() == merge::BUCKETS_PER_UPSERT || chunk.len() <= 64;
            merge::upsert(chunk).build().persistent(persistent).execute(&mut *tx).await?;
        }
        for (bucket, _) in merged.iter().filter(|(_, how)| *how == Merged::Interleaved) {
            sqlx::query(RECOUNT).bind(bucket.sensor_id).bind(bucket.tier_ms).bind(bucket.bucket_ms).execute(&mut *tx).await?;
        }
        sqlx::query("delete from rollup_backlog").execute(&mut *tx).await?;
        tx.commit().await?;
        metrics::histogram!("hearth_rollup_flush_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("hearth_rollup_flush_readings").record(self.readings.len() as f64);
        self.readings.clear();
        self.recovered.clear();
        self.since = None;
        self.waiting.store(false, Ordering::Release);
        Ok(())
    }
}

/// Merges `bucket` into the bucket of `merged` with its key, or adds it there.
fn merge_into(merged: &mut HashMap<(i64, i64, i64), (Bucket, Merged)>, bucket: Bucket) {
    match merged.entry((bucket.sensor_id, bucket.tier_ms, bucket.bucket_ms)) {
        Entry::Vacant(entry) => {
            entry.insert((bucket, Merged::Exactly));
        }
        Entry::Occupied(mut entry) => {
            let (into, how) = entry.get_mut();
            if into.merge(&bucket) == Merged::Interleaved {
                *how = Merged::Interleaved;
            }
        }
    }
}

/// Appends to `query` an insert into the backlog's table of `minutes`, 1-minute buckets, one
/// row each.
pub(crate) fn push_append<DB>(query: &mut QueryBuilder<DB>, minutes: &[Bucket])
where
    DB: Database,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> f64: Encode<'t, DB> + Type<DB>,
{
    debug_assert!(minutes.iter().all(|b| b.tier_ms == MINUTE_MS));
    query.push(
        "insert into rollup_backlog (sensor_id, tier_ms, bucket_ms, value_count, value_sum, value_min, \
         value_max, first_at_ms, first_value, last_at_ms, last_value, value_increase) ",
    );
    merge::push_bucket_values(query, minutes);
}

/// Counts the increase of one rollup bucket (`$1` sensor, `$2` tier, `$3` start) again from its
/// raw readings: for buckets merged from readings that interleaved, whose increase only the
/// readings give. Where some of them are gone (retention) the increase merged stays.
const RECOUNT: &str = "update rollup set value_increase = ( \
       select case when count(*) = rollup.value_count \
              then coalesce(sum(case when step > 0 then step else 0 end), 0) else rollup.value_increase end \
       from (select r.value - lag(r.value) over (order by r.at_ms) as step from reading r \
             where r.sensor_id = rollup.sensor_id and r.at_ms >= rollup.bucket_ms \
             and r.at_ms < rollup.bucket_ms + rollup.tier_ms) steps) \
     where sensor_id = $1 and tier_ms = $2 and bucket_ms = $3";

#[derive(sqlx::FromRow)]
struct BacklogRow {
    sensor_id: i64,
    tier_ms: i64,
    bucket_ms: i64,
    value_count: i64,
    value_sum: f64,
    value_min: f64,
    value_max: f64,
    first_at_ms: i64,
    first_value: f64,
    last_at_ms: i64,
    last_value: f64,
    value_increase: f64,
}

impl From<BacklogRow> for Bucket {
    fn from(row: BacklogRow) -> Bucket {
        Bucket {
            sensor_id: row.sensor_id,
            tier_ms: row.tier_ms,
            bucket_ms: row.bucket_ms,
            count: row.value_count,
            sum: row.value_sum,
            min: row.value_min,
            max: row.value_max,
            first_at_ms: row.first_at_ms,
            first_value: row.first_value,
            last_at_ms: row.last_at_ms,
            last_value: row.last_value,
            increase: row.value_increase,
        }
    }
}
