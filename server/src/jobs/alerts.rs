//! The alert evaluator: a background task that judges every rule every few seconds
//! (`HEARTH_ALERT_INTERVAL_SECONDS`) from where it stopped the time before, by the readings'
//! own times, and records what opened and resolved.
//!
//! Each rule's [`Progress`] (how far it has judged, and the run of readings under way) is kept
//! in the database and moved in the transaction that records the alerts it decided, so a
//! backlog posted at once, however long, is judged whole and in order, batch by batch, and a
//! restarted server goes on where it stopped. Readings stored behind a rule's progress (a
//! device sending its queue after newer readings arrived) are heard on the store's bus and
//! judged again from a little before them, though never before the rule's last change.
//!
//! The store announces each change on its bus (and so on the live stream, `event: alert`);
//! the evaluator hands the changes it recorded to the [`Outbox`] (webhook, email, ntfy).
//! Servers sharing a PostgreSQL database all judge; the progress's version lets one of them
//! record each judging, and only that one announces and sends it.

use crate::jobs::outbox::Outbox;
use hearth_core::alert::judge::{judge_night, judge_threshold};
use hearth_core::alert::offline::{judge_offline, learned_interval, report_window};
use hearth_core::alert::{Alert, AlertEvent, AlertState, NIGHT_MS, Progress, Rule, RuleKind, Verdict};
use hearth_core::time::HOUR_MS;
use hearth_core::time::house::HouseZone;
use hearth_store::alert as store;
use hearth_store::{Db, Error, Event};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Readings judged per query: a backlog is judged in batches of this many, in order.
pub const BATCH: i64 = 5_000;
/// Readings a night rule reads at most at once: a whole night's must fit.
const NIGHT_BATCH: i64 = 100_000;
/// How far before its newest reading a new sensor rule starts, beyond twice its duration.
const EXTRA_SPAN_MS: i64 = HOUR_MS;
/// How far before its newest reading a new night rule starts: the last two nights.
const NIGHT_SPAN_MS: i64 = 48 * HOUR_MS;

/// The earliest reading time stored for each sensor since the evaluator last looked, as
/// heard on the store's bus: where readings may have landed behind a rule's progress.
#[derive(Clone, Debug, Default)]
pub struct Heard(Arc<Mutex<HashMap<i64, i64>>>);

impl Heard {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, i64>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes the readings of `event`.
    pub fn note(&self, event: &Event) {
        let Event::Readings(readings) = event else { return };
        let mut heard = self.lock();
        for reading in readings.iter() {
            heard.entry(reading.sensor.sensor_id).and_modify(|t| *t = (*t).min(reading.at_ms)).or_insert(reading.at_ms);
        }
    }

    /// What was heard since the last call, forgetting it.
    pub fn take(&self) -> HashMap<i64, i64> {
        std::mem::take(&mut *self.lock())
    }

    /// How many sensors have readings noted and not yet looked at.
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    /// Keeps `at_ms` of `sensor_id` for the next evaluation (its rule was not judged).
    fn keep(&self, sensor_id: i64, at_ms: i64) {
        self.lock().entry(sensor_id).and_modify(|t| *t = (*t).min(at_ms)).or_insert(at_ms);
    }
}

/// Judges every rule at `now_ms` from its progress and records the transitions; returns those
/// this server recorded (another server's are not).
pub async fn evaluate(db: &Db, zone: &HouseZone, now_ms: i64) -> Result<Vec<AlertEvent>, Error> {
    evaluate_heard(db, zone, now_ms, &Heard::default()).await
}

/// [`evaluate`], judging again from a little before the readings `heard` says were stored
/// behind a rule's progress. A rule whose judging fails is logged and tried again next time.
pub async fn evaluate_heard(db: &Db, zone: &HouseZone, now_ms: i64, heard: &Heard) -> Result<Vec<AlertEvent>, Error> {
    let rules = store::rules(db).await?;
    let open = store::open(db).await?;
    let progress = store::progress(db).await?;
    // Taken after the progress is read: a reading stored since is compared with it next time.
    let late = heard.take();
    let mut events = Vec::new();
    for alert in open.iter().filter(|a| a.rule.deleted_at_ms.is_some()) {
        events.extend(store::resolve_alert(db, alert, now_ms.max(alert.opened_at_ms), alert.value).await?);
    }
    for rule in &rules {
        let current = open.iter().find(|a| a.rule.rule_id == rule.rule_id).cloned();
        let late_ms = rule.sensor_id.and_then(|s| late.get(&s).copied());
        match judge(db, zone, rule, current, progress.get(&rule.rule_id).copied(), late_ms, now_ms).await {
            Ok(recorded) => events.extend(recorded),
            Err(e) => {
                if let (Some(sensor_id), Some(at_ms)) = (rule.sensor_id, late_ms) {
                    heard.keep(sensor_id, at_ms);
                }
                tracing::warn!(rule = rule.rule_id, error = %e, "alert rule not judged; trying again later");
            }
        }
    }
    Ok(events)
}

