//! [`VerigatorConfig`] and [`VerigatorBuilder`]: the credentials, the service, the base URL,
//! how phones map to users, and the HTTP settings, from code or from the environment.

use std::fmt;
use std::time::Duration;

use phone_verify_core::http::{HttpConfig, RetryPolicy, Timeouts};
use phone_verify_core::kit::{BaseUrl, HttpClient, parse_env_seconds};
use phone_verify_core::secrecy::{ExposeSecret, SecretString};
use phone_verify_core::{Error, Result};

use crate::cache::DEFAULT_USER_CACHE_CAPACITY;
use crate::client::VerigatorClient;
use crate::users::IdScheme;
use crate::verifier::{PROVIDER, Verigator};
use crate::wire::check_id;

/// Verigator's production base URL (the official SDKs' default).
pub const DEFAULT_BASE_URL: &str = "https://api.verigator.com/v1";
/// The API username the phone-verify sandbox accepts by default.
pub const SANDBOX_USERNAME: &str = "sandbox";
/// The API password the phone-verify sandbox accepts by default.
pub const SANDBOX_PASSWORD: &str = "sandbox";

/// `VERIGATOR_USERNAME`: the Messente API username; required unless `VERIGATOR_SANDBOX_URL`
/// is set.
pub const ENV_USERNAME: &str = "VERIGATOR_USERNAME";
/// `VERIGATOR_PASSWORD`: the Messente API password; required with `VERIGATOR_USERNAME`.
pub const ENV_PASSWORD: &str = "VERIGATOR_PASSWORD";
/// `VERIGATOR_SERVICE_ID`: the Verigator service (ServiceID) whose users are verified;
/// required to build a [`Verigator`], not a [`VerigatorClient`].
pub const ENV_SERVICE_ID: &str = "VERIGATOR_SERVICE_ID";
/// `VERIGATOR_BASE_URL`: the base URL (default [`DEFAULT_BASE_URL`]).
pub const ENV_BASE_URL: &str = "VERIGATOR_BASE_URL";
/// `VERIGATOR_SANDBOX_URL`: the base URL of a phone-verify sandbox (see
/// [`VerigatorBuilder::sandbox_url`]); makes the credentials default to the sandbox's.
pub const ENV_SANDBOX_URL: &str = "VERIGATOR_SANDBOX_URL";
/// `VERIGATOR_ID_PREFIX`: registers users as `<prefix><E.164 number>` instead of the bare
/// number (see [`IdScheme::Prefixed`]).
pub const ENV_ID_PREFIX: &str = "VERIGATOR_ID_PREFIX";
/// `VERIGATOR_PIN_VALIDITY_SECS`: how long a started authentication is valid, in seconds, to
/// set the handles' `expires_at` (Verigator does not say; unset by default).
pub const ENV_PIN_VALIDITY: &str = "VERIGATOR_PIN_VALIDITY_SECS";
/// `VERIGATOR_CONNECT_TIMEOUT_SECS`: the connect timeout in seconds (decimals allowed).
pub const ENV_CONNECT_TIMEOUT: &str = "VERIGATOR_CONNECT_TIMEOUT_SECS";
/// `VERIGATOR_ATTEMPT_TIMEOUT_SECS`: the timeout of one HTTP attempt in seconds.
pub const ENV_ATTEMPT_TIMEOUT: &str = "VERIGATOR_ATTEMPT_TIMEOUT_SECS";
/// `VERIGATOR_OVERALL_TIMEOUT_SECS`: the timeout of a whole operation, retries included.
pub const ENV_OVERALL_TIMEOUT: &str = "VERIGATOR_OVERALL_TIMEOUT_SECS";
/// `VERIGATOR_MAX_ATTEMPTS`: attempts of a safe operation (PIN checks, lookups), the first
/// included; `1` disables retries. Starting an authentication is never retried.
pub const ENV_MAX_ATTEMPTS: &str = "VERIGATOR_MAX_ATTEMPTS";

