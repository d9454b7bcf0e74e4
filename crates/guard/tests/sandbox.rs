//! The guard around a real client of the sandbox: a refused send never reaches the provider
//! (the conformance suite through the guard is in `conformance.rs`).

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy};
use phone_verify_core::{ErrorKind, PhoneVerifier, StartRequest};
use phone_verify_guard::{Denial, Guard, GuardConfig, GuardStore, Limit, MemoryStore, Rule};
use phone_verify_testkit::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
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
