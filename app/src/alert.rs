//! Alerts: rules the homeowner sets on a sensor (above or below a value for a while, water
//! flowing without a break, water used at night) or on a device (silent for longer than its
//! usual interval allows), and the alerts they open and resolve.
//!
//! The judging is pure ([`judge_threshold`], [`judge_offline`], [`judge_night`]): each takes
//! readings in time order and whether an alert is open, and returns the transitions, timed by
//! the readings themselves. The server's evaluator feeds them from the database and records
//! the transitions through [`ssr`], where the database keeps one open alert per rule however
//! many servers judge it.

use crate::live::{LiveEvent, use_live};
use crate::sensor::Kind;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One minute in milliseconds.
const MINUTE_MS: i64 = 60_000;
/// The night, for [`RuleKind::LeakNight`]: this long from local midnight.
pub const NIGHT_MS: i64 = 5 * 60 * MINUTE_MS;
/// The recent readings a device's usual interval is learned from.
pub const LEARN_READINGS: usize = 100;
/// Readings after a silence that bring a device back (so one stray reading does not resolve).
pub const BACK_AFTER_READINGS: usize = 2;

/// What a rule watches for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A sensor above a value for at least some minutes.
    Above,
    /// A sensor below a value for at least some minutes.
    Below,
    /// A device silent for longer than a multiple of its usual interval.
    Offline,
    /// Water flow that never drops to zero for some minutes.
    LeakFlow,
    /// Water used at night (local 00:00–05:00) above a baseline.
    LeakNight,
}

impl RuleKind {
    /// Every kind, in the order the form offers them.
    pub const ALL: [RuleKind; 5] = [RuleKind::Above, RuleKind::Below, RuleKind::Offline, RuleKind::LeakFlow, RuleKind::LeakNight];

    /// The name in the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Above => "above",
            RuleKind::Below => "below",
            RuleKind::Offline => "offline",
            RuleKind::LeakFlow => "leak_flow",
            RuleKind::LeakNight => "leak_night",
        }
    }

    /// What a person reads in the form.
    pub fn label(self) -> &'static str {
        match self {
            RuleKind::Above => "Above a value",
            RuleKind::Below => "Below a value",
            RuleKind::Offline => "Device offline",
            RuleKind::LeakFlow => "Leak: flow never stops",
            RuleKind::LeakNight => "Leak: water used at night",
        }
    }

    /// Whether the rule watches a device rather than a sensor.
    pub fn on_device(self) -> bool {
        self == RuleKind::Offline
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown rule kind {s:?}: expected above, below, offline, leak_flow or leak_night"))
    }
}

impl TryFrom<String> for RuleKind {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A rule, with what it watches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Database id.
    pub rule_id: i64,
    /// What it watches for.
    pub kind: RuleKind,
    /// The sensor watched (every kind but offline).
    pub sensor_id: Option<i64>,
    /// The device watched (offline), or the watched sensor's device.
    pub device_id: i64,
    /// The device's name.
    pub device: String,
    /// The sensor's key on its device.
    pub sensor: Option<String>,
    /// The name the homeowner gave the sensor, if any.
    pub sensor_name: Option<String>,
    /// The sensor's kind.
    pub sensor_kind: Option<Kind>,
    /// Above/below: the limit; leak at night: the baseline in litres.
    pub threshold: Option<f64>,
    /// Above/below: how far back past the limit a value must be to count as recovered.
    pub margin: Option<f64>,
    /// Above/below/flow: how long the condition must last, in minutes (and its end as well).
    pub minutes: Option<i64>,
    /// Offline: silence longer than this many times the device's usual interval.
    pub factor: Option<f64>,
    /// When it was created, Unix milliseconds.
    pub created_at_ms: i64,
    /// When it was deleted; its alerts stay in the history.
    pub deleted_at_ms: Option<i64>,
}

/// A number as people write it: no trailing zeros, a real minus sign.
pub fn number(value: f64) -> String {
    let rounded = (value * 1000.0).round() / 1000.0;
    let text = format!("{}", if rounded == 0.0 { 0.0 } else { rounded });
    text.replace('-', "−")
}

impl Rule {
    /// What it watches, as a person calls it: the sensor's title and kind ("Freezer
    /// temperature", from `freezer.temp` or a sensor named "Freezer"), or the device's name.
    pub fn target(&self) -> String {
        let Some(key) = &self.sensor else { return self.device.clone() };
        let title = crate::sensor::title_of(self.sensor_name.as_deref(), key);
        match self.sensor_kind {
            Some(kind) if !title.to_lowercase().contains(kind.as_str()) => format!("{title} {kind}"),
            _ => title,
        }
    }

