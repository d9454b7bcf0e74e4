//! Checks, as doc tests that must not compile, that the types which may grow stay
//! `#[non_exhaustive]`: outside this crate, a `match` on [`Algorithm`](crate::Algorithm),
//! [`NumberKind`](crate::NumberKind) or [`StoreKind`](crate::StoreKind) needs a wildcard arm.
//!
//! ```compile_fail,E0004
//! use phone_verify_guard::Algorithm;
//!
//! fn name(algorithm: Algorithm) -> &'static str {
//!     match algorithm {
//!         Algorithm::FixedWindow => "fixed window",
//!         Algorithm::Gcra => "gcra",
//!     }
//! }
//! ```
//!
//! ```compile_fail,E0004
//! use phone_verify_guard::NumberKind;
//!
//! fn name(kind: NumberKind) -> &'static str {
//!     match kind {
//!         NumberKind::PremiumRate => "premium rate",
//!         NumberKind::SharedCost => "shared cost",
//!         NumberKind::TollFree => "toll free",
//!         NumberKind::Voip => "voip",
//!         NumberKind::PersonalNumber => "personal number",
//!         NumberKind::Pager => "pager",
//!         NumberKind::Uan => "uan",
//!         NumberKind::Voicemail => "voicemail",
//!         NumberKind::Unknown => "unknown",
//!     }
//! }
//! ```
//!
//! ```compile_fail,E0004
//! use phone_verify_guard::StoreKind;
//!
//! fn name(store: StoreKind) -> &'static str {
//!     match store {
//!         StoreKind::Memory => "memory",
//!         StoreKind::Redis => "redis",
//!     }
//! }
//! ```
