//! The [`Harness`] trait: what the conformance suite needs from a test environment.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use phone_verify_core::{
    Channel, Code, ErrorKind, PhoneNumber, PhoneVerifier, ProviderId, RejectReason,
    SessionResolver, Verification,
};

/// Why a harness could not do what a check asked.
///
/// [`Unsupported`](HarnessError::Unsupported) makes the check that needed it *skipped*;
/// [`Failed`](HarnessError::Failed) makes it *failed*.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// This harness cannot do it (e.g. a real provider's clock cannot be moved).
    #[error("unsupported by this harness: {0}")]
    Unsupported(String),
    /// The harness can do it but it went wrong.
    #[error("harness failure: {0}")]
    Failed(String),
}

impl HarnessError {
    /// An [`Unsupported`](HarnessError::Unsupported) error.
    pub fn unsupported(what: impl Into<String>) -> Self {
        Self::Unsupported(what.into())
    }

    /// A [`Failed`](HarnessError::Failed) error.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }
}

impl From<phone_verify_core::Error> for HarnessError {
    fn from(err: phone_verify_core::Error) -> Self {
        Self::Failed(err.to_string())
    }
}

/// A `Result` whose error is [`HarnessError`].
pub type HarnessResult<T> = Result<T, HarnessError>;

/// A failure to inject into the next send request.
///
/// New variants may be added: a harness matches the variants it can inject and answers the
/// others (`_`) with [`HarnessError::Unsupported`], which skips the checks that need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendFault {
    /// The provider answers `503 Service Unavailable` with `Retry-After` (one second), without
    /// sending anything: refused before processing, so its client reports
    /// [`ErrorKind::ProviderUnavailable`](phone_verify_core::ErrorKind::ProviderUnavailable),
    /// and does not send again (a send is never retried).
    ServiceUnavailable,
    /// The provider answers `503 Service Unavailable` without `Retry-After`, without sending
    /// anything. A proxy answers so after forwarding a request too, so the client cannot tell
    /// whether a message went out:
    /// [`ErrorKind::MaybeSent`](phone_verify_core::ErrorKind::MaybeSent), and nothing else.
    ServiceUnavailableWithoutRetryAfter,
    /// The connection is reset before any answer arrives.
    ConnectionReset,
    /// The provider refuses the send (401), its error message quoting the credentials the
    /// request carried, as a provider that echoes them would: nothing is sent.
    CredentialsEchoed,
    /// The provider answers `500 Internal Server Error` without `Retry-After`, without sending
    /// anything. A provider fails so after taking a send too (or a proxy after forwarding it),
    /// so the client cannot tell whether a message went out:
    /// [`ErrorKind::MaybeSent`](phone_verify_core::ErrorKind::MaybeSent), and nothing else.
    InternalServerError,
    /// The same with `502 Bad Gateway`: a proxy's answer, which it may give after forwarding
    /// the send.
    BadGateway,
    /// The same with `504 Gateway Timeout`: a proxy gave up waiting for the provider, which
    /// may still send.
    GatewayTimeout,
}

impl SendFault {
    /// The server errors other than a 503 that the suite injects into sends, in its order. A
    /// slice, so that a fault added later changes neither its type nor code that iterates it.
    pub const SERVER_ERRORS: &'static [Self] = &[
        Self::InternalServerError,
        Self::BadGateway,
        Self::GatewayTimeout,
    ];

    /// A short name used in check names, e.g. `503`, `plain_503`, `reset` or `500`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ServiceUnavailable => "503",
            Self::ServiceUnavailableWithoutRetryAfter => "plain_503",
            Self::ConnectionReset => "reset",
            Self::CredentialsEchoed => "echo",
            Self::InternalServerError => "500",
            Self::BadGateway => "502",
            Self::GatewayTimeout => "504",
        }
    }

    /// The HTTP status the provider answers with; `None` for a connection reset, which gets
    /// no answer.
    pub fn status(self) -> Option<u16> {
        match self {
            Self::ServiceUnavailable | Self::ServiceUnavailableWithoutRetryAfter => Some(503),
            Self::ConnectionReset => None,
            Self::CredentialsEchoed => Some(401),
            Self::InternalServerError => Some(500),
            Self::BadGateway => Some(502),
            Self::GatewayTimeout => Some(504),
        }
    }
}

