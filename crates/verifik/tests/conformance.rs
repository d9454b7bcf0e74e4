//! The testkit's conformance suite against the phone-verify sandbox, in both start modes.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, HttpConfig, RetryPolicy, Timeouts};
use phone_verify_core::kit::{CheckRule, ErrorSpec};
use phone_verify_testkit::ExpectedResult::{Error, Rejected};
use phone_verify_testkit::sandbox::{
    Provider, SandboxConfig, SandboxHandle, SandboxHarness, run_conformance,
};
use phone_verify_testkit::{
    Answering, CHECK_FAULT_CHECKS, Conformance, DOCUMENTED_ERROR_CHECKS, DocumentedError, Expected,
    ExpectedResult, HOSTILE_CHECK_CHECKS, HOSTILE_SEND_CHECKS, HOSTILE_SESSION_CHECKS,
    ImpatientClient, OTP_CHECKS, PRIVACY_CHECKS, SEND_CHECKS, SESSION_FAULT_CHECKS,
    SESSION_RETRY_CHECKS, WRONG_CODE_LIMIT_CHECKS,
};
use phone_verify_verifik::{Mode, Verifik, VerifikBuilder, errors};

/// The project that exists in the sandbox from the start.
const PROJECT: &str = "507f1f77bcf86cd799439011";

fn client(sandbox: &SandboxHandle, mode: &Mode) -> Verifik {
    builder(sandbox, mode)
        .build()
        .expect("a verifier for the sandbox")
}

/// A builder for the sandbox's Verifik in `mode`, telling time by the sandbox's clock (which
/// the suite moves), as a verifier in production tells it by a clock close to Verifik's.
fn builder(sandbox: &SandboxHandle, mode: &Mode) -> VerifikBuilder {
    VerifikBuilder::sandbox(&sandbox.base_url())
        .mode(mode.clone())
        .http_config(HttpConfig::default().with_clock(sandbox.clock()))
        .retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
}

/// How soon [`impatient`] gives up on an answer: its overall timeout.
const GIVES_UP_WITHIN: Duration = Duration::from_secs(2);

/// The client that meets the suite's stalled answers: [`client`] with a 1 s attempt and a 2 s
/// overall timeout, so each stall check takes a second or two.
fn impatient(sandbox: &SandboxHandle, mode: &Mode) -> ImpatientClient {
    let hasty = Arc::new(
        builder(sandbox, mode)
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

/// `spec` as Verifik answers it to `answering` (`{"code", "message", "id"}`, its first
/// envelope, with the request id `REQ-{n}`), which must end in `expected`.
fn documented(
    n: usize,
    answering: Answering,
    spec: &ErrorSpec,
    expected: ExpectedResult,
) -> DocumentedError {
    let id = format!("REQ-{n:04}");
    let body = serde_json::json!({"code": spec.code, "message": spec.message, "id": id});
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

/// Verifik's documented errors, from the crate's own table (`errors::documented_errors`):
/// every reason answering a send; those with a check rule answering a code check (a
/// rejection); and refusals of a session's resolution (a read of the validation).
fn documented_errors() -> Vec<DocumentedError> {
    let mut list = Vec::new();
    for spec in errors::documented_errors() {
        list.push(documented(
            list.len(),
            Answering::Send,
            spec,
            Error(spec.kind),
        ));
        if let Some(CheckRule::Rejected(reason)) = spec.check {
            list.push(documented(
                list.len(),
                Answering::Check,
                spec,
                Rejected(reason),
            ));
        }
    }
    for code in ["PHONE_VALIDATION_NOT_FOUND", "Unauthorized", "Forbidden"] {
        let spec = errors::lookup(code).expect("a documented reason");
        list.push(documented(
            list.len(),
            Answering::Lookup,
            spec,
            Error(spec.kind),
        ));
    }
    list
}

/// Every check the capabilities call for when `channels` are the OTP channels.
fn expected(channels: &[&str]) -> Expected {
    Expected::new()
        .checks([
            "input.unsupported_channel_refused[voice]",
            "input.foreign_handle_refused",
            "input.hostile_handle_refused",
            "handle.no_reserved_extras",
            "input.malformed_session_refused",
            "session.resolves_verified_phone",
            "session.unknown_is_not_found",
        ])
        .per_channel(&["input.otp_without_phone_refused"], channels)
        // Verifik sets no limit of wrong codes: `otp.wrong_code_limit` is skipped, saying so.
        .skipped_per_channel(WRONG_CODE_LIMIT_CHECKS, channels)
        .checks(PRIVACY_CHECKS.iter().copied())
        .per_channel(OTP_CHECKS, channels)
        .per_channel(CHECK_FAULT_CHECKS, channels)
        .per_channel(SEND_CHECKS, channels)
        .checks(SESSION_FAULT_CHECKS.iter().copied())
        .checks(SESSION_RETRY_CHECKS.iter().copied())
        .per_channel(HOSTILE_CHECK_CHECKS, channels)
        .per_channel(HOSTILE_SEND_CHECKS, channels)
        .checks(HOSTILE_SESSION_CHECKS.iter().copied())
        .checks(DOCUMENTED_ERROR_CHECKS.iter().copied())
}

/// Runs the suite for `mode`, whose sends go to `send_path`.
async fn conforms(mode: Mode, send_path: &'static str, expected: &Expected) {
    run_conformance(SandboxConfig::default(), expected, |sandbox| async move {
        let verifier = Arc::new(client(&sandbox, &mode));
        let hasty = mode.clone();
        let harness = SandboxHarness::new(sandbox, Provider::Verifik, move |s| {
            Arc::new(client(s, &mode))
        })
        .with_impatient_client(move |s| impatient(s, &hasty))
        .with_send_endpoint("POST", send_path)
        .with_check_endpoint("PUT", "/v2/phone-validations")
        // Sessions (validation ids) are resolved by reading the validation.
        .with_lookup_endpoint("GET", "/v2/phone-validations/*")
        .with_documented_errors(documented_errors());
        Conformance::resolving(verifier, harness)
    })
    .await;
}

#[tokio::test]
async fn verifik_manual_mode_conforms_on_the_sandbox() {
    let expected = expected(&["sms", "whatsapp"]);
    assert_eq!(expected.len(), 81);
    conforms(Mode::manual(), "/v2/phone-validations/manual", &expected).await;
}

#[tokio::test]
async fn verifik_project_flow_mode_conforms_on_the_sandbox() {
    let expected = expected(&["whatsapp"]);
    assert_eq!(expected.len(), 49);
    let mode = Mode::project_flow(PROJECT).unwrap();
    conforms(mode, "/v2/phone-validations", &expected).await;
}
