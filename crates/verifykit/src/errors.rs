//! The one mapping of VerifyKit's error codes to phone-verify's [`ErrorKind`]s and check
//! outcomes, and the decoder of VerifyKit's answers into their `result` or their error.
//!
//! The table lives, as data, in the crate's `errors.toml`: for every error code VerifyKit
//! documents, its HTTP status, its documented message, the [`ErrorKind`] it becomes and, for the
//! codes a check can answer, the [`CheckOutcome`] it stands for. `cargo xtask codegen` turns it
//! into the crate's `error_table.rs` (and the table of `docs/providers/verifykit.md`);
//! [`documented_errors`] and [`lookup`] read it.
//!
//! In short: `400007`, `403004`, `403014`, `403048` are `InvalidInput`; `403011`, `403047`,
//! `403049` `Unsupported`; `403012` `Blocked`; `403013`, `403036` `NotFound`; `403037`
//! `Expired`; `403038` `Unauthorized`; `403041`, `403042`, `403043` `QuotaExhausted`; `403015`,
//! `429001` `RateLimited`; `500008` `ProviderUnavailable`. In a check, `403014` is
//! `Rejected(WrongCode)`, `403037` `Rejected(Expired)`, `403013` `Rejected(NotFound)`, `403015`
//! `Rejected(TooManyAttempts)`, and `403036` is `Rejected(NotFound)` in a code check and
//! `Pending` in a poll: of a reverse flow (`/check`), bounded by the handle's expiry, and of
//! an e-mail verification (`check-email`, on the typed client only, with no handle), bounded
//! by the caller, who decides how long to poll.
//!
//! Three rules complete the table: a server error (`500008`, or an undocumented 5xx) other than
//! a 503 with `Retry-After` answering a send (`send-otp`, `start`, `send-whatsapp-message`)
//! becomes [`ErrorKind::MaybeSent`], since the message may have gone out, and answering a code
//! check (`check-otp`, `check-whatsapp`, `check-email`) becomes [`ErrorKind::OutcomeUnknown`],
//! since the code may have been used up, even when its body is a success's (a 500 answering
//! `validationStatus: false` is no wrong code); a 503 with `Retry-After` was refused before
//! processing and is [`ErrorKind::ProviderUnavailable`] (a plain 503 is not: proxies answer it
//! after forwarding the request). And a code check whose answer contradicts itself, a `result`
//! that reports a success (`validationStatus` or `emailVerify` true, or a session id) with an
//! error in `meta` or with a status that is not 2xx, is [`ErrorKind::OutcomeUnknown`] (keeping
//! VerifyKit's code, message and request id): never the rejection its code stands for, never
//! verified. An error in `meta` without such a result keeps the mapping of its code; a 4xx
//! answer without one keeps the PHP SDK's reading of its body (`validationStatus: false` is a
//! wrong code). An undocumented code falls back to the kind its HTTP status
//! suggests ([`HttpResponse::kind_for_status`]), except that 403, which VerifyKit uses for
//! every business error, gives [`ErrorKind::Provider`] rather than `Unauthorized`.
//!
//! 403036 means "validation not found". VerifyKit documents it as the "in progress" answer of
//! `check-email` (the PHP SDK's `EmailSDK.md`) and documents no "not yet" answer for `/check`,
//! so a poll of a WhatsApp or Telegram reverse flow answered with it may be a flow the user has
//! not completed yet or a reference VerifyKit does not know; the two cannot be told apart. Both
//! are `Pending`, and the verifier ends the wait at the handle's expiry (a flow still pending
//! then is `Rejected(Expired)`), so a wrong or foreign reference never polls for ever.
//!
//! Every error keeps VerifyKit's code ([`Error::provider_code`]), message
//! ([`Error::provider_message`], phone-like digit runs masked), request id
//! ([`Error::request_id`]) and HTTP status.
//!
//! The mapping of an answer to a kind is the crate's own, as the other providers' are: an
//! application reads the error's [`kind`](Error::kind), and a check's outcome with
//! [`check_outcome`] (the e-mail poll of the typed client).
//!
//! ```compile_fail,E0603
//! use phone_verify_verifykit::errors::kind_for;
//! ```

use std::borrow::Cow;

use phone_verify_core::kit::lenient::{bool_value, scalar_to_string};
use phone_verify_core::kit::{
    CheckRule, ErrorSpec, HttpResponse, OperationKind, kind_for_status, provider_code_scrubbed,
    provider_text, redacted_excerpt,
};
use phone_verify_core::secrecy::{ExposeSecret as _, SecretString};
use phone_verify_core::{CheckOutcome, Error, ErrorKind, RejectReason, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error_table;
use crate::wire::{Envelope, Meta};

/// The most characters of VerifyKit's message an error keeps.
const MAX_MESSAGE_CHARS: usize = 200;

/// Which kind of check an answer belongs to, for [`check_outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Checked {
    /// A code check: `check-otp` or `check-whatsapp`.
    Code,
    /// A poll of a WhatsApp or Telegram reverse flow: `check`.
    ReverseFlow,
    /// A poll of an e-mail verification: `check-email` (typed client only: no handle bounds it,
    /// the caller decides how long to poll).
    Email,
}

