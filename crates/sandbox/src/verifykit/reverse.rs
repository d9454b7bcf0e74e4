//! `start`, `check` and `check-whatsapp`: VerifyKit's WhatsApp/Telegram flows, where the user
//! sends a message to VerifyKit (reverse flow) or receives a code there (WhatsApp as OTP).

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use time::Duration;

use super::constants::{OTP_LENGTH, TIMEOUT_SECS};
use super::error::{VkError, respond};
use super::qr;
use super::records::{ReverseFlow, Session};
use super::reference::new_reference;
use super::request::{guard, lang, method_active};
use super::slot::VerifyKit;
use crate::body::Input;
use crate::format::percent_encode;
use crate::model::{Channel, ControlError, Provider, SentMessage};
use crate::otp::{CodeCheck, PendingCode};
use crate::phone;
use crate::texts::{self, Lang};

/// The WhatsApp number deeplinks point at (a reserved-looking sandbox number, not VerifyKit's).
pub(crate) const SANDBOX_WHATSAPP_NUMBER: &str = "15550100000";
/// The Telegram bot deeplinks point at.
pub(crate) const SANDBOX_TELEGRAM_BOT: &str = "VerifyKitSandboxBot";

/// `POST /v1.0/start`: starts a WhatsApp/Telegram validation.
pub(super) async fn start(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(start_flow(&app, &input))
}

/// `POST /v1.0/check`: polls a reverse flow: pending is `validationStatus: false`, a reference
/// the sandbox never issued is HTTP 403 with `403036` ("Validation not found.").
pub(super) async fn check(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(check_flow(&app, &input))
}

/// `POST /v1.0/check-whatsapp`: checks the code of a WhatsApp-as-OTP flow.
pub(super) async fn check_whatsapp(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(check_whatsapp_code(&app, &input))
}

/// The deeplink that opens the messaging app with the reference in the text.
fn deeplink(app: &str, lang: Lang, reference: &str) -> String {
    if app == "telegram" {
        format!("https://t.me/{SANDBOX_TELEGRAM_BOT}?start={reference}")
    } else {
        let text = percent_encode(&texts::reverse_flow_message(lang, reference));
        format!("https://wa.me/{SANDBOX_WHATSAPP_NUMBER}?text={text}")
    }
}

fn start_flow(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    let config = &app.config;
    let mut state = app.lock();
    guard(&mut state, config, input)?;
    let kind = input
        .str("app")
        .map(|a| a.to_ascii_lowercase())
        .ok_or(VkError::TYPE_NOT_ACTIVE)?;
    if !matches!(kind.as_str(), "whatsapp" | "telegram") || !method_active(config, &kind) {
        return Err(VkError::TYPE_NOT_ACTIVE);
    }
    let want_deeplink = input.bool("deeplink").unwrap_or(true);
    let want_qr = input.bool("qrCode").unwrap_or(false);
    if !want_deeplink && !want_qr {
        return Err(VkError::NO_DEEPLINK_OR_QR);
    }
    let lang = lang(input);
    let now = state.now();
    let otp_phone = match input.str("phoneNumber") {
        None => None,
        Some(raw) => {
            let parsed = match input.str("countryCode") {
                Some(country) => phone::parse_for_country(&raw, &country),
                None => phone::parse_international(&raw),
            };
            let parsed = parsed.ok_or(VkError::INVALID_PHONE)?;
            if state.verifykit.is_banned(&kind, parsed.e164()) {
                return Err(VkError::BANNED);
            }
            if !state.verifykit.may_send(parsed.e164(), now, config) {
                return Err(VkError::SEND_LIMIT);
            }
            Some(parsed)
        }
    };
    if !state.has_credit(Provider::VerifyKit) {
        return Err(VkError::BALANCE);
    }
    let reference = new_reference(&mut state);
    let link = deeplink(&kind, lang, &reference);
    let otp = otp_phone.map(|p| {
        let e164 = p.e164().to_owned();
        let code = state.new_code(&e164, OTP_LENGTH);
        state.send(SentMessage {
            provider: Provider::VerifyKit,
            phone: Some(e164.clone()),
            email: None,
            channel: if kind == "telegram" {
                Channel::Telegram
            } else {
                Channel::Whatsapp
            },
            code: Some(code.clone()),
            text: texts::otp_message(lang, "VerifyKit", &code, 5),
            lang: lang.code().to_owned(),
            reference: Some(reference.clone()),
            sent_at: now,
        });
        state.verifykit.record_send(&e164, now);
        let region = p.region().unwrap_or_default().to_owned();
        (
            e164,
            region,
            PendingCode::new(code, now, Duration::seconds(TIMEOUT_SECS)),
        )
    });
    state.charge(Provider::VerifyKit);
    state.verifykit.reverse.insert(
        reference.clone(),
        ReverseFlow {
            app: kind,
            expires_at: now + Duration::seconds(TIMEOUT_SECS),
            otp,
            completion: None,
        },
    );
    let mut result = Map::new();
    result.insert("reference".into(), json!(reference));
    if want_deeplink {
        result.insert("deeplink".into(), json!(link));
    } else {
        let png = qr::png_data_uri(&link)
            .ok_or_else(|| VkError::new(500, 500_008, "Internal server error."))?;
        result.insert("qrCode".into(), json!(png));
    }
    Ok((StatusCode::OK, Value::Object(result)))
}

