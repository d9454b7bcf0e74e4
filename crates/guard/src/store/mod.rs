//! [`GuardStore`]: where the guard keeps its counters, atomically and with expiry.
//!
//! A fixed-window counter counts events in a window that starts at its first event and ends
//! `window` later, when the counter disappears; a GCRA counter keeps the theoretical arrival
//! time of the next event (see [`Algorithm`]). One call to [`GuardStore::hit`] decides a whole
//! request atomically: either every counter is under its limit and each is increased, or none
//! is; [`GuardStore::release`] takes an increase back (a counter back to nothing is removed),
//! and [`GuardStore::abandon`] a hit whose answer the caller stopped waiting for.

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::fmt::{self, Debug};
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use async_trait::async_trait;

pub use crate::config::Algorithm;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{RedisStore, RedisStoreBuilder};

/// One counter of a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counter {
    /// The counter's key (already hashed: never a phone number or an IP in clear).
    pub key: String,
    /// The window that starts at the counter's first event.
    pub window: Duration,
    /// The most events allowed in the window.
    pub max: u64,
    /// How much this request adds. With `0` the counter is only checked: the request is denied
    /// when the counter has reached `max`.
    pub cost: u64,
    /// How the counter counts. The key of a GCRA counter must differ from any fixed-window
    /// counter's (the guard appends `:gcra`).
    pub algorithm: Algorithm,
}

impl Counter {
    /// Whether a fixed-window counter at `count` refuses this request.
    pub fn refuses(&self, count: u64) -> bool {
        count.saturating_add(self.cost.max(1)) > self.max
    }

    /// GCRA's spacing of events: `window / max` (the whole window when `max` is 0).
    pub fn interval(&self) -> Duration {
        let max = u32::try_from(self.max).unwrap_or(u32::MAX).max(1);
        self.window / max
    }

    /// GCRA: the events a theoretical arrival time `tat` stands for at `now`, rounded up.
    pub fn pending(&self, tat: Duration, now: Duration) -> u64 {
        let ahead = tat.saturating_sub(now).as_nanos();
        let interval = self.interval().as_nanos().max(1);
        u64::try_from(ahead.div_ceil(interval)).unwrap_or(u64::MAX)
    }

    /// GCRA: given the theoretical arrival time `tat` stored for the counter (`None` or a time
    /// in the past: none pending) at `now`, the new `tat` if the request fits, or else how long
    /// until it would. Times are on the store's clock.
    pub fn gcra(&self, tat: Option<Duration>, now: Duration) -> Result<Duration, Duration> {
        let start = tat.filter(|t| *t > now).unwrap_or(now);
        let cost = u32::try_from(self.cost.max(1)).unwrap_or(u32::MAX);
        let next = start.saturating_add(self.interval().saturating_mul(cost));
        let limit = now.saturating_add(self.window);
        if self.max == 0 {
            Err(self.window)
        } else if let Some(wait) = next.checked_sub(limit).filter(|w| !w.is_zero()) {
            Err(wait)
        } else {
            Ok(next)
        }
    }
}

/// The store's answer to [`GuardStore::hit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Every counter was under its limit; those with a cost were increased, in the windows the
    /// [`Reservation`] names (for [`GuardStore::release`]).
    Allowed(Reservation),
    /// The counter at `index` is at its limit, and no other refusing counter of the request
    /// lets it through later; nothing was increased.
    Denied {
        /// The index of the refusing counter in the request.
        index: usize,
        /// How long until that counter would let the request through (a fixed window: when
        /// it ends): the longest wait of the refusing counters.
        retry_after: Duration,
    },
}

impl Decision {
    /// Whether the request was allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed(_))
    }
}

