//! `privacy.phones_and_codes_not_logged` sees what a verifier logs from the tasks and threads
//! it spawns. Its own test binary: the suite sets a process-wide `tracing` subscriber for it.
//! Its tests run one at a time ([`ONE_AT_A_TIME`]).

use std::sync::Arc;

use phone_verify_core::{
    Capabilities, CheckOutcome, CheckRequest, PhoneVerifier, ProviderId, Result, StartRequest,
    Verification, async_trait,
};
use phone_verify_testkit::memory::{InMemoryHarness, InMemoryState, InMemoryVerifier};
use phone_verify_testkit::{Report, Status, run};

const LOG_CHECK: &str = "privacy.phones_and_codes_not_logged";

/// Held by each test while it runs, since `cargo test` runs them on threads of one process:
/// what a thread outside any runtime logs reaches every log check running at that moment, and
/// the in-memory harnesses give every test the same phones, so the phone a verifier logs from
/// its thread would fail another test's check.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Where the verifier logs the phone it sends a code to.
#[derive(Debug, Clone, Copy)]
enum Away {
    /// In a Tokio task it spawns (and awaits).
    Task,
    /// In a thread it spawns (and joins).
    Thread,
}

/// The in-memory provider, logging each phone it sends a code to away from the caller's
/// future, where a subscriber set for that future alone does not see it.
#[derive(Debug)]
struct LogsAway {
    inner: InMemoryVerifier,
    away: Away,
}

#[async_trait]
impl PhoneVerifier for LogsAway {
    fn provider(&self) -> ProviderId {
        InMemoryVerifier::PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        if let Some(phone) = &request.phone {
            let e164 = phone.e164().to_owned();
            match self.away {
                Away::Task => {
                    tokio::spawn(async move { tracing::info!(phone = %e164, "sending a code") })
                        .await
                        .expect("the task ends");
                }
                Away::Thread => std::thread::spawn(move || {
                    tracing::info!(phone = %e164, "sending a code");
                })
                .join()
                .expect("the thread ends"),
            }
        }
        self.inner.start(request).await
    }

    async fn check(&self, handle: &Verification, request: &CheckRequest) -> Result<CheckOutcome> {
        self.inner.check(handle, request).await
    }
}

async fn report_for(away: Away) -> Report {
    let state = InMemoryState::seeded(21);
    let verifier = LogsAway {
        inner: InMemoryVerifier::with_state(state.clone()),
        away,
    };
    let harness = InMemoryHarness::for_state(state.clone()).with_fresh_verifier(move |state| {
        Arc::new(LogsAway {
            inner: InMemoryVerifier::with_state(state),
            away,
        })
    });
    let resolver = InMemoryVerifier::with_state(state);
    run(&verifier, Some(&resolver), &harness).await
}

/// The log check fails, saying the log shows a phone, and every other check passes.
fn assert_only_the_log_check_fails(report: &Report) {
    let result = report.get(LOG_CHECK).unwrap();
    assert_eq!(result.status, Status::Failed, "{report}");
    let detail = result.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("shows the phone"), "{detail}");
    let failed: Vec<&str> = report.failed().map(|r| r.name.as_str()).collect();
    assert_eq!(failed, [LOG_CHECK], "{report}");
}

#[tokio::test]
async fn a_phone_logged_from_a_spawned_task_fails_the_log_check() {
    let _alone = ONE_AT_A_TIME.lock().await;
    assert_only_the_log_check_fails(&report_for(Away::Task).await);
}

#[tokio::test]
async fn a_phone_logged_from_a_spawned_thread_fails_the_log_check() {
    let _alone = ONE_AT_A_TIME.lock().await;
    assert_only_the_log_check_fails(&report_for(Away::Thread).await);
}

#[tokio::test]
async fn a_verifier_that_logs_no_phone_passes_with_spawned_work_searched() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let verifier = InMemoryVerifier::with_seed(22);
    let harness = InMemoryHarness::new(&verifier);
    let report = run(&verifier, Some(&verifier), &harness).await;
    let result = report.get(LOG_CHECK).unwrap();
    assert_eq!(result.status, Status::Passed, "{report}");
    // The suite's subscriber is the process's: nothing went unsearched.
    let detail = result.detail.as_deref().unwrap_or_default();
    assert!(!detail.contains("not searched"), "{detail}");
}
