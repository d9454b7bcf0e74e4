//! Verify services: `POST /v2/Services` and `GET /v2/Services/{Sid}`.

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{TwError, authenticate, base_url, bool_param, date, form, new_sid, respond};
use crate::body::Input;
use crate::config::{TWILIO_ACCOUNT_SID, TWILIO_SERVICE_SID};
use crate::state::App;

/// Longest `FriendlyName` Twilio accepts.
const MAX_FRIENDLY_NAME: usize = 32;
/// The code length of a service created without `CodeLength`, and of the default service.
const DEFAULT_CODE_LENGTH: usize = 6;

/// A Verify service: the settings the emulator honours and the ones it only echoes.
#[derive(Debug, Clone)]
pub(super) struct Service {
    pub(super) sid: String,
    pub(super) friendly_name: String,
    /// Digits of the codes it generates (4 to 10).
    pub(super) code_length: usize,
    /// Whether verifications carry a carrier lookup (`lookup.carrier.type`).
    pub(super) lookup_enabled: bool,
    /// With `lookup_enabled`: SMS to a landline answers `60205`.
    pub(super) skip_sms_to_landlines: bool,
    /// Whether `Amount` and `Payee` are accepted (and echoed).
    pub(super) psd2_enabled: bool,
    /// Whether `CustomCode` is accepted.
    pub(super) custom_code_enabled: bool,
    dtmf_input_required: bool,
    tts_name: Option<String>,
    do_not_share_warning_enabled: bool,
    verify_event_subscription_enabled: bool,
    date_created: OffsetDateTime,
    date_updated: OffsetDateTime,
}

impl Service {
    /// [`TWILIO_SERVICE_SID`]: "Sandbox Verify", 6-digit codes, custom codes enabled.
    pub(super) fn sandbox_default(now: OffsetDateTime) -> Self {
        Self {
            sid: TWILIO_SERVICE_SID.to_owned(),
            friendly_name: "Sandbox Verify".to_owned(),
            code_length: DEFAULT_CODE_LENGTH,
            lookup_enabled: false,
            skip_sms_to_landlines: false,
            psd2_enabled: false,
            custom_code_enabled: true,
            dtmf_input_required: false,
            tts_name: None,
            do_not_share_warning_enabled: false,
            verify_event_subscription_enabled: false,
            date_created: now,
            date_updated: now,
        }
    }

    /// The resource as Twilio answers it; `base` is the API root (`…/v2`).
    fn to_json(&self, base: &str) -> Value {
        let url = format!("{base}/Services/{}", self.sid);
        let link = |name: &str| format!("{url}/{name}");
        json!({
            "sid": self.sid,
            "account_sid": TWILIO_ACCOUNT_SID,
            "friendly_name": self.friendly_name,
            "code_length": self.code_length,
            "lookup_enabled": self.lookup_enabled,
            "psd2_enabled": self.psd2_enabled,
            "skip_sms_to_landlines": self.skip_sms_to_landlines,
            "dtmf_input_required": self.dtmf_input_required,
            "tts_name": self.tts_name,
            "do_not_share_warning_enabled": self.do_not_share_warning_enabled,
            "custom_code_enabled": self.custom_code_enabled,
            "push": {"include_date": false, "apn_credential_sid": null, "fcm_credential_sid": null},
            "totp": {"issuer": null, "time_step": null, "code_length": null, "skew": null},
            "whatsapp": {"msg_service_sid": null, "from": null},
            "passkeys": {
                "relying_party": {"id": null, "name": null, "origins": null},
                "authenticator_attachment": null,
                "discoverable_credentials": null,
                "user_verification": null,
            },
            "default_template_sid": null,
            "verify_event_subscription_enabled": self.verify_event_subscription_enabled,
            "date_created": date(self.date_created),
            "date_updated": date(self.date_updated),
            "url": url,
            "links": {
                "verification_checks": link("VerificationCheck"),
                "verifications": link("Verifications"),
                "rate_limits": link("RateLimits"),
                "messaging_configurations": link("MessagingConfigurations"),
                "entities": link("Entities"),
                "webhooks": link("Webhooks"),
                "access_tokens": link("AccessTokens"),
            },
        })
    }
}

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
pub(super) async fn create(AxumState(app): AxumState<App>, input: Input) -> Response {
    respond((|| {
        authenticate(&input)?;
        let input = form(input);
        let mut state = app.twilio();
        let mut service = settings(&input, state.now())?;
        service.sid = new_sid(&mut state.rng, "VA");
        let body = service.to_json(&base_url(&input));
        state.twilio.services.insert(service.sid.clone(), service);
        Ok((StatusCode::CREATED, body))
    })())
}

/// `GET /v2/Services/{Sid}`: 200 with the service, `20404` for an unknown one.
pub(super) async fn fetch(
    AxumState(app): AxumState<App>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&input)?;
        let state = app.twilio();
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
