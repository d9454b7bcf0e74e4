//! What a start answers when routes fail, over in-memory providers and stubs: which errors move
//! on to the next route (rate limits only with the opt-in, and never a guard's denial), and the
//! error returned when no route completed the start (its kind, attempts and metadata).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use phone_verify_core::http::{Clock, Sleep};
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Error, ErrorKind, PhoneNumber,
    PhoneVerifier, ProviderId, Result, StartRequest, Verification,
};
use phone_verify_router::{
    AttemptOutcome, BreakerConfig, CircuitState, EXTRA_ROUTE, Route, Router, RouterBuilder,
    routing_failure,
};
use phone_verify_testkit::Answering;
use phone_verify_testkit::memory::InMemoryVerifier;

fn phone() -> PhoneNumber {
    "+50762647737".parse().unwrap()
}

fn sms() -> StartRequest {
    StartRequest::sms(phone())
}

/// A verifier whose every start fails with the error `fail` makes (no request is made).
#[derive(Debug)]
struct Failing {
    fail: fn() -> Error,
}

#[async_trait::async_trait]
impl PhoneVerifier for Failing {
    fn provider(&self) -> ProviderId {
        ProviderId::new_static("twilio")
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_otp_channel(Channel::Sms)
    }

    async fn start(&self, _: &StartRequest) -> Result<Verification> {
        Err((self.fail)())
    }

    async fn check(&self, _: &Verification, _: &CheckRequest) -> Result<CheckOutcome> {
        Err(Error::unsupported("the stub checks nothing"))
    }
}

/// Twilio's 20429 "Too Many Requests", as its client reads it.
fn twilio_throttled() -> Error {
    Error::new(ErrorKind::RateLimited, "Too Many Requests")
        .with_provider(ProviderId::new_static("twilio"))
        .with_provider_code("20429")
        .with_provider_message("Too Many Requests")
        .with_http_status(429)
        .with_request_id("r1")
        .with_retry_after(Duration::from_secs(7))
}

/// The same metadata on a `503`.
fn twilio_unavailable() -> Error {
    twilio_throttled()
        .with_kind(ErrorKind::ProviderUnavailable)
        .with_http_status(503)
}

/// A guard's denial as `phone_verify_guard` makes it: `RateLimited` with the rule's retry
/// delay, made before any request, so without provider, HTTP status or request id.
fn guard_denial() -> Error {
    Error::new(
        ErrorKind::RateLimited,
        "guard rule resend_cooldown: too many sends",
    )
    .with_retry_after(Duration::from_secs(60))
}

/// A route over an in-memory provider whose next send is refused with `429 too_many_sends`
/// (a limit on the number: nothing is sent).
fn limited_route(name: &str) -> (Route, InMemoryVerifier) {
    let verifier = InMemoryVerifier::new();
    verifier.state().answer_next_with_error(
        Answering::Send,
        429,
        vec![("X-Request-Id".into(), "req_limit".into())],
        r#"{"error":{"code":"too_many_sends","message":"Too many codes sent to this number."}}"#,
        1,
    );
    (Route::new(name, Arc::new(verifier.clone_fresh())), verifier)
}

fn memory_route(name: &str) -> (Route, InMemoryVerifier) {
    let verifier = InMemoryVerifier::new();
    (Route::new(name, Arc::new(verifier.clone_fresh())), verifier)
}

/// A provider's per-number limit is the answer: returned as it is, with its metadata, and the
/// next route sends nothing (it would multiply the limit by the routes).
#[tokio::test]
async fn a_rate_limit_is_returned_not_failed_over_by_default() {
    let (a, _) = limited_route("a");
    let (b, b_state) = memory_route("b");
    let router = Router::builder().route(a).route(b).build().unwrap();
    let err = router.start(&sms()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert_eq!(err.provider_code(), Some("too_many_sends"));
    assert_eq!(err.http_status(), Some(429));
    assert!(routing_failure(&err).is_none(), "the route's own error");
    assert_eq!(b_state.state().request_counts().total, 0, "b was not asked");
    assert!(b_state.state().outbox().is_empty());
}

/// With `fail_over_on_rate_limit`, a provider's rate limit moves on and the next route sends.
#[tokio::test]
async fn a_providers_rate_limit_fails_over_with_the_opt_in() {
    let (a, _) = limited_route("a");
    let (b, b_state) = memory_route("b");
    let router = Router::builder()
        .route(a)
        .route(b)
        .fail_over_on_rate_limit(true)
        .build()
        .unwrap();
    let handle = router.start(&sms()).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("b"));
    assert_eq!(b_state.state().outbox().len(), 1);
}

