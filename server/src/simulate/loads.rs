//! What draws electricity and water in the simulated house, and when. A load's runs on a
//! local day come from a generator seeded by the load and the day (the fridge's by its
//! compressor cycle), so they are the same however often, and from whichever start, they
//! are asked for.

use hearth_core::time::house::Day;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use rand::rngs::StdRng;
use hearth_core::time::{DAY_MS, HOUR_MS, MINUTE_MS};
use rand::{Rng, SeedableRng};

/// The instant the house's counters start from, 2025-01-01T00:00:00Z, in Unix milliseconds.
/// Nothing is simulated before it.
pub const EPOCH_MS: i64 = 1_735_689_600_000;

const SEED: u64 = 0x4845_4152_5448;

/// A generator for the `index`th draw of `stream`: the same numbers every time.
pub fn seeded(stream: u64, index: i64) -> StdRng {
    StdRng::seed_from_u64(SEED ^ (stream << 48) ^ (index as u64 & 0xffff_ffff_ffff))
}

/// A stretch of a run with a constant draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phase {
    /// When the stretch ends, Unix ms; it starts where the previous one ended.
    pub until_ms: i64,
    /// Electrical draw, mW.
    pub mw: i64,
    /// Water flow, mL/min.
    pub flow: i64,
}

/// One run of a load: a washing programme, a shower, a compressor cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// When it starts, Unix ms.
    pub start_ms: i64,
    /// Its stretches, in order, at least one.
    pub phases: Vec<Phase>,
}

impl Run {
    fn at(start_ms: i64) -> Run {
        Run { start_ms, phases: Vec::new() }
    }

    /// Appends a stretch of `minutes` drawing `watts` and `litres` per minute.
    fn then(self, minutes: f64, watts: f64, litres: f64) -> Run {
        let until = self.end_ms() + (minutes * MINUTE_MS as f64).round() as i64;
        self.until(until, watts, litres)
    }

    /// Appends a stretch lasting until `until_ms`.
    fn until(mut self, until_ms: i64, watts: f64, litres: f64) -> Run {
        let (mw, flow) = ((watts * 1000.0).round() as i64, (litres * 1000.0).round() as i64);
        self.phases.push(Phase { until_ms: until_ms.max(self.end_ms()), mw, flow });
        self
    }

    /// When it ends, Unix ms.
    pub fn end_ms(&self) -> i64 {
        self.phases.last().map_or(self.start_ms, |p| p.until_ms)
    }

    /// The stretch in force at `t`, if the run is.
    pub fn phase_at(&self, t: i64) -> Option<&Phase> {
        if t < self.start_ms {
            return None;
        }
        self.phases.iter().find(|p| t < p.until_ms)
    }

    /// Where each stretch starts, with the stretch.
    pub fn stretches(&self) -> impl Iterator<Item = (i64, &Phase)> {
        let starts = std::iter::once(self.start_ms).chain(self.phases.iter().map(|p| p.until_ms));
        starts.zip(&self.phases)
    }

    /// Energy drawn above `standby_mw` (mW·ms) and water (mL·ms/min) before `t`.
    pub fn used_before(&self, t: i64, standby_mw: i64) -> (i64, i64) {
        let (mut energy, mut water) = (0, 0);
        for (start, phase) in self.stretches() {
            let span = phase.until_ms.min(t) - start;
            if span <= 0 {
                break;
            }
            energy += (phase.mw - standby_mw) * span;
            water += phase.flow * span;
        }
        (energy, water)
    }
}

/// A local day of the house, as the schedules see it.
pub struct Local<'a> {
    /// The day.
    pub day: Day,
    /// The house's zone.
    pub tz: &'a TimeZone,
}

impl Local<'_> {
    /// The instant local clocks show `hours` (0–48) after this day's midnight; past 24, on
    /// the next day.
    fn at(&self, hours: f64) -> i64 {
        let seconds = (hours * 3600.0).round() as i64;
        let (date, seconds) = if seconds >= 86_400 { (self.day.date.tomorrow(), seconds - 86_400) } else { (Ok(self.day.date), seconds) };
        date.ok()
            .and_then(|d| d.at((seconds / 3600) as i8, (seconds / 60 % 60) as i8, (seconds % 60) as i8, 0).to_zoned(self.tz.clone()).ok())
            .map_or(self.day.start_ms + seconds * 1000, |z| z.timestamp().as_millisecond())
    }

    fn weekday(&self) -> Weekday {
        self.day.date.weekday()
    }

    fn weekend(&self) -> bool {
        matches!(self.weekday(), Weekday::Saturday | Weekday::Sunday)
    }
}

