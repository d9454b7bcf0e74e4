//! Verigator's error answers: `{"message": ...}` with a status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A Verigator error: `{"message": ...}` with a status.
#[derive(Debug)]
pub(super) struct VgError(pub(super) StatusCode, pub(super) &'static str);

impl IntoResponse for VgError {
    fn into_response(self) -> Response {
        error_body(self.0, self.1)
    }
}

/// `{"message": message}` with `status`.
fn error_body(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"message": message}))).into_response()
}

/// Verigator's error body for a status (fault injection, unknown routes), with its own message
/// or `said`.
pub(super) fn status_error(status: StatusCode, said: Option<&str>) -> Response {
    error_body(
        status,
        said.unwrap_or(status.canonical_reason().unwrap_or("Error")),
    )
}

/// Turns a handler outcome into a response (`Value::Null`: no body).
pub(super) fn respond(outcome: Result<(StatusCode, Value), VgError>) -> Response {
    match outcome {
        Ok((status, Value::Null)) => status.into_response(),
        Ok((status, body)) => (status, axum::Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// 404: no such service.
pub(super) const NO_SERVICE: VgError = VgError(StatusCode::NOT_FOUND, "Service not found");
/// 404: no such user in the service.
pub(super) const NO_USER: VgError = VgError(StatusCode::NOT_FOUND, "User not found");
