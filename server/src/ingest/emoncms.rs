//! The Emoncms input API (`/input/post`, `/input/bulk`), as the OpenEnergyMonitor world posts
//! to it: emonhub, emonTx/emonESP firmware and many scripts. Parameters come in the query
//! string or a form body, with GET or POST; the key is the `apikey` parameter or
//! `Authorization: Bearer`, and may be the device's token or its 32-character Emoncms API key
//! (`hearth device apikey <name>`), since emonhub takes no other length.
//!
//! An input `<input>` of node `<node>` is sensor `<node>.<input>`; its kind is guessed from the
//! input's name (`power1` is a power, `temp2` a temperature); inputs named by position (`csv=`,
//! bulk values) have no kind until their sensor exists, so they are skipped and counted. A
//! request is all or nothing. Answers are Emoncms's: `ok`, or `{"success": true}` with
//! `fulljson`, and `{"success": false, "message": "..."}` with an error status.

use super::mapping::{guess_kind, join_key, key_part};
use super::{Foreign, MAX_READINGS, accept_foreign, check_incoming, credentials, now_ms};
use crate::AppState;
use crate::error::Error;
use hearth_core::device::Device;
use hearth_core::reading::Incoming;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The request's parameters: the query string's, then the form body's (which win).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The parameters of a query string (or a form body: the same encoding).
    pub fn from_query(query: &str) -> Result<Params, Error> {
        serde_urlencoded::from_str(query)
            .map(Params)
            .map_err(|e| Error::Malformed(format!("the query string is malformed: {e}")))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// An error as Emoncms answers it: `{"success": false, "message": "..."}`.
#[derive(Debug)]
pub struct EmoncmsError(Error);

impl From<Error> for EmoncmsError {
    fn from(e: Error) -> Self {
        EmoncmsError(e)
    }
}

impl IntoResponse for EmoncmsError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            Error::Invalid { .. } | Error::Malformed(_) | Error::BadParameter { .. } => StatusCode::BAD_REQUEST,
            e => e.status(),
        };
        let message = match &self.0 {
            Error::Unauthorized => "unknown apikey: send the device's token or Emoncms API key as apikey= or \"Authorization: Bearer\"".to_owned(),
            e => e.to_string(),
        };
        self.0.respond(status, serde_json::json!({ "success": false, "message": message }))
    }
}

/// `GET|POST /input/post` (also `/input/post.json`): one update of one node.
#[utoipa::path(method(get, post), path = "/input/post", tag = "ingest", security((), ("device_token" = [])),
    params(("node" = Option<String>, Query, description = "The node"), ("apikey" = Option<String>, Query, description = "The device's token or Emoncms API key"),
        ("fulljson" = Option<String>, Query, description = "Inputs as JSON"), ("json" = Option<String>, Query, description = "Inputs as loose JSON"),
        ("csv" = Option<String>, Query, description = "Values of inputs 1, 2, …"), ("data" = Option<String>, Query, description = "Loose JSON or CSV"),
        ("time" = Option<String>, Query, description = "Unix seconds or ISO 8601")),
    responses((status = 200, description = "Stored: `ok`, or `{\"success\": true}` for fulljson", content((String = "text/plain"), (serde_json::Value = "application/json"))),
        (status = 400, description = "A bad update; nothing stored", body = serde_json::Value),
        (status = 401, description = "Unknown key", body = serde_json::Value),
        (status = 408, description = "The request took too long"),
        (status = 413, description = "Body too large", body = serde_json::Value),
        (status = 429, description = "Too many requests from this device", body = serde_json::Value),
        (status = 503, description = "The database is unavailable", body = serde_json::Value)))]
