//! Where requests go ([`Target`]) and how a command gets its provider ([`Context`]).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::time::Duration;

use phone_verify::guard::GuardSettings;
use phone_verify::providers::verigator::VerigatorBuilder;
use phone_verify::providers::{verifik, verifykit};
use phone_verify::secrecy::{ExposeSecret as _, SecretString};
use phone_verify::{Provider, Registry, RequestContext};
use phone_verify_sandbox::{Sandbox, SandboxConfig, SandboxHandle, SentMessage};

use crate::args::Global;
use crate::exit::Failure;

/// How long the lookup of a sandbox's latest message may take, body included.
const SANDBOX_LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest answer that lookup reads (a message is a few hundred bytes).
const SANDBOX_LOOKUP_MAX_BYTES: usize = 64 * 1024;

/// The default address of `phone-verify sandbox`.
pub(crate) const DEFAULT_SANDBOX_URL: &str = "http://127.0.0.1:8025";

/// Where a command sends its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A sandbox started inside this process, gone when the command ends.
    Embedded,
    /// A running sandbox at this base URL.
    Sandbox(String),
    /// The real provider.
    Live,
}

impl Target {
    /// `embedded`, `live`, `sandbox` or `sandbox:URL`.
    pub(crate) fn parse(raw: &str) -> Result<Self, Failure> {
        let raw = raw.trim();
        match raw {
            "embedded" => return Ok(Self::Embedded),
            "live" => return Ok(Self::Live),
            "sandbox" => return Ok(Self::Sandbox(DEFAULT_SANDBOX_URL.to_owned())),
            _ => {}
        }
        match raw.strip_prefix("sandbox:") {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Ok(Self::Sandbox(url.trim_end_matches('/').to_owned()))
            }
            _ => Err(Failure::usage(format!(
                "unknown target {raw:?}: use embedded, sandbox:URL (e.g. \
                 sandbox:{DEFAULT_SANDBOX_URL}) or live"
            ))),
        }
    }

    /// The target of the command line: `--live`, `--sandbox-url` or `--target` (at most one),
    /// else `PHONE_VERIFY_TARGET`, else embedded. With `--config`, whose routes say where
    /// requests go, `PHONE_VERIFY_TARGET` is not read.
    pub(crate) fn from_args(global: &Global) -> Result<Self, Failure> {
        let given = usize::from(global.live)
            + usize::from(global.sandbox_url.is_some())
            + usize::from(global.target.is_some());
        if given > 1 {
            return Err(Failure::usage(
                "give one of --target, --live and --sandbox-url",
            ));
        }
        if global.live {
            return Ok(Self::Live);
        }
        if let Some(url) = &global.sandbox_url {
            return Self::parse(&format!("sandbox:{url}"));
        }
        if let Some(target) = &global.target {
            return Self::parse(target);
        }
        match std::env::var("PHONE_VERIFY_TARGET") {
            Ok(target) if !target.trim().is_empty() && global.config.is_none() => {
                Self::parse(&target)
            }
            _ => Ok(Self::Embedded),
        }
    }

    /// Whether no real message can be sent.
    pub(crate) fn is_sandbox(&self) -> bool {
        !matches!(self, Self::Live)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embedded => f.write_str("embedded"),
            Self::Sandbox(url) => write!(f, "sandbox:{url}"),
            Self::Live => f.write_str("live"),
        }
    }
}

/// A built-in provider of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProviderName {
    VerifyKit,
    Verifik,
    Verigator,
    Twilio,
}

impl ProviderName {
    /// From a provider id.
    pub(crate) fn parse(name: &str) -> Result<Self, Failure> {
        match name {
            "verifykit" => Ok(Self::VerifyKit),
            "verifik" => Ok(Self::Verifik),
            "verigator" => Ok(Self::Verigator),
            "twilio" => Ok(Self::Twilio),
            other => Err(Failure::usage(format!(
                "unknown provider {other:?} (verifykit, verifik, verigator, twilio)"
            ))),
        }
    }

