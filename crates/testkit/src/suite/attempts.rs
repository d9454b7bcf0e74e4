//! The checks of attempts on a code: the provider's limit of wrong codes, and a check whose
//! answer was lost or was a server error.

use std::time::Duration;

use phone_verify_core::{
    Channel, CheckOutcome, ErrorKind, PhoneVerifierExt, RejectReason, Verification,
};

use super::{
    Check, CheckFault, HarnessError, HarnessResult, RequestCounts, Suite, UNCOUNTED, Verdict,
    describe, is_rejected,
};

/// The first words of a skip for want of code-check counts.
const CHECKS_UNCOUNTED: &str = "the harness cannot count code checks";

/// How long after a handle verified `otp.used_code_lost_answer_not_verified` checks it again:
/// past the clock skew a read-back may allow (two minutes for Twilio's and Verifik's).
const REPLAY_AFTER: Duration = Duration::from_secs(180);

impl Suite<'_> {
    /// Clears the harness's faults right after a fault check's call
    /// ([`Harness::clear_faults`](super::Harness::clear_faults)): a failure (say, the injected
    /// fault was never used, so the check proved nothing) fails the check. A harness that
    /// answers `Unsupported` cannot tell whether its faults were used: the check goes on to
    /// judge the outcome, as the suite does when it clears after every check
    /// ([`settle`](Self::settle) decides both).
    pub(super) async fn clear_faults_after_call(&self) -> Result<(), Verdict> {
        self.settle(Ok(None)).await.map(drop)
    }

    /// The provider's limit of wrong codes for `handle`, or a skip saying there is none.
    fn limit_for(&self, handle: &Verification) -> Result<u32, Verdict> {
        self.harness.wrong_code_limit(handle).ok_or_else(|| {
            Verdict::Skip(
                "the harness names no limit of wrong codes (Harness::wrong_code_limit): the \
                 provider sets none, or the harness does not know it"
                    .into(),
            )
        })
    }

    pub(super) async fn wrong_code_limit(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (_, handle) = self.start_otp(channel).await?;
        let limit = self.limit_for(&handle)?;
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

    /// One wrong code fewer than the limit leaves the verification open: each is
    /// `Rejected(WrongCode)`, and the right code then verifies.
    pub(super) async fn right_code_within_limit(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (phone, handle) = self.start_otp(channel).await?;
        let limit = self.limit_for(&handle)?;
        if limit < 2 {
            return Err(Verdict::Skip(format!(
                "the provider takes {limit} wrong code: none can come before the right one \
                 within its limit"
            )));
        }
        let right = self.code_for(&handle).await?;
        let wrong = self.wrong_code_for(&handle, &right).await?;
        let within = limit - 1;
        for n in 1..=within {
            let outcome = self.verifier.check_code(&handle, &wrong).await;
            ensure!(
                is_rejected(&outcome, RejectReason::WrongCode),
                "wrong code {n} of {within}, within the provider's limit of {limit}: expected \
                 rejected (WrongCode), got {}",
                describe(&outcome)
            );
        }
        let outcome = self.verifier.check_code(&handle, &right).await;
        self.expect_verified(outcome, &phone, channel)
            .map_err(|v| match v {
                Verdict::Fail(reason) => Verdict::Fail(format!(
                    "the right code after {within} wrong ones, within the provider's limit of \
                     {limit}: {reason} (the verification must stay open until the limit)"
                )),
                other @ Verdict::Skip(_) => other,
            })?;
        Ok(None)
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
                let checks = self.logged_since(&before, |c| c.checks).await?;
                let after = self.harness.request_counts().await?;
                (Some(after.total.saturating_sub(before.total)), checks)
            }
            Err(HarnessError::Unsupported(_)) => (None, None),
            Err(err) => return Err(err.into()),
        };
        let sent = Sent { checks, made };
        // Fails when the harness can tell that the fault was never used: then the check
        // proved nothing.
        self.clear_faults_after_call().await?;
        // The provider took the check: a read-back shows whether it took effect, so a second
        // check is never right, even where a repeat uses no attempt up.
        let checked_once = || {
            checked_once(
                sent,
                false,
                "the provider took the check and its answer was lost, so the code may be used up \
                 and the check must not be sent again (a read-back is a lookup, not a second \
                 check)",
            )
        };
        match outcome {
            Err(err) if err.kind() == ErrorKind::OutcomeUnknown => {
                checked_once()?;
                sent.proven(None, "an OutcomeUnknown error as expected")
            }
            verified @ Ok(CheckOutcome::Verified(_)) => {
                self.expect_verified(verified, &phone, channel)?;
                checked_once()?;
                // A lost answer turns into Verified only by reading the verification back:
                // a second request. After one, the fault was not used (or the verifier
                // reported Verified without knowing).
                let Some(made) = made else {
                    return Err(Verdict::Skip(format!(
                        "{UNCOUNTED}: verified after the lost answer, but not proven read back \
                         (the fault's use was not confirmed)"
                    )));
                };
                ensure!(
                    made >= 2,
                    "verified after {made} request(s) to the provider: a check whose answer \
                     was lost is verified only by reading the verification back, a second \
                     request, so the injected check fault was not used (does the harness \
                     inject it where the verifier checks codes?)"
                );
                sent.proven(
                    Some(
                        "verified: the verifier read the verification back after the lost answer"
                            .into(),
                    ),
                    "verified after a read-back",
                )
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

    /// A verified handle checked again [`REPLAY_AFTER`] later with a wrong code (a replayed
    /// token), the check taken by the provider and its answer lost: never `Verified`. A
    /// verifier that reads a lost check back must tell the earlier check's success from this
    /// one's. Skipped when the handle is not valid that long (the provider could refuse the
    /// check as expired without taking it), and, as nothing was proven, when the check never
    /// reached the provider (the fault unused).
    pub(super) async fn used_code_lost_answer(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (phone, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        let wrong = self.wrong_code_for(&handle, &right).await?;
        let outcome = self.verifier.check_code(&handle, &right).await;
        self.expect_verified(outcome, &phone, channel)?;
        let left = self.short_of_expiry(&handle)?;
        if left < REPLAY_AFTER {
            return Err(Verdict::Skip(format!(
                "the handle is valid for less than {}s and a minute: a check that late may be \
                 refused as expired without reaching the provider",
                REPLAY_AFTER.as_secs()
            )));
        }
        self.advance_time(REPLAY_AFTER).await?;
        self.harness
            .inject_check_fault(&handle, CheckFault::AnswerLost)
            .await?;
        let outcome = self.verifier.check_code(&handle, &wrong).await;
        if let Ok(CheckOutcome::Verified(_)) = outcome {
            fail!(
                "a verified handle checked again {}s later with a wrong code, its answer lost, \
                 was reported verified: a read-back found the earlier check's success and took \
                 it for this one's (a replayed token would pass)",
                REPLAY_AFTER.as_secs()
            );
        }
        match self.harness.clear_faults().await {
            Ok(()) | Err(HarnessError::Unsupported(_)) => Ok(None),
            Err(err) => Err(Verdict::Skip(format!(
                "the check never reached the provider, so nothing was proven ({}); got {err}",
                describe(&outcome)
            ))),
        }
    }

    /// A wrong code's check taken by the provider, its answer lost ([`CheckFault::AnswerLost`]):
    /// never `Verified` ([`wrong_code_in_doubt`](Self::wrong_code_in_doubt)).
    pub(super) async fn lost_answer_wrong_code(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (_, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        let wrong = self.wrong_code_for(&handle, &right).await?;
        self.harness
            .inject_check_fault(&handle, CheckFault::AnswerLost)
            .await?;
        let before = self.harness.request_counts().await;
        let outcome = self.verifier.check_code(&handle, &wrong).await;
        let verdict = async {
            let sent = self.sent_since(before).await?;
            self.wrong_code_in_doubt(&handle, outcome, sent, "its answer was lost", false)
        }
        .await;
        self.settle(verdict).await
    }

    /// The verdict on a wrong code's check whose answer the verifier could not have (`what`
    /// says why), after `sent`: `Verified` always fails, since a wrong code verifies nothing
    /// and neither a lost answer nor an unreadable one says otherwise. An `OutcomeUnknown`
    /// error passes after exactly one code-check request ([`checked_once`]), and so does a
    /// `Decode` error where `processed` (the answer was the provider's own, after processing,
    /// its body cut or padded: its status is the provider's refusal of the wrong code, not a
    /// success, and the HTTP layer reads an unusable body of a refusal as `Decode`).
    /// `Rejected(WrongCode)` passes only as the provider's answer to a second check, sent after
    /// a read-back where the harness says a repeat is harmless
    /// ([`Harness::repeat_check_harmless`](crate::Harness::repeat_check_harmless): the provider
    /// keeps no count of wrong codes, so the first check changed nothing whether or not it was
    /// processed); without code checks counted, that is skipped as unproven. Any other
    /// rejection or error fails.
    pub(super) fn wrong_code_in_doubt(
        &self,
        handle: &Verification,
        outcome: phone_verify_core::Result<CheckOutcome>,
        sent: Sent,
        what: &str,
        processed: bool,
    ) -> Check {
        let repeat_harmless = self.harness.repeat_check_harmless(handle);
        let why = format!(
            "the provider may have taken the wrong code's check ({what}), and the check must not \
             be sent again"
        );
        match outcome {
            Ok(CheckOutcome::Verified(_)) => fail!(
                "a wrong code's check ({what}) was reported verified: a wrong code never \
                 verifies, and an answer the verifier could not read (or never got) is not a \
                 success"
            ),
            Err(err)
                if err.kind() == ErrorKind::OutcomeUnknown
                    || (processed && err.kind() == ErrorKind::Decode) =>
            {
                checked_once(sent, repeat_harmless, &why)?;
                let what = match err.kind() {
                    ErrorKind::Decode => "a Decode error as expected",
                    _ => "an OutcomeUnknown error as expected",
                };
                sent.proven(None, what)
            }
            Ok(CheckOutcome::Rejected(r))
                if r.reason == RejectReason::WrongCode
                    && repeat_harmless
                    && sent.checks == Some(2) =>
            {
                checked_once(sent, repeat_harmless, &why)?;
                Ok(Some(
                    "rejected (WrongCode) by a second check, after a read-back (the provider \
                     keeps no count of wrong codes)"
                        .into(),
                ))
            }
            Ok(CheckOutcome::Rejected(r))
                if r.reason == RejectReason::WrongCode
                    && repeat_harmless
                    && sent.checks.is_none() =>
            {
                Err(Verdict::Skip(format!(
                    "{CHECKS_UNCOUNTED}: rejected (WrongCode), but not proven the answer to a \
                     second check after a read-back"
                )))
            }
            Ok(CheckOutcome::Rejected(r)) => fail!(
                "a wrong code's check ({what}) was reported rejected ({:?}){}: the verifier \
                 cannot know what the provider made of it, so a rejection is only the \
                 provider's answer to a second check, sent after a read-back where a repeat is \
                 harmless; expected an OutcomeUnknown error",
                r.reason,
                sent.checks
                    .map_or_else(String::new, |n| format!(" after {n} code-check request(s)"))
            ),
            other => fail!(
                "a wrong code's check ({what}): expected an OutcomeUnknown error (the provider \
                 may have taken the check){}, got {}",
                if processed {
                    ", or a Decode error (the provider's own refusal, its body unusable)"
                } else {
                    ""
                },
                describe(&other)
            ),
        }
    }

    /// The right code's check answered with a 503 without `Retry-After` ([`CheckFault::ServerError`]):
    /// the verdicts of [`check_server_error`](Self::check_server_error).
    pub(super) async fn server_error_not_rejected(&self, channel: &Channel) -> Check {
        self.check_server_error(channel, CheckFault::ServerError)
            .await
    }

    /// The right code's check answered, unprocessed, with the server error `fault` (a 500,
    /// 502 or 504, or a 503, without `Retry-After`), which a provider may give after taking
    /// the check and a proxy after forwarding it: an `OutcomeUnknown` error after exactly one
    /// code-check request, when the harness counts them; never a rejection or another error.
    /// `Verified` only where the harness says a repeat is harmless
    /// ([`Harness::repeat_check_harmless`](crate::Harness::repeat_check_harmless)), after a
    /// read-back and a second check ([`checked_once`]); without code checks counted, that is
    /// skipped as unproven.
    pub(super) async fn check_server_error(&self, channel: &Channel, fault: CheckFault) -> Check {
        self.require_delivery(channel)?;
        let status = fault.status().unwrap_or_default();
        let (phone, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        self.harness.inject_check_fault(&handle, fault).await?;
        let before = self.harness.request_counts().await;
        let outcome = self.verifier.check_code(&handle, &right).await;
        let verdict = async {
            let sent = self.sent_since(before).await?;
            // The server error left the check unprocessed: where a repeat is harmless, a
            // read-back shows that it did not take effect, and one more check is right.
            let repeat_harmless = self.harness.repeat_check_harmless(&handle);
            let why = format!(
                "a {status} without Retry-After may come after the provider took the check (or \
                 a proxy forwarded it), so the code may be used up and the check must not be \
                 sent again"
            );
            if !matches!(outcome, Ok(CheckOutcome::Rejected(_))) {
                checked_once(sent, repeat_harmless, &why)?;
            }
            match outcome {
                Err(err) if err.kind() == ErrorKind::OutcomeUnknown => {
                    sent.proven(None, "an OutcomeUnknown error as expected")
                }
                verified @ Ok(CheckOutcome::Verified(_))
                    if repeat_harmless && sent.checks == Some(2) =>
                {
                    self.expect_verified(verified, &phone, channel)?;
                    Ok(Some(
                        "verified: the verifier read the verification back, then checked again \
                         (the provider keeps no count of wrong codes)"
                            .into(),
                    ))
                }
                verified @ Ok(CheckOutcome::Verified(_))
                    if repeat_harmless && sent.checks.is_none() =>
                {
                    self.expect_verified(verified, &phone, channel)?;
                    Err(Verdict::Skip(format!(
                        "{CHECKS_UNCOUNTED}: verified, but one check guarded by a read-back is \
                         not proven"
                    )))
                }
                Ok(CheckOutcome::Rejected(r)) => fail!(
                    "the provider answered the right code's check with a {status} without \
                     Retry-After, and the verifier reported rejected ({:?}): a server error is \
                     never a rejection; expected an OutcomeUnknown error",
                    r.reason
                ),
                other => fail!(
                    "the provider answered the right code's check with a {status} without \
                     Retry-After, which it may give after taking the check (or a proxy after \
                     forwarding it): expected an OutcomeUnknown error (the code may be used \
                     up, and the check must not be sent again), got {}",
                    describe(&other)
                ),
            }
        }
        .await;
        self.settle(verdict).await
    }
}

/// What one check of a code sent to the provider, when the harness counts requests: its
/// code-check requests and all its requests.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Sent {
    /// Code-check requests (`None`: not told apart).
    pub(super) checks: Option<u64>,
    /// All requests, code checks and read-backs (`None`: not counted).
    pub(super) made: Option<u64>,
}

impl Suite<'_> {
    /// What was sent since `before` (the harness's counts then, if it counts requests): the
    /// code-check requests and all requests.
    async fn sent_since(&self, before: HarnessResult<RequestCounts>) -> Result<Sent, Verdict> {
        match before {
            Ok(before) => {
                let checks = self.logged_since(&before, |c| c.checks).await?;
                let after = self.harness.request_counts().await?;
                Ok(Sent {
                    checks,
                    made: Some(after.total.saturating_sub(before.total)),
                })
            }
            Err(HarnessError::Unsupported(_)) => Ok(Sent::default()),
            Err(err) => Err(err.into()),
        }
    }
}

impl Sent {
    /// The pass of a check that must prove one code-check request, with `note`; skipped,
    /// saying `what` happened, when the harness does not count code checks (the error kind or
    /// outcome passed, the count is not proven).
    pub(super) fn proven(self, note: Option<String>, what: &str) -> Check {
        let uncounted = match (self.made, self.checks) {
            (_, Some(_)) => return Ok(note),
            (None, None) => UNCOUNTED,
            (Some(_), None) => CHECKS_UNCOUNTED,
        };
        Err(Verdict::Skip(format!(
            "{uncounted}: {what}, but not proven checked exactly once"
        )))
    }
}

/// Fails unless the check sent its code once (`sent.checks` is 1, when counted); `why` says
/// why a second one is wrong. One exception: with `repeat_harmless` (the harness opted in with
/// [`Harness::repeat_check_harmless`](crate::Harness::repeat_check_harmless), and the injected
/// answer left the first check unprocessed), a second code check is right after the verifier
/// read the verification back (a request besides the two checks) and found that the first one
/// did not take effect, as Verifik's recovery does. A blind repeat has no such request between.
pub(super) fn checked_once(sent: Sent, repeat_harmless: bool, why: &str) -> Result<(), Verdict> {
    let Some(checks) = sent.checks else {
        return Ok(());
    };
    if checks == 1 {
        return Ok(());
    }
    let read_back = sent.made.is_some_and(|made| made > checks);
    ensure!(
        checks == 2 && repeat_harmless && read_back,
        "the provider received {checks} code-check requests, expected exactly 1: {why}{}",
        if checks == 2 && repeat_harmless {
            " (the provider keeps no count of wrong codes, so a second check is right after a \
             read-back shows that the first did not take effect; no request besides the checks \
             was made)"
        } else {
            ""
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(checks: u64, made: u64) -> Sent {
        Sent {
            checks: Some(checks),
            made: Some(made),
        }
    }

    #[test]
    fn a_second_check_is_right_only_after_a_read_back_where_it_costs_no_attempt() {
        let once = |sent, harmless| checked_once(sent, harmless, "why").is_ok();
        assert!(once(sent(1, 1), false));
        assert!(once(sent(1, 2), true));
        assert!(
            once(Sent::default(), false),
            "not counted: nothing to judge"
        );
        // Verifik's recovery: check, read back, check again.
        assert!(once(sent(2, 3), true));
        // A blind repeat, or a repeat the harness did not opt in to (the provider counts wrong
        // codes, or the first check was processed: a lost answer, a truncated body).
        assert!(!once(sent(2, 2), true));
        assert!(!once(sent(2, 3), false));
        assert!(!once(sent(3, 5), true));
        let Err(Verdict::Fail(reason)) = checked_once(sent(2, 2), true, "why") else {
            panic!("a blind repeat fails");
        };
        assert!(reason.contains("no request besides the checks"), "{reason}");
    }
}
