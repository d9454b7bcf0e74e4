//! The retry policy: exponential backoff with full jitter, honouring `Retry-After`, for safe
//! operations only. Time and randomness are injectable ([`Clock`], [`Jitter`]) for tests.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// When and how often safe operations are retried.
///
/// The delay before retry `n` (0-based) is a uniformly random duration in
/// `[0, min(max_backoff, initial_backoff * 2^n)]` ("full jitter"). When the provider sends
/// `Retry-After`, that delay is used instead, unless it exceeds `max_retry_after`: then the
/// operation is not retried and the error carries the provider's delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included; `1` disables retries (and `0` is taken as `1`).
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// The longest `Retry-After` that is waited for.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the backoff ceilings.
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets the longest `Retry-After` waited for.
    #[must_use]
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// The backoff ceiling before retry `retry` (0-based).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(30));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// The delay before the next attempt after `attempts_made` attempts, or `None` to stop.
    /// `jitter` is a sample in `[0, 1)`. `attempts_made` of 0 is taken as 1 (the first retry's
    /// ceiling).
    pub fn next_delay(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        if attempts_made >= self.max_attempts {
            return None;
        }
        match retry_after {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => Some(self.ceiling(attempts_made.saturating_sub(1)).mul_f64(
                if jitter.is_nan() {
                    0.0
                } else {
                    jitter.clamp(0.0, 1.0)
                },
            )),
        }
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date (relative to `now`; a date in
/// the past means no wait). Delay-seconds past what a `u64` holds are `u64::MAX` seconds: a
/// wait longer than any cap, not a value to ignore.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use phone_verify_core::kit::parse_retry_after;
///
/// let now = UNIX_EPOCH + Duration::from_secs(784_111_767); // Sun, 06 Nov 1994 08:49:27 GMT
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::from_secs(10)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// assert_eq!(parse_retry_after("100000000000000000000", now), Some(Duration::from_secs(u64::MAX)));
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Only an overflow fails the parse of digits.
        return Some(Duration::from_secs(u64::MAX));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A boxed future, as returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The wall clock and timer the HTTP layer uses; replace it in tests to observe or skip waits.
pub trait Clock: Send + Sync + Debug {
    /// The current time (for HTTP-date `Retry-After`).
    fn now(&self) -> SystemTime;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The real clock: `SystemTime::now` and `tokio::time::sleep`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The source of backoff jitter; replace it in tests for exact delays.
pub trait Jitter: Send + Sync + Debug {
    /// A sample in `[0, 1)`.
    fn sample(&self) -> f64;
}

/// Uniform jitter from the thread-local random generator.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn sample(&self) -> f64 {
        rand::random::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nan_jitter_waits_nothing_instead_of_panicking() {
        assert_eq!(
            RetryPolicy::default().next_delay(1, None, f64::NAN),
            Some(Duration::ZERO)
        );
    }

    /// Zero attempts made is not an underflow (a panic in debug builds): the first ceiling.
    #[test]
    fn zero_attempts_made_waits_within_the_first_ceiling() {
        let policy = RetryPolicy::default().with_backoff(ms(100), ms(1000));
        assert_eq!(policy.next_delay(0, None, 0.5), Some(ms(50)));
        assert_eq!(
            policy.next_delay(0, None, 0.5),
            policy.next_delay(1, None, 0.5)
        );
    }

    const fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default()
            .with_max_attempts(10)
            .with_backoff(ms(100), ms(1000));
        let ceilings: Vec<_> = (0..6).map(|n| policy.ceiling(n)).collect();
        assert_eq!(
            ceilings,
            [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
        );
        assert_eq!(policy.ceiling(u32::MAX), ms(1000));
    }

    #[test]
    fn full_jitter_stays_within_bounds() {
        let policy = RetryPolicy::default()
            .with_max_attempts(5)
            .with_backoff(ms(100), ms(1000));
        assert_eq!(policy.next_delay(1, None, 0.0), Some(Duration::ZERO));
        assert_eq!(policy.next_delay(1, None, 0.5), Some(ms(50)));
        assert_eq!(policy.next_delay(3, None, 0.5), Some(ms(200)));
        for sample in [0.0, 0.1, 0.5, 0.999_999] {
            for attempt in 1..5 {
                let delay = policy.next_delay(attempt, None, sample).unwrap();
                assert!(delay <= policy.ceiling(attempt - 1));
            }
        }
        assert_eq!(
            policy.next_delay(1, None, 7.0),
            Some(ms(100)),
            "out-of-range samples are clamped"
        );
    }

    #[test]
    fn attempts_are_counted() {
        let policy = RetryPolicy::default().with_max_attempts(3);
        assert!(policy.next_delay(1, None, 0.5).is_some());
        assert!(policy.next_delay(2, None, 0.5).is_some());
        assert!(policy.next_delay(3, None, 0.5).is_none());
        assert!(RetryPolicy::never().next_delay(1, None, 0.5).is_none());
        assert_eq!(RetryPolicy::default().with_max_attempts(0).max_attempts, 1);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let policy = RetryPolicy::default()
            .with_max_attempts(3)
            .with_max_retry_after(Duration::from_secs(10));
        assert_eq!(
            policy.next_delay(1, Some(Duration::from_secs(7)), 0.0),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            policy.next_delay(1, Some(Duration::from_secs(10)), 0.0),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            policy.next_delay(1, Some(Duration::from_secs(11)), 0.0),
            None
        );
    }

    #[test]
    fn the_retry_after_cap_is_the_one_set() {
        let policy = RetryPolicy::default().with_max_retry_after(Duration::from_secs(20));
        assert_eq!(policy.max_retry_after, Duration::from_secs(20));
        assert_eq!(
            policy.next_delay(1, Some(Duration::from_secs(15)), 0.0),
            Some(Duration::from_secs(15)),
            "over the default cap, within the one set"
        );
        let policy = RetryPolicy::default().with_max_retry_after(Duration::from_secs(2));
        assert_eq!(
            policy.next_delay(1, Some(Duration::from_secs(5)), 0.0),
            None
        );
    }

    #[test]
    fn random_jitter_samples_vary_within_the_unit_interval() {
        let samples: Vec<f64> = (0..64).map(|_| RandomJitter.sample()).collect();
        assert!(
            samples.iter().all(|s| (0.0..1.0).contains(s)),
            "{samples:?}"
        );
        assert!(
            samples.iter().any(|s| s.to_bits() != samples[0].to_bits()),
            "64 equal samples: {samples:?}"
        );
    }

    #[test]
    fn parses_retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_767);
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:57 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:40:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    /// Delay-seconds that overflow a `u64` are the longest wait, which the cap refuses: not
    /// `None`, which a short backoff would retry without the provider's delay.
    #[test]
    fn retry_after_past_u64_is_the_longest_wait() {
        let now = SystemTime::UNIX_EPOCH;
        let longest = Some(Duration::from_secs(u64::MAX));
        assert_eq!(parse_retry_after(&u64::MAX.to_string(), now), longest);
        for huge in [
            "18446744073709551616",
            " 100000000000000000000 ",
            &"9".repeat(400),
        ] {
            assert_eq!(parse_retry_after(huge, now), longest, "{huge}");
        }
        assert_eq!(RetryPolicy::default().next_delay(1, longest, 0.0), None);
        assert_eq!(parse_retry_after("1e30", now), None);
        assert_eq!(parse_retry_after("100000000000000000000s", now), None);
    }
}
