//! The testkit's conformance suite through routers, against the sandbox:
//!
//! - for each of the three providers, a router whose first route cannot connect (every start
//!   fails over to the second, until its circuit opens) and whose second route is the provider
//!   on the sandbox;
//! - one router with routes over all three providers, whose rules send each channel to a
//!   different provider: its handles name the provider that sent the code, and a
//!   `MultiHarness` hands each handle to that provider's harness;
//! - one router whose SMS rule fails over from VerifyKit to Verifik, under a `MultiHarness`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{Clock, ConfigureHttp, HttpConfig, RetryPolicy, Timeouts};
use phone_verify_core::{Channel, Code, PhoneVerifier, SessionResolver, Verification};
use phone_verify_router::{BreakerConfig, Route, Router, Rule};
use phone_verify_testkit::sandbox::{
    Provider, Sandbox, SandboxConfig, SandboxHandle, SandboxHarness, run_conformance,
};
use phone_verify_testkit::{
    Answering, CHECK_FAULT_CHECKS, Conformance, Expected, HOSTILE_CHECK_CHECKS,
    HOSTILE_POLL_CHECKS, HOSTILE_SEND_CHECKS, HOSTILE_SESSION_CHECKS, HarnessError, HarnessResult,
    HostileAnswer, ImpatientClient, MultiHarness, OTP_CHECKS, REVERSE_CHECKS, REVERSE_FAULT_CHECKS,
    REVERSE_RETRY_CHECKS, SEND_CHECKS, SESSION_FAULT_CHECKS, SESSION_RETRY_CHECKS, Status,
    WRONG_CODE_LIMIT_CHECKS,
};
use phone_verify_verifik::{Verifik, VerifikBuilder};
use phone_verify_verifykit::{VerifyKit, VerifyKitBuilder};
use phone_verify_verigator::{EXTRA_METHOD, EXTRA_SERVICE_ID, Verigator, VerigatorBuilder};

const VERIFYKIT_SENDS: [&str; 2] = ["/v1.0/send-otp", "/v1.0/start"];
const VERIFIK_SEND: &str = "/v2/phone-validations/manual";
const VERIGATOR_SEND: &str = "/v1/service/service/*/users/*/auth";
const VERIFYKIT_CHECKS: [&str; 2] = ["/v1.0/check-otp", "/v1.0/check-whatsapp"];
/// Verifik checks a code with `PUT`, Verigator with `PUT` on the path that sends with `POST`.
const VERIFIK_CHECK: &str = "/v2/phone-validations";
const VERIGATOR_CHECK: &str = VERIGATOR_SEND;
/// VerifyKit polls reverse flows with `check` and resolves sessions with `result`.
const VERIFYKIT_LOOKUPS: [&str; 2] = ["/v1.0/check", "/v1.0/result"];
/// Verifik resolves a session (a validation id) by reading the validation.
const VERIFIK_LOOKUP: &str = "/v2/phone-validations/*";

/// The routers' circuit breakers: open after 20 failures in a row, never on the error rate.
/// The suite's fault checks fail a route's starts on purpose (two 503s, a reset, a 500, a 502,
/// a 504 and six unreadable answers in a row per channel, then a stalled one), which would
/// open the default breaker on the route that works and fail every later check.
fn breaker() -> BreakerConfig {
    let mut breaker = BreakerConfig::default();
    breaker.consecutive_failures = 20;
    breaker.error_rate = 0.0;
    breaker
}

fn retry() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// A base URL on loopback where nothing listens.
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

/// How soon the impatient clients give up on an answer: their overall timeout.
const GIVES_UP_WITHIN: Duration = Duration::from_secs(2);

/// The timeouts of the clients that meet the suite's stalled answers: a 1 s attempt and a 2 s
/// overall timeout, so each stall check takes a second or two.
fn hasty() -> Timeouts {
    Timeouts::default()
        .with_attempt(Duration::from_secs(1))
        .with_overall(GIVES_UP_WITHIN)
}

fn verifykit(base: &str) -> Arc<VerifyKit> {
    verifykit_with(base, Timeouts::default())
}

fn verifykit_with(base: &str, timeouts: Timeouts) -> Arc<VerifyKit> {
    Arc::new(
        VerifyKitBuilder::sandbox(base)
            .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
            .retry(retry())
            .timeouts(timeouts)
            .build()
            .unwrap(),
    )
}

