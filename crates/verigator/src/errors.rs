//! The one mapping from Verigator's answers to phone-verify errors and check outcomes, through
//! the table generated from `errors.toml` by `cargo xtask codegen`; [`documented_errors`] and
//! [`lookup`] read it.
//!
//! - An HTTP error's status is looked up as its code (`"401"`, `"404"`, …); undocumented
//!   statuses fall back to the core [`HttpResponse::kind_for_status`].
//! - A `provider_unavailable` answer to a send (starting an authentication) is
//!   [`ErrorKind::MaybeSent`], except a 503 with `Retry-After` (a refusal before processing;
//!   a plain 503 may come from a proxy that forwarded the request): the PIN may have gone out.
//! - A server error answering a PIN check (500, 502, 503, 504; not a 503 with `Retry-After`)
//!   is [`ErrorKind::OutcomeUnknown`]: the check may have used the PIN up, and Verigator
//!   offers no way to read its result back.
//! - In a PIN check, a 404 (no pending authentication) and the `status` detail of
//!   `verified: false` (`throttled`, `expired`, `invalid`) are check outcomes.
//! - Verigator's error body is a JSON object (`{"message": …}`) or nothing. An answer with
//!   any other body (a proxy's HTML page, a base URL without `/v1`) was not written by
//!   Verigator: its status still gives the kind, but it carries no provider code, so a PIN
//!   check answered 404 so is the `NotFound` error, not `Rejected(NotFound)`.

use phone_verify_core::kit::{CheckRule, ErrorSpec, HttpResponse, provider_text};
use phone_verify_core::{CheckOutcome, Error, ErrorKind, RejectReason, Rejection, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error_table;
use crate::wire::PinStatus;

/// The longest provider message kept in an error.
const MAX_MESSAGE_CHARS: usize = 200;

/// Every error Verigator documents, in the order of `errors.toml`: the HTTP statuses (code
/// `"400"`, `"401"`, …) and the `status` details of a refused PIN (`throttled`, `expired`,
/// `invalid`).
pub fn documented_errors() -> &'static [ErrorSpec] {
    error_table::ERRORS.as_slice()
}

/// The documented error with `code` (`"404"`, `"throttled"`; surrounding spaces are ignored).
pub fn lookup(code: &str) -> Option<&'static ErrorSpec> {
    error_table::ERRORS.lookup(code)
}

/// The documented error for an HTTP `status`.
fn documented(status: u16) -> Option<&'static ErrorSpec> {
    lookup(&status.to_string()).filter(|spec| spec.http_status == status)
}

/// The [`ErrorKind`] of `response`, an answer with a non-2xx status, its headers seen (a 503
/// with `Retry-After` was refused before processing).
pub(crate) fn kind_for(response: &HttpResponse) -> ErrorKind {
    let status = response.status().as_u16();
    let kind = documented(status).map_or_else(|| response.kind_for_status(), |s| s.kind);
    // Verigator has no way to read a check's result back: the PIN may have been used.
    response.kind_for_operation(kind)
}

/// The error an answer with a non-2xx status stands for. `secrets` are scrubbed from anything
/// the provider wrote. The documented code (the status) is kept only when Verigator wrote
/// the body: none, or a JSON object.
pub(crate) fn provider_error(response: &HttpResponse, secrets: &[&str]) -> Error {
    let status = response.status().as_u16();
    let spec = documented(status);
    let kind = kind_for(response);
    let body = response.body();
    let json = serde_json::from_slice::<Value>(body).ok();
    let verigators = match &json {
        Some(value) => value.is_object(),
        None => body.iter().all(u8::is_ascii_whitespace),
    };
    let said = json
        .as_ref()
        .and_then(|value| provider_message(value, secrets));
    let text = said
        .as_deref()
        .or(spec.map(|s| s.message))
        .or(response.status().canonical_reason())
        .unwrap_or("Verigator refused the request");
    let mut error = response.error(kind, format!("{}: {text}", response.operation().name));
    if let Some(spec) = spec.filter(|_| verigators) {
        error = error.with_provider_code(spec.code);
    }
    if let Some(message) = said {
        error = error.with_provider_message(message);
    }
    error
}

