#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod app;
mod body;
mod bounded;
mod clock;
pub mod config;
mod control;
pub mod faults;
mod format;
#[doc(hidden)]
pub mod fuzzing;
mod handle;
pub mod model;
#[cfg(any(doctest, test))]
mod non_exhaustive;
mod otp;
mod phone;
mod server;
mod state;
mod texts;
pub mod totp;
mod twilio;
mod validate;
mod verifik;
mod verifykit;
mod verigator;
mod wire;

pub use config::{Balances, InitTheme, RateLimit, SandboxConfig, SendLimit};
pub use faults::{Fault, FaultAction};
pub use handle::{Sandbox, SandboxHandle};
pub use model::{
    Channel, ControlError, Provider, RequestLog, RequestRecord, SentMessage, TotpEnrollment,
};