fn verifik(base: &str, clock: Arc<dyn Clock>) -> Arc<Verifik> {
    verifik_with(base, Timeouts::default(), clock)
}

/// Verifik at `base`, telling time by `clock` (the sandbox's, which the suite moves): its
/// read-back of a lost check compares the record's `validatedAt` with when the check was sent.
fn verifik_with(base: &str, timeouts: Timeouts, clock: Arc<dyn Clock>) -> Arc<Verifik> {
    Arc::new(
        VerifikBuilder::sandbox(base)
            .http_config(HttpConfig::default().with_clock(clock))
            .retry(retry())
            .timeouts(timeouts)
            .build()
            .unwrap(),
    )
}

fn verigator(base: &str, sandbox: &SandboxHandle, service: &str) -> Arc<Verigator> {
    verigator_with(base, sandbox, service, Timeouts::default())
}

fn verigator_with(
    base: &str,
    sandbox: &SandboxHandle,
    service: &str,
    timeouts: Timeouts,
) -> Arc<Verigator> {
    Arc::new(
        VerigatorBuilder::sandbox(base)
            .service_id(service)
            .pin_validity(sandbox.config().verigator_pin_ttl)
            .timeouts(timeouts)
            .build()
            .unwrap(),
    )
}

/// A router over `down` then `up` that gives up on a stalled answer within
/// [`GIVES_UP_WITHIN`], as resolver too.
fn impatient<V: PhoneVerifier + SessionResolver + 'static>(
    build: impl Fn(&str, Timeouts) -> Arc<V>,
    sandbox: &SandboxHandle,
) -> ImpatientClient {
    let hasty = Arc::new(down_then_up(|base| build(base, hasty()), sandbox));
    ImpatientClient::new(hasty.clone(), GIVES_UP_WITHIN).with_resolver(hasty)
}

/// A Verigator service on the sandbox, for the routes' clients.
async fn verigator_service(sandbox: &SandboxHandle) -> String {
    VerigatorBuilder::sandbox(&sandbox.base_url())
        .build_client()
        .unwrap()
        .create_service("router-conformance.example", "Router conformance")
        .await
        .unwrap()
        .id
}

/// `down` then `up`; only `up` resolves sessions (a resolver that cannot connect would be
/// asked, in vain, first of all on every resolution).
fn down_then_up<V: PhoneVerifier + SessionResolver + 'static>(
    build: impl Fn(&str) -> Arc<V>,
    sandbox: &SandboxHandle,
) -> Router {
    let up = build(&sandbox.base_url());
    Router::builder()
        .route(Route::new("down", build(&refused_url())))
        .route(Route::new("up", up.clone()).with_resolver(up))
        .breaker(breaker())
        .build()
        .unwrap()
}

/// Every check a router with `otp` channels (all of which send) and VerifyKit's reverse
/// channels, or none, calls for; `sessions` when it resolves them. The limit of wrong codes
/// and the secrets depend on the providers: each test adds them.
fn expected(otp: &[&str], reverse: &[&str], sessions: bool) -> Expected {
    let mut expected = Expected::new()
        .checks([
            "input.unsupported_channel_refused[voice]",
            "input.foreign_handle_refused",
            "privacy.codes_not_shown",
            "privacy.phones_and_codes_not_logged",
            // The router's handles carry `route`, and it routes by it: passes, saying so.
            "handle.no_reserved_extras",
        ])
        .per_channel(CHECK_FAULT_CHECKS, otp)
        .per_channel(
            &["input.otp_without_phone_refused"],
            otp.iter().filter(|c| !reverse.contains(c)),
        )
        .per_channel(
            &["input.phone_on_reverse_only_refused"],
            reverse.iter().filter(|c| !otp.contains(c)),
        )
        .per_channel(OTP_CHECKS, otp)
        .per_channel(SEND_CHECKS, otp.iter().filter(|c| **c != "totp"))
        .per_channel(REVERSE_CHECKS, reverse)
        .per_channel(&["reverse.qr_code"], reverse)
        .per_channel(REVERSE_FAULT_CHECKS, reverse)
        .per_channel(REVERSE_RETRY_CHECKS, reverse)
        .check("input.hostile_handle_refused")
        .per_channel(HOSTILE_CHECK_CHECKS, otp)
        .per_channel(HOSTILE_SEND_CHECKS, otp.iter().filter(|c| **c != "totp"))
        .per_channel(HOSTILE_POLL_CHECKS, reverse)
        // The providers' documented errors are their own conformance tests' (a router's
        // harness lists none): skipped, saying so.
        .skipped("errors.documented_codes_typed");
    if sessions {
        expected = expected
            .checks([
                "session.resolves_verified_phone",
                "session.unknown_is_not_found",
                "input.malformed_session_refused",
            ])
            .checks(SESSION_FAULT_CHECKS.iter().copied())
            .checks(SESSION_RETRY_CHECKS.iter().copied())
            .checks(HOSTILE_SESSION_CHECKS.iter().copied());
    }
    expected
}

