//! [`Verification`]: the handle of a started verification, portable across processes.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod json;

use crate::channel::Channel;
use crate::error::{Error, ErrorKind, Result};
use crate::extras::{ExtraKey, Extras};
use crate::phone::PhoneNumber;
use crate::provider::ProviderId;

/// The start of [`Verification::from_json`]'s error messages.
const NOT_A_HANDLE: &str = "not a verification handle: ";

/// The value of the handle JSON's `format` field.
pub const HANDLE_FORMAT: &str = "phone-verify/verification";
/// The version of the handle JSON that this crate writes; it reads this version and older.
pub const HANDLE_VERSION: u32 = 1;

/// What a reverse flow shows the user: a deeplink to open, or a QR code to scan. Its JSON
/// refuses unknown fields, as the handle's does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReverseFlow {
    /// A link that opens the messaging app with the message to send (e.g. `https://wa.me/...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deeplink: Option<String>,
    /// A PNG QR code as a `data:image/png;base64,...` URI or bare base64, as the provider gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_code: Option<String>,
}

impl ReverseFlow {
    /// A reverse flow with a deeplink and/or a QR code.
    pub fn new(deeplink: Option<String>, qr_code: Option<String>) -> Self {
        Self { deeplink, qr_code }
    }
}

/// A started verification: everything needed to check it later, in this process or another.
///
/// It serializes to a documented, versioned JSON form (see `docs/architecture.md`). Reading it
/// refuses unknown and repeated fields (of the handle and of `reverse`), but for the keys of
/// `extras`: a key given twice there keeps its last value. A `null` optional field reads as
/// absent. Its `phone` is parsed as [`PhoneNumber::parse`] parses, but a number this version's
/// metadata does not know (written by another version, during a rolling deploy) is kept as
/// written if it is well-formed E.164, with no region: the code sent to it can still be checked.
///
/// Its serde implementation writes that JSON form in every format: the object in human-readable
/// ones (JSON, TOML, YAML), the JSON text as one string in those that are not
/// ([`is_human_readable`](serde::Serializer::is_human_readable) is `false`: postcard, bincode,
/// MessagePack, CBOR), as postcard and bincode could not read the object back. It reads either
/// form where the format tells them apart (a human-readable one, and a `#[serde(flatten)]` field
/// or an untagged enum in any format), and the string in any other.
///
/// ```
/// use phone_verify_core::{Channel, ProviderId, Verification};
///
/// let handle = Verification::new(ProviderId::new_static("acme"), "ref-1", Channel::Sms)
///     .with_phone("+507 6264 7737".parse()?)
///     .with_extra("country_code", "PA");
/// let json = handle.to_json()?;
/// assert!(json.contains(r#""format":"phone-verify/verification","version":1"#));
/// assert_eq!(Verification::from_json(&json)?, handle);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Verification {
    /// The provider that started it.
    pub provider: ProviderId,
    /// The provider's reference for it (a reference code, validation id, user id, …).
    pub reference: String,
    /// The channel it runs on.
    pub channel: Channel,
    /// The phone number being verified, if known at start.
    pub phone: Option<PhoneNumber>,
    /// When it was started.
    pub created_at: OffsetDateTime,
    /// When the provider stops accepting it, if the provider said.
    pub expires_at: Option<OffsetDateTime>,
    /// The deeplink or QR code of a reverse flow.
    pub reverse: Option<ReverseFlow>,
    /// Provider-specific data needed to check it (never credentials or codes).
    pub extras: Extras,
}

impl Verification {
    /// A handle for `reference` at `provider`, created now.
    pub fn new(provider: ProviderId, reference: impl Into<String>, channel: Channel) -> Self {
        Self {
            provider,
            reference: reference.into(),
            channel,
            phone: None,
            created_at: OffsetDateTime::now_utc(),
            expires_at: None,
            reverse: None,
            extras: Extras::new(),
        }
    }

