//! Provider records with a bound: a long-lived sandbox keeps the newest `capacity` flows,
//! sessions and validations of each kind and forgets the oldest, so its memory stays flat.
//!
//! [`BoundedMap`] is a map that forgets its oldest insertions past its capacity;
//! [`SeqLog`] is an append-only list addressed by sequence numbers that never move, which
//! forgets its oldest records past its capacity (for records that other indexes point at).

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::ops::{Index, IndexMut};

/// A `HashMap` that keeps at most `capacity` entries, forgetting the oldest insertion first.
///
/// Replacing the value of a key keeps its age; removing a key and inserting it again makes it
/// new (as [`insert_newest`](Self::insert_newest) does). A capacity of 0 is raised to 1.
#[derive(Debug)]
pub(crate) struct BoundedMap<K, V> {
    map: HashMap<K, (u64, V)>,
    /// Keys in insertion order with the generation they were inserted at; a key removed or
    /// re-inserted since leaves a stale entry here, skipped on eviction and compacted away.
    order: VecDeque<(u64, K)>,
    next: u64,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V> BoundedMap<K, V> {
    /// An empty map keeping at most `capacity` entries.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            next: 0,
            capacity: capacity.max(1),
        }
    }

    /// Inserts or replaces `key`'s value, returning the previous one; forgets the oldest entries
    /// past the capacity.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let Some((_, slot)) = self.map.get_mut(&key) {
            return Some(std::mem::replace(slot, value));
        }
        self.push_new(key, value);
        None
    }

    /// Inserts `key` as the newest entry, returning its previous value: unlike
    /// [`insert`](Self::insert), a key already present loses its age, so an index kept beside
    /// another map (the newest record per number) is forgotten no sooner than the record it
    /// points at, inserted at the same time.
    pub(crate) fn insert_newest(&mut self, key: K, value: V) -> Option<V> {
        let previous = self.remove(&key);
        self.push_new(key, value);
        previous
    }

    /// The value of `key`, inserted with `make` (as a new entry) if absent.
    pub(crate) fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        if !self.map.contains_key(&key) {
            self.make_room();
        }
        let next = &mut self.next;
        let order = &mut self.order;
        let (_, value) = self.map.entry(key).or_insert_with_key(|key| {
            let generation = *next;
            *next += 1;
            order.push_back((generation, key.clone()));
            (generation, make())
        });
        value
    }

    fn push_new(&mut self, key: K, value: V) {
        self.make_room();
        let generation = self.next;
        self.next += 1;
        self.order.push_back((generation, key.clone()));
        self.map.insert(key, (generation, value));
    }

    /// Forgets the oldest entries until one more fits, and compacts the order of stale keys.
    fn make_room(&mut self) {
        while self.map.len() >= self.capacity {
            let Some((generation, key)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&key).is_some_and(|(g, _)| *g == generation) {
                self.map.remove(&key);
            }
        }
        if self.order.len() > 2 * self.capacity + 64 {
            let map = &self.map;
            self.order
                .retain(|(generation, key)| map.get(key).is_some_and(|(g, _)| g == generation));
        }
    }

    /// The value of `key`.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get(key).map(|(_, v)| v)
    }

    /// The value of `key`, mutably.
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get_mut(key).map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.contains_key(key)
    }

    /// Removes `key`, returning its value.
    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.remove(key).map(|(_, v)| v)
    }

    /// The values, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().map(|(_, v)| v)
    }

    /// The number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Forgets every entry.
    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }
}

/// Records in arrival order, each addressed by its sequence number (0 for the first record ever
/// pushed), keeping the newest `capacity`: indexing a forgotten record panics, so whoever keeps
/// sequence numbers elsewhere drops them when [`push`](Self::push) reports the record forgotten.
#[derive(Debug)]
pub(crate) struct SeqLog<T> {
    items: VecDeque<T>,
    /// The sequence number of `items[0]`.
    first: usize,
    capacity: usize,
}

impl<T> SeqLog<T> {
    /// An empty log keeping at most `capacity` records (at least 1).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            items: VecDeque::new(),
            first: 0,
            capacity: capacity.max(1),
        }
    }

    /// Appends `item`; returns its sequence number and the records forgotten to make room
    /// (with theirs), oldest first.
    pub(crate) fn push(&mut self, item: T) -> (usize, Vec<(usize, T)>) {
        let mut forgotten = Vec::new();
        while self.items.len() >= self.capacity {
            let Some(old) = self.items.pop_front() else {
                break;
            };
            forgotten.push((self.first, old));
            self.first += 1;
        }
        self.items.push_back(item);
        (self.first + self.items.len() - 1, forgotten)
    }

    /// The record with sequence number `seq`, unless forgotten or never pushed.
    pub(crate) fn get(&self, seq: usize) -> Option<&T> {
        seq.checked_sub(self.first)
            .and_then(|offset| self.items.get(offset))
    }

    /// The records kept, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    /// The number of records kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

impl<T> Default for SeqLog<T> {
    fn default() -> Self {
        Self::new(usize::MAX)
    }
}

impl<T> Index<usize> for SeqLog<T> {
    type Output = T;

    fn index(&self, seq: usize) -> &T {
        self.get(seq)
            .expect("a sequence number of a record that is still kept")
    }
}

