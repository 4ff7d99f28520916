//! `POST /api/v1/readings`: devices post one reading or `{"readings": [...]}` with their
//! bearer token. The body is parsed and checked here; the store checks what depends on stored
//! sensors and commits; only then does the device get its answer, and the stored readings go
//! to the broadcast hub.
//!
//! Every other way in ends on the same path, [`accept`]: the InfluxDB line protocol
//! ([`influx`]), the Emoncms input API ([`emoncms`]) and MQTT ([`mqtt`]). They share token
//! authentication ([`device_for_token`]), the checks of a reading ([`check_incoming`]) and the
//! naming rules that turn foreign names into sensor keys and kinds ([`mapping`]).

pub mod emoncms;
pub mod influx;
pub mod mapping;
pub mod mqtt;

use crate::AppState;
use crate::error::{Error, Result};
use hearth_core::device::Device;
use hearth_core::reading::Incoming;
use hearth_core::sensor::{Kind, valid_key};
use hearth_core::time::now_ms;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};

/// The most readings one request may carry.
pub const MAX_READINGS: usize = 10_000;
/// How far ahead of the server's clock a reading's time may be.
pub const MAX_FUTURE_MS: i64 = 5 * 60 * 1000;
/// The longest room name.
pub const MAX_ROOM_CHARS: usize = 64;
/// The largest magnitude a value may have: beyond any real reading, small enough that sums
/// in the rollups stay finite.
pub const MAX_ABS_VALUE: f64 = 1e15;
/// The earliest time a reading may have (2000-01-01): before it, the device's clock is
/// almost certainly not set (a fresh ESP32 counts from 1970).
pub const MIN_AT_MS: i64 = 946_684_800_000;

/// The answer to a successful post.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Receipt {
    /// Readings stored by this request.
    pub stored: usize,
    /// Readings ignored because the same sensor already had a reading at that time.
    pub duplicates: usize,
}

/// A reading as posted, before any check. A body is either one of these or has only
/// `readings`; one type serves both so that serde reads the body in a single pass.
#[derive(Debug, Deserialize)]
struct Posted {
    sensor: Option<String>,
    value: Option<f64>,
    at: Option<At>,
    kind: Option<String>,
    room: Option<String>,
    readings: Option<Vec<Posted>>,
}

/// The time of a reading: RFC 3339 text or Unix seconds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum At {
    Seconds(f64),
    Text(String),
}

/// Stores the readings of the request's body for the device whose token it carries.
#[utoipa::path(post, path = "/api/v1/readings", tag = "ingest", security(("device_token" = [])),
    request_body(content = crate::schema::PostedBody, description = "One reading, or `{\"readings\": [...]}` (at most 10,000)"),
    responses((status = 200, description = "Every reading committed", body = Receipt),
        (status = 400, description = "Not JSON, or not an object", body = crate::schema::ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token", body = crate::schema::ErrorBody),
        (status = 408, description = "The request took too long"),
        (status = 413, description = "Body or batch too large", body = crate::schema::ErrorBody),
        (status = 422, description = "A reading breaks a rule; nothing stored", body = crate::schema::ErrorBody),
        (status = 429, description = "Too many requests from this device", body = crate::schema::ErrorBody),
        (status = 503, description = "The database is unavailable; nothing stored", body = crate::schema::ErrorBody)))]
#[tracing::instrument(skip_all, fields(device))]
pub async fn post_readings(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Receipt>> {
    let device = authenticate(&state, &headers).await?;
    let body = read_body(&state, body)?;
    let batch = parse(&body, now_ms())?;
    accept(&state, &device, "json", batch).await.map(Json)
}

/// Stores a checked batch for `device`: durably, before returning, with readings already
/// stored (same sensor and time) counted as duplicates; the store announces what it stored,
/// and so it reaches the live streams. A batch with any invalid reading stores nothing (422
/// naming its index).
pub async fn accept(state: &AppState, device: &Device, protocol: &str, batch: Vec<Incoming>) -> Result<Receipt> {
    let count = |status: String, n: usize| {
        metrics::counter!("hearth_readings_total", "protocol" => protocol.to_owned(), "status" => status).increment(n as u64);
    };
    let n = batch.len();
    match hearth_store::reading::store(&state.db, device, batch).await {
        Ok(outcome) => {
            count("stored".into(), outcome.stored.len());
            count("duplicate".into(), outcome.duplicates);
            Ok(Receipt { stored: outcome.stored.len(), duplicates: outcome.duplicates })
        }
        Err(e) => {
            count(e.status().to_string(), n);
            Err(e.into())
        }
    }
}

/// A reading from another protocol, before Hearth knows whether its sensor exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Foreign {
    /// The reading; its kind is `None` when nothing tells it.
    pub reading: Incoming,
    /// Whether the kind was guessed from a name rather than stated by the protocol. A guessed
    /// kind only types a new sensor; an existing sensor keeps its own.
    pub guessed: bool,
    /// Where the reading came from in the request (a line number, a position), used in errors
    /// instead of its index in the batch.
    pub origin: usize,
}