/// Something that draws electricity or water.
pub struct Load {
    /// Its name; for a load on a smart plug, the prefix of the plug's sensor keys.
    pub name: &'static str,
    /// The room of its smart plug, or `None` for a load only the house meters see.
    pub plug: Option<&'static str>,
    /// Its draw when not running, mW.
    pub standby_mw: i64,
    /// Its runs starting on a local day, each ending before the next day ends.
    pub runs: fn(&Local, &mut StdRng) -> Vec<Run>,
}

/// The fridge, on a smart plug.
pub const FRIDGE: usize = 0;
/// The washing machine, on a smart plug.
pub const WASHING_MACHINE: usize = 1;
/// The dishwasher, on a smart plug.
pub const DISHWASHER: usize = 2;
/// The TV, on a smart plug.
pub const TV: usize = 3;
/// The morning showers.
pub const SHOWERS: usize = 9;

/// Every load and water use of the house. The plugs come first.
pub const LOADS: [Load; 13] = [
    Load { name: "fridge", plug: Some("Kitchen"), standby_mw: 1_500, runs: fridge },
    Load { name: "washing_machine", plug: Some("Bathroom"), standby_mw: 500, runs: washing_machine },
    Load { name: "dishwasher", plug: Some("Kitchen"), standby_mw: 500, runs: dishwasher },
    Load { name: "tv", plug: Some("Living room"), standby_mw: 500, runs: tv },
    Load { name: "standby", plug: None, standby_mw: 140_000, runs: |_, _| Vec::new() },
    Load { name: "lights", plug: None, standby_mw: 0, runs: lights },
    Load { name: "kettle", plug: None, standby_mw: 0, runs: kettle },
    Load { name: "cooking", plug: None, standby_mw: 0, runs: cooking },
    Load { name: "office", plug: None, standby_mw: 0, runs: office },
    Load { name: "showers", plug: None, standby_mw: 0, runs: showers },
    Load { name: "toilet", plug: None, standby_mw: 0, runs: toilet },
    Load { name: "taps", plug: None, standby_mw: 0, runs: taps },
    Load { name: "garden", plug: None, standby_mw: 0, runs: garden },
];

/// The days the washing machine runs.
pub const WASH_DAYS: [Weekday; 3] = [Weekday::Monday, Weekday::Thursday, Weekday::Saturday];

/// The plug whose energy counter restarts from zero once a week, as after a power cut.
pub const RESET_LOAD: usize = DISHWASHER;
const RESET_PERIOD_MS: i64 = 7 * DAY_MS;
const FIRST_RESET_MS: i64 = EPOCH_MS + 3 * DAY_MS + 14 * HOUR_MS + 17 * MINUTE_MS;

/// The last counter reset at or before `t`, if there was one.
pub fn last_reset(t: i64) -> Option<i64> {
    (t >= FIRST_RESET_MS).then(|| FIRST_RESET_MS + (t - FIRST_RESET_MS) / RESET_PERIOD_MS * RESET_PERIOD_MS)
}

/// The counter resets in `[from, to)`.
pub fn resets(from: i64, to: i64) -> impl Iterator<Item = i64> {
    let first = last_reset(from - 1).map_or(FIRST_RESET_MS, |r| r + RESET_PERIOD_MS);
    (0..).map(move |i| first + i * RESET_PERIOD_MS).take_while(move |&r| r < to)
}

/// The fridge's compressor: a cycle every 61 minutes from the epoch, running 19–25 minutes
/// at about 100 W.
fn fridge(local: &Local, _: &mut StdRng) -> Vec<Run> {
    const CYCLE_MS: i64 = 61 * MINUTE_MS;
    let cycle = |t: i64| (t - EPOCH_MS).div_euclid(CYCLE_MS) + i64::from((t - EPOCH_MS).rem_euclid(CYCLE_MS) != 0);
    (cycle(local.day.start_ms)..cycle(local.day.end_ms))
        .map(|k| {
            let mut rng = seeded(FRIDGE as u64 + 1, k);
            let start = EPOCH_MS + k * CYCLE_MS + (rng.random_range(0.0..8.0) * MINUTE_MS as f64) as i64;
            Run::at(start).then(rng.random_range(19.0..25.0), rng.random_range(92.0..108.0), 0.0)
        })
        .collect()
}

