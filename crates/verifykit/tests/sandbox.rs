//! End-to-end tests of every flow against the phone-verify sandbox's VerifyKit emulation.

use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy, Timeouts};
use phone_verify_core::{
    Channel, CheckOutcome, CheckRequest, Code, ErrorKind, PhoneNumber, PhoneVerifier,
    PhoneVerifierExt, RejectReason, RequestContext, SessionId, SessionResolver, StartRequest,
    Verification,
};
use phone_verify_sandbox::{
    Fault, FaultAction, InitTheme, Provider, RateLimit, Sandbox, SandboxConfig, SandboxHandle,
    SendLimit,
};
use phone_verify_verifykit::errors::{self, Checked};
use phone_verify_verifykit::{
    App, BlacklistType, SendOtp, StartOptions, VerifyKit, VerifyKitBuilder, VerifyKitClient,
};

const IP: &str = "198.51.100.23";
const FALLBACK_IP: &str = "127.0.0.1";

async fn sandbox(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config).await.expect("the sandbox starts")
}

/// A builder for the sandbox whose requests without an end-user IP send [`FALLBACK_IP`].
fn builder(sandbox: &SandboxHandle) -> VerifyKitBuilder {
    strict_builder(sandbox).fallback_end_user_ip(FALLBACK_IP.parse().unwrap())
}

/// A builder for the sandbox with no fallback IP: requests need one in their context.
fn strict_builder(sandbox: &SandboxHandle) -> VerifyKitBuilder {
    VerifyKitBuilder::sandbox(&sandbox.base_url()).retry(
        RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
    )
}

fn verifier(sandbox: &SandboxHandle) -> VerifyKit {
    builder(sandbox).build().unwrap()
}

/// A verifier that gives up an attempt after 300 ms (an operation after 5 s).
fn impatient_verifier(sandbox: &SandboxHandle) -> VerifyKit {
    builder(sandbox)
        .timeouts(
            Timeouts::default()
                .with_attempt(Duration::from_millis(300))
                .with_overall(Duration::from_secs(5)),
        )
        .build()
        .unwrap()
}

/// A fault of VerifyKit's `path`.
fn fault(action: FaultAction, path: &str) -> Fault {
    Fault::new(Provider::VerifyKit, action).path(path)
}

/// An answer with HTTP `status` and no body.
fn status(status: u16) -> FaultAction {
    FaultAction::Status { status, body: None }
}

fn client(sandbox: &SandboxHandle) -> VerifyKitClient {
    builder(sandbox).build_client().unwrap()
}

fn context() -> RequestContext {
    RequestContext::new().end_user_ip(IP.parse().unwrap())
}

fn phone(text: &str) -> PhoneNumber {
    text.parse().unwrap()
}

/// The code the sandbox sent to `phone`.
fn sent_code(sandbox: &SandboxHandle, phone: &PhoneNumber) -> Code {
    Code::new(&sandbox.latest_code(phone.e164()).expect("a code was sent")).unwrap()
}

/// Starts an SMS verification of `number`: its handle and the code the sandbox sent.
async fn start_sms(
    verifier: &VerifyKit,
    sandbox: &SandboxHandle,
    number: &str,
) -> (Verification, Code) {
    let number = phone(number);
    let handle = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();
    (handle, sent_code(sandbox, &number))
}

fn wrong(code: &Code) -> Code {
    let shifted: String = code
        .expose()
        .chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 1) % 10))
        .collect();
    Code::new(&shifted).unwrap()
}

fn sends(sandbox: &SandboxHandle, path: &str) -> usize {
    sandbox.request_count(Provider::VerifyKit, "POST", path)
}

fn rejection_reason(outcome: &CheckOutcome) -> Option<RejectReason> {
    outcome.rejection().map(|r| r.reason)
}

