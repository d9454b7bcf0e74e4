//! VerifyKit emulation: the web-rest host (`/verifykit/web-rest/v1.0/...`) and the api host
//! (`/verifykit/api/v1.0/...`), with VerifyKit's `meta`/`result` envelope and error codes.

mod blacklist;
mod email;
mod info;
mod otp_flow;
mod qr;
mod reverse;

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::body::Input;
use crate::bounded::BoundedMap;
use crate::config::SandboxConfig;
use crate::model::Provider;
use crate::otp::{PendingCode, SandboxRng, constant_time_eq};
use crate::server::{Wire, finish};
use crate::state::{App, VerifyKitSlot as State};
use crate::texts::Lang;

pub(crate) use email::complete_email_flow;
pub(crate) use reverse::complete_reverse_flow;

/// Digits of a VerifyKit OTP.
pub(crate) const OTP_LENGTH: usize = 6;
/// Validity of a VerifyKit OTP and of a reverse (WhatsApp/Telegram/e-mail) flow, in seconds.
pub(crate) const TIMEOUT_SECS: i64 = 300;

/// What the sandbox answers in VerifyKit's format on both hosts (unknown routes, faults).
const WIRE: Wire = Wire {
    provider: Provider::VerifyKit,
    status_error,
    malformed_json: r#"{"meta":{"requestId":"sandbox-fault","httpStatusCode":200},"result":{"reference":"#,
};

/// Routes of `https://web-rest.verifykit.com` (nested under `/verifykit/web-rest`).
pub(crate) fn web_rest_router(app: &App) -> Router {
    let routes = Router::new()
        .route("/v1.0/init", get(info::init))
        .route("/v1.0/start", post(reverse::start))
        .route("/v1.0/check", post(reverse::check))
        .route("/v1.0/check-whatsapp", post(reverse::check_whatsapp))
        .route("/v1.0/country", post(info::country))
        .route("/v1.0/send-otp", post(otp_flow::send_otp))
        .route("/v1.0/check-otp", post(otp_flow::check_otp))
        .route("/v1.0/start-email", post(email::start_email))
        .route("/v1.0/check-email", post(email::check_email))
        .route("/v1.0/blacklist/add", post(blacklist::add))
        .route("/v1.0/blacklist/remove", post(blacklist::remove))
        .route_layer(axum::middleware::from_fn(require_end_user_ip));
    finish(app, WIRE, routes)
}

/// Routes of `https://api.verifykit.com` (nested under `/verifykit/api`).
pub(crate) fn api_router(app: &App) -> Router {
    let routes = Router::new()
        .route("/v1.0/result", post(info::result))
        .route("/v1.0/access-token", get(info::access_token))
        .route(
            "/v1.0/send-whatsapp-message",
            post(info::send_whatsapp_message),
        );
    finish(app, WIRE, routes)
}

