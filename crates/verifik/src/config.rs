//! [`VerifikConfig`], [`VerifikBuilder`], [`VerifikSetting`] and [`Mode`]: the token, the base
//! URL, how verifications start, and the HTTP settings, from code or from the environment.
//!
//! The first of the crate's one-way files (`config` → `wire` → `errors` → `client` →
//! `verifier`): it imports none of the others. It holds Verifik's enumerations, which the
//! modes use and `wire` re-exports; the builder's `build_client` lives in `client.rs` and its
//! `build` in `verifier.rs`.

mod checks;
mod enums;
mod mode;

use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, HttpSettings};
use phone_verify_core::kit::{BaseUrl, EnvReader};
use phone_verify_core::{Channel, Error, Result};
use secrecy::SecretString;

pub use checks::{MAX_TITLE_CHARS, PROVIDER};
pub(crate) use checks::{invalid, require_id, require_title, require_token, require_url};
pub use enums::{
    PhoneGateway, Populate, ValidationMethod, ValidationStatus, ValidationType, WhatsAppTemplate,
};
pub use mode::{ManualMode, Mode, ProjectFlowMode};

/// Verifik's API: `https://api.verifik.co/v2`.
pub const DEFAULT_BASE_URL: &str = "https://api.verifik.co/v2";
/// The bearer token the phone-verify sandbox accepts by default.
pub const SANDBOX_TOKEN: &str = "sandbox-token";
/// How long after its validation a validation id resolves, by default: 15 minutes.
pub const DEFAULT_RESOLVE_MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// The longest [`VerifikBuilder::resolve_max_age`] allowed: a day.
pub const MAX_RESOLVE_MAX_AGE: Duration = Duration::from_secs(86_400);

phone_verify_core::env_settings! {
    /// The environment variables [`VerifikBuilder::from_lookup`] reads, one per setting; `Display`
    /// shows the variable's name.
    ///
    /// ```
    /// use phone_verify_verifik::VerifikSetting;
    ///
    /// assert_eq!(VerifikSetting::Token.name(), "VERIFIK_TOKEN");
    /// assert_eq!(VerifikSetting::MaxAttempts.to_string(), "VERIFIK_MAX_ATTEMPTS");
    /// assert!(VerifikSetting::ALL.iter().all(|s| s.name().starts_with(VerifikSetting::PREFIX)));
    /// ```
    pub enum VerifikSetting: "VERIFIK" {
        /// `VERIFIK_TOKEN`: the access token; required unless `VERIFIK_SANDBOX_URL` is set.
        Token = secret "TOKEN" =>
            "a Verifik access token (a JWT from the dashboard or a login), unless \
                 VERIFIK_SANDBOX_URL is set",
        /// `VERIFIK_SANDBOX_URL`: a phone-verify sandbox's base URL; the API is then under
        /// `{url}/verifik/v2` and the token defaults to [`SANDBOX_TOKEN`].
        SandboxUrl = "SANDBOX_URL" =>
            "a phone-verify sandbox's base URL (the API under {url}/verifik/v2)",
        /// `VERIFIK_BASE_URL`: the API base URL (default [`DEFAULT_BASE_URL`]; wins over the
        /// sandbox URL).
        BaseUrl = "BASE_URL" =>
            "the API base URL, https://api.verifik.co/v2 by default",
        /// `VERIFIK_MODE`: `manual` or `project`; `project` when `VERIFIK_PROJECT` is set, else
        /// `manual`.
        Mode = "MODE" =>
            "manual or project (project when VERIFIK_PROJECT is set)",
        /// `VERIFIK_PROJECT`: the project id of project mode.
        Project = "PROJECT" =>
            "the project id of project mode",
        /// `VERIFIK_PROJECT_CHANNEL`: project mode: the gateway the project flow is configured
        /// with in Verifik's dashboard, `whatsapp` (Verifik's default) or `sms`.
        ProjectChannel = "PROJECT_CHANNEL" =>
            "project mode: whatsapp or sms, as the project flow sends",
        /// `VERIFIK_VALIDATION_TYPE`: project mode: `validation` (default), `login` or
        /// `oneTimeLink`.
        ValidationType = "VALIDATION_TYPE" =>
            "project mode: validation, login or oneTimeLink",
        /// `VERIFIK_WEBHOOK_URL`: project mode: the `webhookUrl` of validations.
        WebhookUrl = "WEBHOOK_URL" =>
            "project mode: the webhookUrl of validations",
        /// `VERIFIK_TITLE`: manual mode: the brand (1 to 15 characters) in the message.
        Title = "TITLE" =>
            "manual mode: the brand in the message, 1 to 15 characters",
        /// `VERIFIK_WHATSAPP_TEMPLATE`: manual mode: `authentication` (Verifik's default) or
        /// `flow2`.
        WhatsAppTemplate = "WHATSAPP_TEMPLATE" =>
            "manual mode: the WhatsApp template, authentication or flow2",
        /// `VERIFIK_RESOLVE_MAX_AGE_SECS`: how long after its validation a validation id
        /// resolves, in seconds (default 900, at most 86400; see
        /// [`VerifikBuilder::resolve_max_age`]).
        ResolveMaxAge = "RESOLVE_MAX_AGE_SECS" =>
            "how long after its validation a session resolves, seconds: 900 by default, at \
                 most 86400",
    }
}

