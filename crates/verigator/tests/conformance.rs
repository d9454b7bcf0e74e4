//! The testkit's conformance suite against the sandbox's Verigator emulation.
//!
//! Two things are specific to Verigator, and configure the testkit's `SandboxHarness`:
//!
//! - **Users with an authenticator.** TOTP codes come from an app the user set up, so every
//!   fresh phone is registered (through the verifier, as `start` would) and enrolled in the
//!   sandbox's authenticator before the suite uses it; otherwise Verigator falls back to SMS,
//!   which `tests/sandbox.rs` covers. SMS verifications of those users still go by SMS. The
//!   registration requests are left out of the request counts.
//! - **The send endpoint.** Starting an authentication is `POST …/users/{UserId}/auth`.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, Timeouts};
use phone_verify_core::kit::{CheckRule, ErrorSpec};
use phone_verify_core::{Channel, Code, ErrorKind, Verification};
use phone_verify_testkit::ExpectedResult::{Error, Rejected};
use phone_verify_testkit::sandbox::{
    Provider, SandboxConfig, SandboxHandle, SandboxHarness, run_conformance,
};
use phone_verify_testkit::{
    Answering, CHECK_FAULT_CHECKS, Conformance, DOCUMENTED_ERROR_CHECKS, DocumentedError, Expected,
    ExpectedResult, HOSTILE_CHECK_CHECKS, HOSTILE_SEND_CHECKS, HarnessError, HarnessResult,
    HostileAnswer, ImpatientClient, OTP_CHECKS, PRIVACY_CHECKS, WRONG_CODE_LIMIT_CHECKS,
};
use phone_verify_verigator::{EXTRA_METHOD, EXTRA_SERVICE_ID, Verigator, VerigatorBuilder, errors};

/// The verifier the suite tests, and the fresh clients the harness builds.
fn build(sandbox: &SandboxHandle, service_id: &str) -> Verigator {
    builder(sandbox)
        .service_id(service_id)
        .pin_validity(sandbox.config().verigator_pin_ttl)
        .build()
        .unwrap()
}

/// How soon [`impatient`] gives up on an answer: its overall timeout.
const GIVES_UP_WITHIN: Duration = Duration::from_secs(2);

/// The client that meets the suite's stalled answers: [`build`]'s with a 1 s attempt and a
/// 2 s overall timeout, so each stall check takes a second or two.
fn impatient(sandbox: &SandboxHandle, service_id: &str) -> ImpatientClient {
    let hasty = builder(sandbox)
        .service_id(service_id)
        .pin_validity(sandbox.config().verigator_pin_ttl)
        .timeouts(
            Timeouts::default()
                .with_attempt(Duration::from_secs(1))
                .with_overall(GIVES_UP_WITHIN),
        )
        .build()
        .unwrap();
    ImpatientClient::new(Arc::new(hasty), GIVES_UP_WITHIN)
}

/// A builder for the sandbox, with its password: the suite's own, long enough for
/// `privacy.secrets_not_shown` to search for (the sandbox's default, `sandbox`, is too short).
fn builder(sandbox: &SandboxHandle) -> VerigatorBuilder {
    VerigatorBuilder::sandbox(&sandbox.base_url())
        .password(sandbox.config().verigator_password.clone())
}

/// The sandbox's configuration, with the suite's Verigator password.
fn config() -> SandboxConfig {
    SandboxConfig {
        verigator_password: "verigator-conformance-password".into(),
        ..SandboxConfig::seeded(42)
    }
}

fn failed(e: &dyn std::fmt::Display) -> HarnessError {
    HarnessError::failed(e.to_string())
}

/// The code for a handle: the authenticator's for TOTP, else the SMS the sandbox sent to the
/// handle's user.
fn read_code(sandbox: &SandboxHandle, handle: &Verification) -> HarnessResult<Option<Code>> {
    if handle.extra_str(EXTRA_METHOD) == Some("totp") {
        let service = handle
            .extra_str(EXTRA_SERVICE_ID)
            .ok_or_else(|| HarnessError::failed("the TOTP handle has no service id"))?;
        let code = sandbox
            .totp_code(service, &handle.reference)
            .map_err(|e| failed(&e))?;
        return Code::new(&code).map(Some).map_err(|e| failed(&e));
    }
    let Some(phone) = &handle.phone else {
        return Err(HarnessError::failed("the handle has no phone"));
    };
    sandbox
        .messages(phone.e164())
        .into_iter()
        .find(|m| m.reference.as_deref() == Some(handle.reference.as_str()))
        .and_then(|m| m.code)
        .map(|code| Code::new(&code).map_err(|e| failed(&e)))
        .transpose()
}