/// A failure to inject into the next code check of one verification.
///
/// New variants may be added: a harness matches the variants it can inject and answers the
/// others (`_`) with [`HarnessError::Unsupported`], which skips the checks that need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckFault {
    /// The provider takes the check (a right code is used up), then the connection drops
    /// before any answer byte: the client cannot know what happened.
    AnswerLost,
    /// The provider answers `503 Service Unavailable` without `Retry-After`, without processing
    /// the check. A proxy gives that server error after forwarding a request too, so the
    /// client cannot know whether the code was used: its client reports
    /// [`ErrorKind::OutcomeUnknown`](phone_verify_core::ErrorKind::OutcomeUnknown), never a
    /// rejection, and does not check again.
    ServerError,
    /// The provider answers `500 Internal Server Error` without `Retry-After`, without
    /// processing the check. A provider fails so after taking a check too (or a proxy after
    /// forwarding it), so the client cannot know whether the code was used:
    /// [`ErrorKind::OutcomeUnknown`](phone_verify_core::ErrorKind::OutcomeUnknown), never a
    /// rejection, and it does not check again.
    InternalServerError,
    /// The same with `502 Bad Gateway`: a proxy's answer, which it may give after forwarding
    /// the check.
    BadGateway,
    /// The same with `504 Gateway Timeout`: a proxy gave up waiting for the provider, which
    /// may still take the check.
    GatewayTimeout,
}

impl CheckFault {
    /// The server errors other than a 503 that the suite injects into code checks, in its
    /// order. A slice, so that a fault added later changes neither its type nor code that
    /// iterates it.
    pub const SERVER_ERRORS: &'static [Self] = &[
        Self::InternalServerError,
        Self::BadGateway,
        Self::GatewayTimeout,
    ];

    /// The HTTP status the provider answers with; `None` for a lost answer.
    pub fn status(self) -> Option<u16> {
        match self {
            Self::AnswerLost => None,
            Self::ServerError => Some(503),
            Self::InternalServerError => Some(500),
            Self::BadGateway => Some(502),
            Self::GatewayTimeout => Some(504),
        }
    }
}

/// A failure to inject into the next lookup of one verification: a reverse flow's poll, or
/// the resolution of its session. Lookups change nothing at the provider, so a verifier
/// retries them, with backoff, honouring `Retry-After`.
///
/// New variants may be added: a harness matches the variants it can inject and answers the
/// others (`_`) with [`HarnessError::Unsupported`], which skips the checks that need them. A
/// harness must not inject another failure than the one asked for: the checks' verdicts
/// depend on what the provider answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LookupFault {
    /// The provider answers `503 Service Unavailable` with `Retry-After` of
    /// [`LookupFault::RETRY_AFTER`], without processing the request: the lookup must be
    /// retried once that time has passed, and then succeed.
    ServiceUnavailable,
    /// The provider answers `429 Too Many Requests` with `Retry-After` of
    /// [`LookupFault::RETRY_AFTER`], without processing the request: the lookup must be
    /// retried once that time has passed, and then succeed.
    RateLimited,
    /// The provider answers `503 Service Unavailable` without `Retry-After`, without
    /// processing the request: the lookup must be retried after a backoff of the verifier's
    /// choosing, and then succeed.
    ServiceUnavailableWithoutRetryAfter,
    /// The connection is reset before any answer byte, the request unprocessed: the lookup
    /// must be retried, and then succeed.
    ConnectionReset,
}

impl LookupFault {
    /// The `Retry-After` an injected lookup fault gives, when it gives one: one second.
    pub const RETRY_AFTER: Duration = Duration::from_secs(1);

    /// Every lookup fault, in the order the suite injects them. A slice, so that a fault
    /// added later changes neither its type nor code that iterates it.
    pub const ALL: &'static [Self] = &[
        Self::ServiceUnavailable,
        Self::RateLimited,
        Self::ServiceUnavailableWithoutRetryAfter,
        Self::ConnectionReset,
    ];

    /// A short name used in check names, e.g. `503`, `429`, `plain_503` or
    /// `reset`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ServiceUnavailable => "503",
            Self::RateLimited => "429",
            Self::ServiceUnavailableWithoutRetryAfter => "plain_503",
            Self::ConnectionReset => "reset",
        }
    }

    /// The `Retry-After` the provider's answer carries: [`LookupFault::RETRY_AFTER`] for a
    /// 503 or 429 that gives one, `None` for the others.
    pub fn retry_after(self) -> Option<Duration> {
        match self {
            Self::ServiceUnavailable | Self::RateLimited => Some(Self::RETRY_AFTER),
            Self::ServiceUnavailableWithoutRetryAfter | Self::ConnectionReset => None,
        }
    }

    /// What the provider answers, for reports, e.g. `429 with Retry-After: 1`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::ServiceUnavailable => "503 with Retry-After: 1",
            Self::RateLimited => "429 with Retry-After: 1",
            Self::ServiceUnavailableWithoutRetryAfter => "503 without Retry-After",
            Self::ConnectionReset => "a connection reset before any answer",
        }
    }
}

