#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod client;
mod config;
mod error_table;
pub mod errors;
mod verifier;
pub mod wire;

pub use client::{
    App, BlacklistType, MIN_WHATSAPP_MESSAGE_CHARS, SendOtp, StartOptions, VerifyKitClient,
};
pub use config::{
    DEFAULT_API_URL, DEFAULT_REVERSE_FLOW_TTL, DEFAULT_WEB_REST_URL, ENV_API_URL,
    ENV_ATTEMPT_TIMEOUT, ENV_CONNECT_TIMEOUT, ENV_FALLBACK_END_USER_IP, ENV_MAX_ATTEMPTS,
    ENV_OVERALL_TIMEOUT, ENV_REVERSE_FLOW_TTL, ENV_SANDBOX_URL, ENV_SERVER_KEY, ENV_WEB_REST_URL,
    SANDBOX_SERVER_KEY, VerifyKitBuilder, VerifyKitConfig,
};
pub use verifier::{
    EXTRA_APP, EXTRA_CODE_LENGTH, EXTRA_COUNTRY_CODE, EXTRA_FLOW, Flow, PROVIDER, VerifyKit,
};
pub use wire::{
    AccessToken, BlacklistChange, Country, EmailCheck, EmailStarted, Localization, OtpSent,
    StartedValidation, ValidationCheck, ValidationMethod, ValidationMethodList, ValidationResult,
    WhatsAppMessageSent,
};