/// Everything a [`Verigator`] and its [`VerigatorClient`] need. `Debug` never shows the
/// credentials.
#[derive(Clone)]
#[non_exhaustive]
pub struct VerigatorConfig {
    /// The Messente API username (first half of `X-Service-Auth`; never contains `:`).
    pub username: SecretString,
    /// The Messente API password (second half of `X-Service-Auth`).
    pub password: SecretString,
    /// The base URL, e.g. [`DEFAULT_BASE_URL`].
    pub base_url: BaseUrl,
    /// The service whose users the verifier registers and authenticates.
    pub service_id: Option<String>,
    /// How a phone number becomes a user's `id_in_service`.
    pub id_scheme: IdScheme,
    /// How long a started authentication is valid, for the handles' `expires_at`.
    pub pin_validity: Option<Duration>,
    /// How many phones' user ids the verifier remembers (0: none); see
    /// [`VerigatorBuilder::user_cache_capacity`].
    pub user_cache_capacity: usize,
    /// Timeouts, retries of safe operations, response size cap, `User-Agent`.
    pub http: HttpConfig,
}

impl VerigatorConfig {
    /// A configuration for Verigator's production host with default settings.
    pub fn new(
        username: impl Into<SecretString>,
        password: impl Into<SecretString>,
    ) -> Result<Self> {
        VerigatorBuilder::new(username, password).config()
    }
}

impl fmt::Debug for VerigatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerigatorConfig")
            .field("username", &"<redacted>")
            .field("password", &"<redacted>")
            .field("base_url", &self.base_url)
            .field("service_id", &self.service_id)
            .field("id_scheme", &self.id_scheme)
            .field("pin_validity", &self.pin_validity)
            .field("user_cache_capacity", &self.user_cache_capacity)
            .field("http", &self.http)
            .finish()
    }
}

/// Builds a [`Verigator`] verifier or a [`VerigatorClient`].
///
/// ```
/// use std::time::Duration;
/// use phone_verify_core::http::Timeouts;
/// use phone_verify_verigator::{IdScheme, VerigatorBuilder};
///
/// let verifier = VerigatorBuilder::new("api-user", "api-password")
///     .service_id("5e4b6c0a-5c1e-4a8b-9d5e-2f7a1b3c4d5e")
///     .id_scheme(IdScheme::prefixed("shop-"))
///     .timeouts(Timeouts::default().with_overall(Duration::from_secs(20)))
///     .build()?;
/// assert!(!format!("{verifier:?}").contains("api-password"));
///
/// // A local phone-verify sandbox, with its default credentials:
/// let client = VerigatorBuilder::sandbox("http://127.0.0.1:8025").build_client()?;
/// assert_eq!(client.base_url().to_string(), "http://127.0.0.1:8025/verigator/v1");
///
/// // A username with ':' cannot be sent in `X-Service-Auth: username:password`.
/// assert!(VerigatorBuilder::new("a:b", "secret").build_client().is_err());
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone)]
pub struct VerigatorBuilder {
    username: Option<SecretString>,
    password: Option<SecretString>,
    base_url: String,
    service_id: Option<String>,
    id_scheme: IdScheme,
    pin_validity: Option<Duration>,
    user_cache_capacity: usize,
    http: HttpConfig,
    reqwest: Option<reqwest::Client>,
}

impl fmt::Debug for VerigatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |set: bool| set.then_some("<redacted>");
        f.debug_struct("VerigatorBuilder")
            .field("username", &redacted(self.username.is_some()))
            .field("password", &redacted(self.password.is_some()))
            .field("base_url", &self.base_url)
            .field("service_id", &self.service_id)
            .field("id_scheme", &self.id_scheme)
            .field("pin_validity", &self.pin_validity)
            .field("user_cache_capacity", &self.user_cache_capacity)
            .field("http", &self.http)
            .field("reqwest", &self.reqwest.is_some())
            .finish()
    }
}

impl VerigatorBuilder {
    /// A builder for Verigator's production host with the Messente API `username` and
    /// `password`.
    pub fn new(username: impl Into<SecretString>, password: impl Into<SecretString>) -> Self {
        Self {
            username: Some(username.into()),
            password: Some(password.into()),
            base_url: DEFAULT_BASE_URL.to_owned(),
            service_id: None,
            id_scheme: IdScheme::default(),
            pin_validity: None,
            user_cache_capacity: DEFAULT_USER_CACHE_CAPACITY,
            http: HttpConfig::default(),
            reqwest: None,
        }
    }

