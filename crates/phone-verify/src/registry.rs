//! The [`Registry`]: providers by name, built from the environment or a configuration.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use phone_verify_core::{Error, PhoneVerifier, ProviderId, Result, SessionResolver};

use crate::config::{ProviderConfig, SettingValue};

/// `PHONE_VERIFY_PROVIDER`: the provider [`Registry::build_from_env`] builds, e.g. `verifykit`.
pub const ENV_PROVIDER: &str = "PHONE_VERIFY_PROVIDER";

/// The providers this crate knows, whether or not their feature is enabled.
pub const BUILTIN_PROVIDERS: [&str; 4] = ["verifykit", "verifik", "verigator", "twilio"];

/// A configured provider: its verifier and, if it has sessions, its session resolver.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Provider {
    /// Starts and checks verifications.
    pub verifier: Arc<dyn PhoneVerifier>,
    /// Resolves session ids, for providers that have sessions.
    pub resolver: Option<Arc<dyn SessionResolver>>,
}

impl Provider {
    /// A provider without sessions.
    pub fn new(verifier: Arc<dyn PhoneVerifier>) -> Self {
        Self {
            verifier,
            resolver: None,
        }
    }

    /// One value that is both the verifier and the session resolver, as VerifyKit and Verifik
    /// are.
    pub fn both<T: PhoneVerifier + SessionResolver + 'static>(value: T) -> Self {
        let value = Arc::new(value);
        Self {
            verifier: value.clone(),
            resolver: Some(value),
        }
    }

    /// Sets the session resolver.
    #[must_use]
    pub fn with_resolver(mut self, resolver: Arc<dyn SessionResolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// The provider id of the verifier.
    pub fn id(&self) -> ProviderId {
        self.verifier.provider()
    }

    /// The session resolver, or an [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported)
    /// error for providers without sessions.
    pub fn require_resolver(&self) -> Result<&Arc<dyn SessionResolver>> {
        self.resolver.as_ref().ok_or_else(|| {
            Error::unsupported(format!(
                "provider {} has no sessions to resolve",
                self.verifier.provider()
            ))
        })
    }
}

/// Builds a [`Provider`] from its [`Settings`]; see [`Registry::register`].
pub type Factory = Arc<dyn Fn(&Settings<'_>) -> Result<Provider> + Send + Sync>;

/// Providers by name, each built by a [`Factory`] from configuration: environment variables
/// or a [`ProviderConfig`].
///
/// [`with_builtin`](Self::with_builtin) knows the providers whose features are enabled;
/// [`register`](Self::register) adds any other, such as a provider crate of your own, which
/// then plugs in exactly like the built-in ones.
///
/// ```
/// use phone_verify::{ErrorKind, Registry};
///
/// let registry = Registry::with_builtin();
/// let env = |name: &str| (name == "PHONE_VERIFY_PROVIDER").then(|| "acme".to_owned());
/// let err = registry.build_from_lookup(env).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// assert!(err.to_string().contains("unknown provider \"acme\""));
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    factories: BTreeMap<String, Factory>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("providers", &self.names())
            .finish()
    }
}

