//! The InfluxDB line protocol endpoints, on SQLite and PostgreSQL: the requests of InfluxDB's
//! own documentation, Telegraf's gzip bodies and 1.x credentials, and InfluxDB's errors for
//! bad lines, which store nothing.

mod common;

use common::on_both_databases;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use flate2::Compression;
use flate2::write::GzEncoder;
use http_body_util::BodyExt;
use serde_json::Value;
use std::io::Write;
use tower::ServiceExt;

/// From InfluxDB's "Get started writing data" (docs.influxdata.com/influxdb/v2/get-started/write/),
/// written with `precision=s`.
const HOME: &str = "home,room=Living\\ Room temp=21.1,hum=35.9,co=0i 1641024000
home,room=Kitchen temp=21.0,hum=35.9,co=0i 1641024000
home,room=Living\\ Room temp=21.4,hum=35.9,co=0i 1641027600
home,room=Kitchen temp=23.0,hum=36.2,co=0i 1641027600
";

async fn send(t: &TestDb, request: Request<Body>) -> (StatusCode, Value) {
    let response = hearth::app(common::state(&t.db)).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn write_v2(token: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post("/api/v2/write?org=home&bucket=home&precision=s")
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(body.into())
        .unwrap()
}

async fn the_getting_started_example_is_stored(t: TestDb) {
    let token = common::device_token(&t.db, "telegraf").await;
    let (status, body) = send(&t, write_v2(&token, HOME)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let stored = common::readings(&t.db).await;
    let of = |key: &str| stored.iter().filter(|r| r.1 == key).map(|r| (r.2.as_str(), r.3.as_deref(), r.4, r.5)).collect::<Vec<_>>();
    assert_eq!(
        of("home.living_room.temp"),
        [("temperature", Some("Living Room"), 1_641_024_000_000, 21.1), ("temperature", Some("Living Room"), 1_641_027_600_000, 21.4)]
    );
    assert_eq!(of("home.kitchen.hum"), [("humidity", Some("Kitchen"), 1_641_024_000_000, 35.9), ("humidity", Some("Kitchen"), 1_641_027_600_000, 36.2)]);
    assert!(of("home.kitchen.co").is_empty(), "co says no kind: skipped, not stored under a guess");
    assert_eq!(stored.len(), 8);

    let (status, _) = send(&t, write_v2(&token, HOME)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "a retried write is accepted");
    assert_eq!(common::readings(&t.db).await.len(), 8, "and stores nothing twice");
}

async fn a_gzipped_body_from_telegraf_is_read(t: TestDb) {
    let token = common::device_token(&t.db, "telegraf").await;
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(HOME.as_bytes()).unwrap();
    let mut request = write_v2(&token, gz.finish().unwrap());
    request.headers_mut().insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
    let (status, body) = send(&t, request).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(common::readings(&t.db).await.len(), 8);
}

async fn version_1_takes_the_token_as_password(t: TestDb) {
    let token = common::device_token(&t.db, "telegraf").await;
    let line = "home,room=Kitchen temp=22.5 1641031200";
    let query = Request::post("/query?q=CREATE%20DATABASE%20%22home%22").body(Body::empty()).unwrap();
    assert_eq!(send(&t, query).await.0, StatusCode::OK, "Telegraf creates its database first");

    let in_query = Request::post(format!("/write?db=home&precision=s&u=telegraf&p={token}")).body(Body::from(line)).unwrap();
    assert_eq!(send(&t, in_query).await.0, StatusCode::NO_CONTENT);
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("telegraf:{token}"));
    let in_basic = Request::post("/write?db=home&precision=s")
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .body(Body::from("home,room=Kitchen temp=22.7 1641034800"))
        .unwrap();
    assert_eq!(send(&t, in_basic).await.0, StatusCode::NO_CONTENT);
    let values: Vec<f64> = common::readings(&t.db).await.iter().map(|r| r.5).collect();
    assert_eq!(values, [22.5, 22.7]);

    let (status, body) = send(&t, Request::post("/write?db=home&u=telegraf&p=wrong").body(Body::from(line)).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].as_str().unwrap().contains("unauthorized"), "1.x errors are {{\"error\": ...}}: {body}");
}

async fn a_string_field_is_refused_with_its_line_and_nothing_is_stored(t: TestDb) {
    let token = common::device_token(&t.db, "telegraf").await;
    // The line protocol reference's example of a string field value.
    let body = "home,room=Kitchen temp=21.0 1641024000\nmyMeasurement,tag1=value1,tag2=value2 fieldKey=\"fieldValue\" 1556813561\n";
    let (status, error) = send(&t, write_v2(&token, body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "invalid");
    let message = error["message"].as_str().unwrap();
    assert!(message.starts_with("line 2:") && message.contains("fieldKey"), "{message}");
    assert!(common::readings(&t.db).await.is_empty(), "the good first line is not stored either");
}

async fn bad_lines_and_tokens_get_influxdb_errors(t: TestDb) {
    let token = common::device_token(&t.db, "telegraf").await;
    let (status, error) = send(&t, write_v2(&token, "home,room=Kitchen temp=21.0\nhome temp=\n")).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid")));
    assert!(error["message"].as_str().unwrap().starts_with("line 2:"), "{error}");

    let (status, error) = send(&t, write_v2("hth_unknown", HOME)).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));

    let bad_precision = Request::post("/api/v2/write?bucket=b&precision=fortnight")
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .body(Body::from(HOME))
        .unwrap();
    assert_eq!(send(&t, bad_precision).await.0, StatusCode::BAD_REQUEST);

    // A plug already known as a switch refuses a power value for the same key.
    assert_eq!(send(&t, write_v2(&token, "plug,kind=switch relay=1i")).await.0, StatusCode::NO_CONTENT);
    let (status, error) = send(&t, write_v2(&token, "plug relay=0i\nplug,kind=power relay=12")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["message"].as_str().unwrap().starts_with("line 2:"), "{error}");
    assert_eq!(common::readings(&t.db).await.len(), 1, "only the first write's reading");
}

on_both_databases!(
    the_getting_started_example_is_stored,
    a_gzipped_body_from_telegraf_is_read,
    version_1_takes_the_token_as_password,
    a_string_field_is_refused_with_its_line_and_nothing_is_stored,
    bad_lines_and_tokens_get_influxdb_errors,
);
