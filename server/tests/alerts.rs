//! Alerts on SQLite and PostgreSQL: readings posted through `app(state)` open an alert once
//! and resolve it once; a silent device goes offline past its own interval (learned from its
//! reports, also when each sensor is a message of its own, as ESPHome sends them over the real
//! Mosquitto) and comes back; a backlog posted at once has every breach in it judged at its
//! own times, in order, also when it lands behind readings judged already; a rule added
//! through its server function opens an alert that reaches a real SSE client and a real
//! webhook that refuses the first attempt; two evaluators on one database open each alert
//! once.

mod alerting;
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
use alerting::{MIN, minutely, post, receiver, sensor_id};
use hearth::jobs::alerts::{Heard, evaluate, evaluate_heard};
use hearth::config::{Config, DatabaseUrl};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::time::Duration;
use tower::ServiceExt;

fn utc() -> HouseZone {
    HouseZone::named("UTC").unwrap()
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
        .header("sec-fetch-site", "same-origin")
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
            .header("sec-fetch-site", "same-origin")
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
    let token = common::device_token(&t.db, "house").await;
    post(&t.db, &token, vec![json!({"sensor": "house.water", "kind": "water", "value": 1, "at": now_ms() as f64 / 1000.0})]).await;
    let meter = sensor_id(&t.db, "house", "house.water").await.to_string();
    let night = vec![("kind", "leak_night".to_owned()), ("sensor_id", meter), ("threshold", "-3".to_owned())];
    let (status, body) = add(owner.clone(), night).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("\"field\":\"threshold\"") && body.contains("\"message\":\"threshold"), "a negative baseline names its field: {body}");
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

async fn an_alert_reaches_the_live_stream_and_the_webhook_after_a_retry(t: TestDb) {
    let (hook, received) = receiver(|n| if n == 1 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::NO_CONTENT }).await;
    let config = Config { alert_interval_seconds: 1, alert_webhook_url: Some(DatabaseUrl(format!("{hook}/hook"))), ..Config::default() };
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

    let delivered = alerting::bodies(&received, 2, Duration::from_secs(10)).await;
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
    // An hour ago, so that the backlog below is in the past too.
    let now = now_ms() - 60 * MIN;
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
    // A backlog that resolves and opens each again: recorded once, by one or the other.
    let mut backlog = Vec::new();
    for i in 0..8 {
        let key = format!("freezer{i}.temp");
        backlog.extend(minutely(&key, "temperature", -1, -20, -18.0, now));
        backlog.extend(minutely(&key, "temperature", -21, -40, -5.0, now));
    }
    post(&t.db, &token, backlog).await;
    let later = now + 41 * MIN;
    let (a, b) = tokio::join!(evaluate(&t.db, &zone, later), evaluate(&other, &zone, later));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 16, "each resolution and opening recorded by one evaluator: {} + {}", a.len(), b.len());
    assert_eq!(hearth_store::alert::open(&t.db).await.unwrap().len(), 8, "one open alert per rule");
    assert_eq!(history(&t.db, 100).await.unwrap().len(), 8);
    other.close().await;
}


fn offline_rule(device_id: i64) -> NewRule {
    NewRule { kind: RuleKind::Offline, sensor_id: None, device_id: Some(device_id), threshold: None, margin: None, minutes: None, factor: Some(3.0) }
}

/// A report as ESPHome makes one: each sensor its own message, stored 20 ms apart.
fn esphome_report(at: i64) -> Vec<Value> {
    vec![
        json!({"sensor": "kitchen_temperature", "kind": "temperature", "value": 21.5, "at": at as f64 / 1000.0}),
        json!({"sensor": "kitchen_humidity", "kind": "humidity", "value": 55.0, "at": (at + 20) as f64 / 1000.0}),
    ]
}

