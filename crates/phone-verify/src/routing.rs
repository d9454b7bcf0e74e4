//! [`RoutingConfig`]: a router over registry providers, from a configuration file
//! (feature `router`).

use std::collections::BTreeMap;
use std::sync::Arc;

use phone_verify_core::Result;
use phone_verify_router::{BreakerConfig, Route, Router, RouterConfig, Rule};

use crate::config::{ProviderConfig, SettingValue};
use crate::registry::Registry;

/// A router described by configuration (JSON, TOML or any serde format): routes that name a
/// registry provider and its settings, the rules, the breaker and the failover opt-in. Built
/// by [`Registry::build_router`].
///
/// ```
/// use phone_verify::RoutingConfig;
///
/// let config: RoutingConfig = toml::from_str(r#"
///     [[routes]]
///     name = "tr"
///     provider = "verifykit"
///     settings = { server_key = { env = "VERIFYKIT_SERVER_KEY" } }
///
///     [[routes]]
///     name = "latam"
///     provider = "verifik"
///     settings = { token = { env = "VERIFIK_TOKEN" } }
///
///     [[rules]]
///     regions = ["TR"]
///     routes = ["tr", "latam"]
///
///     [[rules]]
///     routes = ["latam"]
///
///     [breaker]
///     consecutive_failures = 3
///     cooldown = 60
/// "#)?;
/// assert_eq!(config.routes.len(), 2);
/// # Ok::<(), toml::de::Error>(())
/// ```
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RoutingConfig {
    /// The routes, in order (the default failover order when there are no rules).
    pub routes: Vec<RouteConfig>,
    /// The rules, first match wins.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Every route's circuit breaker (`cooldown` in seconds).
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// Fail over after `MaybeSent` too, accepting a possible second message.
    #[serde(default)]
    pub allow_second_message: bool,
    /// The guard in front of the router (a `[guard]` table, feature `guard`): the settings of
    /// a `guard.toml` ([`GuardSettings`](phone_verify_guard::GuardSettings)), the rules under
    /// `[guard.rules]`. Built by [`Registry::build_guarded_router`].
    #[cfg(feature = "guard")]
    #[serde(default)]
    pub guard: Option<phone_verify_guard::GuardSettings>,
}

/// A route of a [`RoutingConfig`]: a name and a registry provider with its settings (as in
/// [`ProviderConfig`]); two routes may name the same provider with different settings.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RouteConfig {
    /// The route's name, recorded in handles.
    pub name: String,
    /// The provider's name in the registry.
    pub provider: String,
    /// The provider's settings.
    #[serde(default)]
    pub settings: BTreeMap<String, SettingValue>,
}

impl Registry {
    /// Builds the router `config` describes, each route's provider as [`build`](Self::build)
    /// would; any route or rule error is an `InvalidInput` error naming it, before any request.
    pub fn build_router(&self, config: &RoutingConfig) -> Result<Router> {
        let mut builder = Router::builder();
        for route in &config.routes {
            let mut provider_config = ProviderConfig::new(&route.provider);
            provider_config.settings.clone_from(&route.settings);
            let provider = self
                .build(&provider_config)
                .map_err(|e| e.prefixed(&route.name))?;
            let mut built = Route::new(&route.name, provider.verifier);
            if let Some(resolver) = provider.resolver {
                built = built.with_resolver(resolver);
            }
            builder = builder.route(built);
        }
        let mut router = RouterConfig::default();
        router.rules.clone_from(&config.rules);
        router.breaker = config.breaker;
        router.allow_second_message = config.allow_second_message;
        builder.config(router).build()
    }
}

#[cfg(feature = "guard")]
impl Registry {
    /// The router `config` describes, as one [`Provider`](crate::Provider) behind the guard of
    /// its `[guard]` table when it has one (the guard's secret and Redis URL from the
    /// environment): one file for routes, rules and abuse protection.
    ///
    /// ```
    /// use phone_verify::RoutingConfig;
    ///
    /// let config: RoutingConfig = toml::from_str(r#"
    ///     [[routes]]
    ///     name = "tr"
    ///     provider = "verifykit"
    ///
    ///     [guard]
    ///     store = "memory"
    ///     [guard.rules]
    ///     resend_cooldown_secs = 60
    ///     allow_regions = ["TR"]
    /// "#)?;
    /// assert_eq!(config.guard.unwrap().rules.resend_cooldown_secs, Some(60));
    /// # Ok::<(), toml::de::Error>(())
    /// ```
    pub async fn build_guarded_router(&self, config: &RoutingConfig) -> Result<crate::Provider> {
        self.build_guarded_router_with_lookup(config, |name| std::env::var(name).ok())
            .await
    }

    /// [`build_guarded_router`](Self::build_guarded_router) with the guard's variables from
    /// `lookup` instead of the environment.
    pub async fn build_guarded_router_with_lookup(
        &self,
        config: &RoutingConfig,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<crate::Provider> {
        let provider = crate::Provider::from(self.build_router(config)?);
        match &config.guard {
            Some(settings) => provider.guarded_with_lookup(settings, lookup).await,
            None => Ok(provider),
        }
    }
}

/// Adds the route's name to a build error.
trait Prefixed {
    fn prefixed(self, route: &str) -> Self;
}

impl Prefixed for phone_verify_core::Error {
    fn prefixed(self, route: &str) -> Self {
        phone_verify_core::Error::new(self.kind(), format!("route {route:?}: {}", self.message()))
            .with_source(self)
    }
}

/// A router's verifier and resolver as one registry [`Provider`](crate::Provider).
impl From<Router> for crate::Provider {
    fn from(router: Router) -> Self {
        let router = Arc::new(router);
        crate::Provider::new(router.clone()).with_resolver(router)
    }
}
