//! The command line: global options and subcommands.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use phone_verify::{Channel, Code, Language, PhoneNumber, SessionId};

use crate::exit::Failure;

/// The exit codes, as `--help` shows them.
pub(crate) const EXIT_CODES: &str = "\
Targets:
  embedded          a sandbox inside this process (the default): nothing is sent, and it stops
                    with the command, so `check` and `resolve` need another target
  sandbox:URL       a running `phone-verify sandbox` (or phone-verify-sandbox) at URL, e.g.
                    sandbox:http://127.0.0.1:8025 (`sandbox` alone means that URL)
  live              the real provider, with credentials from its environment variables
                    (VERIFYKIT_SERVER_KEY, VERIFIK_TOKEN, VERIGATOR_USERNAME and _PASSWORD,
                    TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN or TWILIO_API_KEY_SID and
                    _SECRET, and TWILIO_SERVICE_SID)
On every target the providers' timeout and retry variables apply
(VERIFYKIT_ATTEMPT_TIMEOUT_SECS, VERIFIK_MAX_ATTEMPTS, ...); a sandbox supplies only the
credentials and URLs.

Exit codes:
  0   success: verified, resolved, done
  1   rejected: wrong or expired code, too many attempts, unknown session; or a demo flow
      that did not behave as expected
  2   error: provider error, network failure, missing credentials, I/O; or a check whose
      answer was lost (outcome unknown): start a new verification; or a send whose answer
      was lost (maybe sent): wait for the code before starting again
  3   pending: the user has not completed the reverse flow (check without --wait, or
      --wait timed out)
  64  usage: bad arguments, phone number, code or handle file, or input the provider
      refuses before any request; nothing was sent
  101 internal error: a bug stopped the command (please report it)";

/// Phone-number verification from the shell: VerifyKit, Verifik, Messente Verigator and Twilio
/// Verify, against an embedded sandbox by default.
#[derive(Debug, Parser)]
#[command(
    name = "phone-verify",
    version,
    about,
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options of every command.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Where requests go: embedded (default), sandbox:URL, or live [env: PHONE_VERIFY_TARGET]
    #[arg(long, global = true, value_name = "TARGET")]
    pub(crate) target: Option<String>,
    /// The real provider, with credentials from the environment (same as --target live)
    #[arg(long, global = true)]
    pub(crate) live: bool,
    /// A running sandbox (same as --target sandbox:URL)
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) sandbox_url: Option<String>,
    /// The provider: verifykit (default), verifik, verigator or twilio [env:
    /// PHONE_VERIFY_PROVIDER]
    #[arg(
        long,
        global = true,
        value_parser = ["verifykit", "verifik", "verigator", "twilio"]
    )]
    pub(crate) provider: Option<String>,
    /// With --live: the provider's base URL instead of its production host (for VerifyKit, the
    /// web REST host; VERIFYKIT_API_URL sets the API host)
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// With --live: read the provider's secret (VerifyKit server key, Verifik token, Verigator
    /// password, Twilio auth token, or its API key secret when TWILIO_API_KEY_SID is set) from
    /// the first line of stdin instead of the environment
    #[arg(long, global = true)]
    pub(crate) key_stdin: bool,
    /// The end user's IP address, sent to providers that ask for it (VerifyKit)
    #[arg(long, global = true, value_name = "IP")]
    pub(crate) end_user_ip: Option<IpAddr>,
    /// Print one JSON document on stdout, for scripts
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// start, check and resolve through a router of several providers described by FILE
    /// (TOML: [[routes]] with provider and settings, [[rules]], [breaker]); the file says
    /// where requests go
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Guard the provider with these abuse-protection rules (a phone-verify-guard TOML file)
    #[arg(long, global = true, value_name = "GUARD_TOML")]
    pub(crate) guard: Option<std::path::PathBuf>,
}

