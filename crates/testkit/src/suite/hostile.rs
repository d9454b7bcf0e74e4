//! The checks of hostile input and hostile answers: handles and session ids shaped to reach
//! another path are refused before any request, and an answer the client cannot read (a
//! truncated, malformed, mistyped or oversized body, valid JSON of the wrong shape, or one
//! that stalls) ends in a typed error, never a panic, a hang or an outcome made up from it.

use std::fmt::Write as _;
use std::future::Future;

use phone_verify_core::{
    Channel, CheckOutcome, CheckRequest, Code, ErrorKind, PhoneVerifier, PhoneVerifierExt,
    RejectReason, RequestContext, SessionId, SessionResolver, StartRequest,
};

use super::attempts::{Sent, checked_once};
use super::{Check, HarnessError, Suite, UNCOUNTED, Verdict, describe};
use crate::harness::{AnswerTo, HarnessResult, HostileAnswer, ImpatientClient, RequestCounts};

/// The errors a lookup (a poll, a resolution) may end in when its answer could not be had:
/// none of them claims anything about the verification or the session.
const LOOKUP_ERRORS: [ErrorKind; 4] = [
    ErrorKind::Decode,
    ErrorKind::Transport,
    ErrorKind::Timeout,
    ErrorKind::ProviderUnavailable,
];

/// The references (and session ids) shaped to reach another path if put in a URL unescaped,
/// derived from a real one: what each holds, and the value.
fn hostile_ids(real: &str, max_len: usize) -> Vec<(&'static str, String)> {
    let long = format!(
        "{real}{}",
        "a".repeat(max_len.saturating_sub(real.len()).max(1))
    );
    vec![
        ("a `/`", format!("{real}/x")),
        ("a `?`", format!("{real}?x=1")),
        ("a `#`", format!("{real}#x")),
        ("`..`", format!("../../{real}")),
        ("`%2F`", format!("{real}%2Fx")),
        ("512+ characters", long),
    ]
}

/// Whether `path`, as the provider received it, shows `hostile` (an id holding `real`) split
/// into several segments: no segment, percent-decoded, is `hostile` whole, and one is `real`
/// alone or holds it between `/`s (an escaped `%2F` the provider decodes).
fn split_in_path(path: &str, real: &str, hostile: &str) -> bool {
    let segments: Vec<String> = path.split('/').map(percent_decoded).collect();
    !segments.iter().any(|s| s == hostile)
        && segments
            .iter()
            .any(|s| s.split('/').any(|piece| piece == real))
}