impl Registry {
    /// A registry without providers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a built-in provider's factory under its name, a constant checked by
    /// `builtin`'s tests to be a valid provider id.
    #[cfg(any(
        feature = "verifykit",
        feature = "verifik",
        feature = "verigator",
        feature = "twilio"
    ))]
    pub(crate) fn insert_builtin(
        &mut self,
        name: &'static str,
        factory: impl Fn(&Settings<'_>) -> Result<Provider> + Send + Sync + 'static,
    ) {
        self.factories.insert(name.to_owned(), Arc::new(factory));
    }

    /// Registers `factory` under `name` (a provider id: lowercase letters, digits, `-`, `_`),
    /// replacing any factory of that name, built-in ones included.
    ///
    /// The factory reads its configuration with [`Settings::get`], by the names of the
    /// environment variables it would read (`ACME_API_KEY`): from the environment when built
    /// by [`build_from_env`](Self::build_from_env), and from a [`ProviderConfig`]'s settings
    /// (`api_key`) when built by [`build`](Self::build).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use phone_verify::{Provider, ProviderConfig, Registry};
    /// # #[derive(Debug)] struct Acme { key: String }
    /// # #[phone_verify::async_trait]
    /// # impl phone_verify::PhoneVerifier for Acme {
    /// #     fn provider(&self) -> phone_verify::ProviderId { phone_verify::ProviderId::new_static("acme") }
    /// #     fn capabilities(&self) -> phone_verify::Capabilities { phone_verify::Capabilities::new() }
    /// #     async fn start(&self, _: &phone_verify::StartRequest) -> phone_verify::Result<phone_verify::Verification> { unimplemented!() }
    /// #     async fn check(&self, _: &phone_verify::Verification, _: &phone_verify::CheckRequest) -> phone_verify::Result<phone_verify::CheckOutcome> { unimplemented!() }
    /// # }
    ///
    /// let mut registry = Registry::with_builtin();
    /// registry.register("acme", |settings| {
    ///     let key = settings.require("ACME_API_KEY")?;
    ///     Ok(Provider::new(Arc::new(Acme { key })))
    /// })?;
    /// let config = ProviderConfig::new("acme").setting("api_key", "k-123");
    /// assert_eq!(registry.build(&config)?.id().as_str(), "acme");
    /// # Ok::<(), phone_verify::Error>(())
    /// ```
    pub fn register(
        &mut self,
        name: &str,
        factory: impl Fn(&Settings<'_>) -> Result<Provider> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let id = ProviderId::new(name)?;
        self.factories
            .insert(id.as_str().to_owned(), Arc::new(factory));
        Ok(self)
    }

    /// The names of the registered providers, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.factories.keys().map(String::as_str).collect()
    }

    /// Whether a provider named `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.factories.contains_key(name)
    }

    /// Builds the provider named by `PHONE_VERIFY_PROVIDER`, configured by its own variables
    /// (e.g. `VERIFYKIT_SERVER_KEY`) in the process environment.
    pub fn build_from_env(&self) -> Result<Provider> {
        self.build_from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`build_from_env`](Self::build_from_env), with the variables `lookup` finds.
    pub fn build_from_lookup(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Provider> {
        let name = lookup(ENV_PROVIDER)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "{ENV_PROVIDER} is not set: it names the provider to use ({})",
                    self.known()
                ))
            })?;
        self.build_named(&name, lookup)
    }

    /// Builds the provider `name`, configured by the variables `lookup` finds (its own, e.g.
    /// `VERIFIK_TOKEN`; `PHONE_VERIFY_PROVIDER` is not read).
    pub fn build_named(
        &self,
        name: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Provider> {
        let factory = self.factory(name)?;
        let settings = Settings {
            provider: name,
            source: Source::Lookup(&lookup),
            read: RefCell::new(BTreeSet::new()),
        };
        factory(&settings)
    }

    /// Builds the provider a [`ProviderConfig`] describes. Settings given as
    /// `{ "env": "VARIABLE" }` are read from the environment first; a setting the provider
    /// does not read is refused with [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
    /// naming it.
    pub fn build(&self, config: &ProviderConfig) -> Result<Provider> {
        self.build_config(config, |name| std::env::var(name).ok())
    }

    /// Like [`build`](Self::build), with `{ "env": … }` references resolved by `env`.
    pub fn build_with_env(
        &self,
        config: &ProviderConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Provider> {
        self.build_config(config, env)
    }

    fn build_config(
        &self,
        config: &ProviderConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Provider> {
        let name = config.provider.trim();
        let factory = self.factory(name)?;
        let mut values = BTreeMap::new();
        for (key, value) in &config.settings {
            let valid = !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(Error::invalid_input(format!(
                    "setting {key:?} of provider {name}: setting names are lowercase letters, \
                     digits and '_', such as \"max_attempts\""
                )));
            }
            let text = match value {
                SettingValue::Env(variable) => env(variable).ok_or_else(|| {
                    Error::invalid_input(format!(
                        "setting `{key}` of provider {name} is read from the environment \
                         variable {variable}, which is not set"
                    ))
                })?,
                other => other.as_text().unwrap_or_default(),
            };
            values.insert(key.clone(), text);
        }
        let settings = Settings {
            provider: name,
            source: Source::Config(&values),
            read: RefCell::new(BTreeSet::new()),
        };
        let built = factory(&settings);
        let read: BTreeSet<String> = settings
            .read
            .borrow()
            .iter()
            .map(|variable| settings.setting_name(variable))
            .collect();
        let unused: Vec<&str> = values
            .keys()
            .filter(|key| !read.contains(*key))
            .map(String::as_str)
            .collect();
        let provider = built.map_err(|err| {
            let err = settings.explain(err);
            if unused.is_empty() {
                return err;
            }
            // A misspelt setting is often why the provider failed (`sevrer_key`): name the
            // settings it had not read when it failed, never their values.
            let message = format!(
                "{} (settings not read before this error: {})",
                err.message(),
                unused.join(", ")
            );
            rewrap(err, message)
        })?;
        if !unused.is_empty() {
            let read: Vec<&str> = read.iter().map(String::as_str).collect();
            return Err(Error::invalid_input(format!(
                "provider {name} does not use the setting(s) {} with this configuration \
                 (it read: {})",
                unused.join(", "),
                read.join(", ")
            )));
        }
        Ok(provider)
    }

    fn factory(&self, name: &str) -> Result<&Factory> {
        if let Some(factory) = self.factories.get(name) {
            return Ok(factory);
        }
        let features = [
            ("verifykit", cfg!(feature = "verifykit")),
            ("verifik", cfg!(feature = "verifik")),
            ("verigator", cfg!(feature = "verigator")),
            ("twilio", cfg!(feature = "twilio")),
        ];
        let compiled_in = features
            .iter()
            .all(|(builtin, enabled)| *builtin != name || *enabled);
        let message = if compiled_in {
            format!("unknown provider {name:?} ({})", self.known())
        } else {
            format!(
                "provider {name:?} is not compiled in: enable the `{name}` feature of \
                 phone-verify ({})",
                self.known()
            )
        };
        Err(Error::invalid_input(message))
    }

    fn known(&self) -> String {
        if self.factories.is_empty() {
            "no provider is registered: enable a provider feature of phone-verify \
             (verifykit, verifik, verigator, twilio) or register one"
                .to_owned()
        } else {
            format!("known providers: {}", self.names().join(", "))
        }
    }
}

/// What a [`Factory`] reads its configuration from: the environment (or a lookup standing for
/// it), or the settings of a [`ProviderConfig`], both by the environment variables' names.
///
/// `Debug` shows the provider and the kind of source, never values.
pub struct Settings<'a> {
    provider: &'a str,
    source: Source<'a>,
    read: RefCell<BTreeSet<String>>,
}

