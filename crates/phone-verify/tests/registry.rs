//! The registry through the public API: every built-in provider built from configuration and
//! run against the sandbox, an out-of-tree provider registered like a third-party crate would,
//! and the configuration errors.

use std::collections::HashMap;

use phone_verify::{
    Error, ErrorKind, PhoneVerifier, PhoneVerifierExt, Provider, ProviderConfig, Registry,
    SessionResolverExt, StartRequest, Verification,
};
use phone_verify_testkit::memory::{InMemoryHarness, InMemoryState, InMemoryVerifier};

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

/// Starts an SMS verification to `phone`, checks a wrong code, then the code the sandbox
/// "sent", through a provider built from configuration; returns the outcome's session id.
#[cfg(any(feature = "verifykit", feature = "verifik", feature = "verigator"))]
async fn sms_round_trip(
    provider: &Provider,
    sandbox: &phone_verify_sandbox::SandboxHandle,
    phone: &str,
) -> Option<phone_verify::SessionId> {
    use phone_verify::{CheckRequest, Code, RequestContext};

    // The end user's IP, as a web backend passes it with each request.
    let user = RequestContext::new().end_user_ip("198.51.100.7".parse().unwrap());
    let check = |code: &str| CheckRequest::code(Code::new(code).unwrap()).context(user.clone());
    let verifier: &std::sync::Arc<dyn PhoneVerifier> = &provider.verifier;
    let handle = verifier
        .start(&StartRequest::sms(phone.parse().unwrap()).context(user.clone()))
        .await
        .unwrap();
    let code = sandbox.latest_code(phone).expect("the sandbox sent a code");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let handle = Verification::from_json(&handle.to_json().unwrap()).unwrap();
    let outcome = verifier.check(&handle, &check(wrong)).await.unwrap();
    assert!(
        outcome.rejection().is_some(),
        "a wrong code is rejected: {outcome:?}"
    );
    let outcome = verifier.check(&handle, &check(&code)).await.unwrap();
    let result = outcome.verified().expect("the right code verifies");
    assert_eq!(
        result.phone.as_ref().map(phone_verify::PhoneNumber::e164),
        Some(phone)
    );
    result.session_id.clone()
}

#[cfg(feature = "verifykit")]
#[tokio::test(flavor = "multi_thread")]
async fn verifykit_from_a_json_configuration() {
    use phone_verify_sandbox::{Sandbox, SandboxConfig};

    let sandbox = Sandbox::start(SandboxConfig::seeded(1)).await.unwrap();
    let config: ProviderConfig = serde_json::from_value(serde_json::json!({
        "provider": "verifykit",
        "settings": {
            "sandbox_url": sandbox.base_url(),
            "server_key": "sandbox-server-key",
            "max_attempts": 2,
            "overall_timeout_secs": 15.5,
            "fallback_end_user_ip": "127.0.0.1",
            "reverse_flow_ttl_secs": 120,
        }
    }))
    .unwrap();
    let provider = Registry::with_builtin().build(&config).unwrap();
    assert_eq!(provider.id().as_str(), "verifykit");
    let session = sms_round_trip(&provider, &sandbox, "+905321234567")
        .await
        .expect("VerifyKit returns a session id");
    // A request without an end-user IP sends the configured fallback; the reverse flow lasts
    // the configured lifetime.
    let reverse = provider
        .verifier
        .start(&StartRequest::reverse(phone_verify::Channel::Telegram))
        .await
        .unwrap();
    assert_eq!(
        reverse.expires_at,
        Some(reverse.created_at + std::time::Duration::from_secs(120))
    );
    let log = sandbox.requests().requests;
    assert_eq!(
        log.last().and_then(|r| r.forwarded_for.as_deref()),
        Some("127.0.0.1")
    );
    assert!(
        log.iter()
            .take(3)
            .all(|r| r.forwarded_for.as_deref() == Some("198.51.100.7")),
        "the user's IP: {log:?}"
    );
    let resolved = provider
        .require_resolver()
        .unwrap()
        .resolve_session(&session)
        .await
        .unwrap();
    assert_eq!(resolved.phone.e164(), "+905321234567");
}

