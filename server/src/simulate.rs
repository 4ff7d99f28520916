//! A simulated house: rooms whose temperature and humidity follow day/night curves in the
//! house's time zone, posted through the real ingest endpoint like any device would.

use crate::config::SimulateArgs;
use jiff::{Timestamp, ToSpan, tz::TimeZone};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::f64::consts::TAU;
use std::time::Duration;

/// One room of the simulated house.
#[derive(Debug, Clone, Copy)]
pub struct Room {
    /// Room name, as shown on the dashboard.
    pub name: &'static str,
    /// Prefix of the room's sensor keys.
    pub key: &'static str,
    /// Daily mean temperature, °C.
    pub mean: f64,
    /// Half the difference between the warmest and the coldest hour, °C.
    pub swing: f64,
    /// Local hour of the day when the room is warmest.
    pub warmest_hour: f64,
    /// Mean relative humidity, %.
    pub humidity: f64,
    /// Phase of the room's slow drifts (doors, sun, people), radians.
    pub phase: f64,
}

/// The rooms of the simulated house.
pub const ROOMS: [Room; 5] = [
    Room { name: "Living room", key: "living_room", mean: 20.5, swing: 1.6, warmest_hour: 19.0, humidity: 45.0, phase: 0.0 },
    Room { name: "Kitchen", key: "kitchen", mean: 19.5, swing: 2.2, warmest_hour: 18.5, humidity: 52.0, phase: 1.3 },
    Room { name: "Bedroom", key: "bedroom", mean: 17.5, swing: 1.4, warmest_hour: 21.5, humidity: 48.0, phase: 2.6 },
    Room { name: "Bathroom", key: "bathroom", mean: 21.5, swing: 1.2, warmest_hour: 7.5, humidity: 63.0, phase: 3.9 },
    Room { name: "Office", key: "office", mean: 19.0, swing: 2.0, warmest_hour: 14.0, humidity: 42.0, phase: 5.2 },
];

/// A reading in the ingest endpoint's format.
#[derive(Debug, Clone, Serialize)]
pub struct Reading {
    sensor: String,
    value: f64,
    at: String,
    kind: &'static str,
    room: &'static str,
}

#[derive(Serialize)]
struct Batch<'a> {
    readings: &'a [Reading],
}

impl Room {
    /// The room's temperature at a local hour of the day (0–24), before noise: warmest at
    /// `warmest_hour`, coldest twelve hours later.
    pub fn temperature(&self, hour: f64) -> f64 {
        self.mean + self.swing * (TAU * (hour - self.warmest_hour) / 24.0).cos()
    }

    /// Slow drifts on top of the daily curve (sun, doors, people), smooth in time:
    /// `minutes` since the Unix epoch.
    pub fn drift(&self, minutes: f64) -> f64 {
        0.35 * (minutes / 97.0 + self.phase).sin() + 0.15 * (minutes / 23.0 + 2.0 * self.phase).sin()
    }

    /// The room's humidity at a local hour: drier when warmer.
    pub fn humidity(&self, hour: f64) -> f64 {
        self.humidity - 2.5 * (TAU * (hour - self.warmest_hour) / 24.0).cos()
    }
}

/// The house's readings at `at`: daily curves, slow drifts and a little sensor noise.
pub fn readings_at(at: Timestamp, tz: &TimeZone, rng: &mut impl Rng) -> Vec<Reading> {
    let local = at.to_zoned(tz.clone());
    let hour = f64::from(local.hour()) + f64::from(local.minute()) / 60.0 + f64::from(local.second()) / 3600.0;
    let minutes = at.as_second() as f64 / 60.0;
    let at_text = at.to_string();
    let mut out = Vec::with_capacity(ROOMS.len() * 2);
    for room in &ROOMS {
        let t = room.temperature(hour) + room.drift(minutes) + rng.random_range(-0.03..0.03);
        let h = room.humidity(hour) - 2.0 * room.drift(minutes) + rng.random_range(-0.2..0.2);
        let reading = |kind: &'static str, value: f64| Reading {
            sensor: format!("{}.{kind}", room.key),
            value,
            at: at_text.clone(),
            kind,
            room: room.name,
        };
        out.push(reading("temperature", (t * 100.0).round() / 100.0));
        out.push(reading("humidity", (h * 10.0).round() / 10.0));
    }
    out
}

/// Posts `backfill_hours` of history at 5-minute steps (aligned, so a restart re-posts the
/// same times and they count as duplicates), then live readings every `interval` seconds,
/// until the task is dropped. Readings a post failed to deliver are sent again with the
/// next one.
pub async fn run(args: SimulateArgs) -> Result<(), reqwest::Error> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let endpoint = format!("{}/api/v1/readings", args.url.trim_end_matches('/'));
    let tz = TimeZone::system();
    let mut rng = StdRng::from_os_rng();

    let now = Timestamp::now();
    let step = 5.minutes();
    let start = Timestamp::from_second(now.as_second() - now.as_second() % 300 - i64::from(args.backfill_hours) * 3600)
        .unwrap_or(now);
    let mut history = Vec::new();
    let mut at = start;
    while at < now {
        history.extend(readings_at(at, &tz, &mut rng));
        at = at.checked_add(step).unwrap_or(now);
    }
    for chunk in history.chunks(5000) {
        post(&client, &endpoint, &args.token, chunk).await?;
    }
    tracing::info!(readings = history.len(), "simulated history posted");

    let mut pending: Vec<Reading> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(args.interval.max(0.1)));
    loop {
        tick.tick().await;
        pending.extend(readings_at(Timestamp::now(), &tz, &mut rng));
        match post(&client, &endpoint, &args.token, &pending).await {
            Ok(()) => pending.clear(),
            Err(e) => {
                tracing::warn!(error = %e, pending = pending.len(), "simulated post failed; retrying with the next one");
                let excess = pending.len().saturating_sub(crate::ingest::MAX_READINGS);
                pending.drain(..excess);
            }
        }
    }
}

async fn post(client: &reqwest::Client, endpoint: &str, token: &str, readings: &[Reading]) -> Result<(), reqwest::Error> {
    client
        .post(endpoint)
        .bearer_auth(token)
        .json(&Batch { readings })
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_are_warmest_at_their_hour_and_coldest_twelve_hours_later() {
        for room in &ROOMS {
            let warm = room.temperature(room.warmest_hour);
            let cold = room.temperature((room.warmest_hour + 12.0) % 24.0);
            assert!((warm - cold - 2.0 * room.swing).abs() < 1e-9, "{}", room.name);
            assert!((10.0..30.0).contains(&cold) && (10.0..30.0).contains(&warm));
        }
    }

    #[test]
    fn every_room_reports_temperature_and_humidity() {
        let mut rng = StdRng::seed_from_u64(7);
        let readings = readings_at(Timestamp::from_second(1_764_000_000).unwrap(), &TimeZone::UTC, &mut rng);
        assert_eq!(readings.len(), ROOMS.len() * 2);
        assert!(readings.iter().all(|r| app::sensor::valid_key(&r.sensor)));
        assert!(readings.iter().all(|r| r.at == "2025-11-24T16:00:00Z"));
    }
}
