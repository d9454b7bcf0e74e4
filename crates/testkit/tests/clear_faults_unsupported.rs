//! A harness that cannot tell whether its faults were used (its `clear_faults` answers
//! `Unsupported`) still has the fault checks judge the verifier's outcome, as the suite does
//! after every check: the answer is no reason to skip a check whose fault was injected.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::{Channel, Code, PhoneNumber, PhoneVerifier, Verification};
use phone_verify_testkit::memory::{InMemoryHarness, InMemoryVerifier};
use phone_verify_testkit::{
    AnswerTo, CheckFault, DocumentedError, Harness, HarnessError, HarnessResult, HostileAnswer,
    ImpatientClient, LookupFault, RequestCounts, RequestTarget, SendFault, Status, async_trait,
    run,
};

/// The in-memory harness, but its `clear_faults` clears and then answers `Unsupported`.
struct CannotTellUse(InMemoryHarness);

#[async_trait]
impl Harness for CannotTellUse {
    async fn fresh_phone(&self) -> HarnessResult<PhoneNumber> {
        self.0.fresh_phone().await
    }

    fn delivers_codes(&self, channel: &Channel) -> bool {
        self.0.delivers_codes(channel)
    }

    async fn delivered_code(&self, verification: &Verification) -> HarnessResult<Option<Code>> {
        self.0.delivered_code(verification).await
    }

    async fn wrong_code(&self, verification: &Verification) -> HarnessResult<Code> {
        self.0.wrong_code(verification).await
    }

    async fn complete_reverse_flow(
        &self,
        verification: &Verification,
        phone: &PhoneNumber,
    ) -> HarnessResult<()> {
        self.0.complete_reverse_flow(verification, phone).await
    }

    async fn advance_time(&self, by: Duration) -> HarnessResult<()> {
        self.0.advance_time(by).await
    }

    async fn request_counts(&self) -> HarnessResult<RequestCounts> {
        self.0.request_counts().await
    }

    async fn requests_since(&self, before: &RequestCounts) -> HarnessResult<Vec<RequestTarget>> {
        self.0.requests_since(before).await
    }

    async fn inject_send_fault(&self, fault: SendFault) -> HarnessResult<()> {
        self.0.inject_send_fault(fault).await
    }

    async fn inject_check_fault(
        &self,
        verification: &Verification,
        fault: CheckFault,
    ) -> HarnessResult<()> {
        self.0.inject_check_fault(verification, fault).await
    }

    async fn inject_lookup_fault(
        &self,
        verification: &Verification,
        fault: LookupFault,
    ) -> HarnessResult<()> {
        self.0.inject_lookup_fault(verification, fault).await
    }

    async fn inject_hostile_answer(
        &self,
        to: AnswerTo<'_>,
        answer: HostileAnswer,
    ) -> HarnessResult<()> {
        self.0.inject_hostile_answer(to, answer).await
    }

    fn documented_errors(&self) -> Vec<DocumentedError> {
        self.0.documented_errors()
    }

    async fn inject_documented_error(
        &self,
        to: AnswerTo<'_>,
        error: &DocumentedError,
    ) -> HarnessResult<()> {
        self.0.inject_documented_error(to, error).await
    }

    async fn impatient_client(&self) -> HarnessResult<ImpatientClient> {
        self.0.impatient_client().await
    }

    fn wrong_code_limit(&self, verification: &Verification) -> Option<u32> {
        self.0.wrong_code_limit(verification)
    }

    async fn clear_faults(&self) -> HarnessResult<()> {
        // Nothing leaks into the next check; whether the fault was used is not told.
        let _ = self.0.clear_faults().await;
        Err(HarnessError::unsupported(
            "telling whether a fault was used",
        ))
    }

    async fn fresh_verifier(&self) -> HarnessResult<Arc<dyn PhoneVerifier>> {
        self.0.fresh_verifier().await
    }
}

#[tokio::test]
async fn fault_checks_judge_the_outcome_when_clearing_is_unsupported() {
    let verifier = InMemoryVerifier::with_seed(11);
    let harness = CannotTellUse(InMemoryHarness::new(&verifier));
    let report = run(&verifier, Some(&verifier), &harness).await;
    for check in [
        "otp.lost_answer_not_rejected[sms]",
        "reverse.poll_retried_after_503[whatsapp]",
        "reverse.poll_retried_after_reset[whatsapp]",
        "session.resolve_retried_after_503",
        "session.resolve_retried_after_reset",
    ] {
        let result = report.get(check).unwrap_or_else(|| panic!("{check} ran"));
        assert_eq!(
            result.status,
            Status::Passed,
            "{check}: {:?}",
            result.detail
        );
    }
}
