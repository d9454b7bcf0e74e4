//! [`VerifikClient`]: a typed client of Verifik's token and phone-validation endpoints, and
//! [`VerifikBuilder::build_client`]. The phone it takes is in `phone`, its requests in
//! `requests`, the tokens it answers in `token`.

mod phone;
mod requests;
mod token;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use phone_verify_core::kit::{
    self, BaseUrl, HttpClient, HttpRequest, HttpResponse, JoinedUrls, Operation,
    secret_header_value,
};
use phone_verify_core::{Code, Error, ErrorKind, Result};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::config::{PROVIDER, VerifikBuilder, VerifikConfig, invalid, require_id, require_token};
use crate::errors;
use crate::wire::{
    AppRegistration, DigitsField, EmailLogin, EmailLoginConfirmBody, Envelope, PhoneLoginBody,
    PhoneLoginConfirmBody, PhoneValidation, Shape, TokenAnswer, ValidatedPhone, ValidationPage,
};

pub use phone::VerifikPhone;
pub(crate) use phone::checked_parts;
pub use requests::{
    CreateAppRegistration, CreateManualValidation, CreateProjectValidation, ListValidations,
    MAX_PAGE_SIZE, ValidatePhone,
};
pub(crate) use requests::{ValidateParts, require_digits};
pub use token::{AccessToken, MAX_RENEWAL_MONTHS, TOKEN_VALIDITY};

pub(crate) const PHONE_LOGIN: Operation = Operation::send("phone-login");
pub(crate) const PHONE_LOGIN_CONFIRM: Operation = Operation::consume("phone-login-confirm");
pub(crate) const EMAIL_LOGIN: Operation = Operation::send("email-login");
pub(crate) const EMAIL_LOGIN_CONFIRM: Operation = Operation::consume("email-login-confirm");
pub(crate) const RENEW_SESSION: Operation = Operation::read("renew-session");
pub(crate) const RENEW_AND_REVOKE: Operation = Operation::write("renew-and-revoke");
pub(crate) const CREATE_VALIDATION: Operation = Operation::send("create-phone-validation");
pub(crate) const CREATE_APP_REGISTRATION_VALIDATION: Operation =
    Operation::send("create-app-registration-phone-validation");
pub(crate) const CREATE_MANUAL_VALIDATION: Operation =
    Operation::send("create-manual-phone-validation");
pub(crate) const CREATE_APP_REGISTRATION: Operation = Operation::write("create-app-registration");
pub(crate) const VALIDATE: Operation = Operation::consume("validate-phone-validation");
pub(crate) const VALIDATE_POST: Operation = Operation::consume("validate-phone-validation-post");
pub(crate) const LIST_VALIDATIONS: Operation = Operation::read("list-phone-validations");
pub(crate) const GET_VALIDATION: Operation = Operation::read("get-phone-validation");

impl VerifikBuilder {
    /// Builds the typed client of every endpoint (a token is optional: without one, only the
    /// logins work until one is installed).
    pub fn build_client(&self) -> Result<VerifikClient> {
        VerifikClient::new(self.config()?)
    }
}

/// A typed client of Verifik's token and phone-validation endpoints. Cheap to clone: clones
/// share the connection pool and the access token.
///
/// Sends (`phone-login`, `email-login` and the three creates) are never retried; when their
/// outcome is unknown they fail with [`ErrorKind::MaybeSent`]. Code checks (validate and the
/// two login confirmations) use the code up: they are retried only when the request surely
/// never reached Verifik, and a lost answer is [`ErrorKind::OutcomeUnknown`]. List, get and
/// session renewal are retried on transient failures; renew-and-revoke and app registrations
/// are not.
/// Verifik's errors keep their reason, message, HTTP status and request id (see
/// [`errors`](crate::errors) and the crate documentation).
///
/// Every call that obtains a token (the two login confirmations and the two renewals)
/// installs it in the client, and its clones, for the calls that follow, and returns it;
/// unless a token call that started after it, or [`set_token`](Self::set_token) or
/// [`set_access_token`](Self::set_access_token) called since it started, installed a token
/// first: the later token stays (a renewal answered after a renew-and-revoke that started
/// later never brings back a revoked token), and the call still returns its own.
/// Renew-and-revoke counts from its answer instead: every token minted or installed before
/// that, even by a call started after it, is revoked, so its token replaces them, and a token
/// answered before it never replaces its own.
#[derive(Clone)]
pub struct VerifikClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    base: BaseUrl,
    /// The URLs of the paths every check and resolve takes, joined once.
    urls: JoinedUrls,
    token: RwLock<Option<Installed>>,
    /// The last ticket given: a token call takes one when it starts, a token set by hand when
    /// it is installed. A later ticket's token is never replaced by an earlier one's.
    tickets: AtomicU64,
    /// The configuration's resolve max age, for [`Verifik::new`](crate::Verifik::new).
    resolve_max_age: Duration,
}

