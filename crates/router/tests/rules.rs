//! Rules and strategies over in-memory providers: which route takes each start.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Error, ErrorKind, PhoneNumber,
    PhoneVerifier, ProviderId, Result, StartRequest, Verification,
};
use phone_verify_router::{
    BreakerConfig, EXTRA_ROUTE, Route, Router, RouterConfig, Rule, Strategy,
};
use phone_verify_testkit::memory::InMemoryVerifier;
use phone_verify_verifik::VerifikBuilder;

fn phone(text: &str) -> PhoneNumber {
    text.parse().unwrap()
}

fn memory_routes(names: &[&str]) -> (Vec<Route>, Vec<InMemoryVerifier>) {
    let verifiers: Vec<_> = names.iter().map(|_| InMemoryVerifier::new()).collect();
    let routes = names
        .iter()
        .zip(&verifiers)
        .map(|(n, v)| Route::new(*n, Arc::new(v.clone_fresh())))
        .collect();
    (routes, verifiers)
}

fn router(names: &[&str], config: RouterConfig) -> (Router, Vec<InMemoryVerifier>) {
    let (routes, verifiers) = memory_routes(names);
    let mut builder = Router::builder().config(config);
    for route in routes {
        builder = builder.route(route);
    }
    (builder.build().unwrap(), verifiers)
}

async fn route_of(router: &Router, request: &StartRequest) -> String {
    let handle = router.start(request).await.unwrap();
    handle.extra_str(EXTRA_ROUTE).unwrap().to_owned()
}

fn config(rules: Vec<Rule>) -> RouterConfig {
    let mut config = RouterConfig::default();
    config.rules = rules;
    config
}

#[tokio::test]
async fn weighted_split_follows_the_weights_exactly() {
    let rule = Rule::to(["a", "b"])
        .strategy(Strategy::Weighted)
        .weights([70, 30]);
    let (router, verifiers) = router(&["a", "b"], config(vec![rule]));
    let mut to_a = 0;
    for n in 0..100 {
        let request = StartRequest::sms(phone(&format!("+50762{n:06}")));
        if route_of(&router, &request).await == "a" {
            to_a += 1;
        }
    }
    assert_eq!(to_a, 70);
    assert_eq!(verifiers[0].state().outbox().len(), 70);
    assert_eq!(verifiers[1].state().outbox().len(), 30);
}

/// Smooth weighted round-robin: with equal weights the routes alternate, the first listed
/// first (a tie goes to the earlier route).
#[tokio::test]
async fn equal_weights_alternate_from_the_first_route() {
    let rule = Rule::to(["a", "b"])
        .strategy(Strategy::Weighted)
        .weights([1, 1]);
    let (router, _) = router(&["a", "b"], config(vec![rule]));
    let mut seen = Vec::new();
    for n in 0..4 {
        let request = StartRequest::sms(phone(&format!("+50762{n:06}")));
        seen.push(route_of(&router, &request).await);
    }
    assert_eq!(seen, ["a", "b", "a", "b"]);
}

/// A verifier that can send SMS only, over an in-memory provider.
#[derive(Debug)]
struct SmsOnly(InMemoryVerifier);

#[async_trait::async_trait]
impl PhoneVerifier for SmsOnly {
    fn provider(&self) -> phone_verify_core::ProviderId {
        self.0.provider()
    }

    fn capabilities(&self) -> phone_verify_core::Capabilities {
        phone_verify_core::Capabilities::new().with_otp_channel(Channel::Sms)
    }

    async fn start(&self, request: &StartRequest) -> phone_verify_core::Result<Verification> {
        request.validate(&self.capabilities())?;
        self.0.start(request).await
    }

    async fn check(
        &self,
        verification: &Verification,
        request: &phone_verify_core::CheckRequest,
    ) -> phone_verify_core::Result<phone_verify_core::CheckOutcome> {
        self.0.check(verification, request).await
    }
}

