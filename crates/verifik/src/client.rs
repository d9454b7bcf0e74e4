//! [`VerifikClient`]: a typed client of Verifik's token and phone-validation endpoints.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use phone_verify_core::kit::{BaseUrl, HttpClient, HttpRequest, Operation};
use phone_verify_core::{Code, Error, ErrorKind, Language, PhoneNumber, Result};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::config::{VerifikConfig, require_title, require_token, require_url};
use crate::verifier::PROVIDER;
use crate::wire::{
    self, AppRegistration, AppRegistrationBody, DigitsField, EmailLogin, EmailLoginConfirmBody,
    ManualValidationBody, PhoneGateway, PhoneLoginBody, PhoneLoginConfirmBody, PhoneValidation,
    Populate, ProjectValidationBody, Shape, TokenAnswer, ValidateBody, ValidatedPhone,
    ValidationMethod, ValidationPage, ValidationStatus, ValidationType, WhatsAppTemplate,
};

const PHONE_LOGIN: Operation = Operation::send("phone-login");
const PHONE_LOGIN_CONFIRM: Operation = Operation::read("phone-login-confirm");
const EMAIL_LOGIN: Operation = Operation::send("email-login");
const EMAIL_LOGIN_CONFIRM: Operation = Operation::read("email-login-confirm");
const RENEW_SESSION: Operation = Operation::read("renew-session");
const RENEW_AND_REVOKE: Operation = Operation::write("renew-and-revoke");
const CREATE_VALIDATION: Operation = Operation::send("create-phone-validation");
const CREATE_APP_REGISTRATION_VALIDATION: Operation =
    Operation::send("create-app-registration-phone-validation");
const CREATE_MANUAL_VALIDATION: Operation = Operation::send("create-manual-phone-validation");
const CREATE_APP_REGISTRATION: Operation = Operation::write("create-app-registration");
const VALIDATE: Operation = Operation::consume("validate-phone-validation");
const VALIDATE_POST: Operation = Operation::consume("validate-phone-validation-post");
const LIST_VALIDATIONS: Operation = Operation::read("list-phone-validations");
const GET_VALIDATION: Operation = Operation::read("get-phone-validation");

/// How long a token from a login or `renew-and-revoke` is valid: 30 days.
pub const TOKEN_VALIDITY: Duration = Duration::from_secs(30 * 86_400);
/// The largest page size of `GET /v2/phone-validations`.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The longest `expiresIn` of a session renewal, in months (100 years).
pub const MAX_RENEWAL_MONTHS: u32 = 1200;

/// A phone number as Verifik takes it: `countryCode` (`+` and 1 to 3 digits) and `phone` (the
/// national number, digits only, spaces removed), checked before any request. `Debug` masks
/// the number.
///
/// ```
/// use phone_verify_core::PhoneNumber;
/// use phone_verify_verifik::VerifikPhone;
///
/// let phone = VerifikPhone::new("+507", "6264 7737")?;
/// assert_eq!((phone.country_code(), phone.phone()), ("+507", "62647737"));
/// let parsed: PhoneNumber = "+507 6264 7737".parse()?;
/// assert_eq!(VerifikPhone::from(&parsed), phone);
/// assert!(VerifikPhone::new("507", "62647737").is_err());
/// assert!(VerifikPhone::new("+507", "6264-7737").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VerifikPhone {
    country_code: String,
    phone: String,
}

impl VerifikPhone {
    /// Checks a country code and a national number the way Verifik's documentation states.
    pub fn new(country_code: &str, phone: &str) -> Result<Self> {
        let country_code = country_code.trim();
        let valid_code = country_code.strip_prefix('+').is_some_and(|digits| {
            (1..=3).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        });
        if !valid_code {
            return Err(invalid(
                "the country code must be + followed by 1 to 3 digits, e.g. +507",
            ));
        }
        let phone: String = phone.chars().filter(|c| !c.is_whitespace()).collect();
        if phone.is_empty() || phone.len() > 15 || !phone.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "the phone must be the national number, 1 to 15 digits (spaces are removed)",
            ));
        }
        Ok(Self {
            country_code: country_code.to_owned(),
            phone,
        })
    }

    /// `countryCode`, e.g. `+507`.
    pub fn country_code(&self) -> &str {
        &self.country_code
    }

    /// `phone`, the national number, e.g. `62647737`.
    pub fn phone(&self) -> &str {
        &self.phone
    }

    /// The number as a validated [`PhoneNumber`], if it is one.
    pub fn to_phone_number(&self) -> Option<PhoneNumber> {
        PhoneNumber::from_parts(&self.country_code, &self.phone).ok()
    }
}

