//! Failover against the sandbox, checked against its outbox and request log: who sent, how
//! many messages went out, and where the check went.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use phone_verify_core::http::{Clock, ConfigureHttp, RetryPolicy, Sleep, Timeouts};
use phone_verify_core::{
    CheckRequest, Code, ErrorKind, PhoneNumber, PhoneVerifier, PhoneVerifierExt, SessionResolver,
    StartRequest, Verification,
};
use phone_verify_router::{
    AttemptOutcome, BreakerConfig, CircuitState, EXTRA_ROUTE, Route, Router, RouterConfig,
    routing_failure,
};
use phone_verify_sandbox::{Fault, FaultAction, Provider, Sandbox, SandboxConfig, SandboxHandle};
use phone_verify_verifik::{Verifik, VerifikBuilder};
use phone_verify_verifykit::{VerifyKit, VerifyKitBuilder};

const VK_SEND: &str = "POST /v1.0/send-otp";
const VF_SEND: &str = "POST /v2/phone-validations/manual";
const VF_CHECK: &str = "PUT /v2/phone-validations";

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

fn verifykit_at(base: &str, attempt: Duration) -> VerifyKit {
    VerifyKitBuilder::sandbox(base)
        .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
        .timeouts(Timeouts::default().with_attempt(attempt))
        .retry(fast_retry())
        .build()
        .unwrap()
}

fn verifykit(sb: &SandboxHandle) -> VerifyKit {
    verifykit_at(&sb.base_url(), Duration::from_secs(10))
}

fn verifik(sb: &SandboxHandle) -> Verifik {
    VerifikBuilder::sandbox(&sb.base_url())
        .retry(fast_retry())
        .build()
        .unwrap()
}

/// A base URL on loopback where nothing listens: connections are refused.
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Routes `a` (VerifyKit, built by `a`) then `b` (Verifik), ordered failover.
fn router_with(
    sb: &SandboxHandle,
    a: VerifyKit,
    configure: impl FnOnce(RouterConfig) -> RouterConfig,
) -> Router {
    Router::builder()
        .route(Route::new("a", Arc::new(a)))
        .route(Route::new("b", Arc::new(verifik(sb))).with_resolver(Arc::new(verifik(sb))))
        .config(configure(RouterConfig::default()))
        .build()
        .unwrap()
}

fn count(sb: &SandboxHandle, provider: Provider, key: &str) -> usize {
    sb.requests_of(provider)
        .counts
        .get(key)
        .copied()
        .unwrap_or(0)
}

fn messages_of(sb: &SandboxHandle, provider: Provider) -> usize {
    sb.all_messages()
        .iter()
        .filter(|m| m.provider == provider)
        .count()
}

fn code_of(sb: &SandboxHandle, phone: &PhoneNumber) -> Code {
    Code::new(&sb.latest_code(phone.e164()).expect("a code was sent")).unwrap()
}

async fn sandbox() -> SandboxHandle {
    Sandbox::start(SandboxConfig::default()).await.unwrap()
}

fn phone(n: u32) -> PhoneNumber {
    format!("+90532{n:07}").parse().unwrap()
}

/// B sent the only message, A got one send that sent nothing, and the check of the handle goes
/// to B (in this router and in a fresh one given the handle's JSON).
async fn assert_b_took_over(sb: &SandboxHandle, handle: &Verification, to: &PhoneNumber) {
    assert_eq!(handle.provider.as_str(), "verifik");
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("b"));
    assert_eq!(
        sb.messages(to.e164()).len(),
        1,
        "exactly one message delivered"
    );
    assert_eq!(messages_of(sb, Provider::VerifyKit), 0);
    assert_eq!(count(sb, Provider::Verifik, VF_SEND), 1);
    let code = code_of(sb, to);
    // After a "restart": the handle's JSON into a new router with fresh clients.
    let restarted = router_with(sb, verifykit(sb), |c| c);
    let parsed = Verification::from_json(&handle.to_json().unwrap()).unwrap();
    let outcome = restarted.check_code(&parsed, &code).await.unwrap();
    assert!(outcome.is_verified(), "{outcome:?}");
    assert_eq!(
        count(sb, Provider::Verifik, VF_CHECK),
        1,
        "the check went to B"
    );
    assert!(
        sb.requests_of(Provider::VerifyKit)
            .requests
            .iter()
            .all(|r| r.path == "/v1.0/send-otp"),
        "nothing but the failed send reached A"
    );
}

