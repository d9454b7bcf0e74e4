//! [`GuardStore`]: where the guard keeps its counters, atomically and with expiry.
//!
//! A counter counts events in a window that starts at its first event and ends `window`
//! later, when the counter disappears. One call to [`GuardStore::hit`] decides a whole request
//! atomically: either every counter is under its limit and each is increased, or none is.

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;

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
}

impl Counter {
    /// Whether a counter at `count` refuses this request.
    pub fn refuses(&self, count: u64) -> bool {
        count.saturating_add(self.cost.max(1)) > self.max
    }
}

/// The store's answer to [`GuardStore::hit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Every counter was under its limit; those with a cost were increased.
    Allowed,
    /// The counter at `index` is at its limit; nothing was increased.
    Denied {
        /// The index of the refusing counter in the request.
        index: usize,
        /// When that counter's window ends.
        retry_after: Duration,
    },
}

/// A counter's current state, for [`GuardStore::peek`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CounterState {
    /// Events counted in the current window.
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
    /// nothing and answers `Denied` with the first refusing counter.
    async fn hit(&self, counters: &[Counter]) -> Result<Decision, StoreError>;

    /// The current state of `keys`, in order, without changing them.
    async fn peek(&self, keys: &[String]) -> Result<Vec<CounterState>, StoreError>;
}
