//! `GET /healthz`: 200 while the database answers and the writer takes its queue; 503 naming
//! the database while PostgreSQL is cut off (through a TCP proxy of the test's own) and
//! 200 again once it is back; 503 naming the writer once the writer has stopped.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hearth_store::{Db, StoreOptions};
use http_body_util::BodyExt;
use serde_json::Value;
use std::time::Duration;
use tower::ServiceExt;

async fn health(db: &Db) -> (StatusCode, Value) {
    let request = Request::get("/healthz").body(Body::empty()).unwrap();
    let response = hearth::app(common::state(db)).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn healthy_without_a_session_and_503_naming_the_writer_once_it_stopped() {
    let t = common::sqlite().await;
    let (status, body) = health(&t.db).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "sqlite");

    hearth_store::testing::stop_writer(&t.db).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (status, body) = loop {
        let (status, body) = health(&t.db).await;
        if status != StatusCode::OK || std::time::Instant::now() > deadline {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["failing"], "writer", "{body}");
    assert!(body["error"].as_str().unwrap().contains("stopped"), "{body}");
}

#[tokio::test]
async fn postgres_cut_off_is_503_naming_the_database_then_healthy_again() {
    let t = common::postgres().await;
    let (proxy, url) = common::Proxy::to_database(&t.url).await;
    let db = Db::connect_with(&url, StoreOptions { wait: Duration::from_millis(300) }).await.unwrap();
    assert_eq!(health(&db).await.0, StatusCode::OK);

    proxy.cut();
    let (status, body) = health(&db).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["failing"], "database", "{body}");

    proxy.restore();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = health(&db).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still unhealthy a minute after the database came back: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