    /// The unit of the watched sensor's values.
    pub fn unit(&self) -> &'static str {
        self.sensor_kind.map_or("", Kind::unit)
    }

    /// A value with the sensor's unit.
    pub fn value_text(&self, value: f64) -> String {
        let unit = self.unit();
        if unit.is_empty() { number(value) } else { format!("{} {unit}", number(value)) }
    }

    /// An alert's value as a person reads it: the sensor's value, the minutes a device was
    /// silent, the litres used at night.
    pub fn alert_value(&self, value: f64) -> String {
        match self.kind {
            RuleKind::Offline => format!("{} min silent", number(value)),
            RuleKind::LeakNight => format!("{} L", number(value)),
            _ => self.value_text(value),
        }
    }

    /// The rule in a sentence, such as "Freezer temperature above −12 °C for 10 min".
    pub fn describe(&self) -> String {
        let target = self.target();
        let minutes = self.minutes.unwrap_or(0);
        let lasting = if minutes > 0 { format!(" for {minutes} min") } else { String::new() };
        let limit = self.value_text(self.threshold.unwrap_or(0.0));
        match self.kind {
            RuleKind::Above => format!("{target} above {limit}{lasting}"),
            RuleKind::Below => format!("{target} below {limit}{lasting}"),
            RuleKind::Offline => format!("{target} offline (silent over {}× its usual interval)", number(self.factor.unwrap_or(0.0))),
            RuleKind::LeakFlow => format!("{target} never at zero{lasting}"),
            RuleKind::LeakNight => format!("{target} over {} L at night (00:00–05:00)", number(self.threshold.unwrap_or(0.0))),
        }
    }

    /// The condition to judge a sensor's readings by, for the kinds judged that way.
    pub fn threshold(&self) -> Option<Threshold> {
        let hold_ms = self.minutes.unwrap_or(0).max(0) * MINUTE_MS;
        match self.kind {
            RuleKind::Above | RuleKind::Below => Some(Threshold {
                above: self.kind == RuleKind::Above,
                limit: self.threshold?,
                margin: self.margin.unwrap_or(0.0).max(0.0),
                hold_ms,
            }),
            RuleKind::LeakFlow => Some(Threshold { above: true, limit: 0.0, margin: 0.0, hold_ms }),
            RuleKind::Offline | RuleKind::LeakNight => None,
        }
    }

    /// What an alert of this rule says when it opens with `value`.
    pub fn message(&self, value: f64) -> String {
        let target = self.target();
        match self.kind {
            RuleKind::Above | RuleKind::Below => format!("{}: {}", self.describe(), self.value_text(value)),
            RuleKind::Offline => format!("{target}: no reading for {} min", number(value)),
            RuleKind::LeakFlow => format!("{target}: water flowing for {} min without a break ({})", self.minutes.unwrap_or(0), self.value_text(value)),
            RuleKind::LeakNight => format!("{target}: {} L used tonight, over the {} L baseline", number(value), number(self.threshold.unwrap_or(0.0))),
        }
    }
}

/// An alert: a rule's condition met from `opened_at_ms`, until `resolved_at_ms` if it cleared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Database id.
    pub alert_id: i64,
    /// The rule that opened it.
    pub rule: Rule,
    /// When the condition was met, Unix milliseconds (the deciding reading's time).
    pub opened_at_ms: i64,
    /// When it cleared, Unix milliseconds.
    pub resolved_at_ms: Option<i64>,
    /// The value that opened it (offline: minutes without a reading; night: litres).
    pub value: f64,
    /// The value that resolved it.
    pub resolved_value: Option<f64>,
    /// What happened, for a person.
    pub message: String,
}

/// Whether an alert opened or resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// The condition is met.
    Opened,
    /// The condition has cleared.
    Resolved,
}

/// An alert opening or resolving, as the live stream (`event: alert`) sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// What happened.
    pub state: AlertState,
    /// The alert, as it is now.
    pub alert: Alert,
}

/// A change an evaluation decided, timed by the readings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// Open an alert at `at_ms` with `value`.
    Open {
        /// When the condition was met, Unix milliseconds.
        at_ms: i64,
        /// The value that met it.
        value: f64,
    },
    /// Resolve the open alert at `at_ms` with `value`.
    Resolve {
        /// When the condition cleared, Unix milliseconds.
        at_ms: i64,
        /// The value that cleared it.
        value: f64,
    },
}

/// A condition on a sensor's values: beyond `limit` (above it, or below) for `hold_ms` opens;
/// back past `limit` by `margin` for `hold_ms` again resolves. The gap between the two is the
/// hysteresis: values wandering around the limit neither open nor resolve anything.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Threshold {
    /// Above the limit (else below).
    pub above: bool,
    /// The limit.
    pub limit: f64,
    /// How far back past the limit a value must be to count as recovered.
    pub margin: f64,
    /// How long the breach, and the recovery, must last.
    pub hold_ms: i64,
}

impl Threshold {
    fn breaches(&self, value: f64) -> bool {
        if self.above { value > self.limit } else { value < self.limit }
    }

    fn recovered(&self, value: f64) -> bool {
        if self.above { value <= self.limit - self.margin } else { value >= self.limit + self.margin }
    }
}

/// Judges `readings` (time, value; oldest first) by `condition`, starting open or not. A
/// breach opens when readings have all been beyond the limit from one at least `hold_ms`
/// before; an open alert resolves when readings have all been back past the margin from
/// one at least `hold_ms` before.
pub fn judge_threshold(condition: &Threshold, open: bool, readings: &[(i64, f64)]) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let mut open = open;
    let mut since: Option<i64> = None;
    for &(at_ms, value) in readings {
        let counts = if open { condition.recovered(value) } else { condition.breaches(value) };
        if !counts {
            since = None;
            continue;
        }
        let start = *since.get_or_insert(at_ms);
        if at_ms - start >= condition.hold_ms {
            verdicts.push(if open { Verdict::Resolve { at_ms, value } } else { Verdict::Open { at_ms, value } });
            open = !open;
            since = None;
        }
    }
    verdicts
}

/// A device's usual interval: the median gap between its recent distinct reading times
/// (oldest first or in any order). `None` with fewer than two distinct times.
pub fn learned_interval(times: &[i64]) -> Option<i64> {
    let mut times = times.to_vec();
    times.sort_unstable();
    times.dedup();
    let mut gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    let mid = gaps.len() / 2;
    Some(if gaps.len() % 2 == 1 { gaps[mid] } else { (gaps[mid - 1] + gaps[mid]) / 2 }.max(1))
}

/// Judges a device's reading times (its recent ones, any order) at `now_ms`: silent for more
/// than `factor` times its [`learned_interval`] opens, at the instant it became overdue, with
/// the minutes since its last reading; an open alert (opened at `open`) resolves at the
/// [`BACK_AFTER_READINGS`]th reading after it opened. `after_ms` is the end of the rule's last
/// alert: a silence that became overdue before it is not judged again.
pub fn judge_offline(times: &[i64], factor: f64, open: Option<i64>, after_ms: Option<i64>, now_ms: i64) -> Vec<Verdict> {
    let mut times = times.to_vec();
    times.sort_unstable();
    times.dedup();
    let mut verdicts = Vec::new();
    let mut after = after_ms;
    if let Some(opened_at) = open {
        let back: Vec<i64> = times.iter().copied().filter(|&t| t > opened_at).collect();
        let Some(&at_ms) = back.get(BACK_AFTER_READINGS - 1) else { return verdicts };
        let silent = back.first().map_or(0, |first| first - times.iter().copied().filter(|&t| t <= opened_at).max().unwrap_or(*first));
        verdicts.push(Verdict::Resolve { at_ms, value: minutes(silent) });
        after = Some(at_ms);
    }
    let (Some(interval), Some(&last)) = (learned_interval(&times), times.last()) else { return verdicts };
    let due = last + (interval as f64 * factor.max(1.0)).round() as i64;
    if now_ms > due && after.is_none_or(|a| due > a) {
        verdicts.push(Verdict::Open { at_ms: due, value: minutes(now_ms - last) });
    }
    verdicts
}

