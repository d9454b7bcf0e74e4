//! [`TwilioSetting`], [`TwilioConfig`] and [`TwilioBuilder`]: the credentials, the Verify
//! service, the base URL and the HTTP settings, from code or from the environment.

use std::fmt;

use phone_verify_core::http::{ConfigureHttp, HttpSettings};
use phone_verify_core::kit::{BaseUrl, EnvReader};
use phone_verify_core::{Error, ProviderId, Result};
use secrecy::{ExposeSecret, SecretString};

/// The provider id, `twilio`.
pub const PROVIDER: ProviderId = ProviderId::new_static("twilio");

/// Twilio Verify v2's base URL.
pub const DEFAULT_BASE_URL: &str = "https://verify.twilio.com/v2";
/// The Account SID the phone-verify sandbox accepts (its `config::TWILIO_ACCOUNT_SID`).
pub const SANDBOX_ACCOUNT_SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// The auth token the phone-verify sandbox accepts with [`SANDBOX_ACCOUNT_SID`] (its
/// `config::TWILIO_AUTH_TOKEN`).
pub const SANDBOX_AUTH_TOKEN: &str = "sandbox-auth-token";
/// The Verify service that exists in the phone-verify sandbox from the start (its
/// `config::TWILIO_SERVICE_SID`).
pub const SANDBOX_SERVICE_SID: &str = "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

phone_verify_core::env_settings! {
    /// The environment variables of the Twilio provider.
    pub enum TwilioSetting: "TWILIO" {
        /// `TWILIO_ACCOUNT_SID`: the Account SID (`AC…`), with `TWILIO_AUTH_TOKEN`; beside an
        /// API key, optional, checked and not sent (Verify v2's URLs name no account).
        AccountSid = secret "ACCOUNT_SID" =>
            "the Twilio Account SID (AC followed by 32 hex digits)",
        /// `TWILIO_AUTH_TOKEN`: the account's auth token.
        AuthToken = secret "AUTH_TOKEN" =>
            "the Twilio account's auth token",
        /// `TWILIO_API_KEY_SID`: an API key SID (`SK…`), with `TWILIO_API_KEY_SECRET`, instead of
        /// the auth token.
        ApiKeySid = secret "API_KEY_SID" =>
            "a Twilio API key SID (SK followed by 32 hex digits)",
        /// `TWILIO_API_KEY_SECRET`: the API key's secret.
        ApiKeySecret = secret "API_KEY_SECRET" =>
            "the Twilio API key's secret",
        /// `TWILIO_SERVICE_SID`: the Verify service (`VA…`) verifications run in.
        ServiceSid = "SERVICE_SID" =>
            "the Verify service SID (VA followed by 32 hex digits)",
        /// `TWILIO_BASE_URL`: the base URL (default [`DEFAULT_BASE_URL`]).
        BaseUrl = "BASE_URL" =>
            "the Verify v2 base URL, e.g. https://verify.twilio.com/v2",
        /// `TWILIO_SANDBOX_URL`: a phone-verify sandbox; Twilio under `{url}/twilio/v2`, with the
        /// sandbox's credentials and service when no credentials are set.
        SandboxUrl = "SANDBOX_URL" =>
            "a phone-verify sandbox's base URL, e.g. http://127.0.0.1:8025",
    }
}

/// How requests authenticate: HTTP Basic with the Account SID and auth token, or with an API
/// key SID and its secret. Both halves are secrets; `Debug` shows only which kind it is.
#[derive(Clone)]
#[non_exhaustive]
pub enum TwilioCredentials {
    /// The Account SID (`AC…`) and its auth token.
    AuthToken {
        /// The Account SID.
        account_sid: SecretString,
        /// The auth token.
        auth_token: SecretString,
    },
    /// An API key SID (`SK…`) and its secret.
    ApiKey {
        /// The API key SID.
        key_sid: SecretString,
        /// The API key's secret.
        secret: SecretString,
    },
}

impl TwilioCredentials {
    /// Checks the shapes (SID prefix and 32 hex digits, a non-empty secret that fits a
    /// header) before anything is sent.
    fn validate(&self) -> Result<()> {
        let (user, prefix, what, secret, secret_name) = match self {
            Self::AuthToken {
                account_sid,
                auth_token,
            } => (
                account_sid,
                "AC",
                TwilioSetting::AccountSid,
                auth_token,
                "the auth token",
            ),
            Self::ApiKey { key_sid, secret } => (
                key_sid,
                "SK",
                TwilioSetting::ApiKeySid,
                secret,
                "the API key secret",
            ),
        };
        check_sid(user.expose_secret(), prefix, what.meaning()).map_err(|_| {
            Error::invalid_input(format!(
                "twilio: {} must be {}",
                what.name(),
                what.meaning()
            ))
            .with_provider(PROVIDER)
        })?;
        let secret = secret.expose_secret();
        if secret.trim().is_empty() || secret.chars().any(char::is_control) {
            return Err(Error::invalid_input(format!(
                "twilio: {secret_name} is empty or has control characters"
            ))
            .with_provider(PROVIDER));
        }
        Ok(())
    }

