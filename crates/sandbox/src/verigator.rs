//! Messente Verigator emulation (`/verigator/v1/...`): services, users, SMS/TOTP
//! authentication and PIN verification, authenticated by `X-Service-Auth: user:password`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use axum::Router;
use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::body::Input;
use crate::config::SandboxConfig;
use crate::model::{Channel, ControlError, Provider, SentMessage, TotpEnrollment};
use crate::otp::{CodeCheck, PendingCode, constant_time_eq};
use crate::server::provider_middleware;
use crate::state::{App, VerigatorSlot as State};
use crate::texts::{self, Lang};
use crate::{phone, totp};
use phone_verify_core::PhoneNumber;

/// Digits of a Verigator SMS PIN.
pub(crate) const PIN_LENGTH: usize = 6;

/// Routes of `https://api.verigator.com` (nested under `/verigator`).
pub(crate) fn router(app: &App) -> Router {
    Router::new()
        .route("/v1/service/service", post(create_service))
        .route(
            "/v1/service/service/{sid}",
            get(get_service).delete(delete_service),
        )
        .route(
            "/v1/service/service/{sid}/users",
            post(create_user).get(list_users),
        )
        .route(
            "/v1/service/service/{sid}/users/{uid}",
            get(get_user).delete(delete_user),
        )
        .route(
            "/v1/service/service/{sid}/users/{uid}/auth",
            post(start_auth).put(verify_pin),
        )
        .fallback(|| async { status_error(StatusCode::NOT_FOUND) })
        .method_not_allowed_fallback(|| async { status_error(StatusCode::METHOD_NOT_ALLOWED) })
        .layer(from_fn_with_state(
            (app.clone(), Provider::Verigator),
            provider_middleware,
        ))
        .with_state(app.clone())
}

/// Verigator's services and their users.
#[derive(Debug, Default)]
pub(crate) struct VerigatorState {
    services: HashMap<String, Service>,
}

impl VerigatorState {
    /// Empty state. Services and users are what the caller registers, so they are not
    /// bounded by `_capacity` (each user keeps only its latest authentication).
    pub(crate) fn new(_capacity: usize) -> Self {
        Self::default()
    }
}

#[derive(Debug)]
struct Service {
    id: String,
    name: String,
    fqdn: String,
    ctime: OffsetDateTime,
    users: Users,
}

/// A service's users, indexed so that creating, finding and deleting one stay O(log n) with
/// any number of users: by creation sequence (the listing's order), by id, by `id_in_service`.
#[derive(Debug, Default)]
struct Users {
    by_seq: BTreeMap<u64, User>,
    by_id: HashMap<String, u64>,
    by_id_in_service: HashMap<String, u64>,
    next_seq: u64,
}

impl Users {
    fn contains_id_in_service(&self, id_in_service: &str) -> bool {
        self.by_id_in_service.contains_key(id_in_service)
    }

    /// Adds `user` (its `id_in_service` must be new).
    fn insert(&mut self, user: User) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_id.insert(user.id.clone(), seq);
        self.by_id_in_service
            .insert(user.id_in_service.clone(), seq);
        self.by_seq.insert(seq, user);
    }

    fn get_mut(&mut self, uid: &str) -> Option<&mut User> {
        let seq = self.by_id.get(uid)?;
        self.by_seq.get_mut(seq)
    }

    fn remove(&mut self, uid: &str) -> bool {
        let Some(seq) = self.by_id.remove(uid) else {
            return false;
        };
        if let Some(user) = self.by_seq.remove(&seq) {
            self.by_id_in_service.remove(&user.id_in_service);
        }
        true
    }

    /// In creation order.
    fn iter(&self) -> impl Iterator<Item = &User> {
        self.by_seq.values()
    }
}

#[derive(Debug)]
struct User {
    id: String,
    id_in_service: String,
    phone: String,
    ctime: OffsetDateTime,
    totp_secret: Option<Vec<u8>>,
    /// The TOTP step of the last accepted code (a code is never accepted twice).
    last_totp_step: Option<u64>,
    auth: Option<PendingAuth>,
}

