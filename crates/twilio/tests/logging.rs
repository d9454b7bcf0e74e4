//! Credentials never reach `Debug`, `Display`, errors or logs, even when Twilio echoes them
//! back, and phones are masked in logs. In its own test binary: `tracing`'s per-callsite
//! interest cache makes a thread-local subscriber miss events when other tests run the same
//! code concurrently.

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use phone_verify_core::{Code, PhoneNumber, PhoneVerifier, PhoneVerifierExt, StartRequest};
use phone_verify_twilio::TwilioBuilder;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "canary-token";
const SERVICE: &str = "VA0123456789abcdef0123456789abcdef";
const VE: &str = "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const PHONE: &str = "+15017122661";

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn credentials_and_phones_never_leak() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    // Twilio answering with the credentials and the number echoed back.
    let echo = format!("wrong credentials {ACCOUNT}:{TOKEN} for {PHONE}");
    Mock::given(method("POST"))
        .and(path(format!("/v2/Services/{SERVICE}/Verifications")))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": 20003, "message": echo, "status": 401})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v2/Services/{SERVICE}/VerificationCheck")))
        .respond_with(ResponseTemplate::new(200).set_body_string(echo.clone()))
        .mount(&server)
        .await;

    let builder = TwilioBuilder::new(ACCOUNT, TOKEN)
        .base_url(&format!("{}/v2", server.uri()))
        .service_sid(SERVICE);
    let verifier = builder.build().unwrap();
    let phone = PhoneNumber::parse(PHONE).unwrap();
    let start_err = verifier
        .start(&StartRequest::sms(phone.clone()))
        .await
        .unwrap_err();
    let handle = phone_verify_core::Verification::new(
        verifier.provider(),
        VE,
        phone_verify_core::Channel::Sms,
    )
    .with_phone(phone);
    let check_err = verifier
        .check_code(&handle, &Code::new("123456").unwrap())
        .await
        .unwrap_err();

    let basic = BASE64.encode(format!("{ACCOUNT}:{TOKEN}"));
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("create-verification"), "{logged}");
    let masked = PhoneNumber::parse(PHONE).unwrap().masked();
    assert!(
        logged.contains(&masked),
        "the phone is logged masked: {logged}"
    );
    // What `Debug` does show: which credentials, and where requests go.
    let config = format!("{:?}", builder.config().unwrap());
    assert!(config.contains("AuthToken(<redacted>)"), "{config}");
    let client = format!("{:?}", verifier.client());
    assert!(client.starts_with("TwilioClient {"), "{client}");
    assert!(client.contains(&server.uri()), "{client}");
    assert!(client.contains(SERVICE), "{client}");
    let shown = [
        format!("{builder:?}"),
        format!("{:?}", builder.config().unwrap()),
        format!("{verifier:?}"),
        format!("{start_err} {start_err:?}"),
        format!("{check_err} {check_err:?}"),
        logged,
    ];
    for text in shown {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains(&basic), "{text}");
        assert!(!text.contains("5017122661"), "{text}");
    }
}
