//! Limits that keep one client from starving the others: a per-device ingest rate and a cap
//! on live streams per session. The streams of a session are tracked here, so that they end
//! when the session does ([`Limits::end_sessions`]). (The body size and request time limits are layers in
//! [`crate::app`]; the header time limit is in [`crate::serve`].)

use crate::config::Config;
use crate::error::{Error, Result};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

/// The limits of a running server, shared by its handlers.
#[derive(Debug)]
pub struct Limits {
    ingest: Option<DefaultKeyedRateLimiter<i64>>,
    streams_per_session: usize,
    streams: Mutex<HashMap<Arc<str>, Streams>>,
}

/// The live streams one session holds: how many, and what tells them the session ended.
#[derive(Debug)]
struct Streams {
    open: usize,
    ended: tokio::sync::watch::Sender<bool>,
}

impl Limits {
    /// Devices remembered before forgetting those whose bucket is full again.
    const MAX_DEVICES: usize = 100_000;

    /// The limits `config` sets.
    pub fn new(config: &Config) -> Limits {
        Limits {
            ingest: NonZeroU32::new(config.ingest_requests_per_second).map(|rate| RateLimiter::keyed(Quota::per_second(rate))),
            streams_per_session: config.streams_per_session,
            streams: Mutex::default(),
        }
    }

    /// Counts an ingest request of device `device_id`: 429 beyond its rate.
    pub fn ingest(&self, device_id: i64) -> Result<()> {
        let Some(limiter) = &self.ingest else { return Ok(()) };
        if limiter.len() > Self::MAX_DEVICES {
            limiter.retain_recent();
        }
        limiter.check_key(&device_id).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Error::TooMany {
                message: "this device posts faster than its rate limit; slow down or send batches".into(),
                retry_after: wait.as_secs() + 1,
            }
        })
    }

    /// Takes one of the live-stream slots of `session` (its token hash), held until the
    /// returned guard is dropped: 429 when the session holds them all.
    pub fn open_stream(self: &Arc<Self>, session: &Arc<str>) -> Result<StreamSlot> {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let held = streams.entry(session.clone()).or_insert_with(|| Streams { open: 0, ended: tokio::sync::watch::Sender::new(false) });
        if self.streams_per_session > 0 && held.open >= self.streams_per_session {
            return Err(Error::TooMany {
                message: format!("this session already has {} live streams open; close one first", held.open),
                retry_after: 5,
            });
        }
        held.open += 1;
        metrics::gauge!("hearth_streams_open").increment(1.0);
        Ok(StreamSlot { limits: self.clone(), session: session.clone(), ended: held.ended.subscribe() })
    }

    /// Ends every live stream of the sessions whose token hashes are `sessions` (logged out,
    /// share link revoked).
    pub fn end_sessions(&self, sessions: &[String]) {
        let streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        for session in sessions {
            if let Some(held) = streams.get(session.as_str()) {
                held.ended.send_replace(true);
            }
        }
    }
}

/// A live stream's slot in its session's count; dropping it frees the slot.
#[derive(Debug)]
pub struct StreamSlot {
    limits: Arc<Limits>,
    session: Arc<str>,
    ended: tokio::sync::watch::Receiver<bool>,
}

impl StreamSlot {
    /// Completes when the session ends.
    pub fn session_ended(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut ended = self.ended.clone();
        async move {
            let _ = ended.wait_for(|ended| *ended).await;
        }
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        metrics::gauge!("hearth_streams_open").decrement(1.0);
        let mut streams = self.limits.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(held) = streams.get_mut(&self.session) {
            held.open -= 1;
            if held.open == 0 {
                streams.remove(&self.session);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_beyond_its_rate_waits_and_others_do_not() {
        let limits = Limits::new(&Config { ingest_requests_per_second: 2, ..Config::default() });
        assert!(limits.ingest(1).is_ok() && limits.ingest(1).is_ok());
        match limits.ingest(1) {
            Err(Error::TooMany { retry_after, .. }) => assert_eq!(retry_after, 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limits.ingest(2).is_ok());
        let unlimited = Limits::new(&Config { ingest_requests_per_second: 0, ..Config::default() });
        assert!((0..1000).all(|_| unlimited.ingest(1).is_ok()));
    }

    #[test]
    fn stream_slots_are_counted_per_session_and_freed_on_drop() {
        let limits = Arc::new(Limits::new(&Config { streams_per_session: 2, ..Config::default() }));
        let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b".into());
        let first = limits.open_stream(&a).unwrap();
        let _second = limits.open_stream(&a).unwrap();
        assert!(matches!(limits.open_stream(&a), Err(Error::TooMany { .. })));
        assert!(limits.open_stream(&b).is_ok(), "another session has its own slots");
        drop(first);
        assert!(limits.open_stream(&a).is_ok(), "a closed stream frees its slot");
    }

    #[tokio::test]
    async fn ending_a_session_ends_its_streams_only() {
        let limits = Arc::new(Limits::new(&Config::default()));
        let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b".into());
        let (first, second, other) = (limits.open_stream(&a).unwrap(), limits.open_stream(&a).unwrap(), limits.open_stream(&b).unwrap());
        limits.end_sessions(&["a".to_owned(), "gone".to_owned()]);
        first.session_ended().await;
        second.session_ended().await;
        let other_ended = tokio::time::timeout(std::time::Duration::from_millis(50), other.session_ended()).await;
        assert!(other_ended.is_err(), "another session's stream goes on");
    }
}