    /// The HTTP Basic user name and password.
    pub(crate) fn basic(&self) -> (&SecretString, &SecretString) {
        match self {
            Self::AuthToken {
                account_sid,
                auth_token,
            } => (account_sid, auth_token),
            Self::ApiKey { key_sid, secret } => (key_sid, secret),
        }
    }
}

impl fmt::Debug for TwilioCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AuthToken { .. } => "AuthToken(<redacted>)",
            Self::ApiKey { .. } => "ApiKey(<redacted>)",
        })
    }
}

/// Checks that `sid` is `prefix` followed by 32 hex digits (Twilio's SID pattern); the error
/// says it must be `what`.
pub(crate) fn check_sid(sid: &str, prefix: &str, what: &str) -> Result<()> {
    let ok = sid.len() == 34
        && sid.starts_with(prefix)
        && sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!("twilio: expected {what}")).with_provider(PROVIDER))
    }
}

/// Everything a [`Twilio`](crate::Twilio) verifier and its [`TwilioClient`](crate::TwilioClient)
/// need, as [`TwilioBuilder::config`] checked it; [`TwilioClient::new`](crate::TwilioClient::new)
/// checks it again, so a field changed since cannot reach a request unchecked. `Debug` never
/// shows the credentials.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TwilioConfig {
    /// HTTP Basic credentials: an `AC…` or `SK…` SID and a non-empty secret without control
    /// characters.
    pub credentials: TwilioCredentials,
    /// The base URL, e.g. [`DEFAULT_BASE_URL`].
    pub base_url: BaseUrl,
    /// The Verify service (`VA` followed by 32 hex digits) the verifier starts verifications
    /// in.
    pub service_sid: Option<String>,
    /// Timeouts, retries of safe operations, response size cap, `User-Agent`, and the
    /// application's `reqwest::Client` if it supplied one.
    pub http: HttpSettings,
}

impl TwilioConfig {
    /// A configuration for Twilio Verify with the Account SID and its auth token, no Verify
    /// service and default HTTP settings.
    pub fn new(
        account_sid: impl Into<SecretString>,
        auth_token: impl Into<SecretString>,
    ) -> Result<Self> {
        TwilioBuilder::new(account_sid, auth_token).config()
    }

    /// Checks the credentials' and the service SID's shapes before anything is sent.
    pub(crate) fn validate(&self) -> Result<()> {
        self.credentials.validate()?;
        if let Some(sid) = &self.service_sid {
            check_sid(sid, "VA", TwilioSetting::ServiceSid.meaning())?;
        }
        Ok(())
    }
}

/// Builds a [`Twilio`](crate::Twilio) verifier or a [`TwilioClient`](crate::TwilioClient).
///
/// ```
/// use phone_verify_core::http::ConfigureHttp;
/// use phone_verify_twilio::TwilioBuilder;
///
/// let verifier = TwilioBuilder::new("AC0123456789abcdef0123456789abcdef", "auth-token")
///     .service_sid("VA0123456789abcdef0123456789abcdef")
///     .user_agent("shop/1.0")
///     .build()?;
/// assert!(!format!("{verifier:?}").contains("auth-token"));
///
/// // A local phone-verify sandbox, with its credentials and service:
/// let client = TwilioBuilder::sandbox("http://127.0.0.1:8025").build_client()?;
/// assert_eq!(client.base_url().to_string(), "http://127.0.0.1:8025/twilio/v2");
///
/// // A malformed SID fails before anything is sent.
/// assert!(TwilioBuilder::new("not-a-sid", "token").build_client().is_err());
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TwilioBuilder {
    credentials: TwilioCredentials,
    base_url: String,
    service_sid: Option<String>,
    http: HttpSettings,
}

phone_verify_core::base_url_setters!(TwilioBuilder {
    base_url,
    sandbox: "twilio/v2"
});

impl ConfigureHttp for TwilioBuilder {
    fn http_settings_mut(&mut self) -> &mut HttpSettings {
        &mut self.http
    }
}

