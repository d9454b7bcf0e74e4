//! The one mapping of Twilio Verify's error codes to phone-verify's
//! [`ErrorKind`](phone_verify_core::ErrorKind)s and check outcomes.
//!
//! The table lives, as data, in the crate's `errors.toml`: for every error code Twilio
//! documents, its HTTP status, its documented message, the `ErrorKind` it becomes and, for the
//! codes a check can answer, the [`RejectReason`] it stands for. `cargo xtask codegen` turns it
//! into the crate's `error_table.rs` (and the table of `docs/providers/twilio.md`);
//! [`documented_errors`] and [`lookup`] read it.
//!
//! In short: `60200`, `60206` are `InvalidInput`; `20003` `Unauthorized`; `20404` `NotFound`;
//! `60202`, `60203`, `20429`, `60212` `RateLimited`; `60205` `Unsupported`; `60410`, `60605`
//! `Blocked`. In a code check, `60202` is `Rejected(TooManyAttempts)` and `20404` is
//! `Rejected(Expired)` past the handle's expiry, `Rejected(NotFound)` before (Twilio deletes a
//! verification once it is approved, canceled or expired).
//!
//! - An error answer's body `{code, message, more_info, status}` is decoded; a documented
//!   `code` gives the kind, anything else falls back to the core
//!   [`HttpResponse::kind_for_status`]. A server error keeps its doubt whatever code its body
//!   carries: answering a send it is `MaybeSent`, a code check `OutcomeUnknown`, unless it is
//!   a 503 with `Retry-After`, refused before processing (`ProviderUnavailable`; a plain 503
//!   may come from a proxy that forwarded the request).
//! - The `Twilio-Request-Id` header is kept as the error's request id, the code and Twilio's
//!   message as its provider code and message.
//! - A documented error with a check rule (`60202`, `20404`) answering a code check is a
//!   rejection, not an error; a `60202` is not asked again, though its 429 would otherwise be
//!   retried as refused unprocessed
//!   ([`HttpClient::with_final_refusals`](phone_verify_core::kit::HttpClient::with_final_refusals)).

use phone_verify_core::kit::{
    CheckRule, ErrorSpec, HttpResponse, provider_code_scrubbed, provider_text,
};
use phone_verify_core::{Error, RejectReason, Rejection, Result};
use serde::de::DeserializeOwned;

use crate::error_table;
use crate::wire::ErrorBody;

/// The header Twilio names each request with.
pub(crate) const REQUEST_ID_HEADER: &str = "twilio-request-id";

/// The longest provider message kept in an error.
const MAX_MESSAGE_CHARS: usize = 200;

/// Every error code Twilio Verify documents, in the order of its documentation.
pub fn documented_errors() -> &'static [ErrorSpec] {
    error_table::ERRORS.as_slice()
}

/// The documented error with `code`, as Twilio sent it (`"60202"`; surrounding spaces are
/// ignored).
pub fn lookup(code: &str) -> Option<&'static ErrorSpec> {
    error_table::ERRORS.lookup(code)
}

/// The error a non-2xx answer stands for. `secrets` are scrubbed from anything Twilio wrote,
/// in case it echoes a credential.
pub(crate) fn provider_error(response: &HttpResponse, secrets: &[&str]) -> Error {
    let body: ErrorBody = serde_json::from_slice(response.body()).unwrap_or_default();
    let code = body
        .code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let spec = code.and_then(lookup);
    let operation = response.operation();
    // A server error keeps its doubt, whatever code its body carries: the status decides, its
    // headers seen (a 503 with `Retry-After` was refused unprocessed).
    let kind = spec.map_or_else(|| response.kind_for_status(), |spec| spec.kind_in(response));
    let said = body
        .message
        .as_deref()
        .and_then(|m| provider_text(m, secrets, MAX_MESSAGE_CHARS));
    let text = said
        .as_deref()
        .or(spec.map(|s| s.message))
        .or(response.status().canonical_reason())
        .unwrap_or("Twilio refused the request");
    let mut error = response.error(kind, format!("{}: {text}", operation.name));
    if let Some(code) = code.and_then(|c| provider_code_scrubbed(c, secrets)) {
        error = error.with_provider_code(code);
    }
    if let Some(message) = said {
        error = error.with_provider_message(message);
    }
    with_request_id(error, response, secrets)
}