/// Splits and turns are kept per set of routes that can take the start: with `a` (SMS only)
/// and `b` (SMS and WhatsApp), SMS starts alternate between them although WhatsApp starts,
/// which only `b` takes, come between them.
#[tokio::test]
async fn splits_hold_for_each_set_of_routes_that_can_take_the_start() {
    for strategy in [Strategy::Weighted, Strategy::RoundRobin] {
        let mut rule = Rule::to(["a", "b"]).strategy(strategy);
        if strategy == Strategy::Weighted {
            rule = rule.weights([1, 1]);
        }
        let router = Router::builder()
            .route(Route::new("a", Arc::new(SmsOnly(InMemoryVerifier::new()))))
            .route(Route::new("b", Arc::new(InMemoryVerifier::new())))
            .rule(rule)
            .build()
            .unwrap();
        let (mut sms, mut whatsapp) = (Vec::new(), Vec::new());
        for n in 0..4 {
            let to = phone(&format!("+50762{n:06}"));
            sms.push(route_of(&router, &StartRequest::sms(to.clone())).await);
            whatsapp.push(route_of(&router, &StartRequest::otp(Channel::WhatsApp, to)).await);
        }
        assert_eq!(sms, ["a", "b", "a", "b"], "{strategy:?}");
        assert_eq!(whatsapp, ["b"; 4], "{strategy:?}");
    }
}

#[tokio::test]
async fn round_robin_takes_turns() {
    let rule = Rule::to(["a", "b", "c"]).strategy(Strategy::RoundRobin);
    let (router, _) = router(&["a", "b", "c"], config(vec![rule]));
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(route_of(&router, &StartRequest::sms(phone("+50762647737"))).await);
    }
    assert_eq!(seen, ["a", "b", "c", "a", "b", "c"]);
}

#[tokio::test]
async fn failover_strategies_move_on_to_the_others() {
    let rule = Rule::to(["a", "b"]).strategy(Strategy::RoundRobin);
    let (router, verifiers) = router(&["a", "b"], config(vec![rule]));
    verifiers[0]
        .state()
        .fail_next_send(ErrorKind::QuotaExhausted);
    let request = StartRequest::sms(phone("+50762647737"));
    assert_eq!(route_of(&router, &request).await, "b", "a failed over to b");
    verifiers[0].state().fail_next_send(ErrorKind::Blocked);
    // b's turn first now, then a (and a blocked number is never tried elsewhere).
    assert_eq!(route_of(&router, &request).await, "b");
    let err = router.start(&request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Blocked);
    assert_eq!(verifiers[1].state().outbox().len(), 2);
}

#[tokio::test]
async fn rules_route_by_region_calling_code_channel_and_language() {
    let toml = r#"
        [[rules]]
        regions = ["TR"]
        routes = ["verifykit"]

        [[rules]]
        calling_codes = [57]
        routes = ["verifik"]

        [[rules]]
        channels = ["voice"]
        languages = ["es"]
        routes = ["verifik", "rest"]

        [[rules]]
        routes = ["rest"]
    "#;
    let config: RouterConfig = toml::from_str(toml).unwrap();
    let (router, _) = router(&["verifykit", "verifik", "rest"], config);
    let start = |p: &str| StartRequest::sms(phone(p));
    assert_eq!(
        route_of(&router, &start("+905321234567")).await,
        "verifykit"
    );
    assert_eq!(route_of(&router, &start("+573001234567")).await, "verifik");
    assert_eq!(route_of(&router, &start("+50762647737")).await, "rest");
    let voice =
        StartRequest::otp(Channel::Voice, phone("+50762647737")).language("es".parse().unwrap());
    assert_eq!(route_of(&router, &voice).await, "verifik");
}

#[tokio::test]
async fn never_offers_a_route_a_channel_it_cannot_do() {
    // Verifik sends no voice codes: its route is passed over without a request (its URL
    // refuses connections, so a request would fail the start).
    let verifik = VerifikBuilder::sandbox("http://127.0.0.1:9")
        .build()
        .unwrap();
    let memory = InMemoryVerifier::new();
    let router = Router::builder()
        .route(Route::new("verifik", Arc::new(verifik)))
        .route(Route::new("memory", Arc::new(memory.clone_fresh())))
        .build()
        .unwrap();
    let voice = StartRequest::otp(Channel::Voice, phone("+50762647737"));
    assert_eq!(route_of(&router, &voice).await, "memory");
    assert_eq!(
        router.health()[0].calls,
        0,
        "verifik was not offered the start"
    );
    let caps = router.capabilities();
    assert!(caps.is_otp(&Channel::Voice) && caps.is_otp(&Channel::Sms));
    assert_eq!(router.provider().as_str(), "router");
}

#[tokio::test]
async fn a_start_no_rule_takes_is_refused_before_any_request() {
    let (router, verifiers) = router(&["a"], config(vec![Rule::to(["a"]).regions(["TR"])]));
    let err = router
        .start(&StartRequest::sms(phone("+50762647737")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    let err = router
        .start(&StartRequest::otp(
            Channel::Telegram,
            phone("+905321234567"),
        ))
        .await
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::Unsupported | ErrorKind::InvalidInput
    ));
    assert_eq!(verifiers[0].state().request_counts().total, 0);
    assert_eq!(router.provider().as_str(), "memory");
}

