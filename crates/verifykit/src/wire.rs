//! VerifyKit's wire format: the JSON bodies sent and the results answered, decoded leniently.
//!
//! Every answer has the envelope `{"meta": {...}, "result": {...}}`. Decoding starts from the
//! official PHP SDK's reading: the HTTP status is not trusted; an answer is an error when its
//! `meta` carries an error, and otherwise a success only when `result` is present. Where the
//! PHP SDK needs both `meta.errorCode` and `meta.errorMessage` to see an error, this crate
//! takes either one: a code without a message, or a message without a code, still says that
//! VerifyKit refused. Exceptions, where the PHP SDK's reading could take a refused or lost
//! check for a verified one or for a wrong code:
//!
//! * a server error (5xx) answering a send or a code check is never a success;
//! * a code check (`check-otp`, `check-whatsapp`, `check-email`) whose `result` reports a
//!   success (`validationStatus` or `emailVerify` true, or a session id) while its `meta`
//!   carries an error, or while its HTTP status is not 2xx (VerifyKit's Python and Node SDKs
//!   take any status but 200 for a failure), contradicts itself: its outcome is unknown
//!   ([`ErrorKind::OutcomeUnknown`](phone_verify_core::ErrorKind::OutcomeUnknown), the error
//!   keeping VerifyKit's code, message and request id), never a rejection and never verified.
//!
//! An informational field (what neither a handle nor an outcome depends on: a code's
//! `timeout` and `length`, `appPlatform`, `validationDate`, a country's title, a blacklist
//! change's counts, …) of an unexpected type counts as absent, as `null` does: it never throws
//! away an answer, such as a started verification's reference, that the fields which matter
//! make usable. Those fields (a reference, an e-mail's subject, `validationStatus`, a check's
//! `sessionId` and `phoneNumber`, `emailVerify`, `dkimVerify`, `spfVerify`, `result`'s
//! `phoneNumber`, an access token, a listed method's `app`, a country's code, a blacklist
//! change's lists) must decode.
//!
//! Where VerifyKit's documents disagree the decoder accepts every documented form:
//!
//! * `meta.httpStatusCode` and `meta.errorCode` may be numbers or strings;
//! * unknown fields are ignored everywhere, and `null` stands for a missing field or an empty
//!   list; `result` must be an object, PHP's empty array `[]` being read as `{}`;
//! * identifiers (`reference`, codes, counts) may be numbers or strings;
//! * `validationDate` is `Y-m-d H:i:s` **without a time zone**: it is read as UTC (VerifyKit
//!   documents no zone; its sample dates and the sandbox use UTC). RFC 3339 dates are accepted
//!   too.
//!
//! The decoder of answers (the envelope, then `result` or the error) is in `errors.rs`: a body
//! that is not a JSON object, a success without `result`, or a `result` whose deciding fields
//! have the wrong types is an [`ErrorKind::Decode`](phone_verify_core::ErrorKind::Decode) error (or, for
//! a non-2xx status, the error kind the status suggests); decoding never panics.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use phone_verify_core::SessionId;
use phone_verify_core::kit::lenient::{Scalar, scalar_to_string};
use phone_verify_core::kit::mask_phone_field;
use phone_verify_core::secrecy::SecretString;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use time::OffsetDateTime;

// ---------------------------------------------------------------------------------------------
// Envelope
// ---------------------------------------------------------------------------------------------

/// The `meta` object of an answer, read field by field: a field of an unexpected type is
/// treated as absent, so `meta` never makes an answer undecodable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// `meta.requestId`.
    pub(crate) request_id: Option<String>,
    /// `meta.httpStatusCode`, a number or a numeric string.
    pub(crate) http_status_code: Option<u16>,
    /// `meta.errorCode`, a number or a string.
    pub(crate) error_code: Option<String>,
    /// `meta.errorMessage`.
    pub(crate) error_message: Option<String>,
}

impl Meta {
    /// Reads `meta` (absent, or not an object: every field absent).
    pub(crate) fn read(meta: Option<&Value>) -> Self {
        let Some(Value::Object(map)) = meta else {
            return Self::default();
        };
        let text = |key: &str| {
            map.get(key)
                .and_then(scalar_to_string)
                .filter(|s| !s.is_empty())
        };
        Self {
            request_id: text("requestId"),
            http_status_code: text("httpStatusCode").and_then(|s| s.parse().ok()),
            error_code: text("errorCode"),
            error_message: text("errorMessage"),
        }
    }

    /// Whether the answer is an error: `meta.errorCode` **or** `meta.errorMessage` is present.
    ///
    /// The PHP SDK needs both (`SPEC.md`: its entity is an error only when both are set), and
    /// reads an answer with only one of them as a success when it has a `result`. This crate
    /// takes either one: a code without a message, or a message without a code, still says
    /// that VerifyKit refused, and reading it as a success could take a refused check for a
    /// verified one. A code check's error that comes with a `result` reporting a success is
    /// neither a refusal nor a success: the decoder makes it `OutcomeUnknown`.
    pub(crate) fn is_error(&self) -> bool {
        self.error_code.is_some() || self.error_message.is_some()
    }
}