/// Every error code VerifyKit documents, in the order of its documentation.
pub fn documented_errors() -> &'static [ErrorSpec] {
    error_table::ERRORS.as_slice()
}

/// The documented error with `code`, as VerifyKit sent it (`"403014"`; surrounding spaces are
/// ignored).
pub fn lookup(code: &str) -> Option<&'static ErrorSpec> {
    error_table::ERRORS.lookup(code)
}

/// The [`ErrorKind`] of `response`, an answer with VerifyKit error `code`. `stated_status` is
/// the HTTP status its `meta.httpStatusCode` states: the PHP SDK trusts `meta`, not the HTTP
/// status, so the stated status counts, except over a server error, which leaves a send or a
/// check in doubt whatever the body says.
///
/// The response's headers are seen: a 503 with `Retry-After` was refused before processing
/// and is [`ErrorKind::ProviderUnavailable`] for every operation, where any other server error
/// answering a send is [`ErrorKind::MaybeSent`] and answering a code check
/// [`ErrorKind::OutcomeUnknown`] ([`HttpResponse::kind_for_operation`]).
pub(crate) fn kind_for(
    code: Option<&str>,
    stated_status: Option<u16>,
    response: &HttpResponse,
) -> ErrorKind {
    let own = response.status().as_u16();
    let status = match stated_status {
        Some(stated) if own < 500 => stated,
        _ => own,
    };
    let kind = match code.and_then(lookup) {
        // A server error keeps its doubt, whatever code its body carries: the status decides,
        // with the response's headers when it is the response's own.
        Some(documented) if status == own => documented.kind_in(response),
        Some(documented) => documented.kind_at(status, response.operation().kind),
        None if status == 403 => ErrorKind::Provider,
        // The response's own status is seen with its headers; a stated one has none.
        _ if status == own => response.kind_for_status(),
        _ => kind_for_status(status, response.operation().kind),
    };
    response.kind_for_operation(kind)
}

/// The outcome a check of kind `checked` answered with `error` stands for, if it stands for
/// one.
///
/// Only errors VerifyKit answered with a documented code that has a [`CheckRule`] qualify;
/// everything else (including [`ErrorKind::OutcomeUnknown`]) stays an error.
pub fn check_outcome(error: &Error, checked: Checked) -> Option<CheckOutcome> {
    let code = error.provider_code()?;
    let documented = lookup(code)?;
    let reason = match documented.check_rule(error)? {
        CheckRule::Rejected(reason) => reason,
        CheckRule::PendingWhilePolling if checked != Checked::Code => {
            return Some(CheckOutcome::Pending);
        }
        CheckRule::PendingWhilePolling => RejectReason::NotFound,
    };
    Some(CheckOutcome::Rejected(documented.rejection(reason, error)))
}

/// Decodes an answer into its `result`, or into the error it carries.
///
/// The usual answer, a success with an object `result` (with a 2xx status, for a code check),
/// is decoded straight into `T`; anything else takes the path through a JSON `Value` that
/// tells the error, the contradiction or the bad shape apart.
///
/// `server_key` is scrubbed from anything VerifyKit wrote that the error keeps (its message, an
/// excerpt of the body), in case it echoes the key.
pub(crate) fn decode<T: DeserializeOwned>(
    response: &HttpResponse,
    server_key: &SecretString,
) -> Result<T> {
    decode_answer(response, server_key).map(|(result, _)| result)
}

/// [`decode`], with the answer's `meta.requestId`, cleaned as an error's request id is.
pub(crate) fn decode_with_request_id<T: DeserializeOwned>(
    response: &HttpResponse,
    server_key: &SecretString,
) -> Result<(T, Option<String>)> {
    let (result, request_id) = decode_answer(response, server_key)?;
    let secrets = [server_key.expose_secret()];
    let request_id = request_id.and_then(|id| provider_code_scrubbed(&id, &secrets));
    Ok((result, request_id))
}

/// [`decode`], with the answer's `meta.requestId` as it is written (borrowed from the body on
/// the usual path).
fn decode_answer<'a, T: DeserializeOwned>(
    response: &'a HttpResponse,
    server_key: &SecretString,
) -> Result<(T, Option<Cow<'a, str>>)> {
    if !in_doubt(response)
        && (response.is_success() || !is_code_check(response))
        && response.body().trim_ascii_start().first() == Some(&b'{')
        && let Ok(Envelope { meta, result }) =
            serde_json::from_slice::<Envelope<'a, T>>(response.body())
        && !meta.is_error()
    {
        return Ok((result, meta.request_id));
    }
    decode_unusual(response, &[server_key.expose_secret()])
}

/// Whether `response` answers a code check (`check-otp`, `check-whatsapp`, `check-email`),
/// which uses the code up.
fn is_code_check(response: &HttpResponse) -> bool {
    response.operation().kind == OperationKind::Consume
}

