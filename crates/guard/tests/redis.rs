//! The Redis store against a real `redis-server` started by each test.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::RedisServer;
use phone_verify_core::{
    CheckRequest, ErrorKind, PhoneVerifier, RejectReason, StartRequest, Verification,
};
use phone_verify_guard::store::{
    Algorithm, Counter, CounterState, Decision, HitId, Reservation, StoreError,
};
use phone_verify_guard::{
    Denial, FailMode, Guard, GuardConfig, GuardStore, Limit, RedisStore, Rule, Subject,
};
use phone_verify_testkit::memory::{InMemoryState, InMemoryVerifier};

const SECRET: &str = "redis-test-secret-0123";

/// Timeouts for these tests: generous, because they test decisions, not speed, and CI runs
/// them beside other test binaries on two cores, where the production defaults (1 s to
/// connect, 200 ms per command) can pass before a busy machine answers.
const TEST_TIMEOUT: Duration = Duration::from_secs(5);

async fn store(server: &RedisServer) -> RedisStore {
    RedisStore::builder(server.url())
        .prefix("pvg-test")
        .connection_timeout(TEST_TIMEOUT)
        .response_timeout(TEST_TIMEOUT)
        .connect()
        .await
        .expect("connects to the test's redis-server")
}

fn guard(provider: &InMemoryVerifier, store: RedisStore, mut config: GuardConfig) -> Guard {
    config.store_timeout_ms = u64::try_from(TEST_TIMEOUT.as_millis()).unwrap();
    Guard::builder(Arc::new(provider.clone_fresh()))
        .secret(SECRET)
        .store(Arc::new(store))
        .config(config)
        .build()
        .expect("a valid guard")
}

/// `store.hit(counters)`, with a new id.
async fn hit(store: &dyn GuardStore, counters: &[Counter]) -> Decision {
    store.hit(counters, HitId::random()).await.unwrap()
}

/// An allowed hit of `counters`, and what it reserved.
async fn allowed(store: &dyn GuardStore, counters: &[Counter]) -> Reservation {
    match hit(store, counters).await {
        Decision::Allowed(reservation) => reservation,
        denied @ Decision::Denied { .. } => panic!("{counters:?}: {denied:?}"),
    }
}

/// The counters' keys of `keys`: without the hits' markers.
fn counter_keys(keys: Vec<String>) -> Vec<String> {
    keys.into_iter().filter(|k| !k.contains(":hit:")).collect()
}

/// Every key in the test's Redis.
async fn all_keys(server: &RedisServer) -> Vec<String> {
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap()
}

fn per_phone(max: u32) -> GuardConfig {
    let mut config = GuardConfig::off();
    config.per_phone = Some(Limit::per_hour(max));
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_guards_sharing_redis_enforce_one_limit() {
    let server = RedisServer::start();
    let provider = InMemoryVerifier::new();
    // Two clients, each with its own connection: as two instances of the application.
    let guards = [
        Arc::new(guard(&provider, store(&server).await, per_phone(7))),
        Arc::new(guard(&provider, store(&server).await, per_phone(7))),
    ];
    let attempts = (0..1000).map(|i| {
        let guard = Arc::clone(&guards[i % 2]);
        tokio::spawn(async move {
            guard
                .start(&StartRequest::sms("+905321230001".parse().unwrap()))
                .await
        })
    });
    let results = futures::future::join_all(attempts).await;
    let mut allowed = 0;
    for result in results {
        match result.expect("no panic") {
            Ok(_) => allowed += 1,
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
                assert_eq!(Denial::of(&err).map(|d| d.rule), Some(Rule::PerPhone));
            }
        }
    }
    assert_eq!(allowed, 7);
    assert_eq!(provider.state().request_counts().sends, 7);
    let status = guards[1]
        .status(&Subject::Phone("+905321230001".parse().unwrap()))
        .await
        .unwrap();
    let counter = status.iter().find(|s| s.rule == Rule::PerPhone).unwrap();
    assert_eq!((counter.count, counter.max), (7, 7));
    assert!(
        counter
            .resets_in
            .is_some_and(|d| d <= Duration::from_secs(3600))
    );
}

#[test]
fn the_builder_does_not_show_the_urls_password() {
    let builder = RedisStore::builder("redis://:hunter2@127.0.0.1:6379/0").prefix("p");
    let shown = format!("{builder:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("prefix"), "{shown}");
}

/// The store shows its prefix, never its URL; a prefix that is empty or holds a brace (it is
/// the keys' hash tag) is refused before connecting.
#[tokio::test]
async fn the_store_shows_its_prefix_and_refuses_a_bad_one() {
    let server = RedisServer::start();
    let url = server.url().replace("redis://", "redis://:hunter2@");
    let store = RedisStore::builder(server.url())
        .prefix("shown-prefix")
        .connection_timeout(TEST_TIMEOUT)
        .connect()
        .await
        .unwrap();
    let shown = format!("{store:?}");
    assert_eq!(shown, "RedisStore { prefix: \"shown-prefix\", .. }");
    for prefix in ["", "a{b", "a}b"] {
        let err = RedisStore::builder(url.as_str())
            .prefix(prefix)
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Config(_)), "{prefix:?}: {err:?}");
        assert!(err.to_string().contains("prefix"), "{prefix:?}: {err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}

#[tokio::test]
async fn keys_are_hashed_hash_tagged_and_expire() {
    let server = RedisServer::start();
    let provider = InMemoryVerifier::new();
    let guarded = guard(&provider, store(&server).await, GuardConfig::default());
    let ip = "203.0.113.7".parse().unwrap();
    guarded
        .start(&StartRequest::sms("+905321230002".parse().unwrap()).end_user_ip(ip))
        .await
        .unwrap();
    let keys = all_keys(&server).await;
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    assert_eq!(
        counter_keys(keys.clone()).len(),
        6,
        "cooldown, phone, day, IP, /24 and region: {keys:?}"
    );
    assert_eq!(keys.len(), 7, "and the decision's marker: {keys:?}");
    for key in &keys {
        assert!(key.starts_with("{pvg-test}:"), "{key}");
        assert!(
            !key.contains("5321230002") && !key.contains("203.0.113"),
            "{key}"
        );
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 0, "{key} expires");
    }
}

#[tokio::test]
async fn a_decision_is_all_or_nothing() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let counter = |key: &str, max| Counter {
        key: key.into(),
        window: Duration::from_secs(60),
        max,
        cost: 1,
        algorithm: Algorithm::FixedWindow,
    };
    let both = [counter("a", 2), counter("b", 1)];
    allowed(&store, &both).await;
    let Decision::Denied { index, retry_after } = hit(&store, &both).await else {
        panic!("b is at its limit");
    };
    assert_eq!(index, 1);
    assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(60));
    let states = store
        .peek(&[counter("a", 2), counter("b", 1), counter("c", 1)])
        .await
        .unwrap();
    let counts: Vec<u64> = states.iter().map(|s| s.count).collect();
    assert_eq!(counts, [1, 1, 0], "the denied decision counted nothing");
    assert_eq!(states[2].resets_in, None);
}

/// GCRA in Redis: a burst of `max` from nothing, then refusals with the time until the next
/// fits (one interval, give or take the milliseconds between calls), counted all or nothing
/// with a fixed-window counter in the same decision. A long window keeps every figure far
/// from the time the test takes.
#[tokio::test]
async fn gcra_in_the_lua_script() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let hour = Duration::from_secs(3600);
    let gcra = |key: &str, max, cost| Counter {
        key: key.into(),
        window: hour,
        max,
        cost,
        algorithm: Algorithm::Gcra,
    };
    let c = gcra("g:gcra", 4, 1);
    // Four allowed, a fifth in the same hour refused.
    let retry_after = fill(&store, &c).await;
    let interval = hour / 4;
    assert!(
        retry_after <= interval && retry_after + Duration::from_secs(60) > interval,
        "{retry_after:?}"
    );
    let state = store.peek(std::slice::from_ref(&c)).await.unwrap()[0];
    assert_eq!(state.count, 4);
    assert!(
        state
            .resets_in
            .is_some_and(|r| r + Duration::from_secs(60) > hour && r <= hour)
    );
    // All or nothing across algorithms: the refused GCRA counter leaves the other untouched.
    let fixed = Counter {
        algorithm: Algorithm::FixedWindow,
        ..gcra("f", 10, 1)
    };
    assert!(matches!(
        hit(&store, &[fixed.clone(), c.clone()]).await,
        Decision::Denied { index: 1, .. }
    ));
    assert_eq!(store.peek(&[fixed]).await.unwrap()[0].count, 0);
    // A zero-cost check and a limit of 0.
    assert!(matches!(
        hit(&store, &[gcra("g:gcra", 4, 0)]).await,
        Decision::Denied { .. }
    ));
    assert!(matches!(
        hit(&store, &[gcra("zero:gcra", 0, 1)]).await,
        Decision::Denied { retry_after, .. } if retry_after == hour
    ));
}

