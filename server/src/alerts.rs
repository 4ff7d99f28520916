//! The alert evaluator: a background task that judges every rule every few seconds
//! (`HEARTH_ALERT_INTERVAL_SECONDS`) from the readings' own times, records what opened and
//! resolved, and announces it: on the live stream (`event: alert`) and to the webhook
//! (`HEARTH_ALERT_WEBHOOK_URL`). Servers sharing a PostgreSQL database all judge; the
//! database lets one of them open or resolve each alert, and only that one announces it.

use crate::broadcast::Hub;
use app::alert::ssr as store;
use app::alert::{Alert, AlertEvent, AlertState, NIGHT_MS, Rule, RuleKind, Verdict};
use app::store::Db;
use app::time::HOUR_MS;
use app::time::ssr::HouseZone;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The readings a sensor rule judges beyond twice its duration, so that a condition that
/// began before the last evaluation is still seen whole.
const EXTRA_SPAN_MS: i64 = HOUR_MS;
/// The readings a night rule judges: the last two nights.
const NIGHT_SPAN_MS: i64 = 48 * HOUR_MS;

/// Judges every rule at `now_ms` and records the transitions; returns those this server
/// recorded (another server's are not). A rule whose judging fails is logged and skipped.
pub async fn evaluate(db: &Db, zone: &HouseZone, now_ms: i64) -> Result<Vec<AlertEvent>, sqlx::Error> {
    let rules = store::rules(db).await?;
    let open = store::open(db).await?;
    let last_resolved: HashMap<i64, i64> = store::last_resolved(db).await?.into_iter().collect();
    let mut events = Vec::new();
    for alert in open.iter().filter(|a| a.rule.deleted_at_ms.is_some()) {
        events.extend(store::resolve_alert(db, alert, now_ms.max(alert.opened_at_ms), alert.value).await?);
    }
    for rule in &rules {
        let current = open.iter().find(|a| a.rule.rule_id == rule.rule_id).cloned();
        let after = last_resolved.get(&rule.rule_id).copied();
        let judged = match judge(db, zone, rule, current.as_ref().map(|a| a.opened_at_ms), after, now_ms).await {
            Ok(verdicts) => record(db, rule, current, verdicts, &mut events).await,
            Err(e) => Err(e),
        };
        if let Err(e) = judged {
            tracing::warn!(rule = rule.rule_id, error = %e, "alert rule not judged; trying again later");
        }
    }
    Ok(events)
}

/// The transitions of `rule`, whose alert opened at `open` if one is open, and whose last
/// alert resolved at `after`.
async fn judge(db: &Db, zone: &HouseZone, rule: &Rule, open: Option<i64>, after: Option<i64>, now_ms: i64) -> Result<Vec<Verdict>, sqlx::Error> {
    let cursor = open.or(after).unwrap_or(i64::MIN);
    match (rule.kind, rule.sensor_id) {
        (RuleKind::Offline, _) => {
            if open.is_none() && store::revoked(db, rule.device_id).await? {
                return Ok(Vec::new());
            }
            let times = store::device_times(db, rule.device_id).await?;
            Ok(app::alert::judge_offline(&times, rule.factor.unwrap_or(3.0), open, after, now_ms))
        }
        (RuleKind::LeakNight, Some(sensor_id)) => {
            let readings = store::sensor_window(db, sensor_id, cursor, NIGHT_SPAN_MS).await?;
            let Some(&(first, _)) = readings.first() else { return Ok(Vec::new()) };
            let last = readings.last().map_or(now_ms, |r| r.0.max(now_ms));
            let nights: Vec<(i64, i64)> = zone.days(first - NIGHT_MS, last).iter().map(|d| (d.start_ms, d.start_ms + NIGHT_MS)).collect();
            Ok(app::alert::judge_night(&readings, &nights, rule.threshold.unwrap_or(0.0), open, now_ms))
        }
        (_, Some(sensor_id)) => {
            let Some(condition) = rule.threshold() else { return Ok(Vec::new()) };
            let readings = store::sensor_window(db, sensor_id, cursor, 2 * condition.hold_ms + EXTRA_SPAN_MS).await?;
            Ok(app::alert::judge_threshold(&condition, open.is_some(), &readings))
        }
        (_, None) => Ok(Vec::new()),
    }
}

/// Records `verdicts` in order, starting from the open alert `current`; stops at the first one
/// another server recorded first.
async fn record(db: &Db, rule: &Rule, mut current: Option<Alert>, verdicts: Vec<Verdict>, events: &mut Vec<AlertEvent>) -> Result<(), sqlx::Error> {
    for verdict in verdicts {
        let event = match verdict {
            Verdict::Open { at_ms, value } => store::open_alert(db, rule, at_ms, value).await?,
            Verdict::Resolve { at_ms, value } => match current.take() {
                Some(alert) => store::resolve_alert(db, &alert, at_ms, value).await?,
                None => None,
            },
        };
        let Some(event) = event else { break };
        current = (event.state == AlertState::Opened).then(|| event.alert.clone());
        events.push(event);
    }
    Ok(())
}

