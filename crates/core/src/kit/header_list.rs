//! [`HeaderList`]: a request's headers, kept inline until each attempt sends them.

use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use smallvec::SmallVec;

/// Headers most provider requests carry (`Accept`, `Content-Type`, a credential, one more)
/// without a heap allocation.
const INLINE: usize = 4;

/// Headers the HTTP stack may add to a request's map after we build it: reqwest's default
/// `User-Agent`, hyper's `Host` and `Content-Length`, and reqwest's default `Accept` unless the
/// request has its own. Hyper adds `Content-Length` on the connection's task, often another
/// worker thread: a map without room for it grew there and freed its old table on that thread,
/// once per call.
const ROOM_FOR_STACK: usize = 3;

/// A request's headers, one value per name, in the order they were set.
///
/// They live inside the request (inline up to four), and each attempt builds its own
/// [`HeaderMap`] from them, which reqwest takes. Cloning a kept map instead cost two things per
/// call: the clone had no spare room, so reqwest's default `User-Agent` reallocated it, and the
/// kept map stayed allocated across the wait for the answer, to be freed by whichever worker
/// thread finished the call. Together, about 10 % of the throughput at 64 concurrent calls on
/// glibc's allocator (see `docs/benchmarks.md`, "Issue 18, third pass").
#[derive(Clone, Default)]
pub(crate) struct HeaderList {
    entries: SmallVec<[(HeaderName, HeaderValue); INLINE]>,
}

impl HeaderList {
    /// Sets `name` to `value`, replacing a value set before.
    pub(crate) fn insert(&mut self, name: HeaderName, value: HeaderValue) {
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = value,
            None => self.entries.push((name, value)),
        }
    }

    /// The value of `name` (compared ignoring ASCII case).
    pub(crate) fn get(&self, name: &str) -> Option<&HeaderValue> {
        self.entries
            .iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// Whether `name` is set.
    #[cfg(test)]
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A map of the headers for one attempt (values are shared, not copied), with room for
    /// the headers reqwest and hyper add (`User-Agent`, `Host`, `Content-Length`, and `Accept`
    /// when the request has none) without growing, and no more: a map's table doubles at each
    /// step, and one of 6 headers (a 624-byte table) fits glibc's per-thread cache where one of
    /// 12 does not.
    pub(crate) fn to_map(&self) -> HeaderMap {
        let accept = usize::from(!self.entries.iter().any(|(n, _)| *n == ACCEPT));
        let mut map = HeaderMap::with_capacity(self.entries.len() + ROOM_FOR_STACK + accept);
        for (name, value) in &self.entries {
            map.insert(name.clone(), value.clone());
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

    use super::*;

    #[test]
    fn insert_replaces_and_keeps_the_order() {
        let mut list = HeaderList::default();
        list.insert(ACCEPT, HeaderValue::from_static("application/json"));
        list.insert(
            HeaderName::from_static("x-key"),
            HeaderValue::from_static("one"),
        );
        list.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        list.insert(
            HeaderName::from_static("x-key"),
            HeaderValue::from_static("two"),
        );
        let map = list.to_map();
        assert_eq!(map.len(), 3);
        assert_eq!(map["x-key"], "two");
        assert_eq!(map[ACCEPT], "application/json");
        let names: Vec<_> = map.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["accept", "x-key", "content-type"]);
    }

    #[test]
    fn get_ignores_case_and_sensitivity_survives() {
        let mut list = HeaderList::default();
        let mut secret = HeaderValue::from_static("Bearer canary");
        secret.set_sensitive(true);
        list.insert(AUTHORIZATION, secret);
        assert_eq!(list.get("Authorization").unwrap(), "Bearer canary");
        assert!(list.contains("AUTHORIZATION"));
        assert!(!list.contains("accept"));
        assert!(list.to_map()[AUTHORIZATION].is_sensitive());
    }

    #[test]
    fn room_for_the_headers_reqwest_and_hyper_add() {
        use reqwest::header::{CONTENT_LENGTH, HOST, USER_AGENT};
        for accept in [false, true] {
            for own in 0..=INLINE + 2 {
                let mut list = HeaderList::default();
                if accept {
                    list.insert(ACCEPT, HeaderValue::from_static("application/json"));
                }
                for i in 0..own {
                    let name = HeaderName::from_bytes(format!("x-h{i}").as_bytes()).unwrap();
                    list.insert(name, HeaderValue::from_static("v"));
                }
                let mut map = list.to_map();
                let capacity = map.capacity();
                // In the stack's order: reqwest's defaults, hyper-util's `Host`, hyper's
                // `Content-Length`, each through `entry`, which makes room before it looks.
                for name in [ACCEPT, USER_AGENT, HOST, CONTENT_LENGTH] {
                    map.entry(name).or_insert(HeaderValue::from_static("d"));
                }
                let what = format!("{own} headers of our own, accept {accept}");
                assert_eq!(map.len(), own + 4, "{what}");
                assert_eq!(map.capacity(), capacity, "{what}");
            }
        }
    }

    #[test]
    fn no_more_room_than_the_stack_needs() {
        // Twilio's three headers (`Authorization`, `Content-Type`, `Accept`) and the stack's
        // three fit the smallest table, as in a map reqwest's builder grows from empty.
        let mut list = HeaderList::default();
        list.insert(AUTHORIZATION, HeaderValue::from_static("Basic x"));
        list.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        list.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut grown = HeaderMap::new();
        grown.insert(AUTHORIZATION, HeaderValue::from_static("Basic x"));
        assert_eq!(list.to_map().capacity(), grown.capacity());
    }

    #[test]
    fn more_headers_than_inline_are_all_kept() {
        let mut list = HeaderList::default();
        for i in 0..(INLINE * 3) {
            let name = HeaderName::from_bytes(format!("x-h{i}").as_bytes()).unwrap();
            list.insert(name, HeaderValue::from_str(&i.to_string()).unwrap());
        }
        let map = list.to_map();
        assert_eq!(map.len(), INLINE * 3);
        assert_eq!(map["x-h11"], "11");
    }
}