/// Refuses a web-rest request without a valid `X-Vfk-Forwarded-For` (the end user's IP), which
/// VerifyKit's documentation asks for "in all requests": HTTP 403 with VerifyKit's error
/// envelope and the code [`VkError::END_USER_IP_MISSING`] (VerifyKit documents no code for it).
async fn require_end_user_ip(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let valid = req
        .headers()
        .get("x-vfk-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().parse::<std::net::IpAddr>().is_ok());
    if valid {
        next.run(req).await
    } else {
        VkError::END_USER_IP_MISSING.into_response()
    }
}

/// VerifyKit's flows, sessions and lists. Every kind of record keeps at most
/// [`SandboxConfig::records_capacity`] entries, forgetting the oldest first; the blacklist,
/// which only the user fills, is not bounded.
#[derive(Debug)]
pub(crate) struct VerifyKitState {
    /// SMS OTP flows by reference.
    otps: BoundedMap<String, OtpFlow>,
    /// The reference of the live OTP of each number (a new send replaces it).
    live_otp: BoundedMap<String, String>,
    /// WhatsApp/Telegram flows by reference.
    reverse: BoundedMap<String, reverse::ReverseFlow>,
    /// E-mail flows by reference.
    emails: BoundedMap<String, email::EmailFlow>,
    /// Completed verifications by session id.
    sessions: BoundedMap<String, Session>,
    /// Banned `(type, E.164)` pairs.
    blacklist: HashSet<(String, String)>,
    /// Send times per number (for `403015`).
    sends: BoundedMap<String, VecDeque<OffsetDateTime>>,
    /// Request times per end-user IP (for `429001`).
    hits: BoundedMap<String, VecDeque<OffsetDateTime>>,
    /// Last WhatsApp verification per number (session messages are allowed for 24 h).
    whatsapp_verified: BoundedMap<String, OffsetDateTime>,
}

/// A pending SMS OTP.
#[derive(Debug)]
struct OtpFlow {
    phone: String,
    country: String,
    code: PendingCode,
}

/// A completed verification, as `result` reports it.
#[derive(Debug, Clone)]
struct Session {
    validation_type: String,
    date: OffsetDateTime,
    phone: String,
    country: String,
}

impl VerifyKitState {
    /// Empty state keeping at most `capacity` records of each kind.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            otps: BoundedMap::new(capacity),
            live_otp: BoundedMap::new(capacity),
            reverse: BoundedMap::new(capacity),
            emails: BoundedMap::new(capacity),
            sessions: BoundedMap::new(capacity),
            blacklist: HashSet::new(),
            sends: BoundedMap::new(capacity),
            hits: BoundedMap::new(capacity),
            whatsapp_verified: BoundedMap::new(capacity),
        }
    }

    fn is_banned(&self, kind: &str, e164: &str) -> bool {
        self.blacklist.contains(&(kind.to_owned(), e164.to_owned()))
    }

    /// Whether one more code may be sent to `e164` under `config`'s send limit.
    fn may_send(&mut self, e164: &str, now: OffsetDateTime, config: &SandboxConfig) -> bool {
        let limit = config.verifykit_send_limit;
        let sends = self
            .sends
            .get_or_insert_with(e164.to_owned(), VecDeque::new);
        if let Some(cutoff) = window_start(now, limit.window) {
            while sends.front().is_some_and(|t| *t <= cutoff) {
                sends.pop_front();
            }
        }
        sends.len() < limit.max_sends as usize
    }

    fn record_send(&mut self, e164: &str, now: OffsetDateTime) {
        self.sends
            .get_or_insert_with(e164.to_owned(), VecDeque::new)
            .push_back(now);
    }

    fn reference_taken(&self, reference: &str) -> bool {
        self.otps.contains_key(reference)
            || self.reverse.contains_key(reference)
            || self.emails.contains_key(reference)
    }

    /// Records a completed verification and returns its session id.
    fn create_session(&mut self, rng: &mut SandboxRng, session: Session) -> String {
        let mut id = rng.alphanumeric(32);
        while self.sessions.contains_key(&id) {
            id = rng.alphanumeric(32);
        }
        if session.validation_type == "whatsapp" {
            self.whatsapp_verified
                .insert(session.phone.clone(), session.date);
        }
        self.sessions.insert(id.clone(), session);
        id
    }
}

/// A new reference, unique among live flows.
fn new_reference(state: &mut State) -> String {
    loop {
        let candidate = state.rng.alphanumeric(24);
        if !state.verifykit.reference_taken(&candidate) {
            return candidate;
        }
    }
}

/// An error answer: HTTP status, VerifyKit error code and message.
#[derive(Debug, Clone)]
pub(crate) struct VkError {
    status: u16,
    code: u32,
    message: Cow<'static, str>,
    retry_after: Option<i64>,
}

impl VkError {
    const fn new(status: u16, code: u32, message: &'static str) -> Self {
        Self {
            status,
            code,
            message: Cow::Borrowed(message),
            retry_after: None,
        }
    }

    const INVALID_PHONE: Self = Self::new(
        400,
        400_007,
        "Invalid phone number, please check the phone number.",
    );
    const NO_DEEPLINK_OR_QR: Self = Self::new(
        403,
        403_004,
        "You must send either qrCode or deeplink parameter as true in order to start verification.",
    );
    const TYPE_NOT_ACTIVE: Self = Self::new(403, 403_011, "Validation type is not active.");
    const BANNED: Self = Self::new(403, 403_012, "Phone number is banned.");
    const OTP_NOT_FOUND: Self = Self::new(403, 403_013, "OTP Validation not found.");
    const OTP_INVALID: Self = Self::new(403, 403_014, "OTP code is invalid.");
    const SEND_LIMIT: Self = Self::new(
        403,
        403_015,
        "You have reached the limit of sending OTP code.",
    );
    const VALIDATION_NOT_FOUND: Self = Self::new(403, 403_036, "Validation not found.");
    const EXPIRED: Self = Self::new(403, 403_037, "Validation has expired.");
    const UNDEFINED_APPLICATION: Self = Self::new(
        403,
        403_038,
        "Undefined application. Please check your credential parameters.",
    );
    const BALANCE: Self = Self::new(
        403,
        403_042,
        "Please check your account balance on VerifyKit Dashboard.",
    );
    const OTP_NOT_ACTIVE: Self = Self::new(403, 403_047, "OTP setting is not active.");
    const EMAIL_INVALID: Self = Self::new(403, 403_048, "Email is invalid.");
    const OTP_TEST_NUMBERS_ONLY: Self =
        Self::new(403, 403_049, "OTP can only be used with test numbers.");
    /// The sandbox's own code for a web-rest request without the end user's IP: VerifyKit
    /// documents that the header must be sent, but no error code for its absence.
    pub(crate) const END_USER_IP_MISSING: Self = Self::new(
        403,
        403_000,
        "The X-Vfk-Forwarded-For header (the end user's IP address) is missing or not an IP address.",
    );
    const MESSAGE_REQUIRED: Self = Self::new(
        400,
        400_000,
        "The message parameter is required (at least 10 characters).",
    );

