//! The in-memory provider: the smallest complete [`PhoneVerifier`], and the example to read
//! before writing a provider.
//!
//! [`InMemoryVerifier`] is the client; [`InMemoryState`] plays the provider's servers, where
//! every call counts as a request. It sends 6-digit codes from a CSPRNG by SMS, WhatsApp and
//! voice into an outbox, checks them (single use, 10-minute expiry on an advanceable clock,
//! 5 wrong attempts), runs a reverse WhatsApp flow with a deeplink, and resolves the session
//! ids it returns on success. Handles are portable: any verifier sharing the state checks them.
//! Lookups (polls, resolutions) that fail for a while (a 503, a 429, a connection reset) are
//! retried, after the provider's `Retry-After` or a backoff; sends and code checks never are.
//!
//! ```
//! use phone_verify_core::{PhoneVerifier, PhoneVerifierExt, StartRequest};
//! use phone_verify_testkit::memory::InMemoryVerifier;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let verifier = InMemoryVerifier::new();
//! let handle = verifier.start(&StartRequest::sms("+507 6264 7737".parse()?)).await?;
//! let code = verifier.state().message_for(&handle.reference).unwrap().code;
//!
//! // Another client, e.g. in another process, given the handle's JSON:
//! let handle = phone_verify_core::Verification::from_json(&handle.to_json()?)?;
//! let outcome = verifier.clone_fresh().check_code(&handle, &code).await?;
//! assert!(outcome.is_verified());
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

mod errors;
mod harness;
mod state;

use std::sync::Arc;

use async_trait::async_trait;
use phone_verify_core::http::{Clock, Jitter, RandomJitter, RetryPolicy, SystemClock};
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Error, ErrorKind, PhoneVerifier, ProviderId,
    RequestContext, ResolvedSession, Result, ReverseFlow, SessionId, SessionResolver, StartRequest,
    Verification,
};

pub use errors::{REQUEST_ID_HEADER, documented_errors};
pub use harness::InMemoryHarness;
pub use state::{InMemoryState, SentMessage};

/// A [`PhoneVerifier`] and [`SessionResolver`] backed by an [`InMemoryState`].
///
/// The verifier itself holds nothing but a pointer to the state, as a real client holds
/// nothing but credentials: everything `check` needs is in the handle.
#[derive(Debug)]
pub struct InMemoryVerifier {
    state: InMemoryState,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
}

impl InMemoryVerifier {
    /// The provider id in every handle: `memory`.
    pub const PROVIDER: ProviderId = errors::PROVIDER;
    /// The length of the codes it sends.
    pub const CODE_LENGTH: usize = 6;

    /// A verifier with a provider of its own.
    pub fn new() -> Self {
        Self::with_state(InMemoryState::new())
    }

