//! Per-route health: a circuit breaker and a snapshot of recent errors and latency.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use phone_verify_core::http::Clock;
use phone_verify_core::{Error, ErrorKind};
use serde::{Deserialize, Serialize};

/// When a route's circuit opens, and for how long.
///
/// A route opens after `consecutive_failures` failures in a row, or when at least
/// `error_rate_min_calls` of its last `window` calls were made and the share that failed
/// reaches `error_rate`. Open, it is skipped for `cooldown`; then one start is let through as a
/// probe (half-open): success closes the circuit, failure opens it for another cooldown. Only
/// errors about the route count ([`ErrorKind`]s such as `Transport`, `ProviderUnavailable`,
/// `QuotaExhausted`), not refusals of the request, nor `RateLimited` (a limit may be on one
/// number). A refusal the provider gave (with an HTTP status) counts as a success: the route
/// answered; one made before any request (bad input, a guard's denial) counts as nothing.
/// If the clock reads earlier than when the circuit opened (it was stepped back), the cooldown
/// starts again from the clock's reading: the route waits one more cooldown, not the step.
///
/// A start its caller drops before it ends (a `tokio::time::timeout`, a tower timeout, a
/// client that went away) counts as a `Timeout` failure once it ran for `abandoned_after`;
/// dropped sooner, it counts as nothing. Keep the SDK's own timeouts (`Timeouts`, 10 s a try
/// and 30 s overall by default) shorter than any deadline the application puts around a call,
/// so that the route's own error reaches the router and the caller.
///
/// Breakers, like every other part of a router's state (health, round-robin turns, weighted
/// splits), live in each [`Router`](crate::Router) and are not shared: with `N` instances of
/// an application, a dead provider takes up to `N × consecutive_failures` failed starts per
/// cooldown, [`Router::health`](crate::Router::health) shows one instance's view, and every
/// new instance begins its rotation at the first route of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct BreakerConfig {
    /// Failures in a row that open the circuit (0 turns this trigger off).
    pub consecutive_failures: u32,
    /// The share of failed calls in the window that opens the circuit, in `(0, 1]` (0 turns this
    /// trigger off).
    pub error_rate: f64,
    /// The number of latest calls the error rate is computed over, at most
    /// [`MAX_WINDOW`](Self::MAX_WINDOW).
    pub window: u32,
    /// The fewest calls in the window before the error rate is considered.
    pub error_rate_min_calls: u32,
    /// How long an open circuit skips the route before a probe.
    #[serde(with = "secs")]
    pub cooldown: Duration,
    /// How long a start must have run, when its caller drops it, to count as a `Timeout`
    /// failure of its route (a probe's re-opens the circuit); a start dropped sooner counts as
    /// nothing. [`Duration::ZERO`] counts no dropped start. Keep the SDK's own timeouts
    /// shorter than any deadline the application puts around a call.
    #[serde(with = "secs")]
    pub abandoned_after: Duration,
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            error_rate: 0.5,
            window: 20,
            error_rate_min_calls: 10,
            cooldown: Duration::from_secs(30),
            abandoned_after: Duration::from_secs(5),
        }
    }
}

impl BreakerConfig {
    /// The largest `window` a router is built with: 10,000 calls. Each route keeps its window
    /// and reads all of it on every failed start, so a larger one is refused when the router is
    /// built ([`ErrorKind::InvalidInput`] naming `window`).
    pub const MAX_WINDOW: u32 = 10_000;

    /// Sets the failures in a row that open the circuit.
    #[must_use]
    pub fn consecutive_failures(mut self, n: u32) -> Self {
        self.consecutive_failures = n;
        self
    }

    /// Sets the error-rate trigger: `rate` of the last `window` calls, once `min_calls` were made.
    #[must_use]
    pub fn error_rate(mut self, rate: f64, window: u32, min_calls: u32) -> Self {
        self.error_rate = rate;
        self.window = window;
        self.error_rate_min_calls = min_calls;
        self
    }

    /// Sets the cooldown.
    #[must_use]
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Sets how long a start its caller drops must have run to count as a failure
    /// ([`Duration::ZERO`]: never).
    #[must_use]
    pub fn abandoned_after(mut self, after: Duration) -> Self {
        self.abandoned_after = after;
        self
    }