/// GCRA in Redis keeps Redis's microseconds: events spaced by less than a millisecond are
/// each charged their interval, no more, and a release takes back one interval. (Redis rounded
/// the theoretical arrival time up to a whole millisecond at each event: a limit of 2,000 a
/// second let about 1,000 through at once, and a release of a 0.5 ms interval did nothing.)
#[tokio::test]
async fn gcra_spacing_finer_than_a_millisecond_in_redis() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let gcra = |key: &str, window: Duration, max, cost| Counter {
        key: key.into(),
        window,
        max,
        cost,
        algorithm: Algorithm::Gcra,
    };
    let second = Duration::from_secs(1);
    // 2,000 a second: a burst of 2,000 from nothing, sent at once, is all allowed.
    let burst = [gcra("burst:gcra", second, 2000, 1)];
    let hits = (0..2000).map(|_| hit(&store, &burst));
    let decisions = futures::future::join_all(hits).await;
    let through = decisions.iter().filter(|d| d.is_allowed()).count();
    assert_eq!(through, 2000);
    // A million a second: one event is one microsecond pending, not a millisecond's thousand.
    let fine = [gcra("fine:gcra", second, 1_000_000, 1)];
    assert!(hit(&store, &fine).await.is_allowed());
    let pending = store.peek(&fine).await.unwrap()[0].count;
    assert!(pending <= 2, "{pending} events pending after one");
    // 0.5 ms apart (7,200,000 an hour): `one` hit 100 times one by one, `all` once with
    // those 100 in a first hit of both (which keeps them 50 s ahead of Redis's clock), hold
    // the same time: the same count when read together. A release takes one back.
    let hour = Duration::from_secs(3600);
    let half = |key: &str, cost| gcra(key, hour, 7_200_000, cost);
    allowed(
        &store,
        &[half("one:gcra", 100_000), half("all:gcra", 100_100)],
    )
    .await;
    let mut last = Reservation::default();
    for _ in 0..100 {
        last = allowed(&store, &[half("one:gcra", 1)]).await;
    }
    let both = [half("one:gcra", 1), half("all:gcra", 1)];
    let counts = |states: Vec<CounterState>| [states[0].count, states[1].count];
    let [one, all] = counts(store.peek(&both).await.unwrap());
    assert_eq!(one, all, "each event charged 0.5 ms");
    store.release(&both[..1], &last).await.unwrap();
    let [one, all] = counts(store.peek(&both).await.unwrap());
    assert_eq!(one + 1, all, "a release takes 0.5 ms back");
}

/// A release in Redis takes back from the window its hit counted in, never from a later one
/// (the memory store's test moves a clock through a 30 s cooldown; Redis's clock cannot be
/// moved, so the window is a second, waited out): the event of a new window stays counted
/// when the previous window's is released. (The release emptied the new window.)
#[tokio::test]
async fn a_release_never_takes_from_a_later_window_in_redis() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let cooldown = [Counter {
        key: "cooldown".into(),
        window: Duration::from_secs(1),
        max: 1,
        cost: 1,
        algorithm: Algorithm::FixedWindow,
    }];
    let first = allowed(&store, &cooldown).await;
    // Refused until the window ends, then counted in a new one; the bound only turns a store
    // that never lets it through into a failure.
    let deadline = Instant::now() + Duration::from_secs(30);
    let second = loop {
        match hit(&store, &cooldown).await {
            Decision::Allowed(reservation) => break reservation,
            Decision::Denied { retry_after, .. } => {
                assert!(Instant::now() < deadline, "the window never ended");
                tokio::time::sleep(retry_after + Duration::from_millis(10)).await;
            }
        }
    };
    assert_ne!(first, second, "another window");
    store.release(&cooldown, &first).await.unwrap();
    let state = store.peek(&cooldown).await.unwrap()[0];
    assert_eq!(state.count, 1, "the new window keeps its event");
    store.release(&cooldown, &second).await.unwrap();
    let state = store.peek(&cooldown).await.unwrap()[0];
    assert_eq!(state, CounterState::default());
}

