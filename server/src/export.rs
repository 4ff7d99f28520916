//! CSV out: `GET /api/v1/sensors/{id}/readings.csv` (one sensor's raw readings, or with
//! `tier=1m|10m|1h` its rollups), `GET /api/v1/export.csv` (every sensor's readings, one row
//! each) and `hearth export`. An [`Export`] reads the store a page at a time by keyset and
//! turns each page into a chunk of CSV, so a body of any length is streamed in constant
//! memory: the next page is read only when the client has taken the last one.

use crate::error::{Error, Result};
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use hearth_core::sensor::{Kind, Sensor};
use hearth_core::time::house::{HouseZone, rfc3339};
use hearth_store::Db;
use hearth_store::export::Pages;
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::VecDeque;

/// Rows read from the store per page (and written per chunk).
pub const PAGE_ROWS: i64 = 5_000;
/// The header of `export.csv`, which `hearth import` reads back.
pub const EXPORT_HEADER: [&str; 8] = ["time", "local_time", "device", "sensor", "kind", "unit", "room", "value"];
/// The header of a sensor's raw `readings.csv`.
pub const READINGS_HEADER: [&str; 3] = ["time", "local_time", "value"];
/// The header of a sensor's `readings.csv?tier=`.
pub const ROLLUP_HEADER: [&str; 6] = ["start", "local_start", "count", "mean", "min", "max"];
/// The earliest instant Hearth stores (readings before 2000 are refused).
const EPOCH_2000_MS: i64 = 946_684_800_000;

/// What an export writes for each sensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Every sensor's raw readings, with the sensor's columns (`export.csv`).
    All,
    /// One sensor's raw readings (`readings.csv`).
    Readings,
    /// One sensor's rollup buckets of this width in ms (`readings.csv?tier=`).
    Rollup(i64),
}

/// An export in progress: the sensors still to write and where the current one is.
pub struct Export {
    pages: Pages,
    zone: HouseZone,
    shape: Shape,
    sensors: VecDeque<Sensor>,
    after_ms: i64,
    from_ms: i64,
    to_ms: i64,
    header: bool,
}

impl Export {
    /// An export of `sensors` (in this order) between `from_ms` (included) and `to_ms`
    /// (excluded), local times in `zone`.
    pub fn new(db: Db, zone: HouseZone, shape: Shape, sensors: Vec<Sensor>, from_ms: i64, to_ms: i64) -> Export {
        Export { pages: Pages::new(db), zone, shape, sensors: sensors.into(), after_ms: from_ms.saturating_sub(1), from_ms, to_ms, header: false }
    }

    /// Every sensor, ordered by device and key (so that an export of the same readings is
    /// the same file whatever the sensors' ids), or those of `kinds` when given.
    pub async fn all(db: Db, zone: HouseZone, kinds: &[Kind], from_ms: i64, to_ms: i64) -> Result<Export> {
        let mut sensors: Vec<Sensor> = hearth_store::sensor::list_all(&db)
            .await?
            .into_iter()
            .map(|l| l.sensor)
            .filter(|s| kinds.is_empty() || kinds.contains(&s.kind))
            .collect();
        sensors.sort_by(|a, b| (&a.device, &a.key).cmp(&(&b.device, &b.key)));
        Ok(Export::new(db, zone, Shape::All, sensors, from_ms, to_ms))
    }

