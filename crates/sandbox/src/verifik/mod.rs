//! Verifik emulation (`/verifik/v2/...`): token acquisition and phone validations, with
//! Verifik's `{"data","signature","id"}` envelope and `{"code","message":"NNN:reason"}` errors.

mod auth;
mod constants;
mod envelope;
mod error;
mod fields;
mod login;
mod record;
mod registrations;
mod slot;
mod state;
mod validations;

use axum::Router;
use axum::routing::{get, post};

use crate::body::BodyFormat;
use crate::model::Provider;
use crate::wire::{Wire, finish};

use error::status_error;

pub(crate) use slot::{Verifik, VerifikSlot};

/// What the sandbox answers in Verifik's format (unknown routes, faults).
const WIRE: Wire = Wire {
    provider: Provider::Verifik,
    status_error,
    malformed_json: r#"{"data":{"_id":"000000000000000000000000","status":"#,
    body: BodyFormat::Json,
};

/// Routes of `https://api.verifik.co` (nested under `/verifik`).
pub(crate) fn router(app: &Verifik) -> Router {
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
