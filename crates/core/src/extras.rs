//! [`Extras`]: the provider-specific values a handle or a resolved session carries, by key.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A key of [`Extras`]: borrowed when it is a `&'static str` (the keys provider crates define
/// as constants), owned when it was read back from JSON.
pub type ExtraKey = Cow<'static, str>;

/// Provider-specific values by key, in key order, each key at most once.
///
/// A map like `BTreeMap<String, serde_json::Value>` (and the same JSON object), held as one
/// short sorted list: a handle carries two to five extras, which take one allocation of
/// their entries here where a `BTreeMap` takes a node of eleven slots (about 630 bytes), and
/// keys given as `&'static str` are not copied.
///
/// ```
/// use phone_verify_core::Extras;
///
/// let mut extras = Extras::new();
/// extras.insert("flow", "sms_otp");
/// extras.insert("code_length", 6);
/// assert_eq!(extras.get_str("flow"), Some("sms_otp"));
/// assert_eq!(extras.keys().collect::<Vec<_>>(), ["code_length", "flow"]);
/// assert_eq!(serde_json::to_string(&extras)?, r#"{"code_length":6,"flow":"sms_otp"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// Sorted by key, keys unique.
    entries: Vec<(ExtraKey, Value)>,
}

impl Extras {
    /// No extras.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where `key` is, or where it would go.
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_ref().cmp(key))
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.find(key).ok().map(|at| &self.entries[at].1)
    }

    /// The value under `key` if it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// Whether there is a value under `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets the value under `key`, returning the one it replaces.
    pub fn insert(&mut self, key: impl Into<ExtraKey>, value: impl Into<Value>) -> Option<Value> {
        let key = key.into();
        let value = value.into();
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    /// Removes the value under `key` and returns it.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.find(key).ok().map(|at| self.entries.remove(at).1)
    }

    /// The keys and values, in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> + DoubleEndedIterator {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator {
        self.entries.iter().map(|(k, _)| k.as_ref())
    }

    /// Sorts the entries by key and keeps the last value of each key, in O(n log n) however
    /// many pairs arrived (a JSON object with many keys costs no more than a sort), and in one
    /// pass over entries already in order.
    fn normalize(&mut self) {
        // The usual case, extras written by this crate: already in order, each key once.
        if self.entries.windows(2).all(|pair| pair[0].0 < pair[1].0) {
            return;
        }
        // Stable: equal keys stay in arrival order, so the last of each run is the newest.
        self.entries.sort_by(|(a, _), (b, _)| a.cmp(b));
        let mut kept: Vec<(ExtraKey, Value)> = Vec::with_capacity(self.entries.len());
        for entry in self.entries.drain(..) {
            match kept.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => kept.push(entry),
            }
        }
        self.entries = kept;
    }

    /// The bytes the extras own on the heap: their entries' capacity, and each owned key's and
    /// string value's text (a lower bound: nested arrays and objects count their strings only,
    /// and the allocator rounds each allocation up).
    pub fn heap_bytes(&self) -> usize {
        let entries = self.entries.capacity() * size_of::<(ExtraKey, Value)>();
        let texts: usize = self
            .entries
            .iter()
            .map(|(key, value)| {
                let key = match key {
                    Cow::Borrowed(_) => 0,
                    Cow::Owned(key) => key.capacity(),
                };
                key + value_heap_bytes(value)
            })
            .sum();
        entries + texts
    }
}

/// The text a JSON value owns, counted as [`Extras::heap_bytes`] counts it.
fn value_heap_bytes(value: &Value) -> usize {
    match value {
        Value::String(text) => text.capacity(),
        Value::Array(items) => items.iter().map(value_heap_bytes).sum(),
        Value::Object(map) => map.iter().map(|(k, v)| k.len() + value_heap_bytes(v)).sum(),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

impl fmt::Debug for Extras {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<ExtraKey>, V: Into<Value>> FromIterator<(K, V)> for Extras {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut extras = Self::new();
        extras.extend(pairs);
        extras
    }
}

impl<K: Into<ExtraKey>, V: Into<Value>> Extend<(K, V)> for Extras {
    /// Inserts each pair; a later value for the same key replaces an earlier one.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        let start = self.entries.len();
        self.entries
            .extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into())));
        if self.entries.len() > start {
            self.normalize();
        }
    }
}

