//! [`MultiHarness`]: one harness over several providers, for a verifier that routes between
//! them (such as `phone-verify-router`'s `Router`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use phone_verify_core::{Channel, Code, PhoneNumber, PhoneVerifier, ProviderId, Verification};

use crate::harness::{
    AnswerTo, CheckFault, DocumentedError, Harness, HarnessError, HarnessResult, HostileAnswer,
    ImpatientClient, LookupFault, RequestCounts, RequestTarget, SendFault,
};

type MakeVerifier = Box<dyn Fn() -> Arc<dyn PhoneVerifier> + Send + Sync>;
type MakeImpatient = Box<dyn Fn() -> ImpatientClient + Send + Sync>;

/// A [`Harness`] for a verifier whose handles name several providers: each provider's own
/// harness (a member) does the work for that provider's handles.
///
/// - **Handles** go to the member of `handle.provider`: delivered and wrong codes, reverse-flow
///   completion. A handle of a provider that is not a member fails the check, and
///   [`handle_providers`](Harness::handle_providers) names the members, so the suite refuses a
///   handle from any other provider.
/// - **Phones** come from one member ([`phones_from`](MultiHarness::phones_from); the first by
///   default): the verifier's rules decide which provider gets them.
/// - **Counts** are the members' counts added up, so "exactly one send" holds across every
///   provider (code checks are counted when every member counts them), with each member's
///   own ([`RequestCounts::providers`]): a send refused before processing may reach each
///   provider once, as a router's failover does, never one twice. The **requests' paths**
///   ([`Harness::requests_since`]) are every member's. **Send faults** are injected at every
///   member (the one that gets the send uses
///   it up; the suite clears the others right after; when a member cannot inject the fault,
///   those already armed are cleared and its error returned); **hostile answers** to sends
///   likewise, to checks and lookups at the member of the handle's provider; **check
///   faults**, **lookup faults**, **wrong-code limits** and whether a **repeated check** is
///   harmless go to the member of the handle's provider; **secrets**
///   are every member's.
/// - **Clearing faults** clears every member, and fails when any member says one of its faults
///   was not used. Members that share one environment must each clear only their own faults
///   (`SandboxHarness`, of the `sandbox` feature, clears its provider's only): a member
///   that cleared them all would hide a later member's unused fault, whose check then proved
///   nothing.
/// - **Time** moves on every member's clock, or only on one when the members share an
///   environment ([`clock_from`](MultiHarness::clock_from)), so a shared clock moves once.
/// - **Fresh verifiers** come from [`with_fresh_verifier`](MultiHarness::with_fresh_verifier)
///   (a new router over the same providers, say); without it those checks are skipped. The
///   **impatient client** of the stalled-answer checks comes from
///   [`with_impatient_client`](MultiHarness::with_impatient_client) (a router over clients
///   with short timeouts); without it those checks are skipped.
/// - **Documented errors** are injected like hostile answers: an answer to a send at every
///   member, to a check or a lookup at the member of the handle's provider. The members'
///   lists are not merged (which provider answers a start depends on the verifier's rules):
///   the errors the check injects are those of
///   [`with_documented_errors`](MultiHarness::with_documented_errors), none by default (the
///   check is then skipped).
///
/// ```ignore
/// let harness = MultiHarness::new()
///     .member(phone_verify_verigator::PROVIDER, verigator_harness) // hands out the phones
///     .member(phone_verify_verifik::PROVIDER, verifik_harness)
///     .member(phone_verify_verifykit::PROVIDER, verifykit_harness)
///     .clock_from(phone_verify_verigator::PROVIDER) // one sandbox, one clock
///     .with_fresh_verifier(move || Arc::new(router(&sandbox)));
/// ```
#[derive(Default)]
pub struct MultiHarness {
    members: Vec<(ProviderId, Box<dyn Harness>)>,
    phones: Option<ProviderId>,
    clock: Option<ProviderId>,
    make_verifier: Option<MakeVerifier>,
    make_impatient: Option<MakeImpatient>,
    documented_errors: Vec<DocumentedError>,
}

impl MultiHarness {
    /// A harness with no members yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `harness` as the member for handles that name `provider`. A provider added twice
    /// keeps its first harness.
    #[must_use]
    pub fn member(mut self, provider: ProviderId, harness: impl Harness + 'static) -> Self {
        self.members.push((provider, Box::new(harness)));
        self
    }

    /// Hands out the phones of the member for `provider` (by default, the first member's).
    #[must_use]
    pub fn phones_from(mut self, provider: ProviderId) -> Self {
        self.phones = Some(provider);
        self
    }

