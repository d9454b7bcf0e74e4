//! The one mapping of Verifik's error answers to phone-verify errors and check outcomes.
//!
//! Verifik answers errors in several documented envelopes (SPEC.md §2.1, open question Q6):
//!
//! | envelope | example | reason |
//! |---|---|---|
//! | A | `{"code":"otp_does_not_match","message":"403:otp_does_not_match"}` | `code`, and `message` after `NNN:` |
//! | B | `{"message":"otp_does_not_match","code":"Forbidden"}` | `message`; `code` is the HTTP reason |
//! | C | `{"success":false,"error":"Phone validation not found","code":"PHONE_VALIDATION_NOT_FOUND"}` | `code`; `error` is the message |
//! | validation | `{"code":"MissingParameter","message":"missing phone\n. missing countryCode"}` | `code` |
//! | other | `{"code":"BadRequest","message":"Invalid phone number format."}`, `{"code":"Unauthorized",…}` | `code` |
//!
//! The reason is the first of these that the generated table (from the crate's `errors.toml`;
//! [`documented_errors`] and [`lookup`] read it) lists: the `message` without an `NNN:` prefix, then `code`. It gives
//! the [`ErrorKind`] and, for `PUT /v2/phone-validations`, the check outcome. A reason the
//! table does not list is kept as the provider code (the `NNN:`-prefixed message's reason,
//! else `code`, else `error`) and takes the kind of its HTTP status
//! ([`HttpResponse::kind_for_status`]), so that an unknown server error answering a send is
//! [`ErrorKind::MaybeSent`]. So is a server error with a documented reason: the status
//! decides. A 503 with `Retry-After` is the exception: it was refused before processing, and
//! is [`ErrorKind::ProviderUnavailable`] (a plain 503 may come from a proxy that forwarded the
//! request). A 2xx carrying an error envelope whose reason the table does not list takes the
//! status its `message` states (`429:…`); without one, Verifik took the request and its answer
//! cannot be used: [`ErrorKind::MaybeSent`] for a send, [`ErrorKind::OutcomeUnknown`] for a
//! code check (which the verifier reads back), [`ErrorKind::Provider`] for the rest.
//!
//! Every error keeps the reason ([`Error::provider_code`]), Verifik's message
//! ([`Error::provider_message`], phone-like digit runs masked), the HTTP status and, when the
//! body has one, the request id (`id`).

use phone_verify_core::kit::{
    CheckRule, ErrorSpec, HttpResponse, OperationKind, kind_for_status, provider_code_scrubbed,
    provider_text, redacted_excerpt, scrub_secrets,
};
use phone_verify_core::secrecy::{ExposeSecret, SecretString};
use phone_verify_core::{CheckOutcome as Outcome, Error, ErrorKind, RejectReason, Result};
use std::borrow::Cow;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error_table;
use crate::wire::{DataAnswer, Envelope, PayloadAnswer, RawEnvelope, Shape, scalar_to_string};

/// The longest provider message kept in an error.
const MAX_MESSAGE_CHARS: usize = 512;
/// The longest provider text shown in an error's `Display`.
const MAX_SHOWN_CHARS: usize = 160;

/// Every error reason Verifik documents, in the order of its documentation.
pub fn documented_errors() -> &'static [ErrorSpec] {
    error_table::ERRORS.as_slice()
}

/// The documented error with reason `code`, exactly as Verifik spells it
/// (`"otp_does_not_match"`; surrounding spaces are ignored).
pub fn lookup(code: &str) -> Option<&'static ErrorSpec> {
    error_table::ERRORS.lookup(code)
}

/// The credentials an error must not show (the client's token, in case Verifik echoes it),
/// asked for only when an answer is not the usual one.
pub(crate) type Secrets<'s> = &'s dyn Fn() -> Option<SecretString>;

/// Decodes an answer into its payload and envelope, or into the error it carries, without
/// `secrets`.
///
/// The usual answer, a 2xx with a `data` object, is decoded straight into `T`; anything else
/// takes the path through a JSON `Value` that tells the error or the bad shape apart.
pub(crate) fn decode<T: DeserializeOwned>(
    response: &HttpResponse,
    shape: Shape,
    secrets: Secrets<'_>,
) -> Result<(T, Envelope)> {
    let (value, raw) = decode_borrowed(response, shape, secrets)?;
    let mut envelope = raw.to_envelope();
    // Kept as an error's request id is: one clean line, without the token.
    envelope.request_id = envelope.request_id.and_then(|id| {
        let token = secrets();
        let token = token.as_ref().map(ExposeSecret::expose_secret);
        provider_code_scrubbed(&id, token.as_slice())
    });
    Ok((value, envelope))
}