/// Whether a 429, or a 503 with `Retry-After`, answering a code check (what the HTTP layer
/// would send again) reports a success in its result: VerifyKit may have used the code, so a
/// second check could only meet it used (`403013`) and read as a rejection. Such an answer is
/// not retried; [`decode`] makes it `OutcomeUnknown`.
pub(crate) fn final_refusal(response: &HttpResponse) -> bool {
    is_code_check(response)
        && serde_json::from_slice::<Value>(response.body())
            .is_ok_and(|body| reports_success(body.get("result")))
}

/// Whether `response` answers a send (`send-otp`, `start`, `start-email`, …).
fn is_send(response: &HttpResponse) -> bool {
    response.operation().kind == OperationKind::Send
}

/// Whether `result` (a send's) names a verification's reference (non-blank text or a number):
/// beside an error in `meta`, the answer contradicts itself, and the message may have gone out.
fn names_reference(result: Option<&Value>) -> bool {
    result
        .and_then(|result| result.get("reference"))
        .and_then(scalar_to_string)
        .is_some_and(|reference| !reference.trim().is_empty())
}

/// Whether `result` (a code check's) reports a success: `validationStatus` or `emailVerify`
/// true (as the lenient decoders read a boolean), or a session id (non-blank text).
fn reports_success(result: Option<&Value>) -> bool {
    let Some(Value::Object(result)) = result else {
        return false;
    };
    let is_true = |key: &str| {
        result
            .get(key)
            .is_some_and(|v| bool_value::<serde_json::Error>(v).unwrap_or(false))
    };
    let session = result
        .get("sessionId")
        .and_then(scalar_to_string)
        .is_some_and(|id| !id.is_empty());
    is_true("validationStatus") || is_true("emailVerify") || session
}

/// Whether `response` answers a send or a code check with a server error (5xx): whatever its
/// body says, never a success, since the message may have gone out or the code may have been
/// used (the PHP SDK trusts the body, which would take a 500 with `validationStatus: false` for
/// a wrong code).
fn in_doubt(response: &HttpResponse) -> bool {
    response.status().is_server_error()
        && matches!(
            response.operation().kind,
            OperationKind::Send | OperationKind::Consume
        )
}

/// [`decode`] of anything but a usual success: an error, or a bad shape told apart through a
/// JSON `Value`. Out of line and marked cold, so that the usual path stays compact in the
/// instruction cache.
#[cold]
#[inline(never)]
fn decode_unusual<T: DeserializeOwned>(
    response: &HttpResponse,
    secrets: &[&str],
) -> Result<(T, Option<Cow<'static, str>>)> {
    let body = match serde_json::from_slice::<Value>(response.body()) {
        Ok(body @ Value::Object(_)) => body,
        Ok(_) => return Err(undecodable(response, "not a JSON object", secrets)),
        Err(e) => return Err(undecodable(response, &e.to_string(), secrets)),
    };
    let meta = Meta::read(body.get("meta"));
    // A code check whose result reports a success while its `meta` or its status says it
    // failed contradicts itself: the code may have been used, so neither reading holds.
    let contradicted = is_code_check(response) && reports_success(body.get("result"));
    if meta.is_error() {
        if contradicted {
            return Err(contradiction(
                response,
                &meta,
                "an error with a result that reports success",
                secrets,
            ));
        }
        if is_send(response) && names_reference(body.get("result")) {
            let what = "an error with the reference of a started verification; the message may \
                        have gone out";
            return Err(provider_error_of(
                response,
                &meta,
                ErrorKind::MaybeSent,
                Some(&format!("answered {what}")),
                secrets,
            ));
        }
        return Err(provider_error(response, &meta, secrets));
    }
    // (A 503 with `Retry-After` included: refused before processing, its body says, yet it
    // reports a success.)
    if contradicted && !response.is_success() {
        let what = format!(
            "HTTP {} with a result that reports success",
            response.status().as_u16()
        );
        return Err(contradiction(response, &meta, &what, secrets));
    }
    if in_doubt(response) {
        let kind = kind_for(None, None, response);
        let what = format!(
            "HTTP {} with the body of a success",
            response.status().as_u16()
        );
        return Err(bad_answer(response, &meta, kind, &what, secrets));
    }
    let result = match body.get("result") {
        Some(result @ Value::Object(_)) => T::deserialize(result),
        // PHP encodes an empty associative array as `[]`.
        Some(Value::Array(items)) if items.is_empty() => {
            T::deserialize(&Value::Object(serde_json::Map::new()))
        }
        None | Some(Value::Null) => {
            let kind = unusable_kind(response);
            return Err(bad_answer(
                response,
                &meta,
                kind,
                "without a result or an error code",
                secrets,
            ));
        }
        Some(_) => {
            let what = "with a result that is not an object";
            return Err(bad_answer(
                response,
                &meta,
                ErrorKind::Decode,
                what,
                secrets,
            ));
        }
    };
    let result = result.map_err(|e| {
        // serde's messages can quote the offending value: redact it like a body excerpt.
        let what = format!(
            "with a result of an unexpected shape: {}",
            redacted_excerpt(e.to_string().as_bytes())
        );
        bad_answer(response, &meta, ErrorKind::Decode, &what, secrets)
    })?;
    Ok((result, meta.request_id.map(Cow::Owned)))
}

