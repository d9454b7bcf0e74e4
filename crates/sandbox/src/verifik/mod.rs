//! Verifik emulation (`/verifik/v2/...`): token acquisition and phone validations, with
//! Verifik's `{"data","signature","id"}` envelope and `{"code","message":"NNN:reason"}` errors.

mod login;
mod record;
mod registrations;
mod validations;

use std::borrow::Cow;
use std::collections::HashMap;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::body::Input;
use crate::bounded::{BoundedMap, SeqLog};
use crate::config::SandboxConfig;
use crate::model::Provider;
use crate::otp::constant_time_eq;
use crate::server::{Wire, finish};
use crate::state::{App, VerifikSlot as State};

use record::PhoneValidation;

/// The sandbox's Verifik client (account) id.
pub(crate) const CLIENT_ID: &str = "507f1f77bcf86cd799439013";
/// The project flow of the default project.
pub(crate) const PROJECT_FLOW_ID: &str = "507f1f77bcf86cd799439015";
/// Digits of a Verifik OTP.
pub(crate) const OTP_LENGTH: usize = 6;
/// Validity of a Verifik OTP, in minutes.
pub(crate) const OTP_MINUTES: i64 = 10;
/// The resend cooldown per number and gateway, in seconds.
pub(crate) const RESEND_COOLDOWN_SECS: i64 = 120;
/// Validity of an access token, in days.
pub(crate) const TOKEN_DAYS: i64 = 30;

/// What the sandbox answers in Verifik's format (unknown routes, faults).
const WIRE: Wire = Wire {
    provider: Provider::Verifik,
    status_error,
    malformed_json: r#"{"data":{"_id":"000000000000000000000000","status":"#,
};

/// Routes of `https://api.verifik.co` (nested under `/verifik`).
pub(crate) fn router(app: &App) -> Router {
    let routes = Router::new()
        .route("/v2/projects/phone-login", post(login::phone_login))
        .route(
            "/v2/projects/phone-login/confirm",
            post(login::phone_login_confirm),
        )
        .route("/v2/projects/email-login", post(login::email_login))
        .route(
            "/v2/projects/email-login/confirm",
            post(login::email_login_confirm),
        )
        .route("/v2/auth/session", get(login::renew_session))
        .route("/v2/auth/renew-and-revoke", post(login::renew_and_revoke))
        .route("/v2/app-registrations", post(registrations::create))
        .route(
            "/v2/phone-validations",
            post(validations::create)
                .put(validations::validate)
                .get(validations::list),
        )
        .route(
            "/v2/phone-validations/validate",
            post(validations::validate),
        )
        .route(
            "/v2/phone-validations/app-registration",
            post(validations::create_app_registration),
        )
        .route(
            "/v2/phone-validations/manual",
            post(validations::create_manual),
        )
        .route("/v2/phone-validations/{id}", get(validations::get_one))
        .route(
            "/v2/phone-validations/{id}/validate",
            post(validations::validate_by_id),
        );
    finish(app, WIRE, routes)
}

/// Verifik's tokens, logins and phone validations. Every kind of record keeps at most
/// [`SandboxConfig::records_capacity`](crate::SandboxConfig::records_capacity) entries,
/// forgetting the oldest first.
#[derive(Debug)]
pub(crate) struct VerifikState {
    /// Issued access tokens and their expiry.
    tokens: BoundedMap<String, OffsetDateTime>,
    /// Whether renew-and-revoke has revoked the configured token.
    configured_token_revoked: bool,
    /// Pending phone logins by E.164 number.
    phone_logins: BoundedMap<String, PhoneValidation>,
    /// Pending e-mail logins by lowercase address.
    email_logins: BoundedMap<String, crate::otp::PendingCode>,
    /// Phone validations, oldest first, by sequence number.
    validations: SeqLog<PhoneValidation>,
    /// App registrations by their JWT.
    registrations: BoundedMap<String, registrations::Registration>,
    /// Sequence number in `validations` by `_id`.
    by_id: HashMap<String, usize>,
    /// Sequence numbers in `validations` per E.164 number, oldest first.
    by_phone: HashMap<String, Vec<usize>>,
}

