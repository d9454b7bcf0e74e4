//! The `guard` feature: a provider from the registry, guarded by settings from TOML.

use phone_verify::guard::{Denial, GuardSettings, Rule};
use phone_verify::{ErrorKind, Provider, StartRequest};
use phone_verify_testkit::memory::InMemoryVerifier;

#[tokio::test]
async fn a_guarded_provider_refuses_a_resend_within_the_cooldown() {
    let settings = GuardSettings::from_toml(
        "secret_env = \"FACADE_TEST_GUARD_SECRET\"\n[rules]\nresend_cooldown_secs = 60\n",
    )
    .unwrap();
    let provider = Provider::both(InMemoryVerifier::new());
    let missing = provider.clone().guarded(&settings).await.unwrap_err();
    assert!(
        missing.to_string().contains("FACADE_TEST_GUARD_SECRET"),
        "{missing}"
    );
    let lookup =
        |name: &str| (name == "FACADE_TEST_GUARD_SECRET").then(|| "0123456789abcdef".to_owned());
    let guarded = provider
        .guarded_with_lookup(&settings, lookup)
        .await
        .unwrap();
    assert!(
        guarded.resolver.is_some(),
        "sessions are still resolved, through the guard"
    );
    let request = StartRequest::sms("+905321234567".parse().unwrap());
    guarded.verifier.start(&request).await.unwrap();
    let err = guarded.verifier.start(&request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(Denial::of(&err).map(|d| d.rule), Some(Rule::ResendCooldown));
}
