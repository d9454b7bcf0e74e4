//! [`UserCache`]: which user id each `id_in_service` (phone) belongs to, kept per verifier so
//! that a returning phone costs no user lookup.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

/// A bounded, least-recently-used map from `id_in_service` to user id. A capacity of 0
/// disables it; any other, up to `usize::MAX`, is only a bound: the map grows with use and
/// allocates nothing up front. The lock is held only for a map operation, never across a
/// request.
#[derive(Debug)]
pub(crate) struct UserCache {
    map: Option<Mutex<LruCache<String, String>>>,
}

impl UserCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            // `LruCache::new` would allocate the whole capacity at once (and panic on a huge
            // one); `resize` only sets the bound.
            map: NonZeroUsize::new(capacity).map(|cap| {
                let mut map = LruCache::unbounded();
                map.resize(cap);
                Mutex::new(map)
            }),
        }
    }

    /// The user id cached for `id_in_service`, marking it recently used.
    pub(crate) fn get(&self, id_in_service: &str) -> Option<String> {
        self.with(|map| map.get(id_in_service).cloned()).flatten()
    }

    /// Remembers that `id_in_service` is user `user_id`.
    pub(crate) fn put(&self, id_in_service: &str, user_id: &str) {
        self.with(|map| {
            map.put(id_in_service.to_owned(), user_id.to_owned());
        });
    }

    /// Forgets `id_in_service` if it still names `user_id` (a newer entry stays).
    pub(crate) fn forget(&self, id_in_service: &str, user_id: &str) {
        self.with(|map| {
            if map.peek(id_in_service).is_some_and(|id| id == user_id) {
                map.pop(id_in_service);
            }
        });
    }

    /// How many phones it holds.
    pub(crate) fn len(&self) -> usize {
        self.with(|map| map.len()).unwrap_or(0)
    }

    fn with<T>(&self, f: impl FnOnce(&mut LruCache<String, String>) -> T) -> Option<T> {
        let map = self.map.as_ref()?;
        // A panic elsewhere cannot leave the map half-updated: use it anyway.
        let mut guard = map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(f(&mut guard))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let cache = UserCache::new(2);
        cache.put("+1", "u1");
        cache.put("+2", "u2");
        assert_eq!(cache.get("+1").as_deref(), Some("u1"));
        cache.put("+3", "u3");
        assert_eq!(cache.get("+2"), None);
        assert_eq!(cache.get("+1").as_deref(), Some("u1"));
        assert_eq!(cache.get("+3").as_deref(), Some("u3"));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn forgets_only_the_stale_id() {
        let cache = UserCache::new(4);
        cache.put("+1", "u-new");
        cache.forget("+1", "u-old");
        assert_eq!(cache.get("+1").as_deref(), Some("u-new"));
        cache.forget("+1", "u-new");
        assert_eq!(cache.get("+1"), None);
    }

    #[test]
    fn a_huge_capacity_allocates_nothing_up_front() {
        let cache = UserCache::new(usize::MAX);
        cache.put("+1", "u1");
        assert_eq!(cache.get("+1").as_deref(), Some("u1"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_verifier_with_a_huge_user_cache_builds() {
        let built = crate::Verigator::builder("u", "p")
            .service_id("s")
            .user_cache_capacity(usize::MAX)
            .build();
        assert!(built.is_ok(), "{:?}", built.err());
    }

    #[test]
    fn zero_capacity_disables_it() {
        let cache = UserCache::new(0);
        cache.put("+1", "u1");
        assert_eq!(cache.get("+1"), None);
        assert_eq!(cache.len(), 0);
    }
}
