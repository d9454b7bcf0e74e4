//! Lenient field decoders for provider wire types, for `#[serde(deserialize_with = "...")]`.
//!
//! Providers' documentation and SDKs disagree on types (a number here, a string there, `null`
//! for absent, `"1"` for true). Provider crates decode their answers with these so that every
//! documented shape is accepted, and anything else is a serde error (which the HTTP layer turns
//! into a typed [`Decode`](crate::ErrorKind::Decode) error), never a panic.
//!
//! Each decoder of scalars reads a value as a [`Scalar`], which borrows a string from the body
//! when it has no escapes, instead of building a `serde_json::Value` and copying its text
//! again. The borrowed decoders ([`opt_text`], [`opt_non_blank_text`], [`non_empty_text`]) do
//! not copy such a string at all, for fields that are only parsed or compared
//! (`#[serde(borrow)]`).
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

use std::borrow::Cow;
use std::fmt;

use serde::de::{Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// One JSON value as the lenient decoders see it: a scalar, its text borrowed from the body
/// where it can be, `null`, or anything else (an array or an object, read and skipped).
///
/// For decoders of a provider's own shapes:
///
/// ```
/// use phone_verify_core::kit::lenient::Scalar;
///
/// let id: Scalar<'_> = serde_json::from_str(r#"" S1d2 ""#)?;
/// assert_eq!(id.into_text().as_deref(), Some("S1d2"));
/// let id: Scalar<'_> = serde_json::from_str("42")?;
/// assert_eq!(id.into_string().as_deref(), Some("42"));
/// assert_eq!(serde_json::from_str::<Scalar<'_>>("[1]")?, Scalar::Other);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    /// `null` (or a missing optional value).
    Null,
    /// A string, untrimmed.
    Str(Cow<'a, str>),
    /// A boolean.
    Bool(bool),
    /// A number, as `serde_json` holds it.
    Number(serde_json::Number),
    /// An array or an object.
    Other,
}

impl<'a> Scalar<'a> {
    /// The value as text, as [`scalar_to_string`] writes it (a string trimmed, a number or a
    /// boolean as JSON writes it), still borrowed from the body where the string was; `None`
    /// for `null`, arrays and objects.
    pub fn into_text(self) -> Option<Cow<'a, str>> {
        match self {
            Self::Str(Cow::Borrowed(s)) => Some(Cow::Borrowed(trim(s))),
            Self::Str(Cow::Owned(s)) => Some(Cow::Owned(trimmed(s))),
            Self::Number(n) => Some(Cow::Owned(n.to_string())),
            Self::Bool(b) => Some(Cow::Borrowed(bool_text(b))),
            Self::Null | Self::Other => None,
        }
    }

    /// [`into_text`](Self::into_text), owned (a string that needs no trimming is not copied
    /// again).
    pub fn into_string(self) -> Option<String> {
        self.into_text().map(Cow::into_owned)
    }

    /// Whether it is text with something other than whitespace, a number or a boolean.
    pub fn has_text(&self) -> bool {
        match self {
            Self::Str(s) => !trim(s).is_empty(),
            Self::Number(_) | Self::Bool(_) => true,
            Self::Null | Self::Other => false,
        }
    }

    /// The value as a boolean, as [`bool_value`] reads it; `None` for anything else.
    fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            Self::Number(n) => number_bool(n),
            Self::Str(s) => text_bool(s),
            Self::Null | Self::Other => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // As `serde_json::Value` reads it: a non-finite float is `null`.
        Ok(serde_json::Number::from_f64(v).map_or(Scalar::Null, Scalar::Number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// `s` trimmed, without a copy when there is nothing to trim.
fn trimmed(s: String) -> String {
    if trim(&s).len() == s.len() {
        s
    } else {
        trim(&s).to_owned()
    }
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// `1` and `0` as booleans.
fn number_bool(n: &serde_json::Number) -> Option<bool> {
    match n.as_u64() {
        Some(1) => Some(true),
        Some(0) => Some(false),
        _ => None,
    }
}

/// `true`/`false` (any ASCII case) and `1`/`0`, trimmed, as booleans.
fn text_bool(s: &str) -> Option<bool> {
    let s = trim(s);
    if s.eq_ignore_ascii_case("true") || s == "1" {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") || s == "0" {
        Some(false)
    } else {
        None
    }
}

/// A string (trimmed), number or boolean as text; `None` for `null`, arrays and objects.
pub fn scalar_to_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(trim(s).to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(bool_text(*b).to_owned()),
        _ => None,
    }
}

/// A scalar as text; `None` for `null`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(opt_text(d)?.map(Cow::into_owned))
}

/// A scalar as text; `None` for `null` and blank strings.
pub fn opt_non_blank_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(opt_non_blank_text(d)?.map(Cow::into_owned))
}

/// A required scalar as text (possibly empty).
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_string(d)?.ok_or_else(|| D::Error::custom("expected a string, found null"))
}

