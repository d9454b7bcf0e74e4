//! Checks, as doc tests that must not compile, that the types which may grow stay
//! `#[non_exhaustive]`: outside this crate, a `match` on [`Algorithm`](crate::Algorithm),
//! [`NumberKind`](crate::NumberKind), [`StoreKind`](crate::StoreKind) or
//! [`Subject`](crate::Subject) needs a wildcard arm, [`Denial`](crate::Denial) cannot be built
//! with a struct expression ([`Denial::new`](crate::Denial::new) builds it), and a pattern of
//! [`RuleStatus`](crate::RuleStatus) needs `..`.
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
//! ```compile_fail,E0004
//! use phone_verify_guard::Subject;
//!
//! fn name(subject: &Subject) -> &'static str {
//!     match subject {
//!         Subject::Phone(_) => "phone",
//!         Subject::Ip(_) => "ip",
//!     }
//! }
//! ```
//!
//! ```compile_fail,E0639
//! use phone_verify_guard::{Denial, Rule};
//!
//! let _ = Denial { rule: Rule::Store, retry_after: None };
//! ```
//!
//! ```compile_fail,E0638
//! use phone_verify_guard::RuleStatus;
//!
//! fn count(status: RuleStatus) -> u64 {
//!     let RuleStatus { rule, count, max, resets_in } = status;
//!     let _ = (rule, max, resets_in);
//!     count
//! }
//! ```
//!
//! The same code with a wildcard arm, or `..` in the pattern, compiles: the blocks above fail
//! for the attribute alone, not for a name that moved. The unit tests below list every variant
//! and field (exhaustive inside this crate), so that one added fails them until the lists here
//! are brought up to date.
//!
//! ```
//! use phone_verify_guard::{Algorithm, Denial, NumberKind, Rule, RuleStatus, StoreKind, Subject};
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
//!
//! fn subject(subject: &Subject) -> &'static str {
//!     match subject {
//!         Subject::Phone(_) => "phone",
//!         Subject::Ip(_) => "ip",
//!         _ => "other",
//!     }
//! }
//!
//! let _ = Denial::new(Rule::Store, None);
//!
//! fn count(status: RuleStatus) -> u64 {
//!     let RuleStatus { rule, count, max, resets_in, .. } = status;
//!     let _ = (rule, max, resets_in);
//!     count
//! }
//! ```

#[cfg(test)]
mod tests {
    use crate::{Algorithm, Denial, NumberKind, Rule, RuleStatus, StoreKind, Subject};

    #[test]
    fn the_lists_above_are_every_variant_and_field() {
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
        let subject = |subject| match subject {
            Subject::Phone(_) | Subject::Ip(_) => (),
        };
        let Denial { rule, retry_after } = Denial {
            rule: Rule::Store,
            retry_after: None,
        };
        assert_eq!((rule, retry_after), (Rule::Store, None));
        let status = |status: RuleStatus| {
            let RuleStatus {
                rule,
                count,
                max,
                resets_in,
            } = status;
            let _ = (rule, count, max, resets_in);
        };
        algorithm(Algorithm::Gcra);
        kind(NumberKind::Voip);
        store(StoreKind::Memory);
        subject(Subject::Ip(std::net::Ipv4Addr::LOCALHOST.into()));
        let _ = status;
    }
}