#[tokio::test]
async fn out_of_balance_fails_over_to_b() {
    let sb = sandbox().await;
    sb.set_balance(Provider::VerifyKit, Some(0));
    let router = router_with(&sb, verifykit(&sb), |c| c);
    let to = phone(1);
    let handle = router.start(&StartRequest::sms(to.clone())).await.unwrap();
    assert_eq!(count(&sb, Provider::VerifyKit, VK_SEND), 1);
    assert_b_took_over(&sb, &handle, &to).await;
    let health = router.health();
    assert_eq!(health[0].recent_errors[0].kind, ErrorKind::QuotaExhausted);
}

/// A 503 with `Retry-After`: VerifyKit refused the send before processing it.
fn refused_before_processing() -> FaultAction {
    FaultAction::ServiceUnavailable {
        retry_after_secs: 1,
    }
}

#[tokio::test]
async fn unavailable_fails_over_to_b() {
    let sb = sandbox().await;
    sb.inject_fault(
        Fault::new(Provider::VerifyKit, refused_before_processing()).path("/v1.0/send-otp"),
    );
    let router = router_with(&sb, verifykit(&sb), |c| c);
    let to = phone(2);
    let handle = router.start(&StartRequest::sms(to.clone())).await.unwrap();
    assert_eq!(
        count(&sb, Provider::VerifyKit, VK_SEND),
        1,
        "a send is never retried"
    );
    assert_b_took_over(&sb, &handle, &to).await;
}

