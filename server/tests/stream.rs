//! The live stream over a real socket, on SQLite and PostgreSQL: a server on port 0, a real SSE
//! client, readings posted over HTTP and read back as events, and a shutdown that ends open
//! streams.

mod common;

use common::on_both_databases;

use common::TestDb;
use eventsource_stream::{Event, Eventsource};
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

async fn next_event(events: &mut (impl Stream<Item = Result<Event, impl std::fmt::Debug>> + Unpin)) -> Event {
    tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event within 5 s")
        .expect("the stream is open")
        .expect("a well-formed event")
}

/// A server on a free port: its base URL, the sender that stops it, and its task.
async fn spawn(t: &TestDb) -> (String, oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(hearth::serve(listener, common::state(&t.db), async move {
        let _ = stopped.await;
    }));
    (base, stop, server)
}

async fn a_posted_reading_reaches_a_subscriber_once_with_increasing_ids(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let (base, stop, server) = spawn(&t).await;

    let client = common::owner_client(&t.db).await;
    let response = client.get(format!("{base}/api/v1/stream")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut events = response.bytes_stream().eventsource();
    assert_eq!(next_event(&mut events).await.event, "hello", "a stream starts with hello");

    let post = |body: Value| {
        client.post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&body).send()
    };
    let receipt: Value = post(json!({"readings": [
        {"sensor": "hall.temp", "value": 21.5, "kind": "temperature", "room": "Hall", "at": "2026-01-31T18:30:00Z"},
        {"sensor": "hall.temp", "value": 21.5, "at": "2026-01-31T18:30:00Z"},
    ]}))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(receipt, json!({"stored": 1, "duplicates": 1}));

    let first = next_event(&mut events).await;
    assert_eq!(first.event, "reading");
    let data: Value = serde_json::from_str(&first.data).unwrap();
    assert_eq!(
        data,
        json!({"sensor_id": 1, "device": "hall", "sensor": "hall.temp", "kind": "temperature",
               "room": "Hall", "value": 21.5, "at": "2026-01-31T18:30:00Z"})
    );

    assert_eq!(post(json!({"sensor": "hall.temp", "value": 22.0})).await.unwrap().status(), 200);
    let second = next_event(&mut events).await;
    let value: Value = serde_json::from_str(&second.data).unwrap();
    assert_eq!(value["value"], 22.0, "the duplicate was not sent: the next event is the next reading");
    let n = |id: &str| id.parse::<u128>().unwrap_or_else(|_| panic!("a numeric id: {id}"));
    let (a, b) = (n(&first.id), n(&second.id));
    assert_eq!(b, a + 1, "ids increase by one per event: {a} then {b}");

    stop.send(()).unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), events.next()).await.expect("the stream ends on shutdown");
    assert!(ended.is_none() || ended.unwrap().is_err());
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("the server stops").unwrap().unwrap();
}

async fn a_refused_post_sends_nothing(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let (base, _stop, _server) = spawn(&t).await;
    let client = common::owner_client(&t.db).await;
    let mut events = client.get(format!("{base}/api/v1/stream")).send().await.unwrap().bytes_stream().eventsource();
    assert_eq!(next_event(&mut events).await.event, "hello");
    let post = |body: Value| client.post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&body).send();

    let refused = post(json!({"readings": [
        {"sensor": "a", "value": 1, "kind": "temperature"},
        {"sensor": "b", "value": 1},
    ]}))
    .await
    .unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(post(json!({"sensor": "c", "value": 3, "kind": "temperature"})).await.unwrap().status(), 200);
    let event = next_event(&mut events).await;
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(data["sensor"], "c", "the first event is the accepted reading, not one of the refused batch");
}