#[tokio::test]
async fn sms_flow_wrong_code_then_right_code_then_session() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = verifier(&sandbox);
    let number = phone("+90 532 111 22 33");
    let handle = verifier
        .start(
            &StartRequest::sms(number.clone())
                .language("tr".parse().unwrap())
                .context(context()),
        )
        .await
        .unwrap();
    assert_eq!(handle.channel, Channel::Sms);
    assert_eq!(handle.extra_str("country_code"), Some("TR"));
    assert!(handle.expires_at.is_some());

    let messages = sandbox.messages(number.e164());
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].lang, "tr", "the language reached the provider");
    assert_eq!(
        messages[0].reference.as_deref(),
        Some(handle.reference.as_str())
    );
    let code = sent_code(&sandbox, &number);

    let outcome = verifier
        .check(
            &handle,
            &CheckRequest::code(wrong(&code)).context(context()),
        )
        .await
        .unwrap();
    let rejection = outcome.rejection().expect("rejected");
    assert_eq!(rejection.reason, RejectReason::WrongCode);
    assert_eq!(rejection.provider_code.as_deref(), Some("403014"));

    // Another process checks the stored handle.
    let stored = Verification::from_json(&handle.to_json().unwrap()).unwrap();
    let outcome = self::verifier(&sandbox)
        .check(&stored, &CheckRequest::code(code).context(context()))
        .await
        .unwrap();
    let success = outcome.verified().expect("verified");
    assert_eq!(success.phone, Some(number.clone()));
    assert_eq!(success.channel, Channel::Sms);
    let session = success.session_id.clone().expect("a session id");

    let resolved = verifier.resolve(&session, &context()).await.unwrap();
    assert_eq!(resolved.phone, number);
    assert_eq!(resolved.channel, Channel::Sms);
    assert!(resolved.verified_at.is_some());
    assert_eq!(
        resolved.extras.get("mobile_network"),
        Some(&serde_json::json!("Sandbox Mobile"))
    );
    assert_eq!(
        resolved.extras.get("country_code"),
        Some(&serde_json::json!("TR"))
    );

    let log = sandbox.requests();
    assert_eq!(log.requests.len(), 4);
    assert!(
        log.requests
            .iter()
            .all(|r| r.forwarded_for.as_deref() == Some(IP)),
        "every request carried the end user's IP: {log:?}"
    );
}

#[tokio::test]
async fn whatsapp_otp_flow() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = verifier(&sandbox);
    let number = phone("+90 532 111 22 44");
    let handle = verifier
        .start(&StartRequest::otp(Channel::WhatsApp, number.clone()).context(context()))
        .await
        .unwrap();
    assert_eq!(handle.extra_str("flow"), Some("whatsapp_otp"));
    let message = &sandbox.messages(number.e164())[0];
    assert_eq!(message.channel, phone_verify_sandbox::Channel::Whatsapp);
    let code = sent_code(&sandbox, &number);

    let outcome = verifier.check_code(&handle, &wrong(&code)).await.unwrap();
    assert_eq!(rejection_reason(&outcome), Some(RejectReason::WrongCode));
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    let success = outcome.verified().expect("verified");
    assert_eq!(success.channel, Channel::WhatsApp);
    assert_eq!(success.phone, Some(number.clone()));
    let resolved = verifier
        .resolve(success.session_id.as_ref().unwrap(), &context())
        .await
        .unwrap();
    assert_eq!(resolved.channel, Channel::WhatsApp);
    assert_eq!(resolved.phone, number);

    // A WhatsApp-verified number may get session messages for 24 hours.
    let sent = client(&sandbox)
        .send_whatsapp_message(&number, "Your parcel is on its way.", &context())
        .await
        .unwrap();
    assert_eq!(sent.status.as_deref(), Some("sent"));
    assert!(
        sandbox
            .messages(number.e164())
            .iter()
            .any(|m| m.text == "Your parcel is on its way.")
    );
}

#[tokio::test]
async fn whatsapp_reverse_flow_pending_then_verified_with_the_users_phone() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = verifier(&sandbox);
    let handle = verifier
        .start(&StartRequest::reverse(Channel::WhatsApp).context(context()))
        .await
        .unwrap();
    let deeplink = handle
        .reverse
        .as_ref()
        .and_then(|r| r.deeplink.clone())
        .expect("a deeplink");
    assert!(deeplink.starts_with("https://wa.me/"), "{deeplink}");
    assert!(deeplink.contains(&handle.reference));
    assert_eq!(verifier.poll(&handle).await.unwrap(), CheckOutcome::Pending);

    let user = phone("+507 6264 7737");
    let session = sandbox
        .complete_reverse_flow(&handle.reference, user.e164())
        .unwrap();
    let stored = Verification::from_json(&handle.to_json().unwrap()).unwrap();
    let outcome = self::verifier(&sandbox).poll(&stored).await.unwrap();
    let success = outcome.verified().expect("verified");
    assert_eq!(
        success.phone,
        Some(user.clone()),
        "the phone the user wrote from"
    );
    assert_eq!(success.channel, Channel::WhatsApp);
    assert_eq!(
        success.session_id.as_ref().map(SessionId::as_str),
        Some(session.as_str())
    );
    assert!(success.verified_at.is_some());
    let resolved = verifier
        .resolve(&SessionId::new(&session).unwrap(), &context())
        .await
        .unwrap();
    assert_eq!(resolved.phone, user);
}

