//! Verify services: `POST` and `GET /v2/Services` (create, list) and `GET`, `POST` and
//! `DELETE /v2/Services/{Sid}` (fetch, update, delete).

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use time::OffsetDateTime;

use super::error::{TwError, respond};
use super::format::new_sid;
use super::page::Paging;
use super::records::{DEFAULT_CODE_LENGTH, Service};
use super::request::{authenticate, base_url, bool_param, text_param};
use super::slot::Twilio;
use crate::body::Input;

/// Longest `FriendlyName` Twilio accepts.
const MAX_FRIENDLY_NAME: usize = 32;

/// The settings of `POST /v2/Services`, validated before anything is stored.
fn settings(input: &Input, now: OffsetDateTime) -> Result<Service, TwError> {
    if input.str("FriendlyName").is_none() {
        return Err(TwError::invalid("FriendlyName", None));
    }
    let mut service = Service {
        sid: String::new(),
        friendly_name: String::new(),
        code_length: DEFAULT_CODE_LENGTH,
        lookup_enabled: false,
        skip_sms_to_landlines: false,
        psd2_enabled: false,
        custom_code_enabled: false,
        dtmf_input_required: false,
        tts_name: None,
        do_not_share_warning_enabled: false,
        verify_event_subscription_enabled: false,
        date_created: now,
        date_updated: now,
    };
    apply(input, &mut service)?;
    Ok(service)
}

/// Sets on `service` the settings `input` names (of `POST /v2/Services` and
/// `POST /v2/Services/{Sid}`); `60200` for an invalid one, which may leave `service` half
/// changed: callers work on a copy.
fn apply(input: &Input, service: &mut Service) -> Result<(), TwError> {
    if input.body.contains_key("FriendlyName") {
        let name = input
            .str("FriendlyName")
            .ok_or_else(|| TwError::invalid("FriendlyName", None))?;
        if name.chars().count() > MAX_FRIENDLY_NAME {
            return Err(TwError::invalid("FriendlyName", Some(&name)));
        }
        service.friendly_name = name;
    }
    if let Some(raw) = input.str("CodeLength") {
        service.code_length = raw
            .parse::<usize>()
            .ok()
            .filter(|n| (4..=10).contains(n))
            .ok_or_else(|| TwError::invalid("CodeLength", Some(&raw)))?;
    }
    for (key, flag) in [
        ("LookupEnabled", &mut service.lookup_enabled),
        ("SkipSmsToLandlines", &mut service.skip_sms_to_landlines),
        ("Psd2Enabled", &mut service.psd2_enabled),
        ("CustomCodeEnabled", &mut service.custom_code_enabled),
        ("DtmfInputRequired", &mut service.dtmf_input_required),
        (
            "DoNotShareWarningEnabled",
            &mut service.do_not_share_warning_enabled,
        ),
        (
            "VerifyEventSubscriptionEnabled",
            &mut service.verify_event_subscription_enabled,
        ),
    ] {
        if let Some(value) = bool_param(input, key)? {
            *flag = value;
        }
    }
    if let Some(tts_name) = text_param(input, "TtsName")? {
        service.tts_name = Some(tts_name);
    }
    Ok(())
}

/// `POST /v2/Services`: 201 with the new service.
pub(super) async fn create(AxumState(app): AxumState<Twilio>, input: Input) -> Response {
    respond((|| {
        authenticate(&input)?;
        let mut state = app.lock();
        let mut service = settings(&input, state.now())?;
        service.sid = new_sid(&mut state.rng, "VA");
        let body = service.to_json(&base_url(&input));
        state.twilio.services.insert(service.sid.clone(), service);
        Ok((StatusCode::CREATED, body))
    })())
}

/// `GET /v2/Services` with `PageSize` (1–1000, default 50), `Page` (from 0) and `PageToken`:
/// 200 with `services` (by SID) and Twilio's `meta`.
pub(super) async fn list(AxumState(app): AxumState<Twilio>, input: Input) -> Response {
    respond((|| {
        authenticate(&input)?;
        let paging = Paging::parse(&input)?;
        let base = base_url(&input);
        let state = app.lock();
        let all = state.twilio.services_by_sid();
        Ok((
            StatusCode::OK,
            paging.answer(
                "services",
                &format!("{base}/Services"),
                &[],
                &all,
                |s| s.sid.clone(),
                |s| s.to_json(&base),
            ),
        ))
    })())
}

/// `GET /v2/Services/{Sid}`: 200 with the service, `20404` for an unknown one.
pub(super) async fn fetch(
    AxumState(app): AxumState<Twilio>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&input)?;
        let state = app.lock();
        let service = state
            .twilio
            .service(&sid)
            .ok_or_else(|| TwError::not_found(&format!("/v2/Services/{sid}")))?;
        Ok((StatusCode::OK, service.to_json(&base_url(&input))))
    })())
}