/// A decision that timed out is taken back when it runs late. Redis pauses its writers
/// (`CLIENT PAUSE WRITE`, from another connection) while a guard with a 100 ms store timeout
/// starts a send: the send is refused (sends fail closed), and the hit the guard sent runs
/// when the pause ends, followed by the guard's abandon on the same connection, which takes
/// it back. The user's retry is not refused by the resend cooldown. (It was: the late hit
/// counted, for 30 s.)
#[tokio::test]
async fn a_decision_that_timed_out_is_taken_back_when_it_runs_late() {
    let server = RedisServer::start();
    let provider = InMemoryVerifier::new();
    let guarded = Guard::builder(Arc::new(provider.clone_fresh()))
        .secret(SECRET)
        .store(Arc::new(store(&server).await))
        .config(GuardConfig {
            store_timeout_ms: 100,
            ..GuardConfig::default()
        })
        .build()
        .unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(2000)
        .arg("WRITE")
        .query_async(&mut conn)
        .await
        .unwrap();
    let phone: phone_verify_core::PhoneNumber = "+905321230020".parse().unwrap();
    let request = StartRequest::sms(phone.clone());
    let err = guarded.start(&request).await.unwrap_err();
    assert_eq!(Denial::of(&err).map(|d| d.rule), Some(Rule::Store), "{err}");
    // The guard's reads wait behind the pause (Redis counts scripts as writers) and behind
    // the late hit and its abandon on the guard's connection; the bound only turns a count
    // that stays into a failure.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(status) = guarded.status(&Subject::Phone(phone.clone())).await {
            let cooldown = status.iter().find(|s| s.rule == Rule::ResendCooldown);
            if cooldown.is_some_and(|s| s.count == 0) {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the late hit stays counted: {:?}",
            guarded.status(&Subject::Phone(phone.clone())).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let keys = all_keys(&server).await;
    assert!(
        keys.is_empty(),
        "the abandon took the counts and the marker: {keys:?}"
    );
    guarded.start(&request).await.expect("the retry goes out");
    assert_eq!(provider.state().request_counts().sends, 1);
}

/// The counts of `rule` for `phone` in `guarded`'s status, once the store answers it: its
/// reads wait behind a `CLIENT PAUSE` and behind what the guard sent before on its connection
/// (a late hit, an abandon), so the first answer shows what those left. The bound only turns
/// a store that never answers into a failure.
async fn count_once_answered(
    guarded: &Guard,
    phone: &phone_verify_core::PhoneNumber,
    rule: Rule,
) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(status) = guarded.status(&Subject::Phone(phone.clone())).await {
            return status
                .iter()
                .find(|s| s.rule == rule)
                .map_or(0, |s| s.count);
        }
        assert!(Instant::now() < deadline, "the store never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Checks let through while the store is slow (checks fail open) keep the wrong code Redis
/// counts late, and give back what the provider says was none. Redis pauses its writers while
/// a guard with a 100 ms store timeout checks a wrong code for one phone and the right code
/// for another: both checks reach the provider. When the pause ends, the late hits run; the
/// wrong code stays counted (`wrong_codes_per_phone` 1), the right one is taken back (0).
/// (Every decision that timed out was abandoned: the attacker's wrong code was never counted.)
#[tokio::test]
async fn a_check_let_through_while_the_store_is_slow_keeps_its_wrong_code() {
    let server = RedisServer::start();
    let provider = InMemoryVerifier::new();
    let guarded = Guard::builder(Arc::new(provider.clone_fresh()))
        .secret(SECRET)
        .store(Arc::new(store(&server).await))
        .config(GuardConfig {
            store_timeout_ms: 100,
            ..GuardConfig::default()
        })
        .build()
        .unwrap();
    let phones: [phone_verify_core::PhoneNumber; 2] = [
        "+905321230030".parse().unwrap(),
        "+905321230031".parse().unwrap(),
    ];
    let mut checks = Vec::new();
    for (phone, wrong) in phones.iter().zip([true, false]) {
        let handle = guarded
            .start(&StartRequest::sms(phone.clone()))
            .await
            .unwrap();
        let code = provider
            .state()
            .message_for(&handle.reference)
            .unwrap()
            .code;
        let code = if wrong {
            phone_verify_testkit::different_code(&code)
        } else {
            code
        };
        checks.push((handle, CheckRequest::code(code)));
    }
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(2000)
        .arg("WRITE")
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut reasons = Vec::new();
    for (handle, request) in &checks {
        let outcome = guarded.check(handle, request).await.expect("fails open");
        reasons.push(outcome.rejection().map(|r| r.reason));
    }
    assert_eq!(reasons, [Some(RejectReason::WrongCode), None]);
    let wrong = count_once_answered(&guarded, &phones[0], Rule::WrongCodesPerPhone).await;
    assert_eq!(wrong, 1, "the wrong code counts");
    let right = count_once_answered(&guarded, &phones[1], Rule::WrongCodesPerPhone).await;
    assert_eq!(right, 0, "the right code was taken back");
}

/// A GCRA release in Redis gives back only the part of the released event's spacing still
/// ahead, as in memory (whose test moves a clock: events at 0 s and 21 s, at most 3 a minute,
/// the first released at 25 s). Redis's clock cannot be moved, so the released event is one
/// whose spacing ended a second ago: its reservation names a time a second before Redis's
/// `TIME`. An event now holds its interval (20 minutes of an hour): the release gives nothing
/// back, and a burst gets 2. (It got 3: the release took the later event's interval.)
#[tokio::test]
async fn a_gcra_release_gives_back_only_the_spacing_still_ahead_in_redis() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let counter = [Counter {
        key: "ahead:gcra".into(),
        window: Duration::from_secs(3600),
        max: 3,
        cost: 1,
        algorithm: Algorithm::Gcra,
    }];
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(&mut conn).await.unwrap();
    let now = Duration::from_secs(secs) + Duration::from_micros(micros);
    let over = Reservation::new(vec![now.checked_sub(Duration::from_secs(1))]);
    allowed(&store, &counter).await;
    store.release(&counter, &over).await.unwrap();
    let mut burst = 0;
    for _ in 0..5 {
        burst += usize::from(hit(&store, &counter).await.is_allowed());
    }
    assert_eq!(burst, 2);
}

/// The key of hit `id`'s marker under the test prefix.
fn marker(id: HitId) -> String {
    format!("{{pvg-test}}:hit:{id}")
}

async fn exists(server: &RedisServer, key: &str) -> bool {
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("EXISTS")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// The events `counter`'s GCRA time stands for.
async fn pending(store: &RedisStore, counter: &[Counter]) -> u64 {
    store.peek(counter).await.unwrap()[0].count
}

/// `abandon` in Redis takes back its own allowed hit, once: of a GCRA counter, the hit's
/// interval (the other hit's stays); again, or with an id no hit had, or for a hit that was
/// refused (which left no marker), nothing.
#[tokio::test]
async fn an_abandon_takes_back_its_own_hit_once() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let counter = [Counter {
        key: "abandoned:gcra".into(),
        window: Duration::from_secs(3600),
        max: 2,
        cost: 1,
        algorithm: Algorithm::Gcra,
    }];
    let (first, second) = (HitId::random(), HitId::random());
    for id in [first, second] {
        assert!(store.hit(&counter, id).await.unwrap().is_allowed());
    }
    let refused = HitId::random();
    assert!(!store.hit(&counter, refused).await.unwrap().is_allowed());
    assert!(exists(&server, &marker(first)).await);
    assert!(
        !exists(&server, &marker(refused)).await,
        "a refusal leaves no marker"
    );
    store.abandon(&counter, refused).await.unwrap();
    store.abandon(&counter, HitId::random()).await.unwrap();
    assert_eq!(pending(&store, &counter).await, 2, "nothing taken back");
    store.abandon(&counter, first).await.unwrap();
    assert_eq!(
        pending(&store, &counter).await,
        1,
        "the first hit's interval"
    );
    assert!(!exists(&server, &marker(first)).await, "the marker went");
    store.abandon(&counter, first).await.unwrap();
    assert_eq!(pending(&store, &counter).await, 1, "once");
    store.abandon(&counter, second).await.unwrap();
    let keys = all_keys(&server).await;
    assert!(
        keys.is_empty(),
        "both taken back, every marker gone: {keys:?}"
    );
}

/// An abandon takes back from the window its hit counted in, never from a later one: a hit in
/// a one-second window, abandoned after the window ended and another hit opened a new one,
/// leaves the new window's count alone. (The window is waited out: Redis's clock cannot be
/// moved; the marker lives far longer than that.)
#[tokio::test]
async fn an_abandon_after_its_window_ended_leaves_the_next_window_alone() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let cooldown = [Counter {
        key: "abandoned".into(),
        window: Duration::from_secs(1),
        max: 1,
        cost: 1,
        algorithm: Algorithm::FixedWindow,
    }];
    let late = HitId::random();
    assert!(store.hit(&cooldown, late).await.unwrap().is_allowed());
    // Refused until the window ends; the bound only turns a window that never ends into a
    // failure.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match hit(&store, &cooldown).await {
            Decision::Allowed(_) => break,
            Decision::Denied { retry_after, .. } => {
                assert!(Instant::now() < deadline, "the window never ended");
                tokio::time::sleep(retry_after + Duration::from_millis(10)).await;
            }
        }
    }
    assert!(
        exists(&server, &marker(late)).await,
        "the late hit's marker"
    );
    store.abandon(&cooldown, late).await.unwrap();
    assert_eq!(store.peek(&cooldown).await.unwrap()[0].count, 1);
    assert!(!exists(&server, &marker(late)).await);
}

/// A hit's marker lives ten response timeouts, at least 5 s: the abandon follows the hit
/// within one response timeout on the same connection. (It lived a minute: at a thousand
/// decisions a second, 60,000 keys written and replicated for nothing.)
#[tokio::test]
async fn a_hits_marker_lives_ten_response_timeouts_at_least_five_seconds() {
    let server = RedisServer::start();
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    // Response timeouts in milliseconds, and the longest the marker may live.
    for (response, most) in [(200, 5_000), (2_000, 20_000)] {
        let store = RedisStore::builder(server.url())
            .prefix("pvg-test")
            .connection_timeout(TEST_TIMEOUT)
            .response_timeout(Duration::from_millis(response))
            .connect()
            .await
            .unwrap();
        let id = HitId::random();
        let counter = [Counter {
            key: format!("marked{response}"),
            window: Duration::from_secs(3600),
            max: 5,
            cost: 1,
            algorithm: Algorithm::FixedWindow,
        }];
        assert!(store.hit(&counter, id).await.unwrap().is_allowed());
        let ttl: i64 = redis::cmd("PTTL")
            .arg(marker(id))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(
            ttl > i64::from(most / 2) && ttl <= i64::from(most),
            "{response} ms: {ttl} ms"
        );
    }
}