/// What an answer stands for, as the client reads every answer with a body: a non-2xx is its
/// [`provider_error`], a 2xx its body [`decode`]d. `secrets` are scrubbed from anything
/// Verigator wrote.
pub(crate) fn answer<T: DeserializeOwned>(response: &HttpResponse, secrets: &[&str]) -> Result<T> {
    if response.is_success() {
        decode(response, secrets)
    } else {
        Err(provider_error(response, secrets))
    }
}

/// What an answer to a `DELETE` stands for: any 2xx is a success, its body ignored; anything
/// else is its [`provider_error`].
pub(crate) fn answer_without_body(response: &HttpResponse, secrets: &[&str]) -> Result<()> {
    if response.is_success() {
        Ok(())
    } else {
        Err(provider_error(response, secrets))
    }
}

/// Decodes the body of a 2xx answer; failures are [`ErrorKind::Decode`] errors with a short,
/// redacted excerpt.
pub(crate) fn decode<T: DeserializeOwned>(response: &HttpResponse, secrets: &[&str]) -> Result<T> {
    let body = response.body();
    // The usual answer, a JSON object, is decoded once, straight into its type; anything else
    // (no body, another JSON value, a body the type refuses) takes the path below for its
    // error.
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{')
        && let Ok(typed) = serde_json::from_slice::<T>(body)
    {
        return Ok(typed);
    }
    // A success without a body decodes like an empty object: every field is optional or
    // reported as missing.
    let parsed = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Value::Object(serde_json::Map::new()))
    } else {
        serde_json::from_slice::<Value>(body)
    };
    // serde's messages can quote the offending value: the kit redacts them like the body.
    let fail = |cause: &str| response.undecodable(ErrorKind::Decode, cause, secrets);
    match parsed {
        Ok(value) if value.is_object() => {
            serde_json::from_value(value).map_err(|e| fail(&e.to_string()))
        }
        Ok(_) => Err(fail("not a JSON object")),
        Err(e) => Err(fail(&e.to_string())),
    }
}

/// The outcome a PIN check answered with `error` stands for: `Rejected(NotFound)` for a 404
/// Verigator wrote (no pending authentication for the user; see [`provider_error`]).
/// Everything else stays an error.
pub(crate) fn check_outcome(error: &Error) -> Option<CheckOutcome> {
    let spec = lookup(error.provider_code()?)?;
    if error.http_status() != Some(spec.http_status) {
        return None;
    }
    let CheckRule::Rejected(reason) = spec.check_rule(error)? else {
        return None;
    };
    Some(CheckOutcome::Rejected(spec.rejection(reason, error)))
}

/// The rejection of a `verified: false` answer with `status`: its detail (`throttled`,
/// `expired`, `invalid`) through the table, with that detail as provider code; no detail is a
/// wrong PIN without a provider code (Verigator sent none).
pub(crate) fn rejection(status: Option<&PinStatus>) -> Rejection {
    let Some(detail) = status.and_then(PinStatus::detail) else {
        return Rejection::new(RejectReason::WrongCode)
            .with_message("Verigator answered verified: false without a reason");
    };
    let spec = lookup(detail);
    let reason = match spec.and_then(|s| s.check) {
        Some(CheckRule::Rejected(reason)) => reason,
        _ => RejectReason::WrongCode,
    };
    let mut rejection = Rejection::new(reason).with_provider_code(detail);
    if let Some(spec) = spec {
        rejection = rejection.with_message(spec.message);
    }
    rejection
}