/// `spec` as Verigator answers it to `answering`, which must end in `expected`: an HTTP
/// error is its status with `{"message": …}` (Verigator names no request); a refused PIN's
/// detail (`throttled`, `expired`, `invalid`) is a 200 `{"verified": false, "status": …}`.
fn documented(answering: Answering, spec: &ErrorSpec, expected: ExpectedResult) -> DocumentedError {
    let body = if spec.http_status == 200 {
        let detail = spec.code;
        serde_json::json!({"verified": false, "status": {
            "throttled": detail == "throttled",
            "expired": detail == "expired",
            "invalid": detail == "invalid",
            "result": detail.to_ascii_uppercase(),
        }})
    } else {
        serde_json::json!({"message": spec.message})
    };
    DocumentedError::new(
        answering,
        spec.http_status,
        body.to_string(),
        expected,
        spec.code,
    )
    .with_message(spec.message)
}

/// Verigator's documented errors, from the crate's own table (`errors::documented_errors`):
/// every HTTP error but 404 answering a send (starting an authentication); every entry with a check
/// rule answering a PIN check (a rejection), and the server error too (`OutcomeUnknown`).
/// Verigator has no lookups (no sessions, no reverse flows).
fn documented_errors() -> Vec<DocumentedError> {
    let mut list = Vec::new();
    for spec in errors::documented_errors() {
        // A 404 answering a send is a user deleted meanwhile: the verifier registers it again
        // and starts once more (its documented recovery), so one 404 is no error.
        if spec.http_status >= 400 && spec.code != "404" {
            // A server error answering a send leaves it in doubt.
            let sent = if spec.http_status >= 500 {
                ErrorKind::MaybeSent
            } else {
                spec.kind
            };
            list.push(documented(Answering::Send, spec, Error(sent)));
        }
        let checked = match spec.check {
            Some(CheckRule::Rejected(reason)) => Rejected(reason),
            None if spec.http_status >= 500 => Error(ErrorKind::OutcomeUnknown),
            _ => continue,
        };
        list.push(documented(Answering::Check, spec, checked));
    }
    list
}

/// Why the harness gives no `{}` to a start: Verigator documents an empty 2xx answer to a start
/// as a send whose method it does not say (`docs/providers/verigator.md`), so the verifier
/// rightly takes `{}` for one.
const EMPTY_START: &str = "Verigator documents an empty 2xx answer to a start as a send";

/// A harness for Verigator on `sandbox`: Estonian numbers, each registered by `admin` and
/// enrolled in the authenticator; `make` builds fresh clients. It gives no `{}` answer to a
/// start ([`EMPTY_START`]).
fn harness(
    sandbox: Arc<SandboxHandle>,
    admin: Verigator,
    make: impl Fn(&SandboxHandle) -> Arc<dyn phone_verify_core::PhoneVerifier> + Send + Sync + 'static,
) -> SandboxHarness {
    SandboxHarness::new(sandbox, Provider::Verigator, make)
        .without_hostile_answer(Answering::Send, HostileAnswer::EmptyObject, EMPTY_START)
        .with_code_channels([Channel::Sms, Channel::Totp])
        .with_code_reader(read_code)
        .with_phone_prefix("+3725", 7)
        .with_send_endpoint("POST", "/v1/service/service/*/users/*/auth")
        .with_check_endpoint("PUT", "/v1/service/service/*/users/*/auth")
        .with_phone_setup(move |sandbox, phone| {
            let admin = admin.clone();
            Box::pin(async move {
                let user = admin.user_for(phone).await?;
                sandbox
                    .enroll_totp(admin.service_id(), &user.id)
                    .map_err(|e| failed(&e))?;
                Ok(())
            })
        })
}

#[tokio::test]
async fn verigator_conforms() {
    let expected = Expected::new()
        .checks([
            "input.unsupported_channel_refused[voice]",
            "input.foreign_handle_refused",
            "input.hostile_handle_refused",
            "handle.no_reserved_extras",
        ])
        .per_channel(&["input.otp_without_phone_refused"], ["sms", "totp"])
        .checks(PRIVACY_CHECKS.iter().copied())
        .per_channel(OTP_CHECKS, ["sms", "totp"])
        .per_channel(CHECK_FAULT_CHECKS, ["sms", "totp"])
        .per_channel(WRONG_CODE_LIMIT_CHECKS, ["sms", "totp"])
        .per_channel(phone_verify_testkit::SEND_CHECKS, ["sms"])
        .per_channel(HOSTILE_CHECK_CHECKS, ["sms", "totp"])
        .per_channel(HOSTILE_SEND_CHECKS, ["sms"])
        .checks(DOCUMENTED_ERROR_CHECKS.iter().copied());
    assert_eq!(expected.len(), 67);
    run_conformance(config(), &expected, |sandbox| async move {
        let service = builder(&sandbox)
            .build_client()
            .unwrap()
            .create_service("conformance.example", "Conformance")
            .await
            .unwrap()
            .id;
        let verifier = build(&sandbox, &service);
        let hasty = service.clone();
        let harness = harness(sandbox, verifier.clone(), move |s| {
            Arc::new(build(s, &service))
        })
        .with_impatient_client(move |s| impatient(s, &hasty))
        .with_documented_errors(documented_errors());
        // Verigator has no sessions: no `SessionResolver` to give.
        Conformance::new(Arc::new(verifier), harness)
    })
    .await;
}
