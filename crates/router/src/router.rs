//! [`Router`]: a [`PhoneVerifier`] and [`SessionResolver`] over named routes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use phone_verify_core::http::{Clock, SystemClock};
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Error, ErrorKind, PhoneVerifier, ProviderId,
    RejectReason, RequestContext, ResolvedSession, Result, SessionId, SessionResolver,
    StartRequest, Verification,
};
use serde::{Deserialize, Serialize};

use crate::error::{Attempt, AttemptOutcome, RoutingFailure};
use crate::failover::{Decision, answered, decide, is_route_failure};
use crate::health::{Admission, BreakerConfig, Call, Health, RouteHealth, Transition};
use crate::plan::{PlannedRoute, RouteStatus, StartPlan};
use crate::route::{EXTRA_ROUTE, Route, keeps_routes, popped, push_route, validate_name};
use crate::rules::{Rule, Strategy};
use crate::telemetry::{self, Labels};

/// The provider id a router reports when its routes use more than one provider.
pub const ROUTER_ID: ProviderId = ProviderId::new_static("router");

/// The data part of a router: rules, breaker and the failover opt-ins, readable with serde
/// (the facade's `RoutingConfig` has the same fields at its top level, beside its routes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RouterConfig {
    /// The rules, first match wins; none means every route, in order, with failover.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// The circuit breaker of every route.
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// Fail over after `MaybeSent` too, accepting that the user may get two messages.
    #[serde(default)]
    pub allow_second_message: bool,
    /// Fail over after a provider's `RateLimited` too: for account-wide throttling. It
    /// multiplies a provider's per-number limits by the number of routes; a refusal no provider
    /// gave (a guard's denial) is never failed over.
    #[serde(default)]
    pub fail_over_on_rate_limit: bool,
}

/// A handle that names an unknown route, or names none and no single route serves its
/// provider: the source of the `InvalidInput` error of
/// [`Router::check`](PhoneVerifier::check) for a handle this router cannot route.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownRoute {
    /// The route the handle names (`None`: the handle names no route).
    pub route: Option<String>,
}

impl std::fmt::Display for UnknownRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.route {
            Some(route) => write!(
                f,
                "the handle's route {route:?} is not one of this router's"
            ),
            None => write!(
                f,
                "the handle names no route, and not exactly one route of this router serves \
                 its provider"
            ),
        }
    }
}

impl std::error::Error for UnknownRoute {}

/// Builds a [`Router`].
#[derive(Debug)]
pub struct RouterBuilder {
    routes: Vec<Route>,
    config: RouterConfig,
    clock: Arc<dyn Clock>,
    provider_id: Option<ProviderId>,
}

impl RouterBuilder {
    /// Adds a route. Routes are tried in the order added when no rule says otherwise.
    #[must_use]
    pub fn route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    /// Adds a rule (first match wins).
    #[must_use]
    pub fn rule(mut self, rule: Rule) -> Self {
        self.config.rules.push(rule);
        self
    }

