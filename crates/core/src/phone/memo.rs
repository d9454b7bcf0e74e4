//! The memo of parsed numbers: a small table per thread in front of one the process shares.
//!
//! A parse and its validation against libphonenumber's patterns cost about 0.5 to 1.6 µs
//! ([`super::parse`]), and a number is usually parsed again soon: at start, then in the provider's answer to a check or a session lookup.
//! A number found in the calling thread's table costs a few loads: no lock, no shared cache
//! line written, no hashing beyond a multiply. A number missing there is looked up in the
//! shared memo under a read lock (threads that find it never wait for each other) and copied
//! into the thread's table; a miss in both is parsed and then kept in both.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use super::inline::{E164, Region};

/// What the memo keeps of a parsed number besides its text (the key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Memoized {
    /// Digits of the calling code (1 to 3).
    pub(super) calling_code_len: u8,
    pub(super) region: Option<Region>,
}

/// How many numbers the shared memo keeps; it is emptied when full.
pub(super) const SHARED_CAPACITY: usize = 4096;

/// Sets of each thread's table, a power of two. A set holds two numbers: 2,048 numbers,
/// about 48 KiB a thread, allocated on the thread's first parse.
const NEAR_SETS: usize = 1024;

/// The shared memo. Keys and values are stored inline (about 24 bytes an entry).
static SHARED: LazyLock<RwLock<HashMap<E164, Memoized>>> = LazyLock::new(RwLock::default);

thread_local! {
    /// The calling thread's table: direct-mapped, two ways a set. A new number goes first in
    /// its set, the number there moves second, and the one second is pushed out: however the
    /// keys fall, a lookup costs the same, and a number pushed out is still in the shared memo.
    static NEAR: RefCell<Near> = const { RefCell::new(Near { slots: Vec::new() }) };
}

/// A thread's table: `2 * NEAR_SETS` slots once used, the two ways of set `s` at `2s` and
/// `2s + 1`, the way written last first.
struct Near {
    slots: Vec<Option<(E164, Memoized)>>,
}

impl Near {
    fn get(&self, key: &E164) -> Option<Memoized> {
        let set = set_of(key) * 2;
        self.slots
            .get(set..set + 2)?
            .iter()
            .flatten()
            .find(|(k, _)| k == key)
            .map(|(_, memo)| *memo)
    }

    fn put(&mut self, key: E164, memo: Memoized) {
        if self.slots.is_empty() {
            self.slots = vec![None; NEAR_SETS * 2];
        }
        let set = set_of(&key) * 2;
        if self.slots[set].is_some_and(|(k, _)| k == key) {
            return;
        }
        // The newest way first: the other one is the older, and the one pushed out.
        self.slots[set + 1] = self.slots[set].take();
        self.slots[set] = Some((key, memo));
    }
}

/// The set of `key` in a thread's table: its bytes folded into one word, then a Fibonacci
/// hash's top bits (numbers that differ in their last digits land far apart).
fn set_of(key: &E164) -> usize {
    let word = |at: usize| {
        let mut bytes = [0u8; 8];
        let end = (at + 8).min(key.bytes.len());
        bytes[..end - at].copy_from_slice(&key.bytes[at..end]);
        u64::from_le_bytes(bytes)
    };
    let folded = word(0) ^ word(8).rotate_left(23) ^ word(16).rotate_left(47);
    let hash = folded.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // The top bits of a 64-bit hash: always below `NEAR_SETS`.
    usize::try_from(hash >> (64 - NEAR_SETS.trailing_zeros())).unwrap_or(0)
}

/// What the memo knows of the number whose text is `key`. A thread being torn down, whose
/// table is gone (a number parsed in another thread-local's destructor), has the shared memo
/// only.
pub(super) fn get(key: &E164) -> Option<Memoized> {
    if let Ok(Some(hit)) = NEAR.try_with(|near| near.borrow().get(key)) {
        return Some(hit);
    }
    // A poisoned lock only means a panic elsewhere while holding it; the map is still valid.
    let hit = SHARED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
        .copied()?;
    put_near(*key, hit);
    Some(hit)
}

/// Keeps what `key` parsed to, in the shared memo and the calling thread's table.
pub(super) fn put(key: E164, memo: Memoized) {
    keep(
        &mut SHARED.write().unwrap_or_else(PoisonError::into_inner),
        key,
        memo,
    );
    put_near(key, memo);
}

/// Puts `key` in the calling thread's table, unless the thread is being torn down and its table
/// is gone.
fn put_near(key: E164, memo: Memoized) {
    // Gone: the number stays in the shared memo.
    let _ = NEAR.try_with(|near| near.borrow_mut().put(key, memo));
}

/// Puts `key` in `shared`, emptied first when it holds [`SHARED_CAPACITY`] other numbers (two
/// threads may parse one new number at once: the second one's put is not a new number).
fn keep(shared: &mut HashMap<E164, Memoized>, key: E164, memo: Memoized) {
    if shared.len() >= SHARED_CAPACITY && !shared.contains_key(&key) {
        shared.clear();
    }
    shared.insert(key, memo);
}

