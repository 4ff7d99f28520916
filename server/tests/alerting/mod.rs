//! Helpers of the alert tests: posting readings as a device, finding sensors, and a webhook
//! receiver that records what it is sent.

#![allow(dead_code)]

use crate::common;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hearth_store::Db;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

pub const MIN: i64 = 60_000;

/// Posts readings through the app as the device with `token`; expects them stored.
pub async fn post(db: &Db, token: &str, readings: Vec<Value>) {
    let request = Request::post("/api/v1/readings")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(json!({ "readings": readings }).to_string()))
        .unwrap();
    let response = hearth::app(common::state(db)).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
}

/// One reading a minute of `key` from `from` minutes ago to `to` minutes ago, all `value`.
pub fn minutely(key: &str, kind: &str, from: i64, to: i64, value: f64, now: i64) -> Vec<Value> {
    (to..=from).rev().map(|ago| json!({"sensor": key, "kind": kind, "value": value, "at": (now - ago * MIN) as f64 / 1000.0})).collect()
}

/// The id of the sensor `key` of `device`.
pub async fn sensor_id(db: &Db, device: &str, key: &str) -> i64 {
    let all = hearth_store::sensor::list_all(db).await.unwrap();
    all.iter().find(|l| l.sensor.device == device && l.sensor.key == key).expect("sensor stored").sensor.sensor_id
}

/// What a receiver got: each request's path, `Authorization` header and JSON body.
pub type Received = Arc<Mutex<Vec<(String, Option<String>, Value)>>>;

/// An HTTP receiver on a free port that records every POST and answers with `answer(n)` for
/// the n-th (from 1); returns its base URL and what it received.
pub async fn receiver(answer: impl Fn(usize) -> StatusCode + Send + Sync + 'static) -> (String, Received) {
    let received: Received = Arc::default();
    let bodies = received.clone();
    let answer = Arc::new(answer);
    let router = axum::Router::new().fallback(axum::routing::post(
        move |uri: axum::http::Uri, headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
            let (bodies, answer) = (bodies.clone(), answer.clone());
            async move {
                let auth = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap().to_owned());
                let mut bodies = bodies.lock().unwrap();
                bodies.push((uri.path().to_owned(), auth, body));
                answer(bodies.len())
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, received)
}

/// The bodies `received` holds once it holds `n`, within `limit`.
pub async fn bodies(received: &Received, n: usize, limit: Duration) -> Vec<Value> {
    let got = eventually(limit, || async {
        let got = received.lock().unwrap().clone();
        (got.len() >= n).then_some(got)
    })
    .await;
    match got {
        Some(got) => got.into_iter().map(|(_, _, body)| body).collect(),
        None => panic!("{n} requests within {limit:?}; got {:?}", received.lock().unwrap()),
    }
}

/// Polls `check` until it gives a value or `limit` passes.
pub async fn eventually<T, F: Future<Output = Option<T>>>(limit: Duration, mut check: impl FnMut() -> F) -> Option<T> {
    let start = tokio::time::Instant::now();
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if start.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
