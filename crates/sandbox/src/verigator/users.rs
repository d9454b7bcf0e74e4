//! `/v1/service/service/{sid}/users[/{uid}]`: creating, listing, reading and deleting a
//! service's users, and seeding many at once (control API).

use std::fmt::Write as _;

use axum::extract::{Path, State as AxumState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use phone_verify_core::PhoneNumber;
use serde_json::Value;
use time::OffsetDateTime;

use super::error::{NO_SERVICE, NO_USER, VgError, respond};
use super::records::{User, user_json};
use super::request::{MAX_TEXT_BYTES, authenticate, required, required_text};
use super::slot::Verigator;
use super::state::MAX_USERS;
use crate::body::Input;
use crate::model::ControlError;
use crate::phone;

/// `POST /v1/service/service/{sid}/users`: 201 with the user; 409 for a taken
/// `id_in_service`, 422 for a missing field, an `id_in_service` over [`MAX_TEXT_BYTES`] or a
/// number that is not international.
pub(super) async fn create(
    AxumState(app): AxumState<Verigator>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let id_in_service = required_text(
            &input,
            "id_in_service",
            "Invalid data: id_in_service and phone_number are required",
            "Invalid data: id_in_service is longer than 256 bytes",
        )?;
        let raw_phone = required(
            &input,
            "phone_number",
            "Invalid data: id_in_service and phone_number are required",
        )?;
        let parsed = phone::parse_international(&raw_phone).ok_or(VgError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid data: phone_number is not a valid international number",
        ))?;
        let mut state = app.lock();
        let now = state.now();
        let id = state.rng.uuid();
        let service = state.verigator.service(&sid).ok_or(NO_SERVICE)?;
        if service.users.contains_id_in_service(&id_in_service) {
            return Err(VgError(StatusCode::CONFLICT, "User already exists"));
        }
        let user = User::new(id, id_in_service, parsed.e164().to_owned(), now);
        let body = user.to_json();
        state.verigator.add_user(&sid, user);
        Ok((StatusCode::CREATED, body))
    })())
}

/// `GET /v1/service/service/{sid}/users`: every user in creation order.
pub(super) async fn list(
    AxumState(app): AxumState<Verigator>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    let listed = (|| {
        authenticate(&app.config, &input)?;
        let state = app.lock();
        let service = state.verigator.service(&sid).ok_or(NO_SERVICE)?;
        // Copy what is listed under the lock; write the JSON after releasing it.
        Ok::<_, VgError>(
            service
                .users
                .iter()
                .map(|u| (u.id.clone(), u.ctime, u.id_in_service.clone()))
                .collect::<Vec<_>>(),
        )
    })();
    match listed {
        Ok(users) => (
            [(header::CONTENT_TYPE, "application/json")],
            user_list(&users),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// `{"users": [...], "total": n, "count": n}`, written user by user (no intermediate tree).
fn user_list(users: &[(String, OffsetDateTime, String)]) -> String {
    let mut body = String::with_capacity(32 + users.len() * 112);
    body.push_str("{\"users\":[");
    for (i, (id, created, id_in_service)) in users.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&user_json(id, *created, id_in_service).to_string());
    }
    let n = users.len();
    let _ = write!(body, "],\"total\":{n},\"count\":{n}}}");
    body
}

/// `GET /v1/service/service/{sid}/users/{uid}`.
pub(super) async fn get_one(
    AxumState(app): AxumState<Verigator>,
    Path((sid, uid)): Path<(String, String)>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let mut state = app.lock();
        let service = state.verigator.service_mut(&sid).ok_or(NO_SERVICE)?;
        let user = service.users.get_mut(&uid).ok_or(NO_USER)?;
        Ok((StatusCode::OK, user.to_json()))
    })())
}

/// `DELETE /v1/service/service/{sid}/users/{uid}`: 202, no body.
pub(super) async fn delete(
    AxumState(app): AxumState<Verigator>,
    Path((sid, uid)): Path<(String, String)>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let mut state = app.lock();
        let service = state.verigator.service_mut(&sid).ok_or(NO_SERVICE)?;
        if !service.users.remove(&uid) {
            return Err(NO_USER);
        }
        Ok((StatusCode::ACCEPTED, Value::Null))
    })())
}

/// Registers many users of service `sid` at once (`id_in_service`, phone), as if each had been
/// created through the API; returns their user ids in order. Fails, registering none, if the
/// service does not exist, an `id_in_service` is taken, repeated or over [`MAX_TEXT_BYTES`], or
/// there are more than [`MAX_USERS`] users.
pub(crate) fn seed_users(
    app: &Verigator,
    sid: &str,
    users: impl IntoIterator<Item = (String, PhoneNumber)>,
) -> Result<Vec<String>, ControlError> {
    let users: Vec<(String, PhoneNumber)> = users.into_iter().collect();
    if users.len() > MAX_USERS {
        return Err(ControlError::InvalidRequest(format!(
            "at most {MAX_USERS} Verigator users at once (the users Verigator keeps)"
        )));
    }
    if let Some((long, _)) = users.iter().find(|(id, _)| id.len() > MAX_TEXT_BYTES) {
        return Err(ControlError::InvalidRequest(format!(
            "id_in_service of {} bytes: at most {MAX_TEXT_BYTES}",
            long.len()
        )));
    }
    let mut state = app.lock();
    let now = state.now();
    let ids: Vec<String> = users.iter().map(|_| state.rng.uuid()).collect();
    let service = state
        .verigator
        .service(sid)
        .ok_or_else(|| ControlError::NotFound(format!("no Verigator service {sid:?}")))?;
    let mut seen = std::collections::HashSet::with_capacity(users.len());
    if let Some((taken, _)) = users.iter().find(|(id_in_service, _)| {
        service.users.contains_id_in_service(id_in_service) || !seen.insert(id_in_service)
    }) {
        return Err(ControlError::Conflict(format!(
            "a Verigator user with id_in_service {taken:?} already exists"
        )));
    }
    for ((id_in_service, phone), id) in users.into_iter().zip(&ids) {
        let user = User::new(id.clone(), id_in_service, phone.e164().to_owned(), now);
        state.verigator.add_user(sid, user);
    }
    Ok(ids)
}
