//! [`VerigatorSetting`], [`VerigatorConfig`] and [`VerigatorBuilder`]: the credentials, the
//! service, the base URL, how phones map to users, and the HTTP settings, from code or from the
//! environment; [`PROVIDER`]; and the ids' checks ([`IdScheme`]).

mod ids;

use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, HttpSettings};
use phone_verify_core::kit::{BaseUrl, EnvReader, fits_header};
use phone_verify_core::secrecy::{ExposeSecret, SecretString};
use phone_verify_core::{Error, ProviderId, Result};

pub use ids::{IdScheme, MAX_ID_IN_SERVICE_LEN, MAX_ID_LEN};
pub(crate) use ids::{check_id, check_id_in_service, is_valid_id};

/// Verigator's provider id, stored in every handle: `verigator`.
pub const PROVIDER: ProviderId = ProviderId::new_static("verigator");

/// Verigator's production base URL (the official SDKs' default).
pub const DEFAULT_BASE_URL: &str = "https://api.verigator.com/v1";
/// The API username the phone-verify sandbox accepts by default.
pub const SANDBOX_USERNAME: &str = "sandbox";
/// The API password the phone-verify sandbox accepts by default.
pub const SANDBOX_PASSWORD: &str = "sandbox";
/// The default number of phones whose user ids a verifier remembers.
pub const DEFAULT_USER_CACHE_CAPACITY: usize = 10_000;
/// The longest PIN validity [`VerigatorBuilder::pin_validity`] takes: a year.
pub const MAX_PIN_VALIDITY: Duration = Duration::from_secs(366 * 86_400);

phone_verify_core::env_settings! {
    /// Every environment variable [`VerigatorBuilder::from_lookup`] reads; [`name`](Self::name)
    /// gives the variable, [`meaning`](Self::meaning) what it holds, `Display` the name.
    ///
    /// ```
    /// use phone_verify_verigator::VerigatorSetting;
    ///
    /// assert_eq!(VerigatorSetting::ServiceId.name(), "VERIGATOR_SERVICE_ID");
    /// assert!(VerigatorSetting::ALL.iter().all(|s| s.name().starts_with("VERIGATOR_")));
    /// ```
    pub enum VerigatorSetting: "VERIGATOR" {
        /// `VERIGATOR_USERNAME`: the Messente API username; required unless `VERIGATOR_SANDBOX_URL`
        /// is set.
        Username = secret "USERNAME" =>
            "the Messente API username (required unless VERIGATOR_SANDBOX_URL is set)",
        /// `VERIGATOR_PASSWORD`: the Messente API password; required with `VERIGATOR_USERNAME`.
        Password = secret "PASSWORD" =>
            "the Messente API password (required with VERIGATOR_USERNAME)",
        /// `VERIGATOR_SERVICE_ID`: the Verigator service (ServiceID) whose users are verified;
        /// required to build a [`Verigator`](crate::Verigator), not a
        /// [`VerigatorClient`](crate::VerigatorClient).
        ServiceId = "SERVICE_ID" =>
            "the Verigator service (ServiceID) whose users are verified",
        /// `VERIGATOR_BASE_URL`: the base URL (default [`DEFAULT_BASE_URL`]).
        BaseUrl = "BASE_URL" =>
            "the base URL of the Verigator API",
        /// `VERIGATOR_SANDBOX_URL`: the base URL of a phone-verify sandbox (see
        /// [`VerigatorBuilder::sandbox_url`]); makes the credentials default to the sandbox's.
        SandboxUrl = "SANDBOX_URL" =>
            "the base URL of a phone-verify sandbox",
        /// `VERIGATOR_ID_PREFIX`: registers users as `<prefix><E.164 number>` instead of the bare
        /// number (see [`IdScheme::Prefixed`]).
        IdPrefix = "ID_PREFIX" =>
            "the prefix of the users' id_in_service, before the E.164 number",
        /// `VERIGATOR_PIN_VALIDITY_SECS`: how long a started authentication is valid, in seconds,
        /// to set the handles' `expires_at` (Verigator does not say; unset by default).
        PinValidity = "PIN_VALIDITY_SECS" =>
            "how long a started authentication is valid, in seconds",
    }
}

/// Everything a [`Verigator`](crate::Verigator) and its [`VerigatorClient`](crate::VerigatorClient)
/// need, as [`VerigatorBuilder::config`] checked it;
/// [`VerigatorClient::new`](crate::VerigatorClient::new) checks it again, so a field changed
/// since cannot reach a request unchecked. `Debug` never shows the credentials
/// (`SecretString` shows `[REDACTED]`).
#[derive(Clone, Debug)]
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
    /// Timeouts, retries of safe operations, response size cap, `User-Agent`, and the
    /// application's `reqwest::Client` if it supplied one.
    pub http: HttpSettings,
}

