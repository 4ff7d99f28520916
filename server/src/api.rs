//! The read API, for people who build on Hearth: `GET /api/v1/sensors` lists the sensors with
//! their newest reading, `GET /api/v1/sensors/{id}/series` gives one sensor's history as
//! buckets (min, max, mean, count, and a counter's consumption), read from rollups when the
//! buckets are wide enough, and `GET /api/v1/sensors/{id}/daily` gives its figures per local
//! day of the house (consumption, on-time, or min, mean and max); [`costs`] the tariffs and
//! what each day cost.

pub mod costs;

use crate::error::{Error, Result};
use hearth_core::reading::Bucket;
use hearth_core::time::house::rfc3339;
use hearth_store::reading::{Plan, buckets};
use hearth_core::rollup::stats_per_interval;
use hearth_core::sensor::{Kind, Sensor};
use hearth_store::Db;
use hearth_core::time::HOUR_MS;
use hearth_core::time::house::{Day, HouseZone};
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use std::collections::HashMap;

/// The most buckets a series request may ask for.
pub const MAX_POINTS: i64 = 1000;
/// Buckets when `points` is not given.
pub const DEFAULT_POINTS: i64 = 500;
/// The most days a daily request may cover.
pub const MAX_DAYS: usize = 366;
/// Days when `from` is not given, today included.
pub const DEFAULT_DAYS: i64 = 7;

/// A sensor as the read API describes it.
#[derive(Debug, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct SensorInfo {
    /// The sensor's id, for `/api/v1/sensors/{id}/series`.
    pub id: i64,
    /// Name of its device.
    pub device: String,
    /// Its key on the device.
    pub key: String,
    /// What it measures.
    pub kind: String,
    /// The unit of its values.
    pub unit: String,
    /// Its room, if set.
    pub room: Option<String>,
    /// Its display name, if set.
    pub name: Option<String>,
    /// Whether it meters the whole house.
    pub main: bool,
    /// Its newest value.
    pub last_value: Option<f64>,
    /// When the newest value was measured, RFC 3339.
    pub last_at: Option<String>,
}

impl SensorInfo {
    fn new(sensor: Sensor, last: Option<(i64, f64)>) -> SensorInfo {
        SensorInfo {
            id: sensor.sensor_id,
            device: sensor.device,
            key: sensor.key,
            kind: sensor.kind.as_str().to_owned(),
            unit: sensor.kind.unit().to_owned(),
            room: sensor.room,
            name: sensor.name,
            main: sensor.main,
            last_value: last.map(|(_, v)| v),
            last_at: last.map(|(at, _)| rfc3339(at)),
        }
    }
}

/// `GET /api/v1/sensors`
#[utoipa::path(get, path = "/api/v1/sensors", tag = "read", security(("session" = [])),
    responses((status = 200, description = "Every sensor with its newest reading", body = Vec<SensorInfo>),
        (status = 401, description = "No session", body = crate::schema::ErrorBody),
        (status = 503, description = "The database is unavailable", body = crate::schema::ErrorBody)))]
pub async fn sensors(State(db): State<Db>) -> Result<Json<Vec<SensorInfo>>> {
    let listed = hearth_store::sensor::list_all(&db).await?;
    Ok(Json(
        listed
            .into_iter()
            .map(|l| SensorInfo::new(l.sensor, l.last_at_ms.zip(l.last_value)))
            .collect(),
    ))
}

/// The query of a series request; every field is optional text, checked by [`series`].
#[derive(Debug, Default, Deserialize)]
pub struct SeriesQuery {
    from: Option<String>,
    to: Option<String>,
    points: Option<String>,
}

/// A sensor's history as buckets.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SeriesResponse {
    /// The sensor.
    pub sensor: SensorInfo,
    /// Start of the range, RFC 3339.
    pub from: String,
    /// End of the range (exclusive), RFC 3339.
    pub to: String,
    /// Width of each bucket in milliseconds.
    pub bucket_ms: i64,
    /// What the buckets were computed from: `raw`, `1m`, `10m` or `1h`.
    pub source: String,
    /// Buckets with readings, oldest first; empty buckets are left out.
    pub buckets: Vec<BucketOut>,
}