#[test]
fn bad_routes_and_rules_are_refused_at_build() {
    let build = |names: &[&str], rules: Vec<Rule>| {
        let (routes, _) = memory_routes(names);
        let mut builder = Router::builder().config(config(rules));
        for route in routes {
            builder = builder.route(route);
        }
        builder.build().map(|_| ()).unwrap_err()
    };
    for err in [
        build(&[], vec![]),
        build(&["a", "a"], vec![]),
        build(&["A"], vec![]),
        build(&["a"], vec![Rule::to(["b"])]),
        build(&["a"], vec![Rule::to(["a", "a"])]),
        build(
            &["a", "b"],
            vec![Rule::to(["a", "b"]).strategy(Strategy::Weighted)],
        ),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
}

/// A router over several providers (it reports `ROUTER_ID`) is not a route of another router:
/// refused when the outer one is built, naming the route.
#[test]
fn a_nested_router_is_refused_at_build() {
    let (routes, _) = memory_routes(&["a"]);
    let mut inner = Router::builder().provider_id(phone_verify_router::ROUTER_ID);
    for route in routes {
        inner = inner.route(route);
    }
    let inner = Arc::new(inner.build().unwrap());
    let err = Router::builder()
        .route(Route::new("nested", inner))
        .build()
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message()
            .starts_with("route \"nested\": its verifier reports provider router")
            && err.message().contains("not a route of another router"),
        "{err}"
    );
}

/// A breaker window above `BreakerConfig::MAX_WINDOW` is refused when the router is built,
/// naming the setting; the cap itself builds.
#[test]
fn a_breaker_window_above_the_cap_is_refused_at_build() {
    let build = |window: u32| {
        let (routes, _) = memory_routes(&["a"]);
        let mut builder =
            Router::builder().breaker(BreakerConfig::default().error_rate(0.5, window, 1));
        for route in routes {
            builder = builder.route(route);
        }
        builder.build().map(|_| ())
    };
    assert!(build(BreakerConfig::MAX_WINDOW).is_ok());
    let err = build(4_000_000_000).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("breaker window"), "{err}");
}

#[test]
fn checks_return_a_session_only_when_every_route_does() {
    let memory = Arc::new(InMemoryVerifier::new());
    let verifik = Arc::new(
        VerifikBuilder::sandbox("http://127.0.0.1:9")
            .build()
            .unwrap(),
    );
    let verigator = Arc::new(
        phone_verify_verigator::VerigatorBuilder::sandbox("http://127.0.0.1:9")
            .service_id("service")
            .build()
            .unwrap(),
    );
    assert!(memory.capabilities().check_returns_session);
    assert!(!verigator.capabilities().check_returns_session);

    let all_sessions = Router::builder()
        .route(Route::new("memory", memory.clone()))
        .route(Route::new("verifik", verifik))
        .build()
        .unwrap();
    let caps = all_sessions.capabilities();
    assert!(caps.check_returns_session);
    assert!(caps.localized_messages, "Verifik's messages are localized");
    assert!(
        !caps.session_resolution,
        "no route was given a resolver: {caps:?}"
    );

    let mixed = Router::builder()
        .route(Route::new("memory", memory))
        .route(Route::new("verigator", verigator.clone()))
        .build()
        .unwrap();
    let caps = mixed.capabilities();
    assert!(!caps.check_returns_session, "{caps:?}");
    assert!(!caps.localized_messages, "neither route's are");
    // The rest is still the union: TOTP comes from Verigator, voice from the memory provider.
    assert!(caps.supports(&Channel::Totp) && caps.supports(&Channel::Voice));
}