/// Whether a 429 or 503 answer refuses a request after processing it, so that asking again
/// cannot change it: its code is documented with a rejection of a check (`60202`, the check
/// attempts used up). The kit retries no such answer
/// ([`HttpClient::with_final_refusals`](phone_verify_core::kit::HttpClient::with_final_refusals)).
pub(crate) fn final_refusal(response: &HttpResponse) -> bool {
    let body: ErrorBody = serde_json::from_slice(response.body()).unwrap_or_default();
    body.code
        .as_deref()
        .and_then(lookup)
        .is_some_and(|spec| matches!(spec.check, Some(CheckRule::Rejected(_))))
}

/// `error` with the answer's `Twilio-Request-Id`, if it has a sensible one ([`request_id`]).
pub(crate) fn with_request_id(error: Error, response: &HttpResponse, secrets: &[&str]) -> Error {
    match request_id(response, secrets) {
        Some(id) => error.with_request_id(id),
        None => error,
    }
}

/// The answer's `Twilio-Request-Id`, if it has a sensible one: 1 to 64 ASCII letters, digits
/// or dashes, blanks around it not counted, and none of `secrets` in it (a header echoing a
/// credential is no request id).
pub(crate) fn request_id<'r>(response: &'r HttpResponse, secrets: &[&str]) -> Option<&'r str> {
    response
        .header(REQUEST_ID_HEADER)
        .map(str::trim)
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !secrets
                    .iter()
                    .any(|secret| !secret.is_empty() && id.contains(secret))
        })
}

/// What an answer stands for, as the client reads every answer: a non-2xx is its
/// [`provider_error`], a 2xx its body [`decode`]d. `secrets` are scrubbed from anything Twilio
/// wrote.
pub(crate) fn answer<T: DeserializeOwned>(response: &HttpResponse, secrets: &[&str]) -> Result<T> {
    if response.is_success() {
        decode(response, secrets)
    } else {
        Err(provider_error(response, secrets))
    }
}

/// [`answer`], with the answer's [`request_id`]: for the verifier, which names the request in
/// the rejections and errors a 2xx answer stands for.
pub(crate) fn answer_with_request_id<T: DeserializeOwned>(
    response: &HttpResponse,
    secrets: &[&str],
) -> Result<(T, Option<String>)> {
    let value = answer(response, secrets)?;
    Ok((value, request_id(response, secrets).map(str::to_owned)))
}

/// What an answer without a resource stands for (a delete's `204 No Content`): any 2xx is a
/// success, its body ignored; anything else is its [`provider_error`].
pub(crate) fn answer_without_body(response: &HttpResponse, secrets: &[&str]) -> Result<()> {
    if response.is_success() {
        Ok(())
    } else {
        Err(provider_error(response, secrets))
    }
}

/// Decodes the body of a 2xx answer; a malformed body is a [`ErrorKind::Decode`] error with a
/// short, redacted excerpt (without `secrets`, in case Twilio echoes one) and the request id.
pub(crate) fn decode<T: DeserializeOwned>(response: &HttpResponse, secrets: &[&str]) -> Result<T> {
    response
        .json_scrubbed(secrets)
        .map_err(|error| with_request_id(error, response, secrets))
}

/// The rejection a code check answered with `error` stands for: `60202` is
/// `TooManyAttempts`; `20404` is `Expired` when `expired` (the handle is past its expiry),
/// `NotFound` otherwise. Everything else, and either code in a server error, stays an error.
pub(crate) fn check_rejection(error: &Error, expired: bool) -> Option<Rejection> {
    let spec = lookup(error.provider_code()?)?;
    let CheckRule::Rejected(reason) = spec.check_rule(error)? else {
        return None;
    };
    let reason = if reason == RejectReason::NotFound && expired {
        RejectReason::Expired
    } else {
        reason
    };
    Some(spec.rejection(reason, error))
}

#[cfg(test)]
mod tests {
    use phone_verify_core::kit::Operation;
    use phone_verify_core::reqwest::header::{HeaderMap, HeaderValue};
    use phone_verify_core::{ErrorKind, ProviderId};

    use super::*;

    const SEND: Operation = Operation::send("create-verification");
    const CHECK: Operation = Operation::consume("check-verification");
    const READ: Operation = Operation::read("fetch-verification");