enum Source<'a> {
    Lookup(&'a dyn Fn(&str) -> Option<String>),
    Config(&'a BTreeMap<String, String>),
}

impl fmt::Debug for Settings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.source {
            Source::Lookup(_) => "environment",
            Source::Config(_) => "configuration",
        };
        f.debug_struct("Settings")
            .field("provider", &self.provider)
            .field("source", &source)
            .finish_non_exhaustive()
    }
}

impl Settings<'_> {
    /// The name the provider is built under.
    pub fn provider(&self) -> &str {
        self.provider
    }

    /// The prefix of the provider's variables: its name in upper case with `-` as `_`, and a
    /// `_` (`VERIFYKIT_`).
    pub fn prefix(&self) -> String {
        let mut prefix = self.provider.to_ascii_uppercase().replace('-', "_");
        prefix.push('_');
        prefix
    }

    /// The setting that stands for `variable` in a [`ProviderConfig`]: the variable without
    /// the provider's [prefix](Self::prefix), in lower case (`VERIFYKIT_SERVER_KEY` →
    /// `server_key`).
    pub fn setting_name(&self, variable: &str) -> String {
        let prefix = self.prefix();
        variable
            .strip_prefix(prefix.as_str())
            .unwrap_or(variable)
            .to_ascii_lowercase()
    }

    /// The value of `variable` (e.g. `VERIFYKIT_SERVER_KEY`): from the environment, or from
    /// the configuration's setting of the same name (`server_key`). Pass
    /// `|name| settings.get(name)` to a provider builder's `from_lookup`.
    pub fn get(&self, variable: &str) -> Option<String> {
        self.read.borrow_mut().insert(variable.to_owned());
        match self.source {
            Source::Lookup(lookup) => lookup(variable),
            Source::Config(values) => values.get(&self.setting_name(variable)).cloned(),
        }
    }

    /// The value of `variable`, or an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
    /// error naming it (and its setting, for a configuration) when it is unset or blank. The
    /// error never shows a value.
    pub fn require(&self, variable: &str) -> Result<String> {
        match self.get(variable) {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(self.explain(Error::invalid_input(format!(
                "{variable} is not set: provider {} needs it",
                self.provider
            )))),
        }
    }

    /// Whether the values come from a [`ProviderConfig`] rather than the environment.
    pub fn is_configuration(&self) -> bool {
        matches!(self.source, Source::Config(_))
    }

    /// For a configuration, adds to an error that names variables the settings they stand for.
    fn explain(&self, err: Error) -> Error {
        if !self.is_configuration() {
            return err;
        }
        let mentioned: Vec<String> = self
            .read
            .borrow()
            .iter()
            .filter(|variable| contains_word(err.message(), variable))
            .map(|variable| {
                format!(
                    "{variable} is the setting `{}`",
                    self.setting_name(variable)
                )
            })
            .collect();
        if mentioned.is_empty() || err.message().contains("is the setting `") {
            return err;
        }
        let message = format!(
            "{} (in the configuration, {})",
            err.message(),
            mentioned.join(", ")
        );
        rewrap(err, message)
    }
}

