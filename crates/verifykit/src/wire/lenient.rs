//! VerifyKit's field decoders, on top of the kit's
//! [`lenient`](phone_verify_core::kit::lenient) ones: its session ids, secrets and dates.

use phone_verify_core::SessionId;
use phone_verify_core::kit::lenient::{Scalar, opt_non_blank_text, trim};
pub(super) use phone_verify_core::kit::lenient::{
    count, non_empty_string, opt_bool, opt_string, opt_u64, string, string_vec, vec,
};
use phone_verify_core::secrecy::SecretString;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// A scalar as text; `null` as the empty string.
pub(super) fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
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

/// VerifyKit's `Y-m-d H:i:s` (read as UTC) or RFC 3339; `null` or `""` as `None`.
pub(super) fn opt_date<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    match opt_non_blank_text(d)? {
        None => Ok(None),
        Some(s) => parse_date(&s)
            .map(Some)
            .ok_or_else(|| D::Error::custom("expected a date such as \"2019-11-07 07:35:28\"")),
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

    #[test]
    fn opt_date_is_the_value_based_one() {
        agree(|d| opt_date(d), |d| value_opt_date(d));
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

    /// `opt_date` as it was: the kit's `opt_string`, then `time`'s parsers only.
    fn value_opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
        match kit::opt_string(d)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => time_parse_date(&s)
                .map(Some)
                .ok_or_else(|| D::Error::custom("expected a date such as \"2019-11-07 07:35:28\"")),
        }
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
