//! CSV in on SQLite and PostgreSQL: Hearth's export imported into an empty database gives
//! back the same export and the same rollups; a second import stores nothing; refused rows
//! are named by line and nothing is stored; plain `time,value` files (Home Assistant's and
//! Emoncms's) for one named sensor; `hearth import` with its progress; the page's upload with
//! its progress lines, for the owner only.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TestDb, on_both_databases};
use hearth::config::Config;
use hearth::import::{ImportError, Target, import};
use hearth_core::reading::Incoming;
use hearth_core::sensor::Kind;
use hearth_core::time::house::HouseZone;
use http_body_util::BodyExt;
use serde_json::Value;
use std::io::Write;
use tower::ServiceExt;

const T0: i64 = 1_764_028_800_000; // 2025-11-25T00:00:00Z

fn lisbon() -> HouseZone {
    HouseZone::named("Europe/Lisbon").unwrap()
}

/// The whole export of `t`, as the API answers it.
async fn export(t: &TestDb) -> String {
    let config = Config { timezone: Some(lisbon()), ..Config::default() };
    let cookie = common::owner_cookie(&t.db).await;
    let request = Request::get("/api/v1/export.csv").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let response = hearth::app(common::state_with(&t.db, config)).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

/// Every rollup bucket, by device, sensor key, tier and start.
async fn rollups(t: &TestDb) -> Vec<(String, String, i64, i64, i64, f64, f64, f64, i64, i64, f64)> {
    const SQL: &str = "select d.name, s.key, r.tier_ms, r.bucket_ms, r.value_count, r.value_sum, r.value_min, r.value_max, \
         r.first_at_ms, r.last_at_ms, r.value_increase from rollup r join sensor s on s.sensor_id = r.sensor_id \
         join device d on d.device_id = s.device_id order by d.name, s.key, r.tier_ms, r.bucket_ms";
    hearth_store::testing::rows(&t.db, SQL).await
}

async fn seed(t: &TestDb) {
    let store = |device: &'static str, key: &'static str, kind: Kind, room: Option<&'static str>, readings: Vec<(i64, f64)>| {
        let db = t.db.clone();
        async move {
            let device = match hearth_store::device::list(&db).await.unwrap().into_iter().find(|d| d.name == device) {
                Some(d) => d,
                None => hearth_store::device::create(&db, device).await.unwrap().0,
            };
            let batch = readings.into_iter().map(|(at_ms, value)| Incoming { key: key.into(), value, at_ms, kind: Some(kind), room: room.map(Into::into) }).collect();
            hearth_store::reading::store(&db, &device, batch).await.unwrap();
        }
    };
    store("hall", "hall.temp", Kind::Temperature, Some("Hall, \"north\""), (0..300).map(|i| (T0 + i * 20_500, 18.0 + (i % 17) as f64 * 0.25)).collect()).await;
    store("hall", "hall.humidity", Kind::Humidity, None, vec![(T0, 55.5)]).await;
    store("meter", "house.energy", Kind::Energy, None, (0..200).map(|i| (T0 + i * 60_000, 1000.0 + (i as f64 * 0.013) % 7.0)).collect()).await;
    store("meter", "tv.switch", Kind::Switch, Some("Living room"), (0..50).map(|i| (T0 + i * 97_000, (i % 2) as f64)).collect()).await;
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

async fn run(t: &TestDb, f: &tempfile::NamedTempFile, target: Option<&Target>) -> Result<hearth::import::Summary, ImportError> {
    import(&t.db, &lisbon(), f.path(), target, |_| {}).await
}

async fn export_import_export_is_identical_with_the_same_rollups(t: TestDb) {
    seed(&t).await;
    let first = export(&t).await;
    assert_eq!(first.lines().count(), 1 + 300 + 1 + 200 + 50);
    let fresh = if t.url.starts_with("sqlite") { common::sqlite().await } else { common::postgres().await };
    let f = file(&first);
    let mut phases = Vec::new();
    let summary = import(&fresh.db, &lisbon(), f.path(), None, |p| phases.push(p)).await.unwrap();
    assert_eq!((summary.rows, summary.stored, summary.duplicates), (551, 551, 0));
    assert_eq!(summary.devices_created, ["hall", "meter"]);
    assert_eq!(phases.last().map(|p| (p.phase, p.bytes == p.total)), Some(("storing", true)));
    assert!(phases.iter().any(|p| p.phase == "checking"));
    assert_eq!(export(&fresh).await, first, "export → import → export gives the same file");
    assert_eq!(rollups(&fresh).await, rollups(&t).await, "the rollups are those of the posted readings");

    let again = run(&fresh, &f, None).await.unwrap();
    assert_eq!((again.stored, again.duplicates), (0, 551), "a second import stores nothing new");
    assert!(again.devices_created.is_empty());
    assert_eq!(export(&fresh).await, first);
}

async fn refused_rows_are_named_by_line_and_nothing_is_stored(t: TestDb) {
    seed(&t).await;
    let before = export(&t).await;
    let text = "time,local_time,device,sensor,kind,unit,room,value\n\
        2025-11-26T00:00:00Z,,hall,hall.temp,temperature,°C,,20\n\
        yesterday,,hall,hall.temp,temperature,°C,,20\n\
        2025-11-26T00:01:00Z,,meter,tv.switch,switch,,,2\n\
        2025-11-26T00:02:00Z,,hall,hall.temp,temperature,°F,,70\n\
        2025-11-26T00:03:00Z,,hall,hall.temp,humidity,%,,50\n\
        2025-11-26T00:04:00Z,,hall,Hall Temp,temperature,°C,,20\n\
        2025-11-26T00:05:00Z,,hall,hall.temp,temperature,°C,,warm\n\
        2025-11-26T00:06:00Z,,hall,hall.temp\n\
        2099-01-01T00:00:00Z,,hall,hall.temp,temperature,°C,,20\n";
    let Err(ImportError::Refused { rows, count }) = run(&t, &file(text), None).await else { panic!("refused") };
    let named: Vec<(u64, &str)> = rows.iter().map(|r| (r.line, r.field.as_str())).collect();
    assert_eq!(named, [(3, "time"), (4, "value"), (5, "unit"), (6, "kind"), (7, "sensor"), (8, "value"), (9, "csv"), (10, "time")]);
    assert_eq!(count, 8);
    assert!(rows[1].message.contains("0 or 1"), "{}", rows[1].message);
    assert!(rows[3].message.contains("is a temperature sensor"), "{}", rows[3].message);
    assert_eq!(export(&t).await, before, "nothing stored, not even line 2");
}

async fn plain_files_go_to_one_named_sensor(t: TestDb) {
    seed(&t).await;
    // Home Assistant's history export.
    let ha = "entity_id,state,last_changed\n\
        sensor.office_temperature,21.5,2025-11-26T08:00:00.000Z\n\
        sensor.office_temperature,21.75,2025-11-26T08:05:00.000Z\n";
    let office = Target { device: "ha".into(), sensor: "office.temperature".into(), kind: Some(Kind::Temperature), room: Some("Office".into()) };
    let summary = run(&t, &file(ha), Some(&office)).await.unwrap();
    assert_eq!((summary.stored, summary.devices_created.clone()), (2, vec!["ha".to_owned()]));
    // Emoncms: no header, Unix seconds; the sensor exists now, so no kind is needed.
    let emoncms = "1764144600,22\n1764144900,22.5\n";
    let existing = Target { device: "ha".into(), sensor: "office.temperature".into(), kind: None, room: None };
    assert_eq!(run(&t, &file(emoncms), Some(&existing)).await.unwrap().stored, 2);
    // Local times of the house, as Emoncms writes them.
    let local = "time,value\n2025-07-01 12:00:00,25\n";
    assert_eq!(run(&t, &file(local), Some(&existing)).await.unwrap().stored, 1);
    let csv = export(&t).await;
    let office_rows: Vec<&str> = csv.lines().filter(|l| l.contains(",ha,")).collect();
    assert_eq!(
        office_rows,
        [
            "2025-07-01T11:00:00Z,2025-07-01T12:00:00+01:00,ha,office.temperature,temperature,°C,Office,25",
            "2025-11-26T08:00:00Z,2025-11-26T08:00:00+00:00,ha,office.temperature,temperature,°C,Office,21.5",
            "2025-11-26T08:05:00Z,2025-11-26T08:05:00+00:00,ha,office.temperature,temperature,°C,Office,21.75",
            "2025-11-26T08:10:00Z,2025-11-26T08:10:00+00:00,ha,office.temperature,temperature,°C,Office,22",
            "2025-11-26T08:15:00Z,2025-11-26T08:15:00+00:00,ha,office.temperature,temperature,°C,Office,22.5",
        ]
    );
    // "unavailable" is refused by its line.
    let gap = "entity_id,state,last_changed\nsensor.x,unavailable,2025-11-26T09:00:00Z\nsensor.x,23,2025-11-26T09:05:00Z\n";
    let Err(ImportError::Refused { rows, .. }) = run(&t, &file(gap), Some(&existing)).await else { panic!("refused") };
    assert_eq!((rows[0].line, rows[0].field.as_str()), (2, "value"));
    // Without its sensor, or a new sensor without its kind, a plain file is refused whole.
    assert!(matches!(run(&t, &file(ha), None).await, Err(ImportError::Format(m)) if m.contains("needs the sensor")));
    let unknown = Target { device: "ha".into(), sensor: "attic.temperature".into(), kind: None, room: None };
    assert!(matches!(run(&t, &file(ha), Some(&unknown)).await, Err(ImportError::Format(m)) if m.contains("give its kind")));
    let export_file = file(&export(&t).await);
    assert!(matches!(run(&t, &export_file, Some(&existing)).await, Err(ImportError::Format(m)) if m.contains("without a sensor")));
}

on_both_databases!(
    export_import_export_is_identical_with_the_same_rollups,
    refused_rows_are_named_by_line_and_nothing_is_stored,
    plain_files_go_to_one_named_sensor,
);

#[tokio::test]
async fn hearth_import_reports_progress_and_refused_lines() {
    let source = common::sqlite().await;
    seed(&source).await;
    let csv = export(&source).await;
    let f = file(&csv);
    let t = common::sqlite().await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["import", f.path().to_str().unwrap()])
        .env("HEARTH_DATABASE_URL", &t.url)
        .env("HEARTH_TIMEZONE", "Europe/Lisbon")
        .output()
        .await
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("checking 100%") && log.contains("storing 100%"), "{log}");
    assert!(log.contains("551 readings: 551 stored, 0 already there"), "{log}");
    assert_eq!(export(&t).await, csv);

    let bad = file("time,value\n2025-11-26T08:00:00Z,1\nnoon,2\n");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["import", bad.path().to_str().unwrap(), "--device", "hall", "--sensor", "hall.temp"])
        .env("HEARTH_DATABASE_URL", &t.url)
        .output()
        .await
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(log.contains("line 3: time:") && log.contains("refused rows: 1; nothing was stored"), "{log}");
}

