//! Wire-exact tests of what a check's error keeps of a status Twilio answered with: a status
//! that is not a status name (a credential echoed, a phone number, a huge text) never reaches
//! the error's `Display` or `Debug` as it was sent, whatever `valid` says, and the outcome
//! stays the `OutcomeUnknown` it was.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use phone_verify_core::http::{ConfigureHttp, RetryPolicy, Timeouts};
use phone_verify_core::{
    Channel, Code, Error, ErrorKind, PhoneNumber, PhoneVerifierExt, Verification,
};
use phone_verify_twilio::{EXTRA_SERVICE_SID, Twilio, TwilioBuilder};
use serde_json::{Value, json};
use time::OffsetDateTime;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
/// An auth token as Twilio issues them: 32 hex digits.
const TOKEN: &str = "5f3c9a1e7b2d4e86c1e9f7a3b5d2ac48";
const SERVICE: &str = "VA0123456789abcdef0123456789abcdef";
const VE: &str = "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const PHONE: &str = "+15017122661";
const REQUEST_ID: &str = "RQbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn verifier(server: &MockServer) -> Twilio {
    TwilioBuilder::new(ACCOUNT, TOKEN)
        .base_url(&format!("{}/v2", server.uri()))
        .service_sid(SERVICE)
        .retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .timeouts(Timeouts::default().with_attempt(Duration::from_secs(2)))
        .build()
        .unwrap()
}

fn handle() -> Verification {
    Verification::new(phone_verify_twilio::PROVIDER, VE, Channel::Sms)
        .with_phone(PhoneNumber::parse(PHONE).unwrap())
        .with_expires_at(OffsetDateTime::from(SystemTime::now()) + Duration::from_secs(600))
        .with_extra(EXTRA_SERVICE_SID, SERVICE)
}

/// Checks `123456` against a server answering the check with `answer` (and the read-back of
/// the lost answer with no attempt), wire-exact, and returns the error.
async fn check_answered(answer: Value) -> Error {
    let server = MockServer::start().await;
    let basic = format!("Basic {}", BASE64.encode(format!("{ACCOUNT}:{TOKEN}")));
    Mock::given(method("POST"))
        .and(path(format!("/v2/Services/{SERVICE}/VerificationCheck")))
        .and(header("authorization", basic.as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(format!("Code=123456&VerificationSid={VE}")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("twilio-request-id", REQUEST_ID)
                .set_body_json(answer),
        )
        .expect(1)
        .mount(&server)
        .await;
    // The read-back of the lost answer finds no attempt: the error stands.
    Mock::given(method("GET"))
        .and(path("/v2/Attempts"))
        .and(header("authorization", basic.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"attempts": []})))
        .expect(1)
        .mount(&server)
        .await;
    let err = verifier(&server)
        .check_code(&handle(), &Code::new("123456").unwrap())
        .await
        .unwrap_err();
    server.verify().await;
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(err.request_id(), Some(REQUEST_ID), "{err}");
    err
}

/// The error's `Display` and `Debug`, together.
fn shown(err: &Error) -> String {
    format!("{err}\n{err:?}")
}

#[tokio::test]
async fn an_echoed_credential_as_the_status_is_never_shown() {
    for valid in [false, true] {
        let err = check_answered(json!({"sid": VE, "status": TOKEN, "valid": valid})).await;
        let shown = shown(&err);
        assert!(!shown.contains(TOKEN), "valid {valid}: {shown}");
        // Not a part of it either: the first 16 and the last 16 digits.
        assert!(!shown.contains(&TOKEN[..16]), "valid {valid}: {shown}");
        assert!(!shown.contains(&TOKEN[16..]), "valid {valid}: {shown}");
        for secret in [ACCOUNT, TOKEN] {
            assert!(!shown.contains(secret), "valid {valid}: {shown}");
        }
    }
}

#[tokio::test]
async fn a_phone_number_as_the_status_is_not_shown_in_full() {
    for valid in [false, true] {
        let err = check_answered(json!({"sid": VE, "status": PHONE, "valid": valid})).await;
        let shown = shown(&err);
        assert!(!shown.contains(PHONE), "valid {valid}: {shown}");
        assert!(!shown.contains("50171226"), "valid {valid}: {shown}");
    }
}

#[tokio::test]
async fn a_huge_status_gives_a_bounded_message() {
    let huge = "a".repeat(100 * 1024);
    for valid in [true, false] {
        let err = check_answered(json!({"sid": VE, "status": huge, "valid": valid})).await;
        let shown = shown(&err);
        assert!(shown.len() < 1024, "valid {valid}: {} bytes", shown.len());
        assert!(!shown.contains(&"a".repeat(33)), "valid {valid}: {shown}");
    }
}

#[tokio::test]
async fn a_status_name_is_still_shown() {
    // An undocumented status that reads as one is kept, to tell what Twilio said.
    let err = check_answered(json!({"sid": VE, "status": "mystery", "valid": false})).await;
    assert!(err.to_string().contains("\"mystery\""), "{err}");
    // A documented one answered with `valid: true` is named as Twilio writes it.
    let err =
        check_answered(json!({"sid": VE, "status": "max_attempts_reached", "valid": true})).await;
    assert!(err.to_string().contains("max_attempts_reached"), "{err}");
    assert!(err.to_string().contains("valid: true"), "{err}");
}
