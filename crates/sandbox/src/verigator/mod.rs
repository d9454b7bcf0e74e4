//! Messente Verigator emulation (`/verigator/v1/...`): services, users, SMS/TOTP
//! authentication and PIN verification, authenticated by `X-Service-Auth: user:password`.

mod auth;
mod authenticator;
mod records;
mod services;
mod users;

use std::collections::HashMap;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::body::Input;
use crate::config::SandboxConfig;
use crate::model::Provider;
use crate::otp::constant_time_eq;
use crate::server::{Wire, finish};
use crate::state::App;

pub(crate) use authenticator::{enroll_totp, totp_code};
pub(crate) use users::seed_users;

/// Digits of a Verigator SMS PIN.
pub(crate) const PIN_LENGTH: usize = 6;

/// What the sandbox answers in Verigator's format (unknown routes, faults).
const WIRE: Wire = Wire {
    provider: Provider::Verigator,
    status_error,
    malformed_json: r#"{"verified":tru"#,
};

/// Routes of `https://api.verigator.com` (nested under `/verigator`).
pub(crate) fn router(app: &App) -> Router {
    let routes = Router::new()
        .route("/v1/service/service", post(services::create))
        .route(
            "/v1/service/service/{sid}",
            get(services::get_one).delete(services::delete),
        )
        .route(
            "/v1/service/service/{sid}/users",
            post(users::create).get(users::list),
        )
        .route(
            "/v1/service/service/{sid}/users/{uid}",
            get(users::get_one).delete(users::delete),
        )
        .route(
            "/v1/service/service/{sid}/users/{uid}/auth",
            post(auth::start).put(auth::verify_pin),
        );
    finish(app, WIRE, routes)
}

/// Verigator's services and their users.
#[derive(Debug, Default)]
pub(crate) struct VerigatorState {
    services: HashMap<String, records::Service>,
}

impl VerigatorState {
    /// Empty state. Services and users are what the caller registers, so they are not
    /// bounded by `_capacity` (each user keeps only its latest authentication).
    pub(crate) fn new(_capacity: usize) -> Self {
        Self::default()
    }
}

/// A Verigator error: `{"message": ...}` with a status.
#[derive(Debug)]
struct VgError(StatusCode, &'static str);

impl IntoResponse for VgError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({"message": self.1}))).into_response()
    }
}

/// Verigator's error body for a bare status (fault injection, unknown routes).
fn status_error(status: StatusCode) -> Response {
    VgError(status, status.canonical_reason().unwrap_or("Error")).into_response()
}

/// Turns a handler outcome into a response (`Value::Null`: no body).
fn respond(outcome: Result<(StatusCode, Value), VgError>) -> Response {
    match outcome {
        Ok((status, Value::Null)) => status.into_response(),
        Ok((status, body)) => (status, axum::Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}

const NO_SERVICE: VgError = VgError(StatusCode::NOT_FOUND, "Service not found");
const NO_USER: VgError = VgError(StatusCode::NOT_FOUND, "User not found");

/// Checks `X-Service-Auth: user:password` (plain text, not base64).
fn authenticate(config: &SandboxConfig, input: &Input) -> Result<(), VgError> {
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

/// A required string field (non-empty), else 422 (also when the body is not JSON).
fn required(input: &Input, key: &str, message: &'static str) -> Result<String, VgError> {
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
