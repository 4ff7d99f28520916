//! Alerts on SQLite and PostgreSQL: readings posted through `app(state)` open an alert once
//! and resolve it once; a silent device goes offline past its own interval and comes back;
//! a rule added through its server function opens an alert that reaches a real SSE client
//! and a real webhook that refuses the first attempt; two evaluators on one database open
//! each alert once.

mod common;

use common::on_both_databases;

use hearth_store::alert::{history, insert_rule, open};
use hearth_core::alert::{AlertState, NewRule, RuleKind};
use hearth_store::Db;
use hearth_core::time::house::HouseZone;
use hearth_core::time::now_ms;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestDb;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use hearth::jobs::alerts::evaluate;
use hearth::config::{Config, DatabaseUrl};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

const MIN: i64 = 60_000;

fn utc() -> HouseZone {
    HouseZone::named("UTC").unwrap()
}

/// Posts readings through the app as the device with `token`; expects them stored.
async fn post(db: &Db, token: &str, readings: Vec<Value>) {
    let request = Request::post("/api/v1/readings")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(json!({ "readings": readings }).to_string()))
        .unwrap();
    let response = hearth::app(common::state(db)).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
}

/// One reading a minute of `key` from `from` minutes ago to `to` minutes ago, all `value`.
fn minutely(key: &str, kind: &str, from: i64, to: i64, value: f64, now: i64) -> Vec<Value> {
    (to..=from).rev().map(|ago| json!({"sensor": key, "kind": kind, "value": value, "at": (now - ago * MIN) as f64 / 1000.0})).collect()
}

async fn sensor_id(db: &Db, device: &str, key: &str) -> i64 {
    let all = hearth_store::sensor::list_all(db).await.unwrap();
    all.iter().find(|l| l.sensor.device == device && l.sensor.key == key).expect("sensor stored").sensor.sensor_id
}

fn freezer_rule(sensor_id: i64) -> NewRule {
    NewRule {
        kind: RuleKind::Above,
        sensor_id: Some(sensor_id),
        device_id: None,
        threshold: Some(-12.0),
        margin: Some(1.0),
        minutes: Some(10),
        factor: None,
    }
}

async fn readings_open_an_alert_once_and_resolve_it_once(t: TestDb) {
    let now = now_ms();
    let token = common::device_token(&t.db, "kitchen").await;
    post(&t.db, &token, minutely("freezer.temp", "temperature", 60, 51, -18.0, now)).await;
    let freezer = sensor_id(&t.db, "kitchen", "freezer.temp").await;
    insert_rule(&t.db, &freezer_rule(freezer)).await.unwrap();
    assert!(evaluate(&t.db, &utc(), now).await.unwrap().is_empty());

    // Above −12 °C from 50 to 30 minutes ago, then around −12 (inside the margin).
    post(&t.db, &token, minutely("freezer.temp", "temperature", 50, 30, -10.0, now)).await;
    let mut wandering = minutely("freezer.temp", "temperature", 29, 20, -12.5, now);
    for (i, reading) in wandering.iter_mut().enumerate() {
        if i % 2 == 1 {
            reading["value"] = json!(-11.5);
        }
    }
    post(&t.db, &token, wandering).await;
    let opened = evaluate(&t.db, &utc(), now).await.unwrap();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0].state, AlertState::Opened);
    assert_eq!(opened[0].alert.opened_at_ms, now - 40 * MIN, "opened when the breach had lasted 10 minutes of reading time");
    assert_eq!(opened[0].alert.value, -10.0);
    assert_eq!(opened[0].alert.message, "Freezer temperature above −12 °C for 10 min: −10 °C");
    assert!(evaluate(&t.db, &utc(), now).await.unwrap().is_empty(), "opened once");
    assert_eq!(open(&t.db).await.unwrap().len(), 1);

    // Back below −13 °C for the last 19 minutes: resolved once, after 10 of them.
    post(&t.db, &token, minutely("freezer.temp", "temperature", 19, 0, -14.0, now)).await;
    let resolved = evaluate(&t.db, &utc(), now).await.unwrap();
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    assert_eq!(resolved[0].state, AlertState::Resolved);
    assert_eq!(resolved[0].alert.resolved_at_ms, Some(now - 9 * MIN));
    assert_eq!(resolved[0].alert.alert_id, opened[0].alert.alert_id);
    assert!(evaluate(&t.db, &utc(), now + MIN).await.unwrap().is_empty(), "resolved once");
    assert!(open(&t.db).await.unwrap().is_empty());
    let past = history(&t.db, 10).await.unwrap();
    assert_eq!(past.len(), 1);
    assert_eq!((past[0].opened_at_ms, past[0].resolved_at_ms, past[0].resolved_value), (now - 40 * MIN, Some(now - 9 * MIN), Some(-14.0)));
}