/// What the decoder of a success needs from `meta`: whether it makes the answer an error
/// ([`Meta::is_error`] of [`Meta::read`]), and the request id as `Meta::read` reads it, read
/// straight from the body without building a `Value` (the id is borrowed from the body unless
/// it has escapes or spaces to trim). An error answer is then read again, in full, by
/// `Meta::read`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MetaFlags<'a> {
    error_code: bool,
    error_message: bool,
    /// `meta.requestId`, as [`Meta::read`] reads it.
    pub(crate) request_id: Option<Cow<'a, str>>,
}

impl MetaFlags<'_> {
    /// Whether the answer is an error, as [`Meta::is_error`] decides it.
    pub(crate) fn is_error(&self) -> bool {
        self.error_code || self.error_message
    }
}

/// Absent, `null` or not an object: no error; a field of an unexpected type: absent; a
/// repeated key: the last one, as `Meta::read` reads a `Value`.
impl<'de: 'a, 'a> Deserialize<'de> for MetaFlags<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MetaVisitor)
    }
}

struct MetaVisitor;

/// The keys of `meta` that make an answer an error.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum MetaField {
    ErrorCode,
    ErrorMessage,
    RequestId,
    #[serde(other)]
    Other,
}

impl<'de> Visitor<'de> for MetaVisitor {
    type Value = MetaFlags<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifyKit's meta object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MetaFlags<'de>, A::Error> {
        let mut flags = MetaFlags::default();
        while let Some(key) = map.next_key::<MetaField>()? {
            match key {
                MetaField::ErrorCode => {
                    flags.error_code = map.next_value::<Scalar<'_>>()?.has_text();
                }
                MetaField::ErrorMessage => {
                    flags.error_message = map.next_value::<Scalar<'_>>()?.has_text();
                }
                MetaField::RequestId => {
                    flags.request_id = map
                        .next_value::<Scalar<'de>>()?
                        .into_text()
                        .filter(|id| !id.is_empty());
                }
                MetaField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(flags)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MetaFlags<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(MetaFlags::default())
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<MetaFlags<'de>, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_none<E>(self) -> Result<MetaFlags<'de>, E> {
        Ok(MetaFlags::default())
    }

    fn visit_unit<E>(self) -> Result<MetaFlags<'de>, E> {
        Ok(MetaFlags::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<MetaFlags<'de>, E> {
        Ok(MetaFlags::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<MetaFlags<'de>, E> {
        Ok(MetaFlags::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<MetaFlags<'de>, E> {
        Ok(MetaFlags::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<MetaFlags<'de>, E> {
        Ok(MetaFlags::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<MetaFlags<'de>, E> {
        Ok(MetaFlags::default())
    }
}

/// A success answer, decoded straight into its typed `result`.
#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub(crate) struct Envelope<'a, T> {
    #[serde(default, borrow)]
    pub(crate) meta: MetaFlags<'a>,
    pub(crate) result: T,
}

mod body;
mod lenient;

pub(crate) use body::{
    BlacklistBody, CheckOtpBody, CountryBody, ReferenceBody, ReferenceCodeBody, SendOtpBody,
    SessionBody, StartBody, StartEmailBody, WhatsAppMessageBody,
};

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/// The result of `GET /init`: the verification methods to offer and the texts of the
/// verification screens.
///
/// VerifyKit answers in one of two shapes, depending on the OTP theme chosen in its panel:
/// SMS OTP as an entry of [`list`](Self::list) (app `otp`), or announced at the root through
/// [`alternative_validation`](Self::alternative_validation) (`"otp"`). Both are accepted;
/// [`offers_otp`](Self::offers_otp) answers for either.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ValidationMethodList {
    /// The methods, in VerifyKit's order.
    #[serde(default, deserialize_with = "lenient::vec")]
    pub list: Vec<ValidationMethod>,
    /// The text above the method list.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub description: Option<String>,
    /// Localized texts of the verification screens.
    #[serde(default, deserialize_with = "lenient::vec")]
    pub localization_list: Vec<Localization>,
    /// Messages for the developer (undocumented shape, kept as JSON).
    #[serde(default, deserialize_with = "lenient::info_values")]
    pub messages: Vec<Value>,
    /// The alternative method offered below the list (`"otp"`) in the second answer shape.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub alternative_validation: Option<String>,
    /// The text of the alternative method, e.g. `Don't use any of these apps?`.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub alternative_validation_description: Option<String>,
}

impl ValidationMethodList {
    /// Whether SMS OTP is offered, in either answer shape.
    pub fn offers_otp(&self) -> bool {
        self.list.iter().any(|m| m.app.eq_ignore_ascii_case("otp"))
            || self
                .alternative_validation
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("otp"))
    }

    /// The method for `app` (`whatsapp`, `telegram`, `otp`), if listed.
    pub fn method(&self, app: &str) -> Option<&ValidationMethod> {
        self.list.iter().find(|m| m.app.eq_ignore_ascii_case(app))
    }

    /// The localized text for `key` (e.g. `validation.description`).
    pub fn text(&self, key: &str) -> Option<&str> {
        self.localization_list
            .iter()
            .find(|l| l.key == key)
            .map(|l| l.value.as_str())
    }
}

/// One verification method of [`ValidationMethodList`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ValidationMethod {
    /// The method: `whatsapp`, `telegram` or `otp`.
    #[serde(deserialize_with = "lenient::string")]
    pub app: String,
    /// The method's package name.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub app_package: Option<String>,
    /// Display name, e.g. `WhatsApp`.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub name: Option<String>,
    /// Button text, e.g. `Verify via WhatsApp`.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub text: Option<String>,
    /// Text colour, hex without `#`.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub text_colour: Option<String>,
    /// Background colour, hex without `#`.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub bg_colour: Option<String>,
    /// Icon URL.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub icon: Option<String>,
}

/// A localized text of [`ValidationMethodList`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Localization {
    /// The key, e.g. `validation.chooseAppText`.
    #[serde(deserialize_with = "lenient::string")]
    pub key: String,
    /// The text.
    #[serde(default, deserialize_with = "lenient::info_string_or_empty")]
    pub value: String,
}

/// The result of `POST /start`: a started WhatsApp or Telegram verification.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StartedValidation {
    /// VerifyKit's reference of the verification, used by `check` and `check-whatsapp`.
    #[serde(deserialize_with = "lenient::non_empty_string")]
    pub reference: String,
    /// The link that opens the messaging app with the message to send.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub deeplink: Option<String>,
    /// A base64 PNG QR code (possibly a `data:` URI), as VerifyKit gave it.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub qr_code: Option<String>,
}

impl fmt::Debug for StartedValidation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartedValidation")
            .field("reference", &self.reference)
            .field("deeplink", &self.deeplink)
            .field(
                "qr_code",
                &self
                    .qr_code
                    .as_ref()
                    .map(|q| format!("<{} bytes>", q.len())),
            )
            .finish()
    }
}

