//! The Emoncms input API, on SQLite and PostgreSQL, with the requests of Emoncms's input API
//! help page (Modules/input/Views/input_api.php in emoncms/emoncms) and emonhub's bulk post.

mod common;

use common::on_both_databases;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use http_body_util::BodyExt;
use hearth_core::reading::Incoming;
use hearth_core::sensor::Kind;
use serde_json::json;
use tower::ServiceExt;

async fn send(t: &TestDb, request: Request<Body>) -> (StatusCode, String) {
    let response = hearth::app(common::state(&t.db)).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri.replace('"', "%22").replace('{', "%7B").replace('}', "%7D")).body(Body::empty()).unwrap()
}

fn form(uri: &str, body: String) -> Request<Body> {
    Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from(body)).unwrap()
}

fn keys_and_values(stored: &[common::StoredReading]) -> Vec<(&str, &str, f64)> {
    stored.iter().map(|r| (r.1.as_str(), r.2.as_str(), r.5)).collect()
}

async fn fulljson_and_json_posts_are_stored_per_node(t: TestDb) {
    let token = common::device_token(&t.db, "emontx").await;
    let (status, body) = send(&t, get(&format!(r#"/input/post?node=emontx&fulljson={{"power1":100,"power2":200,"power3":300}}&apikey={token}"#))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, r#"{"success":true}"#));
    let at = (jiff::Timestamp::now().as_second() - 60).to_string();
    let posted = form("/input/post", format!("node=1&time={at}&data={{power1:100,power2:200,power3:300}}&apikey={token}"));
    assert_eq!(send(&t, posted).await, (StatusCode::OK, "ok".to_owned()));
    let stored = common::readings(&t.db).await;
    assert_eq!(
        keys_and_values(&stored),
        [("1.power1", "power", 100.0), ("1.power2", "power", 200.0), ("1.power3", "power", 300.0),
         ("emontx.power1", "power", 100.0), ("emontx.power2", "power", 200.0), ("emontx.power3", "power", 300.0)]
    );
    assert_eq!(stored[0].4, at.parse::<i64>().unwrap() * 1000, "time= sets the readings' time");
}

async fn inputs_without_a_kind_wait_for_their_sensor(t: TestDb) {
    let token = common::device_token(&t.db, "emontx").await;
    let csv = || get(&format!("/input/post?node=mynode&csv=100,200,300&apikey={token}"));
    assert_eq!(send(&t, csv()).await, (StatusCode::OK, "ok".to_owned()));
    assert!(common::readings(&t.db).await.is_empty(), "inputs named 1, 2, 3 say no kind: skipped");

    let create = Request::post("/api/v1/readings")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"sensor": "mynode.2", "value": 0, "kind": "power", "at": 1_700_000_000}).to_string()))
        .unwrap();
    assert_eq!(send(&t, create).await.0, StatusCode::OK);
    assert_eq!(send(&t, csv()).await.0, StatusCode::OK);
    let stored = common::readings(&t.db).await;
    assert_eq!(keys_and_values(&stored), [("mynode.2", "power", 0.0), ("mynode.2", "power", 200.0)]);
}

async fn emonhub_bulk_posts_with_the_emoncms_api_key(t: TestDb) {
    common::device_token(&t.db, "emonpi").await;
    let (device, key) = hearth_store::device::rotate_apikey(&t.db, "emonpi").await.unwrap().unwrap();
    assert_eq!(key.len(), 32, "emonhub refuses keys of any other length");
    // Sensors 16.1 and 17.2 exist (made once with their kind), so the bulk's positional values reach them.
    for (sensor, kind) in [("16.1", Kind::Power), ("17.2", Kind::Temperature)] {
        let reading = Incoming { key: sensor.into(), value: 1.0, at_ms: 1_700_000_000_000, kind: Some(kind), room: None };
        hearth_store::reading::store(&t.db, &device, vec![reading]).await.unwrap();
    }
    // emonhub's EmonHubEmoncmsHTTPInterfacer posts its buffer as a form: apikey, data, sentat.
    let sentat = jiff::Timestamp::now().as_second();
    let data = format!("[[{},16,1137],[{},17,1437,3164],[{},19,1412,3077]]", sentat - 20, sentat - 10, sentat);
    let body = serde_urlencoded::to_string([("apikey", key.as_str()), ("data", &data), ("sentat", &sentat.to_string())]).unwrap();
    let before = jiff::Timestamp::now().as_second();
    assert_eq!(send(&t, form("/input/bulk.json", body)).await, (StatusCode::OK, "ok".to_owned()));
    let after = jiff::Timestamp::now().as_second();
    let stored = common::readings(&t.db).await;
    let fresh: Vec<_> = stored.iter().filter(|r| r.4 > 1_700_000_000_000).map(|r| (r.1.as_str(), r.5, r.4 / 1000)).collect();
    // Emoncms shifts the buffer by its clock minus `sentat`, in whole seconds: none unless a
    // second passed between the test's clock and the server's.
    let shift = fresh.first().map_or(-1, |r| r.2 - (sentat - 20));
    assert!((before - sentat..=after - sentat).contains(&shift), "shifted {shift} s; {fresh:?}");
    assert_eq!(fresh, [("16.1", 1137.0, sentat - 20 + shift), ("17.2", 3164.0, sentat - 10 + shift)]);

    let bearer = Request::get("/input/bulk?data=[[-10,16,1200]]&offset=-100")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&t, bearer).await, (StatusCode::OK, "ok".to_owned()));
    assert_eq!(common::readings(&t.db).await.len(), stored.len() + 1);
}

