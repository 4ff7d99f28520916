//! The rooms: temperature and humidity following day/night curves in the house's time zone,
//! with slow drifts on top.

use std::f64::consts::TAU;

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
}
