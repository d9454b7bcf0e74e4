#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

// One-way modules: each imports only those above it.
mod client;
mod config;
mod error_table;
pub mod errors;
#[doc(hidden)]
pub mod fuzzing;
mod verifier;
pub mod wire;

pub use client::{
    App, BlacklistType, MIN_WHATSAPP_MESSAGE_CHARS, SendOtp, StartOptions, VerifyKitClient,
};
pub use config::{
    DEFAULT_API_URL, DEFAULT_REVERSE_FLOW_TTL, DEFAULT_WEB_REST_URL, MAX_REVERSE_FLOW_TTL,
    PROVIDER, SANDBOX_SERVER_KEY, VerifyKitBuilder, VerifyKitConfig, VerifyKitSetting,
};
pub use verifier::{EXTRA_APP, EXTRA_CODE_LENGTH, EXTRA_COUNTRY_CODE, EXTRA_FLOW, Flow, VerifyKit};
pub use wire::{
    AccessToken, BlacklistChange, Country, EmailCheck, EmailStarted, Localization, OtpSent,
    StartedValidation, ValidationCheck, ValidationMethod, ValidationMethodList, ValidationResult,
    WhatsAppMessageSent,
};
