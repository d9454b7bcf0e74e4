//! Golden handles: the JSON of each channel's handle as this crate writes it, which
//! applications keep in their databases. Each must still be read, checked with exactly the same
//! request, and written back byte for byte by every later version.
//!
//! Never edit or remove a handle here: when the handle changes, add a new one beside them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use phone_verify_core::{Channel, Code, PhoneNumber, PhoneVerifierExt, Verification};
use phone_verify_twilio::TwilioBuilder;
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An SMS code.
const SMS: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"twilio","reference":"VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1","channel":"sms","phone":"+15017122661","created_at":"2015-07-30T20:00:00Z","expires_at":"2015-07-30T20:10:00Z","extras":{"service_sid":"VA0123456789abcdef0123456789abcdef"}}"#;

/// A WhatsApp code.
const WHATSAPP: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"twilio","reference":"VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2","channel":"whatsapp","phone":"+15017122661","created_at":"2015-07-30T20:00:00Z","expires_at":"2015-07-30T20:10:00Z","extras":{"service_sid":"VA0123456789abcdef0123456789abcdef"}}"#;

/// A code by voice call (Twilio's channel `call`).
const VOICE: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"twilio","reference":"VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3","channel":"voice","phone":"+15017122661","created_at":"2015-07-30T20:00:00Z","expires_at":"2015-07-30T20:10:00Z","extras":{"service_sid":"VA0123456789abcdef0123456789abcdef"}}"#;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "canary-token";
/// The service the handles name.
const SERVICE: &str = "VA0123456789abcdef0123456789abcdef";
/// The service the checking verifier is configured with: the handle's must win.
const OTHER_SERVICE: &str = "VAfedcba9876543210fedcba9876543210";
const PHONE: &str = "+15017122661";

/// Reads `json` and checks that it is written back byte for byte.
fn read(json: &str) -> Verification {
    let handle = Verification::from_json(json).unwrap();
    assert_eq!(handle.to_json().unwrap(), json);
    handle
}

#[tokio::test]
async fn every_channels_handle_checks_in_its_service() {
    for (json, sid, channel) in [
        (SMS, "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", Channel::Sms),
        (
            WHATSAPP,
            "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2",
            Channel::WhatsApp,
        ),
        (VOICE, "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3", Channel::Voice),
    ] {
        let server = MockServer::start().await;
        let basic = format!("Basic {}", BASE64.encode(format!("{ACCOUNT}:{TOKEN}")));
        Mock::given(method("POST"))
            .and(path(format!("/v2/Services/{SERVICE}/VerificationCheck")))
            .and(header("authorization", basic.as_str()))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string(format!("Code=123456&VerificationSid={sid}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "sid": sid, "service_sid": SERVICE, "account_sid": ACCOUNT, "to": PHONE,
                "status": "approved", "valid": true,
                "date_created": "2015-07-30T20:00:00Z", "date_updated": "2015-07-30T20:00:30Z"
            })))
            .expect(1)
            .mount(&server)
            .await;
        let verifier = TwilioBuilder::new(ACCOUNT, TOKEN)
            .base_url(&format!("{}/v2", server.uri()))
            .service_sid(OTHER_SERVICE)
            .build()
            .unwrap();
        let outcome = verifier
            .check_code(&read(json), &Code::new("123456").unwrap())
            .await
            .unwrap();
        let done = outcome.verified().expect("verified");
        assert_eq!(done.phone, Some(PhoneNumber::parse(PHONE).unwrap()));
        assert_eq!(done.channel, channel, "{sid}");
        server.verify().await;
    }
}
