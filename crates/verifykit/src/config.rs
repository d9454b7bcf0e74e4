//! [`VerifyKitConfig`] and [`VerifyKitBuilder`]: the server key, the two hosts and the HTTP
//! settings, from code or from the environment ([`VerifyKitSetting`]); and [`PROVIDER`].
//!
//! The builder's `build_client` lives with the client (`client.rs`) and its `build` with the
//! verifier (`verifier.rs`), so that this file imports none of the files after it.

use std::net::IpAddr;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, HttpSettings};
use phone_verify_core::kit::{BaseUrl, EnvReader, fits_header, sandbox_url};
use phone_verify_core::secrecy::{ExposeSecret, SecretString};
use phone_verify_core::{Error, ProviderId, Result};

/// VerifyKit's provider id, stored in every handle: `verifykit`.
pub const PROVIDER: ProviderId = ProviderId::new_static("verifykit");

/// VerifyKit's web REST host: `init`, `start`, `check`, `check-whatsapp`, `country`,
/// `send-otp`, `check-otp` and `blacklist/*`.
pub const DEFAULT_WEB_REST_URL: &str = "https://web-rest.verifykit.com/v1.0";
/// VerifyKit's API host: `result`, `access-token` and `send-whatsapp-message`.
pub const DEFAULT_API_URL: &str = "https://api.verifykit.com/v1.0";
/// The server key the phone-verify sandbox accepts by default.
pub const SANDBOX_SERVER_KEY: &str = "sandbox-server-key";

/// How long a reverse flow's handle lasts by default: 10 minutes. VerifyKit documents no
/// lifetime for WhatsApp and Telegram reverse flows; this is phone-verify's choice, twice the
/// 5 minutes VerifyKit's WhatsApp messages give the user, so that a flow VerifyKit still
/// accepts is not given up early, and a forgotten one is not polled for ever.
pub const DEFAULT_REVERSE_FLOW_TTL: Duration = Duration::from_secs(10 * 60);

/// The longest reverse-flow lifetime [`VerifyKitBuilder::reverse_flow_ttl`] takes: a year.
pub const MAX_REVERSE_FLOW_TTL: Duration = Duration::from_secs(366 * 86_400);

phone_verify_core::env_settings! {
    /// A VerifyKit setting read from the environment (or the registry's config file) by
    /// [`VerifyKitBuilder::from_lookup`]; [`name`](Self::name) is the variable.
    ///
    /// ```
    /// use phone_verify_verifykit::VerifyKitSetting;
    ///
    /// assert_eq!(VerifyKitSetting::ServerKey.name(), "VERIFYKIT_SERVER_KEY");
    /// assert_eq!(VerifyKitSetting::MaxAttempts.name(), "VERIFYKIT_MAX_ATTEMPTS");
    /// ```
    pub enum VerifyKitSetting: "VERIFYKIT" {
        /// `VERIFYKIT_SERVER_KEY`: the server key (`X-Vfk-Server-Key`); required unless
        /// `VERIFYKIT_SANDBOX_URL` is set.
        ServerKey = secret "SERVER_KEY" =>
            "the VerifyKit server key (X-Vfk-Server-Key)",
        /// `VERIFYKIT_SANDBOX_URL`: the base URL of a phone-verify sandbox; points both hosts at it
        /// (see [`VerifyKitBuilder::sandbox_url`]) and makes the server key default to
        /// [`SANDBOX_SERVER_KEY`].
        SandboxUrl = "SANDBOX_URL" =>
            "the base URL of a phone-verify sandbox, for both hosts",
        /// `VERIFYKIT_WEB_REST_URL`: the web REST base URL (default [`DEFAULT_WEB_REST_URL`]).
        WebRestUrl = "WEB_REST_URL" =>
            "the web REST base URL",
        /// `VERIFYKIT_API_URL`: the API base URL (default [`DEFAULT_API_URL`]).
        ApiUrl = "API_URL" =>
            "the API base URL",
        /// `VERIFYKIT_FALLBACK_END_USER_IP`: the IP address sent as `X-Vfk-Forwarded-For` when a
        /// web REST request's [`RequestContext`](phone_verify_core::RequestContext) has none (see
        /// [`VerifyKitBuilder::fallback_end_user_ip`]).
        FallbackEndUserIp = "FALLBACK_END_USER_IP" =>
            "the IP sent as X-Vfk-Forwarded-For when a request's context has none",
        /// `VERIFYKIT_REVERSE_FLOW_TTL_SECS`: how long a WhatsApp or Telegram reverse flow's handle
        /// lasts, in seconds (see [`VerifyKitBuilder::reverse_flow_ttl`]).
        ReverseFlowTtl = "REVERSE_FLOW_TTL_SECS" =>
            "the lifetime of a reverse flow's handle, in seconds",
    }
}

