//! The InfluxDB line protocol, as InfluxDB 2 (`POST /api/v2/write`) and 1.x (`POST /write`)
//! take it, so that Telegraf and the many sketches that speak it post to Hearth unchanged.
//!
//! Each field of a line is one reading. Its sensor key is the measurement, the values of the
//! line's tags (sorted by tag key, except `kind`, `room`'s value included, `host` left out) and
//! the field key, joined by `.`; the `room` tag names a new sensor's room, the `kind` tag its
//! kind, else the kind is guessed from the field key, then from the measurement. A request is
//! all or nothing: any bad line answers 400 naming its line number, and nothing is stored.

use super::mapping::{guess_kind, join_key};
use super::{Foreign, MAX_READINGS, accept_foreign, credentials, device_for_token, now_ms};
use crate::AppState;
use crate::error::Error;
use hearth_core::device::Device;
use hearth_core::reading::Incoming;
use hearth_core::sensor::Kind;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use influxdb_line_protocol::{FieldValue, ParsedLine};
use serde::Deserialize;
use std::collections::HashMap;

/// Query parameters of both write endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct WriteParams {
    /// Timestamp unit: `ns` (default), `us`, `ms`, `s`; 1.x also `n`, `u`, `m`, `h`.
    precision: Option<String>,
    /// 1.x user name (ignored).
    #[allow(dead_code)]
    u: Option<String>,
    /// 1.x password: the device token.
    p: Option<String>,
}

/// An error as InfluxDB answers it: 2.x `{"code": "...", "message": "..."}`, 1.x
/// `{"error": "..."}`, with InfluxDB's status codes (400 for any bad line).
#[derive(Debug)]
pub struct InfluxError {
    error: Error,
    v1: bool,
}

impl IntoResponse for InfluxError {
    fn into_response(self) -> Response {
        let status = match &self.error {
            Error::Malformed(_) | Error::BadParameter { .. } | Error::Invalid { .. } => StatusCode::BAD_REQUEST,
            e => e.status(),
        };
        let code = match status {
            StatusCode::BAD_REQUEST => "invalid",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not found",
            StatusCode::PAYLOAD_TOO_LARGE => "request too large",
            StatusCode::TOO_MANY_REQUESTS => "too many requests",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "internal error",
        };
        let message = match &self.error {
            Error::Unauthorized => "unauthorized access: send the device token as \"Authorization: Token <token>\"".to_owned(),
            e => e.to_string(),
        };
        let body = if self.v1 {
            serde_json::json!({ "error": message })
        } else {
            serde_json::json!({ "code": code, "message": message })
        };
        self.error.respond(status, body)
    }
}

/// `POST /api/v2/write?bucket=&org=&precision=` with `Authorization: Token <device token>`.
/// `bucket` and `org` are accepted and ignored: the token says which device writes.
#[utoipa::path(post, path = "/api/v2/write", tag = "ingest", security(("influx_token" = [])),
    params(("bucket" = Option<String>, Query, description = "Ignored"), ("org" = Option<String>, Query, description = "Ignored"),
        ("precision" = Option<String>, Query, description = "ns (default), us, ms, s")),
    request_body(content = String, content_type = "text/plain", description = "InfluxDB line protocol"),
    responses((status = 204, description = "Every line stored"),
        (status = 400, description = "A bad line, named; nothing stored", body = serde_json::Value),
        (status = 401, description = "Missing or unknown token", body = serde_json::Value),
        (status = 408, description = "The request took too long"),
        (status = 413, description = "Body too large", body = serde_json::Value),
        (status = 429, description = "Too many requests from this device", body = serde_json::Value),
        (status = 503, description = "The database is unavailable", body = serde_json::Value)))]
#[tracing::instrument(skip_all, fields(device))]
pub async fn write_v2(
    State(state): State<AppState>,
    Query(params): Query<WriteParams>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, InfluxError> {
    let v2 = |error| InfluxError { error, v1: false };
    let token = credentials(&headers, "token").or_else(|| credentials(&headers, "bearer"));
    let device = device_for_token(&state, token.ok_or(Error::Unauthorized).map_err(v2)?).await.map_err(v2)?;
    write(&state, &device, &params, body).await.map_err(v2)
}

/// `POST /write?db=&precision=` (InfluxDB 1.x): the device token as the password, in `p=`, in
/// basic authentication, or as `Authorization: Token <token>`.
#[utoipa::path(post, path = "/write", tag = "ingest", security(("influx_token" = []), ("influx_basic" = [])),
    params(("db" = Option<String>, Query, description = "Ignored"), ("precision" = Option<String>, Query, description = "n (default), u, ms, s, m, h"),
        ("u" = Option<String>, Query, description = "User, ignored"), ("p" = Option<String>, Query, description = "The device token")),
    request_body(content = String, content_type = "text/plain", description = "InfluxDB line protocol"),
    responses((status = 204, description = "Every line stored"),
        (status = 400, description = "A bad line, named; nothing stored", body = serde_json::Value),
        (status = 401, description = "Missing or unknown token", body = serde_json::Value),
        (status = 408, description = "The request took too long"),
        (status = 413, description = "Body too large", body = serde_json::Value),
        (status = 429, description = "Too many requests from this device", body = serde_json::Value),
        (status = 503, description = "The database is unavailable", body = serde_json::Value)))]