/// What a batch from another protocol did.
#[derive(Debug, PartialEq, Eq)]
pub struct Accepted {
    /// Stored readings and duplicates.
    pub receipt: Receipt,
    /// Readings skipped because their sensor does not exist and their kind is unknown.
    pub skipped: usize,
}

/// [`accept`] for readings of another protocol: a reading whose sensor does not exist yet and
/// whose kind nothing tells is skipped and counted (see [`hearth_core::mqtt::Skipped`]), never stored
/// under a guessed kind; errors name the reading by its [`Foreign::origin`].
pub async fn accept_foreign(state: &AppState, device: &Device, protocol: &str, readings: Vec<Foreign>) -> Result<Accepted> {
    let existing = hearth_store::sensor::existing(&state.db, device.device_id, readings.iter().map(|f| f.reading.key.as_str())).await?;
    let now = now_ms();
    let mut batch = Vec::with_capacity(readings.len());
    let mut origins = Vec::with_capacity(readings.len());
    let mut skipped = 0;
    for Foreign { mut reading, guessed, origin } in readings {
        let exists = existing.contains(&reading.key);
        if exists && guessed {
            reading.kind = None;
        }
        if !exists && reading.kind.is_none() {
            state.activity.skipped(&device.name, &reading.key, protocol, now);
            skipped += 1;
            continue;
        }
        batch.push(reading);
        origins.push(origin);
    }
    if batch.is_empty() {
        return Ok(Accepted { receipt: Receipt { stored: 0, duplicates: 0 }, skipped });
    }
    match accept(state, device, protocol, batch).await {
        Ok(receipt) => Ok(Accepted { receipt, skipped }),
        Err(Error::Invalid { message, index: Some(index), field }) => {
            Err(Error::Invalid { message, index: origins.get(index).copied(), field })
        }
        Err(e) => Err(e),
    }
}

/// The device whose bearer token the request carries (`Authorization: Bearer <token>`).
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Device> {
    let token = credentials(headers, "bearer").ok_or(Error::Unauthorized)?;
    device_for_token(state, token).await
}

/// The credentials of an `Authorization` header with the given scheme (case-insensitive).
pub fn credentials<'h>(headers: &'h HeaderMap, scheme: &str) -> Option<&'h str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(given, _)| given.eq_ignore_ascii_case(scheme))
        .map(|(_, credentials)| credentials.trim())
}

/// The device a token belongs to, or 401 (unknown or revoked token), or 429 beyond the
/// device's request rate. Every HTTP ingest protocol authenticates through here.
pub async fn device_for_token(state: &AppState, token: &str) -> Result<Device> {
    let device = hearth_store::device::find_by_token(&state.db, token).await?.ok_or(Error::Unauthorized)?;
    if device.revoked {
        return Err(Error::Revoked);
    }
    tracing::Span::current().record("device", &device.name);
    state.limits.ingest(device.device_id)?;
    Ok(device)
}

/// A request's body, or what its rejection means: 413 past the body limit, 400 otherwise.
pub fn read_body(state: &AppState, body: std::result::Result<Bytes, BytesRejection>) -> Result<Bytes> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge {
            message: format!("the body is larger than the limit of {} bytes", state.config.max_body_bytes),
            field: None,
        },
        _ => Error::Malformed(rejection.body_text()),
    })
}

/// Parses and checks a body. `now_ms` is the server's time, given to readings without `at`
/// and bounding how far ahead `at` may be.
pub fn parse(body: &[u8], now_ms: i64) -> Result<Vec<Incoming>> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let posted: Posted = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(|e| Error::Malformed(format!("malformed JSON: {e}")))?;

    let readings = match posted.readings {
        None => vec![posted],
        Some(readings) => {
            if posted.sensor.is_some() || posted.value.is_some() {
                return Err(Error::Malformed(
                    "a body is one reading or {\"readings\": [...]}, not both".into(),
                ));
            }
            if readings.len() > MAX_READINGS {
                return Err(Error::TooLarge {
                    message: format!("{} readings in one request; the limit is {MAX_READINGS}", readings.len()),
                    field: Some("readings"),
                });
            }
            readings
        }
    };
    readings.into_iter().enumerate().map(|(index, posted)| check(index, posted, now_ms)).collect()
}

