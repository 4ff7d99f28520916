//! MQTT: which topic prefix belongs to which device, whether each device is online, and what
//! the server has heard on the broker: its connection, prefixes no device claims yet
//! ("discovered, not yet added"), and inputs of any protocol skipped because their kind could
//! not be known. The Devices page's MQTT panel shows it.

use crate::device::Device;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// Everything the MQTT panel shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MqttOverview {
    /// The broker connection, or `None` when no broker is configured (`HEARTH_MQTT_URL`).
    pub broker: Option<Broker>,
    /// Every device, with its prefix if it has one; devices with a prefix first.
    pub devices: Vec<Linked>,
    /// Prefixes heard on the broker that no device claims, most recent first.
    pub discovered: Vec<Discovered>,
    /// Inputs not stored because nothing tells their kind, most recent first.
    pub skipped: Vec<Skipped>,
}

/// The state of this server's connection to the broker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Broker {
    /// The broker's URL, password hidden.
    pub url: String,
    /// Whether the connection is up and subscribed.
    pub connected: bool,
    /// When it last connected or lost the connection, Unix milliseconds.
    pub since_ms: Option<i64>,
    /// Why the last connection attempt failed, if it did.
    pub last_error: Option<String>,
}

/// A device and how it appears on the broker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Linked {
    /// The device.
    pub device: Device,
    /// Its topic prefix, if set.
    pub prefix: Option<String>,
    /// What its last-will or status topic last said: online, offline, or nothing yet.
    pub online: Option<bool>,
    /// When that was said, Unix milliseconds.
    pub online_at_ms: Option<i64>,
    /// The protocol its last message spoke (`tasmota`, `shelly`, `esphome`, `hearth`).
    pub protocol: Option<String>,
    /// Messages this server received for it since it started.
    pub messages: u64,
    /// When the last one arrived, Unix milliseconds.
    pub last_message_ms: Option<i64>,
    /// Why its last refused message was refused.
    pub last_error: Option<String>,
}

/// A prefix heard on the broker that no device claims: its messages are counted, never stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discovered {
    /// The topic prefix.
    pub prefix: String,
    /// The protocol its topics look like.
    pub protocol: String,
    /// Messages received since the server started.
    pub messages: u64,
    /// The last topic heard.
    pub last_topic: String,
    /// When, Unix milliseconds.
    pub last_seen_ms: i64,
}

/// An input that was not stored because its sensor does not exist yet and nothing says its
/// kind. Creating the sensor (one JSON reading with `kind`) lets the next ones in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// The device that sent it.
    pub device: String,
    /// The sensor key it would have had.
    pub key: String,
    /// The protocol it came by (`influx`, `emoncms`, `esphome`, …).
    pub protocol: String,
    /// How many values were skipped.
    pub count: u64,
    /// When the last one was, Unix milliseconds.
    pub last_seen_ms: i64,
}

/// A device just created, with its token (shown once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewDevice {
    /// The device.
    pub device: Device,
    /// Its token, shown only this once.
    pub token: String,
}

/// The longest topic prefix.
pub const MAX_PREFIX_CHARS: usize = 128;
/// How many discovered prefixes and skipped inputs are remembered; the oldest go first.
const MAX_REMEMBERED: usize = 200;

/// Checks a topic prefix: 1 to 128 characters, no MQTT wildcards (`+`, `#`), no control
/// characters, not starting or ending with `/`.
pub fn check_prefix(prefix: &str) -> Result<(), String> {
    let invalid = |why: &str| Err(format!("topic prefix {prefix:?} {why}"));
    if prefix.is_empty() || prefix.chars().count() > MAX_PREFIX_CHARS {
        return invalid("must be 1 to 128 characters");
    }
    if prefix.contains(['+', '#']) || prefix.chars().any(char::is_control) {
        return invalid("must not contain +, # or control characters");
    }
    if prefix.starts_with('/') || prefix.ends_with('/') || prefix.starts_with('$') {
        return invalid("must not start or end with / nor start with $");
    }
    Ok(())
}

/// A device's MQTT settings as stored: its prefix and what its status topic last said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The device's id.
    pub device_id: i64,
    /// Its name.
    pub name: String,
    /// Its topic prefix.
    pub prefix: Option<String>,
    /// Its last reported online state.
    pub online: Option<bool>,
    /// When that was reported, Unix milliseconds.
    pub online_at_ms: Option<i64>,
    /// Whether its token was revoked.
    pub revoked: bool,
}

/// What this server heard on the broker and through the other protocols since it started.
/// Kept in memory: several servers sharing a broker each see their share of the messages.
#[derive(Debug, Default)]
pub struct Activity {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    broker: Option<Broker>,
    devices: HashMap<i64, DeviceActivity>,
    discovered: HashMap<String, Discovered>,
    skipped: HashMap<(String, String), Skipped>,
}

#[derive(Debug, Default, Clone)]
struct DeviceActivity {
    protocol: Option<String>,
    messages: u64,
    last_message_ms: Option<i64>,
    last_error: Option<String>,
}

impl Activity {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A broker is configured at `url` (password hidden), not connected yet.
    pub fn broker_configured(&self, url: String) {
        self.lock().broker = Some(Broker { url, connected: false, since_ms: None, last_error: None });
    }

