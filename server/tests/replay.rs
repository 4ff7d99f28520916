//! Resuming the live stream, over a real socket on SQLite and PostgreSQL: a client that
//! reconnects with `Last-Event-ID` (or `?last_event_id=`) gets exactly the events it missed,
//! in order, then live ones; one whose id is out of the window, of another server or of a
//! restarted one gets `resync`. A second stream stays open throughout to know when the
//! server has published a reading (on PostgreSQL that happens after the POST returns).

mod common;

use common::on_both_databases;

use common::TestDb;
use eventsource_stream::{Event, Eventsource};
use futures_util::{Stream, StreamExt};
use hearth::config::Config;
use serde_json::{Value, json};
use std::time::Duration;

type Events = std::pin::Pin<Box<dyn Stream<Item = Result<Event, String>> + Send>>;

/// Where a client says where it stopped.
enum From<'a> {
    Start,
    Header(&'a str),
    Query(&'a str),
}

async fn open(client: &reqwest::Client, base: &str, from: From<'_>) -> Events {
    let request = match from {
        From::Start => client.get(format!("{base}/api/v1/stream")),
        From::Header(id) => client.get(format!("{base}/api/v1/stream")).header("Last-Event-ID", id),
        From::Query(id) => client.get(format!("{base}/api/v1/stream")).query(&[("last_event_id", id)]),
    };
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    Box::pin(response.bytes_stream().eventsource().map(|e| e.map_err(|e| e.to_string())))
}

/// Positions per epoch in a stream id: ids are `epoch × 10¹² + n`.
const PER_EPOCH: u128 = 1_000_000_000_000;

/// A stream id's epoch and position.
fn split(id: &str) -> (u128, u64) {
    let id: u128 = id.parse().unwrap_or_else(|_| panic!("a numeric id: {id}"));
    (id / PER_EPOCH, (id % PER_EPOCH) as u64)
}

/// The stream id of position `n` in `epoch`.
fn id_of(epoch: u128, n: u64) -> String {
    (epoch * PER_EPOCH + u128::from(n)).to_string()
}

async fn next(events: &mut Events) -> Event {
    tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event within 5 s")
        .expect("the stream is open")
        .expect("a well-formed event")
}

/// Nothing arrives for half a second (the events before were all there was).
async fn quiet(events: &mut Events) {
    if let Ok(event) = tokio::time::timeout(Duration::from_millis(500), events.next()).await {
        panic!("no more events, got {event:?}");
    }
}

/// A distinct time for each reading (a second apart within the last hour), so none is a
/// duplicate of another.
fn at() -> f64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3600);
    (start + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) as f64
}

/// A reading event's value.
fn value(event: &Event) -> f64 {
    assert_eq!(event.event, "reading", "{event:?}");
    serde_json::from_str::<Value>(&event.data).unwrap()["value"].as_f64().unwrap()
}

struct Setup {
    base: String,
    client: reqwest::Client,
    token: String,
    /// A stream open since the start, which sees every reading.
    watch: Events,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn setup(t: &TestDb, config: Config) -> Setup {
    let token = common::device_token(&t.db, "hall").await;
    let (base, stop, _server) = common::serve(&t.db, config).await;
    let client = common::owner_client(&t.db).await;
    let mut watch = open(&client, &base, From::Start).await;
    assert_eq!(next(&mut watch).await.event, "hello");
    Setup { base, client, token, watch, _stop: stop }
}

impl Setup {
    /// Posts readings of these values and waits until the server has published them; returns
    /// the id of the last.
    async fn post(&mut self, values: &[f64]) -> String {
        let readings: Vec<Value> =
            values.iter().map(|v| json!({"sensor": "hall.temp", "kind": "temperature", "value": v, "at": at()})).collect();
        let posted = self
            .client
            .post(format!("{}/api/v1/readings", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"readings": readings}))
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 200);
        let mut id = String::new();
        for v in values {
            let event = next(&mut self.watch).await;
            assert_eq!(value(&event), *v);
            id = event.id;
        }
        id
    }
}