/// The paths joined once, when the client is built.
const VALIDATIONS: &str = "phone-validations";

#[derive(Clone)]
struct Installed {
    token: SecretString,
    expires_at: Option<OffsetDateTime>,
    /// `Bearer <token>` as a sensitive header value, built when the token is installed (so it
    /// follows every replacement); `None` if the token cannot be sent in a header.
    authorization: Option<HeaderValue>,
    /// The ticket of the call that minted it, or of its installation by hand (0: the
    /// configuration's).
    ticket: u64,
}

impl Installed {
    fn new(token: SecretString, expires_at: Option<OffsetDateTime>, ticket: u64) -> Self {
        // In a buffer of its exact length: it never grows (a growth would leave a copy of the
        // token behind), and becomes the secret without another copy.
        let mut bearer = String::with_capacity("Bearer ".len() + token.expose_secret().len());
        bearer.push_str("Bearer ");
        bearer.push_str(token.expose_secret());
        let bearer = SecretString::from(bearer);
        let authorization = secret_header_value("authorization", &bearer).ok();
        Self {
            token,
            expires_at,
            authorization,
            ticket,
        }
    }
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
    /// A client of `config`: on the application's `reqwest::Client` if its HTTP settings hold
    /// one, otherwise on a connection pool of its own. The configuration is checked as
    /// [`VerifikBuilder::config`] checks it (its fields are public, so they may have changed
    /// since): a bad token, mode or resolve max age fails with
    /// [`ErrorKind::InvalidInput`] before any request.
    pub fn new(config: VerifikConfig) -> Result<Self> {
        config.validate()?;
        let http = config.http.client(PROVIDER)?;
        Ok(Self::on(
            http,
            config.base_url,
            config.token,
            config.resolve_max_age,
        ))
    }

    fn on(
        http: HttpClient,
        base: BaseUrl,
        token: Option<SecretString>,
        resolve_max_age: Duration,
    ) -> Self {
        let token = token.map(|token| Installed::new(token, None, 0));
        Self {
            inner: Arc::new(Inner {
                http,
                urls: JoinedUrls::new(base.clone(), &[VALIDATIONS]),
                base,
                token: RwLock::new(token),
                tickets: AtomicU64::new(0),
                resolve_max_age,
            }),
        }
    }

