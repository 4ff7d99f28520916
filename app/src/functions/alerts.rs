//! Server functions of alerts: the open alerts (for the banner and badge), everything the
//! Alerts page shows, adding and deleting rules, and the channels alerts are sent to (saving,
//! turning off, sending a test).

use crate::error::AppResult;
use hearth_core::alert::channel::{ChannelsShown, EmailForm, NtfyForm};
use hearth_core::alert::{Alert, Rule, RuleForm};
use hearth_core::sensor::Kind;
use hearth_core::time::Zone;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {crate::context, crate::error::AppError, crate::session, hearth_store::alert as store};

/// A rule with the state of what it watches, as the Alerts page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleStatus {
    /// The rule.
    pub rule: Rule,
    /// The newest reading of the device (offline) or sensor, Unix milliseconds.
    pub last_seen_ms: Option<i64>,
    /// Offline: the device's usual interval, learned from its recent reports.
    pub interval_ms: Option<i64>,
}

/// A sensor or device the form can pick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Its database id.
    pub id: i64,
    /// `device/key` or the device's name.
    pub label: String,
    /// The sensor's kind.
    pub kind: Option<Kind>,
}

/// What the Alerts page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertsOverview {
    /// The house's time zone.
    pub zone: Zone,
    /// When this was read, Unix milliseconds.
    pub now_ms: i64,
    /// Whether the owner is looking (only the owner changes rules).
    pub owner: bool,
    /// The rules, oldest first.
    pub rules: Vec<RuleStatus>,
    /// Open alerts, newest first.
    pub open: Vec<Alert>,
    /// Resolved alerts, newest first (the latest 100).
    pub history: Vec<Alert>,
    /// Sensors a rule can watch.
    pub sensors: Vec<Choice>,
    /// Devices a rule can watch.
    pub devices: Vec<Choice>,
    /// The channels alerts are sent to, for the owner (secrets only as whether one is saved).
    pub channels: Option<ChannelsShown>,
}

/// The open alerts, newest first, for the banner and the badge. Any session may read them.
#[server(endpoint = "open_alerts")]
pub async fn list_open_alerts() -> AppResult<Vec<Alert>> {
    if session::viewer().is_none() {
        return Ok(Vec::new());
    }
    Ok(store::open(&context::db()?).await?)
}

/// Everything the Alerts page shows.
#[server(endpoint = "load_alerts")]
pub async fn load_alerts() -> AppResult<AlertsOverview> {
    use hearth_core::alert::RuleKind;
    use hearth_core::alert::offline::learned_interval;
    let (db, house) = (context::db()?, context::zone());
    let now_ms = hearth_core::time::now_ms();
    let rules = store::rules(&db).await?;
    let mut statuses = Vec::with_capacity(rules.len());
    for rule in rules {
        let (last_seen_ms, interval_ms) = match (rule.kind, rule.sensor_id) {
            (RuleKind::Offline, _) => {
                let sensors = store::device_times(&db, rule.device_id).await?;
                (sensors.iter().flatten().copied().max(), learned_interval(&sensors))
            }
            (_, Some(sensor_id)) => (store::last_reading(&db, sensor_id).await?, None),
            _ => (None, None),
        };
        statuses.push(RuleStatus { rule, last_seen_ms, interval_ms });
    }
    let open = store::open(&db).await?;
    let history = store::history(&db, 100).await?;
    let oldest = history.iter().map(|a| a.opened_at_ms).chain(open.iter().map(|a| a.opened_at_ms)).min().unwrap_or(now_ms);
    let mut sensors: Vec<Choice> = hearth_store::sensor::list_all(&db)
        .await?
        .into_iter()
        .map(|l| Choice {
            id: l.sensor.sensor_id,
            label: format!("{} {} ({}/{})", l.sensor.title(), l.sensor.kind, l.sensor.device, l.sensor.key),
            kind: Some(l.sensor.kind),
        })
        .collect();
    sensors.sort_by(|a, b| a.label.cmp(&b.label));
    let devices = hearth_store::device::list(&db)
        .await?
        .into_iter()
        .filter(|d| !d.revoked)
        .map(|d| Choice { id: d.device_id, label: d.name, kind: None })
        .collect();
    let owner = session::viewer().is_some_and(|v| !v.read_only);
    let channels = if owner { Some(store::channel::channels(&db).await?.shown()) } else { None };
    Ok(AlertsOverview { zone: house.zone(oldest, now_ms), now_ms, owner, rules: statuses, open, history, sensors, devices, channels })
}