fn check_flow(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    let config = &app.config;
    let mut state = app.lock();
    guard(&mut state, config, input)?;
    let reference = input
        .str("reference")
        .ok_or(VkError::VALIDATION_NOT_FOUND)?;
    let now = state.now();
    let flow = state
        .verifykit
        .reverse
        .get(&reference)
        .ok_or(VkError::VALIDATION_NOT_FOUND)?;
    match &flow.completion {
        Some((phone, session_id)) => {
            if state.verifykit.is_banned(&flow.app, phone) {
                return Err(VkError::BANNED);
            }
            Ok((
                StatusCode::OK,
                json!({"validationStatus": true, "sessionId": session_id, "appPlatform": "web"}),
            ))
        }
        None if now >= flow.expires_at => Err(VkError::EXPIRED),
        None => Ok((StatusCode::OK, json!({"validationStatus": false}))),
    }
}

fn check_whatsapp_code(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    let config = &app.config;
    let mut state = app.lock();
    guard(&mut state, config, input)?;
    let reference = input.str("reference").ok_or(VkError::OTP_NOT_FOUND)?;
    let code = input.str("code").ok_or(VkError::OTP_INVALID)?;
    let now = state.now();
    let st = &mut *state;
    let flow = st
        .verifykit
        .reverse
        .get_mut(&reference)
        .ok_or(VkError::OTP_NOT_FOUND)?;
    let kind = flow.app.clone();
    let Some((phone, region, pending)) = flow.otp.as_mut() else {
        return Err(VkError::OTP_NOT_FOUND);
    };
    match pending.check(&code, now, Some(config.verifykit_max_attempts)) {
        CodeCheck::Valid => {
            let session = Session {
                validation_type: kind,
                date: now,
                phone: phone.clone(),
                country: region.clone(),
            };
            let phone = phone.clone();
            let session_id = st.verifykit.create_session(&mut st.rng, session);
            if let Some(flow) = st.verifykit.reverse.get_mut(&reference) {
                flow.completion = Some((phone, session_id.clone()));
            }
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

/// Completes a reverse flow as if `phone` had sent the WhatsApp/Telegram message; returns the
/// session id that `check` will report.
pub(crate) fn complete_reverse_flow(
    app: &VerifyKit,
    reference: &str,
    phone: &str,
) -> Result<String, ControlError> {
    let parsed = phone::parse_international(phone).ok_or_else(|| {
        ControlError::InvalidRequest(format!(
            "{phone:?} is not a valid international phone number"
        ))
    })?;
    let mut state = app.lock();
    let now = state.now();
    let st = &mut *state;
    let flow = st.verifykit.reverse.get_mut(reference).ok_or_else(|| {
        ControlError::NotFound(format!("no VerifyKit flow with reference {reference:?}"))
    })?;
    if flow.otp.is_some() {
        return Err(ControlError::Conflict(
            "this flow sends a WhatsApp code (start with phoneNumber); finish it with check-whatsapp".into(),
        ));
    }
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
    let session = Session {
        validation_type: flow.app.clone(),
        date: now,
        phone: parsed.e164().to_owned(),
        country: parsed.region().unwrap_or_default().to_owned(),
    };
    let session_id = st.verifykit.create_session(&mut st.rng, session);
    if let Some(flow) = st.verifykit.reverse.get_mut(reference) {
        flow.completion = Some((parsed.e164().to_owned(), session_id.clone()));
    }
    Ok(session_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeplinks_carry_the_reference() {
        let wa = deeplink("whatsapp", Lang::Tr, "REF123");
        assert!(wa.starts_with("https://wa.me/15550100000?text="), "{wa}");
        assert!(wa.contains("REF123"));
        assert!(!wa.contains(' ') && !wa.contains('+'));
        assert_eq!(
            deeplink("telegram", Lang::En, "REF9"),
            "https://t.me/VerifyKitSandboxBot?start=REF9"
        );
    }
}
