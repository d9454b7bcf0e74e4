//! Credentials and phone numbers in `Debug`, errors and logs. Its own test binary, so that no
//! parallel test shares `tracing`'s global callsite state.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use phone_verify_core::http::{HttpConfig, RetryPolicy};
use phone_verify_core::kit::{BaseUrl, HttpClient, HttpRequest, Operation};
use phone_verify_core::secrecy::SecretString;
use phone_verify_core::{PhoneNumber, ProviderId};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const CANARY: &str = "canary-7f3a9c-SECRET";

/// A `tracing` writer that collects everything logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_canary_credential_never_appears_in_debug_errors_or_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(path("/v1/send"))
        .respond_with(ResponseTemplate::new(401).set_body_string(format!("bad key {CANARY}")))
        .mount(&server)
        .await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let config = HttpConfig::default()
        .with_retry(RetryPolicy::default().with_backoff(Duration::ZERO, Duration::ZERO));
    let client = HttpClient::new(ProviderId::new_static("acme"), config).unwrap();
    let base = BaseUrl::parse(&format!("{}/v1", server.uri())).unwrap();
    let key = SecretString::from(CANARY);
    let phone = PhoneNumber::parse("+905321234567").unwrap();
    let request = HttpRequest::post(Operation::send("send-otp"), base.join("send"))
        .secret_header("x-api-key", &key)
        .unwrap()
        .json(&serde_json::json!({"phone": phone.e164()}))
        .unwrap()
        .phone(&phone);
    let mut shown = format!("{request:?} {client:?}");
    let response = client.execute(request).await.unwrap();
    write!(shown, "{response:?}").unwrap();
    let err = response.json::<serde_json::Value>().unwrap_err();
    write!(shown, "{err} {err:?}").unwrap();
    let check = HttpRequest::post(Operation::read("check"), base.join("check"))
        .bearer(&key)
        .unwrap();
    let _ = client.execute(check.phone(&phone)).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("phone_verify.http"),
        "spans are emitted: {logs}"
    );
    assert!(
        logs.contains("+90********67"),
        "the phone is logged masked: {logs}"
    );
    assert!(
        !logs.contains("5321234567"),
        "the phone is never logged in full"
    );
    for text in [&shown, &logs] {
        assert!(!text.contains(CANARY), "canary leaked: {text}");
    }
}
