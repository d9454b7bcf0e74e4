//! [`VerifikConfig`], [`VerifikBuilder`] and [`Mode`]: the token, the base URL, how
//! verifications start, and the HTTP settings, from code or from the environment.

use std::fmt;
use std::time::Duration;

use phone_verify_core::http::{HttpConfig, RetryPolicy, Timeouts};
use phone_verify_core::kit::{BaseUrl, HttpClient};
use phone_verify_core::{Channel, Error, Result};
use secrecy::{ExposeSecret, SecretString};

use crate::client::VerifikClient;
use crate::verifier::{PROVIDER, Verifik};
use crate::wire::{PhoneGateway, ValidationType, WhatsAppTemplate};

/// Verifik's API: `https://api.verifik.co/v2`.
pub const DEFAULT_BASE_URL: &str = "https://api.verifik.co/v2";
/// The bearer token the phone-verify sandbox accepts by default.
pub const SANDBOX_TOKEN: &str = "sandbox-token";
/// The longest `title` of a manual validation, in characters.
pub const MAX_TITLE_CHARS: usize = 15;

/// `VERIFIK_TOKEN`: the access token (a JWT from the dashboard or a phone or e-mail login);
/// required unless `VERIFIK_SANDBOX_URL` is set.
pub const ENV_TOKEN: &str = "VERIFIK_TOKEN";
/// `VERIFIK_BASE_URL`: the API base URL (default [`DEFAULT_BASE_URL`]).
pub const ENV_BASE_URL: &str = "VERIFIK_BASE_URL";
/// `VERIFIK_SANDBOX_URL`: the base URL of a phone-verify sandbox; the API is then under
/// `{url}/verifik/v2` and the token defaults to [`SANDBOX_TOKEN`].
pub const ENV_SANDBOX_URL: &str = "VERIFIK_SANDBOX_URL";
/// `VERIFIK_MODE`: `manual` (`POST /v2/phone-validations/manual`) or `project`
/// (`POST /v2/phone-validations` in a project flow); default `project` when `VERIFIK_PROJECT`
/// is set, else `manual`.
pub const ENV_MODE: &str = "VERIFIK_MODE";
/// `VERIFIK_PROJECT`: the project id of project-flow mode.
pub const ENV_PROJECT: &str = "VERIFIK_PROJECT";
/// `VERIFIK_PROJECT_CHANNEL`: the gateway the project flow is configured with in Verifik's
/// dashboard, `whatsapp` (Verifik's default) or `sms`.
pub const ENV_PROJECT_CHANNEL: &str = "VERIFIK_PROJECT_CHANNEL";
/// `VERIFIK_VALIDATION_TYPE`: the `type` of project-flow validations: `validation` (default),
/// `login` or `oneTimeLink`.
pub const ENV_VALIDATION_TYPE: &str = "VERIFIK_VALIDATION_TYPE";
/// `VERIFIK_WEBHOOK_URL`: the `webhookUrl` of project-flow validations.
pub const ENV_WEBHOOK_URL: &str = "VERIFIK_WEBHOOK_URL";
/// `VERIFIK_TITLE`: the brand (1-15 characters) shown in manual-mode messages.
pub const ENV_TITLE: &str = "VERIFIK_TITLE";
/// `VERIFIK_WHATSAPP_TEMPLATE`: the WhatsApp template of manual mode, `authentication`
/// (Verifik's default) or `flow2`.
pub const ENV_WHATSAPP_TEMPLATE: &str = "VERIFIK_WHATSAPP_TEMPLATE";
/// `VERIFIK_CONNECT_TIMEOUT_SECS`: the connect timeout in seconds (decimals allowed).
pub const ENV_CONNECT_TIMEOUT: &str = "VERIFIK_CONNECT_TIMEOUT_SECS";
/// `VERIFIK_ATTEMPT_TIMEOUT_SECS`: the timeout of one HTTP attempt in seconds.
pub const ENV_ATTEMPT_TIMEOUT: &str = "VERIFIK_ATTEMPT_TIMEOUT_SECS";
/// `VERIFIK_OVERALL_TIMEOUT_SECS`: the timeout of a whole operation, retries included.
pub const ENV_OVERALL_TIMEOUT: &str = "VERIFIK_OVERALL_TIMEOUT_SECS";
/// `VERIFIK_MAX_ATTEMPTS`: attempts of a safe operation (list, get, renew session, login
/// confirmations), the first included; `1` disables retries. Sends are never retried; code
/// checks only when the request surely never reached Verifik.
pub const ENV_MAX_ATTEMPTS: &str = "VERIFIK_MAX_ATTEMPTS";

