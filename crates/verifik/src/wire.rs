//! Verifik's wire format: the JSON bodies sent and the answers received, decoded leniently.
//!
//! Successful answers come in three shapes, and each endpoint's is accepted:
//!
//! * `{"data": {...}, "signature": {"dateTime", "message"}, "id": "Y0628"}`: logins, creates,
//!   validate; `signature` and `id` are not always there;
//! * `{"success": true, "data": ..., "pagination": {...}, "signature": {...}}`: list and get;
//! * a bare object: `GET /v2/auth/session` (`{"accessToken", "tokenType"}`) and
//!   `POST /v2/auth/renew-and-revoke` (`{"token"}`).
//!
//! Errors come in the envelopes `src/errors.rs` describes; an answer is an error when its HTTP
//! status is not 2xx, when it says `"success": false`, or when an endpoint that answers `data`
//! answers an error envelope without `data`.
//!
//! Where Verifik's documents disagree the decoder accepts every documented form: identifiers,
//! phones and codes may be numbers or strings, `null` stands for a missing field, unknown
//! fields are ignored, and referenced objects (`client`, `project`, `projectFlow`) may be ids
//! or populated objects with an `_id`. The `otp` field of a phone validation (a bcrypt hash,
//! or in one documented sample the plain code) is never read. A body that is not JSON, a
//! success without the expected payload, or a field of the wrong type is an
//! [`ErrorKind::Decode`](phone_verify_core::ErrorKind::Decode) error (for a non-2xx status,
//! the kind the status suggests); decoding never panics.

mod bodies;
mod lenient;

use std::borrow::Cow;
use std::fmt;

use phone_verify_core::PhoneNumber;
use phone_verify_core::kit::mask_phone_field;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use crate::config::{
    PhoneGateway, Populate, ValidationMethod, ValidationStatus, ValidationType, WhatsAppTemplate,
};
pub(crate) use bodies::{
    AppRegistrationBody, DigitsField, EmailLoginConfirmBody, ManualValidationBody, PhoneLoginBody,
    PhoneLoginConfirmBody, ProjectValidationBody, ValidateBody,
};
pub(crate) use lenient::scalar_to_string;

/// A phone validation (or a phone login, which Verifik stores the same way), as the create,
/// list and get endpoints return it. `Debug` masks the phone number and leaves out the IP
/// address.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PhoneValidation {
    /// The validation id (`_id`), a 24-hex-digit ObjectId in Verifik's examples: the
    /// [`SessionId`](phone_verify_core::SessionId) of this crate's resolver.
    #[serde(rename = "_id", deserialize_with = "lenient::non_empty_string")]
    pub id: String,
    /// The Verifik client (account) id.
    #[serde(default, deserialize_with = "lenient::opt_ref")]
    pub client: Option<String>,
    /// The project id (none for manual validations).
    #[serde(default, deserialize_with = "lenient::opt_ref")]
    pub project: Option<String>,
    /// The project flow id.
    #[serde(default, deserialize_with = "lenient::opt_ref")]
    pub project_flow: Option<String>,
    /// The app registration id (app-registration validations).
    #[serde(default, deserialize_with = "lenient::opt_ref")]
    pub app_registration: Option<String>,
    /// Where it was created: `manual` for manual validations.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub source: Option<String>,
    /// Its status.
    #[serde(default, deserialize_with = "lenient::opt_parsed")]
    pub status: Option<ValidationStatus>,
    /// The country calling code, e.g. `+507`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub country_code: Option<String>,
    /// The national number, e.g. `62647737`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub phone: Option<String>,
    /// The gateway the code went through.
    #[serde(default, deserialize_with = "lenient::opt_parsed")]
    pub phone_gateway: Option<PhoneGateway>,
    /// How it is verified.
    #[serde(default, deserialize_with = "lenient::opt_parsed")]
    pub validation_method: Option<ValidationMethod>,
    /// Its purpose (`type`).
    #[serde(rename = "type", default, deserialize_with = "lenient::opt_parsed")]
    pub kind: Option<ValidationType>,
    /// When its code stops being accepted.
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub expires_at: Option<OffsetDateTime>,
    /// When it was created.
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub created_at: Option<OffsetDateTime>,
    /// When it last changed.
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub updated_at: Option<OffsetDateTime>,
    /// When it was validated, if Verifik says.
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub validated_at: Option<OffsetDateTime>,
    /// `phoneData.title`: the brand shown in the message.
    #[serde(rename = "phoneData", default, deserialize_with = "lenient::title")]
    pub title: Option<String>,
    /// The message language.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub language: Option<String>,
    /// Where the user goes after validating.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub redirect_url: Option<String>,
    /// Where Verifik posts validation events.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub webhook_url: Option<String>,
    /// The identity verification URL.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub identity_url: Option<String>,
    /// Whether two-factor authentication is required.
    #[serde(
        rename = "requires2FA",
        default,
        deserialize_with = "lenient::opt_bool"
    )]
    pub requires_2fa: Option<bool>,
    /// The end user's IP address, as given at creation.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ip_address: Option<String>,
    /// Whether the code was sent (manual creates: success means `true`).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub sent: Option<bool>,
    /// The messaging provider's receipt (Twilio-like for SMS, WhatsApp Cloud API for WhatsApp).
    #[serde(default)]
    pub provider_confirmation: Option<Value>,
    /// The answer's `id` (Verifik's request id), when it had one.
    #[serde(skip)]
    pub request_id: Option<String>,
    /// The answer's `signature.dateTime` (Verifik's clock, to the minute), when it had one.
    #[serde(skip)]
    pub signed_at: Option<OffsetDateTime>,
}