/// On wash days: fill, heat to ~2 kW, tumble at ~200 W, two rinses with their fills, spin.
fn washing_machine(local: &Local, rng: &mut StdRng) -> Vec<Run> {
    if !WASH_DAYS.contains(&local.weekday()) {
        return Vec::new();
    }
    let start = if local.weekend() { rng.random_range(9.0..11.0) } else { rng.random_range(18.0..19.5) };
    let mut run = Run::at(local.at(start)).then(2.0, 30.0, 10.0).then(rng.random_range(15.0..25.0), 2050.0, 0.0);
    for tumble in 0..rng.random_range(13..17) {
        run = run.then(3.0, if tumble % 2 == 0 { 160.0 } else { 240.0 }, 0.0);
    }
    let run = run.then(2.0, 100.0, 0.0).then(1.5, 30.0, 10.0).then(10.0, 180.0, 0.0);
    let run = run.then(1.0, 100.0, 0.0).then(1.5, 30.0, 10.0).then(10.0, 180.0, 0.0);
    vec![run.then(rng.random_range(8.0..12.0), 450.0, 0.0)]
}

/// Most evenings, a programme of about 1.2 kWh: fill, heat, wash, fill, heated rinse, dry.
fn dishwasher(local: &Local, rng: &mut StdRng) -> Vec<Run> {
    if !rng.random_bool(0.85) {
        return Vec::new();
    }
    let run = Run::at(local.at(rng.random_range(20.5..22.0))).then(1.0, 30.0, 6.0);
    let run = run.then(rng.random_range(16.0..20.0), 2000.0, 0.0).then(rng.random_range(35.0..45.0), 160.0, 0.0);
    let run = run.then(1.0, 60.0, 0.0).then(1.0, 30.0, 5.0).then(rng.random_range(12.0..16.0), 1900.0, 0.0);
    vec![run.then(rng.random_range(25.0..35.0), 15.0, 0.0)]
}

/// Every evening, and some weekend afternoons, about 100 W varying with the picture.
fn tv(local: &Local, rng: &mut StdRng) -> Vec<Run> {
    let mut sessions = Vec::new();
    if local.weekend() && rng.random_bool(0.5) {
        let on = local.at(rng.random_range(14.5..16.0));
        sessions.push((on, on + rng.random_range(60..150) * MINUTE_MS));
    }
    sessions.push((local.at(rng.random_range(19.0..20.5)), local.at(rng.random_range(22.0..23.75))));
    sessions
        .into_iter()
        .map(|(on, off)| {
            let watts: f64 = rng.random_range(85.0..115.0);
            let mut run = Run::at(on);
            while run.end_ms() < off {
                let until = (run.end_ms() + 7 * MINUTE_MS).min(off);
                run = run.until(until, watts + rng.random_range(-10.0..10.0), 0.0);
            }
            run
        })
        .collect()
}

fn lights(local: &Local, rng: &mut StdRng) -> Vec<Run> {
    let morning = Run::at(local.at(rng.random_range(6.5..7.0)));
    let morning = morning.until(local.at(rng.random_range(7.75..8.25)), rng.random_range(60.0..100.0), 0.0);
    let evening = Run::at(local.at(rng.random_range(17.0..18.0))).until(local.at(21.0), rng.random_range(200.0..280.0), 0.0);
    let evening = evening.until(local.at(rng.random_range(22.75..23.75)), rng.random_range(120.0..160.0), 0.0);
    vec![morning, evening]
}

fn kettle(local: &Local, rng: &mut StdRng) -> Vec<Run> {
    let mut runs = vec![Run::at(local.at(rng.random_range(6.75..7.5))).then(rng.random_range(3.0..4.0), 2200.0, 0.0)];
    if rng.random_bool(0.6) {
        runs.push(Run::at(local.at(rng.random_range(15.5..16.5))).then(rng.random_range(3.0..4.0), 2200.0, 0.0));
    }
    runs
}

/// Dinner every day (oven with its thermostat, or the hob), lunch at weekends.
fn cooking(local: &Local, rng: &mut StdRng) -> Vec<Run> {
    let mut runs = Vec::new();
    if local.weekend() {
        runs.push(Run::at(local.at(rng.random_range(12.5..13.0))).then(rng.random_range(20.0..30.0), 1400.0, 0.0));
    }
    let dinner = Run::at(local.at(rng.random_range(18.25..19.25)));
    if rng.random_bool(0.5) {
        let mut oven = dinner.then(12.0, 2000.0, 0.0);
        for _ in 0..rng.random_range(3..5) {
            oven = oven.then(6.0, 2000.0, 0.0).then(4.0, 150.0, 0.0);
        }
        runs.push(oven);
    } else {
        runs.push(dinner.then(rng.random_range(20.0..30.0), 1400.0, 0.0));
    }
    runs
}

