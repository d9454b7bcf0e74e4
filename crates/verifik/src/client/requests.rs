//! The typed requests of [`VerifikClient`](crate::VerifikClient): a phone as Verifik takes it
//! ([`VerifikPhone`]) and one builder per endpoint that sends a body or a query. Each request
//! checks itself and makes its wire body ([`crate::wire`]) before anything is sent.

use std::fmt;
use std::net::IpAddr;

use phone_verify_core::kit::mask_phone_field;
use phone_verify_core::{Code, Language, Result};
use time::OffsetDateTime;

use super::phone::VerifikPhone;
use crate::config::{invalid, require_id, require_title, require_url};
use crate::wire::{
    self, AppRegistrationBody, DigitsField, ManualValidationBody, PhoneGateway, Populate,
    ProjectValidationBody, ValidateBody, ValidationMethod, ValidationStatus, ValidationType,
    WhatsAppTemplate,
};

/// Setters of a request's optional fields: `name(value)` sets the field `name` to
/// `Some(value)` (`Some(value.into())` for text).
macro_rules! optional_setters {
    () => {};
    ($(#[$doc:meta])* $name:ident: impl Into<String>; $($rest:tt)*) => {
        $(#[$doc])*
        pub fn $name(mut self, value: impl Into<String>) -> Self {
            self.$name = Some(value.into());
            self
        }
        optional_setters!($($rest)*);
    };
    ($(#[$doc:meta])* $name:ident: $ty:ty; $($rest:tt)*) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value);
            self
        }
        optional_setters!($($rest)*);
    };
}

/// The largest page size of `GET /v2/phone-validations`.
pub const MAX_PAGE_SIZE: u32 = 100;

/// `POST /v2/phone-validations` (a project flow) or `/v2/phone-validations/app-registration`.
///
/// ```
/// use phone_verify_verifik::{CreateProjectValidation, ValidationType, VerifikPhone};
///
/// let request = CreateProjectValidation::new(
///     "507f1f77bcf86cd799439011",
///     VerifikPhone::new("+507", "62647737")?,
///     ValidationType::Login,
/// )
/// .webhook_url("https://acme.test/verifik")
/// .requires_2fa(false);
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct CreateProjectValidation {
    project: String,
    phone: VerifikPhone,
    validation_method: ValidationMethod,
    kind: ValidationType,
    expires_at: Option<OffsetDateTime>,
    redirect_url: Option<String>,
    webhook_url: Option<String>,
    identity_url: Option<String>,
    requires_2fa: Option<bool>,
    ip_address: Option<IpAddr>,
    project_flow: Option<String>,
    gateway: Option<PhoneGateway>,
    language: Option<String>,
}

impl CreateProjectValidation {
    /// A validation of `phone` in `project`, of type `kind`, by verification code.
    pub fn new(project: &str, phone: VerifikPhone, kind: ValidationType) -> Self {
        Self {
            project: project.trim().to_owned(),
            phone,
            validation_method: ValidationMethod::VerificationCode,
            kind,
            expires_at: None,
            redirect_url: None,
            webhook_url: None,
            identity_url: None,
            requires_2fa: None,
            ip_address: None,
            project_flow: None,
            gateway: None,
            language: None,
        }
    }

    /// `validationMethod` (default `verificationCode`; `manual` sends nothing).
    pub fn validation_method(mut self, method: ValidationMethod) -> Self {
        self.validation_method = method;
        self
    }

    optional_setters! {
        /// `projectFlow`: the project flow the validation belongs to (Verifik picks the project's
        /// flow otherwise). 1 to 64 letters, digits, `-` or `_`.
        project_flow: impl Into<String>;
        /// `phoneGateway`: how the code travels, [`PhoneGateway::Sms`] or
        /// [`PhoneGateway::WhatsApp`] (Verifik's default is WhatsApp).
        gateway: PhoneGateway;
        /// `language`: the message language, a language tag such as `en` or `es` (its primary
        /// subtag is sent).
        language: impl Into<String>;
        /// `expiresAt`.
        expires_at: OffsetDateTime;
        /// `redirectUrl`.
        redirect_url: impl Into<String>;
        /// `webhookUrl`.
        webhook_url: impl Into<String>;
        /// `identityUrl`.
        identity_url: impl Into<String>;
        /// `requires2FA`.
        requires_2fa: bool;
        /// `ipAddress`: the end user's IP address.
        ip_address: IpAddr;
    }

    /// The phone.
    pub fn phone(&self) -> &VerifikPhone {
        &self.phone
    }

    /// The checked body of `POST /v2/phone-validations`.
    pub(crate) fn body(&self) -> Result<ProjectValidationBody<'_>> {
        require_id("project id", &self.project)?;
        if let ValidationMethod::Other(other) = &self.validation_method {
            return Err(invalid(format!(
                "unknown validation method {other:?}: use verificationCode or manual"
            )));
        }
        if let ValidationType::Other(other) = &self.kind {
            return Err(invalid(format!(
                "unknown validation type {other:?}: use validation, login, onboarding or oneTimeLink"
            )));
        }
        let urls = [
            ("redirect URL", &self.redirect_url),
            ("webhook URL", &self.webhook_url),
            ("identity URL", &self.identity_url),
        ];
        for (what, url) in urls {
            if let Some(url) = url {
                require_url(what, url)?;
            }
        }
        if let Some(flow) = &self.project_flow {
            require_id("project flow id", flow.trim())?;
        }
        if let Some(gateway) = &self.gateway
            && !matches!(gateway, PhoneGateway::Sms | PhoneGateway::WhatsApp)
        {
            return Err(invalid(format!(
                "a validation is sent by sms or whatsapp, not {gateway}"
            )));
        }
        let expires_at = self
            .expires_at
            .map(|at| {
                wire::format_date(at).ok_or_else(|| {
                    invalid(
                        "the expiry is past the last date Verifik can be sent (year 9999 in UTC)",
                    )
                })
            })
            .transpose()?;
        Ok(ProjectValidationBody {
            project: &self.project,
            validation_method: self.validation_method.as_str(),
            phone: &self.phone.phone,
            country_code: &self.phone.country_code,
            kind: self.kind.as_str(),
            expires_at,
            redirect_url: self.redirect_url.as_deref().map(str::trim),
            webhook_url: self.webhook_url.as_deref().map(str::trim),
            identity_url: self.identity_url.as_deref().map(str::trim),
            requires_2fa: self.requires_2fa,
            ip_address: self.ip_address.map(|ip| ip.to_string()),
            project_flow: self.project_flow.as_deref().map(str::trim),
            phone_gateway: self.gateway.as_ref().map(PhoneGateway::as_str),
            language: primary_language(self.language.as_deref())?,
        })
    }

    /// The checked body of `POST /v2/phone-validations/app-registration`, whose method must be
    /// `verificationCode`.
    pub(crate) fn app_registration_body(&self) -> Result<ProjectValidationBody<'_>> {
        if self.validation_method != ValidationMethod::VerificationCode {
            return Err(invalid(
                "app-registration validations use the verificationCode method",
            ));
        }
        self.body()
    }
}