fn minutes(ms: i64) -> f64 {
    (ms as f64 / MINUTE_MS as f64 * 10.0).round() / 10.0
}

/// Judges a water counter's readings (oldest first) over `nights` (start, end; oldest first):
/// the litres used within a night (the sum of the counter's rises between readings inside it;
/// a drop is a counter reset and counts nothing) going over `baseline` opens; an open alert
/// (opened at `open`) resolves at the end of a later night whose readings (two at least: a
/// night without any tells nothing) stayed at or under it, once `now_ms` or a reading has
/// reached that end.
pub fn judge_night(readings: &[(i64, f64)], nights: &[(i64, i64)], baseline: f64, open: Option<i64>, now_ms: i64) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let mut open = open;
    let latest = readings.last().map_or(now_ms, |r| r.0.max(now_ms));
    for &(start, end) in nights {
        let inside: Vec<(i64, f64)> = readings.iter().copied().filter(|&(t, _)| t >= start && t <= end).collect();
        let mut used = 0.0;
        let mut over = false;
        for w in inside.windows(2) {
            used += (w[1].1 - w[0].1).max(0.0);
            if open.is_none() && used > baseline {
                verdicts.push(Verdict::Open { at_ms: w[1].0, value: used });
                open = Some(w[1].0);
                over = true;
            }
        }
        if let Some(opened_at) = open
            && !over
            && inside.len() >= 2
            && start > opened_at
            && latest >= end
            && used <= baseline
        {
            verdicts.push(Verdict::Resolve { at_ms: end, value: used });
            open = None;
        }
    }
    verdicts
}

/// The open alerts after `changes` (oldest first) to the list `base` read from the server:
/// an opening adds its alert, a resolution removes it. Applying a change twice changes
/// nothing.
pub fn apply_changes(base: &[Alert], changes: &[AlertEvent]) -> Vec<Alert> {
    let mut open = base.to_vec();
    for change in changes {
        open.retain(|a| a.alert_id != change.alert.alert_id);
        if change.state == AlertState::Opened {
            open.push(change.alert.clone());
        }
    }
    let resolved: Vec<i64> = changes.iter().filter(|c| c.state == AlertState::Resolved).map(|c| c.alert.alert_id).collect();
    open.retain(|a| !resolved.contains(&a.alert_id));
    open.sort_by_key(|a| (a.opened_at_ms, a.alert_id));
    open
}

/// The open alerts, newest first, for the banner and the badge. Any session may read them.
#[server(endpoint = "open_alerts")]
pub async fn list_open_alerts() -> Result<Vec<Alert>, ServerFnError> {
    if crate::account::ssr::viewer().is_none() {
        return Ok(Vec::new());
    }
    let db = crate::store::Db::from_context()?;
    ssr::open(&db).await.map_err(crate::account::ssr::internal)
}

/// A rule with the state of what it watches, as the Alerts page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleStatus {
    /// The rule.
    pub rule: Rule,
    /// The newest reading of the device (offline) or sensor, Unix milliseconds.
    pub last_seen_ms: Option<i64>,
    /// Offline: the device's usual interval, learned from its recent readings.
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
    pub zone: crate::time::Zone,
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
}

/// Everything the Alerts page shows.
#[server(endpoint = "load_alerts")]
pub async fn load_alerts() -> Result<AlertsOverview, ServerFnError> {
    use crate::account::ssr::internal;
    let db = crate::store::Db::from_context()?;
    let house = crate::time::ssr::HouseZone::from_context();
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let rules = ssr::rules(&db).await.map_err(internal)?;
    let mut statuses = Vec::with_capacity(rules.len());
    for rule in rules {
        let (last_seen_ms, interval_ms) = match (rule.kind, rule.sensor_id) {
            (RuleKind::Offline, _) => {
                let times = ssr::device_times(&db, rule.device_id).await.map_err(internal)?;
                (times.iter().copied().max(), learned_interval(&times))
            }
            (_, Some(sensor_id)) => (ssr::last_reading(&db, sensor_id).await.map_err(internal)?, None),
            _ => (None, None),
        };
        statuses.push(RuleStatus { rule, last_seen_ms, interval_ms });
    }
    let open = ssr::open(&db).await.map_err(internal)?;
    let history = ssr::history(&db, 100).await.map_err(internal)?;
    let oldest = history.iter().map(|a| a.opened_at_ms).chain(open.iter().map(|a| a.opened_at_ms)).min().unwrap_or(now_ms);
    let mut sensors: Vec<Choice> = crate::sensor::ssr::list_all(&db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|l| Choice {
            id: l.sensor.sensor_id,
            label: format!("{} {} ({}/{})", l.sensor.title(), l.sensor.kind, l.sensor.device, l.sensor.key),
            kind: Some(l.sensor.kind),
        })
        .collect();
    sensors.sort_by(|a, b| a.label.cmp(&b.label));
    let devices = crate::device::ssr::list(&db)
        .await
        .map_err(internal)?
        .into_iter()
        .filter(|d| !d.revoked)
        .map(|d| Choice { id: d.device_id, label: d.name, kind: None })
        .collect();
    let owner = crate::account::ssr::viewer().is_some_and(|v| !v.read_only);
    Ok(AlertsOverview { zone: house.zone(oldest, now_ms), now_ms, owner, rules: statuses, open, history, sensors, devices })
}

