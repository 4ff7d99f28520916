//! The alert evaluator: a background task that judges every rule every few seconds
//! (`HEARTH_ALERT_INTERVAL_SECONDS`) from the readings' own times and records what opened and
//! resolved. The store announces each change on its bus (and so on the live stream, `event:
//! alert`); the evaluator hands the changes it recorded to the webhook
//! (`HEARTH_ALERT_WEBHOOK_URL`). Servers sharing a PostgreSQL database all judge; the
//! database lets one of them open or resolve each alert, and only that one announces it.

use hearth_core::alert::judge::{judge_night, judge_offline, judge_threshold};
use hearth_core::alert::{Alert, AlertEvent, AlertState, NIGHT_MS, Rule, RuleKind, Verdict};
use hearth_core::time::HOUR_MS;
use hearth_core::time::house::HouseZone;
use hearth_store::alert as store;
use hearth_store::{Db, Error};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// The readings a sensor rule judges beyond twice its duration, so that a condition that
/// began before the last evaluation is still seen whole.
const EXTRA_SPAN_MS: i64 = HOUR_MS;
/// The readings a night rule judges: the last two nights.
const NIGHT_SPAN_MS: i64 = 48 * HOUR_MS;

/// Judges every rule at `now_ms` and records the transitions; returns those this server
/// recorded (another server's are not). A rule whose judging fails is logged and skipped.
pub async fn evaluate(db: &Db, zone: &HouseZone, now_ms: i64) -> Result<Vec<AlertEvent>, Error> {
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
async fn judge(db: &Db, zone: &HouseZone, rule: &Rule, open: Option<i64>, after: Option<i64>, now_ms: i64) -> Result<Vec<Verdict>, Error> {
    let cursor = open.or(after).unwrap_or(i64::MIN);
    match (rule.kind, rule.sensor_id) {
        (RuleKind::Offline, _) => {
            if open.is_none() && store::revoked(db, rule.device_id).await? {
                return Ok(Vec::new());
            }
            let times = store::device_times(db, rule.device_id).await?;
            Ok(judge_offline(&times, rule.factor.unwrap_or(3.0), open, after, now_ms))
        }
        (RuleKind::LeakNight, Some(sensor_id)) => {
            let readings = store::sensor_window(db, sensor_id, cursor, NIGHT_SPAN_MS).await?;
            let Some(&(first, _)) = readings.first() else { return Ok(Vec::new()) };
            let last = readings.last().map_or(now_ms, |r| r.0.max(now_ms));
            let nights: Vec<(i64, i64)> = zone.days(first - NIGHT_MS, last).iter().map(|d| (d.start_ms, d.start_ms + NIGHT_MS)).collect();
            Ok(judge_night(&readings, &nights, rule.threshold.unwrap_or(0.0), open, now_ms))
        }
        (_, Some(sensor_id)) => {
            let Some(condition) = rule.threshold() else { return Ok(Vec::new()) };
            let readings = store::sensor_window(db, sensor_id, cursor, 2 * condition.hold_ms + EXTRA_SPAN_MS).await?;
            Ok(judge_threshold(&condition, open.is_some(), &readings))
        }
        (_, None) => Ok(Vec::new()),
    }
}

/// Records `verdicts` in order, starting from the open alert `current`; stops at the first one
/// another server recorded first.
async fn record(db: &Db, rule: &Rule, mut current: Option<Alert>, verdicts: Vec<Verdict>, events: &mut Vec<AlertEvent>) -> Result<(), Error> {
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

/// Evaluates every `every`, forever, handing what this server recorded to the webhook (the
/// store has announced it on the bus already).
pub async fn run(db: Db, zone: HouseZone, webhook: Option<mpsc::Sender<AlertEvent>>, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let events = match evaluate(&db, &zone, hearth_core::time::now_ms()).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "alert evaluation failed; trying again later");
                continue;
            }
        };
        for event in events {
            tracing::info!(state = ?event.state, alert = event.alert.alert_id, message = event.alert.message, "alert");
            if let Some(webhook) = &webhook
                && webhook.try_send(event).is_err()
            {
                tracing::warn!("alert webhook queue full; alert not sent");
            }
        }
    }
}
