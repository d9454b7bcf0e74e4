//! [`VerifyKitClient`]: a typed client of every VerifyKit endpoint, on the core HTTP layer.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use phone_verify_core::kit::{BaseUrl, HttpClient, HttpRequest, Operation};
use phone_verify_core::secrecy::SecretString;
use phone_verify_core::{Code, Error, Language, PhoneNumber, RequestContext, Result, SessionId};
use serde::de::DeserializeOwned;

use crate::config::VerifyKitConfig;
use crate::verifier::PROVIDER;
use crate::wire::{
    self, AccessToken, BlacklistBody, BlacklistChange, CheckOtpBody, CountryBody, CountryList,
    EmailCheck, EmailStarted, OtpSent, ReferenceBody, ReferenceCodeBody, SendOtpBody, SessionBody,
    StartBody, StartEmailBody, StartedValidation, ValidationCheck, ValidationMethodList,
    ValidationResult, WhatsAppMessageBody, WhatsAppMessageSent,
};

const INIT: Operation = Operation::read("init");
const START: Operation = Operation::send("start");
const CHECK: Operation = Operation::read("check");
const CHECK_WHATSAPP: Operation = Operation::consume("check-whatsapp");
const COUNTRY: Operation = Operation::read("country");
const SEND_OTP: Operation = Operation::send("send-otp");
const CHECK_OTP: Operation = Operation::consume("check-otp");
const START_EMAIL: Operation = Operation::send("start-email");
const CHECK_EMAIL: Operation = Operation::consume("check-email");
const RESULT: Operation = Operation::read("result");
const ACCESS_TOKEN: Operation = Operation::read("access-token");
const BLACKLIST_ADD: Operation = Operation::write("blacklist-add");
const BLACKLIST_REMOVE: Operation = Operation::write("blacklist-remove");
const SEND_WHATSAPP_MESSAGE: Operation = Operation::send("send-whatsapp-message");

/// The shortest WhatsApp session message the official SDK lets through.
pub const MIN_WHATSAPP_MESSAGE_CHARS: usize = 10;

/// The messaging app of a [`start`](VerifyKitClient::start).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum App {
    /// WhatsApp: a reverse flow, or WhatsApp as OTP when a phone number is given.
    WhatsApp,
    /// Telegram: a reverse flow.
    Telegram,
}

impl App {
    /// VerifyKit's name, `whatsapp` or `telegram`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhatsApp => "whatsapp",
            Self::Telegram => "telegram",
        }
    }
}

impl fmt::Display for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The options of [`VerifyKitClient::start`].
///
/// VerifyKit's rules for `deeplink` and `qrCode` are enforced before sending: both `false` is
/// refused (VerifyKit would answer `403004`), and both `true` sends only `deeplink`, since
/// VerifyKit then returns only the deeplink anyway.
///
/// ```
/// use phone_verify_verifykit::{App, StartOptions};
///
/// let desktop = StartOptions::new(App::Telegram).qr_code(true).deeplink(false);
/// let whatsapp_otp = StartOptions::whatsapp_otp("+90 532 123 45 67".parse()?);
/// assert!(desktop.qr_code && whatsapp_otp.phone.is_some());
/// # Ok::<(), phone_verify_core::PhoneError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartOptions {
    /// The messaging app.
    pub app: App,
    /// The language of the user's messages (VerifyKit's default is English).
    pub language: Option<Language>,
    /// Ask for a deeplink (for mobile users); VerifyKit's default is `true`.
    pub deeplink: bool,
    /// Ask for a QR code (for desktop users); VerifyKit's default is `false`.
    pub qr_code: bool,
    /// With [`App::WhatsApp`]: the number to send a code to (WhatsApp as OTP).
    pub phone: Option<PhoneNumber>,
}

impl StartOptions {
    /// A reverse flow on `app` with a deeplink (VerifyKit's defaults).
    pub fn new(app: App) -> Self {
        Self {
            app,
            language: None,
            deeplink: true,
            qr_code: false,
            phone: None,
        }
    }

    /// WhatsApp as OTP: VerifyKit sends a code to `phone` on WhatsApp.
    pub fn whatsapp_otp(phone: PhoneNumber) -> Self {
        Self::new(App::WhatsApp).phone(phone)
    }

    /// Sets the language.
    #[must_use]
    pub fn language(mut self, language: Language) -> Self {
        self.language = Some(language);
        self
    }