async fn a_silent_device_goes_offline_past_its_own_interval_and_comes_back(t: TestDb) {
    let now = now_ms();
    let token = common::device_token(&t.db, "porch").await;
    post(&t.db, &token, minutely("porch.temp", "temperature", 30, 10, 4.0, now)).await;
    let porch = hearth_store::device::list(&t.db).await.unwrap()[0].device_id;
    let rule = NewRule { kind: RuleKind::Offline, sensor_id: None, device_id: Some(porch), threshold: None, margin: None, minutes: None, factor: Some(3.0) };
    insert_rule(&t.db, &rule).await.unwrap();

    let opened = evaluate(&t.db, &utc(), now).await.unwrap();
    assert_eq!(opened.len(), 1, "silent 10 min, usually every minute: {opened:?}");
    assert_eq!(opened[0].alert.opened_at_ms, now - 7 * MIN, "overdue 3 intervals after the last reading");
    assert_eq!(opened[0].alert.message, "porch: no reading for 10 min");

    // What the Alerts page shows for the rule: last seen and the learned interval.
    let cookie = common::owner_cookie(&t.db).await;
    let request = Request::post("/api/load_alerts")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let response = hearth::app(common::state(&t.db)).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(page["rules"][0]["last_seen_ms"], json!(now - 10 * MIN));
    assert_eq!(page["rules"][0]["interval_ms"], json!(MIN));
    assert_eq!(page["open"][0]["message"], "porch: no reading for 10 min");

    post(&t.db, &token, vec![json!({"sensor": "porch.temp", "value": 4.5, "at": (now - MIN) as f64 / 1000.0})]).await;
    assert!(evaluate(&t.db, &utc(), now).await.unwrap().is_empty(), "one reading does not bring it back");
    post(&t.db, &token, vec![json!({"sensor": "porch.temp", "value": 4.5, "at": now as f64 / 1000.0})]).await;
    let back = evaluate(&t.db, &utc(), now).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!((back[0].state, back[0].alert.resolved_at_ms), (AlertState::Resolved, Some(now)));
    assert!(evaluate(&t.db, &utc(), now + MIN).await.unwrap().is_empty());
}

async fn a_deleted_rule_resolves_its_alert_and_keeps_its_history(t: TestDb) {
    let now = now_ms();
    let token = common::device_token(&t.db, "kitchen").await;
    post(&t.db, &token, minutely("freezer.temp", "temperature", 20, 0, -5.0, now)).await;
    let rule = insert_rule(&t.db, &freezer_rule(sensor_id(&t.db, "kitchen", "freezer.temp").await)).await.unwrap();
    assert_eq!(evaluate(&t.db, &utc(), now).await.unwrap().len(), 1);
    assert!(hearth_store::alert::delete_rule(&t.db, rule).await.unwrap());
    let resolved = evaluate(&t.db, &utc(), now).await.unwrap();
    assert_eq!((resolved.len(), resolved[0].state), (1, AlertState::Resolved));
    assert!(hearth_store::alert::rules(&t.db).await.unwrap().is_empty());
    assert_eq!(history(&t.db, 10).await.unwrap()[0].rule.rule_id, rule);
    assert!(evaluate(&t.db, &utc(), now).await.unwrap().is_empty());
}