/// A response timeout of `Duration::MAX` ("no limit") gives a marker of an hour, a time to
/// live Redis takes, so a hit counts and is answered. (The marker's life was `Duration::MAX`:
/// Redis refused its `SET … PX` after the script had counted, so counters climbed while every
/// decision failed.)
#[tokio::test]
async fn a_response_timeout_without_limit_keeps_a_marker_of_an_hour() {
    let server = RedisServer::start();
    let store = RedisStore::builder(server.url())
        .prefix("pvg-test")
        .connection_timeout(TEST_TIMEOUT)
        .response_timeout(Duration::MAX)
        .connect()
        .await
        .expect("connects without a response timeout");
    let counter = roomy("unbounded");
    let id = HitId::random();
    let decision = store.hit(&counter, id).await.expect("answered");
    assert!(decision.is_allowed(), "{decision:?}");
    assert_eq!(store.peek(&counter).await.unwrap()[0].count, 1);
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(marker(id))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 1_800_000 && ttl <= 3_600_000, "{ttl} ms");
}

/// `release` in Redis: a count goes down, its expiry kept, and the key goes at zero (not below);
/// a GCRA time goes back one interval per event (of an hour's spacing, still ahead), and the
/// key goes when none is pending; an absent key stays absent.
#[tokio::test]
async fn a_release_takes_back_what_a_hit_added() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let hour = Duration::from_secs(3600);
    let counter = |key: &str, max, cost, algorithm| Counter {
        key: key.into(),
        window: hour,
        max,
        cost,
        algorithm,
    };
    let fixed = counter("f", 2, 1, Algorithm::FixedWindow);
    let spaced = counter("g:gcra", 4, 1, Algorithm::Gcra);
    let (mut first, mut last) = (Vec::new(), Vec::new());
    for c in [&fixed, &spaced] {
        let one = std::slice::from_ref(c);
        first.push(allowed(&store, one).await);
        // At most `max` are allowed: a store that never refuses fails here, not hangs.
        let mut count = 1;
        while hit(&store, one).await.is_allowed() {
            count += 1;
            assert!(count <= c.max, "{c:?}: more than its max allowed");
        }
        store.release(one, &first[first.len() - 1]).await.unwrap();
        last.push(allowed(&store, one).await);
        assert!(matches!(hit(&store, one).await, Decision::Denied { .. }));
    }
    let in_window = &first[0];
    assert!(in_window.ends[0].is_some(), "{in_window:?}");
    assert!(
        first[1].ends[0] < last[1].ends[0],
        "the time each GCRA event left"
    );
    store
        .release(std::slice::from_ref(&fixed), in_window)
        .await
        .unwrap();
    let state = store.peek(std::slice::from_ref(&fixed)).await.unwrap()[0];
    assert_eq!(state.count, 1);
    assert!(
        state
            .resets_in
            .is_some_and(|r| r <= hour && r + Duration::from_secs(60) > hour)
    );
    store
        .release(&[counter("f", 2, 5, Algorithm::FixedWindow)], in_window)
        .await
        .unwrap();
    let state = store.peek(std::slice::from_ref(&fixed)).await.unwrap()[0];
    assert_eq!(state, CounterState::default(), "not below zero: gone");
    store
        .release(std::slice::from_ref(&spaced), &last[1])
        .await
        .unwrap();
    let state = store.peek(std::slice::from_ref(&spaced)).await.unwrap()[0];
    assert_eq!(state.count, 3);
    let none = counter("none", 2, 1, Algorithm::FixedWindow);
    let reservation = Reservation::new(vec![last[1].ends[0], in_window.ends[0]]);
    store
        .release(
            &[counter("g:gcra", 4, 9, Algorithm::Gcra), none],
            &reservation,
        )
        .await
        .unwrap();
    let keys = counter_keys(all_keys(&server).await);
    assert!(keys.is_empty(), "both keys went; none was made: {keys:?}");
}

/// A provider that takes 50 ms to check a code: checks overlap.
#[derive(Debug)]
struct SlowChecks(InMemoryVerifier);

#[async_trait::async_trait]
impl PhoneVerifier for SlowChecks {
    fn provider(&self) -> phone_verify_core::ProviderId {
        PhoneVerifier::provider(&self.0)
    }
    fn capabilities(&self) -> phone_verify_core::Capabilities {
        self.0.capabilities()
    }
    async fn start(&self, request: &StartRequest) -> phone_verify_core::Result<Verification> {
        self.0.start(request).await
    }
    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> phone_verify_core::Result<phone_verify_core::CheckOutcome> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.0.check(verification, request).await
    }
}

/// Ten wrong codes checked at once through two guards (two instances) sharing Redis: the
/// limit holds, because each check reserves its wrong code before the provider sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_checked_at_once_on_two_instances_cannot_pass_the_limit() {
    let server = RedisServer::start();
    let provider = InMemoryVerifier::with_state(InMemoryState::new().with_max_attempts(100));
    let mut config = GuardConfig::off();
    config.wrong_codes_per_verification = Some(3);
    config.store_timeout_ms = u64::try_from(TEST_TIMEOUT.as_millis()).unwrap();
    let mut guards = Vec::new();
    for _ in 0..2 {
        let slow = SlowChecks(provider.clone_fresh());
        let guard = Guard::builder(Arc::new(slow))
            .secret(SECRET)
            .store(Arc::new(store(&server).await))
            .config(config.clone())
            .build()
            .expect("a valid guard");
        guards.push(Arc::new(guard));
    }
    let handle = guards[0]
        .start(&StartRequest::sms("+905321230003".parse().unwrap()))
        .await
        .unwrap();
    let code = provider
        .state()
        .message_for(&handle.reference)
        .unwrap()
        .code;
    let wrong = CheckRequest::code(phone_verify_testkit::different_code(&code));
    let checks = (0..10).map(|i| {
        let guard = Arc::clone(&guards[i % 2]);
        let (handle, wrong) = (handle.clone(), wrong.clone());
        tokio::spawn(async move { guard.check(&handle, &wrong).await.unwrap() })
    });
    let reasons: Vec<RejectReason> = futures::future::join_all(checks)
        .await
        .into_iter()
        .map(|outcome| outcome.unwrap().rejection().unwrap().reason)
        .collect();
    let wrong_codes = reasons
        .iter()
        .filter(|r| **r == RejectReason::WrongCode)
        .count();
    assert_eq!(wrong_codes, 3, "{reasons:?}");
    assert_eq!(
        provider.state().request_counts().total,
        4,
        "one start and three checks reached the provider"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_gives_the_fail_mode_without_hanging() {
    let mut server = RedisServer::start();
    let provider = InMemoryVerifier::new();
    let closed = Arc::new(guard(&provider, store(&server).await, per_phone(1000)));
    let open_config = GuardConfig {
        send_fail_mode: FailMode::Open,
        ..per_phone(1000)
    };
    let open = Arc::new(guard(&provider, store(&server).await, open_config));
    for i in 0..10 {
        let phone = format!("+90532123{i:04}").parse().unwrap();
        closed.start(&StartRequest::sms(phone)).await.unwrap();
    }
    server.kill();
    let sends_before = provider.state().request_counts().sends;
    // Every call is answered by the store's error or the guard's store timeout (5 s here); the
    // outer bound only turns a hang into a failure instead of a stuck test.
    let bound = Duration::from_secs(10);
    let calls = (0..50).map(|i| {
        let (closed, open) = (Arc::clone(&closed), Arc::clone(&open));
        tokio::spawn(async move {
            let phone: phone_verify_core::PhoneNumber = format!("+90532124{i:04}").parse().unwrap();
            let request = StartRequest::sms(phone);
            let refused = tokio::time::timeout(bound, closed.start(&request)).await;
            let let_through = tokio::time::timeout(bound, open.start(&request)).await;
            (refused, let_through)
        })
    });
    for call in futures::future::join_all(calls).await {
        let (refused, let_through) = call.expect("no panic");
        let err = refused.expect("answered, not hung").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable, "{err}");
        assert_eq!(Denial::of(&err).map(|d| d.rule), Some(Rule::Store));
        let_through
            .expect("answered, not hung")
            .expect("fail open lets the send through");
    }
    assert_eq!(provider.state().request_counts().sends, sends_before + 50);
}

