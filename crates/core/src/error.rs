//! The error model: one [`Error`] type with an [`ErrorKind`] and the provider's own details.

use std::fmt;
use std::time::Duration;

use crate::channel::BlankChannel;
use crate::phone::PhoneError;
use crate::provider::{InvalidProviderId, ProviderId};

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, in terms an application can act on.
///
/// A wrong or expired code is not an error: it is a [`CheckOutcome`](crate::CheckOutcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's input was refused before any request was sent, or by the provider.
    InvalidInput,
    /// The credentials were refused.
    Unauthorized,
    /// The provider does not know the verification, session, user or resource.
    NotFound,
    /// A session or resource has expired. (An expired code in a check is the outcome
    /// `Rejected(RejectReason::Expired)`, not this error.)
    Expired,
    /// Too many requests; see [`Error::retry_after`].
    RateLimited,
    /// The account's balance, credits or package quota is exhausted.
    QuotaExhausted,
    /// The number is banned or blocked by the provider.
    Blocked,
    /// The provider conflicts with the request: it already exists, is already verified, or a
    /// code was sent too recently.
    Conflict,
    /// The provider or this client does not support the operation or channel.
    Unsupported,
    /// The provider answered with a server error or is unavailable.
    ProviderUnavailable,
    /// The request did not complete in time.
    Timeout,
    /// The connection failed (DNS, TCP, TLS, reset).
    Transport,
    /// The provider's response could not be decoded. (To a send or a code check, a 2xx answer
    /// that cannot be used is [`MaybeSent`](Self::MaybeSent) or
    /// [`OutcomeUnknown`](Self::OutcomeUnknown): the provider took the request.)
    Decode,
    /// A message may or may not have been sent: the outcome of a send is unknown (its answer
    /// was lost, was a server error, or was a 2xx that cannot be used). It is never retried
    /// automatically; check the provider's console or start again knowingly.
    MaybeSent,
    /// The provider may or may not have acted on a request that consumes state, typically a
    /// code check whose answer was lost (a timeout or a dropped connection after the request
    /// left, a server error other than a 503 with `Retry-After` (a plain 503 included: proxies
    /// answer it after forwarding the request), or a 2xx answer that cannot be used). The code
    /// may already be used, so repeating the check could report a wrong rejection: it is never
    /// retried automatically. Ask the user to start a new verification. Never reported as a
    /// rejection.
    OutcomeUnknown,
    /// The provider refused the request for a reason no other kind describes.
    Provider,
}

impl ErrorKind {
    /// Whether repeating the same request later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::ProviderUnavailable | Self::Timeout | Self::Transport
        )
    }

    /// A short lowercase description, e.g. `rate limited`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid input",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not found",
            Self::Expired => "expired",
            Self::RateLimited => "rate limited",
            Self::QuotaExhausted => "quota exhausted",
            Self::Blocked => "blocked",
            Self::Conflict => "conflict",
            Self::Unsupported => "unsupported",
            Self::ProviderUnavailable => "provider unavailable",
            Self::Timeout => "timeout",
            Self::Transport => "transport failure",
            Self::Decode => "undecodable response",
            Self::MaybeSent => "may have been sent",
            Self::OutcomeUnknown => "outcome unknown",
            Self::Provider => "provider error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of every phone-verify operation.
///
/// It carries a [`kind`](Error::kind) to branch on and, when a provider answered, the provider's
/// own error code, message, HTTP status and request id. It never contains credentials or codes.
///
/// ```
/// use phone_verify_core::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::RateLimited, "too many requests")
///     .with_provider_code("429001")
///     .with_http_status(429)
///     .with_request_id("app02-REQ-1");
/// assert!(err.is_retryable());
/// assert_eq!(err.provider_code(), Some("429001"));
/// assert_eq!(err.to_string(), "rate limited: too many requests (HTTP 429, code 429001, request app02-REQ-1)");
/// ```
#[derive(thiserror::Error)]
#[error(transparent)]
#[non_exhaustive]
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: String,
    provider: Option<ProviderId>,
    provider_code: Option<String>,
    provider_message: Option<String>,
    http_status: Option<u16>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    source: Option<BoxError>,
}