/// How [`Verifik`]'s `start` creates a validation.
///
/// ```
/// use phone_verify_core::Channel;
/// use phone_verify_verifik::{Mode, ValidationType};
///
/// let manual = Mode::manual().with_title("Acme")?;
/// let project = Mode::project_flow("507f1f77bcf86cd799439011")?
///     .with_channel(Channel::Sms)?
///     .with_validation_type(ValidationType::Login)?;
/// assert!(manual.is_manual() && !project.is_manual());
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// `POST /v2/phone-validations/manual`: a standalone code by SMS or WhatsApp, as the
    /// start request's channel says, without a project.
    Manual(ManualMode),
    /// `POST /v2/phone-validations` in a project: the project flow's gateway, configured in
    /// Verifik's dashboard, carries the code.
    ProjectFlow(ProjectFlowMode),
}

impl Default for Mode {
    fn default() -> Self {
        Self::Manual(ManualMode::default())
    }
}

/// The settings of [`Mode::Manual`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManualMode {
    /// `title`: the brand shown in the message (1 to 15 characters).
    pub title: Option<String>,
    /// `whatsappTemplate` of WhatsApp codes.
    pub whatsapp_template: Option<WhatsAppTemplate>,
    /// `force`: skip Verifik's resend cooldown (about 2 minutes per phone and gateway) on
    /// every start. Without it a second start within the cooldown fails with
    /// `ErrorKind::Conflict` (`otp_recently_sent`); [`Verifik::resend`] always forces.
    pub force: bool,
}

/// The settings of [`Mode::ProjectFlow`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProjectFlowMode {
    /// `project`: the project id.
    pub project: String,
    /// The channel the project flow sends codes on (WhatsApp unless the dashboard says SMS).
    pub channel: Channel,
    /// `type`: `validation`, `login` or `oneTimeLink` (`onboarding` validations are created
    /// for an app registration with the typed client).
    pub validation_type: ValidationType,
    /// How long the code stays valid (`expiresAt` = now + this); Verifik's default otherwise.
    pub validity: Option<Duration>,
    /// `redirectUrl`.
    pub redirect_url: Option<String>,
    /// `webhookUrl`.
    pub webhook_url: Option<String>,
    /// `identityUrl`.
    pub identity_url: Option<String>,
    /// `requires2FA`.
    pub requires_2fa: Option<bool>,
}

impl Mode {
    /// Manual mode with Verifik's defaults.
    pub fn manual() -> Self {
        Self::default()
    }

    /// Project-flow mode for `project`, on WhatsApp, with `type` `validation`.
    pub fn project_flow(project: &str) -> Result<Self> {
        let project = project.trim();
        crate::client::require_id("project id", project)?;
        Ok(Self::ProjectFlow(ProjectFlowMode {
            project: project.to_owned(),
            channel: Channel::WhatsApp,
            validation_type: ValidationType::Validation,
            validity: None,
            redirect_url: None,
            webhook_url: None,
            identity_url: None,
            requires_2fa: None,
        }))
    }

    /// Whether this is manual mode.
    pub fn is_manual(&self) -> bool {
        matches!(self, Self::Manual(_))
    }