/// A required, non-blank scalar as text.
pub fn non_empty_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    non_empty_text(d).map(Cow::into_owned)
}

/// [`opt_string`], borrowed from the body where it can be (`#[serde(borrow)]`).
pub fn opt_text<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    match Scalar::deserialize(d)? {
        Scalar::Other => Err(D::Error::custom("expected a string")),
        scalar => Ok(scalar.into_text()),
    }
}

/// [`opt_non_blank_string`], borrowed from the body where it can be (`#[serde(borrow)]`).
pub fn opt_non_blank_text<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(opt_text(d)?.filter(|s| !s.is_empty()))
}

/// [`non_empty_string`], borrowed from the body where it can be (`#[serde(borrow)]`).
pub fn non_empty_text<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Cow<'a, str>, D::Error> {
    opt_non_blank_text(d)?.ok_or_else(|| D::Error::custom("expected a non-empty string"))
}

/// A boolean from `true`/`false`, `1`/`0` or `"true"`/`"false"`/`"1"`/`"0"`.
pub fn bool_value<E: serde::de::Error>(value: &Value) -> Result<bool, E> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => number_bool(n),
        Value::String(s) => text_bool(s),
        _ => None,
    }
    .ok_or_else(|| E::custom("expected a boolean"))
}

/// A required boolean, as [`bool_value`] reads it.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Scalar::deserialize(d)?
        .as_bool()
        .ok_or_else(|| D::Error::custom("expected a boolean"))
}

/// A boolean as [`bool_value`] reads it; `None` for `null` and `""`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Scalar::deserialize(d)? {
        Scalar::Null => Ok(None),
        Scalar::Str(s) if trim(&s).is_empty() => Ok(None),
        other => other
            .as_bool()
            .map(Some)
            .ok_or_else(|| D::Error::custom("expected a boolean")),
    }
}

/// A boolean as [`bool_value`] reads it; `null` and `""` as false.
pub fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(opt_bool(d)?.unwrap_or(false))
}

/// A non-negative integer or a numeric string; `None` for `null` and `""`.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let invalid = || D::Error::custom("expected a non-negative integer");
    match Scalar::deserialize(d)? {
        Scalar::Null => Ok(None),
        Scalar::Number(n) => n.as_u64().map(Some).ok_or_else(invalid),
        Scalar::Str(s) if trim(&s).is_empty() => Ok(None),
        Scalar::Str(s) => trim(&s).parse().map(Some).map_err(|_| invalid()),
        Scalar::Bool(_) | Scalar::Other => Err(invalid()),
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
    match d.deserialize_any(ScalarsVisitor)? {
        None => Err(D::Error::custom("expected a list")),
        Some(items) => items
            .into_iter()
            .map(|item| {
                item.into_string()
                    .ok_or_else(|| D::Error::custom("expected strings"))
            })
            .collect(),
    }
}

/// A list read whole as [`Scalar`]s (`null` as empty); `None` for anything else, read whole.
struct ScalarsVisitor;

