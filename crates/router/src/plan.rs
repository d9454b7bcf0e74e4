//! [`StartPlan`]: how a router would route the next start of a request, and why
//! ([`Router::plan`](crate::Router::plan)).

use std::fmt;

use phone_verify_core::ProviderId;

use crate::rules::Strategy;

/// Whether a route would be tried for a start, or why not.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteStatus {
    /// Tried, in its place among the candidates (after the ones before it failed over).
    Candidate,
    /// In the matching rule, but its circuit is open: skipped, not tried.
    CircuitOpen,
    /// In the matching rule, but its capabilities cannot take the request (why).
    CannotTake(String),
    /// Not in the matching rule.
    NotInRule,
}

impl fmt::Display for RouteStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Candidate => f.write_str("candidate"),
            Self::CircuitOpen => f.write_str("skipped: circuit open"),
            Self::CannotTake(why) => write!(f, "filtered out: {why}"),
            Self::NotInRule => f.write_str("not in the matching rule"),
        }
    }
}

/// A route in a [`StartPlan`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedRoute {
    /// The route's name.
    pub route: String,
    /// The provider of the route's verifier.
    pub provider: ProviderId,
    /// Whether it would be tried.
    pub status: RouteStatus,
}

impl PlannedRoute {
    pub(crate) fn new(route: &str, provider: ProviderId, status: RouteStatus) -> Self {
        Self {
            route: route.to_owned(),
            provider,
            status,
        }
    }
}

/// How a router would route the next start of a request: the rule that matched, and every
/// route: first the rule's routes that can take the request, in the order they would be tried,
/// then the rule's routes that cannot, then the others.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartPlan {
    /// The index of the matching rule among the configured ones; `None` when the router has
    /// no rules (every route, in the order added, with failover).
    pub rule: Option<usize>,
    /// The matching rule's strategy.
    pub strategy: Strategy,
    /// Every route of the router: the rule's that can take the request in try order (with an
    /// open circuit or not), the rule's that cannot, then those not in the rule.
    pub routes: Vec<PlannedRoute>,
}

impl StartPlan {
    /// The routes that would be tried, in order.
    pub fn candidates(&self) -> impl Iterator<Item = &PlannedRoute> {
        self.routes
            .iter()
            .filter(|r| r.status == RouteStatus::Candidate)
    }
}
