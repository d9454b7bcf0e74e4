//! Conveniences over the core traits, for every implementation and trait object.

use std::time::Duration;

use async_trait::async_trait;

use crate::code::Code;
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::CheckOutcome;
use crate::request::{CheckRequest, RequestContext};
use crate::session::{SessionId, VerifiedPhone};
use crate::verification::Verification;
use crate::verifier::{PhoneVerifier, SessionResolver};

/// Shortcuts over [`PhoneVerifier`], implemented for every verifier, including
/// `Arc<dyn PhoneVerifier>`.
///
/// They send no [`RequestContext`]: where the provider wants the end user's IP (VerifyKit's
/// `X-Vfk-Forwarded-For`), call [`PhoneVerifier::check`] with
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

    /// Polls a reverse flow every `interval` until it is no longer pending, failing with
    /// [`ErrorKind::Timeout`] after `timeout`.
    async fn wait_for_outcome(
        &self,
        verification: &Verification,
        interval: Duration,
        timeout: Duration,
    ) -> Result<CheckOutcome> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let outcome = self.poll(verification).await?;
            if !outcome.is_pending() {
                return Ok(outcome);
            }
            if tokio::time::Instant::now() + interval > deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the user did not complete the verification within {}s",
                        timeout.as_secs_f64()
                    ),
                ));
            }
            tokio::time::sleep(interval).await;
        }
    }
}

impl<T: PhoneVerifier + ?Sized> PhoneVerifierExt for T {}

/// Shortcuts over [`SessionResolver`].
#[async_trait]
pub trait SessionResolverExt: SessionResolver {
    /// Resolves a session with no end-user context.
    async fn resolve_session(&self, session: &SessionId) -> Result<VerifiedPhone> {
        self.resolve(session, &RequestContext::default()).await
    }
}

impl<T: SessionResolver + ?Sized> SessionResolverExt for T {}
