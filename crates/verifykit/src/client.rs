//! [`VerifyKitClient`]: a typed client of every VerifyKit endpoint, on the kit's HTTP client;
//! and [`VerifyKitBuilder::build_client`].

mod inputs;
mod options;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::Clock;
use phone_verify_core::kit::{
    BaseUrl, HttpClient, HttpRequest, JoinedUrls, Operation, ip_header_value, secret_header_value,
};
use phone_verify_core::reqwest::Method;
use phone_verify_core::reqwest::header::{HeaderName, HeaderValue};
use phone_verify_core::secrecy::SecretString;
use phone_verify_core::{Code, Language, PhoneNumber, RequestContext, Result, SessionId};
use serde::Serialize;
use serde::de::DeserializeOwned;

use self::inputs::{
    lang_tag, require_country, require_email, require_message, require_network_code,
    require_numbers, require_reference, require_session, require_subject,
};
pub use self::options::{App, BlacklistType, MIN_WHATSAPP_MESSAGE_CHARS, SendOtp, StartOptions};
use crate::config::{PROVIDER, VerifyKitBuilder, VerifyKitConfig, VerifyKitSetting, invalid};
use crate::errors::{decode, decode_with_request_id, final_refusal};
use crate::wire::{
    AccessToken, BlacklistBody, BlacklistChange, CheckOtpBody, Country, CountryBody, CountryList,
    EmailCheck, EmailStarted, OtpSent, ReferenceBody, ReferenceCodeBody, SendOtpBody, SessionBody,
    StartBody, StartEmailBody, StartedValidation, ValidationCheck, ValidationMethodList,
    ValidationResult, WhatsAppMessageBody, WhatsAppMessageSent,
};

/// Which VerifyKit host an endpoint lives on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Host {
    WebRest,
    Api,
}

/// One VerifyKit endpoint: its operation (name and retry class), host and path.
#[derive(Clone, Copy)]
pub(crate) struct Endpoint {
    pub(crate) operation: Operation,
    host: Host,
    path: &'static str,
}

impl Endpoint {
    /// An endpoint of the web REST host whose path is the operation's name.
    const fn web_rest(operation: Operation) -> Self {
        Self {
            operation,
            host: Host::WebRest,
            path: operation.name,
        }
    }

    /// An endpoint of the API host whose path is the operation's name.
    const fn api(operation: Operation) -> Self {
        Self {
            operation,
            host: Host::Api,
            path: operation.name,
        }
    }

    /// The endpoint at `path` instead of the operation's name.
    const fn at(mut self, path: &'static str) -> Self {
        self.path = path;
        self
    }
}

pub(crate) const INIT: Endpoint = Endpoint::web_rest(Operation::read("init"));
pub(crate) const START: Endpoint = Endpoint::web_rest(Operation::send("start"));
pub(crate) const CHECK: Endpoint = Endpoint::web_rest(Operation::read("check"));
pub(crate) const CHECK_WHATSAPP: Endpoint =
    Endpoint::web_rest(Operation::consume("check-whatsapp"));
pub(crate) const COUNTRY: Endpoint = Endpoint::web_rest(Operation::read("country"));
pub(crate) const SEND_OTP: Endpoint = Endpoint::web_rest(Operation::send("send-otp"));
pub(crate) const CHECK_OTP: Endpoint = Endpoint::web_rest(Operation::consume("check-otp"));
pub(crate) const START_EMAIL: Endpoint = Endpoint::web_rest(Operation::send("start-email"));
pub(crate) const CHECK_EMAIL: Endpoint = Endpoint::web_rest(Operation::consume("check-email"));
pub(crate) const BLACKLIST_ADD: Endpoint =
    Endpoint::web_rest(Operation::write("blacklist-add")).at("blacklist/add");
pub(crate) const BLACKLIST_REMOVE: Endpoint =
    Endpoint::web_rest(Operation::write("blacklist-remove")).at("blacklist/remove");
pub(crate) const RESULT: Endpoint = Endpoint::api(Operation::read("result"));
pub(crate) const ACCESS_TOKEN: Endpoint = Endpoint::api(Operation::read("access-token"));
pub(crate) const SEND_WHATSAPP_MESSAGE: Endpoint =
    Endpoint::api(Operation::send("send-whatsapp-message"));

/// Every endpoint of the client.
pub(crate) const ENDPOINTS: [Endpoint; 14] = [
    INIT,
    START,
    CHECK,
    CHECK_WHATSAPP,
    COUNTRY,
    SEND_OTP,
    CHECK_OTP,
    START_EMAIL,
    CHECK_EMAIL,
    BLACKLIST_ADD,
    BLACKLIST_REMOVE,
    RESULT,
    ACCESS_TOKEN,
    SEND_WHATSAPP_MESSAGE,
];

