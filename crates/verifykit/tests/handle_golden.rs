//! Golden handles: the JSON of each flow's handle as this crate writes it, which applications
//! keep in their databases. Each must still be read, checked with exactly the same request, and
//! written back byte for byte by every later version.
//!
//! Never edit or remove a handle here: when the handle changes, add a new one beside them.

use phone_verify_core::{Channel, CheckRequest, PhoneVerifier, SessionId, Verification};
use serde_json::json;
use wiremock::MockServer;

mod common;
use common::*;

/// `send-otp`, then `check-otp`.
const SMS_OTP: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verifykit","reference":"sms-ref-1","channel":"sms","phone":"+905321234567","created_at":"2026-11-22T18:00:00Z","expires_at":"2026-11-22T18:05:00Z","extras":{"code_length":6,"country_code":"TR","flow":"sms_otp"}}"#;

/// WhatsApp as OTP: `start` with a phone, then `check-whatsapp`.
const WHATSAPP_OTP: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verifykit","reference":"wa-otp-ref","channel":"whatsapp","phone":"+905321234567","created_at":"2026-11-22T18:00:00Z","expires_at":"2026-11-22T18:05:00Z","extras":{"flow":"whatsapp_otp"}}"#;

/// A reverse WhatsApp flow with a deeplink, polled with `check`.
const REVERSE_WHATSAPP: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verifykit","reference":"wa-rev-ref","channel":"whatsapp","created_at":"2026-11-22T18:00:00Z","expires_at":"2026-11-22T18:10:00Z","reverse":{"deeplink":"https://wa.me/905395744034?text=ABC"},"extras":{"app":"whatsapp","flow":"reverse"}}"#;

/// A reverse Telegram flow with a QR code, polled with `check`.
const REVERSE_TELEGRAM: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verifykit","reference":"tg-rev-ref","channel":"telegram","created_at":"2026-11-22T18:00:00Z","expires_at":"2026-11-22T18:10:00Z","reverse":{"qr_code":"iVBORw0KGgo="},"extras":{"app":"telegram","flow":"reverse"}}"#;

/// Reads `json` and checks that it is written back byte for byte.
fn read(json: &str) -> Verification {
    let handle = Verification::from_json(json).unwrap();
    assert_eq!(handle.to_json().unwrap(), json);
    handle
}

#[tokio::test]
async fn an_sms_handle_checks_with_check_otp() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/web-rest/v1.0/check-otp",
        json!({
            "phoneNumber": PHONE, "countryCode": "TR", "reference": "sms-ref-1", "code": "918273"
        }),
        ok(
            200,
            json!({"validationStatus": true, "sessionId": "SMSSESSION1"}),
        ),
    )
    .await;
    let outcome = verifier(&server)
        .check(
            &read(SMS_OTP),
            &CheckRequest::code(code("918273")).context(context()),
        )
        .await
        .unwrap();
    let verified = outcome.verified().expect("verified");
    assert_eq!(verified.phone, Some(phone()));
    assert_eq!(verified.channel, Channel::Sms);
    assert_eq!(
        verified.session_id.as_ref().map(SessionId::as_str),
        Some("SMSSESSION1")
    );
    server.verify().await;
}

#[tokio::test]
async fn a_whatsapp_otp_handle_checks_with_check_whatsapp() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/web-rest/v1.0/check-whatsapp",
        json!({"reference": "wa-otp-ref", "code": "246810"}),
        ok(
            200,
            json!({"validationStatus": true, "sessionId": "WASESSION1"}),
        ),
    )
    .await;
    let outcome = verifier(&server)
        .check(
            &read(WHATSAPP_OTP),
            &CheckRequest::code(code("246810")).context(context()),
        )
        .await
        .unwrap();
    let verified = outcome.verified().expect("verified");
    assert_eq!(verified.phone, Some(phone()));
    assert_eq!(verified.channel, Channel::WhatsApp);
    server.verify().await;
}

#[tokio::test]
async fn reverse_handles_are_polled_with_check() {
    for (json, reference, channel) in [
        (REVERSE_WHATSAPP, "wa-rev-ref", Channel::WhatsApp),
        (REVERSE_TELEGRAM, "tg-rev-ref", Channel::Telegram),
    ] {
        let server = MockServer::start().await;
        expect_post(
            &server,
            "/web-rest/v1.0/check",
            json!({"reference": reference}),
            ok(
                200,
                json!({"validationStatus": true, "sessionId": "REVSESSION1", "phoneNumber": "905321234567"}),
            ),
        )
        .await;
        let outcome = verifier(&server)
            .check(&read(json), &CheckRequest::poll().context(context()))
            .await
            .unwrap();
        let verified = outcome.verified().expect("verified");
        assert_eq!(verified.phone, Some(phone()), "{reference}");
        assert_eq!(verified.channel, channel);
        server.verify().await;
    }
}
