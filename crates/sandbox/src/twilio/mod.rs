//! Twilio Verify v2 emulation (`/twilio/v2/...`, standing in for `https://verify.twilio.com/v2`):
//! services, verifications and verification checks, with HTTP Basic authentication,
//! form-encoded requests, Twilio's JSON resources and its `{"code","message","more_info","status"}`
//! errors.

mod service;
mod verification;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::json;
use time::OffsetDateTime;

use crate::body::Input;
use crate::bounded::BoundedMap;
use crate::config::{
    TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SECRET, TWILIO_API_KEY_SID, TWILIO_AUTH_TOKEN,
};
use crate::model::Provider;
use crate::otp::constant_time_eq;
use crate::server::{Wire, finish};
use crate::state::App;

use service::Service;
use verification::Verification;

/// What the sandbox answers in Twilio's format (unknown routes, faults).
const WIRE: Wire = Wire {
    provider: Provider::Twilio,
    status_error,
    malformed_json: r#"{"sid":"VE00000000000000000000000000000000","status":"pend"#,
};

/// Routes of `https://verify.twilio.com` (nested under `/twilio`).
pub(crate) fn router(app: &App) -> Router {
    let routes = Router::new()
        .route("/v2/Services", post(service::create))
        .route("/v2/Services/{sid}", get(service::fetch))
        .route(
            "/v2/Services/{service}/Verifications",
            post(verification::create),
        )
        .route(
            "/v2/Services/{service}/Verifications/{sid}",
            get(verification::fetch).post(verification::update),
        )
        .route(
            "/v2/Services/{service}/VerificationCheck",
            post(verification::check),
        );
    finish(app, WIRE, routes)
}

/// Twilio's services and verifications. Services created through the API and verifications
/// each keep at most [`SandboxConfig::records_capacity`](crate::SandboxConfig::records_capacity)
/// entries, forgetting the oldest first; the default service is never forgotten.
#[derive(Debug)]
pub(crate) struct TwilioState {
    /// [`TWILIO_SERVICE_SID`], which exists from the start.
    default_service: Service,
    /// Services created through `POST /v2/Services`, by SID.
    services: BoundedMap<String, Service>,
    /// Verifications by SID.
    verifications: BoundedMap<String, Verification>,
    /// The newest verification SID per (service SID, `To`).
    latest: BoundedMap<(String, String), String>,
}

impl TwilioState {
    /// The default service and nothing else, keeping at most `capacity` records of each kind.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            default_service: Service::sandbox_default(OffsetDateTime::now_utc()),
            services: BoundedMap::new(capacity),
            verifications: BoundedMap::new(capacity),
            latest: BoundedMap::new(capacity),
        }
    }

    /// The service `sid`, if it exists.
    fn service(&self, sid: &str) -> Option<&Service> {
        if sid == self.default_service.sid {
            Some(&self.default_service)
        } else {
            self.services.get(sid)
        }
    }
}

/// A Twilio error answer: `{"code", "message", "more_info", "status"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TwError {
    status: StatusCode,
    code: u32,
    message: String,
}

