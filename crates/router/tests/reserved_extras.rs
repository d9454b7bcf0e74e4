//! `extras.route` is the router's: a start whose handle already carries one (a router over one
//! provider nested as a route, or a provider writing the key) keeps it as `route.N`, logged at
//! debug without the full phone, and each check gives the verifier below its own value back.
//! The log test reads a thread-local subscriber: `tracing` caches callsite interest globally,
//! so it is the only test here that reads logs (nextest runs each test in its own process).

use std::sync::{Arc, Mutex};

use phone_verify_core::{
    Capabilities, CheckOutcome, CheckRequest, Error, PhoneVerifier, ProviderId, Result,
    StartRequest, Verification,
};
use phone_verify_router::{EXTRA_ROUTE, Route, Router};
use phone_verify_testkit::logs::LogCapture;
use phone_verify_testkit::memory::InMemoryVerifier;

fn sms() -> StartRequest {
    StartRequest::sms("+50762647737".parse().unwrap())
}

/// A router over in-memory routes named `names`, one provider kind, each its own state.
fn over(names: &[&str]) -> (Router, Vec<InMemoryVerifier>) {
    let mut builder = Router::builder();
    let mut states = Vec::new();
    for name in names {
        let verifier = InMemoryVerifier::new();
        builder = builder.route(Route::new(*name, Arc::new(verifier.clone_fresh())));
        states.push(verifier);
    }
    (builder.build().unwrap(), states)
}

/// `inner` nested as the route `outer` of a router of its own.
fn nest(outer: &str, inner: Router) -> Router {
    Router::builder()
        .route(Route::new(outer, Arc::new(inner)))
        .build()
        .unwrap()
}

/// The code the in-memory provider `state` sent for `handle`.
fn code_of(state: &InMemoryVerifier, handle: &Verification) -> CheckRequest {
    let sent = state.state().message_for(&handle.reference).unwrap();
    CheckRequest::code(sent.code)
}

/// A check of `handle`, read back from its JSON as another process would.
async fn check_saved(
    router: &Router,
    handle: &Verification,
    request: &CheckRequest,
) -> CheckOutcome {
    let saved = Verification::from_json(&handle.to_json().unwrap()).unwrap();
    router.check(&saved, request).await.unwrap()
}

#[tokio::test]
async fn a_handle_carrying_a_route_keeps_it_as_route_n_logged_at_debug() {
    let capture = LogCapture::new();
    let guard = capture.set_default(tracing::Level::DEBUG);
    let (inner, _) = over(&["inner"]);
    let handle = nest("outer", inner).start(&sms()).await.unwrap();
    drop(guard);

    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("outer"));
    assert_eq!(handle.extra_str("route.1"), Some("inner"), "kept");
    let logs = capture.text();
    assert!(!logs.contains("ERROR"), "{logs}");
    let kept = logs
        .lines()
        .find(|l| l.contains("kept as route.1"))
        .unwrap_or_else(|| panic!("the move is logged: {logs}"));
    assert!(kept.contains("DEBUG"), "{kept}");
    assert!(
        kept.contains("route=\"outer\"") || kept.contains("route=outer"),
        "{kept}"
    );
    assert!(kept.contains("+507******37"), "the phone is masked: {kept}");
    assert!(!logs.contains("62647737"), "no full phone: {logs}");
}

/// Two accounts of one provider behind a router (it reports that provider, so the build cannot
/// tell it from the provider), nested as a route: its handles check at the right account.
#[tokio::test]
async fn a_nested_router_over_one_provider_checks_its_handles() {
    let (inner, states) = over(&["x", "y"]);
    let router = nest("outer", inner);
    let handle = router.start(&sms()).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("outer"));
    assert_eq!(handle.extra_str("route.1"), Some("x"));

    let outcome = check_saved(&router, &handle, &code_of(&states[0], &handle)).await;
    assert!(matches!(outcome, CheckOutcome::Verified(_)), "{outcome:?}");
}

/// A nested router that reports an id of its own (`provider_id`): its handles name the provider
/// below it, and the outer router leaves that check to it.
#[tokio::test]
async fn a_nested_router_with_an_id_of_its_own_checks_its_handles() {
    let state = InMemoryVerifier::new();
    let inner = Router::builder()
        .route(Route::new("x", Arc::new(state.clone_fresh())))
        .provider_id(ProviderId::new_static("pool"))
        .build()
        .unwrap();
    let router = nest("outer", inner);
    let handle = router.start(&sms()).await.unwrap();
    assert_ne!(handle.provider.as_str(), "pool");
    let outcome = check_saved(&router, &handle, &code_of(&state, &handle)).await;
    assert!(matches!(outcome, CheckOutcome::Verified(_)), "{outcome:?}");
}