/// Where a rule never judged starts: a little before its sensor's (or device's) newest reading,
/// and never before its last change.
async fn start(db: &Db, rule: &Rule) -> Result<Progress, Error> {
    let floor = store::last_change(db, rule.rule_id).await?.unwrap_or(i64::MIN);
    let (newest, span) = match (rule.kind, rule.sensor_id) {
        (RuleKind::Offline, _) => (store::device_last(db, rule.device_id).await?, 0),
        (RuleKind::LeakNight, Some(sensor_id)) => (store::last_reading(db, sensor_id).await?, NIGHT_SPAN_MS),
        (_, Some(sensor_id)) => (store::last_reading(db, sensor_id).await?, lookback(rule)),
        (_, None) => (None, 0),
    };
    let judged_to_ms = newest.unwrap_or(rule.created_at_ms).saturating_sub(span).max(floor);
    Ok(Progress { judged_to_ms, since_ms: None, version: 0 })
}

/// How far before a late reading a sensor rule is judged again: twice its duration and an hour.
fn lookback(rule: &Rule) -> i64 {
    2 * rule.minutes.unwrap_or(0).max(0) * hearth_core::time::MINUTE_MS + EXTRA_SPAN_MS
}

/// Judges `rule` (whose alert `open` is open, if one is) from `stored` progress on, batch by
/// batch, recording each; `late_ms` is the earliest reading of its sensor stored since the last
/// evaluation. Stops when another server recorded a batch first.
async fn judge(db: &Db, zone: &HouseZone, rule: &Rule, mut open: Option<Alert>, stored: Option<Progress>, late_ms: Option<i64>, now_ms: i64) -> Result<Vec<AlertEvent>, Error> {
    let mut from = match stored {
        Some(progress) => progress,
        None => start(db, rule).await?,
    };
    if let Some(late_ms) = late_ms
        && late_ms <= from.judged_to_ms
        && rule.kind != RuleKind::Offline
    {
        let span = if rule.kind == RuleKind::LeakNight { NIGHT_MS } else { lookback(rule) };
        let floor = store::last_change(db, rule.rule_id).await?.unwrap_or(i64::MIN);
        let back = late_ms.saturating_sub(span).max(floor);
        if back < from.judged_to_ms {
            tracing::debug!(rule = rule.rule_id, from = back, "readings stored behind the rule's progress: judging again from before them");
            from = Progress { judged_to_ms: back, since_ms: None, ..from };
        }
    }
    let mut events = Vec::new();
    loop {
        let Some((verdicts, to, more)) = step(db, zone, rule, open.as_ref(), &from, now_ms).await? else { break };
        let moved = to.judged_to_ms != from.judged_to_ms || to.since_ms != from.since_ms;
        if verdicts.is_empty() && !moved && from.version > 0 {
            break;
        }
        let Some(recorded) = store::record(db, rule, open.as_ref(), &from, &to, &verdicts).await? else { break };
        for event in &recorded {
            open = (event.state == AlertState::Opened).then(|| event.alert.clone());
        }
        events.extend(recorded);
        from = Progress { version: from.version + 1, ..to };
        if !(more && moved) {
            break;
        }
    }
    Ok(events)
}

