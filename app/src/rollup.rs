//! Rollups: each sensor's readings aggregated over 1-minute, 10-minute and 1-hour buckets (count, sum,
//! min, max, first and last), merged in the same transaction as the readings they summarise,
//! so that queries over long spans read a few hundred rows instead of every reading, and still
//! work once old readings are deleted.

/// Width of the fine tier's buckets.
pub const MINUTE_MS: i64 = 60_000;
/// Width of the middle tier's buckets.
pub const TEN_MINUTES_MS: i64 = 600_000;
/// Width of the coarse tier's buckets.
pub const HOUR_MS: i64 = 3_600_000;
/// Every tier, finest first.
pub const TIERS: [i64; 3] = [MINUTE_MS, TEN_MINUTES_MS, HOUR_MS];

/// The tier's short name, as the read API reports it.
pub fn tier_name(tier_ms: i64) -> &'static str {
    match tier_ms {
        MINUTE_MS => "1m",
        TEN_MINUTES_MS => "10m",
        _ => "1h",
    }
}

/// The coarsest tier whose buckets are no wider than `bucket_ms` (so it still gives the
/// requested number of buckets), or `None` when only raw readings are fine enough.
pub fn tier_for(bucket_ms: i64) -> Option<i64> {
    TIERS.iter().rev().copied().find(|tier| *tier <= bucket_ms)
}

