//! The house's roof of solar panels, its home battery, its grid connection and its gas
//! boiler, and the CO2 of its occupied rooms. Energy is planned a local day at a time in
//! 5-minute steps from [`EPOCH_MS`]: the sun at the house's latitude and season (with cloudy
//! days drawn per day), the house's own use over the step, the battery charged from solar's
//! surplus and emptied into the evening down to a reserve, the rest exported or imported.
//! Counters are sums of whole steps in integer units, so they never step back.

use super::loads::{EPOCH_MS, seeded};
use hearth_core::time::MINUTE_MS;
use hearth_core::time::house::Day;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use rand::Rng;
use std::f64::consts::{PI, TAU};

/// The length of an energy step.
pub const STEP_MS: i64 = 5 * MINUTE_MS;
/// The panels' peak power, mW (3.6 kWp).
const PEAK_MW: f64 = 3_600_000.0;
/// The battery's capacity, mW·ms (10 kWh).
const CAPACITY: i64 = 10 * 3_600_000 * 1_000_000;
/// What the battery keeps for a power cut, mW·ms (10 %).
const RESERVE: i64 = CAPACITY / 10;
/// The battery's largest charge or discharge, mW (3 kW).
const BATTERY_MW: i64 = 3_000_000;
/// Millilitres of gas per hour × ms in a m³.
pub const GAS_UNITS_PER_M3: f64 = 1e6 * 3_600_000.0;

const CLOUD_STREAM: u64 = 0xc1;

/// Where the sun is seen from: latitude and longitude in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Place {
    /// Degrees north (negative south).
    pub latitude: f64,
    /// Degrees east (negative west).
    pub longitude: f64,
}

impl Place {
    /// A place in the house's zone: its main city for zones Hearth knows, otherwise on the
    /// meridian of the zone's standard offset at 45° (north, or south for `Australia/`,
    /// `Antarctica/` and zones south of the equator Hearth knows of).
    pub fn of_zone(name: &str, standard_offset_hours: f64) -> Place {
        let known = [
            ("Europe/Lisbon", 38.7, -9.1),
            ("Europe/London", 51.5, -0.1),
            ("Europe/Dublin", 53.3, -6.3),
            ("Europe/Madrid", 40.4, -3.7),
            ("Europe/Paris", 48.9, 2.4),
            ("Europe/Berlin", 52.5, 13.4),
            ("Europe/Amsterdam", 52.4, 4.9),
            ("Europe/Rome", 41.9, 12.5),
            ("America/New_York", 40.7, -74.0),
            ("America/Chicago", 41.9, -87.6),
            ("America/Los_Angeles", 34.1, -118.2),
            ("Australia/Adelaide", -34.9, 138.6),
            ("Australia/Sydney", -33.9, 151.2),
            ("Asia/Kathmandu", 27.7, 85.3),
            ("Asia/Tokyo", 35.7, 139.7),
        ];
        if let Some(&(_, latitude, longitude)) = known.iter().find(|(n, _, _)| *n == name) {
            return Place { latitude, longitude };
        }
        let south = name.starts_with("Australia/") || name.starts_with("Antarctica/") || name.starts_with("Pacific/Auckland");
        Place { latitude: if south { -45.0 } else { 45.0 }, longitude: standard_offset_hours * 15.0 }
    }

    /// The same place moved to `latitude` (degrees, north positive) when one is given.
    pub fn at_latitude(self, latitude: Option<f64>) -> Place {
        Place { latitude: latitude.unwrap_or(self.latitude), ..self }
    }

    /// How high the sun stands at `t`, as the sine of its elevation (negative at night).
    pub fn sun(&self, t: i64) -> f64 {
        let days = (t - EPOCH_MS) as f64 / 86_400_000.0;
        let day_of_year = days.rem_euclid(365.25);
        let declination = (23.44f64).to_radians() * (TAU * (day_of_year + 284.0 - 1.0) / 365.25).sin();
        let utc_hours = (t.rem_euclid(86_400_000)) as f64 / 3_600_000.0;
        let solar_hours = utc_hours + self.longitude / 15.0;
        let hour_angle = (15.0 * (solar_hours - 12.0)).to_radians();
        let latitude = self.latitude.to_radians();
        latitude.sin() * declination.sin() + latitude.cos() * declination.cos() * hour_angle.cos()
    }

