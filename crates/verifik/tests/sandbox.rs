//! End-to-end tests of every flow against the phone-verify sandbox's Verifik emulation.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use phone_verify_core::http::{Clock, ConfigureHttp, HttpConfig, RetryPolicy, Sleep, Timeouts};
use phone_verify_core::{
    Channel, CheckOutcome, Code, ErrorKind, PhoneNumber, PhoneVerifier, PhoneVerifierExt,
    RejectReason, RequestContext, SessionId, SessionResolver, StartRequest, Verification,
};
use phone_verify_sandbox::{
    Channel as SentOn, Fault, FaultAction, Provider, Sandbox, SandboxConfig, SandboxHandle,
};
use phone_verify_verifik::{
    CreateAppRegistration, CreateProjectValidation, ListValidations, Mode, PhoneGateway,
    SANDBOX_TOKEN, ValidatePhone, ValidationStatus, ValidationType, Verifik, VerifikBuilder,
    VerifikClient, VerifikPhone,
};
use secrecy::{ExposeSecret, SecretString};

const PROJECT: &str = "507f1f77bcf86cd799439011";
const FLOW: &str = "507f1f77bcf86cd799439015";
const MANUAL: &str = "/v2/phone-validations/manual";

async fn sandbox() -> SandboxHandle {
    Sandbox::start(SandboxConfig::default())
        .await
        .expect("the sandbox starts")
}

fn builder(sandbox: &SandboxHandle) -> VerifikBuilder {
    VerifikBuilder::sandbox(&sandbox.base_url()).retry(
        RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
    )
}

fn verifier(sandbox: &SandboxHandle) -> Verifik {
    builder(sandbox).build().unwrap()
}

fn login_client(sandbox: &SandboxHandle) -> VerifikClient {
    VerifikBuilder::without_token()
        .sandbox_url(&sandbox.base_url())
        .build_client()
        .unwrap()
}

fn phone(text: &str) -> PhoneNumber {
    text.parse().unwrap()
}

/// The code the sandbox sent to `recipient` (a phone or an e-mail address).
fn sent_code(sandbox: &SandboxHandle, recipient: &str) -> Code {
    Code::new(&sandbox.latest_code(recipient).expect("a code was sent")).unwrap()
}

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

fn creates(sandbox: &SandboxHandle, path: &str) -> usize {
    sandbox.request_count(Provider::Verifik, "POST", path)
}

