//! The database busy or down: ingest answers 503 with `Retry-After`, never 200, stores
//! nothing, and succeeds again once the database is back. SQLite is locked by another
//! connection holding its write lock; PostgreSQL is reached through a TCP proxy of the test's
//! own, which is cut and restored (the shared server itself keeps running).

mod common;

use hearth_store::{Db, StoreOptions};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::Connection;
use std::time::Duration;
use tower::ServiceExt;

/// How long the database is waited for in these tests.
const WAIT: Duration = Duration::from_millis(300);

async fn post(db: &Db, token: &str, value: f64) -> (StatusCode, Option<String>, Value) {
    let body = json!({"sensor": "cellar.temp", "value": value, "kind": "temperature", "at": jiff::Timestamp::now().as_second() - 100 + value as i64});
    let request = Request::post("/api/v1/readings")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = hearth::app(common::state(db)).oneshot(request).await.unwrap();
    let status = response.status();
    let retry = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, retry, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn stored(db: &Db) -> i64 {
    const SQL: &str = "select count(*) from reading";
    hearth_store::testing::row::<(i64,)>(db, SQL).await.0
}

#[tokio::test]
async fn a_locked_sqlite_database_answers_503_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hearth.db").display());
    let db = Db::connect_with(&url, StoreOptions { wait: WAIT }).await.unwrap();
    let token = common::device_token(&db, "cellar").await;
    assert_eq!(post(&db, &token, 1.0).await.0, StatusCode::OK);

    // Another writer (as another process would) holds SQLite's write lock.
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("begin immediate").execute(&mut other).await.unwrap();
    for value in [2.0, 3.0] {
        let (status, retry, body) = post(&db, &token, value).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(retry.as_deref(), Some("5"));
        assert!(body["error"].as_str().unwrap().contains("retry"), "{body}");
    }
    sqlx::query("rollback").execute(&mut other).await.unwrap();

    assert_eq!(post(&db, &token, 4.0).await.0, StatusCode::OK, "it recovers once the lock is released");
    assert_eq!(stored(&db).await, 2, "the two refused readings were not stored");
}

#[tokio::test]
async fn postgres_down_answers_503_then_recovers() {
    let t = common::postgres().await;
    let (proxy, url) = common::Proxy::to_database(&t.url).await;
    let db = Db::connect_with(&url, StoreOptions { wait: WAIT }).await.unwrap();
    let token = common::device_token(&db, "cellar").await;
    assert_eq!(post(&db, &token, 1.0).await.0, StatusCode::OK);

    proxy.cut();
    for value in [2.0, 3.0, 4.0] {
        let (status, retry, body) = post(&db, &token, value).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(retry.as_deref(), Some("5"));
    }
    proxy.restore();

    let mut answers = Vec::new();
    for value in [5.0, 6.0] {
        answers.push(post(&db, &token, value).await.0);
    }
    assert_eq!(answers, [StatusCode::OK, StatusCode::OK], "it recovers once the database is back");
    assert_eq!(stored(&t.db).await, 3, "the readings answered 503 were not stored");
}
