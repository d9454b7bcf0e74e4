//! The `metrics` feature: what a recorder receives for a failover and a check.
#![cfg(feature = "metrics")]

use std::sync::{Arc, Mutex};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use phone_verify_core::{Channel, ErrorKind, PhoneVerifier, PhoneVerifierExt, StartRequest};
use phone_verify_router::{Route, Router};
use phone_verify_testkit::memory::InMemoryVerifier;

/// Every increment and record, as `name{label=value,...}`.
#[derive(Debug, Default)]
struct Log(Mutex<Vec<String>>);

struct Entry(Arc<Log>, String);

impl metrics::CounterFn for Entry {
    fn increment(&self, value: u64) {
        self.0
            .0
            .lock()
            .unwrap()
            .push(format!("{} +{value}", self.1));
    }
    fn absolute(&self, _: u64) {}
}

impl metrics::HistogramFn for Entry {
    fn record(&self, _: f64) {
        self.0
            .0
            .lock()
            .unwrap()
            .push(format!("{} observed", self.1));
    }
}

#[derive(Debug, Default)]
struct TestRecorder(Arc<Log>);

fn describe(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Entry(self.0.clone(), describe(key))))
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Entry(self.0.clone(), describe(key))))
    }
}

#[test]
fn counts_starts_failovers_circuits_verifications_and_rejections_without_phones() {
    let recorder = TestRecorder::default();
    let (a, b) = (InMemoryVerifier::new(), InMemoryVerifier::new());
    a.state().fail_next_send(ErrorKind::QuotaExhausted);
    let router = Router::builder()
        .route(Route::new("a", Arc::new(a.clone_fresh())))
        .route(Route::new("b", Arc::new(b.clone_fresh())))
        .breaker(phone_verify_router::BreakerConfig::default().consecutive_failures(1))
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let handle = router
                .start(&StartRequest::sms("+50762647737".parse().unwrap()))
                .await
                .unwrap();
            let code = b.state().message_for(&handle.reference).unwrap().code;
            let wrong = phone_verify_testkit::different_code(&code);
            assert!(
                !router
                    .check_code(&handle, &wrong)
                    .await
                    .unwrap()
                    .is_verified()
            );
            assert!(
                router
                    .check_code(&handle, &code)
                    .await
                    .unwrap()
                    .is_verified()
            );
            // A handle's channel is any string: a hostile one makes no series of its own.
            let mut hostile = handle.clone();
            hostile.channel = Channel::Other("x-hostile-4711".into());
            let _ = router.check_code(&hostile, &code).await;
        });
    });
    let log = recorder.0.0.lock().unwrap().clone();
    let expect = [
        "phone_verify_router_started_total{route=a,provider=memory,channel=sms} +1",
        "phone_verify_router_failed_over_total{route=a,provider=memory,channel=sms,reason=quota_exhausted} +1",
        "phone_verify_router_circuit_opened_total{route=a,provider=memory,channel=sms} +1",
        "phone_verify_router_started_total{route=b,provider=memory,channel=sms} +1",
        "phone_verify_router_call_seconds{route=b,provider=memory,channel=sms,operation=start} observed",
        "phone_verify_router_rejected_total{route=b,provider=memory,channel=sms,reason=wrong_code} +1",
        "phone_verify_router_verified_total{route=b,provider=memory,channel=sms} +1",
        "phone_verify_router_call_seconds{route=b,provider=memory,channel=other,operation=check} observed",
    ];
    for line in expect {
        assert!(
            log.iter().any(|l| l == line),
            "missing {line:?} in {log:#?}"
        );
    }
    assert!(
        log.iter().all(|l| !l.contains("62647737")),
        "no phone in metrics: {log:#?}"
    );
    assert!(
        log.iter().all(|l| !l.contains("hostile")),
        "no channel name from a handle: {log:#?}"
    );
}
