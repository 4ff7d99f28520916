//! Backups: `hearth backup` of a real server's SQLite file while readings are posted to it
//! without pause, restored with `hearth restore` into a fresh place, holds every reading
//! acknowledged before the backup began; `restore` refuses while a server runs on the file
//! and refuses what is not a backup; scheduled backups keep the newest N; PostgreSQL's
//! `pg_dump` and `pg_restore` (as the README says) give back every reading.

mod common;

use hearth_store::Db;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// Runs the real `hearth` with `args` on `database_url`; its success and its stderr.
async fn hearth(database_url: &str, args: &[&str]) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(args)
        .env("HEARTH_DATABASE_URL", database_url)
        .output()
        .await
        .unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// The values of every stored reading, sorted.
async fn values(url: &str) -> Vec<i64> {
    let db = Db::connect(url).await.unwrap();
    let mut values: Vec<i64> = common::readings(&db).await.into_iter().map(|r| r.5 as i64).collect();
    db.close().await;
    values.sort_unstable();
    values
}

#[tokio::test]
async fn a_backup_under_ingest_restores_every_reading_acknowledged_before_it() {
    let t = common::sqlite().await;
    let token = common::device_token(&t.db, "cellar").await;
    // Half a million readings of an older sensor, so that the copy takes a while.
    let attic = hearth_store::device::create(&t.db, "attic").await.unwrap().0;
    let old = hearth_core::reading::Incoming { key: "attic.temp".into(), value: -2.0, at_ms: 1_000_000_000_000, kind: Some(hearth_core::sensor::Kind::Temperature), room: None };
    hearth_store::reading::store(&t.db, &attic, vec![old]).await.unwrap();
    hearth_store::testing::execute(
        &t.db,
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < 500000) \
         insert into reading (sensor_id, at_ms, value) select 1, 1000000000000 + i * 1000, -1 from n",
    )
    .await;
    let (_server, base) = common::spawn_hearth(&t.url, &[("HEARTH_INGEST_REQUESTS_PER_SECOND", "0"), ("HEARTH_RETENTION_RAW_DAYS", "0")]).await;

    // Posts batches of 20 readings (values 0, 1, 2, … at one a second) one after another
    // until told to stop; `acked` is how many were acknowledged.
    let acked = Arc::new(AtomicI64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let poster = {
        let (acked, stop, base) = (acked.clone(), stop.clone(), base.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let start = jiff::Timestamp::now().as_second() - 20 * 86_400;
            let mut next = 0i64;
            while !stop.load(Ordering::Relaxed) {
                let batch: Vec<_> = (next..next + 20)
                    .map(|v| json!({"sensor": "cellar.temp", "kind": "temperature", "value": v, "at": start + v}))
                    .collect();
                let answer = client.post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&json!({"readings": batch})).send().await.unwrap();
                assert_eq!(answer.status(), 200, "ingest answered {} during the backup", answer.status());
                next += 20;
                acked.store(next, Ordering::Release);
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.load(Ordering::Acquire) < 2_000 {
        assert!(Instant::now() < deadline, "ingest too slow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let before = acked.load(Ordering::Acquire);
    let (ok, log) = hearth(&t.url, &["backup", file.to_str().unwrap()]).await;
    assert!(ok, "{log}");
    let during = acked.load(Ordering::Acquire) - before;
    stop.store(true, Ordering::Relaxed);
    poster.await.unwrap();
    eprintln!("{before} readings acknowledged before the backup, {during} while it ran");
    assert!(!Path::new(&format!("{}.partial", file.display())).exists());

    let fresh = format!("sqlite://{}", dir.path().join("fresh/hearth.db").display());
    let (ok, log) = hearth(&fresh, &["restore", file.to_str().unwrap()]).await;
    assert!(ok, "{log}");
    let restored = values(&fresh).await;
    assert_eq!(restored.iter().filter(|&&v| v == -1).count(), 500_000, "the older sensor's readings");
    let missing: Vec<i64> = (0..before).filter(|v| restored.binary_search(v).is_err()).collect();
    assert!(missing.is_empty(), "acknowledged before the backup but not restored: {missing:?}");

    // The restored database serves.
    let (_restored_server, base) = common::spawn_hearth(&fresh, &[]).await;
    let health: serde_json::Value = reqwest::get(format!("{base}/healthz")).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn restore_refuses_while_a_server_runs_and_what_is_not_a_backup() {
    let t = common::sqlite().await;
    let token = common::device_token(&t.db, "cellar").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let (ok, log) = hearth(&t.url, &["backup", file.to_str().unwrap()]).await;
    assert!(ok, "{log}");
    let (ok, log) = hearth(&t.url, &["backup", file.to_str().unwrap()]).await;
    assert!(!ok && log.contains("exists already"), "an existing file is not overwritten: {log}");

    let (mut server, base) = common::spawn_hearth(&t.url, &[]).await;
    let reading = json!({"sensor": "cellar.temp", "kind": "temperature", "value": 4.5});
    let answer = reqwest::Client::new().post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&reading).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let (ok, log) = hearth(&t.url, &["restore", file.to_str().unwrap()]).await;
    assert!(!ok, "restored under a running server");
    assert!(log.contains("server is running"), "{log}");
    assert_eq!(values(&t.url).await, [4], "the database was left alone");

    server.kill().await.unwrap();
    server.wait().await.unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database at all, but long enough to look like a file header......").unwrap();
    let (ok, log) = hearth(&t.url, &["restore", text.to_str().unwrap()]).await;
    assert!(!ok && log.contains("not a Hearth backup"), "{log}");
    let (ok, log) = hearth(&t.url, &["restore", dir.path().join("missing.db").to_str().unwrap()]).await;
    assert!(!ok && log.contains("not a Hearth backup"), "{log}");
    assert_eq!(values(&t.url).await, [4]);

    let (ok, log) = hearth(&t.url, &["restore", file.to_str().unwrap()]).await;
    assert!(ok, "{log}");
    assert!(values(&t.url).await.is_empty(), "the backup was taken before the reading");
    let (ok, log) = hearth(&common::postgres_admin_url(), &["backup", file.to_str().unwrap()]).await;
    assert!(!ok && log.contains("pg_dump"), "PostgreSQL is backed up with pg_dump: {log}");
}

#[tokio::test]
async fn scheduled_backups_keep_the_newest() {
    let t = common::sqlite().await;
    common::device_token(&t.db, "cellar").await;
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let env = [("HEARTH_BACKUP_DIR", backups.to_str().unwrap()), ("HEARTH_BACKUP_EVERY", "1s"), ("HEARTH_BACKUP_KEEP", "2")];
    let (_server, _) = common::spawn_hearth(&t.url, &env).await;
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while seen.len() < 4 {
        assert!(Instant::now() < deadline, "only {} backups seen in 90 s", seen.len());
        let names: Vec<String> = std::fs::read_dir(&backups)
            .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n.ends_with(".db")).collect())
            .unwrap_or_default();
        assert!(names.len() <= 2, "more than 2 kept: {names:?}");
        seen.extend(names);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let newest = seen.iter().next_back().unwrap();
    assert!(newest.starts_with("hearth-20") && newest.ends_with("Z.db"), "{newest}");
    let fresh = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let kept = std::fs::read_dir(&backups).unwrap().next().unwrap().unwrap().path();
    let (ok, log) = hearth(&fresh, &["restore", kept.to_str().unwrap()]).await;
    assert!(ok, "a scheduled backup restores: {log}");
}

/// The README's PostgreSQL backup: `pg_dump --format=custom`, then `pg_restore` into an empty
/// database, which Hearth then opens with every reading.
#[tokio::test]
async fn postgres_is_backed_up_with_pg_dump_and_restored_with_pg_restore() {
    let t = common::postgres().await;
    let device = hearth_store::device::create(&t.db, "cellar").await.unwrap().0;
    let now = hearth_core::time::now_ms();
    let batch = (0..500)
        .map(|i| hearth_core::reading::Incoming {
            key: "cellar.temp".into(),
            value: i as f64,
            at_ms: now - 1_000_000 + i * 1000,
            kind: Some(hearth_core::sensor::Kind::Temperature),
            room: None,
        })
        .collect();
    hearth_store::reading::store(&t.db, &device, batch).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("hearth.dump");
    let status = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--file", dump.to_str().unwrap(), &t.url])
        .status()
        .expect("pg_dump is installed with PostgreSQL");
    assert!(status.success());

    let admin = sqlx::PgPool::connect(&common::postgres_admin_url()).await.unwrap();
    let name = format!("hearth_restored_{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {name}"))).execute(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}"))).execute(&admin).await.unwrap();
    let (base, _) = t.url.rsplit_once('/').unwrap();
    let restored_url = format!("{base}/{name}");
    let status = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &restored_url, dump.to_str().unwrap()])
        .status()
        .expect("pg_restore is installed with PostgreSQL");
    assert!(status.success());
    let restored = values(&restored_url).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database {name} with (force)"))).execute(&admin).await.unwrap();
    assert_eq!(restored, (0..500).collect::<Vec<_>>());
}