/// The error carried by an answer whose `meta` has an error code or message; `secrets` are
/// scrubbed from VerifyKit's message.
fn provider_error(response: &HttpResponse, meta: &Meta, secrets: &[&str]) -> Error {
    let kind = kind_for(meta.error_code.as_deref(), meta.http_status_code, response);
    provider_error_of(response, meta, kind, None, secrets)
}

/// The error of a code check whose answer contradicts itself (`what` it answered): its
/// outcome is unknown, with VerifyKit's code, message and request id kept. So is a server
/// error's, even a 503 with `Retry-After` (a refusal before processing, but for its result
/// reporting a success): asked again, the code could only be met used.
fn contradiction(response: &HttpResponse, meta: &Meta, what: &str, secrets: &[&str]) -> Error {
    let kind = ErrorKind::OutcomeUnknown;
    let what = format!("answered {what}; the code may have been used, start a new verification");
    provider_error_of(response, meta, kind, Some(&what), secrets)
}

/// An error of `kind` for an answer, with the code, message and request id its `meta` holds;
/// its text is VerifyKit's message, or `what` the answer was when given.
fn provider_error_of(
    response: &HttpResponse,
    meta: &Meta,
    kind: ErrorKind,
    what: Option<&str>,
    secrets: &[&str],
) -> Error {
    let code = meta.error_code.as_deref();
    let documented = code.and_then(lookup);
    // VerifyKit's message may quote the number, or hold control characters: kept clean.
    let said = meta
        .error_message
        .as_deref()
        .and_then(|m| provider_text(m, secrets, MAX_MESSAGE_CHARS));
    let text = said
        .as_deref()
        .or(documented.map(|d| d.message))
        .unwrap_or("VerifyKit refused the request");
    let name = response.operation().name;
    let message = match what {
        Some(what) if meta.is_error() => format!("{name} {what} ({text})"),
        Some(what) => format!("{name} {what}"),
        None => format!("{name}: {text}"),
    };
    let mut error = response.error(kind, message);
    if let Some(code) = code.and_then(|c| provider_code_scrubbed(c, secrets)) {
        error = error.with_provider_code(code);
    }
    if let Some(message) = said {
        error = error.with_provider_message(message);
    }
    with_request_id(error, meta, secrets)
}

/// The kind of an answer that cannot be used: [`ErrorKind::Decode`] for a 2xx answer (which
/// [`HttpResponse::error`] makes `MaybeSent` for a send and `OutcomeUnknown` for a code check),
/// else the kind its HTTP status suggests.
fn unusable_kind(response: &HttpResponse) -> ErrorKind {
    if response.is_success() {
        ErrorKind::Decode
    } else {
        kind_for(None, None, response)
    }
}

/// The error for a body that is not a JSON object: `cause` says what is wrong with it; its
/// excerpt of the body without `secrets`.
fn undecodable(response: &HttpResponse, cause: &str, secrets: &[&str]) -> Error {
    response.undecodable(unusable_kind(response), cause, secrets)
}

/// The error for an envelope whose `result` is missing or unusable: `what` says how.
fn bad_answer(
    response: &HttpResponse,
    meta: &Meta,
    kind: ErrorKind,
    what: &str,
    secrets: &[&str],
) -> Error {
    let error = response.error(
        kind,
        format!("{} answered {what}", response.operation().name),
    );
    with_request_id(error, meta, secrets)
}

