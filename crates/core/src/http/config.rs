//! [`HttpConfig`] and [`Timeouts`]: how every provider client talks HTTP; [`HttpSetting`]: the
//! environment variables that set them.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};

use super::retry::{Clock, Jitter, RandomJitter, RetryPolicy, SystemClock};

/// The HTTP variables every provider reads under its
/// [`EnvSetting::PREFIX`](crate::kit::EnvSetting::PREFIX) (through
/// [`HttpSettings::apply_env`](super::HttpSettings::apply_env)): a provider's settings enum
/// lists them as `{PREFIX}_{suffix}`, which
/// [`check_env_settings`](crate::kit::check_env_settings) verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HttpSetting {
    /// `{PREFIX}_CONNECT_TIMEOUT_SECS`: the connect timeout, in seconds (decimals allowed).
    ConnectTimeout,
    /// `{PREFIX}_ATTEMPT_TIMEOUT_SECS`: the timeout of one HTTP attempt, in seconds.
    AttemptTimeout,
    /// `{PREFIX}_OVERALL_TIMEOUT_SECS`: the timeout of an operation with its retries.
    OverallTimeout,
    /// `{PREFIX}_MAX_ATTEMPTS`: the attempts of a safe operation, the first included.
    MaxAttempts,
}

impl HttpSetting {
    /// Every HTTP setting, in documentation order.
    pub const ALL: &'static [Self] = &[
        Self::ConnectTimeout,
        Self::AttemptTimeout,
        Self::OverallTimeout,
        Self::MaxAttempts,
    ];

    /// The variable's name after the provider's prefix and `_`, e.g. `CONNECT_TIMEOUT_SECS`.
    pub const fn suffix(self) -> &'static str {
        match self {
            Self::ConnectTimeout => "CONNECT_TIMEOUT_SECS",
            Self::AttemptTimeout => "ATTEMPT_TIMEOUT_SECS",
            Self::OverallTimeout => "OVERALL_TIMEOUT_SECS",
            Self::MaxAttempts => "MAX_ATTEMPTS",
        }
    }

    /// What the variable holds, in a few words.
    pub const fn meaning(self) -> &'static str {
        match self {
            Self::ConnectTimeout => {
                "the connect timeout, in seconds (decimals allowed), 5 by default"
            }
            Self::AttemptTimeout => "the timeout of one HTTP attempt, in seconds, 10 by default",
            Self::OverallTimeout => {
                "the timeout of an operation with its retries, in seconds, 30 by default"
            }
            Self::MaxAttempts => {
                "the attempts of a safe operation, the first included (sends: always 1), 3 by \
                 default"
            }
        }
    }

    /// The variable's full name under `prefix`, e.g. `VERIFIK_MAX_ATTEMPTS`.
    pub fn name(self, prefix: &str) -> String {
        format!("{prefix}_{}", self.suffix())
    }
}