async fn a_device_reporting_sensor_by_sensor_is_offline_only_when_silent(t: TestDb) {
    let now = now_ms();
    let token = common::device_token(&t.db, "esp-kitchen").await;
    let start = now - 10 * MIN;
    post(&t.db, &token, esphome_report(start)).await;
    let device = hearth_store::device::list(&t.db).await.unwrap()[0].device_id;
    insert_rule(&t.db, &offline_rule(device)).await.unwrap();
    // A report every 10 s: judged 10 ms, 5 s and 9.9 s after each, nothing opens.
    for i in 1..20 {
        let at = start + i * 10_000;
        post(&t.db, &token, esphome_report(at)).await;
        for after in [30, 5_000, 9_990] {
            let events = evaluate(&t.db, &utc(), at + after).await.unwrap();
            assert!(events.is_empty(), "report {i}, {after} ms after: {events:?}");
        }
    }
    let sensors = hearth_store::alert::device_times(&t.db, device).await.unwrap();
    assert_eq!(hearth_core::alert::offline::learned_interval(&sensors), Some(10_000), "its usual interval is its reports'");
    // Silent: overdue 3 × 10 s after its last reading, once.
    let last = start + 19 * 10_000 + 20;
    assert!(evaluate(&t.db, &utc(), last + 29_000).await.unwrap().is_empty());
    let opened = evaluate(&t.db, &utc(), last + 30_500).await.unwrap();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!((opened[0].state, opened[0].alert.opened_at_ms), (AlertState::Opened, last + 30_000));
    assert!(evaluate(&t.db, &utc(), last + 90_000).await.unwrap().is_empty(), "one alert for one silence");
    // Back: resolved at its second report, not at the second message of its first.
    let back = last + 120_000;
    post(&t.db, &token, esphome_report(back)).await;
    assert!(evaluate(&t.db, &utc(), back + 1_000).await.unwrap().is_empty(), "one report does not bring it back");
    post(&t.db, &token, esphome_report(back + 10_000)).await;
    let resolved = evaluate(&t.db, &utc(), back + 11_000).await.unwrap();
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    assert_eq!((resolved[0].state, resolved[0].alert.resolved_at_ms), (AlertState::Resolved, Some(back + 10_000)));
    assert_eq!(resolved[0].alert.resolved_value, Some(2.0), "silent from its last reading to its first report back");
}

async fn a_backlog_posted_at_once_has_every_breach_judged_in_order(t: TestDb) {
    const HOUR: i64 = 60 * MIN;
    let (hook, received) = receiver(|_| StatusCode::NO_CONTENT).await;
    let config = Config { alert_interval_seconds: 1, alert_webhook_url: Some(DatabaseUrl(hook)), ..Config::default() };
    let (base, stop, server) = common::serve(&t.db, config).await;
    let client = reqwest::Client::new();
    let token = common::device_token(&t.db, "cellar").await;
    let posted = |readings: Vec<Value>| client.post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&json!({ "readings": readings })).send();
    let now = now_ms();
    // Reporting every minute until 16 hours ago, then cut off.
    let cut = now - 16 * HOUR;
    assert_eq!(posted(minutely("freezer.temp", "temperature", 30, 0, -18.0, cut)).await.unwrap().status(), 200);
    let freezer = sensor_id(&t.db, "cellar", "freezer.temp").await;
    let rule = insert_rule(&t.db, &freezer_rule(freezer)).await.unwrap();
    let judged = alerting::eventually(Duration::from_secs(10), || async {
        hearth_store::alert::progress(&t.db).await.unwrap().get(&rule).filter(|p| p.judged_to_ms == cut).copied()
    })
    .await;
    assert!(judged.is_some(), "the evaluator judged the readings before the cut");

    // Its queue, 16 hours every 10 s (5,760 readings, more than one batch), in one request:
    // 30 minutes at −5 °C three hours in, and an hour at −8 °C across the batches' border.
    let at = |i: i64| cut + (i + 1) * 10_000;
    let value = |i: i64| match i {
        1080..1260 => -5.0,
        4980..5340 => -8.0,
        _ => -18.0,
    };
    let queue: Vec<Value> = (0..5760).map(|i| json!({"sensor": "freezer.temp", "value": value(i), "at": at(i) as f64 / 1000.0})).collect();
    let response = posted(queue).await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    let delivered = alerting::bodies(&received, 4, Duration::from_secs(30)).await;
    let rfc = hearth_core::time::house::rfc3339;
    let seen: Vec<(String, String, f64)> =
        delivered.iter().map(|b| (b["state"].as_str().unwrap().to_owned(), b["at"].as_str().unwrap().to_owned(), b["value"].as_f64().unwrap())).collect();
    assert_eq!(
        seen,
        [
            ("opened".to_owned(), rfc(at(1140)), -5.0),
            ("resolved".to_owned(), rfc(at(1320)), -18.0),
            ("opened".to_owned(), rfc(at(5040)), -8.0),
            ("resolved".to_owned(), rfc(at(5400)), -18.0),
        ],
        "each breach at its own times, in order"
    );
    let past = history(&t.db, 10).await.unwrap();
    let times: Vec<(i64, Option<i64>)> = past.iter().rev().map(|a| (a.opened_at_ms, a.resolved_at_ms)).collect();
    assert_eq!(times, [(at(1140), Some(at(1320))), (at(5040), Some(at(5400)))]);
    assert!(open(&t.db).await.unwrap().is_empty());
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), server).await.expect("the server stops").unwrap().unwrap();
    assert_eq!(received.lock().unwrap().len(), 4, "each sent once");
}

