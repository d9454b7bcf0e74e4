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
//!
//! The same code with a wildcard arm, or `..` in the pattern, compiles: the blocks above fail
//! for the attribute alone, not for a name that moved. The unit tests below list every variant
//! and field (exhaustive inside this crate), so that one added fails them until the lists here
//! are brought up to date.
//!
//! ```
//! use phone_verify_guard::{Algorithm, NumberKind, StoreKind};
//!
//! fn names(algorithm: Algorithm, kind: NumberKind, store: StoreKind) -> [&'static str; 3] {
//!     let algorithm = match algorithm {
//!         Algorithm::FixedWindow => "fixed window",
//!         Algorithm::Gcra => "gcra",
//!         _ => "other",
//!     };
//!     let kind = match kind {
//!         NumberKind::PremiumRate => "premium rate",
//!         NumberKind::SharedCost => "shared cost",
//!         NumberKind::TollFree => "toll free",
//!         NumberKind::Voip => "voip",
//!         NumberKind::PersonalNumber => "personal number",
//!         NumberKind::Pager => "pager",
//!         NumberKind::Uan => "uan",
//!         NumberKind::Voicemail => "voicemail",
//!         NumberKind::Unknown => "unknown",
//!         _ => "other",
//!     };
//!     let store = match store {
//!         StoreKind::Memory => "memory",
//!         StoreKind::Redis => "redis",
//!         _ => "other",
//!     };
//!     [algorithm, kind, store]
//! }
//! ```

#[cfg(test)]
mod tests {
    use crate::{Algorithm, NumberKind, StoreKind};

    #[test]
    fn the_lists_above_are_every_variant() {
        let algorithm = |algorithm| match algorithm {
            Algorithm::FixedWindow | Algorithm::Gcra => (),
        };
        let kind = |kind| match kind {
            NumberKind::PremiumRate
            | NumberKind::SharedCost
            | NumberKind::TollFree
            | NumberKind::Voip
            | NumberKind::PersonalNumber
            | NumberKind::Pager
            | NumberKind::Uan
            | NumberKind::Voicemail
            | NumberKind::Unknown => (),
        };
        let store = |store| match store {
            StoreKind::Memory | StoreKind::Redis => (),
        };
        algorithm(Algorithm::Gcra);
        kind(NumberKind::Voip);
        store(StoreKind::Memory);
    }
}