    /// The channels `start` accepts in this mode.
    pub fn channels(&self) -> Vec<Channel> {
        match self {
            Self::Manual(_) => vec![Channel::Sms, Channel::WhatsApp],
            Self::ProjectFlow(project) => vec![project.channel.clone()],
        }
    }

    /// Manual mode: sets the brand shown in the message (1 to 15 characters).
    pub fn with_title(self, title: &str) -> Result<Self> {
        let title = require_title(title)?;
        self.manual_setting("a title", |m| m.title = Some(title))
    }

    /// Manual mode: sets the WhatsApp template.
    pub fn with_whatsapp_template(self, template: WhatsAppTemplate) -> Result<Self> {
        if matches!(template, WhatsAppTemplate::Other(_)) {
            return Err(invalid(
                "the WhatsApp template must be authentication or flow2",
            ));
        }
        self.manual_setting("a WhatsApp template", |m| {
            m.whatsapp_template = Some(template);
        })
    }

    /// Manual mode: skips Verifik's resend cooldown on every start.
    pub fn with_force(self, force: bool) -> Result<Self> {
        self.manual_setting("force", |m| m.force = force)
    }

    /// Project-flow mode: the channel the project flow sends codes on (SMS or WhatsApp).
    pub fn with_channel(self, channel: Channel) -> Result<Self> {
        if PhoneGateway::for_channel(&channel).is_none() {
            return Err(invalid(format!(
                "Verifik sends codes by SMS or WhatsApp, not {channel}"
            )));
        }
        self.project_setting("a channel", |p| p.channel = channel)
    }

    /// Project-flow mode: the validations' `type` (`validation`, `login` or `oneTimeLink`).
    pub fn with_validation_type(self, validation_type: ValidationType) -> Result<Self> {
        match validation_type {
            ValidationType::Validation | ValidationType::Login | ValidationType::OneTimeLink => {
                self.project_setting("a validation type", |p| {
                    p.validation_type = validation_type;
                })
            }
            ValidationType::Onboarding => Err(invalid(
                "onboarding validations belong to an app registration: create them with \
                 VerifikClient::create_app_registration_validation",
            )),
            ValidationType::Other(other) => Err(invalid(format!(
                "unknown validation type {other:?}: use validation, login or oneTimeLink"
            ))),
        }
    }

    /// Project-flow mode: how long codes stay valid (`expiresAt`).
    pub fn with_validity(self, validity: Duration) -> Result<Self> {
        if validity.is_zero() || validity > Duration::from_secs(366 * 86_400) {
            return Err(invalid("the validity must be between 1 second and a year"));
        }
        self.project_setting("a validity", |p| p.validity = Some(validity))
    }

    /// Project-flow mode: `redirectUrl`.
    pub fn with_redirect_url(self, url: &str) -> Result<Self> {
        let url = require_url("redirect URL", url)?;
        self.project_setting("a redirect URL", |p| p.redirect_url = Some(url))
    }

    /// Project-flow mode: `webhookUrl`.
    pub fn with_webhook_url(self, url: &str) -> Result<Self> {
        let url = require_url("webhook URL", url)?;
        self.project_setting("a webhook URL", |p| p.webhook_url = Some(url))
    }

    /// Project-flow mode: `identityUrl`.
    pub fn with_identity_url(self, url: &str) -> Result<Self> {
        let url = require_url("identity URL", url)?;
        self.project_setting("an identity URL", |p| p.identity_url = Some(url))
    }

    /// Project-flow mode: `requires2FA`.
    pub fn with_requires_2fa(self, yes: bool) -> Result<Self> {
        self.project_setting("requires2FA", |p| p.requires_2fa = Some(yes))
    }

    fn manual_setting(mut self, what: &str, set: impl FnOnce(&mut ManualMode)) -> Result<Self> {
        match &mut self {
            Self::Manual(manual) => {
                set(manual);
                Ok(self)
            }
            Self::ProjectFlow(_) => Err(invalid(format!(
                "{what} is a setting of manual mode, not of project-flow mode"
            ))),
        }
    }

