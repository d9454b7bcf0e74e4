//! Conveniences over the core traits, for every implementation and trait object.

use std::time::Duration;

use async_trait::async_trait;

use crate::code::Code;
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::{CheckOutcome, RejectReason, Rejection};
use crate::request::{CheckRequest, RequestContext};
use crate::session::{ResolvedSession, SessionId};
use crate::verification::Verification;
use crate::verifier::{PhoneVerifier, SessionResolver};

/// What [`PhoneVerifierExt::wait_for_outcome`] waits for a time past what the clock holds: 30
/// years (946,080,000 s).
const NEVER: Duration = Duration::from_secs(946_080_000);

/// Shortcuts over [`PhoneVerifier`], implemented for every verifier, including
/// `Arc<dyn PhoneVerifier>`.
///
/// They send no [`RequestContext`], but for
/// [`wait_for_outcome_with`](Self::wait_for_outcome_with): where the provider wants the end
/// user's IP (VerifyKit's `X-Vfk-Forwarded-For`), call [`PhoneVerifier::check`] with
/// `CheckRequest::code(code).context(context)`.
///
/// ```
/// # async fn demo(verifier: std::sync::Arc<dyn phone_verify_core::PhoneVerifier>,
/// #               handle: phone_verify_core::Verification) -> phone_verify_core::Result<()> {
/// use phone_verify_core::{Code, PhoneVerifierExt};
///
/// let outcome = verifier.check_code(&handle, &Code::new("123456")?).await?;
/// if outcome.is_verified() { /* mark the phone verified */ }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait PhoneVerifierExt: PhoneVerifier {
    /// Checks the code the user typed.
    async fn check_code(&self, verification: &Verification, code: &Code) -> Result<CheckOutcome> {
        self.check(verification, &CheckRequest::code(code.clone()))
            .await
    }

    /// Polls a reverse flow once.
    async fn poll(&self, verification: &Verification) -> Result<CheckOutcome> {
        self.check(verification, &CheckRequest::poll()).await
    }

    /// Polls a reverse flow every `interval` until it is no longer pending, and stops at the
    /// earlier of `timeout` and the handle's `expires_at`.
    ///
    /// Past the handle's expiry it answers `Rejected(Expired)` (a verifier that still reports
    /// the flow as pending then is not believed); past `timeout` it fails with
    /// [`ErrorKind::Timeout`].
    async fn wait_for_outcome(
        &self,
        verification: &Verification,
        interval: Duration,
        timeout: Duration,
    ) -> Result<CheckOutcome> {
        let context = RequestContext::default();
        self.wait_for_outcome_with(verification, &context, interval, timeout)
            .await
    }

    /// [`wait_for_outcome`](Self::wait_for_outcome), each poll carrying `context` (the end
    /// user's IP, which VerifyKit asks for on every request, when the user is waiting on the
    /// other side of this request).
    async fn wait_for_outcome_with(
        &self,
        verification: &Verification,
        context: &RequestContext,
        interval: Duration,
        timeout: Duration,
    ) -> Result<CheckOutcome> {
        let request = CheckRequest::poll().context(context.clone());
        // A wait past what the clock holds (a timeout of `Duration::MAX`) ends 30 years on.
        let after = |from: tokio::time::Instant, wait: Duration| {
            from.checked_add(wait).unwrap_or_else(|| from + NEVER)
        };
        let deadline = after(tokio::time::Instant::now(), timeout);
        let expiry = verification.expires_at.map(|at| {
            let left = at - time::OffsetDateTime::now_utc();
            after(
                tokio::time::Instant::now(),
                Duration::try_from(left).unwrap_or(Duration::ZERO),
            )
        });
        loop {
            let outcome = self.check(verification, &request).await?;
            if !outcome.is_pending() {
                return Ok(outcome);
            }
            let now = tokio::time::Instant::now();
            if expiry.is_some_and(|at| now >= at) {
                return Ok(CheckOutcome::Rejected(
                    Rejection::new(RejectReason::Expired)
                        .with_message("the verification expired before the user completed it"),
                ));
            }
            let next = after(now, interval);
            let wake = expiry.map_or(next, |at| next.min(at));
            if wake > deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the user did not complete the verification within {}s",
                        timeout.as_secs_f64()
                    ),
                ));
            }
            tokio::time::sleep_until(wake).await;
        }
    }
}

impl<T: PhoneVerifier + ?Sized> PhoneVerifierExt for T {}

/// Shortcuts over [`SessionResolver`].
#[async_trait]
pub trait SessionResolverExt: SessionResolver {
    /// Resolves a session with no end-user context.
    async fn resolve_session(&self, session: &SessionId) -> Result<ResolvedSession> {
        self.resolve(session, &RequestContext::default()).await
    }
}

impl<T: SessionResolver + ?Sized> SessionResolverExt for T {}
