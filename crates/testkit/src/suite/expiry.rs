//! The checks of expiry: once the provider's clock passes a handle's `expires_at`, its code,
//! or its reverse flow, is `Rejected(Expired)`: an outcome, not an error (contract rule 3);
//! until a minute before it, the right code still verifies.

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
        self.advance_time(by).await?;
        let outcome = self.verifier.check_code(&handle, &code).await;
        expect_expired(&outcome, by, "the right code")
    }

    /// A minute before the handle's `expires_at` on the provider's clock, the right code still
    /// verifies: a handle that claims a later expiry than the provider's fails.
    pub(super) async fn valid_until_expires_at(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (phone, handle) = self.start_otp(channel).await?;
        let by = self.short_of_expiry(&handle)?;
        self.advance_time(by).await?;
        // Read after the move: a TOTP code is the one of the provider's time.
        let code = self.code_for(&handle).await?;
        let outcome = self.verifier.check_code(&handle, &code).await;
        self.expect_verified(outcome, &phone, channel)
            .map_err(|v| match v {
                Verdict::Fail(reason) => Verdict::Fail(format!(
                    "the right code {}s after the start, a minute before the handle's \
                     expires_at: {reason} (the handle must not claim a later expiry than the \
                     provider's)",
                    by.as_secs()
                )),
                other @ Verdict::Skip(_) => other,
            })?;
        Ok(None)
    }

    pub(super) async fn reverse_expired_is_rejected(&self, channel: &Channel) -> Check {
        let handle = self.start_reverse(channel).await?;
        let by = beyond_expiry(&handle)?;
        self.advance_time(by).await?;
        let outcome = self.verifier.poll(&handle).await;
        expect_expired(&outcome, by, "a poll of the flow the user never completed")
    }
}

/// How far to move the provider's clock for `handle` to have expired: its validity
/// ([`validity`]) plus a minute for providers that round expiry times.
fn beyond_expiry(handle: &Verification) -> Result<Duration, Verdict> {
    Ok(Duration::from_secs(validity(handle)? + 60))
}

impl Suite<'_> {
    /// Moves the provider's clock by `by`, and counts it.
    pub(super) async fn advance_time(&self, by: Duration) -> Result<(), Verdict> {
        self.harness.advance_time(by).await?;
        let mut advanced = self
            .advanced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *advanced = advanced.saturating_add(by);
        Ok(())
    }

    /// How far to move the provider's clock for `handle` to be a minute short of its
    /// `expires_at`: the least of its validity ([`validity`]) and the time left until it on
    /// the provider's clock (the real time plus what the suite moved it by: a handle may take
    /// `created_at` from this machine's clock and `expires_at` from the provider's), less a
    /// minute. Skipped with a minute or less left, too short to tell.
    pub(super) fn short_of_expiry(&self, handle: &Verification) -> Result<Duration, Verdict> {
        let advanced = *self
            .advanced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let provider_now = OffsetDateTime::now_utc() + advanced;
        let left = handle
            .expires_at
            .map_or(0, |expires_at| validity_secs(provider_now, expires_at));
        let validity = validity(handle)?;
        // A harness that puts its clock back between checks makes `advanced` too large, and
        // `left` too small: then the validity alone.
        minute_short(if left > 60 {
            validity.min(left)
        } else {
            validity
        })
    }
}

/// `validity` seconds less a minute, skipped when that leaves nothing.
fn minute_short(validity: u64) -> Result<Duration, Verdict> {
    match validity.checked_sub(60) {
        Some(secs @ 1..) => Ok(Duration::from_secs(secs)),
        _ => Err(Verdict::Skip(format!(
            "the handle is valid for {validity}s, no more than the minute short of expires_at \
             the check leaves"
        ))),
    }
}

/// How long `handle` was valid when created (`expires_at - created_at`, both on the
/// provider's clock, which earlier checks have moved, so never measured against the real
/// time), in whole seconds. Skipped without `expires_at`.
fn validity(handle: &Verification) -> Result<u64, Verdict> {
    let Some(expires_at) = handle.expires_at else {
        return Err(Verdict::Skip(
            "the handle has no expires_at, so the suite cannot tell how far to move the clock"
                .into(),
        ));
    };
    Ok(validity_secs(handle.created_at, expires_at))
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