async fn readings_stored_behind_the_progress_are_judged_where_they_belong(t: TestDb) {
    let heard = Heard::default();
    let _listening = {
        let heard = heard.clone();
        t.db.subscribe(move |event| heard.note(event)).await.unwrap()
    };
    let now = now_ms();
    let token = common::device_token(&t.db, "kitchen").await;
    post(&t.db, &token, minutely("freezer.temp", "temperature", 200, 180, -18.0, now)).await;
    insert_rule(&t.db, &freezer_rule(sensor_id(&t.db, "kitchen", "freezer.temp").await)).await.unwrap();
    assert!(evaluate_heard(&t.db, &utc(), now, &heard).await.unwrap().is_empty());
    // Back online, it posts what it reads now first: judged up to now.
    post(&t.db, &token, minutely("freezer.temp", "temperature", 10, 0, -18.0, now)).await;
    assert!(evaluate_heard(&t.db, &utc(), now, &heard).await.unwrap().is_empty());
    // Then its queue, behind that, with 30 minutes at −5 °C.
    let mut queue = minutely("freezer.temp", "temperature", 179, 121, -18.0, now);
    queue.extend(minutely("freezer.temp", "temperature", 120, 91, -5.0, now));
    queue.extend(minutely("freezer.temp", "temperature", 90, 11, -18.0, now));
    post(&t.db, &token, queue).await;
    assert!(evaluate(&t.db, &utc(), now).await.unwrap().is_empty(), "readings behind the progress are not read again unless heard");
    let noted = alerting::eventually(Duration::from_secs(10), || async { (heard.pending() > 0).then_some(()) }).await;
    assert!(noted.is_some(), "the bus told of the stored queue");
    let events = evaluate_heard(&t.db, &utc(), now, &heard).await.unwrap();
    let seen: Vec<(AlertState, i64)> =
        events.iter().map(|e| (e.state, if e.state == AlertState::Opened { e.alert.opened_at_ms } else { e.alert.resolved_at_ms.unwrap() })).collect();
    assert_eq!(seen, [(AlertState::Opened, now - 110 * MIN), (AlertState::Resolved, now - 80 * MIN)]);
    assert!(evaluate_heard(&t.db, &utc(), now, &heard).await.unwrap().is_empty(), "judged once");
}