/// `segment` with its `%XX` escapes decoded (invalid UTF-8 replaced).
fn percent_decoded(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = bytes
            .get(at + 1..at + 3)
            .filter(|_| bytes[at] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if let Some(byte) = escaped {
            decoded.push(byte);
            at += 3;
        } else {
            decoded.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Where the requests of one hostile id went, as far as the harness shows.
enum Reached {
    /// Nowhere the id was split: no request, or every path keeps it whole (or holds no part).
    Kept,
    /// A request whose path holds the real id as a segment of its own: `METHOD path`.
    Split(String),
    /// The harness does not list the requests' paths: why.
    Unseen(String),
}

/// A one-line description of a resolution's result for failure messages.
fn describe_found(found: &phone_verify_core::Result<phone_verify_core::ResolvedSession>) -> String {
    match found {
        Ok(found) => format!("resolved to {}", found.phone),
        Err(err) => format!("error ({err})"),
    }
}

impl Suite<'_> {
    /// The requests made since `before`, when the harness counts them.
    async fn made_since(
        &self,
        before: Result<RequestCounts, HarnessError>,
    ) -> Result<Option<u64>, Verdict> {
        match before {
            Ok(before) => {
                let after = self.harness.request_counts().await?;
                Ok(Some(after.total.saturating_sub(before.total)))
            }
            Err(HarnessError::Unsupported(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The requests `counted` picks from the counts (sends, code checks) made since
    /// `before`; `None` when the harness does not count them. A provider's log may record a
    /// request only once its answer is done, after a client that stopped reading (an
    /// oversized body) has returned: while none shows, the counts are read again, for up to
    /// 3 seconds.
    pub(super) async fn logged_since(
        &self,
        before: &RequestCounts,
        counted: fn(&RequestCounts) -> Option<u64>,
    ) -> Result<Option<u64>, Verdict> {
        let Some(start) = counted(before) else {
            return Ok(None);
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            let after = self.harness.request_counts().await?;
            let made = counted(&after).map_or(0, |n| n.saturating_sub(start));
            if made > 0 || std::time::Instant::now() >= deadline {
                return Ok(Some(made));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Where the requests made since `before` for the hostile id `hostile`, derived from
    /// `real`, went ([`Harness::requests_since`](crate::Harness::requests_since)); looked at
    /// only when `made` says requests were made.
    async fn reached(
        &self,
        before: &HarnessResult<RequestCounts>,
        made: Option<u64>,
        real: &str,
        hostile: &str,
    ) -> Result<Reached, Verdict> {
        let (Ok(before), Some(1..)) = (before, made) else {
            return Ok(Reached::Kept);
        };
        match self.harness.requests_since(before).await {
            Ok(targets) => Ok(targets
                .iter()
                .find(|t| split_in_path(&t.path, real, hostile))
                .map_or(Reached::Kept, |t| {
                    Reached::Split(format!("{} {}", t.method, t.path))
                })),
            Err(err @ HarnessError::Unsupported(_)) => Ok(Reached::Unseen(err.to_string())),
            Err(err) => Err(err.into()),
        }
    }

    /// Clears the harness's faults after a hostile answer's operation, whose own verdict is
    /// `verdict`: a failure to clear (an injected answer no request used) fails the check
    /// too, after the verdict's own reason. (Documented error answers are settled the same
    /// way.)
    pub(super) async fn settle(&self, verdict: Check) -> Check {
        let cleared = self.harness.clear_faults().await;
        match (verdict, cleared) {
            (verdict, Ok(()) | Err(HarnessError::Unsupported(_))) => verdict,
            (Err(Verdict::Fail(reason)), Err(err)) => fail!("{reason}; then {err}"),
            (_, Err(err)) => Err(err.into()),
        }
    }

    /// Runs `one` for each answer, and passes if each passed or was skipped (the harness
    /// cannot give that answer) and at least one ran; the failures and skips name their
    /// answer.
    async fn each_answer<F, Fut>(&self, answers: &[HostileAnswer], one: F) -> Check
    where
        F: Fn(HostileAnswer) -> Fut,
        Fut: Future<Output = Check>,
    {
        let (mut ran, mut notes, mut skipped, mut failures) = (0, vec![], vec![], vec![]);
        for &answer in answers {
            match one(answer).await {
                Ok(note) => {
                    ran += 1;
                    notes.extend(note.map(|n| format!("{}: {n}", answer.name())));
                }
                Err(Verdict::Skip(reason)) => skipped.push((answer.name(), reason)),
                Err(Verdict::Fail(reason)) => failures.push(format!("{}: {reason}", answer.name())),
            }
        }
        if !failures.is_empty() {
            fail!("{}", failures.join("; "));
        }
        let mut reasons: Vec<&str> = skipped.iter().map(|(_, r)| r.as_str()).collect();
        reasons.dedup();
        if ran == 0 {
            return Err(Verdict::Skip(reasons.join("; ")));
        }
        if !skipped.is_empty() {
            let names: Vec<&str> = skipped.iter().map(|(n, _)| *n).collect();
            notes.push(format!(
                "not run: {} ({})",
                names.join(", "),
                reasons.join("; ")
            ));
        }
        Ok((!notes.is_empty()).then(|| notes.join("; ")))
    }

    /// The harness's client for stalled answers: its verifier, or the one under test.
    async fn impatient(&self) -> Result<ImpatientClient, Verdict> {
        Ok(self.harness.impatient_client().await?)
    }

    // ---- hostile input ----

    pub(super) async fn hostile_handle_refused(&self, channel: &Channel) -> Check {
        let (handle, request) = if self.caps.is_otp(channel) {
            let handle = self.start_otp(channel).await?.1;
            let code = if self.harness.delivers_codes(channel) {
                self.code_for(&handle).await?
            } else {
                Code::new("123456").expect("a valid code")
            };
            (handle, CheckRequest::code(code))
        } else {
            (self.start_reverse(channel).await?, CheckRequest::poll())
        };
        let mut failures = Vec::new();
        let mut tally = Tally::default();
        for (what, reference) in hostile_ids(&handle.reference, 512) {
            let mut hostile = handle.clone();
            hostile.reference = reference;
            let before = self.harness.request_counts().await;
            let outcome = self.verifier.check(&hostile, &request).await;
            let made = self.made_since(before.clone()).await?;
            let typed = match &outcome {
                Err(err) => matches!(err.kind(), ErrorKind::InvalidInput | ErrorKind::NotFound),
                Ok(CheckOutcome::Rejected(r)) => r.reason == RejectReason::NotFound,
                Ok(_) => false,
            };
            if !typed {
                failures.push(format!(
                    "a reference with {what}: expected InvalidInput (refused) or NotFound \
                     (the provider knows no such verification), got {}",
                    describe(&outcome)
                ));
                continue;
            }
            let reached = self
                .reached(&before, made, &handle.reference, &hostile.reference)
                .await?;
            if let Some(failure) = tally.add(made, reached) {
                failures.push(format!(
                    "a reference with {what} reached {failure}, where the real reference is a \
                     path segment of its own: put a reference in one percent-encoded path \
                     segment (BaseUrl::join_segments), so that it cannot reach another path"
                ));
            }
        }
        ensure!(failures.is_empty(), "{}", failures.join("; "));
        Ok(Some(tally.detail("references")))
    }

    pub(super) async fn malformed_session_refused(&self) -> Check {
        let resolver = self.require_resolver()?;
        let real = match self.complete_one().await {
            Ok((_, _, Ok(CheckOutcome::Verified(verified)))) => verified.session_id,
            _ => None,
        };
        let real = real.map_or_else(
            || "conformanceSession0000".to_owned(),
            |s| s.as_str().into(),
        );
        let mut failures = Vec::new();
        let mut tally = Tally::default();
        for (what, id) in hostile_ids(&real, 512) {
            // A shape the type itself refuses cannot reach the resolver.
            let Ok(session) = SessionId::new(&id[..id.len().min(512)]) else {
                continue;
            };
            let before = self.harness.request_counts().await;
            let found = resolver.resolve(&session, &RequestContext::default()).await;
            let made = self.made_since(before.clone()).await?;
            match &found {
                Err(err) if matches!(err.kind(), ErrorKind::InvalidInput | ErrorKind::NotFound) => {
                }
                other => {
                    failures.push(format!(
                        "a session id with {what}: expected InvalidInput (refused) or NotFound \
                         (the provider knows no such session), got {}",
                        describe_found(other)
                    ));
                    continue;
                }
            }
            let reached = self.reached(&before, made, &real, session.as_str()).await?;
            if let Some(failure) = tally.add(made, reached) {
                failures.push(format!(
                    "a session id with {what} reached {failure}, where the real session id is a \
                     path segment of its own: put a session id in one percent-encoded path \
                     segment (BaseUrl::join_segments), so that it cannot reach another path"
                ));
            }
        }
        ensure!(failures.is_empty(), "{}", failures.join("; "));
        Ok(Some(tally.detail("session ids")))
    }

    // ---- hostile answers to sends ----

    pub(super) async fn send_unreadable(&self, channel: &Channel) -> Check {
        self.each_answer(HostileAnswer::UNREADABLE, |answer| {
            self.send_hostile(channel, answer, self.verifier)
        })
        .await
    }

    pub(super) async fn send_stalled(&self, channel: &Channel) -> Check {
        let impatient = self.impatient().await?;
        let verifier = impatient.verifier.as_deref().unwrap_or(self.verifier);
        self.send_hostile(
            channel,
            HostileAnswer::StalledBody {
                longer_than: impatient.gives_up_within,
            },
            verifier,
        )
        .await
    }

    /// A send answered with `answer`: a `MaybeSent` error (the provider may have taken it),
    /// after exactly one send request.
    async fn send_hostile(
        &self,
        channel: &Channel,
        answer: HostileAnswer,
        verifier: &dyn PhoneVerifier,
    ) -> Check {
        let phone = self.phone().await?;
        self.harness
            .inject_hostile_answer(AnswerTo::Send, answer)
            .await?;
        let before = self.harness.request_counts().await;
        let result = verifier
            .start(&StartRequest::otp(channel.clone(), phone))
            .await;
        let verdict = async {
            let sends = match before {
                Ok(before) => self.logged_since(&before, |c| Some(c.sends)).await?,
                Err(HarnessError::Unsupported(_)) => None,
                Err(err) => return Err(err.into()),
            };
            if let Some(sends) = sends {
                ensure!(
                    sends == 1,
                    "the provider received {sends} send requests, expected exactly 1: a send \
                     whose answer could not be read must never be retried"
                );
            }
            match result {
                Ok(_) => fail!(
                    "start succeeded although the provider's answer was a {} (was the injected \
                     answer used by another request?)",
                    answer.name()
                ),
                Err(err) => ensure!(
                    err.kind() == ErrorKind::MaybeSent,
                    "expected a MaybeSent error (the provider may have taken the send; any \
                     other error tells the caller that nothing went out, and a router would \
                     send again), got {err}"
                ),
            }
            Ok(None)
        }
        .await;
        self.settle(verdict).await
    }

    // ---- hostile answers to code checks ----

    pub(super) async fn check_unreadable(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        self.each_answer(HostileAnswer::UNREADABLE, |answer| {
            self.check_hostile(channel, answer, self.verifier)
        })
        .await
    }

    pub(super) async fn check_stalled(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let impatient = self.impatient().await?;
        let verifier = impatient.verifier.as_deref().unwrap_or(self.verifier);
        self.check_hostile(
            channel,
            HostileAnswer::StalledBody {
                longer_than: impatient.gives_up_within,
            },
            verifier,
        )
        .await
    }

    /// The right code's check answered with `answer`: an `OutcomeUnknown` error, or
    /// `Verified` after reading the verification back (a second request); never a rejection.
    /// When the harness counts code checks, either after exactly one code-check request, or two
    /// with a read-back between where `answer` left the first unprocessed and the harness says
    /// a repeat is harmless ([`checked_once`]).
    async fn check_hostile(
        &self,
        channel: &Channel,
        answer: HostileAnswer,
        verifier: &dyn PhoneVerifier,
    ) -> Check {
        let (phone, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        self.harness
            .inject_hostile_answer(AnswerTo::Check(&handle), answer)
            .await?;
        let before = self.harness.request_counts().await;
        let outcome = verifier.check_code(&handle, &right).await;
        let verdict = async {
            let checks = match &before {
                Ok(before) => self.logged_since(before, |c| c.checks).await?,
                Err(_) => None,
            };
            let made = self.made_since(before).await?;
            let sent = Sent { checks, made };
            // Only an answer given without processing leaves a read-back to show that the
            // check did not take effect; after one given once the check was taken, a second
            // check is never right.
            let repeat_harmless =
                !answer.processed() && self.harness.repeat_check_harmless(&handle);
            let why = format!(
                "the provider may have taken the check (its answer was a {}), so the code may be \
                 used up and the check must not be sent again (a read-back is a lookup, not a \
                 second check)",
                answer.name()
            );
            match outcome {
                Err(err) if err.kind() == ErrorKind::OutcomeUnknown => {
                    checked_once(sent, repeat_harmless, &why)?;
                    sent.proven(None, "an OutcomeUnknown error as expected")
                }
                answered @ Ok(CheckOutcome::Verified(_)) => {
                    self.expect_verified(answered, &phone, channel)?;
                    checked_once(sent, repeat_harmless, &why)?;
                    let note = read_back(made, "the right code's check")?;
                    if !answer.processed() {
                        verified_by_a_second_check(sent, answer)?;
                    }
                    sent.proven(note, "verified after a read-back")
                }
                Ok(CheckOutcome::Rejected(r)) => fail!(
                    "the right code's check was answered with a {}, and the verifier reported \
                     rejected ({:?}): an answer that cannot be read is never a rejection; \
                     expected an OutcomeUnknown error",
                    answer.name(),
                    r.reason
                ),
                other => fail!(
                    "the right code's check was answered with a {}: expected an OutcomeUnknown \
                     error (the provider may have taken the check and used the code up), got {}",
                    answer.name(),
                    describe(&other)
                ),
            }
        }
        .await;
        self.settle(verdict).await
    }

    pub(super) async fn check_unreadable_wrong_code(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        self.each_answer(HostileAnswer::UNREADABLE, |answer| {
            self.check_hostile_wrong_code(channel, answer)
        })
        .await
    }

    /// A wrong code's check answered with `answer`: never `Verified`, whatever the verifier
    /// read back ([`wrong_code_in_doubt`]).
    async fn check_hostile_wrong_code(&self, channel: &Channel, answer: HostileAnswer) -> Check {
        let (_, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        let wrong = self.wrong_code_for(&handle, &right).await?;
        self.harness
            .inject_hostile_answer(AnswerTo::Check(&handle), answer)
            .await?;
        let before = self.harness.request_counts().await;
        let outcome = self.verifier.check_code(&handle, &wrong).await;
        let verdict = async {
            let checks = match &before {
                Ok(before) => self.logged_since(before, |c| c.checks).await?,
                Err(_) => None,
            };
            let made = self.made_since(before).await?;
            let what = format!("its answer was a {}", answer.name());
            let sent = Sent { checks, made };
            self.wrong_code_in_doubt(&handle, outcome, sent, &what, answer.processed())
        }
        .await;
        self.settle(verdict).await
    }

    // ---- hostile answers to lookups ----

    pub(super) async fn poll_unreadable(&self, channel: &Channel) -> Check {
        self.each_answer(HostileAnswer::UNREADABLE, |answer| {
            self.poll_hostile(channel, answer, self.verifier)
        })
        .await
    }

    pub(super) async fn poll_stalled(&self, channel: &Channel) -> Check {
        let impatient = self.impatient().await?;
        let verifier = impatient.verifier.as_deref().unwrap_or(self.verifier);
        self.poll_hostile(
            channel,
            HostileAnswer::StalledBody {
                longer_than: impatient.gives_up_within,
            },
            verifier,
        )
        .await
    }

    /// A completed flow's poll answered with `answer`: a typed error of [`LOOKUP_ERRORS`], or
    /// `Verified` with the user's phone after a retry.
    async fn poll_hostile(
        &self,
        channel: &Channel,
        answer: HostileAnswer,
        verifier: &dyn PhoneVerifier,
    ) -> Check {
        let handle = self.start_reverse(channel).await?;
        let phone = self.phone().await?;
        self.harness.complete_reverse_flow(&handle, &phone).await?;
        self.harness
            .inject_hostile_answer(AnswerTo::Lookup(&handle), answer)
            .await?;
        let before = self.harness.request_counts().await;
        let outcome = verifier.poll(&handle).await;
        let verdict = async {
            let made = self.made_since(before).await?;
            match outcome {
                Err(err) if LOOKUP_ERRORS.contains(&err.kind()) => Ok(None),
                answered @ Ok(CheckOutcome::Verified(_)) => {
                    self.expect_verified(answered, &phone, channel)?;
                    read_back(made, "the poll")
                }
                other => fail!(
                    "a completed flow's poll was answered with a {}: expected a Decode, \
                     Transport, Timeout or ProviderUnavailable error (the answer could not be \
                     had), or verified after asking again; got {}",
                    answer.name(),
                    describe(&other)
                ),
            }
        }
        .await;
        self.settle(verdict).await
    }

    pub(super) async fn resolution_unreadable(&self) -> Check {
        let resolver = self.require_resolver()?;
        self.each_answer(HostileAnswer::UNREADABLE, |answer| {
            self.resolution_hostile(answer, resolver)
        })
        .await
    }

    pub(super) async fn resolution_stalled(&self) -> Check {
        let resolver = self.require_resolver()?;
        let impatient = self.impatient().await?;
        let resolver = impatient.resolver.as_deref().unwrap_or(resolver);
        self.resolution_hostile(
            HostileAnswer::StalledBody {
                longer_than: impatient.gives_up_within,
            },
            resolver,
        )
        .await
    }

    /// A verified session's resolution answered with `answer`: a typed error of
    /// [`LOOKUP_ERRORS`], or the verified phone after a retry.
    async fn resolution_hostile(
        &self,
        answer: HostileAnswer,
        resolver: &dyn SessionResolver,
    ) -> Check {
        let (phone, handle, session) = self.verified_session().await?;
        self.harness
            .inject_hostile_answer(AnswerTo::Lookup(&handle), answer)
            .await?;
        let before = self.harness.request_counts().await;
        let found = resolver.resolve(&session, &RequestContext::default()).await;
        let verdict = async {
            let made = self.made_since(before).await?;
            match found {
                Err(err) if LOOKUP_ERRORS.contains(&err.kind()) => Ok(None),
                found @ Ok(_) => {
                    self.expect_resolved(found, &phone)?;
                    read_back(made, "the resolution")
                }
                Err(err) => fail!(
                    "a verified session's resolution was answered with a {}: expected a \
                     Decode, Transport, Timeout or ProviderUnavailable error (the answer could \
                     not be had), or the phone after asking again; got {err}",
                    answer.name()
                ),
            }
        }
        .await;
        self.settle(verdict).await
    }
}

/// `Verified` after `answer`, which the provider gave without processing the check: the code
/// was not used, so only a second check can have verified it (where the harness says a repeat
/// is harmless, after a read-back: [`checked_once`] has passed). With one code-check request
/// the verifier took the answer for a success (or read back a verification nothing had
/// verified), and it fails; without code checks counted, [`Sent::proven`] skips it.
fn verified_by_a_second_check(sent: Sent, answer: HostileAnswer) -> Result<(), Verdict> {
    ensure!(
        sent.checks != Some(1),
        "the provider gave the {} without processing the check, so the code was not used and \
         nothing verified it, yet the verifier reported verified after one code-check request \
         (a 2xx answer is not a success until its body says so, and a read-back shows the \
         verification still pending)",
        answer.name()
    );
    Ok(())
}

/// A success after a hostile answer is right only when the verifier asked again: with
/// request counts, after one request it fails; without them it is skipped as unproven.
fn read_back(made: Option<u64>, what: &str) -> Check {
    match made {
        Some(made) => {
            ensure!(
                made >= 2,
                "{what} succeeded after {made} request(s): the only answer was the hostile \
                 one, so the verifier made a result up from a body it could not read (or \
                 the injected answer was not used)"
            );
            Ok(Some("succeeded after asking again".into()))
        }
        None => Err(Verdict::Skip(format!(
            "{UNCOUNTED}: {what} succeeded, but not proven after asking again"
        ))),
    }
}

/// How the hostile ids of a check were answered: refused before any request, or asked of the
/// provider, and whether the harness showed where those requests went.
#[derive(Default)]
struct Tally {
    refused: usize,
    asked: usize,
    uncounted: usize,
    /// Why the requests' paths could not be seen, when they could not.
    unseen: Option<String>,
}

impl Tally {
    /// Counts an id answered as refused or unknown after `made` requests, which `reached`
    /// where it says: the request that split the id, if one did.
    fn add(&mut self, made: Option<u64>, reached: Reached) -> Option<String> {
        match made {
            Some(0) => self.refused += 1,
            Some(_) => self.asked += 1,
            None => self.uncounted += 1,
        }
        match reached {
            Reached::Kept => None,
            Reached::Split(target) => Some(target),
            Reached::Unseen(why) => {
                self.unseen.get_or_insert(why);
                None
            }
        }
    }

    fn detail(&self, what: &str) -> String {
        let mut parts = Vec::new();
        if self.refused > 0 {
            parts.push(format!("{} refused before any request", self.refused));
        }
        if self.asked > 0 {
            parts.push(format!(
                "{} sent to the provider and answered as unknown",
                self.asked
            ));
        }
        if self.uncounted > 0 {
            parts.push(format!(
                "{} answered as refused or unknown (requests not counted)",
                self.uncounted
            ));
        }
        let mut detail = format!("hostile {what}: {}", parts.join(", "));
        if let Some(why) = &self.unseen {
            let _ = write!(
                detail,
                "; where the requests went was not looked at ({why})"
            );
        }
        detail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_id_put_into_a_path_unescaped_is_seen_split() {
        let real = "64f1c2";
        let split = |path: &str, hostile: &str| split_in_path(path, real, hostile);
        // Joined as given: the real id became a segment of its own (`?` and `#` never reach
        // the path; `..` was resolved; an unescaped `%2F` is decoded by the provider).
        assert!(split("/v2/phone-validations/64f1c2/x", "64f1c2/x"));
        assert!(split("/v2/phone-validations/64f1c2", "64f1c2?x=1"));
        assert!(split("/64f1c2", "../../64f1c2"));
        assert!(split("/v2/phone-validations/64f1c2%2Fx", "64f1c2%2Fx"));
        // One percent-encoded segment, however much it escapes, keeps it whole.
        assert!(!split("/v2/phone-validations/64f1c2%2Fx", "64f1c2/x"));
        assert!(!split("/v2/phone-validations/64f1c2%3Fx%3D1", "64f1c2?x=1"));
        assert!(!split(
            "/v2/phone-validations/..%2F..%2F64f1c2",
            "../../64f1c2"
        ));
        assert!(!split("/v2/phone-validations/64f1c2%252Fx", "64f1c2%2Fx"));
        assert!(!split("/v2/%36%34f1c2%2Fx", "64f1c2/x"));
        // Not in the path at all (in the body or the query), or only within a longer segment.
        assert!(!split("/v2/phone-validations", "64f1c2/x"));
        assert!(!split("/v2/phone-validations/64f1c2aaaa", "64f1c2aaaaaaaa"));
    }

    #[test]
    fn percent_escapes_decode_and_stray_ones_stay() {
        assert_eq!(percent_decoded("a%2Fb%3f"), "a/b?");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(percent_decoded("%zz%4"), "%zz%4");
    }
}
