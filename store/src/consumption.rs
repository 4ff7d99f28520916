//! Consumption of counters read from the rollups (raw readings only where a range does not
//! start or end on a minute), and the figures several pages show: daily totals with the
//! previous period's, each counter's use today, and the devices' parts of it.

use crate::db::Db;
use crate::pool::with_db;
use crate::error::Error;
use crate::rollup::{last_before, segment_spans, spans_within};
use hearth_core::consumption::{CounterToday, DayTotal, Daily, Part};
use hearth_core::rollup::{Segment, interval_of};
use hearth_core::sensor::{Kind, Listed};
use hearth_core::time::house::{Day, HouseZone};

/// Consumption of counter `sensor_id` in each interval of the sorted, strictly increasing
/// `boundaries` (one value fewer than boundaries). Reads each interval from hourly rollups,
/// its partial hours at the ends from 10-minute and 1-minute ones and raw readings only for
/// the partial minutes ([`hearth_core::rollup::segments`]), and the last reading before
/// `boundaries[0]` as the baseline.
pub async fn per_interval(db: &Db, sensor_id: i64, boundaries: &[i64]) -> Result<Vec<f64>, Error> {
    debug_assert!(boundaries.windows(2).all(|w| w[0] < w[1]), "boundaries must increase");
    let Some(&first) = boundaries.first() else { return Ok(Vec::new()) };
    if boundaries.len() < 2 {
        return Ok(Vec::new());
    }
    let spans = spans_within(db, sensor_id, boundaries).await?;
    let baseline = last_before(db, sensor_id, first).await?;
    Ok(hearth_core::consumption::per_interval(baseline, &spans, boundaries))
}

/// Consumption of counter `sensor_id` in `[from_ms, to_ms)`; 0 for an empty range.
pub async fn total(db: &Db, sensor_id: i64, from_ms: i64, to_ms: i64) -> Result<f64, Error> {
    if from_ms >= to_ms {
        return Ok(0.0);
    }
    Ok(per_interval(db, sensor_id, &[from_ms, to_ms]).await?.iter().sum())
}

/// Consumption of counter `sensor_id` on each of `days`, local days of `zone` (from
/// [`HouseZone::day`] or [`HouseZone::days`]), in the same order.
pub async fn per_day(db: &Db, sensor_id: i64, zone: &HouseZone, days: &[Day]) -> Result<Vec<f64>, Error> {
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
) -> Result<Vec<(i64, f64)>, Error> {
    let bucket_ms = bucket_ms.max(1);
    let first = from_ms.div_euclid(bucket_ms) * bucket_ms;
    let boundaries: Vec<i64> = (0..).map(|i| first + i * bucket_ms).take_while(|b| *b < to_ms + bucket_ms).collect();
    let rows = segment_spans(db, sensor_id, Segment { tier_ms, from_ms, to_ms }).await?;
    let baseline = last_before(db, sensor_id, from_ms).await?;
    let values = hearth_core::consumption::per_interval(baseline, &rows, &boundaries);
    Ok(boundaries.into_iter().zip(values).collect())
}

/// Daily totals of `meters` over `days`, with as many days before them.
pub async fn daily(db: &Db, house: &HouseZone, meters: &[&Listed], days: &[Day]) -> Result<Daily, Error> {
    let previous: Vec<Day> = match days.first() {
        Some(first) => match first.date.checked_sub(jiff::Span::new().days(days.len() as i64)) {
            Ok(date) => house.days(house.day(date).start_ms, first.start_ms),
            Err(_) => Vec::new(),
        },
        None => Vec::new(),
    };
    let mut values: Vec<Option<f64>> = vec![None; days.len()];
    let mut earlier: Vec<Option<f64>> = vec![None; previous.len()];
    for meter in meters {
        let first_at = first_reading(db, meter.sensor.sensor_id).await?;
        let add = |slot: &mut Option<f64>, day: &Day, v: f64| {
            if first_at.is_some_and(|f| f < day.end_ms) {
                *slot = Some(slot.unwrap_or(0.0) + v);
            }
        };
        let now = per_day(db, meter.sensor.sensor_id, house, days).await?;
        for ((slot, day), v) in values.iter_mut().zip(days).zip(now) {
            add(slot, day, v);
        }
        let before = per_day(db, meter.sensor.sensor_id, house, &previous).await?;
        for ((slot, day), v) in earlier.iter_mut().zip(&previous).zip(before) {
            add(slot, day, v);
        }
    }
    // The previous period lines up with this one from its end, day by day.
    let offset = earlier.len() as i64 - days.len() as i64;
    let days = days
        .iter()
        .enumerate()
        .map(|(i, d)| DayTotal {
            start_ms: d.start_ms,
            end_ms: d.end_ms,
            value: values[i],
            previous: usize::try_from(i as i64 + offset).ok().and_then(|j| earlier.get(j).copied().flatten()),
        })
        .collect();
    Ok(Daily { meters: meters.iter().map(|m| m.sensor.sensor_id).collect(), days })
}

/// When a sensor's first reading was measured (from the hourly rollups, which outlive raw
/// readings).
async fn first_reading(db: &Db, sensor_id: i64) -> Result<Option<i64>, Error> {
    const SQL: &str = "select min(first_at_ms) from rollup where sensor_id = $1 and tier_ms = 3600000";
    db.settle().await?;
    Ok(with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(sensor_id).fetch_one(pool).await)?)
}

/// Each counter's consumption since `from_ms`, with its newest value.
pub async fn today(db: &Db, counters: &[&Listed], from_ms: i64, now_ms: i64) -> Result<Vec<CounterToday>, Error> {
    let mut out = Vec::with_capacity(counters.len());
    for c in counters {
        let today = total(db, c.sensor.sensor_id, from_ms, now_ms + 1).await?;
        out.push(CounterToday { sensor_id: c.sensor.sensor_id, today, last: c.last_value });
    }
    Ok(out)
}

/// Today's parts: every counter of `kind` that is not a house meter nor plays an energy role
/// (solar, grid, battery), largest first.
pub async fn parts(db: &Db, sensors: &[Listed], kind: Kind, from_ms: i64, now_ms: i64) -> Result<Vec<Part>, Error> {
    let devices: Vec<&Listed> = sensors.iter().filter(|l| l.sensor.kind == kind && !l.sensor.main && l.sensor.energy_role().is_none()).collect();
    let counters = today(db, &devices, from_ms, now_ms).await?;
    let mut parts: Vec<Part> = devices.iter().zip(counters).map(|(l, counter)| Part { name: l.sensor.title(), counter }).collect();
    parts.sort_by(|a, b| b.counter.today.total_cmp(&a.counter.today));
    Ok(parts)
}