    /// Asks for a deeplink or not.
    #[must_use]
    pub fn deeplink(mut self, yes: bool) -> Self {
        self.deeplink = yes;
        self
    }

    /// Asks for a QR code or not.
    #[must_use]
    pub fn qr_code(mut self, yes: bool) -> Self {
        self.qr_code = yes;
        self
    }

    /// Sets the phone number (WhatsApp as OTP).
    #[must_use]
    pub fn phone(mut self, phone: PhoneNumber) -> Self {
        self.phone = Some(phone);
        self
    }
}

/// The options of [`VerifyKitClient::send_otp`].
///
/// ```
/// use phone_verify_verifykit::SendOtp;
///
/// let request = SendOtp::new("+90 532 123 45 67".parse()?).mcc("286").mnc("01");
/// assert_eq!(request.country_code.as_deref(), Some("TR"));
/// # Ok::<(), phone_verify_core::PhoneError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendOtp {
    /// The number to send the code to.
    pub phone: PhoneNumber,
    /// Its ISO 3166-1 alpha-2 country (`countryCode`), by default the number's region.
    pub country_code: Option<String>,
    /// The Mobile Country Code of the user's SIM (VerifyKit's default `999`).
    pub mcc: Option<String>,
    /// The Mobile Network Code of the user's SIM (VerifyKit's default `999`).
    pub mnc: Option<String>,
    /// The language of the SMS.
    pub language: Option<Language>,
}

impl SendOtp {
    /// A code to `phone`, with the number's region as country code.
    pub fn new(phone: PhoneNumber) -> Self {
        let country_code = phone.region().map(str::to_owned);
        Self {
            phone,
            country_code,
            mcc: None,
            mnc: None,
            language: None,
        }
    }

    /// Sets the country code (ISO 3166-1 alpha-2).
    #[must_use]
    pub fn country_code(mut self, country_code: impl Into<String>) -> Self {
        self.country_code = Some(country_code.into());
        self
    }

    /// Sets the MCC of the user's SIM.
    #[must_use]
    pub fn mcc(mut self, mcc: impl Into<String>) -> Self {
        self.mcc = Some(mcc.into());
        self
    }

    /// Sets the MNC of the user's SIM.
    #[must_use]
    pub fn mnc(mut self, mnc: impl Into<String>) -> Self {
        self.mnc = Some(mnc.into());
        self
    }

    /// Sets the language of the SMS.
    #[must_use]
    pub fn language(mut self, language: Language) -> Self {
        self.language = Some(language);
        self
    }
}

/// A VerifyKit blacklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlacklistType {
    /// SMS OTP.
    Otp,
    /// WhatsApp.
    WhatsApp,
    /// Telegram.
    Telegram,
    /// Flash call.
    FlashCall,
}

impl BlacklistType {
    /// VerifyKit's name: `otp`, `whatsapp`, `telegram` or `flashcall`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Otp => "otp",
            Self::WhatsApp => "whatsapp",
            Self::Telegram => "telegram",
            Self::FlashCall => "flashcall",
        }
    }
}

impl fmt::Display for BlacklistType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which VerifyKit host an endpoint lives on.
#[derive(Clone, Copy)]
enum Host {
    WebRest,
    Api,
}

/// A typed client of every VerifyKit endpoint. Cheap to clone (the connection pool is shared);
/// `Debug` never shows the server key.
///
/// Every method takes the end user's [`RequestContext`]: its IP address is sent as
/// `X-Vfk-Forwarded-For`, which VerifyKit's documentation and PHP SDK send "in all requests".
/// A web REST request (every endpoint but `result`, `access-token` and
/// `send-whatsapp-message`) whose context has no `end_user_ip` uses the builder's
/// [`fallback_end_user_ip`](crate::VerifyKitBuilder::fallback_end_user_ip), and without one
/// fails with [`ErrorKind::InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) before
/// anything is sent. Inputs are checked before anything is sent, as the official SDK does: a
/// malformed input fails with `InvalidInput` and no request.
///
/// Sends (`start`, `send-otp`, `start-email`, `send-whatsapp-message`) are never retried, and
/// one whose outcome is unknown fails with
/// [`ErrorKind::MaybeSent`](phone_verify_core::ErrorKind::MaybeSent). Code checks
/// (`check-otp`, `check-whatsapp`, `check-email`) use the code up: they are retried only when
/// VerifyKit surely did not process them (no connection, 429, 503 with `Retry-After`), and one
/// whose answer was lost (a timeout after sending, a dropped connection, a 500/502/504) fails
/// with [`ErrorKind::OutcomeUnknown`](phone_verify_core::ErrorKind::OutcomeUnknown), never a
/// rejection; VerifyKit has no way to read a check back, so the application starts a new
/// verification. Polls and lookups are retried on transient failures; blacklist changes are
/// not retried.
/// VerifyKit's errors keep their code, message, HTTP status and request id (see
/// [`errors`](crate::errors)).
#[derive(Clone)]
pub struct VerifyKitClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    server_key: SecretString,
    web_rest: BaseUrl,
    api: BaseUrl,
    fallback_ip: Option<IpAddr>,
}

