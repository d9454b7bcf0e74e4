//! The provider side of the in-memory provider: what a real provider keeps on its servers.
//!
//! [`InMemoryVerifier`](super::InMemoryVerifier) calls the `pub(super)` methods as a real client
//! calls HTTP endpoints, and each call counts as one request; tests use the public ones, as the
//! sandbox's control API, to read the outbox, move the clock and inject failures.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use phone_verify_core::time::OffsetDateTime;
use phone_verify_core::{
    Channel, CheckOutcome, Code, Error, ErrorKind, PhoneNumber, RejectReason, Rejection,
    ResolvedSession, Result, SessionId, Verified,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use phone_verify_core::kit::OperationKind;

use super::errors::{ErrorAnswer, PROVIDER};
use crate::harness::{Answering, HostileAnswer, LookupFault, RequestCounts};

/// A message the in-memory provider "sent": the outbox replaces the user's phone.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentMessage {
    /// The verification's reference, as in its handle.
    pub reference: String,
    /// Who it went to.
    pub phone: PhoneNumber,
    /// How it went.
    pub channel: Channel,
    /// The code it carries.
    pub code: Code,
    /// The full text.
    pub text: String,
    /// When it was sent, on the provider's clock.
    pub sent_at: OffsetDateTime,
}

impl fmt::Debug for SentMessage {
    // The text carries the code: keep both out of logs, like every type in phone-verify.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentMessage")
            .field("reference", &self.reference)
            .field("phone", &self.phone)
            .field("channel", &self.channel)
            .field("code", &self.code)
            .field("sent_at", &self.sent_at)
            .finish_non_exhaustive()
    }
}

/// What the provider answers when a verification starts.
pub(super) struct Started {
    pub(super) reference: String,
    pub(super) created_at: OffsetDateTime,
    pub(super) expires_at: OffsetDateTime,
    pub(super) deeplink: Option<String>,
}

/// The state of the in-memory provider, shared by every
/// [`InMemoryVerifier`](super::InMemoryVerifier) made from it:
/// pending verifications, sessions, the outbox, request counters and the clock.
///
/// Cloning it shares it (it is an `Arc`). `Debug` shows counters only, never codes.
#[derive(Clone)]
pub struct InMemoryState {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    code_ttl: Duration,
    max_attempts: u32,
    rng: ChaCha20Rng,
    clock_offset: Duration,
    flows: HashMap<String, Flow>,
    sessions: HashMap<String, ResolvedSession>,
    outbox: Vec<SentMessage>,
    counts: RequestCounts,
    fail_next_send: Option<ErrorKind>,
    lose_next_check_answer: bool,
    fail_next_lookup: Option<LookupFault>,
    hostile_send: Option<HostileAnswer>,
    hostile_check: Option<HostileAnswer>,
    hostile_lookup: Option<HostileAnswer>,
    /// The error of a hostile send answer, while the send it answers is processed.
    hostile_send_error: Option<Error>,
    /// Error answers to the next send, code check and lookup.
    error_send: Option<ErrorAnswer>,
    error_check: Option<ErrorAnswer>,
    error_lookup: Option<ErrorAnswer>,
}

/// One verification, keyed by its reference.
struct Flow {
    channel: Channel,
    /// OTP: the code. Reverse flows have none: the user sends a message instead.
    code: Option<Code>,
    /// OTP: the phone the code went to.
    phone: Option<PhoneNumber>,
    expires_at: OffsetDateTime,
    wrong_attempts: u32,
    /// Set once verified. An OTP flow is then used up; a reverse flow keeps reporting it.
    verified: Option<Verified>,
}

impl InMemoryState {
    /// How long a verification stays valid unless [`with_code_ttl`](Self::with_code_ttl) says.
    pub const DEFAULT_CODE_TTL: Duration = Duration::from_secs(10 * 60);
    /// Wrong codes allowed per verification unless [`with_max_attempts`](Self::with_max_attempts)
    /// says; the last one is answered `TooManyAttempts`.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

