//! [`RoutingFailure`]: every attempt of a start that no route completed.

use std::fmt;
use std::time::Duration;

use phone_verify_core::{Error, ErrorKind};

use crate::failover::{Decision, decide};

/// Why a route was left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// The route's circuit was open: it was skipped, not tried.
    Skipped,
    /// The route was tried and failed with this kind.
    Failed(ErrorKind),
}

/// One route's part in a start.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// The route's name.
    pub route: String,
    /// What happened.
    pub outcome: AttemptOutcome,
    /// The route's error, one line (none when skipped).
    pub message: Option<String>,
}

/// The source of the error a start returns when every candidate route failed or was skipped:
/// each route's attempt, in order. Reach it with `std::error::Error::source` and
/// `downcast_ref`, or through [`routing_failure`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoutingFailure {
    /// The attempts, in the order made.
    pub attempts: Vec<Attempt>,
}

impl fmt::Display for RoutingFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "every route failed: ")?;
        for (i, attempt) in self.attempts.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            match &attempt.outcome {
                AttemptOutcome::Skipped => write!(f, "{} skipped (circuit open)", attempt.route)?,
                AttemptOutcome::Failed(kind) => write!(f, "{} {kind}", attempt.route)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for RoutingFailure {}

impl RoutingFailure {
    /// The error a start returns, with this failure as its source: [`ErrorKind::MaybeSent`]
    /// if any route may have sent a message (a later route's error must not hide a code that
    /// may be on its way), else of the kind of the last route's error (`ProviderUnavailable`
    /// when every route was skipped).
    ///
    /// `decisive` is the route error the answer stands for (the first that may have sent, else
    /// the last): its provider, provider code and message, HTTP status, request id and retry
    /// delay are kept. `cooldown` is, when every route was skipped, how long until the first
    /// circuit lets a probe through, if known: the retry delay.
    pub(crate) fn into_error(self, decisive: Option<&Error>, cooldown: Option<Duration>) -> Error {
        let failed = || {
            self.attempts.iter().rev().filter_map(|a| match a.outcome {
                AttemptOutcome::Failed(kind) => Some(kind),
                AttemptOutcome::Skipped => None,
            })
        };
        let kind = if failed().any(|kind| decide(kind) == Decision::MaybeSent) {
            ErrorKind::MaybeSent
        } else {
            failed().next().unwrap_or(ErrorKind::ProviderUnavailable)
        };
        let mut error = Error::new(kind, self.to_string());
        match decisive {
            Some(route) => error = with_metadata_of(error, route),
            None => {
                if let Some(delay) = cooldown {
                    error = error.with_retry_after(delay);
                }
            }
        }
        error.with_source(self)
    }
}

/// `error` with what the provider's answer gave `route` (provider, its code and message, the
/// HTTP status, request id and retry delay).
fn with_metadata_of(mut error: Error, route: &Error) -> Error {
    if let Some(provider) = route.provider() {
        error = error.with_provider(provider.clone());
    }
    if let Some(code) = route.provider_code() {
        error = error.with_provider_code(code);
    }
    if let Some(text) = route.provider_message() {
        error = error.with_provider_message(text);
    }
    if let Some(status) = route.http_status() {
        error = error.with_http_status(status);
    }
    if let Some(id) = route.request_id() {
        error = error.with_request_id(id);
    }
    if let Some(delay) = route.retry_after() {
        error = error.with_retry_after(delay);
    }
    error
}

/// The attempts behind `error`, if it is a router's "every route failed" error.
pub fn routing_failure(error: &Error) -> Option<&RoutingFailure> {
    std::error::Error::source(error).and_then(|s| s.downcast_ref::<RoutingFailure>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_route_and_takes_the_last_kind() {
        let failure = RoutingFailure {
            attempts: vec![
                Attempt {
                    route: "a".into(),
                    outcome: AttemptOutcome::Failed(ErrorKind::QuotaExhausted),
                    message: Some("out of balance".into()),
                },
                Attempt {
                    route: "b".into(),
                    outcome: AttemptOutcome::Skipped,
                    message: None,
                },
                Attempt {
                    route: "c".into(),
                    outcome: AttemptOutcome::Failed(ErrorKind::Transport),
                    message: Some("refused".into()),
                },
            ],
        };
        let error = failure.clone().into_error(None, None);
        assert_eq!(error.kind(), ErrorKind::Transport);
        assert_eq!(routing_failure(&error), Some(&failure));
        assert_eq!(
            failure.to_string(),
            "every route failed: a quota exhausted; b skipped (circuit open); c transport failure"
        );
        let text = error.to_string();
        assert!(text.contains("a quota"), "{text}");
        assert!(text.contains("b skipped"), "{text}");
        let skipped = RoutingFailure {
            attempts: vec![failure.attempts[1].clone()],
        };
        assert_eq!(
            skipped.into_error(None, None).kind(),
            ErrorKind::ProviderUnavailable
        );
        assert!(routing_failure(&Error::invalid_input("x")).is_none());
    }

    #[test]
    fn a_route_that_may_have_sent_makes_the_whole_start_maybe_sent() {
        let attempt = |route: &str, kind| Attempt {
            route: route.into(),
            outcome: AttemptOutcome::Failed(kind),
            message: None,
        };
        for first in [ErrorKind::MaybeSent, ErrorKind::Decode] {
            let failure = RoutingFailure {
                attempts: vec![
                    attempt("a", first),
                    attempt("b", ErrorKind::ProviderUnavailable),
                ],
            };
            let error = failure.into_error(None, None);
            assert_eq!(error.kind(), ErrorKind::MaybeSent, "after {first:?}");
            assert!(!error.is_retryable());
        }
    }

    /// The answer keeps what the decisive route's error carries; with every route skipped,
    /// the retry delay is the shortest cooldown left.
    #[test]
    fn the_answer_keeps_the_decisive_routes_metadata() {
        let failure = RoutingFailure {
            attempts: vec![Attempt {
                route: "a".into(),
                outcome: AttemptOutcome::Failed(ErrorKind::RateLimited),
                message: Some("too many".into()),
            }],
        };
        let route = Error::new(ErrorKind::RateLimited, "too many requests")
            .with_provider(phone_verify_core::ProviderId::new_static("twilio"))
            .with_provider_code("20429")
            .with_provider_message("Too Many Requests")
            .with_http_status(429)
            .with_request_id("r1")
            .with_retry_after(Duration::from_secs(7));
        let error = failure
            .clone()
            .into_error(Some(&route), Some(Duration::from_secs(60)));
        assert_eq!(error.kind(), ErrorKind::RateLimited);
        assert_eq!(
            error.provider().map(phone_verify_core::ProviderId::as_str),
            Some("twilio")
        );
        assert_eq!(error.provider_code(), Some("20429"));
        assert_eq!(error.provider_message(), Some("Too Many Requests"));
        assert_eq!(error.http_status(), Some(429));
        assert_eq!(error.request_id(), Some("r1"));
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(routing_failure(&error), Some(&failure));

        let skipped = RoutingFailure {
            attempts: vec![Attempt {
                route: "a".into(),
                outcome: AttemptOutcome::Skipped,
                message: None,
            }],
        };
        let error = skipped.into_error(None, Some(Duration::from_secs(40)));
        assert_eq!(error.kind(), ErrorKind::ProviderUnavailable);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(40)));
        assert_eq!(error.provider(), None);
    }
}