    fn project_setting(
        mut self,
        what: &str,
        set: impl FnOnce(&mut ProjectFlowMode),
    ) -> Result<Self> {
        match &mut self {
            Self::ProjectFlow(project) => {
                set(project);
                Ok(self)
            }
            Self::Manual(_) => Err(invalid(format!(
                "{what} is a setting of project-flow mode, not of manual mode"
            ))),
        }
    }
}

/// Everything a [`Verifik`] verifier needs. `Debug` never shows the token.
#[derive(Clone)]
#[non_exhaustive]
pub struct VerifikConfig {
    /// The access token, sent as `Authorization: Bearer <token>`; `None` for a client that
    /// only logs in.
    pub token: Option<SecretString>,
    /// The API base URL.
    pub base_url: BaseUrl,
    /// How `start` creates validations.
    pub mode: Mode,
    /// Timeouts, retries of safe operations, response size cap, `User-Agent`.
    pub http: HttpConfig,
}

impl VerifikConfig {
    /// A configuration for Verifik's API in manual mode with default HTTP settings.
    pub fn new(token: impl Into<SecretString>) -> Result<Self> {
        VerifikBuilder::new(token).config()
    }
}

impl fmt::Debug for VerifikConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifikConfig")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("mode", &self.mode)
            .field("http", &self.http)
            .finish()
    }
}

/// Builds a [`Verifik`] verifier or a [`VerifikClient`].
///
/// ```
/// use std::time::Duration;
/// use phone_verify_core::http::Timeouts;
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
#[derive(Clone)]
pub struct VerifikBuilder {
    token: Option<SecretString>,
    base_url: String,
    mode: Mode,
    http: HttpConfig,
    reqwest: Option<reqwest::Client>,
}