/// Time limits; all three are always set, and a client refuses a zero one
/// ([`HttpClient::new`](crate::kit::HttpClient::new)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// To establish a connection (DNS, TCP and TLS). Applies to clients this crate builds
    /// ([`reqwest_builder`](super::reqwest_builder)), which hold it
    /// under nine tenths of `attempt` and of `overall`: a connection that cannot be made then
    /// fails as such ([`ErrorKind::Transport`](crate::ErrorKind::Transport), nothing sent)
    /// before the attempt's deadline, which would leave a send's outcome unknown.
    pub connect: Duration,
    /// For one attempt, from sending the request to the end of the response body.
    pub attempt: Duration,
    /// For a whole operation, retries and backoff included. A code check is retried only when
    /// its wait and a whole `attempt` fit before it: with `overall` no longer than `attempt`,
    /// code checks are never retried.
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
    /// The largest response body accepted, in bytes; a client refuses zero.
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

    /// Applies a provider's HTTP environment variables, named after `prefix` (e.g.
    /// `VERIFYKIT`), to these settings; `lookup` reads a variable (`std::env::var(..).ok()`, or
    /// a map in tests). Unset or blank variables keep the current value; an error names the
    /// variable, never its value.
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `{PREFIX}_CONNECT_TIMEOUT_SECS` | connect timeout, seconds (decimals allowed) |
    /// | `{PREFIX}_ATTEMPT_TIMEOUT_SECS` | timeout of one attempt, seconds |
    /// | `{PREFIX}_OVERALL_TIMEOUT_SECS` | timeout of an operation with its retries, seconds |
    /// | `{PREFIX}_MAX_ATTEMPTS` | attempts of a safe operation, the first included (sends: always 1) |
    ///
    /// ```
    /// use std::time::Duration;
    /// use phone_verify_core::http::HttpConfig;
    ///
    /// let env = |name: &str| (name == "ACME_ATTEMPT_TIMEOUT_SECS").then(|| "2.5".to_owned());
    /// let config = HttpConfig::default().with_env_lookup("ACME", env)?;
    /// assert_eq!(config.timeouts.attempt, Duration::from_millis(2500));
    /// let bad = |name: &str| (name == "ACME_MAX_ATTEMPTS").then(|| "many".to_owned());
    /// assert!(HttpConfig::default().with_env_lookup("ACME", bad).unwrap_err().to_string().contains("ACME_MAX_ATTEMPTS"));
    /// # Ok::<(), phone_verify_core::Error>(())
    /// ```
    pub fn with_env_lookup(
        mut self,
        prefix: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let var = |setting: HttpSetting| {
            let name = setting.name(prefix);
            lookup(&name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name, v))
        };
        if let Some((name, v)) = var(HttpSetting::ConnectTimeout) {
            self.timeouts.connect = parse_env_seconds(&name, &v)?;
        }
        if let Some((name, v)) = var(HttpSetting::AttemptTimeout) {
            self.timeouts.attempt = parse_env_seconds(&name, &v)?;
        }
        if let Some((name, v)) = var(HttpSetting::OverallTimeout) {
            self.timeouts.overall = parse_env_seconds(&name, &v)?;
        }
        if let Some((name, v)) = var(HttpSetting::MaxAttempts) {
            let attempts = v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "{name} must be a whole number of at least 1 (its value is not shown)"
                    ))
                })?;
            self.retry = self.retry.with_max_attempts(attempts);
        }
        Ok(self)
    }

    /// Replaces the clock: backoff waits, `Retry-After` dates, and a provider's "now" where it
    /// must judge time itself (a handle's expiry). For tests: skip waits, or follow an
    /// emulator's clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The clock (the system clock unless [`with_clock`](Self::with_clock) replaced it).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Replaces the jitter source (for tests: exact backoff delays).
    #[must_use]
    pub fn with_jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = jitter;
        self
    }
}