/// A released fixed-window counter keeps its window in both stores while it counts: the next
/// event counts in the window that was already running, as [`GuardStore::release`] says.
/// (Redis used to start a new window when a count was hit again after a release: a limit's
/// window moved later each time a reserved event was taken back.) Back to zero, it is gone in
/// both: the next event starts a new window, as on a counter never hit.
#[tokio::test]
async fn a_released_counter_keeps_its_window_until_it_is_back_to_zero_in_both_stores() {
    let server = RedisServer::start();
    let redis = store(&server).await;
    let clock = phone_verify_guard::ManualClock::new();
    let memory = phone_verify_guard::MemoryStore::with_clock(Arc::new(clock.clone()));
    let window = Duration::from_secs(60);
    let counter = Counter {
        key: "released".into(),
        window,
        max: 3,
        cost: 1,
        algorithm: Algorithm::FixedWindow,
    };
    let one = std::slice::from_ref(&counter);
    let waited = Duration::from_millis(1500);
    let mut second = Vec::new();
    for store in [&redis as &dyn GuardStore, &memory] {
        let first = allowed(store, one).await;
        second.push(allowed(store, one).await);
        store.release(one, &first).await.unwrap();
    }
    tokio::time::sleep(waited).await;
    clock.advance(waited);
    for (store, second) in [&redis as &dyn GuardStore, &memory].into_iter().zip(second) {
        let third = allowed(store, one).await;
        assert_eq!(third, second, "{store:?}: the same window");
        let state = store.peek(one).await.unwrap()[0];
        assert_eq!(state.count, 2, "{store:?}");
        let resets_in = state.resets_in.expect("the counter exists");
        assert!(
            resets_in + waited <= window,
            "{store:?}: the window restarted ({resets_in:?} left of {window:?}, \
             {waited:?} after it started)"
        );
        store.release(one, &second).await.unwrap();
        store.release(one, &third).await.unwrap();
        let state = store.peek(one).await.unwrap()[0];
        assert_eq!(
            state,
            CounterState::default(),
            "{store:?}: back to zero, gone"
        );
        assert!(hit(store, one).await.is_allowed());
        let resets_in = store.peek(one).await.unwrap()[0].resets_in.unwrap();
        assert!(
            resets_in + waited > window,
            "{store:?}: a new window ({resets_in:?} left of {window:?})"
        );
    }
}

/// The refusal names the counter the user must wait longest for, in Redis as in memory (whose
/// test moves a clock through the whole scenario): five sends 31 s apart, then a sixth 10 s
/// after the fifth. Redis's clock cannot be moved, so the counters are set to what they hold
/// then: the cooldown's window has 20 s left, the per-phone limit's (5 per 10 minutes, full)
/// 466 s. Reported: the per-phone limit, 466 s, not the cooldown's 20 s.
#[tokio::test]
async fn the_refusal_with_the_longest_wait_is_reported_in_redis() {
    let server = RedisServer::start();
    let provider = InMemoryVerifier::new();
    let guarded = guard(&provider, store(&server).await, GuardConfig::default());
    let request = StartRequest::sms("+905321230003".parse().unwrap());
    guarded.start(&request).await.unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for (rule, count, left_ms) in [
        ("resend_cooldown", 1, 20_000),
        ("per_phone", 5, 466_000),
        ("per_phone_daily", 5, (86_400 - 134) * 1000),
    ] {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{{pvg-test}}:{rule}:*"))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(keys.len(), 1, "{rule}: {keys:?}");
        let () = redis::cmd("SET")
            .arg(&keys[0])
            .arg(count)
            .arg("PX")
            .arg(left_ms)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let err = guarded.start(&request).await.unwrap_err();
    assert_eq!(
        Denial::of(&err).map(|d| d.rule),
        Some(Rule::PerPhone),
        "{err}"
    );
    let retry_after = err.retry_after().unwrap();
    assert!(
        retry_after <= Duration::from_secs(466) && retry_after > Duration::from_secs(460),
        "{retry_after:?}"
    );
}

/// Hits `counter` until it is full: each of its `max` events allowed, the next refused.
/// Returns the refusal's wait.
async fn fill(store: &RedisStore, counter: &Counter) -> Duration {
    let one = std::slice::from_ref(counter);
    for _ in 0..counter.max {
        allowed(store, one).await;
    }
    match hit(store, one).await {
        Decision::Denied {
            index: 0,
            retry_after,
        } => retry_after,
        other => panic!("{counter:?}: one more than its max was {other:?}"),
    }
}

/// Across a window's end in real time, since Redis's clock cannot be moved: a full
/// fixed-window counter is refused until its time to live runs out, then its key is gone and
/// the next event starts a new window; a GCRA counter at its limit takes one more event an
/// interval later, not a new burst. The windows are 2 and 4 seconds long and each wait is
/// the retry-after Redis gave plus a margin, so a slow machine makes the test wait, not fail
/// (only a stall longer than a window between two calls in a row would). Both run at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_free_up_when_their_time_passes_in_redis() {
    const MARGIN: Duration = Duration::from_millis(100);
    let server = RedisServer::start();
    let store = store(&server).await;
    let fixed = async {
        let window = Duration::from_secs(2);
        let counter = Counter {
            key: "timed".into(),
            window,
            max: 2,
            cost: 1,
            algorithm: Algorithm::FixedWindow,
        };
        let one = std::slice::from_ref(&counter);
        let retry_after = fill(&store, &counter).await;
        assert!(retry_after <= window, "{retry_after:?}");
        tokio::time::sleep(retry_after + MARGIN).await;
        let state = store.peek(one).await.unwrap()[0];
        assert_eq!((state.count, state.resets_in), (0, None), "the key expired");
        allowed(&store, one).await;
        let state = store.peek(one).await.unwrap()[0];
        assert_eq!(state.count, 1, "a new window");
        assert!(
            state.resets_in.is_some_and(|r| r <= window),
            "{state:?}: the new window expires"
        );
    };
    let gcra = async {
        let window = Duration::from_secs(4);
        let interval = window / 2;
        let counter = Counter {
            key: "timed:gcra".into(),
            window,
            max: 2,
            cost: 1,
            algorithm: Algorithm::Gcra,
        };
        let one = std::slice::from_ref(&counter);
        let retry_after = fill(&store, &counter).await;
        assert!(retry_after <= interval, "{retry_after:?}");
        tokio::time::sleep(retry_after + MARGIN).await;
        allowed(&store, one).await;
        let Decision::Denied { retry_after, .. } = hit(&store, one).await else {
            panic!("one interval frees one event, not a burst");
        };
        assert!(retry_after <= interval, "{retry_after:?}");
        let state = store.peek(one).await.unwrap()[0];
        assert_eq!(state.count, 2, "{state:?}");
    };
    tokio::join!(fixed, gcra);
}

/// The counters of one differential case: fixed windows and GCRA, with windows in seconds.
/// `f:gcra`'s interval is no whole number of milliseconds with a `max` of 3 (1,200,333.3 ms).
const KEYS: [(&str, u64, Algorithm); 6] = [
    ("a", 3600, Algorithm::FixedWindow),
    ("b", 7200, Algorithm::FixedWindow),
    ("c", 3600, Algorithm::FixedWindow),
    ("d:gcra", 3600, Algorithm::Gcra),
    ("e:gcra", 7200, Algorithm::Gcra),
    ("f:gcra", 3601, Algorithm::Gcra),
];

/// One step of a differential case: a hit of counters (by index in [`KEYS`], each at most
/// once) with their costs, or the release of an allowed hit not released yet (by its index
/// modulo their number).
#[derive(Debug, Clone)]
enum Step {
    Hit(Vec<(usize, u64)>),
    Release(usize),
}

fn steps() -> impl proptest::strategy::Strategy<Value = Vec<Step>> {
    use proptest::prelude::*;
    let counters = proptest::sample::subsequence((0..KEYS.len()).collect::<Vec<_>>(), 1..=3)
        .prop_flat_map(|keys| {
            let n = keys.len();
            (Just(keys), proptest::collection::vec(0_u64..=2, n))
        })
        .prop_map(|(keys, costs)| keys.into_iter().zip(costs).collect::<Vec<_>>());
    let step = prop_oneof![
        3 => counters.clone().prop_map(Step::Hit),
        1 => (0_usize..40).prop_map(Step::Release),
    ];
    proptest::collection::vec(step, 1..40)
}