impl fmt::Debug for VerifikBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifikBuilder")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("mode", &self.mode)
            .field("http", &self.http)
            .field("reqwest", &self.reqwest.is_some())
            .finish()
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
    /// [`VerifikClient::phone_login`]), which installs the token it obtains.
    pub fn without_token() -> Self {
        Self {
            token: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            mode: Mode::default(),
            http: HttpConfig::default(),
            reqwest: None,
        }
    }

    /// A builder for a phone-verify sandbox at `base_url` (e.g. `http://127.0.0.1:8025`), with
    /// the sandbox's default token [`SANDBOX_TOKEN`].
    pub fn sandbox(base_url: &str) -> Self {
        Self::new(SANDBOX_TOKEN).sandbox_url(base_url)
    }

    /// A builder from the process environment; see [`from_lookup`](Self::from_lookup).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// A builder from the variables `lookup` finds (empty values count as unset):
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
    /// | `VERIFIK_CONNECT_TIMEOUT_SECS` | connect timeout, seconds (decimals allowed) | 5 |
    /// | `VERIFIK_ATTEMPT_TIMEOUT_SECS` | timeout of one attempt, seconds | 10 |
    /// | `VERIFIK_OVERALL_TIMEOUT_SECS` | timeout of an operation with its retries, seconds | 30 |
    /// | `VERIFIK_MAX_ATTEMPTS` | attempts of a safe operation, first included (sends: always 1) | 3 |
    ///
    /// The base URL is checked when the builder builds; any other malformed value fails here
    /// with [`ErrorKind::InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) naming the
    /// variable (never showing the token).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let sandbox = var(ENV_SANDBOX_URL);
        let mut builder = match (var(ENV_TOKEN), &sandbox) {
            (Some(token), _) => Self::new(token),
            (None, Some(_)) => Self::new(SANDBOX_TOKEN),
            (None, None) => {
                return Err(invalid(format!(
                    "{ENV_TOKEN} is not set: it must hold a Verifik access token"
                )));
            }
        };
        if let Some(url) = sandbox {
            builder = builder.sandbox_url(&url);
        }
        if let Some(url) = var(ENV_BASE_URL) {
            builder = builder.base_url(&url);
        }
        builder.mode = mode_from(&var)?;
        builder.http = builder
            .http
            .clone()
            .with_env_lookup("VERIFIK", var)
            .map_err(|e| e.with_provider(PROVIDER))?;
        Ok(builder)
    }

    /// Sets the access token.
    #[must_use]
    pub fn token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sets the API base URL (default [`DEFAULT_BASE_URL`]).
    #[must_use]
    pub fn base_url(mut self, url: &str) -> Self {
        url.clone_into(&mut self.base_url);
        self
    }

    /// Points the client at a phone-verify sandbox at `base_url`: `{base_url}/verifik/v2`.
    /// The token is left as it is.
    #[must_use]
    pub fn sandbox_url(mut self, base_url: &str) -> Self {
        let base = base_url.trim().trim_end_matches('/');
        self.base_url = format!("{base}/verifik/v2");
        self
    }

    /// Sets how `start` creates validations (default [`Mode::manual`]).
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
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

    /// Sets the retry policy of safe operations (sends are never retried).
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

    /// Checks the settings: a token that can be sent in a header (when there is one) and a
    /// valid base URL (`https`, or `http` on loopback only).
    pub fn config(&self) -> Result<VerifikConfig> {
        if let Some(token) = &self.token {
            require_token(token)?;
        }
        let base_url = BaseUrl::parse(&self.base_url)
            .map_err(|e| invalid(format!("base URL: {}", e.message())).with_source(e))?;
        Ok(VerifikConfig {
            token: self.token.clone(),
            base_url,
            mode: self.mode.clone(),
            http: self.http.clone(),
        })
    }

    /// Builds the typed client of every endpoint (a token is optional: without one, only the
    /// logins work until one is installed).
    pub fn build_client(&self) -> Result<VerifikClient> {
        let config = self.config()?;
        let http = match &self.reqwest {
            Some(client) => HttpClient::with_reqwest(PROVIDER, client.clone(), config.http.clone()),
            None => HttpClient::new(PROVIDER, config.http.clone())?,
        };
        Ok(VerifikClient::from_parts(&config, http))
    }

    /// Builds the verifier; it needs a token.
    pub fn build(&self) -> Result<Verifik> {
        if self.token.is_none() {
            return Err(invalid(
                "the Verifik verifier needs an access token: set one with token() or log in \
                 with a client from without_token()",
            ));
        }
        let mode = self.mode.clone();
        Ok(Verifik::new(self.build_client()?, mode))
    }
}

/// Checks that a token is non-empty and can be sent in a header.
pub(crate) fn require_token(token: &SecretString) -> Result<()> {
    let exposed = token.expose_secret();
    if exposed.trim().is_empty() {
        return Err(invalid("the Verifik access token is empty"));
    }
    if reqwest::header::HeaderValue::from_str(&format!("Bearer {exposed}")).is_err() {
        return Err(invalid(
            "the Verifik access token has characters that cannot be sent in a header",
        ));
    }
    Ok(())
}

