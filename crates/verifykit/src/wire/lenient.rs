//! VerifyKit's field decoders, on top of the kit's
//! [`lenient`](phone_verify_core::kit::lenient) ones: its session ids, secrets and dates.

use phone_verify_core::SessionId;
use phone_verify_core::kit::lenient::{Scalar, opt_non_blank_text, trim};
pub(super) use phone_verify_core::kit::lenient::{
    non_empty_string, opt_bool, opt_string, string, string_vec, vec,
};
use phone_verify_core::secrecy::SecretString;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

// Informational fields: what a handle or an outcome does not depend on. A value of an
// unexpected type there counts as absent (as `null` does), so that it never throws away an
// answer, such as a started verification's reference, that the fields which matter make
// usable.

/// An informational scalar as text; `null`, an array or an object as `None`.
pub(super) fn info_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Scalar::deserialize(d)?.into_string())
}

/// [`info_string`], absent as the empty string.
pub(super) fn info_string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(info_string(d)?.unwrap_or_default())
}

/// An informational non-negative integer, or a string of one (as the kit's `opt_u64` reads
/// them); anything else (`6.0`, `-1`, `"six"`, `true`, an array) as `None`.
pub(super) fn info_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Scalar::deserialize(d)? {
        Scalar::Number(n) => n.as_u64(),
        Scalar::Str(s) => trim(&s).parse().ok(),
        Scalar::Null | Scalar::Bool(_) | Scalar::Other => None,
    })
}

/// An informational list of JSON values (of no documented shape); anything but a list as
/// empty.
pub(super) fn info_values<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items,
        _ => Vec::new(),
    })
}

/// An informational count, as [`info_u64`] reads it; absent as 0.
pub(super) fn info_count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(info_u64(d)?.unwrap_or_default())
}

/// An informational date: VerifyKit's `Y-m-d H:i:s` (read as UTC) or RFC 3339, as
/// [`parse_date`] reads it; anything else (`null`, `""`, text that is no date, a number) as
/// `None`.
pub(super) fn info_date<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    Ok(Scalar::deserialize(d)?
        .into_text()
        .and_then(|s| parse_date(&s)))
}

/// An informational session id, as [`opt_session`] reads it; one that is not a session id as
/// `None`.
pub(super) fn info_session<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SessionId>, D::Error> {
    Ok(Scalar::deserialize(d)?
        .into_text()
        .filter(|s| !s.is_empty())
        .and_then(|s| SessionId::new(&s).ok()))
}

/// A secret string.
pub(super) fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    // Read as a `Scalar`: no `Value` holds a copy of the secret on the way.
    match Scalar::deserialize(d)? {
        Scalar::Str(s) if !trim(&s).is_empty() => Ok(SecretString::from(s.into_owned())),
        _ => Err(D::Error::custom("expected a non-empty string")),
    }
}

/// A session id; `null` or `""` as `None`.
pub(super) fn opt_session<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SessionId>, D::Error> {
    match opt_non_blank_text(d)? {
        None => Ok(None),
        Some(s) => SessionId::new(&s)
            .map(Some)
            .map_err(|_| D::Error::custom("expected a session id")),
    }
}

/// Parses `Y-m-d H:i:s` as UTC, `Y-m-dTH:i:s` as UTC, or RFC 3339.
pub(super) fn parse_date(s: &str) -> Option<OffsetDateTime> {
    parse_plain_date(trim(s)).or_else(|| time_parse_date(s))
}

/// [`parse_date`] through `time`'s parsers only (every form it accepts).
fn time_parse_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let plain = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let with_t = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s, plain)
        .or_else(|_| PrimitiveDateTime::parse(s, with_t))
        .map(PrimitiveDateTime::assume_utc)
        .or_else(|_| OffsetDateTime::parse(s, &Rfc3339))
        .ok()
}