/// [`decode`] into a payload that may borrow from the body, with the envelope's parts left
/// unconverted (the verifier reads a few fields of an answer and converts only those).
pub(crate) fn decode_borrowed<'a, T: Deserialize<'a>>(
    response: &'a HttpResponse,
    shape: Shape,
    secrets: Secrets<'_>,
) -> Result<(T, RawEnvelope<'a>)> {
    if takes_data(response, shape)
        && let Ok(answer) = serde_json::from_slice::<DataAnswer<'a, T>>(response.body())
        && !answer.success.0
    {
        let envelope = RawEnvelope {
            request_id: answer.id.0,
            signed_at: answer.signature.and_then(|s| s.date_time.0),
        };
        return Ok((answer.data, envelope));
    }
    decode_slowly(response, shape, secrets)
}

/// [`decode_borrowed`] of the payload alone: the usual answer's envelope (`id`, `signature`)
/// is not read at all. The payload, and every error, are the same.
pub(crate) fn decode_payload<'a, T: Deserialize<'a>>(
    response: &'a HttpResponse,
    shape: Shape,
    secrets: Secrets<'_>,
) -> Result<T> {
    if takes_data(response, shape)
        && let Ok(answer) = serde_json::from_slice::<PayloadAnswer<T>>(response.body())
        && !answer.success.0
    {
        return Ok(answer.data);
    }
    decode_slowly(response, shape, secrets).map(|(value, _)| value)
}

/// Whether the answer may be the usual one, a 2xx with a `data` object, decoded directly.
fn takes_data(response: &HttpResponse, shape: Shape) -> bool {
    shape != Shape::Root
        && response.is_success()
        && response.body().trim_ascii_start().first() == Some(&b'{')
}

/// Any other answer, through a JSON `Value` that tells the error or the bad shape apart.
fn decode_slowly<'a, T: Deserialize<'a>>(
    response: &HttpResponse,
    shape: Shape,
    secrets: Secrets<'_>,
) -> Result<(T, RawEnvelope<'a>)> {
    let token = secrets();
    let secrets: Vec<&str> = token.iter().map(ExposeSecret::expose_secret).collect();
    let mut body = match serde_json::from_slice::<Value>(response.body()) {
        Ok(body @ Value::Object(_)) => body,
        Ok(_) => return Err(undecodable(response, "not a JSON object", &secrets)),
        Err(e) => return Err(undecodable(response, &e.to_string(), &secrets)),
    };
    let envelope = RawEnvelope {
        request_id: body.get("id").and_then(scalar_to_string).map(Cow::Owned),
        signed_at: body
            .get("signature")
            .and_then(|s| s.get("dateTime"))
            .and_then(Value::as_str)
            .map(|s| Cow::Owned(s.to_owned())),
    };
    let has_data = body.get("data").is_some_and(|d| !d.is_null());
    let failed = body.get("success") == Some(&Value::Bool(false));
    if !response.is_success() || failed || (shape == Shape::Data && !has_data) {
        return Err(provider_error(response, &body, &secrets));
    }
    let data_is_object = body.get("data").is_some_and(Value::is_object);
    let payload = match shape {
        Shape::Data => body.get_mut("data").map_or(Value::Null, Value::take),
        Shape::DataOrRoot if data_is_object => {
            body.get_mut("data").map_or(Value::Null, Value::take)
        }
        Shape::DataOrRoot | Shape::Root => body,
    };
    // An owned `Value` deserializes into a payload of any lifetime (its text is copied).
    let value = T::deserialize(payload).map_err(|e| bad_payload(response, &e))?;
    Ok((value, envelope))
}

/// What an error body says, field by field: a field of an unexpected type counts as absent.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
    error: Option<String>,
    request_id: Option<String>,
}

impl ErrorBody {
    pub(crate) fn read(body: &Value) -> Self {
        let text = |key: &str| body.get(key).and_then(scalar_to_string);
        Self {
            code: text("code"),
            message: text("message"),
            error: text("error"),
            request_id: text("id"),
        }
    }

    /// `message` without an `NNN:` status prefix, and the status.
    fn prefixed_reason(&self) -> Option<(u16, &str)> {
        let message = self.message.as_deref()?;
        let (status, reason) = message.split_once(':')?;
        let status: u16 = status
            .trim()
            .parse()
            .ok()
            .filter(|s| (100..=599).contains(s))?;
        let reason = reason.trim();
        (!reason.is_empty() && !reason.contains(char::is_whitespace)).then_some((status, reason))
    }

