//! The handle's JSON form, version 1: written from the handle's own fields, without copies, and
//! read in one pass, without a `serde_json::Value` of the whole document first.
//!
//! `format` and `version` come first in what [`Verification::to_json`] writes, and are checked
//! as soon as they are read: a newer handle is refused as newer, not for a field this version
//! does not know. Every field may appear once; an unknown one (of the handle or of `reverse`)
//! is refused once the handle is read, after `format` and `version` were checked. A key
//! repeated inside `extras` keeps its last value, as a JSON object read into a map does.
//!
//! A format that is not human-readable ([`Serializer::is_human_readable`]: postcard, bincode,
//! MessagePack, CBOR) gets the same JSON as one string: postcard and bincode write a struct
//! without its field names and cannot read `extras`' JSON values, so the handle's own form would
//! not read back there. A reader takes either form where the format tells them apart (a
//! human-readable one, and serde's buffer for `#[serde(flatten)]` and untagged enums, which says
//! it is human-readable whatever the format wrote), and the string in any other.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::ser;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time::OffsetDateTime;

use super::{HANDLE_FORMAT, HANDLE_VERSION, ReverseFlow, Verification};
use crate::channel::Channel;
use crate::extras::Extras;
use crate::phone::PhoneNumber;
use crate::provider::ProviderId;

/// The fields of version 1, in the order they are written.
const FIELDS: &[&str] = &[
    "format",
    "version",
    "provider",
    "reference",
    "channel",
    "phone",
    "created_at",
    "expires_at",
    "reverse",
    "extras",
];

/// What [`Verification`] serializes as: its fields borrowed.
#[derive(Serialize)]
struct Written<'a> {
    format: &'static str,
    version: u32,
    provider: &'a ProviderId,
    reference: &'a str,
    channel: &'a Channel,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a PhoneNumber>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    expires_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reverse: Option<&'a ReverseFlow>,
    #[serde(skip_serializing_if = "no_extras")]
    extras: &'a Extras,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde hands the field by reference
fn no_extras(extras: &&Extras) -> bool {
    extras.is_empty()
}

impl Serialize for Verification {
    /// The handle's JSON form: its object in a human-readable format, the JSON text as a
    /// string in any other. A handle that [`from_json`](Verification::from_json) would
    /// refuse (an empty `reference`, a blank channel name) is refused here already: the process
    /// that started the verification learns it, not the one that checks the handle later.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !serializer.is_human_readable() {
            let json = self
                .to_json()
                .map_err(|e| ser::Error::custom(e.message()))?;
            return serializer.serialize_str(&json);
        }
        check_reference(&self.reference).map_err(ser::Error::custom)?;
        self.channel.ensure_named().map_err(ser::Error::custom)?;
        check_nesting(&self.extras).map_err(ser::Error::custom)?;
        Written {
            format: HANDLE_FORMAT,
            version: HANDLE_VERSION,
            provider: &self.provider,
            reference: &self.reference,
            channel: &self.channel,
            phone: self.phone.as_ref(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            reverse: self.reverse.as_ref(),
            extras: &self.extras,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Verification {
    /// The handle's JSON form: its object, or its JSON text as a string, as [`Serialize`]
    /// writes it in a format that is not human-readable. A human-readable format may hold
    /// either; any other is asked for the string.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(HandleVisitor)
        } else {
            deserializer.deserialize_str(HandleVisitor)
        }
    }
}

/// A key of the handle's object.
enum Key {
    Format,
    Version,
    Provider,
    Reference,
    Channel,
    Phone,
    CreatedAt,
    ExpiresAt,
    Reverse,
    Extras,
    /// A key version 1 does not have, kept for its error.
    Unknown(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::text::deserialize_str(deserializer, "a field name", |name| {
            Ok::<_, std::convert::Infallible>(match name {
                "format" => Self::Format,
                "version" => Self::Version,
                "provider" => Self::Provider,
                "reference" => Self::Reference,
                "channel" => Self::Channel,
                "phone" => Self::Phone,
                "created_at" => Self::CreatedAt,
                "expires_at" => Self::ExpiresAt,
                "reverse" => Self::Reverse,
                "extras" => Self::Extras,
                other => Self::Unknown(other.to_owned()),
            })
        })
    }
}