/// `POST /v2/phone-validations/manual`: a standalone code by SMS or WhatsApp.
///
/// ```
/// use phone_verify_verifik::{CreateManualValidation, PhoneGateway, VerifikPhone};
///
/// let request = CreateManualValidation::new(VerifikPhone::new("+57", "3001234567")?, PhoneGateway::Sms)
///     .title("Acme")
///     .language("es");
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct CreateManualValidation {
    phone: VerifikPhone,
    gateway: PhoneGateway,
    title: Option<String>,
    language: Option<String>,
    whatsapp_template: Option<WhatsAppTemplate>,
    force: bool,
    ip_address: Option<IpAddr>,
}

impl CreateManualValidation {
    /// A code to `phone` through `gateway` (SMS or WhatsApp).
    pub fn new(phone: VerifikPhone, gateway: PhoneGateway) -> Self {
        Self {
            phone,
            gateway,
            title: None,
            language: None,
            whatsapp_template: None,
            force: false,
            ip_address: None,
        }
    }

    /// `force`: skip the resend cooldown (about 2 minutes per phone and gateway).
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    optional_setters! {
        /// `title`: the brand in the message, 1 to 15 characters.
        title: impl Into<String>;
        /// `language`: a language code such as `en` or `es`.
        language: impl Into<String>;
        /// `whatsappTemplate` (ignored for SMS).
        whatsapp_template: WhatsAppTemplate;
        /// `ipAddress`: the end user's IP address.
        ip_address: IpAddr;
    }

    /// The phone.
    pub fn phone(&self) -> &VerifikPhone {
        &self.phone
    }