/// The start of the `tier_ms` bucket holding `at_ms` (which is never negative).
pub fn bucket_of(at_ms: i64, tier_ms: i64) -> i64 {
    at_ms - at_ms.rem_euclid(tier_ms)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Merging stored readings into the rollup table.

    use super::{TIERS, bucket_of};
    use crate::reading::ssr::Stored;
    use sqlx::{Database, Encode, QueryBuilder, Type};
    use std::collections::BTreeMap;

    /// The aggregate of some readings of one sensor within one bucket of one tier.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Bucket {
        /// The sensor.
        pub sensor_id: i64,
        /// The tier's bucket width.
        pub tier_ms: i64,
        /// Start of the bucket.
        pub bucket_ms: i64,
        /// How many readings.
        pub count: i64,
        /// Their sum.
        pub sum: f64,
        /// The smallest.
        pub min: f64,
        /// The largest.
        pub max: f64,
        /// Time of the earliest.
        pub first_at_ms: i64,
        /// Value of the earliest.
        pub first_value: f64,
        /// Time of the latest.
        pub last_at_ms: i64,
        /// Value of the latest.
        pub last_value: f64,
    }

    impl Bucket {
        fn add(&mut self, at_ms: i64, value: f64) {
            self.count += 1;
            self.sum += value;
            self.min = self.min.min(value);
            self.max = self.max.max(value);
            if at_ms < self.first_at_ms {
                (self.first_at_ms, self.first_value) = (at_ms, value);
            }
            if at_ms > self.last_at_ms {
                (self.last_at_ms, self.last_value) = (at_ms, value);
            }
        }
    }

    /// Aggregates newly stored readings into the buckets of every tier they fall in.
    pub fn buckets(stored: &[Stored]) -> Vec<Bucket> {
        let mut out: BTreeMap<(i64, i64, i64), Bucket> = BTreeMap::new();
        for reading in stored {
            let (at_ms, value) = (reading.at_ms, reading.value);
            for tier_ms in TIERS {
                let sensor_id = reading.sensor.sensor_id;
                let bucket_ms = bucket_of(at_ms, tier_ms);
                out.entry((sensor_id, tier_ms, bucket_ms))
                    .and_modify(|b| b.add(at_ms, value))
                    .or_insert(Bucket {
                        sensor_id,
                        tier_ms,
                        bucket_ms,
                        count: 1,
                        sum: value,
                        min: value,
                        max: value,
                        first_at_ms: at_ms,
                        first_value: value,
                        last_at_ms: at_ms,
                        last_value: value,
                    });
            }
        }
        out.into_values().collect()
    }

    /// Deletes the `tier_ms` buckets that start before `before_ms`, a day at a time.
    pub async fn prune(db: &crate::store::Db, tier_ms: i64, before_ms: i64) -> Result<u64, sqlx::Error> {
        let (oldest, delete) = match tier_ms {
            super::MINUTE_MS => (
                "select min(bucket_ms) from rollup where sensor_id = $1 and tier_ms = 60000",
                "delete from rollup where sensor_id = $1 and tier_ms = 60000 and bucket_ms < $2",
            ),
            super::TEN_MINUTES_MS => (
                "select min(bucket_ms) from rollup where sensor_id = $1 and tier_ms = 600000",
                "delete from rollup where sensor_id = $1 and tier_ms = 600000 and bucket_ms < $2",
            ),
            _ => (
                "select min(bucket_ms) from rollup where sensor_id = $1 and tier_ms = 3600000",
                "delete from rollup where sensor_id = $1 and tier_ms = 3600000 and bucket_ms < $2",
            ),
        };
        crate::reading::ssr::prune_by_slices(db, before_ms, 24 * super::HOUR_MS, oldest, delete).await
    }

    /// Buckets per statement: 11 bind parameters each stays below both databases' limits.
    pub const BUCKETS_PER_UPSERT: usize = 1000;

    /// An upsert merging `buckets` into the rollup table: counts and sums add up, extremes
    /// widen, and the first and last readings move only if these are earlier or later. The
    /// SQL is the same for SQLite and PostgreSQL.
    pub fn upsert<DB>(buckets: &[Bucket]) -> QueryBuilder<DB>
    where
        DB: Database,
        DB::Arguments: Default,
        for<'t> i64: Encode<'t, DB> + Type<DB>,
        for<'t> f64: Encode<'t, DB> + Type<DB>,
    {
        let mut upsert = QueryBuilder::new(
            "insert into rollup (sensor_id, tier_ms, bucket_ms, value_count, value_sum, value_min, \
             value_max, first_at_ms, first_value, last_at_ms, last_value) ",
        );
        upsert.push_values(buckets, |mut row, b| {
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
                .push_bind(b.last_value);
        });
        upsert.push(
            " on conflict (sensor_id, tier_ms, bucket_ms) do update set \
             value_count = rollup.value_count + excluded.value_count, \
             value_sum = rollup.value_sum + excluded.value_sum, \
             value_min = case when excluded.value_min < rollup.value_min then excluded.value_min else rollup.value_min end, \
             value_max = case when excluded.value_max > rollup.value_max then excluded.value_max else rollup.value_max end, \
             first_at_ms = case when excluded.first_at_ms < rollup.first_at_ms then excluded.first_at_ms else rollup.first_at_ms end, \
             first_value = case when excluded.first_at_ms < rollup.first_at_ms then excluded.first_value else rollup.first_value end, \
             last_at_ms = case when excluded.last_at_ms > rollup.last_at_ms then excluded.last_at_ms else rollup.last_at_ms end, \
             last_value = case when excluded.last_at_ms > rollup.last_at_ms then excluded.last_value else rollup.last_value end",
        );
        upsert
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::sensor::{Kind, Sensor};
        use std::sync::Arc;

        #[test]
        fn readings_aggregate_into_each_tier() {
            let sensor = Arc::new(Sensor { sensor_id: 3, device: "d".into(), key: "k".into(), kind: Kind::Power, room: None, name: None, main: false });
            let at = |at_ms: i64, value: f64| Stored { sensor: sensor.clone(), at_ms, value };
            // Out of order, across two minutes of one hour.
            let stored = [at(3_600_000 + 70_000, 5.0), at(3_600_000 + 10_000, 2.0), at(3_600_000 + 30_000, 8.0)];
            let buckets = buckets(&stored);
            assert_eq!(buckets.len(), 4, "two minutes, one ten-minute bucket, one hour");
            let minute = buckets.iter().find(|b| b.tier_ms == 60_000 && b.bucket_ms == 3_600_000).unwrap();
            assert_eq!((minute.count, minute.sum, minute.min, minute.max), (2, 10.0, 2.0, 8.0));
            assert_eq!((minute.first_value, minute.last_value), (2.0, 8.0));
            let hour = buckets.iter().find(|b| b.tier_ms == 3_600_000).unwrap();
            assert_eq!((hour.count, hour.first_at_ms, hour.last_value), (3, 3_610_000, 5.0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coarsest_tier_that_still_gives_the_buckets_asked_for() {
        assert_eq!(tier_for(59_999), None);
        assert_eq!(tier_for(144_000), Some(MINUTE_MS));
        assert_eq!(tier_for(2_592_000), Some(TEN_MINUTES_MS));
        assert_eq!(tier_for(4_320_000), Some(HOUR_MS));
        assert_eq!(bucket_of(3_599_999, HOUR_MS), 0);
        assert_eq!(bucket_of(3_659_999, HOUR_MS), 3_600_000);
        assert_eq!(bucket_of(3_600_000, HOUR_MS), 3_600_000);
    }
}