async fn a_first_stream_says_hello_with_the_current_id(t: TestDb) {
    let mut s = setup(&t, Config::default()).await;
    let last = s.post(&[1.0, 2.0]).await;
    let mut events = open(&s.client, &s.base, From::Start).await;
    let hello = next(&mut events).await;
    assert_eq!((hello.event.as_str(), hello.id.as_str()), ("hello", last.as_str()));
    assert_eq!(serde_json::from_str::<Value>(&hello.data).unwrap(), json!({"replay_events": 10_000}));
    let (epoch, n) = split(&last);
    assert_eq!(n, 2, "ids are epoch × 10¹² + n: {last}");
    s.post(&[3.0]).await;
    let third = next(&mut events).await;
    assert_eq!((value(&third), third.id), (3.0, id_of(epoch, 3)), "no replay and no resync on a first stream");
}

async fn a_reconnect_gets_exactly_the_missed_readings_in_order_then_live_ones(t: TestDb) {
    let mut s = setup(&t, Config::default()).await;
    let mut events = open(&s.client, &s.base, From::Start).await;
    let hello = next(&mut events).await.id;
    s.post(&[1.0]).await;
    let seen = next(&mut events).await;
    assert_eq!(value(&seen), 1.0);
    drop(events);

    s.post(&[2.0, 3.0]).await;
    s.post(&[4.0]).await;
    let mut events = open(&s.client, &s.base, From::Header(&seen.id)).await;
    let replayed = [next(&mut events).await, next(&mut events).await, next(&mut events).await];
    assert_eq!(replayed.iter().map(value).collect::<Vec<_>>(), [2.0, 3.0, 4.0], "the missed readings, in order, first");
    s.post(&[5.0]).await;
    let live = next(&mut events).await;
    assert_eq!(value(&live), 5.0, "then the live ones, with no repeat");
    let ids: Vec<String> = replayed.iter().chain([&live]).map(|e| e.id.clone()).collect();
    let epoch = split(&seen.id).0;
    assert_eq!(ids, (2..=5).map(|n| id_of(epoch, n)).collect::<Vec<_>>());
    quiet(&mut events).await;

    // A client that got nothing but `hello` resumes from there.
    let mut events = open(&s.client, &s.base, From::Header(&hello)).await;
    let mut values = Vec::new();
    for _ in 0..5 {
        values.push(value(&next(&mut events).await));
    }
    assert_eq!(values, [1.0, 2.0, 3.0, 4.0, 5.0]);
    quiet(&mut events).await;

    // Up to date: nothing to replay, and no hello or resync either.
    let mut events = open(&s.client, &s.base, From::Header(&live.id)).await;
    quiet(&mut events).await;
    s.post(&[6.0]).await;
    assert_eq!(value(&next(&mut events).await), 6.0);
}

async fn the_query_parameter_resumes_too_and_the_header_wins(t: TestDb) {
    let mut s = setup(&t, Config::default()).await;
    let first = s.post(&[1.0]).await;
    let second = s.post(&[2.0]).await;
    s.post(&[3.0]).await;
    let mut events = open(&s.client, &s.base, From::Query(&first)).await;
    assert_eq!([value(&next(&mut events).await), value(&next(&mut events).await)], [2.0, 3.0]);
    quiet(&mut events).await;

    let both = s
        .client
        .get(format!("{}/api/v1/stream", s.base))
        .query(&[("last_event_id", first.as_str())])
        .header("Last-Event-ID", &second)
        .send()
        .await
        .unwrap();
    let mut events: Events = Box::pin(both.bytes_stream().eventsource().map(|e| e.map_err(|e| e.to_string())));
    assert_eq!(value(&next(&mut events).await), 3.0);
    quiet(&mut events).await;
}