    fn rate_limited(retry_after: i64) -> Self {
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

/// VerifyKit's error envelope for a bare status (used by fault injection and unknown routes).
fn status_error(status: StatusCode) -> Response {
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
    VkError {
        status: status.as_u16(),
        code,
        message,
        retry_after: None,
    }
    .into_response()
}

/// `{"meta":{requestId, httpStatusCode}, "result": result}` with `status`.
fn ok(status: StatusCode, result: Value) -> Response {
    let mut body = serde_json::Map::new();
    body.insert(
        "meta".into(),
        json!({"requestId": request_id(), "httpStatusCode": status.as_u16()}),
    );
    body.insert("result".into(), result);
    (status, axum::Json(Value::Object(body))).into_response()
}

/// Turns a handler outcome into a response.
fn respond(outcome: Result<(StatusCode, Value), VkError>) -> Response {
    match outcome {
        Ok((status, result)) => ok(status, result),
        Err(error) => error.into_response(),
    }
}

/// A request id in VerifyKit's style (`app02-REQ-5dc3f853a9b84`).
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("sbx01-REQ-{:013x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Checks the server key (`403038`) and the optional per-IP rate limit (`429001`).
fn guard(state: &mut State, config: &SandboxConfig, input: &Input) -> Result<(), VkError> {
    let key_ok = input
        .header("x-vfk-server-key")
        .is_some_and(|key| constant_time_eq(key, &config.verifykit_server_key));
    if !key_ok {
        return Err(VkError::UNDEFINED_APPLICATION);
    }
    if let Some(limit) = config.verifykit_rate_limit {
        let now = state.now();
        let ip = input
            .header("x-vfk-forwarded-for")
            .unwrap_or("-")
            .to_owned();
        let hits = state.verifykit.hits.get_or_insert_with(ip, VecDeque::new);
        let cutoff = window_start(now, limit.window);
        if let Some(cutoff) = cutoff {
            while hits.front().is_some_and(|t| *t <= cutoff) {
                hits.pop_front();
            }
        }
        if hits.len() >= limit.max_requests as usize {
            let retry = match (hits.front(), cutoff) {
                (Some(first), Some(cutoff)) => (*first - cutoff).whole_seconds() + 1,
                _ => 3600,
            };
            return Err(VkError::rate_limited(retry));
        }
        hits.push_back(now);
    }
    Ok(())
}

/// The start of a sliding `window` ending at `now`; `None` when it reaches before any date.
fn window_start(now: OffsetDateTime, window: std::time::Duration) -> Option<OffsetDateTime> {
    time::Duration::try_from(window)
        .ok()
        .and_then(|w| now.checked_sub(w))
}

/// Whether the validation type `method` is active in the configuration.
fn method_active(config: &SandboxConfig, method: &str) -> bool {
    config
        .verifykit_methods
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// The `lang` of a request (body field or query parameter).
fn lang(input: &Input) -> Lang {
    Lang::from_tag(input.str_or_query("lang").as_deref())
}

/// `Y-m-d H:i:s` in UTC, VerifyKit's date format.
fn vk_date(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_use_the_php_format() {
        let t = OffsetDateTime::from_unix_timestamp(1_573_112_128).unwrap();
        assert_eq!(vk_date(t), "2019-11-07 07:35:28");
    }

    #[test]
    fn status_errors_map_to_documented_codes() {
        assert_eq!(VkError::INVALID_PHONE.code, 400_007);
        assert_eq!(VkError::INVALID_PHONE.status, 400);
        assert_eq!(VkError::rate_limited(3).status, 429);
        assert_ne!(request_id(), request_id());
    }
}
