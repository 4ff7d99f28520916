//! The broadcast hub: every reading the store commits is published here once, with an id that
//! increases by one each time, and reaches every subscriber of the live stream.

use app::reading::LiveReading;
use app::reading::ssr::Stored;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// A published reading: its stream id and its JSON, serialised once for all subscribers.
#[derive(Clone, Debug)]
pub struct Event {
    /// Position in this server's stream, starting at 1.
    pub id: u64,
    /// The [`LiveReading`] as JSON.
    pub data: Arc<str>,
}

/// Fans readings out to live-stream subscribers. A subscriber that falls more than the
/// channel's capacity behind loses the oldest events and is told so.
#[derive(Debug)]
pub struct Hub {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    tx: Option<broadcast::Sender<Event>>,
    last_id: u64,
}

impl Hub {
    /// A hub whose subscribers may lag `capacity` events before losing any.
    pub fn new(capacity: usize) -> Hub {
        let (tx, _) = broadcast::channel(capacity);
        Hub { inner: Mutex::new(Inner { tx: Some(tx), last_id: 0 }) }
    }

    /// Publishes stored readings, in order.
    pub fn publish(&self, stored: &[Stored]) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Inner { tx: Some(tx), last_id } = &mut *inner else { return };
        for reading in stored {
            let sensor = &reading.sensor;
            let live = LiveReading {
                sensor_id: sensor.sensor_id,
                device: sensor.device.clone(),
                sensor: sensor.key.clone(),
                kind: sensor.kind,
                room: sensor.room.clone(),
                value: reading.value,
                at: rfc3339(reading.at_ms),
            };
            let data = match serde_json::to_string(&live) {
                Ok(json) => json.into(),
                Err(e) => {
                    tracing::error!(error = %e, "reading not serialisable");
                    continue;
                }
            };
            *last_id += 1;
            // An error only means nobody is subscribed right now.
            let _ = tx.send(Event { id: *last_id, data });
        }
    }

    /// A new subscription, or `None` once the hub is closed.
    pub fn subscribe(&self) -> Option<broadcast::Receiver<Event>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.tx.as_ref().map(broadcast::Sender::subscribe)
    }

    /// Ends every subscription, so open streams finish and the server can shut down.
    pub fn close(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).tx = None;
    }
}

/// Unix milliseconds as an RFC 3339 UTC time.
pub fn rfc3339(at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms).map_or_else(|_| at_ms.to_string(), |t| t.to_string())
}