    /// The checked body of `POST /v2/phone-validations/manual`.
    pub(crate) fn body(&self) -> Result<ManualValidationBody<'_>> {
        if !matches!(self.gateway, PhoneGateway::Sms | PhoneGateway::WhatsApp) {
            return Err(invalid(format!(
                "a manual validation is sent by sms or whatsapp, not {}",
                self.gateway
            )));
        }
        if let Some(WhatsAppTemplate::Other(other)) = &self.whatsapp_template {
            return Err(invalid(format!(
                "unknown WhatsApp template {other:?}: use authentication or flow2"
            )));
        }
        Ok(ManualValidationBody {
            phone: &self.phone.phone,
            country_code: &self.phone.country_code,
            phone_gateway: self.gateway.as_str(),
            title: self.title.as_deref().map(require_title).transpose()?,
            language: primary_language(self.language.as_deref())?,
            whatsapp_template: self
                .whatsapp_template
                .as_ref()
                .map(WhatsAppTemplate::as_str),
            force: self.force.then_some(true),
            ip_address: self.ip_address.map(|ip| ip.to_string()),
        })
    }
}

/// `PUT /v2/phone-validations` (or `POST /v2/phone-validations/validate`): checks the code of
/// the most recent validation sent to a phone.
#[derive(Clone, Debug)]
#[must_use]
pub struct ValidatePhone {
    phone: VerifikPhone,
    code: Code,
    project: Option<String>,
    project_flow: Option<String>,
    gateway: Option<PhoneGateway>,
}

impl ValidatePhone {
    /// The code the user typed for `phone`.
    pub fn new(phone: VerifikPhone, code: Code) -> Self {
        Self {
            phone,
            code,
            project: None,
            project_flow: None,
            gateway: None,
        }
    }

    optional_setters! {
        /// `project`: only validations of this project.
        project: impl Into<String>;
        /// `projectFlow`: only validations of this project flow.
        project_flow: impl Into<String>;
        /// `phoneGateway`: only validations sent through this gateway (`none` for those that
        /// sent nothing).
        gateway: PhoneGateway;
    }

    /// The phone.
    pub fn phone(&self) -> &VerifikPhone {
        &self.phone
    }

    /// The checked body of `PUT /v2/phone-validations`.
    pub(crate) fn body(&self) -> Result<ValidateBody<'_>> {
        self.parts().body()
    }

    /// The request as borrowed parts.
    pub(crate) fn parts(&self) -> ValidateParts<'_> {
        ValidateParts {
            country_code: &self.phone.country_code,
            phone: &self.phone.phone,
            code: &self.code,
            project: self.project.as_deref(),
            project_flow: self.project_flow.as_deref(),
            gateway: self.gateway.as_ref(),
        }
    }
}

/// A [`ValidatePhone`] borrowed from where its parts are (the verifier's handle and code):
/// the phone checked as [`VerifikPhone::new`] checks it, the rest by [`body`](Self::body).
#[derive(Clone, Copy)]
pub(crate) struct ValidateParts<'a> {
    pub(crate) country_code: &'a str,
    pub(crate) phone: &'a str,
    pub(crate) code: &'a Code,
    pub(crate) project: Option<&'a str>,
    pub(crate) project_flow: Option<&'a str>,
    pub(crate) gateway: Option<&'a PhoneGateway>,
}

impl<'a> ValidateParts<'a> {
    /// The checked body of `PUT /v2/phone-validations`.
    pub(crate) fn body(&self) -> Result<ValidateBody<'a>> {
        let otp = require_digits(self.code)?;
        for (what, id) in [
            ("project id", self.project),
            ("project flow id", self.project_flow),
        ] {
            if let Some(id) = id {
                require_id(what, id)?;
            }
        }
        if let Some(PhoneGateway::Other(other)) = self.gateway {
            return Err(invalid(format!(
                "unknown phone gateway {other:?}: use sms, whatsapp or none"
            )));
        }
        Ok(ValidateBody {
            phone: self.phone,
            country_code: self.country_code,
            otp: DigitsField::new(otp),
            project: self.project,
            project_flow: self.project_flow,
            phone_gateway: self.gateway.map(PhoneGateway::as_str),
        })
    }

    /// The phone, for the request's span.
    pub(crate) fn phone_number(&self) -> Option<phone_verify_core::PhoneNumber> {
        phone_verify_core::PhoneNumber::from_parts(self.country_code, self.phone).ok()
    }
}

