//! When a failed start moves on to the next route: the failover semantics by error kind.

use phone_verify_core::ErrorKind;

/// What the router does after a route's `start` failed with an error of some kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The provider surely did not send: try the next route.
    FailOver,
    /// The error is the answer (bad input, blocked number, …): return it, try nothing else.
    Stop,
    /// A message may have gone out: move on only if the router accepts a possible second
    /// message ([`RouterBuilder::allow_second_message`](crate::RouterBuilder::allow_second_message)).
    MaybeSent,
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
        | ErrorKind::Unsupported
        | ErrorKind::RateLimited => Decision::FailOver,
        // The send may have been processed: unknown outcome, or a 2xx answer we cannot read.
        ErrorKind::MaybeSent | ErrorKind::Decode => Decision::MaybeSent,
        // The answer is about the request or the number, and another provider would say the
        // same (or would send a second code while the first is valid); unknown kinds are not
        // guessed at.
        _ => Decision::Stop,
    }
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
            ErrorKind::RateLimited,
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
