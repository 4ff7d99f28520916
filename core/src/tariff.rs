//! Tariffs: what the house pays for electricity, gas and water, as the homeowner sets them.
//! Each tariff applies from a local date until the next one's, so a new tariff never
//! re-prices the past. Electricity's import price is flat, by time-of-use zones (days of the
//! week × local clock times, a zone whose `to` is earlier than its `from` running past
//! midnight), or read from a `price` sensor. How a range is priced is in [`crate::cost`].

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

/// The most tariffs a house keeps.
pub const MAX_TARIFFS: usize = 100;
/// The most time-of-use zones of one tariff.
pub const MAX_ZONES: usize = 48;
/// The largest price or charge accepted, in the currency (a typo guard, not a policy).
pub const MAX_MONEY: f64 = 1e6;

/// Days of the week as tariffs name them, Monday first.
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One tariff, in force from its local date until the next tariff's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tariff {
    /// The local date it applies from, `YYYY-MM-DD`.
    pub from: String,
    /// ISO 4217 code of its money, such as `EUR`.
    pub currency: String,
    /// The price of electricity drawn from the grid.
    pub import: Import,
    /// Electricity's standing charge per local day (a 23- or 25-hour day is one day).
    #[serde(default)]
    pub standing_per_day: f64,
    /// What electricity fed into the grid earns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<Export>,
    /// Gas, if the house has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas: Option<Gas>,
    /// Water, if the house pays for it by volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water: Option<Water>,
}

/// The import price: `price` alone (flat), `price` with `zones` (time of use: `price` outside
/// them), or `price_sensor` alone (dynamic, per kWh, each reading holding until the next).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Import {
    /// Price per kWh (outside the zones, if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// Time-of-use zones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<PriceZone>,
    /// The id of a `price` sensor whose readings are the price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_sensor: Option<i64>,
}

/// A time-of-use zone: on `days`, from local `from` to local `to` (`HH:MM`; `to` earlier
/// than `from` runs past midnight into the next day, `24:00` is midnight at the end).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceZone {
    /// The days it starts on: `mon` … `sun`.
    pub days: Vec<String>,
    /// Local clock time it starts, `HH:MM`.
    pub from: String,
    /// Local clock time it ends, `HH:MM`.
    pub to: String,
    /// Price per kWh inside it.
    pub price: f64,
}

/// The feed-in price.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// Credit per kWh exported.
    pub price: f64,
}

/// Gas: priced per kWh, metered in m³.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gas {
    /// Price per kWh.
    pub price: f64,
    /// Standing charge per local day.
    #[serde(default)]
    pub standing_per_day: f64,
    /// kWh in a m³: calorific value (MJ/m³ ÷ 3.6) × volume correction factor.
    pub kwh_per_m3: f64,
}

/// Water: priced per m³, metered in litres.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Water {
    /// Price per m³.
    pub price_per_m3: f64,
    /// Standing charge per local day.
    #[serde(default)]
    pub standing_per_day: f64,
}

/// A refusal of a tariff list: the field at fault (`tariffs[0].import.zones[1].days`) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The field, as a path from the request's body.
    pub field: String,
    /// What is wrong, starting with the field's name.
    pub message: String,
}

fn refuse(field: String, why: impl std::fmt::Display) -> Refusal {
    Refusal { message: format!("{field} {why}"), field }
}

/// A zone read for pricing: the weekdays it starts on (bit 0 Monday), and minutes of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub days: u8,
    pub from_min: u32,
    pub to_min: u32,
}

impl Window {
    /// Whether the window covers local time `at`.
    pub fn covers(&self, at: NaiveDateTime) -> bool {
        let day = at.weekday().num_days_from_monday();
        let minute = at.hour() * 60 + at.minute();
        let starts_on = |d: u32| self.days & (1 << d) != 0;
        if self.from_min < self.to_min {
            starts_on(day) && (self.from_min..self.to_min).contains(&minute)
        } else {
            (starts_on(day) && minute >= self.from_min) || (starts_on((day + 6) % 7) && minute < self.to_min)
        }
    }

