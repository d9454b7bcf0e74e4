//! [`ProviderConfig`]: a provider and its settings, from a configuration file.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

/// A provider chosen by configuration, deserializable from JSON, TOML, YAML or any serde
/// format, and built by [`Registry::build`](crate::Registry::build):
///
/// ```
/// use phone_verify::ProviderConfig;
///
/// let config: ProviderConfig = serde_json::from_str(r#"{
///     "provider": "verifik",
///     "settings": { "token": { "env": "VERIFIK_TOKEN" }, "mode": "manual", "max_attempts": 2 }
/// }"#)?;
/// assert_eq!(config.provider, "verifik");
/// // Values never show in `Debug`: a setting may be a credential.
/// let shown = format!("{config:?}");
/// assert!(!shown.contains("manual") && !shown.contains('2'));
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// A provider's settings are the environment variables its `from_env` reads, without the
/// provider's prefix and in lowercase: VerifyKit's `VERIFYKIT_SERVER_KEY` is the setting
/// `server_key`, Verifik's `VERIFIK_MAX_ATTEMPTS` is `max_attempts`. A value is a string, a
/// number, a boolean, or `{ "env": "VARIABLE" }` to read it from the environment when the
/// provider is built, which keeps secrets out of configuration files. A setting the provider
/// does not use is refused, so a typo does not go unnoticed.
#[derive(Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProviderConfig {
    /// The provider's name in the [`Registry`](crate::Registry), e.g. `verifykit`.
    pub provider: String,
    /// The provider's settings (see above).
    #[serde(default)]
    pub settings: BTreeMap<String, SettingValue>,
}

impl ProviderConfig {
    /// A configuration of `provider` without settings.
    pub fn new(provider: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            settings: BTreeMap::new(),
        }
    }

    /// Adds or replaces a setting.
    ///
    /// ```
    /// use phone_verify::{ProviderConfig, SettingValue};
    ///
    /// let config = ProviderConfig::new("verifykit")
    ///     .setting("server_key", SettingValue::env("VERIFYKIT_SERVER_KEY"))
    ///     .setting("overall_timeout_secs", 20);
    /// assert_eq!(config.settings.len(), 2);
    /// ```
    #[must_use]
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<SettingValue>) -> Self {
        self.settings.insert(name.into(), value.into());
        self
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("provider", &self.provider)
            .field("settings", &self.settings)
            .finish()
    }
}

/// The value of a setting in a [`ProviderConfig`].
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum SettingValue {
    /// A string.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A number with a fraction.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// `{ "env": "VARIABLE" }`: the value of an environment variable, read when the provider
    /// is built; an unset variable is an error naming it.
    Env(String),
}

impl SettingValue {
    /// A value read from the environment variable `variable` when the provider is built.
    pub fn env(variable: impl Into<String>) -> Self {
        Self::Env(variable.into())
    }

    /// The value as the provider reads it (a string, as from the environment); `None` for an
    /// [`Env`](Self::Env) reference, which the registry resolves.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Self::Text(text) => Some(text.clone()),
            Self::Integer(n) => Some(n.to_string()),
            Self::Float(x) => Some(x.to_string()),
            Self::Bool(b) => Some(b.to_string()),
            Self::Env(_) => None,
        }
    }
}

/// Shows the kind of a literal value, never the value nor its length: any setting may be a
/// credential (`password = 12345678` is an integer). An [`Env`](SettingValue::Env) reference
/// shows the variable's name, which is not secret.
impl fmt::Debug for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(_) => f.write_str("Text(..)"),
            Self::Integer(_) => f.write_str("Integer(..)"),
            Self::Float(_) => f.write_str("Float(..)"),
            Self::Bool(_) => f.write_str("Bool(..)"),
            Self::Env(variable) => write!(f, "Env({variable:?})"),
        }
    }
}