/// ESPHome over the real Mosquitto: a device whose two sensors arrive 20 ms apart every 2 s
/// (each stored when it arrives) is judged offline once, about 3 × 2 s after it falls silent,
/// and nothing opens while it reports; two reports bring it back.
#[tokio::test]
async fn esphome_sensors_over_mqtt_open_one_alert_when_silent_and_none_before() {
    use rumqttc::{AsyncClient, MqttOptions, QoS};
    let t = common::sqlite().await;
    let prefix = format!("esp-{}-{}", std::process::id(), now_ms() % 1_000_000);
    let (device, _) = hearth_store::mqtt::create_with_prefix(&t.db, "esp-kitchen", &prefix).await.unwrap();
    insert_rule(&t.db, &offline_rule(device.device_id)).await.unwrap();
    let (hook, received) = receiver(|_| StatusCode::NO_CONTENT).await;
    let config = Config {
        mqtt_url: Some(DatabaseUrl("mqtt://127.0.0.1:1883".into())),
        mqtt_client_id: Some(format!("hearth-{prefix}")),
        mqtt_group: format!("group-{prefix}"),
        mqtt_session_seconds: 0,
        alert_interval_seconds: 1,
        alert_webhook_url: Some(DatabaseUrl(hook)),
        ..Config::default()
    };
    let state = common::state_with(&t.db, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    tokio::spawn(hearth::serve(listener, state.clone(), std::future::pending()));
    let connected = alerting::eventually(Duration::from_secs(20), || async { state.activity.broker_connected().then_some(()) }).await;
    assert!(connected.is_some(), "Hearth subscribed to Mosquitto at 127.0.0.1:1883 (is it running?)");

    let (client, mut link) = AsyncClient::new(MqttOptions::new(format!("pub-{prefix}"), "127.0.0.1", 1883), 64);
    tokio::spawn(async move { while link.poll().await.is_ok() {} });
    let report = |n: usize| {
        let (client, prefix) = (client.clone(), prefix.clone());
        async move {
            for i in 0..n {
                client.publish(format!("{prefix}/sensor/kitchen_temperature/state"), QoS::AtLeastOnce, false, "21.5").await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
                client.publish(format!("{prefix}/sensor/kitchen_humidity/state"), QoS::AtLeastOnce, false, "55").await.unwrap();
                if i + 1 < n {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    };
    // Eight reports, every 2 s, while the evaluator judges every second.
    report(8).await;
    let stored = alerting::eventually(Duration::from_secs(10), || async { (common::readings(&t.db).await.len() >= 16).then_some(()) }).await;
    assert!(stored.is_some(), "16 readings stored");
    assert!(received.lock().unwrap().is_empty(), "nothing opened while it reported: {:?}", received.lock().unwrap());
    let last = common::readings(&t.db).await.iter().map(|r| r.4).max().unwrap();

    let opened = alerting::bodies(&received, 1, Duration::from_secs(20)).await;
    assert_eq!(opened[0]["state"], "opened");
    let at = opened[0]["at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap().as_millisecond();
    assert!((last + 5_000..=last + 7_000).contains(&at), "overdue about 3 × 2 s after its last reading: {}", at - last);
    // Two reports bring it back; nothing else was sent in between.
    report(2).await;
    let sent = alerting::bodies(&received, 2, Duration::from_secs(20)).await;
    assert_eq!(sent.iter().map(|b| b["state"].as_str().unwrap()).collect::<Vec<_>>(), ["opened", "resolved"]);
    assert!(open(&t.db).await.unwrap().is_empty());
}

on_both_databases!(
    readings_open_an_alert_once_and_resolve_it_once,
    a_device_reporting_sensor_by_sensor_is_offline_only_when_silent,
    a_backlog_posted_at_once_has_every_breach_judged_in_order,
    readings_stored_behind_the_progress_are_judged_where_they_belong,
    a_silent_device_goes_offline_past_its_own_interval_and_comes_back,
    a_deleted_rule_resolves_its_alert_and_keeps_its_history,
    water_used_at_night_over_the_baseline_opens_and_a_clean_night_resolves,
    rules_are_checked_and_only_the_owner_adds_them,
    an_alert_reaches_the_live_stream_and_the_webhook_after_a_retry,
    two_evaluators_on_one_database_open_each_alert_once,
);
