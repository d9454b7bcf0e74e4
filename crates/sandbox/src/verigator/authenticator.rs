//! Authenticator-app enrolment for tests (control API): a user's TOTP secret and current code.

use super::records::User;
use super::slot::{Verigator, VerigatorSlot as State};
use crate::format::percent_encode;
use crate::model::{ControlError, TotpEnrollment};
use crate::totp;

/// The name of service `sid` and its user `uid`, or which of them does not exist.
fn find_user<'a>(
    state: &'a mut State,
    sid: &str,
    uid: &str,
) -> Result<(&'a str, &'a mut User), ControlError> {
    let service = state
        .verigator
        .service_mut(sid)
        .ok_or_else(|| ControlError::NotFound(format!("no Verigator service {sid:?}")))?;
    let name = service.name.as_str();
    let user = service.users.get_mut(uid).ok_or_else(|| {
        ControlError::NotFound(format!("no user {uid:?} in Verigator service {sid:?}"))
    })?;
    Ok((name, user))
}

/// Enrols a user in the authenticator app: new random secret; `totp` authentications then use it.
pub(crate) fn enroll_totp(
    app: &Verigator,
    sid: &str,
    uid: &str,
) -> Result<TotpEnrollment, ControlError> {
    let mut state = app.lock();
    let now = state.now();
    let secret: [u8; 20] = state.rng.bytes();
    let (service_name, user) = find_user(&mut state, sid, uid)?;
    let encoded = totp::base32(&secret);
    let otpauth_uri = format!(
        "otpauth://totp/{}:{}?secret={encoded}&issuer={}&algorithm=SHA1&digits={}&period={}",
        percent_encode(service_name),
        percent_encode(&user.id_in_service),
        percent_encode(service_name),
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
pub(crate) fn totp_code(
    app: &Verigator,
    sid: &str,
    uid: &str,
) -> Result<(String, u64), ControlError> {
    let mut state = app.lock();
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
