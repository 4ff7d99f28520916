//! Appliance usage from `switch` sensors (0 off, 1 on). A state holds from its reading until
//! the next one; a run is a span from a switch-on to the following switch-off, and one still
//! on counts up to now. On-time per local day is the on-time of the runs inside each day (a
//! run across midnight is split). A run's energy comes from the appliance's `power` sensor
//! (see [`pair`]): the integral of power over the run, each power reading held until the next.

use crate::sensor::{Kind, Sensor};
use serde::{Deserialize, Serialize};

/// One run of an appliance: switched on at `start_ms`, off at `end_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The switch sensor.
    pub sensor_id: i64,
    /// When it was switched on, Unix milliseconds.
    pub start_ms: i64,
    /// When it was switched off, Unix milliseconds; `None` while it is still on.
    pub end_ms: Option<i64>,
    /// Energy used during the run in kWh, from the paired power sensor; `None` without one.
    pub kwh: Option<f64>,
}

impl Run {
    /// How long it ran, in milliseconds, counting a run still on up to `now_ms`.
    pub fn duration_ms(&self, now_ms: i64) -> i64 {
        (self.end_ms.unwrap_or(now_ms).min(now_ms) - self.start_ms).max(0)
    }
}

/// Milliseconds in one kWh-per-watt: energy in W·ms divided by this is kWh.
const W_MS_PER_KWH: f64 = 3_600_000_000.0;

/// The runs of a switch, as (start, end) with `None` for still on, from its readings
/// `(at_ms, on)` sorted by time, and `on_since`: when the run in progress at the first
/// reading began, if the switch was on before it. Repeated states are not transitions.
pub fn runs(on_since: Option<i64>, readings: &[(i64, bool)]) -> Vec<(i64, Option<i64>)> {
    let mut out = Vec::new();
    let mut start = on_since;
    for &(at_ms, on) in readings {
        match (start, on) {
            (None, true) => start = Some(at_ms),
            (Some(since), false) => {
                out.push((since, Some(at_ms)));
                start = None;
            }
            _ => {}
        }
    }
    out.extend(start.map(|since| (since, None)));
    out
}

/// On-time in milliseconds in each interval `[boundaries[i], boundaries[i + 1])` of the sorted
/// `boundaries`, from `runs` as [`runs`] gives them. Nothing counts after `now_ms`: a run
/// still on runs up to it.
pub fn on_ms_per_interval(runs: &[(i64, Option<i64>)], boundaries: &[i64], now_ms: i64) -> Vec<i64> {
    let mut out = vec![0; boundaries.len().saturating_sub(1)];
    for &(start, end) in runs {
        let end = end.unwrap_or(now_ms).min(now_ms);
        let first = boundaries.partition_point(|b| *b <= start).saturating_sub(1);
        for (i, w) in boundaries.windows(2).enumerate().skip(first) {
            if w[0] >= end {
                break;
            }
            out[i] += (end.min(w[1]) - start.max(w[0])).max(0);
        }
    }
    out
}

/// Energy in kWh used in `[from_ms, to_ms)` by a load whose power readings `(at_ms, watts)`
/// are sorted by time, each held until the next; `held` is the power in force at `from_ms`
/// (from the last reading before it), if known. Before the first known power nothing counts.
pub fn energy_kwh(held: Option<f64>, power: &[(i64, f64)], from_ms: i64, to_ms: i64) -> f64 {
    let (mut current, mut since, mut watt_ms) = (held, from_ms, 0.0);
    for &(at_ms, watts) in power {
        if at_ms >= to_ms {
            break;
        }
        if at_ms > from_ms {
            watt_ms += current.unwrap_or(0.0) * (at_ms - since) as f64;
            since = at_ms;
        }
        current = Some(watts);
    }
    watt_ms += current.unwrap_or(0.0) * (to_ms - since).max(0) as f64;
    watt_ms / W_MS_PER_KWH
}

/// The power sensor that measures the appliance `switch` turns on, among `sensors` (those of
/// its device): the one whose key has the same part before the last `.` as the switch's
/// (`washer.switch` and `washer.power`; `switch` and `power` on a plain smart plug), else the
/// device's only power sensor that is not a main meter.
pub fn pair<'a>(switch: &Sensor, sensors: &'a [Sensor]) -> Option<&'a Sensor> {
    let stem = |key: &'a str| key.rsplit_once('.').map_or("", |(stem, _)| stem);
    let switch_stem = switch.key.rsplit_once('.').map_or("", |(stem, _)| stem);
    let power = || sensors.iter().filter(|s| s.kind == Kind::Power && s.device == switch.device);
    power().find(|s| stem(&s.key) == switch_stem).or_else(|| {
        let mut appliances = power().filter(|s| !s.main);
        match (appliances.next(), appliances.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    })
}