    /// An empty provider whose codes come from a CSPRNG seeded by the operating system.
    pub fn new() -> Self {
        Self::from_rng(ChaCha20Rng::from_rng(&mut rand::rng()))
    }

    /// An empty provider whose codes and ids are reproducible from `seed` (tests only).
    pub fn seeded(seed: u64) -> Self {
        Self::from_rng(ChaCha20Rng::seed_from_u64(seed))
    }

    fn from_rng(rng: ChaCha20Rng) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                code_ttl: Self::DEFAULT_CODE_TTL,
                max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
                rng,
                clock_offset: Duration::ZERO,
                flows: HashMap::new(),
                sessions: HashMap::new(),
                outbox: Vec::new(),
                counts: RequestCounts::default().with_checks(0),
                fail_next_send: None,
                lose_next_check_answer: false,
                fail_next_lookup: None,
                hostile_send: None,
                hostile_check: None,
                hostile_lookup: None,
                hostile_send_error: None,
                error_send: None,
                error_check: None,
                error_lookup: None,
            })),
        }
    }

    /// Sets how long verifications stay valid.
    #[must_use]
    pub fn with_code_ttl(self, ttl: Duration) -> Self {
        self.lock().code_ttl = ttl;
        self
    }

    /// Sets how many wrong codes a verification takes (at least 1).
    #[must_use]
    pub fn with_max_attempts(self, attempts: u32) -> Self {
        self.lock().max_attempts = attempts.max(1);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code panics while holding the lock; if a caller's did, the data is still sound.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ---- control API, for tests ----

    /// The provider's clock: the real time plus every [`advance_clock`](Self::advance_clock).
    pub fn now(&self) -> OffsetDateTime {
        self.lock().now()
    }

    /// Moves the provider's clock forward.
    pub fn advance_clock(&self, by: Duration) {
        self.lock().clock_offset += by;
    }

    /// Every message sent so far, oldest first.
    pub fn outbox(&self) -> Vec<SentMessage> {
        self.lock().outbox.clone()
    }

    /// The last message sent for the verification `reference`.
    pub fn message_for(&self, reference: &str) -> Option<SentMessage> {
        let inner = self.lock();
        inner
            .outbox
            .iter()
            .rev()
            .find(|m| m.reference == reference)
            .cloned()
    }

    /// Requests received so far, code checks told apart; failed sends and checks count too.
    pub fn request_counts(&self) -> RequestCounts {
        self.lock().counts.clone()
    }

    /// Makes the next send fail with an error of `kind`. The kinds that say a message may
    /// have gone out, [`ErrorKind::MaybeSent`], [`ErrorKind::Decode`] and
    /// [`ErrorKind::OutcomeUnknown`], send it and then fail (the provider took the send, its
    /// answer was lost or unreadable). Any other kind says nothing was sent, as the router's
    /// failover reads it: [`ErrorKind::Timeout`] (a timeout of the send itself is `MaybeSent`,
    /// so this one came before the send left) and [`ErrorKind::Transport`] (no connection)
    /// included. Nothing is sent, and the error carries the HTTP status a provider refuses
    /// with: 400 for [`ErrorKind::InvalidInput`] and [`ErrorKind::Unsupported`], 401
    /// [`ErrorKind::Unauthorized`], 402 [`ErrorKind::QuotaExhausted`], 403
    /// [`ErrorKind::Blocked`], 404 `NotFound`, 409 `Conflict`, 410 `Expired`, 429
    /// [`ErrorKind::RateLimited`], and 503 with a `Retry-After` of one second
    /// [`ErrorKind::ProviderUnavailable`]; no status for the kinds no answer gives (a
    /// connection refused is `Transport`, say). To answer a send 503 without `Retry-After`,
    /// which leaves it in doubt, give that answer with
    /// [`answer_next_with_error`](Self::answer_next_with_error).
    pub fn fail_next_send(&self, kind: ErrorKind) {
        self.lock().fail_next_send = Some(kind);
    }

    /// Makes the next code check take effect (a right code is used up, a wrong one counted)
    /// and then fail with [`ErrorKind::OutcomeUnknown`], as when its answer is lost.
    pub fn lose_next_check_answer(&self) {
        self.lock().lose_next_check_answer = true;
    }

    /// Makes the next lookup (a reverse flow's poll, a session's resolution) fail with
    /// [`ErrorKind::ProviderUnavailable`] and a retry delay of
    /// [`LookupFault::RETRY_AFTER`], without processing it, as a provider answering `503`
    /// with `Retry-After` does ([`LookupFault::ServiceUnavailable`]).
    pub fn fail_next_lookup(&self) {
        self.fail_next_lookup_with(LookupFault::ServiceUnavailable);
    }

    /// Makes the next lookup (a reverse flow's poll, a session's resolution) fail with
    /// `fault`, without processing it. The in-memory provider has no wire: the error is what
    /// an HTTP client makes of the answer. A `503` is [`ErrorKind::ProviderUnavailable`], a
    /// `429` [`ErrorKind::RateLimited`], each with a retry delay of
    /// [`LookupFault::RETRY_AFTER`] when the fault gives one
    /// ([`LookupFault::retry_after`]); a connection reset is [`ErrorKind::Transport`].
    pub fn fail_next_lookup_with(&self, fault: LookupFault) {
        self.lock().fail_next_lookup = Some(fault);
    }

    /// Makes the provider's answer to the next send the hostile `answer`, which its client
    /// cannot read: the message is sent (unless the answer is malformed JSON or of the wrong
    /// content type, which the provider gives without processing the request, as the sandbox
    /// does) and the send fails with [`ErrorKind::MaybeSent`]. The in-memory provider has no
    /// wire: the error is what an HTTP client makes of such an answer (a stall: its timeout).
    pub fn answer_next_send_with(&self, answer: HostileAnswer) {
        self.lock().hostile_send = Some(answer);
    }

    /// Makes the provider's answer to the next code check the hostile `answer`: the check
    /// takes effect as for [`answer_next_send_with`](Self::answer_next_send_with), and fails
    /// with [`ErrorKind::OutcomeUnknown`].
    pub fn answer_next_check_with(&self, answer: HostileAnswer) {
        self.lock().hostile_check = Some(answer);
    }

    /// Makes the provider's answer to the next lookup (a poll, a resolution) the hostile
    /// `answer`: it fails with [`ErrorKind::Decode`] ([`ErrorKind::Timeout`] for a stall),
    /// and is not retried.
    pub fn answer_next_lookup_with(&self, answer: HostileAnswer) {
        self.lock().hostile_lookup = Some(answer);
    }

    /// Makes the provider answer the next `times` calls (at least 1) of kind `to` (sends, code
    /// checks, or lookups: polls and resolutions) with the error answer `status`, `headers`
    /// and `body`, without processing them, as a provider refusing the request does. The in-memory client
    /// reads it as it would read the answer off the wire: see
    /// [`documented_errors`](super::documented_errors) for the provider's documented errors
    /// and their shape.
    pub fn answer_next_with_error(
        &self,
        to: Answering,
        status: u16,
        headers: Vec<(String, String)>,
        body: impl Into<String>,
        times: u32,
    ) {
        let answer = ErrorAnswer {
            status,
            headers,
            body: body.into(),
            times: times.max(1),
            used: false,
        };
        let mut inner = self.lock();
        match to {
            Answering::Send => inner.error_send = Some(answer),
            Answering::Check => inner.error_check = Some(answer),
            Answering::Lookup => inner.error_lookup = Some(answer),
        }
    }

    /// Forgets failures set by [`fail_next_send`](Self::fail_next_send),
    /// [`lose_next_check_answer`](Self::lose_next_check_answer),
    /// [`fail_next_lookup`](Self::fail_next_lookup), the `answer_next_*_with` methods and
    /// [`answer_next_with_error`](Self::answer_next_with_error) that were not used; returns
    /// whether one for a check or a lookup was among them.
    pub fn clear_failures(&self) -> bool {
        let mut inner = self.lock();
        inner.fail_next_send = None;
        inner.hostile_send = None;
        inner.error_send = None;
        let error_answer = ErrorAnswer::unused(&mut inner.error_check)
            | ErrorAnswer::unused(&mut inner.error_lookup);
        let lost_check = std::mem::take(&mut inner.lose_next_check_answer);
        let failed_lookup = inner.fail_next_lookup.take().is_some();
        let hostile_check = inner.hostile_check.take().is_some();
        let hostile_lookup = inner.hostile_lookup.take().is_some();
        lost_check || failed_lookup || hostile_check || hostile_lookup || error_answer
    }

    /// How many wrong codes a verification takes; the last one is answered `TooManyAttempts`.
    pub fn max_attempts(&self) -> u32 {
        self.lock().max_attempts
    }

    /// Completes the reverse flow `reference` as if the user had sent its message from `phone`.
    pub fn complete_reverse_flow(&self, reference: &str, phone: &PhoneNumber) -> Result<()> {
        let mut inner = self.lock();
        let now = inner.now();
        let Inner {
            flows,
            sessions,
            rng,
            ..
        } = &mut *inner;
        let Some(flow) = flows.get_mut(reference) else {
            return Err(Error::new(ErrorKind::NotFound, "no such verification"));
        };
        if flow.code.is_some() {
            return Err(Error::invalid_input("not a reverse flow"));
        }
        if flow.verified.is_some() {
            return Err(Error::new(ErrorKind::Conflict, "already completed"));
        }
        if now >= flow.expires_at {
            return Err(Error::new(ErrorKind::Expired, "the reverse flow expired"));
        }
        flow.verified = Some(verify(flow, phone.clone(), now, sessions, rng));
        Ok(())
    }

    // ---- provider endpoints, for InMemoryVerifier ----

    /// `POST /send`: sends a code to `phone` on `channel`.
    pub(super) fn send_code(&self, phone: &PhoneNumber, channel: &Channel) -> Result<Started> {
        let mut inner = self.lock();
        inner.counts.total += 1;
        inner.counts.sends += 1;
        if let Some(answer) = ErrorAnswer::take(&mut inner.error_send) {
            return Err(answer.error(OperationKind::Send));
        }
        // Only an answer lost (or unreadable) after the send was taken leaves a message sent;
        // every other injected failure (a timeout or a connection failure before the send
        // left included) says nothing was sent, and the router fails over on it.
        let lost = match inner.fail_next_send.take() {
            Some(kind @ (ErrorKind::MaybeSent | ErrorKind::Decode | ErrorKind::OutcomeUnknown)) => {
                Some(kind)
            }
            Some(kind) => return Err(refused(kind)),
            None => None,
        };
        if let Some(answer) = inner.hostile_send.take() {
            let error = unreadable(answer, ErrorKind::MaybeSent, "send");
            if !answer.processed() {
                return Err(error);
            }
            inner.hostile_send_error = Some(error);
        }
        let code = format!("{:06}", inner.rng.random_range(0..1_000_000));
        let code = Code::new(&code).expect("six digits are a valid code");
        let started = inner.open(channel, Some(code.clone()), Some(phone.clone()));
        let minutes = inner.code_ttl.as_secs() / 60;
        inner.outbox.push(SentMessage {
            reference: started.reference.clone(),
            phone: phone.clone(),
            channel: channel.clone(),
            text: format!(
                "{} is your verification code. It expires in {minutes} minutes.",
                code.expose()
            ),
            code,
            sent_at: started.created_at,
        });
        match (inner.hostile_send_error.take(), lost) {
            (Some(error), _) => Err(error),
            (None, Some(kind)) => Err(injected(kind, "the message was sent, the answer lost")),
            (None, None) => Ok(started),
        }
    }

    /// `POST /reverse`: opens a reverse flow the user completes by sending a message.
    pub(super) fn open_reverse(&self, channel: &Channel) -> Started {
        let mut inner = self.lock();
        inner.counts.total += 1;
        let mut started = inner.open(channel, None, None);
        started.deeplink = Some(format!(
            "https://wa.me/50760000000?text=Verify%20{}",
            started.reference
        ));
        started
    }

    /// `POST /check`: checks `code`, or polls a reverse flow when `code` is `None`.
    pub(super) fn check(&self, reference: &str, code: Option<&Code>) -> Result<CheckOutcome> {
        let mut inner = self.lock();
        let refusal = if code.is_some() {
            ErrorAnswer::take(&mut inner.error_check)
        } else {
            ErrorAnswer::take(&mut inner.error_lookup)
        };
        if let Some(answer) = refusal {
            inner.count(code.is_some());
            let operation = if code.is_some() {
                OperationKind::Consume
            } else {
                OperationKind::Read
            };
            return answer.check_outcome(operation);
        }
        if code.is_some()
            && let Some(answer) = inner.hostile_check.take()
        {
            if answer.processed() {
                drop(inner);
                let _ = self.check(reference, code);
            } else {
                inner.count(true);
            }
            return Err(unreadable(answer, ErrorKind::OutcomeUnknown, "code check"));
        }
        if code.is_some() && std::mem::take(&mut inner.lose_next_check_answer) {
            drop(inner);
            // The provider takes the check; its answer never reaches the client.
            let _ = self.check(reference, code);
            return Err(Error::new(
                ErrorKind::OutcomeUnknown,
                "injected check failure: the answer was lost",
            )
            .with_provider(PROVIDER));
        }
        inner.count(code.is_some());
        if code.is_none() {
            inner.unavailable_lookup()?;
        }
        let now = inner.now();
        let max_attempts = inner.max_attempts;
        let Inner {
            flows,
            sessions,
            rng,
            ..
        } = &mut *inner;
        let Some(flow) = flows.get_mut(reference) else {
            return Ok(rejected(RejectReason::NotFound));
        };
        let (Some(expected), Some(given)) = (&flow.code, code) else {
            // A reverse-flow poll (the client refuses a code for a reverse flow, and no code
            // for an OTP flow, before asking).
            if flow.code.is_some() || code.is_some() {
                return Err(Error::invalid_input("code and flow do not match"));
            }
            return Ok(match &flow.verified {
                Some(verified) => CheckOutcome::Verified(verified.clone()),
                None if now >= flow.expires_at => rejected(RejectReason::Expired),
                None => CheckOutcome::Pending,
            });
        };
        if flow.verified.is_some() {
            // Codes are single use.
            return Ok(rejected(RejectReason::NotFound));
        }
        if now >= flow.expires_at {
            return Ok(rejected(RejectReason::Expired));
        }
        if flow.wrong_attempts >= max_attempts {
            return Ok(rejected(RejectReason::TooManyAttempts));
        }
        if !same_code(expected, given) {
            flow.wrong_attempts += 1;
            return Ok(rejected(if flow.wrong_attempts >= max_attempts {
                RejectReason::TooManyAttempts
            } else {
                RejectReason::WrongCode
            }));
        }
        let phone = flow.phone.clone().expect("OTP flows have a phone");
        let verified = verify(flow, phone, now, sessions, rng);
        flow.verified = Some(verified.clone());
        Ok(CheckOutcome::Verified(verified))
    }

    /// `GET /sessions/{id}`: the phone a session verified.
    pub(super) fn resolve(&self, session: &str) -> Result<ResolvedSession> {
        let mut inner = self.lock();
        inner.counts.total += 1;
        if let Some(answer) = ErrorAnswer::take(&mut inner.error_lookup) {
            return Err(answer.error(OperationKind::Read));
        }
        inner.unavailable_lookup()?;
        inner
            .sessions
            .get(session)
            .cloned()
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such session"))
    }
}

