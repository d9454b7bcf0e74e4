//! Credentials never reach `Debug`, `Display`, errors or logs, even when the provider echoes
//! them back. In its own test binary: `tracing`'s per-callsite interest cache makes a
//! thread-local subscriber miss events when other tests run the same code concurrently.

use std::io::Write;
use std::sync::{Arc, Mutex};

use phone_verify_core::{Code, ErrorKind, PhoneNumber, PhoneVerifier, StartRequest};
use phone_verify_verigator::{AuthMethod, VerigatorBuilder};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SID: &str = "0c9b2d4e-1f3a-4b5c-8d6e-7f8091a2b3c4";
const UID: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
const USERNAME: &str = "canary-user";
const PASSWORD: &str = "canary-pass";
const SERVICE_AUTH: &str = "canary-user:canary-pass";

fn phone() -> PhoneNumber {
    PhoneNumber::parse("+37251234567").unwrap()
}

fn users_path() -> String {
    format!("/v1/service/service/{SID}/users")
}

fn auth_path() -> String {
    format!("/v1/service/service/{SID}/users/{UID}/auth")
}

fn expect(verb: &str, p: &str) -> wiremock::MockBuilder {
    Mock::given(method(verb)).and(path(p))
}

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
async fn credentials_never_leak() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    // A provider that echoes the credentials back, in errors and in garbage.
    let echo = format!("wrong credentials {SERVICE_AUTH} for {USERNAME} / {PASSWORD}");
    expect("GET", &users_path())
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({ "message": echo })))
        .mount(&server)
        .await;
    expect("PUT", &auth_path())
        .respond_with(ResponseTemplate::new(200).set_body_string(echo.clone()))
        .mount(&server)
        .await;
    expect("POST", &auth_path())
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({ "message": echo })))
        .mount(&server)
        .await;

    let builder = VerigatorBuilder::new(USERNAME, PASSWORD)
        .base_url(&format!("{}/v1", server.uri()))
        .service_id(SID);
    let config = builder.config().unwrap();
    let verifier = builder.build().unwrap();
    let client = verifier.client().clone();
    // What `Debug` does show: where requests go.
    let debug = format!("{client:?}");
    assert!(debug.starts_with("VerigatorClient {"), "{debug}");
    assert!(
        debug.contains(&server.address().port().to_string()),
        "{debug}"
    );
    let mut shown = vec![
        format!("{builder:?}"),
        format!("{config:?}"),
        format!("{verifier:?}"),
        format!("{client:?}"),
    ];
    let code = Code::new("123456").unwrap();
    let errors = [
        client.list_users(SID).await.map(drop).unwrap_err(),
        client
            .verify_pin(SID, UID, &code, None)
            .await
            .map(drop)
            .unwrap_err(),
        client
            .start_auth(SID, UID, AuthMethod::Sms)
            .await
            .map(drop)
            .unwrap_err(),
        verifier
            .start(&StartRequest::sms(phone()))
            .await
            .map(drop)
            .unwrap_err(),
    ];
    assert_eq!(errors[0].kind(), ErrorKind::Unauthorized);
    // An unreadable 200 to a PIN check: Verigator took it, the PIN's fate is unknown.
    assert_eq!(errors[1].kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(errors[2].kind(), ErrorKind::MaybeSent);
    for err in &errors {
        shown.push(format!("{err} {err:?}"));
    }
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("phone_verify.http") && logged.contains("list-users"),
        "the HTTP layer's spans were captured: {logged}"
    );
    shown.push(logged);
    for text in shown {
        assert!(!text.contains("canary"), "a credential leaked: {text}");
    }
    // The requests did carry them.
    let received = server.received_requests().await.unwrap();
    assert!(!received.is_empty());
    for request in received {
        assert_eq!(request.headers.get("x-service-auth").unwrap(), SERVICE_AUTH);
    }
}
