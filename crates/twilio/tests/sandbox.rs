//! End-to-end flows against the phone-verify sandbox's Twilio Verify v2 emulation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::{
    Channel, CheckOutcome, Code, ErrorKind, PhoneNumber, PhoneVerifier, PhoneVerifierExt,
    RejectReason, StartRequest, Verification,
};
use phone_verify_sandbox::{
    Channel as SentOn, Fault, FaultAction, Provider, Sandbox, SandboxConfig, SandboxHandle,
};
use phone_verify_twilio::{
    CheckTarget, CreateService, CreateVerification, EXTRA_SERVICE_SID, SANDBOX_ACCOUNT_SID,
    SANDBOX_AUTH_TOKEN, SANDBOX_SERVICE_SID, Twilio, TwilioBuilder, TwilioChannel, UpdateService,
    VerificationStatus, VerificationUpdate,
};

/// The path of a send on the sandbox's default service.
const SENDS: &str = "/v2/Services/VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Verifications";

async fn sandbox() -> Arc<SandboxHandle> {
    Arc::new(
        Sandbox::start(SandboxConfig::default())
            .await
            .expect("the sandbox starts"),
    )
}

fn phone(text: &str) -> PhoneNumber {
    text.parse().unwrap()
}

/// The code the sandbox delivered for the verification `handle`.
fn delivered(sandbox: &SandboxHandle, handle: &Verification) -> Code {
    let phone = handle.phone.as_ref().expect("the handle has the phone");
    let message = sandbox
        .messages(phone.e164())
        .into_iter()
        .find(|m| m.reference.as_deref() == Some(handle.reference.as_str()))
        .expect("a message for the verification SID");
    Code::new(&message.code.expect("a code")).unwrap()
}

/// A well-formed code that is not `code`.
fn wrong(code: &Code) -> Code {
    let shifted: String = code
        .expose()
        .chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 1) % 10))
        .collect();
    Code::new(&shifted).unwrap()
}

fn reason(outcome: &CheckOutcome) -> Option<RejectReason> {
    outcome.rejection().map(|r| r.reason)
}

fn sends(sandbox: &SandboxHandle) -> usize {
    sandbox.request_count(Provider::Twilio, "POST", SENDS)
}

#[tokio::test]
async fn sms_code_is_delivered_and_verifies() {
    let sandbox = sandbox().await;
    let verifier = common::verifier(&sandbox);
    let number = phone("+1 501 712 2661");
    let handle = verifier
        .start(&StartRequest::sms(number.clone()).language("es".parse().unwrap()))
        .await
        .unwrap();
    assert!(handle.reference.starts_with("VE") && handle.reference.len() == 34);
    assert_eq!(
        handle.extra_str(EXTRA_SERVICE_SID),
        Some(SANDBOX_SERVICE_SID)
    );
    assert_eq!(
        handle.expires_at,
        Some(handle.created_at + Duration::from_secs(600))
    );
    let messages = sandbox.messages(number.e164());
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(
        (message.provider, message.channel),
        (Provider::Twilio, SentOn::Sms)
    );
    assert_eq!(message.lang, "es", "the language went out as Locale");

    let outcome = verifier
        .check_code(&handle, &delivered(&sandbox, &handle))
        .await
        .unwrap();
    let confirmed = outcome.verified().expect("verified");
    assert_eq!(confirmed.phone, Some(number));
    assert_eq!(confirmed.channel, Channel::Sms);
    assert!(confirmed.verified_at.is_some());
    assert_eq!(sends(&sandbox), 1);
}