    /// The registry name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::VerifyKit => "verifykit",
            Self::Verifik => "verifik",
            Self::Verigator => "verigator",
            Self::Twilio => "twilio",
        }
    }

    /// The display name.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Self::VerifyKit => "VerifyKit",
            Self::Verifik => "Verifik",
            Self::Verigator => "Messente Verigator",
            Self::Twilio => "Twilio Verify",
        }
    }

    /// The variable that points the provider at a sandbox.
    fn sandbox_variable(self) -> &'static str {
        match self {
            Self::VerifyKit => "VERIFYKIT_SANDBOX_URL",
            Self::Verifik => "VERIFIK_SANDBOX_URL",
            Self::Verigator => "VERIGATOR_SANDBOX_URL",
            Self::Twilio => "TWILIO_SANDBOX_URL",
        }
    }

    /// The variable `--base-url` sets.
    fn base_url_variable(self) -> &'static str {
        match self {
            Self::VerifyKit => "VERIFYKIT_WEB_REST_URL",
            Self::Verifik => "VERIFIK_BASE_URL",
            Self::Verigator => "VERIGATOR_BASE_URL",
            Self::Twilio => "TWILIO_BASE_URL",
        }
    }

    /// The variable `--key-stdin` sets; for Twilio, the API key's secret when an API key is
    /// set (`is_set` tells which variables are), else the auth token.
    fn secret_variable(self, is_set: impl Fn(&str) -> bool) -> &'static str {
        match self {
            Self::VerifyKit => "VERIFYKIT_SERVER_KEY",
            Self::Verifik => "VERIFIK_TOKEN",
            Self::Verigator => "VERIGATOR_PASSWORD",
            Self::Twilio if is_set("TWILIO_API_KEY_SID") => "TWILIO_API_KEY_SECRET",
            Self::Twilio => "TWILIO_AUTH_TOKEN",
        }
    }

    /// Whether the sandbox supplies variable `name` on a sandbox target: the provider's
    /// credentials and URLs.
    fn sandbox_supplies(self, name: &str) -> bool {
        let supplied: &[&str] = match self {
            Self::VerifyKit => &[
                verifykit::VerifyKitSetting::ServerKey.name(),
                verifykit::VerifyKitSetting::WebRestUrl.name(),
                verifykit::VerifyKitSetting::ApiUrl.name(),
            ],
            Self::Verifik => {
                let supplied = [
                    verifik::VerifikSetting::Token,
                    verifik::VerifikSetting::BaseUrl,
                ];
                return supplied.iter().any(|setting| setting.to_string() == name);
            }
            Self::Verigator => &[
                "VERIGATOR_USERNAME",
                "VERIGATOR_PASSWORD",
                "VERIGATOR_BASE_URL",
            ],
            Self::Twilio => &[
                "TWILIO_ACCOUNT_SID",
                "TWILIO_AUTH_TOKEN",
                "TWILIO_API_KEY_SID",
                "TWILIO_API_KEY_SECRET",
                "TWILIO_SERVICE_SID",
                "TWILIO_BASE_URL",
            ],
        };
        supplied.contains(&name)
    }

    /// The prefix of the provider's variables.
    fn prefix(self) -> &'static str {
        match self {
            Self::VerifyKit => "VERIFYKIT_",
            Self::Verifik => "VERIFIK_",
            Self::Verigator => "VERIGATOR_",
            Self::Twilio => "TWILIO_",
        }
    }
}

/// What every command that talks to a provider needs: the target, the chosen provider, the
/// options of the command line, and the embedded sandbox once started.
pub(crate) struct Context {
    pub(crate) target: Target,
    /// The provider of `--provider`.
    pub(crate) provider: Option<ProviderName>,
    pub(crate) json: bool,
    base_url: Option<String>,
    /// The secret of `--key-stdin`.
    secret: Option<SecretString>,
    end_user_ip: Option<IpAddr>,
    embedded: Option<SandboxHandle>,
    registry: Registry,
    /// `--config`: the router's configuration file.
    pub(crate) config: Option<std::path::PathBuf>,
    /// The guard of `--guard`, wrapped around every provider built.
    pub(crate) guard: Option<GuardSettings>,
    /// The file of `--guard`.
    guard_path: Option<std::path::PathBuf>,
}

/// The variables a provider is built from, each held as a secret (credentials among them);
/// `Debug` shows the names only.
pub(crate) type Variables = BTreeMap<String, SecretString>;

/// Whether `name` is set to something in `vars`: a blank value is unset, as the provider
/// builders read it.
fn is_set(vars: &Variables, name: &str) -> bool {
    vars.get(name)
        .is_some_and(|v| !v.expose_secret().trim().is_empty())
}