/// An answer no provider should give, to inject into the provider's next answer to one
/// operation ([`Harness::inject_hostile_answer`]): the status line and headers of a success,
/// then a body the client cannot use. The verifier must end with a typed error (or, for a
/// lookup, the right answer after a retry), never a panic, a hang or an answer made up from
/// the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostileAnswer {
    /// The provider takes the request, then sends half of the body its `Content-Length`
    /// announced and drops the connection.
    TruncatedBody,
    /// A 2xx `application/json` answer whose body is not JSON, given without processing the
    /// request.
    MalformedJson,
    /// A 2xx answer of another content type (an HTML page) where JSON was expected, given
    /// without processing the request.
    WrongContentType,
    /// The provider takes the request, then answers its own answer padded to several MiB of
    /// valid JSON ([`HostileAnswer::OVERSIZED_BYTES`]), streamed without `Content-Length`: more
    /// than a client should read (the kit's HTTP layer stops at 1 MiB by default). A client
    /// without a size cap reads the real answer, and fails the checks.
    OversizedBody,
    /// A 2xx `application/json` answer whose body is the empty object `{}`, valid JSON with
    /// none of the fields the provider's answer has, given without processing the request. A
    /// client that unwraps a missing field panics; one that defaults it (an empty reference,
    /// a status) makes an answer up.
    EmptyObject,
    /// A 2xx `application/json` answer whose body is valid JSON of the wrong shape, the empty
    /// array `[]` where an object was expected, given without processing the request.
    WrongShape,
    /// The provider takes the request and sends the status line and headers, then the body
    /// stalls for longer than `longer_than` (the suite gives the
    /// [impatient client](Harness::impatient_client)'s
    /// [`gives_up_within`](ImpatientClient::gives_up_within)): only the verifier's own timeout
    /// ends the wait.
    StalledBody {
        /// The body stalls for longer than this.
        longer_than: Duration,
    },
}

impl HostileAnswer {
    /// The unreadable answers, in the order the suite injects them: all but
    /// [`StalledBody`](HostileAnswer::StalledBody), which needs a verifier that gives up in a
    /// known time ([`Harness::impatient_client`]). A slice, so that an answer added later
    /// changes neither its type nor code that iterates it.
    pub const UNREADABLE: &'static [Self] = &[
        Self::TruncatedBody,
        Self::MalformedJson,
        Self::WrongContentType,
        Self::OversizedBody,
        Self::EmptyObject,
        Self::WrongShape,
    ];

    /// The size of an [`OversizedBody`](HostileAnswer::OversizedBody): 4 MiB.
    pub const OVERSIZED_BYTES: u64 = 4 * 1024 * 1024;

    /// Whether the provider processes the request it gives this answer to: all but
    /// [`MalformedJson`](HostileAnswer::MalformedJson),
    /// [`WrongContentType`](HostileAnswer::WrongContentType),
    /// [`EmptyObject`](HostileAnswer::EmptyObject) and
    /// [`WrongShape`](HostileAnswer::WrongShape), as the sandbox does.
    pub(crate) fn processed(self) -> bool {
        !matches!(
            self,
            Self::MalformedJson | Self::WrongContentType | Self::EmptyObject | Self::WrongShape
        )
    }

    /// The body of an answer of valid JSON that is not the provider's: `{}` for
    /// [`EmptyObject`](HostileAnswer::EmptyObject), `[]` for
    /// [`WrongShape`](HostileAnswer::WrongShape), `None` for the others.
    pub fn json_body(self) -> Option<&'static str> {
        match self {
            Self::EmptyObject => Some("{}"),
            Self::WrongShape => Some("[]"),
            _ => None,
        }
    }

    /// A short name for reports, e.g. `truncated body`.
    pub fn name(self) -> &'static str {
        match self {
            Self::TruncatedBody => "truncated body",
            Self::MalformedJson => "malformed JSON",
            Self::WrongContentType => "wrong content type",
            Self::OversizedBody => "oversized body",
            Self::EmptyObject => "JSON object without fields",
            Self::WrongShape => "JSON array",
            Self::StalledBody { .. } => "stalled body",
        }
    }
}

/// The operation whose next answer a [`HostileAnswer`] replaces, as the harness's other fault
/// methods tell them apart.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum AnswerTo<'a> {
    /// The next send request (where [`Harness::inject_send_fault`] injects).
    Send,
    /// The next code check of this verification (where [`Harness::inject_check_fault`]
    /// injects).
    Check(&'a Verification),
    /// The next lookup of this verification: a reverse flow's poll, or the resolution of the
    /// session its check returned (where [`Harness::inject_lookup_fault`] injects).
    Lookup(&'a Verification),
}

impl AnswerTo<'_> {
    /// Which operation this is, without its verification.
    pub fn answering(&self) -> Answering {
        match self {
            Self::Send => Answering::Send,
            Self::Check(_) => Answering::Check,
            Self::Lookup(_) => Answering::Lookup,
        }
    }
}

/// The operation a [`DocumentedError`] answers: [`AnswerTo`]'s operations, before the
/// verification they concern exists (the suite starts a fresh one for each error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Answering {
    /// A send: the suite starts an OTP verification ([`AnswerTo::Send`]).
    Send,
    /// A code check: the suite starts a fresh OTP verification and checks its code
    /// ([`AnswerTo::Check`]).
    Check,
    /// A lookup: the suite resolves a verified session when the verifier resolves sessions,
    /// else polls a reverse flow ([`AnswerTo::Lookup`]).
    Lookup,
}