    /// Sets the phone number.
    #[must_use]
    pub fn with_phone(mut self, phone: PhoneNumber) -> Self {
        self.phone = Some(phone);
        self
    }

    /// Sets the creation time.
    #[must_use]
    pub fn with_created_at(mut self, at: OffsetDateTime) -> Self {
        self.created_at = at;
        self
    }

    /// Sets the expiry.
    #[must_use]
    pub fn with_expires_at(mut self, at: OffsetDateTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Sets the expiry `validity` after the creation time ([`expiry_after`](Self::expiry_after)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use phone_verify_core::{Channel, ProviderId, Verification};
    ///
    /// let handle = Verification::new(ProviderId::new_static("acme"), "r", Channel::Sms)
    ///     .with_expires_in(Duration::from_secs(300));
    /// assert_eq!(handle.expires_at, Some(handle.created_at + Duration::from_secs(300)));
    /// ```
    #[must_use]
    pub fn with_expires_in(mut self, validity: Duration) -> Self {
        self.expires_at = Some(self.expiry_after(validity));
        self
    }

    /// The instant `validity` after the creation time. A sum past what a date holds (the end of
    /// year 9999), from a provider's answer or a handle read from storage, is that last
    /// instant: never a panic.
    pub fn expiry_after(&self, validity: Duration) -> OffsetDateTime {
        self.created_at
            .saturating_add(time::Duration::try_from(validity).unwrap_or(time::Duration::MAX))
    }

    /// Sets the reverse-flow deeplink and QR code.
    #[must_use]
    pub fn with_reverse(mut self, reverse: ReverseFlow) -> Self {
        self.reverse = Some(reverse);
        self
    }

    /// Adds a provider-specific value.
    #[must_use]
    pub fn with_extra(
        mut self,
        key: impl Into<ExtraKey>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.extras.insert(key, value);
        self
    }

    /// A provider-specific string value.
    pub fn extra_str(&self, key: &str) -> Option<&str> {
        self.extras.get_str(key)
    }

    /// Whether the handle has passed its expiry at `now`.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// Fails with [`ErrorKind::InvalidInput`] unless the handle belongs to `provider`.
    /// Provider crates call it first in `check`.
    pub fn ensure_provider(&self, provider: &ProviderId) -> Result<()> {
        if &self.provider == provider {
            Ok(())
        } else {
            Err(Error::invalid_input(format!(
                "this verification belongs to provider {:?}, not {:?}",
                self.provider.as_str(),
                provider.as_str()
            )))
        }
    }

    /// The versioned JSON form. A handle [`from_json`](Self::from_json) would refuse (an empty
    /// `reference`, an [`Other`](Channel::Other) channel with a blank name, an extra nesting
    /// arrays and objects more than 125 levels deep) is refused with
    /// [`ErrorKind::InvalidInput`], as is one whose times cannot be written in RFC 3339.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(not_serialized)
    }

    /// The versioned JSON form, indented; refused as by [`to_json`](Self::to_json).
    pub fn to_json_pretty(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(not_serialized)
    }

    /// Reads a handle written by [`to_json`](Self::to_json), by this or an older version (also
    /// given as a JSON string of that text, as a format that is not human-readable holds it).
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(|e| {
            Error::new(ErrorKind::InvalidInput, format!("{NOT_A_HANDLE}{e}")).with_source(e)
        })
    }
}

