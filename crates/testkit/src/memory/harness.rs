//! [`InMemoryHarness`]: the in-memory provider's [`Harness`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use phone_verify_core::{Code, ErrorKind, PhoneNumber, PhoneVerifier, Verification};

use super::{InMemoryState, InMemoryVerifier};
use crate::harness::{
    AnswerTo, Answering, CheckFault, DocumentedError, Harness, HarnessError, HarnessResult,
    HostileAnswer, ImpatientClient, LookupFault, RequestCounts, SendFault,
};

/// A [`Harness`] for [`InMemoryVerifier`], supporting everything the suite asks for.
///
/// To test a wrapper around the in-memory provider (a middleware, a decorator), give the
/// harness a way to wrap fresh clients with
/// [`with_fresh_verifier`](InMemoryHarness::with_fresh_verifier).
///
/// ```
/// use phone_verify_testkit::memory::{InMemoryHarness, InMemoryVerifier};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let verifier = InMemoryVerifier::new();
/// let harness = InMemoryHarness::new(&verifier);
/// phone_verify_testkit::run(&verifier, Some(&verifier), &harness)
///     .await
///     .assert_all_passed();
/// # });
/// ```
pub struct InMemoryHarness {
    state: InMemoryState,
    phones: AtomicU32,
    fresh: FreshVerifier,
    secrets: Vec<String>,
    documented_errors: Vec<DocumentedError>,
}

type FreshVerifier = Box<dyn Fn(InMemoryState) -> Arc<dyn PhoneVerifier> + Send + Sync>;

impl InMemoryHarness {
    /// A harness for the provider behind `verifier`.
    pub fn new(verifier: &InMemoryVerifier) -> Self {
        Self::for_state(verifier.state().clone())
    }

    /// A harness for `state`.
    pub fn for_state(state: InMemoryState) -> Self {
        Self {
            state,
            phones: AtomicU32::new(0),
            fresh: Box::new(|state| Arc::new(InMemoryVerifier::with_state(state))),
            secrets: Vec::new(),
            documented_errors: super::documented_errors(),
        }
    }

    /// Builds [fresh verifiers](Harness::fresh_verifier) with `make` from the shared state,
    /// instead of plain [`InMemoryVerifier`]s.
    #[must_use]
    pub fn with_fresh_verifier(
        mut self,
        make: impl Fn(InMemoryState) -> Arc<dyn PhoneVerifier> + Send + Sync + 'static,
    ) -> Self {
        self.fresh = Box::new(make);
        self
    }
}

impl InMemoryHarness {
    /// Names the credentials of the verifier under test ([`Harness::secrets`]), e.g. of a
    /// middleware around the in-memory provider, so that `privacy.secrets_not_shown` runs.
    #[must_use]
    pub fn with_secrets<I, S>(mut self, secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.secrets = secrets.into_iter().map(Into::into).collect();
        self
    }
}

impl InMemoryHarness {
    /// Replaces the documented errors `errors.documented_codes_typed` injects
    /// ([`Harness::documented_errors`]; by default the in-memory provider's own,
    /// [`documented_errors`](super::documented_errors)), e.g. with those a middleware around
    /// the in-memory provider documents.
    #[must_use]
    pub fn with_documented_errors(
        mut self,
        errors: impl IntoIterator<Item = DocumentedError>,
    ) -> Self {
        self.documented_errors = errors.into_iter().collect();
        self
    }
}

impl InMemoryHarness {
    /// Makes the provider answer the next call of kind `to` with the server error `status`
    /// (a 5xx) without `Retry-After`, unprocessed; its client reads it as a server error in
    /// doubt.
    fn answer_server_error(&self, to: Answering, status: u16) {
        let body = r#"{"error":{"message":"The server could not answer."}}"#;
        self.state
            .answer_next_with_error(to, status, Vec::new(), body, 1);
    }
}