/// A started authentication.
#[derive(Debug)]
struct PendingAuth {
    /// `sms` or `totp`: the method actually used.
    method: &'static str,
    /// The SMS PIN; for TOTP, a placeholder carrying expiry and attempts.
    pin: PendingCode,
}

impl Service {
    fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "ctime": ctime(self.ctime)})
    }

    fn user_mut(&mut self, uid: &str) -> Option<&mut User> {
        self.users.get_mut(uid)
    }
}

impl User {
    fn to_json(&self) -> Value {
        json!({"id": self.id, "ctime": ctime(self.ctime), "id_in_service": self.id_in_service})
    }
}

/// RFC 3339 with milliseconds, as Verigator writes `ctime`.
fn ctime(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
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
pub(crate) fn status_error(status: StatusCode) -> Response {
    VgError(status, status.canonical_reason().unwrap_or("Error")).into_response()
}

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

async fn create_service(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let fqdn = required(&input, "fqdn", "Invalid data: fqdn and name are required")?;
        let name = required(&input, "name", "Invalid data: fqdn and name are required")?;
        let mut state = app.verigator();
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

async fn get_service(
    AxumState(app): AxumState<App>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let state = app.verigator();
        let service = state.verigator.services.get(&sid).ok_or(NO_SERVICE)?;
        Ok((StatusCode::OK, service.to_json()))
    })())
}

async fn delete_service(
    AxumState(app): AxumState<App>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        app.verigator()
            .verigator
            .services
            .remove(&sid)
            .ok_or(NO_SERVICE)?;
        Ok((StatusCode::ACCEPTED, Value::Null))
    })())
}

async fn create_user(
    AxumState(app): AxumState<App>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let id_in_service = required(
            &input,
            "id_in_service",
            "Invalid data: id_in_service and phone_number are required",
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
        let mut state = app.verigator();
        let now = state.now();
        let id = state.rng.uuid();
        let service = state.verigator.services.get_mut(&sid).ok_or(NO_SERVICE)?;
        if service.users.contains_id_in_service(&id_in_service) {
            return Err(VgError(StatusCode::CONFLICT, "User already exists"));
        }
        let user = User {
            id,
            id_in_service,
            phone: parsed.e164().to_owned(),
            ctime: now,
            totp_secret: None,
            last_totp_step: None,
            auth: None,
        };
        let body = user.to_json();
        service.users.insert(user);
        Ok((StatusCode::CREATED, body))
    })())
}

async fn list_users(
    AxumState(app): AxumState<App>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    let listed = (|| {
        authenticate(&app.config, &input)?;
        let state = app.verigator();
        let service = state.verigator.services.get(&sid).ok_or(NO_SERVICE)?;
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
            [(axum::http::header::CONTENT_TYPE, "application/json")],
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
        let user = json!({"id": id, "ctime": ctime(*created), "id_in_service": id_in_service});
        body.push_str(&user.to_string());
    }
    let n = users.len();
    let _ = write!(body, "],\"total\":{n},\"count\":{n}}}");
    body
}

async fn get_user(
    AxumState(app): AxumState<App>,
    Path((sid, uid)): Path<(String, String)>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let mut state = app.verigator();
        let service = state.verigator.services.get_mut(&sid).ok_or(NO_SERVICE)?;
        let user = service.user_mut(&uid).ok_or(NO_USER)?;
        Ok((StatusCode::OK, user.to_json()))
    })())
}

async fn delete_user(
    AxumState(app): AxumState<App>,
    Path((sid, uid)): Path<(String, String)>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let mut state = app.verigator();
        let service = state.verigator.services.get_mut(&sid).ok_or(NO_SERVICE)?;
        if !service.users.remove(&uid) {
            return Err(NO_USER);
        }
        Ok((StatusCode::ACCEPTED, Value::Null))
    })())
}

