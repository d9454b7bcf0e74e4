//! Twilio Verify v2's request parameters and answers, as its OpenAPI description names them
//! (`twilio_verify_v2.json`). Answers are decoded leniently ([`phone_verify_core::kit::lenient`]):
//! unknown fields are ignored, `null` counts as absent, numbers and booleans may come as
//! strings.

use std::fmt;
use std::net::IpAddr;

use phone_verify_core::kit::lenient;
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A channel of `POST Services/{ServiceSid}/Verifications` (`Channel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TwilioChannel {
    /// `sms`.
    Sms,
    /// `whatsapp`.
    Whatsapp,
    /// `call`: the code is read out in a voice call.
    Call,
    /// `email` (needs an e-mail integration on the service; `To` is an address).
    Email,
}

impl TwilioChannel {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Whatsapp => "whatsapp",
            Self::Call => "call",
            Self::Email => "email",
        }
    }
}

impl fmt::Display for TwilioChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `RiskCheck` of a verification: Fraud Guard on SMS (`enable`, Twilio's default) or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RiskCheck {
    /// `enable`.
    Enable,
    /// `disable`.
    Disable,
}

impl RiskCheck {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enable => "enable",
            Self::Disable => "disable",
        }
    }
}

/// The parameters of `POST Services/{ServiceSid}/Verifications`, as the typed client sends
/// them. Only what is set is sent.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateVerification {
    /// `To`: an E.164 number (or an e-mail address for [`TwilioChannel::Email`]).
    pub to: String,
    /// `Channel`.
    pub channel: TwilioChannel,
    /// `Locale`: the message language, e.g. `en`, `pt-BR`.
    pub locale: Option<String>,
    /// `CustomCode`: a code of your own (the service must allow custom codes).
    pub custom_code: Option<String>,
    /// `DeviceIp`: the end user's IP address.
    pub device_ip: Option<IpAddr>,
    /// `RiskCheck`.
    pub risk_check: Option<RiskCheck>,
    /// `Tags`: a JSON object of tags recorded with the verification: at most 10, each key and
    /// value at most 128 characters (checked before anything is sent); no personal data, as
    /// Twilio asks.
    pub tags: Option<serde_json::Map<String, serde_json::Value>>,
}

impl CreateVerification {
    /// A verification of `to` by `channel`, nothing else set.
    pub fn new(to: impl Into<String>, channel: TwilioChannel) -> Self {
        Self {
            to: to.into(),
            channel,
            locale: None,
            custom_code: None,
            device_ip: None,
            risk_check: None,
            tags: None,
        }
    }

    /// The form fields, in the OpenAPI's order.
    pub(crate) fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![
            ("To", self.to.clone()),
            ("Channel", self.channel.as_str().to_owned()),
        ];
        if let Some(locale) = &self.locale {
            form.push(("Locale", locale.clone()));
        }
        if let Some(code) = &self.custom_code {
            form.push(("CustomCode", code.clone()));
        }
        if let Some(ip) = self.device_ip {
            form.push(("DeviceIp", ip.to_string()));
        }
        if let Some(risk) = self.risk_check {
            form.push(("RiskCheck", risk.as_str().to_owned()));
        }
        if let Some(tags) = &self.tags {
            form.push(("Tags", serde_json::Value::Object(tags.clone()).to_string()));
        }
        form
    }
}

impl fmt::Debug for CreateVerification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The recipient and a custom code are never shown.
        f.debug_struct("CreateVerification")
            .field("channel", &self.channel)
            .field("locale", &self.locale)
            .field(
                "custom_code",
                &self.custom_code.as_ref().map(|_| "<redacted>"),
            )
            .field("device_ip", &self.device_ip.is_some())
            .field("risk_check", &self.risk_check)
            .finish_non_exhaustive()
    }
}

/// The `Status` of `POST Services/{ServiceSid}/Verifications/{Sid}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VerificationUpdate {
    /// `canceled`: the code can no longer be checked.
    Canceled,
    /// `approved`: approve without a code (e.g. after another factor).
    Approved,
}

impl VerificationUpdate {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Canceled => "canceled",
            Self::Approved => "approved",
        }
    }
}

/// Which verification `POST Services/{ServiceSid}/VerificationCheck` checks.
#[derive(Clone, PartialEq, Eq)]
pub enum CheckTarget {
    /// `VerificationSid`: the verification (`VE…`) itself.
    VerificationSid(String),
    /// `To`: the newest pending verification of this number or address.
    To(String),
}

