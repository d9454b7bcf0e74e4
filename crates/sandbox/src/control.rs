//! The control API under `/_sandbox/...`, and the operations it shares with `SandboxHandle`.

use std::time::Duration;

use axum::Router;
use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::app::App;
use crate::body::Input;
use crate::config::check_test_number;
use crate::faults::Fault;
use crate::model::{ControlError, Provider, RequestLog, SentMessage};
use crate::{phone, verifykit, verigator};

/// Routes of the control API (nested under `/_sandbox`).
pub(crate) fn router(app: &App) -> Router {
    Router::new()
        .route("/info", get(info))
        .route("/messages", get(messages))
        .route("/messages/latest", get(latest_message))
        .route("/verifykit/complete", post(complete))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route(
            "/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route(
            "/test-numbers",
            post(add_test_number)
                .get(list_test_numbers)
                .delete(remove_test_number),
        )
        .route("/balance", post(set_balance).get(balances))
        .route("/requests", get(requests))
        .route("/verigator/totp", post(enroll_totp).get(totp_code))
        .route("/reset", post(reset))
        .fallback(|| async { error(&ControlError::NotFound("no such control route".into())) })
        .with_state(app.clone())
}

fn error(e: &ControlError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(json!({"error": e.to_string()}))).into_response()
}

fn respond(outcome: Result<(StatusCode, Value), ControlError>) -> Response {
    match outcome {
        Ok((status, Value::Null)) => status.into_response(),
        Ok((status, body)) => (status, axum::Json(body)).into_response(),
        Err(e) => error(&e),
    }
}

fn required(input: &Input, key: &str) -> Result<String, ControlError> {
    input
        .str(key)
        .ok_or_else(|| ControlError::InvalidRequest(format!("missing {key:?}")))
}

fn required_query<'a>(input: &'a Input, key: &str) -> Result<&'a str, ControlError> {
    input
        .query(key)
        .ok_or_else(|| ControlError::InvalidRequest(format!("missing query parameter {key:?}")))
}

/// Messages to `recipient` (E.164 phone in any common spelling, or e-mail), newest first.
pub(crate) fn messages_for(app: &App, recipient: Option<&str>) -> Vec<SentMessage> {
    let normalized = recipient.map(phone::normalize_query_phone);
    app.common.messages(normalized.as_deref())
}

/// Validates ([`check_test_number`]) and stores a test number with a fixed code.
pub(crate) fn store_test_number(
    app: &App,
    phone: &str,
    code: &str,
) -> Result<String, ControlError> {
    let (e164, code) = check_test_number(phone, code)?;
    app.common.add_test_number(e164.clone(), code)?;
    Ok(e164)
}

/// Requests that reached providers, optionally only one provider's.
pub(crate) fn request_log(app: &App, provider: Option<Provider>) -> RequestLog {
    app.common.request_log(provider)
}

/// Advances the sandbox clock.
pub(crate) fn advance(app: &App, by: Duration) {
    let by = time::Duration::try_from(by).unwrap_or(time::Duration::MAX);
    app.common.advance_clock(by);
}

async fn info(AxumState(app): AxumState<App>) -> Response {
    let c = &app.config;
    axum::Json(json!({
        "paths": {
            "verifykit_web_rest": "/verifykit/web-rest/v1.0",
            "verifykit_api": "/verifykit/api/v1.0",
            "verifik": "/verifik/v2",
            "verigator": "/verigator/v1",
            "twilio": "/twilio/v2",
            "control": "/_sandbox",
        },
        "credentials": {
            "verifykit_server_key": c.verifykit_server_key,
            "verifik_token": c.verifik_token,
            "verigator_service_auth": c.verigator_service_auth(),
            "twilio_account_sid": crate::config::TWILIO_ACCOUNT_SID,
            "twilio_auth_token": crate::config::TWILIO_AUTH_TOKEN,
            "twilio_api_key_sid": crate::config::TWILIO_API_KEY_SID,
            "twilio_api_key_secret": crate::config::TWILIO_API_KEY_SECRET,
            "twilio_service_sid": crate::config::TWILIO_SERVICE_SID,
        },
        "init_theme": c.init_theme.to_string(),
        "verifik_projects": c.verifik_projects,
    }))
    .into_response()
}

async fn messages(AxumState(app): AxumState<App>, input: Input) -> Response {
    let recipient = input.query("phone").or_else(|| input.query("email"));
    axum::Json(messages_for(&app, recipient)).into_response()
}

async fn latest_message(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        let recipient = input
            .query("phone")
            .or_else(|| input.query("email"))
            .ok_or_else(|| {
                ControlError::InvalidRequest(
                    "missing query parameter \"phone\" (or \"email\")".into(),
                )
            })?;
        let message = messages_for(&app, Some(recipient))
            .into_iter()
            .next()
            .ok_or_else(|| ControlError::NotFound(format!("no message to {recipient:?}")))?;
        Ok((
            StatusCode::OK,
            serde_json::to_value(message).unwrap_or_default(),
        ))
    })())
}