/// `POST /v2/app-registrations`: registers an end user of a project flow, by e-mail address
/// and/or phone, and returns the JWT that the registration's phone validations need.
///
/// ```
/// use phone_verify_verifik::{CreateAppRegistration, VerifikPhone};
///
/// let request = CreateAppRegistration::new(
///     "507f1f77bcf86cd799439011",
///     "507f1f77bcf86cd799439015",
///     "Ana Pérez",
/// )
/// .phone(VerifikPhone::new("+57", "3001234567")?)
/// .email("ana@acme.test")
/// .language("es");
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct CreateAppRegistration {
    project: String,
    project_flow: String,
    full_name: String,
    email: Option<String>,
    phone: Option<VerifikPhone>,
    language: Option<String>,
}

impl CreateAppRegistration {
    /// A registration of `full_name` in `project`'s `project_flow`; give an e-mail address, a
    /// phone, or both.
    pub fn new(project: &str, project_flow: &str, full_name: &str) -> Self {
        Self {
            project: project.trim().to_owned(),
            project_flow: project_flow.trim().to_owned(),
            full_name: full_name.trim().to_owned(),
            email: None,
            phone: None,
            language: None,
        }
    }

    optional_setters! {
        /// `email`.
        email: impl Into<String>;
        /// `phone` and `countryCode`.
        phone: VerifikPhone;
        /// `language`: a language tag such as `en` or `es` (its primary subtag is sent).
        language: impl Into<String>;
    }

    /// The phone registered, if any.
    pub(crate) fn registered_phone(&self) -> Option<&VerifikPhone> {
        self.phone.as_ref()
    }

    /// The checked body of `POST /v2/app-registrations`.
    pub(crate) fn body(&self) -> Result<AppRegistrationBody<'_>> {
        require_id("project id", &self.project)?;
        require_id("project flow id", &self.project_flow)?;
        let name_chars = self.full_name.chars().count();
        if name_chars == 0 || name_chars > 200 || self.full_name.chars().any(char::is_control) {
            return Err(invalid("the full name must have 1 to 200 characters"));
        }
        if self.email.is_none() && self.phone.is_none() {
            return Err(invalid(
                "an app registration needs an e-mail address or a phone",
            ));
        }
        Ok(AppRegistrationBody {
            project: &self.project,
            project_flow: &self.project_flow,
            full_name: &self.full_name,
            email: self.email.as_deref().map(require_email).transpose()?,
            phone: self.phone.as_ref().map(|p| p.phone.as_str()),
            country_code: self.phone.as_ref().map(|p| p.country_code.as_str()),
            language: primary_language(self.language.as_deref())?,
        })
    }
}

impl fmt::Debug for CreateAppRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateAppRegistration")
            .field("project", &self.project)
            .field("project_flow", &self.project_flow)
            .field("email", &self.email.as_ref().map(|_| "<redacted>"))
            .field("phone", &self.phone)
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

/// `GET /v2/phone-validations`: a page of validations, with filters (Verifik does not document
/// their order).
///
/// ```
/// use phone_verify_verifik::{ListValidations, Populate, ValidationStatus};
///
/// let query = ListValidations::new()
///     .page(2)
///     .limit(50)
///     .status(ValidationStatus::Validated)
///     .populate(Populate::Project);
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ListValidations {
    page: Option<u32>,
    limit: Option<u32>,
    project: Option<String>,
    status: Option<ValidationStatus>,
    kind: Option<ValidationType>,
    country_code: Option<String>,
    phone: Option<String>,
    populates: Vec<Populate>,
}

impl ListValidations {
    /// The first page with Verifik's default size (10).
    pub fn new() -> Self {
        Self::default()
    }

    optional_setters! {
        /// `page`, from 1.
        page: u32;
        /// `limit`: page size, 1 to [`MAX_PAGE_SIZE`].
        limit: u32;
        /// `project`.
        project: impl Into<String>;
        /// `status`.
        status: ValidationStatus;
        /// `countryCode` alone, e.g. `+507`.
        country_code: impl Into<String>;
    }

    /// `type`.
    pub fn validation_type(mut self, kind: ValidationType) -> Self {
        self.kind = Some(kind);
        self
    }

    /// `countryCode` and `phone`: validations of this number.
    pub fn phone(mut self, phone: &VerifikPhone) -> Self {
        self.country_code = Some(phone.country_code.clone());
        self.phone = Some(phone.phone.clone());
        self
    }