impl TwError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 401 `20003`: missing or wrong credentials.
    fn authenticate() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
    }

    /// 404 `20404` for `path` (the path as Twilio's host sees it, e.g. `/v2/Services/VA…`).
    fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }

    /// 400 `60200`: a missing or invalid parameter, with the value when there was one.
    fn invalid(param: &str, value: Option<&str>) -> Self {
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

/// Twilio's error body for a bare status (fault injection, unknown methods).
pub(crate) fn status_error(status: StatusCode) -> Response {
    let (code, message) = match status.as_u16() {
        401 => (20003, "Authenticate"),
        403 => (20403, "Forbidden"),
        404 => (20404, "The requested resource was not found"),
        405 => (20004, "Method not allowed"),
        429 => (20429, "Too many requests"),
        503 => (20503, "Service unavailable"),
        _ => (20500, "Internal server error"),
    };
    TwError::new(status, code, message).into_response()
}

/// Answers `outcome` as JSON with its status, or as Twilio's error.
fn respond(outcome: Result<(StatusCode, serde_json::Value), TwError>) -> Response {
    match outcome {
        Ok((status, body)) => (status, axum::Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Checks HTTP Basic credentials: the Account SID with the auth token, or the API key SID with
/// its secret.
fn authenticate(input: &Input) -> Result<(), TwError> {
    let decoded = input
        .header("authorization")
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(TwError::authenticate)?;
    let (user, password) = decoded.split_once(':').ok_or_else(TwError::authenticate)?;
    let expected = match user {
        TWILIO_ACCOUNT_SID => TWILIO_AUTH_TOKEN,
        TWILIO_API_KEY_SID => TWILIO_API_KEY_SECRET,
        _ => return Err(TwError::authenticate()),
    };
    if constant_time_eq(password, expected) {
        Ok(())
    } else {
        Err(TwError::authenticate())
    }
}

/// The request's parameters: Twilio reads only `application/x-www-form-urlencoded` bodies, so
/// any other body (JSON included) carries no parameter.
fn form(mut input: Input) -> Input {
    let is_form = input.header("content-type").is_some_and(|ct| {
        ct.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    if !is_form {
        input.body.clear();
    }
    input
}

/// An optional boolean parameter (`true`/`false`); anything else is `60200`.
fn bool_param(input: &Input, key: &str) -> Result<Option<bool>, TwError> {
    match input.str(key) {
        None => Ok(None),
        Some(raw) => match raw.to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(TwError::invalid(key, Some(&raw))),
        },
    }
}

/// ISO 8601 in UTC without fractions, as Twilio writes `date_created`.
fn date(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

/// The base of resource URLs: this sandbox's own `/twilio/v2` when the request named its host,
/// else Twilio's.
fn base_url(input: &Input) -> String {
    input.header("host").map_or_else(
        || "https://verify.twilio.com/v2".to_owned(),
        |host| format!("http://{host}/twilio/v2"),
    )
}

/// A Twilio SID: two-letter prefix and 32 random lowercase hex digits.
fn new_sid(rng: &mut crate::otp::SandboxRng, prefix: &str) -> String {
    format!("{prefix}{}", rng.hex(16))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TWILIO_SERVICE_SID;
    use axum::http::HeaderMap;

    fn with_auth(user: &str, password: &str) -> Input {
        let mut headers = HeaderMap::new();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
        );
        Input {
            headers,
            ..Input::default()
        }
    }

    #[test]
    fn basic_auth_takes_the_account_or_the_api_key() {
        assert!(authenticate(&with_auth(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)).is_ok());
        assert!(authenticate(&with_auth(TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET)).is_ok());
        for (user, password) in [
            (TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SECRET),
            (TWILIO_API_KEY_SID, TWILIO_AUTH_TOKEN),
            ("ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", TWILIO_AUTH_TOKEN),
            (TWILIO_ACCOUNT_SID, ""),
        ] {
            assert_eq!(
                authenticate(&with_auth(user, password)),
                Err(TwError::authenticate()),
                "{user}:{password}"
            );
        }
        assert!(authenticate(&Input::default()).is_err());
        let mut bearer = Input::default();
        bearer.headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer sandbox-auth-token"),
        );
        assert!(authenticate(&bearer).is_err());
        let mut garbage = Input::default();
        garbage
            .headers
            .insert("authorization", HeaderValue::from_static("Basic %%%"));
        assert!(authenticate(&garbage).is_err());
    }

    #[test]
    fn only_form_bodies_carry_parameters() {
        let mut input = Input::default();
        input.body.insert("To".into(), json!("+15017122661"));
        assert_eq!(form(input.clone()).str("To"), None, "no content type");
        input.headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        assert_eq!(form(input).str("To").as_deref(), Some("+15017122661"));
    }

    #[test]
    fn booleans_are_true_or_false() {
        let mut input = Input::default();
        input.body.insert("A".into(), json!("True"));
        input.body.insert("B".into(), json!("false"));
        input.body.insert("C".into(), json!("yes"));
        assert_eq!(bool_param(&input, "A"), Ok(Some(true)));
        assert_eq!(bool_param(&input, "B"), Ok(Some(false)));
        assert_eq!(bool_param(&input, "D"), Ok(None));
        assert_eq!(
            bool_param(&input, "C").unwrap_err().code,
            60200,
            "not a boolean"
        );
    }

    #[test]
    fn dates_and_sids_have_twilios_shape() {
        assert_eq!(date(OffsetDateTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let sid = new_sid(&mut crate::otp::SandboxRng::new(Some(1)), "VE");
        assert_eq!(sid.len(), 34);
        assert!(sid[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(TWILIO_SERVICE_SID.len(), 34);
        assert_eq!(TWILIO_ACCOUNT_SID.len(), 34);
        assert_eq!(TWILIO_API_KEY_SID.len(), 34);
    }
}