    /// Replaces rules, breaker and failover opt-ins with `config`.
    #[must_use]
    pub fn config(mut self, config: RouterConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets every route's circuit breaker.
    #[must_use]
    pub fn breaker(mut self, breaker: BreakerConfig) -> Self {
        self.config.breaker = breaker;
        self
    }

    /// Fails over after `MaybeSent` (the first provider may have sent a code): the user may
    /// then receive two messages, and pay for two. Off by default.
    #[must_use]
    pub fn allow_second_message(mut self, yes: bool) -> Self {
        self.config.allow_second_message = yes;
        self
    }

    /// Fails over after a provider's `RateLimited` answer (nothing was sent): for throttling
    /// of the whole account. Providers also answer `RateLimited` for limits on one number
    /// (Twilio's 60203, VerifyKit's 403015), which this multiplies by the number of routes
    /// (more codes to one number: SMS pumping), and a double click then gets a second code
    /// from the next route. A refusal no provider gave (without an HTTP status: a guard's
    /// denial) is returned all the same. Off by default: the error is returned, with its
    /// retry delay.
    #[must_use]
    pub fn fail_over_on_rate_limit(mut self, yes: bool) -> Self {
        self.config.fail_over_on_rate_limit = yes;
        self
    }

    /// The clock of the circuit breakers (cooldowns, error times); the system clock by default.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The id [`PhoneVerifier::provider`] reports. By default the routes' provider when they all
    /// use one, else [`ROUTER_ID`]; handles always carry the provider that started them.
    #[must_use]
    pub fn provider_id(mut self, id: ProviderId) -> Self {
        self.provider_id = Some(id);
        self
    }

    /// Checks routes and rules and builds the router. A route whose verifier reports
    /// [`ROUTER_ID`] (a router over several providers) is refused; a router over one provider
    /// is a route like its provider (see [`EXTRA_ROUTE`](crate::EXTRA_ROUTE)).
    pub fn build(self) -> Result<Router> {
        if self.routes.is_empty() {
            return Err(Error::invalid_input("a router needs at least one route"));
        }
        self.config.breaker.validate()?;
        let mut index = HashMap::new();
        let mut routes = Vec::with_capacity(self.routes.len());
        for route in self.routes {
            validate_name(&route.name)?;
            if index.insert(route.name.clone(), routes.len()).is_some() {
                return Err(Error::invalid_input(format!(
                    "route {:?} is defined twice",
                    route.name
                )));
            }
            let provider = route.verifier.provider();
            if provider == ROUTER_ID {
                return Err(Error::invalid_input(format!(
                    "route {:?}: its verifier reports provider {ROUTER_ID}, a router's over \
                     several providers, whose handles name providers other than the route's: \
                     such a router is not a route of another router (put every provider in one \
                     router)",
                    route.name
                )));
            }
            if let Some(resolver) = &route.resolver
                && resolver.provider() != provider
            {
                return Err(Error::invalid_input(format!(
                    "route {:?}: the resolver is for provider {}, the verifier for {provider}",
                    route.name,
                    resolver.provider()
                )));
            }
            routes.push(Entry {
                caps: route.verifier.capabilities(),
                provider,
                health: Health::new(self.config.breaker, self.clock.clone()),
                route,
            });
        }
        let implicit_rule = self.config.rules.is_empty();
        let mut rules = Vec::with_capacity(self.config.rules.len());
        for (i, rule) in self.config.rules.iter().enumerate() {
            // Errors count rules from 1, as a person reading the file does (and `phone-verify
            // routes` shows them).
            let number = i + 1;
            rule.validate(number)?;
            let mut members = Vec::with_capacity(rule.routes.len());
            for name in &rule.routes {
                let Some(&at) = index.get(name) else {
                    return Err(Error::invalid_input(format!(
                        "rule {number} names route {name:?}, which is not defined"
                    )));
                };
                if members.contains(&at) {
                    return Err(Error::invalid_input(format!(
                        "rule {number} lists route {name:?} twice"
                    )));
                }
                members.push(at);
            }
            let caps = union(members.iter().map(|at| &routes[*at]));
            offers_channels(number, rule, &caps)?;
            rules.push(CompiledRule {
                weights: rule.weights.iter().map(|w| i64::from(*w)).collect(),
                rule: rule.clone(),
                caps,
                members,
                turns: Mutex::new(HashMap::new()),
            });
        }
        let caps = union(&routes);
        if rules.is_empty() {
            rules.push(CompiledRule {
                rule: Rule::to(routes.iter().map(|e| e.route.name.clone())),
                members: (0..routes.len()).collect(),
                caps: caps.clone(),
                turns: Mutex::new(HashMap::new()),
                weights: Vec::new(),
            });
        }
        let mut resolve_order: Vec<usize> = Vec::new();
        for at in rules
            .iter()
            .flat_map(|r| r.members.iter().copied())
            .chain(0..routes.len())
        {
            if routes[at].route.resolver.is_some() && !resolve_order.contains(&at) {
                resolve_order.push(at);
            }
        }
        let id = self.provider_id.unwrap_or_else(|| {
            let first = &routes[0].provider;
            if routes.iter().all(|e| &e.provider == first) {
                first.clone()
            } else {
                ROUTER_ID
            }
        });
        Ok(Router {
            id,
            caps,
            routes,
            index,
            rules,
            resolve_order,
            implicit_rule,
            allow_second_message: self.config.allow_second_message,
            fail_over_on_rate_limit: self.config.fail_over_on_rate_limit,
        })
    }
}

/// Refuses a channel of rule `number` (from 1) that none of its routes offers (`caps`, theirs together),
/// for codes or in reverse: a start on it could never be routed by the rule (a typo such as
/// `whatsap` is a channel of its own, which no route has).
fn offers_channels(number: usize, rule: &Rule, caps: &Capabilities) -> Result<()> {
    let Some(missing) = rule.channels.iter().find(|c| !caps.supports(c)) else {
        return Ok(());
    };
    let mut offered: Vec<&str> = Vec::new();
    for c in caps.otp_channels.iter().chain(&caps.reverse_channels) {
        if !offered.contains(&c.as_str()) {
            offered.push(c.as_str());
        }
    }
    Err(Error::invalid_input(format!(
        "rule {number}: channel {:?} is offered by none of its routes {:?} (they offer {})",
        missing.as_str().chars().take(16).collect::<String>(),
        rule.routes,
        if offered.is_empty() {
            "no channel".to_owned()
        } else {
            offered.join(", ")
        }
    )))
}

/// The capabilities of `routes` together (the router's, or a rule's): what any route can do,
/// except `check_returns_session`, promised only when every route's checks return a session.
fn union<'a>(routes: impl IntoIterator<Item = &'a Entry>) -> Capabilities {
    let mut caps = Capabilities::new().with_check_returns_session(true);
    for e in routes {
        caps.check_returns_session &= e.caps.check_returns_session;
        for c in &e.caps.otp_channels {
            caps = caps.with_otp_channel(c.clone());
        }
        for c in &e.caps.reverse_channels {
            caps = caps.with_reverse_channel(c.clone());
        }
        caps.qr_code |= e.caps.qr_code;
        caps.session_resolution |= e.caps.session_resolution && e.route.resolver.is_some();
        caps.localized_messages |= e.caps.localized_messages;
    }
    caps
}