/// The error of a handle that cannot be written.
fn not_serialized(e: serde_json::Error) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("verification handle cannot be serialized: {e}"),
    )
    .with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sample() -> Verification {
        Verification::new(
            ProviderId::new_static("verifykit"),
            "111111",
            Channel::WhatsApp,
        )
        .with_phone(PhoneNumber::parse("+905321234567").unwrap())
        .with_created_at(datetime!(2026-11-22 18:00:00 UTC))
        .with_expires_at(datetime!(2026-11-22 18:05:00 UTC))
        .with_reverse(ReverseFlow::new(
            Some("https://wa.me/905395744034?text=111111".into()),
            Some("data:image/png;base64,iVBORw0KGgo=".into()),
        ))
        .with_extra("flow", "reverse")
    }

    #[test]
    fn matches_golden_file() {
        let golden = include_str!("../tests/fixtures/verification-v1.json");
        let parsed = Verification::from_json(golden).unwrap();
        assert_eq!(parsed, sample());
        let rewritten: serde_json::Value =
            serde_json::from_str(&sample().to_json_pretty().unwrap()).unwrap();
        let expected: serde_json::Value = serde_json::from_str(golden).unwrap();
        assert_eq!(rewritten, expected);
    }

    #[test]
    fn minimal_handle_round_trips() {
        let handle = Verification::new(ProviderId::new_static("acme"), "r", Channel::Sms);
        let json = handle.to_json().unwrap();
        assert!(!json.contains("\"extras\"") && !json.contains("\"phone\""));
        assert_eq!(Verification::from_json(&json).unwrap(), handle);
    }

    #[test]
    fn refuses_foreign_or_future_json() {
        let good: serde_json::Value = serde_json::from_str(&sample().to_json().unwrap()).unwrap();
        let mutate = |f: &dyn Fn(&mut serde_json::Map<String, serde_json::Value>)| {
            let mut v = good.clone();
            f(v.as_object_mut().unwrap());
            Verification::from_json(&v.to_string()).unwrap_err()
        };
        let future = mutate(&|m| {
            m.insert("version".into(), 2.into());
        });
        assert!(future.to_string().contains("newer"), "{future}");
        assert_eq!(future.kind(), ErrorKind::InvalidInput);
        mutate(&|m| {
            m.remove("format");
        });
        mutate(&|m| {
            m.insert("phone".into(), "12".into());
        });
        mutate(&|m| {
            m.insert("reference".into(), "".into());
        });
        mutate(&|m| {
            m.insert("surprise".into(), true.into());
        });
        assert!(Verification::from_json("not json").is_err());
        assert!(Verification::from_json("[]").is_err());
    }

    #[test]
    fn checks_provider_and_expiry() {
        let handle = sample();
        assert!(
            handle
                .ensure_provider(&ProviderId::new_static("verifykit"))
                .is_ok()
        );
        assert_eq!(
            handle
                .ensure_provider(&ProviderId::new_static("verifik"))
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
        assert!(!handle.is_expired_at(datetime!(2026-11-22 18:04:59 UTC)));
        assert!(handle.is_expired_at(datetime!(2026-11-22 18:05:00 UTC)));
        assert_eq!(handle.extra_str("flow"), Some("reverse"));
    }

    #[test]
    fn an_expiry_past_what_a_date_holds_is_its_last_instant() {
        let handle = sample();
        assert_eq!(
            handle.expiry_after(Duration::from_secs(90)),
            datetime!(2026-11-22 18:01:30 UTC)
        );
        assert_eq!(
            handle
                .clone()
                .with_expires_in(Duration::from_secs(90))
                .expires_at,
            Some(datetime!(2026-11-22 18:01:30 UTC))
        );
        let last = datetime!(9999-12-31 23:59:59.999_999_999 UTC);
        // A provider's `timeout` of u64::MAX seconds, and a duration `time` cannot hold.
        for validity in [Duration::from_secs(u64::MAX), Duration::MAX] {
            assert_eq!(handle.expiry_after(validity), last);
        }
        // A handle read from storage, created at the last day a date holds.
        let late = sample().with_created_at(datetime!(9999-12-31 23:00:00 UTC));
        assert_eq!(late.expiry_after(Duration::from_secs(7200)), last);
        // And it is still written and read back.
        let stored = late.with_expires_in(Duration::from_secs(7200));
        assert_eq!(
            Verification::from_json(&stored.to_json().unwrap()).unwrap(),
            stored
        );
    }
}
