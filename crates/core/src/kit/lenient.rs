//! Lenient field decoders for provider wire types, for `#[serde(deserialize_with = "...")]`.
//!
//! Providers' documentation and SDKs disagree on types (a number here, a string there, `null`
//! for absent, `"1"` for true). Provider crates decode their answers with these so that every
//! documented shape is accepted, and anything else is a serde error (which the HTTP layer turns
//! into a typed [`Decode`](crate::ErrorKind::Decode) error), never a panic.
//!
//! ```
//! use phone_verify_core::kit::lenient;
//!
//! #[derive(serde::Deserialize)]
//! struct Meta {
//!     #[serde(default, deserialize_with = "lenient::opt_string")]
//!     error_code: Option<String>,
//!     #[serde(default, deserialize_with = "lenient::opt_bool")]
//!     verified: Option<bool>,
//!     #[serde(default, deserialize_with = "lenient::count")]
//!     total: u64,
//! }
//!
//! let meta: Meta = serde_json::from_str(r#"{"error_code": 403014, "verified": "1", "total": "2"}"#)?;
//! assert_eq!(meta.error_code.as_deref(), Some("403014"));
//! assert_eq!(meta.verified, Some(true));
//! assert_eq!(meta.total, 2);
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `str::trim`, without its per-character scan for the usual text that neither starts nor
/// ends with whitespace (an ASCII byte at either end is a whole character). For decoders that
/// trim every field of every answer.
///
/// ```
/// use phone_verify_core::kit::lenient::trim;
///
/// assert_eq!(trim("+905321234567"), "+905321234567");
/// assert_eq!(trim(" otp\n"), "otp");
/// ```
pub fn trim(text: &str) -> &str {
    crate::text::trim(text)
}

/// A string (trimmed), number or boolean as text; `None` for `null`, arrays and objects.
pub fn scalar_to_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A scalar as text; `None` for `null`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        other => scalar_to_string(&other)
            .map(Some)
            .ok_or_else(|| D::Error::custom("expected a string")),
    }
}

/// A scalar as text; `None` for `null` and blank strings.
pub fn opt_non_blank_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(opt_string(d)?.filter(|s| !s.is_empty()))
}

/// A required scalar as text (possibly empty).
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_string(d)?.ok_or_else(|| D::Error::custom("expected a string, found null"))
}

/// A required, non-blank scalar as text.
pub fn non_empty_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_non_blank_string(d)?.ok_or_else(|| D::Error::custom("expected a non-empty string"))
}

/// A boolean from `true`/`false`, `1`/`0` or `"true"`/`"false"`/`"1"`/`"0"`.
pub fn bool_value<E: serde::de::Error>(value: &Value) -> Result<bool, E> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(E::custom("expected a boolean")),
        },
        _ => Err(E::custom("expected a boolean")),
    }
}

/// A required boolean, as [`bool_value`] reads it.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    bool_value(&Value::deserialize(d)?)
}

/// A boolean as [`bool_value`] reads it; `None` for `null` and `""`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        other => bool_value(&other).map(Some),
    }
}

/// A boolean as [`bool_value`] reads it; `null` and `""` as false.
pub fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(opt_bool(d)?.unwrap_or(false))
}

/// A non-negative integer or a numeric string; `None` for `null` and `""`.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let invalid = || D::Error::custom("expected a non-negative integer");
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_u64().map(Some).ok_or_else(invalid),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s.trim().parse().map(Some).map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

/// A count, as [`opt_u64`] reads it; `null` as 0.
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(opt_u64(d)?.unwrap_or_default())
}

/// A list; `null` as empty.
pub fn vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A list of scalars as text; `null` as empty.
pub fn string_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| scalar_to_string(item).ok_or_else(|| D::Error::custom("expected strings")))
            .collect(),
        _ => Err(D::Error::custom("expected a list")),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Wire {
        #[serde(default, deserialize_with = "super::opt_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "super::opt_non_blank_string")]
        nb: Option<String>,
        #[serde(default, deserialize_with = "super::opt_bool")]
        b: Option<bool>,
        #[serde(default, deserialize_with = "super::bool_or_false")]
        f: bool,
        #[serde(default, deserialize_with = "super::opt_u64")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "super::vec")]
        v: Vec<u8>,
        #[serde(default, deserialize_with = "super::string_vec")]
        sv: Vec<String>,
    }

    fn parse(json: &str) -> Result<Wire, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn accepts_every_documented_shape() {
        let w = parse(r#"{"s":12,"nb":" x ","b":"1","f":null,"n":"7","v":null,"sv":[1,"a",true]}"#)
            .unwrap();
        assert_eq!(w.s.as_deref(), Some("12"));
        assert_eq!(w.nb.as_deref(), Some("x"));
        assert_eq!(w.b, Some(true));
        assert!(!w.f);
        assert_eq!(w.n, Some(7));
        assert!(w.v.is_empty());
        assert_eq!(w.sv, ["1", "a", "true"]);
        let w = parse(r#"{"s":"","nb":"  ","b":"","n":"","f":0}"#).unwrap();
        assert_eq!(w.s.as_deref(), Some(""));
        assert_eq!((w.nb, w.b, w.n), (None, None, None));
    }

    #[test]
    fn refuses_the_rest() {
        for bad in [
            r#"{"s":[1]}"#,
            r#"{"s":{}}"#,
            r#"{"b":"yes"}"#,
            r#"{"b":2}"#,
            r#"{"n":-1}"#,
            r#"{"n":"x"}"#,
            r#"{"n":1.5}"#,
            r#"{"sv":"a"}"#,
            r#"{"sv":[{}]}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
