//! What the sandbox tests share: the sandbox's clock, and a verifier on the sandbox that tells
//! expiry by it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use phone_verify_core::http::{Clock, ConfigureHttp, HttpConfig, RetryPolicy, Sleep};
use phone_verify_sandbox::SandboxHandle;
use phone_verify_twilio::{Twilio, TwilioBuilder};

/// The sandbox's clock, the time of the emulated Twilio, which tests move.
#[derive(Debug)]
pub(crate) struct SandboxClock(pub(crate) Arc<SandboxHandle>);

impl Clock for SandboxClock {
    fn now(&self) -> SystemTime {
        self.0.now().into()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A builder for the sandbox's Twilio (its account and default service), telling expiry by the
/// sandbox's clock and retrying safe operations without long waits.
pub(crate) fn builder(sandbox: &Arc<SandboxHandle>) -> TwilioBuilder {
    TwilioBuilder::sandbox(&sandbox.base_url())
        .http_config(HttpConfig::default().with_clock(Arc::new(SandboxClock(Arc::clone(sandbox)))))
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