impl VerifikState {
    /// Empty state keeping at most `capacity` records of each kind.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            tokens: BoundedMap::new(capacity),
            configured_token_revoked: false,
            phone_logins: BoundedMap::new(capacity),
            email_logins: BoundedMap::new(capacity),
            validations: SeqLog::new(capacity),
            registrations: BoundedMap::new(capacity),
            by_id: HashMap::new(),
            by_phone: HashMap::new(),
        }
    }

    /// Stores `validation` and returns its sequence number; the oldest validations past the
    /// capacity are forgotten, indexes included.
    fn insert(&mut self, validation: PhoneValidation) -> usize {
        let id = validation.id.clone();
        let e164 = validation.e164.clone();
        let (seq, forgotten) = self.validations.push(validation);
        for (old_seq, old) in forgotten {
            self.by_id.remove(&old.id);
            if let Some(seqs) = self.by_phone.get_mut(&old.e164) {
                seqs.retain(|s| *s != old_seq);
                if seqs.is_empty() {
                    self.by_phone.remove(&old.e164);
                }
            }
        }
        self.by_id.insert(id, seq);
        self.by_phone.entry(e164).or_default().push(seq);
        seq
    }
}

/// A Verifik error answer.
#[derive(Debug, Clone)]
pub(crate) struct VfError {
    status: u16,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
}

impl VfError {
    /// `{"code": reason, "message": "NNN:reason"}`, the documented shape.
    fn reason(status: u16, reason: &'static str) -> Self {
        Self {
            status,
            code: Cow::Borrowed(reason),
            message: Cow::Owned(format!("{status}:{reason}")),
        }
    }