#[tokio::test]
async fn a_verifier_made_with_new_on_a_client_runs_an_sms_flow_in_its_service() {
    let sandbox = sandbox().await;
    // A client with no Verify service of its own: the verifier is given one.
    let client = Twilio::builder(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN)
        .sandbox_url(&sandbox.base_url())
        .build_client()
        .unwrap();
    assert_eq!(client.service_sid(), None);
    let verifier = Twilio::new(client, SANDBOX_SERVICE_SID).unwrap();
    assert_eq!(verifier.service_sid(), SANDBOX_SERVICE_SID);
    let number = phone("+1 501 712 2662");
    let handle = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();
    assert_eq!(
        handle.extra_str(EXTRA_SERVICE_SID),
        Some(SANDBOX_SERVICE_SID)
    );
    assert_eq!(sends(&sandbox), 1);
    let code = delivered(&sandbox, &handle);
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(outcome.verified().expect("verified").phone, Some(number));
}

#[tokio::test]
async fn wrong_code_is_rejected_then_the_right_one_verifies() {
    let sandbox = sandbox().await;
    let verifier = common::verifier(&sandbox);
    let handle = verifier
        .start(&StartRequest::otp(
            Channel::Voice,
            phone("+90 532 123 4567"),
        ))
        .await
        .unwrap();
    assert_eq!(
        sandbox.messages("+905321234567")[0].channel,
        SentOn::Call,
        "a voice verification is Twilio's call channel"
    );
    let code = delivered(&sandbox, &handle);
    let outcome = verifier.check_code(&handle, &wrong(&code)).await.unwrap();
    assert_eq!(reason(&outcome), Some(RejectReason::WrongCode));
    assert_eq!(
        outcome.rejection().unwrap().provider_code.as_deref(),
        Some("pending")
    );
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(
        outcome.verified().map(|v| v.channel.clone()),
        Some(Channel::Voice)
    );
    // Approved verifications are gone on Twilio: the same code again finds nothing.
    let again = verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(reason(&again), Some(RejectReason::NotFound));
    assert_eq!(
        again.rejection().unwrap().provider_code.as_deref(),
        Some("20404")
    );
}

#[tokio::test]
async fn five_wrong_codes_are_too_many_attempts() {
    let sandbox = sandbox().await;
    let verifier = common::verifier(&sandbox);
    let handle = verifier
        .start(&StartRequest::sms(phone("+1 501 712 2662")))
        .await
        .unwrap();
    let code = delivered(&sandbox, &handle);
    for attempt in 1..=4 {
        let outcome = verifier.check_code(&handle, &wrong(&code)).await.unwrap();
        assert_eq!(reason(&outcome), Some(RejectReason::WrongCode), "{attempt}");
    }
    let fifth = verifier.check_code(&handle, &wrong(&code)).await.unwrap();
    assert_eq!(reason(&fifth), Some(RejectReason::TooManyAttempts));
    assert_eq!(
        fifth.rejection().unwrap().provider_code.as_deref(),
        Some("max_attempts_reached")
    );
    // Locked: even the right code is refused now (60202).
    let right = verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(reason(&right), Some(RejectReason::TooManyAttempts));
    assert_eq!(
        right.rejection().unwrap().provider_code.as_deref(),
        Some("60202")
    );
}

#[tokio::test]
async fn expiry_follows_the_sandbox_clock() {
    let sandbox = sandbox().await;
    let verifier = common::verifier(&sandbox);
    let handle = verifier
        .start(&StartRequest::sms(phone("+1 501 712 2663")))
        .await
        .unwrap();
    let code = delivered(&sandbox, &handle);
    sandbox.advance_clock(Duration::from_secs(9 * 60));
    let live = verifier
        .client()
        .fetch_verification(SANDBOX_SERVICE_SID, &handle.reference)
        .await
        .unwrap();
    assert_eq!(live.status, Some(VerificationStatus::Pending));

    sandbox.advance_clock(Duration::from_secs(2 * 60));
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(reason(&outcome), Some(RejectReason::Expired));
    assert_eq!(
        outcome.rejection().unwrap().provider_code.as_deref(),
        Some("20404")
    );

    // A verifier on the system clock cannot tell: to it the handle is not expired yet.
    let system_clock = TwilioBuilder::sandbox(&sandbox.base_url()).build().unwrap();
    let outcome = system_clock.check_code(&handle, &code).await.unwrap();
    assert_eq!(reason(&outcome), Some(RejectReason::NotFound));
}

