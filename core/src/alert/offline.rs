//! How a device is judged offline: by its **reports**, not its readings. A device that sends
//! each sensor in a message of its own (ESPHome over MQTT: one topic per sensor, each stored
//! when it arrives) makes several readings a few milliseconds apart per report; taken one by
//! one, their gaps would make its usual interval those milliseconds. So readings of different
//! sensors closer than half the fastest sensor's own interval are one report, and the usual
//! interval is the median gap between reports.

use super::{BACK_AFTER_REPORTS, Verdict};
use crate::time::MINUTE_MS;

/// One report of a device: the first and the last time of the readings sent together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// Its first reading's time, Unix milliseconds.
    pub first_ms: i64,
    /// Its last reading's time, Unix milliseconds.
    pub last_ms: i64,
}

/// The median of `values` (sorted here); `None` when empty.
fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2 })
}

/// A sensor's own interval: the median gap between its distinct reading times (any order).
/// `None` with fewer than two.
pub fn sensor_interval(times: &[i64]) -> Option<i64> {
    let mut times = times.to_vec();
    times.sort_unstable();
    times.dedup();
    median(times.windows(2).map(|w| w[1] - w[0]).collect()).map(|gap| gap.max(1))
}

/// How far apart readings of one report may be: half the shortest of the sensors' own
/// intervals (`sensors` holds each sensor's recent reading times). `None` when no sensor has
/// two readings yet.
pub fn report_window(sensors: &[Vec<i64>]) -> Option<i64> {
    sensors.iter().filter_map(|times| sensor_interval(times)).min().map(|every| (every / 2).max(1))
}

/// Groups reading times (of any sensors, any order) into reports: a reading less than
/// `window_ms` after its report's first reading belongs to it. Oldest first.
pub fn reports(times: &[i64], window_ms: i64) -> Vec<Report> {
    let mut times = times.to_vec();
    times.sort_unstable();
    times.dedup();
    let mut reports: Vec<Report> = Vec::new();
    for at in times {
        match reports.last_mut() {
            Some(report) if at - report.first_ms < window_ms => report.last_ms = at,
            _ => reports.push(Report { first_ms: at, last_ms: at }),
        }
    }
    reports
}

/// A device's usual interval, from each of its sensors' recent reading times: the median gap
/// between the starts of its reports (see [`reports`]). `None` with fewer than two reports.
pub fn learned_interval(sensors: &[Vec<i64>]) -> Option<i64> {
    let window = report_window(sensors)?;
    let all: Vec<i64> = sensors.iter().flatten().copied().collect();
    let starts: Vec<i64> = reports(&all, window).iter().map(|r| r.first_ms).collect();
    median(starts.windows(2).map(|w| w[1] - w[0]).collect()).map(|gap| gap.max(1))
}

/// What judging a device's reports decided, and where the next judging resumes.
#[derive(Clone, Debug, PartialEq)]
pub struct Offline {
    /// The transitions, oldest first.
    pub verdicts: Vec<Verdict>,
    /// Where the next judging reads from: the first time of the last report judged (more
    /// readings of it may still come), or while an alert is open, of the last report before
    /// the silence.
    pub resume_ms: Option<i64>,
}

/// Judges a device's reading times `times` (of all its sensors, from where the last judging
/// resumed, any order) grouped into reports of `window_ms`, with its usual interval
/// `interval_ms`, at `now_ms`. A silence longer than `factor` × the interval (between two
/// reports, or since the last one) opens at the instant it became overdue, with its length in
/// minutes; an open alert (opened at `open`) resolves at the
/// [`BACK_AFTER_REPORTS`]th report after it opened (one stray report does not resolve it).
pub fn judge_offline(times: &[i64], window_ms: i64, interval_ms: i64, factor: f64, open: Option<i64>, now_ms: i64) -> Offline {
    let allowed = (interval_ms as f64 * factor.max(1.0)).round() as i64;
    let reports = reports(times, window_ms);
    let mut verdicts = Vec::new();
    let mut open = open;
    // While open: the last report before the silence, and the reports since.
    let mut before: Option<Report> = None;
    let mut back: Vec<i64> = Vec::new();
    let mut previous: Option<Report> = None;
    for report in &reports {
        match open {
            Some(opened_at) if report.first_ms > opened_at => {
                back.push(report.first_ms);
                if back.len() == BACK_AFTER_REPORTS {
                    let silent = back[0] - before.map_or(opened_at, |b| b.last_ms).min(back[0]);
                    verdicts.push(Verdict::Resolve { at_ms: report.first_ms, value: minutes(silent) });
                    open = None;
                    back.clear();
                }
            }
            Some(_) => before = Some(*report),
            None => {
                if let Some(p) = previous
                    && report.first_ms - p.last_ms > allowed
                {
                    let opened_at = p.last_ms + allowed;
                    verdicts.push(Verdict::Open { at_ms: opened_at, value: minutes(report.first_ms - p.last_ms) });
                    open = Some(opened_at);
                    before = Some(p);
                    back = vec![report.first_ms];
                }
            }
        }
        previous = Some(*report);
    }
    if open.is_none()
        && let Some(last) = reports.last()
        && now_ms - last.last_ms > allowed
    {
        verdicts.push(Verdict::Open { at_ms: last.last_ms + allowed, value: minutes(now_ms - last.last_ms) });
    }
    // While open, the next judging starts again from before the silence: the reports after it
    // are counted, and its length told, from there.
    let resume = if open.is_some() { before.or(reports.first().copied()) } else { reports.last().copied() };
    Offline { verdicts, resume_ms: resume.map(|r| r.first_ms) }
}

