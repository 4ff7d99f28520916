//! Rules and alerts in the database. Opening inserts into `alert`, whose partial unique
//! index allows one open alert per rule; the evaluator records what it decided together with
//! its progress ([`progress`]), so of several servers judging the same readings one records
//! and announces on the bus (and so to the live streams and the channels). Where alerts are
//! sent is [`channel`].

pub mod channel;
mod progress;

pub use progress::{device_last, device_times_from, last_change, progress, readings_after, record};

use crate::bus::{self, Event};
use crate::db::Db;
use crate::pool::{Backend, with_db};
use crate::error::Error;
use hearth_core::alert::{Alert, AlertEvent, AlertState, LEARN_READINGS, NewRule, Rule};
use hearth_core::sensor::Kind;
use hearth_core::time::now_ms;

const RULE_COLUMNS: &str = "r.alert_rule_id, r.kind, r.sensor_id, coalesce(r.device_id, s.device_id) as device_id, \
     d.name as device, s.key as sensor, s.name as sensor_name, s.kind as sensor_kind, r.threshold, r.margin, r.minutes, r.factor, \
     r.created_at_ms, r.deleted_at_ms";
/// Joins a rule `r` to its sensor and device.
const RULE_JOINS: &str = "left join sensor s on s.sensor_id = r.sensor_id \
     join device d on d.device_id = coalesce(r.device_id, s.device_id)";

#[derive(sqlx::FromRow)]
struct RuleRow {
    alert_rule_id: i64,
    kind: String,
    sensor_id: Option<i64>,
    device_id: i64,
    device: String,
    sensor: Option<String>,
    sensor_name: Option<String>,
    sensor_kind: Option<String>,
    threshold: Option<f64>,
    margin: Option<f64>,
    minutes: Option<i64>,
    factor: Option<f64>,
    created_at_ms: i64,
    deleted_at_ms: Option<i64>,
}

