//! CSV out on SQLite and PostgreSQL: `export.csv` (every sensor, one row per reading, local
//! times in the house's zone, text quoted as CSV wants), a sensor's `readings.csv` raw and by
//! rollup tier, the parameters' errors, `hearth export` giving the same bytes as the HTTP
//! answer, and a real server streaming two million rows without its memory growing.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TestDb, on_both_databases};
use hearth::config::Config;
use hearth_core::device::Device;
use hearth_core::reading::Incoming;
use hearth_core::sensor::Kind;
use hearth_core::time::house::HouseZone;
use http_body_util::BodyExt;
use tower::ServiceExt;

const T0: i64 = 1_764_028_800_000; // 2025-11-25T00:00:00Z

fn lisbon() -> Config {
    Config { timezone: Some(HouseZone::named("Europe/Lisbon").unwrap()), ..Config::default() }
}

async fn get(t: &TestDb, uri: &str) -> (StatusCode, Option<String>, String) {
    let state = common::state_with(&t.db, lisbon());
    let cookie = common::owner_cookie(&t.db).await;
    let request = Request::get(uri).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let response = hearth::app(state).oneshot(request).await.unwrap();
    let status = response.status();
    let kind = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, kind, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn post(t: &TestDb, device: &Device, key: &str, kind: Kind, room: Option<&str>, readings: &[(i64, f64)]) -> i64 {
    let batch = readings
        .iter()
        .map(|&(at_ms, value)| Incoming { key: key.into(), value, at_ms, kind: Some(kind), room: room.map(Into::into) })
        .collect();
    let outcome = hearth_store::reading::store(&t.db, device, batch).await.unwrap();
    outcome.stored[0].sensor.sensor_id
}

/// Two devices, three sensors; the hall's room has a comma and a quote in its name.
async fn seed(t: &TestDb) -> (i64, i64) {
    let hall = hearth_store::device::create(&t.db, "hall").await.unwrap().0;
    let attic = hearth_store::device::create(&t.db, "attic").await.unwrap().0;
    let temp = post(t, &hall, "hall.temp", Kind::Temperature, Some("Hall, \"north\""), &[(T0, 19.0), (T0 + 60_500, 19.25)]).await;
    post(t, &hall, "hall.humidity", Kind::Humidity, None, &[(T0, 55.0)]).await;
    let minutes: Vec<(i64, f64)> = (0..120).map(|m| (T0 + m * 60_000, m as f64)).collect();
    let power = post(t, &attic, "fan.power", Kind::Power, Some("Attic"), &minutes).await;
    (temp, power)
}

async fn export_lists_every_reading_by_device_sensor_and_time(t: TestDb) {
    seed(&t).await;
    let (status, kind, body) = get(&t, "/api/v1/export.csv?from=2025-11-25T00:00:00Z&to=2025-11-25T00:02:00Z").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(kind.as_deref(), Some("text/csv; charset=utf-8"));
    let expected = "time,local_time,device,sensor,kind,unit,room,value\n\
        2025-11-25T00:00:00Z,2025-11-25T00:00:00+00:00,attic,fan.power,power,W,Attic,0\n\
        2025-11-25T00:01:00Z,2025-11-25T00:01:00+00:00,attic,fan.power,power,W,Attic,1\n\
        2025-11-25T00:00:00Z,2025-11-25T00:00:00+00:00,hall,hall.humidity,humidity,%,,55\n\
        2025-11-25T00:00:00Z,2025-11-25T00:00:00+00:00,hall,hall.temp,temperature,°C,\"Hall, \"\"north\"\"\",19\n\
        2025-11-25T00:01:00.5Z,2025-11-25T00:01:00.5+00:00,hall,hall.temp,temperature,°C,\"Hall, \"\"north\"\"\",19.25\n";
    assert_eq!(body, expected);

    let (_, _, body) = get(&t, "/api/v1/export.csv?kind=temperature,humidity").await;
    assert_eq!(body.lines().count(), 4, "header and the hall's three readings: {body}");
    assert!(!body.contains("fan.power"));
}

async fn local_times_follow_the_house_clock_across_summer_time(t: TestDb) {
    let hall = hearth_store::device::create(&t.db, "hall").await.unwrap().0;
    // 2026-03-29T00:30Z is 00:30 in Lisbon (WET); at 01:00Z the clocks go forward to 02:00.
    let id = post(&t, &hall, "hall.temp", Kind::Temperature, None, &[(1_774_744_200_000, 10.0), (1_774_747_800_000, 11.0)]).await;
    let (status, _, body) = get(&t, &format!("/api/v1/sensors/{id}/readings.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        "time,local_time,value\n2026-03-29T00:30:00Z,2026-03-29T00:30:00+00:00,10\n2026-03-29T01:30:00Z,2026-03-29T02:30:00+01:00,11\n"
    );
}

async fn a_sensor_csv_gives_raw_readings_or_rollups(t: TestDb) {
    let (_, power) = seed(&t).await;
    let (status, _, raw) = get(&t, &format!("/api/v1/sensors/{power}/readings.csv?from=2025-11-25T01:58:00Z")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(raw, "time,local_time,value\n2025-11-25T01:58:00Z,2025-11-25T01:58:00+00:00,118\n2025-11-25T01:59:00Z,2025-11-25T01:59:00+00:00,119\n");

    let (status, _, hours) = get(&t, &format!("/api/v1/sensors/{power}/readings.csv?tier=1h")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        hours,
        "start,local_start,count,mean,min,max\n\
         2025-11-25T00:00:00Z,2025-11-25T00:00:00+00:00,60,29.5,0,59\n\
         2025-11-25T01:00:00Z,2025-11-25T01:00:00+00:00,60,89.5,60,119\n"
    );
    let (_, _, tens) = get(&t, &format!("/api/v1/sensors/{power}/readings.csv?tier=10m&to=2025-11-25T00:20:00Z")).await;
    assert_eq!(tens.lines().collect::<Vec<_>>()[1..], ["2025-11-25T00:00:00Z,2025-11-25T00:00:00+00:00,10,4.5,0,9", "2025-11-25T00:10:00Z,2025-11-25T00:10:00+00:00,10,14.5,10,19"]);
}

async fn bad_parameters_are_named(t: TestDb) {
    let (temp, _) = seed(&t).await;
    let field = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap()["field"].as_str().unwrap().to_owned();
    let (status, _, body) = get(&t, &format!("/api/v1/sensors/{temp}/readings.csv?tier=2m")).await;
    assert_eq!((status, field(&body)), (StatusCode::BAD_REQUEST, "tier".into()));
    let (status, _, body) = get(&t, "/api/v1/export.csv?from=yesterday").await;
    assert_eq!((status, field(&body)), (StatusCode::BAD_REQUEST, "from".into()));
    let (status, _, body) = get(&t, "/api/v1/export.csv?from=2026-01-02&to=2026-01-01").await;
    assert_eq!((status, field(&body)), (StatusCode::BAD_REQUEST, "from".into()));
    let (status, _, body) = get(&t, "/api/v1/export.csv?kind=heat").await;
    assert_eq!((status, field(&body)), (StatusCode::BAD_REQUEST, "kind".into()));
    let (status, _, body) = get(&t, "/api/v1/sensors/x/readings.csv").await;
    assert_eq!((status, field(&body)), (StatusCode::BAD_REQUEST, "id".into()));
    assert_eq!(get(&t, "/api/v1/sensors/999/readings.csv").await.0, StatusCode::NOT_FOUND);

    // The extremes of Unix ms (found by schemathesis: `from - 1` overflowed).
    let (status, _, body) = get(&t, &format!("/api/v1/export.csv?from={}&to={}", i64::MIN, i64::MAX)).await;
    assert_eq!((status, body.lines().count()), (StatusCode::OK, 1 + 3 + 120));
    let (status, _, _) = get(&t, &format!("/api/v1/sensors/{temp}/readings.csv?tier=1h&from={}", i64::MIN)).await;
    assert_eq!(status, StatusCode::OK);

    let request = Request::get("/api/v1/export.csv").body(Body::empty()).unwrap();
    let response = hearth::app(common::state(&t.db)).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "no session, no data");
}

async fn more_rows_than_a_page_come_out_whole_and_in_order(t: TestDb) {
    let hall = hearth_store::device::create(&t.db, "hall").await.unwrap().0;
    let n = hearth::export::PAGE_ROWS * 2 + 7;
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let readings: Vec<(i64, f64)> = chunk.iter().map(|&i| (T0 + i * 1000, i as f64)).collect();
        post(&t, &hall, "hall.temp", Kind::Temperature, None, &readings).await;
    }
    let (_, _, body) = get(&t, "/api/v1/export.csv").await;
    let values: Vec<i64> = body.lines().skip(1).map(|l| l.rsplit(',').next().unwrap().parse().unwrap()).collect();
    assert_eq!(values, (0..n).collect::<Vec<_>>());
}

/// Browsers ask for gzip: the compressed stream ends cleanly and reads back whole (the
/// compression layer polled the stream after its end, which panicked, until it was fused).
async fn a_gzipped_export_is_whole(t: TestDb) {
    seed(&t).await;
    let (_, _, plain) = get(&t, "/api/v1/export.csv").await;
    let cookie = common::owner_cookie(&t.db).await;
    let request = Request::get("/api/v1/export.csv").header(header::COOKIE, cookie).header(header::ACCEPT_ENCODING, "gzip").body(Body::empty()).unwrap();
    let response = hearth::app(common::state_with(&t.db, lisbon())).oneshot(request).await.unwrap();
    assert_eq!(response.headers().get(header::CONTENT_ENCODING).unwrap(), "gzip");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text).unwrap();
    assert_eq!(text, plain);
}

