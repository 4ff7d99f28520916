//! Devices: the things that post readings, each holding a secret token. Only a hash of the
//! token is stored, so a leaked database does not let anyone post as a device.

use crate::sensor::Listed;
use serde::{Deserialize, Serialize};

/// The longest device name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A registered device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Database id.
    pub device_id: i64,
    /// Unique name chosen by the homeowner.
    pub name: String,
    /// Whether its token was revoked: it is refused everywhere.
    #[serde(default)]
    pub revoked: bool,
}

/// A device with its sensors, as the Devices page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceOverview {
    /// The device.
    pub device: Device,
    /// When it was registered, Unix milliseconds.
    pub created_at_ms: i64,
    /// Time of the newest reading of any of its sensors, Unix milliseconds.
    pub last_seen_ms: Option<i64>,
    /// Its sensors with their newest readings, by key.
    pub sensors: Vec<Listed>,
}

/// A new device's name, trimmed, or why it cannot be one.
pub fn check_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(format!("a device name is 1 to {MAX_NAME_CHARS} characters without control characters"));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  garage plug "), Ok("garage plug"));
        assert!(check_name(" ").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
        assert!(check_name("tab\tname").is_err());
    }
}