#[derive(Debug)]
struct Entry {
    route: Route,
    caps: Capabilities,
    provider: ProviderId,
    health: Health,
}

/// The most sets of eligible routes a rule keeps turns for. The sets come from the routes'
/// capabilities and the requests' channels, so there are few; past the bound a new set starts
/// from its first route every time.
const MAX_TURN_SETS: usize = 64;

#[derive(Debug)]
struct CompiledRule {
    rule: Rule,
    members: Vec<usize>,
    /// What the rule's routes can do together: a start they cannot take is refused with
    /// core's reason.
    caps: Capabilities,
    /// The round-robin turn and the weighted split of each set of the rule's routes that could
    /// take a start (positions in `members`): a route that cannot take some requests does not
    /// skew the split of those it can.
    turns: Mutex<HashMap<Vec<usize>, Turn>>,
    weights: Vec<i64>,
}

/// One set of eligible routes' place in the rotation.
#[derive(Debug, Default, Clone)]
struct Turn {
    /// Round-robin: the next start's first route.
    next: usize,
    /// Smooth weighted round-robin: the current weights.
    current: Vec<i64>,
}

impl CompiledRule {
    /// The routes of `eligible` (positions in `members`, in the rule's order, not empty) in
    /// the order to try them for one start; `take_turn` moves the round-robin turn and the
    /// weighted split of that set on (a start), else they are only read (a plan).
    fn order(&self, eligible: &[usize], take_turn: bool) -> Vec<usize> {
        let n = eligible.len();
        let first = match self.rule.strategy {
            Strategy::Failover => 0,
            Strategy::RoundRobin | Strategy::Weighted => {
                let mut turns = self
                    .turns
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let mut turn = turns.get(eligible).cloned().unwrap_or_default();
                let first = self.step(&mut turn, eligible);
                if take_turn && (turns.len() < MAX_TURN_SETS || turns.contains_key(eligible)) {
                    turns.insert(eligible.to_vec(), turn);
                }
                first
            }
        };
        let mut order = Vec::with_capacity(n);
        order.push(eligible[first]);
        match self.rule.strategy {
            Strategy::RoundRobin => order.extend((1..n).map(|k| eligible[(first + k) % n])),
            Strategy::Failover | Strategy::Weighted => order.extend(
                eligible
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != first)
                    .map(|(_, m)| *m),
            ),
        }
        order.into_iter().map(|at| self.members[at]).collect()
    }

    /// The first of `eligible` for this start, `turn` moved on past it.
    fn step(&self, turn: &mut Turn, eligible: &[usize]) -> usize {
        let n = eligible.len();
        if self.rule.strategy == Strategy::RoundRobin {
            let first = turn.next % n;
            turn.next = (first + 1) % n;
            return first;
        }
        turn.current.resize(n, 0);
        let mut total = 0;
        let mut best = 0;
        for (i, at) in eligible.iter().enumerate() {
            let weight = self.weights[*at];
            total += weight;
            turn.current[i] += weight;
            if turn.current[i] > turn.current[best] {
                best = i;
            }
        }
        turn.current[best] -= total;
        best
    }
}

