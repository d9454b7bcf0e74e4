#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod attempts;
mod client;
mod config;
mod error_table;
pub mod errors;
#[doc(hidden)]
pub mod fuzzing;
mod verifier;
pub mod wire;

pub use attempts::{Attempt, AttemptPage, ConversionStatus, ListAttempts};
pub use client::TwilioClient;
pub use config::{
    DEFAULT_BASE_URL, PROVIDER, SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_SERVICE_SID,
    TwilioBuilder, TwilioConfig, TwilioCredentials, TwilioSetting,
};
pub use verifier::{EXTRA_SERVICE_SID, Twilio, VERIFICATION_LIFETIME};
pub use wire::{
    CheckTarget, CreateService, CreateVerification, PageMeta, RiskCheck, Service, ServicePage,
    TwilioChannel, UpdateService, VerificationCheck, VerificationStatus, VerificationUpdate,
};
