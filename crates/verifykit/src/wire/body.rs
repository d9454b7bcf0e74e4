//! The JSON bodies of VerifyKit's requests, one per request shape.

use serde::Serialize;

/// `POST /start`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartBody<'a> {
    pub(crate) app: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lang: Option<&'a str>,
    pub(crate) deeplink: bool,
    pub(crate) qr_code: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) phone_number: Option<&'a str>,
}

/// `POST /check`.
#[derive(Serialize)]
pub(crate) struct ReferenceBody<'a> {
    pub(crate) reference: &'a str,
}

/// `POST /check-whatsapp`.
#[derive(Serialize)]
pub(crate) struct ReferenceCodeBody<'a> {
    pub(crate) reference: &'a str,
    pub(crate) code: &'a str,
}

/// `POST /country`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CountryBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) country_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lang: Option<&'a str>,
}

/// `POST /send-otp`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SendOtpBody<'a> {
    pub(crate) phone_number: &'a str,
    pub(crate) country_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mcc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mnc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lang: Option<&'a str>,
}

/// `POST /check-otp`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckOtpBody<'a> {
    pub(crate) phone_number: &'a str,
    pub(crate) country_code: &'a str,
    pub(crate) reference: &'a str,
    pub(crate) code: &'a str,
}

/// `POST /start-email`.
#[derive(Serialize)]
pub(crate) struct StartEmailBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<&'a str>,
}

/// `POST /result`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionBody<'a> {
    pub(crate) session_id: &'a str,
}

/// `POST /blacklist/add` and `/blacklist/remove`.
#[derive(Serialize)]
pub(crate) struct BlacklistBody<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
    pub(crate) msisdn: Vec<&'a str>,
}

/// `POST /send-whatsapp-message`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WhatsAppMessageBody<'a> {
    pub(crate) phone_number: &'a str,
    pub(crate) message: &'a str,
}
