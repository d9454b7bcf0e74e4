//! [`GuardSettings`]: a guard described by a configuration file (TOML or any self-describing
//! serde format) and the environment, for applications and the CLI's `--guard guard.toml`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use phone_verify_core::kit::{EnvReader, placed_message};
use phone_verify_core::{Error, PhoneVerifier, Result, SessionResolver};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::clock::SystemClock;
use crate::config::{Algorithm, FailMode, GuardConfig, Limit, NumberKind};
use crate::guard::Guard;
use crate::store::{GuardStore, MemoryStore};

/// The environment variable holding the guard's secret, unless the settings name another.
pub const ENV_SECRET: &str = "PHONE_VERIFY_GUARD_SECRET";
/// The environment variable holding the Redis URL, unless the settings name another.
pub const ENV_REDIS_URL: &str = "PHONE_VERIFY_GUARD_REDIS_URL";
/// The environment variable naming a TOML settings file for [`GuardSettings::from_env`].
pub const ENV_CONFIG: &str = "PHONE_VERIFY_GUARD_CONFIG";
/// The prefix of every other variable [`GuardSettings::from_env`] reads.
pub const ENV_PREFIX: &str = "PHONE_VERIFY_GUARD_";

/// Every variable under [`ENV_PREFIX`] the guard reads, without the prefix: those of
/// [`GuardSettings::from_lookup`]'s table, `SECRET` and `REDIS_URL` among them.
const ENV_VARIABLES: [&str; 28] = [
    "CONFIG",
    "SECRET",
    "STORE",
    "REDIS_URL",
    "REDIS_PREFIX",
    "REDIS_TLS_CA_FILE",
    "REDIS_TLS_CLIENT_CERT_FILE",
    "REDIS_TLS_CLIENT_KEY_FILE",
    "MEMORY_CAPACITY",
    "RESEND_COOLDOWN_SECS",
    "PER_PHONE",
    "PER_PHONE_DAILY",
    "PER_IP",
    "PER_IPV4_24",
    "PER_IPV6_64",
    "PER_REGION",
    "REGION_OVERRIDES",
    "WRONG_CODES_PER_VERIFICATION",
    "WRONG_CODES_PER_PHONE",
    "GLOBAL_BUDGET",
    "GLOBAL_BUDGET_DAILY",
    "ALLOW_REGIONS",
    "DENY_REGIONS",
    "REFUSE_NUMBER_TYPES",
    "ALLOWLIST",
    "SEND_FAIL_MODE",
    "CHECK_FAIL_MODE",
    "STORE_TIMEOUT_MS",
];

/// The variable under [`ENV_PREFIX`] that `rest` (an unknown name after the prefix) most
/// likely misspells, if any: one it cuts short (`PER_IPV4` of `PER_IPV4_24`, at least four
/// letters kept), else one within two edits (letters added, removed or changed; one edit for
/// a name of fewer than eight letters, so that `STAGE` is not taken for `STORE`).
fn misspelling_of(rest: &str) -> Option<&'static str> {
    let cut_short = ENV_VARIABLES
        .iter()
        .filter(|known| rest.len() >= 4 && known.starts_with(rest))
        .min_by_key(|known| known.len());
    cut_short.copied().or_else(|| {
        ENV_VARIABLES
            .iter()
            .map(|known| (strsim::levenshtein(rest, known), *known))
            .filter(|(distance, known)| *distance <= if known.len() < 8 { 1 } else { 2 })
            .min()
            .map(|(_, known)| known)
    })
}

/// Where the counters live. New stores may be added: a `match` on it needs a wildcard arm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StoreKind {
    /// In this process ([`MemoryStore`]).
    #[default]
    Memory,
    /// In Redis (`RedisStore`, feature `redis`), at the URL in the environment.
    Redis,
}

/// A guard's settings. Secrets are never in the file: the HMAC secret and the Redis URL (which
/// may hold a password) are read from the environment variables it names, and when the guard
/// is built ([`build`](Self::build)) they are the only variables read: the
/// `PHONE_VERIFY_GUARD_*` variables of the rules apply only to settings read by
/// [`from_env`](Self::from_env) or [`from_lookup`](Self::from_lookup), not to a file read with
/// [`from_toml`](Self::from_toml) (the CLI's `--guard`) or to a routing file's `[guard]`
/// table. Fields may be added, each with a default: in code, end a struct expression with
/// `..GuardSettings::default()`.
///
/// ```
/// use phone_verify_guard::{GuardSettings, StoreKind};
///
/// let settings = GuardSettings::from_toml(r#"
///     store = "redis"
///     [rules]
///     resend_cooldown_secs = 60
///     deny_regions = ["XK"]
/// "#)?;
/// assert_eq!(settings.store, StoreKind::Redis);
/// assert_eq!(settings.secret_env, "PHONE_VERIFY_GUARD_SECRET");
/// assert_eq!(settings.rules.resend_cooldown_secs, Some(60));
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardSettings {
    /// The variable holding the HMAC secret (default `PHONE_VERIFY_GUARD_SECRET`).
    pub secret_env: String,
    /// The store (default `memory`).
    pub store: StoreKind,
    /// The variable holding the Redis URL (default `PHONE_VERIFY_GUARD_REDIS_URL`). Set while
    /// the store is `memory`, it is refused when the guard is built: each instance would count
    /// alone.
    pub redis_url_env: String,
    /// The Redis key prefix, also the keys' hash tag (default `phone-verify-guard`).
    pub redis_prefix: String,
    /// A file of CA certificates (PEM) that a `rediss://` Redis's certificate must chain to,
    /// in place of the system's roots (feature `redis-tls`). The TLS files are read when the
    /// guard is built, and their certificates used for its life (rebuild the guard to take
    /// renewed ones); a relative path is from the working directory, not from a settings
    /// file; set with the memory store, they are refused.
    pub redis_tls_ca_file: Option<PathBuf>,
    /// A file holding the client certificate chain (PEM) that a `rediss://` Redis asking for
    /// one is shown (mutual TLS, feature `redis-tls`); set with `redis_tls_client_key_file`.
    pub redis_tls_client_cert_file: Option<PathBuf>,
    /// A file holding that client certificate's private key (PEM); read when the guard is
    /// built, and kept in a secret.
    pub redis_tls_client_key_file: Option<PathBuf>,
    /// How many counters the memory store holds at most (default one million,
    /// [`MemoryStore::DEFAULT_CAPACITY`]). A send adds up to eight, for the length of their
    /// windows (a day for the daily limits); when the store is full, the fail modes apply.
    pub memory_capacity: usize,
    /// The rules.
    pub rules: GuardConfig,
}

/// Shows a variable's name only when it is one: a value pasted where a name belongs (a Redis
/// URL with its password, the secret itself) is shown as `..`.
impl fmt::Debug for GuardSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |name: &'_ str| -> String {
            if is_variable_name(name) {
                name.to_owned()
            } else {
                "..".to_owned()
            }
        };
        f.debug_struct("GuardSettings")
            .field("secret_env", &name(&self.secret_env))
            .field("store", &self.store)
            .field("redis_url_env", &name(&self.redis_url_env))
            .field("redis_prefix", &self.redis_prefix)
            .field("redis_tls_ca_file", &self.redis_tls_ca_file)
            .field(
                "redis_tls_client_cert_file",
                &self.redis_tls_client_cert_file,
            )
            .field("redis_tls_client_key_file", &self.redis_tls_client_key_file)
            .field("memory_capacity", &self.memory_capacity)
            .field("rules", &self.rules)
            .finish()
    }
}

/// Whether `name` can be an environment variable's name: letters, digits and `_`, not
/// starting with a digit.
fn is_variable_name(name: &str) -> bool {
    name.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The variable `name` of the setting `setting`, checked: one that is not a variable's name
/// is refused without being shown (it may be a value pasted in its place).
fn variable(setting: &str, name: &str) -> Result<()> {
    if is_variable_name(name) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "guard settings: `{setting}` is not an environment variable's name (letters, \
             digits and '_', not starting with a digit); it is not shown, in case it is a value"
        )))
    }
}

impl Default for GuardSettings {
    fn default() -> Self {
        Self {
            secret_env: ENV_SECRET.into(),
            store: StoreKind::Memory,
            redis_url_env: ENV_REDIS_URL.into(),
            redis_prefix: "phone-verify-guard".into(),
            redis_tls_ca_file: None,
            redis_tls_client_cert_file: None,
            redis_tls_client_key_file: None,
            memory_capacity: MemoryStore::DEFAULT_CAPACITY,
            rules: GuardConfig::default(),
        }
    }
}

