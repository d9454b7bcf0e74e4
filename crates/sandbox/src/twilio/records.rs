//! The records Twilio's state holds: services and verifications (with their send attempts),
//! with their JSON resources.

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::error::TwError;
use super::format::date;
use crate::config::{TWILIO_ACCOUNT_SID, TWILIO_SERVICE_SID};
use crate::model::Channel;

/// The code length of a service created without `CodeLength`, and of the default service.
pub(super) const DEFAULT_CODE_LENGTH: usize = 6;

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
    /// Whether verifications are bound to a transaction: `Amount` and `Payee` required to
    /// start one (and echoed), and checked with its code.
    pub(super) psd2_enabled: bool,
    /// Whether `CustomCode` is accepted.
    pub(super) custom_code_enabled: bool,
    pub(super) dtmf_input_required: bool,
    pub(super) tts_name: Option<String>,
    pub(super) do_not_share_warning_enabled: bool,
    pub(super) verify_event_subscription_enabled: bool,
    pub(super) date_created: OffsetDateTime,
    pub(super) date_updated: OffsetDateTime,
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
    pub(super) fn to_json(&self, base: &str) -> Value {
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

/// A delivery channel the emulator sends codes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TwChannel {
    Sms,
    Whatsapp,
    Call,
    Email,
}

impl TwChannel {
    /// `Channel` as sent: the four emulated channels; Twilio's other channels (`sna`, `auto`,
    /// `rcs`) are `60223`, anything else `60200`.
    pub(super) fn parse(raw: &str) -> Result<Self, TwError> {
        match raw.to_ascii_lowercase().as_str() {
            "sms" => Ok(Self::Sms),
            "whatsapp" => Ok(Self::Whatsapp),
            "call" => Ok(Self::Call),
            "email" => Ok(Self::Email),
            other @ ("sna" | "auto" | "rcs") => Err(TwError::new(
                StatusCode::BAD_REQUEST,
                60223,
                format!("Delivery channel disabled: {}", other.to_ascii_uppercase()),
            )),
            _ => Err(TwError::invalid("Channel", Some(raw))),
        }
    }

    /// The `channel` field.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Whatsapp => "whatsapp",
            Self::Call => "call",
            Self::Email => "email",
        }
    }

    /// The `channel` of a `send_code_attempts` entry, spelled as in Twilio's examples.
    pub(super) fn attempt_label(self) -> &'static str {
        match self {
            Self::Sms => "SMS",
            Self::Whatsapp => "whatsapp",
            Self::Call => "CALL",
            Self::Email => "EMAIL",
        }
    }

    /// The outbox channel.
    pub(super) fn outbox(self) -> Channel {
        match self {
            Self::Sms => Channel::Sms,
            Self::Whatsapp => Channel::Whatsapp,
            Self::Call => Channel::Call,
            Self::Email => Channel::Email,
        }
    }
}

/// A verification's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Pending,
    Approved,
    Canceled,
    MaxAttemptsReached,
    Expired,
}

impl Status {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Canceled => "canceled",
            Self::MaxAttemptsReached => "max_attempts_reached",
            Self::Expired => "expired",
        }
    }

    /// Approved, canceled and expired verifications are deleted for the API (`20404`).
    pub(super) fn is_gone(self) -> bool {
        matches!(self, Self::Approved | Self::Canceled | Self::Expired)
    }
}

/// One delivery of the code: an entry of the verification's `send_code_attempts`, and an
/// Attempt resource of `GET /v2/Attempts`.
#[derive(Debug, Clone)]
pub(super) struct Attempt {
    pub(super) time: OffsetDateTime,
    pub(super) channel: TwChannel,
    pub(super) sid: String,
}

/// A verification as the emulator stores it.
#[derive(Debug, Clone)]
pub(super) struct Verification {
    pub(super) sid: String,
    pub(super) service_sid: String,
    /// E.164 number, or lowercase e-mail address.
    pub(super) to: String,
    /// The channel of the latest send.
    pub(super) channel: TwChannel,
    pub(super) status: Status,
    pub(super) code: String,
    pub(super) failed_checks: u32,
    pub(super) attempts: Vec<Attempt>,
    pub(super) lookup: Value,
    pub(super) amount: Option<String>,
    pub(super) payee: Option<String>,
    pub(super) date_created: OffsetDateTime,
    pub(super) date_updated: OffsetDateTime,
    pub(super) expires_at: OffsetDateTime,
}

impl Verification {
    /// Marks a pending (or locked) verification expired once its lifetime is over.
    pub(super) fn refresh(&mut self, now: OffsetDateTime) {
        if matches!(self.status, Status::Pending | Status::MaxAttemptsReached)
            && now >= self.expires_at
        {
            self.status = Status::Expired;
            self.date_updated = self.expires_at;
        }
    }

    /// The Verification resource; `base` is the API root (`…/v2`).
    pub(super) fn to_json(&self, base: &str) -> Value {
        let attempts: Vec<Value> = self
            .attempts
            .iter()
            .map(|a| {
                json!({
                    "time": date(a.time),
                    "channel": a.channel.attempt_label(),
                    "attempt_sid": a.sid,
                })
            })
            .collect();
        json!({
            "sid": self.sid,
            "service_sid": self.service_sid,
            "account_sid": TWILIO_ACCOUNT_SID,
            "to": self.to,
            "channel": self.channel.as_str(),
            "status": self.status.as_str(),
            "valid": self.status == Status::Approved,
            "date_created": date(self.date_created),
            "date_updated": date(self.date_updated),
            "lookup": self.lookup,
            "amount": self.amount,
            "payee": self.payee,
            "send_code_attempts": attempts,
            "sna": null,
            "url": format!("{base}/Services/{}/Verifications/{}", self.service_sid, self.sid),
        })
    }

    /// Whether the verification was approved (by its code or by an update): its attempts are
    /// then `converted`.
    pub(super) fn converted(&self) -> bool {
        self.status == Status::Approved
    }

    /// The Attempt resource of `attempt`, one of this verification's sends; `base` is the API
    /// root (`…/v2`). `converted` once the verification is approved, with the approval as
    /// `date_updated` (the send's time until then); `price` is null, as Twilio answers while
    /// it is not available.
    pub(super) fn attempt_json(&self, attempt: &Attempt, base: &str) -> Value {
        let (conversion_status, date_updated) = if self.converted() {
            ("converted", self.date_updated)
        } else {
            ("unconverted", attempt.time)
        };
        json!({
            "sid": attempt.sid,
            "account_sid": TWILIO_ACCOUNT_SID,
            "service_sid": self.service_sid,
            "verification_sid": self.sid,
            "date_created": date(attempt.time),
            "date_updated": date(date_updated),
            "conversion_status": conversion_status,
            "channel": attempt.channel.as_str(),
            "price": null,
            "channel_data": {"to": self.to, "status": "delivered"},
            "url": format!("{base}/Attempts/{}", attempt.sid),
        })
    }

    /// The VerificationCheck resource.
    pub(super) fn to_check_json(&self) -> Value {
        json!({
            "sid": self.sid,
            "service_sid": self.service_sid,
            "account_sid": TWILIO_ACCOUNT_SID,
            "to": self.to,
            "channel": self.channel.as_str(),
            "status": self.status.as_str(),
            "valid": self.status == Status::Approved,
            "amount": self.amount,
            "payee": self.payee,
            "sna_attempts_error_codes": [],
            "date_created": date(self.date_created),
            "date_updated": date(self.date_updated),
        })
    }
}
