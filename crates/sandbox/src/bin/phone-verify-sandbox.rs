//! `phone-verify-sandbox`: runs the provider emulator on a local port and prints its URLs.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use phone_verify_sandbox::config::{
    DEFAULT_OUTBOX_CAPACITY, DEFAULT_RECORDS_CAPACITY, DEFAULT_REQUEST_LOG_CAPACITY,
    check_test_number,
};
use phone_verify_sandbox::{Balances, InitTheme, RateLimit, Sandbox, SandboxConfig};
use tracing_subscriber::EnvFilter;

/// Local emulator of the VerifyKit, Verifik, Messente Verigator and Twilio Verify v2 APIs.
#[derive(Debug, Parser)]
#[command(name = "phone-verify-sandbox", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(
        long,
        env = "PHONE_VERIFY_SANDBOX_LISTEN",
        default_value = "127.0.0.1:8025"
    )]
    listen: SocketAddr,
    /// Seed for codes and ids (reproducible runs); OS entropy when absent.
    #[arg(long, env = "PHONE_VERIFY_SANDBOX_SEED")]
    seed: Option<u64>,
    /// VerifyKit server key accepted in X-Vfk-Server-Key.
    #[arg(
        long,
        env = "PHONE_VERIFY_SANDBOX_VERIFYKIT_SERVER_KEY",
        default_value = "sandbox-server-key"
    )]
    verifykit_server_key: String,
    /// Verifik bearer token accepted in Authorization.
    #[arg(
        long,
        env = "PHONE_VERIFY_SANDBOX_VERIFIK_TOKEN",
        default_value = "sandbox-token"
    )]
    verifik_token: String,
    /// Verigator API user name (X-Service-Auth: user:password).
    #[arg(
        long,
        env = "PHONE_VERIFY_SANDBOX_VERIGATOR_USERNAME",
        default_value = "sandbox"
    )]
    verigator_username: String,
    /// Verigator API password.
    #[arg(
        long,
        env = "PHONE_VERIFY_SANDBOX_VERIGATOR_PASSWORD",
        default_value = "sandbox"
    )]
    verigator_password: String,
    /// Shape of VerifyKit's init answer: recommended or basic.
    #[arg(long, default_value = "recommended")]
    init_theme: InitTheme,
    /// A test number with a fixed code, as PHONE=CODE (repeatable), e.g. +905320000000=123456.
    #[arg(long = "test-number", value_parser = parse_test_number)]
    test_numbers: Vec<(String, String)>,
    /// Starting VerifyKit credits (unlimited when absent).
    #[arg(long)]
    verifykit_balance: Option<u64>,
    /// Starting Verifik credits (unlimited when absent).
    #[arg(long)]
    verifik_balance: Option<u64>,
    /// VerifyKit requests allowed per minute per end-user IP (no limit when absent).
    #[arg(long)]
    verifykit_rate_limit: Option<u32>,
    /// Requests the request log keeps (the oldest are dropped; counts per endpoint stay exact).
    #[arg(
        long,
        env = "PHONE_VERIFY_SANDBOX_REQUEST_LOG_CAPACITY",
        default_value_t = DEFAULT_REQUEST_LOG_CAPACITY
    )]
    request_log_capacity: usize,
    /// Sent messages the outbox keeps (the oldest are dropped).
    #[arg(
        long,
        env = "PHONE_VERIFY_SANDBOX_OUTBOX_CAPACITY",
        default_value_t = DEFAULT_OUTBOX_CAPACITY
    )]
    outbox_capacity: usize,
    /// Records of each kind (flows, sessions, validations, tokens) a provider keeps (the oldest
    /// are forgotten).
    #[arg(
        long,
        env = "PHONE_VERIFY_SANDBOX_RECORDS_CAPACITY",
        default_value_t = DEFAULT_RECORDS_CAPACITY
    )]
    records_capacity: usize,
}

/// A `--test-number PHONE=CODE`, checked as `Sandbox::start` checks it: an international
/// number and a code of 4 to 10 digits (the error masks the number).
fn parse_test_number(raw: &str) -> Result<(String, String), String> {
    let (phone, code) = raw.split_once('=').ok_or_else(|| {
        format!(
            "expected PHONE=CODE, got {:?}",
            phone_verify_core::kit::mask_numbers(raw)
        )
    })?;
    check_test_number(phone, code).map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("phone_verify_sandbox=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();
    let config = SandboxConfig {
        listen: args.listen,
        seed: args.seed,
        verifykit_server_key: args.verifykit_server_key,
        verifik_token: args.verifik_token,
        verigator_username: args.verigator_username,
        verigator_password: args.verigator_password,
        init_theme: args.init_theme,
        balances: Balances {
            verifykit: args.verifykit_balance,
            verifik: args.verifik_balance,
        },
        verifykit_rate_limit: args.verifykit_rate_limit.map(|max_requests| RateLimit {
            max_requests,
            window: Duration::from_secs(60),
        }),
        test_numbers: args.test_numbers,
        request_log_capacity: args.request_log_capacity,
        outbox_capacity: args.outbox_capacity,
        records_capacity: args.records_capacity,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await?;
    let c = sandbox.config();
    println!("phone-verify-sandbox listening on {}", sandbox.base_url());
    println!(
        "  VerifyKit web-rest  {}   (X-Vfk-Server-Key: {})",
        sandbox.verifykit_web_rest_url(),
        c.verifykit_server_key
    );
    println!("  VerifyKit api       {}", sandbox.verifykit_api_url());
    println!(
        "  Verifik             {}   (Authorization: Bearer {})",
        sandbox.verifik_url(),
        c.verifik_token
    );
    println!(
        "  Verigator           {}   (X-Service-Auth: {})",
        sandbox.verigator_url(),
        c.verigator_service_auth()
    );
    println!(
        "  Twilio Verify       {}   (Basic {}:{}, service {})",
        sandbox.twilio_url(),
        phone_verify_sandbox::config::TWILIO_ACCOUNT_SID,
        phone_verify_sandbox::config::TWILIO_AUTH_TOKEN,
        phone_verify_sandbox::config::TWILIO_SERVICE_SID
    );
    println!("  Control API         {}", sandbox.control_url());
    tokio::signal::ctrl_c().await?;
    println!("shutting down");
    sandbox.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_test_number;

    #[test]
    fn test_numbers_are_checked_when_the_options_are_read() {
        assert_eq!(
            parse_test_number(" +90 532 000 00 00 = 123456 "),
            Ok(("+905320000000".to_owned(), "123456".to_owned()))
        );
        for bad in [
            "+905320000000",
            "+905320000000=12",
            "+905320000000=12ab56",
            "905320000000=123456",
            "+90532=123456",
        ] {
            let error = parse_test_number(bad).unwrap_err();
            assert!(!error.contains("5320000000"), "masked: {error}");
        }
    }
}