fn mode_from(var: &impl Fn(&str) -> Option<String>) -> Result<Mode> {
    let project = var(ENV_PROJECT);
    let name = var(ENV_MODE).map(|m| m.to_ascii_lowercase());
    let project_mode = match name.as_deref() {
        None => project.is_some(),
        Some("project" | "project_flow" | "project-flow") => true,
        Some("manual") => false,
        Some(other) => {
            return Err(invalid(format!(
                "{ENV_MODE} must be manual or project, not {other:?}"
            )));
        }
    };
    let for_mode = |name: &str, mode: &str| {
        invalid(format!("{name} is a setting of {mode} mode ({ENV_MODE})"))
    };
    if project_mode {
        let project = project.ok_or_else(|| {
            invalid(format!(
                "{ENV_MODE}=project needs {ENV_PROJECT}, the project id"
            ))
        })?;
        for name in [ENV_TITLE, ENV_WHATSAPP_TEMPLATE] {
            if var(name).is_some() {
                return Err(for_mode(name, "manual"));
            }
        }
        let mut mode = Mode::project_flow(&project).map_err(|e| named(ENV_PROJECT, &e))?;
        if let Some(channel) = var(ENV_PROJECT_CHANNEL) {
            let channel = channel
                .parse::<Channel>()
                .unwrap_or_else(|never| match never {});
            mode = mode
                .with_channel(channel)
                .map_err(|e| named(ENV_PROJECT_CHANNEL, &e))?;
        }
        if let Some(kind) = var(ENV_VALIDATION_TYPE) {
            let kind = kind.parse().unwrap_or_else(|never| match never {});
            mode = mode
                .with_validation_type(kind)
                .map_err(|e| named(ENV_VALIDATION_TYPE, &e))?;
        }
        if let Some(url) = var(ENV_WEBHOOK_URL) {
            mode = mode
                .with_webhook_url(&url)
                .map_err(|e| named(ENV_WEBHOOK_URL, &e))?;
        }
        Ok(mode)
    } else {
        for name in [ENV_PROJECT_CHANNEL, ENV_VALIDATION_TYPE, ENV_WEBHOOK_URL] {
            if var(name).is_some() {
                return Err(for_mode(name, "project"));
            }
        }
        let mut mode = Mode::manual();
        if let Some(title) = var(ENV_TITLE) {
            mode = mode.with_title(&title).map_err(|e| named(ENV_TITLE, &e))?;
        }
        if let Some(template) = var(ENV_WHATSAPP_TEMPLATE) {
            let template = template.parse().unwrap_or_else(|never| match never {});
            mode = mode
                .with_whatsapp_template(template)
                .map_err(|e| named(ENV_WHATSAPP_TEMPLATE, &e))?;
        }
        Ok(mode)
    }
}

/// A manual-mode title: 1 to 15 characters, no control characters.
pub(crate) fn require_title(title: &str) -> Result<String> {
    let title = title.trim();
    let count = title.chars().count();
    if count == 0 || count > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
        return Err(invalid(format!(
            "the title must have 1 to {MAX_TITLE_CHARS} characters"
        )));
    }
    Ok(title.to_owned())
}

/// An `http(s)` URL to hand to Verifik (redirect, webhook, identity).
pub(crate) fn require_url(what: &str, url: &str) -> Result<String> {
    let url = url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(url.to_owned())
    } else {
        Err(invalid(format!("the {what} must be an http(s) URL")))
    }
}

