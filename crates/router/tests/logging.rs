//! Every failover is in the logs, with its route and reason and without the full phone. Its own
//! test binary: `tracing` caches callsite interest globally, so a thread-local subscriber is
//! unreliable beside parallel tests.

use std::sync::Arc;

use phone_verify_core::{ErrorKind, PhoneVerifier, StartRequest};
use phone_verify_router::{Route, Router};
use phone_verify_testkit::logs::LogCapture;
use phone_verify_testkit::memory::InMemoryVerifier;

#[tokio::test]
async fn failovers_are_logged_with_route_reason_and_a_masked_phone() {
    let capture = LogCapture::new();
    let guard = capture.set_default(tracing::Level::DEBUG);

    let (a, b) = (InMemoryVerifier::new(), InMemoryVerifier::new());
    a.state().fail_next_send(ErrorKind::ProviderUnavailable);
    b.state().fail_next_send(ErrorKind::QuotaExhausted);
    let router = Router::builder()
        .route(Route::new("first", Arc::new(a.clone_fresh())))
        .route(Route::new("second", Arc::new(b.clone_fresh())))
        .build()
        .unwrap();
    let err = router
        .start(&StartRequest::sms("+50762647737".parse().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExhausted);
    drop(guard);

    let logs = capture.text();
    assert!(logs.contains("trying the next route"), "{logs}");
    assert!(
        logs.contains("route=\"first\"") || logs.contains("route=first"),
        "{logs}"
    );
    assert!(logs.contains("provider unavailable"), "{logs}");
    assert!(logs.contains("no route could start"), "{logs}");
    assert!(logs.contains("+507******37"), "the phone is masked: {logs}");
    assert!(!logs.contains("62647737"), "no full phone: {logs}");
}
