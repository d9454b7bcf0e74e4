//! [`GuardConfig`]: every rule, on or off and tunable, with safe defaults (see the crate's
//! README for why each default is what it is).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use phone_verify_core::kit::mask_phone_field;
use serde::{Deserialize, Serialize};

/// How a [`Limit`] counts.
///
/// With a fixed window, `max` events fit in the window that starts at the first of them, and
/// `max` more as soon as it ends: a burst at the window's edge gets up to twice `max` through
/// in a moment. GCRA (the generic cell rate algorithm, a sliding limit) spaces events by
/// `window / max` and lets at most `max` through in *any* span of `window`.
///
/// New algorithms may be added: a [`GuardStore`](crate::store::GuardStore) answers a counter
/// of one it does not count with [`StoreError::Refused`](crate::store::StoreError::Refused),
/// so that the guard's fail modes apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Algorithm {
    /// A window that starts at the first event and resets when it ends (the default).
    #[default]
    FixedWindow,
    /// GCRA: at most `max` in any span of `window`, capacity coming back at `max / window`.
    Gcra,
}

/// A count allowed within a window, e.g. 5 sends per 10 minutes. A limit of `0` refuses
/// everything; a rule set to `None` is off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// How many are allowed in a window.
    pub max: u32,
    /// The window, in seconds. With a fixed window it starts at the first counted event and
    /// the counter resets when it ends.
    pub window_secs: u64,
    /// How the limit counts (default `fixed_window`; `gcra` for a sliding limit).
    #[serde(default)]
    pub algorithm: Algorithm,
}

impl Limit {
    /// `max` per `window`.
    pub const fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window_secs: window.as_secs(),
            algorithm: Algorithm::FixedWindow,
        }
    }

    /// `max` per hour.
    pub const fn per_hour(max: u32) -> Self {
        Self::new(max, Duration::from_secs(3600))
    }

    /// `max` per day.
    pub const fn per_day(max: u32) -> Self {
        Self::new(max, Duration::from_secs(86_400))
    }

    /// The same count in another window.
    #[must_use]
    pub const fn with_window(self, window: Duration) -> Self {
        Self {
            window_secs: window.as_secs(),
            ..self
        }
    }

    /// The same limit counted with `algorithm`.
    #[must_use]
    pub const fn with_algorithm(self, algorithm: Algorithm) -> Self {
        Self { algorithm, ..self }
    }

    /// The window.
    pub fn window(&self) -> Duration {
        Duration::from_secs(self.window_secs)
    }
}

/// What the guard does when its store cannot answer in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// Let the request through, unguarded.
    Open,
    /// Refuse it with a typed error (`ProviderUnavailable`, rule `store`).
    Closed,
}

/// A kind of number the number-type rule can refuse, from libphonenumber's metadata. New kinds
/// may be added: a `match` on it needs a wildcard arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NumberKind {
    /// Premium-rate numbers: the classic SMS-pumping target.
    PremiumRate,
    /// Shared-cost numbers.
    SharedCost,
    /// Toll-free numbers (they cannot receive SMS in most countries).
    TollFree,
    /// Voice-over-IP numbers.
    Voip,
    /// Personal numbers (forwarding).
    PersonalNumber,
    /// Pagers.
    Pager,
    /// Universal access numbers.
    Uan,
    /// Voicemail access numbers.
    Voicemail,
    /// Numbers libphonenumber does not recognize as any type.
    Unknown,
}