    /// How deep into winter `t` is: 1 at midwinter, 0 at midsummer.
    pub fn winter(&self, t: i64) -> f64 {
        let days = (t - EPOCH_MS) as f64 / 86_400_000.0 - 15.0;
        let north = (1.0 + (TAU * days / 365.25).cos()) / 2.0;
        if self.latitude >= 0.0 { north } else { 1.0 - north }
    }
}

/// Running totals since [`EPOCH_MS`]: energy in mW·ms, gas in mL/h × ms, the battery's
/// charge in mW·ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Solar production.
    pub solar: i64,
    /// Drawn from the grid.
    pub import: i64,
    /// Fed into the grid.
    pub export: i64,
    /// Into the battery.
    pub charge: i64,
    /// Out of the battery.
    pub discharge: i64,
    /// Gas burnt.
    pub gas: i64,
    /// What the battery holds.
    pub stored: i64,
}

/// A step's mean flows: mW, and gas in mL/h.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rates {
    /// Solar production.
    pub solar: i64,
    /// Drawn from the grid.
    pub import: i64,
    /// Fed into the grid.
    pub export: i64,
    /// Into the battery.
    pub charge: i64,
    /// Out of the battery.
    pub discharge: i64,
    /// Gas burnt.
    pub gas: i64,
}

impl Totals {
    /// The totals `ms` into a step at `rates`.
    pub fn after(&self, rates: &Rates, ms: i64) -> Totals {
        Totals {
            solar: self.solar + rates.solar * ms,
            import: self.import + rates.import * ms,
            export: self.export + rates.export * ms,
            charge: self.charge + rates.charge * ms,
            discharge: self.discharge + rates.discharge * ms,
            gas: self.gas + rates.gas * ms,
            stored: self.stored + (rates.charge - rates.discharge) * ms,
        }
    }

    /// The battery's state of charge, %.
    pub fn soc(&self) -> f64 {
        (self.stored as f64 / CAPACITY as f64 * 1000.0).round() / 10.0
    }
}

/// One local day's steps: each with the totals at its start and its rates.
pub struct EnergyDay {
    /// The first step's start (a multiple of [`STEP_MS`]).
    pub first_ms: i64,
    /// The steps, in order.
    pub steps: Vec<(Totals, Rates)>,
}

impl EnergyDay {
    /// The totals at `t` and the rates of the step holding it (the last step's beyond).
    pub fn at(&self, t: i64) -> (Totals, Rates) {
        let i = ((t - self.first_ms).div_euclid(STEP_MS)).clamp(0, self.steps.len() as i64 - 1) as usize;
        let (totals, rates) = self.steps[i];
        (totals.after(&rates, t - (self.first_ms + i as i64 * STEP_MS)), rates)
    }

    /// The totals at the end of the day.
    pub fn end(&self) -> Totals {
        let (totals, rates) = self.steps[self.steps.len() - 1];
        totals.after(&rates, STEP_MS)
    }
}

/// The gas boiler's burn at `t`, mL/h: heating in the morning and the evening as deep as the
/// winter is, hot water after the morning showers and the evening dishes.
fn boiler(place: &Place, tz: &TimeZone, t: i64) -> i64 {
    let local = Timestamp::from_millisecond(t).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(tz.clone());
    let hour = f64::from(local.hour()) + f64::from(local.minute()) / 60.0;
    let heating = if (6.0..9.0).contains(&hour) || (17.0..23.0).contains(&hour) { 650_000.0 * place.winter(t).powf(1.5) } else { 0.0 };
    let water = if (7.0..7.5).contains(&hour) { 1_500_000.0 } else if (19.5..19.75).contains(&hour) { 1_000_000.0 } else { 0.0 };
    (heating + water) as i64
}

/// The starts of `day`'s steps: the multiples of [`STEP_MS`] inside it, from the epoch on.
pub fn step_starts(day: &Day) -> impl Iterator<Item = i64> {
    let from = day.start_ms.max(EPOCH_MS);
    let first = from + (STEP_MS - from.rem_euclid(STEP_MS)) % STEP_MS;
    (0..).map(move |i| first + i * STEP_MS).take_while(move |t| *t < day.end_ms)
}

