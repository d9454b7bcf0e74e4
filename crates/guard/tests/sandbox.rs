//! The guard around a real client of the sandbox: the conformance suite passes through it, and
//! a refused send never reaches the provider.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy};
use phone_verify_core::{ErrorKind, PhoneVerifier, StartRequest};
use phone_verify_guard::{Denial, Guard, GuardConfig, GuardStore, Limit, MemoryStore, Rule};
use phone_verify_testkit::sandbox::{
    Provider, Sandbox, SandboxConfig, SandboxHandle, SandboxHarness,
};
use phone_verify_verifykit::{VerifyKit, VerifyKitBuilder};

const SECRET: &str = "sandbox-test-secret-0123";

fn verifykit(sandbox: &SandboxHandle) -> VerifyKit {
    VerifyKitBuilder::sandbox(&sandbox.base_url())
        .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
        .retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .expect("a verifier for the sandbox")
}

fn guard(sandbox: &SandboxHandle, store: Arc<dyn GuardStore>, config: GuardConfig) -> Guard {
    let inner = Arc::new(verifykit(sandbox));
    Guard::builder(inner.clone())
        .resolver(inner)
        .secret(SECRET)
        .store(store)
        .config(config)
        .build()
        .expect("a valid guard")
}

#[tokio::test]
async fn the_guarded_provider_conforms_on_the_sandbox() {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("the sandbox starts");
    // The default rules: a conformance run (fresh numbers, one region) does not trip them.
    let store: Arc<dyn GuardStore> = Arc::new(MemoryStore::new());
    let guarded = guard(&sandbox, Arc::clone(&store), GuardConfig::default());
    let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, move |s| {
        Arc::new(guard(s, Arc::clone(&store), GuardConfig::default()))
    })
    .with_send_endpoint("POST", "/v1.0/send-otp")
    .with_send_endpoint("POST", "/v1.0/start");
    let report = phone_verify_testkit::run(&guarded, Some(&guarded), &harness).await;
    println!("{report}");
    report.assert_all_passed();
    assert_eq!(report.skipped().count(), 0, "{report}");
    report.assert_passed(&[
        "otp.right_code_verifies[sms]",
        "otp.wrong_code_rejected[sms]",
        "send.exactly_once[sms]",
        "send.not_retried_after_503[sms]",
        "session.resolves_verified_phone",
        "input.foreign_handle_refused",
    ]);
}

#[tokio::test]
async fn a_refused_send_leaves_the_sandbox_log_empty() {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("the sandbox starts");
    let config = GuardConfig {
        deny_regions: vec!["PA".into()],
        global_budget: Some(Limit::per_hour(1)),
        ..GuardConfig::default()
    };
    let guarded = guard(&sandbox, Arc::new(MemoryStore::new()), config);
    let refusals = [
        ("+50762647737", ErrorKind::Blocked, Rule::Region),
        ("+449098790000", ErrorKind::Blocked, Rule::NumberType),
    ];
    for (phone, kind, rule) in refusals {
        let err = guarded
            .start(&StartRequest::sms(phone.parse().unwrap()))
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind(), Denial::of(&err).map(|d| d.rule)),
            (kind, Some(rule)),
            "{err}"
        );
    }
    let log = sandbox.requests();
    assert!(log.requests.is_empty() && log.counts.is_empty(), "{log:?}");

    guarded
        .start(&StartRequest::sms("+905321234567".parse().unwrap()))
        .await
        .unwrap();
    let err = guarded
        .start(&StartRequest::sms("+905321234568".parse().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(Denial::of(&err).map(|d| d.rule), Some(Rule::GlobalBudget));
    assert!(err.retry_after().is_some());
    assert_eq!(
        sandbox.requests().requests.len(),
        1,
        "only the allowed send reached the sandbox"
    );
}