    /// The next chunk of CSV (the header first), or `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, hearth_store::Error> {
        let mut out = csv::Writer::from_writer(Vec::with_capacity(256 * 1024));
        if !self.header {
            self.header = true;
            let header: &[&str] = match self.shape {
                Shape::All => &EXPORT_HEADER,
                Shape::Readings => &READINGS_HEADER,
                Shape::Rollup(_) => &ROLLUP_HEADER,
            };
            out.write_record(header).map_err(io)?;
        }
        while let Some(sensor) = self.sensors.front() {
            let rows = match self.shape {
                Shape::Rollup(tier_ms) => {
                    let page = self.pages.buckets_after(sensor.sensor_id, tier_ms, self.after_ms, self.to_ms, PAGE_ROWS).await?;
                    for b in &page {
                        let mean = b.sum / b.count as f64;
                        let record = [rfc3339(b.bucket_ms), self.local(b.bucket_ms), b.count.to_string(), mean.to_string(), b.min.to_string(), b.max.to_string()];
                        out.write_record(&record).map_err(io)?;
                    }
                    page.last().map(|b| b.bucket_ms).map(|last| (page.len(), last))
                }
                _ => {
                    let page = self.pages.readings_after(sensor.sensor_id, self.after_ms, self.to_ms, PAGE_ROWS).await?;
                    for &(at_ms, value) in &page {
                        if self.shape == Shape::All {
                            let room = sensor.room.as_deref().unwrap_or("");
                            let (kind, unit) = (sensor.kind.as_str(), sensor.kind.unit());
                            let record = [&rfc3339(at_ms), &self.local(at_ms), &sensor.device, &sensor.key, kind, unit, room, &value.to_string()];
                            out.write_record(record).map_err(io)?;
                        } else {
                            out.write_record([rfc3339(at_ms), self.local(at_ms), value.to_string()]).map_err(io)?;
                        }
                    }
                    page.last().map(|r| (page.len(), r.0))
                }
            };
            match rows {
                Some((count, last)) => {
                    self.after_ms = last;
                    if count as i64 == PAGE_ROWS {
                        break;
                    }
                }
                None => {}
            }
            // This sensor is done: the next one starts at `from`.
            self.sensors.pop_front();
            self.after_ms = self.from_ms.saturating_sub(1);
            if out.get_ref().len() > 128 * 1024 {
                break;
            }
        }
        let bytes = out.into_inner().map_err(|e| io(e.into_error()))?;
        Ok((!bytes.is_empty()).then_some(bytes))
    }

    /// `at_ms` as the house's local time with its offset (`2026-01-31T18:30:00+00:00`).
    fn local(&self, at_ms: i64) -> String {
        local_time(&self.zone, at_ms)
    }

    /// The HTTP answer: the CSV streamed as the client reads it, to be saved as `filename`.
    pub fn into_response(self, filename: &str) -> Response {
        let stream = futures_util::stream::unfold(self, |mut export| async move {
            match export.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), export)),
                Ok(None) => None,
                Err(e) => {
                    // The status is sent already: the client sees the body cut short.
                    tracing::error!(error = %e, "CSV export stopped");
                    Some((Err(std::io::Error::other(e)), export))
                }
            }
        });
        // Fused: the compression layer polls a body again after its end.
        let stream = futures_util::StreamExt::fuse(stream);
        let disposition = format!("attachment; filename=\"{filename}\"");
        ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], Body::from_stream(stream))
            .into_response()
    }
}

fn io(e: impl Into<std::io::Error>) -> hearth_store::Error {
    hearth_store::Error::Unavailable(format!("writing CSV: {}", e.into()))
}

/// `at_ms` in `zone` as local date and time with the offset in force (`2026-01-31T18:30:00+00:00`,
/// with the fraction of a second only when there is one).
pub fn local_time(zone: &HouseZone, at_ms: i64) -> String {
    let Ok(t) = Timestamp::from_millisecond(at_ms) else { return at_ms.to_string() };
    let zoned = t.to_zoned(zone.0.clone());
    let seconds = zoned.offset().seconds();
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.abs();
    format!("{}{sign}{:02}:{:02}", zoned.datetime(), seconds / 3600, seconds % 3600 / 60)
}

/// The query of a CSV request; every field is optional text, checked here.
#[derive(Debug, Default, Deserialize)]
pub struct CsvQuery {
    /// First instant: RFC 3339, a local date or Unix ms.
    pub from: Option<String>,
    /// End, excluded (a date includes its day).
    pub to: Option<String>,
    /// `1m`, `10m` or `1h` for rollups (one sensor only).
    pub tier: Option<String>,
    /// Kinds, comma-separated (`export.csv` only).
    pub kind: Option<String>,
}

impl CsvQuery {
    /// `from` and `to` as Unix ms: RFC 3339 times, local dates (`to` inclusive) or Unix ms;
    /// by default everything stored (from 2000 to a day ahead).
    fn range(&self, zone: &HouseZone) -> Result<(i64, i64)> {
        let parse = |field: &'static str, text: Option<&str>, end_of_day: bool, default: i64| match text {
            None | Some("") => Ok(default),
            Some(text) => match text.parse::<i64>() {
                Ok(ms) => Ok(ms),
                Err(_) => zone
                    .parse_time(field, text, end_of_day)
                    .map(|t| t.as_millisecond())
                    .map_err(|message| Error::BadParameter { field, message }),
            },
        };
        let from = parse("from", self.from.as_deref(), false, EPOCH_2000_MS)?;
        let to = parse("to", self.to.as_deref(), true, hearth_core::time::now_ms() + hearth_core::time::DAY_MS)?;
        if from >= to {
            return Err(Error::BadParameter { field: "from", message: "from must be before to".into() });
        }
        Ok((from, to))
    }

    fn kinds(&self) -> Result<Vec<Kind>> {
        let Some(kinds) = self.kind.as_deref().filter(|k| !k.is_empty()) else { return Ok(Vec::new()) };
        kinds
            .split(',')
            .map(|k| k.trim().parse::<Kind>().map_err(|e| Error::BadParameter { field: "kind", message: e.to_string() }))
            .collect()
    }

    fn shape(&self) -> Result<Shape> {
        match self.tier.as_deref() {
            None | Some("") | Some("raw") => Ok(Shape::Readings),
            Some(name) => hearth_core::rollup::TIERS
                .into_iter()
                .find(|&t| hearth_core::rollup::tier_name(t) == name)
                .map(Shape::Rollup)
                .ok_or_else(|| Error::BadParameter { field: "tier", message: format!("tier must be raw, 1m, 10m or 1h, not {name:?}") }),
        }
    }
}