#[tokio::test]
async fn telegram_reverse_flow_with_a_qr_code() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = verifier(&sandbox);
    let handle = verifier
        .start(
            &StartRequest::reverse(Channel::Telegram)
                .qr_code(true)
                .context(context()),
        )
        .await
        .unwrap();
    let reverse = handle.reverse.clone().unwrap();
    let qr = reverse.qr_code.expect("a QR code");
    assert!(qr.starts_with("data:image/png;base64,"), "{qr:.40}");
    assert_eq!(reverse.deeplink, None);
    assert_eq!(verifier.poll(&handle).await.unwrap(), CheckOutcome::Pending);
    let user = phone("+90 532 111 22 55");
    sandbox
        .complete_reverse_flow(&handle.reference, user.e164())
        .unwrap();
    let outcome = verifier.poll(&handle).await.unwrap();
    let success = outcome.verified().expect("verified");
    assert_eq!(success.channel, Channel::Telegram);
    assert_eq!(success.phone, Some(user));
}

#[tokio::test]
async fn expired_verifications_are_rejected_as_expired() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = verifier(&sandbox);
    let (sms, code) = start_sms(&verifier, &sandbox, "+90 532 111 22 66").await;
    let reverse = verifier
        .start(&StartRequest::reverse(Channel::Telegram))
        .await
        .unwrap();
    sandbox.advance_clock(Duration::from_secs(301));

    let outcome = verifier.check_code(&sms, &code).await.unwrap();
    let rejection = outcome.rejection().expect("rejected");
    assert_eq!(rejection.reason, RejectReason::Expired);
    assert_eq!(rejection.provider_code.as_deref(), Some("403037"));
    let outcome = verifier.poll(&reverse).await.unwrap();
    assert_eq!(rejection_reason(&outcome), Some(RejectReason::Expired));
}

#[tokio::test]
async fn too_many_wrong_codes_leave_no_pending_verification() {
    let sandbox = sandbox(SandboxConfig {
        verifykit_max_attempts: 2,
        ..SandboxConfig::default()
    })
    .await;
    let verifier = verifier(&sandbox);
    let (handle, code) = start_sms(&verifier, &sandbox, "+90 532 111 22 77").await;
    for _ in 0..2 {
        let outcome = verifier.check_code(&handle, &wrong(&code)).await.unwrap();
        assert_eq!(rejection_reason(&outcome), Some(RejectReason::WrongCode));
    }
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    let rejection = outcome.rejection().expect("rejected");
    assert_eq!(rejection.reason, RejectReason::NotFound);
    assert_eq!(rejection.provider_code.as_deref(), Some("403013"));
}

/// Requests to `path` in the sandbox's log that no fault answered.
fn clean_sends(sandbox: &SandboxHandle, path: &str) -> usize {
    sandbox
        .requests()
        .requests
        .iter()
        .filter(|r| r.path == path && r.fault.is_none())
        .count()
}

#[tokio::test]
async fn sends_are_sent_once_under_503_reset_and_timeout() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = impatient_verifier(&sandbox);
    let paths = |i: usize| {
        [
            (
                "/v1.0/send-otp",
                StartRequest::sms(phone(&format!("+90 532 222 00 0{i}"))),
            ),
            (
                "/v1.0/start",
                StartRequest::otp(Channel::WhatsApp, phone(&format!("+90 532 333 00 0{i}"))),
            ),
        ]
    };
    // 503 and reset: the faults stay pending for two more requests, so a retry would be
    // logged too. A 503 with `Retry-After` was refused before processing; a plain one may come
    // from a proxy that forwarded the send: in doubt.
    let faults = [
        (
            FaultAction::ServiceUnavailable {
                retry_after_secs: 0,
            },
            ErrorKind::ProviderUnavailable,
        ),
        (status(503), ErrorKind::MaybeSent),
        (FaultAction::ConnectionReset, ErrorKind::MaybeSent),
    ];
    for (i, (action, kind)) in faults.into_iter().enumerate() {
        for (path, request) in paths(i) {
            sandbox.reset();
            sandbox.inject_fault(fault(action.clone(), path).method("POST").times(3));
            let err = verifier.start(&request).await.unwrap_err();
            assert_eq!(err.kind(), kind, "{path} under {}: {err}", action.name());
            assert_eq!(
                sends(&sandbox, path),
                1,
                "{path} under {}: the request log shows exactly one send",
                action.name()
            );
        }
    }
    // Timeout: the sandbox processes the send at once and answers after 1 s; the client gives
    // up after 300 ms. The sandbox logs the request when its (late) answer is complete, so
    // wait for that, then the log must show exactly one send, the faulted one: no retry.
    for (path, request) in paths(7) {
        sandbox.reset();
        sandbox.inject_fault(fault(FaultAction::Delay { ms: 1_000 }, path).method("POST"));
        let err = verifier.start(&request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MaybeSent, "{path} timed out: {err}");
        assert_eq!(
            logged(&sandbox, path, 1).await,
            1,
            "{path}: exactly one send under a timeout"
        );
        assert_eq!(clean_sends(&sandbox, path), 0, "{path} was retried");
    }
}

