//! [`EnvSetting`] and [`EnvReader`]: a provider's settings from the environment, typed.
//!
//! A provider declares its variables once, as an enum implementing [`EnvSetting`]; its
//! builder's `from_secret_lookup` (and `from_lookup`, `from_env`) reads them through an
//! [`EnvReader`], whose errors name the variable and never show a value; the facade's registry
//! feeds the same lookup from a config file.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::http::config::{HttpSetting, parse_env_seconds};

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
///     fn is_secret(self) -> bool {
///         matches!(self, Self::ApiKey)
///     }
/// }
///
/// let env = EnvReader::new(|name: &str| (name == "ACME_REGION").then(|| " eu ".to_owned()));
/// assert_eq!(env.get(AcmeSetting::Region).as_deref(), Some("eu"));
/// let err = env.require_secret(AcmeSetting::ApiKey).unwrap_err();
/// assert!(err.to_string().contains("ACME_API_KEY"));
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
    /// Whether it holds a credential, which a provider reads from [`EnvReader`] only as a secret
    /// ([`get_secret`](EnvReader::get_secret), [`require_secret`](EnvReader::require_secret)).
    /// Reading it with a plain accessor is the provider's bug: a `debug_assert!` panics naming
    /// the variable in debug builds, so the provider's tests catch it; release builds return
    /// the value. `false` unless the provider says so.
    fn is_secret(self) -> bool {
        false
    }
}

/// An error `message` about a configuration `text`, placed: `line:column: message` for byte
/// `at` (1-based, in characters, as compilers write a place), the message alone without a
/// place. Points at the place without quoting the text, which may hold credentials (toml's
/// own error quotes the offending line), and shows no value serde quotes in the message (an
/// unknown variant, a string, a character: `store = "redis://:password@host"` is
/// ``unknown variant (not shown), expected `memory` or `redis` ``); field names and what
/// was expected stay.
pub fn placed_message(text: &str, at: Option<usize>, message: &str) -> String {
    let message = without_values(message.trim_end());
    match at {
        Some(at) => {
            let (line, column) = line_and_column(text, at);
            format!("{line}:{column}: {message}")
        }
        None => message,
    }
}

/// What stands in `message` for a value serde quoted.
const NOT_SHOWN: &str = "(not shown)";

/// The values serde writes into its messages, each after its opening: a variant's name
/// (`` unknown variant `…` ``), a string (`string "…"`, escaped as `Debug` writes it), a
/// character (`` character `…` ``, as it is) and a number or a boolean (`` integer `…` ``,
/// `` floating point `…` ``, `` boolean `…` ``: an all-digit secret pasted unquoted where a
/// string belongs is a number). Serde's other unexpected values are a kind (`byte array`,
/// `map`, `unit`), written without a value.
const QUOTED_VALUES: [(&str, Quote); 6] = [
    ("unknown variant `", Quote::Variant),
    ("string \"", Quote::Debug),
    ("character `", Quote::Char),
    ("integer `", Quote::Tick),
    ("floating point `", Quote::Tick),
    ("boolean `", Quote::Tick),
];

/// How serde quotes a value in a message.
#[derive(Clone, Copy)]
enum Quote {
    /// `` `{}` ``, followed by `, expected …` or `, there are no variants`.
    Variant,
    /// `{:?}`: `"` and `\` escaped inside.
    Debug,
    /// `` `{}` `` around one character.
    Char,
    /// `` `{}` `` around text without a backtick (a number, `true`, `false`).
    Tick,
}

/// `message` with every value serde quoted in it replaced by [`NOT_SHOWN`], the rest as it
/// is. A quote that does not end hides the rest of the message. Linear in the message's
/// length: each opening is looked for again only once the cursor has passed where it was
/// last found (a key the user typed may hold thousands of openings).
fn without_values(message: &str) -> String {
    let mut shown = String::with_capacity(message.len());
    let mut from = 0;
    let mut next = QUOTED_VALUES.map(|(opening, _)| message.find(opening));
    loop {
        for (found, (opening, _)) in next.iter_mut().zip(QUOTED_VALUES) {
            if let Some(at) = *found
                && at < from
            {
                *found = message[from..].find(opening).map(|at| at + from);
            }
        }
        let Some((at, (opening, quote))) = next
            .iter()
            .zip(QUOTED_VALUES)
            .filter_map(|(found, value)| found.map(|at| (at, value)))
            .min_by_key(|&(at, _)| at)
        else {
            break;
        };
        // The opening without its quotation mark, then the value's stand-in.
        let value = at + opening.len();
        shown.push_str(&message[from..value - 1]);
        shown.push_str(NOT_SHOWN);
        from = value + quoted_len(&message[value..], quote);
    }
    shown.push_str(&message[from..]);
    shown
}