/// Everything a [`Verifik`](crate::Verifik) verifier needs. `Debug` never shows the token
/// (`secrecy` redacts it).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerifikConfig {
    /// The access token, sent as `Authorization: Bearer <token>`; `None` for a client that
    /// only logs in.
    pub token: Option<SecretString>,
    /// The API base URL.
    pub base_url: BaseUrl,
    /// How `start` creates validations.
    pub mode: Mode,
    /// How long after its validation a validation id resolves (see
    /// [`VerifikBuilder::resolve_max_age`]).
    pub resolve_max_age: Duration,
    /// Timeouts, retries of safe operations, response size cap, `User-Agent`, and the
    /// application's `reqwest::Client` if it supplied one.
    pub http: HttpSettings,
}

impl VerifikConfig {
    /// A configuration for Verifik's API in manual mode with default HTTP settings.
    pub fn new(token: impl Into<SecretString>) -> Result<Self> {
        VerifikBuilder::new(token).config()
    }

    /// Checks what [`VerifikBuilder::config`] checks and a field may have changed since (they
    /// are public): the token, the mode ([`Mode::validate`]) and the resolve max age.
    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(token) = &self.token {
            require_token(token)?;
        }
        self.mode.validate()?;
        require_resolve_max_age(self.resolve_max_age)
    }
}

/// A resolve max age: above zero, at most [`MAX_RESOLVE_MAX_AGE`].
pub(crate) fn require_resolve_max_age(max_age: Duration) -> Result<()> {
    if max_age.is_zero() || max_age > MAX_RESOLVE_MAX_AGE {
        return Err(invalid(
            "the resolve max age must be above zero and at most a day",
        ));
    }
    Ok(())
}