#[tracing::instrument(skip_all, fields(device))]
pub async fn post(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, EmoncmsError> {
    let params = params(&state, query.as_deref(), &headers, body)?;
    post_node(&state, &headers, params, None).await
}

/// `GET|POST /input/post/{node}`: the node named in the path.
#[utoipa::path(method(get, post), path = "/input/post/{node}", tag = "ingest", security((), ("device_token" = [])),
    params(("node" = String, Path, description = "The node"), ("apikey" = Option<String>, Query, description = "The device's token or Emoncms API key"),
        ("fulljson" = Option<String>, Query, description = "Inputs as JSON"), ("json" = Option<String>, Query, description = "Inputs as loose JSON"),
        ("csv" = Option<String>, Query, description = "Values of inputs 1, 2, …"), ("data" = Option<String>, Query, description = "Loose JSON or CSV"),
        ("time" = Option<String>, Query, description = "Unix seconds or ISO 8601")),
    responses((status = 200, description = "Stored: `ok`, or `{\"success\": true}` for fulljson", content((String = "text/plain"), (serde_json::Value = "application/json"))),
        (status = 400, description = "A bad update; nothing stored", body = serde_json::Value),
        (status = 401, description = "Unknown key", body = serde_json::Value),
        (status = 408, description = "The request took too long"),
        (status = 413, description = "Body too large", body = serde_json::Value),
        (status = 429, description = "Too many requests from this device", body = serde_json::Value),
        (status = 503, description = "The database is unavailable", body = serde_json::Value)))]
#[tracing::instrument(skip_all, fields(device))]
pub async fn post_to_node(
    State(state): State<AppState>,
    Path(node): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, EmoncmsError> {
    let params = params(&state, query.as_deref(), &headers, body)?;
    post_node(&state, &headers, params, Some(node)).await
}

/// `GET|POST /input/bulk` (also `/input/bulk.json`): many updates of many nodes, as emonhub
/// sends its buffer. With `cb=1` in the query string the body is the `data` parameter,
/// zlib-compressed (emonhub with `sendnames` or `compress`), as Emoncms takes it.
#[utoipa::path(method(get, post), path = "/input/bulk", tag = "ingest", security((), ("device_token" = [])),
    params(("apikey" = Option<String>, Query, description = "The device's token or Emoncms API key"),
        ("data" = Option<String>, Query, description = "`[[t, node, v1, …], …]`"), ("sentat" = Option<String>, Query, description = "emonhub's send time"),
        ("offset" = Option<String>, Query, description = "Seconds added to each t"), ("time" = Option<String>, Query, description = "Base time")),
    responses((status = 200, description = "Stored: `ok`, or `{\"success\": true}` for fulljson", content((String = "text/plain"), (serde_json::Value = "application/json"))),
        (status = 400, description = "A bad update; nothing stored", body = serde_json::Value),
        (status = 401, description = "Unknown key", body = serde_json::Value),
        (status = 408, description = "The request took too long"),
        (status = 413, description = "Body too large", body = serde_json::Value),
        (status = 429, description = "Too many requests from this device", body = serde_json::Value),
        (status = 503, description = "The database is unavailable", body = serde_json::Value)))]
