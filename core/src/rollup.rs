//! Rollups: each sensor's readings aggregated over 1-minute, 10-minute and 1-hour buckets (count, sum,
//! min, max, first and last, and the increase: the sum of positive steps between consecutive
//! readings), merged in the same transaction as the readings they summarise, so that queries
//! over long spans read a few hundred rows instead of every reading, and still work once old
//! readings are deleted.

use crate::reading::Stored;
use crate::time::{HOUR_MS, MINUTE_MS};

/// Width of the middle tier's buckets (the fine tier's is a minute, the coarse one's an hour).
pub const TEN_MINUTES_MS: i64 = 10 * MINUTE_MS;
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

/// A stretch of time to read from one source: the buckets of a tier that start inside it, or
/// raw readings when `tier_ms` is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The tier, or `None` for raw readings.
    pub tier_ms: Option<i64>,
    /// Start, inclusive.
    pub from_ms: i64,
    /// End, exclusive.
    pub to_ms: i64,
}

/// Where to read the intervals of the sorted `boundaries` from, so that every reading between
/// the first and the last boundary is read exactly once and no bucket straddles a boundary:
/// each interval as whole hourly buckets, the partial hours at its ends as whole 10-minute,
/// then 1-minute buckets, and raw readings only for what is left (less than a minute at each
/// end). Segments oldest first; neighbours of the same tier are merged.
pub fn segments(boundaries: &[i64]) -> Vec<Segment> {
    let mut out = Vec::new();
    for w in boundaries.windows(2) {
        push_segments(&mut out, w[0], w[1], &TIERS);
    }
    out.dedup_by(|next, previous| {
        let adjacent = next.tier_ms == previous.tier_ms && next.from_ms == previous.to_ms;
        if adjacent {
            previous.to_ms = next.to_ms;
        }
        adjacent
    });
    out
}

/// Pushes `[from_ms, to_ms)` as whole buckets of the coarsest of `tiers` (finest first) that
/// fits, and its ends recursively with the finer ones.
fn push_segments(out: &mut Vec<Segment>, from_ms: i64, to_ms: i64, tiers: &[i64]) {
    if from_ms >= to_ms {
        return;
    }
    let Some((&tier, finer)) = tiers.split_last() else {
        out.push(Segment { tier_ms: None, from_ms, to_ms });
        return;
    };
    let (start, end) = (bucket_of(from_ms + tier - 1, tier), bucket_of(to_ms, tier));
    if start >= end {
        return push_segments(out, from_ms, to_ms, finer);
    }
    push_segments(out, from_ms, start, finer);
    out.push(Segment { tier_ms: Some(tier), from_ms: start, to_ms: end });
    push_segments(out, end, to_ms, finer);
}

/// Readings summarised: one raw reading, or the readings of a rollup bucket. Spans are what
/// interval aggregates ([`Stats`], consumption, …) are computed from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    /// Where the span is counted: the reading's time, or the bucket's start.
    pub at_ms: i64,
    /// How many readings.
    pub count: i64,
    /// Their sum.
    pub sum: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// Value of the earliest.
    pub first_value: f64,
    /// Value of the latest.
    pub last_value: f64,
    /// Sum of the positive steps between consecutive readings inside the span.
    pub increase: f64,
}

impl Span {
    /// A single reading.
    pub fn reading(at_ms: i64, value: f64) -> Span {
        Span { at_ms, count: 1, sum: value, min: value, max: value, first_value: value, last_value: value, increase: 0.0 }
    }
}

/// Count, sum, min and max of the readings of an interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// How many readings.
    pub count: i64,
    /// Their sum.
    pub sum: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl Stats {
    /// The mean value.
    pub fn mean(&self) -> f64 {
        self.sum / self.count as f64
    }
}

/// The index of the interval `[boundaries[i], boundaries[i + 1])` holding `at_ms`, if any.
pub fn interval_of(boundaries: &[i64], at_ms: i64) -> Option<usize> {
    let after = boundaries.partition_point(|b| *b <= at_ms);
    (after > 0 && after < boundaries.len()).then(|| after - 1)
}

