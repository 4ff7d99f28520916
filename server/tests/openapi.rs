//! The OpenAPI description: served at `/api/openapi.json` (OpenAPI 3.1, every REST route) and
//! as a page at `/api/docs`; and schemathesis (from PyPI) run against a real server with a
//! device token and a session, finding no 5xx and no answer that breaks the description.

mod common;

use serde_json::Value;

/// Every route of the REST API, as the description must name it.
const ROUTES: [(&str, &str); 21] = [
    ("/api/v1/readings", "post"),
    ("/api/v2/write", "post"),
    ("/write", "post"),
    ("/query", "post"),
    ("/ping", "get"),
    ("/input/post", "get"),
    ("/input/post/{node}", "post"),
    ("/input/bulk", "post"),
    ("/api/v1/sensors", "get"),
    ("/api/v1/sensors/{id}/series", "get"),
    ("/api/v1/sensors/{id}/daily", "get"),
    ("/api/v1/tariffs", "get"),
    ("/api/v1/tariffs", "put"),
    ("/api/v1/costs", "get"),
    ("/api/v1/stream", "get"),
    ("/api/v1/sensors/{id}/readings.csv", "get"),
    ("/api/v1/export.csv", "get"),
    ("/api/owner/import", "post"),
    ("/healthz", "get"),
    ("/metrics", "get"),
    ("/api/openapi.json", "get"),
];

#[tokio::test]
async fn the_description_is_served_and_schemathesis_finds_nothing_wrong() {
    let t = common::sqlite().await;
    let token = common::device_token(&t.db, "fuzzed").await;
    let cookie = common::owner_cookie(&t.db).await;
    // The header timeout also closes idle keep-alive connections (hyper's header read timer
    // runs while a connection waits for its next request), and schemathesis reuses a pooled
    // connection after pausing to generate cases without retrying a closed one: a longer
    // timeout keeps its pool's connections open.
    let env = [("HEARTH_INGEST_REQUESTS_PER_SECOND", "0"), ("HEARTH_HEADER_TIMEOUT_SECS", "300")];
    let (_server, base) = common::spawn_hearth(&t.url, &env).await;

    let description: Value = reqwest::get(format!("{base}/api/openapi.json")).await.unwrap().json().await.unwrap();
    assert_eq!(description["openapi"], "3.1.0");
    for (path, method) in ROUTES {
        assert!(description["paths"][path][method].is_object(), "{method} {path} is described");
    }
    let page = reqwest::get(format!("{base}/api/docs")).await.unwrap().text().await.unwrap();
    assert!(page.contains("<code>POST /api/v1/readings</code>") && page.contains("<code>GET /api/v1/export.csv</code>"));

    // The live stream never ends, so it is left out; everything else is fuzzed.
    let output = tokio::process::Command::new("st")
        .args(["run", &format!("{base}/api/openapi.json")])
        .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"])
        .args(["--header", &format!("Authorization: Bearer {token}"), "--header", &format!("Cookie: {cookie}")])
        .args(["--exclude-path", "/api/v1/stream", "--max-examples", "25", "--workers", "1", "--phases", "examples,coverage,fuzzing"])
        .args(["--seed", "1"])
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("schemathesis (st) is installed by scripts/setup.sh");
    let report = String::from_utf8_lossy(&output.stdout);

    assert!(output.status.success(), "schemathesis found problems:\n{report}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(!common::readings(&t.db).await.is_empty(), "schemathesis's readings reached the store:\n{report}");
}
