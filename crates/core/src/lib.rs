#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod channel;
mod code;
mod error;
mod ext;
mod extras;
pub mod http;
pub mod kit;
mod outcome;
mod phone;
mod provider;
mod request;
mod seal;
mod session;
mod text;
mod verification;
mod verifier;

pub use channel::{BlankChannel, Channel};
pub use code::Code;
pub use error::{Error, ErrorKind, Result};
pub use ext::{PhoneVerifierExt, SessionResolverExt};
pub use extras::{ExtraKey, Extras};
pub use outcome::{CheckOutcome, RejectReason, Rejection, Verified};
pub use phone::{NumberType, PhoneError, PhoneNumber};
pub use provider::{Capabilities, InvalidProviderId, ProviderId};
pub use request::{CheckRequest, Language, RequestContext, StartRequest};
pub use seal::{MAX_TOKEN_LEN, SEAL_KEY_LEN, SEAL_VERSION, SealError, SealKey, SealKeys};
pub use session::{ResolvedSession, SessionId};
pub use verification::{HANDLE_FORMAT, HANDLE_VERSION, ReverseFlow, Verification};
#[cfg(feature = "mock")]
pub use verifier::{MockPhoneVerifier, MockSessionResolver};
pub use verifier::{PhoneVerifier, SessionResolver};

/// The guide `docs/writing-a-provider.md`, whose examples compile as this crate's doc tests
/// (`cargo test -p phone-verify-core --doc`), so they keep up with the kit.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/writing-a-provider.md")]
pub struct WritingAProviderGuide;

/// Re-exported so provider crates and applications use the same versions.
pub use async_trait::async_trait;
/// Re-exported (feature `mock`) so tests of the mocks name mockall's `predicate`, `Sequence`
/// and `Times` at the version the mocks are built with.
#[cfg(feature = "mock")]
pub use mockall;
pub use reqwest;
pub use secrecy;
pub use time;
