//! Readings: one value of one sensor at one instant. Devices post them, the store keeps them,
//! the live stream pushes each stored one to every open dashboard.

use crate::sensor::{Kind, Sensor};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The most points a history series holds for one sensor: enough for a sharp line at any
/// screen width, few enough to send quickly.
pub const MAX_POINTS: i64 = 720;

/// A reading that passed the checks that need no database, not yet tied to a sensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Incoming {
    /// The sensor key on the posting device.
    pub key: String,
    /// The value, finite.
    pub value: f64,
    /// When it was measured, Unix milliseconds.
    pub at_ms: i64,
    /// The kind the device claims; required for a sensor's first reading.
    pub kind: Option<Kind>,
    /// The room for a new sensor.
    pub room: Option<String>,
}

/// A reading that was stored now (not a duplicate).
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    /// Its sensor, shared by the batch's readings of that sensor.
    pub sensor: Arc<Sensor>,
    /// Time in Unix milliseconds.
    pub at_ms: i64,
    /// The value.
    pub value: f64,
}

impl Stored {
    /// The reading as the live stream sends it.
    #[cfg(feature = "tzdb")]
    pub fn live(&self) -> LiveReading {
        LiveReading {
            sensor_id: self.sensor.sensor_id,
            device: self.sensor.device.clone(),
            sensor: self.sensor.key.clone(),
            kind: self.sensor.kind,
            room: self.sensor.room.clone(),
            value: self.value,
            at: crate::time::house::rfc3339(self.at_ms),
        }
    }
}

/// One reading as the live stream sends it (`event: reading`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveReading {
    /// The sensor's database id.
    pub sensor_id: i64,
    /// Name of the device that posted the reading.
    pub device: String,
    /// The sensor's key on its device.
    pub sensor: String,
    /// What the sensor measures.
    pub kind: Kind,
    /// The sensor's room, if set.
    pub room: Option<String>,
    /// The value, in the kind's unit.
    pub value: f64,
    /// When the value was measured, RFC 3339 in UTC.
    pub at: String,
}

/// A point of a chart: one reading, or the readings of a time bucket (their mean, with
/// their extremes for the min–max band).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Time in Unix milliseconds (a bucket's middle).
    pub at_ms: i64,
    /// The value, or the bucket's mean.
    pub value: f64,
    /// The bucket's smallest value (the value itself for one reading).
    pub min: f64,
    /// The bucket's largest value.
    pub max: f64,
    /// The width of the bucket in milliseconds; 0 for one reading.
    pub span_ms: i64,
}

impl Point {
    /// A point for one reading.
    pub fn raw(at_ms: i64, value: f64) -> Point {
        Point { at_ms, value, min: value, max: value, span_ms: 0 }
    }
}

/// A sensor's recent history and its latest reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// The sensor.
    pub sensor: Sensor,
    /// Mean values over equal time buckets, oldest first.
    pub points: Vec<Point>,
    /// The newest stored reading, if any.
    pub latest: Option<Point>,
}

/// One bucket of a series: the readings of one sensor in `[start, start + width)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Start of the bucket, Unix milliseconds.
    pub start_ms: i64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value.
    pub mean: f64,
    /// Number of readings.
    pub count: i64,
    /// Time of the earliest reading in the bucket, Unix milliseconds.
    pub first_at_ms: i64,
}

/// Adds a live reading to `all`, the series of the sensors a view shows: appends the point to
/// its sensor's series (or starts a series for a new sensor, kept in label order), moves the
/// latest value forward, and drops points before `keep_from_ms`.
pub fn merge_live(all: &mut Vec<Series>, reading: &LiveReading, at_ms: i64, keep_from_ms: i64) {
    let point = Point::raw(at_ms, reading.value);
    let series = match all.iter_mut().position(|s| s.sensor.sensor_id == reading.sensor_id) {
        Some(i) => &mut all[i],
        None => {
            let sensor = reading.sensor();
            let at = all.partition_point(|s| (s.sensor.label(), s.sensor.sensor_id) < (sensor.label(), sensor.sensor_id));
            all.insert(at, Series { sensor, points: Vec::new(), latest: None });
            &mut all[at]
        }
    };
    let at = series.points.partition_point(|p| p.at_ms < at_ms);
    if series.points.get(at).is_none_or(|p| p.at_ms != at_ms) {
        series.points.insert(at, point);
    }
    if series.latest.is_none_or(|latest| latest.at_ms <= at_ms) {
        series.latest = Some(point);
    }
    let keep = series.points.partition_point(|p| p.at_ms < keep_from_ms);
    series.points.drain(..keep);
}

impl LiveReading {
    /// The sensor the reading belongs to, as far as the reading tells.
    pub fn sensor(&self) -> Sensor {
        Sensor {
            sensor_id: self.sensor_id,
            device: self.device.clone(),
            key: self.sensor.clone(),
            kind: self.kind,
            room: self.room.clone(),
            name: None,
            main: crate::sensor::main_by_key(&self.sensor),
            role: None,
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    fn reading(sensor_id: i64, room: &str, value: f64) -> LiveReading {
        LiveReading {
            sensor_id,
            device: "house".into(),
            sensor: format!("t{sensor_id}"),
            kind: Kind::Temperature,
            room: Some(room.into()),
            value,
            at: String::new(),
        }
    }

    #[test]
    fn a_new_sensor_gets_a_series_in_label_order() {
        let mut all = Vec::new();
        merge_live(&mut all, &reading(2, "Office", 20.0), 1_000, 0);
        merge_live(&mut all, &reading(1, "Kitchen", 19.0), 1_000, 0);
        let rooms: Vec<_> = all.iter().map(|s| s.sensor.label()).collect();
        assert_eq!(rooms, ["Kitchen", "Office"]);
        assert_eq!(all[1].latest, Some(Point::raw(1_000, 20.0)));
    }

    #[test]
    fn points_stay_ordered_and_the_latest_never_goes_back() {
        let mut all = Vec::new();
        merge_live(&mut all, &reading(1, "Kitchen", 21.0), 3_000, 0);
        merge_live(&mut all, &reading(1, "Kitchen", 20.0), 1_000, 0);
        merge_live(&mut all, &reading(1, "Kitchen", 20.0), 1_000, 0);
        let times: Vec<_> = all[0].points.iter().map(|p| p.at_ms).collect();
        assert_eq!(times, [1_000, 3_000]);
        assert_eq!(all[0].latest.unwrap().value, 21.0);
    }

    #[test]
    fn points_before_the_window_are_dropped() {
        let mut all = Vec::new();
        for (at, v) in [(0, 1.0), (5_000, 2.0), (12_000, 3.0)] {
            merge_live(&mut all, &reading(1, "Kitchen", v), at, at - 10_000);
        }
        let times: Vec<_> = all[0].points.iter().map(|p| p.at_ms).collect();
        assert_eq!(times, [5_000, 12_000]);
    }
}