/// A batch too large for one PostgreSQL notification (its readings go out as several, in one
/// statement) reaches the stream whole and in the batch's order.
async fn a_large_batch_reaches_the_stream_whole_and_in_order(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let (base, _stop, _server) = spawn(&t).await;
    let client = common::owner_client(&t.db).await;
    let mut events = client.get(format!("{base}/api/v1/stream")).send().await.unwrap().bytes_stream().eventsource();
    assert_eq!(next_event(&mut events).await.event, "hello");
    const N: usize = 300;
    let readings: Vec<Value> = (0..N)
        .map(|i| json!({"sensor": format!("hall.s{}", i % 3), "value": i, "kind": "power", "at": 1_764_000_000 + i}))
        .collect();
    let receipt: Value = client
        .post(format!("{base}/api/v1/readings"))
        .bearer_auth(&token)
        .json(&json!({ "readings": readings }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(receipt, json!({"stored": N, "duplicates": 0}));
    let mut values = Vec::new();
    while values.len() < N {
        let event = next_event(&mut events).await;
        let data: Value = serde_json::from_str(&event.data).unwrap();
        values.push(data["value"].as_f64().unwrap() as usize);
    }
    assert_eq!(values, (0..N).collect::<Vec<_>>());
}

/// A stream opened with `cookie`, past its `hello`.
async fn open_stream(base: &str, cookie: &str) -> impl Stream<Item = Result<Event, impl std::fmt::Debug>> + Unpin {
    let response = reqwest::Client::new().get(format!("{base}/api/v1/stream")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut events = response.bytes_stream().eventsource();
    assert_eq!(next_event(&mut events).await.event, "hello");
    events
}

/// Waits for the stream to end (generously: the end must come from the revocation, not a timeout
/// of the test's own, which would fail it).
async fn ended(events: &mut (impl Stream<Item = Result<Event, impl std::fmt::Debug>> + Unpin)) -> bool {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), events.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_))) => return true,
            Ok(Some(Ok(event))) => assert_ne!(event.event, "reading", "a reading after the session ended: {event:?}"),
        }
    }
}

/// Revoking a share link and logging out end the streams those sessions hold, at once, and a
/// session's expiry ends them when it comes; other sessions' streams go on.
async fn ending_a_session_ends_its_streams(t: TestDb) {
    let token = common::device_token(&t.db, "hall").await;
    let (base, _stop, _server) = spawn(&t).await;
    let owner = common::owner_client(&t.db).await;
    let (link, _) = hearth_store::account::insert_share_link(&t.db, "Wall").await.unwrap();
    let screen = common::session_cookie(&t.db, hearth_store::account::Holder::ShareLink(link.share_link_id)).await;
    let account = hearth_store::account::set_password(&t.db, common::OWNER.0, common::OWNER.1).await.unwrap();
    let phone = common::session_cookie(&t.db, hearth_store::account::Holder::Account(account)).await;
    let laptop = common::session_cookie(&t.db, hearth_store::account::Holder::Account(account)).await;
    let (mut on_screen, mut on_phone, mut on_laptop) = (open_stream(&base, &screen).await, open_stream(&base, &phone).await, open_stream(&base, &laptop).await);

    let revoked = owner
        .post(format!("{base}/api/owner/revoke_share_link"))
        .form(&[("share_link_id", link.share_link_id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert!(ended(&mut on_screen).await, "the revoked link's stream ends");

    let logged_out = reqwest::Client::new()
        .post(format!("{base}/api/logout"))
        .header("cookie", &phone)
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert!(logged_out.status().is_success() || logged_out.status().is_redirection(), "{}", logged_out.status());
    assert!(ended(&mut on_phone).await, "the logged-out session's stream ends");

    // A session that expires ends its stream when it does.
    let brief = hearth_store::account::open_session(&t.db, hearth_store::account::Holder::Account(account), Duration::from_secs(3)).await.unwrap();
    let kiosk = format!("{}={brief}", hearth_app::session::COOKIE);
    let mut on_kiosk = open_stream(&base, &kiosk).await;
    assert!(ended(&mut on_kiosk).await, "the expired session's stream ends");

    let posted = owner.post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&json!({"sensor": "hall.temp", "value": 20.0, "kind": "temperature"})).send().await.unwrap();
    assert_eq!(posted.status(), 200);
    assert_eq!(next_event(&mut on_laptop).await.event, "reading", "another session's stream goes on");
}

on_both_databases!(
    a_posted_reading_reaches_a_subscriber_once_with_increasing_ids,
    a_refused_post_sends_nothing,
    ending_a_session_ends_its_streams,
    a_large_batch_reaches_the_stream_whole_and_in_order,
);
