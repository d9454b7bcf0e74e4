#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod builtin;
mod config;
pub mod providers;
mod registry;

#[doc(no_inline)]
pub use phone_verify_core::*;

pub use config::{ProviderConfig, SettingValue};
pub use registry::{BUILTIN_PROVIDERS, ENV_PROVIDER, Factory, Provider, Registry, Settings};
