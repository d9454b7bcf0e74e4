//! Sandbox configuration: listen address, credentials, seed, limits and starting balances.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use crate::model::{ControlError, Provider};
use crate::phone;

/// Default VerifyKit server key (`X-Vfk-Server-Key`).
pub const DEFAULT_VERIFYKIT_SERVER_KEY: &str = "sandbox-server-key";
/// Default Verifik bearer token.
pub const DEFAULT_VERIFIK_TOKEN: &str = "sandbox-token";
/// Default Verigator user name (`X-Service-Auth: sandbox:sandbox`).
pub const DEFAULT_VERIGATOR_USERNAME: &str = "sandbox";
/// Default Verigator password.
pub const DEFAULT_VERIGATOR_PASSWORD: &str = "sandbox";
/// The Verifik project that exists from the start (the id used in Verifik's own examples).
pub const DEFAULT_VERIFIK_PROJECT: &str = "507f1f77bcf86cd799439011";
/// The sandbox's Twilio Account SID (HTTP Basic user name, with [`TWILIO_AUTH_TOKEN`]).
pub const TWILIO_ACCOUNT_SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// The sandbox's Twilio auth token.
pub const TWILIO_AUTH_TOKEN: &str = "sandbox-auth-token";
/// The sandbox's Twilio API key SID (HTTP Basic user name, with [`TWILIO_API_KEY_SECRET`]).
pub const TWILIO_API_KEY_SID: &str = "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// The sandbox's Twilio API key secret.
pub const TWILIO_API_KEY_SECRET: &str = "sandbox-api-key-secret";
/// Wrong codes a Twilio verification takes: the last is answered `max_attempts_reached`,
/// every later check `60202`.
pub const TWILIO_MAX_CHECKS: u32 = 5;
/// The Twilio Verify service that exists from the start (6-digit codes, custom codes enabled).
pub const TWILIO_SERVICE_SID: &str = "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// Requests the request log keeps by default (a few MiB; see the crate README for the budget).
pub const DEFAULT_REQUEST_LOG_CAPACITY: usize = 10_000;
/// Sent messages the outbox keeps by default (a few MiB; see the crate README for the budget).
pub const DEFAULT_OUTBOX_CAPACITY: usize = 10_000;
/// Records of each kind (flows, sessions, validations, tokens) a provider keeps by default.
pub const DEFAULT_RECORDS_CAPACITY: usize = 10_000;

/// Which of the two documented VerifyKit `init` answer shapes to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitTheme {
    /// OTP (SMS) is an entry of `result.list` next to WhatsApp and Telegram.
    #[default]
    Recommended,
    /// `result.list` holds only the messaging apps; OTP is announced at the root through
    /// `alternativeValidation: "otp"` and `alternativeValidationDescription`.
    Basic,
}

impl FromStr for InitTheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "recommended" => Ok(Self::Recommended),
            "basic" => Ok(Self::Basic),
            other => Err(format!(
                "unknown init theme {other:?} (expected recommended or basic)"
            )),
        }
    }
}

impl fmt::Display for InitTheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Recommended => "recommended",
            Self::Basic => "basic",
        })
    }
}

/// A request budget: at most `max_requests` in any sliding `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub max_requests: u32,
    /// Length of the sliding window (sandbox clock).
    pub window: Duration,
}

/// How many codes may be sent to one phone number in a sliding window (VerifyKit `403015`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimit {
    /// Sends allowed per number per window.
    pub max_sends: u32,
    /// Length of the sliding window (sandbox clock).
    pub window: Duration,
}

impl Default for SendLimit {
    fn default() -> Self {
        Self {
            max_sends: 10,
            window: Duration::from_secs(3600),
        }
    }
}

/// Credits per provider; `None` means unlimited. Each VerifyKit validation (`send-otp`,
/// `start`, `start-email`) and each Verifik phone validation costs one credit. Fields may be
/// added, each with a default: in code, end a struct expression with `..Balances::default()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Balances {
    /// VerifyKit credits; at 0 VerifyKit answers `403042`.
    pub verifykit: Option<u64>,
    /// Verifik credits; at 0 Verifik answers 403 `insufficient_credits`.
    pub verifik: Option<u64>,
}