#[tracing::instrument(skip_all, fields(device))]
pub async fn bulk(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, EmoncmsError> {
    let query_params = Params::from_query(query.as_deref().unwrap_or(""))?;
    let params = if query_params.has("cb") {
        compressed_params(&state, query_params, body)?
    } else {
        params(&state, query.as_deref(), &headers, body)?
    };
    let device = authenticate(&state, &headers, &params).await?;
    let now = now_ms();
    let readings = parse_bulk(&params, now)?;
    store(&state, &device, readings, now).await?;
    Ok(answer(&params))
}

async fn post_node(state: &AppState, headers: &HeaderMap, params: Params, node: Option<String>) -> Result<Response, EmoncmsError> {
    let device = authenticate(state, headers, &params).await?;
    let now = now_ms();
    let readings = parse_post(&params, node.as_deref(), now)?;
    store(state, &device, readings, now).await?;
    Ok(answer(&params))
}

async fn store(state: &AppState, device: &Device, readings: Vec<Foreign>, now: i64) -> Result<(), Error> {
    let result = accept_foreign(state, device, "emoncms", readings).await;
    state.activity.message(device.device_id, "emoncms", result.as_ref().err().map(ToString::to_string), now);
    result.map(|_| ())
}

/// `ok`, or `{"success": true}` when the request used `fulljson`, as Emoncms answers.
fn answer(params: &Params) -> Response {
    if params.has("fulljson") {
        Json(serde_json::json!({ "success": true })).into_response()
    } else {
        "ok".into_response()
    }
}

fn params(state: &AppState, query: Option<&str>, headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Params, Error> {
    let body = super::read_body(state, body)?;
    let Params(mut params) = Params::from_query(query.unwrap_or(""))?;
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form && !body.is_empty() {
        let posted: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|e| Error::Malformed(format!("the body is not form data: {e}")))?;
        params.extend(posted);
    }
    Ok(Params(params))
}

/// The query's parameters and `data` decompressed from a zlib body, refused past the body
/// limit (which applies to the decompressed data).
fn compressed_params(state: &AppState, Params(mut params): Params, body: Result<Bytes, BytesRejection>) -> Result<Params, Error> {
    use std::io::Read;
    let body = super::read_body(state, body)?;
    let limit = state.config.max_body_bytes;
    let mut data = Vec::new();
    flate2::read::ZlibDecoder::new(&body[..])
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| Error::Malformed(format!("cb=1: the body is not zlib-compressed data: {e}")))?;
    if data.len() > limit {
        return Err(Error::TooLarge { message: format!("the decompressed body is larger than the limit of {limit} bytes"), field: None });
    }
    let data = String::from_utf8(data).map_err(|_| Error::Malformed("cb=1: the decompressed body is not UTF-8 text".into()))?;
    params.push(("data".to_owned(), data));
    Ok(Params(params))
}

/// The device whose token or Emoncms API key the request carries.
async fn authenticate(state: &AppState, headers: &HeaderMap, params: &Params) -> Result<Device, Error> {
    let key = params.get("apikey").or_else(|| credentials(headers, "bearer")).ok_or(Error::Unauthorized)?;
    if key.starts_with(hearth_store::device::TOKEN_PREFIX) {
        return super::device_for_token(state, key).await;
    }
    let device = hearth_store::device::find_by_apikey(&state.db, key).await?.ok_or(Error::Unauthorized)?;
    if device.revoked {
        return Err(Error::Revoked);
    }
    tracing::Span::current().record("device", &device.name);
    Ok(device)
}

fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid { message: message.into(), index: None, field: None }
}

/// Emoncms keeps letters, digits, `_`, `-`, `.` and spaces of a node name; an empty one is 0.
fn node_name(node: &str) -> String {
    let kept: String = node.chars().filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ')).collect();
    if kept.trim().is_empty() { "0".to_owned() } else { kept.trim().to_owned() }
}

/// A time given as Unix seconds or as ISO 8601 text with an offset.
fn seconds_or_text(value: &str) -> Result<i64, Error> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        if seconds.is_finite() && (0.0..1e11).contains(&seconds) {
            return Ok((seconds * 1000.0).round() as i64);
        }
        return Err(invalid(format!("time {value} is not a time in Unix seconds")));
    }
    value
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| invalid(format!("time {value:?} is neither Unix seconds nor an ISO 8601 time with an offset")))
}

/// One reading of input `name` of `node`, its kind guessed from the name.
fn reading(node: &str, name: &str, value: f64, at_ms: i64, origin: usize, now_ms: i64) -> Result<Foreign, Error> {
    let key = join_key([node, name]).ok_or_else(|| {
        invalid(format!("the sensor key for node {node:?} input {name:?} would be longer than 64 characters"))
    })?;
    let guess = guess_kind(name);
    let incoming = Incoming { key, value: value * guess.map_or(1.0, |g| g.scale), at_ms, kind: guess.map(|g| g.kind), room: None };
    check_incoming(origin, &incoming, now_ms).map_err(|e| invalid(format!("input {name:?}: {e}")))?;
    Ok(Foreign { reading: incoming, guessed: true, origin })
}