impl From<&str> for SettingValue {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for SettingValue {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<i64> for SettingValue {
    fn from(value: i64) -> Self {
        Self::Integer(value)
    }
}

impl From<i32> for SettingValue {
    fn from(value: i32) -> Self {
        Self::Integer(value.into())
    }
}

impl From<u32> for SettingValue {
    fn from(value: u32) -> Self {
        Self::Integer(value.into())
    }
}

impl From<f64> for SettingValue {
    fn from(value: f64) -> Self {
        Self::Float(value)
    }
}

impl From<bool> for SettingValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl<'de> Deserialize<'de> for SettingValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = SettingValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a string, a number, a boolean or { "env": "VARIABLE" }"#)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SettingValue, E> {
        Ok(SettingValue::Text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<SettingValue, E> {
        Ok(SettingValue::Text(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SettingValue, E> {
        Ok(SettingValue::Integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<SettingValue, E> {
        Ok(i64::try_from(v)
            .map_or_else(|_| SettingValue::Text(v.to_string()), SettingValue::Integer))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<SettingValue, E> {
        Ok(SettingValue::Float(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<SettingValue, E> {
        Ok(SettingValue::Bool(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SettingValue, A::Error> {
        let mut variable: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "env" || variable.is_some() {
                return Err(de::Error::custom(format!(
                    r#"a setting given as a table has exactly one key, "env", not {key:?}"#
                )));
            }
            variable = Some(map.next_value()?);
        }
        match variable {
            Some(name) if !name.trim().is_empty() => Ok(SettingValue::Env(name.trim().to_owned())),
            _ => Err(de::Error::custom(
                r#"{ "env": "VARIABLE" } needs the name of an environment variable"#,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_of_value() {
        let config: ProviderConfig = serde_json::from_str(
            r#"{"provider":"acme","settings":{"a":"x","b":3,"c":1.5,"d":true,"e":{"env":"HOME"},"f":18446744073709551615}}"#,
        )
        .unwrap();
        let s = &config.settings;
        assert_eq!(s["a"], SettingValue::Text("x".into()));
        assert_eq!(s["b"].as_text().as_deref(), Some("3"));
        assert_eq!(s["c"].as_text().as_deref(), Some("1.5"));
        assert_eq!(s["d"].as_text().as_deref(), Some("true"));
        assert_eq!(s["e"], SettingValue::env("HOME"));
        assert_eq!(s["e"].as_text(), None);
        assert_eq!(s["f"].as_text().as_deref(), Some("18446744073709551615"));
    }

    #[test]
    fn refuses_nested_values_and_unknown_fields() {
        let one_key = r#"exactly one key, "env""#;
        for (bad, says) in [
            (
                r#"{"provider":"acme","settings":{"a":[1]}}"#,
                r#"expected a string, a number, a boolean or { "env": "VARIABLE" }"#,
            ),
            (
                r#"{"provider":"acme","settings":{"a":{"nested":1}}}"#,
                one_key,
            ),
            (
                r#"{"provider":"acme","settings":{"a":{"other":"Y"}}}"#,
                one_key,
            ),
            (
                r#"{"provider":"acme","settings":{"a":{"env":"X","other":"Y"}}}"#,
                one_key,
            ),
            (
                r#"{"provider":"acme","settings":{"a":{"env":"X","env":"Y"}}}"#,
                one_key,
            ),
            (
                r#"{"provider":"acme","settings":{"a":{"env":""}}}"#,
                "needs the name of an environment variable",
            ),
            (
                r#"{"provider":"acme","settings":{"a":{}}}"#,
                "needs the name of an environment variable",
            ),
            (r#"{"provider":"acme","setting":{}}"#, "unknown field"),
            (r#"{"settings":{}}"#, "missing field `provider`"),
        ] {
            let error = serde_json::from_str::<ProviderConfig>(bad).unwrap_err();
            assert!(error.to_string().contains(says), "{bad}: {error}");
        }
    }

    /// Every literal shows only its kind: a number or a boolean may be a credential too.
    #[test]
    fn debug_hides_every_literal() {
        let config = ProviderConfig::new("acme")
            .setting("token", "canary-secret")
            .setting("password", 12_345_678)
            .setting("ratio", 0.123_456_7)
            .setting("flag", true)
            .setting("key", SettingValue::env("ACME_KEY"));
        let shown = format!("{config:?}");
        for hidden in ["canary", "13", "12345678", "0.1234567", "true"] {
            assert!(!shown.contains(hidden), "{hidden} in {shown}");
        }
        assert_eq!(
            shown,
            r#"ProviderConfig { provider: "acme", settings: {"flag": Bool(..), "key": Env("ACME_KEY"), "password": Integer(..), "ratio": Float(..), "token": Text(..)} }"#
        );
    }
}
