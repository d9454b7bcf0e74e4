#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod clock;
mod config;
mod denial;
mod guard;
mod keys;
#[cfg(any(doctest, test))]
mod non_exhaustive;
mod numbers;
mod settings;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Algorithm, FailMode, GuardConfig, Limit, NumberKind};
pub use denial::{Denial, Rule};
pub use guard::{Guard, GuardBuilder, MIN_SECRET_LEN, RuleStatus, Subject};
pub use settings::{ENV_CONFIG, ENV_PREFIX, ENV_REDIS_URL, ENV_SECRET, GuardSettings, StoreKind};
pub use store::{GuardStore, MemoryStore};
#[cfg(feature = "redis")]
pub use store::{RedisStore, RedisStoreBuilder};
