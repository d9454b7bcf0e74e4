//! [`RoutingConfig`]: a router over registry providers, from a configuration file
//! (feature `router`).

use std::collections::BTreeMap;
use std::sync::Arc;

use phone_verify_core::secrecy::SecretString;
use phone_verify_core::{Error, Result};
use phone_verify_router::{BreakerConfig, Route, Router, RouterConfig, Rule};

use crate::config::{ProviderConfig, SettingValue, deserialize_settings};
use crate::registry::{Provider, Registry};

/// A router described by configuration (TOML through [`from_toml`](Self::from_toml), JSON or
/// any serde format; or in code, from [`new`](Self::new)): routes that name a registry
/// provider and its settings, the rules, the breaker and the failover opt-ins. Built by
/// [`Registry::build_router`].
///
/// ```
/// use phone_verify::RoutingConfig;
///
/// let config = RoutingConfig::from_toml(r#"
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
/// # Ok::<(), phone_verify::Error>(())
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
    /// `[guard.rules]`. Built by [`Registry::build_guarded_router`];
    /// [`Registry::build_router`] refuses a configuration that has one.
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

impl RoutingConfig {
    /// A configuration of `routes`, in order, without rules (every route, in order, with
    /// failover), with the default breaker and neither failover opt-in.
    ///
    /// ```
    /// use phone_verify::router::Rule;
    /// use phone_verify::{RouteConfig, RoutingConfig, SettingValue};
    ///
    /// let config = RoutingConfig::new([
    ///     RouteConfig::new("turkey", "verifykit")
    ///         .setting("server_key", SettingValue::env("VERIFYKIT_SERVER_KEY")),
    ///     RouteConfig::new("rest", "verifik")
    ///         .setting("token", SettingValue::env("VERIFIK_TOKEN")),
    /// ])
    /// .rule(Rule::to(["turkey", "rest"]).regions(["TR"]))
    /// .rule(Rule::to(["rest"]));
    /// assert_eq!(config.routes.len(), 2);
    /// ```
    pub fn new(routes: impl IntoIterator<Item = RouteConfig>) -> Self {
        Self {
            routes: routes.into_iter().collect(),
            rules: Vec::new(),
            breaker: BreakerConfig::default(),
            allow_second_message: false,
            fail_over_on_rate_limit: false,
            #[cfg(feature = "guard")]
            guard: None,
            #[cfg(not(feature = "guard"))]
            guard_without_feature: None,
        }
    }

    /// Reads a TOML configuration; an error is [`ErrorKind::InvalidInput`] with toml's message
    /// after the place, `line:column: `, and never quotes the file (`toml::from_str`'s error
    /// holds the whole file, credentials included, in its `Display` and `Debug`).
    ///
    /// [`ErrorKind::InvalidInput`]: crate::ErrorKind::InvalidInput
    pub fn from_toml(text: &str) -> Result<Self> {
        crate::toml_file::from_toml(text)
    }

    /// Adds a rule after the others (first match wins).
    #[must_use]
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Sets every route's circuit breaker.
    #[must_use]
    pub fn breaker(mut self, breaker: BreakerConfig) -> Self {
        self.breaker = breaker;
        self
    }

    /// Sets whether to fail over after `MaybeSent` too, accepting a possible second message.
    #[must_use]
    pub fn allow_second_message(mut self, allow: bool) -> Self {
        self.allow_second_message = allow;
        self
    }

    /// Sets whether to fail over after a provider's `RateLimited` too, for account-wide
    /// throttling (see the field of the same name).
    #[must_use]
    pub fn fail_over_on_rate_limit(mut self, fail_over: bool) -> Self {
        self.fail_over_on_rate_limit = fail_over;
        self
    }

    /// Sets the guard in front of the router, built by [`Registry::build_guarded_router`].
    #[cfg(feature = "guard")]
    #[must_use]
    pub fn guard(mut self, settings: phone_verify_guard::GuardSettings) -> Self {
        self.guard = Some(settings);
        self
    }
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
    #[serde(default, deserialize_with = "deserialize_settings")]
    pub settings: BTreeMap<String, SettingValue>,
}

