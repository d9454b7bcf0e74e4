//! App registrations (`POST /v2/app-registrations`): an end user of a project flow, and the
//! JWT its phone validations must be created and validated with.

use axum::extract::State as AxumState;
use axum::response::Response;
use serde_json::{Value, json};
use time::Duration;

use super::auth::{authorize, jwt};
use super::constants::{CLIENT_ID, PROJECT_FLOW_ID};
use super::envelope::envelope;
use super::error::{VfError, respond};
use super::fields::{clean_phone, valid_country_code};
use super::slot::Verifik;
use super::state::Registration;
use crate::body::Input;
use crate::format::iso_millis;
use crate::phone;
use crate::validate::MAX_EMAIL_BYTES;

/// Validity of an app registration's JWT, in minutes (Verifik documents 120).
pub(crate) const REGISTRATION_TOKEN_MINUTES: i64 = 120;

/// `POST /v2/app-registrations`.
pub(super) async fn create(AxumState(app): AxumState<Verifik>, input: Input) -> Response {
    respond(register(&app, &input))
}

fn register(app: &Verifik, input: &Input) -> Result<Value, VfError> {
    let mut state = app.lock();
    authorize(&state, &app.config, input)?;
    let mut missing: Vec<&str> = ["project", "projectFlow", "fullName"]
        .into_iter()
        .filter(|f| input.str(f).is_none())
        .collect();
    let (email, number) = (
        input.str("email"),
        input.str("phone").map(|p| clean_phone(&p)),
    );
    if email.is_none() && number.is_none() {
        missing.push("email or phone");
    }
    if number.is_some() && input.str("countryCode").is_none() {
        missing.push("countryCode");
    }
    if !missing.is_empty() {
        return Err(VfError::missing(&missing, false));
    }
    let field = |name: &str| input.str(name).unwrap_or_default();
    let (project, project_flow, full_name) =
        (field("project"), field("projectFlow"), field("fullName"));
    let email = email.map(|e| e.to_ascii_lowercase());
    if email.as_ref().is_some_and(|e| {
        e.split('@').count() != 2 || e.contains(char::is_whitespace) || e.len() > MAX_EMAIL_BYTES
    }) {
        return Err(VfError::bad_request("Invalid email format."));
    }
    let country_code = input.str("countryCode");
    let e164 = match (&number, &country_code) {
        (Some(number), Some(code)) => {
            if !valid_country_code(code) {
                return Err(VfError::invalid_country_code());
            }
            let parsed = phone::from_parts(code, number)
                .ok_or_else(|| VfError::bad_request("Invalid phone number format."))?;
            Some(parsed.e164().to_owned())
        }
        _ => None,
    };
    if !app.config.verifik_projects.contains(&project) {
        return Err(VfError::reason(404, "project_not_found"));
    }
    if project_flow != PROJECT_FLOW_ID {
        return Err(VfError::reason(404, "projectFlow_not_found"));
    }
    let now = state.now();
    let live = |r: &&Registration| now < r.expires_at && r.project == project;
    let registered = |pick: fn(&Registration) -> Option<&String>, value: &Option<String>| {
        value.as_ref().is_some_and(|v| {
            state
                .verifik
                .registrations
                .values()
                .filter(live)
                .any(|r| pick(r) == Some(v))
        })
    };
    if registered(|r| r.e164.as_ref(), &e164) {
        return Err(VfError::reason(409, "phone_is_registered_already"));
    }
    if registered(|r| r.email.as_ref(), &email) {
        return Err(VfError::reason(409, "email_is_registered_already"));
    }
    let expires_at = now + Duration::minutes(REGISTRATION_TOKEN_MINUTES);
    let id = state.rng.object_id(now);
    let token = jwt(&mut state, expires_at);
    let language = input.str("language").unwrap_or_else(|| "en".to_owned());
    let data = json!({
        "_id": id,
        "client": CLIENT_ID,
        "project": project,
        "projectFlow": project_flow,
        "status": "new",
        "email": email,
        "phone": number,
        "countryCode": country_code,
        "fullName": full_name,
        "language": language,
        "token": token,
        "ipAddress": input.str("ipAddress"),
        "createdAt": iso_millis(now),
        "updatedAt": iso_millis(now),
    });
    state.verifik.registrations.insert(
        token,
        Registration {
            id,
            project,
            project_flow,
            e164,
            email,
            expires_at,
        },
    );
    Ok(envelope(&mut state, data))
}
