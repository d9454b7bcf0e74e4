//! One test per rule, on the in-memory provider and store with an injected clock.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::{
    Channel, CheckRequest, ErrorKind, PhoneNumber, PhoneVerifier, RejectReason, StartRequest,
};
use phone_verify_testkit::memory::{InMemoryState, InMemoryVerifier};

use super::*;
use crate::clock::ManualClock;
use crate::config::NumberKind;

const SECRET: &str = "test-secret-0123456789";

struct Fixture {
    guard: Guard,
    provider: InMemoryVerifier,
    clock: ManualClock,
    store: MemoryStore,
}

impl Fixture {
    fn new(config: GuardConfig) -> Self {
        Self::with_state(config, InMemoryState::new())
    }

    /// A guard with `config` around a provider of `state` that takes 100 wrong codes.
    fn with_state(config: GuardConfig, state: InMemoryState) -> Self {
        let provider = InMemoryVerifier::with_state(state.with_max_attempts(100));
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let guard = Guard::builder(Arc::new(provider.clone_fresh()))
            .secret(SECRET)
            .store(Arc::new(store.clone()))
            .config(config)
            .build()
            .expect("a valid guard");
        Self {
            guard,
            provider,
            clock,
            store,
        }
    }

    fn sends(&self) -> u64 {
        self.provider.state().request_counts().sends
    }

    async fn send(&self, phone: &str) -> Result<Verification> {
        self.guard
            .start(&StartRequest::sms(phone.parse().unwrap()))
            .await
    }

    async fn send_from(&self, phone: &str, ip: &str) -> Result<Verification> {
        let ip: IpAddr = ip.parse().unwrap();
        let request = StartRequest::sms(phone.parse().unwrap()).end_user_ip(ip);
        self.guard.start(&request).await
    }
}

/// Asserts that `result` is a denial by `rule` of `kind`, and returns its retry-after.
fn denied<T: fmt::Debug>(result: Result<T>, kind: ErrorKind, rule: Rule) -> Option<Duration> {
    let err = result.expect_err("the guard refuses");
    assert_eq!(err.kind(), kind, "{err}");
    assert!(
        err.to_string().contains(rule.as_str()),
        "{err} names {rule}"
    );
    let denial = Denial::of(&err).expect("a Denial source");
    assert_eq!(denial.rule, rule);
    assert_eq!(denial.retry_after, err.retry_after());
    // Made before any request: no provider answered it (see `a_denial_carries_no_http_status`).
    assert_eq!(err.http_status(), None, "{err}");
    err.retry_after()
}

/// The code the in-memory provider sent for `handle`.
fn sent_code(provider: &InMemoryVerifier, handle: &Verification) -> phone_verify_core::Code {
    provider
        .state()
        .message_for(&handle.reference)
        .unwrap()
        .code
}

fn only(f: impl FnOnce(&mut GuardConfig)) -> GuardConfig {
    let mut config = GuardConfig::off();
    f(&mut config);
    config
}

#[tokio::test]
async fn resend_cooldown() {
    let fx = Fixture::new(only(|c| c.resend_cooldown_secs = Some(30)));
    fx.send("+905321110001").await.unwrap();
    fx.clock.advance(Duration::from_secs(10));
    let retry = denied(
        fx.send("+905321110001").await,
        ErrorKind::RateLimited,
        Rule::ResendCooldown,
    );
    assert_eq!(retry, Some(Duration::from_secs(20)));
    assert_eq!(fx.sends(), 1, "the refused send never reached the provider");
    fx.send("+905321110002").await.unwrap();
    fx.clock.advance(Duration::from_secs(20));
    fx.send("+905321110001").await.unwrap();
    assert_eq!(fx.sends(), 3);
}

/// A denial is made before any request reaches the provider, so it carries no HTTP status.
/// A router tells a provider's refusal from a guard's by it: it never fails a guard's
/// `RateLimited` over to the next route (around the guard, even with
/// `fail_over_on_rate_limit`), and a denial counts neither for nor against a route's breaker.
#[tokio::test]
async fn a_denial_carries_no_http_status() {
    let fx = Fixture::new(only(|c| {
        c.resend_cooldown_secs = Some(30);
        c.deny_regions = vec!["PA".into()];
    }));
    fx.send("+905321110009").await.unwrap();
    let denials = [
        fx.send("+905321110009").await.unwrap_err(),
        fx.send("+50762647737").await.unwrap_err(),
    ];
    let kinds: Vec<_> = denials.iter().map(Error::kind).collect();
    assert_eq!(kinds, [ErrorKind::RateLimited, ErrorKind::Blocked]);
    for err in denials {
        assert!(Denial::of(&err).is_some(), "{err}");
        assert_eq!(err.http_status(), None, "{err}");
        assert_eq!(err.request_id(), None, "{err}");
    }
    assert_eq!(fx.sends(), 1, "no denied send reached the provider");
}

#[tokio::test]
async fn sends_per_phone_window_and_day() {
    let fx = Fixture::new(only(|c| {
        c.per_phone = Some(Limit::new(2, Duration::from_secs(600)));
        c.per_phone_daily = Some(Limit::per_day(3));
    }));
    let phone = "+905321110003";
    fx.send(phone).await.unwrap();
    fx.send(phone).await.unwrap();
    denied(fx.send(phone).await, ErrorKind::RateLimited, Rule::PerPhone);
    fx.clock.advance(Duration::from_secs(600));
    fx.send(phone).await.unwrap();
    let retry = denied(
        fx.send(phone).await,
        ErrorKind::RateLimited,
        Rule::PerPhoneDaily,
    );
    assert_eq!(retry, Some(Duration::from_secs(86_400 - 600)));
    assert_eq!(fx.sends(), 3);
}

#[tokio::test]
async fn sends_per_ip_and_per_subnet() {
    let fx = Fixture::new(only(|c| {
        c.per_ip = Some(Limit::per_hour(2));
        c.per_ipv4_24 = Some(Limit::per_hour(3));
        c.per_ipv6_64 = Some(Limit::per_hour(1));
    }));
    fx.send_from("+905321110004", "203.0.113.1").await.unwrap();
    fx.send_from("+905321110005", "203.0.113.1").await.unwrap();
    denied(
        fx.send_from("+905321110006", "203.0.113.1").await,
        ErrorKind::RateLimited,
        Rule::PerIp,
    );
    fx.send_from("+905321110007", "203.0.113.2").await.unwrap();
    denied(
        fx.send_from("+905321110008", "203.0.113.3").await,
        ErrorKind::RateLimited,
        Rule::PerIpv4Subnet,
    );
    fx.send_from("+905321110009", "198.51.100.1").await.unwrap();
    fx.send_from("+905321110010", "2001:db8:1:2::1")
        .await
        .unwrap();
    denied(
        fx.send_from("+905321110011", "2001:db8:1:2::99").await,
        ErrorKind::RateLimited,
        Rule::PerIpv6Subnet,
    );
    fx.send_from("+905321110012", "2001:db8:1:3::1")
        .await
        .unwrap();
    assert_eq!(fx.sends(), 6);
    fx.clock.advance(Duration::from_secs(3600));
    fx.send_from("+905321110013", "203.0.113.1").await.unwrap();
}

#[tokio::test]
async fn sends_per_region_with_overrides() {
    let fx = Fixture::new(only(|c| {
        c.per_region = Some(Limit::per_hour(3));
        c.region_overrides.insert("PA".into(), Limit::per_hour(1));
    }));
    for i in 0..3 {
        fx.send(&format!("+90532111002{i}")).await.unwrap();
    }
    denied(
        fx.send("+905321110029").await,
        ErrorKind::RateLimited,
        Rule::PerRegion,
    );
    fx.send("+50762647737").await.unwrap();
    denied(
        fx.send("+50762647738").await,
        ErrorKind::RateLimited,
        Rule::PerRegion,
    );
    assert_eq!(fx.sends(), 4);
}

