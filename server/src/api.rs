//! The read API, for people who build on Hearth: `GET /api/v1/sensors` lists the sensors with
//! their newest reading, `GET /api/v1/sensors/{id}/series` gives one sensor's history as
//! buckets (min, max, mean, count), read from rollups when the buckets are wide enough.

use crate::error::{Error, Result};
use app::reading::Bucket;
use app::reading::ssr::{Plan, buckets, rfc3339};
use app::sensor::Sensor;
use app::store::Db;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use app::time::ssr::HouseZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// The most buckets a series request may ask for.
pub const MAX_POINTS: i64 = 1000;
/// Buckets when `points` is not given.
pub const DEFAULT_POINTS: i64 = 500;

/// A sensor as the read API describes it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
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
pub async fn sensors(State(db): State<Db>) -> Result<Json<Vec<SensorInfo>>> {
    let listed = app::sensor::ssr::list_all(&db).await?;
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
#[derive(Debug, Serialize, Deserialize)]
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
#[derive(Debug, Serialize, Deserialize, PartialEq)]
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
}

/// `GET /api/v1/sensors/{id}/series?from=&to=&points=`: `from` and `to` are RFC 3339 times or
/// `YYYY-MM-DD` dates in the server's time zone (`to` as a date means the end of that day);
/// by default the last 24 hours. `points` (1–1000, default 500) bounds the bucket count.
pub async fn series(
    State(db): State<Db>,
    State(zone): State<HouseZone>,
    id: Result<Path<i64>, PathRejection>,
    Query(query): Query<SeriesQuery>,
) -> Result<Json<SeriesResponse>> {
    let Path(id) = id.map_err(|_| Error::BadParameter { field: "id", message: "a sensor id is a whole number".into() })?;
    let now = Timestamp::now();
    let parse = |field: &'static str, text: &str, end_of_day: bool| {
        zone.parse_time(field, text, end_of_day).map_err(|message| Error::BadParameter { field, message })
    };
    let to = match query.to.as_deref() {
        Some(text) => parse("to", text, true)?,
        None => now,
    };
    let from = match query.from.as_deref() {
        Some(text) => parse("from", text, false)?,
        None => to - 24.hours(),
    };
    if from >= to {
        return Err(Error::BadParameter { field: "from", message: "from must be before to".into() });
    }
    let points = match query.points.as_deref() {
        None => DEFAULT_POINTS,
        Some(text) => text.parse::<i64>().ok().filter(|p| (1..=MAX_POINTS).contains(p)).ok_or_else(|| {
            Error::BadParameter { field: "points", message: format!("points must be a whole number from 1 to {MAX_POINTS}") }
        })?,
    };
    let sensor = app::sensor::ssr::find(&db, id).await?.ok_or(Error::NotFound("sensor"))?;
    let (from_ms, to_ms) = (from.as_millisecond(), to.as_millisecond());
    let plan = Plan::new(from_ms, to_ms, points);
    let rows = buckets(&db, id, from_ms, to_ms, plan).await?;
    let source = plan.tier_ms.map_or("raw", app::rollup::tier_name);
    Ok(Json(SeriesResponse {
        sensor: SensorInfo::new(sensor, None),
        from: from.to_string(),
        to: to.to_string(),
        bucket_ms: plan.bucket_ms,
        source: source.into(),
        buckets: rows.into_iter().map(bucket_out).collect(),
    }))
}

fn bucket_out(b: Bucket) -> BucketOut {
    BucketOut { start: rfc3339(b.start_ms), min: b.min, max: b.max, mean: b.mean, count: b.count }
}
