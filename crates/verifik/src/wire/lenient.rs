//! Lenient field decoders of Verifik's answers: the kit's ([`phone_verify_core::kit::lenient`])
//! and those of Verifik's own shapes (populated references, tokens, `phoneData`).

pub(super) use phone_verify_core::kit::lenient::{
    count, non_empty_string, non_empty_text as text, opt_bool, opt_non_blank_string as opt_string,
    opt_non_blank_text as opt_text, vec,
};
use std::borrow::Cow;
use std::fmt;

use phone_verify_core::kit::lenient::Scalar;
use secrecy::SecretString;
use serde::de::{Error as _, IgnoredAny};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A value parsed from text (the wire enums); `None` for `null` and `""`.
pub(super) fn opt_parsed<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr<Err = std::convert::Infallible>,
{
    Ok(opt_text(d)?.map(|s| {
        s.parse()
            .unwrap_or_else(|never: std::convert::Infallible| match never {})
    }))
}

/// A reference: an id (string or number) or a populated object with an `_id`.
pub(super) fn opt_ref<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Object(map) => match map.get("_id") {
            Some(id) => Ok(scalar_to_string(id)),
            None => Err(D::Error::custom("expected an id or an object with an _id")),
        },
        other => match scalar_to_string(&other) {
            Some(id) => Ok(Some(id)),
            None if matches!(other, Value::String(_)) => Ok(None),
            None => Err(D::Error::custom("expected an id")),
        },
    }
}

/// A non-empty string held as a secret; `None` for `null` and `""`.
pub(super) fn opt_secret<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<SecretString>, D::Error> {
    // Read as a `Scalar`: no `Value` holds a copy of the token on the way.
    match Scalar::deserialize(d)? {
        Scalar::Null => Ok(None),
        Scalar::Str(s) => Ok(non_blank(Scalar::Str(s)).map(|t| SecretString::from(t.into_owned()))),
        _ => Err(D::Error::custom("expected a token string")),
    }
}

/// A non-empty token string held as a secret.
pub(super) fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    opt_secret(d)?.ok_or_else(|| D::Error::custom("expected a non-empty token"))
}

/// An RFC 3339 date; `None` for `null` and `""`.
pub(super) fn opt_date<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    match opt_text(d)? {
        None => Ok(None),
        Some(s) => parse_date(&s)
            .map(Some)
            .ok_or_else(|| D::Error::custom("expected an ISO-8601 date")),
    }
}

/// An RFC 3339 date. Verifik's own form, `2024-12-02T17:15:35.000Z`, is read directly; any
/// other text goes through `time`'s RFC 3339 parser, which decides alone what it accepts.
pub(super) fn parse_date(text: &str) -> Option<OffsetDateTime> {
    utc_millis_date(text).or_else(|| OffsetDateTime::parse(text, &Rfc3339).ok())
}

/// `YYYY-MM-DDTHH:MM:SS[.f…]Z` (1 to 9 fraction digits) as a UTC date, when it is a valid
/// one; `None` for anything else (left to `time`).
fn utc_millis_date(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    let hour = u8::try_from(num(11..13)?).ok()?;
    let minute = u8::try_from(num(14..16)?).ok()?;
    let second = u8::try_from(num(17..19)?).ok()?;
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20..20 + digits.len())?;
            n * 10u32.pow(9 - u32::try_from(digits.len()).ok()?)
        }
        _ => return None,
    };
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let at = time::Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    Some(time::PrimitiveDateTime::new(date, at).assume_utc())
}

/// `phoneData.title`; `phoneData` may be `{}` or `null`.
pub(super) fn title<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Object(map) => match map.get("title") {
            None | Some(Value::Null) => Ok(None),
            Some(title) => scalar_to_string(title)
                .map(Some)
                .ok_or_else(|| D::Error::custom("expected a title string")),
        },
        _ => Err(D::Error::custom("expected an object")),
    }
}

/// A string, number or boolean as text; `None` for `null`, blank strings, arrays and objects.
pub(crate) fn scalar_to_string(value: &Value) -> Option<String> {
    phone_verify_core::kit::lenient::scalar_to_string(value).filter(|s| !s.is_empty())
}

