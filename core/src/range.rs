//! Time ranges of the chart views: the last hour, day, week or month (which slide with the
//! live stream), or fixed bounds (custom dates, or a span dragged on a chart). A range lives
//! in the page's URL (`?range=7d`, `?from=2026-11-01&to=2026-11-07`, `?from=<ms>&to=<ms>`), so
//! it survives a reload and can be shared.

use crate::time::{DAY_MS, HOUR_MS};
#[cfg(feature = "tzdb")]
use crate::time::house::HouseZone;
use serde::{Deserialize, Serialize};

/// The ranges offered as buttons, ending now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preset {
    /// The last hour.
    Hour,
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
}

impl Preset {
    /// Every preset, shortest first.
    pub const ALL: [Preset; 4] = [Preset::Hour, Preset::Day, Preset::Week, Preset::Month];

    /// The name used in the URL and on its button.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Hour => "1h",
            Preset::Day => "24h",
            Preset::Week => "7d",
            Preset::Month => "30d",
        }
    }

    /// How far back it reaches, in milliseconds.
    pub fn span_ms(self) -> i64 {
        match self {
            Preset::Hour => HOUR_MS,
            Preset::Day => DAY_MS,
            Preset::Week => 7 * DAY_MS,
            Preset::Month => 30 * DAY_MS,
        }
    }

    /// The preset named `name`, if any.
    pub fn parse(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// A range as the URL states it, before it is resolved against the clock and the house's
/// time zone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeQuery {
    /// `range=`: a preset name.
    pub range: Option<String>,
    /// `from=`: a local date `YYYY-MM-DD` or Unix milliseconds.
    pub from: Option<String>,
    /// `to=`: a local date (inclusive) or Unix milliseconds.
    pub to: Option<String>,
}

impl RangeQuery {
    /// A preset range.
    pub fn preset(preset: Preset) -> RangeQuery {
        RangeQuery { range: Some(preset.as_str().into()), from: None, to: None }
    }

    /// Fixed bounds in Unix milliseconds.
    pub fn between_ms(from_ms: i64, to_ms: i64) -> RangeQuery {
        RangeQuery { range: None, from: Some(from_ms.to_string()), to: Some(to_ms.to_string()) }
    }

    /// The preset it names, if it names one and no fixed bounds.
    pub fn as_preset(&self, default: Preset) -> Option<Preset> {
        match (&self.from, &self.to) {
            (Some(_), Some(_)) => None,
            _ => Some(self.range.as_deref().and_then(Preset::parse).unwrap_or(default)),
        }
    }

    /// The URL query string for this range (without `?`).
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if let (Some(from), Some(to)) = (&self.from, &self.to) {
            parts.push(format!("from={from}"));
            parts.push(format!("to={to}"));
        } else if let Some(range) = &self.range {
            parts.push(format!("range={range}"));
        }
        parts.join("&")
    }
}

/// A resolved range: the instants a view covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Start, Unix milliseconds.
    pub from_ms: i64,
    /// End (exclusive), Unix milliseconds.
    pub to_ms: i64,
    /// The preset it came from: such a window ends now and slides with the live stream.
    pub preset: Option<Preset>,
}

impl Window {
    /// Its length in milliseconds.
    pub fn span_ms(&self) -> i64 {
        self.to_ms - self.from_ms
    }

    /// Whether live readings belong in it: it ends now, or later.
    pub fn is_live(&self, now_ms: i64) -> bool {
        self.preset.is_some() || self.to_ms >= now_ms
    }

    /// The window as shown at `now_ms`: a sliding one ends at `now_ms`.
    pub fn at(&self, now_ms: i64) -> Window {
        match self.preset {
            Some(preset) => Window { from_ms: now_ms - preset.span_ms(), to_ms: now_ms, preset: self.preset },
            None => *self,
        }
    }

    /// The window of the same length just before this one, for comparisons.
    pub fn previous(&self) -> Window {
        Window { from_ms: self.from_ms - self.span_ms(), to_ms: self.from_ms, preset: None }
    }
}