impl Inner {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.clock_offset
    }

    /// Counts a request to `POST /check`: a code check when `code_check`, else a poll.
    fn count(&mut self, code_check: bool) {
        self.counts.total += 1;
        if code_check {
            self.counts.checks = Some(self.counts.checks.unwrap_or(0) + 1);
        }
    }

    /// The injected lookup failure, if one is set: a 503 with `Retry-After`, unprocessed, or
    /// a hostile answer.
    fn unavailable_lookup(&mut self) -> Result<()> {
        if let Some(answer) = self.hostile_lookup.take() {
            let kind = match answer {
                HostileAnswer::StalledBody { .. } => ErrorKind::Timeout,
                _ => ErrorKind::Decode,
            };
            return Err(unreadable(answer, kind, "lookup"));
        }
        let Some(fault) = self.fail_next_lookup.take() else {
            return Ok(());
        };
        let (kind, what) = match fault {
            LookupFault::ServiceUnavailable | LookupFault::ServiceUnavailableWithoutRetryAfter => (
                ErrorKind::ProviderUnavailable,
                "the provider is unavailable",
            ),
            LookupFault::RateLimited => (ErrorKind::RateLimited, "too many requests"),
            LookupFault::ConnectionReset => (
                ErrorKind::Transport,
                "the connection was reset before any answer",
            ),
        };
        let error =
            Error::new(kind, format!("injected lookup failure: {what}")).with_provider(PROVIDER);
        let error = match fault {
            LookupFault::ServiceUnavailable | LookupFault::ServiceUnavailableWithoutRetryAfter => {
                error.with_http_status(503)
            }
            LookupFault::RateLimited => error.with_http_status(429),
            LookupFault::ConnectionReset => error,
        };
        Err(match fault.retry_after() {
            Some(wait) => error.with_retry_after(wait),
            None => error,
        })
    }

    fn random_id(&mut self, prefix: &str) -> String {
        format!("{prefix}_{:032x}", self.rng.random::<u128>())
    }

    fn open(
        &mut self,
        channel: &Channel,
        code: Option<Code>,
        phone: Option<PhoneNumber>,
    ) -> Started {
        let reference = self.random_id("ver");
        let created_at = self.now();
        let expires_at = created_at + self.code_ttl;
        self.flows.insert(
            reference.clone(),
            Flow {
                channel: channel.clone(),
                code,
                phone,
                expires_at,
                wrong_attempts: 0,
                verified: None,
            },
        );
        Started {
            reference,
            created_at,
            expires_at,
            deeplink: None,
        }
    }
}