/// A 503 without `Retry-After` may come from a proxy that forwarded the send: A may have
/// sent, so B is not asked for a second message.
#[tokio::test]
async fn a_plain_503_does_not_fail_over() {
    let sb = sandbox().await;
    sb.inject_fault(
        Fault::new(
            Provider::VerifyKit,
            FaultAction::Status {
                status: 503,
                body: None,
            },
        )
        .path("/v1.0/send-otp"),
    );
    let router = router_with(&sb, verifykit(&sb), |c| c);
    let err = router
        .start(&StartRequest::sms(phone(9)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(count(&sb, Provider::VerifyKit, VK_SEND), 1);
    assert_eq!(count(&sb, Provider::Verifik, VF_SEND), 0, "no second send");
}

#[tokio::test]
async fn connection_refused_fails_over_to_b() {
    let sb = sandbox().await;
    let router = router_with(
        &sb,
        verifykit_at(&refused_url(), Duration::from_secs(10)),
        |c| c,
    );
    let to = phone(3);
    let handle = router.start(&StartRequest::sms(to.clone())).await.unwrap();
    assert_eq!(count(&sb, Provider::VerifyKit, VK_SEND), 0);
    assert_b_took_over(&sb, &handle, &to).await;
    assert_eq!(
        router.health()[0].recent_errors[0].kind,
        ErrorKind::Transport
    );
}

/// A's answer is held back past the client's timeout, while A sends: `MaybeSent`.
fn slow_a(sb: &SandboxHandle) -> VerifyKit {
    sb.inject_fault(
        Fault::new(Provider::VerifyKit, FaultAction::Delay { ms: 1500 }).path("/v1.0/send-otp"),
    );
    verifykit_at(&sb.base_url(), Duration::from_millis(300))
}

#[tokio::test]
async fn maybe_sent_does_not_fail_over_by_default() {
    let sb = sandbox().await;
    let router = router_with(&sb, slow_a(&sb), |c| c);
    let to = phone(4);
    let err = router
        .start(&StartRequest::sms(to.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    tokio::time::sleep(Duration::from_millis(1600)).await; // let A's delayed answer finish
    assert_eq!(count(&sb, Provider::Verifik, VF_SEND), 0, "no second send");
    assert_eq!(sb.messages(to.e164()).len(), 1, "A's message only");
}

#[tokio::test]
async fn maybe_sent_fails_over_once_with_the_opt_in() {
    let sb = sandbox().await;
    let router = router_with(&sb, slow_a(&sb), |mut c| {
        c.allow_second_message = true;
        c
    });
    let to = phone(5);
    let handle = router.start(&StartRequest::sms(to.clone())).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("b"));
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(
        count(&sb, Provider::Verifik, VF_SEND),
        1,
        "exactly one second send"
    );
    assert_eq!(messages_of(&sb, Provider::Verifik), 1);
    assert_eq!(
        sb.messages(to.e164()).len(),
        2,
        "A's possible message, and B's"
    );
}

#[tokio::test]
async fn refused_input_does_not_fail_over() {
    let sb = sandbox().await;
    // Without the end user's IP, VerifyKit refuses before anything is sent.
    let a = VerifyKitBuilder::sandbox(&sb.base_url()).build().unwrap();
    let router = router_with(&sb, a, |c| c);
    let err = router
        .start(&StartRequest::sms(phone(6)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(
        sb.requests().counts.values().sum::<usize>(),
        0,
        "no request anywhere"
    );
}

#[tokio::test]
async fn when_every_route_fails_the_error_lists_each() {
    let sb = sandbox().await;
    sb.set_balance(Provider::Verifik, Some(0));
    let router = router_with(
        &sb,
        verifykit_at(&refused_url(), Duration::from_secs(10)),
        |c| c,
    );
    let err = router
        .start(&StartRequest::sms(phone(7)))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::QuotaExhausted,
        "the last route's kind: {err}"
    );
    let failure = routing_failure(&err).expect("the attempts");
    let kinds: Vec<_> = failure
        .attempts
        .iter()
        .map(|a| (a.route.as_str(), a.outcome.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("a", AttemptOutcome::Failed(ErrorKind::Transport)),
            ("b", AttemptOutcome::Failed(ErrorKind::QuotaExhausted)),
        ]
    );
    assert!(sb.all_messages().is_empty());
}

#[tokio::test]
async fn handles_name_their_route_and_stay_readable_by_the_provider() {
    let sb = sandbox().await;
    let router = router_with(&sb, verifykit(&sb), |c| c);
    let to = phone(8);
    let handle = router.start(&StartRequest::sms(to.clone())).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("a"));
    assert_eq!(handle.provider.as_str(), "verifykit");
    // The provider crate alone checks the router's handle.
    let code = code_of(&sb, &to);
    let alone = verifykit(&sb);
    assert!(
        alone
            .check_code(&handle, &code)
            .await
            .unwrap()
            .is_verified()
    );

    let check = CheckRequest::code(code);
    let mut unknown = handle.clone();
    unknown.extras.insert(EXTRA_ROUTE, "gone");
    let mut foreign = handle.clone();
    foreign.extras.insert(EXTRA_ROUTE, "b");
    let before = sb.requests().counts.values().sum::<usize>();
    for bad in [unknown, foreign] {
        let err = router.check(&bad, &check).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(
        sb.requests().counts.values().sum::<usize>(),
        before,
        "refused before any request"
    );
    // A handle that names no route goes to the one route of its provider.
    let mut unnamed = handle.clone();
    unnamed.extras.remove(EXTRA_ROUTE);
    assert_eq!(router.route_of(&unnamed).unwrap().name(), "a");
}

/// A clock the test moves.
#[derive(Debug)]
struct TestClock(Mutex<SystemTime>);

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        *self.0.lock().unwrap() += duration;
        Box::pin(std::future::ready(()))
    }
}

/// Routes `a` (VerifyKit) then `b` (Verifik) on the test's clock, `a`'s circuit opening after
/// `failures` in a row (60 s cooldown), and `a`'s next `failures` sends answered with 503 and
/// `Retry-After` (refused before processing: the start fails over).
async fn breaker_router(failures: u32) -> (SandboxHandle, Arc<TestClock>, Router) {
    let sb = sandbox().await;
    sb.inject_fault(
        Fault::new(Provider::VerifyKit, refused_before_processing())
            .path("/v1.0/send-otp")
            .times(failures),
    );
    let clock = Arc::new(TestClock(Mutex::new(SystemTime::UNIX_EPOCH)));
    let router = Router::builder()
        .route(Route::new("a", Arc::new(verifykit(&sb))))
        .route(Route::new("b", Arc::new(verifik(&sb))))
        .breaker(
            BreakerConfig::default()
                .consecutive_failures(failures)
                .cooldown(Duration::from_secs(60)),
        )
        .clock(clock.clone())
        .build()
        .unwrap();
    (sb, clock, router)
}

#[tokio::test]
async fn circuit_opens_after_failures_and_closes_after_a_probe() {
    let (sb, clock, router) = breaker_router(2).await;
    for n in 10..12 {
        let handle = router.start(&StartRequest::sms(phone(n))).await.unwrap();
        assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("b"));
    }
    assert_eq!(router.health()[0].state, CircuitState::Open);
    // Open: A is skipped, not tried.
    let handle = router.start(&StartRequest::sms(phone(12))).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("b"));
    assert_eq!(count(&sb, Provider::VerifyKit, VK_SEND), 2);
    // After the cooldown, one probe goes to A (healthy again) and closes the circuit.
    *clock.0.lock().unwrap() += Duration::from_secs(60);
    let handle = router.start(&StartRequest::sms(phone(13))).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("a"));
    assert_eq!(count(&sb, Provider::VerifyKit, VK_SEND), 3);
    let health = router.health();
    assert_eq!(health[0].state, CircuitState::Closed);
    assert_eq!(health[0].recent_errors.len(), 2);
    assert!(health[0].latency_p50.is_some());
    assert_eq!(count(&sb, Provider::Verifik, VF_SEND), 3);
}

