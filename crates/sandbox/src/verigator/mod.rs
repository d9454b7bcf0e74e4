//! Messente Verigator emulation (`/verigator/v1/...`): services, users, SMS/TOTP
//! authentication and PIN verification, authenticated by `X-Service-Auth: user:password`.

mod auth;
mod authenticator;
mod error;
mod records;
mod request;
mod services;
mod slot;
mod state;
mod users;

use axum::Router;
use axum::routing::{get, post};

use crate::body::BodyFormat;
use crate::model::Provider;
use crate::wire::{Wire, finish};

use error::status_error;

pub(crate) use authenticator::{enroll_totp, totp_code};
pub(crate) use slot::{Verigator, VerigatorSlot};
pub(crate) use users::seed_users;

/// What the sandbox answers in Verigator's format (unknown routes, faults).
const WIRE: Wire = Wire {
    provider: Provider::Verigator,
    status_error,
    malformed_json: r#"{"verified":tru"#,
    body: BodyFormat::Json,
};

/// Routes of `https://api.verigator.com` (nested under `/verigator`).
pub(crate) fn router(app: &Verigator) -> Router {
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