/// The statistics of the spans counted in each interval of the sorted `boundaries`; `None`
/// for an interval without readings.
pub fn stats_per_interval(spans: &[Span], boundaries: &[i64]) -> Vec<Option<Stats>> {
    let mut out: Vec<Option<Stats>> = vec![None; boundaries.len().saturating_sub(1)];
    for span in spans {
        let Some(i) = interval_of(boundaries, span.at_ms) else { continue };
        let merged = match out[i] {
            None => Stats { count: span.count, sum: span.sum, min: span.min, max: span.max },
            Some(s) => Stats { count: s.count + span.count, sum: s.sum + span.sum, min: s.min.min(span.min), max: s.max.max(span.max) },
        };
        out[i] = Some(merged);
    }
    out
}

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
    /// Sum of the positive steps between consecutive readings.
    pub increase: f64,
}

impl Bucket {
    fn new(sensor_id: i64, tier_ms: i64, at_ms: i64, value: f64) -> Bucket {
        Bucket {
            sensor_id,
            tier_ms,
            bucket_ms: bucket_of(at_ms, tier_ms),
            count: 1,
            sum: value,
            min: value,
            max: value,
            first_at_ms: at_ms,
            first_value: value,
            last_at_ms: at_ms,
            last_value: value,
            increase: 0.0,
        }
    }

    /// Adds a reading later than every reading in the bucket.
    fn push(&mut self, at_ms: i64, value: f64) {
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.increase += (value - self.last_value).max(0.0);
        (self.last_at_ms, self.last_value) = (at_ms, value);
    }

    /// The same readings as a bucket of the coarser tier `tier_ms`.
    pub fn in_tier(&self, tier_ms: i64) -> Bucket {
        Bucket { tier_ms, bucket_ms: bucket_of(self.bucket_ms, tier_ms), ..*self }
    }

    /// Merges `other`, which holds other readings of the same sensor, tier and bucket, into
    /// this one: what SQL's merge of a new bucket into a stored one does, in memory.
    pub fn merge(&mut self, other: &Bucket) -> Merged {
        debug_assert_eq!((self.sensor_id, self.tier_ms, self.bucket_ms), (other.sensor_id, other.tier_ms, other.bucket_ms));
        let merged = if other.first_at_ms > self.last_at_ms {
            self.increase += other.increase + (other.first_value - self.last_value).max(0.0);
            Merged::Exactly
        } else if other.last_at_ms < self.first_at_ms {
            self.increase += other.increase + (self.first_value - other.last_value).max(0.0);
            Merged::Exactly
        } else {
            self.increase += other.increase;
            Merged::Interleaved
        };
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        if other.first_at_ms < self.first_at_ms {
            (self.first_at_ms, self.first_value) = (other.first_at_ms, other.first_value);
        }
        if other.last_at_ms > self.last_at_ms {
            (self.last_at_ms, self.last_value) = (other.last_at_ms, other.last_value);
        }
        merged
    }
}

/// How [`Bucket::merge`] could merge two buckets' increases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merged {
    /// Exactly: one bucket's readings all come before the other's.
    Exactly,
    /// Their readings interleave: the increase is the sum of both, and only the readings
    /// themselves can give the true one.
    Interleaved,
}

/// Aggregates newly stored readings (in any order, each (sensor, time) once) into the
/// buckets of every tier they fall in, ordered by sensor, tier and bucket.
pub fn buckets(stored: &[Stored]) -> Vec<Bucket> {
    buckets_in(stored, &TIERS)
}

