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

/// Longest text the emulator stores (`fqdn`, `name`, `id_in_service`), in bytes.
pub(super) const MAX_TEXT_BYTES: usize = 256;

/// A required string field the emulator stores: as [`required`], and at most
/// [`MAX_TEXT_BYTES`] (trimmed), else 422 with `too_long`.
pub(super) fn required_text(
    input: &Input,
    key: &str,
    missing: &'static str,
    too_long: &'static str,
) -> Result<String, VgError> {
    let value = required(input, key, missing)?;
    if value.len() > MAX_TEXT_BYTES {
        return Err(VgError(StatusCode::UNPROCESSABLE_ENTITY, too_long));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(key: &str, value: &str) -> Input {
        let mut input = Input::default();
        input.body.insert(key.to_owned(), json!(value));
        input
    }

    #[test]
    fn stored_text_is_at_most_256_bytes() {
        let longest = "é".repeat(MAX_TEXT_BYTES / 2);
        let kept = required_text(&body("name", &longest), "name", "missing", "too long");
        assert_eq!(kept.unwrap(), longest);
        let over = format!("{longest}a");
        assert_eq!(over.len(), MAX_TEXT_BYTES + 1);
        let refused = required_text(&body("name", &over), "name", "missing", "too long");
        let VgError(status, message) = refused.unwrap_err();
        assert_eq!(
            (status, message),
            (StatusCode::UNPROCESSABLE_ENTITY, "too long")
        );
        let missing = required_text(&Input::default(), "name", "missing", "too long");
        assert_eq!(missing.unwrap_err().1, "missing");
    }
}