/// Parses the value of the environment variable `name` as a number of seconds (decimals
/// allowed) above 0 and at most a day; a bad value is an
/// [`InvalidInput`](crate::ErrorKind::InvalidInput) error naming the variable, never showing
/// the value (a credential may stand where a number belongs).
pub fn parse_env_seconds(name: &str, value: &str) -> Result<Duration> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        // A value so small it rounds to zero nanoseconds (`1e-10`) is zero all the same.
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "{name} must be a number of seconds above 0 and at most 86400 (its value is \
                 not shown)"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each setting's meaning states the default it has: the figure before "by default" is
    /// the default configuration's value.
    #[test]
    fn every_meaning_states_the_default() {
        let defaults = HttpConfig::default();
        for &setting in HttpSetting::ALL {
            let meaning = setting.meaning();
            let default = meaning
                .strip_suffix(" by default")
                .and_then(|rest| rest.rsplit(' ').next())
                .unwrap_or_else(|| panic!("{setting:?}: {meaning}"));
            let expected = match setting {
                HttpSetting::ConnectTimeout => defaults.timeouts.connect.as_secs(),
                HttpSetting::AttemptTimeout => defaults.timeouts.attempt.as_secs(),
                HttpSetting::OverallTimeout => defaults.timeouts.overall.as_secs(),
                HttpSetting::MaxAttempts => u64::from(defaults.retry.max_attempts),
            };
            assert_eq!(default, expected.to_string(), "{setting:?}: {meaning}");
        }
    }

    /// Each setter of the timeouts and of the configuration sets its own setting, and leaves
    /// the others.
    #[test]
    fn each_setter_sets_its_own_setting() {
        let base = Timeouts::default();
        let d = Duration::from_millis(1234);
        assert_eq!(base.with_connect(d), Timeouts { connect: d, ..base });
        assert_eq!(base.with_attempt(d), Timeouts { attempt: d, ..base });
        assert_eq!(base.with_overall(d), Timeouts { overall: d, ..base });
        let timeouts = Timeouts::default().with_connect(Duration::from_secs(1));
        let retry = RetryPolicy::never();
        let config = HttpConfig::default()
            .with_timeouts(timeouts)
            .with_retry(retry)
            .with_max_response_bytes(77)
            .with_user_agent("acme-app/2.0");
        assert_eq!(config.timeouts, timeouts);
        assert_eq!(config.retry, retry);
        assert_eq!(config.max_response_bytes, 77);
        assert_eq!(config.user_agent, "acme-app/2.0");
        let default = HttpConfig::default();
        assert!(default.user_agent.starts_with("phone-verify/"));
        assert_eq!(
            default.clone().with_user_agent("x").max_response_bytes,
            default.max_response_bytes
        );
    }

    #[test]
    fn reads_the_http_variables_of_a_prefix() {
        let vars = [
            ("ACME_CONNECT_TIMEOUT_SECS", "1.5"),
            ("ACME_ATTEMPT_TIMEOUT_SECS", "4"),
            ("ACME_OVERALL_TIMEOUT_SECS", " 12 "),
            ("ACME_MAX_ATTEMPTS", "5"),
            ("OTHER_MAX_ATTEMPTS", "9"),
        ];
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        let config = HttpConfig::default()
            .with_env_lookup("ACME", lookup)
            .unwrap();
        assert_eq!(config.timeouts.connect, Duration::from_millis(1500));
        assert_eq!(config.timeouts.attempt, Duration::from_secs(4));
        assert_eq!(config.timeouts.overall, Duration::from_secs(12));
        assert_eq!(config.retry.max_attempts, 5);
        let untouched = HttpConfig::default()
            .with_env_lookup("NONE", lookup)
            .unwrap();
        assert_eq!(untouched.timeouts, Timeouts::default());
    }

    #[test]
    fn refuses_bad_values_naming_the_variable() {
        for (name, value) in [
            ("ACME_CONNECT_TIMEOUT_SECS", "soon"),
            ("ACME_ATTEMPT_TIMEOUT_SECS", "-1"),
            ("ACME_OVERALL_TIMEOUT_SECS", "0"),
            ("ACME_CONNECT_TIMEOUT_SECS", "1e-10"),
            ("ACME_OVERALL_TIMEOUT_SECS", "NaN"),
            ("ACME_OVERALL_TIMEOUT_SECS", "90000"),
            ("ACME_MAX_ATTEMPTS", "0"),
            ("ACME_MAX_ATTEMPTS", "many"),
        ] {
            let lookup = |n: &str| (n == name).then(|| value.to_owned());
            let err = HttpConfig::default()
                .with_env_lookup("ACME", lookup)
                .unwrap_err();
            assert!(err.to_string().contains(name), "{name}={value}: {err}");
        }
    }

    /// A bad value is named by its variable and what it must be, never shown: a credential
    /// may stand where a number belongs (`max_attempts = { env = "ACME_KEY" }`).
    #[test]
    fn bad_values_are_never_shown() {
        for (name, expected) in [
            (
                "ACME_MAX_ATTEMPTS",
                "ACME_MAX_ATTEMPTS must be a whole number of at least 1 (its value is not shown)",
            ),
            (
                "ACME_ATTEMPT_TIMEOUT_SECS",
                "ACME_ATTEMPT_TIMEOUT_SECS must be a number of seconds above 0 and at most 86400 \
                 (its value is not shown)",
            ),
        ] {
            let lookup = |n: &str| (n == name).then(|| "canary-key".to_owned());
            let err = HttpConfig::default()
                .with_env_lookup("ACME", lookup)
                .unwrap_err();
            assert_eq!(err.message(), expected);
            assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
        }
        let err = parse_env_seconds("ACME_TTL_SECS", "canary-key").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
    }
}
