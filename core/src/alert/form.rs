//! A new rule's parameters as the Alerts form sends them, checked field by field.

use super::RuleKind;
use crate::sensor::Kind;
use serde::{Deserialize, Serialize};

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
        let kind: RuleKind = self.kind.trim().parse().map_err(|e| ("kind", format!("kind: {e}")))?;
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
                    return Err(("threshold", "threshold (the night's baseline) must be 0 L or more".into()));
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn every_refusal_names_the_field_it_is_about() {
        let form = |kind: &str| RuleForm { kind: kind.into(), sensor_id: "4".into(), device_id: "2".into(), threshold: "1".into(), margin: "".into(), minutes: "10".into(), factor: "".into() };
        let refused = [
            (form("sideways"), "kind"),
            (RuleForm { sensor_id: "".into(), ..form("above") }, "sensor_id"),
            (RuleForm { device_id: "x".into(), ..form("offline") }, "device_id"),
            (RuleForm { threshold: "".into(), ..form("below") }, "threshold"),
            (RuleForm { threshold: "-3".into(), ..form("leak_night") }, "threshold"),
            (RuleForm { margin: "-1".into(), ..form("above") }, "margin"),
            (RuleForm { margin: "wide".into(), ..form("above") }, "margin"),
            (RuleForm { minutes: "1e9".into(), ..form("leak_flow") }, "minutes"),
            (RuleForm { factor: "2000".into(), ..form("offline") }, "factor"),
            (RuleForm { factor: "often".into(), ..form("offline") }, "factor"),
        ];
        for (form, field) in refused {
            let (at, message) = form.check().unwrap_err();
            assert_eq!(at, field, "{message}");
            assert!(message.starts_with(field), "{message:?} names {field} first");
        }
    }
}
