//! [`Guard`]: the `PhoneVerifier` decorator that decides before anything is sent.

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_trait::async_trait;
use phone_verify_core::time::{self, OffsetDateTime};
use phone_verify_core::{
    Capabilities, CheckOutcome, CheckRequest, Error, ErrorKind, PhoneNumber, PhoneVerifier,
    ProviderId, RejectReason, Rejection, RequestContext, ResolvedSession, Result, SessionId,
    SessionResolver, StartRequest, Verification,
};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{Algorithm, FailMode, GuardConfig, Limit};
use crate::denial::{Denial, Rule};
use crate::keys::Keyer;
use crate::numbers::kind_of;
use crate::store::{
    Counter, Decision, GuardStore, HitId, MemoryStore, Reservation, StoreError, marker_ttl,
};

/// The shortest secret accepted for the counter keys' HMAC, in bytes.
pub const MIN_SECRET_LEN: usize = 16;

/// A [`PhoneVerifier`] (and [`SessionResolver`]) that applies the rules of a [`GuardConfig`]
/// before forwarding to the verifier it wraps. A refused send never reaches the provider.
///
/// ```
/// use std::sync::Arc;
/// use phone_verify_core::{ErrorKind, PhoneVerifier, StartRequest};
/// use phone_verify_guard::{Denial, Guard, GuardConfig, Rule};
/// use phone_verify_testkit::memory::InMemoryVerifier;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let guard = Guard::builder(Arc::new(InMemoryVerifier::new()))
///     .secret("a secret of at least 16 bytes")
///     .config(GuardConfig::default())
///     .build()?;
/// let phone = "+905321234567".parse()?;
/// guard.start(&StartRequest::sms(phone)).await?;
/// let again = guard.start(&StartRequest::sms("+905321234567".parse()?)).await.unwrap_err();
/// assert_eq!(again.kind(), ErrorKind::RateLimited);
/// assert_eq!(Denial::of(&again).map(|d| d.rule), Some(Rule::ResendCooldown));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct Guard {
    inner: Arc<dyn PhoneVerifier>,
    resolver: Option<Arc<dyn SessionResolver>>,
    store: Arc<dyn GuardStore>,
    config: GuardConfig,
    allowlist: HashSet<String>,
    keyer: Keyer,
    /// The secret's tag in the keys of the counters that have no subject ([`Keyer::scope`]).
    scope: String,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("inner", &self.inner)
            .field("store", &self.store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Guard`]; only the secret is required.
pub struct GuardBuilder {
    inner: Arc<dyn PhoneVerifier>,
    resolver: Option<Arc<dyn SessionResolver>>,
    store: Option<Arc<dyn GuardStore>>,
    config: GuardConfig,
    secret: Option<SecretString>,
}

impl fmt::Debug for GuardBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardBuilder")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl GuardBuilder {
    /// The rules (default: [`GuardConfig::default`]).
    #[must_use]
    pub fn config(mut self, config: GuardConfig) -> Self {
        self.config = config;
        self
    }

    /// The secret the counter keys are an HMAC with (at least 16 bytes; the same for every
    /// instance sharing a store).
    #[must_use]
    pub fn secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Where the counters live (default: a new [`MemoryStore`]).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn GuardStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The session resolver to forward [`SessionResolver::resolve`] to.
    #[must_use]
    pub fn resolver(mut self, resolver: Arc<dyn SessionResolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Checks the configuration and builds the guard.
    pub fn build(self) -> Result<Guard> {
        let checked = self.check()?;
        Ok(self.assemble(checked))
    }

    /// [`build`](Self::build) with the store `store` makes, made only once every check
    /// passed: a bad setting is refused as such, before anything connects to a store.
    pub(crate) async fn build_with_store(
        mut self,
        store: impl Future<Output = Result<Arc<dyn GuardStore>>>,
    ) -> Result<Guard> {
        let checked = self.check()?;
        self.store = Some(store.await?);
        Ok(self.assemble(checked))
    }

    /// Every check of the secret and the rules, and what they yield.
    fn check(&self) -> Result<Checked> {
        let secret = self
            .secret
            .as_ref()
            .ok_or_else(|| Error::invalid_input("the guard needs a secret for its counter keys"))?;
        if secret.expose_secret().len() < MIN_SECRET_LEN {
            return Err(Error::invalid_input(format!(
                "the guard's secret must be at least {MIN_SECRET_LEN} bytes"
            )));
        }
        validate(&self.config)?;
        let allowlist = self
            .config
            .allowlist
            .iter()
            .map(|n| {
                PhoneNumber::parse(n)
                    .map(|p| p.e164().to_owned())
                    .map_err(|e| Error::invalid_input(format!("guard allowlist: {e}")))
            })
            .collect::<Result<_>>()?;
        Ok(Checked {
            allowlist,
            keyer: Keyer::new(secret),
        })
    }

    fn assemble(self, checked: Checked) -> Guard {
        let Checked { allowlist, keyer } = checked;
        Guard {
            inner: self.inner,
            resolver: self.resolver,
            store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
            config: self.config,
            allowlist,
            scope: keyer.scope(),
            keyer,
        }
    }
}

/// What [`GuardBuilder::check`] yields: the allowlist in E.164 and the keyer of the secret.
struct Checked {
    allowlist: HashSet<String>,
    keyer: Keyer,
}

/// The longest window a rule counts in: a year (366 days).
const MAX_WINDOW_SECS: u64 = 366 * 86_400;

/// The longest store timeout, in milliseconds: a minute.
const MAX_STORE_TIMEOUT_MS: u64 = 60_000;

fn validate(config: &GuardConfig) -> Result<()> {
    let limits = [
        ("per_phone", config.per_phone),
        ("per_phone_daily", config.per_phone_daily),
        ("per_ip", config.per_ip),
        ("per_ipv4_24", config.per_ipv4_24),
        ("per_ipv6_64", config.per_ipv6_64),
        ("per_region", config.per_region),
        ("wrong_codes_per_phone", config.wrong_codes_per_phone),
        ("global_budget", config.global_budget),
        ("global_budget_daily", config.global_budget_daily),
    ];
    let overrides = config
        .region_overrides
        .iter()
        .map(|(region, limit)| (region.as_str(), Some(*limit)));
    for (name, limit) in limits.into_iter().chain(overrides) {
        if limit.is_some_and(|l| l.window_secs == 0 || l.window_secs > MAX_WINDOW_SECS) {
            return Err(Error::invalid_input(format!(
                "guard rule {name}: the window must be between one second and a year"
            )));
        }
    }
    if config
        .resend_cooldown_secs
        .is_some_and(|secs| secs == 0 || secs > MAX_WINDOW_SECS)
    {
        return Err(Error::invalid_input(
            "guard rule resend_cooldown_secs: use one second to a year, or turn it off",
        ));
    }
    let regions = config
        .allow_regions
        .iter()
        .chain(&config.deny_regions)
        .chain(config.region_overrides.keys());
    for region in regions {
        if region.len() != 2 || !region.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Error::invalid_input(format!(
                "guard region {region:?} is not an ISO 3166-1 alpha-2 code such as \"TR\""
            )));
        }
        // A region libphonenumber does not know (`UK` for `GB`) would never match a number.
        if PhoneNumber::region_calling_code(region).is_none() {
            return Err(Error::invalid_input(format!(
                "guard region {region:?} is not a region of libphonenumber's metadata (the \
                 United Kingdom is \"GB\")"
            )));
        }
    }
    // Beyond a minute no decision is worth waiting for, and a store marks what it counted for
    // ten timeouts: a timeout of "forever" (`u64::MAX`) is no marker's life Redis takes.
    if config.store_timeout_ms == 0 || config.store_timeout_ms > MAX_STORE_TIMEOUT_MS {
        return Err(Error::invalid_input(format!(
            "guard store_timeout_ms must be between 1 and {MAX_STORE_TIMEOUT_MS} (a minute)"
        )));
    }
    Ok(())
}

/// Whose counters [`Guard::status`] shows. New kinds of subject may be added: a `match` on it
/// needs a wildcard arm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// A phone's send and wrong-code counters.
    Phone(PhoneNumber),
    /// An end-user IP's counters and its subnet's.
    Ip(IpAddr),
}

/// One counter in [`Guard::status`]. Fields may be added: outside this crate, a pattern of it
/// needs `..`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleStatus {
    /// The rule.
    pub rule: Rule,
    /// Events counted in its current window.
    pub count: u64,
    /// The most it allows in a window.
    pub max: u64,
    /// When the window ends, if a window is running.
    pub resets_in: Option<Duration>,
}

/// The counters a decision hits, and the rule of each.
#[derive(Default)]
struct Plan {
    rules: Vec<Rule>,
    counters: Vec<Counter>,
}

impl Plan {
    fn push(&mut self, rule: Rule, mut key: String, limit: Limit, cost: u64) {
        if limit.algorithm == Algorithm::Gcra {
            // Its state is not a count: a fixed window's counter of the same rule never mixes
            // with it when the configuration changes.
            key.push_str(":gcra");
        }
        self.rules.push(rule);
        self.counters.push(Counter {
            key,
            window: limit.window(),
            max: u64::from(limit.max),
            cost,
            algorithm: limit.algorithm,
        });
    }

    fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// The store's decision on a [`Plan`].
enum Verdict {
    /// Every counter let the request through; what the store counted.
    Allowed(Reservation),
    /// The rule that refused, and how long until it would allow.
    Denied(Rule, Duration),
}

/// A decision the store did not give: why, and the hit that may still count (`None`: it
/// surely will not, [`StoreError::may_still_count`]).
struct Undecided<'a> {
    error: StoreError,
    late: Option<LateHit<'a>>,
}

/// A hit whose answer the guard did not get: the store may count it, now or when it gets it.
/// Dropped, it stays counted if it counts (the event it reserved may have happened);
/// [`abandon`](Self::abandon) takes it back.
struct LateHit<'a> {
    store: &'a Arc<dyn GuardStore>,
    counters: &'a [Counter],
    id: HitId,
    /// How long the abandon may take.
    bound: Duration,
}

impl LateHit<'_> {
    /// Has the store take the hit back if it counted, or when it does
    /// ([`GuardStore::abandon`]); best effort, in the background. Polled once here, so that a
    /// store that sends its call when first polled ([`RedisStore`](crate::RedisStore)) has it
    /// on the connection before the caller can send another (a retry), on any runtime; then in
    /// a task of its own, bounded by half a marker's life (longer than the store timeout that
    /// just passed: it may take a few round trips). Nothing without a Tokio runtime.
    fn abandon(self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!("guard: no runtime to abandon a decision on: it may stay counted");
            return;
        };
        let store = Arc::clone(self.store);
        let counters = self.counters.to_vec();
        let (id, bound) = (self.id, self.bound);
        let mut abandon = Box::pin(async move { store.abandon(&counters, id).await });
        // Outside the task's cooperative budget: a spent budget must not delay the send.
        let first = pin!(tokio::task::unconstrained(abandon.as_mut()))
            .poll(&mut Context::from_waker(Waker::noop()));
        let done = match first {
            Poll::Ready(done) => done,
            Poll::Pending => {
                runtime.spawn(async move {
                    let done = tokio::time::timeout(bound, abandon).await;
                    if let Err(err) = done.unwrap_or(Err(StoreError::Timeout(bound))) {
                        tracing::debug!(error = %err, "guard: an abandoned decision may stay counted");
                    }
                });
                return;
            }
        };
        if let Err(err) = done {
            tracing::debug!(error = %err, "guard: an abandoned decision may stay counted");
        }
    }
}

/// A hit on its way: dropped before [`landed`](Self::landed) (the caller's future was
/// dropped: a `select!`, a timeout around the guard, a client that went away), it is
/// [abandoned](LateHit::abandon), since the store may still count it and nothing was sent.
struct InFlight<'a>(Option<LateHit<'a>>);

impl<'a> InFlight<'a> {
    /// The store answered, or failed: the caller decides what becomes of the hit.
    fn landed(mut self) -> Option<LateHit<'a>> {
        self.0.take()
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(hit) = self.0.take() {
            hit.abandon();
        }
    }
}

impl Guard {
    /// A builder guarding `inner`.
    pub fn builder(inner: Arc<dyn PhoneVerifier>) -> GuardBuilder {
        GuardBuilder {
            inner,
            resolver: None,
            store: None,
            config: GuardConfig::default(),
            secret: None,
        }
    }

    /// The rules in force.
    pub fn config(&self) -> &GuardConfig {
        &self.config
    }

    /// The provider id both [`PhoneVerifier::provider`] and [`SessionResolver::provider`]
    /// report: the guarded verifier's; callable with both traits in scope.
    /// Through an `Arc` or a `Box`, both traits' methods are found before this one: write
    /// `(*shared).provider()`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use phone_verify_core::{PhoneVerifier, SessionResolver};
    /// use phone_verify_guard::Guard;
    /// use phone_verify_testkit::memory::InMemoryVerifier;
    ///
    /// let guard = Guard::builder(Arc::new(InMemoryVerifier::new()))
    ///     .secret("a secret of at least 16 bytes")
    ///     .build()?;
    /// assert_eq!(guard.provider(), InMemoryVerifier::PROVIDER);
    /// assert_eq!(PhoneVerifier::provider(&guard), guard.provider());
    /// assert_eq!(SessionResolver::provider(&guard), guard.provider());
    /// # Ok::<(), phone_verify_core::Error>(())
    /// ```
    pub fn provider(&self) -> ProviderId {
        self.inner.provider()
    }

    /// The counters of `subject`'s rules (those that are on), for `phone-verify guard status`.
    pub async fn status(&self, subject: &Subject) -> Result<Vec<RuleStatus>> {
        let mut plan = Plan::default();
        match subject {
            Subject::Phone(phone) => self.phone_counters(&mut plan, phone, 0, true),
            Subject::Ip(ip) => self.ip_counters(&mut plan, Some(*ip), 0),
        }
        let states = self
            .bounded(self.store.peek(&plan.counters))
            .await
            .and_then(|states| {
                if states.len() == plan.counters.len() {
                    Ok(states)
                } else {
                    Err(StoreError::Unavailable(format!(
                        "the store read {} counters of {}",
                        states.len(),
                        plan.counters.len()
                    )))
                }
            })
            .map_err(|e| {
                Error::new(ErrorKind::ProviderUnavailable, e.to_string()).with_source(e)
            })?;
        Ok(plan
            .rules
            .iter()
            .zip(&plan.counters)
            .zip(states)
            .map(|((rule, counter), s)| RuleStatus {
                rule: *rule,
                count: s.count,
                max: counter.max,
                resets_in: s.resets_in,
            })
            .collect())
    }

    fn phone_counters(&self, plan: &mut Plan, phone: &PhoneNumber, cost: u64, with_checks: bool) {
        let c = &self.config;
        let digest = self.keyer.phone(phone);
        if let Some(secs) = c.resend_cooldown_secs {
            let limit = Limit::new(1, Duration::from_secs(secs));
            let rule = Rule::ResendCooldown;
            plan.push(rule, digest.key(rule), limit, cost);
        }
        for (rule, limit) in [
            (Rule::PerPhone, c.per_phone),
            (Rule::PerPhoneDaily, c.per_phone_daily),
        ] {
            if let Some(limit) = limit {
                plan.push(rule, digest.key(rule), limit, cost);
            }
        }
        if with_checks && let Some(limit) = c.wrong_codes_per_phone {
            let rule = Rule::WrongCodesPerPhone;
            plan.push(rule, digest.key(rule), limit, 0);
        }
    }

    fn ip_counters(&self, plan: &mut Plan, ip: Option<IpAddr>, cost: u64) {
        let Some(ip) = ip else { return };
        let c = &self.config;
        if let Some(limit) = c.per_ip {
            let rule = Rule::PerIp;
            plan.push(rule, self.keyer.ip(ip).key(rule), limit, cost);
        }
        let (rule, net) = self.keyer.subnet(ip);
        let limit = match rule {
            Rule::PerIpv4Subnet => c.per_ipv4_24,
            _ => c.per_ipv6_64,
        };
        if let Some(limit) = limit {
            plan.push(rule, net.key(rule), limit, cost);
        }
    }

    /// The static rules: region lists and number types.
    fn refuse_statically(&self, phone: &PhoneNumber) -> Option<(Rule, String)> {
        let c = &self.config;
        let region = phone.region();
        if let Some(r) = region.filter(|r| c.deny_regions.iter().any(|d| d == r)) {
            return Some((Rule::Region, format!("region {r} is denied")));
        }
        if !c.allow_regions.is_empty()
            && !region.is_some_and(|r| c.allow_regions.iter().any(|a| a == r))
        {
            let shown = region.unwrap_or(phone.calling_code());
            return Some((Rule::Region, format!("region {shown} is not allowed")));
        }
        if !c.refuse_number_types.is_empty()
            && let Some(kind) = kind_of(phone).filter(|k| c.refuse_number_types.contains(k))
        {
            return Some((Rule::NumberType, format!("number type {kind:?} is refused")));
        }
        None
    }

    fn send_plan(&self, request: &StartRequest) -> Plan {
        let c = &self.config;
        let mut plan = Plan::default();
        if let Some(phone) = &request.phone {
            self.phone_counters(&mut plan, phone, 1, false);
        }
        self.ip_counters(&mut plan, request.context.end_user_ip, 1);
        // The counters without a subject carry the secret's tag, as the others carry an HMAC
        // with it: applications sharing a store with different secrets keep them apart.
        let scope = &self.scope;
        if let Some(phone) = &request.phone {
            // A region is no personal data: its key is its code, e.g. `per_region:1a2b3c4d:TR`.
            let region = phone.region().unwrap_or(phone.calling_code());
            let limit = c.region_overrides.get(region).copied().or(c.per_region);
            if let Some(limit) = limit {
                let rule = Rule::PerRegion;
                plan.push(rule, format!("{rule}:{scope}:{region}"), limit, 1);
            }
        }
        for (rule, limit) in [
            (Rule::GlobalBudget, c.global_budget),
            (Rule::GlobalBudgetDaily, c.global_budget_daily),
        ] {
            if let Some(limit) = limit {
                plan.push(rule, format!("{rule}:{scope}"), limit, 1);
            }
        }
        plan
    }

    /// The store's decision on `plan`. An answer naming a counter the plan does not have (a
    /// store of one's own can give any) is a store failure, so the fail mode applies. A hit
    /// that gave no answer (the store timed out or failed) may count all the same, now or
    /// when it reaches the store: it comes back with the error, for the caller to
    /// [abandon](LateHit::abandon) if the event it reserved does not happen; one whose caller
    /// is dropped while it is on its way is abandoned ([`InFlight`]).
    async fn decide<'a>(&'a self, plan: &'a Plan) -> std::result::Result<Verdict, Undecided<'a>> {
        let id = HitId::random();
        let in_flight = InFlight(Some(LateHit {
            store: &self.store,
            counters: &plan.counters,
            id,
            bound: marker_ttl(self.config.store_timeout()) / 2,
        }));
        let answer = self.bounded(self.store.hit(&plan.counters, id)).await;
        let late = in_flight.landed();
        match answer {
            Ok(Decision::Allowed(reservation)) => Ok(Verdict::Allowed(reservation)),
            Ok(Decision::Denied { index, retry_after }) => match plan.rules.get(index) {
                Some(rule) => Ok(Verdict::Denied(*rule, retry_after)),
                None => Err(Undecided {
                    error: StoreError::Unavailable(format!(
                        "the store refused counter {index} of a decision of {}",
                        plan.rules.len()
                    )),
                    late: None,
                }),
            },
            Err(error) => Err(Undecided {
                late: late.filter(|_| error.may_still_count()),
                error,
            }),
        }
    }

    async fn release(
        &self,
        plan: &Plan,
        reservation: &Reservation,
    ) -> std::result::Result<(), StoreError> {
        self.bounded(self.store.release(&plan.counters, reservation))
            .await
    }

    /// A store call, bounded by the store timeout.
    async fn bounded<T>(
        &self,
        call: impl Future<Output = std::result::Result<T, StoreError>>,
    ) -> std::result::Result<T, StoreError> {
        let timeout = self.config.store_timeout();
        tokio::time::timeout(timeout, call)
            .await
            .unwrap_or(Err(StoreError::Timeout(timeout)))
    }

    fn store_failed(
        err: &StoreError,
        mode: FailMode,
        what: &str,
        masked: Masked<'_>,
    ) -> Result<()> {
        match mode {
            FailMode::Open => {
                tracing::warn!(phone = %masked, error = %err, "guard store failed: {what} let through (fail open)");
                record(Rule::Store, "failed_open");
                Ok(())
            }
            FailMode::Closed => {
                tracing::warn!(phone = %masked, error = %err, "guard store failed: {what} refused (fail closed)");
                record(Rule::Store, "denied");
                Err(Error::new(
                    ErrorKind::ProviderUnavailable,
                    format!("guard rule store: {err}; the {what} was refused"),
                )
                .with_source(Denial::new(Rule::Store, None)))
            }
        }
    }

    /// The wrong-code counters of a check, each reserving one wrong code.
    fn check_plan(&self, verification: &Verification) -> Plan {
        let mut plan = Plan::default();
        if let Some(n) = self.config.wrong_codes_per_verification {
            let window = wrong_code_window(verification, OffsetDateTime::now_utc());
            let limit = Limit::per_day(n).with_window(window);
            let rule = Rule::WrongCodesPerVerification;
            let digest = self.keyer.verification(
                verification.provider.as_str(),
                &verification.reference,
                verification.created_at.unix_timestamp_nanos(),
            );
            plan.push(rule, digest.key(rule), limit, 1);
        }
        if let (Some(limit), Some(phone)) = (self.config.wrong_codes_per_phone, &verification.phone)
        {
            let rule = Rule::WrongCodesPerPhone;
            plan.push(rule, self.keyer.phone(phone).key(rule), limit, 1);
        }
        plan
    }
}