impl fmt::Debug for VerifyKitClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyKitClient")
            .field("web_rest_url", &self.inner.web_rest)
            .field("api_url", &self.inner.api)
            .field("fallback_end_user_ip", &self.inner.fallback_ip)
            .field("http", &self.inner.http)
            .finish_non_exhaustive()
    }
}

impl VerifyKitClient {
    /// A client with its own connection pool.
    pub fn new(config: VerifyKitConfig) -> Result<Self> {
        let http = HttpClient::new(PROVIDER, config.http.clone())?;
        Ok(Self::from_parts(config, http))
    }

    /// A client on a caller-supplied `reqwest::Client` (see
    /// [`HttpClient::with_reqwest`]).
    pub fn with_reqwest(config: VerifyKitConfig, client: reqwest::Client) -> Self {
        let http = HttpClient::with_reqwest(PROVIDER, client, config.http.clone());
        Self::from_parts(config, http)
    }

    pub(crate) fn from_parts(config: VerifyKitConfig, http: HttpClient) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                server_key: config.server_key,
                web_rest: config.web_rest_url,
                api: config.api_url,
                fallback_ip: config.fallback_end_user_ip,
            }),
        }
    }

    /// The web REST base URL.
    pub fn web_rest_url(&self) -> &BaseUrl {
        &self.inner.web_rest
    }

    /// The API base URL.
    pub fn api_url(&self) -> &BaseUrl {
        &self.inner.api
    }

    /// The IP sent as `X-Vfk-Forwarded-For` when a request's context has none, if one was
    /// configured.
    pub fn fallback_end_user_ip(&self) -> Option<IpAddr> {
        self.inner.fallback_ip
    }

    /// `GET /init?lang=`: the verification methods to offer and the screens' texts, in either
    /// of VerifyKit's two answer shapes.
    pub async fn init(
        &self,
        language: Option<&Language>,
        context: &RequestContext,
    ) -> Result<ValidationMethodList> {
        let mut request = self
            .request(INIT, Host::WebRest, "init", context, Method::Get)?
            .header("content-type", "application/json")?;
        if let Some(lang) = language {
            request = request.query("lang", lang_tag(lang));
        }
        self.call(request).await
    }

    /// `POST /start`: starts a WhatsApp or Telegram verification (a send: never retried).
    ///
    /// Refused before sending: neither a deeplink nor a QR code asked for, or a phone number
    /// with an app other than WhatsApp.
    pub async fn start(
        &self,
        options: &StartOptions,
        context: &RequestContext,
    ) -> Result<StartedValidation> {
        if !options.deeplink && !options.qr_code {
            return Err(invalid(
                "start needs a deeplink or a QR code: both were turned off",
            ));
        }
        if options.phone.is_some() && options.app != App::WhatsApp {
            return Err(invalid(format!(
                "a phone number (OTP mode) works only with WhatsApp, not {}",
                options.app
            )));
        }
        let body = StartBody {
            app: options.app.as_str(),
            lang: options.language.as_ref().map(lang_tag),
            deeplink: options.deeplink,
            // VerifyKit returns only the deeplink when both are asked for.
            qr_code: options.qr_code && !options.deeplink,
            phone_number: options.phone.as_ref().map(PhoneNumber::e164),
        };
        let mut request = self
            .request(START, Host::WebRest, "start", context, Method::Post)?
            .json(&body)?;
        if let Some(phone) = &options.phone {
            request = request.phone(phone);
        }
        self.call(request).await
    }

    /// `POST /check`: polls a WhatsApp or Telegram verification: `validationStatus` is false
    /// (or the answer is `403036`) while the user has not completed it; `403036` is also the
    /// answer for a reference VerifyKit does not know (see [`errors`](crate::errors)).
    pub async fn check(
        &self,
        reference: &str,
        context: &RequestContext,
    ) -> Result<ValidationCheck> {
        let reference = require_reference(reference)?;
        let request = self
            .request(CHECK, Host::WebRest, "check", context, Method::Post)?
            .json(&ReferenceBody { reference })?;
        self.call(request).await
    }

    /// `POST /check-whatsapp`: checks the code of WhatsApp as OTP (uses the code up: see the
    /// retry rules above).
    pub async fn check_whatsapp(
        &self,
        reference: &str,
        code: &Code,
        context: &RequestContext,
    ) -> Result<ValidationCheck> {
        let reference = require_reference(reference)?;
        let body = ReferenceCodeBody {
            reference,
            code: code.expose(),
        };
        let request = self
            .request(
                CHECK_WHATSAPP,
                Host::WebRest,
                "check-whatsapp",
                context,
                Method::Post,
            )?
            .json(&body)?;
        self.call(request).await
    }

    /// `POST /country`: the countries VerifyKit sends codes to, `country_code` (ISO 3166-1
    /// alpha-2) first when given.
    pub async fn country(
        &self,
        country_code: Option<&str>,
        language: Option<&Language>,
        context: &RequestContext,
    ) -> Result<Vec<crate::wire::Country>> {
        let country_code = country_code.map(require_country).transpose()?;
        let body = CountryBody {
            country_code: country_code.as_deref(),
            lang: language.map(lang_tag),
        };
        let request = self
            .request(COUNTRY, Host::WebRest, "country", context, Method::Post)?
            .json(&body)?;
        let list: CountryList = self.call(request).await?;
        Ok(list.list)
    }

    /// `POST /send-otp`: sends an SMS code (a send: never retried).
    pub async fn send_otp(&self, otp: &SendOtp, context: &RequestContext) -> Result<OtpSent> {
        let country_code = match &otp.country_code {
            Some(code) => require_country(code)?,
            None => {
                return Err(invalid(
                    "send-otp needs a country code: the number has no region, set one",
                ));
            }
        };
        let mcc = otp
            .mcc
            .as_deref()
            .map(|v| require_network_code("MCC", v))
            .transpose()?;
        let mnc = otp
            .mnc
            .as_deref()
            .map(|v| require_network_code("MNC", v))
            .transpose()?;
        let body = SendOtpBody {
            phone_number: otp.phone.e164(),
            country_code: &country_code,
            mcc,
            mnc,
            lang: otp.language.as_ref().map(lang_tag),
        };
        let request = self
            .request(SEND_OTP, Host::WebRest, "send-otp", context, Method::Post)?
            .json(&body)?
            .phone(&otp.phone);
        self.call(request).await
    }

    /// `POST /check-otp`: checks an SMS code (uses the code up: see the retry rules above).
    pub async fn check_otp(
        &self,
        phone: &PhoneNumber,
        country_code: &str,
        reference: &str,
        code: &Code,
        context: &RequestContext,
    ) -> Result<ValidationCheck> {
        let country_code = require_country(country_code)?;
        let reference = require_reference(reference)?;
        let body = CheckOtpBody {
            phone_number: phone.e164(),
            country_code: &country_code,
            reference,
            code: code.expose(),
        };
        let request = self
            .request(CHECK_OTP, Host::WebRest, "check-otp", context, Method::Post)?
            .json(&body)?
            .phone(phone);
        self.call(request).await
    }

    /// `POST /start-email`: starts an e-mail verification (a send: never retried). The user
    /// sends an e-mail with the answered [`subject`](EmailStarted::subject) to the answered
    /// address (or opens [`mailto`](EmailStarted::mailto)); `email`, when given, is the address
    /// they are expected to write from, and must look like one.
    pub async fn start_email(
        &self,
        email: Option<&str>,
        context: &RequestContext,
    ) -> Result<EmailStarted> {
        let email = email.map(require_email).transpose()?;
        let request = self
            .request(
                START_EMAIL,
                Host::WebRest,
                "start-email",
                context,
                Method::Post,
            )?
            .json(&StartEmailBody { email })?;
        self.call(request).await
    }

    /// `POST /check-email`: checks an e-mail verification with its `reference` and the
    /// `subject` [`start_email`](Self::start_email) answered (VerifyKit's `code`). VerifyKit
    /// answers `403036` while the e-mail has not arrived: read it with
    /// [`errors::check_outcome`](crate::errors::check_outcome) and
    /// [`Checked::Email`](crate::errors::Checked::Email), which gives `Pending`. Treated as a
    /// code check (see the retry rules above).
    pub async fn check_email(
        &self,
        reference: &str,
        subject: &str,
        context: &RequestContext,
    ) -> Result<EmailCheck> {
        let reference = require_reference(reference)?;
        let subject = subject.trim();
        if subject.is_empty() {
            return Err(invalid("the e-mail verification's subject (code) is empty"));
        }
        let body = ReferenceCodeBody {
            reference,
            code: subject,
        };
        let request = self
            .request(
                CHECK_EMAIL,
                Host::WebRest,
                "check-email",
                context,
                Method::Post,
            )?
            .json(&body)?;
        self.call(request).await
    }

    /// `POST /result` on the API host: the phone a session verified. The session id must match
    /// `^[a-zA-Z0-9]+$`, as the official SDK requires.
    pub async fn result(
        &self,
        session: &SessionId,
        context: &RequestContext,
    ) -> Result<ValidationResult> {
        let session_id = require_session(session)?;
        let request = self
            .request(RESULT, Host::Api, "result", context, Method::Post)?
            .json(&SessionBody { session_id })?;
        self.call(request).await
    }

    /// `GET /access-token` on the API host: a token for VerifyKit's web widget.
    pub async fn access_token(&self, context: &RequestContext) -> Result<AccessToken> {
        let request = self
            .request(
                ACCESS_TOKEN,
                Host::Api,
                "access-token",
                context,
                Method::Get,
            )?
            .header("content-type", "application/json")?;
        self.call(request).await
    }

    /// `POST /blacklist/add`: bans numbers from a verification type (never retried).
    pub async fn blacklist_add(
        &self,
        list: BlacklistType,
        numbers: &[PhoneNumber],
        context: &RequestContext,
    ) -> Result<BlacklistChange> {
        self.blacklist(BLACKLIST_ADD, "blacklist/add", list, numbers, context)
            .await
    }

    /// `POST /blacklist/remove`: lifts bans (never retried).
    pub async fn blacklist_remove(
        &self,
        list: BlacklistType,
        numbers: &[PhoneNumber],
        context: &RequestContext,
    ) -> Result<BlacklistChange> {
        self.blacklist(BLACKLIST_REMOVE, "blacklist/remove", list, numbers, context)
            .await
    }

    async fn blacklist(
        &self,
        operation: Operation,
        path: &str,
        list: BlacklistType,
        numbers: &[PhoneNumber],
        context: &RequestContext,
    ) -> Result<BlacklistChange> {
        if numbers.is_empty() {
            return Err(invalid(format!(
                "{} needs at least one number",
                operation.name
            )));
        }
        let body = BlacklistBody {
            kind: list.as_str(),
            msisdn: numbers.iter().map(PhoneNumber::e164).collect(),
        };
        let request = self
            .request(operation, Host::WebRest, path, context, Method::Post)?
            .json(&body)?;
        self.call(request).await
    }

    /// `POST /send-whatsapp-message` on the API host: a WhatsApp session message to a number
    /// verified on WhatsApp in the last 24 hours (a send: never retried). The message must have
    /// at least [`MIN_WHATSAPP_MESSAGE_CHARS`] characters.
    pub async fn send_whatsapp_message(
        &self,
        phone: &PhoneNumber,
        message: &str,
        context: &RequestContext,
    ) -> Result<WhatsAppMessageSent> {
        if message.trim().chars().count() < MIN_WHATSAPP_MESSAGE_CHARS {
            return Err(invalid(format!(
                "a WhatsApp message needs at least {MIN_WHATSAPP_MESSAGE_CHARS} characters"
            )));
        }
        let body = WhatsAppMessageBody {
            phone_number: phone.e164(),
            message,
        };
        let request = self
            .request(
                SEND_WHATSAPP_MESSAGE,
                Host::Api,
                "send-whatsapp-message",
                context,
                Method::Post,
            )?
            .json(&body)?
            .phone(phone);
        self.call(request).await
    }

    /// A request to `path` on `host` with the server key and the end user's IP: the context's,
    /// else the fallback. A web REST request without either is refused here, before anything
    /// is sent.
    fn request(
        &self,
        operation: Operation,
        host: Host,
        path: &str,
        context: &RequestContext,
        method: Method,
    ) -> Result<HttpRequest> {
        let base = match host {
            Host::WebRest => &self.inner.web_rest,
            Host::Api => &self.inner.api,
        };
        let url = base.join(path);
        let request = match method {
            Method::Get => HttpRequest::get(operation, url),
            Method::Post => HttpRequest::post(operation, url),
        };
        let mut request = request
            .secret_header("x-vfk-server-key", &self.inner.server_key)
            .map_err(|e| e.with_provider(PROVIDER))?;
        let ip = context.end_user_ip.or(self.inner.fallback_ip);
        match (ip, host) {
            (Some(ip), _) => {
                request = request.header("x-vfk-forwarded-for", &ip.to_string())?;
            }
            (None, Host::WebRest) => {
                return Err(invalid(format!(
                    "{} needs the end user's IP address: VerifyKit asks for it \
                     (X-Vfk-Forwarded-For) on every request. Set RequestContext::end_user_ip \
                     to the IP of the user this request is for, or configure \
                     VerifyKitBuilder::fallback_end_user_ip ({}) where no end user is behind \
                     the request",
                    operation.name,
                    crate::config::ENV_FALLBACK_END_USER_IP
                )));
            }
            // The API host's `result` is sent without it by VerifyKit's Python and Node SDKs.
            (None, Host::Api) => {}
        }
        Ok(request)
    }

    async fn call<T: DeserializeOwned>(&self, request: HttpRequest) -> Result<T> {
        let response = self.inner.http.execute(request).await?;
        wire::decode(&response)
    }
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_input(message).with_provider(PROVIDER)
}