/// The per-region hourly rule, sliding (GCRA, set from TOML): a burst at the edge of the
/// hour that a fixed window would let through twice is refused, and the status shows the
/// pending sends.
#[tokio::test]
async fn a_sliding_region_limit_refuses_the_burst_at_the_hours_edge() {
    let rules: GuardConfig =
        toml::from_str("per_region = { max = 4, window_secs = 3600, algorithm = \"gcra\" }")
            .unwrap();
    let limit = rules.per_region.unwrap();
    assert_eq!(limit.algorithm, Algorithm::Gcra);
    let fx = Fixture::new(only(|c| c.per_region = Some(limit)));
    fx.send("+905321110030").await.unwrap();
    fx.clock.advance(Duration::from_secs(3599));
    for i in 1..4 {
        fx.send(&format!("+90532111003{i}")).await.unwrap();
    }
    fx.clock.advance(Duration::from_secs(1));
    // A fixed window that began with the first send would start again here and take 4 more.
    fx.send("+905321110035").await.unwrap();
    let retry = denied(
        fx.send("+905321110036").await,
        ErrorKind::RateLimited,
        Rule::PerRegion,
    );
    // One send every 15 minutes, counted from the burst at 3,599 s.
    assert_eq!(retry, Some(Duration::from_secs(899)));
    assert_eq!(fx.sends(), 5);
}

#[tokio::test]
async fn region_allow_and_deny_lists() {
    let fx = Fixture::new(only(|c| c.deny_regions = vec!["PA".into()]));
    denied(
        fx.send("+50762647737").await,
        ErrorKind::Blocked,
        Rule::Region,
    );
    fx.send("+905321110030").await.unwrap();
    let fx = Fixture::new(only(|c| c.allow_regions = vec!["TR".into()]));
    fx.send("+905321110031").await.unwrap();
    let err = fx.send("+50762647737").await.unwrap_err();
    assert!(
        err.to_string().contains("region PA is not allowed"),
        "{err}"
    );
    assert_eq!(fx.sends(), 1);
}

#[tokio::test]
async fn number_types() {
    let fx = Fixture::new(GuardConfig {
        resend_cooldown_secs: None,
        ..GuardConfig::default()
    });
    denied(
        fx.send("+449098790000").await,
        ErrorKind::Blocked,
        Rule::NumberType,
    );
    denied(
        fx.send("+448001234567").await,
        ErrorKind::Blocked,
        Rule::NumberType,
    );
    // VoIP is allowed by default, refused by configuration.
    fx.send("+445612345678").await.unwrap();
    let fx = Fixture::new(only(|c| c.refuse_number_types = vec![NumberKind::Voip]));
    denied(
        fx.send("+445612345678").await,
        ErrorKind::Blocked,
        Rule::NumberType,
    );
    fx.send("+449098790000").await.unwrap();
}

async fn wrong(fx: &Fixture, handle: &Verification) -> CheckOutcome {
    let code = sent_code(&fx.provider, handle);
    let wrong = phone_verify_testkit::different_code(&code);
    fx.guard
        .check(handle, &CheckRequest::code(wrong))
        .await
        .unwrap()
}

async fn right(fx: &Fixture, handle: &Verification) -> Result<CheckOutcome> {
    let code = sent_code(&fx.provider, handle);
    fx.guard.check(handle, &CheckRequest::code(code)).await
}

#[tokio::test]
async fn wrong_codes_lock_a_verification_the_provider_would_not() {
    let fx = Fixture::new(only(|c| c.wrong_codes_per_verification = Some(3)));
    let handle = fx.send("+905321110040").await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            wrong(&fx, &handle).await.rejection().unwrap().reason,
            RejectReason::WrongCode
        );
    }
    let before = fx.provider.state().request_counts().total;
    let locked = right(&fx, &handle).await.unwrap();
    assert_eq!(
        locked.rejection().unwrap().reason,
        RejectReason::TooManyAttempts
    );
    assert_eq!(
        fx.provider.state().request_counts().total,
        before,
        "no check reached the provider"
    );
    // Another verification of the same phone is not locked.
    let other = fx.send("+905321110040").await.unwrap();
    assert!(right(&fx, &other).await.unwrap().is_verified());
}

#[tokio::test]
async fn a_reference_given_again_by_a_later_start_counts_its_own_wrong_codes() {
    // Verigator names every verification of a phone by the phone's user id: a later start with
    // the same reference is another verification, not locked by the first one's wrong codes.
    let fx = Fixture::new(only(|c| c.wrong_codes_per_verification = Some(3)));
    let handle = fx.send("+905321110041").await.unwrap();
    for _ in 0..3 {
        wrong(&fx, &handle).await;
    }
    let locked = right(&fx, &handle).await.unwrap();
    assert_eq!(
        locked.rejection().unwrap().reason,
        RejectReason::TooManyAttempts
    );
    let restarted = handle
        .clone()
        .with_created_at(handle.created_at + Duration::from_secs(60));
    assert_eq!(restarted.reference, handle.reference);
    assert!(right(&fx, &restarted).await.unwrap().is_verified());
}

/// A verification valid for longer than a day stays locked until it expires: the wrong codes
/// are counted until an hour past its `expires_at`, not for a day (Verifik has no attempt
/// limit of its own, and its codes can be valid for a year).
#[tokio::test]
async fn a_lock_lasts_as_long_as_the_verification() {
    let three_days = InMemoryState::new().with_code_ttl(Duration::from_secs(3 * 86_400));
    let fx = Fixture::with_state(
        only(|c| c.wrong_codes_per_verification = Some(3)),
        three_days,
    );
    let handle = fx.send("+905321110043").await.unwrap();
    for _ in 0..3 {
        wrong(&fx, &handle).await;
    }
    fx.clock.advance(Duration::from_secs(86_401));
    let locked = right(&fx, &handle).await.unwrap();
    assert_eq!(
        locked.rejection().map(|r| r.reason),
        Some(RejectReason::TooManyAttempts),
        "{locked:?}"
    );
}

/// The wrong codes of a verification are counted until an hour past its expiry, from a day
/// to a year; a day without an expiry.
#[test]
fn the_wrong_code_window_follows_the_expiry() {
    let now = OffsetDateTime::now_utc();
    let handle = Verification::new(InMemoryVerifier::PROVIDER, "r", Channel::Sms);
    let day = Duration::from_secs(86_400);
    assert_eq!(wrong_code_window(&handle, now), day, "no expiry");
    let (hour, year) = (
        Duration::from_secs(3600),
        Duration::from_secs(MAX_WINDOW_SECS),
    );
    for (expires_in, window) in [
        (time::Duration::minutes(10), day),
        (-time::Duration::days(2), day),
        (time::Duration::days(3), 3 * day + hour),
        (time::Duration::days(366), year),
        (time::Duration::MAX, year),
    ] {
        let expiring = handle
            .clone()
            .with_expires_at(now.saturating_add(expires_in));
        assert_eq!(wrong_code_window(&expiring, now), window, "{expires_in}");
    }
}

#[tokio::test]
async fn wrong_codes_per_phone_per_day() {
    let fx = Fixture::new(only(|c| c.wrong_codes_per_phone = Some(Limit::per_day(2))));
    let first = fx.send("+905321110041").await.unwrap();
    wrong(&fx, &first).await;
    let second = fx.send("+905321110041").await.unwrap();
    wrong(&fx, &second).await;
    denied(
        right(&fx, &second).await,
        ErrorKind::RateLimited,
        Rule::WrongCodesPerPhone,
    );
    fx.clock.advance(Duration::from_secs(86_400));
    assert!(right(&fx, &second).await.unwrap().is_verified());
}