impl<T> IndexMut<usize> for SeqLog<T> {
    fn index_mut(&mut self, seq: usize) -> &mut T {
        let offset = seq
            .checked_sub(self.first)
            .expect("a sequence number of a record that is still kept");
        &mut self.items[offset]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_forgets_its_oldest_insertions_past_its_capacity() {
        let mut map = BoundedMap::new(3);
        for i in 0..3 {
            map.insert(i, i * 10);
        }
        assert_eq!(map.insert(0, 1), Some(0), "a replacement keeps the age");
        map.insert(3, 30);
        assert_eq!(map.len(), 3);
        assert!(!map.contains_key(&0), "the oldest went first");
        assert_eq!(map.get(&3), Some(&30));

        // A removed then re-inserted key is new: its stale place in the order is skipped.
        map.remove(&1);
        map.insert(1, 11);
        map.insert(4, 40);
        assert_eq!(map.len(), 3);
        assert!([1, 3, 4].iter().all(|k| map.contains_key(k)));
        *map.get_or_insert_with(5, || 0) += 50;
        assert_eq!(map.get(&5), Some(&50));
        assert!(!map.contains_key(&2));
    }

    #[test]
    fn inserting_as_the_newest_resets_the_age() {
        let mut map = BoundedMap::new(3);
        for i in 0..3 {
            map.insert(i, i * 10);
        }
        assert_eq!(map.insert_newest(0, 1), Some(0));
        assert_eq!(map.insert_newest(7, 70), None);
        assert!(map.contains_key(&0), "0 is now younger than 1");
        assert!(!map.contains_key(&1), "the oldest went first");
        assert_eq!(map.get(&0), Some(&1));
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn the_maps_order_stays_bounded_under_churn() {
        let mut map = BoundedMap::new(10);
        for round in 0..10_000 {
            map.insert(round % 7, round);
            map.remove(&(round % 7));
            map.insert(round % 7, round);
        }
        assert!(map.len() <= 10);
        assert!(map.order.len() <= 2 * 10 + 64 + 1, "{}", map.order.len());
    }

    #[test]
    fn a_new_key_got_or_inserted_makes_room_and_an_old_one_does_not() {
        let mut map = BoundedMap::new(2);
        map.insert(1, 10);
        map.insert(2, 20);
        *map.get_or_insert_with(1, || 0) += 1;
        assert_eq!(map.len(), 2, "a key already present evicts nothing");
        assert_eq!(map.get(&1), Some(&11));
        assert_eq!(map.get(&2), Some(&20));
        *map.get_or_insert_with(3, || 30) += 0;
        assert_eq!(map.len(), 2, "a new key evicts the oldest");
        assert!(!map.contains_key(&1));
        assert!(map.contains_key(&2) && map.contains_key(&3));
    }

    #[test]
    fn keys_got_or_inserted_each_have_their_own_age() {
        // A removed key got or inserted again is new: its stale place in the order must not
        // evict it in place of an older key.
        let mut map = BoundedMap::new(2);
        map.get_or_insert_with(1, || 10);
        map.remove(&1);
        map.get_or_insert_with(2, || 20);
        map.get_or_insert_with(1, || 11);
        map.get_or_insert_with(3, || 30);
        assert!(!map.contains_key(&2), "2 was the oldest entry");
        assert_eq!(map.get(&1), Some(&11));
        assert_eq!(map.get(&3), Some(&30));
    }

    #[test]
    fn the_order_is_compacted_just_past_its_bound() {
        // Stale places pile up to `2 × capacity + 64`, no sooner compacted (each compaction
        // walks the whole order) and no later (memory stays flat).
        let mut map = BoundedMap::new(10);
        let mut longest = 0;
        for round in 0..1_000 {
            map.remove(&(round % 7));
            map.insert(round % 7, round);
            longest = longest.max(map.order.len());
        }
        assert_eq!(longest, 2 * 10 + 64 + 1);
    }

    #[test]
    fn a_compacted_order_still_evicts_the_oldest_entries() {
        let mut map = BoundedMap::new(3);
        map.insert(100, 0);
        map.insert(101, 0);
        for round in 0..200 {
            map.remove(&7);
            map.insert(7, round);
        }
        // 100 and 101 are the oldest entries still kept after the compactions.
        map.insert(8, 0);
        assert_eq!(map.len(), 3);
        assert!(!map.contains_key(&100), "the oldest goes first");
        map.insert(9, 0);
        assert!(!map.contains_key(&101));
        assert!([7, 8, 9].iter().all(|k| map.contains_key(k)));
        for key in 10..20 {
            map.insert(key, 0);
            assert!(map.len() <= 3);
        }
    }

    #[test]
    fn the_log_keeps_sequence_numbers_and_reports_what_it_forgets() {
        let mut log = SeqLog::new(2);
        assert_eq!(log.push("a"), (0, vec![]));
        assert_eq!(log.push("b"), (1, vec![]));
        assert_eq!(log.push("c"), (2, vec![(0, "a")]));
        assert_eq!(log.get(0), None);
        assert_eq!(log[1], "b");
        log[2] = "C";
        assert_eq!(log.iter().copied().collect::<Vec<_>>(), ["b", "C"]);
        assert_eq!(log.len(), 2);
        assert_eq!(log.get(3), None);
    }
}
