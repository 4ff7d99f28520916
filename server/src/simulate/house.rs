//! The house as its sensors see it at any instant: room climate, the whole-house electricity
//! and water meters, and the smart plugs. Every value at an instant is a function of that
//! instant (and the house's zone): counters are sums from [`EPOCH_MS`] kept per local day,
//! in integer units so that they never step back by a rounding error.

use super::energy::{self, EnergyDay, GAS_UNITS_PER_M3, OCCUPIED, Place};
use super::loads::{self, EPOCH_MS, LOADS, Local, RESET_LOAD, Run, SHOWERS, seeded};
use super::rooms::ROOMS;
use hearth_core::time::house::rfc3339;
use hearth_core::sensor::Kind;
use hearth_core::time::house::{Day, HouseZone};
use jiff::Timestamp;
use rand::Rng;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// Switches also report their state at every multiple of this, between transitions.
pub const REPORT_MS: i64 = 5 * 60_000;

const NOISE_STREAM: u64 = 0xff;
const MW_MS_PER_KWH: f64 = 3.6e12;
const FLOW_MS_PER_LITRE: f64 = 1000.0 * 60_000.0;

/// A reading in the ingest endpoint's format. Each carries its sensor's kind and room, so
/// whichever reading of a sensor arrives first creates it right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    /// The sensor's key.
    pub sensor: String,
    /// The value, in the kind's unit.
    pub value: f64,
    /// When, Unix milliseconds (sent as RFC 3339).
    #[serde(rename = "at", serialize_with = "as_rfc3339")]
    pub at_ms: i64,
    /// What the sensor measures.
    pub kind: Kind,
    /// The sensor's room; none for the whole-house meters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<&'static str>,
}

fn as_rfc3339<S: Serializer>(at_ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*at_ms))
}

/// Where a sensor's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Temperature(usize),
    Humidity(usize),
    HousePower,
    HouseEnergy,
    HouseWater,
    HouseFlow,
    Switch(usize),
    Power(usize),
    Energy(usize),
    Co2(usize),
    SolarPower,
    SolarEnergy,
    GridImport,
    GridExport,
    GridImportPower,
    GridExportPower,
    BatteryCharge,
    BatteryDischarge,
    BatteryChargePower,
    BatteryDischargePower,
    BatterySoc,
    Gas,
}

struct Sensor {
    key: String,
    kind: Kind,
    room: Option<&'static str>,
    source: Source,
}

/// The runs of one local day, per load.
struct Plan {
    day: Day,
    runs: Vec<Vec<Run>>,
}

/// Energy above standby (mW·ms) per load and water (mL·ms/min) of whole days.
#[derive(Clone)]
struct Totals {
    energy: Vec<i64>,
    water: i64,
}

/// What the loads draw at an instant.
struct Draw {
    mw: Vec<i64>,
    on: Vec<bool>,
    flow: i64,
}

/// The simulated house. It plans local days from the epoch on as instants need them and
/// keeps, for the days around the instants last asked for, each day's runs and the running
/// totals of the days before it: the days before those are forgotten, so a house that runs
/// for years holds a few days, and planned again from the epoch if asked for.
pub struct House {
    zone: HouseZone,
    place: Place,
    sensors: Vec<Sensor>,
    /// Days planned and forgotten before `plans[0]`.
    forgotten: usize,
    plans: Vec<Plan>,
    before: Vec<Totals>,
    energy: Vec<EnergyDay>,
}

impl House {
    /// The house in `zone`, its sun seen from the zone's place ([`Place::of_zone`]).
    pub fn new(zone: HouseZone) -> House {
        House::at(zone, None)
    }

