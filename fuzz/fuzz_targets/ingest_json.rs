//! The JSON ingest parser (`POST /api/v1/readings`) on arbitrary bytes: it must answer every
//! body with readings or an error, never panic, and every reading it accepts must pass the
//! rules it promises (finite value within bounds, time from 2000 to 5 minutes ahead).
#![no_main]

use hearth::ingest::{MAX_ABS_VALUE, MAX_FUTURE_MS, MIN_AT_MS, parse};
use libfuzzer_sys::fuzz_target;

/// A fixed "now", so that a crash replays the same way.
const NOW_MS: i64 = 1_764_000_000_000;

fuzz_target!(|body: &[u8]| {
    if let Ok(readings) = parse(body, NOW_MS) {
        for reading in readings {
            assert!(reading.value.is_finite() && reading.value.abs() <= MAX_ABS_VALUE);
            assert!((MIN_AT_MS..=NOW_MS + MAX_FUTURE_MS).contains(&reading.at_ms));
            assert!(hearth_core::sensor::valid_key(&reading.key));
        }
    }
});
