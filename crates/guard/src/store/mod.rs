//! [`GuardStore`]: where the guard keeps its counters, atomically and with expiry.
//!
//! A fixed-window counter counts events in a window that starts at its first event and ends
//! `window` later, when the counter disappears; a GCRA counter keeps the theoretical arrival
//! time of the next event (see [`Algorithm`]). One call to [`GuardStore::hit`] decides a whole
//! request atomically: either every counter is under its limit and each is increased, or none
//! is; [`GuardStore::release`] takes an increase back (a counter back to nothing is removed).

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::fmt::Debug;
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Every counter was under its limit; those with a cost were increased.
    Allowed,
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
}

/// Atomic counting with expiry, shared by every guard that should enforce the same limits.
#[async_trait]
pub trait GuardStore: Send + Sync + Debug {
    /// Atomically: if no counter [refuses](Counter::refuses) the request, adds each counter's
    /// cost (starting its window if it was absent) and answers `Allowed`; otherwise changes
    /// nothing and answers `Denied` with the refusing counter that waits longest (the first
    /// of those that wait as long), so that a caller who waits as told is not refused by
    /// another counter of the same request.
    async fn hit(&self, counters: &[Counter]) -> Result<Decision, StoreError>;

    /// Takes back what an allowed [`hit`](Self::hit) of `counters` added, when the event it
    /// reserved did not happen (the guard reserves a check's wrong code before the provider
    /// answers, so that checks in flight at once cannot all pass a limit; and a send the
    /// provider surely did not make). A fixed-window counter goes down by its cost, its window
    /// unchanged, and is removed when it reaches zero (its next event starts a new window, as
    /// for a counter never hit); a GCRA counter's theoretical arrival time goes back by
    /// `cost × interval`, and the counter is removed when that reaches now. An absent or
    /// expired counter stays absent.
    async fn release(&self, counters: &[Counter]) -> Result<(), StoreError>;

    /// The current state of `counters` (their keys and algorithms), in order, without changing
    /// them. For a GCRA counter, `count` is the events its pending time stands for (rounded
    /// up) and `resets_in` when it is back to none.
    async fn peek(&self, counters: &[Counter]) -> Result<Vec<CounterState>, StoreError>;
}