/// The header of the server key.
const SERVER_KEY_HEADER: &str = "x-vfk-server-key";
/// [`SERVER_KEY_HEADER`] as a header name, built at compile time.
const SERVER_KEY_HEADER_NAME: HeaderName = HeaderName::from_static(SERVER_KEY_HEADER);
/// The header of the end user's IP address.
const FORWARDED_FOR_HEADER_NAME: HeaderName = HeaderName::from_static("x-vfk-forwarded-for");

/// The paths of `host`'s endpoints.
fn paths(host: Host) -> Vec<&'static str> {
    ENDPOINTS
        .iter()
        .filter(|e| e.host == host)
        .map(|e| e.path)
        .collect()
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
    /// `server_key` as a sensitive header value, built once (`None`: characters a header
    /// cannot carry, refused on every request before anything is sent).
    server_key_header: Option<HeaderValue>,
    web_rest: BaseUrl,
    api: BaseUrl,
    /// Every endpoint's URL, joined once.
    web_rest_urls: JoinedUrls,
    api_urls: JoinedUrls,
    fallback_ip: Option<IpAddr>,
    /// The configuration's reverse-flow lifetime, for the [`VerifyKit`](crate::VerifyKit)
    /// verifiers made on this client.
    reverse_flow_ttl: Duration,
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
    /// A client of `config`: on the application's `reqwest::Client` if its HTTP settings hold
    /// one, otherwise with a connection pool of its own. The configuration is checked as
    /// [`VerifyKitBuilder::config`] checks it (its fields are public, so they may have changed
    /// since): an empty server key, one a header cannot carry, or a reverse-flow lifetime of
    /// zero or more than a year fails with
    /// [`ErrorKind::InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) before any
    /// request.
    pub fn new(config: VerifyKitConfig) -> Result<Self> {
        config.validate()?;
        let http = config
            .http
            .client(PROVIDER)
            .map_err(|e| e.with_provider(PROVIDER))?
            .with_final_refusals(final_refusal);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                server_key_header: secret_header_value(SERVER_KEY_HEADER, &config.server_key).ok(),
                server_key: config.server_key,
                web_rest_urls: JoinedUrls::new(config.web_rest_url.clone(), &paths(Host::WebRest)),
                api_urls: JoinedUrls::new(config.api_url.clone(), &paths(Host::Api)),
                web_rest: config.web_rest_url,
                api: config.api_url,
                fallback_ip: config.fallback_end_user_ip,
                reverse_flow_ttl: config.reverse_flow_ttl,
            }),
        })
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

    /// The configuration's reverse-flow lifetime, which [`VerifyKit::new`](crate::VerifyKit::new)
    /// takes.
    pub(crate) fn reverse_flow_ttl(&self) -> Duration {
        self.inner.reverse_flow_ttl
    }

    /// The HTTP settings' clock, which the verifier tells a reverse flow's expiry by.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        self.inner.http.config().clock()
    }

    /// `GET /init?lang=`: the verification methods to offer and the screens' texts, in either
    /// of VerifyKit's two answer shapes.
    pub async fn init(
        &self,
        language: Option<&Language>,
        context: &RequestContext,
    ) -> Result<ValidationMethodList> {
        let query = language.map(|lang| ("lang", lang_tag(lang)));
        self.get(INIT, query, context).await
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
        self.post(START, &body, options.phone.as_ref(), context)
            .await
    }

    /// `POST /check`: polls a WhatsApp or Telegram verification: `validationStatus` is false
    /// (or the answer is `403036`) while the user has not completed it; `403036` is also the
    /// answer for a reference VerifyKit does not know (see [`errors`](crate::errors)).
    pub async fn check(
        &self,
        reference: &str,
        context: &RequestContext,
    ) -> Result<ValidationCheck> {
        let body = ReferenceBody {
            reference: require_reference(reference)?,
        };
        self.post_check(CHECK, &body, None, context).await
    }

    /// `POST /check-whatsapp`: checks the code of WhatsApp as OTP (uses the code up: see the
    /// retry rules above).
    pub async fn check_whatsapp(
        &self,
        reference: &str,
        code: &Code,
        context: &RequestContext,
    ) -> Result<ValidationCheck> {
        let body = ReferenceCodeBody {
            reference: require_reference(reference)?,
            code: code.expose(),
        };
        self.post_check(CHECK_WHATSAPP, &body, None, context).await
    }

    /// `POST /country`: the countries VerifyKit sends codes to, `country_code` (ISO 3166-1
    /// alpha-2) first when given.
    pub async fn country(
        &self,
        country_code: Option<&str>,
        language: Option<&Language>,
        context: &RequestContext,
    ) -> Result<Vec<Country>> {
        let country_code = country_code.map(require_country).transpose()?;
        let body = CountryBody {
            country_code: country_code.as_deref(),
            lang: language.map(lang_tag),
        };
        let list: CountryList = self.post(COUNTRY, &body, None, context).await?;
        Ok(list.list)
    }

    /// `POST /send-otp`: sends an SMS code (a send: never retried).
    pub async fn send_otp(&self, otp: &SendOtp, context: &RequestContext) -> Result<OtpSent> {
        let Some(country_code) = &otp.country_code else {
            return Err(invalid(
                "send-otp needs a country code: the number has no region, set one",
            ));
        };
        let body = SendOtpBody {
            phone_number: otp.phone.e164(),
            country_code: &require_country(country_code)?,
            mcc: (otp.mcc.as_deref())
                .map(|v| require_network_code("MCC", v))
                .transpose()?,
            mnc: (otp.mnc.as_deref())
                .map(|v| require_network_code("MNC", v))
                .transpose()?,
            lang: otp.language.as_ref().map(lang_tag),
        };
        self.post(SEND_OTP, &body, Some(&otp.phone), context).await
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
        let body = CheckOtpBody {
            phone_number: phone.e164(),
            country_code: &require_country(country_code)?,
            reference: require_reference(reference)?,
            code: code.expose(),
        };
        self.post_check(CHECK_OTP, &body, Some(phone), context)
            .await
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
        let body = StartEmailBody {
            email: email.map(require_email).transpose()?,
        };
        self.post(START_EMAIL, &body, None, context).await
    }

    /// `POST /check-email`: checks an e-mail verification with its `reference` and the
    /// `subject` [`start_email`](Self::start_email) answered (VerifyKit's `code`). VerifyKit
    /// answers `403036` while the e-mail has not arrived: read it with
    /// [`errors::check_outcome`](crate::errors::check_outcome) and
    /// [`Checked::Email`](crate::errors::Checked::Email), which gives `Pending`. There is no
    /// handle and no expiry here: the caller bounds its own polling (the same `403036` answers
    /// a reference VerifyKit does not know). Treated as a code check (see the retry rules
    /// above).
    pub async fn check_email(
        &self,
        reference: &str,
        subject: &str,
        context: &RequestContext,
    ) -> Result<EmailCheck> {
        let body = ReferenceCodeBody {
            reference: require_reference(reference)?,
            code: require_subject(subject)?,
        };
        self.post(CHECK_EMAIL, &body, None, context).await
    }

    /// `POST /result` on the API host: the phone a session verified. The session id must match
    /// `^[a-zA-Z0-9]+$`, as the official SDK requires.
    pub async fn result(
        &self,
        session: &SessionId,
        context: &RequestContext,
    ) -> Result<ValidationResult> {
        let body = SessionBody {
            session_id: require_session(session)?,
        };
        self.post(RESULT, &body, None, context).await
    }

    /// `GET /access-token` on the API host: a token for VerifyKit's web widget.
    pub async fn access_token(&self, context: &RequestContext) -> Result<AccessToken> {
        self.get(ACCESS_TOKEN, None, context).await
    }

    /// `POST /blacklist/add`: bans numbers from a verification type (never retried).
    pub async fn blacklist_add(
        &self,
        list: BlacklistType,
        numbers: &[PhoneNumber],
        context: &RequestContext,
    ) -> Result<BlacklistChange> {
        self.blacklist(BLACKLIST_ADD, list, numbers, context).await
    }

    /// `POST /blacklist/remove`: lifts bans (never retried).
    pub async fn blacklist_remove(
        &self,
        list: BlacklistType,
        numbers: &[PhoneNumber],
        context: &RequestContext,
    ) -> Result<BlacklistChange> {
        self.blacklist(BLACKLIST_REMOVE, list, numbers, context)
            .await
    }

    async fn blacklist(
        &self,
        endpoint: Endpoint,
        list: BlacklistType,
        numbers: &[PhoneNumber],
        context: &RequestContext,
    ) -> Result<BlacklistChange> {
        let body = BlacklistBody {
            kind: list.as_str(),
            msisdn: require_numbers(endpoint.operation.name, numbers)?,
        };
        self.post(endpoint, &body, None, context).await
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
        let body = WhatsAppMessageBody {
            phone_number: phone.e164(),
            message: require_message(message)?,
        };
        self.post(SEND_WHATSAPP_MESSAGE, &body, Some(phone), context)
            .await
    }

    /// `POST`s `body` to `endpoint` (naming `phone` in logs, masked) and decodes the answer.
    async fn post<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        body: &impl Serialize,
        phone: Option<&PhoneNumber>,
        context: &RequestContext,
    ) -> Result<T> {
        let request = self.post_request(endpoint, body, phone, context)?;
        // Executed here rather than through `send`: one future less to build and move.
        let response = self.inner.http.execute(request).await?;
        decode(&response, &self.inner.server_key)
    }

    /// [`post`](Self::post) of a check (`check`, `check-whatsapp`, `check-otp`), whose answer
    /// keeps its request id for a rejection.
    async fn post_check(
        &self,
        endpoint: Endpoint,
        body: &impl Serialize,
        phone: Option<&PhoneNumber>,
        context: &RequestContext,
    ) -> Result<ValidationCheck> {
        let request = self.post_request(endpoint, body, phone, context)?;
        let response = self.inner.http.execute(request).await?;
        let (check, request_id): (ValidationCheck, _) =
            decode_with_request_id(&response, &self.inner.server_key)?;
        Ok(ValidationCheck {
            request_id,
            ..check
        })
    }

    /// The `POST` of `body` to `endpoint`, naming `phone` in logs (masked).
    fn post_request(
        &self,
        endpoint: Endpoint,
        body: &impl Serialize,
        phone: Option<&PhoneNumber>,
        context: &RequestContext,
    ) -> Result<HttpRequest> {
        let request = self.request(Method::POST, endpoint, context)?.json(body)?;
        Ok(match phone {
            Some(phone) => request.phone(phone),
            None => request,
        })
    }

    /// `GET`s `endpoint` with an optional query parameter and decodes the answer. VerifyKit's
    /// SDKs send `Content-Type: application/json` on bodiless requests too.
    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        query: Option<(&str, &str)>,
        context: &RequestContext,
    ) -> Result<T> {
        let mut request = self
            .request(Method::GET, endpoint, context)?
            .header("content-type", "application/json")?;
        if let Some((name, value)) = query {
            request = request.query(name, value);
        }
        self.send(request).await
    }

    /// A request to `endpoint` with the server key and the end user's IP: the context's, else
    /// the fallback. A web REST request without either is refused here, before anything is
    /// sent.
    fn request(
        &self,
        method: Method,
        endpoint: Endpoint,
        context: &RequestContext,
    ) -> Result<HttpRequest> {
        let urls = match endpoint.host {
            Host::WebRest => &self.inner.web_rest_urls,
            Host::Api => &self.inner.api_urls,
        };
        let operation = endpoint.operation;
        let request = HttpRequest::new(operation, method, urls.url(endpoint.path));
        let mut request = match &self.inner.server_key_header {
            Some(value) => request.prepared_header(SERVER_KEY_HEADER_NAME, value.clone()),
            None => request
                .secret_header(SERVER_KEY_HEADER, &self.inner.server_key)
                .map_err(|e| e.with_provider(PROVIDER))?,
        };
        match context.end_user_ip.or(self.inner.fallback_ip) {
            Some(ip) => {
                request = request.prepared_header(FORWARDED_FOR_HEADER_NAME, ip_header_value(ip));
            }
            None if endpoint.host == Host::WebRest => {
                return Err(invalid(format!(
                    "{} needs the end user's IP address: VerifyKit asks for it \
                     (X-Vfk-Forwarded-For) on every request. Set RequestContext::end_user_ip \
                     to the IP of the user this request is for, or configure \
                     VerifyKitBuilder::fallback_end_user_ip ({}) where no end user is behind \
                     the request",
                    operation.name,
                    VerifyKitSetting::FallbackEndUserIp.name()
                )));
            }
            // The API host's `result` is sent without it by VerifyKit's Python and Node SDKs.
            None => {}
        }
        Ok(request)
    }

    async fn send<T: DeserializeOwned>(&self, request: HttpRequest) -> Result<T> {
        let response = self.inner.http.execute(request).await?;
        decode(&response, &self.inner.server_key)
    }
}

impl VerifyKitBuilder {
    /// Builds the typed client of every endpoint.
    pub fn build_client(&self) -> Result<VerifyKitClient> {
        VerifyKitClient::new(self.config()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_joined_in_advance_on_its_own_host() {
        let client = VerifyKitBuilder::new("key").build_client().unwrap();
        let inner = &client.inner;
        for endpoint in ENDPOINTS {
            let (own, other) = match endpoint.host {
                Host::WebRest => (&inner.web_rest_urls, &inner.api_urls),
                Host::Api => (&inner.api_urls, &inner.web_rest_urls),
            };
            assert!(own.contains(endpoint.path), "{}", endpoint.path);
            assert!(!other.contains(endpoint.path), "{}", endpoint.path);
        }
    }
}