/// Whether `word` appears in `text` not as part of a longer variable name.
fn contains_word(text: &str, word: &str) -> bool {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_name) && !after.is_some_and(is_name)
    })
}

/// `err` with another message, keeping its kind and metadata, and itself as the source.
pub(crate) fn rewrap(err: Error, message: String) -> Error {
    let mut out = Error::new(err.kind(), message);
    if let Some(provider) = err.provider() {
        out = out.with_provider(provider.clone());
    }
    if let Some(code) = err.provider_code() {
        out = out.with_provider_code(code);
    }
    if let Some(text) = err.provider_message() {
        out = out.with_provider_message(text);
    }
    if let Some(status) = err.http_status() {
        out = out.with_http_status(status);
    }
    if let Some(id) = err.request_id() {
        out = out.with_request_id(id);
    }
    if let Some(delay) = err.retry_after() {
        out = out.with_retry_after(delay);
    }
    out.with_source(err)
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ErrorKind;

    use super::*;

    fn settings(values: &BTreeMap<String, String>) -> Settings<'_> {
        Settings {
            provider: "acme-sms",
            source: Source::Config(values),
            read: RefCell::new(BTreeSet::new()),
        }
    }

    #[test]
    fn maps_variables_to_settings() {
        let values = BTreeMap::from([("api_key".to_owned(), "k".to_owned())]);
        let s = settings(&values);
        assert_eq!(s.provider(), "acme-sms");
        assert_eq!(s.prefix(), "ACME_SMS_");
        assert_eq!(s.setting_name("ACME_SMS_API_KEY"), "api_key");
        assert_eq!(s.setting_name("HTTPS_PROXY"), "https_proxy");
        assert_eq!(s.get("ACME_SMS_API_KEY").as_deref(), Some("k"));
        assert_eq!(s.get("ACME_SMS_REGION"), None);
        assert!(s.read.borrow().contains("ACME_SMS_REGION"));
    }

    #[test]
    fn debug_of_settings_shows_the_source_never_a_value() {
        let values = BTreeMap::from([("api_key".to_owned(), "canary-key".to_owned())]);
        assert_eq!(
            format!("{:?}", settings(&values)),
            r#"Settings { provider: "acme-sms", source: "configuration", .. }"#
        );
        let lookup = |_: &str| Some("canary-key".to_owned());
        let from_env = Settings {
            provider: "acme-sms",
            source: Source::Lookup(&lookup),
            read: RefCell::new(BTreeSet::new()),
        };
        assert_eq!(
            from_env.get("ACME_SMS_API_KEY").as_deref(),
            Some("canary-key")
        );
        assert_eq!(
            format!("{from_env:?}"),
            r#"Settings { provider: "acme-sms", source: "environment", .. }"#
        );
        assert!(settings(&values).is_configuration() && !from_env.is_configuration());
    }

    #[test]
    fn explain_adds_the_settings_a_configuration_error_names_once() {
        let values = BTreeMap::from([("api_key".to_owned(), "k".to_owned())]);
        let config = settings(&values);
        config.get("ACME_SMS_API_KEY");
        let wrong = || Error::invalid_input("ACME_SMS_API_KEY is wrong");
        let explained = config.explain(wrong());
        assert_eq!(
            explained.message(),
            "ACME_SMS_API_KEY is wrong (in the configuration, ACME_SMS_API_KEY is the setting \
             `api_key`)"
        );
        // Explained once only, and not at all where no variable read is named.
        assert_eq!(
            config.explain(explained).message(),
            config.explain(wrong()).message()
        );
        assert_eq!(
            config
                .explain(Error::invalid_input("no variable"))
                .message(),
            "no variable"
        );
        // The environment's own variable names need no explaining.
        let lookup = |_: &str| Some("k".to_owned());
        let from_env = Settings {
            provider: "acme-sms",
            source: Source::Lookup(&lookup),
            read: RefCell::new(BTreeSet::new()),
        };
        from_env.get("ACME_SMS_API_KEY");
        assert_eq!(
            from_env.explain(wrong()).message(),
            "ACME_SMS_API_KEY is wrong"
        );
    }

    #[test]
    fn require_names_the_variable_and_the_setting() {
        let values = BTreeMap::from([("api_key".to_owned(), "  ".to_owned())]);
        let err = settings(&values).require("ACME_SMS_API_KEY").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            err.message(),
            "ACME_SMS_API_KEY is not set: provider acme-sms needs it \
             (in the configuration, ACME_SMS_API_KEY is the setting `api_key`)"
        );
    }

    /// A built-in provider's name missing from a registry: unknown where its feature is
    /// enabled (there is nothing to enable), a feature to enable where it is not. Any other
    /// name is unknown.
    #[test]
    fn a_missing_builtin_is_unknown_or_names_its_feature() {
        let message = |name: &str| {
            let err = Registry::new()
                .build(&ProviderConfig::new(name))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            err.to_string()
        };
        let verifik = message("verifik");
        let expected = if cfg!(feature = "verifik") {
            "unknown provider \"verifik\" (no provider is registered"
        } else {
            "provider \"verifik\" is not compiled in: enable the `verifik` feature"
        };
        assert!(verifik.contains(expected), "{verifik}");
        let acme = message("acme");
        assert!(acme.contains("unknown provider \"acme\""), "{acme}");
    }

    #[test]
    fn explains_only_whole_variable_names() {
        assert!(contains_word("ACME_KEY is not set", "ACME_KEY"));
        assert!(contains_word("set ACME_KEY.", "ACME_KEY"));
        assert!(!contains_word("ACME_KEY_ID is not set", "ACME_KEY"));
        assert!(!contains_word("XACME_KEY", "ACME_KEY"));
    }

    /// A factory that fails: the settings it had not read by then are named (a misspelt one
    /// is often why), never their values; a factory that read them all adds nothing.
    #[test]
    fn a_failed_build_names_the_settings_not_read() {
        let mut registry = Registry::new();
        registry
            .register("acme", |settings| {
                settings.get("ACME_REGION");
                settings.require("ACME_KEY")?;
                Err(Error::unsupported("never built"))
            })
            .unwrap();
        let typo = ProviderConfig::new("acme")
            .setting("region", "eu")
            .setting("kye", "canary-secret")
            .setting("zone", "canary-zone");
        let err = registry.build(&typo).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            err.message(),
            "ACME_KEY is not set: provider acme needs it (in the configuration, ACME_KEY is \
             the setting `key`) (settings not read before this error: kye, zone)"
        );
        assert!(!format!("{err} {err:?}").contains("canary"));
        let all_read = ProviderConfig::new("acme")
            .setting("region", "eu")
            .setting("key", "k");
        let err = registry.build(&all_read).unwrap_err();
        assert_eq!(err.message(), "never built");
    }

    #[test]
    fn rewrap_keeps_metadata() {
        let err = Error::new(ErrorKind::Unauthorized, "refused")
            .with_provider(ProviderId::new_static("acme"))
            .with_provider_code("E1")
            .with_http_status(401)
            .with_request_id("r-1");
        let out = rewrap(err, "refused, again".to_owned());
        assert_eq!(
            out.to_string(),
            "acme: unauthorized: refused, again (HTTP 401, code E1, request r-1)"
        );
        assert!(std::error::Error::source(&out).is_some());
    }
}
