//! End-to-end flows against the phone-verify sandbox's Verigator emulation: SMS, TOTP with
//! codes computed from the enrolled secret, the TOTP→SMS fall-back, refused PINs, user
//! registration, the typed client, and sends that are never retried under injected faults.

use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy, Timeouts};
use phone_verify_core::{
    Channel, CheckOutcome, Code, ErrorKind, PhoneNumber, PhoneVerifier, PhoneVerifierExt,
    RejectReason, StartRequest, Verification,
};
use phone_verify_sandbox::{
    Fault, FaultAction, Provider, Sandbox, SandboxConfig, SandboxHandle, totp,
};
use phone_verify_verigator::{
    AuthMethod, EXTRA_METHOD, EXTRA_REQUESTED_METHOD, EXTRA_SERVICE_ID, Verigator, VerigatorBuilder,
};

/// A sandbox with one service, and a verifier of that service's users.
struct Env {
    sandbox: SandboxHandle,
    verifier: Verigator,
}

impl Env {
    async fn start(seed: u64) -> Self {
        Self::with_http(seed, |b| b).await
    }

    async fn with_http(seed: u64, tune: impl Fn(VerigatorBuilder) -> VerigatorBuilder) -> Self {
        let sandbox = Sandbox::start(SandboxConfig::seeded(seed)).await.unwrap();
        let builder = VerigatorBuilder::sandbox(&sandbox.base_url())
            .pin_validity(sandbox.config().verigator_pin_ttl)
            .retry(
                RetryPolicy::default()
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
            );
        let service = builder
            .build_client()
            .unwrap()
            .create_service("shop.example", "Example Shop")
            .await
            .unwrap();
        let verifier = tune(builder.service_id(&service.id)).build().unwrap();
        Self { sandbox, verifier }
    }

    fn service_id(&self) -> &str {
        self.verifier.service_id()
    }

    fn auth_path(&self, user_id: &str) -> String {
        format!(
            "/v1/service/service/{}/users/{user_id}/auth",
            self.service_id()
        )
    }

    fn users_path(&self) -> String {
        format!("/v1/service/service/{}/users", self.service_id())
    }

    fn count(&self, method: &str, path: &str) -> usize {
        self.sandbox
            .request_count(Provider::Verigator, method, path)
    }

    /// The handle of `request`, which must start.
    async fn started(&self, request: StartRequest) -> Verification {
        self.verifier.start(&request).await.unwrap()
    }

    /// The outcome of checking `handle` with the PIN the sandbox sent for it.
    async fn check_sent(&self, handle: &Verification) -> CheckOutcome {
        self.verifier
            .check_code(handle, &self.sms_code(handle))
            .await
            .unwrap()
    }

    /// The PIN the sandbox sent by SMS for `handle`.
    fn sms_code(&self, handle: &Verification) -> Code {
        let phone = handle.phone.as_ref().unwrap().e164();
        let message = self
            .sandbox
            .messages(phone)
            .into_iter()
            .find(|m| m.reference.as_deref() == Some(handle.reference.as_str()))
            .expect("an SMS was sent for the handle");
        Code::new(message.code.as_deref().unwrap()).unwrap()
    }
}

fn phone(n: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+3725{n:07}")).unwrap()
}

/// A code that differs from `code` in every digit.
fn wrong(code: &Code) -> Code {
    let shifted: String = code
        .expose()
        .bytes()
        .map(|b| char::from(b'0' + (b - b'0' + 1) % 10))
        .collect();
    Code::new(&shifted).unwrap()
}

