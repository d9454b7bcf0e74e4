//! `start-email` and `check-email`: VerifyKit's e-mail verification, where the user sends an
//! e-mail with a given subject to VerifyKit.

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use time::Duration;

use super::constants::TIMEOUT_SECS;
use super::error::{VkError, respond};
use super::format::vk_date;
use super::records::EmailFlow;
use super::reference::new_reference;
use super::request::{guard, lang};
use super::slot::VerifyKit;
use crate::body::Input;
use crate::format::percent_encode;
use crate::model::{ControlError, Provider};
use crate::texts::Lang;
use crate::validate::looks_like_email;

/// The address users send their verification e-mail to.
const INBOX: &str = "verify@sandbox.verifykit.com";

/// `POST /v1.0/start-email`: answers `reference`, `to`, `subject`, `body`, `mailto`.
pub(super) async fn start_email(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(start(&app, &input))
}

/// `POST /v1.0/check-email`: in progress is HTTP 403 with `403036`.
pub(super) async fn check_email(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(check(&app, &input))
}

fn body_text(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Send this e-mail without changing the subject to verify your address.",
        Lang::Tr => "Adresinizi doğrulamak için bu e-postayı konusunu değiştirmeden gönderin.",
        Lang::Es => "Envía este correo sin cambiar el asunto para verificar tu dirección.",
    }
}

fn start(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    let config = &app.config;
    let mut state = app.lock();
    guard(&mut state, config, input)?;
    if input.str("email").is_some_and(|e| !looks_like_email(&e)) {
        return Err(VkError::EMAIL_INVALID);
    }
    if !state.has_credit(Provider::VerifyKit) {
        return Err(VkError::BALANCE);
    }
    let now = state.now();
    let reference = new_reference(&mut state);
    let subject = format!("verify-{}", state.rng.alphanumeric(12).to_ascii_lowercase());
    let body = body_text(lang(input));
    let mailto = format!(
        "mailto:{INBOX}?subject={}&body={}",
        percent_encode(&subject),
        percent_encode(body)
    );
    state.charge(Provider::VerifyKit);
    state.verifykit.emails.insert(
        reference.clone(),
        EmailFlow {
            subject: subject.clone(),
            expires_at: now + Duration::seconds(TIMEOUT_SECS),
            completion: None,
        },
    );
    Ok((
        StatusCode::OK,
        json!({"reference": reference, "to": INBOX, "subject": subject, "body": body, "mailto": mailto}),
    ))
}

fn check(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    let config = &app.config;
    let mut state = app.lock();
    guard(&mut state, config, input)?;
    let reference = input
        .str("reference")
        .ok_or(VkError::VALIDATION_NOT_FOUND)?;
    let code = input.str("code").ok_or(VkError::OTP_INVALID)?;
    let now = state.now();
    let flow = state
        .verifykit
        .emails
        .get(&reference)
        .ok_or(VkError::VALIDATION_NOT_FOUND)?;
    if !crate::otp::constant_time_eq(&code, &flow.subject) {
        return Err(VkError::OTP_INVALID);
    }
    match &flow.completion {
        Some((email, at)) => Ok((
            StatusCode::OK,
            json!({
                "emailVerify": true,
                "dkimVerify": true,
                "spfVerify": true,
                "email": email,
                "validationType": "email",
                "validationDate": vk_date(*at),
            }),
        )),
        None if now >= flow.expires_at => Err(VkError::EXPIRED),
        None => Err(VkError::VALIDATION_NOT_FOUND),
    }
}

/// Completes an e-mail flow as if `email` had sent the verification e-mail.
pub(crate) fn complete_email_flow(
    app: &VerifyKit,
    reference: &str,
    email: &str,
) -> Result<(), ControlError> {
    let email = email.trim();
    if !looks_like_email(email) {
        return Err(ControlError::InvalidRequest(format!(
            "{email:?} is not an e-mail address"
        )));
    }
    let mut state = app.lock();
    let now = state.now();
    let flow = state.verifykit.emails.get_mut(reference).ok_or_else(|| {
        ControlError::NotFound(format!(
            "no VerifyKit e-mail flow with reference {reference:?}"
        ))
    })?;
    if flow.completion.is_some() {
        return Err(ControlError::Conflict(format!(
            "flow {reference:?} is already completed"
        )));
    }
    if now >= flow.expires_at {
        return Err(ControlError::Expired(format!(
            "flow {reference:?} has expired"
        )));
    }
    flow.completion = Some((email.to_owned(), now));
    Ok(())
}
