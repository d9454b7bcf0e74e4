//! Verifications and their checks: `POST /v2/Services/{ServiceSid}/Verifications`, `GET` and
//! `POST /v2/Services/{ServiceSid}/Verifications/{Sid}`, and
//! `POST /v2/Services/{ServiceSid}/VerificationCheck`.
//!
//! A verification lives 10 minutes (sandbox clock). Starting one again for the same `To` while
//! it is pending resends its code on the same SID, up to 5 sends (the 6th is `60203`); it takes
//! 5 wrong codes (the 5th answers `max_attempts_reached`, later checks `60202`). Once approved,
//! canceled or expired it is gone for the API (`20404`), as on Twilio.
//!
//! On a PSD2 service (`Psd2Enabled`) a verification is bound to a transaction, as Twilio's
//! "Verify Transactions for PSD2" describes: starting one takes `Amount` and `Payee` (`60206`
//! without them), its code is "unique to the To, Amount, and Payee combination" (a start with
//! another amount or payee is a new verification with a new code, not a resend). Its check
//! takes them too (`60206` without them, no attempt counted), and a check with another
//! `Amount` or `Payee` than the start's is a wrong code. A verification of another service
//! takes neither, to start or to check (`60200`).

use std::net::IpAddr;

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use phone_verify_core::{NumberType, PhoneNumber};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::error::{TwError, respond};
use super::format::new_sid;
use super::records::{Attempt, Status, TwChannel, Verification};
use super::request::{authenticate, base_url, text_param};
use super::slot::Twilio;
use super::state::TwilioState;
use crate::body::Input;
use crate::config::TWILIO_MAX_CHECKS;
use crate::model::{Provider, SentMessage};
use crate::otp::constant_time_eq;
use crate::texts::{self, Lang};

/// How long a verification stays pending.
const LIFETIME_MINUTES: i64 = 10;
/// Sends per verification; the next one answers `60203`.
const MAX_SENDS: usize = 5;

/// `To` for `channel`: an e-mail address for `email` (kept lowercase), else a number in E.164
/// exactly (`+` and digits, a valid number).
fn recipient(raw: &str, channel: TwChannel) -> Result<String, TwError> {
    let invalid = || TwError::invalid("To", Some(raw));
    if channel == TwChannel::Email {
        return crate::validate::looks_like_email(raw)
            .then(|| raw.to_ascii_lowercase())
            .ok_or_else(invalid);
    }
    let plausible = raw
        .strip_prefix('+')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
    if !plausible {
        return Err(invalid());
    }
    PhoneNumber::parse(raw)
        .ok()
        .filter(|p| p.e164() == raw)
        .map(|p| p.e164().to_owned())
        .ok_or_else(invalid)
}

/// `mobile`, `landline` or `voip` from libphonenumber's metadata, as the SDK classifies the
/// number ([`PhoneNumber::number_type`]; `None` when unknown).
fn line_type(e164: &str) -> Option<&'static str> {
    match PhoneNumber::parse(e164).ok()?.number_type() {
        NumberType::Mobile | NumberType::FixedLineOrMobile => Some("mobile"),
        NumberType::FixedLine => Some("landline"),
        NumberType::Voip => Some("voip"),
        _ => None,
    }
}

/// The validated parameters of `POST .../Verifications`.
#[derive(Debug)]
struct Start {
    to: String,
    channel: TwChannel,
    lang: Lang,
    custom_code: Option<String>,
    amount: Option<String>,
    payee: Option<String>,
}