/// One bucket of a [`SeriesResponse`].
#[derive(Debug, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct BucketOut {
    /// Start of the bucket, RFC 3339.
    pub start: String,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value.
    pub mean: f64,
    /// Number of readings.
    pub count: i64,
    /// For counters (energy, water): how much the meter advanced in the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumption: Option<f64>,
}

/// `value` to a billionth, so that the rounding noise of summed steps (14.399999999999977)
/// reads as the numbers that were posted (14.4).
pub(crate) fn tidy(value: f64) -> f64 {
    (value * 1e9).round() / 1e9
}

/// The sensor id of a path, or a 400 naming `id`.
fn sensor_id(id: Result<Path<i64>, PathRejection>) -> Result<i64> {
    id.map(|Path(id)| id).map_err(|_| Error::BadParameter { field: "id", message: "a sensor id is a whole number".into() })
}

/// `from` and `to` of a query as instants: RFC 3339 times or local dates of `zone` (`to` as a
/// date means the end of that day); `to` defaults to now and `from` to `default_from(to)`.
pub(crate) fn range(
    zone: &HouseZone,
    from: Option<&str>,
    to: Option<&str>,
    default_from: impl FnOnce(Timestamp) -> Timestamp,
) -> Result<(Timestamp, Timestamp)> {
    let parse = |field: &'static str, text: &str, end_of_day: bool| {
        zone.parse_time(field, text, end_of_day).map_err(|message| Error::BadParameter { field, message })
    };
    let to = match to {
        Some(text) => parse("to", text, true)?,
        None => Timestamp::now(),
    };
    let from = match from {
        Some(text) => parse("from", text, false)?,
        None => default_from(to),
    };
    if from >= to {
        return Err(Error::BadParameter { field: "from", message: "from must be before to".into() });
    }
    Ok((from, to))
}

/// `GET /api/v1/sensors/{id}/series?from=&to=&points=`: `from` and `to` are RFC 3339 times or
/// `YYYY-MM-DD` dates in the house's time zone (`to` as a date means the end of that day);
/// by default the last 24 hours. `points` (1–1000, default 500) bounds the bucket count.
#[utoipa::path(get, path = "/api/v1/sensors/{id}/series", tag = "read", security(("session" = [])),
    params(("id" = i64, Path, description = "The sensor's id"),
        ("from" = Option<String>, Query, description = "RFC 3339 time or local date; default 24 hours before `to`"),
        ("to" = Option<String>, Query, description = "RFC 3339 time or local date (included); default now"),
        ("points" = Option<String>, Query, description = "Most buckets, 1-1000 (default 500)")),
    responses((status = 200, description = "The sensor's history as buckets", body = SeriesResponse),
        (status = 400, description = "A bad parameter, named in `field`", body = crate::schema::ErrorBody),
        (status = 401, description = "No session", body = crate::schema::ErrorBody),
        (status = 404, description = "No such sensor", body = crate::schema::ErrorBody),
        (status = 503, description = "The database is unavailable", body = crate::schema::ErrorBody)))]