/// VerifyKit's `lang`: the primary language subtag (`en`, `tr`, …).
fn lang_tag(language: &Language) -> &str {
    language.primary()
}

fn require_reference(reference: &str) -> Result<&str> {
    let reference = reference.trim();
    if reference.is_empty() {
        Err(invalid("the verification reference is empty"))
    } else {
        Ok(reference)
    }
}

/// An ISO 3166-1 alpha-2 code, upper-cased.
fn require_country(country_code: &str) -> Result<String> {
    let code = country_code.trim();
    if code.is_empty() {
        return Err(invalid("the country code is empty"));
    }
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid(format!(
            "the country code {code:?} is not an ISO 3166-1 alpha-2 code such as \"TR\""
        )));
    }
    Ok(code.to_ascii_uppercase())
}

/// An e-mail address as VerifyKit would accept it: one `@` between a non-empty local part and
/// a dotted domain, no spaces or control characters, at most 254 characters.
fn require_email(email: &str) -> Result<&str> {
    let email = email.trim();
    let plausible = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if plausible {
        Ok(email)
    } else {
        Err(invalid("the e-mail address is not valid"))
    }
}

/// An MCC or MNC: 2 or 3 digits.
fn require_network_code<'a>(what: &str, value: &'a str) -> Result<&'a str> {
    let value = value.trim();
    if (2..=3).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value)
    } else {
        Err(invalid(format!("the {what} must be 2 or 3 digits")))
    }
}

/// A session id as the official SDK accepts it: `^[a-zA-Z0-9]+$`.
fn require_session(session: &SessionId) -> Result<&str> {
    let id = session.as_str();
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(invalid(
            "a VerifyKit session id has only letters and digits",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_inputs() {
        assert!(require_reference(" ").is_err());
        assert_eq!(require_reference(" abc ").unwrap(), "abc");
        assert_eq!(require_country("tr").unwrap(), "TR");
        for bad in ["", "TUR", "T1", "  "] {
            assert!(require_country(bad).is_err(), "{bad:?}");
        }
        assert!(require_network_code("MCC", "286").is_ok());
        assert!(require_network_code("MCC", "2a6").is_err());
        assert!(require_network_code("MNC", "1").is_err());
        assert!(require_session(&SessionId::new("QWERTY123456").unwrap()).is_ok());
        assert!(require_session(&SessionId::new("abc-def").unwrap()).is_err());
        assert_eq!(lang_tag(&"pt-BR".parse().unwrap()), "pt");
        assert_eq!(
            require_email(" ada@example.com ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@x.com",
            "a@b@c.com",
        ] {
            assert!(require_email(bad).is_err(), "{bad:?}");
        }
    }
}
