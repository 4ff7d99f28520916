//! Appliance runs and on-time read from the database: only a switch's transitions are read,
//! with `lag()`, not every repeated state; a run's energy from its paired power sensor.

use crate::db::Db;
use crate::pool::with_db;
use crate::error::Error;
use hearth_core::sensor::Sensor;
use hearth_core::usage::{Run, energy_kwh, pair};

/// When the run in progress just before `at_ms` began (the first on-reading after the
/// last off-reading), or `None` if the switch was off or unknown then.
async fn on_since(db: &Db, sensor_id: i64, at_ms: i64) -> Result<Option<i64>, Error> {
    const LAST: &str = "select value from reading where sensor_id = $1 and at_ms < $2 order by at_ms desc limit 1";
    const SINCE: &str = "select min(at_ms) from reading where sensor_id = $1 and at_ms < $2 and at_ms > \
         coalesce((select max(at_ms) from reading where sensor_id = $1 and at_ms < $2 and value = 0), -1)";
    Ok(with_db!(db, read, |pool| {
        let last: Option<f64> = sqlx::query_scalar(LAST).bind(sensor_id).bind(at_ms).fetch_optional(pool).await?;
        if last.is_none_or(|value| value == 0.0) {
            return Ok(None);
        }
        sqlx::query_scalar(SINCE).bind(sensor_id).bind(at_ms).fetch_one(pool).await
    })?)
}

/// The runs of switch `sensor_id` that overlap `[from_ms, to_ms)`, as (start, end): a run
/// in progress at `from_ms` with its real start, and one in progress at `to_ms` with its
/// real end, `None` if it has not ended.
pub async fn run_spans(db: &Db, sensor_id: i64, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, Option<i64>)>, Error> {
    const TRANSITIONS: &str = "select at_ms, value from ( \
           select at_ms, value, lag(value) over (order by at_ms) as previous from reading \
           where sensor_id = $1 and at_ms >= $2 and at_ms < $3) readings \
         where previous is null or previous <> value order by at_ms";
    const OFF_AFTER: &str = "select min(at_ms) from reading where sensor_id = $1 and at_ms >= $2 and value = 0";
    if from_ms >= to_ms {
        return Ok(Vec::new());
    }
    let since = on_since(db, sensor_id, from_ms).await?;
    let readings: Vec<(i64, f64)> = with_db!(db, read, |pool| {
        sqlx::query_as(TRANSITIONS).bind(sensor_id).bind(from_ms).bind(to_ms).fetch_all(pool).await
    })?;
    let readings: Vec<(i64, bool)> = readings.into_iter().map(|(at_ms, value)| (at_ms, value != 0.0)).collect();
    let mut runs = hearth_core::usage::runs(since, &readings);
    if let Some(last) = runs.last_mut()
        && last.1.is_none()
    {
        last.1 = with_db!(db, read, |pool| {
            sqlx::query_scalar(OFF_AFTER).bind(sensor_id).bind(to_ms).fetch_one(pool).await
        })?;
    }
    Ok(runs)
}

/// The runs of switch `sensor_id` that overlap `[from_ms, to_ms)`, oldest first, each with
/// the energy its paired power sensor measured (a run still on: up to `now_ms`).
pub async fn runs(db: &Db, sensor_id: i64, from_ms: i64, to_ms: i64, now_ms: i64) -> Result<Vec<Run>, Error> {
    let spans = run_spans(db, sensor_id, from_ms, to_ms).await?;
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    let power = match crate::sensor::find(db, sensor_id).await? {
        Some(switch) => paired_power(db, &switch).await?,
        None => None,
    };
    let mut out = Vec::with_capacity(spans.len());
    for (start_ms, end_ms) in spans {
        let kwh = match &power {
            Some(power) => Some(kwh_between(db, power.sensor_id, start_ms, end_ms.unwrap_or(now_ms).min(now_ms)).await?),
            None => None,
        };
        out.push(Run { sensor_id, start_ms, end_ms, kwh });
    }
    Ok(out)
}

/// On-time in milliseconds of switch `sensor_id` in each interval of the sorted
/// `boundaries`, counting nothing after `now_ms`.
pub async fn on_ms_per_interval(db: &Db, sensor_id: i64, boundaries: &[i64], now_ms: i64) -> Result<Vec<i64>, Error> {
    let (Some(&from_ms), Some(&to_ms)) = (boundaries.first(), boundaries.last()) else { return Ok(Vec::new()) };
    let spans = run_spans(db, sensor_id, from_ms, to_ms).await?;
    Ok(hearth_core::usage::on_ms_per_interval(&spans, boundaries, now_ms))
}

/// The power sensor paired with `switch` ([`pair`]), if any.
pub async fn paired_power(db: &Db, switch: &Sensor) -> Result<Option<Sensor>, Error> {
    let sensors = crate::sensor::same_device(db, switch.sensor_id).await?;
    Ok(pair(switch, &sensors).cloned())
}

/// The run of switch `sensor_id` in progress at `now_ms`, if it is on then.
pub async fn current(db: &Db, sensor_id: i64, now_ms: i64) -> Result<Option<Run>, Error> {
    let Some(start_ms) = on_since(db, sensor_id, now_ms + 1).await? else { return Ok(None) };
    let power = match crate::sensor::find(db, sensor_id).await? {
        Some(switch) => paired_power(db, &switch).await?,
        None => None,
    };
    let kwh = match power {
        Some(power) => Some(kwh_between(db, power.sensor_id, start_ms, now_ms).await?),
        None => None,
    };
    Ok(Some(Run { sensor_id, start_ms, end_ms: None, kwh }))
}

/// Energy in kWh that power sensor `sensor_id` measured in `[from_ms, to_ms)`.
async fn kwh_between(db: &Db, sensor_id: i64, from_ms: i64, to_ms: i64) -> Result<f64, Error> {
    const HELD: &str = "select value from reading where sensor_id = $1 and at_ms <= $2 order by at_ms desc limit 1";
    const READINGS: &str = "select at_ms, value from reading where sensor_id = $1 and at_ms > $2 and at_ms < $3 order by at_ms";
    let (held, power): (Option<f64>, Vec<(i64, f64)>) = with_db!(db, read, |pool| {
        let held = sqlx::query_scalar(HELD).bind(sensor_id).bind(from_ms).fetch_optional(pool).await?;
        let power = sqlx::query_as(READINGS).bind(sensor_id).bind(from_ms).bind(to_ms).fetch_all(pool).await?;
        (held, power)
    });
    Ok(energy_kwh(held, &power, from_ms, to_ms))
}