/// Everything a `VerifyKitClient` needs, as [`VerifyKitBuilder::config`] checked it;
/// `VerifyKitClient::new` checks it again, so a field changed since cannot reach a request
/// unchecked. `Debug` never shows the server key (a
/// [`SecretString`] shows as `[REDACTED]`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerifyKitConfig {
    /// The server key, sent as `X-Vfk-Server-Key`.
    pub server_key: SecretString,
    /// The web REST base URL.
    pub web_rest_url: BaseUrl,
    /// The API base URL.
    pub api_url: BaseUrl,
    /// Timeouts, retries of safe operations, response size cap, `User-Agent`, and the
    /// application's `reqwest::Client` if one was supplied.
    pub http: HttpSettings,
    /// The IP sent as `X-Vfk-Forwarded-For` on a web REST request whose context has no end-user
    /// IP; `None` refuses such requests.
    pub fallback_end_user_ip: Option<IpAddr>,
    /// The lifetime of a reverse flow's handle ([`DEFAULT_REVERSE_FLOW_TTL`] by default).
    pub reverse_flow_ttl: Duration,
}

impl VerifyKitConfig {
    /// A configuration for VerifyKit's production hosts with default HTTP settings.
    pub fn new(server_key: impl Into<SecretString>) -> Result<Self> {
        VerifyKitBuilder::new(server_key).config()
    }

    /// Checks the settings, as [`VerifyKitBuilder::config`] documents: a non-empty server key
    /// that can be sent in a header, and a reverse-flow lifetime longer than zero and at most
    /// [`MAX_REVERSE_FLOW_TTL`]. The base URLs were checked when they were parsed.
    pub(crate) fn validate(&self) -> Result<()> {
        let key = self.server_key.expose_secret();
        if key.trim().is_empty() {
            return Err(invalid("the VerifyKit server key is empty"));
        }
        if !fits_header(key) {
            return Err(invalid(
                "the VerifyKit server key has characters that cannot be sent in a header",
            ));
        }
        require_reverse_flow_ttl(self.reverse_flow_ttl)
    }
}

/// A reverse flow's lifetime: longer than zero, at most [`MAX_REVERSE_FLOW_TTL`].
pub(crate) fn require_reverse_flow_ttl(ttl: Duration) -> Result<()> {
    if ttl.is_zero() || ttl > MAX_REVERSE_FLOW_TTL {
        return Err(invalid(
            "the reverse flow lifetime must be longer than zero and at most a year",
        ));
    }
    Ok(())
}

/// Builds a `VerifyKit` verifier (`build`, in `verifier.rs`) or a `VerifyKitClient`
/// (`build_client`, in `client.rs`). The HTTP setters (`timeouts`, `retry`, `reqwest_client`,
/// …) come with [`ConfigureHttp`].
///
/// ```
/// use std::time::Duration;
/// use phone_verify_core::http::{ConfigureHttp, RetryPolicy, Timeouts};
/// use phone_verify_verifykit::VerifyKitBuilder;
///
/// let verifier = VerifyKitBuilder::new("my-server-key")
///     .timeouts(Timeouts::default().with_overall(Duration::from_secs(20)))
///     .retry(RetryPolicy::default().with_max_attempts(2))
///     .build()?;
/// assert!(!format!("{verifier:?}").contains("my-server-key"));
///
/// // Both hosts of a local phone-verify sandbox, with its default key; requests without an
/// // end-user IP in their context send the loopback address:
/// let sandbox = VerifyKitBuilder::sandbox("http://127.0.0.1:8025")
///     .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
///     .build()?;
/// assert_eq!(
///     sandbox.client().web_rest_url().to_string(),
///     "http://127.0.0.1:8025/verifykit/web-rest/v1.0"
/// );
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct VerifyKitBuilder {
    server_key: Option<SecretString>,
    web_rest_url: String,
    api_url: String,
    http: HttpSettings,
    fallback_end_user_ip: Option<IpAddr>,
    reverse_flow_ttl: Duration,
}

