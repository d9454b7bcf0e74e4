//! When a failed start moves on to the next route: the failover semantics by error kind.

use phone_verify_core::{Error, ErrorKind};

/// What the router does after a route's `start` failed with an error of some kind. New
/// decisions may be added: a `match` on it needs a wildcard arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// The provider surely did not send: try the next route.
    FailOver,
    /// The error is the answer (bad input, blocked number, …): return it, try nothing else.
    Stop,
    /// A message may have gone out: move on only if the router accepts a possible second
    /// message ([`RouterBuilder::allow_second_message`](crate::RouterBuilder::allow_second_message)).
    MaybeSent,
    /// Nothing was sent, but the limit may be on this number or this user (a provider's
    /// per-number limit, a guard's denial): return the error, unless the router fails over on
    /// account-wide throttling
    /// ([`RouterBuilder::fail_over_on_rate_limit`](crate::RouterBuilder::fail_over_on_rate_limit))
    /// and a provider gave the refusal (a guard's denial carries no HTTP status: never).
    RateLimited,
}

/// The failover decision for a failed `start`, by error kind (the table in
/// `docs/architecture.md`, "Failover semantics").
///
/// ```
/// use phone_verify_core::ErrorKind;
/// use phone_verify_router::{Decision, decide};
///
/// assert_eq!(decide(ErrorKind::QuotaExhausted), Decision::FailOver);
/// assert_eq!(decide(ErrorKind::Blocked), Decision::Stop);
/// assert_eq!(decide(ErrorKind::MaybeSent), Decision::MaybeSent);
/// assert_eq!(decide(ErrorKind::RateLimited), Decision::RateLimited);
/// ```
pub fn decide(kind: ErrorKind) -> Decision {
    match kind {
        // Nothing was sent: the connection was never made (a refused connection stays
        // `Transport`), the provider refused before processing, or the account or route cannot
        // send. A timeout of the send itself is `MaybeSent` by the core contract, so `Timeout`
        // here is a request before the send (Verigator's user lookup).
        ErrorKind::Transport
        | ErrorKind::ProviderUnavailable
        | ErrorKind::Timeout
        | ErrorKind::QuotaExhausted
        | ErrorKind::Unauthorized
        | ErrorKind::Unsupported => Decision::FailOver,
        // Refused before processing, but providers use it for limits on one number (Twilio's
        // 60203, VerifyKit's 403015) and a guard for its denials: moving on would multiply a
        // per-number limit by the number of routes, and send a second code on a double click.
        ErrorKind::RateLimited => Decision::RateLimited,
        // The send may have been processed: unknown outcome, or a 2xx answer we cannot read.
        ErrorKind::MaybeSent | ErrorKind::Decode => Decision::MaybeSent,
        // The answer is about the request or the number, and another provider would say the
        // same (or would send a second code while the first is valid); unknown kinds are not
        // guessed at.
        _ => Decision::Stop,
    }
}

/// Whether a provider gave `error` in an answer (it carries the answer's HTTP status), rather
/// than the client or a layer in front of it refusing the request locally (bad input found
/// before any request, a guard's denial, which carries no status). The router fails over on a
/// rate limit only when a provider answered, and a refusal of the request counts for a route's
/// breaker only then.
pub(crate) fn answered(error: &Error) -> bool {
    error.http_status().is_some()
}

/// Whether an error says something about the route's health (counted by its circuit breaker),
/// rather than about the request. `RateLimited` does not: providers use it for limits on one
/// number too (Twilio's 60203 "Max send attempts reached", VerifyKit's 403015), and one user's
/// retries must not close a route for everyone.
pub(crate) fn is_route_failure(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Transport
            | ErrorKind::ProviderUnavailable
            | ErrorKind::Timeout
            | ErrorKind::QuotaExhausted
            | ErrorKind::Unauthorized
            | ErrorKind::MaybeSent
            | ErrorKind::OutcomeUnknown
            | ErrorKind::Decode
            | ErrorKind::Provider
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fails_over_only_when_nothing_was_sent() {
        for kind in [
            ErrorKind::Transport,
            ErrorKind::ProviderUnavailable,
            ErrorKind::QuotaExhausted,
            ErrorKind::Unauthorized,
            ErrorKind::Unsupported,
        ] {
            assert_eq!(decide(kind), Decision::FailOver, "{kind:?}");
        }
        for kind in [
            ErrorKind::InvalidInput,
            ErrorKind::Blocked,
            ErrorKind::Conflict,
            ErrorKind::NotFound,
            ErrorKind::Provider,
            ErrorKind::OutcomeUnknown,
        ] {
            assert_eq!(decide(kind), Decision::Stop, "{kind:?}");
        }
        assert_eq!(decide(ErrorKind::MaybeSent), Decision::MaybeSent);
        assert_eq!(decide(ErrorKind::Decode), Decision::MaybeSent);
    }

    /// A rate limit may be on the number: not a failover by default (the router's opt-in
    /// decides, and never for a refusal no provider gave).
    #[test]
    fn a_rate_limit_is_not_a_failover_by_default() {
        assert_eq!(decide(ErrorKind::RateLimited), Decision::RateLimited);
        let provider = Error::new(ErrorKind::RateLimited, "slow down").with_http_status(429);
        assert!(answered(&provider));
        let local = Error::new(
            ErrorKind::RateLimited,
            "guard rule resend_cooldown: too many",
        );
        assert!(!answered(&local));
    }

    #[test]
    fn request_errors_do_not_count_against_a_route() {
        assert!(is_route_failure(ErrorKind::Transport));
        assert!(!is_route_failure(ErrorKind::InvalidInput));
        assert!(!is_route_failure(ErrorKind::Blocked));
        assert!(!is_route_failure(ErrorKind::Unsupported));
        assert!(
            !is_route_failure(ErrorKind::RateLimited),
            "one number's limit"
        );
    }
}