/// One batch of `rule` from `from`: the verdicts, the progress after them, and whether more
/// readings wait. `None` when the rule cannot be judged (yet).
async fn step(db: &Db, zone: &HouseZone, rule: &Rule, open: Option<&Alert>, from: &Progress, now_ms: i64) -> Result<Option<(Vec<Verdict>, Progress, bool)>, Error> {
    let opened_at = open.map(|a| a.opened_at_ms);
    let progress = |judged_to_ms: i64, since_ms: Option<i64>| Progress { judged_to_ms, since_ms, version: from.version };
    match (rule.kind, rule.sensor_id) {
        (RuleKind::Offline, _) => {
            if open.is_none() && store::revoked(db, rule.device_id).await? {
                return Ok(None);
            }
            let sensors = store::device_times(db, rule.device_id).await?;
            let (Some(window), Some(interval)) = (report_window(&sensors), learned_interval(&sensors)) else { return Ok(None) };
            let times = store::device_times_from(db, rule.device_id, from.judged_to_ms, BATCH).await?;
            let more = times.len() as i64 == BATCH;
            // Within a backlog, only the silences between its reports count: the one after
            // its last report is judged once the backlog is all read.
            let until = if more { times.last().copied().unwrap_or(now_ms) } else { now_ms };
            let judged = judge_offline(&times, window, interval, rule.factor.unwrap_or(3.0), opened_at, until);
            Ok(Some((judged.verdicts, progress(judged.resume_ms.unwrap_or(from.judged_to_ms), None), more)))
        }
        (RuleKind::LeakNight, Some(sensor_id)) => {
            // The night the progress is in is judged whole again: its litres add up from its start.
            let night = zone.day_of(from.judged_to_ms).start_ms;
            let after = if from.judged_to_ms < night + NIGHT_MS { night - 1 } else { from.judged_to_ms };
            let readings = store::readings_after(db, sensor_id, after, NIGHT_BATCH).await?;
            let more = readings.len() as i64 == NIGHT_BATCH;
            let (Some(&(first, _)), Some(&(last, _))) = (readings.first(), readings.last()) else {
                return Ok(Some((Vec::new(), *from, false)));
            };
            let nights: Vec<(i64, i64)> = zone.days(first - NIGHT_MS, last.max(now_ms)).iter().map(|d| (d.start_ms, d.start_ms + NIGHT_MS)).collect();
            let verdicts = judge_night(&readings, &nights, rule.threshold.unwrap_or(0.0), opened_at, if more { last } else { now_ms });
            Ok(Some((verdicts, progress(last.max(from.judged_to_ms), None), more)))
        }
        (_, Some(sensor_id)) => {
            let Some(condition) = rule.threshold() else { return Ok(None) };
            let readings = store::readings_after(db, sensor_id, from.judged_to_ms, BATCH).await?;
            let more = readings.len() as i64 == BATCH;
            let (verdicts, since) = judge_threshold(&condition, open.is_some(), from.since_ms, &readings);
            let judged_to = readings.last().map_or(from.judged_to_ms, |r| r.0);
            Ok(Some((verdicts, progress(judged_to, since), more)))
        }
        (_, None) => Ok(None),
    }
}

/// Evaluates every `every`, forever, handing what this server recorded to `outbox` (the
/// store has announced it on the bus already). Listens to the bus for readings stored
/// behind a rule's progress.
pub async fn run(db: Db, zone: HouseZone, outbox: Outbox, every: Duration) {
    let heard = Heard::default();
    let _listening = {
        let heard = heard.clone();
        match db.subscribe(move |event| heard.note(event)).await {
            Ok(subscription) => Some(subscription),
            Err(e) => {
                tracing::warn!(error = %e, "alert evaluator not listening for late readings; they are judged only after the rules' progress");
                None
            }
        }
    };
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let events = match evaluate_heard(&db, &zone, hearth_core::time::now_ms(), &heard).await {
            Ok(events) => {
                metrics::counter!("hearth_alert_evaluations_total", "result" => "done").increment(1);
                events
            }
            Err(e) => {
                metrics::counter!("hearth_alert_evaluations_total", "result" => "failed").increment(1);
                tracing::warn!(error = %e, "alert evaluation failed; trying again later");
                continue;
            }
        };
        for event in events {
            metrics::counter!("hearth_alert_changes_total", "state" => format!("{:?}", event.state).to_lowercase()).increment(1);
            tracing::info!(state = ?event.state, alert = event.alert.alert_id, message = event.alert.message, "alert");
            outbox.send(&event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_core::reading::Stored;
    use hearth_core::sensor::{Kind, Sensor};

    fn sensor(sensor_id: i64) -> Arc<Sensor> {
        Arc::new(Sensor {
            sensor_id,
            device: "d".into(),
            key: "s".into(),
            kind: Kind::Power,
            room: None,
            name: None,
            main: false,
            role: None,
        })
    }

    #[test]
    fn the_earliest_reading_of_each_sensor_is_heard() {
        let heard = Heard::default();
        let (one, two) = (sensor(1), sensor(2));
        let at = |sensor: &Arc<Sensor>, at_ms| Stored { sensor: sensor.clone(), at_ms, value: 1.0 };
        heard.note(&Event::Readings([at(&one, 5_000), at(&one, 4_500), at(&two, 60_000), at(&one, 4_000), at(&one, 4_250)].into()));
        heard.note(&Event::Readings([at(&two, 120_000), at(&one, 4_100)].into()));
        assert_eq!(heard.take(), HashMap::from([(1, 4_000), (2, 60_000)]));
    }
}