/// The length of the value at the start of `rest` with its closing quotation mark: all of
/// `rest` when it does not end.
fn quoted_len(rest: &str, quote: Quote) -> usize {
    match quote {
        // The name is written unescaped: it ends before the last of serde's endings.
        Quote::Variant => ["`, expected ", "`, there are no variants"]
            .iter()
            .filter_map(|ending| rest.rfind(ending))
            .max()
            .map_or(rest.len(), |end| end + 1),
        Quote::Debug => {
            let mut bytes = rest.bytes().enumerate();
            while let Some((i, b)) = bytes.next() {
                match b {
                    b'\\' => {
                        bytes.next();
                    }
                    b'"' => return i + 1,
                    _ => {}
                }
            }
            rest.len()
        }
        Quote::Char => {
            let first = rest.chars().next().map_or(0, char::len_utf8);
            match rest[first..].find('`') {
                Some(end) => first + end + 1,
                None => rest.len(),
            }
        }
        Quote::Tick => rest.find('`').map_or(rest.len(), |end| end + 1),
    }
}

/// The 1-based line and column (in characters) of byte `at` in `text`; a byte past the end
/// is the end's place.
fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Checks a provider's settings enum `S`: every name unique and under `{PREFIX}_`, every
/// meaning written, and every [`HttpSetting`] listed under the prefix, none of them secret
/// ([`HttpSettings::apply_env`](crate::http::HttpSettings::apply_env) reads them as plain
/// text). The error says what is wrong; a provider's unit test asserts
/// `check_env_settings::<S>()` is `Ok`.
pub fn check_env_settings<S: EnvSetting>() -> std::result::Result<(), String> {
    let prefix = format!("{}_", S::PREFIX);
    let mut seen = std::collections::HashSet::new();
    for setting in S::ALL {
        let name = setting.name();
        if !name.starts_with(&prefix) {
            return Err(format!("{setting:?} is named {name}, not under {prefix}"));
        }
        if !seen.insert(name) {
            return Err(format!("{name} is named twice"));
        }
        if setting.meaning().trim().is_empty() {
            return Err(format!("{name} has no meaning"));
        }
    }
    let http: Vec<String> = HttpSetting::ALL
        .iter()
        .map(|http| http.name(S::PREFIX))
        .collect();
    if let Some(missing) = http.iter().find(|name| !seen.contains(name.as_str())) {
        return Err(format!("{missing} is not among the settings"));
    }
    match S::ALL
        .iter()
        .find(|setting| setting.is_secret() && http.iter().any(|name| name == setting.name()))
    {
        Some(secret) => Err(format!(
            "{} is secret, but the HTTP settings are read as plain text",
            secret.name()
        )),
        None => Ok(()),
    }
}

