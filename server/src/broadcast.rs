//! The broadcast hub: every event the store announces on its bus — each reading stored, each
//! alert opened or resolved, by this server or (on PostgreSQL) any server sharing the
//! database — is published here once ([`Hub::publish_stored`]), with an id that increases by
//! one each time, and reaches every subscriber of the live stream.
//!
//! The hub also keeps the last events in a bounded window, so that a client that lost its
//! connection can resume from the last id it received ([`Hub::resume`]). A stream id is a
//! number, `epoch × 10¹² + n`: the epoch is the time the hub started, in microseconds, and `n`
//! counts its events. Ids therefore increase, across restarts too, and an id from another
//! server or from before a restart is recognised as unknown instead of being taken for one of
//! ours.

use hearth_core::reading::Stored;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::broadcast;

/// Positions per epoch in a stream id: `id = epoch × PER_EPOCH + n`.
const PER_EPOCH: u128 = 1_000_000_000_000;

/// A new epoch: now in microseconds, and above any epoch this process handed out before.
fn new_epoch() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    let previous = LAST.fetch_max(now, Ordering::Relaxed);
    if previous >= now { LAST.fetch_add(1, Ordering::Relaxed) + 1 } else { now }
}

/// A published event: its stream id, its SSE event name and its JSON.
#[derive(Clone, Debug)]
pub struct Event {
    /// Position in this server's stream, starting at 1.
    pub id: u64,
    /// The SSE `event:` name: `reading` for a [`LiveReading`](hearth_core::reading::LiveReading).
    pub name: &'static str,
    /// The payload as JSON.
    pub data: Data,
}

/// An event's JSON, shared by every subscriber. A reading's is written when a subscriber
/// first asks for it, once for all of them: most readings reach no stream (nobody watching,
/// or gone from the replay window before anyone resumes), and writing each one's JSON at
/// publication was a measurable part of ingest.
#[derive(Clone, Debug)]
pub struct Data(Arc<Payload>);

#[derive(Debug)]
enum Payload {
    Json(Box<str>),
    /// The reading at `index` of a stored batch.
    Reading { batch: Arc<[Stored]>, index: usize, json: OnceLock<Box<str>> },
}

impl From<&str> for Data {
    fn from(json: &str) -> Data {
        Data(Arc::new(Payload::Json(json.into())))
    }
}

impl From<String> for Data {
    fn from(json: String) -> Data {
        Data(Arc::new(Payload::Json(json.into_boxed_str())))
    }
}

impl std::ops::Deref for Data {
    type Target = str;

    fn deref(&self) -> &str {
        match &*self.0 {
            Payload::Json(json) => json,
            Payload::Reading { batch, index, json } => json.get_or_init(|| {
                serde_json::to_string(&batch[*index].live()).map(String::into_boxed_str).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "reading not serialisable");
                    Box::default()
                })
            }),
        }
    }
}

/// Where a new subscription starts.
#[derive(Debug, PartialEq)]
pub enum Start {
    /// No position was given: the stream starts now, at position `at`.
    Fresh {
        /// The id of the last event published before the subscription (0: none yet).
        at: u64,
    },
    /// The position was in the window: these events (possibly none) came after it.
    Replay(Vec<Event>),
    /// The position is not in the window (too old, another epoch, malformed): the client must
    /// refetch; the stream goes on from position `at`.
    Resync {
        /// The id of the last event published before the subscription.
        at: u64,
        /// How many events the client missed, when known.
        missed: Option<u64>,
    },
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        (self.id, self.name, &*self.data) == (other.id, other.name, &*other.data)
    }
}

/// A subscription: where it starts, and the events published after that.
#[derive(Debug)]
pub struct Subscription {
    /// What to send before the live events.
    pub start: Start,
    /// Every event published after the subscription, each with an id above `position`.
    pub events: broadcast::Receiver<Event>,
    /// The id of the last event published before the subscription.
    pub position: u64,
}