/// The guard's rules and settings. Every rule is an `Option`: `None` turns it off, written
/// `"off"` in a file (`per_ip = "off"`), since a field left out takes its default.
///
/// Deserializes from TOML or any self-describing serde format; missing fields take their
/// defaults, and a rule that is off serializes as `"off"` (a null also reads as off). A rule
/// that is a number also reads one written as a string (`"60"`, as config-rs gives an
/// environment variable). Fields may be added, each with a default: in code, end a struct
/// expression with
/// `..GuardConfig::default()`.
///
/// ```
/// use phone_verify_guard::{GuardConfig, Limit};
///
/// let config: GuardConfig = toml::from_str(r#"
///     per_phone = { max = 3, window_secs = 600 }
///     deny_regions = ["XK"]
/// "#)?;
/// assert_eq!(config.per_phone, Some(Limit::new(3, std::time::Duration::from_secs(600))));
/// assert_eq!(config.resend_cooldown_secs, GuardConfig::default().resend_cooldown_secs);
///
/// let off: GuardConfig = toml::from_str(r#"per_ip = "off""#)?;
/// assert_eq!(off.per_ip, None);
/// # Ok::<(), toml::de::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardConfig {
    /// Sends to one phone in a short window (default 5 per 10 minutes).
    #[serde(with = "off")]
    pub per_phone: Option<Limit>,
    /// Sends to one phone per day (default 10).
    #[serde(with = "off")]
    pub per_phone_daily: Option<Limit>,
    /// Seconds between two sends to one phone (default 30).
    #[serde(with = "off")]
    pub resend_cooldown_secs: Option<u64>,
    /// Sends requested from one end-user IP (default 10 per hour).
    #[serde(with = "off")]
    pub per_ip: Option<Limit>,
    /// Sends requested from one IPv4 /24 (default 50 per hour).
    #[serde(with = "off")]
    pub per_ipv4_24: Option<Limit>,
    /// Sends requested from one IPv6 /64 (default 20 per hour).
    #[serde(with = "off")]
    pub per_ipv6_64: Option<Limit>,
    /// Sends to one region (ISO country, or the calling code for non-geographic numbers) per
    /// window: the SMS-pumping signal (default 1,000 per hour).
    #[serde(with = "off")]
    pub per_region: Option<Limit>,
    /// Per-region limits that replace `per_region` for those regions, e.g. a low limit for a
    /// country where the application has no users.
    pub region_overrides: BTreeMap<String, Limit>,
    /// If not empty, only these regions (ISO 3166-1 alpha-2) may receive codes.
    pub allow_regions: Vec<String>,
    /// These regions never receive codes.
    pub deny_regions: Vec<String>,
    /// Number types that never receive codes (default premium rate, shared cost, toll free,
    /// personal numbers, pagers, UAN, voicemail; add `voip` to refuse VoIP numbers).
    pub refuse_number_types: Vec<NumberKind>,
    /// Wrong codes accepted per verification before the guard rejects every further check of
    /// it with `TooManyAttempts` (default 5). They are counted from the first until an hour
    /// past the handle's `expires_at` (at least a day, at most a year), so the lock lasts as
    /// long as the verification; for a day when the handle has no `expires_at`.
    #[serde(with = "off")]
    pub wrong_codes_per_verification: Option<u32>,
    /// Wrong codes per phone (default 15 per day); past it, checks for that phone are
    /// rate-limited.
    #[serde(with = "off")]
    pub wrong_codes_per_phone: Option<Limit>,
    /// Sends by the whole application per window (default none: set it to your expected
    /// traffic times a margin); when spent, the breaker is open and every send is blocked
    /// until the window ends.
    #[serde(with = "off")]
    pub global_budget: Option<Limit>,
    /// A second, longer global budget (e.g. per day).
    #[serde(with = "off")]
    pub global_budget_daily: Option<Limit>,
    /// Test numbers (E.164) that bypass every send rule; the wrong-code limits still apply to
    /// their checks.
    pub allowlist: Vec<String>,
    /// What to do with a send when the store does not answer (default closed).
    pub send_fail_mode: FailMode,
    /// What to do with a check when the store does not answer (default open: a check sends
    /// nothing). Open, the wrong-code limits are not enforced while the store fails (down,
    /// slow or full): with a provider that has no attempt limit of its own, codes could be
    /// guessed meanwhile, so choose closed.
    pub check_fail_mode: FailMode,
    /// How long the guard waits for its store, in milliseconds (default 200, at most 60,000:
    /// a minute). A decision it stopped waiting for fails (the fail mode applies); should the
    /// store count it late, it is taken back, best effort
    /// ([`GuardStore::abandon`](crate::GuardStore::abandon)), unless the request went ahead
    /// (fail open) and its event may have happened: a send the provider may have made, a check
    /// that may have been a wrong code.
    pub store_timeout_ms: u64,
}

