//! Quickstart: session resolution. A web widget or mobile SDK verifies the user with the
//! provider and hands your backend a session id; the backend resolves it into the verified
//! phone, where the client cannot tamper with it.
//!
//! Runs against a sandbox started in-process (which also plays the client):
//!
//! ```sh
//! cargo run -p phone-verify --example session_resolution --features verifykit
//! ```

use std::time::Duration;

use phone_verify::{
    Channel, ErrorKind, PhoneVerifier, PhoneVerifierExt, Registry, SessionId, SessionResolverExt,
    StartRequest,
};
use phone_verify_sandbox::{Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let url = sandbox.base_url();
    // The backend's provider, from configuration (here: pointed at the sandbox).
    // VerifyKit asks for the end user's IP with every request; the simulated client has none,
    // so the loopback address stands in (`VERIFYKIT_FALLBACK_END_USER_IP`).
    let provider = Registry::with_builtin().build_named("verifykit", |name| match name {
        "VERIFYKIT_SANDBOX_URL" => Some(url.clone()),
        "VERIFYKIT_FALLBACK_END_USER_IP" => Some("127.0.0.1".to_owned()),
        _ => None,
    })?;

    // The client's side, simulated: a completed WhatsApp flow yields a session id.
    let handle = provider
        .verifier
        .start(&StartRequest::reverse(Channel::WhatsApp))
        .await?;
    sandbox.complete_reverse_flow(&handle.reference, "+905321234567")?;
    let outcome = provider
        .verifier
        .wait_for_outcome(&handle, Duration::from_millis(200), Duration::from_secs(10))
        .await?;
    let session: SessionId = outcome
        .verified()
        .and_then(|v| v.session_id.clone())
        .ok_or("the client got no session id")?;
    println!("the client hands over session {}…", &session.as_str()[..4]);

    // The backend's side: resolve it.
    let resolver = provider.require_resolver()?;
    let verified = resolver.resolve_session(&session).await?;
    println!(
        "resolved: {} via {} at {:?} ({})",
        verified.phone, verified.channel, verified.verified_at, verified.provider
    );

    // A session the provider does not know is `NotFound`, never a phone.
    let forged = SessionId::new("forged0session0id")?;
    match resolver.resolve_session(&forged).await {
        Err(err) if err.kind() == ErrorKind::NotFound => println!("forged session: {err}"),
        other => return Err(format!("a forged session was not refused: {other:?}").into()),
    }
    Ok(())
}