/// A guard's denial in front of one route is never failed over, opt-in or not: the next
/// route would send around the guard.
#[tokio::test]
async fn a_guards_denial_is_never_failed_over() {
    for opt_in in [false, true] {
        let (b, b_state) = memory_route("b");
        let router = Router::builder()
            .route(Route::new("a", Arc::new(Failing { fail: guard_denial })))
            .route(b)
            .fail_over_on_rate_limit(opt_in)
            .build()
            .unwrap();
        let err = router.start(&sms()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
        assert!(err.message().starts_with("guard rule"), "{err}");
        assert_eq!(b_state.state().request_counts().total, 0, "opt-in {opt_in}");
    }
}

/// The error of a start no route completed keeps what the decisive route's error carries:
/// provider, its code and message, HTTP status, request id and retry delay.
#[tokio::test]
async fn the_error_of_a_start_no_route_completed_keeps_the_routes_metadata() {
    // The rate limit with the opt-in (else it is returned as it is), and an outage.
    let cases: [(fn() -> Error, bool); 2] = [(twilio_throttled, true), (twilio_unavailable, false)];
    for (fail, opt_in) in cases {
        let kind = fail().kind();
        let router = Router::builder()
            .route(Route::new("a", Arc::new(Failing { fail })))
            .fail_over_on_rate_limit(opt_in)
            .build()
            .unwrap();
        let err = router.start(&sms()).await.unwrap_err();
        assert!(routing_failure(&err).is_some(), "every route failed: {err}");
        assert_eq!(err.kind(), kind);
        assert_eq!(err.provider().map(ProviderId::as_str), Some("twilio"));
        assert_eq!(err.provider_code(), Some("20429"));
        assert_eq!(err.provider_message(), Some("Too Many Requests"));
        assert_eq!(err.request_id(), Some("r1"));
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert!(err.http_status().is_some());
    }
}

/// A clock the test moves.
#[derive(Debug)]
struct TestClock(Mutex<SystemTime>);

impl TestClock {
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        self.advance(duration);
        Box::pin(std::future::ready(()))
    }
}

fn breaker_router(routes: [Route; 2], clock: Arc<TestClock>) -> RouterBuilder {
    let [a, b] = routes;
    Router::builder()
        .route(a)
        .route(b)
        .breaker(
            BreakerConfig::default()
                .consecutive_failures(1)
                .cooldown(Duration::from_secs(60)),
        )
        .clock(clock)
}

/// When every route was skipped (open circuits), the retry delay is the shortest cooldown
/// left: `a` opened 15 s ago, `b` 5 s ago, each for 60 s.
#[tokio::test]
async fn when_every_route_is_skipped_the_retry_delay_is_the_shortest_cooldown_left() {
    let clock = Arc::new(TestClock(Mutex::new(SystemTime::UNIX_EPOCH)));
    let (a, a_state) = memory_route("a");
    let (b, b_state) = memory_route("b");
    let router = breaker_router([a, b], clock.clone()).build().unwrap();
    a_state
        .state()
        .fail_next_send(ErrorKind::ProviderUnavailable);
    assert_eq!(
        router.start(&sms()).await.unwrap().extra_str(EXTRA_ROUTE),
        Some("b")
    );
    clock.advance(Duration::from_secs(10));
    b_state
        .state()
        .fail_next_send(ErrorKind::ProviderUnavailable);
    router.start(&sms()).await.unwrap_err();
    clock.advance(Duration::from_secs(5));
    let err = router.start(&sms()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable, "{err}");
    let outcomes: Vec<_> = routing_failure(&err)
        .unwrap()
        .attempts
        .iter()
        .map(|a| a.outcome.clone())
        .collect();
    assert_eq!(outcomes, [AttemptOutcome::Skipped, AttemptOutcome::Skipped]);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(45)));
}