/// Everything that shapes a sandbox. `SandboxConfig::default()` listens on an ephemeral
/// loopback port with the documented default credentials. Fields may be added, each with a
/// default: in code, end a struct expression with `..SandboxConfig::default()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Address to listen on (default `127.0.0.1:0`, an ephemeral port).
    pub listen: SocketAddr,
    /// Seed for codes and ids; `None` draws from OS entropy.
    pub seed: Option<u64>,
    /// The VerifyKit server key accepted in `X-Vfk-Server-Key`.
    pub verifykit_server_key: String,
    /// The Verifik token accepted in `Authorization` (tokens issued by the emulated logins too).
    pub verifik_token: String,
    /// The Verigator API user name of `X-Service-Auth: user:password`.
    pub verigator_username: String,
    /// The Verigator API password of `X-Service-Auth: user:password`.
    pub verigator_password: String,
    /// Shape of VerifyKit's `init` answer.
    pub init_theme: InitTheme,
    /// VerifyKit validation types that are active (`whatsapp`, `telegram`, `otp`); others get `403011`.
    pub verifykit_methods: Vec<String>,
    /// When true VerifyKit OTP only works for test numbers (`403049` otherwise).
    pub verifykit_otp_test_numbers_only: bool,
    /// VerifyKit per-number send limit (`403015`).
    pub verifykit_send_limit: SendLimit,
    /// Wrong VerifyKit codes allowed before a pending OTP is discarded (later checks get `403013`).
    pub verifykit_max_attempts: u32,
    /// Optional VerifyKit request budget per end-user IP (`X-Vfk-Forwarded-For`); over it `429001`.
    pub verifykit_rate_limit: Option<RateLimit>,
    /// Verifik project ids that exist (others give 404 `project_not_found`).
    pub verifik_projects: Vec<String>,
    /// Wrong Verigator PINs allowed before the verification is throttled.
    pub verigator_max_attempts: u32,
    /// How long a Verigator SMS PIN (and a started authentication) stays valid.
    pub verigator_pin_ttl: Duration,
    /// Starting credits.
    pub balances: Balances,
    /// Test numbers with fixed codes: `(E.164 phone, code)`, each an international number and
    /// a code of 4 to 10 digits ([`check_test_number`]; `Sandbox::start` refuses others).
    pub test_numbers: Vec<(String, String)>,
    /// How many requests the request log keeps (the oldest are dropped first); the counts per
    /// endpoint stay exact past it. Default [`DEFAULT_REQUEST_LOG_CAPACITY`].
    pub request_log_capacity: usize,
    /// How many sent messages the outbox keeps (the oldest are dropped first). Default
    /// [`DEFAULT_OUTBOX_CAPACITY`].
    pub outbox_capacity: usize,
    /// How many records of each kind (VerifyKit flows and sessions, Verifik validations,
    /// logins, tokens and registrations, Twilio services and verifications) a provider keeps;
    /// past it the oldest is forgotten, and checking it answers as for an unknown one.
    /// Verigator's services are bounded by it too (forgotten with their users), and Verigator
    /// keeps the users of its newest 200,000 registrations across services; Twilio's default
    /// service is not bounded. Default [`DEFAULT_RECORDS_CAPACITY`].
    pub records_capacity: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            seed: None,
            verifykit_server_key: DEFAULT_VERIFYKIT_SERVER_KEY.to_owned(),
            verifik_token: DEFAULT_VERIFIK_TOKEN.to_owned(),
            verigator_username: DEFAULT_VERIGATOR_USERNAME.to_owned(),
            verigator_password: DEFAULT_VERIGATOR_PASSWORD.to_owned(),
            init_theme: InitTheme::default(),
            verifykit_methods: vec!["whatsapp".into(), "telegram".into(), "otp".into()],
            verifykit_otp_test_numbers_only: false,
            verifykit_send_limit: SendLimit::default(),
            verifykit_max_attempts: 5,
            verifykit_rate_limit: None,
            verifik_projects: vec![DEFAULT_VERIFIK_PROJECT.to_owned()],
            verigator_max_attempts: 5,
            verigator_pin_ttl: Duration::from_secs(300),
            balances: Balances::default(),
            test_numbers: Vec::new(),
            request_log_capacity: DEFAULT_REQUEST_LOG_CAPACITY,
            outbox_capacity: DEFAULT_OUTBOX_CAPACITY,
            records_capacity: DEFAULT_RECORDS_CAPACITY,
        }
    }
}