/// `format`, which must be [`HANDLE_FORMAT`].
struct Format;

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::text::deserialize_str(deserializer, "the handle format's name", |name| {
            if name == HANDLE_FORMAT {
                Ok(Self)
            } else {
                Err(format_error())
            }
        })
    }
}

fn format_error() -> String {
    format!("`format` must be {HANDLE_FORMAT:?}")
}

/// `phone`: [`PhoneNumber::parse_stored`], which keeps a number that the metadata of the
/// process that wrote the handle knew and this one does not: the code it was sent can still be
/// checked.
struct StoredPhone(PhoneNumber);

impl<'de> Deserialize<'de> for StoredPhone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::text::deserialize_str(
            deserializer,
            "a phone number in E.164 form",
            PhoneNumber::parse_stored,
        )
        .map(Self)
    }
}

/// `created_at`: an RFC 3339 time.
struct Time(OffsetDateTime);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        time::serde::rfc3339::deserialize(deserializer).map(Self)
    }
}

/// `expires_at`: an RFC 3339 time or `null`.
struct OptionalTime(Option<OffsetDateTime>);

impl<'de> Deserialize<'de> for OptionalTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        time::serde::rfc3339::option::deserialize(deserializer).map(Self)
    }
}

/// Stores `value` in `slot`, refusing a field seen twice.
fn once<T, E: de::Error>(slot: &mut Option<T>, field: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}

/// A handle: its object, or its JSON text.
struct HandleVisitor;

impl<'de> Visitor<'de> for HandleVisitor {
    type Value = Verification;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a verification handle (an object or its JSON text)")
    }

    /// The JSON text, read as [`Verification::from_json`] reads it. A string in it is read
    /// again, no deeper than the logarithm of its length: every level escapes the one within.
    fn visit_str<E: de::Error>(self, json: &str) -> Result<Verification, E> {
        Verification::from_json(json).map_err(|e| {
            let message = e.message();
            // Inside `from_json` (a JSON string of the handle's text), it says so once.
            E::custom(message.strip_prefix(super::NOT_A_HANDLE).unwrap_or(message))
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Verification, A::Error> {
        let mut format = None;
        let mut version = None;
        let mut provider = None;
        let mut reference = None;
        let mut channel = None;
        let mut phone = None;
        let mut created_at = None;
        let mut expires_at = None;
        let mut reverse = None;
        let mut extras = None;
        let mut unknown = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Format => once(&mut format, "format", map.next_value::<Format>()?)?,
                Key::Version => {
                    let number = map.next_value::<u64>()?;
                    check_version(number)?;
                    once(&mut version, "version", number)?;
                }
                Key::Provider => once(&mut provider, "provider", map.next_value()?)?,
                Key::Reference => once(&mut reference, "reference", map.next_value::<String>()?)?,
                Key::Channel => once(&mut channel, "channel", map.next_value()?)?,
                Key::Phone => once(
                    &mut phone,
                    "phone",
                    map.next_value::<Option<StoredPhone>>()?,
                )?,
                Key::CreatedAt => once(&mut created_at, "created_at", map.next_value::<Time>()?.0)?,
                Key::ExpiresAt => once(
                    &mut expires_at,
                    "expires_at",
                    map.next_value::<OptionalTime>()?.0,
                )?,
                Key::Reverse => once(
                    &mut reverse,
                    "reverse",
                    map.next_value::<Option<ReverseFlow>>()?,
                )?,
                Key::Extras => once(&mut extras, "extras", map.next_value::<Option<Extras>>()?)?,
                Key::Unknown(name) => {
                    map.next_value::<IgnoredAny>()?;
                    unknown.get_or_insert(name);
                }
            }
        }
        if format.is_none() {
            return Err(de::Error::custom(format_error()));
        }
        if version.is_none() {
            return Err(de::Error::custom("`version` is missing"));
        }
        if let Some(name) = unknown {
            return Err(de::Error::unknown_field(&name, FIELDS));
        }
        let reference = reference.ok_or_else(|| de::Error::missing_field("reference"))?;
        check_reference(&reference).map_err(de::Error::custom)?;
        Ok(Verification {
            provider: provider.ok_or_else(|| de::Error::missing_field("provider"))?,
            reference,
            channel: channel.ok_or_else(|| de::Error::missing_field("channel"))?,
            phone: phone.flatten().map(|stored| stored.0),
            created_at: created_at.ok_or_else(|| de::Error::missing_field("created_at"))?,
            expires_at: expires_at.flatten(),
            reverse: reverse.flatten(),
            extras: extras.flatten().unwrap_or_default(),
        })
    }
}