/// The usual `Y-m-d H:i:s` (or `Y-m-dTH:i:s`), read as UTC without the `time` parser: exactly
/// 19 bytes, every field its digits. `None` for anything else, which [`parse_date`] then reads
/// with `time` (so a date this rejects, such as `2019-02-30 00:00:00`, is still judged there).
fn parse_plain_date(s: &str) -> Option<OffsetDateTime> {
    let b: &[u8; 19] = s.as_bytes().try_into().ok()?;
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b' ' | b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u16> {
        b[range].iter().try_fold(0u16, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u16::from(c - b'0'))
        })
    };
    let year = i32::from(number(0..4)?);
    let month = Month::try_from(u8::try_from(number(5..7)?).ok()?).ok()?;
    let day = u8::try_from(number(8..10)?).ok()?;
    let hour = u8::try_from(number(11..13)?).ok()?;
    let minute = u8::try_from(number(14..16)?).ok()?;
    let second = u8::try_from(number(17..19)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use phone_verify_core::kit::lenient as kit;

    use super::*;

    /// Session ids and dates as they appear in a body, and one value of each other shape (the
    /// kit's tests hold its text decoders, which these build on, to every shape).
    const VALUES: &[&str] = &[
        "null",
        "\"\"",
        "\"  \"",
        "12",
        "true",
        "[1, \"a\"]",
        "{\"a\": [null]}",
        "\"S1d2\"",
        "\" S1d2 \"",
        "\"S1\\u0064\"",
        "\"bad session\"",
        "\"2019-11-07 07:35:28\"",
        "\" 2019-11-07T07:35:28 \"",
        "\"2019-11-07T07:35:28+03:00\"",
        "\"2019-11-07T07:35:28Z\"",
        "\"2019-02-30 07:35:28\"",
        "\"2019-11-07 24:00:00\"",
        "\"2019-11-07 23:59:60\"",
        "\"2019-13-07 07:35:28\"",
        "\"2019-00-07 07:35:28\"",
        "\"2019-11-00 07:35:28\"",
        "\"0000-01-01 00:00:00\"",
        "\"9999-12-31 23:59:59\"",
        "\"2024-02-29 12:00:00\"",
        "\"2023-02-29 12:00:00\"",
        "\"2019-11-07 7:35:28\"",
        "\"2019-11-07 07:35:2x\"",
        "\"2019-11-07x07:35:28\"",
        "\"+2019-11-07 07:35:28\"",
        "\"2019-11-07 07:35:28.5\"",
    ];

    /// A decoder of one value read from text.
    type Decoder<T> = fn(
        &mut serde_json::Deserializer<serde_json::de::StrRead<'static>>,
    ) -> serde_json::Result<T>;

    /// Checks that `ours` reads every one of [`VALUES`] as `reference` does, errors included.
    fn agree<T: PartialEq + std::fmt::Debug>(ours: Decoder<T>, reference: Decoder<T>) {
        for value in VALUES {
            let read = |decoder: Decoder<T>| {
                let mut d = serde_json::Deserializer::from_str(value);
                decoder(&mut d)
                    .and_then(|read| d.end().map(|()| read))
                    .map_err(|e| e.to_string())
            };
            assert_eq!(read(ours), read(reference), "{value}");
        }
    }

    #[test]
    fn opt_session_is_the_value_based_one() {
        agree(|d| opt_session(d), |d| value_opt_session(d));
    }

    /// The informational decoders read what the strict ones read, and a value the strict ones
    /// refuse as absent, never as an error.
    #[test]
    fn informational_fields_are_the_strict_ones_with_refusals_absent() {
        fn read(value: &str) -> serde_json::Deserializer<serde_json::de::StrRead<'_>> {
            serde_json::Deserializer::from_str(value)
        }
        for value in VALUES.iter().copied().chain([
            "6",
            "\"6\"",
            "\" 6 \"",
            "6.0",
            "300.5",
            "-1",
            "\"-1\"",
            "\"six\"",
            "false",
            "[6]",
            "{\"n\": 6}",
            "18446744073709551615",
            "18446744073709551616",
            "1e3",
        ]) {
            let strict = kit::opt_u64(&mut read(value)).ok().flatten();
            assert_eq!(info_u64(&mut read(value)).unwrap(), strict, "{value}");
            let count = info_count(&mut read(value)).unwrap();
            assert_eq!(count, strict.unwrap_or_default(), "{value}");
            let strict = kit::opt_string(&mut read(value)).ok().flatten();
            assert_eq!(info_string(&mut read(value)).unwrap(), strict, "{value}");
            let text = info_string_or_empty(&mut read(value)).unwrap();
            assert_eq!(text, strict.unwrap_or_default(), "{value}");
        }
        assert_eq!(
            info_values(&mut read("[1, \"a\", null]")).unwrap(),
            [
                serde_json::json!(1),
                serde_json::json!("a"),
                serde_json::Value::Null
            ]
        );
        for other in ["null", "\"a\"", "{\"a\": [1]}", "7"] {
            assert!(info_values(&mut read(other)).unwrap().is_empty(), "{other}");
        }
    }

    #[test]
    fn info_date_is_the_value_based_one() {
        agree(|d| info_date(d), |d| value_info_date(d));
    }

    #[test]
    fn info_session_is_the_value_based_one() {
        agree(|d| info_session(d), |d| value_info_session(d));
    }

    /// `info_session`: the strict `opt_session`, as it was, with its errors as `None`.
    fn value_info_session<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SessionId>, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(value_opt_session(&value).ok().flatten())
    }

    /// `opt_session` as it was, through the kit's `opt_string`.
    fn value_opt_session<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SessionId>, D::Error> {
        match kit::opt_string(d)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => SessionId::new(&s)
                .map(Some)
                .map_err(|_| D::Error::custom("expected a session id")),
        }
    }

    #[test]
    fn secrets_are_non_blank_strings_kept_as_sent() {
        use phone_verify_core::secrecy::ExposeSecret as _;

        let read = |json: &str| {
            secret(&mut serde_json::Deserializer::from_str(json))
                .map(|t| t.expose_secret().to_owned())
                .map_err(|e| e.to_string())
        };
        assert_eq!(read(r#"" tok\u0065n ""#), Ok(" token ".to_owned()));
        assert_eq!(read(r#""abc""#), Ok("abc".to_owned()));
        for bad in ["null", r#""""#, r#"" \n ""#, "12", "true", "[\"t\"]", "{}"] {
            assert_eq!(
                read(bad),
                Err("expected a non-empty string".to_owned()),
                "{bad}"
            );
        }
    }

    /// `info_date` through a `Value`: the kit's text of a scalar, then `time`'s parsers only.
    fn value_info_date<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(kit::scalar_to_string(&value)
            .filter(|s| !s.is_empty())
            .and_then(|s| time_parse_date(&s)))
    }

    #[test]
    fn dates_with_another_separator_parse_as_time_parses_them() {
        let plain = "2019-11-07 07:35:28";
        let mut refused = 0;
        for at in [4, 7, 10, 13, 16] {
            for separator in ['-', ':', ' ', 'T', '/', '.', 'x', '0', '+'] {
                let mut s = plain.to_owned();
                s.replace_range(at..=at, separator.encode_utf8(&mut [0; 4]));
                assert_eq!(parse_date(&s), time_parse_date(&s), "{s}");
                refused += usize::from(time_parse_date(&s).is_none());
            }
        }
        // Most of them are no date at all, which the fast path must not read as one.
        assert!(refused >= 35, "{refused}");
    }

    /// The direct reader reads VerifyKit's usual forms itself, as `time` reads them, and
    /// gives up, leaving the text to `time`, on anything else: another separator at any of
    /// its places, another length, an offset, a date that does not exist.
    #[test]
    fn plain_dates_are_read_directly() {
        for s in [
            "2019-11-07 07:35:28",
            "2019-11-07T07:35:28",
            "0000-01-01 00:00:00",
            "9999-12-31 23:59:59",
            "2024-02-29 12:00:00",
        ] {
            let direct = parse_plain_date(s);
            assert!(direct.is_some(), "{s}");
            assert_eq!(direct, time_parse_date(s), "{s}");
        }
        let plain = "2019-11-07 07:35:28";
        let mut others = vec![
            "2019-11-07 07:35:2".to_owned(),
            "2019-11-07 07:35:28Z".to_owned(),
            "2019-11-07T07:35:28+03:00".to_owned(),
            "2019-02-30 00:00:00".to_owned(),
            "2019-11-07 24:00:00".to_owned(),
        ];
        for at in [4, 7, 10, 13, 16] {
            for separator in ['/', '.', '_', '0'] {
                let mut s = plain.to_owned();
                s.replace_range(at..=at, separator.encode_utf8(&mut [0; 4]));
                others.push(s);
            }
        }
        for s in &others {
            assert_eq!(parse_plain_date(s), None, "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn plain_dates_parse_as_time_parses_them(
            year in 0u16..=9999, month in 0u8..=13, day in 0u8..=32,
            hour in 0u8..=25, minute in 0u8..=61, second in 0u8..=61, t in proptest::bool::ANY,
        ) {
            let sep = if t { 'T' } else { ' ' };
            let s = format!("{year:04}-{month:02}-{day:02}{sep}{hour:02}:{minute:02}:{second:02}");
            proptest::prop_assert_eq!(parse_date(&s), time_parse_date(&s), "{}", s);
        }
    }
}
