//! Quickstart: failover between two providers. Start with VerifyKit; when it cannot send (out
//! of credits, unavailable, rate limited, channel unsupported), start with Verifik instead.
//! Checks go to the provider that started the verification, named in the handle.
//!
//! Never fail over on `ErrorKind::MaybeSent`: the first provider may have sent a code already.
//!
//! Runs against a sandbox started in-process:
//!
//! ```sh
//! cargo run -p phone-verify --example failover --features verifykit,verifik
//! ```

use std::sync::Arc;

use phone_verify::{
    CheckOutcome, Code, Error, ErrorKind, PhoneVerifier, PhoneVerifierExt, Registry, StartRequest,
    Verification,
};
use phone_verify_sandbox::{Fault, FaultAction, Provider, Sandbox, SandboxConfig};

/// Whether another provider may be tried after `err`: nothing was sent.
fn can_fail_over(err: &Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::ProviderUnavailable
            | ErrorKind::Transport
            | ErrorKind::RateLimited
            | ErrorKind::QuotaExhausted
            | ErrorKind::Unsupported
    )
}

/// Starts with the first provider that can send.
async fn start(
    providers: &[Arc<dyn PhoneVerifier>],
    request: &StartRequest,
) -> phone_verify::Result<Verification> {
    let mut last = Error::invalid_input("no provider configured");
    for verifier in providers {
        match verifier.start(request).await {
            Ok(handle) => return Ok(handle),
            Err(err) if can_fail_over(&err) => {
                println!(
                    "  {} cannot send ({err}); trying the next provider",
                    verifier.provider()
                );
                last = err;
            }
            Err(err) => return Err(err),
        }
    }
    Err(last)
}

/// Checks with the provider that started `handle`.
async fn check(
    providers: &[Arc<dyn PhoneVerifier>],
    handle: &Verification,
    code: &Code,
) -> phone_verify::Result<CheckOutcome> {
    let verifier = providers
        .iter()
        .find(|v| v.provider() == handle.provider)
        .ok_or_else(|| Error::invalid_input(format!("no provider {}", handle.provider)))?;
    verifier.check_code(handle, code).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let url = sandbox.base_url();
    let registry = Registry::with_builtin();
    // VerifyKit asks for the end user's IP with every request: requests without one in their
    // context send the loopback address here (`VERIFYKIT_FALLBACK_END_USER_IP`).
    let build = |name: &str, variable: &str| {
        registry.build_named(name, |n| {
            if n == variable {
                Some(url.clone())
            } else {
                (n == "VERIFYKIT_FALLBACK_END_USER_IP").then(|| "127.0.0.1".to_owned())
            }
        })
    };
    let providers = vec![
        build("verifykit", "VERIFYKIT_SANDBOX_URL")?.verifier,
        build("verifik", "VERIFIK_SANDBOX_URL")?.verifier,
    ];
    let phone = "+573001234567";
    let request = StartRequest::sms(phone.parse()?);

    println!("VerifyKit is out of credits:");
    sandbox.set_balance(Provider::VerifyKit, Some(0));
    let handle = start(&providers, &request).await?;
    println!("  started with {}", handle.provider);
    let code = sandbox.latest_code(phone).ok_or("no code was sent")?;
    let outcome = check(&providers, &handle, &Code::new(&code)?).await?;
    println!(
        "  checked with {}: verified = {}",
        handle.provider,
        outcome.is_verified()
    );

    println!("VerifyKit loses the connection while sending:");
    sandbox.set_balance(Provider::VerifyKit, None);
    sandbox.inject_fault(
        Fault::new(Provider::VerifyKit, FaultAction::ConnectionReset).path("/v1.0/send-otp"),
    );
    match start(&providers, &request).await {
        Err(err) if err.kind() == ErrorKind::MaybeSent => {
            println!("  not failing over, a code may be on its way: {err}");
        }
        other => return Err(format!("expected MaybeSent, got {other:?}").into()),
    }
    Ok(())
}
