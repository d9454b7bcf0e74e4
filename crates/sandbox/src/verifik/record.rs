//! The phone-validation object and its JSON form.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::constants::CLIENT_ID;
use crate::format::iso_millis;
use crate::otp::PendingCode;

/// Life-cycle status of a phone validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Created, nothing sent (manual validation method).
    New,
    /// The code was sent.
    Sent,
    /// The code was confirmed.
    Validated,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Sent => "sent",
            Self::Validated => "validated",
        }
    }
}

/// A phone validation (or phone login) as Verifik stores it.
#[derive(Debug, Clone)]
pub(crate) struct PhoneValidation {
    pub(crate) id: String,
    pub(crate) project: Option<String>,
    pub(crate) project_flow: Option<String>,
    pub(crate) app_registration: Option<String>,
    /// `project`, `app-registration`, `manual` or `login`.
    pub(crate) source: &'static str,
    pub(crate) status: Status,
    pub(crate) country_code: String,
    /// National number as sent (spaces removed).
    pub(crate) phone: String,
    pub(crate) e164: String,
    pub(crate) gateway: String,
    /// The code; `None` for the `manual` validation method, which sends nothing.
    pub(crate) code: Option<PendingCode>,
    /// Stand-in for Verifik's bcrypt hash of the code (it is not the code).
    pub(crate) otp_hash: String,
    pub(crate) title: Option<String>,
    pub(crate) kind: String,
    pub(crate) validation_method: String,
    pub(crate) redirect_url: Option<String>,
    pub(crate) webhook_url: Option<String>,
    pub(crate) identity_url: Option<String>,
    pub(crate) requires_2fa: bool,
    pub(crate) ip_address: Option<String>,
    pub(crate) language: String,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) validated_at: Option<OffsetDateTime>,
    pub(crate) provider_confirmation: Value,
}

impl PhoneValidation {
    /// The object as Verifik returns it.
    pub(crate) fn to_json(&self) -> Value {
        let phone_data = self
            .title
            .as_ref()
            .map_or_else(|| json!({}), |t| json!({"title": t}));
        let mut value = json!({
            "_id": self.id,
            "client": CLIENT_ID,
            "project": self.project,
            "projectFlow": self.project_flow,
            "appRegistration": self.app_registration,
            "source": self.source,
            "status": self.status.as_str(),
            "countryCode": self.country_code,
            "phone": self.phone,
            "phoneGateway": self.gateway,
            "validationMethod": self.validation_method,
            "otp": self.otp_hash,
            "expiresAt": iso_millis(self.expires_at),
            "phoneData": phone_data,
            "type": self.kind,
            "redirectUrl": self.redirect_url,
            "webhookUrl": self.webhook_url,
            "identityUrl": self.identity_url,
            "requires2FA": self.requires_2fa,
            "ipAddress": self.ip_address,
            "language": self.language,
            "createdAt": iso_millis(self.created_at),
            "updatedAt": iso_millis(self.updated_at),
            "__v": 0,
            "sent": self.status != Status::New,
            "providerConfirmation": self.provider_confirmation,
        });
        if let (Some(at), Value::Object(map)) = (self.validated_at, &mut value) {
            map.insert("validatedAt".into(), json!(iso_millis(at)));
        }
        value
    }

    /// The object as a create endpoint returns it (with mongoose's `new: true`).
    pub(crate) fn to_created_json(&self) -> Value {
        let mut value = self.to_json();
        if let Value::Object(map) = &mut value {
            map.insert("new".into(), json!(true));
        }
        value
    }

    /// The short object a successful validation returns.
    pub(crate) fn to_validated_json(&self) -> Value {
        json!({
            "_id": self.id,
            "status": self.status.as_str(),
            "countryCode": self.country_code,
            "phone": self.phone,
            "type": self.kind,
            "showFaceLivenessRecommendation": false,
        })
    }
}