pub async fn series(
    State(db): State<Db>,
    State(zone): State<HouseZone>,
    id: Result<Path<i64>, PathRejection>,
    Query(query): Query<SeriesQuery>,
) -> Result<Json<SeriesResponse>> {
    let id = sensor_id(id)?;
    let (from, to) = range(&zone, query.from.as_deref(), query.to.as_deref(), |to| to - 24.hours())?;
    let points = match query.points.as_deref() {
        None => DEFAULT_POINTS,
        Some(text) => text.parse::<i64>().ok().filter(|p| (1..=MAX_POINTS).contains(p)).ok_or_else(|| {
            Error::BadParameter { field: "points", message: format!("points must be a whole number from 1 to {MAX_POINTS}") }
        })?,
    };
    let sensor = hearth_store::sensor::find(&db, id).await?.ok_or(Error::NotFound("sensor"))?;
    let (from_ms, to_ms) = (from.as_millisecond(), to.as_millisecond());
    let plan = Plan::new(from_ms, to_ms, points);
    let rows = buckets(&db, id, from_ms, to_ms, plan).await?;
    let consumption: HashMap<i64, f64> = if sensor.kind.is_counter() {
        hearth_store::consumption::per_bucket(&db, id, from_ms, to_ms, plan.bucket_ms, plan.tier_ms).await?.into_iter().collect()
    } else {
        HashMap::new()
    };
    let source = plan.tier_ms.map_or("raw", hearth_core::rollup::tier_name);
    let bucket_out = |b: Bucket| BucketOut {
        start: rfc3339(b.start_ms),
        min: b.min,
        max: b.max,
        mean: b.mean,
        count: b.count,
        consumption: sensor.kind.is_counter().then(|| tidy(consumption.get(&b.start_ms).copied().unwrap_or(0.0))),
    };
    let buckets = rows.into_iter().map(bucket_out).collect();
    Ok(Json(SeriesResponse {
        sensor: SensorInfo::new(sensor, None),
        from: from.to_string(),
        to: to.to_string(),
        bucket_ms: plan.bucket_ms,
        source: source.into(),
        buckets,
    }))
}

/// The query of a daily request; every field is optional text, checked by [`daily`].
#[derive(Debug, Default, Deserialize)]
pub struct DailyQuery {
    from: Option<String>,
    to: Option<String>,
}

/// A sensor's figures per local day.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DailyResponse {
    /// The sensor.
    pub sensor: SensorInfo,
    /// The house's time zone, whose days these are.
    pub zone: String,
    /// Start of the first day, RFC 3339.
    pub from: String,
    /// End of the last day (exclusive), RFC 3339.
    pub to: String,
    /// The days, oldest first, each whole.
    pub days: Vec<DayOut>,
}

/// One local day of a [`DailyResponse`].
#[derive(Debug, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct DayOut {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// Its first instant, RFC 3339.
    pub start: String,
    /// The next day's first instant, RFC 3339.
    pub end: String,
    /// Its length in hours: 24, or 23 and 25 on the days clocks change.
    pub hours: f64,
    /// What was measured that day, by kind.
    #[serde(flatten)]
    pub figures: DayFigures,
}

/// The figures of a day, by the sensor's kind.
#[derive(Debug, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(untagged)]
pub enum DayFigures {
    /// Counters (energy, water): how much the meter advanced.
    Consumption {
        /// In the kind's unit (kWh, L).
        consumption: f64,
    },
    /// Switches: how long the appliance was on (up to now for today).
    OnHours {
        /// In hours.
        on_hours: f64,
    },
    /// Other kinds: the day's readings; `null` figures on a day without readings.
    Stats {
        /// Smallest value.
        min: Option<f64>,
        /// Mean value.
        mean: Option<f64>,
        /// Largest value.
        max: Option<f64>,
        /// Number of readings.
        count: i64,
    },
}

/// `GET /api/v1/sensors/{id}/daily?from=&to=`: per local day of the house's time zone,
/// the consumption of a counter, the on-time of a switch, or min, mean, max and count of
/// other kinds. `from` and `to` as for [`series`]; the days are those overlapping
/// `[from, to)`, by default the last 7 including today, at most [`MAX_DAYS`].
#[utoipa::path(get, path = "/api/v1/sensors/{id}/daily", tag = "read", security(("session" = [])),
    params(("id" = i64, Path, description = "The sensor's id"),
        ("from" = Option<String>, Query, description = "RFC 3339 time or local date; default 6 days before today"),
        ("to" = Option<String>, Query, description = "RFC 3339 time or local date (included); default now")),
    responses((status = 200, description = "The sensor's figures per local day", body = DailyResponse),
        (status = 400, description = "A bad parameter, named in `field`", body = crate::schema::ErrorBody),
        (status = 401, description = "No session", body = crate::schema::ErrorBody),
        (status = 404, description = "No such sensor", body = crate::schema::ErrorBody),
        (status = 503, description = "The database is unavailable", body = crate::schema::ErrorBody)))]