/// Plans `day`'s energy from `start` (the previous day's end, or the epoch's), with
/// `house_used[i]` what the house used during the `i`th of [`step_starts`], mW·ms.
/// `day_number` seeds its clouds.
pub fn plan_day(day: &Day, day_number: i64, start: Totals, place: &Place, tz: &TimeZone, house_used: &[i64]) -> EnergyDay {
    let mut rng = seeded(CLOUD_STREAM, day_number);
    let cloudy = rng.random_bool((0.2 + 0.35 * place.winter(day.start_ms)).clamp(0.0, 1.0));
    let (low, high) = if cloudy { (0.12, 0.45) } else { (0.85, 1.0) };
    let first_ms = step_starts(day).next().unwrap_or(day.start_ms);
    let mut totals = start;
    let mut steps = Vec::new();
    for (t, used) in step_starts(day).zip(house_used) {
        let mid = t + STEP_MS / 2;
        let clouds = rng.random_range(low..high);
        let solar = (PEAK_MW * place.sun(mid).max(0.0).powf(1.15) * clouds) as i64;
        let house = used / STEP_MS;
        let mut rates = Rates { solar, gas: boiler(place, tz, mid), ..Rates::default() };
        if solar >= house {
            let room = (CAPACITY - totals.stored).max(0) / STEP_MS;
            rates.charge = (solar - house).min(BATTERY_MW).min(room);
            rates.export = solar - house - rates.charge;
        } else {
            let available = (totals.stored - RESERVE).max(0) / STEP_MS;
            rates.discharge = (house - solar).min(BATTERY_MW).min(available);
            rates.import = house - solar - rates.discharge;
        }
        steps.push((totals, rates));
        totals = totals.after(&rates, STEP_MS);
    }
    if steps.is_empty() {
        steps.push((totals, Rates::default()));
    }
    EnergyDay { first_ms, steps }
}

/// The battery's state at [`EPOCH_MS`]: half full.
pub fn at_epoch() -> Totals {
    Totals { stored: CAPACITY / 2, ..Totals::default() }
}

/// A room where people breathe, and when.
pub struct Occupied {
    /// The room's key (`bedroom`).
    pub key: &'static str,
    /// Local hours it is occupied, `(from, to)`, `to` past 24 meaning the next morning.
    pub hours: &'static [(f64, f64)],
    /// Whether only on working days.
    pub weekdays_only: bool,
    /// How far above outdoor air the CO2 would climb if it stayed occupied, ppm.
    pub rise: f64,
}

/// The rooms with a CO2 sensor.
pub const OCCUPIED: [Occupied; 3] = [
    Occupied { key: "living_room", hours: &[(18.0, 23.0)], weekdays_only: false, rise: 800.0 },
    Occupied { key: "bedroom", hours: &[(23.0, 31.0)], weekdays_only: false, rise: 1100.0 },
    Occupied { key: "office", hours: &[(9.0, 12.5), (13.5, 17.5)], weekdays_only: true, rise: 900.0 },
];

/// Outdoor air, ppm.
const OUTDOOR_PPM: f64 = 420.0;

