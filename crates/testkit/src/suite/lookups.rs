//! The checks of lookups under a transient failure: a reverse flow's poll and a session's
//! resolution change nothing at the provider, so a verifier retries them, after the
//! provider's `Retry-After`.

use std::time::{Duration, Instant};

use phone_verify_core::{Channel, PhoneVerifierExt, RequestContext};

use super::{Check, LookupFault, Suite, Verdict, describe};

impl Suite<'_> {
    pub(super) async fn poll_retried(&self, channel: &Channel, fault: LookupFault) -> Check {
        let handle = self.start_reverse(channel).await?;
        let phone = self.phone().await?;
        self.harness.complete_reverse_flow(&handle, &phone).await?;
        self.harness.inject_lookup_fault(&handle, fault).await?;
        let started = Instant::now();
        let outcome = self.verifier.poll(&handle).await;
        let waited = started.elapsed();
        // Fails when the fault was never used: then the check proved nothing.
        self.harness.clear_faults().await?;
        ensure!(
            outcome.is_ok(),
            "the provider answered a poll 503 with Retry-After: {}, unprocessed: a poll changes \
             nothing, so it must be retried once that time has passed; got {}",
            LookupFault::RETRY_AFTER.as_secs(),
            describe(&outcome)
        );
        self.expect_verified(outcome, &phone, channel)?;
        waited_for_retry_after(waited, "poll")?;
        Ok(None)
    }

    pub(super) async fn resolve_retried(&self, fault: LookupFault) -> Check {
        let resolver = self.require_resolver()?;
        let (phone, handle, session) = self.verified_session().await?;
        self.harness.inject_lookup_fault(&handle, fault).await?;
        let started = Instant::now();
        let found = resolver.resolve(&session, &RequestContext::default()).await;
        let waited = started.elapsed();
        // Fails when the fault was never used: then the check proved nothing.
        self.harness.clear_faults().await?;
        if let Err(err) = &found {
            fail!(
                "the provider answered a session's resolution 503 with Retry-After: {}, \
                 unprocessed: a resolution changes nothing, so it must be retried once that time \
                 has passed; got an error ({err})",
                LookupFault::RETRY_AFTER.as_secs()
            );
        }
        self.expect_resolved(found, &phone)?;
        waited_for_retry_after(waited, "resolution")?;
        Ok(None)
    }
}

/// Fails unless a lookup that succeeded after an injected fault took at least the fault's
/// `Retry-After`: a retry sooner than the provider asked is load it said it cannot take.
fn waited_for_retry_after(waited: Duration, lookup: &str) -> Result<(), Verdict> {
    ensure!(
        waited >= LookupFault::RETRY_AFTER,
        "the {lookup} succeeded {} ms after a 503 with Retry-After: {}: the retry did not wait \
         the time the provider asked for",
        waited.as_millis(),
        LookupFault::RETRY_AFTER.as_secs()
    );
    Ok(())
}