/// A start in flight on a route: if its caller drops it before its result, the route's health
/// records it ([`Health::abandoned`]: a timeout once it ran long enough, else nothing, a probe
/// giving its place to the next start), with the metrics a failed start has.
struct InFlight<'a> {
    entry: &'a Entry,
    labels: Labels<'a>,
    call: Call,
    began: Instant,
    armed: bool,
}

impl InFlight<'_> {
    /// The start ended with a result, after the time returned: nothing to record on drop.
    fn ended(&mut self) -> Duration {
        self.armed = false;
        self.began.elapsed()
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let took = self.began.elapsed();
        let route = self.entry.route.name.as_str();
        let Some((error, transition)) = self.entry.health.abandoned(took, self.call) else {
            tracing::debug!(route, "start dropped by its caller; not counted");
            return;
        };
        telemetry::latency(self.labels, "start", took);
        tracing::warn!(route, error = %error, "start dropped by its caller; counted as a timeout");
        if transition == Transition::Opened {
            telemetry::circuit_opened(self.labels);
            tracing::warn!(route, error = %error, "circuit opened");
        }
    }
}

/// A [`PhoneVerifier`] and [`SessionResolver`] over named [`Route`]s, with rules, failover,
/// circuit breakers and health. See the crate documentation.
#[derive(Debug)]
pub struct Router {
    id: ProviderId,
    caps: Capabilities,
    routes: Vec<Entry>,
    index: HashMap<String, usize>,
    rules: Vec<CompiledRule>,
    resolve_order: Vec<usize>,
    /// No rule was configured: the one rule is every route, in order.
    implicit_rule: bool,
    allow_second_message: bool,
    fail_over_on_rate_limit: bool,
}

impl Router {
    /// A builder with no routes, no rules, the default breaker and the system clock.
    pub fn builder() -> RouterBuilder {
        RouterBuilder {
            routes: Vec::new(),
            config: RouterConfig::default(),
            clock: Arc::new(SystemClock),
            provider_id: None,
        }
    }

    /// The provider id both [`PhoneVerifier::provider`] and [`SessionResolver::provider`]
    /// report ([`RouterBuilder::provider_id`]), callable with both traits in scope.
    /// Through an `Arc` or a `Box`, both traits' methods are found before this one: write
    /// `(*shared).provider()`.
    pub fn provider(&self) -> ProviderId {
        self.id.clone()
    }

    /// A snapshot of every route's health, in the order the routes were added.
    pub fn health(&self) -> Vec<RouteHealth> {
        self.routes
            .iter()
            .map(|e| e.health.snapshot(&e.route.name, e.provider.as_str()))
            .collect()
    }