#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = crate::time::HOUR_MS;

    fn sensor(sensor_id: i64, key: &str, kind: Kind, main: bool) -> Sensor {
        Sensor { sensor_id, device: "plug".into(), key: key.into(), kind, room: None, name: None, main, role: None }
    }

    #[test]
    fn runs_go_from_on_to_off_and_repeated_states_are_not_transitions() {
        let readings = [(0, false), (10, true), (20, true), (30, false), (40, false), (50, true)];
        assert_eq!(runs(None, &readings), [(10, Some(30)), (50, None)]);
        // On before the first reading: the run began at `on_since`.
        assert_eq!(runs(Some(-5), &[(3, true), (7, false)]), [(-5, Some(7))]);
        assert_eq!(runs(Some(-5), &[]), [(-5, None)]);
        assert!(runs(None, &[(1, false)]).is_empty());
    }

    #[test]
    fn a_run_across_midnight_is_split_between_the_days() {
        // Days [0, 24h) and [24h, 48h); on from 23:00 to 01:30.
        let days = [0, 24 * H, 48 * H];
        let runs = [(23 * H, Some(25 * H + H / 2))];
        assert_eq!(on_ms_per_interval(&runs, &days, 100 * H), [H, 3 * H / 2]);
    }

    #[test]
    fn a_run_still_on_counts_up_to_now() {
        let days = [0, 24 * H, 48 * H];
        assert_eq!(on_ms_per_interval(&[(22 * H, None)], &days, 30 * H), [2 * H, 6 * H]);
        // Nothing counts after now, even a switch-off dated later.
        assert_eq!(on_ms_per_interval(&[(22 * H, Some(40 * H))], &days, 30 * H), [2 * H, 6 * H]);
        assert_eq!(Run { sensor_id: 1, start_ms: 22 * H, end_ms: None, kwh: None }.duration_ms(30 * H), 8 * H);
    }

    #[test]
    fn runs_outside_the_intervals_count_nothing() {
        let runs = [(-10 * H, Some(-H)), (H, Some(2 * H)), (50 * H, Some(51 * H))];
        assert_eq!(on_ms_per_interval(&runs, &[0, 24 * H, 48 * H], 100 * H), [H, 0]);
        assert_eq!(on_ms_per_interval(&[(-H, Some(H))], &[0, 24 * H], 100 * H), [H]);
    }

    #[cfg(feature = "tzdb")]
    #[test]
    fn on_hours_follow_local_days_of_23_and_25_hours() {
        use crate::time::house::HouseZone;
        use jiff::civil::Date;
        let zones = [("Europe/Lisbon", "2026-03-29", "2026-10-25"), ("Australia/Adelaide", "2026-10-04", "2026-04-05")];
        for (name, short, long) in zones {
            let house = HouseZone::named(name).unwrap();
            let local = |date: Date, hour: i8| date.at(hour, 0, 0, 0).to_zoned(house.0.clone()).unwrap().timestamp().as_millisecond();
            for (date, hours) in [(short, 23), (long, 25)] {
                let date: Date = date.parse().unwrap();
                let (yesterday, tomorrow) = (date.yesterday().unwrap(), date.tomorrow().unwrap());
                let days = [house.day(yesterday), house.day(date), house.day(tomorrow)];
                let boundaries = [days[0].start_ms, days[1].start_ms, days[2].start_ms, days[2].end_ms];
                // On from 22:00 the evening before to 04:00 (across the clock change), and from
                // 23:00 to 01:00 the next day: off for 19 real hours of the day.
                let readings = [(local(yesterday, 22), true), (local(date, 4), false), (local(date, 23), true), (local(tomorrow, 1), false)];
                let on = on_ms_per_interval(&runs(None, &readings), &boundaries, i64::MAX);
                assert_eq!(on, [2 * H, (hours - 19) * H, H], "{name} {date}");
            }
        }
    }

    #[test]
    fn energy_holds_each_power_reading_until_the_next() {
        // 2,000 W from 0 to 30 min, then 500 W to 1 h: 1 + 0.25 kWh.
        let power = [(0, 2000.0), (H / 2, 500.0)];
        assert!((energy_kwh(None, &power, 0, H) - 1.25).abs() < 1e-12);
        // The reading before the span holds into it; readings after it count nothing.
        let power = [(-H, 1000.0), (H / 2, 0.0), (2 * H, 3000.0)];
        assert!((energy_kwh(Some(1000.0), &power[1..], 0, H) - 0.5).abs() < 1e-12);
        assert!((energy_kwh(None, &power, 0, H) - 0.5).abs() < 1e-12);
        // Before the first known power, nothing is counted.
        assert!((energy_kwh(None, &[(H / 2, 1000.0)], 0, H) - 0.5).abs() < 1e-12);
        assert_eq!(energy_kwh(None, &[], 0, H), 0.0);
    }

    #[test]
    fn a_switch_pairs_with_the_power_sensor_of_its_appliance() {
        let washer_switch = sensor(1, "washer.switch", Kind::Switch, false);
        let sensors = [
            sensor(2, "dryer.power", Kind::Power, false),
            sensor(3, "washer.power", Kind::Power, false),
            sensor(4, "washer.energy", Kind::Energy, false),
        ];
        assert_eq!(pair(&washer_switch, &sensors).map(|s| s.sensor_id), Some(3));
        // A plain smart plug: `switch` and `power`.
        let plug = [sensor(5, "power", Kind::Power, false), sensor(6, "house.power", Kind::Power, true)];
        assert_eq!(pair(&sensor(7, "switch", Kind::Switch, false), &plug).map(|s| s.sensor_id), Some(5));
        // No matching key: the only power sensor that is not a main meter.
        let relay = [sensor(8, "house.power", Kind::Power, true), sensor(9, "load.power", Kind::Power, false)];
        assert_eq!(pair(&sensor(10, "relay.state", Kind::Switch, false), &relay).map(|s| s.sensor_id), Some(9));
        // Two candidates and no match: no guess.
        assert_eq!(pair(&sensor(10, "relay.state", Kind::Switch, false), &sensors), None);
        assert_eq!(pair(&sensor(10, "relay.state", Kind::Switch, false), &[]), None);
    }
}
