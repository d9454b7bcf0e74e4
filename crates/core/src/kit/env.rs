//! [`EnvSetting`] and [`EnvReader`]: a provider's settings from the environment, typed.
//!
//! A provider declares its variables once, as an enum implementing [`EnvSetting`]; its
//! builder's `from_lookup` reads them through an [`EnvReader`], whose errors name the
//! variable; the facade's registry feeds the same lookup from a config file.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::http::config::parse_env_seconds;

/// One environment variable of a provider; implemented by the provider's settings enum.
///
/// ```
/// use phone_verify_core::kit::{EnvReader, EnvSetting};
///
/// #[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// enum AcmeSetting {
///     ApiKey,
///     Region,
/// }
///
/// impl EnvSetting for AcmeSetting {
///     const PREFIX: &'static str = "ACME";
///     const ALL: &'static [Self] = &[Self::ApiKey, Self::Region];
///     fn name(self) -> &'static str {
///         match self {
///             Self::ApiKey => "ACME_API_KEY",
///             Self::Region => "ACME_REGION",
///         }
///     }
///     fn meaning(self) -> &'static str {
///         match self {
///             Self::ApiKey => "the API key",
///             Self::Region => "the region, `eu` or `us`",
///         }
///     }
/// }
///
/// let env = EnvReader::new(|name: &str| (name == "ACME_REGION").then(|| " eu ".to_owned()));
/// assert_eq!(env.get(AcmeSetting::Region).as_deref(), Some("eu"));
/// assert!(env.require(AcmeSetting::ApiKey).unwrap_err().to_string().contains("ACME_API_KEY"));
/// ```
pub trait EnvSetting: Copy + fmt::Debug + 'static {
    /// The prefix every variable of the provider starts with, e.g. `VERIFYKIT`; also the prefix
    /// of its HTTP variables ([`HttpSettings::apply_env`](crate::http::HttpSettings::apply_env)).
    const PREFIX: &'static str;
    /// Every setting, in documentation order.
    const ALL: &'static [Self];
    /// The variable's name, e.g. `VERIFYKIT_SERVER_KEY`.
    fn name(self) -> &'static str;
    /// What it holds, in a few words (documentation, `--help`, error messages).
    fn meaning(self) -> &'static str;
}

/// Reads [`EnvSetting`]s through a lookup (`std::env::var`, a config file's table, a map in
/// tests). Values are trimmed; blank values count as unset.
pub struct EnvReader<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> EnvReader<F> {
    /// A reader over `lookup`.
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The variable named `name`, trimmed; `None` when unset or blank.
    pub fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The value of `setting`, trimmed; `None` when unset or blank.
    pub fn get<S: EnvSetting>(&self, setting: S) -> Option<String> {
        self.raw(setting.name())
    }

    /// The value of `setting`, or an [`InvalidInput`](crate::ErrorKind::InvalidInput) error
    /// saying it is not set and what it must hold.
    pub fn require<S: EnvSetting>(&self, setting: S) -> Result<String> {
        self.get(setting).ok_or_else(|| {
            Error::invalid_input(format!(
                "{} is not set: it must hold {}",
                setting.name(),
                setting.meaning()
            ))
        })
    }

    /// The value of `setting` parsed as `T`; a bad value is an error naming the variable and
    /// saying it must be `expected` (e.g. "an IPv4 or IPv6 address such as 203.0.113.7").
    pub fn parse<S: EnvSetting, T: FromStr>(
        &self,
        setting: S,
        expected: &str,
    ) -> Result<Option<T>> {
        self.get(setting)
            .map(|v| {
                v.parse().map_err(|_| {
                    Error::invalid_input(format!(
                        "{} must be {expected}, not {v:?}",
                        setting.name()
                    ))
                })
            })
            .transpose()
    }

    /// The value of `setting` as a number of seconds (decimals allowed), above 0 and at most a
    /// day.
    pub fn seconds<S: EnvSetting>(&self, setting: S) -> Result<Option<Duration>> {
        self.get(setting)
            .map(|v| parse_env_seconds(setting.name(), &v))
            .transpose()
    }

    /// The lookup itself, for [`HttpSettings::apply_env`](crate::http::HttpSettings::apply_env)
    /// and other readers of raw names.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |name| self.raw(name)
    }
}

impl<F> fmt::Debug for EnvReader<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvReader").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug)]
    enum S {
        Ttl,
        Ip,
    }

    impl EnvSetting for S {
        const PREFIX: &'static str = "T";
        const ALL: &'static [Self] = &[Self::Ttl, Self::Ip];
        fn name(self) -> &'static str {
            match self {
                Self::Ttl => "T_TTL_SECS",
                Self::Ip => "T_IP",
            }
        }
        fn meaning(self) -> &'static str {
            "a test value"
        }
    }

    fn reader(
        pairs: &'static [(&'static str, &'static str)],
    ) -> EnvReader<impl Fn(&str) -> Option<String>> {
        EnvReader::new(move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn reads_parses_and_names_bad_values() {
        let env = reader(&[("T_TTL_SECS", "90.5"), ("T_IP", " 2001:db8::7 ")]);
        assert_eq!(
            env.seconds(S::Ttl).unwrap(),
            Some(Duration::from_millis(90_500))
        );
        let ip: Option<std::net::IpAddr> = env.parse(S::Ip, "an IP address").unwrap();
        assert_eq!(ip, Some("2001:db8::7".parse().unwrap()));

        let bad = reader(&[("T_TTL_SECS", "inf"), ("T_IP", "localhost")]);
        assert!(
            bad.seconds(S::Ttl)
                .unwrap_err()
                .to_string()
                .contains("T_TTL_SECS")
        );
        let err = bad
            .parse::<_, std::net::IpAddr>(S::Ip, "an IP address")
            .unwrap_err();
        assert!(err.to_string().contains("T_IP must be an IP address"));

        let blank = reader(&[("T_IP", "   ")]);
        assert_eq!(blank.get(S::Ip), None);
        assert!(
            blank
                .require(S::Ip)
                .unwrap_err()
                .to_string()
                .contains("T_IP is not set")
        );
        assert_eq!(S::ALL.len(), 2);
    }
}
