//! Inputs kept in `server/tests/fixtures/fuzz/<target>/`: crashes the fuzzers found
//! (`scripts/fuzz.sh` copies them there) and the documented examples they start from. Each is
//! replayed through its parser on every test run, decoded as its fuzz target decodes it: it
//! must be answered, not panic, and what the parser accepts must keep the rules the fuzz target
//! checks. Inputs named `accept-*` must be accepted, `reject-*` refused.

use hearth_core::time::house::HouseZone;
use hearth::ingest::emoncms::{Params, parse_bulk, parse_post};
use hearth::ingest::mqtt::{Message, read, route};
use hearth::ingest::{Foreign, MAX_ABS_VALUE, MAX_FUTURE_MS, MIN_AT_MS, influx, parse};
use hearth_core::reading::Incoming;
use hearth_core::sensor::Kind;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// The fuzz targets' fixed "now".
const NOW_MS: i64 = 1_764_000_000_000;

/// What a parser made of one input: `Some(readings)` when it accepted it.
type Answer = Option<Vec<Incoming>>;

/// Replays every input of `target` through `parse`, checking the rules and the names' promises.
fn replay(target: &str, parse: impl Fn(&[u8]) -> Answer) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(files.iter().any(|f| f.file_name().unwrap().to_string_lossy().starts_with("accept-")), "{target} has examples");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(&file).unwrap();
        let Ok(answer) = catch_unwind(AssertUnwindSafe(|| parse(&input))) else { panic!("{target}/{name}: the parser panicked") };
        for reading in answer.iter().flatten() {
            assert!(reading.value.is_finite() && reading.value.abs() <= MAX_ABS_VALUE, "{target}/{name}: {reading:?}");
            assert!((MIN_AT_MS..=NOW_MS + reading.kind.map_or(MAX_FUTURE_MS.max(Kind::Price.max_ahead_ms()), Kind::max_ahead_ms)).contains(&reading.at_ms), "{target}/{name}: {reading:?}");
            assert!(hearth_core::sensor::valid_key(&reading.key), "{target}/{name}: {reading:?}");
        }
        if name.starts_with("accept-") {
            assert!(answer.is_some(), "{target}/{name} is accepted");
        }
        if name.starts_with("reject-") {
            assert!(answer.is_none(), "{target}/{name} is refused");
        }
    }
}

fn readings(foreign: Vec<Foreign>) -> Vec<Incoming> {
    foreign.into_iter().map(|f| f.reading).collect()
}

#[test]
fn json_inputs_are_answered_within_the_rules() {
    replay("ingest_json", |body| parse(body, NOW_MS).ok());
}

#[test]
fn line_protocol_inputs_are_answered_within_the_rules() {
    const UNITS_NS: [i64; 6] = [1, 1_000, 1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000];
    replay("ingest_line_protocol", |data| {
        let (&precision, body) = data.split_first()?;
        let body = std::str::from_utf8(body).ok()?;
        influx::parse(body, UNITS_NS[usize::from(precision) % UNITS_NS.len()], NOW_MS).ok().map(readings)
    });
}

#[test]
fn emoncms_inputs_are_answered_within_the_rules() {
    replay("ingest_emoncms", |data| {
        let text = std::str::from_utf8(data).ok()?;
        let (node, query) = match text.split_once('\n') {
            Some((node, query)) => (Some(node), query),
            None => (None, text),
        };
        let params = Params::from_query(query).ok()?;
        let posted = parse_post(&params, node, NOW_MS).ok().map(readings);
        let bulk = parse_bulk(&params, NOW_MS).ok().map(readings);
        match (posted, bulk) {
            (None, None) => None,
            (posted, bulk) => Some(posted.into_iter().chain(bulk).flatten().collect()),
        }
    });
}

#[test]
fn mqtt_inputs_are_answered_within_the_rules() {
    let zone = HouseZone::named("Australia/Adelaide").unwrap();
    replay("ingest_mqtt", |data| {
        let newline = data.iter().position(|&b| b == b'\n')?;
        let topic = std::str::from_utf8(&data[..newline]).ok()?;
        match read(&route(topic)?, &data[newline + 1..], NOW_MS, &zone).ok()? {
            Message::Readings(foreign) => Some(readings(foreign)),
            Message::Online(_) => Some(Vec::new()),
        }
    });
}
