//! The checks of expiry: once the provider's clock passes a handle's `expires_at`, its code,
//! or its reverse flow, is `Rejected(Expired)`: an outcome, not an error (contract rule 3).

use std::time::Duration;

use phone_verify_core::time::OffsetDateTime;
use phone_verify_core::{
    Channel, CheckOutcome, ErrorKind, PhoneVerifierExt, RejectReason, Verification,
};

use super::{Check, Suite, Verdict, describe, is_rejected};

impl Suite<'_> {
    pub(super) async fn expired_is_rejected(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (_, handle) = self.start_otp(channel).await?;
        let code = self.code_for(&handle).await?;
        let by = beyond_expiry(&handle)?;
        self.harness.advance_time(by).await?;
        let outcome = self.verifier.check_code(&handle, &code).await;
        expect_expired(&outcome, by, "the right code")
    }

    pub(super) async fn reverse_expired_is_rejected(&self, channel: &Channel) -> Check {
        let handle = self.start_reverse(channel).await?;
        let by = beyond_expiry(&handle)?;
        self.harness.advance_time(by).await?;
        let outcome = self.verifier.poll(&handle).await;
        expect_expired(&outcome, by, "a poll of the flow the user never completed")
    }
}

/// How far to move the provider's clock for `handle` to have expired: how long it was valid
/// when created (`expires_at - created_at`, both on the provider's clock, which earlier checks
/// have moved, so never measured against the real time), plus a minute for providers that
/// round expiry times. Skipped without `expires_at`.
fn beyond_expiry(handle: &Verification) -> Result<Duration, Verdict> {
    let Some(expires_at) = handle.expires_at else {
        return Err(Verdict::Skip(
            "the handle has no expires_at, so the suite cannot tell how far to move the clock"
                .into(),
        ));
    };
    Ok(Duration::from_secs(
        validity_secs(handle.created_at, expires_at) + 60,
    ))
}

/// How long a handle created at `created_at` is valid, in whole seconds.
fn validity_secs(created_at: OffsetDateTime, expires_at: OffsetDateTime) -> u64 {
    (expires_at - created_at)
        .max(phone_verify_core::time::Duration::ZERO)
        .unsigned_abs()
        .as_secs()
}

/// Passes if `outcome`, of `what` after moving the clock `by`, is `Ok(Rejected(Expired))`.
fn expect_expired(
    outcome: &phone_verify_core::Result<CheckOutcome>,
    by: Duration,
    what: &str,
) -> Check {
    match outcome {
        _ if is_rejected(outcome, RejectReason::Expired) => Ok(None),
        Err(err) if err.kind() == ErrorKind::Expired => fail!(
            "an expired verification must be Ok(Rejected(Expired)) (contract rule 3, \
             outcomes not errors), got the error {err}"
        ),
        other => fail!(
            "{what} after moving the clock {}s, past expires_at: expected rejected \
             (Expired), got {}",
            by.as_secs(),
            describe(other)
        ),
    }
}

#[cfg(test)]
mod tests {
    use phone_verify_core::time::Duration;

    use super::*;

    /// The validity is the handle's own, however far the provider's clock has moved.
    #[test]
    fn validity_is_measured_from_the_handles_creation() {
        let created = OffsetDateTime::now_utc() + Duration::hours(5);
        assert_eq!(validity_secs(created, created + Duration::minutes(10)), 600);
        assert_eq!(validity_secs(created, created - Duration::minutes(1)), 0);
    }
}