async fn start_auth(
    AxumState(app): AxumState<App>,
    Path((sid, uid)): Path<(String, String)>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let method = required(&input, "method", "Invalid data: method must be sms or totp")?
            .to_ascii_lowercase();
        if !matches!(method.as_str(), "sms" | "totp") {
            return Err(VgError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid data: method must be sms or totp",
            ));
        }
        let mut state = app.verigator();
        let now = state.now();
        let ttl = Duration::try_from(app.config.verigator_pin_ttl)
            .unwrap_or(Duration::minutes(5))
            .min(Duration::days(365));
        let (service_name, phone, enrolled) = {
            let service = state.verigator.services.get_mut(&sid).ok_or(NO_SERVICE)?;
            let name = service.name.clone();
            let user = service.user_mut(&uid).ok_or(NO_USER)?;
            (name, user.phone.clone(), user.totp_secret.is_some())
        };
        let used = if method == "totp" && enrolled {
            "totp"
        } else {
            "sms"
        };
        let pin = if used == "sms" {
            let code = state.new_code(&phone, PIN_LENGTH);
            let minutes = u64::try_from(ttl.whole_minutes().max(1)).unwrap_or(5);
            state.send(SentMessage {
                provider: Provider::Verigator,
                phone: Some(phone),
                email: None,
                channel: Channel::Sms,
                code: Some(code.clone()),
                text: texts::otp_message(Lang::En, &service_name, &code, minutes),
                lang: "en".to_owned(),
                reference: Some(uid.clone()),
                sent_at: now,
            });
            code
        } else {
            String::new()
        };
        if let Some(user) = state
            .verigator
            .services
            .get_mut(&sid)
            .and_then(|s| s.user_mut(&uid))
        {
            user.auth = Some(PendingAuth {
                method: used,
                pin: PendingCode::new(pin, now, ttl),
            });
        }
        Ok((
            StatusCode::CREATED,
            json!({"method": used, "auth_id": null}),
        ))
    })())
}

/// The failure detail Verigator returns with `verified: false`.
fn failure(method: &str, result: &str) -> Value {
    json!({
        "verified": false,
        "method": method,
        "status": {
            "throttled": result == "THROTTLED",
            "expired": result == "EXPIRED",
            "invalid": result == "INVALID",
            "result": result,
        },
    })
}

async fn verify_pin(
    AxumState(app): AxumState<App>,
    Path((sid, uid)): Path<(String, String)>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let token = required(&input, "token", "Invalid data: token is required")?;
        let max = app.config.verigator_max_attempts;
        let mut state = app.verigator();
        let now = state.now();
        let service = state.verigator.services.get_mut(&sid).ok_or(NO_SERVICE)?;
        let user = service.user_mut(&uid).ok_or(NO_USER)?;
        let Some(auth) = user.auth.as_mut() else {
            return Err(VgError(
                StatusCode::NOT_FOUND,
                "Verification not found; start authentication first",
            ));
        };
        let method = auth.method;
        let outcome = if method == "totp" {
            check_totp(user, &token, now, max)
        } else {
            auth.pin.check(&token, now, Some(max))
        };
        let body = match outcome {
            CodeCheck::Valid => {
                user.auth = None;
                json!({"verified": true, "method": method})
            }
            CodeCheck::Invalid | CodeCheck::Used => failure(method, "INVALID"),
            CodeCheck::Expired => failure(method, "EXPIRED"),
            CodeCheck::Throttled => failure(method, "THROTTLED"),
        };
        Ok((StatusCode::OK, body))
    })())
}

