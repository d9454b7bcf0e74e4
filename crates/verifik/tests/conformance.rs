//! The testkit's conformance suite against the phone-verify sandbox, in both start modes.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy};
use phone_verify_testkit::Report;
use phone_verify_testkit::sandbox::{
    Provider, Sandbox, SandboxConfig, SandboxHandle, SandboxHarness,
};
use phone_verify_verifik::{Mode, Verifik, VerifikBuilder};

/// The project that exists in the sandbox from the start.
const PROJECT: &str = "507f1f77bcf86cd799439011";

fn verifier(sandbox: &SandboxHandle, mode: &Mode) -> Verifik {
    VerifikBuilder::sandbox(&sandbox.base_url())
        .mode(mode.clone())
        .retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .expect("a verifier for the sandbox")
}

/// Runs the suite for `mode`, whose sends go to `send_path`, and checks that every check the
/// capabilities call for ran and passed.
async fn conforms(mode: Mode, send_path: &str, channels: &[&str]) -> Report {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("the sandbox starts");
    let verifik = verifier(&sandbox, &mode);
    let fresh_mode = mode.clone();
    let harness = SandboxHarness::new(sandbox, Provider::Verifik, move |s| {
        Arc::new(verifier(s, &fresh_mode))
    })
    .with_send_endpoint("POST", send_path);
    let report = phone_verify_testkit::run(&verifik, Some(&verifik), &harness).await;
    println!("{report}");
    report.assert_all_passed();
    assert_eq!(
        report.skipped().count(),
        0,
        "the sandbox harness supports every check: {report}"
    );
    let mut expected = vec![
        "input.unsupported_channel_refused[voice]".to_owned(),
        "input.foreign_handle_refused".to_owned(),
        "session.resolves_verified_phone".to_owned(),
        "session.unknown_is_not_found".to_owned(),
    ];
    for c in channels {
        expected.push(format!("input.otp_without_phone_refused[{c}]"));
        expected.push(format!("input.otp_check_without_code_refused[{c}]"));
        for check in [
            "right_code_verifies",
            "wrong_code_rejected",
            "right_code_after_wrong_code",
            "malformed_code_refused",
            "expired_is_rejected",
            "handle_json_round_trip",
            "handle_in_fresh_client",
        ] {
            expected.push(format!("otp.{check}[{c}]"));
        }
        for check in [
            "exactly_once",
            "not_retried_after_503",
            "not_retried_after_reset",
        ] {
            expected.push(format!("send.{check}[{c}]"));
        }
    }
    let names: Vec<&str> = expected.iter().map(String::as_str).collect();
    report.assert_passed(&names);
    assert_eq!(report.results().len(), expected.len(), "{report}");
    report
}

#[tokio::test]
async fn verifik_manual_mode_conforms_on_the_sandbox() {
    conforms(
        Mode::manual(),
        "/v2/phone-validations/manual",
        &["sms", "whatsapp"],
    )
    .await;
}

#[tokio::test]
async fn verifik_project_flow_mode_conforms_on_the_sandbox() {
    conforms(
        Mode::project_flow(PROJECT).unwrap(),
        "/v2/phone-validations",
        &["whatsapp"],
    )
    .await;
}