/// What the webhook receives for `event`.
pub fn payload(event: &AlertEvent) -> Value {
    let alert = &event.alert;
    let (at, value) = match event.state {
        AlertState::Opened => (alert.opened_at_ms, alert.value),
        AlertState::Resolved => (alert.resolved_at_ms.unwrap_or(alert.opened_at_ms), alert.resolved_value.unwrap_or(alert.value)),
    };
    let rfc3339 = app::reading::ssr::rfc3339;
    json!({
        "alert_id": alert.alert_id,
        "rule": alert.rule.describe(),
        "rule_id": alert.rule.rule_id,
        "kind": alert.rule.kind,
        "device": alert.rule.device,
        "sensor": alert.rule.sensor,
        "state": event.state,
        "value": value,
        "at": rfc3339(at),
        "opened_at": rfc3339(alert.opened_at_ms),
        "resolved_at": alert.resolved_at_ms.map(rfc3339),
        "message": match event.state {
            AlertState::Opened => alert.message.clone(),
            AlertState::Resolved => format!("resolved: {}", alert.message),
        },
    })
}

/// How the webhook is called.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// Where alerts are POSTed.
    pub url: String,
    /// The pause before the first retry; each later one doubles it, up to a minute.
    pub first_retry: Duration,
    /// Attempts per alert before it is given up (and logged).
    pub attempts: u32,
}

impl Webhook {
    /// A webhook at `url` with the default retries: 6 attempts over about half a minute.
    pub fn new(url: impl Into<String>) -> Webhook {
        Webhook { url: url.into(), first_retry: Duration::from_secs(1), attempts: 6 }
    }

    /// Starts the sender: alerts sent to the returned queue are POSTed in order, each retried
    /// until the webhook answers 2xx or the attempts run out. Evaluation never waits for it;
    /// when the queue is full (the webhook down for long), alerts are dropped with a warning.
    pub fn spawn(self) -> (mpsc::Sender<AlertEvent>, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<AlertEvent>(1024);
        let task = tokio::spawn(async move {
            let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
                Ok(client) => client,
                Err(e) => {
                    tracing::error!(error = %e, "no HTTP client for the alert webhook");
                    return;
                }
            };
            while let Some(event) = rx.recv().await {
                self.deliver(&client, &payload(&event)).await;
            }
        });
        (tx, task)
    }

    /// POSTs `body`, retrying with growing pauses; whether the webhook took it.
    pub async fn deliver(&self, client: &reqwest::Client, body: &Value) -> bool {
        let mut pause = self.first_retry;
        for attempt in 1..=self.attempts.max(1) {
            match client.post(&self.url).json(body).send().await {
                Ok(response) if response.status().is_success() => return true,
                Ok(response) => tracing::warn!(attempt, status = %response.status(), "alert webhook refused the alert"),
                Err(e) => tracing::warn!(attempt, error = %e, "alert webhook unreachable"),
            }
            if attempt < self.attempts {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(60));
            }
        }
        tracing::error!(alert = %body["alert_id"], "alert webhook gave up after {} attempts", self.attempts);
        false
    }
}

/// Evaluates every `every`, forever, announcing what this server recorded: on SQLite it
/// publishes to `hub` itself; on PostgreSQL the recording notified every server, whose relay
/// ([`crate::broadcast::relay_alerts_postgres`]) publishes it.
pub async fn run(db: Db, zone: HouseZone, hub: Arc<Hub>, webhook: Option<mpsc::Sender<AlertEvent>>, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let events = match evaluate(&db, &zone, jiff::Timestamp::now().as_millisecond()).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "alert evaluation failed; trying again later");
                continue;
            }
        };
        for event in events {
            tracing::info!(state = ?event.state, alert = event.alert.alert_id, message = event.alert.message, "alert");
            if matches!(db, Db::Sqlite(_)) {
                publish(&hub, &event);
            }
            if let Some(webhook) = &webhook
                && webhook.try_send(event).is_err()
            {
                tracing::warn!("alert webhook queue full; alert not sent");
            }
        }
    }
}

/// Publishes an alert event on the live stream.
pub fn publish(hub: &Hub, event: &AlertEvent) {
    match serde_json::to_string(event) {
        Ok(json) => hub.publish_event("alert", json.into()),
        Err(e) => tracing::error!(error = %e, "alert not serialisable"),
    }
}