/// What an allowed [`GuardStore::hit`] counted, which [`GuardStore::release`] takes back: for
/// each counter of the request, in order, when what the hit added to it stops counting. For a
/// fixed-window counter, the end of the window its cost went into, so that a release never
/// takes from a later window; for a GCRA counter, the theoretical arrival time the hit left,
/// so that a release gives back only the part of the hit's spacing still ahead. Times are on
/// the store's clock; `None` for a counter without a cost.
///
/// A store of one's own builds it with [`Reservation::new`] (fields may be added).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reservation {
    /// Per counter, when what the hit added to it stops counting (see above).
    pub ends: Vec<Option<Duration>>,
}

impl Reservation {
    /// A reservation of `ends`: per counter of the hit, in order, the end of the fixed window
    /// it counted in, or the GCRA theoretical arrival time it left (`None`: nothing counted).
    pub fn new(ends: Vec<Option<Duration>>) -> Self {
        Self { ends }
    }

    /// When what the hit added to counter `index` stops counting, if it added anything.
    pub fn end(&self, index: usize) -> Option<Duration> {
        self.ends.get(index).copied().flatten()
    }
}

/// How long `RedisStore` keeps a hit's marker for [`GuardStore::abandon`], given the longest
/// a call waits for its answer: ten times that, at least 5 s and at most an hour (a time to
/// live Redis takes: `Duration::MAX`, "no limit", would make every hit fail after counting).
/// The guard gives an abandon half of it (a few round trips: after a failover or
/// `SCRIPT FLUSH`, redis-rs sends `EVALSHA`, `SCRIPT LOAD`, `EVALSHA`).
pub(crate) fn marker_ttl(timeout: Duration) -> Duration {
    timeout
        .saturating_mul(10)
        .clamp(Duration::from_secs(5), Duration::from_secs(3600))
}

/// The identity of one [`GuardStore::hit`], by which [`GuardStore::abandon`] names it: 128
/// random bits (SipHash under keys the operating system drew), so that two hits of the
/// instances sharing a store do not share one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HitId(u128);

impl HitId {
    /// A new identity.
    pub fn random() -> Self {
        // Each `RandomState` has new keys: random per thread, then a step of one.
        let state = RandomState::new();
        let (high, low) = (state.hash_one(0_u8), state.hash_one(1_u8));
        Self(u128::from(high) << 64 | u128::from(low))
    }
}

/// 32 hex digits.
impl fmt::Display for HitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for HitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HitId({self})")
    }
}

/// A counter's current state, for [`GuardStore::peek`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CounterState {
    /// Events counted in the current window (GCRA: the events still pending).
    pub count: u64,
    /// When the window ends; `None` if the counter does not exist.
    pub resets_in: Option<Duration>,
}

/// Why a store could not answer.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The store is unreachable or failed.
    #[error("guard store unavailable: {0}")]
    Unavailable(String),
    /// The store did not answer within the guard's timeout.
    #[error("guard store did not answer within {0:?}")]
    Timeout(Duration),
    /// The in-memory store is at its capacity with no expired counter to evict.
    #[error("guard store is full ({0} counters)")]
    Full(usize),
    /// The call surely left nothing to run later: the store could not be reached (the
    /// connection was refused) or answered it with an error. The guard does not
    /// [abandon](GuardStore::abandon) such a hit.
    #[error("guard store unavailable: {0}")]
    Refused(String),
    /// The store's configuration cannot work (a malformed URL, a bad key prefix): retrying
    /// will not help. Its message never holds the URL's password.
    #[error("guard store misconfigured: {0}")]
    Config(String),
    /// The store refused the credentials it was given, or they lack a permission it needs.
    #[error("guard store refused the credentials: {0}")]
    Auth(String),
}

impl StoreError {
    /// Whether the failed call may still count, now or when it reaches the store: every error
    /// but [`Full`](Self::Full), [`Refused`](Self::Refused), [`Config`](Self::Config) and
    /// [`Auth`](Self::Auth).
    pub fn may_still_count(&self) -> bool {
        !matches!(
            self,
            Self::Full(_) | Self::Refused(_) | Self::Config(_) | Self::Auth(_)
        )
    }
}

