#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod client;
mod config;
mod error_table;
mod errors;
mod verifier;
pub mod wire;

pub use client::{
    AccessToken, CreateAppRegistration, CreateManualValidation, CreateProjectValidation,
    ListValidations, MAX_PAGE_SIZE, MAX_RENEWAL_MONTHS, TOKEN_VALIDITY, ValidatePhone,
    VerifikClient, VerifikPhone,
};
pub use config::{
    DEFAULT_BASE_URL, ENV_ATTEMPT_TIMEOUT, ENV_BASE_URL, ENV_CONNECT_TIMEOUT, ENV_MAX_ATTEMPTS,
    ENV_MODE, ENV_OVERALL_TIMEOUT, ENV_PROJECT, ENV_PROJECT_CHANNEL, ENV_SANDBOX_URL, ENV_TITLE,
    ENV_TOKEN, ENV_VALIDATION_TYPE, ENV_WEBHOOK_URL, ENV_WHATSAPP_TEMPLATE, MAX_TITLE_CHARS,
    ManualMode, Mode, ProjectFlowMode, SANDBOX_TOKEN, VerifikBuilder, VerifikConfig,
};
pub use verifier::{
    EXTRA_COUNTRY_CODE, EXTRA_MODE, EXTRA_PHONE_GATEWAY, EXTRA_PROJECT, EXTRA_PROJECT_FLOW,
    PROVIDER, Verifik,
};
pub use wire::{
    AppLogin, AppRegistration, EmailLogin, Pagination, PhoneGateway, PhoneValidation, Populate,
    ValidatedPhone, ValidationMethod, ValidationPage, ValidationStatus, ValidationType,
    WhatsAppTemplate,
};
