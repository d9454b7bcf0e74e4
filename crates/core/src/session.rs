//! [`SessionId`] and [`ResolvedSession`]: resolving a completed verification server-side.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::channel::Channel;
use crate::error::{Error, Result};
use crate::extras::{ExtraKey, Extras};
use crate::phone::PhoneNumber;
use crate::provider::ProviderId;

/// A provider's session id for a completed verification (VerifyKit's `sessionId`, Verifik's
/// validation id), handed to the backend by a web or mobile client. 1 to 512 printable ASCII
/// characters without spaces; provider crates apply their own stricter rules. `Debug` shows only
/// its first four characters, since a session id stands for a verified phone.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    /// Validates a session id.
    pub fn new(id: &str) -> Result<Self> {
        let id = crate::text::trim(id);
        if id.is_empty() || id.len() > 512 || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid_input(
                "session id must be 1-512 printable characters without spaces",
            ));
        }
        Ok(Self(id.to_owned()))
    }

    /// The id, to put on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SessionId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<String> for SessionId {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        Self::new(&value)
    }
}

impl From<SessionId> for String {
    fn from(value: SessionId) -> Self {
        value.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.0.chars().take(4).collect();
        write!(f, "SessionId(\"{shown}…\")")
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number a provider has verified, as resolved from a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResolvedSession {
    /// The verified number.
    pub phone: PhoneNumber,
    /// The channel it was verified on.
    pub channel: Channel,
    /// When it was verified, if the provider said.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub verified_at: Option<OffsetDateTime>,
    /// The provider that verified it.
    pub provider: ProviderId,
    /// Other facts the provider reported (e.g. `mobile_network`).
    #[serde(default, skip_serializing_if = "Extras::is_empty")]
    pub extras: Extras,
}

impl ResolvedSession {
    /// A verified phone.
    pub fn new(phone: PhoneNumber, channel: Channel, provider: ProviderId) -> Self {
        Self {
            phone,
            channel,
            verified_at: None,
            provider,
            extras: Extras::new(),
        }
    }

    /// Sets the verification time.
    #[must_use]
    pub fn with_verified_at(mut self, at: Option<OffsetDateTime>) -> Self {
        self.verified_at = at;
        self
    }

    /// Adds a provider-specific fact.
    #[must_use]
    pub fn with_extra(
        mut self,
        key: impl Into<ExtraKey>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.extras.insert(key, value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids() {
        let id = SessionId::new("QWERTY123456").unwrap();
        assert_eq!(format!("{id:?}"), "SessionId(\"QWER…\")");
        assert_eq!(id.to_string(), "QWERTY123456");
        for bad in ["", "has space", "tab\there", &"x".repeat(513)] {
            assert!(SessionId::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(String::from(id), "QWERTY123456");
    }
}