/// The `message` of a JSON error body, if it has one: without `secrets`, trimmed, control
/// characters replaced, at most [`MAX_MESSAGE_CHARS`], phone-like digit runs masked.
fn provider_message(body: &Value, secrets: &[&str]) -> Option<String> {
    provider_text(body.get("message")?.as_str()?, secrets, MAX_MESSAGE_CHARS)
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ProviderId;
    use phone_verify_core::kit::Operation;
    use phone_verify_core::reqwest::header::HeaderMap;

    use super::*;
    use crate::wire::PinVerification;

    fn response(operation: Operation, status: u16, body: &str) -> HttpResponse {
        answer(operation, status, HeaderMap::new(), body)
    }

    /// [`response`] with `Retry-After: 5`.
    fn response_with_retry_after(operation: Operation, status: u16, body: &str) -> HttpResponse {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "5".parse().unwrap());
        answer(operation, status, headers, body)
    }

    fn answer(operation: Operation, status: u16, headers: HeaderMap, body: &str) -> HttpResponse {
        HttpResponse::from_parts(
            ProviderId::new_static("verigator"),
            operation,
            status,
            headers,
            body.as_bytes().to_vec().into(),
        )
    }

    const SEND: Operation = Operation::send("start-auth");
    const READ: Operation = Operation::read("get-user");
    const CONSUME: Operation = Operation::consume("verify-pin");
    const WRITE: Operation = Operation::write("create-user");

    /// `documented_errors` is the table itself, as VerifyKit's and Twilio's: a slice to index,
    /// measure and walk again, each entry the one `lookup` finds by its code.
    #[test]
    fn documented_errors_is_the_table_as_a_slice() {
        let all: &'static [ErrorSpec] = documented_errors();
        assert_eq!(all.len(), error_table::ERRORS.iter().len());
        for spec in all {
            assert!(
                std::ptr::eq(lookup(spec.code).unwrap(), spec),
                "{}",
                spec.code
            );
        }
    }

    #[test]
    fn the_table_has_every_documented_status_and_detail() {
        let codes: Vec<&str> = documented_errors().iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [
                "400",
                "401",
                "403",
                "404",
                "409",
                "422",
                "500",
                "throttled",
                "expired",
                "invalid"
            ]
        );
        assert_eq!(lookup(" 409 ").map(|e| e.kind), Some(ErrorKind::Conflict));
        assert_eq!(lookup("410"), None);
        for spec in documented_errors() {
            if let Ok(status) = spec.code.parse::<u16>() {
                assert_eq!(status, spec.http_status, "{}", spec.code);
            } else {
                assert_eq!(spec.http_status, 200, "{}", spec.code);
                assert!(spec.check.is_some(), "{}", spec.code);
            }
        }
    }

    #[test]
    fn statuses_map_to_kinds() {
        let cases = [
            (400, WRITE, ErrorKind::InvalidInput),
            (401, READ, ErrorKind::Unauthorized),
            (403, SEND, ErrorKind::Unauthorized),
            (404, READ, ErrorKind::NotFound),
            (409, WRITE, ErrorKind::Conflict),
            (422, SEND, ErrorKind::InvalidInput),
            (500, READ, ErrorKind::ProviderUnavailable),
            (500, WRITE, ErrorKind::ProviderUnavailable),
            (500, SEND, ErrorKind::MaybeSent),
            (502, SEND, ErrorKind::MaybeSent),
            (504, SEND, ErrorKind::MaybeSent),
            (503, SEND, ErrorKind::MaybeSent),
            (503, READ, ErrorKind::ProviderUnavailable),
            (500, CONSUME, ErrorKind::OutcomeUnknown),
            (502, CONSUME, ErrorKind::OutcomeUnknown),
            (504, CONSUME, ErrorKind::OutcomeUnknown),
            (503, CONSUME, ErrorKind::OutcomeUnknown),
            (429, CONSUME, ErrorKind::RateLimited),
            (404, CONSUME, ErrorKind::NotFound),
            (401, CONSUME, ErrorKind::Unauthorized),
            (429, SEND, ErrorKind::RateLimited),
            (410, READ, ErrorKind::Expired),
            (418, READ, ErrorKind::Provider),
            (302, READ, ErrorKind::Provider),
        ];
        for (status, operation, kind) in cases {
            let answer = response(operation, status, "");
            assert_eq!(kind_for(&answer), kind, "{status} {operation:?}");
        }
    }

    /// A 503 with `Retry-After` was refused before processing: no PIN went out, none was
    /// used. A plain 503 may come from a proxy that forwarded the request: in doubt.
    #[test]
    fn a_503_is_a_refusal_only_with_retry_after() {
        let body = r#"{"message":"Service unavailable"}"#;
        for (operation, plain) in [
            (SEND, ErrorKind::MaybeSent),
            (CONSUME, ErrorKind::OutcomeUnknown),
            (READ, ErrorKind::ProviderUnavailable),
            (WRITE, ErrorKind::ProviderUnavailable),
        ] {
            let refused = provider_error(&response_with_retry_after(operation, 503, body), &[]);
            assert_eq!(
                refused.kind(),
                ErrorKind::ProviderUnavailable,
                "{operation:?}"
            );
            assert_eq!(
                refused.retry_after(),
                Some(std::time::Duration::from_secs(5))
            );
            let doubtful = provider_error(&response(operation, 503, body), &[]);
            assert_eq!(doubtful.kind(), plain, "{operation:?}");
        }
        // Other server errors stay in doubt, with or without `Retry-After`.
        let err = provider_error(&response_with_retry_after(SEND, 500, body), &[]);
        assert_eq!(err.kind(), ErrorKind::MaybeSent);
    }

    #[test]
    fn provider_errors_keep_the_details() {
        let err = provider_error(
            &response(WRITE, 409, r#"{"message":"User already exists"}"#),
            &[],
        );
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(err.provider_code(), Some("409"));
        assert_eq!(err.provider_message(), Some("User already exists"));
        assert_eq!(err.http_status(), Some(409));
        assert_eq!(err.provider().map(ProviderId::as_str), Some("verigator"));
        assert!(err.to_string().contains("create-user: User already exists"));

        let empty = provider_error(&response(SEND, 403, r#""""#), &[]);
        assert_eq!(empty.kind(), ErrorKind::Unauthorized);
        assert_eq!(empty.provider_message(), None);
        assert!(empty.message().contains("Forbidden request"), "{empty}");

        let html = provider_error(&response(SEND, 502, "<html>Bad Gateway</html>"), &[]);
        assert_eq!(html.kind(), ErrorKind::MaybeSent);
        assert_eq!(html.provider_code(), None);
        assert!(html.message().contains("Bad Gateway"));

        let long = format!(r#"{{"message":"{}\n"}}"#, "x".repeat(1000));
        let long = provider_error(&response(READ, 500, &long), &[]);
        assert_eq!(
            long.provider_message().map(str::len),
            Some(MAX_MESSAGE_CHARS)
        );
    }

    #[test]
    fn numbers_in_provider_messages_are_masked() {
        let body = r#"{"message":"Phone number +905321234567 is invalid"}"#;
        let err = provider_error(&response(WRITE, 400, body), &[]);
        assert_eq!(err.provider_code(), Some("400"));
        assert_eq!(
            err.provider_message(),
            Some("Phone number +**********67 is invalid")
        );
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains("5321234567"), "{shown}");
        }
        // A check's rejection carries the message as kept.
        let body = r#"{"message":"No pending authentication for 905321234567"}"#;
        let outcome = check_outcome(&provider_error(&response(CONSUME, 404, body), &[]));
        let rejection = outcome.as_ref().and_then(CheckOutcome::rejection).unwrap();
        assert_eq!(
            rejection.message.as_deref(),
            Some("No pending authentication for **********67")
        );
    }

    #[test]
    fn echoed_credentials_are_scrubbed() {
        let body = r#"{"message":"wrong credentials user-canary:pass-canary"}"#;
        let err = provider_error(
            &response(READ, 401, body),
            &["user-canary:pass-canary", "user-canary", "pass-canary", ""],
        );
        assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
        let err = decode::<PinVerification>(
            &response(READ, 200, r#"{"verified":"pass-canary"}"#),
            &["pass-canary"],
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
    }

    #[test]
    fn decoding_is_typed() {
        let ok: PinVerification =
            decode(&response(READ, 200, r#"{"verified":true}"#), &[]).unwrap();
        assert!(ok.verified);
        for body in [
            "",
            "  ",
            "null",
            "[]",
            "<html/>",
            r#"{"verified":"#,
            "\u{1}",
        ] {
            let err = decode::<PinVerification>(&response(READ, 200, body), &[]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{body:?}");
            assert_eq!(err.http_status(), Some(200));
        }
        let err =
            decode::<PinVerification>(&response(READ, 200, r#"{"verified":"+37251234567"}"#), &[])
                .unwrap_err();
        assert!(!err.to_string().contains("51234567"), "{err}");
    }

    #[test]
    fn check_outcomes() {
        let not_found = provider_error(&response(CONSUME, 404, r#"{"message":"gone"}"#), &[]);
        let outcome = check_outcome(&not_found).unwrap();
        let rejection = outcome.rejection().unwrap();
        assert_eq!(rejection.reason, RejectReason::NotFound);
        assert_eq!(rejection.provider_code.as_deref(), Some("404"));
        assert_eq!(rejection.message.as_deref(), Some("gone"));
        for status in [400, 401, 403, 409, 422, 500, 503] {
            let err = provider_error(&response(CONSUME, status, ""), &[]);
            assert_eq!(check_outcome(&err), None, "{status}");
        }
        let forged = Error::new(ErrorKind::Provider, "x").with_provider_code("404");
        assert_eq!(check_outcome(&forged), None);
    }

    #[test]
    fn only_a_404_verigator_wrote_is_a_rejection() {
        // Verigator's body is a JSON object or nothing.
        for body in ["", " \n", "{}", r#"{"message":"gone"}"#] {
            let err = provider_error(&response(CONSUME, 404, body), &[]);
            assert_eq!(err.provider_code(), Some("404"), "{body:?}");
            let outcome = check_outcome(&err).unwrap();
            assert_eq!(
                outcome.rejection().unwrap().reason,
                RejectReason::NotFound,
                "{body:?}"
            );
        }
        // Anything else (a proxy's page, a base URL without /v1) was not written by
        // Verigator: the NotFound error, not "no pending authentication".
        for body in [
            "<html>Not Found</html>",
            "Not Found",
            "[]",
            r#""gone""#,
            "null",
        ] {
            let err = provider_error(&response(CONSUME, 404, body), &[]);
            assert_eq!(err.kind(), ErrorKind::NotFound, "{body:?}");
            assert_eq!(err.http_status(), Some(404), "{body:?}");
            assert_eq!(err.provider_code(), None, "{body:?}");
            assert_eq!(check_outcome(&err), None, "{body:?}");
        }
        assert_eq!(check_outcome(&Error::new(ErrorKind::Timeout, "slow")), None);
    }

    #[test]
    fn pin_details_become_rejections() {
        let status = |json: &str| serde_json::from_str::<PinStatus>(json).unwrap();
        let reason = |s: Option<&PinStatus>| rejection(s).reason;
        assert_eq!(
            reason(Some(&status(r#"{"throttled":true,"result":"THROTTLED"}"#))),
            RejectReason::TooManyAttempts
        );
        assert_eq!(
            reason(Some(&status(r#"{"expired":true}"#))),
            RejectReason::Expired
        );
        assert_eq!(
            reason(Some(&status(r#"{"invalid":true}"#))),
            RejectReason::WrongCode
        );
        assert_eq!(
            rejection(Some(&status(r#"{"invalid":true}"#)))
                .provider_code
                .as_deref(),
            Some("invalid")
        );
        // No detail: a wrong PIN, with no code Verigator never sent.
        for bare in [rejection(None), rejection(Some(&status("{}")))] {
            assert_eq!(bare.reason, RejectReason::WrongCode);
            assert_eq!(bare.provider_code, None);
            assert!(bare.message.is_some());
        }
    }
}