/// How long a verification's wrong codes are counted, from the first: until an hour past its
/// `expires_at` (so that its lock outlives it, whatever the provider's own attempt limit), at
/// least a day and at most [`MAX_WINDOW_SECS`]; a day when the handle has no `expires_at`.
/// `now` is the guard's wall clock, the hour a margin for the provider's.
fn wrong_code_window(verification: &Verification, now: OffsetDateTime) -> Duration {
    const DAY: Duration = Duration::from_secs(86_400);
    let Some(expires_at) = verification.expires_at else {
        return DAY;
    };
    let left = (expires_at - now).saturating_add(time::Duration::HOUR);
    // Negative (an expired handle) is no duration: a day.
    Duration::try_from(left)
        .unwrap_or(DAY)
        .clamp(DAY, Duration::from_secs(MAX_WINDOW_SECS))
}

fn record(rule: Rule, outcome: &'static str) {
    metrics::counter!("phone_verify_guard_decisions_total", "rule" => rule.as_str(), "outcome" => outcome)
        .increment(1);
}

/// A decision no rule refused: `allowed` (a send), `allowlisted` (a send to a test number) or
/// `check_allowed` (a check with a code, its wrong code reserved).
fn record_passed(outcome: &'static str) {
    metrics::counter!("phone_verify_guard_decisions_total", "rule" => "none", "outcome" => outcome)
        .increment(1);
}