/// A rule's parameters as the form sends them (text; the fields the kind does not use are
/// ignored).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleForm {
    /// `above`, `below`, `offline`, `leak_flow` or `leak_night`.
    pub kind: String,
    /// The sensor's id (every kind but offline).
    #[serde(default)]
    pub sensor_id: String,
    /// The device's id (offline).
    #[serde(default)]
    pub device_id: String,
    /// Above/below: the limit; leak at night: the baseline in litres.
    #[serde(default)]
    pub threshold: String,
    /// Above/below: the recovery margin (default 0.5).
    #[serde(default)]
    pub margin: String,
    /// Above/below/flow: minutes.
    #[serde(default)]
    pub minutes: String,
    /// Offline: the multiple of the usual interval (default 3).
    #[serde(default)]
    pub factor: String,
}

/// A new rule's checked parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRule {
    /// What it watches for.
    pub kind: RuleKind,
    /// The sensor (every kind but offline).
    pub sensor_id: Option<i64>,
    /// The device (offline).
    pub device_id: Option<i64>,
    /// The limit or baseline.
    pub threshold: Option<f64>,
    /// The recovery margin.
    pub margin: Option<f64>,
    /// Minutes the condition must last.
    pub minutes: Option<i64>,
    /// The multiple of the usual interval.
    pub factor: Option<f64>,
}

/// The largest number of minutes a condition may have to last (a week).
pub const MAX_MINUTES: i64 = 7 * 24 * 60;

impl RuleForm {
    /// The rule the form describes, or the field at fault and why.
    pub fn check(&self) -> Result<NewRule, (&'static str, String)> {
        let kind: RuleKind = self.kind.trim().parse().map_err(|e| ("kind", e))?;
        let id = |field: &'static str, text: &str| -> Result<i64, (&'static str, String)> {
            text.trim().parse::<i64>().map_err(|_| (field, format!("{field}: pick one")))
        };
        let num = |field: &'static str, text: &str, default: Option<f64>| -> Result<f64, (&'static str, String)> {
            let text = text.trim();
            if text.is_empty()
                && let Some(d) = default
            {
                return Ok(d);
            }
            match text.replace('−', "-").parse::<f64>() {
                Ok(v) if v.is_finite() && v.abs() <= 1e15 => Ok(v),
                _ => Err((field, format!("{field} must be a number, not {text:?}"))),
            }
        };
        let minutes = || -> Result<i64, (&'static str, String)> {
            match self.minutes.trim().parse::<i64>() {
                Ok(m) if (0..=MAX_MINUTES).contains(&m) => Ok(m),
                _ => Err(("minutes", format!("minutes must be a whole number from 0 to {MAX_MINUTES}"))),
            }
        };
        let mut rule = NewRule { kind, sensor_id: None, device_id: None, threshold: None, margin: None, minutes: None, factor: None };
        match kind {
            RuleKind::Above | RuleKind::Below => {
                rule.sensor_id = Some(id("sensor_id", &self.sensor_id)?);
                rule.threshold = Some(num("threshold", &self.threshold, None)?);
                let margin = num("margin", &self.margin, Some(0.5))?;
                if margin < 0.0 {
                    return Err(("margin", "margin must be 0 or more".into()));
                }
                rule.margin = Some(margin);
                rule.minutes = Some(minutes()?);
            }
            RuleKind::LeakFlow => {
                rule.sensor_id = Some(id("sensor_id", &self.sensor_id)?);
                rule.minutes = Some(minutes()?);
            }
            RuleKind::LeakNight => {
                rule.sensor_id = Some(id("sensor_id", &self.sensor_id)?);
                let baseline = num("threshold", &self.threshold, None)?;
                if baseline < 0.0 {
                    return Err(("threshold", "the baseline must be 0 L or more".into()));
                }
                rule.threshold = Some(baseline);
            }
            RuleKind::Offline => {
                rule.device_id = Some(id("device_id", &self.device_id)?);
                let factor = num("factor", &self.factor, Some(3.0))?;
                if !(1.0..=1000.0).contains(&factor) {
                    return Err(("factor", "factor must be from 1 to 1000".into()));
                }
                rule.factor = Some(factor);
            }
        }
        Ok(rule)
    }
}

/// The sensor kinds a rule of `kind` can watch.
pub fn fits(kind: RuleKind, sensor: Kind) -> bool {
    match kind {
        RuleKind::Above | RuleKind::Below => sensor != Kind::Switch,
        RuleKind::LeakFlow => sensor == Kind::Flow,
        RuleKind::LeakNight => sensor == Kind::Water,
        RuleKind::Offline => false,
    }
}

/// Adds a rule (owner only). A bad field is answered 422 naming it.
#[server(prefix = "/api/owner", endpoint = "add_alert_rule")]
pub async fn add_alert_rule(rule: RuleForm) -> Result<i64, ServerFnError> {
    use crate::account::ssr::{fail, internal, require_owner};
    require_owner()?;
    let db = crate::store::Db::from_context()?;
    let new = rule.check().map_err(|(_, message)| fail(422, &message))?;
    if let Some(sensor_id) = new.sensor_id {
        let sensor = crate::sensor::ssr::find(&db, sensor_id).await.map_err(internal)?;
        match sensor {
            None => return Err(fail(422, "sensor_id: no such sensor")),
            Some(s) if !fits(new.kind, s.kind) => {
                return Err(fail(422, &format!("sensor_id: a {} sensor cannot have a {} rule", s.kind, new.kind)));
            }
            Some(_) => {}
        }
    }
    if let Some(device_id) = new.device_id
        && crate::device::ssr::find(&db, device_id).await.map_err(internal)?.is_none()
    {
        return Err(fail(422, "device_id: no such device"));
    }
    ssr::insert_rule(&db, &new).await.map_err(internal)
}

/// Deletes a rule (owner only). Its open alert resolves at the next evaluation; its history
/// stays.
#[server(prefix = "/api/owner", endpoint = "delete_alert_rule")]
pub async fn delete_alert_rule(rule_id: i64) -> Result<(), ServerFnError> {
    use crate::account::ssr::{fail, internal, require_owner};
    require_owner()?;
    let db = crate::store::Db::from_context()?;
    if ssr::delete_rule(&db, rule_id).await.map_err(internal)? { Ok(()) } else { Err(fail(404, "no such rule")) }
}

