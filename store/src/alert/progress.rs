//! Where the evaluator stands on each rule ([`Progress`]), the readings after it, and the one
//! transaction that records what a judging decided together with how far it got. Of several
//! servers that judged the same readings, only the one whose progress update finds the
//! version it read records anything: the others' transactions change nothing.

use crate::bus::{Announce, Event};
use crate::db::Db;
use crate::error::Error;
use crate::pool::{Backend, with_db};
use hearth_core::alert::judge::Verdict;
use hearth_core::alert::{Alert, AlertEvent, AlertState, Progress, Rule};
use std::collections::HashMap;

/// Every rule's progress, by rule id (rules never judged have none).
pub async fn progress(db: &Db) -> Result<HashMap<i64, Progress>, Error> {
    const SQL: &str = "select alert_rule_id, judged_to_ms, since_ms, version from alert_progress";
    let rows: Vec<(i64, i64, Option<i64>, i64)> = with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(rule, judged_to_ms, since_ms, version)| (rule, Progress { judged_to_ms, since_ms, version })).collect())
}

/// A sensor's readings after `after_ms`, oldest first, at most `limit`.
pub async fn readings_after(db: &Db, sensor_id: i64, after_ms: i64, limit: i64) -> Result<Vec<(i64, f64)>, Error> {
    const SQL: &str = "select at_ms, value from reading where sensor_id = $1 and at_ms > $2 order by at_ms limit $3";
    Ok(with_db!(db, read, |pool| sqlx::query_as(SQL).bind(sensor_id).bind(after_ms).bind(limit).fetch_all(pool).await)?)
}

/// The distinct reading times of a device's sensors from `from_ms` on, oldest first, at most
/// `limit`.
pub async fn device_times_from(db: &Db, device_id: i64, from_ms: i64, limit: i64) -> Result<Vec<i64>, Error> {
    const SQL: &str = "select distinct r.at_ms from reading r join sensor s on s.sensor_id = r.sensor_id \
         where s.device_id = $1 and r.at_ms >= $2 order by r.at_ms limit $3";
    Ok(with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(device_id).bind(from_ms).bind(limit).fetch_all(pool).await)?)
}

/// The time of the newest reading of any of a device's sensors.
pub async fn device_last(db: &Db, device_id: i64) -> Result<Option<i64>, Error> {
    const SQL: &str = "select max((select max(r.at_ms) from reading r where r.sensor_id = s.sensor_id)) \
         from sensor s where s.device_id = $1";
    Ok(with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(device_id).fetch_one(pool).await)?)
}

/// When `rule` last changed: its open alert's opening, or its latest alert's resolution.
/// Nothing before it may be judged again.
pub async fn last_change(db: &Db, rule_id: i64) -> Result<Option<i64>, Error> {
    const SQL: &str = "select max(coalesce(resolved_at_ms, opened_at_ms)) from alert where alert_rule_id = $1";
    Ok(with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(rule_id).fetch_one(pool).await)?)
}

/// Records `verdicts` of `rule` (in order, from its open alert `open`) and moves its progress
/// from `from` (as it was read) to `to`, in one transaction that also announces each change
/// on the bus. `None`, with nothing recorded, when another server moved the progress first.
pub async fn record(db: &Db, rule: &Rule, open: Option<&Alert>, from: &Progress, to: &Progress, verdicts: &[Verdict]) -> Result<Option<Vec<AlertEvent>>, Error> {
    const START: &str = "insert into alert_progress (alert_rule_id, judged_to_ms, since_ms, version) values ($1, $2, $3, 1) \
         on conflict do nothing";
    const MOVE: &str = "update alert_progress set judged_to_ms = $2, since_ms = $3, version = version + 1 \
         where alert_rule_id = $1 and version = $4";
    const OPEN: &str = "insert into alert (alert_rule_id, opened_at_ms, value, message) values ($1, $2, $3, $4) \
         on conflict do nothing returning alert_id";
    const RESOLVE: &str = "update alert set resolved_at_ms = $2, resolved_value = $3 where alert_id = $1 and resolved_at_ms is null";
    let events: Option<Vec<AlertEvent>> = with_db!(db, write, |pool| async {
        let mut tx = pool.begin().await?;
        let moved = if from.version == 0 {
            sqlx::query(START).bind(rule.rule_id).bind(to.judged_to_ms).bind(to.since_ms).execute(&mut *tx).await?
        } else {
            sqlx::query(MOVE).bind(rule.rule_id).bind(to.judged_to_ms).bind(to.since_ms).bind(from.version).execute(&mut *tx).await?
        };
        if moved.rows_affected() != 1 {
            return Ok::<_, Error>(None);
        }
        let mut current = open.cloned();
        let mut events = Vec::new();
        for verdict in verdicts {
            match *verdict {
                Verdict::Open { at_ms, value } => {
                    let message = rule.message(value);
                    let id: Option<i64> =
                        sqlx::query_scalar(OPEN).bind(rule.rule_id).bind(at_ms).bind(value).bind(&message).fetch_optional(&mut *tx).await?;
                    let Some(alert_id) = id else {
                        tracing::warn!(rule = rule.rule_id, at_ms, "an alert of this rule is open or opened then already; nothing recorded");
                        return Ok(None);
                    };
                    let alert = Alert { alert_id, rule: rule.clone(), opened_at_ms: at_ms, resolved_at_ms: None, value, resolved_value: None, message };
                    current = Some(alert.clone());
                    events.push(AlertEvent { state: AlertState::Opened, alert });
                }
                Verdict::Resolve { at_ms, value } => {
                    let Some(alert) = current.take() else { continue };
                    let done = sqlx::query(RESOLVE).bind(alert.alert_id).bind(at_ms).bind(value).execute(&mut *tx).await?;
                    if done.rows_affected() != 1 {
                        return Ok(None);
                    }
                    let alert = Alert { resolved_at_ms: Some(at_ms), resolved_value: Some(value), ..alert };
                    events.push(AlertEvent { state: AlertState::Resolved, alert });
                }
            }
        }
        for event in &events {
            Announce::announce(&mut *tx, &Event::Alert(event.clone())).await?;
        }
        tx.commit().await?;
        Ok(Some(events))
    }
    .await)?;
    if let (Some(events), Backend::Sqlite { .. }) = (&events, &db.backend) {
        for event in events {
            db.bus.deliver(&Event::Alert(event.clone()));
        }
    }
    Ok(events)
}
