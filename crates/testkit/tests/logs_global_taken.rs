//! In a process that set a global `tracing` subscriber of its own, the log check cannot set
//! the suite's and says what it did not search. Its own test binary: the global subscriber is
//! the process's.

use phone_verify_testkit::memory::{InMemoryHarness, InMemoryVerifier};
use phone_verify_testkit::{Status, run};

#[tokio::test]
async fn the_log_check_names_what_it_cannot_search() {
    tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default())
        .expect("the first global subscriber of this process");
    let verifier = InMemoryVerifier::with_seed(25);
    let harness = InMemoryHarness::new(&verifier);
    let report = run(&verifier, Some(&verifier), &harness).await;
    let result = report.get("privacy.phones_and_codes_not_logged").unwrap();
    assert_eq!(result.status, Status::Passed, "{report}");
    let detail = result.detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains(
            "not searched: what the verifier logs from the tasks and threads it spawns (the \
             process has a global tracing subscriber of its own"
        ),
        "{detail}"
    );
}
