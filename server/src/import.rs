//! CSV in: `hearth import FILE` and `POST /api/owner/import`. A file is Hearth's own export
//! (`time,local_time,device,sensor,kind,unit,room,value`, as [`crate::export`] writes it) or a
//! plain `time,value` file for one named sensor (as Emoncms and Home Assistant export it).
//!
//! A file is read twice. The first pass checks every row (time, value, kind, unit, sensor
//! key, and the kinds of sensors already stored) and stores nothing if any row is refused,
//! naming every refused row by its line; the second stores the rows in batches through the
//! same group writer as ingest, so sensors are created, duplicates skipped (importing a
//! file again stores nothing new) and rollups merged exactly as for posted readings. Both
//! passes report their progress by bytes read.

pub mod http;

use crate::error::Error as HttpError;
use crate::export::EXPORT_HEADER;
use hearth_core::device::Device;
use hearth_core::reading::Incoming;
use hearth_core::sensor::Kind;
use hearth_core::time::house::HouseZone;
use hearth_store::Db;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// Readings stored per batch (the ingest limit per request).
pub const BATCH: usize = 10_000;
/// Refused rows listed in an answer; the rest are counted.
pub const MAX_LISTED: usize = 100;

/// The one sensor a plain `time,value` file is for.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// Its device's name (created if missing).
    pub device: String,
    /// Its key on the device.
    pub sensor: String,
    /// Its kind: needed when the sensor does not exist yet.
    pub kind: Option<Kind>,
    /// Its room, for a new sensor.
    pub room: Option<String>,
}

/// How far an import is: `bytes` of `total` read in the `phase` (`checking`, then `storing`).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Progress {
    /// `checking` or `storing`.
    pub phase: &'static str,
    /// Bytes of the file read so far in this phase.
    pub bytes: u64,
    /// The file's size.
    pub total: u64,
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Summary {
    /// Readings in the file.
    pub rows: u64,
    /// Readings stored now.
    pub stored: u64,
    /// Readings already stored (same sensor and time), skipped.
    pub duplicates: u64,
    /// Devices created for the file's readings.
    pub devices_created: Vec<String>,
}

/// A row refused, by its line in the file (the header is line 1).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Refused {
    /// Its line.
    pub line: u64,
    /// The column at fault.
    pub field: String,
    /// Why, for a person.
    pub message: String,
}

/// Why an import stored nothing (or, for [`ImportError::Store`], stopped).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not CSV Hearth reads, or a plain file came without its sensor.
    #[error("{0}")]
    Format(String),
    /// Rows were refused: nothing was stored. `count` of them, the first [`MAX_LISTED`] listed.
    #[error("refused rows: {count}; nothing was stored")]
    Refused {
        /// The refused rows, in order.
        rows: Vec<Refused>,
        /// How many rows were refused in all.
        count: u64,
    },
    /// The database failed while storing: what was stored stays (import again to finish).
    #[error(transparent)]
    Store(#[from] HttpError),
}

/// The file's layout, read from its header.
#[derive(Clone, Copy, Debug)]
enum Layout {
    Hearth,
    /// Column of the time and of the value; whether line 1 is a header.
    Plain { time: usize, value: usize, header: bool },
}

/// One row, checked: the device it belongs to and the reading.
struct Row {
    device: String,
    reading: Incoming,
}

/// Imports `path` into `db` (local times of a plain file in `zone`), calling `progress` now
/// and then.
pub async fn import(db: &Db, zone: &HouseZone, path: &Path, target: Option<&Target>, mut progress: impl FnMut(Progress)) -> Result<Summary, ImportError> {
    let total = std::fs::metadata(path).map_err(|e| ImportError::Format(format!("{}: {e}", path.display())))?.len();
    let layout = layout(path, target)?;
    let now_ms = hearth_core::time::now_ms();
    if let Some(t) = target.filter(|t| t.kind.is_none()) {
        let exists = hearth_store::sensor::list_all(db).await.map_err(HttpError::from)?.iter().any(|l| l.sensor.device == t.device && l.sensor.key == t.sensor);
        if !exists {
            return Err(ImportError::Format(format!("sensor {:?} of {:?} does not exist yet: give its kind", t.sensor, t.device)));
        }
    }
    // Pass 1: check every row; the kinds of the sensors the file names, stored ones first.
    let mut kinds: HashMap<(String, String), Kind> = hearth_store::sensor::list_all(db)
        .await
        .map_err(HttpError::from)?
        .into_iter()
        .map(|l| ((l.sensor.device, l.sensor.key), l.sensor.kind))
        .collect();
    let mut refused = Vec::new();
    let mut count = 0u64;
    let mut rows = 0u64;
    let mut reader = open_csv(path)?;
    for (record, line, bytes) in records(&mut reader, layout) {
        match record.and_then(|r| row(&r, layout, target, zone, now_ms, &mut kinds)) {
            Ok(_) => rows += 1,
            Err((field, message)) => {
                count += 1;
                if refused.len() < MAX_LISTED {
                    refused.push(Refused { line, field: field.into(), message });
                }
            }
        }
        if line % 10_000 == 0 {
            progress(Progress { phase: "checking", bytes, total });
        }
    }
    progress(Progress { phase: "checking", bytes: total, total });
    if count > 0 {
        return Err(ImportError::Refused { rows: refused, count });
    }
    // Pass 2: store, in batches of one device's readings.
    let mut devices: HashMap<String, Device> =
        hearth_store::device::list(db).await.map_err(HttpError::from)?.into_iter().map(|d| (d.name.clone(), d)).collect();
    let mut summary = Summary { rows, ..Summary::default() };
    let mut batch: Vec<Incoming> = Vec::with_capacity(BATCH);
    let mut batch_device = String::new();
    let mut reader = open_csv(path)?;
    let mut last_bytes = 0;
    for (record, line, bytes) in records(&mut reader, layout) {
        let checked = record.and_then(|r| row(&r, layout, target, zone, now_ms, &mut kinds));
        let Ok(Row { device, reading }) = checked else {
            return Err(ImportError::Format(format!("line {line} changed while it was imported")));
        };
        if (device != batch_device || batch.len() == BATCH) && !batch.is_empty() {
            store(db, &mut devices, &batch_device, std::mem::take(&mut batch), &mut summary).await?;
            progress(Progress { phase: "storing", bytes: last_bytes, total });
        }
        batch_device = device;
        batch.push(reading);
        last_bytes = bytes;
    }
    if !batch.is_empty() {
        store(db, &mut devices, &batch_device, batch, &mut summary).await?;
    }
    progress(Progress { phase: "storing", bytes: total, total });
    Ok(summary)
}