impl fmt::Debug for InMemoryHarness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryHarness")
            .field("state", &self.state)
            .field("phones", &self.phones)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Harness for InMemoryHarness {
    async fn fresh_phone(&self) -> HarnessResult<PhoneNumber> {
        // Panamanian mobile numbers: 6 and seven more digits, all valid.
        let n = self.phones.fetch_add(1, Ordering::Relaxed) % 10_000_000;
        PhoneNumber::parse(&format!("+5076{n:07}")).map_err(|e| HarnessError::failed(e.to_string()))
    }

    /// The code of the message sent for the handle's reference, which must have gone out on
    /// the handle's channel: one sent on another fails the check that asked for it.
    async fn delivered_code(&self, verification: &Verification) -> HarnessResult<Option<Code>> {
        let Some(message) = self.state.message_for(&verification.reference) else {
            return Ok(None);
        };
        if message.channel != verification.channel {
            return Err(HarnessError::failed(format!(
                "the code went out by {}, but the handle says {}: a code is sent on the \
                 channel asked for",
                message.channel, verification.channel
            )));
        }
        Ok(Some(message.code))
    }

    async fn complete_reverse_flow(
        &self,
        verification: &Verification,
        phone: &PhoneNumber,
    ) -> HarnessResult<()> {
        Ok(self
            .state
            .complete_reverse_flow(&verification.reference, phone)?)
    }

    async fn advance_time(&self, by: Duration) -> HarnessResult<()> {
        self.state.advance_clock(by);
        Ok(())
    }

    async fn request_counts(&self) -> HarnessResult<RequestCounts> {
        Ok(self.state.request_counts())
    }

    async fn inject_send_fault(&self, fault: SendFault) -> HarnessResult<()> {
        let kind = match fault {
            // A 503 with `Retry-After`: refused before processing, nothing sent.
            SendFault::ServiceUnavailable => ErrorKind::ProviderUnavailable,
            // A reset leaves the client not knowing whether the message went out.
            SendFault::ConnectionReset => ErrorKind::MaybeSent,
            // A plain 503 or another server error, read as its client reads it off the wire:
            // in doubt.
            SendFault::ServiceUnavailableWithoutRetryAfter
            | SendFault::InternalServerError
            | SendFault::BadGateway
            | SendFault::GatewayTimeout => {
                let status = fault.status().unwrap_or(500);
                self.answer_server_error(Answering::Send, status);
                return Ok(());
            }
            // The in-memory provider has no credentials to echo.
            _ => return Err(HarnessError::unsupported("this send fault")),
        };
        self.state.fail_next_send(kind);
        Ok(())
    }

    async fn inject_check_fault(
        &self,
        verification: &Verification,
        fault: CheckFault,
    ) -> HarnessResult<()> {
        let _ = verification;
        match fault {
            CheckFault::AnswerLost => self.state.lose_next_check_answer(),
            CheckFault::ServerError
            | CheckFault::InternalServerError
            | CheckFault::BadGateway
            | CheckFault::GatewayTimeout => {
                let status = fault.status().unwrap_or(500);
                self.answer_server_error(Answering::Check, status);
            }
        }
        Ok(())
    }

    async fn inject_lookup_fault(
        &self,
        verification: &Verification,
        fault: LookupFault,
    ) -> HarnessResult<()> {
        let _ = verification;
        self.state.fail_next_lookup_with(fault);
        Ok(())
    }

    async fn inject_hostile_answer(
        &self,
        to: AnswerTo<'_>,
        answer: HostileAnswer,
    ) -> HarnessResult<()> {
        match to {
            AnswerTo::Send => self.state.answer_next_send_with(answer),
            AnswerTo::Check(_) => self.state.answer_next_check_with(answer),
            AnswerTo::Lookup(_) => self.state.answer_next_lookup_with(answer),
        }
        Ok(())
    }

    fn documented_errors(&self) -> Vec<DocumentedError> {
        self.documented_errors.clone()
    }

    async fn inject_documented_error(
        &self,
        to: AnswerTo<'_>,
        error: &DocumentedError,
    ) -> HarnessResult<()> {
        self.state.answer_next_with_error(
            to.answering(),
            error.status,
            error.headers.clone(),
            error.body.clone(),
            error.times,
        );
        Ok(())
    }

    /// The verifier under test: the in-memory provider has no wire, and its client gives up
    /// on a stalled answer at once (the error a client's timeout makes).
    async fn impatient_client(&self) -> HarnessResult<ImpatientClient> {
        Ok(ImpatientClient::under_test(Duration::ZERO))
    }

    fn wrong_code_limit(&self, verification: &Verification) -> Option<u32> {
        let _ = verification;
        Some(self.state.max_attempts())
    }

    fn secrets(&self) -> Vec<String> {
        self.secrets.clone()
    }

    async fn clear_faults(&self) -> HarnessResult<()> {
        if self.state.clear_failures() {
            return Err(HarnessError::failed(
                "the injected check or lookup fault was not used: no code check or lookup \
                 reached the provider",
            ));
        }
        Ok(())
    }

    async fn fresh_verifier(&self) -> HarnessResult<Arc<dyn PhoneVerifier>> {
        Ok((self.fresh)(self.state.clone()))
    }
}

#[cfg(test)]
mod tests {
    use phone_verify_core::{PhoneVerifierExt, StartRequest};

    use super::*;

    #[tokio::test]
    async fn a_lost_check_answer_is_used_by_the_next_check_and_an_unused_one_fails() {
        let verifier = InMemoryVerifier::with_seed(5);
        let harness = InMemoryHarness::new(&verifier);
        let phone = harness.fresh_phone().await.unwrap();
        let handle = verifier.start(&StartRequest::sms(phone)).await.unwrap();
        let code = harness.delivered_code(&handle).await.unwrap().unwrap();

        // Injected and never used: clearing says so.
        harness
            .inject_check_fault(&handle, CheckFault::AnswerLost)
            .await
            .unwrap();
        assert!(matches!(
            harness.clear_faults().await,
            Err(HarnessError::Failed(_))
        ));
        harness.clear_faults().await.unwrap();

        // Used: the check takes effect (the code is used up), its answer is lost.
        harness
            .inject_check_fault(&handle, CheckFault::AnswerLost)
            .await
            .unwrap();
        let lost = verifier.check_code(&handle, &code).await.unwrap_err();
        assert_eq!(lost.kind(), ErrorKind::OutcomeUnknown);
        harness.clear_faults().await.unwrap();
        let again = verifier.check_code(&handle, &code).await.unwrap();
        assert!(
            !again.is_verified(),
            "the lost check used the code: {again:?}"
        );
    }
}