#[tokio::test]
async fn sms_end_to_end() {
    let env = Env::start(1).await;
    let phone = phone(1_000_001);
    let handle = env.started(StartRequest::sms(phone.clone())).await;
    assert_eq!(handle.channel, Channel::Sms);
    assert_eq!(handle.extra_str(EXTRA_SERVICE_ID), Some(env.service_id()));
    assert_eq!(handle.extra_str(EXTRA_METHOD), Some("sms"));
    assert_eq!(
        handle.expires_at,
        Some(handle.created_at + Duration::from_secs(300))
    );
    let user = env.verifier.find_user(&phone).await.unwrap().unwrap();
    assert_eq!(user.id, handle.reference);
    assert_eq!(user.id_in_service.as_deref(), Some(phone.e164()));

    let code = env.sms_code(&handle);
    let outcome = env.verifier.check_code(&handle, &code).await.unwrap();
    let verified = outcome.verified().expect("verified");
    assert_eq!(verified.phone.as_ref(), Some(&phone));
    assert_eq!(verified.channel, Channel::Sms);
    // The authentication is used up: the same PIN finds nothing pending.
    let again = env.verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(
        again.rejection().map(|r| r.reason),
        Some(RejectReason::NotFound)
    );

    // A second verification of the number reuses its user.
    let second = env.started(StartRequest::sms(phone.clone())).await;
    assert_eq!(second.reference, handle.reference);
    assert_eq!(env.count("POST", &env.users_path()), 1);
    assert_eq!(env.count("POST", &env.auth_path(&handle.reference)), 2);
    let users = env
        .verifier
        .client()
        .list_users(env.service_id())
        .await
        .unwrap();
    assert_eq!(users.users.len(), 1);

    // Another process checks the stored handle with a fresh client.
    let fresh = VerigatorBuilder::sandbox(&env.sandbox.base_url())
        .service_id(env.service_id())
        .build()
        .unwrap();
    let parsed = Verification::from_json(&second.to_json().unwrap()).unwrap();
    let outcome = fresh
        .check_code(&parsed, &env.sms_code(&second))
        .await
        .unwrap();
    assert!(outcome.is_verified());
}

#[tokio::test]
async fn totp_end_to_end_with_the_enrolled_secret() {
    let env = Env::start(2).await;
    let phone = phone(2_000_002);
    let user = env.verifier.user_for(&phone).await.unwrap();
    let enrollment = env.sandbox.enroll_totp(env.service_id(), &user.id).unwrap();
    let secret = totp::base32_decode(&enrollment.secret).unwrap();

    let handle = env
        .started(StartRequest::otp(Channel::Totp, phone.clone()))
        .await;
    assert_eq!(handle.channel, Channel::Totp);
    assert_eq!(handle.extra_str(EXTRA_METHOD), Some("totp"));
    assert_eq!(handle.extra_str(EXTRA_REQUESTED_METHOD), None);
    assert!(
        env.sandbox.messages(phone.e164()).is_empty(),
        "TOTP sends no SMS"
    );

    let code = Code::new(&totp::totp(
        &secret,
        env.sandbox.now().unix_timestamp(),
        totp::DIGITS,
    ))
    .unwrap();
    let refused = env
        .verifier
        .check_code(&handle, &wrong(&code))
        .await
        .unwrap();
    assert_eq!(
        refused.rejection().map(|r| r.reason),
        Some(RejectReason::WrongCode)
    );
    let outcome = env.verifier.check_code(&handle, &code).await.unwrap();
    let verified = outcome.verified().expect("verified");
    assert_eq!(verified.channel, Channel::Totp);
    assert_eq!(verified.phone.as_ref(), Some(&phone));

    // SMS stays available to the same user.
    let sms = env.started(StartRequest::sms(phone.clone())).await;
    assert_eq!(sms.channel, Channel::Sms);
    let outcome = env.check_sent(&sms).await;
    assert!(outcome.is_verified());
}

#[tokio::test]
async fn totp_falls_back_to_sms_without_an_authenticator() {
    let env = Env::start(3).await;
    let phone = phone(3_000_003);
    let handle = env
        .started(StartRequest::otp(Channel::Totp, phone.clone()))
        .await;
    assert_eq!(handle.channel, Channel::Sms);
    assert_eq!(handle.extra_str(EXTRA_METHOD), Some("sms"));
    assert_eq!(handle.extra_str(EXTRA_REQUESTED_METHOD), Some("totp"));
    let code = env.sms_code(&handle);
    let outcome = env.verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(
        outcome.verified().map(|v| v.channel.clone()),
        Some(Channel::Sms)
    );
}