    /// The resolve max age of the configuration this client was built from.
    pub(crate) fn resolve_max_age(&self) -> Duration {
        self.inner.resolve_max_age
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

    /// Installs `token` for the calls that follow, in this client and its clones (a token call
    /// in flight does not replace it when it ends).
    pub fn set_token(&self, token: SecretString) -> Result<()> {
        require_token(&token)?;
        self.install(token, None);
        Ok(())
    }

    /// Installs an access token obtained elsewhere, with its expiry (a token call in flight
    /// does not replace it when it ends).
    pub fn set_access_token(&self, token: &AccessToken) -> Result<()> {
        require_token(token.secret())?;
        self.install(token.secret().clone(), Some(token.expires_at()));
        Ok(())
    }

    /// A client for the same API and connection pool with another token, e.g. the JWT of an
    /// app registration, leaving this client's token alone.
    pub fn with_token(&self, token: SecretString) -> Result<Self> {
        require_token(&token)?;
        Ok(Self::on(
            self.inner.http.clone(),
            self.inner.base.clone(),
            Some(token),
            self.inner.resolve_max_age,
        ))
    }

    // ---- token acquisition -------------------------------------------------------------

    /// `POST /v2/projects/phone-login`: sends a login code to the phone of a Verifik account
    /// (by WhatsApp). No token is needed. A send: never retried.
    pub async fn phone_login(&self, phone: &VerifikPhone) -> Result<PhoneValidation> {
        let body = PhoneLoginBody {
            country_code: phone.country_code(),
            phone: DigitsField::new(phone.phone()),
            kind: "login",
        };
        let request = self.post(
            PHONE_LOGIN,
            "projects/phone-login",
            None,
            &body,
            Some(phone),
        )?;
        self.validation(request, Shape::Data).await
    }

    /// `POST /v2/projects/phone-login/confirm`: exchanges the login code for an access token
    /// valid 30 days, and installs it. It uses the code up: retried only when the request
    /// surely never reached Verifik; a lost answer, or one without a usable token, is
    /// [`ErrorKind::OutcomeUnknown`].
    pub async fn phone_login_confirm(
        &self,
        phone: &VerifikPhone,
        code: &Code,
    ) -> Result<AccessToken> {
        let body = PhoneLoginConfirmBody {
            country_code: phone.country_code(),
            phone: DigitsField::new(phone.phone()),
            otp: code.expose(),
        };
        let path = "projects/phone-login/confirm";
        let request = self.post(PHONE_LOGIN_CONFIRM, path, None, &body, Some(phone))?;
        self.token_call(request, None, Shape::Data, TOKEN_VALIDITY, Minted::Started)
            .await
    }

    /// `POST /v2/projects/email-login?email=`: sends a login code to the e-mail address of a
    /// Verifik account. No token is needed. A send: never retried.
    pub async fn email_login(&self, email: &str) -> Result<EmailLogin> {
        let email = requests::require_email(email)?;
        let request =
            HttpRequest::post(EMAIL_LOGIN, self.url("projects/email-login")).query("email", &email);
        let (mut login, envelope): (EmailLogin, _) = self.call(request, Shape::Data).await?;
        login.request_id = envelope.request_id;
        Ok(login)
    }

    /// `POST /v2/projects/email-login/confirm`: exchanges the e-mailed code for an access
    /// token valid 30 days, and installs it. It uses the code up: retried only when the
    /// request surely never reached Verifik; a lost answer, or one without a usable token, is
    /// [`ErrorKind::OutcomeUnknown`].
    pub async fn email_login_confirm(&self, email: &str, code: &Code) -> Result<AccessToken> {
        let email = requests::require_email(email)?;
        let body = EmailLoginConfirmBody {
            email: &email,
            otp: code.expose(),
        };
        let path = "projects/email-login/confirm";
        let request = self.post(EMAIL_LOGIN_CONFIRM, path, None, &body, None)?;
        self.token_call(request, None, Shape::Data, TOKEN_VALIDITY, Minted::Started)
            .await
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
        self.token_call(
            request,
            Some(token),
            Shape::DataOrRoot,
            validity,
            Minted::Started,
        )
        .await
    }

    /// `POST /v2/auth/renew-and-revoke`: a new token valid 30 days; every older token stops
    /// working, so the new one is installed. Sent with the bare `Authorization: <token>`
    /// header (Q8). Not retried. A 2xx answer without a usable token (not JSON, no token, a
    /// token that cannot be sent) is an [`ErrorKind::Decode`] error (a 2xx carrying an error
    /// envelope, the error it carries), and a lost answer (a timeout, a connection lost, a
    /// server error other than a 503 with `Retry-After`) an error of its own kind
    /// ([`ErrorKind::Timeout`], [`ErrorKind::Transport`], [`ErrorKind::ProviderUnavailable`]),
    /// that all say the installed token may be revoked: Verifik may have taken the call. A
    /// connection never made says nothing of the kind: the token is still valid.
    pub async fn renew_and_revoke(&self) -> Result<AccessToken> {
        let token = self.token()?;
        let request = HttpRequest::post(RENEW_AND_REVOKE, self.url("auth/renew-and-revoke"))
            .secret_header("authorization", &token)?;
        self.token_call(
            request,
            Some(token),
            Shape::DataOrRoot,
            TOKEN_VALIDITY,
            Minted::Answered,
        )
        .await
        .map_err(revocation_in_doubt)
    }

    // ---- phone validations -------------------------------------------------------------

    /// `POST /v2/phone-validations`: creates a validation in a project flow and (with
    /// `verificationCode`) sends its code. A send: never retried.
    pub async fn create_project_validation(
        &self,
        request: &CreateProjectValidation,
    ) -> Result<PhoneValidation> {
        let body = request.body()?;
        let token = self.token()?;
        let path = "phone-validations";
        let http = self.post(
            CREATE_VALIDATION,
            path,
            Some(&token),
            &body,
            Some(request.phone()),
        )?;
        self.validation(http, Shape::Data).await
    }

    /// `POST /v2/phone-validations/app-registration`: creates the onboarding validation of an
    /// app registration, authenticated with that registration's JWT (`registration_token`),
    /// not the client's token (errors never show it). The method must be `verificationCode`.
    /// A send: never retried.
    ///
    /// Validate it with the same token: `client.with_token(registration_token)?.validate(..)`.
    pub async fn create_app_registration_validation(
        &self,
        registration_token: &SecretString,
        request: &CreateProjectValidation,
    ) -> Result<PhoneValidation> {
        require_token(registration_token)?;
        let body = request.app_registration_body()?;
        let http = self.post(
            CREATE_APP_REGISTRATION_VALIDATION,
            "phone-validations/app-registration",
            Some(registration_token),
            &body,
            Some(request.phone()),
        )?;
        let response = self.inner.http.execute(http).await?;
        // The token sent is the registration's: that is what an echo would show.
        let (validation, envelope): (PhoneValidation, _) =
            errors::decode(&response, Shape::Data, &|| Some(registration_token.clone()))?;
        Ok(with_envelope(validation, envelope))
    }

    /// `POST /v2/phone-validations/manual`: sends a standalone code by SMS or WhatsApp,
    /// without a project. Success means Verifik says `sent: true`; `sent: false` is an
    /// [`ErrorKind::Provider`] error. A send: never retried.
    pub async fn create_manual_validation(
        &self,
        request: &CreateManualValidation,
    ) -> Result<PhoneValidation> {
        let body = request.body()?;
        let token = self.token()?;
        let http = self.post(
            CREATE_MANUAL_VALIDATION,
            "phone-validations/manual",
            Some(&token),
            &body,
            Some(request.phone()),
        )?;
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
        let (validated, envelope): (ValidatedPhone, _) = errors::decode(
            &self.validate_response(request.parts()).await?,
            Shape::Data,
            &|| self.current_token(),
        )?;
        Ok(ValidatedPhone {
            request_id: envelope.request_id,
            ..validated
        })
    }

    /// `POST /v2/phone-validations/validate`: the same check as [`validate`](Self::validate)
    /// through the endpoint one of Verifik's documentation pages gives, with the same body,
    /// answers and retry rules.
    pub async fn validate_by_post(&self, request: &ValidatePhone) -> Result<ValidatedPhone> {
        let http = HttpRequest::post(VALIDATE_POST, self.url("phone-validations/validate"));
        self.validate_with(http, request).await
    }

    async fn validate_with(
        &self,
        http: HttpRequest,
        request: &ValidatePhone,
    ) -> Result<ValidatedPhone> {
        let body = request.body()?;
        let http = with_json(self.authorized(http)?, None, &body, Some(request.phone()))?;
        let (mut validated, envelope): (ValidatedPhone, _) = self.call(http, Shape::Data).await?;
        validated.request_id = envelope.request_id;
        Ok(validated)
    }

    /// `PUT /v2/phone-validations` as [`validate`](Self::validate) sends it: the answer, not
    /// yet decoded (the verifier decodes the few fields it reads).
    pub(crate) async fn validate_response(
        &self,
        request: ValidateParts<'_>,
    ) -> Result<HttpResponse> {
        self.inner
            .http
            .execute(self.validate_request(request)?)
            .await
    }

    /// The request of [`validate_response`](Self::validate_response), to send with
    /// [`http`](Self::http).
    pub(crate) fn validate_request(&self, request: ValidateParts<'_>) -> Result<HttpRequest> {
        let body = request.body()?;
        let http = HttpRequest::put(VALIDATE, self.inner.urls.url(VALIDATIONS));
        // The number is rebuilt from Verifik's form only if a span records it.
        Ok(self
            .authorized(http)?
            .json(&body)?
            .phone_with(|| request.phone_number()))
    }

    /// The HTTP client the requests go through.
    pub(crate) fn http(&self) -> &HttpClient {
        &self.inner.http
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
        let body = request.body()?;
        let token = self.token()?;
        let http = self.post(
            CREATE_APP_REGISTRATION,
            "app-registrations",
            Some(&token),
            &body,
            request.registered_phone(),
        )?;
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

    /// `GET /v2/phone-validations`: one page of validations, in Verifik's order (undocumented).
    pub async fn list_validations(&self, query: &ListValidations) -> Result<ValidationPage> {
        let pairs = query.query()?;
        let token = self.token()?;
        let http = pairs.iter().fold(
            HttpRequest::get(LIST_VALIDATIONS, self.url("phone-validations")),
            |http, (name, value)| http.query(name, value),
        );
        let (page, _): (ValidationPage, _) = self.call(http.bearer(&token)?, Shape::Root).await?;
        Ok(page)
    }

    /// `GET /v2/phone-validations/{id}`: one validation. The id must be 1 to 64 letters,
    /// digits, `-` or `_` (Verifik's are 24 hexadecimal digits).
    pub async fn get_validation(&self, id: &str) -> Result<PhoneValidation> {
        let response = self.get_validation_response(id).await?;
        let (validation, envelope): (PhoneValidation, _) =
            errors::decode(&response, Shape::Data, &|| self.current_token())?;
        Ok(with_envelope(validation, envelope))
    }

    /// `GET /v2/phone-validations/{id}` as [`get_validation`](Self::get_validation) sends it:
    /// the answer, not yet decoded.
    pub(crate) async fn get_validation_response(&self, id: &str) -> Result<HttpResponse> {
        let request = self.get_validation_request(require_id("validation id", id.trim())?)?;
        self.inner.http.execute(request).await
    }

    /// The request of [`get_validation_response`](Self::get_validation_response) for an id
    /// already checked with `require_id`, to send with [`http`](Self::http).
    pub(crate) fn get_validation_request(&self, id: &str) -> Result<HttpRequest> {
        let mut url = self.inner.urls.url(VALIDATIONS);
        // `id` is letters, digits, `-` and `_`: a path segment as it is.
        url.path_segments_mut()
            .map_err(|()| invalid("the Verifik base URL cannot take a path"))?
            .push(id);
        self.authorized(HttpRequest::get(GET_VALIDATION, url))
    }

    // ---- plumbing ----------------------------------------------------------------------

    fn url(&self, path: &str) -> reqwest::Url {
        self.inner.base.join(path)
    }

    /// `POST {path}` with a JSON `body`, the `bearer` token if any, and `phone` for the logs.
    fn post(
        &self,
        operation: Operation,
        path: &str,
        bearer: Option<&SecretString>,
        body: &impl Serialize,
        phone: Option<&VerifikPhone>,
    ) -> Result<HttpRequest> {
        with_json(
            HttpRequest::post(operation, self.url(path)),
            bearer,
            body,
            phone,
        )
    }

    fn installed(&self) -> Option<Installed> {
        self.inner
            .token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A ticket later than every one given before.
    fn ticket(&self) -> u64 {
        self.inner.tickets.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Installs `token`, set by hand, with a ticket later than every call's in flight.
    fn install(&self, token: SecretString, expires_at: Option<OffsetDateTime>) {
        let mut installed = Installed::new(token, expires_at, 0);
        let mut slot = self
            .inner
            .token
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Taken under the lock: installations by hand keep the order of their tickets.
        installed.ticket = self.ticket();
        *slot = Some(installed);
    }

    /// Installs `token`, minted by a call that took `ticket` when it started, unless a token of
    /// a later ticket is installed already.
    fn install_minted(&self, token: SecretString, expires_at: Option<OffsetDateTime>, ticket: u64) {
        let minted = Installed::new(token, expires_at, ticket);
        let mut slot = self
            .inner
            .token
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if slot
            .as_ref()
            .is_none_or(|installed| installed.ticket < ticket)
        {
            *slot = Some(minted);
        }
    }

    /// `request` with `Authorization: Bearer <token>`: the header value prepared when the token
    /// was installed.
    fn authorized(&self, request: HttpRequest) -> Result<HttpRequest> {
        let authorization = self
            .inner
            .token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|installed| installed.authorization.clone());
        match authorization {
            Some(Some(value)) => Ok(request.prepared_header(AUTHORIZATION, value)),
            // A token that cannot be sent: the error `bearer` gives.
            Some(None) => request.bearer(&self.token()?),
            None => Err(no_token()),
        }
    }

    /// The token installed now, if any: what an error must not show.
    pub(crate) fn current_token(&self) -> Option<SecretString> {
        self.installed().map(|i| i.token)
    }

    fn token(&self) -> Result<SecretString> {
        self.installed().map(|i| i.token).ok_or_else(no_token)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: HttpRequest,
        shape: Shape,
    ) -> Result<(T, Envelope)> {
        let response = self.inner.http.execute(request).await?;
        errors::decode(&response, shape, &|| self.current_token())
    }

    async fn validation(&self, request: HttpRequest, shape: Shape) -> Result<PhoneValidation> {
        let (validation, envelope): (PhoneValidation, _) = self.call(request, shape).await?;
        Ok(with_envelope(validation, envelope))
    }

    /// Sends `request`, a token call carrying `sent_with` (the renewals: the token they
    /// renew; the logins: none), and installs the token it answers unless a token of a later
    /// ticket is installed first; its ticket is taken as `minted` says. Its errors are
    /// scrubbed of `sent_with` (the installed token, for a login): what Verifik could echo,
    /// whatever was installed meanwhile.
    async fn token_call(
        &self,
        request: HttpRequest,
        sent_with: Option<SecretString>,
        shape: Shape,
        validity: Duration,
        minted: Minted,
    ) -> Result<AccessToken> {
        let started = self.ticket();
        let response = self.inner.http.execute(request).await?;
        let ticket = match minted {
            Minted::Started => started,
            Minted::Answered => self.ticket(),
        };
        let secrets = || sent_with.clone().or_else(|| self.current_token());
        let (answer, envelope): (TokenAnswer, _) = errors::decode(&response, shape, &secrets)?;
        let access = token_of(&response, answer, &envelope, validity)?;
        self.install_minted(access.secret().clone(), Some(access.expires_at()), ticket);
        Ok(access)
    }
}

/// When a token call's ticket is taken: what its token is newer than.
#[derive(Clone, Copy)]
enum Minted {
    /// When the call starts: a token installed by a call or by hand since is newer.
    Started,
    /// When its answer arrives (renew-and-revoke): every token minted before Verifik processed
    /// it is revoked, whichever call started first (a renewal still in flight with the old
    /// token was processed before the revocation, or refused), and so is one installed by hand
    /// meanwhile; its own is the newest.
    Answered,
}

/// `validation` with the request id and signature date of its answer's `envelope`.
fn with_envelope(validation: PhoneValidation, envelope: Envelope) -> PhoneValidation {
    PhoneValidation {
        request_id: envelope.request_id,
        signed_at: envelope.signed_at,
        ..validation
    }
}

/// What an error of renew-and-revoke adds when Verifik may have taken the call.
const MAY_BE_REVOKED: &str =
    "; Verifik may have revoked every older token, this one included: log in again";

/// `error`, of renew-and-revoke, saying that the installed token may be revoked when the
/// answer was lost (a timeout, a connection lost, a server error other than a 503 with
/// `Retry-After`, which was refused before processing) or is a 2xx that cannot be used
/// (Verifik took the call); not when the request surely never reached Verifik (a connection
/// never made: [`kit::surely_unsent`]). Its kind and metadata are kept, and `error` is its
/// source.
fn revocation_in_doubt(error: Error) -> Error {
    let lost = match error.http_status() {
        Some(status) => {
            (200..300).contains(&status)
                || (status >= 500 && !(status == 503 && error.retry_after().is_some()))
        }
        None => {
            matches!(error.kind(), ErrorKind::Timeout | ErrorKind::Transport)
                && !kit::surely_unsent(&error)
        }
    };
    if !lost || error.message().ends_with(MAY_BE_REVOKED) {
        return error;
    }
    let mut doubted = Error::new(error.kind(), format!("{}{MAY_BE_REVOKED}", error.message()))
        .with_provider(PROVIDER);
    if let Some(code) = error.provider_code() {
        doubted = doubted.with_provider_code(code);
    }
    if let Some(message) = error.provider_message() {
        doubted = doubted.with_provider_message(message);
    }
    if let Some(status) = error.http_status() {
        doubted = doubted.with_http_status(status);
    }
    if let Some(id) = error.request_id() {
        doubted = doubted.with_request_id(id);
    }
    if let Some(delay) = error.retry_after() {
        doubted = doubted.with_retry_after(delay);
    }
    doubted.with_source(error)
}

/// The error of a call that needs a token when none is installed.
fn no_token() -> Error {
    Error::new(
        ErrorKind::Unauthorized,
        "no Verifik access token: configure one (VERIFIK_TOKEN) or log in first",
    )
    .with_provider(PROVIDER)
}

/// The access token a token endpoint answered (`answer`, in `response` with `envelope`),
/// valid `validity` from now: there, and sendable in a header, else the error of an unusable
/// answer to that endpoint (`response`'s own: [`ErrorKind::OutcomeUnknown`] for a login
/// confirmation, which used the code up, [`ErrorKind::Decode`] otherwise), with the HTTP status
/// and request id.
pub(crate) fn token_of(
    response: &HttpResponse,
    answer: TokenAnswer,
    envelope: &Envelope,
    validity: Duration,
) -> Result<AccessToken> {
    let unusable = |what: &str| {
        let operation = response.operation();
        // Verifik took the call: the tokens before it stop working.
        let revoked = if operation == RENEW_AND_REVOKE {
            MAY_BE_REVOKED
        } else {
            ""
        };
        let error = response.error(
            ErrorKind::Decode,
            format!("{} answered {what}{revoked}", operation.name),
        );
        match &envelope.request_id {
            Some(id) => error.with_request_id(id.clone()),
            None => error,
        }
    };
    let Some(token) = answer.access_token else {
        return Err(unusable("without a token"));
    };
    require_token(&token).map_err(|_| unusable("with a token that cannot be sent in a header"))?;
    let mut access = AccessToken::new(token, OffsetDateTime::now_utc(), validity);
    if let Some(kind) = answer.token_type {
        access = access.with_token_type(kind);
    }
    Ok(access)
}

/// `request` with a JSON `body`, the `bearer` token if any, and `phone` (masked) in its span.
fn with_json(
    request: HttpRequest,
    bearer: Option<&SecretString>,
    body: &impl Serialize,
    phone: Option<&VerifikPhone>,
) -> Result<HttpRequest> {
    let request = match bearer {
        Some(token) => request.bearer(token)?,
        None => request,
    };
    let request = request.json(body)?;
    // The number is rebuilt from Verifik's form only if a span records it.
    Ok(request.phone_with(|| phone.and_then(VerifikPhone::to_phone_number)))
}
