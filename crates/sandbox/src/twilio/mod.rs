//! Twilio Verify v2 emulation (`/twilio/v2/...`, standing in for `https://verify.twilio.com/v2`):
//! services (create, list, fetch, update, delete), verifications and verification checks, and
//! the verification attempts of every send (list and fetch), with HTTP Basic authentication,
//! form-encoded requests, Twilio's JSON resources and its `{"code","message","more_info","status"}`
//! errors.

mod attempt;
mod error;
mod format;
mod page;
mod records;
mod request;
mod request_id;
mod service;
mod slot;
mod state;
mod verification;

use axum::Router;
use axum::middleware::map_response_with_state;
use axum::routing::{get, post};

use crate::body::BodyFormat;
use crate::model::Provider;
use crate::wire::{Wire, finish};

use error::status_error;

pub(crate) use slot::{Twilio, TwilioSlot};

/// What the sandbox answers in Twilio's format (unknown routes, faults).
const WIRE: Wire = Wire {
    provider: Provider::Twilio,
    status_error,
    malformed_json: r#"{"sid":"VE00000000000000000000000000000000","status":"pend"#,
    body: BodyFormat::Form,
};

/// Routes of `https://verify.twilio.com` (nested under `/twilio`); every answer carries a
/// `Twilio-Request-Id` ([`request_id::stamp`]).
pub(crate) fn router(app: &Twilio) -> Router {
    let routes = Router::new()
        .route("/v2/Services", get(service::list).post(service::create))
        .route(
            "/v2/Services/{sid}",
            get(service::fetch)
                .post(service::update)
                .delete(service::delete),
        )
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
        )
        .route("/v2/Attempts", get(attempt::list))
        .route("/v2/Attempts/{sid}", get(attempt::fetch));
    finish(app, WIRE, routes).layer(map_response_with_state(app.clone(), request_id::stamp))
}