impl PhoneValidation {
    /// Whether its status is `validated`.
    pub fn is_validated(&self) -> bool {
        self.status == Some(ValidationStatus::Validated)
    }

    /// The phone number from `countryCode` and `phone`, if both are present and valid.
    pub fn phone_number(&self) -> Option<PhoneNumber> {
        phone_of(self.country_code.as_deref(), self.phone.as_deref())
    }
}

impl fmt::Debug for PhoneValidation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PhoneValidation")
            .field("id", &self.id)
            .field("project", &self.project)
            .field("project_flow", &self.project_flow)
            .field("source", &self.source)
            .field("status", &self.status)
            .field("country_code", &self.country_code)
            .field("phone", &self.phone.as_deref().map(mask_phone_field))
            .field("phone_gateway", &self.phone_gateway)
            .field("kind", &self.kind)
            .field("expires_at", &self.expires_at)
            .field("created_at", &self.created_at)
            .field("sent", &self.sent)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// The answer of `PUT /v2/phone-validations`: the validated validation. `Debug` masks the
/// phone number and never shows the login token.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ValidatedPhone {
    /// The id of the validation Verifik validated (the most recent one sent to that phone).
    #[serde(rename = "_id", deserialize_with = "lenient::non_empty_string")]
    pub id: String,
    /// Its status, `validated`.
    #[serde(default, deserialize_with = "lenient::opt_parsed")]
    pub status: Option<ValidationStatus>,
    /// The country calling code.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub country_code: Option<String>,
    /// The national number.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub phone: Option<String>,
    /// Its purpose (`type`).
    #[serde(rename = "type", default, deserialize_with = "lenient::opt_parsed")]
    pub kind: Option<ValidationType>,
    /// Whether the project flow recommends a face liveness check next.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub show_face_liveness_recommendation: Option<bool>,
    /// For `login` validations: the app login.
    #[serde(default)]
    pub app_login: Option<AppLogin>,
    /// For `login` validations: the user's login token (a JWT).
    #[serde(default, deserialize_with = "lenient::opt_secret")]
    pub token: Option<SecretString>,
    /// The answer's `id` (Verifik's request id), when it had one.
    #[serde(skip)]
    pub request_id: Option<String>,
}

impl ValidatedPhone {
    /// Whether Verifik says `validated` (or says nothing, as a 200 answer implies it).
    pub fn is_validated(&self) -> bool {
        self.status
            .as_ref()
            .is_none_or(|s| *s == ValidationStatus::Validated)
    }

