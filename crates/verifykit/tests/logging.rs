//! The server key, codes and phones in logs. Its own test binary: `tracing` caches callsite
//! interest globally, so a thread-local subscriber is unreliable beside parallel tests.

mod common;

use phone_verify_core::{
    Channel, CheckRequest, ErrorKind, PhoneVerifier, PhoneVerifierExt, RejectReason, SessionId,
    SessionResolver, StartRequest,
};
use phone_verify_testkit::logs::LogCapture;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::*;

#[tokio::test]
async fn tracing_output_has_no_key_no_code_and_masked_phones() {
    let server = MockServer::start().await;
    endpoint("POST", "/web-rest/v1.0/send-otp")
        .respond_with(ok(201, json!({"reference": "ref-t", "timeout": 300})))
        .mount(&server)
        .await;
    endpoint("POST", "/web-rest/v1.0/check-otp")
        .respond_with(vk_error(403, "403014", "OTP code is invalid.", "R13"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/web-rest/v1.0/check"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    endpoint("POST", "/api/v1.0/result")
        .respond_with(ok(
            200,
            json!({"phoneNumber": PHONE, "validationType": "otp"}),
        ))
        .mount(&server)
        .await;

    let capture = LogCapture::new();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let verifier = verifier(&server);
    let handle = verifier
        .start(&StartRequest::sms(phone()).context(context()))
        .await
        .unwrap();
    let outcome = verifier
        .check(
            &handle,
            &CheckRequest::code(code("918273")).context(context()),
        )
        .await
        .unwrap();
    assert_eq!(rejection(&outcome).0, RejectReason::WrongCode);
    let polled = verifier
        .poll(&reverse_handle("r", Channel::WhatsApp))
        .await
        .unwrap_err();
    assert_eq!(polled.kind(), ErrorKind::ProviderUnavailable);
    verifier
        .resolve(&SessionId::new("QWERTY123456").unwrap(), &context())
        .await
        .unwrap();
    drop(guard);

    let text = capture.text();
    assert!(
        text.contains("send-otp"),
        "the operations are traced: {text}"
    );
    assert!(text.contains("retrying"), "retries are traced: {text}");
    assert!(
        text.contains("+90********67"),
        "phones appear masked: {text}"
    );
    assert_no_key(&text);
    assert!(
        !text.contains(PHONE_DIGITS),
        "a full phone number leaked: {text}"
    );
    assert!(!text.contains("918273"), "the code leaked: {text}");
}
