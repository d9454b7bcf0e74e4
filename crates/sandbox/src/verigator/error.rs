//! Verigator's error answers: `{"message": ...}` with a status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A Verigator error: `{"message": ...}` with a status.
#[derive(Debug)]
pub(super) struct VgError(pub(super) StatusCode, pub(super) &'static str);

impl IntoResponse for VgError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({"message": self.1}))).into_response()
    }
}

/// Verigator's error body for a bare status (fault injection, unknown routes).
pub(super) fn status_error(status: StatusCode) -> Response {
    VgError(status, status.canonical_reason().unwrap_or("Error")).into_response()
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