impl Error {
    /// A new error of `kind` with a human-readable message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            provider: None,
            provider_code: None,
            provider_message: None,
            http_status: None,
            request_id: None,
            retry_after: None,
            source: None,
        }))
    }

    /// An [`ErrorKind::InvalidInput`] error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// An [`ErrorKind::Unsupported`] error.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    /// Sets the provider the error comes from.
    #[must_use]
    pub fn with_provider(mut self, provider: ProviderId) -> Self {
        self.0.provider = Some(provider);
        self
    }

    /// Sets the provider's own error code (e.g. `403014` or `otp_does_not_match`).
    #[must_use]
    pub fn with_provider_code(mut self, code: impl Into<String>) -> Self {
        self.0.provider_code = Some(code.into());
        self
    }

    /// Sets the provider's own error message.
    #[must_use]
    pub fn with_provider_message(mut self, message: impl Into<String>) -> Self {
        self.0.provider_message = Some(message.into());
        self
    }

    /// Sets the HTTP status the provider answered with.
    #[must_use]
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.0.http_status = Some(status);
        self
    }

    /// Sets the provider's request id.
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.0.request_id = Some(request_id.into());
        self
    }

    /// Sets how long the provider asked to wait before retrying.
    #[must_use]
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.0.retry_after = Some(delay);
        self
    }

    /// Sets the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.0.source = Some(source.into());
        self
    }

    /// Returns the same error with another kind (e.g. a transport failure during a send
    /// becomes [`ErrorKind::MaybeSent`]).
    #[must_use]
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.0.kind = kind;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// Whether repeating the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.0.kind.is_retryable()
    }

    /// The message describing this error.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The provider the error comes from.
    pub fn provider(&self) -> Option<&ProviderId> {
        self.0.provider.as_ref()
    }

    /// The provider's own error code.
    pub fn provider_code(&self) -> Option<&str> {
        self.0.provider_code.as_deref()
    }

    /// The provider's own error message.
    pub fn provider_message(&self) -> Option<&str> {
        self.0.provider_message.as_deref()
    }

    /// The HTTP status of the provider's answer.
    pub fn http_status(&self) -> Option<u16> {
        self.0.http_status
    }

    /// The provider's request id, for its support.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// How long the provider asked to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }
}

impl fmt::Display for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(provider) = &self.provider {
            write!(f, "{provider}: ")?;
        }
        write!(f, "{}: {}", self.kind, self.message)?;
        let mut details = Vec::new();
        if let Some(status) = self.http_status {
            details.push(format!("HTTP {status}"));
        }
        if let Some(code) = &self.provider_code {
            details.push(format!("code {code}"));
        }
        if let Some(id) = &self.request_id {
            details.push(format!("request {id}"));
        }
        if let Some(delay) = self.retry_after {
            details.push(format!("retry after {}s", delay.as_secs_f64()));
        }
        if !details.is_empty() {
            write!(f, " ({})", details.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("provider", &self.provider)
            .field("provider_code", &self.provider_code)
            .field("provider_message", &self.provider_message)
            .field("http_status", &self.http_status)
            .field("request_id", &self.request_id)
            .field("retry_after", &self.retry_after)
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for Inner {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<PhoneError> for Error {
    fn from(err: PhoneError) -> Self {
        Self::new(
            ErrorKind::InvalidInput,
            format!("invalid phone number: {err}"),
        )
        .with_source(err)
    }
}

impl From<BlankChannel> for Error {
    fn from(err: BlankChannel) -> Self {
        Self::invalid_input(err.to_string())
    }
}

impl From<InvalidProviderId> for Error {
    fn from(err: InvalidProviderId) -> Self {
        Self::invalid_input(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_provider_id_is_invalid_input() {
        let err: Error = ProviderId::new("Acme SMS").unwrap_err().into();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            r#"invalid input: provider id "Acme SMS" must be 1-64 lowercase letters, digits, '-' or '_'"#
        );
    }

    #[test]
    fn classifies_retryable_kinds() {
        let retryable = [
            ErrorKind::RateLimited,
            ErrorKind::ProviderUnavailable,
            ErrorKind::Timeout,
            ErrorKind::Transport,
        ];
        let final_kinds = [
            ErrorKind::InvalidInput,
            ErrorKind::Unauthorized,
            ErrorKind::NotFound,
            ErrorKind::Expired,
            ErrorKind::QuotaExhausted,
            ErrorKind::Blocked,
            ErrorKind::Conflict,
            ErrorKind::Unsupported,
            ErrorKind::Decode,
            ErrorKind::MaybeSent,
            ErrorKind::OutcomeUnknown,
            ErrorKind::Provider,
        ];
        for kind in retryable {
            assert!(Error::new(kind, "x").is_retryable(), "{kind}");
        }
        for kind in final_kinds {
            assert!(!Error::new(kind, "x").is_retryable(), "{kind}");
        }
    }

    #[test]
    fn keeps_metadata_and_source() {
        let err = Error::new(ErrorKind::NotFound, "no such validation")
            .with_provider(ProviderId::new_static("verifik"))
            .with_provider_code("phone_validation_not_found")
            .with_provider_message("404:phone_validation_not_found")
            .with_http_status(404)
            .with_request_id("Y0628")
            .with_source(std::io::Error::other("inner"));
        assert_eq!(err.provider().map(ProviderId::as_str), Some("verifik"));
        assert_eq!(
            err.provider_message(),
            Some("404:phone_validation_not_found")
        );
        assert_eq!(err.http_status(), Some(404));
        assert_eq!(err.request_id(), Some("Y0628"));
        assert_eq!(
            err.to_string(),
            "verifik: not found: no such validation (HTTP 404, code phone_validation_not_found, request Y0628)"
        );
        assert_eq!(
            std::error::Error::source(&err).map(ToString::to_string),
            Some("inner".into())
        );
        assert!(format!("{err:?}").contains("phone_validation_not_found"));
    }

    #[test]
    fn phone_errors_are_invalid_input() {
        let err: Error = PhoneError::Empty.into();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("phone number is empty"));
    }

    #[test]
    fn error_is_small() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