    /// A verifier with a provider of its own whose codes are reproducible from `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Self::with_state(InMemoryState::seeded(seed))
    }

    /// A verifier for an existing provider state.
    pub fn with_state(state: InMemoryState) -> Self {
        Self {
            state,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Sets how lookups (polls, resolutions) are retried when the provider is unavailable;
    /// by default as the HTTP providers do ([`RetryPolicy::default`]).
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the timer that waits between lookup attempts (by default the real one), e.g.
    /// to skip the waits in a test.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// A new, separate client for the same provider, as another process would create, with
    /// this one's retry policy and clock.
    #[must_use]
    pub fn clone_fresh(&self) -> Self {
        Self::with_state(self.state.clone())
            .with_retry(self.retry)
            .with_clock(Arc::clone(&self.clock))
    }

    /// The provider's state: outbox, counters, clock and fault injection.
    pub fn state(&self) -> &InMemoryState {
        &self.state
    }

    /// The provider id both [`PhoneVerifier::provider`] and [`SessionResolver::provider`]
    /// report ([`PROVIDER`](Self::PROVIDER)), callable with both traits in scope.
    /// Through an `Arc` or a `Box`, both traits' methods are found before this one: write
    /// `(*shared).provider()`.
    pub fn provider(&self) -> ProviderId {
        Self::PROVIDER
    }

    /// Contract 6, safe retries only: a lookup changes nothing at the provider, so `call` is
    /// made again while the provider is unavailable (a 503), limits the rate (a 429) or the
    /// connection failed before an answer, after its `Retry-After` (else a backoff), as the
    /// retry policy allows.
    async fn lookup<T>(&self, call: impl Fn() -> Result<T>) -> Result<T> {
        let mut attempts = 1;
        loop {
            let err = match call() {
                Err(err)
                    if matches!(
                        err.kind(),
                        ErrorKind::ProviderUnavailable
                            | ErrorKind::RateLimited
                            | ErrorKind::Transport
                    ) =>
                {
                    err
                }
                done => return done,
            };
            let jitter = RandomJitter.sample();
            let Some(wait) = self.retry.next_delay(attempts, err.retry_after(), jitter) else {
                return Err(err);
            };
            self.clock.sleep(wait).await;
            attempts += 1;
        }
    }
}

impl Default for InMemoryVerifier {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl PhoneVerifier for InMemoryVerifier {
    fn provider(&self) -> ProviderId {
        Self::provider(self)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .with_otp_channel(Channel::Sms)
            .with_otp_channel(Channel::WhatsApp)
            .with_otp_channel(Channel::Voice)
            .with_reverse_channel(Channel::WhatsApp)
            .with_session_resolution(true)
            .with_check_returns_session(true)
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        // Contract 1, input first: refuse what the capabilities do not allow before the
        // provider hears of it. After `validate`, a request with a phone is a code on an OTP
        // channel, and one without a phone a reverse flow (WhatsApp is both here).
        request.validate(&self.capabilities())?;

        // Contract 2: one call, one send, never retried.
        let started = match &request.phone {
            Some(phone) => self.state.send_code(phone, &request.channel)?,
            None => self.state.open_reverse(&request.channel),
        };

        // Contract 4: the handle holds everything a check needs (here, the reference).
        let handle = Verification::new(Self::PROVIDER, started.reference, request.channel.clone())
            .with_created_at(started.created_at)
            .with_expires_at(started.expires_at);
        Ok(match &request.phone {
            Some(phone) => handle.with_phone(phone.clone()),
            None => handle.with_reverse(ReverseFlow::new(started.deeplink, None)),
        })
    }

    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        // Contract 1: our handles only, with a reference and a code of our shape, before
        // asking the provider (a reference of another shape could reach another path).
        verification.ensure_provider(&Self::PROVIDER)?;
        if !own_id(&verification.reference, "ver_") {
            return Err(Error::invalid_input(
                "not a verification reference of this provider",
            ));
        }
        let code = if verification.reverse.is_some() {
            if request.code.is_some() {
                return Err(Error::invalid_input(
                    "a reverse flow is polled without a code",
                ));
            }
            None
        } else {
            let code = request.require_code()?;
            if code.expose().len() != Self::CODE_LENGTH || !code.is_numeric() {
                return Err(Error::invalid_input(format!(
                    "codes of this provider are {} digits",
                    Self::CODE_LENGTH
                )));
            }
            Some(code)
        };
        // Contract 3: wrong, expired, used up or unknown are outcomes, not errors.
        match code {
            Some(code) => self.state.check(&verification.reference, Some(code)),
            None => {
                self.lookup(|| self.state.check(&verification.reference, None))
                    .await
            }
        }
    }
}

#[async_trait]
impl SessionResolver for InMemoryVerifier {
    fn provider(&self) -> ProviderId {
        Self::provider(self)
    }

    async fn resolve(
        &self,
        session: &SessionId,
        _context: &RequestContext,
    ) -> Result<ResolvedSession> {
        // Session ids are `ses_` and 32 hex digits: refuse anything else before asking.
        let id = session.as_str();
        if !own_id(id, "ses_") {
            return Err(Error::invalid_input("not a session id of this provider"));
        }
        self.lookup(|| self.state.resolve(id)).await
    }
}

/// Whether `id` is one this provider hands out: `prefix` and 32 hex digits.
fn own_id(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 32
        && id.starts_with(prefix)
        && id[prefix.len()..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_is_callable_with_both_traits_in_scope() {
        let verifier = InMemoryVerifier::new();
        assert_eq!(verifier.provider(), InMemoryVerifier::PROVIDER);
        assert_eq!(PhoneVerifier::provider(&verifier), verifier.provider());
        assert_eq!(SessionResolver::provider(&verifier), verifier.provider());
    }
}