impl VerigatorConfig {
    /// A configuration for Verigator's production host with default settings.
    pub fn new(
        username: impl Into<SecretString>,
        password: impl Into<SecretString>,
    ) -> Result<Self> {
        VerigatorBuilder::new(username, password).config()
    }

    /// Checks the settings, as [`VerigatorBuilder::config`] documents: a username without
    /// `:` and a password, both non-empty and sendable in a header; a well-formed service id
    /// if set; a PIN validity of at most [`MAX_PIN_VALIDITY`] if set. The base URL was checked
    /// when it was parsed.
    pub(crate) fn validate(&self) -> Result<()> {
        let user = self.username.expose_secret();
        if user.trim().is_empty() {
            return Err(invalid("the Messente API username is empty"));
        }
        if user.contains(':') {
            return Err(invalid(
                "the Messente API username contains ':', which X-Service-Auth \
                 (username:password) cannot carry unambiguously",
            ));
        }
        let password = self.password.expose_secret();
        if password.is_empty() {
            return Err(invalid("the Messente API password is empty"));
        }
        // Each half checked alone and in place (`:` itself fits a header), so that the joined
        // credentials are made only where the client makes its secret header.
        if !fits_header(user) || !fits_header(password) {
            return Err(invalid(
                "the Messente API username or password has characters that cannot be sent in \
                 a header",
            ));
        }
        if let Some(id) = &self.service_id {
            check_id("service id", id)?;
        }
        if self
            .pin_validity
            .is_some_and(|v| v.is_zero() || v > MAX_PIN_VALIDITY)
        {
            return Err(invalid(
                "the PIN validity must be positive and at most a year",
            ));
        }
        Ok(())
    }

    /// The service id if one is set, or an error saying how to set one: what
    /// [`VerigatorBuilder::build`] checks.
    pub(crate) fn require_service_id(&self) -> Result<String> {
        self.service_id.clone().ok_or_else(|| {
            invalid(format!(
                "the verifier needs a Verigator service: set {} or VerigatorBuilder::service_id \
                 (create one with VerigatorClient::create_service)",
                VerigatorSetting::ServiceId.name()
            ))
        })
    }
}

/// Builds a [`Verigator`](crate::Verigator) verifier ([`build`](Self::build)) or a
/// [`VerigatorClient`](crate::VerigatorClient) ([`build_client`](Self::build_client)). The HTTP
/// setters (`timeouts`, `retry`, `reqwest_client`, …) come with [`ConfigureHttp`].
///
/// ```
/// use std::time::Duration;
/// use phone_verify_core::http::{ConfigureHttp, Timeouts};
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
///
/// `Debug` never shows the credentials (`SecretString` shows `[REDACTED]`).
#[derive(Clone, Debug)]
pub struct VerigatorBuilder {
    username: Option<SecretString>,
    password: Option<SecretString>,
    base_url: String,
    service_id: Option<String>,
    id_scheme: IdScheme,
    pin_validity: Option<Duration>,
    user_cache_capacity: usize,
    http: HttpSettings,
}

