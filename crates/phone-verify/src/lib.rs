#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs` (see `[package.metadata.docs.rs]`): items behind a feature
// show which one.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builtin;
mod config;
#[cfg(feature = "guard")]
mod guarded;
pub mod providers;
mod registry;
#[cfg(feature = "router")]
mod routing;
mod toml_file;

#[doc(no_inline)]
pub use phone_verify_core::{
    BlankChannel, Capabilities, Channel, CheckOutcome, CheckRequest, Code, Error, ErrorKind,
    ExtraKey, Extras, HANDLE_FORMAT, HANDLE_VERSION, InvalidProviderId, Language, MAX_TOKEN_LEN,
    NumberType, PhoneError, PhoneNumber, PhoneVerifier, PhoneVerifierExt, ProviderId, RejectReason,
    Rejection, RequestContext, ResolvedSession, Result, ReverseFlow, SEAL_KEY_LEN, SEAL_VERSION,
    SealError, SealKey, SealKeys, SessionId, SessionResolver, SessionResolverExt, StartRequest,
    Verification, Verified, async_trait, http, reqwest, secrecy, time,
};
#[cfg(feature = "mock")]
#[doc(no_inline)]
pub use phone_verify_core::{MockPhoneVerifier, MockSessionResolver, mockall};

/// Abuse protection: the `phone-verify-guard` crate (feature `guard`).
#[cfg(feature = "guard")]
pub use phone_verify_guard as guard;

pub use config::{ProviderConfig, SettingValue};
pub use registry::{BUILTIN_PROVIDERS, ENV_PROVIDER, Factory, Provider, Registry, Settings};
#[cfg(feature = "router")]
pub use routing::{RouteConfig, RoutingConfig};

/// The router (feature `router`): several providers behind one `PhoneVerifier`, with rules,
/// failover and health; see [`Registry::build_router`] to build one from configuration.
#[cfg(feature = "router")]
pub use phone_verify_router as router;