/// Atomic counting with expiry, shared by every guard that should enforce the same limits.
#[async_trait]
pub trait GuardStore: Send + Sync + Debug {
    /// Atomically: if no counter [refuses](Counter::refuses) the request, adds each counter's
    /// cost (starting its window if it was absent) and answers `Allowed` with what it counted
    /// (a [`Reservation`]); otherwise changes nothing and answers `Denied` with the refusing counter
    /// that waits longest (the first of those that wait as long), so that a caller who waits
    /// as told is not refused by another counter of the same request. `id` names this hit to
    /// [`abandon`](Self::abandon).
    async fn hit(&self, counters: &[Counter], id: HitId) -> Result<Decision, StoreError>;

    /// Takes back what an allowed [`hit`](Self::hit) of `counters` added, when the event it
    /// reserved did not happen (the guard reserves a check's wrong code before the provider
    /// answers, so that checks in flight at once cannot all pass a limit; and a send the
    /// provider surely did not make). A fixed-window counter goes down by its cost, its window
    /// unchanged, only if it is still in the window `reservation` names (a window that ended
    /// meanwhile took the count with it, and a later one holds other events), and is removed
    /// when it reaches zero (its next event starts a new window, as for a counter never hit).
    /// A GCRA counter's theoretical arrival time goes back by the part of the hit's spacing
    /// still ahead, `min(cost × interval, end − now)` with `end` the time `reservation` names
    /// (none without one): spacing already over no longer holds later events back, and they
    /// were spaced from then on, not from the released event. It is removed when that reaches
    /// now. An absent or expired counter stays absent.
    async fn release(
        &self,
        counters: &[Counter],
        reservation: &Reservation,
    ) -> Result<(), StoreError>;

    /// Takes back hit `id` of `counters` if it was allowed, or is when it runs later, as
    /// [`release`](Self::release) would: the caller stopped waiting for its answer (a timeout,
    /// a lost connection, a cancelled request) and the event it reserved did not happen.
    /// A store whose hit can still count after its caller gave up (a request already sent to a
    /// server) must implement it; the default does nothing, which is right for a store whose
    /// hit is over when its future is first polled, such as [`MemoryStore`].
    async fn abandon(&self, counters: &[Counter], id: HitId) -> Result<(), StoreError> {
        let _ = (counters, id);
        Ok(())
    }

    /// The current state of `counters` (their keys and algorithms), in order, without changing
    /// them. For a GCRA counter, `count` is the events its pending time stands for (rounded
    /// up) and `resets_in` when it is back to none.
    async fn peek(&self, counters: &[Counter]) -> Result<Vec<CounterState>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_ids_differ_and_show_as_hex() {
        let ids: std::collections::HashSet<HitId> = (0..1000).map(|_| HitId::random()).collect();
        assert_eq!(ids.len(), 1000);
        let id = HitId(0xab);
        assert_eq!(id.to_string(), format!("{:0>32}", "ab"));
        assert_eq!(format!("{id:?}"), format!("HitId({id})"));
    }

    /// A marker lives ten response timeouts, at least 5 s and at most an hour: a response
    /// timeout of `Duration::MAX` ("no limit") gives an hour, a time to live Redis takes. (It
    /// gave `Duration::MAX`, which Redis refused at the marker's `SET … PX`, after counting.)
    #[test]
    fn a_markers_life_is_ten_timeouts_between_five_seconds_and_an_hour() {
        let ms = Duration::from_millis;
        for (timeout, life) in [
            (ms(0), ms(5_000)),
            (ms(200), ms(5_000)),
            (ms(2_000), ms(20_000)),
            (ms(360_000), ms(3_600_000)),
            (ms(400_000), ms(3_600_000)),
            (Duration::MAX, ms(3_600_000)),
        ] {
            assert_eq!(marker_ttl(timeout), life, "{timeout:?}");
        }
    }
}
