//! Helpers shared by the wire-level test binaries.
#![allow(dead_code)]

use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy};
use phone_verify_core::{Code, PhoneNumber};
use phone_verify_verifik::{Verifik, VerifikBuilder, VerifikClient};
use serde_json::{Value, json};
use wiremock::{MockServer, Request, ResponseTemplate};

/// The token every test configures; it must never show up outside the `Authorization` header.
pub(crate) const TOKEN: &str = "canary-token-7f3a9c";
pub(crate) const PROJECT: &str = "507f1f77bcf86cd799439011";
pub(crate) const ID: &str = "674de8df21c72be3cc42b8a7";

pub(crate) fn builder(server: &MockServer) -> VerifikBuilder {
    VerifikBuilder::new(TOKEN)
        .base_url(&format!("{}/v2", server.uri()))
        .retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
}

pub(crate) fn verifier(server: &MockServer) -> Verifik {
    builder(server).build().unwrap()
}

pub(crate) fn client(server: &MockServer) -> VerifikClient {
    builder(server).build_client().unwrap()
}

pub(crate) fn panama() -> PhoneNumber {
    "+507 6264 7737".parse().unwrap()
}

pub(crate) fn code(digits: &str) -> Code {
    Code::new(digits).unwrap()
}

pub(crate) fn json_response(status: u16, body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// The create answer of Verifik's documentation, with `_id`, phone and gateway replaced.
pub(crate) fn created(gateway: &str, extra: &Value) -> Value {
    let mut data = json!({
        "client": "507f1f77bcf86cd799439013",
        "project": PROJECT,
        "projectFlow": "507f1f77bcf86cd799439015",
        "status": "sent",
        "countryCode": "+507",
        "phone": "62647737",
        "phoneGateway": gateway,
        "otp": "$2a$10$/v55.1QmwlCdX6zD1jy51OF87POIDZzj30.UmTtp13pZv6uKm.a.m",
        "expiresAt": "2024-12-02T17:15:35.000Z",
        "phoneData": {},
        "type": "validation",
        "redirectUrl": "https://api.verifik.co",
        "requires2FA": false,
        "ipAddress": "172.17.0.1",
        "language": "en",
        "_id": ID,
        "updatedAt": "2024-12-02T17:05:36.788Z",
        "createdAt": "2024-12-02T17:05:36.788Z",
        "__v": 0,
        "new": true
    });
    if let (Value::Object(map), Value::Object(more)) = (&mut data, extra) {
        map.extend(more.clone());
    }
    json!({
        "data": data,
        "signature": {"dateTime": "December 2, 2024 5:05 PM", "message": "Certified by Verifik.co"},
        "id": "Y0628"
    })
}

pub(crate) fn validated(kind: &str) -> Value {
    json!({"data": {
        "_id": ID,
        "status": "validated",
        "countryCode": "+507",
        "phone": "62647737",
        "type": kind,
        "showFaceLivenessRecommendation": false
    }})
}

pub(crate) async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

pub(crate) fn header_of<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}