#[tokio::test]
async fn refused_pins_are_outcomes() {
    let env = Env::start(4).await;
    let rejected = |outcome: CheckOutcome| outcome.rejection().map(|r| r.reason);

    // Throttled after the sandbox's five wrong PINs, even for the right one.
    let handle = env.started(StartRequest::sms(phone(4_000_001))).await;
    let code = env.sms_code(&handle);
    for _ in 0..env.sandbox.config().verigator_max_attempts {
        let outcome = env
            .verifier
            .check_code(&handle, &wrong(&code))
            .await
            .unwrap();
        assert_eq!(rejected(outcome), Some(RejectReason::WrongCode));
    }
    let outcome = env.verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(rejected(outcome), Some(RejectReason::TooManyAttempts));

    // Expired once the sandbox clock passes the handle's expiry.
    let handle = env.started(StartRequest::sms(phone(4_000_002))).await;
    let code = env.sms_code(&handle);
    let validity = handle.expires_at.unwrap() - handle.created_at;
    env.sandbox
        .advance_clock(Duration::try_from(validity).unwrap() + Duration::from_secs(1));
    let outcome = env.verifier.check_code(&handle, &code).await.unwrap();
    assert_eq!(rejected(outcome), Some(RejectReason::Expired));

    // A registered user with no authentication pending.
    let user = env.verifier.user_for(&phone(4_000_003)).await.unwrap();
    let never_started = Verification::new(env.verifier.provider(), user.id, Channel::Sms)
        .with_phone(phone(4_000_003))
        .with_extra(EXTRA_SERVICE_ID, env.service_id());
    let outcome = env
        .verifier
        .check_code(&never_started, &code)
        .await
        .unwrap();
    assert_eq!(rejected(outcome), Some(RejectReason::NotFound));
}

#[tokio::test]
async fn concurrent_starts_share_one_user() {
    let env = Env::start(5).await;
    let phone = phone(5_000_005);
    let request = StartRequest::sms(phone.clone());
    let (a, b) = tokio::join!(env.verifier.start(&request), env.verifier.start(&request));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.reference, b.reference);
    let users = env
        .verifier
        .client()
        .list_users(env.service_id())
        .await
        .unwrap();
    assert_eq!(users.users.len(), 1);
    assert_eq!(env.count("POST", &env.auth_path(&a.reference)), 2);
}