fn check(index: usize, posted: Posted, now_ms: i64) -> Result<Incoming> {
    let invalid = |field: &str, message: String| Error::invalid(index, field, message);
    if posted.readings.is_some() {
        return Err(invalid("readings", "readings cannot be nested".into()));
    }
    let key = posted.sensor.ok_or_else(|| invalid("sensor", "missing \"sensor\"".into()))?;
    check_key(index, &key)?;
    let value = posted.value.ok_or_else(|| invalid("value", "missing \"value\"".into()))?;
    let kind = posted
        .kind
        .map(|k| k.parse::<Kind>())
        .transpose()
        .map_err(|e| invalid("kind", e.to_string()))?;
    check_value(index, kind, value)?;
    let room = clean_room(index, posted.room)?;
    let at_ms = match posted.at {
        None => now_ms,
        Some(At::Seconds(s)) if s.is_finite() && (0.0..1e11).contains(&s) => (s * 1000.0).round() as i64,
        Some(At::Seconds(s)) => return Err(invalid("at", format!("{s} is not a time in Unix seconds"))),
        Some(At::Text(text)) => text
            .parse::<jiff::Timestamp>()
            .map_err(|_| invalid("at", format!("{text:?} is not an RFC 3339 time such as 2026-01-31T18:30:00Z")))?
            .as_millisecond(),
    };
    check_at(index, at_ms, kind, now_ms)?;
    Ok(Incoming { key, value, at_ms, kind, room })
}

/// Checks a reading built by another protocol by the rules of the JSON endpoint: its key, its
/// value against its kind, its room and its time. `index` names it in the error.
pub fn check_incoming(index: usize, reading: &Incoming, now_ms: i64) -> Result<()> {
    check_key(index, &reading.key)?;
    check_value(index, reading.kind, reading.value)?;
    if let Some(room) = &reading.room {
        clean_room(index, Some(room.clone()))?;
    }
    check_at(index, reading.at_ms, reading.kind, now_ms)
}

fn check_key(index: usize, key: &str) -> Result<()> {
    if valid_key(key) {
        Ok(())
    } else {
        Err(Error::invalid(index, "sensor", format!("sensor key {key:?} must match [a-z0-9_.-]{{1,64}}")))
    }
}

fn check_value(index: usize, kind: Option<Kind>, value: f64) -> Result<()> {
    if !value.is_finite() {
        return Err(Error::invalid(index, "value", "value must be a finite number"));
    }
    if value.abs() > MAX_ABS_VALUE {
        return Err(Error::invalid(index, "value", format!("value must be between -{MAX_ABS_VALUE:e} and {MAX_ABS_VALUE:e}")));
    }
    match kind {
        Some(kind) => kind.check(value).map_err(|message| Error::invalid(index, "value", message)),
        None => Ok(()),
    }
}

/// A room name trimmed, `None` when empty; refused when too long or holding control characters.
fn clean_room(index: usize, room: Option<String>) -> Result<Option<String>> {
    match room.map(|r| r.trim().to_owned()) {
        Some(room) if room.is_empty() => Ok(None),
        Some(room) if room.chars().count() > MAX_ROOM_CHARS || room.chars().any(char::is_control) => Err(Error::invalid(
            index,
            "room",
            format!("room must be at most {MAX_ROOM_CHARS} characters without control characters"),
        )),
        room => Ok(room),
    }
}

/// `kind` when the reading gives it; without it, the sensor's kind decides in the store, so
/// here a time is let through up to the furthest any kind may be ahead (a price's 48 hours).
fn check_at(index: usize, at_ms: i64, kind: Option<Kind>, now_ms: i64) -> Result<()> {
    let ahead = kind.map_or(Kind::Price.max_ahead_ms(), Kind::max_ahead_ms);
    if at_ms > now_ms + ahead {
        return Err(Error::invalid(index, "at", format!("at is more than {} minutes in the future", ahead / 60_000)));
    }
    if at_ms < MIN_AT_MS {
        return Err(Error::invalid(index, "at", "at is before 2000: is the device's clock set?"));
    }
    Ok(())
}

/// Turns a serde error into 400 (not JSON, or not an object) or 422 (a reading's field has
/// the wrong type), naming the reading and field from the error's path.
fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    use serde_path_to_error::Segment;
    let path: Vec<&Segment> = e.path().iter().collect();
    let inner = e.inner();
    let in_object = matches!(path.first(), Some(Segment::Map { .. }));
    // serde_json reports a number beyond f64 (1e999) as a syntax error; it is a value error.
    let out_of_range = inner.to_string().starts_with("number out of range");
    if !in_object || !(inner.classify() == serde_json::error::Category::Data || out_of_range) {
        return Error::Malformed(format!("malformed JSON: {inner}"));
    }
    let index = path.iter().find_map(|s| match s {
        Segment::Seq { index } => Some(*index),
        _ => None,
    });
    let field = path
        .iter()
        .rev()
        .find_map(|s| match s {
            Segment::Map { key } if key != "readings" => Some(key.clone()),
            _ => None,
        })
        .or_else(|| path.first().map(|s| s.to_string()));
    let message = match field.as_deref() {
        Some("value") if out_of_range => "value must be a finite number".to_owned(),
        Some("at") => "at must be an RFC 3339 string or a number of Unix seconds".to_owned(),
        Some(field) => format!("{field}: {}", strip_position(&inner.to_string())),
        None => strip_position(&inner.to_string()),
    };
    Error::Invalid { message, index: Some(index.unwrap_or(0)), field }
}

