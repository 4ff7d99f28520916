//! A full disk and a cut database connection, for real. SQLite: the database lives on a small
//! tmpfs the test mounts (it runs as root, as CI does) and fills while a device posts; every
//! request is then answered 503 with `Retry-After`, nothing refused is stored, nothing
//! acknowledged is lost, and once space returns ingest and every other write path work again
//! within seconds, without a restart. PostgreSQL: the server kills every connection of the
//! test's database, the group writer's among them, and ingest recovers the same way.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hearth_core::sensor::SensorUpdate;
use hearth_store::Db;
use hearth_store::account::Holder;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// How long the store waits for the database in these tests.
const WAIT: Duration = Duration::from_millis(500);
/// How long recovery may take once the cause is gone, on a loaded CI machine.
const RECOVERY: Duration = Duration::from_secs(20);

/// A tmpfs of `size` mounted on a fresh folder, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("the mount command runs");
        assert!(status.success(), "mounting a tmpfs needs root (CI runs as root): {status}");
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Posts `readings` as the device with `token`; returns the status and the body.
async fn post(db: &Db, token: &str, readings: Vec<Value>) -> (StatusCode, Option<String>, Value) {
    let request = Request::post("/api/v1/readings")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(json!({ "readings": readings }).to_string()))
        .unwrap();
    let response = hearth::app(common::state(db)).oneshot(request).await.unwrap();
    let status = response.status();
    let retry = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, retry, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A batch of `n` readings of a few sensors, at seconds from `first` on (Unix seconds).
fn batch(first: i64, n: i64) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"sensor": format!("cellar.t{}", i % 5), "kind": "temperature", "value": 12.5, "at": first + i}))
        .collect()
}

/// The times (Unix seconds) of every stored reading.
async fn stored_seconds(db: &Db) -> Vec<i64> {
    let rows: Vec<(i64,)> = hearth_store::testing::rows(db, "select at_ms from reading order by at_ms").await;
    rows.into_iter().map(|(at_ms,)| at_ms / 1000).collect()
}

/// Posts batches until one is acknowledged, within [`RECOVERY`]; returns its first second.
async fn post_until_acknowledged(db: &Db, token: &str, mut first: i64, acked: &mut Vec<i64>) -> i64 {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let (status, _, body) = post(db, token, batch(first, 10)).await;
        if status == StatusCode::OK {
            acked.extend(first..first + 10);
            return first + 10;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(Instant::now() < deadline, "ingest did not recover within {RECOVERY:?}: {body}");
        first += 10;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_full_disk_answers_503_stores_nothing_refused_and_recovers_when_space_returns() {
    let disk = Tmpfs::mount("6m");
    // Space to give back later: the disk is full with it, and has room again without it.
    let ballast: PathBuf = disk.path().join("ballast");
    std::fs::write(&ballast, vec![7u8; 1536 * 1024]).unwrap();
    let url = format!("sqlite://{}", disk.path().join("hearth.db").display());
    let db = Db::connect_with(&url, hearth_store::StoreOptions { wait: WAIT }).await.unwrap();
    let token = common::device_token(&db, "cellar").await;
    let owner = hearth_store::account::set_password(&db, "owner", "correct-horse-battery").await.unwrap();

    let start = hearth_core::time::now_ms() / 1000 - 86_400;
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    let mut first = start;
    for _ in 0..2_000 {
        let (status, retry, body) = post(&db, &token, batch(first, 500)).await;
        match status {
            StatusCode::OK => acked.extend(first..first + 500),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(retry.as_deref(), Some("5"), "{body}");
                refused.extend(first..first + 500);
            }
            other => panic!("{other}: {body}"),
        }
        first += 500;
        if refused.len() >= 1_500 {
            break;
        }
    }
    assert!(!acked.is_empty() && refused.len() >= 1_500, "the disk filled: {} acknowledged, {} refused", acked.len(), refused.len());

    std::fs::remove_file(&ballast).unwrap();
    let first = post_until_acknowledged(&db, &token, first, &mut acked).await;
    assert!(post(&db, &token, batch(first, 10)).await.0 == StatusCode::OK, "and the next post too");
    acked.extend(first..first + 10);

    // Every other write path works again: a device, a session, a sensor's name, a rule.
    hearth_store::device::create(&db, "porch").await.expect("a device is added");
    hearth_store::account::open_session(&db, Holder::Account(owner), Duration::from_secs(60)).await.expect("a login");
    let sensor = hearth_store::sensor::list_all(&db).await.unwrap()[0].sensor.sensor_id;
    let name = SensorUpdate { name: Some(Some("Cellar".into())), ..SensorUpdate::default() };
    hearth_store::sensor::update(&db, sensor, name).await.expect("a sensor renamed");

    let stored = stored_seconds(&db).await;
    let lost: Vec<i64> = acked.iter().copied().filter(|s| stored.binary_search(s).is_err()).collect();
    assert!(lost.is_empty(), "{} acknowledged readings lost, e.g. {:?}", lost.len(), lost.first());
    let kept_refused = refused.iter().filter(|s| stored.binary_search(s).is_ok()).count();
    assert_eq!(kept_refused, 0, "readings answered 503 were stored");
    db.close().await;
}

#[tokio::test]
async fn ingest_recovers_after_postgresql_drops_its_connections() {
    let t = common::postgres().await;
    let token = common::device_token(&t.db, "cellar").await;
    let mut acked = Vec::new();
    let start = hearth_core::time::now_ms() / 1000 - 86_400;
    let first = post_until_acknowledged(&t.db, &token, start, &mut acked).await;

    let admin = sqlx::PgPool::connect(&common::postgres_admin_url()).await.unwrap();
    let name = t.url.rsplit('/').next().unwrap().to_owned();
    let killed: Vec<(bool,)> = sqlx::query_as("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1")
        .bind(&name)
        .fetch_all(&admin)
        .await
        .unwrap();
    assert!(!killed.is_empty(), "the writer's connection was among those killed");

    let first = post_until_acknowledged(&t.db, &token, first, &mut acked).await;
    post_until_acknowledged(&t.db, &token, first, &mut acked).await;
    let stored = stored_seconds(&t.db).await;
    assert!(acked.iter().all(|s| stored.binary_search(s).is_ok()), "every acknowledged reading is stored");
    admin.close().await;
}