/// Refuses an empty `reference`, when a handle is written as when it is read: a provider's
/// check has nothing to ask about.
fn check_reference(reference: &str) -> Result<(), &'static str> {
    if reference.is_empty() {
        Err("`reference` is empty")
    } else {
        Ok(())
    }
}

/// The deepest an extra's value may nest arrays and objects and still be read back by
/// `from_json`: serde_json reads at most 128 levels, and the handle's own structure takes the
/// rest (a test pins both sides of the limit).
const MAX_EXTRA_NESTING: usize = 125;

/// Refuses extras `from_json` could not read back: a value nested deeper than
/// [`MAX_EXTRA_NESTING`] arrays and objects. Walked without recursion, and only as deep as the
/// limit, so a value of any depth is judged without exhausting the stack.
fn check_nesting(extras: &Extras) -> Result<(), String> {
    let mut stack: Vec<(&Value, usize)> = extras.iter().map(|(_, value)| (value, 0)).collect();
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if depth == MAX_EXTRA_NESTING {
            return Err(format!(
                "an extra nests arrays and objects deeper than {MAX_EXTRA_NESTING} levels, \
                 which the handle's JSON cannot be read back with"
            ));
        }
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    Ok(())
}

/// Refuses a version other than 1: a newer one as newer.
fn check_version<E: de::Error>(version: u64) -> Result<(), E> {
    match version {
        1 => Ok(()),
        0 => Err(E::custom("handle version 0 does not exist")),
        newer => Err(E::custom(format!(
            "handle version {newer} is newer than this library understands ({HANDLE_VERSION}); \
             upgrade phone-verify"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, json};
    use time::macros::datetime;

    use super::*;
    use crate::error::ErrorKind;

    /// A handle with every field set.
    fn full() -> Verification {
        Verification::new(ProviderId::new_static("verigator"), "user-1", Channel::Sms)
            .with_phone(PhoneNumber::parse("+905321234567").unwrap())
            .with_created_at(datetime!(2026-12-05 03:00:00.123456789 UTC))
            .with_expires_at(datetime!(2026-12-05 03:05:00 UTC))
            .with_reverse(ReverseFlow::new(Some("https://wa.me/1".into()), None))
            .with_extra("service_id", "svc-1")
            .with_extra("attempts", 3)
    }

    /// An extra that `from_json` could not read back (nested deeper than serde_json reads) is
    /// refused when the handle is written, not when another process checks it; one at the
    /// limit is written and read back.
    #[test]
    fn an_extra_nested_too_deep_is_refused_when_written() {
        fn nested(levels: usize) -> Value {
            (0..levels).fold(json!("leaf"), |inner, i| {
                if i % 2 == 0 {
                    json!([inner])
                } else {
                    json!({ "k": inner })
                }
            })
        }
        let at_limit = full().with_extra("answer", nested(MAX_EXTRA_NESTING));
        let text = at_limit.to_json().unwrap();
        assert_eq!(Verification::from_json(&text).unwrap(), at_limit);
        for levels in [MAX_EXTRA_NESTING + 1, 1_000] {
            let deep = full().with_extra("answer", nested(levels));
            let err = deep.to_json().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{levels}: {err}");
            assert!(err.to_string().contains("125 levels"), "{err}");
            assert!(serde_json::to_value(&deep).is_err(), "{levels}");
        }
    }

    /// `handle`'s JSON object, its members in the order `order` gives their written positions.
    fn reordered(handle: &Verification, order: &[usize]) -> String {
        let Value::Object(members) = serde_json::to_value(handle).unwrap() else {
            unreachable!("a handle is an object")
        };
        let written: Vec<(String, Value)> = FIELDS
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), members.get(*name)?.clone())))
            .collect();
        let members: Vec<String> = order
            .iter()
            .filter_map(|at| written.get(*at))
            .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
            .collect();
        format!("{{{}}}", members.join(","))
    }

    fn error_of(json: &str) -> String {
        let error = Verification::from_json(json).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        error.to_string()
    }

    fn object(handle: &Verification) -> Map<String, Value> {
        match serde_json::to_value(handle).unwrap() {
            Value::Object(members) => members,
            _ => unreachable!("a handle is an object"),
        }
    }

    #[test]
    fn writes_format_and_version_first_then_the_fields_in_order() {
        let json = full().to_json().unwrap();
        let positions: Vec<usize> = FIELDS
            .iter()
            .map(|name| json.find(&format!("\"{name}\":")).unwrap())
            .collect();
        assert!(positions.is_sorted(), "{json}");
        assert!(
            json.starts_with(r#"{"format":"phone-verify/verification","version":1,"#),
            "{json}"
        );
        let bare = Verification::new(ProviderId::new_static("acme"), "r", Channel::Sms)
            .with_created_at(datetime!(2026-12-05 03:00:00 UTC));
        assert_eq!(
            bare.to_json().unwrap(),
            r#"{"format":"phone-verify/verification","version":1,"provider":"acme","reference":"r","channel":"sms","created_at":"2026-12-05T03:00:00Z"}"#
        );
    }

    #[test]
    fn reads_the_fields_in_any_order() {
        let handle = full();
        let backwards: Vec<usize> = (0..FIELDS.len()).rev().collect();
        assert_eq!(
            Verification::from_json(&reordered(&handle, &backwards)).unwrap(),
            handle
        );
        // As a store that sorts an object's keys (serde_json's `Map`) gives it back.
        let sorted = serde_json::to_string(&object(&handle)).unwrap();
        assert!(sorted.starts_with(r#"{"channel":"#), "{sorted}");
        assert_eq!(Verification::from_json(&sorted).unwrap(), handle);
    }

    #[test]
    fn reads_null_optional_fields_as_absent() {
        let mut members = object(&full());
        for field in ["phone", "expires_at", "reverse", "extras"] {
            members.insert(field.into(), Value::Null);
        }
        let handle = Verification::from_json(&Value::Object(members.clone()).to_string()).unwrap();
        assert_eq!(
            (handle.phone, handle.expires_at, handle.reverse),
            (None, None, None)
        );
        assert!(handle.extras.is_empty());
        members.remove("extras");
        let handle = Verification::from_json(&Value::Object(members).to_string()).unwrap();
        assert!(handle.extras.is_empty());
    }

    #[test]
    fn refuses_a_blank_channel() {
        // It would read as `Channel::Other("")`, a channel no provider knows.
        for blank in ["", " "] {
            let mut members = object(&full());
            members.insert("channel".into(), json!(blank));
            let error = error_of(&Value::Object(members).to_string());
            assert!(error.contains("channel name cannot be blank"), "{error}");
        }
    }

    #[test]
    fn writes_no_handle_that_would_be_refused_when_read() {
        let provider = ProviderId::new_static("acme");
        let handles = [
            Verification::new(provider.clone(), "", Channel::Sms),
            Verification::new(provider.clone(), "r", Channel::Other(String::new())),
            Verification::new(provider, "r", Channel::Other(" \t".into())),
        ];
        for handle in handles {
            for written in [handle.to_json(), handle.to_json_pretty()] {
                let error = written.unwrap_err();
                assert_eq!(error.kind(), ErrorKind::InvalidInput, "{handle:?}");
                assert!(
                    error.to_string().contains("is empty")
                        || error.to_string().contains("cannot be blank"),
                    "{error}"
                );
            }
            assert!(serde_json::to_value(&handle).is_err(), "{handle:?}");
        }
    }

    #[test]
    fn refuses_an_unknown_field_of_the_reverse_flow() {
        // A misspelt `deeplink` would read as a reverse flow with nothing to show.
        let mut members = object(&full());
        members.insert("reverse".into(), json!({"deeplnk": "https://wa.me/1"}));
        let error = error_of(&Value::Object(members).to_string());
        assert!(error.contains("unknown field `deeplnk`"), "{error}");
        let mut members = object(&full());
        members.insert("reverse".into(), json!({}));
        let handle = Verification::from_json(&Value::Object(members).to_string()).unwrap();
        assert_eq!(handle.reverse, Some(ReverseFlow::default()));
    }

    #[test]
    fn refuses_a_field_given_twice() {
        let json = full().to_json().unwrap();
        let twice = json.replacen(
            r#""reference":"user-1","#,
            r#""reference":"user-1","reference":"user-2","#,
            1,
        );
        assert_ne!(twice, json);
        assert!(error_of(&twice).contains("duplicate field `reference`"));
        let twice = json.replacen(r#""version":1,"#, r#""version":1,"version":1,"#, 1);
        assert!(error_of(&twice).contains("duplicate field `version`"));
    }

    #[test]
    fn a_newer_version_is_refused_as_newer_wherever_it_stands() {
        let mut members = object(&full());
        members.insert("version".into(), json!(2));
        members.insert("a_v2_field".into(), json!({"new": true}));
        // Sorted: the new field and every other come before `version`.
        let sorted = Value::Object(members).to_string();
        assert!(sorted.find("a_v2_field") < sorted.find("version"));
        let error = error_of(&sorted);
        assert!(error.contains("version 2 is newer"), "{error}");
    }

    #[test]
    fn refuses_foreign_versions_formats_and_fields() {
        let cases: [(&str, Value, &str); 8] = [
            ("version", json!(0), "version 0 does not exist"),
            ("version", json!("1"), "invalid type: string \"1\""),
            ("version", json!(1.5), "invalid type: floating point"),
            ("version", json!(-1), "invalid value: integer `-1`"),
            ("format", json!("phone-verify/other"), "`format` must be"),
            (
                "format",
                json!(1),
                "invalid type: integer `1`, expected the handle format",
            ),
            ("surprise", json!(true), "unknown field `surprise`"),
            (
                "phone",
                json!(12),
                "invalid type: integer `12`, expected a phone number",
            ),
        ];
        for (field, value, expected) in cases {
            let mut members = object(&full());
            members.insert(field.into(), value.clone());
            let error = error_of(&Value::Object(members).to_string());
            assert!(error.contains(expected), "{field} = {value}: {error}");
        }
        for field in ["format", "version"] {
            let mut members = object(&full());
            members.remove(field);
            let error = error_of(&Value::Object(members).to_string());
            assert!(error.contains(&format!("`{field}`")), "{field}: {error}");
        }
        for field in ["provider", "reference", "channel", "created_at"] {
            let mut members = object(&full());
            members.remove(field);
            let error = error_of(&Value::Object(members).to_string());
            assert!(
                error.contains(&format!("missing field `{field}`")),
                "{field}: {error}"
            );
        }
        for not_a_handle in ["[]", "null", "1", "true"] {
            let error = error_of(not_a_handle);
            assert!(
                error.contains("expected a verification handle (an object or its JSON text)"),
                "{not_a_handle}: {error}"
            );
        }
        // A string is read as the JSON text, with that text's error.
        let error = error_of(r#""handle""#);
        assert!(
            error.contains("not a verification handle: expected value at line 1 column 1"),
            "{error}"
        );
        for cut in ["{", ""] {
            assert!(error_of(cut).contains("EOF"), "{cut:?}");
        }
    }

    /// A phone this metadata does not know, written by a process whose metadata knew it (a
    /// rolling deploy, a newly opened range), reads as written: the code sent to it can still be
    /// checked. The strict parse, for what users type, still refuses it.
    #[test]
    fn a_stored_phone_this_metadata_does_not_know_reads_as_written() {
        let unknown = "+15550100000";
        assert!(PhoneNumber::parse(unknown).is_err());
        let mut members = object(&full());
        members.insert("phone".into(), json!(unknown));
        let handle = Verification::from_json(&Value::Object(members).to_string()).unwrap();
        let phone = handle.phone.as_ref().unwrap();
        assert_eq!(phone.e164(), unknown);
        assert_eq!(phone.calling_code(), "+1");
        assert_eq!(phone.region(), None);
        assert_eq!(phone.masked(), "+1********00");
        // Written back as it was read, and still refused where a user types it.
        assert!(
            handle
                .to_json()
                .unwrap()
                .contains(r#""phone":"+15550100000""#)
        );
        assert!(PhoneNumber::parse(unknown).is_err());
        assert!(serde_json::from_value::<PhoneNumber>(json!(unknown)).is_err());
        // What is no E.164 number at all is still refused.
        for bad in [
            "+1 555 010 0000",
            "+1555",
            "+80012345678901234",
            "+0155501000",
            "15550100000",
        ] {
            let mut members = object(&full());
            members.insert("phone".into(), json!(bad));
            error_of(&Value::Object(members).to_string());
        }
    }

    /// A format that is not human-readable holds the handle as its JSON text: its own form,
    /// a struct without field names and `extras` of any JSON value, would not read back.
    #[test]
    fn a_binary_format_holds_the_handle_as_its_json() {
        let handle = full();
        let json = handle.to_json().unwrap();
        let bytes = postcard::to_allocvec(&handle).unwrap();
        assert!(bytes.ends_with(json.as_bytes()), "a string of the JSON");
        assert_eq!(
            postcard::from_bytes::<Verification>(&bytes).unwrap(),
            handle
        );
        // Within a value of the application's, and a bare handle.
        let bare = Verification::new(ProviderId::new_static("acme"), "r", Channel::Sms);
        let session = (7_u32, bare.clone(), Some(handle.clone()));
        let bytes = postcard::to_allocvec(&session).unwrap();
        assert_eq!(
            postcard::from_bytes::<(u32, Verification, Option<Verification>)>(&bytes).unwrap(),
            session
        );
        // What the JSON form refuses, written or read, is refused.
        let blank = Verification::new(ProviderId::new_static("acme"), "", Channel::Sms);
        assert!(postcard::to_allocvec(&blank).is_err());
        let foreign = postcard::to_allocvec(r#"{"format":"other"}"#).unwrap();
        assert!(postcard::from_bytes::<Verification>(&foreign).is_err());
        assert!(postcard::from_bytes::<Verification>(&[]).is_err());
        // JSON's form is the object, unchanged.
        assert!(json.starts_with(r#"{"format":"phone-verify/verification","version":1,"#));
    }

    /// A handle as a binary format writes it, its JSON text, where serde buffers a value (a
    /// `#[serde(flatten)]` field, an untagged enum) and reports it human-readable whatever the
    /// format: read from the string, as the binary format's own reader would. Postcard cannot
    /// write a map of unknown length nor read an untagged enum, so JSON stands in for the format.
    #[test]
    fn a_handle_as_its_json_text_reads_back_where_serde_buffers_it() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Row {
            id: u32,
            #[serde(flatten)]
            session: Session,
        }
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Session {
            handle: Verification,
        }
        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Number(u32),
            Handle(Verification),
        }

        let handle = full();
        let text = handle.to_json().unwrap();
        let row = Row {
            id: 7,
            session: Session {
                handle: handle.clone(),
            },
        };
        let as_text = json!({"id": 7, "handle": text}).to_string();
        assert_eq!(serde_json::from_str::<Row>(&as_text).unwrap(), row);
        assert_eq!(
            serde_json::from_value::<Stored>(json!(text)).unwrap(),
            Stored::Handle(handle.clone())
        );
        // Not buffered, and as the object: read as before.
        let session = json!({"handle": text}).to_string();
        assert_eq!(
            serde_json::from_str::<Session>(&session).unwrap(),
            row.session
        );
        let written = serde_json::to_string(&row).unwrap();
        assert!(written.contains(r#""handle":{"format""#), "{written}");
        assert_eq!(serde_json::from_str::<Row>(&written).unwrap(), row);
        assert_eq!(
            serde_json::from_value::<Stored>(serde_json::to_value(&handle).unwrap()).unwrap(),
            Stored::Handle(handle)
        );
        // The text's error is kept, and says "not a verification handle" once.
        let error = serde_json::from_value::<Row>(json!({"id": 7, "handle": "{}"})).unwrap_err();
        assert!(error.to_string().starts_with("`format` must be"), "{error}");
        let nested = Verification::from_json(r#""{}""#).unwrap_err();
        assert!(
            nested
                .message()
                .starts_with("not a verification handle: `format` must be"),
            "{nested}"
        );
    }

    fn channels() -> impl Strategy<Value = Channel> {
        prop_oneof![
            Just(Channel::Sms),
            Just(Channel::WhatsApp),
            Just(Channel::Telegram),
            Just(Channel::Voice),
            Just(Channel::FlashCall),
            Just(Channel::Totp),
            Just(Channel::Email),
            "[a-z]{1,8}".prop_map(|name| name.parse().unwrap()),
        ]
    }

    fn extra_values() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
            proptest::collection::vec(".{0,4}", 0..3).prop_map(Value::from),
        ]
    }

    fn handles() -> impl Strategy<Value = Verification> {
        (
            ("[a-z][a-z0-9_-]{0,10}", ".{1,24}", channels()),
            proptest::option::of(proptest::sample::select(vec![
                "+905321234567",
                "+14155552671",
                "+447911123456",
                "+390612345678",
            ])),
            (0_i64..4_000_000_000, 0_u32..1_000_000_000),
            proptest::option::of(0_i64..4_000_000_000),
            proptest::option::of((
                proptest::option::of(".{0,16}"),
                proptest::option::of(".{0,16}"),
            )),
            proptest::collection::vec(("[a-z_]{1,6}", extra_values()), 0..5),
        )
            .prop_map(
                |(
                    (provider, reference, channel),
                    phone,
                    (secs, nanos),
                    expires,
                    reverse,
                    extras,
                )| {
                    let at = |secs| OffsetDateTime::from_unix_timestamp(secs).unwrap();
                    let mut handle =
                        Verification::new(ProviderId::new(&provider).unwrap(), reference, channel)
                            .with_created_at(at(secs).replace_nanosecond(nanos).unwrap());
                    handle.phone = phone.map(|p| PhoneNumber::parse(p).unwrap());
                    handle.expires_at = expires.map(at);
                    handle.reverse = reverse.map(|(link, qr)| ReverseFlow::new(link, qr));
                    handle.extras = extras.into_iter().collect();
                    handle
                },
            )
    }

    proptest! {
        /// Every handle reads back as itself, its members in any order.
        #[test]
        fn any_handle_reads_back_in_any_order(
            handle in handles(),
            order in Just((0..FIELDS.len()).collect::<Vec<_>>()).prop_shuffle(),
        ) {
            let json = handle.to_json().unwrap();
            prop_assert_eq!(&Verification::from_json(&json).unwrap(), &handle);
            prop_assert_eq!(&Verification::from_json(&reordered(&handle, &order)).unwrap(), &handle);
            prop_assert_eq!(
                &Verification::from_json(&handle.to_json_pretty().unwrap()).unwrap(),
                &handle
            );
        }
    }
}