impl CheckTarget {
    /// The form field.
    pub(crate) fn field(&self) -> (&'static str, &str) {
        match self {
            Self::VerificationSid(sid) => ("VerificationSid", sid),
            Self::To(to) => ("To", to),
        }
    }
}

impl fmt::Debug for CheckTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::VerificationSid(sid) => f.debug_tuple("VerificationSid").field(sid).finish(),
            Self::To(_) => f.write_str("To(<redacted>)"),
        }
    }
}

/// The parameters of `POST Services` the typed client sends (only what is set).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateService {
    /// `FriendlyName` (required; up to 32 characters, shown in messages).
    pub friendly_name: String,
    /// `CodeLength`: 4 to 10.
    pub code_length: Option<u8>,
    /// `LookupEnabled`.
    pub lookup_enabled: Option<bool>,
    /// `SkipSmsToLandlines`.
    pub skip_sms_to_landlines: Option<bool>,
    /// `DtmfInputRequired`.
    pub dtmf_input_required: Option<bool>,
    /// `DoNotShareWarningEnabled`.
    pub do_not_share_warning_enabled: Option<bool>,
    /// `CustomCodeEnabled`.
    pub custom_code_enabled: Option<bool>,
}

impl CreateService {
    /// A service named `friendly_name`, Twilio's defaults for the rest.
    pub fn new(friendly_name: impl Into<String>) -> Self {
        Self {
            friendly_name: friendly_name.into(),
            ..Self::default()
        }
    }

    /// The form fields, in the OpenAPI's order: an update's, with the name always set.
    pub(crate) fn form(&self) -> Vec<(&'static str, String)> {
        UpdateService {
            friendly_name: Some(self.friendly_name.clone()),
            code_length: self.code_length,
            lookup_enabled: self.lookup_enabled,
            skip_sms_to_landlines: self.skip_sms_to_landlines,
            dtmf_input_required: self.dtmf_input_required,
            do_not_share_warning_enabled: self.do_not_share_warning_enabled,
            custom_code_enabled: self.custom_code_enabled,
        }
        .form()
    }
}

/// The parameters of `POST Services/{Sid}` (UpdateService) the typed client sends: the
/// fields of [`CreateService`], each optional, and only what is set is sent. An update with no
/// field set is refused before anything is sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateService {
    /// `FriendlyName`: 1 to 32 characters, shown in messages.
    pub friendly_name: Option<String>,
    /// `CodeLength`: 4 to 10.
    pub code_length: Option<u8>,
    /// `LookupEnabled`.
    pub lookup_enabled: Option<bool>,
    /// `SkipSmsToLandlines`.
    pub skip_sms_to_landlines: Option<bool>,
    /// `DtmfInputRequired`.
    pub dtmf_input_required: Option<bool>,
    /// `DoNotShareWarningEnabled`.
    pub do_not_share_warning_enabled: Option<bool>,
    /// `CustomCodeEnabled`.
    pub custom_code_enabled: Option<bool>,
}

impl UpdateService {
    /// An update that changes nothing yet: set the fields to change.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no field is set (such an update is refused before anything is sent).
    pub fn is_empty(&self) -> bool {
        self.form().is_empty()
    }

    /// The form fields, in the OpenAPI's order.
    pub(crate) fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = Vec::new();
        if let Some(name) = &self.friendly_name {
            form.push(("FriendlyName", name.clone()));
        }
        if let Some(n) = self.code_length {
            form.push(("CodeLength", n.to_string()));
        }
        for (name, value) in [
            ("LookupEnabled", self.lookup_enabled),
            ("SkipSmsToLandlines", self.skip_sms_to_landlines),
            ("DtmfInputRequired", self.dtmf_input_required),
            (
                "DoNotShareWarningEnabled",
                self.do_not_share_warning_enabled,
            ),
            ("CustomCodeEnabled", self.custom_code_enabled),
        ] {
            if let Some(v) = value {
                form.push((name, v.to_string()));
            }
        }
        form
    }
}

