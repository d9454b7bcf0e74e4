//! Helpers shared by the HTTP tests: start a sandbox, send a request, read JSON.

#![allow(dead_code)]

use phone_verify_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use serde_json::Value;

/// A seeded sandbox with the default configuration on an ephemeral loopback port.
pub(crate) async fn start() -> SandboxHandle {
    start_with(SandboxConfig::seeded(7)).await
}

/// A sandbox with `config`.
pub(crate) async fn start_with(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config).await.expect("sandbox starts")
}

/// A plain HTTP client that sends an end-user IP (`X-Vfk-Forwarded-For`, which VerifyKit's
/// web REST host requires) unless a request sets its own.
pub(crate) fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-vfk-forwarded-for",
        reqwest::header::HeaderValue::from_static("203.0.113.7"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client builds")
}

/// Sends `request`; returns the status and the JSON body (`Null` when empty).
pub(crate) async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request is answered");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body is read");
    if text.is_empty() {
        return (status, Value::Null);
    }
    let value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"));
    (status, value)
}

/// Whether `s` is `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn is_php_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// Whether `s` is a 24-hex ObjectId.
pub(crate) fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}
