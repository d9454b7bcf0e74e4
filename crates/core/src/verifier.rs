//! The two traits every provider implements: [`PhoneVerifier`] and [`SessionResolver`].

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Result;
use crate::outcome::CheckOutcome;
use crate::provider::{Capabilities, ProviderId};
use crate::request::{CheckRequest, RequestContext, StartRequest};
use crate::session::{ResolvedSession, SessionId};
use crate::verification::Verification;

/// Starts verifications and checks them.
///
/// Applications hold it as `Arc<dyn PhoneVerifier>` and switch providers without code changes;
/// conveniences live in [`PhoneVerifierExt`](crate::PhoneVerifierExt).
///
/// # Contract
///
/// Every implementation, and the testkit's conformance suite checks these:
///
/// 1. **Input first.** `start` refuses a request its [`Capabilities`] do not allow (see
///    [`StartRequest::validate`]) and `check` refuses a handle of another provider, both with
///    [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) or
///    [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) and without any network request.
/// 2. **A send happens at most once.** `start` sends at most one message and is never retried
///    automatically; when its outcome is unknown it fails with
///    [`ErrorKind::MaybeSent`](crate::ErrorKind::MaybeSent).
/// 3. **Outcomes, not errors.** A wrong, expired, exhausted or unknown code is
///    `Ok(CheckOutcome::Rejected(..))`; a reverse flow the user has not completed is
///    `Ok(CheckOutcome::Pending)`. Errors are for failures of the request itself.
/// 4. **Portable handles.** The [`Verification`] returned by `start` holds everything `check`
///    needs: a check from a fresh verifier in another process, given the handle's JSON, gives
///    the same outcome.
/// 5. **The phone as reported.** `Verified` carries the phone the provider reports when it
///    reports one.
/// 6. **Safe retries only.** Nothing that sends a message is retried. A code check uses up the
///    code (or one of its attempts), so it is retried only when the request surely never
///    reached the provider or was refused unprocessed (no connection, a refused HTTP/2
///    stream, a 429 or a 503 with `Retry-After`); when its answer is lost it fails with
///    [`ErrorKind::OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown), never `Rejected`.
///    Polls of a reverse flow and other lookups are reads, and may be retried.
/// 7. **No secrets out.** Credentials and codes never appear in `Debug`, errors or logs, and
///    phone numbers are masked in logs.
/// 8. **A dropped call is not undone.** Dropping a call's future (a timeout or `select!` of
///    the caller's) leaves its effect unknown: a `start` dropped after its first poll may have
///    sent (treat it as [`MaybeSent`](crate::ErrorKind::MaybeSent); a guard keeps it counted),
///    a code check dropped in flight may have used the code (treat it as
///    [`OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown)). Keep the SDK's timeouts shorter
///    than any deadline the caller puts around a call, so that its typed errors, failover and
///    circuit breakers see them.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PhoneVerifier: Send + Sync + Debug {
    /// The provider's id, stored in every handle this verifier creates.
    fn provider(&self) -> ProviderId;

    /// What this verifier can do.
    fn capabilities(&self) -> Capabilities;

    /// Starts a verification: sends a code, or opens a reverse flow.
    async fn start(&self, request: &StartRequest) -> Result<Verification>;

    /// Checks a code, or polls a reverse flow when `request.code` is `None`.
    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome>;
}

/// Resolves a session id, given to the backend by a web or mobile client, into the verified
/// phone, on the server side where the client cannot tamper with it.
///
/// # Contract
///
/// 1. A session the provider does not know fails with
///    [`ErrorKind::NotFound`](crate::ErrorKind::NotFound); one that is known but not verified
///    with [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) or
///    [`ErrorKind::Expired`](crate::ErrorKind::Expired), never with a phone.
/// 2. A malformed session id (of a shape the provider's ids never have, such as one holding a
///    `/`, `?`, `#` or `%`) fails with
///    [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request. One the
///    client cannot tell from a real id (the provider does not document its ids' length, say)
///    may be sent, whole as one value (one percent-encoded path segment, or a field of the
///    body), never split into a path, and then fails with
///    [`ErrorKind::NotFound`](crate::ErrorKind::NotFound). Neither is ever resolved.
/// 3. Resolution is a read: implementations retry it on transient failures.
/// 4. Providers without sessions do not implement this trait (and say
///    `session_resolution: false` in their [`Capabilities`]).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SessionResolver: Send + Sync + Debug {
    /// The provider's id.
    fn provider(&self) -> ProviderId;

    /// Resolves `session` into the phone the provider verified.
    async fn resolve(
        &self,
        session: &SessionId,
        context: &RequestContext,
    ) -> Result<ResolvedSession>;
}

/// The future every method of the two traits returns (what `#[async_trait]` makes of them).
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

// `Arc<dyn PhoneVerifier>` is how applications hold a verifier, and method lookup finds these
// impls first: they hand back the inner verifier's future as it is, so calling through the
// pointer costs no second allocation and no second state machine.
macro_rules! forward_impls {
    ($($ptr:ident),*) => {$(
        impl<T: PhoneVerifier + ?Sized> PhoneVerifier for $ptr<T> {
            fn provider(&self) -> ProviderId {
                (**self).provider()
            }
            fn capabilities(&self) -> Capabilities {
                (**self).capabilities()
            }
            fn start<'life0, 'life1, 'async_trait>(
                &'life0 self,
                request: &'life1 StartRequest,
            ) -> BoxFuture<'async_trait, Verification>
            where
                'life0: 'async_trait,
                'life1: 'async_trait,
                Self: 'async_trait,
            {
                (**self).start(request)
            }
            fn check<'life0, 'life1, 'life2, 'async_trait>(
                &'life0 self,
                verification: &'life1 Verification,
                request: &'life2 CheckRequest,
            ) -> BoxFuture<'async_trait, CheckOutcome>
            where
                'life0: 'async_trait,
                'life1: 'async_trait,
                'life2: 'async_trait,
                Self: 'async_trait,
            {
                (**self).check(verification, request)
            }
        }

        impl<T: SessionResolver + ?Sized> SessionResolver for $ptr<T> {
            fn provider(&self) -> ProviderId {
                (**self).provider()
            }
            fn resolve<'life0, 'life1, 'life2, 'async_trait>(
                &'life0 self,
                session: &'life1 SessionId,
                context: &'life2 RequestContext,
            ) -> BoxFuture<'async_trait, ResolvedSession>
            where
                'life0: 'async_trait,
                'life1: 'async_trait,
                'life2: 'async_trait,
                Self: 'async_trait,
            {
                (**self).resolve(session, context)
            }
        }
    )*};
}

forward_impls!(Arc, Box);
