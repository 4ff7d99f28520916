//! Sensors: what a device measures, identified by (device, key), and the kind of quantity it
//! reports.

use crate::energy::Role;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The quantity a sensor reports. The kind fixes the unit and how values are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Air temperature in °C.
    Temperature,
    /// Relative humidity in %.
    Humidity,
    /// Instantaneous electrical power in W.
    Power,
    /// Cumulative electrical energy counter in kWh.
    Energy,
    /// Appliance state: 0 (off) or 1 (on).
    Switch,
    /// Cumulative water counter in L.
    Water,
    /// Water flow in L/min.
    Flow,
    /// Cumulative gas counter in m³.
    Gas,
    /// Carbon dioxide in the air, in ppm.
    Co2,
    /// A battery's state of charge in %.
    Battery,
    /// The price of electricity per kWh, in the tariff's currency (may be negative).
    Price,
}

impl Kind {
    /// Whether a sensor of this kind can play `role`: a counter (`energy`) or power for the
    /// flows, a `battery` sensor for the state of charge.
    pub fn plays(self, role: Role) -> bool {
        match role {
            Role::BatterySoc => self == Kind::Battery,
            _ => matches!(self, Kind::Energy | Kind::Power),
        }
    }

    /// Every kind, in the order the API documents them.
    pub const ALL: [Kind; 11] = [
        Kind::Temperature,
        Kind::Humidity,
        Kind::Power,
        Kind::Energy,
        Kind::Switch,
        Kind::Water,
        Kind::Flow,
        Kind::Gas,
        Kind::Co2,
        Kind::Battery,
        Kind::Price,
    ];

