//! Verigator's wire types: what the endpoints answer, decoded leniently, and what they are
//! sent.
//!
//! Decoding accepts every shape the documentation and the official SDKs show: `ctime` in
//! RFC 3339 or without a time zone (read as UTC), with or without fractions of a second; the
//! user list's count as `total` or `count`; identifiers as strings or numbers; `null` for
//! absent values; unknown fields are ignored. The informational fields of the authentication
//! answers (the method Verigator used, the detail of a refused PIN) count as absent when they
//! cannot be read (a method this crate does not know, a value of another type): only
//! `verified` decides a PIN check, and a started authentication needs nothing from its answer.
//! Anything else is an [`ErrorKind::Decode`](phone_verify_core::ErrorKind::Decode) error, never
//! a panic.

use std::fmt;
use std::str::FromStr;

use phone_verify_core::kit::mask_numbers;
use phone_verify_core::time::OffsetDateTime;
use phone_verify_core::{Channel, Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::is_valid_id;

/// How a user authenticates: a PIN by SMS, or a code from the Verigator authenticator app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `sms`: Verigator sends a PIN to the user's phone.
    Sms,
    /// `totp`: the user reads a time-based code from the Verigator app; Verigator falls back
    /// to SMS when the user has not set the app up.
    Totp,
}

impl AuthMethod {
    /// Verigator's name: `sms` or `totp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Totp => "totp",
        }
    }

    /// The phone-verify channel: [`Channel::Sms`] or [`Channel::Totp`].
    pub fn channel(self) -> Channel {
        match self {
            Self::Sms => Channel::Sms,
            Self::Totp => Channel::Totp,
        }
    }

    /// The method for a phone-verify channel, if Verigator has one.
    pub fn for_channel(channel: &Channel) -> Option<Self> {
        match channel {
            Channel::Sms => Some(Self::Sms),
            Channel::Totp => Some(Self::Totp),
            _ => None,
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("sms") {
            Ok(Self::Sms)
        } else if s.eq_ignore_ascii_case("totp") {
            Ok(Self::Totp)
        } else {
            Err(Error::invalid_input(
                "a Verigator authentication method is \"sms\" or \"totp\"",
            ))
        }
    }
}

impl Serialize for AuthMethod {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuthMethod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(AuthMethodVisitor)
    }
}

/// Reads a method from a string, borrowed or not, without copying it.
struct AuthMethodVisitor;

impl serde::de::Visitor<'_> for AuthMethodVisitor {
    type Value = AuthMethod;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<AuthMethod, E> {
        v.parse()
            .map_err(|_| E::custom("expected the method \"sms\" or \"totp\""))
    }
}

/// A Verigator service: `POST /service/service` and `GET /service/service/{ServiceId}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Service {
    /// The ServiceID (a UUID).
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    /// The name shown as issuer in the Verigator app.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    /// The service's domain, if Verigator reports it.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub fqdn: Option<String>,
    /// When it was created.
    #[serde(default, deserialize_with = "lenient::opt_ctime")]
    pub ctime: Option<OffsetDateTime>,
}

/// A user of a service: `POST .../users`, `GET .../users/{UserId}`, and the items of
/// [`UserList`]. `Debug` masks `id_in_service`, which is often a phone number or an e-mail
/// address: the phone numbers in it as core masks them
/// ([`kit::mask_numbers`](phone_verify_core::kit::mask_numbers)), and an id without one by its
/// length only.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The UserID (a UUID), used in the URLs of the user's authentications.
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    /// The id the service gave the user when registering it (a username, an e-mail address,
    /// or, as this crate registers users, the phone number; see
    /// [`IdScheme`](crate::IdScheme)).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub id_in_service: Option<String>,
    /// When it was registered.
    #[serde(default, deserialize_with = "lenient::opt_ctime")]
    pub ctime: Option<OffsetDateTime>,
}

impl User {
    /// A user known by id only (from the verifier's cache).
    pub(crate) fn known(id: String, id_in_service: String) -> Self {
        Self {
            id,
            id_in_service: Some(id_in_service),
            ctime: None,
        }
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field(
                "id_in_service",
                &self.id_in_service.as_deref().map(shown_id),
            )
            .field("ctime", &self.ctime)
            .finish()
    }
}

