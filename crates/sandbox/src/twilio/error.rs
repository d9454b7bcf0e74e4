//! Twilio's error answers: `{"code","message","more_info","status"}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A Twilio error answer: `{"code", "message", "more_info", "status"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TwError {
    pub(super) status: StatusCode,
    pub(super) code: u32,
    pub(super) message: String,
}

impl TwError {
    pub(super) fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 401 `20003`: missing or wrong credentials.
    pub(super) fn authenticate() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
    }

    /// 404 `20404` for `path` (the path as Twilio's host sees it, e.g. `/v2/Services/VA…`).
    pub(super) fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }

    /// 400 `60200`: a missing or invalid parameter, with the value when there was one.
    pub(super) fn invalid(param: &str, value: Option<&str>) -> Self {
        let message = match value {
            Some(value) => format!("Invalid parameter `{param}`: {value}"),
            None => format!("Invalid parameter: {param}"),
        };
        Self::new(StatusCode::BAD_REQUEST, 60200, message)
    }
}

impl IntoResponse for TwError {
    fn into_response(self) -> Response {
        let body = json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status.as_u16(),
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        response
    }
}

/// Twilio's error body for a status (fault injection, unknown methods), with its own message
/// or `said`.
pub(super) fn status_error(status: StatusCode, said: Option<&str>) -> Response {
    let (code, message) = match status.as_u16() {
        401 => (20003, "Authenticate"),
        403 => (20403, "Forbidden"),
        404 => (20404, "The requested resource was not found"),
        405 => (20004, "Method not allowed"),
        429 => (20429, "Too many requests"),
        503 => (20503, "Service unavailable"),
        _ => (20500, "Internal server error"),
    };
    TwError::new(status, code, said.unwrap_or(message)).into_response()
}

/// Answers `outcome` as JSON with its status, or as Twilio's error.
pub(super) fn respond(outcome: Result<(StatusCode, serde_json::Value), TwError>) -> Response {
    match outcome {
        Ok((status, body)) => (status, axum::Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}
