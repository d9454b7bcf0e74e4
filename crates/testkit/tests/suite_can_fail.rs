//! The suite is not a test that cannot fail: verifiers that break one rule of the contract
//! fail the checks for that rule (and pass the others), and missing harness support skips.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use phone_verify_core::http::{Clock, RetryPolicy, Sleep};
use phone_verify_core::{
    Capabilities, CheckOutcome, CheckRequest, Code, Error, ErrorKind, PhoneNumber, PhoneVerifier,
    ProviderId, RejectReason, Rejection, RequestContext, ResolvedSession, Result, SessionId,
    SessionResolver, StartRequest, Verification, Verified, async_trait,
};
use phone_verify_testkit::memory::{InMemoryHarness, InMemoryState, InMemoryVerifier};
use phone_verify_testkit::{
    AnswerTo, Answering, CheckFault, DocumentedError, Harness, HarnessError, HarnessResult,
    HostileAnswer, ImpatientClient, LookupFault, MultiHarness, Report, RequestCounts, SendFault,
    Status, run, run_with_timeout,
};

/// One way of breaking the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    /// Treats every code as the right one.
    AcceptsAnyCode,
    /// Retries a failed send once.
    RetriesSends,
    /// Reports a send whose answer was lost as surely not sent.
    LostSendNotMaybeSent,
    /// Verifies a used code again.
    ReusableCodes,
    /// Reports expiry as an error instead of an outcome.
    ExpiryAsError,
    /// Talks to the provider before validating a start request.
    PingsBeforeValidating,
    /// Checks handles of any provider.
    IgnoresProvider,
    /// Needs in-process state besides the handle.
    StatefulHandles,
    /// Verifies without the phone.
    DropsPhone,
    /// Crashes on every check.
    Panics,
    /// Never reports a reverse flow as pending.
    NeverPending,
    /// Resolves sessions it does not know.
    ResolvesAnything,
    /// Checks the code again when a check's answer was lost.
    RetriesLostChecks,
    /// Reports too many wrong codes as one more wrong code.
    HidesLockout,
    /// Shows its API key in `Debug`.
    ShowsSecret,
    /// Logs the phone number it sends a code to.
    LogsPhones,
    /// Logs the code it checks.
    LogsCodes,
    /// Does not retry a lookup when the provider is unavailable.
    NoLookupRetry,
    /// Retries a lookup at once, not after the provider's `Retry-After`.
    IgnoresRetryAfter,
    /// Retries a lookup only when the provider answered 503: never after a 429, nor after a
    /// connection reset.
    LookupRetriesOnly503,
    /// Retries a lookup only when the provider said when (`Retry-After`): never after a 503
    /// without it, nor after a connection reset.
    LookupRetriesOnlyWhenAsked,
    /// Sends a code check again when its answer was lost, then reports the first answer's
    /// `OutcomeUnknown` (as if to "confirm" it).
    RepeatsLostChecks,
    /// After a code check whose outcome is unknown, makes one request besides (as if reading
    /// the verification back) and sends the same check again, whatever the read showed: it
    /// reports the repeat's `Verified`, else the first `OutcomeUnknown`.
    RereadsThenRepeats,
    /// Answers a used code with an error (the provider "unavailable") instead of a rejection.
    UsedCodeIsAnError,
    /// Never answers a code check: it waits forever.
    HangsOnCodes,
    /// Logs its API key when it sends a code.
    LogsSecret,
    /// Logs the body of a refused send, which quotes its API key.
    LogsRefusals,
    /// Unwraps what it decodes: panics on an answer it cannot read.
    PanicsOnUnreadableAnswers,
    /// Reports a code check whose answer could not be read, or stalled, as a wrong code.
    UnreadableCheckRejected,
    /// Reports a poll whose answer could not be read, or stalled, as pending, and such a
    /// resolution as an unknown session.
    UnreadableLookupMisread,
    /// Waits for a stalled answer without end, whatever its timeouts.
    IgnoresStalls,
    /// Puts any reference or session id into its request as given, where the provider finds
    /// the id within it (as a URL path is normalised: `../../{id}`, `{id}/x`): a tampered
    /// handle verifies, a tampered session id resolves.
    ReachesTheIdWithin,
    /// Rebuilds every error it passes on from its kind and message alone: the provider's code,
    /// message and request id are lost.
    DropsProviderCode,
    /// Answers a check the provider refused with a documented code (a rejection that carries
    /// the provider's code) with a `Provider` error instead of the rejection.
    RefusalAsProviderError,
    /// Takes every 503 for a refusal before processing: a send or a code check answered 503,
    /// with `Retry-After` or without, is `ProviderUnavailable` (a router then sends again).
    Plain503AsRefusal,
    /// Quotes the code it checked in a wrong code's rejection.
    CodeInRejection,
    /// Answers a reference of no verification with a `NotFound` error instead of a rejection.
    UnknownReferenceAsError,
    /// Locks a verification one wrong code before the provider's limit.
    LocksOneEarly,
    /// Reports a reverse flow that expired before the user completed it as still pending.
    ReverseNeverExpires,
    /// Unwraps the fields it decodes: panics on an answer of valid JSON without them (`{}`,
    /// `[]`).
    UnwrapsMissingFields,
    /// Defaults the fields an answer lacks: a send answered `{}` or `[]` gives a handle with an
    /// empty reference, a code check a wrong code (no `approved` status), a poll pending, a
    /// resolution an unknown session.
    DefaultsMissingFields,
    /// Logs the Basic `Authorization` it sends, which holds its API key base64-encoded.
    LogsBasicCredentials,
    /// Sends every code by SMS, whatever the channel asked for, and writes the channel asked
    /// for into its handles and outcomes.
    SendsBySmsOnly,
    /// Takes a code check's 2xx answer for a success without reading its body: a check whose
    /// answer could not be read is reported verified, after a read of the verification it does
    /// not look at.
    UnreadAnswerVerifies,
    /// Writes twice the provider's validity into its handles' `expires_at`.
    DoublesExpiry,
    /// After a code check whose outcome is unknown, reads the verification back (a read it
    /// does not look at) and reports any success the handle ever had, an earlier check's
    /// included, as this check's.
    ReadsBackEarlierSuccess,
    /// No flaw: dates its handles' `created_at` by this machine's clock, not the provider's
    /// (as a provider that answers only an absolute expiry does), `expires_at` unchanged.
    CreatedAtHere,
    /// Takes a send answered with any server error but a 503 (500, 502, 504) for a refusal
    /// before processing: `ProviderUnavailable` (a router then sends again).
    ServerErrorSendAsRefusal,
    /// Reads a code check answered 500 as a wrong code.
    CheckServerErrorAsWrongCode,
    /// Logs the phone in full when a code check's outcome is unknown (its answer lost or
    /// unreadable), and only then.
    LogsPhoneOnLostAnswer,
    // ---- sends twice, pings before validating a check, a handle that does not read back ----
    /// Sends a code twice on a successful start: a second send request, its handle dropped.
    SendsTwice,
    /// Asks the provider about an OTP handle checked without a code (it polls it as a reverse
    /// flow) before refusing the check.
    PingsBeforeValidatingChecks,
    /// Keeps the provider's start answer in its handles' extras as it came, and refuses a
    /// handle without it at check: an answer nested deeper than a JSON reader takes (serde_json
    /// reads 128 levels) is written into the handle's JSON, but that JSON never reads back.
    AnswerExtraTooDeep,
}

/// Whether `err` is the in-memory client's error for an answer of valid JSON of the wrong
/// shape: no field it looks for.
fn fieldless(err: &Error) -> bool {
    let message = err.message();
    message.contains("(JSON object without fields)") || message.contains("(JSON array)")
}

/// `result` with its error rebuilt from its kind and message alone, for
/// [`Flaw::DropsProviderCode`].
fn without_details<T>(result: Result<T>) -> Result<T> {
    result.map_err(|err| Error::new(err.kind(), err.message().to_owned()))
}

/// Whether `err` is the in-memory client's error for an answer it could not read.
fn unreadable(err: &Error) -> bool {
    err.message().contains("could not be read")
}

/// Whether `err` is the in-memory client's error for an answer that stalled.
fn stalled(err: &Error) -> bool {
    err.message().contains("stalled")
}

/// Whether `id` is an id the in-memory provider hands out with `prefix`.
fn own_id(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 32
        && id.starts_with(prefix)
        && id[prefix.len()..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The in-memory provider's id with `prefix` found within `text`, if any.
fn id_within(text: &str, prefix: &str) -> Option<String> {
    let at = text.find(prefix)?;
    let id = text.get(at..at + prefix.len() + 32)?;
    own_id(id, prefix).then(|| id.to_owned())
}

/// A timer that does not wait: lookups are retried at once.
#[derive(Debug)]
struct NoWait;

impl Clock for NoWait {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn sleep(&self, _: Duration) -> Sleep {
        Box::pin(std::future::ready(()))
    }
}

/// The API key of [`Broken`], which the harness names as a secret.
const API_KEY: &str = "broken-api-key-0123";

/// The in-memory provider with one flaw.
struct Broken {
    inner: InMemoryVerifier,
    flaw: Flaw,
    started_here: Mutex<HashSet<String>>,
    verified: Mutex<std::collections::HashMap<String, CheckOutcome>>,
    /// Wrong codes per reference, for [`Flaw::LocksOneEarly`].
    wrong_codes: Mutex<std::collections::HashMap<String, u32>>,
}

impl Broken {
    fn new(state: InMemoryState, flaw: Flaw) -> Self {
        let inner = InMemoryVerifier::with_state(state);
        let inner = match flaw {
            Flaw::NoLookupRetry | Flaw::LookupRetriesOnly503 | Flaw::LookupRetriesOnlyWhenAsked => {
                inner.with_retry(RetryPolicy::never())
            }
            Flaw::IgnoresRetryAfter => inner.with_clock(Arc::new(NoWait)),
            _ => inner,
        };
        Self {
            inner,
            flaw,
            started_here: Mutex::default(),
            verified: Mutex::default(),
            wrong_codes: Mutex::default(),
        }
    }
}

impl Broken {
    /// Whether the flaw retries lookups itself (the in-memory client's retries are off).
    fn retries_lookups_itself(&self) -> bool {
        matches!(
            self.flaw,
            Flaw::LookupRetriesOnly503 | Flaw::LookupRetriesOnlyWhenAsked
        )
    }

    /// A lookup made with `call`, retried (up to 3 attempts) as the lookup flaws do: after
    /// the provider's `Retry-After`, else 10 ms.
    async fn own_lookup<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut attempts = 1;
        loop {
            match call().await {
                Err(err) if attempts < 3 && self.retries_lookup(&err) => {
                    let wait = err.retry_after().unwrap_or(Duration::from_millis(10));
                    tokio::time::sleep(wait).await;
                    attempts += 1;
                }
                done => return done,
            }
        }
    }

    /// Whether the lookup flaw retries a lookup that failed with `err`.
    fn retries_lookup(&self, err: &Error) -> bool {
        match self.flaw {
            Flaw::LookupRetriesOnly503 => err.kind() == ErrorKind::ProviderUnavailable,
            Flaw::LookupRetriesOnlyWhenAsked => err.retry_after().is_some(),
            _ => false,
        }
    }

    /// What the flaws that break on hostile answers do with the error `err`.
    async fn hostile(&self, err: &Error) {
        match self.flaw {
            Flaw::PanicsOnUnreadableAnswers if unreadable(err) => {
                panic!("called `Result::unwrap()` on an undecodable answer")
            }
            Flaw::UnwrapsMissingFields if fieldless(err) => {
                panic!("called `Option::unwrap()` on a `None` value")
            }
            Flaw::IgnoresStalls if stalled(err) => std::future::pending::<()>().await,
            _ => {}
        }
    }
}

impl std::fmt::Debug for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Broken");
        debug.field("flaw", &self.flaw);
        if self.flaw == Flaw::ShowsSecret {
            debug.field("api_key", &API_KEY);
        }
        debug.finish_non_exhaustive()
    }
}

