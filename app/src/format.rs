//! Quantities and times as the pages write them.

use hearth_core::sensor::Kind;

/// Watts as a person reads them: `640 W`, `2.35 kW`.
pub fn watts(w: f64) -> String {
    if w.abs() >= 1000.0 { format!("{:.2} kW", w / 1000.0) } else { format!("{w:.0} W") }
}

/// A reading's value with its unit.
pub fn reading_text(kind: Kind, value: f64) -> String {
    match kind {
        Kind::Switch => if value > 0.5 { "on" } else { "off" }.to_owned(),
        Kind::Power => watts(value),
        Kind::Temperature => format!("{value:.1} °C"),
        Kind::Humidity => format!("{value:.0} %"),
        Kind::Energy => format!("{value:.2} kWh"),
        Kind::Water => format!("{value:.0} L"),
        Kind::Flow => format!("{value:.1} L/min"),
        Kind::Gas => format!("{value:.2} m³"),
        Kind::Co2 => format!("{value:.0} ppm"),
        Kind::Battery => format!("{value:.0} %"),
        Kind::Price => format!("{value:.4} /kWh"),
    }
}

/// Money in `currency` as a person reads it, rounded to cents only here: `€4.82`,
/// `£0.35`, `−€0.12`, `12.40 CHF`.
pub fn money(currency: &str, value: f64) -> String {
    let symbol = match currency {
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "USD" | "AUD" | "CAD" | "NZD" => Some("$"),
        _ => None,
    };
    let sign = if value < -0.005 { "−" } else { "" };
    match symbol {
        Some(symbol) => format!("{sign}{symbol}{:.2}", value.abs()),
        None => format!("{sign}{:.2} {currency}", value.abs()),
    }
}

/// What a CO2 level means for the air of a room: under 800 ppm fresh, up to 1,200 stuffy
/// (time to open a window), above that poor (air the room now). Every page that shows CO2
/// words and colours it by this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Air {
    /// Under 800 ppm.
    Fresh,
    /// 800 to 1,200 ppm.
    Stuffy,
    /// Above 1,200 ppm.
    Poor,
}

impl Air {
    /// The air of a room at `ppm` of CO2.
    pub fn of(ppm: f64) -> Air {
        if ppm < 800.0 {
            Air::Fresh
        } else if ppm <= 1200.0 {
            Air::Stuffy
        } else {
            Air::Poor
        }
    }

    /// What it means, for a person.
    pub fn words(self) -> &'static str {
        match self {
            Air::Fresh => "fresh air",
            Air::Stuffy => "stuffy: open a window",
            Air::Poor => "poor air: air the room now",
        }
    }

    /// The class that colours it.
    pub fn class(self) -> &'static str {
        match self {
            Air::Fresh => "co2 fresh",
            Air::Stuffy => "co2 stuffy",
            Air::Poor => "co2 poor",
        }
    }
}

/// What a CO2 level means ([`Air`]'s words).
pub fn co2_note(ppm: f64) -> &'static str {
    Air::of(ppm).words()
}

/// "3 min ago", "2 h ago", "5 days ago".
pub fn ago(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match minutes {
        0 => "just now".into(),
        1..60 => format!("{minutes} min ago"),
        60..2880 => format!("{} h ago", minutes / 60),
        _ => format!("{} days ago", minutes / 1440),
    }
}

/// How long something has lasted, in its largest units: "45 s", "12 min", "2 h 5 min",
/// "3 days 4 h".
pub fn elapsed(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    let minutes = seconds / 60;
    match minutes {
        0 => format!("{seconds} s"),
        1..60 => format!("{minutes} min"),
        60..1440 if minutes % 60 == 0 => format!("{} h", minutes / 60),
        60..1440 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ if minutes % 1440 < 60 => format!("{} days", minutes / 1440),
        _ => format!("{} days {} h", minutes / 1440, minutes % 1440 / 60),
    }
}

/// How long an appliance ran, to the nearest minute: "45 min", "1 h 05 min".
pub fn run_length(ms: i64) -> String {
    let minutes = (ms.max(0) + 30_000) / 60_000;
    if minutes < 60 { format!("{minutes} min") } else { format!("{} h {:02} min", minutes / 60, minutes % 60) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_rounded_to_cents_only_to_be_shown() {
        assert_eq!(money("EUR", 4.8249), "€4.82");
        assert_eq!(money("GBP", 0.355), "£0.35");
        assert_eq!(money("EUR", -0.12), "−€0.12");
        assert_eq!(money("CHF", 12.4), "12.40 CHF");
        assert_eq!(co2_note(650.0), "fresh air");
        assert_eq!(co2_note(1000.0), "stuffy: open a window");
        assert_eq!(co2_note(1500.0), "poor air: air the room now");
        assert_eq!(Air::of(799.0).class(), "co2 fresh");
        assert_eq!(Air::of(1200.0).class(), "co2 stuffy");
        assert_eq!(Air::of(1201.0).class(), "co2 poor");
    }

    #[test]
    fn watts_switch_to_kilowatts() {
        assert_eq!(watts(640.4), "640 W");
        assert_eq!(watts(2345.0), "2.35 kW");
    }

    #[test]
    fn ages_read_in_minutes_hours_and_days() {
        assert_eq!(ago(20_000), "just now");
        assert_eq!(ago(5 * 60_000), "5 min ago");
        assert_eq!(ago(3 * 3_600_000), "3 h ago");
        assert_eq!(ago(3 * 86_400_000), "3 days ago");
    }

    #[test]
    fn durations_read_in_the_largest_units() {
        assert_eq!(elapsed(45_000), "45 s");
        assert_eq!(elapsed(12 * 60_000), "12 min");
        assert_eq!(elapsed(125 * 60_000), "2 h 5 min");
        assert_eq!(elapsed(120 * 60_000), "2 h");
        assert_eq!(elapsed(3 * 86_400_000 + 4 * 3_600_000), "3 days 4 h");
    }

    #[test]
    fn runs_round_to_the_minute() {
        assert_eq!(run_length(44 * 60_000 + 40_000), "45 min");
        assert_eq!(run_length(65 * 60_000), "1 h 05 min");
        assert_eq!(run_length(-5), "0 min");
    }
}
