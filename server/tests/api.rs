//! The read API on SQLite and PostgreSQL: the sensor list, a sensor's series as buckets (with
//! a counter's consumption) and its figures per local day, with the errors a caller gets for
//! bad parameters.

mod common;

use common::on_both_databases;

use hearth_core::device::Device;
use hearth_core::reading::Incoming;
use hearth_store::reading::store;
use hearth_core::sensor::Kind;
use axum::body::Body;
use hearth_core::time::house::HouseZone;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use hearth::config::Config;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn get(t: &TestDb, uri: &str) -> (StatusCode, Value) {
    get_with(common::state(&t.db), uri).await
}

/// A GET with the house in `zone`.
async fn get_in(t: &TestDb, zone: &str, uri: &str) -> (StatusCode, Value) {
    let config = Config { timezone: Some(HouseZone::named(zone).unwrap()), ..Config::default() };
    get_with(common::state_with(&t.db, config), uri).await
}

/// A GET as the owner, through the whole app.
async fn get_with(state: hearth::AppState, uri: &str) -> (StatusCode, Value) {
    let cookie = common::owner_cookie(&state.db).await;
    let request = Request::get(uri).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let response = hearth::app(state).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Stores readings of a temperature sensor and returns its id.
async fn seed(t: &TestDb, readings: &[(i64, f64)]) -> i64 {
    let device: Device = hearth_store::device::create(&t.db, "hall").await.unwrap().0;
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

/// Stores `readings` (key, kind, time, value) from device `name`; returns the sensor ids by key.
async fn post(t: &TestDb, name: &str, readings: &[(&str, Kind, i64, f64)]) -> std::collections::HashMap<String, i64> {
    let device: Device = hearth_store::device::create(&t.db, name).await.unwrap().0;
    let batch = readings
        .iter()
        .map(|&(key, kind, at_ms, value)| Incoming { key: key.into(), value, at_ms, kind: Some(kind), room: None })
        .collect();
    let outcome = store(&t.db, &device, batch).await.unwrap();
    outcome.stored.iter().map(|s| (s.sensor.key.clone(), s.sensor.sensor_id)).collect()
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-6)
}

async fn counters_give_consumption_per_bucket(t: TestDb) {
    // Two hours of an energy meter read every minute, 0.02 kWh a minute, reset to 0 at
    // 01:30 (that step counts nothing); a temperature alongside.
    let mut readings: Vec<(&str, Kind, i64, f64)> = (0..120)
        .map(|m| ("house.energy", Kind::Energy, T0 + m * 60_000, if m < 90 { 40.0 + m as f64 * 0.02 } else { (m - 90) as f64 * 0.02 }))
        .collect();
    readings.push(("hall.temp", Kind::Temperature, T0, 20.0));
    let ids = post(&t, "meter-box", &readings).await;
    for points in ["2", "12", "240"] {
        let uri = format!("/api/v1/sensors/{}/series?from=2025-11-25T00:00:00Z&to=2025-11-25T02:00:00Z&points={points}", ids["house.energy"]);
        let (status, body) = get(&t, &uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let buckets = body["buckets"].as_array().unwrap();
        let sum: f64 = buckets.iter().map(|b| b["consumption"].as_f64().unwrap()).sum();
        // 119 steps, one of them the reset: 118 × 0.02.
        assert!((sum - 2.36).abs() < 1e-6, "{points} points: {sum}");
        if points == "2" {
            assert!(close(&buckets[0]["consumption"], 1.18) && close(&buckets[1]["consumption"], 1.18), "{body}");
        }
    }
    let uri = format!("/api/v1/sensors/{}/series?from=2025-11-25T00:00:00Z&to=2025-11-25T02:00:00Z&points=2", ids["hall.temp"]);
    let (_, body) = get(&t, &uri).await;
    assert!(body["buckets"][0].get("consumption").is_none(), "no consumption for a temperature: {body}");
}

async fn daily_consumption_follows_local_days(t: TestDb) {
    // Lisbon's clocks go back on 25 October 2026: a 25-hour day. An energy meter read every
    // 10 minutes using 0.1 kWh each time (0.6 kWh an hour) and a water meter using 2 L an hour.
    let start = 1_792_756_800_000; // 2026-10-23T12:00:00Z
    let mut readings = Vec::new();
    for i in 0..(5 * 24 * 6) {
        let at_ms = start + i * 600_000;
        readings.push(("house.energy", Kind::Energy, at_ms, 1_000.0 + i as f64 * 0.1));
        if i % 6 == 0 {
            readings.push(("main.water", Kind::Water, at_ms, (i / 6) as f64 * 2.0));
        }
    }
    let ids = post(&t, "meter-box", &readings).await;
    let uri = format!("/api/v1/sensors/{}/daily?from=2026-10-24&to=2026-10-26", ids["house.energy"]);
    let (status, body) = get_in(&t, "Europe/Lisbon", &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["zone"].as_str(), body["from"].as_str(), body["to"].as_str()), (Some("Europe/Lisbon"), Some("2026-10-23T23:00:00Z"), Some("2026-10-27T00:00:00Z")));
    let days = body["days"].as_array().unwrap();
    let dates: Vec<&str> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2026-10-24", "2026-10-25", "2026-10-26"]);
    let hours: Vec<f64> = days.iter().map(|d| d["hours"].as_f64().unwrap()).collect();
    assert_eq!(hours, [24.0, 25.0, 24.0]);
    assert_eq!((days[1]["start"].as_str(), days[1]["end"].as_str()), (Some("2026-10-24T23:00:00Z"), Some("2026-10-26T00:00:00Z")));
    // Exactly the numbers posted: the float noise of summing 144 steps of 0.1 is rounded off.
    let consumption: Vec<f64> = days.iter().map(|d| d["consumption"].as_f64().unwrap()).collect();
    assert_eq!(consumption, [14.4, 15.0, 14.4]);
    assert!(days[0].get("min").is_none() && days[0].get("on_hours").is_none());

    let uri = format!("/api/v1/sensors/{}/daily?from=2026-10-25&to=2026-10-25", ids["main.water"]);
    let (_, body) = get_in(&t, "Europe/Lisbon", &uri).await;
    assert_eq!(body["days"].as_array().unwrap().len(), 1);
    assert!(close(&body["days"][0]["consumption"], 50.0), "{body}");
    assert_eq!(body["sensor"]["main"], true);
}

async fn daily_on_hours_of_a_switch(t: TestDb) {
    // Adelaide's clocks go forward on 4 October 2026 (a 23-hour day). On 22:00 on the 3rd to
    // 04:00 on the 4th, and 23:00 on the 4th to 01:00 on the 5th.
    let local = |date: &str, hour: i8| {
        let date: jiff::civil::Date = date.parse().unwrap();
        date.at(hour, 0, 0, 0).to_zoned(HouseZone::named("Australia/Adelaide").unwrap().0).unwrap().timestamp().as_millisecond()
    };
    let readings = [
        ("kettle.switch", Kind::Switch, local("2026-10-03", 22), 1.0),
        ("kettle.switch", Kind::Switch, local("2026-10-04", 4), 0.0),
        ("kettle.switch", Kind::Switch, local("2026-10-04", 23), 1.0),
        ("kettle.switch", Kind::Switch, local("2026-10-05", 1), 0.0),
    ];
    let ids = post(&t, "kettle-plug", &readings).await;
    let uri = format!("/api/v1/sensors/{}/daily?from=2026-10-02&to=2026-10-05", ids["kettle.switch"]);
    let (status, body) = get_in(&t, "Australia/Adelaide", &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let days = body["days"].as_array().unwrap();
    let on: Vec<f64> = days.iter().map(|d| d["on_hours"].as_f64().unwrap()).collect();
    assert_eq!(on, [0.0, 2.0, 4.0, 1.0]);
    assert_eq!(days[2]["hours"], 23.0);
    assert!(days[0].get("consumption").is_none());
}

async fn daily_statistics_of_other_kinds(t: TestDb) {
    // A temperature on the 1st and 3rd of June, nothing on the 2nd.
    let day = |d: i64| 1_780_272_000_000 + d * 86_400_000; // 2026-06-01T00:00:00Z
    let readings = [
        ("hall.temp", Kind::Temperature, day(0) + 3_600_000, 18.0),
        ("hall.temp", Kind::Temperature, day(0) + 7_200_000, 22.0),
        ("hall.temp", Kind::Temperature, day(0) + 43_200_000, 23.0),
        ("hall.temp", Kind::Temperature, day(2) + 60_000, -1.5),
    ];
    let ids = post(&t, "hall", &readings).await;
    let uri = format!("/api/v1/sensors/{}/daily?from=2026-06-01&to=2026-06-03", ids["hall.temp"]);
    let (status, body) = get_in(&t, "UTC", &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let days = body["days"].as_array().unwrap();
    assert_eq!((days[0]["min"].as_f64(), days[0]["mean"].as_f64(), days[0]["max"].as_f64(), days[0]["count"].as_i64()), (Some(18.0), Some(21.0), Some(23.0), Some(3)));
    assert_eq!((days[1]["min"].clone(), days[1]["mean"].clone(), days[1]["max"].clone(), days[1]["count"].as_i64()), (Value::Null, Value::Null, Value::Null, Some(0)));
    assert_eq!((days[2]["min"].as_f64(), days[2]["count"].as_i64()), (Some(-1.5), Some(1)));
}

async fn daily_defaults_to_the_last_seven_days(t: TestDb) {
    let ids = post(&t, "hall", &[("hall.temp", Kind::Temperature, T0, 20.0)]).await;
    let (status, body) = get_in(&t, "Australia/Adelaide", &format!("/api/v1/sensors/{}/daily", ids["hall.temp"])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let days = body["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    let today = HouseZone::named("Australia/Adelaide").unwrap().day_of(jiff::Timestamp::now().as_millisecond());
    assert_eq!(days[6]["date"].as_str(), Some(today.iso().as_str()));
}

async fn daily_bad_parameters_are_named(t: TestDb) {
    let ids = post(&t, "hall", &[("hall.temp", Kind::Temperature, T0, 20.0)]).await;
    let id = ids["hall.temp"];
    let cases = [
        ("from=last-week", "from"),
        ("to=2025-02-30", "to"),
        ("from=2025-11-26&to=2025-11-25", "from"),
        ("from=2024-01-01&to=2025-01-01", "from"),
        ("from=1970-01-01&to=2025-01-01", "from"),
    ];
    for (query, field) in cases {
        let (status, body) = get(&t, &format!("/api/v1/sensors/{id}/daily?{query}")).await;
        assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{query}: {body}");
    }
    // 366 days (a leap year) is the most.
    let (status, body) = get(&t, &format!("/api/v1/sensors/{id}/daily?from=2024-01-01&to=2024-12-31")).await;
    assert_eq!((status, body["days"].as_array().map(Vec::len)), (StatusCode::OK, Some(366)));
    let (status, _) = get(&t, "/api/v1/sensors/999999/daily").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get(&t, "/api/v1/sensors/abc/daily").await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("id")));
}

on_both_databases!(
    sensors_are_listed_with_unit_and_newest_reading,
    a_series_is_bucketed_with_min_max_mean_count,
    bad_parameters_are_named,
    counters_give_consumption_per_bucket,
    daily_consumption_follows_local_days,
    daily_on_hours_of_a_switch,
    daily_statistics_of_other_kinds,
    daily_defaults_to_the_last_seven_days,
    daily_bad_parameters_are_named,
);
