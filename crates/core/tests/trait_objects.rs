//! `Arc<dyn PhoneVerifier>` and `Arc<dyn SessionResolver>` driven with the mockall mocks, the
//! way an application unit-tests its own code, naming mockall's items through the crate's
//! re-export as an application does.
#![cfg(feature = "mock")]

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::mockall::Sequence;
use phone_verify_core::mockall::predicate::always;
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, Code, Error, ErrorKind, MockPhoneVerifier,
    MockSessionResolver, PhoneNumber, PhoneVerifier, PhoneVerifierExt, ProviderId, RejectReason,
    Rejection, ResolvedSession, SessionId, SessionResolver, SessionResolverExt, StartRequest,
    Verification, Verified,
};

/// Application code under test: it only knows the trait objects.
async fn sign_up(
    verifier: Arc<dyn PhoneVerifier>,
    phone: &str,
    typed: &str,
) -> Result<bool, Error> {
    let phone: PhoneNumber = phone.parse()?;
    let handle = verifier.start(&StartRequest::sms(phone)).await?;
    let stored = handle.to_json()?;
    let handle = Verification::from_json(&stored)?;
    let outcome = verifier.check_code(&handle, &Code::new(typed)?).await?;
    Ok(outcome.is_verified())
}

fn handle() -> Verification {
    Verification::new(ProviderId::new_static("mock"), "ref-1", Channel::Sms)
}