    /// The phone number from `countryCode` and `phone`, if both are present and valid.
    pub fn phone_number(&self) -> Option<PhoneNumber> {
        phone_of(self.country_code.as_deref(), self.phone.as_deref())
    }
}

impl fmt::Debug for ValidatedPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatedPhone")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("country_code", &self.country_code)
            .field("phone", &self.phone.as_deref().map(mask_phone_field))
            .field("kind", &self.kind)
            .field(
                "show_face_liveness_recommendation",
                &self.show_face_liveness_recommendation,
            )
            .field("app_login", &self.app_login)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("request_id", &self.request_id)
            .finish()
    }
}

/// The app login a `login` validation opens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AppLogin {
    /// Its id.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    /// Its status.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub status: Option<String>,
}

/// The answer of `POST /v2/projects/email-login`: a code was e-mailed. `Debug` leaves out
/// the e-mail address.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EmailLogin {
    /// `sent`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub status: Option<String>,
    /// The address the code went to.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub email: Option<String>,
    /// When the code stops being accepted.
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub expires_at: Option<OffsetDateTime>,
    /// The answer's `id` (Verifik's request id), when it had one.
    #[serde(skip)]
    pub request_id: Option<String>,
}

impl fmt::Debug for EmailLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailLogin")
            .field("status", &self.status)
            .field("email", &self.email.as_deref().map(|_| "<redacted>"))
            .field("expires_at", &self.expires_at)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// The answer of `POST /v2/app-registrations`: the registration and its JWT. `Debug` masks
/// the phone number and the e-mail address and never shows the token.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppRegistration {
    /// The registration id (`_id`).
    #[serde(rename = "_id", deserialize_with = "lenient::non_empty_string")]
    pub id: String,
    /// The Verifik client (account) id.
    #[serde(default, deserialize_with = "lenient::opt_ref")]
    pub client: Option<String>,
    /// The project id.
    #[serde(default, deserialize_with = "lenient::opt_ref")]
    pub project: Option<String>,
    /// The project flow id.
    #[serde(default, deserialize_with = "lenient::opt_ref")]
    pub project_flow: Option<String>,
    /// Its status (`new` when created).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub status: Option<String>,
    /// The registrant's e-mail address.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub email: Option<String>,
    /// The country calling code of the registrant's phone.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub country_code: Option<String>,
    /// The registrant's national number.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub phone: Option<String>,
    /// The registrant's full name.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub full_name: Option<String>,
    /// The registration's language.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub language: Option<String>,
    /// The registration's JWT (`token`): the bearer token of its phone validations, create and
    /// validate (Verifik documents it valid 120 minutes).
    #[serde(deserialize_with = "lenient::secret")]
    pub token: SecretString,
    /// When it was created.
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub created_at: Option<OffsetDateTime>,
    /// The answer's `id` (Verifik's request id), when it had one.
    #[serde(skip)]
    pub request_id: Option<String>,
}

impl AppRegistration {
    /// The registrant's phone from `countryCode` and `phone`, if both are present and valid.
    pub fn phone_number(&self) -> Option<PhoneNumber> {
        phone_of(self.country_code.as_deref(), self.phone.as_deref())
    }
}

impl fmt::Debug for AppRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppRegistration")
            .field("id", &self.id)
            .field("project", &self.project)
            .field("project_flow", &self.project_flow)
            .field("status", &self.status)
            .field("email", &self.email.as_deref().map(|_| "<redacted>"))
            .field("country_code", &self.country_code)
            .field("phone", &self.phone.as_deref().map(mask_phone_field))
            .field("language", &self.language)
            .field("token", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// One page of `GET /v2/phone-validations`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ValidationPage {
    /// The validations, in Verifik's order (its documentation gives none; the sandbox lists
    /// newest first).
    #[serde(default, deserialize_with = "lenient::vec")]
    pub data: Vec<PhoneValidation>,
    /// Where this page is.
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// The `pagination` of a list answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Pagination {
    /// This page, from 1.
    #[serde(default, deserialize_with = "lenient::count")]
    pub page: u64,
    /// The page size.
    #[serde(default, deserialize_with = "lenient::count")]
    pub limit: u64,
    /// Matching validations in all.
    #[serde(default, deserialize_with = "lenient::count")]
    pub total: u64,
    /// Pages in all.
    #[serde(default, deserialize_with = "lenient::count")]
    pub pages: u64,
}

