//! Verify services: `POST /v2/Services` and `GET /v2/Services/{Sid}`.

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use time::OffsetDateTime;

use super::error::{TwError, respond};
use super::format::new_sid;
use super::records::{DEFAULT_CODE_LENGTH, Service};
use super::request::{authenticate, base_url, bool_param, form};
use super::slot::Twilio;
use crate::body::Input;

/// Longest `FriendlyName` Twilio accepts.
const MAX_FRIENDLY_NAME: usize = 32;

/// The settings of `POST /v2/Services`, validated before anything is stored.
fn settings(input: &Input, now: OffsetDateTime) -> Result<Service, TwError> {
    let friendly_name = input
        .str("FriendlyName")
        .ok_or_else(|| TwError::invalid("FriendlyName", None))?;
    if friendly_name.chars().count() > MAX_FRIENDLY_NAME {
        return Err(TwError::invalid("FriendlyName", Some(&friendly_name)));
    }
    let code_length = match input.str("CodeLength") {
        None => DEFAULT_CODE_LENGTH,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (4..=10).contains(n))
            .ok_or_else(|| TwError::invalid("CodeLength", Some(&raw)))?,
    };
    let flag = |key: &str| bool_param(input, key).map(Option::unwrap_or_default);
    Ok(Service {
        sid: String::new(),
        friendly_name,
        code_length,
        lookup_enabled: flag("LookupEnabled")?,
        skip_sms_to_landlines: flag("SkipSmsToLandlines")?,
        psd2_enabled: flag("Psd2Enabled")?,
        custom_code_enabled: flag("CustomCodeEnabled")?,
        dtmf_input_required: flag("DtmfInputRequired")?,
        tts_name: input.str("TtsName"),
        do_not_share_warning_enabled: flag("DoNotShareWarningEnabled")?,
        verify_event_subscription_enabled: flag("VerifyEventSubscriptionEnabled")?,
        date_created: now,
        date_updated: now,
    })
}

/// `POST /v2/Services`: 201 with the new service.
pub(super) async fn create(AxumState(app): AxumState<Twilio>, input: Input) -> Response {
    respond((|| {
        authenticate(&input)?;
        let input = form(input);
        let mut state = app.lock();
        let mut service = settings(&input, state.now())?;
        service.sid = new_sid(&mut state.rng, "VA");
        let body = service.to_json(&base_url(&input));
        state.twilio.services.insert(service.sid.clone(), service);
        Ok((StatusCode::CREATED, body))
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

#[cfg(test)]
mod tests {
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
        ] {
            assert_eq!(settings(&bad, now).unwrap_err().code, 60200, "{bad:?}");
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
