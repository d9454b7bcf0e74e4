//! [`ProviderConfig`]: a provider and its settings, from a configuration file.

use std::collections::BTreeMap;
use std::fmt;

use phone_verify_core::Result;
use phone_verify_core::secrecy::{ExposeSecret, SecretString};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

/// A provider chosen by configuration, read from TOML by [`from_toml`](Self::from_toml) or
/// from JSON, YAML or any serde format, and built by [`Registry::build`](crate::Registry::build):
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
/// does not use is refused, so a typo does not go unnoticed; so is a setting given twice. An
/// error reading a setting names it, never its value.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProviderConfig {
    /// The provider's name in the [`Registry`](crate::Registry), e.g. `verifykit`.
    pub provider: String,
    /// The provider's settings (see above).
    #[serde(default, deserialize_with = "deserialize_settings")]
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

    /// Reads a TOML configuration; an error is [`ErrorKind::InvalidInput`] with toml's message
    /// after the place, `line:column: `, and never quotes the file.
    ///
    /// Prefer it to `toml::from_str`, whose error holds the whole file: its `Display` quotes
    /// the offending line and its `Debug` the whole text, credentials included, which
    /// `.unwrap()`, `.expect(…)` or a `Box<dyn Error>` returned from `main` then print.
    ///
    /// ```
    /// use phone_verify::{ErrorKind, ProviderConfig};
    ///
    /// let config = ProviderConfig::from_toml(r#"
    ///     provider = "verifik"
    ///     settings = { token = { env = "VERIFIK_TOKEN" }, mode = "manual" }
    /// "#)?;
    /// assert_eq!(config.provider, "verifik");
    ///
    /// let text = "provider = \"verifik\"\ntoken = \"sk-123\"";
    /// let err = ProviderConfig::from_toml(text).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// assert!(err.message().starts_with("2:1: unknown field `token`"), "{err}");
    /// assert!(!format!("{err} {err:?}").contains("sk-123"));
    /// # Ok::<(), phone_verify::Error>(())
    /// ```
    ///
    /// [`ErrorKind::InvalidInput`]: crate::ErrorKind::InvalidInput
    pub fn from_toml(text: &str) -> Result<Self> {
        crate::toml_file::from_toml(text)
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

/// The value of a setting in a [`ProviderConfig`]: a literal (a string, a number or a boolean)
/// or `{ "env": "VARIABLE" }`, a reference to an environment variable read when the provider
/// is built.
///
/// A literal is held as a [`SecretString`], whatever its kind: any setting may be a
/// credential (`password = 12345678` is an integer). It is read only by the provider's
/// factory, through [`Settings`](crate::Settings).
#[derive(Clone)]
pub struct SettingValue(Value);

#[derive(Clone)]
enum Value {
    /// A literal, as the provider reads it (a string, as from the environment), and its kind
    /// in the file, for `Debug`.
    Literal(Kind, SecretString),
    /// The name of an environment variable.
    Env(String),
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Text,
    Integer,
    Float,
    Bool,
}

impl SettingValue {
    /// A value read from the environment variable `variable` when the provider is built. A
    /// name other than letters, digits and `_` (not starting with a digit) is refused then,
    /// without being shown: it may be a value pasted in the wrong place.
    pub fn env(variable: impl Into<String>) -> Self {
        Self(Value::Env(variable.into()))
    }

    fn literal(kind: Kind, text: impl Into<SecretString>) -> Self {
        Self(Value::Literal(kind, text.into()))
    }

    /// The literal, as the provider reads it; `Err` with the variable's name for an
    /// environment reference, which the registry resolves.
    pub(crate) fn literal_or_env(&self) -> std::result::Result<&SecretString, &str> {
        match &self.0 {
            Value::Literal(_, value) => Ok(value),
            Value::Env(variable) => Err(variable),
        }
    }
}

/// Whether `name` can be an environment variable's name here: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_variable_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Shows the kind of a literal value, never the value nor its length: any setting may be a
/// credential (`password = 12345678` is an integer). An environment reference shows the
/// variable's name, which is not secret, when it is a valid name (`Env(..)` otherwise).
impl fmt::Debug for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Value::Literal(kind, _) => write!(f, "{kind:?}(..)"),
            Value::Env(variable) if is_variable_name(variable) => write!(f, "Env({variable:?})"),
            Value::Env(_) => f.write_str("Env(..)"),
        }
    }
}