impl GuardSettings {
    /// Settings from the process environment; see [`from_lookup`](Self::from_lookup) for the
    /// variables. A variable under [`ENV_PREFIX`] that misspells one the guard reads (cuts it
    /// short, or is a letter or two from it: `PHONE_VERIFY_GUARD_PER_PHON`) fails with
    /// `InvalidInput` naming it and the variable it resembles, rather than leaving that setting at its default unseen. Other
    /// names under the prefix that the guard does not read (a Kubernetes service link such as
    /// `PHONE_VERIFY_GUARD_REDIS_SERVICE_HOST`, a variable of the deployment's own) are logged
    /// as a warning, names only, and ignored. The variables the settings name for the secret
    /// and the Redis URL count as read.
    pub fn from_env() -> Result<Self> {
        let settings = Self::from_lookup(|name| std::env::var(name).ok())?;
        let present = std::env::vars_os().map(|(name, _)| name.to_string_lossy().into_owned());
        settings.refuse_misspelt_variables(present)?;
        Ok(settings)
    }

    /// Fails with `InvalidInput` when a name in `present` is under [`ENV_PREFIX`], is no
    /// variable the guard reads, and misspells one ([`misspelling_of`]), never showing a
    /// value; warns of the other such names.
    fn refuse_misspelt_variables(&self, present: impl Iterator<Item = String>) -> Result<()> {
        let mut unknown: Vec<String> = present
            .filter(|name| {
                name.strip_prefix(ENV_PREFIX)
                    .is_some_and(|rest| !ENV_VARIABLES.contains(&rest))
                    && *name != self.secret_env
                    && *name != self.redis_url_env
            })
            .collect();
        unknown.sort();
        let misspelt: Vec<String> = unknown
            .iter()
            .filter_map(|name| {
                let meant = misspelling_of(&name[ENV_PREFIX.len()..])?;
                Some(format!("{name} (did you mean {ENV_PREFIX}{meant}?)"))
            })
            .collect();
        if !misspelt.is_empty() {
            return Err(Error::invalid_input(format!(
                "the guard reads no variable {}: the variables under {ENV_PREFIX} are {}",
                misspelt.join(", "),
                ENV_VARIABLES.join(", ")
            )));
        }
        if !unknown.is_empty() {
            tracing::warn!(
                variables = %unknown.join(", "),
                "the guard reads no such variable under {ENV_PREFIX}; ignored"
            );
        }
        Ok(())
    }