    /// The minutes of the week it covers, as `[start, end)` ranges from Monday 00:00.
    fn week_minutes(&self) -> Vec<(u32, u32)> {
        const WEEK: u32 = 7 * 1440;
        let mut out = Vec::new();
        for d in 0..7 {
            if self.days & (1 << d) == 0 {
                continue;
            }
            let start = d * 1440 + self.from_min;
            let end = if self.from_min < self.to_min { d * 1440 + self.to_min } else { (d + 1) * 1440 + self.to_min };
            if end <= WEEK {
                out.push((start, end));
            } else {
                out.push((start, WEEK));
                out.push((0, end - WEEK));
            }
        }
        out
    }
}

/// `HH:MM` as minutes of the day; `24:00` only where `end` allows it.
fn minutes(text: &str, end: bool) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if end => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

impl PriceZone {
    /// The zone as a [`Window`], if its fields are valid.
    pub(crate) fn window(&self) -> Option<Window> {
        let mut days = 0u8;
        for day in &self.days {
            days |= 1 << DAYS.iter().position(|d| d == day)?;
        }
        Some(Window { days, from_min: minutes(&self.from, false)?, to_min: minutes(&self.to, true)? })
    }
}

impl Tariff {
    /// The local date it applies from.
    pub fn from_date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.from, "%Y-%m-%d").ok()
    }
}

fn money(field: String, value: f64, allow_negative: bool) -> Result<(), Refusal> {
    if !value.is_finite() || value.abs() > MAX_MONEY {
        return Err(refuse(field, format!("must be a number of at most {MAX_MONEY} in magnitude")));
    }
    if !allow_negative && value < 0.0 {
        return Err(refuse(field, "must not be negative"));
    }
    Ok(())
}

fn check_zones(field: &str, zones: &[PriceZone]) -> Result<(), Refusal> {
    if zones.len() > MAX_ZONES {
        return Err(refuse(field.to_owned(), format!("may hold at most {MAX_ZONES} zones")));
    }
    let mut owner: Vec<Option<usize>> = vec![None; 7 * 1440];
    for (j, zone) in zones.iter().enumerate() {
        let at = format!("{field}[{j}]");
        if zone.days.is_empty() {
            return Err(refuse(format!("{at}.days"), "must name at least one day"));
        }
        for (k, day) in zone.days.iter().enumerate() {
            if !DAYS.contains(&day.as_str()) {
                return Err(refuse(format!("{at}.days"), format!("has an unknown day {day:?}: use mon, tue, wed, thu, fri, sat or sun")));
            }
            if zone.days[..k].contains(day) {
                return Err(refuse(format!("{at}.days"), format!("names {day:?} twice")));
            }
        }
        let from = minutes(&zone.from, false).ok_or_else(|| refuse(format!("{at}.from"), "must be a local time HH:MM from 00:00 to 23:59"))?;
        let to = minutes(&zone.to, true).ok_or_else(|| refuse(format!("{at}.to"), "must be a local time HH:MM from 00:00 to 24:00"))?;
        if from == to % 1440 {
            return Err(refuse(format!("{at}.to"), "must differ from from (a zone all day long is the tariff's price)"));
        }
        money(format!("{at}.price"), zone.price, true)?;
        let window = zone.window().expect("checked above");
        for (start, end) in window.week_minutes() {
            for slot in &mut owner[start as usize..end as usize] {
                if let Some(other) = *slot {
                    return Err(refuse(at, format!("overlaps {field}[{other}]")));
                }
                *slot = Some(j);
            }
        }
    }
    Ok(())
}