#[tokio::test]
async fn application_code_runs_against_the_mock_through_a_trait_object() {
    let mut mock = MockPhoneVerifier::new();
    mock.expect_start()
        .withf(|request| {
            request.channel == Channel::Sms
                && request.phone.as_ref().map(PhoneNumber::e164) == Some("+905321234567")
        })
        .times(1)
        .returning(|_| Ok(handle()));
    mock.expect_check()
        .withf(|h, request| {
            h.reference == "ref-1" && request.code.as_ref().map(Code::expose) == Some("123456")
        })
        .times(1)
        .returning(|_, _| Ok(CheckOutcome::Verified(Verified::new(Channel::Sms))));
    let verifier: Arc<dyn PhoneVerifier> = Arc::new(mock);
    assert!(
        sign_up(verifier, "+90 532 123 45 67", "123 456")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_wrong_code_is_an_outcome_and_bad_input_never_reaches_the_verifier() {
    let mut mock = MockPhoneVerifier::new();
    mock.expect_start().times(1).returning(|_| Ok(handle()));
    mock.expect_check().times(1).returning(|_, _| {
        Ok(CheckOutcome::Rejected(Rejection::new(
            RejectReason::WrongCode,
        )))
    });
    let verifier: Arc<dyn PhoneVerifier> = Arc::new(mock);
    assert!(
        !sign_up(verifier.clone(), "+905321234567", "000000")
            .await
            .unwrap()
    );
    let err = sign_up(verifier, "not a phone", "123456")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

/// A verifier whose reverse flow is pending `polls` times, then verified.
fn completed_after(polls: usize) -> Arc<dyn PhoneVerifier> {
    let mut mock = MockPhoneVerifier::new();
    let mut seq = Sequence::new();
    mock.expect_check()
        .times(polls)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(CheckOutcome::Pending));
    mock.expect_check()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(CheckOutcome::Verified(Verified::new(Channel::WhatsApp))));
    Arc::new(mock)
}

#[tokio::test(start_paused = true)]
async fn wait_for_outcome_polls_until_the_reverse_flow_completes() {
    let verifier = completed_after(2);
    let outcome = verifier
        .wait_for_outcome(&handle(), Duration::from_secs(2), Duration::from_secs(60))
        .await
        .unwrap();
    assert!(outcome.is_verified());
}

#[tokio::test(start_paused = true)]
async fn wait_for_outcome_times_out() {
    let mut mock = MockPhoneVerifier::new();
    mock.expect_check()
        .returning(|_, _| Ok(CheckOutcome::Pending));
    let verifier: Arc<dyn PhoneVerifier> = Arc::new(mock);
    let err = verifier
        .wait_for_outcome(&handle(), Duration::from_secs(2), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[tokio::test(start_paused = true)]
async fn wait_for_outcome_polls_at_the_timeout_itself_and_not_after() {
    // Polls at 0, 2, 4 and 6 s: the last at the timeout itself; the next would be past it.
    let mut mock = MockPhoneVerifier::new();
    mock.expect_check()
        .times(4)
        .returning(|_, _| Ok(CheckOutcome::Pending));
    let verifier: Arc<dyn PhoneVerifier> = Arc::new(mock);
    let started = tokio::time::Instant::now();
    let err = verifier
        .wait_for_outcome(&handle(), Duration::from_secs(2), Duration::from_secs(6))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(started.elapsed(), Duration::from_secs(6));
}

#[tokio::test(start_paused = true)]
async fn wait_for_outcome_with_a_context_sends_it_with_every_poll() {
    let ip: std::net::IpAddr = "203.0.113.7".parse().unwrap();
    let mut mock = MockPhoneVerifier::new();
    let mut seq = Sequence::new();
    mock.expect_check()
        .withf(move |_, request| request.code.is_none() && request.context.end_user_ip == Some(ip))
        .times(2)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(CheckOutcome::Pending));
    mock.expect_check()
        .withf(move |_, request| request.context.end_user_ip == Some(ip))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(CheckOutcome::Verified(Verified::new(Channel::WhatsApp))));
    let verifier: Arc<dyn PhoneVerifier> = Arc::new(mock);
    let context = phone_verify_core::RequestContext::new().end_user_ip(ip);
    let outcome = verifier
        .wait_for_outcome_with(
            &handle(),
            &context,
            Duration::from_secs(2),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(outcome.is_verified());
}

#[tokio::test(start_paused = true)]
async fn wait_for_outcome_stops_at_the_handles_expiry() {
    let mut mock = MockPhoneVerifier::new();
    // Polls at 0, 2, 4 and 6 s, then once more at the expiry (7 s): never past it.
    mock.expect_check()
        .times(5)
        .returning(|_, _| Ok(CheckOutcome::Pending));
    let verifier: Arc<dyn PhoneVerifier> = Arc::new(mock);
    let expiring =
        handle().with_expires_at(time::OffsetDateTime::now_utc() + time::Duration::seconds(7));
    let started = tokio::time::Instant::now();
    let outcome = verifier
        .wait_for_outcome(&expiring, Duration::from_secs(2), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        outcome.rejection().map(|r| r.reason),
        Some(RejectReason::Expired)
    );
    assert!(
        started.elapsed() <= Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn wait_for_outcome_takes_waits_past_what_the_clock_holds() {
    // A timeout of Duration::MAX: polled until the flow completes, days later.
    let verifier = completed_after(3);
    let day = Duration::from_secs(86_400);
    let started = tokio::time::Instant::now();
    let outcome = verifier
        .wait_for_outcome(&handle(), day, Duration::MAX)
        .await
        .unwrap();
    assert!(outcome.is_verified());
    assert_eq!(started.elapsed(), 3 * day);

    // An interval of Duration::MAX: the next poll is at the handle's expiry.
    let mut mock = MockPhoneVerifier::new();
    mock.expect_check()
        .times(2)
        .returning(|_, _| Ok(CheckOutcome::Pending));
    let verifier: Arc<dyn PhoneVerifier> = Arc::new(mock);
    let expiring =
        handle().with_expires_at(time::OffsetDateTime::now_utc() + time::Duration::seconds(7));
    let outcome = verifier
        .wait_for_outcome(&expiring, Duration::MAX, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(
        outcome.rejection().map(|r| r.reason),
        Some(RejectReason::Expired)
    );
}

#[tokio::test]
async fn forwarding_impls_and_capabilities() {
    let mut mock = MockPhoneVerifier::new();
    mock.expect_provider()
        .return_const(ProviderId::new_static("mock"));
    mock.expect_capabilities()
        .return_const(Capabilities::new().with_otp_channel(Channel::Sms));
    let boxed: Box<dyn PhoneVerifier> = Box::new(mock);
    let shared: Arc<Box<dyn PhoneVerifier>> = Arc::new(boxed);
    assert_eq!(shared.provider().as_str(), "mock");
    assert!(shared.capabilities().supports(&Channel::Sms));
    assert!(format!("{shared:?}").contains("MockPhoneVerifier"));
}

#[tokio::test]
async fn session_resolver_trait_object() {
    let mut mock = MockSessionResolver::new();
    mock.expect_resolve()
        .with(always(), always())
        .times(1)
        .returning(|session, _| {
            assert_eq!(session.as_str(), "QWERTY123456");
            Ok(ResolvedSession::new(
                "+905321234567".parse().unwrap(),
                Channel::WhatsApp,
                ProviderId::new_static("mock"),
            ))
        });
    let resolver: Arc<dyn SessionResolver> = Arc::new(mock);
    let phone = resolver
        .resolve_session(&SessionId::new("QWERTY123456").unwrap())
        .await
        .unwrap();
    assert_eq!(phone.phone.e164(), "+905321234567");
}