/// Reads and checks every parameter before anything is sent.
fn start_params(input: &Input) -> Result<Start, TwError> {
    let raw_to = input
        .str("To")
        .ok_or_else(|| TwError::invalid("To", None))?;
    let channel = TwChannel::parse(
        &input
            .str("Channel")
            .ok_or_else(|| TwError::invalid("Channel", None))?,
    )?;
    let to = recipient(&raw_to, channel)?;
    let locale = input.str("Locale");
    if let Some(locale) = &locale {
        let well_formed = (2..=10).contains(&locale.len())
            && locale.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-');
        if !well_formed {
            return Err(TwError::invalid("Locale", Some(locale)));
        }
    }
    let custom_code = input.str("CustomCode");
    if let Some(code) = &custom_code
        && !((4..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(TwError::invalid("CustomCode", Some(code)));
    }
    if let Some(ip) = input.str("DeviceIp")
        && ip.parse::<IpAddr>().is_err()
    {
        return Err(TwError::invalid("DeviceIp", Some(&ip)));
    }
    if let Some(risk) = input.str("RiskCheck")
        && !matches!(risk.as_str(), "enable" | "disable")
    {
        return Err(TwError::invalid("RiskCheck", Some(&risk)));
    }
    if let Some(tags) = input.str("Tags")
        && !matches!(serde_json::from_str::<Value>(&tags), Ok(Value::Object(_)))
    {
        return Err(TwError::invalid("Tags", Some(&tags)));
    }
    Ok(Start {
        to,
        channel,
        lang: Lang::from_tag(locale.as_deref()),
        custom_code,
        amount: text_param(input, "Amount")?,
        payee: text_param(input, "Payee")?,
    })
}

/// Checks a request's `Amount` and `Payee` against whether its verification is `bound` to a
/// transaction (started, or to be started, on a PSD2 service): both required if so (`60206`,
/// as Twilio's PSD2 guide requires them to start and to complete one), neither accepted if not
/// (`60200` naming the first given: both require the PSD2 flag).
fn transaction_params(
    bound: bool,
    amount: Option<&str>,
    payee: Option<&str>,
) -> Result<(), TwError> {
    match (bound, amount, payee) {
        (true, Some(_), Some(_)) | (false, None, None) => Ok(()),
        (true, _, _) => Err(TwError::new(
            StatusCode::BAD_REQUEST,
            60206,
            "'Amount' & 'Payee' params are required",
        )),
        (false, Some(_), _) => Err(TwError::invalid("Amount", None)),
        (false, None, Some(_)) => Err(TwError::invalid("Payee", None)),
    }
}

/// `POST /v2/Services/{ServiceSid}/Verifications`: 201 with the verification, new or resent.
pub(super) async fn create(
    AxumState(app): AxumState<Twilio>,
    Path(service_sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&input)?;
        let params = start_params(&input)?;
        let base = base_url(&input);
        let mut guard = app.lock();
        let slot = &mut *guard;
        let now = slot.now();
        let service = slot
            .twilio
            .service(&service_sid)
            .ok_or_else(|| {
                TwError::not_found(&format!("/v2/Services/{service_sid}/Verifications"))
            })?
            .clone();
        if params.custom_code.is_some() && !service.custom_code_enabled {
            return Err(TwError::invalid("CustomCode", None));
        }
        transaction_params(
            service.psd2_enabled,
            params.amount.as_deref(),
            params.payee.as_deref(),
        )?;
        let line = (params.channel != TwChannel::Email)
            .then(|| line_type(&params.to))
            .flatten();
        if params.channel == TwChannel::Sms
            && service.lookup_enabled
            && service.skip_sms_to_landlines
            && line == Some("landline")
        {
            return Err(TwError::new(
                StatusCode::FORBIDDEN,
                60205,
                "SMS is not supported by landline phone number",
            ));
        }
        let attempt = Attempt {
            time: now,
            channel: params.channel,
            sid: new_sid(&mut slot.rng, "VL"),
        };
        let key = (service.sid.clone(), params.to.clone());
        let current = slot.twilio.latest.get(&key).cloned();
        let resent = match current.and_then(|sid| slot.twilio.verifications.get_mut(&sid)) {
            Some(v) => {
                v.refresh(now);
                match v.status {
                    // Another PSD2 transaction to the same `To`: a new verification.
                    Status::Pending if (&v.amount, &v.payee) != (&params.amount, &params.payee) => {
                        None
                    }
                    Status::Pending if v.attempts.len() >= MAX_SENDS => {
                        return Err(TwError::new(
                            StatusCode::TOO_MANY_REQUESTS,
                            60203,
                            "Max send attempts reached",
                        ));
                    }
                    Status::Pending => {
                        v.attempts.push(attempt.clone());
                        v.channel = params.channel;
                        if let Some(code) = &params.custom_code {
                            v.code.clone_from(code);
                        }
                        v.date_updated = now;
                        Some((v.sid.clone(), v.code.clone(), v.to_json(&base)))
                    }
                    Status::MaxAttemptsReached => {
                        return Err(TwError::new(
                            StatusCode::TOO_MANY_REQUESTS,
                            60202,
                            "Max check attempts reached",
                        ));
                    }
                    Status::Approved | Status::Canceled | Status::Expired => None,
                }
            }
            None => None,
        };
        let (sid, code, body) = if let Some(sent) = resent {
            sent
        } else {
            let code = match &params.custom_code {
                Some(code) => code.clone(),
                None => slot.new_code(&params.to, service.code_length),
            };
            let sid = new_sid(&mut slot.rng, "VE");
            let lookup = if service.lookup_enabled && params.channel != TwChannel::Email {
                json!({"carrier": {
                    "mobile_country_code": null,
                    "type": line,
                    "error_code": null,
                    "mobile_network_code": null,
                    "name": null,
                }})
            } else {
                json!({})
            };
            let verification = Verification {
                sid: sid.clone(),
                service_sid: service.sid.clone(),
                to: params.to.clone(),
                channel: params.channel,
                status: Status::Pending,
                code: code.clone(),
                failed_checks: 0,
                attempts: vec![attempt],
                lookup,
                amount: params.amount.clone(),
                payee: params.payee.clone(),
                date_created: now,
                date_updated: now,
                expires_at: now + Duration::minutes(LIFETIME_MINUTES),
            };
            let body = verification.to_json(&base);
            slot.twilio.verifications.insert(sid.clone(), verification);
            // As the newest entry, so `latest` forgets it no sooner than the verification.
            slot.twilio.latest.insert_newest(key, sid.clone());
            (sid, code, body)
        };
        let email = params.channel == TwChannel::Email;
        slot.send(SentMessage {
            provider: Provider::Twilio,
            phone: (!email).then(|| params.to.clone()),
            email: email.then(|| params.to.clone()),
            channel: params.channel.outbox(),
            text: texts::otp_message(
                params.lang,
                &service.friendly_name,
                &code,
                LIFETIME_MINUTES.unsigned_abs(),
            ),
            code: Some(code),
            lang: params.lang.code().to_owned(),
            reference: Some(sid),
            sent_at: now,
        });
        Ok((StatusCode::CREATED, body))
    })())
}