    /// The routes, in the order added.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter().map(|e| &e.route)
    }

    /// The route that started `verification`, or why there is none: the handle names an
    /// unknown route, or the route's provider is not the handle's. A handle that names no
    /// route (started by the provider alone, before the application moved to a router) goes
    /// to the one route of its provider; with none, or several, it has no route. A handle
    /// that keeps `route.N` keys is not matched with its route's provider: it is taken for a
    /// handle of a router nested as the route (which may report an id of its own), and the
    /// route's verifier checks it (a nested router against its own route).
    pub fn route_of(&self, verification: &Verification) -> Result<&Route> {
        self.entry_of(verification).map(|e| &e.route)
    }

    fn entry_of(&self, verification: &Verification) -> Result<&Entry> {
        let unknown = |route: Option<&str>| {
            let source = UnknownRoute {
                route: route.map(str::to_owned),
            };
            Error::new(ErrorKind::InvalidInput, source.to_string()).with_source(source)
        };
        let Some(name) = verification.extra_str(EXTRA_ROUTE) else {
            let mut of_provider = self
                .routes
                .iter()
                .filter(|e| e.provider == verification.provider);
            return match (of_provider.next(), of_provider.next()) {
                (Some(entry), None) => Ok(entry),
                _ => Err(unknown(None)),
            };
        };
        let entry = self
            .index
            .get(name)
            .map(|at| &self.routes[*at])
            .ok_or_else(|| unknown(Some(name)))?;
        // A handle that keeps routes went through a router nested as this route, which checks
        // the provider against its own route (its id may be a label of its own).
        if !keeps_routes(verification) {
            verification.ensure_provider(&entry.provider)?;
        }
        Ok(entry)
    }

    /// The rule that decides `request` and its index, or the refusal `start` gives.
    fn matching_rule(&self, request: &StartRequest) -> Result<(usize, &CompiledRule)> {
        request.validate(&self.caps)?;
        self.rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.rule.matches(request))
            .ok_or_else(|| {
                Error::unsupported(format!(
                    "no routing rule matches a {} start to {}",
                    request.channel,
                    request
                        .phone
                        .as_ref()
                        .and_then(|p| p.region())
                        .unwrap_or("no phone"),
                ))
            })
    }

    /// How the next start of `request` would be routed, without starting anything or moving
    /// round-robin turns and weighted splits on: the matching rule, and every route with
    /// whether it would be tried (in order) or why not. Fails like
    /// [`start`](PhoneVerifier::start) when the router cannot take the request at all (a
    /// channel no route has, a phone no rule matches).
    pub fn plan(&self, request: &StartRequest) -> Result<StartPlan> {
        let (at, rule) = self.matching_rule(request)?;
        let mut routes = Vec::with_capacity(self.routes.len());
        let eligible = self.eligible(rule, request);
        let order = if eligible.is_empty() {
            Vec::new()
        } else {
            rule.order(&eligible, false)
        };
        for i in order {
            let e = &self.routes[i];
            let status = match e.health.peek() {
                Admission::Skip => RouteStatus::CircuitOpen,
                Admission::Go | Admission::Probe => RouteStatus::Candidate,
            };
            routes.push(PlannedRoute::new(&e.route.name, e.provider.clone(), status));
        }
        for &i in &rule.members {
            let e = &self.routes[i];
            if let Err(err) = request.validate(&e.caps) {
                let status = RouteStatus::CannotTake(err.message().to_owned());
                routes.push(PlannedRoute::new(&e.route.name, e.provider.clone(), status));
            }
        }
        for (i, e) in self.routes.iter().enumerate() {
            if !rule.members.contains(&i) {
                let status = RouteStatus::NotInRule;
                routes.push(PlannedRoute::new(&e.route.name, e.provider.clone(), status));
            }
        }
        Ok(StartPlan {
            rule: (!self.implicit_rule).then_some(at),
            strategy: rule.rule.strategy,
            routes,
        })
    }

    /// The positions in `rule.members` of the routes whose capabilities can take `request`.
    fn eligible(&self, rule: &CompiledRule, request: &StartRequest) -> Vec<usize> {
        rule.members
            .iter()
            .enumerate()
            .filter(|(_, at)| request.validate(&self.routes[**at].caps).is_ok())
            .map(|(i, _)| i)
            .collect()
    }

    /// The candidate routes for `request`, in order; refused before any request when none fits:
    /// with core's reason when the rule's routes together cannot take it (a phone on a channel
    /// they take only in reverse), else because no one of them can.
    fn candidates(&self, request: &StartRequest) -> Result<Vec<usize>> {
        let (_, rule) = self.matching_rule(request)?;
        request.validate(&rule.caps)?;
        let eligible = self.eligible(rule, request);
        if eligible.is_empty() {
            return Err(Error::unsupported(format!(
                "no route of the matching rule can start {} (routes {:?})",
                request.channel, rule.rule.routes
            )));
        }
        Ok(rule.order(&eligible, true))
    }
}