impl<'a> IntoIterator for &'a Extras {
    type Item = (&'a str, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (ExtraKey, Value)>,
        fn(&'a (ExtraKey, Value)) -> (&'a str, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl IntoIterator for Extras {
    type Item = (ExtraKey, Value);
    type IntoIter = std::vec::IntoIter<(ExtraKey, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl Serialize for Extras {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in self {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Extras {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExtrasVisitor;

        impl<'de> Visitor<'de> for ExtrasVisitor {
            type Value = Extras;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of provider-specific values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Extras, A::Error> {
                // A hint is the input's claim: room for a handle's few extras at most.
                let room = map.size_hint().unwrap_or(0).min(8);
                let mut entries: Vec<(ExtraKey, Value)> = Vec::with_capacity(room);
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    entries.push((key.into(), value));
                }
                let mut extras = Extras { entries };
                extras.normalize();
                // A handle held until its check keeps no spare room.
                extras.entries.shrink_to_fit();
                Ok(extras)
            }
        }

        deserializer.deserialize_map(ExtrasVisitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    #[test]
    fn behaves_as_a_sorted_map() {
        let mut extras = Extras::new();
        assert!(extras.is_empty());
        assert_eq!(extras.insert("b", 2), None);
        assert_eq!(extras.insert("a", "one"), None);
        assert_eq!(extras.insert(String::from("c"), true), None);
        assert_eq!(extras.insert("b", 3), Some(json!(2)));
        assert_eq!(extras.len(), 3);
        assert_eq!(extras.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(extras.get("b"), Some(&json!(3)));
        assert_eq!(extras.get_str("a"), Some("one"));
        assert_eq!(extras.get_str("b"), None, "not a string");
        assert!(extras.contains_key("c") && !extras.contains_key("d"));
        assert_eq!(extras.remove("a"), Some(json!("one")));
        assert_eq!(extras.remove("a"), None);
        assert_eq!(
            format!("{extras:?}"),
            r#"{"b": Number(3), "c": Bool(true)}"#
        );
    }

    #[test]
    fn json_is_the_btreemaps_json() {
        let pairs = [
            ("zeta", json!(1)),
            ("alpha", json!("x")),
            ("mid", json!([1])),
        ];
        let extras: Extras = pairs.clone().into_iter().collect();
        let map: BTreeMap<String, Value> =
            pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let json = serde_json::to_string(&extras).unwrap();
        assert_eq!(json, serde_json::to_string(&map).unwrap());
        let back: Extras = serde_json::from_str(&json).unwrap();
        assert_eq!(back, extras);
        assert!(serde_json::from_str::<Extras>("[1]").is_err());
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_as_a_btreemap_does() {
        // Out of order, in order but for the repeat (which no sort would move), and one key
        // only, repeated.
        for (json, len) in [
            (r#"{"k":1,"a":0,"k":2,"k":3}"#, 2),
            (r#"{"a":0,"k":1,"k":3}"#, 2),
            (r#"{"k":1,"k":3}"#, 1),
        ] {
            let extras: Extras = serde_json::from_str(json).unwrap();
            let map: BTreeMap<String, Value> = serde_json::from_str(json).unwrap();
            assert_eq!(extras.len(), len, "{json}");
            assert_eq!(extras.get("k"), Some(&json!(3)), "{json}");
            assert_eq!(
                serde_json::to_string(&extras).unwrap(),
                serde_json::to_string(&map).unwrap()
            );
        }
    }

    #[test]
    fn static_keys_own_no_heap() {
        let mut extras = Extras::new();
        extras.insert("flow", "sms");
        let with_static = extras.heap_bytes();
        assert_eq!(
            with_static,
            extras.entries.capacity() * size_of::<(ExtraKey, Value)>() + 3
        );
        let read_back: Extras = serde_json::from_str(r#"{"flow":"sms"}"#).unwrap();
        assert_eq!(
            read_back, extras,
            "equal whether the key is borrowed or owned"
        );
        assert_eq!(
            read_back.heap_bytes(),
            read_back.entries.capacity() * size_of::<(ExtraKey, Value)>() + 4 + 3
        );
    }

    #[test]
    fn nested_values_count_their_keys_and_strings() {
        let extras: Extras =
            serde_json::from_str(r#"{"a":{"key":"value","n":1,"list":["xy",null,{"k":"z"}]}}"#)
                .unwrap();
        // The key "a" itself; the keys "key", "n", "list", "k"; the strings "value", "xy", "z"
        // (read from JSON, each string's capacity is its length).
        let strings = "value".len() + "xy".len() + "z".len();
        assert_eq!(
            extras.heap_bytes(),
            extras.entries.capacity() * size_of::<(ExtraKey, Value)>()
                + "a".len()
                + "key".len()
                + "n".len()
                + "list".len()
                + "k".len()
                + strings
        );
    }

    #[test]
    fn extras_are_taken_apart_in_key_order_and_say_what_they_expect() {
        let extras: Extras = [("b", json!(2)), ("a", json!(1))].into_iter().collect();
        let owned: Vec<(String, Value)> = extras
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v))
            .collect();
        assert_eq!(
            owned,
            [("a".to_owned(), json!(1)), ("b".to_owned(), json!(2))]
        );
        let err = serde_json::from_str::<Extras>("[1]").unwrap_err();
        assert!(
            err.to_string()
                .contains("expected a map of provider-specific values"),
            "{err}"
        );
    }

    #[test]
    fn extras_read_from_json_keep_no_spare_room() {
        for json in [
            r#"{"a":1}"#,
            r#"{"a":1,"b":2,"c":3}"#,
            r#"{"c":3,"a":1,"b":2}"#,
        ] {
            let extras: Extras = serde_json::from_str(json).unwrap();
            assert_eq!(extras.entries.capacity(), extras.len(), "{json}");
        }
    }
}
