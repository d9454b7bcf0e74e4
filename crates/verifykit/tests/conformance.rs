//! The testkit's conformance suite against the phone-verify sandbox.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy};
use phone_verify_testkit::sandbox::{
    Provider, SandboxConfig, SandboxHandle, SandboxHarness, run_conformance,
};
use phone_verify_testkit::{
    CHECK_FAULT_CHECKS, Conformance, Expected, OTP_CHECKS, PRIVACY_CHECKS, REVERSE_CHECKS,
    REVERSE_FAULT_CHECKS, SEND_CHECKS, SESSION_FAULT_CHECKS, WRONG_CODE_LIMIT_CHECKS,
};
use phone_verify_verifykit::{VerifyKit, VerifyKitBuilder};

/// A verifier for the sandbox. The suite's requests carry no end-user context, so the loopback
/// address stands in for the end user's IP.
fn client(sandbox: &SandboxHandle) -> VerifyKit {
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
    // The checks this provider's capabilities call for, by name, so none silently disappears.
    let expected = Expected::new()
        .checks([
            "input.unsupported_channel_refused[voice]",
            "input.otp_without_phone_refused[sms]",
            "input.foreign_handle_refused",
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
        .checks(SESSION_FAULT_CHECKS.iter().copied());
    assert_eq!(expected.len(), 46);
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
            .with_lookup_endpoint("POST", "/v1.0/result");
        Conformance::resolving(verifier, harness)
    })
    .await;
}