    pub(crate) fn validate(&self) -> phone_verify_core::Result<()> {
        // Checked whether or not the error-rate trigger is on: the window is kept either way
        // (it is the health snapshot's error rate).
        if self.window > Self::MAX_WINDOW {
            return Err(phone_verify_core::Error::invalid_input(format!(
                "breaker window must be at most {} calls, not {}",
                Self::MAX_WINDOW,
                self.window
            )));
        }
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(phone_verify_core::Error::invalid_input(
                "breaker error_rate must be between 0 and 1",
            ));
        }
        if self.error_rate > 0.0 && self.window == 0 {
            return Err(phone_verify_core::Error::invalid_input(
                "breaker window must be at least 1 call",
            ));
        }
        if self.error_rate > 0.0 && self.error_rate_min_calls > self.window {
            return Err(phone_verify_core::Error::invalid_input(format!(
                "breaker error_rate_min_calls ({}) must not exceed its window ({} calls): the \
                 window never holds more, so the error rate would never be considered",
                self.error_rate_min_calls, self.window
            )));
        }
        Ok(())
    }
}

/// The state of a route's circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CircuitState {
    /// Starts go to the route.
    Closed,
    /// The route is skipped until the cooldown ends.
    Open,
    /// The cooldown ended: one probe start is (or may be) in flight.
    HalfOpen,
}

/// A recent error of a route.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecentError {
    /// When it happened, on the router's clock.
    pub at: SystemTime,
    /// Its kind.
    pub kind: ErrorKind,
    /// Its one-line text (no codes, secrets or full phone numbers: provider errors never
    /// carry them).
    pub message: String,
}

/// A snapshot of one route's health, from [`Router::health`](crate::Router::health).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RouteHealth {
    /// The route's name.
    pub route: String,
    /// The route's provider.
    pub provider: String,
    /// The circuit's state.
    pub state: CircuitState,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// The share of failures in the breaker's window (0 when it is empty).
    pub error_rate: f64,
    /// The latest errors, oldest first (at most 10).
    pub recent_errors: Vec<RecentError>,
    /// The median latency of the latest calls (at most 128), if any were made.
    pub latency_p50: Option<Duration>,
    /// Calls made through the route since the router was built.
    pub calls: u64,
}

const RECENT_ERRORS: usize = 10;

/// `part / whole` for window counts (a window holds at most `u32::MAX` calls).
fn ratio(part: usize, whole: usize) -> f64 {
    let as_f64 = |n: usize| f64::from(u32::try_from(n).unwrap_or(u32::MAX));
    as_f64(part) / as_f64(whole)
}
const LATENCIES: usize = 128;

#[derive(Debug)]
struct State {
    circuit: CircuitState,
    opened_at: Option<SystemTime>,
    probe_in_flight: bool,
    consecutive: u32,
    window: VecDeque<bool>,
    recent: VecDeque<RecentError>,
    latencies: VecDeque<Duration>,
    calls: u64,
}

/// What the breaker says about a start on its route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Closed: go.
    Go,
    /// Half-open: this start is the probe.
    Probe,
    /// Open (or a probe is in flight): skip the route.
    Skip,
}

/// Whether a breaker transition happened on a recorded result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    None,
    Opened,
    Closed,
}

/// What a call's result may do to a route's circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    /// A check: it never moves the circuit.
    Check,
    /// A start let through while the circuit was closed.
    Start,
    /// The one start let through a half-open circuit: only its result closes or re-opens it.
    Probe,
}

impl Call {
    /// The call of a start admitted with `admission`.
    pub(crate) fn start(admission: Admission) -> Self {
        if admission == Admission::Probe {
            Self::Probe
        } else {
            Self::Start
        }
    }
}