/// The readings of an `input/post` request: `fulljson`, `json` (loose, keys unquoted), `csv`
/// or `data`, for `node` (the path's, else the `node` parameter, else 0), at `time`.
pub fn parse_post(params: &Params, path_node: Option<&str>, now_ms: i64) -> Result<Vec<Foreign>, Error> {
    let node = key_part(&node_name(path_node.or_else(|| params.get("node")).unwrap_or("0")));
    let mut at_ms = params.get("time").map(seconds_or_text).transpose()?;
    let mut inputs: Vec<(String, f64)> = Vec::new();
    let data = ["json", "fulljson", "csv", "data"].into_iter().find_map(|name| params.get(name).map(|v| (name, v)));
    match data {
        None | Some((_, "")) => return Err(invalid("Request contains no data via csv, json or data tag")),
        Some(("fulljson", text)) => {
            let object = match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(object)) => object,
                Ok(_) => return Err(invalid("Input must be a JSON object")),
                Err(e) => return Err(invalid(format!("Error decoding JSON string: {e}"))),
            };
            for (name, value) in object {
                match (name.as_str(), value) {
                    ("time", Value::Number(n)) if at_ms.is_none() => at_ms = n.as_f64().map(|s| (s * 1000.0).round() as i64),
                    ("time", Value::String(s)) if at_ms.is_none() => at_ms = Some(seconds_or_text(&s)?),
                    ("time", _) => {}
                    (_, Value::Null) => {}
                    (_, Value::Number(n)) => inputs.push((name, n.as_f64().unwrap_or(f64::NAN))),
                    (_, Value::Bool(b)) => inputs.push((name, f64::from(u8::from(b)))),
                    (_, _) => return Err(invalid(format!("input {name:?}: the value is not a number"))),
                }
            }
        }
        Some((_, text)) => {
            // Emoncms's loose format: keep letters, digits, _ - . : , and spaces, then split.
            let kept: String = text.chars().filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | ',' | ' ')).collect();
            let mut position = 0;
            for pair in kept.split(',') {
                let (name, value) = match pair.split_once(':') {
                    Some((name, value)) => {
                        if name.trim().is_empty() {
                            return Err(invalid("Format error, json key missing or invalid character"));
                        }
                        (name.trim().to_owned(), value.trim())
                    }
                    None => {
                        position += 1;
                        (position.to_string(), pair.trim())
                    }
                };
                if value == "null" {
                    continue;
                }
                let value: f64 = value
                    .parse()
                    .map_err(|_| invalid(format!("Format error, value {value:?} of input {name:?} is not numeric")))?;
                inputs.push((name, value));
            }
        }
    }
    let at_ms = at_ms.unwrap_or(now_ms);
    inputs
        .iter()
        .enumerate()
        .map(|(i, (name, value))| reading(&node, name, *value, at_ms, i, now_ms))
        .collect()
}

