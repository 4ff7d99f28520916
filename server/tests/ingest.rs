//! The ingest endpoint, request by request, on SQLite and on PostgreSQL: every status code of
//! its contract, and what ends up stored.

mod common;

use common::on_both_databases;

use hearth_store::reading::history;
use hearth_core::sensor::Kind;
use hearth_store::Db;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use hearth::config::Config;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn send(router: axum::Router, token: Option<&str>, body: impl Into<Body>) -> (StatusCode, Value) {
    let mut request = Request::post("/api/v1/readings").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = router.oneshot(request.body(body.into()).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes) }));
    (status, json)
}

async fn post(db: &Db, token: &str, body: Value) -> (StatusCode, Value) {
    send(hearth::app(common::state(db)), Some(token), body.to_string()).await
}

/// Every stored (time, value) of the sensors of `kind`, by sensor key.
async fn stored(db: &Db, kind: Kind) -> Vec<(String, Vec<f64>)> {
    let now = jiff::Timestamp::now().as_millisecond();
    history(db, kind, now - 3_600_000, now + 60_000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.sensor.key, s.points.iter().map(|p| p.value).collect()))
        .collect()
}

fn minutes_ago(minutes: i64) -> String {
    (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(minutes)).to_string()
}

async fn a_reading_is_stored_and_counted(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let body = json!({"sensor": "hall.temp", "value": 21.5, "kind": "temperature", "room": "Hall"});
    let (status, receipt) = post(&t.db, &token, body).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt, json!({"stored": 1, "duplicates": 0}));
    assert_eq!(stored(&t.db, Kind::Temperature).await, [("hall.temp".to_owned(), vec![21.5])]);
}

async fn a_retried_batch_stores_only_what_is_new(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let readings: Vec<Value> = (0..3)
        .map(|i| json!({"sensor": "t", "value": 20 + i, "at": minutes_ago(10 - i), "kind": "temperature"}))
        .collect();
    let (status, receipt) = post(&t.db, &token, json!({ "readings": readings })).await;
    assert_eq!((status, receipt), (StatusCode::OK, json!({"stored": 3, "duplicates": 0})));

    let mut retry = readings.clone();
    retry.push(json!({"sensor": "t", "value": 30, "at": minutes_ago(1)}));
    let (status, receipt) = post(&t.db, &token, json!({ "readings": retry })).await;
    assert_eq!((status, receipt), (StatusCode::OK, json!({"stored": 1, "duplicates": 3})));
    assert_eq!(stored(&t.db, Kind::Temperature).await[0].1, [20.0, 21.0, 22.0, 30.0]);
}

async fn unix_seconds_and_rfc3339_name_the_same_instant(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let at = jiff::Timestamp::now().as_second() - 60;
    let text = jiff::Timestamp::from_second(at).unwrap().to_string();
    let body = json!({"readings": [
        {"sensor": "t", "value": 1, "at": at, "kind": "temperature"},
        {"sensor": "t", "value": 1, "at": text},
    ]});
    let (status, receipt) = post(&t.db, &token, body).await;
    assert_eq!((status, receipt), (StatusCode::OK, json!({"stored": 1, "duplicates": 1})));
}