#[tracing::instrument(skip_all, fields(device))]
pub async fn write_v1(
    State(state): State<AppState>,
    Query(params): Query<WriteParams>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, InfluxError> {
    let v1 = |error| InfluxError { error, v1: true };
    let basic = credentials(&headers, "basic").and_then(|encoded| {
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        text.split_once(':').map(|(_, password)| password.to_owned())
    });
    let token = params
        .p
        .clone()
        .or(basic)
        .or_else(|| credentials(&headers, "token").or_else(|| credentials(&headers, "bearer")).map(str::to_owned));
    let device = device_for_token(&state, &token.ok_or(Error::Unauthorized).map_err(v1)?).await.map_err(v1)?;
    write(&state, &device, &params, body).await.map_err(v1)
}

/// `GET /ping`: InfluxDB's liveness check, which some clients call before writing.
#[utoipa::path(get, path = "/ping", tag = "ingest", responses((status = 204, description = "Alive")))]
pub async fn ping() -> impl IntoResponse {
    (StatusCode::NO_CONTENT, [("X-Influxdb-Version", HeaderValue::from_static("1.8-hearth"))])
}

/// Query parameters of `/query`.
#[derive(Debug, Deserialize)]
pub struct QueryParams {
    q: Option<String>,
}

/// `POST /query` (InfluxDB 1.x): only `CREATE DATABASE`, which Telegraf sends before writing,
/// succeeds (and does nothing: readings go to the device's sensors).
#[utoipa::path(post, path = "/query", tag = "ingest", params(("q" = Option<String>, Query, description = "`CREATE DATABASE …`")),
    responses((status = 200, description = "CREATE DATABASE done", body = serde_json::Value),
        (status = 400, description = "Any other query", body = serde_json::Value)))]
pub async fn query(Query(params): Query<QueryParams>, body: Bytes) -> Result<Json<serde_json::Value>, InfluxError> {
    let form: QueryParams = serde_urlencoded::from_bytes(&body).unwrap_or(QueryParams { q: None });
    let q = params.q.or(form.q).unwrap_or_default();
    if q.trim_start().to_ascii_lowercase().starts_with("create database") {
        Ok(Json(serde_json::json!({ "results": [{ "statement_id": 0 }] })))
    } else {
        let message = "Hearth takes writes only; the only query it answers is CREATE DATABASE".to_owned();
        Err(InfluxError { error: Error::Malformed(message), v1: true })
    }
}