/// Fans readings out to live-stream subscribers and keeps the last ones for clients that
/// resume. A subscriber that falls more than the channel's capacity behind loses the oldest
/// events and is told so.
#[derive(Debug)]
pub struct Hub {
    epoch: u64,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    tx: Option<broadcast::Sender<Event>>,
    last_id: u64,
    window: VecDeque<Event>,
    window_len: usize,
}

impl Inner {
    fn send(&mut self, name: &'static str, data: Data) {
        let Some(tx) = &self.tx else { return };
        self.last_id += 1;
        let event = Event { id: self.last_id, name, data };
        if self.window_len > 0 {
            if self.window.len() == self.window_len {
                self.window.pop_front();
            }
            self.window.push_back(event.clone());
        }
        // An error only means nobody is subscribed right now.
        let _ = tx.send(event);
    }
}

impl Hub {
    /// A hub whose subscribers may lag `capacity` events before losing any, and which keeps
    /// the last `replay` events for clients that resume (0: none).
    pub fn new(capacity: usize, replay: usize) -> Hub {
        let (tx, _) = broadcast::channel(capacity);
        Hub {
            epoch: new_epoch(),
            inner: Mutex::new(Inner {
                tx: Some(tx),
                last_id: 0,
                window: VecDeque::with_capacity(replay.min(1024)),
                window_len: replay,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes what the store committed: each reading as `event: reading`, an alert change
    /// as `event: alert`.
    pub fn publish_stored(&self, event: &hearth_store::Event) {
        match event {
            hearth_store::Event::Readings(readings) => self.publish(readings.clone()),
            hearth_store::Event::Alert(alert) => match serde_json::to_string(alert) {
                Ok(json) => self.publish_event("alert", json.into()),
                Err(e) => tracing::error!(error = %e, "alert not serialisable"),
            },
            // Not for the stream: the limits end the sessions' streams (see `serve`).
            hearth_store::Event::SessionsEnded(_) => {}
        }
    }

    /// Publishes a batch of readings, in order.
    pub fn publish(&self, readings: Arc<[Stored]>) {
        let data: Vec<Data> = (0..readings.len())
            .map(|index| Data(Arc::new(Payload::Reading { batch: readings.clone(), index, json: OnceLock::new() })))
            .collect();
        let mut inner = self.lock();
        for data in data {
            inner.send("reading", data);
        }
    }

    /// Publishes one event of another kind than a reading (`name` is its SSE event name),
    /// in order with the readings.
    pub fn publish_event(&self, name: &'static str, data: Data) {
        self.lock().send(name, data);
    }

    /// The stream id of position `n` on this hub: `epoch × 10¹² + n`, in decimal.
    pub fn stream_id(&self, n: u64) -> String {
        (u128::from(self.epoch) * PER_EPOCH + u128::from(n)).to_string()
    }

    /// The replay window's use: events held, and how many it may hold.
    pub fn window_use(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.window.len(), inner.window_len)
    }

    /// How many events the hub keeps for clients that resume.
    pub fn replay_len(&self) -> usize {
        self.lock().window_len
    }

    /// The position a stream id names on this hub, if it is one of this hub's.
    fn position(&self, id: &str) -> Option<u64> {
        let id: u128 = id.trim().parse().ok()?;
        (id / PER_EPOCH == u128::from(self.epoch)).then(|| (id % PER_EPOCH) as u64)
    }

    /// A new subscription, or `None` once the hub is closed.
    pub fn subscribe(&self) -> Option<broadcast::Receiver<Event>> {
        self.lock().tx.as_ref().map(broadcast::Sender::subscribe)
    }

    /// A new subscription that resumes after the stream id `last` (a client's
    /// `Last-Event-ID`), or starts now without one; `None` once the hub is closed. The
    /// replayed events and the live ones meet without a gap or a repeat: both are taken
    /// under the lock that publishing holds.
    pub fn resume(&self, last: Option<&str>) -> Option<Subscription> {
        let inner = self.lock();
        let events = inner.tx.as_ref()?.subscribe();
        let at = inner.last_id;
        let start = match last.map(|id| self.position(id)) {
            None => Start::Fresh { at },
            Some(Some(n)) if n == at => Start::Replay(Vec::new()),
            Some(Some(n)) if n < at && inner.window.front().is_some_and(|first| first.id <= n + 1) => {
                Start::Replay(inner.window.iter().filter(|e| e.id > n).cloned().collect())
            }
            Some(Some(n)) if n < at => Start::Resync { at, missed: Some(at - n) },
            Some(_) => Start::Resync { at, missed: None },
        };
        match &start {
            Start::Fresh { .. } => {}
            Start::Replay(events) => {
                metrics::counter!("hearth_stream_resumes_total", "result" => "replayed").increment(1);
                metrics::counter!("hearth_replayed_events_total").increment(events.len() as u64);
            }
            Start::Resync { .. } => metrics::counter!("hearth_stream_resumes_total", "result" => "resync").increment(1),
        }
        Some(Subscription { start, events, position: at })
    }

    /// Ends every subscription, so open streams finish and the server can shut down.
    pub fn close(&self) {
        self.lock().tx = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub_with(published: u64, window: usize) -> Hub {
        let hub = Hub::new(16, window);
        for n in 1..=published {
            hub.publish_event("note", n.to_string().into());
        }
        hub
    }

    fn ids(start: &Start) -> Vec<u64> {
        match start {
            Start::Replay(events) => events.iter().map(|e| e.id).collect(),
            other => panic!("a replay, not {other:?}"),
        }
    }

    #[test]
    fn a_position_in_the_window_replays_what_came_after_it() {
        let hub = hub_with(5, 3);
        assert_eq!(ids(&hub.resume(Some(&hub.stream_id(2))).unwrap().start), [3, 4, 5]);
        assert_eq!(ids(&hub.resume(Some(&hub.stream_id(4))).unwrap().start), [5]);
        assert_eq!(ids(&hub.resume(Some(&hub.stream_id(5))).unwrap().start), Vec::<u64>::new());
    }

    #[test]
    fn a_position_before_the_window_or_unknown_asks_for_a_resync() {
        let hub = hub_with(5, 3);
        let resync = |id: &str| hub.resume(Some(id)).unwrap().start;
        assert_eq!(resync(&hub.stream_id(1)), Start::Resync { at: 5, missed: Some(4) });
        assert_eq!(resync(&hub.stream_id(6)), Start::Resync { at: 5, missed: None });
        assert_eq!(resync(&Hub::new(16, 3).stream_id(4)), Start::Resync { at: 5, missed: None }, "another epoch");
        assert_eq!(resync("4"), Start::Resync { at: 5, missed: None });
        assert_eq!(resync(&format!("{}x", hub.stream_id(4))), Start::Resync { at: 5, missed: None });
    }

    #[test]
    fn without_a_window_only_an_up_to_date_position_resumes() {
        let hub = hub_with(2, 0);
        assert_eq!(ids(&hub.resume(Some(&hub.stream_id(2))).unwrap().start), Vec::<u64>::new());
        assert_eq!(hub.resume(Some(&hub.stream_id(1))).unwrap().start, Start::Resync { at: 2, missed: Some(1) });
    }

    #[test]
    fn live_events_follow_the_replay_without_a_repeat() {
        let hub = hub_with(3, 10);
        let mut sub = hub.resume(Some(&hub.stream_id(1))).unwrap();
        assert_eq!(ids(&sub.start), [2, 3]);
        assert_eq!((sub.position, hub.resume(None).unwrap().start), (3, Start::Fresh { at: 3 }));
        hub.publish_event("note", "4".into());
        assert_eq!(sub.events.try_recv().unwrap().id, 4);
        assert!(sub.events.try_recv().is_err());
    }
}
