//! Authorization of Verifik requests: account tokens (configured or issued by a login) and
//! app registrations' JWTs.

use base64::Engine as _;
use serde_json::json;
use time::OffsetDateTime;

use super::constants::CLIENT_ID;
use super::error::VfError;
use super::slot::VerifikSlot as State;
use super::state::Registration;
use crate::body::Input;
use crate::config::SandboxConfig;
use crate::otp::constant_time_eq;

/// The token of an `Authorization` header (`Bearer <jwt>` or the bare token).
pub(super) fn bearer(input: &Input) -> Option<String> {
    let raw = input.header("authorization")?;
    let token = match raw.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => raw,
    };
    (!token.is_empty()).then(|| token.to_owned())
}

/// Checks the `Authorization` header: 409 when missing, 401 when unknown, expired or revoked.
pub(super) fn authorize(
    state: &State,
    config: &SandboxConfig,
    input: &Input,
) -> Result<String, VfError> {
    let token = bearer(input).ok_or_else(VfError::missing_authorization)?;
    let configured =
        !state.verifik.configured_token_revoked && constant_time_eq(&token, &config.verifik_token);
    let issued = state
        .verifik
        .tokens
        .get(&token)
        .is_some_and(|expires| state.now() < *expires);
    if configured || issued {
        Ok(token)
    } else {
        Err(VfError::unauthorized())
    }
}

/// Who a request to a validation endpoint comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// An account token (configured or issued by a login).
    Account,
    /// The JWT of the app registration with this id.
    Registration(String),
}

/// Checks the `Authorization` header of the endpoints an app registration's JWT may call:
/// an account token or a live registration token.
pub(super) fn authorize_caller(
    state: &State,
    config: &SandboxConfig,
    input: &Input,
) -> Result<Caller, VfError> {
    match authorize(state, config, input) {
        Ok(_) => Ok(Caller::Account),
        Err(error) => {
            let token = bearer(input).ok_or(error.clone())?;
            registration_of(state, &token)
                .map(|r| Caller::Registration(r.id.clone()))
                .ok_or(error)
        }
    }
}

/// Checks that an app registration's JWT authorizes the request: 409 without a header, 401
/// for any other token (account tokens included, as Verifik documents).
pub(super) fn authorize_registration<'a>(
    state: &'a State,
    input: &Input,
) -> Result<&'a Registration, VfError> {
    let token = bearer(input).ok_or_else(VfError::missing_authorization)?;
    registration_of(state, &token).ok_or_else(VfError::unauthorized)
}

/// The live registration whose JWT is `token`.
pub(crate) fn registration_of<'a>(state: &'a State, token: &str) -> Option<&'a Registration> {
    state
        .verifik
        .registrations
        .get(token)
        .filter(|r| state.now() < r.expires_at)
}

/// Issues a JWT-shaped access token valid for `days`.
pub(super) fn issue_token(state: &mut State, days: i64) -> String {
    let expires = state.now() + time::Duration::days(days);
    let token = jwt(state, expires);
    state.verifik.tokens.insert(token.clone(), expires);
    token
}

/// A JWT-shaped token expiring at `expires` (not recorded anywhere).
pub(super) fn jwt(state: &mut State, expires: OffsetDateTime) -> String {
    let now = state.now();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = json!({
        "client": CLIENT_ID,
        "iat": now.unix_timestamp(),
        "exp": expires.unix_timestamp(),
        "jti": state.rng.hex(12),
    });
    let payload = b64.encode(payload.to_string());
    let sig = b64.encode(state.rng.bytes::<32>());
    format!("{header}.{payload}.{sig}")
}