/// The page's open alerts, kept current by the live stream: the list read from the server
/// once the page is hydrated (and again after a resync), and the changes heard since.
#[derive(Clone, Copy)]
pub struct OpenAlerts {
    base: RwSignal<Option<Vec<Alert>>>,
    changes: RwSignal<Vec<AlertEvent>>,
    /// Increases with every alert heard on the stream, for views that list alerts.
    pub heard: RwSignal<u64>,
}

impl OpenAlerts {
    /// The open alerts now, oldest first (none until the list has been read).
    pub fn current(self) -> Vec<Alert> {
        let changes = self.changes.get();
        self.base.with(|base| base.as_deref().map(|base| apply_changes(base, &changes)).unwrap_or_default())
    }
}

/// Reads the open alerts and follows the live stream's alert events, for the banner and the
/// badge below. The list is read in the browser, so no page waits for it on the server.
pub fn provide_open_alerts() -> OpenAlerts {
    let version = RwSignal::new(0u64);
    let base = RwSignal::new(None::<Vec<Alert>>);
    let changes = RwSignal::new(Vec::<AlertEvent>::new());
    let heard = RwSignal::new(0u64);
    Effect::new(move |_| {
        version.track();
        leptos::task::spawn_local(async move {
            if let Ok(list) = list_open_alerts().await {
                base.set(Some(list));
            }
        });
    });
    use_live(move |event| match event {
        LiveEvent::Alert(change) => {
            changes.update(|c| c.push(change.clone()));
            heard.update(|h| *h += 1);
        }
        LiveEvent::Resync => {
            changes.update(Vec::clear);
            version.update(|v| *v += 1);
            heard.update(|h| *h += 1);
        }
        _ => {}
    });
    let alerts = OpenAlerts { base, changes, heard };
    provide_context(alerts);
    alerts
}

/// A banner at the top of every page while any alert is open.
#[component]
pub fn AlertBanner() -> impl IntoView {
    let alerts = use_context::<OpenAlerts>();
    move || {
        let open = alerts.map(OpenAlerts::current).unwrap_or_default();
        let count = open.len();
        let newest = open.last().map(|a| a.message.clone()).unwrap_or_default();
        (count > 0).then(|| {
            view! {
                <div class="alert-banner" aria-live="polite" data-testid="alert-banner" data-count=count.to_string()>
                    <span class="alert-dot" aria-hidden="true"></span>
                    <span class="alert-text">
                        {newest}
                        {(count > 1).then(|| view! { <span class="muted">{format!(" · and {} more", count - 1)}</span> })}
                    </span>
                    <a href="/alerts">"See alerts"</a>
                </div>
            }
        })
    }
}