on_both_databases!(
    a_gzipped_export_is_whole,
    export_lists_every_reading_by_device_sensor_and_time,
    local_times_follow_the_house_clock_across_summer_time,
    a_sensor_csv_gives_raw_readings_or_rollups,
    bad_parameters_are_named,
    more_rows_than_a_page_come_out_whole_and_in_order,
);

#[tokio::test]
async fn hearth_export_writes_what_the_api_answers() {
    let t = common::sqlite().await;
    seed(&t).await;
    let (_, _, api) = get(&t, "/api/v1/export.csv?from=2025-11-25&to=2025-11-25").await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["export", "--from", "2025-11-25", "--to", "2025-11-25"])
        .env("HEARTH_DATABASE_URL", &t.url)
        .env("HEARTH_TIMEZONE", "Europe/Lisbon")
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), api);
    assert_eq!(api.lines().count(), 1 + 3 + 120);
}

/// Peak resident memory of process `pid` so far, in kB (Linux's `VmHWM`).
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Two million readings streamed by a real server: its peak memory grows by less than 8 MB
/// (the body is over 170 MB), and hardly at all after the first tenth: it is flat.
#[tokio::test]
async fn two_million_rows_stream_in_constant_memory() {
    let t = common::sqlite().await;
    let hall = hearth_store::device::create(&t.db, "hall").await.unwrap().0;
    post(&t, &hall, "hall.temp", Kind::Temperature, None, &[(T0, 0.0)]).await;
    // More for a measurement: `HEARTH_EXPORT_ROWS=10000000` (with `HEARTH_BIN`, a release build).
    let rows: i64 = std::env::var("HEARTH_EXPORT_ROWS").map_or(2_000_000, |n| n.parse().expect("HEARTH_EXPORT_ROWS is a number"));
    hearth_store::testing::execute(
        &t.db,
        format!(
            "with recursive n(i) as (select 1 union all select i + 1 from n where i < {rows}) \
             insert into reading (sensor_id, at_ms, value) select 1, {T0} + i * 1000, i * 0.001 from n"
        ),
    )
    .await;
    // Retention off: these readings are older than the 30 days raw readings are kept.
    let (child, base) = common::spawn_hearth(&t.url, &[("HEARTH_TIMEZONE", "Europe/Lisbon"), ("HEARTH_RETENTION_RAW_DAYS", "0")]).await;
    let pid = child.id().unwrap();
    let client = common::owner_client(&t.db).await;
    // A first export of a few rows, so that what every request needs is in place.
    let small = client.get(format!("{base}/api/v1/export.csv?to=2025-11-25T00:10:00Z")).send().await.unwrap();
    let small = small.text().await.unwrap();
    assert_eq!(small.lines().count(), 601, "{}", &small[..small.len().min(500)]);
    let before = peak_rss_kb(pid);

    let mut response = client.get(format!("{base}/api/v1/export.csv")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let (mut bytes, mut lines, mut early) = (0usize, 0usize, None);
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len();
        lines += chunk.iter().filter(|&&b| b == b'\n').count();
        if early.is_none() && lines > 200_000 {
            early = Some(peak_rss_kb(pid));
        }
    }
    let after = peak_rss_kb(pid);
    assert_eq!(lines as i64, 1 + rows + 1);
    assert!(bytes > 100_000_000, "{bytes} bytes");
    let mb = |kb: u64| kb as f64 / 1024.0;
    let early = early.unwrap();
    eprintln!(
        "peak RSS {:.1} MB before, {:.1} MB after a tenth, {:.1} MB after all {bytes} bytes",
        mb(before),
        mb(early),
        mb(after)
    );
    assert!(mb(after - before) < 8.0, "the server's peak memory grew by {:.1} MB", mb(after - before));
    // Past the first tenth only the one read connection's page cache (at most 2 MB) may grow.
    assert!(mb(after - early) < 3.0, "the last nine tenths grew the peak by {:.1} MB", mb(after - early));
}
