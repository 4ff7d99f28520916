//! No acknowledged reading is lost: devices post while the server is killed with SIGKILL at a
//! random moment; every reading whose request got a 200 must be in the database afterwards,
//! and in its rollups.

mod common;

use common::on_both_databases;

use common::TestDb;
use rand::Rng;
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CLIENTS: usize = 8;
const PER_BATCH: i64 = 25;

async fn acknowledged_readings_survive_sigkill(t: TestDb) {
    let token = common::device_token(&t.db, "crash").await;
    let (mut server, base) = common::spawn_hearth(&t.url, &[("HEARTH_INGEST_REQUESTS_PER_SECOND", "0")]).await;
    let acked: Arc<Mutex<HashSet<(String, i64)>>> = Arc::default();
    let origin = jiff::Timestamp::now().as_millisecond() - 3_600_000;

    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (base, token, acked) = (base.clone(), token.clone(), acked.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let key = format!("sensor.{c}");
                for round in 0.. {
                    let times: Vec<i64> = (0..PER_BATCH).map(|i| origin + round * PER_BATCH + i).collect();
                    let readings: Vec<_> = times
                        .iter()
                        .map(|at| json!({"sensor": key, "kind": "power", "value": 1.0, "at": *at as f64 / 1000.0}))
                        .collect();
                    let sent = http.post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&json!({ "readings": readings }));
                    match sent.send().await {
                        Ok(response) if response.status() == 200 => {
                            acked.lock().unwrap().extend(times.iter().map(|at| (key.clone(), *at)));
                        }
                        Ok(response) => panic!("unexpected answer {}", response.status()),
                        Err(_) => return round,
                    }
                }
                unreachable!()
            })
        })
        .collect();

    let delay = rand::rng().random_range(300..1500);
    tokio::time::sleep(Duration::from_millis(delay)).await;
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    for client in clients {
        client.await.unwrap();
    }

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 100, "the load ran long enough to matter: {} readings acknowledged", acked.len());
    // Open the database afresh, as a restarted server would.
    t.db.close().await;
    let db = hearth_store::Db::connect(&t.url).await.unwrap();
    const SQL: &str = "select s.key, r.at_ms from reading r join sensor s on s.sensor_id = r.sensor_id";
    let rows: Vec<(String, i64)> = hearth_store::testing::rows(&db, SQL).await;
    let stored: HashSet<(String, i64)> = rows.into_iter().collect();
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "{} acknowledged readings lost after SIGKILL at {delay} ms, e.g. {:?}", lost.len(), lost.first());
    // Every tier of the rollups counts each stored reading once: on SQLite, what the kill left
    // in the rollup backlog was merged when the database was opened again.
    const TIERS: &str = "select tier_ms, cast(sum(value_count) as bigint) from rollup group by tier_ms order by tier_ms";
    let tiers: Vec<(i64, i64)> = hearth_store::testing::rows(&db, TIERS).await;
    let count = stored.len() as i64;
    assert_eq!(tiers, [(60_000, count), (600_000, count), (3_600_000, count)], "killed at {delay} ms");
    db.close().await;
}

on_both_databases!(acknowledged_readings_survive_sigkill);
