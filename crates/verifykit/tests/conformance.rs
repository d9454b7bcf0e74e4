//! The testkit's conformance suite against the phone-verify sandbox.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy};
use phone_verify_testkit::sandbox::{
    Provider, Sandbox, SandboxConfig, SandboxHandle, SandboxHarness,
};
use phone_verify_verifykit::{VerifyKit, VerifyKitBuilder};

/// A verifier for the sandbox. The suite's requests carry no end-user context, so the loopback
/// address stands in for the end user's IP.
fn verifier(sandbox: &SandboxHandle) -> VerifyKit {
    VerifyKitBuilder::sandbox(&sandbox.base_url())
        .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
        .retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .expect("a verifier for the sandbox")
}

#[tokio::test]
async fn verifykit_conforms_on_the_sandbox() {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("the sandbox starts");
    let verifykit = verifier(&sandbox);
    // `send-otp` sends SMS codes; `start` sends WhatsApp codes (and opens reverse flows).
    let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, |s| Arc::new(verifier(s)))
        .with_send_endpoint("POST", "/v1.0/send-otp")
        .with_send_endpoint("POST", "/v1.0/start");
    let report = phone_verify_testkit::run(&verifykit, Some(&verifykit), &harness).await;
    println!("{report}");
    report.assert_all_passed();
    assert_eq!(
        report.skipped().count(),
        0,
        "the sandbox harness supports every check: {report}"
    );
    // The checks this provider's capabilities call for, by name, so none silently disappears.
    let mut expected = vec![
        "input.unsupported_channel_refused[voice]".to_owned(),
        "input.otp_without_phone_refused[sms]".to_owned(),
        "input.foreign_handle_refused".to_owned(),
        "session.resolves_verified_phone".to_owned(),
        "session.unknown_is_not_found".to_owned(),
    ];
    for c in ["sms", "whatsapp"] {
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
    for r in ["whatsapp", "telegram"] {
        for check in [
            "pending_then_verified",
            "qr_code",
            "handle_json_round_trip",
            "handle_in_fresh_client",
        ] {
            expected.push(format!("reverse.{check}[{r}]"));
        }
    }
    let names: Vec<&str> = expected.iter().map(String::as_str).collect();
    report.assert_passed(&names);
    assert_eq!(report.results().len(), expected.len(), "{report}");
}