/// Whether a send that failed with `kind` stays counted. It does not when the provider surely
/// sent nothing and the failure says nothing about the number: the connection was never made
/// (`Transport`), the provider refused it before processing (`ProviderUnavailable`: a 503 with
/// `Retry-After`; a 500, 502, 504 or plain 503 to a send is `MaybeSent`), a request before the
/// send timed out (`Timeout`: a timeout of the send itself is `MaybeSent`), the account cannot
/// send (`QuotaExhausted`,
/// `Unauthorized`), or the provider cannot take the request (`Unsupported`, `InvalidInput`).
/// During an outage, users' retries then spend none of their limits, nor the region's or the
/// budget. Every other kind counts: `MaybeSent` and `Decode` (a message may have gone out),
/// `RateLimited` and `Blocked` (the provider's own refusal of this number or sender, which the
/// guard's counts keep slowing down), `Provider` and kinds not known to be safe.
fn failed_send_counts(kind: ErrorKind) -> bool {
    !matches!(
        kind,
        ErrorKind::Transport
            | ErrorKind::ProviderUnavailable
            | ErrorKind::Timeout
            | ErrorKind::QuotaExhausted
            | ErrorKind::Unauthorized
            | ErrorKind::Unsupported
            | ErrorKind::InvalidInput
    )
}