/// Whether the shared memo holds `key`, and how many numbers it holds.
#[cfg(test)]
pub(super) fn shared_holds(key: &E164) -> (bool, usize) {
    let shared = SHARED.read().unwrap_or_else(PoisonError::into_inner);
    (shared.contains_key(key), shared.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> E164 {
        E164::new(text).unwrap()
    }

    fn memo(len: u8) -> Memoized {
        Memoized {
            calling_code_len: len,
            region: Region::new("TR"),
        }
    }

    #[test]
    fn a_thread_finds_what_it_put_and_what_another_thread_put() {
        let here = key("+905320000001");
        put(here, memo(2));
        assert_eq!(get(&here), Some(memo(2)));
        assert_eq!(NEAR.with_borrow(|near| near.get(&here)), Some(memo(2)));

        let there = key("+905320000002");
        // Another test filling the shared memo may empty it in between: try again then.
        let mut found = None;
        for _ in 0..3 {
            std::thread::spawn(move || put(there, memo(2)))
                .join()
                .unwrap();
            assert_eq!(NEAR.with_borrow(|near| near.get(&there)), None);
            // Found in the shared memo, then copied into this thread's table.
            found = get(&there);
            if found.is_some() {
                break;
            }
        }
        assert_eq!(found, Some(memo(2)));
        assert_eq!(NEAR.with_borrow(|near| near.get(&there)), Some(memo(2)));
        assert_eq!(get(&key("+905320000003")), None);
    }

    /// A thread-local whose destructor parses a number, and tells whether that parse worked.
    struct ParsesWhenDropped(std::sync::mpsc::Sender<bool>);

    impl Drop for ParsesWhenDropped {
        fn drop(&mut self) {
            let parsed = std::panic::catch_unwind(|| {
                crate::PhoneNumber::parse("+905321234567").is_ok()
                    && crate::PhoneNumber::parse("+905321234568").is_ok()
            });
            let _ = self.0.send(parsed.unwrap_or(false));
        }
    }

    thread_local! {
        static PARSES_WHEN_DROPPED: RefCell<Option<ParsesWhenDropped>> =
            const { RefCell::new(None) };
    }

    #[test]
    fn a_number_parsed_after_the_threads_table_is_gone_is_parsed() {
        let (sender, parsed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Its destructor registered before the table's, so run after it (last in, first
            // out): the table is gone when it parses.
            PARSES_WHEN_DROPPED.with_borrow_mut(|slot| *slot = Some(ParsesWhenDropped(sender)));
            put(key("+905320000009"), memo(2));
        })
        .join()
        .unwrap();
        assert_eq!(parsed.recv(), Ok(true));
    }

    #[test]
    fn the_shared_memo_is_emptied_when_full() {
        let mut shared = HashMap::new();
        let keys: Vec<E164> = (0..=SHARED_CAPACITY)
            .map(|i| key(&format!("+90532{:07}", 1_000_000 + i)))
            .collect();
        for (i, key) in keys[..SHARED_CAPACITY].iter().enumerate() {
            keep(&mut shared, *key, memo(2));
            assert_eq!(shared.len(), i + 1);
        }
        // Full: it keeps every number put, the first too, and the same one put again.
        assert_eq!(shared.get(&keys[0]), Some(&memo(2)));
        keep(&mut shared, keys[0], memo(2));
        assert_eq!(shared.len(), SHARED_CAPACITY);
        // One more empties it first.
        keep(&mut shared, keys[SHARED_CAPACITY], memo(3));
        assert_eq!(shared.len(), 1);
        assert_eq!(shared.get(&keys[SHARED_CAPACITY]), Some(&memo(3)));
    }

    #[test]
    fn a_set_keeps_its_two_newest_numbers() {
        let mut near = Near { slots: Vec::new() };
        // Three numbers of one set.
        let mut same_set = Vec::new();
        let mut n = 0u32;
        let first = key("+905321000000");
        while same_set.len() < 3 {
            let candidate = key(&format!("+9053210{n:05}"));
            if set_of(&candidate) == set_of(&first) {
                same_set.push(candidate);
            }
            n += 1;
        }
        near.put(same_set[0], memo(1));
        near.put(same_set[1], memo(2));
        assert_eq!(near.get(&same_set[0]), Some(memo(1)));
        assert_eq!(near.get(&same_set[1]), Some(memo(2)));
        // Put again: still two ways, not one number twice.
        near.put(same_set[1], memo(2));
        assert_eq!(near.get(&same_set[0]), Some(memo(1)));
        near.put(same_set[2], memo(3));
        assert_eq!(near.get(&same_set[0]), None, "the oldest is pushed out");
        assert_eq!(near.get(&same_set[1]), Some(memo(2)));
        assert_eq!(near.get(&same_set[2]), Some(memo(3)));
        assert_eq!(near.slots.len(), NEAR_SETS * 2);
    }

    #[test]
    fn consecutive_numbers_spread_over_the_sets() {
        let sets: std::collections::HashSet<usize> = (0..256)
            .map(|i| set_of(&key(&format!("+90532{:07}", 1_000_000 + i))))
            .collect();
        // 256 keys thrown at random into 1,024 sets would fill about 226 of them.
        assert!(sets.len() > 200, "{} sets", sets.len());
        let longest = key("+12345678901234567");
        assert!(set_of(&longest) < NEAR_SETS);
    }
}