/// Declares a provider's settings enum: the variants given, each `Variant = "SUFFIX" =>
/// "meaning"`, or `Variant = secret "SUFFIX" => "meaning"` for a credential (the variable is
/// `{PREFIX}_{SUFFIX}`), then the four [`HttpSetting`] variants (`ConnectTimeout`,
/// `AttemptTimeout`, `OverallTimeout`, `MaxAttempts`) under the same prefix. It derives
/// `Clone, Copy, Debug, PartialEq, Eq, Hash`, is `#[non_exhaustive]`, and gets the one way
/// every provider's settings are named: inherent `PREFIX`, `ALL`, `const fn name()`,
/// `const fn meaning()` and `const fn is_secret()` (no trait to import), `Display` (the name),
/// and [`EnvSetting`] for [`EnvReader`], which gives a `secret` setting only as a secret.
///
/// ```
/// phone_verify_core::env_settings! {
///     /// Acme's variables.
///     pub enum AcmeSetting: "ACME" {
///         /// `ACME_API_KEY`: the API key.
///         ApiKey = secret "API_KEY" => "the API key",
///         /// `ACME_REGION`: the region.
///         Region = "REGION" => "the region, `eu` or `us`",
///     }
/// }
///
/// assert_eq!(AcmeSetting::ApiKey.name(), "ACME_API_KEY");
/// assert!(AcmeSetting::ApiKey.is_secret() && !AcmeSetting::Region.is_secret());
/// assert_eq!(AcmeSetting::MaxAttempts.to_string(), "ACME_MAX_ATTEMPTS");
/// assert_eq!(AcmeSetting::ALL.len(), 6);
/// assert_eq!(phone_verify_core::kit::check_env_settings::<AcmeSetting>(), Ok(()));
/// ```
///
/// `secret` is the only mark:
///
/// ```compile_fail
/// phone_verify_core::env_settings! {
///     /// Acme's variables.
///     pub enum AcmeSetting: "ACME" {
///         /// `ACME_API_KEY`: the API key.
///         ApiKey = secrets "API_KEY" => "the API key",
///     }
/// }
/// ```
#[macro_export]
macro_rules! env_settings {
    // Whether a variant is marked `secret`.
    (@secret secret) => { true };
    (@secret) => { false };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $prefix:literal {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $($secret:ident)? $suffix:literal => $meaning:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $(
                $(#[$variant_meta])*
                $variant,
            )*
            #[doc = concat!("`", $prefix, "_CONNECT_TIMEOUT_SECS`: the connect timeout, in seconds (decimals allowed).")]
            ConnectTimeout,
            #[doc = concat!("`", $prefix, "_ATTEMPT_TIMEOUT_SECS`: the timeout of one HTTP attempt, in seconds.")]
            AttemptTimeout,
            #[doc = concat!("`", $prefix, "_OVERALL_TIMEOUT_SECS`: the timeout of an operation with its retries, in seconds.")]
            OverallTimeout,
            #[doc = concat!("`", $prefix, "_MAX_ATTEMPTS`: the attempts of a safe operation, the first included; `1` disables retries. Sends are never retried.")]
            MaxAttempts,
        }

        impl $name {
            /// The prefix of every variable.
            $vis const PREFIX: &'static str = $prefix;
            /// Every setting, in documentation order (the HTTP settings last).
            $vis const ALL: &'static [Self] = &[
                $(Self::$variant,)*
                Self::ConnectTimeout,
                Self::AttemptTimeout,
                Self::OverallTimeout,
                Self::MaxAttempts,
            ];

            /// The variable's name.
            $vis const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!($prefix, "_", $suffix),)*
                    Self::ConnectTimeout => concat!($prefix, "_CONNECT_TIMEOUT_SECS"),
                    Self::AttemptTimeout => concat!($prefix, "_ATTEMPT_TIMEOUT_SECS"),
                    Self::OverallTimeout => concat!($prefix, "_OVERALL_TIMEOUT_SECS"),
                    Self::MaxAttempts => concat!($prefix, "_MAX_ATTEMPTS"),
                }
            }

            /// What the variable holds, in a few words.
            $vis const fn meaning(self) -> &'static str {
                match self {
                    $(Self::$variant => $meaning,)*
                    Self::ConnectTimeout => $crate::kit::HttpSetting::ConnectTimeout.meaning(),
                    Self::AttemptTimeout => $crate::kit::HttpSetting::AttemptTimeout.meaning(),
                    Self::OverallTimeout => $crate::kit::HttpSetting::OverallTimeout.meaning(),
                    Self::MaxAttempts => $crate::kit::HttpSetting::MaxAttempts.meaning(),
                }
            }

            /// Whether the variable holds a credential, read only as a secret.
            $vis const fn is_secret(self) -> bool {
                match self {
                    $(Self::$variant => $crate::env_settings!(@secret $($secret)?),)*
                    Self::ConnectTimeout
                    | Self::AttemptTimeout
                    | Self::OverallTimeout
                    | Self::MaxAttempts => false,
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl $crate::kit::EnvSetting for $name {
            const PREFIX: &'static str = $prefix;
            const ALL: &'static [Self] = Self::ALL;
            fn name(self) -> &'static str {
                Self::name(self)
            }
            fn meaning(self) -> &'static str {
                Self::meaning(self)
            }
            fn is_secret(self) -> bool {
                Self::is_secret(self)
            }
        }
    };
}