async fn rules_are_checked_and_only_the_owner_adds_them(t: TestDb) {
    let token = common::device_token(&t.db, "kitchen").await;
    post(&t.db, &token, minutely("freezer.temp", "temperature", 1, 0, -18.0, now_ms())).await;
    let freezer = sensor_id(&t.db, "kitchen", "freezer.temp").await.to_string();
    let owner = common::owner_cookie(&t.db).await;
    let add = |cookie: String, fields: Vec<(&'static str, String)>| {
        let body = fields.iter().map(|(k, v)| format!("rule%5B{k}%5D={v}")).collect::<Vec<_>>().join("&");
        let request = Request::post("/api/owner/add_alert_rule")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
            .unwrap();
        let db = t.db.clone();
        async move {
            let response = hearth::app(common::state(&db)).oneshot(request).await.unwrap();
            let status = response.status();
            (status, String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned())
        }
    };
    let fields = |kind: &str, threshold: &str| {
        vec![("kind", kind.to_owned()), ("sensor_id", freezer.clone()), ("threshold", threshold.to_owned()), ("minutes", "10".to_owned())]
    };
    let (status, body) = add(owner.clone(), fields("above", "hot")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("threshold"), "{body}");
    let (status, body) = add(owner.clone(), fields("leak_flow", "")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("sensor_id"), "{body}");
    let share = hearth_store::account::insert_share_link(&t.db, "Kitchen screen").await.unwrap().0;
    let screen = common::session_cookie(&t.db, hearth_store::account::Holder::ShareLink(share.share_link_id)).await;
    assert_eq!(add(screen, fields("above", "-12")).await.0, StatusCode::FORBIDDEN);
    assert!(hearth_store::alert::rules(&t.db).await.unwrap().is_empty(), "nothing refused was stored");
    let (status, body) = add(owner, fields("above", "-12")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rules = hearth_store::alert::rules(&t.db).await.unwrap();
    assert_eq!(rules[0].describe(), "Freezer temperature above −12 °C for 10 min");
    assert_eq!(rules[0].margin, Some(0.5), "the default margin");
}

async fn water_used_at_night_over_the_baseline_opens_and_a_clean_night_resolves(t: TestDb) {
    const HOUR: i64 = 60 * MIN;
    let now = now_ms();
    let today = now - now.rem_euclid(24 * HOUR);
    let (first, second) = (today - 48 * HOUR, today - 24 * HOUR);
    let at = |ms: i64| hearth_core::time::house::rfc3339(ms);
    let token = common::device_token(&t.db, "house").await;
    // The first night (UTC 00:00–05:00): a litre every 10 minutes.
    let leaking: Vec<Value> = (0..=30).map(|i| json!({"sensor": "house.water", "kind": "water", "value": 1000 + i, "at": at(first + i * 10 * MIN)})).collect();
    post(&t.db, &token, leaking).await;
    let meter = sensor_id(&t.db, "house", "house.water").await;
    let rule = NewRule { kind: RuleKind::LeakNight, sensor_id: Some(meter), device_id: None, threshold: Some(10.0), margin: None, minutes: None, factor: None };
    insert_rule(&t.db, &rule).await.unwrap();
    let opened = evaluate(&t.db, &utc(), now).await.unwrap();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!((opened[0].alert.opened_at_ms, opened[0].alert.value), (first + 110 * MIN, 11.0));
    assert_eq!(opened[0].alert.message, "House water: 11 L used tonight, over the 10 L baseline");

    // 100 L by day, then a night with 1.25 L: resolved at that night's end.
    let mut clean = vec![json!({"sensor": "house.water", "value": 1130, "at": at(second - 12 * HOUR)})];
    clean.extend((0..6).map(|i| json!({"sensor": "house.water", "value": 1130.0 + 0.25 * i as f64, "at": at(second + i * HOUR)})));
    post(&t.db, &token, clean).await;
    let resolved = evaluate(&t.db, &utc(), now).await.unwrap();
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    assert_eq!(resolved[0].state, AlertState::Resolved);
    assert_eq!((resolved[0].alert.resolved_at_ms, resolved[0].alert.resolved_value), (Some(second + 5 * HOUR), Some(1.25)));
    assert!(evaluate(&t.db, &utc(), now).await.unwrap().is_empty());
}

/// A webhook receiver on a free port that answers 500 to its first request and 200 after;
/// returns its URL and every body it received.
async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::<Value>::new()));
    let bodies = received.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let bodies = bodies.clone();
            async move {
                let mut bodies = bodies.lock().unwrap();
                bodies.push(body);
                if bodies.len() == 1 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::NO_CONTENT }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, received)
}