impl TwilioBuilder {
    /// A builder for Twilio with the Account SID and its auth token.
    pub fn new(account_sid: impl Into<SecretString>, auth_token: impl Into<SecretString>) -> Self {
        Self::with_credentials(TwilioCredentials::AuthToken {
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
        })
    }

    /// A builder for Twilio with an API key SID and its secret.
    pub fn api_key(key_sid: impl Into<SecretString>, secret: impl Into<SecretString>) -> Self {
        Self::with_credentials(TwilioCredentials::ApiKey {
            key_sid: key_sid.into(),
            secret: secret.into(),
        })
    }

    /// A builder for Twilio with `credentials`.
    pub fn with_credentials(credentials: TwilioCredentials) -> Self {
        Self {
            credentials,
            base_url: DEFAULT_BASE_URL.to_owned(),
            service_sid: None,
            http: HttpSettings::default(),
        }
    }

    /// A builder for a phone-verify sandbox at `base_url` (e.g. `http://127.0.0.1:8025`): its
    /// credentials [`SANDBOX_ACCOUNT_SID`] and [`SANDBOX_AUTH_TOKEN`] and its service
    /// [`SANDBOX_SERVICE_SID`].
    pub fn sandbox(base_url: &str) -> Self {
        Self::new(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN)
            .sandbox_url(base_url)
            .service_sid(SANDBOX_SERVICE_SID)
    }

    /// A builder from the process environment, each value read straight into a secret; see
    /// [`from_lookup`](Self::from_lookup).
    pub fn from_env() -> Result<Self> {
        Self::from_secret_lookup(|name| std::env::var(name).ok().map(SecretString::from))
    }

