//! `/v1/service/service[/{sid}]`: creating, reading and deleting services.

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::error::{NO_SERVICE, VgError, respond};
use super::records::{Service, Users};
use super::request::{authenticate, required_text};
use super::slot::Verigator;
use crate::body::Input;

/// `POST /v1/service/service`: 201 with the service; 409 for a taken `fqdn`, 422 for a
/// missing field or one over [`MAX_TEXT_BYTES`](super::request::MAX_TEXT_BYTES).
pub(super) async fn create(AxumState(app): AxumState<Verigator>, input: Input) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let fqdn = required_text(
            &input,
            "fqdn",
            "Invalid data: fqdn and name are required",
            "Invalid data: fqdn is longer than 256 bytes",
        )?;
        let name = required_text(
            &input,
            "name",
            "Invalid data: fqdn and name are required",
            "Invalid data: name is longer than 256 bytes",
        )?;
        let mut state = app.lock();
        if state.verigator.fqdn_taken(&fqdn) {
            return Err(VgError(StatusCode::CONFLICT, "Service already exists"));
        }
        let service = Service {
            id: state.rng.uuid().into(),
            name,
            fqdn,
            ctime: state.now(),
            users: Users::default(),
        };
        let body = service.to_json();
        state.verigator.add_service(service);
        Ok((StatusCode::CREATED, body))
    })())
}

/// `GET /v1/service/service/{sid}`.
pub(super) async fn get_one(
    AxumState(app): AxumState<Verigator>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let state = app.lock();
        let service = state.verigator.service(&sid).ok_or(NO_SERVICE)?;
        Ok((StatusCode::OK, service.to_json()))
    })())
}

/// `DELETE /v1/service/service/{sid}`: 202, no body.
pub(super) async fn delete(
    AxumState(app): AxumState<Verigator>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        if !app.lock().verigator.remove_service(&sid) {
            return Err(NO_SERVICE);
        }
        Ok((StatusCode::ACCEPTED, Value::Null))
    })())
}