/// The verification `sid` of service `service_sid` as it stands at `now`, or `20404` (also for
/// an approved, canceled or expired one).
fn live<'a>(
    state: &'a mut TwilioState,
    service_sid: &str,
    sid: &str,
    now: OffsetDateTime,
    path: &str,
) -> Result<&'a mut Verification, TwError> {
    let verification = state
        .verifications
        .get_mut(sid)
        .filter(|v| v.service_sid == service_sid)
        .ok_or_else(|| TwError::not_found(path))?;
    verification.refresh(now);
    if verification.status.is_gone() {
        return Err(TwError::not_found(path));
    }
    Ok(verification)
}

/// `GET /v2/Services/{ServiceSid}/Verifications/{Sid}`: 200 while pending (or locked by wrong
/// codes), `20404` once approved, canceled or expired.
pub(super) async fn fetch(
    AxumState(app): AxumState<Twilio>,
    Path((service_sid, sid)): Path<(String, String)>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&input)?;
        let path = format!("/v2/Services/{service_sid}/Verifications/{sid}");
        let mut guard = app.lock();
        let slot = &mut *guard;
        let now = slot.now();
        let verification = live(&mut slot.twilio, &service_sid, &sid, now, &path)?;
        Ok((StatusCode::OK, verification.to_json(&base_url(&input))))
    })())
}

/// `POST /v2/Services/{ServiceSid}/Verifications/{Sid}` with `Status` `canceled` or
/// `approved`: 200 with the updated verification.
pub(super) async fn update(
    AxumState(app): AxumState<Twilio>,
    Path((service_sid, sid)): Path<(String, String)>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&input)?;
        let raw = input
            .str("Status")
            .ok_or_else(|| TwError::invalid("Status", None))?;
        let status = match raw.as_str() {
            "canceled" => Status::Canceled,
            "approved" => Status::Approved,
            _ => return Err(TwError::invalid("Status", Some(&raw))),
        };
        let path = format!("/v2/Services/{service_sid}/Verifications/{sid}");
        let mut guard = app.lock();
        let slot = &mut *guard;
        let now = slot.now();
        let verification = live(&mut slot.twilio, &service_sid, &sid, now, &path)?;
        verification.status = status;
        verification.date_updated = now;
        Ok((StatusCode::OK, verification.to_json(&base_url(&input))))
    })())
}