/// A computer in the office on working days.
fn office(local: &Local, rng: &mut StdRng) -> Vec<Run> {
    if local.weekend() {
        return Vec::new();
    }
    let start = Run::at(local.at(rng.random_range(8.75..9.25)));
    vec![start.until(local.at(rng.random_range(17.0..18.0)), rng.random_range(110.0..140.0), 0.0)]
}

/// Two showers in the morning, later at weekends.
fn showers(local: &Local, rng: &mut StdRng) -> Vec<Run> {
    let (first, second) = if local.weekend() { (8.0..9.5, 9.5..10.5) } else { (6.4..6.9, 7.2..7.9) };
    [first, second]
        .into_iter()
        .map(|hours| Run::at(local.at(rng.random_range(hours))).then(rng.random_range(5.0..10.0), 0.0, rng.random_range(8.0..9.0)))
        .collect()
}

fn toilet(local: &Local, rng: &mut StdRng) -> Vec<Run> {
    let mut runs: Vec<Run> = (0..6).map(|_| Run::at(local.at(rng.random_range(7.0..23.0))).then(0.5, 0.0, 12.0)).collect();
    runs.sort_by_key(|r| r.start_ms);
    runs
}

fn taps(local: &Local, rng: &mut StdRng) -> Vec<Run> {
    let mut runs: Vec<Run> = (0..5)
        .map(|_| Run::at(local.at(rng.random_range(7.0..22.0))).then(rng.random_range(0.5..1.5), 0.0, rng.random_range(5.0..7.0)))
        .collect();
    runs.sort_by_key(|r| r.start_ms);
    runs
}

/// Watering the garden on some evenings.
fn garden(local: &Local, rng: &mut StdRng) -> Vec<Run> {
    if !rng.random_bool(0.3) {
        return Vec::new();
    }
    vec![Run::at(local.at(rng.random_range(19.5..20.5))).then(rng.random_range(12.0..18.0), 0.0, rng.random_range(11.0..13.0))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_draws_each_stretch_for_its_length() {
        let run = Run::at(0).then(2.0, 100.0, 10.0).then(1.0, 1000.0, 0.0);
        assert_eq!(run.end_ms(), 3 * MINUTE_MS);
        assert_eq!(run.phase_at(-1), None);
        assert_eq!(run.phase_at(MINUTE_MS).map(|p| p.mw), Some(100_000));
        assert_eq!(run.phase_at(2 * MINUTE_MS).map(|p| p.mw), Some(1_000_000));
        assert_eq!(run.phase_at(3 * MINUTE_MS), None);
        // 2 minutes at 100 W and 10 L/min, then half a minute at 1 kW, all above a 1 W standby.
        let (energy, water) = run.used_before(150_000, 1000);
        assert_eq!(energy, 99_000 * 2 * MINUTE_MS + 999_000 * 30_000);
        assert_eq!(water, 10_000 * 2 * MINUTE_MS);
        assert_eq!(run.used_before(i64::MAX, 0), run.used_before(3 * MINUTE_MS, 0));
    }

    #[test]
    fn resets_come_every_seven_days_from_the_first() {
        assert_eq!(last_reset(FIRST_RESET_MS - 1), None);
        assert_eq!(last_reset(FIRST_RESET_MS), Some(FIRST_RESET_MS));
        assert_eq!(last_reset(FIRST_RESET_MS + RESET_PERIOD_MS - 1), Some(FIRST_RESET_MS));
        let found: Vec<i64> = resets(FIRST_RESET_MS, FIRST_RESET_MS + 3 * RESET_PERIOD_MS).collect();
        assert_eq!(found, [0, 1, 2].map(|i| FIRST_RESET_MS + i * RESET_PERIOD_MS));
        assert_eq!(resets(FIRST_RESET_MS + 1, FIRST_RESET_MS + RESET_PERIOD_MS).count(), 0);
        assert_eq!(resets(EPOCH_MS, FIRST_RESET_MS + 1).collect::<Vec<_>>(), [FIRST_RESET_MS]);
    }
}
