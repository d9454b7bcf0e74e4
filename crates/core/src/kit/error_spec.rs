//! [`ErrorSpec`], [`CheckRule`] and [`ErrorTable`]: a provider's documented errors, as data.
//!
//! `cargo xtask codegen` turns a provider's `errors.toml` into one `ErrorTable` constant; the
//! provider's single error mapping looks codes up in it.

use super::request::OperationKind;
use super::response::{HttpResponse, kind_for_status};
use crate::error::{Error, ErrorKind};
use crate::outcome::{RejectReason, Rejection};

/// What a documented error means when it answers a check.
///
/// Exhaustive on purpose: a provider's error mapping matches every rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckRule {
    /// The check is rejected for this reason (an outcome, not an error).
    Rejected(RejectReason),
    /// Polling a reverse flow: not completed yet ([`Pending`](crate::CheckOutcome::Pending)).
    /// Checking a code: no such verification ([`RejectReason::NotFound`]).
    PendingWhilePolling,
}

/// One documented provider error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorSpec {
    /// The provider's code or reason, as the provider sends it (`"403014"`, `"60200"`).
    pub code: &'static str,
    /// The HTTP status the provider documents with it.
    pub http_status: u16,
    /// The provider's documented message.
    pub message: &'static str,
    /// The kind of the [`Error`](crate::Error) it becomes.
    pub kind: ErrorKind,
    /// Its meaning in answer to a check, if it has one.
    pub check: Option<CheckRule>,
}

impl ErrorSpec {
    /// A documented error (generated code calls this).
    pub const fn new(
        code: &'static str,
        http_status: u16,
        message: &'static str,
        kind: ErrorKind,
        check: Option<CheckRule>,
    ) -> Self {
        Self {
            code,
            http_status,
            message,
            kind,
            check,
        }
    }

    /// The kind of an answer with this code, HTTP `status`, to an operation of kind
    /// `operation`: the documented kind, unless a server error (5xx) carries a code documented
    /// below 500. Then the server failed, whatever the body says, and the status decides
    /// ([`kind_for_status`]): a send may have gone out, a check may have used the code.
    pub fn kind_at(&self, status: u16, operation: OperationKind) -> ErrorKind {
        if status >= 500 && self.http_status < 500 {
            kind_for_status(status, operation)
        } else {
            self.kind
        }
    }

    /// [`kind_at`](Self::kind_at) for an answer with this code, its headers seen: a server
    /// error carrying a code documented below 500 takes the response's kind for its status
    /// ([`HttpResponse::kind_for_status`]), so a 503 with `Retry-After`, refused before
    /// processing, is [`ErrorKind::ProviderUnavailable`] where `kind_at` leaves it in doubt.
    pub fn kind_in(&self, response: &HttpResponse) -> ErrorKind {
        if response.status().as_u16() >= 500 && self.http_status < 500 {
            response.kind_for_status()
        } else {
            self.kind
        }
    }

    /// This code's [`CheckRule`] for a check answered with `error`, if the answer was a
    /// refusal: an HTTP status below 500, and an error not left in doubt
    /// ([`ErrorKind::OutcomeUnknown`], [`ErrorKind::MaybeSent`]). A server error carrying the
    /// code, or an error without a status, has no rule: it is never taken for a rejection.
    pub fn check_rule(&self, error: &Error) -> Option<CheckRule> {
        let refused = error.http_status().is_some_and(|status| status < 500)
            && !matches!(
                error.kind(),
                ErrorKind::OutcomeUnknown | ErrorKind::MaybeSent
            );
        if refused { self.check } else { None }
    }

    /// The rejection a check answered with `error` (of this documented code) stands for:
    /// `reason`, with the provider's code, message and request id as `error` kept them (the
    /// documented code and message where it has none).
    pub fn rejection(&self, reason: RejectReason, error: &Error) -> Rejection {
        let rejection = Rejection::new(reason)
            .with_provider_code(error.provider_code().unwrap_or(self.code))
            .with_message(error.provider_message().unwrap_or(self.message));
        match error.request_id() {
            Some(id) => rejection.with_request_id(id),
            None => rejection,
        }
    }
}

