//! A router from a TOML configuration over registry providers, against the sandbox: Turkish
//! numbers to VerifyKit, Colombian to Verifik, the rest to Verigator.
#![cfg(all(feature = "router", feature = "full"))]

use phone_verify::providers::verigator::VerigatorBuilder;
use phone_verify::router::EXTRA_ROUTE;
use phone_verify::{
    Code, ErrorKind, PhoneVerifier, PhoneVerifierExt, Provider, Registry, RoutingConfig,
    StartRequest, Verification,
};
use phone_verify_sandbox::{Provider as Sandboxed, Sandbox, SandboxConfig};

fn config(url: &str, service_id: &str) -> String {
    format!(
        r#"
        [[routes]]
        name = "turkey"
        provider = "verifykit"
        settings = {{ sandbox_url = "{url}", fallback_end_user_ip = "127.0.0.1" }}

        [[routes]]
        name = "colombia"
        provider = "verifik"
        settings = {{ sandbox_url = "{url}" }}

        [[routes]]
        name = "rest"
        provider = "verigator"
        settings = {{ sandbox_url = "{url}", service_id = "{service_id}" }}

        [[rules]]
        regions = ["TR"]
        routes = ["turkey"]

        [[rules]]
        regions = ["CO"]
        routes = ["colombia"]

        [[rules]]
        routes = ["rest"]

        [breaker]
        consecutive_failures = 3
        cooldown = 60
        "#
    )
}

#[tokio::test]
async fn routes_by_region_from_toml() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let url = sandbox.base_url();
    let service = VerigatorBuilder::sandbox(&url)
        .build_client()
        .unwrap()
        .create_service("router.phone-verify.localhost", "router test")
        .await
        .unwrap();
    let config = RoutingConfig::from_toml(&config(&url, &service.id)).unwrap();
    let registry = Registry::with_builtin();
    let router = registry.build_router(&config).unwrap();
    for (phone, route, provider) in [
        ("+905321234567", "turkey", Sandboxed::VerifyKit),
        ("+573001234567", "colombia", Sandboxed::Verifik),
        ("+50762647737", "rest", Sandboxed::Verigator),
    ] {
        let handle = router
            .start(&StartRequest::sms(phone.parse().unwrap()))
            .await
            .unwrap();
        assert_eq!(handle.extra_str(EXTRA_ROUTE), Some(route));
        let sent = sandbox.messages(phone);
        assert_eq!(sent.len(), 1, "{phone}");
        assert_eq!(sent[0].provider, provider, "{phone}");
        // Checked by a router built again from the same file, from the handle's JSON.
        let again = registry.build_router(&config).unwrap();
        let parsed = Verification::from_json(&handle.to_json().unwrap()).unwrap();
        let code = Code::new(sent[0].code.as_deref().unwrap()).unwrap();
        assert!(
            again
                .check_code(&parsed, &code)
                .await
                .unwrap()
                .is_verified(),
            "{phone}"
        );
    }
    let provider = Provider::from(registry.build_router(&config).unwrap());
    assert_eq!(provider.id().as_str(), "router");
    assert!(provider.resolver.is_some());
}

#[test]
fn bad_routes_are_named_in_the_error() {
    let registry = Registry::with_builtin();
    let typo = RoutingConfig::from_toml(
        r#"
        [[routes]]
        name = "turkey"
        provider = "verifykit"
        settings = { sandbox_url = "http://127.0.0.1:1", sevrer_key = "x" }
        "#,
    )
    .unwrap();
    let err = registry.build_router(&typo).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("route \"turkey\""), "{err}");
    let unknown_route = RoutingConfig::from_toml(
        r#"
        [[routes]]
        name = "turkey"
        provider = "verifykit"
        settings = { sandbox_url = "http://127.0.0.1:1" }

        [[rules]]
        routes = ["nowhere"]
        "#,
    )
    .unwrap();
    let err = registry.build_router(&unknown_route).unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
    assert!(RoutingConfig::from_toml("routes = []\nrulez = []").is_err());
}