/// Every rule as it is, but each allowlisted number masked as one phone number, every digit
/// but the last two whatever separates them (`+*********61`, `+**/***/***/**67`).
impl fmt::Debug for GuardConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            per_phone,
            per_phone_daily,
            resend_cooldown_secs,
            per_ip,
            per_ipv4_24,
            per_ipv6_64,
            per_region,
            region_overrides,
            allow_regions,
            deny_regions,
            refuse_number_types,
            wrong_codes_per_verification,
            wrong_codes_per_phone,
            global_budget,
            global_budget_daily,
            allowlist,
            send_fail_mode,
            check_fail_mode,
            store_timeout_ms,
        } = self;
        let allowlist: Vec<String> = allowlist.iter().map(|n| mask_phone_field(n)).collect();
        f.debug_struct("GuardConfig")
            .field("per_phone", per_phone)
            .field("per_phone_daily", per_phone_daily)
            .field("resend_cooldown_secs", resend_cooldown_secs)
            .field("per_ip", per_ip)
            .field("per_ipv4_24", per_ipv4_24)
            .field("per_ipv6_64", per_ipv6_64)
            .field("per_region", per_region)
            .field("region_overrides", region_overrides)
            .field("allow_regions", allow_regions)
            .field("deny_regions", deny_regions)
            .field("refuse_number_types", refuse_number_types)
            .field("wrong_codes_per_verification", wrong_codes_per_verification)
            .field("wrong_codes_per_phone", wrong_codes_per_phone)
            .field("global_budget", global_budget)
            .field("global_budget_daily", global_budget_daily)
            .field("allowlist", &allowlist)
            .field("send_fail_mode", send_fail_mode)
            .field("check_fail_mode", check_fail_mode)
            .field("store_timeout_ms", store_timeout_ms)
            .finish()
    }
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            per_phone: Some(Limit::new(5, Duration::from_secs(600))),
            per_phone_daily: Some(Limit::per_day(10)),
            resend_cooldown_secs: Some(30),
            per_ip: Some(Limit::per_hour(10)),
            per_ipv4_24: Some(Limit::per_hour(50)),
            per_ipv6_64: Some(Limit::per_hour(20)),
            per_region: Some(Limit::per_hour(1000)),
            region_overrides: BTreeMap::new(),
            allow_regions: Vec::new(),
            deny_regions: Vec::new(),
            refuse_number_types: vec![
                NumberKind::PremiumRate,
                NumberKind::SharedCost,
                NumberKind::TollFree,
                NumberKind::PersonalNumber,
                NumberKind::Pager,
                NumberKind::Uan,
                NumberKind::Voicemail,
            ],
            wrong_codes_per_verification: Some(5),
            wrong_codes_per_phone: Some(Limit::per_day(15)),
            global_budget: None,
            global_budget_daily: None,
            allowlist: Vec::new(),
            send_fail_mode: FailMode::Closed,
            check_fail_mode: FailMode::Open,
            store_timeout_ms: 200,
        }
    }
}

impl GuardConfig {
    /// Every rule off: a starting point to turn on only some.
    pub fn off() -> Self {
        Self {
            per_phone: None,
            per_phone_daily: None,
            resend_cooldown_secs: None,
            per_ip: None,
            per_ipv4_24: None,
            per_ipv6_64: None,
            per_region: None,
            region_overrides: BTreeMap::new(),
            allow_regions: Vec::new(),
            deny_regions: Vec::new(),
            refuse_number_types: Vec::new(),
            wrong_codes_per_verification: None,
            wrong_codes_per_phone: None,
            global_budget: None,
            global_budget_daily: None,
            allowlist: Vec::new(),
            ..Self::default()
        }
    }

    /// The store timeout.
    pub fn store_timeout(&self) -> Duration {
        Duration::from_millis(self.store_timeout_ms)
    }
}