/// The users of a service: `GET .../users`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "RawUserList")]
#[non_exhaustive]
pub struct UserList {
    /// The users.
    pub users: Vec<User>,
    /// How many users the service has, as Verigator reports it (`total` or `count`).
    pub total: Option<u64>,
}

impl UserList {
    /// The user registered with `id_in_service`.
    pub fn find(&self, id_in_service: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.id_in_service.as_deref() == Some(id_in_service))
    }
}

#[derive(Deserialize)]
struct RawUserList {
    #[serde(deserialize_with = "lenient::vec")]
    users: Vec<User>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    total: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    count: Option<u64>,
}

impl From<RawUserList> for UserList {
    fn from(raw: RawUserList) -> Self {
        Self {
            users: raw.users,
            total: raw.total.or(raw.count),
        }
    }
}

/// The answer to starting an authentication: `POST .../users/{UserId}/auth`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[non_exhaustive]
pub struct AuthStarted {
    /// The method Verigator actually used: `sms` when a `totp` authentication fell back to
    /// SMS because the user has no authenticator app. `None` if Verigator did not say, named a
    /// method this crate does not know, or sent something other than a string.
    #[serde(default, deserialize_with = "lenient::opt_method")]
    pub method: Option<AuthMethod>,
}

/// The answer to a PIN check: `PUT .../users/{UserId}/auth`. Verigator answers 200 whether
/// the PIN is right or not.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PinVerification {
    /// Whether the PIN was right: let the user in.
    #[serde(deserialize_with = "lenient::bool")]
    pub verified: bool,
    /// The method of the authentication, if Verigator said; `None` too for a method this crate
    /// does not know or a value other than a string.
    #[serde(default, deserialize_with = "lenient::opt_method")]
    pub method: Option<AuthMethod>,
    /// Why the PIN was refused, if Verigator said (`None` when absent or `null`); a status
    /// that is not a JSON object, or with parts that cannot be read, is
    /// [`PinStatus::is_unreadable`].
    #[serde(default, deserialize_with = "lenient::opt_status")]
    pub status: Option<PinStatus>,
}

/// The detail of a refused PIN, e.g.
/// `{"throttled":false,"expired":false,"invalid":true,"result":"INVALID"}`. Each field is read
/// on its own: one that cannot be read (a flag that is not a boolean, a `result` that is a
/// list or an object) counts as absent and does not hide the others.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[non_exhaustive]
pub struct PinStatus {
    /// Too many wrong PINs: no PIN is accepted any more.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub throttled: bool,
    /// The PIN has expired.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub expired: bool,
    /// The PIN is wrong.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub invalid: bool,
    /// Verigator's summary, e.g. `INVALID`, `EXPIRED` or `THROTTLED`.
    #[serde(default, deserialize_with = "lenient::opt_text_or_absent")]
    pub result: Option<String>,
    /// Whether part of it could not be read (see [`is_unreadable`](Self::is_unreadable)).
    #[serde(skip)]
    unreadable: bool,
}

impl PinStatus {
    /// Whether part of the status of a PIN check's answer could not be read: a status that is
    /// not a JSON object, a flag that is not a boolean, a `result` that is a list or an
    /// object. Such a part counts as absent in the fields above; yet it may be a refusal
    /// written in a shape this crate does not know, so a PIN check answered `verified: true`
    /// with it is in doubt, not verified. Always `false` for a status deserialized on its own
    /// (only [`PinVerification`]'s reading tells).
    pub fn is_unreadable(&self) -> bool {
        self.unreadable
    }

    /// The detail as a lowercase name: `throttled`, `expired` or `invalid`; `result` first,
    /// then the flags in that order. `None` when nothing is set.
    pub fn detail(&self) -> Option<&'static str> {
        let from_result =
            self.result
                .as_deref()
                .and_then(|r| match r.trim().to_ascii_lowercase().as_str() {
                    "throttled" => Some("throttled"),
                    "expired" => Some("expired"),
                    "invalid" => Some("invalid"),
                    _ => None,
                });
        from_result.or(if self.throttled {
            Some("throttled")
        } else if self.expired {
            Some("expired")
        } else if self.invalid {
            Some("invalid")
        } else {
            None
        })
    }
}

