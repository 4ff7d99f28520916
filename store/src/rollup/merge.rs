//! Merging newly stored readings into the rollup table, in the writer's open transaction: one
//! upsert per thousand buckets, the same SQL on SQLite and PostgreSQL.

use hearth_core::rollup::Bucket;
use sqlx::{Database, Encode, QueryBuilder, Type};

/// Buckets per statement: 12 bind parameters each stays below both databases' limits.
pub const BUCKETS_PER_UPSERT: usize = 1000;

/// An upsert merging `buckets` into the rollup table: counts and sums add up, extremes
/// widen, and the first and last readings move only if these are earlier or later. The
/// increase of readings that all come after (or all before) the stored ones is the two
/// increases plus the step between them; readings that land between stored ones make the
/// bucket's increase be recomputed from its raw readings (which the transaction has just
/// inserted), unless some of those are gone (retention), when the two increases are added.
/// The SQL is the same for SQLite and PostgreSQL.
pub fn upsert<DB>(buckets: &[Bucket]) -> QueryBuilder<DB>
where
    DB: Database,
    DB::Arguments: Default,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> f64: Encode<'t, DB> + Type<DB>,
{
    let mut upsert = QueryBuilder::new("");
    push_upsert(&mut upsert, buckets);
    upsert
}

/// Appends [`upsert`]'s statement to `upsert`, after what it holds already (on SQLite, a
/// statement before it, so that both go to the database at once). Every bucket changes one
/// row, inserted or updated.
pub fn push_upsert<DB>(upsert: &mut QueryBuilder<DB>, buckets: &[Bucket])
where
    DB: Database,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> f64: Encode<'t, DB> + Type<DB>,
{
    upsert.push(
        "insert into rollup (sensor_id, tier_ms, bucket_ms, value_count, value_sum, value_min, \
         value_max, first_at_ms, first_value, last_at_ms, last_value, value_increase) ",
    );
    push_bucket_values(upsert, buckets);
    upsert.push(
        " on conflict (sensor_id, tier_ms, bucket_ms) do update set \
         value_count = rollup.value_count + excluded.value_count, \
         value_sum = rollup.value_sum + excluded.value_sum, \
         value_min = case when excluded.value_min < rollup.value_min then excluded.value_min else rollup.value_min end, \
         value_max = case when excluded.value_max > rollup.value_max then excluded.value_max else rollup.value_max end, \
         first_at_ms = case when excluded.first_at_ms < rollup.first_at_ms then excluded.first_at_ms else rollup.first_at_ms end, \
         first_value = case when excluded.first_at_ms < rollup.first_at_ms then excluded.first_value else rollup.first_value end, \
         last_at_ms = case when excluded.last_at_ms > rollup.last_at_ms then excluded.last_at_ms else rollup.last_at_ms end, \
         last_value = case when excluded.last_at_ms > rollup.last_at_ms then excluded.last_value else rollup.last_value end, \
         value_increase = case \
           when excluded.first_at_ms > rollup.last_at_ms then rollup.value_increase + excluded.value_increase \
             + case when excluded.first_value > rollup.last_value then excluded.first_value - rollup.last_value else 0 end \
           when excluded.last_at_ms < rollup.first_at_ms then rollup.value_increase + excluded.value_increase \
             + case when rollup.first_value > excluded.last_value then rollup.first_value - excluded.last_value else 0 end \
           else (select case when count(*) = rollup.value_count + excluded.value_count \
                      then coalesce(sum(case when step > 0 then step else 0 end), 0) \
                      else rollup.value_increase + excluded.value_increase end \
                 from (select r.value - lag(r.value) over (order by r.at_ms) as step from reading r \
                       where r.sensor_id = rollup.sensor_id and r.at_ms >= rollup.bucket_ms \
                       and r.at_ms < rollup.bucket_ms + rollup.tier_ms) steps) \
         end",
    );
}

/// Appends the values of `buckets`, in the rollup table's column order, to an insert in
/// `query`.
pub fn push_bucket_values<DB>(query: &mut QueryBuilder<DB>, buckets: &[Bucket])
where
    DB: Database,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> f64: Encode<'t, DB> + Type<DB>,
{
    query.push_values(buckets, |mut row, b| {
        row.push_bind(b.sensor_id)
            .push_bind(b.tier_ms)
            .push_bind(b.bucket_ms)
            .push_bind(b.count)
            .push_bind(b.sum)
            .push_bind(b.min)
            .push_bind(b.max)
            .push_bind(b.first_at_ms)
            .push_bind(b.first_value)
            .push_bind(b.last_at_ms)
            .push_bind(b.last_value)
            .push_bind(b.increase);
    });
}