#[tokio::test]
async fn code_checks_are_retried_only_when_the_sandbox_did_not_process_them() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = verifier(&sandbox);
    let (handle, code) = start_sms(&verifier, &sandbox, "+90 532 111 22 88").await;
    // A 503 without Retry-After may have been processed (a proxy's, after forwarding): not
    // retried, its outcome unknown; here the sandbox did not process it, so the code is intact.
    sandbox.inject_fault(fault(status(503), "/v1.0/check-otp"));
    let err = verifier.check_code(&handle, &code).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(sends(&sandbox, "/v1.0/check-otp"), 1);
    // A 429 or a 503 with Retry-After was refused before processing: retried, and the code
    // verifies (the 503's check is refused, then the code is checked wrong, then right).
    sandbox.inject_fault(fault(
        FaultAction::ServiceUnavailable {
            retry_after_secs: 0,
        },
        "/v1.0/check-otp",
    ));
    let outcome = verifier.check_code(&handle, &wrong(&code)).await.unwrap();
    let rejected = outcome.rejection().map(|r| r.reason);
    assert_eq!(rejected, Some(RejectReason::WrongCode), "{outcome:?}");
    assert_eq!(sends(&sandbox, "/v1.0/check-otp"), 3);
    sandbox.inject_fault(fault(
        FaultAction::RateLimited {
            retry_after_secs: 0,
        },
        "/v1.0/check-otp",
    ));
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    assert!(outcome.is_verified(), "{outcome:?}");
    assert_eq!(sends(&sandbox, "/v1.0/check-otp"), 5);
    assert_eq!(sends(&sandbox, "/v1.0/send-otp"), 1);
}

#[tokio::test]
async fn polls_are_retried_through_transient_faults() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = verifier(&sandbox);
    let handle = verifier
        .start(&StartRequest::reverse(Channel::Telegram))
        .await
        .unwrap();
    sandbox.inject_fault(fault(status(503), "/v1.0/check"));
    sandbox.inject_fault(fault(FaultAction::ConnectionReset, "/v1.0/check"));
    assert_eq!(verifier.poll(&handle).await.unwrap(), CheckOutcome::Pending);
    assert_eq!(sends(&sandbox, "/v1.0/check"), 3);
}