/// Reads [`EnvSetting`]s through a lookup (`std::env::var`, a config file's table, a map in
/// tests) that gives each value as a `String` or, so that a credential is never held in a
/// plain `String`, as a [`SecretString`]. Every value is held as a secret from the moment it is
/// read and trimmed inside it; blank values count as unset. Credentials come out as secrets
/// ([`get_secret`](Self::get_secret), [`require_secret`](Self::require_secret)), the rest as
/// plain text ([`get`](Self::get), [`require`](Self::require), [`parse`](Self::parse),
/// [`seconds`](Self::seconds)), and no error shows a value: a credential may stand where
/// another setting belongs. A plain accessor given a setting marked secret
/// ([`EnvSetting::is_secret`]) is a provider's bug: a `debug_assert!` panics naming the
/// variable in debug builds, so that the provider's tests catch it; release builds return the
/// value as plain text.
///
/// ```
/// use phone_verify_core::kit::{EnvReader, EnvSetting};
/// use phone_verify_core::secrecy::{ExposeSecret, SecretString};
/// # #[derive(Clone, Copy, Debug)]
/// # enum AcmeSetting { ApiKey, Retries }
/// # impl EnvSetting for AcmeSetting {
/// #     const PREFIX: &'static str = "ACME";
/// #     const ALL: &'static [Self] = &[Self::ApiKey, Self::Retries];
/// #     fn name(self) -> &'static str {
/// #         match self { Self::ApiKey => "ACME_API_KEY", Self::Retries => "ACME_RETRIES" }
/// #     }
/// #     fn meaning(self) -> &'static str { "a value" }
/// #     fn is_secret(self) -> bool { matches!(self, Self::ApiKey) }
/// # }
///
/// let env = EnvReader::new(|name: &str| match name {
///     "ACME_API_KEY" => Some(SecretString::from(" k-123\n")),
///     "ACME_RETRIES" => Some(SecretString::from("k-123")),
///     _ => None,
/// });
/// assert_eq!(env.require_secret(AcmeSetting::ApiKey)?.expose_secret(), "k-123");
/// let err = env.parse::<_, u32>(AcmeSetting::Retries, "a number").unwrap_err();
/// assert_eq!(err.message(), "ACME_RETRIES must be a number (its value is not shown)");
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
pub struct EnvReader<F> {
    lookup: F,
}

impl<F, V> EnvReader<F>
where
    F: Fn(&str) -> Option<V>,
    V: Into<SecretString>,
{
    /// A reader over `lookup`.
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The variable named `name`, as a secret, trimmed inside it (a plain copy is never
    /// made); `None` when unset or blank.
    pub fn raw_secret(&self, name: &str) -> Option<SecretString> {
        let value: SecretString = (self.lookup)(name)?.into();
        let text = value.expose_secret();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            None
        } else if trimmed.len() == text.len() {
            Some(value)
        } else {
            Some(SecretString::from(trimmed))
        }
    }

    /// The variable named `name`, trimmed, as plain text, for what is not a credential;
    /// `None` when unset or blank.
    pub fn raw(&self, name: &str) -> Option<String> {
        self.raw_secret(name)
            .map(|value| value.expose_secret().to_owned())
    }

    /// Whether `setting` is set to something else than blanks; the value is not copied.
    pub fn is_set<S: EnvSetting>(&self, setting: S) -> bool {
        (self.lookup)(setting.name())
            .is_some_and(|value| !value.into().expose_secret().trim().is_empty())
    }

    /// The value of `setting`, as a secret, trimmed; `None` when unset or blank. For
    /// credentials.
    pub fn get_secret<S: EnvSetting>(&self, setting: S) -> Option<SecretString> {
        self.raw_secret(setting.name())
    }

    /// The value of `setting` as a secret, or an
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) error saying it is not set and what it
    /// must hold. For credentials.
    pub fn require_secret<S: EnvSetting>(&self, setting: S) -> Result<SecretString> {
        self.get_secret(setting).ok_or_else(|| not_set(setting))
    }

    /// The value of `setting`, trimmed, as plain text, for what is not a credential (a URL, a
    /// name); `None` when unset or blank.
    pub fn get<S: EnvSetting>(&self, setting: S) -> Option<String> {
        self.raw(plain(setting).name())
    }

    /// The value of `setting` as plain text, or an
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) error saying it is not set and what it
    /// must hold. For what is not a credential.
    pub fn require<S: EnvSetting>(&self, setting: S) -> Result<String> {
        self.get(setting).ok_or_else(|| not_set(setting))
    }

    /// The value of `setting` parsed as `T`; a bad value is an error naming the variable and
    /// saying it must be `expected` (e.g. "an IPv4 or IPv6 address such as 203.0.113.7"),
    /// never showing the value.
    pub fn parse<S: EnvSetting, T: FromStr>(
        &self,
        setting: S,
        expected: &str,
    ) -> Result<Option<T>> {
        self.get_secret(plain(setting))
            .map(|value| {
                value.expose_secret().parse().map_err(|_| {
                    Error::invalid_input(format!(
                        "{} must be {expected} (its value is not shown)",
                        setting.name()
                    ))
                })
            })
            .transpose()
    }

    /// The value of `setting` as a number of seconds (decimals allowed), above 0 and at most a
    /// day.
    pub fn seconds<S: EnvSetting>(&self, setting: S) -> Result<Option<Duration>> {
        self.get_secret(plain(setting))
            .map(|value| parse_env_seconds(setting.name(), value.expose_secret()))
            .transpose()
    }

    /// The lookup as plain text, trimmed, for
    /// [`HttpSettings::apply_env`](crate::http::HttpSettings::apply_env) and other readers of
    /// raw names of what is not a credential.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |name| self.raw(name)
    }
}

