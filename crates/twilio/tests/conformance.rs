//! The testkit's conformance suite against the sandbox's Twilio Verify v2 emulation.
//!
//! The sandbox's Twilio delivers SMS, WhatsApp and voice-call codes to its outbox under the
//! verification SID (`VE…`), the handle's reference, so the testkit's `SandboxHarness` reads
//! them as it does for the other providers; a send is `POST /v2/Services/{ServiceSid}/Verifications`.
//! Twilio forgets an expired verification (`20404`, like an unknown one), so the verifier tells
//! expiry by its clock: here the sandbox's, which the suite moves.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use phone_verify_core::Channel;
use phone_verify_core::http::{Clock, ConfigureHttp, RetryPolicy, Sleep};
use phone_verify_testkit::sandbox::{
    Provider, SandboxConfig, SandboxHandle, SandboxHarness, run_conformance,
};
use phone_verify_testkit::{Conformance, Expected, OTP_CHECKS, SEND_CHECKS};
use phone_verify_twilio::{Twilio, TwilioBuilder};

/// The sandbox's clock, the time of the emulated Twilio.
#[derive(Debug)]
struct SandboxClock(Arc<SandboxHandle>);

impl Clock for SandboxClock {
    fn now(&self) -> SystemTime {
        self.0.now().into()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A verifier for the sandbox's Twilio, with its account and default service.
fn client(sandbox: &Arc<SandboxHandle>) -> Twilio {
    TwilioBuilder::sandbox(&sandbox.base_url())
        .clock(Arc::new(SandboxClock(Arc::clone(sandbox))))
        .retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .expect("a verifier for the sandbox")
}

#[tokio::test]
async fn twilio_conforms_on_the_sandbox() {
    // Twilio has OTP channels only (no reverse flows, no session resolution).
    let channels = ["sms", "whatsapp", "voice"];
    let expected = Expected::new()
        .checks([
            "input.unsupported_channel_refused[telegram]",
            "input.foreign_handle_refused",
        ])
        .per_channel(&["input.otp_without_phone_refused"], channels)
        .per_channel(OTP_CHECKS, channels)
        .per_channel(SEND_CHECKS, channels);
    assert_eq!(expected.len(), 38);
    run_conformance(SandboxConfig::default(), &expected, |sandbox| async move {
        let verifier = Arc::new(client(&sandbox));
        let shared = Arc::clone(&sandbox);
        let harness = SandboxHarness::new(sandbox, Provider::Twilio, move |_| {
            Arc::new(client(&shared))
        })
        .with_code_channels([Channel::Sms, Channel::WhatsApp, Channel::Voice])
        .with_send_endpoint("POST", "/v2/Services/*/Verifications");
        Conformance::new(verifier, harness)
    })
    .await;
}