/// The result of `POST /check`, `/check-whatsapp` and `/check-otp`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ValidationCheck {
    /// Whether the verification is complete.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub validation_status: Option<bool>,
    /// The session id to resolve with `result`.
    #[serde(default, deserialize_with = "lenient::opt_session")]
    pub session_id: Option<SessionId>,
    /// Where the user verified: `web`, `android` or `ios` (read by the PHP SDK).
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub app_platform: Option<String>,
    /// The phone number, if VerifyKit reports it here (it usually does only in `result`).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub phone_number: Option<String>,
    /// The answer's `meta.requestId`, kept as an error keeps it.
    #[serde(skip)]
    pub request_id: Option<String>,
}

impl ValidationCheck {
    /// Whether the verification is complete: `validationStatus`, or, when VerifyKit leaves it
    /// out, the presence of a session id.
    pub fn is_verified(&self) -> bool {
        self.validation_status.unwrap_or(self.session_id.is_some())
    }
}

impl fmt::Debug for ValidationCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidationCheck")
            .field("validation_status", &self.validation_status)
            .field("session_id", &self.session_id)
            .field("app_platform", &self.app_platform)
            .field(
                "phone_number",
                &self.phone_number.as_deref().map(mask_phone_field),
            )
            .field("request_id", &self.request_id)
            .finish()
    }
}

/// The result of `POST /country`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub(crate) struct CountryList {
    #[serde(default, deserialize_with = "lenient::vec")]
    pub(crate) list: Vec<Country>,
}

/// A country of `POST /country`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Country {
    /// ISO 3166-1 alpha-2 code, e.g. `TR`: the `countryCode` of `send-otp`.
    #[serde(deserialize_with = "lenient::string")]
    pub country_code: String,
    /// The calling code, e.g. `+90` or `90`, as VerifyKit gave it.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub phone_code: Option<String>,
    /// The country's name.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub title: Option<String>,
}

/// The result of `POST /send-otp`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OtpSent {
    /// VerifyKit's reference of the verification, used by `check-otp`.
    #[serde(deserialize_with = "lenient::non_empty_string")]
    pub reference: String,
    /// The validity period in seconds (documented as `300`); `None` when absent or not a
    /// whole number (informational: the reference alone makes the handle).
    #[serde(default, deserialize_with = "lenient::info_u64")]
    pub timeout: Option<u64>,
    /// The code's length (read by the PHP SDK; undocumented); `None` when absent or not a
    /// whole number.
    #[serde(default, deserialize_with = "lenient::info_u64")]
    pub length: Option<u64>,
}

impl OtpSent {
    /// The validity period.
    pub fn validity(&self) -> Option<Duration> {
        self.timeout.map(Duration::from_secs)
    }
}