/// Checks a tariff list as the homeowner sends it; `is_price_sensor` says whether a sensor id
/// is a `price` sensor. Returns the list sorted by date, or the first field at fault.
pub fn check(mut tariffs: Vec<Tariff>, is_price_sensor: impl Fn(i64) -> bool) -> Result<Vec<Tariff>, Refusal> {
    if tariffs.len() > MAX_TARIFFS {
        return Err(refuse("tariffs".into(), format!("may hold at most {MAX_TARIFFS} tariffs")));
    }
    for (i, t) in tariffs.iter().enumerate() {
        let at = |f: &str| format!("tariffs[{i}].{f}");
        let date = t.from_date().ok_or_else(|| refuse(at("from"), format!("must be a local date YYYY-MM-DD, not {:?}", t.from)))?;
        if tariffs[..i].iter().any(|o| o.from_date() == Some(date)) {
            return Err(refuse(at("from"), format!("repeats {date}: one tariff per date")));
        }
        if t.currency.len() != 3 || !t.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(refuse(at("currency"), format!("must be an ISO 4217 code such as EUR, not {:?}", t.currency)));
        }
        if i > 0 && t.currency != tariffs[0].currency {
            return Err(refuse(at("currency"), format!("must be {} like the other tariffs: costs are added up", tariffs[0].currency)));
        }
        match (&t.import.price, &t.import.price_sensor) {
            (Some(_), Some(_)) => return Err(refuse(at("import.price_sensor"), "cannot be given with a price")),
            (None, None) => return Err(refuse(at("import"), "needs a price, or a price_sensor")),
            (None, Some(id)) => {
                if !t.import.zones.is_empty() {
                    return Err(refuse(at("import.zones"), "need a price for the hours outside them, not a price_sensor"));
                }
                if !is_price_sensor(*id) {
                    return Err(refuse(at("import.price_sensor"), format!("must be the id of a price sensor; {id} is not one")));
                }
            }
            (Some(price), None) => money(at("import.price"), *price, true)?,
        }
        check_zones(&at("import.zones"), &t.import.zones)?;
        money(at("standing_per_day"), t.standing_per_day, false)?;
        if let Some(export) = &t.export {
            money(at("export.price"), export.price, true)?;
        }
        if let Some(gas) = &t.gas {
            money(at("gas.price"), gas.price, true)?;
            money(at("gas.standing_per_day"), gas.standing_per_day, false)?;
            if !(gas.kwh_per_m3.is_finite() && gas.kwh_per_m3 > 0.0 && gas.kwh_per_m3 <= 100.0) {
                return Err(refuse(at("gas.kwh_per_m3"), "must be above 0 and at most 100 (natural gas: about 10 to 12)"));
            }
        }
        if let Some(water) = &t.water {
            money(at("water.price_per_m3"), water.price_per_m3, true)?;
            money(at("water.standing_per_day"), water.standing_per_day, false)?;
        }
    }
    tariffs.sort_by_key(|t| t.from_date());
    Ok(tariffs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(from: &str, price: f64) -> Tariff {
        Tariff {
            from: from.into(),
            currency: "EUR".into(),
            import: Import { price: Some(price), ..Import::default() },
            standing_per_day: 0.3,
            export: None,
            gas: None,
            water: None,
        }
    }

    fn zone(days: &[&str], from: &str, to: &str, price: f64) -> PriceZone {
        PriceZone { days: days.iter().map(|d| (*d).into()).collect(), from: from.into(), to: to.into(), price }
    }

    fn with_zones(zones: Vec<PriceZone>) -> Tariff {
        Tariff { import: Import { price: Some(0.2), zones, price_sensor: None }, ..flat("2026-01-01", 0.2) }
    }

    fn field(result: Result<Vec<Tariff>, Refusal>) -> String {
        let refusal = result.unwrap_err();
        assert!(refusal.message.starts_with(&refusal.field), "{refusal:?}");
        refusal.field
    }

    #[test]
    fn the_issue_example_is_accepted_and_reads_back_the_same() {
        let json = r#"{"from": "2026-01-01", "currency": "EUR",
            "import": {"price": 0.20, "zones": [{"days": ["mon","tue","wed","thu","fri"], "from": "07:00", "to": "22:00", "price": 0.32}]},
            "standing_per_day": 0.30, "export": {"price": 0.08},
            "gas": {"price": 0.11, "standing_per_day": 0.28, "kwh_per_m3": 11.2},
            "water": {"price_per_m3": 2.10, "standing_per_day": 0.10}}"#;
        let tariff: Tariff = serde_json::from_str(json).unwrap();
        let checked = check(vec![tariff.clone()], |_| false).unwrap();
        assert_eq!(checked, [tariff.clone()]);
        let again: Tariff = serde_json::from_str(&serde_json::to_string(&tariff).unwrap()).unwrap();
        assert_eq!(again, tariff);
        let dynamic: Tariff = serde_json::from_str(r#"{"from": "2026-02-01", "currency": "EUR", "import": {"price_sensor": 12}}"#).unwrap();
        assert_eq!(check(vec![dynamic.clone(), tariff], |id| id == 12).unwrap()[1], dynamic);
    }

    #[test]
    fn refusals_name_the_field() {
        let overlapping = with_zones(vec![zone(&["mon"], "07:00", "10:00", 0.3), zone(&["mon", "tue"], "09:00", "12:00", 0.4)]);
        assert_eq!(field(check(vec![overlapping], |_| false)), "tariffs[0].import.zones[1]");
        // A zone past midnight on Sunday overlaps Monday's early zone.
        let wrapping = with_zones(vec![zone(&["mon"], "00:00", "06:00", 0.1), zone(&["sun"], "22:00", "01:00", 0.1)]);
        assert_eq!(field(check(vec![wrapping], |_| false)), "tariffs[0].import.zones[1]");
        let unknown_day = with_zones(vec![zone(&["monday"], "07:00", "10:00", 0.3)]);
        assert_eq!(field(check(vec![unknown_day], |_| false)), "tariffs[0].import.zones[0].days");
        let bad_time = with_zones(vec![zone(&["mon"], "7:00", "10:00", 0.3)]);
        assert_eq!(field(check(vec![bad_time], |_| false)), "tariffs[0].import.zones[0].from");
        let not_price = Tariff { import: Import { price: None, zones: vec![], price_sensor: Some(3) }, ..flat("2026-01-01", 0.2) };
        assert_eq!(field(check(vec![not_price], |id| id == 4)), "tariffs[0].import.price_sensor");
        let negative = Tariff { standing_per_day: -0.1, ..flat("2026-01-01", 0.2) };
        assert_eq!(field(check(vec![flat("2025-01-01", 0.1), negative], |_| false)), "tariffs[1].standing_per_day");
        let gas = Tariff { gas: Some(Gas { price: 0.1, standing_per_day: -1.0, kwh_per_m3: 11.0 }), ..flat("2026-01-01", 0.2) };
        assert_eq!(field(check(vec![gas], |_| false)), "tariffs[0].gas.standing_per_day");
        assert_eq!(field(check(vec![flat("2026-13-01", 0.2)], |_| false)), "tariffs[0].from");
        assert_eq!(field(check(vec![flat("2026-01-01", 0.2), flat("2026-01-01", 0.3)], |_| false)), "tariffs[1].from");
        let dollars = Tariff { currency: "USD".into(), ..flat("2026-02-01", 0.2) };
        assert_eq!(field(check(vec![flat("2026-01-01", 0.2), dollars], |_| false)), "tariffs[1].currency");
        let neither = Tariff { import: Import::default(), ..flat("2026-01-01", 0.2) };
        assert_eq!(field(check(vec![neither], |_| false)), "tariffs[0].import");
    }

    #[test]
    fn zones_past_midnight_and_dynamic_negative_prices_are_fine() {
        let night = with_zones(vec![zone(&["fri"], "22:00", "07:00", 0.1), zone(&["sat"], "07:00", "24:00", 0.25)]);
        assert!(check(vec![night], |_| false).is_ok());
        let negative_export = Tariff { export: Some(Export { price: -0.01 }), ..flat("2026-01-01", -0.05) };
        assert!(check(vec![negative_export], |_| false).is_ok());
    }

    #[test]
    fn tariffs_come_back_by_date() {
        let sorted = check(vec![flat("2026-03-01", 0.3), flat("2025-12-01", 0.2)], |_| false).unwrap();
        assert_eq!(sorted.iter().map(|t| t.from.as_str()).collect::<Vec<_>>(), ["2025-12-01", "2026-03-01"]);
    }

    #[test]
    fn a_window_past_midnight_covers_the_next_morning() {
        let w = zone(&["fri"], "22:00", "07:00", 0.1).window().unwrap();
        let at = |d: &str| NaiveDateTime::parse_from_str(d, "%Y-%m-%d %H:%M").unwrap();
        // 2026-01-02 is a Friday.
        assert!(w.covers(at("2026-01-02 22:00")));
        assert!(w.covers(at("2026-01-03 06:59")));
        assert!(!w.covers(at("2026-01-03 07:00")));
        assert!(!w.covers(at("2026-01-02 06:00")));
        assert!(!w.covers(at("2026-01-03 22:30")));
    }
}
