//! Tariffs and costs through the read API on SQLite and PostgreSQL: `PUT /api/v1/tariffs`
//! for the owner only, refusals naming the field (nothing stored changes), and `GET
//! /api/v1/costs` giving the contract for readings posted through the ingest API:
//! a 25-hour day in Lisbon under a dynamic price that goes negative, posted a day ahead.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{TestDb, on_both_databases};
use hearth::config::Config;
use hearth_core::time::house::HouseZone;
use hearth_core::time::{HOUR_MS, now_ms};
use hearth_store::account::Holder;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

fn lisbon(t: &TestDb) -> hearth::AppState {
    let config = Config { timezone: Some(HouseZone::named("Europe/Lisbon").unwrap()), ..Config::default() };
    common::state_with(&t.db, config)
}

async fn call(state: &hearth::AppState, method: Method, uri: &str, auth: Option<(&str, String)>, body: Option<Value>) -> (StatusCode, Value) {
    // As the browser sends its own page's requests.
    let mut request = Request::builder().method(method).uri(uri).header("sec-fetch-site", "same-origin");
    if let Some((name, value)) = auth {
        request = request.header(name, value);
    }
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    let response = hearth::app(state.clone()).oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn owner(state: &hearth::AppState) -> Option<(&'static str, String)> {
    Some(("cookie", common::owner_cookie(&state.db).await))
}

fn example() -> Value {
    json!({"from": "2026-01-01", "currency": "EUR",
           "import": {"price": 0.20, "zones": [{"days": ["mon","tue","wed","thu","fri"], "from": "07:00", "to": "22:00", "price": 0.32}]},
           "standing_per_day": 0.30, "export": {"price": 0.08},
           "gas": {"price": 0.11, "standing_per_day": 0.28, "kwh_per_m3": 11.2},
           "water": {"price_per_m3": 2.10, "standing_per_day": 0.10}})
}

async fn the_owner_replaces_the_tariffs_and_any_session_reads_them(t: TestDb) {
    let state = lisbon(&t);
    let (status, body) = call(&state, Method::PUT, "/api/v1/tariffs", owner(&state).await, Some(json!({"tariffs": [example()]}))).await;
    assert_eq!((status, &body), (StatusCode::OK, &json!({"tariffs": [example()]})));
    let (link, _) = hearth_store::account::insert_share_link(&t.db, "screen").await.unwrap();
    let screen = Some(("cookie", common::session_cookie(&t.db, Holder::ShareLink(link.share_link_id)).await));
    let (status, body) = call(&state, Method::GET, "/api/v1/tariffs", screen.clone(), None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"tariffs": [example()]})));
    let flat = json!({"tariffs": [{"from": "2026-02-01", "currency": "EUR", "import": {"price": 0.25}}]});
    assert_eq!(call(&state, Method::PUT, "/api/v1/tariffs", screen, Some(flat.clone())).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&state, Method::PUT, "/api/v1/tariffs", None, Some(flat.clone())).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&state, Method::GET, "/api/v1/tariffs", None, None).await.0, StatusCode::UNAUTHORIZED);
    // Replaces all.
    let (status, body) = call(&state, Method::PUT, "/api/v1/tariffs", owner(&state).await, Some(flat.clone())).await;
    assert_eq!((status, body["tariffs"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
}

async fn refusals_name_the_field_and_change_nothing(t: TestDb) {
    let state = lisbon(&t);
    let token = common::device_token(&t.db, "hall").await;
    let posted = json!({"sensor": "hall.temp", "value": 20.0, "kind": "temperature"});
    call(&state, Method::POST, "/api/v1/readings", Some(("authorization", format!("Bearer {token}"))), Some(posted)).await;
    let temp_id = hearth_store::sensor::list_all(&t.db).await.unwrap()[0].sensor.sensor_id;
    call(&state, Method::PUT, "/api/v1/tariffs", owner(&state).await, Some(json!({"tariffs": [example()]}))).await;
    let with = |patch: &dyn Fn(&mut Value)| {
        let mut tariff = example();
        patch(&mut tariff);
        json!({"tariffs": [tariff]})
    };
    let cases = [
        (with(&|t| t["import"]["zones"].as_array_mut().unwrap().push(json!({"days": ["fri", "sat"], "from": "21:00", "to": "23:00", "price": 0.1}))), "tariffs[0].import.zones[1]"),
        (with(&|t| t["import"]["zones"][0]["days"][0] = json!("monday")), "tariffs[0].import.zones[0].days"),
        (with(&|t| t["import"] = json!({"price_sensor": temp_id})), "tariffs[0].import.price_sensor"),
        (with(&|t| t["standing_per_day"] = json!(-0.30)), "tariffs[0].standing_per_day"),
        (with(&|t| t["gas"]["standing_per_day"] = json!(-1)), "tariffs[0].gas.standing_per_day"),
        (with(&|t| t["standing_per_day"] = json!("lots")), "tariffs[0].standing_per_day"),
        (with(&|t| t["from"] = json!("2026-02-30")), "tariffs[0].from"),
        (json!({"tariff": []}), "tariffs"),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&state, Method::PUT, "/api/v1/tariffs", owner(&state).await, Some(body.clone())).await;
        assert_eq!((status, answer["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().starts_with(field), "{answer}");
    }
    let (_, stored) = call(&state, Method::GET, "/api/v1/tariffs", owner(&state).await, None).await;
    assert_eq!(stored, json!({"tariffs": [example()]}));
}

async fn costs_follow_the_contract_for_what_was_posted_and_priced(t: TestDb) {
    let state = lisbon(&t);
    let token = common::device_token(&t.db, "meter").await;
    let auth = || Some(("authorization", format!("Bearer {token}")));
    let zone = HouseZone::named("Europe/Lisbon").unwrap();
    // 25 October 2026, 25 hours: a house meter using 1 kWh an hour, a fridge 0.1 kWh an hour.
    let day = zone.day("2026-10-25".parse().unwrap());
    let mut readings = Vec::new();
    for h in 0..=25 {
        let at = (day.start_ms + h * HOUR_MS - 1) as f64 / 1000.0;
        readings.push(json!({"sensor": "house.energy", "value": h as f64, "kind": "energy", "at": at}));
        readings.push(json!({"sensor": "fridge.energy", "value": h as f64 * 0.1, "kind": "energy", "at": at}));
    }
    // Day-ahead prices: 0.10 until local noon, then −0.02.
    let noon = day.start_ms + 13 * HOUR_MS;
    readings.push(json!({"sensor": "spot.price", "value": 0.10, "kind": "price", "at": (day.start_ms - HOUR_MS) as f64 / 1000.0}));
    readings.push(json!({"sensor": "spot.price", "value": -0.02, "at": noon as f64 / 1000.0}));
    let (status, body) = call(&state, Method::POST, "/api/v1/readings", auth(), Some(json!({"readings": readings}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A price for tomorrow is accepted; one beyond 48 hours is not.
    let tomorrow = (now_ms() + 30 * HOUR_MS) as f64 / 1000.0;
    let later = (now_ms() + 49 * HOUR_MS) as f64 / 1000.0;
    assert_eq!(call(&state, Method::POST, "/api/v1/readings", auth(), Some(json!({"sensor": "spot.price", "value": 0.3, "at": tomorrow}))).await.0, StatusCode::OK);
    let (status, body) = call(&state, Method::POST, "/api/v1/readings", auth(), Some(json!({"sensor": "spot.price", "value": 0.3, "at": later}))).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("at")));

    let sensors = hearth_store::sensor::list_all(&t.db).await.unwrap();
    let id = |key: &str| sensors.iter().find(|l| l.sensor.key == key).unwrap().sensor.sensor_id;
    let tariffs = json!({"tariffs": [{"from": "2026-10-25", "currency": "EUR", "import": {"price_sensor": id("spot.price")}, "standing_per_day": 0.25}]});
    assert_eq!(call(&state, Method::PUT, "/api/v1/tariffs", owner(&state).await, Some(tariffs)).await.0, StatusCode::OK);

    let (status, body) = call(&state, Method::GET, "/api/v1/costs?from=2026-10-24&to=2026-10-25", owner(&state).await, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["currency"].as_str(), body["zone"].as_str()), (Some("EUR"), Some("Europe/Lisbon")));
    let days = body["days"].as_array().unwrap();
    let keys: Vec<&str> = days[1].as_object().unwrap().keys().map(String::as_str).collect();
    let mut contract = ["date", "start", "end", "hours", "import_kwh", "export_kwh", "solar_kwh", "consumption_kwh", "self_sufficiency",
        "import_cost", "export_credit", "gas_kwh", "gas_cost", "water_l", "water_cost", "standing", "total"];
    contract.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, contract);
    // The day before the tariff: no costs.
    assert_eq!((days[0]["date"].as_str(), &days[0]["total"], &days[0]["standing"]), (Some("2026-10-24"), &Value::Null, &Value::Null));
    let d = &days[1];
    assert_eq!((d["date"].as_str(), d["hours"].as_f64(), d["start"].as_str(), d["end"].as_str()),
        (Some("2026-10-25"), Some(25.0), Some("2026-10-24T23:00:00Z"), Some("2026-10-26T00:00:00Z")));
    assert_eq!((d["import_kwh"].as_f64(), d["consumption_kwh"].as_f64(), d["export_kwh"].as_f64()), (Some(25.0), Some(25.0), Some(0.0)));
    // 13 hours at 0.10, 12 at −0.02, and the standing charge once.
    let money = |v: &Value| v.as_f64().unwrap();
    assert!((money(&d["import_cost"]) - (1.3 - 0.24)).abs() < 1e-9, "{d}");
    assert!((money(&d["total"]) - (1.3 - 0.24 + 0.25)).abs() < 1e-9, "{d}");
    assert_eq!(d["self_sufficiency"].as_f64(), Some(0.0));
    assert_eq!((&d["gas_kwh"], &d["water_cost"]), (&Value::Null, &Value::Null));
    let devices = body["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["sensor_id"].as_i64(), Some(id("fridge.energy")));
    assert!((devices[0]["kwh"].as_f64().unwrap() - 2.5).abs() < 1e-9, "{devices:?}");
    assert!((devices[0]["cost"].as_f64().unwrap() - (1.3 * 0.10 - 1.2 * 0.02)).abs() < 1e-9, "{devices:?}");

    for (query, field) in [("from=yesterday", "from"), ("from=2026-10-26&to=2026-10-20", "from"), ("from=2020-01-01&to=2026-01-01", "from")] {
        let (status, body) = call(&state, Method::GET, &format!("/api/v1/costs?{query}"), owner(&state).await, None).await;
        assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{query}");
    }
    assert_eq!(call(&state, Method::GET, "/api/v1/costs", None, None).await.0, StatusCode::UNAUTHORIZED);
}

on_both_databases!(
    the_owner_replaces_the_tariffs_and_any_session_reads_them,
    refusals_name_the_field_and_change_nothing,
    costs_follow_the_contract_for_what_was_posted_and_priced,
);
