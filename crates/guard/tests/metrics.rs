//! Decisions as `metrics` counters: sends allowed, allowlisted and denied by rule, checks
//! allowed, and no label holding a phone or an IP.
//! Its own test binary: the recorder is installed for the whole process.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use phone_verify_core::{CheckRequest, PhoneVerifier, StartRequest};
use phone_verify_guard::{Guard, GuardConfig, Limit};
use phone_verify_testkit::memory::InMemoryVerifier;

const NAME: &str = "phone_verify_guard_decisions_total";

#[tokio::test]
async fn decisions_are_counted_by_rule_without_a_phone_or_ip_in_any_label() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .expect("the only recorder of this process");
    let config = GuardConfig {
        per_ip: Some(Limit::per_hour(2)),
        deny_regions: vec!["PA".into()],
        allowlist: vec!["+905321234599".into()],
        ..GuardConfig::default()
    };
    let provider = InMemoryVerifier::new();
    let guard = Guard::builder(Arc::new(provider.clone_fresh()))
        .secret("a secret of 16 bytes or more")
        .config(config)
        .build()
        .unwrap();
    let ip: IpAddr = "203.0.113.77".parse().unwrap();
    let send = |phone: &str| StartRequest::sms(phone.parse().unwrap()).end_user_ip(ip);
    let phones = [
        "+905321234567", // allowed
        "+905321234567", // resend_cooldown
        "+905321234568", // allowed
        "+905321234569", // per_ip (the third from the address)
        "+449098790000", // number_type (premium rate)
        "+50762647737",  // region (denied)
        "+905321234599", // allowlisted
    ];
    let mut handles = Vec::new();
    for phone in phones {
        handles.extend(guard.start(&send(phone)).await);
    }
    // A check with a code: its wrong code reserved, then given back (check_allowed).
    let handle = &handles[0];
    let code = provider
        .state()
        .message_for(&handle.reference)
        .unwrap()
        .code;
    let outcome = guard
        .check(handle, &CheckRequest::code(code))
        .await
        .unwrap();
    assert!(outcome.is_verified());

    let mut counts = BTreeMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let labels: BTreeMap<&str, &str> = key.labels().map(|l| (l.key(), l.value())).collect();
        for value in labels.values() {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            assert!(digits.len() < 4, "a label holds digits: {value}");
            assert!(
                !value.contains("203.0.113"),
                "a label holds the IP: {value}"
            );
        }
        if key.name() != NAME {
            continue;
        }
        let DebugValue::Counter(n) = value else {
            panic!("{NAME} is a counter");
        };
        counts.insert((labels["rule"].to_owned(), labels["outcome"].to_owned()), n);
    }
    let expected: BTreeMap<(String, String), u64> = [
        ("none", "allowed", 2),
        ("none", "allowlisted", 1),
        ("none", "check_allowed", 1),
        ("resend_cooldown", "denied", 1),
        ("per_ip", "denied", 1),
        ("number_type", "denied", 1),
        ("region", "denied", 1),
    ]
    .into_iter()
    .map(|(rule, outcome, n)| ((rule.to_owned(), outcome.to_owned()), n))
    .collect();
    assert_eq!(counts, expected);
}