/// The answer of every endpoint that issues an access token: `{"accessToken", "tokenType"}`
/// (logins, `GET /v2/auth/session`) or `{"token"}` (`POST /v2/auth/renew-and-revoke`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenAnswer {
    #[serde(default, alias = "token", deserialize_with = "lenient::opt_secret")]
    pub(crate) access_token: Option<SecretString>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub(crate) token_type: Option<String>,
}

/// The parts of an answer around its payload.
#[derive(Debug, Default)]
pub(crate) struct Envelope {
    /// `id`: Verifik's request id.
    pub(crate) request_id: Option<String>,
    /// `signature.dateTime`.
    pub(crate) signed_at: Option<OffsetDateTime>,
}

/// Where an endpoint's payload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Under `data`, which must be there.
    Data,
    /// Under `data` when it is an object, else the whole body.
    DataOrRoot,
    /// The whole body (list answers).
    Root,
}

/// A success answer with a `data` object, decoded straight into its typed payload; the
/// envelope's parts are borrowed from the body and converted only when read.
#[derive(Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
pub(crate) struct DataAnswer<'a, T> {
    pub(crate) data: T,
    #[serde(default, borrow)]
    pub(crate) id: lenient::AnyText<'a>,
    #[serde(default, borrow)]
    pub(crate) signature: Option<Signature<'a>>,
    #[serde(default)]
    pub(crate) success: lenient::FalseFlag,
}

/// [`DataAnswer`] without its envelope, for callers that read the payload alone.
#[derive(Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
pub(crate) struct PayloadAnswer<T> {
    pub(crate) data: T,
    #[serde(default)]
    pub(crate) success: lenient::FalseFlag,
}

/// The `signature` of an answer.
#[derive(Deserialize)]
pub(crate) struct Signature<'a> {
    #[serde(default, borrow, rename = "dateTime")]
    pub(crate) date_time: lenient::AnyText<'a>,
}

/// The parts of an answer around its payload, as the body has them (converted on demand).
#[derive(Debug, Default)]
pub(crate) struct RawEnvelope<'a> {
    /// `id`, Verifik's request id: a non-blank scalar as text.
    pub(crate) request_id: Option<Cow<'a, str>>,
    /// `signature.dateTime`, unparsed.
    pub(crate) signed_at: Option<Cow<'a, str>>,
}

impl RawEnvelope<'_> {
    /// The request id, owned.
    pub(crate) fn request_id(&self) -> Option<String> {
        self.request_id.as_deref().map(str::to_owned)
    }

    /// `signature.dateTime` read as UTC, when it is a date.
    pub(crate) fn signed_at(&self) -> Option<OffsetDateTime> {
        self.signed_at.as_deref().and_then(parse_signature_date)
    }

    /// Both, converted.
    pub(crate) fn to_envelope(&self) -> Envelope {
        Envelope {
            request_id: self.request_id(),
            signed_at: self.signed_at(),
        }
    }
}

/// What the verifier reads of `PUT /v2/phone-validations`'s answer, borrowed from the body
/// (the typed client's [`ValidatedPhone`] has every field). Its fields decode as
/// [`ValidatedPhone`]'s do; the fields it does not read are not decoded.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckAnswer<'a> {
    #[serde(rename = "_id", borrow, deserialize_with = "lenient::text")]
    pub(crate) id: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "lenient::opt_text")]
    pub(crate) status: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient::opt_text")]
    pub(crate) country_code: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient::opt_text")]
    pub(crate) phone: Option<Cow<'a, str>>,
}

