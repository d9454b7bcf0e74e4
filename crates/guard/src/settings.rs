//! [`GuardSettings`]: a guard described by a configuration file (TOML or any serde format) and
//! the environment, for applications and the CLI's `--guard guard.toml`.

use std::sync::Arc;

use phone_verify_core::{Error, PhoneVerifier, Result, SessionResolver};
use serde::{Deserialize, Serialize};

use crate::config::GuardConfig;
use crate::guard::Guard;
use crate::store::{GuardStore, MemoryStore};

/// The environment variable holding the guard's secret, unless the settings name another.
pub const ENV_SECRET: &str = "PHONE_VERIFY_GUARD_SECRET";
/// The environment variable holding the Redis URL, unless the settings name another.
pub const ENV_REDIS_URL: &str = "PHONE_VERIFY_GUARD_REDIS_URL";

/// Where the counters live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// In this process ([`MemoryStore`]).
    #[default]
    Memory,
    /// In Redis (`RedisStore`, feature `redis`), at the URL in the environment.
    Redis,
}

/// A guard's settings. Secrets are never in the file: the HMAC secret and the Redis URL (which
/// may hold a password) are read from the environment variables it names.
///
/// ```
/// use phone_verify_guard::{GuardSettings, StoreKind};
///
/// let settings = GuardSettings::from_toml(r#"
///     store = "redis"
///     [rules]
///     resend_cooldown_secs = 60
///     deny_regions = ["XK"]
/// "#)?;
/// assert_eq!(settings.store, StoreKind::Redis);
/// assert_eq!(settings.secret_env, "PHONE_VERIFY_GUARD_SECRET");
/// assert_eq!(settings.rules.resend_cooldown_secs, Some(60));
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardSettings {
    /// The variable holding the HMAC secret (default `PHONE_VERIFY_GUARD_SECRET`).
    pub secret_env: String,
    /// The store (default `memory`).
    pub store: StoreKind,
    /// The variable holding the Redis URL (default `PHONE_VERIFY_GUARD_REDIS_URL`).
    pub redis_url_env: String,
    /// The Redis key prefix, also the keys' hash tag (default `phone-verify-guard`).
    pub redis_prefix: String,
    /// The rules.
    pub rules: GuardConfig,
}

impl Default for GuardSettings {
    fn default() -> Self {
        Self {
            secret_env: ENV_SECRET.into(),
            store: StoreKind::Memory,
            redis_url_env: ENV_REDIS_URL.into(),
            redis_prefix: "phone-verify-guard".into(),
            rules: GuardConfig::default(),
        }
    }
}

impl GuardSettings {
    /// Parses TOML settings; an unknown field is an error.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text)
            .map_err(|e| Error::invalid_input(format!("guard settings: {}", e.message())))
    }

    /// Builds the guard around `inner` (and `resolver`), reading variables from the process
    /// environment.
    pub async fn build(
        &self,
        inner: Arc<dyn PhoneVerifier>,
        resolver: Option<Arc<dyn SessionResolver>>,
    ) -> Result<Guard> {
        self.build_with_lookup(inner, resolver, |name| std::env::var(name).ok())
            .await
    }

    /// [`build`](Self::build) with variables from `lookup`.
    pub async fn build_with_lookup(
        &self,
        inner: Arc<dyn PhoneVerifier>,
        resolver: Option<Arc<dyn SessionResolver>>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Guard> {
        let secret = lookup(&self.secret_env).ok_or_else(|| {
            Error::invalid_input(format!(
                "the guard's secret is missing: set {}",
                self.secret_env
            ))
        })?;
        let store = self.store(&lookup).await?;
        let mut builder = Guard::builder(inner)
            .secret(secret)
            .store(store)
            .config(self.rules.clone());
        if let Some(resolver) = resolver {
            builder = builder.resolver(resolver);
        }
        builder.build()
    }

    async fn store(&self, lookup: &impl Fn(&str) -> Option<String>) -> Result<Arc<dyn GuardStore>> {
        match self.store {
            StoreKind::Memory => Ok(Arc::new(MemoryStore::new())),
            StoreKind::Redis => {
                let url = lookup(&self.redis_url_env).ok_or_else(|| {
                    Error::invalid_input(format!(
                        "the guard's store is redis: set {} to its URL",
                        self.redis_url_env
                    ))
                })?;
                self.redis(url).await
            }
        }
    }

    #[cfg(feature = "redis")]
    async fn redis(&self, url: String) -> Result<Arc<dyn GuardStore>> {
        let store = crate::store::RedisStore::builder(url)
            .prefix(self.redis_prefix.clone())
            .response_timeout(self.rules.store_timeout())
            .connect()
            .await
            .map_err(|e| {
                Error::new(
                    phone_verify_core::ErrorKind::ProviderUnavailable,
                    e.to_string(),
                )
                .with_source(e)
            })?;
        Ok(Arc::new(store))
    }

    #[cfg(not(feature = "redis"))]
    #[allow(clippy::unused_async)]
    async fn redis(&self, _url: String) -> Result<Arc<dyn GuardStore>> {
        Err(Error::unsupported(
            "the guard's redis store needs the `redis` feature of phone-verify-guard",
        ))
    }
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ErrorKind;
    use phone_verify_testkit::memory::InMemoryVerifier;

    use super::*;

    #[tokio::test]
    async fn builds_from_toml_and_lookup() {
        let settings = GuardSettings::from_toml(
            "secret_env = \"MY_SECRET\"\n[rules]\nper_ip = { max = 1, window_secs = 60 }\n",
        )
        .unwrap();
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let missing = settings
            .build_with_lookup(Arc::clone(&inner), None, |_| None)
            .await
            .unwrap_err();
        assert!(missing.to_string().contains("MY_SECRET"), "{missing}");
        let lookup = |name: &str| (name == "MY_SECRET").then(|| "0123456789abcdef".to_owned());
        let guard = settings
            .build_with_lookup(inner, None, lookup)
            .await
            .unwrap();
        assert_eq!(guard.config().per_ip.map(|l| l.max), Some(1));
    }

    #[tokio::test]
    async fn refuses_unknown_fields_and_a_redis_store_without_url() {
        let typo = GuardSettings::from_toml("[rules]\nper_phon = { max = 1, window_secs = 60 }");
        assert!(typo.unwrap_err().to_string().contains("per_phon"));
        let settings = GuardSettings::from_toml("store = \"redis\"").unwrap();
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let lookup = |name: &str| (name == ENV_SECRET).then(|| "0123456789abcdef".to_owned());
        let err = settings
            .build_with_lookup(inner, None, lookup)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains(ENV_REDIS_URL), "{err}");
    }
}
