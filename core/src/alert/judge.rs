//! How rules are judged: pure functions from readings (oldest first) and whether an alert is
//! open to the transitions, each timed by the reading that decided it.

use super::{Alert, AlertEvent, AlertState};

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

/// Judges `readings` (time, value; oldest first) by `condition`, starting open or not, with
/// the run of readings that counted toward the next change begun at `since` (from an earlier
/// judging; `None`: none). A breach opens when readings have all been beyond the limit from
/// one at least `hold_ms` before; an open alert resolves when readings have all been back past
/// the margin from one at least `hold_ms` before. Returns the transitions and where the run
/// counting toward the next one began, for the next judging to resume with.
pub fn judge_threshold(condition: &Threshold, open: bool, since: Option<i64>, readings: &[(i64, f64)]) -> (Vec<Verdict>, Option<i64>) {
    let mut verdicts = Vec::new();
    let mut open = open;
    let mut since = since;
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
    (verdicts, since)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Rule, RuleKind};
    use crate::sensor::Kind;

    const MIN: i64 = crate::time::MINUTE_MS;

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
        assert!(judge_threshold(&freezer(), false, None, &readings).0.is_empty(), "9 minutes above: not yet");
        values.push(-10.5);
        let readings = every_minute(&values);
        assert_eq!(judge_threshold(&freezer(), false, None, &readings).0, vec![Verdict::Open { at_ms: 15 * MIN, value: -10.5 }]);
    }

    #[test]
    fn a_breach_interrupted_starts_over() {
        let mut values = vec![-10.0; 8];
        values.push(-13.0);
        values.extend(vec![-10.0; 8]);
        assert!(judge_threshold(&freezer(), false, None, &every_minute(&values)).0.is_empty());
    }

    #[test]
    fn sparse_readings_count_by_their_times() {
        let readings = [(0, -5.0), (10 * MIN, -5.0)];
        assert_eq!(judge_threshold(&freezer(), false, None, &readings).0, vec![Verdict::Open { at_ms: 10 * MIN, value: -5.0 }]);
        let below = Threshold { above: false, limit: 5.0, margin: 1.0, hold_ms: 0 };
        assert_eq!(judge_threshold(&below, false, None, &[(7, 4.9)]).0, vec![Verdict::Open { at_ms: 7, value: 4.9 }]);
    }

    #[test]
    fn values_around_the_limit_do_not_flap() {
        // Open, then wander between −12.5 and −11.5 for an hour: inside the margin, so the alert
        // neither resolves nor opens again.
        let mut values = vec![-10.0; 11];
        for i in 0..60 {
            values.push(if i % 2 == 0 { -12.5 } else { -11.5 });
        }
        let verdicts = judge_threshold(&freezer(), false, None, &every_minute(&values)).0;
        assert_eq!(verdicts, vec![Verdict::Open { at_ms: 10 * MIN, value: -10.0 }]);
        assert!(judge_threshold(&freezer(), true, None, &every_minute(&values[11..])).0.is_empty());
    }

    #[test]
    fn recovery_past_the_margin_for_the_duration_resolves_once() {
        let mut values = vec![-10.0; 11];
        values.extend(vec![-14.0; 9]);
        let verdicts = judge_threshold(&freezer(), false, None, &every_minute(&values)).0;
        assert_eq!(verdicts.len(), 1, "9 minutes back: still open");
        values.extend(vec![-14.0; 30]);
        let verdicts = judge_threshold(&freezer(), false, None, &every_minute(&values)).0;
        assert_eq!(
            verdicts,
            vec![Verdict::Open { at_ms: 10 * MIN, value: -10.0 }, Verdict::Resolve { at_ms: 21 * MIN, value: -14.0 }]
        );
    }

    #[test]
    fn judging_resumes_where_it_stopped() {
        // The same readings judged in one go, or in pieces carrying the run over, decide alike.
        let mut values = vec![-18.0; 5];
        values.extend(vec![-10.0; 30]);
        values.extend(vec![-14.0; 30]);
        let readings = every_minute(&values);
        let whole = judge_threshold(&freezer(), false, None, &readings).0;
        assert_eq!(whole.len(), 2);
        let (mut open, mut since, mut pieces) = (false, None, Vec::new());
        for chunk in readings.chunks(7) {
            let (verdicts, run) = judge_threshold(&freezer(), open, since, chunk);
            open ^= verdicts.len() % 2 == 1;
            since = run;
            pieces.extend(verdicts);
        }
        assert_eq!(pieces, whole);
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
        let verdicts = judge_threshold(&leak, false, None, &every_minute(&values)).0;
        assert_eq!(verdicts, vec![Verdict::Open { at_ms: 30 * MIN, value: 0.2 }]);
        // Ordinary use: flow drops to zero between uses.
        let mut used = vec![];
        for _ in 0..4 {
            used.extend(vec![6.0; 8]);
            used.extend(vec![0.0; 2]);
        }
        assert!(judge_threshold(&leak, false, None, &every_minute(&used)).0.is_empty());
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
}