impl SandboxConfig {
    /// How many wrong codes one OTP verification of `provider` takes before every code, the
    /// right one included, is refused; `None` for Verifik, which sets no limit.
    pub fn wrong_code_limit(&self, provider: Provider) -> Option<u32> {
        match provider {
            Provider::VerifyKit => Some(self.verifykit_max_attempts),
            Provider::Verifik => None,
            Provider::Verigator => Some(self.verigator_max_attempts),
            Provider::Twilio => Some(TWILIO_MAX_CHECKS),
        }
    }

    /// The credentials a client of `provider` authenticates with here (keys, tokens,
    /// passwords; not user names or ids).
    pub fn secrets(&self, provider: Provider) -> Vec<&str> {
        match provider {
            Provider::VerifyKit => vec![&self.verifykit_server_key],
            Provider::Verifik => vec![&self.verifik_token],
            Provider::Verigator => vec![&self.verigator_password],
            Provider::Twilio => vec![TWILIO_AUTH_TOKEN, TWILIO_API_KEY_SECRET],
        }
    }

    /// The default configuration with a fixed seed, for reproducible codes.
    pub fn seeded(seed: u64) -> Self {
        Self {
            seed: Some(seed),
            ..Self::default()
        }
    }

    /// The `X-Service-Auth` value Verigator accepts.
    pub fn verigator_service_auth(&self) -> String {
        format!("{}:{}", self.verigator_username, self.verigator_password)
    }
}

/// Checks a test number as [`SandboxConfig::test_numbers`],
/// [`SandboxHandle::add_test_number`](crate::SandboxHandle::add_test_number) and the control API
/// take it: `phone` an international number (`+` or `00`, then the country code) and `code` 4
/// to 10 digits, both trimmed. Returns the number in E.164 form with the code; the error names
/// the number masked (`+90*********67`).
pub fn check_test_number(phone: &str, code: &str) -> Result<(String, String), ControlError> {
    let Some(parsed) = phone::parse_international(phone) else {
        return Err(ControlError::InvalidRequest(format!(
            "test number {} is not a valid international phone number",
            phone_verify_core::kit::mask_numbers(phone.trim())
        )));
    };
    let code = code.trim();
    if !(4..=10).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ControlError::InvalidRequest(format!(
            "the code of test number {} must be 4 to 10 digits",
            parsed.masked()
        )));
    }
    Ok((parsed.e164().to_owned(), code.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_numbers_are_checked_and_errors_mask_the_number() {
        assert_eq!(
            check_test_number(" +90 532 123 45 67 ", " 123456 "),
            Ok(("+905321234567".to_owned(), "123456".to_owned()))
        );
        for (phone, code) in [
            ("+90 532 123 45 67", "12"),
            ("+90 532 123 45 67", "12345678901"),
            ("+90 532 123 45 67", "12ab56"),
            ("905321234567", "123456"),
            ("+90532", "123456"),
        ] {
            let error = check_test_number(phone, code).unwrap_err().to_string();
            assert!(
                !error.contains("1234567") && !error.contains("123 45 67"),
                "{error}"
            );
            assert!(error.contains("test number"), "{error}");
        }
    }

    #[test]
    fn defaults_are_the_documented_credentials() {
        let c = SandboxConfig::default();
        assert_eq!(c.verifykit_server_key, "sandbox-server-key");
        assert_eq!(c.verifik_token, "sandbox-token");
        assert_eq!(c.verigator_service_auth(), "sandbox:sandbox");
        assert!(c.listen.ip().is_loopback());
        assert_eq!(c.listen.port(), 0);
        assert_eq!(SandboxConfig::seeded(9).seed, Some(9));
        assert_eq!(c.request_log_capacity, DEFAULT_REQUEST_LOG_CAPACITY);
        assert_eq!(c.outbox_capacity, DEFAULT_OUTBOX_CAPACITY);
    }

    #[test]
    fn init_theme_parses() {
        assert_eq!("Basic".parse::<InitTheme>().unwrap(), InitTheme::Basic);
        assert_eq!(
            "recommended".parse::<InitTheme>().unwrap(),
            InitTheme::Recommended
        );
        assert!("fancy".parse::<InitTheme>().is_err());
        assert_eq!(InitTheme::Basic.to_string(), "basic");
    }
}