impl From<&PhoneNumber> for VerifikPhone {
    fn from(phone: &PhoneNumber) -> Self {
        Self {
            country_code: phone.calling_code().to_owned(),
            phone: phone.national_number().to_owned(),
        }
    }
}

impl fmt::Debug for VerifikPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifikPhone")
            .field("country_code", &self.country_code)
            .field("phone", &wire::mask(&self.phone))
            .finish()
    }
}

/// An access token with its expiry. `Debug` never shows the token.
///
/// Nothing is decoded from the token (a JWT): its expiry is when it was received plus the
/// validity Verifik documents (30 days for logins and renew-and-revoke, `expiresIn` months of
/// 30 days for a session renewal).
#[derive(Clone)]
pub struct AccessToken {
    token: SecretString,
    token_type: String,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl AccessToken {
    /// A token received at `issued_at`, valid for `validity`.
    pub fn new(token: SecretString, issued_at: OffsetDateTime, validity: Duration) -> Self {
        let validity = time::Duration::try_from(validity).unwrap_or(time::Duration::MAX);
        Self {
            token,
            token_type: "bearer".to_owned(),
            expires_at: issued_at.saturating_add(validity),
            issued_at,
        }
    }

    /// The token; read it with [`secrecy::ExposeSecret`].
    pub fn secret(&self) -> &SecretString {
        &self.token
    }

    /// `tokenType`, `bearer`.
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// When it was received.
    pub fn issued_at(&self) -> OffsetDateTime {
        self.issued_at
    }

    /// When it stops working: received plus the documented validity.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// Whether it has expired at `now`.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

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

    /// `projectFlow`: the project flow the validation belongs to (Verifik picks the project's
    /// flow otherwise). 1 to 64 letters, digits, `-` or `_`.
    pub fn project_flow(mut self, flow: impl Into<String>) -> Self {
        self.project_flow = Some(flow.into());
        self
    }

    /// `phoneGateway`: how the code travels, [`PhoneGateway::Sms`] or
    /// [`PhoneGateway::WhatsApp`] (Verifik's default is WhatsApp).
    pub fn gateway(mut self, gateway: PhoneGateway) -> Self {
        self.gateway = Some(gateway);
        self
    }

    /// `language`: the message language, a language tag such as `en` or `es` (its primary
    /// subtag is sent).
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// `validationMethod` (default `verificationCode`; `manual` sends nothing).
    pub fn validation_method(mut self, method: ValidationMethod) -> Self {
        self.validation_method = method;
        self
    }

    /// `expiresAt`.
    pub fn expires_at(mut self, at: OffsetDateTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// `redirectUrl`.
    pub fn redirect_url(mut self, url: impl Into<String>) -> Self {
        self.redirect_url = Some(url.into());
        self
    }

    /// `webhookUrl`.
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_url = Some(url.into());
        self
    }

    /// `identityUrl`.
    pub fn identity_url(mut self, url: impl Into<String>) -> Self {
        self.identity_url = Some(url.into());
        self
    }

    /// `requires2FA`.
    pub fn requires_2fa(mut self, yes: bool) -> Self {
        self.requires_2fa = Some(yes);
        self
    }

    /// `ipAddress`: the end user's IP address.
    pub fn ip_address(mut self, ip: IpAddr) -> Self {
        self.ip_address = Some(ip);
        self
    }

    /// The phone.
    pub fn phone(&self) -> &VerifikPhone {
        &self.phone
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

    /// `title`: the brand in the message, 1 to 15 characters.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// `language`: a language code such as `en` or `es`.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// `whatsappTemplate` (ignored for SMS).
    pub fn whatsapp_template(mut self, template: WhatsAppTemplate) -> Self {
        self.whatsapp_template = Some(template);
        self
    }

    /// `force`: skip the resend cooldown (about 2 minutes per phone and gateway).
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// `ipAddress`: the end user's IP address.
    pub fn ip_address(mut self, ip: IpAddr) -> Self {
        self.ip_address = Some(ip);
        self
    }

    /// The phone.
    pub fn phone(&self) -> &VerifikPhone {
        &self.phone
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

    /// `project`: only validations of this project.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// `projectFlow`: only validations of this project flow.
    pub fn project_flow(mut self, flow: impl Into<String>) -> Self {
        self.project_flow = Some(flow.into());
        self
    }

    /// `phoneGateway`: only validations sent through this gateway (`none` for those that
    /// sent nothing).
    pub fn gateway(mut self, gateway: PhoneGateway) -> Self {
        self.gateway = Some(gateway);
        self
    }

    /// The phone.
    pub fn phone(&self) -> &VerifikPhone {
        &self.phone
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

    /// `email`.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// `phone` and `countryCode`.
    pub fn phone(mut self, phone: VerifikPhone) -> Self {
        self.phone = Some(phone);
        self
    }

    /// `language`: a language tag such as `en` or `es` (its primary subtag is sent).
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
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

/// `GET /v2/phone-validations`: a page of validations, newest first, with filters.
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
#[derive(Clone, Debug, Default)]
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

    /// `page`, from 1.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// `limit`: page size, 1 to [`MAX_PAGE_SIZE`].
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// `project`.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// `status`.
    pub fn status(mut self, status: ValidationStatus) -> Self {
        self.status = Some(status);
        self
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

    /// `countryCode` alone, e.g. `+507`.
    pub fn country_code(mut self, country_code: impl Into<String>) -> Self {
        self.country_code = Some(country_code.into());
        self
    }

    /// `populates[]`: expand a reference into its object (the decoded validations keep its id).
    pub fn populate(mut self, populate: Populate) -> Self {
        if !self.populates.contains(&populate) {
            self.populates.push(populate);
        }
        self
    }
}

/// A typed client of Verifik's token and phone-validation endpoints. Cheap to clone: clones
/// share the connection pool and the access token.
///
/// Sends (`phone-login`, `email-login` and the three creates) are never retried; when their
/// outcome is unknown they fail with [`ErrorKind::MaybeSent`]. Code checks (validate) use the
/// code up: they are retried only when the request surely never reached Verifik, and a lost
/// answer is [`ErrorKind::OutcomeUnknown`]. Confirmations, list, get and session renewal are
/// retried on transient failures; renew-and-revoke and app registrations are not.
/// Verifik's errors keep their reason, message, HTTP status and request id (see
/// `src/errors.rs` and the crate documentation).
///
/// Every call that obtains a token (the two login confirmations and the two renewals)
/// installs it in the client, and its clones, for the calls that follow, and returns it.
#[derive(Clone)]
pub struct VerifikClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    base: BaseUrl,
    token: RwLock<Option<Installed>>,
}

#[derive(Clone)]
struct Installed {
    token: SecretString,
    expires_at: Option<OffsetDateTime>,
}

impl fmt::Debug for VerifikClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifikClient")
            .field("base_url", &self.inner.base)
            .field("has_token", &self.has_token())
            .field("http", &self.inner.http)
            .finish_non_exhaustive()
    }
}

impl VerifikClient {
    /// A client with its own connection pool.
    pub fn new(config: &VerifikConfig) -> Result<Self> {
        let http = HttpClient::new(PROVIDER, config.http.clone())?;
        Ok(Self::from_parts(config, http))
    }

    /// A client on a caller-supplied `reqwest::Client` (see [`HttpClient::with_reqwest`]).
    pub fn with_reqwest(config: &VerifikConfig, client: reqwest::Client) -> Self {
        let http = HttpClient::with_reqwest(PROVIDER, client, config.http.clone());
        Self::from_parts(config, http)
    }

    pub(crate) fn from_parts(config: &VerifikConfig, http: HttpClient) -> Self {
        let token = config.token.clone().map(|token| Installed {
            token,
            expires_at: None,
        });
        Self {
            inner: Arc::new(Inner {
                http,
                base: config.base_url.clone(),
                token: RwLock::new(token),
            }),
        }
    }

    /// The API base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.inner.base
    }

    /// Whether a token is installed.
    pub fn has_token(&self) -> bool {
        self.installed().is_some()
    }

    /// When the installed token expires, if it came from this client (a login or renewal).
    pub fn token_expires_at(&self) -> Option<OffsetDateTime> {
        self.installed().and_then(|i| i.expires_at)
    }

    /// Installs `token` for the calls that follow, in this client and its clones.
    pub fn set_token(&self, token: SecretString) -> Result<()> {
        require_token(&token)?;
        self.install(token, None);
        Ok(())
    }

    /// Installs an access token obtained elsewhere, with its expiry.
    pub fn set_access_token(&self, token: &AccessToken) -> Result<()> {
        require_token(token.secret())?;
        self.install(token.secret().clone(), Some(token.expires_at()));
        Ok(())
    }

    /// A client for the same API and connection pool with another token, e.g. the JWT of an
    /// app registration, leaving this client's token alone.
    pub fn with_token(&self, token: SecretString) -> Result<Self> {
        require_token(&token)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                base: self.inner.base.clone(),
                token: RwLock::new(Some(Installed {
                    token,
                    expires_at: None,
                })),
            }),
        })
    }

    // ---- token acquisition -------------------------------------------------------------

    /// `POST /v2/projects/phone-login`: sends a login code to the phone of a Verifik account
    /// (by WhatsApp). No token is needed. A send: never retried.
    pub async fn phone_login(&self, phone: &VerifikPhone) -> Result<PhoneValidation> {
        let body = PhoneLoginBody {
            country_code: &phone.country_code,
            phone: DigitsField::new(&phone.phone),
            kind: "login",
        };
        let request =
            HttpRequest::post(PHONE_LOGIN, self.url("projects/phone-login")).json(&body)?;
        let request = with_phone(request, phone);
        self.validation(request, Shape::Data).await
    }

    /// `POST /v2/projects/phone-login/confirm`: exchanges the login code for an access token
    /// valid 30 days, and installs it.
    pub async fn phone_login_confirm(
        &self,
        phone: &VerifikPhone,
        code: &Code,
    ) -> Result<AccessToken> {
        let body = PhoneLoginConfirmBody {
            country_code: &phone.country_code,
            phone: DigitsField::new(&phone.phone),
            otp: code.expose(),
        };
        let request = HttpRequest::post(
            PHONE_LOGIN_CONFIRM,
            self.url("projects/phone-login/confirm"),
        )
        .json(&body)?;
        let request = with_phone(request, phone);
        self.token_call(request, Shape::Data, TOKEN_VALIDITY).await
    }

    /// `POST /v2/projects/email-login?email=`: sends a login code to the e-mail address of a
    /// Verifik account. No token is needed. A send: never retried.
    pub async fn email_login(&self, email: &str) -> Result<EmailLogin> {
        let email = require_email(email)?;
        let request =
            HttpRequest::post(EMAIL_LOGIN, self.url("projects/email-login")).query("email", &email);
        let (mut login, envelope): (EmailLogin, _) = self.call(request, Shape::Data).await?;
        login.request_id = envelope.request_id;
        Ok(login)
    }

    /// `POST /v2/projects/email-login/confirm`: exchanges the e-mailed code for an access
    /// token valid 30 days, and installs it.
    pub async fn email_login_confirm(&self, email: &str, code: &Code) -> Result<AccessToken> {
        let email = require_email(email)?;
        let body = EmailLoginConfirmBody {
            email: &email,
            otp: code.expose(),
        };
        let request = HttpRequest::post(
            EMAIL_LOGIN_CONFIRM,
            self.url("projects/email-login/confirm"),
        )
        .json(&body)?;
        self.token_call(request, Shape::Data, TOKEN_VALIDITY).await
    }

    /// `GET /v2/auth/session?origin=refresh&expiresIn=N`: a new token valid `months` months
    /// (counted as 30 days each), installed in place of the current one, which stays valid.
    /// Sent with the bare `Authorization: <token>` header the documentation shows (Q8).
    pub async fn renew_session(&self, months: u32) -> Result<AccessToken> {
        if !(1..=MAX_RENEWAL_MONTHS).contains(&months) {
            return Err(invalid(format!(
                "a session renewal lasts 1 to {MAX_RENEWAL_MONTHS} months"
            )));
        }
        let token = self.token()?;
        let request = HttpRequest::get(RENEW_SESSION, self.url("auth/session"))
            .query("origin", "refresh")
            .query("expiresIn", &months.to_string())
            .secret_header("authorization", &token)?;
        let validity = TOKEN_VALIDITY.saturating_mul(months);
        self.token_call(request, Shape::DataOrRoot, validity).await
    }

    /// `POST /v2/auth/renew-and-revoke`: a new token valid 30 days; every older token stops
    /// working, so the new one is installed. Sent with the bare `Authorization: <token>`
    /// header (Q8). Not retried.
    pub async fn renew_and_revoke(&self) -> Result<AccessToken> {
        let token = self.token()?;
        let request = HttpRequest::post(RENEW_AND_REVOKE, self.url("auth/renew-and-revoke"))
            .secret_header("authorization", &token)?;
        self.token_call(request, Shape::DataOrRoot, TOKEN_VALIDITY)
            .await
    }

    // ---- phone validations -------------------------------------------------------------

    /// `POST /v2/phone-validations`: creates a validation in a project flow and (with
    /// `verificationCode`) sends its code. A send: never retried.
    pub async fn create_project_validation(
        &self,
        request: &CreateProjectValidation,
    ) -> Result<PhoneValidation> {
        let token = self.token()?;
        self.create_project(CREATE_VALIDATION, "phone-validations", &token, request)
            .await
    }

    /// `POST /v2/phone-validations/app-registration`: creates the onboarding validation of an
    /// app registration, authenticated with that registration's JWT (`registration_token`),
    /// not the client's token. The method must be `verificationCode`. A send: never retried.
    ///
    /// Validate it with the same token: `client.with_token(registration_token)?.validate(..)`.
    pub async fn create_app_registration_validation(
        &self,
        registration_token: &SecretString,
        request: &CreateProjectValidation,
    ) -> Result<PhoneValidation> {
        require_token(registration_token)?;
        if request.validation_method != ValidationMethod::VerificationCode {
            return Err(invalid(
                "app-registration validations use the verificationCode method",
            ));
        }
        self.create_project(
            CREATE_APP_REGISTRATION_VALIDATION,
            "phone-validations/app-registration",
            registration_token,
            request,
        )
        .await
    }

    async fn create_project(
        &self,
        operation: Operation,
        path: &str,
        token: &SecretString,
        request: &CreateProjectValidation,
    ) -> Result<PhoneValidation> {
        require_id("project id", &request.project)?;
        if let ValidationMethod::Other(other) = &request.validation_method {
            return Err(invalid(format!(
                "unknown validation method {other:?}: use verificationCode or manual"
            )));
        }
        if let ValidationType::Other(other) = &request.kind {
            return Err(invalid(format!(
                "unknown validation type {other:?}: use validation, login, onboarding or oneTimeLink"
            )));
        }
        let urls = [
            ("redirect URL", &request.redirect_url),
            ("webhook URL", &request.webhook_url),
            ("identity URL", &request.identity_url),
        ];
        for (what, url) in urls {
            if let Some(url) = url {
                require_url(what, url)?;
            }
        }
        if let Some(flow) = &request.project_flow {
            require_id("project flow id", flow.trim())?;
        }
        if let Some(gateway) = &request.gateway
            && !matches!(gateway, PhoneGateway::Sms | PhoneGateway::WhatsApp)
        {
            return Err(invalid(format!(
                "a validation is sent by sms or whatsapp, not {gateway}"
            )));
        }
        let language = primary_language(request.language.as_deref())?;
        let body = ProjectValidationBody {
            project: &request.project,
            validation_method: request.validation_method.as_str(),
            phone: &request.phone.phone,
            country_code: &request.phone.country_code,
            kind: request.kind.as_str(),
            expires_at: request.expires_at.map(wire::format_date),
            redirect_url: request.redirect_url.as_deref().map(str::trim),
            webhook_url: request.webhook_url.as_deref().map(str::trim),
            identity_url: request.identity_url.as_deref().map(str::trim),
            requires_2fa: request.requires_2fa,
            ip_address: request.ip_address.map(|ip| ip.to_string()),
            project_flow: request.project_flow.as_deref().map(str::trim),
            phone_gateway: request.gateway.as_ref().map(PhoneGateway::as_str),
            language: language.as_deref(),
        };
        let http = HttpRequest::post(operation, self.url(path))
            .bearer(token)?
            .json(&body)?;
        let http = with_phone(http, &request.phone);
        self.validation(http, Shape::Data).await
    }

    /// `POST /v2/phone-validations/manual`: sends a standalone code by SMS or WhatsApp,
    /// without a project. Success means Verifik says `sent: true`; `sent: false` is an
    /// [`ErrorKind::Provider`] error. A send: never retried.
    pub async fn create_manual_validation(
        &self,
        request: &CreateManualValidation,
    ) -> Result<PhoneValidation> {
        if !matches!(request.gateway, PhoneGateway::Sms | PhoneGateway::WhatsApp) {
            return Err(invalid(format!(
                "a manual validation is sent by sms or whatsapp, not {}",
                request.gateway
            )));
        }
        let title = request.title.as_deref().map(require_title).transpose()?;
        let language = primary_language(request.language.as_deref())?;
        if let Some(WhatsAppTemplate::Other(other)) = &request.whatsapp_template {
            return Err(invalid(format!(
                "unknown WhatsApp template {other:?}: use authentication or flow2"
            )));
        }
        let token = self.token()?;
        let body = ManualValidationBody {
            phone: &request.phone.phone,
            country_code: &request.phone.country_code,
            phone_gateway: request.gateway.as_str(),
            title: title.as_deref(),
            language: language.as_deref(),
            whatsapp_template: request
                .whatsapp_template
                .as_ref()
                .map(WhatsAppTemplate::as_str),
            force: request.force.then_some(true),
            ip_address: request.ip_address.map(|ip| ip.to_string()),
        };
        let http = HttpRequest::post(
            CREATE_MANUAL_VALIDATION,
            self.url("phone-validations/manual"),
        )
        .bearer(&token)?
        .json(&body)?;
        let http = with_phone(http, &request.phone);
        let validation = self.validation(http, Shape::Data).await?;
        if validation.sent == Some(false) {
            let mut error = Error::new(
                ErrorKind::Provider,
                format!(
                    "{}: Verifik created validation {} but did not send its code (sent: false)",
                    CREATE_MANUAL_VALIDATION.name, validation.id
                ),
            )
            .with_provider(PROVIDER)
            .with_http_status(200);
            if let Some(id) = &validation.request_id {
                error = error.with_request_id(id.clone());
            }
            return Err(error);
        }
        Ok(validation)
    }

    /// `PUT /v2/phone-validations`: checks a code. Verifik picks the most recent sent
    /// validation of the phone (narrowed by project, project flow and gateway when given).
    ///
    /// The code goes as a JSON number, as documented, when that is lossless, and as a string
    /// when it starts with `0` (a number would drop the zero); it must be digits.
    ///
    /// A check uses the code up, so it is retried only when the request surely never reached
    /// Verifik (no connection, 429, 503 with `Retry-After`); a lost answer (timeout, dropped
    /// connection, 500/502/504) is [`ErrorKind::OutcomeUnknown`]: read the validation back with
    /// [`get_validation`](Self::get_validation) ([`Verifik`](crate::Verifik)'s `check` does).
    ///
    /// A wrong or expired code is an error here (`otp_does_not_match`, `InvalidInput`;
    /// `phoneValidation_has_expired`, `Expired`); [`Verifik`](crate::Verifik)'s `check` turns
    /// them into outcomes.
    pub async fn validate(&self, request: &ValidatePhone) -> Result<ValidatedPhone> {
        self.validate_with(request, false).await
    }

    /// `POST /v2/phone-validations/validate`: the same check as [`validate`](Self::validate)
    /// through the endpoint one of Verifik's documentation pages gives, with the same body,
    /// answers and retry rules.
    pub async fn validate_by_post(&self, request: &ValidatePhone) -> Result<ValidatedPhone> {
        self.validate_with(request, true).await
    }

    async fn validate_with(&self, request: &ValidatePhone, post: bool) -> Result<ValidatedPhone> {
        let otp = require_digits(&request.code)?;
        for (what, id) in [
            ("project id", &request.project),
            ("project flow id", &request.project_flow),
        ] {
            if let Some(id) = id {
                require_id(what, id)?;
            }
        }
        if let Some(PhoneGateway::Other(other)) = &request.gateway {
            return Err(invalid(format!(
                "unknown phone gateway {other:?}: use sms, whatsapp or none"
            )));
        }
        let token = self.token()?;
        let body = ValidateBody {
            phone: &request.phone.phone,
            country_code: &request.phone.country_code,
            otp: DigitsField::new(otp),
            project: request.project.as_deref(),
            project_flow: request.project_flow.as_deref(),
            phone_gateway: request.gateway.as_ref().map(PhoneGateway::as_str),
        };
        let http = if post {
            HttpRequest::post(VALIDATE_POST, self.url("phone-validations/validate"))
        } else {
            HttpRequest::put(VALIDATE, self.url("phone-validations"))
        };
        let http = http.bearer(&token)?.json(&body)?;
        let http = with_phone(http, &request.phone);
        let (mut validated, envelope): (ValidatedPhone, _) = self.call(http, Shape::Data).await?;
        validated.request_id = envelope.request_id;
        Ok(validated)
    }

    // ---- app registrations -------------------------------------------------------------

    /// `POST /v2/app-registrations`: registers an end user of a project flow and returns the
    /// registration with its JWT (`token`), which the registration's phone validations need:
    /// `client.with_token(registration.token.clone())?` creates
    /// ([`create_app_registration_validation`](Self::create_app_registration_validation)) and
    /// validates them. Not retried (Verifik answers 409 to a second registration of the same
    /// phone or e-mail address).
    pub async fn create_app_registration(
        &self,
        request: &CreateAppRegistration,
    ) -> Result<AppRegistration> {
        require_id("project id", &request.project)?;
        require_id("project flow id", &request.project_flow)?;
        let name_chars = request.full_name.chars().count();
        if name_chars == 0 || name_chars > 200 || request.full_name.chars().any(char::is_control) {
            return Err(invalid("the full name must have 1 to 200 characters"));
        }
        if request.email.is_none() && request.phone.is_none() {
            return Err(invalid(
                "an app registration needs an e-mail address or a phone",
            ));
        }
        let email = request.email.as_deref().map(require_email).transpose()?;
        let language = primary_language(request.language.as_deref())?;
        let token = self.token()?;
        let body = AppRegistrationBody {
            project: &request.project,
            project_flow: &request.project_flow,
            full_name: &request.full_name,
            email: email.as_deref(),
            phone: request.phone.as_ref().map(|p| p.phone.as_str()),
            country_code: request.phone.as_ref().map(|p| p.country_code.as_str()),
            language: language.as_deref(),
        };
        let mut http = HttpRequest::post(CREATE_APP_REGISTRATION, self.url("app-registrations"))
            .bearer(&token)?
            .json(&body)?;
        if let Some(phone) = &request.phone {
            http = with_phone(http, phone);
        }
        let (mut registration, envelope): (AppRegistration, _) =
            self.call(http, Shape::Data).await?;
        require_token(&registration.token).map_err(|_| {
            Error::new(
                ErrorKind::Decode,
                "create-app-registration answered with a token that cannot be sent in a header",
            )
            .with_provider(PROVIDER)
        })?;
        registration.request_id = envelope.request_id;
        Ok(registration)
    }

    /// `GET /v2/phone-validations`: one page of validations, newest first.
    pub async fn list_validations(&self, query: &ListValidations) -> Result<ValidationPage> {
        if query.page == Some(0) {
            return Err(invalid("pages are numbered from 1"));
        }
        if query
            .limit
            .is_some_and(|l| !(1..=MAX_PAGE_SIZE).contains(&l))
        {
            return Err(invalid(format!(
                "the page size must be 1 to {MAX_PAGE_SIZE}"
            )));
        }
        if let Some(project) = &query.project {
            require_id("project id", project)?;
        }
        if let Some(code) = &query.country_code {
            VerifikPhone::new(code, "0")?;
        }
        let token = self.token()?;
        let mut http = HttpRequest::get(LIST_VALIDATIONS, self.url("phone-validations"));
        if let Some(page) = query.page {
            http = http.query("page", &page.to_string());
        }
        if let Some(limit) = query.limit {
            http = http.query("limit", &limit.to_string());
        }
        let filters = [
            ("project", query.project.as_deref()),
            (
                "status",
                query.status.as_ref().map(ValidationStatus::as_str),
            ),
            ("type", query.kind.as_ref().map(ValidationType::as_str)),
            ("countryCode", query.country_code.as_deref().map(str::trim)),
            ("phone", query.phone.as_deref()),
        ];
        for (name, value) in filters {
            if let Some(value) = value {
                http = http.query(name, value);
            }
        }
        for populate in &query.populates {
            http = http.query("populates[]", populate.as_str());
        }
        let http = http.bearer(&token)?;
        let (page, _): (ValidationPage, _) = self.call(http, Shape::Root).await?;
        Ok(page)
    }

    /// `GET /v2/phone-validations/{id}`: one validation. The id must be 1 to 64 letters,
    /// digits, `-` or `_` (Verifik's are 24 hexadecimal digits).
    pub async fn get_validation(&self, id: &str) -> Result<PhoneValidation> {
        let id = require_id("validation id", id.trim())?;
        let token = self.token()?;
        let http = HttpRequest::get(GET_VALIDATION, self.url(&format!("phone-validations/{id}")))
            .bearer(&token)?;
        self.validation(http, Shape::Data).await
    }

    // ---- plumbing ----------------------------------------------------------------------

    fn url(&self, path: &str) -> reqwest::Url {
        self.inner.base.join(path)
    }

    fn installed(&self) -> Option<Installed> {
        self.inner
            .token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn install(&self, token: SecretString, expires_at: Option<OffsetDateTime>) {
        *self
            .inner
            .token
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Installed { token, expires_at });
    }

    fn token(&self) -> Result<SecretString> {
        self.installed().map(|i| i.token).ok_or_else(|| {
            Error::new(
                ErrorKind::Unauthorized,
                "no Verifik access token: configure one (VERIFIK_TOKEN) or log in first",
            )
            .with_provider(PROVIDER)
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: HttpRequest,
        shape: Shape,
    ) -> Result<(T, wire::Envelope)> {
        let response = self.inner.http.execute(request).await?;
        wire::decode(&response, shape)
    }

    async fn validation(&self, request: HttpRequest, shape: Shape) -> Result<PhoneValidation> {
        let (mut validation, envelope): (PhoneValidation, _) = self.call(request, shape).await?;
        validation.request_id = envelope.request_id;
        validation.signed_at = envelope.signed_at;
        Ok(validation)
    }

    async fn token_call(
        &self,
        request: HttpRequest,
        shape: Shape,
        validity: Duration,
    ) -> Result<AccessToken> {
        let name = request.operation().name;
        let (answer, _): (TokenAnswer, _) = self.call(request, shape).await?;
        let Some(token) = answer.access_token else {
            return Err(Error::new(
                ErrorKind::Decode,
                format!("{name} answered without a token"),
            )
            .with_provider(PROVIDER));
        };
        require_token(&token).map_err(|_| {
            Error::new(
                ErrorKind::Decode,
                format!("{name} answered with a token that cannot be sent in a header"),
            )
            .with_provider(PROVIDER)
        })?;
        let mut access = AccessToken::new(token, OffsetDateTime::now_utc(), validity);
        if let Some(kind) = answer.token_type {
            access.token_type = kind;
        }
        self.install(access.token.clone(), Some(access.expires_at));
        Ok(access)
    }
}

fn with_phone(request: HttpRequest, phone: &VerifikPhone) -> HttpRequest {
    match phone.to_phone_number() {
        Some(number) => request.phone(&number),
        None => request,
    }
}

/// The digits of a code for `PUT /v2/phone-validations`: Verifik's codes are digits only.
pub(crate) fn require_digits(code: &Code) -> Result<&str> {
    let digits = code.expose();
    if code.is_numeric() && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(invalid("Verifik codes are digits only"))
    }
}