async fn an_id_out_of_the_window_or_of_another_epoch_gets_resync(t: TestDb) {
    let mut s = setup(&t, Config { replay_events: 2, ..Config::default() }).await;
    let first = s.post(&[1.0]).await;
    let last = s.post(&[2.0, 3.0, 4.0]).await;

    // 2, 3 and 4 were missed, but the window holds only 3 and 4.
    let mut events = open(&s.client, &s.base, From::Header(&first)).await;
    let resync = next(&mut events).await;
    assert_eq!((resync.event.as_str(), resync.data.as_str(), resync.id.as_str()), ("resync", "3", last.as_str()));
    s.post(&[5.0]).await;
    assert_eq!(value(&next(&mut events).await), 5.0, "then live readings, none of the missed ones");

    // Still in the window (4 and 5): replayed.
    let third = id_of(split(&last).0, 3);
    let mut events = open(&s.client, &s.base, From::Query(&third)).await;
    assert_eq!([value(&next(&mut events).await), value(&next(&mut events).await)], [4.0, 5.0]);

    let another_epoch = id_of(split(&last).0 - 1, 4);
    for other in [another_epoch.as_str(), "4", "nonsense", &format!("{last}-1"), &format!("{last}0")] {
        let mut events = open(&s.client, &s.base, From::Header(other)).await;
        let resync = next(&mut events).await;
        assert_eq!(resync.event, "resync", "{other}");
        assert_eq!(resync.data, "unknown", "{other}");
        quiet(&mut events).await;
    }
}

async fn a_restarted_server_is_another_epoch(t: TestDb) {
    let mut s = setup(&t, Config::default()).await;
    let last = s.post(&[1.0]).await;
    let (base, _stop, _server) = common::serve(&t.db, Config::default()).await;
    let mut events = open(&s.client, &base, From::Header(&last)).await;
    let resync = next(&mut events).await;
    assert_eq!((resync.event.as_str(), resync.data.as_str()), ("resync", "unknown"));
    assert!(split(&resync.id).0 > split(&last).0, "the new server's own id, above the old one's: {}", resync.id);
}

async fn a_lagging_stream_gets_resync_with_the_id_of_the_last_event_it_lost(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let (base, _stop, _server) = common::serve(&t.db, Config { stream_buffer: 4, ..Config::default() }).await;
    let client = common::owner_client(&t.db).await;
    let mut events = open(&client, &base, From::Start).await;
    let hello = next(&mut events).await;
    assert_eq!(hello.event, "hello");
    let epoch = split(&hello.id).0;
    // One batch is published at once, faster than the stream's task can take it.
    let readings: Vec<Value> = (1..=20).map(|v| json!({"sensor": "hall.temp", "kind": "temperature", "value": v, "at": at()})).collect();
    let posted = client.post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&json!({"readings": readings})).send().await.unwrap();
    assert_eq!(posted.status(), 200);
    let resync = next(&mut events).await;
    assert_eq!((resync.event.as_str(), resync.data.as_str(), resync.id.clone()), ("resync", "16", id_of(epoch, 16)));
    let mut rest = Vec::new();
    for _ in 0..4 {
        let event = next(&mut events).await;
        rest.push((value(&event), event.id));
    }
    assert_eq!(rest, (17..=20).map(|n| (n as f64, id_of(epoch, n))).collect::<Vec<_>>());
    drop(events);

    // What the refetch after the resync covers need not come again: resuming from its id
    // replays only what followed.
    let mut events = open(&client, &base, From::Header(&resync.id)).await;
    let mut again = Vec::new();
    for _ in 0..4 {
        again.push(value(&next(&mut events).await));
    }
    assert_eq!(again, [17.0, 18.0, 19.0, 20.0]);
}

on_both_databases!(
    a_lagging_stream_gets_resync_with_the_id_of_the_last_event_it_lost,
    a_first_stream_says_hello_with_the_current_id,
    a_reconnect_gets_exactly_the_missed_readings_in_order_then_live_ones,
    the_query_parameter_resumes_too_and_the_header_wins,
    an_id_out_of_the_window_or_of_another_epoch_gets_resync,
    a_restarted_server_is_another_epoch,
);