    /// A builder for a phone-verify sandbox at `base_url` (e.g. `http://127.0.0.1:8025`), with
    /// the sandbox's default credentials [`SANDBOX_USERNAME`] and [`SANDBOX_PASSWORD`]. The
    /// sandbox starts without services: create one with
    /// [`VerigatorClient::create_service`] and set it with
    /// [`service_id`](Self::service_id).
    pub fn sandbox(base_url: &str) -> Self {
        Self::new(SANDBOX_USERNAME, SANDBOX_PASSWORD).sandbox_url(base_url)
    }

    /// A builder from the process environment; see [`from_lookup`](Self::from_lookup) for the
    /// variables.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// A builder from the variables `lookup` finds (empty values count as unset):
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `VERIGATOR_USERNAME` | the Messente API username | required, or [`SANDBOX_USERNAME`] with `VERIGATOR_SANDBOX_URL` |
    /// | `VERIGATOR_PASSWORD` | the Messente API password | required, or [`SANDBOX_PASSWORD`] with `VERIGATOR_SANDBOX_URL` |
    /// | `VERIGATOR_SERVICE_ID` | the service (ServiceID) whose users are verified | unset: required by [`build`](Self::build), not by [`build_client`](Self::build_client) |
    /// | `VERIGATOR_BASE_URL` | the base URL (wins over the sandbox URL) | [`DEFAULT_BASE_URL`] |
    /// | `VERIGATOR_SANDBOX_URL` | a phone-verify sandbox's base URL: Verigator under `/verigator/v1` | unset |
    /// | `VERIGATOR_ID_PREFIX` | register users as `<prefix><E.164>` | unset: the bare E.164 number |
    /// | `VERIGATOR_PIN_VALIDITY_SECS` | validity of a started authentication, for `expires_at` | unset |
    /// | `VERIGATOR_CONNECT_TIMEOUT_SECS` | connect timeout, seconds (decimals allowed) | 5 |
    /// | `VERIGATOR_ATTEMPT_TIMEOUT_SECS` | timeout of one attempt, seconds | 10 |
    /// | `VERIGATOR_OVERALL_TIMEOUT_SECS` | timeout of an operation with its retries, seconds | 30 |
    /// | `VERIGATOR_MAX_ATTEMPTS` | attempts of a safe operation, first included (starting an authentication: always 1) | 3 |
    ///
    /// Credentials, URLs and ids are checked when the builder builds; a malformed number fails
    /// here with [`ErrorKind::InvalidInput`](phone_verify_core::ErrorKind::InvalidInput)
    /// naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let sandbox = var(ENV_SANDBOX_URL);
        let mut builder = match (var(ENV_USERNAME), var(ENV_PASSWORD), &sandbox) {
            (Some(username), Some(password), _) => {
                Self::new(username.trim().to_owned(), password.trim().to_owned())
            }
            (None, None, Some(_)) => Self::new(SANDBOX_USERNAME, SANDBOX_PASSWORD),
            (Some(_), None, _) => {
                return Err(invalid(format!(
                    "{ENV_USERNAME} is set but {ENV_PASSWORD} is not: both are required"
                )));
            }
            (None, _, _) => {
                return Err(invalid(format!(
                    "{ENV_USERNAME} is not set: it must hold the Messente API username \
                     ({ENV_PASSWORD} the password)"
                )));
            }
        };
        if let Some(url) = sandbox {
            builder = builder.sandbox_url(&url);
        }
        if let Some(url) = var(ENV_BASE_URL) {
            builder = builder.base_url(&url);
        }
        if let Some(id) = var(ENV_SERVICE_ID) {
            builder = builder.service_id(id.trim());
        }
        if let Some(prefix) = var(ENV_ID_PREFIX) {
            builder = builder.id_scheme(IdScheme::prefixed(prefix.trim()));
        }
        if let Some(v) = var(ENV_PIN_VALIDITY) {
            builder = builder.pin_validity(
                parse_env_seconds(ENV_PIN_VALIDITY, &v).map_err(|e| e.with_provider(PROVIDER))?,
            );
        }
        builder.http = builder
            .http
            .clone()
            .with_env_lookup("VERIGATOR", var)
            .map_err(|e| e.with_provider(PROVIDER))?;
        Ok(builder)
    }

    /// Sets the Messente API username (it may not contain `:`).
    #[must_use]
    pub fn username(mut self, username: impl Into<SecretString>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets the Messente API password.
    #[must_use]
    pub fn password(mut self, password: impl Into<SecretString>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Sets the base URL (default [`DEFAULT_BASE_URL`]); paths such as
    /// `service/service/{ServiceId}` are joined to it.
    #[must_use]
    pub fn base_url(mut self, url: &str) -> Self {
        url.clone_into(&mut self.base_url);
        self
    }

    /// Points the client at a phone-verify sandbox at `base_url`:
    /// `{base_url}/verigator/v1`. The credentials are left as they are.
    #[must_use]
    pub fn sandbox_url(mut self, base_url: &str) -> Self {
        let base = base_url.trim().trim_end_matches('/');
        self.base_url = format!("{base}/verigator/v1");
        self
    }

    /// Sets the service (ServiceID) whose users the verifier registers and authenticates.
    #[must_use]
    pub fn service_id(mut self, service_id: impl Into<String>) -> Self {
        self.service_id = Some(service_id.into());
        self
    }

    /// Sets how a phone number becomes a user's `id_in_service` (default
    /// [`IdScheme::E164`]).
    #[must_use]
    pub fn id_scheme(mut self, scheme: IdScheme) -> Self {
        self.id_scheme = scheme;
        self
    }

    /// Sets how long a started authentication stays valid. Verigator does not say, so by
    /// default handles have no `expires_at`; set it to what your Verigator account uses.
    #[must_use]
    pub fn pin_validity(mut self, validity: Duration) -> Self {
        self.pin_validity = Some(validity);
        self
    }

    /// Sets how many phones' user ids the verifier remembers, least recently used first out
    /// (default [`DEFAULT_USER_CACHE_CAPACITY`]; 0 disables the cache). A remembered phone
    /// starts with no user request at all; see [`Verigator`] for how users are found.
    #[must_use]
    pub fn user_cache_capacity(mut self, capacity: usize) -> Self {
        self.user_cache_capacity = capacity;
        self
    }

    /// Replaces all HTTP settings.
    #[must_use]
    pub fn http_config(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }

    /// Sets the timeouts.
    #[must_use]
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.http = self.http.with_timeouts(timeouts);
        self
    }

    /// Sets the retry policy of safe operations (starting an authentication is never
    /// retried).
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.http = self.http.with_retry(retry);
        self
    }

    /// Uses `client` (shared connection pool, proxies, custom TLS) instead of a client of its
    /// own. Disable redirects on it; its own connect timeout applies, the other timeouts and
    /// the retries still come from the HTTP settings.
    #[must_use]
    pub fn reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.reqwest = Some(client);
        self
    }

    /// Checks the settings: a username without `:` and a password, both non-empty and
    /// sendable in a header; a valid base URL (`https`, or `http` on loopback only); a
    /// well-formed service id if set; a positive PIN validity if set.
    pub fn config(&self) -> Result<VerigatorConfig> {
        let username = self
            .username
            .clone()
            .ok_or_else(|| invalid("the Messente API username is missing"))?;
        let password = self
            .password
            .clone()
            .ok_or_else(|| invalid("the Messente API password is missing"))?;
        let user = username.expose_secret();
        if user.trim().is_empty() {
            return Err(invalid("the Messente API username is empty"));
        }
        if user.contains(':') {
            return Err(invalid(
                "the Messente API username contains ':', which X-Service-Auth \
                 (username:password) cannot carry unambiguously",
            ));
        }
        if password.expose_secret().is_empty() {
            return Err(invalid("the Messente API password is empty"));
        }
        let joined = format!("{user}:{}", password.expose_secret());
        if reqwest::header::HeaderValue::from_str(&joined).is_err() {
            return Err(invalid(
                "the Messente API username or password has characters that cannot be sent in \
                 a header",
            ));
        }
        let base_url = BaseUrl::parse(&self.base_url)
            .map_err(|e| invalid(format!("base URL: {}", e.message())).with_source(e))?;
        let service_id = self
            .service_id
            .as_deref()
            .map(|id| check_id("service id", id.trim()).map(str::to_owned))
            .transpose()
            .map_err(|e| e.with_provider(PROVIDER))?;
        if self.pin_validity.is_some_and(|v| v.is_zero()) {
            return Err(invalid("the PIN validity must be positive"));
        }
        Ok(VerigatorConfig {
            username,
            password,
            base_url,
            service_id,
            id_scheme: self.id_scheme.clone(),
            pin_validity: self.pin_validity,
            user_cache_capacity: self.user_cache_capacity,
            http: self.http.clone(),
        })
    }

    /// Builds the typed client of every endpoint (no service id needed).
    pub fn build_client(&self) -> Result<VerigatorClient> {
        let config = self.config()?;
        self.client_for(&config)
    }

    /// Builds the verifier; it needs a [`service_id`](Self::service_id).
    pub fn build(&self) -> Result<Verigator> {
        let config = self.config()?;
        let Some(service_id) = config.service_id.clone() else {
            return Err(invalid(format!(
                "the verifier needs a Verigator service: set {ENV_SERVICE_ID} or \
                 VerigatorBuilder::service_id (create one with VerigatorClient::create_service)"
            )));
        };
        let client = self.client_for(&config)?;
        Ok(Verigator::from_parts(
            client,
            service_id,
            config.id_scheme,
            config.pin_validity,
            config.user_cache_capacity,
        ))
    }

    fn client_for(&self, config: &VerigatorConfig) -> Result<VerigatorClient> {
        let http = match &self.reqwest {
            Some(client) => HttpClient::with_reqwest(PROVIDER, client.clone(), config.http.clone()),
            None => HttpClient::new(PROVIDER, config.http.clone())?,
        };
        Ok(VerigatorClient::from_parts(config, http))
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_input(message).with_provider(PROVIDER)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use phone_verify_core::{ErrorKind, PhoneNumber};

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_every_variable() {
        let builder = VerigatorBuilder::from_lookup(env(&[
            (ENV_USERNAME, " canary-user "),
            (ENV_PASSWORD, " canary-pass "),
            (ENV_SERVICE_ID, " 0c9b2d4e-1f3a-4b5c-8d6e-7f8091a2b3c4 "),
            (ENV_BASE_URL, "https://verigator.example.test/v1"),
            (ENV_ID_PREFIX, "shop-"),
            (ENV_PIN_VALIDITY, "300"),
            (ENV_CONNECT_TIMEOUT, "1.5"),
            (ENV_ATTEMPT_TIMEOUT, "4"),
            (ENV_OVERALL_TIMEOUT, "12"),
            (ENV_MAX_ATTEMPTS, "2"),
        ]))
        .unwrap();
        let config = builder.config().unwrap();
        assert_eq!(config.username.expose_secret(), "canary-user");
        assert_eq!(config.password.expose_secret(), "canary-pass");
        assert_eq!(
            config.service_id.as_deref(),
            Some("0c9b2d4e-1f3a-4b5c-8d6e-7f8091a2b3c4")
        );
        assert_eq!(
            config.base_url.to_string(),
            "https://verigator.example.test/v1"
        );
        let phone = PhoneNumber::parse("+37251234567").unwrap();
        assert_eq!(
            config.id_scheme.id_for(&phone).unwrap(),
            "shop-+37251234567"
        );
        assert_eq!(config.pin_validity, Some(Duration::from_secs(300)));
        assert_eq!(config.http.timeouts.connect, Duration::from_millis(1500));
        assert_eq!(config.http.timeouts.attempt, Duration::from_secs(4));
        assert_eq!(config.http.timeouts.overall, Duration::from_secs(12));
        assert_eq!(config.http.retry.max_attempts, 2);
        for shown in [format!("{builder:?}"), format!("{config:?}")] {
            assert!(!shown.contains("canary"), "{shown}");
        }
        assert!(builder.build().is_ok());
    }

    #[test]
    fn defaults_and_sandbox() {
        let config =
            VerigatorBuilder::from_lookup(env(&[(ENV_USERNAME, "u"), (ENV_PASSWORD, "p")]))
                .unwrap()
                .config()
                .unwrap();
        assert_eq!(config.base_url.to_string(), DEFAULT_BASE_URL);
        assert_eq!(config.service_id, None);
        assert_eq!(config.pin_validity, None);
        let phone = PhoneNumber::parse("+37251234567").unwrap();
        assert_eq!(config.id_scheme.id_for(&phone).unwrap(), "+37251234567");

        let sandbox =
            VerigatorBuilder::from_lookup(env(&[(ENV_SANDBOX_URL, "http://127.0.0.1:8025/")]))
                .unwrap()
                .config()
                .unwrap();
        assert_eq!(
            sandbox.base_url.to_string(),
            "http://127.0.0.1:8025/verigator/v1"
        );
        assert_eq!(sandbox.username.expose_secret(), SANDBOX_USERNAME);
        assert_eq!(sandbox.password.expose_secret(), SANDBOX_PASSWORD);
        let overridden = VerigatorBuilder::from_lookup(env(&[
            (ENV_SANDBOX_URL, "http://127.0.0.1:8025"),
            (ENV_BASE_URL, "http://localhost:9/v1"),
        ]))
        .unwrap()
        .config()
        .unwrap();
        assert_eq!(overridden.base_url.to_string(), "http://localhost:9/v1");
    }

    #[test]
    fn refuses_bad_settings() {
        let refused = |pairs: &[(&str, &str)]| {
            let err = VerigatorBuilder::from_lookup(env(pairs))
                .and_then(|b| b.build())
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{pairs:?}");
            assert_eq!(
                err.provider().map(phone_verify_core::ProviderId::as_str),
                Some("verigator")
            );
            err.to_string()
        };
        let ok = [
            (ENV_USERNAME, "u"),
            (ENV_PASSWORD, "p"),
            (ENV_SERVICE_ID, "s-1"),
        ];
        assert!(refused(&[]).contains(ENV_USERNAME));
        assert!(refused(&[(ENV_USERNAME, "u")]).contains(ENV_PASSWORD));
        assert!(refused(&[(ENV_PASSWORD, "p")]).contains(ENV_USERNAME));
        assert!(refused(&[(ENV_USERNAME, "u"), (ENV_PASSWORD, "p")]).contains(ENV_SERVICE_ID));
        for (name, value) in [
            (ENV_USERNAME, "user:name"),
            (ENV_PASSWORD, "line\nbreak"),
            (ENV_BASE_URL, "http://api.verigator.com/v1"),
            (ENV_SERVICE_ID, "../other"),
            (ENV_PIN_VALIDITY, "-1"),
            (ENV_CONNECT_TIMEOUT, "soon"),
            (ENV_ATTEMPT_TIMEOUT, "0"),
            (ENV_OVERALL_TIMEOUT, "NaN"),
            (ENV_MAX_ATTEMPTS, "0"),
        ] {
            let mut pairs = ok.to_vec();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let message = refused(&pairs);
            assert!(!message.contains("user:name"), "{message}");
        }
        assert!(refused(&[(ENV_USERNAME, "u:x"), (ENV_PASSWORD, "p")]).contains("':'"));
        let empty = VerigatorBuilder::new(" ", "p").build_client().unwrap_err();
        assert_eq!(empty.kind(), ErrorKind::InvalidInput);
        let empty = VerigatorBuilder::new("u", "").build_client().unwrap_err();
        assert_eq!(empty.kind(), ErrorKind::InvalidInput);
        let zero = VerigatorBuilder::new("u", "p")
            .pin_validity(Duration::ZERO)
            .build_client()
            .unwrap_err();
        assert_eq!(zero.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn passwords_may_contain_colons() {
        let client = VerigatorBuilder::new("user", "pa:ss").build_client();
        assert!(client.is_ok());
    }
}