/// Reads the `--guard` file.
fn load_guard(path: &std::path::Path) -> Result<GuardSettings, Failure> {
    let text = crate::input::read_file(path)
        .map_err(|e| Failure::usage(format!("--guard {}: {e}", path.display())))?;
    GuardSettings::from_toml(&text)
        .map_err(|e| Failure::usage(format!("--guard {}: {}", path.display(), e.message())))
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("target", &self.target)
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl Context {
    /// The context of the command line; `--key-stdin` reads the secret now.
    pub(crate) fn new(global: &Global) -> Result<Self, Failure> {
        global.check_config_clashes()?;
        let target = Target::from_args(global)?;
        if target != Target::Live {
            if global.base_url.is_some() {
                return Err(Failure::usage(
                    "--base-url applies to --live; for a sandbox, use --target sandbox:URL",
                ));
            }
            if global.key_stdin {
                return Err(Failure::usage(
                    "--key-stdin applies to --live: a sandbox takes its own credentials",
                ));
            }
        }
        let secret = if global.key_stdin {
            let key = crate::input::read_stdin_secret()
                .map_err(|e| Failure::usage(format!("cannot read the key from stdin: {e}")))?;
            let Some(key) = key else {
                return Err(Failure::usage(
                    "--key-stdin: the first line of stdin is empty",
                ));
            };
            Some(key)
        } else {
            None
        };
        Ok(Self {
            target,
            provider: global
                .provider
                .as_deref()
                .map(ProviderName::parse)
                .transpose()?,
            json: global.json,
            base_url: global.base_url.clone(),
            secret,
            end_user_ip: global.end_user_ip,
            embedded: None,
            registry: Registry::with_builtin(),
            config: global.config.clone(),
            guard: global.guard.as_deref().map(load_guard).transpose()?,
            guard_path: global.guard.clone(),
        })
    }

    /// The options besides the target that a later command on this verification needs again:
    /// `--end-user-ip`, `--base-url`, `--key-stdin` and `--guard`, each with a leading space.
    pub(crate) fn continuing_options(&self) -> String {
        let mut options = String::new();
        if let Some(ip) = self.end_user_ip {
            let _ = write!(options, " --end-user-ip {ip}");
        }
        if let Some(url) = &self.base_url {
            let _ = write!(options, " --base-url {url}");
        }
        if self.secret.is_some() {
            options.push_str(" --key-stdin");
        }
        if let Some(path) = &self.guard_path {
            let _ = write!(options, " --guard {}", path.display());
        }
        options
    }

    /// Whether the secret was read from stdin (`--key-stdin`).
    pub(crate) fn reads_stdin(&self) -> bool {
        self.secret.is_some()
    }

    /// The provider of `--provider`, else of `PHONE_VERIFY_PROVIDER`, else VerifyKit. The
    /// variable is read only here, where it decides: beside `--provider`, with `--config` and
    /// in commands of one provider it is not read, so a value the command line does not know
    /// (an application's own registry provider) stops only a command it would pick for.
    pub(crate) fn provider_or_default(&self) -> Result<ProviderName, Failure> {
        if let Some(provider) = self.provider {
            return Ok(provider);
        }
        match std::env::var(phone_verify::ENV_PROVIDER) {
            Ok(name) if !name.trim().is_empty() => ProviderName::parse(name.trim())
                .map_err(|e| Failure::usage(format!("{}: {e}", phone_verify::ENV_PROVIDER))),
            _ => Ok(ProviderName::VerifyKit),
        }
    }

    /// Prints the one-line banner that says where requests go (stderr).
    pub(crate) fn banner(&self, provider: ProviderName) {
        match &self.target {
            Target::Embedded => errln!(
                "phone-verify: embedded sandbox ({}): no real message is sent; --live uses the \
                 real provider",
                provider.title()
            ),
            Target::Sandbox(url) => errln!(
                "phone-verify: sandbox at {url} ({}): no real message is sent",
                provider.title()
            ),
            Target::Live => errln!(
                "phone-verify: live {}: real messages are sent",
                provider.title()
            ),
        }
    }

    /// The end user's context of every request.
    pub(crate) fn request_context(&self) -> RequestContext {
        let mut context = RequestContext::new();
        if let Some(ip) = self.end_user_ip {
            context = context.end_user_ip(ip);
        }
        context
    }

    /// The sandbox's base URL (starting the embedded one if needed); `None` when live.
    pub(crate) async fn sandbox_url(&mut self) -> Result<Option<String>, Failure> {
        match &self.target {
            Target::Live => Ok(None),
            Target::Sandbox(url) => Ok(Some(url.clone())),
            Target::Embedded => {
                if self.embedded.is_none() {
                    let sandbox = Sandbox::start(SandboxConfig::default())
                        .await
                        .map_err(|e| {
                            Failure::other(format!("cannot start the embedded sandbox: {e}"))
                        })?;
                    self.embedded = Some(sandbox);
                }
                Ok(self.embedded.as_ref().map(SandboxHandle::base_url))
            }
        }
    }

    /// The variables `provider` is configured with: the provider's variables from the
    /// environment (never its `_SANDBOX_URL`), so timeouts and attempts apply on every target.
    /// On a sandbox, its URL replaces the provider's URLs and the credentials default to the
    /// sandbox's (the environment's are not sent to it); live, `--base-url` and `--key-stdin`
    /// come on top. Every value is held as a secret from the moment it is read.
    pub(crate) async fn variables(&mut self, provider: ProviderName) -> Result<Variables, Failure> {
        let sandbox = self.sandbox_url().await?;
        // `vars_os`: `vars` panics on a variable that is not UTF-8, whatever its name. The
        // provider's own variables are text; others are none of this command's business.
        let mut vars: Variables = std::env::vars_os()
            .filter(|(name, _)| {
                name.to_str().is_some_and(|name| {
                    name.starts_with(provider.prefix())
                        && name != provider.sandbox_variable()
                        && (sandbox.is_none() || !provider.sandbox_supplies(name))
                })
            })
            .filter_map(|(name, value)| {
                Some((
                    name.into_string().ok()?,
                    SecretString::from(value.into_string().ok()?),
                ))
            })
            .collect();
        if let Some(url) = sandbox {
            vars.insert(provider.sandbox_variable().to_owned(), url.into());
            return Ok(vars);
        }
        if let Some(url) = &self.base_url {
            vars.insert(provider.base_url_variable().to_owned(), url.as_str().into());
        }
        if let Some(secret) = &self.secret {
            let name = provider.secret_variable(|name| is_set(&vars, name));
            vars.insert(name.to_owned(), secret.clone());
        }
        Ok(vars)
    }

    /// Builds `provider` through the registry, as an application would. For Verigator,
    /// `service_id` (or `VERIGATOR_SERVICE_ID`) names the service; on a sandbox without one, a
    /// new service is created. For Twilio, `service_id` (or `TWILIO_SERVICE_SID`; on a sandbox,
    /// the sandbox's service) names the Verify service.
    pub(crate) async fn build(
        &mut self,
        provider: ProviderName,
        service_id: Option<&str>,
    ) -> Result<Provider, Failure> {
        let mut vars = self.variables(provider).await?;
        if provider == ProviderName::Verigator {
            if let Some(id) = service_id {
                vars.insert("VERIGATOR_SERVICE_ID".to_owned(), id.into());
            } else if self.target.is_sandbox() {
                let id = self.create_verigator_service(&vars).await?;
                vars.insert("VERIGATOR_SERVICE_ID".to_owned(), id.into());
            }
        }
        if provider == ProviderName::Twilio
            && let Some(sid) = service_id
        {
            vars.insert("TWILIO_SERVICE_SID".to_owned(), sid.into());
        }
        let built = self
            .registry
            .build_named(provider.as_str(), |name| vars.get(name).cloned())?;
        Ok(match &self.guard {
            Some(settings) => built.guarded(settings).await?,
            None => built,
        })
    }

    async fn create_verigator_service(&self, vars: &Variables) -> Result<String, Failure> {
        let client =
            VerigatorBuilder::from_secret_lookup(|name| vars.get(name).cloned())?.build_client()?;
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let fqdn = format!("cli-{}-{stamp}.phone-verify.localhost", std::process::id());
        let service = client.create_service(&fqdn, "phone-verify CLI").await?;
        if !self.json {
            errln!(
                "phone-verify: created the Verigator service {} in the sandbox (--service-id \
                 reuses it)",
                service.id
            );
        }
        Ok(service.id)
    }

    /// The newest message the sandbox "sent" to `phone`, when the target is a sandbox.
    pub(crate) async fn sandbox_message(&self, phone: &str) -> Option<SentMessage> {
        if self.config.is_some() {
            // The routes of `--config` sent it, wherever they point.
            return None;
        }
        match &self.target {
            Target::Live => None,
            Target::Embedded => self
                .embedded
                .as_ref()
                .and_then(|s| s.messages(phone).into_iter().next()),
            Target::Sandbox(url) => latest_message(url, phone, SANDBOX_LOOKUP_TIMEOUT).await,
        }
    }
}

/// The newest message the sandbox at `url` "sent" to `phone`, within `timeout` (body
/// included) and [`SANDBOX_LOOKUP_MAX_BYTES`]: a sandbox that stalls or answers without end
/// must not hold the command, since the message is only shown to help once the provider call
/// is done.
async fn latest_message(url: &str, phone: &str, timeout: Duration) -> Option<SentMessage> {
    let client = phone_verify::reqwest::Client::builder()
        .timeout(timeout)
        .redirect(phone_verify::reqwest::redirect::Policy::none())
        .build()
        .ok()?;
    let mut response = client
        .get(format!("{url}/_sandbox/messages/latest"))
        .query(&[("phone", phone)])
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > SANDBOX_LOOKUP_MAX_BYTES {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_stdin_sets_twilios_api_key_secret_only_beside_an_api_key() {
        let vars = |sid: &str| Variables::from([("TWILIO_API_KEY_SID".to_owned(), sid.into())]);
        let pick =
            |vars: Variables| ProviderName::Twilio.secret_variable(|name| is_set(&vars, name));
        assert_eq!(pick(vars("SK0123")), "TWILIO_API_KEY_SECRET");
        assert_eq!(
            pick(vars("  ")),
            "TWILIO_AUTH_TOKEN",
            "a blank SID is unset"
        );
        assert_eq!(pick(BTreeMap::new()), "TWILIO_AUTH_TOKEN");
        assert_eq!(
            ProviderName::VerifyKit.secret_variable(|_| true),
            "VERIFYKIT_SERVER_KEY"
        );
    }

    /// The variables a provider is built from are secrets, `--key-stdin`'s among them (it was
    /// copied into a plain `String`), and their `Debug` shows no value.
    #[test]
    fn variables_are_held_as_secrets() {
        let mut ctx = Context {
            target: Target::Live,
            provider: None,
            json: false,
            base_url: Some("https://verifik.example".to_owned()),
            secret: Some(SecretString::from("canary-key")),
            end_user_ip: None,
            embedded: None,
            registry: Registry::new(),
            config: None,
            guard: None,
            guard_path: None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let vars: BTreeMap<String, SecretString> = runtime
            .block_on(ctx.variables(ProviderName::Verifik))
            .unwrap();
        assert_eq!(vars["VERIFIK_TOKEN"].expose_secret(), "canary-key");
        assert_eq!(
            vars["VERIFIK_BASE_URL"].expose_secret(),
            "https://verifik.example"
        );
        assert!(!format!("{vars:?}").contains("canary"), "{vars:?}");
    }

    #[test]
    fn parses_targets() {
        assert_eq!(Target::parse("embedded").unwrap(), Target::Embedded);
        assert_eq!(Target::parse(" live ").unwrap(), Target::Live);
        assert_eq!(
            Target::parse("sandbox").unwrap(),
            Target::Sandbox(DEFAULT_SANDBOX_URL.into())
        );
        assert_eq!(
            Target::parse("sandbox:http://127.0.0.1:9/").unwrap(),
            Target::Sandbox("http://127.0.0.1:9".into())
        );
        for bad in ["", "prod", "sandbox:127.0.0.1:9", "sandbox:"] {
            assert!(Target::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Target::Sandbox("http://x".into()).to_string(),
            "sandbox:http://x"
        );
    }

    /// A local server that reads a request, then answers with `answer` (or nothing, holding
    /// the connection open for a minute).
    fn server(answer: Option<fn(&mut std::net::TcpStream)>) -> String {
        use std::io::Read as _;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let _ = stream.read(&mut [0; 4096]);
            match answer {
                Some(answer) => answer(&mut stream),
                None => std::thread::sleep(Duration::from_secs(60)),
            }
        });
        url
    }

    fn lookup(url: &str, timeout: Duration) -> (Option<SentMessage>, Duration) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let found = runtime.block_on(latest_message(url, "+905321234567", timeout));
        (found, started.elapsed())
    }

    #[test]
    fn a_sandbox_that_stalls_or_never_ends_its_answer_does_not_hold_the_command() {
        // The timeout ends a stalled answer (the server holds it for a minute).
        let (found, took) = lookup(&server(None), Duration::from_millis(300));
        assert!(found.is_none());
        assert!(took < Duration::from_secs(30), "{took:?}");
        let endless = server(Some(|stream| {
            use std::io::Write as _;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                        transfer-encoding: chunked\r\n\r\n";
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
            while stream.write_all(chunk.as_bytes()).is_ok() {}
        }));
        // The size cap ends an endless one long before the timeout.
        let (found, took) = lookup(&endless, Duration::from_secs(60));
        assert!(found.is_none());
        assert!(took < Duration::from_secs(30), "{took:?}");
    }
}