/// The result of `POST /start-email`: the e-mail the user must send to verify their address.
///
/// `Debug` shows only the reference and the address to write to: the subject is the code the
/// verification is checked with.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EmailStarted {
    /// VerifyKit's reference of the verification, used by `check-email`.
    #[serde(deserialize_with = "lenient::non_empty_string")]
    pub reference: String,
    /// The address the user sends the e-mail to.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub to: Option<String>,
    /// The subject the e-mail must have (e.g. `verify-abc123abc123`): the `code` of
    /// `check-email`.
    #[serde(deserialize_with = "lenient::non_empty_string")]
    pub subject: String,
    /// The e-mail's suggested body text.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub body: Option<String>,
    /// A `mailto:` link with the address, subject and body filled in.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub mailto: Option<String>,
}

impl fmt::Debug for EmailStarted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailStarted")
            .field("reference", &self.reference)
            .field("to", &self.to)
            .field(
                "subject",
                &format_args!("<{} characters>", self.subject.len()),
            )
            .finish_non_exhaustive()
    }
}

/// The result of `POST /check-email`: the verified address and the checks VerifyKit made on
/// the e-mail it received.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EmailCheck {
    /// Whether the e-mail arrived with the right subject.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub email_verify: Option<bool>,
    /// Whether the e-mail's DKIM signature verified.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub dkim_verify: Option<bool>,
    /// Whether the sender passed SPF.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub spf_verify: Option<bool>,
    /// The address the user wrote from.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub email: Option<String>,
    /// The verification type, `email`.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub validation_type: Option<String>,
    /// When it was verified (`Y-m-d H:i:s` read as UTC).
    #[serde(default, deserialize_with = "lenient::info_date")]
    pub validation_date: Option<OffsetDateTime>,
    /// The session id, when VerifyKit gives one (its callback does).
    #[serde(default, deserialize_with = "lenient::info_session")]
    pub session_id: Option<SessionId>,
}

impl EmailCheck {
    /// Whether the address is verified: `emailVerify` is true and neither DKIM nor SPF
    /// failed.
    pub fn is_verified(&self) -> bool {
        self.email_verify == Some(true)
            && self.dkim_verify != Some(false)
            && self.spf_verify != Some(false)
    }
}

impl fmt::Debug for EmailCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailCheck")
            .field("email_verify", &self.email_verify)
            .field("dkim_verify", &self.dkim_verify)
            .field("spf_verify", &self.spf_verify)
            .field("email", &self.email.as_deref().map(mask_email))
            .field("validation_type", &self.validation_type)
            .field("validation_date", &self.validation_date)
            .field("session_id", &self.session_id)
            .finish()
    }
}

/// An e-mail address for `Debug`: its first character and its domain.
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// The result of `POST /result` on the API host: the verified phone of a session.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ValidationResult {
    /// The phone number as VerifyKit reports it, e.g. `+905555555555`.
    #[serde(deserialize_with = "lenient::non_empty_string")]
    pub phone_number: String,
    /// How it was verified: `whatsapp`, `telegram`, `otp`, …
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub validation_type: Option<String>,
    /// When it was verified; VerifyKit's `Y-m-d H:i:s` has no time zone and is read as UTC.
    #[serde(default, deserialize_with = "lenient::info_date")]
    pub validation_date: Option<OffsetDateTime>,
    /// The number's ISO 3166-1 alpha-2 country, e.g. `TR`.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub country_code: Option<String>,
    /// The mobile network, as VerifyKit reports it (undocumented shape, kept as JSON).
    #[serde(default)]
    pub mobile_network: Option<Value>,
}

impl fmt::Debug for ValidationResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidationResult")
            .field("phone_number", &mask_phone_field(&self.phone_number))
            .field("validation_type", &self.validation_type)
            .field("validation_date", &self.validation_date)
            .field("country_code", &self.country_code)
            .field("mobile_network", &self.mobile_network)
            .finish()
    }
}

/// The result of `GET /access-token` on the API host: a token for VerifyKit's web widget.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AccessToken {
    /// The token; `Debug` never shows it.
    #[serde(deserialize_with = "lenient::secret")]
    pub access_token: SecretString,
    /// When it expires, as VerifyKit wrote it (a date-time string).
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub timeout: Option<String>,
}

impl AccessToken {
    /// [`timeout`](Self::timeout) parsed like `validationDate` (`Y-m-d H:i:s` as UTC, or
    /// RFC 3339), if it has one of those forms.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.timeout.as_deref().and_then(lenient::parse_date)
    }
}

/// The result of `POST /blacklist/add` and `/blacklist/remove`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BlacklistChange {
    /// Numbers in the request.
    #[serde(default, deserialize_with = "lenient::info_count")]
    pub total_count: u64,
    /// Numbers added (or removed).
    #[serde(default, deserialize_with = "lenient::info_count")]
    pub success_count: u64,
    /// Numbers already on the list (add only).
    #[serde(default, deserialize_with = "lenient::info_count")]
    pub already_exists_count: u64,
    /// Numbers that were not on the list (remove only).
    #[serde(default, deserialize_with = "lenient::info_count")]
    pub not_exists_count: u64,
    /// Numbers VerifyKit could not read.
    #[serde(default, deserialize_with = "lenient::info_count")]
    pub number_format_count: u64,
    /// Numbers that failed otherwise.
    #[serde(default, deserialize_with = "lenient::info_count")]
    pub fail_count: u64,
    /// The numbers already on the list.
    #[serde(default, deserialize_with = "lenient::string_vec")]
    pub already_exists_list: Vec<String>,
    /// The numbers that were not on the list.
    #[serde(default, deserialize_with = "lenient::string_vec")]
    pub not_exists_list: Vec<String>,
    /// The numbers VerifyKit could not read.
    #[serde(default, deserialize_with = "lenient::string_vec")]
    pub number_format_list: Vec<String>,
    /// The numbers that failed otherwise.
    #[serde(default, deserialize_with = "lenient::string_vec")]
    pub fail_list: Vec<String>,
}