/// `POST /v2/Services/{ServiceSid}/VerificationCheck` with `Code` and `VerificationSid` or
/// `To` (and a PSD2 verification's `Amount` and `Payee`): 200 with `approved`/`valid: true`, or
/// `pending`/`valid: false` for a wrong code or another transaction (`max_attempts_reached` on
/// the 5th); `60202` after that; `20404` for an unknown, approved, canceled or expired
/// verification; `60206` for a PSD2 verification without `Amount` and `Payee`, `60200` for
/// another with either (neither counts as an attempt).
pub(super) async fn check(
    AxumState(app): AxumState<Twilio>,
    Path(service_sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&input)?;
        let code = input
            .str("Code")
            .ok_or_else(|| TwError::invalid("Code", None))?;
        if !(4..=10).contains(&code.len()) {
            return Err(TwError::invalid("Code", Some(&code)));
        }
        let transaction = (text_param(&input, "Amount")?, text_param(&input, "Payee")?);
        let by_sid = input.str("VerificationSid");
        let to = match (&by_sid, input.str("To")) {
            (Some(_), _) => None,
            (None, Some(raw)) => Some(if raw.contains('@') {
                recipient(&raw, TwChannel::Email)?
            } else {
                recipient(&raw, TwChannel::Sms)?
            }),
            (None, None) => return Err(TwError::invalid("To", None)),
        };
        let path = format!("/v2/Services/{service_sid}/VerificationCheck");
        let mut guard = app.lock();
        let slot = &mut *guard;
        let now = slot.now();
        if slot.twilio.service(&service_sid).is_none() {
            return Err(TwError::not_found(&path));
        }
        let sid = match (by_sid, to) {
            (Some(sid), _) => sid,
            (None, Some(to)) => slot
                .twilio
                .latest
                .get(&(service_sid.clone(), to))
                .cloned()
                .ok_or_else(|| TwError::not_found(&path))?,
            (None, None) => return Err(TwError::not_found(&path)),
        };
        let verification = live(&mut slot.twilio, &service_sid, &sid, now, &path)?;
        let bound = verification.amount.is_some() || verification.payee.is_some();
        transaction_params(bound, transaction.0.as_deref(), transaction.1.as_deref())?;
        if verification.status == Status::MaxAttemptsReached {
            return Err(TwError::new(
                StatusCode::TOO_MANY_REQUESTS,
                60202,
                "Max check attempts reached",
            ));
        }
        // A PSD2 verification's code is good only for the transaction it was sent for.
        let same_transaction =
            (&verification.amount, &verification.payee) == (&transaction.0, &transaction.1);
        if constant_time_eq(&code, &verification.code) && same_transaction {
            verification.status = Status::Approved;
        } else {
            verification.failed_checks += 1;
            if verification.failed_checks >= TWILIO_MAX_CHECKS {
                verification.status = Status::MaxAttemptsReached;
            }
        }
        verification.date_updated = now;
        Ok((StatusCode::OK, verification.to_check_json()))
    })())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Channel;

    #[test]
    fn recipients_are_e164_numbers_or_email_addresses() {
        assert_eq!(
            recipient("+15017122661", TwChannel::Sms).unwrap(),
            "+15017122661"
        );
        for bad in [
            "15017122661",
            "+1 501 712 2661",
            "+",
            "+1501712266a",
            "+123",
        ] {
            assert_eq!(
                recipient(bad, TwChannel::Sms).unwrap_err(),
                TwError::invalid("To", Some(bad)),
                "{bad}"
            );
        }
        assert_eq!(
            recipient("Ada@Example.com", TwChannel::Email).unwrap(),
            "ada@example.com"
        );
        assert!(recipient("+15017122661", TwChannel::Email).is_err());
    }

    #[test]
    fn channels_are_the_four_emulated_ones() {
        assert_eq!(TwChannel::parse("sms").unwrap(), TwChannel::Sms);
        assert_eq!(TwChannel::parse("WhatsApp").unwrap(), TwChannel::Whatsapp);
        assert_eq!(TwChannel::parse("call").unwrap().attempt_label(), "CALL");
        assert_eq!(TwChannel::parse("email").unwrap().outbox(), Channel::Email);
        let sna = TwChannel::parse("sna").unwrap_err();
        assert_eq!((sna.code, sna.status.as_u16()), (60223, 400));
        assert_eq!(TwChannel::parse("telegram").unwrap_err().code, 60200);
    }

    #[test]
    fn line_types_come_from_the_metadata() {
        assert_eq!(line_type("+905321234567"), Some("mobile"));
        assert_eq!(line_type("+442079460000"), Some("landline"));
        assert_eq!(line_type("+15017122661"), Some("mobile"));
        assert_eq!(line_type("+390612345678"), Some("landline"));
        assert_eq!(line_type("+448001234567"), None, "toll free");
        assert_eq!(line_type("+90532"), None, "not a number");
    }

    #[test]
    fn a_verification_expires_after_ten_minutes_and_is_then_gone() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut v = Verification {
            sid: "VE1".into(),
            service_sid: "VA1".into(),
            to: "+15017122661".into(),
            channel: TwChannel::Sms,
            status: Status::Pending,
            code: "123456".into(),
            failed_checks: 0,
            attempts: Vec::new(),
            lookup: json!({}),
            amount: None,
            payee: None,
            date_created: t0,
            date_updated: t0,
            expires_at: t0 + Duration::minutes(LIFETIME_MINUTES),
        };
        v.refresh(t0 + Duration::minutes(9));
        assert_eq!(v.status, Status::Pending);
        v.refresh(t0 + Duration::minutes(10));
        assert_eq!(v.status, Status::Expired);
        assert!(v.status.is_gone());
        assert!(!Status::MaxAttemptsReached.is_gone());
        let json = v.to_check_json();
        assert_eq!(
            (json["status"].as_str(), json["valid"].as_bool()),
            (Some("expired"), Some(false))
        );
    }
}
