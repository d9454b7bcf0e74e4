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
    CheckRule, ErrorSpec, ErrorTable, HttpResponse, Operation, OperationKind,
};
use phone_verify_core::reqwest::header::{HeaderMap, HeaderName, HeaderValue};
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
    /// This answer as the client reads it off the wire, in answer to an operation of kind
    /// `operation`: a header HTTP does not allow is left out, as the sandbox leaves it out.
    fn response(&self, operation: OperationKind) -> HttpResponse {
        let name = match operation {
            OperationKind::Send => "send",
            OperationKind::Consume => "check",
            OperationKind::Write => "write",
            _ => "lookup",
        };
        let headers: HeaderMap = self
            .headers
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    HeaderName::try_from(name.as_str()).ok()?,
                    HeaderValue::try_from(value.as_str()).ok()?,
                ))
            })
            .collect();
        HttpResponse::from_parts(
            PROVIDER,
            Operation {
                name,
                kind: operation,
            },
            self.status,
            headers,
            self.body.clone().into_bytes().into(),
        )
    }

    /// The error the client reads from this answer to an operation of kind `operation`. Its
    /// kind, and its retry delay, are the [`HttpResponse`]'s, headers seen: a 503 with
    /// `Retry-After` was refused before processing, a plain 503 to a send or a code check
    /// leaves it in doubt.
    pub(super) fn error(&self, operation: OperationKind) -> Error {
        let response = self.response(operation);
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
        // A server error keeps its doubt, whatever code its body carries: the status decides,
        // its headers seen.
        let kind = spec.map_or_else(
            || response.kind_for_status(),
            |spec| spec.kind_in(&response),
        );
        let said = text("message");
        let message = said
            .or(spec.map(|s| s.message))
            .unwrap_or("the provider refused the request");
        let mut error = response.error(kind, message);
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)]) -> ErrorAnswer {
        ErrorAnswer {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body: r#"{"error":{"code":"unavailable","message":"Try again later."}}"#.to_owned(),
            times: 1,
            used: false,
        }
    }

    /// A 503 with `Retry-After` was refused before processing, as a real provider's client
    /// reads it; a plain 503 may come from a proxy that forwarded the request: in doubt.
    #[test]
    fn a_503_is_a_refusal_only_with_retry_after() {
        let unavailable = ErrorKind::ProviderUnavailable;
        for (operation, plain) in [
            (OperationKind::Send, ErrorKind::MaybeSent),
            (OperationKind::Consume, ErrorKind::OutcomeUnknown),
            (OperationKind::Read, unavailable),
        ] {
            let refused = answer(503, &[("Retry-After", "7"), (REQUEST_ID_HEADER, "req_1")]);
            let err = refused.error(operation);
            assert_eq!(err.kind(), unavailable, "{operation:?}");
            assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
            assert_eq!(err.http_status(), Some(503));
            assert_eq!(err.request_id(), Some("req_1"));
            assert_eq!(err.provider_code(), Some("unavailable"));
            let err = answer(503, &[]).error(operation);
            assert_eq!(err.kind(), plain, "{operation:?}");
            assert_eq!(err.retry_after(), None);
        }
        // A documented code in a server error: the status decides.
        let mut blocked = answer(503, &[("retry-after", "1")]);
        blocked.body = body(ERRORS.lookup("number_blocked").unwrap());
        assert_eq!(blocked.error(OperationKind::Send).kind(), unavailable);
        blocked.headers.clear();
        let err = blocked.error(OperationKind::Send);
        assert_eq!(err.kind(), ErrorKind::MaybeSent);
        assert_eq!(err.provider_code(), Some("number_blocked"));
    }
}