async fn store(db: &Db, devices: &mut HashMap<String, Device>, name: &str, batch: Vec<Incoming>, summary: &mut Summary) -> Result<(), HttpError> {
    if !devices.contains_key(name) {
        let (device, _token) = hearth_store::device::create(db, name).await?;
        summary.devices_created.push(name.to_owned());
        devices.insert(name.to_owned(), device);
    }
    let outcome = hearth_store::reading::store(db, &devices[name], batch).await?;
    summary.stored += outcome.stored.len() as u64;
    summary.duplicates += outcome.duplicates as u64;
    Ok(())
}

fn open_csv(path: &Path) -> Result<csv::Reader<std::fs::File>, ImportError> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| ImportError::Format(format!("{}: {e}", path.display())))
}

/// The records after the header, each with its line and the bytes read up to it.
fn records(
    reader: &mut csv::Reader<std::fs::File>,
    layout: Layout,
) -> impl Iterator<Item = (Result<csv::StringRecord, (&'static str, String)>, u64, u64)> + '_ {
    let skip = match layout {
        Layout::Hearth | Layout::Plain { header: true, .. } => 1,
        Layout::Plain { header: false, .. } => 0,
    };
    reader.records().skip(skip).map(|record| match record {
        Ok(r) => {
            let position = r.position().map_or((0, 0), |p| (p.line(), p.byte()));
            (Ok(r), position.0, position.1)
        }
        Err(e) => {
            let line = e.position().map_or(0, |p| p.line());
            let bytes = e.position().map_or(0, |p| p.byte());
            (Err(("csv", e.to_string())), line, bytes)
        }
    })
}

/// Reads the first line to tell Hearth's export from a plain `time,value` file.
fn layout(path: &Path, target: Option<&Target>) -> Result<Layout, ImportError> {
    let mut reader = open_csv(path)?;
    let first = match reader.records().next() {
        Some(Ok(first)) => first,
        Some(Err(e)) => return Err(ImportError::Format(format!("line 1: {e}"))),
        None => return Err(ImportError::Format("the file is empty".into())),
    };
    let names: Vec<String> = first.iter().map(|f| f.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
    if names.iter().map(String::as_str).eq(EXPORT_HEADER) {
        if target.is_some() {
            return Err(ImportError::Format("this is Hearth's export, which names its own sensors: import it without a sensor".into()));
        }
        return Ok(Layout::Hearth);
    }
    if target.is_none() {
        return Err(ImportError::Format(format!(
            "line 1 is not Hearth's export header ({}); a time,value file needs the sensor it is for (device and sensor)",
            EXPORT_HEADER.join(",")
        )));
    }
    let find = |candidates: &[&str]| names.iter().position(|n| candidates.contains(&n.as_str()));
    match (find(&["time", "timestamp", "last_changed", "last_updated", "date", "datetime"]), find(&["value", "state"])) {
        (Some(time), Some(value)) => Ok(Layout::Plain { time, value, header: true }),
        _ if names.len() >= 2 && names[1].parse::<f64>().is_ok() => Ok(Layout::Plain { time: 0, value: 1, header: false }),
        _ => Err(ImportError::Format("line 1 names no time and value columns (time or timestamp, value or state)".into())),
    }
}

/// One record checked into a reading, or the column at fault and why.
fn row(
    record: &csv::StringRecord,
    layout: Layout,
    target: Option<&Target>,
    zone: &HouseZone,
    now_ms: i64,
    kinds: &mut HashMap<(String, String), Kind>,
) -> Result<Row, (&'static str, String)> {
    let field = |i: usize, name: &'static str| record.get(i).map(str::trim).ok_or((name, format!("no {name} column")));
    let (device, key, kind, room, time, value) = match (layout, target) {
        (Layout::Hearth, _) => {
            if record.len() != EXPORT_HEADER.len() {
                return Err(("csv", format!("{} columns, not the header's {}", record.len(), EXPORT_HEADER.len())));
            }
            let kind: Kind = field(4, "kind")?.parse().map_err(|e: hearth_core::sensor::UnknownKind| ("kind", e.to_string()))?;
            let unit = field(5, "unit")?;
            if unit != kind.unit() {
                return Err(("unit", format!("unit {unit:?} is not {kind}'s unit {:?}", kind.unit())));
            }
            let room = hearth_core::sensor::clean_text("room", field(6, "room")?).map_err(|m| ("room", m))?;
            (field(2, "device")?.to_owned(), field(3, "sensor")?.to_owned(), Some(kind), room, field(0, "time")?, field(7, "value")?)
        }
        (Layout::Plain { time, value, .. }, Some(t)) => (t.device.clone(), t.sensor.clone(), t.kind, t.room.clone(), field(time, "time")?, field(value, "value")?),
        (Layout::Plain { .. }, None) => return Err(("sensor", "a time,value file needs its sensor".into())),
    };
    if device.is_empty() {
        return Err(("device", "the device is empty".into()));
    }
    let at_ms = parse_time(time, zone).ok_or_else(|| ("time", format!("time {time:?} is not RFC 3339, Unix seconds or a local YYYY-MM-DD HH:MM:SS")))?;
    let value: f64 = value.parse().map_err(|_| ("value", format!("value {value:?} is not a number")))?;
    let stored = kinds.get(&(device.clone(), key.clone())).copied();
    let kind = match (stored, kind) {
        (Some(stored), Some(kind)) if stored != kind => {
            return Err(("kind", format!("sensor {key:?} of {device:?} is a {stored} sensor, not {kind}")));
        }
        (Some(stored), _) => stored,
        (None, Some(kind)) => kind,
        (None, None) => return Err(("kind", format!("sensor {key:?} of {device:?} does not exist: give its kind"))),
    };
    let reading = Incoming { key: key.clone(), value, at_ms, kind: Some(kind), room };
    crate::ingest::check_incoming(0, &reading, now_ms).map_err(|e| match e {
        HttpError::Invalid { message, field, .. } => (field_name(field.as_deref()), message),
        e => ("value", e.to_string()),
    })?;
    kinds.insert((device.clone(), key), kind);
    Ok(Row { device, reading })
}

fn field_name(field: Option<&str>) -> &'static str {
    match field {
        Some("sensor") => "sensor",
        Some("room") => "room",
        Some("at") => "time",
        _ => "value",
    }
}

/// A time as RFC 3339, Unix seconds (with a fraction) or the house's local `YYYY-MM-DD
/// HH:MM[:SS]`, in Unix ms.
fn parse_time(text: &str, zone: &HouseZone) -> Option<i64> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t.as_millisecond());
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds.is_finite() && seconds.abs() < 1e11).then(|| (seconds * 1000.0).round() as i64);
    }
    let local: jiff::civil::DateTime = text.replacen(' ', "T", 1).parse().ok()?;
    local.to_zoned(zone.0.clone()).ok().map(|z| z.timestamp().as_millisecond())
}