/// A router resolves sessions only through the routes given a resolver, and asks each of
/// them once, in the order of the rules that name them, then the routes' order.
#[tokio::test]
async fn sessions_are_resolved_by_each_route_with_a_resolver_once() {
    use phone_verify_core::{RequestContext, SessionId, SessionResolver};

    let (a, b, c) = (
        InMemoryVerifier::new(),
        InMemoryVerifier::new(),
        InMemoryVerifier::new(),
    );
    let with_resolver = |name: &str, v: &InMemoryVerifier| {
        Route::new(name, Arc::new(v.clone_fresh())).with_resolver(Arc::new(v.clone_fresh()))
    };
    let router = Router::builder()
        .route(with_resolver("a", &a))
        .route(with_resolver("b", &b))
        .route(Route::new("c", Arc::new(c.clone_fresh())))
        .rule(Rule::to(["b", "a"]).regions(["TR"]))
        .build()
        .unwrap();
    assert!(router.capabilities().session_resolution);
    let unknown = SessionId::new(&format!("ses_{}", "0".repeat(32))).unwrap();
    let err = router
        .resolve(&unknown, &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let totals: Vec<u64> = [&a, &b, &c]
        .iter()
        .map(|v| v.state().request_counts().total)
        .collect();
    assert_eq!(totals, [1, 1, 0]);
}

/// A handle that names a route the router does not have, or names none while several routes
/// serve its provider, is refused with `InvalidInput`, its `UnknownRoute` source naming the
/// route.
#[tokio::test]
async fn a_handle_of_an_unknown_route_or_of_no_single_route_is_refused() {
    use phone_verify_router::UnknownRoute;

    let (router, verifiers) = router(&["a", "b"], RouterConfig::default());
    let mut handle = router
        .start(&StartRequest::sms(phone("+50762647737")))
        .await
        .unwrap();
    handle.extras.insert(EXTRA_ROUTE, "zzz".to_owned());
    let err = router.route_of(&handle).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let source = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<UnknownRoute>())
        .expect("an UnknownRoute source");
    assert_eq!(source.route.as_deref(), Some("zzz"));
    assert_eq!(
        source.to_string(),
        "the handle's route \"zzz\" is not one of this router's"
    );
    assert!(err.to_string().contains(&source.to_string()), "{err}");
    handle.extras.remove(EXTRA_ROUTE);
    let err = router.route_of(&handle).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid input: the handle names no route, and not exactly one route of this router \
         serves its provider"
    );
    let code = verifiers[0]
        .state()
        .message_for(&handle.reference)
        .unwrap()
        .code;
    let err = router
        .check(&handle, &phone_verify_core::CheckRequest::code(code))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "two memory routes");
    let checks = |v: &InMemoryVerifier| v.state().request_counts().total;
    assert_eq!((checks(&verifiers[0]), checks(&verifiers[1])), (1, 0));
}

/// A handle started by the provider alone, before the application moved to a router, names
/// no route: its check goes to the one route of its provider.
#[tokio::test]
async fn a_handle_started_without_a_router_is_checked_at_the_route_of_its_provider() {
    use phone_verify_core::PhoneVerifierExt;

    let plain = InMemoryVerifier::new();
    let handle = plain
        .start(&StartRequest::sms(phone("+50762647737")))
        .await
        .unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), None);
    let verifik = VerifikBuilder::sandbox("http://127.0.0.1:9")
        .build()
        .unwrap();
    let router = Router::builder()
        .route(Route::new("verifik", Arc::new(verifik)))
        .route(Route::new("memory", Arc::new(plain.clone_fresh())))
        .build()
        .unwrap();
    assert_eq!(router.route_of(&handle).unwrap().name(), "memory");
    let code = plain.state().message_for(&handle.reference).unwrap().code;
    let outcome = router.check_code(&handle, &code).await.unwrap();
    assert!(outcome.is_verified(), "{outcome:?}");
}

/// A resolver that answers with `kind`'s error, or finds a session (`None`), and counts how
/// often it was asked.
#[derive(Debug)]
struct StubResolver {
    kind: Option<ErrorKind>,
    asked: std::sync::atomic::AtomicUsize,
}