/// A verification's `status`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerificationStatus {
    /// `pending`: waiting for the right code (also the answer to a wrong code).
    Pending,
    /// `approved`: the right code was checked.
    Approved,
    /// `canceled`.
    Canceled,
    /// `max_attempts_reached`: too many wrong codes.
    MaxAttemptsReached,
    /// `expired`: 10 minutes passed.
    Expired,
    /// `failed`.
    Failed,
    /// `deleted`.
    Deleted,
    /// A status Twilio may add later, as sent.
    Other(String),
}

impl VerificationStatus {
    /// The status for its wire name (any case).
    pub fn parse(name: &str) -> Self {
        match name.trim().to_ascii_lowercase().as_str() {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "canceled" | "cancelled" => Self::Canceled,
            "max_attempts_reached" => Self::MaxAttemptsReached,
            "expired" => Self::Expired,
            "failed" => Self::Failed,
            "deleted" => Self::Deleted,
            _ => Self::Other(name.trim().to_owned()),
        }
    }
}

impl<'de> Deserialize<'de> for VerificationStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::non_empty_string(d).map(|s| Self::parse(&s))
    }
}

/// A status, or `None` when absent, `null` or blank: Twilio's OpenAPI marks every field of its
/// answers nullable, `status` included.
fn opt_status<'de, D: Deserializer<'de>>(d: D) -> Result<Option<VerificationStatus>, D::Error> {
    Ok(lenient::opt_non_blank_text(d)?.map(|s| VerificationStatus::parse(&s)))
}

/// An RFC 3339 time, or `None` when absent or not one (Twilio's dates are informative; a
/// malformed one is not worth refusing an answer for).
pub(crate) fn opt_time<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    Ok(lenient::opt_text(d)?.and_then(|s| OffsetDateTime::parse(&s, &Rfc3339).ok()))
}

/// A Verification resource (`verify.v2.service.verification`).
#[derive(Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Verification {
    /// `sid`: `VE…`.
    #[serde(deserialize_with = "lenient::non_empty_string")]
    pub sid: String,
    /// `service_sid`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub service_sid: Option<String>,
    /// `to`: the number or address, as Twilio normalized it.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub to: Option<String>,
    /// `channel`, as sent.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub channel: Option<String>,
    /// `status` (`None` when Twilio sends none: the field is nullable).
    #[serde(default, deserialize_with = "opt_status")]
    pub status: Option<VerificationStatus>,
    /// `valid`: whether it was approved.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub valid: bool,
    /// `date_created`.
    #[serde(default, deserialize_with = "opt_time")]
    pub date_created: Option<OffsetDateTime>,
    /// `date_updated`.
    #[serde(default, deserialize_with = "opt_time")]
    pub date_updated: Option<OffsetDateTime>,
    /// `send_code_attempts`: one entry per send of this verification.
    #[serde(default, deserialize_with = "lenient::vec")]
    pub send_code_attempts: Vec<serde_json::Value>,
}

impl fmt::Debug for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The recipient is never shown.
        f.debug_struct("Verification")
            .field("sid", &self.sid)
            .field("service_sid", &self.service_sid)
            .field("to", &self.to.as_ref().map(|_| "<redacted>"))
            .field("channel", &self.channel)
            .field("status", &self.status)
            .field("valid", &self.valid)
            .field("date_created", &self.date_created)
            .field("date_updated", &self.date_updated)
            .field("send_code_attempts", &self.send_code_attempts)
            .finish()
    }
}

/// A VerificationCheck resource (`verify.v2.service.verification_check`).
#[derive(Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct VerificationCheck {
    /// `sid`: the verification's `VE…`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub sid: Option<String>,
    /// `to`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub to: Option<String>,
    /// `channel`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub channel: Option<String>,
    /// `status`: `approved` for the right code, `pending` for a wrong one (`None` when Twilio
    /// sends none: the field is nullable, and `valid` then tells a right code).
    #[serde(default, deserialize_with = "opt_status")]
    pub status: Option<VerificationStatus>,
    /// `valid`, Twilio's legacy flag for a right code (`None` when Twilio sends none: the
    /// field is nullable, and `status` then tells).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub valid: Option<bool>,
    /// `date_updated`: when it was checked.
    #[serde(default, deserialize_with = "opt_time")]
    pub date_updated: Option<OffsetDateTime>,
}

