//! The [`Registry`]: providers by name, built from the environment or a configuration.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use phone_verify_core::kit::EnvReader;
use phone_verify_core::secrecy::{ExposeSecret, SecretString};
use phone_verify_core::{Error, PhoneVerifier, ProviderId, Result, SessionResolver};

use crate::config::{ProviderConfig, is_variable_name};

/// `PHONE_VERIFY_PROVIDER`: the provider [`Registry::build_from_env`] builds, e.g. `verifykit`.
pub const ENV_PROVIDER: &str = "PHONE_VERIFY_PROVIDER";

/// The providers this crate knows, whether or not their feature is enabled. A slice: a
/// provider added later is not a change of type.
pub const BUILTIN_PROVIDERS: &[&str] = &["verifykit", "verifik", "verigator", "twilio"];

/// Each built-in provider and whether its feature is enabled.
const BUILTIN_FEATURES: [(&str, bool); 4] = [
    ("verifykit", cfg!(feature = "verifykit")),
    ("verifik", cfg!(feature = "verifik")),
    ("verigator", cfg!(feature = "verigator")),
    ("twilio", cfg!(feature = "twilio")),
];

/// The prefix of phone-verify's own variables (`PHONE_VERIFY_PROVIDER`, the guard's
/// `PHONE_VERIFY_GUARD_…`, the sandbox's and the command's): never a provider's.
const OWN_PREFIX: &str = "PHONE_VERIFY_";

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

