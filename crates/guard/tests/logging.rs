//! Decisions in logs: the rule, the outcome and the masked phone, never the number. Its own
//! test binary: `tracing` caches callsite interest globally, so a thread-local subscriber is
//! unreliable beside parallel tests.

use std::sync::Arc;

use phone_verify_core::{CheckRequest, PhoneVerifier, StartRequest};
use phone_verify_guard::{Guard, GuardConfig};
use phone_verify_testkit::logs::LogCapture;
use phone_verify_testkit::memory::InMemoryVerifier;

#[tokio::test]
async fn decisions_are_logged_with_the_rule_and_a_masked_phone() {
    let capture = LogCapture::new();
    let _default = capture.set_default(tracing::Level::TRACE);
    let provider = InMemoryVerifier::new();
    let guard = Guard::builder(Arc::new(provider.clone_fresh()))
        .secret("logging-test-secret-0123")
        .config(GuardConfig::default())
        .build()
        .unwrap();
    let request = StartRequest::sms("+905321234567".parse().unwrap());
    let handle = guard.start(&request).await.unwrap();
    guard.start(&request).await.unwrap_err();
    let code = provider
        .state()
        .message_for(&handle.reference)
        .unwrap()
        .code;
    guard
        .check(&handle, &CheckRequest::code(code))
        .await
        .unwrap();
    guard
        .start(&StartRequest::sms("+449098790000".parse().unwrap()))
        .await
        .unwrap_err();
    let logs = capture.text();
    assert!(logs.contains("+90********67"), "{logs}");
    assert!(
        logs.contains("rule=\"resend_cooldown\"") || logs.contains("rule=resend_cooldown"),
        "{logs}"
    );
    assert!(logs.contains("number_type"), "{logs}");
    assert!(logs.contains("guard: check allowed"), "{logs}");
    assert!(
        logs.contains("outcome=\"denied\"") || logs.contains("outcome=denied"),
        "{logs}"
    );
    for secret in ["5321234567", "9098790000", "logging-test-secret"] {
        assert!(!logs.contains(secret), "{secret} in {logs}");
    }
}
