//! [`Rule`] and [`Denial`]: which rule refused a request, for applications to branch on.

use std::fmt;
use std::time::Duration;

use phone_verify_core::Error;

/// A rule of the guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// Seconds between two sends to one phone.
    ResendCooldown,
    /// Sends to one phone in a short window.
    PerPhone,
    /// Sends to one phone per day.
    PerPhoneDaily,
    /// Sends requested from one end-user IP.
    PerIp,
    /// Sends requested from one IPv4 /24.
    PerIpv4Subnet,
    /// Sends requested from one IPv6 /64.
    PerIpv6Subnet,
    /// Sends to one region per window (the SMS-pumping signal).
    PerRegion,
    /// A region not in the allow list, or in the deny list.
    Region,
    /// A refused number type (premium rate, …).
    NumberType,
    /// Wrong codes per verification.
    WrongCodesPerVerification,
    /// Wrong codes per phone.
    WrongCodesPerPhone,
    /// The application's global send budget (the breaker).
    GlobalBudget,
    /// The application's second, longer global budget.
    GlobalBudgetDaily,
    /// The store did not answer and the fail mode is closed.
    Store,
}

impl Rule {
    /// The rule's name, as in messages, logs, metrics and `GuardConfig` fields.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResendCooldown => "resend_cooldown",
            Self::PerPhone => "per_phone",
            Self::PerPhoneDaily => "per_phone_daily",
            Self::PerIp => "per_ip",
            Self::PerIpv4Subnet => "per_ipv4_24",
            Self::PerIpv6Subnet => "per_ipv6_64",
            Self::PerRegion => "per_region",
            Self::Region => "region",
            Self::NumberType => "number_type",
            Self::WrongCodesPerVerification => "wrong_codes_per_verification",
            Self::WrongCodesPerPhone => "wrong_codes_per_phone",
            Self::GlobalBudget => "global_budget",
            Self::GlobalBudgetDaily => "global_budget_daily",
            Self::Store => "store",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the guard refused a request: the source of its [`Error`], found with [`Denial::of`].
/// Fields may be added: outside this crate, build one with [`Denial::new`], and a pattern of
/// it needs `..`.
///
/// ```
/// use phone_verify_core::{Error, ErrorKind};
/// use phone_verify_guard::{Denial, Rule};
///
/// fn explain(err: &Error) -> String {
///     match Denial::of(err) {
///         Some(d) if d.rule == Rule::ResendCooldown => "wait before asking for a new code".into(),
///         Some(d) => format!("refused by {}", d.rule),
///         None => err.to_string(),
///     }
/// }
/// # let _ = explain(&Error::new(ErrorKind::Timeout, "x"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("refused by the guard's rule {rule}")]
#[non_exhaustive]
pub struct Denial {
    /// The rule that refused the request.
    pub rule: Rule,
    /// When the rule will allow it again, if it will.
    pub retry_after: Option<Duration>,
}

impl Denial {
    /// A denial by `rule`, which allows the request again after `retry_after`, if it will
    /// (for an application's tests, or a guard of its own).
    pub fn new(rule: Rule, retry_after: Option<Duration>) -> Self {
        Self { rule, retry_after }
    }

    /// The denial behind `err`, if the guard refused the request.
    pub fn of(err: &Error) -> Option<&Denial> {
        std::error::Error::source(err).and_then(|s| s.downcast_ref::<Denial>())
    }
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ErrorKind;

    use super::*;

    #[test]
    fn a_denial_built_with_new_is_found_behind_its_error() {
        let denial = Denial::new(Rule::PerPhone, Some(Duration::from_secs(7)));
        assert_eq!(
            (denial.rule, denial.retry_after),
            (Rule::PerPhone, Some(Duration::from_secs(7)))
        );
        let err = Error::new(ErrorKind::RateLimited, "slow down").with_source(denial);
        assert_eq!(Denial::of(&err), Some(&denial));
        let plain = Error::new(ErrorKind::RateLimited, "slow down");
        assert_eq!(Denial::of(&plain), None);
    }
}
