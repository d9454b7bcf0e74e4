//! The JSON bodies [`VerifikClient`](crate::VerifikClient) sends, one per endpoint.

use serde::Serialize;

/// A field of digits (a phone number, a code) that Verifik's documentation types as a number:
/// a JSON number when that is lossless, else a string. A leading zero is lost in a JSON number
/// (`012345` would arrive as `12345`), so digits starting with `0`, and digits too long for a
/// `u64`, go as a string, as Verifik's own web app sends them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub(crate) enum DigitsField<'a> {
    Number(u64),
    Text(&'a str),
}

impl<'a> DigitsField<'a> {
    pub(crate) fn new(digits: &'a str) -> Self {
        match digits.parse::<u64>() {
            Ok(n) if !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) => {
                Self::Number(n)
            }
            _ => Self::Text(digits),
        }
    }
}

/// `POST /v2/projects/phone-login`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhoneLoginBody<'a> {
    pub(crate) country_code: &'a str,
    pub(crate) phone: DigitsField<'a>,
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
}

/// `POST /v2/projects/phone-login/confirm`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhoneLoginConfirmBody<'a> {
    pub(crate) country_code: &'a str,
    pub(crate) phone: DigitsField<'a>,
    pub(crate) otp: &'a str,
}

/// `POST /v2/projects/email-login/confirm`.
#[derive(Serialize)]
pub(crate) struct EmailLoginConfirmBody<'a> {
    pub(crate) email: &'a str,
    pub(crate) otp: &'a str,
}

/// `POST /v2/phone-validations` and `/v2/phone-validations/app-registration`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProjectValidationBody<'a> {
    pub(crate) project: &'a str,
    pub(crate) validation_method: &'a str,
    pub(crate) phone: &'a str,
    pub(crate) country_code: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) redirect_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) webhook_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) identity_url: Option<&'a str>,
    #[serde(rename = "requires2FA", skip_serializing_if = "Option::is_none")]
    pub(crate) requires_2fa: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) project_flow: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) phone_gateway: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) language: Option<String>,
}

/// `POST /v2/app-registrations`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AppRegistrationBody<'a> {
    pub(crate) project: &'a str,
    pub(crate) project_flow: &'a str,
    pub(crate) full_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) country_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) language: Option<String>,
}

/// `POST /v2/phone-validations/manual`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ManualValidationBody<'a> {
    pub(crate) phone: &'a str,
    pub(crate) country_code: &'a str,
    pub(crate) phone_gateway: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) whatsapp_template: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) force: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ip_address: Option<String>,
}

/// `PUT /v2/phone-validations`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValidateBody<'a> {
    pub(crate) phone: &'a str,
    pub(crate) country_code: &'a str,
    /// A JSON number as the documentation types it, or a string when a number would lose a
    /// leading zero.
    pub(crate) otp: DigitsField<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) project: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) project_flow: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) phone_gateway: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_fields_keep_leading_zeros() {
        let json = |f: DigitsField<'_>| serde_json::to_string(&f).unwrap();
        assert_eq!(json(DigitsField::new("1234566663")), "1234566663");
        assert_eq!(json(DigitsField::new("0612345678")), "\"0612345678\"");
        assert_eq!(json(DigitsField::new("123456")), "123456");
        assert_eq!(json(DigitsField::new("012345")), "\"012345\"");
        assert_eq!(json(DigitsField::new("000000")), "\"000000\"");
        assert_eq!(json(DigitsField::new("0")), "\"0\"");
        assert_eq!(
            json(DigitsField::new("99999999999999999999")),
            "\"99999999999999999999\""
        );
        assert_eq!(json(DigitsField::new("+12")), "\"+12\"");
    }
}