/// With `allow_second_message`, a route that may have sent is not hidden by a later route's
/// refusal: the answer is `MaybeSent`, listing both attempts (the app must not say "blocked"
/// while the first code arrives).
#[tokio::test]
async fn a_later_refusal_does_not_hide_a_route_that_may_have_sent() {
    let (a, a_state) = memory_route("a");
    a_state.state().fail_next_send(ErrorKind::MaybeSent);
    let (b, b_state) = memory_route("b");
    b_state.state().answer_next_with_error(
        Answering::Send,
        403,
        vec![],
        r#"{"error":{"code":"number_blocked","message":"The phone number is blocked."}}"#,
        1,
    );
    let router = Router::builder()
        .route(a)
        .route(b)
        .allow_second_message(true)
        .build()
        .unwrap();
    let err = router.start(&sms()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    let attempts: Vec<_> = routing_failure(&err)
        .expect("the attempts")
        .attempts
        .iter()
        .map(|a| (a.route.clone(), a.outcome.clone()))
        .collect();
    assert_eq!(
        attempts,
        [
            ("a".to_owned(), AttemptOutcome::Failed(ErrorKind::MaybeSent)),
            ("b".to_owned(), AttemptOutcome::Failed(ErrorKind::Blocked)),
        ]
    );
    assert_eq!(a_state.state().outbox().len(), 1, "a's code is on its way");
    assert!(b_state.state().outbox().is_empty());
}

/// A verifier whose starts never end: a provider that black-holes requests, behind a caller
/// that gives up first.
#[derive(Debug)]
struct BlackHole;

#[async_trait::async_trait]
impl PhoneVerifier for BlackHole {
    fn provider(&self) -> ProviderId {
        ProviderId::new_static("twilio")
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_otp_channel(Channel::Sms)
    }

    async fn start(&self, _: &StartRequest) -> Result<Verification> {
        std::future::pending().await
    }

    async fn check(&self, _: &Verification, _: &CheckRequest) -> Result<CheckOutcome> {
        std::future::pending().await
    }
}

/// Starts its caller drops once they ran for `abandoned_after` are failures of their route:
/// a route that black-holes starts behind an application's shorter deadline opens its circuit,
/// and the next starts go to the healthy route.
#[tokio::test]
async fn starts_dropped_by_their_caller_open_a_black_holed_route() {
    let (b, b_state) = memory_route("b");
    let router = Router::builder()
        .route(Route::new("a", Arc::new(BlackHole)))
        .route(b)
        .breaker(
            BreakerConfig::default()
                .consecutive_failures(2)
                .abandoned_after(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(tokio::time::timeout(Duration::from_millis(50), router.start(&sms())).await);
    }
    assert!(answers[0].is_err() && answers[1].is_err(), "a held both");
    let third = answers.pop().unwrap().expect("b answered").unwrap();
    assert_eq!(third.extra_str(EXTRA_ROUTE), Some("b"));
    let a = &router.health()[0];
    assert_eq!(a.state, CircuitState::Open);
    assert_eq!((a.consecutive_failures, a.calls), (2, 2));
    let last = a.recent_errors.last().expect("the dropped starts' errors");
    assert_eq!(last.kind, ErrorKind::Timeout);
    assert!(
        last.message.contains("start dropped by its caller after"),
        "{}",
        last.message
    );
    let next = router.start(&sms()).await.unwrap();
    assert_eq!(next.extra_str(EXTRA_ROUTE), Some("b"), "a is skipped");
    assert_eq!(b_state.state().outbox().len(), 2);
}

/// A start dropped before `abandoned_after`, or with `abandoned_after` zero (off), counts as
/// nothing: the route stays closed, with no failure, call or error recorded.
#[tokio::test]
async fn a_start_dropped_sooner_or_with_the_setting_off_counts_as_nothing() {
    for after in [Duration::from_secs(3600), Duration::ZERO] {
        let (b, _) = memory_route("b");
        let router = Router::builder()
            .route(Route::new("a", Arc::new(BlackHole)))
            .route(b)
            .breaker(
                BreakerConfig::default()
                    .consecutive_failures(1)
                    .abandoned_after(after),
            )
            .build()
            .unwrap();
        let dropped = tokio::time::timeout(Duration::from_millis(50), router.start(&sms())).await;
        assert!(dropped.is_err(), "a held it");
        let a = &router.health()[0];
        assert_eq!(a.state, CircuitState::Closed, "{after:?}");
        assert_eq!((a.consecutive_failures, a.calls), (0, 0), "{after:?}");
        assert!(a.recent_errors.is_empty(), "{after:?}");
    }
}