/// `error` with the answer's `meta.requestId`, cleaned, without `secrets` (in case VerifyKit
/// echoes one there).
fn with_request_id(error: Error, meta: &Meta, secrets: &[&str]) -> Error {
    match meta
        .request_id
        .as_deref()
        .and_then(|id| provider_code_scrubbed(id, secrets))
    {
        Some(id) => error.with_request_id(id),
        None => error,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use fixtures::{key, response, response_with_retry_after};
    use phone_verify_core::kit::Operation;
    use serde::Deserialize;

    use serde_json::json;

    use super::*;
    use crate::wire::{OtpSent, meta_of};

    /// `HttpResponse`s without the `bytes` crate as a dependency.
    mod fixtures {
        use phone_verify_core::ProviderId;
        use phone_verify_core::kit::{HttpResponse, Operation};
        use phone_verify_core::reqwest::header::HeaderMap;

        /// The server key the tests' client would send.
        pub(super) fn key() -> phone_verify_core::secrecy::SecretString {
            "vk-server-key-0123".into()
        }

        pub(super) fn response(operation: Operation, status: u16, body: &str) -> HttpResponse {
            answer(operation, status, HeaderMap::new(), body)
        }

        /// [`response`] with a `Retry-After` header: a refusal before processing when its
        /// status is 503.
        pub(super) fn response_with_retry_after(
            operation: Operation,
            status: u16,
            body: &str,
        ) -> HttpResponse {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", "5".parse().unwrap());
            answer(operation, status, headers, body)
        }

        fn answer(
            operation: Operation,
            status: u16,
            headers: HeaderMap,
            body: &str,
        ) -> HttpResponse {
            HttpResponse::from_parts(
                ProviderId::new_static("verifykit"),
                operation,
                status,
                headers,
                body.as_bytes().to_vec().into(),
            )
        }
    }

    /// [`kind_for`] of an answer of `status` to `operation` without headers or a stated status.
    fn kind(code: Option<&str>, status: u16, operation: Operation) -> ErrorKind {
        kind_for(code, None, &response(operation, status, ""))
    }

    /// `errors.toml`, less the fields the Rust table has no use for (`note`, `source`, …).
    #[derive(Deserialize)]
    struct Data {
        error: Vec<Row>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Row {
        code: u32,
        http_status: u16,
        message: String,
        kind: String,
        check: Option<String>,
    }

    fn kind_name(kind: ErrorKind) -> &'static str {
        match kind {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Expired => "expired",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::QuotaExhausted => "quota_exhausted",
            ErrorKind::Blocked => "blocked",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::ProviderUnavailable => "provider_unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Transport => "transport",
            ErrorKind::Decode => "decode",
            ErrorKind::MaybeSent => "maybe_sent",
            ErrorKind::OutcomeUnknown => "outcome_unknown",
            ErrorKind::Provider => "provider",
            _ => "unknown",
        }
    }

    fn check_name(rule: CheckRule) -> &'static str {
        match rule {
            CheckRule::Rejected(RejectReason::WrongCode) => "wrong_code",
            CheckRule::Rejected(RejectReason::Expired) => "expired",
            CheckRule::Rejected(RejectReason::NotFound) => "not_found",
            CheckRule::Rejected(RejectReason::TooManyAttempts) => "too_many_attempts",
            CheckRule::PendingWhilePolling => "pending_while_polling",
            CheckRule::Rejected(_) => "unknown",
        }
    }

    #[test]
    fn table_equals_errors_toml() {
        let data: Data = toml::from_str(include_str!("../errors.toml")).expect("errors.toml");
        let from_rust: Vec<Row> = documented_errors()
            .iter()
            .map(|e| Row {
                code: e.code.parse().unwrap(),
                http_status: e.http_status,
                message: e.message.to_owned(),
                kind: kind_name(e.kind).to_owned(),
                check: e.check.map(|c| check_name(c).to_owned()),
            })
            .collect();
        assert_eq!(from_rust, data.error);
    }

    #[test]
    fn table_covers_the_documented_codes_once() {
        let documented = [
            400_007, 403_004, 403_011, 403_012, 403_013, 403_014, 403_015, 403_036, 403_037,
            403_038, 403_041, 403_042, 403_043, 403_047, 403_048, 403_049, 429_001, 500_008,
        ];
        let mut seen = BTreeMap::new();
        for e in documented_errors() {
            let code: u32 = e.code.parse().unwrap();
            assert!(seen.insert(code, e).is_none(), "{code} twice");
            assert_eq!(u32::from(e.http_status), code / 1000, "{code}");
        }
        assert_eq!(seen.keys().copied().collect::<Vec<_>>(), documented);
        assert_eq!(lookup(" 403014 ").map(|e| e.code), Some("403014"));
        assert!(lookup("999999").is_none() && lookup("ErrorCode").is_none());
    }

    #[test]
    fn sends_turn_server_errors_into_maybe_sent() {
        let send = Operation::send("send-otp");
        let read = Operation::read("check-otp");
        assert_eq!(kind(Some("500008"), 500, send), ErrorKind::MaybeSent);
        // A plain 503 may come from a proxy that forwarded the send.
        assert_eq!(kind(Some("500008"), 503, send), ErrorKind::MaybeSent);
        assert_eq!(kind(None, 503, send), ErrorKind::MaybeSent);
        assert_eq!(
            kind(Some("500008"), 500, read),
            ErrorKind::ProviderUnavailable
        );
        assert_eq!(kind(None, 502, send), ErrorKind::MaybeSent);
        assert_eq!(kind(Some("429001"), 429, send), ErrorKind::RateLimited);
        assert_eq!(kind(Some("403999"), 403, read), ErrorKind::Provider);
        assert_eq!(kind(None, 401, read), ErrorKind::Unauthorized);
        assert_eq!(kind(Some("x"), 404, read), ErrorKind::NotFound);
    }

    #[test]
    fn code_checks_turn_server_errors_into_outcome_unknown() {
        let consume = Operation::consume("check-otp");
        for status in [500, 502, 503, 504, 501, 520] {
            assert_eq!(
                kind(None, status, consume),
                ErrorKind::OutcomeUnknown,
                "{status}"
            );
            assert_eq!(
                kind(Some("500008"), status, consume),
                ErrorKind::OutcomeUnknown,
                "500008 with {status}"
            );
        }
        assert_eq!(kind(Some("429001"), 429, consume), ErrorKind::RateLimited);
        assert_eq!(kind(Some("403014"), 403, consume), ErrorKind::InvalidInput);
        // A 500008 inside a 200 answer states its own status: the check's outcome is unknown.
        let body = r#"{"meta":{"httpStatusCode":500,"errorCode":"500008"}}"#;
        let resp = response(consume, 200, body);
        assert_eq!(
            provider_error(&resp, &meta_of(body), &[]).kind(),
            ErrorKind::OutcomeUnknown
        );
    }

    /// A 503 with `Retry-After` was refused before processing: nothing was sent, no code was
    /// used, whatever the body carries. A plain 503 stays in doubt.
    #[test]
    fn a_503_with_retry_after_is_a_refusal_a_plain_one_is_in_doubt() {
        let unavailable = ErrorKind::ProviderUnavailable;
        let error_body = r#"{"meta":{"httpStatusCode":503,"errorCode":"500008"}}"#;
        let foreign_code = r#"{"meta":{"httpStatusCode":403,"errorCode":"403014"}}"#;
        let success = r#"{"meta":{"requestId":"r-1"},"result":{"reference":"111111"}}"#;
        for (operation, doubt) in [
            (Operation::send("send-otp"), ErrorKind::MaybeSent),
            (Operation::consume("check-otp"), ErrorKind::OutcomeUnknown),
        ] {
            let refused = |body| response_with_retry_after(operation, 503, body);
            let plain = |body| response(operation, 503, body);
            assert_eq!(kind_for(Some("500008"), None, &refused("")), unavailable);
            assert_eq!(kind_for(Some("403014"), None, &refused("")), unavailable);
            assert_eq!(kind_for(None, None, &refused("")), unavailable);
            assert_eq!(kind_for(Some("500008"), None, &plain("")), doubt);
            assert_eq!(kind_for(Some("403014"), None, &plain("")), doubt);
            for body in [error_body, foreign_code, success, "<html>busy</html>"] {
                let err = decode::<OtpSent>(&refused(body), &key()).unwrap_err();
                assert_eq!(err.kind(), unavailable, "{operation:?} {body}");
                assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(5)));
                let err = decode::<OtpSent>(&plain(body), &key()).unwrap_err();
                assert_eq!(err.kind(), doubt, "{operation:?} {body}");
            }
        }
        // A stated 503 has no headers of its own: in doubt.
        let send = Operation::send("send-otp");
        let stated = response_with_retry_after(send, 200, error_body);
        assert_eq!(
            provider_error(&stated, &meta_of(error_body), &[]).kind(),
            ErrorKind::MaybeSent
        );
        // A lookup's 503 is unavailable either way.
        let read = Operation::read("check");
        assert_eq!(kind_for(None, None, &response(read, 503, "")), unavailable);
    }

    #[test]
    fn provider_errors_keep_the_details() {
        let body = r#"{"meta":{"requestId":"app02-REQ-1","httpStatusCode":"403","errorCode":403012,"errorMessage":"Phone number is banned."}}"#;
        let resp = response(Operation::send("send-otp"), 403, body);
        let err = provider_error(&resp, &meta_of(body), &[]);
        assert_eq!(err.kind(), ErrorKind::Blocked);
        assert_eq!(err.provider_code(), Some("403012"));
        assert_eq!(err.provider_message(), Some("Phone number is banned."));
        assert_eq!(err.request_id(), Some("app02-REQ-1"));
        assert_eq!(err.http_status(), Some(403));
        assert_eq!(
            err.provider().map(phone_verify_core::ProviderId::as_str),
            Some("verifykit")
        );
        assert!(
            err.to_string()
                .contains("send-otp: Phone number is banned.")
        );

        // The PHP SDK ignores the HTTP status: an error in a 200 answer is an error.
        let body = r#"{"meta":{"httpStatusCode":403,"errorCode":"403037"}}"#;
        let resp = response(Operation::read("check"), 200, body);
        let err = provider_error(&resp, &meta_of(body), &[]);
        assert_eq!(err.kind(), ErrorKind::Expired);
        assert_eq!(err.provider_message(), None);
        assert!(err.message().contains("Validation has expired."));
    }

    #[test]
    fn an_error_is_never_read_as_a_result_and_an_empty_php_array_is_an_empty_one() {
        /// A result of optional fields only, which an empty object decodes into.
        #[derive(Deserialize, Debug, Default, PartialEq)]
        struct Optional {
            #[serde(default)]
            reference: Option<String>,
        }
        for body in [
            r#"{"meta":{"errorCode":"400020","errorMessage":"Invalid phone"},"result":{}}"#,
            r#"{"meta":{"errorMessage":"Invalid phone"},"result":{"reference":"r"}}"#,
            r#"{"result":{},"meta":{"errorCode":"400020"}}"#,
        ] {
            let err = decode::<Optional>(&response(Operation::send("send-otp"), 200, body), &key())
                .unwrap_err();
            assert_ne!(err.kind(), ErrorKind::Decode, "{body}: {err}");
            assert!(
                err.provider_code().is_some() || err.provider_message().is_some(),
                "{body}"
            );
        }
        let empty = response(
            Operation::read("check"),
            200,
            r#"{"meta":{"requestId":"R1"},"result":[]}"#,
        );
        assert_eq!(
            decode::<Optional>(&empty, &key()).unwrap(),
            Optional::default()
        );
        // A map does not decode from a list: `[]` is read as the empty object PHP meant.
        let map = decode::<BTreeMap<String, Value>>(&empty, &key()).unwrap();
        assert!(map.is_empty());
        let listed = response(Operation::read("check"), 200, r#"{"result":[{}]}"#);
        let err = decode::<Optional>(&listed, &key()).unwrap_err();
        assert!(err.message().contains("not an object"), "{err}");
    }

    #[test]
    fn hostile_messages_codes_and_request_ids_are_cut_and_cleaned() {
        let long = "x".repeat(5000);
        let body = format!(
            r#"{{"meta":{{"errorCode":"400099\u001b[2J","errorMessage":"bad\u001b]0;title\u0007 {long}","requestId":"req-1\n{long}"}}}}"#
        );
        let err = decode::<OtpSent>(&response(Operation::send("send-otp"), 400, &body), &key())
            .unwrap_err();
        assert_eq!(err.provider_code(), Some("400099[2J"));
        let message = err.provider_message().unwrap();
        assert!(message.starts_with("bad ]0;title "), "{message}");
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS);
        let id = err.request_id().unwrap();
        assert!(id.starts_with("req-1x") && id.len() == 64, "{id}");
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(
                !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
                "{shown}"
            );
        }
    }

    /// A key echoed in a code or a request id, even split by a control character that the
    /// cleaning drops, stays out of the error; so does one in a success's request id.
    #[test]
    fn an_echoed_key_is_scrubbed_from_codes_and_request_ids() {
        let key = key();
        let secret = key.expose_secret();
        let (head, tail) = secret.split_at(secret.len() / 2);
        let split = format!("{head}\\u0001{tail}");
        let body = format!(
            r#"{{"meta":{{"errorCode":"E-{split}","errorMessage":"no","requestId":"req-{split}"}}}}"#
        );
        let err = decode::<OtpSent>(&response(Operation::send("send-otp"), 400, &body), &key)
            .unwrap_err();
        assert_eq!(err.provider_code(), Some("E-<redacted>"));
        assert_eq!(err.request_id(), Some("req-<redacted>"));
        assert!(!format!("{err} {err:?}").contains(secret));
        let ok = format!(
            r#"{{"meta":{{"requestId":"req-{secret}"}},"result":{{"reference":"R","timeout":60}}}}"#
        );
        let (_, id) = decode_with_request_id::<OtpSent>(
            &response(Operation::send("send-otp"), 200, &ok),
            &key,
        )
        .unwrap();
        assert_eq!(id.as_deref(), Some("req-<redacted>"));
    }

    #[test]
    fn numbers_in_provider_messages_are_masked() {
        let body = r#"{"meta":{"errorCode":"400099","errorMessage":"Phone number +905321234567 is invalid"}}"#;
        let err = decode::<OtpSent>(&response(Operation::send("send-otp"), 400, body), &key())
            .unwrap_err();
        assert_eq!(err.provider_code(), Some("400099"));
        assert_eq!(
            err.provider_message(),
            Some("Phone number +**********67 is invalid")
        );
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains("5321234567"), "{shown}");
        }
    }

    /// A wrong code answered `403014` with a request id: the rejection keeps VerifyKit's code,
    /// message and request id.
    #[test]
    fn a_rejection_keeps_the_providers_code_message_and_request_id() {
        let body = r#"{"meta":{"requestId":"app02-REQ-1","httpStatusCode":403,"errorCode":403014,"errorMessage":"The code is wrong."}}"#;
        let err = decode::<OtpSent>(
            &response(Operation::consume("check-otp"), 403, body),
            &key(),
        )
        .unwrap_err();
        let outcome = check_outcome(&err, Checked::Code).unwrap();
        let rejection = outcome.rejection().unwrap();
        assert_eq!(rejection.reason, RejectReason::WrongCode);
        assert_eq!(rejection.provider_code.as_deref(), Some("403014"));
        assert_eq!(rejection.message.as_deref(), Some("The code is wrong."));
        assert_eq!(rejection.request_id.as_deref(), Some("app02-REQ-1"));
    }

    #[test]
    fn a_result_reports_success_by_its_status_or_a_session_id() {
        for (result, success) in [
            (json!({"validationStatus": true}), true),
            (json!({"validationStatus": "1"}), true),
            (json!({"validationStatus": " TRUE "}), true),
            (json!({"emailVerify": 1}), true),
            (json!({"sessionId": "S1"}), true),
            (json!({"sessionId": 12, "validationStatus": false}), true),
            (json!({"sessionId": "has space"}), true),
            (
                json!({"validationStatus": false, "emailVerify": "0"}),
                false,
            ),
            (
                json!({"validationStatus": "maybe", "sessionId": " "}),
                false,
            ),
            (json!({"sessionId": null, "validationStatus": null}), false),
            (
                json!({"sessionId": ["S1"], "validationStatus": [true]}),
                false,
            ),
            (json!({"dkimVerify": true, "appPlatform": "web"}), false),
            (json!({}), false),
            (json!([{"validationStatus": true}]), false),
            (json!("validationStatus"), false),
        ] {
            assert_eq!(reports_success(Some(&result)), success, "{result}");
        }
        assert!(!reports_success(None));
    }

    #[test]
    fn check_rules_become_outcomes() {
        let err = |code: &str| {
            Error::new(ErrorKind::Provider, "x")
                .with_provider_code(code)
                .with_provider_message("from VerifyKit")
                .with_http_status(403)
        };
        let rejected = |outcome: Option<CheckOutcome>| {
            outcome
                .and_then(|o| o.rejection().cloned())
                .map(|r| r.reason)
        };
        assert_eq!(
            rejected(check_outcome(&err("403014"), Checked::Code)),
            Some(RejectReason::WrongCode)
        );
        assert_eq!(
            rejected(check_outcome(&err("403037"), Checked::ReverseFlow)),
            Some(RejectReason::Expired)
        );
        assert_eq!(
            rejected(check_outcome(&err("403013"), Checked::Code)),
            Some(RejectReason::NotFound)
        );
        assert_eq!(
            rejected(check_outcome(&err("403015"), Checked::Code)),
            Some(RejectReason::TooManyAttempts)
        );
        // 403036 is "in progress" in a poll (bounded by the handle's expiry, or for e-mail by
        // the caller), "not found" in a code check.
        assert_eq!(
            check_outcome(&err("403036"), Checked::Email),
            Some(CheckOutcome::Pending)
        );
        assert_eq!(
            check_outcome(&err("403036"), Checked::ReverseFlow),
            Some(CheckOutcome::Pending)
        );
        assert_eq!(
            rejected(check_outcome(&err("403036"), Checked::Code)),
            Some(RejectReason::NotFound)
        );
        assert_eq!(check_outcome(&err("403012"), Checked::Code), None);
        assert_eq!(
            check_outcome(
                &Error::new(ErrorKind::Timeout, "slow"),
                Checked::ReverseFlow
            ),
            None
        );
        let lost = Error::new(ErrorKind::OutcomeUnknown, "lost").with_provider_code("500008");
        assert_eq!(check_outcome(&lost, Checked::Code), None);
        // A documented refusal in a server error, or in an error no answer gave: no outcome.
        let failed = err("403014").with_http_status(500);
        assert_eq!(check_outcome(&failed, Checked::Code), None);
        let polled = err("403036").with_http_status(502);
        assert_eq!(check_outcome(&polled, Checked::ReverseFlow), None);
        let unanswered = Error::new(ErrorKind::Provider, "x").with_provider_code("403014");
        assert_eq!(check_outcome(&unanswered, Checked::Code), None);
        let outcome = check_outcome(&err("403014"), Checked::Code).unwrap();
        let rejection = outcome.rejection().unwrap();
        assert_eq!(rejection.provider_code.as_deref(), Some("403014"));
        assert_eq!(rejection.message.as_deref(), Some("from VerifyKit"));
    }

    #[test]
    fn an_echoed_server_key_is_scrubbed() {
        let shown = |err: Error| format!("{err} {err:?} {:?}", err.provider_message());
        let message = json!({"meta": {"requestId": "R1", "httpStatusCode": 403,
            "errorCode": "403038", "errorMessage": "Server key vk-server-key-0123 is not valid"}});
        let refused = response(Operation::send("send-otp"), 403, &message.to_string());
        let err = decode::<OtpSent>(&refused, &key()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
        let text = shown(err);
        assert!(text.contains("<redacted>"), "{text}");
        assert!(!text.contains("vk-server-key-0123"), "{text}");
        let page = response(
            Operation::read("init"),
            401,
            "<p>bad key vk-server-key-0123</p>",
        );
        let text = shown(decode::<OtpSent>(&page, &key()).unwrap_err());
        assert!(!text.contains("vk-server-key-0123"), "{text}");
    }

    #[test]
    fn undecodable_bodies_are_typed() {
        let ok_html = response(Operation::read("init"), 200, "<html>oops</html>");
        assert_eq!(
            undecodable(&ok_html, "is not JSON", &[]).kind(),
            ErrorKind::Decode
        );
        let bad_gateway = response(Operation::send("send-otp"), 502, "<html>Bad Gateway</html>");
        let err = undecodable(&bad_gateway, "is not JSON", &[]);
        assert_eq!(err.kind(), ErrorKind::MaybeSent);
        assert_eq!(err.http_status(), Some(502));
        assert!(err.message().contains("Bad Gateway"));
        let unavailable = response(Operation::read("check"), 503, "");
        let err = decode::<OtpSent>(&unavailable, &key()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        let empty = response(Operation::read("check"), 503, "{}");
        let err = decode::<OtpSent>(&empty, &key()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        assert!(err.message().contains("without a result"), "{err}");
        let no_result = response(
            Operation::read("check"),
            200,
            r#"{"meta":{"requestId":"R9"}}"#,
        );
        let err = decode::<OtpSent>(&no_result, &key()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert_eq!(err.request_id(), Some("R9"));
        let scalar = response(Operation::read("check"), 200, r#"{"result":7}"#);
        let err = decode::<OtpSent>(&scalar, &key()).unwrap_err();
        assert!(err.message().contains("not an object"), "{err}");
    }
}