impl RouteConfig {
    /// A route `name` to the registry provider `provider`, without settings.
    pub fn new(name: impl Into<String>, provider: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            provider: provider.into(),
            settings: BTreeMap::new(),
        }
    }

    /// Adds or replaces a setting, as [`ProviderConfig::setting`] does.
    #[must_use]
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<SettingValue>) -> Self {
        self.settings.insert(name.into(), value.into());
        self
    }
}

impl Registry {
    /// Builds the router `config` describes, each route's provider as [`build`](Self::build)
    /// would, before any request. A route's build error is prefixed with the route's name and
    /// keeps its kind and what the provider's error carries (provider, HTTP status, code,
    /// request id): a missing setting is `InvalidInput`, a credential the provider refuses
    /// `Unauthorized`. The router's own checks (no route, a route defined twice, a rule naming
    /// an unknown route, a bad breaker) fail with `InvalidInput`.
    ///
    /// A configuration with a guard (a `[guard]` table) is refused with `InvalidInput`, in
    /// every feature set, rather than built without its abuse protection: the error names
    /// [`build_guarded_router`](Self::build_guarded_router) where the `guard` feature is
    /// enabled, the feature where it is not.
    pub fn build_router(&self, config: &RoutingConfig) -> Result<Router> {
        self.build_router_with_lookup(config, |name| std::env::var(name).ok())
    }

    /// Like [`build_router`](Self::build_router), with the routes' `{ env = … }` references
    /// resolved by `lookup` instead of the process environment (as
    /// [`build_with_lookup`](Self::build_with_lookup) does for one provider).
    pub fn build_router_with_lookup<V: Into<SecretString>>(
        &self,
        config: &RoutingConfig,
        lookup: impl Fn(&str) -> Option<V>,
    ) -> Result<Router> {
        #[cfg(feature = "guard")]
        let has_guard = config.guard.is_some();
        #[cfg(not(feature = "guard"))]
        let has_guard = config.guard_without_feature.is_some();
        if has_guard {
            return Err(Error::invalid_input(if cfg!(feature = "guard") {
                "the configuration has a [guard] table: build it with \
                 `Registry::build_guarded_router`, which puts the guard in front of the router \
                 (`build_router` would leave its abuse protection out)"
            } else {
                "the configuration has a [guard] table, which needs the `guard` feature of \
                 phone-verify (and `guard-redis` for store = \"redis\")"
            }));
        }
        self.build_routes(config, lookup)
    }