#[async_trait]
impl PhoneVerifier for Broken {
    fn provider(&self) -> ProviderId {
        InMemoryVerifier::PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        if self.flaw == Flaw::PingsBeforeValidating {
            let probe = Verification::new(
                InMemoryVerifier::PROVIDER,
                format!("ver_{:032x}", 0),
                request.channel.clone(),
            );
            let _ = self
                .inner
                .check(&probe, &CheckRequest::code(Code::new("123456")?))
                .await;
        }
        if self.flaw == Flaw::LogsPhones
            && let Some(phone) = &request.phone
        {
            tracing::info!(phone = phone.e164(), "sending a code");
        }
        if self.flaw == Flaw::LogsSecret {
            tracing::trace!(api_key = API_KEY, "sending a code");
        }
        if self.flaw == Flaw::LogsBasicCredentials {
            use base64::Engine as _;
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("memory-account:{API_KEY}"));
            tracing::debug!(authorization = %format!("Basic {basic}"), "sending a code");
        }
        let mut by_sms = request.clone();
        if self.flaw == Flaw::SendsBySmsOnly
            && request.phone.is_some()
            && self.capabilities().is_otp(&request.channel)
        {
            by_sms.channel = phone_verify_core::Channel::Sms;
        }
        let result = self.inner.start(&by_sms).await;
        if let Err(err) = &result {
            self.hostile(err).await;
            if self.flaw == Flaw::DefaultsMissingFields && fieldless(err) {
                return Ok(Verification::new(
                    InMemoryVerifier::PROVIDER,
                    String::new(),
                    request.channel.clone(),
                ));
            }
        }
        if self.flaw == Flaw::LogsRefusals
            && let Err(err) = &result
            && err.kind() == ErrorKind::Unauthorized
        {
            // What a provider that echoes credentials answers.
            tracing::debug!(body = %format!("invalid key {API_KEY}"), "send refused");
        }
        match (self.flaw, result) {
            (Flaw::RetriesSends, Err(err))
                if matches!(
                    err.kind(),
                    ErrorKind::MaybeSent | ErrorKind::ProviderUnavailable
                ) =>
            {
                self.inner.start(request).await
            }
            (Flaw::LostSendNotMaybeSent, Err(err)) if err.kind() == ErrorKind::MaybeSent => {
                Err(Error::new(
                    ErrorKind::ProviderUnavailable,
                    "the provider is unavailable",
                ))
            }
            (Flaw::SendsBySmsOnly, Ok(mut handle)) => {
                handle.channel = request.channel.clone();
                Ok(handle)
            }
            (Flaw::CreatedAtHere, Ok(mut handle)) => {
                handle.created_at = phone_verify_core::time::OffsetDateTime::now_utc();
                Ok(handle)
            }
            (Flaw::DoublesExpiry, Ok(mut handle)) => {
                handle.expires_at = handle.expires_at.map(|at| at + (at - handle.created_at));
                Ok(handle)
            }
            (Flaw::StatefulHandles, Ok(handle)) => {
                self.started_here
                    .lock()
                    .unwrap()
                    .insert(handle.reference.clone());
                Ok(handle)
            }
            (Flaw::DropsProviderCode, result) => without_details(result),
            (Flaw::Plain503AsRefusal, Err(err)) if err.http_status() == Some(503) => {
                Err(Error::new(
                    ErrorKind::ProviderUnavailable,
                    "the provider is unavailable",
                ))
            }
            (Flaw::ServerErrorSendAsRefusal, Err(err))
                if err
                    .http_status()
                    .is_some_and(|s| (500..600).contains(&s) && s != 503) =>
            {
                Err(Error::new(
                    ErrorKind::ProviderUnavailable,
                    "the provider is unavailable",
                ))
            }
            // ---- sends twice, a handle that does not read back ----
            (Flaw::SendsTwice, Ok(handle)) if request.phone.is_some() => {
                let _ = self.inner.start(&by_sms).await;
                Ok(handle)
            }
            (Flaw::AnswerExtraTooDeep, Ok(handle)) => {
                let mut answer = serde_json::json!({ "reference": handle.reference });
                for _ in 0..DEEP_ANSWER_LEVELS {
                    answer = serde_json::json!({ "result": answer });
                }
                Ok(handle.with_extra(ANSWER_EXTRA, answer))
            }
            (_, result) => result,
        }
    }

    async fn check(&self, handle: &Verification, request: &CheckRequest) -> Result<CheckOutcome> {
        let mut handle = handle.clone();
        let mut request = request.clone();
        match self.flaw {
            Flaw::Panics => panic!("the verifier crashed"),
            Flaw::IgnoresProvider => handle.provider = InMemoryVerifier::PROVIDER,
            Flaw::AcceptsAnyCode if request.code.is_some() => {
                request.code = self
                    .inner
                    .state()
                    .message_for(&handle.reference)
                    .map(|m| m.code);
            }
            Flaw::StatefulHandles
                if !self
                    .started_here
                    .lock()
                    .unwrap()
                    .contains(&handle.reference) =>
            {
                return Ok(CheckOutcome::Rejected(Rejection::new(
                    RejectReason::NotFound,
                )));
            }
            _ => {}
        }
        if self.flaw == Flaw::ReusableCodes
            && let Some(first) = self.verified.lock().unwrap().get(&handle.reference)
        {
            return Ok(first.clone());
        }
        if self.flaw == Flaw::UsedCodeIsAnError
            && self
                .verified
                .lock()
                .unwrap()
                .contains_key(&handle.reference)
        {
            return Err(Error::new(
                ErrorKind::ProviderUnavailable,
                "the provider is unavailable",
            ));
        }
        if self.flaw == Flaw::HangsOnCodes && request.code.is_some() {
            std::future::pending::<()>().await;
        }
        if self.flaw == Flaw::LocksOneEarly && request.code.is_some() {
            let limit = self.inner.state().max_attempts();
            let wrong = self.wrong_codes.lock().unwrap();
            if wrong.get(&handle.reference).is_some_and(|n| n + 1 >= limit) {
                return Ok(CheckOutcome::Rejected(Rejection::new(
                    RejectReason::TooManyAttempts,
                )));
            }
        }
        if self.flaw == Flaw::LogsCodes
            && let Some(code) = &request.code
        {
            tracing::debug!(code = code.expose(), "checking");
        }
        if self.flaw == Flaw::ReachesTheIdWithin
            && !own_id(&handle.reference, "ver_")
            && let Some(within) = id_within(&handle.reference, "ver_")
        {
            let mut reached = handle.clone();
            reached.reference = within;
            return self.inner.check(&reached, &request).await;
        }
        // ---- pings before validating a check, a handle that does not read back ----
        if self.flaw == Flaw::PingsBeforeValidatingChecks
            && request.code.is_none()
            && handle.reverse.is_none()
        {
            // Polls the OTP verification as if it were a reverse flow: a request the
            // provider refuses, before the client's own refusal below.
            let mut poll = handle.clone();
            poll.reverse = Some(phone_verify_core::ReverseFlow::default());
            let _ = self.inner.check(&poll, &request).await;
        }
        if self.flaw == Flaw::AnswerExtraTooDeep && !handle.extras.contains_key(ANSWER_EXTRA) {
            // No answer kept: no verification it knows.
            return Ok(CheckOutcome::Rejected(Rejection::new(
                RejectReason::NotFound,
            )));
        }
        let mut outcome = if request.code.is_none() && self.retries_lookups_itself() {
            self.own_lookup(|| self.inner.check(&handle, &request))
                .await
        } else {
            self.inner.check(&handle, &request).await
        };
        if self.flaw == Flaw::RepeatsLostChecks
            && request.code.is_some()
            && matches!(&outcome, Err(err) if err.kind() == ErrorKind::OutcomeUnknown)
        {
            let _ = self.inner.check(&handle, &request).await;
        }
        if let Err(err) = &outcome {
            self.hostile(err).await;
            if self.flaw == Flaw::DefaultsMissingFields && fieldless(err) {
                outcome = Ok(match request.code {
                    Some(_) => CheckOutcome::Rejected(Rejection::new(RejectReason::WrongCode)),
                    None => CheckOutcome::Pending,
                });
            } else if self.flaw == Flaw::UnreadAnswerVerifies
                && request.code.is_some()
                && unreadable(err)
            {
                // A read whose answer it does not look at: a session no verification opened.
                let unknown = SessionId::new(&format!("ses_{}", "0".repeat(32)))?;
                let _ = self
                    .inner
                    .resolve(&unknown, &RequestContext::default())
                    .await;
                outcome = Ok(CheckOutcome::Verified(
                    Verified::new(handle.channel.clone())
                        .with_phone(handle.phone.clone())
                        .with_session_id(Some(unknown)),
                ));
            } else if unreadable(err) || stalled(err) {
                match (self.flaw, request.code.is_some()) {
                    (Flaw::UnreadableCheckRejected, true) => {
                        outcome = Ok(CheckOutcome::Rejected(Rejection::new(
                            RejectReason::WrongCode,
                        )));
                    }
                    (Flaw::UnreadableLookupMisread, false) => outcome = Ok(CheckOutcome::Pending),
                    _ => {}
                }
            }
        }
        if self.flaw == Flaw::ReadsBackEarlierSuccess
            && request.code.is_some()
            && matches!(&outcome, Err(err) if err.kind() == ErrorKind::OutcomeUnknown)
        {
            let unknown = SessionId::new(&format!("ses_{}", "0".repeat(32)))?;
            let _ = self
                .inner
                .resolve(&unknown, &RequestContext::default())
                .await;
            let earlier = self
                .verified
                .lock()
                .unwrap()
                .get(&handle.reference)
                .cloned();
            if let Some(earlier) = earlier {
                outcome = Ok(earlier);
            }
        }
        if self.flaw == Flaw::RereadsThenRepeats
            && request.code.is_some()
            && matches!(&outcome, Err(err) if err.kind() == ErrorKind::OutcomeUnknown)
        {
            // A read whose answer it does not look at: a session no verification opened.
            let unknown = SessionId::new(&format!("ses_{}", "0".repeat(32)))?;
            let _ = self
                .inner
                .resolve(&unknown, &RequestContext::default())
                .await;
            if let again @ Ok(CheckOutcome::Verified(_)) = self.inner.check(&handle, &request).await
            {
                outcome = again;
            }
        }
        if self.flaw == Flaw::RetriesLostChecks
            && matches!(&outcome, Err(err) if err.kind() == ErrorKind::OutcomeUnknown)
        {
            outcome = self.inner.check(&handle, &request).await;
        }
        if self.flaw == Flaw::LogsPhoneOnLostAnswer
            && request.code.is_some()
            && matches!(&outcome, Err(err) if err.kind() == ErrorKind::OutcomeUnknown)
            && let Some(phone) = &handle.phone
        {
            tracing::warn!(phone = %phone.e164(), "the check's outcome is unknown");
        }
        if let Ok(verified @ CheckOutcome::Verified(_)) = &outcome {
            self.verified
                .lock()
                .unwrap()
                .insert(handle.reference.clone(), verified.clone());
        }
        if let Ok(CheckOutcome::Rejected(r)) = &outcome
            && r.reason == RejectReason::WrongCode
        {
            *self
                .wrong_codes
                .lock()
                .unwrap()
                .entry(handle.reference.clone())
                .or_default() += 1;
        }
        // A reference no code was sent for: no verification has it.
        let unknown = self.inner.state().message_for(&handle.reference).is_none();
        match (self.flaw, outcome) {
            (Flaw::ExpiryAsError, Ok(CheckOutcome::Rejected(r)))
                if r.reason == RejectReason::Expired =>
            {
                Err(Error::new(ErrorKind::Expired, "the verification expired"))
            }
            (Flaw::DropsPhone, Ok(CheckOutcome::Verified(mut verified))) => {
                verified.phone = None;
                Ok(CheckOutcome::Verified(verified))
            }
            (Flaw::SendsBySmsOnly, Ok(CheckOutcome::Verified(mut verified))) => {
                verified.channel = handle.channel.clone();
                Ok(CheckOutcome::Verified(verified))
            }
            (Flaw::NeverPending, Ok(CheckOutcome::Pending)) => Ok(CheckOutcome::Rejected(
                Rejection::new(RejectReason::NotFound),
            )),
            (Flaw::HidesLockout, Ok(CheckOutcome::Rejected(r)))
                if r.reason == RejectReason::TooManyAttempts =>
            {
                Ok(CheckOutcome::Rejected(Rejection::new(
                    RejectReason::WrongCode,
                )))
            }
            (Flaw::DropsProviderCode, Ok(CheckOutcome::Rejected(r))) => {
                Ok(CheckOutcome::Rejected(Rejection::new(r.reason)))
            }
            (Flaw::DropsProviderCode, outcome) => without_details(outcome),
            (Flaw::RefusalAsProviderError, Ok(CheckOutcome::Rejected(r)))
                if r.provider_code.is_some() =>
            {
                Err(Error::new(
                    ErrorKind::Provider,
                    "the provider refused the check",
                ))
            }
            (Flaw::Plain503AsRefusal, Err(err)) if err.http_status() == Some(503) => {
                Err(Error::new(
                    ErrorKind::ProviderUnavailable,
                    "the provider is unavailable",
                ))
            }
            (Flaw::CheckServerErrorAsWrongCode, Err(err))
                if err.http_status() == Some(500) && request.code.is_some() =>
            {
                Ok(CheckOutcome::Rejected(Rejection::new(
                    RejectReason::WrongCode,
                )))
            }
            (Flaw::CodeInRejection, Ok(CheckOutcome::Rejected(r)))
                if r.reason == RejectReason::WrongCode =>
            {
                let code = request.code.as_ref().map(Code::expose).unwrap_or_default();
                Ok(CheckOutcome::Rejected(
                    Rejection::new(RejectReason::WrongCode)
                        .with_message(format!("code {code} does not match")),
                ))
            }
            (Flaw::UnknownReferenceAsError, Ok(CheckOutcome::Rejected(r)))
                if r.reason == RejectReason::NotFound && unknown && request.code.is_some() =>
            {
                Err(Error::new(ErrorKind::NotFound, "no such verification"))
            }
            (Flaw::ReverseNeverExpires, Ok(CheckOutcome::Rejected(r)))
                if r.reason == RejectReason::Expired && request.code.is_none() =>
            {
                Ok(CheckOutcome::Pending)
            }
            (_, outcome) => outcome,
        }
    }
}

#[async_trait]
impl SessionResolver for Broken {
    fn provider(&self) -> ProviderId {
        InMemoryVerifier::PROVIDER
    }

