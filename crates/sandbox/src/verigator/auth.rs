//! `/v1/service/service/{sid}/users/{uid}/auth`: starting an SMS or TOTP authentication
//! (`POST`) and verifying its PIN (`PUT`).

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::error::{NO_SERVICE, NO_USER, VgError, respond};
use super::records::{PendingAuth, User};
use super::request::{authenticate, required};
use super::slot::Verigator;
use crate::body::Input;
use crate::model::{Channel, Provider, SentMessage};
use crate::otp::{CodeCheck, PendingCode, constant_time_eq};
use crate::texts::{self, Lang};
use crate::totp;

/// Digits of a Verigator SMS PIN.
const PIN_LENGTH: usize = 6;

/// `POST .../auth`: starts `sms` (sends a PIN) or `totp` (falls back to `sms` for a user
/// without an authenticator); 201 with the method used.
pub(super) async fn start(
    AxumState(app): AxumState<Verigator>,
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
        let mut state = app.lock();
        let now = state.now();
        let ttl = Duration::try_from(app.config.verigator_pin_ttl)
            .unwrap_or(Duration::minutes(5))
            .min(Duration::days(365));
        let (service_name, phone, enrolled) = {
            let service = state.verigator.service_mut(&sid).ok_or(NO_SERVICE)?;
            let name = service.name.clone();
            let user = service.users.get_mut(&uid).ok_or(NO_USER)?;
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
            .service_mut(&sid)
            .and_then(|s| s.users.get_mut(&uid))
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

/// `PUT .../auth`: checks `token` against the pending authentication; 200 with `verified`
/// and, on failure, why.
pub(super) async fn verify_pin(
    AxumState(app): AxumState<Verigator>,
    Path((sid, uid)): Path<(String, String)>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&app.config, &input)?;
        let token = required(&input, "token", "Invalid data: token is required")?;
        let max = app.config.verigator_max_attempts;
        let mut state = app.lock();
        let now = state.now();
        let service = state.verigator.service_mut(&sid).ok_or(NO_SERVICE)?;
        let user = service.users.get_mut(&uid).ok_or(NO_USER)?;
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
