//! MQTT through the real Mosquitto at 127.0.0.1:1883, on SQLite and PostgreSQL: payloads from
//! the devices' documentation, published to unique topics, end in the store and on the live
//! stream; unknown prefixes are counted, not stored; bad payloads store nothing and are
//! reported. A broker of the test's own (`mosquitto` on port 3401) is killed and restarted to
//! check that Hearth reconnects and subscribes again; another (port 3402) takes a flood.

mod common;

use common::on_both_databases;

use common::TestDb;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use hearth::AppState;
use hearth::config::{Config, DatabaseUrl};
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};
use serde_json::Value;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

const BROKER_PORT: u16 = 1883;
/// The port of the test's own broker, in this suite's range (3400-3409).
const OWN_BROKER_PORT: u16 = 3401;
/// The port of the flood test's own broker.
const FLOOD_BROKER_PORT: u16 = 3402;

/// A name no other test or run uses.
fn unique(what: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{what}-{}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), rand_suffix())
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() % 100_000
}

/// A Hearth server on a free port subscribed to the broker at `port`: its state and base URL.
/// Its group and client id are its own, so concurrent tests never take each other's messages.
async fn serve(t: &TestDb, port: u16) -> (AppState, String) {
    let config = Config {
        mqtt_url: Some(DatabaseUrl(format!("mqtt://127.0.0.1:{port}"))),
        mqtt_client_id: Some(unique("hearth-test")),
        mqtt_group: unique("group"),
        mqtt_session_seconds: 0,
        retention_raw_days: 0,
        timezone: Some(hearth_core::time::house::HouseZone::named("Europe/Berlin").unwrap()),
        ..Config::default()
    };
    let state = common::state_with(&t.db, config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(hearth::serve(listener, state.clone(), std::future::pending()));
    let subscribed = eventually(Duration::from_secs(20), || async { state.activity.broker_connected().then_some(()) }).await;
    subscribed.unwrap_or_else(|| panic!("Hearth subscribed to the broker at 127.0.0.1:{port} (is Mosquitto running?)"));
    (state, base)
}

/// Polls `check` until it gives a value or `limit` passes.
async fn eventually<T, F: Future<Output = Option<T>>>(limit: Duration, mut check: impl FnMut() -> F) -> Option<T> {
    let start = tokio::time::Instant::now();
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if start.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Publishes `messages` at QoS 1 to the broker at `port` and waits until it acknowledged each.
async fn publish(port: u16, messages: &[(&str, &str)]) {
    let (client, mut events) = AsyncClient::new(MqttOptions::new(unique("publisher"), "127.0.0.1", port), 64);
    for (topic, payload) in messages {
        client.publish(*topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec()).await.unwrap();
    }
    let mut acked = 0;
    tokio::time::timeout(Duration::from_secs(10), async {
        while acked < messages.len() {
            match events.poll().await {
                Ok(Event::Incoming(Incoming::PubAck(_))) => acked += 1,
                Ok(_) => {}
                Err(e) => panic!("publishing to 127.0.0.1:{port} failed: {e}"),
            }
        }
    })
    .await
    .expect("the broker acknowledges within 10 s");
    let _ = client.disconnect().await;
}

/// Publishes `messages` at QoS 1 as fast as the broker takes them, any number of them, and
/// waits until it acknowledged each.
async fn publish_many(port: u16, topic: &str, messages: Vec<String>) {
    let (client, mut events) = AsyncClient::new(MqttOptions::new(unique("publisher"), "127.0.0.1", port), 64);
    let n = messages.len();
    let acks = tokio::spawn(async move {
        let mut acked = 0;
        while acked < n {
            match events.poll().await {
                Ok(Event::Incoming(Incoming::PubAck(_))) => acked += 1,
                Ok(_) => {}
                Err(e) => panic!("publishing to 127.0.0.1:{port} failed: {e}"),
            }
        }
    });
    for payload in messages {
        client.publish(topic, QoS::AtLeastOnce, false, payload.into_bytes()).await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(60), acks).await.expect("the broker acknowledges within 60 s").unwrap();
    let _ = client.disconnect().await;
}

/// Waits until `n` readings are stored and returns them all.
async fn stored(t: &TestDb, n: usize) -> Vec<common::StoredReading> {
    let found = eventually(Duration::from_secs(10), || async {
        let all = common::readings(&t.db).await;
        (all.len() >= n).then_some(all)
    })
    .await;
    match found {
        Some(all) => all,
        None => panic!("{n} readings stored within 10 s; have {:?}", common::readings(&t.db).await),
    }
}

async fn tasmota_telemetry_reaches_the_store_and_the_stream(t: TestDb) {
    let plug = unique("pow1");
    hearth_store::mqtt::create_with_prefix(&t.db, "washer-plug", &plug).await.unwrap();
    let (state, base) = serve(&t, BROKER_PORT).await;
    let viewer = common::owner_client(&t.db).await;
    let mut events = viewer.get(format!("{base}/api/v1/stream")).send().await.unwrap().bytes_stream().eventsource();
    let hello = tokio::time::timeout(Duration::from_secs(5), events.next()).await.expect("hello").unwrap().unwrap();
    assert_eq!(hello.event, "hello");

    // docs/devices/Sonoff-Pow-R2.md in tasmota/docs; then docs/MQTT.md's power state and LWT.
    let sensor = r#"{"Time":"2018-02-15T17:37:10","ENERGY":{"TotalStartTime":"2018-11-14T18:39:40","Total":6.294,"Yesterday":5.340,"Today":0.954,"Period":217,"Power":2635,"ApparentPower":2650,"ReactivePower":282,"Factor":0.99,"Voltage":227,"Current":11.661}}"#;
    let (tele, stat, lwt) = (format!("tele/{plug}/SENSOR"), format!("stat/{plug}/POWER"), format!("tele/{plug}/LWT"));
    publish(BROKER_PORT, &[(&tele, sensor), (&stat, "ON"), (&lwt, "Online")]).await;

    let readings = stored(&t, 3).await;
    let summary: Vec<_> = readings.iter().map(|r| (r.0.as_str(), r.1.as_str(), r.2.as_str(), r.5)).collect();
    assert_eq!(
        summary,
        [("washer-plug", "energy", "energy", 6.294), ("washer-plug", "power", "power", 2635.0), ("washer-plug", "switch", "switch", 1.0)]
    );
    assert_eq!(readings[0].4, 1_518_712_630_000, "Tasmota's Time is Berlin time: 16:37:10 UTC");

    let mut live = Vec::new();
    while live.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(5), events.next()).await.expect("a live event").unwrap().unwrap();
        let reading: Value = serde_json::from_str(&event.data).unwrap();
        live.push((reading["sensor"].as_str().unwrap().to_owned(), reading["value"].as_f64().unwrap()));
    }
    live.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(live, [("energy".to_owned(), 6.294), ("power".to_owned(), 2635.0), ("switch".to_owned(), 1.0)]);

    let online = eventually(Duration::from_secs(5), || async {
        let links = hearth_store::mqtt::links(&t.db).await.unwrap();
        links.into_iter().find(|l| l.prefix.as_deref() == Some(plug.as_str())).and_then(|l| l.online)
    })
    .await;
    assert_eq!(online, Some(true), "the LWT's Online is recorded");
    let overview = state.activity.overview(hearth_store::mqtt::links(&t.db).await.unwrap());
    let linked = overview.devices.iter().find(|d| d.device.name == "washer-plug").unwrap();
    assert_eq!((linked.protocol.as_deref(), linked.messages), (Some("tasmota"), 3));
}

