//! The testkit's conformance suite against the sandbox's Twilio Verify v2 emulation.
//!
//! The sandbox's Twilio delivers SMS, WhatsApp and voice-call codes to its outbox under the
//! verification SID (`VE…`), the handle's reference, so the testkit's `SandboxHarness` reads
//! them as it does for the other providers; a send is
//! `POST /v2/Services/{ServiceSid}/Verifications`. Twilio forgets an expired verification
//! (`20404`, like an unknown one), so the verifier tells expiry by its clock: here the
//! sandbox's, which the suite moves.

mod common;

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, Timeouts};
use phone_verify_core::{Channel, ErrorKind, RejectReason};
use phone_verify_testkit::sandbox::{Provider, SandboxConfig, SandboxHarness, run_conformance};
use phone_verify_testkit::{
    Answering, CHECK_FAULT_CHECKS, Conformance, DOCUMENTED_ERROR_CHECKS, DocumentedError, Expected,
    HOSTILE_CHECK_CHECKS, HOSTILE_SEND_CHECKS, ImpatientClient, OTP_CHECKS, PRIVACY_CHECKS,
    SEND_CHECKS, WRONG_CODE_LIMIT_CHECKS,
};

/// How soon the impatient client gives up on an answer: its overall timeout.
const GIVES_UP_WITHIN: Duration = Duration::from_secs(2);

/// An error answer `status` with Twilio's `code` and `message`, in Twilio's error body.
fn body(status: u16, code: u32, message: &str) -> String {
    serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
    .to_string()
}

/// A send answered with Twilio's documented error `code`, which must be an error of `kind`.
fn send(status: u16, code: u32, message: &str, kind: ErrorKind) -> DocumentedError {
    let body = body(status, code, message);
    DocumentedError::error(Answering::Send, status, body, kind, code.to_string())
        .with_message(message)
}

/// A code check answered with Twilio's documented error `code`, which must be a rejection
/// for `reason`.
fn check(status: u16, code: u32, message: &str, reason: RejectReason) -> DocumentedError {
    let body = body(status, code, message);
    DocumentedError::rejection(Answering::Check, status, body, reason, code.to_string())
        .with_message(message)
}

/// Twilio's documented errors, written out from its documentation rather than read from the
/// crate's table (`errors::documented_errors`, which the wire tests hold to the same codes,
/// statuses and kinds). The bodies are Twilio's `{code, message, more_info, status}`. Twilio names the request in the
/// `Twilio-Request-Id` header, which the sandbox's `respond` fault sets.
/// Twilio has no lookups (no sessions, no reverse flows).
fn documented_errors() -> Vec<DocumentedError> {
    vec![
        send(400, 60200, "Invalid parameter", ErrorKind::InvalidInput),
        send(
            429,
            60203,
            "Max send attempts reached",
            ErrorKind::RateLimited,
        ),
        send(401, 20003, "Authentication failed", ErrorKind::Unauthorized),
        send(429, 20429, "Too many requests", ErrorKind::RateLimited),
        send(
            429,
            60212,
            "Too many concurrent requests for phone number",
            ErrorKind::RateLimited,
        ),
        send(
            403,
            60205,
            "SMS is not supported by landline phone number",
            ErrorKind::Unsupported,
        ),
        send(
            403,
            60410,
            "Verification delivery attempt blocked",
            ErrorKind::Blocked,
        ),
        send(
            403,
            60605,
            "Verification delivery attempt blocked",
            ErrorKind::Blocked,
        ),
        send(
            400,
            60206,
            "'Amount' & 'Payee' params are required",
            ErrorKind::InvalidInput,
        ),
        // A final 429: the kit re-asks a check answered 429 up to the retry policy's 3
        // attempts, and Twilio would answer each the same.
        check(
            429,
            60202,
            "Max check attempts reached",
            RejectReason::TooManyAttempts,
        )
        .times(3),
        check(
            404,
            20404,
            "The requested resource was not found",
            RejectReason::NotFound,
        ),
        DocumentedError::error(
            Answering::Check,
            400,
            body(400, 60200, "Invalid parameter"),
            ErrorKind::InvalidInput,
            "60200",
        )
        .with_message("Invalid parameter"),
        // The request id in its header.
        send(400, 60200, "Invalid parameter", ErrorKind::InvalidInput)
            .with_header("Twilio-Request-Id", "RQ0123456789abcdef0123456789abcdef")
            .with_request_id("RQ0123456789abcdef0123456789abcdef"),
    ]
}

#[tokio::test]
async fn twilio_conforms_on_the_sandbox() {
    // Twilio has OTP channels only (no reverse flows, no session resolution).
    let channels = ["sms", "whatsapp", "voice"];
    let expected = Expected::new()
        .checks([
            "input.unsupported_channel_refused[telegram]",
            "input.foreign_handle_refused",
            "input.hostile_handle_refused",
            "handle.no_reserved_extras",
        ])
        .per_channel(&["input.otp_without_phone_refused"], channels)
        .checks(PRIVACY_CHECKS.iter().copied())
        .per_channel(OTP_CHECKS, channels)
        .per_channel(CHECK_FAULT_CHECKS, channels)
        .per_channel(WRONG_CODE_LIMIT_CHECKS, channels)
        .per_channel(SEND_CHECKS, channels)
        .per_channel(HOSTILE_CHECK_CHECKS, channels)
        .per_channel(HOSTILE_SEND_CHECKS, channels)
        .checks(DOCUMENTED_ERROR_CHECKS.iter().copied());
    assert_eq!(expected.len(), 110);
    run_conformance(SandboxConfig::default(), &expected, |sandbox| async move {
        let verifier = Arc::new(common::verifier(&sandbox));
        let shared = Arc::clone(&sandbox);
        let hasty = Arc::clone(&sandbox);
        let harness = SandboxHarness::new(sandbox, Provider::Twilio, move |_| {
            Arc::new(common::verifier(&shared))
        })
        // Stalled answers meet a client with a 1 s attempt and a 2 s overall timeout.
        .with_impatient_client(move |_| {
            let timeouts = Timeouts::default()
                .with_attempt(Duration::from_secs(1))
                .with_overall(GIVES_UP_WITHIN);
            let client = common::builder(&hasty).timeouts(timeouts).build().unwrap();
            ImpatientClient::new(Arc::new(client), GIVES_UP_WITHIN)
        })
        .with_code_channels([Channel::Sms, Channel::WhatsApp, Channel::Voice])
        .with_send_endpoint("POST", "/v2/Services/*/Verifications")
        .with_check_endpoint("POST", "/v2/Services/*/VerificationCheck")
        .with_documented_errors(documented_errors());
        Conformance::new(verifier, harness)
    })
    .await;
}