#[tokio::test]
async fn the_page_uploads_with_progress_lines_and_only_the_owner_may() {
    let source = common::sqlite().await;
    seed(&source).await;
    let csv = export(&source).await;
    let t = common::sqlite().await;
    let owner = common::owner_cookie(&t.db).await;
    let post = |cookie: String, uri: &str, accept: &str, body: String| {
        let request = Request::post(uri)
            .header(header::COOKIE, cookie)
            .header(header::ACCEPT, accept)
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .unwrap();
        let app = hearth::app(common::state(&t.db));
        async move {
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            (status, String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
        }
    };
    let (status, body) = post(owner.clone(), "/api/owner/import", "application/x-ndjson", csv.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().any(|l| l["progress"]["phase"] == "storing"), "{body}");
    assert_eq!(lines.last().unwrap()["done"]["stored"], 551, "{body}");

    let (status, body) = post(owner.clone(), "/api/owner/import", "application/json", csv.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["duplicates"], 551);

    let (status, body) = post(owner.clone(), "/api/owner/import?device=hall&sensor=hall.temp", "application/json", "time,value\nnoon,1\n".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((body["refused"][0]["line"].as_u64(), body["field"].as_str()), (Some(2), Some("file")));
    let (status, body) = post(owner.clone(), "/api/owner/import?device=hall", "application/json", "time,value\n".into()).await;
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()["field"].as_str()), (StatusCode::BAD_REQUEST, Some("sensor")));

    let (link, _) = hearth_store::account::insert_share_link(&t.db, "wall").await.unwrap();
    let screen = common::session_cookie(&t.db, hearth_store::account::Holder::ShareLink(link.share_link_id)).await;
    assert_eq!(post(screen, "/api/owner/import", "application/json", csv.clone()).await.0, StatusCode::FORBIDDEN);
    assert_eq!(post(String::new(), "/api/owner/import", "application/json", csv).await.0, StatusCode::UNAUTHORIZED);
}