/// Marks `flow` verified for `phone`, opening a session.
fn verify(
    flow: &Flow,
    phone: PhoneNumber,
    now: OffsetDateTime,
    sessions: &mut HashMap<String, ResolvedSession>,
    rng: &mut ChaCha20Rng,
) -> Verified {
    let session = format!("ses_{:032x}", rng.random::<u128>());
    let resolved = ResolvedSession::new(phone.clone(), flow.channel.clone(), PROVIDER)
        .with_verified_at(Some(now));
    sessions.insert(session.clone(), resolved);
    Verified::new(flow.channel.clone())
        .with_phone(Some(phone))
        .with_session_id(SessionId::new(&session).ok())
        .with_verified_at(Some(now))
}

fn rejected(reason: RejectReason) -> CheckOutcome {
    CheckOutcome::Rejected(Rejection::new(reason))
}

/// The error of kind `kind` a client makes of the hostile `answer` to an `operation`.
fn unreadable(answer: HostileAnswer, kind: ErrorKind, operation: &str) -> Error {
    let what = match answer {
        HostileAnswer::StalledBody { .. } => {
            format!("the provider's answer to the {operation} stalled, and the client gave up")
        }
        other => format!(
            "the provider's answer to the {operation} could not be read ({})",
            other.name()
        ),
    };
    Error::new(kind, what).with_provider(PROVIDER)
}

