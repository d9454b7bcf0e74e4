//! Token acquisition: phone and e-mail login with OTP confirmation, session renewal and
//! renew-and-revoke.

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::Duration;

use super::auth::{authorize, issue_token};
use super::constants::{OTP_LENGTH, OTP_MINUTES, PROJECT_FLOW_ID, TOKEN_DAYS};
use super::envelope::envelope;
use super::error::{VfError, respond};
use super::fields::{clean_phone, otp_field, valid_country_code};
use super::slot::Verifik;
use super::validations::{NewValidation, issue};
use crate::body::Input;
use crate::config::DEFAULT_VERIFIK_PROJECT;
use crate::format::iso_millis;
use crate::model::{Channel, Provider, SentMessage};
use crate::otp::{CodeCheck, PendingCode};
use crate::phone;
use crate::texts::{self, Lang};
use crate::validate::looks_like_email;

/// Longest renewal `expiresIn` accepted, in months.
const MAX_RENEW_MONTHS: i64 = 1200;

/// `POST /v2/projects/phone-login`: sends a login code by WhatsApp.
pub(super) async fn phone_login(AxumState(app): AxumState<Verifik>, input: Input) -> Response {
    respond(start_phone_login(&app, &input))
}

/// `POST /v2/projects/phone-login/confirm`: exchanges the code for an access token.
pub(super) async fn phone_login_confirm(
    AxumState(app): AxumState<Verifik>,
    input: Input,
) -> Response {
    respond(confirm_phone_login(&app, &input))
}

/// `POST /v2/projects/email-login?email=...`: sends a login code by e-mail.
pub(super) async fn email_login(AxumState(app): AxumState<Verifik>, input: Input) -> Response {
    match start_email_login(&app, &input) {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(()) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"code": "NotFound", "message": "invalid_email"})),
        )
            .into_response(),
    }
}

/// `POST /v2/projects/email-login/confirm`: exchanges the e-mailed code for an access token.
pub(super) async fn email_login_confirm(
    AxumState(app): AxumState<Verifik>,
    input: Input,
) -> Response {
    respond(confirm_email_login(&app, &input))
}