async fn shelly_esphome_and_hearth_topics_are_stored(t: TestDb) {
    let (shelly, esp, own) = (unique("shellyplus1pm"), unique("livingroom"), unique("cellar"));
    for (name, prefix) in [("kettle", &shelly), ("esp-lr", &esp), ("cellar-pi", &own)] {
        hearth_store::mqtt::create_with_prefix(&t.db, name, prefix).await.unwrap();
    }
    let (state, _) = serve(&t, BROKER_PORT).await;
    // howto/switch-read.js in ALLTERCO/shelly-script-examples: a switch's status.
    let status = r#"{"temperature":{"tF":121.1,"tC":49.5},"aenergy":{"minute_ts":1632600459,"by_minute":[0,0,0],"total":0.134},"current":0,"voltage":238.215,"apower":0,"output":false,"source":"switch","id":0}"#;
    let topics = [
        (format!("{shelly}/status/switch:0"), status.to_owned()),
        (format!("{shelly}/online"), "true".to_owned()),
        // esphome.io/components/mqtt: <prefix>/sensor/<object_id>/state with the plain value.
        (format!("{esp}/sensor/living_room_temperature/state"), "21.5".to_owned()),
        (format!("{esp}/binary_sensor/front_door/state"), "ON".to_owned()),
        (format!("{esp}/sensor/wifi_signal/state"), "-61".to_owned()),
        (format!("{esp}/status"), "online".to_owned()),
        (format!("hearth/{own}/cellar.temp"), "12.5".to_owned()),
        (format!("hearth/{own}"), r#"{"readings":[{"sensor":"cellar.humidity","value":81,"kind":"humidity","room":"Cellar","at":1764000000}]}"#.to_owned()),
    ];
    let messages: Vec<(&str, &str)> = topics.iter().map(|(t, p)| (t.as_str(), p.as_str())).collect();
    publish(BROKER_PORT, &messages).await;

    let readings = stored(&t, 8).await;
    let summary: Vec<_> = readings.iter().map(|r| (r.0.as_str(), r.1.as_str(), r.2.as_str(), r.5)).collect();
    assert_eq!(
        summary,
        [
            ("cellar-pi", "cellar.humidity", "humidity", 81.0),
            ("cellar-pi", "cellar.temp", "temperature", 12.5),
            ("esp-lr", "front_door", "switch", 1.0),
            ("esp-lr", "living_room_temperature", "temperature", 21.5),
            ("kettle", "switch_0.energy", "energy", 0.000134),
            ("kettle", "switch_0.power", "power", 0.0),
            ("kettle", "switch_0.switch", "switch", 0.0),
            ("kettle", "switch_0.temperature", "temperature", 49.5),
        ]
    );
    let skipped = eventually(Duration::from_secs(5), || async {
        let overview = state.activity.overview(Vec::new());
        overview.skipped.into_iter().find(|s| s.device == "esp-lr")
    })
    .await
    .expect("the wifi signal, of no known kind, is counted as skipped");
    assert_eq!((skipped.key.as_str(), skipped.protocol.as_str()), ("wifi_signal", "esphome"));
    let online = eventually(Duration::from_secs(5), || async {
        let links = hearth_store::mqtt::links(&t.db).await.unwrap();
        let states: Vec<_> = links.iter().filter_map(|l| l.online).collect();
        (states.len() == 2).then_some(states)
    })
    .await;
    assert_eq!(online, Some(vec![true, true]), "Shelly's online and ESPHome's status");
}

async fn unknown_prefixes_are_counted_not_stored(t: TestDb) {
    let (state, _) = serve(&t, BROKER_PORT).await;
    let stranger = unique("tasmota_1A2B3C");
    let tele = format!("tele/{stranger}/SENSOR");
    // docs/AM2301.md in tasmota/docs.
    let payload = r#"{"Time":"2019-01-01T00:00:00","AM2301":{"Temperature":24.6,"Humidity":58.2},"TempUnit":"C"}"#;
    publish(BROKER_PORT, &[(&tele, payload), (&tele, payload)]).await;
    let found = eventually(Duration::from_secs(10), || async {
        state.activity.overview(Vec::new()).discovered.into_iter().find(|d| d.prefix == stranger && d.messages == 2)
    })
    .await
    .expect("the prefix is listed as discovered");
    assert_eq!((found.protocol.as_str(), found.last_topic.as_str()), ("tasmota", tele.as_str()));
    assert!(common::readings(&t.db).await.is_empty(), "nothing of an unknown prefix is stored");

    let (device, _) = hearth_store::mqtt::create_with_prefix(&t.db, "bathroom", &stranger).await.unwrap();
    publish(BROKER_PORT, &[(&tele, payload)]).await;
    let readings = stored(&t, 2).await;
    assert!(readings.iter().all(|r| r.0 == device.name), "once added, its messages are stored");
}

async fn bad_payloads_store_nothing_and_are_reported(t: TestDb) {
    let plug = unique("pow2");
    hearth_store::mqtt::create_with_prefix(&t.db, "heater", &plug).await.unwrap();
    let (state, _) = serve(&t, BROKER_PORT).await;
    let bad = [
        (format!("tele/{plug}/SENSOR"), "{\"ENERGY\":{\"Power\":".to_owned()),
        (format!("stat/{plug}/POWER"), "MAYBE".to_owned()),
        (format!("hearth/{plug}/heater.temp"), "warm".to_owned()),
        (format!("hearth/{plug}"), r#"{"sensor":"t","value":1,"kind":"pressure"}"#.to_owned()),
    ];
    for (topic, payload) in &bad {
        publish(BROKER_PORT, &[(topic, payload)]).await;
        let reported = eventually(Duration::from_secs(10), || async {
            let overview = state.activity.overview(hearth_store::mqtt::links(&t.db).await.unwrap());
            let heater = overview.devices.into_iter().find(|d| d.device.name == "heater")?;
            heater.last_error.filter(|e| e.starts_with(topic.as_str()))
        })
        .await;
        assert!(reported.is_some(), "{topic} {payload}: the refusal is shown");
    }
    assert!(common::readings(&t.db).await.is_empty());
}

#[tokio::test]
async fn hearth_reconnects_and_subscribes_again_after_a_broker_restart() {
    let dir = tempfile::tempdir().unwrap();
    let conf = broker_conf(dir.path(), OWN_BROKER_PORT, "");
    let start = || own_broker(&conf);
    let mut broker = start();
    let t = common::sqlite().await;
    let plug = unique("plug");
    hearth_store::mqtt::create_with_prefix(&t.db, "lamp", &plug).await.unwrap();
    let (state, _) = serve(&t, OWN_BROKER_PORT).await;
    let stat = format!("stat/{plug}/POWER");
    publish(OWN_BROKER_PORT, &[(&stat, "ON")]).await;
    stored(&t, 1).await;

    broker.kill().await.unwrap();
    let lost = eventually(Duration::from_secs(10), || async { (!state.activity.broker_connected()).then_some(()) }).await;
    assert!(lost.is_some(), "the lost connection is noticed");
    let mut broker = start();
    let back = eventually(Duration::from_secs(30), || async { state.activity.broker_connected().then_some(()) }).await;
    assert!(back.is_some(), "Hearth reconnects and subscribes again");
    // The new broker remembers no session: only a new subscription delivers this.
    tokio::time::sleep(Duration::from_millis(200)).await;
    publish(OWN_BROKER_PORT, &[(&stat, "OFF")]).await;
    let readings = stored(&t, 2).await;
    assert_eq!(readings.iter().map(|r| r.5).collect::<Vec<_>>(), [1.0, 0.0]);
    broker.kill().await.unwrap();
}

async fn the_panel_actions_add_a_discovered_device_and_set_prefixes(t: TestDb) {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use leptos::server_fn::ServerFn;
    use tower::ServiceExt;
    let state = common::state(&t.db);
    state.activity.discovered("tasmota_1A2B3C", "tasmota", "tele/tasmota_1A2B3C/SENSOR", 1_764_000_000_000);
    let cookie = common::owner_cookie(&t.db).await;
    let call = |path: &'static str, form: String| {
        let router = hearth::app(state.clone());
        let cookie = cookie.clone();
        async move {
            let request = axum::http::Request::post(path)
                .header("cookie", cookie)
                .header("sec-fetch-site", "same-origin")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(Body::from(form))
                .unwrap();
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            (status, String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
        }
    };
    let (status, body) = call(hearth_app::functions::mqtt::AddMqttDevice::PATH, "name=bathroom&prefix=tasmota_1A2B3C".into()).await;
    assert_eq!(status, 200, "{body}");
    let added: hearth_core::mqtt::NewDevice = serde_json::from_str(&body).unwrap();
    assert_eq!(added.device.name, "bathroom");
    assert_eq!(hearth_store::device::find_by_token(&t.db, &added.token).await.unwrap(), Some(added.device.clone()), "the token shown works");
    assert!(state.activity.overview(Vec::new()).discovered.is_empty(), "an added prefix is no longer listed as discovered");

    let (status, body) = call(hearth_app::functions::mqtt::AddMqttDevice::PATH, "name=second&prefix=tasmota_1A2B3C".into()).await;
    assert_eq!(status, 409, "a prefix another device has is a conflict: {body}");
    assert!(body.contains("already belongs"), "{body}");

    let id = added.device.device_id;
    let (status, _) = call(hearth_app::functions::mqtt::SetMqttPrefix::PATH, format!("device_id={id}&prefix=bathroom%2Fplug")).await;
    assert_eq!(status, 200);
    assert!(hearth_store::mqtt::device_by_prefix(&t.db, "bathroom/plug").await.unwrap().is_some());
    let (status, body) = call(hearth_app::functions::mqtt::SetMqttPrefix::PATH, format!("device_id={id}&prefix=tele%2F%23")).await;
    assert!(status == 422 && body.contains("must not contain"), "{status} {body}");
    let (status, _) = call(hearth_app::functions::mqtt::SetMqttPrefix::PATH, format!("device_id={id}&prefix=")).await;
    assert_eq!(status, 200);
    assert_eq!(hearth_store::mqtt::links(&t.db).await.unwrap()[0].prefix, None, "an empty prefix clears it");
}

/// More QoS 1 messages at once than Hearth handles at a time, through a broker of the test's
/// own that queues without limit (the shared one keeps 1,000 per client, and every test's
/// Hearth there hears every other test's messages): every one is stored and the connection
/// stays up. (Hearth's event loop once waited for its full queue while the handler waited to
/// send acknowledgements through that loop: both stopped, and the broker dropped the
/// connection for a missed keep-alive.)
#[tokio::test]
async fn a_flood_of_qos1_messages_is_stored_whole() {
    let dir = tempfile::tempdir().unwrap();
    let conf = broker_conf(dir.path(), FLOOD_BROKER_PORT, "max_queued_messages 0\nmax_inflight_messages 0\n");
    let _broker = own_broker(&conf);
    let t = common::sqlite().await;
    let own = unique("flood");
    hearth_store::mqtt::create_with_prefix(&t.db, "flood-pi", &own).await.unwrap();
    let (state, _) = serve(&t, FLOOD_BROKER_PORT).await;
    const N: usize = 5000;
    let start = hearth_core::time::now_ms() / 1000 - N as i64;
    let messages = (0..N)
        .map(|i| format!(r#"{{"sensor":"meter.power","value":{i},"kind":"power","at":{}}}"#, start + i as i64))
        .collect();
    publish_many(FLOOD_BROKER_PORT, &format!("hearth/{own}"), messages).await;
    let all = eventually(Duration::from_secs(60), || async {
        let n = common::readings(&t.db).await.len();
        (n == N).then_some(n)
    })
    .await;
    assert_eq!(all, Some(N), "every message stored within 60 s; have {}", common::readings(&t.db).await.len());
    assert!(state.activity.broker_connected(), "the connection to the broker stayed up");
}

/// A configuration for a broker of a test's own on `port`, with `extra` lines, written in
/// `dir`.
fn broker_conf(dir: &std::path::Path, port: u16, extra: &str) -> std::path::PathBuf {
    let conf = dir.join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n{extra}")).unwrap();
    conf
}

/// Mosquitto started with `conf`, killed when dropped.
fn own_broker(conf: &std::path::Path) -> tokio::process::Child {
    tokio::process::Command::new("mosquitto")
        .arg("-c")
        .arg(conf)
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("mosquitto runs")
}

on_both_databases!(
    tasmota_telemetry_reaches_the_store_and_the_stream,
    shelly_esphome_and_hearth_topics_are_stored,
    unknown_prefixes_are_counted_not_stored,
    bad_payloads_store_nothing_and_are_reported,
    the_panel_shows_prefixes_online_states_and_discovered_prefixes,
    the_panel_actions_add_a_discovered_device_and_set_prefixes,
);

#[tokio::test]
async fn device_add_takes_an_mqtt_prefix() {
    let t = common::sqlite().await;
    let add = |name: &str, prefix: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
            .args(["device", "add", name, "--mqtt-prefix", prefix])
            .env("HEARTH_DATABASE_URL", &t.url)
            .output()
            .unwrap()
    };
    let added = add("porch-plug", "tasmota_1A2B3C");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(String::from_utf8(added.stdout).unwrap().trim().starts_with("hth_"));
    let links = hearth_store::mqtt::links(&t.db).await.unwrap();
    assert_eq!(links[0].prefix.as_deref(), Some("tasmota_1A2B3C"));
    let taken = add("other-plug", "tasmota_1A2B3C");
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("already belongs"), "{}", String::from_utf8_lossy(&taken.stderr));
    let wildcard = add("third-plug", "tele/#");
    assert!(!wildcard.status.success());
    assert_eq!(hearth_store::device::list(&t.db).await.unwrap().len(), 1, "refused prefixes create no device");
}

async fn the_panel_shows_prefixes_online_states_and_discovered_prefixes(t: TestDb) {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let (device, _) = hearth_store::mqtt::create_with_prefix(&t.db, "washer-plug", "tasmota_washer").await.unwrap();
    hearth_store::mqtt::set_online(&t.db, device.device_id, false, 1_764_000_000_000).await.unwrap();
    common::device_token(&t.db, "hall-esp32").await;
    let state = common::state(&t.db);
    state.activity.discovered("shellyplus1pm-a8032ab12345", "shelly", "shellyplus1pm-a8032ab12345/status/switch:0", 1_764_000_000_000);
    let cookie = common::owner_cookie(&t.db).await;
    let request = axum::http::Request::get("/devices").header("cookie", cookie).body(Body::empty()).unwrap();
    let page = hearth::app(state).oneshot(request).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = String::from_utf8(page.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    for expected in ["No broker configured", "washer-plug", "value=\"tasmota_washer\"", "Offline", "hall-esp32", "shellyplus1pm-a8032ab12345", "Add as device"] {
        assert!(html.contains(expected), "{expected:?} in the panel: {html}");
    }
}
