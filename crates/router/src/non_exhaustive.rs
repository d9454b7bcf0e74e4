//! Checks, as doc tests that must not compile, that the types which may grow stay
//! `#[non_exhaustive]`: outside this crate, a `match` on [`Decision`](crate::Decision) needs
//! a wildcard arm, and [`RoutingFailure`](crate::RoutingFailure) and
//! [`UnknownRoute`](crate::UnknownRoute) cannot be built with a struct expression.
//!
//! ```compile_fail,E0004
//! use phone_verify_router::Decision;
//!
//! fn name(decision: Decision) -> &'static str {
//!     match decision {
//!         Decision::FailOver => "fail over",
//!         Decision::Stop => "stop",
//!         Decision::MaybeSent => "maybe sent",
//!         Decision::RateLimited => "rate limited",
//!     }
//! }
//! ```
//!
//! ```compile_fail,E0639
//! let _ = phone_verify_router::RoutingFailure { attempts: Vec::new() };
//! ```
//!
//! ```compile_fail,E0639
//! let _ = phone_verify_router::UnknownRoute { route: None };
//! ```
//!
//! The same code with a wildcard arm, or `..` in the pattern, compiles: the blocks above fail
//! for the attribute alone, not for a name that moved. The unit tests below list every variant
//! and field (exhaustive inside this crate), so that one added fails them until the lists here
//! are brought up to date.
//!
//! ```
//! use phone_verify_router::{Decision, RoutingFailure, UnknownRoute};
//!
//! fn name(decision: Decision) -> &'static str {
//!     match decision {
//!         Decision::FailOver => "fail over",
//!         Decision::Stop => "stop",
//!         Decision::MaybeSent => "maybe sent",
//!         Decision::RateLimited => "rate limited",
//!         _ => "other",
//!     }
//! }
//!
//! fn attempts(failure: &RoutingFailure) -> usize {
//!     let RoutingFailure { attempts, .. } = failure;
//!     attempts.len()
//! }
//!
//! fn route(unknown: &UnknownRoute) -> Option<&str> {
//!     let UnknownRoute { route, .. } = unknown;
//!     route.as_deref()
//! }
//! ```

#[cfg(test)]
mod tests {
    use crate::{Decision, RoutingFailure, UnknownRoute};

    #[test]
    fn the_lists_above_are_every_variant_and_field() {
        let name = |decision| match decision {
            Decision::FailOver => "fail over",
            Decision::Stop => "stop",
            Decision::MaybeSent => "maybe sent",
            Decision::RateLimited => "rate limited",
        };
        assert_eq!(name(Decision::Stop), "stop");
        let RoutingFailure { attempts } = RoutingFailure {
            attempts: Vec::new(),
        };
        let UnknownRoute { route } = UnknownRoute { route: None };
        assert!(attempts.is_empty() && route.is_none());
    }
}
