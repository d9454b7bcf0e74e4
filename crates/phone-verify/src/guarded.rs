//! [`Provider::guarded`]: a configured provider behind the guard (feature `guard`).

use std::sync::Arc;

use phone_verify_core::Result;
use phone_verify_core::secrecy::SecretString;
use phone_verify_guard::GuardSettings;

use crate::registry::Provider;

impl Provider {
    /// This provider behind a [`Guard`](phone_verify_guard::Guard) built from `settings`
    /// (secret and Redis URL from the environment): the guard is both the verifier and, if the
    /// provider has sessions, the session resolver.
    ///
    /// ```no_run
    /// use phone_verify::{Registry, guard::GuardSettings};
    ///
    /// # async fn run() -> phone_verify::Result<()> {
    /// let settings = GuardSettings::from_toml(&std::fs::read_to_string("guard.toml").unwrap())?;
    /// let provider = Registry::with_builtin().build_from_env()?.guarded(&settings).await?;
    /// # let _ = provider; Ok(()) }
    /// ```
    pub async fn guarded(self, settings: &GuardSettings) -> Result<Provider> {
        self.guarded_with_lookup(settings, |name| std::env::var(name).ok())
            .await
    }

    /// [`guarded`](Self::guarded) with variables from `lookup` instead of the environment,
    /// given as `String`s or `SecretString`s.
    pub async fn guarded_with_lookup<V: Into<SecretString>>(
        self,
        settings: &GuardSettings,
        lookup: impl Fn(&str) -> Option<V>,
    ) -> Result<Provider> {
        let has_sessions = self.resolver.is_some();
        let guard = settings
            .build_with_lookup(self.verifier, self.resolver, lookup)
            .await?;
        let guard = Arc::new(guard);
        Ok(Provider {
            verifier: guard.clone(),
            resolver: has_sessions.then_some(guard),
        })
    }
}
