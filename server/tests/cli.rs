//! The `hearth` binary as a person runs it: `device add` prints a working token, and a server
//! started with the simulated house streams its readings.

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

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
}

#[tokio::test]
async fn a_server_with_the_simulated_house_streams_its_readings() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = tokio::process::Command::new(HEARTH)
        .env("HEARTH_DATABASE_URL", format!("sqlite://{}", dir.path().join("h.db").display()))
        .env("HEARTH_SIMULATE", "true")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut log = BufReader::new(server.stderr.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = log.next_line().await.unwrap() {
            if let Some(at) = line.find("listening on http://") {
                return line[at + "listening on ".len()..].split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server listens within 20 s");

    let stream = reqwest::get(format!("{base}/api/v1/stream")).await.unwrap();
    let mut events = stream.bytes_stream().eventsource();
    let event = tokio::time::timeout(Duration::from_secs(15), events.next())
        .await
        .expect("a simulated reading within 15 s")
        .unwrap()
        .unwrap();
    let reading: serde_json::Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(reading["device"], "simulated-house");
    assert!(["temperature", "humidity"].contains(&reading["kind"].as_str().unwrap()));

    let page = reqwest::get(&base).await.unwrap().text().await.unwrap();
    assert!(page.contains("Living room"), "the history the simulator posted first is on the page");
    server.kill().await.unwrap();
}