impl CheckAnswer<'_> {
    /// As [`ValidatedPhone::is_validated`]: `validated`, or no status.
    pub(crate) fn is_validated(&self) -> bool {
        self.status
            .as_deref()
            .is_none_or(|s| s == ValidationStatus::Validated.as_str())
    }

    /// As [`ValidatedPhone::phone_number`].
    pub(crate) fn phone_number(&self) -> Option<PhoneNumber> {
        phone_of(self.country_code.as_deref(), self.phone.as_deref())
    }
}

/// What the resolver reads of `GET /v2/phone-validations/{id}`'s answer, borrowed from the
/// body (the typed client's [`PhoneValidation`] has every field). Its fields decode as
/// [`PhoneValidation`]'s do; the fields it does not read are not decoded. A record that is
/// not validated is read again in full, for its expiry and the error.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionRecord<'a> {
    /// Required, as in [`PhoneValidation`], though the resolver does not show it.
    #[serde(rename = "_id", borrow, deserialize_with = "lenient::text")]
    _id: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "lenient::opt_ref_text")]
    pub(crate) project: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient::opt_text")]
    pub(crate) status: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient::opt_text")]
    pub(crate) country_code: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient::opt_text")]
    pub(crate) phone: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient::opt_text")]
    pub(crate) phone_gateway: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient::opt_text")]
    pub(crate) validation_method: Option<Cow<'a, str>>,
    #[serde(
        rename = "type",
        default,
        borrow,
        deserialize_with = "lenient::opt_text"
    )]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub(crate) validated_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub(crate) updated_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    pub(crate) created_at: Option<OffsetDateTime>,
}

impl SessionRecord<'_> {
    /// As [`PhoneValidation::is_validated`].
    pub(crate) fn is_validated(&self) -> bool {
        self.status.as_deref() == Some(ValidationStatus::Validated.as_str())
    }

    /// As [`PhoneValidation::phone_number`].
    pub(crate) fn phone_number(&self) -> Option<PhoneNumber> {
        phone_of(self.country_code.as_deref(), self.phone.as_deref())
    }
}

/// The phone of `countryCode` and `phone` fields.
fn phone_of(country_code: Option<&str>, phone: Option<&str>) -> Option<PhoneNumber> {
    let (country_code, phone) = (country_code?, phone?);
    PhoneNumber::from_parts(country_code, phone).ok()
}

