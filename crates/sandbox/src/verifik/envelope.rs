//! Verifik's `{"data","signature","id"}` envelope.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use super::slot::VerifikSlot as State;

/// Verifik's `signature` object.
pub(super) fn signature(now: OffsetDateTime) -> Value {
    let date = now
        .format(format_description!(
            "[month repr:long] [day padding:none], [year] [hour repr:12 padding:none]:[minute] [period]"
        ))
        .unwrap_or_default();
    json!({"dateTime": date, "message": "Certified by Verifik.co"})
}

/// `{"data": data, "signature": {...}, "id": "X1234"}`.
pub(super) fn envelope(state: &mut State, data: Value) -> Value {
    let now = state.now();
    let id = state.rng.alphanumeric(5).to_ascii_uppercase();
    let mut map = serde_json::Map::new();
    map.insert("data".into(), data);
    map.insert("signature".into(), signature(now));
    map.insert("id".into(), Value::String(id));
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = OffsetDateTime::from_unix_timestamp(1_716_954_087).unwrap()
            + time::Duration::milliseconds(9);
        assert_eq!(signature(t)["dateTime"], "May 29, 2024 3:41 AM");
    }
}
