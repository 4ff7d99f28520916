//! The broadcast hub: every reading the store commits is published here once, with an id that
//! increases by one each time, and reaches every subscriber of the live stream. On SQLite the
//! ingest handler publishes what it stored; on PostgreSQL, where several servers may share the
//! database, [`relay_postgres`] publishes what any of them stored.

use app::reading::LiveReading;
use app::reading::ssr::NOTIFY_CHANNEL;
use sqlx::postgres::{PgListener, PgPool};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// A published event: its stream id, its SSE event name and its JSON, serialised once for all
/// subscribers.
#[derive(Clone, Debug)]
pub struct Event {
    /// Position in this server's stream, starting at 1.
    pub id: u64,
    /// The SSE `event:` name: `reading` for a [`LiveReading`].
    pub name: &'static str,
    /// The payload as JSON.
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

    /// Publishes readings, in order.
    pub fn publish(&self, readings: impl IntoIterator<Item = LiveReading>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Inner { tx: Some(tx), last_id } = &mut *inner else { return };
        for live in readings {
            let data = match serde_json::to_string(&live) {
                Ok(json) => json.into(),
                Err(e) => {
                    tracing::error!(error = %e, "reading not serialisable");
                    continue;
                }
            };
            *last_id += 1;
            // An error only means nobody is subscribed right now.
            let _ = tx.send(Event { id: *last_id, name: "reading", data });
        }
    }

    /// Publishes one event of another kind than a reading (`name` is its SSE event name),
    /// in order with the readings.
    pub fn publish_event(&self, name: &'static str, data: Arc<str>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Inner { tx: Some(tx), last_id } = &mut *inner else { return };
        *last_id += 1;
        let _ = tx.send(Event { id: *last_id, name, data });
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

/// Relays what every server sharing a PostgreSQL database stores (this one included) to this
/// server's hub: the store notifies [`NOTIFY_CHANNEL`] in each ingest transaction. Listening
/// has begun when this returns; the relay runs until its task is aborted.
pub async fn relay_postgres(pool: &PgPool, hub: Arc<Hub>) -> Result<tokio::task::JoinHandle<()>, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(n) => match serde_json::from_str::<Vec<LiveReading>>(n.payload()) {
                    Ok(readings) => hub.publish(readings),
                    Err(e) => tracing::error!(error = %e, "unreadable notification"),
                },
                // PgListener reconnects by itself on the next recv.
                Err(e) => {
                    tracing::warn!(error = %e, "lost the PostgreSQL notification connection; reconnecting");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
            }
        }
    }))
}

/// Relays the alerts every server sharing a PostgreSQL database opens or resolves (this one
/// included) to this server's hub as `event: alert`: the evaluator notifies
/// [`app::alert::ssr::NOTIFY_CHANNEL`] in the transaction that records them. Listening has
/// begun when this returns; the relay runs until its task is aborted.
pub async fn relay_alerts_postgres(pool: &PgPool, hub: Arc<Hub>) -> Result<tokio::task::JoinHandle<()>, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(app::alert::ssr::NOTIFY_CHANNEL).await?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(n) => hub.publish_event("alert", n.payload().into()),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the PostgreSQL alert notification connection; reconnecting");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
            }
        }
    }))
}