#[tokio::test]
async fn a_handle_in_json_is_checked_by_a_fresh_client_elsewhere() {
    let sandbox = sandbox().await;
    let number = phone("+507 6264 7737");
    let stored = common::verifier(&sandbox)
        .start(&StartRequest::otp(Channel::WhatsApp, number.clone()))
        .await
        .unwrap()
        .to_json()
        .unwrap();
    assert!(!stored.contains(phone_verify_twilio::SANDBOX_AUTH_TOKEN));

    // "Another process": a client from the environment and the stored JSON only.
    let elsewhere = TwilioBuilder::from_lookup(|name| match name {
        "TWILIO_SANDBOX_URL" => Some(sandbox.base_url()),
        _ => None,
    })
    .unwrap()
    .build()
    .unwrap();
    let handle = Verification::from_json(&stored).unwrap();
    assert_eq!(handle.phone.as_ref(), Some(&number));
    let outcome = elsewhere
        .check_code(&handle, &delivered(&sandbox, &handle))
        .await
        .unwrap();
    let confirmed = outcome.verified().expect("verified");
    assert_eq!(confirmed.channel, Channel::WhatsApp);
    assert_eq!(confirmed.phone, Some(number.clone()));
    assert_eq!(sandbox.messages(number.e164())[0].channel, SentOn::Whatsapp);
}