fn injected(kind: ErrorKind, what: &str) -> Error {
    Error::new(kind, format!("injected send failure: {what}")).with_provider(PROVIDER)
}

/// The error of a send refused before processing with an error of `kind`, with the HTTP
/// status a provider refuses with ([`InMemoryState::fail_next_send`]).
fn refused(kind: ErrorKind) -> Error {
    let status = match kind {
        ErrorKind::InvalidInput | ErrorKind::Unsupported => 400,
        ErrorKind::Unauthorized => 401,
        ErrorKind::QuotaExhausted => 402,
        ErrorKind::Blocked => 403,
        ErrorKind::NotFound => 404,
        ErrorKind::Conflict => 409,
        ErrorKind::Expired => 410,
        ErrorKind::RateLimited => 429,
        ErrorKind::ProviderUnavailable => 503,
        _ => return injected(kind, "nothing was sent"),
    };
    let error =
        injected(kind, "refused before processing, nothing was sent").with_http_status(status);
    match kind {
        ErrorKind::ProviderUnavailable => error.with_retry_after(LookupFault::RETRY_AFTER),
        _ => error,
    }
}

/// Compares codes in constant time, so the time taken does not tell how much of a guess was
/// right.
fn same_code(expected: &Code, given: &Code) -> bool {
    let (a, b) = (expected.expose().as_bytes(), given.expose().as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl Default for InMemoryState {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for InMemoryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("InMemoryState")
            .field("verifications", &inner.flows.len())
            .field("sessions", &inner.sessions.len())
            .field("sent", &inner.outbox.len())
            .field("requests", &inner.counts)
            .field("clock_offset", &inner.clock_offset)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone() -> PhoneNumber {
        "+50762647737".parse().unwrap()
    }

    /// A refusal sends nothing, so a router that fails over after it delivers one code only.
    #[test]
    fn an_injected_refusal_sends_nothing() {
        let state = InMemoryState::seeded(1);
        for (kind, status) in [
            (ErrorKind::QuotaExhausted, Some(402)),
            (ErrorKind::Unauthorized, Some(401)),
            (ErrorKind::Blocked, Some(403)),
            (ErrorKind::RateLimited, Some(429)),
            (ErrorKind::InvalidInput, Some(400)),
            (ErrorKind::ProviderUnavailable, Some(503)),
            (ErrorKind::Transport, None),
            (ErrorKind::Timeout, None),
        ] {
            state.fail_next_send(kind);
            let err = state.send_code(&phone(), &Channel::Sms).err().unwrap();
            assert_eq!(err.kind(), kind);
            assert_eq!(err.http_status(), status, "{kind:?}");
            assert!(state.outbox().is_empty(), "{kind:?}: {:?}", state.outbox());
        }
        assert_eq!(state.request_counts().sends, 8);
    }

    /// A send that timed out is one the provider never took (a timeout of the send itself
    /// is `MaybeSent`), so a router fails over after it: nothing may be delivered, or the user
    /// gets two codes.
    #[test]
    fn a_timed_out_send_sends_nothing() {
        let state = InMemoryState::seeded(3);
        state.fail_next_send(ErrorKind::Timeout);
        let err = state.send_code(&phone(), &Channel::Sms).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(state.outbox().is_empty(), "{:?}", state.outbox());
        assert_eq!(state.request_counts().sends, 1);
    }

    /// A 503 refused with `Retry-After`; an answer lost or unreadable after the send (any
    /// kind that says a message may have gone out) leaves the code sent.
    #[test]
    fn only_a_lost_answer_leaves_a_code_sent() {
        let state = InMemoryState::seeded(2);
        state.fail_next_send(ErrorKind::ProviderUnavailable);
        let err = state.send_code(&phone(), &Channel::Sms).err().unwrap();
        assert_eq!(err.retry_after(), Some(LookupFault::RETRY_AFTER));
        assert!(state.outbox().is_empty());
        let lost = [
            ErrorKind::MaybeSent,
            ErrorKind::Decode,
            ErrorKind::OutcomeUnknown,
        ];
        for (n, kind) in lost.into_iter().enumerate() {
            state.fail_next_send(kind);
            let err = state.send_code(&phone(), &Channel::Sms).err().unwrap();
            assert_eq!(err.kind(), kind);
            assert_eq!(state.outbox().len(), n + 1, "{kind:?}");
        }
    }
}