/// The query of `POST /api/owner/import`: for a plain `time,value` file, its sensor.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ImportQuery {
    /// The device's name.
    pub device: Option<String>,
    /// The sensor's key.
    pub sensor: Option<String>,
    /// The sensor's kind, for a new sensor.
    pub kind: Option<String>,
    /// The sensor's room, for a new sensor.
    pub room: Option<String>,
}

impl ImportQuery {
    /// The sensor a plain file is for, if the query names one; a 400 naming the field missing
    /// or wrong.
    pub fn target(&self) -> Result<Option<Target>, HttpError> {
        let blank = |t: &Option<String>| t.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        let bad = |field: &'static str, message: String| HttpError::BadParameter { field, message };
        let (device, sensor) = match (blank(&self.device), blank(&self.sensor)) {
            (None, None) if blank(&self.kind).is_none() && blank(&self.room).is_none() => return Ok(None),
            (Some(device), Some(sensor)) => (device, sensor),
            (None, _) => return Err(bad("device", "a time,value file needs its device and sensor".into())),
            (_, None) => return Err(bad("sensor", "a time,value file needs its device and sensor".into())),
        };
        let kind = blank(&self.kind).map(|k| k.parse::<Kind>()).transpose().map_err(|e| bad("kind", e.to_string()))?;
        if !hearth_core::sensor::valid_key(&sensor) {
            return Err(bad("sensor", format!("sensor key {sensor:?} must match [a-z0-9_.-]{{1,64}}")));
        }
        let room = match blank(&self.room) {
            Some(room) => hearth_core::sensor::clean_text("room", &room).map_err(|m| bad("room", m))?,
            None => None,
        };
        Ok(Some(Target { device, sensor, kind, room }))
    }
}