fn labels<'a>(e: &'a Entry, channel: &'a Channel) -> Labels<'a> {
    Labels {
        route: &e.route.name,
        provider: e.provider.as_str(),
        channel: telemetry::channel_label(channel),
    }
}

fn reason_name(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::WrongCode => "wrong_code",
        RejectReason::Expired => "expired",
        RejectReason::TooManyAttempts => "too_many_attempts",
        RejectReason::NotFound => "not_found",
        _ => "other",
    }
}

#[async_trait]
impl PhoneVerifier for Router {
    fn provider(&self) -> ProviderId {
        Self::provider(self)
    }

    fn capabilities(&self) -> Capabilities {
        self.caps.clone()
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        let order = self.candidates(request)?;
        let channel = request.channel.as_str();
        let phone = request
            .phone
            .as_ref()
            .map(phone_verify_core::PhoneNumber::masked);
        let mut attempts = Vec::new();
        // The route error the answer stands for: the first that may have sent, else the last.
        let (mut sent, mut last): (Option<Error>, Option<Error>) = (None, None);
        // The shortest cooldown left of the skipped routes; `None` once one is not known.
        let mut wait = Some(Duration::MAX);
        for at in order {
            let e = &self.routes[at];
            let route = e.route.name.as_str();
            let l = labels(e, &request.channel);
            let admission = e.health.admit();
            if admission == Admission::Skip {
                tracing::info!(route, phone, channel, "route skipped: circuit open");
                wait = wait
                    .zip(e.health.skipped_for())
                    .map(|(w, left)| w.min(left));
                attempts.push(Attempt {
                    route: route.to_owned(),
                    outcome: AttemptOutcome::Skipped,
                    message: None,
                });
                continue;
            }
            let call = Call::start(admission);
            telemetry::started(l);
            let mut in_flight = InFlight {
                entry: e,
                labels: l,
                call,
                began: Instant::now(),
                armed: true,
            };
            let result = e.route.verifier.start(request).await;
            let took = in_flight.ended();
            telemetry::latency(l, "start", took);
            match result {
                Ok(mut handle) => {
                    if e.health.success(took, call) == Transition::Closed {
                        tracing::info!(route, "circuit closed after a successful probe");
                    }
                    if let Some(n) = push_route(&mut handle.extras, route) {
                        // A router over one provider nested as a route, or a provider writing
                        // the router's key: its check gets the value back.
                        tracing::debug!(
                            route,
                            phone,
                            channel,
                            provider = e.provider.as_str(),
                            "the handle already carried extras.route: kept as route.{n}"
                        );
                    }
                    tracing::debug!(route, phone, channel, "started");
                    return Ok(handle);
                }
                Err(err) => {
                    let kind = err.kind();
                    if e.health.failure(&err, took, call) == Transition::Opened {
                        telemetry::circuit_opened(l);
                        tracing::warn!(route, error = %err, "circuit opened");
                    }
                    let decision = decide(kind);
                    let go_on = match decision {
                        Decision::FailOver => true,
                        Decision::MaybeSent => self.allow_second_message,
                        Decision::RateLimited => self.fail_over_on_rate_limit && answered(&err),
                        Decision::Stop => false,
                    };
                    let attempt = Attempt {
                        route: route.to_owned(),
                        outcome: AttemptOutcome::Failed(kind),
                        message: Some(err.to_string()),
                    };
                    if !go_on && sent.is_some() {
                        // An earlier route may have sent a code: this answer must not hide it.
                        tracing::warn!(route, phone, channel, error = %err, "start failed after a route that may have sent");
                        attempts.push(attempt);
                        break;
                    }
                    if !go_on {
                        tracing::info!(route, phone, channel, error = %err, "start failed; no failover for this error");
                        return Err(err);
                    }
                    tracing::warn!(route, phone, channel, error = %err, "start failed; trying the next route");
                    telemetry::failed_over(l, kind.as_str());
                    attempts.push(attempt);
                    if decision == Decision::MaybeSent && sent.is_none() {
                        sent = Some(err);
                    } else {
                        last = Some(err);
                    }
                }
            }
        }
        let decisive = sent.as_ref().or(last.as_ref());
        let error = RoutingFailure { attempts }.into_error(decisive, wait);
        tracing::warn!(phone, channel, error = %error, "no route could start");
        Err(error)
    }

    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        let e = self.entry_of(verification)?;
        let l = labels(e, &verification.channel);
        let began = Instant::now();
        let below = popped(verification);
        let handle = below.as_ref().unwrap_or(verification);
        let result = e.route.verifier.check(handle, request).await;
        let took = began.elapsed();
        telemetry::latency(l, "check", took);
        match &result {
            Ok(outcome) => {
                e.health.success(took, Call::Check);
                match outcome {
                    CheckOutcome::Verified(_) => telemetry::verified(l),
                    CheckOutcome::Rejected(r) => telemetry::rejected(l, reason_name(r.reason)),
                    _ => {}
                }
            }
            Err(err) => {
                e.health.failure(err, took, Call::Check);
            }
        }
        result
    }
}