impl From<&str> for SettingValue {
    fn from(value: &str) -> Self {
        Self::literal(Kind::Text, value)
    }
}

impl From<String> for SettingValue {
    fn from(value: String) -> Self {
        Self::literal(Kind::Text, value)
    }
}

impl From<SecretString> for SettingValue {
    fn from(value: SecretString) -> Self {
        Self(Value::Literal(Kind::Text, value))
    }
}

impl From<i64> for SettingValue {
    fn from(value: i64) -> Self {
        Self::literal(Kind::Integer, value.to_string())
    }
}

impl From<i32> for SettingValue {
    fn from(value: i32) -> Self {
        i64::from(value).into()
    }
}

impl From<u32> for SettingValue {
    fn from(value: u32) -> Self {
        i64::from(value).into()
    }
}

impl From<f64> for SettingValue {
    fn from(value: f64) -> Self {
        Self::literal(Kind::Float, value.to_string())
    }
}

impl From<bool> for SettingValue {
    fn from(value: bool) -> Self {
        Self::literal(Kind::Bool, value.to_string())
    }
}

impl<'de> Deserialize<'de> for SettingValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Reads a table of settings (a [`ProviderConfig`]'s or a route's): an error in a value is
/// prefixed with the setting's name, never its value (serde's own message names no key), and a
/// setting given twice is refused (JSON allows it; the last would silently win).
pub(crate) fn deserialize_settings<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<BTreeMap<String, SettingValue>, D::Error> {
    // `any`, not `map`: serde_json's `deserialize_map` refuses a non-object itself, quoting
    // it, where `any` hands it to the visitor, which refuses it unquoted.
    deserializer.deserialize_any(SettingsVisitor)
}

struct SettingsVisitor;