/// Builds a [`Verifik`](crate::Verifik) verifier ([`build`](Self::build)) or a
/// [`VerifikClient`](crate::VerifikClient) ([`build_client`](Self::build_client)); the HTTP
/// setters come with [`ConfigureHttp`]. `Debug` never shows the token (`secrecy` redacts it).
///
/// ```
/// use std::time::Duration;
/// use phone_verify_core::http::{ConfigureHttp, Timeouts};
/// use phone_verify_verifik::{Mode, VerifikBuilder};
///
/// let verifier = VerifikBuilder::new("my-verifik-token")
///     .mode(Mode::manual().with_title("Acme")?)
///     .timeouts(Timeouts::default().with_overall(Duration::from_secs(20)))
///     .build()?;
/// assert!(!format!("{verifier:?}").contains("my-verifik-token"));
///
/// // A local phone-verify sandbox, with its default token:
/// let sandbox = VerifikBuilder::sandbox("http://127.0.0.1:8025").build()?;
/// assert_eq!(sandbox.client().base_url().to_string(), "http://127.0.0.1:8025/verifik/v2");
///
/// // A client without a token, to log in by phone or e-mail:
/// let login = VerifikBuilder::without_token().build_client()?;
/// assert!(!login.has_token());
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct VerifikBuilder {
    token: Option<SecretString>,
    base_url: String,
    mode: Mode,
    resolve_max_age: Duration,
    http: HttpSettings,
}

phone_verify_core::base_url_setters!(VerifikBuilder {
    base_url,
    sandbox: "verifik/v2"
});

impl ConfigureHttp for VerifikBuilder {
    fn http_settings_mut(&mut self) -> &mut HttpSettings {
        &mut self.http
    }
}

impl VerifikBuilder {
    /// A builder for Verifik's API with `token`, in manual mode.
    pub fn new(token: impl Into<SecretString>) -> Self {
        Self {
            token: Some(token.into()),
            ..Self::without_token()
        }
    }

    /// A builder without a token: its client can log in by phone or e-mail (see
    /// [`VerifikClient::phone_login`](crate::VerifikClient::phone_login)), which installs the
    /// token it obtains.
    pub fn without_token() -> Self {
        Self {
            token: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            mode: Mode::default(),
            resolve_max_age: DEFAULT_RESOLVE_MAX_AGE,
            http: HttpSettings::default(),
        }
    }

    /// A builder for a phone-verify sandbox at `base_url` (e.g. `http://127.0.0.1:8025`), with
    /// the sandbox's default token [`SANDBOX_TOKEN`].
    pub fn sandbox(base_url: &str) -> Self {
        Self::new(SANDBOX_TOKEN).sandbox_url(base_url)
    }

    /// A builder from the process environment, each value read straight into a secret; see
    /// [`from_lookup`](Self::from_lookup).
    pub fn from_env() -> Result<Self> {
        Self::from_secret_lookup(|name| std::env::var(name).ok().map(SecretString::from))
    }

