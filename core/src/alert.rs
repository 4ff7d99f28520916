//! Alerts: rules the homeowner sets on a sensor (above or below a value for a while, water
//! flowing without a break, water used at night) or on a device (silent for longer than its
//! usual interval allows), and the alerts they open and resolve.
//!
//! The judging is pure ([`judge`], and [`offline`] for devices): each judge takes readings in
//! time order, whether an alert is open and where the last judging stopped, and returns the
//! transitions, timed by the readings themselves, and where to resume. The server's evaluator
//! feeds them from the store, which records the transitions with the rule's [`Progress`] and
//! keeps one open alert per rule however many servers judge it. A new rule's parameters are
//! checked by [`form`]; where alerts are sent besides the live stream is [`channel`].

pub mod channel;
pub mod form;
pub mod judge;
pub mod offline;

pub use form::{NewRule, RuleForm};
pub use judge::{Threshold, Verdict};

use crate::format::number;
use crate::sensor::Kind;
use crate::time::MINUTE_MS;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
/// The night, for [`RuleKind::LeakNight`]: this long from local midnight.
pub const NIGHT_MS: i64 = 5 * 60 * MINUTE_MS;
/// The recent readings of each sensor a device's usual interval is learned from.
pub const LEARN_READINGS: usize = 100;
/// Reports after a silence that bring a device back (so one stray report does not resolve).
pub const BACK_AFTER_REPORTS: usize = 2;

/// How far a rule has been judged, as the store keeps it between evaluations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Readings up to this time (inclusive) have been judged, Unix milliseconds. Offline: the
    /// first time of the device's last report judged, where judging resumes.
    pub judged_to_ms: i64,
    /// Above/below/flow: when the run of readings counting toward the next change began.
    pub since_ms: Option<i64>,
    /// Bumped at each change; 0 while nothing is stored. Two servers that judged the same
    /// readings record only the first one's verdicts.
    pub version: i64,
}

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