impl fmt::Debug for BlacklistChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let masked = |numbers: &[String]| {
            numbers
                .iter()
                .map(|n| mask_phone_field(n))
                .collect::<Vec<_>>()
        };
        f.debug_struct("BlacklistChange")
            .field("total_count", &self.total_count)
            .field("success_count", &self.success_count)
            .field("already_exists_count", &self.already_exists_count)
            .field("not_exists_count", &self.not_exists_count)
            .field("number_format_count", &self.number_format_count)
            .field("fail_count", &self.fail_count)
            .field("already_exists_list", &masked(&self.already_exists_list))
            .field("not_exists_list", &masked(&self.not_exists_list))
            .field("number_format_list", &masked(&self.number_format_list))
            .field("fail_list", &masked(&self.fail_list))
            .finish()
    }
}

/// The result of `POST /send-whatsapp-message` on the API host.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WhatsAppMessageSent {
    /// The recipient, as VerifyKit reports it.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub phone_number: Option<String>,
    /// The message, as VerifyKit reports it.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub message: Option<String>,
    /// The delivery status, as text.
    #[serde(default, deserialize_with = "lenient::info_string")]
    pub status: Option<String>,
}

impl fmt::Debug for WhatsAppMessageSent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsAppMessageSent")
            .field(
                "phone_number",
                &self.phone_number.as_deref().map(mask_phone_field),
            )
            .field(
                "message",
                &self
                    .message
                    .as_ref()
                    .map(|m| format!("<{} characters>", m.chars().count())),
            )
            .field("status", &self.status)
            .finish()
    }
}

