//! Decisions in logs: the rule, the outcome and the masked phone, never the number. Its own
//! test binary: `tracing` caches callsite interest globally, so a thread-local subscriber is
//! unreliable beside parallel tests.

use std::sync::{Arc, Mutex};

use phone_verify_core::{CheckRequest, PhoneVerifier, StartRequest};
use phone_verify_guard::{Guard, GuardConfig};
use phone_verify_testkit::memory::InMemoryVerifier;

/// Collects everything a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Self;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn decisions_are_logged_with_the_rule_and_a_masked_phone() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
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
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
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