/// Builds a [`Provider`] from its [`Settings`]; see [`Registry::register`]. One factory can
/// be registered under several names with [`Registry::register_factory`].
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
    /// The factory reads its configuration with [`Settings::require_secret`] (credentials)
    /// and [`Settings::get`] (the rest), by the names of the environment variables it would
    /// read (`ACME_API_KEY`): from the environment when built by
    /// [`build_from_env`](Self::build_from_env), and from a [`ProviderConfig`]'s settings
    /// (`api_key`) when built by [`build`](Self::build). A provider crate whose builder reads
    /// a lookup of secrets (as phone-verify's `from_secret_lookup`) is given
    /// `|name| settings.get_secret(name)`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use phone_verify::{Provider, ProviderConfig, Registry};
    /// # #[derive(Debug)] struct Acme { key: phone_verify::secrecy::SecretString }
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
    ///     let key = settings.require_secret("ACME_API_KEY")?;
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
        self.register_factory(name, Arc::new(factory))
    }

    /// [`register`](Self::register) with a shared [`Factory`], which can then be registered
    /// under several names: each reads its own variables, by [`Settings::prefix`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use phone_verify::{Error, Factory, Registry};
    ///
    /// let factory: Factory = Arc::new(|settings| {
    ///     let _key = settings.require_secret(&format!("{}API_KEY", settings.prefix()))?;
    ///     Err(Error::unsupported("an example"))
    /// });
    /// let mut registry = Registry::new();
    /// registry.register_factory("acme-eu", factory.clone())?.register_factory("acme-us", factory)?;
    /// assert_eq!(registry.names(), ["acme-eu", "acme-us"]);
    /// # Ok::<(), phone_verify::Error>(())
    /// ```
    pub fn register_factory(&mut self, name: &str, factory: Factory) -> Result<&mut Self> {
        let id = ProviderId::new(name)?;
        self.factories.insert(id.as_str().to_owned(), factory);
        Ok(self)
    }

    /// The names of the registered providers, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.factories.keys().map(String::as_str).collect()
    }

    /// Whether a provider named `name` (around blanks) is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.factories.contains_key(name.trim())
    }

    /// Builds the provider named by `PHONE_VERIFY_PROVIDER`, configured by its own variables
    /// (e.g. `VERIFYKIT_SERVER_KEY`) in the process environment.
    ///
    /// The environment is only asked for the variables the provider reads, so a mistyped one
    /// (`VERIFYKIT_MAX_ATTEMPT`) would go unnoticed: after the build, whether it succeeded or
    /// not, each variable under the provider's [prefix](Settings::prefix) that it did not read
    /// is logged by name (never its value) at `WARN`. Variables under another registered
    /// provider's longer prefix (`ACME_EU_` beside `ACME_`) and phone-verify's own
    /// (`PHONE_VERIFY_…`) are left alone.
    pub fn build_from_env(&self) -> Result<Provider> {
        let lookup = |name: &str| std::env::var(name).ok().map(SecretString::from);
        let name = self.provider_name(&lookup)?;
        let factory = self.factory(&name)?;
        let settings = Settings::new(&name, Source::Lookup(&lookup));
        let built = factory(&settings);
        let present = std::env::vars_os().filter_map(|(variable, _)| variable.into_string().ok());
        let unread = self.unread_variables(&settings, present);
        match (&built, unread.is_empty()) {
            (_, true) => {}
            (Ok(_), false) => tracing::warn!(
                provider = %name,
                variables = %unread.join(", "),
                "environment variables under the provider's prefix that it does not read \
                 (a typo?)"
            ),
            // The build stopped at its error: the provider may read these after it.
            (Err(_), false) => tracing::warn!(
                provider = %name,
                variables = %unread.join(", "),
                "environment variables under the provider's prefix not read before the build \
                 failed"
            ),
        }
        built
    }

    /// Like [`build_from_env`](Self::build_from_env), with the variables `lookup` finds (which
    /// cannot be listed, so unread ones are not reported). `lookup` gives each value as a
    /// `String` or, so that no credential is held in a plain `String`, as a [`SecretString`].
    ///
    /// ```
    /// use phone_verify::Registry;
    /// use phone_verify::secrecy::SecretString;
    ///
    /// let key = SecretString::from("k-123"); // e.g. read from a vault
    /// let lookup = |name: &str| match name {
    ///     "PHONE_VERIFY_PROVIDER" => Some(SecretString::from("acme")),
    ///     "ACME_API_KEY" => Some(key.clone()),
    ///     _ => None,
    /// };
    /// let err = Registry::new().build_from_lookup(lookup).unwrap_err();
    /// assert!(err.to_string().contains("unknown provider \"acme\""));
    /// ```
    pub fn build_from_lookup<V: Into<SecretString>>(
        &self,
        lookup: impl Fn(&str) -> Option<V>,
    ) -> Result<Provider> {
        let lookup = secret_lookup(lookup);
        let name = self.provider_name(&lookup)?;
        self.build_named(&name, lookup)
    }

    /// The provider `PHONE_VERIFY_PROVIDER` names.
    fn provider_name(&self, lookup: &impl Fn(&str) -> Option<SecretString>) -> Result<String> {
        lookup(ENV_PROVIDER)
            .map(|v| v.expose_secret().trim().to_owned())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "{ENV_PROVIDER} is not set: it names the provider to use ({})",
                    self.known()
                ))
            })
    }

    /// Of the variables `present`, those under the prefix of the provider `settings` built
    /// that it did not read, sorted: not under another registered provider's longer prefix,
    /// nor phone-verify's own.
    fn unread_variables(
        &self,
        settings: &Settings<'_>,
        present: impl Iterator<Item = String>,
    ) -> Vec<String> {
        let prefix = settings.prefix();
        let longer: Vec<String> = self
            .names()
            .into_iter()
            .map(prefix_of)
            .filter(|other| other.len() > prefix.len() && other.starts_with(&prefix))
            .collect();
        let own_under_prefix = OWN_PREFIX.starts_with(&prefix);
        let belongs_elsewhere = |variable: &str| {
            longer.iter().any(|other| variable.starts_with(other))
                || (own_under_prefix && variable.starts_with(OWN_PREFIX))
        };
        let read = settings.read.borrow();
        let mut unread: Vec<String> = present
            .filter(|variable| variable.starts_with(&prefix) && !read.contains(variable))
            .filter(|variable| !belongs_elsewhere(variable))
            .collect();
        unread.sort_unstable();
        unread
    }

    /// Builds the provider `name` (around blanks), configured by the variables `lookup` finds
    /// (its own, e.g. `VERIFIK_TOKEN`; `PHONE_VERIFY_PROVIDER` is not read), each as a
    /// `String` or, so that no credential is held in a plain `String`, as a [`SecretString`].
    pub fn build_named<V: Into<SecretString>>(
        &self,
        name: &str,
        lookup: impl Fn(&str) -> Option<V>,
    ) -> Result<Provider> {
        let name = name.trim();
        let factory = self.factory(name)?;
        let lookup = secret_lookup(lookup);
        factory(&Settings::new(name, Source::Lookup(&lookup)))
    }

    /// Builds the provider a [`ProviderConfig`] describes. Settings given as
    /// `{ "env": "VARIABLE" }` are read from the environment first; a setting the provider
    /// does not read is refused with [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
    /// naming it.
    pub fn build(&self, config: &ProviderConfig) -> Result<Provider> {
        self.build_config(config, |name| {
            std::env::var(name).ok().map(SecretString::from)
        })
    }

    /// Like [`build`](Self::build), with `{ "env": … }` references resolved by `lookup`, which
    /// gives each value as a `String` or, so that no credential is held in a plain `String`,
    /// as a [`SecretString`].
    pub fn build_with_lookup<V: Into<SecretString>>(
        &self,
        config: &ProviderConfig,
        lookup: impl Fn(&str) -> Option<V>,
    ) -> Result<Provider> {
        self.build_config(config, secret_lookup(lookup))
    }

    fn build_config(
        &self,
        config: &ProviderConfig,
        env: impl Fn(&str) -> Option<SecretString>,
    ) -> Result<Provider> {
        let name = config.provider.trim();
        let factory = self.factory(name)?;
        let mut values: BTreeMap<String, SecretString> = BTreeMap::new();
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
            let text = match value.literal_or_env() {
                Ok(literal) => literal.clone(),
                // Not shown: what stands where a name should be may be a pasted value.
                Err(variable) if !is_variable_name(variable) => {
                    return Err(Error::invalid_input(format!(
                        "setting `{key}` of provider {name} is read from an environment \
                         variable whose name is not one (letters, digits and '_', not starting \
                         with a digit)"
                    )));
                }
                // A blank value is unset here too, so that the error names the variable at
                // fault rather than the provider's own.
                Err(variable) => env(variable)
                    .filter(|value| !value.expose_secret().trim().is_empty())
                    .ok_or_else(|| {
                        Error::invalid_input(format!(
                            "setting `{key}` of provider {name} is read from the environment \
                             variable {variable}, which is not set or is blank"
                        ))
                    })?,
            };
            values.insert(key.clone(), text);
        }
        let settings = Settings::new(name, Source::Config(&values));
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
        let lowercase = name.to_ascii_lowercase();
        if self.factories.contains_key(&lowercase) {
            return Err(Error::invalid_input(format!(
                "unknown provider {name:?}: provider names are lowercase: did you mean \
                 {lowercase:?}?"
            )));
        }
        let builtin = BUILTIN_FEATURES
            .iter()
            .find(|(builtin, _)| *builtin == name);
        let message = match builtin {
            Some((_, true)) => format!(
                "provider {name:?} is compiled in but not registered in this registry: build it \
                 with `Registry::with_builtin()` ({})",
                self.known()
            ),
            Some((_, false)) => format!(
                "provider {name:?} is not compiled in: enable the `{name}` feature of \
                 phone-verify ({})",
                self.known()
            ),
            None => format!("unknown provider {name:?} ({})", self.known()),
        };
        Err(Error::invalid_input(message))
    }

    /// The registered providers, or what to do when there are none.
    fn known(&self) -> String {
        if !self.factories.is_empty() {
            return format!("known providers: {}", self.names().join(", "));
        }
        if BUILTIN_FEATURES.iter().any(|(_, enabled)| *enabled) {
            "no provider is registered: `Registry::with_builtin()` registers the built-in ones \
             compiled in, `register` any other"
                .to_owned()
        } else {
            "no provider is registered: enable a provider feature of phone-verify \
             (verifykit, verifik, verigator, twilio) or register one"
                .to_owned()
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
    pub(crate) read: RefCell<BTreeSet<String>>,
    /// The variables read as plain text ([`get`](Self::get), [`require`](Self::require)), so
    /// that tests can tell no credential was.
    #[cfg(test)]
    pub(crate) read_plain: RefCell<BTreeSet<String>>,
}

/// Where [`Settings`] reads: a lookup of the environment's variables, or a configuration's
/// values by setting name.
pub(crate) enum Source<'a> {
    Lookup(&'a dyn Fn(&str) -> Option<SecretString>),
    Config(&'a BTreeMap<String, SecretString>),
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

impl<'a> Settings<'a> {
    pub(crate) fn new(provider: &'a str, source: Source<'a>) -> Self {
        Self {
            provider,
            source,
            read: RefCell::new(BTreeSet::new()),
            #[cfg(test)]
            read_plain: RefCell::new(BTreeSet::new()),
        }
    }

    /// The name the provider is built under.
    pub fn provider(&self) -> &str {
        self.provider
    }

    /// The prefix of the provider's variables: its name in upper case with `-` as `_`, and a
    /// `_` (`VERIFYKIT_`).
    pub fn prefix(&self) -> String {
        prefix_of(self.provider)
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

    /// The value of `variable` (e.g. `VERIFYKIT_SERVER_KEY`), as a secret: from the
    /// environment, or from the configuration's setting of the same name (`server_key`).
    /// Trimmed (inside the secret: no plain copy is made); `None` when unset or blank. For
    /// credentials, and for a provider builder's `from_secret_lookup`:
    /// `|name| settings.get_secret(name)`.
    pub fn get_secret(&self, variable: &str) -> Option<SecretString> {
        self.read.borrow_mut().insert(variable.to_owned());
        let values = EnvReader::new(|name: &str| match self.source {
            Source::Lookup(lookup) => lookup(name),
            Source::Config(values) => values.get(&self.setting_name(name)).cloned(),
        });
        values.raw_secret(variable)
    }

    /// The value of `variable`, as a secret and trimmed, or an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error naming it (and its
    /// setting, for a configuration) when it is unset or blank. For credentials; the error
    /// never shows a value.
    pub fn require_secret(&self, variable: &str) -> Result<SecretString> {
        self.get_secret(variable).ok_or_else(|| {
            self.explain(Error::invalid_input(format!(
                "{variable} is not set: provider {} needs it",
                self.provider
            )))
        })
    }

    /// [`get_secret`](Self::get_secret) as a plain `String` (trimmed; `None` when unset or
    /// blank), for what is not a credential: a URL, a number, a mode. A credential is read
    /// with [`get_secret`](Self::get_secret) or [`require_secret`](Self::require_secret).
    pub fn get(&self, variable: &str) -> Option<String> {
        #[cfg(test)]
        self.read_plain.borrow_mut().insert(variable.to_owned());
        self.get_secret(variable)
            .map(|value| value.expose_secret().to_owned())
    }

    /// [`require_secret`](Self::require_secret) as a plain `String`, for what is not a
    /// credential.
    pub fn require(&self, variable: &str) -> Result<String> {
        #[cfg(test)]
        self.read_plain.borrow_mut().insert(variable.to_owned());
        self.require_secret(variable)
            .map(|value| value.expose_secret().to_owned())
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

/// `lookup`, giving each value as a secret: a lookup of `String`s, or of secrets, for
/// [`Source::Lookup`].
fn secret_lookup<V: Into<SecretString>>(
    lookup: impl Fn(&str) -> Option<V>,
) -> impl Fn(&str) -> Option<SecretString> {
    move |name: &str| lookup(name).map(Into::into)
}

/// The prefix of the variables of the provider `name`: `name` in upper case with `-` as `_`,
/// and a `_` (`acme-sms` → `ACME_SMS_`).
fn prefix_of(name: &str) -> String {
    let mut prefix = name.to_ascii_uppercase().replace('-', "_");
    prefix.push('_');
    prefix
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

    /// The built-in names are a slice, whatever their number, and the same, in order, as the
    /// features the registry knows them by.
    #[test]
    fn builtin_providers_are_a_slice_of_the_featured_names() {
        let names: &'static [&'static str] = BUILTIN_PROVIDERS;
        let featured: Vec<&str> = BUILTIN_FEATURES.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, featured);
    }

    fn settings(values: &BTreeMap<String, SecretString>) -> Settings<'_> {
        Settings::new("acme-sms", Source::Config(values))
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, SecretString> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), SecretString::from(*v)))
            .collect()
    }

    #[test]
    fn maps_variables_to_settings() {
        let values = values(&[("api_key", "k")]);
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
        let values = values(&[("api_key", "canary-key")]);
        assert_eq!(
            format!("{:?}", settings(&values)),
            r#"Settings { provider: "acme-sms", source: "configuration", .. }"#
        );
        let lookup = |_: &str| Some(SecretString::from("canary-key"));
        let from_env = Settings::new("acme-sms", Source::Lookup(&lookup));
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
        let values = values(&[("api_key", "k")]);
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
        let lookup = |_: &str| Some(SecretString::from("k"));
        let from_env = Settings::new("acme-sms", Source::Lookup(&lookup));
        from_env.get("ACME_SMS_API_KEY");
        assert_eq!(
            from_env.explain(wrong()).message(),
            "ACME_SMS_API_KEY is wrong"
        );
    }

    #[test]
    fn require_names_the_variable_and_the_setting() {
        let values = values(&[("api_key", "  ")]);
        let expected = "ACME_SMS_API_KEY is not set: provider acme-sms needs it \
             (in the configuration, ACME_SMS_API_KEY is the setting `api_key`)";
        let err = settings(&values).require("ACME_SMS_API_KEY").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.message(), expected);
        let err = settings(&values)
            .require_secret("ACME_SMS_API_KEY")
            .unwrap_err();
        assert_eq!(err.message(), expected);
    }

    /// Credentials come out as secrets, from a configuration and from the environment alike;
    /// the plain accessors give the same text.
    #[test]
    fn secrets_come_out_as_secrets() {
        let values = values(&[("api_key", "k-1")]);
        let config = settings(&values);
        let secret = config.require_secret("ACME_SMS_API_KEY").unwrap();
        assert_eq!(secret.expose_secret(), "k-1");
        assert_eq!(format!("{secret:?}"), "SecretBox<str>([REDACTED])");
        assert_eq!(config.require("ACME_SMS_API_KEY").unwrap(), "k-1");
        assert!(config.get_secret("ACME_SMS_REGION").is_none());
        let lookup = |name: &str| (name == "ACME_SMS_API_KEY").then(|| SecretString::from("k-2"));
        let from_env = Settings::new("acme-sms", Source::Lookup(&lookup));
        let secret = from_env.get_secret("ACME_SMS_API_KEY").unwrap();
        assert_eq!(secret.expose_secret(), "k-2");
        assert!(from_env.read.borrow().contains("ACME_SMS_API_KEY"));
    }

    /// Values are trimmed and a blank one is unset, from a configuration and from the
    /// environment alike, as the built-in providers read them: a Kubernetes secret ending in a
    /// newline is sent without it.
    #[test]
    fn values_are_trimmed_and_blank_is_unset() {
        let values = values(&[("api_key", " k-1\n"), ("region", "  ")]);
        let lookup = |name: &str| match name {
            "ACME_SMS_API_KEY" => Some(SecretString::from(" k-1\n")),
            "ACME_SMS_REGION" => Some(SecretString::from("  ")),
            _ => None,
        };
        for settings in [
            settings(&values),
            Settings::new("acme-sms", Source::Lookup(&lookup)),
        ] {
            let key = settings.require_secret("ACME_SMS_API_KEY").unwrap();
            assert_eq!(key.expose_secret(), "k-1");
            assert_eq!(settings.require("ACME_SMS_API_KEY").unwrap(), "k-1");
            assert_eq!(settings.get("ACME_SMS_API_KEY").as_deref(), Some("k-1"));
            assert_eq!(settings.get("ACME_SMS_REGION"), None);
            assert!(settings.get_secret("ACME_SMS_REGION").is_none());
            let err = settings.require("ACME_SMS_REGION").unwrap_err();
            assert!(
                err.message().starts_with("ACME_SMS_REGION is not set"),
                "{err}"
            );
        }
    }

    /// A `{ env = … }` reference to a variable that is set but blank is refused naming that
    /// variable, as an unset one is: passed on as blank, the provider's error named only its
    /// own variable.
    #[test]
    fn a_blank_env_reference_names_its_variable() {
        let mut registry = Registry::new();
        registry
            .register("acme", |settings| {
                settings.require_secret("ACME_KEY")?;
                Err(Error::unsupported("never built"))
            })
            .unwrap();
        let config =
            ProviderConfig::new("acme").setting("key", crate::SettingValue::env("APP_KEY"));
        for value in ["  ", "\n", ""] {
            let err = registry
                .build_with_lookup(&config, |name| {
                    (name == "APP_KEY").then(|| value.to_owned())
                })
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert_eq!(
                err.message(),
                "setting `key` of provider acme is read from the environment variable APP_KEY, \
                 which is not set or is blank"
            );
        }
    }

    /// Provider names are trimmed wherever they are given, and a name in capitals whose lower
    /// case is registered says so.
    #[test]
    fn provider_names_are_trimmed_and_lowercase() {
        let mut registry = Registry::new();
        registry
            .register("acme", |_| Err(Error::unsupported("never built")))
            .unwrap();
        assert!(registry.contains(" acme\n"));
        let lookup = |_: &str| None::<SecretString>;
        let err = registry.build_named(" acme ", lookup).unwrap_err();
        assert_eq!(err.message(), "never built");
        for err in [
            registry.build(&ProviderConfig::new("Acme")).unwrap_err(),
            registry.build_named(" ACME ", lookup).unwrap_err(),
            registry
                .build_from_lookup(|name| (name == ENV_PROVIDER).then(|| "Acme".to_owned()))
                .unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(
                err.message()
                    .contains("provider names are lowercase: did you mean \"acme\"?"),
                "{err}"
            );
        }
        assert!(!registry.contains("Acme"));
    }

    /// A built-in provider's name missing from a registry: where its feature is enabled, the
    /// registry to build instead (`Registry::new()` has none of them); where it is not, the
    /// feature to enable. Any other name is unknown.
    #[test]
    fn a_missing_builtin_is_unknown_or_names_its_feature() {
        let message = |registry: &Registry, name: &str| {
            let err = registry.build(&ProviderConfig::new(name)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            err.to_string()
        };
        let empty = Registry::new();
        let verifik = message(&empty, "verifik");
        let expected = if cfg!(feature = "verifik") {
            "provider \"verifik\" is compiled in but not registered in this registry: build \
             it with `Registry::with_builtin()` (no provider is registered"
        } else {
            "provider \"verifik\" is not compiled in: enable the `verifik` feature"
        };
        assert!(verifik.contains(expected), "{verifik}");
        let acme = message(&empty, "acme");
        assert!(acme.contains("unknown provider \"acme\""), "{acme}");
        // An empty registry says how to fill it: with the built-in providers compiled in, or
        // with a feature.
        let fill = if cfg!(any(
            feature = "verifykit",
            feature = "verifik",
            feature = "verigator",
            feature = "twilio"
        )) {
            "no provider is registered: `Registry::with_builtin()` registers the built-in ones"
        } else {
            "no provider is registered: enable a provider feature of phone-verify"
        };
        assert!(acme.contains(fill), "{acme}");
        // A registry with other providers lists them.
        let mut other = Registry::new();
        other
            .register("acme", |_| Err(Error::unsupported("never built")))
            .unwrap();
        let verifik = message(&other, "verifik");
        assert!(verifik.contains("(known providers: acme)"), "{verifik}");
    }

    /// A configuration's `{ env = … }` with a name that is not a variable's, built in code
    /// (the file's is refused when read): refused without showing it, since it may be a
    /// value pasted in the wrong place.
    #[test]
    fn an_env_reference_that_is_no_name_is_refused_unshown() {
        let mut registry = Registry::new();
        registry
            .register("acme", |settings| {
                settings.require_secret("ACME_KEY")?;
                Err(Error::unsupported("never built"))
            })
            .unwrap();
        let config =
            ProviderConfig::new("acme").setting("key", crate::SettingValue::env("sk live/abc"));
        let err = registry
            .build_with_lookup(&config, |_| Some("v".to_owned()))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.message().starts_with(
                "setting `key` of provider acme is read from an environment variable whose \
                 name is not one"
            ),
            "{err}"
        );
        assert!(!format!("{err} {err:?}").contains("sk live"), "{err:?}");
    }

    /// The variables of `build_from_env`'s warning: under the provider's prefix and not read;
    /// not another registered provider's (a longer prefix), nor phone-verify's own.
    #[test]
    fn unread_variables_are_the_providers_own() {
        let mut registry = Registry::new();
        for name in ["acme", "acme-eu", "phone"] {
            registry
                .register(name, |_| Err(Error::unsupported("never built")))
                .unwrap();
        }
        let lookup = |_: &str| None;
        let present = [
            "ACME_KEY",
            "ACME_KYE",
            "ACME_EU_KEY",
            "ACMEX",
            "ACME_MAX_ATTEMPT",
            "PHONE_VERIFY_PROVIDER",
            "PHONE_VERIFY_GUARD_SECRET",
            "PHONE_KEY",
            "HOME",
        ];
        let unread = |name: &str, read: &[&str]| {
            let settings = Settings::new(name, Source::Lookup(&lookup));
            for variable in read {
                settings.get(variable);
            }
            registry.unread_variables(&settings, present.iter().map(|v| (*v).to_owned()))
        };
        assert_eq!(
            unread("acme", &["ACME_KEY"]),
            ["ACME_KYE", "ACME_MAX_ATTEMPT"]
        );
        assert_eq!(unread("acme-eu", &[]), ["ACME_EU_KEY"]);
        assert_eq!(unread("phone", &[]), ["PHONE_KEY"]);
        let mut alone = Registry::new();
        alone
            .register("acme", |_| Err(Error::unsupported("never built")))
            .unwrap();
        let settings = Settings::new("acme", Source::Lookup(&lookup));
        assert_eq!(
            alone.unread_variables(&settings, present.iter().map(|v| (*v).to_owned())),
            ["ACME_EU_KEY", "ACME_KEY", "ACME_KYE", "ACME_MAX_ATTEMPT"]
        );
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