/// `POST /service/service`.
#[derive(Serialize)]
pub(crate) struct CreateServiceBody<'a> {
    pub(crate) fqdn: &'a str,
    pub(crate) name: &'a str,
}

/// `POST .../users`.
#[derive(Serialize)]
pub(crate) struct CreateUserBody<'a> {
    pub(crate) id_in_service: &'a str,
    pub(crate) phone_number: &'a str,
}

/// `POST .../auth`.
#[derive(Serialize)]
pub(crate) struct StartAuthBody {
    pub(crate) method: AuthMethod,
}

/// `PUT .../auth`.
#[derive(Serialize)]
pub(crate) struct VerifyPinBody<'a> {
    pub(crate) token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) method: Option<AuthMethod>,
}

/// An `id_in_service` for `Debug`: its phone numbers masked as core masks them
/// ([`mask_numbers`]); an id without one (a username, an e-mail address) shown by its length
/// only.
fn shown_id(id: &str) -> String {
    let masked = mask_numbers(id);
    if masked == id {
        format!("<{} characters>", id.chars().count())
    } else {
        masked
    }
}

/// Lenient field decoders.
mod lenient {
    use phone_verify_core::kit::lenient::{Scalar, bool_value, opt_non_blank_text};
    pub(super) use phone_verify_core::kit::lenient::{bool, opt_string, opt_u64, vec};
    use phone_verify_core::time::format_description::well_known::Rfc3339;
    use phone_verify_core::time::macros::format_description;
    use phone_verify_core::time::{OffsetDateTime, PrimitiveDateTime};
    use serde::de::Error as _;
    use serde_json::Value;

    use super::{AuthMethod, Deserialize, Deserializer, PinStatus, is_valid_id};

    /// An informational method: `None` when absent, `null`, a method this crate does not know,
    /// or not a string.
    pub(super) fn opt_method<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<AuthMethod>, D::Error> {
        Ok(match Scalar::deserialize(d)? {
            Scalar::Str(name) => name.parse().ok(),
            _ => None,
        })
    }

    /// A refused PIN's status: `None` when absent or `null`; a status whose parts cannot all be
    /// read (not a JSON object, a flag that is not a boolean, a `result` that is not a scalar)
    /// is marked [`PinStatus::is_unreadable`], its readable parts kept.
    pub(super) fn opt_status<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<PinStatus>, D::Error> {
        let unreadable = || PinStatus {
            unreadable: true,
            ..PinStatus::default()
        };
        Ok(match Value::deserialize(d)? {
            Value::Null => None,
            Value::Object(fields) => {
                let odd_flag = ["throttled", "expired", "invalid"].iter().any(|name| {
                    fields.get(*name).is_some_and(|value| {
                        !value.is_null() && bool_value::<serde_json::Error>(value).is_err()
                    })
                });
                let odd_result = fields
                    .get("result")
                    .is_some_and(|value| value.is_array() || value.is_object());
                match PinStatus::deserialize(Value::Object(fields)) {
                    Ok(status) => Some(PinStatus {
                        unreadable: odd_flag || odd_result,
                        ..status
                    }),
                    Err(_) => Some(unreadable()),
                }
            }
            // Not read as a list: serde would take one for the fields in order.
            _ => Some(unreadable()),
        })
    }