/// The primary subtag of a language tag (`es` of `es-CO`), checked.
fn primary_language(tag: Option<&str>) -> Result<Option<String>> {
    tag.map(|tag| Language::new(tag).map(|l| l.primary().to_owned()))
        .transpose()
}

/// An id that can go in a path or a field: 1 to 64 ASCII letters, digits, `-` or `_`.
pub(crate) fn require_id<'a>(what: &str, id: &'a str) -> Result<&'a str> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(id)
    } else {
        Err(invalid(format!(
            "a Verifik {what} has 1 to 64 letters, digits, '-' or '_'"
        )))
    }
}

/// An e-mail address, trimmed: one `@`, something on both sides, no spaces.
fn require_email(email: &str) -> Result<String> {
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

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_input(message).with_provider(PROVIDER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_follow_the_documented_format() {
        let phone = VerifikPhone::new(" +57 ", " 300 123 4567 ").unwrap();
        assert_eq!(phone.country_code(), "+57");
        assert_eq!(phone.phone(), "3001234567");
        assert!(!format!("{phone:?}").contains("3001234567"));
        for (code, number) in [
            ("57", "3001234567"),
            ("+", "3001234567"),
            ("+5777", "3001234567"),
            ("+5a", "3001234567"),
            ("+57", ""),
            ("+57", "300-123"),
            ("+57", "1234567890123456"),
            ("+57", "３００"),
        ] {
            let err = VerifikPhone::new(code, number).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{code} {number}");
        }
        let parsed = PhoneNumber::parse("+39 06 6982 1234").unwrap();
        assert_eq!(VerifikPhone::from(&parsed).phone(), "0669821234");
    }

    #[test]
    fn ids_codes_and_emails() {
        assert!(require_id("x", "674de8df21c72be3cc42b8a7").is_ok());
        for bad in ["", "../x", "a b", "a/b", "a?b", &"a".repeat(65)] {
            assert!(require_id("x", bad).is_err(), "{bad:?}");
        }
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
    fn tokens_expire_after_their_validity() {
        let issued = time::macros::datetime!(2026-01-01 00:00 UTC);
        let token = AccessToken::new(
            SecretString::from("canary-jwt".to_owned()),
            issued,
            TOKEN_VALIDITY,
        );
        assert_eq!(
            token.expires_at(),
            time::macros::datetime!(2026-01-31 00:00 UTC)
        );
        assert!(!token.is_expired_at(issued));
        assert!(token.is_expired_at(token.expires_at()));
        assert!(!format!("{token:?}").contains("canary"));
    }
}
