//! Golden handles: the JSON of each mode's and gateway's handle as this crate writes it, which
//! applications keep in their databases. Each must still be read, checked with exactly the same
//! request, and written back byte for byte by every later version.
//!
//! Never edit or remove a handle here: when the handle changes, add a new one beside them.

use phone_verify_core::{Channel, PhoneVerifierExt, SessionId, Verification};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer};

mod common;
use common::*;

/// Manual mode, a code by SMS.
const MANUAL_SMS: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verifik","reference":"674de8df21c72be3cc42b8a7","channel":"sms","phone":"+50762647737","created_at":"2024-12-02T17:05:36.788Z","expires_at":"2024-12-02T17:15:35Z","extras":{"country_code":"+507","mode":"manual","phone_gateway":"sms"}}"#;

/// Manual mode, a code by WhatsApp.
const MANUAL_WHATSAPP: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verifik","reference":"674de8df21c72be3cc42b8a7","channel":"whatsapp","phone":"+50762647737","created_at":"2024-12-02T17:05:36.788Z","expires_at":"2024-12-02T17:15:35Z","extras":{"country_code":"+507","mode":"manual","phone_gateway":"whatsapp"}}"#;

/// Project-flow mode, a code by SMS.
const PROJECT_SMS: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verifik","reference":"674de8df21c72be3cc42b8a7","channel":"sms","phone":"+50762647737","created_at":"2024-12-02T17:05:36.788Z","expires_at":"2024-12-02T17:15:35Z","extras":{"country_code":"+507","mode":"project_flow","phone_gateway":"sms","project":"507f1f77bcf86cd799439011","project_flow":"507f1f77bcf86cd799439015"}}"#;

/// Project-flow mode, a code by WhatsApp.
const PROJECT_WHATSAPP: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verifik","reference":"674de8df21c72be3cc42b8a7","channel":"whatsapp","phone":"+50762647737","created_at":"2024-12-02T17:05:36.788Z","expires_at":"2024-12-02T17:15:35Z","extras":{"country_code":"+507","mode":"project_flow","phone_gateway":"whatsapp","project":"507f1f77bcf86cd799439011","project_flow":"507f1f77bcf86cd799439015"}}"#;

/// Reads `json` and checks that it is written back byte for byte.
fn read(json: &str) -> Verification {
    let handle = Verification::from_json(json).unwrap();
    assert_eq!(handle.to_json().unwrap(), json);
    handle
}

#[tokio::test]
async fn every_handle_checks_with_its_phone_gateway_and_project() {
    let project = json!({"project": PROJECT, "projectFlow": "507f1f77bcf86cd799439015"});
    let cases: [(&str, &str, Value, Channel); 4] = [
        (MANUAL_SMS, "sms", json!({}), Channel::Sms),
        (MANUAL_WHATSAPP, "whatsapp", json!({}), Channel::WhatsApp),
        (PROJECT_SMS, "sms", project.clone(), Channel::Sms),
        (PROJECT_WHATSAPP, "whatsapp", project, Channel::WhatsApp),
    ];
    for (json, gateway, more, channel) in cases {
        let server = MockServer::start().await;
        let mut body = json!({
            "phone": "62647737", "countryCode": "+507", "otp": 987_654, "phoneGateway": gateway
        });
        if let (Value::Object(body), Value::Object(more)) = (&mut body, more) {
            body.extend(more);
        }
        Mock::given(method("PUT"))
            .and(path("/v2/phone-validations"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(body_json(body))
            .respond_with(json_response(200, &validated("validation")))
            .expect(1)
            .mount(&server)
            .await;
        // A fresh verifier in manual mode: the handle says where to check.
        let outcome = verifier(&server)
            .check_code(&read(json), &code("987654"))
            .await
            .unwrap();
        let verified = outcome.verified().expect("verified");
        assert_eq!(verified.phone, Some(panama()));
        assert_eq!(verified.channel, channel, "{json}");
        assert_eq!(
            verified.session_id.as_ref().map(SessionId::as_str),
            Some(ID)
        );
        server.verify().await;
    }
}