impl StubResolver {
    fn new(kind: Option<ErrorKind>) -> Arc<Self> {
        Arc::new(Self {
            kind,
            asked: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    fn asked(&self) -> usize {
        self.asked.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl phone_verify_core::SessionResolver for StubResolver {
    fn provider(&self) -> phone_verify_core::ProviderId {
        phone_verify_core::ProviderId::new_static("memory")
    }

    async fn resolve(
        &self,
        _: &phone_verify_core::SessionId,
        _: &phone_verify_core::RequestContext,
    ) -> phone_verify_core::Result<phone_verify_core::ResolvedSession> {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match self.kind {
            None => Ok(phone_verify_core::ResolvedSession::new(
                phone("+905321234567"),
                Channel::Sms,
                self.provider(),
            )),
            Some(kind) => Err(phone_verify_core::Error::new(kind, "stub")),
        }
    }
}

/// Resolves through routes `a`, `b`, … answering as `answers` say, in that order.
async fn resolve_through(
    answers: &[Option<ErrorKind>],
) -> (
    phone_verify_core::Result<phone_verify_core::ResolvedSession>,
    Vec<usize>,
) {
    use phone_verify_core::{RequestContext, SessionId, SessionResolver};

    let stubs: Vec<_> = answers.iter().map(|a| StubResolver::new(*a)).collect();
    let mut builder = Router::builder();
    for (n, stub) in stubs.iter().enumerate() {
        let name = ["a", "b", "c"][n];
        let route = Route::new(name, Arc::new(InMemoryVerifier::new()))
            .with_resolver(Arc::clone(stub) as Arc<dyn SessionResolver>);
        builder = builder.route(route);
    }
    let router = builder.build().unwrap();
    let session = SessionId::new("any-session").unwrap();
    let result = router.resolve(&session, &RequestContext::new()).await;
    (result, stubs.iter().map(|s| s.asked()).collect())
}

/// A session not at a route (`NotFound`), not of its shape (`InvalidInput`), or at a route
/// that cannot be asked (an outage, a rate limit) moves the resolution on to the next route;
/// when no route finds it, the first outage or rate limit is the answer (the session may be
/// there), else a `NotFound` wins over an `InvalidInput`, whichever came first. Any other
/// error (an expired session) is the answer at once.
#[tokio::test]
async fn resolution_moves_on_past_routes_without_the_session_or_down() {
    use ErrorKind::{
        Expired, InvalidInput, NotFound, ProviderUnavailable, RateLimited, Timeout, Transport,
    };

    let (found, asked) = resolve_through(&[Some(InvalidInput), Some(NotFound), None]).await;
    assert_eq!(found.unwrap().provider.as_str(), "memory");
    assert_eq!(asked, [1, 1, 1]);

    let (found, asked) = resolve_through(&[Some(ProviderUnavailable), Some(Transport), None]).await;
    assert_eq!(
        found.unwrap().provider.as_str(),
        "memory",
        "found past two outages"
    );
    assert_eq!(asked, [1, 1, 1]);

    for answers in [
        [Some(Timeout), Some(NotFound), Some(Transport)],
        [Some(NotFound), Some(Timeout), Some(InvalidInput)],
    ] {
        let (err, asked) = resolve_through(&answers).await;
        assert_eq!(err.unwrap_err().kind(), Timeout, "{answers:?}");
        assert_eq!(asked, [1, 1, 1]);
    }

    // A rate limit is an outage: the next route is asked, and the limit is the answer when
    // none finds the session.
    let (err, asked) = resolve_through(&[Some(RateLimited), Some(NotFound)]).await;
    assert_eq!(err.unwrap_err().kind(), RateLimited);
    assert_eq!(asked, [1, 1]);
    let (found, asked) = resolve_through(&[Some(RateLimited), None]).await;
    assert_eq!(found.unwrap().provider.as_str(), "memory");
    assert_eq!(asked, [1, 1]);

    let (expired, asked) = resolve_through(&[Some(Expired), None]).await;
    assert_eq!(expired.unwrap_err().kind(), Expired);
    assert_eq!(asked, [1, 0], "the second route is not asked");

    for answers in [
        [Some(NotFound), Some(InvalidInput)],
        [Some(InvalidInput), Some(NotFound)],
    ] {
        let (err, asked) = resolve_through(&answers).await;
        assert_eq!(err.unwrap_err().kind(), NotFound, "{answers:?}");
        assert_eq!(asked, [1, 1]);
    }
    let (err, _) = resolve_through(&[Some(InvalidInput), Some(InvalidInput)]).await;
    assert_eq!(err.unwrap_err().kind(), InvalidInput);
}

/// A router none of whose routes was given a resolver answers `Unsupported`, asking no one.
#[tokio::test]
async fn resolution_without_a_resolver_is_unsupported() {
    use phone_verify_core::{RequestContext, SessionId, SessionResolver};

    let (router, _) = router(&["a", "b"], RouterConfig::default());
    let session = SessionId::new("any-session").unwrap();
    let err = router
        .resolve(&session, &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.message().contains("resolves sessions"), "{err}");
}

/// `Router::routes` lists the routes in the order they were added.
#[test]
fn routes_are_listed_in_order() {
    let (router, _) = router(&["a", "b", "c"], RouterConfig::default());
    let names: Vec<&str> = router.routes().map(Route::name).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

/// A stub that counts its starts and takes each with a handle (no request is made).
#[derive(Debug)]
struct Counting {
    provider: &'static str,
    caps: Capabilities,
    starts: AtomicUsize,
}

impl Counting {
    fn new(provider: &'static str, caps: Capabilities) -> Arc<Self> {
        Arc::new(Self {
            provider,
            caps,
            starts: AtomicUsize::new(0),
        })
    }

    /// VerifyKit's capabilities: SMS and WhatsApp codes, WhatsApp and Telegram reverse flows
    /// (Telegram only in reverse), QR codes.
    fn verifykit_like() -> Arc<Self> {
        Self::new(
            "verifykit",
            Capabilities::new()
                .with_otp_channel(Channel::Sms)
                .with_otp_channel(Channel::WhatsApp)
                .with_reverse_channel(Channel::WhatsApp)
                .with_reverse_channel(Channel::Telegram)
                .with_qr_code(true),
        )
    }

    fn starts(&self) -> usize {
        self.starts.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl PhoneVerifier for Counting {
    fn provider(&self) -> ProviderId {
        ProviderId::new_static(self.provider)
    }

    fn capabilities(&self) -> Capabilities {
        self.caps.clone()
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        self.starts.fetch_add(1, Ordering::SeqCst);
        Ok(Verification::new(
            self.provider(),
            "ref",
            request.channel.clone(),
        ))
    }

    async fn check(&self, _: &Verification, _: &CheckRequest) -> Result<CheckOutcome> {
        Err(Error::unsupported("the stub checks nothing"))
    }
}

/// A phone on a channel every route takes only in reverse gets core's refusal
/// (`InvalidInput`, leave the phone out), not "no route can start", and no route is called.
#[tokio::test]
async fn a_phone_on_a_reverse_only_channel_is_refused_with_cores_reason() {
    let verifykit = Counting::verifykit_like();
    let memory = InMemoryVerifier::new();
    let router = Router::builder()
        .route(Route::new("verifykit", verifykit.clone()))
        .route(Route::new("memory", Arc::new(memory.clone_fresh())))
        .build()
        .unwrap();
    let request = StartRequest::otp(Channel::Telegram, phone("+905321234567"));
    let err = router.start(&request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(
        err.message().contains("leave the phone number out"),
        "{err}"
    );
    assert_eq!(verifykit.starts(), 0);
    assert_eq!(memory.state().request_counts().total, 0);
}

/// A QR code asked for with a phone (a code is sent, nothing is drawn) is `Unsupported` with
/// core's reason, even though a route draws QR codes, and no route is called.
#[tokio::test]
async fn a_qr_code_with_a_phone_is_refused_with_cores_reason() {
    let verifykit = Counting::verifykit_like();
    let memory = InMemoryVerifier::new();
    let router = Router::builder()
        .route(Route::new("verifykit", verifykit.clone()))
        .route(Route::new("memory", Arc::new(memory.clone_fresh())))
        .build()
        .unwrap();
    for channel in [Channel::Sms, Channel::WhatsApp] {
        let request = StartRequest::otp(channel.clone(), phone("+905321234567")).qr_code(true);
        let err = router.start(&request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{channel}: {err}");
        assert!(err.message().contains("only for reverse flows"), "{err}");
    }
    assert_eq!(verifykit.starts(), 0);
    assert_eq!(memory.state().request_counts().total, 0);
}

/// A channel one route sends codes on and the matching rule's routes take only in reverse:
/// the start is refused with core's reason for the rule's routes, before any request, and the
/// rule whose route sends such codes still takes it.
#[tokio::test]
async fn a_phone_on_a_channel_the_rules_routes_take_only_in_reverse_gets_cores_reason() {
    let verifykit = Counting::verifykit_like();
    let telegram_codes = Counting::new(
        "telegram-gateway",
        Capabilities::new().with_otp_channel(Channel::Telegram),
    );
    let router = Router::builder()
        .route(Route::new("verifykit", verifykit.clone()))
        .route(Route::new("tg", telegram_codes.clone()))
        .rule(Rule::to(["tg"]).regions(["TR"]))
        .rule(Rule::to(["verifykit"]))
        .build()
        .unwrap();
    let panama = StartRequest::otp(Channel::Telegram, phone("+50762647737"));
    let err = router.start(&panama).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(
        err.message().contains("leave the phone number out"),
        "{err}"
    );
    assert_eq!(verifykit.starts() + telegram_codes.starts(), 0);

    let turkey = StartRequest::otp(Channel::Telegram, phone("+905321234567"));
    assert_eq!(route_of(&router, &turkey).await, "tg");
    assert_eq!(telegram_codes.starts(), 1);
}
