//! [`MemoryStore`]: counters in this process, sharded, bounded, expired counters evicted.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;

use super::{Counter, CounterState, Decision, GuardStore, StoreError};
use crate::clock::{Clock, SystemClock};

const SHARDS: usize = 32;

#[derive(Debug, Clone, Copy)]
struct Entry {
    count: u64,
    expires_at: Duration,
}

type Shard = HashMap<String, Entry>;

/// The in-memory store: enough for one instance of an application (several instances need
/// [`RedisStore`](crate::RedisStore) to share their counters).
///
/// Counters live in 32 shards, each behind its own lock; a decision locks the shards of its
/// counters in a fixed order, so it is atomic. Each shard holds at most `capacity / 32`
/// counters: when one is full its expired counters are evicted, and if none has expired the
/// decision fails with [`StoreError::Full`] (the guard's fail mode applies).
#[derive(Debug, Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
    per_shard: usize,
    clock: Arc<dyn Clock>,
}

impl MemoryStore {
    /// The default capacity: one million counters.
    pub const DEFAULT_CAPACITY: usize = 1_000_000;

    /// A store on the system clock with the default capacity.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock::new()))
    }

    /// A store counting time with `clock` (tests pass a [`ManualClock`](crate::ManualClock)).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self::with_capacity(clock, Self::DEFAULT_CAPACITY)
    }

    /// A store holding at most about `capacity` counters.
    pub fn with_capacity(clock: Arc<dyn Clock>, capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
                hasher: RandomState::new(),
                per_shard: capacity.div_ceil(SHARDS).max(1),
                clock,
            }),
        }
    }

    /// How many counters the store holds, expired ones not yet evicted included.
    pub fn len(&self) -> usize {
        self.inner.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Whether the store holds no counter.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard_of(&self, key: &str) -> usize {
        // The modulo keeps the value below SHARDS, so the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let index = (self.inner.hasher.hash_one(key) % SHARDS as u64) as usize;
        index
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A poisoned lock only means a panic elsewhere while holding it; the map is still valid.
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

fn live(entry: Option<&Entry>, now: Duration) -> Option<Entry> {
    entry.copied().filter(|e| e.expires_at > now)
}

#[async_trait]
impl GuardStore for MemoryStore {
    async fn hit(&self, counters: &[Counter]) -> Result<Decision, StoreError> {
        let now = self.inner.clock.now();
        let indexes: Vec<usize> = counters.iter().map(|c| self.shard_of(&c.key)).collect();
        let mut order = indexes.clone();
        order.sort_unstable();
        order.dedup();
        let mut guards: HashMap<usize, MutexGuard<'_, Shard>> = order
            .iter()
            .map(|&i| (i, lock(&self.inner.shards[i])))
            .collect();
        for (index, (counter, shard)) in counters.iter().zip(&indexes).enumerate() {
            let entry = live(guards[shard].get(&counter.key), now);
            if counter.refuses(entry.map_or(0, |e| e.count)) {
                let retry_after =
                    entry.map_or(counter.window, |e| e.expires_at.saturating_sub(now));
                return Ok(Decision::Denied { index, retry_after });
            }
        }
        // Room first, so a full shard changes nothing.
        for (counter, shard) in counters.iter().zip(&indexes) {
            let map = guards.get_mut(shard).expect("locked above");
            if counter.cost > 0
                && !map.contains_key(&counter.key)
                && map.len() >= self.inner.per_shard
            {
                map.retain(|_, e| e.expires_at > now);
                if map.len() >= self.inner.per_shard {
                    return Err(StoreError::Full(self.inner.per_shard * SHARDS));
                }
            }
        }
        for (counter, shard) in counters.iter().zip(&indexes) {
            if counter.cost == 0 {
                continue;
            }
            let map = guards.get_mut(shard).expect("locked above");
            let fresh = Entry {
                count: 0,
                expires_at: now + counter.window,
            };
            let entry = map.entry(counter.key.clone()).or_insert(fresh);
            if entry.expires_at <= now {
                *entry = fresh;
            }
            entry.count = entry.count.saturating_add(counter.cost);
        }
        Ok(Decision::Allowed)
    }

    async fn peek(&self, keys: &[String]) -> Result<Vec<CounterState>, StoreError> {
        let now = self.inner.clock.now();
        Ok(keys
            .iter()
            .map(|key| {
                let shard = lock(&self.inner.shards[self.shard_of(key)]);
                live(shard.get(key), now).map_or_else(CounterState::default, |e| CounterState {
                    count: e.count,
                    resets_in: Some(e.expires_at.saturating_sub(now)),
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn counter(key: &str, max: u64, cost: u64) -> Counter {
        Counter {
            key: key.into(),
            window: Duration::from_secs(60),
            max,
            cost,
        }
    }

    #[tokio::test]
    async fn counts_atomically_and_expires() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let both = [counter("a", 2, 1), counter("b", 1, 1)];
        assert_eq!(store.hit(&both).await.unwrap(), Decision::Allowed);
        // `b` is full: nothing is counted, not even `a`.
        let denied = store.hit(&both).await.unwrap();
        assert_eq!(
            denied,
            Decision::Denied {
                index: 1,
                retry_after: Duration::from_secs(60)
            }
        );
        let a = store.peek(&["a".into()]).await.unwrap();
        assert_eq!(a[0].count, 1);
        clock.advance(Duration::from_secs(45));
        let Decision::Denied { retry_after, .. } = store.hit(&both).await.unwrap() else {
            panic!("b is still full");
        };
        assert_eq!(retry_after, Duration::from_secs(15));
        clock.advance(Duration::from_secs(15));
        assert_eq!(store.hit(&both).await.unwrap(), Decision::Allowed);
        assert_eq!(store.peek(&["a".into()]).await.unwrap()[0].count, 1);
    }

    #[tokio::test]
    async fn a_zero_cost_counter_only_checks() {
        let store = MemoryStore::with_clock(Arc::new(ManualClock::new()));
        assert_eq!(
            store.hit(&[counter("k", 1, 0)]).await.unwrap(),
            Decision::Allowed
        );
        assert!(store.is_empty());
        store.hit(&[counter("k", 1, 1)]).await.unwrap();
        assert!(matches!(
            store.hit(&[counter("k", 1, 0)]).await.unwrap(),
            Decision::Denied { index: 0, .. }
        ));
    }

    #[tokio::test]
    async fn bounded_evicting_expired_counters() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_capacity(Arc::new(clock.clone()), SHARDS);
        let mut full = None;
        for i in 0..SHARDS * 4 {
            if let Err(err) = store.hit(&[counter(&format!("k{i}"), 5, 1)]).await {
                full = Some(err);
                break;
            }
        }
        assert_eq!(full, Some(StoreError::Full(SHARDS)));
        assert!(store.len() <= SHARDS);
        clock.advance(Duration::from_secs(61));
        for i in 0..SHARDS * 4 {
            let key = format!("new{i}");
            if store.hit(&[counter(&key, 5, 1)]).await.is_err() {
                break;
            }
        }
        assert!(store.len() <= SHARDS, "expired counters were evicted");
        let old = store.peek(&["k0".into()]).await.unwrap();
        assert_eq!(old[0].count, 0);
    }
}