impl VerifyKitBuilder {
    /// A builder for VerifyKit's production hosts with `server_key`.
    pub fn new(server_key: impl Into<SecretString>) -> Self {
        Self {
            server_key: Some(server_key.into()),
            web_rest_url: DEFAULT_WEB_REST_URL.to_owned(),
            api_url: DEFAULT_API_URL.to_owned(),
            http: HttpSettings::default(),
            fallback_end_user_ip: None,
            reverse_flow_ttl: DEFAULT_REVERSE_FLOW_TTL,
        }
    }

    /// A builder for a phone-verify sandbox at `base_url` (e.g. `http://127.0.0.1:8025`), with
    /// the sandbox's default key [`SANDBOX_SERVER_KEY`].
    pub fn sandbox(base_url: &str) -> Self {
        Self::new(SANDBOX_SERVER_KEY).sandbox_url(base_url)
    }

    /// A builder from the process environment, each value read straight into a secret; see
    /// [`from_lookup`](Self::from_lookup) for the variables.
    pub fn from_env() -> Result<Self> {
        Self::from_secret_lookup(|name| std::env::var(name).ok().map(SecretString::from))
    }

    /// A builder from the variables `lookup` finds, those of [`VerifyKitSetting`] (blank values
    /// count as unset):
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `VERIFYKIT_SERVER_KEY` | the server key (`X-Vfk-Server-Key`) | required, or [`SANDBOX_SERVER_KEY`] with `VERIFYKIT_SANDBOX_URL` |
    /// | `VERIFYKIT_SANDBOX_URL` | a phone-verify sandbox's base URL: both hosts under it | unset |
    /// | `VERIFYKIT_WEB_REST_URL` | the web REST base URL (wins over the sandbox URL) | [`DEFAULT_WEB_REST_URL`] |
    /// | `VERIFYKIT_API_URL` | the API base URL (wins over the sandbox URL) | [`DEFAULT_API_URL`] |
    /// | `VERIFYKIT_CONNECT_TIMEOUT_SECS` | connect timeout, seconds (decimals allowed) | 5 |
    /// | `VERIFYKIT_ATTEMPT_TIMEOUT_SECS` | timeout of one attempt, seconds | 10 |
    /// | `VERIFYKIT_OVERALL_TIMEOUT_SECS` | timeout of an operation with its retries, seconds | 30 |
    /// | `VERIFYKIT_MAX_ATTEMPTS` | attempts of a safe operation, first included (sends: always 1) | 3 |
    /// | `VERIFYKIT_FALLBACK_END_USER_IP` | the IP sent as `X-Vfk-Forwarded-For` when a request's context has none | unset: such requests are refused |
    /// | `VERIFYKIT_REVERSE_FLOW_TTL_SECS` | lifetime of a reverse flow's handle, seconds (decimals allowed, at most 86400) | 600 |
    ///
    /// URLs are checked when the builder builds; a malformed number fails here with
    /// [`ErrorKind::InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) naming the
    /// variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        Self::from_secret_lookup(|name| lookup(name).map(SecretString::from))
    }

    /// [`from_lookup`](Self::from_lookup) with a lookup that gives each value as a secret, so
    /// that the server key is never in a plain `String` (the facade's registry passes its
    /// settings this way).
    pub fn from_secret_lookup(lookup: impl Fn(&str) -> Option<SecretString>) -> Result<Self> {
        Self::read(&EnvReader::new(lookup)).map_err(|e| e.with_provider(PROVIDER))
    }

    fn read(env: &EnvReader<impl Fn(&str) -> Option<SecretString>>) -> Result<Self> {
        let mut builder = match env.get(VerifyKitSetting::SandboxUrl) {
            None => Self::new(env.require_secret(VerifyKitSetting::ServerKey)?),
            Some(url) => match env.get_secret(VerifyKitSetting::ServerKey) {
                Some(key) => Self::sandbox(&url).server_key(key),
                None => Self::sandbox(&url),
            },
        };
        if let Some(url) = env.get(VerifyKitSetting::WebRestUrl) {
            builder = builder.web_rest_url(&url);
        }
        if let Some(url) = env.get(VerifyKitSetting::ApiUrl) {
            builder = builder.api_url(&url);
        }
        builder.fallback_end_user_ip = env.parse(
            VerifyKitSetting::FallbackEndUserIp,
            "an IPv4 or IPv6 address such as 203.0.113.7",
        )?;
        if let Some(ttl) = env.seconds(VerifyKitSetting::ReverseFlowTtl)? {
            builder = builder.reverse_flow_ttl(ttl);
        }
        builder
            .http
            .apply_env(VerifyKitSetting::PREFIX, env.lookup())?;
        Ok(builder)
    }

    /// Sets the server key.
    #[must_use]
    pub fn server_key(mut self, server_key: impl Into<SecretString>) -> Self {
        self.server_key = Some(server_key.into());
        self
    }

    /// Sets the web REST base URL (default [`DEFAULT_WEB_REST_URL`]).
    #[must_use]
    pub fn web_rest_url(mut self, url: &str) -> Self {
        url.clone_into(&mut self.web_rest_url);
        self
    }

    /// Sets the API base URL (default [`DEFAULT_API_URL`]).
    #[must_use]
    pub fn api_url(mut self, url: &str) -> Self {
        url.clone_into(&mut self.api_url);
        self
    }

    /// Points both hosts at a phone-verify sandbox at `base_url`:
    /// `{base_url}/verifykit/web-rest/v1.0` and `{base_url}/verifykit/api/v1.0`. The server
    /// key is left as it is.
    #[must_use]
    pub fn sandbox_url(mut self, base_url: &str) -> Self {
        self.web_rest_url = sandbox_url(base_url, "verifykit/web-rest/v1.0");
        self.api_url = sandbox_url(base_url, "verifykit/api/v1.0");
        self
    }

    /// The IP address sent as `X-Vfk-Forwarded-For` on a web REST request whose
    /// [`RequestContext`](phone_verify_core::RequestContext) has no `end_user_ip`.
    ///
    /// VerifyKit asks for the end user's IP on every request, and without a fallback such a
    /// request is refused with `InvalidInput` before it is sent. Set one only where no end user
    /// is behind the request (a sandbox, a batch job); a web backend passes each user's IP in
    /// the request context instead.
    #[must_use]
    pub fn fallback_end_user_ip(mut self, ip: IpAddr) -> Self {
        self.fallback_end_user_ip = Some(ip);
        self
    }

    /// How long a WhatsApp or Telegram reverse flow's handle lasts (its `expires_at`): default
    /// [`DEFAULT_REVERSE_FLOW_TTL`], at most [`MAX_REVERSE_FLOW_TTL`]. Past it, a check that
    /// VerifyKit still answers as pending is `Rejected(Expired)`, and `wait_for_outcome` stops.
    #[must_use]
    pub fn reverse_flow_ttl(mut self, ttl: Duration) -> Self {
        self.reverse_flow_ttl = ttl;
        self
    }

    /// Checks the settings: a non-empty server key that can be sent in a header, valid base
    /// URLs (`https`, or `http` on loopback only), and a reverse-flow lifetime longer than zero
    /// and at most [`MAX_REVERSE_FLOW_TTL`].
    pub fn config(&self) -> Result<VerifyKitConfig> {
        let server_key = self
            .server_key
            .clone()
            .ok_or_else(|| invalid("the VerifyKit server key is missing"))?;
        let web_rest_url = BaseUrl::parse(&self.web_rest_url)
            .map_err(|e| invalid(format!("web REST URL: {}", e.message())).with_source(e))?;
        let api_url = BaseUrl::parse(&self.api_url)
            .map_err(|e| invalid(format!("API URL: {}", e.message())).with_source(e))?;
        let config = VerifyKitConfig {
            server_key,
            web_rest_url,
            api_url,
            http: self.http.clone(),
            fallback_end_user_ip: self.fallback_end_user_ip,
            reverse_flow_ttl: self.reverse_flow_ttl,
        };
        config.validate()?;
        Ok(config)
    }
}

