//! Exit codes, and the failures that end a command.

use std::fmt;

use phone_verify::ErrorKind;

/// Verified, resolved, done.
pub(crate) const SUCCESS: u8 = 0;
/// Rejected: a wrong or expired code, an unknown session, a demo flow that misbehaved.
pub(crate) const REJECTED: u8 = 1;
/// A provider, network, configuration or I/O error; also a code check whose outcome is unknown
/// (`ErrorKind::OutcomeUnknown`): the code may have been used up, so start a new verification.
pub(crate) const ERROR: u8 = 2;
/// A reverse flow the user has not completed.
pub(crate) const PENDING: u8 = 3;
/// Bad arguments: nothing was sent.
pub(crate) const USAGE: u8 = 64;
/// A bug stopped the command (it panicked), as Rust's own exit code for a panic.
pub(crate) const INTERNAL: u8 = 101;

/// Why a command stopped.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line (or a file it names) is wrong; nothing was sent.
    Usage(String),
    /// An error of phone-verify or a provider: its `Display` is one line with the provider's
    /// code and request id.
    Verify(phone_verify::Error),
    /// Input that phone-verify refused before sending anything (a handle checked without a
    /// code, a channel the provider does not offer): exit 64, with the error's fields.
    Refused(phone_verify::Error),
    /// Anything else (I/O, the sandbox): one line.
    Other(String),
    /// A bug: the command panicked, and the panic hook described it on stderr. Nothing of the
    /// panic is kept, since its message may quote input.
    Internal,
}

impl Failure {
    /// A usage failure.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    /// Another failure.
    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self::Other(message.into())
    }

    /// The failure of a provider call: input refused before any request (invalid or
    /// unsupported, with no HTTP status or request id) is a usage error; anything else is
    /// the provider's or the network's.
    pub(crate) fn call(err: phone_verify::Error) -> Self {
        let before_sending = matches!(err.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported)
            && err.http_status().is_none()
            && err.request_id().is_none();
        if before_sending {
            Self::Refused(err)
        } else {
            Self::Verify(err)
        }
    }

    /// The process exit code.
    pub(crate) fn code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Refused(_) => USAGE,
            Self::Verify(_) | Self::Other(_) => ERROR,
            Self::Internal => INTERNAL,
        }
    }

    /// What the user should do next, when the error calls for more than a retry.
    pub(crate) fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Verify(err) if err.kind() == ErrorKind::OutcomeUnknown => Some(
                "the provider may or may not have accepted the code, and it cannot be checked \
                 again: start a new verification",
            ),
            Self::Verify(err) if err.kind() == ErrorKind::MaybeSent => Some(
                "a code may have been sent although the answer was lost: wait for it before \
                 starting again, or the phone gets a second code",
            ),
            _ => None,
        }
    }

    /// The JSON form, for `--json`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Usage(message) => serde_json::json!({
                "error": { "kind": "Usage", "message": message }
            }),
            Self::Other(message) => serde_json::json!({
                "error": { "kind": "Other", "message": message }
            }),
            Self::Internal => serde_json::json!({
                "error": { "kind": "Internal", "message": self.to_string() }
            }),
            Self::Verify(err) | Self::Refused(err) => serde_json::json!({
                "error": {
                    "kind": format!("{:?}", err.kind()),
                    "message": err.to_string(),
                    "provider": err.provider().map(ToString::to_string),
                    "provider_code": err.provider_code(),
                    "http_status": err.http_status(),
                    "request_id": err.request_id(),
                    "retryable": err.is_retryable(),
                    "hint": self.hint(),
                }
            }),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) | Self::Other(message) => f.write_str(message),
            Self::Verify(err) | Self::Refused(err) => write!(f, "{err}"),
            Self::Internal => f.write_str(
                "internal error: a bug in phone-verify stopped the command (its panic is \
                 described on stderr)",
            ),
        }
    }
}

impl From<phone_verify::Error> for Failure {
    fn from(err: phone_verify::Error) -> Self {
        Self::Verify(err)
    }
}

/// What a command returns: the exit code of a completed command, or why it stopped.
pub(crate) type Outcome = Result<u8, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_outcome_exits_2_with_a_hint_and_its_kind() {
        let failure = Failure::from(
            phone_verify::Error::new(ErrorKind::OutcomeUnknown, "the answer was lost")
                .with_provider(phone_verify::ProviderId::new_static("verifykit")),
        );
        assert_eq!(failure.code(), ERROR);
        assert!(failure.hint().unwrap().contains("start a new verification"));
        let json = failure.to_json();
        assert_eq!(json["error"]["kind"], "OutcomeUnknown");
        assert_eq!(json["error"]["retryable"], false);
        assert!(
            json["error"]["hint"]
                .as_str()
                .unwrap()
                .contains("start a new verification")
        );
        let other = Failure::from(phone_verify::Error::new(
            ErrorKind::Timeout,
            "the provider is slow",
        ));
        assert_eq!(other.code(), ERROR);
        assert_eq!(other.hint(), None);
        assert!(other.to_json()["error"]["hint"].is_null());
    }

    #[test]
    fn a_panic_exits_101_with_a_json_error_of_its_own() {
        let failure = Failure::Internal;
        assert_eq!(failure.code(), INTERNAL);
        assert_eq!(failure.hint(), None);
        let json = failure.to_json();
        assert_eq!(json["error"]["kind"], "Internal");
        assert_eq!(json["error"]["message"], failure.to_string());
        assert!(
            failure.to_string().contains("a bug in phone-verify"),
            "{failure}"
        );
    }

    #[test]
    fn a_send_whose_answer_was_lost_warns_of_a_second_code() {
        let failure = Failure::call(phone_verify::Error::new(
            ErrorKind::MaybeSent,
            "the connection closed",
        ));
        assert_eq!(failure.code(), ERROR);
        assert!(failure.hint().unwrap().contains("second code"));
    }

    #[test]
    fn input_refused_before_any_request_is_a_usage_error_with_its_fields() {
        for kind in [ErrorKind::InvalidInput, ErrorKind::Unsupported] {
            let refused = Failure::call(
                phone_verify::Error::new(kind, "a code is required")
                    .with_provider(phone_verify::ProviderId::new_static("verifik")),
            );
            assert_eq!(refused.code(), USAGE, "{kind:?}");
            let json = refused.to_json();
            assert_eq!(json["error"]["kind"], format!("{kind:?}"));
            assert_eq!(json["error"]["provider"], "verifik");
            assert!(
                refused.to_string().contains("a code is required"),
                "{refused}"
            );
        }
        // The provider's own refusal (it has an HTTP status) is the provider's error.
        let answered = Failure::call(
            phone_verify::Error::new(ErrorKind::InvalidInput, "bad number").with_http_status(400),
        );
        assert_eq!(answered.code(), ERROR);
        let other = Failure::call(phone_verify::Error::new(ErrorKind::Timeout, "slow"));
        assert_eq!(other.code(), ERROR);
    }
}