    /// A builder from the variables ([`VerifikSetting`]) that `lookup` finds (values are
    /// trimmed; blank values count as unset):
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `VERIFIK_TOKEN` | the access token (`Authorization: Bearer`) | required, or [`SANDBOX_TOKEN`] with `VERIFIK_SANDBOX_URL` |
    /// | `VERIFIK_SANDBOX_URL` | a phone-verify sandbox's base URL: the API under `{url}/verifik/v2` | unset |
    /// | `VERIFIK_BASE_URL` | the API base URL (wins over the sandbox URL) | [`DEFAULT_BASE_URL`] |
    /// | `VERIFIK_MODE` | `manual` or `project` | `project` if `VERIFIK_PROJECT` is set, else `manual` |
    /// | `VERIFIK_PROJECT` | the project id of project mode | required in project mode |
    /// | `VERIFIK_PROJECT_CHANNEL` | project mode: `whatsapp` or `sms`, as the project flow is configured | `whatsapp` |
    /// | `VERIFIK_VALIDATION_TYPE` | project mode: `validation`, `login` or `oneTimeLink` | `validation` |
    /// | `VERIFIK_WEBHOOK_URL` | project mode: `webhookUrl` | unset |
    /// | `VERIFIK_TITLE` | manual mode: the brand in the message, 1-15 characters | unset |
    /// | `VERIFIK_WHATSAPP_TEMPLATE` | manual mode: `authentication` or `flow2` | unset (Verifik: `authentication`) |
    /// | `VERIFIK_RESOLVE_MAX_AGE_SECS` | how long after its validation a session resolves, seconds (above 0, at most 86400) | 900 |
    /// | `VERIFIK_CONNECT_TIMEOUT_SECS` | connect timeout, seconds (decimals allowed) | 5 |
    /// | `VERIFIK_ATTEMPT_TIMEOUT_SECS` | timeout of one attempt, seconds | 10 |
    /// | `VERIFIK_OVERALL_TIMEOUT_SECS` | timeout of an operation with its retries, seconds | 30 |
    /// | `VERIFIK_MAX_ATTEMPTS` | attempts of a safe operation, first included (sends: always 1) | 3 |
    ///
    /// The base URL is checked when the builder builds; any other malformed value fails here
    /// with [`ErrorKind::InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) naming the
    /// variable (never showing its value).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        Self::from_secret_lookup(|name| lookup(name).map(SecretString::from))
    }

    /// [`from_lookup`](Self::from_lookup) with a lookup that gives each value as a secret, so
    /// that the token is never in a plain `String` (the facade's registry passes its settings
    /// this way).
    pub fn from_secret_lookup(lookup: impl Fn(&str) -> Option<SecretString>) -> Result<Self> {
        Self::read(&EnvReader::new(lookup)).map_err(|e| e.with_provider(PROVIDER))
    }

    fn read(env: &EnvReader<impl Fn(&str) -> Option<SecretString>>) -> Result<Self> {
        let sandbox = env.get(VerifikSetting::SandboxUrl);
        let token = match (env.get_secret(VerifikSetting::Token), &sandbox) {
            (Some(token), _) => token,
            (None, Some(_)) => SecretString::from(SANDBOX_TOKEN),
            (None, None) => env.require_secret(VerifikSetting::Token)?,
        };
        let mut builder = Self::new(token);
        if let Some(url) = sandbox {
            builder = builder.sandbox_url(&url);
        }
        if let Some(url) = env.get(VerifikSetting::BaseUrl) {
            builder = builder.base_url(&url);
        }
        builder.mode = mode_from(env)?;
        if let Some(max_age) = env.seconds(VerifikSetting::ResolveMaxAge)? {
            builder.resolve_max_age = max_age;
        }
        builder
            .http
            .apply_env(VerifikSetting::PREFIX, env.lookup())?;
        Ok(builder)
    }

    /// Sets the access token.
    #[must_use]
    pub fn token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sets how `start` creates validations (default [`Mode::manual`]).
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets how long after its validation a validation id resolves (default
    /// [`DEFAULT_RESOLVE_MAX_AGE`], 15 minutes; above zero and at most
    /// [`MAX_RESOLVE_MAX_AGE`], checked when the builder builds). An older validated record
    /// fails [`resolve`](phone_verify_core::SessionResolver::resolve) with
    /// [`ErrorKind::Expired`](phone_verify_core::ErrorKind::Expired): Verifik's ids can be
    /// guessed from one another, so an id must not resolve forever.
    #[must_use]
    pub fn resolve_max_age(mut self, max_age: Duration) -> Self {
        self.resolve_max_age = max_age;
        self
    }

    /// Checks the settings: a token that can be sent in a header (when there is one), a
    /// valid base URL (`https`, or `http` on loopback only), the mode ([`Mode::validate`])
    /// and the resolve max age.
    pub fn config(&self) -> Result<VerifikConfig> {
        let base_url = BaseUrl::parse(&self.base_url)
            .map_err(|e| invalid(format!("base URL: {}", e.message())).with_source(e))?;
        let config = VerifikConfig {
            token: self.token.clone(),
            base_url,
            mode: self.mode.clone(),
            resolve_max_age: self.resolve_max_age,
            http: self.http.clone(),
        };
        config.validate()?;
        Ok(config)
    }
}

