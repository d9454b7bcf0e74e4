//! Quickstart: verify a phone number with an SMS code.
//!
//! Runs against a sandbox started in-process, so no message is sent:
//!
//! ```sh
//! cargo run -p phone-verify --example sms_otp --features verifykit
//! ```
//!
//! In an application, build the verifier with `VerifyKitBuilder::new(server_key)` (or from the
//! environment with the `Registry`) instead of `VerifyKitBuilder::sandbox(url)`.

use std::sync::Arc;

use phone_verify::providers::verifykit::VerifyKitBuilder;
use phone_verify::{
    CheckOutcome, CheckRequest, Code, PhoneNumber, PhoneVerifier, RequestContext, StartRequest,
    Verification,
};
use phone_verify_sandbox::{Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let verifier: Arc<dyn PhoneVerifier> =
        Arc::new(VerifyKitBuilder::sandbox(&sandbox.base_url()).build()?);

    // 1. Send the code. VerifyKit asks for the end user's IP address with every request.
    // Without it, a VerifyKit request is refused before anything is sent.
    let user = RequestContext::new().end_user_ip("203.0.113.7".parse()?);
    let phone: PhoneNumber = "+90 532 123 45 67".parse()?;
    let request = StartRequest::sms(phone.clone()).context(user.clone());
    let handle = verifier.start(&request).await?;
    let saved = handle.to_json()?; // keep it with the user's session
    println!(
        "sent a code to {phone} (expires at {:?})",
        handle.expires_at
    );

    // 2. The user reads the code and types it. Here, the sandbox's outbox has it.
    let code = sandbox
        .latest_code(phone.e164())
        .ok_or("the sandbox did not send a code")?;

    // 3. Later, maybe in another process: a fresh client checks the saved handle.
    let verifier: Arc<dyn PhoneVerifier> =
        Arc::new(VerifyKitBuilder::sandbox(&sandbox.base_url()).build()?);
    let handle = Verification::from_json(&saved)?;

    // A wrong code is an outcome, not an error: the user may try again.
    let typo = if code == "000000" { "111111" } else { "000000" };
    let check = CheckRequest::code(Code::new(typo)?).context(user.clone());
    match verifier.check(&handle, &check).await? {
        CheckOutcome::Rejected(rejection) => println!(
            "{typo}: rejected ({:?}, VerifyKit code {})",
            rejection.reason,
            rejection.provider_code.as_deref().unwrap_or("-")
        ),
        other => return Err(format!("a wrong code was not rejected: {other:?}").into()),
    }

    let check = CheckRequest::code(Code::new(&code)?).context(user.clone());
    match verifier.check(&handle, &check).await? {
        CheckOutcome::Verified(result) => println!(
            "{code}: verified {} (session {:?})",
            result.phone.as_ref().map_or("?", PhoneNumber::e164),
            result.session_id
        ),
        other => return Err(format!("the right code did not verify: {other:?}").into()),
    }
    Ok(())
}