/// `POST /v2/Services/{Sid}`: the settings of `POST /v2/Services`, each optional, applied
/// together or not at all; 200 with the service, `60200` for an invalid setting, `20404` for
/// an unknown service.
pub(super) async fn update(
    AxumState(app): AxumState<Twilio>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&input)?;
        let mut state = app.lock();
        let now = state.now();
        let service = state
            .twilio
            .service_mut(&sid)
            .ok_or_else(|| TwError::not_found(&format!("/v2/Services/{sid}")))?;
        let mut updated = service.clone();
        apply(&input, &mut updated)?;
        updated.date_updated = now;
        *service = updated;
        Ok((StatusCode::OK, service.to_json(&base_url(&input))))
    })())
}

/// `DELETE /v2/Services/{Sid}`: 204 without a body, the service and its verifications gone
/// (`20404` afterwards); `20404` for an unknown service.
pub(super) async fn delete(
    AxumState(app): AxumState<Twilio>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    let outcome = authenticate(&input).and_then(|()| {
        if app.lock().twilio.delete_service(&sid) {
            Ok(())
        } else {
            Err(TwError::not_found(&format!("/v2/Services/{sid}")))
        }
    });
    match outcome {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::request::MAX_TEXT_PARAM;
    use super::*;
    use crate::config::TWILIO_SERVICE_SID;
    use serde_json::json;

    fn input(pairs: &[(&str, &str)]) -> Input {
        let mut input = Input::default();
        for (k, v) in pairs {
            input.body.insert((*k).into(), json!(v));
        }
        input
    }

    #[test]
    fn settings_need_a_name_and_a_code_length_of_4_to_10() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let s = settings(
            &input(&[
                ("FriendlyName", "My App"),
                ("CodeLength", "8"),
                ("LookupEnabled", "true"),
            ]),
            now,
        )
        .unwrap();
        assert_eq!((s.code_length, s.lookup_enabled), (8, true));
        assert!(!s.custom_code_enabled);
        assert_eq!(
            settings(&input(&[("FriendlyName", "x")]), now)
                .unwrap()
                .code_length,
            6
        );
        for bad in [
            input(&[]),
            input(&[("FriendlyName", &"n".repeat(33))]),
            input(&[("FriendlyName", "x"), ("CodeLength", "3")]),
            input(&[("FriendlyName", "x"), ("CodeLength", "11")]),
            input(&[("FriendlyName", "x"), ("CodeLength", "six")]),
            input(&[("FriendlyName", "x"), ("Psd2Enabled", "maybe")]),
            input(&[
                ("FriendlyName", "x"),
                ("TtsName", &"n".repeat(MAX_TEXT_PARAM + 1)),
            ]),
        ] {
            assert_eq!(settings(&bad, now).unwrap_err().code, 60200, "{bad:?}");
        }
    }

    #[test]
    fn updates_change_only_what_they_name() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut service = Service::sandbox_default(now);
        apply(
            &input(&[("CodeLength", "9"), ("DtmfInputRequired", "true")]),
            &mut service,
        )
        .unwrap();
        assert_eq!(service.friendly_name, "Sandbox Verify");
        assert_eq!(
            (service.code_length, service.dtmf_input_required),
            (9, true)
        );
        assert!(service.custom_code_enabled, "unchanged");
        for bad in [
            input(&[("FriendlyName", " ")]),
            input(&[("FriendlyName", &"n".repeat(33))]),
            input(&[("CodeLength", "11")]),
            input(&[("LookupEnabled", "yes")]),
        ] {
            let mut copy = service.clone();
            assert_eq!(apply(&bad, &mut copy).unwrap_err().code, 60200, "{bad:?}");
        }
    }

    #[test]
    fn the_json_has_every_documented_field() {
        let json = Service::sandbox_default(OffsetDateTime::UNIX_EPOCH).to_json("https://h/v2");
        assert_eq!(json["sid"], TWILIO_SERVICE_SID);
        assert_eq!(
            json["url"],
            format!("https://h/v2/Services/{TWILIO_SERVICE_SID}")
        );
        assert_eq!(
            json["links"]["verifications"],
            format!("https://h/v2/Services/{TWILIO_SERVICE_SID}/Verifications")
        );
        for key in [
            "account_sid",
            "friendly_name",
            "code_length",
            "lookup_enabled",
            "psd2_enabled",
            "skip_sms_to_landlines",
            "dtmf_input_required",
            "tts_name",
            "do_not_share_warning_enabled",
            "custom_code_enabled",
            "push",
            "totp",
            "whatsapp",
            "passkeys",
            "default_template_sid",
            "verify_event_subscription_enabled",
            "date_created",
            "date_updated",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }
}
