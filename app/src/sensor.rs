//! Sensors: what a device measures, identified by (device, key), and the kind of quantity it
//! reports.

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
}

impl Kind {
    /// Every kind, in the order the API documents them.
    pub const ALL: [Kind; 7] = [
        Kind::Temperature,
        Kind::Humidity,
        Kind::Power,
        Kind::Energy,
        Kind::Switch,
        Kind::Water,
        Kind::Flow,
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
        }
    }

    /// Whether values are a cumulative counter (consumption is the sum of positive deltas).
    pub fn is_counter(self) -> bool {
        matches!(self, Kind::Energy | Kind::Water)
    }

    /// Checks that `value` is one this kind can take.
    pub fn check(self, value: f64) -> Result<(), String> {
        if !value.is_finite() {
            return Err("value must be a finite number".into());
        }
        if self == Kind::Switch && value != 0.0 && value != 1.0 {
            return Err(format!("a switch reading must be 0 or 1, not {value}"));
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
#[error("unknown kind {0:?}: expected one of temperature, humidity, power, energy, switch, water, flow")]
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

/// A sensor as the dashboard and the live stream describe it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Sensor {
    /// Database id, stable for the sensor's life.
    pub sensor_id: i64,
    /// Name of the device the sensor belongs to.
    pub device: String,
    /// The device's key for the sensor.
    pub key: String,
    /// What the sensor measures.
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: Kind,
    /// Room the sensor is in, if known.
    pub room: Option<String>,
}

impl Sensor {
    /// The name a person sees: the room, or the key when no room is set.
    pub fn label(&self) -> String {
        match &self.room {
            Some(room) => room.clone(),
            None => self.key.clone(),
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Sensor queries.

    use super::{Kind, Sensor};
    use crate::store::{Db, with_db};

    /// Every sensor of one kind, ordered by room and key.
    pub async fn list_by_kind(db: &Db, kind: Kind) -> Result<Vec<Sensor>, sqlx::Error> {
        const SQL: &str = "select s.sensor_id, d.name as device, s.key, s.kind, s.room \
             from sensor s join device d on d.device_id = s.device_id \
             where s.kind = $1 order by s.room, s.key, s.sensor_id";
        with_db!(db, read, |pool| sqlx::query_as(SQL).bind(kind.as_str()).fetch_all(pool).await)
    }

    /// A sensor with its newest reading, as the read API lists it.
    #[derive(Debug, sqlx::FromRow)]
    pub struct Listed {
        /// The sensor.
        #[sqlx(flatten)]
        pub sensor: Sensor,
        /// Time of its newest reading, Unix milliseconds.
        pub last_at_ms: Option<i64>,
        /// Value of its newest reading.
        pub last_value: Option<f64>,
    }

    /// Every sensor with its newest reading, ordered by room and key.
    pub async fn list_all(db: &Db) -> Result<Vec<Listed>, sqlx::Error> {
        const SQL: &str = "select s.sensor_id, d.name as device, s.key, s.kind, s.room, \
             (select max(at_ms) from reading r where r.sensor_id = s.sensor_id) as last_at_ms, \
             (select value from reading r where r.sensor_id = s.sensor_id order by at_ms desc limit 1) as last_value \
             from sensor s join device d on d.device_id = s.device_id \
             order by s.room, s.key, s.sensor_id";
        with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)
    }

    /// The keys of a device's sensors.
    pub async fn keys(db: &Db, device_id: i64) -> Result<Vec<String>, sqlx::Error> {
        const SQL: &str = "select key from sensor where device_id = $1";
        with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(device_id).fetch_all(pool).await)
    }

    /// One sensor, if it exists.
    pub async fn find(db: &Db, sensor_id: i64) -> Result<Option<Sensor>, sqlx::Error> {
        const SQL: &str = "select s.sensor_id, d.name as device, s.key, s.kind, s.room \
             from sensor s join device d on d.device_id = s.device_id where s.sensor_id = $1";
        with_db!(db, read, |pool| sqlx::query_as(SQL).bind(sensor_id).fetch_optional(pool).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn switch_takes_only_zero_or_one() {
        assert!(Kind::Switch.check(1.0).is_ok());
        assert!(Kind::Switch.check(0.0).is_ok());
        assert!(Kind::Switch.check(0.5).is_err());
        assert!(Kind::Temperature.check(-12.5).is_ok());
        assert!(Kind::Temperature.check(f64::NAN).is_err());
    }
}