#[tokio::test]
async fn wrong_codes_per_phone_sliding() {
    let limit = Limit::per_day(2).with_algorithm(Algorithm::Gcra);
    let fx = Fixture::new(only(|c| c.wrong_codes_per_phone = Some(limit)));
    let first = fx.send("+905321110042").await.unwrap();
    wrong(&fx, &first).await;
    let second = fx.send("+905321110042").await.unwrap();
    wrong(&fx, &second).await;
    let retry = denied(
        right(&fx, &second).await,
        ErrorKind::RateLimited,
        Rule::WrongCodesPerPhone,
    );
    assert_eq!(
        retry,
        Some(Duration::from_secs(43_200)),
        "one every 12 hours"
    );
    fx.clock.advance(Duration::from_secs(43_200));
    assert!(right(&fx, &second).await.unwrap().is_verified());
}

#[tokio::test]
async fn global_budget_breaker() {
    let fx = Fixture::new(only(|c| {
        c.global_budget = Some(Limit::per_hour(3));
        c.global_budget_daily = Some(Limit::per_day(4));
    }));
    for i in 0..3 {
        fx.send(&format!("+90532111005{i}")).await.unwrap();
    }
    let retry = denied(
        fx.send("+905321110059").await,
        ErrorKind::RateLimited,
        Rule::GlobalBudget,
    );
    assert_eq!(retry, Some(Duration::from_secs(3600)));
    fx.clock.advance(Duration::from_secs(3600));
    fx.send("+905321110060").await.unwrap();
    denied(
        fx.send("+905321110061").await,
        ErrorKind::RateLimited,
        Rule::GlobalBudgetDaily,
    );
    assert_eq!(fx.sends(), 4);
}

#[tokio::test]
async fn allowlisted_test_numbers_bypass_every_send_rule() {
    let fx = Fixture::new(GuardConfig {
        allowlist: vec!["+90 532 111 00 70".into()],
        deny_regions: vec!["TR".into()],
        ..GuardConfig::default()
    });
    for _ in 0..20 {
        fx.send("+905321110070").await.unwrap();
    }
    denied(
        fx.send("+905321110071").await,
        ErrorKind::Blocked,
        Rule::Region,
    );
    assert_eq!(fx.sends(), 20);
}

#[tokio::test]
async fn invalid_requests_are_refused_before_counting() {
    let fx = Fixture::new(only(|c| c.global_budget = Some(Limit::per_hour(1))));
    let no_phone = fx
        .guard
        .start(&StartRequest::new(Channel::Sms, None))
        .await
        .unwrap_err();
    assert_eq!(no_phone.kind(), ErrorKind::InvalidInput);
    assert!(Denial::of(&no_phone).is_none());
    fx.send("+905321110080").await.unwrap();
}

#[test]
fn bad_configuration_is_refused() {
    let build = |secret: &str, config: GuardConfig| {
        Guard::builder(Arc::new(InMemoryVerifier::new()))
            .secret(secret)
            .config(config)
            .build()
    };
    let short = build("short", GuardConfig::default()).unwrap_err();
    assert_eq!(short.kind(), ErrorKind::InvalidInput);
    let bad_region = build(
        SECRET,
        GuardConfig {
            deny_regions: vec!["turkey".into()],
            ..GuardConfig::default()
        },
    );
    assert!(bad_region.unwrap_err().to_string().contains("\"turkey\""));
    let zero = build(
        SECRET,
        GuardConfig {
            per_ip: Some(Limit::per_hour(1).with_window(Duration::ZERO)),
            ..GuardConfig::default()
        },
    );
    assert!(zero.unwrap_err().to_string().contains("per_ip"));
    // A window of a year is the longest; one second more (or u64::MAX) is refused.
    let year = Duration::from_secs(366 * 86_400);
    for (window, taken) in [
        (year, true),
        (year + Duration::from_secs(1), false),
        (Duration::from_secs(u64::MAX), false),
    ] {
        let config = GuardConfig {
            global_budget: Some(Limit::per_hour(1).with_window(window)),
            ..GuardConfig::default()
        };
        assert_eq!(build(SECRET, config).is_ok(), taken, "{window:?}");
        let config = GuardConfig {
            resend_cooldown_secs: Some(window.as_secs()),
            ..GuardConfig::default()
        };
        assert_eq!(build(SECRET, config).is_ok(), taken, "{window:?}");
    }
    // A store timeout of a minute is the longest; "forever" is refused, naming the setting.
    for (timeout, taken) in [(60_000, true), (60_001, false), (u64::MAX, false)] {
        let config = GuardConfig {
            store_timeout_ms: timeout,
            ..GuardConfig::default()
        };
        match build(SECRET, config) {
            Ok(_) => assert!(taken, "{timeout}"),
            Err(err) => {
                assert!(!taken, "{timeout}: {err}");
                assert_eq!(err.kind(), ErrorKind::InvalidInput);
                assert!(err.to_string().contains("store_timeout_ms"), "{err}");
            }
        }
    }
    let cooldown = GuardConfig {
        resend_cooldown_secs: Some(0),
        ..GuardConfig::default()
    };
    assert!(build(SECRET, cooldown).is_err());
    let bad_allow = build(
        SECRET,
        GuardConfig {
            allowlist: vec!["call me".into()],
            ..GuardConfig::default()
        },
    );
    assert_eq!(bad_allow.unwrap_err().kind(), ErrorKind::InvalidInput);
    // Debug masks the allowlist's numbers.
    let listed = GuardConfig {
        allowlist: vec!["+905321234567".into()],
        ..GuardConfig::default()
    };
    let shown = format!("{listed:?}");
    assert!(!shown.contains("5321234567"), "{shown}");
    assert!(shown.contains("allowlist: [\"+"), "{shown}");
    let guard = build(SECRET, listed).unwrap();
    assert!(!format!("{guard:?}").contains("5321234567"));
    let no_secret = Guard::builder(Arc::new(InMemoryVerifier::new()))
        .build()
        .unwrap_err();
    assert!(no_secret.to_string().contains("secret"));
    // A region must be two letters and upper case: either fault alone is refused.
    for region in ["tr", "TUR", "T"] {
        let config = GuardConfig {
            allow_regions: vec![region.into()],
            ..GuardConfig::default()
        };
        let err = build(SECRET, config).unwrap_err();
        assert!(err.to_string().contains(&format!("{region:?}")), "{err}");
    }
    // And a region libphonenumber knows: `UK` would never match a British number (`GB`).
    for (region, known) in [("UK", false), ("ZZ", false), ("GB", true), ("XK", true)] {
        let config = GuardConfig {
            deny_regions: vec![region.into()],
            ..GuardConfig::default()
        };
        let outcome = build(SECRET, config);
        assert_eq!(outcome.is_ok(), known, "{region}");
        if let Err(err) = outcome {
            assert!(err.to_string().contains("\"GB\""), "{err}");
        }
    }
}