impl ConfigureHttp for VerifyKitBuilder {
    fn http_settings_mut(&mut self) -> &mut HttpSettings {
        &mut self.http
    }
}

/// An [`InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) error of VerifyKit.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_input(message).with_provider(PROVIDER)
}

#[cfg(test)]
mod tests {
    use phone_verify_core::kit::check_env_settings;
    use std::collections::HashMap;
    use std::time::Duration;

    use phone_verify_core::ErrorKind;
    use phone_verify_core::http::{RetryPolicy, Timeouts};

    use super::VerifyKitSetting::{
        ApiUrl, AttemptTimeout, ConnectTimeout, FallbackEndUserIp, MaxAttempts, OverallTimeout,
        ReverseFlowTtl, SandboxUrl, ServerKey, WebRestUrl,
    };
    use super::*;

    fn env(pairs: &[(VerifyKitSetting, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<&'static str, String> = pairs
            .iter()
            .map(|(k, v)| (k.name(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_every_variable() {
        let builder = VerifyKitBuilder::from_lookup(env(&[
            (ServerKey, " canary-key-123 "),
            (WebRestUrl, "https://web.example.test/v1.0"),
            (ApiUrl, "https://api.example.test/v1.0/"),
            (ConnectTimeout, "1.5"),
            (AttemptTimeout, "4"),
            (OverallTimeout, "12"),
            (MaxAttempts, "5"),
            (FallbackEndUserIp, " 2001:db8::7 "),
            (ReverseFlowTtl, "90.5"),
        ]))
        .unwrap();
        let config = builder.config().unwrap();
        assert_eq!(config.server_key.expose_secret(), "canary-key-123");
        assert_eq!(
            config.web_rest_url.to_string(),
            "https://web.example.test/v1.0"
        );
        assert_eq!(config.api_url.to_string(), "https://api.example.test/v1.0");
        let http = config.http.config();
        assert_eq!(http.timeouts.connect, Duration::from_millis(1500));
        assert_eq!(http.timeouts.attempt, Duration::from_secs(4));
        assert_eq!(http.timeouts.overall, Duration::from_secs(12));
        assert_eq!(http.retry.max_attempts, 5);
        assert_eq!(
            config.fallback_end_user_ip,
            Some("2001:db8::7".parse().unwrap())
        );
        assert_eq!(config.reverse_flow_ttl, Duration::from_millis(90_500));
        let shown = format!("{builder:?}{config:?}");
        assert!(
            !shown.contains("canary") && shown.contains("REDACTED"),
            "{shown}"
        );
    }

    #[test]
    fn settings_name_every_variable_once_under_the_prefix() {
        assert_eq!(check_env_settings::<VerifyKitSetting>(), Ok(()));
        // The server key is the one credential, which `EnvReader` gives only as a secret.
        let secret: Vec<_> = VerifyKitSetting::ALL
            .iter()
            .filter(|setting| setting.is_secret())
            .collect();
        assert_eq!(secret, [&ServerKey]);
        let docs = [
            include_str!("../README.md"),
            include_str!("../../../docs/providers/verifykit.md"),
        ];
        for setting in VerifyKitSetting::ALL {
            let name = setting.name();
            for doc in docs {
                assert!(doc.contains(name), "{name} is not documented");
            }
        }
    }

    #[test]
    fn defaults_and_sandbox() {
        let config = VerifyKitBuilder::from_lookup(env(&[(ServerKey, "k")]))
            .unwrap()
            .config()
            .unwrap();
        assert_eq!(config.web_rest_url.to_string(), DEFAULT_WEB_REST_URL);
        assert_eq!(config.api_url.to_string(), DEFAULT_API_URL);
        assert_eq!(config.http.config().timeouts, Timeouts::default());
        assert!(config.http.reqwest().is_none());
        assert_eq!(config.fallback_end_user_ip, None, "no IP is made up");
        assert_eq!(config.reverse_flow_ttl, DEFAULT_REVERSE_FLOW_TTL);
        assert_eq!(DEFAULT_REVERSE_FLOW_TTL, Duration::from_secs(600));

        let sandbox = VerifyKitBuilder::from_lookup(env(&[
            (SandboxUrl, "http://127.0.0.1:8025/"),
            (ApiUrl, "http://localhost:9/api"),
            (ServerKey, ""),
        ]))
        .unwrap()
        .config()
        .unwrap();
        assert_eq!(sandbox.server_key.expose_secret(), SANDBOX_SERVER_KEY);
        assert_eq!(
            sandbox.web_rest_url.to_string(),
            "http://127.0.0.1:8025/verifykit/web-rest/v1.0"
        );
        assert_eq!(sandbox.api_url.to_string(), "http://localhost:9/api");

        let keyed = VerifyKitBuilder::from_lookup(env(&[
            (SandboxUrl, "http://127.0.0.1:8025"),
            (ServerKey, "own-key"),
        ]))
        .unwrap()
        .config()
        .unwrap();
        assert_eq!(keyed.server_key.expose_secret(), "own-key");
    }

    /// A value that is not what its variable holds is refused naming the variable, never
    /// showing the value: it may be the server key, set where a number belongs.
    #[test]
    fn bad_values_are_never_shown() {
        for setting in [
            ConnectTimeout,
            AttemptTimeout,
            OverallTimeout,
            MaxAttempts,
            FallbackEndUserIp,
            ReverseFlowTtl,
        ] {
            let err =
                VerifyKitBuilder::from_lookup(env(&[(ServerKey, "k"), (setting, "canary-key")]))
                    .unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(setting.name()), "{shown}");
            assert!(!shown.contains("canary"), "{shown}");
        }
    }

    /// A lookup of secrets reads the same variables as a lookup of strings: the server key
    /// trimmed, read once, and never in a plain `String`.
    #[test]
    fn reads_a_lookup_of_secrets() {
        let asked = std::cell::RefCell::new(Vec::new());
        let config = VerifyKitBuilder::from_secret_lookup(|name| {
            asked.borrow_mut().push(name.to_owned());
            (name == ServerKey.name()).then(|| SecretString::from(" k-1\n"))
        })
        .unwrap()
        .config()
        .unwrap();
        assert_eq!(config.server_key.expose_secret(), "k-1");
        let asked = asked.into_inner();
        assert_eq!(
            asked
                .iter()
                .filter(|name| *name == ServerKey.name())
                .count(),
            1,
            "{asked:?}"
        );
    }

    #[test]
    fn http_setters_reach_the_config() {
        let config = VerifyKitBuilder::new("k")
            .timeouts(Timeouts::default().with_attempt(Duration::from_secs(3)))
            .retry(RetryPolicy::never())
            .reqwest_client(reqwest::Client::new())
            .config()
            .unwrap();
        assert_eq!(
            config.http.config().timeouts.attempt,
            Duration::from_secs(3)
        );
        assert_eq!(config.http.config().retry.max_attempts, 1);
        assert!(config.http.reqwest().is_some());
    }

    #[test]
    fn refuses_bad_settings() {
        let missing = VerifyKitBuilder::from_lookup(env(&[])).unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::InvalidInput);
        assert!(missing.to_string().contains(ServerKey.name()));
        assert_eq!(missing.provider(), Some(&PROVIDER));
        for (setting, value) in [
            (ConnectTimeout, "soon"),
            (AttemptTimeout, "-1"),
            (OverallTimeout, "0"),
            (MaxAttempts, "0"),
            (MaxAttempts, "many"),
            (FallbackEndUserIp, "localhost"),
            (FallbackEndUserIp, "203.0.113.300"),
            (ReverseFlowTtl, "0"),
            (ReverseFlowTtl, "-5"),
            (ReverseFlowTtl, "ten minutes"),
            (ReverseFlowTtl, "inf"),
        ] {
            let err = VerifyKitBuilder::from_lookup(env(&[(ServerKey, "k"), (setting, value)]))
                .unwrap_err();
            let name = setting.name();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}={value}");
            assert!(err.to_string().contains(name), "{err}");
            assert_eq!(err.provider(), Some(&PROVIDER), "{name}={value}");
        }
        for builder in [
            VerifyKitBuilder::new(""),
            VerifyKitBuilder::new("   "),
            VerifyKitBuilder::new("line\nbreak"),
            VerifyKitBuilder::new("k").web_rest_url("http://web-rest.verifykit.com/v1.0"),
            VerifyKitBuilder::new("k").api_url("not a url"),
            VerifyKitBuilder::new("k").reverse_flow_ttl(Duration::ZERO),
            VerifyKitBuilder::new("k")
                .reverse_flow_ttl(MAX_REVERSE_FLOW_TTL + Duration::from_secs(1)),
            VerifyKitBuilder::new("k").reverse_flow_ttl(Duration::MAX),
        ] {
            let err = builder.config().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{builder:?}");
            assert!(!err.to_string().contains("line\nbreak"));
        }
        let longest = VerifyKitBuilder::new("k")
            .reverse_flow_ttl(MAX_REVERSE_FLOW_TTL)
            .config()
            .unwrap();
        assert_eq!(longest.reverse_flow_ttl, MAX_REVERSE_FLOW_TTL);
    }
}
