//! `Router::plan`: how the next start would be routed, and why, without starting anything.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::{Channel, ErrorKind, PhoneNumber, PhoneVerifier, StartRequest};
use phone_verify_router::{
    BreakerConfig, EXTRA_ROUTE, Route, RouteStatus, Router, Rule, StartPlan, Strategy,
};
use phone_verify_testkit::memory::InMemoryVerifier;
use phone_verify_verifik::VerifikBuilder;

fn phone(text: &str) -> PhoneNumber {
    text.parse().unwrap()
}

/// `(route, status)` of every route in the plan, in the plan's order.
fn statuses(plan: &StartPlan) -> Vec<(&str, RouteStatus)> {
    plan.routes
        .iter()
        .map(|r| (r.route.as_str(), r.status.clone()))
        .collect()
}

#[tokio::test]
async fn the_plan_names_the_rule_and_the_order_and_moves_no_turn() {
    let router = Router::builder()
        .route(Route::new("a", Arc::new(InMemoryVerifier::new())))
        .route(Route::new("b", Arc::new(InMemoryVerifier::new())))
        .route(Route::new("c", Arc::new(InMemoryVerifier::new())))
        .rule(Rule::to(["c"]).regions(["TR"]))
        .rule(Rule::to(["a", "b"]).strategy(Strategy::RoundRobin))
        .build()
        .unwrap();
    let turkish = StartRequest::sms(phone("+905321234567"));
    let plan = router.plan(&turkish).unwrap();
    assert_eq!(plan.rule, Some(0));
    assert_eq!(
        statuses(&plan),
        [
            ("c", RouteStatus::Candidate),
            ("a", RouteStatus::NotInRule),
            ("b", RouteStatus::NotInRule)
        ]
    );

    let panama = StartRequest::sms(phone("+50762647737"));
    let plan = router.plan(&panama).unwrap();
    assert_eq!((plan.rule, plan.strategy), (Some(1), Strategy::RoundRobin));
    let first: Vec<&str> = plan.candidates().map(|r| r.route.as_str()).collect();
    assert_eq!(first, ["a", "b"]);
    // Planning again gives the same order: the turn moves only with a start.
    assert_eq!(router.plan(&panama).unwrap(), plan);
    let handle = router.start(&panama).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("a"));
    let next: Vec<String> = router
        .plan(&panama)
        .unwrap()
        .candidates()
        .map(|r| r.route.clone())
        .collect();
    assert_eq!(next, ["b", "a"]);
    assert_eq!(
        router.start(&panama).await.unwrap().extra_str(EXTRA_ROUTE),
        Some("b")
    );
}

#[tokio::test]
async fn the_plan_says_which_routes_cannot_take_the_channel_or_have_an_open_circuit() {
    let verifik = VerifikBuilder::sandbox("http://127.0.0.1:9")
        .build()
        .unwrap();
    let failing = InMemoryVerifier::new();
    let router = Router::builder()
        .route(Route::new("verifik", Arc::new(verifik)))
        .route(Route::new("failing", Arc::new(failing.clone_fresh())))
        .route(Route::new("memory", Arc::new(InMemoryVerifier::new())))
        .breaker(
            BreakerConfig::default()
                .consecutive_failures(1)
                .cooldown(Duration::from_secs(3600)),
        )
        .build()
        .unwrap();
    let voice = StartRequest::otp(Channel::Voice, phone("+50762647737"));
    let plan = router.plan(&voice).unwrap();
    assert_eq!(plan.rule, None, "no rules: every route, in order");
    // The routes that cannot take the start come after those that can.
    let verifik = &plan.routes[2];
    assert_eq!(verifik.route, "verifik");
    assert!(
        matches!(&verifik.status, RouteStatus::CannotTake(why) if why.contains("voice")),
        "{plan:?}"
    );
    assert_eq!(plan.candidates().count(), 2);

    // One failure opens `failing`'s circuit: the next start would skip it.
    failing
        .state()
        .fail_next_send(ErrorKind::ProviderUnavailable);
    let handle = router.start(&voice).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("memory"));
    let plan = router.plan(&voice).unwrap();
    assert_eq!(statuses(&plan)[0], ("failing", RouteStatus::CircuitOpen));
    assert_eq!(statuses(&plan)[1], ("memory", RouteStatus::Candidate));
    assert_eq!(
        RouteStatus::CircuitOpen.to_string(),
        "skipped: circuit open"
    );

    // A request the router cannot take at all fails as a start would.
    let totp = StartRequest::otp(Channel::Totp, phone("+50762647737"));
    assert_eq!(
        router.plan(&totp).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(router.provider().as_str(), "router");
}