/// A room's CO2 at `t`, ppm: rising towards outdoor air + `rise` while occupied (about 45
/// minutes to get two-thirds of the way), falling back as it airs (about an hour).
pub fn co2(room: &Occupied, tz: &TimeZone, t: i64) -> f64 {
    let zoned = Timestamp::from_millisecond(t).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(tz.clone());
    let hour = f64::from(zoned.hour()) + f64::from(zoned.minute()) / 60.0 + f64::from(zoned.second()) / 3600.0;
    let weekday = zoned.weekday().to_monday_zero_offset();
    let mut ppm = OUTDOOR_PPM;
    // Today's windows, and yesterday's (those past midnight reach into today).
    for (offset, day) in [(0.0, weekday), (24.0, (weekday + 6) % 7)] {
        if room.weekdays_only && day >= 5 {
            continue;
        }
        for &(from, to) in room.hours {
            let (from, to) = (from - offset, to - offset);
            if hour < from {
                continue;
            }
            let filled = 1.0 - (-(hour.min(to) - from) * 60.0 / 45.0).exp();
            let aired = (-(hour - to).max(0.0) * 60.0 / 60.0).exp();
            ppm += room.rise * filled * aired;
        }
    }
    let wobble = 12.0 * (t as f64 / 600_000.0 + PI * room.rise / 1000.0).sin();
    (ppm + wobble).round()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_core::time::house::HouseZone;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_sun_is_higher_in_summer_and_at_noon_and_absent_at_night() {
        let lisbon = Place::of_zone("Europe/Lisbon", 0.0);
        let at = |text: &str| text.parse::<Timestamp>().unwrap().as_millisecond();
        // Solar noon at 9.1° west is about 12:36 UTC.
        let june_noon = at("2026-06-19T12:36:00Z");
        let december_noon = at("2026-12-19T12:36:00Z");
        assert!(lisbon.sun(june_noon) > 0.95, "{}", lisbon.sun(june_noon));
        assert!((0.4..0.55).contains(&lisbon.sun(december_noon)), "{}", lisbon.sun(december_noon));
        assert!(lisbon.sun(december_noon - 12 * HOUR) < 0.0);
        // Adelaide's summer is in December.
        let adelaide = Place::of_zone("Australia/Adelaide", 9.5);
        assert!(adelaide.sun(at("2026-12-19T02:46:00Z")) > 0.95);
        assert!(lisbon.winter(december_noon) > 0.9 && adelaide.winter(december_noon) < 0.1);
    }

    #[test]
    fn a_latitude_set_by_the_owner_moves_the_sun_and_the_seasons() {
        let at = |text: &str| text.parse::<Timestamp>().unwrap().as_millisecond();
        let lisbon = Place::of_zone("Europe/Lisbon", 0.0);
        assert_eq!(lisbon.at_latitude(None), lisbon);
        // Tromsø's latitude on Lisbon's meridian: no sun at midwinter noon, a lower sun at midsummer.
        let north = lisbon.at_latitude(Some(69.6));
        assert_eq!(north.longitude, lisbon.longitude);
        assert!(north.sun(at("2026-12-19T12:36:00Z")) < 0.0);
        assert!(north.sun(at("2026-06-19T12:36:00Z")) < lisbon.sun(at("2026-06-19T12:36:00Z")));
        // Southern latitudes have their summer in December.
        let south = lisbon.at_latitude(Some(-38.7));
        assert!(south.winter(at("2026-06-19T12:36:00Z")) > 0.9);
        // A zone Hearth has no city for falls back to 45° on its meridian.
        assert_eq!(Place::of_zone("Europe/Vilnius", 2.0), Place { latitude: 45.0, longitude: 30.0 });
    }

    #[test]
    fn solar_surplus_charges_the_battery_then_exports_and_the_evening_empties_it() {
        let zone = HouseZone::named("Europe/Lisbon").unwrap();
        let place = Place::of_zone("Europe/Lisbon", 0.0);
        let day = zone.day("2026-06-20".parse().unwrap());
        // A steady 400 W house.
        let used: Vec<i64> = step_starts(&day).map(|_| 400_000 * STEP_MS).collect();
        let plan = plan_day(&day, 1, at_epoch(), &place, &zone.0, &used);
        let end = plan.end();
        let kwh = |v: i64| v as f64 / 3.6e12;
        let solar = kwh(end.solar);
        assert!(solar > 5.0, "{solar} kWh of solar on a June day");
        // Energy balances: house = import + solar − export + discharge − charge.
        let house = kwh(end.import) + solar - kwh(end.export) + kwh(end.discharge) - kwh(end.charge);
        assert!((house - 0.4 * 24.0).abs() < 1e-6, "{house}");
        let noon = plan.at(day.start_ms + 13 * HOUR).1;
        assert!(noon.export > 0 || noon.charge > 0, "{noon:?}");
        let night = plan.at(day.start_ms + 2 * HOUR).1;
        assert!(night.solar == 0 && night.import + night.discharge == 400_000, "{night:?}");
        assert!((0.0..=100.0).contains(&end.soc()));
    }

    #[test]
    fn co2_climbs_in_the_bedroom_overnight_and_airs_out_by_noon() {
        let zone = HouseZone::named("Europe/Lisbon").unwrap();
        let day = zone.day("2026-06-22".parse().unwrap()); // a Monday
        let bedroom = &OCCUPIED[1];
        let dawn = co2(bedroom, &zone.0, day.start_ms + 6 * HOUR);
        let noon = co2(bedroom, &zone.0, day.start_ms + 13 * HOUR);
        assert!(dawn > 1200.0, "{dawn}");
        assert!(noon < 500.0, "{noon}");
        let office = &OCCUPIED[2];
        assert!(co2(office, &zone.0, day.start_ms + 17 * HOUR) > 1000.0);
        assert!(co2(office, &zone.0, day.start_ms - 2 * 24 * HOUR + 16 * HOUR) < 500.0, "a Saturday");
    }
}