impl<'de> Visitor<'de> for SettingsVisitor {
    type Value = BTreeMap<String, SettingValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table of settings")
    }

    // Anything but a table is refused without the value (serde's default quotes it, and it
    // may be a credential written where the table belongs).
    fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<Self::Value, E> {
        Err(not_a_table("a string"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Err(not_a_table("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Err(not_a_table("a number"))
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> std::result::Result<Self::Value, E> {
        Err(not_a_table("a number"))
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> std::result::Result<Self::Value, E> {
        Err(not_a_table("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Err(not_a_table("a number"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Self::Value, E> {
        Err(not_a_table("a boolean"))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> std::result::Result<Self::Value, A::Error> {
        Err(not_a_table("a list"))
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut settings = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == TOML_DATETIME_KEY {
                return Err(not_a_table("a TOML date or time"));
            }
            if settings.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "setting {key:?} is given twice"
                )));
            }
            // The value's own error never shows the value (see `ValueVisitor`).
            let value = map.next_value::<SettingValue>().map_err(|e| {
                de::Error::custom(format_args!(
                    "setting {key:?}: {}",
                    e.to_string().trim_end()
                ))
            })?;
            settings.insert(key, value);
        }
        Ok(settings)
    }
}

/// The one key of the table toml hands a visitor for a date or a time (`1979-05-27`,
/// `00:10:00`): toml's way of passing them through serde, not a key anyone wrote.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

/// The error of `settings` written as something else than a table, `what`, never quoting it.
fn not_a_table<E: de::Error>(what: &str) -> E {
    E::custom(format_args!(
        "settings must be a table of settings, not {what}"
    ))
}

/// Takes every scalar, so that its errors (a list, a table other than `{ env = … }`) never
/// quote a value.
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = SettingValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a string, a number, a boolean or { "env": "VARIABLE" }"#)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<SettingValue, E> {
        Ok(SettingValue::literal(Kind::Text, v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<SettingValue, E> {
        Ok(SettingValue::literal(Kind::Text, v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<SettingValue, E> {
        Ok(v.into())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<SettingValue, E> {
        Ok(SettingValue::literal(Kind::Integer, v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> std::result::Result<SettingValue, E> {
        Ok(SettingValue::literal(Kind::Integer, v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> std::result::Result<SettingValue, E> {
        Ok(SettingValue::literal(Kind::Integer, v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<SettingValue, E> {
        Ok(v.into())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<SettingValue, E> {
        Ok(v.into())
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<SettingValue, A::Error> {
        let mut variable: Option<SettingValue> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == TOML_DATETIME_KEY {
                return Err(de::Error::custom(
                    "a TOML date or time is not a setting value",
                ));
            }
            if key != "env" || variable.is_some() {
                return Err(de::Error::custom(format!(
                    r#"a setting given as a table has exactly one key, "env", not {key:?}"#
                )));
            }
            variable = Some(map.next_value()?);
        }
        // Read as any value, so that a wrong one is refused without being quoted: the name of
        // a variable is no secret, but what is written in its place may be one.
        match variable.as_ref().map(|value| &value.0) {
            Some(Value::Literal(Kind::Text, name))
                if is_variable_name(name.expose_secret().trim()) =>
            {
                Ok(SettingValue::env(name.expose_secret().trim()))
            }
            _ => Err(de::Error::custom(
                "{ \"env\": \"VARIABLE\" } needs the name of an environment variable: letters, \
                 digits and '_', not starting with a digit",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The literal as the provider reads it, or the variable of an environment reference.
    fn read(value: &SettingValue) -> std::result::Result<&str, &str> {
        value.literal_or_env().map(ExposeSecret::expose_secret)
    }

    #[test]
    fn reads_every_kind_of_value() {
        let config: ProviderConfig = serde_json::from_str(
            r#"{"provider":"acme","settings":{"a":"x","b":3,"c":1.5,"d":true,"e":{"env":" HOME "},"f":18446744073709551615}}"#,
        )
        .unwrap();
        let s = &config.settings;
        assert_eq!(read(&s["a"]), Ok("x"));
        assert_eq!(read(&s["b"]), Ok("3"));
        assert_eq!(read(&s["c"]), Ok("1.5"));
        assert_eq!(read(&s["d"]), Ok("true"));
        assert_eq!(read(&s["e"]), Err("HOME"));
        assert_eq!(read(&s["f"]), Ok("18446744073709551615"));
        assert_eq!(read(&SettingValue::from(-7)), Ok("-7"));
        assert_eq!(read(&SettingValue::from(7_u32)), Ok("7"));
        let secret = SecretString::from("s-1");
        assert_eq!(read(&SettingValue::from(secret)), Ok("s-1"));
    }

    #[test]
    fn refuses_nested_values_and_unknown_fields() {
        let one_key = r#"exactly one key, "env""#;
        let a_name = "needs the name of an environment variable";
        for (bad, says) in [
            (
                r#"{"provider":"acme","settings":{"a":[1]}}"#,
                r#"setting "a": invalid type: sequence, expected a string, a number, a boolean or { "env": "VARIABLE" }"#,
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
            (r#"{"provider":"acme","settings":{"a":{"env":""}}}"#, a_name),
            (r#"{"provider":"acme","settings":{"a":{}}}"#, a_name),
            (r#"{"provider":"acme","settings":{"a":{"env":7}}}"#, a_name),
            (
                r#"{"provider":"acme","settings":{"a":{"env":{"env":"X"}}}}"#,
                a_name,
            ),
            (
                r#"{"provider":"acme","settings":[]}"#,
                "a table of settings",
            ),
            (r#"{"provider":"acme","setting":{}}"#, "unknown field"),
            (r#"{"settings":{}}"#, "missing field `provider`"),
        ] {
            let error = serde_json::from_str::<ProviderConfig>(bad).unwrap_err();
            assert!(error.to_string().contains(says), "{bad}: {error}");
        }
    }

    /// A wrong value is refused naming its setting, never quoting the value, in JSON and in
    /// TOML.
    #[test]
    fn a_wrong_value_names_its_setting_not_its_value() {
        let json = r#"{"provider":"acme","settings":{"mode":"m","token":[1,"canary"]}}"#;
        let error = serde_json::from_str::<ProviderConfig>(json).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(r#"setting "token": invalid type: sequence"#),
            "{error}"
        );
        assert!(!format!("{error} {error:?}").contains("canary"), "{error}");
        let error = ProviderConfig::from_toml(
            "provider = \"acme\"\n[settings]\nmode = \"m\"\ntoken = { env = \"canary value\" }\n",
        )
        .unwrap_err();
        assert!(
            error
                .message()
                .contains(r#"setting "token": { "env": "VARIABLE" } needs the name"#),
            "{error}"
        );
        assert!(!format!("{error} {error:?}").contains("canary"), "{error}");
    }

    /// A setting given twice is refused, naming it: JSON lets it through to the map, where the
    /// last value would silently win (TOML refuses it in its parser).
    #[test]
    fn a_setting_given_twice_is_refused() {
        let json =
            r#"{"provider":"acme","settings":{"token":"canary-1","mode":"m","token":"canary-2"}}"#;
        let error = serde_json::from_str::<ProviderConfig>(json).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(r#"setting "token" is given twice"#),
            "{error}"
        );
        assert!(!format!("{error} {error:?}").contains("canary"), "{error}");
        let once: ProviderConfig =
            serde_json::from_str(r#"{"provider":"acme","settings":{"token":"t","mode":"m"}}"#)
                .unwrap();
        assert_eq!(once.settings.len(), 2);
    }

    /// A TOML date or time is refused as a setting's value and as the table of settings,
    /// naming neither toml's private key nor the value.
    #[test]
    fn toml_dates_and_times_are_refused() {
        for (text, says) in [
            (
                "provider = \"acme\"\n[settings]\nttl = 00:10:00\n",
                r#"setting "ttl": a TOML date or time is not a setting value"#,
            ),
            (
                "provider = \"acme\"\nsettings = { key = { env = 1979-05-27 } }\n",
                r#"setting "key": a TOML date or time is not a setting value"#,
            ),
            (
                "provider = \"acme\"\nsettings = 1979-05-27T07:32:00Z\n",
                "settings must be a table of settings, not a TOML date or time",
            ),
        ] {
            let err = ProviderConfig::from_toml(text).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(err.message().contains(says), "{text}: {shown}");
            assert!(!shown.contains("toml_private"), "{shown}");
            assert!(
                !shown.contains("1979") && !shown.contains("00:10"),
                "{shown}"
            );
        }
    }

    /// 128-bit integers (from formats that give them) are literals like the 64-bit ones, and
    /// refused as a table of settings without being quoted.
    #[test]
    fn wide_integers_are_read_and_refused_unquoted() {
        use serde::de::IntoDeserializer;
        use serde::de::value::Error;

        let wide: std::result::Result<SettingValue, Error> =
            SettingValue::deserialize(u128::MAX.into_deserializer());
        assert_eq!(read(&wide.unwrap()), Ok(u128::MAX.to_string().as_str()));
        let negative: std::result::Result<SettingValue, Error> =
            SettingValue::deserialize(i128::MIN.into_deserializer());
        assert_eq!(read(&negative.unwrap()), Ok(i128::MIN.to_string().as_str()));
        for err in [
            deserialize_settings(12_345_678_i128.into_deserializer()).unwrap_err(),
            deserialize_settings(12_345_678_u128.into_deserializer()).unwrap_err(),
        ] {
            let err: Error = err;
            assert_eq!(
                err.to_string(),
                "settings must be a table of settings, not a number"
            );
        }
    }

    /// Every literal shows only its kind: a number or a boolean may be a credential too; an
    /// environment reference shows its variable only when it is a variable's name.
    #[test]
    fn debug_hides_every_literal() {
        let config = ProviderConfig::new("acme")
            .setting("token", "canary-secret")
            .setting("password", 12_345_678)
            .setting("ratio", 0.123_456_7)
            .setting("flag", true)
            .setting("key", SettingValue::env("ACME_KEY"))
            .setting("pasted", SettingValue::env("sk live/canary"));
        let shown = format!("{config:?}");
        for hidden in ["canary", "13", "12345678", "0.1234567", "true"] {
            assert!(!shown.contains(hidden), "{hidden} in {shown}");
        }
        assert_eq!(
            shown,
            r#"ProviderConfig { provider: "acme", settings: {"flag": Bool(..), "key": Env("ACME_KEY"), "password": Integer(..), "pasted": Env(..), "ratio": Float(..), "token": Text(..)} }"#
        );
    }

    #[test]
    fn variable_names_are_letters_digits_and_underscores() {
        for good in ["A", "_", "ACME_KEY_2", "home", "_1"] {
            assert!(is_variable_name(good), "{good}");
        }
        for bad in ["", "1A", "A-B", "A B", "sk live/abc", "É", "A=B"] {
            assert!(!is_variable_name(bad), "{bad}");
        }
    }
}
