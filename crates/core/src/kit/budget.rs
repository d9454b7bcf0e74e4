//! [`TimeBudget`]: what is left of a call's overall timeout, for the work a verifier does after
//! the call's answer was lost (reading it back, checking once more).

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::http::{Clock, Timeouts};

/// What is left of a call's overall timeout ([`Timeouts::overall`], counted from the call's
/// start), and at least [`TimeBudget::FLOOR`] (or the attempt timeout, when shorter): so a
/// call whose answer was lost ends within its overall timeout, or that floor after the answer
/// was lost. Work is raced against the HTTP settings' clock ([`Clock::sleep`], as backoff is
/// timed), so a test clock whose sleeps end at once leaves no time.
pub struct TimeBudget<'a> {
    /// When it is spent; `None` past what `Instant` can hold (no bound).
    ends: Option<Instant>,
    clock: &'a dyn Clock,
}

impl<'a> TimeBudget<'a> {
    /// The least time given, when the call used up its overall timeout already.
    pub const FLOOR: Duration = Duration::from_secs(1);

    /// What is left, under `timeouts` and timed by `clock`, of a call started at `started`.
    pub fn after(started: Instant, timeouts: &Timeouts, clock: &'a dyn Clock) -> Self {
        let left = timeouts
            .overall
            .saturating_sub(started.elapsed())
            .max(Self::FLOOR.min(timeouts.attempt));
        Self {
            ends: Instant::now().checked_add(left),
            clock,
        }
    }

    /// What is left now; `None` without a bound.
    pub fn left(&self) -> Option<Duration> {
        self.ends
            .map(|ends| ends.saturating_duration_since(Instant::now()))
    }

    /// Whether `needed` fits in what is left: a consuming call starts only if its whole
    /// attempt does, so that the budget's end never cuts it off midway.
    pub fn fits(&self, needed: Duration) -> bool {
        self.left().is_none_or(|left| left >= needed)
    }

    /// `work`'s output, or `None` when the budget ends first (`work` is then dropped).
    pub async fn within<F: Future>(&self, work: F) -> Option<F::Output> {
        let Some(left) = self.left() else {
            return Some(work.await);
        };
        if left.is_zero() {
            return None;
        }
        let mut work = pin!(work);
        let mut spent = self.clock.sleep(left);
        poll_fn(|cx| {
            if let Poll::Ready(done) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(done));
            }
            spent.as_mut().poll(cx).map(|()| None)
        })
        .await
    }
}

impl std::fmt::Debug for TimeBudget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeBudget")
            .field("left", &self.left())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::future::pending;

    use super::*;
    use crate::http::SystemClock;

    fn timeouts(overall: u64, attempt: u64) -> Timeouts {
        Timeouts::default()
            .with_overall(Duration::from_millis(overall))
            .with_attempt(Duration::from_millis(attempt))
    }

    #[tokio::test]
    async fn what_is_left_of_the_overall_timeout_at_least_the_floor() {
        let clock = SystemClock;
        let started = Instant::now();
        let budget = TimeBudget::after(started, &timeouts(60_000, 10_000), &clock);
        let left = budget.left().unwrap();
        assert!(
            left > Duration::from_secs(59) && left <= Duration::from_secs(60),
            "{left:?}"
        );
        assert!(budget.fits(Duration::from_secs(10)));
        assert!(!budget.fits(Duration::from_secs(61)));
        // Spent already: the floor, or the attempt timeout when shorter.
        let long_ago = started.checked_sub(Duration::from_secs(120)).unwrap();
        let floor = TimeBudget::after(long_ago, &timeouts(60_000, 10_000), &clock);
        assert!(floor.left().unwrap() <= TimeBudget::FLOOR);
        assert!(floor.left().unwrap() > Duration::from_millis(900));
        let short = TimeBudget::after(long_ago, &timeouts(60_000, 200), &clock);
        assert!(short.left().unwrap() <= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn work_past_the_budget_is_dropped() {
        let clock = SystemClock;
        let long_ago = Instant::now()
            .checked_sub(Duration::from_secs(120))
            .unwrap();
        let budget = TimeBudget::after(long_ago, &timeouts(1_000, 50), &clock);
        assert_eq!(budget.within(async { 7 }).await, Some(7));
        let started = Instant::now();
        assert_eq!(budget.within(pending::<()>()).await, None);
        assert!(started.elapsed() < Duration::from_secs(5));
        // Spent: nothing more starts.
        assert_eq!(budget.within(async { 7 }).await, None);
    }
}
