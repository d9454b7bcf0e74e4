#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod cache;
mod client;
mod config;
mod error_table;
mod errors;
mod lookup;
mod users;
mod verifier;
pub mod wire;

pub use cache::DEFAULT_USER_CACHE_CAPACITY;
pub use client::{MAX_USER_LIST_BYTES, VerigatorClient};
pub use config::{
    DEFAULT_BASE_URL, ENV_ATTEMPT_TIMEOUT, ENV_BASE_URL, ENV_CONNECT_TIMEOUT, ENV_ID_PREFIX,
    ENV_MAX_ATTEMPTS, ENV_OVERALL_TIMEOUT, ENV_PASSWORD, ENV_PIN_VALIDITY, ENV_SANDBOX_URL,
    ENV_SERVICE_ID, ENV_USERNAME, SANDBOX_PASSWORD, SANDBOX_USERNAME, VerigatorBuilder,
    VerigatorConfig,
};
pub use users::{IdScheme, MAX_ID_IN_SERVICE_LEN};
pub use verifier::{
    EXTRA_METHOD, EXTRA_REQUESTED_METHOD, EXTRA_SERVICE_ID, EXTRA_USER_ID, PROVIDER, Verigator,
};
pub use wire::{AuthMethod, AuthStarted, PinStatus, PinVerification, Service, User, UserList};