/// Checks a TOTP code (current step ±1, never a step at or before the last accepted one),
/// counting failures on the pending authentication.
fn check_totp(user: &mut User, token: &str, now: OffsetDateTime, max: u32) -> CodeCheck {
    let (Some(secret), Some(auth)) = (user.totp_secret.as_ref(), user.auth.as_mut()) else {
        return CodeCheck::Invalid;
    };
    if auth.pin.failed_attempts() >= max {
        return CodeCheck::Throttled;
    }
    if auth.pin.is_expired(now) {
        return CodeCheck::Expired;
    }
    let current = totp::step_at(now.unix_timestamp());
    let matched = [current.saturating_sub(1), current, current + 1]
        .into_iter()
        .find(|step| {
            user.last_totp_step.is_none_or(|last| *step > last)
                && constant_time_eq(token.trim(), &totp::hotp(secret, *step, totp::DIGITS))
        });
    if let Some(step) = matched {
        user.last_totp_step = Some(step);
        CodeCheck::Valid
    } else {
        auth.pin.record_failure();
        CodeCheck::Invalid
    }
}

fn find_user<'a>(
    state: &'a mut State,
    sid: &str,
    uid: &str,
) -> Result<(&'a str, &'a mut User), ControlError> {
    let service = state
        .verigator
        .services
        .get_mut(sid)
        .ok_or_else(|| ControlError::NotFound(format!("no Verigator service {sid:?}")))?;
    let name = service.name.as_str();
    let user = service.users.get_mut(uid).ok_or_else(|| {
        ControlError::NotFound(format!("no user {uid:?} in Verigator service {sid:?}"))
    })?;
    Ok((name, user))
}

/// Enrols a user in the authenticator app: new random secret; `totp` authentications then use it.
pub(crate) fn enroll_totp(app: &App, sid: &str, uid: &str) -> Result<TotpEnrollment, ControlError> {
    let mut state = app.verigator();
    let now = state.now();
    let secret: [u8; 20] = state.rng.bytes();
    let (service_name, user) = find_user(&mut state, sid, uid)?;
    let encoded = totp::base32(&secret);
    let enc = |s: &str| {
        url::form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let otpauth_uri = format!(
        "otpauth://totp/{}:{}?secret={encoded}&issuer={}&algorithm=SHA1&digits={}&period={}",
        enc(service_name),
        enc(&user.id_in_service),
        enc(service_name),
        totp::DIGITS,
        totp::STEP_SECONDS
    );
    let code = totp::totp(&secret, now.unix_timestamp(), totp::DIGITS);
    user.totp_secret = Some(secret.to_vec());
    user.last_totp_step = None;
    Ok(TotpEnrollment {
        secret: encoded,
        otpauth_uri,
        code,
    })
}

/// The enrolled user's current TOTP code and the seconds it stays current (sandbox clock).
pub(crate) fn totp_code(app: &App, sid: &str, uid: &str) -> Result<(String, u64), ControlError> {
    let mut state = app.verigator();
    let now = state.now().unix_timestamp();
    let (_, user) = find_user(&mut state, sid, uid)?;
    let secret = user.totp_secret.as_ref().ok_or_else(|| {
        ControlError::Conflict(format!("user {uid:?} has no authenticator enrolled"))
    })?;
    Ok((
        totp::totp(secret, now, totp::DIGITS),
        totp::seconds_left(now),
    ))
}

/// Registers many users of service `sid` at once (`id_in_service`, phone), as if each had been
/// created through the API; returns their user ids in order. Fails, registering none, if the
/// service does not exist or an `id_in_service` is taken or repeated.
pub(crate) fn seed_users(
    app: &App,
    sid: &str,
    users: impl IntoIterator<Item = (String, PhoneNumber)>,
) -> Result<Vec<String>, ControlError> {
    let users: Vec<(String, PhoneNumber)> = users.into_iter().collect();
    let mut state = app.verigator();
    let now = state.now();
    let ids: Vec<String> = users.iter().map(|_| state.rng.uuid()).collect();
    let service = state
        .verigator
        .services
        .get_mut(sid)
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
        service.users.insert(User {
            id: id.clone(),
            id_in_service,
            phone: phone.e164().to_owned(),
            ctime: now,
            totp_secret: None,
            last_totp_step: None,
            auth: None,
        });
    }
    Ok(ids)
}
