//! Bad input, tried on purpose: one test per row of the README's table ("Bad input, tried on
//! purpose"), each checking the answer (status, and the error naming the field) and that
//! nothing stored changed.

mod common;

use common::on_both_databases;

use hearth_store::Db;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use futures_util::stream;
use hearth::config::Config;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

/// What is stored: the number of sensors and of readings.
async fn snapshot(db: &Db) -> (i64, i64) {
    const SQL: &str = "select (select count(*) from sensor), (select count(*) from reading)";
    hearth_store::testing::row(db, SQL).await
}

/// Posts `body` with `authorization` (if any) and returns the answer.
async fn send(t: &TestDb, authorization: Option<&str>, body: impl Into<Body>) -> (StatusCode, Value) {
    let mut request = Request::post("/api/v1/readings").header(header::CONTENT_TYPE, "application/json");
    if let Some(authorization) = authorization {
        request = request.header(header::AUTHORIZATION, authorization);
    }
    let response = hearth::app(common::state(&t.db)).oneshot(request.body(body.into()).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes) })))
}

/// A device `hall` with one stored reading, so that "nothing changed" is not vacuous; returns
/// its `Authorization` header.
async fn hall(t: &TestDb) -> String {
    let token = common::device_token(&t.db, "hall").await;
    let (status, _) = send(t, Some(&format!("Bearer {token}")), json!({"sensor": "t", "value": 20, "kind": "temperature"}).to_string()).await;
    assert_eq!(status, StatusCode::OK);
    format!("Bearer {token}")
}

/// Each body gets `status` with an error naming `field` (if given), and nothing is stored.
async fn refused(t: &TestDb, auth: &str, cases: &[(&[u8], StatusCode, Option<&str>)]) {
    let before = snapshot(&t.db).await;
    for (body, status, field) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        let (got, error) = send(t, Some(auth), body.to_vec()).await;
        assert_eq!(got, *status, "{shown} → {error}");
        assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()), "{shown} → {error}");
        if let Some(field) = field {
            assert_eq!(error["field"], *field, "{shown} → {error}");
        }
    }
    assert_eq!(snapshot(&t.db).await, before, "nothing stored changed");
}

const BAD: StatusCode = StatusCode::BAD_REQUEST;
const INVALID: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