async fn an_alert_reaches_the_live_stream_and_the_webhook_after_a_retry(t: TestDb) {
    let (hook, received) = webhook().await;
    let config = Config { alert_interval_seconds: 1, alert_webhook_url: Some(DatabaseUrl(hook)), ..Config::default() };
    let (base, stop, server) = common::serve(&t.db, config).await;
    let client = common::owner_client(&t.db).await;
    let token = common::device_token(&t.db, "kitchen").await;
    let posted = |readings: Vec<Value>| client.post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&json!({ "readings": readings })).send();
    let now = now_ms();
    assert_eq!(posted(minutely("freezer.temp", "temperature", 30, 16, -18.0, now)).await.unwrap().status(), 200);
    let freezer = sensor_id(&t.db, "kitchen", "freezer.temp").await;
    let form = [("rule[kind]", "above".to_owned()), ("rule[sensor_id]", freezer.to_string()), ("rule[threshold]", "-12".into()), ("rule[minutes]", "10".into())];
    let added = client.post(format!("{base}/api/owner/add_alert_rule")).form(&form).send().await.unwrap();
    assert_eq!(added.status(), 200, "{}", added.text().await.unwrap());

    let mut events = client.get(format!("{base}/api/v1/stream")).send().await.unwrap().bytes_stream().eventsource();
    assert_eq!(posted(minutely("freezer.temp", "temperature", 15, 0, -9.0, now)).await.unwrap().status(), 200);
    let alert = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let event = events.next().await.expect("the stream is open").expect("a well-formed event");
            if event.event == "alert" {
                return serde_json::from_str::<Value>(&event.data).unwrap();
            }
        }
    })
    .await
    .expect("an alert event within 10 s");
    assert_eq!(alert["state"], "opened");
    assert_eq!(alert["alert"]["opened_at_ms"], json!(now - 5 * MIN));
    assert_eq!(alert["alert"]["rule"]["sensor"], "freezer.temp");

    let delivered = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if received.lock().unwrap().len() >= 2 {
                return received.lock().unwrap().clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the webhook receives the alert again after refusing it");
    assert_eq!(delivered[0], delivered[1], "the retry sends the same alert");
    let at = hearth_core::time::house::rfc3339(now - 5 * MIN);
    assert_eq!(delivered[1]["state"], "opened");
    assert_eq!(delivered[1]["at"], json!(at));
    assert_eq!(delivered[1]["value"], json!(-9.0));
    assert_eq!(delivered[1]["device"], "kitchen");
    assert_eq!(delivered[1]["sensor"], "freezer.temp");
    assert_eq!(delivered[1]["rule"], "Freezer temperature above −12 °C for 10 min");
    assert_eq!(delivered[1]["message"], "Freezer temperature above −12 °C for 10 min: −9 °C");
    assert_eq!(open(&t.db).await.unwrap().len(), 1);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), server).await.expect("the server stops").unwrap().unwrap();
    assert_eq!(received.lock().unwrap().len(), 2, "delivered once, after one retry");
}

async fn two_evaluators_on_one_database_open_each_alert_once(t: TestDb) {
    let other = Db::connect(&t.url).await.unwrap();
    let now = now_ms();
    let token = common::device_token(&t.db, "cellar").await;
    let mut readings = Vec::new();
    for i in 0..8 {
        readings.extend(minutely(&format!("freezer{i}.temp"), "temperature", 20, 0, -5.0, now));
    }
    post(&t.db, &token, readings).await;
    for i in 0..8 {
        insert_rule(&t.db, &freezer_rule(sensor_id(&t.db, "cellar", &format!("freezer{i}.temp")).await)).await.unwrap();
    }
    let zone = utc();
    let (a, b) = tokio::join!(evaluate(&t.db, &zone, now), evaluate(&other, &zone, now));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 8, "each alert announced by one evaluator: {} + {}", a.len(), b.len());
    let open = open(&t.db).await.unwrap();
    assert_eq!(open.len(), 8);
    let mut rules: Vec<i64> = open.iter().map(|a| a.rule.rule_id).collect();
    rules.sort_unstable();
    rules.dedup();
    assert_eq!(rules.len(), 8, "one open alert per rule");
    let (a, b) = tokio::join!(evaluate(&t.db, &zone, now), evaluate(&other, &zone, now));
    assert!(a.unwrap().is_empty() && b.unwrap().is_empty());
    other.close().await;
}

on_both_databases!(
    readings_open_an_alert_once_and_resolve_it_once,
    a_silent_device_goes_offline_past_its_own_interval_and_comes_back,
    a_deleted_rule_resolves_its_alert_and_keeps_its_history,
    water_used_at_night_over_the_baseline_opens_and_a_clean_night_resolves,
    rules_are_checked_and_only_the_owner_adds_them,
    an_alert_reaches_the_live_stream_and_the_webhook_after_a_retry,
    two_evaluators_on_one_database_open_each_alert_once,
);