/// Verifik's `signature.dateTime`, e.g. `May 29, 2024 3:41 AM`, read as UTC.
pub(crate) fn parse_signature_date(text: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!(
        "[month repr:long] [day padding:none], [year] [hour repr:12 padding:none]:[minute] [period]"
    );
    time::PrimitiveDateTime::parse(text.trim(), format)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// An RFC 3339 date with milliseconds and `Z`, as Verifik writes dates; `None` for a date
/// whose UTC time is past what a date holds (`9999-12-31T23:30:00-01:00`).
pub(crate) fn format_date(at: OffsetDateTime) -> Option<String> {
    let at = at.checked_to_offset(time::UtcOffset::UTC)?;
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.format(format).or_else(|_| at.format(&Rfc3339)).ok()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;
    use serde::de::DeserializeOwned;
    use time::macros::datetime;

    use super::*;

    fn parse<T: DeserializeOwned>(json: &str) -> std::result::Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn reads_the_documented_create_answer() {
        let v: PhoneValidation = parse(
            r#"{"client":"507f1f77bcf86cd799439013","project":"507f1f77bcf86cd799439011",
            "projectFlow":"507f1f77bcf86cd799439015","status":"sent","countryCode":"+507",
            "phone":"62647737","phoneGateway":"whatsapp",
            "otp":"$2a$10$/v55.1QmwlCdX6zD1jy51OF87POIDZzj30.UmTtp13pZv6uKm.a.m",
            "expiresAt":"2024-12-02T17:15:35.000Z","phoneData":{},"type":"validation",
            "redirectUrl":"https://api.verifik.co","requires2FA":false,"ipAddress":"172.17.0.1",
            "language":"en","_id":"674de8df21c72be3cc42b8a7","updatedAt":"2024-12-02T17:05:36.788Z",
            "createdAt":"2024-12-02T17:05:36.788Z","__v":0,"new":true}"#,
        )
        .unwrap();
        assert_eq!(v.id, "674de8df21c72be3cc42b8a7");
        assert_eq!(v.status, Some(ValidationStatus::Sent));
        assert_eq!(v.phone_gateway, Some(PhoneGateway::WhatsApp));
        assert_eq!(v.kind, Some(ValidationType::Validation));
        assert_eq!(v.expires_at, Some(datetime!(2024-12-02 17:15:35 UTC)));
        assert_eq!(v.requires_2fa, Some(false));
        assert_eq!(v.title, None);
        assert_eq!(v.phone_number().unwrap().e164(), "+50762647737");
        let shown = format!("{v:?}");
        assert!(
            !shown.contains("62647737") && !shown.contains("$2a$"),
            "{shown}"
        );
    }

    #[test]
    fn accepts_numbers_populated_refs_and_unknown_values() {
        let v: PhoneValidation = parse(
            r#"{"_id":12345,"client":{"_id":"c1","name":"Acme"},"project":null,"phone":62647737,
            "countryCode":"+507","status":"archived","phoneGateway":"telegram","type":"survey",
            "phoneData":{"title":"Acme"},"sent":"true","otp":626673,"surprise":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(v.id, "12345");
        assert_eq!(v.client.as_deref(), Some("c1"));
        assert_eq!(v.project, None);
        assert_eq!(v.phone.as_deref(), Some("62647737"));
        assert_eq!(v.status, Some(ValidationStatus::Other("archived".into())));
        assert_eq!(
            v.phone_gateway,
            Some(PhoneGateway::Other("telegram".into()))
        );
        assert_eq!(v.kind.as_ref().map(ValidationType::as_str), Some("survey"));
        assert_eq!(v.title.as_deref(), Some("Acme"));
        assert_eq!(v.sent, Some(true));
        assert!(!format!("{v:?}").contains("626673"));
        // `phoneData` may also be `null`, or hold a `null` or a number as its title.
        for (data, title) in [
            ("null", None),
            (r#"{"title":null}"#, None),
            (r#"{"title":42}"#, Some("42")),
        ] {
            let v: PhoneValidation = parse(&format!(r#"{{"_id":"a","phoneData":{data}}}"#))
                .unwrap_or_else(|err| panic!("{data}: {err}"));
            assert_eq!(v.title.as_deref(), title, "{data}");
        }
    }

    #[test]
    fn refuses_wrong_types() {
        for bad in [
            r#"{"phone":"1"}"#,
            r#"{"_id":""}"#,
            r#"{"_id":["x"]}"#,
            r#"{"_id":"a","expiresAt":"tomorrow"}"#,
            r#"{"_id":"a","requires2FA":"perhaps"}"#,
            r#"{"_id":"a","phoneData":"title"}"#,
            r#"{"_id":"a","client":{"name":"no id"}}"#,
            r#"{"_id":"a","status":{"x":1}}"#,
        ] {
            assert!(parse::<PhoneValidation>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validated_answers_and_tokens() {
        let v: ValidatedPhone = parse(
            r#"{"_id":"674de8df21c72be3cc42b8a7","status":"validated","countryCode":"+507",
            "phone":"62647737","type":"login","showFaceLivenessRecommendation":false,
            "appLogin":{"id":"a1","status":"validated"},"token":"jwt-canary-1"}"#,
        )
        .unwrap();
        assert!(v.is_validated());
        assert_eq!(v.token.as_ref().unwrap().expose_secret(), "jwt-canary-1");
        assert_eq!(v.app_login.as_ref().unwrap().id.as_deref(), Some("a1"));
        let shown = format!("{v:?}");
        assert!(!shown.contains("canary") && !shown.contains("62647737"));
        let token: TokenAnswer = parse(r#"{"token":"t-1"}"#).unwrap();
        assert_eq!(token.access_token.unwrap().expose_secret(), "t-1");
        let token: TokenAnswer = parse(r#"{"accessToken":"t-2","tokenType":"bearer"}"#).unwrap();
        assert_eq!(token.token_type.as_deref(), Some("bearer"));
        assert!(parse::<TokenAnswer>(r#"{"accessToken":7}"#).is_err());
    }

    #[test]
    fn app_registrations_need_their_token() {
        let r: AppRegistration = parse(
            r#"{"_id":"65a4f2b0c0ffee0000000001","client":"c1","project":"p1","projectFlow":"f1",
            "status":"new","email":"ana@acme.test","phone":"3001234567","countryCode":"+57",
            "fullName":"Ana","language":"es","token":"jwt-canary-2",
            "createdAt":"2024-01-15T10:30:00Z"}"#,
        )
        .unwrap();
        assert_eq!(r.token.expose_secret(), "jwt-canary-2");
        assert_eq!(r.project_flow.as_deref(), Some("f1"));
        assert_eq!(r.phone_number().unwrap().e164(), "+573001234567");
        let shown = format!("{r:?}");
        assert!(
            !shown.contains("canary") && !shown.contains("3001234567") && !shown.contains("ana@"),
            "{shown}"
        );
        for bad in [
            r#"{"_id":"a"}"#,
            r#"{"_id":"a","token":""}"#,
            r#"{"_id":"a","token":7}"#,
        ] {
            assert!(parse::<AppRegistration>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_verifiers_slim_answers_read_as_the_full_ones() {
        for json in [
            r#"{"_id":"674de8df21c72be3cc42b8a7","status":"validated","countryCode":"+507",
            "phone":"62647737","type":"login","project":{"_id":"p1"},"phoneGateway":"sms",
            "validationMethod":"verificationCode","validatedAt":"2024-12-02T17:15:35.000Z",
            "expiresAt":"2024-12-02T17:25:35.000Z","token":"jwt","appLogin":{"id":"a1"}}"#,
            r#"{"_id":12345,"status":" validated ","countryCode":507,"phone":62647737,
            "type":"sur\u0076ey","project":77,"phoneGateway":"whatsapp ",
            "validationMethod":"email","validatedAt":"2024-12-02T17:15:35+02:00"}"#,
            r#"{"_id":"a","status":"sent","countryCode":"","phone":" ","project":null,
            "phoneGateway":"telegram","type":null,"validatedAt":null}"#,
            r#"{"_id":"a","status":null}"#,
            r#"{"_id":"a"}"#,
            r#"{"_id":" "}"#,
            r#"{"status":"validated"}"#,
            r#"{"_id":"a","phone":["1"]}"#,
            r#"{"_id":"a","status":{"x":1}}"#,
            r#"{"_id":"a","project":{"name":"no id"}}"#,
            r#"{"_id":"a","validatedAt":"tomorrow"}"#,
            r#"{"_id":"a","updatedAt":"2024-12-02T17:06:00.000Z","createdAt":null}"#,
            r#"{"_id":"a","createdAt":"2024-12-02T17:05:36Z","updatedAt":7}"#,
        ] {
            let full = parse::<PhoneValidation>(json);
            let slim = serde_json::from_str::<SessionRecord<'_>>(json);
            let validated = parse::<ValidatedPhone>(json);
            let check = serde_json::from_str::<CheckAnswer<'_>>(json);
            let (Ok(full), Ok(slim)) = (&full, &slim) else {
                // Only the fields the slim record reads may make the full one fail here.
                assert!(full.is_err() && slim.is_err(), "{json}");
                continue;
            };
            assert_eq!(full.is_validated(), slim.is_validated(), "{json}");
            assert_eq!(full.phone_number(), slim.phone_number(), "{json}");
            assert_eq!(full.project.as_deref(), slim.project.as_deref(), "{json}");
            assert_eq!(
                full.kind.as_ref().map(ValidationType::as_str),
                slim.kind.as_deref(),
                "{json}"
            );
            assert_eq!(
                full.validation_method
                    .as_ref()
                    .map(ValidationMethod::as_str),
                slim.validation_method.as_deref(),
                "{json}"
            );
            assert_eq!(
                full.phone_gateway.as_ref().map(PhoneGateway::as_str),
                slim.phone_gateway.as_deref(),
                "{json}"
            );
            assert_eq!(full.validated_at, slim.validated_at, "{json}");
            assert_eq!(full.updated_at, slim.updated_at, "{json}");
            assert_eq!(full.created_at, slim.created_at, "{json}");
            let (Ok(validated), Ok(check)) = (validated, check) else {
                panic!("{json}");
            };
            assert_eq!(validated.id, check.id, "{json}");
            assert_eq!(validated.is_validated(), check.is_validated(), "{json}");
            assert_eq!(
                validated.status.as_ref().map(ValidationStatus::as_str),
                check.status.as_deref(),
                "{json}"
            );
            assert_eq!(validated.phone_number(), check.phone_number(), "{json}");
        }
    }

    #[test]
    fn debug_shows_what_helps_and_masks_the_rest() {
        let shows = |shown: String, parts: &[&str], hidden: &[&str]| {
            for part in parts {
                assert!(shown.contains(part), "{part:?} in {shown}");
            }
            for part in hidden {
                assert!(!shown.contains(part), "{part:?} in {shown}");
            }
        };
        let mut validation: PhoneValidation = parse(
            r#"{"_id":"v-1","project":"p-1","status":"sent","countryCode":"+507","phone":"62647737","phoneGateway":"sms","type":"validation"}"#,
        )
        .unwrap();
        validation.request_id = Some("Y0628".into());
        shows(
            format!("{validation:?}"),
            &[
                "PhoneValidation {",
                "v-1",
                "p-1",
                "+507",
                "******37",
                "Y0628",
            ],
            &["62647737"],
        );
        let validated: ValidatedPhone = parse(
            r#"{"_id":"v-2","status":"validated","countryCode":"+507","phone":"62647737","token":"jwt-canary"}"#,
        )
        .unwrap();
        shows(
            format!("{validated:?}"),
            &["ValidatedPhone {", "v-2", "+507", "******37", "<redacted>"],
            &["62647737", "jwt-canary"],
        );
        let registration: AppRegistration = parse(
            r#"{"_id":"r-1","project":"p-1","email":"ana@acme.test","countryCode":"+57","phone":"3001234567","language":"es","token":"jwt-canary"}"#,
        )
        .unwrap();
        shows(
            format!("{registration:?}"),
            &[
                "AppRegistration {",
                "r-1",
                "p-1",
                "+57",
                "********67",
                "es",
                "<redacted>",
            ],
            &["3001234567", "ana@", "jwt-canary"],
        );
        let mut login: EmailLogin = parse(
            r#"{"status":"sent","email":"ana@acme.test","expiresAt":"2024-12-02T17:15:35Z"}"#,
        )
        .unwrap();
        login.request_id = Some("EML01".into());
        shows(
            format!("{login:?}"),
            &["EmailLogin {", "sent", "<redacted>", "EML01", "2024"],
            &["ana@", "acme.test"],
        );
    }

    #[test]
    fn pages_and_signatures() {
        let page: ValidationPage = parse(
            r#"{"success":true,"data":[{"_id":"a"},{"_id":"b"}],
            "pagination":{"page":"2","limit":10,"total":12,"pages":2}}"#,
        )
        .unwrap();
        assert_eq!(page.data.len(), 2);
        assert_eq!(page.pagination.unwrap().page, 2);
        assert_eq!(
            parse_signature_date("May 29, 2024 3:41 AM"),
            Some(datetime!(2024-05-29 03:41 UTC))
        );
        assert_eq!(
            parse_signature_date("December 2, 2024 11:05 PM"),
            Some(datetime!(2024-12-02 23:05 UTC))
        );
        assert_eq!(parse_signature_date("yesterday"), None);
        assert_eq!(
            format_date(datetime!(2024-12-31 23:59:59 UTC)).as_deref(),
            Some("2024-12-31T23:59:59.000Z")
        );
        assert_eq!(
            format_date(datetime!(2024-12-31 20:59:59 -03:00)).as_deref(),
            Some("2024-12-31T23:59:59.000Z")
        );
        // Past what a date holds once in UTC: no text, never a panic.
        assert_eq!(format_date(datetime!(9999-12-31 23:30 -01:00)), None);
    }
}