    async fn resolve(
        &self,
        session: &SessionId,
        context: &RequestContext,
    ) -> Result<ResolvedSession> {
        if self.flaw == Flaw::ReachesTheIdWithin
            && !own_id(session.as_str(), "ses_")
            && let Some(within) = id_within(session.as_str(), "ses_")
        {
            return self.inner.resolve(&SessionId::new(&within)?, context).await;
        }
        let result = if self.retries_lookups_itself() {
            self.own_lookup(|| self.inner.resolve(session, context))
                .await
        } else {
            self.inner.resolve(session, context).await
        };
        if let Err(err) = &result {
            self.hostile(err).await;
            let misread = match self.flaw {
                Flaw::UnreadableLookupMisread => unreadable(err) || stalled(err),
                Flaw::DefaultsMissingFields => fieldless(err),
                _ => false,
            };
            if misread {
                return Err(Error::new(ErrorKind::NotFound, "no such session"));
            }
        }
        match result {
            Err(err)
                if self.flaw == Flaw::ResolvesAnything && err.kind() == ErrorKind::NotFound =>
            {
                let phone: PhoneNumber = "+50760000001".parse()?;
                Ok(ResolvedSession::new(
                    phone,
                    phone_verify_core::Channel::Sms,
                    InMemoryVerifier::PROVIDER,
                ))
            }
            result if self.flaw == Flaw::DropsProviderCode => without_details(result),
            result => result,
        }
    }
}

/// Runs the suite against the in-memory provider with `flaw`.
async fn report_for(flaw: Flaw) -> Report {
    let state = InMemoryState::seeded(1);
    let verifier = Broken::new(state.clone(), flaw);
    let harness = InMemoryHarness::for_state(state)
        .with_fresh_verifier(move |state| Arc::new(Broken::new(state, flaw)))
        .with_secrets([API_KEY]);
    run(&verifier, Some(&verifier), &harness).await
}

/// Whether the run's harness named credentials: else `privacy.secrets_not_shown` is skipped.
fn names_secrets(report: &Report) -> bool {
    report
        .get("privacy.secrets_not_shown")
        .and_then(|r| r.detail.as_deref())
        .is_none_or(|d| !d.contains("the harness names no credentials"))
}

/// Asserts that exactly the checks matching one of `prefixes` failed, each detail containing
/// `why`, and that every other check passed.
fn assert_fails_only(report: &Report, prefixes: &[&str], why: &str) {
    assert_fails_only_and(report, prefixes, why, &[]);
}

/// [`assert_fails_only`], and the checks matching each prefix of `also` fail too, each
/// detail containing its own reason.
fn assert_fails_only_and(report: &Report, prefixes: &[&str], why: &str, also: &[(&str, &str)]) {
    assert_outcomes(report, prefixes, why, also, &[]);
}

/// [`assert_fails_only_and`], and the checks matching each prefix of `skipped` are skipped,
/// each detail containing its own reason (what the flaw keeps them from proving).
fn assert_outcomes(
    report: &Report,
    prefixes: &[&str],
    why: &str,
    also: &[(&str, &str)],
    skipped: &[(&str, &str)],
) {
    let skip = |name: &str| {
        skipped
            .iter()
            .find(|(p, _)| name.starts_with(p))
            .map(|(_, why)| *why)
    };
    let broken = |name: &str| {
        prefixes
            .iter()
            .find(|p| name.starts_with(**p))
            .map(|_| why)
            .or_else(|| {
                also.iter()
                    .find(|(p, _)| name.starts_with(p))
                    .map(|(_, why)| *why)
            })
    };
    for result in report.results() {
        let listed = skip(&result.name)
            .map(|why| (Status::Skipped, "be skipped", why))
            .or_else(|| broken(&result.name).map(|why| (Status::Failed, "fail", why)));
        if let Some((status, should, why)) = listed {
            assert_eq!(
                result.status, status,
                "{} should {should}\n{report}",
                result.name
            );
            let detail = result.detail.as_deref().unwrap_or_default();
            assert!(
                detail.contains(why),
                "{}: {detail:?} lacks {why:?}",
                result.name
            );
        } else if result.name == "privacy.secrets_not_shown" && !names_secrets(report) {
            // A harness without credentials: the check does not apply, and says so.
            assert_eq!(result.status, Status::Skipped, "{report}");
        } else if result.status == Status::Skipped {
            // Only for what the run's harness lacks.
            let detail = result.detail.as_deref().unwrap_or_default();
            assert!(
                detail.starts_with("unsupported by this harness:"),
                "{} should pass\n{report}",
                result.name
            );
        } else {
            assert_eq!(
                result.status,
                Status::Passed,
                "{} should pass\n{report}",
                result.name
            );
        }
    }
    for prefix in prefixes {
        assert!(
            report.results().iter().any(|r| r.name.starts_with(prefix)),
            "no check named {prefix}*\n{report}"
        );
    }
    let panic = std::panic::catch_unwind(|| report.assert_all_passed()).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains(&format!("FAIL {}", prefixes[0])),
        "{message}"
    );
}

#[tokio::test]
async fn accepting_any_code_fails_the_wrong_code_checks() {
    let report = report_for(Flaw::AcceptsAnyCode).await;
    assert_fails_only(
        &report,
        &[
            "otp.wrong_code_rejected[",
            "otp.right_code_after_wrong_code[",
            "otp.malformed_code_refused[",
            "otp.wrong_code_limit[",
            "otp.right_code_within_limit[",
        ],
        "got verified",
    );
}

#[tokio::test]
async fn repeating_a_check_whose_answer_was_lost_fails_the_lost_answer_check() {
    let report = report_for(Flaw::RetriesLostChecks).await;
    assert_fails_only_and(
        &report,
        &[
            "otp.lost_answer_not_rejected[",
            "otp.unreadable_answer_not_rejected[",
            "otp.stalled_answer_not_rejected[",
        ],
        "is never a rejection",
        // The check answered 503 was not taken (the in-memory provider refused it): asked
        // again, it verifies, after a second code-check request. A wrong code asked again is
        // rejected, after a second code-check request no read-back allowed.
        &[
            (
                "otp.server_error_not_rejected[",
                "the provider received 2 code-check requests, expected exactly 1",
            ),
            // So were the checks answered 500, 502 and 504.
            (
                "otp.server_error_50",
                "the provider received 2 code-check requests, expected exactly 1",
            ),
            (
                "otp.lost_answer_wrong_code_not_verified[",
                "was reported rejected (WrongCode) after 2 code-check request(s)",
            ),
            (
                "otp.unreadable_answer_wrong_code_not_verified[",
                "was reported rejected (WrongCode) after 2 code-check request(s)",
            ),
        ],
    );
}

#[tokio::test]
async fn hiding_a_lockout_fails_the_limit_check() {
    let report = report_for(Flaw::HidesLockout).await;
    assert_fails_only_and(
        &report,
        &["otp.wrong_code_limit["],
        "expected rejected (TooManyAttempts",
        // The provider's documented lockout, hidden the same way, its code lost with it.
        &[(
            "errors.documented_codes_typed",
            "code too_many_attempts (check, HTTP 429): expected rejected (TooManyAttempts), got \
             rejected (WrongCode), the provider code \"too_many_attempts\" was not kept",
        )],
    );
}

#[tokio::test]
async fn a_key_in_debug_fails_the_secrets_check() {
    let report = report_for(Flaw::ShowsSecret).await;
    assert_fails_only(
        &report,
        &["privacy.secrets_not_shown"],
        "the verifier's Debug shows the harness's secret #1",
    );
    let detail = report
        .get("privacy.secrets_not_shown")
        .unwrap()
        .detail
        .clone();
    assert!(
        !detail.unwrap_or_default().contains(API_KEY),
        "the report shows the secret"
    );
}

#[tokio::test]
async fn logging_a_phone_fails_the_log_check() {
    let report = report_for(Flaw::LogsPhones).await;
    assert_fails_only(
        &report,
        &["privacy.phones_and_codes_not_logged"],
        "the log shows the phone",
    );
}

#[tokio::test]
async fn logging_a_secret_fails_the_log_check() {
    let report = report_for(Flaw::LogsSecret).await;
    assert_fails_only(
        &report,
        &["privacy.phones_and_codes_not_logged"],
        "the log shows the harness's secret #1",
    );
    let detail = report
        .get("privacy.phones_and_codes_not_logged")
        .and_then(|r| r.detail.clone())
        .unwrap_or_default();
    assert!(!detail.contains(API_KEY), "the report shows the secret");
}

#[tokio::test]
async fn logging_a_code_fails_the_log_check() {
    let report = report_for(Flaw::LogsCodes).await;
    assert_fails_only(
        &report,
        &["privacy.phones_and_codes_not_logged"],
        "the log shows a code",
    );
}

#[tokio::test]
async fn not_retrying_lookups_fails_the_lookup_fault_checks() {
    let report = report_for(Flaw::NoLookupRetry).await;
    assert_fails_only_and(
        &report,
        &[
            "reverse.poll_retried_after_503[",
            "reverse.poll_retried_after_429[",
            "session.resolve_retried_after_503",
            "session.resolve_retried_after_429",
        ],
        "must be retried once that time has passed",
        &[
            (
                "reverse.poll_retried_after_plain_503[",
                "a poll with 503 without Retry-After, unprocessed: a poll changes nothing, so \
                 it must be retried after a backoff",
            ),
            (
                "reverse.poll_retried_after_reset[",
                "a poll with a connection reset before any answer",
            ),
            (
                "session.resolve_retried_after_plain_503",
                "must be retried after a backoff",
            ),
            (
                "session.resolve_retried_after_reset",
                "a session's resolution with a connection reset before any answer",
            ),
        ],
    );
}

#[tokio::test]
async fn retrying_lookups_before_retry_after_fails_the_lookup_fault_checks() {
    let report = report_for(Flaw::IgnoresRetryAfter).await;
    // Only the answers that say when to come back: the others leave the wait to the client.
    assert_fails_only(
        &report,
        &[
            "reverse.poll_retried_after_503[",
            "reverse.poll_retried_after_429[",
            "session.resolve_retried_after_503",
            "session.resolve_retried_after_429",
        ],
        "the retry did not wait the time the provider asked for",
    );
    let detail = report
        .get("reverse.poll_retried_after_429[whatsapp]")
        .and_then(|r| r.detail.clone())
        .unwrap_or_default();
    assert!(
        detail.contains("after a 429 with Retry-After: 1"),
        "{detail}"
    );
}

#[tokio::test]
async fn retrying_only_a_503_fails_the_429_and_reset_lookup_checks() {
    let report = report_for(Flaw::LookupRetriesOnly503).await;
    assert_fails_only_and(
        &report,
        &[
            "reverse.poll_retried_after_429[",
            "session.resolve_retried_after_429",
        ],
        "with 429 with Retry-After: 1, unprocessed",
        &[
            (
                "reverse.poll_retried_after_reset[",
                "a connection reset before any answer, unprocessed",
            ),
            (
                "session.resolve_retried_after_reset",
                "a connection reset before any answer, unprocessed",
            ),
        ],
    );
}

#[tokio::test]
async fn retrying_only_when_asked_fails_the_plain_503_and_reset_lookup_checks() {
    let report = report_for(Flaw::LookupRetriesOnlyWhenAsked).await;
    assert_fails_only_and(
        &report,
        &[
            "reverse.poll_retried_after_plain_503[",
            "session.resolve_retried_after_plain_503",
        ],
        "503 without Retry-After, unprocessed",
        &[
            (
                "reverse.poll_retried_after_reset[",
                "must be retried after a backoff; got error (",
            ),
            (
                "session.resolve_retried_after_reset",
                "must be retried after a backoff; got an error (",
            ),
        ],
    );
}

#[tokio::test]
async fn sending_a_check_again_after_its_answer_was_lost_fails_the_lost_answer_check() {
    let report = report_for(Flaw::RepeatsLostChecks).await;
    // Whatever left the check's outcome unknown: a lost answer, an unreadable or stalled one,
    // or a server error (a 503, 500, 502 or 504).
    assert_fails_only(
        &report,
        &[
            "otp.lost_answer_",
            "otp.unreadable_answer_",
            "otp.stalled_answer_not_rejected[",
            "otp.server_error_not_rejected[",
            "otp.server_error_50",
        ],
        "the provider received 2 code-check requests, expected exactly 1",
    );
}

#[tokio::test]
async fn a_503_taken_for_a_refusal_fails_the_server_error_checks() {
    let report = report_for(Flaw::Plain503AsRefusal).await;
    // A 503 with Retry-After is a refusal: that check passes.
    assert_fails_only_and(
        &report,
        &["send.maybe_sent_after_plain_503["],
        "expected a MaybeSent error (a 503 without Retry-After may come from a proxy that \
         forwarded the send",
        &[(
            "otp.server_error_not_rejected[",
            "expected an OutcomeUnknown error (the code may be used up, and the check must not \
             be sent again), got error (provider unavailable",
        )],
    );
}

#[tokio::test]
async fn a_code_in_a_rejection_fails_the_codes_check() {
    let report = report_for(Flaw::CodeInRejection).await;
    assert_fails_only(
        &report,
        &["privacy.codes_not_shown"],
        "a wrong code's outcome shows a code (6 characters) that was sent or checked",
    );
}

#[tokio::test]
async fn an_unknown_reference_as_an_error_fails_the_unknown_reference_check() {
    let report = report_for(Flaw::UnknownReferenceAsError).await;
    assert_fails_only(
        &report,
        &["otp.unknown_reference_rejected["],
        "expected Ok(Rejected(NotFound)) (contract rule 3: no such pending verification is an \
         outcome, not an error), got the error",
    );
}