    /// The documented reason the body names, if any.
    fn documented(&self) -> Option<&'static ErrorSpec> {
        self.prefixed_reason()
            .map(|(_, reason)| reason)
            .into_iter()
            .chain(self.message.as_deref())
            .chain(self.code.as_deref())
            .find_map(lookup)
    }

    /// The reason to keep as provider code when the table lists none.
    fn undocumented_reason(&self) -> Option<&str> {
        self.prefixed_reason()
            .map(|(_, reason)| reason)
            .or(self.code.as_deref())
            .or(self.error.as_deref())
    }

    /// The provider's own message.
    fn provider_message(&self) -> Option<&str> {
        self.message.as_deref().or(self.error.as_deref())
    }

    fn is_empty(&self) -> bool {
        self.code.is_none() && self.message.is_none() && self.error.is_none()
    }
}

/// The error an answer carries (a non-2xx status, `"success": false`, or an error envelope
/// where data was expected); `secrets` are scrubbed from what Verifik wrote.
pub(crate) fn provider_error(response: &HttpResponse, body: &Value, secrets: &[&str]) -> Error {
    let parsed = ErrorBody::read(body);
    let operation = response.operation();
    if parsed.is_empty() {
        let kind = if response.is_success() {
            ErrorKind::Decode
        } else {
            response.kind_for_status()
        };
        return with_request_id(
            response.error(
                kind,
                format!(
                    "{} answered without the expected data or an error reason (body starts {:?})",
                    operation.name,
                    redacted_excerpt(
                        scrub_secrets(&String::from_utf8_lossy(response.body()), secrets)
                            .as_bytes()
                    )
                ),
            ),
            &parsed,
            secrets,
        );
    }
    let documented = parsed.documented();
    let kind = match (documented, parsed.prefixed_reason()) {
        // A server error keeps its doubt, whatever reason its body gives: the status decides,
        // its headers seen (a 503 with `Retry-After` was refused unprocessed).
        (Some(spec), _) => spec.kind_in(response),
        // A 2xx carrying an error envelope: the status inside `message` says more.
        (None, Some((stated, _))) if response.is_success() => {
            kind_for_status(stated, operation.kind)
        }
        // A 2xx carrying an error no table lists and no status: Verifik took the request, and
        // its answer cannot be used, so a send may have sent and a check used the code.
        (None, None) if response.is_success() => match operation.kind {
            OperationKind::Send => ErrorKind::MaybeSent,
            OperationKind::Consume => ErrorKind::OutcomeUnknown,
            _ => response.kind_for_status(),
        },
        _ => response.kind_for_status(),
    };
    let code = documented
        .map(|spec| spec.code)
        .or_else(|| parsed.undocumented_reason());
    let shown = parsed
        .provider_message()
        .and_then(|m| shown_text(m, secrets))
        .or_else(|| documented.and_then(|spec| shown_text(spec.message, &[])))
        .unwrap_or_else(|| "Verifik refused the request".to_owned());
    let mut error = response.error(kind, format!("{}: {shown}", operation.name));
    // An undocumented reason is Verifik's own text: scrubbed like its message.
    if let Some(code) = code.and_then(|c| provider_code_scrubbed(c, secrets)) {
        error = error.with_provider_code(code);
    }
    // Verifik's message may quote the number, or hold control characters: kept clean.
    let message = parsed.provider_message();
    if let Some(message) = message.and_then(|m| provider_text(m, secrets, MAX_MESSAGE_CHARS)) {
        error = error.with_provider_message(message);
    }
    with_request_id(error, &parsed, secrets)
}

/// The check outcome an error of `PUT /v2/phone-validations` stands for, if it stands for one:
/// only errors with a documented reason that has a `check` qualify. `expired` says the handle
/// is past its expiry: Verifik looks only for a phone's unexpired validations, so that a
/// validation not found (`phone_validation_not_found`) is then `Rejected(Expired)`.
pub(crate) fn check_outcome(error: &Error, expired: bool) -> Option<Outcome> {
    let code = error.provider_code()?;
    let spec = lookup(code)?;
    let reason = match spec.check_rule(error)? {
        CheckRule::Rejected(RejectReason::NotFound)
            if expired && spec.kind == ErrorKind::NotFound =>
        {
            RejectReason::Expired
        }
        CheckRule::Rejected(reason) => reason,
        // Verifik has no reverse flows: nothing is polled.
        CheckRule::PendingWhilePolling => RejectReason::NotFound,
    };
    Some(Outcome::Rejected(spec.rejection(reason, error)))
}

/// Whether `error` is Verifik's 409 `phone_validation_already_validated`: the most recent
/// validation of the phone is validated already.
pub(crate) fn is_already_validated(error: &Error) -> bool {
    error
        .provider_code()
        .is_some_and(|code| code.eq_ignore_ascii_case("phone_validation_already_validated"))
}