impl fmt::Debug for VerificationCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The recipient is never shown.
        f.debug_struct("VerificationCheck")
            .field("sid", &self.sid)
            .field("to", &self.to.as_ref().map(|_| "<redacted>"))
            .field("channel", &self.channel)
            .field("status", &self.status)
            .field("valid", &self.valid)
            .field("date_updated", &self.date_updated)
            .finish()
    }
}

/// A Service resource (`verify.v2.service`), the fields the client uses.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Service {
    /// `sid`: `VA…`.
    #[serde(deserialize_with = "lenient::non_empty_string")]
    pub sid: String,
    /// `friendly_name`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub friendly_name: Option<String>,
    /// `code_length`.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub code_length: Option<u64>,
    /// `lookup_enabled`.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub lookup_enabled: Option<bool>,
    /// `custom_code_enabled`.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub custom_code_enabled: Option<bool>,
    /// `skip_sms_to_landlines`.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub skip_sms_to_landlines: Option<bool>,
    /// `dtmf_input_required`.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub dtmf_input_required: Option<bool>,
    /// `do_not_share_warning_enabled`.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub do_not_share_warning_enabled: Option<bool>,
}

/// One page of `GET Services` (ListService): the services on it and where the others are.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServicePage {
    /// `services`: this page's services (absent or `null`: none).
    #[serde(default, deserialize_with = "lenient::vec")]
    pub services: Vec<Service>,
    /// `meta`: the page's place in the list (absent or `null`: every field `None`).
    #[serde(default, deserialize_with = "opt_meta")]
    pub meta: PageMeta,
}

impl ServicePage {
    /// The URL of the next page (`meta.next_page_url`), `None` on the last page.
    pub fn next_page_url(&self) -> Option<&str> {
        self.meta.next_page_url.as_deref()
    }
}

/// The `meta` of a list page, as Twilio's OpenAPI names it. Every field is optional (absent,
/// `null` or blank is `None`); a `meta` that is there but cannot be read is a decode error
/// rather than a page that seems to be the last.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageMeta {
    /// `page`: the page index, from 0.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub page: Option<u64>,
    /// `page_size`: how many resources a page holds.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub page_size: Option<u64>,
    /// `first_page_url`.
    #[serde(default, deserialize_with = "lenient::opt_non_blank_string")]
    pub first_page_url: Option<String>,
    /// `previous_page_url` (`None` on the first page).
    #[serde(default, deserialize_with = "lenient::opt_non_blank_string")]
    pub previous_page_url: Option<String>,
    /// `url`: this page's URL.
    #[serde(default, deserialize_with = "lenient::opt_non_blank_string")]
    pub url: Option<String>,
    /// `next_page_url` (`None` on the last page): give the page to
    /// [`TwilioClient::next_services_page`](crate::TwilioClient::next_services_page) or
    /// [`TwilioClient::next_attempts_page`](crate::TwilioClient::next_attempts_page).
    #[serde(default, deserialize_with = "lenient::opt_non_blank_string")]
    pub next_page_url: Option<String>,
    /// `key`: the name of the list's field, `services` or `attempts`.
    #[serde(default, deserialize_with = "lenient::opt_non_blank_string")]
    pub key: Option<String>,
}

/// A page's `meta`, or every field `None` when it is `null`.
pub(crate) fn opt_meta<'de, D: Deserializer<'de>>(d: D) -> Result<PageMeta, D::Error> {
    Ok(Option::<PageMeta>::deserialize(d)?.unwrap_or_default())
}