impl Answering {
    /// A short lowercase name for reports: `send`, `check` or `lookup`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Check => "check",
            Self::Lookup => "lookup",
        }
    }
}

/// What a [`DocumentedError`] must become in the verifier's hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExpectedResult {
    /// An `Err` of this kind.
    Error(ErrorKind),
    /// `Ok(CheckOutcome::Rejected(..))` with this reason: a code check's refusal (or a poll's)
    /// is an outcome, not an error.
    Rejected(RejectReason),
}

impl std::fmt::Display for ExpectedResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Error(kind) => write!(f, "a {kind:?} error"),
            Self::Rejected(reason) => write!(f, "rejected ({reason:?})"),
        }
    }
}

/// One error the provider documents, as it comes over the wire, and what the verifier must
/// make of it: the input of the check `errors.documented_codes_typed`
/// ([`Harness::documented_errors`], injected with [`Harness::inject_documented_error`]).
///
/// It enforces the rule that every documented provider error code maps to a typed error kind,
/// with the provider's own code, message and request id preserved: the verifier must answer
/// the operation with [`expected`](DocumentedError::expected), keep
/// [`provider_code`](DocumentedError::provider_code) in `Error::provider_code()` (or
/// `Rejection::provider_code`), show [`message`](DocumentedError::message) in
/// `Error::message()` or `Error::provider_message()` (or `Rejection::message`), and keep
/// [`request_id`](DocumentedError::request_id) in `Error::request_id()` (or
/// `Rejection::request_id`).
///
/// ```
/// use phone_verify_core::{ErrorKind, RejectReason};
/// use phone_verify_testkit::{Answering, DocumentedError};
///
/// let banned = DocumentedError::error(
///     Answering::Send,
///     403,
///     r#"{"meta":{"requestId":"REQ-1","errorCode":403012,"errorMessage":"Phone number is banned."}}"#,
///     ErrorKind::Blocked,
///     "403012",
/// )
/// .with_message("Phone number is banned.")
/// .with_request_id("REQ-1");
/// let wrong = DocumentedError::rejection(
///     Answering::Check,
///     400,
///     r#"{"code":60200,"message":"Invalid parameter"}"#,
///     RejectReason::WrongCode,
///     "60200",
/// )
/// .with_header("Twilio-Request-Id", "RQ0123");
/// assert_eq!(banned.provider_code, "403012");
/// assert_eq!(wrong.headers, [("Twilio-Request-Id".to_owned(), "RQ0123".to_owned())]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DocumentedError {
    /// The operation whose answer it is.
    pub answering: Answering,
    /// The HTTP status of the answer.
    pub status: u16,
    /// Response headers besides the ones any answer has (e.g. the provider's request-id
    /// header), as name and value.
    pub headers: Vec<(String, String)>,
    /// The response body, exactly as the provider sends it.
    pub body: String,
    /// What the verifier must make of it.
    pub expected: ExpectedResult,
    /// The provider's own code the error (or rejection) must keep.
    pub provider_code: String,
    /// A text the error's message (or the rejection's) must contain: the provider's message.
    /// Runs of whitespace and control characters compare as one space, since a client may
    /// clean them (a line break in a message, say) before showing it.
    pub message: Option<String>,
    /// The provider's request id the error (or rejection) must keep.
    pub request_id: Option<String>,
    /// How many answers to the operation it replaces, from the next one (at least 1; 1 by
    /// default): more for a refusal the verifier may rightly ask again (say, a final 429
    /// answering a code check, which the kit re-asks), as the provider would keep refusing.
    pub times: u32,
}

impl DocumentedError {
    /// The answer `status` with `body` to `answering`, which must end in an error of `kind`
    /// keeping the provider's `code`.
    pub fn error(
        answering: Answering,
        status: u16,
        body: impl Into<String>,
        kind: ErrorKind,
        code: impl Into<String>,
    ) -> Self {
        Self::new(answering, status, body, ExpectedResult::Error(kind), code)
    }

    /// The answer `status` with `body` to `answering` (a code check, or a poll), which must
    /// end in `Ok(Rejected(reason))` keeping the provider's `code`.
    pub fn rejection(
        answering: Answering,
        status: u16,
        body: impl Into<String>,
        reason: RejectReason,
        code: impl Into<String>,
    ) -> Self {
        Self::new(
            answering,
            status,
            body,
            ExpectedResult::Rejected(reason),
            code,
        )
    }

    /// The answer `status` with `body` to `answering`, which must end in `expected` keeping
    /// the provider's `code`.
    pub fn new(
        answering: Answering,
        status: u16,
        body: impl Into<String>,
        expected: ExpectedResult,
        code: impl Into<String>,
    ) -> Self {
        Self {
            answering,
            status,
            headers: Vec::new(),
            body: body.into(),
            expected,
            provider_code: code.into(),
            message: None,
            request_id: None,
            times: 1,
        }
    }

    /// Makes it the answer to the next `times` requests of its operation (at least 1), for a
    /// refusal the verifier may rightly ask again.
    #[must_use]
    pub fn times(mut self, times: u32) -> Self {
        self.times = times.max(1);
        self
    }