/// `GuardConfig::off` turns every rule off, and keeps the defaults that are no rules.
#[test]
fn off_turns_every_rule_off() {
    let off = GuardConfig::off();
    let limits = [
        off.per_phone,
        off.per_phone_daily,
        off.per_ip,
        off.per_ipv4_24,
        off.per_ipv6_64,
        off.per_region,
        off.wrong_codes_per_phone,
        off.global_budget,
        off.global_budget_daily,
    ];
    assert!(limits.iter().all(Option::is_none), "{off:?}");
    assert_eq!(off.resend_cooldown_secs, None);
    assert_eq!(off.wrong_codes_per_verification, None);
    assert!(off.region_overrides.is_empty());
    assert!(off.allow_regions.is_empty() && off.deny_regions.is_empty());
    assert!(off.refuse_number_types.is_empty() && off.allowlist.is_empty());
    let default = GuardConfig::default();
    assert_eq!(off.send_fail_mode, default.send_fail_mode);
    assert_eq!(off.check_fail_mode, default.check_fail_mode);
    assert_eq!(off.store_timeout_ms, default.store_timeout_ms);
}

/// A store that records the counters of every decision, and allows them.
#[derive(Debug, Default)]
struct Recording(std::sync::Mutex<Vec<Counter>>);

#[async_trait]
impl GuardStore for Recording {
    async fn hit(
        &self,
        counters: &[Counter],
        _: HitId,
    ) -> std::result::Result<Decision, StoreError> {
        self.0.lock().unwrap().extend_from_slice(counters);
        Ok(Decision::Allowed(Reservation::default()))
    }
    async fn release(&self, _: &[Counter], _: &Reservation) -> std::result::Result<(), StoreError> {
        Ok(())
    }
    async fn peek(
        &self,
        counters: &[Counter],
    ) -> std::result::Result<Vec<crate::store::CounterState>, StoreError> {
        Ok(vec![crate::store::CounterState::default(); counters.len()])
    }
}

/// A GCRA counter's key ends in `:gcra` and a fixed window's does not, so that the two never
/// read each other's state when a rule's algorithm changes; keys hold no phone or address.
#[tokio::test]
async fn gcra_keys_are_kept_apart_from_fixed_window_keys() {
    let store = Arc::new(Recording::default());
    let guard = Guard::builder(Arc::new(InMemoryVerifier::new()))
        .secret(SECRET)
        .store(Arc::clone(&store) as Arc<dyn GuardStore>)
        .config(only(|c| {
            c.per_phone = Some(Limit::per_hour(5).with_algorithm(Algorithm::Gcra));
            c.per_ip = Some(Limit::per_hour(5));
        }))
        .build()
        .unwrap();
    let request = StartRequest::sms("+905321110200".parse().unwrap())
        .end_user_ip("203.0.113.9".parse().unwrap());
    guard.start(&request).await.unwrap();
    let counters = store.0.lock().unwrap().clone();
    let keys: Vec<(&str, Algorithm)> = counters
        .iter()
        .map(|c| (c.key.as_str(), c.algorithm))
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for (key, algorithm) in keys {
        assert_eq!(
            key.ends_with(":gcra"),
            algorithm == Algorithm::Gcra,
            "{key}"
        );
        assert!(
            !key.contains("5321110200") && !key.contains("203.0.113"),
            "{key}"
        );
    }
}

/// The guard's and its builder's `Debug` name the guard, its verifier and its rules, and
/// never the secret.
#[test]
fn debug_shows_the_rules_not_the_secret() {
    let builder = Guard::builder(Arc::new(InMemoryVerifier::new()))
        .secret(SECRET)
        .config(GuardConfig::default());
    let shown = format!("{builder:?}");
    assert!(
        shown.starts_with("GuardBuilder") && shown.contains("per_phone"),
        "{shown}"
    );
    assert!(!shown.contains(SECRET), "{shown}");
    let guard = builder.build().unwrap();
    let shown = format!("{guard:?}");
    assert!(
        shown.starts_with("Guard {") && shown.contains("per_phone"),
        "{shown}"
    );
    assert!(
        shown.contains("MemoryStore") && !shown.contains(SECRET),
        "{shown}"
    );
}

/// An allowlisted number is masked in every `Debug` as a phone field, whatever separates its
/// digits: `PhoneNumber::parse` takes `+90/532/123/45/67`, which free-text masking would
/// leave whole.
#[test]
fn debug_masks_every_allowlisted_number() {
    for number in [
        "+90/532/123/45/67",
        "+90 - 532 - 123 - 45 - 67",
        "+905321234567",
    ] {
        let config = GuardConfig {
            allowlist: vec![number.to_owned()],
            ..GuardConfig::default()
        };
        let builder = Guard::builder(Arc::new(InMemoryVerifier::new()))
            .secret(SECRET)
            .config(config);
        let built = format!("{builder:?}");
        let guard = builder.build().unwrap();
        for shown in [built, format!("{guard:?}"), format!("{:?}", guard.config())] {
            assert!(shown.contains("allowlist"), "{shown}");
            assert!(!shown.contains("532"), "{number}: {shown}");
            assert!(!shown.contains("123"), "{number}: {shown}");
            // The last two digits stay, as `PhoneNumber::masked` keeps them.
            assert!(shown.contains("67\""), "{number}: {shown}");
        }
    }
}

/// A store that never answers.
#[derive(Debug)]
struct Stuck;

#[async_trait]
impl GuardStore for Stuck {
    async fn hit(&self, _: &[Counter], _: HitId) -> std::result::Result<Decision, StoreError> {
        std::future::pending().await
    }
    async fn release(&self, _: &[Counter], _: &Reservation) -> std::result::Result<(), StoreError> {
        std::future::pending().await
    }
    async fn peek(
        &self,
        _: &[crate::store::Counter],
    ) -> std::result::Result<Vec<crate::store::CounterState>, StoreError> {
        std::future::pending().await
    }
}

