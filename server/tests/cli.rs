//! The `hearth` binary as a person runs it: `device add` prints a working token, a server
//! started with the simulated house stores and streams readings of every kind, and two
//! servers on one PostgreSQL database stream what either stored.

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
mod common;

use std::process::Command;
use std::time::Duration;

const HEARTH: &str = env!("CARGO_BIN_EXE_hearth");

#[test]
fn device_add_prints_only_the_token_and_refuses_a_taken_name() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("h.db").display());
    let add = || Command::new(HEARTH).args(["device", "add", "porch"]).env("HEARTH_DATABASE_URL", &url).output().unwrap();
    let first = add();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let token = String::from_utf8(first.stdout).unwrap();
    assert!(token.trim().starts_with("hth_") && token.trim().len() == 68, "{token:?}");
    assert!(String::from_utf8_lossy(&first.stderr).contains("only this once"));
    let second = add();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("already exists"));
    let list = Command::new(HEARTH).args(["device", "list"]).env("HEARTH_DATABASE_URL", &url).output().unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("porch"));

    let revoke = |name: &str| Command::new(HEARTH).args(["device", "revoke", name]).env("HEARTH_DATABASE_URL", &url).output().unwrap();
    assert!(revoke("porch").status.success());
    let list = Command::new(HEARTH).args(["device", "list"]).env("HEARTH_DATABASE_URL", &url).output().unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("porch\trevoked"), "{}", String::from_utf8_lossy(&list.stdout));
    let unknown = revoke("attic");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no device named"));
}

#[tokio::test]
async fn a_server_with_the_simulated_house_stores_and_streams_every_kind() {
    let t = common::sqlite().await;
    let env = [("HEARTH_SIMULATE", "true"), ("HEARTH_DEMO_PASSWORD", "demo password"), ("HEARTH_TIMEZONE", "Europe/Lisbon")];
    let (mut server, base) = common::spawn_hearth(&t.url, &env).await;

    // The demo account logs in with the password it was given.
    let login = reqwest::Client::new()
        .post(format!("{base}/api/public/login"))
        .form(&[("name", "demo"), ("password", "demo password")])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success(), "{}", login.status());
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    let stream = http.get(format!("{base}/api/v1/stream")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let mut events = stream.bytes_stream().eventsource();
    // Batches of history outrun the stream's buffer, so `resync` events may come first.
    let event = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let event = events.next().await.expect("the stream stays open").unwrap();
            if event.event == "reading" {
                return event;
            }
            assert!(event.event == "hello" || event.event == "resync", "{event:?}");
        }
    })
    .await
    .expect("a simulated reading within 15 s");
    let reading: serde_json::Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(reading["device"], "simulated-house");
    assert!(reading["kind"].as_str().unwrap().parse::<hearth_core::sensor::Kind>().is_ok(), "{reading}");

    // The history goes out oldest first in batches holding every sensor; wait for one to be stored.
    let per_kind = "select s.kind, count(*) from reading r join sensor s using (sensor_id) join device d using (device_id) \
                    where d.name = 'simulated-house' group by s.kind order by s.kind";
    let mut counts: Vec<(String, i64)> = Vec::new();
    for _ in 0..60 {
        counts = hearth_store::testing::rows(&t.db, per_kind).await;
        if counts.len() == 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let kinds: Vec<&str> = counts.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["battery", "co2", "energy", "flow", "gas", "humidity", "power", "switch", "temperature", "water"], "{counts:?}");
    let by_key = |key: &'static str| {
        let sql = format!("select value from reading join sensor using (sensor_id) where key = '{key}' order by at_ms");
        hearth_store::testing::rows::<(f64,)>(&t.db, sql)
    };
    let meter: Vec<f64> = by_key("house.energy").await.into_iter().map(|(v,)| v).collect();
    assert!(meter.len() >= 10 && meter.windows(2).all(|w| w[0] <= w[1]), "the house's energy counter only rises: {meter:?}");
    let fridge: Vec<f64> = by_key("fridge.switch").await.into_iter().map(|(v,)| v).collect();
    assert!(fridge.contains(&0.0) && fridge.contains(&1.0), "the fridge's compressor cycles: {fridge:?}");
    let rooms: Vec<(Option<String>,)> = hearth_store::testing::rows(&t.db, "select room from sensor where key like 'house.%'").await;
    assert!(rooms.len() == 5 && rooms.iter().all(|(room,)| room.is_none()), "the whole-house meters have no room: {rooms:?}");
    // The demo sets the energy roles and a time-of-use tariff.
    let mut roles: Vec<(String, Option<String>)> = Vec::new();
    for _ in 0..60 {
        roles = hearth_store::testing::rows(&t.db, "select key, role from sensor where key in ('solar.energy', 'grid.import', 'battery.soc') order by key").await;
        if roles.iter().all(|(_, role)| role.is_some()) && roles.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let roles: Vec<(&str, Option<&str>)> = roles.iter().map(|(k, r)| (k.as_str(), r.as_deref())).collect();
    assert_eq!(roles, [("battery.soc", Some("battery_soc")), ("grid.import", Some("grid_import")), ("solar.energy", Some("solar"))]);
    let tariffs = hearth_store::tariff::list(&t.db).await.unwrap();
    assert!(tariffs.len() == 1 && !tariffs[0].import.zones.is_empty() && tariffs[0].standing_per_day > 0.0, "{tariffs:?}");

    let page = tokio::time::timeout(Duration::from_secs(20), async { http.get(&base).send().await.unwrap().text().await.unwrap() })
        .await
        .expect("the overview within 20 s");
    assert!(page.contains("Living room"), "the history the simulator posted first is on the page");
    server.kill().await.unwrap();
}

#[tokio::test]
async fn two_servers_on_one_postgres_stream_each_others_readings() {
    let t = common::postgres().await;
    let token = common::device_token(&t.db, "porch").await;
    let (_a, a) = common::spawn_hearth(&t.url, &[]).await;
    let (_b, b) = common::spawn_hearth(&t.url, &[]).await;

    let viewer = common::owner_client(&t.db).await;
    let mut on_b = viewer.get(format!("{b}/api/v1/stream")).send().await.unwrap().bytes_stream().eventsource();
    let mut on_a = viewer.get(format!("{a}/api/v1/stream")).send().await.unwrap().bytes_stream().eventsource();
    for events in [&mut on_b, &mut on_a] {
        assert_eq!(events.next().await.unwrap().unwrap().event, "hello");
    }
    let posted = reqwest::Client::new()
        .post(format!("{a}/api/v1/readings"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"sensor": "porch.temp", "value": 4.5, "kind": "temperature", "room": "Porch"}))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    for (server, events) in [("B", &mut on_b), ("A", &mut on_a)] {
        let event = tokio::time::timeout(Duration::from_secs(1), events.next())
            .await
            .unwrap_or_else(|_| panic!("server {server} streams the reading within a second"))
            .unwrap()
            .unwrap();
        let reading: serde_json::Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!((reading["sensor"].as_str(), reading["value"].as_f64()), (Some("porch.temp"), Some(4.5)));
    }
}