impl RuleRow {
    fn rule(self) -> Result<Rule, Error> {
        let decode = |e: String| Error::Database(sqlx::Error::Decode(e.into()));
        Ok(Rule {
            rule_id: self.alert_rule_id,
            kind: self.kind.parse().map_err(decode)?,
            sensor_id: self.sensor_id,
            device_id: self.device_id,
            device: self.device,
            sensor: self.sensor,
            sensor_name: self.sensor_name,
            sensor_kind: self.sensor_kind.map(|k| k.parse::<Kind>()).transpose().map_err(|e| decode(e.to_string()))?,
            threshold: self.threshold,
            margin: self.margin,
            minutes: self.minutes,
            factor: self.factor,
            created_at_ms: self.created_at_ms,
            deleted_at_ms: self.deleted_at_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    #[sqlx(flatten)]
    rule: RuleRow,
    alert_id: i64,
    opened_at_ms: i64,
    resolved_at_ms: Option<i64>,
    value: f64,
    resolved_value: Option<f64>,
    message: String,
}

impl AlertRow {
    fn alert(self) -> Result<Alert, Error> {
        Ok(Alert {
            alert_id: self.alert_id,
            rule: self.rule.rule()?,
            opened_at_ms: self.opened_at_ms,
            resolved_at_ms: self.resolved_at_ms,
            value: self.value,
            resolved_value: self.resolved_value,
            message: self.message,
        })
    }
}

/// Every rule not deleted, oldest first.
pub async fn rules(db: &Db) -> Result<Vec<Rule>, Error> {
    let sql = format!("select {RULE_COLUMNS} from alert_rule r {RULE_JOINS} where r.deleted_at_ms is null order by r.alert_rule_id");
    let rows: Vec<RuleRow> = with_db!(db, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await)?;
    rows.into_iter().map(RuleRow::rule).collect()
}

/// Adds a rule; returns its id.
pub async fn insert_rule(db: &Db, rule: &NewRule) -> Result<i64, Error> {
    const SQL: &str = "insert into alert_rule (kind, sensor_id, device_id, threshold, margin, minutes, factor, created_at_ms) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning alert_rule_id";
    Ok(with_db!(db, write, |pool| sqlx::query_scalar(SQL)
        .bind(rule.kind.as_str())
        .bind(rule.sensor_id)
        .bind(rule.device_id)
        .bind(rule.threshold)
        .bind(rule.margin)
        .bind(rule.minutes)
        .bind(rule.factor)
        .bind(now_ms())
        .fetch_one(pool)
        .await)?)
}

/// Marks a rule deleted; `false` if there is no such rule (or it was deleted already).
pub async fn delete_rule(db: &Db, rule_id: i64) -> Result<bool, Error> {
    const SQL: &str = "update alert_rule set deleted_at_ms = $2 where alert_rule_id = $1 and deleted_at_ms is null";
    Ok(with_db!(db, write, |pool| sqlx::query(SQL).bind(rule_id).bind(now_ms()).execute(pool).await?.rows_affected() > 0))
}

async fn alerts(db: &Db, filter: &str, limit: i64) -> Result<Vec<Alert>, Error> {
    let sql = format!(
        "select {RULE_COLUMNS}, a.alert_id, a.opened_at_ms, a.resolved_at_ms, a.value, a.resolved_value, a.message \
         from alert a join alert_rule r on r.alert_rule_id = a.alert_rule_id {RULE_JOINS} where {filter} \
         order by coalesce(a.resolved_at_ms, a.opened_at_ms) desc, a.alert_id desc limit $1"
    );
    let rows: Vec<AlertRow> = with_db!(db, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(pool).await)?;
    rows.into_iter().map(AlertRow::alert).collect()
}

/// The open alerts, newest first.
pub async fn open(db: &Db) -> Result<Vec<Alert>, Error> {
    alerts(db, "a.resolved_at_ms is null", 1000).await
}

/// The latest `limit` resolved alerts, newest first.
pub async fn history(db: &Db, limit: i64) -> Result<Vec<Alert>, Error> {
    alerts(db, "a.resolved_at_ms is not null", limit).await
}

/// The open alerts of deleted rules.
pub async fn orphaned(db: &Db) -> Result<Vec<Alert>, Error> {
    alerts(db, "a.resolved_at_ms is null and r.deleted_at_ms is not null", 1000).await
}

/// The time of a sensor's newest reading.
pub async fn last_reading(db: &Db, sensor_id: i64) -> Result<Option<i64>, Error> {
    const SQL: &str = "select max(at_ms) from reading where sensor_id = $1";
    Ok(with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(sensor_id).fetch_one(pool).await)?)
}

/// Each of a device's sensors' newest reading times (at most [`LEARN_READINGS`] each),
/// oldest first: what its usual interval is learned from.
pub async fn device_times(db: &Db, device_id: i64) -> Result<Vec<Vec<i64>>, Error> {
    const SENSORS: &str = "select sensor_id from sensor where device_id = $1";
    const TIMES: &str = "select at_ms from reading where sensor_id = $1 order by at_ms desc limit $2";
    let sensors: Vec<i64> = with_db!(db, read, |pool| sqlx::query_scalar(SENSORS).bind(device_id).fetch_all(pool).await)?;
    let mut all = Vec::with_capacity(sensors.len());
    for sensor_id in sensors {
        let limit = LEARN_READINGS as i64;
        let mut times: Vec<i64> = with_db!(db, read, |pool| sqlx::query_scalar(TIMES).bind(sensor_id).bind(limit).fetch_all(pool).await)?;
        times.reverse();
        all.push(times);
    }
    Ok(all)
}

/// Whether the device `device_id` has been revoked.
pub async fn revoked(db: &Db, device_id: i64) -> Result<bool, Error> {
    const SQL: &str = "select revoked_at_ms is not null from device where device_id = $1";
    Ok(with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(device_id).fetch_optional(pool).await?.unwrap_or(true)))
}

/// Resolves the open alert `alert` at `at_ms`, announcing it on the bus. `None` when it was
/// resolved already (by another server).
pub async fn resolve_alert(db: &Db, alert: &Alert, at_ms: i64, value: f64) -> Result<Option<AlertEvent>, Error> {
    const SQL: &str = "update alert set resolved_at_ms = $2, resolved_value = $3 where alert_id = $1 and resolved_at_ms is null";
    let event = AlertEvent {
        state: AlertState::Resolved,
        alert: Alert { resolved_at_ms: Some(at_ms), resolved_value: Some(value), ..alert.clone() },
    };
    match &db.backend {
        Backend::Sqlite { write, .. } => {
            let done = sqlx::query(SQL).bind(alert.alert_id).bind(at_ms).bind(value).execute(write).await?;
            if done.rows_affected() != 1 {
                return Ok(None);
            }
            db.bus.deliver(&Event::Alert(event.clone()));
            Ok(Some(event))
        }
        Backend::Postgres { pool } => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(SQL).bind(alert.alert_id).bind(at_ms).bind(value).execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Ok(None);
            }
            bus::notify(&mut tx, &Event::Alert(event.clone())).await?;
            tx.commit().await?;
            Ok(Some(event))
        }
    }
}