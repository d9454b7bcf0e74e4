//! [`MemoryStore`]: counters in this process, sharded, bounded, expired counters evicted.

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use hashbrown::HashTable;

use super::{
    Algorithm, Counter, CounterState, Decision, GuardStore, HitId, Reservation, StoreError,
};
use crate::clock::{Clock, SystemClock};

const SHARDS: usize = 32;

#[derive(Debug, Clone, Copy)]
struct Entry {
    count: u64,
    expires_at: Duration,
}

/// A shard's counters: each with its key's hash, computed once per decision and kept for
/// the table's growth.
type Shard = HashTable<Slot>;

#[derive(Debug)]
struct Slot {
    hash: u64,
    key: String,
    entry: Entry,
}

impl Slot {
    fn find<'a>(shard: &'a Shard, hash: u64, key: &str) -> Option<&'a Entry> {
        shard
            .find(hash, |s| s.hash == hash && s.key == key)
            .map(|s| &s.entry)
    }
}

/// The in-memory store: enough for one instance of an application (several instances need
/// [`RedisStore`](crate::RedisStore) to share their counters).
///
/// Counters live in 32 shards, each behind its own lock; a decision locks the shards of its
/// counters in a fixed order, so it is atomic. Each shard holds at most `capacity / 32`
/// counters: when one is full its expired counters are evicted, and if none has expired the
/// decision fails with [`StoreError::Full`] (the guard's fail mode applies). A decision is over
/// when its future is first polled, so no hit counts after its caller gave up on it: it keeps
/// [`GuardStore::abandon`]'s default, which does nothing.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

