//! The token and the phone in `Debug`, errors and logs. Its own test binary: `tracing` caches
//! callsite interest globally, so a thread-local subscriber is unreliable beside parallel tests.

mod common;

use std::sync::{Arc, Mutex};

use phone_verify_core::{PhoneVerifier, PhoneVerifierExt, StartRequest};
use phone_verify_verifik::{CreateAppRegistration, VerifikPhone};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::*;

#[tokio::test]
async fn the_token_never_leaves_the_authorization_header() {
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = Arc::clone(&logs);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || Writer(Arc::clone(&sink)))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations/manual"))
        .respond_with(json_response(200, &created("sms", &json!({"sent": true}))))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let builder = builder(&server);
    let config = builder.config().unwrap();
    let verifier = builder.build().unwrap();
    let handle = verifier.start(&StartRequest::sms(panama())).await.unwrap();
    let err = verifier
        .check_code(&handle, &code("123456"))
        .await
        .unwrap_err();
    let token = verifier.client().renew_session(0).await.unwrap_err();
    Mock::given(method("POST"))
        .and(path("/v2/app-registrations"))
        .respond_with(json_response(
            409,
            &json!({"code": "Conflict", "message": "already registered"}),
        ))
        .mount(&server)
        .await;
    let registration = CreateAppRegistration::new(PROJECT, PROJECT, "Ana")
        .phone(VerifikPhone::new("+507", "62647737").unwrap());
    verifier
        .client()
        .create_app_registration(&registration)
        .await
        .unwrap_err();
    let shown = format!(
        "{builder:?} {config:?} {verifier:?} {:?} {err} {err:?} {token} {token:?} {handle:?} {}",
        verifier.client(),
        handle.to_json().unwrap()
    );
    assert!(!shown.contains(TOKEN), "{shown}");
    let logged = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("phone_verify.http"),
        "tracing captured nothing"
    );
    assert!(!logged.contains(TOKEN), "{logged}");
    assert!(!logged.contains("62647737"), "phones are masked: {logged}");
    // What the spans do record: the masked number of each request that names one.
    let masked = format!("phone={}", panama().masked());
    for operation in [
        "create-manual-phone-validation",
        "validate-phone-validation",
        "create-app-registration",
    ] {
        let operation = format!("operation=\"{operation}\"");
        assert!(
            logged
                .lines()
                .any(|line| line.contains(&operation) && line.contains(&masked)),
            "{operation} {masked}: {logged}"
        );
    }
    let sent = requests(&server).await;
    assert!(
        sent.iter()
            .all(|r| header_of(r, "authorization") == Some(format!("Bearer {TOKEN}").as_str()))
    );
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