    fn response(operation: Operation, status: u16, body: &str) -> HttpResponse {
        let mut headers = HeaderMap::new();
        headers.insert(
            REQUEST_ID_HEADER,
            HeaderValue::from_static("RQ0123456789abcdef0123456789abcdef"),
        );
        HttpResponse::from_parts(
            ProviderId::new_static("twilio"),
            operation,
            status,
            headers,
            body.as_bytes().to_vec().into(),
        )
    }

    fn twilio_body(code: &str, status: u16) -> String {
        format!(
            r#"{{"code":{code},"message":"said {code}","more_info":"https://www.twilio.com/docs/errors/{code}","status":{status}}}"#
        )
    }

    fn provider_error_of(response: &HttpResponse) -> Error {
        provider_error(response, &["canary-token"])
    }

    #[test]
    fn numbers_in_messages_are_masked() {
        let body =
            r#"{"code":60200,"message":" Invalid parameter `To`: +15017122661,\ncode 60200 "}"#;
        let err = provider_error_of(&response(READ, 400, body));
        assert_eq!(
            err.provider_message(),
            Some("Invalid parameter `To`: +*********61, code 60200")
        );
        let blank = provider_error_of(&response(READ, 400, r#"{"code":60200,"message":"  "}"#));
        assert_eq!(blank.provider_message(), None);
    }

    #[test]
    fn echoed_secrets_are_scrubbed() {
        let body = r#"{"code":20003,"message":"bad token canary-token"}"#;
        let err = provider_error_of(&response(READ, 401, body));
        assert_eq!(err.provider_message(), Some("bad token <redacted>"));
        assert!(!format!("{err} {err:?}").contains("canary"));
    }

    #[test]
    fn the_table_has_every_code_of_twilio_md() {
        let codes: Vec<&str> = documented_errors().iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [
                "60200", "60202", "60203", "20404", "20003", "20429", "60212", "60205", "60410",
                "60605", // TWILIO.md's, then those of Twilio's error pages alone:
                "60206"
            ]
        );
    }

    #[test]
    fn every_documented_code_maps_with_code_message_and_request_id() {
        for spec in documented_errors() {
            let r = response(
                SEND,
                spec.http_status,
                &twilio_body(spec.code, spec.http_status),
            );
            let err = provider_error(&r, &[]);
            assert_eq!(err.kind(), spec.kind, "{}", spec.code);
            assert_eq!(err.provider_code(), Some(spec.code));
            let said = format!("said {}", spec.code);
            assert_eq!(err.provider_message(), Some(said.as_str()));
            assert_eq!(err.http_status(), Some(spec.http_status));
            assert_eq!(err.request_id(), Some("RQ0123456789abcdef0123456789abcdef"));
        }
    }

    #[test]
    fn undocumented_answers_fall_back_to_the_status() {
        let err = provider_error_of(&response(SEND, 500, "<html>oops</html>"));
        assert_eq!(err.kind(), ErrorKind::MaybeSent);
        let err = provider_error_of(&response(CHECK, 502, ""));
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
        let err = provider_error_of(&response(READ, 503, "{}"));
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        let err = provider_error_of(&response(READ, 400, &twilio_body("99999", 400)));
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.provider_code(), Some("99999"));
        // A documented code on a 5xx answer keeps the doubt of the status.
        let err = provider_error_of(&response(SEND, 500, &twilio_body("60200", 500)));
        assert_eq!(err.kind(), ErrorKind::MaybeSent);
    }