impl Global {
    /// Refuses options that choose a provider or a target next to `--config`: the file does.
    pub(crate) fn check_config_clashes(&self) -> Result<(), Failure> {
        if self.config.is_none() {
            return Ok(());
        }
        let clashing = [
            ("--target", self.target.is_some()),
            ("--live", self.live),
            ("--sandbox-url", self.sandbox_url.is_some()),
            ("--provider", self.provider.is_some()),
            ("--base-url", self.base_url.is_some()),
            ("--key-stdin", self.key_stdin),
        ];
        match clashing.iter().find(|(_, given)| *given) {
            Some((option, _)) => Err(Failure::usage(format!(
                "{option} and --config both say where requests go: the routes of the file do"
            ))),
            None => Ok(()),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run every provider's flows against an embedded sandbox: SMS codes, a reverse WhatsApp
    /// flow with its QR code, TOTP, session resolution, wrong and expired codes
    Demo,
    /// Start a verification (send a code, or open a reverse flow) and print its handle as JSON
    Start(StartArgs),
    /// Check a code, or poll a reverse flow, of a handle written by `start`
    Check(CheckArgs),
    /// Resolve a session id into the verified phone (VerifyKit, Verifik)
    Resolve(ResolveArgs),
    /// The verification methods VerifyKit offers (VerifyKit `init`)
    Methods(MethodsArgs),
    /// The countries VerifyKit sends codes to (VerifyKit `country`)
    Countries(CountriesArgs),
    /// Verifik account commands
    #[command(subcommand)]
    Verifik(VerifikCommand),
    /// Serve the sandbox (VerifyKit, Verifik, Verigator and Twilio) for local development
    Sandbox(SandboxArgs),
    /// The guard's counters (with --guard)
    #[command(subcommand)]
    Guard(GuardCommand),
    /// The routes the --config router would try for a phone, in order, and why (sends nothing)
    Routes(RoutesArgs),
}

/// `routes`.
#[derive(Debug, Args)]
pub(crate) struct RoutesArgs {
    /// The phone number, in international format (e.g. "+90 532 123 45 67")
    #[arg(value_name = "PHONE", value_parser = parse_phone)]
    pub(crate) phone: PhoneNumber,
    /// The channel: sms (default), whatsapp, telegram, totp, voice, flash_call, email (each
    /// provider offers some)
    #[arg(long, value_parser = parse_channel)]
    pub(crate) channel: Option<Channel>,
    /// The language of the user's message, e.g. en, tr, es (rules may match on it)
    #[arg(long, value_parser = parse_language)]
    pub(crate) lang: Option<Language>,
}

/// `guard`.
#[derive(Debug, Subcommand)]
pub(crate) enum GuardCommand {
    /// Show the counters of a phone number or an end-user IP address
    Status(GuardStatusArgs),
}

/// `guard status`.
#[derive(Debug, Args)]
pub(crate) struct GuardStatusArgs {
    /// A phone number in international format, or an IP address
    #[arg(value_name = "PHONE|IP")]
    pub(crate) subject: String,
}

/// `start`.
#[derive(Debug, Args)]
pub(crate) struct StartArgs {
    /// The phone number, in international format (e.g. "+90 532 123 45 67")
    #[arg(long, value_parser = parse_phone)]
    pub(crate) phone: Option<PhoneNumber>,
    /// The channel: sms (default), whatsapp, telegram, totp, voice, flash_call, email (each
    /// provider offers some)
    #[arg(long, value_parser = parse_channel)]
    pub(crate) channel: Option<Channel>,
    /// A reverse flow: the user sends a message from a deeplink or QR code (default channel:
    /// whatsapp; no --phone)
    #[arg(long, conflicts_with = "phone")]
    pub(crate) reverse: bool,
    /// The language of the user's message, e.g. en, tr, es
    #[arg(long, value_parser = parse_language)]
    pub(crate) lang: Option<Language>,
    /// Write the handle to FILE instead of stdout
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Verigator: the service whose users are verified (default: VERIGATOR_SERVICE_ID; on a
    /// sandbox, a new service). Twilio: the Verify service SID (default: TWILIO_SERVICE_SID; on
    /// a sandbox, the sandbox's)
    #[arg(long, value_name = "ID")]
    pub(crate) service_id: Option<String>,
}

/// `check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The handle file written by `start` ("-" reads it from stdin)
    #[arg(long, value_name = "FILE")]
    pub(crate) handle: PathBuf,
    /// The code the user received; without it, a reverse flow is polled once
    #[arg(long, value_parser = parse_code, conflicts_with = "wait")]
    pub(crate) code: Option<Code>,
    /// Poll a reverse flow until the user has completed it (spinner on a terminal)
    #[arg(long)]
    pub(crate) wait: bool,
    /// With --wait: give up after this many seconds
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = parse_seconds)]
    pub(crate) timeout: f64,
    /// With --wait: seconds between polls (at least 0.1)
    #[arg(long, value_name = "SECONDS", default_value = "2", value_parser = parse_interval)]
    pub(crate) interval: f64,
}

/// `resolve`.
#[derive(Debug, Args)]
pub(crate) struct ResolveArgs {
    /// The session id a client handed over (the `session_id` of a verified check)
    #[arg(long, value_parser = parse_session)]
    pub(crate) session: SessionId,
}

/// `methods`.
#[derive(Debug, Args)]
pub(crate) struct MethodsArgs {
    /// The language of the texts, e.g. en, tr
    #[arg(long, value_parser = parse_language)]
    pub(crate) lang: Option<Language>,
}

