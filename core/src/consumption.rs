//! Consumption of counters (`energy` in kWh, `water` in L): how much a cumulative meter
//! advanced over each interval. It is the sum of the positive steps between consecutive
//! readings. A drop (the device restarted, or the meter was replaced) starts a new baseline
//! and counts nothing, so a reset never shows as a negative bar or a spike. A step is counted
//! in the interval of its later reading, so after a gap the whole step lands where the meter
//! was read again: nothing is spread over the gap or invented.
//!
//! The figures several pages show are defined here once: a counter's use today
//! ([`CounterToday`]), a device's part of it ([`Part`]) and daily totals ([`Daily`]).

use crate::rollup::{Span, interval_of};
use crate::sensor::{Kind, Listed};
use serde::{Deserialize, Serialize};
#[cfg(feature = "tzdb")]
use crate::range::Window;
#[cfg(feature = "tzdb")]
use crate::time::house::{Day, HouseZone};

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


/// A counter's consumption today and its newest value (to add what live readings add).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CounterToday {
    /// The counter.
    pub sensor_id: i64,
    /// Consumption since local midnight.
    pub today: f64,
    /// The counter's newest value.
    pub last: Option<f64>,
}

impl CounterToday {
    /// Adds a new reading of the counter: what it rose by counts, a drop starts a new baseline.
    pub fn add(&mut self, value: f64) {
        if let Some(last) = self.last
            && value > last
        {
            self.today += value - last;
        }
        self.last = Some(value);
    }
}

/// One device's part of today's use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// What it is called.
    pub name: String,
    /// Its counter today, kept current by live readings.
    pub counter: CounterToday,
}

/// A local day of a daily chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayTotal {
    /// Its first instant, Unix ms.
    pub start_ms: i64,
    /// The next day's first instant.
    pub end_ms: i64,
    /// The consumption that day, `None` before the first reading.
    pub value: Option<f64>,
    /// The consumption on the day at the same position of the previous period.
    pub previous: Option<f64>,
}

/// A meter's daily totals for a range: the counters summed (the main meters, else every
/// counter of the kind), per local day, with the previous period's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Daily {
    /// The counters summed.
    pub meters: Vec<i64>,
    /// The days of the range.
    pub days: Vec<DayTotal>,
}

/// The sensors of `kind` among `sensors` that measure the whole house: the main meters, or
/// every one of the kind when none is marked main.
pub fn house_meters(sensors: &[Listed], kind: Kind) -> Vec<&Listed> {
    let all: Vec<&Listed> = sensors.iter().filter(|l| l.sensor.kind == kind).collect();
    if all.iter().any(|l| l.sensor.main) { all.into_iter().filter(|l| l.sensor.main).collect() } else { all }
}

/// Adds a live counter reading to the day it falls in (`last` holds each counter's newest
/// value, for the rise since the previous reading).
pub fn add_to_days(days: &mut [DayTotal], last: &mut Vec<(i64, f64)>, sensor_id: i64, value: f64, at_ms: i64) {
    let previous = last.iter_mut().find(|(id, _)| *id == sensor_id);
    let rise = match previous {
        Some((_, before)) => {
            let rise = (value - *before).max(0.0);
            *before = value;
            rise
        }
        None => {
            last.push((sensor_id, value));
            0.0
        }
    };
    if let Some(day) = days.iter_mut().find(|d| d.start_ms <= at_ms && at_ms < d.end_ms) {
        day.value = Some(day.value.unwrap_or(0.0) + rise);
    }
}

/// The local days of daily bars for `window`: its days, and at least the last 7.
#[cfg(feature = "tzdb")]
pub fn bar_days(house: &HouseZone, window: &Window, now_ms: i64) -> Vec<Day> {
    let today = house.day_of(now_ms);
    let week_ago = today.date.checked_sub(jiff::Span::new().days(6)).map_or(today.start_ms, |d| house.day(d).start_ms);
    house.days(window.from_ms.min(week_ago), window.to_ms.min(now_ms + 1))
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

    #[cfg(feature = "tzdb")]
    #[test]
    fn per_day_consumption_follows_local_days_of_23_and_25_hours() {
        use crate::rollup::TEN_MINUTES_MS;
        use crate::time::HOUR_MS;
        use crate::time::house::HouseZone;
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

    #[test]
    fn a_counter_adds_its_rises_and_restarts_after_a_drop() {
        let mut c = CounterToday { sensor_id: 1, today: 2.0, last: Some(100.0) };
        c.add(100.5);
        c.add(100.5);
        c.add(3.0);
        c.add(3.25);
        assert_eq!((c.today, c.last), (2.75, Some(3.25)));
    }

    #[test]
    fn live_counter_readings_add_their_rise_to_their_day() {
        let mut days = vec![
            DayTotal { start_ms: 0, end_ms: 100, value: Some(1.0), previous: None },
            DayTotal { start_ms: 100, end_ms: 200, value: None, previous: None },
        ];
        let mut last = vec![(7, 50.0)];
        add_to_days(&mut days, &mut last, 7, 50.5, 99);
        add_to_days(&mut days, &mut last, 7, 51.0, 150);
        add_to_days(&mut days, &mut last, 7, 0.5, 160); // a reset: nothing
        add_to_days(&mut days, &mut last, 8, 10.0, 170); // a counter seen for the first time: its baseline
        assert_eq!(days[0].value, Some(1.5));
        assert_eq!(days[1].value, Some(0.5));
        assert_eq!(last, [(7, 0.5), (8, 10.0)]);
    }
}