/// Waits until the sandbox has logged `n` requests to `path` (a delayed answer is logged when
/// it is complete), for at most 5 s.
async fn logged(sandbox: &SandboxHandle, path: &str, n: usize) -> usize {
    for _ in 0..100 {
        if sends(sandbox, path) >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sends(sandbox, path)
}

#[tokio::test]
async fn a_lost_answer_to_a_code_check_is_outcome_unknown_never_rejected() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = impatient_verifier(&sandbox);
    let sms_number = phone("+90 532 444 00 01");
    let sms = verifier
        .start(&StartRequest::sms(sms_number.clone()))
        .await
        .unwrap();
    let wa_number = phone("+90 532 444 00 02");
    let whatsapp = verifier
        .start(&StartRequest::otp(Channel::WhatsApp, wa_number.clone()))
        .await
        .unwrap();
    let cases = [
        ("/v1.0/check-otp", &sms, sent_code(&sandbox, &sms_number)),
        (
            "/v1.0/check-whatsapp",
            &whatsapp,
            sent_code(&sandbox, &wa_number),
        ),
    ];
    for (path, handle, code) in cases {
        // The sandbox checks (and uses up) the right code at once and answers after 1 s; the
        // client gives up after 300 ms. A retry would be answered at once, and verified.
        sandbox.inject_fault(fault(FaultAction::Delay { ms: 1_000 }, path).method("POST"));
        let err = verifier.check_code(handle, &code).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{path}: {err}");
        assert!(!err.is_retryable());
        assert_eq!(logged(&sandbox, path, 1).await, 1, "{path}: one check");
        assert_eq!(clean_sends(&sandbox, path), 0, "{path} was retried");
        // Why it must not be retried: the code is used up, so a retry would be a rejection.
        let again = verifier.check_code(handle, &code).await.unwrap();
        assert_eq!(
            rejection_reason(&again),
            Some(RejectReason::NotFound),
            "{path}: {again:?}"
        );
    }

    // A lost connection and a 500 are unknown outcomes too, each after one request.
    let (handle, code) = start_sms(&verifier, &sandbox, "+90 532 444 00 03").await;
    for (action, name) in [
        (FaultAction::ConnectionReset, "reset"),
        (status(500), "500"),
    ] {
        let before = sends(&sandbox, "/v1.0/check-otp");
        sandbox.inject_fault(fault(action, "/v1.0/check-otp").times(3));
        let err = verifier.check_code(&handle, &code).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{name}: {err}");
        assert_eq!(sends(&sandbox, "/v1.0/check-otp"), before + 1, "{name}");
        sandbox.clear_faults();
    }
}