#[tokio::test]
async fn a_router_over_verifykit_conforms() {
    let expected = expected(&["sms", "whatsapp"], &["whatsapp", "telegram"], true)
        .per_channel(WRONG_CODE_LIMIT_CHECKS, ["sms", "whatsapp"])
        .check("privacy.secrets_not_shown");
    assert_eq!(expected.len(), 106);
    run_conformance(SandboxConfig::default(), &expected, |sandbox| async move {
        let tested = Arc::new(down_then_up(verifykit, &sandbox));
        let mut harness = SandboxHarness::new(sandbox, Provider::VerifyKit, |s| {
            Arc::new(down_then_up(verifykit, s))
        });
        for send in VERIFYKIT_SENDS {
            harness = harness.with_send_endpoint("POST", send);
        }
        for check in VERIFYKIT_CHECKS {
            harness = harness.with_check_endpoint("POST", check);
        }
        for lookup in VERIFYKIT_LOOKUPS {
            harness = harness.with_lookup_endpoint("POST", lookup);
        }
        let harness = harness.with_impatient_client(|s| impatient(verifykit_with, s));
        Conformance::resolving(tested, harness)
    })
    .await;
}

#[tokio::test]
async fn a_router_over_verifik_conforms() {
    // Verifik sets no limit of wrong codes: that check is skipped, saying so.
    let expected = expected(&["sms", "whatsapp"], &[], true)
        .skipped_per_channel(WRONG_CODE_LIMIT_CHECKS, ["sms", "whatsapp"])
        .check("privacy.secrets_not_shown");
    assert_eq!(expected.len(), 80);
    run_conformance(SandboxConfig::default(), &expected, |sandbox| async move {
        let tested = Arc::new(down_then_up(|b| verifik(b, sandbox.clock()), &sandbox));
        let harness = SandboxHarness::new(sandbox, Provider::Verifik, |s| {
            Arc::new(down_then_up(|b| verifik(b, s.clock()), s))
        })
        .with_send_endpoint("POST", VERIFIK_SEND)
        .with_check_endpoint("PUT", VERIFIK_CHECK)
        .with_lookup_endpoint("GET", VERIFIK_LOOKUP)
        .with_impatient_client(|s| impatient(|b, t| verifik_with(b, t, s.clock()), s));
        Conformance::resolving(tested, harness)
    })
    .await;
}

/// The code for a Verigator handle: the authenticator's for TOTP, else the SMS the sandbox
/// sent to the handle's user.
fn verigator_code(sandbox: &SandboxHandle, handle: &Verification) -> HarnessResult<Option<Code>> {
    let failed = |e: &dyn std::fmt::Display| HarnessError::failed(e.to_string());
    if handle.extra_str(EXTRA_METHOD) == Some("totp") {
        let service = handle
            .extra_str(EXTRA_SERVICE_ID)
            .ok_or_else(|| HarnessError::failed("no service id"))?;
        let code = sandbox
            .totp_code(service, &handle.reference)
            .map_err(|e| failed(&e))?;
        return Code::new(&code).map(Some).map_err(|e| failed(&e));
    }
    let phone = handle
        .phone
        .as_ref()
        .ok_or_else(|| HarnessError::failed("no phone"))?;
    sandbox
        .messages(phone.e164())
        .into_iter()
        .find(|m| m.reference.as_deref() == Some(handle.reference.as_str()))
        .and_then(|m| m.code)
        .map(|code| Code::new(&code).map_err(|e| failed(&e)))
        .transpose()
}

