//! VerifyKit's answers: its error codes and its `meta`/`result` envelope.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error answer: HTTP status, VerifyKit error code and message.
#[derive(Debug, Clone)]
pub(crate) struct VkError {
    pub(super) status: u16,
    pub(super) code: u32,
    pub(super) message: Cow<'static, str>,
    pub(super) retry_after: Option<i64>,
}

impl VkError {
    pub(super) const fn new(status: u16, code: u32, message: &'static str) -> Self {
        Self {
            status,
            code,
            message: Cow::Borrowed(message),
            retry_after: None,
        }
    }

    pub(super) const INVALID_PHONE: Self = Self::new(
        400,
        400_007,
        "Invalid phone number, please check the phone number.",
    );
    pub(super) const NO_DEEPLINK_OR_QR: Self = Self::new(
        403,
        403_004,
        "You must send either qrCode or deeplink parameter as true in order to start verification.",
    );
    pub(super) const TYPE_NOT_ACTIVE: Self =
        Self::new(403, 403_011, "Validation type is not active.");
    pub(super) const BANNED: Self = Self::new(403, 403_012, "Phone number is banned.");
    pub(super) const OTP_NOT_FOUND: Self = Self::new(403, 403_013, "OTP Validation not found.");
    pub(super) const OTP_INVALID: Self = Self::new(403, 403_014, "OTP code is invalid.");
    pub(super) const SEND_LIMIT: Self = Self::new(
        403,
        403_015,
        "You have reached the limit of sending OTP code.",
    );
    pub(super) const VALIDATION_NOT_FOUND: Self = Self::new(403, 403_036, "Validation not found.");
    pub(super) const EXPIRED: Self = Self::new(403, 403_037, "Validation has expired.");
    pub(super) const UNDEFINED_APPLICATION: Self = Self::new(
        403,
        403_038,
        "Undefined application. Please check your credential parameters.",
    );
    pub(super) const BALANCE: Self = Self::new(
        403,
        403_042,
        "Please check your account balance on VerifyKit Dashboard.",
    );
    pub(super) const OTP_NOT_ACTIVE: Self = Self::new(403, 403_047, "OTP setting is not active.");
    pub(super) const EMAIL_INVALID: Self = Self::new(403, 403_048, "Email is invalid.");
    pub(super) const OTP_TEST_NUMBERS_ONLY: Self =
        Self::new(403, 403_049, "OTP can only be used with test numbers.");
    /// The sandbox's own code for a web-rest request without the end user's IP: VerifyKit
    /// documents that the header must be sent, but no error code for its absence.
    pub(crate) const END_USER_IP_MISSING: Self = Self::new(
        403,
        403_000,
        "The X-Vfk-Forwarded-For header (the end user's IP address) is missing or not an IP address.",
    );
    /// The sandbox's own code for a session message missing, under 10 characters or over
    /// 4,096: VerifyKit documents no code for it (its SDKs check the minimum before sending).
    pub(super) const MESSAGE_INVALID: Self = Self::new(
        400,
        400_000,
        "The message parameter is required (10 to 4096 characters).",
    );

    pub(super) fn rate_limited(retry_after: i64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(429, 429_001, "Too many requests. please try again later.")
        }
    }
}

impl IntoResponse for VkError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({
            "meta": {
                "requestId": request_id(),
                "httpStatusCode": self.status,
                "errorMessage": self.message,
                "errorCode": self.code.to_string(),
            }
        });
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

/// VerifyKit's error envelope for a status (used by fault injection and unknown routes), with
/// its own message or `said`.
pub(super) fn status_error(status: StatusCode, said: Option<&str>) -> Response {
    let (code, message) = match status.as_u16() {
        429 => (
            429_001,
            Cow::Borrowed("Too many requests. please try again later."),
        ),
        500..=599 => (500_008, Cow::Borrowed("Internal server error.")),
        other => (
            u32::from(other) * 1000,
            Cow::Owned(status.canonical_reason().unwrap_or("Error").to_owned()),
        ),
    };
    let message = said.map_or(message, |said| Cow::Owned(said.to_owned()));
    VkError {
        status: status.as_u16(),
        code,
        message,
        retry_after: None,
    }
    .into_response()
}

/// `{"meta":{requestId, httpStatusCode}, "result": result}` with `status`.
pub(super) fn ok(status: StatusCode, result: Value) -> Response {
    let mut body = serde_json::Map::new();
    body.insert(
        "meta".into(),
        json!({"requestId": request_id(), "httpStatusCode": status.as_u16()}),
    );
    body.insert("result".into(), result);
    (status, axum::Json(Value::Object(body))).into_response()
}

/// Turns a handler outcome into a response.
pub(super) fn respond(outcome: Result<(StatusCode, Value), VkError>) -> Response {
    match outcome {
        Ok((status, result)) => ok(status, result),
        Err(error) => error.into_response(),
    }
}

/// A request id in VerifyKit's style (`app02-REQ-5dc3f853a9b84`).
pub(super) fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("sbx01-REQ-{:013x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_errors_map_to_documented_codes() {
        assert_eq!(VkError::INVALID_PHONE.code, 400_007);
        assert_eq!(VkError::INVALID_PHONE.status, 400);
        assert_eq!(VkError::rate_limited(3).status, 429);
        assert_ne!(request_id(), request_id());
    }
}
