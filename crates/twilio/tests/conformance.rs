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

use phone_verify_core::Channel;
use phone_verify_core::http::{ConfigureHttp, Timeouts};
use phone_verify_testkit::sandbox::{Provider, SandboxConfig, SandboxHarness, run_conformance};
use phone_verify_testkit::{
    CHECK_FAULT_CHECKS, Conformance, Expected, HOSTILE_CHECK_CHECKS, HOSTILE_SEND_CHECKS,
    ImpatientClient, OTP_CHECKS, PRIVACY_CHECKS, SEND_CHECKS, WRONG_CODE_LIMIT_CHECKS,
};

/// How soon the impatient client gives up on an answer: its overall timeout.
const GIVES_UP_WITHIN: Duration = Duration::from_secs(2);

#[tokio::test]
async fn twilio_conforms_on_the_sandbox() {
    // Twilio has OTP channels only (no reverse flows, no session resolution).
    let channels = ["sms", "whatsapp", "voice"];
    let expected = Expected::new()
        .checks([
            "input.unsupported_channel_refused[telegram]",
            "input.foreign_handle_refused",
            "input.hostile_handle_refused",
        ])
        .per_channel(&["input.otp_without_phone_refused"], channels)
        .checks(PRIVACY_CHECKS.iter().copied())
        .per_channel(OTP_CHECKS, channels)
        .per_channel(CHECK_FAULT_CHECKS, channels)
        .per_channel(WRONG_CODE_LIMIT_CHECKS, channels)
        .per_channel(SEND_CHECKS, channels)
        .per_channel(HOSTILE_CHECK_CHECKS, channels)
        .per_channel(HOSTILE_SEND_CHECKS, channels);
    assert_eq!(expected.len(), 62);
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
        .with_check_endpoint("POST", "/v2/Services/*/VerificationCheck");
        Conformance::new(verifier, harness)
    })
    .await;
}
