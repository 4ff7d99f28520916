//! House time. Instants are stored and sent in UTC; "today", "per day", "per hour" and every
//! time a person reads are in the house's time zone (`HEARTH_TIMEZONE`). The server knows the
//! zone from the tz database (jiff, in [`ssr`]); the browser gets a [`Zone`]: the zone's name
//! and the UTC offsets it uses over the span a page shows, enough to turn any instant of that
//! span into local time and to place axis ticks on local hours and midnights.

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

/// One minute in milliseconds.
pub const MINUTE_MS: i64 = 60_000;
/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// One (24-hour) day in milliseconds; local days may be 23 or 25 hours long.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// An offset from UTC in force from an instant on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offset {
    /// The instant the offset starts to apply, Unix milliseconds.
    pub from_ms: i64,
    /// Local time minus UTC, in seconds (Lisbon in summer: 3600; Adelaide in summer: 37800).
    pub seconds: i32,
}

/// The house's time zone over a span: its name and its offsets, oldest first. The first
/// offset also applies before its instant, the last one after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// The IANA name, such as `Europe/Lisbon`.
    pub name: String,
    /// The offsets in force over the span, at least one.
    pub offsets: Vec<Offset>,
}

impl Default for Zone {
    fn default() -> Self {
        Zone::utc()
    }
}

/// Steps between axis ticks that land on round local times, shortest first.
const TICK_STEPS_MS: [i64; 14] = [
    MINUTE_MS,
    5 * MINUTE_MS,
    10 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    2 * HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    7 * DAY_MS,
    14 * DAY_MS,
];

impl Zone {
    /// Coordinated Universal Time.
    pub fn utc() -> Zone {
        Zone { name: "UTC".into(), offsets: vec![Offset { from_ms: i64::MIN, seconds: 0 }] }
    }

    /// A zone that is always `seconds` ahead of UTC.
    pub fn fixed(name: &str, seconds: i32) -> Zone {
        Zone { name: name.into(), offsets: vec![Offset { from_ms: i64::MIN, seconds }] }
    }

    /// The offset in force at `at_ms`, in seconds.
    pub fn offset_seconds(&self, at_ms: i64) -> i32 {
        let after = self.offsets.partition_point(|o| o.from_ms <= at_ms);
        self.offsets[after.saturating_sub(1).min(self.offsets.len().saturating_sub(1))].seconds
    }

    /// The local date and time at `at_ms`.
    pub fn local(&self, at_ms: i64) -> NaiveDateTime {
        let shifted = at_ms.saturating_add(i64::from(self.offset_seconds(at_ms)) * 1000);
        DateTime::from_timestamp_millis(shifted).unwrap_or_default().naive_utc()
    }

    /// `at_ms` as local time in a `strftime` format (`%H:%M`, `%a %e %b`, …).
    pub fn format(&self, at_ms: i64, format: &str) -> String {
        self.local(at_ms).format(format).to_string()
    }

    /// The instant at which local clocks show `local`. A local time that happens twice (when
    /// clocks go back) gives the earlier instant; one that never happens (when clocks go
    /// forward) gives the instant the clocks jumped past it.
    pub fn instant(&self, local: NaiveDateTime) -> i64 {
        let wall = local.and_utc().timestamp_millis();
        let valid = self
            .offsets
            .iter()
            .map(|o| wall - i64::from(o.seconds) * 1000)
            .filter(|&at| self.local(at) == local)
            .min();
        valid.unwrap_or_else(|| {
            // Never shown: the clocks jumped from before it to after it at a transition. The
            // offset in force before the jump places it just after the transition.
            let jumped = self.offsets.windows(2).find(|w| {
                let (before, after) = (w[0], w[1]);
                let start = w[1].from_ms.saturating_add(i64::from(before.seconds) * 1000);
                let end = w[1].from_ms.saturating_add(i64::from(after.seconds) * 1000);
                (start..end).contains(&wall)
            });
            let seconds = jumped.map_or_else(|| self.offset_seconds(wall), |w| w[0].seconds);
            wall - i64::from(seconds) * 1000
        })
    }

    /// The start of the local day holding `at_ms`.
    pub fn start_of_day(&self, at_ms: i64) -> i64 {
        self.instant(self.local(at_ms).date().and_time(NaiveTime::MIN))
    }

    /// Instants in `[from_ms, to_ms]` at round local times (local hours, local midnights, …),
    /// as many as fit in `max` at the shortest step that keeps them at or below it, with the
    /// step in milliseconds. Steps of a day or more land on local midnights, whatever the
    /// length of the days in between.
    pub fn ticks(&self, from_ms: i64, to_ms: i64, max: usize) -> (Vec<i64>, i64) {
        let span = (to_ms - from_ms).max(1);
        let max = max.max(2) as i64;
        let step = TICK_STEPS_MS.into_iter().find(|s| span / s < max).unwrap_or(TICK_STEPS_MS[TICK_STEPS_MS.len() - 1]);
        let mut out = Vec::new();
        if step >= DAY_MS {
            let days = step / DAY_MS;
            let mut date = self.local(from_ms).date();
            // Weekly ticks on Mondays, other day steps on every nth day of the month's count.
            if days == 7 || days == 14 {
                use chrono::Datelike;
                date -= Duration::days(i64::from(date.weekday().num_days_from_monday()));
            }
            loop {
                let at = self.instant(date.and_time(NaiveTime::MIN));
                if at > to_ms {
                    break;
                }
                if at >= from_ms {
                    out.push(at);
                }
                date += Duration::days(days);
            }
        } else {
            let step_minutes = step / MINUTE_MS;
            let start = self.local(from_ms);
            let minute_of_day = i64::from(start.hour()) * 60 + i64::from(start.minute());
            let first = minute_of_day - minute_of_day % step_minutes;
            let mut local = start.date().and_time(NaiveTime::MIN) + Duration::minutes(first);
            let mut last = i64::MIN;
            loop {
                let at = self.instant(local);
                if at > to_ms {
                    break;
                }
                // A repeated or skipped local hour gives the same instant twice: keep one.
                if at >= from_ms && at > last {
                    out.push(at);
                    last = at;
                }
                local += Duration::milliseconds(step);
            }
        }
        (out, step)
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The house's time zone on the server, from the tz database.

    use super::{Offset, Zone};
    use jiff::civil::Date;
    use jiff::tz::TimeZone;
    use jiff::{Timestamp, ToSpan};

    /// The house's time zone, as handed to server functions and handlers.
    #[derive(Clone, Debug)]
    pub struct HouseZone(pub TimeZone);

    impl HouseZone {
        /// The house's zone as the server provides it to server functions (UTC if missing).
        pub fn from_context() -> HouseZone {
            leptos::prelude::use_context::<HouseZone>().unwrap_or(HouseZone(TimeZone::UTC))
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
}