/// The error for a body that is not a JSON object: `cause` says what is wrong with it; its
/// excerpt of the body without `secrets`.
pub(crate) fn undecodable(response: &HttpResponse, cause: &str, secrets: &[&str]) -> Error {
    let kind = if response.is_success() {
        ErrorKind::Decode
    } else {
        response.kind_for_status()
    };
    response.undecodable(kind, cause, secrets)
}

/// The error for a payload of an unexpected shape.
pub(crate) fn bad_payload(response: &HttpResponse, cause: &serde_json::Error) -> Error {
    // serde's messages can quote the offending value: redact it like a body excerpt.
    response.error(
        ErrorKind::Decode,
        format!(
            "{} answered with data of an unexpected shape: {}",
            response.operation().name,
            redacted_excerpt(cause.to_string().as_bytes())
        ),
    )
}

/// `error` with the body's request id, cleaned, without `secrets` (in case Verifik echoes one
/// there).
fn with_request_id(error: Error, body: &ErrorBody, secrets: &[&str]) -> Error {
    match body
        .request_id
        .as_deref()
        .and_then(|id| provider_code_scrubbed(id, secrets))
    {
        Some(id) => error.with_request_id(id),
        None => error,
    }
}

/// Provider text for an error's one-line `Display`: the kit's [`provider_text`] (`secrets`
/// redacted, control characters as spaces, phone numbers masked, grouped ones too), cut to a
/// readable length after the masking (so that a number the cut runs through is masked as a
/// whole), with an ellipsis when cut; `None` when blank.
fn shown_text(text: &str, secrets: &[&str]) -> Option<String> {
    shown_within(text, secrets, MAX_SHOWN_CHARS)
}

/// [`shown_text`] cut at `max_chars`.
fn shown_within(text: &str, secrets: &[&str], max_chars: usize) -> Option<String> {
    // Twice the length shown: a number running through the cut lies wholly within it.
    let masked = provider_text(text, secrets, 2 * max_chars)?;
    let mut shown: String = masked.chars().take(max_chars).collect();
    if masked.chars().count() > max_chars {
        shown.push('…');
    }
    Some(shown)
}

/// The longest value of Verifik's (a validation's status) an error quotes.
const MAX_VALUE_CHARS: usize = 32;