#[tokio::test]
async fn sms_code_wrong_then_right_then_the_session_resolves() {
    let sandbox = sandbox().await;
    let verifier = verifier(&sandbox);
    let number = phone("+57 300 123 4567");
    let handle = verifier
        .start(&StartRequest::sms(number.clone()).language("es".parse().unwrap()))
        .await
        .unwrap();
    let message = &sandbox.messages(number.e164())[0];
    assert_eq!(
        (message.provider, message.channel),
        (Provider::Verifik, SentOn::Sms)
    );
    assert_eq!(message.lang, "es");
    assert_eq!(
        message.reference.as_deref(),
        Some(handle.reference.as_str())
    );
    assert_eq!(
        handle.expires_at,
        Some(handle.created_at + Duration::from_secs(600))
    );
    let code = sent_code(&sandbox, number.e164());

    let outcome = verifier.check_code(&handle, &wrong(&code)).await.unwrap();
    assert_eq!(reason(&outcome), Some(RejectReason::WrongCode));
    assert_eq!(
        outcome.rejection().unwrap().provider_code.as_deref(),
        Some("otp_does_not_match")
    );

    // Not validated yet: the session does not resolve.
    let pending = SessionId::new(&handle.reference).unwrap();
    let err = verifier
        .resolve(&pending, &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    let confirmed = outcome.verified().expect("verified").clone();
    assert_eq!(confirmed.phone, Some(number.clone()));
    assert_eq!(confirmed.channel, Channel::Sms);
    let session = confirmed.session_id.expect("a session id");
    assert_eq!(session.as_str(), handle.reference);

    let resolved = verifier
        .resolve(&session, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(resolved.phone, number);
    assert_eq!(resolved.channel, Channel::Sms);
    assert!(resolved.verified_at.is_some());

    // The code is used up: a second check finds nothing pending.
    let again = verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(reason(&again), Some(RejectReason::NotFound));
    assert_eq!(
        again.rejection().unwrap().provider_code.as_deref(),
        Some("phone_validation_already_validated")
    );
}

#[tokio::test]
async fn whatsapp_code_with_a_title_from_a_handle_in_json() {
    let sandbox = sandbox().await;
    let verifier = builder(&sandbox)
        .mode(Mode::manual().with_title("Acme Bank").unwrap())
        .build()
        .unwrap();
    let number = phone("+507 6264 7737");
    let handle = verifier
        .start(&StartRequest::otp(Channel::WhatsApp, number.clone()))
        .await
        .unwrap();
    let message = &sandbox.messages(number.e164())[0];
    assert_eq!(message.channel, SentOn::Whatsapp);
    assert!(message.text.contains("Acme Bank"), "{}", message.text);
    let stored = handle.to_json().unwrap();
    let elsewhere = verifier_from_scratch(&sandbox);
    let handle = phone_verify_core::Verification::from_json(&stored).unwrap();
    let outcome = elsewhere
        .check_code(&handle, &sent_code(&sandbox, number.e164()))
        .await
        .unwrap();
    assert_eq!(
        outcome.verified().map(|v| v.channel.clone()),
        Some(Channel::WhatsApp)
    );
}

fn verifier_from_scratch(sandbox: &SandboxHandle) -> Verifik {
    VerifikBuilder::from_lookup(|name| match name {
        "VERIFIK_SANDBOX_URL" => Some(sandbox.base_url()),
        _ => None,
    })
    .unwrap()
    .build()
    .unwrap()
}

#[tokio::test]
async fn expiry_follows_the_sandbox_clock() {
    let sandbox = sandbox().await;
    let verifier = verifier(&sandbox);
    let number = phone("+57 300 765 4321");
    let handle = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();
    let code = sent_code(&sandbox, number.e164());
    sandbox.advance_clock(Duration::from_secs(11 * 60));
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(reason(&outcome), Some(RejectReason::Expired));
    assert_eq!(
        outcome.rejection().unwrap().provider_code.as_deref(),
        Some("phoneValidation_has_expired")
    );
    // The validation was never validated and its expiry has passed on Verifik's clock.
    let err = verifier
        .resolve(
            &SessionId::new(&handle.reference).unwrap(),
            &RequestContext::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired, "{err}");
}

/// A validation id resolves only within the resolve max age of its validation, on Verifik's
/// clock: ids can be guessed from one another, so an old one must not give its phone.
#[tokio::test]
async fn a_session_resolves_only_within_the_max_age() {
    let sandbox = sandbox().await;
    let verifier = builder(&sandbox)
        .resolve_max_age(Duration::from_secs(5 * 60))
        .build()
        .unwrap();
    let number = phone("+57 300 765 1234");
    let handle = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();
    let outcome = verifier
        .check_code(&handle, &sent_code(&sandbox, number.e164()))
        .await
        .unwrap();
    let session = outcome.verified().unwrap().session_id.clone().unwrap();
    sandbox.advance_clock(Duration::from_secs(4 * 60));
    let resolved = verifier
        .resolve(&session, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(resolved.phone, number);
    sandbox.advance_clock(Duration::from_secs(2 * 60));
    let err = verifier
        .resolve(&session, &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired, "{err}");
    // A day later, with the default of 15 minutes.
    sandbox.advance_clock(Duration::from_secs(86_400));
    let err = verifier_from_scratch(&sandbox)
        .resolve(&session, &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired, "{err}");
}

#[tokio::test]
async fn resend_cooldown_unless_forced() {
    let sandbox = sandbox().await;
    let verifier = verifier(&sandbox);
    let number = phone("+57 300 222 3344");
    let first = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();

    let err = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.provider_code(), Some("otp_recently_sent"));
    assert_eq!(err.http_status(), Some(409));

    // The cooldown is per gateway: WhatsApp may still go out.
    verifier
        .start(&StartRequest::otp(Channel::WhatsApp, number.clone()))
        .await
        .unwrap();

    // Forced: a new SMS code, which the old handle checks too (Verifik validates the newest).
    let second = verifier
        .resend(&first, &RequestContext::new())
        .await
        .unwrap();
    assert_ne!(second.reference, first.reference);
    let code = sent_code(&sandbox, number.e164());
    let outcome = verifier.check_code(&first, &code).await.unwrap();
    assert_eq!(
        outcome.verified().and_then(|v| v.session_id.clone()),
        Some(SessionId::new(&second.reference).unwrap())
    );

    // After the cooldown a plain start works again.
    sandbox.advance_clock(Duration::from_secs(121));
    verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();

    // A verifier that always forces never meets the cooldown.
    let forcing = builder(&sandbox)
        .mode(Mode::manual().with_force(true).unwrap())
        .build()
        .unwrap();
    forcing
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();
    assert_eq!(creates(&sandbox, MANUAL), 6);
}

#[tokio::test]
async fn project_flow_mode_and_its_errors() {
    let sandbox = sandbox().await;
    let verifier = builder(&sandbox)
        .mode(Mode::project_flow(PROJECT).unwrap())
        .build()
        .unwrap();
    let number = phone("+507 6123 4567");
    let handle = verifier
        .start(&StartRequest::otp(Channel::WhatsApp, number.clone()))
        .await
        .unwrap();
    assert_eq!(sandbox.messages(number.e164())[0].channel, SentOn::Whatsapp);
    let outcome = verifier
        .check_code(&handle, &sent_code(&sandbox, number.e164()))
        .await
        .unwrap();
    assert!(outcome.is_verified());

    let unknown = builder(&sandbox)
        .mode(Mode::project_flow("507f1f77bcf86cd799439099").unwrap())
        .build()
        .unwrap();
    let err = unknown
        .start(&StartRequest::otp(
            Channel::WhatsApp,
            phone("+507 6123 4568"),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.provider_code(), Some("project_not_found"));

    sandbox.set_balance(Provider::Verifik, Some(0));
    let err = verifier
        .start(&StartRequest::otp(
            Channel::WhatsApp,
            phone("+507 6123 4569"),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExhausted);
    assert_eq!(err.provider_code(), Some("insufficient_credits"));
}

#[tokio::test]
async fn phone_login_yields_a_token_that_works_and_renews() {
    let sandbox = sandbox().await;
    let client = login_client(&sandbox);
    let account = VerifikPhone::new("+507", "6264 7737").unwrap();
    let login = client.phone_login(&account).await.unwrap();
    assert_eq!(login.kind, Some(ValidationType::Login));
    assert_eq!(login.status, Some(ValidationStatus::Sent));
    let code = sent_code(&sandbox, "+50762647737");
    let err = client
        .phone_login_confirm(&account, &wrong(&code))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.provider_code(), Some("BadRequest"));
    let token = client.phone_login_confirm(&account, &code).await.unwrap();
    assert_eq!(token.secret().expose_secret().split('.').count(), 3);
    assert_eq!(client.token_expires_at(), Some(token.expires_at()));

    // The login client now works as a verifier's client.
    let logged_in = Verifik::new(client.clone(), Mode::manual());
    let number = phone("+57 300 999 8877");
    logged_in
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();
    let page = client
        .list_validations(&ListValidations::new().phone(&VerifikPhone::from(&number)))
        .await
        .unwrap();
    assert_eq!(page.data.len(), 1);

    let renewed = client.renew_session(12).await.unwrap();
    assert_ne!(
        renewed.secret().expose_secret(),
        token.secret().expose_secret()
    );
    client
        .list_validations(&ListValidations::new())
        .await
        .unwrap();

    // Renew-and-revoke: the new token works, every older one (the sandbox's default too) no
    // longer does.
    let old = verifier(&sandbox);
    let revoked = client.renew_and_revoke().await.unwrap();
    assert_eq!(
        revoked.expires_at() - revoked.issued_at(),
        time::Duration::days(30)
    );
    client
        .list_validations(&ListValidations::new())
        .await
        .unwrap();
    let err = old
        .start(&StartRequest::sms(phone("+57 300 999 8878")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.provider_code(), Some("Unauthorized"));
    let stale = client.with_token(token.secret().clone()).unwrap();
    let err = stale
        .list_validations(&ListValidations::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
}

#[tokio::test]
async fn email_login_yields_a_token() {
    let sandbox = sandbox().await;
    let client = login_client(&sandbox);
    let sent = client.email_login("Ana@Acme.test").await.unwrap();
    assert_eq!(sent.status.as_deref(), Some("sent"));
    let code = sent_code(&sandbox, "ana@acme.test");
    let err = client
        .email_login_confirm("ana@acme.test", &wrong(&code))
        .await
        .unwrap_err();
    assert_eq!(err.provider_code(), Some("invalid_otp"));
    client
        .email_login_confirm("ana@acme.test", &code)
        .await
        .unwrap();
    client
        .list_validations(&ListValidations::new())
        .await
        .unwrap();
    let err = client.email_login("nobody").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn app_registration_validation_with_its_own_token() {
    let sandbox = sandbox().await;
    let client = builder(&sandbox).build_client().unwrap();
    let number = VerifikPhone::new("+57", "3005556677").unwrap();
    let registration = client
        .create_app_registration(
            &CreateAppRegistration::new(PROJECT, FLOW, "Ana Pérez")
                .phone(number.clone())
                .language("es-CO"),
        )
        .await
        .unwrap();
    assert_eq!(registration.project_flow.as_deref(), Some(FLOW));
    assert_eq!(registration.language.as_deref(), Some("es"));
    assert_eq!(registration.phone_number(), number.to_phone_number());

    let request = CreateProjectValidation::new(PROJECT, number.clone(), ValidationType::Onboarding);
    // The account token is refused; the registration's JWT creates and validates.
    let err = client
        .create_app_registration_validation(&SecretString::from(SANDBOX_TOKEN), &request)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    let created = client
        .create_app_registration_validation(&registration.token, &request)
        .await
        .unwrap();
    assert_eq!(created.kind, Some(ValidationType::Onboarding));
    assert_eq!(
        created.app_registration.as_deref(),
        Some(registration.id.as_str())
    );
    let code = sent_code(&sandbox, "+573005556677");
    let check = ValidatePhone::new(number, code).project(PROJECT);
    let err = client.validate(&check).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    let validated = client
        .with_token(registration.token.clone())
        .unwrap()
        .validate_by_post(&check)
        .await
        .unwrap();
    assert_eq!(validated.id, created.id);
    assert!(validated.is_validated());
    assert_eq!(count(&sandbox, "POST", "/v2/phone-validations/validate"), 1);

    // A second registration of the same phone is a conflict.
    let err = client
        .create_app_registration(
            &CreateAppRegistration::new(PROJECT, FLOW, "Ana")
                .phone(VerifikPhone::new("+57", "3005556677").unwrap()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(err.provider_code(), Some("phone_is_registered_already"));
}

#[tokio::test]
async fn codes_with_a_leading_zero_verify() {
    let sandbox = Sandbox::start(SandboxConfig {
        test_numbers: vec![("+573001230000".into(), "012345".into())],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let verifier = verifier(&sandbox);
    let number = phone("+57 300 123 0000");
    let handle = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();
    assert_eq!(
        sandbox.latest_code(number.e164()).as_deref(),
        Some("012345")
    );
    // Another process checks it from the handle's JSON.
    let restored = Verification::from_json(&handle.to_json().unwrap()).unwrap();
    let other_process = builder(&sandbox).build().unwrap();
    let outcome = other_process
        .check_code(&restored, &Code::new("012345").unwrap())
        .await
        .unwrap();
    assert_eq!(
        outcome.verified().and_then(|v| v.phone.clone()),
        Some(number)
    );
}

#[tokio::test]
async fn project_flow_validations_carry_the_gateway_and_the_language() {
    let sandbox = sandbox().await;
    let verifier = builder(&sandbox)
        .mode(
            Mode::project_flow(PROJECT)
                .unwrap()
                .with_channel(Channel::Sms)
                .unwrap(),
        )
        .build()
        .unwrap();
    let number = phone("+57 300 777 8899");
    let handle = verifier
        .start(&StartRequest::sms(number.clone()).language("es-CO".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(handle.channel, Channel::Sms);
    let message = &sandbox.messages(number.e164())[0];
    assert_eq!(
        (message.channel, message.lang.as_str()),
        (SentOn::Sms, "es")
    );
    assert!(
        verifier
            .check_code(&handle, &sent_code(&sandbox, number.e164()))
            .await
            .unwrap()
            .is_verified()
    );

    // The typed client: projectFlow, phoneGateway and language, checked before sending.
    let client = verifier.client();
    let whatsapp = VerifikPhone::new("+57", "3007778800").unwrap();
    let created = client
        .create_project_validation(
            &CreateProjectValidation::new(PROJECT, whatsapp.clone(), ValidationType::Validation)
                .project_flow(FLOW)
                .gateway(PhoneGateway::WhatsApp)
                .language("pt-BR"),
        )
        .await
        .unwrap();
    assert_eq!(created.phone_gateway, Some(PhoneGateway::WhatsApp));
    assert_eq!(created.language.as_deref(), Some("pt"));
    assert_eq!(created.project_flow.as_deref(), Some(FLOW));
    let err = client
        .create_project_validation(
            &CreateProjectValidation::new(PROJECT, whatsapp.clone(), ValidationType::Validation)
                .project_flow("000000000000000000000000"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.provider_code(), Some("projectFlow_not_found"));
    let before = sandbox.requests().requests.len();
    for bad in [
        CreateProjectValidation::new(PROJECT, whatsapp.clone(), ValidationType::Validation)
            .gateway(PhoneGateway::None),
        CreateProjectValidation::new(PROJECT, whatsapp.clone(), ValidationType::Validation)
            .language("not a tag"),
        CreateProjectValidation::new(PROJECT, whatsapp.clone(), ValidationType::Validation)
            .project_flow("../x"),
    ] {
        let err = client.create_project_validation(&bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    assert_eq!(
        sandbox.requests().requests.len(),
        before,
        "nothing was sent"
    );
}

#[tokio::test]
async fn list_and_get_validations() {
    let sandbox = sandbox().await;
    let verifier = verifier(&sandbox);
    let client = verifier.client();
    let numbers = ["+57 300 000 0001", "+57 300 000 0002", "+57 300 000 0003"].map(phone);
    let mut handles = Vec::new();
    for number in &numbers {
        handles.push(
            verifier
                .start(&StartRequest::sms(number.clone()))
                .await
                .unwrap(),
        );
    }
    verifier
        .check_code(&handles[0], &sent_code(&sandbox, numbers[0].e164()))
        .await
        .unwrap();

    let page = client
        .list_validations(&ListValidations::new().limit(2))
        .await
        .unwrap();
    assert_eq!(page.data.len(), 2);
    let pagination = page.pagination.unwrap();
    assert_eq!((pagination.total, pagination.pages), (3, 2));
    assert_eq!(page.data[0].id, handles[2].reference, "newest first");
    let second = client
        .list_validations(&ListValidations::new().limit(2).page(2))
        .await
        .unwrap();
    assert_eq!(second.data.len(), 1);
    let validated = client
        .list_validations(&ListValidations::new().status(ValidationStatus::Validated))
        .await
        .unwrap();
    assert_eq!(validated.data.len(), 1);
    assert_eq!(validated.data[0].id, handles[0].reference);

    let one = client.get_validation(&handles[1].reference).await.unwrap();
    assert_eq!(one.phone_number(), Some(numbers[1].clone()));
    assert_eq!(one.phone_gateway, Some(PhoneGateway::Sms));
    assert_eq!(one.status, Some(ValidationStatus::Sent));
    let err = client
        .get_validation("000000000000000000000000")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn sends_reach_verifik_exactly_once_under_faults() {
    let sandbox = sandbox().await;
    let verifier = builder(&sandbox)
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(400)))
        .build()
        .unwrap();
    let faults = [
        // With `Retry-After`, refused before processing; without, a proxy may answer so after
        // forwarding the send: in doubt.
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
        (
            FaultAction::Status {
                status: 502,
                body: None,
            },
            ErrorKind::MaybeSent,
        ),
        (FaultAction::ConnectionReset, ErrorKind::MaybeSent),
        (
            FaultAction::RateLimited {
                retry_after_secs: 1,
            },
            ErrorKind::RateLimited,
        ),
        // The sandbox logs a delayed request once it took effect, then holds its answer back.
        (FaultAction::Delay { ms: 1_500 }, ErrorKind::MaybeSent),
    ];
    for (i, (action, kind)) in faults.into_iter().enumerate() {
        let before = creates(&sandbox, MANUAL);
        sandbox.inject_fault(
            Fault::new(Provider::Verifik, action.clone())
                .method("POST")
                .path(MANUAL),
        );
        let number = phone(&format!("+57 300 100 000{i}"));
        let err = verifier
            .start(&StartRequest::sms(number.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{action:?}: {err}");
        if matches!(action, FaultAction::Delay { .. }) {
            // The slow answer took effect: exactly one code went out.
            assert_eq!(sandbox.messages(number.e164()).len(), 1);
            wait_for_log(&sandbox, before + 1).await;
        }
        assert_eq!(
            creates(&sandbox, MANUAL) - before,
            1,
            "{action:?}: one create only"
        );
        assert!(sandbox.pending_faults().is_empty());
    }
}

/// Waits (up to 10 s) until the sandbox has logged `count` manual creates.
async fn wait_for_log(sandbox: &SandboxHandle, count: usize) {
    for _ in 0..200 {
        if creates(sandbox, MANUAL) >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const VALIDATIONS: &str = "/v2/phone-validations";
const ONE_VALIDATION: &str = "/v2/phone-validations/*";

fn count(sandbox: &SandboxHandle, method: &str, path: &str) -> usize {
    sandbox.request_count(Provider::Verifik, method, path)
}

/// Waits (up to 10 s) until the sandbox has logged `expected` requests `method path`: it logs
/// a delayed request when it takes effect, before its answer is held back, on the sandbox's
/// own task.
async fn wait_for_requests(sandbox: &SandboxHandle, method: &str, path: &str, expected: usize) {
    for _ in 0..200 {
        if count(sandbox, method, path) >= expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A verifier whose attempts time out after 300 ms, and an SMS verification for `number`.
async fn started(sandbox: &SandboxHandle, number: &PhoneNumber) -> (Verifik, Verification) {
    let verifier = builder(sandbox)
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(300)))
        .build()
        .unwrap();
    let handle = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();
    (verifier, handle)
}

/// The path that reads `handle`'s validation back.
fn read_path(handle: &Verification) -> String {
    format!("{VALIDATIONS}/{}", handle.reference)
}

fn inject_on_check(sandbox: &SandboxHandle, action: FaultAction) {
    sandbox.inject_fault(
        Fault::new(Provider::Verifik, action)
            .method("PUT")
            .path(VALIDATIONS),
    );
}

#[tokio::test]
async fn a_check_whose_answer_is_late_is_read_back_as_verified() {
    let sandbox = sandbox().await;
    let number = phone("+57 300 444 5566");
    let (verifier, handle) = started(&sandbox, &number).await;
    // The check takes effect at once; its answer comes long after the attempt timeout.
    inject_on_check(&sandbox, FaultAction::Delay { ms: 2_000 });
    let outcome = verifier
        .check_code(&handle, &sent_code(&sandbox, number.e164()))
        .await
        .unwrap();
    let confirmed = outcome.verified().expect("verified, not rejected");
    assert_eq!(confirmed.phone, Some(number.clone()));
    assert_eq!(
        confirmed.session_id.as_ref().map(SessionId::as_str),
        Some(handle.reference.as_str())
    );
    assert!(confirmed.verified_at.is_some());
    assert_eq!(
        count(&sandbox, "GET", &read_path(&handle)),
        1,
        "one read-back"
    );
    wait_for_requests(&sandbox, "PUT", VALIDATIONS, 1).await;
    assert_eq!(
        count(&sandbox, "PUT", VALIDATIONS),
        1,
        "the code was checked once: no blind retry"
    );
}

/// After a resend, the old handle's check validates the newer validation (Verifik checks the
/// phone's most recent one), and its answer is lost: a repeated check would meet the old
/// validation's code. The phone's latest validation tells the outcome instead.
#[tokio::test]
async fn a_lost_answer_to_the_old_handles_check_after_a_resend_is_verified() {
    let sandbox = sandbox().await;
    let number = phone("+57 300 444 5571");
    let (verifier, old) = started(&sandbox, &number).await;
    // The resend is created a second later on Verifik's clock: `createdAt` tells it is newer.
    sandbox.advance_clock(Duration::from_secs(1));
    let new = verifier.resend(&old, &RequestContext::new()).await.unwrap();
    inject_on_check(&sandbox, FaultAction::Delay { ms: 2_000 });
    let outcome = verifier
        .check_code(&old, &sent_code(&sandbox, number.e164()))
        .await
        .unwrap();
    let confirmed = outcome.verified().expect("verified, not rejected");
    assert_eq!(confirmed.phone, Some(number.clone()));
    assert_eq!(
        confirmed.session_id.as_ref().map(SessionId::as_str),
        Some(new.reference.as_str())
    );
    assert_eq!(
        count(&sandbox, "GET", VALIDATIONS),
        1,
        "the phone's validations"
    );
    wait_for_requests(&sandbox, "PUT", VALIDATIONS, 1).await;
    assert_eq!(count(&sandbox, "PUT", VALIDATIONS), 1, "not checked again");
}

#[tokio::test]
async fn a_check_lost_before_verifik_processed_it_is_made_once_more() {
    let sandbox = sandbox().await;
    let number = phone("+57 300 444 5567");
    let (verifier, handle) = started(&sandbox, &number).await;
    // The connection drops after the request left: the sandbox did not process it.
    inject_on_check(&sandbox, FaultAction::ConnectionReset);
    let code = sent_code(&sandbox, number.e164());
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    assert!(outcome.is_verified(), "{outcome:?}");
    assert_eq!(count(&sandbox, "PUT", VALIDATIONS), 2);
    assert_eq!(count(&sandbox, "GET", &read_path(&handle)), 1);

    // A 500 answer leaves the outcome unknown too: same recovery.
    let other = phone("+57 300 444 5568");
    let handle = verifier
        .start(&StartRequest::sms(other.clone()))
        .await
        .unwrap();
    inject_on_check(
        &sandbox,
        FaultAction::Status {
            status: 500,
            body: None,
        },
    );
    let outcome = verifier
        .check_code(&handle, &sent_code(&sandbox, other.e164()))
        .await
        .unwrap();
    assert!(outcome.is_verified(), "{outcome:?}");
    assert_eq!(count(&sandbox, "PUT", VALIDATIONS), 4);
}

#[tokio::test]
async fn a_wrong_code_after_a_lost_answer_is_rejected_by_a_real_answer_only() {
    let sandbox = sandbox().await;
    let number = phone("+57 300 444 5569");
    let (verifier, handle) = started(&sandbox, &number).await;
    let code = sent_code(&sandbox, number.e164());
    inject_on_check(&sandbox, FaultAction::ConnectionReset);
    let outcome = verifier.check_code(&handle, &wrong(&code)).await.unwrap();
    // The repeated check answered 403: that answer, not the lost one, rejects the code.
    assert_eq!(reason(&outcome), Some(RejectReason::WrongCode));
    assert_eq!(count(&sandbox, "PUT", VALIDATIONS), 2);

    // When the read-back fails too, nothing is certain: OutcomeUnknown, never Rejected.
    inject_on_check(&sandbox, FaultAction::ConnectionReset);
    sandbox.inject_fault(
        Fault::new(Provider::Verifik, FaultAction::MalformedJson)
            .method("GET")
            .path(ONE_VALIDATION),
    );
    let err = verifier.check_code(&handle, &code).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert!(!err.is_retryable());
    assert_eq!(count(&sandbox, "PUT", VALIDATIONS), 3, "no second check");
    // That check never reached Verifik: the code still works.
    assert!(
        verifier
            .check_code(&handle, &code)
            .await
            .unwrap()
            .is_verified()
    );
}

/// The system's clock, five minutes ahead: a machine that checks a handle again later.
#[derive(Debug)]
struct FiveMinutesOn;

impl Clock for FiveMinutesOn {
    fn now(&self) -> SystemTime {
        SystemTime::now() + Duration::from_secs(300)
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

#[tokio::test]
async fn a_used_code_sent_again_is_not_verified_by_an_earlier_validation_when_its_answer_is_lost() {
    let sandbox = sandbox().await;
    let number = phone("+57 300 444 5572");
    let (verifier, handle) = started(&sandbox, &number).await;
    let code = sent_code(&sandbox, number.e164());
    assert!(
        verifier
            .check_code(&handle, &code)
            .await
            .unwrap()
            .is_verified()
    );
    // Five minutes on, the handle is checked again (a replayed token) and the answer is lost:
    // the record says validated, but `validatedAt` dates it before this check.
    let later = builder(&sandbox)
        .http_config(HttpConfig::default().with_clock(Arc::new(FiveMinutesOn)))
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(300)))
        .build()
        .unwrap();
    for again in [wrong(&code), code.clone()] {
        inject_on_check(&sandbox, FaultAction::ResetAfterProcessing);
        let err = later.check_code(&handle, &again).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    }
    assert_eq!(count(&sandbox, "GET", &read_path(&handle)), 2);
}

#[tokio::test]
async fn checks_are_retried_only_when_verifik_surely_did_not_process_them() {
    let sandbox = sandbox().await;
    let verifier = verifier(&sandbox);
    let number = phone("+57 300 444 5570");
    let handle = verifier
        .start(&StartRequest::sms(number.clone()))
        .await
        .unwrap();
    // 503 without Retry-After: a proxy may answer so after forwarding the check, which may
    // have used the code. Not retried: the validation is read back (not validated: the
    // sandbox did not process the check), and only then checked once more.
    inject_on_check(
        &sandbox,
        FaultAction::Status {
            status: 503,
            body: None,
        },
    );
    let code = sent_code(&sandbox, number.e164());
    let read_backs = |handle: &Verification| {
        count(
            &sandbox,
            "GET",
            &format!("{VALIDATIONS}/{}", handle.reference),
        )
    };
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    assert!(outcome.is_verified(), "{outcome:?}");
    assert_eq!(count(&sandbox, "PUT", VALIDATIONS), 2);
    assert!(read_backs(&handle) > 0, "read back before checking again");
    // 429 and 503 with Retry-After: refused before processing, retried.
    let mut outcome = outcome;
    for (n, refusal) in [
        FaultAction::RateLimited {
            retry_after_secs: 0,
        },
        FaultAction::ServiceUnavailable {
            retry_after_secs: 0,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let number = phone(&format!("+57 300 444 557{}", n + 1));
        let handle = verifier
            .start(&StartRequest::sms(number.clone()))
            .await
            .unwrap();
        let checks = count(&sandbox, "PUT", VALIDATIONS);
        inject_on_check(&sandbox, refusal.clone());
        outcome = verifier
            .check_code(&handle, &sent_code(&sandbox, number.e164()))
            .await
            .unwrap();
        assert!(outcome.is_verified(), "{refusal:?}: {outcome:?}");
        assert_eq!(
            count(&sandbox, "PUT", VALIDATIONS),
            checks + 2,
            "{refusal:?}"
        );
        assert_eq!(read_backs(&handle), 0, "{refusal:?}: no read-back");
    }

    sandbox.inject_fault(
        Fault::new(Provider::Verifik, FaultAction::MalformedJson)
            .method("GET")
            .path("/v2/phone-validations/*"),
    );
    let session = outcome.verified().unwrap().session_id.clone().unwrap();
    let err = verifier
        .resolve(&session, &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    verifier
        .resolve(&session, &RequestContext::new())
        .await
        .unwrap();
}