/// Verigator verifies registered users: every fresh phone (Estonian) is registered by `admin`
/// and enrolled in the sandbox's authenticator first, as in the Verigator crate's own
/// conformance test; sends are `POST …/users/{id}/auth`.
fn verigator_harness(
    sandbox: Arc<SandboxHandle>,
    admin: Arc<Verigator>,
    make: impl Fn(&SandboxHandle) -> Arc<dyn PhoneVerifier> + Send + Sync + 'static,
) -> SandboxHarness {
    SandboxHarness::new(sandbox, Provider::Verigator, make)
        .with_code_channels([Channel::Sms, Channel::Totp])
        .with_code_reader(verigator_code)
        .with_phone_prefix("+3725", 7)
        .with_send_endpoint("POST", VERIGATOR_SEND)
        .with_check_endpoint("PUT", VERIGATOR_CHECK)
        .with_phone_setup(move |sandbox, phone| {
            let admin = Arc::clone(&admin);
            Box::pin(async move {
                let user = admin.user_for(phone).await?;
                sandbox
                    .enroll_totp(admin.service_id(), &user.id)
                    .map_err(|e| HarnessError::failed(e.to_string()))?;
                Ok(())
            })
        })
}

#[tokio::test]
async fn a_router_over_verigator_conforms() {
    // The sandbox's Verigator password, `sandbox`, is too short to search for: the secrets
    // check is skipped, saying so (the Verigator crate's own test runs it with a longer one).
    let expected = expected(&["sms", "totp"], &[], false)
        .per_channel(WRONG_CODE_LIMIT_CHECKS, ["sms", "totp"])
        .skipped("privacy.secrets_not_shown");
    assert_eq!(expected.len(), 65);
    run_conformance(SandboxConfig::seeded(42), &expected, |sandbox| async move {
        let service = verigator_service(&sandbox).await;
        let admin = verigator(&sandbox.base_url(), &sandbox, &service);
        let router = move |s: &SandboxHandle, timeouts: Timeouts| {
            Router::builder()
                .route(Route::new(
                    "down",
                    verigator_with(&refused_url(), s, &service, timeouts),
                ))
                .route(Route::new(
                    "up",
                    verigator_with(&s.base_url(), s, &service, timeouts),
                ))
                .breaker(breaker())
                .build()
                .unwrap()
        };
        let router = Arc::new(router);
        let tested = Arc::new(router(&sandbox, Timeouts::default()));
        let fresh = Arc::clone(&router);
        // As in Verigator's own test, no `{}` answers a send: Verigator documents an empty 2xx
        // answer to a start as a send. (Not in the mixed router's test, where Verigator serves
        // only TOTP, which gets no send checks: there `{}` reaches the other routes' sends.)
        let harness = verigator_harness(sandbox, admin, move |s| {
            Arc::new(fresh(s, Timeouts::default()))
        })
        .without_hostile_answer(
            Answering::Send,
            HostileAnswer::EmptyObject,
            "Verigator documents an empty 2xx answer to a start as a send",
        )
        .with_impatient_client(move |s| {
            ImpatientClient::new(Arc::new(router(s, hasty())), GIVES_UP_WITHIN)
        });
        // Verigator has no sessions: the router gets no resolver.
        Conformance::new(tested, harness)
    })
    .await;
}

/// One router over the three providers on one sandbox: TOTP to Verigator, SMS to Verifik,
/// the rest (WhatsApp codes, WhatsApp and Telegram reverse flows) to VerifyKit. Only
/// VerifyKit and Verifik resolve sessions.
fn mixed_router(sandbox: &SandboxHandle, service: &str) -> Router {
    mixed_router_with(sandbox, service, Timeouts::default())
}

/// [`mixed_router`], its clients with `timeouts`.
fn mixed_router_with(sandbox: &SandboxHandle, service: &str, timeouts: Timeouts) -> Router {
    let base = sandbox.base_url();
    let (kit, fik) = (
        verifykit_with(&base, timeouts),
        verifik_with(&base, timeouts, sandbox.clock()),
    );
    Router::builder()
        .route(Route::new("tr-verifykit", kit.clone()).with_resolver(kit))
        .route(Route::new("latam-verifik", fik.clone()).with_resolver(fik))
        .route(Route::new(
            "eu-verigator",
            verigator_with(&base, sandbox, service, timeouts),
        ))
        .rule(Rule::to(["eu-verigator"]).channels([Channel::Totp]))
        .rule(Rule::to(["latam-verifik"]).channels([Channel::Sms]))
        .rule(Rule::to(["tr-verifykit"]))
        .breaker(breaker())
        .build()
        .unwrap()
}