/// `GET /v2/auth/session?origin=refresh&expiresIn=N`: a new token valid `N` months.
pub(super) async fn renew_session(AxumState(app): AxumState<Verifik>, input: Input) -> Response {
    match renew(&app, &input) {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `POST /v2/auth/renew-and-revoke`: a new 30-day token; every older token stops working.
pub(super) async fn renew_and_revoke(AxumState(app): AxumState<Verifik>, input: Input) -> Response {
    let outcome = {
        let mut state = app.lock();
        authorize(&state, &app.config, &input).map(|_| {
            state.verifik.tokens.clear();
            state.verifik.configured_token_revoked = true;
            issue_token(&mut state, TOKEN_DAYS)
        })
    };
    match outcome {
        Ok(token) => (StatusCode::OK, axum::Json(json!({"token": token}))).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The phone of a login request: `countryCode` + `phone` (string or number).
fn login_phone(
    input: &Input,
    third: &str,
) -> Result<(String, String, phone_verify_core::PhoneNumber), VfError> {
    let country = input.str("countryCode");
    let number = input.str("phone");
    let third_present = match third {
        "otp" => otp_field(input, "otp").is_some(),
        other => input.str(other).is_some(),
    };
    let missing: Vec<&str> = [
        ("countryCode", country.is_some()),
        ("phone", number.is_some()),
        (third, third_present),
    ]
    .into_iter()
    .filter_map(|(name, present)| (!present).then_some(name))
    .collect();
    if !missing.is_empty() {
        return Err(VfError::missing(&missing, true));
    }
    let (country, number) = (
        country.unwrap_or_default(),
        clean_phone(&number.unwrap_or_default()),
    );
    if !valid_country_code(&country) {
        return Err(VfError::invalid_country_code());
    }
    let parsed = phone::from_parts(&country, &number)
        .ok_or_else(|| VfError::bad_request("Invalid phone number format."))?;
    Ok((country, number, parsed))
}

fn start_phone_login(app: &Verifik, input: &Input) -> Result<Value, VfError> {
    let (country_code, phone, parsed) = login_phone(input, "type")?;
    if input.str("type").as_deref() != Some("login") {
        return Err(VfError::invalid(
            "Invalid type. Phone login uses type \"login\".",
        ));
    }
    let language = super::validations::stored_language(input)?;
    let mut state = app.lock();
    let record = issue(
        &mut state,
        NewValidation {
            source: "login",
            project: Some(DEFAULT_VERIFIK_PROJECT.to_owned()),
            project_flow: Some(PROJECT_FLOW_ID.to_owned()),
            app_registration: None,
            country_code,
            phone,
            e164: parsed.e164().to_owned(),
            gateway: "whatsapp".to_owned(),
            kind: "login".to_owned(),
            validation_method: "verificationCode".to_owned(),
            title: Some("Verifik Client".to_owned()),
            language,
            redirect_url: Some("https://verifik.co".to_owned()),
            webhook_url: None,
            identity_url: None,
            requires_2fa: false,
            ip_address: None,
            expires_at: None,
            send: true,
        },
    );
    let body = record.to_created_json();
    // A restarted login is the newest: the oldest logins are forgotten first.
    state
        .verifik
        .phone_logins
        .insert_newest(record.e164.clone(), record);
    Ok(envelope(&mut state, body))
}

fn confirm_phone_login(app: &Verifik, input: &Input) -> Result<Value, VfError> {
    let (_, _, parsed) = login_phone(input, "otp")?;
    let otp = otp_field(input, "otp").unwrap_or_default();
    let mut state = app.lock();
    let now = state.now();
    let invalid = || VfError::bad_request("Invalid OTP code.");
    let login = state
        .verifik
        .phone_logins
        .get_mut(parsed.e164())
        .ok_or_else(invalid)?;
    let code = login.code.as_mut().ok_or_else(invalid)?;
    if code.check(&otp, now, None) != CodeCheck::Valid {
        return Err(invalid());
    }
    state.verifik.phone_logins.remove(parsed.e164());
    let token = issue_token(&mut state, TOKEN_DAYS);
    Ok(json!({"data": {"accessToken": token, "tokenType": "bearer"}}))
}

fn start_email_login(app: &Verifik, input: &Input) -> Result<Value, ()> {
    let email = input
        .query("email")
        .map(str::to_owned)
        .or_else(|| input.str("email"))
        .ok_or(())?;
    let email = email.trim().to_ascii_lowercase();
    if !looks_like_email(&email) {
        return Err(());
    }
    let lang = Lang::from_tag(input.str_or_query("language").as_deref());
    let mut state = app.lock();
    let now = state.now();
    let code = state.new_code(&email, OTP_LENGTH);
    let expires_at = now + Duration::minutes(OTP_MINUTES);
    state.send(SentMessage {
        provider: Provider::Verifik,
        phone: None,
        email: Some(email.clone()),
        channel: Channel::Email,
        code: Some(code.clone()),
        text: texts::email_login_message(lang, &code),
        lang: lang.code().to_owned(),
        reference: None,
        sent_at: now,
    });
    state.verifik.email_logins.insert_newest(
        email.clone(),
        PendingCode::new(code, now, Duration::minutes(OTP_MINUTES)),
    );
    let data = json!({"status": "sent", "email": email, "expiresAt": iso_millis(expires_at)});
    Ok(envelope(&mut state, data))
}

fn confirm_email_login(app: &Verifik, input: &Input) -> Result<Value, VfError> {
    let email = input.str("email").map(|e| e.to_ascii_lowercase());
    let otp = otp_field(input, "otp");
    let (Some(email), Some(otp)) = (email, otp) else {
        let missing: Vec<&str> = [
            ("email", input.str("email").is_some()),
            ("otp", input.body.contains_key("otp")),
        ]
        .into_iter()
        .filter_map(|(name, present)| (!present).then_some(name))
        .collect();
        return Err(VfError::missing(&missing, true));
    };
    let mut state = app.lock();
    let now = state.now();
    let invalid = || VfError {
        status: 400,
        code: "ERROR".into(),
        message: "invalid_otp".into(),
    };
    let pending = state
        .verifik
        .email_logins
        .get_mut(&email)
        .ok_or_else(invalid)?;
    if pending.check(&otp, now, None) != CodeCheck::Valid {
        return Err(invalid());
    }
    state.verifik.email_logins.remove(&email);
    let token = issue_token(&mut state, TOKEN_DAYS);
    Ok(json!({"data": {"accessToken": token, "tokenType": "bearer"}}))
}

fn renew(app: &Verifik, input: &Input) -> Result<Value, VfError> {
    let mut state = app.lock();
    authorize(&state, &app.config, input)?;
    let months = match input.query("expiresIn") {
        None => 1,
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|m| (1..=MAX_RENEW_MONTHS).contains(m))
            .ok_or_else(|| {
                VfError::invalid("Invalid expiresIn. Use a number of months between 1 and 1200.")
            })?,
    };
    let token = issue_token(&mut state, months * TOKEN_DAYS);
    Ok(json!({"accessToken": token, "tokenType": "bearer"}))
}