#[tokio::test]
async fn locking_one_wrong_code_early_fails_the_within_limit_check() {
    let report = report_for(Flaw::LocksOneEarly).await;
    // The limit check alone cannot tell: its last wrong code may be TooManyAttempts.
    assert_fails_only(
        &report,
        &["otp.right_code_within_limit["],
        "the right code after 4 wrong ones, within the provider's limit of 5: expected \
         verified, got rejected (TooManyAttempts)",
    );
}

#[tokio::test]
async fn a_reverse_flow_that_never_expires_fails_the_reverse_expiry_check() {
    let report = report_for(Flaw::ReverseNeverExpires).await;
    assert_fails_only(
        &report,
        &["reverse.expired_is_rejected["],
        "a poll of the flow the user never completed after moving the clock 660s, past \
         expires_at: expected rejected (Expired), got pending",
    );
}

#[tokio::test]
async fn retrying_sends_fails_the_fault_checks() {
    let report = report_for(Flaw::RetriesSends).await;
    assert_fails_only(
        &report,
        &[
            "send.not_retried_after_",
            "send.maybe_sent_after_plain_503[",
            // The 500, 502 and 504.
            "send.maybe_sent_after_50",
            "send.unreadable_answer_maybe_sent[",
            "send.stalled_answer_maybe_sent[",
        ],
        "received 2 send requests",
    );
}

#[tokio::test]
async fn a_lost_send_reported_as_not_sent_fails_the_reset_check() {
    let report = report_for(Flaw::LostSendNotMaybeSent).await;
    assert_fails_only(
        &report,
        &[
            "send.not_retried_after_reset[",
            "send.maybe_sent_after_plain_503[",
            // The 500, 502 and 504.
            "send.maybe_sent_after_50",
            "send.unreadable_answer_maybe_sent[",
            "send.stalled_answer_maybe_sent[",
        ],
        "expected a MaybeSent error",
    );
}

#[tokio::test]
async fn verifying_a_used_code_again_fails_the_single_use_check() {
    let report = report_for(Flaw::ReusableCodes).await;
    // A used handle checked again verifies, its answer lost or not.
    assert_fails_only_and(
        &report,
        &["otp.code_single_use["],
        "the same right code a second time",
        &[(
            "otp.used_code_lost_answer_not_verified[",
            "with a wrong code, its answer lost, was reported verified",
        )],
    );
}

#[tokio::test]
async fn a_used_code_answered_with_an_error_fails_the_single_use_check() {
    let report = report_for(Flaw::UsedCodeIsAnError).await;
    // A used code's check never reaches the provider: nothing to prove of its lost answer.
    assert_outcomes(
        &report,
        &["otp.code_single_use["],
        "expected it rejected (used up; a used-up code is an outcome, Ok(Rejected(..)), not an \
         error: contract rule 3), got error (",
        &[],
        &[(
            "otp.used_code_lost_answer_not_verified[",
            "the check never reached the provider, so nothing was proven",
        )],
    );
}

#[tokio::test]
async fn a_verifier_that_hangs_fails_its_checks_at_the_deadline() {
    let state = InMemoryState::seeded(1);
    let verifier = Broken::new(state.clone(), Flaw::HangsOnCodes);
    let harness = InMemoryHarness::for_state(state)
        .with_fresh_verifier(|state| Arc::new(Broken::new(state, Flaw::HangsOnCodes)));
    let deadline = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let report = run_with_timeout(&verifier, Some(&verifier), &harness, deadline).await;
    let result = report.get("otp.right_code_verifies[sms]").unwrap();
    assert_eq!(result.status, Status::Failed, "{report}");
    let detail = result.detail.as_deref().unwrap();
    assert!(
        detail.starts_with("timed out: the check did not finish within 300ms"),
        "{detail}"
    );
    // The lost answer's fault, injected before the check hung, was cleared: clearing reports
    // that no check used it.
    let lost = report.get("otp.lost_answer_not_rejected[sms]").unwrap();
    assert_eq!(lost.status, Status::Failed, "{report}");
    assert!(
        lost.detail
            .as_deref()
            .unwrap()
            .contains("; then clearing the harness's faults after the check: harness failure"),
        "{report}"
    );
    // Checks that check no code still pass, and the run ends.
    assert_eq!(
        report.status("send.exactly_once[sms]"),
        Some(Status::Passed)
    );
    assert_eq!(
        report.status("reverse.pending_then_verified[whatsapp]"),
        Some(Status::Passed)
    );
    assert!(started.elapsed() < Duration::from_secs(60), "{report}");
}

#[tokio::test]
async fn expiry_as_an_error_fails_the_expiry_check() {
    let report = report_for(Flaw::ExpiryAsError).await;
    assert_fails_only_and(
        &report,
        &["otp.expired_is_rejected[", "reverse.expired_is_rejected["],
        "contract rule 3",
        // The provider's documented expiry, turned into an error the same way.
        &[(
            "errors.documented_codes_typed",
            "code verification_expired (check, HTTP 410): expected rejected (Expired), got the \
             error",
        )],
    );
}

#[tokio::test]
async fn requests_before_validation_fail_the_input_checks() {
    let report = report_for(Flaw::PingsBeforeValidating).await;
    assert_fails_only(
        &report,
        &[
            "input.unsupported_channel_refused[",
            "input.otp_without_phone_refused[",
            "input.qr_code_refused[",
            "input.qr_code_with_phone_refused[",
        ],
        "only after 1 request(s)",
    );
}

#[tokio::test]
async fn ignoring_the_provider_fails_the_foreign_handle_check() {
    let report = report_for(Flaw::IgnoresProvider).await;
    assert_fails_only(
        &report,
        &["input.foreign_handle_refused"],
        "accepted instead of refused",
    );
}

#[tokio::test]
async fn in_process_state_fails_the_fresh_client_checks() {
    let report = report_for(Flaw::StatefulHandles).await;
    assert_fails_only(
        &report,
        &[
            "otp.handle_in_fresh_client[",
            "reverse.handle_in_fresh_client[",
        ],
        "rejected (NotFound)",
    );
}

#[tokio::test]
async fn dropping_the_phone_fails_every_verification() {
    let report = report_for(Flaw::DropsPhone).await;
    assert_fails_only(
        &report,
        &[
            "otp.right_code",
            "otp.code_single_use[",
            "otp.used_code_lost_answer_not_verified[",
            "otp.malformed_code_refused[",
            "otp.handle_",
            "otp.valid_until_expires_at[",
            "reverse.pending_then_verified[",
            "reverse.handle_",
            "reverse.poll_retried_after_",
            // Every check that verifies a session first: the resolved phone, the retried
            // resolution, and the resolutions answered with hostile bodies.
            "session.resolve",
            "session.unreadable_resolution",
            "session.stalled_resolution",
            // And the documented error answering a resolution, which verifies one first.
            "errors.documented_codes_typed",
        ],
        "verified without a phone",
    );
}

#[tokio::test]
async fn a_panicking_verifier_fails_checks_not_the_run() {
    let report = report_for(Flaw::Panics).await;
    let result = report.get("otp.right_code_verifies[sms]").unwrap();
    assert_eq!(result.status, Status::Failed);
    assert_eq!(
        result.detail.as_deref(),
        Some("panicked: the verifier crashed")
    );
    // Start-only checks do not call `check` and still pass.
    assert_eq!(
        report.status("send.exactly_once[sms]"),
        Some(Status::Passed)
    );
}

#[tokio::test]
async fn a_reverse_flow_that_is_never_pending_fails() {
    let report = report_for(Flaw::NeverPending).await;
    // `reverse.poll_retried_after_503` polls only once the flow is complete, and passes.
    assert_fails_only(
        &report,
        &["reverse.pending_then_verified[", "reverse.handle_"],
        "expected pending, got rejected (NotFound)",
    );
}

#[tokio::test]
async fn resolving_unknown_sessions_fails() {
    let report = report_for(Flaw::ResolvesAnything).await;
    assert_fails_only_and(
        &report,
        &["session.unknown_is_not_found"],
        "an unknown session resolved",
        // The provider's documented "no such session" is resolved too.
        &[(
            "errors.documented_codes_typed",
            "code session_not_found (lookup, HTTP 404): expected a NotFound error, but the \
             operation resolved to +50760000001",
        )],
    );
}

#[tokio::test]
async fn dropping_the_provider_code_fails_the_documented_errors_check() {
    let report = report_for(Flaw::DropsProviderCode).await;
    // Every documented error loses its code and request id (and a rejection its message);
    // no other check looks at them.
    assert_fails_only(
        &report,
        &["errors.documented_codes_typed"],
        "9 of 9 documented errors not typed as documented",
    );
    let detail = report
        .get("errors.documented_codes_typed")
        .and_then(|r| r.detail.clone())
        .unwrap_or_default();
    for lost in [
        "code number_blocked (send, HTTP 403): the provider code \"number_blocked\" was not kept \
         (got None), the request id \"req_0003\" was not kept (got None)",
        "code verification_expired (check, HTTP 410): the provider code \"verification_expired\" \
         was not kept (got None), the provider's message \"The verification has expired.\" was \
         lost (got []), the request id \"req_0006\" was not kept (got None)",
        "code session_not_found (lookup, HTTP 404): the provider code",
    ] {
        assert!(detail.contains(lost), "{detail:?} lacks {lost:?}");
    }
}

#[tokio::test]
async fn a_documented_refusal_as_a_provider_error_fails_the_documented_errors_check() {
    let report = report_for(Flaw::RefusalAsProviderError).await;
    assert_fails_only(
        &report,
        &["errors.documented_codes_typed"],
        "3 of 9 documented errors not typed as documented: code verification_not_found \
         (check, HTTP 404): expected rejected (NotFound), got the error provider error: the \
         provider refused the check",
    );
}

/// The in-memory harness whose documented errors are `errors`, with the headers of each
/// refused as the sandbox's harness refuses them.
struct NoHeaders {
    inner: InMemoryHarness,
    errors: Vec<DocumentedError>,
}

#[async_trait]
impl Harness for NoHeaders {
    async fn fresh_phone(&self) -> HarnessResult<PhoneNumber> {
        self.inner.fresh_phone().await
    }

    async fn delivered_code(&self, verification: &Verification) -> HarnessResult<Option<Code>> {
        self.inner.delivered_code(verification).await
    }

    fn documented_errors(&self) -> Vec<DocumentedError> {
        self.errors.clone()
    }

    async fn inject_documented_error(
        &self,
        to: AnswerTo<'_>,
        error: &DocumentedError,
    ) -> HarnessResult<()> {
        if !error.headers.is_empty() {
            return Err(HarnessError::unsupported("an answer with headers"));
        }
        self.inner.inject_documented_error(to, error).await
    }

    async fn clear_faults(&self) -> HarnessResult<()> {
        self.inner.clear_faults().await
    }
}

#[tokio::test]
async fn documented_errors_the_harness_cannot_inject_are_named_or_skip_the_check() {
    let verifier = InMemoryVerifier::with_seed(21);
    let body = r#"{"error":{"code":"number_blocked","message":"The phone number is blocked."}}"#;
    let blocked = DocumentedError::error(
        Answering::Send,
        403,
        body,
        ErrorKind::Blocked,
        "number_blocked",
    )
    .with_message("The phone number is blocked.");
    let with_id = blocked
        .clone()
        .with_header(phone_verify_testkit::memory::REQUEST_ID_HEADER, "req_1")
        .with_request_id("req_1");
    let verifier = &verifier;
    let run_with = |errors: Vec<DocumentedError>| {
        let harness = NoHeaders {
            inner: InMemoryHarness::new(verifier),
            errors,
        };
        async move {
            let report = run(verifier, Some(verifier), &harness).await;
            let result = report.get("errors.documented_codes_typed").unwrap().clone();
            (result.status, result.detail.unwrap_or_default())
        }
    };
    // One injected and typed, the other named: a pass with a note.
    let (status, detail) = run_with(vec![blocked.clone(), with_id.clone()]).await;
    assert_eq!(status, Status::Passed, "{detail}");
    assert!(
        detail.contains(
            "1 documented errors typed; not run: code number_blocked (send, HTTP \
             403): unsupported by this harness: an answer with headers"
        ),
        "{detail}"
    );
    // None injected: skipped, naming why.
    let (status, detail) = run_with(vec![with_id]).await;
    assert_eq!(status, Status::Skipped, "{detail}");
    assert!(detail.contains("an answer with headers"), "{detail}");
    // None listed: skipped, saying so.
    let (status, detail) = run_with(Vec::new()).await;
    assert_eq!(status, Status::Skipped, "{detail}");
    assert!(
        detail.contains("the harness lists no documented provider errors"),
        "{detail}"
    );
    // A wrong expectation is a failure naming the code, whatever else passed.
    let wrong = DocumentedError::error(Answering::Send, 403, body, ErrorKind::Provider, "nope");
    let (status, detail) = run_with(vec![blocked, wrong]).await;
    assert_eq!(status, Status::Failed, "{detail}");
    assert!(
        detail.contains(
            "1 of 2 documented errors not typed as documented: code nope (send, \
             HTTP 403): expected a Provider error, got Blocked"
        ),
        "{detail}"
    );
    assert!(
        detail.contains("the provider code \"nope\" was not kept"),
        "{detail}"
    );
}