fn zlib(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

/// The current Unix second, once the clock has just entered it: emonhub's `sentat` is its
/// clock's second and the server's is the one it reads, so the post must reach the server
/// before the second ends for the two to agree (as they do on one machine, or two in sync).
async fn at_the_start_of_a_second() -> i64 {
    let ms = jiff::Timestamp::now().as_millisecond();
    tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(1000 - ms.rem_euclid(1000)).unwrap() + 5)).await;
    jiff::Timestamp::now().as_second()
}

/// emonhub as shipped (`sendnames = 1`) names its inputs and posts its buffer
/// zlib-compressed as the body, with `cb=1` and `sentat` in the query string, the key as
/// `Authorization: Bearer` and no content type.
async fn emonhub_compressed_bulk_posts_are_stored(t: TestDb) {
    common::device_token(&t.db, "emonpi").await;
    let (_, key) = hearth_store::device::rotate_apikey(&t.db, "emonpi").await.unwrap().unwrap();
    let sentat = at_the_start_of_a_second().await;
    let data = format!(
        r#"[[{},"emonpi",{{"power1":350,"power2":0,"vrms":239.5,"t1":21.25}}],[{},"emonpi",{{"power1":362,"power2":5,"vrms":240.1,"t1":21.5}}]]"#,
        sentat - 10,
        sentat
    );
    let post = |sentat: i64| {
        Request::post(format!("/input/bulk.json?sentat={sentat}&cb=1"))
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::from(zlib(&data)))
            .unwrap()
    };
    assert_eq!(send(&t, post(sentat)).await, (StatusCode::OK, "ok".to_owned()));
    let stored = common::readings(&t.db).await;
    assert_eq!(
        stored.iter().map(|r| (r.1.as_str(), r.5, r.4 / 1000)).collect::<Vec<_>>(),
        [("emonpi.power1", 350.0, sentat - 10), ("emonpi.power1", 362.0, sentat), ("emonpi.power2", 0.0, sentat - 10),
         ("emonpi.power2", 5.0, sentat)],
        "named inputs whose kind is known; vrms and t1 say none"
    );
    assert!(stored.iter().all(|r| r.4 % 1000 == 0), "whole seconds, as Emoncms stores them");
    // The same buffer sent again a second or more later, with emonhub's new sentat (it retries
    // until it reads "ok"): the same seconds, so nothing new.
    let resent = at_the_start_of_a_second().await;
    assert!(resent > sentat);
    assert_eq!(send(&t, post(resent)).await, (StatusCode::OK, "ok".to_owned()));
    assert_eq!(common::readings(&t.db).await, stored);

    // The body limit applies to the decompressed data: 8 MB of spaces compress to 8 KB.
    let bomb = format!("[[0,\"emonpi\",{{\"power1\":1}}]{}]", " ".repeat(8 << 20));
    let compressed = zlib(&bomb);
    assert!(compressed.len() < 64 << 10);
    let request = Request::post("/input/bulk.json?cb=1")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::from(compressed))
        .unwrap();
    let (status, body) = send(&t, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("\"success\":false"), "{body}");
    let garbage = Request::post("/input/bulk.json?cb=1")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::from("data=[[0,16,1]]"))
        .unwrap();
    let (status, body) = send(&t, garbage).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("zlib"), "{body}");
    assert_eq!(common::readings(&t.db).await, stored);
}

async fn bad_requests_get_emoncms_errors_and_store_nothing(t: TestDb) {
    let token = common::device_token(&t.db, "emontx").await;
    let cases = [
        format!("/input/post?node=emontx&json={{power1:hot}}&apikey={token}"),
        format!(r#"/input/post?node=emontx&fulljson={{"power1":100,"power2":"hot"}}&apikey={token}"#),
        format!("/input/post?node=emontx&apikey={token}"),
        format!("/input/bulk?data=[[0,16,1137&apikey={token}"),
        format!("/input/post?node=emontx&fulljson={{\"power1\":1}}&time=9999999999&apikey={token}"),
    ];
    for uri in cases {
        let (status, body) = send(&t, get(&uri)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} → {body}");
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["success"], false, "{body}");
        assert!(!answer["message"].as_str().unwrap().is_empty());
    }
    let (status, body) = send(&t, get("/input/post?node=emontx&csv=1&apikey=0123456789abcdef0123456789abcdef")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("\"success\":false"));
    assert!(common::readings(&t.db).await.is_empty());
}

on_both_databases!(
    fulljson_and_json_posts_are_stored_per_node,
    inputs_without_a_kind_wait_for_their_sensor,
    emonhub_bulk_posts_with_the_emoncms_api_key,
    emonhub_compressed_bulk_posts_are_stored,
    bad_requests_get_emoncms_errors_and_store_nothing,
);

#[tokio::test]
async fn device_apikey_prints_a_32_character_key_that_posts() {
    let t = common::sqlite().await;
    common::device_token(&t.db, "emonpi").await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["device", "apikey", "emonpi"])
        .env("HEARTH_DATABASE_URL", &t.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()), "{key:?}");
    let (status, body) = send(&t, get(&format!(r#"/input/post?node=emonpi&fulljson={{"power1":5}}&apikey={key}"#))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, r#"{"success":true}"#));
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["device", "apikey", "nobody"])
        .env("HEARTH_DATABASE_URL", &t.url)
        .output()
        .unwrap();
    assert!(!missing.status.success());
}