    /// Moves time only on the clock of the member for `provider`, for members that share one
    /// environment (by default every member's clock moves).
    #[must_use]
    pub fn clock_from(mut self, provider: ProviderId) -> Self {
        self.clock = Some(provider);
        self
    }

    /// Builds the fresh verifiers of [`Harness::fresh_verifier`] with `make`.
    #[must_use]
    pub fn with_fresh_verifier(
        mut self,
        make: impl Fn() -> Arc<dyn PhoneVerifier> + Send + Sync + 'static,
    ) -> Self {
        self.make_verifier = Some(Box::new(make));
        self
    }

    /// The documented errors ([`Harness::documented_errors`]) that
    /// `errors.documented_codes_typed` injects: errors of the provider the verifier's rules
    /// send the suite's phones to (and its checks and lookups go back to), in that provider's
    /// wire shape.
    #[must_use]
    pub fn with_documented_errors(
        mut self,
        errors: impl IntoIterator<Item = DocumentedError>,
    ) -> Self {
        self.documented_errors.extend(errors);
        self
    }

    /// Builds the [impatient client](Harness::impatient_client) of the stalled-answer checks
    /// with `make`: say a router over clients with short timeouts, and how soon it gives up.
    #[must_use]
    pub fn with_impatient_client(
        mut self,
        make: impl Fn() -> ImpatientClient + Send + Sync + 'static,
    ) -> Self {
        self.make_impatient = Some(Box::new(make));
        self
    }

    /// The member for `provider`.
    pub fn member_for(&self, provider: &ProviderId) -> Option<&dyn Harness> {
        self.members
            .iter()
            .find(|(id, _)| id == provider)
            .map(|(_, harness)| &**harness)
    }

    /// The member for the handle's provider, or a failure naming it.
    fn for_handle(&self, verification: &Verification) -> HarnessResult<&dyn Harness> {
        self.member_for(&verification.provider).ok_or_else(|| {
            HarnessError::failed(format!(
                "the handle names provider {}, which has no harness here",
                verification.provider
            ))
        })
    }

    /// The member named by `choice`, else the first; a failure when there is none.
    fn chosen(&self, choice: Option<&ProviderId>, what: &str) -> HarnessResult<&dyn Harness> {
        let member = match choice {
            Some(provider) => self.member_for(provider),
            None => self.members.first().map(|(_, harness)| &**harness),
        };
        member.ok_or_else(|| HarnessError::failed(format!("no member harness for {what}")))
    }
}

#[async_trait]
impl Harness for MultiHarness {
    async fn fresh_phone(&self) -> HarnessResult<PhoneNumber> {
        self.chosen(self.phones.as_ref(), "phones")?
            .fresh_phone()
            .await
    }

    fn delivers_codes(&self, channel: &Channel) -> bool {
        self.members.iter().any(|(_, h)| h.delivers_codes(channel))
    }

    async fn delivered_code(&self, verification: &Verification) -> HarnessResult<Option<Code>> {
        self.for_handle(verification)?
            .delivered_code(verification)
            .await
    }

    async fn wrong_code(&self, verification: &Verification) -> HarnessResult<Code> {
        self.for_handle(verification)?
            .wrong_code(verification)
            .await
    }

    async fn complete_reverse_flow(
        &self,
        verification: &Verification,
        phone: &PhoneNumber,
    ) -> HarnessResult<()> {
        self.for_handle(verification)?
            .complete_reverse_flow(verification, phone)
            .await
    }

    async fn advance_time(&self, by: Duration) -> HarnessResult<()> {
        if let Some(provider) = &self.clock {
            return self
                .chosen(Some(provider), "the clock")?
                .advance_time(by)
                .await;
        }
        for (_, harness) in &self.members {
            harness.advance_time(by).await?;
        }
        Ok(())
    }

    async fn request_counts(&self) -> HarnessResult<RequestCounts> {
        let mut total = RequestCounts::default().with_checks(0);
        for (provider, harness) in &self.members {
            let counts = harness.request_counts().await?;
            total.sends += counts.sends;
            total.total += counts.total;
            // Code checks are told apart only when every member tells them apart.
            total.checks = total.checks.zip(counts.checks).map(|(a, b)| a + b);
            total = total.with_provider(provider.clone(), counts);
        }
        Ok(total)
    }

    async fn requests_since(&self, before: &RequestCounts) -> HarnessResult<Vec<RequestTarget>> {
        let mut targets = Vec::new();
        // The counts hold one entry per member, in the members' order.
        for (n, (provider, harness)) in self.members.iter().enumerate() {
            let Some((_, then)) = before.providers.get(n).filter(|(id, _)| id == provider) else {
                return Err(HarnessError::failed(format!(
                    "the counts given have no entry for member {provider}: they are not this \
                     harness's"
                )));
            };
            targets.extend(harness.requests_since(then).await?);
        }
        Ok(targets)
    }