    /// 409 `MissingParameter` listing the missing fields the way Verifik joins them.
    fn missing(fields: &[&str], trailing_newline: bool) -> Self {
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
    fn invalid(message: &'static str) -> Self {
        Self {
            status: 409,
            code: Cow::Borrowed("MissingParameter"),
            message: Cow::Borrowed(message),
        }
    }

    fn invalid_country_code() -> Self {
        Self::invalid(
            "Invalid countryCode format. CountryCode should be in the format + followed by 1 to 3 digits.",
        )
    }

    fn bad_request(message: &'static str) -> Self {
        Self {
            status: 400,
            code: Cow::Borrowed("BadRequest"),
            message: Cow::Borrowed(message),
        }
    }

    fn unauthorized() -> Self {
        Self {
            status: 401,
            code: Cow::Borrowed("Unauthorized"),
            message: Cow::Borrowed("Invalid or expired token."),
        }
    }

    fn missing_authorization() -> Self {
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

/// Verifik's error shape for a bare status (fault injection, unknown routes).
fn status_error(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let code: String = reason.split_whitespace().collect();
    let snake = reason.to_ascii_lowercase().replace([' ', '-'], "_");
    VfError {
        status: status.as_u16(),
        code: Cow::Owned(code),
        message: Cow::Owned(format!("{}:{snake}", status.as_u16())),
    }
    .into_response()
}

/// Turns a handler outcome into a response.
fn respond(outcome: Result<Value, VfError>) -> Response {
    match outcome {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Verifik's `signature` object.
fn signature(now: OffsetDateTime) -> Value {
    let date = now
        .format(format_description!(
            "[month repr:long] [day padding:none], [year] [hour repr:12 padding:none]:[minute] [period]"
        ))
        .unwrap_or_default();
    json!({"dateTime": date, "message": "Certified by Verifik.co"})
}

/// `{"data": data, "signature": {...}, "id": "X1234"}`.
fn envelope(state: &mut State, data: Value) -> Value {
    let now = state.now();
    let id = state.rng.alphanumeric(5).to_ascii_uppercase();
    let mut map = serde_json::Map::new();
    map.insert("data".into(), data);
    map.insert("signature".into(), signature(now));
    map.insert("id".into(), Value::String(id));
    Value::Object(map)
}

/// The token of an `Authorization` header (`Bearer <jwt>` or the bare token).
fn bearer(input: &Input) -> Option<String> {
    let raw = input.header("authorization")?;
    let token = match raw.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => raw,
    };
    (!token.is_empty()).then(|| token.to_owned())
}

/// Checks the `Authorization` header: 409 when missing, 401 when unknown, expired or revoked.
fn authorize(state: &State, config: &SandboxConfig, input: &Input) -> Result<String, VfError> {
    let token = bearer(input).ok_or_else(VfError::missing_authorization)?;
    let configured =
        !state.verifik.configured_token_revoked && constant_time_eq(&token, &config.verifik_token);
    let issued = state
        .verifik
        .tokens
        .get(&token)
        .is_some_and(|expires| state.now() < *expires);
    if configured || issued {
        Ok(token)
    } else {
        Err(VfError::unauthorized())
    }
}

/// Who a request to a validation endpoint comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// An account token (configured or issued by a login).
    Account,
    /// The JWT of the app registration with this id.
    Registration(String),
}

/// Checks the `Authorization` header of the endpoints an app registration's JWT may call:
/// an account token or a live registration token.
fn authorize_caller(
    state: &State,
    config: &SandboxConfig,
    input: &Input,
) -> Result<Caller, VfError> {
    match authorize(state, config, input) {
        Ok(_) => Ok(Caller::Account),
        Err(error) => {
            let token = bearer(input).ok_or(error.clone())?;
            registrations::registration_of(state, &token)
                .map(|r| Caller::Registration(r.id.clone()))
                .ok_or(error)
        }
    }
}

/// Checks that an app registration's JWT authorizes the request: 409 without a header, 401
/// for any other token (account tokens included, as Verifik documents).
fn authorize_registration<'a>(
    state: &'a State,
    input: &Input,
) -> Result<&'a registrations::Registration, VfError> {
    let token = bearer(input).ok_or_else(VfError::missing_authorization)?;
    registrations::registration_of(state, &token).ok_or_else(VfError::unauthorized)
}

/// Issues a JWT-shaped access token valid for `days`.
fn issue_token(state: &mut State, days: i64) -> String {
    let expires = state.now() + time::Duration::days(days);
    let token = jwt(state, expires);
    state.verifik.tokens.insert(token.clone(), expires);
    token
}

/// A JWT-shaped token expiring at `expires` (not recorded anywhere).
fn jwt(state: &mut State, expires: OffsetDateTime) -> String {
    let now = state.now();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = json!({
        "client": CLIENT_ID,
        "iat": now.unix_timestamp(),
        "exp": expires.unix_timestamp(),
        "jti": state.rng.hex(12),
    });
    let payload = b64.encode(payload.to_string());
    let sig = b64.encode(state.rng.bytes::<32>());
    format!("{header}.{payload}.{sig}")
}

/// Whether `code` is `+` followed by 1 to 3 digits.
fn valid_country_code(code: &str) -> bool {
    code.strip_prefix('+')
        .is_some_and(|d| (1..=3).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// A phone field with spaces removed.
fn clean_phone(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The OTP a request carries, as text, compared exactly: a string as sent (trimmed), a JSON
/// number as its plain decimal digits. A number cannot carry a leading zero, so `012345` sent
/// as the number `12345` does not match, as on Verifik (nothing is padded back).
fn otp_field(input: &Input, key: &str) -> Option<String> {
    match input.body.get(key)? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = OffsetDateTime::from_unix_timestamp(1_716_954_087).unwrap()
            + time::Duration::milliseconds(9);
        assert_eq!(signature(t)["dateTime"], "May 29, 2024 3:41 AM");
    }

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

    #[test]
    fn country_codes_and_otps() {
        assert!(valid_country_code("+507"));
        assert!(valid_country_code("+1"));
        assert!(!valid_country_code("507"));
        assert!(!valid_country_code("+5077"));
        assert!(!valid_country_code("+5a"));
        assert_eq!(clean_phone(" 6264 7737 "), "62647737");
    }
}
