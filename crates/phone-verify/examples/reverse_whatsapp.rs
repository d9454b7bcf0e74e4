//! Quickstart: a reverse WhatsApp flow. The user opens a deeplink (or scans its QR code) and
//! sends the prefilled message; the backend polls until the provider has received it, and
//! learns the number the user wrote from.
//!
//! Runs against a sandbox started in-process, which plays the user too:
//!
//! ```sh
//! cargo run -p phone-verify --example reverse_whatsapp --features verifykit
//! ```

use std::sync::Arc;
use std::time::Duration;

use phone_verify::providers::verifykit::VerifyKitBuilder;
use phone_verify::{Channel, PhoneNumber, PhoneVerifier, PhoneVerifierExt, StartRequest};
use phone_verify_sandbox::{Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Arc::new(Sandbox::start(SandboxConfig::default()).await?);
    // VerifyKit asks for the end user's IP with every request. `poll` and `wait_for_outcome`
    // carry no request context, so this backend, which polls on its own, gives the verifier a
    // fallback IP; a request with the user's IP in its context sends that one instead (as
    // `wait_for_outcome_with` does for every poll).
    let verifier: Arc<dyn PhoneVerifier> = Arc::new(
        VerifyKitBuilder::sandbox(&sandbox.base_url())
            .fallback_end_user_ip("203.0.113.7".parse()?)
            .build()?,
    );

    // 1. Open the flow: no phone number, the user will send it. `.qr_code(true)` asks for a
    //    PNG QR code instead of a deeplink, for desktop users.
    let handle = verifier
        .start(&StartRequest::reverse(Channel::WhatsApp))
        .await?;
    let deeplink = handle
        .reverse
        .as_ref()
        .and_then(|r| r.deeplink.clone())
        .ok_or("a reverse flow has a deeplink")?;
    println!("show the user: {deeplink}");

    // 2. Nothing happened yet: polling says pending.
    println!("poll: {:?}", verifier.poll(&handle).await?);

    // 3. The user sends the message, a moment later (the sandbox stands in for WhatsApp).
    let user = Arc::clone(&sandbox);
    let reference = handle.reference.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        user.complete_reverse_flow(&reference, "+905321234567")
    });

    // 4. Poll every 500 ms until the user has sent it, for at most a minute (or until the
    //    handle's `expires_at`, 10 minutes after the start by default).
    let outcome = verifier
        .wait_for_outcome(&handle, Duration::from_millis(500), Duration::from_secs(60))
        .await?;
    let result = outcome.verified().ok_or("the flow was not verified")?;
    println!(
        "verified: the user wrote from {} (session {:?})",
        result.phone.as_ref().map_or("?", PhoneNumber::e164),
        result.session_id
    );
    Ok(())
}