    /// The broker connection is up (`error` is `None`) or down (with why).
    pub fn broker_state(&self, connected: bool, error: Option<String>, now_ms: i64) {
        if let Some(broker) = &mut self.lock().broker {
            if broker.connected != connected {
                broker.since_ms = Some(now_ms);
            }
            broker.connected = connected;
            if connected {
                broker.last_error = None;
            } else if error.is_some() {
                broker.last_error = error;
            }
        }
    }

    /// Whether the broker connection is up.
    pub fn broker_connected(&self) -> bool {
        self.lock().broker.as_ref().is_some_and(|b| b.connected)
    }

    /// A message for a registered device arrived; `error` says why it was refused, if it was.
    pub fn message(&self, device_id: i64, protocol: &str, error: Option<String>, now_ms: i64) {
        let mut inner = self.lock();
        let device = inner.devices.entry(device_id).or_default();
        device.protocol = Some(protocol.to_owned());
        device.messages += 1;
        device.last_message_ms = Some(now_ms);
        if error.is_some() {
            device.last_error = error;
        }
    }

    /// A message arrived on a prefix no device claims.
    pub fn discovered(&self, prefix: &str, protocol: &str, topic: &str, now_ms: i64) {
        let mut inner = self.lock();
        if !inner.discovered.contains_key(prefix) && inner.discovered.len() >= MAX_REMEMBERED {
            evict_oldest(&mut inner.discovered, |d| d.last_seen_ms);
        }
        let entry = inner.discovered.entry(prefix.to_owned()).or_insert_with(|| Discovered {
            prefix: prefix.to_owned(),
            protocol: protocol.to_owned(),
            messages: 0,
            last_topic: String::new(),
            last_seen_ms: now_ms,
        });
        entry.messages += 1;
        entry.protocol = protocol.to_owned();
        entry.last_topic = topic.to_owned();
        entry.last_seen_ms = now_ms;
    }

    /// Stops listing a prefix as discovered (a device now claims it).
    pub fn forget_discovered(&self, prefix: &str) {
        self.lock().discovered.remove(prefix);
    }

    /// An input of `device` for sensor `key` was skipped: no sensor, no known kind.
    pub fn skipped(&self, device: &str, key: &str, protocol: &str, now_ms: i64) {
        let mut inner = self.lock();
        let id = (device.to_owned(), key.to_owned());
        if !inner.skipped.contains_key(&id) && inner.skipped.len() >= MAX_REMEMBERED {
            evict_oldest(&mut inner.skipped, |s| s.last_seen_ms);
        }
        let entry = inner.skipped.entry(id).or_insert_with(|| Skipped {
            device: device.to_owned(),
            key: key.to_owned(),
            protocol: protocol.to_owned(),
            count: 0,
            last_seen_ms: now_ms,
        });
        entry.count += 1;
        entry.protocol = protocol.to_owned();
        entry.last_seen_ms = now_ms;
    }

    /// The overview the panel shows, for the devices in `rows`.
    pub fn overview(&self, rows: Vec<Link>) -> MqttOverview {
        let inner = self.lock();
        let devices = rows
            .into_iter()
            .map(|row| {
                let seen = inner.devices.get(&row.device_id).cloned().unwrap_or_default();
                Linked {
                    device: Device { device_id: row.device_id, name: row.name, revoked: row.revoked },
                    prefix: row.prefix,
                    online: row.online,
                    online_at_ms: row.online_at_ms,
                    protocol: seen.protocol,
                    messages: seen.messages,
                    last_message_ms: seen.last_message_ms,
                    last_error: seen.last_error,
                }
            })
            .collect();
        let mut discovered: Vec<Discovered> = inner.discovered.values().cloned().collect();
        discovered.sort_by(|a, b| b.last_seen_ms.cmp(&a.last_seen_ms).then_with(|| a.prefix.cmp(&b.prefix)));
        let mut skipped: Vec<Skipped> = inner.skipped.values().cloned().collect();
        skipped.sort_by(|a, b| b.last_seen_ms.cmp(&a.last_seen_ms).then_with(|| a.key.cmp(&b.key)));
        MqttOverview { broker: inner.broker.clone(), devices, discovered, skipped }
    }
}

fn evict_oldest<K: Clone + Eq + std::hash::Hash, V>(map: &mut HashMap<K, V>, seen: impl Fn(&V) -> i64) {
    if let Some(oldest) = map.iter().min_by_key(|(_, v)| seen(v)).map(|(k, _)| k.clone()) {
        map.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_without_wildcards_are_accepted() {
        assert!(check_prefix("tasmota_1A2B3C").is_ok());
        assert!(check_prefix("home/garage/shelly").is_ok());
        for bad in ["", "a/+/b", "#", "/lead", "trail/", "$SYS", "tab\t"] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn discovered_prefixes_are_counted_and_bounded() {
        let activity = Activity::default();
        activity.discovered("plug", "tasmota", "tele/plug/SENSOR", 1);
        activity.discovered("plug", "tasmota", "tele/plug/STATE", 2);
        for i in 0..MAX_REMEMBERED + 5 {
            activity.discovered(&format!("p{i}"), "esphome", "x", 10 + i as i64);
        }
        let overview = activity.overview(Vec::new());
        assert_eq!(overview.discovered.len(), MAX_REMEMBERED);
        assert!(overview.discovered.iter().all(|d| d.prefix != "plug"), "the oldest is forgotten first");
        activity.forget_discovered("p204");
        assert!(activity.overview(Vec::new()).discovered.iter().all(|d| d.prefix != "p204"));
    }
}
