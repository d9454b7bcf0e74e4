//! The testkit's conformance suite through the guard, around a real client of the sandbox:
//! with its counters in memory, and in a real `redis-server` the test starts.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::RedisServer;
use phone_verify_core::http::{ConfigureHttp, RetryPolicy};
use phone_verify_guard::{Guard, GuardConfig, GuardStore, MemoryStore, RedisStore};
use phone_verify_testkit::sandbox::{
    Provider, SandboxConfig, SandboxHandle, SandboxHarness, run_conformance,
};
use phone_verify_testkit::{
    CHECK_FAULT_CHECKS, Conformance, Expected, OTP_CHECKS, PRIVACY_CHECKS, REVERSE_CHECKS,
    REVERSE_FAULT_CHECKS, SEND_CHECKS, SESSION_FAULT_CHECKS, WRONG_CODE_LIMIT_CHECKS,
};
use phone_verify_verifykit::VerifyKitBuilder;

/// The key the guard hashes phones with: a secret the suite proves it never shows.
const GUARD_SECRET: &str = "sandbox-test-secret-0123";

/// The guard, with the default rules (a conformance run, fresh numbers of one region, does not
/// trip them), around VerifyKit on the sandbox; `store` is shared with the fresh clients.
fn guard(sandbox: &SandboxHandle, store: Arc<dyn GuardStore>) -> Guard {
    let inner = Arc::new(
        VerifyKitBuilder::sandbox(&sandbox.base_url())
            .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
            .retry(
                RetryPolicy::default()
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
            )
            .build()
            .expect("a verifier for the sandbox"),
    );
    let config = GuardConfig {
        // Generous: the run tests decisions, not speed, and a busy machine can pass the default
        // before Redis answers (the memory store ignores it).
        store_timeout_ms: 5_000,
        ..GuardConfig::default()
    };
    Guard::builder(inner.clone())
        .resolver(inner)
        .secret(GUARD_SECRET)
        .store(store)
        .config(config)
        .build()
        .expect("a valid guard")
}

/// VerifyKit's server key on the harness's sandbox.
fn sandbox_key(harness: &SandboxHarness) -> String {
    harness.sandbox().config().verifykit_server_key.clone()
}

#[tokio::test]
async fn the_guarded_provider_conforms_on_the_sandbox() {
    conforms(Arc::new(MemoryStore::new())).await;
}

/// As many instances behind a load balancer run it: every guard of the run (the one under
/// test and the fresh clients) keeps its counters in one real Redis.
#[tokio::test]
async fn the_guarded_provider_conforms_with_its_counters_in_redis() {
    let server = RedisServer::start();
    // Generous timeouts: the run tests decisions, not speed, on a busy two-core machine.
    let timeout = Duration::from_secs(5);
    let store = RedisStore::builder(server.url())
        .prefix("pvg-conformance")
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .connect()
        .await
        .expect("connects to the test's redis-server");
    conforms(Arc::new(store)).await;
    // The run's counters are in Redis (hashed phones, hash-tagged: `redis.rs` checks the keys).
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("{pvg-conformance}:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty(), "the guards kept no counter in Redis");
}

/// Runs the suite through guards sharing `store`.
async fn conforms(store: Arc<dyn GuardStore>) {
    // VerifyKit's checks: the guard neither hides nor adds one.
    let expected = Expected::new()
        .checks([
            "input.unsupported_channel_refused[voice]",
            "input.otp_without_phone_refused[sms]",
            "input.foreign_handle_refused",
            "session.resolves_verified_phone",
            "session.unknown_is_not_found",
        ])
        .checks(PRIVACY_CHECKS.iter().copied())
        .per_channel(OTP_CHECKS, ["sms", "whatsapp"])
        .per_channel(CHECK_FAULT_CHECKS, ["sms", "whatsapp"])
        .per_channel(WRONG_CODE_LIMIT_CHECKS, ["sms", "whatsapp"])
        .per_channel(SEND_CHECKS, ["sms", "whatsapp"])
        .per_channel(REVERSE_CHECKS, ["whatsapp", "telegram"])
        .per_channel(&["reverse.qr_code"], ["whatsapp", "telegram"])
        .per_channel(REVERSE_FAULT_CHECKS, ["whatsapp", "telegram"])
        .checks(SESSION_FAULT_CHECKS.iter().copied());
    assert_eq!(expected.len(), 46);
    run_conformance(SandboxConfig::default(), &expected, |sandbox| async move {
        let guarded = Arc::new(guard(&sandbox, Arc::clone(&store)));
        let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, move |s| {
            Arc::new(guard(s, Arc::clone(&store)))
        })
        .with_send_endpoint("POST", "/v1.0/send-otp")
        .with_send_endpoint("POST", "/v1.0/start")
        .with_check_endpoint("POST", "/v1.0/check-otp")
        .with_check_endpoint("POST", "/v1.0/check-whatsapp")
        .with_lookup_endpoint("POST", "/v1.0/check")
        .with_lookup_endpoint("POST", "/v1.0/result");
        let key = sandbox_key(&harness);
        let harness = harness.with_secrets([key, GUARD_SECRET.to_owned()]);
        Conformance::resolving(guarded, harness)
    })
    .await;
}
