//! A routing configuration written in code rather than read from a file: routes, their
//! settings, rules, the breaker and the failover opt-ins reach the router `build_router`
//! makes.
#![cfg(feature = "router")]

use std::sync::Arc;

use phone_verify::router::{BreakerConfig, CircuitState, EXTRA_ROUTE, Rule};
use phone_verify::secrecy::ExposeSecret;
use phone_verify::{
    Error, ErrorKind, PhoneVerifier, Provider, Registry, RouteConfig, RoutingConfig, SettingValue,
    StartRequest,
};
use phone_verify_testkit::memory::InMemoryVerifier;

/// A registry of `memory`, built only with the token `let-me-in` (a setting or a variable),
/// and of `unavailable`, whose first send fails as a provider that is down.
fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .register("memory", |settings| {
            let token = settings.require_secret("MEMORY_TOKEN")?;
            if token.expose_secret() != "let-me-in" {
                return Err(Error::new(ErrorKind::Unauthorized, "token refused"));
            }
            Ok(Provider::new(Arc::new(InMemoryVerifier::new())))
        })
        .unwrap();
    registry
        .register("unavailable", |_| {
            let verifier = InMemoryVerifier::new();
            verifier
                .state()
                .fail_next_send(ErrorKind::ProviderUnavailable);
            Ok(Provider::new(Arc::new(verifier)))
        })
        .unwrap();
    registry
}

#[tokio::test]
async fn a_routing_config_written_in_code_builds_its_router() {
    let mut breaker = BreakerConfig::default();
    breaker.consecutive_failures = 1;
    let config = RoutingConfig::new([
        RouteConfig::new("turkey", "unavailable"),
        RouteConfig::new("backup", "memory").setting("token", "let-me-in"),
        RouteConfig::new("rest", "memory").setting("token", SettingValue::env("TEST_TOKEN")),
    ])
    .rule(Rule::to(["turkey", "backup"]).regions(["TR"]))
    .rule(Rule::to(["rest"]))
    .breaker(breaker)
    .allow_second_message(false)
    .fail_over_on_rate_limit(true);
    assert!(config.fail_over_on_rate_limit && !config.allow_second_message);
    let env = |name: &str| (name == "TEST_TOKEN").then(|| "let-me-in".to_owned());
    let router = registry().build_router_with_lookup(&config, env).unwrap();

    // Turkey's rule: its first route is down, so the second sends; one failure opened the
    // first route's circuit.
    let turkey = StartRequest::sms("+905321234567".parse().unwrap());
    let handle = router.start(&turkey).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("backup"));
    let health = router.health();
    let first = health.iter().find(|h| h.route == "turkey").unwrap();
    assert_eq!(first.state, CircuitState::Open);
    // Any other number: the catch-all rule.
    let panama = StartRequest::sms("+50762647737".parse().unwrap());
    let handle = router.start(&panama).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("rest"));

    // A route's settings are its provider's: a wrong token is refused by the route's name.
    let wrong = RoutingConfig::new([RouteConfig::new("main", "memory").setting("token", "no")]);
    let err = registry().build_router(&wrong).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(err.message().starts_with("route \"main\": "), "{err}");
}