async fn complete(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        let reference = required(&input, "reference")?;
        if let Some(email) = input.str("email") {
            verifykit::complete_email_flow(&app.verifykit, &reference, &email)?;
            return Ok((
                StatusCode::OK,
                json!({"reference": reference, "email": email, "completed": true}),
            ));
        }
        let phone = input.str("phone").ok_or_else(|| {
            ControlError::InvalidRequest("missing \"phone\" (or \"email\")".into())
        })?;
        let session_id = verifykit::complete_reverse_flow(&app.verifykit, &reference, &phone)?;
        Ok((
            StatusCode::OK,
            json!({"reference": reference, "sessionId": session_id, "completed": true}),
        ))
    })())
}

fn clock_json(app: &App) -> Value {
    let now = app
        .common
        .now()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    json!({"now": now, "offset_seconds": app.common.clock_offset().whole_seconds()})
}

async fn clock(AxumState(app): AxumState<App>) -> Response {
    axum::Json(clock_json(&app)).into_response()
}

/// The largest `seconds` one `POST /clock/advance` takes (about 31,700 years); the clock
/// itself stops 36,525 days (about 100 years) ahead.
const MAX_ADVANCE_SECONDS: f64 = 1e12;

async fn advance_clock(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        let seconds = input
            .str("seconds")
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0 && *s <= MAX_ADVANCE_SECONDS)
            .ok_or_else(|| {
                ControlError::InvalidRequest(format!(
                    "\"seconds\" must be a number from 0 to {MAX_ADVANCE_SECONDS:e}"
                ))
            })?;
        advance(&app, Duration::from_secs_f64(seconds));
        Ok((StatusCode::OK, clock_json(&app)))
    })())
}

async fn add_fault(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        let fault = Fault::from_json(Value::Object(input.body.clone()))?;
        let body = serde_json::to_value(&fault).unwrap_or_default();
        app.common.push_fault(fault)?;
        Ok((StatusCode::CREATED, body))
    })())
}

async fn list_faults(AxumState(app): AxumState<App>) -> Response {
    axum::Json(app.common.pending_faults()).into_response()
}

async fn clear_faults(AxumState(app): AxumState<App>) -> Response {
    app.common.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

async fn add_test_number(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        let phone = required(&input, "phone")?;
        let code = required(&input, "code")?;
        let e164 = store_test_number(&app, &phone, &code)?;
        Ok((
            StatusCode::CREATED,
            json!({"phone": e164, "code": code.trim()}),
        ))
    })())
}

async fn list_test_numbers(AxumState(app): AxumState<App>) -> Response {
    let list: Vec<Value> = app
        .common
        .test_numbers()
        .iter()
        .map(|(phone, code)| json!({"phone": phone, "code": code}))
        .collect();
    axum::Json(list).into_response()
}

async fn remove_test_number(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        let phone = phone::normalize_query_phone(required_query(&input, "phone")?);
        if !app.common.remove_test_number(&phone) {
            return Err(ControlError::NotFound(format!(
                "{phone:?} is not a test number"
            )));
        }
        Ok((StatusCode::NO_CONTENT, Value::Null))
    })())
}

fn balances_json(app: &App) -> Value {
    json!({
        "verifykit": app.common.balance(Provider::VerifyKit),
        "verifik": app.common.balance(Provider::Verifik),
        "verigator": app.common.balance(Provider::Verigator),
        "twilio": app.common.balance(Provider::Twilio),
    })
}

async fn set_balance(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        let provider: Provider = required(&input, "provider")?.parse()?;
        if matches!(provider, Provider::Verigator | Provider::Twilio) {
            return Err(ControlError::InvalidRequest(format!(
                "{provider} has no balance in the sandbox"
            )));
        }
        let credits = match input.body.get("credits") {
            None | Some(Value::Null) => None,
            Some(_) => Some(
                input
                    .str("credits")
                    .and_then(|c| c.parse::<u64>().ok())
                    .ok_or_else(|| {
                        ControlError::InvalidRequest(
                            "\"credits\" must be a non-negative integer or null (unlimited)".into(),
                        )
                    })?,
            ),
        };
        app.common.set_balance(provider, credits);
        Ok((StatusCode::OK, balances_json(&app)))
    })())
}

async fn balances(AxumState(app): AxumState<App>) -> Response {
    axum::Json(balances_json(&app)).into_response()
}

async fn requests(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        let provider = input
            .query("provider")
            .map(str::parse::<Provider>)
            .transpose()?;
        let log = request_log(&app, provider);
        Ok((
            StatusCode::OK,
            serde_json::to_value(log).unwrap_or_default(),
        ))
    })())
}

async fn enroll_totp(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        let sid = required(&input, "service_id")?;
        let uid = required(&input, "user_id")?;
        let enrollment = verigator::enroll_totp(&app.verigator, &sid, &uid)?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(enrollment).unwrap_or_default(),
        ))
    })())
}

async fn totp_code(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        let sid = required_query(&input, "service_id")?;
        let uid = required_query(&input, "user_id")?;
        let (code, seconds_left) = verigator::totp_code(&app.verigator, sid, uid)?;
        Ok((
            StatusCode::OK,
            json!({"code": code, "valid_for_seconds": seconds_left}),
        ))
    })())
}

async fn reset(AxumState(app): AxumState<App>) -> Response {
    app.reset();
    StatusCode::NO_CONTENT.into_response()
}