/// The serde form of a rule that can be off (`#[serde(with = "off")]`): `None` is the string
/// `"off"`, as in the `PHONE_VERIFY_GUARD_*` variables, since a file cannot leave out a field
/// whose default is on (TOML has no null). A null (JSON) still reads as off.
mod off {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
    use serde::de::{self, IntoDeserializer, Unexpected, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// What stands for a rule that is off.
    const OFF: &str = "off";

    #[allow(clippy::ref_option)] // serde hands the field by reference
    pub(super) fn serialize<T: Serialize, S: Serializer>(
        rule: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match rule {
            Some(value) => value.serialize(serializer),
            None => serializer.serialize_str(OFF),
        }
    }

    pub(super) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_any(OffOr(PhantomData))
    }

    /// Reads `"off"` (or a null) as `None`, and what `T` reads (a number, a table) as it.
    struct OffOr<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for OffOr<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number, a limit { max, window_secs } or \"off\"")
        }

        /// `"off"`, or a number written as a string (an environment variable read by a
        /// source such as config-rs) where `T` is a number; any other string is refused.
        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            if value == OFF {
                return Ok(None);
            }
            let number = value.parse::<u64>().ok().and_then(|number| {
                T::deserialize(IntoDeserializer::<E>::into_deserializer(number)).ok()
            });
            // Not quoted: a value pasted in the wrong place may be a secret.
            number.map(Some).ok_or_else(|| {
                E::invalid_value(Unexpected::Other("a string other than off"), &self)
            })
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
            T::deserialize(value.into_deserializer()).map(Some)
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
            T::deserialize(value.into_deserializer()).map(Some)
        }

        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map)).map(Some)
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            T::deserialize(SeqAccessDeserializer::new(seq)).map(Some)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
            inner.deserialize_any(self)
        }
    }

    #[cfg(test)]
    mod tests {
        use serde::Deserialize;
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, MapDeserializer, UnitDeserializer};

        use super::deserialize;
        use crate::GuardConfig;

        /// `"off"` and a null are off, a number is itself, and another string is refused
        /// without being quoted.
        #[test]
        fn off_a_null_or_a_value() {
            let off = deserialize::<u64, _>(IntoDeserializer::<Error>::into_deserializer("off"));
            assert_eq!(off, Ok(None));
            let null = deserialize::<u64, _>(UnitDeserializer::<Error>::new());
            assert_eq!(null, Ok(None));
            let secs = deserialize::<u64, _>(IntoDeserializer::<Error>::into_deserializer(60_u64));
            assert_eq!(secs, Ok(Some(60)));
            let err = deserialize::<u64, _>(IntoDeserializer::<Error>::into_deserializer("canary"))
                .unwrap_err();
            assert!(!err.to_string().contains("canary"), "{err}");
            assert!(err.to_string().contains("\"off\""), "{err}");
        }

        /// A source that gives every value as a string (config-rs reading
        /// `APP_GUARD__RULES__RESEND_COOLDOWN_SECS=60`) sets a numeric rule from a number
        /// string, and turns any rule off with `"off"`; a rule that is a limit takes no number,
        /// and another string is refused. (A number string was refused once rules read `"off"`.)
        #[test]
        fn a_number_string_sets_a_numeric_rule() {
            let read = |field: &'static str, value: &'static str| {
                let map = MapDeserializer::<_, Error>::new(std::iter::once((field, value)));
                GuardConfig::deserialize(map)
            };
            let config = read("resend_cooldown_secs", "60").unwrap();
            assert_eq!(config.resend_cooldown_secs, Some(60));
            let config = read("wrong_codes_per_verification", "7").unwrap();
            assert_eq!(config.wrong_codes_per_verification, Some(7));
            let config = read("resend_cooldown_secs", "off").unwrap();
            assert_eq!(config.resend_cooldown_secs, None);
            let config = read("per_ip", "off").unwrap();
            assert_eq!(config.per_ip, None);
            for (field, value) in [
                ("per_ip", "10"),
                ("resend_cooldown_secs", "-1"),
                ("resend_cooldown_secs", "sixty"),
                ("wrong_codes_per_verification", "4294967296"),
            ] {
                let err = read(field, value).unwrap_err().to_string();
                assert!(err.contains("a string other than off"), "{field}: {err}");
                assert!(!err.contains(value), "{field}: {err}");
            }
        }
    }
}