/// Twilio's error body: `{"code", "message", "more_info", "status"}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorBody {
    /// `code`, e.g. `60200`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub code: Option<String>,
    /// `message`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub message: Option<String>,
    /// `more_info`: the error's documentation page.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub more_info: Option<String>,
    /// `status`: the HTTP status.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub status: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_verification_form_has_the_openapi_names() {
        let mut create = CreateVerification::new("+15017122661", TwilioChannel::Whatsapp);
        create.locale = Some("pt-BR".into());
        create.custom_code = Some("867530".into());
        create.device_ip = Some("203.0.113.7".parse().unwrap());
        create.risk_check = Some(RiskCheck::Disable);
        create.tags = Some(serde_json::from_str(r#"{"order":"42"}"#).unwrap());
        let form = create.form();
        let names: Vec<&str> = form.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "To",
                "Channel",
                "Locale",
                "CustomCode",
                "DeviceIp",
                "RiskCheck",
                "Tags"
            ]
        );
        assert_eq!(form[1].1, "whatsapp");
        assert_eq!(form[4].1, "203.0.113.7");
        assert_eq!(form[6].1, r#"{"order":"42"}"#);
        let shown = format!("{create:?}");
        assert!(!shown.contains("867530") && !shown.contains("5017122661"));
        assert_eq!(
            CreateVerification::new("+1", TwilioChannel::Sms)
                .form()
                .len(),
            2
        );
    }

    #[test]
    fn service_form_sends_only_what_is_set() {
        let mut s = CreateService::new("Shop");
        assert_eq!(s.form(), [("FriendlyName", "Shop".to_owned())]);
        s.code_length = Some(8);
        s.custom_code_enabled = Some(true);
        assert_eq!(
            s.form(),
            [
                ("FriendlyName", "Shop".to_owned()),
                ("CodeLength", "8".to_owned()),
                ("CustomCodeEnabled", "true".to_owned())
            ]
        );
    }

    #[test]
    fn update_service_form_sends_only_what_is_set_in_the_openapi_order() {
        let mut u = UpdateService::new();
        assert!(u.is_empty());
        assert!(u.form().is_empty());
        u.custom_code_enabled = Some(false);
        u.friendly_name = Some("Shop 2".into());
        u.code_length = Some(7);
        u.lookup_enabled = Some(true);
        u.skip_sms_to_landlines = Some(false);
        u.dtmf_input_required = Some(true);
        u.do_not_share_warning_enabled = Some(true);
        assert!(!u.is_empty());
        let form = u.form();
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("FriendlyName", "Shop 2"),
                ("CodeLength", "7"),
                ("LookupEnabled", "true"),
                ("SkipSmsToLandlines", "false"),
                ("DtmfInputRequired", "true"),
                ("DoNotShareWarningEnabled", "true"),
                ("CustomCodeEnabled", "false"),
            ]
        );
        let only = UpdateService {
            lookup_enabled: Some(false),
            ..UpdateService::default()
        };
        assert_eq!(only.form(), [("LookupEnabled", "false".to_owned())]);
    }

    #[test]
    fn a_page_decodes_its_services_and_meta_leniently() {
        let page: ServicePage = serde_json::from_str(
            r#"{"meta":{"page":"1","page_size":2,"first_page_url":"https://verify.twilio.com/v2/Services?PageSize=2&Page=0",
                "previous_page_url":"https://verify.twilio.com/v2/Services?PageSize=2&Page=0&PageToken=PBVAa",
                "next_page_url":null,"key":"services","url":"https://verify.twilio.com/v2/Services?PageSize=2&Page=1","extra":[]},
                "services":[{"sid":"VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","code_length":"6","skip_sms_to_landlines":true}]}"#,
        )
        .unwrap();
        assert_eq!(page.services.len(), 1);
        assert_eq!(page.services[0].code_length, Some(6));
        assert_eq!(page.services[0].skip_sms_to_landlines, Some(true));
        assert_eq!((page.meta.page, page.meta.page_size), (Some(1), Some(2)));
        assert_eq!(page.meta.key.as_deref(), Some("services"));
        assert!(page.meta.previous_page_url.is_some());
        assert_eq!(page.next_page_url(), None);
        // A blank next page is none; a missing or null meta and list are empty.
        let page: ServicePage =
            serde_json::from_str(r#"{"meta":{"next_page_url":" "},"services":null}"#).unwrap();
        assert_eq!(page, ServicePage::default());
        for body in ["{}", r#"{"meta":null}"#] {
            assert_eq!(
                serde_json::from_str::<ServicePage>(body).unwrap(),
                ServicePage::default()
            );
        }
        // A meta that is there but unreadable is an error, not a last page.
        for body in [
            r#"{"meta":"x"}"#,
            r#"{"meta":{"next_page_url":{}}}"#,
            r#"{"services":{}}"#,
        ] {
            assert!(serde_json::from_str::<ServicePage>(body).is_err(), "{body}");
        }
    }

    #[test]
    fn statuses_parse_leniently() {
        for (wire, status) in [
            ("pending", VerificationStatus::Pending),
            ("APPROVED", VerificationStatus::Approved),
            ("canceled", VerificationStatus::Canceled),
            (
                "max_attempts_reached",
                VerificationStatus::MaxAttemptsReached,
            ),
            ("expired", VerificationStatus::Expired),
            ("failed", VerificationStatus::Failed),
            ("deleted", VerificationStatus::Deleted),
            ("new_one", VerificationStatus::Other("new_one".into())),
        ] {
            assert_eq!(VerificationStatus::parse(wire), status);
        }
    }

    #[test]
    fn verification_decodes_documented_and_odd_shapes() {
        let v: Verification = serde_json::from_str(
            r#"{"sid":"VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","to":"+15017122661","channel":"sms",
                "status":"pending","valid":false,"date_created":"2015-07-30T20:00:00Z",
                "date_updated":"not a date","send_code_attempts":null,"lookup":{},"extra":1}"#,
        )
        .unwrap();
        assert_eq!(v.status, Some(VerificationStatus::Pending));
        assert!(!v.valid);
        assert_eq!(v.date_created.unwrap().unix_timestamp(), 1_438_286_400);
        assert_eq!(v.date_updated, None);
        assert!(v.send_code_attempts.is_empty());

        let check: VerificationCheck =
            serde_json::from_str(r#"{"status":"approved","valid":"true"}"#).unwrap();
        assert_eq!(check.valid, Some(true));
        let check: VerificationCheck =
            serde_json::from_str(r#"{"status":"approved","valid":null}"#).unwrap();
        assert_eq!(check.valid, None);
        assert!(serde_json::from_str::<Verification>(r#"{"sid":"","status":"pending"}"#).is_err());
        assert!(serde_json::from_str::<VerificationCheck>(r#"{"status":[]}"#).is_err());
        // Nullable, as Twilio's OpenAPI says of every field: absent, `null` or blank is `None`.
        for body in [
            r#"{"valid":true}"#,
            r#"{"status":null,"valid":true}"#,
            r#"{"status":" ","valid":true}"#,
        ] {
            let check: VerificationCheck = serde_json::from_str(body).unwrap();
            assert_eq!((check.status, check.valid), (None, Some(true)), "{body}");
        }
        let started: Verification =
            serde_json::from_str(r#"{"sid":"VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","status":null}"#)
                .unwrap();
        assert_eq!(started.status, None);

        let body: ErrorBody = serde_json::from_str(
            r#"{"code":60200,"message":"Invalid parameter","more_info":"https://www.twilio.com/docs/errors/60200","status":400}"#,
        )
        .unwrap();
        assert_eq!(body.code.as_deref(), Some("60200"));
        assert_eq!(body.status, Some(400));
    }

    #[test]
    fn debug_never_shows_the_recipient() {
        let v: Verification = serde_json::from_str(
            r#"{"sid":"VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","to":"+15017122661","status":"pending"}"#,
        )
        .unwrap();
        let shown = format!("{v:?}");
        assert!(!shown.contains("5017122661"), "{shown}");
        assert!(
            shown.contains("VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            "{shown}"
        );
        let check: VerificationCheck =
            serde_json::from_str(r#"{"to":"ana@acme.test","status":"approved","valid":true}"#)
                .unwrap();
        let shown = format!("{check:?}");
        assert!(!shown.contains("ana@acme.test"), "{shown}");
        assert!(shown.contains("Approved"), "{shown}");

        let mut create = CreateVerification::new("+15017122661", TwilioChannel::Whatsapp);
        create.custom_code = Some("424242".into());
        let shown = format!("{create:?}");
        assert!(
            !shown.contains("5017122661") && !shown.contains("424242"),
            "{shown}"
        );
        assert!(shown.starts_with("CreateVerification {"), "{shown}");
        assert!(
            shown.contains("Whatsapp") && shown.contains("<redacted>"),
            "{shown}"
        );
        let to = CheckTarget::To("+15017122661".into());
        assert_eq!(format!("{to:?}"), "To(<redacted>)");
        let sid = CheckTarget::VerificationSid("VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into());
        assert_eq!(
            format!("{sid:?}"),
            r#"VerificationSid("VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")"#
        );
    }

    #[test]
    fn channels_display_as_twilio_names_them() {
        for (channel, name) in [
            (TwilioChannel::Sms, "sms"),
            (TwilioChannel::Whatsapp, "whatsapp"),
            (TwilioChannel::Call, "call"),
            (TwilioChannel::Email, "email"),
        ] {
            assert_eq!(channel.to_string(), name);
            assert_eq!(channel.as_str(), name);
        }
    }
}
