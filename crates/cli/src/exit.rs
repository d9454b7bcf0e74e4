//! Exit codes, and the failures that end a command.

use std::fmt;

/// Verified, resolved, done.
pub(crate) const SUCCESS: u8 = 0;
/// Rejected: a wrong or expired code, an unknown session, a demo flow that misbehaved.
pub(crate) const REJECTED: u8 = 1;
/// A provider, network, configuration or I/O error.
pub(crate) const ERROR: u8 = 2;
/// A reverse flow the user has not completed.
pub(crate) const PENDING: u8 = 3;
/// Bad arguments: nothing was sent.
pub(crate) const USAGE: u8 = 64;

/// Why a command stopped.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line (or a file it names) is wrong; nothing was sent.
    Usage(String),
    /// An error of phone-verify or a provider: its `Display` is one line with the provider's
    /// code and request id.
    Verify(phone_verify::Error),
    /// Anything else (I/O, the sandbox): one line.
    Other(String),
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

    /// The process exit code.
    pub(crate) fn code(&self) -> u8 {
        match self {
            Self::Usage(_) => USAGE,
            Self::Verify(_) | Self::Other(_) => ERROR,
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
            Self::Verify(err) => serde_json::json!({
                "error": {
                    "kind": format!("{:?}", err.kind()),
                    "message": err.to_string(),
                    "provider": err.provider().map(ToString::to_string),
                    "provider_code": err.provider_code(),
                    "http_status": err.http_status(),
                    "request_id": err.request_id(),
                    "retryable": err.is_retryable(),
                }
            }),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) | Self::Other(message) => f.write_str(message),
            Self::Verify(err) => write!(f, "{err}"),
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
