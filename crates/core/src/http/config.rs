//! [`HttpConfig`] and [`Timeouts`]: how every provider client talks HTTP.

use std::sync::Arc;
use std::time::Duration;

use super::retry::{Clock, Jitter, RandomJitter, RetryPolicy, SystemClock};

/// Time limits; all three are always set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// To establish a connection (TCP and TLS). Applies to clients this crate builds.
    pub connect: Duration,
    /// For one attempt, from sending the request to the end of the response body.
    pub attempt: Duration,
    /// For a whole operation, retries and backoff included.
    pub overall: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            attempt: Duration::from_secs(10),
            overall: Duration::from_secs(30),
        }
    }
}

impl Timeouts {
    /// Sets the connect timeout.
    #[must_use]
    pub fn with_connect(mut self, timeout: Duration) -> Self {
        self.connect = timeout;
        self
    }

    /// Sets the per-attempt timeout.
    #[must_use]
    pub fn with_attempt(mut self, timeout: Duration) -> Self {
        self.attempt = timeout;
        self
    }

    /// Sets the overall timeout.
    #[must_use]
    pub fn with_overall(mut self, timeout: Duration) -> Self {
        self.overall = timeout;
        self
    }
}

/// The HTTP settings a provider client uses.
///
/// ```
/// use std::time::Duration;
/// use phone_verify_core::http::{HttpConfig, RetryPolicy, Timeouts};
///
/// let config = HttpConfig::default()
///     .with_timeouts(Timeouts::default().with_attempt(Duration::from_secs(5)))
///     .with_retry(RetryPolicy::default().with_max_attempts(4));
/// assert_eq!(config.retry.max_attempts, 4);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Time limits.
    pub timeouts: Timeouts,
    /// Retries of safe operations.
    pub retry: RetryPolicy,
    /// The largest response body accepted, in bytes.
    pub max_response_bytes: usize,
    /// The `User-Agent` sent.
    pub user_agent: String,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) jitter: Arc<dyn Jitter>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            max_response_bytes: 1024 * 1024,
            user_agent: concat!("phone-verify/", env!("CARGO_PKG_VERSION")).to_owned(),
            clock: Arc::new(SystemClock),
            jitter: Arc::new(RandomJitter),
        }
    }
}

impl HttpConfig {
    /// Sets the time limits.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the response size cap.
    #[must_use]
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Sets the `User-Agent`.
    #[must_use]
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Replaces the clock (for tests: record or skip backoff waits).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the jitter source (for tests: exact backoff delays).
    #[must_use]
    pub fn with_jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = jitter;
        self
    }
}
