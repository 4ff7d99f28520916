//! House time. Instants are stored and sent in UTC; "today", "per day", "per hour" and every
//! time a person reads are in the house's time zone (`HEARTH_TIMEZONE`). The server knows the
//! zone from the tz database (jiff, in [`house`], feature `tzdb`); the browser gets a [`Zone`]:
//! the zone's name and the UTC offsets it uses over the span a page shows, enough to turn any
//! instant of that span into local time and to place axis ticks on local hours and midnights.

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

/// One minute in milliseconds.
pub const MINUTE_MS: i64 = 60_000;
/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// One (24-hour) day in milliseconds; local days may be 23 or 25 hours long.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// The current time in Unix milliseconds: the browser's clock in the browser, the system's
/// on the server.
pub fn now_ms() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

#[cfg(feature = "tzdb")]
pub mod house;

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
