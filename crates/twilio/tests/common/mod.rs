//! What the sandbox tests share: a verifier on the sandbox that tells expiry by the sandbox's
//! clock.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, HttpConfig, RetryPolicy};
use phone_verify_sandbox::SandboxHandle;
use phone_verify_twilio::{Twilio, TwilioBuilder};

/// A builder for the sandbox's Twilio (its account and default service), telling expiry by the
/// sandbox's clock (the time of the emulated Twilio, which tests move) and retrying safe
/// operations without long waits.
pub(crate) fn builder(sandbox: &Arc<SandboxHandle>) -> TwilioBuilder {
    TwilioBuilder::sandbox(&sandbox.base_url())
        .http_config(HttpConfig::default().with_clock(sandbox.clock()))
        .retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
}

/// A verifier for the sandbox's Twilio.
pub(crate) fn verifier(sandbox: &Arc<SandboxHandle>) -> Twilio {
    builder(sandbox)
        .build()
        .expect("a verifier for the sandbox")
}
