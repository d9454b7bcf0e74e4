//! The testkit's conformance suite through a router, against the sandbox: for each provider, a
//! router whose first route cannot connect (every start fails over to the second, until its
//! circuit opens) and whose second route is the provider on the sandbox.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::RetryPolicy;
use phone_verify_core::{PhoneVerifier, SessionResolver};
use phone_verify_router::{Route, Router};
use phone_verify_testkit::Report;
use phone_verify_testkit::sandbox::{
    Provider, Sandbox, SandboxConfig, SandboxHandle, SandboxHarness,
};
use phone_verify_verifik::VerifikBuilder;
use phone_verify_verifykit::VerifyKitBuilder;

fn retry() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// A base URL on loopback where nothing listens.
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

fn verifykit(base: &str) -> Arc<phone_verify_verifykit::VerifyKit> {
    Arc::new(
        VerifyKitBuilder::sandbox(base)
            .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
            .retry(retry())
            .build()
            .unwrap(),
    )
}

fn verifik(base: &str) -> Arc<phone_verify_verifik::Verifik> {
    Arc::new(
        VerifikBuilder::sandbox(base)
            .retry(retry())
            .build()
            .unwrap(),
    )
}

/// `down` then `up`; only `up` resolves sessions (resolution moves on only on `NotFound`, so a
/// resolver that cannot connect would end it).
fn router<V: PhoneVerifier + SessionResolver + 'static>(
    build: impl Fn(&str) -> Arc<V>,
    sandbox: &SandboxHandle,
) -> Router {
    let down = build(&refused_url());
    let up = build(&sandbox.base_url());
    Router::builder()
        .route(Route::new("down", down))
        .route(Route::new("up", up.clone()).with_resolver(up))
        .build()
        .unwrap()
}

async fn conforms<V: PhoneVerifier + SessionResolver + 'static>(
    provider: Provider,
    build: fn(&str) -> Arc<V>,
    sends: &[&str],
) -> Report {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let tested = router(build, &sandbox);
    let mut harness = SandboxHarness::new(sandbox, provider, move |s| Arc::new(router(build, s)));
    for send in sends {
        harness = harness.with_send_endpoint("POST", send);
    }
    let report = phone_verify_testkit::run(&tested, Some(&tested), &harness).await;
    println!("{report}");
    report.assert_all_passed();
    assert_eq!(report.skipped().count(), 0, "{report}");
    assert!(report.passed().count() > 20, "{report}");
    report
}

#[tokio::test]
async fn a_router_over_verifykit_conforms() {
    let report = conforms(
        Provider::VerifyKit,
        verifykit,
        &["/v1.0/send-otp", "/v1.0/start"],
    )
    .await;
    report.assert_passed(&[
        "otp.handle_in_fresh_client[sms]",
        "reverse.handle_in_fresh_client[whatsapp]",
        "send.not_retried_after_503[sms]",
        "session.resolves_verified_phone",
    ]);
}

#[tokio::test]
async fn a_router_over_verifik_conforms() {
    let report = conforms(
        Provider::Verifik,
        verifik,
        &["/v2/phone-validations/manual"],
    )
    .await;
    report.assert_passed(&[
        "otp.handle_in_fresh_client[sms]",
        "send.not_retried_after_reset[sms]",
        "session.unknown_is_not_found",
    ]);
}
