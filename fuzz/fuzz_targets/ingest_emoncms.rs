//! The Emoncms input API parsers (`/input/post`, `/input/bulk`) on arbitrary query strings: they
//! must answer with readings or an error, never panic, and every reading they accept must pass
//! the same rules as the JSON endpoint's. Input: the query string, or the path's node, a
//! newline and the query string.
#![no_main]

use hearth::ingest::emoncms::{Params, parse_bulk, parse_post};
use hearth::ingest::{Foreign, MAX_ABS_VALUE, MAX_FUTURE_MS, MIN_AT_MS};
use libfuzzer_sys::fuzz_target;

/// A fixed "now", so that a crash replays the same way.
const NOW_MS: i64 = 1_764_000_000_000;

fn check(readings: Vec<Foreign>) {
    for foreign in readings {
        let reading = foreign.reading;
        assert!(reading.value.is_finite() && reading.value.abs() <= MAX_ABS_VALUE);
        assert!((MIN_AT_MS..=NOW_MS + MAX_FUTURE_MS).contains(&reading.at_ms));
        assert!(hearth_core::sensor::valid_key(&reading.key));
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (path_node, query) = match text.split_once('\n') {
        Some((node, query)) => (Some(node), query),
        None => (None, text),
    };
    let Ok(params) = Params::from_query(query) else { return };
    if let Ok(readings) = parse_post(&params, path_node, NOW_MS) {
        check(readings);
    }
    if let Ok(readings) = parse_bulk(&params, NOW_MS) {
        check(readings);
    }
});