    /// Adds a response header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Requires the error's (or rejection's) message to contain `text`.
    #[must_use]
    pub fn with_message(mut self, text: impl Into<String>) -> Self {
        self.message = Some(text.into());
        self
    }

    /// Requires the error (or rejection) to keep the provider's request id `id`.
    #[must_use]
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }
}

/// A client that gives up on a stalled answer within a known time, for the checks of
/// [`HostileAnswer::StalledBody`] ([`Harness::impatient_client`]).
///
/// A harness that builds the verifier can build one with short timeouts for those checks
/// alone, so the rest of the suite keeps the verifier's usual ones; a harness whose verifier
/// under test already gives up soon enough says so with
/// [`under_test`](ImpatientClient::under_test).
#[derive(Clone)]
#[non_exhaustive]
pub struct ImpatientClient {
    /// The verifier that meets the stalled answer; `None`: the verifier under test.
    pub verifier: Option<Arc<dyn PhoneVerifier>>,
    /// The resolver that meets a stalled resolution; `None`: the resolver under test.
    pub resolver: Option<Arc<dyn SessionResolver>>,
    /// The longest the client waits for one operation's answer, retries included (for the
    /// kit's HTTP layer, `Timeouts::overall`). The harness stalls an answer for longer.
    pub gives_up_within: Duration,
}

impl ImpatientClient {
    /// `verifier`, another client for the same provider account (as
    /// [`Harness::fresh_verifier`] builds), which gives up on an answer within
    /// `gives_up_within`.
    pub fn new(verifier: Arc<dyn PhoneVerifier>, gives_up_within: Duration) -> Self {
        Self {
            verifier: Some(verifier),
            resolver: None,
            gives_up_within,
        }
    }

    /// The verifier and resolver under test themselves give up within `gives_up_within`.
    pub fn under_test(gives_up_within: Duration) -> Self {
        Self {
            verifier: None,
            resolver: None,
            gives_up_within,
        }
    }

    /// Sets the session resolver that meets a stalled resolution.
    #[must_use]
    pub fn with_resolver(mut self, resolver: Arc<dyn SessionResolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }
}

impl std::fmt::Debug for ImpatientClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImpatientClient")
            .field(
                "verifier",
                &self
                    .verifier
                    .as_ref()
                    .map(|v| PhoneVerifier::provider(&**v)),
            )
            .field(
                "resolver",
                &self
                    .resolver
                    .as_ref()
                    .map(|r| SessionResolver::provider(&**r)),
            )
            .field("gives_up_within", &self.gives_up_within)
            .finish()
    }
}

/// How many requests the provider has received so far.
///
/// ```
/// use phone_verify_core::ProviderId;
/// use phone_verify_testkit::RequestCounts;
///
/// let counts = RequestCounts::new(1, 4).with_checks(2);
/// assert_eq!((counts.sends, counts.checks, counts.total), (1, Some(2), 4));
/// assert_eq!(RequestCounts::new(1, 4).checks, None); // code checks not told apart
///
/// // A harness over several providers also gives each one's counts.
/// let a = ProviderId::new_static("a");
/// let both = RequestCounts::new(3, 9)
///     .with_provider(a.clone(), RequestCounts::new(1, 4))
///     .with_provider(ProviderId::new_static("b"), RequestCounts::new(2, 5));
/// assert_eq!(both.of_provider(&a).map(|c| c.sends), Some(1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RequestCounts {
    /// Requests that send a message to a user (a code), failed ones included.
    pub sends: u64,
    /// Requests that check a code (and may use it up), failed ones included; lookups (a
    /// reverse flow's poll, a session's resolution, a verification read back) are not code
    /// checks. `None` (the default) when the harness does not tell code checks apart; then
    /// the checks that must prove a code check was not repeated are skipped, saying so.
    pub checks: Option<u64>,
    /// All requests, sends and code checks included.
    pub total: u64,
    /// Each provider's own counts, in the same order at every call, for a harness over
    /// several providers ([`MultiHarness`](crate::MultiHarness)); empty (the default) for a
    /// harness of one. With
    /// them, a send refused before processing may reach each provider once
    /// (`send.not_retried_after_503`: a router rightly fails over), never one twice.
    pub providers: Vec<(ProviderId, RequestCounts)>,
}

impl RequestCounts {
    /// Counts of `sends` send requests among `total` requests, code checks not told apart.
    pub fn new(sends: u64, total: u64) -> Self {
        Self {
            sends,
            checks: None,
            total,
            providers: Vec::new(),
        }
    }

    /// Sets the count of code-check requests among them.
    #[must_use]
    pub fn with_checks(mut self, checks: u64) -> Self {
        self.checks = Some(checks);
        self
    }

    /// Adds `provider`'s own counts ([`providers`](RequestCounts::providers)).
    #[must_use]
    pub fn with_provider(mut self, provider: ProviderId, counts: RequestCounts) -> Self {
        self.providers.push((provider, counts));
        self
    }