    /// The house in `zone`, its sun seen from `latitude` (degrees north; the zone's own when
    /// `None`) on the zone's meridian.
    pub fn at(zone: HouseZone, latitude: Option<f64>) -> House {
        let mut sensors = Vec::new();
        for (i, room) in ROOMS.iter().enumerate() {
            let room_sensor = |kind: Kind, source| Sensor { key: format!("{}.{kind}", room.key), kind, room: Some(room.name), source };
            sensors.push(room_sensor(Kind::Temperature, Source::Temperature(i)));
            sensors.push(room_sensor(Kind::Humidity, Source::Humidity(i)));
        }
        for (i, occupied) in OCCUPIED.iter().enumerate() {
            let room = ROOMS.iter().find(|r| r.key == occupied.key).map(|r| r.name);
            sensors.push(Sensor { key: format!("{}.co2", occupied.key), kind: Kind::Co2, room, source: Source::Co2(i) });
        }
        for (key, kind, source) in [
            ("house.power", Kind::Power, Source::HousePower),
            ("house.energy", Kind::Energy, Source::HouseEnergy),
            ("house.water", Kind::Water, Source::HouseWater),
            ("house.flow", Kind::Flow, Source::HouseFlow),
            ("house.gas", Kind::Gas, Source::Gas),
            ("solar.power", Kind::Power, Source::SolarPower),
            ("solar.energy", Kind::Energy, Source::SolarEnergy),
            ("grid.import", Kind::Energy, Source::GridImport),
            ("grid.export", Kind::Energy, Source::GridExport),
            ("grid.import_power", Kind::Power, Source::GridImportPower),
            ("grid.export_power", Kind::Power, Source::GridExportPower),
            ("battery.charge", Kind::Energy, Source::BatteryCharge),
            ("battery.discharge", Kind::Energy, Source::BatteryDischarge),
            ("battery.charge_power", Kind::Power, Source::BatteryChargePower),
            ("battery.discharge_power", Kind::Power, Source::BatteryDischargePower),
            ("battery.soc", Kind::Battery, Source::BatterySoc),
        ] {
            sensors.push(Sensor { key: key.into(), kind, room: None, source });
        }
        for (l, load) in LOADS.iter().enumerate() {
            let Some(room) = load.plug else { continue };
            for (kind, source) in [(Kind::Switch, Source::Switch(l)), (Kind::Power, Source::Power(l)), (Kind::Energy, Source::Energy(l))] {
                sensors.push(Sensor { key: format!("{}.{kind}", load.name), kind, room: Some(room), source });
            }
        }
        assert!(sensors.len() <= 64, "sensor sets are 64-bit masks");
        let standard = jiff::Timestamp::from_millisecond(EPOCH_MS).map_or(0, |t| zone.0.to_offset(t).seconds());
        let place = Place::of_zone(&zone.name(), f64::from(standard) / 3600.0).at_latitude(latitude);
        let mut house = House { zone, place, sensors, forgotten: 0, plans: Vec::new(), before: Vec::new(), energy: Vec::new() };
        house.restart();
        house
    }

    /// Every sensor's key with its kind and room.
    pub fn sensors(&self) -> impl Iterator<Item = (&str, Kind, Option<&'static str>)> {
        self.sensors.iter().map(|s| (s.key.as_str(), s.kind, s.room))
    }

    /// Forgets every planned day and plans the epoch's.
    fn restart(&mut self) {
        self.forgotten = 0;
        self.plans.clear();
        self.before.clear();
        self.energy.clear();
        self.plan(self.zone.day_of(EPOCH_MS));
    }

    fn plan(&mut self, day: Day) {
        let number = (self.forgotten + self.plans.len()) as i64;
        let local = Local { day, tz: &self.zone.0 };
        let runs: Vec<Vec<Run>> = LOADS
            .iter()
            .enumerate()
            .map(|(l, load)| (load.runs)(&local, &mut seeded(l as u64 + 1, number)))
            .collect();
        let previous = match (self.plans.last(), self.before.last()) {
            (Some(plan), Some(before)) => {
                let mut totals = before.clone();
                for (l, runs) in plan.runs.iter().enumerate() {
                    for run in runs {
                        let (energy, water) = run.used_before(i64::MAX, LOADS[l].standby_mw);
                        totals.energy[l] += energy;
                        totals.water += water;
                    }
                }
                totals
            }
            _ => Totals { energy: vec![0; LOADS.len()], water: 0 },
        };
        self.before.push(previous);
        self.plans.push(Plan { day, runs });
        let start = self.energy.last().map_or_else(energy::at_epoch, EnergyDay::end);
        let planned = energy::plan_day(&day, number, start, &self.place, &self.zone.0, &self.used_per_step(&day));
        self.energy.push(planned);
    }

    /// What the house used during each of the energy steps of `day` (the last planned day),
    /// mW·ms: the loads' standby, and their runs' draw above it spread over the steps.
    fn used_per_step(&self, day: &Day) -> Vec<i64> {
        let starts: Vec<i64> = energy::step_starts(day).collect();
        let Some(&first) = starts.first() else { return Vec::new() };
        let standby: i64 = LOADS.iter().map(|l| l.standby_mw).sum();
        let mut used = vec![standby * energy::STEP_MS; starts.len()];
        let end = first + starts.len() as i64 * energy::STEP_MS;
        for (l, run) in self.runs_near(self.plans.len() - 1) {
            for (start, phase) in run.stretches() {
                let extra = phase.mw - LOADS[l].standby_mw;
                let (mut from, to) = (start.max(first), phase.until_ms.min(end));
                while from < to {
                    let i = ((from - first) / energy::STEP_MS) as usize;
                    let step_end = (first + (i as i64 + 1) * energy::STEP_MS).min(to);
                    used[i] += extra * (step_end - from);
                    from = step_end;
                }
            }
        }
        used
    }