#[cfg(feature = "verifik")]
#[tokio::test(flavor = "multi_thread")]
async fn verifik_from_a_toml_configuration() {
    use phone_verify_sandbox::{Sandbox, SandboxConfig};

    let sandbox = Sandbox::start(SandboxConfig::seeded(2)).await.unwrap();
    let config: ProviderConfig = toml::from_str(&format!(
        r#"
        provider = "verifik"

        [settings]
        sandbox_url = "{}"
        mode = "manual"
        title = "Acme"
        "#,
        sandbox.base_url()
    ))
    .unwrap();
    let provider = Registry::with_builtin().build(&config).unwrap();
    assert_eq!(provider.id().as_str(), "verifik");
    let session = sms_round_trip(&provider, &sandbox, "+573001234567")
        .await
        .expect("Verifik returns the validation id");
    let resolved = provider
        .require_resolver()
        .unwrap()
        .resolve_session(&session)
        .await
        .unwrap();
    assert_eq!(resolved.phone.e164(), "+573001234567");
}

#[cfg(feature = "verigator")]
#[tokio::test(flavor = "multi_thread")]
async fn verigator_from_the_environment() {
    use phone_verify::providers::verigator::VerigatorBuilder;
    use phone_verify_sandbox::{Sandbox, SandboxConfig};

    let sandbox = Sandbox::start(SandboxConfig::seeded(3)).await.unwrap();
    let service = VerigatorBuilder::sandbox(&sandbox.base_url())
        .build_client()
        .unwrap()
        .create_service("registry-test.example.com", "Registry test")
        .await
        .unwrap();
    let env = lookup(&[
        ("PHONE_VERIFY_PROVIDER", " verigator "),
        ("VERIGATOR_SANDBOX_URL", &sandbox.base_url()),
        ("VERIGATOR_SERVICE_ID", &service.id),
    ]);
    let provider = Registry::with_builtin().build_from_lookup(env).unwrap();
    assert_eq!(provider.id().as_str(), "verigator");
    assert!(provider.resolver.is_none(), "Verigator has no sessions");
    assert_eq!(
        provider.require_resolver().unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(
        sms_round_trip(&provider, &sandbox, "+37251234567").await,
        None
    );
}

#[cfg(feature = "twilio")]
#[test]
fn twilio_from_the_environment_and_from_a_configuration() {
    use phone_verify::Channel;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const SERVICE: &str = "VA0123456789abcdef0123456789abcdef";
    let env = lookup(&[
        ("PHONE_VERIFY_PROVIDER", "twilio"),
        ("TWILIO_ACCOUNT_SID", ACCOUNT),
        ("TWILIO_AUTH_TOKEN", "canary-token"),
        ("TWILIO_SERVICE_SID", SERVICE),
    ]);
    let provider = Registry::with_builtin().build_from_lookup(env).unwrap();
    assert_eq!(provider.id().as_str(), "twilio");
    assert!(provider.resolver.is_none(), "Twilio Verify has no sessions");
    let capabilities = provider.verifier.capabilities();
    for channel in [Channel::Sms, Channel::WhatsApp, Channel::Voice] {
        assert!(capabilities.is_otp(&channel), "{channel}");
    }
    assert!(!format!("{provider:?}").contains("canary"));

    let config = ProviderConfig::new("twilio")
        .setting("account_sid", ACCOUNT)
        .setting("auth_token", "canary-token")
        .setting("service_sid", SERVICE);
    assert_eq!(
        Registry::with_builtin()
            .build(&config)
            .unwrap()
            .id()
            .as_str(),
        "twilio"
    );

    // Missing and malformed settings are named; the token never shows.
    let err = Registry::with_builtin()
        .build(&ProviderConfig::new("twilio").setting("auth_token", "canary-token"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("TWILIO_ACCOUNT_SID"), "{err}");
    let err = Registry::with_builtin()
        .build(
            &ProviderConfig::new("twilio")
                .setting("account_sid", ACCOUNT)
                .setting("auth_token", "canary-token"),
        )
        .unwrap_err();
    assert!(err.to_string().contains("TWILIO_SERVICE_SID"), "{err}");
    assert!(!format!("{err} {err:?}").contains("canary"));
}

#[cfg(feature = "verifykit")]
#[tokio::test(flavor = "multi_thread")]
async fn env_references_are_resolved_when_building() {
    use phone_verify::SettingValue;
    use phone_verify_sandbox::{Sandbox, SandboxConfig};

    let sandbox = Sandbox::start(SandboxConfig::seeded(4)).await.unwrap();
    let config = ProviderConfig::new("verifykit")
        .setting("sandbox_url", sandbox.base_url())
        .setting("server_key", SettingValue::env("MY_APP_VERIFYKIT_KEY"));
    let env = lookup(&[("MY_APP_VERIFYKIT_KEY", "sandbox-server-key")]);
    let provider = Registry::with_builtin()
        .build_with_lookup(&config, env)
        .unwrap();
    sms_round_trip(&provider, &sandbox, "+905321234568").await;

    let err = Registry::with_builtin()
        .build_with_lookup(&config, lookup(&[]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string()
            .contains("`server_key` of provider verifykit is read from the environment variable MY_APP_VERIFYKIT_KEY, which is not set or is blank"),
        "{err}"
    );
}

#[test]
fn unknown_providers_list_the_known_names() {
    let registry = Registry::with_builtin();
    let err = registry.build(&ProviderConfig::new("acme")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let message = err.to_string();
    assert!(message.contains("unknown provider \"acme\""), "{message}");
    for name in registry.names() {
        assert!(message.contains(name), "{message} lists {name}");
    }
    let empty = Registry::new()
        .build_from_lookup(lookup(&[("PHONE_VERIFY_PROVIDER", "twilio")]))
        .unwrap_err();
    assert!(
        empty.to_string().contains("no provider is registered"),
        "{empty}"
    );
}

#[test]
fn the_provider_variable_is_required() {
    let err = Registry::with_builtin()
        .build_from_lookup(lookup(&[("VERIFYKIT_SERVER_KEY", "k")]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("PHONE_VERIFY_PROVIDER is not set"),
        "{err}"
    );
}

#[cfg(feature = "verifykit")]
#[test]
fn missing_credentials_name_the_variable_never_the_value() {
    let registry = Registry::with_builtin();
    let err = registry
        .build_from_lookup(lookup(&[("PHONE_VERIFY_PROVIDER", "verifykit")]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("VERIFYKIT_SERVER_KEY is not set"),
        "{err}"
    );

    let err = registry
        .build(&ProviderConfig::new("verifykit"))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("VERIFYKIT_SERVER_KEY is the setting `server_key`"),
        "{err}"
    );

    // A bad value next to a secret: the error names the setting, not the secret.
    let config = ProviderConfig::new("verifykit")
        .setting("server_key", "canary-secret-value")
        .setting("max_attempts", "many");
    let err = registry.build(&config).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("`max_attempts`"), "{shown}");
    assert!(!shown.contains("canary"), "{shown}");
    let config = ProviderConfig::new("verifykit")
        .setting("server_key", "canary-secret-value")
        .setting("fallback_end_user_ip", "localhost");
    let err = registry.build(&config).unwrap_err();
    assert!(err.to_string().contains("fallback_end_user_ip"), "{err}");
}

/// A credential read into a setting that is not one (`max_attempts = { env = "…" }`, a line
/// copied from the one above) is refused naming the setting, never showing the value.
#[cfg(feature = "verifykit")]
#[test]
fn a_credential_in_another_setting_is_never_shown() {
    use phone_verify::SettingValue;

    let config = ProviderConfig::new("verifykit")
        .setting("server_key", SettingValue::env("APP_KEY"))
        .setting("max_attempts", SettingValue::env("APP_KEY"));
    let err = Registry::with_builtin()
        .build_with_lookup(&config, lookup(&[("APP_KEY", "canary-key")]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("`max_attempts`"), "{shown}");
    assert!(!shown.contains("canary"), "{shown}");
}

/// One shared `Factory` registered under two names: each name builds, reading its own
/// variables.
#[test]
fn one_factory_under_two_names() {
    let factory: phone_verify::Factory = std::sync::Arc::new(|settings| {
        let token = settings.require_secret(&format!("{}TOKEN", settings.prefix()))?;
        assert_eq!(
            phone_verify::secrecy::ExposeSecret::expose_secret(&token),
            settings.provider()
        );
        Ok(Provider::new(std::sync::Arc::new(InMemoryVerifier::new())))
    });
    let mut registry = Registry::new();
    registry
        .register_factory("memory-a", factory.clone())
        .unwrap()
        .register_factory("memory-b", factory)
        .unwrap();
    assert_eq!(registry.names(), ["memory-a", "memory-b"]);
    for name in ["memory-a", "memory-b"] {
        let variable = format!("{}_TOKEN", name.to_ascii_uppercase().replace('-', "_"));
        let env = lookup(&[("PHONE_VERIFY_PROVIDER", name), (&variable, name)]);
        let provider = registry.build_from_lookup(env).unwrap();
        assert_eq!(provider.id(), InMemoryVerifier::PROVIDER);
        let config = ProviderConfig::new(name).setting("token", name);
        registry.build(&config).unwrap();
    }
    let bad = registry
        .register_factory(
            "Memory C",
            std::sync::Arc::new(|_| Err(Error::unsupported("no"))),
        )
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidInput);
}

#[cfg(feature = "verifik")]
#[test]
fn settings_the_provider_does_not_use_are_refused() {
    let config = ProviderConfig::new("verifik")
        .setting("token", "t")
        .setting("tokne", "t");
    let err = Registry::with_builtin().build(&config).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("setting(s) tokne"), "{err}");
    assert!(err.to_string().contains("token"), "{err}");

    let err = Registry::with_builtin()
        .build(&ProviderConfig::new("verifik").setting("Token", "t"))
        .unwrap_err();
    assert!(
        err.to_string().contains("setting names are lowercase"),
        "{err}"
    );
}

/// An out-of-tree provider, registered like a third-party crate would: the testkit's
/// in-memory provider, with a made-up credential to show how a factory reads its settings.
fn registry_with_memory(state: &InMemoryState) -> Registry {
    let mut registry = Registry::with_builtin();
    let state = state.clone();
    registry
        .register("memory", move |settings| {
            let token = settings.require("MEMORY_TOKEN")?;
            if token != "let-me-in" {
                return Err(Error::new(
                    ErrorKind::Unauthorized,
                    "the in-memory provider refused the token",
                ));
            }
            Ok(Provider::both(InMemoryVerifier::with_state(state.clone())))
        })
        .unwrap();
    registry
}

#[tokio::test(flavor = "multi_thread")]
async fn an_out_of_tree_provider_plugs_in_through_the_public_api() {
    let state = InMemoryState::seeded(5);
    let registry = registry_with_memory(&state);
    assert!(registry.contains("memory"));

    // Built from a configuration, started here...
    let config: ProviderConfig =
        serde_json::from_str(r#"{"provider":"memory","settings":{"token":"let-me-in"}}"#).unwrap();
    let provider = registry.build(&config).unwrap();
    assert_eq!(provider.id(), InMemoryVerifier::PROVIDER);
    let handle = provider
        .verifier
        .start(&StartRequest::sms("+50762647737".parse().unwrap()))
        .await
        .unwrap();
    let saved = handle.to_json().unwrap();
    let code = state.message_for(&handle.reference).unwrap().code;

    // ...and checked by another instance built from the environment.
    let env = lookup(&[
        ("PHONE_VERIFY_PROVIDER", "memory"),
        ("MEMORY_TOKEN", "let-me-in"),
    ]);
    let other = registry.build_from_lookup(&env).unwrap();
    let outcome = other
        .verifier
        .check_code(&Verification::from_json(&saved).unwrap(), &code)
        .await
        .unwrap();
    let session = outcome.verified().unwrap().session_id.clone().unwrap();
    let resolved = other
        .require_resolver()
        .unwrap()
        .resolve_session(&session)
        .await
        .unwrap();
    assert_eq!(resolved.phone.e164(), "+50762647737");

    // The whole conformance suite passes through the registry-built trait objects.
    let fresh = registry.clone();
    let harness = InMemoryHarness::for_state(state.clone()).with_fresh_verifier(move |_| {
        fresh
            .build_from_lookup(lookup(&[
                ("PHONE_VERIFY_PROVIDER", "memory"),
                ("MEMORY_TOKEN", "let-me-in"),
            ]))
            .unwrap()
            .verifier
    });
    phone_verify_testkit::run(
        provider.verifier.as_ref(),
        provider.resolver.as_deref(),
        &harness,
    )
    .await
    .assert_all_passed();
}

/// A lookup may give secrets, so that credentials from a vault or a prompt are never in a plain
/// `String`: `build_named`, `build_from_lookup` and `build_with_lookup` take it as they take a
/// lookup of `String`s, values trimmed alike.
#[test]
fn lookups_of_secrets_build_as_lookups_of_strings() {
    use phone_verify::SettingValue;
    use phone_verify::secrecy::SecretString;

    let registry = registry_with_memory(&InMemoryState::new());
    let secrets = |name: &str| match name {
        "PHONE_VERIFY_PROVIDER" => Some(SecretString::from("memory")),
        "MEMORY_TOKEN" | "APP_TOKEN" => Some(SecretString::from(" let-me-in\n")),
        _ => None,
    };
    let named = registry.build_named("memory", secrets).unwrap();
    assert_eq!(named.id(), InMemoryVerifier::PROVIDER);
    let from_lookup = registry.build_from_lookup(secrets).unwrap();
    assert_eq!(from_lookup.id(), InMemoryVerifier::PROVIDER);
    let config = ProviderConfig::new("memory").setting("token", SettingValue::env("APP_TOKEN"));
    registry.build_with_lookup(&config, secrets).unwrap();
    // A wrong secret is refused as a wrong string is, and never shown.
    let wrong = |_: &str| Some(SecretString::from("canary-guess"));
    let err = registry.build_named("memory", wrong).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(!format!("{err} {err:?}").contains("canary"));

    // A built-in provider's credentials, given as secrets.
    #[cfg(feature = "twilio")]
    {
        let twilio = |name: &str| {
            let value = match name {
                "TWILIO_ACCOUNT_SID" => "AC0123456789abcdef0123456789abcdef",
                "TWILIO_AUTH_TOKEN" => "canary-token",
                "TWILIO_SERVICE_SID" => "VA0123456789abcdef0123456789abcdef",
                _ => return None,
            };
            Some(SecretString::from(value))
        };
        let provider = Registry::with_builtin()
            .build_named("twilio", twilio)
            .unwrap();
        assert_eq!(provider.id().as_str(), "twilio");
        assert!(!format!("{provider:?}").contains("canary"));
    }
}

#[test]
fn an_out_of_tree_factory_reports_its_own_errors() {
    let registry = registry_with_memory(&InMemoryState::new());
    let missing = registry.build(&ProviderConfig::new("memory")).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::InvalidInput);
    assert!(
        missing
            .to_string()
            .contains("MEMORY_TOKEN is not set: provider memory needs it (in the configuration, MEMORY_TOKEN is the setting `token`)"),
        "{missing}"
    );
    let refused = registry
        .build(&ProviderConfig::new("memory").setting("token", "guess"))
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unauthorized);
    assert!(!refused.to_string().contains("guess"));
    let unused = registry
        .build(
            &ProviderConfig::new("memory")
                .setting("token", "let-me-in")
                .setting("region", "eu"),
        )
        .unwrap_err();
    assert!(
        unused
            .to_string()
            .contains("provider memory does not use the setting(s) region"),
        "{unused}"
    );
    let mut registry = Registry::new();
    let bad_name = registry
        .register("Acme SMS", |_| Err(Error::unsupported("never built")))
        .unwrap_err();
    assert_eq!(bad_name.kind(), ErrorKind::InvalidInput);
    assert!(registry.names().is_empty());
}