phone_verify_core::base_url_setters!(VerigatorBuilder {
    base_url,
    sandbox: "verigator/v1"
});

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
            http: HttpSettings::default(),
        }
    }

    /// A builder for a phone-verify sandbox at `base_url` (e.g. `http://127.0.0.1:8025`), with
    /// the sandbox's default credentials [`SANDBOX_USERNAME`] and [`SANDBOX_PASSWORD`]. The
    /// sandbox starts without services: create one with
    /// [`VerigatorClient::create_service`](crate::VerigatorClient::create_service) and set it with
    /// [`service_id`](Self::service_id).
    pub fn sandbox(base_url: &str) -> Self {
        Self::new(SANDBOX_USERNAME, SANDBOX_PASSWORD).sandbox_url(base_url)
    }

    /// A builder from the process environment, each value read straight into a secret; see
    /// [`from_lookup`](Self::from_lookup) for the variables.
    pub fn from_env() -> Result<Self> {
        Self::from_secret_lookup(|name| std::env::var(name).ok().map(SecretString::from))
    }

    /// A builder from the variables `lookup` finds ([`VerigatorSetting`]; values are trimmed,
    /// empty values count as unset):
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `VERIGATOR_USERNAME` | the Messente API username | required, or [`SANDBOX_USERNAME`] with `VERIGATOR_SANDBOX_URL` |
    /// | `VERIGATOR_PASSWORD` | the Messente API password | required, or [`SANDBOX_PASSWORD`] with `VERIGATOR_SANDBOX_URL` |
    /// | `VERIGATOR_SERVICE_ID` | the service (ServiceID) whose users are verified | unset: required by `build`, not by `build_client` |
    /// | `VERIGATOR_BASE_URL` | the base URL (wins over the sandbox URL) | [`DEFAULT_BASE_URL`] |
    /// | `VERIGATOR_SANDBOX_URL` | a phone-verify sandbox's base URL: Verigator under `/verigator/v1` | unset |
    /// | `VERIGATOR_ID_PREFIX` | register users as `<prefix><E.164>` | unset: the bare E.164 number |
    /// | `VERIGATOR_PIN_VALIDITY_SECS` | validity of a started authentication, for `expires_at`, seconds: at most a day (86400) here, up to [`MAX_PIN_VALIDITY`] with [`pin_validity`](Self::pin_validity) | unset |
    /// | `VERIGATOR_CONNECT_TIMEOUT_SECS` | connect timeout, seconds (decimals allowed) | 5 |
    /// | `VERIGATOR_ATTEMPT_TIMEOUT_SECS` | timeout of one attempt, seconds | 10 |
    /// | `VERIGATOR_OVERALL_TIMEOUT_SECS` | timeout of an operation with its retries, seconds | 30 |
    /// | `VERIGATOR_MAX_ATTEMPTS` | attempts of a safe operation, first included (starting an authentication: always 1) | 3 |
    ///
    /// Credentials, URLs and ids are checked when the builder builds; a malformed number fails
    /// here with [`ErrorKind::InvalidInput`](phone_verify_core::ErrorKind::InvalidInput)
    /// naming the variable. Every `…_SECS` variable is a number of seconds above 0 and at most
    /// a day (86400), decimals allowed.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        Self::from_secret_lookup(|name| lookup(name).map(SecretString::from))
    }

    /// [`from_lookup`](Self::from_lookup) with a lookup that gives each value as a secret, so
    /// that the credentials are never in a plain `String` (the facade's registry passes its
    /// settings this way).
    pub fn from_secret_lookup(lookup: impl Fn(&str) -> Option<SecretString>) -> Result<Self> {
        Self::read(&EnvReader::new(lookup)).map_err(|e| e.with_provider(PROVIDER))
    }

    fn read(env: &EnvReader<impl Fn(&str) -> Option<SecretString>>) -> Result<Self> {
        use VerigatorSetting as S;
        let sandbox = env.get(S::SandboxUrl);
        let no_credentials = !env.is_set(S::Username) && !env.is_set(S::Password);
        let mut builder = if no_credentials && sandbox.is_some() {
            Self::new(SANDBOX_USERNAME, SANDBOX_PASSWORD)
        } else {
            Self::new(
                env.require_secret(S::Username)?,
                env.require_secret(S::Password)?,
            )
        };
        if let Some(url) = sandbox {
            builder = builder.sandbox_url(&url);
        }
        if let Some(url) = env.get(S::BaseUrl) {
            builder = builder.base_url(&url);
        }
        if let Some(id) = env.get(S::ServiceId) {
            builder = builder.service_id(id);
        }
        if let Some(prefix) = env.get(S::IdPrefix) {
            builder = builder.id_scheme(IdScheme::prefixed(prefix));
        }
        if let Some(validity) = env.seconds(S::PinValidity)? {
            builder = builder.pin_validity(validity);
        }
        builder.http.apply_env(S::PREFIX, env.lookup())?;
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
    /// default handles have no `expires_at`; set it to what your Verigator account uses (at
    /// most [`MAX_PIN_VALIDITY`]).
    #[must_use]
    pub fn pin_validity(mut self, validity: Duration) -> Self {
        self.pin_validity = Some(validity);
        self
    }

    /// Sets how many phones' user ids the verifier remembers, least recently used first out
    /// (default [`DEFAULT_USER_CACHE_CAPACITY`]; 0 disables the cache). A remembered phone
    /// starts with no user request at all; see [`Verigator`](crate::Verigator) for how users are found.
    #[must_use]
    pub fn user_cache_capacity(mut self, capacity: usize) -> Self {
        self.user_cache_capacity = capacity;
        self
    }

    /// Checks the settings: a username without `:` and a password, both non-empty and
    /// sendable in a header; a valid base URL (`https`, or `http` on loopback only); a
    /// well-formed service id if set; a positive PIN validity of at most [`MAX_PIN_VALIDITY`]
    /// if set.
    pub fn config(&self) -> Result<VerigatorConfig> {
        let username = self
            .username
            .clone()
            .ok_or_else(|| invalid("the Messente API username is missing"))?;
        let password = self
            .password
            .clone()
            .ok_or_else(|| invalid("the Messente API password is missing"))?;
        let base_url = BaseUrl::parse(&self.base_url)
            .map_err(|e| invalid(format!("base URL: {}", e.message())).with_source(e))?;
        let config = VerigatorConfig {
            username,
            password,
            base_url,
            service_id: self.service_id.as_deref().map(|id| id.trim().to_owned()),
            id_scheme: self.id_scheme.clone(),
            pin_validity: self.pin_validity,
            user_cache_capacity: self.user_cache_capacity,
            http: self.http.clone(),
        };
        config.validate()?;
        Ok(config)
    }
}