    async fn inject_send_fault(&self, fault: SendFault) -> HarnessResult<()> {
        for (n, (_, harness)) in self.members.iter().enumerate() {
            if let Err(err) = harness.inject_send_fault(fault).await {
                // Nothing stays armed in the members before: the suite skips (or fails) the
                // check, and their fault would hit a later check's send.
                for (_, armed) in &self.members[..n] {
                    let _ = armed.clear_faults().await;
                }
                return Err(err);
            }
        }
        Ok(())
    }

    async fn inject_check_fault(
        &self,
        verification: &Verification,
        fault: CheckFault,
    ) -> HarnessResult<()> {
        self.for_handle(verification)?
            .inject_check_fault(verification, fault)
            .await
    }

    async fn inject_lookup_fault(
        &self,
        verification: &Verification,
        fault: LookupFault,
    ) -> HarnessResult<()> {
        self.for_handle(verification)?
            .inject_lookup_fault(verification, fault)
            .await
    }

    async fn inject_hostile_answer(
        &self,
        to: AnswerTo<'_>,
        answer: HostileAnswer,
    ) -> HarnessResult<()> {
        let (AnswerTo::Check(verification) | AnswerTo::Lookup(verification)) = to else {
            for (n, (_, harness)) in self.members.iter().enumerate() {
                if let Err(err) = harness.inject_hostile_answer(to, answer).await {
                    // As for send faults: nothing stays armed in the members before.
                    for (_, armed) in &self.members[..n] {
                        let _ = armed.clear_faults().await;
                    }
                    return Err(err);
                }
            }
            return Ok(());
        };
        self.for_handle(verification)?
            .inject_hostile_answer(to, answer)
            .await
    }

    fn documented_errors(&self) -> Vec<DocumentedError> {
        self.documented_errors.clone()
    }

    async fn inject_documented_error(
        &self,
        to: AnswerTo<'_>,
        error: &DocumentedError,
    ) -> HarnessResult<()> {
        let (AnswerTo::Check(verification) | AnswerTo::Lookup(verification)) = to else {
            for (n, (_, harness)) in self.members.iter().enumerate() {
                if let Err(err) = harness.inject_documented_error(to, error).await {
                    for (_, armed) in &self.members[..n] {
                        let _ = armed.clear_faults().await;
                    }
                    return Err(err);
                }
            }
            return Ok(());
        };
        self.for_handle(verification)?
            .inject_documented_error(to, error)
            .await
    }

    async fn impatient_client(&self) -> HarnessResult<ImpatientClient> {
        match &self.make_impatient {
            Some(make) => Ok(make()),
            None => Err(HarnessError::unsupported(
                "a client that gives up on stalled answers in a known time \
                 (MultiHarness::with_impatient_client)",
            )),
        }
    }

    fn wrong_code_limit(&self, verification: &Verification) -> Option<u32> {
        self.member_for(&verification.provider)?
            .wrong_code_limit(verification)
    }

    fn repeat_check_harmless(&self, verification: &Verification) -> bool {
        self.member_for(&verification.provider)
            .is_some_and(|member| member.repeat_check_harmless(verification))
    }

    fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        for (_, harness) in &self.members {
            for secret in harness.secrets() {
                if !secrets.contains(&secret) {
                    secrets.push(secret);
                }
            }
        }
        secrets
    }

    async fn clear_faults(&self) -> HarnessResult<()> {
        // Every member is cleared, even after one fails; each clears (and judges) only its
        // own faults, so one member's clearing leaves a later member's to be judged.
        let mut first_failure = Ok(());
        for (_, harness) in &self.members {
            let cleared = harness.clear_faults().await;
            if first_failure.is_ok() {
                first_failure = cleared;
            }
        }
        first_failure
    }

    async fn fresh_verifier(&self) -> HarnessResult<Arc<dyn PhoneVerifier>> {
        match &self.make_verifier {
            Some(make) => Ok(make()),
            None => Err(HarnessError::unsupported(
                "building a fresh verifier (MultiHarness::with_fresh_verifier)",
            )),
        }
    }

    fn handle_providers(&self) -> Option<Vec<ProviderId>> {
        let mut providers: Vec<ProviderId> = Vec::with_capacity(self.members.len());
        for (id, _) in &self.members {
            if !providers.contains(id) {
                providers.push(id.clone());
            }
        }
        Some(providers)
    }
}

impl fmt::Debug for MultiHarness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let members: Vec<&str> = self.members.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("MultiHarness")
            .field("members", &members)
            .field("phones", &self.phones)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}
