//! The checks of attempts on a code: the provider's limit of wrong codes, and a check whose
//! answer was lost.

use phone_verify_core::{Channel, CheckOutcome, ErrorKind, PhoneVerifierExt, RejectReason};

use super::{Check, CheckFault, HarnessError, Suite, Verdict, describe};

impl Suite<'_> {
    pub(super) async fn wrong_code_limit(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (_, handle) = self.start_otp(channel).await?;
        let Some(limit) = self.harness.wrong_code_limit(&handle) else {
            return Err(Verdict::Skip(
                "the harness names no limit of wrong codes (Harness::wrong_code_limit): the \
                 provider sets none, or the harness does not know it"
                    .into(),
            ));
        };
        let right = self.code_for(&handle).await?;
        let wrong = self.wrong_code_for(&handle, &right).await?;
        for n in 1..=limit {
            let outcome = self.verifier.check_code(&handle, &wrong).await;
            match &outcome {
                Ok(CheckOutcome::Rejected(r)) if r.reason == RejectReason::WrongCode => {}
                Ok(CheckOutcome::Rejected(r))
                    if r.reason == RejectReason::TooManyAttempts && n == limit => {}
                Ok(CheckOutcome::Rejected(r)) if r.reason == RejectReason::TooManyAttempts => {
                    fail!(
                        "wrong code {n} was rejected as TooManyAttempts, but the harness says the \
                     provider takes {limit}"
                    )
                }
                _ => fail!(
                    "wrong code {n} of {limit}: expected rejected (WrongCode), got {}",
                    describe(&outcome)
                ),
            }
        }
        let outcome = self.verifier.check_code(&handle, &right).await;
        match &outcome {
            Ok(CheckOutcome::Rejected(r))
                if matches!(
                    r.reason,
                    RejectReason::TooManyAttempts | RejectReason::NotFound
                ) =>
            {
                Ok(None)
            }
            Ok(CheckOutcome::Verified(_)) => fail!(
                "the right code verified after {limit} wrong ones: the provider's limit of \
                 wrong codes does not hold through this verifier"
            ),
            _ => fail!(
                "the right code after {limit} wrong ones: expected rejected (TooManyAttempts, or \
                 NotFound where the provider discards the verification), got {}",
                describe(&outcome)
            ),
        }
    }

    pub(super) async fn lost_answer_not_rejected(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (phone, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        self.harness
            .inject_check_fault(&handle, CheckFault::AnswerLost)
            .await?;
        let before = self.harness.request_counts().await;
        let outcome = self.verifier.check_code(&handle, &right).await;
        let (made, checks) = match before {
            Ok(before) => {
                let after = self.harness.request_counts().await?;
                let checks = before
                    .checks
                    .zip(after.checks)
                    .map(|(before, after)| after.saturating_sub(before));
                (Some(after.total.saturating_sub(before.total)), checks)
            }
            Err(HarnessError::Unsupported(_)) => (None, None),
            Err(err) => return Err(err.into()),
        };
        // Fails when the harness can tell that the fault was never used: then the check
        // proved nothing.
        self.harness.clear_faults().await?;
        let checked_once = || match checks {
            Some(checks) => {
                ensure!(
                    checks == 1,
                    "the provider received {checks} code-check requests, expected exactly 1: the \
                     provider took the check and its answer was lost, so the code may be used up \
                     and the check must not be sent again (a read-back is a lookup, not a second \
                     check)"
                );
                Ok(())
            }
            None => Ok(()),
        };
        match outcome {
            Err(err) if err.kind() == ErrorKind::OutcomeUnknown => {
                checked_once()?;
                Ok(None)
            }
            verified @ Ok(CheckOutcome::Verified(_)) => {
                self.expect_verified(verified, &phone, channel)?;
                checked_once()?;
                // A lost answer turns into Verified only by reading the verification back:
                // a second request. After one, the fault was not used (or the verifier
                // reported Verified without knowing).
                match made {
                    Some(made) => {
                        ensure!(
                            made >= 2,
                            "verified after {made} request(s) to the provider: a check whose \
                             answer was lost is verified only by reading the verification back, \
                             a second request, so the injected check fault was not used (does \
                             the harness inject it where the verifier checks codes?)"
                        );
                        Ok(Some(
                            "verified: the verifier read the verification back after the lost \
                             answer"
                                .into(),
                        ))
                    }
                    None => Ok(Some(
                        "verified after the lost answer (a read-back); the fault's use was not \
                         confirmed: the harness cannot count requests"
                            .into(),
                    )),
                }
            }
            Ok(CheckOutcome::Rejected(r)) => fail!(
                "the provider took the check and its answer was lost, and the verifier reported \
                 rejected ({:?}): a lost answer is never a rejection (a repeated check finds the \
                 code used up); expected an OutcomeUnknown error",
                r.reason
            ),
            other => fail!(
                "the provider took the check and its answer was lost: expected an \
                 OutcomeUnknown error (the code may be used up, so the check must not be \
                 repeated), got {}",
                describe(&other)
            ),
        }
    }
}
