//! The connections a server holds: its open-file limit raised at start, a bound on the
//! connections held at once, and the connections that have not sent a byte yet, which are
//! closed at the header timeout or, when the bound is reached, to make room for a new one.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// File descriptors kept for everything but client connections (database, logs, files).
const RESERVED_FILES: u64 = 128;
/// The bound on connections when none is configured and the open-file limit allows more.
const DEFAULT_MAX: u64 = 16_384;

/// Raises the soft limit on open files to the hard limit and logs both; returns the soft limit
/// in force afterwards (`None` where it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    let Some(soft) = current else {
        tracing::info!("open-file limit: unlimited");
        return None;
    };
    if maximum.is_none_or(|hard| hard > soft) {
        match setrlimit(Resource::Nofile, Rlimit { current: maximum, maximum }) {
            Ok(()) => {
                let raised = getrlimit(Resource::Nofile).current;
                tracing::info!(soft_was = soft, soft = ?raised, hard = ?maximum, "open-file limit raised to the hard limit");
                return raised.or(Some(u64::MAX));
            }
            Err(e) => tracing::warn!(error = %e, soft, hard = ?maximum, "could not raise the open-file limit"),
        }
    } else {
        tracing::info!(soft, hard = ?maximum, "open-file limit (already at the hard limit)");
    }
    Some(soft)
}

/// The bound on connections: `configured`, or with 0 the open-file limit minus what the
/// server needs besides, at most 16,384.
pub fn bound(configured: usize, open_files: Option<u64>) -> usize {
    if configured > 0 {
        return configured;
    }
    let from_files = open_files.map_or(DEFAULT_MAX, |files| files.saturating_sub(RESERVED_FILES).clamp(16, DEFAULT_MAX));
    usize::try_from(from_files).unwrap_or(usize::MAX)
}

/// The connections a server holds: a permit each, up to the bound, and those still waiting for
/// their first byte, oldest first, each with the sender that closes it.
#[derive(Clone, Debug)]
pub struct Connections {
    bound: usize,
    permits: Arc<Semaphore>,
    waiting: Arc<Mutex<Waiting>>,
    header_timeout: Duration,
}

#[derive(Debug, Default)]
struct Waiting {
    next: u64,
    first_byte: BTreeMap<u64, oneshot::Sender<()>>,
}

/// What became of a connection while it waited for its first byte.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstByte {
    /// It sent something: serve it.
    Arrived,
    /// Nothing within the header timeout, the client closed it, or it was closed to make room.
    Closed,
}

impl Connections {
    /// At most `bound` connections at once; those that send nothing are closed after
    /// `header_timeout`.
    pub fn new(bound: usize, header_timeout: Duration) -> Connections {
        Connections { bound, permits: Arc::new(Semaphore::new(bound)), waiting: Arc::default(), header_timeout }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for a connection just accepted: at once below the bound; else after closing the
    /// oldest connection that has not sent a byte, or, if there is none, once one closes.
    pub async fn admit(&self) -> OwnedSemaphorePermit {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return permit;
        }
        let oldest = self.lock().first_byte.pop_first();
        match oldest {
            Some((_, close)) => {
                tracing::debug!("at the connection bound: closing the oldest connection that sent nothing");
                let _ = close.send(());
            }
            None => tracing::warn!(bound = self.bound(), "at the connection bound with every connection busy: new ones wait"),
        }
        // The semaphore is never closed.
        self.permits.clone().acquire_owned().await.expect("the semaphore is open")
    }

    /// How many connections may be held at once.
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// Waits for the first byte of `stream`: at most the header timeout, and only until the
    /// connection is closed to make room for a newer one.
    pub async fn first_byte(&self, stream: &TcpStream) -> FirstByte {
        let (close, closed) = oneshot::channel();
        let id = {
            let mut waiting = self.lock();
            let id = waiting.next;
            waiting.next += 1;
            waiting.first_byte.insert(id, close);
            id
        };
        let mut byte = [0u8; 1];
        let outcome = tokio::select! {
            peeked = tokio::time::timeout(self.header_timeout, stream.peek(&mut byte)) => match peeked {
                Ok(Ok(n)) if n > 0 => FirstByte::Arrived,
                _ => FirstByte::Closed,
            },
            _ = closed => FirstByte::Closed,
        };
        self.lock().first_byte.remove(&id);
        outcome
    }

    /// Closes every connection that has not sent a byte (at shutdown).
    pub fn close_waiting(&self) {
        let waiting = std::mem::take(&mut self.lock().first_byte);
        for (_, close) in waiting {
            let _ = close.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_follows_the_open_file_limit_unless_configured() {
        assert_eq!(bound(500, Some(1024)), 500);
        assert_eq!(bound(0, Some(1024)), 896);
        assert_eq!(bound(0, Some(1_048_576)), 16_384);
        assert_eq!(bound(0, Some(20)), 16);
        assert_eq!(bound(0, None), 16_384);
    }
}