/// Requests to `provider` whose `"METHOD path"` key `is_send` picks, from the exact counts.
fn sends(sandbox: &SandboxHandle, provider: Provider, is_send: impl Fn(&str) -> bool) -> usize {
    let counts: BTreeMap<String, usize> = sandbox.requests_of(provider).counts;
    counts
        .iter()
        .filter(|(endpoint, _)| is_send(endpoint))
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn a_router_over_all_three_providers_conforms() {
    let sandbox = Arc::new(Sandbox::start(SandboxConfig::seeded(7)).await.unwrap());
    let service = verigator_service(&sandbox).await;
    let tested = Arc::new(mixed_router(&sandbox, &service));
    assert_eq!((*tested).provider(), phone_verify_router::ROUTER_ID);

    // Each provider's own harness on the one sandbox; the phones come from Verigator's (each
    // a registered user with an authenticator, which the TOTP route needs) and any route
    // takes them.
    let admin = verigator(&sandbox.base_url(), &sandbox, &service);
    let fresh_service = service.clone();
    let verigator_member = verigator_harness(Arc::clone(&sandbox), admin, move |s| {
        verigator(&s.base_url(), s, &fresh_service)
    });
    let mut verifykit_member =
        SandboxHarness::new(Arc::clone(&sandbox), Provider::VerifyKit, |s| {
            verifykit(&s.base_url())
        });
    for send in VERIFYKIT_SENDS {
        verifykit_member = verifykit_member.with_send_endpoint("POST", send);
    }
    for check in VERIFYKIT_CHECKS {
        verifykit_member = verifykit_member.with_check_endpoint("POST", check);
    }
    for lookup in VERIFYKIT_LOOKUPS {
        verifykit_member = verifykit_member.with_lookup_endpoint("POST", lookup);
    }
    let verifik_member = SandboxHarness::new(Arc::clone(&sandbox), Provider::Verifik, |s| {
        verifik(&s.base_url(), s.clock())
    })
    .with_send_endpoint("POST", VERIFIK_SEND)
    .with_check_endpoint("PUT", VERIFIK_CHECK)
    .with_lookup_endpoint("GET", VERIFIK_LOOKUP);
    let fresh_sandbox = Arc::clone(&sandbox);
    let hasty_sandbox = Arc::clone(&sandbox);
    let harness = MultiHarness::new()
        .member(phone_verify_verigator::PROVIDER, verigator_member)
        .member(phone_verify_verifykit::PROVIDER, verifykit_member)
        .member(phone_verify_verifik::PROVIDER, verifik_member)
        .phones_from(phone_verify_verigator::PROVIDER)
        .clock_from(phone_verify_verigator::PROVIDER)
        .with_fresh_verifier({
            let service = service.clone();
            move || Arc::new(mixed_router(&fresh_sandbox, &service))
        })
        .with_impatient_client(move || {
            let hasty = Arc::new(mixed_router_with(&hasty_sandbox, &service, hasty()));
            ImpatientClient::new(hasty.clone(), GIVES_UP_WITHIN).with_resolver(hasty)
        });

    // The union of the three: SMS and WhatsApp codes, TOTP, VerifyKit's reverse flows with QR
    // codes, and sessions (checks promise none, since Verigator's return none).
    // SMS goes to Verifik, which sets no limit of wrong codes: that check is skipped.
    let expected = expected(
        &["sms", "whatsapp", "totp"],
        &["whatsapp", "telegram"],
        true,
    )
    .per_channel(WRONG_CODE_LIMIT_CHECKS, ["whatsapp", "totp"])
    .skipped_per_channel(WRONG_CODE_LIMIT_CHECKS, ["sms"])
    .check("privacy.secrets_not_shown");
    assert_eq!(expected.len(), 129);
    Conformance::resolving(tested, harness)
        .assert_conforms(&expected)
        .await;

    // Each provider really got its channel's sends, and no other: the request log shows
    // Verifik's SMS, Verigator's TOTP authentications and VerifyKit's WhatsApp starts, and
    // no SMS through VerifyKit.
    let verifik_sends = sends(&sandbox, Provider::Verifik, |e| {
        e == format!("POST {VERIFIK_SEND}")
    });
    let verigator_sends = sends(&sandbox, Provider::Verigator, |e| {
        e.starts_with("POST /v1/service/service/") && e.ends_with("/auth")
    });
    let verifykit_starts = sends(&sandbox, Provider::VerifyKit, |e| e == "POST /v1.0/start");
    let verifykit_sms = sends(&sandbox, Provider::VerifyKit, |e| {
        e == "POST /v1.0/send-otp"
    });
    assert!(verifik_sends >= 10, "Verifik sends: {verifik_sends}");
    assert!(verigator_sends >= 8, "Verigator sends: {verigator_sends}");
    assert!(
        verifykit_starts >= 10,
        "VerifyKit starts: {verifykit_starts}"
    );
    assert_eq!(verifykit_sms, 0, "SMS goes to Verifik, not VerifyKit");
    println!(
        "sends: verifik {verifik_sends}, verigator {verigator_sends}, verifykit {verifykit_starts}"
    );
    // TOTP codes come from the authenticator: Verigator sends no message.
    let messages = sandbox.all_messages();
    for provider in [Provider::VerifyKit, Provider::Verifik] {
        assert!(
            messages.iter().any(|m| m.provider == provider),
            "{provider:?} delivered no message"
        );
    }
}

/// A router whose rule for SMS sends to VerifyKit, failing over to Verifik; the other
/// channels go to VerifyKit alone.
fn failover_router(sandbox: &SandboxHandle) -> Router {
    let base = sandbox.base_url();
    let (kit, fik) = (verifykit(&base), verifik(&base, sandbox.clock()));
    Router::builder()
        .route(Route::new("first-verifykit", kit.clone()).with_resolver(kit))
        .route(Route::new("then-verifik", fik.clone()).with_resolver(fik))
        .rule(Rule::to(["first-verifykit", "then-verifik"]).channels([Channel::Sms]))
        .rule(Rule::to(["first-verifykit"]))
        .breaker(breaker())
        .build()
        .unwrap()
}

/// Send requests to `provider` at `path` that an injected `fault` answered.
fn faulted(sandbox: &SandboxHandle, provider: Provider, path: &str, fault: &str) -> usize {
    sandbox
        .requests_of(provider)
        .requests
        .iter()
        .filter(|r| r.path == path && r.fault.as_deref() == Some(fault))
        .count()
}

#[tokio::test]
async fn a_failover_rule_sends_once_to_each_provider_after_a_refusal() {
    // `send.not_retried_after_503` arms the 503 with `Retry-After` at both members: VerifyKit
    // refuses the send before processing, the router rightly fails over to Verifik, which
    // refuses it too. One send to each provider, none repeated: the check passes.
    let sandbox = Arc::new(Sandbox::start(SandboxConfig::seeded(11)).await.unwrap());
    let tested = failover_router(&sandbox);
    let mut verifykit_member =
        SandboxHarness::new(Arc::clone(&sandbox), Provider::VerifyKit, |s| {
            verifykit(&s.base_url())
        });
    for send in VERIFYKIT_SENDS {
        verifykit_member = verifykit_member.with_send_endpoint("POST", send);
    }
    for check in VERIFYKIT_CHECKS {
        verifykit_member = verifykit_member.with_check_endpoint("POST", check);
    }
    let verifik_member = SandboxHarness::new(Arc::clone(&sandbox), Provider::Verifik, |s| {
        verifik(&s.base_url(), s.clock())
    })
    .with_send_endpoint("POST", VERIFIK_SEND)
    .with_check_endpoint("PUT", VERIFIK_CHECK);
    let fresh_sandbox = Arc::clone(&sandbox);
    let harness = MultiHarness::new()
        .member(phone_verify_verifykit::PROVIDER, verifykit_member)
        .member(phone_verify_verifik::PROVIDER, verifik_member)
        .clock_from(phone_verify_verifykit::PROVIDER)
        .with_fresh_verifier(move || Arc::new(failover_router(&fresh_sandbox)));
    let report = phone_verify_testkit::run(&tested, Some(&tested), &harness).await;
    report.assert_all_passed();
    for name in [
        "send.exactly_once[sms]",
        "send.not_retried_after_503[sms]",
        "send.maybe_sent_after_plain_503[sms]",
        "send.not_retried_after_reset[sms]",
    ] {
        assert_eq!(
            report.status(name),
            Some(Status::Passed),
            "{name}\n{report}"
        );
    }
    // The refusal reached both providers: the router failed over.
    let refused = "service_unavailable";
    for (provider, path) in [
        (Provider::VerifyKit, "/v1.0/send-otp"),
        (Provider::Verifik, VERIFIK_SEND),
    ] {
        assert!(
            faulted(&sandbox, provider, path, refused) >= 1,
            "{provider:?} got no send refused with a 503"
        );
    }
}