#[tokio::test]
async fn a_verifykit_request_without_an_end_user_ip_sends_nothing() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let strict = strict_builder(&sandbox).build().unwrap();
    let number = phone("+90 532 555 00 01");
    for request in [
        StartRequest::sms(number.clone()),
        StartRequest::otp(Channel::WhatsApp, number.clone()),
        StartRequest::reverse(Channel::Telegram),
    ] {
        let err = strict.start(&request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("RequestContext::end_user_ip"),
            "{err}"
        );
    }
    let handle = strict
        .start(&StartRequest::reverse(Channel::WhatsApp).context(context()))
        .await
        .unwrap();
    let sms = strict
        .start(&StartRequest::sms(number.clone()).context(context()))
        .await
        .unwrap();
    let log = sandbox.requests().requests;
    assert_eq!(log.len(), 2, "only the two starts with an IP: {log:?}");
    assert!(log.iter().all(|r| r.forwarded_for.as_deref() == Some(IP)));
    assert!(sandbox.messages(number.e164()).len() == 1);

    assert_eq!(
        strict.poll(&handle).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let code = sent_code(&sandbox, &number);
    assert_eq!(
        strict.check_code(&sms, &code).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let err = strict
        .client()
        .country(None, None, &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(sandbox.requests().requests.len(), 2, "no request left");

    // The user's IP wins over the fallback; the fallback fills in for requests without one.
    let lenient = verifier(&sandbox);
    let outcome = lenient
        .check(&sms, &CheckRequest::code(code).context(context()))
        .await
        .unwrap();
    let session = outcome
        .verified()
        .and_then(|v| v.session_id.clone())
        .unwrap();
    assert_eq!(lenient.poll(&handle).await.unwrap(), CheckOutcome::Pending);
    let log = sandbox.requests().requests;
    let ips: Vec<_> = log[2..]
        .iter()
        .map(|r| r.forwarded_for.as_deref())
        .collect();
    assert_eq!(ips, [Some(IP), Some(FALLBACK_IP)]);
    // The API host's `result` goes without it, as VerifyKit's Python and Node SDKs send it.
    let resolved = strict
        .resolve(&session, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(resolved.phone, number);
}

#[tokio::test]
async fn a_foreign_reference_stops_at_the_handles_expiry_instead_of_polling_for_ever() {
    const CHECK_PATH: &str = "/v1.0/check";
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = verifier(&sandbox);
    let started = verifier
        .start(&StartRequest::reverse(Channel::WhatsApp))
        .await
        .unwrap();
    let mut foreign = started.clone();
    foreign.reference = "NotIssuedBySandbox1".to_owned();
    // VerifyKit cannot tell an unknown reference from a pending flow: 403036 is pending...
    assert_eq!(
        verifier.poll(&foreign).await.unwrap(),
        CheckOutcome::Pending
    );
    // ... until the handle's expiry, where polling stops.
    foreign.expires_at = Some(time::OffsetDateTime::now_utc() + Duration::from_millis(1500));
    let foreign = Verification::from_json(&foreign.to_json().unwrap()).unwrap();
    sandbox.reset();
    let outcome = verifier
        .wait_for_outcome(
            &foreign,
            Duration::from_millis(100),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(rejection_reason(&outcome), Some(RejectReason::Expired));
    let polls = clean_sends(&sandbox, CHECK_PATH);
    assert!(
        (1..=17).contains(&polls),
        "polled {polls} times in 1.5 s at 100 ms: not past the expiry"
    );
    assert_eq!(
        verifier
            .poll(&foreign)
            .await
            .unwrap()
            .rejection()
            .map(|r| r.reason),
        Some(RejectReason::Expired)
    );
    // Past the expiry VerifyKit is still asked, once a check (a flow completed just before
    // it is verified); one still pending has expired.
    assert_eq!(
        clean_sends(&sandbox, CHECK_PATH),
        polls + 1,
        "past the expiry, one request a check"
    );
}

#[tokio::test]
async fn a_reverse_flow_still_pending_past_its_expiry_is_expired() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = builder(&sandbox)
        .reverse_flow_ttl(Duration::from_secs(120))
        .build()
        .unwrap();
    for channel in [Channel::WhatsApp, Channel::Telegram] {
        let handle = verifier
            .start(&StartRequest::reverse(channel.clone()))
            .await
            .unwrap();
        assert_eq!(
            handle.expires_at,
            Some(handle.created_at + Duration::from_secs(120)),
            "{channel}"
        );
    }
    let default = verifier_default_ttl(&sandbox).await;
    assert_eq!(
        default.expires_at,
        Some(default.created_at + Duration::from_secs(600))
    );

    // A handle stored long ago: its expiry has passed.
    let mut stale = default.clone();
    stale.expires_at = Some(time::OffsetDateTime::now_utc() - Duration::from_secs(1));
    let stale = Verification::from_json(&stale.to_json().unwrap()).unwrap();
    sandbox.reset();
    let outcome = verifier.poll(&stale).await.unwrap();
    assert_eq!(rejection_reason(&outcome), Some(RejectReason::Expired));
    assert_eq!(
        sandbox.requests().requests.len(),
        1,
        "VerifyKit is asked once: the flow may have completed just before the expiry"
    );
}

/// A reverse flow started by a verifier with the default lifetime.
async fn verifier_default_ttl(sandbox: &SandboxHandle) -> Verification {
    verifier(sandbox)
        .start(&StartRequest::reverse(Channel::Telegram))
        .await
        .unwrap()
}

#[tokio::test]
async fn waiting_for_a_reverse_flow_stops_at_its_expiry() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let verifier = builder(&sandbox)
        .reverse_flow_ttl(Duration::from_secs(1))
        .build()
        .unwrap();
    let handle = verifier
        .start(&StartRequest::reverse(Channel::WhatsApp))
        .await
        .unwrap();
    // The user never completes the flow: the wait ends with the handle's expiry, not with its
    // (much longer) timeout.
    let outcome = verifier
        .wait_for_outcome(&handle, Duration::from_millis(100), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(rejection_reason(&outcome), Some(RejectReason::Expired));
    assert!(sends(&sandbox, "/v1.0/check") >= 1, "it polled first");
}

#[tokio::test]
async fn email_verification_through_the_typed_client() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let client = client(&sandbox);
    let started = client
        .start_email(Some("ada@example.com"), &context())
        .await
        .unwrap();
    assert!(
        started.subject.starts_with("verify-"),
        "{}",
        started.subject
    );
    assert!(started.to.as_deref().is_some_and(|to| to.contains('@')));
    assert!(
        started
            .mailto
            .as_deref()
            .is_some_and(|m| m.starts_with("mailto:") && m.contains(&started.subject))
    );
    assert!(!format!("{started:?}").contains(&started.subject));

    // Before the e-mail arrives: 403036, which is Pending for an e-mail poll.
    let err = client
        .check_email(&started.reference, &started.subject, &context())
        .await
        .unwrap_err();
    assert_eq!(err.provider_code(), Some("403036"));
    assert_eq!(
        errors::check_outcome(&err, Checked::Email),
        Some(CheckOutcome::Pending)
    );
    let err = client
        .check_email(&started.reference, "verify-wrong", &context())
        .await
        .unwrap_err();
    assert_eq!(
        errors::check_outcome(&err, Checked::Email).and_then(|o| o.rejection().map(|r| r.reason)),
        Some(RejectReason::WrongCode)
    );

    sandbox
        .complete_email_flow(&started.reference, "ada@example.com")
        .unwrap();
    let check = client
        .check_email(&started.reference, &started.subject, &context())
        .await
        .unwrap();
    assert!(check.is_verified(), "{check:?}");
    assert_eq!(check.email.as_deref(), Some("ada@example.com"));
    assert_eq!(check.validation_type.as_deref(), Some("email"));
    assert!(check.validation_date.is_some());
    assert!(!format!("{check:?}").contains("ada@"));

    // Bad input never reaches the sandbox; a lost answer is an unknown outcome.
    sandbox.reset();
    for bad in ["", "ada", "ada@example", "a b@example.com"] {
        let err = client.start_email(Some(bad), &context()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    let err = client
        .check_email(&started.reference, " ", &context())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(sandbox.requests().requests.is_empty());
    let anonymous = client.start_email(None, &context()).await.unwrap();
    sandbox.inject_fault(fault(FaultAction::ConnectionReset, "/v1.0/check-email").times(3));
    let err = client
        .check_email(&anonymous.reference, &anonymous.subject, &context())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(sends(&sandbox, "/v1.0/check-email"), 1);
}

#[tokio::test]
async fn hostile_answers_from_the_sandbox_are_typed() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let client = builder(&sandbox)
        .retry(RetryPolicy::never())
        .build_client()
        .unwrap();
    let number = phone("+90 532 111 22 99");
    // A 200 that cannot be read, or cut short, answers a send: the code may be on its way.
    for (action, kind) in [
        (FaultAction::MalformedJson, ErrorKind::MaybeSent),
        (FaultAction::WrongContentType, ErrorKind::MaybeSent),
        (FaultAction::TruncatedBody, ErrorKind::MaybeSent),
    ] {
        sandbox.inject_fault(fault(action.clone(), "/v1.0/send-otp"));
        let err = client
            .send_otp(&SendOtp::new(number.clone()), &context())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{}: {err}", action.name());
    }
    // `check` only reads a reverse flow's state: an unreadable answer is just that.
    sandbox.inject_fault(fault(FaultAction::MalformedJson, "/v1.0/check"));
    let err = client.check("any", &context()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn the_sandboxs_refusals_keep_verifykits_codes() {
    let sandbox = sandbox(SandboxConfig {
        verifykit_send_limit: SendLimit {
            max_sends: 1,
            window: Duration::from_secs(3600),
        },
        ..SandboxConfig::default()
    })
    .await;
    let verifier = verifier(&sandbox);
    let client = client(&sandbox);
    let number = phone("+90 532 444 00 01");

    // 403012: a banned number.
    let added = client
        .blacklist_add(
            BlacklistType::Otp,
            std::slice::from_ref(&number),
            &context(),
        )
        .await
        .unwrap();
    assert_eq!(added.success_count, 1);
    let err = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.provider_code()),
        (ErrorKind::Blocked, Some("403012"))
    );
    assert!(
        err.request_id().is_some_and(|id| id.contains("REQ")),
        "{err:?}"
    );
    let removed = client
        .blacklist_remove(
            BlacklistType::Otp,
            std::slice::from_ref(&number),
            &context(),
        )
        .await
        .unwrap();
    assert_eq!(removed.success_count, 1);

    // 403015: the per-number send limit.
    verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();
    let err = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.provider_code()),
        (ErrorKind::RateLimited, Some("403015"))
    );

    // 403042: no balance left.
    sandbox.set_balance(Provider::VerifyKit, Some(0));
    let err = verifier
        .start(&StartRequest::reverse(Channel::WhatsApp))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.provider_code()),
        (ErrorKind::QuotaExhausted, Some("403042"))
    );
    sandbox.set_balance(Provider::VerifyKit, None);

    // 403038: a wrong server key.
    let stranger = builder(&sandbox).server_key("not-the-key").build().unwrap();
    let err = stranger
        .start(&StartRequest::reverse(Channel::WhatsApp))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.provider_code()),
        (ErrorKind::Unauthorized, Some("403038"))
    );

    // 403036 on result: an unknown session; send-whatsapp-message to an unverified number.
    let err = verifier
        .resolve(&SessionId::new("NoSuchSession1").unwrap(), &context())
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.provider_code()),
        (ErrorKind::NotFound, Some("403036"))
    );
    let err = client
        .send_whatsapp_message(
            &phone("+90 532 444 00 02"),
            "Hello from the shop!",
            &context(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn inactive_methods_and_test_number_mode_are_unsupported() {
    let sandbox = sandbox(SandboxConfig {
        verifykit_methods: vec!["whatsapp".into()],
        ..SandboxConfig::default()
    })
    .await;
    let verifier = verifier(&sandbox);
    let err = verifier
        .start(&StartRequest::sms(phone("+90 532 444 00 03")))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.provider_code()),
        (ErrorKind::Unsupported, Some("403047"))
    );
    let err = verifier
        .start(&StartRequest::reverse(Channel::Telegram))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.provider_code()),
        (ErrorKind::Unsupported, Some("403011"))
    );

    let sandbox = self::sandbox(SandboxConfig {
        verifykit_otp_test_numbers_only: true,
        test_numbers: vec![("+905324440004".into(), "424242".into())],
        ..SandboxConfig::default()
    })
    .await;
    let verifier = self::verifier(&sandbox);
    let err = verifier
        .start(&StartRequest::sms(phone("+90 532 444 00 05")))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.provider_code()),
        (ErrorKind::Unsupported, Some("403049"))
    );
    let handle = verifier
        .start(&StartRequest::sms(phone("+90 532 444 00 04")))
        .await
        .unwrap();
    let outcome = verifier
        .check_code(&handle, &Code::new("424242").unwrap())
        .await
        .unwrap();
    assert!(outcome.is_verified());
}