    /// A builder from the [`TwilioSetting`] variables `lookup` finds (blank values count as
    /// unset):
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `TWILIO_ACCOUNT_SID` | the Account SID | required with `TWILIO_AUTH_TOKEN`, or the sandbox's with `TWILIO_SANDBOX_URL` and no credentials set; optional beside an API key (checked, not sent) |
    /// | `TWILIO_AUTH_TOKEN` | the auth token | required with `TWILIO_ACCOUNT_SID`, or the sandbox's as above |
    /// | `TWILIO_API_KEY_SID` | an API key SID, instead of the auth token | unset |
    /// | `TWILIO_API_KEY_SECRET` | its secret, required with the key SID | unset |
    /// | `TWILIO_SERVICE_SID` | the Verify service | required by [`build`](Self::build); the sandbox's with `TWILIO_SANDBOX_URL` and no credentials set |
    /// | `TWILIO_BASE_URL` | the base URL (wins over the sandbox URL) | [`DEFAULT_BASE_URL`] |
    /// | `TWILIO_SANDBOX_URL` | a phone-verify sandbox: Twilio under `/twilio/v2` | unset |
    /// | `TWILIO_CONNECT_TIMEOUT_SECS`, `TWILIO_ATTEMPT_TIMEOUT_SECS`, `TWILIO_OVERALL_TIMEOUT_SECS` | timeouts, seconds | 5, 10, 30 |
    /// | `TWILIO_MAX_ATTEMPTS` | attempts of a safe operation (a send: always 1) | 3 |
    ///
    /// An auth token and an API key together are refused: which one to use would be a guess.
    /// An API key authenticates alone (its SID and secret are the HTTP Basic credentials, and
    /// Verify v2's URLs name no account); `TWILIO_ACCOUNT_SID` set beside it, as Twilio's own
    /// libraries take one, must still be an Account SID, and is not sent.
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
        use TwilioSetting as S;
        let sandbox = env.get(S::SandboxUrl);
        let api_key = env.is_set(S::ApiKeySid) || env.is_set(S::ApiKeySecret);
        let mut builder = if api_key {
            if env.is_set(S::AuthToken) {
                return Err(Error::invalid_input(format!(
                    "{} and {} are both set: set the auth token or the API key, not both",
                    S::AuthToken.name(),
                    S::ApiKeySid.name()
                )));
            }
            // Read, so that it is not taken for a typo, and checked: a value that is no
            // Account SID is a mistake, even where nothing sends it.
            if let Some(account) = env.get_secret(S::AccountSid) {
                check_sid(account.expose_secret(), "AC", S::AccountSid.meaning()).map_err(
                    |_| {
                        Error::invalid_input(format!(
                            "{} must be {}",
                            S::AccountSid.name(),
                            S::AccountSid.meaning()
                        ))
                    },
                )?;
            }
            Self::api_key(
                env.require_secret(S::ApiKeySid)?,
                env.require_secret(S::ApiKeySecret)?,
            )
        } else if sandbox.is_some() && !env.is_set(S::AccountSid) && !env.is_set(S::AuthToken) {
            Self::new(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN).service_sid(SANDBOX_SERVICE_SID)
        } else {
            Self::new(
                env.require_secret(S::AccountSid)?,
                env.require_secret(S::AuthToken)?,
            )
        };
        if let Some(url) = sandbox {
            builder = builder.sandbox_url(&url);
        }
        if let Some(url) = env.get(S::BaseUrl) {
            builder = builder.base_url(&url);
        }
        if let Some(sid) = env.get(S::ServiceSid) {
            builder = builder.service_sid(sid);
        }
        builder.http.apply_env(S::PREFIX, env.lookup())?;
        Ok(builder)
    }

    /// Sets the Verify service (`VA…`) the verifier starts verifications in.
    #[must_use]
    pub fn service_sid(mut self, sid: impl Into<String>) -> Self {
        self.service_sid = Some(sid.into().trim().to_owned());
        self
    }

    /// The checked configuration: SID shapes, secrets and the base URL.
    pub fn config(&self) -> Result<TwilioConfig> {
        let base_url = BaseUrl::parse(&self.base_url).map_err(|e| e.with_provider(PROVIDER))?;
        let config = TwilioConfig {
            credentials: self.credentials.clone(),
            base_url,
            service_sid: self.service_sid.clone(),
            http: self.http.clone(),
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use phone_verify_core::kit::check_env_settings;
    use std::collections::HashMap;
    use std::time::Duration;

    use phone_verify_core::ErrorKind;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const SID: &str = "AC0123456789abcdef0123456789abcdef";
    const KEY: &str = "SK0123456789abcdef0123456789abcdef";
    const SERVICE: &str = "VA0123456789abcdef0123456789abcdef";

    #[test]
    fn new_is_the_builders_checked_config() {
        let config = TwilioConfig::new(SID, "token").unwrap();
        assert_eq!(config.credentials.basic().0.expose_secret(), SID);
        assert_eq!(config.service_sid, None);
        assert_eq!(config.base_url.to_string(), DEFAULT_BASE_URL);
        let err = TwilioConfig::new(KEY, "token").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let err = TwilioConfig::new(SID, " ").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn every_setting_is_named_with_the_prefix() {
        assert_eq!(check_env_settings::<TwilioSetting>(), Ok(()));
        assert_eq!(TwilioSetting::ALL.len(), 11);
    }

    #[test]
    fn env_with_an_auth_token() {
        let b = TwilioBuilder::from_lookup(lookup(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", " token "),
            ("TWILIO_SERVICE_SID", SERVICE),
            ("TWILIO_OVERALL_TIMEOUT_SECS", "7"),
        ]))
        .unwrap();
        let config = b.config().unwrap();
        assert!(matches!(
            config.credentials,
            TwilioCredentials::AuthToken { .. }
        ));
        assert_eq!(config.credentials.basic().1.expose_secret(), "token");
        assert_eq!(config.service_sid.as_deref(), Some(SERVICE));
        assert_eq!(config.base_url.to_string(), DEFAULT_BASE_URL);
        assert_eq!(
            config.http.config().timeouts.overall,
            Duration::from_secs(7)
        );
    }

    #[test]
    fn env_with_an_api_key() {
        let b = TwilioBuilder::from_lookup(lookup(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_API_KEY_SID", KEY),
            ("TWILIO_API_KEY_SECRET", "secret"),
        ]))
        .unwrap();
        let config = b.config().unwrap();
        assert_eq!(config.credentials.basic().0.expose_secret(), KEY);

        let half = TwilioBuilder::from_lookup(lookup(&[("TWILIO_API_KEY_SID", KEY)])).unwrap_err();
        assert!(half.to_string().contains("TWILIO_API_KEY_SECRET"), "{half}");
        let both = TwilioBuilder::from_lookup(lookup(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", "t"),
            ("TWILIO_API_KEY_SID", KEY),
            ("TWILIO_API_KEY_SECRET", "s"),
        ]))
        .unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
    }

    /// Beside an API key the Account SID is read (so that nothing takes it for a typo) and
    /// checked, though Verify v2 never sends it; the sandbox's service is the default only
    /// when no credentials are set.
    #[test]
    fn env_with_an_api_key_reads_and_checks_the_account_sid() {
        let asked = std::cell::RefCell::new(Vec::new());
        let pairs = lookup(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_API_KEY_SID", KEY),
            ("TWILIO_API_KEY_SECRET", "secret"),
            ("TWILIO_SANDBOX_URL", "http://127.0.0.1:8025"),
        ]);
        let config = TwilioBuilder::from_lookup(|name| {
            asked.borrow_mut().push(name.to_owned());
            pairs(name)
        })
        .unwrap()
        .config()
        .unwrap();
        assert!(asked.borrow().iter().any(|n| n == "TWILIO_ACCOUNT_SID"));
        assert_eq!(config.credentials.basic().0.expose_secret(), KEY);
        assert_eq!(config.service_sid, None, "credentials were set");
        let bad = TwilioBuilder::from_lookup(lookup(&[
            ("TWILIO_ACCOUNT_SID", "AC-not-a-sid"),
            ("TWILIO_API_KEY_SID", KEY),
            ("TWILIO_API_KEY_SECRET", "secret"),
        ]))
        .unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::InvalidInput);
        assert!(bad.to_string().contains("TWILIO_ACCOUNT_SID"), "{bad}");
        assert!(!bad.to_string().contains("AC-not-a-sid"), "{bad}");
    }

    #[test]
    fn env_errors_name_the_variable() {
        let none = TwilioBuilder::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(none.kind(), ErrorKind::InvalidInput);
        assert!(none.to_string().contains("TWILIO_ACCOUNT_SID"), "{none}");
        let bad = TwilioBuilder::from_lookup(lookup(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", "t"),
            ("TWILIO_MAX_ATTEMPTS", "0"),
        ]))
        .unwrap_err();
        assert!(bad.to_string().contains("TWILIO_MAX_ATTEMPTS"), "{bad}");
    }

    /// A lookup of secrets reads the same variables as a lookup of strings, the credentials
    /// trimmed, in both kinds of credentials.
    #[test]
    fn env_of_secrets() {
        let secrets = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| SecretString::from(*v))
            }
        };
        let config = TwilioBuilder::from_secret_lookup(secrets(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", " token\n"),
        ]))
        .unwrap()
        .config()
        .unwrap();
        assert_eq!(config.credentials.basic().1.expose_secret(), "token");
        let config = TwilioBuilder::from_secret_lookup(secrets(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_API_KEY_SID", KEY),
            ("TWILIO_API_KEY_SECRET", "secret "),
        ]))
        .unwrap()
        .config()
        .unwrap();
        assert_eq!(config.credentials.basic().1.expose_secret(), "secret");
        let err = TwilioBuilder::from_secret_lookup(secrets(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", "t"),
            ("TWILIO_MAX_ATTEMPTS", "canary-token"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("TWILIO_MAX_ATTEMPTS"), "{err}");
        assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
        assert_eq!(err.provider(), Some(&PROVIDER));
    }

    #[test]
    fn env_sandbox_defaults_and_overrides() {
        let b =
            TwilioBuilder::from_lookup(lookup(&[("TWILIO_SANDBOX_URL", "http://127.0.0.1:8025/")]))
                .unwrap();
        let config = b.config().unwrap();
        assert_eq!(
            config.base_url.to_string(),
            "http://127.0.0.1:8025/twilio/v2"
        );
        assert_eq!(
            config.credentials.basic().0.expose_secret(),
            SANDBOX_ACCOUNT_SID
        );
        assert_eq!(config.service_sid.as_deref(), Some(SANDBOX_SERVICE_SID));

        let b = TwilioBuilder::from_lookup(lookup(&[
            ("TWILIO_SANDBOX_URL", "http://127.0.0.1:8025"),
            ("TWILIO_BASE_URL", "http://localhost:9/v2"),
        ]))
        .unwrap();
        assert_eq!(
            b.config().unwrap().base_url.to_string(),
            "http://localhost:9/v2"
        );
    }

    #[test]
    fn config_refuses_bad_shapes_before_any_request() {
        for builder in [
            TwilioBuilder::new("AC123", "t"),
            TwilioBuilder::new(KEY, "t"),
            TwilioBuilder::new(SID, " "),
            TwilioBuilder::new(SID, "a\nb"),
            TwilioBuilder::api_key(SID, "s"),
            TwilioBuilder::new(SID, "t").service_sid("VAxyz"),
            TwilioBuilder::new(SID, "t").service_sid(SID),
            TwilioBuilder::new(SID, "t").base_url("http://example.com/v2"),
        ] {
            let err = builder.config().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{builder:?}: {err}");
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let b = TwilioBuilder::new(SID, "canary-token").service_sid(SERVICE);
        let shown = format!("{b:?} {:?}", b.config().unwrap());
        assert!(!shown.contains("canary") && !shown.contains(SID), "{shown}");
        let k = TwilioBuilder::api_key(KEY, "canary-secret");
        assert!(!format!("{k:?}").contains("canary"));
    }
}