pub async fn daily(
    State(db): State<Db>,
    State(zone): State<HouseZone>,
    id: Result<Path<i64>, PathRejection>,
    Query(query): Query<DailyQuery>,
) -> Result<Json<DailyResponse>> {
    let id = sensor_id(id)?;
    let before = |to: Timestamp| {
        let last = zone.day_of(to.as_millisecond() - 1);
        let first = last.date.checked_sub((DEFAULT_DAYS - 1).days()).unwrap_or(last.date);
        Timestamp::from_millisecond(zone.day(first).start_ms).unwrap_or(to)
    };
    let (from, to) = range(&zone, query.from.as_deref(), query.to.as_deref(), before)?;
    let too_many = || Error::BadParameter { field: "from", message: format!("a daily request covers at most {MAX_DAYS} days") };
    // Local days are at most 25 hours long: a longer span cannot fit in the limit.
    if to.as_millisecond() - from.as_millisecond() > MAX_DAYS as i64 * 25 * HOUR_MS {
        return Err(too_many());
    }
    let days = zone.days(from.as_millisecond(), to.as_millisecond());
    if days.len() > MAX_DAYS {
        return Err(too_many());
    }
    let sensor = hearth_store::sensor::find(&db, id).await?.ok_or(Error::NotFound("sensor"))?;
    let figures = day_figures(&db, &zone, &sensor, &days).await?;
    Ok(Json(DailyResponse {
        zone: zone.name(),
        from: days.first().map_or_else(|| from.to_string(), |d| rfc3339(d.start_ms)),
        to: days.last().map_or_else(|| to.to_string(), |d| rfc3339(d.end_ms)),
        sensor: SensorInfo::new(sensor, None),
        days: days
            .iter()
            .zip(figures)
            .map(|(day, figures)| DayOut {
                date: day.iso(),
                start: rfc3339(day.start_ms),
                end: rfc3339(day.end_ms),
                hours: (day.end_ms - day.start_ms) as f64 / HOUR_MS as f64,
                figures,
            })
            .collect(),
    }))
}

/// The figures of `sensor` on each of `days` (consecutive local days).
async fn day_figures(db: &Db, zone: &HouseZone, sensor: &Sensor, days: &[Day]) -> Result<Vec<DayFigures>> {
    let id = sensor.sensor_id;
    let mut boundaries: Vec<i64> = days.iter().map(|d| d.start_ms).collect();
    boundaries.extend(days.last().map(|d| d.end_ms));
    Ok(match sensor.kind {
        kind if kind.is_counter() => hearth_store::consumption::per_day(db, id, zone, days)
            .await?
            .into_iter()
            .map(|consumption| DayFigures::Consumption { consumption: tidy(consumption) })
            .collect(),
        Kind::Switch => {
            let now_ms = hearth_core::time::now_ms();
            hearth_store::usage::on_ms_per_interval(db, id, &boundaries, now_ms)
                .await?
                .into_iter()
                .map(|ms| DayFigures::OnHours { on_hours: tidy(ms as f64 / HOUR_MS as f64) })
                .collect()
        }
        _ => {
            let spans = hearth_store::rollup::spans_within(db, id, &boundaries).await?;
            stats_per_interval(&spans, &boundaries)
                .into_iter()
                .map(|stats| DayFigures::Stats {
                    min: stats.map(|s| s.min),
                    mean: stats.map(|s| s.mean()),
                    max: stats.map(|s| s.max),
                    count: stats.map_or(0, |s| s.count),
                })
                .collect()
        }
    })
}