    /// A flag of a refused PIN's status, read as core reads a boolean; anything else (`null`,
    /// another word, a list, an object) false.
    pub(super) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(bool_value::<D::Error>(&Value::deserialize(d)?).unwrap_or(false))
    }

    /// A scalar as text (trimmed); `None` for `null`, lists and objects.
    pub(super) fn opt_text_or_absent<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<String>, D::Error> {
        Ok(Scalar::deserialize(d)?.into_string())
    }

    /// A service or user id: a string (or number) that can go into a URL path.
    pub(super) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let id = match Scalar::deserialize(d)? {
            id @ (Scalar::Str(_) | Scalar::Number(_)) => id.into_string().unwrap_or_default(),
            _ => String::new(),
        };
        if is_valid_id(&id) {
            Ok(id)
        } else {
            Err(D::Error::custom(
                "expected an id of ASCII letters, digits, '-' or '_'",
            ))
        }
    }

    /// A `ctime`; `null` or `""` as `None`.
    pub(super) fn opt_ctime<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        match opt_non_blank_text(d)? {
            None => Ok(None),
            Some(s) => parse_ctime(&s).map(Some).ok_or_else(|| {
                D::Error::custom("expected a time such as \"2017-07-06T13:12:03.141Z\"")
            }),
        }
    }

    /// RFC 3339 (`2017-07-06T13:12:03.141Z`), or the same without a time zone, read as UTC
    /// (`2017-09-15T06:44:15.274438`), with or without fractions of a second.
    pub(super) fn parse_ctime(s: &str) -> Option<OffsetDateTime> {
        let s = s.trim();
        let local = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
        );
        OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
            PrimitiveDateTime::parse(s, local)
                .ok()
                .map(PrimitiveDateTime::assume_utc)
        })
    }
}

#[cfg(test)]
mod tests {
    use phone_verify_core::time::macros::datetime;
    use serde::de::DeserializeOwned;

    use super::*;

