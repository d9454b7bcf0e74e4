//! [`CheckOutcome`]: the answer to a check, where a wrong code is an outcome, not an error.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::channel::Channel;
use crate::phone::PhoneNumber;
use crate::session::SessionId;

/// The result of checking a verification.
///
/// ```
/// use phone_verify_core::{CheckOutcome, RejectReason, Rejection};
///
/// let outcome = CheckOutcome::Rejected(Rejection::new(RejectReason::WrongCode));
/// assert!(!outcome.is_verified());
/// assert_eq!(outcome.rejection().map(|r| r.reason), Some(RejectReason::WrongCode));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckOutcome {
    /// The phone is verified.
    Verified(Verified),
    /// A reverse flow the user has not completed yet: poll again later.
    Pending,
    /// The check failed; the verification may still accept another attempt unless expired.
    Rejected(Rejection),
}

impl CheckOutcome {
    /// Whether the phone is verified.
    pub fn is_verified(&self) -> bool {
        matches!(self, Self::Verified(_))
    }

    /// Whether a reverse flow is still waiting for the user.
    pub fn is_pending(&self) -> bool {
        matches!(self, Self::Pending)
    }

    /// The verification details, if verified.
    pub fn verified(&self) -> Option<&Verified> {
        match self {
            Self::Verified(v) => Some(v),
            _ => None,
        }
    }

    /// The rejection, if rejected.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Self::Rejected(r) => Some(r),
            _ => None,
        }
    }
}

/// A successful verification as the provider reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Verified {
    /// The phone number as the provider reported it (for reverse flows, the number the user
    /// wrote from), or the number the code was sent to when the provider reports none.
    pub phone: Option<PhoneNumber>,
    /// A session id to resolve later with a [`SessionResolver`](crate::SessionResolver).
    pub session_id: Option<SessionId>,
    /// The channel that verified the phone.
    pub channel: Channel,
    /// When the provider verified it, if it said.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub verified_at: Option<OffsetDateTime>,
}

impl Verified {
    /// A verification on `channel`.
    pub fn new(channel: Channel) -> Self {
        Self {
            phone: None,
            session_id: None,
            channel,
            verified_at: None,
        }
    }

    /// Sets the phone number.
    #[must_use]
    pub fn with_phone(mut self, phone: Option<PhoneNumber>) -> Self {
        self.phone = phone;
        self
    }

    /// Sets the session id.
    #[must_use]
    pub fn with_session_id(mut self, session: Option<SessionId>) -> Self {
        self.session_id = session;
        self
    }

    /// Sets the verification time.
    #[must_use]
    pub fn with_verified_at(mut self, at: Option<OffsetDateTime>) -> Self {
        self.verified_at = at;
        self
    }
}

/// Why a check did not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RejectReason {
    /// The code does not match; another attempt may succeed.
    WrongCode,
    /// The verification expired: start a new one.
    Expired,
    /// Too many wrong attempts: start a new one later.
    TooManyAttempts,
    /// The provider has no pending verification for this handle (never started, already used,
    /// or replaced by a newer one).
    NotFound,
}

impl RejectReason {
    /// Whether the same verification can still succeed with another code.
    pub fn can_retry(self) -> bool {
        matches!(self, Self::WrongCode)
    }
}

/// A rejected check, with the provider's own code and message when it gave them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rejection {
    /// Why it was rejected.
    pub reason: RejectReason,
    /// The provider's own code (e.g. `403014`, `otp_does_not_match`).
    pub provider_code: Option<String>,
    /// The provider's own message.
    pub message: Option<String>,
    /// The provider's id of the request that was answered with this rejection, when it gave
    /// one (for its support).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Rejection {
    /// A rejection for `reason`.
    pub fn new(reason: RejectReason) -> Self {
        Self {
            reason,
            provider_code: None,
            message: None,
            request_id: None,
        }
    }

    /// Sets the provider's request id.
    #[must_use]
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Sets the provider's code.
    #[must_use]
    pub fn with_provider_code(mut self, code: impl Into<String>) -> Self {
        self.provider_code = Some(code.into());
        self
    }

    /// Sets the provider's message.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_gives_its_own_details_and_no_other() {
        let verified = CheckOutcome::Verified(Verified::new(Channel::Sms));
        assert_eq!(verified.verified().map(|v| &v.channel), Some(&Channel::Sms));
        assert!(verified.rejection().is_none());
        let rejected = CheckOutcome::Rejected(Rejection::new(RejectReason::Expired));
        assert!(rejected.verified().is_none());
        assert_eq!(
            rejected.rejection().map(|r| r.reason),
            Some(RejectReason::Expired)
        );
        assert!(CheckOutcome::Pending.verified().is_none());
        assert!(CheckOutcome::Pending.rejection().is_none());
    }

    #[test]
    fn only_a_wrong_code_leaves_the_verification_open_to_another_code() {
        assert!(RejectReason::WrongCode.can_retry());
        for reason in [
            RejectReason::Expired,
            RejectReason::TooManyAttempts,
            RejectReason::NotFound,
        ] {
            assert!(!reason.can_retry(), "{reason:?}");
        }
    }
}