/// A short value Verifik wrote (a validation's status), as an error quotes it and keeps it as
/// provider code: as [`shown_text`] (`secrets` redacted, control characters as spaces, phone
/// numbers masked), at most [`MAX_VALUE_CHARS`] characters with an ellipsis when cut; `None`
/// when blank.
pub(crate) fn shown_value(value: &str, secrets: Secrets<'_>) -> Option<String> {
    let token = secrets();
    let token = token.as_ref().map(ExposeSecret::expose_secret);
    shown_within(value, token.as_slice(), MAX_VALUE_CHARS)
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ProviderId;
    use phone_verify_core::kit::{HttpResponse, Operation};
    use phone_verify_core::reqwest::header::HeaderMap;

    use super::*;

    const VALIDATE: Operation = Operation::read("validate-phone-validation");
    const CREATE: Operation = Operation::send("create-manual-phone-validation");

    fn response(operation: Operation, status: u16, body: &str) -> HttpResponse {
        HttpResponse::from_parts(
            ProviderId::new_static("verifik"),
            operation,
            status,
            HeaderMap::new(),
            body.as_bytes().to_vec().into(),
        )
    }

    #[test]
    fn every_decoder_reads_the_same_payload_and_error() {
        use crate::wire::{CheckAnswer, ValidatedPhone};
        for (status, body) in [
            (
                200,
                r#"{"data":{"_id":"a1","status":"validated"},"id":" R1 ","signature":{"dateTime":"May 29, 2024 3:41 AM"}}"#,
            ),
            (
                200,
                r#"{"data":{"_id":"a1"},"signature":"not an object","id":[1]}"#,
            ),
            (
                200,
                r#"{"data":{"_id":"a\u0031","phone":5},"success":true}"#,
            ),
            (
                200,
                r#"{"data":{"_id":"a1"},"success":false,"code":"Forbidden"}"#,
            ),
            (200, r#"{"data":{"_id":""}}"#),
            (
                200,
                r#"{"data":null,"code":"BadRequest","message":"missing phone"}"#,
            ),
            (200, r#" {"data":{"_id":"a1"}} "#),
            (200, "[]"),
            (200, "not json"),
            (
                403,
                r#"{"code":"otp_does_not_match","message":"403:otp_does_not_match","id":"R2"}"#,
            ),
            (500, r#"{"data":{"_id":"a1"}}"#),
        ] {
            let response = response(VALIDATE, status, body);
            let full = decode::<ValidatedPhone>(&response, Shape::Data, &|| None);
            let borrowed = decode_borrowed::<CheckAnswer<'_>>(&response, Shape::Data, &|| None);
            let payload = decode_payload::<CheckAnswer<'_>>(&response, Shape::Data, &|| None);
            match (&full, &borrowed, &payload) {
                (Ok((full, envelope)), Ok((borrowed, raw)), Ok(payload)) => {
                    assert_eq!(full.id, borrowed.id, "{body}");
                    assert_eq!(borrowed.id, payload.id, "{body}");
                    assert_eq!(borrowed.status, payload.status, "{body}");
                    assert_eq!(envelope.request_id, raw.request_id(), "{body}");
                    assert_eq!(envelope.signed_at, raw.signed_at(), "{body}");
                }
                (Err(full), Err(borrowed), Err(payload)) => {
                    for other in [borrowed, payload] {
                        assert_eq!(full.kind(), other.kind(), "{body}");
                        assert_eq!(full.provider_code(), other.provider_code(), "{body}");
                        assert_eq!(full.request_id(), other.request_id(), "{body}");
                        assert_eq!(full.to_string(), other.to_string(), "{body}");
                    }
                }
                _ => panic!("the decoders disagree on {body}"),
            }
        }
    }

    #[test]
    fn only_a_success_with_a_data_payload_takes_the_direct_path() {
        use crate::wire::ValidatedPhone;
        /// A payload the root of `listed` below satisfies, and its `data` does not.
        #[derive(Deserialize, Debug)]
        struct Counted {
            #[expect(dead_code, reason = "only whether it decodes matters")]
            total: u64,
        }
        // An error status is an error, whatever payload its body carries.
        for status in [400, 404, 409, 500, 503] {
            let answer = response(VALIDATE, status, r#"{"data":{"_id":"a1"}}"#);
            let full = decode::<ValidatedPhone>(&answer, Shape::Data, &|| None);
            assert!(full.is_err(), "{status}");
            let payload = decode_payload::<Value>(&answer, Shape::DataOrRoot, &|| None);
            assert!(payload.is_err(), "{status}");
        }
        // A payload at the root is the whole body, even with a `data` object in it.
        let listed = response(VALIDATE, 200, r#"{"data":{"_id":"a1"},"total":1}"#);
        let (root, _) = decode::<Value>(&listed, Shape::Root, &|| None).unwrap();
        assert_eq!(root["total"], 1, "{root}");
        let root = decode_payload::<Value>(&listed, Shape::Root, &|| None).unwrap();
        assert_eq!(root["data"]["_id"], "a1", "{root}");
        // Where `data` is an object it is the payload, on the general path too.
        let err = decode::<Counted>(&listed, Shape::DataOrRoot, &|| None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        let bare = response(VALIDATE, 200, r#"{"total":1}"#);
        decode::<Counted>(&bare, Shape::DataOrRoot, &|| None).unwrap();
    }

    #[test]
    fn an_echoed_token_is_scrubbed() {
        let token = || Some(SecretString::from("vf-token-eyJhbGciOi.0123"));
        let shown = |err: Error| format!("{err} {err:?} {:?}", err.provider_message());
        for (status, body) in [
            (
                401,
                r#"{"code":"unauthorized","message":"401:token vf-token-eyJhbGciOi.0123 expired"}"#,
            ),
            (401, r#"{"message":"bad token vf-token-eyJhbGciOi.0123"}"#),
            (200, "<html>token vf-token-eyJhbGciOi.0123</html>"),
            (
                200,
                r#"{"success":false,"error":"vf-token-eyJhbGciOi.0123"}"#,
            ),
        ] {
            let err = decode::<crate::wire::ValidatedPhone>(
                &response(VALIDATE, status, body),
                Shape::Data,
                &token,
            )
            .unwrap_err();
            let text = shown(err);
            assert!(!text.contains("vf-token-eyJhbGciOi.0123"), "{body}: {text}");
        }
    }

    fn error(operation: Operation, status: u16, body: &str) -> Error {
        let value: Value = serde_json::from_str(body).unwrap();
        provider_error(&response(operation, status, body), &value, &[])
    }

    /// [`error`] of an answer with `Retry-After: 5`.
    fn error_with_retry_after(operation: Operation, status: u16, body: &str) -> Error {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "5".parse().unwrap());
        let answer = HttpResponse::from_parts(
            ProviderId::new_static("verifik"),
            operation,
            status,
            headers,
            body.as_bytes().to_vec().into(),
        );
        provider_error(&answer, &serde_json::from_str(body).unwrap(), &[])
    }

    /// A 503 with `Retry-After` was refused before processing: no code sent, none used,
    /// whatever reason its body gives. A plain 503 may come from a proxy that forwarded the
    /// request: in doubt.
    #[test]
    fn a_503_is_a_refusal_only_with_retry_after() {
        let check = Operation::consume("validate-phone-validation");
        for (operation, plain) in [
            (CREATE, ErrorKind::MaybeSent),
            (check, ErrorKind::OutcomeUnknown),
            (VALIDATE, ErrorKind::ProviderUnavailable),
        ] {
            for body in [
                r#"{"error":"maintenance"}"#,
                r#"{"code":"otp_does_not_match","message":"403:otp_does_not_match"}"#,
                r#"{"message":"429:slow_down"}"#,
            ] {
                let refused = error_with_retry_after(operation, 503, body);
                assert_eq!(refused.kind(), ErrorKind::ProviderUnavailable, "{body}");
                assert_eq!(
                    refused.retry_after(),
                    Some(std::time::Duration::from_secs(5))
                );
                assert!(check_outcome(&refused, false).is_none(), "{body}");
                assert_eq!(
                    error(operation, 503, body).kind(),
                    plain,
                    "{operation:?} {body}"
                );
            }
        }
        // Another server error stays in doubt with `Retry-After`.
        let err = error_with_retry_after(CREATE, 500, r#"{"error":"maintenance"}"#);
        assert_eq!(err.kind(), ErrorKind::MaybeSent);
    }

    #[test]
    fn every_envelope_gives_the_reason() {
        let cases = [
            (
                403,
                r#"{"code":"otp_does_not_match","message":"403:otp_does_not_match"}"#,
                "otp_does_not_match",
                ErrorKind::InvalidInput,
            ),
            (
                403,
                r#"{"message":"otp_does_not_match","code":"Forbidden"}"#,
                "otp_does_not_match",
                ErrorKind::InvalidInput,
            ),
            (
                404,
                r#"{"success":false,"error":"Phone validation not found","code":"PHONE_VALIDATION_NOT_FOUND"}"#,
                "PHONE_VALIDATION_NOT_FOUND",
                ErrorKind::NotFound,
            ),
            (
                409,
                "{\"code\":\"MissingParameter\",\"message\":\"missing phone\\n. missing otp\"}",
                "MissingParameter",
                ErrorKind::InvalidInput,
            ),
            (
                400,
                r#"{"code":"BadRequest","message":"Invalid phone number format."}"#,
                "BadRequest",
                ErrorKind::InvalidInput,
            ),
            (
                401,
                r#"{"code":"Unauthorized","message":"Invalid or expired token."}"#,
                "Unauthorized",
                ErrorKind::Unauthorized,
            ),
            (
                404,
                r#"{"code":"NotFound","message":"invalid_email"}"#,
                "invalid_email",
                ErrorKind::NotFound,
            ),
            (
                400,
                r#"{"message":"invalid_otp","code":"ERROR"}"#,
                "invalid_otp",
                ErrorKind::InvalidInput,
            ),
            (
                403,
                r#"{"code":"Forbidden","message":"Messaging is not enabled"}"#,
                "Forbidden",
                ErrorKind::Unsupported,
            ),
        ];
        for (status, body, code, kind) in cases {
            let err = error(VALIDATE, status, body);
            assert_eq!(err.provider_code(), Some(code), "{body}");
            assert_eq!(err.kind(), kind, "{body}");
            assert_eq!(err.http_status(), Some(status));
            assert!(err.provider_message().is_some(), "{body}");
            assert!(!err.to_string().contains('\n'), "{err}");
        }
    }

    #[test]
    fn undocumented_reasons_fall_back_to_the_status() {
        let err = error(
            CREATE,
            500,
            r#"{"code":"InternalServerError","message":"500:internal_server_error"}"#,
        );
        assert_eq!(err.kind(), ErrorKind::MaybeSent);
        assert_eq!(err.provider_code(), Some("internal_server_error"));
        let err = error(VALIDATE, 500, r#"{"code":"Oops"}"#);
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        assert_eq!(err.provider_code(), Some("Oops"));
        // A plain 503 may come from a proxy that forwarded the send.
        let err = error(CREATE, 503, r#"{"error":"maintenance"}"#);
        assert_eq!(err.kind(), ErrorKind::MaybeSent);
        assert_eq!(err.provider_code(), Some("maintenance"));
        let err = error(
            VALIDATE,
            200,
            r#"{"code":"Weird","message":"429:slow_down"}"#,
        );
        assert_eq!(
            err.kind(),
            ErrorKind::RateLimited,
            "the status inside message"
        );
        // An error status is the status, whatever `message` states.
        let err = error(VALIDATE, 503, r#"{"message":"429:slow_down"}"#);
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        assert_eq!(err.provider_code(), Some("slow_down"));
        // A status prefix counts only before a one-word reason.
        let err = error(VALIDATE, 200, r#"{"message":"429: slow down please"}"#);
        assert_ne!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.provider_code(), None);
        assert_eq!(err.provider_message(), Some("429: slow down please"));
        let err = error(VALIDATE, 200, r#"{"signature":{}}"#);
        assert_eq!(err.kind(), ErrorKind::Decode);
        let err = error(VALIDATE, 502, r#"{"id":"R1"}"#);
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        assert_eq!(err.request_id(), Some("R1"));
    }

    #[test]
    fn checks_get_outcomes() {
        let outcome = |body: &str, status| check_outcome(&error(VALIDATE, status, body), false);
        let reason = |o: Option<Outcome>| o.and_then(|o| o.rejection().map(|r| r.reason));
        assert_eq!(
            reason(outcome(
                r#"{"code":"otp_does_not_match","message":"403:otp_does_not_match"}"#,
                403
            )),
            Some(RejectReason::WrongCode)
        );
        assert_eq!(
            reason(outcome(
                r#"{"message":"phoneValidation_has_expired","code":"PreconditionFailed"}"#,
                412
            )),
            Some(RejectReason::Expired)
        );
        assert_eq!(
            reason(outcome(
                r#"{"code":"phone_validation_already_validated","message":"409:phone_validation_already_validated"}"#,
                409
            )),
            Some(RejectReason::NotFound)
        );
        assert_eq!(
            reason(outcome(r#"{"code":"MAX_ATTEMPTS_EXCEEDED"}"#, 410)),
            Some(RejectReason::TooManyAttempts)
        );
        assert!(
            outcome(
                r#"{"code":"MissingParameter","message":"missing otp"}"#,
                409
            )
            .is_none()
        );
        assert!(outcome(r#"{"code":"Unauthorized"}"#, 401).is_none());
        // A server error carrying a documented refusal: the code may have been used.
        let check = Operation::consume("validate-phone-validation");
        for (body, status) in [
            (
                r#"{"code":"otp_does_not_match","message":"403:otp_does_not_match"}"#,
                500,
            ),
            (r#"{"code":"CODE_EXPIRED"}"#, 502),
            (r#"{"message":"phoneValidation_has_expired"}"#, 504),
        ] {
            let err = error(check, status, body);
            assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{body}");
            assert!(check_outcome(&err, false).is_none(), "{body}");
        }
        let rejected = outcome(
            r#"{"code":"otp_does_not_match","message":"403:otp_does_not_match"}"#,
            403,
        )
        .unwrap();
        let rejection = rejected.rejection().unwrap();
        assert_eq!(
            rejection.provider_code.as_deref(),
            Some("otp_does_not_match")
        );
        assert_eq!(rejection.message.as_deref(), Some("403:otp_does_not_match"));
    }

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
    fn every_table_entry_is_reachable_in_envelope_a_and_b() {
        for spec in documented_errors() {
            let a = serde_json::json!({"code": spec.code, "message": format!("{}:{}", spec.http_status, spec.code)});
            let b = serde_json::json!({"message": spec.code, "code": "Whatever"});
            for body in [a, b] {
                let err = provider_error(
                    &response(VALIDATE, spec.http_status, &body.to_string()),
                    &body,
                    &[],
                );
                assert_eq!(err.provider_code(), Some(spec.code), "{body}");
                assert_eq!(err.kind(), spec.kind, "{body}");
            }
        }
    }

    /// A token echoed in a reason or a request id, even split by a control character that the
    /// cleaning drops, stays out of errors and of a success's request id.
    #[test]
    fn an_echoed_token_is_scrubbed_from_codes_and_request_ids() {
        let token = || Some(SecretString::from("tok-0123456789"));
        let body = r#"{"code":"NoSuch-tok-01234\u000156789","message":"no","id":"r-tok-01234\u000156789"}"#;
        let err = provider_error(
            &response(VALIDATE, 400, body),
            &serde_json::from_str(body).unwrap(),
            &["tok-0123456789"],
        );
        assert_eq!(err.provider_code(), Some("NoSuch-<redacted>"));
        assert_eq!(err.request_id(), Some("r-<redacted>"));
        let ok = r#"{"data":{"_id":"a1"},"id":"r-tok-0123456789"}"#;
        let (_, envelope): (crate::wire::PhoneValidation, _) =
            decode(&response(VALIDATE, 200, ok), Shape::Data, &token).unwrap();
        assert_eq!(envelope.request_id.as_deref(), Some("r-<redacted>"));
    }

    #[test]
    fn numbers_in_provider_messages_are_masked() {
        let err = error(
            VALIDATE,
            400,
            r#"{"code":"BadRequest","message":"Invalid phone 3001234567"}"#,
        );
        assert_eq!(err.provider_code(), Some("BadRequest"));
        assert_eq!(err.provider_message(), Some("Invalid phone ********67"));
        let err = error(
            VALIDATE,
            400,
            r#"{"code":"Bad\u001bRequest","message":"bad\u001b[2J\nline","id":"req\u0007-1"}"#,
        );
        assert_eq!(err.provider_code(), Some("BadRequest"));
        assert_eq!(err.provider_message(), Some("bad [2J line"));
        assert_eq!(err.request_id(), Some("req-1"));
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains("3001234567"), "{shown}");
        }
        // A check's rejection carries the message as kept.
        let err = error(
            VALIDATE,
            404,
            r#"{"success":false,"error":"No validation for 3001234567","code":"PHONE_VALIDATION_NOT_FOUND"}"#,
        );
        let outcome = check_outcome(&err, false);
        let rejection = outcome.as_ref().and_then(Outcome::rejection).unwrap();
        assert_eq!(
            rejection.message.as_deref(),
            Some("No validation for ********67")
        );
    }

    #[test]
    fn shown_text_is_one_tidy_line() {
        let shown = |text: &str| shown_text(text, &[]).unwrap();
        assert_eq!(
            shown("missing phone\n. missing otp"),
            "missing phone . missing otp"
        );
        assert_eq!(shown("phone 62647737 bad"), "phone ******37 bad");
        assert_eq!(shown("code 123"), "code 123");
        assert_eq!(shown_text(" \n ", &[]), None);
        assert_eq!(
            shown_text("bad key tok-123", &["tok-123"]).as_deref(),
            Some("bad key <redacted>")
        );
        assert!(shown(&"x".repeat(1000)).chars().count() <= MAX_SHOWN_CHARS + 1);
        // Cut at the limit with an ellipsis; a text of the limit's length is whole.
        for extra in [1, 2, 500] {
            let cut = shown(&"é".repeat(MAX_SHOWN_CHARS + extra));
            assert_eq!(cut, format!("{}…", "é".repeat(MAX_SHOWN_CHARS)), "{extra}");
        }
        let whole = "é".repeat(MAX_SHOWN_CHARS);
        assert_eq!(shown(&whole), whole);
        // A number the cut runs through is masked as a whole, not as the part left.
        let text = format!("{} +57 300 123 4567", "x".repeat(MAX_SHOWN_CHARS - 8));
        let cut = shown(&text);
        assert!(cut.ends_with("+** ***…"), "{cut}");
    }

    /// A number written in groups, as Verifik may quote the one it refused, is masked in the
    /// error's `Display` as in its provider message: the kit's masking, not digit runs alone.
    #[test]
    fn grouped_numbers_are_masked_in_display() {
        let err = error(
            VALIDATE,
            400,
            r#"{"code":"BadRequest","message":"Invalid phone +57 300 123 4567"}"#,
        );
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains("300 123"), "{shown}");
            assert!(!shown.contains("123 45"), "{shown}");
        }
        assert!(err.to_string().contains("+** *** *** **67"), "{err}");
        assert_eq!(
            err.provider_message(),
            Some("Invalid phone +** *** *** **67")
        );
    }

    /// A validation not found is `Rejected(Expired)` past the handle's expiry (Verifik looks
    /// only for unexpired validations); other refusals keep their reason.
    #[test]
    fn a_validation_not_found_past_expiry_is_expired() {
        let reason = |body: &str, status, expired| {
            check_outcome(&error(VALIDATE, status, body), expired)
                .and_then(|o| o.rejection().map(|r| r.reason))
        };
        let not_found =
            r#"{"code":"phone_validation_not_found","message":"404:phone_validation_not_found"}"#;
        let generated = r#"{"success":false,"error":"Phone validation not found","code":"PHONE_VALIDATION_NOT_FOUND"}"#;
        for body in [not_found, generated] {
            assert_eq!(
                reason(body, 404, true),
                Some(RejectReason::Expired),
                "{body}"
            );
            assert_eq!(
                reason(body, 404, false),
                Some(RejectReason::NotFound),
                "{body}"
            );
        }
        for (status, body) in [
            (
                409,
                r#"{"code":"phone_validation_already_validated","message":"409:phone_validation_already_validated"}"#,
            ),
            (
                409,
                r#"{"code":"otp_send_failed","message":"409:otp_send_failed"}"#,
            ),
        ] {
            assert_eq!(
                reason(body, status, true),
                Some(RejectReason::NotFound),
                "{body}"
            );
        }
        let wrong = r#"{"code":"otp_does_not_match","message":"403:otp_does_not_match"}"#;
        assert_eq!(reason(wrong, 403, true), Some(RejectReason::WrongCode));
        let rejection = check_outcome(&error(VALIDATE, 404, not_found), true).unwrap();
        assert_eq!(
            rejection.rejection().unwrap().provider_code.as_deref(),
            Some("phone_validation_not_found")
        );
    }
}