/// How far apart the stores' times may be: Redis's clock runs while the case runs, the
/// memory store's stands still.
const SLACK: Duration = Duration::from_secs(5);

fn close(a: Duration, b: Duration) -> bool {
    a.abs_diff(b) <= SLACK
}

/// The in-memory store and Redis answer alike: random sequences of decisions and releases
/// over fixed-window and GCRA counters, with random limits (0 included) and costs (0, a
/// check only, included), get the same decisions, the same refusing counter (or one that waits
/// as long), and then the same counts and windows, on both. Within one window: Redis's clock
/// cannot be moved, so the windows are hours long and the case takes milliseconds; times are
/// compared within a few seconds. Each store's allowed hits are released with what that store
/// reserved.
#[test]
fn memory_and_redis_answer_alike() {
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    let server = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let redis = runtime.block_on(store(&server));
    let case = std::sync::atomic::AtomicU64::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (proptest::collection::vec(0_u64..=4, KEYS.len()), steps());
    let result = runner.run(&strategy, |(maxes, steps)| {
        // Fresh keys for each case: the cases share the server.
        let case = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let counter = |index: usize, cost: u64| {
            let (key, hours, algorithm) = KEYS[index];
            Counter {
                key: format!("case{case}:{key}"),
                window: Duration::from_secs(hours),
                max: maxes[index],
                cost,
                algorithm,
            }
        };
        let memory = phone_verify_guard::MemoryStore::with_clock(Arc::new(
            phone_verify_guard::ManualClock::new(),
        ));
        runtime.block_on(async {
            let all: Vec<Counter> = (0..KEYS.len()).map(|i| counter(i, 1)).collect();
            // The allowed hits not released yet: their counters, and each store's reservation.
            let mut held: Vec<(Vec<Counter>, Reservation, Reservation)> = Vec::new();
            for (number, step) in steps.iter().enumerate() {
                match step {
                    Step::Hit(picked) => {
                        let counters: Vec<Counter> =
                            picked.iter().map(|&(i, cost)| counter(i, cost)).collect();
                        let (m, r) = (hit(&memory, &counters).await, hit(&redis, &counters).await);
                        let alike = match (&m, &r) {
                            (Decision::Allowed(in_memory), Decision::Allowed(in_redis)) => {
                                held.push((counters, in_memory.clone(), in_redis.clone()));
                                true
                            }
                            (
                                &Decision::Denied { index, retry_after },
                                &Decision::Denied {
                                    index: i,
                                    retry_after: r,
                                },
                            ) => {
                                // The same wait, and the same counter: the one that waits
                                // longest. Two that wait within the slack of each other may be
                                // told apart differently (Redis's clock moves between steps,
                                // the memory store's does not), so another counter is taken if
                                // each store refuses it alone with the wait it gave (a refusal
                                // counts nothing).
                                let alone = |n: usize| &counters[n..=n];
                                let near = |d: Decision, wait: Duration| {
                                    matches!(d, Decision::Denied { retry_after, .. } if close(retry_after, wait))
                                };
                                close(retry_after, r)
                                    && (index == i
                                        || (near(hit(&memory, alone(i)).await, retry_after)
                                            && near(hit(&redis, alone(index)).await, r)))
                            }
                            _ => false,
                        };
                        if !alike {
                            return Err(TestCaseError::fail(format!(
                                "step {number} ({step:?}): memory {m:?}, redis {r:?}"
                            )));
                        }
                    }
                    Step::Release(_) if held.is_empty() => {}
                    &Step::Release(which) => {
                        let (counters, in_memory, in_redis) = held.remove(which % held.len());
                        memory.release(&counters, &in_memory).await.unwrap();
                        redis.release(&counters, &in_redis).await.unwrap();
                    }
                }
                let in_memory = memory.peek(&all).await.unwrap();
                let in_redis = redis.peek(&all).await.unwrap();
                for (index, (m, r)) in in_memory.iter().zip(&in_redis).enumerate() {
                    let alike = m.count == r.count
                        && match (m.resets_in, r.resets_in) {
                            (None, None) => true,
                            (Some(left_m), Some(left_r)) => close(left_m, left_r),
                            _ => false,
                        };
                    if !alike {
                        return Err(TestCaseError::fail(format!(
                            "after step {number} ({step:?}), counter {}: memory {m:?}, \
                             redis {r:?}",
                            KEYS[index].0
                        )));
                    }
                }
            }
            Ok(())
        })
    });
    if let Err(err) = result {
        panic!("the stores disagree: {err}");
    }
}

/// Settings with `store = "redis"` build a guard whose counters are in that Redis, under the
/// settings' prefix, with the URL read from the variable the settings name.
#[tokio::test]
async fn settings_with_the_redis_store_count_in_redis() {
    let server = RedisServer::start();
    let settings = phone_verify_guard::GuardSettings::from_toml(
        "store = \"redis\"\nredis_prefix = \"from-settings\"\nredis_url_env = \"MY_REDIS\"\n\
         [rules]\nstore_timeout_ms = 5000\n",
    )
    .unwrap();
    let url = server.url();
    let lookup = |name: &str| match name {
        "MY_REDIS" => Some(url.clone()),
        phone_verify_guard::ENV_SECRET => Some(SECRET.to_owned()),
        _ => None,
    };
    let provider = InMemoryVerifier::new();
    let guard = settings
        .build_with_lookup(Arc::new(provider.clone_fresh()), None, lookup)
        .await
        .unwrap();
    guard
        .start(&StartRequest::sms("+905321110300".parse().unwrap()))
        .await
        .unwrap();
    let keys = all_keys(&server).await;
    assert!(
        keys.iter()
            .any(|k| k.starts_with("{from-settings}:per_phone:")),
        "{keys:?}"
    );
}

/// The port of `server`.
fn port(server: &RedisServer) -> u16 {
    let url = server.url();
    let port = url.rsplit(':').next().unwrap().trim_end_matches("/0");
    port.parse().unwrap()
}

/// A counter of an hour that lets many decisions through.
fn roomy(key: &str) -> [Counter; 1] {
    [Counter {
        key: key.into(),
        window: Duration::from_secs(3600),
        max: 1000,
        cost: 1,
        algorithm: Algorithm::FixedWindow,
    }]
}

/// A malformed URL and a bad prefix are configuration errors, not a passing outage, and never
/// show the URL's password; a password Redis refuses, or none where it wants one, is an
/// authentication error. (All three were `Unavailable`, which the guard reports as a provider
/// outage to retry.)
#[tokio::test]
async fn configuration_and_credentials_errors_are_told_apart_from_an_outage() {
    let err = RedisStore::builder("redis://:hunter2@h:6379/notadb")
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Config(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
    // Without the `redis-tls` feature a `rediss://` URL is the operator's to change, not an
    // outage (tests/redis_tls.rs covers TLS).
    #[cfg(not(feature = "redis-tls"))]
    {
        let tls = RedisStore::builder("rediss://:hunter2@127.0.0.1:6380")
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(tls, StoreError::Config(_)), "{tls:?}");
        assert!(tls.to_string().contains("redis-tls"), "{tls}");
        assert!(!format!("{tls} {tls:?}").contains("hunter2"), "{tls:?}");
    }
    let server = RedisServer::start();
    server.config_set("requirepass", "right-password").await;
    let with = |password: &str| {
        RedisStore::builder(
            server
                .url()
                .replace("redis://", &format!("redis://{password}")),
        )
        .prefix("pvg-test")
        .connection_timeout(TEST_TIMEOUT)
        .response_timeout(TEST_TIMEOUT)
        .connect()
    };
    for password in [":wrong-hunter2@", ""] {
        let err = with(password).await.unwrap_err();
        assert!(matches!(err, StoreError::Auth(_)), "{password:?}: {err:?}");
        assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
        assert!(!err.may_still_count());
    }
    let store = with(":right-password@").await.expect("the right password");
    allowed(&store, &roomy("authenticated")).await;
}

