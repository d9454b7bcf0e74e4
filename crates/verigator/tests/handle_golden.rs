//! Golden handles: the JSON of each method's handle as this crate writes it, which applications
//! keep in their databases. Each must still be read, checked with exactly the same request, and
//! written back byte for byte by every later version.
//!
//! Never edit or remove a handle here: when the handle changes, add a new one beside them.

use phone_verify_core::{Channel, Code, PhoneNumber, PhoneVerifierExt, Verification};
use phone_verify_verigator::VerigatorBuilder;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A PIN by SMS.
const SMS: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verigator","reference":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","channel":"sms","phone":"+37251234567","created_at":"2026-11-22T18:00:00Z","extras":{"method":"sms","service_id":"0c9b2d4e-1f3a-4b5c-8d6e-7f8091a2b3c4","user_id":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"}}"#;

/// A TOTP code from the Verigator app.
const TOTP: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verigator","reference":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","channel":"totp","phone":"+37251234567","created_at":"2026-11-22T18:00:00Z","extras":{"method":"totp","service_id":"0c9b2d4e-1f3a-4b5c-8d6e-7f8091a2b3c4","user_id":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"}}"#;

/// TOTP asked for, an SMS sent instead (the user has no app set up).
const TOTP_FELL_BACK_TO_SMS: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verigator","reference":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","channel":"sms","phone":"+37251234567","created_at":"2026-11-22T18:00:00Z","extras":{"method":"sms","requested_method":"totp","service_id":"0c9b2d4e-1f3a-4b5c-8d6e-7f8091a2b3c4","user_id":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"}}"#;

/// TOTP asked for, and Verigator's answer named no method: the PIN is checked alone.
const TOTP_METHOD_UNKNOWN: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verigator","reference":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","channel":"totp","phone":"+37251234567","created_at":"2026-11-22T18:00:00Z","extras":{"requested_method":"totp","service_id":"0c9b2d4e-1f3a-4b5c-8d6e-7f8091a2b3c4","user_id":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"}}"#;

/// The service the handles name.
const SERVICE: &str = "0c9b2d4e-1f3a-4b5c-8d6e-7f8091a2b3c4";
/// The service the checking verifier is configured with: the handle's must win.
const OTHER_SERVICE: &str = "9f8e7d6c-0000-4000-8000-000000000001";
const USER: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";

/// Reads `json` and checks that it is written back byte for byte.
fn read(json: &str) -> Verification {
    let handle = Verification::from_json(json).unwrap();
    assert_eq!(handle.to_json().unwrap(), json);
    handle
}

#[tokio::test]
async fn every_handle_checks_its_users_pin_with_its_method() {
    let cases = [
        (
            SMS,
            json!({"token": "123456", "method": "sms"}),
            Channel::Sms,
        ),
        (
            TOTP,
            json!({"token": "123456", "method": "totp"}),
            Channel::Totp,
        ),
        (
            TOTP_FELL_BACK_TO_SMS,
            json!({"token": "123456", "method": "sms"}),
            Channel::Sms,
        ),
        (
            TOTP_METHOD_UNKNOWN,
            json!({"token": "123456"}),
            Channel::Totp,
        ),
    ];
    for (json, body, channel) in cases {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path(format!(
                "/v1/service/service/{SERVICE}/users/{USER}/auth"
            )))
            .and(header("x-service-auth", "canary-user:canary-pass"))
            .and(header("content-type", "application/json"))
            .and(body_json(body))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"verified": true})))
            .expect(1)
            .mount(&server)
            .await;
        let verifier = VerigatorBuilder::new("canary-user", "canary-pass")
            .base_url(&format!("{}/v1", server.uri()))
            .service_id(OTHER_SERVICE)
            .build()
            .unwrap();
        let outcome = verifier
            .check_code(&read(json), &Code::new("123456").unwrap())
            .await
            .unwrap();
        let done = outcome.verified().expect("verified");
        assert_eq!(
            done.phone,
            Some(PhoneNumber::parse("+37251234567").unwrap())
        );
        assert_eq!(done.channel, channel, "{json}");
        server.verify().await;
    }
}