/// serde_json appends " at line L column C" to its messages; the path says more.
fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    fn field_of(result: Result<Vec<Incoming>>) -> (StatusCode, Option<usize>, Option<String>) {
        match result {
            Err(Error::Invalid { index, field, .. }) => (StatusCode::UNPROCESSABLE_ENTITY, index, field),
            Err(e) => (e.status(), None, None),
            Ok(_) => (StatusCode::OK, None, None),
        }
    }

    #[test]
    fn one_reading_or_a_batch() {
        let one = parse(br#"{"sensor":"t","value":20.5,"kind":"temperature","room":"Hall"}"#, NOW).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].at_ms, NOW);
        assert_eq!(one[0].room.as_deref(), Some("Hall"));
        let batch = parse(br#"{"readings":[{"sensor":"t","value":1,"at":1764000000.25},{"sensor":"t","value":2,"at":"2025-11-24T16:00:00Z"}]}"#, NOW).unwrap();
        assert_eq!(batch[0].at_ms, 1_764_000_000_250);
        assert_eq!(batch[1].at_ms, 1_764_000_000_000);
    }

    #[test]
    fn type_errors_name_the_reading_and_field() {
        let e = parse(br#"{"readings":[{"sensor":"t","value":1},{"sensor":"t","value":"warm"}]}"#, NOW);
        assert_eq!(field_of(e), (StatusCode::UNPROCESSABLE_ENTITY, Some(1), Some("value".into())));
        let e = parse(br#"{"sensor":"t","value":1,"at":true}"#, NOW);
        assert_eq!(field_of(e), (StatusCode::UNPROCESSABLE_ENTITY, Some(0), Some("at".into())));
    }

    #[test]
    fn broken_json_is_a_bad_request() {
        for body in [&b"{\"sensor\":"[..], b"[1,2]", b"{} {}", b"", b"NaN"] {
            assert_eq!(field_of(parse(body, NOW)).0, StatusCode::BAD_REQUEST, "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn times_too_far_ahead_are_refused() {
        let at = |kind: &str, ms: i64| format!(r#"{{"sensor":"t","value":1,{kind}"at":{}}}"#, (NOW + ms) / 1000);
        assert!(parse(at(r#""kind":"power","#, MAX_FUTURE_MS).as_bytes(), NOW).is_ok());
        let ahead = at(r#""kind":"power","#, MAX_FUTURE_MS + 1000);
        assert_eq!(field_of(parse(ahead.as_bytes(), NOW)).2.as_deref(), Some("at"));
        // Day-ahead prices: up to 48 hours.
        assert!(parse(at(r#""kind":"price","#, 47 * 3_600_000).as_bytes(), NOW).is_ok());
        assert_eq!(field_of(parse(at(r#""kind":"price","#, 49 * 3_600_000).as_bytes(), NOW)).2.as_deref(), Some("at"));
        // Without a kind the sensor's decides, in the store; beyond any kind's limit, here.
        assert!(parse(at("", MAX_FUTURE_MS + 1000).as_bytes(), NOW).is_ok());
        assert_eq!(field_of(parse(at("", 49 * 3_600_000).as_bytes(), NOW)).2.as_deref(), Some("at"));
        let text = br#"{"sensor":"t","value":1,"at":"yesterday"}"#;
        assert_eq!(field_of(parse(text, NOW)).2.as_deref(), Some("at"));
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases: [(&[u8], &str); 6] = [
            (br#"{"sensor":"Bad Key","value":1}"#, "sensor"),
            (br#"{"value":1}"#, "sensor"),
            (br#"{"sensor":"t"}"#, "value"),
            (br#"{"sensor":"t","value":1,"kind":"pressure"}"#, "kind"),
            (br#"{"sensor":"t","value":2,"kind":"switch"}"#, "value"),
            (br#"{"sensor":"t","value":1e999}"#, "value"),
        ];
        for (body, field) in cases {
            let (status, _, got) = field_of(parse(body, NOW));
            assert_eq!((status, got.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn more_than_the_limit_is_too_large() {
        let one = r#"{"sensor":"t","value":1}"#;
        let body = format!(r#"{{"readings":[{}]}}"#, vec![one; MAX_READINGS + 1].join(","));
        assert_eq!(field_of(parse(body.as_bytes(), NOW)).0, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
