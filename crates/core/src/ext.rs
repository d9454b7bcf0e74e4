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

/// The least time [`PhoneVerifierExt::wait_for_outcome`] gives a poll to answer, even past its
/// timeout: the last poll is made at the timeout itself.
const POLL_GRACE: Duration = Duration::from_secs(2);

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
    /// the flow as pending then is not believed; it is polled once more at the expiry, so a
    /// flow completed just before is verified). A poll comes at `timeout` itself too, when
    /// the last one answered before it, so a flow completed between polls is seen; a pending
    /// answer to a poll made then (or after) ends the wait with [`ErrorKind::Timeout`]. A poll
    /// may take until `timeout`, or 2 seconds from its start if that is later (so the poll at
    /// the timeout has its 2 seconds, and the wait ends at most that long past it); one still
    /// unanswered then is dropped (a poll is a read) and the wait fails with
    /// [`ErrorKind::Timeout`]. An `interval` of zero is refused with
    /// [`ErrorKind::InvalidInput`] before any poll.
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
        if interval.is_zero() {
            return Err(Error::invalid_input(
                "the interval between polls must be longer than zero",
            ));
        }
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
        let timed_out = |waiting_for: &str| {
            Error::new(
                ErrorKind::Timeout,
                format!("{waiting_for} within {}s", timeout.as_secs_f64()),
            )
        };
        loop {
            let poll = self.check(verification, &request);
            // Until the deadline, but never less than the grace: the poll at the deadline
            // itself is answered, not dropped at once.
            let answer_by = deadline.max(after(tokio::time::Instant::now(), POLL_GRACE));
            let Ok(outcome) = tokio::time::timeout_at(answer_by, poll).await else {
                return Err(timed_out("the provider did not answer a poll"));
            };
            let outcome = outcome?;
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
            if now >= deadline {
                return Err(timed_out("the user did not complete the verification"));
            }
            let next = after(now, interval).min(deadline);
            let wake = expiry.map_or(next, |at| next.min(at));
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::{Capabilities, Channel, ProviderId, StartRequest, Verified};

    /// A reverse flow pending for `pending` polls, then verified; with `hang`, a provider that
    /// never answers a poll.
    #[derive(Debug)]
    struct Flow {
        pending: usize,
        hang: bool,
        polls: AtomicUsize,
    }

    impl Flow {
        fn new(pending: usize, hang: bool) -> Self {
            Self {
                pending,
                hang,
                polls: AtomicUsize::new(0),
            }
        }

        fn polls(&self) -> usize {
            self.polls.load(Ordering::SeqCst)
        }
    }

    #[async_trait]
    impl PhoneVerifier for Flow {
        fn provider(&self) -> ProviderId {
            ProviderId::new_static("flow")
        }

        fn capabilities(&self) -> Capabilities {
            Capabilities::new().with_reverse_channel(Channel::WhatsApp)
        }

        async fn start(&self, _: &StartRequest) -> Result<Verification> {
            Err(Error::unsupported("not started here"))
        }

        async fn check(&self, _: &Verification, _: &CheckRequest) -> Result<CheckOutcome> {
            let polls = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
            if self.hang {
                std::future::pending::<()>().await;
            }
            Ok(if polls > self.pending {
                CheckOutcome::Verified(Verified::new(Channel::WhatsApp))
            } else {
                CheckOutcome::Pending
            })
        }
    }

    fn handle() -> Verification {
        Verification::new(ProviderId::new_static("flow"), "ref-1", Channel::WhatsApp)
    }

    /// `wait`, or a failure of the test if it has not ended an hour (of paused time) on.
    async fn within_an_hour(
        wait: impl Future<Output = Result<CheckOutcome>>,
    ) -> Result<CheckOutcome> {
        tokio::time::timeout(Duration::from_secs(3600), wait)
            .await
            .expect("the wait ended")
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_interval_is_refused_before_any_poll() {
        let flow = Flow::new(2, false);
        let handle = handle();
        let wait = flow.wait_for_outcome(&handle, Duration::ZERO, Duration::from_secs(5));
        let err = within_an_hour(wait).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert_eq!(flow.polls(), 0);
        // Any other interval polls.
        let wait = flow.wait_for_outcome(&handle, Duration::from_nanos(1), Duration::MAX);
        assert!(within_an_hour(wait).await.unwrap().is_verified());
        assert_eq!(flow.polls(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_poll_unanswered_at_the_timeout_ends_the_wait() {
        let flow = Flow::new(0, true);
        let handle = handle();
        let started = tokio::time::Instant::now();
        let wait = flow.wait_for_outcome(&handle, Duration::from_secs(2), Duration::from_secs(5));
        let err = within_an_hour(wait).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(err.to_string().contains("did not answer a poll"), "{err}");
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(flow.polls(), 1);
    }

    /// A flow that answers each poll after `delay`, verified from `completes_at` on (since
    /// its creation), recording when each poll came.
    #[derive(Debug)]
    struct Timed {
        created: tokio::time::Instant,
        delay: Duration,
        completes_at: Duration,
        polls: std::sync::Mutex<Vec<Duration>>,
    }

    impl Timed {
        fn new(delay: Duration, completes_at: Duration) -> Self {
            Self {
                created: tokio::time::Instant::now(),
                delay,
                completes_at,
                polls: std::sync::Mutex::default(),
            }
        }

        fn polls(&self) -> Vec<Duration> {
            self.polls.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl PhoneVerifier for Timed {
        fn provider(&self) -> ProviderId {
            ProviderId::new_static("flow")
        }

        fn capabilities(&self) -> Capabilities {
            Capabilities::new().with_reverse_channel(Channel::WhatsApp)
        }

        async fn start(&self, _: &StartRequest) -> Result<Verification> {
            Err(Error::unsupported("not started here"))
        }

        async fn check(&self, _: &Verification, _: &CheckRequest) -> Result<CheckOutcome> {
            let at = self.created.elapsed();
            self.polls.lock().unwrap().push(at);
            tokio::time::sleep(self.delay).await;
            Ok(if at >= self.completes_at {
                CheckOutcome::Verified(Verified::new(Channel::WhatsApp))
            } else {
                CheckOutcome::Pending
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_poll_comes_at_the_timeout_and_has_time_to_answer() {
        let second = Duration::from_secs(1);
        let flow = Timed::new(Duration::from_millis(100), Duration::MAX);
        let handle = handle();
        let wait = flow.wait_for_outcome(&handle, 2 * second, 5 * second);
        let err = within_an_hour(wait).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(err.to_string().contains("did not complete"), "{err}");
        let ms = Duration::from_millis;
        assert_eq!(flow.polls(), [ms(0), ms(2100), ms(4200), ms(5000)]);
        assert_eq!(
            flow.created.elapsed(),
            ms(5100),
            "after the last poll's answer"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_flow_completed_between_the_last_interval_and_the_timeout_is_seen() {
        let second = Duration::from_secs(1);
        let flow = Timed::new(Duration::ZERO, Duration::from_millis(4500));
        let handle = handle();
        let wait = flow.wait_for_outcome(&handle, 2 * second, 5 * second);
        assert!(within_an_hour(wait).await.unwrap().is_verified());
        assert_eq!(
            flow.polls(),
            [Duration::ZERO, 2 * second, 4 * second, 5 * second]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_poll_at_the_timeout_unanswered_within_the_grace_ends_the_wait() {
        let second = Duration::from_secs(1);
        let flow = Timed::new(3 * second, Duration::MAX);
        let handle = handle();
        let wait = flow.wait_for_outcome(&handle, 2 * second, 4 * second);
        let err = within_an_hour(wait).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(err.to_string().contains("did not answer a poll"), "{err}");
        // Polls at 0 (answered at 3 s) and at 4 s, dropped 2 s on.
        assert_eq!(flow.polls(), [Duration::ZERO, 4 * second]);
        assert_eq!(flow.created.elapsed(), 6 * second);
    }

    #[tokio::test(start_paused = true)]
    async fn a_poll_unanswered_past_the_expiry_is_a_timeout_not_a_rejection() {
        // The answer is lost, not a rejection: the flow may have completed before the expiry.
        let flow = Flow::new(0, true);
        let expiring =
            handle().with_expires_at(time::OffsetDateTime::now_utc() + time::Duration::seconds(7));
        let wait =
            flow.wait_for_outcome(&expiring, Duration::from_secs(2), Duration::from_secs(10));
        let err = within_an_hour(wait).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert_eq!(flow.polls(), 1);
    }
}
