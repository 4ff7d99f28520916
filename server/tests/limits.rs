//! The limits one client meets: its device's ingest rate (429 with `Retry-After`), the live
//! streams its session may hold, the body size of server functions, and the request timeout
//! that spares the live stream.

mod common;

use common::on_both_databases;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use hearth::config::Config;
use serde_json::json;
use std::time::Duration;
use tower::ServiceExt;

async fn a_device_beyond_its_rate_gets_429_and_stores_nothing_more(t: TestDb) {
    let hall = common::device_token(&t.db, "hall").await;
    let attic = common::device_token(&t.db, "attic").await;
    let owner = common::owner_cookie(&t.db).await;
    let state = common::state_with(&t.db, Config { ingest_requests_per_second: 3, ..Config::default() });
    let post = |token: &str, at: i64| {
        let body = json!({"sensor": "t", "value": 20, "kind": "temperature", "at": at}).to_string();
        let request = Request::post("/api/v1/readings").header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::from(body)).unwrap();
        hearth::app(state.clone()).oneshot(request)
    };
    let now = jiff::Timestamp::now().as_second();
    for at in 0..3 {
        assert_eq!(post(&hall, now - 100 + at).await.unwrap().status(), StatusCode::OK);
    }
    let limited = post(&hall, now - 50).await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()[header::RETRY_AFTER], "1");
    assert_eq!(post(&attic, now - 50).await.unwrap().status(), StatusCode::OK, "other devices are not held up");

    let request = Request::get("/api/v1/sensors").header(header::COOKIE, owner).body(Body::empty()).unwrap();
    let response = hearth::app(state.clone()).oneshot(request).await.unwrap();
    let sensors: serde_json::Value = serde_json::from_slice(&http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes()).unwrap();
    let hall_last = sensors.as_array().unwrap().iter().find(|s| s["device"] == "hall").unwrap()["last_at"].clone();
    assert_eq!(hall_last, jiff::Timestamp::from_second(now - 98).unwrap().to_string(), "the refused reading was not stored");
}

on_both_databases!(a_device_beyond_its_rate_gets_429_and_stores_nothing_more);

#[tokio::test]
async fn a_session_holds_at_most_its_streams_and_a_closed_one_frees_its_slot() {
    let t = common::sqlite().await;
    let (base, _stop, _server) = common::serve(&t.db, Config { streams_per_session: 2, ..Config::default() }).await;
    let owner = common::owner_client(&t.db).await;
    let url = format!("{base}/api/v1/stream");
    let first = owner.get(&url).send().await.unwrap();
    let second = owner.get(&url).send().await.unwrap();
    assert_eq!((first.status(), second.status()), (StatusCode::OK, StatusCode::OK));
    let third = owner.get(&url).send().await.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key(header::RETRY_AFTER));
    let other = common::owner_client(&t.db).await;
    assert_eq!(other.get(&url).send().await.unwrap().status(), StatusCode::OK, "another session has its own streams");

    drop(first);
    let mut freed = false;
    for _ in 0..50 {
        let again = owner.get(&url).send().await.unwrap();
        if again.status() == StatusCode::OK {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "closing a stream frees its slot within 5 s");
}

#[tokio::test]
async fn the_request_timeout_spares_the_live_stream() {
    let t = common::sqlite().await;
    let token = common::device_token(&t.db, "hall").await;
    let (base, _stop, _server) = common::serve(&t.db, Config { request_timeout_secs: 1, ..Config::default() }).await;
    let owner = common::owner_client(&t.db).await;
    let mut events = owner.get(format!("{base}/api/v1/stream")).send().await.unwrap().bytes_stream().eventsource();
    let hello = tokio::time::timeout(Duration::from_secs(5), events.next()).await.expect("hello").unwrap().unwrap();
    assert_eq!(hello.event, "hello");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let posted = reqwest::Client::new()
        .post(format!("{base}/api/v1/readings"))
        .bearer_auth(&token)
        .json(&json!({"sensor": "hall.temp", "value": 21.0, "kind": "temperature"}))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    let event = tokio::time::timeout(Duration::from_secs(5), events.next()).await.expect("an event").unwrap().unwrap();
    assert_eq!(event.event, "reading", "the stream outlived the 1 s request timeout");
}

#[tokio::test]
async fn server_function_bodies_are_limited_too() {
    let t = common::sqlite().await;
    let state = common::state_with(&t.db, Config { max_body_bytes: 1024, ..Config::default() });
    let body = format!("name=owner&password={}", "x".repeat(4096));
    let request = Request::post("/api/public/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    let response = hearth::app(state).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