/// One route's breaker and statistics.
#[derive(Debug)]
pub(crate) struct Health {
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl Health {
    pub(crate) fn new(config: BreakerConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            clock,
            state: Mutex::new(State {
                circuit: CircuitState::Closed,
                opened_at: None,
                probe_in_flight: false,
                consecutive: 0,
                window: VecDeque::new(),
                recent: VecDeque::new(),
                latencies: VecDeque::new(),
                calls: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves counters, never broken invariants.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Asks to send a start through the route.
    pub(crate) fn admit(&self) -> Admission {
        let mut s = self.lock();
        match s.circuit {
            CircuitState::Closed => Admission::Go,
            CircuitState::Open => {
                let now = self.clock.now();
                // A clock stepped back behind the opening: the cooldown starts again now.
                if let Some(at) = s.opened_at
                    && now < at
                {
                    s.opened_at = Some(now);
                }
                if self
                    .cooldown_left(&s, now)
                    .is_none_or(|left| left.is_zero())
                {
                    s.circuit = CircuitState::HalfOpen;
                    s.probe_in_flight = true;
                    Admission::Probe
                } else {
                    Admission::Skip
                }
            }
            CircuitState::HalfOpen if s.probe_in_flight => Admission::Skip,
            CircuitState::HalfOpen => {
                s.probe_in_flight = true;
                Admission::Probe
            }
        }
    }

    /// What [`admit`](Self::admit) would answer now, without changing anything (no probe is
    /// taken).
    pub(crate) fn peek(&self) -> Admission {
        let s = self.lock();
        match s.circuit {
            CircuitState::Closed => Admission::Go,
            CircuitState::Open => {
                if self
                    .cooldown_left(&s, self.clock.now())
                    .is_none_or(|left| left.is_zero())
                {
                    Admission::Probe
                } else {
                    Admission::Skip
                }
            }
            CircuitState::HalfOpen if s.probe_in_flight => Admission::Skip,
            CircuitState::HalfOpen => Admission::Probe,
        }
    }

    /// How long an open circuit still skips the route at `now` (`None`: not open, or open
    /// since no known time). A clock behind the opening leaves a whole cooldown.
    fn cooldown_left(&self, s: &State, now: SystemTime) -> Option<Duration> {
        if s.circuit != CircuitState::Open {
            return None;
        }
        let at = s.opened_at?;
        Some(match now.duration_since(at) {
            Ok(elapsed) => self.config.cooldown.saturating_sub(elapsed),
            Err(_) => self.config.cooldown,
        })
    }

    /// How long until a route [`admit`](Self::admit) skipped lets a probe through, if known:
    /// `None` while its probe is out (it may answer any moment).
    pub(crate) fn skipped_for(&self) -> Option<Duration> {
        let s = self.lock();
        self.cooldown_left(&s, self.clock.now())
    }

    /// Records a start of `call` its caller dropped after `took`, before its result: a
    /// `Timeout` failure of the route once it ran for `abandoned_after` (the error is
    /// returned, with the transition), else nothing, except that a probe gives its place to
    /// the next start.
    pub(crate) fn abandoned(&self, took: Duration, call: Call) -> Option<(Error, Transition)> {
        let after = self.config.abandoned_after;
        if after.is_zero() || took < after {
            if call == Call::Probe {
                self.lock().probe_in_flight = false;
            }
            return None;
        }
        let error = Error::new(
            ErrorKind::Timeout,
            format!("start dropped by its caller after {} ms", took.as_millis()),
        );
        let transition = self.failure(&error, took, call);
        Some((error, transition))
    }

    /// Records a success of `call`.
    pub(crate) fn success(&self, latency: Duration, call: Call) -> Transition {
        let mut s = self.lock();
        Self::sample(&mut s, latency);
        if call == Call::Check {
            return Transition::None;
        }
        drop(s);
        self.success_breaker(call)
    }

    /// A start that went through. Only the probe closes a half-open circuit: a start let
    /// through before the circuit opened, answering late, says nothing of the route now.
    fn success_breaker(&self, call: Call) -> Transition {
        let mut s = self.lock();
        s.consecutive = 0;
        self.push_window(&mut s, true);
        if s.circuit == CircuitState::HalfOpen && call == Call::Probe {
            s.circuit = CircuitState::Closed;
            s.probe_in_flight = false;
            s.opened_at = None;
            s.window.clear();
            return Transition::Closed;
        }
        Transition::None
    }

    /// Records an error of `call`; only route failures of starts count against the circuit,
    /// and only a refusal the provider gave counts for it.
    pub(crate) fn failure(&self, error: &Error, latency: Duration, call: Call) -> Transition {
        let now = self.clock.now();
        let mut s = self.lock();
        Self::sample(&mut s, latency);
        if s.recent.len() == RECENT_ERRORS {
            s.recent.pop_front();
        }
        s.recent.push_back(RecentError {
            at: now,
            kind: error.kind(),
            message: error.to_string(),
        });
        if call == Call::Check {
            return Transition::None;
        }
        if !crate::failover::is_route_failure(error.kind()) {
            if crate::failover::answered(error) {
                // The route answered: a refusal of the request proves it as well as a success.
                drop(s);
                return self.success_breaker(call);
            }
            // Refused before any request reached the provider: nothing is known of the route.
            // A probe gives its place to the next start; the circuit stays half-open.
            if call == Call::Probe {
                s.probe_in_flight = false;
            }
            return Transition::None;
        }
        s.consecutive = s.consecutive.saturating_add(1);
        self.push_window(&mut s, false);
        let trip = match s.circuit {
            // Only the probe's failure re-opens it (a late start's says nothing of now).
            CircuitState::HalfOpen => call == Call::Probe,
            CircuitState::Open => false,
            CircuitState::Closed => {
                let by_count = self.config.consecutive_failures > 0
                    && s.consecutive >= self.config.consecutive_failures;
                let calls = s.window.len();
                let failed = s.window.iter().filter(|ok| !**ok).count();
                let by_rate = self.config.error_rate > 0.0
                    && calls >= self.config.error_rate_min_calls as usize
                    && calls > 0
                    && ratio(failed, calls) >= self.config.error_rate;
                by_count || by_rate
            }
        };
        if trip {
            s.circuit = CircuitState::Open;
            s.opened_at = Some(now);
            s.probe_in_flight = false;
            return Transition::Opened;
        }
        Transition::None
    }

    fn sample(s: &mut State, latency: Duration) {
        s.calls += 1;
        if s.latencies.len() == LATENCIES {
            s.latencies.pop_front();
        }
        s.latencies.push_back(latency);
    }

    fn push_window(&self, s: &mut State, ok: bool) {
        let window = self.config.window.max(1) as usize;
        while s.window.len() >= window {
            s.window.pop_front();
        }
        s.window.push_back(ok);
    }

    /// The snapshot of the route.
    pub(crate) fn snapshot(&self, route: &str, provider: &str) -> RouteHealth {
        let s = self.lock();
        let mut latencies: Vec<Duration> = s.latencies.iter().copied().collect();
        latencies.sort_unstable();
        let latency_p50 = (!latencies.is_empty()).then(|| latencies[(latencies.len() - 1) / 2]);
        let failed = s.window.iter().filter(|ok| !**ok).count();
        let error_rate = if s.window.is_empty() {
            0.0
        } else {
            ratio(failed, s.window.len())
        };
        RouteHealth {
            route: route.to_owned(),
            provider: provider.to_owned(),
            state: s.circuit,
            consecutive_failures: s.consecutive,
            error_rate,
            recent_errors: s.recent.iter().cloned().collect(),
            latency_p50,
            calls: s.calls,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use phone_verify_core::http::Sleep;

    /// A clock that moves only when told.
    #[derive(Debug)]
    pub(crate) struct ManualClock(Mutex<SystemTime>);

    impl ManualClock {
        pub(crate) fn new() -> Arc<Self> {
            // Far enough from the epoch for the clock to be set back.
            Arc::new(Self(Mutex::new(
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
            )))
        }
        pub(crate) fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
        pub(crate) fn set_back(&self, by: Duration) {
            *self.0.lock().unwrap() -= by;
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> SystemTime {
            *self.0.lock().unwrap()
        }
        fn sleep(&self, duration: Duration) -> Sleep {
            self.advance(duration);
            Box::pin(std::future::ready(()))
        }
    }

    const MS: Duration = Duration::from_millis(1);

    /// A configuration file's breaker: the cooldown in (fractional) seconds, the other
    /// fields defaulted, an unknown field refused; and the checks `validate` makes.
    #[test]
    fn breaker_configuration_read_and_checked() {
        let config: BreakerConfig =
            serde_json::from_str(r#"{"cooldown": 1.5, "consecutive_failures": 2}"#).unwrap();
        assert_eq!(config.cooldown, Duration::from_millis(1500));
        assert_eq!(config.consecutive_failures, 2);
        assert_eq!(config.window, BreakerConfig::default().window);
        assert!(serde_json::from_str::<BreakerConfig>(r#"{"cooldown": -1}"#).is_err());
        assert!(serde_json::from_str::<BreakerConfig>(r#"{"cooldwn": 1}"#).is_err());
        let valid = |config: BreakerConfig| config.validate().is_ok();
        // With the error rate off, its window and minimum are not looked at.
        assert!(valid(BreakerConfig::default().error_rate(0.0, 0, 5)));
        assert!(!valid(BreakerConfig::default().error_rate(0.5, 0, 0)));
        assert!(!valid(BreakerConfig::default().error_rate(0.5, 10, 11)));
        assert!(valid(BreakerConfig::default().error_rate(0.5, 10, 10)));
        assert!(valid(BreakerConfig::default().error_rate(1.0, 1, 1)));
        assert!(!valid(BreakerConfig::default().error_rate(1.01, 10, 1)));
        assert!(!valid(BreakerConfig::default().error_rate(-0.1, 10, 1)));
    }

    fn fail(h: &Health, call: Call) -> Transition {
        h.failure(&Error::new(ErrorKind::Transport, "down"), MS, call)
    }

    #[test]
    fn opens_after_consecutive_failures_and_closes_after_a_probe() {
        let clock = ManualClock::new();
        let config = BreakerConfig::default()
            .consecutive_failures(3)
            .error_rate(0.0, 10, 0)
            .cooldown(Duration::from_secs(30));
        let h = Health::new(config, clock.clone());
        assert_eq!(fail(&h, Call::Start), Transition::None);
        assert_eq!(fail(&h, Call::Start), Transition::None);
        assert_eq!(h.admit(), Admission::Go);
        assert_eq!(fail(&h, Call::Start), Transition::Opened);
        assert_eq!(h.admit(), Admission::Skip);
        clock.advance(Duration::from_secs(29));
        assert_eq!(h.admit(), Admission::Skip);
        clock.advance(Duration::from_secs(1));
        assert_eq!(h.admit(), Admission::Probe);
        assert_eq!(h.admit(), Admission::Skip, "one probe at a time");
        assert_eq!(h.snapshot("a", "p").state, CircuitState::HalfOpen);
        assert_eq!(h.success(MS, Call::Probe), Transition::Closed);
        assert_eq!(h.admit(), Admission::Go);
        assert_eq!(h.snapshot("a", "p").state, CircuitState::Closed);
    }

    #[test]
    fn a_failed_probe_reopens_for_another_cooldown() {
        let clock = ManualClock::new();
        let config = BreakerConfig::default()
            .consecutive_failures(1)
            .cooldown(Duration::from_secs(10));
        let h = Health::new(config, clock.clone());
        assert_eq!(fail(&h, Call::Start), Transition::Opened);
        clock.advance(Duration::from_secs(10));
        assert_eq!(h.admit(), Admission::Probe);
        assert_eq!(fail(&h, Call::Probe), Transition::Opened);
        clock.advance(Duration::from_secs(9));
        assert_eq!(h.admit(), Admission::Skip);
    }

    /// A probe dropped before its result (its caller gave up) frees the half-open circuit for
    /// the next start to probe; `peek` tells the same without taking the probe.
    #[test]
    fn an_abandoned_probe_lets_the_next_start_probe() {
        let clock = ManualClock::new();
        let config = BreakerConfig::default()
            .consecutive_failures(1)
            .cooldown(Duration::from_secs(10));
        let h = Health::new(config, clock.clone());
        assert_eq!(h.peek(), Admission::Go);
        assert_eq!(fail(&h, Call::Start), Transition::Opened);
        assert_eq!(h.peek(), Admission::Skip);
        clock.advance(Duration::from_secs(10));
        assert_eq!(h.peek(), Admission::Probe);
        assert_eq!(h.peek(), Admission::Probe, "peek takes no probe");
        assert_eq!(h.admit(), Admission::Probe);
        assert_eq!(h.peek(), Admission::Skip, "the probe is out");
        assert_eq!(h.admit(), Admission::Skip);
        assert!(
            h.abandoned(MS, Call::Probe).is_none(),
            "dropped soon: neutral"
        );
        assert_eq!(h.snapshot("a", "p").state, CircuitState::HalfOpen);
        assert_eq!(h.peek(), Admission::Probe);
        assert_eq!(h.admit(), Admission::Probe, "the next start probes");
        assert_eq!(h.admit(), Admission::Skip);
        assert_eq!(h.success(MS, Call::Probe), Transition::Closed);
        assert_eq!(h.peek(), Admission::Go);
    }

    /// A dropped start that ran for `abandoned_after` is a `Timeout` failure of its call: a
    /// probe's re-opens the circuit; sooner, or with the setting zero, it is nothing but a
    /// probe giving its place. Configuration files give it in seconds.
    #[test]
    fn a_dropped_start_fails_only_once_it_ran_for_abandoned_after() {
        let clock = ManualClock::new();
        let config = BreakerConfig::default()
            .consecutive_failures(2)
            .error_rate(0.0, 10, 0)
            .cooldown(Duration::from_secs(10))
            .abandoned_after(Duration::from_secs(5));
        let h = Health::new(config, clock.clone());
        assert!(
            h.abandoned(Duration::from_millis(4999), Call::Start)
                .is_none()
        );
        assert_eq!(h.snapshot("a", "p").calls, 0, "not a call");
        let (error, transition) = h.abandoned(Duration::from_secs(5), Call::Start).unwrap();
        assert_eq!(error.kind(), ErrorKind::Timeout);
        assert_eq!(error.message(), "start dropped by its caller after 5000 ms");
        assert_eq!(transition, Transition::None);
        let (_, transition) = h.abandoned(Duration::from_secs(6), Call::Start).unwrap();
        assert_eq!(transition, Transition::Opened, "two in a row");
        clock.advance(Duration::from_secs(10));
        assert_eq!(h.admit(), Admission::Probe);
        let (_, transition) = h.abandoned(Duration::from_secs(9), Call::Probe).unwrap();
        assert_eq!(transition, Transition::Opened, "the dropped probe failed");
        assert_eq!(h.admit(), Admission::Skip);

        let off = Health::new(
            BreakerConfig::default()
                .consecutive_failures(1)
                .abandoned_after(Duration::ZERO),
            ManualClock::new(),
        );
        assert!(
            off.abandoned(Duration::from_secs(3600), Call::Start)
                .is_none()
        );
        assert_eq!(off.snapshot("a", "p").state, CircuitState::Closed);

        assert_eq!(
            BreakerConfig::default().abandoned_after,
            Duration::from_secs(5)
        );
        let read: BreakerConfig = toml::from_str("abandoned_after = 0.25").unwrap();
        assert_eq!(read.abandoned_after, Duration::from_millis(250));
        assert!(toml::from_str::<BreakerConfig>("abandoned_after = -1").is_err());
    }

    /// A start let through before the circuit opened answers while the probe is out: it
    /// neither closes the circuit nor re-opens it; the probe's own result does.
    #[test]
    fn only_the_probe_moves_a_half_open_circuit() {
        let clock = ManualClock::new();
        let config = BreakerConfig::default()
            .consecutive_failures(3)
            .error_rate(0.0, 10, 0)
            .cooldown(Duration::from_secs(10));
        let h = Health::new(config, clock.clone());
        assert_eq!(h.admit(), Admission::Go, "a slow start, still out");
        for _ in 0..3 {
            fail(&h, Call::Start);
        }
        clock.advance(Duration::from_secs(10));
        assert_eq!(h.admit(), Admission::Probe);
        assert_eq!(
            h.success(MS, Call::Start),
            Transition::None,
            "the slow start"
        );
        assert_eq!(h.snapshot("a", "p").state, CircuitState::HalfOpen);
        assert_eq!(fail(&h, Call::Start), Transition::None, "another late one");
        assert_eq!(h.snapshot("a", "p").state, CircuitState::HalfOpen);
        assert_eq!(
            fail(&h, Call::Probe),
            Transition::Opened,
            "the probe failed"
        );
        clock.advance(Duration::from_secs(10));
        assert_eq!(h.admit(), Admission::Probe);
        assert_eq!(h.success(MS, Call::Probe), Transition::Closed);
    }

    #[test]
    fn opens_on_the_error_rate() {
        let clock = ManualClock::new();
        let config = BreakerConfig::default()
            .consecutive_failures(0)
            .error_rate(0.5, 4, 4);
        let h = Health::new(config, clock);
        assert_eq!(h.success(MS, Call::Start), Transition::None);
        assert_eq!(fail(&h, Call::Start), Transition::None);
        assert_eq!(h.success(MS, Call::Start), Transition::None);
        assert_eq!(
            fail(&h, Call::Start),
            Transition::Opened,
            "2 of the last 4 failed"
        );
    }

    /// The snapshot: the lower median of the latest 128 latencies, the share of failures in
    /// the window, every call counted, the latest ten errors.
    #[test]
    fn the_snapshot_reports_latency_error_rate_and_calls() {
        let clock = ManualClock::new();
        let config = BreakerConfig::default()
            .consecutive_failures(0)
            .error_rate(0.0, 4, 0);
        let h = Health::new(config, clock);
        assert_eq!(h.snapshot("a", "p").latency_p50, None);
        assert!(h.snapshot("a", "p").error_rate.abs() < f64::EPSILON);
        for ms in [40, 10, 30, 20] {
            h.success(Duration::from_millis(ms), Call::Start);
        }
        let snapshot = h.snapshot("a", "p");
        assert_eq!(snapshot.latency_p50, Some(Duration::from_millis(20)));
        assert_eq!(
            (snapshot.route.as_str(), snapshot.provider.as_str()),
            ("a", "p")
        );
        h.failure(
            &Error::new(ErrorKind::Transport, "down"),
            Duration::from_millis(50),
            Call::Start,
        );
        let snapshot = h.snapshot("a", "p");
        assert_eq!(snapshot.latency_p50, Some(Duration::from_millis(30)));
        assert!(
            (snapshot.error_rate - 0.25).abs() < 1e-9,
            "1 of the last 4 failed"
        );
        assert_eq!(snapshot.calls, 5);
        // Only the latest 128 latencies count; checks count as calls too.
        for _ in 0..128 {
            h.success(Duration::from_millis(1), Call::Check);
        }
        let snapshot = h.snapshot("a", "p");
        assert_eq!(snapshot.latency_p50, Some(Duration::from_millis(1)));
        assert_eq!(snapshot.calls, 133);
        for n in 0..12 {
            h.failure(
                &Error::new(ErrorKind::Timeout, format!("slow {n}")),
                MS,
                Call::Check,
            );
        }
        let recent = h.snapshot("a", "p").recent_errors;
        let messages: Vec<&str> = recent.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 10);
        assert_eq!(
            (messages[0], messages[9]),
            ("timeout: slow 2", "timeout: slow 11")
        );
    }

    /// The window is capped, with the error-rate trigger on or off (the window is kept
    /// either way); the cap itself is accepted.
    #[test]
    fn a_window_above_the_cap_is_refused_naming_it() {
        for rate in [0.5, 0.0] {
            let at_cap = BreakerConfig::default().error_rate(rate, BreakerConfig::MAX_WINDOW, 1);
            assert!(at_cap.validate().is_ok(), "{rate}");
            for window in [BreakerConfig::MAX_WINDOW + 1, 4_000_000_000] {
                let err = BreakerConfig::default()
                    .error_rate(rate, window, 1)
                    .validate()
                    .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidInput);
                assert_eq!(
                    err.message(),
                    format!("breaker window must be at most 10000 calls, not {window}")
                );
            }
        }
        let from_toml: BreakerConfig = toml::from_str("window = 4000000000").unwrap();
        assert!(from_toml.validate().is_err());
    }

    #[test]
    fn an_error_rate_that_could_never_be_considered_is_refused() {
        let never = BreakerConfig::default().error_rate(0.5, 4, 5);
        let err = never.validate().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("error_rate_min_calls"), "{err}");
        assert!(
            BreakerConfig::default()
                .error_rate(0.5, 4, 4)
                .validate()
                .is_ok()
        );
        // With the error-rate trigger off, the other two settings do not matter.
        assert!(
            BreakerConfig::default()
                .error_rate(0.0, 4, 5)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn request_errors_and_checks_do_not_trip() {
        let h = Health::new(
            BreakerConfig::default().consecutive_failures(1),
            ManualClock::new(),
        );
        let t = h.failure(&Error::invalid_input("bad"), MS, Call::Start);
        assert_eq!(t, Transition::None);
        let t = h.failure(&Error::new(ErrorKind::Transport, "down"), MS, Call::Check);
        assert_eq!(t, Transition::None);
        let snap = h.snapshot("a", "p");
        assert_eq!(snap.state, CircuitState::Closed);
        assert_eq!(snap.recent_errors.len(), 2);
        assert_eq!(snap.calls, 2);
    }

    /// A refusal made before any request (bad input found by the client, a guard's denial)
    /// says nothing of the route: it neither closes a half-open circuit (the probe's place
    /// goes to the next start) nor resets the failures in a row, nor enters the error-rate
    /// window. A refusal the provider gave is an answer: it does all three.
    #[test]
    fn only_a_refusal_the_provider_gave_counts_as_a_success() {
        let clock = ManualClock::new();
        let config = BreakerConfig::default()
            .consecutive_failures(2)
            .error_rate(0.0, 10, 0)
            .cooldown(Duration::from_secs(10));
        let h = Health::new(config, clock.clone());
        let local = Error::invalid_input("no end-user IP");
        let answered = Error::invalid_input("bad phone").with_http_status(400);

        assert_eq!(fail(&h, Call::Start), Transition::None);
        assert_eq!(h.failure(&local, MS, Call::Start), Transition::None);
        assert_eq!(h.snapshot("a", "p").consecutive_failures, 1, "not reset");
        assert_eq!(fail(&h, Call::Start), Transition::Opened, "two in a row");
        clock.advance(Duration::from_secs(10));
        assert_eq!(h.admit(), Admission::Probe);
        assert_eq!(h.failure(&local, MS, Call::Probe), Transition::None);
        let snapshot = h.snapshot("a", "p");
        assert_eq!(snapshot.state, CircuitState::HalfOpen, "not closed");
        assert!(
            (snapshot.error_rate - 1.0).abs() < f64::EPSILON,
            "no success in the window"
        );
        assert_eq!(h.admit(), Admission::Probe, "the next start probes");
        assert_eq!(h.failure(&answered, MS, Call::Probe), Transition::Closed);
        assert_eq!(h.snapshot("a", "p").consecutive_failures, 0);
    }

    /// A clock set back an hour after the circuit opened does not keep it open for the hour
    /// and the cooldown: the cooldown starts again from the clock's new reading.
    #[test]
    fn a_clock_set_back_restarts_the_cooldown_instead_of_adding_the_step() {
        let clock = ManualClock::new();
        let config = BreakerConfig::default()
            .consecutive_failures(1)
            .cooldown(Duration::from_secs(30));
        let h = Health::new(config, clock.clone());
        assert_eq!(fail(&h, Call::Start), Transition::Opened);
        clock.set_back(Duration::from_secs(3600));
        assert_eq!(h.peek(), Admission::Skip);
        assert_eq!(h.skipped_for(), Some(Duration::from_secs(30)));
        assert_eq!(h.admit(), Admission::Skip, "no probe before a cooldown");
        clock.advance(Duration::from_secs(29));
        assert_eq!(h.skipped_for(), Some(Duration::from_secs(1)));
        assert_eq!(h.admit(), Admission::Skip);
        clock.advance(Duration::from_secs(1));
        assert_eq!(h.peek(), Admission::Probe);
        assert_eq!(h.admit(), Admission::Probe, "one cooldown after the step");
        assert_eq!(h.skipped_for(), None, "half-open: the probe is out");
    }
}