/// The in-memory harness as a harness written before the lookup faults other than the 503
/// were added: it injects that one and answers the others `Unsupported`, and does not tell
/// code checks apart in its request counts.
struct Only503Lookups(InMemoryHarness);

#[async_trait]
impl Harness for Only503Lookups {
    async fn fresh_phone(&self) -> HarnessResult<PhoneNumber> {
        self.0.fresh_phone().await
    }

    async fn delivered_code(&self, verification: &Verification) -> HarnessResult<Option<Code>> {
        self.0.delivered_code(verification).await
    }

    async fn complete_reverse_flow(
        &self,
        verification: &Verification,
        phone: &PhoneNumber,
    ) -> HarnessResult<()> {
        self.0.complete_reverse_flow(verification, phone).await
    }

    async fn request_counts(&self) -> HarnessResult<RequestCounts> {
        let counts = self.0.request_counts().await?;
        Ok(RequestCounts::new(counts.sends, counts.total))
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
        match fault {
            LookupFault::ServiceUnavailable => {
                self.0.inject_lookup_fault(verification, fault).await
            }
            _ => Err(HarnessError::unsupported("this lookup fault")),
        }
    }

    async fn clear_faults(&self) -> HarnessResult<()> {
        self.0.clear_faults().await
    }
}

#[tokio::test]
async fn lookup_faults_a_harness_cannot_inject_are_skipped_with_the_reason() {
    let verifier = InMemoryVerifier::with_seed(3);
    let harness = Only503Lookups(InMemoryHarness::new(&verifier));
    let report = run(&verifier, Some(&verifier), &harness).await;
    report.assert_all_passed();
    assert_eq!(
        report.status("reverse.poll_retried_after_503[whatsapp]"),
        Some(Status::Passed)
    );
    assert_eq!(
        report.status("session.resolve_retried_after_503"),
        Some(Status::Passed)
    );
    for name in [
        "reverse.poll_retried_after_429[whatsapp]",
        "reverse.poll_retried_after_plain_503[whatsapp]",
        "reverse.poll_retried_after_reset[whatsapp]",
        "session.resolve_retried_after_429",
        "session.resolve_retried_after_plain_503",
        "session.resolve_retried_after_reset",
    ] {
        let result = report.get(name).unwrap();
        assert_eq!(result.status, Status::Skipped, "{name}\n{report}");
        assert_eq!(
            result.detail.as_deref(),
            Some("unsupported by this harness: this lookup fault"),
            "{name}"
        );
    }
    // Without code checks told apart, a lost answer's check is skipped once its outcome
    // passed: one code check is not proven.
    assert_eq!(
        report.status("otp.lost_answer_not_rejected[sms]"),
        Some(Status::Skipped)
    );
}

#[tokio::test]
async fn without_code_checks_counted_a_lost_check_is_not_proven_sent_once() {
    // What `RequestCounts::checks` adds: the same flaw is skipped as unproven when checks are
    // not told apart, and fails when they are.
    let state = InMemoryState::seeded(1);
    let verifier = Broken::new(state.clone(), Flaw::RepeatsLostChecks);
    let harness = Only503Lookups(InMemoryHarness::for_state(state));
    let report = run(&verifier, Some(&verifier), &harness).await;
    let result = report.get("otp.lost_answer_not_rejected[sms]").unwrap();
    assert_eq!(result.status, Status::Skipped, "{report}");
    assert_eq!(
        result.detail.as_deref(),
        Some(
            "the harness cannot count code checks: an OutcomeUnknown error as expected, but \
             not proven checked exactly once"
        )
    );
    let counted = report_for(Flaw::RepeatsLostChecks).await;
    assert_eq!(
        counted.status("otp.lost_answer_not_rejected[sms]"),
        Some(Status::Failed),
        "{counted}"
    );
}

/// A harness with only the two required methods.
struct MinimalHarness(InMemoryHarness);

#[async_trait]
impl Harness for MinimalHarness {
    async fn fresh_phone(&self) -> HarnessResult<PhoneNumber> {
        self.0.fresh_phone().await
    }

    async fn delivered_code(&self, verification: &Verification) -> HarnessResult<Option<Code>> {
        self.0.delivered_code(verification).await
    }

    fn delivers_codes(&self, channel: &phone_verify_core::Channel) -> bool {
        *channel != phone_verify_core::Channel::Voice
    }
}

#[tokio::test]
async fn missing_harness_support_skips_instead_of_failing() {
    let verifier = InMemoryVerifier::with_seed(3);
    let harness = MinimalHarness(InMemoryHarness::new(&verifier));
    let report = run(&verifier, None, &harness).await;
    report.assert_all_passed();
    let skipped = |name: &str| report.status(name) == Some(Status::Skipped);
    for name in [
        "otp.right_code_verifies[voice]",
        "otp.expired_is_rejected[sms]",
        "otp.handle_in_fresh_client[sms]",
        "reverse.pending_then_verified[whatsapp]",
        "send.exactly_once[sms]",
        "send.not_retried_after_503[sms]",
        "reverse.poll_retried_after_503[whatsapp]",
        "reverse.poll_retried_after_429[whatsapp]",
        "reverse.poll_retried_after_reset[whatsapp]",
        "session.resolves_verified_phone",
        "session.unknown_is_not_found",
        "session.resolve_retried_after_503",
        "session.resolve_retried_after_plain_503",
    ] {
        assert!(skipped(name), "{name} should be skipped\n{report}");
    }
    let skip = report.get("otp.expired_is_rejected[sms]").unwrap();
    assert_eq!(
        skip.detail.as_deref(),
        Some("unsupported by this harness: advancing time")
    );
    // Refusals are not proven request-free without request counts: skipped, saying so.
    for name in [
        "input.unsupported_channel_refused[telegram]",
        "input.otp_check_without_code_refused[sms]",
        "otp.malformed_code_refused[sms]",
    ] {
        let input = report.get(name).unwrap();
        assert_eq!(input.status, Status::Skipped, "{name}\n{report}");
        assert_eq!(
            input.detail.as_deref(),
            Some(
                "the harness cannot count requests: refused as expected, but not proven \
                 request-free"
            ),
            "{name}"
        );
    }
    assert_eq!(
        report.status("otp.right_code_verifies[sms]"),
        Some(Status::Passed)
    );
}

#[tokio::test]
async fn without_request_counts_the_send_fault_checks_skip_or_fail_on_the_error_kind() {
    let state = InMemoryState::seeded(15);
    let verifier = InMemoryVerifier::with_state(state.clone());
    let mut blind = Probe::new(InMemoryHarness::for_state(state));
    blind.counts = false;
    let report = run(&verifier, Some(&verifier), &blind).await;
    report.assert_all_passed();
    for name in [
        "send.not_retried_after_503[sms]",
        "send.maybe_sent_after_plain_503[sms]",
        "send.not_retried_after_reset[sms]",
    ] {
        let result = report.get(name).unwrap();
        assert_eq!(result.status, Status::Skipped, "{name}\n{report}");
        assert_eq!(
            result.detail.as_deref(),
            Some(
                "the harness cannot count requests: the send failed as expected, but not \
                 proven sent exactly once"
            ),
            "{name}"
        );
    }

    // The error kind alone still fails a verifier that reports a lost send as not sent.
    let state = InMemoryState::seeded(16);
    let verifier = Broken::new(state.clone(), Flaw::LostSendNotMaybeSent);
    let mut blind = Probe::new(InMemoryHarness::for_state(state));
    blind.counts = false;
    let report = run(&verifier, Some(&verifier), &blind).await;
    for name in [
        "send.maybe_sent_after_plain_503[sms]",
        "send.not_retried_after_reset[sms]",
    ] {
        assert_eq!(
            report.status(name),
            Some(Status::Failed),
            "{name}\n{report}"
        );
    }
    // The 503 with Retry-After, which it reports rightly, stays unproven: skipped.
    assert_eq!(
        report.status("send.not_retried_after_503[sms]"),
        Some(Status::Skipped),
        "{report}"
    );
}

#[test]
fn run_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let verifier = InMemoryVerifier::new();
    let harness = InMemoryHarness::new(&verifier);
    let future = run(&verifier, Some(&verifier), &harness);
    assert_send(&future);
}

/// The in-memory provider behind another id, as a router is: it reports `mixer`, its handles
/// name `handles` and its resolved sessions `sessions`.
#[derive(Debug)]
struct Relabelled {
    inner: InMemoryVerifier,
    handles: ProviderId,
    sessions: ProviderId,
}

impl Relabelled {
    const ID: ProviderId = ProviderId::new_static("mixer");

    fn new(state: InMemoryState, handles: &'static str, sessions: &'static str) -> Self {
        Self {
            inner: InMemoryVerifier::with_state(state),
            handles: ProviderId::new_static(handles),
            sessions: ProviderId::new_static(sessions),
        }
    }
}

#[async_trait]
impl PhoneVerifier for Relabelled {
    fn provider(&self) -> ProviderId {
        Self::ID
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        let mut handle = self.inner.start(request).await?;
        handle.provider = self.handles.clone();
        Ok(handle)
    }

    async fn check(&self, handle: &Verification, request: &CheckRequest) -> Result<CheckOutcome> {
        handle.ensure_provider(&self.handles)?;
        let mut handle = handle.clone();
        handle.provider = InMemoryVerifier::PROVIDER;
        self.inner.check(&handle, request).await
    }
}

#[async_trait]
impl SessionResolver for Relabelled {
    fn provider(&self) -> ProviderId {
        Self::ID
    }

    async fn resolve(
        &self,
        session: &SessionId,
        context: &RequestContext,
    ) -> Result<ResolvedSession> {
        let mut found = self.inner.resolve(session, context).await?;
        found.provider = self.sessions.clone();
        Ok(found)
    }
}

/// The suite over a `Relabelled` verifier whose handles name `handles` and sessions
/// `sessions`, with a `MultiHarness` whose only member is for `memory` handles.
async fn relabelled_report(handles: &'static str, sessions: &'static str) -> Report {
    let state = InMemoryState::seeded(5);
    let verifier = Relabelled::new(state.clone(), handles, sessions);
    let fresh_state = state.clone();
    let harness = MultiHarness::new()
        .member(
            InMemoryVerifier::PROVIDER,
            InMemoryHarness::for_state(state),
        )
        .with_fresh_verifier(move || {
            Arc::new(Relabelled::new(fresh_state.clone(), handles, sessions))
        })
        // The in-memory provider's stalls end at once: the verifier under test meets them.
        .with_impatient_client(|| ImpatientClient::under_test(Duration::ZERO))
        // Injected at the member, through the multi-harness.
        .with_documented_errors(phone_verify_testkit::memory::documented_errors());
    run(&verifier, Some(&verifier), &harness).await
}

#[tokio::test]
async fn handles_of_the_providers_the_harness_names_pass() {
    let report = relabelled_report("memory", "memory").await;
    report.assert_all_passed();
    // Only the check of credentials, which the harness names none of.
    let skipped: Vec<&str> = report.skipped().map(|r| r.name.as_str()).collect();
    assert_eq!(skipped, ["privacy.secrets_not_shown"], "{report}");
    assert_eq!(report.provider().as_str(), "mixer");
}

#[tokio::test]
async fn a_handle_of_a_provider_the_harness_does_not_name_fails() {
    let report = relabelled_report("rogue", "memory").await;
    assert!(!report.is_success(), "{report}");
    for name in [
        "otp.right_code_verifies[sms]",
        "otp.wrong_code_rejected[sms]",
        "reverse.pending_then_verified[whatsapp]",
        "send.exactly_once[sms]",
        "input.otp_check_without_code_refused[sms]",
    ] {
        let result = report.get(name).unwrap();
        assert_eq!(result.status, Status::Failed, "{name}\n{report}");
        assert!(
            result
                .detail
                .as_deref()
                .unwrap()
                .contains("the handle names provider rogue, but the verifier is mixer and its handles may name only memory"),
            "{name}: {:?}",
            result.detail
        );
    }
    // Refusals that start nothing still pass.
    assert_eq!(
        report.status("input.unsupported_channel_refused[telegram]"),
        Some(Status::Passed)
    );
}

#[tokio::test]
async fn a_session_of_a_provider_the_harness_does_not_name_fails() {
    let report = relabelled_report("memory", "rogue").await;
    assert_fails_only(
        &report,
        &["session.resolve"],
        "the session resolved with provider rogue, expected one of memory",
    );
}

#[tokio::test]
async fn without_handle_providers_only_the_verifiers_own_id_passes() {
    // The in-memory harness names no providers: a handle must name the verifier's own id,
    // `mixer`, and the relabelled handles name `memory`.
    let state = InMemoryState::seeded(6);
    let verifier = Relabelled::new(state.clone(), "memory", "memory");
    let harness = InMemoryHarness::for_state(state);
    assert!(harness.handle_providers().is_none());
    let report = run(&verifier, Some(&verifier), &harness).await;
    let detail = report
        .get("otp.right_code_verifies[sms]")
        .and_then(|r| r.detail.clone())
        .unwrap_or_default();
    assert!(
        detail.contains("the handle names provider memory, but the verifier is mixer"),
        "{report}"
    );
    assert_eq!(
        report.status("otp.right_code_verifies[sms]"),
        Some(Status::Failed)
    );
}