/// Every documented error of one provider, in the order of its documentation.
///
/// ```
/// use phone_verify_core::kit::{CheckRule, ErrorSpec, ErrorTable};
/// use phone_verify_core::{ErrorKind, RejectReason};
///
/// static ERRORS: ErrorTable = ErrorTable::new(&[
///     ErrorSpec::new("60200", 400, "Invalid parameter", ErrorKind::InvalidInput, None),
///     ErrorSpec::new(
///         "60202",
///         429,
///         "Max check attempts reached",
///         ErrorKind::RateLimited,
///         Some(CheckRule::Rejected(RejectReason::TooManyAttempts)),
///     ),
/// ]);
/// assert_eq!(ERRORS.lookup(" 60202 ").unwrap().kind, ErrorKind::RateLimited);
/// assert!(ERRORS.lookup("1").is_none());
/// assert_eq!(ERRORS.iter().len(), 2);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ErrorTable {
    errors: &'static [ErrorSpec],
}

impl ErrorTable {
    /// A table of `errors` (generated code calls this).
    pub const fn new(errors: &'static [ErrorSpec]) -> Self {
        Self { errors }
    }

    /// The documented error with `code`; surrounding spaces are ignored.
    pub fn lookup(&self, code: &str) -> Option<&'static ErrorSpec> {
        let code = code.trim();
        self.errors.iter().find(|e| e.code == code)
    }

    /// Every documented error, in documentation order.
    pub fn iter(&self) -> std::slice::Iter<'static, ErrorSpec> {
        self.errors.iter()
    }

    /// The errors as a slice.
    pub fn as_slice(&self) -> &'static [ErrorSpec] {
        self.errors
    }
}

impl IntoIterator for &ErrorTable {
    type Item = &'static ErrorSpec;
    type IntoIter = std::slice::Iter<'static, ErrorSpec>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fictional provider's table.
    static ERRORS: ErrorTable = ErrorTable::new(&[
        ErrorSpec::new("E1400", 400, "Bad input", ErrorKind::InvalidInput, None),
        ErrorSpec::new(
            "E1429",
            429,
            "Too many code checks",
            ErrorKind::RateLimited,
            Some(CheckRule::Rejected(RejectReason::TooManyAttempts)),
        ),
    ]);

    #[test]
    fn looks_codes_up_trimmed_and_refuses_others() {
        assert_eq!(ERRORS.lookup("E1400").unwrap().http_status, 400);
        assert_eq!(
            ERRORS.lookup(" E1429\n").unwrap().message,
            "Too many code checks"
        );
        for unknown in ["", "E140", "E14000", "E1401", "E1400 x"] {
            assert!(ERRORS.lookup(unknown).is_none(), "{unknown:?}");
        }
    }

    #[test]
    fn lists_every_error_in_documentation_order() {
        let codes = |errors: Vec<&ErrorSpec>| errors.iter().map(|e| e.code).collect::<Vec<_>>();
        assert_eq!(codes(ERRORS.iter().collect()), ["E1400", "E1429"]);
        assert_eq!(
            codes(ERRORS.as_slice().iter().collect()),
            ["E1400", "E1429"]
        );
        assert_eq!(codes((&ERRORS).into_iter().collect()), ["E1400", "E1429"]);
    }

    #[test]
    fn a_rejection_keeps_the_providers_own_code_message_and_request_id() {
        let spec = ERRORS.lookup("E1429").unwrap();
        // An error without them: the documented code and message.
        let bare = Error::new(ErrorKind::RateLimited, "too many");
        let rejection = spec.rejection(RejectReason::TooManyAttempts, &bare);
        assert_eq!(rejection.reason, RejectReason::TooManyAttempts);
        assert_eq!(rejection.provider_code.as_deref(), Some("E1429"));
        assert_eq!(rejection.message.as_deref(), Some("Too many code checks"));
        assert_eq!(rejection.request_id, None);
        // An error with them: the provider's own.
        let full = bare
            .with_provider_code("E1429-b")
            .with_provider_message("Too many code checks (5)")
            .with_request_id("req-1");
        let rejection = spec.rejection(RejectReason::TooManyAttempts, &full);
        assert_eq!(rejection.provider_code.as_deref(), Some("E1429-b"));
        assert_eq!(
            rejection.message.as_deref(),
            Some("Too many code checks (5)")
        );
        assert_eq!(rejection.request_id.as_deref(), Some("req-1"));
    }

