//! The event bus: what the store announces once it has committed — readings stored, alerts
//! opened or resolved. Publishing is the store's alone and happens with the write: on SQLite
//! the events are handed to this process's subscribers after the commit; on PostgreSQL they
//! are NOTIFYed inside the transaction, so every server sharing the database hears them when,
//! and only if, it commits. Subscribers ([`Db::subscribe`](crate::Db::subscribe)) see the same
//! events either way.

use hearth_core::alert::AlertEvent;
#[cfg(doc)]
use hearth_core::reading::LiveReading;
use hearth_core::reading::Stored;
use hearth_core::sensor::{Kind, Sensor};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Something the store committed.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Readings were stored (not duplicates), in the order of their batch; shared, so that
    /// subscribers keep them without copying, and made [`LiveReading`]s
    /// ([`Stored::live`]) only where one is needed. Those heard from another server carry
    /// only what a [`LiveReading`] holds of their sensor.
    Readings(Arc<[Stored]>),
    /// An alert opened or resolved.
    Alert(AlertEvent),
    /// Sessions ended (logged out, or their share link revoked): the SHA-256 hashes of their
    /// tokens, so that the streams they hold open end too.
    SessionsEnded(Vec<String>),
}

/// The PostgreSQL channel of stored readings (payload: a JSON array of [`LiveReading`]s).
pub const READINGS_CHANNEL: &str = "hearth_readings";
/// The PostgreSQL channel of alert changes (payload: one JSON [`AlertEvent`]).
pub const ALERTS_CHANNEL: &str = "hearth_alerts";
/// The PostgreSQL channel of ended sessions (payload: a JSON array of token hashes).
pub const SESSIONS_CHANNEL: &str = "hearth_sessions";
/// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7900;

/// What a subscriber is called with each event.
pub(crate) type Handler = Arc<dyn Fn(&Event) + Send + Sync>;

/// This process's subscribers, for delivery on SQLite.
#[derive(Clone, Default)]
pub(crate) struct Bus {
    handlers: Arc<Mutex<Vec<(u64, Handler)>>>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus").finish_non_exhaustive()
    }
}

impl Bus {
    /// Hands `event` to every subscriber of this process (SQLite).
    pub(crate) fn deliver(&self, event: &Event) {
        let handlers: Vec<Handler> = self.lock().iter().map(|(_, h)| h.clone()).collect();
        for handler in handlers {
            handler(event);
        }
    }

