//! What the store remembers between requests so that ingest does not read the database for
//! what rarely changes: the device a token, API key or MQTT prefix names (for [`TOKEN_TTL`],
//! so that a token revoked by another process — the CLI, another server on the same
//! PostgreSQL — stops working within it; one revoked here stops at once), and the keys of a
//! device's sensors (which are never deleted, so a key seen once stays true).

use hearth_core::device::Device;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a token's device is taken from memory before the database is asked again.
pub const TOKEN_TTL: Duration = Duration::from_secs(1);

/// Entries beyond which a map starts again empty: far above any house's devices and
/// sensors, and a bound on what unusual traffic can make it hold.
const MAX_ENTRIES: usize = 100_000;

/// The store's memory, shared by every clone of a [`Db`](crate::Db).
#[derive(Debug, Default)]
pub(crate) struct Recent {
    /// Devices by the hash of their token (found ones only).
    pub(crate) tokens: Expiring<String, Device>,
    /// Devices by the hash of their Emoncms API key (found ones only).
    pub(crate) apikeys: Expiring<String, Device>,
    /// Devices by their MQTT prefix, and prefixes no device has (`None`): every message
    /// asks.
    pub(crate) prefixes: Expiring<String, Option<Device>>,
    /// The sensor keys known to exist, by device.
    pub(crate) keys: Mutex<HashMap<i64, Arc<HashSet<String>>>>,
}

impl Recent {
    /// Forgets every device: a token was revoked or replaced, or a prefix set.
    pub(crate) fn devices_changed(&self) {
        self.tokens.clear();
        self.apikeys.clear();
        self.prefixes.clear();
    }

    /// The keys known to exist for `device_id`, if every one of `wanted` is among them.
    pub(crate) fn keys_with<'k>(&self, device_id: i64, wanted: impl IntoIterator<Item = &'k str>) -> Option<Arc<HashSet<String>>> {
        let known = lock(&self.keys).get(&device_id).cloned()?;
        wanted.into_iter().all(|key| known.contains(key)).then_some(known)
    }

    /// Remembers the keys of `device_id`'s sensors, as just read.
    pub(crate) fn put_keys(&self, device_id: i64, keys: Arc<HashSet<String>>) {
        let mut map = lock(&self.keys);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(device_id, keys);
    }
}

/// A map whose entries are forgotten `ttl` after they were put.
#[derive(Debug)]
pub(crate) struct Expiring<K, V> {
    ttl: Duration,
    map: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Default for Expiring<K, V> {
    fn default() -> Self {
        Expiring { ttl: TOKEN_TTL, map: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash, V: Clone> Expiring<K, V> {
    /// The value of `key`, if put less than the TTL ago.
    pub(crate) fn get<Q: Eq + Hash + ?Sized>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        let map = lock(&self.map);
        let (at, value) = map.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    pub(crate) fn put(&self, key: K, value: V) {
        let mut map = lock(&self.map);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (Instant::now(), value));
    }

    pub(crate) fn clear(&self) {
        lock(&self.map).clear();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_clear() {
        let map: Expiring<&str, i32> = Expiring { ttl: Duration::from_millis(50), map: Mutex::default() };
        map.put("a", 1);
        assert_eq!(map.get(&"a"), Some(1));
        map.clear();
        assert_eq!(map.get(&"a"), None);
        map.put("b", 2);
        let put = Instant::now();
        while put.elapsed() < Duration::from_millis(60) {
            std::thread::yield_now();
        }
        assert_eq!(map.get(&"b"), None, "older than the TTL");
    }

    #[test]
    fn keys_answer_only_when_all_are_known() {
        let recent = Recent::default();
        recent.put_keys(1, Arc::new(["t".to_owned(), "h".to_owned()].into()));
        assert!(recent.keys_with(1, ["t", "h"]).is_some());
        assert!(recent.keys_with(1, ["t", "new"]).is_none());
        assert!(recent.keys_with(2, ["t"]).is_none());
    }
}
