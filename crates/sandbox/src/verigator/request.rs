//! Reading a Verigator request: the `X-Service-Auth` credentials and required fields.

use axum::http::StatusCode;

use super::error::VgError;
use crate::body::Input;
use crate::config::SandboxConfig;
use crate::otp::constant_time_eq;

/// Checks `X-Service-Auth: user:password` (plain text, not base64).
pub(super) fn authenticate(config: &SandboxConfig, input: &Input) -> Result<(), VgError> {
    let Some(value) = input.header("x-service-auth") else {
        return Err(VgError(
            StatusCode::UNAUTHORIZED,
            "Authentication required: missing X-Service-Auth header",
        ));
    };
    if constant_time_eq(value, &config.verigator_service_auth()) {
        Ok(())
    } else {
        Err(VgError(StatusCode::UNAUTHORIZED, "Wrong credentials"))
    }
}

/// A required string field (non-empty), else 422 (also when the body is not JSON sent as JSON:
/// Verigator's bodies are "JSON encoded", so a form body is refused like a malformed one).
pub(super) fn required(input: &Input, key: &str, message: &'static str) -> Result<String, VgError> {
    if input.body_malformed {
        return Err(VgError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request body - check the format and if it was correctly JSON encoded",
        ));
    }
    input
        .str(key)
        .ok_or(VgError(StatusCode::UNPROCESSABLE_ENTITY, message))
}