// ---- borrowed decoders (the verifier's slim answers) ---------------------------------------
//
// The same rules as the owned decoders above, on the kit's borrowed ones: the verifier reads a
// few fields of an answer and borrows them from the body.

/// Any value: a scalar as non-blank text, `None` for anything else. Borrowed
/// [`scalar_to_string`] (request ids).
#[derive(Debug, Default)]
pub(crate) struct AnyText<'a>(pub(crate) Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for AnyText<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(non_blank(Scalar::deserialize(d)?)))
    }
}

/// A scalar's text, `None` when blank (or not a scalar).
fn non_blank(scalar: Scalar<'_>) -> Option<Cow<'_, str>> {
    scalar.into_text().filter(|t| !t.is_empty())
}

/// Borrowed [`opt_ref`]: an id (string or number) or a populated object with an `_id`.
pub(crate) fn opt_ref_text<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    d.deserialize_any(RefVisitor)
}

struct RefVisitor;

impl<'de> serde::de::Visitor<'de> for RefVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id or an object with an _id")
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(non_blank(Scalar::Str(Cow::Borrowed(v))))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(non_blank(Scalar::Str(Cow::Borrowed(v))).map(|t| Cow::Owned(t.into_owned())))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(non_blank(Scalar::Number(v.into())))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(non_blank(Scalar::Number(v.into())))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // serde_json's `Value` holds a non-finite float as `null`.
        Ok(serde_json::Number::from_f64(v).and_then(|n| non_blank(Scalar::Number(n))))
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(non_blank(Scalar::Bool(v)))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Err(A::Error::custom("expected an id"))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // `_id` as `scalar_to_string` reads it: anything but a non-blank scalar is no id. A
        // repeated `_id` keeps the last one, as a JSON object does.
        let mut id = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "_id" {
                id = Some(map.next_value::<AnyText<'de>>()?.0);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        id.ok_or_else(|| A::Error::custom("expected an id or an object with an _id"))
    }
}

/// `success`: whether it is exactly `false` (anything else, including a missing field, is not).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FalseFlag(pub(crate) bool);