/// The mode the variables describe, each value checked where it is set; an error names the
/// variable, never its value.
fn mode_from(env: &EnvReader<impl Fn(&str) -> Option<SecretString>>) -> Result<Mode> {
    use VerifikSetting as S;
    let project = env.get(S::Project);
    let name = env.get(S::Mode).map(|m| m.to_ascii_lowercase());
    let project_mode = match name.as_deref() {
        None => project.is_some(),
        Some("project" | "project_flow" | "project-flow") => true,
        Some("manual") => false,
        Some(_) => return Err(unshown(S::Mode, "manual or project")),
    };
    let refuse_others = |others: &[S], mode: &str| match others.iter().find(|s| env.is_set(**s)) {
        Some(setting) => Err(invalid(format!(
            "{setting} is a setting of {mode} mode ({})",
            S::Mode
        ))),
        None => Ok(()),
    };
    if project_mode {
        let project = project.ok_or_else(|| {
            invalid(format!(
                "{}=project needs {}, the project id",
                S::Mode,
                S::Project
            ))
        })?;
        refuse_others(&[S::Title, S::WhatsAppTemplate], "manual")?;
        let mut mode = Mode::project_flow(&project).map_err(|e| named(S::Project, &e))?;
        if let Some(channel) = env.get(S::ProjectChannel) {
            let channel = channel
                .parse::<Channel>()
                .unwrap_or_else(|never| match never {});
            mode = mode
                .with_channel(channel)
                .map_err(|_| unshown(S::ProjectChannel, "whatsapp or sms"))?;
        }
        if let Some(kind) = env.get(S::ValidationType) {
            let kind = kind.parse().unwrap_or_else(|never| match never {});
            mode = mode
                .with_validation_type(kind)
                .map_err(|_| unshown(S::ValidationType, "validation, login or oneTimeLink"))?;
        }
        if let Some(url) = env.get(S::WebhookUrl) {
            mode = mode
                .with_webhook_url(&url)
                .map_err(|e| named(S::WebhookUrl, &e))?;
        }
        Ok(mode)
    } else {
        refuse_others(
            &[S::ProjectChannel, S::ValidationType, S::WebhookUrl],
            "project",
        )?;
        let mut mode = Mode::manual();
        if let Some(title) = env.get(S::Title) {
            mode = mode.with_title(&title).map_err(|e| named(S::Title, &e))?;
        }
        if let Some(template) = env.get(S::WhatsAppTemplate) {
            let template = template.parse().unwrap_or_else(|never| match never {});
            mode = mode
                .with_whatsapp_template(template)
                .map_err(|e| named(S::WhatsAppTemplate, &e))?;
        }
        Ok(mode)
    }
}

/// `error` with the name of the variable whose value caused it; for errors that do not show
/// the value.
fn named(setting: VerifikSetting, error: &Error) -> Error {
    invalid(format!("{setting}: {}", error.message()))
}

/// The error of `setting` holding something else than `expected`, without the value (a
/// credential may stand where another setting belongs).
fn unshown(setting: VerifikSetting, expected: &str) -> Error {
    invalid(format!(
        "{setting} must be {expected} (its value is not shown)"
    ))
}

#[cfg(test)]
mod tests {
    use phone_verify_core::kit::check_env_settings;
    use std::collections::HashMap;
    use std::time::Duration;

    use phone_verify_core::ErrorKind;
    use phone_verify_core::http::Timeouts;
    use secrecy::ExposeSecret;

    use super::*;
    use VerifikSetting as S;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn every_setting_has_one_name_and_a_meaning() {
        assert_eq!(check_env_settings::<S>(), Ok(()));
        // The token is the one credential, which `EnvReader` gives only as a secret.
        let secret: Vec<_> = S::ALL
            .iter()
            .filter(|setting| setting.is_secret())
            .collect();
        assert_eq!(secret, [&S::Token]);
        let missing = VerifikBuilder::from_lookup(env(&[])).unwrap_err();
        assert!(
            missing.to_string().contains(S::Token.meaning()),
            "{missing}"
        );
        assert_eq!(missing.provider(), Some(&PROVIDER));
    }