async fn malformed_json_is_400(t: TestDb) {
    let auth = hall(&t).await;
    refused(&t, &auth, &[
        (br#"{"sensor": "t", "value": 1,,}"#, BAD, None),
        (br#"{sensor: "t", "value": 1}"#, BAD, None),
        (br#"{"sensor": 't', "value": 1}"#, BAD, None),
        (b"", BAD, None),
        (b"[1, 2]", BAD, None),
        (b"\"just a string\"", BAD, None),
        (br#"{"sensor": "t", "value": 1} trailing"#, BAD, None),
        (b"\xff\xfe{\"sensor\": \"t\"}", BAD, None),
        (br#"{"sensor": "t", "sensor": "u", "value": 1}"#, BAD, None),
    ]).await;
}

async fn truncated_json_is_400(t: TestDb) {
    let auth = hall(&t).await;
    let whole = json!({"readings": [{"sensor": "t", "value": 1.5, "kind": "temperature"}, {"sensor": "t", "value": 2}]}).to_string();
    let cases: Vec<(&[u8], StatusCode, Option<&str>)> = (1..whole.len()).map(|end| (&whole.as_bytes()[..end], BAD, None)).collect();
    refused(&t, &auth, &cases).await;
}

async fn wrong_types_are_422_naming_the_field(t: TestDb) {
    let auth = hall(&t).await;
    refused(&t, &auth, &[
        (br#"{"sensor": "t", "value": "hot"}"#, INVALID, Some("value")),
        (br#"{"sensor": 42, "value": 1}"#, INVALID, Some("sensor")),
        (br#"{"sensor": "t", "value": true}"#, INVALID, Some("value")),
        (br#"{"sensor": "t", "value": null}"#, INVALID, Some("value")),
        (br#"{"sensor": "t", "value": [1]}"#, INVALID, Some("value")),
        (br#"{"sensor": "t", "value": 1, "kind": 7}"#, INVALID, Some("kind")),
        (br#"{"sensor": "t", "value": 1, "room": {"name": "Hall"}}"#, INVALID, Some("room")),
        (br#"{"sensor": "t", "value": 1, "at": [2026]}"#, INVALID, Some("at")),
        (br#"{"readings": "all of them"}"#, INVALID, Some("readings")),
        (br#"{"readings": [1, 2]}"#, INVALID, Some("readings")),
    ]).await;
}

async fn nan_and_infinity_are_refused(t: TestDb) {
    let auth = hall(&t).await;
    refused(&t, &auth, &[
        (br#"{"sensor": "t", "value": NaN}"#, BAD, None),
        (br#"{"sensor": "t", "value": Infinity}"#, BAD, None),
        (br#"{"sensor": "t", "value": -Infinity}"#, BAD, None),
        (br#"{"sensor": "t", "value": "NaN"}"#, INVALID, Some("value")),
        (br#"{"sensor": "t", "value": 1e999}"#, INVALID, Some("value")),
        (br#"{"sensor": "t", "value": -1e999}"#, INVALID, Some("value")),
    ]).await;
}

async fn huge_numbers_are_422(t: TestDb) {
    let auth = hall(&t).await;
    refused(&t, &auth, &[
        (br#"{"sensor": "t", "value": 1e300}"#, INVALID, Some("value")),
        (br#"{"sensor": "t", "value": -2e15}"#, INVALID, Some("value")),
        (br#"{"sensor": "t", "value": 123456789012345678901234567890}"#, INVALID, Some("value")),
        (br#"{"sensor": "t", "value": 1, "at": 1e300}"#, INVALID, Some("at")),
        (br#"{"sensor": "t", "value": 1, "at": 99999999999999999999}"#, INVALID, Some("at")),
    ]).await;
    let (status, _) = send(&t, Some(&auth), r#"{"sensor": "t", "value": 999999999999999}"#).await;
    assert_eq!(status, StatusCode::OK, "the largest allowed magnitude is stored");
}

async fn a_10_mb_body_is_413(t: TestDb) {
    let auth = hall(&t).await;
    let before = snapshot(&t.db).await;
    let padding = " ".repeat(10 * 1024 * 1024);
    let body = format!(r#"{{"sensor": "t", "value": 1{padding}}}"#);
    let (status, error) = send(&t, Some(&auth), body.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{error}");
    assert!(error["error"].as_str().unwrap().contains("4194304"), "{error}");
    // The same without a length up front: streamed in chunks, cut at the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body.into_bytes().chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let (status, error) = send(&t, Some(&auth), Body::from_stream(stream::iter(chunks))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{error}");
    assert_eq!(snapshot(&t.db).await, before);
}

async fn a_100000_reading_batch_is_413(t: TestDb) {
    let auth = hall(&t).await;
    let one = r#"{"sensor":"t","value":1}"#;
    let body = format!(r#"{{"readings":[{}]}}"#, vec![one; 100_000].join(","));
    assert!(body.len() < 4 * 1024 * 1024, "under the body limit: the count is what is refused");
    refused(&t, &auth, &[(body.as_bytes(), StatusCode::PAYLOAD_TOO_LARGE, Some("readings"))]).await;
}

async fn deep_nesting_is_refused_or_ignored_without_overflowing_the_stack(t: TestDb) {
    let auth = hall(&t).await;
    let deep = |key: &str| format!(r#"{{"sensor": "t", {key}: {}1{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    let (in_value, in_at, in_readings) = (deep(r#""value""#), deep(r#""at""#), deep(r#""value": 1, "kind""#));
    let in_batch = format!(r#"{{"readings": [{}1{}]}}"#, "[".repeat(100_000), "]".repeat(100_000));
    refused(&t, &auth, &[
        // Where a number or text is due, the first bracket is already the wrong type.
        (in_value.as_bytes(), INVALID, Some("value")),
        (in_readings.as_bytes(), INVALID, Some("kind")),
        (in_batch.as_bytes(), INVALID, Some("readings")),
        // `at` may be a number or text, so its value is read whole: the parser's depth limit.
        (in_at.as_bytes(), BAD, None),
    ]).await;
    // Unknown fields are skipped without recursion, however deep; the reading's own checks decide.
    let unknown = format!(r#"{{"sensor": "t", "value": 21, "x": {}1{}}}"#, r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    let (status, receipt) = send(&t, Some(&auth), unknown).await;
    assert_eq!((status, receipt), (StatusCode::OK, json!({"stored": 1, "duplicates": 0})));
}

async fn unicode_and_control_characters_in_keys_are_422(t: TestDb) {
    let auth = hall(&t).await;
    refused(&t, &auth, &[
        (br#"{"sensor": "k\u00fcche.temp", "value": 1, "kind": "temperature"}"#, INVALID, Some("sensor")),
        (br#"{"sensor": "kitchen\u0000temp", "value": 1, "kind": "temperature"}"#, INVALID, Some("sensor")),
        (br#"{"sensor": "kitchen\ttemp", "value": 1, "kind": "temperature"}"#, INVALID, Some("sensor")),
        ("{\"sensor\": \"\u{1F525}\", \"value\": 1, \"kind\": \"temperature\"}".as_bytes(), INVALID, Some("sensor")),
        (br#"{"sens\u0001or": "t", "value": 1}"#, INVALID, Some("sensor")),
        (br#"{"sensor": "", "value": 1}"#, INVALID, Some("sensor")),
        (br#"{"sensor": "t", "value": 1, "kind": "temp\u0000erature"}"#, INVALID, Some("kind")),
        (br#"{"sensor": "new", "value": 1, "kind": "temperature", "room": "Hall\u0007"}"#, INVALID, Some("room")),
    ]).await;
    let (status, _) = send(&t, Some(&auth), r#"{"sensor": "k.temp", "value": 1, "kind": "temperature", "room": "Küche 🔥"}"#).await;
    assert_eq!(status, StatusCode::OK, "unicode in a room name is fine");
}

async fn times_far_in_the_past_and_future_are_422(t: TestDb) {
    let auth = hall(&t).await;
    let ahead = (jiff::Timestamp::now() + jiff::SignedDuration::from_mins(6)).to_string();
    let cases = [
        r#"{"sensor": "t", "value": 1, "at": -1}"#.to_owned(),
        r#"{"sensor": "t", "value": 1, "at": 0}"#.to_owned(),
        r#"{"sensor": "t", "value": 1, "at": "1999-12-31T23:59:59Z"}"#.to_owned(),
        r#"{"sensor": "t", "value": 1, "at": "0001-01-01T00:00:00Z"}"#.to_owned(),
        r#"{"sensor": "t", "value": 1, "at": "9999-12-31T23:59:59Z"}"#.to_owned(),
        r#"{"sensor": "t", "value": 1, "at": 1e11}"#.to_owned(),
        format!(r#"{{"sensor": "t", "value": 1, "at": "{ahead}"}}"#),
        r#"{"sensor": "t", "value": 1, "at": "2026-01-31 18:30"}"#.to_owned(),
    ];
    let cases: Vec<(&[u8], StatusCode, Option<&str>)> = cases.iter().map(|c| (c.as_bytes(), INVALID, Some("at"))).collect();
    refused(&t, &auth, &cases).await;
    let (status, _) = send(&t, Some(&auth), r#"{"sensor": "t", "value": 1, "at": "2000-01-01T00:00:00Z"}"#).await;
    assert_eq!(status, StatusCode::OK, "a backfill as old as 2000 is accepted");
}

async fn unknown_and_revoked_tokens_are_401(t: TestDb) {
    let auth = hall(&t).await;
    hearth_store::device::revoke(&t.db, "hall").await.unwrap();
    let body = r#"{"sensor": "t", "value": 1}"#;
    let before = snapshot(&t.db).await;
    let unknown = format!("Bearer hth_{}", "0".repeat(64));
    for (authorization, says) in [
        (None, "token"),
        (Some(unknown.as_str()), "unknown"),
        (Some("Bearer "), "token"),
        (Some("Basic aGFsbDpodW50ZXIy"), "token"),
        (Some(auth.as_str()), "revoked"),
    ] {
        let (status, error) = send(&t, authorization, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert!(error["error"].as_str().unwrap().contains(says), "{authorization:?} → {error}");
    }
    assert_eq!(snapshot(&t.db).await, before);
}

on_both_databases!(
    malformed_json_is_400,
    truncated_json_is_400,
    wrong_types_are_422_naming_the_field,
    nan_and_infinity_are_refused,
    huge_numbers_are_422,
    a_10_mb_body_is_413,
    a_100000_reading_batch_is_413,
    deep_nesting_is_refused_or_ignored_without_overflowing_the_stack,
    unicode_and_control_characters_in_keys_are_422,
    times_far_in_the_past_and_future_are_422,
    unknown_and_revoked_tokens_are_401,
);

/// Sends `head` then `trickle` one byte every 100 ms, reading meanwhile; returns what the
/// server answered (possibly nothing) and how long after the first byte it closed the
/// connection, or `None` if it was still open when everything was sent.
async fn trickle(base: &str, head: &[u8], trickle: &[u8]) -> (String, Option<Duration>) {
    let mut tcp = TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    let started = Instant::now();
    tcp.write_all(head).await.unwrap();
    let mut answer = Vec::new();
    for byte in trickle {
        if tcp.write_all(&[*byte]).await.is_err() {
            return (String::from_utf8_lossy(&answer).into_owned(), Some(started.elapsed()));
        }
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(Duration::from_millis(100), tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&answer).into_owned(), Some(started.elapsed())),
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    (String::from_utf8_lossy(&answer).into_owned(), None)
}

#[tokio::test]
async fn slow_loris_headers_are_cut_off_at_the_header_timeout() {
    let t = common::sqlite().await;
    let (base, _stop, _server) = common::serve(&t.db, Config { header_timeout_secs: 1, ..Config::default() }).await;
    let (_, closed) = trickle(&base, b"POST /api/v1/readings HTTP/1.1\r\nHost: hearth\r\n", &[b'x'; 40]).await;
    let closed = closed.expect("the connection is closed before 4 s of trickled headers");
    assert!(closed >= Duration::from_millis(900) && closed < Duration::from_secs(3), "closed after {closed:?}");
}

#[tokio::test]
async fn slow_loris_bodies_get_408_at_the_request_timeout() {
    let t = common::sqlite().await;
    let token = common::device_token(&t.db, "hall").await;
    let (base, _stop, _server) = common::serve(&t.db, Config { request_timeout_secs: 1, ..Config::default() }).await;
    let head = format!(
        "POST /api/v1/readings HTTP/1.1\r\nHost: hearth\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n"
    );
    let (answer, _) = trickle(&base, head.as_bytes(), &[b' '; 40]).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
}