/// Adds a rule (owner only). A bad field is answered 422 naming it.
#[server(prefix = "/api/owner", endpoint = "add_alert_rule")]
pub async fn add_alert_rule(rule: RuleForm) -> AppResult<i64> {
    use hearth_core::alert::form::fits;
    session::require_owner()?;
    let db = context::db()?;
    let new = rule.check().map_err(|(field, message)| AppError::invalid(field, message))?;
    if let Some(sensor_id) = new.sensor_id {
        match hearth_store::sensor::find(&db, sensor_id).await? {
            None => return Err(AppError::invalid("sensor_id", "sensor_id: no such sensor")),
            Some(s) if !fits(new.kind, s.kind) => {
                return Err(AppError::invalid("sensor_id", format!("sensor_id: a {} sensor cannot have a {} rule", s.kind, new.kind)));
            }
            Some(_) => {}
        }
    }
    if let Some(device_id) = new.device_id
        && hearth_store::device::find(&db, device_id).await?.is_none()
    {
        return Err(AppError::invalid("device_id", "device_id: no such device"));
    }
    Ok(store::insert_rule(&db, &new).await?)
}

/// Deletes a rule (owner only). Its open alert resolves at the next evaluation; its history
/// stays.
#[server(prefix = "/api/owner", endpoint = "delete_alert_rule")]
pub async fn delete_alert_rule(rule_id: i64) -> AppResult<()> {
    session::require_owner()?;
    if store::delete_rule(&context::db()?, rule_id).await? { Ok(()) } else { Err(AppError::not_found("no such rule")) }
}

/// Saves the email settings (owner only); an empty password keeps the saved one. A bad field
/// is answered 422 naming it.
#[server(prefix = "/api/owner", endpoint = "save_alert_email")]
pub async fn save_alert_email(email: EmailForm) -> AppResult<()> {
    session::require_owner()?;
    let db = context::db()?;
    let saved = store::channel::channels(&db).await?.email;
    let checked = email.check(saved.as_ref()).map_err(|(field, message)| AppError::invalid(field, message))?;
    Ok(store::channel::set_email(&db, &checked).await?)
}

/// Saves the ntfy settings (owner only); an empty token keeps the saved one.
#[server(prefix = "/api/owner", endpoint = "save_alert_ntfy")]
pub async fn save_alert_ntfy(ntfy: NtfyForm) -> AppResult<()> {
    session::require_owner()?;
    let db = context::db()?;
    let saved = store::channel::channels(&db).await?.ntfy;
    let checked = ntfy.check(saved.as_ref()).map_err(|(field, message)| AppError::invalid(field, message))?;
    Ok(store::channel::set_ntfy(&db, &checked).await?)
}

/// Turns the channel `channel` (`email` or `ntfy`) off, forgetting its settings (owner only).
#[server(prefix = "/api/owner", endpoint = "remove_alert_channel")]
pub async fn remove_alert_channel(channel: String) -> AppResult<()> {
    use hearth_core::alert::channel::ChannelKind;
    session::require_owner()?;
    let kind: ChannelKind = channel.parse().map_err(|e: String| AppError::invalid("channel", e))?;
    if store::channel::remove(&context::db()?, kind).await? { Ok(()) } else { Err(AppError::not_found(format!("{} is not set", kind.as_str()))) }
}

/// Sends a test through the channel `channel` as saved (owner only); a failure is answered
/// 502 with what went wrong.
#[server(prefix = "/api/owner", endpoint = "test_alert_channel")]
pub async fn test_alert_channel(channel: String) -> AppResult<String> {
    use hearth_core::alert::channel::ChannelKind;
    session::require_owner()?;
    let kind: ChannelKind = channel.parse().map_err(|e: String| AppError::invalid("channel", e))?;
    let test = context::channel_test()?;
    match (test.0)(kind).await {
        Ok(()) => Ok(format!("test sent by {}", kind.as_str())),
        Err(e) => Err(AppError::new(502, e)),
    }
}