/// `hearth export`: the export `query` asks for (of one sensor with `sensor`) written to `out`.
pub async fn write_to(db: Db, zone: HouseZone, query: CsvQuery, sensor: Option<i64>, out: &mut impl std::io::Write) -> Result<()> {
    let (from, to) = query.range(&zone)?;
    let mut export = match sensor {
        Some(id) => {
            let sensor = hearth_store::sensor::find(&db, id).await?.ok_or(Error::NotFound("sensor"))?;
            Export::new(db, zone, query.shape()?, vec![sensor], from, to)
        }
        None => Export::all(db, zone, &query.kinds()?, from, to).await?,
    };
    while let Some(chunk) = export.next_chunk().await? {
        out.write_all(&chunk).map_err(|e| Error::Internal(Box::new(e)))?;
    }
    out.flush().map_err(|e| Error::Internal(Box::new(e)))
}

/// `GET /api/v1/sensors/{id}/readings.csv?from=&to=&tier=`
#[utoipa::path(get, path = "/api/v1/sensors/{id}/readings.csv", tag = "csv", security(("session" = [])),
    params(("id" = i64, Path, description = "The sensor's id"),
        ("from" = Option<String>, Query, description = "RFC 3339 time, local date or Unix ms; default the oldest reading"),
        ("to" = Option<String>, Query, description = "End (a date is included); default everything"),
        ("tier" = Option<String>, Query, description = "`1m`, `10m` or `1h` for rollups (`start,local_start,count,mean,min,max`); raw readings without it")),
    responses((status = 200, description = "`time,local_time,value`, streamed", content_type = "text/csv", body = String),
        (status = 404, description = "No such sensor", body = crate::schema::ErrorBody),
        (status = 400, description = "A bad parameter, named in `field`", body = crate::schema::ErrorBody),
        (status = 401, description = "No session", body = crate::schema::ErrorBody),
        (status = 503, description = "The database is unavailable", body = crate::schema::ErrorBody)))]
pub async fn sensor_csv(
    State(db): State<Db>,
    State(zone): State<HouseZone>,
    id: Result<Path<i64>, PathRejection>,
    Query(query): Query<CsvQuery>,
) -> Result<Response> {
    let id = id.map(|Path(id)| id).map_err(|_| Error::BadParameter { field: "id", message: "a sensor id is a whole number".into() })?;
    let (from, to) = query.range(&zone)?;
    let shape = query.shape()?;
    let sensor = hearth_store::sensor::find(&db, id).await?.ok_or(Error::NotFound("sensor"))?;
    let filename = format!("hearth-{}-{}.csv", sensor.device, sensor.key);
    let filename: String = filename.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    Ok(Export::new(db, zone, shape, vec![sensor], from, to).into_response(&filename))
}

/// `GET /api/v1/export.csv?from=&to=&kind=`
#[utoipa::path(get, path = "/api/v1/export.csv", tag = "csv", security(("session" = [])),
    params(("from" = Option<String>, Query, description = "RFC 3339 time, local date or Unix ms; default the oldest reading"),
        ("to" = Option<String>, Query, description = "End (a date is included); default everything"),
        ("kind" = Option<String>, Query, description = "Kinds, comma-separated")),
    responses((status = 200, description = "`time,local_time,device,sensor,kind,unit,room,value`, streamed", content_type = "text/csv", body = String),
        (status = 400, description = "A bad parameter, named in `field`", body = crate::schema::ErrorBody),
        (status = 401, description = "No session", body = crate::schema::ErrorBody),
        (status = 503, description = "The database is unavailable", body = crate::schema::ErrorBody)))]
pub async fn export_csv(State(db): State<Db>, State(zone): State<HouseZone>, Query(query): Query<CsvQuery>) -> Result<Response> {
    let (from, to) = query.range(&zone)?;
    let kinds = query.kinds()?;
    if query.tier.is_some() {
        return Err(Error::BadParameter { field: "tier", message: "export.csv gives raw readings; tiers are per sensor".into() });
    }
    Ok(Export::all(db, zone, &kinds, from, to).await?.into_response("hearth-export.csv"))
}
