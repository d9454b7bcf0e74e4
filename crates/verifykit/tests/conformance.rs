//! The testkit's conformance suite against the phone-verify sandbox.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy, Timeouts};
use phone_verify_core::kit::{CheckRule, ErrorSpec};
use phone_verify_core::{ErrorKind, RejectReason};
use phone_verify_testkit::ExpectedResult::{Error, Rejected};
use phone_verify_testkit::sandbox::{
    Provider, SandboxConfig, SandboxHandle, SandboxHarness, run_conformance,
};
use phone_verify_testkit::{
    Answering, CHECK_FAULT_CHECKS, Conformance, DOCUMENTED_ERROR_CHECKS, DocumentedError, Expected,
    ExpectedResult, HOSTILE_CHECK_CHECKS, HOSTILE_POLL_CHECKS, HOSTILE_SEND_CHECKS,
    HOSTILE_SESSION_CHECKS, ImpatientClient, OTP_CHECKS, PRIVACY_CHECKS, REVERSE_CHECKS,
    REVERSE_FAULT_CHECKS, REVERSE_RETRY_CHECKS, SEND_CHECKS, SESSION_FAULT_CHECKS,
    SESSION_RETRY_CHECKS, WRONG_CODE_LIMIT_CHECKS,
};
use phone_verify_verifykit::{VerifyKit, VerifyKitBuilder, errors};

/// A verifier for the sandbox. The suite's requests carry no end-user context, so the loopback
/// address stands in for the end user's IP.
fn client(sandbox: &SandboxHandle) -> VerifyKit {
    builder(sandbox)
        .build()
        .expect("a verifier for the sandbox")
}

/// How soon [`impatient`] gives up on an answer: its overall timeout.
const GIVES_UP_WITHIN: Duration = Duration::from_secs(2);

/// The client that meets the suite's stalled answers: [`client`] with a 1 s attempt and a 2 s
/// overall timeout, so each stall check takes a second or two.
fn impatient(sandbox: &SandboxHandle) -> ImpatientClient {
    let hasty = Arc::new(
        builder(sandbox)
            .timeouts(
                Timeouts::default()
                    .with_attempt(Duration::from_secs(1))
                    .with_overall(GIVES_UP_WITHIN),
            )
            .build()
            .expect("a verifier for the sandbox"),
    );
    ImpatientClient::new(hasty.clone(), GIVES_UP_WITHIN).with_resolver(hasty)
}

fn builder(sandbox: &SandboxHandle) -> VerifyKitBuilder {
    VerifyKitBuilder::sandbox(&sandbox.base_url())
        .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
        .retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
}

/// `spec` as VerifyKit answers it to `answering` (its error envelope, with the request id
/// `app02-REQ-{n}` in `meta`), which must end in `expected`.
fn documented(
    n: usize,
    answering: Answering,
    spec: &ErrorSpec,
    expected: ExpectedResult,
) -> DocumentedError {
    let id = format!("app02-REQ-{n:04}");
    let code: u64 = spec.code.parse().expect("VerifyKit's codes are numbers");
    let body = serde_json::json!({"meta": {
        "requestId": id,
        "httpStatusCode": spec.http_status,
        "errorCode": code,
        "errorMessage": spec.message,
    }});
    DocumentedError::new(
        answering,
        spec.http_status,
        body.to_string(),
        expected,
        spec.code,
    )
    .with_message(spec.message)
    .with_request_id(id)
}

/// VerifyKit's documented errors, from the crate's own table (`errors::documented_errors`):
/// every code answering a send; the codes with a check rule answering a code check (a
/// rejection), and the server error too (`OutcomeUnknown`); and refusals of a session's
/// resolution.
fn documented_errors() -> Vec<DocumentedError> {
    let mut list = Vec::new();
    for spec in errors::documented_errors() {
        // A server error answering a send leaves it in doubt.
        let sent = if spec.http_status >= 500 {
            ErrorKind::MaybeSent
        } else {
            spec.kind
        };
        list.push(documented(list.len(), Answering::Send, spec, Error(sent)));
        let checked = match spec.check {
            Some(CheckRule::Rejected(reason)) => Rejected(reason),
            // In a code check, "validation not found" is no such verification.
            Some(CheckRule::PendingWhilePolling) => Rejected(RejectReason::NotFound),
            // A server error answering a check leaves it in doubt: the code may be used.
            None if spec.http_status >= 500 => Error(ErrorKind::OutcomeUnknown),
            None => continue,
        };
        list.push(documented(list.len(), Answering::Check, spec, checked));
    }
    for code in ["403012", "403013", "403037", "403038"] {
        let spec = errors::lookup(code).expect("a documented code");
        list.push(documented(
            list.len(),
            Answering::Lookup,
            spec,
            Error(spec.kind),
        ));
    }
    list
}

#[tokio::test]
async fn verifykit_conforms_on_the_sandbox() {
    // The checks this provider's capabilities call for, by name, so none silently disappears.
    let expected = Expected::new()
        .checks([
            "input.unsupported_channel_refused[voice]",
            "input.otp_without_phone_refused[sms]",
            "input.phone_on_reverse_only_refused[telegram]",
            "input.foreign_handle_refused",
            "input.hostile_handle_refused",
            "handle.no_reserved_extras",
            "input.malformed_session_refused",
            "session.resolves_verified_phone",
            "session.unknown_is_not_found",
        ])
        .checks(PRIVACY_CHECKS.iter().copied())
        .per_channel(OTP_CHECKS, ["sms", "whatsapp"])
        .per_channel(CHECK_FAULT_CHECKS, ["sms", "whatsapp"])
        .per_channel(WRONG_CODE_LIMIT_CHECKS, ["sms", "whatsapp"])
        .per_channel(SEND_CHECKS, ["sms", "whatsapp"])
        .per_channel(REVERSE_CHECKS, ["whatsapp", "telegram"])
        .per_channel(&["reverse.qr_code"], ["whatsapp", "telegram"])
        .per_channel(REVERSE_FAULT_CHECKS, ["whatsapp", "telegram"])
        .per_channel(REVERSE_RETRY_CHECKS, ["whatsapp", "telegram"])
        .checks(SESSION_FAULT_CHECKS.iter().copied())
        .checks(SESSION_RETRY_CHECKS.iter().copied())
        .per_channel(HOSTILE_CHECK_CHECKS, ["sms", "whatsapp"])
        .per_channel(HOSTILE_SEND_CHECKS, ["sms", "whatsapp"])
        .per_channel(HOSTILE_POLL_CHECKS, ["whatsapp", "telegram"])
        .checks(HOSTILE_SESSION_CHECKS.iter().copied())
        .checks(DOCUMENTED_ERROR_CHECKS.iter().copied());
    assert_eq!(expected.len(), 107);
    run_conformance(SandboxConfig::default(), &expected, |sandbox| async move {
        let verifier = Arc::new(client(&sandbox));
        // `send-otp` sends SMS codes; `start` sends WhatsApp codes (and opens reverse flows).
        let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, |s| Arc::new(client(s)))
            .with_send_endpoint("POST", "/v1.0/send-otp")
            .with_send_endpoint("POST", "/v1.0/start")
            .with_check_endpoint("POST", "/v1.0/check-otp")
            .with_check_endpoint("POST", "/v1.0/check-whatsapp")
            // Reverse flows are polled with `check`, sessions resolved with `result`.
            .with_lookup_endpoint("POST", "/v1.0/check")
            .with_lookup_endpoint("POST", "/v1.0/result")
            .with_impatient_client(impatient)
            .with_documented_errors(documented_errors());
        Conformance::resolving(verifier, harness)
    })
    .await;
}
