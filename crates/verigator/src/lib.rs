#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod client;
mod config;
mod error_table;
pub mod errors;
#[doc(hidden)]
pub mod fuzzing;
mod verifier;
pub mod wire;

pub use client::{MAX_CONCURRENT_SCANS, MAX_USER_LIST_BYTES, VerigatorClient};
pub use config::{
    DEFAULT_BASE_URL, DEFAULT_USER_CACHE_CAPACITY, IdScheme, MAX_ID_IN_SERVICE_LEN, MAX_ID_LEN,
    MAX_PIN_VALIDITY, PROVIDER, SANDBOX_PASSWORD, SANDBOX_USERNAME, VerigatorBuilder,
    VerigatorConfig, VerigatorSetting,
};
pub use verifier::{
    EXTRA_METHOD, EXTRA_REQUESTED_METHOD, EXTRA_SERVICE_ID, EXTRA_USER_ID, Verigator,
};
pub use wire::{AuthMethod, AuthStarted, PinStatus, PinVerification, Service, User, UserList};