    /// Holds the days `[from, to)` needs: from the one before the day of `from` or of the last
    /// counter reset before it, whichever is earlier (the runs of the day before may still be
    /// under way), to the one holding `to`. Older days are forgotten as the days after them
    /// are planned.
    fn hold(&mut self, from: i64, to: i64) {
        let oldest = loads::last_reset(from).map_or(from, |reset| reset.min(from));
        if self.forgotten > 0 && self.plans.get(1).is_none_or(|day| oldest < day.day.start_ms) {
            self.restart();
        }
        self.forget_before(oldest);
        while let Some(last) = self.plans.last()
            && last.day.end_ms <= to
        {
            let next = last.day.date.tomorrow().map(|date| self.zone.day(date));
            match next {
                Ok(day) => self.plan(day),
                Err(_) => break,
            }
            self.forget_before(oldest);
        }
    }

    /// Forgets the days before the one before the day holding `t`.
    fn forget_before(&mut self, t: i64) {
        let old = self.day_number(t).saturating_sub(1);
        self.plans.drain(..old);
        self.before.drain(..old);
        self.energy.drain(..old);
        self.forgotten += old;
    }

    /// The number of the planned day holding `t`.
    fn day_number(&self, t: i64) -> usize {
        self.plans.partition_point(|p| p.day.start_ms <= t).saturating_sub(1)
    }

    /// The runs that may be under way during day `d`: its own and the previous day's.
    fn runs_near(&self, d: usize) -> impl Iterator<Item = (usize, &Run)> {
        self.plans[d.saturating_sub(1)..=d]
            .iter()
            .flat_map(|p| p.runs.iter().enumerate().flat_map(|(l, runs)| runs.iter().map(move |r| (l, r))))
    }

    /// The runs of load `l` that start on the local days overlapping `[from, to)`.
    pub fn runs(&mut self, l: usize, from: i64, to: i64) -> Vec<Run> {
        self.hold(from, to);
        let (first, last) = (self.day_number(from), self.day_number(to - 1));
        self.plans[first..=last].iter().flat_map(|p| p.runs[l].iter().cloned()).collect()
    }

    fn draw(&self, t: i64) -> Draw {
        let mut draw = Draw { mw: LOADS.iter().map(|l| l.standby_mw).collect(), on: vec![false; LOADS.len()], flow: 0 };
        for (l, run) in self.runs_near(self.day_number(t)) {
            if let Some(phase) = run.phase_at(t) {
                draw.mw[l] += phase.mw - LOADS[l].standby_mw;
                draw.on[l] = true;
                draw.flow += phase.flow;
            }
        }
        draw
    }

    /// Energy per load (mW·ms) and water (mL·ms/min) used from the epoch until `t`.
    fn used(&self, t: i64) -> (Vec<i64>, i64) {
        let d = self.day_number(t);
        let before = &self.before[d.saturating_sub(1)];
        let mut energy: Vec<i64> = LOADS.iter().zip(&before.energy).map(|(load, e)| e + load.standby_mw * (t - EPOCH_MS)).collect();
        let mut water = before.water;
        for (l, run) in self.runs_near(d) {
            let (e, w) = run.used_before(t, LOADS[l].standby_mw);
            energy[l] += e;
            water += w;
        }
        (energy, water)
    }

    /// How much the bathroom is steamed up at `t` by the showers (0 when dry, about 1 just
    /// after a long one).
    fn steam(&self, t: i64) -> f64 {
        self.runs_near(self.day_number(t))
            .filter(|&(l, run)| l == SHOWERS && run.start_ms <= t)
            .map(|(_, run)| {
                let minutes = |ms: i64| ms as f64 / 60_000.0;
                let rise = 1.0 - (-minutes(t.min(run.end_ms()) - run.start_ms) / 4.0).exp();
                rise * (-minutes((t - run.end_ms()).max(0)) / 25.0).exp()
            })
            .sum()
    }