#[tokio::test(start_paused = true)]
async fn a_stuck_store_fails_closed_for_sends_and_open_for_checks() {
    let provider = InMemoryVerifier::new();
    let build = |config: GuardConfig| {
        Guard::builder(Arc::new(provider.clone_fresh()))
            .secret(SECRET)
            .store(Arc::new(Stuck))
            .config(config)
            .build()
            .unwrap()
    };
    let guard = build(GuardConfig::default());
    let phone: PhoneNumber = "+905321110090".parse().unwrap();
    let err = guard
        .start(&StartRequest::sms(phone.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert_eq!(Denial::of(&err).unwrap().rule, Rule::Store);
    assert!(
        err.to_string().contains("did not answer within 200ms"),
        "{err}"
    );
    assert_eq!(provider.state().request_counts().sends, 0);

    let open = build(GuardConfig {
        send_fail_mode: FailMode::Open,
        ..GuardConfig::default()
    });
    let handle = open.start(&StartRequest::sms(phone)).await.unwrap();
    let code = sent_code(&provider, &handle);
    let outcome = guard
        .check(&handle, &CheckRequest::code(code))
        .await
        .unwrap();
    assert!(outcome.is_verified(), "checks fail open by default");
    let status = guard
        .status(&Subject::Ip("203.0.113.1".parse().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(status.kind(), ErrorKind::ProviderUnavailable);

    // With no wrong-code rule on, a check does not ask the store at all: even failing closed
    // on a stuck store, it goes straight to the provider.
    let unguarded_checks = build(GuardConfig {
        check_fail_mode: FailMode::Closed,
        wrong_codes_per_verification: None,
        wrong_codes_per_phone: None,
        send_fail_mode: FailMode::Open,
        ..GuardConfig::default()
    });
    let phone: PhoneNumber = "+905321110091".parse().unwrap();
    let handle = unguarded_checks
        .start(&StartRequest::sms(phone))
        .await
        .unwrap();
    let code = sent_code(&provider, &handle);
    let outcome = unguarded_checks
        .check(&handle, &CheckRequest::code(code))
        .await
        .unwrap();
    assert!(outcome.is_verified());

    // A reverse flow's poll carries no code: it reserves no wrong code, so it does not ask
    // the store either, whatever the rules.
    let closed_checks = build(GuardConfig {
        check_fail_mode: FailMode::Closed,
        send_fail_mode: FailMode::Open,
        ..GuardConfig::default()
    });
    let handle = closed_checks
        .start(&StartRequest::reverse(Channel::WhatsApp))
        .await
        .unwrap();
    let user: PhoneNumber = "+905321110092".parse().unwrap();
    provider
        .state()
        .complete_reverse_flow(&handle.reference, &user)
        .unwrap();
    let outcome = closed_checks
        .check(&handle, &CheckRequest::poll())
        .await
        .unwrap();
    assert!(outcome.is_verified());
}

#[tokio::test]
async fn status_shows_counters_without_the_phone() {
    let fx = Fixture::new(GuardConfig::default());
    fx.send_from("+905321110100", "203.0.113.5").await.unwrap();
    let phone = Subject::Phone("+905321110100".parse().unwrap());
    let status = fx.guard.status(&phone).await.unwrap();
    let per_phone = status.iter().find(|s| s.rule == Rule::PerPhone).unwrap();
    assert_eq!((per_phone.count, per_phone.max), (1, 5));
    assert_eq!(per_phone.resets_in, Some(Duration::from_secs(600)));
    let wrong = status
        .iter()
        .find(|s| s.rule == Rule::WrongCodesPerPhone)
        .unwrap();
    assert_eq!((wrong.count, wrong.resets_in), (0, None));
    let ip = fx
        .guard
        .status(&Subject::Ip("203.0.113.5".parse().unwrap()))
        .await
        .unwrap();
    let rules: Vec<Rule> = ip.iter().map(|s| s.rule).collect();
    assert_eq!(rules, [Rule::PerIp, Rule::PerIpv4Subnet]);
    assert!(ip.iter().all(|s| s.count == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_sends_get_exactly_the_limit() {
    let fx = Arc::new(Fixture::new(only(|c| {
        c.per_phone = Some(Limit::per_hour(7));
    })));
    let attempts = (0..1000).map(|_| {
        let fx = Arc::clone(&fx);
        tokio::spawn(async move { fx.send("+905321110110").await })
    });
    let results = futures::future::join_all(attempts).await;
    let allowed = results
        .into_iter()
        .filter(|r| r.as_ref().unwrap().is_ok())
        .count();
    assert_eq!(allowed, 7);
    assert_eq!(fx.sends(), 7);
}

/// A provider that takes a while to check a code (and counts the checks it sees).
#[derive(Debug)]
struct Slow {
    inner: InMemoryVerifier,
    checks: std::sync::atomic::AtomicU64,
    answer: Option<ErrorKind>,
}

impl Slow {
    fn new(inner: InMemoryVerifier, answer: Option<ErrorKind>) -> Self {
        Self {
            inner,
            checks: std::sync::atomic::AtomicU64::new(0),
            answer,
        }
    }
}

#[async_trait]
impl PhoneVerifier for Slow {
    fn provider(&self) -> ProviderId {
        PhoneVerifier::provider(&self.inner)
    }
    fn capabilities(&self) -> phone_verify_core::Capabilities {
        self.inner.capabilities()
    }
    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        self.inner.start(request).await
    }
    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        self.checks
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        match self.answer {
            Some(kind) => Err(Error::new(kind, "the provider's answer")),
            None => self.inner.check(verification, request).await,
        }
    }
}

fn slow_guard(provider: &Arc<Slow>, config: GuardConfig) -> Guard {
    Guard::builder(Arc::clone(provider) as Arc<dyn PhoneVerifier>)
        .secret(SECRET)
        .store(Arc::new(MemoryStore::new()))
        .config(config)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_checked_at_once_cannot_pass_the_limits() {
    let memory = InMemoryVerifier::with_state(InMemoryState::new().with_max_attempts(100));
    let provider = Arc::new(Slow::new(memory.clone_fresh(), None));
    let guard = Arc::new(slow_guard(
        &provider,
        only(|c| {
            c.wrong_codes_per_verification = Some(3);
            c.wrong_codes_per_phone = Some(Limit::per_day(4).with_algorithm(Algorithm::Gcra));
        }),
    ));
    let phone = "+905321110120";
    let handles = [
        guard
            .start(&StartRequest::sms(phone.parse().unwrap()))
            .await
            .unwrap(),
        guard
            .start(&StartRequest::sms(phone.parse().unwrap()))
            .await
            .unwrap(),
    ];
    let checks = (0..10).map(|i| {
        let guard = Arc::clone(&guard);
        let handle = handles[i % 2].clone();
        let code = sent_code(&memory, &handle);
        let wrong = CheckRequest::code(phone_verify_testkit::different_code(&code));
        tokio::spawn(async move { guard.check(&handle, &wrong).await })
    });
    let outcomes = futures::future::join_all(checks).await;
    let wrong_codes = outcomes
        .iter()
        .filter(|o| {
            let outcome = o.as_ref().unwrap();
            outcome.as_ref().is_ok_and(|o| {
                o.rejection()
                    .is_some_and(|r| r.reason == RejectReason::WrongCode)
            })
        })
        .count();
    // Ten wrong codes at once, two verifications: at most four reach the provider (the
    // phone's limit), at most three of them for one verification.
    assert_eq!(provider.checks.load(std::sync::atomic::Ordering::SeqCst), 4);
    assert_eq!(wrong_codes, 4);
    // All four stay counted: the phone's next check is refused before the provider.
    let third = guard
        .start(&StartRequest::sms(phone.parse().unwrap()))
        .await
        .unwrap();
    let code = memory.state().message_for(&third.reference).unwrap().code;
    denied(
        guard.check(&third, &CheckRequest::code(code)).await,
        ErrorKind::RateLimited,
        Rule::WrongCodesPerPhone,
    );
    assert_eq!(provider.checks.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_check_that_was_no_wrong_code_is_not_counted_as_one() {
    let config = || only(|c| c.wrong_codes_per_verification = Some(1));
    let memory = InMemoryVerifier::with_state(InMemoryState::new().with_max_attempts(100));
    // The provider down, then a code it surely never saw: neither counts.
    let down = Arc::new(Slow::new(
        memory.clone_fresh(),
        Some(ErrorKind::ProviderUnavailable),
    ));
    let guard = slow_guard(&down, config());
    let handle = guard
        .start(&StartRequest::sms("+905321110121".parse().unwrap()))
        .await
        .unwrap();
    let wrong = CheckRequest::code(phone_verify_testkit::different_code(&sent_code(
        &memory, &handle,
    )));
    for _ in 0..3 {
        let err = guard.check(&handle, &wrong).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    }
    assert_eq!(down.checks.load(std::sync::atomic::Ordering::SeqCst), 3);
    // A lost answer may have been a wrong code: it counts.
    let lost = Arc::new(Slow::new(
        memory.clone_fresh(),
        Some(ErrorKind::OutcomeUnknown),
    ));
    let guard = slow_guard(&lost, config());
    let handle = guard
        .start(&StartRequest::sms("+905321110122".parse().unwrap()))
        .await
        .unwrap();
    let err = guard.check(&handle, &wrong).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
    let locked = guard.check(&handle, &wrong).await.unwrap();
    assert_eq!(
        locked.rejection().unwrap().reason,
        RejectReason::TooManyAttempts
    );
    assert_eq!(lost.checks.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// A verifier that, like a router over several providers, reports an id of its own while its
/// handles keep the id of the provider that sent the code.
#[derive(Debug)]
struct Fronted(InMemoryVerifier);

#[async_trait]
impl PhoneVerifier for Fronted {
    fn provider(&self) -> ProviderId {
        ProviderId::new_static("router")
    }
    fn capabilities(&self) -> phone_verify_core::Capabilities {
        self.0.capabilities()
    }
    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        self.0.start(request).await
    }
    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        self.0.check(verification, request).await
    }
}

#[tokio::test]
async fn checks_reach_a_router_whose_handles_carry_the_underlying_provider() {
    let provider = InMemoryVerifier::with_state(InMemoryState::new());
    let guard = Guard::builder(Arc::new(Fronted(provider.clone_fresh())))
        .secret(SECRET)
        .store(Arc::new(MemoryStore::new()))
        .config(only(|c| c.wrong_codes_per_verification = Some(3)))
        .build()
        .unwrap();
    let handle = guard
        .start(&StartRequest::sms("+905321110041".parse().unwrap()))
        .await
        .unwrap();
    assert_ne!(
        handle.provider,
        guard.provider(),
        "the handle keeps the provider's id"
    );
    let code = sent_code(&provider, &handle);
    let outcome = guard
        .check(&handle, &CheckRequest::code(code))
        .await
        .unwrap();
    assert!(outcome.is_verified(), "{outcome:?}");
}

/// A provider whose next sends fail with the kinds queued, then succeed.
#[derive(Debug)]
struct Failing {
    inner: InMemoryVerifier,
    failures: std::sync::Mutex<Vec<ErrorKind>>,
}

#[async_trait]
impl PhoneVerifier for Failing {
    fn provider(&self) -> ProviderId {
        PhoneVerifier::provider(&self.inner)
    }
    fn capabilities(&self) -> phone_verify_core::Capabilities {
        self.inner.capabilities()
    }
    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        let failure = self.failures.lock().unwrap().pop();
        match failure {
            Some(kind) => Err(Error::new(kind, "the provider's answer")),
            None => self.inner.start(request).await,
        }
    }
    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        self.inner.check(verification, request).await
    }
}

/// A send the provider surely did not make (the connection was never made, the provider
/// refused it before processing, the account cannot send, the input was refused) gives its
/// counts back: the user's retry is not refused by the cooldown, the per-phone limits, the
/// region's or the budget. A send that may have gone out (or was refused for another reason)
/// keeps them.
#[tokio::test]
async fn a_send_the_provider_surely_did_not_make_is_not_counted() {
    let given_back = [
        ErrorKind::Transport,
        ErrorKind::ProviderUnavailable,
        ErrorKind::Timeout,
        ErrorKind::QuotaExhausted,
        ErrorKind::Unauthorized,
        ErrorKind::Unsupported,
        ErrorKind::InvalidInput,
    ];
    let kept = [
        ErrorKind::MaybeSent,
        ErrorKind::Decode,
        ErrorKind::Provider,
        ErrorKind::RateLimited,
        ErrorKind::Blocked,
    ];
    for (kind, counted) in given_back
        .into_iter()
        .map(|k| (k, false))
        .chain(kept.into_iter().map(|k| (k, true)))
    {
        let provider = Arc::new(Failing {
            inner: InMemoryVerifier::new(),
            failures: std::sync::Mutex::new(vec![kind]),
        });
        let store = MemoryStore::with_clock(Arc::new(ManualClock::new()));
        let guard = Guard::builder(Arc::clone(&provider) as Arc<dyn PhoneVerifier>)
            .secret(SECRET)
            .store(Arc::new(store.clone()))
            .config(GuardConfig {
                per_phone: Some(Limit::per_hour(1)),
                global_budget: Some(Limit::per_hour(1)),
                ..GuardConfig::default()
            })
            .build()
            .unwrap();
        let request = StartRequest::sms("+905321110130".parse().unwrap());
        let err = guard.start(&request).await.unwrap_err();
        assert_eq!(err.kind(), kind);
        assert!(Denial::of(&err).is_none(), "{kind:?}: the provider's error");
        let again = guard.start(&request).await;
        if counted {
            // Refused by the cooldown and both hourly limits: the first longest wait.
            denied(again, ErrorKind::RateLimited, Rule::PerPhone);
        } else {
            again.unwrap_or_else(|e| panic!("{kind:?}: the retry is refused: {e}"));
            // The retry's send counted: the budget is spent.
            let other = StartRequest::sms("+905321110131".parse().unwrap());
            denied(
                guard.start(&other).await,
                ErrorKind::RateLimited,
                Rule::GlobalBudget,
            );
        }
    }
}

/// A provider whose first send is slow: it waits for `finish`, then fails with `Timeout`
/// before anything was sent. Its other sends are the in-memory provider's.
#[derive(Debug)]
struct SlowFirstSend {
    inner: InMemoryVerifier,
    first: std::sync::atomic::AtomicBool,
    started: tokio::sync::Notify,
    finish: tokio::sync::Notify,
}

#[async_trait]
impl PhoneVerifier for SlowFirstSend {
    fn provider(&self) -> ProviderId {
        PhoneVerifier::provider(&self.inner)
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        if self.first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.started.notify_one();
            self.finish.notified().await;
            return Err(Error::new(
                ErrorKind::Timeout,
                "a lookup before the send timed out",
            ));
        }
        self.inner.start(request).await
    }
    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        self.inner.check(verification, request).await
    }
}

/// A send given back after a slow failure gives back its own cooldown window, not a later
/// one. The first send's provider call lasts 35 s and fails before sending (given back);
/// meanwhile a second send, 31 s after the first, found the 30 s cooldown over and went out.
/// A third at 36 s is refused by the second's cooldown. (The first's give-back emptied the
/// second's window, and the third went out 5 s after the second.)
#[tokio::test]
async fn a_send_given_back_late_leaves_a_later_cooldown_alone() {
    let provider = InMemoryVerifier::new();
    let slow = Arc::new(SlowFirstSend {
        inner: provider.clone_fresh(),
        first: std::sync::atomic::AtomicBool::new(true),
        started: tokio::sync::Notify::new(),
        finish: tokio::sync::Notify::new(),
    });
    let clock = ManualClock::new();
    let guard = Arc::new(
        Guard::builder(Arc::clone(&slow) as Arc<dyn PhoneVerifier>)
            .secret(SECRET)
            .store(Arc::new(MemoryStore::with_clock(Arc::new(clock.clone()))))
            .config(only(|c| c.resend_cooldown_secs = Some(30)))
            .build()
            .unwrap(),
    );
    let request = StartRequest::sms("+905321110190".parse().unwrap());
    let first = tokio::spawn({
        let (guard, request) = (Arc::clone(&guard), request.clone());
        async move { guard.start(&request).await }
    });
    slow.started.notified().await;
    clock.advance(Duration::from_secs(31));
    guard.start(&request).await.expect("the cooldown is over");
    clock.advance(Duration::from_secs(4));
    slow.finish.notify_one();
    let err = first.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    clock.advance(Duration::from_secs(1));
    denied(
        guard.start(&request).await,
        ErrorKind::RateLimited,
        Rule::ResendCooldown,
    );
    assert_eq!(provider.state().request_counts().sends, 1);
}

/// The refusal names the counter the user must wait longest for: five sends 31 s apart
/// fill the per-phone limit (5 per 10 minutes) while each clears the 30 s cooldown; a sixth
/// 10 s after the fifth is refused by both, and waiting out the cooldown's 20 s would only
/// meet the per-phone refusal. So the answer is the per-phone limit, 466 s.
#[tokio::test]
async fn the_refusal_with_the_longest_wait_is_reported() {
    let fx = Fixture::new(GuardConfig::default());
    let phone = "+905321110140";
    for i in 0..5 {
        if i > 0 {
            fx.clock.advance(Duration::from_secs(31));
        }
        fx.send(phone).await.unwrap();
    }
    fx.clock.advance(Duration::from_secs(10));
    let retry = denied(fx.send(phone).await, ErrorKind::RateLimited, Rule::PerPhone);
    assert_eq!(retry, Some(Duration::from_secs(600 - 134)));
    fx.clock.advance(Duration::from_secs(20));
    denied(fx.send(phone).await, ErrorKind::RateLimited, Rule::PerPhone);
    fx.clock.advance(Duration::from_secs(446));
    fx.send(phone).await.unwrap();
}

/// Counters that have no subject (a region's, the global budget) are kept apart by secret
/// as the phones' and addresses' are: two applications sharing a store with different
/// secrets do not spend each other's budget. Guards with one secret share it.
#[tokio::test]
async fn the_budget_and_region_counters_belong_to_the_secret() {
    let store = MemoryStore::with_clock(Arc::new(ManualClock::new()));
    let guard = |secret: &str| {
        Guard::builder(Arc::new(InMemoryVerifier::new()))
            .secret(secret)
            .store(Arc::new(store.clone()))
            .config(only(|c| {
                c.global_budget = Some(Limit::per_hour(1));
                c.per_region = Some(Limit::per_hour(1));
            }))
            .build()
            .unwrap()
    };
    let (a, b) = (guard(SECRET), guard("another-secret-0123456789"));
    let send = |phone: &str| StartRequest::sms(phone.parse().unwrap());
    a.start(&send("+905321110150")).await.unwrap();
    b.start(&send("+905321110151")).await.unwrap();
    denied(
        guard(SECRET).start(&send("+905321110152")).await,
        ErrorKind::RateLimited,
        Rule::PerRegion,
    );
}

/// The allowlist bypasses the send rules only: a test number's wrong codes are limited as
/// any other's.
#[tokio::test]
async fn allowlisted_numbers_still_meet_the_wrong_code_limits() {
    let fx = Fixture::new(only(|c| {
        c.allowlist = vec!["+905321110160".into()];
        c.wrong_codes_per_verification = Some(1);
    }));
    let handle = fx.send("+905321110160").await.unwrap();
    assert_eq!(
        wrong(&fx, &handle).await.rejection().unwrap().reason,
        RejectReason::WrongCode
    );
    assert_eq!(
        wrong(&fx, &handle).await.rejection().unwrap().reason,
        RejectReason::TooManyAttempts
    );
}

/// A check's wrong-code counters, given back because the code was right, leave the store:
/// a verified check adds nothing to it (the counters would otherwise stay a day each, and
/// fill a store at its capacity).
#[tokio::test]
async fn a_verified_check_leaves_no_counter_behind() {
    let fx = Fixture::new(GuardConfig::default());
    let handle = fx.send("+905321110170").await.unwrap();
    let sends = fx.store.len();
    assert_eq!(sends, 4, "cooldown, per phone, per day and region");
    assert!(right(&fx, &handle).await.unwrap().is_verified());
    assert_eq!(fx.store.len(), sends);
}

/// A store of one's own that answers with a counter the decision does not have.
#[derive(Debug)]
struct OutOfRange;

#[async_trait]
impl GuardStore for OutOfRange {
    async fn hit(&self, _: &[Counter], _: HitId) -> std::result::Result<Decision, StoreError> {
        Ok(Decision::Denied {
            index: 99,
            retry_after: Duration::from_secs(1),
        })
    }
    async fn release(&self, _: &[Counter], _: &Reservation) -> std::result::Result<(), StoreError> {
        Ok(())
    }
    async fn peek(
        &self,
        _: &[Counter],
    ) -> std::result::Result<Vec<crate::store::CounterState>, StoreError> {
        Ok(Vec::new())
    }
}

/// A store's answer naming a counter out of the decision's range is a store failure (the
/// fail mode applies), not a panic; so is a `peek` answering for fewer counters.
#[tokio::test]
async fn a_store_naming_no_counter_of_the_decision_fails_as_a_store() {
    let provider = InMemoryVerifier::new();
    let build = |config: GuardConfig| {
        Guard::builder(Arc::new(provider.clone_fresh()))
            .secret(SECRET)
            .store(Arc::new(OutOfRange))
            .config(config)
            .build()
            .unwrap()
    };
    let guard = build(GuardConfig::default());
    let phone: PhoneNumber = "+905321110180".parse().unwrap();
    let err = guard
        .start(&StartRequest::sms(phone.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable, "{err}");
    assert_eq!(Denial::of(&err).unwrap().rule, Rule::Store);
    assert_eq!(provider.state().request_counts().sends, 0);
    let status = guard.status(&Subject::Phone(phone.clone())).await;
    assert_eq!(
        status.unwrap_err().kind(),
        ErrorKind::ProviderUnavailable,
        "a peek without the counters' states"
    );
    let open = build(GuardConfig {
        send_fail_mode: FailMode::Open,
        ..GuardConfig::default()
    });
    let handle = open.start(&StartRequest::sms(phone)).await.unwrap();
    let code = sent_code(&provider, &handle);
    assert!(
        guard
            .check(&handle, &CheckRequest::code(code.clone()))
            .await
            .unwrap()
            .is_verified(),
        "checks fail open by default"
    );
    let closed = build(GuardConfig {
        check_fail_mode: FailMode::Closed,
        ..GuardConfig::default()
    });
    let err = closed
        .check(&handle, &CheckRequest::code(code))
        .await
        .unwrap_err();
    assert_eq!(Denial::of(&err).unwrap().rule, Rule::Store);
}

/// A store whose hits all get `answer` (`None`: never answered), recording each hit's id and
/// each abandon's, the latter when the abandon is first polled.
#[derive(Debug)]
struct Scripted {
    answer: Option<std::result::Result<Decision, StoreError>>,
    hits: std::sync::Mutex<Vec<HitId>>,
    abandoned: std::sync::Mutex<Vec<HitId>>,
}

impl Scripted {
    fn new(answer: Option<std::result::Result<Decision, StoreError>>) -> Arc<Self> {
        Arc::new(Self {
            answer,
            hits: std::sync::Mutex::default(),
            abandoned: std::sync::Mutex::default(),
        })
    }

    fn hits(&self) -> Vec<HitId> {
        self.hits.lock().unwrap().clone()
    }

    fn abandoned(&self) -> Vec<HitId> {
        self.abandoned.lock().unwrap().clone()
    }
}

#[async_trait]
impl GuardStore for Scripted {
    async fn hit(&self, _: &[Counter], id: HitId) -> std::result::Result<Decision, StoreError> {
        self.hits.lock().unwrap().push(id);
        match &self.answer {
            Some(answer) => answer.clone(),
            None => std::future::pending().await,
        }
    }
    async fn release(&self, _: &[Counter], _: &Reservation) -> std::result::Result<(), StoreError> {
        Ok(())
    }
    async fn abandon(&self, _: &[Counter], id: HitId) -> std::result::Result<(), StoreError> {
        self.abandoned.lock().unwrap().push(id);
        Ok(())
    }
    async fn peek(
        &self,
        counters: &[Counter],
    ) -> std::result::Result<Vec<crate::store::CounterState>, StoreError> {
        Ok(vec![crate::store::CounterState::default(); counters.len()])
    }
}

/// A guard on `store` around `provider`, with the default rules and the fail modes given.
fn scripted_guard(
    provider: Arc<dyn PhoneVerifier>,
    store: &Arc<Scripted>,
    send: FailMode,
    check: FailMode,
) -> Guard {
    Guard::builder(provider)
        .secret(SECRET)
        .store(Arc::clone(store) as Arc<dyn GuardStore>)
        .config(GuardConfig {
            send_fail_mode: send,
            check_fail_mode: check,
            ..GuardConfig::default()
        })
        .build()
        .unwrap()
}

/// The code a check sends: the right one, a wrong one, or the right one with an answer lost
/// (`OutcomeUnknown`).
#[derive(Debug, Clone, Copy)]
enum Sent {
    Right,
    Wrong,
    Unknown,
}

/// Which decisions the guard abandons: only one the store did not answer (an error that may
/// still count: a timeout, `Unavailable`), and then, with the hit's own id, only when the event
/// it reserved did not happen: at once when the fail mode refuses the request; when it lets
/// it through, a send only if the provider surely sent nothing, a check only if it was surely
/// no wrong code. Never an allowed or refused decision, a full store's, or a call the store
/// surely never ran (`Refused`). (Every failed decision was abandoned, whatever the fail mode:
/// a send that went out, or a wrong code, fail open, was taken back from the limits when Redis
/// counted it late.)
#[tokio::test(start_paused = true)]
async fn only_a_decision_whose_event_did_not_happen_is_abandoned() {
    use FailMode::{Closed, Open};
    let allowed = || Some(Ok(Decision::Allowed(Reservation::default())));
    let denied = || {
        Some(Ok(Decision::Denied {
            index: 0,
            retry_after: Duration::from_secs(1),
        }))
    };
    let timeout = || Some(Err(StoreError::Timeout(Duration::from_millis(200))));
    let unavailable = || Some(Err(StoreError::Unavailable("lost".into())));
    // Sends: the store's answer, the send fail mode, the provider's failure, whether abandoned.
    let sends = [
        (allowed(), Closed, None, false),
        (allowed(), Closed, Some(ErrorKind::Transport), false),
        (denied(), Closed, None, false),
        (timeout(), Closed, None, true),
        (unavailable(), Closed, None, true),
        (None, Closed, None, true),
        (Some(Err(StoreError::Full(10))), Closed, None, false),
        (
            Some(Err(StoreError::Refused("refused".into()))),
            Closed,
            None,
            false,
        ),
        (timeout(), Open, None, false),
        (timeout(), Open, Some(ErrorKind::MaybeSent), false),
        (timeout(), Open, Some(ErrorKind::RateLimited), false),
        (timeout(), Open, Some(ErrorKind::Transport), true),
        (timeout(), Open, Some(ErrorKind::QuotaExhausted), true),
        (
            Some(Err(StoreError::Refused("refused".into()))),
            Open,
            Some(ErrorKind::Transport),
            false,
        ),
    ];
    for (number, (answer, mode, failure, abandoned)) in sends.into_iter().enumerate() {
        let store = Scripted::new(answer.clone());
        let provider = Arc::new(Failing {
            inner: InMemoryVerifier::new(),
            failures: std::sync::Mutex::new(failure.into_iter().collect()),
        });
        let guard = scripted_guard(provider, &store, mode, Open);
        let phone: PhoneNumber = format!("+90532111{number:04}").parse().unwrap();
        let _ = guard.start(&StartRequest::sms(phone)).await;
        // A task spawned to abandon would have run by now.
        tokio::task::yield_now().await;
        let want = if abandoned { store.hits() } else { Vec::new() };
        assert_eq!(store.hits().len(), 1, "send {number}");
        assert_eq!(
            store.abandoned(),
            want,
            "send {number}: {answer:?}, {mode:?}, {failure:?}"
        );
    }
    // Checks: the store's answer, the check fail mode, the code checked, whether abandoned.
    let checks = [
        (allowed(), Open, Sent::Right, false),
        (allowed(), Open, Sent::Wrong, false),
        (denied(), Open, Sent::Right, false),
        (timeout(), Closed, Sent::Right, true),
        (timeout(), Open, Sent::Wrong, false),
        (timeout(), Open, Sent::Unknown, false),
        (timeout(), Open, Sent::Right, true),
        (unavailable(), Open, Sent::Right, true),
        (None, Open, Sent::Right, true),
        (Some(Err(StoreError::Full(10))), Closed, Sent::Right, false),
        (
            Some(Err(StoreError::Refused("refused".into()))),
            Open,
            Sent::Right,
            false,
        ),
    ];
    for (number, (answer, mode, sent, abandoned)) in checks.into_iter().enumerate() {
        let store = Scripted::new(answer.clone());
        let memory = InMemoryVerifier::new();
        let unknown = matches!(sent, Sent::Unknown).then_some(ErrorKind::OutcomeUnknown);
        let provider = Arc::new(Slow::new(memory.clone_fresh(), unknown));
        let guard = scripted_guard(provider, &store, Closed, mode);
        let phone: PhoneNumber = format!("+90532112{number:04}").parse().unwrap();
        let handle = memory.start(&StartRequest::sms(phone)).await.unwrap();
        let code = sent_code(&memory, &handle);
        let code = match sent {
            Sent::Wrong => phone_verify_testkit::different_code(&code),
            Sent::Right | Sent::Unknown => code,
        };
        let _ = guard.check(&handle, &CheckRequest::code(code)).await;
        tokio::task::yield_now().await;
        let want = if abandoned { store.hits() } else { Vec::new() };
        assert_eq!(store.hits().len(), 1, "check {number}");
        assert_eq!(
            store.abandoned(),
            want,
            "check {number}: {answer:?}, {mode:?}, {sent:?}"
        );
    }
}

/// A decision whose caller is dropped while its hit is on its way (a `select!`, a timeout
/// around the guard, a client that went away) is abandoned, with the hit's id: the store may
/// still count it, and nothing was sent. (Only a timeout or an error was: the send that never
/// happened held the resend cooldown.)
#[tokio::test]
async fn a_decision_whose_caller_went_away_is_abandoned() {
    use futures::FutureExt;
    let store = Scripted::new(None);
    let provider = InMemoryVerifier::new();
    let guard = scripted_guard(
        Arc::new(provider.clone_fresh()),
        &store,
        FailMode::Closed,
        FailMode::Open,
    );
    let request = StartRequest::sms("+905321110210".parse().unwrap());
    assert!(
        guard.start(&request).now_or_never().is_none(),
        "the hit hangs"
    );
    assert_eq!(store.hits().len(), 1);
    assert_eq!(store.abandoned(), store.hits());
    assert_eq!(provider.state().request_counts().sends, 0);
    // A dropped check too.
    let handle = provider.start(&request).await.unwrap();
    let code = CheckRequest::code(sent_code(&provider, &handle));
    assert!(guard.check(&handle, &code).now_or_never().is_none());
    assert_eq!(store.hits().len(), 2);
    assert_eq!(store.abandoned(), store.hits());
}

/// The abandon is on its way to the store before the guard answers: a store that sends its
/// call when first polled (Redis) has it on the connection before the caller's retry, even on
/// a runtime of one thread, where a spawned task runs only once the caller yields. (It was
/// spawned: an immediate retry's hit reached Redis before the abandon, and the late decision's
/// cooldown refused it.)
#[tokio::test(start_paused = true)]
async fn the_abandon_is_sent_before_the_guard_answers() {
    let store = Scripted::new(None);
    let guard = scripted_guard(
        Arc::new(InMemoryVerifier::new()),
        &store,
        FailMode::Closed,
        FailMode::Open,
    );
    let request = StartRequest::sms("+905321110220".parse().unwrap());
    let err = guard.start(&request).await.unwrap_err();
    assert_eq!(Denial::of(&err).map(|d| d.rule), Some(Rule::Store), "{err}");
    assert_eq!(store.abandoned(), store.hits());
}