/// A password Redis refuses is told at once with the default timeouts (1 s to connect, 200 ms
/// a command): the connection is tried once, not again after a second or more of backoff,
/// which `connect`'s bound cut short into a timeout, a passing outage.
#[tokio::test]
async fn a_refused_password_is_told_within_the_default_timeouts() {
    let server = RedisServer::start();
    server.config_set("requirepass", "right-password").await;
    let url = server.url().replace("redis://", "redis://:wrong-password@");
    let err = RedisStore::builder(url).connect().await.unwrap_err();
    assert!(matches!(err, StoreError::Auth(_)), "{err:?}");
}

/// The ids of the server's normal clients (not its replication links) but the one asking on
/// `conn`.
async fn other_clients(conn: &mut redis::aio::MultiplexedConnection) -> Vec<u64> {
    let me: u64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(conn)
        .await
        .unwrap();
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("normal")
        .query_async(conn)
        .await
        .unwrap();
    list.lines()
        .filter_map(|line| line.strip_prefix("id=")?.split(' ').next()?.parse().ok())
        .filter(|id| *id != me)
        .collect()
}

/// A connection Redis closes while it is idle (its `timeout`, here 1 s) is replaced as soon as
/// it closes, so the next decision goes through. The store's new connection shows in Redis's
/// client list without any call from the store; the bound only turns a store that never
/// reconnects into a failure. (The store heard of the closed connection only when the next
/// decision failed on it: a send refused after every quiet spell, with fail closed.)
#[tokio::test]
async fn a_connection_redis_closed_while_idle_is_replaced_before_the_next_decision() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let counter = roomy("idle");
    allowed(&store, &counter).await;
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let before = other_clients(&mut conn).await;
    assert_eq!(before.len(), 1, "the store's connection: {before:?}");
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("timeout")
        .arg(1)
        .query_async(&mut conn)
        .await
        .unwrap();
    // This connection asks every 100 ms: never idle for a second.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = other_clients(&mut conn).await;
        if !now.is_empty() && !now.contains(&before[0]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the store did not reconnect after Redis closed its connection: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    allowed(&store, &counter).await;
}

/// The `resp` (protocol) of every client of `server` but the one asking (`CLIENT LIST`).
async fn protocols(server: &RedisServer) -> Vec<String> {
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let me: u64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(&mut conn)
        .await
        .unwrap();
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut conn)
        .await
        .unwrap();
    let mine = format!("id={me} ");
    list.lines()
        .filter(|line| !line.starts_with(&mine))
        .filter_map(|line| {
            line.split(' ')
                .find_map(|field| field.strip_prefix("resp="))
        })
        .map(str::to_owned)
        .collect()
}

/// A URL that names its protocol (`?protocol=resp2`) keeps it, and decisions work over it; a
/// URL that names none gets RESP3. (RESP3 was forced whatever the URL said, so a Redis behind
/// a proxy without `HELLO`, which connected with RESP2 before, was refused.)
#[tokio::test]
async fn a_protocol_the_url_names_is_kept() {
    let server = RedisServer::start();
    let resp2 = RedisStore::builder(format!("{}?protocol=resp2", server.url()))
        .prefix("pvg-test")
        .connection_timeout(TEST_TIMEOUT)
        .response_timeout(TEST_TIMEOUT)
        .connect()
        .await
        .expect("connects over RESP2");
    let mut counter = roomy("resp2");
    counter[0].max = 1;
    allowed(&resp2, &counter).await;
    assert!(!hit(&resp2, &counter).await.is_allowed());
    assert_eq!(protocols(&server).await, ["2"]);
    let unnamed = RedisServer::start();
    let _resp3 = store(&unnamed).await;
    assert_eq!(protocols(&unnamed).await, ["3"]);
}

/// A TCP forwarder standing for the network path to Redis: each new connection goes to the
/// target port of the moment, [`freeze`](Self::freeze) makes every connection open then
/// carry nothing more, without closing it (a server or a path gone silent), and
/// [`release`](Self::release) lets what their clients sent meanwhile reach the server late.
struct Forwarder {
    port: u16,
    target: Arc<std::sync::atomic::AtomicU16>,
    epoch: Arc<std::sync::atomic::AtomicU64>,
    /// The last epoch released: connections frozen at it or before deliver what they hold.
    released: tokio::sync::watch::Sender<u64>,
}