    /// The readings due in `[from, to)`: every sensor at each multiple of `step_ms`, the
    /// switches also at each multiple of [`REPORT_MS`], and at each transition of a load
    /// (a run starting or ending, a stretch changing) its plug's switch and power, the
    /// house's power and, if water runs, its flow; a plug's energy at its counter's reset.
    /// Sorted by time, then sensor. Nothing before [`EPOCH_MS`].
    pub fn readings(&mut self, from: i64, to: i64, step_ms: i64) -> Vec<Reading> {
        let from = from.max(EPOCH_MS);
        if to <= from {
            return Vec::new();
        }
        self.hold(from, to);
        let bit = |source: Source| self.sensors.iter().position(|s| s.source == source).map_or(0, |i| 1u64 << i);
        let switches = (0..LOADS.len()).fold(0, |mask, l| mask | bit(Source::Switch(l)));
        let mut due: BTreeMap<i64, u64> = BTreeMap::new();
        let mut mark = |t: i64, mask: u64| {
            if (from..to).contains(&t) {
                *due.entry(t).or_default() |= mask;
            }
        };
        for (period, mask) in [(step_ms.max(1), !switches), (REPORT_MS, switches)] {
            let mut t = from + (period - from.rem_euclid(period)) % period;
            while t < to {
                mark(t, mask);
                t += period;
            }
        }
        let (first, last) = (self.day_number(from), self.day_number(to - 1));
        for plan in &self.plans[first.saturating_sub(1)..=last] {
            for (l, runs) in plan.runs.iter().enumerate() {
                let power = bit(Source::HousePower) | bit(Source::Power(l));
                let switch = bit(Source::Switch(l));
                let flow = bit(Source::HouseFlow);
                for run in runs.iter().filter(|r| r.end_ms() >= from && r.start_ms < to) {
                    let mut previous_flow = 0;
                    for (start, phase) in run.stretches() {
                        let edge = if start == run.start_ms { switch } else { 0 };
                        mark(start, power | edge | if previous_flow != 0 || phase.flow != 0 { flow } else { 0 });
                        previous_flow = phase.flow;
                    }
                    mark(run.end_ms(), power | switch | if previous_flow != 0 { flow } else { 0 });
                }
            }
        }
        for reset in loads::resets(from, to) {
            mark(reset, bit(Source::Energy(RESET_LOAD)));
        }

        let (counter_mask, climate_mask) = (self.counter_mask(), self.climate_mask());
        let mut reset: Option<(i64, i64)> = None;
        let mut out = Vec::new();
        for (t, mask) in due {
            let draw = self.draw(t);
            let counters = (mask & counter_mask != 0).then(|| self.used(t));
            let climate = (mask & climate_mask != 0).then(|| self.climate(t));
            for (i, sensor) in self.sensors.iter().enumerate() {
                if mask & (1 << i) == 0 {
                    continue;
                }
                let value = match sensor.source {
                    Source::Temperature(r) => climate.as_ref().map_or(0.0, |c| c[r].0),
                    Source::Humidity(r) => climate.as_ref().map_or(0.0, |c| c[r].1),
                    Source::HousePower => round(draw.mw.iter().sum::<i64>() as f64 / 1000.0, 1),
                    Source::Power(l) => round(draw.mw[l] as f64 / 1000.0, 1),
                    Source::HouseFlow => round(draw.flow as f64 / 1000.0, 1),
                    Source::Switch(l) => f64::from(u8::from(draw.on[l])),
                    Source::HouseEnergy => counters.as_ref().map_or(0.0, |(e, _)| kwh(e.iter().sum())),
                    Source::HouseWater => counters.as_ref().map_or(0.0, |&(_, w)| round(w as f64 / FLOW_MS_PER_LITRE, 1)),
                    Source::Energy(l) if l == RESET_LOAD => {
                        let at_reset = match (loads::last_reset(t), reset) {
                            (Some(r), Some((cached, used))) if r == cached => used,
                            (Some(r), _) => {
                                let used = self.used(r).0[l];
                                reset = Some((r, used));
                                used
                            }
                            (None, _) => 0,
                        };
                        counters.as_ref().map_or(0.0, |(e, _)| kwh(e[l] - at_reset))
                    }
                    Source::Energy(l) => counters.as_ref().map_or(0.0, |(e, _)| kwh(e[l])),
                    Source::Co2(i) => energy::co2(&OCCUPIED[i], &self.zone.0, t),
                    source => self.energy_reading(source, t, draw.mw.iter().sum()),
                };
                out.push(Reading { sensor: sensor.key.clone(), value, at_ms: t, kind: sensor.kind, room: sensor.room });
            }
        }
        out
    }