    fn decode<T: DeserializeOwned>(json: &str) -> std::result::Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn ctime_with_or_without_zone() {
        let with_zone: Service = decode(
            r#"{"id":"5e4b6c0a-5c1e-4a8b-9d5e-2f7a1b3c4d5e","name":"Coffee","ctime":"2017-07-06T13:12:03.141Z","extra":[1]}"#,
        )
        .unwrap();
        assert_eq!(
            with_zone.ctime,
            Some(datetime!(2017-07-06 13:12:03.141 UTC))
        );
        assert_eq!(with_zone.name.as_deref(), Some("Coffee"));
        let without: User = decode(
            r#"{"id":"u1","ctime":"2017-09-15T06:44:15.274438","id_in_service":"+37251234567"}"#,
        )
        .unwrap();
        assert_eq!(
            without.ctime,
            Some(datetime!(2017-09-15 06:44:15.274438 UTC))
        );
        let whole: User = decode(r#"{"id":"u1","ctime":"2017-09-15T06:44:15"}"#).unwrap();
        assert_eq!(whole.ctime, Some(datetime!(2017-09-15 06:44:15 UTC)));
        let offset: User = decode(r#"{"id":"u1","ctime":"2017-09-15T08:44:15+02:00"}"#).unwrap();
        assert_eq!(offset.ctime, Some(datetime!(2017-09-15 06:44:15 UTC)));
        let none: User = decode(r#"{"id":"u1","ctime":null}"#).unwrap();
        assert_eq!(none.ctime, None);
        assert!(decode::<User>(r#"{"id":"u1","ctime":"yesterday"}"#).is_err());
        assert!(decode::<User>(r#"{"id":"u1","ctime":{}}"#).is_err());
    }

    #[test]
    fn user_lists_count_as_total_or_count() {
        let total: UserList = decode(
            r#"{"users":[{"id":"a","id_in_service":"x"},{"id":"b","id_in_service":"y"}],"total":"2"}"#,
        )
        .unwrap();
        assert_eq!(total.total, Some(2));
        assert_eq!(total.find("y").map(|u| u.id.as_str()), Some("b"));
        assert!(total.find("z").is_none());
        let count: UserList = decode(r#"{"users":[],"count":0}"#).unwrap();
        assert_eq!(count.total, Some(0));
        let both: UserList = decode(r#"{"users":null,"total":3,"count":1}"#).unwrap();
        assert_eq!((both.users.len(), both.total), (0, Some(3)));
        let neither: UserList = decode(r#"{"users":[{"id":7}]}"#).unwrap();
        assert_eq!(neither.users[0].id, "7");
        assert_eq!(neither.total, None);
        assert!(decode::<UserList>(r"{}").is_err());
        assert!(decode::<UserList>(r#"{"users":"none"}"#).is_err());
        assert!(decode::<UserList>(r#"{"users":[],"total":-1}"#).is_err());
    }

    #[test]
    fn ids_must_be_path_safe() {
        for bad in [
            r#"{"id":""}"#,
            r#"{"id":"../../service"}"#,
            r#"{"id":"a/b"}"#,
            r#"{"id":"a b"}"#,
            r#"{"id":null}"#,
            r"{}",
            r#"{"id":["x"]}"#,
            r#"{"id":true}"#,
        ] {
            assert!(decode::<User>(bad).is_err(), "{bad}");
        }
        let long = format!(
            r#"{{"id":"{}"}}"#,
            "a".repeat(crate::config::MAX_ID_LEN + 1)
        );
        assert!(decode::<Service>(&long).is_err());
    }

    #[test]
    fn auth_answers() {
        let sms: AuthStarted = decode(r#"{"method":"SMS","auth_id":null}"#).unwrap();
        assert_eq!(sms.method, Some(AuthMethod::Sms));
        let unknown: AuthStarted = decode(r"{}").unwrap();
        assert_eq!(unknown.method, None);
        // A method this crate does not know, or not a string: absent.
        for odd in [
            r#"{"method":"pigeon"}"#,
            r#"{"method":""}"#,
            r#"{"method":7}"#,
            r#"{"method":true}"#,
            r#"{"method":["sms"]}"#,
            r#"{"method":{"name":"sms"}}"#,
        ] {
            assert_eq!(decode::<AuthStarted>(odd).unwrap().method, None, "{odd}");
        }
        assert!(decode::<AuthStarted>(r#""sms""#).is_err());
        assert!(decode::<AuthStarted>(r"[1,2]").is_err());

        let ok: PinVerification = decode(r#"{"verified":true,"method":"totp"}"#).unwrap();
        assert!(ok.verified);
        assert_eq!(ok.method, Some(AuthMethod::Totp));
        let refused: PinVerification = decode(
            r#"{"verified":"false","status":{"throttled":false,"expired":false,"invalid":true,"result":"INVALID"}}"#,
        )
        .unwrap();
        assert!(!refused.verified);
        assert_eq!(
            refused.status.as_ref().and_then(PinStatus::detail),
            Some("invalid")
        );
        // Only `verified` must be readable.
        assert!(decode::<PinVerification>(r#"{"method":"sms"}"#).is_err());
        assert!(decode::<PinVerification>(r#"{"verified":"maybe"}"#).is_err());
        assert!(decode::<PinVerification>(r#"{"verified":null}"#).is_err());
        for odd in [
            r#"{"verified":true,"status":"x"}"#,
            r#"{"verified":true,"status":[{"invalid":true}]}"#,
            r#"{"verified":true,"status":1,"method":"push"}"#,
            r#"{"verified":true,"status":null,"method":{}}"#,
        ] {
            let answer: PinVerification = decode(odd).unwrap();
            assert!(answer.verified, "{odd}");
            assert_eq!(answer.method, None, "{odd}");
            // A status that is there and cannot be read is marked, not taken for none.
            let unreadable = answer.status.as_ref().map(PinStatus::is_unreadable);
            let expected = (!odd.contains("null")).then_some(true);
            assert_eq!(unreadable, expected, "{odd}");
            assert_eq!(answer.status.and_then(|s| s.detail()), None, "{odd}");
        }
        let partly: PinVerification =
            decode(r#"{"verified":1,"method":" SMS ","status":{"expired":"perhaps"}}"#).unwrap();
        assert_eq!(partly.method, Some(AuthMethod::Sms));
        let status = partly.status.unwrap();
        assert!(status.is_unreadable());
        assert_eq!(status.detail(), None);
        let readable: PinVerification =
            decode(r#"{"verified":true,"status":{"expired":null,"invalid":0,"result":"OK"}}"#)
                .unwrap();
        assert!(!readable.status.unwrap().is_unreadable());
    }

    #[test]
    fn pin_status_details() {
        let status = |json: &str| decode::<PinStatus>(json).unwrap().detail();
        assert_eq!(status(r#"{"result":"THROTTLED"}"#), Some("throttled"));
        assert_eq!(
            status(r#"{"expired":true,"result":"EXPIRED"}"#),
            Some("expired")
        );
        assert_eq!(
            status(r#"{"throttled":1,"expired":true}"#),
            Some("throttled")
        );
        assert_eq!(status(r#"{"expired":"true"}"#), Some("expired"));
        assert_eq!(
            status(r#"{"invalid":true,"result":"odd"}"#),
            Some("invalid")
        );
        // `result` alone names the detail, in any case.
        assert_eq!(status(r#"{"result":"Expired"}"#), Some("expired"));
        assert_eq!(status(r#"{"result":" INVALID "}"#), Some("invalid"));
        assert_eq!(
            status(r#"{"throttled":true,"result":"invalid"}"#),
            Some("invalid"),
            "result before the flags"
        );
        assert_eq!(status(r#"{"invalid":null}"#), None);
        assert_eq!(status(r"{}"), None);
        // A field that cannot be read is absent and hides none of the others.
        assert_eq!(status(r#"{"invalid":"perhaps"}"#), None);
        assert_eq!(
            status(r#"{"throttled":[true],"expired":{},"invalid":2}"#),
            None
        );
        assert_eq!(
            status(r#"{"throttled":"perhaps","result":"EXPIRED"}"#),
            Some("expired")
        );
        assert_eq!(
            status(r#"{"result":{"code":"INVALID"},"expired":true}"#),
            Some("expired")
        );
        assert_eq!(status(r#"{"result":["THROTTLED"]}"#), None);
        assert!(decode::<PinStatus>(r#""INVALID""#).is_err());
    }

    #[test]
    fn debug_masks_ids_in_service() {
        let user: User = decode(r#"{"id":"u1","id_in_service":"+15017122661"}"#).unwrap();
        let shown = format!("{user:?}");
        // Core's mask: the calling code's digits too, not the first three characters.
        assert!(
            !shown.contains("+15") && !shown.contains("50171226"),
            "{shown}"
        );
        assert!(shown.contains("+*********61"), "{shown}");
        let prefixed = shown_id("shop-+37251234567");
        assert_eq!(prefixed, "shop-+*********67");
        // An id without a number is not shown at all.
        assert_eq!(shown_id("alice@example.com"), "<17 characters>");
        assert_eq!(shown_id("abc"), "<3 characters>");
    }

    #[test]
    fn request_bodies() {
        let body = serde_json::to_value(VerifyPinBody {
            token: "123456",
            method: None,
        })
        .unwrap();
        assert_eq!(body, serde_json::json!({"token": "123456"}));
        let body = serde_json::to_value(StartAuthBody {
            method: AuthMethod::Totp,
        })
        .unwrap();
        assert_eq!(body, serde_json::json!({"method": "totp"}));
        assert_eq!(
            AuthMethod::for_channel(&Channel::Totp),
            Some(AuthMethod::Totp)
        );
        assert_eq!(AuthMethod::for_channel(&Channel::Voice), None);
        assert_eq!(AuthMethod::Sms.channel(), Channel::Sms);
        assert!("voice".parse::<AuthMethod>().is_err());
    }

    #[test]
    fn methods_parse_in_any_case_borrowed_or_not() {
        for (text, method) in [
            ("sms", AuthMethod::Sms),
            (" SMS ", AuthMethod::Sms),
            ("Sms", AuthMethod::Sms),
            ("totp", AuthMethod::Totp),
            ("\tTOTP\n", AuthMethod::Totp),
        ] {
            assert_eq!(text.parse::<AuthMethod>().unwrap(), method, "{text:?}");
            assert_eq!(method.to_string(), method.as_str());
            assert_eq!(method.to_string(), text.trim().to_ascii_lowercase());
            let json = serde_json::to_string(text).unwrap();
            assert_eq!(decode::<AuthMethod>(&json).unwrap(), method, "{json}");
            let value = serde_json::Value::String(text.to_owned());
            assert_eq!(AuthMethod::deserialize(&value).unwrap(), method, "{text:?}");
        }
        for bad in ["", "s ms", "smss", "tot", "voice", "ſms"] {
            assert!(bad.parse::<AuthMethod>().is_err(), "{bad:?}");
            let json = serde_json::to_string(bad).unwrap();
            let error = decode::<AuthMethod>(&json).unwrap_err().to_string();
            assert!(error.contains("expected the method"), "{error}");
        }
        let error = decode::<AuthMethod>("12").unwrap_err().to_string();
        assert!(
            error.starts_with("invalid type: integer `12`, expected a string"),
            "{error}"
        );
        assert!(decode::<AuthMethod>("null").is_err());
    }
}