/// `countries`.
#[derive(Debug, Args)]
pub(crate) struct CountriesArgs {
    /// Put this country (ISO 3166-1 alpha-2, e.g. TR) first
    #[arg(long, value_name = "CODE", value_parser = parse_country)]
    pub(crate) country: Option<String>,
    /// The language of the country names
    #[arg(long, value_parser = parse_language)]
    pub(crate) lang: Option<Language>,
}

/// `verifik …`.
#[derive(Debug, Subcommand)]
pub(crate) enum VerifikCommand {
    /// Log in with the phone of a Verifik account: Verifik sends a code by WhatsApp, which is
    /// exchanged for an access token (printed on stdout, or written to --out)
    Login(LoginArgs),
}

/// `verifik login`.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// The phone number of the Verifik account
    #[arg(long, value_parser = parse_phone)]
    pub(crate) phone: PhoneNumber,
    /// Only send the code; confirm later with --code
    #[arg(long, conflicts_with = "code")]
    pub(crate) send_only: bool,
    /// Confirm a code sent earlier (without it, the code is sent and then read from stdin)
    #[arg(long, value_parser = parse_code)]
    pub(crate) code: Option<Code>,
    /// Write the token to FILE (mode 600) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// `sandbox`.
#[derive(Debug, Args)]
pub(crate) struct SandboxArgs {
    /// The address to listen on (port 0: any free port)
    #[arg(long, default_value = "127.0.0.1:8025")]
    pub(crate) listen: SocketAddr,
    /// A seed for reproducible codes and ids
    #[arg(long)]
    pub(crate) seed: Option<u64>,
}

fn parse_phone(raw: &str) -> Result<PhoneNumber, String> {
    raw.parse::<PhoneNumber>()
        .map_err(|e| format!("invalid phone number: {e}"))
}

fn parse_channel(raw: &str) -> Result<Channel, String> {
    match raw.parse::<Channel>() {
        Ok(Channel::Other(name)) => Err(format!(
            "unknown channel {name:?} (sms, whatsapp, telegram, totp, voice, flash_call, email)"
        )),
        Ok(channel) => Ok(channel),
        Err(never) => match never {},
    }
}

fn parse_language(raw: &str) -> Result<Language, String> {
    raw.parse::<Language>().map_err(|e| e.message().to_owned())
}

fn parse_code(raw: &str) -> Result<Code, String> {
    raw.parse::<Code>().map_err(|e| e.message().to_owned())
}

fn parse_session(raw: &str) -> Result<SessionId, String> {
    raw.parse::<SessionId>().map_err(|e| e.message().to_owned())
}

fn parse_country(raw: &str) -> Result<String, String> {
    let code = raw.trim();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(code.to_ascii_uppercase())
    } else {
        Err(format!(
            "{raw:?} is not an ISO 3166-1 alpha-2 country code such as TR"
        ))
    }
}

fn parse_seconds(raw: &str) -> Result<f64, String> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .ok_or_else(|| format!("{raw:?} is not a number of seconds between 0 and 86400"))
}

/// The pause between polls: at least [`MIN_INTERVAL_SECS`], so that a wait never polls the
/// provider without a pause.
fn parse_interval(raw: &str) -> Result<f64, String> {
    let secs = parse_seconds(raw)?;
    if secs >= MIN_INTERVAL_SECS {
        Ok(secs)
    } else {
        Err(format!(
            "{raw:?} is too short a pause between polls: at least {MIN_INTERVAL_SECS} s"
        ))
    }
}

/// The shortest pause between two polls of `check --wait`.
const MIN_INTERVAL_SECS: f64 = 0.1;

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_values() {
        assert!(
            parse_phone("12")
                .unwrap_err()
                .starts_with("invalid phone number")
        );
        assert_eq!(parse_channel("WhatsApp").unwrap(), Channel::WhatsApp);
        assert!(parse_channel("pigeon").is_err());
        assert!(parse_code("1").is_err());
        assert_eq!(parse_country(" tr ").unwrap(), "TR");
        assert!(parse_country("TUR").is_err() && parse_country("T1").is_err());
        assert!((parse_seconds("1.5").unwrap() - 1.5).abs() < f64::EPSILON);
        assert!(parse_seconds("0").is_err() && parse_seconds("soon").is_err());
        assert!((parse_interval("0.1").unwrap() - 0.1).abs() < f64::EPSILON);
        assert!(
            parse_interval("0.099")
                .unwrap_err()
                .contains("at least 0.1 s")
        );
        assert!(parse_interval("1e-10").is_err() && parse_interval("86401").is_err());
    }
}