    /// A reading of the roof, the battery, the grid's meter or the gas meter at `t`, with
    /// the house drawing `house_mw` then: counters and the battery from the day's energy
    /// plan, the panels' and the battery's power as their step's mean, the grid's as what is
    /// left of the house's draw now.
    fn energy_reading(&self, source: Source, t: i64, house_mw: i64) -> f64 {
        let (totals, rates) = self.energy[self.day_number(t)].at(t);
        let grid_mw = house_mw - rates.solar - rates.discharge + rates.charge;
        let watts = |mw: i64| round(mw as f64 / 1000.0, 1);
        match source {
            Source::SolarPower => watts(rates.solar),
            Source::SolarEnergy => kwh(totals.solar),
            Source::GridImport => kwh(totals.import),
            Source::GridExport => kwh(totals.export),
            Source::GridImportPower => watts(grid_mw.max(0)),
            Source::GridExportPower => watts((-grid_mw).max(0)),
            Source::BatteryCharge => kwh(totals.charge),
            Source::BatteryDischarge => kwh(totals.discharge),
            Source::BatteryChargePower => watts(rates.charge),
            Source::BatteryDischargePower => watts(rates.discharge),
            Source::BatterySoc => totals.soc(),
            Source::Gas => round(totals.gas as f64 / GAS_UNITS_PER_M3, 3),
            _ => 0.0,
        }
    }

    fn counter_mask(&self) -> u64 {
        self.mask(|s| matches!(s, Source::HouseEnergy | Source::HouseWater | Source::Energy(_)))
    }

    fn climate_mask(&self) -> u64 {
        self.mask(|s| matches!(s, Source::Temperature(_) | Source::Humidity(_)))
    }

    fn mask(&self, matching: impl Fn(Source) -> bool) -> u64 {
        self.sensors.iter().enumerate().filter(|(_, s)| matching(s.source)).fold(0, |m, (i, _)| m | 1 << i)
    }