    #[test]
    fn reads_every_variable_of_manual_mode() {
        let builder = VerifikBuilder::from_lookup(env(&[
            (S::Token.name(), " canary-token-123 "),
            (S::BaseUrl.name(), "https://verifik.example.test/v2/"),
            (S::Title.name(), "Acme"),
            (S::WhatsAppTemplate.name(), "flow2"),
            (S::ConnectTimeout.name(), "1.5"),
            (S::AttemptTimeout.name(), "4"),
            (S::OverallTimeout.name(), "12"),
            (S::MaxAttempts.name(), "5"),
            (S::ResolveMaxAge.name(), "120"),
        ]))
        .unwrap();
        let config = builder.config().unwrap();
        assert_eq!(
            config.token.as_ref().unwrap().expose_secret(),
            "canary-token-123"
        );
        assert_eq!(
            config.base_url.to_string(),
            "https://verifik.example.test/v2"
        );
        let Mode::Manual(manual) = &config.mode else {
            panic!("manual mode expected")
        };
        assert_eq!(manual.title.as_deref(), Some("Acme"));
        assert_eq!(manual.whatsapp_template, Some(WhatsAppTemplate::Flow2));
        assert!(!manual.force);
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
        assert_eq!(config.http.config().retry.max_attempts, 5);
        assert_eq!(config.resolve_max_age, Duration::from_secs(120));
        assert!(!format!("{builder:?}{config:?}").contains("canary"));
    }

    #[test]
    fn reads_project_mode_and_the_sandbox() {
        let config = VerifikBuilder::from_lookup(env(&[
            (S::SandboxUrl.name(), "http://127.0.0.1:8025/"),
            (S::Project.name(), "507f1f77bcf86cd799439011"),
            (S::ProjectChannel.name(), "SMS"),
            (S::ValidationType.name(), "login"),
            (S::WebhookUrl.name(), "https://acme.test/hook"),
        ]))
        .unwrap()
        .config()
        .unwrap();
        assert_eq!(config.token.unwrap().expose_secret(), SANDBOX_TOKEN);
        assert_eq!(
            config.base_url.to_string(),
            "http://127.0.0.1:8025/verifik/v2"
        );
        let Mode::ProjectFlow(project) = config.mode else {
            panic!("project mode expected")
        };
        assert_eq!(project.project, "507f1f77bcf86cd799439011");
        assert_eq!(project.channel, Channel::Sms);
        assert_eq!(project.validation_type, ValidationType::Login);
        assert_eq!(
            project.webhook_url.as_deref(),
            Some("https://acme.test/hook")
        );

        let defaults = VerifikBuilder::from_lookup(env(&[(S::Token.name(), "t")]))
            .unwrap()
            .config()
            .unwrap();
        assert_eq!(defaults.base_url.to_string(), DEFAULT_BASE_URL);
        assert_eq!(defaults.mode, Mode::manual());
        assert_eq!(defaults.resolve_max_age, DEFAULT_RESOLVE_MAX_AGE);
        assert_eq!(defaults.http.config().timeouts, Timeouts::default());
    }

