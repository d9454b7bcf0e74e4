//! The testkit's conformance suite through the guard, around a real client of the sandbox:
//! with its counters in memory, and in a real `redis-server` the test starts.

#[cfg(feature = "redis")]
mod common;

use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "redis")]
use common::RedisServer;
use phone_verify_core::http::{ConfigureHttp, RetryPolicy, Timeouts};
#[cfg(feature = "redis")]
use phone_verify_guard::RedisStore;
use phone_verify_guard::{Guard, GuardConfig, GuardStore, MemoryStore};
use phone_verify_testkit::sandbox::{
    Provider, SandboxConfig, SandboxHandle, SandboxHarness, run_conformance,
};
use phone_verify_testkit::{
    CHECK_FAULT_CHECKS, Conformance, Expected, HOSTILE_CHECK_CHECKS, HOSTILE_POLL_CHECKS,
    HOSTILE_SEND_CHECKS, HOSTILE_SESSION_CHECKS, ImpatientClient, OTP_CHECKS, PRIVACY_CHECKS,
    REVERSE_CHECKS, REVERSE_FAULT_CHECKS, REVERSE_RETRY_CHECKS, SEND_CHECKS, SESSION_FAULT_CHECKS,
    SESSION_RETRY_CHECKS, WRONG_CODE_LIMIT_CHECKS,
};
use phone_verify_verifykit::VerifyKitBuilder;

/// The key the guard hashes phones with: a secret the suite proves it never shows.
const GUARD_SECRET: &str = "sandbox-test-secret-0123";

/// The guard, with the default rules (a conformance run, fresh numbers of one region, does not
/// trip them), around VerifyKit on the sandbox; `store` is shared with the fresh clients.
fn guard(sandbox: &SandboxHandle, store: Arc<dyn GuardStore>) -> Guard {
    guard_with(sandbox, store, Timeouts::default())
}

/// How soon the impatient guard gives up on an answer: its provider's overall timeout.
const GIVES_UP_WITHIN: Duration = Duration::from_secs(2);

/// The guard that meets the suite's stalled answers: its provider with a 1 s attempt and a
/// 2 s overall timeout, so each stall check takes a second or two.
fn impatient(sandbox: &SandboxHandle, store: Arc<dyn GuardStore>) -> ImpatientClient {
    let timeouts = Timeouts::default()
        .with_attempt(Duration::from_secs(1))
        .with_overall(GIVES_UP_WITHIN);
    let hasty = Arc::new(guard_with(sandbox, store, timeouts));
    ImpatientClient::new(hasty.clone(), GIVES_UP_WITHIN).with_resolver(hasty)
}

/// [`guard`], its provider with `timeouts`.
fn guard_with(sandbox: &SandboxHandle, store: Arc<dyn GuardStore>, timeouts: Timeouts) -> Guard {
    let inner = Arc::new(
        VerifyKitBuilder::sandbox(&sandbox.base_url())
            .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
            .retry(
                RetryPolicy::default()
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
            )
            .timeouts(timeouts)
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
#[cfg(feature = "redis")]
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
            "input.phone_on_reverse_only_refused[telegram]",
            "input.foreign_handle_refused",
            "input.hostile_handle_refused",
            "handle.no_reserved_extras",
            "input.malformed_session_refused",
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
        .per_channel(REVERSE_RETRY_CHECKS, ["whatsapp", "telegram"])
        .checks(SESSION_FAULT_CHECKS.iter().copied())
        .checks(SESSION_RETRY_CHECKS.iter().copied())
        .per_channel(HOSTILE_CHECK_CHECKS, ["sms", "whatsapp"])
        .per_channel(HOSTILE_SEND_CHECKS, ["sms", "whatsapp"])
        .per_channel(HOSTILE_POLL_CHECKS, ["whatsapp", "telegram"])
        .checks(HOSTILE_SESSION_CHECKS.iter().copied())
        // VerifyKit's documented errors are its own conformance test's: skipped, saying so.
        .skipped("errors.documented_codes_typed");
    assert_eq!(expected.len(), 106);
    run_conformance(SandboxConfig::default(), &expected, |sandbox| async move {
        let guarded = Arc::new(guard(&sandbox, Arc::clone(&store)));
        let hasty = Arc::clone(&store);
        let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, move |s| {
            Arc::new(guard(s, Arc::clone(&store)))
        })
        .with_impatient_client(move |s| impatient(s, Arc::clone(&hasty)))
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