/// The count of open alerts, beside the Alerts entry of the navigation bar.
#[component]
pub fn AlertBadge() -> impl IntoView {
    let alerts = use_context::<OpenAlerts>();
    move || {
        let count = alerts.map(|a| a.current().len()).unwrap_or(0);
        (count > 0).then(|| view! { <span class="alert-badge" data-testid="alert-badge" aria-label=format!("{count} open")>{count}</span> })
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Rules and alerts in the database. Opening inserts into `alert`, whose partial unique
    //! index allows one open alert per rule: of several servers opening it, one insert wins,
    //! and only the winner tells the live stream and the webhook.

    use super::{Alert, AlertEvent, AlertState, NewRule, Rule};
    use crate::sensor::Kind;
    use crate::store::{Db, with_db};

    /// The PostgreSQL channel on which every server hears of the alerts any server opened or
    /// resolved (the payload is an [`AlertEvent`]).
    pub const NOTIFY_CHANNEL: &str = "hearth_alerts";

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
        fn rule(self) -> Result<Rule, sqlx::Error> {
            let decode = |e: String| sqlx::Error::Decode(e.into());
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
        fn alert(self) -> Result<Alert, sqlx::Error> {
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

    fn now_ms() -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }

    /// Every rule not deleted, oldest first.
    pub async fn rules(db: &Db) -> Result<Vec<Rule>, sqlx::Error> {
        let sql = format!("select {RULE_COLUMNS} from alert_rule r {RULE_JOINS} where r.deleted_at_ms is null order by r.alert_rule_id");
        let rows: Vec<RuleRow> = with_db!(db, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await)?;
        rows.into_iter().map(RuleRow::rule).collect()
    }

    /// Adds a rule; returns its id.
    pub async fn insert_rule(db: &Db, rule: &NewRule) -> Result<i64, sqlx::Error> {
        const SQL: &str = "insert into alert_rule (kind, sensor_id, device_id, threshold, margin, minutes, factor, created_at_ms) \
             values ($1, $2, $3, $4, $5, $6, $7, $8) returning alert_rule_id";
        with_db!(db, write, |pool| sqlx::query_scalar(SQL)
            .bind(rule.kind.as_str())
            .bind(rule.sensor_id)
            .bind(rule.device_id)
            .bind(rule.threshold)
            .bind(rule.margin)
            .bind(rule.minutes)
            .bind(rule.factor)
            .bind(now_ms())
            .fetch_one(pool)
            .await)
    }

    /// Marks a rule deleted; `false` if there is no such rule (or it was deleted already).
    pub async fn delete_rule(db: &Db, rule_id: i64) -> Result<bool, sqlx::Error> {
        const SQL: &str = "update alert_rule set deleted_at_ms = $2 where alert_rule_id = $1 and deleted_at_ms is null";
        with_db!(db, write, |pool| Ok(sqlx::query(SQL).bind(rule_id).bind(now_ms()).execute(pool).await?.rows_affected() > 0))
    }

    async fn alerts(db: &Db, filter: &str, limit: i64) -> Result<Vec<Alert>, sqlx::Error> {
        let sql = format!(
            "select {RULE_COLUMNS}, a.alert_id, a.opened_at_ms, a.resolved_at_ms, a.value, a.resolved_value, a.message \
             from alert a join alert_rule r on r.alert_rule_id = a.alert_rule_id {RULE_JOINS} where {filter} \
             order by coalesce(a.resolved_at_ms, a.opened_at_ms) desc, a.alert_id desc limit $1"
        );
        let rows: Vec<AlertRow> = with_db!(db, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(pool).await)?;
        rows.into_iter().map(AlertRow::alert).collect()
    }

    /// The open alerts, newest first.
    pub async fn open(db: &Db) -> Result<Vec<Alert>, sqlx::Error> {
        alerts(db, "a.resolved_at_ms is null", 1000).await
    }

    /// The latest `limit` resolved alerts, newest first.
    pub async fn history(db: &Db, limit: i64) -> Result<Vec<Alert>, sqlx::Error> {
        alerts(db, "a.resolved_at_ms is not null", limit).await
    }

    /// The open alerts of deleted rules.
    pub async fn orphaned(db: &Db) -> Result<Vec<Alert>, sqlx::Error> {
        alerts(db, "a.resolved_at_ms is null and r.deleted_at_ms is not null", 1000).await
    }

    /// For each rule that has resolved alerts: when its latest one resolved.
    pub async fn last_resolved(db: &Db) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        const SQL: &str = "select alert_rule_id, max(resolved_at_ms) from alert where resolved_at_ms is not null group by alert_rule_id";
        with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)
    }

    /// A sensor's readings after `after_ms` and within `span_ms` of its newest, oldest first.
    pub async fn sensor_window(db: &Db, sensor_id: i64, after_ms: i64, span_ms: i64) -> Result<Vec<(i64, f64)>, sqlx::Error> {
        const SQL: &str = "select at_ms, value from reading where sensor_id = $1 and at_ms > $2 \
             and at_ms >= (select max(at_ms) from reading where sensor_id = $1) - $3 order by at_ms";
        with_db!(db, read, |pool| sqlx::query_as(SQL).bind(sensor_id).bind(after_ms).bind(span_ms).fetch_all(pool).await)
    }

    /// The time of a sensor's newest reading.
    pub async fn last_reading(db: &Db, sensor_id: i64) -> Result<Option<i64>, sqlx::Error> {
        const SQL: &str = "select max(at_ms) from reading where sensor_id = $1";
        with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(sensor_id).fetch_one(pool).await)
    }

    /// The newest distinct reading times of a device's sensors (at most
    /// [`super::LEARN_READINGS`] and every one after `after_ms`), oldest first.
    pub async fn device_times(db: &Db, device_id: i64) -> Result<Vec<i64>, sqlx::Error> {
        const SENSORS: &str = "select sensor_id from sensor where device_id = $1";
        const TIMES: &str = "select at_ms from reading where sensor_id = $1 order by at_ms desc limit $2";
        let sensors: Vec<i64> = with_db!(db, read, |pool| sqlx::query_scalar(SENSORS).bind(device_id).fetch_all(pool).await)?;
        let mut times = Vec::new();
        for sensor_id in sensors {
            let limit = super::LEARN_READINGS as i64;
            let some: Vec<i64> = with_db!(db, read, |pool| sqlx::query_scalar(TIMES).bind(sensor_id).bind(limit).fetch_all(pool).await)?;
            times.extend(some);
        }
        times.sort_unstable();
        times.dedup();
        let skip = times.len().saturating_sub(super::LEARN_READINGS);
        Ok(times.split_off(skip))
    }

    /// Whether the device `device_id` has been revoked.
    pub async fn revoked(db: &Db, device_id: i64) -> Result<bool, sqlx::Error> {
        const SQL: &str = "select revoked_at_ms is not null from device where device_id = $1";
        with_db!(db, read, |pool| Ok(sqlx::query_scalar(SQL).bind(device_id).fetch_optional(pool).await?.unwrap_or(true)))
    }

    /// Opens an alert of `rule` at `at_ms`. `None` when the rule already has an open alert or
    /// one opened at that instant (another server was first): then nothing is announced. On
    /// PostgreSQL the event is notified in the same transaction.
    pub async fn open_alert(db: &Db, rule: &Rule, at_ms: i64, value: f64) -> Result<Option<AlertEvent>, sqlx::Error> {
        const SQL: &str = "insert into alert (alert_rule_id, opened_at_ms, value, message) values ($1, $2, $3, $4) \
             on conflict do nothing returning alert_id";
        let message = rule.message(value);
        let event = |alert_id: i64| AlertEvent {
            state: AlertState::Opened,
            alert: Alert {
                alert_id,
                rule: rule.clone(),
                opened_at_ms: at_ms,
                resolved_at_ms: None,
                value,
                resolved_value: None,
                message: message.clone(),
            },
        };
        match db {
            Db::Sqlite(sqlite) => {
                let id: Option<i64> = sqlx::query_scalar(SQL)
                    .bind(rule.rule_id)
                    .bind(at_ms)
                    .bind(value)
                    .bind(&message)
                    .fetch_optional(&sqlite.write)
                    .await?;
                Ok(id.map(event))
            }
            Db::Postgres(pg) => {
                let mut tx = pg.pool.begin().await?;
                let id: Option<i64> = sqlx::query_scalar(SQL)
                    .bind(rule.rule_id)
                    .bind(at_ms)
                    .bind(value)
                    .bind(&message)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(id) = id else { return Ok(None) };
                let event = event(id);
                notify(&mut tx, &event).await?;
                tx.commit().await?;
                Ok(Some(event))
            }
        }
    }

    /// Resolves the open alert `alert` at `at_ms`. `None` when it was resolved already
    /// (by another server).
    pub async fn resolve_alert(db: &Db, alert: &Alert, at_ms: i64, value: f64) -> Result<Option<AlertEvent>, sqlx::Error> {
        const SQL: &str = "update alert set resolved_at_ms = $2, resolved_value = $3 where alert_id = $1 and resolved_at_ms is null";
        let event = AlertEvent {
            state: AlertState::Resolved,
            alert: Alert { resolved_at_ms: Some(at_ms), resolved_value: Some(value), ..alert.clone() },
        };
        match db {
            Db::Sqlite(sqlite) => {
                let done = sqlx::query(SQL).bind(alert.alert_id).bind(at_ms).bind(value).execute(&sqlite.write).await?;
                Ok((done.rows_affected() == 1).then_some(event))
            }
            Db::Postgres(pg) => {
                let mut tx = pg.pool.begin().await?;
                let done = sqlx::query(SQL).bind(alert.alert_id).bind(at_ms).bind(value).execute(&mut *tx).await?;
                if done.rows_affected() != 1 {
                    return Ok(None);
                }
                notify(&mut tx, &event).await?;
                tx.commit().await?;
                Ok(Some(event))
            }
        }
    }

    async fn notify(tx: &mut sqlx::PgConnection, event: &AlertEvent) -> Result<(), sqlx::Error> {
        let payload = serde_json::to_string(event).map_err(|e| sqlx::Error::Encode(e.into()))?;
        sqlx::query("select pg_notify($1, $2)").bind(NOTIFY_CHANNEL).bind(payload).execute(tx).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = MINUTE_MS;

    fn freezer() -> Threshold {
        Threshold { above: true, limit: -12.0, margin: 1.0, hold_ms: 10 * MIN }
    }

    fn every_minute(values: &[f64]) -> Vec<(i64, f64)> {
        values.iter().enumerate().map(|(i, v)| (i as i64 * MIN, *v)).collect()
    }

    #[test]
    fn a_breach_opens_once_it_has_lasted_the_whole_duration() {
        let mut values = vec![-18.0; 5];
        values.extend(vec![-10.0; 10]);
        let readings = every_minute(&values);
        assert!(judge_threshold(&freezer(), false, &readings).is_empty(), "9 minutes above: not yet");
        values.push(-10.5);
        let readings = every_minute(&values);
        assert_eq!(judge_threshold(&freezer(), false, &readings), vec![Verdict::Open { at_ms: 15 * MIN, value: -10.5 }]);
    }

    #[test]
    fn a_breach_interrupted_starts_over() {
        let mut values = vec![-10.0; 8];
        values.push(-13.0);
        values.extend(vec![-10.0; 8]);
        assert!(judge_threshold(&freezer(), false, &every_minute(&values)).is_empty());
    }

    #[test]
    fn sparse_readings_count_by_their_times() {
        let readings = [(0, -5.0), (10 * MIN, -5.0)];
        assert_eq!(judge_threshold(&freezer(), false, &readings), vec![Verdict::Open { at_ms: 10 * MIN, value: -5.0 }]);
        let below = Threshold { above: false, limit: 5.0, margin: 1.0, hold_ms: 0 };
        assert_eq!(judge_threshold(&below, false, &[(7, 4.9)]), vec![Verdict::Open { at_ms: 7, value: 4.9 }]);
    }

    #[test]
    fn values_around_the_limit_do_not_flap() {
        // Open, then wander between −12.5 and −11.5 for an hour: inside the margin, so the alert
        // neither resolves nor opens again.
        let mut values = vec![-10.0; 11];
        for i in 0..60 {
            values.push(if i % 2 == 0 { -12.5 } else { -11.5 });
        }
        let verdicts = judge_threshold(&freezer(), false, &every_minute(&values));
        assert_eq!(verdicts, vec![Verdict::Open { at_ms: 10 * MIN, value: -10.0 }]);
        assert!(judge_threshold(&freezer(), true, &every_minute(&values[11..])).is_empty());
    }

    #[test]
    fn recovery_past_the_margin_for_the_duration_resolves_once() {
        let mut values = vec![-10.0; 11];
        values.extend(vec![-14.0; 9]);
        let verdicts = judge_threshold(&freezer(), false, &every_minute(&values));
        assert_eq!(verdicts.len(), 1, "9 minutes back: still open");
        values.extend(vec![-14.0; 30]);
        let verdicts = judge_threshold(&freezer(), false, &every_minute(&values));
        assert_eq!(
            verdicts,
            vec![Verdict::Open { at_ms: 10 * MIN, value: -10.0 }, Verdict::Resolve { at_ms: 21 * MIN, value: -14.0 }]
        );
    }

    #[test]
    fn the_usual_interval_is_the_median_gap() {
        assert_eq!(learned_interval(&[]), None);
        assert_eq!(learned_interval(&[5]), None);
        // Every 60 s with one 2-hour hole and sensors reporting together (duplicate times).
        let mut times: Vec<i64> = (0..20).map(|i| i * 60_000).collect();
        times.push(19 * 60_000);
        times.push(19 * 60_000 + 7_200_000);
        assert_eq!(learned_interval(&times), Some(60_000));
        assert_eq!(learned_interval(&[0, 10, 30, 60]), Some(20));
    }

    #[test]
    fn a_device_is_offline_past_its_own_interval_times_the_factor() {
        let every_30s: Vec<i64> = (0..10).map(|i| i * 30_000).collect();
        let last = 9 * 30_000;
        assert!(judge_offline(&every_30s, 3.0, None, None, last + 90_000).is_empty(), "exactly 3 intervals: not yet");
        assert_eq!(
            judge_offline(&every_30s, 3.0, None, None, last + 120_000),
            vec![Verdict::Open { at_ms: last + 90_000, value: 2.0 }]
        );
        // A device reporting hourly is not offline after 10 minutes.
        let hourly: Vec<i64> = (0..10).map(|i| i * 3_600_000).collect();
        assert!(judge_offline(&hourly, 3.0, None, None, 9 * 3_600_000 + 600_000).is_empty());
        // Silence already judged (its alert resolved later) is not judged again.
        assert!(judge_offline(&every_30s, 3.0, None, Some(last + 100_000), last + 120_000).is_empty());
    }

    #[test]
    fn an_offline_device_is_back_after_two_readings() {
        let mut times: Vec<i64> = (0..10).map(|i| i * 30_000).collect();
        let opened = 9 * 30_000 + 90_000;
        times.push(opened + 60_000);
        assert!(judge_offline(&times, 3.0, Some(opened), None, opened + 61_000).is_empty(), "one reading is not enough");
        times.push(opened + 90_000);
        assert_eq!(
            judge_offline(&times, 3.0, Some(opened), None, opened + 91_000),
            vec![Verdict::Resolve { at_ms: opened + 90_000, value: 2.5 }]
        );
    }

    #[test]
    fn flow_that_never_stops_is_a_leak() {
        let rule = Rule {
            rule_id: 1,
            kind: RuleKind::LeakFlow,
            sensor_id: Some(1),
            device_id: 1,
            device: "house".into(),
            sensor: Some("house.flow".into()),
            sensor_name: None,
            sensor_kind: Some(Kind::Flow),
            threshold: None,
            margin: None,
            minutes: Some(30),
            factor: None,
            created_at_ms: 0,
            deleted_at_ms: None,
        };
        let leak = rule.threshold().unwrap();
        // A trickle of 0.2 L/min with a shower in between, never zero, for 40 minutes.
        let mut values = vec![0.2; 15];
        values.extend(vec![9.0; 10]);
        values.extend(vec![0.2; 15]);
        let verdicts = judge_threshold(&leak, false, &every_minute(&values));
        assert_eq!(verdicts, vec![Verdict::Open { at_ms: 30 * MIN, value: 0.2 }]);
        // Ordinary use: flow drops to zero between uses.
        let mut used = vec![];
        for _ in 0..4 {
            used.extend(vec![6.0; 8]);
            used.extend(vec![0.0; 2]);
        }
        assert!(judge_threshold(&leak, false, &every_minute(&used)).is_empty());
    }

    #[test]
    fn water_used_at_night_above_the_baseline_opens_and_a_clean_night_resolves() {
        const H: i64 = 60 * MIN;
        let nights = [(0, 5 * H), (24 * H, 29 * H)];
        // Night 1: a counter rising 1 L every 10 minutes from 01:00 (6 L/h); by day, 100 L more.
        let mut readings: Vec<(i64, f64)> = (0..=24).map(|i| (H + i * 10 * MIN, 1000.0 + i as f64)).collect();
        readings.push((12 * H, 1124.0));
        let verdicts = judge_night(&readings, &nights[..1], 10.0, None, 12 * H);
        assert_eq!(verdicts, vec![Verdict::Open { at_ms: H + 110 * MIN, value: 11.0 }]);
        // Night 2: 2 L only, with a counter reset in the middle: resolves at its end.
        readings.extend([(25 * H, 1124.0), (26 * H, 1125.0), (27 * H, 3.0), (28 * H, 4.0)]);
        let opened = H + 110 * MIN;
        assert!(judge_night(&readings[..readings.len() - 4], &nights, 10.0, Some(opened), 30 * H).is_empty(), "a night without readings tells nothing");
        assert!(judge_night(&readings, &nights, 10.0, Some(opened), 28 * H).is_empty(), "the night is not over");
        assert_eq!(
            judge_night(&readings, &nights, 10.0, Some(opened), 29 * H),
            vec![Verdict::Resolve { at_ms: 29 * H, value: 2.0 }]
        );
        // Water used by day does not count.
        let day: Vec<(i64, f64)> = (0..10).map(|i| (8 * H + i * MIN, i as f64 * 50.0)).collect();
        assert!(judge_night(&day, &nights[..1], 10.0, None, 12 * H).is_empty());
    }

    #[test]
    fn changes_apply_once_in_order() {
        let rule = Rule {
            rule_id: 1,
            kind: RuleKind::Above,
            sensor_id: Some(1),
            device_id: 1,
            device: "kitchen".into(),
            sensor: Some("freezer.temp".into()),
            sensor_name: None,
            sensor_kind: Some(Kind::Temperature),
            threshold: Some(-12.0),
            margin: Some(1.0),
            minutes: Some(10),
            factor: None,
            created_at_ms: 0,
            deleted_at_ms: None,
        };
        assert_eq!(rule.describe(), "Freezer temperature above −12 °C for 10 min");
        let alert = |id| Alert { alert_id: id, rule: rule.clone(), opened_at_ms: id, resolved_at_ms: None, value: -10.0, resolved_value: None, message: String::new() };
        let opened = |id| AlertEvent { state: AlertState::Opened, alert: alert(id) };
        let resolved = |id| AlertEvent { state: AlertState::Resolved, alert: alert(id) };
        let ids = |list: Vec<Alert>| list.into_iter().map(|a| a.alert_id).collect::<Vec<_>>();
        assert_eq!(ids(apply_changes(&[alert(1)], &[opened(1), opened(2)])), vec![1, 2]);
        assert_eq!(ids(apply_changes(&[alert(1)], &[opened(2), resolved(1), opened(2)])), vec![2]);
        assert_eq!(ids(apply_changes(&[], &[resolved(3), opened(3)])), Vec::<i64>::new(), "a resolution heard wins");
    }

    #[test]
    fn forms_are_checked_field_by_field() {
        let form = |kind: &str| RuleForm { kind: kind.into(), sensor_id: "4".into(), device_id: "".into(), threshold: "−12".into(), margin: "".into(), minutes: "10".into(), factor: "".into() };
        let rule = form("above").check().unwrap();
        assert_eq!((rule.threshold, rule.margin, rule.minutes), (Some(-12.0), Some(0.5), Some(10)));
        assert_eq!(form("sideways").check().unwrap_err().0, "kind");
        assert_eq!(form("offline").check().unwrap_err().0, "device_id");
        assert_eq!(RuleForm { minutes: "-1".into(), ..form("below") }.check().unwrap_err().0, "minutes");
        assert_eq!(RuleForm { threshold: "hot".into(), ..form("below") }.check().unwrap_err().0, "threshold");
        let offline = RuleForm { device_id: "2".into(), ..form("offline") }.check().unwrap();
        assert_eq!((offline.device_id, offline.factor, offline.sensor_id), (Some(2), Some(3.0), None));
        assert_eq!(RuleForm { device_id: "2".into(), factor: "0.5".into(), ..form("offline") }.check().unwrap_err().0, "factor");
    }
}