    /// The name used in the API and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Temperature => "temperature",
            Kind::Humidity => "humidity",
            Kind::Power => "power",
            Kind::Energy => "energy",
            Kind::Switch => "switch",
            Kind::Water => "water",
            Kind::Flow => "flow",
            Kind::Gas => "gas",
            Kind::Co2 => "co2",
            Kind::Battery => "battery",
            Kind::Price => "price",
        }
    }

    /// The unit values of this kind are expressed in.
    pub fn unit(self) -> &'static str {
        match self {
            Kind::Temperature => "°C",
            Kind::Humidity => "%",
            Kind::Power => "W",
            Kind::Energy => "kWh",
            Kind::Switch => "",
            Kind::Water => "L",
            Kind::Flow => "L/min",
            Kind::Gas => "m³",
            Kind::Co2 => "ppm",
            Kind::Battery => "%",
            Kind::Price => "/kWh",
        }
    }

    /// Whether values are a cumulative counter (consumption is the sum of positive deltas).
    pub fn is_counter(self) -> bool {
        matches!(self, Kind::Energy | Kind::Water | Kind::Gas)
    }

    /// How far ahead of the server's clock a reading may be, in milliseconds: 5 minutes of
    /// clock drift, or 48 hours for prices (day-ahead prices are known the day before).
    pub fn max_ahead_ms(self) -> i64 {
        match self {
            Kind::Price => 48 * crate::time::HOUR_MS,
            _ => 5 * crate::time::MINUTE_MS,
        }
    }

    /// Checks that `value` is one this kind can take.
    pub fn check(self, value: f64) -> Result<(), String> {
        if !value.is_finite() {
            return Err("value must be a finite number".into());
        }
        if self == Kind::Switch && value != 0.0 && value != 1.0 {
            return Err(format!("a switch reading must be 0 or 1, not {value}"));
        }
        if self == Kind::Battery && !(0.0..=100.0).contains(&value) {
            return Err(format!("a battery's state of charge is 0 to 100 %, not {value}"));
        }
        if self == Kind::Co2 && value < 0.0 {
            return Err(format!("a CO2 reading is not negative, not {value}"));
        }
        Ok(())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a string that names no [`Kind`].
#[derive(Debug, thiserror::Error)]
#[error("unknown kind {0:?}: expected one of temperature, humidity, power, energy, switch, water, flow, gas, co2, battery, price")]
pub struct UnknownKind(pub String);

impl TryFrom<String> for Kind {
    type Error = UnknownKind;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// Checks a sensor key against `[a-z0-9_.-]{1,64}`.
pub fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'))
}

/// The longest sensor name or room name, in characters.
pub const MAX_TEXT_CHARS: usize = 64;

/// Key prefixes that mark a new sensor as a whole-house meter ([`Sensor::main`]).
pub const MAIN_KEY_PREFIXES: [&str; 2] = ["house.", "main."];

/// Whether a sensor created with `key` starts as a whole-house meter.
pub fn main_by_key(key: &str) -> bool {
    MAIN_KEY_PREFIXES.iter().any(|prefix| key.starts_with(prefix))
}

/// A person's text for a name or a room: trimmed, empty meaning none, at most
/// [`MAX_TEXT_CHARS`] characters and no control characters. The error names `field`.
pub fn clean_text(field: &str, text: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.chars().count() > MAX_TEXT_CHARS || text.chars().any(char::is_control) {
        return Err(format!("{field} must be at most {MAX_TEXT_CHARS} characters without control characters"));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// A sensor as the dashboard and the live stream describe it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sensor {
    /// Database id, stable for the sensor's life.
    pub sensor_id: i64,
    /// Name of the device the sensor belongs to.
    pub device: String,
    /// The device's key for the sensor.
    pub key: String,
    /// What the sensor measures.
    pub kind: Kind,
    /// Room the sensor is in, if known.
    pub room: Option<String>,
    /// Display name chosen by the homeowner, if any.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether it meters the whole house (a main electricity or water meter) rather than
    /// one appliance or circuit.
    #[serde(default)]
    pub main: bool,
    /// The part it plays in the house's energy, if the homeowner gave it one.
    #[serde(default)]
    pub role: Option<Role>,
}

impl Sensor {
    /// The part it plays in the house's energy: its role, or for a whole-house electricity
    /// meter without one, the house's consumption.
    pub fn energy_role(&self) -> Option<Role> {
        self.role.or_else(|| (self.main && matches!(self.kind, Kind::Energy | Kind::Power)).then_some(Role::House))
    }

    /// The name a person sees: the room, or the key when no room is set.
    pub fn label(&self) -> String {
        match &self.room {
            Some(room) => room.clone(),
            None => self.key.clone(),
        }
    }

    /// What the sensor is: its display name, or else the key's part before the first `.`
    /// with `_` as spaces and a capital first letter (`washing_machine.power` → "Washing
    /// machine").
    pub fn title(&self) -> String {
        title_of(self.name.as_deref(), &self.key)
    }
}

/// The title of a sensor named `name` (if the homeowner named it) with key `key`: see
/// [`Sensor::title`].
pub fn title_of(name: Option<&str>, key: &str) -> String {
    if let Some(name) = name {
        return name.to_owned();
    }
    let stem = key.split('.').next().unwrap_or_default().replace('_', " ");
    // A two-letter stem is an abbreviation: `tv` reads "TV", `ac` "AC".
    if stem.len() == 2 && stem.chars().all(|c| c.is_ascii_alphabetic()) {
        return stem.to_ascii_uppercase();
    }
    let mut chars = stem.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => key.to_owned(),
    }
}

/// A sensor with its newest reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Listed {
    /// The sensor.
    pub sensor: Sensor,
    /// Time of its newest reading, Unix milliseconds.
    pub last_at_ms: Option<i64>,
    /// Value of its newest reading.
    pub last_value: Option<f64>,
}

/// A change to a sensor's homeowner-chosen fields; `None` leaves a field as it is,
/// `Some(None)` clears the name or the room.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SensorUpdate {
    /// New display name.
    pub name: Option<Option<String>>,
    /// New room.
    pub room: Option<Option<String>>,
    /// Whether it meters the whole house.
    pub main: Option<bool>,
    /// Its energy role (`Some(None)` takes it away).
    #[serde(default)]
    pub role: Option<Option<Role>>,
}