    #[test]
    fn refuses_bad_settings() {
        let missing = VerifikBuilder::from_lookup(env(&[])).unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::InvalidInput);
        assert!(missing.to_string().contains(S::Token.name()));
        for (name, value) in [
            (S::ConnectTimeout.name(), "soon"),
            (S::AttemptTimeout.name(), "-1"),
            (S::OverallTimeout.name(), "0"),
            (S::MaxAttempts.name(), "0"),
            (S::Mode.name(), "magic"),
            (S::Mode.name(), "project"),
            (S::Title.name(), "A title far too long"),
            (S::WhatsAppTemplate.name(), "fancy"),
            (S::ProjectChannel.name(), "sms"),
            (S::ResolveMaxAge.name(), "0"),
            (S::ResolveMaxAge.name(), "86401"),
            (S::ResolveMaxAge.name(), "a while"),
        ] {
            let err = VerifikBuilder::from_lookup(env(&[(S::Token.name(), "t"), (name, value)]))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}={value}");
            assert!(
                err.to_string().contains(name) || err.to_string().contains(S::Mode.name()),
                "{err}"
            );
        }
        for (name, value) in [
            (S::Project.name(), "../etc"),
            (S::ProjectChannel.name(), "voice"),
            (S::ValidationType.name(), "onboarding"),
            (S::WebhookUrl.name(), "ftp://x"),
            (S::Title.name(), "Acme"),
        ] {
            let mut pairs = vec![(S::Token.name(), "t"), (name, value)];
            if name != S::Project.name() {
                pairs.push((S::Project.name(), "507f1f77bcf86cd799439011"));
            }
            let err = VerifikBuilder::from_lookup(env(&pairs)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}={value}");
        }
        for builder in [
            VerifikBuilder::new(""),
            VerifikBuilder::new("  "),
            VerifikBuilder::new("line\nbreak"),
            VerifikBuilder::new("t").base_url("http://api.verifik.co/v2"),
            VerifikBuilder::new("t").base_url("not a url"),
            VerifikBuilder::without_token(),
            VerifikBuilder::new("t").resolve_max_age(Duration::ZERO),
            VerifikBuilder::new("t").resolve_max_age(MAX_RESOLVE_MAX_AGE + Duration::from_secs(1)),
        ] {
            let err = builder.build().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{builder:?}");
            assert!(!err.to_string().contains("line\nbreak"));
        }
        VerifikBuilder::new("t")
            .resolve_max_age(MAX_RESOLVE_MAX_AGE)
            .config()
            .unwrap();
    }

    /// A value that is not what its variable holds is refused naming the variable, never
    /// showing the value: it may be the token, set where another setting belongs.
    #[test]
    fn bad_values_are_never_shown() {
        let project = (S::Project.name(), "507f1f77bcf86cd799439011");
        for (setting, project) in [
            (S::Mode, None),
            (S::ProjectChannel, Some(project)),
            (S::ValidationType, Some(project)),
            (S::ResolveMaxAge, None),
            (S::MaxAttempts, None),
            (S::OverallTimeout, None),
        ] {
            let mut pairs = vec![(S::Token.name(), "t"), (setting.name(), "canary-token")];
            pairs.extend(project);
            let err = VerifikBuilder::from_lookup(env(&pairs)).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{shown}");
            assert!(shown.contains(setting.name()), "{shown}");
            assert!(!shown.contains("canary"), "{shown}");
            assert_eq!(err.provider(), Some(&PROVIDER));
        }
    }

    /// A lookup of secrets reads the same variables as a lookup of strings, the token trimmed.
    #[test]
    fn reads_a_lookup_of_secrets() {
        let config = VerifikBuilder::from_secret_lookup(|name| {
            (name == S::Token.name()).then(|| SecretString::from(" t-1\n"))
        })
        .unwrap()
        .config()
        .unwrap();
        assert_eq!(config.token.unwrap().expose_secret(), "t-1");
    }

    /// A mode whose public fields were set past the `with_*` checks is refused when the
    /// builder checks its settings, before any verifier or client exists.
    #[test]
    fn a_mode_changed_on_its_fields_is_refused_at_build() {
        let mut mode = Mode::project_flow("507f1f77bcf86cd799439011").unwrap();
        if let Mode::ProjectFlow(project) = &mut mode {
            project.channel = Channel::Telegram;
        }
        let builder = VerifikBuilder::new("t").mode(mode);
        for err in [
            builder.config().map(drop).unwrap_err(),
            builder.build().map(drop).unwrap_err(),
            builder.build_client().map(drop).unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            assert!(err.to_string().contains("not telegram"), "{err}");
        }
    }
}