/// The store's size, not its counters (up to a million of them).
impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("shards", &self.inner.shards.len())
            .field(
                "capacity",
                &(self.inner.per_shard * self.inner.shards.len()),
            )
            .finish_non_exhaustive()
    }
}

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

    /// A key's hash (SipHash with a random key per store: keys cannot be chosen to collide).
    fn hash(&self, key: &str) -> u64 {
        self.inner.hasher.hash_one(key)
    }

    /// The shards of `hashes`, locked once each in ascending order (so two decisions never
    /// wait on each other in a cycle); the others `None`.
    fn lock_shards(&self, hashes: &[u64]) -> [Option<MutexGuard<'_, Shard>>; SHARDS] {
        let mut wanted = 0_u32;
        for &hash in hashes {
            wanted |= 1 << Self::shard_of(hash);
        }
        let mut guards: [Option<MutexGuard<'_, Shard>>; SHARDS] = Default::default();
        for (index, guard) in guards.iter_mut().enumerate() {
            if wanted & (1 << index) != 0 {
                *guard = Some(lock(&self.inner.shards[index]));
            }
        }
        guards
    }

    /// The shard of a hash: bits the shard's table does not use to place it (it uses the
    /// lowest bits and the top seven).
    fn shard_of(hash: u64) -> usize {
        // The mask keeps the value below SHARDS, so the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let index = ((hash >> 40) & (SHARDS as u64 - 1)) as usize;
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

/// The locked shard of `hash`.
fn shard<'a>(guards: &'a mut [Option<MutexGuard<'_, Shard>>], hash: u64) -> &'a mut Shard {
    guards[MemoryStore::shard_of(hash)]
        .as_deref_mut()
        .expect("every shard of the decision is locked")
}

fn live(entry: Option<&Entry>, now: Duration) -> Option<Entry> {
    entry.copied().filter(|e| e.expires_at > now)
}

#[async_trait]
impl GuardStore for MemoryStore {
    async fn hit(&self, counters: &[Counter], _id: HitId) -> Result<Decision, StoreError> {
        let now = self.inner.clock.now();
        let hashes: Vec<u64> = counters.iter().map(|c| self.hash(&c.key)).collect();
        let mut guards = self.lock_shards(&hashes);
        // Every counter is checked: the refusal is the longest wait (the first of equals).
        let mut longest: Option<(usize, Duration)> = None;
        for (index, (counter, &hash)) in counters.iter().zip(&hashes).enumerate() {
            let entry = live(
                Slot::find(shard(&mut guards, hash), hash, &counter.key),
                now,
            );
            let refused = match counter.algorithm {
                Algorithm::FixedWindow => counter
                    .refuses(entry.map_or(0, |e| e.count))
                    .then(|| entry.map_or(counter.window, |e| e.expires_at.saturating_sub(now))),
                Algorithm::Gcra => counter.gcra(entry.map(|e| e.expires_at), now).err(),
            };
            if let Some(wait) = refused
                && longest.is_none_or(|(_, most)| wait > most)
            {
                longest = Some((index, wait));
            }
        }
        if let Some((index, retry_after)) = longest {
            return Ok(Decision::Denied { index, retry_after });
        }
        // Room first, so a full shard changes nothing.
        let per_shard = self.inner.per_shard;
        for (counter, &hash) in counters.iter().zip(&hashes) {
            let table = shard(&mut guards, hash);
            if counter.cost > 0
                && table.len() >= per_shard
                && Slot::find(table, hash, &counter.key).is_none()
            {
                table.retain(|s| s.entry.expires_at > now);
                if table.len() >= per_shard {
                    return Err(StoreError::Full(per_shard * SHARDS));
                }
            }
        }
        let mut ends = vec![None; counters.len()];
        for ((counter, &hash), end) in counters.iter().zip(&hashes).zip(&mut ends) {
            if counter.cost == 0 {
                continue;
            }
            let fresh = Entry {
                count: 0,
                expires_at: match counter.algorithm {
                    Algorithm::FixedWindow => now.saturating_add(counter.window),
                    Algorithm::Gcra => now,
                },
            };
            let table = shard(&mut guards, hash);
            let entry = if let Some(slot) =
                table.find_mut(hash, |s| s.hash == hash && s.key == counter.key)
            {
                &mut slot.entry
            } else {
                let slot = Slot {
                    hash,
                    key: counter.key.clone(),
                    entry: fresh,
                };
                &mut table.insert_unique(hash, slot, |s| s.hash).into_mut().entry
            };
            if entry.expires_at <= now {
                *entry = fresh;
            }
            match counter.algorithm {
                Algorithm::FixedWindow => {
                    entry.count = entry.count.saturating_add(counter.cost);
                }
                Algorithm::Gcra => {
                    // The check above let it through: the same computation cannot refuse now.
                    let tat = counter.gcra(Some(entry.expires_at), now);
                    entry.expires_at = tat.unwrap_or(entry.expires_at);
                    entry.count = 1;
                }
            }
            *end = Some(entry.expires_at);
        }
        Ok(Decision::Allowed(Reservation::new(ends)))
    }

    async fn release(
        &self,
        counters: &[Counter],
        reservation: &Reservation,
    ) -> Result<(), StoreError> {
        let now = self.inner.clock.now();
        let hashes: Vec<u64> = counters.iter().map(|c| self.hash(&c.key)).collect();
        let mut guards = self.lock_shards(&hashes);
        for (index, (counter, &hash)) in counters.iter().zip(&hashes).enumerate() {
            let table = shard(&mut guards, hash);
            let Ok(mut slot) = table.find_entry(hash, |s| s.hash == hash && s.key == counter.key)
            else {
                continue;
            };
            let entry = &mut slot.get_mut().entry;
            if entry.expires_at <= now {
                continue;
            }
            let Some(end) = reservation.end(index) else {
                continue;
            };
            let spent = match counter.algorithm {
                // Another window than the reservation's: the reserved event's window ended,
                // and this one counts other events.
                Algorithm::FixedWindow if end != entry.expires_at => continue,
                Algorithm::FixedWindow => {
                    entry.count = entry.count.saturating_sub(counter.cost);
                    entry.count == 0
                }
                // Only the part of the event's spacing still ahead: later events were spaced
                // from now on once it was over, not from it.
                Algorithm::Gcra => {
                    let cost = u32::try_from(counter.cost).unwrap_or(u32::MAX);
                    let back = counter
                        .interval()
                        .saturating_mul(cost)
                        .min(end.saturating_sub(now));
                    entry.expires_at = entry.expires_at.saturating_sub(back).max(now);
                    entry.expires_at <= now
                }
            };
            // Back to nothing: the counter goes, so that reserved events given back (a check's
            // wrong code) do not hold room until their window ends.
            if spent {
                slot.remove();
            }
        }
        Ok(())
    }

    async fn peek(&self, counters: &[Counter]) -> Result<Vec<CounterState>, StoreError> {
        let now = self.inner.clock.now();
        Ok(counters
            .iter()
            .map(|counter| {
                let hash = self.hash(&counter.key);
                let shard = lock(&self.inner.shards[Self::shard_of(hash)]);
                live(Slot::find(&shard, hash, &counter.key), now).map_or_else(
                    CounterState::default,
                    |e| CounterState {
                        count: match counter.algorithm {
                            Algorithm::FixedWindow => e.count,
                            Algorithm::Gcra => counter.pending(e.expires_at, now),
                        },
                        resets_in: Some(e.expires_at.saturating_sub(now)),
                    },
                )
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
            algorithm: Algorithm::FixedWindow,
        }
    }

    fn gcra(key: &str, max: u64, cost: u64) -> Counter {
        Counter {
            algorithm: Algorithm::Gcra,
            ..counter(key, max, cost)
        }
    }

    /// `store.hit(counters)`, with a new id.
    async fn hit(store: &MemoryStore, counters: &[Counter]) -> Result<Decision, StoreError> {
        store.hit(counters, HitId::random()).await
    }

    /// An allowed hit of `counter`'s, and what it reserved.
    async fn allowed(store: &MemoryStore, counter: &Counter) -> Reservation {
        match hit(store, std::slice::from_ref(counter)).await.unwrap() {
            Decision::Allowed(reservation) => reservation,
            denied @ Decision::Denied { .. } => panic!("{counter:?}: {denied:?}"),
        }
    }

    /// Sends allowed out of `n` at once.
    async fn burst(store: &MemoryStore, counter: &Counter, n: usize) -> usize {
        let mut allowed = 0;
        for _ in 0..n {
            if hit(store, std::slice::from_ref(counter))
                .await
                .unwrap()
                .is_allowed()
            {
                allowed += 1;
            }
        }
        allowed
    }

    /// 5 per minute: one event at 0 s, four at 59 s, then a burst at 60 s. The fixed window
    /// (which started at 0 s) ends at 60 s and lets 5 more through: 9 in two seconds. GCRA
    /// lets at most 5 through in any minute: only one more at 60 s (the capacity the first
    /// event's minute has given back), then one every 12 s.
    #[tokio::test]
    async fn gcra_refuses_the_burst_a_fixed_window_allows_at_its_edge() {
        for (counter, at_edge) in [(counter("k", 5, 1), 5), (gcra("k", 5, 1), 1)] {
            let clock = ManualClock::new();
            let store = MemoryStore::with_clock(Arc::new(clock.clone()));
            assert_eq!(burst(&store, &counter, 1).await, 1);
            clock.advance(Duration::from_secs(59));
            assert_eq!(
                burst(&store, &counter, 4).await,
                4,
                "{:?}",
                counter.algorithm
            );
            clock.advance(Duration::from_secs(1));
            let allowed = burst(&store, &counter, 10).await;
            assert_eq!(
                allowed, at_edge,
                "{:?} at the window's edge",
                counter.algorithm
            );
        }
    }

    #[tokio::test]
    async fn gcra_spaces_events_and_tells_when_the_next_fits() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let c = gcra("k", 5, 1);
        assert_eq!(burst(&store, &c, 5).await, 5, "a full burst from nothing");
        let Decision::Denied { index, retry_after } =
            hit(&store, std::slice::from_ref(&c)).await.unwrap()
        else {
            panic!("the sixth in the same instant is refused");
        };
        assert_eq!((index, retry_after), (0, Duration::from_secs(12)));
        let state = store.peek(std::slice::from_ref(&c)).await.unwrap()[0];
        assert_eq!(state.count, 5);
        assert_eq!(state.resets_in, Some(Duration::from_secs(60)));
        clock.advance(Duration::from_secs(11));
        assert_eq!(burst(&store, &c, 1).await, 0);
        clock.advance(Duration::from_secs(1));
        assert_eq!(burst(&store, &c, 3).await, 1, "one every 12 s");
        // A zero-cost counter only checks, and a limit of 0 refuses everything.
        assert!(matches!(
            hit(&store, &[gcra("k", 5, 0)]).await.unwrap(),
            Decision::Denied { .. }
        ));
        assert_eq!(burst(&store, &gcra("z", 0, 1), 1).await, 0);
        clock.advance(Duration::from_secs(60));
        assert_eq!(
            store.peek(std::slice::from_ref(&c)).await.unwrap()[0].count,
            0
        );
        assert_eq!(burst(&store, &c, 6).await, 5);
    }

    #[tokio::test]
    async fn counts_atomically_and_expires() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let both = [counter("a", 2, 1), counter("b", 1, 1)];
        assert!(hit(&store, &both).await.unwrap().is_allowed());
        // `b` is full: nothing is counted, not even `a`.
        let denied = hit(&store, &both).await.unwrap();
        assert_eq!(
            denied,
            Decision::Denied {
                index: 1,
                retry_after: Duration::from_secs(60)
            }
        );
        let a = store.peek(&[counter("a", 2, 1)]).await.unwrap();
        assert_eq!(a[0].count, 1);
        clock.advance(Duration::from_secs(45));
        let Decision::Denied { retry_after, .. } = hit(&store, &both).await.unwrap() else {
            panic!("b is still full");
        };
        assert_eq!(retry_after, Duration::from_secs(15));
        clock.advance(Duration::from_secs(15));
        assert!(hit(&store, &both).await.unwrap().is_allowed());
        assert_eq!(store.peek(&[counter("a", 2, 1)]).await.unwrap()[0].count, 1);
    }

    #[tokio::test]
    async fn a_release_takes_back_what_a_hit_added() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let fixed = counter("f", 2, 1);
        let spaced = gcra("g", 5, 1);
        let mut first = Vec::new();
        for c in [&fixed, &spaced] {
            let max = usize::try_from(c.max).unwrap();
            first.push(allowed(&store, c).await);
            assert_eq!(burst(&store, c, max).await, max - 1, "{:?}", c.algorithm);
            store
                .release(std::slice::from_ref(c), &first[first.len() - 1])
                .await
                .unwrap();
            assert_eq!(
                burst(&store, c, 2).await,
                1,
                "{:?}: room for one",
                c.algorithm
            );
        }
        let [in_window, spacing] = [&first[0], &first[1]];
        assert_eq!(
            in_window.ends,
            [Some(Duration::from_secs(60))],
            "its window"
        );
        assert_eq!(
            spacing.ends,
            [Some(Duration::from_secs(12))],
            "the time it left"
        );
        clock.advance(Duration::from_secs(30));
        // A fixed window keeps its end while it counts, and goes when back to zero (not below).
        store
            .release(std::slice::from_ref(&fixed), in_window)
            .await
            .unwrap();
        let state = store.peek(std::slice::from_ref(&fixed)).await.unwrap()[0];
        assert_eq!(
            state,
            CounterState {
                count: 1,
                resets_in: Some(Duration::from_secs(30))
            }
        );
        let held = store.len();
        store
            .release(&[counter("f", 2, 5)], in_window)
            .await
            .unwrap();
        assert_eq!(store.len(), held - 1, "the counter went");
        assert_eq!(burst(&store, &fixed, 1).await, 1);
        let state = store.peek(std::slice::from_ref(&fixed)).await.unwrap()[0];
        assert_eq!(
            state.resets_in,
            Some(Duration::from_secs(60)),
            "a new window"
        );
        // GCRA: back by the part of the event's spacing still ahead, one interval (12 s) per
        // event at most, not before now. The first event's (0 to 12 s) is over.
        let one = std::slice::from_ref(&spaced);
        store.release(one, spacing).await.unwrap();
        let state = store.peek(one).await.unwrap()[0];
        assert_eq!(state.resets_in, Some(Duration::from_secs(30)), "60 - 30");
        let last = allowed(&store, &spaced).await;
        assert_eq!(last.ends, [Some(Duration::from_secs(72))]);
        store.release(one, &last).await.unwrap();
        let state = store.peek(one).await.unwrap()[0];
        assert_eq!(
            state.resets_in,
            Some(Duration::from_secs(30)),
            "72 - 30 - 12"
        );
        store.release(&[gcra("g", 5, 9)], &last).await.unwrap();
        assert_eq!(
            store.peek(std::slice::from_ref(&spaced)).await.unwrap()[0],
            CounterState::default()
        );
        assert_eq!(store.len(), 1, "the GCRA counter with none pending went");
        assert_eq!(burst(&store, &spaced, 6).await, 5, "a full burst again");
        // An absent or expired counter stays absent.
        let reservation = allowed(&store, &fixed).await;
        store
            .release(&[counter("none", 2, 1)], &reservation)
            .await
            .unwrap();
        clock.advance(Duration::from_secs(61));
        store
            .release(std::slice::from_ref(&fixed), &reservation)
            .await
            .unwrap();
        assert_eq!(
            store.peek(&[counter("none", 2, 1), fixed]).await.unwrap(),
            [CounterState::default(); 2]
        );
    }

    /// A GCRA release gives back only the part of the released event's spacing still ahead:
    /// later events were spaced from their own arrival once it was over. At most 3 a minute
    /// (an interval of 20 s): an event at 0 s, one at 21 s (spaced from 21 s: the first's
    /// spacing ended at 20 s), and the first released at 25 s (its provider call was slow and
    /// failed). The second still holds its 20 s: a burst at 25 s gets 2, three in the minute.
    /// (The release took 20 s off the second's spacing, and let 3 through: four within 4 s.)
    #[tokio::test]
    async fn a_gcra_release_gives_back_only_the_spacing_still_ahead() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let c = gcra("k", 3, 1);
        let first = allowed(&store, &c).await;
        clock.advance(Duration::from_secs(21));
        allowed(&store, &c).await;
        clock.advance(Duration::from_secs(4));
        store
            .release(std::slice::from_ref(&c), &first)
            .await
            .unwrap();
        assert_eq!(burst(&store, &c, 5).await, 2);
    }

    /// A release takes back from the window its hit counted in, never from a later one. A
    /// send counted at 0 s in a 30 s resend cooldown is given back at 35 s (its provider call
    /// was slow and failed), after another send opened a new window at 31 s: that window keeps
    /// its send, and a third at 36 s is refused. (The release emptied the new window, and let
    /// the third send through 5 s after the second.)
    #[tokio::test]
    async fn a_release_never_takes_from_a_later_window() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let cooldown = Counter {
            window: Duration::from_secs(30),
            ..counter("cooldown", 1, 1)
        };
        let one = std::slice::from_ref(&cooldown);
        let first = allowed(&store, &cooldown).await;
        clock.advance(Duration::from_secs(31));
        let second = allowed(&store, &cooldown).await;
        clock.advance(Duration::from_secs(4));
        store.release(one, &first).await.unwrap();
        assert_eq!(store.peek(one).await.unwrap()[0].count, 1);
        clock.advance(Duration::from_secs(1));
        assert_eq!(burst(&store, &cooldown, 1).await, 0, "the cooldown holds");
        store.release(one, &second).await.unwrap();
        assert_eq!(store.peek(one).await.unwrap()[0], CounterState::default());
    }

    #[tokio::test]
    async fn a_zero_cost_counter_only_checks() {
        let store = MemoryStore::with_clock(Arc::new(ManualClock::new()));
        assert!(
            hit(&store, &[counter("k", 1, 0)])
                .await
                .unwrap()
                .is_allowed()
        );
        assert!(store.is_empty());
        hit(&store, &[counter("k", 1, 1)]).await.unwrap();
        assert!(matches!(
            hit(&store, &[counter("k", 1, 0)]).await.unwrap(),
            Decision::Denied { index: 0, .. }
        ));
    }

    #[tokio::test]
    async fn bounded_evicting_expired_counters() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_capacity(Arc::new(clock.clone()), SHARDS);
        let mut full = None;
        for i in 0..SHARDS * 4 {
            if let Err(err) = hit(&store, &[counter(&format!("k{i}"), 5, 1)]).await {
                full = Some(err);
                break;
            }
        }
        assert_eq!(full, Some(StoreError::Full(SHARDS)));
        assert!(store.len() <= SHARDS);
        clock.advance(Duration::from_secs(61));
        for i in 0..SHARDS * 4 {
            let key = format!("new{i}");
            if hit(&store, &[counter(&key, 5, 1)]).await.is_err() {
                break;
            }
        }
        assert!(store.len() <= SHARDS, "expired counters were evicted");
        let old = store.peek(&[counter("k0", 5, 1)]).await.unwrap();
        assert_eq!(old[0].count, 0);
    }

    /// A full shard still takes what needs no room: another event of a counter it holds, and
    /// a check (cost 0) of one it does not; a counter whose window ends just now is evicted
    /// to make room.
    #[tokio::test]
    async fn a_full_shard_takes_what_needs_no_room() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_capacity(Arc::new(clock.clone()), SHARDS);
        let mut refused = None;
        for i in 0..SHARDS * 4 {
            let key = format!("k{i}");
            if hit(&store, &[counter(&key, 5, 1)]).await.is_err() {
                refused = Some(key);
                break;
            }
        }
        let refused = refused.expect("one shard filled up");
        let held = counter("k0", 5, 1);
        assert!(
            hit(&store, std::slice::from_ref(&held))
                .await
                .is_ok_and(|d| d.is_allowed())
        );
        assert_eq!(store.peek(&[held]).await.unwrap()[0].count, 2);
        assert!(
            hit(&store, &[counter(&refused, 5, 0)])
                .await
                .is_ok_and(|d| d.is_allowed()),
            "a check of {refused} needs no room"
        );
        assert_eq!(
            hit(&store, &[counter(&refused, 5, 1)]).await,
            Err(StoreError::Full(SHARDS))
        );
        clock.advance(Duration::from_secs(60));
        assert!(
            hit(&store, &[counter(&refused, 5, 1)])
                .await
                .is_ok_and(|d| d.is_allowed()),
            "the shard's counter ended at this very instant and was evicted"
        );
    }

    /// Counters spread over the shards: a store holds about its capacity, not one shard's
    /// share of it (1,000 keys average 31 a shard, against 100 room in each), and counts them.
    #[tokio::test]
    async fn holds_its_capacity_over_every_shard() {
        let store = MemoryStore::with_capacity(Arc::new(ManualClock::new()), 100 * SHARDS);
        assert!(store.is_empty());
        for i in 0..1000 {
            let decision = hit(&store, &[counter(&format!("k{i}"), 5, 1)]).await;
            assert!(decision.is_ok_and(|d| d.is_allowed()), "key {i}");
        }
        assert_eq!(store.len(), 1000);
        assert!(!store.is_empty());
        let used = store
            .inner
            .shards
            .iter()
            .filter(|shard| !lock(shard).is_empty())
            .count();
        assert_eq!(used, SHARDS, "every shard holds some of 1,000 keys");
    }
}