async fn malformed_json_is_400_and_stores_nothing(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let (status, error) = send(hearth::app(common::state(&t.db)), Some(&token), r#"{"sensor": "t", "value": "#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"].as_str().unwrap().contains("JSON"), "{error}");
    assert!(stored(&t.db, Kind::Temperature).await.is_empty());
}

async fn a_missing_or_unknown_token_is_401(t: TestDb) {
    let body = json!({"sensor": "t", "value": 1, "kind": "temperature"}).to_string();
    let (status, error) = send(hearth::app(common::state(&t.db)), None, body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(error["error"].as_str().unwrap().contains("token"));
    let (status, _) = send(hearth::app(common::state(&t.db)), Some("hth_not-a-real-token"), body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(stored(&t.db, Kind::Temperature).await.is_empty());
}

async fn a_body_over_the_limit_is_413(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let config = Config { max_body_bytes: 1024, ..Config::default() };
    let readings: Vec<Value> = (0..50).map(|i| json!({"sensor": "t", "value": i, "kind": "temperature"})).collect();
    let body = json!({ "readings": readings }).to_string();
    assert!(body.len() > 1024);
    let (status, error) = send(hearth::app(common::state_with(&t.db, config)), Some(&token), body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{error}");
    assert!(error["error"].as_str().unwrap().contains("1024"));
}

async fn more_than_10000_readings_is_413(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let readings = vec![json!({"sensor": "t", "value": 1, "kind": "temperature"}); 10_001];
    let (status, error) = post(&t.db, &token, json!({ "readings": readings })).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error["field"], "readings");
}

async fn each_invalid_reading_is_422_naming_its_field(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let (status, _) = post(&t.db, &token, json!({"sensor": "kettle", "value": 1, "kind": "switch"})).await;
    assert_eq!(status, StatusCode::OK);
    let cases = [
        (json!({"sensor": "new", "value": 1}), "kind"),
        (json!({"sensor": "Not A Key", "value": 1, "kind": "temperature"}), "sensor"),
        (json!({"sensor": "t", "value": 1, "kind": "pressure"}), "kind"),
        (json!({"sensor": "t", "value": "hot", "kind": "temperature"}), "value"),
        (json!({"sensor": "kettle", "value": 0.5}), "value"),
        (json!({"sensor": "kettle", "value": 1, "kind": "power"}), "kind"),
        (json!({"sensor": "t", "value": 1, "kind": "temperature", "at": "last tuesday"}), "at"),
        (json!({"sensor": "t", "value": 1, "kind": "temperature", "at": minutes_ago(-6)}), "at"),
    ];
    for (body, field) in cases {
        let (status, error) = post(&t.db, &token, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {error}");
        assert_eq!(error["field"], field, "{body} → {error}");
        assert_eq!(error["index"], 0, "{body} → {error}");
    }
    let (_, error) = send(
        hearth::app(common::state(&t.db)),
        Some(&token),
        r#"{"sensor": "t", "value": 1e999, "kind": "temperature"}"#,
    )
    .await;
    assert_eq!(error["field"], "value", "{error}");
    assert!(stored(&t.db, Kind::Temperature).await.is_empty());
}

async fn an_unknown_sensor_without_kind_is_named(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let (status, error) = post(&t.db, &token, json!({"sensor": "cellar.temp", "value": 12})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error["error"].as_str().unwrap().contains("cellar.temp"), "{error}");
}

async fn a_batch_with_one_invalid_reading_stores_nothing(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let body = json!({"readings": [
        {"sensor": "t", "value": 20, "kind": "temperature", "at": minutes_ago(2)},
        {"sensor": "t", "value": 21, "at": minutes_ago(1)},
        {"sensor": "plug", "value": 3, "kind": "switch"},
    ]});
    let (status, error) = post(&t.db, &token, body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!((error["index"].clone(), error["field"].clone()), (json!(2), json!("value")));
    assert!(stored(&t.db, Kind::Temperature).await.is_empty(), "the sensor and readings before the bad one are rolled back");
}

async fn sensors_belong_to_their_device(t: TestDb) {
    let hall = common::device_token(&t.db, "hall").await;
    let attic = common::device_token(&t.db, "attic").await;
    for (token, value) in [(&hall, 20.0), (&attic, 8.0)] {
        let (status, _) = post(&t.db, token, json!({"sensor": "temp", "value": value, "kind": "temperature"})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let series = history(&t.db, Kind::Temperature, 0, i64::MAX / 2).await.unwrap();
    let mut devices: Vec<_> = series.iter().map(|s| (s.sensor.device.as_str(), s.latest.unwrap().value)).collect();
    devices.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(devices, [("attic", 8.0), ("hall", 20.0)]);
}

async fn the_temperature_page_shows_the_latest_value(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let body = json!({"sensor": "hall.temp", "value": 19.4, "kind": "temperature", "room": "Hallway"});
    assert_eq!(post(&t.db, &token, body).await.0, StatusCode::OK);
    let cookie = common::owner_cookie(&t.db).await;
    let response = hearth::app(common::state(&t.db))
        .oneshot(Request::get("/temperature").header(header::COOKIE, cookie).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let html = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Hallway"), "{html}");
    assert!(html.contains("19.4 °C"), "{html}");
}

async fn pages_go_out_compressed_but_the_live_stream_does_not(t: TestDb) {
    let cookie = common::owner_cookie(&t.db).await;
    let get = |uri: &str| {
        Request::get(uri).header(header::COOKIE, &cookie).header(header::ACCEPT_ENCODING, "gzip, br").body(Body::empty()).unwrap()
    };
    let page = hearth::app(common::state(&t.db)).oneshot(get("/temperature")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap()), Some("br"));
    let stream = hearth::app(common::state(&t.db)).oneshot(get("/api/v1/stream")).await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers().get(header::CONTENT_ENCODING).is_none(), "events go out as they happen");
}

async fn concurrent_posts_are_each_answered_on_their_own_merits(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let router = hearth::app(common::state(&t.db));
    let requests = (0..48).map(|i| {
        let body = if i == 17 {
            json!({"sensor": "kettle", "value": 2, "kind": "switch"})
        } else {
            json!({"sensor": format!("t{}", i % 4), "value": i, "kind": "temperature", "at": minutes_ago(50 - i)})
        };
        send(router.clone(), Some(&token), body.to_string())
    });
    let answers = futures_util::future::join_all(requests).await;
    for (i, (status, body)) in answers.iter().enumerate() {
        let expected = if i == 17 { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        assert_eq!(*status, expected, "request {i}: {body}");
    }
    let stored: usize = stored(&t.db, Kind::Temperature).await.iter().map(|(_, values)| values.len()).sum();
    assert_eq!(stored, 47);
    assert!(history(&t.db, Kind::Switch, 0, i64::MAX / 2).await.unwrap().is_empty(), "the invalid batch left nothing");
}

on_both_databases!(
    concurrent_posts_are_each_answered_on_their_own_merits,
    a_reading_is_stored_and_counted,
    a_retried_batch_stores_only_what_is_new,
    unix_seconds_and_rfc3339_name_the_same_instant,
    malformed_json_is_400_and_stores_nothing,
    a_missing_or_unknown_token_is_401,
    a_body_over_the_limit_is_413,
    more_than_10000_readings_is_413,
    each_invalid_reading_is_422_naming_its_field,
    an_unknown_sensor_without_kind_is_named,
    a_batch_with_one_invalid_reading_stores_nothing,
    sensors_belong_to_their_device,
    the_temperature_page_shows_the_latest_value,
    pages_go_out_compressed_but_the_live_stream_does_not,
);
