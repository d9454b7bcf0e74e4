#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
mod failover;
mod health;
#[cfg(any(doctest, test))]
mod non_exhaustive;
mod plan;
mod route;
mod router;
mod rules;
mod telemetry;

pub use error::{Attempt, AttemptOutcome, RoutingFailure, routing_failure};
pub use failover::{Decision, decide};
pub use health::{BreakerConfig, CircuitState, RecentError, RouteHealth};
pub use plan::{PlannedRoute, RouteStatus, StartPlan};
pub use route::{EXTRA_ROUTE, Route};
pub use router::{ROUTER_ID, Router, RouterBuilder, RouterConfig, UnknownRoute};
pub use rules::{Rule, Strategy};