impl ConfigureHttp for VerigatorBuilder {
    fn http_settings_mut(&mut self) -> &mut HttpSettings {
        &mut self.http
    }
}

/// An [`InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) error of Verigator's.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_input(message).with_provider(PROVIDER)
}

#[cfg(test)]
mod tests {
    use phone_verify_core::kit::check_env_settings;
    use std::collections::HashMap;

    use phone_verify_core::{ErrorKind, PhoneNumber};

    use super::VerigatorSetting as S;
    use super::*;

    fn env(pairs: &[(S, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.name().to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_every_variable() {
        let builder = VerigatorBuilder::from_lookup(env(&[
            (S::Username, " canary-user "),
            (S::Password, " canary-pass "),
            (S::ServiceId, " 0c9b2d4e-1f3a-4b5c-8d6e-7f8091a2b3c4 "),
            (S::BaseUrl, "https://verigator.example.test/v1"),
            (S::IdPrefix, "shop-"),
            (S::PinValidity, "300"),
            (S::ConnectTimeout, "1.5"),
            (S::AttemptTimeout, "4"),
            (S::OverallTimeout, "12"),
            (S::MaxAttempts, "2"),
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
        assert_eq!(
            config.http.config().timeouts.connect,
            Duration::from_millis(1500)
        );
        assert_eq!(
            config.http.config().timeouts.attempt,
            Duration::from_secs(4)
        );
        assert_eq!(
            config.http.config().timeouts.overall,
            Duration::from_secs(12)
        );
        assert_eq!(config.http.config().retry.max_attempts, 2);
        for shown in [format!("{builder:?}"), format!("{config:?}")] {
            assert!(!shown.contains("canary"), "{shown}");
        }
        assert!(builder.build().is_ok());
    }

    #[test]
    fn settings_are_named_once_under_the_prefix() {
        assert_eq!(check_env_settings::<S>(), Ok(()));
        assert_eq!(S::ALL.len(), 11);
        // The credentials, which `EnvReader` gives only as secrets.
        let secret: Vec<_> = S::ALL
            .iter()
            .filter(|setting| setting.is_secret())
            .collect();
        assert_eq!(secret, [&S::Username, &S::Password]);
    }

    #[test]
    fn defaults_and_sandbox() {
        let config = VerigatorBuilder::from_lookup(env(&[(S::Username, "u"), (S::Password, "p")]))
            .unwrap()
            .config()
            .unwrap();
        assert_eq!(config.base_url.to_string(), DEFAULT_BASE_URL);
        assert_eq!(config.service_id, None);
        assert_eq!(config.pin_validity, None);
        let phone = PhoneNumber::parse("+37251234567").unwrap();
        assert_eq!(config.id_scheme.id_for(&phone).unwrap(), "+37251234567");

        let sandbox =
            VerigatorBuilder::from_lookup(env(&[(S::SandboxUrl, "http://127.0.0.1:8025/")]))
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
            (S::SandboxUrl, "http://127.0.0.1:8025"),
            (S::BaseUrl, "http://localhost:9/v1"),
        ]))
        .unwrap()
        .config()
        .unwrap();
        assert_eq!(overridden.base_url.to_string(), "http://localhost:9/v1");

        // Half of the credentials is a mistake, not a request for the sandbox's.
        let half = |pairs: &[(S, &str)]| {
            let mut pairs = pairs.to_vec();
            pairs.push((S::SandboxUrl, "http://127.0.0.1:8025"));
            let err = VerigatorBuilder::from_lookup(env(&pairs)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{pairs:?}");
            err.to_string()
        };
        assert!(half(&[(S::Username, "u")]).contains(S::Password.name()));
        assert!(half(&[(S::Password, "p")]).contains(S::Username.name()));
    }

    #[test]
    fn refuses_bad_settings() {
        let refused = |pairs: &[(S, &str)]| {
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
            (S::Username, "u"),
            (S::Password, "p"),
            (S::ServiceId, "s-1"),
        ];
        assert!(refused(&[]).contains(S::Username.name()));
        assert!(refused(&[(S::Username, "u")]).contains(S::Password.name()));
        assert!(refused(&[(S::Password, "p")]).contains(S::Username.name()));
        assert!(refused(&[(S::Username, "u"), (S::Password, "p")]).contains(S::ServiceId.name()));
        for (name, value) in [
            (S::Username, "user:name"),
            (S::Password, "line\nbreak"),
            (S::BaseUrl, "http://api.verigator.com/v1"),
            (S::ServiceId, "../other"),
            (S::PinValidity, "-1"),
            (S::ConnectTimeout, "soon"),
            (S::AttemptTimeout, "0"),
            (S::OverallTimeout, "NaN"),
            (S::MaxAttempts, "0"),
        ] {
            let mut pairs = ok.to_vec();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let message = refused(&pairs);
            assert!(!message.contains("user:name"), "{message}");
        }
        assert!(refused(&[(S::Username, "u:x"), (S::Password, "p")]).contains("':'"));
        let empty = VerigatorBuilder::new(" ", "p").build_client().unwrap_err();
        assert_eq!(empty.kind(), ErrorKind::InvalidInput);
        let empty = VerigatorBuilder::new("u", "").build_client().unwrap_err();
        assert_eq!(empty.kind(), ErrorKind::InvalidInput);
        for refused in [
            Duration::ZERO,
            MAX_PIN_VALIDITY + Duration::from_secs(1),
            Duration::MAX,
        ] {
            let err = VerigatorBuilder::new("u", "p")
                .pin_validity(refused)
                .build_client()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{refused:?}");
        }
        let longest = VerigatorBuilder::new("u", "p")
            .pin_validity(MAX_PIN_VALIDITY)
            .config()
            .unwrap();
        assert_eq!(longest.pin_validity, Some(MAX_PIN_VALIDITY));
    }

    /// A value that is not what its variable holds is refused naming the variable, never
    /// showing the value: it may be the password, set where a number belongs.
    #[test]
    fn bad_values_are_never_shown() {
        for setting in [S::PinValidity, S::MaxAttempts, S::ConnectTimeout] {
            let err = VerigatorBuilder::from_lookup(env(&[
                (S::Username, "u"),
                (S::Password, "p"),
                (setting, "canary-pass"),
            ]))
            .unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(setting.name()), "{shown}");
            assert!(!shown.contains("canary"), "{shown}");
        }
    }

    /// A lookup of secrets reads the same variables as a lookup of strings, the credentials
    /// trimmed; with the sandbox and no credentials, the sandbox's.
    #[test]
    fn reads_a_lookup_of_secrets() {
        let config = VerigatorBuilder::from_secret_lookup(|name| match name {
            "VERIGATOR_USERNAME" => Some(SecretString::from(" u-1\n")),
            "VERIGATOR_PASSWORD" => Some(SecretString::from("p-1 ")),
            _ => None,
        })
        .unwrap()
        .config()
        .unwrap();
        assert_eq!(config.username.expose_secret(), "u-1");
        assert_eq!(config.password.expose_secret(), "p-1");
        let sandbox = VerigatorBuilder::from_secret_lookup(|name| {
            (name == S::SandboxUrl.name()).then(|| SecretString::from("http://127.0.0.1:8025"))
        })
        .unwrap()
        .config()
        .unwrap();
        assert_eq!(sandbox.username.expose_secret(), SANDBOX_USERNAME);
    }

    /// Each half of `X-Service-Auth` must be sendable in a header; `:` in the password is.
    #[test]
    fn credentials_that_cannot_be_sent_are_refused() {
        for (user, password) in [("u\u{7f}", "p"), ("u", "p\u{0}"), ("u\r", "p")] {
            let err = VerigatorBuilder::new(user, password)
                .build_client()
                .unwrap_err();
            assert!(err.to_string().contains("cannot be sent"), "{err}");
        }
    }

    #[test]
    fn passwords_may_contain_colons() {
        let client = VerigatorBuilder::new("user", "pa:ss").build_client();
        assert!(client.is_ok());
    }
}