#[tokio::test]
async fn rate_limits_are_rate_limited_with_retry_after() {
    let sandbox = sandbox(SandboxConfig {
        verifykit_rate_limit: Some(RateLimit {
            max_requests: 1,
            window: Duration::from_secs(60),
        }),
        ..SandboxConfig::default()
    })
    .await;
    let client = client(&sandbox);
    client.country(None, None, &context()).await.unwrap();
    let err = client
        .send_otp(&SendOtp::new(phone("+90 532 444 00 06")), &context())
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.provider_code()),
        (ErrorKind::RateLimited, Some("429001"))
    );
    assert!(err.retry_after().is_some());
    assert_eq!(sends(&sandbox, "/v1.0/send-otp"), 1);
}

#[tokio::test]
async fn init_country_and_access_token() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let client = client(&sandbox);
    let methods = client
        .init(Some(&"en".parse().unwrap()), &context())
        .await
        .unwrap();
    assert!(methods.method("whatsapp").is_some() && methods.method("telegram").is_some());
    assert!(methods.offers_otp());
    assert!(methods.alternative_validation.is_none());
    assert!(!methods.localization_list.is_empty());

    let countries = client.country(Some("PA"), None, &context()).await.unwrap();
    assert_eq!(countries[0].country_code, "PA");
    assert!(countries.iter().any(|c| c.country_code == "TR"));

    let token = client.access_token(&context()).await.unwrap();
    assert!(token.expires_at().is_some());

    let basic = self::sandbox(SandboxConfig {
        init_theme: InitTheme::Basic,
        ..SandboxConfig::default()
    })
    .await;
    let methods = self::client(&basic).init(None, &context()).await.unwrap();
    assert!(methods.method("otp").is_none());
    assert_eq!(methods.alternative_validation.as_deref(), Some("otp"));
    assert!(methods.offers_otp());
}

#[tokio::test]
async fn the_typed_client_runs_a_whole_reverse_flow() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let client = client(&sandbox);
    let started = client
        .start(
            &StartOptions::new(App::WhatsApp)
                .deeplink(true)
                .qr_code(true),
            &context(),
        )
        .await
        .unwrap();
    assert!(started.deeplink.is_some(), "both asked: the deeplink wins");
    assert!(started.qr_code.is_none());
    let pending = client.check(&started.reference, &context()).await.unwrap();
    assert_eq!(pending.validation_status, Some(false));
    assert!(!pending.is_verified());
    let unknown = client
        .check("NoSuchReference1", &context())
        .await
        .unwrap_err();
    assert_eq!(unknown.provider_code(), Some("403036"));
    let session = sandbox
        .complete_reverse_flow(&started.reference, "+905321112200")
        .unwrap();
    let check = client.check(&started.reference, &context()).await.unwrap();
    assert!(check.is_verified());
    let session = SessionId::new(&session).unwrap();
    assert_eq!(check.session_id.as_ref(), Some(&session));
    let result = client.result(&session, &context()).await.unwrap();
    assert_eq!(result.phone_number, "+905321112200");
    assert_eq!(result.validation_type.as_deref(), Some("whatsapp"));
}