    /// The router of `config`'s routes, rules, breaker and opt-ins; its guard is the caller's.
    fn build_routes<V: Into<SecretString>>(
        &self,
        config: &RoutingConfig,
        env: impl Fn(&str) -> Option<V>,
    ) -> Result<Router> {
        let mut builder = Router::builder();
        for route in &config.routes {
            let mut provider_config = ProviderConfig::new(&route.provider);
            provider_config.settings.clone_from(&route.settings);
            let provider = self
                .build_with_lookup(&provider_config, &env)
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
    /// let config = RoutingConfig::from_toml(r#"
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
    /// # Ok::<(), phone_verify::Error>(())
    /// ```
    pub async fn build_guarded_router(&self, config: &RoutingConfig) -> Result<Provider> {
        self.build_guarded_router_with_lookup(config, |name| std::env::var(name).ok())
            .await
    }

    /// [`build_guarded_router`](Self::build_guarded_router) with every variable from `lookup`
    /// instead of the environment: the guard's, and the routes' `{ env = … }` references
    /// (given as `String`s or `SecretString`s, as [`build_with_lookup`](Self::build_with_lookup)
    /// takes them).
    pub async fn build_guarded_router_with_lookup<V: Into<SecretString>>(
        &self,
        config: &RoutingConfig,
        lookup: impl Fn(&str) -> Option<V>,
    ) -> Result<Provider> {
        let provider = Provider::from(self.build_routes(config, &lookup)?);
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

impl Prefixed for Error {
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

    use phone_verify_core::secrecy::ExposeSecret;
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
                    .require_secret("ACME_KEY")
                    .map_err(|e| e.with_provider(ProviderId::new_static("acme")))?;
                if key.expose_secret() == "refused" {
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
        RoutingConfig::from_toml(&format!(
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
        let router = registry()
            .build_router_with_lookup(&config, lookup)
            .unwrap();
        assert_eq!(router.routes().count(), 1);
        let refused = |name: &str| {
            (name == "ACME_TEST_KEY_NOT_IN_THE_ENVIRONMENT").then(|| "refused".to_owned())
        };
        let err = registry()
            .build_router_with_lookup(&config, refused)
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
            let config = RoutingConfig::from_toml(&format!(
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

    /// A `[guard]` table is never dropped: `build_router` refuses it in every feature set,
    /// naming `build_guarded_router` where the `guard` feature is on (a dependency may turn it
    /// on), the feature where it is off.
    #[test]
    fn build_router_refuses_a_guard_table() {
        let config = RoutingConfig::from_toml(
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
        let expected = if cfg!(feature = "guard") {
            "the configuration has a [guard] table: build it with \
             `Registry::build_guarded_router`"
        } else {
            "the configuration has a [guard] table, which needs the `guard` feature of \
             phone-verify"
        };
        for built in [
            registry().build_router(&config),
            registry().build_router_with_lookup(&config, |_| None::<String>),
        ] {
            let err = built.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.message().starts_with(expected), "{err}");
        }
        // Any other unknown table is still refused when read.
        let typo =
            RoutingConfig::from_toml("routes = []\n[gaurd]\nstore = \"memory\"").unwrap_err();
        assert!(
            typo.message().starts_with("2:2: unknown field `gaurd`"),
            "{typo}"
        );
    }

    /// A wrong value in the `[guard]` table is refused without being shown (a Redis URL with
    /// its password where `memory` or `redis` belongs), saying what was expected.
    #[cfg(feature = "guard")]
    #[test]
    fn a_wrong_guard_value_is_not_shown() {
        let routes = "[[routes]]\nname = \"main\"\nprovider = \"acme\"\n";
        for (guard, expected) in [
            (
                "[guard]\nstore = \"redis://:canary@h:6379\"\n",
                "5:9: unknown variant (not shown), expected `memory` or `redis`",
            ),
            (
                "[guard]\nmemory_capacity = \"canary\"\n",
                "5:19: invalid type: string (not shown), expected usize",
            ),
        ] {
            let err = RoutingConfig::from_toml(&format!("{routes}{guard}")).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert_eq!(err.message(), expected, "{guard:?}");
            assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
        }
    }

    /// With the `guard` feature, a guard set in code is refused by `build_router` too, and put
    /// in front of the router by `build_guarded_router`.
    #[cfg(feature = "guard")]
    #[tokio::test]
    async fn a_guard_set_in_code_is_refused_by_build_router() {
        use phone_verify_core::{PhoneVerifier, StartRequest};

        use super::RouteConfig;

        let guard = phone_verify_guard::GuardSettings::from_toml(
            "secret_env = \"ROUTING_TEST_GUARD_SECRET\"\n[rules]\nresend_cooldown_secs = 60",
        )
        .unwrap();
        let config =
            RoutingConfig::new([RouteConfig::new("main", "acme").setting("key", "k")]).guard(guard);
        let err = registry().build_router(&config).unwrap_err();
        assert!(err.message().contains("build_guarded_router"), "{err}");
        let secret = |name: &str| {
            (name == "ROUTING_TEST_GUARD_SECRET").then(|| "0123456789abcdef".to_owned())
        };
        let guarded = registry()
            .build_guarded_router_with_lookup(&config, secret)
            .await
            .unwrap();
        let request = StartRequest::sms("+50762647737".parse().unwrap());
        guarded.verifier.start(&request).await.unwrap();
        let again = guarded.verifier.start(&request).await.unwrap_err();
        assert_eq!(again.kind(), ErrorKind::RateLimited);
    }
}
