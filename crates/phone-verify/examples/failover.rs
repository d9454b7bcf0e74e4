//! Quickstart: failover between two providers with the router. VerifyKit first; when it cannot
//! send (out of credits, unavailable, unauthorized, channel unsupported), Verifik. The check
//! goes back to whichever route sent the code, named in the handle, even from a new router.
//!
//! The router never fails over after `ErrorKind::MaybeSent` (the first provider may have sent
//! a code) unless told to accept a possible second message, nor after a provider's
//! `ErrorKind::RateLimited` (the limit may be on the number) unless told to with
//! `fail_over_on_rate_limit = true`, for account-wide throttling.
//!
//! Runs against a sandbox started in-process:
//!
//! ```sh
//! cargo run -p phone-verify --example failover --features verifykit,verifik,router
//! ```

use phone_verify::router::{EXTRA_ROUTE, routing_failure};
use phone_verify::{
    Code, ErrorKind, PhoneVerifier, PhoneVerifierExt, Registry, RoutingConfig, StartRequest,
    Verification,
};
use phone_verify_sandbox::{Fault, FaultAction, Provider, Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let url = sandbox.base_url();
    // What `phone-verify.toml` would hold. VerifyKit asks for the end user's IP with every
    // request: requests without one in their context send the loopback address here.
    // `from_toml`'s errors never quote the file (toml's own would, credentials included).
    let config = RoutingConfig::from_toml(&format!(
        r#"
        [[routes]]
        name = "primary"
        provider = "verifykit"
        settings = {{ sandbox_url = "{url}", fallback_end_user_ip = "127.0.0.1" }}

        [[routes]]
        name = "backup"
        provider = "verifik"
        settings = {{ sandbox_url = "{url}" }}

        [breaker]
        consecutive_failures = 5
        cooldown = 30
        "#
    ))?;
    let registry = Registry::with_builtin();
    let router = registry.build_router(&config)?;
    let phone = "+573001234567";
    let request = StartRequest::sms(phone.parse()?);

    println!("VerifyKit is out of credits:");
    sandbox.set_balance(Provider::VerifyKit, Some(0));
    let handle = router.start(&request).await?;
    println!(
        "  started by route {} ({})",
        handle.extra_str(EXTRA_ROUTE).unwrap_or("?"),
        handle.provider
    );
    let saved = handle.to_json()?;
    let code = Code::new(&sandbox.latest_code(phone).ok_or("no code was sent")?)?;
    // Another process: a router built from the same configuration checks the saved handle.
    let restarted = registry.build_router(&config)?;
    let outcome = restarted
        .check_code(&Verification::from_json(&saved)?, &code)
        .await?;
    println!(
        "  checked after a restart: verified = {}",
        outcome.is_verified()
    );

    println!("VerifyKit loses the connection while sending:");
    sandbox.set_balance(Provider::VerifyKit, None);
    sandbox.inject_fault(
        Fault::new(Provider::VerifyKit, FaultAction::ConnectionReset).path("/v1.0/send-otp"),
    );
    match router.start(&request).await {
        Err(err) if err.kind() == ErrorKind::MaybeSent => {
            println!("  not failing over, a code may be on its way: {err}");
        }
        other => return Err(format!("expected MaybeSent, got {other:?}").into()),
    }

    println!("Both are out of credits:");
    sandbox.set_balance(Provider::VerifyKit, Some(0));
    sandbox.set_balance(Provider::Verifik, Some(0));
    let err = router.start(&request).await.expect_err("no route can send");
    for attempt in &routing_failure(&err).ok_or("the attempts")?.attempts {
        println!("  {}: {:?}", attempt.route, attempt.outcome);
    }

    for route in router.health() {
        println!(
            "health of {}: {:?}, {} recent error(s)",
            route.route,
            route.state,
            route.recent_errors.len()
        );
    }
    Ok(())
}
