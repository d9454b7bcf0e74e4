//! [`AccessToken`]: a token Verifik issued, with the expiry its documentation gives.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use time::OffsetDateTime;

/// How long a token from a login or `renew-and-revoke` is valid: 30 days.
pub const TOKEN_VALIDITY: Duration = Duration::from_secs(30 * 86_400);
/// The longest `expiresIn` of a session renewal, in months (100 years).
pub const MAX_RENEWAL_MONTHS: u32 = 1200;

/// An access token with its expiry. `Debug` never shows the token.
///
/// Nothing is decoded from the token (a JWT): its expiry is when it was received plus the
/// validity Verifik documents (30 days for logins and renew-and-revoke, `expiresIn` months of
/// 30 days for a session renewal).
#[derive(Clone)]
pub struct AccessToken {
    token: SecretString,
    token_type: String,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl AccessToken {
    /// A token received at `issued_at`, valid for `validity`.
    pub fn new(token: SecretString, issued_at: OffsetDateTime, validity: Duration) -> Self {
        let validity = time::Duration::try_from(validity).unwrap_or(time::Duration::MAX);
        Self {
            token,
            token_type: "bearer".to_owned(),
            expires_at: issued_at.saturating_add(validity),
            issued_at,
        }
    }

    /// The same token with the `tokenType` Verifik answered.
    pub(crate) fn with_token_type(mut self, token_type: String) -> Self {
        self.token_type = token_type;
        self
    }

    /// The token; read it with [`secrecy::ExposeSecret`].
    pub fn secret(&self) -> &SecretString {
        &self.token
    }

    /// `tokenType`, `bearer`.
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// When it was received.
    pub fn issued_at(&self) -> OffsetDateTime {
        self.issued_at
    }

    /// When it stops working: received plus the documented validity.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// Whether it has expired at `now`.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_after_their_validity() {
        let issued = time::macros::datetime!(2026-01-01 00:00 UTC);
        let token = AccessToken::new(
            SecretString::from("canary-jwt".to_owned()),
            issued,
            TOKEN_VALIDITY,
        );
        assert_eq!(
            token.expires_at(),
            time::macros::datetime!(2026-01-31 00:00 UTC)
        );
        assert!(!token.is_expired_at(issued));
        assert!(token.is_expired_at(token.expires_at()));
        let shown = format!("{token:?}");
        assert!(!shown.contains("canary"), "{shown}");
        for field in [
            "AccessToken",
            "<redacted>",
            "token_type",
            "2026-01-31 0:00:00.0 +00:00:00",
        ] {
            assert!(shown.contains(field), "{field} in {shown}");
        }
    }
}