    #[test]
    fn a_server_error_carrying_a_code_takes_the_kind_of_its_status() {
        let spec = ERRORS.lookup("E1429").unwrap();
        for operation in [
            OperationKind::Send,
            OperationKind::Consume,
            OperationKind::Read,
        ] {
            // As documented, or any status below 500 (a 2xx envelope, another 4xx).
            for status in [200, 400, 429, 499] {
                assert_eq!(spec.kind_at(status, operation), ErrorKind::RateLimited);
            }
            for status in [500, 502, 503, 599] {
                assert_eq!(
                    spec.kind_at(status, operation),
                    kind_for_status(status, operation),
                    "{status} {operation:?}"
                );
            }
        }
        assert_eq!(
            spec.kind_at(500, OperationKind::Consume),
            ErrorKind::OutcomeUnknown
        );
        assert_eq!(spec.kind_at(502, OperationKind::Send), ErrorKind::MaybeSent);
        // A code documented as a server error keeps its kind.
        let server = ErrorSpec::new("E1500", 500, "Down", ErrorKind::ProviderUnavailable, None);
        assert_eq!(
            server.kind_at(500, OperationKind::Consume),
            ErrorKind::ProviderUnavailable
        );
    }

    /// With the response's headers seen, a 503 with `Retry-After` carrying a code documented
    /// below 500 was refused before processing; a plain one stays in doubt, as with `kind_at`.
    #[test]
    fn a_server_error_carrying_a_code_is_judged_with_its_headers() {
        use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

        use crate::kit::Operation;
        use crate::provider::ProviderId;

        let spec = ERRORS.lookup("E1429").unwrap();
        let answer = |status: u16, kind: OperationKind, retry_after: bool| {
            let mut headers = HeaderMap::new();
            if retry_after {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
            }
            let operation = Operation { name: "op", kind };
            HttpResponse::from_parts(
                ProviderId::new_static("acme"),
                operation,
                status,
                headers,
                bytes::Bytes::new(),
            )
        };
        let send = OperationKind::Send;
        let check = OperationKind::Consume;
        assert_eq!(
            spec.kind_in(&answer(429, send, false)),
            ErrorKind::RateLimited
        );
        assert_eq!(
            spec.kind_in(&answer(503, send, false)),
            ErrorKind::MaybeSent
        );
        assert_eq!(
            spec.kind_in(&answer(503, check, false)),
            ErrorKind::OutcomeUnknown
        );
        let refused = ErrorKind::ProviderUnavailable;
        assert_eq!(spec.kind_in(&answer(503, send, true)), refused);
        assert_eq!(spec.kind_in(&answer(503, check, true)), refused);
        assert_eq!(spec.kind_in(&answer(502, send, true)), ErrorKind::MaybeSent);
        let server = ErrorSpec::new("E1500", 500, "Down", refused, None);
        assert_eq!(server.kind_in(&answer(500, check, false)), refused);
    }

    #[test]
    fn only_a_refusal_is_taken_for_a_rejection() {
        let spec = ERRORS.lookup("E1429").unwrap();
        let rule = Some(CheckRule::Rejected(RejectReason::TooManyAttempts));
        let answered = |kind: ErrorKind, status: u16| {
            Error::new(kind, "x")
                .with_provider_code("E1429")
                .with_http_status(status)
        };
        for (kind, status, expected) in [
            (ErrorKind::RateLimited, 429, rule),
            (ErrorKind::RateLimited, 200, rule),
            (ErrorKind::RateLimited, 499, rule),
            // A server error carrying the code, whatever its kind; an error left in doubt.
            (ErrorKind::RateLimited, 500, None),
            (ErrorKind::OutcomeUnknown, 500, None),
            (ErrorKind::OutcomeUnknown, 429, None),
            (ErrorKind::MaybeSent, 429, None),
        ] {
            let error = answered(kind, status);
            assert_eq!(spec.check_rule(&error), expected, "{kind:?} {status}");
        }
        // An error that no answer gave.
        let unanswered = Error::new(ErrorKind::RateLimited, "x").with_provider_code("E1429");
        assert_eq!(spec.check_rule(&unanswered), None);
        // A code without a rule has none, refusal or not.
        let plain = ERRORS.lookup("E1400").unwrap();
        assert_eq!(
            plain.check_rule(&answered(ErrorKind::InvalidInput, 400)),
            None
        );
    }
}