/// The in-memory harness with what a harness of one's own may get wrong, and a watch on the
/// faults it injects.
struct Probe {
    inner: InMemoryHarness,
    /// Accepts check faults without injecting them, as a harness that points its fault at
    /// an endpoint the verifier does not call.
    misdirects_check_faults: bool,
    /// Counts requests (else `Unsupported`).
    counts: bool,
    /// Tells code checks apart in its counts (else `RequestCounts::checks` is `None`).
    counts_checks: bool,
    /// Names the provider's limit of wrong codes (else `None`).
    names_limit: bool,
    /// Says that a repeated code check is harmless (`Harness::repeat_check_harmless`).
    repeats_harmless: bool,
    /// The fresh verifier it hands out, instead of a new one.
    fresh: Option<Arc<dyn PhoneVerifier>>,
    /// Refuses the next send as unauthorized for `SendFault::CredentialsEchoed` (the in-memory
    /// provider has no credentials to echo: the verifier under test adds them).
    echoes: Option<InMemoryState>,
    /// Set while a fault is injected and not cleared.
    armed: std::sync::atomic::AtomicBool,
    /// Set when a phone was handed out (a check began) while a fault was still armed.
    leaked: std::sync::atomic::AtomicBool,
}

impl Probe {
    fn new(inner: InMemoryHarness) -> Self {
        Self {
            inner,
            misdirects_check_faults: false,
            counts: true,
            counts_checks: true,
            names_limit: true,
            repeats_harmless: false,
            fresh: None,
            echoes: None,
            armed: false.into(),
            leaked: false.into(),
        }
    }