#[tokio::test]
async fn a_503_on_the_send_is_not_sent_again() {
    let sandbox = sandbox().await;
    let verifier = common::verifier(&sandbox);
    let number = phone("+1 501 712 2664");
    // With `Retry-After`, refused before processing; without, the client cannot tell it from
    // a proxy's 503 after forwarding the send: in doubt.
    for (fault, kind) in [
        (
            FaultAction::ServiceUnavailable {
                retry_after_secs: 1,
            },
            ErrorKind::ProviderUnavailable,
        ),
        (
            FaultAction::Status {
                status: 503,
                body: None,
            },
            ErrorKind::MaybeSent,
        ),
    ] {
        sandbox.inject_fault(
            Fault::new(Provider::Twilio, fault)
                .method("POST")
                .path(SENDS),
        );
        let before = sends(&sandbox);
        let err = verifier
            .start(&StartRequest::sms(number.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(err.http_status(), Some(503));
        assert_eq!(err.provider_code(), Some("20503"));
        assert_eq!(sends(&sandbox), before + 1, "the send was not retried");
        assert!(sandbox.messages(number.e164()).is_empty());
        assert!(sandbox.pending_faults().is_empty());
    }

    // The application decides to start again: one more send, one message.
    let handle = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();
    assert_eq!(sends(&sandbox), 3);
    assert_eq!(sandbox.messages(number.e164()).len(), 1);
    assert!(
        verifier
            .check_code(&handle, &delivered(&sandbox, &handle))
            .await
            .unwrap()
            .is_verified()
    );
}

/// The path of a check on the sandbox's default service.
const CHECKS: &str = "/v2/Services/VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/VerificationCheck";

#[tokio::test]
async fn a_check_whose_answer_was_lost_is_read_back_from_the_attempts() {
    let sandbox = sandbox().await;
    let verifier = common::verifier(&sandbox);
    let checks = || sandbox.request_count(Provider::Twilio, "POST", CHECKS);
    let reads = || sandbox.request_count(Provider::Twilio, "GET", "/v2/Attempts");
    let cut_short = || {
        sandbox.inject_fault(
            Fault::new(Provider::Twilio, FaultAction::TruncatedBody)
                .method("POST")
                .path(CHECKS),
        );
    };

    // The right code, taken by Twilio, its answer cut short: the attempts say converted.
    let handle = verifier
        .start(&StartRequest::sms(phone("+1 501 712 2665")))
        .await
        .unwrap();
    let code = delivered(&sandbox, &handle);
    cut_short();
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    let CheckOutcome::Verified(approved) = outcome else {
        panic!("expected Verified, got {outcome:?}");
    };
    assert_eq!(approved.phone, handle.phone);
    // When the read-back learned it, on the verifier's clock (the sandbox's).
    let at = approved.verified_at.expect("a verification time");
    assert!(
        at <= sandbox.now() && sandbox.now() - at < Duration::from_secs(2),
        "{at}"
    );
    assert_eq!(
        (checks(), reads()),
        (1, 1),
        "one check, one read, no second check"
    );

    // A wrong code, taken and its answer cut short: unconverted, so still unknown; the right
    // code then verifies (Twilio counted one wrong attempt).
    let handle = verifier
        .start(&StartRequest::sms(phone("+1 501 712 2666")))
        .await
        .unwrap();
    let code = delivered(&sandbox, &handle);
    cut_short();
    let err = verifier
        .check_code(&handle, &wrong(&code))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!((checks(), reads()), (2, 2));
    assert!(
        verifier
            .check_code(&handle, &code)
            .await
            .unwrap()
            .is_verified()
    );

    // An answer given without processing the check (unreadable JSON): unconverted, unknown,
    // and the code is still good.
    let handle = verifier
        .start(&StartRequest::sms(phone("+1 501 712 2667")))
        .await
        .unwrap();
    let code = delivered(&sandbox, &handle);
    sandbox.inject_fault(
        Fault::new(Provider::Twilio, FaultAction::MalformedJson)
            .method("POST")
            .path(CHECKS),
    );
    let err = verifier.check_code(&handle, &code).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!((checks(), reads()), (4, 3));
    assert!(
        verifier
            .check_code(&handle, &code)
            .await
            .unwrap()
            .is_verified()
    );
    assert!(sandbox.pending_faults().is_empty());
}

#[tokio::test]
async fn a_used_code_sent_again_is_not_verified_by_an_earlier_approval_when_its_answer_is_lost() {
    let sandbox = sandbox().await;
    let verifier = common::verifier(&sandbox);
    let handle = verifier
        .start(&StartRequest::sms(phone("+1 501 712 2668")))
        .await
        .unwrap();
    let code = delivered(&sandbox, &handle);
    assert!(
        verifier
            .check_code(&handle, &code)
            .await
            .unwrap()
            .is_verified()
    );
    // Five minutes on, the handle is checked again (a replayed token, a wrong code), Twilio
    // answers 20404 and the answer is lost: the attempt reads converted, but by the earlier
    // check.
    sandbox.advance_clock(Duration::from_secs(300));
    for again in [wrong(&code), code.clone()] {
        sandbox.inject_fault(
            Fault::new(Provider::Twilio, FaultAction::ResetAfterProcessing)
                .method("POST")
                .path(CHECKS),
        );
        let err = verifier.check_code(&handle, &again).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    }
    assert_eq!(
        sandbox.request_count(Provider::Twilio, "GET", "/v2/Attempts"),
        2
    );
    // Answered, a used code is a rejection, as always.
    let again = verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(reason(&again), Some(RejectReason::NotFound));
}

#[tokio::test]
async fn cancel_and_approve_through_the_typed_client() {
    let sandbox = sandbox().await;
    let verifier = common::verifier(&sandbox);
    let client = verifier.client();

    let canceled = verifier
        .start(&StartRequest::sms(phone("+1 501 712 2665")))
        .await
        .unwrap();
    let code = delivered(&sandbox, &canceled);
    let updated = client
        .update_verification(
            SANDBOX_SERVICE_SID,
            &canceled.reference,
            VerificationUpdate::Canceled,
        )
        .await
        .unwrap();
    assert_eq!(updated.status, Some(VerificationStatus::Canceled));
    assert!(!updated.valid);
    let outcome = verifier.check_code(&canceled, &code).await.unwrap();
    assert_eq!(reason(&outcome), Some(RejectReason::NotFound));

    let approved = verifier
        .start(&StartRequest::sms(phone("+1 501 712 2666")))
        .await
        .unwrap();
    let updated = client
        .update_verification(
            SANDBOX_SERVICE_SID,
            &approved.reference,
            VerificationUpdate::Approved,
        )
        .await
        .unwrap();
    assert_eq!(updated.status, Some(VerificationStatus::Approved));
    assert!(updated.valid);
    let err = client
        .fetch_verification(SANDBOX_SERVICE_SID, &approved.reference)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.provider_code(), Some("20404"));

    // A check by `To` finds the newest verification of the number.
    let by_number = verifier
        .start(&StartRequest::sms(phone("+1 501 712 2667")))
        .await
        .unwrap();
    let check = client
        .check_verification(
            SANDBOX_SERVICE_SID,
            &delivered(&sandbox, &by_number),
            &CheckTarget::To("+15017122667".into()),
        )
        .await
        .unwrap();
    assert_eq!(check.status, Some(VerificationStatus::Approved));
    assert_eq!(check.sid.as_deref(), Some(by_number.reference.as_str()));
}

#[tokio::test]
async fn services_are_created_listed_in_pages_updated_and_deleted() {
    let sandbox = sandbox().await;
    let client = common::builder(&sandbox).build_client().unwrap();
    let mut created = Vec::new();
    for name in ["Shop", "Bank"] {
        created.push(
            client
                .create_service(&CreateService::new(name))
                .await
                .unwrap(),
        );
    }
    let mut expected: Vec<String> = created.iter().map(|s| s.sid.clone()).collect();
    expected.push(SANDBOX_SERVICE_SID.to_owned());
    expected.sort();

    // Three services in pages of two: two pages, followed through next_page_url.
    let first = client.list_services(Some(2)).await.unwrap();
    assert_eq!(first.services.len(), 2);
    assert_eq!((first.meta.page, first.meta.page_size), (Some(0), Some(2)));
    assert!(first.next_page_url().is_some());
    let second = client
        .next_services_page(&first)
        .await
        .unwrap()
        .expect("a second page");
    assert_eq!(second.meta.page, Some(1));
    assert_eq!(second.services.len(), 1);
    assert_eq!(second.next_page_url(), None);
    assert!(second.meta.previous_page_url.is_some());
    assert_eq!(client.next_services_page(&second).await.unwrap(), None);
    let listed: Vec<String> = first
        .services
        .iter()
        .chain(&second.services)
        .map(|s| s.sid.clone())
        .collect();
    assert_eq!(listed, expected);

    // An update changes what it sets, and the service's codes follow it.
    let shop = &created[0].sid;
    let mut update = UpdateService::new();
    update.friendly_name = Some("Shop 2".into());
    update.code_length = Some(4);
    let updated = client.update_service(shop, &update).await.unwrap();
    assert_eq!(updated.friendly_name.as_deref(), Some("Shop 2"));
    assert_eq!(updated.code_length, Some(4));
    assert_eq!(updated.lookup_enabled, Some(false), "unchanged");
    assert_eq!(client.fetch_service(shop).await.unwrap(), updated);
    let started = client
        .create_verification(
            shop,
            &CreateVerification::new("+15017122668", TwilioChannel::Sms),
        )
        .await
        .unwrap();
    let sent = sandbox
        .messages("+15017122668")
        .into_iter()
        .find(|m| m.reference.as_deref() == Some(started.sid.as_str()))
        .expect("a code was sent");
    assert_eq!(sent.code.expect("a code").len(), 4);

    // Deleted: 204, then 20404 for the service and its verification.
    client.delete_service(shop).await.unwrap();
    let err = client.fetch_service(shop).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.provider_code(), Some("20404"));
    let err = client
        .fetch_verification(shop, &started.sid)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = client.delete_service(shop).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.provider_code(), Some("20404"));
    let err = client.update_service(shop, &update).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let left = client.list_services(None).await.unwrap();
    assert_eq!(left.services.len(), 2);
    assert!(left.services.iter().all(|s| &s.sid != shop));
    assert_eq!(
        sandbox.request_count(Provider::Twilio, "DELETE", &format!("/v2/Services/{shop}")),
        2,
        "deletes are asked once each"
    );
}
