//! The in-memory provider's documented errors, and how its client reads them.
//!
//! The in-memory provider has no wire of its own, but its errors are documented as a real
//! provider's are, so that [`InMemoryState::answer_next_with_error`] can answer any call
//! with one and the conformance check `errors.documented_codes_typed` can hold the client to
//! them: an answer is an HTTP status, headers and a body
//! `{"error":{"code":"…","message":"…"}}`, with the request id in the `X-Request-Id` header.
//! Every error keeps the code, the message and the request id; a documented code gives its
//! kind (and, answering a code check or a poll, its rejection), an undocumented one the kind
//! its HTTP status suggests.
//!
//! [`InMemoryState::answer_next_with_error`]: super::InMemoryState::answer_next_with_error

use phone_verify_core::kit::{
    CheckRule, ErrorSpec, ErrorTable, OperationKind, kind_for_operation, kind_for_status,
};
use phone_verify_core::{CheckOutcome, Error, ErrorKind, ProviderId, RejectReason, Result};

use crate::harness::{Answering, DocumentedError};

/// The in-memory provider's id (`InMemoryVerifier::PROVIDER`), kept here, below the modules
/// that use it.
pub(super) const PROVIDER: ProviderId = ProviderId::new_static("memory");

/// The header the in-memory provider names each answer with.
pub const REQUEST_ID_HEADER: &str = "X-Request-Id";

/// Every documented error of the in-memory provider.
static ERRORS: ErrorTable = ErrorTable::new(&[
    ErrorSpec::new(
        "invalid_phone",
        400,
        "The phone number is not valid.",
        ErrorKind::InvalidInput,
        None,
    ),
    ErrorSpec::new(
        "invalid_credentials",
        401,
        "The API key is not valid.",
        ErrorKind::Unauthorized,
        None,
    ),
    ErrorSpec::new(
        "balance_exhausted",
        402,
        "The account has no balance left.",
        ErrorKind::QuotaExhausted,
        None,
    ),
    ErrorSpec::new(
        "number_blocked",
        403,
        "The phone number is blocked.",
        ErrorKind::Blocked,
        None,
    ),
    ErrorSpec::new(
        "verification_not_found",
        404,
        "No such verification.",
        ErrorKind::NotFound,
        Some(CheckRule::Rejected(RejectReason::NotFound)),
    ),
    ErrorSpec::new(
        "session_not_found",
        404,
        "No such session.",
        ErrorKind::NotFound,
        None,
    ),
    ErrorSpec::new(
        "verification_expired",
        410,
        "The verification has expired.",
        ErrorKind::Expired,
        Some(CheckRule::Rejected(RejectReason::Expired)),
    ),
    ErrorSpec::new(
        "too_many_attempts",
        429,
        "Too many wrong codes.",
        ErrorKind::RateLimited,
        Some(CheckRule::Rejected(RejectReason::TooManyAttempts)),
    ),
    ErrorSpec::new(
        "too_many_sends",
        429,
        "Too many codes sent to this number.",
        ErrorKind::RateLimited,
        None,
    ),
]);

/// The in-memory provider's documented errors as the conformance suite injects them
/// ([`Harness::documented_errors`](crate::Harness::documented_errors)): each code answering
/// the operations it is documented for, in its wire shape, with a request id.
pub fn documented_errors() -> Vec<DocumentedError> {
    let mut errors = Vec::new();
    for (n, spec) in ERRORS.iter().enumerate() {
        let request_id = format!("req_{n:04}");
        let answer = |answering: Answering, expected| {
            DocumentedError::new(answering, spec.http_status, body(spec), expected, spec.code)
                .with_header(REQUEST_ID_HEADER, request_id.clone())
                .with_message(spec.message)
                .with_request_id(request_id.clone())
        };
        let typed = crate::harness::ExpectedResult::Error(spec.kind);
        match (spec.code, spec.check) {
            ("session_not_found", _) => errors.push(answer(Answering::Lookup, typed)),
            (_, Some(CheckRule::Rejected(reason))) => errors.push(answer(
                Answering::Check,
                crate::harness::ExpectedResult::Rejected(reason),
            )),
            _ => errors.push(answer(Answering::Send, typed)),
        }
    }
    errors
}

/// The body of a documented error.
fn body(spec: &ErrorSpec) -> String {
    serde_json::json!({"error": {"code": spec.code, "message": spec.message}}).to_string()
}

/// An answer the in-memory provider gives instead of processing a call
/// ([`InMemoryState::answer_next_with_error`](super::InMemoryState::answer_next_with_error)).
#[derive(Debug, Clone)]
pub(super) struct ErrorAnswer {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
    /// How many more calls it answers.
    pub(super) times: u32,
    /// Whether a call got it.
    pub(super) used: bool,
}

impl ErrorAnswer {
    /// The answer in `slot` for one call, used up after its last.
    pub(super) fn take(slot: &mut Option<Self>) -> Option<Self> {
        let answer = slot.as_mut()?;
        answer.used = true;
        answer.times = answer.times.saturating_sub(1);
        let given = answer.clone();
        if answer.times == 0 {
            *slot = None;
        }
        Some(given)
    }

    /// Whether an answer in `slot` was never given; clears it.
    pub(super) fn unused(slot: &mut Option<Self>) -> bool {
        slot.take().is_some_and(|answer| !answer.used)
    }
}

impl ErrorAnswer {
    /// The error the client reads from this answer to an operation of kind `operation`.
    pub(super) fn error(&self, operation: OperationKind) -> Error {
        let body: serde_json::Value = serde_json::from_str(&self.body).unwrap_or_default();
        let text = |field: &str| {
            body.get("error")
                .and_then(|e| e.get(field))
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|t| !t.is_empty())
        };
        let code = text("code");
        let spec = code.and_then(|c| ERRORS.lookup(c));
        let kind = match spec {
            Some(spec) => spec.kind_at(self.status, operation),
            None => kind_for_status(self.status, operation),
        };
        let kind = kind_for_operation(kind, self.status, operation);
        let said = text("message");
        let message = said
            .or(spec.map(|s| s.message))
            .unwrap_or("the provider refused the request");
        let mut error = Error::new(kind, message)
            .with_provider(PROVIDER)
            .with_http_status(self.status);
        if let Some(code) = code {
            error = error.with_provider_code(code);
        }
        if let Some(said) = said {
            error = error.with_provider_message(said);
        }
        let request_id = self
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(REQUEST_ID_HEADER))
            .map(|(_, value)| value.trim())
            .filter(|v| !v.is_empty());
        match request_id {
            Some(id) => error.with_request_id(id),
            None => error,
        }
    }

    /// What a code check (or a poll) answered with it stands for: the documented rejection,
    /// else the error.
    pub(super) fn check_outcome(&self, operation: OperationKind) -> Result<CheckOutcome> {
        let error = self.error(operation);
        let spec = error.provider_code().and_then(|c| ERRORS.lookup(c));
        match spec.and_then(|spec| Some((spec, spec.check_rule(&error)?))) {
            Some((spec, CheckRule::Rejected(reason))) => {
                Ok(CheckOutcome::Rejected(spec.rejection(reason, &error)))
            }
            Some((_, CheckRule::PendingWhilePolling)) => Ok(CheckOutcome::Pending),
            None => Err(error),
        }
    }
}