impl Forwarder {
    async fn start(target: u16) -> Self {
        use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = Arc::new(AtomicU16::new(target));
        let epoch = Arc::new(AtomicU64::new(0));
        let (released, release) = tokio::sync::watch::channel(0);
        let (to, frozen) = (Arc::clone(&target), Arc::clone(&epoch));
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let mine = frozen.load(Ordering::SeqCst);
                let Ok(upstream) =
                    tokio::net::TcpStream::connect(("127.0.0.1", to.load(Ordering::SeqCst))).await
                else {
                    continue;
                };
                let (from_client, to_client) = inbound.into_split();
                let (from_server, to_server) = upstream.into_split();
                let gate = Some(release.clone());
                let up = pipe(from_client, to_server, Arc::clone(&frozen), mine, gate);
                let down = pipe(from_server, to_client, Arc::clone(&frozen), mine, None);
                tokio::spawn(up);
                tokio::spawn(down);
            }
        });
        Self {
            port,
            target,
            epoch,
            released,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Every connection open now carries nothing more, and stays open.
    fn freeze(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// New connections go to `port`.
    fn retarget(&self, port: u16) {
        self.target.store(port, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every connection frozen now sends on to the server, in order, what its client sent
    /// since the freeze (a stalled path that comes back), then hangs up on the server, which
    /// runs all of it and then drops the connection. What the server answers stays held.
    fn release(&self) {
        self.released
            .send_replace(self.epoch.load(std::sync::atomic::Ordering::SeqCst));
    }
}

/// Copies `from` to `to` until either closes, or until the forwarder's epoch moves past
/// `mine`: then it holds both open and carries nothing; or, towards the server (with
/// `release`), until the forwarder releases that epoch: then it sends on what it held and
/// what `from` has sent since, and returns, which closes `to` for writing.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    epoch: Arc<std::sync::atomic::AtomicU64>,
    mine: u64,
    release: Option<tokio::sync::watch::Receiver<u64>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let now = epoch.load(std::sync::atomic::Ordering::SeqCst);
        if now != mine {
            let released = match release {
                Some(mut release) => release.wait_for(|&epoch| epoch >= now).await.is_ok(),
                None => false,
            };
            if !released {
                std::future::pending::<()>().await;
            }
            // What the client sent before the release is waiting in `from`.
            let mut n = n;
            while n > 0 && to.write_all(&buffer[..n]).await.is_ok() {
                n = from.try_read(&mut buffer).unwrap_or(0);
            }
            return;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

/// A store connected through `forwarder`, with a response timeout of `response`.
async fn forwarded(forwarder: &Forwarder, response: Duration) -> RedisStore {
    RedisStore::builder(forwarder.url())
        .prefix("pvg-test")
        .connection_timeout(TEST_TIMEOUT)
        .response_timeout(response)
        .connect()
        .await
        .expect("connects through the forwarder")
}

/// A connection that stops answering without closing is replaced: decisions on it time out,
/// a `PING` on it gets no answer either, and a new connection (which the forwarder carries)
/// takes over; an abandon after that goes on both and is answered. The bound only turns a
/// connection never replaced into a failure. (Every decision timed out until the kernel gave
/// up on the connection, some fifteen minutes.)
#[tokio::test]
async fn a_connection_that_stops_answering_is_replaced() {
    let server = RedisServer::start();
    let forwarder = Forwarder::start(port(&server)).await;
    let store = forwarded(&forwarder, Duration::from_millis(500)).await;
    let counter = roomy("frozen");
    allowed(&store, &counter).await;
    forwarder.freeze();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut failed = None;
    loop {
        let id = HitId::random();
        match store.hit(&counter, id).await {
            Ok(decision) => {
                assert!(decision.is_allowed(), "{decision:?}");
                break;
            }
            Err(err) => {
                assert!(
                    Instant::now() < deadline,
                    "the frozen connection was never replaced: {err}"
                );
                failed = Some(id);
            }
        }
    }
    let failed = failed.expect("decisions on the frozen connection failed first");
    store.abandon(&counter, failed).await.expect("answered");
    assert_eq!(store.peek(&counter).await.unwrap()[0].count, 2);
}

/// A hit held on a connection that stalls, abandoned after the connection was replaced, is
/// taken back on the old connection when that one comes back; one abandoned after a marker's
/// life stays counted there. Two hits go on a connection the forwarder then holds; both are
/// given up, and the store replaces the connection (peeks are answered again: a peek held on
/// the old one changes nothing). The first is abandoned at once: the abandon goes on the new
/// connection, where it finds no marker, and on the old one, behind the hit. The second is
/// abandoned once a marker's life (5 s) has passed since the replacement: on the new
/// connection only, the old one retired. Then the old connection's traffic reaches Redis, in
/// order: both late hits run, the first abandon takes the first back, and the counter ends
/// one above where it was, with the second hit's marker left. The bounds only turn a
/// connection never replaced, or traffic never run, into a failure.
#[tokio::test]
async fn a_late_hit_on_a_replaced_connection_is_abandoned_there_for_a_markers_life() {
    // Ten response timeouts of 500 ms, the least a marker lives.
    const MARKER_LIFE: Duration = Duration::from_secs(5);
    let server = RedisServer::start();
    let forwarder = Forwarder::start(port(&server)).await;
    let store = forwarded(&forwarder, Duration::from_millis(500)).await;
    let counter = roomy("late");
    let key = "{pvg-test}:late";
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    allowed(&store, &counter).await;
    let old = other_clients(&mut conn).await;
    assert_eq!(old.len(), 1, "the store's connection: {old:?}");
    forwarder.freeze();
    let (first, second) = (HitId::random(), HitId::random());
    // Both on the connection in use: it is replaced only after a call on it failed.
    let (one, two) = tokio::join!(store.hit(&counter, first), store.hit(&counter, second));
    for given_up in [one, two] {
        let err = given_up.expect_err("the frozen connection answers nothing");
        assert!(err.may_still_count(), "{err:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let held = loop {
        match store.peek(&counter).await {
            Ok(states) => break states[0].count,
            Err(err) => assert!(Instant::now() < deadline, "never replaced: {err}"),
        }
    };
    let replaced = Instant::now();
    assert_eq!(held, 1, "the late hits are held");
    store.abandon(&counter, first).await.expect("answered");
    // The replacement came before `replaced`; the margin covers the timer's milliseconds.
    tokio::time::sleep_until((replaced + MARKER_LIFE + Duration::from_millis(100)).into()).await;
    store.abandon(&counter, second).await.expect("answered");
    forwarder.release();
    // Redis drops the old connection once it has run all it got there: the hang-up comes last.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = other_clients(&mut conn).await;
        if !now.contains(&old[0]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the old connection's traffic never ran: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let count: Option<u64> = redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        count,
        Some(2),
        "the first late hit taken back, the second kept"
    );
    assert!(
        !exists(&server, &marker(first)).await,
        "the first late hit was abandoned after it"
    );
    assert!(
        exists(&server, &marker(second)).await,
        "the second late hit ran, and nothing took it back"
    );
}

/// A connection the guard gives up on at its own store timeout, before redis-rs's response
/// timeout passes, is checked all the same and replaced when it stays silent: sends are
/// refused (fail closed) until then, and go out after. The bound only turns a connection never
/// replaced into a failure.
#[tokio::test]
async fn a_connection_the_guard_gives_up_on_is_replaced() {
    sends_go_out_again_after_a_freeze(Duration::from_secs(1), 125).await;
}

/// Without a response timeout (`Duration::MAX`, "no limit"), a connection the guard gives up
/// on is replaced all the same: the `PING` that checks it is bounded on its own. Sends are
/// refused (fail closed) until then, and go out after. The bound only turns a connection never
/// replaced into a failure. (The `PING` waited for ever on the silent connection, and no check
/// ever started again: the connection was never replaced.)
#[tokio::test]
async fn a_connection_without_a_response_timeout_is_replaced_when_it_stalls() {
    sends_go_out_again_after_a_freeze(Duration::MAX, 126).await;
}

/// Through a guard (store timeout 200 ms) whose store, with `response_timeout`, is reached
/// through a forwarder frozen after a first send: later sends are refused by the store rule
/// until the store replaces its connection, then go out. Phones `+90532{series}NNNN`.
async fn sends_go_out_again_after_a_freeze(response_timeout: Duration, series: u32) {
    let server = RedisServer::start();
    let forwarder = Forwarder::start(port(&server)).await;
    let provider = InMemoryVerifier::new();
    let guarded = Guard::builder(Arc::new(provider.clone_fresh()))
        .secret(SECRET)
        .store(Arc::new(forwarded(&forwarder, response_timeout).await))
        .config(GuardConfig {
            store_timeout_ms: 200,
            ..per_phone(1000)
        })
        .build()
        .unwrap();
    let start = |i: u32| {
        let request = StartRequest::sms(format!("+90532{series}{i:04}").parse().unwrap());
        let guarded = &guarded;
        async move { guarded.start(&request).await }
    };
    start(0).await.expect("sent before the freeze");
    forwarder.freeze();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut refused = 0;
    for i in 1.. {
        match start(i).await {
            Ok(_) => break,
            Err(err) => {
                assert_eq!(Denial::of(&err).map(|d| d.rule), Some(Rule::Store), "{err}");
                assert!(Instant::now() < deadline, "never replaced: {err}");
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "the frozen connection refused sends first");
}

/// A primary demoted to a replica answers `READONLY`: the store replaces its connection at
/// once, and the new one (the forwarder now leads to the new primary, as a failover's DNS or
/// address would) takes the decisions. The bound only turns a connection never replaced into a
/// failure. (`READONLY` kept every decision failing on the old connection.)
#[tokio::test]
async fn a_primary_turned_replica_is_left_for_a_new_connection() {
    let (old, new) = (RedisServer::start(), RedisServer::start());
    let forwarder = Forwarder::start(port(&old)).await;
    let store = forwarded(&forwarder, TEST_TIMEOUT).await;
    let counter = roomy("failover");
    allowed(&store, &counter).await;
    forwarder.retarget(port(&new));
    let client = redis::Client::open(old.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(port(&new))
        .query_async(&mut conn)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut errors = Vec::new();
    loop {
        match store.hit(&counter, HitId::random()).await {
            Ok(decision) => {
                assert!(decision.is_allowed(), "{decision:?}");
                break;
            }
            Err(err) => {
                assert!(
                    Instant::now() < deadline,
                    "never replaced: {err} after {errors:?}"
                );
                errors.push(err.to_string());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    assert!(
        errors
            .first()
            .is_some_and(|e| e.contains("read only replica")),
        "{errors:?}"
    );
}

/// The ids of `server`'s normal clients (not its replication links) but the one asking.
async fn normal_clients(server: &RedisServer) -> Vec<u64> {
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    other_clients(&mut conn).await
}

/// The connection a replacement left behind is closed once a marker's life (here 5 s) has
/// passed and the store makes a call: the demoted primary stops seeing it. The wait only lets
/// that life pass; the bound only turns a connection never closed into a failure. (It was kept
/// until the next replacement, its manager reconnecting in the background.)
#[tokio::test]
async fn a_replaced_connection_is_closed_after_a_markers_life() {
    let (old, new) = (RedisServer::start(), RedisServer::start());
    let forwarder = Forwarder::start(port(&old)).await;
    let store = forwarded(&forwarder, Duration::from_millis(500)).await;
    let counter = roomy("retired");
    allowed(&store, &counter).await;
    forwarder.retarget(port(&new));
    let client = redis::Client::open(old.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(port(&new))
        .query_async(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.hit(&counter, HitId::random()).await.is_err() {
        assert!(Instant::now() < deadline, "never replaced");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let left = normal_clients(&old).await;
    assert_eq!(left.len(), 1, "the replaced connection: {left:?}");
    tokio::time::sleep(Duration::from_secs(5)).await;
    allowed(&store, &counter).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = normal_clients(&old).await;
        if now.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replaced connection is still open: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
