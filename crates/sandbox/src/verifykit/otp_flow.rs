//! `send-otp` and `check-otp`: VerifyKit's SMS one-time-code flow.

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use time::Duration;

use super::constants::{OTP_LENGTH, TIMEOUT_SECS};
use super::error::{VkError, respond};
use super::records::{OtpFlow, Session};
use super::reference::new_reference;
use super::request::{guard, lang, method_active};
use super::slot::VerifyKit;
use crate::body::Input;
use crate::model::{Channel, Provider, SentMessage};
use crate::otp::CodeCheck;
use crate::phone;
use crate::texts;

/// `POST /v1.0/send-otp`: sends a code by SMS; answers 201 with `reference`, `timeout`, `length`.
pub(super) async fn send_otp(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(send(&app, &input))
}

/// `POST /v1.0/check-otp`: checks the code of a reference; answers `validationStatus`, `sessionId`.
pub(super) async fn check_otp(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(check(&app, &input))
}

fn send(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    let config = &app.config;
    let mut state = app.lock();
    guard(&mut state, config, input)?;
    let country = input.str("countryCode").ok_or(VkError::INVALID_PHONE)?;
    let raw = input.str("phoneNumber").ok_or(VkError::INVALID_PHONE)?;
    let phone = phone::parse_for_country(&raw, &country).ok_or(VkError::INVALID_PHONE)?;
    if !method_active(config, "otp") {
        return Err(VkError::OTP_NOT_ACTIVE);
    }
    let e164 = phone.e164().to_owned();
    if config.verifykit_otp_test_numbers_only && !state.is_test_number(&e164) {
        return Err(VkError::OTP_TEST_NUMBERS_ONLY);
    }
    if state.verifykit.is_banned("otp", &e164) {
        return Err(VkError::BANNED);
    }
    let now = state.now();
    if !state.verifykit.may_send(&e164, now, config) {
        return Err(VkError::SEND_LIMIT);
    }
    if !state.has_credit(Provider::VerifyKit) {
        return Err(VkError::BALANCE);
    }
    let lang = lang(input);
    let code = state.new_code(&e164, OTP_LENGTH);
    let reference = new_reference(&mut state);
    let length = code.len();
    let text = texts::otp_message(lang, "VerifyKit", &code, 5);
    state.send(SentMessage {
        provider: Provider::VerifyKit,
        phone: Some(e164.clone()),
        email: None,
        channel: Channel::Sms,
        code: Some(code.clone()),
        text,
        lang: lang.code().to_owned(),
        reference: Some(reference.clone()),
        sent_at: now,
    });
    state.charge(Provider::VerifyKit);
    let vk = &mut state.verifykit;
    vk.record_send(&e164, now);
    // As the newest entry, so the two maps forget a number's live OTP together.
    if let Some(previous) = vk.live_otp.insert_newest(e164.clone(), reference.clone()) {
        vk.otps.remove(&previous);
    }
    let country = phone
        .region()
        .map_or(country.to_ascii_uppercase(), str::to_owned);
    vk.otps.insert(
        reference.clone(),
        OtpFlow {
            phone: e164,
            country,
            code: crate::otp::PendingCode::new(code, now, Duration::seconds(TIMEOUT_SECS)),
        },
    );
    Ok((
        StatusCode::CREATED,
        json!({"reference": reference, "timeout": TIMEOUT_SECS, "length": length}),
    ))
}

fn check(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    let config = &app.config;
    let mut state = app.lock();
    guard(&mut state, config, input)?;
    let country = input.str("countryCode").ok_or(VkError::INVALID_PHONE)?;
    let raw = input.str("phoneNumber").ok_or(VkError::INVALID_PHONE)?;
    let phone = phone::parse_for_country(&raw, &country).ok_or(VkError::INVALID_PHONE)?;
    let reference = input.str("reference").ok_or(VkError::OTP_NOT_FOUND)?;
    let code = input.str("code").ok_or(VkError::OTP_INVALID)?;
    let now = state.now();
    let max = config.verifykit_max_attempts;
    let flow = state
        .verifykit
        .otps
        .get_mut(&reference)
        .filter(|flow| flow.phone == phone.e164())
        .ok_or(VkError::OTP_NOT_FOUND)?;
    match flow.code.check(&code, now, Some(max)) {
        CodeCheck::Valid => {
            let session = Session {
                validation_type: "otp".to_owned(),
                date: now,
                phone: flow.phone.clone(),
                country: flow.country.clone(),
            };
            let st = &mut *state;
            st.verifykit.otps.remove(&reference);
            if st
                .verifykit
                .live_otp
                .get(&session.phone)
                .is_some_and(|r| *r == reference)
            {
                st.verifykit.live_otp.remove(&session.phone);
            }
            let session_id = st.verifykit.create_session(&mut st.rng, session);
            Ok((
                StatusCode::OK,
                json!({"validationStatus": true, "sessionId": session_id}),
            ))
        }
        CodeCheck::Invalid => Err(VkError::OTP_INVALID),
        CodeCheck::Expired => Err(VkError::EXPIRED),
        CodeCheck::Throttled | CodeCheck::Used => Err(VkError::OTP_NOT_FOUND),
    }
}