fn named(variable: &str, error: &Error) -> Error {
    invalid(format!("{variable}: {}", error.message()))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_input(message).with_provider(PROVIDER)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use phone_verify_core::ErrorKind;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_every_variable_of_manual_mode() {
        let builder = VerifikBuilder::from_lookup(env(&[
            (ENV_TOKEN, " canary-token-123 "),
            (ENV_BASE_URL, "https://verifik.example.test/v2/"),
            (ENV_TITLE, "Acme"),
            (ENV_WHATSAPP_TEMPLATE, "flow2"),
            (ENV_CONNECT_TIMEOUT, "1.5"),
            (ENV_ATTEMPT_TIMEOUT, "4"),
            (ENV_OVERALL_TIMEOUT, "12"),
            (ENV_MAX_ATTEMPTS, "5"),
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
        assert_eq!(config.http.timeouts.connect, Duration::from_millis(1500));
        assert_eq!(config.http.timeouts.attempt, Duration::from_secs(4));
        assert_eq!(config.http.timeouts.overall, Duration::from_secs(12));
        assert_eq!(config.http.retry.max_attempts, 5);
        assert!(!format!("{builder:?}{config:?}").contains("canary"));
    }

    #[test]
    fn reads_project_mode_and_the_sandbox() {
        let config = VerifikBuilder::from_lookup(env(&[
            (ENV_SANDBOX_URL, "http://127.0.0.1:8025/"),
            (ENV_PROJECT, "507f1f77bcf86cd799439011"),
            (ENV_PROJECT_CHANNEL, "SMS"),
            (ENV_VALIDATION_TYPE, "login"),
            (ENV_WEBHOOK_URL, "https://acme.test/hook"),
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

        let defaults = VerifikBuilder::from_lookup(env(&[(ENV_TOKEN, "t")]))
            .unwrap()
            .config()
            .unwrap();
        assert_eq!(defaults.base_url.to_string(), DEFAULT_BASE_URL);
        assert_eq!(defaults.mode, Mode::manual());
        assert_eq!(defaults.http.timeouts, Timeouts::default());
    }

    #[test]
    fn refuses_bad_settings() {
        let missing = VerifikBuilder::from_lookup(env(&[])).unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::InvalidInput);
        assert!(missing.to_string().contains(ENV_TOKEN));
        for (name, value) in [
            (ENV_CONNECT_TIMEOUT, "soon"),
            (ENV_ATTEMPT_TIMEOUT, "-1"),
            (ENV_OVERALL_TIMEOUT, "0"),
            (ENV_MAX_ATTEMPTS, "0"),
            (ENV_MODE, "magic"),
            (ENV_MODE, "project"),
            (ENV_TITLE, "A title far too long"),
            (ENV_WHATSAPP_TEMPLATE, "fancy"),
            (ENV_PROJECT_CHANNEL, "sms"),
        ] {
            let err =
                VerifikBuilder::from_lookup(env(&[(ENV_TOKEN, "t"), (name, value)])).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}={value}");
            assert!(
                err.to_string().contains(name) || err.to_string().contains(ENV_MODE),
                "{err}"
            );
        }
        for (name, value) in [
            (ENV_PROJECT, "../etc"),
            (ENV_PROJECT_CHANNEL, "voice"),
            (ENV_VALIDATION_TYPE, "onboarding"),
            (ENV_WEBHOOK_URL, "ftp://x"),
            (ENV_TITLE, "Acme"),
        ] {
            let mut pairs = vec![(ENV_TOKEN, "t"), (name, value)];
            if name != ENV_PROJECT {
                pairs.push((ENV_PROJECT, "507f1f77bcf86cd799439011"));
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
        ] {
            let err = builder.build().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{builder:?}");
            assert!(!err.to_string().contains("line\nbreak"));
        }
    }

    #[test]
    fn modes_refuse_settings_of_the_other_mode() {
        let project = Mode::project_flow("507f1f77bcf86cd799439011").unwrap();
        assert!(project.clone().with_title("Acme").is_err());
        assert!(project.clone().with_force(true).is_err());
        assert!(project.clone().with_validity(Duration::ZERO).is_err());
        assert!(project.clone().with_channel(Channel::Telegram).is_err());
        assert_eq!(project.channels(), [Channel::WhatsApp]);
        let project = project
            .with_validity(Duration::from_secs(300))
            .unwrap()
            .with_redirect_url("https://acme.test/done")
            .unwrap()
            .with_identity_url("https://acme.test/id")
            .unwrap()
            .with_requires_2fa(true)
            .unwrap();
        let Mode::ProjectFlow(settings) = &project else {
            panic!("project mode expected")
        };
        assert_eq!(settings.validity, Some(Duration::from_secs(300)));
        assert_eq!(settings.requires_2fa, Some(true));
        let manual = Mode::manual();
        assert!(manual.clone().with_channel(Channel::Sms).is_err());
        assert!(manual.clone().with_webhook_url("https://x.test").is_err());
        assert!(manual.clone().with_title("").is_err());
        assert!(manual.clone().with_title("Sixteen chars!!!").is_err());
        assert!(manual.clone().with_title("Fifteen chars!!").is_ok());
        assert_eq!(manual.channels(), [Channel::Sms, Channel::WhatsApp]);
        assert!(Mode::project_flow("").is_err());
    }
}
