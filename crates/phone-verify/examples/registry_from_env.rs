//! Quickstart: the provider from the environment. `PHONE_VERIFY_PROVIDER` names it and the
//! provider reads its own variables:
//!
//! ```sh
//! # Describes the configured provider; sends nothing.
//! PHONE_VERIFY_PROVIDER=verifykit VERIFYKIT_SERVER_KEY=… \
//!     cargo run -p phone-verify --example registry_from_env --features full
//! # Sends a real code to the number given. VerifyKit asks for the end user's IP with every
//! # request; this tool has no end user, so it names one for them.
//! PHONE_VERIFY_PROVIDER=verifykit VERIFYKIT_SERVER_KEY=… VERIFYKIT_FALLBACK_END_USER_IP=… \
//!     cargo run -p phone-verify --example registry_from_env --features full -- +905321234567
//! ```
//!
//! Without `PHONE_VERIFY_PROVIDER` it runs the same code against a sandbox started in-process,
//! configured through the same variables (`VERIFYKIT_SANDBOX_URL`).

use std::collections::HashMap;

use phone_verify::{
    Code, PhoneNumber, PhoneVerifier, PhoneVerifierExt, Provider, Registry, StartRequest,
};
use phone_verify_sandbox::{Sandbox, SandboxConfig};

fn describe(provider: &Provider) {
    let caps = provider.verifier.capabilities();
    println!(
        "provider {}: codes by {:?}, reverse flows on {:?}, sessions: {}",
        provider.id(),
        caps.otp_channels,
        caps.reverse_channels,
        provider.resolver.is_some()
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = Registry::with_builtin();
    if std::env::var_os("PHONE_VERIFY_PROVIDER").is_some() {
        // A missing credential is an error naming the variable, never showing a value.
        let provider = registry.build_from_env()?;
        describe(&provider);
        match std::env::args().nth(1) {
            Some(phone) => {
                let phone: PhoneNumber = phone.parse()?;
                let handle = provider.verifier.start(&StartRequest::sms(phone)).await?;
                println!(
                    "sent; the handle to check it with:\n{}",
                    handle.to_json_pretty()?
                );
            }
            None => println!("pass a phone number to send it a code"),
        }
        return Ok(());
    }

    println!("PHONE_VERIFY_PROVIDER is not set: using a sandbox started in-process");
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let env = HashMap::from([
        ("PHONE_VERIFY_PROVIDER", "verifykit".to_owned()),
        ("VERIFYKIT_SANDBOX_URL", sandbox.base_url()),
        ("VERIFYKIT_FALLBACK_END_USER_IP", "127.0.0.1".to_owned()),
    ]);
    let provider = registry.build_from_lookup(|name| env.get(name).cloned())?;
    describe(&provider);
    let phone = "+905321234567";
    let handle = provider
        .verifier
        .start(&StartRequest::sms(phone.parse()?))
        .await?;
    let code = sandbox.latest_code(phone).ok_or("no code was sent")?;
    let outcome = provider
        .verifier
        .check_code(&handle, &Code::new(&code)?)
        .await?;
    println!("{phone}: verified = {}", outcome.is_verified());
    Ok(())
}