/// Used by the tests of the error paths of [`decode`].
#[cfg(test)]
pub(crate) fn meta_of(body: &str) -> Meta {
    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    Meta::read(value.get("meta"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn result<T: DeserializeOwned>(json: &str) -> std::result::Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// `meta` values of every shape, for the streaming decoder against [`Meta::read`].
    const METAS: &[&str] = &[
        r#"{"requestId":" app02-REQ-5dc3f853a9b84 ","httpStatusCode":200}"#,
        r#"{"requestId":7,"httpStatusCode":200}"#,
        r#"{"requestId":true}"#,
        r#"{"requestId":"R7","requestId":" "}"#,
        "null",
        "[]",
        "[1, {\"errorCode\": 1}]",
        "\"meta\"",
        "12",
        "-3.5",
        "true",
        "{}",
        r#"{"requestId":"R1","httpStatusCode":403,"errorCode":403014}"#,
        r#"{"requestId":" R1 ","httpStatusCode":"403","errorCode":" 403014 ","errorMessage":"OTP code is invalid."}"#,
        r#"{"requestId":"","httpStatusCode":"","errorCode":"  ","errorMessage":null}"#,
        r#"{"requestId":["a"],"httpStatusCode":{"a":1},"errorCode":false,"errorMessage":true}"#,
        r#"{"httpStatusCode":70000,"errorCode":-12,"errorMessage":1.5e3}"#,
        r#"{"httpStatusCode":"x403","errorCode":1e2,"other":{"errorCode":"no"},"more":[1,2]}"#,
        r#"{"errorCode":"1","errorCode":null,"requestId":null,"requestId":"\u0052\t2"}"#,
        r#"{"errorCode":18446744073709551615,"errorMessage":"caf\u00e9 ","httpStatusCode":200.0}"#,
        r#"{"errorCode":" ","errorMessage":"\t"}"#,
        r#"{"errorCode":"x","errorCode":""}"#,
        r#"{"errorCode":"","errorCode":"x"}"#,
        r#"{"errorMessage":0}"#,
        r#"{"errorMessage":false}"#,
        r#"{"errorCode":{},"errorMessage":[]}"#,
    ];

    #[test]
    fn streamed_meta_flags_an_error_and_reads_the_request_id_as_meta_read_does() {
        for meta in METAS {
            let body = format!(r#"{{"meta":{meta},"result":{{}}}}"#);
            let expected = meta_of(&body);
            let streamed: Envelope<'_, serde_json::Map<String, Value>> =
                serde_json::from_str(&body).unwrap();
            assert_eq!(streamed.meta.is_error(), expected.is_error(), "{meta}");
            assert_eq!(
                streamed.meta.request_id.as_deref(),
                expected.request_id.as_deref(),
                "{meta}"
            );
            let value: Value = serde_json::from_str(&body).unwrap();
            let from_value =
                Envelope::<'_, serde_json::Map<String, Value>>::deserialize(&value).unwrap();
            assert_eq!(from_value.meta.is_error(), expected.is_error(), "{meta}");
            assert_eq!(
                from_value.meta.request_id.as_deref(),
                expected.request_id.as_deref(),
                "{meta}"
            );
        }
        let without: Envelope<'_, serde_json::Map<String, Value>> =
            serde_json::from_str(r#"{"result":{}}"#).unwrap();
        assert!(!without.meta.is_error());
        assert_eq!(without.meta.request_id, None);
    }

    #[test]
    fn meta_accepts_numbers_and_strings() {
        let numbers =
            meta_of(r#"{"meta":{"requestId":"R1","httpStatusCode":403,"errorCode":403014}}"#);
        assert_eq!(numbers.http_status_code, Some(403));
        assert_eq!(numbers.error_code.as_deref(), Some("403014"));
        let strings = meta_of(
            r#"{"meta":{"requestId":"R1","httpStatusCode":"403","errorCode":" 403014 ","errorMessage":"OTP code is invalid."}}"#,
        );
        assert_eq!(strings.http_status_code, Some(403));
        assert_eq!(strings.error_code.as_deref(), Some("403014"));
        assert!(strings.is_error());
        let odd = meta_of(
            r#"{"meta":{"requestId":["x"],"httpStatusCode":"HTTP_STATUS_CODE","errorCode":null,"errorMessage":""}}"#,
        );
        assert_eq!(odd, Meta::default());
        assert!(!odd.is_error());
        assert_eq!(meta_of(r#"{"meta":"nope"}"#), Meta::default());
    }

    #[test]
    fn dates_without_zone_are_utc() {
        let r: ValidationResult = result(
            r#"{"validationType":"whatsapp","validationDate":"2019-11-07 07:35:28","phoneNumber":"+905555555555","countryCode":"TR","surprise":1}"#,
        )
        .unwrap();
        assert_eq!(r.validation_date, Some(datetime!(2019-11-07 07:35:28 UTC)));
        let rfc: ValidationResult = result(
            r#"{"validationDate":"2019-11-07T10:35:28+03:00","phoneNumber":"+905555555555"}"#,
        )
        .unwrap();
        assert_eq!(
            rfc.validation_date,
            Some(datetime!(2019-11-07 07:35:28 UTC))
        );
        let none: ValidationResult =
            result(r#"{"validationDate":null,"phoneNumber":"+905555555555"}"#).unwrap();
        assert_eq!(none.validation_date, None);
        // An informational date that is no date counts as absent.
        let odd: ValidationResult =
            result(r#"{"validationDate":"yesterday","phoneNumber":"+905555555555"}"#).unwrap();
        assert_eq!(odd.validation_date, None);
        assert!(result::<ValidationResult>(r#"{"validationType":"whatsapp"}"#).is_err());
    }

    #[test]
    fn identifiers_may_be_numbers() {
        let sent: OtpSent = result(r#"{"reference":123456,"timeout":"300","length":6}"#).unwrap();
        assert_eq!(sent.reference, "123456");
        assert_eq!(sent.validity(), Some(Duration::from_secs(300)));
        assert_eq!(sent.length, Some(6));
        assert!(result::<OtpSent>(r#"{"reference":""}"#).is_err());
        // The reference decides; an odd timeout or length counts as absent.
        let odd: OtpSent = result(r#"{"reference":"r","timeout":"soon","length":6.0}"#).unwrap();
        assert_eq!(
            (odd.reference.as_str(), odd.timeout, odd.length),
            ("r", None, None)
        );
        assert!(result::<OtpSent>(r#"{"reference":{"a":1}}"#).is_err());
    }

    /// Every answer's informational fields count as absent when of an unexpected type; the
    /// fields a handle or an outcome needs still decide.
    #[test]
    fn informational_fields_of_an_unexpected_type_are_absent() {
        let init: ValidationMethodList = result(
            r#"{"list":[{"app":"otp","name":{},"text":[1],"textColour":null,"icon":{"u":1}}],
                "description":[],"localizationList":[{"key":"k","value":{"v":1}}],
                "messages":"none","alternativeValidation":{},"alternativeValidationDescription":[]}"#,
        )
        .unwrap();
        assert!(init.offers_otp());
        assert_eq!(
            (init.list[0].name.as_deref(), init.description.as_deref()),
            (None, None)
        );
        assert_eq!(init.text("k"), Some(""));
        assert!(init.messages.is_empty() && init.alternative_validation.is_none());
        let countries: CountryList =
            result(r#"{"list":[{"countryCode":"TR","phoneCode":[90],"title":{}}]}"#).unwrap();
        assert_eq!(countries.list[0].country_code, "TR");
        assert_eq!(countries.list[0].phone_code, None);
        let started: StartedValidation =
            result(r#"{"reference":"r","deeplink":{"url":"x"},"qrCode":[]}"#).unwrap();
        assert_eq!((started.deeplink, started.qr_code), (None, None));
        let check: ValidationCheck =
            result(r#"{"validationStatus":true,"appPlatform":{"os":"ios"}}"#).unwrap();
        assert!(check.is_verified() && check.app_platform.is_none());
        let email: EmailCheck = result(
            r#"{"emailVerify":true,"email":[],"validationType":{},"validationDate":"soon","sessionId":"a b"}"#,
        )
        .unwrap();
        assert!(email.is_verified());
        assert_eq!((email.validation_date, email.session_id), (None, None));
        let found: ValidationResult =
            result(r#"{"phoneNumber":"+905555555555","validationType":[],"countryCode":{}}"#)
                .unwrap();
        assert_eq!((found.validation_type, found.country_code), (None, None));
        let token: AccessToken = result(r#"{"accessToken":"t","timeout":{"at":1}}"#).unwrap();
        assert_eq!(token.expires_at(), None);
        let change: BlacklistChange =
            result(r#"{"totalCount":-1,"successCount":"two","failCount":1.5,"failList":["+1"]}"#)
                .unwrap();
        assert_eq!((change.total_count, change.success_count), (0, 0));
        assert_eq!(change.fail_list, ["+1"]);
        // What a handle or an outcome depends on still decides.
        for (strict, json) in [
            ("reference", r#"{"reference":["r"]}"#),
            ("validationStatus", r#"{"validationStatus":"maybe"}"#),
            (
                "sessionId",
                r#"{"validationStatus":true,"sessionId":"a b"}"#,
            ),
            (
                "phoneNumber",
                r#"{"validationStatus":true,"phoneNumber":{}}"#,
            ),
        ] {
            let decoded = if strict == "reference" {
                result::<StartedValidation>(json).map(drop)
            } else {
                result::<ValidationCheck>(json).map(drop)
            };
            assert!(decoded.is_err(), "{strict}");
        }
        assert!(result::<EmailCheck>(r#"{"emailVerify":"maybe"}"#).is_err());
        assert!(result::<ValidationResult>(r#"{"phoneNumber":{}}"#).is_err());
    }

    #[test]
    fn checks_are_lenient() {
        let verified: ValidationCheck =
            result(r#"{"validationStatus":"true","sessionId":"QWERTY123456"}"#).unwrap();
        assert!(verified.is_verified());
        let implied: ValidationCheck = result(r#"{"sessionId":"QWERTY123456"}"#).unwrap();
        assert!(implied.is_verified());
        let pending: ValidationCheck =
            result(r#"{"validationStatus":false,"sessionId":null}"#).unwrap();
        assert!(!pending.is_verified());
        assert!(result::<ValidationCheck>(r#"{"validationStatus":"maybe"}"#).is_err());
        assert!(result::<ValidationCheck>(r#"{"sessionId":"has space"}"#).is_err());
    }

    #[test]
    fn init_accepts_both_shapes_and_nulls() {
        let basic: ValidationMethodList = result(
            r#"{"list":[],"alternativeValidation":"otp","alternativeValidationDescription":"Don't use any of these apps?","localizationList":null,"messages":null}"#,
        )
        .unwrap();
        assert!(basic.offers_otp());
        assert!(basic.method("whatsapp").is_none());
        let recommended: ValidationMethodList = result(
            r#"{"list":[{"app":"whatsapp","name":"WhatsApp"},{"app":"otp","appPackage":"otp"}],"localizationList":[{"key":"validation.description","value":"Tap"}]}"#,
        )
        .unwrap();
        assert!(recommended.offers_otp());
        assert_eq!(recommended.text("validation.description"), Some("Tap"));
        let neither: ValidationMethodList = result(r#"{"list":[{"app":"telegram"}]}"#).unwrap();
        assert!(!neither.offers_otp());
    }

    #[test]
    fn debug_masks_phones_and_secrets() {
        let r: ValidationResult = result(r#"{"phoneNumber":"+905321234567"}"#).unwrap();
        assert!(!format!("{r:?}").contains("5321234567"));
        let token: AccessToken =
            result(r#"{"accessToken":"tok-canary-123","timeout":"2026-11-22 18:00:00"}"#).unwrap();
        assert!(!format!("{token:?}").contains("canary"));
        assert_eq!(token.expires_at(), Some(datetime!(2026-11-22 18:00:00 UTC)));
        let sent: WhatsAppMessageSent = result(
            r#"{"phoneNumber":"+905321234567","message":"hello there friend","status":true}"#,
        )
        .unwrap();
        assert_eq!(sent.status.as_deref(), Some("true"));
        let shown = format!("{sent:?}");
        assert!(!shown.contains("5321234567") && !shown.contains("hello"));
        // Core's mask: the calling code too, not the first three characters.
        let us: ValidationResult = result(r#"{"phoneNumber":"+15017122661"}"#).unwrap();
        let shown = format!("{us:?}");
        assert!(
            !shown.contains("+15") && shown.contains("+*********61"),
            "{shown}"
        );
        // Every digit but the last two, whatever the separators or the length: a field holds
        // a phone number, which core's mask for free text may not recognise.
        for (phone, masked, hidden) in [
            ("+90/532/123/4567", "+**/***/***/**67", "532"),
            ("532123", "****23", "5321"),
            ("+90 532 123 45 67", "+** *** *** ** 67", "532"),
            ("+٩٠٥٣٢١٢٣٤٥٦٧", "+**********٦٧", "٥٣٢"),
        ] {
            let json = serde_json::json!({ "phoneNumber": phone }).to_string();
            let r: ValidationResult = result(&json).unwrap();
            let shown = format!("{r:?}");
            assert!(!shown.contains(hidden) && shown.contains(masked), "{shown}");
            let sent: WhatsAppMessageSent = result(&json).unwrap();
            let shown = format!("{sent:?}");
            assert!(!shown.contains(hidden) && shown.contains(masked), "{shown}");
            let check: ValidationCheck = result(&json).unwrap();
            let shown = format!("{check:?}");
            assert!(!shown.contains(hidden) && shown.contains(masked), "{shown}");
        }
        let listed: BlacklistChange =
            result(r#"{"failList":["+90/532/123/4567","532123"]}"#).unwrap();
        let shown = format!("{listed:?}");
        assert!(
            !shown.contains("532")
                && shown.contains("+**/***/***/**67")
                && shown.contains("****23"),
            "{shown}"
        );
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
        let started: StartedValidation = result(
            r#"{"reference":"ref-1","deeplink":"https://wa.me/90?text=x","qrCode":"iVBORw0KGgo"}"#,
        )
        .unwrap();
        shows(
            format!("{started:?}"),
            &[
                "StartedValidation {",
                "ref-1",
                "https://wa.me/90?text=x",
                "<11 bytes>",
            ],
            &["iVBOR"],
        );
        let check: ValidationCheck = result(
            r#"{"validationStatus":true,"sessionId":"s-1","appPlatform":"web","phoneNumber":"+905321234567"}"#,
        )
        .unwrap();
        shows(
            format!("{check:?}"),
            &[
                "ValidationCheck {",
                "Some(true)",
                "s-1",
                "web",
                "+**********67",
            ],
            &["5321234567"],
        );
        let email: EmailStarted = result(
            r#"{"reference":"ref-2","to":"verify@verifykit.com","subject":"verify-abc123","body":"hi"}"#,
        )
        .unwrap();
        shows(
            format!("{email:?}"),
            &[
                "EmailStarted {",
                "ref-2",
                "verify@verifykit.com",
                "<13 characters>",
            ],
            &["abc123"],
        );
        let email: EmailCheck = result(
            r#"{"emailVerify":true,"dkimVerify":false,"email":"jane.doe@example.com","sessionId":"s-2"}"#,
        )
        .unwrap();
        shows(
            format!("{email:?}"),
            &[
                "EmailCheck {",
                "Some(true)",
                "Some(false)",
                "j***@example.com",
                "s-2",
            ],
            &["jane"],
        );
        assert_eq!(mask_email("jane@example.com"), "j***@example.com");
        assert_eq!(mask_email("@example.com"), "***@example.com");
        assert_eq!(mask_email("no address"), "***");
        let found: ValidationResult = result(
            r#"{"phoneNumber":"+905321234567","validationType":"whatsapp","countryCode":"TR"}"#,
        )
        .unwrap();
        shows(
            format!("{found:?}"),
            &["ValidationResult {", "+**********67", "whatsapp", "TR"],
            &["5321234567"],
        );
        let sent: WhatsAppMessageSent =
            result(r#"{"phoneNumber":"+905321234567","message":"héllo","status":"sent"}"#).unwrap();
        shows(
            format!("{sent:?}"),
            &[
                "WhatsAppMessageSent {",
                "+**********67",
                "<5 characters>",
                "sent",
            ],
            &["5321234567", "llo"],
        );
    }

    #[test]
    fn blacklist_counts_and_lists_are_lenient() {
        let change: BlacklistChange = result(
            r#"{"totalCount":"2","successCount":1,"alreadyExistsCount":1,"alreadyExistsList":[905321234567],"failList":null}"#,
        )
        .unwrap();
        assert_eq!(change.total_count, 2);
        assert_eq!(change.already_exists_list, ["905321234567"]);
        assert!(change.fail_list.is_empty());
        assert!(result::<BlacklistChange>(r#"{"failList":[{"x":1}]}"#).is_err());
    }

    #[test]
    fn blacklist_debug_masks_every_number() {
        let change: BlacklistChange = result(
            r#"{"totalCount":4,"alreadyExistsList":["+905321234567"],"notExistsList":["905331234567"],"numberFormatList":["05341234567"],"failList":["+905351234567"]}"#,
        )
        .unwrap();
        let shown = format!("{change:?}");
        for number in ["5321234567", "5331234567", "5341234567", "5351234567"] {
            assert!(!shown.contains(number), "{shown}");
        }
        assert!(
            shown.contains("total_count: 4") && shown.contains("+**********67"),
            "{shown}"
        );
    }
}
