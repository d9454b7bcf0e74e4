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

pub use client::{
    AccessToken, CreateAppRegistration, CreateManualValidation, CreateProjectValidation,
    ListValidations, MAX_PAGE_SIZE, MAX_RENEWAL_MONTHS, TOKEN_VALIDITY, ValidatePhone,
    VerifikClient, VerifikPhone,
};
pub use config::{
    DEFAULT_BASE_URL, DEFAULT_RESOLVE_MAX_AGE, MAX_RESOLVE_MAX_AGE, MAX_TITLE_CHARS, ManualMode,
    Mode, PROVIDER, ProjectFlowMode, SANDBOX_TOKEN, VerifikBuilder, VerifikConfig, VerifikSetting,
};
pub use verifier::{
    EXTRA_COUNTRY_CODE, EXTRA_MODE, EXTRA_PHONE_GATEWAY, EXTRA_PROJECT, EXTRA_PROJECT_FLOW, Verifik,
};
pub use wire::{
    AppLogin, AppRegistration, EmailLogin, Pagination, PhoneGateway, PhoneValidation, Populate,
    ValidatedPhone, ValidationMethod, ValidationPage, ValidationStatus, ValidationType,
    WhatsAppTemplate,
};
