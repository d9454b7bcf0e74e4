//! `MultiHarness` over several `SandboxHarness` members on one shared sandbox: each member's
//! faults stay pending until that member clears them, so an unused fault is caught whichever
//! member injected it.
#![cfg(feature = "sandbox")]

use std::sync::Arc;

use phone_verify_core::reqwest;
use phone_verify_core::{Channel, PhoneNumber, ProviderId, Verification};
use phone_verify_testkit::memory::InMemoryVerifier;
use phone_verify_testkit::sandbox::{
    Provider, Sandbox, SandboxConfig, SandboxHandle, SandboxHarness,
};
use phone_verify_testkit::{
    CheckFault, Harness, HarnessError, LookupFault, MultiHarness, SendFault,
};

const VERIGATOR: ProviderId = ProviderId::new_static("verigator");
const VERIFYKIT: ProviderId = ProviderId::new_static("verifykit");

/// Verigator's member (send and check endpoints), then VerifyKit's (send, check and lookup
/// endpoints), both on `sandbox`, as the router's conformance test has them.
fn members(sandbox: &Arc<SandboxHandle>) -> (SandboxHarness, SandboxHarness) {
    let verigator = SandboxHarness::new(Arc::clone(sandbox), Provider::Verigator, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_send_endpoint("POST", "/v1/service/service/*/users/*/auth")
    .with_check_endpoint("PUT", "/v1/service/service/*/users/*/auth");
    let verifykit = SandboxHarness::new(Arc::clone(sandbox), Provider::VerifyKit, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_send_endpoint("POST", "/v1.0/send-otp")
    .with_check_endpoint("POST", "/v1.0/check-otp")
    .with_lookup_endpoint("POST", "/v1.0/check")
    .with_lookup_endpoint("POST", "/v1.0/result");
    (verigator, verifykit)
}

async fn shared_sandbox() -> Arc<SandboxHandle> {
    Arc::new(Sandbox::start(SandboxConfig::default()).await.unwrap())
}

fn handle(provider: ProviderId, channel: Channel) -> Verification {
    Verification::new(provider, "ref-1", channel)
}

fn is_unused(result: &Result<(), HarnessError>, what: &str) -> bool {
    matches!(result, Err(HarnessError::Failed(m)) if m.contains(what))
}

#[tokio::test]
async fn an_unused_lookup_fault_of_a_later_member_fails_the_clearing() {
    let sandbox = shared_sandbox().await;
    let (verigator, verifykit) = members(&sandbox);
    let multi = MultiHarness::new()
        .member(VERIGATOR, verigator)
        .member(VERIFYKIT, verifykit);

    // Injected for VerifyKit's handle, and no request made: the fault proved nothing.
    multi
        .inject_lookup_fault(
            &handle(VERIFYKIT, Channel::WhatsApp),
            LookupFault::ServiceUnavailable,
        )
        .await
        .unwrap();
    let cleared = multi.clear_faults().await;
    assert!(
        is_unused(&cleared, "lookup fault was not used"),
        "{cleared:?}"
    );
    assert!(sandbox.pending_faults().is_empty());
    // Nothing is left to report on the next clearing.
    multi.clear_faults().await.unwrap();
}

#[tokio::test]
async fn an_unused_check_fault_of_a_later_member_fails_the_clearing() {
    let sandbox = shared_sandbox().await;
    let (verigator, verifykit) = members(&sandbox);
    let multi = MultiHarness::new()
        .member(VERIGATOR, verigator)
        .member(VERIFYKIT, verifykit);
    multi
        .inject_check_fault(&handle(VERIFYKIT, Channel::Sms), CheckFault::AnswerLost)
        .await
        .unwrap();
    let cleared = multi.clear_faults().await;
    assert!(
        is_unused(&cleared, "check fault was not used"),
        "{cleared:?}"
    );
    assert!(sandbox.pending_faults().is_empty());
}

/// A member's clearing leaves the other providers' faults pending, whoever clears first.
#[tokio::test]
async fn a_member_clears_only_its_own_providers_faults() {
    let sandbox = shared_sandbox().await;
    let (verigator, verifykit) = members(&sandbox);
    verigator
        .inject_check_fault(&handle(VERIGATOR, Channel::Sms), CheckFault::ServerError)
        .await
        .unwrap();
    verifykit
        .inject_lookup_fault(
            &handle(VERIFYKIT, Channel::WhatsApp),
            LookupFault::RateLimited,
        )
        .await
        .unwrap();
    verifykit
        .inject_send_fault(SendFault::ConnectionReset)
        .await
        .unwrap();
    assert_eq!(sandbox.pending_faults().len(), 4);

    let cleared = verigator.clear_faults().await;
    assert!(
        is_unused(&cleared, "check fault was not used"),
        "{cleared:?}"
    );
    let left = sandbox.pending_faults();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(left.iter().all(|f| f.provider == Some(Provider::VerifyKit)));

    let cleared = verifykit.clear_faults().await;
    assert!(
        is_unused(&cleared, "lookup fault was not used"),
        "{cleared:?}"
    );
    assert!(sandbox.pending_faults().is_empty());
}

/// `POST /v1.0/send-otp` to the sandbox's VerifyKit: the status, or none when the connection
/// failed.
async fn send_otp(sandbox: &SandboxHandle, phone: &PhoneNumber) -> Option<u16> {
    let response = reqwest::Client::new()
        .post(format!("{}/send-otp", sandbox.verifykit_web_rest_url()))
        .header(
            "x-vfk-server-key",
            sandbox.config().verifykit_server_key.as_str(),
        )
        .header("x-vfk-forwarded-for", "203.0.113.7")
        .json(&serde_json::json!({
            "phoneNumber": phone.national_number(),
            "countryCode": phone.region().unwrap(),
        }))
        .send()
        .await
        .ok()?;
    Some(response.status().as_u16())
}

/// A send fault goes to every member; the one that got the send used it up, and clearing
/// removes the others' without a failure (an unused send fault proves nothing wrong).
#[tokio::test]
async fn send_faults_armed_at_every_member_clear_cleanly() {
    let sandbox = shared_sandbox().await;
    let (verigator, verifykit) = members(&sandbox);
    let multi = MultiHarness::new()
        .member(VERIGATOR, verigator)
        .member(VERIFYKIT, verifykit);
    multi
        .inject_send_fault(SendFault::ServiceUnavailable)
        .await
        .unwrap();
    assert_eq!(sandbox.pending_faults().len(), 2);
    let phone: PhoneNumber = "+905320000001".parse().unwrap();
    assert_eq!(send_otp(&sandbox, &phone).await, Some(503));
    assert_eq!(sandbox.pending_faults().len(), 1);
    multi.clear_faults().await.unwrap();
    assert!(sandbox.pending_faults().is_empty());
}
