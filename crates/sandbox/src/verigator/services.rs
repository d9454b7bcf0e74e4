//! `/v1/service/service[/{sid}]`: creating, reading and deleting services.

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::error::{NO_SERVICE, VgError, respond};
use super::records::{Service, Users};
use super::request::{authenticate, required};
use super::slot::Verigator;
use crate::body::Input;

/// `POST /v1/service/service`: 201 with the service; 409 for a taken `fqdn`.
pub(super) async fn create(AxumState(app): AxumState<Verigator>, input: Input) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let fqdn = required(&input, "fqdn", "Invalid data: fqdn and name are required")?;
        let name = required(&input, "name", "Invalid data: fqdn and name are required")?;
        let mut state = app.lock();
        if state
            .verigator
            .services
            .values()
            .any(|s| s.fqdn.eq_ignore_ascii_case(&fqdn))
        {
            return Err(VgError(StatusCode::CONFLICT, "Service already exists"));
        }
        let id = state.rng.uuid();
        let service = Service {
            id: id.clone(),
            name,
            fqdn,
            ctime: state.now(),
            users: Users::default(),
        };
        let body = service.to_json();
        state.verigator.services.insert(id, service);
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
        let service = state.verigator.services.get(&sid).ok_or(NO_SERVICE)?;
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
        app.lock()
            .verigator
            .services
            .remove(&sid)
            .ok_or(NO_SERVICE)?;
        Ok((StatusCode::ACCEPTED, Value::Null))
    })())
}