    /// The counts of `provider`, when these counts hold each provider's.
    pub fn of_provider(&self, provider: &ProviderId) -> Option<&RequestCounts> {
        self.providers
            .iter()
            .find(|(id, _)| id == provider)
            .map(|(_, counts)| counts)
    }
}

/// Where one request to the provider went: its method and path, as
/// [`Harness::requests_since`] gives them.
///
/// ```
/// use phone_verify_testkit::RequestTarget;
///
/// let target = RequestTarget::new("GET", "/v2/phone-validations/64f1c2");
/// assert_eq!((target.method.as_str(), target.path.as_str()), ("GET", "/v2/phone-validations/64f1c2"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RequestTarget {
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The path as the provider received it, percent-encoded as sent, without the query.
    pub path: String,
}

impl RequestTarget {
    /// The request `method path`.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
        }
    }
}

/// What the conformance suite needs from the environment a verifier runs against: the sandbox,
/// the [in-memory provider](crate::memory), a provider's own test mode, or a mock server.
///
/// Only [`fresh_phone`](Harness::fresh_phone) and [`delivered_code`](Harness::delivered_code)
/// are required. Every other method defaults to [`HarnessError::Unsupported`], which skips the
/// checks that need it instead of failing them, so a harness can start small.
///
/// The suite runs its checks one after another and asks for a fresh phone for each, so checks
/// do not share provider state (rate limits, pending verifications).
#[async_trait]
pub trait Harness: Send + Sync {
    /// A phone number no other check has used.
    async fn fresh_phone(&self) -> HarnessResult<PhoneNumber>;

    /// Whether this harness can read the codes sent on `channel` (for TOTP: compute them).
    /// Checks that need a code on other channels are skipped without starting anything.
    fn delivers_codes(&self, channel: &Channel) -> bool {
        let _ = channel;
        true
    }

    /// The code the provider sent for `verification`, read from wherever it was "delivered";
    /// `None` if nothing was delivered. The code must have gone out on the handle's channel: a
    /// harness that sees the channel fails ([`HarnessError::Failed`]) when it went out on
    /// another, as [`InMemoryHarness`](crate::memory::InMemoryHarness) and the sandbox's
    /// harness do, so that a verifier sending by SMS whatever the channel asked for (and
    /// writing that channel into its handles) fails every check that reads a code on another.
    async fn delivered_code(&self, verification: &Verification) -> HarnessResult<Option<Code>>;

    /// A well-formed code that is not the right one for `verification`. The default derives
    /// one from [`delivered_code`](Harness::delivered_code) with [`different_code`].
    async fn wrong_code(&self, verification: &Verification) -> HarnessResult<Code> {
        match self.delivered_code(verification).await? {
            Some(code) => Ok(different_code(&code)),
            None => Err(HarnessError::failed(
                "no code was delivered to derive a wrong code from",
            )),
        }
    }

    /// Completes a reverse flow as if the user had sent its message from `phone`.
    async fn complete_reverse_flow(
        &self,
        verification: &Verification,
        phone: &PhoneNumber,
    ) -> HarnessResult<()> {
        let _ = (verification, phone);
        Err(HarnessError::unsupported("completing reverse flows"))
    }

    /// Makes `by` pass on the provider's clock.
    async fn advance_time(&self, by: Duration) -> HarnessResult<()> {
        let _ = by;
        Err(HarnessError::unsupported("advancing time"))
    }

    /// The requests the provider has received so far, to prove that invalid input sends
    /// nothing, that a send happens exactly once and (with
    /// [`checks`](RequestCounts::checks)) that a check whose answer was lost, unreadable or a
    /// server error is not sent again. Without it the checks that must prove a request count
    /// are skipped, after failing any that the error kind alone shows broken.
    async fn request_counts(&self) -> HarnessResult<RequestCounts> {
        Err(HarnessError::unsupported("counting requests"))
    }

    /// The requests the provider received since `before` (counts
    /// [`request_counts`](Harness::request_counts) gave), oldest first, as method and path:
    /// `input.hostile_handle_refused` and `input.malformed_session_refused` look where a
    /// hostile reference or session id went, and fail a verifier that split it into several
    /// path segments. Without it (the default: `Unsupported`) their detail says the paths
    /// were not seen.
    async fn requests_since(&self, before: &RequestCounts) -> HarnessResult<Vec<RequestTarget>> {
        let _ = before;
        Err(HarnessError::unsupported("listing the requests' paths"))
    }

    /// Makes the next send request fail with `fault`. The failed request still counts as a
    /// send in [`request_counts`](Harness::request_counts). A fault the harness cannot inject
    /// (a [`SendFault`] variant it does not know) is `Unsupported`: the check that asked for it
    /// is skipped.
    async fn inject_send_fault(&self, fault: SendFault) -> HarnessResult<()> {
        let _ = fault;
        Err(HarnessError::unsupported("injecting faults"))
    }

