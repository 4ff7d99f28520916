//! The InfluxDB line protocol parser (`POST /api/v2/write`, `/write`) on arbitrary text, at
//! every precision: it must answer with readings or an error, never panic, and every reading it
//! accepts must pass the same rules as the JSON endpoint's. Input: one byte choosing the
//! precision, then the body.
#![no_main]

use hearth::ingest::{MAX_ABS_VALUE, MAX_FUTURE_MS, MIN_AT_MS, influx};
use libfuzzer_sys::fuzz_target;

/// A fixed "now", so that a crash replays the same way.
const NOW_MS: i64 = 1_764_000_000_000;
/// Nanoseconds per unit of each precision Hearth takes: ns, us, ms, s, m, h.
const UNITS_NS: [i64; 6] = [1, 1_000, 1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000];

fuzz_target!(|data: &[u8]| {
    let Some((&precision, body)) = data.split_first() else { return };
    let Ok(body) = std::str::from_utf8(body) else { return };
    let unit_ns = UNITS_NS[usize::from(precision) % UNITS_NS.len()];
    if let Ok(readings) = influx::parse(body, unit_ns, NOW_MS) {
        for foreign in readings {
            let reading = foreign.reading;
            assert!(reading.value.is_finite() && reading.value.abs() <= MAX_ABS_VALUE);
            assert!((MIN_AT_MS..=NOW_MS + MAX_FUTURE_MS).contains(&reading.at_ms));
            assert!(hearth_core::sensor::valid_key(&reading.key));
        }
    }
});