    /// Settings from the variables `lookup` finds (empty values count as unset): the file
    /// `PHONE_VERIFY_GUARD_CONFIG` names if set (else the defaults), then each variable below
    /// that is set replaces its setting.
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `PHONE_VERIFY_GUARD_CONFIG` | a TOML settings file ([`from_toml`](Self::from_toml)) | unset |
    /// | `PHONE_VERIFY_GUARD_SECRET` | the HMAC secret of the counter keys (read when the guard is built) | required |
    /// | `PHONE_VERIFY_GUARD_STORE` | `memory` or `redis` | `memory` |
    /// | `PHONE_VERIFY_GUARD_REDIS_URL` | the Redis URL (read when the guard is built) | required with `redis`, refused with `memory` |
    /// | `PHONE_VERIFY_GUARD_REDIS_PREFIX` | the Redis key prefix and hash tag | `phone-verify-guard` |
    /// | `PHONE_VERIFY_GUARD_REDIS_TLS_CA_FILE` | CA certificates (PEM) for a `rediss://` URL, in place of the system's | unset |
    /// | `PHONE_VERIFY_GUARD_REDIS_TLS_CLIENT_CERT_FILE`, `…_CLIENT_KEY_FILE` | a client certificate and its key (PEM), for mutual TLS | unset |
    /// | `PHONE_VERIFY_GUARD_MEMORY_CAPACITY` | the most counters the memory store holds | 1000000 |
    /// | `PHONE_VERIFY_GUARD_RESEND_COOLDOWN_SECS` | seconds between two sends to a phone, or `off` | 30 |
    /// | `PHONE_VERIFY_GUARD_PER_PHONE`, `…_PER_PHONE_DAILY` | a limit: `MAX/WINDOW_SECS`, optionally `/gcra`, or `off` | `5/600`, `10/86400` |
    /// | `PHONE_VERIFY_GUARD_PER_IP`, `…_PER_IPV4_24`, `…_PER_IPV6_64` | limits per end-user IP and subnet | `10/3600`, `50/3600`, `20/3600` |
    /// | `PHONE_VERIFY_GUARD_PER_REGION` | the per-region limit | `1000/3600` |
    /// | `PHONE_VERIFY_GUARD_REGION_OVERRIDES` | limits replacing the per-region one for those regions: `REGION:MAX/WINDOW_SECS`, optionally `/gcra`, comma-separated (`EE:20/3600,TR:5/60/gcra`) | none |
    /// | `PHONE_VERIFY_GUARD_WRONG_CODES_PER_VERIFICATION` | wrong codes before a verification locks, or `off` | 5 |
    /// | `PHONE_VERIFY_GUARD_WRONG_CODES_PER_PHONE` | a limit | `15/86400` |
    /// | `PHONE_VERIFY_GUARD_GLOBAL_BUDGET`, `…_GLOBAL_BUDGET_DAILY` | limits for the whole application | `off` |
    /// | `PHONE_VERIFY_GUARD_ALLOW_REGIONS`, `…_DENY_REGIONS` | ISO regions, comma-separated | empty |
    /// | `PHONE_VERIFY_GUARD_REFUSE_NUMBER_TYPES` | number types, comma-separated (`premium_rate,voip`) | premium rate, shared cost, toll free, personal, pager, UAN, voicemail |
    /// | `PHONE_VERIFY_GUARD_ALLOWLIST` | test numbers (E.164), comma-separated | empty |
    /// | `PHONE_VERIFY_GUARD_SEND_FAIL_MODE`, `…_CHECK_FAIL_MODE` | `open` or `closed` | `closed`, `open` |
    /// | `PHONE_VERIFY_GUARD_STORE_TIMEOUT_MS` | how long a decision waits for the store (at most 60000) | 200 |
    ///
    /// A malformed value fails with `InvalidInput` naming the variable, never showing the
    /// value. A list (of regions, types, numbers, overrides) replaces the file's whole list.
    /// The regions and windows of the overrides are checked, as the file's are, when the guard
    /// is built. The secret and the Redis URL stay in the environment: [`build`](Self::build)
    /// reads them.
    ///
    /// ```
    /// use phone_verify_guard::{Algorithm, GuardSettings, Limit};
    ///
    /// let env = |name: &str| match name {
    ///     "PHONE_VERIFY_GUARD_PER_PHONE" => Some("3/600/gcra".to_owned()),
    ///     "PHONE_VERIFY_GUARD_DENY_REGIONS" => Some("XK, KP".to_owned()),
    ///     "PHONE_VERIFY_GUARD_RESEND_COOLDOWN_SECS" => Some("off".to_owned()),
    ///     _ => None,
    /// };
    /// let settings = GuardSettings::from_lookup(env)?;
    /// let per_phone = Limit::new(3, std::time::Duration::from_secs(600));
    /// assert_eq!(settings.rules.per_phone, Some(per_phone.with_algorithm(Algorithm::Gcra)));
    /// assert_eq!(settings.rules.deny_regions, ["XK", "KP"]);
    /// assert_eq!(settings.rules.resend_cooldown_secs, None);
    /// # Ok::<(), phone_verify_core::Error>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| {
            lookup(&format!("{ENV_PREFIX}{name}"))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut settings = match var("CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Error::invalid_input(format!("{ENV_CONFIG}: cannot read {path}: {e}"))
                })?;
                Self::parse_toml(&text)
                    .map_err(|e| Error::invalid_input(format!("{ENV_CONFIG}: {path}:{e}")))?
            }
            None => Self::default(),
        };
        let bad =
            |name: &str, what: &str| Error::invalid_input(format!("{ENV_PREFIX}{name}: {what}"));
        if let Some(v) = var("STORE") {
            settings.store = match v.as_str() {
                "memory" => StoreKind::Memory,
                "redis" => StoreKind::Redis,
                _ => return Err(bad("STORE", "expected memory or redis")),
            };
        }
        if let Some(v) = var("REDIS_PREFIX") {
            settings.redis_prefix = v;
        }
        for (name, file) in [
            ("REDIS_TLS_CA_FILE", &mut settings.redis_tls_ca_file),
            (
                "REDIS_TLS_CLIENT_CERT_FILE",
                &mut settings.redis_tls_client_cert_file,
            ),
            (
                "REDIS_TLS_CLIENT_KEY_FILE",
                &mut settings.redis_tls_client_key_file,
            ),
        ] {
            if let Some(v) = var(name) {
                *file = Some(v.into());
            }
        }
        if let Some(v) = var("MEMORY_CAPACITY") {
            settings.memory_capacity =
                v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    bad("MEMORY_CAPACITY", "expected a positive number of counters")
                })?;
        }
        let rules = &mut settings.rules;
        let off_or = |name: &str| -> Result<Option<Option<u64>>> {
            var(name)
                .map(|v| match v.as_str() {
                    "off" => Ok(None),
                    n => n
                        .parse()
                        .map(Some)
                        .map_err(|_| bad(name, "expected a number or off")),
                })
                .transpose()
        };
        if let Some(v) = off_or("RESEND_COOLDOWN_SECS")? {
            rules.resend_cooldown_secs = v;
        }
        if let Some(v) = off_or("WRONG_CODES_PER_VERIFICATION")? {
            rules.wrong_codes_per_verification = v
                .map(u32::try_from)
                .transpose()
                .map_err(|_| bad("WRONG_CODES_PER_VERIFICATION", "too large"))?;
        }
        let limits: [(&str, &mut Option<Limit>); 9] = [
            ("PER_PHONE", &mut rules.per_phone),
            ("PER_PHONE_DAILY", &mut rules.per_phone_daily),
            ("PER_IP", &mut rules.per_ip),
            ("PER_IPV4_24", &mut rules.per_ipv4_24),
            ("PER_IPV6_64", &mut rules.per_ipv6_64),
            ("PER_REGION", &mut rules.per_region),
            ("WRONG_CODES_PER_PHONE", &mut rules.wrong_codes_per_phone),
            ("GLOBAL_BUDGET", &mut rules.global_budget),
            ("GLOBAL_BUDGET_DAILY", &mut rules.global_budget_daily),
        ];
        for (name, slot) in limits {
            if let Some(v) = var(name) {
                *slot = parse_limit(&v).map_err(|what| bad(name, what))?;
            }
        }
        if let Some(v) = var("REGION_OVERRIDES") {
            rules.region_overrides =
                parse_region_overrides(&v).map_err(|what| bad("REGION_OVERRIDES", what))?;
        }
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        if let Some(v) = var("ALLOW_REGIONS") {
            rules.allow_regions = list(v);
        }
        if let Some(v) = var("DENY_REGIONS") {
            rules.deny_regions = list(v);
        }
        if let Some(v) = var("ALLOWLIST") {
            rules.allowlist = list(v);
        }
        if let Some(v) = var("REFUSE_NUMBER_TYPES") {
            rules.refuse_number_types = list(v)
                .iter()
                .map(|kind| {
                    toml::Value::String(kind.clone())
                        .try_into::<NumberKind>()
                        .map_err(|_| {
                            bad(
                                "REFUSE_NUMBER_TYPES",
                                "expected number types such as premium_rate, shared_cost or \
                                 voip, comma-separated (an unknown one is not shown)",
                            )
                        })
                })
                .collect::<Result<_>>()?;
        }
        for (name, slot) in [
            ("SEND_FAIL_MODE", &mut rules.send_fail_mode),
            ("CHECK_FAIL_MODE", &mut rules.check_fail_mode),
        ] {
            if let Some(v) = var(name) {
                *slot = match v.as_str() {
                    "open" => FailMode::Open,
                    "closed" => FailMode::Closed,
                    _ => return Err(bad(name, "expected open or closed")),
                };
            }
        }
        if let Some(v) = var("STORE_TIMEOUT_MS") {
            rules.store_timeout_ms = v
                .parse()
                .map_err(|_| bad("STORE_TIMEOUT_MS", "expected milliseconds"))?;
        }
        Ok(settings)
    }

    /// Parses TOML settings; an unknown field is an error, and a rule is turned off with
    /// `"off"` (`per_ip = "off"`). The error (`InvalidInput`) gives the place,
    /// `guard settings: line:column: `, and toml's message, never the text.
    pub fn from_toml(text: &str) -> Result<Self> {
        Self::parse_toml(text).map_err(|e| Error::invalid_input(format!("guard settings: {e}")))
    }

    /// `text` read as TOML; the error is `line:column: ` and toml's message (toml's own error
    /// quotes the offending line, which may hold the store's URL and its password).
    fn parse_toml(text: &str) -> std::result::Result<Self, String> {
        toml::from_str(text)
            .map_err(|e| placed_message(text, e.span().map(|s| s.start), e.message()))
    }

    /// Builds the guard around `inner` (and `resolver`), reading the secret and the Redis URL
    /// from the process environment (no other variable). The secret and the rules are checked
    /// first (`InvalidInput` naming the bad setting), then the store is made (Redis
    /// connected). A Redis URL set while the store is `memory` is refused with `InvalidInput`
    /// naming the variables: each instance would count alone, every limit multiplied by their
    /// number.
    pub async fn build(
        &self,
        inner: Arc<dyn PhoneVerifier>,
        resolver: Option<Arc<dyn SessionResolver>>,
    ) -> Result<Guard> {
        self.build_with_lookup(inner, resolver, |name| std::env::var(name).ok())
            .await
    }

    /// [`build`](Self::build) with variables from `lookup`, given as `String`s or, so that
    /// the secret and the Redis URL (which may hold a password) are never in a plain
    /// `String`, as `SecretString`s. Values are trimmed; blank values count as unset, as in
    /// [`from_lookup`](Self::from_lookup).
    pub async fn build_with_lookup<V: Into<SecretString>>(
        &self,
        inner: Arc<dyn PhoneVerifier>,
        resolver: Option<Arc<dyn SessionResolver>>,
        lookup: impl Fn(&str) -> Option<V>,
    ) -> Result<Guard> {
        variable("secret_env", &self.secret_env)?;
        variable("redis_url_env", &self.redis_url_env)?;
        let env = EnvReader::new(|name: &str| lookup(name).map(Into::<SecretString>::into));
        // Trimmed inside a secret, as every provider's credentials: instances that read it
        // from a file ending in a newline and from a variable hash alike.
        let secret = env.raw_secret(&self.secret_env).ok_or_else(|| {
            Error::invalid_input(format!(
                "the guard's secret is missing: set {}",
                self.secret_env
            ))
        })?;
        let mut builder = Guard::builder(inner)
            .secret(secret)
            .config(self.rules.clone());
        if let Some(resolver) = resolver {
            builder = builder.resolver(resolver);
        }
        // The rules and the secret are checked before the store is made: a bad setting is
        // refused as such, not hidden behind an unreachable Redis.
        builder
            .build_with_store(self.store(env.raw_secret(&self.redis_url_env)))
            .await
    }

    /// The store of these settings; `redis_url` is the value of `redis_url_env`, refused
    /// with a memory store.
    async fn store(&self, redis_url: Option<SecretString>) -> Result<Arc<dyn GuardStore>> {
        match self.store {
            StoreKind::Memory => {
                // A URL set for a store left at memory would have each instance count alone,
                // every limit multiplied by the number of instances.
                if redis_url.is_some() {
                    let url = &self.redis_url_env;
                    return Err(Error::invalid_input(format!(
                        "the guard's store is memory, yet {url} is set: set the store to redis \
                         (store = \"redis\", or {ENV_PREFIX}STORE=redis) to share the counters, \
                         or unset {url} to count in this process only"
                    )));
                }
                if let Some(setting) = self.redis_tls_setting() {
                    return Err(Error::invalid_input(format!(
                        "the guard's store is memory, yet {setting} is set: set the store to \
                         redis, or leave out the Redis TLS files"
                    )));
                }
                if self.memory_capacity == 0 {
                    return Err(Error::invalid_input(
                        "guard settings: memory_capacity must be positive",
                    ));
                }
                let clock = Arc::new(SystemClock::new());
                Ok(Arc::new(MemoryStore::with_capacity(
                    clock,
                    self.memory_capacity,
                )))
            }
            StoreKind::Redis => {
                let url = redis_url.ok_or_else(|| {
                    Error::invalid_input(format!(
                        "the guard's store is redis: set {} to its URL",
                        self.redis_url_env
                    ))
                })?;
                self.redis(url).await
            }
        }
    }

    #[cfg(feature = "redis")]
    async fn redis(&self, url: SecretString) -> Result<Arc<dyn GuardStore>> {
        use secrecy::ExposeSecret as _;
        let builder = crate::store::RedisStore::builder(url.expose_secret())
            .prefix(self.redis_prefix.clone())
            .response_timeout(self.rules.store_timeout());
        let store = self.redis_tls(builder)?.connect().await.map_err(|e| {
            let kind = match &e {
                crate::store::StoreError::Config(_) => phone_verify_core::ErrorKind::InvalidInput,
                crate::store::StoreError::Auth(_) => phone_verify_core::ErrorKind::Unauthorized,
                _ => phone_verify_core::ErrorKind::ProviderUnavailable,
            };
            Error::new(kind, e.to_string()).with_source(e)
        })?;
        Ok(Arc::new(store))
    }

    /// The first Redis TLS file setting that is set, by name.
    fn redis_tls_setting(&self) -> Option<&'static str> {
        [
            ("redis_tls_ca_file", &self.redis_tls_ca_file),
            (
                "redis_tls_client_cert_file",
                &self.redis_tls_client_cert_file,
            ),
            ("redis_tls_client_key_file", &self.redis_tls_client_key_file),
        ]
        .into_iter()
        .find_map(|(name, file)| file.is_some().then_some(name))
    }

    /// `builder` with the TLS certificates of these settings, read from their files (at most
    /// 1 MiB each, and only regular files: a path to a device or a pipe cannot hold the
    /// guard's build for ever).
    #[cfg(feature = "redis-tls")]
    fn redis_tls(
        &self,
        mut builder: crate::store::RedisStoreBuilder,
    ) -> Result<crate::store::RedisStoreBuilder> {
        const MAX: u64 = 1 << 20;
        let read = |setting: &str, path: &PathBuf| {
            use std::io::Read as _;
            let refused = |why: String| {
                Error::invalid_input(format!(
                    "guard settings: {setting}: cannot read {}: {why}",
                    path.display()
                ))
            };
            // The type is asked before opening: opening a pipe waits for a writer.
            if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
                let why = match std::fs::metadata(path) {
                    Ok(_) => "not a regular file".to_owned(),
                    Err(e) => e.to_string(),
                };
                return Err(refused(why));
            }
            let file = std::fs::File::open(path).map_err(|e| refused(e.to_string()))?;
            let mut bytes = Vec::new();
            file.take(MAX + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| refused(e.to_string()))?;
            if bytes.len() as u64 > MAX {
                return Err(refused("larger than 1 MiB".into()));
            }
            Ok(bytes)
        };
        if let Some(path) = &self.redis_tls_ca_file {
            builder = builder.tls_root_certificates(read("redis_tls_ca_file", path)?);
        }
        match (
            &self.redis_tls_client_cert_file,
            &self.redis_tls_client_key_file,
        ) {
            (None, None) => {}
            (Some(chain), Some(key)) => {
                let chain = read("redis_tls_client_cert_file", chain)?;
                let key = secrecy::SecretSlice::from(read("redis_tls_client_key_file", key)?);
                builder = builder.tls_client_certificate(chain, key);
            }
            _ => {
                return Err(Error::invalid_input(
                    "guard settings: redis_tls_client_cert_file and redis_tls_client_key_file \
                     are set together (mutual TLS) or not at all",
                ));
            }
        }
        Ok(builder)
    }

    /// `builder`, when no TLS certificate is set: TLS needs the `redis-tls` feature.
    #[cfg(all(feature = "redis", not(feature = "redis-tls")))]
    fn redis_tls(
        &self,
        builder: crate::store::RedisStoreBuilder,
    ) -> Result<crate::store::RedisStoreBuilder> {
        if self.redis_tls_setting().is_some() {
            return Err(Error::unsupported(
                "guard settings: the Redis TLS certificates need the `redis-tls` feature of \
                 phone-verify-guard (the `guard-redis-tls` feature of phone-verify)",
            ));
        }
        Ok(builder)
    }

    #[cfg(not(feature = "redis"))]
    #[allow(clippy::unused_async)]
    async fn redis(&self, _url: SecretString) -> Result<Arc<dyn GuardStore>> {
        Err(Error::unsupported(
            "the guard's redis store needs the `redis` feature of phone-verify-guard (the \
             `guard-redis` feature of phone-verify)",
        ))
    }
}

