//! [`HttpSettings`] and [`ConfigureHttp`]: the HTTP part every provider builder shares.

use std::fmt;

use crate::error::Result;

use super::{HttpConfig, RetryPolicy, Timeouts};

/// The HTTP part of a provider builder: the [`HttpConfig`] and, optionally, a `reqwest::Client`
/// supplied by the application. `Debug` shows whether a client was supplied, not the client.
#[derive(Clone, Default)]
pub struct HttpSettings {
    config: HttpConfig,
    reqwest: Option<reqwest::Client>,
}

impl fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSettings")
            .field("config", &self.config)
            .field("reqwest", &self.reqwest.is_some())
            .finish()
    }
}

impl HttpSettings {
    /// Settings with `config` and a client of the SDK's own.
    pub fn new(config: HttpConfig) -> Self {
        Self {
            config,
            reqwest: None,
        }
    }

    /// These settings with the application's `reqwest::Client` (shared connection pool,
    /// proxies, custom TLS), for building a provider client from a config without a builder;
    /// see [`ConfigureHttp::reqwest_client`].
    #[must_use]
    pub fn with_reqwest(mut self, client: reqwest::Client) -> Self {
        self.reqwest = Some(client);
        self
    }

    /// The HTTP configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The HTTP configuration, to change in place.
    pub fn config_mut(&mut self) -> &mut HttpConfig {
        &mut self.config
    }

    /// The application's `reqwest::Client`, if one was supplied.
    pub fn reqwest(&self) -> Option<&reqwest::Client> {
        self.reqwest.as_ref()
    }

    /// Applies the HTTP variables of `prefix` (`{PREFIX}_CONNECT_TIMEOUT_SECS`,
    /// `{PREFIX}_ATTEMPT_TIMEOUT_SECS`, `{PREFIX}_OVERALL_TIMEOUT_SECS`, `{PREFIX}_MAX_ATTEMPTS`;
    /// see [`HttpConfig::with_env_lookup`]) that `lookup` finds. A bad value is an
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) error naming the variable.
    pub fn apply_env(
        &mut self,
        prefix: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<()> {
        self.config = self.config.clone().with_env_lookup(prefix, lookup)?;
        Ok(())
    }
}

/// The HTTP setters of every provider builder. A builder holds an [`HttpSettings`] and
/// implements [`http_settings_mut`](Self::http_settings_mut); the setters come with it.
pub trait ConfigureHttp: Sized {
    /// The builder's HTTP part.
    fn http_settings_mut(&mut self) -> &mut HttpSettings;

    /// Replaces all HTTP settings but a supplied `reqwest::Client`.
    #[must_use]
    fn http_config(mut self, config: HttpConfig) -> Self {
        self.http_settings_mut().config = config;
        self
    }

    /// Sets the timeouts. A zero timeout fails the build with
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) naming it.
    #[must_use]
    fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.http_settings_mut().config.timeouts = timeouts;
        self
    }

    /// Sets the retry policy of safe operations (sends are never retried).
    #[must_use]
    fn retry(mut self, retry: RetryPolicy) -> Self {
        self.http_settings_mut().config.retry = retry;
        self
    }

    /// Sets the largest response body accepted, in bytes. Zero fails the build with
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput).
    #[must_use]
    fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.http_settings_mut().config.max_response_bytes = bytes;
        self
    }

    /// Sets the `User-Agent`.
    #[must_use]
    fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.http_settings_mut().config.user_agent = user_agent.into();
        self
    }

    /// Uses `client` (shared connection pool, proxies, custom TLS) instead of a client of the
    /// SDK's own. Build it from
    /// [`http::reqwest_builder`](super::reqwest_builder), or at least
    /// disable redirects on it and give it a connect timeout shorter than the attempt and
    /// overall timeouts: its own connect timeout and retry policy apply, the other timeouts and
    /// the retries still come from the HTTP settings. A connection still being made when the
    /// attempt times out cannot be told from a request in flight, so a send on a client
    /// without a shorter connect timeout reads as `MaybeSent` during a DNS or TLS outage
    /// instead of failing over.
    #[must_use]
    fn reqwest_client(mut self, client: reqwest::Client) -> Self {
        let settings = self.http_settings_mut();
        *settings = std::mem::take(settings).with_reqwest(client);
        self
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[derive(Default)]
    struct Builder {
        http: HttpSettings,
    }

    impl ConfigureHttp for Builder {
        fn http_settings_mut(&mut self) -> &mut HttpSettings {
            &mut self.http
        }
    }

    #[test]
    fn setters_reach_the_settings() {
        let b = Builder::default()
            .timeouts(Timeouts::default().with_attempt(Duration::from_secs(3)))
            .retry(RetryPolicy::default().with_max_attempts(5))
            .max_response_bytes(4096)
            .user_agent("acme/1")
            .reqwest_client(reqwest::Client::new());
        let config = b.http.config();
        assert_eq!(config.timeouts.attempt, Duration::from_secs(3));
        assert_eq!(config.retry.max_attempts, 5);
        assert_eq!(config.max_response_bytes, 4096);
        assert_eq!(config.user_agent, "acme/1");
        assert!(b.http.reqwest().is_some());
        assert!(format!("{:?}", b.http).contains("reqwest: true"));
        let replaced = b.http_config(HttpConfig::default());
        assert_eq!(replaced.http.config().retry.max_attempts, 3);
        assert!(replaced.http.reqwest().is_some(), "the client is kept");
    }

    #[test]
    fn config_mut_changes_the_settings_in_place() {
        let mut settings = HttpSettings::new(HttpConfig::default());
        settings.config_mut().max_response_bytes = 1234;
        assert_eq!(settings.config().max_response_bytes, 1234);
    }

    #[test]
    fn with_reqwest_supplies_the_client() {
        let settings =
            HttpSettings::new(HttpConfig::default()).with_reqwest(reqwest::Client::new());
        assert!(settings.reqwest().is_some());
        assert!(HttpSettings::default().reqwest().is_none());
    }

    #[test]
    fn env_names_the_bad_variable() {
        let mut settings = HttpSettings::default();
        let env = |name: &str| (name == "ACME_OVERALL_TIMEOUT_SECS").then(|| "7".to_owned());
        settings.apply_env("ACME", env).unwrap();
        assert_eq!(settings.config().timeouts.overall, Duration::from_secs(7));
        let bad = |name: &str| (name == "ACME_MAX_ATTEMPTS").then(|| "0".to_owned());
        let err = settings.apply_env("ACME", bad).unwrap_err();
        assert!(err.to_string().contains("ACME_MAX_ATTEMPTS"));
    }
}