    /// `populates[]`: expand a reference into its object (the decoded validations keep its id).
    pub fn populate(mut self, populate: Populate) -> Self {
        if !self.populates.contains(&populate) {
            self.populates.push(populate);
        }
        self
    }

    /// The checked query of `GET /v2/phone-validations`, in the order it is sent.
    pub(crate) fn query(&self) -> Result<Vec<(&'static str, String)>> {
        if self.page == Some(0) {
            return Err(invalid("pages are numbered from 1"));
        }
        if self
            .limit
            .is_some_and(|l| !(1..=MAX_PAGE_SIZE).contains(&l))
        {
            return Err(invalid(format!(
                "the page size must be 1 to {MAX_PAGE_SIZE}"
            )));
        }
        if let Some(project) = &self.project {
            require_id("project id", project)?;
        }
        if let Some(code) = &self.country_code {
            VerifikPhone::new(code, "0")?;
        }
        let filters = [
            ("page", self.page.map(|p| p.to_string())),
            ("limit", self.limit.map(|l| l.to_string())),
            ("project", self.project.clone()),
            (
                "status",
                self.status.as_ref().map(|s| s.as_str().to_owned()),
            ),
            ("type", self.kind.as_ref().map(|k| k.as_str().to_owned())),
            (
                "countryCode",
                self.country_code.as_deref().map(|c| c.trim().to_owned()),
            ),
            ("phone", self.phone.clone()),
        ];
        let populates = self
            .populates
            .iter()
            .map(|p| ("populates[]", p.as_str().to_owned()));
        Ok(filters
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .chain(populates)
            .collect())
    }
}

impl fmt::Debug for ListValidations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListValidations")
            .field("page", &self.page)
            .field("limit", &self.limit)
            .field("project", &self.project)
            .field("status", &self.status)
            .field("kind", &self.kind)
            .field("country_code", &self.country_code)
            .field("phone", &self.phone.as_deref().map(mask_phone_field))
            .field("populates", &self.populates)
            .finish()
    }
}

/// The digits of a code for `PUT /v2/phone-validations`: Verifik's codes are digits only (a
/// [`Code`] is never empty).
pub(crate) fn require_digits(code: &Code) -> Result<&str> {
    if code.is_numeric() {
        Ok(code.expose())
    } else {
        Err(invalid("Verifik codes are digits only"))
    }
}

/// The primary subtag of a language tag (`es` of `es-CO`), checked.
pub(crate) fn primary_language(tag: Option<&str>) -> Result<Option<String>> {
    tag.map(|tag| Language::new(tag).map(|l| l.primary().to_owned()))
        .transpose()
}