async fn write(
    state: &AppState,
    device: &Device,
    params: &WriteParams,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, Error> {
    let body = super::read_body(state, body)?;
    let now = now_ms();
    let unit_ns = precision_ns(params.precision.as_deref())?;
    let text = std::str::from_utf8(&body).map_err(|_| Error::Malformed("the body is not UTF-8 text".into()))?;
    let readings = parse(text, unit_ns, now)?;
    let result = accept_foreign(state, device, "influx", readings).await;
    state.activity.message(device.device_id, "influx", result.as_ref().err().map(ToString::to_string), now);
    result.map_err(|e| match e {
        Error::Invalid { message, index: Some(line), field } => {
            Error::Invalid { message: format!("line {line}: {message}"), index: Some(line), field }
        }
        e => e,
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Nanoseconds per unit of `precision`.
fn precision_ns(precision: Option<&str>) -> Result<i64, Error> {
    Ok(match precision.unwrap_or("ns") {
        "ns" | "n" => 1,
        "us" | "u" | "µ" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        other => {
            return Err(Error::BadParameter {
                field: "precision",
                message: format!("precision {other:?} is not one of ns, us, ms, s"),
            });
        }
    })
}

/// Parses and checks a body of line protocol: one reading per numeric or boolean field. The
/// first bad line fails the whole body (400, its line number in the message). Timestamps are
/// in units of `unit_ns` nanoseconds; lines without one get `now_ms`.
pub fn parse(body: &str, unit_ns: i64, now_ms: i64) -> Result<Vec<Foreign>, Error> {
    let mut readings = Vec::new();
    // A batch repeats its series on every line: what each series' fields become is worked out
    // at its first line, by the series' text.
    let mut series_fields: HashMap<&str, Vec<(String, Mapped)>> = HashMap::new();
    let mut line_number = 1;
    // Only a quote or a backslash lets a newline be part of a line; without either, lines
    // are split at every newline, much faster than the parser's own splitting.
    let lines: Box<dyn Iterator<Item = &str>> = match memchr::memchr2(b'"', b'\\', body.as_bytes()) {
        None => Box::new(body.split('\n')),
        Some(_) => Box::new(influxdb_line_protocol::split_lines(body)),
    };
    for raw in lines {
        let number = line_number;
        line_number += 1 + raw.matches('\n').count();
        let raw = raw.trim_end_matches('\r');
        let bad = |message: String| Error::Invalid {
            message: format!("line {number}: {message} in {:?}", shorten(raw)),
            index: Some(number),
            field: None,
        };
        let Some(parsed) = influxdb_line_protocol::parse_lines(raw).next() else { continue };
        let line = parsed.map_err(|e| bad(e.to_string()))?;
        let at_ms = match line.timestamp {
            Some(t) => t.checked_mul(unit_ns).map(|ns| ns.div_euclid(1_000_000)).ok_or_else(|| bad("the timestamp is out of range".into()))?,
            None => now_ms,
        };
        let fields = series_fields.entry(series_text(raw.trim_start())).or_default();
        for (field, value) in &line.field_set {
            let field = field.as_str();
            let mapped = match fields.iter().position(|(name, _)| name == field) {
                Some(at) => &fields[at].1,
                None => {
                    fields.push((field.to_owned(), map_field(&line, field).map_err(bad)?));
                    &fields[fields.len() - 1].1
                }
            };
            let value = field_number(field, value).map_err(bad)?;
            let reading = Incoming {
                key: mapped.key.clone(),
                value: value * mapped.scale,
                at_ms,
                kind: mapped.kind,
                room: mapped.room.clone(),
            };
            super::check_incoming(number, &reading, now_ms).map_err(|e| bad(e.to_string()))?;
            readings.push(Foreign { reading, guessed: mapped.guessed, origin: number });
        }
        if readings.len() > MAX_READINGS {
            return Err(Error::TooLarge {
                message: format!("more than {MAX_READINGS} readings in one request"),
                field: None,
            });
        }
    }
    Ok(readings)
}

/// The series of a line as written (measurement and tags): the text before its first
/// unescaped space.
fn series_text(raw: &str) -> &str {
    let bytes = raw.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b' ' => return &raw[..at],
            _ => at += 1,
        }
    }
    raw
}

/// What a field of a series becomes: its sensor key, kind and scale, and the room its tags name.
struct Mapped {
    key: String,
    kind: Option<Kind>,
    scale: f64,
    guessed: bool,
    room: Option<String>,
}

/// A field's value as a number; strings are refused.
fn field_number(field: &str, value: &FieldValue<'_>) -> Result<f64, String> {
    Ok(match value {
        FieldValue::F64(v) => *v,
        FieldValue::I64(v) => *v as f64,
        FieldValue::U64(v) => *v as f64,
        FieldValue::Boolean(b) => f64::from(u8::from(*b)),
        FieldValue::String(_) => {
            return Err(format!("field {field:?} is a string; Hearth stores numbers (floats, integers, booleans)"));
        }
    })
}

/// What `field` of `line`'s series becomes.
fn map_field(line: &ParsedLine<'_>, field: &str) -> Result<Mapped, String> {
    let measurement = line.series.measurement.as_str();
    let mut tags: Vec<(&str, &str)> =
        line.series.tag_set.iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    tags.sort();
    let tag = |name: &str| tags.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let stated = tag("kind").map(|k| k.parse::<Kind>().map_err(|e| format!("tag kind: {e}"))).transpose()?;
    let parts = std::iter::once(measurement)
        .chain(tags.iter().filter(|(k, _)| !matches!(*k, "kind" | "host")).map(|(_, v)| *v))
        .chain(std::iter::once(field));
    let Some(key) = join_key(parts) else {
        return Err(format!("the sensor key for field {field:?} would be longer than 64 characters"));
    };
    let guess = guess_kind(field).or_else(|| guess_kind(measurement));
    let kind = stated.or(guess.map(|g| g.kind));
    let scale = guess.filter(|g| Some(g.kind) == kind).map_or(1.0, |g| g.scale);
    Ok(Mapped { key, kind, scale, guessed: stated.is_none(), room: tag("room").map(str::to_owned) })
}

fn shorten(line: &str) -> String {
    match line.char_indices().nth(80) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    fn keys(readings: &[Foreign]) -> Vec<(&str, f64, Option<Kind>)> {
        readings.iter().map(|r| (r.reading.key.as_str(), r.reading.value, r.reading.kind)).collect()
    }

    #[test]
    fn fields_become_sensors_named_by_measurement_tags_and_field() {
        let body = "weather,location=us-midwest,room=Garden temperature=82,humidity=71i 1764000000000000000\n";
        let readings = parse(body, 1, NOW).unwrap();
        assert_eq!(
            keys(&readings),
            [
                ("weather.us-midwest.garden.temperature", 82.0, Some(Kind::Temperature)),
                ("weather.us-midwest.garden.humidity", 71.0, Some(Kind::Humidity)),
            ]
        );
        assert_eq!(readings[0].reading.room.as_deref(), Some("Garden"));
        assert_eq!(readings[0].reading.at_ms, NOW);
        assert!(readings[0].guessed);
    }

    #[test]
    fn the_kind_tag_wins_and_watt_hours_become_kilowatt_hours() {
        let readings = parse("meter,kind=energy,host=pi energy_wh=1500 1764000000", 1_000_000_000, NOW).unwrap();
        assert_eq!(keys(&readings), [("meter.energy_wh", 1.5, Some(Kind::Energy))]);
        assert!(!readings[0].guessed);
        let readings = parse("plug,kind=switch state=true", 1, NOW).unwrap();
        assert_eq!(keys(&readings), [("plug.state", 1.0, Some(Kind::Switch))]);
        assert_eq!(readings[0].reading.at_ms, NOW, "no timestamp: the server's time");
    }

    #[test]
    fn escaped_names_and_comments_are_read() {
        let body = "# a comment\n\nroom\\ temp,room=Living\\ room value=20.5\r\n";
        let readings = parse(body, 1, NOW).unwrap();
        assert_eq!(keys(&readings), [("room_temp.living_room.value", 20.5, Some(Kind::Temperature))]);
    }

    #[test]
    fn each_series_keeps_its_own_sensor_however_often_it_repeats() {
        let body = "m,room=A t=1 1764000000001\nm,room=B t=2,h=5 1764000000002\n  m,room=A t=3 1764000000003\n\
                    m,room=A\\ B t=4 1764000000004\nm,room=B h=6 1764000000005\n";
        let readings = parse(body, 1_000_000, NOW).unwrap();
        let seen: Vec<_> = readings.iter().map(|r| (r.reading.key.as_str(), r.reading.room.as_deref(), r.reading.value, r.origin)).collect();
        assert_eq!(
            seen,
            [
                ("m.a.t", Some("A"), 1.0, 1),
                ("m.b.t", Some("B"), 2.0, 2),
                ("m.b.h", Some("B"), 5.0, 2),
                ("m.a.t", Some("A"), 3.0, 3),
                ("m.a_b.t", Some("A B"), 4.0, 4),
                ("m.b.h", Some("B"), 6.0, 5),
            ]
        );
        assert_eq!(series_text("m,room=A\\ B t=4 4"), "m,room=A\\ B");
    }

    #[test]
    fn string_fields_are_refused_with_their_line_number() {
        let body = "t,room=a value=1\nweather,location=us temperature=\"too warm\"\n";
        match parse(body, 1, NOW) {
            Err(Error::Invalid { message, index, .. }) => {
                assert_eq!(index, Some(2));
                assert!(message.starts_with("line 2: field \"temperature\" is a string"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_lines_and_bad_values_name_their_line() {
        for (body, line) in [
            ("a v=1\nnot line protocol\n", 2),
            ("a v=1\nb v=1\nc,kind=pressure v=1", 3),
            ("a,kind=switch v=2", 1),
            (&format!("a,kind=power v=1 {}", (NOW + 600_000) * 1_000_000) as &str, 1),
            (&format!("a v=1 {}", (NOW + 49 * 3_600_000) * 1_000_000) as &str, 1),
        ] {
            match parse(body, 1, NOW) {
                Err(Error::Invalid { index, .. }) => assert_eq!(index, Some(line), "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn precisions_scale_timestamps() {
        assert_eq!(precision_ns(None).unwrap(), 1);
        assert_eq!(precision_ns(Some("s")).unwrap(), 1_000_000_000);
        assert_eq!(precision_ns(Some("u")).unwrap(), 1_000);
        assert!(precision_ns(Some("fortnight")).is_err());
        let readings = parse("a temp=1 1764000000123", 1_000_000, NOW).unwrap();
        assert_eq!(readings[0].reading.at_ms, 1_764_000_000_123);
    }
}