fn denial_error(rule: Rule, retry_after: Duration, what: &str) -> Error {
    let kind = ErrorKind::RateLimited;
    Error::new(kind, format!("guard rule {rule}: too many {what}"))
        .with_retry_after(retry_after)
        .with_source(Denial::new(rule, Some(retry_after)))
}

/// A phone as logs show it (`+90********67`), formatted only if an event is recorded.
#[derive(Clone, Copy)]
struct Masked<'a>(Option<&'a PhoneNumber>);

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(phone) => f.write_str(&phone.masked()),
            None => f.write_str("-"),
        }
    }
}

#[async_trait]
impl PhoneVerifier for Guard {
    fn provider(&self) -> ProviderId {
        Self::provider(self)
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        // Input first: a request the provider would refuse is not counted.
        request.validate(&self.inner.capabilities())?;
        let phone = request.phone.as_ref();
        let shown = Masked(phone);
        if phone.is_some_and(|p| self.allowlist.contains(p.e164())) {
            tracing::debug!(phone = %shown, outcome = "allowlisted", "guard: allowlisted test number");
            record_passed("allowlisted");
            return self.inner.start(request).await;
        }
        if let Some((rule, why)) = phone.and_then(|p| self.refuse_statically(p)) {
            tracing::info!(phone = %shown, rule = rule.as_str(), outcome = "denied", "guard: {why}");
            record(rule, "denied");
            return Err(
                Error::new(ErrorKind::Blocked, format!("guard rule {rule}: {why}"))
                    .with_source(Denial::new(rule, None)),
            );
        }
        let plan = self.send_plan(request);
        // A hit the store may count late: taken back if the send does not happen, kept if it
        // may have (fail open), as an allowed send's count is.
        let mut late = None;
        let counted = match self.decide(&plan).await {
            Ok(Verdict::Allowed(reservation)) => {
                tracing::debug!(phone = %shown, outcome = "allowed", "guard: send allowed");
                record_passed("allowed");
                Some(reservation)
            }
            Ok(Verdict::Denied(rule, retry_after)) => {
                tracing::info!(phone = %shown, rule = rule.as_str(), outcome = "denied", retry_after_secs = retry_after.as_secs(), "guard: send refused");
                record(rule, "denied");
                return Err(denial_error(rule, retry_after, "sends"));
            }
            Err(Undecided { error, late: hit }) => {
                let mode = self.config.send_fail_mode;
                if let Err(refused) = Self::store_failed(&error, mode, "send", shown) {
                    if let Some(hit) = hit {
                        hit.abandon();
                    }
                    return Err(refused);
                }
                late = hit;
                None
            }
        };
        let result = self.inner.start(request).await;
        if let Err(failure) = &result
            && !failed_send_counts(failure.kind())
            && (counted.is_some() || late.is_some())
        {
            tracing::debug!(phone = %shown, kind = %failure.kind(), "guard: the provider surely sent nothing: the send is not counted");
            if let Some(hit) = late {
                hit.abandon();
            }
            if let Some(counted) = &counted
                && let Err(err) = self.release(&plan, counted).await
            {
                tracing::warn!(phone = %shown, error = %err, "guard: a send the provider surely did not make stays counted");
            }
        }
        result
    }

    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        // No provider check here: the inner verifier knows which handles it takes (a router
        // takes the handles of every provider it routes to, and reports itself as `router`).
        let shown = Masked(verification.phone.as_ref());
        let plan = self.check_plan(verification);
        if request.code.is_none() || plan.is_empty() {
            return self.inner.check(verification, request).await;
        }
        // The code is counted as wrong before the provider sees it, and taken back once the
        // provider says it was not (or surely never saw it): checks in flight at once, on any
        // instance, cannot all pass a limit. A check whose answer was lost stays counted. So does
        // a hit the store may count late (fail open), unless the check was no wrong code.
        let mut late = None;
        let reserved = match self.decide(&plan).await {
            Ok(Verdict::Allowed(reservation)) => {
                tracing::debug!(phone = %shown, outcome = "allowed", "guard: check allowed");
                record_passed("check_allowed");
                Some(reservation)
            }
            Ok(Verdict::Denied(rule, retry_after)) => {
                tracing::info!(phone = %shown, rule = rule.as_str(), outcome = "denied", "guard: check refused");
                record(rule, "denied");
                if rule == Rule::WrongCodesPerVerification {
                    return Ok(CheckOutcome::Rejected(
                        Rejection::new(RejectReason::TooManyAttempts)
                            .with_message(format!("guard rule {rule}: too many wrong codes")),
                    ));
                }
                return Err(denial_error(rule, retry_after, "wrong codes"));
            }
            Err(Undecided { error, late: hit }) => {
                let mode = self.config.check_fail_mode;
                if let Err(refused) = Self::store_failed(&error, mode, "check", shown) {
                    if let Some(hit) = hit {
                        hit.abandon();
                    }
                    return Err(refused);
                }
                late = hit;
                None
            }
        };
        let outcome = self.inner.check(verification, request).await;
        let maybe_wrong = match &outcome {
            Ok(outcome) => outcome
                .rejection()
                .is_some_and(|r| r.reason == RejectReason::WrongCode),
            Err(err) => err.kind() == ErrorKind::OutcomeUnknown,
        };
        if !maybe_wrong {
            if let Some(hit) = late {
                hit.abandon();
            }
            if let Some(reserved) = &reserved
                && let Err(err) = self.release(&plan, reserved).await
            {
                tracing::warn!(phone = %shown, error = %err, "guard: a check that was no wrong code stays counted as one");
            }
        }
        outcome
    }
}

#[async_trait]
impl SessionResolver for Guard {
    fn provider(&self) -> ProviderId {
        Self::provider(self)
    }

    async fn resolve(
        &self,
        session: &SessionId,
        context: &RequestContext,
    ) -> Result<ResolvedSession> {
        match &self.resolver {
            Some(resolver) => resolver.resolve(session, context).await,
            None => Err(Error::unsupported(
                "this guard was built without a session resolver (GuardBuilder::resolver)",
            )),
        }
    }
}

#[cfg(test)]
mod tests;
