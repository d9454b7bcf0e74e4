//! Helpers shared by the wire-level test binaries.
#![allow(dead_code)]

use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy};
use phone_verify_core::{
    Channel, CheckOutcome, Code, PhoneNumber, ProviderId, RejectReason, RequestContext,
    Verification,
};
use phone_verify_verifykit::{VerifyKit, VerifyKitBuilder, VerifyKitClient};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

pub(crate) const KEY: &str = "canary-server-key-7Hq2x";
pub(crate) const IP: &str = "203.0.113.7";
pub(crate) const PHONE: &str = "+905321234567";
pub(crate) const PHONE_DIGITS: &str = "5321234567";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A builder for `server` whose requests without an end-user IP send [`IP`].
pub(crate) fn builder(server: &MockServer) -> VerifyKitBuilder {
    strict_builder(server).fallback_end_user_ip(IP.parse().unwrap())
}

/// A builder for `server` without a fallback IP: web REST requests need one in their context.
pub(crate) fn strict_builder(server: &MockServer) -> VerifyKitBuilder {
    VerifyKitBuilder::new(KEY)
        .web_rest_url(&format!("{}/web-rest/v1.0", server.uri()))
        .api_url(&format!("{}/api/v1.0", server.uri()))
        .retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
}

pub(crate) fn client(server: &MockServer) -> VerifyKitClient {
    builder(server).build_client().unwrap()
}

pub(crate) fn verifier(server: &MockServer) -> VerifyKit {
    builder(server).build().unwrap()
}

pub(crate) fn context() -> RequestContext {
    RequestContext::new().end_user_ip(IP.parse().unwrap())
}

pub(crate) fn phone() -> PhoneNumber {
    PHONE.parse().unwrap()
}

pub(crate) fn code(text: &str) -> Code {
    Code::new(text).unwrap()
}

/// A success envelope.
pub(crate) fn ok(status: u16, result: Value) -> ResponseTemplate {
    let mut body = json!({"meta": {"requestId": "app02-REQ-ok", "httpStatusCode": status}});
    body["result"] = result;
    ResponseTemplate::new(status).set_body_json(body)
}

/// An error envelope, as the sandbox and the PHP SDK's README write it.
pub(crate) fn vk_error(
    status: u16,
    code: &str,
    message: &str,
    request_id: &str,
) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "meta": {
            "requestId": request_id,
            "httpStatusCode": status,
            "errorMessage": message,
            "errorCode": code,
        }
    }))
}

/// A mock of `verb p` that must carry the server key, the end user's IP and the JSON content
/// type.
pub(crate) fn endpoint(verb: &str, p: &str) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(p))
        .and(header("x-vfk-server-key", KEY))
        .and(header("x-vfk-forwarded-for", IP))
        .and(header("content-type", "application/json"))
}

pub(crate) async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

pub(crate) async fn count(server: &MockServer, p: &str) -> usize {
    requests(server)
        .await
        .iter()
        .filter(|r| r.url.path() == p)
        .count()
}

pub(crate) fn sms_handle(reference: &str) -> Verification {
    Verification::new(ProviderId::new_static("verifykit"), reference, Channel::Sms)
        .with_phone(phone())
        .with_extra("flow", "sms_otp")
        .with_extra("country_code", "TR")
}

pub(crate) fn reverse_handle(reference: &str, channel: Channel) -> Verification {
    Verification::new(ProviderId::new_static("verifykit"), reference, channel)
        .with_extra("flow", "reverse")
}

pub(crate) fn rejection(outcome: &CheckOutcome) -> (RejectReason, Option<String>, Option<String>) {
    let r = outcome.rejection().expect("a rejection");
    (r.reason, r.provider_code.clone(), r.message.clone())
}

pub(crate) fn assert_no_key(text: &str) {
    assert!(!text.contains(KEY), "the server key leaked: {text}");
    assert!(
        !text.contains("7Hq2x"),
        "part of the server key leaked: {text}"
    );
}

/// Mounts `mock` answering `response`, expected exactly once.
pub(crate) async fn mount_once(server: &MockServer, mock: MockBuilder, response: ResponseTemplate) {
    mock.respond_with(response).expect(1).mount(server).await;
}

/// Expects exactly one `POST p` with the server key, the end user's IP and the JSON `body`, and
/// answers it with `response`.
pub(crate) async fn expect_post(
    server: &MockServer,
    p: &str,
    body: impl serde::Serialize,
    response: ResponseTemplate,
) {
    mount_once(server, endpoint("POST", p).and(body_json(body)), response).await;
}