#[tokio::test]
async fn resolve_moves_on_to_the_route_that_knows_the_session() {
    let sb = sandbox().await;
    let router = Router::builder()
        .route(Route::new("a", Arc::new(verifykit(&sb))).with_resolver(Arc::new(verifykit(&sb))))
        .route(Route::new("b", Arc::new(verifik(&sb))).with_resolver(Arc::new(verifik(&sb))))
        .rule(phone_verify_router::Rule::to(["b", "a"]))
        .build()
        .unwrap();
    let to = phone(20);
    // Verified at B (the first route of the rule)...
    let handle = router.start(&StartRequest::sms(to.clone())).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("b"));
    let verified = router
        .check_code(&handle, &code_of(&sb, &to))
        .await
        .unwrap();
    let session = verified
        .verified()
        .unwrap()
        .session_id
        .clone()
        .expect("a session id");
    let found = router
        .resolve(&session, &phone_verify_core::RequestContext::default())
        .await
        .unwrap();
    assert_eq!(found.phone, to);
    assert_eq!(found.provider.as_str(), "verifik");
    // ...and a session nobody knows is NotFound.
    let unknown = phone_verify_core::SessionId::new("507f1f77bcf86cd799439099").unwrap();
    let err = router
        .resolve(&unknown, &phone_verify_core::RequestContext::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

/// A probe whose start the caller drops (a timeout, a closed request) does not leave the
/// route's circuit waiting for it forever: the next start probes the route again.
#[tokio::test]
async fn a_dropped_probe_lets_the_next_start_probe() {
    let (sb, clock, router) = breaker_router(1).await;
    let handle = router.start(&StartRequest::sms(phone(20))).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("b"));
    assert_eq!(router.health()[0].state, CircuitState::Open);
    *clock.0.lock().unwrap() += Duration::from_secs(60);
    sb.inject_fault(
        Fault::new(Provider::VerifyKit, FaultAction::Delay { ms: 5_000 })
            .path("/v1.0/send-otp")
            .times(1),
    );
    let dropped = tokio::time::timeout(
        Duration::from_millis(300),
        router.start(&StartRequest::sms(phone(21))),
    )
    .await;
    assert!(dropped.is_err(), "the probe was held, and dropped");
    assert_eq!(router.health()[0].state, CircuitState::HalfOpen);
    let handle = router.start(&StartRequest::sms(phone(22))).await.unwrap();
    assert_eq!(
        handle.extra_str(EXTRA_ROUTE),
        Some("a"),
        "the next start is the probe"
    );
    assert_eq!(router.health()[0].state, CircuitState::Closed);
}
