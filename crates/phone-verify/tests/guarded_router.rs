//! The `[guard]` table of a routing configuration: the registry builds the guarded router from
//! one file.

use std::sync::Arc;

use phone_verify::guard::{Denial, Rule};
use phone_verify::{ErrorKind, Provider, Registry, RoutingConfig, StartRequest};
use phone_verify_testkit::memory::InMemoryVerifier;

const CONFIG: &str = r#"
[[routes]]
name = "main"
provider = "memory"

[guard]
secret_env = "FACADE_TEST_ROUTER_GUARD_SECRET"
[guard.rules]
resend_cooldown_secs = 60
deny_regions = ["PA"]
"#;

fn registry() -> (Registry, InMemoryVerifier) {
    let provider = InMemoryVerifier::new();
    let shared = provider.clone_fresh();
    let mut registry = Registry::new();
    registry
        .register("memory", move |_| {
            Ok(Provider::new(Arc::new(shared.clone_fresh())))
        })
        .unwrap();
    (registry, provider)
}

#[tokio::test]
async fn the_registry_builds_a_guarded_router_from_one_file() {
    let config = RoutingConfig::from_toml(CONFIG).unwrap();
    let (registry, provider) = registry();
    let missing = registry
        .build_guarded_router_with_lookup(&config, |_| None::<String>)
        .await
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("FACADE_TEST_ROUTER_GUARD_SECRET"),
        "{missing}"
    );
    let lookup = |name: &str| {
        (name == "FACADE_TEST_ROUTER_GUARD_SECRET").then(|| "0123456789abcdef".to_owned())
    };
    let guarded = registry
        .build_guarded_router_with_lookup(&config, lookup)
        .await
        .unwrap();
    let request = StartRequest::sms("+905321234567".parse().unwrap());
    guarded.verifier.start(&request).await.unwrap();
    let resend = guarded.verifier.start(&request).await.unwrap_err();
    assert_eq!(resend.kind(), ErrorKind::RateLimited);
    assert_eq!(
        Denial::of(&resend).map(|d| d.rule),
        Some(Rule::ResendCooldown)
    );
    let panama = StartRequest::sms("+50762647737".parse().unwrap());
    let denied = guarded.verifier.start(&panama).await.unwrap_err();
    assert_eq!(Denial::of(&denied).map(|d| d.rule), Some(Rule::Region));
    assert_eq!(
        provider.state().request_counts().sends,
        1,
        "refused sends never reach the route"
    );
}

/// `build_router` refuses the file, naming `build_guarded_router`, rather than build the router
/// without its guard (a dependency may have turned the `guard` feature on).
#[test]
fn build_router_refuses_a_file_with_a_guard_table() {
    let config = RoutingConfig::from_toml(CONFIG).unwrap();
    let (registry, provider) = registry();
    let err = registry.build_router(&config).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message().contains("`Registry::build_guarded_router`"),
        "{err}"
    );
    assert_eq!(provider.state().request_counts().sends, 0);
}

#[tokio::test]
async fn without_a_guard_table_the_router_is_not_guarded() {
    let config =
        RoutingConfig::from_toml("[[routes]]\nname = \"main\"\nprovider = \"memory\"\n").unwrap();
    let (registry, provider) = registry();
    let router = registry
        .build_guarded_router_with_lookup(&config, |_| None::<String>)
        .await
        .unwrap();
    let request = StartRequest::sms("+905321234567".parse().unwrap());
    router.verifier.start(&request).await.unwrap();
    router.verifier.start(&request).await.unwrap();
    assert_eq!(provider.state().request_counts().sends, 2);
}
