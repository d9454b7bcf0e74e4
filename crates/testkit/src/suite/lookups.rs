//! The checks of lookups under a transient failure: a reverse flow's poll and a session's
//! resolution change nothing at the provider, so a verifier retries them: after the
//! provider's `Retry-After` when it gives one (a 503 or a 429), after a backoff of its own
//! otherwise (a 503 without it, a connection reset before any answer).

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
        // Fails when the harness can tell that the fault was never used: then the check
        // proved nothing.
        self.clear_faults_after_call().await?;
        ensure!(
            outcome.is_ok(),
            "the provider answered a poll with {}, unprocessed: a poll changes nothing, so it \
             must be retried {}; got {}",
            fault.describe(),
            when_retried(fault),
            describe(&outcome)
        );
        self.expect_verified(outcome, &phone, channel)?;
        waited_for_retry_after(fault, waited, "poll")?;
        Ok(None)
    }

    pub(super) async fn resolve_retried(&self, fault: LookupFault) -> Check {
        let resolver = self.require_resolver()?;
        let (phone, handle, session) = self.verified_session().await?;
        self.harness.inject_lookup_fault(&handle, fault).await?;
        let started = Instant::now();
        let found = resolver.resolve(&session, &RequestContext::default()).await;
        let waited = started.elapsed();
        // Fails when the harness can tell that the fault was never used: then the check
        // proved nothing.
        self.clear_faults_after_call().await?;
        if let Err(err) = &found {
            fail!(
                "the provider answered a session's resolution with {}, unprocessed: a \
                 resolution changes nothing, so it must be retried {}; got an error ({err})",
                fault.describe(),
                when_retried(fault)
            );
        }
        self.expect_resolved(found, &phone)?;
        waited_for_retry_after(fault, waited, "resolution")?;
        Ok(None)
    }
}

/// When a lookup answered with `fault` must be retried, for failure messages.
fn when_retried(fault: LookupFault) -> &'static str {
    match fault.retry_after() {
        Some(_) => "once that time has passed",
        None => "after a backoff",
    }
}

/// Fails unless a lookup that succeeded after an injected fault with a `Retry-After` took at
/// least that long: a retry sooner than the provider asked is load it said it cannot take. A
/// fault without `Retry-After` leaves the backoff to the verifier: any wait passes.
fn waited_for_retry_after(
    fault: LookupFault,
    waited: Duration,
    lookup: &str,
) -> Result<(), Verdict> {
    let Some(retry_after) = fault.retry_after() else {
        return Ok(());
    };
    ensure!(
        waited >= retry_after,
        "the {lookup} succeeded {} ms after a {}: the retry did not wait the time the provider \
         asked for",
        waited.as_millis(),
        fault.describe()
    );
    Ok(())
}