#[async_trait]
impl SessionResolver for Router {
    fn provider(&self) -> ProviderId {
        Self::provider(self)
    }

    /// Tries the resolvers in rule order, moving on when a provider does not know the session
    /// (`NotFound`), says the id cannot be one of its own (`InvalidInput`: each provider has
    /// its own id shape), or could not be asked (an outage, a rate limit: another provider may
    /// have the session). When none found it, the first outage or rate limit is the answer
    /// (the session may be at that provider); else the last `NotFound`, or the last
    /// `InvalidInput` when no resolver answered `NotFound`; `Unsupported` when no route
    /// resolves sessions.
    async fn resolve(
        &self,
        session: &SessionId,
        context: &RequestContext,
    ) -> Result<ResolvedSession> {
        let mut outage: Option<Error> = None;
        let mut last: Option<Error> = None;
        for &at in &self.resolve_order {
            let e = &self.routes[at];
            let Some(resolver) = &e.route.resolver else {
                continue;
            };
            match resolver.resolve(session, context).await {
                Ok(found) => return Ok(found),
                Err(err) if matches!(err.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput) => {
                    tracing::debug!(route = e.route.name.as_str(), error = %err, "session not at this route");
                    // A "not found" says more than "not my shape": keep it for the answer.
                    if err.kind() == ErrorKind::NotFound
                        || last
                            .as_ref()
                            .is_none_or(|l: &Error| l.kind() != ErrorKind::NotFound)
                    {
                        last = Some(err);
                    }
                }
                Err(err)
                    if is_route_failure(err.kind()) || err.kind() == ErrorKind::RateLimited =>
                {
                    tracing::warn!(route = e.route.name.as_str(), error = %err, "session resolution failed at this route; asking the next");
                    outage.get_or_insert(err);
                }
                Err(err) => return Err(err),
            }
        }
        Err(outage
            .or(last)
            .unwrap_or_else(|| Error::unsupported("no route of this router resolves sessions")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A verifier that offers its capabilities and does nothing: the builder reads no more.
    #[derive(Debug)]
    struct Offers(Capabilities);

    #[async_trait]
    impl PhoneVerifier for Offers {
        fn provider(&self) -> ProviderId {
            ProviderId::new_static("stub")
        }

        fn capabilities(&self) -> Capabilities {
            self.0.clone()
        }

        async fn start(&self, _: &StartRequest) -> Result<Verification> {
            Err(Error::unsupported("the stub starts nothing"))
        }

        async fn check(&self, _: &Verification, _: &CheckRequest) -> Result<CheckOutcome> {
            Err(Error::unsupported("the stub checks nothing"))
        }
    }

    /// Routes `a` (SMS and voice codes) and `b` (WhatsApp reverse flows only), with `rule`.
    fn build_with(rule: Rule) -> Result<Router> {
        let a = Capabilities::new()
            .with_otp_channel(Channel::Sms)
            .with_otp_channel(Channel::Voice);
        let b = Capabilities::new().with_reverse_channel(Channel::WhatsApp);
        Router::builder()
            .route(Route::new("a", Arc::new(Offers(a))))
            .route(Route::new("b", Arc::new(Offers(b))))
            .rule(rule)
            .build()
    }

    /// Build errors count rules from 1, in the configuration's order, as `phone-verify routes`
    /// shows them: the second rule is "rule 2". (They counted from 0: "rule 1" named the
    /// second rule in one message and the first in the other.)
    #[test]
    fn build_errors_count_rules_from_one() {
        let router = |second: Rule| {
            Router::builder()
                .route(Route::new("a", Arc::new(Offers(Capabilities::new()))))
                .rule(Rule::to(["a"]).regions(["TR"]))
                .rule(second)
                .build()
                .unwrap_err()
        };
        for (second, shown) in [
            (Rule::to(["a"]).regions(["UK"]), "rule 2: region "),
            (Rule::to(["missing"]), "rule 2 names route \"missing\""),
            (Rule::to(["a", "a"]), "rule 2 lists route \"a\" twice"),
        ] {
            let err = router(second);
            assert!(err.message().starts_with(shown), "{err}");
        }
    }

    #[test]
    fn a_rule_language_that_is_not_a_primary_subtag_is_refused_at_build() {
        let err = build_with(Rule::to(["a"]).languages(["pt-BR"])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("\"pt-BR\""), "{err}");
        assert!(build_with(Rule::to(["a"]).languages(["pt"])).is_ok());
    }

    /// A calling code no region of libphonenumber's metadata uses (`4400` for `44`, `5`, `0`)
    /// would never match a phone: the rule is refused, naming it, rather than letting its
    /// starts fall through to a later rule.
    #[test]
    fn a_rule_calling_code_no_region_uses_is_refused_at_build() {
        let build = |codes: &[u16]| {
            Router::builder()
                .route(Route::new("a", Arc::new(Offers(Capabilities::new()))))
                .rule(Rule::to(["a"]).calling_codes(codes.iter().copied()))
                .build()
        };
        for (codes, bad) in [
            (&[4400][..], 4400),
            (&[90, 5][..], 5),
            (&[0][..], 0),
            (&[999][..], 999),
            (&[440][..], 440),
        ] {
            let err = build(codes).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{codes:?}: {err}");
            assert!(
                err.message()
                    .starts_with(&format!("rule 1: calling code {bad} ")),
                "{codes:?}: {err}"
            );
        }
        // A region's code, and a non-geographic one a phone can carry (+800, +882: no region).
        for codes in [&[90][..], &[1], &[7, 44, 57, 599], &[800, 882, 979]] {
            assert!(build(codes).is_ok(), "{codes:?}");
        }
    }

    #[test]
    fn a_rule_channel_none_of_its_routes_offers_is_refused_at_build() {
        let typo = Channel::other("whatsap").unwrap();
        let err = build_with(Rule::to(["a", "b"]).channels([Channel::Sms, typo])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.message().starts_with("rule 1: channel \"whatsap\"")
                && err.message().contains("sms, voice, whatsapp"),
            "{err}"
        );
        // Another route of the router offers it, but not one of the rule's.
        let err = build_with(Rule::to(["a"]).channels([Channel::WhatsApp])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        // A channel a route of the rule offers, for codes or in reverse, builds.
        let rule = Rule::to(["a", "b"]).channels([Channel::Voice, Channel::WhatsApp]);
        assert!(build_with(rule).is_ok());
    }

    #[test]
    fn provider_is_callable_with_both_traits_in_scope() {
        let router = build_with(Rule::to(["a", "b"])).unwrap();
        assert_eq!(router.provider(), ProviderId::new_static("stub"));
        assert_eq!(PhoneVerifier::provider(&router), router.provider());
        assert_eq!(SessionResolver::provider(&router), router.provider());
        let named = Router::builder()
            .route(Route::new("a", Arc::new(Offers(Capabilities::new()))))
            .provider_id(ROUTER_ID)
            .build()
            .unwrap();
        assert_eq!(named.provider(), ROUTER_ID);
    }

    #[test]
    fn rejections_are_labelled_by_their_reason() {
        let labels: Vec<&str> = [
            RejectReason::WrongCode,
            RejectReason::Expired,
            RejectReason::TooManyAttempts,
            RejectReason::NotFound,
        ]
        .into_iter()
        .map(reason_name)
        .collect();
        assert_eq!(
            labels,
            ["wrong_code", "expired", "too_many_attempts", "not_found"]
        );
    }
}
