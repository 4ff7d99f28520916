//! The house's time zone on the server, from the tz database: local days of 23, 24 or 25
//! hours, the [`Zone`] a page gets, and instants as RFC 3339 text.

use super::{Offset, Zone};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Unix milliseconds as an RFC 3339 UTC time, as the API and the live stream send instants
/// (`2026-01-31T18:30:00Z`, with the fraction of a second only when there is one).
pub fn rfc3339(at_ms: i64) -> String {
    Timestamp::from_millisecond(at_ms).map_or_else(|_| at_ms.to_string(), |t| t.to_string())
}

/// The house's time zone, as handed to server functions and handlers.
#[derive(Clone, Debug)]
pub struct HouseZone(pub TimeZone);

impl HouseZone {
    /// Coordinated Universal Time.
    pub fn utc() -> HouseZone {
        HouseZone(TimeZone::UTC)
    }

    /// The zone named `name` in the tz database (`Europe/Lisbon`), or an error naming it.
    pub fn named(name: &str) -> Result<HouseZone, String> {
        TimeZone::get(name)
            .map(HouseZone)
            .map_err(|_| format!("unknown time zone {name:?}: use an IANA name such as Europe/Lisbon"))
    }

    /// The machine's time zone, or UTC if it cannot be determined.
    pub fn system() -> HouseZone {
        HouseZone(TimeZone::try_system().unwrap_or(TimeZone::UTC))
    }

    /// The zone's IANA name, or `UTC` for a zone without one.
    pub fn name(&self) -> String {
        self.0.iana_name().unwrap_or("UTC").to_owned()
    }

    /// The zone as the browser needs it for instants in `[from_ms, to_ms]`, with a week of
    /// margin after `to_ms` so that a page left open keeps correct times.
    pub fn zone(&self, from_ms: i64, to_ms: i64) -> Zone {
        let tz = &self.0;
        let at = |ms: i64| Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
        let from = at(from_ms);
        let until = at(to_ms.saturating_add(7 * super::DAY_MS));
        let mut offsets = vec![Offset { from_ms: i64::MIN, seconds: tz.to_offset(from).seconds() }];
        for transition in tz.following(from) {
            if transition.timestamp() > until {
                break;
            }
            offsets.push(Offset {
                from_ms: transition.timestamp().as_millisecond(),
                seconds: transition.offset().seconds(),
            });
        }
        Zone { name: self.name(), offsets }
    }

    /// The local day holding `at_ms`.
    pub fn day_of(&self, at_ms: i64) -> Day {
        let date = Timestamp::from_millisecond(at_ms).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(self.0.clone()).date();
        self.day(date)
    }

    /// The local day `date`: from its first instant to the next day's.
    pub fn day(&self, date: Date) -> Day {
        let start = |d: Date| {
            d.to_zoned(self.0.clone())
                .and_then(|z| z.start_of_day())
                .map_or(0, |z| z.timestamp().as_millisecond())
        };
        let next = date.tomorrow().unwrap_or(date);
        Day { date, start_ms: start(date), end_ms: start(next) }
    }

