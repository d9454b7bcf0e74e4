//! [`Channel`]: how a code or a verification message travels.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a verification reaches, or comes from, the user.
///
/// Serializes as a lowercase name (`"sms"`, `"whatsapp"`, …); names this version does not know
/// become [`Channel::Other`], so handles written by newer versions still load. A blank name is
/// refused when read, and in a handle when written.
///
/// ```
/// use phone_verify_core::Channel;
///
/// assert_eq!("WhatsApp".parse::<Channel>().unwrap(), Channel::WhatsApp);
/// assert_eq!(Channel::FlashCall.as_str(), "flash_call");
/// assert_eq!(Channel::other("carrier-pigeon")?, Channel::Other("carrier-pigeon".into()));
/// assert_eq!(Channel::other(" wa ")?, Channel::WhatsApp);
/// assert!(Channel::other(" ").is_err());
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum Channel {
    /// A code sent by SMS.
    Sms,
    /// A WhatsApp message: a code sent to the user, or (reverse flow) a message the user sends.
    WhatsApp,
    /// A Telegram message, usually a reverse flow.
    Telegram,
    /// A code read out in a voice call.
    Voice,
    /// A missed call whose caller id carries the code.
    FlashCall,
    /// A time-based one-time password from an authenticator app (RFC 6238).
    Totp,
    /// A code sent by email.
    Email,
    /// A channel this version has no name for. Its name is trimmed and is neither blank nor
    /// one of the names or aliases of the other channels (`wa`, `call`, …), or it reads back as
    /// another channel: build it with [`Channel::other`].
    Other(String),
}

impl Channel {
    /// The channel named `name`, trimmed: a built-in channel for its name or an alias
    /// (`"wa"` is [`WhatsApp`](Self::WhatsApp)), [`Other`](Self::Other) for any other name. A
    /// blank name is refused with a [`BlankChannel`] (which converts into an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error), as handles refuse it.
    pub fn other(name: &str) -> Result<Self, BlankChannel> {
        let Ok(channel) = name.parse::<Self>();
        channel.ensure_named()?;
        Ok(channel)
    }

    /// Refuses an [`Other`](Self::Other) channel whose name is blank, which no provider knows:
    /// the check of [`other`](Self::other), so of a handle read, and of a handle written
    /// (`Channel::Other` is public, and its name may be anything).
    pub(crate) fn ensure_named(&self) -> Result<(), BlankChannel> {
        match self {
            Self::Other(name) if crate::text::trim(name).is_empty() => Err(BlankChannel),
            _ => Ok(()),
        }
    }

    /// The channel's stable lowercase name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sms => "sms",
            Self::WhatsApp => "whatsapp",
            Self::Telegram => "telegram",
            Self::Voice => "voice",
            Self::FlashCall => "flash_call",
            Self::Totp => "totp",
            Self::Email => "email",
            Self::Other(name) => name,
        }
    }
}

/// The names [`Channel::from_str`] knows, lowercase.
const NAMES: [(&str, Channel); 12] = [
    ("sms", Channel::Sms),
    ("otp", Channel::Sms),
    ("whatsapp", Channel::WhatsApp),
    ("wa", Channel::WhatsApp),
    ("telegram", Channel::Telegram),
    ("voice", Channel::Voice),
    ("call", Channel::Voice),
    ("flash_call", Channel::FlashCall),
    ("flashcall", Channel::FlashCall),
    ("flash-call", Channel::FlashCall),
    ("totp", Channel::Totp),
    ("email", Channel::Email),
];

/// A blank channel name, refused by [`Channel::other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a channel name cannot be blank")]
pub struct BlankChannel;

/// Never fails: a blank name is `Other("")`, which [`Channel::other`] and handles (written or
/// read) refuse.
impl FromStr for Channel {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = crate::text::trim(s);
        // Compared ignoring ASCII case, without a lowercase copy.
        Ok(NAMES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map_or_else(
                || Self::Other(name.to_owned()),
                |(_, channel)| channel.clone(),
            ))
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Channel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::text::deserialize_str(deserializer, "a channel name", Self::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for ch in [
            Channel::Sms,
            Channel::WhatsApp,
            Channel::Telegram,
            Channel::Voice,
            Channel::FlashCall,
            Channel::Totp,
            Channel::Email,
            Channel::Other("rcs".into()),
        ] {
            let json = serde_json::to_string(&ch).unwrap();
            assert_eq!(serde_json::from_str::<Channel>(&json).unwrap(), ch);
            assert_eq!(ch.to_string().parse::<Channel>().unwrap(), ch);
        }
        assert_eq!("OTP".parse::<Channel>().unwrap(), Channel::Sms);
        assert_eq!(
            " Flash-Call\n".parse::<Channel>().unwrap(),
            Channel::FlashCall
        );
        assert_eq!("wA".parse::<Channel>().unwrap(), Channel::WhatsApp);
        assert_eq!(
            " Pigeon ".parse::<Channel>().unwrap(),
            Channel::Other("Pigeon".into())
        );
        // Only ASCII letters compare without case.
        assert_eq!(
            "\u{212a}all".parse::<Channel>().unwrap(),
            Channel::Other("\u{212a}all".into())
        );
    }

    #[test]
    fn other_normalizes_and_refuses_blank_names() {
        assert_eq!(Channel::other("wa").unwrap(), Channel::WhatsApp);
        assert_eq!(Channel::other(" CALL ").unwrap(), Channel::Voice);
        assert_eq!(Channel::other(" x ").unwrap(), Channel::Other("x".into()));
        for blank in ["", " ", "\t\n"] {
            let err = crate::Error::from(Channel::other(blank).unwrap_err());
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{blank:?}");
            let json = serde_json::to_string(blank).unwrap();
            let err = serde_json::from_str::<Channel>(&json).unwrap_err();
            assert!(err.to_string().contains("cannot be blank"), "{err}");
        }
        assert_eq!(
            serde_json::from_str::<Channel>("\" wa \"").unwrap(),
            Channel::WhatsApp
        );
    }
}