    /// Makes the next code check of `verification` fail with `fault`. A fault the harness
    /// cannot inject (a [`CheckFault`] variant it does not know) is `Unsupported`: the check
    /// that asked for it is skipped. [`clear_faults`](Harness::clear_faults) should fail when
    /// no request used it.
    async fn inject_check_fault(
        &self,
        verification: &Verification,
        fault: CheckFault,
    ) -> HarnessResult<()> {
        let _ = (verification, fault);
        Err(HarnessError::unsupported("injecting faults into checks"))
    }

    /// Makes the next lookup of `verification` fail with `fault`: the next poll of a reverse
    /// flow, or the next resolution of the session its check returned. A fault the harness
    /// cannot inject (a [`LookupFault`] variant it does not know) is `Unsupported`: the check
    /// that asked for it is skipped. As with check faults,
    /// [`clear_faults`](Harness::clear_faults) should fail when no request used it.
    async fn inject_lookup_fault(
        &self,
        verification: &Verification,
        fault: LookupFault,
    ) -> HarnessResult<()> {
        let _ = (verification, fault);
        Err(HarnessError::unsupported("injecting faults into lookups"))
    }

    /// Makes the provider's next answer to the operation `to` the hostile `answer`: the
    /// `send.*`, `otp.*`, `reverse.*` and `session.*` checks of unreadable and stalled answers
    /// use it, and are skipped without it (the default: `Unsupported`). A harness may support
    /// some answers only and refuse the others with `Unsupported`: a check then runs those it
    /// can and names the others. As with the other faults, the send request still counts as a
    /// send, and [`clear_faults`](Harness::clear_faults) should fail when an injected check or
    /// lookup answer was not used.
    ///
    /// A [`StalledBody`](HostileAnswer::StalledBody) must stall for longer than its
    /// `longer_than`.
    async fn inject_hostile_answer(
        &self,
        to: AnswerTo<'_>,
        answer: HostileAnswer,
    ) -> HarnessResult<()> {
        let _ = (to, answer);
        Err(HarnessError::unsupported("injecting hostile answers"))
    }

    /// The provider's documented errors, each as its wire answer and what the verifier must
    /// make of it, for `errors.documented_codes_typed`. Empty (the default): the check is
    /// skipped, saying so.
    fn documented_errors(&self) -> Vec<DocumentedError> {
        Vec::new()
    }

    /// Makes the provider's next answer to the operation `to` (its next
    /// [`times`](DocumentedError::times) answers) exactly `error`'s status, headers and body,
    /// without processing the request (a refusal). Without it (the default:
    /// `Unsupported`) `errors.documented_codes_typed` is skipped; a harness may refuse some
    /// errors only (say, those with headers it cannot set), which the check then names. As
    /// with hostile answers, [`clear_faults`](Harness::clear_faults) should fail when an
    /// injected check or lookup answer was not used.
    async fn inject_documented_error(
        &self,
        to: AnswerTo<'_>,
        error: &DocumentedError,
    ) -> HarnessResult<()> {
        let _ = (to, error);
        Err(HarnessError::unsupported(
            "injecting documented provider errors",
        ))
    }

    /// The client that meets a [`StalledBody`](HostileAnswer::StalledBody) answer, and how
    /// soon it gives up. Without it (the default: `Unsupported`) the stalled-answer checks are
    /// skipped, since the suite cannot know that a stall outlasts the verifier's timeouts.
    async fn impatient_client(&self) -> HarnessResult<ImpatientClient> {
        Err(HarnessError::unsupported(
            "a client that gives up on stalled answers in a known time",
        ))
    }

    /// How many wrong codes the provider takes for `verification` before it refuses every
    /// code, the right one included; `None` (the default) when it sets no limit or the harness
    /// does not know it, and then `otp.wrong_code_limit` is skipped, saying so.
    fn wrong_code_limit(&self, verification: &Verification) -> Option<u32> {
        let _ = verification;
        None
    }

    /// Whether the provider keeps no count of wrong codes and its records show whether a
    /// check took effect, so a verifier may check again after reading the verification back
    /// (Verifik's recovery). Only then do `otp.server_error_not_rejected`,
    /// `otp.server_error_{500,502,504}_not_rejected` and `otp.unreadable_answer_not_rejected`
    /// accept a second code-check request, after a read-back, where the injected answer left
    /// the first check unprocessed (a 503, 500, 502 or 504 without `Retry-After`, malformed
    /// JSON, the wrong content type, valid JSON of the wrong shape);
    /// never after a lost answer or one given after processing. The wrong-code checks
    /// (`otp.lost_answer_wrong_code_not_verified`,
    /// `otp.unreadable_answer_wrong_code_not_verified`) accept it whatever the answer, since a
    /// wrong code changed nothing. `false` (the default): every such check must be sent once.
    fn repeat_check_harmless(&self, verification: &Verification) -> bool {
        let _ = verification;
        false
    }

