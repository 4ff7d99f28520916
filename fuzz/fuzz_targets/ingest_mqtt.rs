//! The MQTT topic router and payload readers (Tasmota, Shelly, ESPHome, Hearth's own) on
//! arbitrary topics and payloads: they must answer with a message or an error, never panic, and
//! every reading they accept must pass the same rules as the JSON endpoint's. Input: the topic,
//! a newline, and the payload.
#![no_main]

use hearth_core::time::house::HouseZone;
use hearth::ingest::{MAX_ABS_VALUE, MAX_FUTURE_MS, MIN_AT_MS};
use hearth::ingest::mqtt::{Message, read, route};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

/// A fixed "now", so that a crash replays the same way.
const NOW_MS: i64 = 1_764_000_000_000;

/// Tasmota's offset-less times are read in a zone with DST and a half-hour offset.
static ZONE: LazyLock<HouseZone> = LazyLock::new(|| HouseZone::named("Australia/Adelaide").expect("zone in tzdb"));

fuzz_target!(|data: &[u8]| {
    let Some(newline) = data.iter().position(|&b| b == b'\n') else { return };
    let Ok(topic) = std::str::from_utf8(&data[..newline]) else { return };
    let payload = &data[newline + 1..];
    let Some(route) = route(topic) else { return };
    assert!(!route.prefix.is_empty());
    if let Ok(Message::Readings(readings)) = read(&route, payload, NOW_MS, &ZONE) {
        for foreign in readings {
            let reading = foreign.reading;
            assert!(reading.value.is_finite() && reading.value.abs() <= MAX_ABS_VALUE);
            assert!((MIN_AT_MS..=NOW_MS + MAX_FUTURE_MS).contains(&reading.at_ms));
            assert!(hearth_core::sensor::valid_key(&reading.key));
        }
    }
});