impl<'de> Deserialize<'de> for FalseFlag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FlagVisitor;
        impl<'de> serde::de::Visitor<'de> for FlagVisitor {
            type Value = FalseFlag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<FalseFlag, E> {
                Ok(FalseFlag(!v))
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<FalseFlag, E> {
                Ok(FalseFlag(false))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<FalseFlag, E> {
                Ok(FalseFlag(false))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<FalseFlag, E> {
                Ok(FalseFlag(false))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<FalseFlag, E> {
                Ok(FalseFlag(false))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<FalseFlag, E> {
                Ok(FalseFlag(false))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<FalseFlag, E> {
                Ok(FalseFlag(false))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<FalseFlag, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> Result<FalseFlag, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FalseFlag(false))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<FalseFlag, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(FalseFlag(false))
            }
        }
        d.deserialize_any(FlagVisitor)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn tokens_are_non_blank_strings_trimmed() {
        use secrecy::ExposeSecret as _;

        let read = |json: &str| {
            opt_secret(&mut serde_json::Deserializer::from_str(json))
                .map(|t| t.map(|t| t.expose_secret().to_owned()))
                .map_err(|e| e.to_string())
        };
        assert_eq!(read(r#"" tok\u0065n ""#), Ok(Some("token".to_owned())));
        assert_eq!(read(r#""eyJ.a.b""#), Ok(Some("eyJ.a.b".to_owned())));
        for none in ["null", r#""""#, r#"" \t ""#] {
            assert_eq!(read(none), Ok(None), "{none}");
        }
        for bad in ["12", "true", "[\"t\"]", "{\"t\": 1}"] {
            assert_eq!(
                read(bad),
                Err("expected a token string".to_owned()),
                "{bad}"
            );
        }
    }

    /// Reads `value` with the borrowed decoders and with the owned ones.
    #[derive(Deserialize)]
    struct Both<'a> {
        #[serde(default, borrow, deserialize_with = "opt_text")]
        text: Option<Cow<'a, str>>,
        #[serde(default, borrow, deserialize_with = "opt_ref_text")]
        reference: Option<Cow<'a, str>>,
        #[serde(default, borrow)]
        any: AnyText<'a>,
        #[serde(default)]
        flag: FalseFlag,
    }

    #[derive(Deserialize)]
    struct Owned {
        #[serde(default, deserialize_with = "opt_string")]
        text: Option<String>,
        #[serde(default, deserialize_with = "opt_ref")]
        reference: Option<String>,
    }

    /// Decodes `value` in every field with both sets of decoders, from text (borrowing
    /// where it can) and from a `Value`, and checks that they agree.
    fn agree(value: &Value) {
        let body = json!({"text": value, "reference": value, "any": value, "flag": value});
        let text = body.to_string();
        let owned = serde_json::from_str::<Owned>(&text);
        let borrowed = serde_json::from_str::<Both<'_>>(&text);
        let from_value = Both::deserialize(body.clone());
        let text_only = |key: &str| {
            let one = json!({ key: value }).to_string();
            (
                serde_json::from_str::<Owned>(&one).map(|o| (o.text, o.reference)),
                serde_json::from_str::<Both<'_>>(&one).map(|b| {
                    (
                        b.text.map(Cow::into_owned),
                        b.reference.map(Cow::into_owned),
                    )
                }),
            )
        };
        let (owned_text, borrowed_text) = text_only("text");
        assert_eq!(owned_text.is_ok(), borrowed_text.is_ok(), "text {value}");
        if let (Ok(o), Ok(b)) = (owned_text, borrowed_text) {
            assert_eq!(o.0, b.0, "text {value}");
        }
        let (owned_ref, borrowed_ref) = text_only("reference");
        assert_eq!(owned_ref.is_ok(), borrowed_ref.is_ok(), "reference {value}");
        if let (Ok(o), Ok(b)) = (owned_ref, borrowed_ref) {
            assert_eq!(o.1, b.1, "reference {value}");
        }
        assert_eq!(owned.is_ok(), borrowed.is_ok(), "{value}");
        assert_eq!(borrowed.is_ok(), from_value.is_ok(), "{value}");
        for both in [borrowed, from_value].into_iter().flatten() {
            let expected_any = json!({ "any": value })["any"].clone();
            assert_eq!(
                both.any.0.map(Cow::into_owned),
                scalar_to_string(&expected_any),
                "any {value}"
            );
            assert_eq!(both.flag.0, *value == Value::Bool(false), "flag {value}");
        }
    }

    #[test]
    fn borrowed_decoders_read_as_the_owned_ones() {
        for value in [
            json!(null),
            json!(""),
            json!("  "),
            json!(" +507 "),
            json!("62647737"),
            json!("tab\there\n"),
            json!("quote \" and \\ escaped"),
            json!("ünïcödé"),
            json!(0),
            json!(62_647_737),
            json!(-12),
            json!(u64::MAX),
            json!(1.5),
            json!(1e300),
            json!(true),
            json!(false),
            json!([]),
            json!(["x"]),
            json!({}),
            json!({"_id": "c1", "name": "Acme"}),
            json!({"_id": 7}),
            json!({"_id": null}),
            json!({"_id": "  "}),
            json!({"_id": ["x"]}),
            json!({"_id": {"_id": "nested"}}),
            json!({"name": "no id"}),
        ] {
            agree(&value);
        }
    }

    #[test]
    fn verifik_dates_are_read_as_time_reads_them() {
        for text in [
            "2024-12-02T17:15:35.000Z",
            "2024-12-02T17:15:35Z",
            "2024-12-02T17:15:35.1Z",
            "2024-12-02T17:15:35.123456789Z",
            "2024-12-02T17:15:35.1234567891Z",
            "2024-02-29T00:00:00.000Z",
            "2023-02-29T00:00:00.000Z",
            "2024-12-31T23:59:60.000Z",
            "2024-12-02T24:00:00.000Z",
            "2024-13-02T17:15:35.000Z",
            "0000-01-01T00:00:00.000Z",
            "2024-12-02t17:15:35.000z",
            "2024-12-02T17:15:35.000+02:00",
            "2024-12-02T17:15:35.Z",
            "2024-12-02T17:15:35.00aZ",
            "+024-12-02T17:15:35.000Z",
            "2024-12-02",
            "",
            "tomorrow",
        ] {
            assert_eq!(
                parse_date(text),
                OffsetDateTime::parse(text, &Rfc3339).ok(),
                "{text}"
            );
        }
    }

    /// `success` is false only when it is exactly `false`; any other value, arrays and
    /// objects included, is read whole (so the rest of the answer can be read after it).
    #[test]
    fn only_false_is_a_false_flag() {
        for (json, flag) in [
            ("false", true),
            ("true", false),
            ("null", false),
            ("0", false),
            ("-1", false),
            ("0.0", false),
            ("\"false\"", false),
            ("[false, [1]]", false),
            (r#"{"success": false, "a": {"b": []}}"#, false),
        ] {
            let read: FalseFlag = serde_json::from_str(json).unwrap();
            assert_eq!(read.0, flag, "{json}");
            let wrapped: Vec<FalseFlag> =
                serde_json::from_str(&format!("[{json}, false]")).unwrap();
            assert_eq!((wrapped[0].0, wrapped[1].0), (flag, true), "{json}");
        }
    }

    /// The direct reader reads Verifik's own form itself (every fraction length it takes,
    /// none included), as `time` reads it, and gives up, leaving the text to `time`, on
    /// anything else: another separator at any of its places, another length of fraction, an
    /// offset, a date that does not exist.
    #[test]
    fn verifik_dates_are_read_directly() {
        let own = "2024-12-02T17:15:35.000Z";
        for text in [
            own,
            "2024-12-02T17:15:35Z",
            "2024-12-02T17:15:35.1Z",
            "2024-12-02T17:15:35.98Z",
            "2024-12-02T17:15:35.123456789Z",
            "0000-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "2024-02-29T00:00:00.000Z",
        ] {
            let direct = utc_millis_date(text);
            assert!(direct.is_some(), "{text}");
            assert_eq!(direct, OffsetDateTime::parse(text, &Rfc3339).ok(), "{text}");
        }
        assert_eq!(
            utc_millis_date("2024-12-02T17:15:35.250Z").map(OffsetDateTime::nanosecond),
            Some(250_000_000)
        );
        let mut others = vec![
            "2024-12-02T17:15:35.Z".to_owned(),
            "2024-12-02T17:15:35.1234567891Z".to_owned(),
            "2024-12-02T17:15:35+00:00".to_owned(),
            "2024-12-02T17:15:35.000z".to_owned(),
            "2023-02-29T00:00:00.000Z".to_owned(),
            "2024-12-02T17:15:3Z".to_owned(),
        ];
        for at in [4, 7, 10, 13, 16] {
            for separator in ['/', ' ', '_', '0'] {
                let mut text = own.to_owned();
                text.replace_range(at..=at, &separator.to_string());
                others.push(text);
            }
        }
        for text in &others {
            assert_eq!(utc_millis_date(text), None, "{text}");
        }
    }

    proptest! {
        #[test]
        fn any_date_shaped_text_is_read_as_time_reads_it(
            year in 0u32..10_000,
            month in 0u32..14,
            day in 0u32..33,
            hour in 0u32..26,
            minute in 0u32..61,
            second in 0u32..62,
            fraction in proptest::option::of("[0-9]{1,10}"),
            zone in prop_oneof![Just("Z"), Just("z"), Just("+00:00"), Just("-05:30")],
        ) {
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            let text = format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}"
            );
            prop_assert_eq!(parse_date(&text), OffsetDateTime::parse(&text, &Rfc3339).ok(), "{}", text);
        }

        #[test]
        fn any_text_is_read_as_time_reads_it(text in "[0-9TZ:.+-]{0,32}") {
            prop_assert_eq!(parse_date(&text), OffsetDateTime::parse(&text, &Rfc3339).ok());
        }

        #[test]
        fn any_scalar_is_read_as_the_owned_decoders_read_it(
            text in ".{0,12}",
            number in any::<i64>(),
            float in any::<f64>().prop_filter("finite", |f| f.is_finite()),
        ) {
            agree(&json!(text));
            agree(&json!(format!(" {text} ")));
            agree(&json!(number));
            agree(&json!(float));
            agree(&json!({"_id": text}));
        }
    }
}
