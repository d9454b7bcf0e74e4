//! Verifik's error answers: `{"code","message":"NNN:reason"}`.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A Verifik error answer.
#[derive(Debug, Clone)]
pub(crate) struct VfError {
    pub(super) status: u16,
    pub(super) code: Cow<'static, str>,
    pub(super) message: Cow<'static, str>,
}

impl VfError {
    /// `{"code": reason, "message": "NNN:reason"}`, the documented shape.
    pub(super) fn reason(status: u16, reason: &'static str) -> Self {
        Self {
            status,
            code: Cow::Borrowed(reason),
            message: Cow::Owned(format!("{status}:{reason}")),
        }
    }

    /// 409 `MissingParameter` listing the missing fields the way Verifik joins them.
    pub(super) fn missing(fields: &[&str], trailing_newline: bool) -> Self {
        let mut message = fields
            .iter()
            .map(|f| format!("missing {f}"))
            .collect::<Vec<_>>()
            .join("\n. ");
        if trailing_newline {
            message.push('\n');
        }
        Self {
            status: 409,
            code: Cow::Borrowed("MissingParameter"),
            message: Cow::Owned(message),
        }
    }

    /// 409 `MissingParameter` with a free message (Verifik's validation-error code).
    pub(super) fn invalid(message: &'static str) -> Self {
        Self {
            status: 409,
            code: Cow::Borrowed("MissingParameter"),
            message: Cow::Borrowed(message),
        }
    }

    pub(super) fn invalid_country_code() -> Self {
        Self::invalid(
            "Invalid countryCode format. CountryCode should be in the format + followed by 1 to 3 digits.",
        )
    }

    pub(super) fn bad_request(message: &'static str) -> Self {
        Self {
            status: 400,
            code: Cow::Borrowed("BadRequest"),
            message: Cow::Borrowed(message),
        }
    }

    pub(super) fn unauthorized() -> Self {
        Self {
            status: 401,
            code: Cow::Borrowed("Unauthorized"),
            message: Cow::Borrowed("Invalid or expired token."),
        }
    }

    pub(super) fn missing_authorization() -> Self {
        Self {
            status: 409,
            code: Cow::Borrowed("MissingParameter"),
            message: Cow::Borrowed("missing Authorization header"),
        }
    }
}

impl IntoResponse for VfError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            axum::Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response()
    }
}

/// Verifik's error shape for a status (fault injection, unknown routes), with its own message
/// or `said`.
pub(super) fn status_error(status: StatusCode, said: Option<&str>) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let code: String = reason.split_whitespace().collect();
    let snake = reason.to_ascii_lowercase().replace([' ', '-'], "_");
    let message = match said {
        Some(said) => format!("{}:{said}", status.as_u16()),
        None => format!("{}:{snake}", status.as_u16()),
    };
    VfError {
        status: status.as_u16(),
        code: Cow::Owned(code),
        message: Cow::Owned(message),
    }
    .into_response()
}

/// Turns a handler outcome into a response.
pub(super) fn respond(outcome: Result<Value, VfError>) -> Response {
    match outcome {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_parameter_messages_match_the_docs() {
        let e = VfError::missing(&["phone", "countryCode", "otp"], false);
        assert_eq!(
            e.message,
            "missing phone\n. missing countryCode\n. missing otp"
        );
        let e = VfError::missing(&["countryCode", "phone", "type"], true);
        assert_eq!(
            e.message,
            "missing countryCode\n. missing phone\n. missing type\n"
        );
        assert_eq!(
            VfError::reason(403, "otp_does_not_match").message,
            "403:otp_does_not_match"
        );
    }
}
