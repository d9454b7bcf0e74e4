//! [`ProviderId`] and [`Capabilities`]: who a verifier talks to and what it can do.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::channel::Channel;

/// The stable name of a provider, e.g. `verifykit`: lowercase ASCII letters, digits, `-` and
/// `_`, 1 to 64 characters. It is stored in every [`Verification`](crate::Verification) handle.
///
/// ```
/// use phone_verify_core::ProviderId;
///
/// const ACME: ProviderId = ProviderId::new_static("acme");
/// assert_eq!(ProviderId::new("acme")?, ACME);
/// assert!(ProviderId::new("Acme SMS").is_err());
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ProviderId(Cow<'static, str>);

impl ProviderId {
    /// A provider id from a constant, checked as [`new`](Self::new) checks it: a name that
    /// is not one panics, which in a `const` is a compile error.
    ///
    /// ```compile_fail
    /// use phone_verify_core::ProviderId;
    ///
    /// const ACME: ProviderId = ProviderId::new_static("Acme"); // error: not lowercase
    /// println!("{ACME}");
    /// ```
    pub const fn new_static(name: &'static str) -> Self {
        assert!(
            is_valid(name),
            "ProviderId::new_static: a provider id must be 1-64 lowercase letters, digits, '-' \
             or '_'"
        );
        Self(Cow::Borrowed(name))
    }

    /// A validated provider id; an [`InvalidProviderId`] (which converts into an
    /// [`Error`](crate::Error) of kind `InvalidInput`) otherwise.
    pub fn new(name: &str) -> Result<Self, InvalidProviderId> {
        if is_valid(name) {
            Ok(Self(Cow::Owned(name.to_owned())))
        } else {
            Err(InvalidProviderId {
                name: name.to_owned(),
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `name` is 1-64 lowercase ASCII letters, digits, `-` and `_` (a loop, to be `const`).
const fn is_valid(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 64 {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

/// A name refused by [`ProviderId::new`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("provider id {name:?} must be 1-64 lowercase letters, digits, '-' or '_'")]
pub struct InvalidProviderId {
    name: String,
}

impl InvalidProviderId {
    /// The refused name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ProviderId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ProviderId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::text::deserialize_str(deserializer, "a provider id", Self::new)
    }
}

/// What a [`PhoneVerifier`](crate::PhoneVerifier) can do. Callers check it before offering a
/// channel; the testkit runs only the conformance checks it allows.
///
/// ```
/// use phone_verify_core::{Capabilities, Channel};
///
/// let caps = Capabilities::new()
///     .with_otp_channel(Channel::Sms)
///     .with_reverse_channel(Channel::WhatsApp)
///     .with_session_resolution(true);
/// assert!(caps.supports(&Channel::WhatsApp));
/// assert!(caps.is_reverse(&Channel::WhatsApp));
/// assert!(!caps.supports(&Channel::Voice));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Channels on which the provider sends a code that the user types back.
    pub otp_channels: Vec<Channel>,
    /// Channels on which the user sends a message (deeplink or QR code) and the backend polls.
    pub reverse_channels: Vec<Channel>,
    /// Whether reverse flows can return a QR code.
    pub qr_code: bool,
    /// Whether the provider can resolve a session id into the verified phone.
    pub session_resolution: bool,
    /// Whether a successful check returns a session id.
    pub check_returns_session: bool,
    /// Whether the provider takes the language of the user's message.
    pub localized_messages: bool,
}

impl Capabilities {
    /// No capabilities; add them with the `with_*` methods.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a channel on which a code is sent.
    #[must_use]
    pub fn with_otp_channel(mut self, channel: Channel) -> Self {
        if !self.otp_channels.contains(&channel) {
            self.otp_channels.push(channel);
        }
        self
    }

    /// Adds a reverse-flow channel.
    #[must_use]
    pub fn with_reverse_channel(mut self, channel: Channel) -> Self {
        if !self.reverse_channels.contains(&channel) {
            self.reverse_channels.push(channel);
        }
        self
    }

    /// Sets whether reverse flows can return a QR code.
    #[must_use]
    pub fn with_qr_code(mut self, yes: bool) -> Self {
        self.qr_code = yes;
        self
    }

    /// Sets whether session ids can be resolved.
    #[must_use]
    pub fn with_session_resolution(mut self, yes: bool) -> Self {
        self.session_resolution = yes;
        self
    }

    /// Sets whether a successful check returns a session id.
    #[must_use]
    pub fn with_check_returns_session(mut self, yes: bool) -> Self {
        self.check_returns_session = yes;
        self
    }

    /// Sets whether messages are localized.
    #[must_use]
    pub fn with_localized_messages(mut self, yes: bool) -> Self {
        self.localized_messages = yes;
        self
    }

    /// Whether `channel` is an OTP channel.
    pub fn is_otp(&self, channel: &Channel) -> bool {
        self.otp_channels.contains(channel)
    }

    /// Whether `channel` is a reverse-flow channel.
    pub fn is_reverse(&self, channel: &Channel) -> bool {
        self.reverse_channels.contains(channel)
    }

    /// Whether a verification can start on `channel` at all.
    pub fn supports(&self, channel: &Channel) -> bool {
        self.is_otp(channel) || self.is_reverse(channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated_with_a_typed_error() {
        assert_eq!(ProviderId::new("acme-2_x").unwrap().as_str(), "acme-2_x");
        assert!(ProviderId::new(&"a".repeat(64)).is_ok());
        for bad in ["", "Acme", "acme sms", "acme.io", &"a".repeat(65)] {
            let err = ProviderId::new(bad).unwrap_err();
            assert_eq!(err.name(), bad);
            assert!(err.to_string().contains("must be 1-64"), "{err}");
        }
        assert_eq!(ProviderId::new_static("acme-2_x").as_str(), "acme-2_x");
    }

    #[test]
    #[should_panic(expected = "a provider id must be 1-64 lowercase letters")]
    fn a_static_id_is_checked_too() {
        // It wrote handles that `from_json` refuses.
        let _ = ProviderId::new_static("Acme");
    }

    #[test]
    fn each_builder_sets_its_own_capability_and_keeps_the_others() {
        let all = Capabilities::new()
            .with_otp_channel(Channel::Sms)
            .with_otp_channel(Channel::Sms)
            .with_reverse_channel(Channel::WhatsApp)
            .with_reverse_channel(Channel::WhatsApp)
            .with_qr_code(true)
            .with_session_resolution(true)
            .with_check_returns_session(true)
            .with_localized_messages(true);
        assert_eq!(all.otp_channels, [Channel::Sms], "added once");
        assert_eq!(all.reverse_channels, [Channel::WhatsApp], "added once");
        assert!(all.qr_code && all.session_resolution);
        assert!(all.check_returns_session && all.localized_messages);
        assert!(all.is_otp(&Channel::Sms) && !all.is_otp(&Channel::WhatsApp));
        assert!(all.is_reverse(&Channel::WhatsApp) && !all.is_reverse(&Channel::Sms));
        assert!(all.supports(&Channel::Sms) && all.supports(&Channel::WhatsApp));
        assert!(!all.supports(&Channel::Voice));

        // Each setter turns its own flag off again, and only it.
        let off = |caps: Capabilities| {
            [
                caps.qr_code,
                caps.session_resolution,
                caps.check_returns_session,
                caps.localized_messages,
            ]
        };
        assert_eq!(
            off(all.clone().with_qr_code(false)),
            [false, true, true, true]
        );
        assert_eq!(
            off(all.clone().with_session_resolution(false)),
            [true, false, true, true]
        );
        assert_eq!(
            off(all.clone().with_check_returns_session(false)),
            [true, true, false, true]
        );
        assert_eq!(
            off(all.clone().with_localized_messages(false)),
            [true, true, true, false]
        );
        assert_eq!(all.clone().with_qr_code(false).otp_channels, [Channel::Sms]);
    }
}