    /// The credentials the verifier under test was built with (keys, tokens, passwords),
    /// found nowhere else, so that `privacy.secrets_not_shown` can prove none of them shows in
    /// its `Debug`, a handle or an error, and `privacy.phones_and_codes_not_logged` that none
    /// is logged. Only those of 8 characters or more are searched for (a shorter one would be
    /// found by chance); the report names the others. Each is searched for as it is,
    /// percent-encoded, and, from 12 bytes on, base64-encoded at any offset (within a Basic
    /// `Authorization`'s `user:secret`, say). Empty (the default):
    /// `privacy.secrets_not_shown` is skipped, saying so.
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }

    /// Removes injected faults that were not used up. The suite calls it after every check,
    /// whatever its end (a panic or a timeout included), so no fault leaks into the next
    /// check, and right after a fault check's call; it must therefore be cheap and succeed
    /// when nothing is injected. Fails when an injected check or lookup fault was not used,
    /// since the check then proved nothing.
    async fn clear_faults(&self) -> HarnessResult<()> {
        Ok(())
    }

    /// A new client for the same provider account, sharing nothing with the verifier under
    /// test but the provider itself, as a client in another process would. The verifier under
    /// test itself (the same instance) fails the fresh-client checks.
    async fn fresh_verifier(&self) -> HarnessResult<Arc<dyn PhoneVerifier>> {
        Err(HarnessError::unsupported("building a fresh verifier"))
    }

    /// The provider ids that handles (and resolved sessions) of the verifier under test may
    /// carry; `None`, the default, means only the verifier's own
    /// [`provider()`](PhoneVerifier::provider).
    ///
    /// A verifier over several providers, such as a router whose handles keep the id of the
    /// provider that sent the code, gets a harness that names them (see
    /// [`MultiHarness`](crate::MultiHarness)). A handle naming any other provider fails the
    /// check that started it.
    fn handle_providers(&self) -> Option<Vec<ProviderId>> {
        None
    }
}

/// A code of the same length and alphabet as `code` that differs from it in every character
/// (each digit and letter moves to the next one, wrapping around).
///
/// ```
/// use phone_verify_core::Code;
/// use phone_verify_testkit::different_code;
///
/// let right = Code::new("129090")?;
/// assert_eq!(different_code(&right).expose(), "230101");
/// assert_eq!(different_code(&Code::new("azZ9")?).expose(), "baA0");
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
pub fn different_code(code: &Code) -> Code {
    let next = |c: char, first: u8, count: u8| {
        let offset = (c as u8 - first + 1) % count;
        char::from(first + offset)
    };
    let shifted: String = code
        .expose()
        .chars()
        .map(|c| match c {
            '0'..='9' => next(c, b'0', 10),
            'a'..='z' => next(c, b'a', 26),
            'A'..='Z' => next(c, b'A', 26),
            other => other,
        })
        .collect();
    Code::new(&shifted).expect("same length and alphabet as a valid code")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_faults_are_a_slice_of_distinct_faults() {
        let all: &'static [LookupFault] = LookupFault::ALL;
        let names: std::collections::BTreeSet<_> = all.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), all.len());
        assert!(all.contains(&LookupFault::ConnectionReset));
    }

    #[test]
    fn server_errors_are_5xx_answers_other_than_a_503() {
        let send: Vec<_> = SendFault::SERVER_ERRORS
            .iter()
            .map(|f| f.status())
            .collect();
        let check: Vec<_> = CheckFault::SERVER_ERRORS
            .iter()
            .map(|f| f.status())
            .collect();
        assert_eq!(send, [Some(500), Some(502), Some(504)]);
        assert_eq!(check, send);
        for &fault in SendFault::SERVER_ERRORS {
            // The check's name is its status.
            assert_eq!(
                Some(fault.name()),
                fault.status().map(|s| s.to_string()).as_deref()
            );
        }
        assert_eq!(SendFault::ConnectionReset.status(), None);
        assert_eq!(CheckFault::AnswerLost.status(), None);
        assert_eq!(CheckFault::ServerError.status(), Some(503));
    }

    #[test]
    fn unreadable_answers_are_a_slice_without_the_stalled_body() {
        let unreadable: &'static [HostileAnswer] = HostileAnswer::UNREADABLE;
        let names: std::collections::BTreeSet<_> = unreadable.iter().map(|a| a.name()).collect();
        assert_eq!(names.len(), unreadable.len());
        assert!(!names.contains("stalled body"));
        assert!(unreadable.contains(&HostileAnswer::OversizedBody));
    }

    #[test]
    fn valid_json_of_the_wrong_shape_is_unreadable_and_unprocessed() {
        for (answer, body) in [
            (HostileAnswer::EmptyObject, "{}"),
            (HostileAnswer::WrongShape, "[]"),
        ] {
            assert!(HostileAnswer::UNREADABLE.contains(&answer));
            assert_eq!(answer.json_body(), Some(body));
            assert!(!answer.processed(), "{answer:?}");
        }
        assert_eq!(HostileAnswer::MalformedJson.json_body(), None);
    }
}