/// [`buckets`] of the tiers `tiers` only.
pub fn buckets_in(stored: &[Stored], tiers: &[i64]) -> Vec<Bucket> {
    let mut readings: Vec<(i64, i64, f64)> = stored.iter().map(|r| (r.sensor.sensor_id, r.at_ms, r.value)).collect();
    readings.sort_unstable_by_key(|&(sensor_id, at_ms, _)| (sensor_id, at_ms));
    let mut out = Vec::new();
    for &tier_ms in tiers {
        let mut current: Option<Bucket> = None;
        for &(sensor_id, at_ms, value) in &readings {
            match &mut current {
                Some(b) if b.sensor_id == sensor_id && b.bucket_ms == bucket_of(at_ms, tier_ms) => b.push(at_ms, value),
                _ => out.extend(current.replace(Bucket::new(sensor_id, tier_ms, at_ms, value))),
            }
        }
        out.extend(current);
    }
    out.sort_by_key(|b| (b.sensor_id, b.tier_ms, b.bucket_ms));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensor::{Kind, Sensor};
    use std::sync::Arc;

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

    #[test]
    fn intervals_are_read_as_whole_buckets_that_never_straddle_a_boundary() {
        let (h, m) = (HOUR_MS, MINUTE_MS);
        let seg = |tier_ms, from_ms, to_ms| Segment { tier_ms, from_ms, to_ms };
        // Ends between minutes: finer tiers, then raw readings, at the ends only.
        let from = 5 * h + 25 * m + 1_500;
        let to = 9 * h + 12 * m + 30_000;
        assert_eq!(
            segments(&[from, to]),
            [
                seg(None, from, 5 * h + 26 * m),
                seg(Some(MINUTE_MS), 5 * h + 26 * m, 5 * h + 30 * m),
                seg(Some(TEN_MINUTES_MS), 5 * h + 30 * m, 6 * h),
                seg(Some(HOUR_MS), 6 * h, 9 * h),
                seg(Some(TEN_MINUTES_MS), 9 * h, 9 * h + 10 * m),
                seg(Some(MINUTE_MS), 9 * h + 10 * m, 9 * h + 12 * m),
                seg(None, 9 * h + 12 * m, to),
            ]
        );
        // Days starting on whole hours: one hourly range for all of them.
        assert_eq!(segments(&[0, 24 * h, 47 * h, 72 * h]), [seg(Some(HOUR_MS), 0, 72 * h)]);
        // Adelaide's midnights on half hours: the hour around each midnight in 10-minute buckets.
        let half = h / 2;
        assert_eq!(
            segments(&[half, 24 * h + half, 48 * h + half]),
            [
                seg(Some(TEN_MINUTES_MS), half, h),
                seg(Some(HOUR_MS), h, 24 * h),
                seg(Some(TEN_MINUTES_MS), 24 * h, 25 * h),
                seg(Some(HOUR_MS), 25 * h, 48 * h),
                seg(Some(TEN_MINUTES_MS), 48 * h, 48 * h + half),
            ]
        );
        // Kathmandu's on quarter hours: 1-minute buckets for five minutes on either side.
        let quarter = 18 * h + 15 * m;
        assert_eq!(
            segments(&[quarter, quarter + 24 * h]),
            [
                seg(Some(MINUTE_MS), quarter, quarter + 5 * m),
                seg(Some(TEN_MINUTES_MS), quarter + 5 * m, 19 * h),
                seg(Some(HOUR_MS), 19 * h, 42 * h),
                seg(Some(TEN_MINUTES_MS), 42 * h, 42 * h + 10 * m),
                seg(Some(MINUTE_MS), 42 * h + 10 * m, quarter + 24 * h),
            ]
        );
        // Short intervals fall back to finer tiers; nothing for no interval.
        assert_eq!(segments(&[h + m, h + 2 * m]), [seg(Some(MINUTE_MS), h + m, h + 2 * m)]);
        assert_eq!(segments(&[h, h + 30_000]), [seg(None, h, h + 30_000)]);
        assert!(segments(&[h]).is_empty());
    }

    #[test]
    fn stats_gather_the_spans_of_each_interval() {
        let spans = [Span::reading(5, 2.0), Span::reading(15, 4.0), Span::reading(17, -1.0), Span::reading(30, 9.0)];
        let stats = stats_per_interval(&spans, &[0, 10, 20, 25]);
        assert_eq!(stats[0], Some(Stats { count: 1, sum: 2.0, min: 2.0, max: 2.0 }));
        assert_eq!(stats[1], Some(Stats { count: 2, sum: 3.0, min: -1.0, max: 4.0 }));
        assert_eq!(stats[1].unwrap().mean(), 1.5);
        assert_eq!(stats[2], None, "no readings; 30 is past the last boundary");
        assert_eq!(interval_of(&[0, 10], -1), None);
        assert_eq!(interval_of(&[0, 10], 10), None);
        assert_eq!(interval_of(&[0, 10], 0), Some(0));
    }

    #[test]
    fn readings_aggregate_into_each_tier() {
        let sensor = Arc::new(Sensor { sensor_id: 3, device: "d".into(), key: "k".into(), kind: Kind::Power, room: None, name: None, main: false, role: None });
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
        // In time order the values are 2, 8, 5: one rise of 6 in the first minute, and
        // the drop to 5 counts nothing.
        assert_eq!((minute.increase, hour.increase), (6.0, 6.0));
    }

    #[test]
    fn buckets_merged_in_memory_equal_the_bucket_of_all_their_readings() {
        let sensor = Arc::new(Sensor { sensor_id: 1, device: "d".into(), key: "k".into(), kind: Kind::Energy, room: None, name: None, main: false, role: None });
        let at = |at_ms: i64, value: f64| Stored { sensor: sensor.clone(), at_ms, value };
        let hour = |stored: &[Stored]| buckets(stored).into_iter().find(|b| b.tier_ms == HOUR_MS).unwrap();
        let (early, late) = ([at(0, 10.0), at(60_000, 12.0)], [at(120_000, 11.0), at(180_000, 15.0)]);
        let all = hour(&[early.clone(), late.clone()].concat());
        // Later readings merged into earlier ones, and earlier into later: both exact.
        let mut merged = hour(&early);
        assert_eq!(merged.merge(&hour(&late)), Merged::Exactly);
        assert_eq!(merged, all);
        let mut merged = hour(&late);
        assert_eq!(merged.merge(&hour(&early)), Merged::Exactly);
        assert_eq!(merged, all);
        assert_eq!(all.increase, 6.0, "2 within the early pair, 4 within the late pair, the step down between them none");
        // Interleaved: everything but the increase is exact, and the merge says so.
        let (odd, even) = ([at(0, 10.0), at(120_000, 11.0)], [at(60_000, 12.0), at(180_000, 15.0)]);
        let mut merged = hour(&odd);
        assert_eq!(merged.merge(&hour(&even)), Merged::Interleaved);
        let all = hour(&[odd.clone(), even.clone()].concat());
        assert_eq!((merged.count, merged.sum, merged.min, merged.max), (all.count, all.sum, all.min, all.max));
        assert_eq!((merged.first_at_ms, merged.first_value, merged.last_at_ms, merged.last_value), (0, 10.0, 180_000, 15.0));
        assert_eq!((merged.increase, all.increase), (1.0 + 3.0, 2.0 + 4.0));
        // Minutes merged into their hour, in order: the hour's own bucket.
        let minutes: Vec<Bucket> = buckets(&[odd, even].concat()).into_iter().filter(|b| b.tier_ms == MINUTE_MS).collect();
        let mut hour_of_minutes = minutes[0].in_tier(HOUR_MS);
        for minute in &minutes[1..] {
            assert_eq!(hour_of_minutes.merge(&minute.in_tier(HOUR_MS)), Merged::Exactly);
        }
        assert_eq!(hour_of_minutes, all);
    }

    #[test]
    fn increases_are_the_positive_steps_inside_each_bucket() {
        let sensor = Arc::new(Sensor { sensor_id: 1, device: "d".into(), key: "k".into(), kind: Kind::Energy, room: None, name: None, main: false, role: None });
        let at = |at_ms: i64, value: f64| Stored { sensor: sensor.clone(), at_ms, value };
        // A counter rising 1 per 20 s, reset to 0 at 80 s, rising again; the minute
        // boundary at 60 s splits the steps.
        let stored = [at(0, 10.0), at(20_000, 11.0), at(40_000, 12.0), at(60_000, 13.0), at(80_000, 0.0), at(100_000, 1.5)];
        let buckets = buckets(&stored);
        let increase = |tier_ms: i64, bucket_ms: i64| buckets.iter().find(|b| b.tier_ms == tier_ms && b.bucket_ms == bucket_ms).unwrap().increase;
        assert_eq!(increase(60_000, 0), 2.0);
        assert_eq!(increase(60_000, 60_000), 1.5);
        assert_eq!(increase(600_000, 0), 4.5, "the step across the minute boundary belongs to the coarser bucket");
    }
}