/// An e-mail address, trimmed: one `@`, something on both sides, no spaces.
pub(crate) fn require_email(email: &str) -> Result<String> {
    let email = email.trim();
    let valid = email.len() <= 254
        && email.split('@').count() == 2
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email.to_owned())
    } else {
        Err(invalid("not an e-mail address"))
    }
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ErrorKind;

    use super::*;

    #[test]
    fn codes_languages_and_emails() {
        assert_eq!(
            require_digits(&Code::new("012345").unwrap()).unwrap(),
            "012345"
        );
        assert!(require_digits(&Code::new("12AB56").unwrap()).is_err());
        assert_eq!(
            primary_language(Some("es-CO")).unwrap().as_deref(),
            Some("es")
        );
        assert!(primary_language(Some("not a tag")).is_err());
        assert_eq!(primary_language(None).unwrap(), None);
        assert_eq!(require_email(" a@b.co ").unwrap(), "a@b.co");
        for bad in ["", "a", "a@b", "@b.co", "a@@b.co", "a b@c.co"] {
            assert!(require_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn app_registrations_are_checked_before_sending() {
        const PROJECT: &str = "507f1f77bcf86cd799439011";
        const FLOW: &str = "507f1f77bcf86cd799439015";
        let phone = VerifikPhone::new("+57", "3001234567").unwrap();
        let named =
            |name: &str| CreateAppRegistration::new(PROJECT, FLOW, name).phone(phone.clone());
        let longest = "á".repeat(200);
        let request = named(&longest);
        let body = request.body().unwrap();
        assert_eq!(body.full_name.chars().count(), 200);
        assert_eq!(
            (body.phone, body.country_code),
            (Some("3001234567"), Some("+57"))
        );
        for bad in ["", "   ", &"á".repeat(201), "Ana\nPérez"] {
            let err = named(bad).body().map(drop).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
        let by_email = CreateAppRegistration::new(PROJECT, FLOW, "Ana").email("ana@acme.test");
        assert_eq!(by_email.registered_phone(), None);
        assert_eq!(
            by_email.body().unwrap().email.as_deref(),
            Some("ana@acme.test")
        );
        let neither = CreateAppRegistration::new(PROJECT, FLOW, "Ana")
            .body()
            .map(drop);
        assert_eq!(neither.unwrap_err().kind(), ErrorKind::InvalidInput);

        let registration = named("Ana").email("ana@acme.test").language("es");
        assert_eq!(registration.registered_phone(), Some(&phone));
        let shown = format!("{registration:?}");
        for part in ["CreateAppRegistration {", PROJECT, FLOW, "<redacted>", "es"] {
            assert!(shown.contains(part), "{part:?} in {shown}");
        }
        assert!(
            !shown.contains("ana@") && !shown.contains("3001234567"),
            "{shown}"
        );
    }

    #[test]
    fn list_queries_are_checked_and_ordered() {
        let phone = VerifikPhone::new("+57", "3001234567").unwrap();
        let query = ListValidations::new()
            .populate(Populate::Project)
            .phone(&phone)
            .limit(50)
            .page(2)
            .status(ValidationStatus::Validated)
            .populate(Populate::Project)
            .query()
            .unwrap();
        let names: Vec<&str> = query.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "page",
                "limit",
                "status",
                "countryCode",
                "phone",
                "populates[]"
            ]
        );
        for bad in [
            ListValidations::new().page(0),
            ListValidations::new().limit(MAX_PAGE_SIZE + 1),
            ListValidations::new().project("../x"),
            ListValidations::new().country_code("57"),
        ] {
            let err = bad.query().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn list_debug_masks_the_phone() {
        let phone = VerifikPhone::new("+57", "3001234567").unwrap();
        let query = ListValidations::new().phone(&phone).page(2);
        let shown = format!("{query:?}");
        assert!(!shown.contains("3001234567"), "{shown}");
        assert!(
            shown.contains(r#"country_code: Some("+57")"#) && shown.contains("********67"),
            "{shown}"
        );
    }

    #[test]
    fn bodies_refuse_what_verifik_would_refuse() {
        let phone = VerifikPhone::new("+57", "3001234567").unwrap();
        let project = "507f1f77bcf86cd799439011";
        let manual_method =
            CreateProjectValidation::new(project, phone.clone(), ValidationType::Onboarding)
                .validation_method(ValidationMethod::Manual);
        assert!(manual_method.body().is_ok());
        assert!(manual_method.app_registration_body().is_err());
        let voice = CreateManualValidation::new(phone.clone(), PhoneGateway::None);
        assert!(voice.body().is_err());
        let long_title = CreateManualValidation::new(phone.clone(), PhoneGateway::Sms)
            .title("A title far too long");
        assert!(long_title.body().is_err());
        let letters = ValidatePhone::new(phone.clone(), Code::new("12AB56").unwrap());
        assert!(letters.body().is_err());
        let nobody = CreateAppRegistration::new(project, "flow-1", "Ana");
        assert!(nobody.body().is_err());
        let registration = CreateAppRegistration::new(project, "flow-1", "Ana")
            .email(" ana@acme.test ")
            .language("es-CO");
        let body = registration.body().unwrap();
        assert_eq!(body.email.as_deref(), Some("ana@acme.test"));
        assert_eq!(body.language.as_deref(), Some("es"));
    }

    #[test]
    fn an_expiry_is_sent_in_utc_or_refused_when_utc_cannot_hold_it() {
        use time::macros::datetime;
        let phone = VerifikPhone::new("+57", "3001234567").unwrap();
        let project = "507f1f77bcf86cd799439011";
        let create = |at| {
            CreateProjectValidation::new(project, phone.clone(), ValidationType::Validation)
                .expires_at(at)
        };
        let later = create(datetime!(2026-12-06 20:00 -05:00));
        assert_eq!(
            later.body().unwrap().expires_at.as_deref(),
            Some("2026-12-07T01:00:00.000Z")
        );
        let Err(err) = create(datetime!(9999-12-31 23:30 -01:00)).body() else {
            panic!("an expiry past year 9999 in UTC is refused");
        };
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
}
