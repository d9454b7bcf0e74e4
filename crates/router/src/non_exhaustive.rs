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