    /// Adds a subscriber of this process until the returned subscription is dropped.
    pub(crate) fn add(&self, handler: Handler) -> Subscription {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.lock().push((id, handler));
        let bus = self.clone();
        Subscription::ending(move || bus.lock().retain(|(i, _)| *i != id))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Handler)>> {
        self.handlers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A subscription to the bus; events stop when it is dropped.
pub struct Subscription {
    ended: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Subscription {
    /// A subscription that calls `end` when it is dropped.
    pub(crate) fn ending(end: impl FnOnce() + Send + Sync + 'static) -> Subscription {
        Subscription { ended: Some(Box::new(end)) }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(end) = self.ended.take() {
            end();
        }
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

pub(crate) fn decode(channel: &str, payload: &str) -> Result<Event, serde_json::Error> {
    match channel {
        ALERTS_CHANNEL => serde_json::from_str(payload).map(Event::Alert),
        SESSIONS_CHANNEL => serde_json::from_str(payload).map(Event::SessionsEnded),
        _ => serde_json::from_str::<Vec<Announced>>(payload).map(|readings| Event::Readings(stored(readings))),
    }
}

/// A [`LiveReading`] as another server NOTIFYed it, read in place: its texts borrowed from the
/// payload (copied only where escaped), so that a sensor's are copied once per batch, not once
/// per reading.
#[derive(serde::Deserialize)]
struct Announced<'a> {
    sensor_id: i64,
    #[serde(borrow)]
    device: Cow<'a, str>,
    #[serde(borrow)]
    sensor: Cow<'a, str>,
    kind: Kind,
    #[serde(borrow)]
    room: Option<Cow<'a, str>>,
    value: f64,
    #[serde(borrow)]
    at: Cow<'a, str>,
}

/// Readings another server stored, as [`Stored`]: their sensors as far as a [`LiveReading`]
/// tells them (one [`Sensor`] for each), a reading whose time does not parse left out.
fn stored(readings: Vec<Announced>) -> Arc<[Stored]> {
    let mut sensors: HashMap<i64, Arc<Sensor>> = HashMap::new();
    readings
        .into_iter()
        .filter_map(|live| {
            let at_ms = live.at.parse::<jiff::Timestamp>().ok()?.as_millisecond();
            let sensor = sensors.entry(live.sensor_id).or_insert_with(|| {
                Arc::new(Sensor {
                    sensor_id: live.sensor_id,
                    device: live.device.into_owned(),
                    key: live.sensor.into_owned(),
                    kind: live.kind,
                    room: live.room.map(Cow::into_owned),
                    name: None,
                    main: false,
                    role: None,
                })
            });
            Some(Stored { sensor: sensor.clone(), at_ms, value: live.value })
        })
        .collect()
}

/// A connection whose open transaction can carry events to every server: PostgreSQL's, by
/// NOTIFY. SQLite's cannot; its events are delivered in-process after the commit, so there
/// `announce` does nothing.
pub(crate) trait Announce {
    /// Adds `event` to the open transaction.
    fn announce(&mut self, event: &Event) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

impl Announce for sqlx::PgConnection {
    fn announce(&mut self, event: &Event) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
        notify(self, event)
    }
}

impl Announce for sqlx::SqliteConnection {
    async fn announce(&mut self, _event: &Event) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// Sends `event` to every server in the open PostgreSQL transaction `tx`: it is delivered
/// when, and only if, the transaction commits.
pub(crate) async fn notify(tx: &mut sqlx::PgConnection, event: &Event) -> Result<(), sqlx::Error> {
    // One statement for all of an event's payloads (a batch of 5,000 readings is a hundred):
    // one round trip, each payload notified in the array's order.
    const NOTIFY: &str = "select pg_notify($1, payload) from unnest($2::text[]) as payload";
    let (channel, payloads) = match event {
        Event::Readings(readings) => (READINGS_CHANNEL, reading_payloads(readings)),
        Event::Alert(alert) => {
            let payload = serde_json::to_string(alert).map_err(|e| sqlx::Error::Encode(e.into()))?;
            (ALERTS_CHANNEL, vec![payload])
        }
        Event::SessionsEnded(hashes) => (SESSIONS_CHANNEL, json_arrays(hashes)),
    };
    if !payloads.is_empty() {
        sqlx::query(NOTIFY).bind(channel).bind(payloads).execute(&mut *tx).await?;
    }
    Ok(())
}

/// `readings` as JSON arrays of [`LiveReading`]s, each small enough for one NOTIFY.
fn reading_payloads(readings: &[Stored]) -> Vec<String> {
    json_arrays(readings.iter().map(Stored::live))
}

/// `items` as JSON arrays, each small enough for one NOTIFY.
fn json_arrays<T: serde::Serialize>(items: impl IntoIterator<Item = T>) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::from("[");
    for item in items {
        let Ok(json) = serde_json::to_string(&item) else { continue };
        if current.len() > 1 && current.len() + json.len() + 2 > MAX_PAYLOAD {
            current.push(']');
            payloads.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > 1 {
        current.push(']');
        payloads.push(current);
    }
    payloads
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_core::reading::LiveReading;

    #[test]
    fn notify_payloads_stay_under_the_limit_and_carry_every_reading() {
        let sensor = Arc::new(Sensor {
            sensor_id: 7,
            device: "house".into(),
            key: "living_room.temperature".into(),
            kind: Kind::Temperature,
            room: Some("Living room".into()),
            name: None,
            main: false,
            role: None,
        });
        let reading = |i: i64| Stored { sensor: sensor.clone(), at_ms: 1_764_000_000_000 + i, value: 20.0 + i as f64 };
        let readings: Vec<Stored> = (0..500).map(reading).collect();
        let payloads = reading_payloads(&readings);
        assert!(payloads.len() > 1);
        let mut decoded_all = Vec::new();
        for payload in &payloads {
            assert!(payload.len() < 8000, "{}", payload.len());
            let Event::Readings(decoded) = decode(READINGS_CHANNEL, payload).unwrap() else { panic!("readings") };
            decoded_all.extend(decoded.iter().map(|r| r.live()));
        }
        let expected: Vec<LiveReading> = readings.iter().map(Stored::live).collect();
        assert_eq!(decoded_all, expected);
        assert!(reading_payloads(&[]).is_empty());
    }

    #[test]
    fn texts_that_json_escapes_come_back_as_they_were() {
        let sensor = Arc::new(Sensor {
            sensor_id: 9,
            device: "shed \"north\"".into(),
            key: "bench\\temp".into(),
            kind: Kind::Temperature,
            room: Some("Kids’ room\n2".into()),
            name: None,
            main: false,
            role: None,
        });
        let readings = [Stored { sensor, at_ms: 1_764_000_000_123, value: -3.5 }];
        let payloads = reading_payloads(&readings);
        let Event::Readings(decoded) = decode(READINGS_CHANNEL, &payloads[0]).unwrap() else { panic!("readings") };
        assert_eq!(decoded.iter().map(Stored::live).collect::<Vec<_>>(), vec![readings[0].live()]);
    }
}