    /// Each room's temperature and humidity at `t`: its daily curve at the local hour, its
    /// drifts, the showers' steam in the bathroom, and a little sensor noise.
    fn climate(&self, t: i64) -> Vec<(f64, f64)> {
        let local = Timestamp::from_millisecond(t).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(self.zone.0.clone());
        let hour = f64::from(local.hour()) + f64::from(local.minute()) / 60.0 + f64::from(local.second()) / 3600.0;
        let minutes = t as f64 / 60_000.0;
        let steam = self.steam(t).min(1.5);
        let mut noise = seeded(NOISE_STREAM, t);
        ROOMS
            .iter()
            .map(|room| {
                let (dt, dh) = (noise.random_range(-0.03..0.03), noise.random_range(-0.2..0.2));
                let steam = if room.key == "bathroom" { steam } else { 0.0 };
                let temperature = room.temperature(hour) + room.drift(minutes) + 0.8 * steam + dt;
                let humidity = room.humidity(hour) - 2.0 * room.drift(minutes) + 22.0 * steam + dh;
                (round(temperature, 2), round(humidity.min(98.0), 1))
            })
            .collect()
    }
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

fn kwh(mw_ms: i64) -> f64 {
    round(mw_ms as f64 / MW_MS_PER_KWH, 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::loads::{FRIDGE, TV, WASH_DAYS, WASHING_MACHINE, last_reset};
    use std::collections::HashMap;
    use std::sync::LazyLock;

    const MINUTE: i64 = hearth_core::time::MINUTE_MS;
    const HOUR: i64 = hearth_core::time::HOUR_MS;
    const DAY: i64 = hearth_core::time::DAY_MS;
    /// 2026-11-10T00:00:00Z: the 30 days before it hold Lisbon's change of clocks on 25 October.
    const END: i64 = 1_794_268_800_000;
    const START: i64 = END - 30 * DAY;

    fn lisbon() -> HouseZone {
        HouseZone::named("Europe/Lisbon").unwrap()
    }

    /// The default backfill: 30 days at 5-minute steps in Lisbon.
    static BACKFILL: LazyLock<Vec<Reading>> = LazyLock::new(|| House::new(lisbon()).readings(START, END, 5 * MINUTE));

    /// Each sensor's readings, in time order.
    fn series(readings: &[Reading]) -> HashMap<&str, Vec<(i64, f64)>> {
        let mut out: HashMap<&str, Vec<(i64, f64)>> = HashMap::new();
        for r in readings {
            out.entry(r.sensor.as_str()).or_default().push((r.at_ms, r.value));
        }
        out
    }

    fn value_at(series: &[(i64, f64)], t: i64) -> Option<f64> {
        series.iter().find(|&&(at, _)| at == t).map(|&(_, v)| v)
    }

    /// The value of a counter's last reading at or before `t`.
    fn counter_at(series: &[(i64, f64)], t: i64) -> f64 {
        series.iter().take_while(|&&(at, _)| at <= t).last().map_or(0.0, |&(_, v)| v)
    }

    /// Consumption over the backfill: the sum of the counter's rises, so a reset loses only
    /// what was counted between the last reading before it and the reset.
    fn consumed(series: &[(i64, f64)]) -> f64 {
        series.windows(2).map(|w| (w[1].1 - w[0].1).max(0.0)).sum()
    }

    #[test]
    fn every_sensor_has_a_valid_key_its_kind_and_a_room_unless_it_is_a_house_meter() {
        let house = House::new(lisbon());
        let keys: Vec<&str> = house.sensors().map(|(key, _, _)| key).collect();
        assert!(keys.iter().all(|k| hearth_core::sensor::valid_key(k)), "{keys:?}");
        let meters: Vec<&str> = keys.iter().copied().filter(|k| k.starts_with("house.")).collect();
        assert_eq!(meters, ["house.power", "house.energy", "house.water", "house.flow", "house.gas"]);
        for (key, _, room) in house.sensors() {
            let whole_house = ["house.", "solar.", "grid.", "battery."].iter().any(|p| key.starts_with(p));
            assert_eq!(room.is_none(), whole_house, "{key}");
        }
        for plug in ["fridge", "washing_machine", "dishwasher", "tv"] {
            for kind in ["switch", "power", "energy"] {
                assert!(keys.contains(&format!("{plug}.{kind}").as_str()), "{plug}.{kind}");
            }
        }
        let mut kinds: Vec<Kind> = BACKFILL.iter().map(|r| r.kind).collect();
        kinds.sort();
        kinds.dedup();
        // Every kind but price: the simulated house's tariff is time-of-use, not dynamic.
        let all: Vec<Kind> = Kind::ALL.into_iter().filter(|k| *k != Kind::Price).collect();
        assert_eq!(kinds, all);
        let sensors = series(&BACKFILL);
        assert_eq!(sensors.len(), keys.len(), "every sensor reports");
        for r in BACKFILL.iter() {
            let (_, kind, room) = house.sensors().find(|(key, _, _)| *key == r.sensor).unwrap();
            assert_eq!((r.kind, r.room), (kind, room), "{}", r.sensor);
            assert!(kind.check(r.value).is_ok(), "{r:?}");
        }
        let json = serde_json::to_value(&BACKFILL[0]).unwrap();
        assert_eq!(json["at"], "2026-10-11T00:00:00Z");
        assert!(json["kind"].is_string() && json.get("at_ms").is_none());
    }

    #[test]
    fn readings_are_in_time_order_and_never_two_for_a_sensor_at_one_instant() {
        assert!(BACKFILL.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        assert!(BACKFILL.iter().all(|r| (START..END).contains(&r.at_ms)));
        for (sensor, points) in series(&BACKFILL) {
            assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "{sensor}");
        }
    }

    #[test]
    fn counters_never_decrease_except_at_the_scheduled_reset() {
        let sensors = series(&BACKFILL);
        let mut drops = 0;
        for r in BACKFILL.iter().filter(|r| r.kind.is_counter()) {
            let points = &sensors[r.sensor.as_str()];
            if points[0].0 != r.at_ms {
                continue;
            }
            for w in points.windows(2) {
                if w[1].1 < w[0].1 {
                    drops += 1;
                    assert_eq!(r.sensor, "dishwasher.energy");
                    assert_eq!(last_reset(w[1].0), Some(w[1].0), "the drop is at a reset");
                    assert_eq!(w[1].1, 0.0, "the counter restarts from zero");
                }
            }
        }
        assert!((4..=5).contains(&drops), "{drops} resets in 30 days");
        let house_energy = &sensors["house.energy"];
        assert!(house_energy[0].1 > 1000.0, "the house meter counts from 2025: {}", house_energy[0].1);
    }

    #[test]
    fn every_seven_day_window_of_the_backfill_holds_a_reset() {
        let points = &series(&BACKFILL)["dishwasher.energy"];
        let resets: Vec<i64> = points.windows(2).filter(|w| w[1].1 < w[0].1).map(|w| w[1].0).collect();
        let mut from = START;
        while from + 7 * DAY <= END {
            assert!(resets.iter().any(|&r| (from..from + 7 * DAY).contains(&r)), "no reset in the week from {from}");
            from += 5 * MINUTE;
        }
    }

    #[test]
    fn the_fridge_cycles_about_twenty_minutes_on_and_forty_off() {
        let switch = &series(&BACKFILL)["fridge.switch"];
        let changes: Vec<(i64, f64)> = switch.windows(2).filter(|w| w[0].1 != w[1].1).map(|w| w[1]).collect();
        let starts: Vec<i64> = changes.iter().filter(|c| c.1 == 1.0).map(|c| c.0).collect();
        assert!((30 * 22..=30 * 25).contains(&starts.len()), "{} cycles in 30 days", starts.len());
        for w in changes.windows(2) {
            let minutes = (w[1].0 - w[0].0) / MINUTE;
            if w[0].1 == 1.0 {
                assert!((19..=25).contains(&minutes), "on for {minutes} min");
            } else {
                assert!((28..=50).contains(&minutes), "off for {minutes} min");
            }
        }
        let mut house = House::new(lisbon());
        for run in house.runs(FRIDGE, START, END).iter().filter(|r| r.start_ms >= START && r.end_ms() < END) {
            assert_eq!(value_at(switch, run.start_ms), Some(1.0), "switched on at the exact start");
            assert_eq!(value_at(switch, run.end_ms()), Some(0.0), "switched off at the exact end");
        }
    }

    #[test]
    fn the_washing_machine_runs_on_wash_days_with_its_heating_peak_and_water_fills() {
        let sensors = series(&BACKFILL);
        let mut house = House::new(lisbon());
        let zone = lisbon();
        let days = zone.days(START, END);
        assert_eq!(days.iter().filter(|d| d.end_ms - d.start_ms == 25 * HOUR).count(), 1, "the clocks go back once");
        for day in &days[1..days.len() - 1] {
            let runs = house.runs(WASHING_MACHINE, day.start_ms, day.end_ms);
            let expected = WASH_DAYS.contains(&day.date.weekday());
            assert_eq!(runs.len(), usize::from(expected), "{}", day.iso());
            let Some(run) = runs.first() else { continue };
            let hours = (run.end_ms() - run.start_ms) as f64 / HOUR as f64;
            assert!((1.5..=2.0).contains(&hours), "a run of {hours} h on {}", day.iso());
            let during = |key: &str| sensors[key].iter().filter(|p| (run.start_ms..run.end_ms()).contains(&p.0)).map(|p| p.1).collect::<Vec<_>>();
            let power = during("washing_machine.power");
            assert!(power.iter().any(|&w| w >= 2000.0), "heating peak on {}", day.iso());
            assert!(power.iter().filter(|&&w| (150.0..=250.0).contains(&w)).count() >= 5, "tumbling on {}", day.iso());
            assert_eq!(value_at(&sensors["washing_machine.switch"], run.start_ms), Some(1.0));
            assert_eq!(value_at(&sensors["washing_machine.switch"], run.end_ms()), Some(0.0));
            let fills: Vec<i64> = run.stretches().filter(|(_, p)| p.flow > 0).map(|(at, _)| at).collect();
            assert_eq!(fills.len(), 3, "a fill and two rinse fills");
            for fill in fills {
                assert!(value_at(&sensors["house.flow"], fill).is_some_and(|f| f >= 10.0), "flow at the fill on {}", day.iso());
            }
            let water = &sensors["house.water"];
            let used = counter_at(water, run.end_ms()) - counter_at(water, run.start_ms - 1);
            assert!(used >= 48.0, "{used} L during the wash on {}", day.iso());
        }
    }

    #[test]
    fn switches_report_at_their_transitions_and_every_five_minutes() {
        let sensors = series(&BACKFILL);
        let tv = &sensors["tv.switch"];
        let mut house = House::new(lisbon());
        let runs: Vec<Run> = house.runs(TV, START, END).into_iter().filter(|r| r.start_ms >= START && r.end_ms() < END).collect();
        assert!(runs.len() >= 30);
        for run in &runs {
            assert_eq!(value_at(tv, run.start_ms), Some(1.0));
            assert_eq!(value_at(tv, run.end_ms()), Some(0.0));
            let watts = value_at(&sensors["tv.power"], run.start_ms).unwrap();
            assert!((70.0..130.0).contains(&watts), "{watts} W");
        }
        let reports = tv.iter().filter(|p| p.0 % REPORT_MS == 0).count() as i64;
        assert_eq!(reports, (END - START) / REPORT_MS);
        let live = House::new(lisbon()).readings(END, END + 10 * MINUTE, 5_000);
        let live = series(&live);
        assert_eq!(live["house.power"].iter().filter(|p| p.0 % 5_000 == 0).count(), 120);
        assert_eq!(live["tv.switch"].iter().filter(|p| p.0 % 5_000 == 0).count(), 2, "switches report every 5 minutes, not every step");
    }

    #[test]
    fn the_house_meter_sees_the_plugs_and_more() {
        let sensors = series(&BACKFILL);
        let plugs = ["fridge.power", "washing_machine.power", "dishwasher.power", "tv.power"];
        let mut untracked = Vec::new();
        for &(at, house) in &sensors["house.power"] {
            let each: Option<Vec<f64>> = plugs.iter().map(|p| value_at(&sensors[p], at)).collect();
            let Some(each) = each else { continue };
            let plugged: f64 = each.iter().sum();
            assert!(house >= plugged + 139.5, "{house} W at {at} with {plugged} W on plugs");
            untracked.push(house - plugged);
        }
        assert!(untracked.len() >= 30 * 288);
        let mean = untracked.iter().sum::<f64>() / untracked.len() as f64;
        assert!(mean > 150.0, "untracked {mean} W on average");
    }

    #[test]
    fn daily_use_is_plausible() {
        let sensors = series(&BACKFILL);
        let per_day = |key: &str| consumed(&sensors[key]) / 30.0;
        let (energy, water, fridge) = (per_day("house.energy"), per_day("house.water"), per_day("fridge.energy"));
        assert!((8.0..=15.0).contains(&energy), "{energy} kWh a day");
        assert!((150.0..=400.0).contains(&water), "{water} L a day");
        assert!((0.8..=1.2).contains(&fridge), "fridge {fridge} kWh a day");
        let dishwasher = per_day("dishwasher.energy");
        assert!((0.7..=1.2).contains(&dishwasher), "dishwasher {dishwasher} kWh a day");
        let flow = &sensors["house.flow"];
        let steps: Vec<f64> = flow.iter().filter(|p| p.0 % (5 * MINUTE) == 0).map(|p| p.1).collect();
        let still = steps.iter().filter(|&&f| f == 0.0).count() as f64 / steps.len() as f64;
        assert!(still > 0.8, "no flow at {:.0}% of steps", still * 100.0);
        let bathroom = &sensors["bathroom.humidity"];
        let (low, high) = bathroom.iter().fold((100.0, 0.0), |(lo, hi): (f64, f64), p| (lo.min(p.1), hi.max(p.1)));
        assert!(high - low > 15.0, "showers steam up the bathroom: {low}–{high} %");
    }

    #[test]
    fn an_instant_always_gives_the_same_readings() {
        let again = House::new(lisbon()).readings(START, END, 5 * MINUTE);
        assert!(again == *BACKFILL, "a second house gives the same 30 days");
        // A restarted simulator starts from another instant and its live steps fall elsewhere,
        // yet the readings at any instant they share are the same.
        let restarted = House::new(lisbon()).readings(END - DAY - 7 * MINUTE, END, 60_000);
        let tail: HashMap<(i64, &str), &Reading> =
            BACKFILL.iter().filter(|r| r.at_ms >= END - DAY - 7 * MINUTE).map(|r| ((r.at_ms, r.sensor.as_str()), r)).collect();
        let shared: Vec<&Reading> = restarted.iter().filter(|r| tail.contains_key(&(r.at_ms, r.sensor.as_str()))).collect();
        assert!(shared.len() > 288 * 20);
        for r in shared {
            assert_eq!(tail[&(r.at_ms, r.sensor.as_str())], r);
        }
        let mut pieces = House::new(lisbon());
        let (a, b) = (pieces.readings(END, END + 7 * MINUTE, 5_000), pieces.readings(END + 7 * MINUTE, END + 20 * MINUTE, 5_000));
        let whole = House::new(lisbon()).readings(END, END + 20 * MINUTE, 5_000);
        assert_eq!([a, b].concat(), whole, "live ticks add up to one range");
    }

    #[test]
    fn a_house_holds_a_few_days_and_plans_again_those_it_forgot() {
        let part = |from: i64, to: i64| BACKFILL.iter().filter(|r| (from..to).contains(&r.at_ms)).collect::<Vec<_>>();
        let mut house = House::new(lisbon());
        let last_day = house.readings(END - DAY, END, 5 * MINUTE);
        assert!(house.plans.len() <= 10, "{} days held for one", house.plans.len());
        assert!(last_day.iter().collect::<Vec<_>>() == part(END - DAY, END));
        let first_day = house.readings(START, START + DAY, 5 * MINUTE);
        assert!(first_day.iter().collect::<Vec<_>>() == part(START, START + DAY), "a forgotten day is the same again");
    }

    #[test]
    fn the_routine_follows_local_clocks_across_a_change_of_time() {
        let zone = lisbon();
        let mut house = House::new(zone.clone());
        for run in house.runs(SHOWERS, START, END) {
            let local = Timestamp::from_millisecond(run.start_ms).unwrap().to_zoned(zone.0.clone());
            assert!((6..11).contains(&local.hour()), "a shower at {local}");
        }
        let utc = House::new(HouseZone::named("UTC").unwrap()).readings(START, END, 5 * MINUTE);
        assert!(utc != *BACKFILL, "another zone moves the routine");
    }

    #[test]
    fn thirty_days_of_backfill_build_quickly() {
        let started = std::time::Instant::now();
        let readings = House::new(lisbon()).readings(START, END, 5 * MINUTE);
        let took = started.elapsed();
        eprintln!("30 days of backfill: {} readings in {took:?}", readings.len());
        assert!(readings.len() > 30 * 288 * 26);
    }
}