fn minutes(ms: i64) -> f64 {
    (ms as f64 / MINUTE_MS as f64 * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two sensors reporting 20 ms apart every `every` ms, `n` times from 0.
    fn esphome(every: i64, n: i64) -> Vec<Vec<i64>> {
        vec![(0..n).map(|i| i * every).collect(), (0..n).map(|i| i * every + 20).collect()]
    }

    #[test]
    fn readings_sent_together_are_one_report() {
        let sensors = esphome(10_000, 10);
        assert_eq!(report_window(&sensors), Some(5_000));
        assert_eq!(learned_interval(&sensors), Some(10_000), "not the 20 ms between the two sensors");
        let all: Vec<i64> = sensors.concat();
        assert_eq!(reports(&all, 5_000)[..2], [Report { first_ms: 0, last_ms: 20 }, Report { first_ms: 10_000, last_ms: 10_020 }]);
        // A fast sensor and a slow one: the device reports as often as the fast one.
        let fast_and_slow = vec![(0..60).map(|i| i * 10_000).collect(), (0..10).map(|i| 3_000 + i * 60_000).collect()];
        assert_eq!(learned_interval(&fast_and_slow), Some(10_000));
        // Three sensors every minute, a few seconds apart.
        let spread: Vec<Vec<i64>> = (0..3).map(|s| (0..20).map(|i| s * 2_000 + i * 60_000).collect()).collect();
        assert_eq!(learned_interval(&spread), Some(60_000));
    }

    #[test]
    fn the_usual_interval_is_the_median_gap_between_reports() {
        assert_eq!(learned_interval(&[]), None);
        assert_eq!(learned_interval(&[vec![5]]), None);
        // Every 60 s with one 2-hour hole.
        let mut times: Vec<i64> = (0..20).map(|i| i * 60_000).collect();
        times.push(19 * 60_000 + 7_200_000);
        assert_eq!(learned_interval(&[times]), Some(60_000));
        assert_eq!(sensor_interval(&[0, 10, 30, 60]), Some(20));
    }

    #[test]
    fn a_device_is_offline_past_its_own_interval_times_the_factor() {
        let every_30s: Vec<i64> = (0..10).map(|i| i * 30_000).collect();
        let last = 9 * 30_000;
        let judge = |now| judge_offline(&every_30s, 15_000, 30_000, 3.0, None, now).verdicts;
        assert!(judge(last + 90_000).is_empty(), "exactly 3 intervals: not yet");
        assert_eq!(judge(last + 120_000), vec![Verdict::Open { at_ms: last + 90_000, value: 2.0 }]);
        assert_eq!(judge_offline(&every_30s, 15_000, 30_000, 3.0, None, last).resume_ms, Some(last));
    }

    #[test]
    fn a_device_reporting_sensor_by_sensor_is_not_offline_between_reports() {
        let sensors = esphome(10_000, 30);
        let all = sensors.concat();
        let (window, every) = (report_window(&sensors).unwrap(), learned_interval(&sensors).unwrap());
        let last = 29 * 10_000 + 20;
        for now in (last..last + 30_000).step_by(1_000) {
            assert!(judge_offline(&all, window, every, 3.0, None, now).verdicts.is_empty(), "{now}");
        }
        assert_eq!(judge_offline(&all, window, every, 3.0, None, last + 30_001).verdicts, vec![Verdict::Open { at_ms: last + 30_000, value: 0.5 }]);
    }

    #[test]
    fn an_offline_device_is_back_after_two_reports() {
        let mut times: Vec<i64> = (0..10).map(|i| i * 30_000).collect();
        let opened = 9 * 30_000 + 90_000;
        times.extend([opened + 60_000, opened + 60_010]);
        let one = judge_offline(&times, 15_000, 30_000, 3.0, Some(opened), opened + 61_000);
        assert!(one.verdicts.is_empty(), "one report is not enough");
        assert_eq!(one.resume_ms, Some(9 * 30_000), "judged again from before the silence");
        assert_eq!(
            judge_offline(&times[9..], 15_000, 30_000, 3.0, Some(opened), opened + 61_000).resume_ms,
            Some(9 * 30_000),
            "resumed from there, the same"
        );
        times.push(opened + 90_000);
        assert_eq!(
            judge_offline(&times, 15_000, 30_000, 3.0, Some(opened), opened + 91_000).verdicts,
            vec![Verdict::Resolve { at_ms: opened + 90_000, value: 2.5 }]
        );
    }

    #[test]
    fn a_hole_inside_readings_posted_late_opens_and_resolves_where_it_was() {
        // Every minute for an hour, silent from minute 20 to 40, all posted at once.
        let times: Vec<i64> = (0..60).filter(|i| !(21..40).contains(i)).map(|i| i * 60_000).collect();
        let judged = judge_offline(&times, 30_000, 60_000, 3.0, None, 59 * 60_000 + 1_000);
        assert_eq!(
            judged.verdicts,
            vec![Verdict::Open { at_ms: 23 * 60_000, value: 20.0 }, Verdict::Resolve { at_ms: 41 * 60_000, value: 20.0 }]
        );
        assert_eq!(judged.resume_ms, Some(59 * 60_000));
    }
}