/// `MAX/WINDOW_SECS`, `MAX/WINDOW_SECS/gcra` (or `/fixed_window`), or `off`.
fn parse_limit(value: &str) -> std::result::Result<Option<Limit>, &'static str> {
    const EXPECTED: &str = "expected MAX/WINDOW_SECS, MAX/WINDOW_SECS/gcra or off";
    if value == "off" {
        return Ok(None);
    }
    let mut parts = value.split('/').map(str::trim);
    let max = parts.next().and_then(|m| m.parse().ok()).ok_or(EXPECTED)?;
    let window_secs = parts.next().and_then(|w| w.parse().ok()).ok_or(EXPECTED)?;
    let algorithm = match parts.next() {
        None | Some("fixed_window") => Algorithm::FixedWindow,
        Some("gcra") => Algorithm::Gcra,
        Some(_) => return Err(EXPECTED),
    };
    if parts.next().is_some() {
        return Err(EXPECTED);
    }
    Ok(Some(Limit {
        max,
        window_secs,
        algorithm,
    }))
}

/// `REGION:MAX/WINDOW_SECS` (each limit as [`parse_limit`] reads it, but `off`),
/// comma-separated, each region once: `EE:20/3600,TR:5/60/gcra`.
fn parse_region_overrides(
    value: &str,
) -> std::result::Result<BTreeMap<String, Limit>, &'static str> {
    const EXPECTED: &str = "expected REGION:MAX/WINDOW_SECS, optionally /gcra, comma-separated, \
                            each region once";
    let mut overrides = BTreeMap::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (region, limit) = entry.split_once(':').ok_or(EXPECTED)?;
        let region = region.trim();
        let limit = parse_limit(limit.trim()).ok().flatten().ok_or(EXPECTED)?;
        if region.is_empty() || overrides.insert(region.to_owned(), limit).is_some() {
            return Err(EXPECTED);
        }
    }
    Ok(overrides)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use phone_verify_core::ErrorKind;
    use phone_verify_testkit::memory::InMemoryVerifier;

    use super::*;

    #[tokio::test]
    async fn builds_from_toml_and_lookup() {
        let settings = GuardSettings::from_toml(
            "secret_env = \"MY_SECRET\"\n[rules]\nper_ip = { max = 1, window_secs = 60 }\n",
        )
        .unwrap();
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let missing = settings
            .build_with_lookup(Arc::clone(&inner), None, |_| None::<String>)
            .await
            .unwrap_err();
        assert!(missing.to_string().contains("MY_SECRET"), "{missing}");
        let lookup = |name: &str| (name == "MY_SECRET").then(|| "0123456789abcdef".to_owned());
        let guard = settings
            .build_with_lookup(inner, None, lookup)
            .await
            .unwrap();
        assert_eq!(guard.config().per_ip.map(|l| l.max), Some(1));
    }

    /// A value pasted where a variable's name belongs (a Redis URL with its password) is
    /// refused and never shown, in errors or in `Debug`.
    #[tokio::test]
    async fn a_value_in_place_of_a_variable_name_is_never_shown() {
        for text in [
            "store = \"redis\"\nredis_url_env = \"redis://:canary@cache:6379\"\n",
            "secret_env = \"canary secret\"\n",
        ] {
            let settings = GuardSettings::from_toml(text).unwrap();
            let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
            let err = settings
                .build_with_lookup(inner, None, |_| Some("x".repeat(32)))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            let shown = format!("{err} {err:?} {settings:?}");
            assert!(!shown.contains("canary"), "{shown}");
            assert!(err.to_string().contains("_env`"), "{err}");
        }
        let named = format!("{:?}", GuardSettings::default());
        assert!(named.contains("PHONE_VERIFY_GUARD_SECRET"), "{named}");
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn every_rule_from_the_environment() {
        let vars = [
            ("PHONE_VERIFY_GUARD_STORE", "redis"),
            ("PHONE_VERIFY_GUARD_REDIS_PREFIX", "app"),
            ("PHONE_VERIFY_GUARD_MEMORY_CAPACITY", "5000"),
            ("PHONE_VERIFY_GUARD_RESEND_COOLDOWN_SECS", "60"),
            ("PHONE_VERIFY_GUARD_PER_PHONE", "3/600"),
            ("PHONE_VERIFY_GUARD_PER_PHONE_DAILY", "off"),
            ("PHONE_VERIFY_GUARD_PER_IP", "4/3600/gcra"),
            ("PHONE_VERIFY_GUARD_PER_REGION", " 500/3600/fixed_window "),
            (
                "PHONE_VERIFY_GUARD_REGION_OVERRIDES",
                "EE:20/3600, TR : 5/60/gcra,",
            ),
            ("PHONE_VERIFY_GUARD_WRONG_CODES_PER_VERIFICATION", "off"),
            ("PHONE_VERIFY_GUARD_GLOBAL_BUDGET", "2000/3600"),
            ("PHONE_VERIFY_GUARD_ALLOW_REGIONS", "TR,DE, GB"),
            (
                "PHONE_VERIFY_GUARD_REFUSE_NUMBER_TYPES",
                "premium_rate,voip",
            ),
            ("PHONE_VERIFY_GUARD_ALLOWLIST", "+905321234567"),
            ("PHONE_VERIFY_GUARD_SEND_FAIL_MODE", "open"),
            ("PHONE_VERIFY_GUARD_STORE_TIMEOUT_MS", "50"),
            ("PHONE_VERIFY_GUARD_DENY_REGIONS", ""),
        ];
        let s = GuardSettings::from_lookup(env(&vars)).unwrap();
        let r = &s.rules;
        assert_eq!(
            (s.store, s.redis_prefix.as_str(), s.memory_capacity),
            (StoreKind::Redis, "app", 5000)
        );
        assert_eq!(r.resend_cooldown_secs, Some(60));
        assert_eq!(r.per_phone, Some(Limit::new(3, Duration::from_secs(600))));
        assert_eq!(r.per_phone_daily, None);
        let per_ip = Limit::per_hour(4).with_algorithm(Algorithm::Gcra);
        assert_eq!(r.per_ip, Some(per_ip));
        assert_eq!(r.per_region, Some(Limit::per_hour(500)));
        let gcra = Limit::new(5, Duration::from_secs(60)).with_algorithm(Algorithm::Gcra);
        let overrides = [
            ("EE".to_owned(), Limit::per_hour(20)),
            ("TR".to_owned(), gcra),
        ];
        assert_eq!(r.region_overrides, BTreeMap::from(overrides));
        assert_eq!(r.wrong_codes_per_verification, None);
        assert_eq!(r.global_budget, Some(Limit::per_hour(2000)));
        assert_eq!(r.allow_regions, ["TR", "DE", "GB"]);
        assert!(r.deny_regions.is_empty(), "an empty value is unset");
        assert_eq!(
            r.refuse_number_types,
            [NumberKind::PremiumRate, NumberKind::Voip]
        );
        assert_eq!(r.allowlist, ["+905321234567"]);
        assert_eq!(r.send_fail_mode, FailMode::Open);
        assert_eq!(r.check_fail_mode, GuardConfig::default().check_fail_mode);
        assert_eq!(r.store_timeout_ms, 50);
        assert_eq!(r.per_ipv4_24, GuardConfig::default().per_ipv4_24);
    }

    #[test]
    fn the_environment_overrides_a_settings_file_and_names_a_bad_variable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("guard.toml");
        std::fs::write(&path, "store = \"redis\"\nredis_prefix = \"file\"\n[rules]\nper_ip = { max = 7, window_secs = 60 }\nper_region = { max = 9, window_secs = 60 }\nsend_fail_mode = \"open\"\n[rules.region_overrides]\nTR = { max = 2, window_secs = 60 }\nGB = { max = 3, window_secs = 60 }\n").unwrap();
        let path = path.to_str().unwrap();
        let vars = [
            ("PHONE_VERIFY_GUARD_CONFIG", path),
            ("PHONE_VERIFY_GUARD_PER_REGION", "off"),
            ("PHONE_VERIFY_GUARD_STORE", "memory"),
            ("PHONE_VERIFY_GUARD_SEND_FAIL_MODE", "closed"),
            ("PHONE_VERIFY_GUARD_CHECK_FAIL_MODE", "closed"),
            ("PHONE_VERIFY_GUARD_REGION_OVERRIDES", "EE:20/3600"),
        ];
        let file = GuardSettings::from_lookup(env(&vars[..1])).unwrap();
        let overrides = |s: &GuardSettings| s.rules.region_overrides.keys().cloned().collect();
        let regions: Vec<String> = overrides(&file);
        assert_eq!(regions, ["GB", "TR"]);
        let s = GuardSettings::from_lookup(env(&vars)).unwrap();
        let regions: Vec<String> = overrides(&s);
        assert_eq!(
            regions,
            ["EE"],
            "the variable replaces the file's overrides"
        );
        assert_eq!(s.redis_prefix, "file");
        assert_eq!(s.store, StoreKind::Memory);
        assert_eq!(s.rules.per_ip.map(|l| l.max), Some(7));
        assert_eq!(s.rules.per_region, None);
        assert_eq!(s.rules.send_fail_mode, FailMode::Closed);
        assert_eq!(s.rules.check_fail_mode, FailMode::Closed);
        for (name, value) in [
            ("PHONE_VERIFY_GUARD_PER_IP", "ten/3600"),
            ("PHONE_VERIFY_GUARD_PER_IP", "10/3600/sliding"),
            ("PHONE_VERIFY_GUARD_PER_IP", "10"),
            ("PHONE_VERIFY_GUARD_STORE", "disk"),
            ("PHONE_VERIFY_GUARD_MEMORY_CAPACITY", "0"),
            ("PHONE_VERIFY_GUARD_MEMORY_CAPACITY", "lots"),
            ("PHONE_VERIFY_GUARD_SEND_FAIL_MODE", "maybe"),
            ("PHONE_VERIFY_GUARD_RESEND_COOLDOWN_SECS", "soon"),
            ("PHONE_VERIFY_GUARD_REFUSE_NUMBER_TYPES", "premium"),
            ("PHONE_VERIFY_GUARD_REGION_OVERRIDES", "TR"),
            ("PHONE_VERIFY_GUARD_REGION_OVERRIDES", "TR:off"),
            ("PHONE_VERIFY_GUARD_REGION_OVERRIDES", "TR:5"),
            ("PHONE_VERIFY_GUARD_REGION_OVERRIDES", ":5/60"),
            ("PHONE_VERIFY_GUARD_REGION_OVERRIDES", "TR:5/60/sliding"),
            (
                "PHONE_VERIFY_GUARD_REGION_OVERRIDES",
                "TR:5/60,EE:1/60,TR:6/60",
            ),
            ("PHONE_VERIFY_GUARD_CONFIG", "/nonexistent/guard.toml"),
        ] {
            let err = GuardSettings::from_lookup(env(&[(name, value)])).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    /// A malformed value is named by its variable, never shown: a secret pasted in the wrong
    /// variable stays out of the error.
    #[test]
    fn bad_values_are_never_shown() {
        for name in [
            "STORE",
            "MEMORY_CAPACITY",
            "RESEND_COOLDOWN_SECS",
            "PER_PHONE",
            "WRONG_CODES_PER_VERIFICATION",
            "REFUSE_NUMBER_TYPES",
            "SEND_FAIL_MODE",
            "STORE_TIMEOUT_MS",
            "REGION_OVERRIDES",
        ] {
            let name = format!("{ENV_PREFIX}{name}");
            let err =
                GuardSettings::from_lookup(env(&[(&name, "voip,canary-secret")])).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(&name), "{shown}");
            assert!(!shown.contains("canary"), "{shown}");
        }
    }

    /// Region overrides from the environment are checked when the guard is built, as the
    /// file's are: a region libphonenumber does not know, or a window of zero, is refused
    /// naming it.
    #[tokio::test]
    async fn region_overrides_from_the_environment_are_checked_when_built() {
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let secret = |name: &str| (name == ENV_SECRET).then(|| "0123456789abcdef".to_owned());
        for (value, named) in [("TR:5/60,UK:5/60", "\"UK\""), ("TR:5/0", "rule TR")] {
            let vars = [("PHONE_VERIFY_GUARD_REGION_OVERRIDES", value)];
            let settings = GuardSettings::from_lookup(env(&vars)).unwrap();
            let err = settings
                .build_with_lookup(Arc::clone(&inner), None, secret)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{value}: {err}");
            assert!(err.to_string().contains(named), "{value}: {err}");
        }
        let vars = [("PHONE_VERIFY_GUARD_REGION_OVERRIDES", "EE:20/3600")];
        let settings = GuardSettings::from_lookup(env(&vars)).unwrap();
        let guard = settings
            .build_with_lookup(inner, None, secret)
            .await
            .unwrap();
        let ee = guard.config().region_overrides.get("EE").copied();
        assert_eq!(ee, Some(Limit::per_hour(20)));
    }

    /// The list of known variables is the one `from_lookup` reads, with the secret and the
    /// Redis URL that `build` reads: no variable is read without being known, nor known
    /// without being read.
    #[test]
    fn the_known_variables_are_those_read() {
        let asked = std::sync::Mutex::new(Vec::new());
        GuardSettings::from_lookup(|name| {
            asked.lock().unwrap().push(name.to_owned());
            None
        })
        .unwrap();
        let mut asked = asked.into_inner().unwrap();
        asked.extend([ENV_SECRET.to_owned(), ENV_REDIS_URL.to_owned()]);
        asked.sort();
        let mut known: Vec<String> = ENV_VARIABLES
            .iter()
            .map(|name| format!("{ENV_PREFIX}{name}"))
            .collect();
        known.sort();
        assert_eq!(asked, known);
    }

    /// A variable under the prefix that the guard does not read is refused, each named, with
    /// the variables it reads; others, and the variables the settings name, are not.
    #[test]
    fn misspelt_guard_variables_are_refused_and_others_only_warned_of() {
        let settings = GuardSettings::from_toml(
            "secret_env = \"PHONE_VERIFY_GUARD_SECRET_B\"\nredis_url_env = \"CACHE_URL\"",
        )
        .unwrap();
        let present = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        // Known, named by the settings, outside the prefix, or far from any known name (a
        // Kubernetes service `phone-verify-guard-redis` gives the pod these links).
        let fine = present(&[
            "HOME",
            "PHONE_VERIFY_PROVIDER",
            "PHONE_VERIFY_GUARD_SECRET_B",
            "PHONE_VERIFY_GUARD_SECRET",
            "PHONE_VERIFY_GUARD_REGION_OVERRIDES",
            "PHONE_VERIFY_GUARD_PER_PHONE",
            "PHONE_VERIFY_GUARD_",
            "PHONE_VERIFY_GUARD_REDIS_SERVICE_HOST",
            "PHONE_VERIFY_GUARD_REDIS_SERVICE_PORT",
            "PHONE_VERIFY_GUARD_REDIS_PORT",
            "PHONE_VERIFY_GUARD_REDIS_PORT_6379_TCP_ADDR",
            "PHONE_VERIFY_GUARD_SECRET_OLD",
            "PHONE_VERIFY_GUARD_STAGE",
        ]);
        settings
            .refuse_misspelt_variables(fine.into_iter())
            .unwrap();
        let typos = present(&[
            "PHONE_VERIFY_GUARD_PER_PHON",
            "PHONE_VERIFY_GUARD_PER_PHONE",
            "PHONE_VERIFY_GUARD_REDIS_SERVICE_HOST",
            "PHONE_VERIFY_GUARD_REDIS_URL_B",
            "PHONE_VERIFY_GUARD_STORE_TIMEOUT",
            "PHONE_VERIFY_GUARD_PER_IPV4",
        ]);
        let err = settings
            .refuse_misspelt_variables(typos.into_iter())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.message().starts_with(
                "the guard reads no variable PHONE_VERIFY_GUARD_PER_IPV4 (did you mean \
                 PHONE_VERIFY_GUARD_PER_IPV4_24?), PHONE_VERIFY_GUARD_PER_PHON (did you mean \
                 PHONE_VERIFY_GUARD_PER_PHONE?), PHONE_VERIFY_GUARD_REDIS_URL_B (did you mean \
                 PHONE_VERIFY_GUARD_REDIS_URL?), PHONE_VERIFY_GUARD_STORE_TIMEOUT (did you mean \
                 PHONE_VERIFY_GUARD_STORE_TIMEOUT_MS?): the variables under PHONE_VERIFY_GUARD_ \
                 are CONFIG, SECRET, STORE,"
            ),
            "{err}"
        );
        assert!(err.message().contains("REGION_OVERRIDES"), "{err}");
        assert!(!err.message().contains("SERVICE_HOST"), "{err}");
    }

    /// The TLS files of the Redis store are read from their variables, as paths; a file is
    /// read only when the guard is built.
    #[test]
    fn the_redis_tls_files_are_read_from_their_variables() {
        let settings = GuardSettings::from_lookup(|name| {
            let value = match name.strip_prefix(ENV_PREFIX)? {
                "REDIS_TLS_CA_FILE" => "/etc/redis-tls/ca.pem",
                "REDIS_TLS_CLIENT_CERT_FILE" => " /etc/redis-tls/client.pem ",
                "REDIS_TLS_CLIENT_KEY_FILE" => "/etc/redis-tls/missing.key",
                _ => return None,
            };
            Some(value.to_owned())
        })
        .unwrap();
        let path = |p: &str| Some(PathBuf::from(p));
        assert_eq!(settings.redis_tls_ca_file, path("/etc/redis-tls/ca.pem"));
        assert_eq!(
            settings.redis_tls_client_cert_file,
            path("/etc/redis-tls/client.pem")
        );
        assert_eq!(
            settings.redis_tls_client_key_file,
            path("/etc/redis-tls/missing.key")
        );
        let file = GuardSettings::from_toml("redis_tls_ca_file = \"/run/ca.pem\"").unwrap();
        assert_eq!(file.redis_tls_ca_file, path("/run/ca.pem"));
    }

    /// The variable that tells a `from_env` test it is its own child run (outside the guard's
    /// prefix, which `from_env` keeps to its own variables).
    const CHILD: &str = "GUARD_SETTINGS_TEST_CHILD";

    /// Whether this is the child run of the test `name`; if not, runs it again as a child
    /// process with `vars` set and no other variable under the guard's prefix (setting them
    /// here would change them for every test of this process, and needs `unsafe`), and
    /// asserts that it passed.
    fn in_child(name: &str, vars: &[(&str, &str)]) -> bool {
        if std::env::var_os(CHILD).is_some() {
            return true;
        }
        let mut child = std::process::Command::new(std::env::current_exe().unwrap());
        child
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1");
        for (present, _) in std::env::vars_os() {
            if present.to_string_lossy().starts_with(ENV_PREFIX) {
                child.env_remove(present);
            }
        }
        let output = child.envs(vars.iter().copied()).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "the child run failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        false
    }

    /// `from_env` reads the process's own environment.
    #[test]
    fn from_env_reads_the_process_environment() {
        let vars = [
            ("PHONE_VERIFY_GUARD_PER_PHONE", "3/3600"),
            ("PHONE_VERIFY_GUARD_RESEND_COOLDOWN_SECS", "off"),
            ("PHONE_VERIFY_GUARD_REDIS_PREFIX", "from-env"),
            ("PHONE_VERIFY_GUARD_REGION_OVERRIDES", "EE:20/3600"),
        ];
        let name = "settings::tests::from_env_reads_the_process_environment";
        if in_child(name, &vars) {
            let settings = GuardSettings::from_env().unwrap();
            assert_eq!(settings.rules.per_phone, Some(Limit::per_hour(3)));
            assert_eq!(settings.rules.resend_cooldown_secs, None);
            assert_eq!(settings.redis_prefix, "from-env");
            let ee = settings.rules.region_overrides.get("EE").copied();
            assert_eq!(ee, Some(Limit::per_hour(20)));
        }
    }

    /// `from_env` refuses a misspelt variable under the guard's prefix, naming it, instead of
    /// leaving its setting at the default.
    #[test]
    fn from_env_refuses_a_misspelt_variable() {
        let vars = [
            ("PHONE_VERIFY_GUARD_PER_PHON", "sk_live_canary"),
            ("PHONE_VERIFY_GUARD_SECRET", "0123456789abcdef"),
        ];
        let name = "settings::tests::from_env_refuses_a_misspelt_variable";
        if in_child(name, &vars) {
            let err = GuardSettings::from_env().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            let shown = err.to_string();
            assert!(
                shown.contains(
                    "PHONE_VERIFY_GUARD_PER_PHON (did you mean PHONE_VERIFY_GUARD_PER_PHONE?)"
                ),
                "{shown}"
            );
            assert!(shown.contains("PER_PHONE, PER_PHONE_DAILY"), "{shown}");
            assert!(!shown.contains("canary"), "{shown}");
        }
    }

    /// `from_env` starts beside the variables Kubernetes gives a pod for a service named
    /// `phone-verify-guard-redis`, which it does not read.
    #[test]
    fn from_env_accepts_kubernetes_service_links() {
        let vars = [
            ("PHONE_VERIFY_GUARD_REDIS_SERVICE_HOST", "10.0.0.11"),
            ("PHONE_VERIFY_GUARD_REDIS_SERVICE_PORT", "6379"),
            ("PHONE_VERIFY_GUARD_REDIS_PORT", "tcp://10.0.0.11:6379"),
            ("PHONE_VERIFY_GUARD_REDIS_PORT_6379_TCP_ADDR", "10.0.0.11"),
            ("PHONE_VERIFY_GUARD_PER_PHONE", "3/3600"),
        ];
        let name = "settings::tests::from_env_accepts_kubernetes_service_links";
        if in_child(name, &vars) {
            let settings = GuardSettings::from_env().unwrap();
            assert_eq!(settings.rules.per_phone, Some(Limit::per_hour(3)));
        }
    }

    /// The memory store holds as many counters as the settings say.
    #[tokio::test]
    async fn the_memory_store_has_the_settings_capacity() {
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let lookup = |name: &str| (name == ENV_SECRET).then(|| "0123456789abcdef".to_owned());
        let settings = GuardSettings::from_toml("memory_capacity = 6400").unwrap();
        let guard = settings
            .build_with_lookup(Arc::clone(&inner), None, lookup)
            .await
            .unwrap();
        let shown = format!("{guard:?}");
        assert!(shown.contains("capacity: 6400"), "{shown}");
        let default = GuardSettings::default()
            .build_with_lookup(Arc::clone(&inner), None, lookup)
            .await
            .unwrap();
        assert!(format!("{default:?}").contains("capacity: 1000000"));
        let none = GuardSettings::from_toml("memory_capacity = 0").unwrap();
        let err = none
            .build_with_lookup(inner, None, lookup)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("memory_capacity"), "{err}");
    }

    /// An empty variable is unset when the guard is built, as when the settings are read: an
    /// empty Redis URL or secret is reported as missing, not parsed.
    #[tokio::test]
    async fn empty_variables_are_unset_when_building() {
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let settings = GuardSettings::from_toml("store = \"redis\"").unwrap();
        let empty_url = |name: &str| match name {
            ENV_SECRET => Some("0123456789abcdef".to_owned()),
            ENV_REDIS_URL => Some(String::new()),
            _ => None,
        };
        let err = settings
            .build_with_lookup(Arc::clone(&inner), None, empty_url)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(
            err.to_string().contains(&format!("set {ENV_REDIS_URL}")),
            "{err}"
        );
        let blank_secret = |name: &str| (name == ENV_SECRET).then(|| "  ".to_owned());
        let err = GuardSettings::default()
            .build_with_lookup(inner, None, blank_secret)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("secret is missing"), "{err}");
        // Trimmed: fifteen bytes between blanks are too short, whatever the blanks add.
        let padded = |name: &str| (name == ENV_SECRET).then(|| " 0123456789abcde\n".to_owned());
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let err = GuardSettings::default()
            .build_with_lookup(inner, None, padded)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("at least 16 bytes"), "{err}");
        // A lookup of secrets builds as a lookup of strings.
        let secrets =
            |name: &str| (name == ENV_SECRET).then(|| SecretString::from("0123456789abcdef"));
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        GuardSettings::default()
            .build_with_lookup(inner, None, secrets)
            .await
            .unwrap();
    }

    /// A bad rule or secret is refused, naming the setting, before the store is built: with
    /// `store = "redis"` and nothing listening at the URL, the error is the setting's
    /// `InvalidInput`, not the store's `ProviderUnavailable` (and a zero store timeout never
    /// becomes Redis's response timeout).
    #[tokio::test]
    async fn bad_settings_are_refused_before_connecting_to_redis() {
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let secret = "0123456789abcdef";
        for (rules, secret, named) in [
            ("deny_regions = [\"UK\"]", secret, "UK"),
            ("store_timeout_ms = 0", secret, "store_timeout_ms"),
            ("", "too short", "secret"),
        ] {
            let settings =
                GuardSettings::from_toml(&format!("store = \"redis\"\n[rules]\n{rules}\n"))
                    .unwrap();
            let lookup = |name: &str| match name {
                ENV_SECRET => Some(secret.to_owned()),
                ENV_REDIS_URL => Some("redis://127.0.0.1:1/0".to_owned()),
                _ => None,
            };
            let err = settings
                .build_with_lookup(Arc::clone(&inner), None, lookup)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{rules:?}: {err}");
            assert!(err.to_string().contains(named), "{rules:?}: {err}");
        }
    }

    /// A malformed settings text or file: the error has the place and toml's message, never
    /// the offending line (a file may hold credentials next to it).
    #[test]
    fn a_malformed_file_is_placed_not_quoted() {
        let text = "store = \"memory\"\n[rules]\nper_ip = { max = 1, window_secs = 60 } canary\n";
        let err = GuardSettings::from_toml(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().starts_with("guard settings: 3:"), "{err}");
        assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("guard.toml");
        std::fs::write(&path, text).unwrap();
        let path = path.to_str().unwrap();
        let err =
            GuardSettings::from_lookup(env(&[("PHONE_VERIFY_GUARD_CONFIG", path)])).unwrap_err();
        assert!(
            err.message()
                .starts_with(&format!("{ENV_CONFIG}: {path}:3:")),
            "{err}"
        );
        assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
    }

    /// A value that is not what its setting takes is refused without being shown (a Redis URL
    /// with its password, where `memory` or `redis` belongs), saying what was expected.
    #[test]
    fn a_wrong_value_is_not_shown() {
        for (text, expected) in [
            (
                "store = \"redis://:canary@h:6379\"\n",
                "guard settings: 1:9: unknown variant (not shown), expected `memory` or `redis`",
            ),
            (
                "memory_capacity = \"canary\"\n",
                "guard settings: 1:19: invalid type: string (not shown), expected usize",
            ),
            (
                "memory_capacity = 'canary \"\\ é'\n",
                "guard settings: 1:19: invalid type: string (not shown), expected usize",
            ),
            (
                "[rules]\nsend_fail_mode = \"canary\\\"\\\\\"\n",
                "guard settings: 2:18: unknown variant (not shown), expected `open` or `closed`",
            ),
        ] {
            let err = GuardSettings::from_toml(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert_eq!(err.message(), expected, "{text:?}");
            assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
        }
        // An all-digit secret pasted unquoted where a variable's name belongs.
        let err = GuardSettings::from_toml("secret_env = 4929173650128834\n").unwrap_err();
        assert_eq!(
            err.message(),
            "guard settings: 1:14: invalid type: integer (not shown), expected a string"
        );
    }

    /// A file turns a rule off with `"off"` (TOML has no null, and a field left out is the
    /// default, on), and settings written as TOML read back the same, rules off included.
    #[test]
    fn a_file_turns_rules_off_and_writes_them_so() {
        let text = "[rules]\nper_ip = \"off\"\nper_phone_daily = \"off\"\n\
                    resend_cooldown_secs = \"off\"\nwrong_codes_per_verification = \"off\"\n";
        let settings = GuardSettings::from_toml(text).unwrap();
        let rules = &settings.rules;
        assert_eq!(rules.per_ip, None);
        assert_eq!(rules.per_phone_daily, None);
        assert_eq!(rules.resend_cooldown_secs, None);
        assert_eq!(rules.wrong_codes_per_verification, None);
        assert_eq!(rules.per_phone, GuardConfig::default().per_phone);
        let off = GuardSettings {
            rules: GuardConfig::off(),
            ..GuardSettings::default()
        };
        for settings in [off, GuardSettings::default()] {
            let written = toml::to_string(&settings).unwrap();
            let read = GuardSettings::from_toml(&written).unwrap();
            assert_eq!(read, settings, "{written}");
        }
        // Another string is refused, naming what is expected, without being shown.
        let err = GuardSettings::from_toml("[rules]\nper_ip = \"canary\"\n").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("\"off\""), "{err}");
        assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
    }

    /// The allowlisted numbers of the rules are masked in the settings' `Debug`, whatever
    /// separates their digits.
    #[test]
    fn debug_masks_the_allowlisted_numbers() {
        let settings = GuardSettings::from_toml(
            "[rules]\nallowlist = [\"+90/532/123/45/67\", \"+90 - 532 - 123 - 45 - 68\"]\n",
        )
        .unwrap();
        let shown = format!("{settings:?}");
        assert!(shown.contains("allowlist"), "{shown}");
        assert!(!shown.contains("532"), "{shown}");
        assert!(shown.contains("67\"") && shown.contains("68\""), "{shown}");
    }

    /// A TLS file over 1 MiB is refused when the guard is built, naming the limit, before
    /// anything is connected; one of exactly 1 MiB gets past the size check and is refused for
    /// what it holds.
    #[cfg(feature = "redis-tls")]
    #[tokio::test]
    async fn a_redis_tls_file_over_one_mib_is_refused() {
        use std::io::Write as _;
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        // Nothing listens there: a refusal is the settings', not a connection's.
        let lookup = |name: &str| match name {
            ENV_SECRET => Some("0123456789abcdef".to_owned()),
            ENV_REDIS_URL => Some("rediss://127.0.0.1:1/0".to_owned()),
            _ => None,
        };
        let file_of = |len: usize| {
            let mut file = tempfile::NamedTempFile::new().unwrap();
            file.write_all(&vec![b'x'; len]).unwrap();
            file.flush().unwrap();
            file
        };
        let settings_of = |file: &tempfile::NamedTempFile| GuardSettings {
            store: StoreKind::Redis,
            redis_tls_ca_file: Some(file.path().to_owned()),
            ..GuardSettings::default()
        };
        let over = file_of((1 << 20) + 1);
        let err = settings_of(&over)
            .build_with_lookup(Arc::clone(&inner), None, lookup)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.message().contains("redis_tls_ca_file"), "{err}");
        assert!(err.message().contains("larger than 1 MiB"), "{err}");
        let limit = file_of(1 << 20);
        let err = settings_of(&limit)
            .build_with_lookup(inner, None, lookup)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(!err.message().contains("larger than 1 MiB"), "{err}");
        assert!(err.message().contains("no PEM certificate"), "{err}");
    }

    /// A TLS file that cannot be read is refused when the guard is built, naming the setting
    /// and the path, before any connection is tried; a client certificate set without its
    /// key likewise.
    #[cfg(feature = "redis-tls")]
    #[tokio::test]
    async fn a_redis_tls_file_that_cannot_be_read_is_refused_naming_it() {
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        // Nothing listens there: a refusal is the settings', not a connection's.
        let lookup = |name: &str| match name {
            ENV_SECRET => Some("0123456789abcdef".to_owned()),
            ENV_REDIS_URL => Some("rediss://127.0.0.1:1/0".to_owned()),
            _ => None,
        };
        let unreadable = GuardSettings {
            store: StoreKind::Redis,
            redis_tls_ca_file: Some("/nonexistent/phone-verify/ca.pem".into()),
            ..GuardSettings::default()
        };
        let err = unreadable
            .build_with_lookup(Arc::clone(&inner), None, lookup)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.message().contains("redis_tls_ca_file"), "{err}");
        assert!(
            err.message().contains("/nonexistent/phone-verify/ca.pem"),
            "{err}"
        );
        // Not a regular file (a device that never ends, a pipe that may never be written).
        let device = GuardSettings {
            redis_tls_ca_file: Some("/dev/zero".into()),
            ..unreadable.clone()
        };
        let err = device
            .build_with_lookup(Arc::clone(&inner), None, lookup)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.message().contains("not a regular file"), "{err}");
        let half = GuardSettings {
            store: StoreKind::Redis,
            redis_tls_client_cert_file: Some("/nonexistent/phone-verify/client.pem".into()),
            ..GuardSettings::default()
        };
        let err = half
            .build_with_lookup(inner, None, lookup)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.message().contains("redis_tls_client_key_file"), "{err}");
    }

    /// Redis TLS files set beside a memory store are refused, naming the setting: they would
    /// be ignored, as a Redis URL there would.
    #[tokio::test]
    async fn redis_tls_files_beside_a_memory_store_are_refused() {
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let settings = GuardSettings {
            redis_tls_client_key_file: Some("/run/secrets/client.key".into()),
            ..GuardSettings::default()
        };
        let err = settings
            .build_with_lookup(inner, None, |name| {
                (name == ENV_SECRET).then(|| "0123456789abcdef".to_owned())
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.message().contains("redis_tls_client_key_file"), "{err}");
    }

    /// Without the `redis-tls` feature, Redis TLS files are refused as unsupported, naming
    /// the feature.
    #[cfg(all(feature = "redis", not(feature = "redis-tls")))]
    #[tokio::test]
    async fn redis_tls_files_need_the_tls_feature() {
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let settings = GuardSettings {
            store: StoreKind::Redis,
            redis_tls_ca_file: Some("/etc/redis-tls/ca.pem".into()),
            ..GuardSettings::default()
        };
        let lookup = |name: &str| match name {
            ENV_SECRET => Some("0123456789abcdef".to_owned()),
            ENV_REDIS_URL => Some("redis://127.0.0.1:1/0".to_owned()),
            _ => None,
        };
        let err = settings
            .build_with_lookup(inner, None, lookup)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert!(err.message().contains("redis-tls"), "{err}");
    }

    /// A Redis URL set while the store is memory is refused, naming the variables (never the
    /// URL): each instance would count alone, every limit multiplied by their number.
    #[tokio::test]
    async fn a_redis_url_beside_a_memory_store_is_refused() {
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let lookup = |name: &str| match name {
            ENV_SECRET => Some("0123456789abcdef".to_owned()),
            ENV_REDIS_URL => Some("redis://:canary@10.0.0.5:6379/0".to_owned()),
            _ => None,
        };
        let err = GuardSettings::default()
            .build_with_lookup(Arc::clone(&inner), None, lookup)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.message().contains(ENV_REDIS_URL), "{err}");
        assert!(err.message().contains("PHONE_VERIFY_GUARD_STORE"), "{err}");
        assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
        // Blank, it is unset.
        let blank = |name: &str| match name {
            ENV_SECRET => Some("0123456789abcdef".to_owned()),
            ENV_REDIS_URL => Some(" ".to_owned()),
            _ => None,
        };
        GuardSettings::default()
            .build_with_lookup(inner, None, blank)
            .await
            .unwrap();
    }

    /// A Redis URL redis-rs cannot use is the operator's mistake (`InvalidInput`), not an outage
    /// to retry; no password is shown. Refused before any connection is tried.
    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn a_redis_url_that_cannot_be_used_is_invalid_input() {
        let settings = GuardSettings::from_toml("store = \"redis\"").unwrap();
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let lookup = |name: &str| match name {
            ENV_SECRET => Some("0123456789abcdef".to_owned()),
            ENV_REDIS_URL => Some("redis://:canary@127.0.0.1:1/notadb".to_owned()),
            _ => None,
        };
        let err = settings
            .build_with_lookup(inner, None, lookup)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
    }

    #[tokio::test]
    async fn refuses_unknown_fields_and_a_redis_store_without_url() {
        let typo = GuardSettings::from_toml("[rules]\nper_phon = { max = 1, window_secs = 60 }");
        assert!(typo.unwrap_err().to_string().contains("per_phon"));
        let settings = GuardSettings::from_toml("store = \"redis\"").unwrap();
        let inner: Arc<dyn PhoneVerifier> = Arc::new(InMemoryVerifier::new());
        let lookup = |name: &str| (name == ENV_SECRET).then(|| "0123456789abcdef".to_owned());
        let err = settings
            .build_with_lookup(inner, None, lookup)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains(ENV_REDIS_URL), "{err}");
    }
}
