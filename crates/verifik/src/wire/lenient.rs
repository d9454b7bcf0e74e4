//! Lenient field decoders of Verifik's answers: the kit's ([`phone_verify_core::kit::lenient`])
//! and those of Verifik's own shapes (populated references, tokens, `phoneData`).

pub(super) use phone_verify_core::kit::lenient::{
    count, non_empty_string, opt_bool, opt_non_blank_string as opt_string, vec,
};
use secrecy::SecretString;
use serde::de::Error as _;
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
    Ok(opt_string(d)?.map(|s| {
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
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(SecretString::from(s.trim().to_owned()))),
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
    match opt_string(d)? {
        None => Ok(None),
        Some(s) => OffsetDateTime::parse(&s, &Rfc3339)
            .map(Some)
            .map_err(|_| D::Error::custom("expected an ISO-8601 date")),
    }
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
