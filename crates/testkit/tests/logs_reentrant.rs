//! `privacy.phones_and_codes_not_logged` with a value whose `Debug` logs in turn, logged from
//! a task the verifier spawns. Its own test binary: the suite sets a process-wide `tracing`
//! subscriber for it, and no other thread of this process sets a scoped one (while one does,
//! `tracing` drops an event logged inside another's dispatch instead of passing it on).

use std::fmt;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use phone_verify_core::{
    Capabilities, CheckOutcome, CheckRequest, PhoneVerifier, ProviderId, Result, StartRequest,
    Verification, async_trait,
};
use phone_verify_testkit::memory::{InMemoryHarness, InMemoryState, InMemoryVerifier};
use phone_verify_testkit::{Report, Status, run};

const LOG_CHECK: &str = "privacy.phones_and_codes_not_logged";

/// A phone whose `Debug` shows nothing of it but logs it in full.
struct Loud(String);

impl fmt::Debug for Loud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        tracing::info!(phone = %self.0, "formatting");
        f.write_str("Loud")
    }
}

/// The in-memory provider, logging a [`Loud`] phone from a Tokio task it spawns (and awaits).
#[derive(Debug)]
struct LogsLoud(InMemoryVerifier);

#[async_trait]
impl PhoneVerifier for LogsLoud {
    fn provider(&self) -> ProviderId {
        InMemoryVerifier::PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        if let Some(phone) = &request.phone {
            let loud = Loud(phone.e164().to_owned());
            tokio::spawn(async move { tracing::info!(phone = ?loud, "sending a code") })
                .await
                .expect("the task ends");
        }
        self.0.start(request).await
    }

    async fn check(&self, handle: &Verification, request: &CheckRequest) -> Result<CheckOutcome> {
        self.0.check(handle, request).await
    }
}

async fn report() -> Report {
    let state = InMemoryState::seeded(23);
    let verifier = LogsLoud(InMemoryVerifier::with_state(state.clone()));
    let harness = InMemoryHarness::for_state(state.clone())
        .with_fresh_verifier(|state| Arc::new(LogsLoud(InMemoryVerifier::with_state(state))));
    let resolver = InMemoryVerifier::with_state(state);
    run(&verifier, Some(&resolver), &harness).await
}

#[test]
fn a_logged_value_that_logs_is_searched_without_a_deadlock() {
    // The suite on a current-thread runtime of its own thread: the spawned task is polled
    // outside the check's future. A deadlock holds that thread, so this one waits for it.
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let _ = done.send(runtime.block_on(report()));
    });
    let report = finished
        .recv_timeout(Duration::from_secs(30))
        .expect("the suite ends: logging from a logged value's Debug must not deadlock");
    // The phone `Loud` logs while it is formatted was captured and found.
    let result = report.get(LOG_CHECK).unwrap();
    assert_eq!(result.status, Status::Failed, "{report}");
    let detail = result.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("shows the phone"), "{detail}");
    let failed: Vec<&str> = report.failed().map(|r| r.name.as_str()).collect();
    assert_eq!(failed, [LOG_CHECK], "{report}");
}
