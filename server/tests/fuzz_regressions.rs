//! Inputs kept in `server/tests/fixtures/fuzz/<target>/`: crashes the fuzzers found
//! (`scripts/fuzz.sh` copies them there) and the edges they start from. Each is replayed
//! through its parser on every test run: it must be answered, not panic, and what the parser
//! accepts must keep the rules the fuzz target checks.

use hearth::ingest::{MAX_ABS_VALUE, MAX_FUTURE_MS, MIN_AT_MS, parse};
use std::path::Path;

/// The fuzz target's fixed "now".
const NOW_MS: i64 = 1_764_000_000_000;

fn fixtures(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz").join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.display().to_string(), std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn ingest_json_inputs_are_answered_within_the_rules() {
    let inputs = fixtures("ingest_json");
    assert!(!inputs.is_empty());
    let mut accepted = 0;
    for (name, body) in inputs {
        let answer = std::panic::catch_unwind(|| parse(&body, NOW_MS));
        let Ok(answer) = answer else { panic!("{name}: the parser panicked") };
        if let Ok(readings) = answer {
            accepted += 1;
            for reading in readings {
                assert!(reading.value.is_finite() && reading.value.abs() <= MAX_ABS_VALUE, "{name}: {reading:?}");
                assert!((MIN_AT_MS..=NOW_MS + MAX_FUTURE_MS).contains(&reading.at_ms), "{name}: {reading:?}");
            }
        }
    }
    assert!(accepted >= 2, "the valid fixtures parse");
}