    fn arm(&self) {
        self.armed.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn leaked(&self) -> bool {
        self.leaked.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait]
impl Harness for Probe {
    async fn fresh_phone(&self) -> HarnessResult<PhoneNumber> {
        if self.armed.load(std::sync::atomic::Ordering::SeqCst) {
            self.leaked.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        self.inner.fresh_phone().await
    }

    async fn delivered_code(&self, verification: &Verification) -> HarnessResult<Option<Code>> {
        self.inner.delivered_code(verification).await
    }

    async fn complete_reverse_flow(
        &self,
        verification: &Verification,
        phone: &PhoneNumber,
    ) -> HarnessResult<()> {
        self.inner.complete_reverse_flow(verification, phone).await
    }

    async fn advance_time(&self, by: Duration) -> HarnessResult<()> {
        self.inner.advance_time(by).await
    }

    async fn request_counts(&self) -> HarnessResult<RequestCounts> {
        if !self.counts {
            return Err(HarnessError::unsupported("counting requests"));
        }
        let counts = self.inner.request_counts().await?;
        Ok(if self.counts_checks {
            counts
        } else {
            RequestCounts::new(counts.sends, counts.total)
        })
    }

    async fn inject_send_fault(&self, fault: SendFault) -> HarnessResult<()> {
        match (&self.echoes, fault) {
            (Some(state), SendFault::CredentialsEchoed) => {
                state.fail_next_send(ErrorKind::Unauthorized);
            }
            _ => self.inner.inject_send_fault(fault).await?,
        }
        self.arm();
        Ok(())
    }

    async fn inject_check_fault(
        &self,
        verification: &Verification,
        fault: CheckFault,
    ) -> HarnessResult<()> {
        if self.misdirects_check_faults {
            return Ok(());
        }
        self.inner.inject_check_fault(verification, fault).await?;
        self.arm();
        Ok(())
    }

    async fn inject_lookup_fault(
        &self,
        verification: &Verification,
        fault: LookupFault,
    ) -> HarnessResult<()> {
        self.inner.inject_lookup_fault(verification, fault).await?;
        self.arm();
        Ok(())
    }

    async fn inject_hostile_answer(
        &self,
        to: AnswerTo<'_>,
        answer: HostileAnswer,
    ) -> HarnessResult<()> {
        self.inner.inject_hostile_answer(to, answer).await?;
        self.arm();
        Ok(())
    }

    fn documented_errors(&self) -> Vec<DocumentedError> {
        self.inner.documented_errors()
    }

    async fn inject_documented_error(
        &self,
        to: AnswerTo<'_>,
        error: &DocumentedError,
    ) -> HarnessResult<()> {
        self.inner.inject_documented_error(to, error).await?;
        self.arm();
        Ok(())
    }

    async fn impatient_client(&self) -> HarnessResult<ImpatientClient> {
        self.inner.impatient_client().await
    }

    fn wrong_code_limit(&self, verification: &Verification) -> Option<u32> {
        self.names_limit
            .then(|| self.inner.wrong_code_limit(verification))
            .flatten()
    }

    fn repeat_check_harmless(&self, _: &Verification) -> bool {
        self.repeats_harmless
    }

    fn secrets(&self) -> Vec<String> {
        self.inner.secrets()
    }

    async fn clear_faults(&self) -> HarnessResult<()> {
        self.armed.store(false, std::sync::atomic::Ordering::SeqCst);
        self.inner.clear_faults().await
    }

    async fn fresh_verifier(&self) -> HarnessResult<Arc<dyn PhoneVerifier>> {
        match &self.fresh {
            Some(fresh) => Ok(Arc::clone(fresh)),
            None => self.inner.fresh_verifier().await,
        }
    }
}

#[tokio::test]
async fn a_panic_after_a_fault_was_injected_leaves_no_fault_armed() {
    let state = InMemoryState::seeded(8);
    let verifier = Broken::new(state.clone(), Flaw::Panics);
    let probe = Probe::new(InMemoryHarness::for_state(state));
    let report = run(&verifier, Some(&verifier), &probe).await;
    // The lost answer's check panicked with its fault injected: the suite cleared it.
    let lost = report.get("otp.lost_answer_not_rejected[sms]").unwrap();
    assert_eq!(lost.status, Status::Failed, "{report}");
    assert!(
        lost.detail
            .as_deref()
            .unwrap()
            .starts_with("panicked: the verifier crashed; then clearing the harness's faults"),
        "{report}"
    );
    assert!(
        !probe.leaked(),
        "a check began with a fault still armed\n{report}"
    );
}

#[tokio::test]
async fn the_verifier_under_test_as_its_own_fresh_client_fails_the_fresh_client_checks() {
    let state = InMemoryState::seeded(9);
    // It keeps state besides the handle: only another instance can show it.
    let verifier = Arc::new(Broken::new(state.clone(), Flaw::StatefulHandles));
    let mut probe = Probe::new(InMemoryHarness::for_state(state));
    probe.fresh = Some(verifier.clone());
    let report = run(&*verifier, Some(&*verifier), &probe).await;
    assert_fails_only(
        &report,
        &[
            "otp.handle_in_fresh_client[",
            "reverse.handle_in_fresh_client[",
        ],
        "harness failure: the fresh verifier is the verifier under test itself",
    );
}

#[tokio::test]
async fn checks_that_do_not_apply_are_skipped_with_their_reason() {
    let state = InMemoryState::seeded(10);
    let verifier = InMemoryVerifier::with_state(state.clone());
    let mut probe = Probe::new(InMemoryHarness::for_state(state));
    probe.names_limit = false;
    let report = run(&verifier, Some(&verifier), &probe).await;
    let skipped = |name: &str, why: &str| {
        let result = report.get(name).unwrap();
        assert_eq!(result.status, Status::Skipped, "{name}\n{report}");
        let detail = result.detail.as_deref().unwrap_or_default();
        assert!(detail.contains(why), "{name}: {detail:?} lacks {why:?}");
    };
    skipped(
        "otp.wrong_code_limit[sms]",
        "the harness names no limit of wrong codes",
    );
    skipped(
        "otp.right_code_within_limit[sms]",
        "the harness names no limit of wrong codes",
    );
    skipped(
        "privacy.secrets_not_shown",
        "the harness names no credentials",
    );
    assert_eq!(report.skipped().count(), 7, "{report}");
    report.assert_all_passed();
}

/// The names of the checks that failed, each detail containing `why`.
fn failed_with(report: &Report, why: &str) -> Vec<String> {
    report
        .failed()
        .inspect(|r| {
            let detail = r.detail.as_deref().unwrap_or_default();
            assert!(detail.contains(why), "{}: {detail:?} lacks {why:?}", r.name);
        })
        .map(|r| r.name.clone())
        .collect()
}

/// The checks of `prefixes` for each of the in-memory provider's OTP channels.
fn per_otp_channel(prefixes: &[&str]) -> Vec<String> {
    let mut names = Vec::new();
    for prefix in prefixes {
        for channel in ["sms", "whatsapp", "voice"] {
            names.push(format!("{prefix}[{channel}]"));
        }
    }
    names.sort();
    names
}

#[tokio::test]
async fn checking_again_after_a_read_back_fails_unless_the_harness_says_a_repeat_is_harmless() {
    let repeated = "the provider received 2 code-check requests, expected exactly 1";
    // A harness that names no limit of wrong codes has not said that a repeat is harmless:
    // whatever left the outcome unknown, the check must be sent once.
    let state = InMemoryState::seeded(17);
    let verifier = Broken::new(state.clone(), Flaw::RereadsThenRepeats);
    let mut silent = Probe::new(InMemoryHarness::for_state(state));
    silent.names_limit = false;
    let report = run(&verifier, Some(&verifier), &silent).await;
    let mut failed = failed_with(&report, repeated);
    failed.sort();
    let every = per_otp_channel(&[
        "otp.lost_answer_not_rejected",
        "otp.lost_answer_wrong_code_not_verified",
        "otp.server_error_500_not_rejected",
        "otp.server_error_502_not_rejected",
        "otp.server_error_504_not_rejected",
        "otp.server_error_not_rejected",
        "otp.stalled_answer_not_rejected",
        "otp.unreadable_answer_not_rejected",
        "otp.unreadable_answer_wrong_code_not_verified",
    ]);
    assert_eq!(failed, every, "{report}");

    // Opted in: the repeat is right after an answer given without processing (a 503 without
    // Retry-After, a 500, 502 or 504, malformed JSON, the wrong content type, valid JSON of the
    // wrong shape), and
    // of a wrong code whatever the answer (it changed nothing); after a lost answer to the
    // right code, or one given once the check was taken (a truncated, oversized or stalled
    // body), it never is.
    let state = InMemoryState::seeded(18);
    let verifier = Broken::new(state.clone(), Flaw::RereadsThenRepeats);
    let mut opted_in = Probe::new(InMemoryHarness::for_state(state));
    opted_in.names_limit = false;
    opted_in.repeats_harmless = true;
    let report = run(&verifier, Some(&verifier), &opted_in).await;
    let mut failed = failed_with(&report, repeated);
    failed.sort();
    let processed = per_otp_channel(&[
        "otp.lost_answer_not_rejected",
        "otp.stalled_answer_not_rejected",
        "otp.unreadable_answer_not_rejected",
    ]);
    assert_eq!(failed, processed, "{report}");
    let unreadable = report
        .get("otp.unreadable_answer_not_rejected[sms]")
        .and_then(|r| r.detail.as_deref())
        .unwrap_or_default();
    for answer in ["truncated body: ", "oversized body: "] {
        assert!(unreadable.contains(answer), "{unreadable}");
    }
    for answer in [
        "malformed JSON: ",
        "wrong content type: ",
        "JSON object without fields: ",
        "JSON array: ",
    ] {
        assert!(!unreadable.contains(answer), "{unreadable}");
    }
    let server_error = report.get("otp.server_error_not_rejected[sms]").unwrap();
    assert_eq!(server_error.status, Status::Passed, "{report}");
    assert!(
        server_error
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("read the verification back, then checked again")),
        "{report}"
    );
}

#[tokio::test]
async fn a_repeat_after_a_server_error_without_check_counts_is_skipped_as_unproven() {
    // Verified after a 503, where the harness says a repeat is harmless but cannot count code
    // checks: right if the verifier read the verification back first, which is not proven.
    let state = InMemoryState::seeded(19);
    let verifier = Broken::new(state.clone(), Flaw::RereadsThenRepeats);
    let mut opted_in = Probe::new(InMemoryHarness::for_state(state.clone()));
    opted_in.counts_checks = false;
    opted_in.repeats_harmless = true;
    let report = run(&verifier, Some(&verifier), &opted_in).await;
    let result = report.get("otp.server_error_not_rejected[sms]").unwrap();
    assert_eq!(result.status, Status::Skipped, "{report}");
    assert_eq!(
        result.detail.as_deref(),
        Some(
            "the harness cannot count code checks: verified, but one check guarded by a \
             read-back is not proven"
        )
    );

    // Not opted in, the first check unprocessed: only a repeat verifies, which fails.
    let mut silent = Probe::new(InMemoryHarness::for_state(state));
    silent.counts_checks = false;
    let report = run(&verifier, Some(&verifier), &silent).await;
    let result = report.get("otp.server_error_not_rejected[sms]").unwrap();
    assert_eq!(result.status, Status::Failed, "{report}");
    assert!(
        result.detail.as_deref().is_some_and(
            |d| d.contains("expected an OutcomeUnknown error") && d.contains("got verified")
        ),
        "{report}"
    );
}

#[tokio::test]
async fn credentials_too_short_to_search_for_are_named_in_the_report() {
    let state = InMemoryState::seeded(11);
    let verifier = Broken::new(state.clone(), Flaw::ShowsSecret);
    // Only too short a credential: the check is skipped, saying so, even though the verifier
    // shows its (other) key.
    let short = InMemoryHarness::for_state(state.clone()).with_secrets(["tiny"]);
    let report = run(&verifier, Some(&verifier), &short).await;
    let result = report.get("privacy.secrets_not_shown").unwrap();
    assert_eq!(result.status, Status::Skipped, "{report}");
    assert_eq!(
        result.detail.as_deref(),
        Some(
            "not searched for: the harness's secret(s) #1 (shorter than 8 characters, found by \
             chance): nothing left to search for"
        )
    );
    // With a long one too, the long one is searched for, and the short one still named.
    let both = InMemoryHarness::for_state(state).with_secrets(["tiny", API_KEY]);
    let report = run(&verifier, Some(&verifier), &both).await;
    let result = report.get("privacy.secrets_not_shown").unwrap();
    assert_eq!(result.status, Status::Failed, "{report}");
    assert!(
        result
            .detail
            .as_deref()
            .unwrap()
            .contains("the verifier's Debug shows the harness's secret #2"),
        "{report}"
    );
}

#[tokio::test]
async fn a_check_fault_no_request_used_fails_the_lost_answer_check() {
    let state = InMemoryState::seeded(12);
    let verifier = InMemoryVerifier::with_state(state.clone());
    let mut probe = Probe::new(InMemoryHarness::for_state(state.clone()));
    probe.misdirects_check_faults = true;
    let report = run(&verifier, Some(&verifier), &probe).await;
    assert_fails_only_and(
        &report,
        &["otp.lost_answer_not_rejected["],
        "verified after 1 request(s) to the provider: a check whose answer was lost is \
         verified only by reading the verification back",
        // Answered as it was, the check verified: not the server error it was to meet; and
        // the wrong code's check was rejected, which no lost answer tells.
        &[
            (
                "otp.server_error_not_rejected[",
                "expected an OutcomeUnknown error (the code may be used up, and the check must \
                 not be sent again), got verified",
            ),
            // Nor the 500, 502 or 504.
            (
                "otp.server_error_50",
                "expected an OutcomeUnknown error (the code may be used up, and the check must \
                 not be sent again), got verified",
            ),
            (
                "otp.lost_answer_wrong_code_not_verified[",
                "was reported rejected (WrongCode) after 1 code-check request(s)",
            ),
        ],
    );

    // Without request counts, the suite cannot tell: skipped, saying so.
    let mut blind = Probe::new(InMemoryHarness::for_state(state));
    blind.misdirects_check_faults = true;
    blind.counts = false;
    let report = run(&verifier, Some(&verifier), &blind).await;
    let result = report.get("otp.lost_answer_not_rejected[sms]").unwrap();
    assert_eq!(result.status, Status::Skipped, "{report}");
    assert_eq!(
        result.detail.as_deref(),
        Some(
            "the harness cannot count requests: verified after the lost answer, but not proven \
             read back (the fault's use was not confirmed)"
        )
    );
}

/// The in-memory provider, polling once more when a poll's answer could not be read: right,
/// since a poll changes nothing at the provider.
#[derive(Debug)]
struct PollsAgain(InMemoryVerifier);

#[async_trait]
impl PhoneVerifier for PollsAgain {
    fn provider(&self) -> ProviderId {
        InMemoryVerifier::PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        self.0.start(request).await
    }

    async fn check(&self, handle: &Verification, request: &CheckRequest) -> Result<CheckOutcome> {
        match self.0.check(handle, request).await {
            Err(err) if request.code.is_none() && unreadable(&err) => {
                self.0.check(handle, request).await
            }
            outcome => outcome,
        }
    }
}

#[tokio::test]
async fn without_request_counts_a_success_after_a_hostile_answer_is_not_proven() {
    // Verified after an unreadable answer: right only after asking again, which is not proven
    // without request counts.
    let state = InMemoryState::seeded(23);
    let verifier = PollsAgain(InMemoryVerifier::with_state(state.clone()));
    let mut blind = Probe::new(InMemoryHarness::for_state(state.clone()));
    blind.fresh = Some(Arc::new(PollsAgain(InMemoryVerifier::with_state(state))));
    blind.counts = false;
    let report = run(&verifier, Some(&verifier.0), &blind).await;
    report.assert_all_passed();
    let result = report
        .get("reverse.unreadable_poll_not_misread[whatsapp]")
        .unwrap();
    assert_eq!(result.status, Status::Skipped, "{report}");
    assert!(
        result.detail.as_deref().is_some_and(|d| d.contains(
            "the harness cannot count requests: the poll succeeded, but not proven after \
             asking again"
        )),
        "{report}"
    );
}

#[tokio::test]
async fn secrets_parts_the_harness_cannot_run_are_named() {
    // The in-memory harness cannot make the provider echo credentials: the pass says which
    // part of the search did not run.
    let verifier = InMemoryVerifier::with_seed(24);
    let harness = InMemoryHarness::new(&verifier).with_secrets(["long-api-key-123"]);
    let report = run(&verifier, Some(&verifier), &harness).await;
    let result = report.get("privacy.secrets_not_shown").unwrap();
    assert_eq!(result.status, Status::Passed, "{report}");
    assert_eq!(
        result.detail.as_deref(),
        Some(
            "not run: a send refused, its credentials echoed (unsupported by this harness: \
             this send fault)"
        ),
        "{report}"
    );
}

#[tokio::test]
async fn logging_a_refusal_that_echoes_the_credentials_fails_the_log_check() {
    let state = InMemoryState::seeded(13);
    let verifier = Broken::new(state.clone(), Flaw::LogsRefusals);
    let mut probe = Probe::new(InMemoryHarness::for_state(state.clone()).with_secrets([API_KEY]));
    probe.echoes = Some(state);
    let report = run(&verifier, Some(&verifier), &probe).await;
    assert_fails_only(
        &report,
        &["privacy.phones_and_codes_not_logged"],
        "the log shows the harness's secret #1",
    );
}

#[tokio::test]
async fn panicking_on_unreadable_answers_fails_the_unreadable_answer_checks() {
    let report = report_for(Flaw::PanicsOnUnreadableAnswers).await;
    assert_fails_only(
        &report,
        &[
            "otp.unreadable_answer_",
            "reverse.unreadable_poll_not_misread[",
            "send.unreadable_answer_maybe_sent[",
            "session.unreadable_resolution_not_misread",
            // Its search for codes meets an unreadable answer too, and so does its log check.
            "privacy.codes_not_shown",
            "privacy.phones_and_codes_not_logged",
        ],
        "panicked: called `Result::unwrap()` on an undecodable answer",
    );
}

#[tokio::test]
async fn an_unreadable_check_answer_taken_as_a_wrong_code_fails_the_answer_checks() {
    let report = report_for(Flaw::UnreadableCheckRejected).await;
    assert_fails_only_and(
        &report,
        &[
            "otp.unreadable_answer_not_rejected[",
            "otp.stalled_answer_not_rejected[",
        ],
        "reported rejected (WrongCode): an answer that cannot be read is never a rejection",
        // The wrong code's check so answered is rejected as it should have been, but nothing
        // the verifier read says so.
        &[(
            "otp.unreadable_answer_wrong_code_not_verified[",
            "was reported rejected (WrongCode) after 1 code-check request(s)",
        )],
    );
}

#[tokio::test]
async fn an_unreadable_lookup_answer_misread_fails_the_lookup_answer_checks() {
    let report = report_for(Flaw::UnreadableLookupMisread).await;
    assert_fails_only(
        &report,
        &[
            "reverse.unreadable_poll_not_misread[",
            "reverse.stalled_poll_not_misread[",
            "session.unreadable_resolution_not_misread",
            "session.stalled_resolution_not_misread",
        ],
        "error (the answer could not be had)",
    );
    let poll = report
        .get("reverse.stalled_poll_not_misread[whatsapp]")
        .unwrap();
    assert!(
        poll.detail.as_deref().unwrap().ends_with("got pending"),
        "{report}"
    );
}

#[tokio::test]
async fn waiting_for_a_stalled_answer_without_end_fails_the_stall_checks_at_the_deadline() {
    let state = InMemoryState::seeded(1);
    let verifier = Broken::new(state.clone(), Flaw::IgnoresStalls);
    let harness = InMemoryHarness::for_state(state)
        .with_fresh_verifier(|state| Arc::new(Broken::new(state, Flaw::IgnoresStalls)))
        .with_secrets([API_KEY]);
    // Above the 1 s the retried lookups wait, far below the default minute.
    let deadline = Duration::from_millis(2500);
    let report = run_with_timeout(&verifier, Some(&verifier), &harness, deadline).await;
    assert_fails_only(
        &report,
        &[
            "otp.stalled_answer_not_rejected[",
            "reverse.stalled_poll_not_misread[",
            "send.stalled_answer_maybe_sent[",
            "session.stalled_resolution_not_misread",
        ],
        "timed out: the check did not finish within 2.5s",
    );
}

#[tokio::test]
async fn reaching_the_id_within_a_tampered_one_fails_the_hostile_id_checks() {
    let report = report_for(Flaw::ReachesTheIdWithin).await;
    assert_fails_only(
        &report,
        &[
            "input.hostile_handle_refused",
            "input.malformed_session_refused",
        ],
        "expected InvalidInput (refused) or NotFound",
    );
    let handle = report
        .get("input.hostile_handle_refused")
        .and_then(|r| r.detail.clone())
        .unwrap_or_default();
    assert!(
        handle.contains("a reference with a `/`: expected") && handle.contains("verified"),
        "{handle}"
    );
    let session = report
        .get("input.malformed_session_refused")
        .and_then(|r| r.detail.clone())
        .unwrap_or_default();
    for shape in [
        "a `/`",
        "a `?`",
        "a `#`",
        "`..`",
        "`%2F`",
        "512+ characters",
    ] {
        assert!(
            session.contains(&format!("a session id with {shape}: expected")),
            "{session}"
        );
    }
}

/// A harness that answers hostile answers to the send endpoint only, as one whose mock server
/// cannot break a check's answer.
struct SendsOnly(InMemoryHarness);

#[async_trait]
impl Harness for SendsOnly {
    async fn fresh_phone(&self) -> HarnessResult<PhoneNumber> {
        self.0.fresh_phone().await
    }

    async fn delivered_code(&self, verification: &Verification) -> HarnessResult<Option<Code>> {
        self.0.delivered_code(verification).await
    }

    async fn request_counts(&self) -> HarnessResult<RequestCounts> {
        self.0.request_counts().await
    }

    async fn inject_hostile_answer(
        &self,
        to: AnswerTo<'_>,
        answer: HostileAnswer,
    ) -> HarnessResult<()> {
        match (to, answer) {
            (AnswerTo::Send, HostileAnswer::MalformedJson) => {
                self.0.inject_hostile_answer(to, answer).await
            }
            _ => Err(HarnessError::unsupported("this hostile answer")),
        }
    }

    async fn clear_faults(&self) -> HarnessResult<()> {
        self.0.clear_faults().await
    }
}

#[tokio::test]
async fn hostile_answers_a_harness_cannot_give_are_skipped_or_named() {
    let verifier = InMemoryVerifier::with_seed(12);
    let harness = SendsOnly(InMemoryHarness::new(&verifier));
    let report = run(&verifier, Some(&verifier), &harness).await;
    report.assert_all_passed();
    let send = report
        .get("send.unreadable_answer_maybe_sent[sms]")
        .unwrap();
    assert_eq!(send.status, Status::Passed, "{report}");
    assert_eq!(
        send.detail.as_deref(),
        Some(
            "not run: truncated body, wrong content type, oversized body, JSON object without \
             fields, JSON array (unsupported by this harness: this hostile answer)"
        )
    );
    for name in [
        "otp.unreadable_answer_not_rejected[sms]",
        "otp.stalled_answer_not_rejected[sms]",
        "send.stalled_answer_maybe_sent[sms]",
        "reverse.unreadable_poll_not_misread[whatsapp]",
        "session.unreadable_resolution_not_misread",
    ] {
        assert_eq!(
            report.status(name),
            Some(Status::Skipped),
            "{name}\n{report}"
        );
    }
}

/// The in-memory provider with WhatsApp as a reverse channel only (VerifyKit's Telegram is
/// one): a start with a phone on it, or with a phone and a QR code, must be refused.
struct ReverseOnlyWhatsApp {
    inner: InMemoryVerifier,
    /// Checks each start against its capabilities first (`StartRequest::validate`); else it
    /// ignores the rules and sends a code for any start with a phone, QR code or not.
    validates: bool,
}

impl ReverseOnlyWhatsApp {
    fn new(state: InMemoryState, validates: bool) -> Self {
        Self {
            inner: InMemoryVerifier::with_state(state),
            validates,
        }
    }
}

impl std::fmt::Debug for ReverseOnlyWhatsApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReverseOnlyWhatsApp")
            .field("validates", &self.validates)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl PhoneVerifier for ReverseOnlyWhatsApp {
    fn provider(&self) -> ProviderId {
        InMemoryVerifier::PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = self.inner.capabilities();
        caps.otp_channels
            .retain(|c| *c != phone_verify_core::Channel::WhatsApp);
        caps
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        if self.validates {
            request.validate(&self.capabilities())?;
            return self.inner.start(request).await;
        }
        // The in-memory provider still sends WhatsApp codes, and the QR code is dropped.
        let mut request = request.clone();
        if request.phone.is_some() {
            request.qr_code = false;
        }
        self.inner.start(&request).await
    }

    async fn check(&self, handle: &Verification, request: &CheckRequest) -> Result<CheckOutcome> {
        self.inner.check(handle, request).await
    }
}

#[async_trait]
impl SessionResolver for ReverseOnlyWhatsApp {
    fn provider(&self) -> ProviderId {
        InMemoryVerifier::PROVIDER
    }

    async fn resolve(
        &self,
        session: &SessionId,
        context: &RequestContext,
    ) -> Result<ResolvedSession> {
        self.inner.resolve(session, context).await
    }
}

/// The suite over a [`ReverseOnlyWhatsApp`] verifier, and the messages its provider sent.
async fn reverse_only_report(
    validates: bool,
) -> (Report, Vec<phone_verify_testkit::memory::SentMessage>) {
    let state = InMemoryState::seeded(13);
    let verifier = ReverseOnlyWhatsApp::new(state.clone(), validates);
    let harness = InMemoryHarness::for_state(state.clone())
        .with_fresh_verifier(move |state| Arc::new(ReverseOnlyWhatsApp::new(state, validates)));
    let report = run(&verifier, Some(&verifier), &harness).await;
    (report, state.outbox())
}

/// A verifier that ignores the rules starts (and sends a code for) a phone on its reverse-only
/// channel, and a start with a phone and a QR code: both input checks fail, every other passes.
#[tokio::test]
async fn a_phone_on_a_reverse_only_channel_or_with_a_qr_code_started_fails_the_input_checks() {
    let (report, outbox) = reverse_only_report(false).await;
    assert_fails_only(
        &report,
        &[
            "input.phone_on_reverse_only_refused[",
            "input.qr_code_with_phone_refused[",
        ],
        "accepted instead of refused",
    );
    for name in [
        "input.phone_on_reverse_only_refused[whatsapp]",
        "input.qr_code_with_phone_refused[sms]",
        "input.qr_code_with_phone_refused[voice]",
    ] {
        assert_eq!(
            report.status(name),
            Some(Status::Failed),
            "{name}\n{report}"
        );
    }
    assert!(
        outbox
            .iter()
            .any(|m| m.channel == phone_verify_core::Channel::WhatsApp),
        "the flawed verifier sent a WhatsApp code"
    );
}

/// The same verifier checking each start against its capabilities passes both (the phone on
/// WhatsApp refused with `InvalidInput`, the QR code with `Unsupported`), and sends no
/// WhatsApp code.
#[tokio::test]
async fn a_verifier_that_validates_passes_the_reverse_only_and_qr_code_checks() {
    let (report, outbox) = reverse_only_report(true).await;
    report.assert_all_passed();
    for name in [
        "input.phone_on_reverse_only_refused[whatsapp]",
        "input.qr_code_with_phone_refused[sms]",
        "input.qr_code_with_phone_refused[voice]",
    ] {
        assert_eq!(
            report.status(name),
            Some(Status::Passed),
            "{name}\n{report}"
        );
    }
    assert!(
        outbox
            .iter()
            .all(|m| m.channel != phone_verify_core::Channel::WhatsApp),
        "{outbox:?}"
    );
}

/// A verifier that refuses a phone on its reverse-only channel with the wrong kind fails the
/// check: a phone there is bad input, not an unsupported feature.
#[tokio::test]
async fn refusing_a_phone_on_a_reverse_only_channel_as_unsupported_fails_the_check() {
    #[derive(Debug)]
    struct WrongKind(ReverseOnlyWhatsApp);

    #[async_trait]
    impl PhoneVerifier for WrongKind {
        fn provider(&self) -> ProviderId {
            InMemoryVerifier::PROVIDER
        }
        fn capabilities(&self) -> Capabilities {
            self.0.capabilities()
        }
        async fn start(&self, request: &StartRequest) -> Result<Verification> {
            if request.phone.is_some() && request.channel == phone_verify_core::Channel::WhatsApp {
                return Err(Error::unsupported("no WhatsApp codes"));
            }
            self.0.start(request).await
        }
        async fn check(
            &self,
            handle: &Verification,
            request: &CheckRequest,
        ) -> Result<CheckOutcome> {
            self.0.check(handle, request).await
        }
    }

    let state = InMemoryState::seeded(14);
    let verifier = WrongKind(ReverseOnlyWhatsApp::new(state.clone(), true));
    let harness = InMemoryHarness::for_state(state);
    let report = run(&verifier, None, &harness).await;
    let result = report
        .get("input.phone_on_reverse_only_refused[whatsapp]")
        .unwrap();
    assert_eq!(result.status, Status::Failed, "{report}");
    assert!(
        result
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("expected an InvalidInput error, got"),
        "{result:?}"
    );
}

#[tokio::test]
async fn unwrapping_a_field_an_answer_lacks_fails_the_unreadable_answer_checks() {
    let report = report_for(Flaw::UnwrapsMissingFields).await;
    assert_fails_only(
        &report,
        &[
            "otp.unreadable_answer_",
            "reverse.unreadable_poll_not_misread[",
            "send.unreadable_answer_maybe_sent[",
            "session.unreadable_resolution_not_misread",
        ],
        "panicked: called `Option::unwrap()` on a `None` value",
    );
}

#[tokio::test]
async fn defaulting_the_fields_an_answer_lacks_fails_the_unreadable_answer_checks() {
    let report = report_for(Flaw::DefaultsMissingFields).await;
    assert_fails_only_and(
        &report,
        &["send.unreadable_answer_maybe_sent["],
        "JSON object without fields: start succeeded although the provider's answer was a \
         JSON object without fields",
        &[
            (
                "otp.unreadable_answer_not_rejected[",
                "JSON array: the right code's check was answered with a JSON array, and the \
                 verifier reported rejected (WrongCode)",
            ),
            (
                "otp.unreadable_answer_wrong_code_not_verified[",
                "JSON object without fields: a wrong code's check (its answer was a JSON object \
                 without fields) was reported rejected (WrongCode) after 1 code-check request(s)",
            ),
            ("reverse.unreadable_poll_not_misread[", "got pending"),
            (
                "session.unreadable_resolution_not_misread",
                "got not found: no such session",
            ),
        ],
    );
}

#[tokio::test]
async fn logging_a_basic_authorization_fails_the_log_check() {
    let report = report_for(Flaw::LogsBasicCredentials).await;
    assert_fails_only(
        &report,
        &["privacy.phones_and_codes_not_logged"],
        "the log shows the harness's secret #1 (base64-encoded)",
    );
}

#[tokio::test]
async fn sending_every_code_by_sms_fails_the_checks_of_the_other_channels() {
    let report = report_for(Flaw::SendsBySmsOnly).await;
    let why = "the code went out by sms, but the handle says";
    for result in report.results() {
        if result.status == Status::Failed {
            let detail = result.detail.as_deref().unwrap_or_default();
            assert!(detail.contains(why), "{}: {detail}", result.name);
            assert!(
                result.name.ends_with("[whatsapp]") || result.name.ends_with("[voice]"),
                "{}\n{report}",
                result.name
            );
        }
    }
    for channel in ["whatsapp", "voice"] {
        let name = format!("otp.right_code_verifies[{channel}]");
        let detail = report
            .get(&name)
            .unwrap()
            .detail
            .clone()
            .unwrap_or_default();
        assert_eq!(report.status(&name), Some(Status::Failed), "{report}");
        assert!(detail.contains(&format!("{why} {channel}")), "{detail}");
    }
    assert_eq!(
        report.status("otp.right_code_verifies[sms]"),
        Some(Status::Passed)
    );
}

#[tokio::test]
async fn taking_an_unread_answer_for_a_success_fails_the_unreadable_answer_checks() {
    let report = report_for(Flaw::UnreadAnswerVerifies).await;
    assert_fails_only_and(
        &report,
        &["otp.unreadable_answer_not_rejected["],
        "without processing the check, so the code was not used and nothing verified it, yet \
         the verifier reported verified after one code-check request",
        &[(
            "otp.unreadable_answer_wrong_code_not_verified[",
            "was reported verified: a wrong code never verifies",
        )],
    );
    // The answers given once the check was taken (the right code used up) leave `Verified`
    // right after a read-back; those given without processing do not.
    let detail = report
        .get("otp.unreadable_answer_not_rejected[sms]")
        .and_then(|r| r.detail.clone())
        .unwrap_or_default();
    for unprocessed in [
        "malformed JSON: ",
        "wrong content type: ",
        "JSON object without fields: ",
        "JSON array: ",
    ] {
        assert!(detail.contains(unprocessed), "{detail}");
    }
    for processed in ["truncated body: ", "oversized body: "] {
        assert!(!detail.contains(processed), "{detail}");
    }
}

/// A handle dated by this machine's clock while the suite has moved the provider's is no
/// flaw: the validity check measures from the provider's time, and passes. (It measured
/// `expires_at - created_at`, which then holds every move of the clock, and failed it.)
#[tokio::test]
async fn a_handle_dated_by_this_machines_clock_passes_the_expiry_checks() {
    let report = report_for(Flaw::CreatedAtHere).await;
    let failed: Vec<String> = report.failed().map(|c| format!("{c:?}")).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(
        report
            .passed()
            .any(|c| format!("{c:?}").contains("otp.valid_until_expires_at[")),
        "the check ran"
    );
}

#[tokio::test]
async fn a_read_back_that_takes_an_earlier_success_for_a_lost_checks_fails_the_used_code_check() {
    let report = report_for(Flaw::ReadsBackEarlierSuccess).await;
    assert_fails_only(
        &report,
        &["otp.used_code_lost_answer_not_verified["],
        "a verified handle checked again 180s later with a wrong code, its answer lost, was \
         reported verified",
    );
}

#[tokio::test]
async fn a_handle_that_outlives_the_providers_expiry_fails_the_validity_check() {
    let report = report_for(Flaw::DoublesExpiry).await;
    assert_fails_only(
        &report,
        &["otp.valid_until_expires_at["],
        // About 1140 s: the provider's time is read at the check, a moment after the start.
        "s after the start, a minute before the handle's expires_at: expected verified, got \
         rejected (Expired)",
    );
}

#[tokio::test]
async fn a_send_server_error_taken_for_a_refusal_fails_the_server_error_send_checks() {
    let report = report_for(Flaw::ServerErrorSendAsRefusal).await;
    // A 503, with Retry-After or without, it reads rightly: those checks pass.
    assert_fails_only(
        &report,
        &[
            "send.maybe_sent_after_500[",
            "send.maybe_sent_after_502[",
            "send.maybe_sent_after_504[",
        ],
        "may come after the provider or a proxy took the send",
    );
    let detail = report
        .get("send.maybe_sent_after_504[sms]")
        .and_then(|r| r.detail.clone())
        .unwrap_or_default();
    assert!(detail.contains("a send answered 504"), "{detail}");
}

#[tokio::test]
async fn a_check_server_error_read_as_a_wrong_code_fails_the_500_check() {
    let report = report_for(Flaw::CheckServerErrorAsWrongCode).await;
    // The 503 and the other server errors it reads rightly: those checks pass.
    assert_fails_only(
        &report,
        &["otp.server_error_500_not_rejected["],
        "the provider answered the right code's check with a 500 without Retry-After, and the \
         verifier reported rejected (WrongCode): a server error is never a rejection",
    );
}

#[tokio::test]
async fn a_phone_logged_only_when_a_checks_outcome_is_unknown_fails_the_log_check() {
    let report = report_for(Flaw::LogsPhoneOnLostAnswer).await;
    assert_fails_only(
        &report,
        &["privacy.phones_and_codes_not_logged"],
        "the log shows the phone",
    );
    // The failure says where the phone was first logged.
    let detail = report
        .get("privacy.phones_and_codes_not_logged")
        .and_then(|r| r.detail.clone())
        .unwrap_or_default();
    assert!(
        detail.contains("first logged during a check whose answer was lost"),
        "{detail}"
    );
}

// ---- sends twice, pings before validating a check, a handle that does not read back ----

/// The extra that [`Flaw::AnswerExtraTooDeep`] keeps the provider's answer under.
const ANSWER_EXTRA: &str = "answer";

/// How deep [`Flaw::AnswerExtraTooDeep`] nests the answer: past serde_json's 128 levels.
const DEEP_ANSWER_LEVELS: usize = 130;

#[tokio::test]
async fn sending_twice_on_a_successful_start_fails_the_exactly_once_check() {
    let report = report_for(Flaw::SendsTwice).await;
    assert_fails_only(
        &report,
        &["send.exactly_once["],
        "starting one verification made 2 send requests, expected exactly 1",
    );
}

#[tokio::test]
async fn pinging_the_provider_before_refusing_a_check_without_code_fails_its_check() {
    let report = report_for(Flaw::PingsBeforeValidatingChecks).await;
    assert_fails_only(
        &report,
        &["input.otp_check_without_code_refused["],
        "refused, but only after 1 request(s) to the provider: validate input first",
    );
}

/// The handle cannot be written as JSON (core refuses an extra it could not read back), so no
/// other process could check it.
#[tokio::test]
async fn a_handle_whose_json_does_not_read_back_fails_the_round_trip_checks() {
    let report = report_for(Flaw::AnswerExtraTooDeep).await;
    // The fresh-client checks write the handle's JSON too.
    assert_fails_only(
        &report,
        &[
            "otp.handle_json_round_trip[",
            "reverse.handle_json_round_trip[",
            "otp.handle_in_fresh_client[",
            "reverse.handle_in_fresh_client[",
        ],
        "the handle does not survive a JSON round trip: invalid input: verification handle \
         cannot be serialized: an extra nests arrays and objects deeper than 125 levels",
    );
}