/// Three levels whose adjacent route names coincide: each level's value is kept, in order.
#[tokio::test]
async fn three_nested_routers_with_the_same_route_names_check_their_handles() {
    let (inner, states) = over(&["x", "y"]);
    let router = nest("a", nest("a", inner));
    let handle = router.start(&sms()).await.unwrap();
    let kept: Vec<_> = ["route", "route.1", "route.2"]
        .iter()
        .map(|key| handle.extra_str(key))
        .collect();
    assert_eq!(kept, [Some("a"), Some("x"), Some("a")]);

    let outcome = check_saved(&router, &handle, &code_of(&states[0], &handle)).await;
    assert!(matches!(outcome, CheckOutcome::Verified(_)), "{outcome:?}");
}

/// An in-memory provider that writes `extras.route` itself when `own` is set, and keeps the
/// handle it started and the handles it was given to check.
#[derive(Debug)]
struct Recording {
    memory: InMemoryVerifier,
    own: Option<&'static str>,
    started: Mutex<Vec<Verification>>,
    checked: Mutex<Vec<Verification>>,
}

impl Recording {
    fn new(own: Option<&'static str>) -> Arc<Self> {
        Arc::new(Self {
            memory: InMemoryVerifier::new(),
            own,
            started: Mutex::default(),
            checked: Mutex::default(),
        })
    }
}

#[async_trait::async_trait]
impl PhoneVerifier for Recording {
    fn provider(&self) -> ProviderId {
        self.memory.provider()
    }

    fn capabilities(&self) -> Capabilities {
        PhoneVerifier::capabilities(&self.memory)
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        let mut handle = self.memory.start(request).await?;
        if let Some(own) = self.own {
            handle.extras.insert(EXTRA_ROUTE, own);
        }
        self.started.lock().unwrap().push(handle.clone());
        Ok(handle)
    }

    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        self.checked.lock().unwrap().push(verification.clone());
        if let Some(own) = self.own
            && verification.extra_str(EXTRA_ROUTE) != Some(own)
        {
            return Err(Error::invalid_input("not the route this provider wrote"));
        }
        self.memory.check(verification, request).await
    }
}

/// A provider that writes `extras.route` gets its own value back at check, and the rest of
/// its handle as it made it; the application's handle names the router's route.
#[tokio::test]
async fn a_provider_writing_route_gets_its_value_back_at_check() {
    let provider = Recording::new(Some("its-own"));
    let router = Router::builder()
        .route(Route::new("main", provider.clone()))
        .build()
        .unwrap();
    let handle = router.start(&sms()).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("main"));
    assert_eq!(handle.extra_str("route.1"), Some("its-own"));

    let outcome = check_saved(&router, &handle, &code_of(&provider.memory, &handle)).await;
    assert!(matches!(outcome, CheckOutcome::Verified(_)), "{outcome:?}");
    let started = provider.started.lock().unwrap().clone();
    assert_eq!(*provider.checked.lock().unwrap(), started);
}

/// A handle without `route.N` keys goes to its route's verifier as the application holds it.
#[tokio::test]
async fn a_handle_without_kept_routes_is_checked_as_it_is() {
    let provider = Recording::new(None);
    let router = Router::builder()
        .route(Route::new("main", provider.clone()))
        .build()
        .unwrap();
    let handle = router.start(&sms()).await.unwrap();
    assert_eq!(handle.extra_str(EXTRA_ROUTE), Some("main"));
    assert_eq!(handle.extras.len(), 1, "{:?}", handle.extras);

    let outcome = check_saved(&router, &handle, &code_of(&provider.memory, &handle)).await;
    assert!(matches!(outcome, CheckOutcome::Verified(_)), "{outcome:?}");
    assert_eq!(*provider.checked.lock().unwrap(), [handle]);
}

/// A handle of another provider is refused before any request when it keeps no `route.N`;
/// one that keeps such a key is taken for a nested router's and handed to the route's
/// verifier unchecked, whose answer is the answer (here the provider's own refusal).
#[tokio::test]
async fn only_a_handle_without_kept_routes_is_matched_with_its_routes_provider() {
    let provider = Recording::new(None);
    let router = Router::builder()
        .route(Route::new("main", provider.clone()))
        .build()
        .unwrap();
    let mut handle = Verification::new(ProviderId::new_static("other"), "ref", sms().channel);
    handle.extras.insert(EXTRA_ROUTE, "main");
    let request = CheckRequest::code("123456".parse().unwrap());

    let err = router.check(&handle, &request).await.unwrap_err();
    assert_eq!(err.kind(), phone_verify_core::ErrorKind::InvalidInput);
    assert!(err.message().contains("\"other\""), "{err}");
    assert!(provider.checked.lock().unwrap().is_empty(), "refused first");

    handle.extras.insert("route.1", "inner");
    let err = router.check(&handle, &request).await.unwrap_err();
    assert_eq!(
        err.kind(),
        phone_verify_core::ErrorKind::InvalidInput,
        "{err}"
    );
    assert_eq!(
        provider.checked.lock().unwrap().len(),
        1,
        "the route's verifier was asked"
    );
}