    /// The local days that overlap `[from_ms, to_ms)`, oldest first, each whole.
    pub fn days(&self, from_ms: i64, to_ms: i64) -> Vec<Day> {
        let mut days = Vec::new();
        let mut day = self.day_of(from_ms);
        while day.start_ms < to_ms {
            let next = day.date.tomorrow().map(|d| self.day(d));
            days.push(day);
            match next {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        days
    }

    /// A query parameter as an instant: an RFC 3339 time, or a local date `YYYY-MM-DD`
    /// meaning the start of that day, or with `end_of_day` the start of the next.
    pub fn parse_time(&self, field: &str, text: &str, end_of_day: bool) -> Result<Timestamp, String> {
        if let Ok(t) = text.parse::<Timestamp>() {
            return Ok(t);
        }
        let bad = || format!("{field} must be an RFC 3339 time (2026-01-31T18:30:00Z) or a date (2026-01-31), not {text:?}");
        let date: Date = text.parse().map_err(|_| bad())?;
        let date = if end_of_day { date.tomorrow().map_err(|_| bad())? } else { date };
        Ok(Timestamp::from_millisecond(self.day(date).start_ms).map_err(|_| bad())?)
    }

    /// The span `hours` before `to`.
    pub fn hours_before(to: Timestamp, hours: i64) -> Timestamp {
        to.checked_sub(hours.hours()).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// One local day of the house: a calendar date and the instants it spans, 23, 24 or 25
/// hours apart (or other lengths where a zone changed its offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Day {
    /// The local date.
    pub date: Date,
    /// Its first instant, Unix milliseconds.
    pub start_ms: i64,
    /// The next day's first instant, Unix milliseconds.
    pub end_ms: i64,
}

impl Day {
    /// The date as `YYYY-MM-DD`.
    pub fn iso(&self) -> String {
        self.date.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::HOUR_MS;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn local_days_are_23_24_or_25_hours_long() {
        let lisbon = HouseZone::named("Europe/Lisbon").unwrap();
        let spring = lisbon.day(date("2026-03-29"));
        let autumn = lisbon.day(date("2026-10-25"));
        assert_eq!(spring.end_ms - spring.start_ms, 23 * HOUR_MS);
        assert_eq!(autumn.end_ms - autumn.start_ms, 25 * HOUR_MS);
        assert_eq!(lisbon.day(date("2026-06-01")).end_ms - lisbon.day(date("2026-06-01")).start_ms, 24 * HOUR_MS);
        // Adelaide: +10:30 in summer, +09:30 in winter; clocks go back on 5 April 2026.
        let adelaide = HouseZone::named("Australia/Adelaide").unwrap();
        let back = adelaide.day(date("2026-04-05"));
        assert_eq!(back.end_ms - back.start_ms, 25 * HOUR_MS);
        let forward = adelaide.day(date("2026-10-04"));
        assert_eq!(forward.end_ms - forward.start_ms, 23 * HOUR_MS);
        // Local midnight in Adelaide falls on a half hour of UTC.
        assert_eq!(back.start_ms % HOUR_MS, 30 * 60_000);
    }

    #[test]
    fn days_cover_a_range_whole() {
        let lisbon = HouseZone::named("Europe/Lisbon").unwrap();
        let from = lisbon.day(date("2026-03-28")).start_ms + 5 * HOUR_MS;
        let to = lisbon.day(date("2026-03-30")).start_ms + HOUR_MS;
        let days = lisbon.days(from, to);
        let dates: Vec<String> = days.iter().map(Day::iso).collect();
        assert_eq!(dates, ["2026-03-28", "2026-03-29", "2026-03-30"]);
        assert!(days.windows(2).all(|w| w[0].end_ms == w[1].start_ms));
    }

    #[test]
    fn the_browser_zone_agrees_with_the_tz_database() {
        for name in ["Europe/Lisbon", "Australia/Adelaide", "America/New_York", "Asia/Kathmandu"] {
            let house = HouseZone::named(name).unwrap();
            let from = house.day(date("2026-01-01")).start_ms;
            let to = house.day(date("2026-12-31")).end_ms;
            let zone = house.zone(from, to);
            let mut at = from;
            while at < to {
                let expected = Timestamp::from_millisecond(at).unwrap().to_zoned(house.0.clone()).datetime();
                assert_eq!(zone.format(at, "%Y-%m-%dT%H:%M:%S"), expected.strftime("%Y-%m-%dT%H:%M:%S").to_string(), "{name} at {at}");
                at += 7 * 60_000 + 13;
            }
            for day in house.days(from, to) {
                assert_eq!(zone.start_of_day(day.start_ms + HOUR_MS * 3), day.start_ms, "{name} {}", day.iso());
            }
        }
    }

    #[test]
    fn ticks_land_on_local_hours_and_midnights() {
        let adelaide = HouseZone::named("Australia/Adelaide").unwrap();
        let day = adelaide.day(date("2026-04-05"));
        let zone = adelaide.zone(day.start_ms, day.end_ms);
        let (ticks, step) = zone.ticks(day.start_ms, day.end_ms, 9);
        assert_eq!(step, 3 * HOUR_MS);
        let labels: Vec<String> = ticks.iter().map(|t| zone.format(*t, "%H:%M")).collect();
        assert_eq!(labels, ["00:00", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00", "00:00"]);
        // Clocks went back from 03:00 to 02:00: between the 00:00 and 03:00 ticks are
        // four hours.
        assert_eq!(ticks[1] - ticks[0], 4 * HOUR_MS);
        assert_eq!(ticks[2] - ticks[1], 3 * HOUR_MS);

        let week = adelaide.days(day.start_ms, day.start_ms + 7 * crate::time::DAY_MS);
        let (ticks, step) = zone.ticks(week[0].start_ms, week[6].end_ms, 10);
        assert_eq!(step, crate::time::DAY_MS);
        assert!(ticks.iter().all(|t| zone.format(*t, "%H:%M") == "00:00"));
        assert_eq!(ticks.len(), 8);
    }

    #[test]
    fn local_times_that_never_happen_move_past_the_jump() {
        // Lisbon, 29 March 2026: clocks jump from 01:00 to 02:00 (UTC+0 to UTC+1).
        let lisbon = HouseZone::named("Europe/Lisbon").unwrap();
        let day = lisbon.day(date("2026-03-29"));
        let zone = lisbon.zone(day.start_ms, day.end_ms);
        let skipped = chrono::NaiveDate::from_ymd_opt(2026, 3, 29).unwrap().and_hms_opt(1, 30, 0).unwrap();
        let at = zone.instant(skipped);
        assert_eq!(at, day.start_ms + 90 * 60_000);
        assert_eq!(zone.format(at, "%H:%M"), "02:30");
        // 25 October: 01:30 happens twice; the earlier one (UTC+1) is chosen.
        let day = lisbon.day(date("2026-10-25"));
        let zone = lisbon.zone(day.start_ms, day.end_ms);
        let twice = chrono::NaiveDate::from_ymd_opt(2026, 10, 25).unwrap().and_hms_opt(1, 30, 0).unwrap();
        assert_eq!(zone.instant(twice), day.start_ms + 90 * 60_000);
    }
}