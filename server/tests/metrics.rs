//! `/metrics`: who may scrape it (loopback, or the bearer token; the client behind a trusted
//! proxy), and Debian's real Prometheus scraping a real server and answering queries about
//! the readings it was posted and the database's waits.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use hearth::config::{Config, Secret};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tower::ServiceExt;

async fn scrape(config: Config, peer: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let t = common::sqlite().await;
    let mut request = Request::get("/metrics");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    let response = hearth::app(common::state_with(&t.db, config)).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn loopback_scrapes_without_a_token_and_others_need_it() {
    let (status, body) = scrape(Config::default(), "127.0.0.1:5000", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("# TYPE process_resident_memory_bytes gauge"), "{body}");
    assert!(body.contains("hearth_db_connections{pool=\"read\",state=\"idle\"}"), "{body}");
    assert!(body.contains("hearth_replay_window_capacity 10000"), "{body}");
    assert_eq!(scrape(Config::default(), "[::1]:5000", &[]).await.0, StatusCode::OK);
    let (status, body) = scrape(Config::default(), "192.0.2.7:5000", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("HEARTH_METRICS_TOKEN"));

    let with_token = || Config { metrics_token: Some(Secret("s3cret-metrics".into())), ..Config::default() };
    assert_eq!(scrape(with_token(), "192.0.2.7:5000", &[]).await.0, StatusCode::UNAUTHORIZED);
    let wrong = [(header::AUTHORIZATION.as_str(), "Bearer s3cret-metric")];
    assert_eq!(scrape(with_token(), "192.0.2.7:5000", &wrong).await.0, StatusCode::UNAUTHORIZED);
    let right = [(header::AUTHORIZATION.as_str(), "Bearer s3cret-metrics")];
    assert_eq!(scrape(with_token(), "192.0.2.7:5000", &right).await.0, StatusCode::OK);
    assert_eq!(scrape(with_token(), "127.0.0.1:5000", &[]).await.0, StatusCode::OK, "loopback still needs no token");

    // Behind a trusted proxy on this machine, the client is the one it names, not loopback.
    let proxied = Config { trusted_proxy: true, ..Config::default() };
    let forwarded = [("x-forwarded-for", "198.51.100.4")];
    assert_eq!(scrape(proxied, "127.0.0.1:5000", &forwarded).await.0, StatusCode::FORBIDDEN);
}

/// A free TCP port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The value of the single series `query` selects, as Prometheus answers it now.
async fn query(prometheus: &str, query: &str) -> Option<f64> {
    let url = format!("{prometheus}/api/v1/query");
    let response = reqwest::Client::new().get(url).query(&[("query", query)]).send().await.ok()?;
    let body: Value = response.json().await.ok()?;
    body["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

#[tokio::test]
async fn prometheus_scrapes_the_server_and_answers_a_query() {
    // As `main` does: the pools' acquire events become the acquire-time histogram.
    use tracing_subscriber::prelude::*;
    let _ = tracing_subscriber::registry()
        .with(hearth::metrics::PoolWaits.with_filter(hearth::metrics::pool_waits_filter()))
        .try_init();
    let t = common::sqlite().await;
    let token = common::device_token(&t.db, "cellar").await;
    let (base, stop, server) = common::serve(&t.db, Config::default()).await;
    let client = reqwest::Client::new();
    let now = jiff::Timestamp::now().as_second();
    let readings: Vec<Value> = (0..7).map(|i| json!({"sensor": "cellar.temp", "kind": "temperature", "value": 12.0 + i as f64, "at": now - 100 + i})).collect();
    let answer = client.post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&json!({"readings": readings})).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let refused = client.post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&json!({"sensor": "cellar.temp", "value": 1, "kind": "switch"})).send().await.unwrap();
    assert_eq!(refused.status(), 422);

    let dir = tempfile::tempdir().unwrap();
    let target = base.trim_start_matches("http://");
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: hearth\n    static_configs:\n      - targets: ['{target}']\n"
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let port = free_port();
    let _prometheus = tokio::process::Command::new("prometheus")
        .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("Debian's prometheus is installed (scripts/setup.sh)");
    let prometheus = format!("http://127.0.0.1:{port}");

    let deadline = Instant::now() + Duration::from_secs(120);
    let stored = r#"hearth_readings_total{job="hearth",protocol="json",status="stored"}"#;
    loop {
        if query(&prometheus, stored).await == Some(7.0) {
            break;
        }
        assert!(Instant::now() < deadline, "Prometheus did not report the 7 stored readings within 2 minutes");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(query(&prometheus, r#"hearth_readings_total{protocol="json",status="422"}"#).await, Some(1.0));
    assert_eq!(query(&prometheus, r#"hearth_ingest_requests_total{protocol="json",status="200"}"#).await, Some(1.0));
    assert!(query(&prometheus, "hearth_commit_readings_count").await.is_some_and(|n| n >= 1.0));
    assert!(query(&prometheus, "hearth_commit_seconds_bucket{le=\"+Inf\"}").await.is_some_and(|n| n >= 1.0));
    assert!(query(&prometheus, "hearth_db_acquire_seconds_count").await.is_some_and(|n| n >= 1.0));
    assert!(query(&prometheus, "hearth_db_pool_wait_seconds_count{pool=\"writer\"}").await.is_some_and(|n| n >= 1.0));
    assert!(query(&prometheus, "process_resident_memory_bytes").await.is_some_and(|rss| rss > 1_000_000.0));
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