    /// A 503 with `Retry-After` was refused before processing (no code sent, none used),
    /// whatever code its body carries; a plain 503 may come from a proxy that forwarded the
    /// request, and stays in doubt.
    #[test]
    fn a_503_is_a_refusal_only_with_retry_after() {
        let documented = [twilio_body("60200", 503), twilio_body("20404", 503)];
        let refused = |operation, body: &str| {
            let plain = response(operation, 503, body);
            let mut headers = plain.headers().clone();
            headers.insert("retry-after", HeaderValue::from_static("5"));
            let body = plain.body().clone();
            let twilio = ProviderId::new_static("twilio");
            HttpResponse::from_parts(twilio, operation, 503, headers, body)
        };
        for (operation, plain) in [
            (SEND, ErrorKind::MaybeSent),
            (CHECK, ErrorKind::OutcomeUnknown),
            (READ, ErrorKind::ProviderUnavailable),
        ] {
            for body in ["", "{}", &documented[0], &documented[1]] {
                let err = provider_error_of(&refused(operation, body));
                assert_eq!(
                    err.kind(),
                    ErrorKind::ProviderUnavailable,
                    "{operation:?} {body}"
                );
                assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(5)));
                assert!(check_rejection(&err, true).is_none(), "{body}");
                let err = provider_error_of(&response(operation, 503, body));
                assert_eq!(err.kind(), plain, "{operation:?} {body}");
            }
        }
    }

    #[test]
    fn hostile_bodies_are_cut_and_cleaned() {
        let long = "x".repeat(5000);
        let body = format!(r#"{{"code":"60200\n\u0007","message":"a\nb{long}"}}"#);
        let err = provider_error_of(&response(READ, 400, &body));
        assert_eq!(err.provider_code(), Some("60200"));
        let message = err.provider_message().unwrap();
        assert!(message.starts_with("a b") && message.chars().count() == MAX_MESSAGE_CHARS);
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("bad id\t;"));
        let r = HttpResponse::from_parts(
            ProviderId::new_static("twilio"),
            READ,
            400,
            headers,
            b"{}".to_vec().into(),
        );
        assert_eq!(provider_error(&r, &[]).request_id(), None);
    }

    /// A credential echoed in a code or in the request id header stays out of the error.
    #[test]
    fn an_echoed_credential_is_no_code_or_request_id() {
        let secret = "0123456789abcdef0123456789abcdef";
        let body = format!(r#"{{"code":"6{secret}","message":"no"}}"#);
        let mut headers = HeaderMap::new();
        headers.insert(
            REQUEST_ID_HEADER,
            HeaderValue::from_str(&format!("RQ{secret}")).unwrap(),
        );
        let r = HttpResponse::from_parts(
            ProviderId::new_static("twilio"),
            READ,
            400,
            headers,
            body.into_bytes().into(),
        );
        let err = provider_error(&r, &[secret]);
        assert_eq!(err.provider_code(), Some("6<redacted>"));
        assert_eq!(err.request_id(), None);
        assert!(!format!("{err} {err:?}").contains(secret));
        assert_eq!(request_id(&r, &[]), Some(format!("RQ{secret}").as_str()));
    }

    #[test]
    fn only_refusals_after_processing_are_final() {
        let numeric = r#"{"code":60202,"message":"Max check attempts reached","status":429}"#;
        assert!(final_refusal(&response(CHECK, 429, numeric)));
        assert!(final_refusal(&response(
            CHECK,
            429,
            r#"{"code":" 60202 "}"#
        )));
        for body in [
            twilio_body("20429", 429),
            twilio_body("60212", 429),
            twilio_body("60203", 429),
            twilio_body("99999", 429),
            "{}".to_owned(),
            "not json".to_owned(),
        ] {
            assert!(!final_refusal(&response(CHECK, 429, &body)), "{body}");
        }
    }

    #[test]
    fn check_rules() {
        let err = provider_error_of(&response(CHECK, 429, &twilio_body("60202", 429)));
        let r = check_rejection(&err, false).unwrap();
        assert_eq!(r.reason, RejectReason::TooManyAttempts);
        assert_eq!(r.provider_code.as_deref(), Some("60202"));
        let err = provider_error_of(&response(CHECK, 404, &twilio_body("20404", 404)));
        assert_eq!(
            check_rejection(&err, false).unwrap().reason,
            RejectReason::NotFound
        );
        assert_eq!(
            check_rejection(&err, true).unwrap().reason,
            RejectReason::Expired
        );
        let err = provider_error_of(&response(CHECK, 400, &twilio_body("60200", 400)));
        assert!(check_rejection(&err, false).is_none());
        // A server error carrying either code: the check may have used the code.
        for code in ["60202", "20404"] {
            for status in [500, 502, 503] {
                let err = provider_error_of(&response(CHECK, status, &twilio_body(code, status)));
                assert!(check_rejection(&err, true).is_none(), "{code} {status}");
                assert_ne!(err.kind(), ErrorKind::RateLimited, "{code} {status}");
                assert_ne!(err.kind(), ErrorKind::NotFound, "{code} {status}");
            }
        }
    }

    #[test]
    fn a_malformed_success_is_typed_by_its_operation_with_the_request_id() {
        // Twilio took the send (201): the code may be on its way.
        let err = decode::<crate::wire::Verification>(&response(SEND, 201, "{\"sid\":"), &[])
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MaybeSent);
        assert!(err.request_id().is_some());
    }
}