impl<'de> Visitor<'de> for ScalarsVisitor {
    type Value = Option<Vec<Scalar<'de>>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Some(items))
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Some(Vec::new()))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Some(Vec::new()))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // As `serde_json::Value` reads it: a non-finite float is `null`.
        Ok((!v.is_finite()).then(Vec::new))
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde::Deserialize;

    use super::Scalar;

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
        #[serde(default, deserialize_with = "super::count")]
        c: u64,
    }

    /// The decoders as they were, on `serde_json::Value`: what the [`Scalar`] ones must equal.
    mod reference {
        use serde::de::Error as _;
        use serde::{Deserialize, Deserializer};
        use serde_json::Value;

        fn scalar_to_string(value: &Value) -> Option<String> {
            match value {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        }

        fn bool_value<E: serde::de::Error>(value: &Value) -> Result<bool, E> {
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

        pub(super) fn opt_string<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<String>, D::Error> {
            match Value::deserialize(d)? {
                Value::Null => Ok(None),
                other => scalar_to_string(&other)
                    .map(Some)
                    .ok_or_else(|| D::Error::custom("expected a string")),
            }
        }

        pub(super) fn opt_non_blank_string<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<String>, D::Error> {
            Ok(opt_string(d)?.filter(|s| !s.is_empty()))
        }

        pub(super) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
            opt_string(d)?.ok_or_else(|| D::Error::custom("expected a string, found null"))
        }

        pub(super) fn non_empty_string<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<String, D::Error> {
            opt_non_blank_string(d)?.ok_or_else(|| D::Error::custom("expected a non-empty string"))
        }

        pub(super) fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
            bool_value(&Value::deserialize(d)?)
        }

        pub(super) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
            match Value::deserialize(d)? {
                Value::Null => Ok(None),
                Value::String(s) if s.trim().is_empty() => Ok(None),
                other => bool_value(&other).map(Some),
            }
        }

        pub(super) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
            let invalid = || D::Error::custom("expected a non-negative integer");
            match Value::deserialize(d)? {
                Value::Null => Ok(None),
                Value::Number(n) => n.as_u64().map(Some).ok_or_else(invalid),
                Value::String(s) if s.trim().is_empty() => Ok(None),
                Value::String(s) => s.trim().parse().map(Some).map_err(|_| invalid()),
                _ => Err(invalid()),
            }
        }

        pub(super) fn string_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
            match Value::deserialize(d)? {
                Value::Null => Ok(Vec::new()),
                Value::Array(items) => items
                    .iter()
                    .map(|item| {
                        scalar_to_string(item).ok_or_else(|| D::Error::custom("expected strings"))
                    })
                    .collect(),
                _ => Err(D::Error::custom("expected a list")),
            }
        }
    }

    /// Field values of every shape, as they appear in a body.
    const VALUES: &[&str] = &[
        "null",
        "\"\"",
        "\"  \"",
        "\"abc\"",
        "\" abc \"",
        "\"a\\u0062c\"",
        "\" a\\u0062c \"",
        "\"\\tx\\n\"",
        "\"\\u00a0x\\u2003\"",
        "\"TRUE\"",
        "\" false \"",
        "\"True\"",
        "\"1\"",
        "\" 0 \"",
        "\"2\"",
        "\"+7\"",
        "\"-1\"",
        "\"yes\"",
        "true",
        "false",
        "0",
        "1",
        "2",
        "-1",
        "1.0",
        "0.0",
        "-0.0",
        "1.5e3",
        "1e300",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "[]",
        "[1, \"a\", true]",
        "[\" a \", \"b\\u0063\", -2, 1.5, false]",
        "[null]",
        "[[1]]",
        "[{}]",
        "[1, [2, 3], {\"a\": 4}]",
        "{}",
        "{\"a\": [null]}",
        "{\"a\": \"b\", \"c\": {\"d\": 1}}",
    ];

    macro_rules! same_as_reference {
        ($name:ident, $ty:ty, $ours:path, $reference:path) => {
            #[test]
            fn $name() {
                #[derive(Deserialize, Debug, PartialEq)]
                struct Ours(#[serde(deserialize_with = "ours")] $ty);
                fn ours<'de, D: serde::Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                    $ours(d)
                }
                #[derive(Deserialize, Debug, PartialEq)]
                struct Reference(#[serde(deserialize_with = "reference")] $ty);
                fn reference<'de, D: serde::Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                    $reference(d)
                }
                // In a field of an object too, where an error's position comes after it.
                #[derive(Deserialize, Debug, PartialEq)]
                struct OursField {
                    #[serde(deserialize_with = "ours")]
                    f: $ty,
                    g: u8,
                }
                #[derive(Deserialize, Debug, PartialEq)]
                struct ReferenceField {
                    #[serde(deserialize_with = "reference")]
                    f: $ty,
                    g: u8,
                }
                for value in VALUES {
                    let ours = serde_json::from_str::<Ours>(value).map(|f| f.0);
                    let expected = serde_json::from_str::<Reference>(value).map(|f| f.0);
                    assert_eq!(
                        ours.as_ref().map_err(ToString::to_string),
                        expected.as_ref().map_err(ToString::to_string),
                        "{value}"
                    );
                    let field = format!("{{\"f\": {value}, \"g\": 1}}");
                    let ours = serde_json::from_str::<OursField>(&field).map(|f| f.f);
                    let expected = serde_json::from_str::<ReferenceField>(&field).map(|f| f.f);
                    assert_eq!(
                        ours.as_ref().map_err(ToString::to_string),
                        expected.as_ref().map_err(ToString::to_string),
                        "{field}"
                    );
                    // Also from a `Value` (which hands over owned strings).
                    let parsed: serde_json::Value = serde_json::from_str(value).unwrap();
                    let ours = Ours::deserialize(&parsed).map(|f| f.0);
                    let expected = Reference::deserialize(&parsed).map(|f| f.0);
                    assert_eq!(
                        ours.map_err(|e| e.to_string()),
                        expected.map_err(|e| e.to_string()),
                        "{value} from a Value"
                    );
                }
            }
        };
    }

    same_as_reference!(
        opt_string_reads_as_before,
        Option<String>,
        super::opt_string,
        reference::opt_string
    );
    same_as_reference!(
        opt_non_blank_string_reads_as_before,
        Option<String>,
        super::opt_non_blank_string,
        reference::opt_non_blank_string
    );
    same_as_reference!(
        string_reads_as_before,
        String,
        super::string,
        reference::string
    );
    same_as_reference!(
        non_empty_string_reads_as_before,
        String,
        super::non_empty_string,
        reference::non_empty_string
    );
    same_as_reference!(bool_reads_as_before, bool, super::bool, reference::bool);
    same_as_reference!(
        opt_bool_reads_as_before,
        Option<bool>,
        super::opt_bool,
        reference::opt_bool
    );
    same_as_reference!(
        opt_u64_reads_as_before,
        Option<u64>,
        super::opt_u64,
        reference::opt_u64
    );
    same_as_reference!(
        string_vec_reads_as_before,
        Vec<String>,
        super::string_vec,
        reference::string_vec
    );

    #[test]
    fn borrowed_decoders_copy_no_plain_text() {
        #[derive(Deserialize)]
        struct Borrowed<'a> {
            #[serde(borrow, deserialize_with = "super::opt_text")]
            a: Option<Cow<'a, str>>,
            #[serde(borrow, deserialize_with = "super::opt_non_blank_text")]
            b: Option<Cow<'a, str>>,
            #[serde(borrow, deserialize_with = "super::non_empty_text")]
            c: Cow<'a, str>,
            #[serde(borrow, deserialize_with = "super::opt_text")]
            d: Option<Cow<'a, str>>,
        }
        let w: Borrowed<'_> =
            serde_json::from_str(r#"{"a":" x ","b":"  ","c":"a\u0062","d":7}"#).unwrap();
        assert!(matches!(w.a, Some(Cow::Borrowed("x"))));
        assert_eq!(w.b, None);
        assert!(matches!(&w.c, Cow::Owned(c) if c == "ab"));
        assert!(matches!(&w.d, Some(Cow::Owned(d)) if d == "7"));
        assert!(serde_json::from_str::<Borrowed<'_>>(r#"{"a":[],"c":"x"}"#).is_err());
        assert!(serde_json::from_str::<Borrowed<'_>>(r#"{"a":null,"c":" "}"#).is_err());
    }

    #[test]
    fn scalars_as_text() {
        fn scalar(json: &str) -> Scalar<'_> {
            serde_json::from_str(json).unwrap()
        }
        assert_eq!(scalar("null"), Scalar::Null);
        assert_eq!(scalar("{\"a\":[1]}"), Scalar::Other);
        assert!(matches!(
            scalar("\" a \"").into_text(),
            Some(Cow::Borrowed("a"))
        ));
        assert_eq!(
            scalar("\" a\\u0062 \"").into_string().as_deref(),
            Some("ab")
        );
        assert_eq!(scalar("false").into_text().as_deref(), Some("false"));
        assert_eq!(scalar("-1.5").into_string().as_deref(), Some("-1.5"));
        assert_eq!(scalar("null").into_text(), None);
        assert!(scalar("0").has_text());
        assert!(!scalar("\" \"").has_text());
        assert!(!scalar("[]").has_text());
    }

    #[test]
    fn values_as_text_and_booleans() {
        use serde_json::{Value, json};

        use super::{bool_value, scalar_to_string};

        assert_eq!(scalar_to_string(&json!(" a b\t")).as_deref(), Some("a b"));
        assert_eq!(scalar_to_string(&json!("")).as_deref(), Some(""));
        assert_eq!(scalar_to_string(&json!(-12)).as_deref(), Some("-12"));
        assert_eq!(scalar_to_string(&json!(1.5)).as_deref(), Some("1.5"));
        assert_eq!(scalar_to_string(&json!(false)).as_deref(), Some("false"));
        for none in [Value::Null, json!([1]), json!({"a": 1})] {
            assert_eq!(scalar_to_string(&none), None, "{none}");
        }

        let read = |value: Value| bool_value::<serde_json::Error>(&value).ok();
        for (value, expected) in [
            (json!(true), Some(true)),
            (json!(false), Some(false)),
            (json!(1), Some(true)),
            (json!(0), Some(false)),
            (json!(" TRUE "), Some(true)),
            (json!("False"), Some(false)),
            (json!("1"), Some(true)),
            (json!("0"), Some(false)),
            (json!(2), None),
            (json!(-1), None),
            (json!(1.0), None),
            (json!("yes"), None),
            (json!(""), None),
            (Value::Null, None),
            (json!([true]), None),
        ] {
            assert_eq!(read(value.clone()), expected, "{value}");
        }
        let err = bool_value::<serde_json::Error>(&json!("yes")).unwrap_err();
        assert_eq!(err.to_string(), "expected a boolean");
    }

    #[test]
    fn a_value_json_cannot_hold_is_refused_saying_what_was_expected() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{BytesDeserializer, Error};

        let err = Scalar::deserialize(BytesDeserializer::<Error>::new(b"ab")).unwrap_err();
        assert!(err.to_string().contains("expected any JSON value"), "{err}");
        let err = super::string_vec(BytesDeserializer::<Error>::new(b"ab")).unwrap_err();
        assert!(err.to_string().contains("expected a list"), "{err}");
        let err = super::string_vec(IntoDeserializer::<Error>::into_deserializer('x')).unwrap_err();
        assert_eq!(err.to_string(), "expected a list");
    }

    /// The list visitor's methods that `serde_json` does not call (it hands `null` over as a
    /// unit, and never a non-finite float), as other deserializers may.
    #[test]
    fn the_list_visitor_reads_every_shape_a_deserializer_may_hand_over() {
        use serde::de::Visitor;
        use serde::de::value::Error;

        use super::ScalarsVisitor;

        assert_eq!(ScalarsVisitor.visit_none::<Error>(), Ok(Some(Vec::new())));
        assert_eq!(ScalarsVisitor.visit_unit::<Error>(), Ok(Some(Vec::new())));
        assert_eq!(
            ScalarsVisitor
                .visit_some(serde_json::json!(["a", 1]))
                .unwrap(),
            Some(vec![
                Scalar::Str(Cow::Owned("a".to_owned())),
                Scalar::Number(1.into())
            ])
        );
        assert_eq!(
            ScalarsVisitor.visit_f64::<Error>(f64::NAN),
            Ok(Some(Vec::new()))
        );
        assert_eq!(
            ScalarsVisitor.visit_f64::<Error>(f64::INFINITY),
            Ok(Some(Vec::new()))
        );
        assert_eq!(ScalarsVisitor.visit_f64::<Error>(1.5), Ok(None));
        assert_eq!(ScalarsVisitor.visit_bool::<Error>(true), Ok(None));
        assert_eq!(ScalarsVisitor.visit_i64::<Error>(-1), Ok(None));
        assert_eq!(ScalarsVisitor.visit_u64::<Error>(1), Ok(None));
        assert_eq!(ScalarsVisitor.visit_str::<Error>("a"), Ok(None));
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
        assert_eq!(w.c, 0);
        for (count, expected) in [
            ("null", 0),
            ("\"\"", 0),
            ("0", 0),
            ("1", 1),
            ("\" 42 \"", 42),
        ] {
            let w = parse(&format!("{{\"c\":{count}}}")).unwrap();
            assert_eq!(w.c, expected, "{count}");
        }
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
            r#"{"c":-1}"#,
            r#"{"c":"many"}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