/// The longest range a view may ask for.
pub const MAX_SPAN_MS: i64 = 400 * DAY_MS;

/// Why a range could not be resolved: the query parameter at fault and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RangeError {
    /// `range`, `from` or `to`.
    pub field: &'static str,
    /// What is wrong, for a person.
    pub message: String,
}

/// Resolves `query` at `now_ms` (presets end now; dates are local days of the house,
/// `to` inclusive), or says which parameter is wrong.
#[cfg(feature = "tzdb")]
pub fn resolve(query: &RangeQuery, default: Preset, zone: &HouseZone, now_ms: i64) -> Result<Window, RangeError> {
    let error = |field: &'static str, message: String| RangeError { field, message };
    if let Some(preset) = query.as_preset(default) {
        if let Some(name) = &query.range
            && Preset::parse(name).is_none()
        {
            return Err(error("range", format!("range must be one of 1h, 24h, 7d, 30d, not {name:?}")));
        }
        return Ok(Window { from_ms: now_ms - preset.span_ms(), to_ms: now_ms, preset: Some(preset) });
    }
    let bound = |field: &'static str, text: &str, end_of_day: bool| -> Result<i64, RangeError> {
        match text.parse::<i64>() {
            Ok(ms) => Ok(ms),
            Err(_) => zone.parse_time(field, text, end_of_day).map(|t| t.as_millisecond()).map_err(|m| error(field, m)),
        }
    };
    let from_ms = bound("from", query.from.as_deref().unwrap_or_default(), false)?;
    let to_ms = bound("to", query.to.as_deref().unwrap_or_default(), true)?;
    if from_ms >= to_ms {
        return Err(error("from", "from must be before to".into()));
    }
    if to_ms - from_ms > MAX_SPAN_MS {
        return Err(error("from", "a range may cover at most 400 days".into()));
    }
    Ok(Window { from_ms, to_ms, preset: None })
}

#[cfg(all(test, feature = "tzdb"))]
mod tests {
    use super::*;
    use crate::time::house::HouseZone;

    #[test]
    fn presets_end_now_and_dates_are_whole_local_days() {
        let zone = HouseZone::named("Europe/Lisbon").unwrap();
        let now = 1_774_800_000_000; // 2026-03-29T16:00:00Z, the day clocks go forward
        let day = resolve(&RangeQuery::preset(Preset::Day), Preset::Hour, &zone, now).unwrap();
        assert_eq!((day.from_ms, day.to_ms, day.preset), (now - 86_400_000, now, Some(Preset::Day)));
        let default = resolve(&RangeQuery::default(), Preset::Week, &zone, now).unwrap();
        assert_eq!(default.preset, Some(Preset::Week));

        let dates = RangeQuery { range: None, from: Some("2026-03-29".into()), to: Some("2026-03-29".into()) };
        let w = resolve(&dates, Preset::Day, &zone, now).unwrap();
        assert_eq!(w.to_ms - w.from_ms, 23 * 3_600_000, "a whole 23-hour local day");
        assert_eq!(w.preset, None);

        let ms = RangeQuery::between_ms(1_000, 5_000);
        assert_eq!(resolve(&ms, Preset::Day, &zone, now).unwrap(), Window { from_ms: 1_000, to_ms: 5_000, preset: None });
    }

    #[test]
    fn bad_ranges_name_their_parameter() {
        let zone = HouseZone::named("UTC").unwrap();
        let bad = |from: &str, to: &str| {
            resolve(&RangeQuery { range: None, from: Some(from.into()), to: Some(to.into()) }, Preset::Day, &zone, 0)
                .unwrap_err()
                .to_string()
        };
        assert!(bad("yesterday", "2026-01-01").starts_with("from"));
        assert!(bad("2026-01-01", "soon").starts_with("to"));
        assert!(bad("2026-02-01", "2026-01-01").contains("before"));
        assert!(bad("2024-01-01", "2026-01-01").contains("400 days"));
        let preset = RangeQuery { range: Some("2w".into()), from: None, to: None };
        assert_eq!(resolve(&preset, Preset::Day, &zone, 0).unwrap_err().field, "range");
    }
}
