//! [`RoutingConfig`]: a router over registry providers, from a configuration file
//! (feature `router`).

use std::collections::BTreeMap;
use std::sync::Arc;

use phone_verify_core::Result;
use phone_verify_router::{BreakerConfig, Route, Router, RouterConfig, Rule};

use crate::config::{ProviderConfig, SettingValue};
use crate::registry::{Provider, Registry};

/// A router described by configuration (JSON, TOML or any serde format): routes that name a
/// registry provider and its settings, the rules, the breaker and the failover opt-ins. Built
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
    /// Fail over after a provider's `RateLimited` too, for throttling of the whole account:
    /// it multiplies per-number limits by the number of routes (a guard's denial is never
    /// failed over).
    #[serde(default)]
    pub fail_over_on_rate_limit: bool,
    /// The guard in front of the router (a `[guard]` table, feature `guard`): the settings of
    /// a `guard.toml` ([`GuardSettings`](phone_verify_guard::GuardSettings)), the rules under
    /// `[guard.rules]`. Built by [`Registry::build_guarded_router`].
    #[cfg(feature = "guard")]
    #[serde(default)]
    pub guard: Option<phone_verify_guard::GuardSettings>,
    /// A `[guard]` table read without the `guard` feature: accepted here so that
    /// [`Registry::build_router`] refuses it naming the feature, rather than serde's bare
    /// "unknown field `guard`".
    #[cfg(not(feature = "guard"))]
    #[serde(default, rename = "guard")]
    guard_without_feature: Option<serde::de::IgnoredAny>,
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
    /// A route's error keeps what the provider's error carries (provider, HTTP status, code,
    /// request id).
    ///
    /// Without the `guard` feature, a configuration with a `[guard]` table is refused with an
    /// `InvalidInput` error naming the feature: its abuse protection would otherwise be
    /// silently left out. With it, this builds the router alone; the guard of the `[guard]`
    /// table is put in front by `build_guarded_router` (features `router` and `guard`).
    pub fn build_router(&self, config: &RoutingConfig) -> Result<Router> {
        self.build_router_with_env(config, |name| std::env::var(name).ok())
    }

    /// Like [`build_router`](Self::build_router), with the routes' `{ env = … }` references
    /// resolved by `env` instead of the process environment (as
    /// [`build_with_env`](Self::build_with_env) does for one provider).
    pub fn build_router_with_env(
        &self,
        config: &RoutingConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Router> {
        #[cfg(not(feature = "guard"))]
        if config.guard_without_feature.is_some() {
            return Err(phone_verify_core::Error::invalid_input(
                "the configuration has a [guard] table, which needs the `guard` feature of \
                 phone-verify (and `guard-redis` for store = \"redis\")",
            ));
        }
        let mut builder = Router::builder();
        for route in &config.routes {
            let mut provider_config = ProviderConfig::new(&route.provider);
            provider_config.settings.clone_from(&route.settings);
            let provider = self
                .build_with_env(&provider_config, &env)
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
        router.fail_over_on_rate_limit = config.fail_over_on_rate_limit;
        builder.config(router).build()
    }
}

#[cfg(feature = "guard")]
impl Registry {
    /// The router `config` describes, as one [`Provider`] behind the guard of
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
    pub async fn build_guarded_router(&self, config: &RoutingConfig) -> Result<Provider> {
        self.build_guarded_router_with_lookup(config, |name| std::env::var(name).ok())
            .await
    }

    /// [`build_guarded_router`](Self::build_guarded_router) with every variable from `lookup`
    /// instead of the environment: the guard's, and the routes' `{ env = … }` references.
    pub async fn build_guarded_router_with_lookup(
        &self,
        config: &RoutingConfig,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Provider> {
        let provider = Provider::from(self.build_router_with_env(config, &lookup)?);
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
        let message = format!("route {route:?}: {}", self.message());
        crate::registry::rewrap(self, message)
    }
}

/// A router as one registry [`Provider`]: the router is the verifier and,
/// when it resolves sessions (its capabilities say so: some route has a session resolver for
/// a provider with sessions, such as VerifyKit or Verifik), the session resolver. A router
/// whose routes have none (only Verigator or Twilio) gets no resolver, so
/// [`require_resolver`](Provider::require_resolver) refuses it.
impl From<Router> for Provider {
    fn from(router: Router) -> Self {
        use phone_verify_core::PhoneVerifier as _;
        let resolves = router.capabilities().session_resolution;
        let router = Arc::new(router);
        let provider = Provider::new(router.clone());
        if resolves {
            provider.with_resolver(router)
        } else {
            provider
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use phone_verify_core::{Error, ErrorKind, ProviderId};
    use phone_verify_router::{Route, Router};
    use phone_verify_testkit::memory::InMemoryVerifier;

    use super::RoutingConfig;
    use crate::registry::{Provider, Registry};

    /// A registry whose `acme` provider needs `ACME_KEY` and fails like a provider crate does:
    /// its error carries the provider and the answer's metadata.
    fn registry() -> Registry {
        let mut registry = Registry::new();
        registry
            .register("acme", |settings| {
                let key = settings
                    .require("ACME_KEY")
                    .map_err(|e| e.with_provider(ProviderId::new_static("acme")))?;
                if key == "refused" {
                    return Err(Error::new(ErrorKind::Unauthorized, "the key was refused")
                        .with_provider(ProviderId::new_static("acme"))
                        .with_http_status(401)
                        .with_provider_code("E401")
                        .with_request_id("req-7"));
                }
                Ok(Provider::both(InMemoryVerifier::new()))
            })
            .unwrap();
        registry
    }

    fn route(settings: &str) -> RoutingConfig {
        toml::from_str(&format!(
            "[[routes]]\nname = \"main\"\nprovider = \"acme\"\nsettings = {settings}\n"
        ))
        .unwrap()
    }

    #[test]
    fn a_route_error_keeps_the_provider_and_its_metadata() {
        let missing = registry().build_router(&route("{}")).unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::InvalidInput);
        assert_eq!(missing.provider().map(ProviderId::as_str), Some("acme"));
        assert!(
            missing
                .message()
                .starts_with("route \"main\": ACME_KEY is not set"),
            "{missing}"
        );
        let refused = registry()
            .build_router(&route(r#"{ key = "refused" }"#))
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Unauthorized);
        assert_eq!(refused.provider().map(ProviderId::as_str), Some("acme"));
        assert_eq!(refused.http_status(), Some(401));
        assert_eq!(refused.provider_code(), Some("E401"));
        assert_eq!(refused.request_id(), Some("req-7"));
        assert!(
            refused
                .message()
                .starts_with("route \"main\": the key was refused"),
            "{refused}"
        );
        assert!(std::error::Error::source(&refused).is_some());
    }

    /// The routes' `{ env = … }` references are read through the lookup given, not the
    /// process environment.
    #[test]
    fn a_router_reads_its_routes_references_through_the_lookup_given() {
        let config = route(r#"{ key = { env = "ACME_TEST_KEY_NOT_IN_THE_ENVIRONMENT" } }"#);
        let unset = registry().build_router(&config).unwrap_err();
        assert!(
            unset
                .message()
                .contains("ACME_TEST_KEY_NOT_IN_THE_ENVIRONMENT"),
            "{unset}"
        );
        let lookup =
            |name: &str| (name == "ACME_TEST_KEY_NOT_IN_THE_ENVIRONMENT").then(|| "k-1".to_owned());
        let router = registry().build_router_with_env(&config, lookup).unwrap();
        assert_eq!(router.routes().count(), 1);
        let refused = |name: &str| {
            (name == "ACME_TEST_KEY_NOT_IN_THE_ENVIRONMENT").then(|| "refused".to_owned())
        };
        let err = registry()
            .build_router_with_env(&config, refused)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
    }

    /// A route's verifier alone (no resolver) makes a router without sessions: the provider
    /// built from it has no resolver either.
    #[test]
    fn a_router_provider_resolves_sessions_only_when_a_route_does() {
        let verifier = || Arc::new(InMemoryVerifier::new());
        let without = Router::builder()
            .route(Route::new("plain", verifier()))
            .build()
            .unwrap();
        let provider = Provider::from(without);
        assert!(provider.resolver.is_none());
        let err = provider.require_resolver().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);

        let both = verifier();
        let with = Router::builder()
            .route(Route::new("plain", verifier()))
            .route(Route::new("sessions", both.clone()).with_resolver(both))
            .build()
            .unwrap();
        assert!(Provider::from(with).require_resolver().is_ok());

        // Through the registry: a route of a provider with sessions.
        let built = registry().build_router(&route(r#"{ key = "k" }"#)).unwrap();
        assert!(Provider::from(built).resolver.is_some());
    }

    /// `{config:?}` of a routing configuration shows each setting's kind, never its value.
    #[test]
    fn debug_of_a_routing_config_hides_every_setting() {
        let config = route(
            r#"{ password = 12345678, secret = "canary", rate = 0.75, on = true, key = { env = "ACME_KEY" } }"#,
        );
        let shown = format!("{config:?}");
        for hidden in ["12345678", "canary", "0.75", "true"] {
            assert!(!shown.contains(hidden), "{hidden} in {shown}");
        }
        for kind in [
            "Integer(..)",
            "Text(..)",
            "Float(..)",
            "Bool(..)",
            r#"Env("ACME_KEY")"#,
        ] {
            assert!(shown.contains(kind), "{kind} not in {shown}");
        }
    }

    /// `fail_over_on_rate_limit` reaches the router: a provider's rate limit is returned by
    /// default, and moves on to the next route with it.
    #[tokio::test]
    async fn the_rate_limit_opt_in_reaches_the_router() {
        use phone_verify_core::{PhoneVerifier, StartRequest};

        let mut registry = registry();
        registry
            .register("limited", |_| {
                let verifier = InMemoryVerifier::new();
                verifier.state().answer_next_with_error(
                    phone_verify_testkit::Answering::Send,
                    429,
                    vec![],
                    r#"{"error":{"code":"too_many_sends","message":"Too many codes."}}"#,
                    1,
                );
                Ok(Provider::new(Arc::new(verifier)))
            })
            .unwrap();
        for (opt_in, expected) in [(false, None), (true, Some("backup"))] {
            let config: RoutingConfig = toml::from_str(&format!(
                "fail_over_on_rate_limit = {opt_in}
                 [[routes]]
name = \"first\"
provider = \"limited\"
                 [[routes]]
name = \"backup\"
provider = \"acme\"
settings = {{ key = \"k\" }}
"
            ))
            .unwrap();
            let router = registry.build_router(&config).unwrap();
            let started = router
                .start(&StartRequest::sms("+50762647737".parse().unwrap()))
                .await;
            match expected {
                None => assert_eq!(started.unwrap_err().kind(), ErrorKind::RateLimited),
                Some(route) => assert_eq!(started.unwrap().extra_str("route"), Some(route)),
            }
        }
    }

    /// Without the `guard` feature, a `[guard]` table is refused by name, not dropped.
    #[test]
    fn a_guard_table_without_the_guard_feature_is_refused_by_name() {
        let config: RoutingConfig = toml::from_str(
            r#"
            [[routes]]
            name = "main"
            provider = "acme"
            settings = { key = "k" }

            [guard]
            store = "memory"
            [guard.rules]
            resend_cooldown_secs = 60
            "#,
        )
        .unwrap();
        let built = registry().build_router(&config);
        if cfg!(feature = "guard") {
            assert!(built.is_ok(), "{built:?}");
        } else {
            let err = built.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(
                err.message()
                    .contains("needs the `guard` feature of phone-verify"),
                "{err}"
            );
        }
        // Any other unknown table is still refused by serde.
        let typo = toml::from_str::<RoutingConfig>("routes = []\n[gaurd]\nstore = \"memory\"");
        assert!(
            typo.unwrap_err()
                .to_string()
                .contains("unknown field `gaurd`")
        );
    }
}