impl SensorUpdate {
    /// The update with its texts cleaned by [`clean_text`] (an empty text clears the
    /// field), or `(field, message)` for the first text that breaks the rules.
    pub fn cleaned(self) -> Result<SensorUpdate, (&'static str, String)> {
        let clean = |field: &'static str, text: Option<Option<String>>| match text {
            Some(Some(text)) => clean_text(field, &text).map(Some).map_err(|message| (field, message)),
            other => Ok(other),
        };
        Ok(SensorUpdate { name: clean("name", self.name)?, room: clean("room", self.room)?, main: self.main, role: self.role })
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_power_play_the_flows_and_a_battery_its_charge() {
        assert!(Kind::Energy.plays(Role::Solar) && Kind::Power.plays(Role::Solar));
        assert!(!Kind::Battery.plays(Role::Solar));
        assert!(Kind::Battery.plays(Role::BatterySoc) && !Kind::Energy.plays(Role::BatterySoc));
    }

    #[test]
    fn keys_follow_the_documented_pattern() {
        assert!(valid_key("living_room.temp-1"));
        assert!(valid_key(&"a".repeat(64)));
        assert!(!valid_key(""));
        assert!(!valid_key(&"a".repeat(65)));
        assert!(!valid_key("Living"));
        assert!(!valid_key("a b"));
        assert!(!valid_key("tempé"));
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>().unwrap(), kind);
        }
        assert!("pressure".parse::<Kind>().is_err());
    }

    fn sensor(key: &str, name: Option<&str>, room: Option<&str>) -> Sensor {
        Sensor {
            sensor_id: 1,
            device: "d".into(),
            key: key.into(),
            kind: Kind::Power,
            room: room.map(Into::into),
            name: name.map(Into::into),
            main: false,
            role: None,
        }
    }

    #[test]
    fn titles_come_from_the_name_or_the_key() {
        assert_eq!(sensor("washing_machine.power", None, Some("Utility")).title(), "Washing machine");
        assert_eq!(sensor("washing_machine.power", Some("Miele"), None).title(), "Miele");
        assert_eq!(sensor("power", None, None).title(), "Power");
        assert_eq!(sensor(".power", None, None).title(), ".power");
        assert_eq!(sensor("tv.switch", None, None).title(), "TV");
        assert_eq!(sensor("washing_machine.power", None, Some("Utility")).label(), "Utility");
        assert_eq!(sensor("washing_machine.power", None, None).label(), "washing_machine.power");
    }

    #[test]
    fn names_and_rooms_are_checked_and_trimmed() {
        assert_eq!(clean_text("name", "  Fridge "), Ok(Some("Fridge".into())));
        assert_eq!(clean_text("name", "   "), Ok(None));
        assert_eq!(clean_text("name", &"é".repeat(64)), Ok(Some("é".repeat(64))));
        assert!(clean_text("name", &"é".repeat(65)).unwrap_err().starts_with("name must be"));
        assert!(clean_text("room", "Hall\u{7}").unwrap_err().starts_with("room must be"));
        let update = SensorUpdate { name: Some(Some(" Kettle ".into())), room: Some(Some("Kitchen\n2".into())), main: None, role: None };
        assert_eq!(update.cleaned().unwrap_err().0, "room");
        let update = SensorUpdate { name: Some(Some(" ".into())), room: None, main: Some(true), role: None };
        assert_eq!(update.cleaned().unwrap(), SensorUpdate { name: Some(None), room: None, main: Some(true), role: None });
    }

    #[test]
    fn house_and_main_keys_are_main_meters() {
        assert!(main_by_key("house.energy"));
        assert!(main_by_key("main.water"));
        assert!(!main_by_key("greenhouse.energy"));
        assert!(!main_by_key("house"));
    }

    #[test]
    fn switch_takes_only_zero_or_one() {
        assert!(Kind::Switch.check(1.0).is_ok());
        assert!(Kind::Switch.check(0.0).is_ok());
        assert!(Kind::Switch.check(0.5).is_err());
        assert!(Kind::Temperature.check(-12.5).is_ok());
        assert!(Kind::Temperature.check(f64::NAN).is_err());
        assert!(Kind::Battery.check(100.0).is_ok() && Kind::Battery.check(100.5).is_err());
        assert!(Kind::Co2.check(415.0).is_ok() && Kind::Co2.check(-1.0).is_err());
        assert!(Kind::Price.check(-0.05).is_ok());
        assert!(Kind::Gas.is_counter());
        assert_eq!(Kind::Price.max_ahead_ms(), 48 * 3_600_000);
        assert_eq!(Kind::Gas.max_ahead_ms(), 300_000);
    }
}
