//! Consumption of counters (`energy` in kWh, `water` in L): how much a cumulative meter
//! advanced over each interval. It is the sum of the positive steps between consecutive
//! readings. A drop (the device restarted, or the meter was replaced) starts a new baseline
//! and counts nothing, so a reset never shows as a negative bar or a spike. A step is counted
//! in the interval of its later reading, so after a gap the whole step lands where the meter
//! was read again: nothing is spread over the gap or invented.

use crate::rollup::{Span, interval_of};

/// Consumption in each interval `[boundaries[i], boundaries[i + 1])` of the sorted, strictly
/// increasing `boundaries`, from `spans` sorted by time (raw readings, or rollup buckets that
/// each fall inside one interval) and `baseline`, the value of the last reading before them.
/// Spans outside the boundaries only carry the baseline along.
pub fn per_interval(baseline: Option<f64>, spans: &[Span], boundaries: &[i64]) -> Vec<f64> {
    let mut out = vec![0.0; boundaries.len().saturating_sub(1)];
    let mut last = baseline;
    for span in spans {
        let step = last.map_or(0.0, |last| (span.first_value - last).max(0.0));
        if let Some(i) = interval_of(boundaries, span.at_ms) {
            out[i] += step + span.increase;
        }
        last = Some(span.last_value);
    }
    out
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Consumption read from the rollups (raw readings only where a range does not start or
    //! end on a minute).

    use crate::rollup::ssr::{last_before, segment_spans, spans_within};
    use crate::rollup::{Segment, interval_of};
    use crate::store::Db;
    use crate::time::ssr::{Day, HouseZone};

    /// Consumption of counter `sensor_id` in each interval of the sorted, strictly increasing
    /// `boundaries` (one value fewer than boundaries). Reads each interval from hourly rollups,
    /// its partial hours at the ends from 10-minute and 1-minute ones and raw readings only for
    /// the partial minutes ([`crate::rollup::segments`]), and the last reading before
    /// `boundaries[0]` as the baseline.
    pub async fn per_interval(db: &Db, sensor_id: i64, boundaries: &[i64]) -> Result<Vec<f64>, sqlx::Error> {
        debug_assert!(boundaries.windows(2).all(|w| w[0] < w[1]), "boundaries must increase");
        let Some(&first) = boundaries.first() else { return Ok(Vec::new()) };
        if boundaries.len() < 2 {
            return Ok(Vec::new());
        }
        let spans = spans_within(db, sensor_id, boundaries).await?;
        let baseline = last_before(db, sensor_id, first).await?;
        Ok(super::per_interval(baseline, &spans, boundaries))
    }

    /// Consumption of counter `sensor_id` in `[from_ms, to_ms)`; 0 for an empty range.
    pub async fn total(db: &Db, sensor_id: i64, from_ms: i64, to_ms: i64) -> Result<f64, sqlx::Error> {
        if from_ms >= to_ms {
            return Ok(0.0);
        }
        Ok(per_interval(db, sensor_id, &[from_ms, to_ms]).await?.iter().sum())
    }

    /// Consumption of counter `sensor_id` on each of `days`, local days of `zone` (from
    /// [`HouseZone::day`] or [`HouseZone::days`]), in the same order.
    pub async fn per_day(db: &Db, sensor_id: i64, zone: &HouseZone, days: &[Day]) -> Result<Vec<f64>, sqlx::Error> {
        debug_assert!(days.iter().all(|d| zone.day(d.date) == *d), "days of another zone");
        let mut boundaries: Vec<i64> = days.iter().flat_map(|d| [d.start_ms, d.end_ms]).collect();
        boundaries.sort_unstable();
        boundaries.dedup();
        let values = per_interval(db, sensor_id, &boundaries).await?;
        Ok(days
            .iter()
            .map(|d| interval_of(&boundaries, d.start_ms).map_or(0.0, |i| values[i]))
            .collect())
    }

    /// Consumption in the buckets of a series: `bucket_ms` wide, aligned to multiples of it,
    /// covering `[from_ms, to_ms)`, computed from the same rows as the series' other figures
    /// (the buckets of `tier_ms` that start in the range, or raw readings). Returns the start
    /// and consumption of every bucket, oldest first.
    pub async fn per_bucket(
        db: &Db,
        sensor_id: i64,
        from_ms: i64,
        to_ms: i64,
        bucket_ms: i64,
        tier_ms: Option<i64>,
    ) -> Result<Vec<(i64, f64)>, sqlx::Error> {
        let bucket_ms = bucket_ms.max(1);
        let first = from_ms.div_euclid(bucket_ms) * bucket_ms;
        let boundaries: Vec<i64> = (0..).map(|i| first + i * bucket_ms).take_while(|b| *b < to_ms + bucket_ms).collect();
        let rows = segment_spans(db, sensor_id, Segment { tier_ms, from_ms, to_ms }).await?;
        let baseline = last_before(db, sensor_id, from_ms).await?;
        let values = super::per_interval(baseline, &rows, &boundaries);
        Ok(boundaries.into_iter().zip(values).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::Span;

    fn readings(points: &[(i64, f64)]) -> Vec<Span> {
        points.iter().map(|&(at_ms, value)| Span::reading(at_ms, value)).collect()
    }

    #[test]
    fn consumption_is_the_sum_of_rises_in_each_interval() {
        let spans = readings(&[(0, 100.0), (10, 101.5), (20, 103.0), (30, 103.0), (40, 106.0)]);
        assert_eq!(per_interval(None, &spans, &[0, 25, 50]), [3.0, 3.0]);
        // The baseline before the range makes the first step count.
        assert_eq!(per_interval(Some(99.0), &spans, &[0, 25, 50]), [4.0, 3.0]);
    }

    #[test]
    fn a_reset_starts_a_new_baseline_and_counts_nothing() {
        // The meter is replaced at 30: it restarts from 0, then rises by 2.
        let spans = readings(&[(0, 500.0), (10, 501.0), (20, 502.0), (30, 0.0), (40, 1.0), (50, 2.0)]);
        let per = per_interval(None, &spans, &[0, 25, 35, 60]);
        assert_eq!(per, [2.0, 0.0, 2.0]);
        assert!(per.iter().all(|c| *c >= 0.0));
    }

    #[test]
    fn after_a_gap_the_step_counts_where_the_later_reading_is() {
        // Silent from 10 to 75: the 6 units used meanwhile land in the interval of 75.
        let spans = readings(&[(0, 10.0), (10, 11.0), (75, 17.0), (80, 17.5)]);
        assert_eq!(per_interval(None, &spans, &[0, 25, 50, 75, 100]), [1.0, 0.0, 0.0, 6.5]);
    }

    #[test]
    fn a_repeated_reading_adds_nothing() {
        let once = readings(&[(0, 1.0), (10, 2.0), (20, 4.0)]);
        let twice = readings(&[(0, 1.0), (10, 2.0), (10, 2.0), (20, 4.0), (20, 4.0)]);
        assert_eq!(per_interval(None, &once, &[0, 15, 30]), per_interval(None, &twice, &[0, 15, 30]));
    }

    #[test]
    fn rollup_spans_give_what_their_readings_give() {
        // Readings at 0..=11 (one per unit of time) with a reset at 7; two 6-wide buckets.
        let values = [5.0, 5.5, 6.0, 7.0, 7.0, 8.0, 9.0, 0.5, 1.0, 1.5, 3.0, 3.5];
        let raw: Vec<Span> = values.iter().enumerate().map(|(i, v)| Span::reading(i as i64, *v)).collect();
        let bucket = |at_ms: i64, values: &[f64]| {
            let increase = values.windows(2).map(|w| (w[1] - w[0]).max(0.0)).sum();
            Span { at_ms, first_value: values[0], last_value: values[values.len() - 1], increase, ..Span::reading(at_ms, 0.0) }
        };
        let buckets = [bucket(0, &values[..6]), bucket(6, &values[6..])];
        let boundaries = [0, 6, 12];
        assert_eq!(per_interval(Some(4.0), &raw, &boundaries), per_interval(Some(4.0), &buckets, &boundaries));
        assert_eq!(per_interval(Some(4.0), &buckets, &boundaries), [4.0, 4.0]);
    }

    /// `readings` (single-reading spans, sorted) gathered into the buckets of `tier_ms`.
    fn buckets(readings: &[Span], tier_ms: i64) -> Vec<Span> {
        let mut out: Vec<Span> = Vec::new();
        for r in readings {
            let at_ms = r.at_ms - r.at_ms % tier_ms;
            match out.last_mut() {
                Some(b) if b.at_ms == at_ms => {
                    b.increase += (r.first_value - b.last_value).max(0.0);
                    b.last_value = r.last_value;
                    b.count += 1;
                }
                _ => out.push(Span { at_ms, ..*r }),
            }
        }
        out
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn per_day_consumption_follows_local_days_of_23_and_25_hours() {
        use crate::rollup::{HOUR_MS, TEN_MINUTES_MS};
        use crate::time::ssr::HouseZone;
        // Adelaide's local midnights fall on half hours of UTC: 10-minute buckets fit its
        // days, hourly ones do not.
        let zones = [("Europe/Lisbon", "2026-03-29", "2026-10-25", HOUR_MS), ("Australia/Adelaide", "2026-10-04", "2026-04-05", TEN_MINUTES_MS)];
        for (name, short, long, tier_ms) in zones {
            let house = HouseZone::named(name).unwrap();
            for (date, hours) in [(short, 23.0), (long, 25.0)] {
                let day = house.day(date.parse().unwrap());
                let days = house.days(day.start_ms - 1, day.end_ms + 1);
                assert_eq!(days.len(), 3);
                let mut boundaries: Vec<i64> = days.iter().map(|d| d.start_ms).collect();
                boundaries.push(days[2].end_ms);
                // A meter read every 10 minutes, using 0.5 between readings: 3 per hour.
                let first = days[0].start_ms - 600_000;
                let readings: Vec<Span> = (0..)
                    .map(|i| (first + i * 600_000, i as f64 * 0.5))
                    .take_while(|(at_ms, _)| *at_ms < days[2].end_ms)
                    .map(|(at_ms, value)| Span::reading(at_ms, value))
                    .collect();
                let per_day = per_interval(None, &readings, &boundaries);
                assert_eq!(per_day, [72.0, hours * 3.0, 72.0], "{name} {date}");
                assert_eq!(per_interval(None, &buckets(&readings, tier_ms), &boundaries), per_day, "{name} {date} from rollups");
            }
        }
    }

    #[test]
    fn spans_before_the_range_carry_the_baseline_only() {
        let spans = readings(&[(-20, 1.0), (-10, 3.0), (5, 4.0), (120, 9.0)]);
        assert_eq!(per_interval(None, &spans, &[0, 100]), [1.0]);
        assert!(per_interval(None, &spans, &[0]).is_empty());
    }
}