/// `setting`, for a plain accessor of [`EnvReader`]: a credential read as plain text is the
/// provider's bug, a panic naming the variable in debug builds (the provider's tests); release
/// builds let it through.
fn plain<S: EnvSetting>(setting: S) -> S {
    debug_assert!(
        !setting.is_secret(),
        "{} is a credential: read it with get_secret or require_secret",
        setting.name()
    );
    setting
}

/// The error of a required `setting` that is unset or blank: it names the variable and what
/// it must hold.
fn not_set<S: EnvSetting>(setting: S) -> Error {
    Error::invalid_input(format!(
        "{} is not set: it must hold {}",
        setting.name(),
        setting.meaning()
    ))
}

impl<F> fmt::Debug for EnvReader<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvReader").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn places_are_lines_and_columns() {
        use super::{line_and_column, placed_message};
        let text = "a = 1\nbé = [2]\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        assert_eq!(line_and_column(text, text.find('[').unwrap()), (2, 6));
        assert_eq!(line_and_column(text, 999), (3, 1));
        assert_eq!(placed_message(text, Some(7), "bad key\n"), "2:2: bad key");
        assert_eq!(placed_message(text, None, "bad file"), "bad file");
    }

    /// [`serde_messages`] as [`without_values`](super::without_values) shows them.
    const HIDDEN: [&str; 4] = [
        "unknown variant (not shown), expected `memory` or `redis`",
        "unknown variant (not shown), there are no variants",
        "invalid type: string (not shown), expected usize",
        "invalid value: string (not shown), expected a character",
    ];

    /// Serde's messages as its `Error` trait writes them, for a value `v`.
    fn serde_messages(v: &str) -> [String; 4] {
        use serde::de::{Error as _, Unexpected, value::Error};
        [
            Error::unknown_variant(v, &["memory", "redis"]).to_string(),
            Error::unknown_variant(v, &[]).to_string(),
            Error::invalid_type(Unexpected::Str(v), &"usize").to_string(),
            Error::invalid_value(Unexpected::Str(v), &"a character").to_string(),
        ]
    }

    /// The values serde quotes in a message are never shown, however they are written;
    /// field names, numbers and what was expected are.
    #[test]
    fn quoted_values_are_not_shown() {
        use super::without_values;
        use serde::de::{Error as _, Unexpected, value::Error};
        for v in [
            "redis://:canary@cache:6379",
            "canary \"quoted\" \\ and \\\" ends\\",
            "canary`, expected `memory` or `redis",
            "canary`, there are no variants",
            "canary string \"x character `y unknown variant `z",
            "canary é 日本 \u{7} \n\t\r\0 '",
            "",
        ] {
            for (message, shown) in serde_messages(v).iter().zip(HIDDEN) {
                assert_eq!(without_values(message), shown, "{v:?}");
            }
        }
        for c in ['c', '`', '"', '\\', 'é', '\n'] {
            let message = Error::invalid_value(Unexpected::Char(c), &"a digit").to_string();
            assert_eq!(
                without_values(&message),
                "invalid value: character (not shown), expected a digit",
                "{c:?}"
            );
        }
        for kept in [
            Error::unknown_field("canary", &["store"]).to_string(),
            Error::missing_field("canary").to_string(),
            Error::duplicate_field("canary").to_string(),
            // Serde writes a byte array without its bytes.
            Error::invalid_type(Unexpected::Bytes(b"canary"), &"a string").to_string(),
            Error::invalid_length(3, &"a pair").to_string(),
            "invalid basic string, expected `\"`".to_owned(),
        ] {
            assert_eq!(without_values(&kept), kept);
        }
        // Numbers and booleans: an all-digit secret pasted where a string belongs.
        for (unexpected, kind) in [
            (Unexpected::Signed(-4_929_173_650_128_834), "integer"),
            (Unexpected::Unsigned(4_929_173_650_128_834), "integer"),
            (Unexpected::Float(4_929_173.5), "floating point"),
            (Unexpected::Bool(true), "boolean"),
        ] {
            let message = Error::invalid_type(unexpected, &"a string").to_string();
            assert_eq!(
                without_values(&message),
                format!("invalid type: {kind} (not shown), expected a string"),
            );
        }
        // Several values, and the place before them.
        let [variant, _, string, _] = serde_messages("canary");
        assert_eq!(
            placed_message("a\nb = 1", Some(2), &format!("{variant}; {string}")),
            "2:1: unknown variant (not shown), expected `memory` or `redis`; invalid type: \
             string (not shown), expected usize"
        );
    }

    /// A quote that does not end hides the rest of the message, and odd messages never panic.
    #[test]
    fn many_openings_in_a_key_are_one_pass() {
        use super::without_values;
        // A key the user typed, written by serde unescaped, full of openings: each is hidden
        // in one pass over the message (looking for every opening again from each one was
        // quadratic in the message's length).
        let key = "string \"x\" ".repeat(100_000);
        let message = format!("unknown field `{key}`, expected `store`");
        let shown = without_values(&message);
        assert_eq!(shown.matches("string (not shown)").count(), 100_000);
        assert!(!shown.contains("\"x\""), "{}", &shown[..200]);
        assert!(
            shown.ends_with(" `, expected `store`"),
            "{}",
            &shown[shown.len() - 60..]
        );
    }

    #[test]
    fn odd_quotes_hide_the_rest() {
        use super::without_values;
        for (message, shown) in [
            (
                "invalid type: string \"canary",
                "invalid type: string (not shown)",
            ),
            (
                "invalid type: string \"canary\\\"",
                "invalid type: string (not shown)",
            ),
            (
                "invalid type: string \"canary\\",
                "invalid type: string (not shown)",
            ),
            ("unknown variant `canary", "unknown variant (not shown)"),
            ("unknown variant `canary`", "unknown variant (not shown)"),
            ("character `canary", "character (not shown)"),
            ("character `canary` here", "character (not shown) here"),
            ("character `", "character (not shown)"),
            ("character `é", "character (not shown)"),
            ("string \"", "string (not shown)"),
            ("string \"\\", "string (not shown)"),
            ("string \"\\é\" kept", "string (not shown) kept"),
            ("unknown variant `", "unknown variant (not shown)"),
            ("no value here", "no value here"),
            ("", ""),
        ] {
            assert_eq!(without_values(message), shown, "{message:?}");
        }
    }

    proptest::proptest! {
        /// Any value in any of serde's quotes is hidden whole, and any message is read
        /// without a panic.
        #[test]
        fn any_quoted_value_is_hidden(v in "\\PC*", c: char, noise in "\\PC*") {
            use serde::de::{Error as _, Unexpected, value::Error};
            use super::without_values;
            for (message, shown) in serde_messages(&v).iter().zip(HIDDEN) {
                proptest::prop_assert_eq!(without_values(message), shown);
            }
            let message = Error::invalid_value(Unexpected::Char(c), &"a digit").to_string();
            proptest::prop_assert_eq!(
                without_values(&message),
                "invalid value: character (not shown), expected a digit"
            );
            let _ = without_values(&noise);
        }
    }

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

        // Its `Debug` shows no value it could read.
        assert_eq!(format!("{env:?}"), "EnvReader { .. }");

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

    /// Credentials are read as secrets, trimmed inside them, from a lookup of secrets or of
    /// strings; blank is unset, and presence is told without the value.
    #[test]
    fn secrets_are_read_as_secrets_trimmed() {
        let secrets = EnvReader::new(|name: &str| match name {
            "T_IP" => Some(SecretString::from(" k-1\n")),
            "T_TTL_SECS" => Some(SecretString::from(" \t")),
            _ => None,
        });
        assert_eq!(
            secrets.require_secret(S::Ip).unwrap().expose_secret(),
            "k-1"
        );
        assert_eq!(secrets.raw_secret("T_IP").unwrap().expose_secret(), "k-1");
        assert!(secrets.is_set(S::Ip));
        assert!(!secrets.is_set(S::Ttl), "blank is unset");
        assert!(secrets.get_secret(S::Ttl).is_none());
        let err = secrets.require_secret(S::Ttl).unwrap_err();
        assert_eq!(
            err.message(),
            "T_TTL_SECS is not set: it must hold a test value"
        );
        assert_eq!(secrets.get(S::Ip).as_deref(), Some("k-1"));
        let strings = reader(&[("T_IP", "k-2 ")]);
        assert_eq!(
            strings.require_secret(S::Ip).unwrap().expose_secret(),
            "k-2"
        );
        assert!(strings.is_set(S::Ip) && !strings.is_set(S::Ttl));
    }

    /// A value that does not parse is named by its variable and what it must be, never
    /// shown: a credential may stand where a number or an address belongs.
    #[test]
    fn bad_values_are_never_shown() {
        let env = reader(&[("T_TTL_SECS", "canary-key"), ("T_IP", "canary-key")]);
        let err = env
            .parse::<_, std::net::IpAddr>(S::Ip, "an IP address")
            .unwrap_err();
        assert_eq!(
            err.message(),
            "T_IP must be an IP address (its value is not shown)"
        );
        let err = env.seconds(S::Ttl).unwrap_err();
        assert_eq!(
            err.message(),
            "T_TTL_SECS must be a number of seconds above 0 and at most 86400 (its value is not \
             shown)"
        );
        assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
    }

    #[derive(Clone, Copy, Debug)]
    enum Full {
        Key,
        Http(HttpSetting),
    }

    impl EnvSetting for Full {
        const PREFIX: &'static str = "F";
        const ALL: &'static [Self] = &[
            Self::Key,
            Self::Http(HttpSetting::ConnectTimeout),
            Self::Http(HttpSetting::AttemptTimeout),
            Self::Http(HttpSetting::OverallTimeout),
            Self::Http(HttpSetting::MaxAttempts),
        ];
        fn name(self) -> &'static str {
            match self {
                Self::Key => "F_KEY",
                Self::Http(HttpSetting::ConnectTimeout) => "F_CONNECT_TIMEOUT_SECS",
                Self::Http(HttpSetting::AttemptTimeout) => "F_ATTEMPT_TIMEOUT_SECS",
                Self::Http(HttpSetting::OverallTimeout) => "F_OVERALL_TIMEOUT_SECS",
                Self::Http(HttpSetting::MaxAttempts) => "F_MAX_ATTEMPTS",
            }
        }
        fn meaning(self) -> &'static str {
            "a test value"
        }
    }

    crate::env_settings! {
        /// A test enum.
        enum Declared: "D" {
            /// `D_KEY`.
            Key = secret "KEY" => "the key",
            /// `D_URL`.
            Url = "URL" => "the URL",
        }
    }

    #[test]
    fn declared_settings_are_named_under_the_prefix() {
        assert_eq!(check_env_settings::<Declared>(), Ok(()));
        assert_eq!(Declared::PREFIX, "D");
        assert_eq!(Declared::Key.name(), "D_KEY");
        assert_eq!(Declared::Key.meaning(), "the key");
        assert_eq!(
            Declared::OverallTimeout.to_string(),
            "D_OVERALL_TIMEOUT_SECS"
        );
        assert_eq!(
            Declared::MaxAttempts.meaning(),
            HttpSetting::MaxAttempts.meaning()
        );
        let names: Vec<&str> = Declared::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "D_KEY",
                "D_URL",
                "D_CONNECT_TIMEOUT_SECS",
                "D_ATTEMPT_TIMEOUT_SECS",
                "D_OVERALL_TIMEOUT_SECS",
                "D_MAX_ATTEMPTS"
            ]
        );
        // Only the variant marked `secret` is, through the trait too.
        let secret: Vec<Declared> = Declared::ALL
            .iter()
            .copied()
            .filter(|s| EnvSetting::is_secret(*s))
            .collect();
        assert_eq!(secret, [Declared::Key]);
        assert!(Declared::Key.is_secret() && !Declared::Url.is_secret());
        let env = EnvReader::new(|name: &str| name.starts_with("D_").then(|| "k".to_owned()));
        assert_eq!(env.get(Declared::Url).as_deref(), Some("k"));
        assert_eq!(env.get_secret(Declared::Key).unwrap().expose_secret(), "k");
    }

    /// The plain accessors panic on a credential, naming it, in debug builds: a provider that
    /// reads its credential as plain text fails its tests.
    #[cfg(debug_assertions)]
    #[test]
    fn plain_accessors_refuse_a_credential() {
        use std::panic::{AssertUnwindSafe, catch_unwind};

        let env = EnvReader::new(|_: &str| Some("1".to_owned()));
        let refused = |read: &dyn Fn()| {
            let panic = catch_unwind(AssertUnwindSafe(read)).unwrap_err();
            let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            assert_eq!(
                message,
                "D_KEY is a credential: read it with get_secret or require_secret"
            );
        };
        refused(&|| drop(env.get(Declared::Key)));
        refused(&|| drop(env.require(Declared::Key)));
        refused(&|| drop(env.parse::<_, u32>(Declared::Key, "a number")));
        refused(&|| drop(env.seconds(Declared::Key)));
        assert_eq!(env.require(Declared::Url).unwrap(), "1");
        assert_eq!(
            env.parse::<_, u32>(Declared::Url, "a number").unwrap(),
            Some(1)
        );
        assert!(env.seconds(Declared::Url).unwrap().is_some());
        assert!(env.require_secret(Declared::Key).is_ok() && env.is_set(Declared::Key));
    }

    /// [`Full`] with its connect timeout marked secret.
    #[derive(Clone, Copy, Debug)]
    struct SecretTimeout(Full);

    impl EnvSetting for SecretTimeout {
        const PREFIX: &'static str = "F";
        const ALL: &'static [Self] = &[
            Self(Full::Key),
            Self(Full::Http(HttpSetting::ConnectTimeout)),
            Self(Full::Http(HttpSetting::AttemptTimeout)),
            Self(Full::Http(HttpSetting::OverallTimeout)),
            Self(Full::Http(HttpSetting::MaxAttempts)),
        ];
        fn name(self) -> &'static str {
            self.0.name()
        }
        fn meaning(self) -> &'static str {
            self.0.meaning()
        }
        fn is_secret(self) -> bool {
            matches!(self.0, Full::Key | Full::Http(HttpSetting::ConnectTimeout))
        }
    }

    #[test]
    fn settings_enums_are_checked() {
        assert_eq!(check_env_settings::<Full>(), Ok(()));
        let missing = check_env_settings::<S>().unwrap_err();
        assert_eq!(missing, "T_CONNECT_TIMEOUT_SECS is not among the settings");
        let secret = check_env_settings::<SecretTimeout>().unwrap_err();
        assert_eq!(
            secret,
            "F_CONNECT_TIMEOUT_SECS is secret, but the HTTP settings are read as plain text"
        );
    }

    #[test]
    fn http_config_reads_exactly_the_http_settings() {
        // Every HttpSetting is read by HttpConfig::with_env_lookup, and nothing else.
        let read = std::cell::RefCell::new(Vec::new());
        crate::http::HttpConfig::default()
            .with_env_lookup("P", |name: &str| {
                read.borrow_mut().push(name.to_owned());
                None
            })
            .unwrap();
        let expected: Vec<String> = HttpSetting::ALL.iter().map(|s| s.name("P")).collect();
        assert_eq!(read.into_inner(), expected);
    }
}
