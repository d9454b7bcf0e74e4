//! VerifyKit's field decoders, on top of the kit's
//! [`lenient`](phone_verify_core::kit::lenient) ones.

use phone_verify_core::SessionId;
pub(super) use phone_verify_core::kit::lenient::{
    count, non_empty_string, opt_bool, opt_string, opt_u64, string, string_vec, vec,
};
use phone_verify_core::secrecy::SecretString;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// A scalar as text; `null` as the empty string.
pub(super) fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

/// A secret string.
pub(super) fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Ok(SecretString::from(s)),
        _ => Err(D::Error::custom("expected a non-empty string")),
    }
}

/// A session id; `null` or `""` as `None`.
pub(super) fn opt_session<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SessionId>, D::Error> {
    match opt_string(d)? {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => SessionId::new(&s)
            .map(Some)
            .map_err(|_| D::Error::custom("expected a session id")),
    }
}

/// VerifyKit's `Y-m-d H:i:s` (read as UTC) or RFC 3339; `null` or `""` as `None`.
pub(super) fn opt_date<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    match opt_string(d)? {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => parse_date(&s)
            .map(Some)
            .ok_or_else(|| D::Error::custom("expected a date such as \"2019-11-07 07:35:28\"")),
    }
}

/// Parses `Y-m-d H:i:s` as UTC, `Y-m-dTH:i:s` as UTC, or RFC 3339.
pub(super) fn parse_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let plain = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let with_t = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s, plain)
        .or_else(|_| PrimitiveDateTime::parse(s, with_t))
        .map(PrimitiveDateTime::assume_utc)
        .or_else(|_| OffsetDateTime::parse(s, &Rfc3339))
        .ok()
}