#[tokio::test]
async fn sends_are_never_retried_under_faults() {
    let env = Env::with_http(6, |b| {
        b.timeouts(Timeouts::default().with_attempt(Duration::from_millis(250)))
    })
    .await;
    let faults = [
        // With `Retry-After`, refused before processing; a plain 503 may come from a proxy
        // that forwarded the send: in doubt.
        (
            FaultAction::ServiceUnavailable {
                retry_after_secs: 0,
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
        (FaultAction::ConnectionReset, ErrorKind::MaybeSent),
        (FaultAction::Delay { ms: 1_000 }, ErrorKind::MaybeSent),
    ];
    for (n, (action, kind)) in (0u32..).zip(faults) {
        let phone = phone(6_000_000 + n);
        let user = env.verifier.user_for(&phone).await.unwrap();
        let path = env.auth_path(&user.id);
        let delayed = matches!(action, FaultAction::Delay { .. });
        env.sandbox.inject_fault(
            Fault::new(Provider::Verigator, action)
                .method("POST")
                .path(&path),
        );
        let err = env
            .verifier
            .start(&StartRequest::sms(phone.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        if delayed {
            // The sandbox logs the delayed request when it has answered it; a retry would
            // have arrived (undelayed, and been logged) before that.
            for _ in 0..100 {
                if env.count("POST", &path) > 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(
                env.sandbox.messages(phone.e164()).len(),
                1,
                "the timed-out send did go out, once"
            );
        } else {
            assert!(env.sandbox.messages(phone.e164()).is_empty());
        }
        assert_eq!(env.count("POST", &path), 1, "{err}");
    }
    assert!(env.sandbox.pending_faults().is_empty());

    // A PIN check uses the PIN up: a 503 without Retry-After may have been processed (a
    // proxy's, after forwarding): not retried, its outcome unknown.
    let handle = env.started(StartRequest::sms(phone(6_100_000))).await;
    let path = env.auth_path(&handle.reference);
    env.sandbox.inject_fault(
        Fault::new(
            Provider::Verigator,
            FaultAction::Status {
                status: 503,
                body: None,
            },
        )
        .method("PUT")
        .path(&path),
    );
    let err = env
        .verifier
        .check_code(&handle, &env.sms_code(&handle))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(env.count("PUT", &path), 1);
    // Refused before processing (503, then 429, with Retry-After): retried, and the PIN still
    // works.
    for refusal in [
        FaultAction::ServiceUnavailable {
            retry_after_secs: 0,
        },
        FaultAction::RateLimited {
            retry_after_secs: 0,
        },
    ] {
        env.sandbox.inject_fault(
            Fault::new(Provider::Verigator, refusal)
                .method("PUT")
                .path(&path),
        );
    }
    let outcome = env.check_sent(&handle).await;
    assert!(outcome.is_verified());
    assert_eq!(env.count("PUT", &path), 4);
}

#[tokio::test]
async fn a_lost_answer_to_the_right_pin_is_outcome_unknown() {
    let env = Env::with_http(16, |b| {
        b.timeouts(Timeouts::default().with_attempt(Duration::from_millis(250)))
    })
    .await;
    let handle = env.started(StartRequest::sms(phone(1_600_016))).await;
    let path = env.auth_path(&handle.reference);
    env.sandbox.inject_fault(
        Fault::new(Provider::Verigator, FaultAction::Delay { ms: 1_000 })
            .method("PUT")
            .path(&path),
    );
    let err = env
        .verifier
        .check_code(&handle, &env.sms_code(&handle))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert!(!err.is_retryable());
    // The sandbox logs the delayed request when it takes effect, then holds its answer back; a
    // retry would have been logged too (undelayed) by the time the wait ends.
    for _ in 0..100 {
        if env.count("PUT", &path) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(env.count("PUT", &path), 1, "exactly one verify request");
    // The sandbox did use the PIN: checking it again is a rejection, which is why the lost
    // answer must not be retried.
    let again = env.check_sent(&handle).await;
    assert!(again.rejection().is_some(), "{again:?}");
}

#[tokio::test]
async fn users_are_registered_first_and_found_when_they_exist() {
    let env = Env::start(17).await;
    let users = env.users_path();
    // A new phone: register, authenticate; no listing.
    let new = phone(1_700_017);
    let first = env.started(StartRequest::sms(new.clone())).await;
    assert_eq!(
        (env.count("POST", &users), env.count("GET", &users)),
        (1, 0)
    );
    assert_eq!(env.count("POST", &env.auth_path(&first.reference)), 1);
    // The same phone again: the cached user, no user request.
    let again = env.started(StartRequest::sms(new.clone())).await;
    assert_eq!(again.reference, first.reference);
    assert_eq!(
        (env.count("POST", &users), env.count("GET", &users)),
        (1, 0)
    );

    // A phone another client registered: 409, then the streamed listing, then cached.
    let other = VerigatorBuilder::sandbox(&env.sandbox.base_url())
        .service_id(env.service_id())
        .build()
        .unwrap();
    let theirs = phone(1_700_018);
    let registered = other.user_for(&theirs).await.unwrap();
    let before = env.count("POST", &users);
    let handle = env.started(StartRequest::sms(theirs.clone())).await;
    assert_eq!(handle.reference, registered.id);
    assert_eq!(env.count("POST", &users), before + 1, "one 409");
    assert_eq!(env.count("GET", &users), 1, "one listing");
    env.verifier
        .start(&StartRequest::sms(theirs))
        .await
        .unwrap();
    assert_eq!(env.count("GET", &users), 1, "cached since");

    // Deleted behind the verifier's back: the cached id answers 404, the user is registered
    // again, and one PIN goes out.
    env.verifier
        .client()
        .delete_user(env.service_id(), &first.reference)
        .await
        .unwrap();
    let sent_before = env.sandbox.messages(new.e164()).len();
    let renewed = env.started(StartRequest::sms(new.clone())).await;
    assert_ne!(renewed.reference, first.reference);
    assert_eq!(env.sandbox.messages(new.e164()).len(), sent_before + 1);
    let outcome = env.check_sent(&renewed).await;
    assert!(outcome.is_verified());
}

#[tokio::test]
async fn a_service_past_the_response_cap_still_works() {
    let env = Env::start(18).await;
    // 20,000 users: a listing of about 2 MiB, twice the buffered cap.
    let seeded: Vec<(String, PhoneNumber)> = (0..20_000)
        .map(|i| {
            let phone = phone(1_800_000 + i);
            (phone.e164().to_owned(), phone)
        })
        .collect();
    let last = seeded.last().unwrap().1.clone();
    env.sandbox
        .seed_verigator_users(env.service_id(), seeded)
        .unwrap();
    let err = env
        .verifier
        .client()
        .list_users(env.service_id())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    // The last-registered user, found through the streamed listing.
    let handle = env.started(StartRequest::sms(last.clone())).await;
    let outcome = env.check_sent(&handle).await;
    assert!(outcome.is_verified());
    assert_eq!(env.count("GET", &env.users_path()), 2);
    // A new phone in the large service: no listing.
    env.verifier
        .start(&StartRequest::sms(phone(1_900_000)))
        .await
        .unwrap();
    assert_eq!(env.count("GET", &env.users_path()), 2);
}

#[tokio::test]
async fn the_typed_client_administers_services_and_users() {
    let env = Env::start(7).await;
    let client = env.verifier.client();
    let sid = env.service_id();

    let service = client.get_service(sid).await.unwrap();
    assert_eq!(service.name.as_deref(), Some("Example Shop"));
    assert!(service.ctime.is_some());
    let duplicate = client
        .create_service("shop.example", "Again")
        .await
        .unwrap_err();
    assert_eq!(duplicate.kind(), ErrorKind::Conflict);

    let user = client
        .create_user(sid, "alice", &phone(7_000_007))
        .await
        .unwrap();
    assert_eq!(user.id_in_service.as_deref(), Some("alice"));
    let taken = client
        .create_user(sid, "alice", &phone(7_000_008))
        .await
        .unwrap_err();
    assert_eq!(taken.kind(), ErrorKind::Conflict);
    assert_eq!(client.get_user(sid, &user.id).await.unwrap(), user);
    let started = client
        .start_auth(sid, &user.id, AuthMethod::Totp)
        .await
        .unwrap();
    assert_eq!(started.method, Some(AuthMethod::Sms), "alice has no app");

    client.delete_user(sid, &user.id).await.unwrap();
    let gone = client.get_user(sid, &user.id).await.unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);
    assert!(client.list_users(sid).await.unwrap().users.is_empty());

    client.delete_service(sid).await.unwrap();
    let gone = client.get_service(sid).await.unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);
    let err = env
        .verifier
        .start(&StartRequest::sms(phone(7_000_009)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let intruder = VerigatorBuilder::sandbox(&env.sandbox.base_url())
        .password("not-the-password")
        .build_client()
        .unwrap();
    let refused = intruder.list_users(sid).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unauthorized);
    assert_eq!(refused.http_status(), Some(401));
}
