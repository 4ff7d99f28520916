//! The read API on SQLite and PostgreSQL: the sensor list and a sensor's series as buckets,
//! with the errors a caller gets for bad parameters.

mod common;

use app::device::Device;
use app::reading::ssr::{Incoming, store};
use app::sensor::Kind;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestDb;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn get(t: &TestDb, uri: &str) -> (StatusCode, Value) {
    let response = hearth::app(common::state(&t.db)).oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Stores readings of a temperature sensor and returns its id.
async fn seed(t: &TestDb, readings: &[(i64, f64)]) -> i64 {
    let device: Device = app::device::ssr::create(&t.db, "hall").await.unwrap().0;
    let batch = readings
        .iter()
        .map(|&(at_ms, value)| Incoming { key: "hall.temp".into(), value, at_ms, kind: Some(Kind::Temperature), room: Some("Hall".into()) })
        .collect();
    let outcome = store(&t.db, &device, batch).await.unwrap();
    outcome.stored[0].sensor.sensor_id
}

const T0: i64 = 1_764_028_800_000; // 2025-11-25T00:00:00Z

async fn sensors_are_listed_with_unit_and_newest_reading(t: TestDb) {
    seed(&t, &[(T0, 19.0), (T0 + 60_000, 19.5)]).await;
    let (status, body) = get(&t, "/api/v1/sensors").await;
    assert_eq!(status, StatusCode::OK);
    let sensor = &body[0];
    assert_eq!((sensor["key"].as_str(), sensor["kind"].as_str(), sensor["unit"].as_str()), (Some("hall.temp"), Some("temperature"), Some("°C")));
    assert_eq!((sensor["room"].as_str(), sensor["device"].as_str()), (Some("Hall"), Some("hall")));
    assert_eq!((sensor["name"].clone(), sensor["main"].as_bool()), (Value::Null, Some(false)));
    assert_eq!(sensor["last_value"], 19.5);
    assert_eq!(sensor["last_at"], "2025-11-25T00:01:00Z");
}

async fn a_series_is_bucketed_with_min_max_mean_count(t: TestDb) {
    // Two hours at one reading a minute: value = minute index.
    let readings: Vec<(i64, f64)> = (0..120).map(|m| (T0 + m * 60_000, m as f64)).collect();
    let id = seed(&t, &readings).await;
    let uri = format!("/api/v1/sensors/{id}/series?from=2025-11-25T00:00:00Z&to=2025-11-25T02:00:00Z&points=2");
    let (status, body) = get(&t, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["bucket_ms"].as_i64(), body["source"].as_str()), (Some(3_600_000), Some("1h")));
    let buckets = body["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 2);
    assert_eq!(buckets[0]["start"], "2025-11-25T00:00:00Z");
    assert_eq!((buckets[0]["min"].as_f64(), buckets[0]["max"].as_f64()), (Some(0.0), Some(59.0)));
    assert_eq!((buckets[1]["mean"].as_f64(), buckets[1]["count"].as_i64()), (Some(89.5), Some(60)));

    let uri = format!("/api/v1/sensors/{id}/series?from=2025-11-25T00:00:00Z&to=2025-11-25T02:00:00Z&points=12");
    let (_, tens) = get(&t, &uri).await;
    assert_eq!((tens["bucket_ms"].as_i64(), tens["source"].as_str()), (Some(600_000), Some("10m")));
    let tens = tens["buckets"].as_array().unwrap();
    assert_eq!(tens.len(), 12);
    assert_eq!((tens[1]["min"].as_f64(), tens[1]["max"].as_f64(), tens[1]["count"].as_i64()), (Some(10.0), Some(19.0), Some(10)));

    // Fine buckets come from raw readings, and agree.
    let uri = format!("/api/v1/sensors/{id}/series?from=2025-11-25T00:00:00Z&to=2025-11-25T00:10:00Z&points=20");
    let (_, fine) = get(&t, &uri).await;
    assert_eq!((fine["bucket_ms"].as_i64(), fine["source"].as_str()), (Some(30_000), Some("raw")));
    assert_eq!(fine["buckets"].as_array().unwrap().len(), 10);
}

async fn bad_parameters_are_named(t: TestDb) {
    let id = seed(&t, &[(T0, 19.0)]).await;
    for (query, field) in [("from=yesterday", "from"), ("to=2025-13-40", "to"), ("points=0", "points"), ("points=5000", "points"), ("from=2025-11-26&to=2025-11-25", "from")] {
        let (status, body) = get(&t, &format!("/api/v1/sensors/{id}/series?{query}")).await;
        assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{query}: {body}");
    }
    let (status, body) = get(&t, "/api/v1/sensors/999999/series").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = get(&t, "/api/v1/sensors/abc/series").await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("id")));
}

on_both_databases!(
    sensors_are_listed_with_unit_and_newest_reading,
    a_series_is_bucketed_with_min_max_mean_count,
    bad_parameters_are_named,
);