/// The readings of an `input/bulk` request: `data=[[t, node, value | {"name": value}, ...], ...]`
/// with item times relative to `sentat` (the sender's clock when it sent), `offset` (seconds
/// from now), `time` (Unix seconds) or, with none of them, to the last item (sent just now).
/// As in Emoncms, the arithmetic is in whole seconds (now, the parameter and each `t` cut to
/// their whole part), so a buffer sent again with a new `sentat` lands on the same times.
pub fn parse_bulk(params: &Params, now_ms: i64) -> Result<Vec<Foreign>, Error> {
    let not_valid = || invalid("Format error, json string supplied is not valid");
    let data: Value = serde_json::from_str(params.get("data").ok_or_else(not_valid)?).map_err(|_| not_valid())?;
    let items = data.as_array().filter(|items| !items.is_empty()).ok_or_else(not_valid)?;
    let seconds = |v: &Value| v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
    let param_seconds = |name: &str| -> Result<Option<f64>, Error> {
        params
            .get(name)
            .map(|v| match v.trim().parse::<f64>() {
                Ok(s) if s.is_finite() => Ok(s.trunc()),
                _ => Err(invalid(format!("{name} must be a number of seconds"))),
            })
            .transpose()
    };
    let now_s = now_ms.div_euclid(1000) as f64;
    let reference = if let Some(sentat) = param_seconds("sentat")? {
        now_s - sentat
    } else if let Some(offset) = param_seconds("offset")? {
        now_s + offset
    } else if let Some(time) = param_seconds("time")? {
        time
    } else {
        let last = items.last().and_then(|item| item.get(0)).and_then(seconds).map(f64::trunc);
        now_s - last.ok_or_else(|| invalid("Format error, last item in bulk data does not contain any data"))?
    };
    let mut readings = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Some(fields) = item.as_array().filter(|f| f.len() > 2) else { continue };
        let offset = seconds(&fields[0])
            .filter(|s| s.is_finite())
            .ok_or_else(|| invalid(format!("item {index}: the time offset is not a number")))?
            .trunc();
        let node = match &fields[1] {
            Value::Object(_) | Value::Array(_) => return Err(invalid("Format error, node must not be an object")),
            Value::String(s) => node_name(s),
            other => node_name(&other.to_string()),
        };
        let node = key_part(&node);
        let at_ms = ((reference + offset) * 1000.0).round() as i64;
        let mut position = 1;
        for value in &fields[2..] {
            match value {
                Value::Object(named) => {
                    for (name, value) in named {
                        let value = seconds(value).ok_or_else(|| invalid(format!("item {index}: input {name:?} is not a number")))?;
                        readings.push(reading(&node, name, value, at_ms, index, now_ms)?);
                    }
                }
                Value::Null => position += 1,
                Value::String(s) if s.is_empty() => position += 1,
                value => {
                    let number = seconds(value).ok_or_else(|| invalid(format!("item {index}: value {value} is not a number")))?;
                    readings.push(reading(&node, &position.to_string(), number, at_ms, index, now_ms)?);
                    position += 1;
                }
            }
        }
        if readings.len() > MAX_READINGS {
            return Err(Error::TooLarge { message: format!("more than {MAX_READINGS} readings in one request"), field: None });
        }
    }
    Ok(readings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_core::sensor::Kind;

    const NOW: i64 = 1_764_000_000_000;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn summary(readings: &[Foreign]) -> Vec<(String, f64, i64, Option<Kind>)> {
        readings.iter().map(|r| (r.reading.key.clone(), r.reading.value, r.reading.at_ms, r.reading.kind)).collect()
    }

    #[test]
    fn fulljson_json_and_csv_name_inputs_by_node() {
        let full = parse_post(&params(&[("node", "emontx"), ("fulljson", r#"{"power1":100,"power2":200,"power3":300}"#)]), None, NOW).unwrap();
        assert_eq!(summary(&full)[0], ("emontx.power1".into(), 100.0, NOW, Some(Kind::Power)));
        let loose = parse_post(&params(&[("node", "emontx"), ("json", "{power1:100,power2:200,power3:300}")]), None, NOW).unwrap();
        assert_eq!(summary(&loose), summary(&full));
        let csv = parse_post(&params(&[("node", "mynode"), ("csv", "100,200,300")]), None, NOW).unwrap();
        assert_eq!(summary(&csv)[2], ("mynode.3".into(), 300.0, NOW, None), "inputs by position have no kind");
        let path = parse_post(&params(&[("fulljson", r#"{"temp":21.5}"#)]), Some("emontx"), NOW).unwrap();
        assert_eq!(summary(&path), [("emontx.temp".into(), 21.5, NOW, Some(Kind::Temperature))]);
    }

    #[test]
    fn times_come_from_the_parameter_or_the_data() {
        let at = parse_post(&params(&[("time", "1763999000"), ("node", "1"), ("csv", "1")]), None, NOW).unwrap();
        assert_eq!(at[0].reading.at_ms, 1_763_999_000_000);
        let text = parse_post(&params(&[("node", "emontx"), ("fulljson", r#"{"power1":1,"time":"2025-11-24T15:40:00+00:00"}"#)]), None, NOW).unwrap();
        assert_eq!(text[0].reading.at_ms, 1_763_998_800_000);
    }

    #[test]
    fn bad_posts_are_refused() {
        for pairs in [
            vec![("node", "1")],
            vec![("json", "{power:hot}")],
            vec![("fulljson", "{\"power\":")],
            vec![("fulljson", "[1,2]")],
            vec![("fulljson", r#"{"power":"hot"}"#)],
            vec![("csv", "1"), ("time", "tomorrow")],
        ] {
            assert!(matches!(parse_post(&params(&pairs), None, NOW), Err(Error::Invalid { .. })), "{pairs:?}");
        }
    }

    #[test]
    fn bulk_times_follow_each_documented_mode() {
        let data = "[[-10,16,1137],[-8,17,1437,3164],[-6,19,1412,3077]]";
        let at = |extra: (&str, &str)| {
            let readings = parse_bulk(&params(&[("data", data), extra]), NOW).unwrap();
            readings.iter().map(|r| r.reading.at_ms).collect::<Vec<_>>()
        };
        assert_eq!(at(("offset", "-10"))[4], NOW - 16_000, "offset: -6 is 16 seconds before now");
        assert_eq!(at(("time", "1763990000"))[0], 1_763_989_990_000);
        let sentat = parse_bulk(&params(&[("data", "[[520,16,1137],[530,17,1437,3164],[535,19,1412,3077]]"), ("sentat", "543")]), NOW).unwrap();
        assert_eq!(sentat[0].reading.at_ms, NOW - 23_000);
        let legacy = parse_bulk(&params(&[("data", "[[0,16,1137],[2,17,1437,3164],[4,19,1412,3077]]")]), NOW).unwrap();
        assert_eq!(summary(&legacy)[0], ("16.1".into(), 1137.0, NOW - 4_000, None));
        assert_eq!(summary(&legacy)[2].0, "17.2");
    }

    #[test]
    fn a_buffer_sent_again_with_a_new_sentat_lands_on_the_same_seconds() {
        let data = "[[1763999990,16,1137],[1763999995.7,17,1437]]";
        let at = |now: i64, sentat: &str| {
            let readings = parse_bulk(&params(&[("data", data), ("sentat", sentat)]), now).unwrap();
            readings.iter().map(|r| r.reading.at_ms).collect::<Vec<_>>()
        };
        // Sent at the sender's 1764000000 as the server's clock read NOW + 0.4 s, then again
        // 7.6 s later at the sender's 1764000008.
        let first = at(NOW + 400, "1764000000");
        assert_eq!(first, [NOW - 10_000, NOW - 5_000], "whole seconds, as Emoncms computes them");
        assert_eq!(at(NOW + 8_000, "1764000008"), first);
        assert_eq!(at(NOW + 8_999, "1764000008.9"), first);
        assert_eq!(at(NOW + 300, "1764000000")[0] % 1000, 0);
    }

    #[test]
    fn bulk_names_inputs_by_object_and_refuses_bad_data() {
        let named = parse_bulk(&params(&[("data", r#"[[0,16,1137],[2,17,1437,3164],[4,19,{"data":1412},{"anotherData":3077}]]"#)]), NOW).unwrap();
        assert_eq!(named.iter().map(|r| r.reading.key.as_str()).collect::<Vec<_>>(), ["16.1", "17.1", "17.2", "19.data", "19.anotherdata"]);
        for data in ["not json", "[]", r#"[[0,{"a":1},3]]"#, r#"[[0,16,"hot"]]"#] {
            assert!(parse_bulk(&params(&[("data", data)]), NOW).is_err(), "{data}");
        }
    }
}
