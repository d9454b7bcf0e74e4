//! [`TwilioClient`]: a typed client of Verify v2's Services, Verifications,
//! VerificationCheck and Verification Attempts, on the kit's HTTP layer.

use std::fmt;
use std::sync::Arc;

use futures::future::{self, Either, FutureExt as _};
use phone_verify_core::http::{Clock, Timeouts};
use phone_verify_core::kit::{
    BaseUrl, HttpClient, HttpRequest, HttpResponse, Operation, basic_auth_value,
};
use phone_verify_core::reqwest::Url;
use phone_verify_core::reqwest::header::{AUTHORIZATION, HeaderValue};
use phone_verify_core::{Code, Error, PhoneNumber, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use crate::attempts::{Attempt, AttemptPage, ListAttempts};
use crate::config::{PROVIDER, TwilioBuilder, TwilioConfig, check_sid};
use crate::errors;
use crate::wire::{
    CheckTarget, CreateService, CreateVerification, Service, ServicePage, TwilioChannel,
    UpdateService, Verification, VerificationCheck, VerificationUpdate,
};

pub(crate) const CREATE_SERVICE: Operation = Operation::write("create-service");
pub(crate) const FETCH_SERVICE: Operation = Operation::read("fetch-service");
pub(crate) const LIST_SERVICES: Operation = Operation::read("list-services");
pub(crate) const UPDATE_SERVICE: Operation = Operation::write("update-service");
/// A write, never retried by the HTTP layer, although `DELETE` is idempotent in HTTP's sense:
/// its answers are not. Had a first attempt deleted the service and its answer been lost, a
/// retry would answer `20404`, and a delete that succeeded would come back as `NotFound`,
/// which cannot be told from a service that never existed. As a write, a lost answer stays a
/// `Timeout` or `Transport` error, which `fetch_service` settles (`20404`: it is gone).
pub(crate) const DELETE_SERVICE: Operation = Operation::write("delete-service");
pub(crate) const CREATE_VERIFICATION: Operation = Operation::send("create-verification");
pub(crate) const FETCH_VERIFICATION: Operation = Operation::read("fetch-verification");
pub(crate) const UPDATE_VERIFICATION: Operation = Operation::write("update-verification");
pub(crate) const CHECK_VERIFICATION: Operation = Operation::consume("check-verification");
pub(crate) const LIST_ATTEMPTS: Operation = Operation::read("list-attempts");
pub(crate) const FETCH_ATTEMPT: Operation = Operation::read("fetch-attempt");

/// What a Service SID must be.
const SERVICE_SID: &str = "a Verify service SID (VA followed by 32 hex digits)";
/// What a Verification SID must be.
const VERIFICATION_SID: &str = "a verification SID (VE followed by 32 hex digits)";
/// What a Verification Attempt SID must be.
const ATTEMPT_SID: &str = "a verification attempt SID (VL followed by 32 hex digits)";
/// The path of the list of services, under the base URL.
const SERVICES: &str = "Services";
/// The path of the list of verification attempts, under the base URL.
const ATTEMPTS: &str = "Attempts";

/// A typed client of Twilio Verify v2. Creating a verification is a send (never retried; a
/// lost answer is `MaybeSent`), checking one consumes the code (retried only when the request
/// surely never reached Twilio; a lost answer is `OutcomeUnknown`), fetches and lists are
/// reads (retried with backoff, `Retry-After` honoured), creating, updating and deleting a
/// service or updating a verification are writes (never retried). Every input is checked
/// before anything is sent.
#[derive(Clone)]
pub struct TwilioClient {
    http: HttpClient,
    base_url: BaseUrl,
    /// The Basic user name and password, sent with every request and scrubbed from what
    /// Twilio writes back.
    secrets: (SecretString, SecretString),
    /// `Authorization: Basic …` of the credentials, encoded once (`None`: a user name Twilio
    /// cannot take, refused on every request before anything is sent).
    authorization: Option<HeaderValue>,
    service_sid: Option<String>,
    /// The configured service's `VerificationCheck` URL, joined once.
    check_url: Option<Url>,
}

impl fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioClient")
            .field("base_url", &self.base_url)
            .field("service_sid", &self.service_sid)
            .finish_non_exhaustive()
    }
}

impl TwilioBuilder {
    /// A [`TwilioClient`] of this configuration; the service SID is optional here.
    pub fn build_client(&self) -> Result<TwilioClient> {
        TwilioClient::new(self.config()?)
    }
}

impl TwilioClient {
    /// A client of `config`: on the application's `reqwest::Client` if its HTTP settings hold
    /// one, otherwise with a connection pool of its own. The configuration is checked as
    /// [`TwilioBuilder::config`] checks it (its fields are public, so they may have changed
    /// since): a malformed credential or service SID fails with
    /// [`ErrorKind::InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) before any
    /// request.
    pub fn new(config: TwilioConfig) -> Result<Self> {
        config.validate()?;
        let http = config
            .http
            .client(PROVIDER)?
            .with_final_refusals(errors::final_refusal);
        let (user, password) = config.credentials.basic();
        let secrets = (user.clone(), password.clone());
        let authorization = basic_auth_value(user.expose_secret(), password).ok();
        let check_url = config
            .service_sid
            .as_deref()
            .map(|sid| check_url(&config.base_url, sid));
        Ok(Self {
            http,
            base_url: config.base_url,
            secrets,
            authorization,
            service_sid: config.service_sid,
            check_url,
        })
    }

    /// The base URL, e.g. `https://verify.twilio.com/v2`.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }

    /// The configured Verify service, if any.
    pub fn service_sid(&self) -> Option<&str> {
        self.service_sid.as_deref()
    }

    /// The HTTP settings' clock, which the verifier tells expiry by.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        self.http.config().clock()
    }

    /// The HTTP settings' time limits, which bound the verifier's read-back of a lost check.
    pub(crate) fn timeouts(&self) -> Timeouts {
        self.http.config().timeouts
    }

    /// `POST /Services`: creates a Verify service.
    pub async fn create_service(&self, service: &CreateService) -> Result<Service> {
        check_service_fields(Some(&service.friendly_name), service.code_length)?;
        let form = service.form();
        let request = HttpRequest::post(CREATE_SERVICE, self.base_url.join("Services"))
            .form(form.iter().map(|(k, v)| (*k, v.as_str())));
        self.run(request).await
    }

    /// `GET /Services/{Sid}`.
    pub async fn fetch_service(&self, service_sid: &str) -> Result<Service> {
        check_sid(service_sid, "VA", SERVICE_SID)?;
        let url = self.base_url.join(&format!("Services/{service_sid}"));
        self.run(HttpRequest::get(FETCH_SERVICE, url)).await
    }

    /// `GET /Services`: the first page of the account's Verify services, `page_size` of them
    /// (`PageSize`, 1 to 1000; Twilio's default, 50, when `None`). The next page is
    /// [`next_services_page`](Self::next_services_page). A read: retried with backoff.
    pub async fn list_services(&self, page_size: Option<u32>) -> Result<ServicePage> {
        let mut request = HttpRequest::get(LIST_SERVICES, self.base_url.join(SERVICES));
        check_page_size(page_size)?;
        if let Some(size) = page_size {
            request = request.query("PageSize", &size.to_string());
        }
        self.run(request).await
    }

    /// The page after `page` (`GET` of its `meta.next_page_url`), or `None` on the last page.
    /// As [`services_page`](Self::services_page), the URL must be this client's list of
    /// services.
    pub async fn next_services_page(&self, page: &ServicePage) -> Result<Option<ServicePage>> {
        match page.next_page_url() {
            Some(url) => self.services_page(url).await.map(Some),
            None => Ok(None),
        }
    }

    /// `GET` of a page URL of the list of services, as Twilio writes them in a page's `meta`
    /// (`next_page_url`, `previous_page_url`, `first_page_url`, `url`). Only a URL of this
    /// client's own list is followed: the base URL's scheme, host and port, its `Services`
    /// path, no user or password. Anything else is refused with `InvalidInput` before anything
    /// is sent, so that an answer cannot send the credentials to another host. A read.
    pub async fn services_page(&self, url: &str) -> Result<ServicePage> {
        let url = self.page_url(url, SERVICES)?;
        self.run(HttpRequest::get(LIST_SERVICES, url)).await
    }

    /// `GET /Attempts` (the Verification Attempts API): the first page of the attempts
    /// `filter` selects, newest first; [`next_attempts_page`](Self::next_attempts_page) gives
    /// the next. Each send of a code is an attempt, `converted` once its verification was
    /// approved. SIDs, `ChannelData.To` (E.164), `Country` (two letters) and `PageSize`
    /// (1 to 1000) are checked before anything is sent. A read: retried with backoff,
    /// `Retry-After` honoured (Twilio allows 100 requests a minute on this API).
    pub async fn list_attempts(&self, filter: &ListAttempts) -> Result<AttemptPage> {
        let request = self.list_attempts_request(filter)?;
        self.run(request).await
    }

    /// The request of [`list_attempts`](Self::list_attempts), its filter checked.
    fn list_attempts_request(&self, filter: &ListAttempts) -> Result<HttpRequest> {
        if let Some(sid) = &filter.verification_sid {
            check_sid(sid, "VE", VERIFICATION_SID)?;
        }
        if let Some(sid) = &filter.service_sid {
            check_sid(sid, "VA", SERVICE_SID)?;
        }
        let phone = match &filter.to {
            Some(to) => check_to(to, false)?,
            None => None,
        };
        if let Some(country) = &filter.country
            && !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            return Err(invalid("Country must be two letters (ISO 3166-1 alpha-2)"));
        }
        check_page_size(filter.page_size)?;
        let query = filter.query().map_err(invalid)?;
        let mut request = HttpRequest::get(LIST_ATTEMPTS, self.base_url.join(ATTEMPTS));
        for (name, value) in &query {
            request = request.query(name, value);
        }
        if let Some(phone) = &phone {
            request = request.phone(phone);
        }
        Ok(request)
    }

    /// The page after `page` (`GET` of its `meta.next_page_url`), or `None` on the last page.
    /// As [`attempts_page`](Self::attempts_page), the URL must be this client's list of
    /// attempts.
    pub async fn next_attempts_page(&self, page: &AttemptPage) -> Result<Option<AttemptPage>> {
        match page.next_page_url() {
            Some(url) => self.attempts_page(url).await.map(Some),
            None => Ok(None),
        }
    }

    /// `GET` of a page URL of the list of attempts, as Twilio writes them in a page's `meta`.
    /// Only a URL of this client's own list is followed (the base URL's scheme, host and port,
    /// its `Attempts` path, no user or password); anything else is refused with
    /// `InvalidInput` before anything is sent. A read.
    pub async fn attempts_page(&self, url: &str) -> Result<AttemptPage> {
        let url = self.page_url(url, ATTEMPTS)?;
        self.run(HttpRequest::get(LIST_ATTEMPTS, url)).await
    }

    /// `GET /Attempts/{Sid}`: one verification attempt (`VL…`). A read.
    pub async fn fetch_attempt(&self, attempt_sid: &str) -> Result<Attempt> {
        check_sid(attempt_sid, "VL", ATTEMPT_SID)?;
        let url = self.base_url.join(&format!("{ATTEMPTS}/{attempt_sid}"));
        self.run(HttpRequest::get(FETCH_ATTEMPT, url)).await
    }

    /// `POST /Services/{Sid}`: changes the fields `update` sets (the same checks as
    /// [`create_service`](Self::create_service)) and answers the service. An update that sets
    /// nothing is refused before anything is sent. A write: never retried (a lost answer is a
    /// `Timeout` or `Transport` error; `fetch_service` tells what Twilio kept).
    pub async fn update_service(
        &self,
        service_sid: &str,
        update: &UpdateService,
    ) -> Result<Service> {
        check_sid(service_sid, "VA", SERVICE_SID)?;
        let form = update.form();
        if form.is_empty() {
            return Err(invalid(
                "an update of a service must set at least one field",
            ));
        }
        check_service_fields(update.friendly_name.as_deref(), update.code_length)?;
        let url = self.base_url.join(&format!("Services/{service_sid}"));
        let request =
            HttpRequest::post(UPDATE_SERVICE, url).form(form.iter().map(|(k, v)| (*k, v.as_str())));
        self.run(request).await
    }

    /// `DELETE /Services/{Sid}`: deletes the service (Twilio answers `204 No Content`; any 2xx
    /// is `Ok`). An unknown service is `20404`, a `NotFound` error. A write: never retried,
    /// although `DELETE` is idempotent in HTTP's sense, because a retry after a lost answer
    /// would turn a delete that succeeded into `NotFound`; a lost answer stays a `Timeout` or
    /// `Transport` error, which [`fetch_service`](Self::fetch_service) settles.
    pub async fn delete_service(&self, service_sid: &str) -> Result<()> {
        check_sid(service_sid, "VA", SERVICE_SID)?;
        let url = self.base_url.join(&format!("Services/{service_sid}"));
        self.exchange(
            HttpRequest::delete(DELETE_SERVICE, url),
            errors::answer_without_body,
        )
        .await
    }

    /// `POST /Services/{ServiceSid}/Verifications`: sends a code. `To` must be an E.164
    /// number (an e-mail address for [`TwilioChannel::Email`]); a custom code 4 to 10 letters
    /// or digits; a locale a language tag; `Tags` at most 10, each key and value at most 128
    /// characters (a value that is not a string counted as its JSON text).
    pub async fn create_verification(
        &self,
        service_sid: &str,
        verification: &CreateVerification,
    ) -> Result<Verification> {
        let request = self.create_verification_request(service_sid, verification)?;
        self.run(request).await
    }

    /// [`create_verification`](Self::create_verification), with the answer's
    /// `Twilio-Request-Id`: for the verifier, which names the request in the errors a 2xx
    /// answer stands for.
    pub(crate) async fn create_verification_with_request_id(
        &self,
        service_sid: &str,
        verification: &CreateVerification,
    ) -> Result<(Verification, Option<String>)> {
        let request = self.create_verification_request(service_sid, verification)?;
        self.exchange(request, errors::answer_with_request_id).await
    }

    /// The request of [`create_verification`](Self::create_verification), its input checked.
    fn create_verification_request(
        &self,
        service_sid: &str,
        verification: &CreateVerification,
    ) -> Result<HttpRequest> {
        check_sid(service_sid, "VA", SERVICE_SID)?;
        let phone = check_to(
            &verification.to,
            verification.channel == TwilioChannel::Email,
        )?;
        if let Some(code) = &verification.custom_code {
            let ok =
                (4..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric());
            if !ok {
                return Err(invalid("CustomCode must be 4 to 10 letters or digits"));
            }
        }
        if let Some(locale) = &verification.locale {
            check_locale(locale)?;
        }
        if let Some(tags) = &verification.tags {
            check_tags(tags)?;
        }
        let form = verification.form();
        let url = self
            .base_url
            .join(&format!("Services/{service_sid}/Verifications"));
        let mut request = HttpRequest::post(CREATE_VERIFICATION, url)
            .form(form.iter().map(|(k, v)| (*k, v.as_str())));
        if let Some(phone) = &phone {
            request = request.phone(phone);
        }
        Ok(request)
    }

    /// `GET /Services/{ServiceSid}/Verifications/{Sid}`: a pending verification (Twilio
    /// answers `20404` once it is approved, canceled or expired).
    pub async fn fetch_verification(
        &self,
        service_sid: &str,
        verification_sid: &str,
    ) -> Result<Verification> {
        let url = self.verification_url(service_sid, verification_sid)?;
        self.run(HttpRequest::get(FETCH_VERIFICATION, url)).await
    }

    /// `POST /Services/{ServiceSid}/Verifications/{Sid}` with `Status`: cancels or approves a
    /// pending verification.
    pub async fn update_verification(
        &self,
        service_sid: &str,
        verification_sid: &str,
        status: VerificationUpdate,
    ) -> Result<Verification> {
        let url = self.verification_url(service_sid, verification_sid)?;
        let request =
            HttpRequest::post(UPDATE_VERIFICATION, url).form([("Status", status.as_str())]);
        self.run(request).await
    }

    /// `POST /Services/{ServiceSid}/VerificationCheck`: checks `code` against the verification
    /// `target` names. A wrong code is an answer (`status: pending`), not an error.
    pub async fn check_verification(
        &self,
        service_sid: &str,
        code: &Code,
        target: &CheckTarget,
    ) -> Result<VerificationCheck> {
        let request = self.check_request(service_sid, code, target)?;
        self.run(request).await
    }

    /// [`check_verification`](Self::check_verification), with the answer's
    /// `Twilio-Request-Id`: for the verifier, which names the request in the rejections and
    /// errors a 2xx answer stands for.
    pub(crate) async fn check_verification_with_request_id(
        &self,
        service_sid: &str,
        code: &Code,
        target: &CheckTarget,
    ) -> Result<(VerificationCheck, Option<String>)> {
        let request = self.check_request(service_sid, code, target)?;
        self.exchange(request, errors::answer_with_request_id).await
    }

    /// The request of [`check_verification`](Self::check_verification), its input checked.
    fn check_request(
        &self,
        service_sid: &str,
        code: &Code,
        target: &CheckTarget,
    ) -> Result<HttpRequest> {
        let url = match &self.check_url {
            // The configured service's SID was checked when the client was built.
            Some(url) if self.service_sid.as_deref() == Some(service_sid) => url.clone(),
            _ => {
                check_sid(service_sid, "VA", SERVICE_SID)?;
                check_url(&self.base_url, service_sid)
            }
        };
        let phone = match target {
            CheckTarget::VerificationSid(sid) => {
                check_sid(sid, "VE", VERIFICATION_SID)?;
                None
            }
            CheckTarget::To(to) => check_to(to, to.contains('@'))?,
        };
        let mut request = HttpRequest::post(CHECK_VERIFICATION, url)
            .form([("Code", code.expose()), target.field()]);
        if let Some(phone) = &phone {
            request = request.phone(phone);
        }
        Ok(request)
    }

    /// The URL of one verification, both SIDs checked.
    fn verification_url(&self, service_sid: &str, verification_sid: &str) -> Result<Url> {
        check_sid(service_sid, "VA", SERVICE_SID)?;
        check_sid(verification_sid, "VE", VERIFICATION_SID)?;
        Ok(self.base_url.join(&format!(
            "Services/{service_sid}/Verifications/{verification_sid}"
        )))
    }

    /// A page URL of the list at `list` (`Services`, `Attempts`; see
    /// [`services_page`](Self::services_page)), checked against the base URL; the error never
    /// repeats the URL.
    fn page_url(&self, url: &str, list: &str) -> Result<Url> {
        let url =
            Url::parse(url.trim()).map_err(|_| invalid("a page URL must be an absolute URL"))?;
        let what = list.to_ascii_lowercase();
        let list = self.base_url.join(list);
        if url.origin() != list.origin() || !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "a page URL must be on the base URL's scheme, host and port",
            ));
        }
        if url.path() != list.path() || url.fragment().is_some() {
            return Err(invalid(&format!(
                "a page URL must be the base URL's list of {what}"
            )));
        }
        Ok(url)
    }

    /// Sends `request` with the credentials; a non-2xx answer is mapped to its error, a 2xx
    /// one decoded.
    fn run<'a, T: DeserializeOwned + 'a>(
        &'a self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<T>> + Send + 'a {
        self.exchange(request, errors::answer::<T>)
    }

    /// Sends `request` with the credentials and reads the answer with `read` (given the
    /// credentials to scrub from what Twilio wrote).
    ///
    /// Not an `async fn`: its future holds the request once, inside the HTTP layer's, where an
    /// `async fn` would also keep its argument (and a `?` before an `.await`, a third copy).
    /// A check's whole future then stays under 1 KiB, within glibc's per-thread cache.
    fn exchange<'a, T>(
        &'a self,
        request: HttpRequest,
        read: impl FnOnce(&HttpResponse, &[&str]) -> Result<T> + Send + 'a,
    ) -> impl Future<Output = Result<T>> + Send + 'a {
        let sent = match self.authorized(request) {
            Ok(request) => Either::Left(self.http.execute(request)),
            Err(err) => Either::Right(future::ready(Err(err))),
        };
        sent.map(move |answer| {
            let secrets = [
                self.secrets.0.expose_secret(),
                self.secrets.1.expose_secret(),
            ];
            read(&answer?, &secrets)
        })
    }
}

impl TwilioClient {
    /// `request` with `Authorization: Basic` of the credentials.
    fn authorized(&self, request: HttpRequest) -> Result<HttpRequest> {
        match &self.authorization {
            Some(value) => Ok(request.prepared_header(AUTHORIZATION, value.clone())),
            None => request.basic_auth(self.secrets.0.expose_secret(), &self.secrets.1),
        }
    }
}

/// The largest `PageSize` Twilio takes.
const MAX_PAGE_SIZE: u32 = 1000;

/// Checks a list's `PageSize`, when set: 1 to 1000.
fn check_page_size(page_size: Option<u32>) -> Result<()> {
    if page_size.is_some_and(|size| !(1..=MAX_PAGE_SIZE).contains(&size)) {
        return Err(invalid("PageSize must be between 1 and 1000"));
    }
    Ok(())
}

/// Checks a service's `FriendlyName` (1 to 32 characters, blanks around it not counted) and
/// `CodeLength` (4 to 10), when set.
fn check_service_fields(friendly_name: Option<&str>, code_length: Option<u8>) -> Result<()> {
    if let Some(name) = friendly_name.map(str::trim)
        && (name.is_empty() || name.chars().count() > 32)
    {
        return Err(invalid("FriendlyName must have 1 to 32 characters"));
    }
    if code_length.is_some_and(|n| !(4..=10).contains(&n)) {
        return Err(invalid("CodeLength must be between 4 and 10"));
    }
    Ok(())
}

/// `POST /Services/{ServiceSid}/VerificationCheck`'s URL.
fn check_url(base: &BaseUrl, service_sid: &str) -> Url {
    base.join(&format!("Services/{service_sid}/VerificationCheck"))
}

/// An invalid-input error of this provider.
fn invalid(message: &str) -> Error {
    Error::invalid_input(format!("twilio: {message}")).with_provider(PROVIDER)
}

/// Checks `To`: an e-mail address when `email`, otherwise a number already in E.164 (returned
/// for masked logging).
fn check_to(to: &str, email: bool) -> Result<Option<PhoneNumber>> {
    if to.is_empty() || to.len() > 254 || to.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid("To must be an E.164 number or an e-mail address"));
    }
    if email {
        return match to.split_once('@') {
            Some((local, domain)) if !local.is_empty() && domain.contains('.') => Ok(None),
            _ => Err(invalid(
                "To must be an e-mail address for the email channel",
            )),
        };
    }
    match to.parse::<PhoneNumber>() {
        Ok(phone) if phone.e164() == to => Ok(Some(phone)),
        _ => Err(invalid(
            "To must be a phone number in E.164 form, e.g. +15017122661",
        )),
    }
}

/// Checks a `Locale`: a language tag such as `en`, `pt-BR` or `zh-HK`.
fn check_locale(locale: &str) -> Result<()> {
    let ok = (2..=10).contains(&locale.len())
        && locale.split('-').all(|part| {
            !part.is_empty() && part.len() <= 8 && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if ok {
        Ok(())
    } else {
        Err(invalid("Locale must be a language tag such as en or pt-BR"))
    }
}

/// The most `Tags` a verification takes.
const MAX_TAGS: usize = 10;
/// The longest key or value of a tag, in characters.
const MAX_TAG_CHARS: usize = 128;

/// Checks `Tags` as Twilio documents them: at most 10, each key and value at most 128
/// characters (a value that is not a string counted as its JSON text).
fn check_tags(tags: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
    let too_long = |text: &str| text.chars().count() > MAX_TAG_CHARS;
    let bad = tags.len() > MAX_TAGS
        || tags.iter().any(|(key, value)| {
            too_long(key)
                || match value {
                    serde_json::Value::String(text) => too_long(text),
                    other => too_long(&other.to_string()),
                }
        });
    if bad {
        Err(invalid(
            "Tags holds at most 10 tags, each key and value at most 128 characters",
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use phone_verify_core::ErrorKind;

    use super::*;

    #[test]
    fn to_and_locale_are_checked() {
        assert!(check_to("+15017122661", false).unwrap().is_some());
        for bad in [
            "",
            "15017122661",
            "+1 501 712 2661",
            "+1501712266\n1",
            "user@example.com",
        ] {
            let err = check_to(bad, false).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
        // Numbers the parser reads but that are not written in E.164 are refused too.
        for bad in ["+1-501-712-2661", "+1(501)7122661", "0015017122661"] {
            assert!(PhoneNumber::parse(bad).is_ok(), "{bad}");
            let err = check_to(bad, false).unwrap_err();
            assert!(err.to_string().contains("in E.164 form"), "{bad}: {err}");
        }
        let err = check_to("", false).unwrap_err();
        assert!(
            err.to_string()
                .contains("To must be an E.164 number or an e-mail address"),
            "empty is refused before it is read as a number: {err}"
        );
        assert!(check_to("user@example.com", true).unwrap().is_none());
        assert!(check_to("user@localhost", true).is_err());
        // At most 254 characters, an e-mail address's limit.
        let longest = format!("{}@example.com", "u".repeat(254 - 12));
        assert_eq!(longest.len(), 254);
        assert!(check_to(&longest, true).unwrap().is_none());
        assert!(check_to(&format!("u{longest}"), true).is_err());
        assert!(check_to(&format!("{}{longest}", "u".repeat(100)), true).is_err());
        // No blank or control character, even where the address's shape would pass.
        for bad in [
            "us er@example.com",
            "user@exam\u{7}ple.com",
            "user@example.com\u{2003}",
        ] {
            let err = check_to(bad, true).unwrap_err();
            assert!(
                err.to_string().contains("E.164 number or an e-mail"),
                "{bad:?}: {err}"
            );
        }
        for good in ["en", "pt-BR", "zh-HK", "es-419"] {
            check_locale(good).unwrap();
        }
        for bad in ["e", "en_US", "en-", "x".repeat(11).as_str(), "en US"] {
            assert!(check_locale(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tags_are_checked_as_twilio_documents_them() {
        let tags = |pairs: &[(String, serde_json::Value)]| -> serde_json::Map<_, _> {
            pairs.iter().cloned().collect()
        };
        let ten: Vec<_> = (0..10)
            .map(|n| (format!("k{n}"), serde_json::json!("v")))
            .collect();
        check_tags(&tags(&ten)).unwrap();
        check_tags(&tags(&[
            ("k".repeat(128), serde_json::json!("é".repeat(128))),
            ("n".to_owned(), serde_json::json!(12_345)),
        ]))
        .unwrap();
        let mut eleven = ten.clone();
        eleven.push(("k10".to_owned(), serde_json::json!("v")));
        for bad in [
            eleven,
            vec![("k".repeat(129), serde_json::json!("v"))],
            vec![("k".to_owned(), serde_json::json!("v".repeat(129)))],
            vec![("k".to_owned(), serde_json::json!(vec!["v"; 40]))],
        ] {
            let err = check_tags(&tags(&bad)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn only_page_urls_of_the_clients_own_list_are_followed() {
        let client = TwilioBuilder::new("AC0123456789abcdef0123456789abcdef", "canary")
            .build_client()
            .unwrap();
        let good = "https://verify.twilio.com/v2/Services?PageSize=2&Page=1&PageToken=PAVAa";
        assert_eq!(client.page_url(good, SERVICES).unwrap().as_str(), good);
        // The default port written out is the same origin.
        client
            .page_url("https://verify.twilio.com:443/v2/Services?Page=1", SERVICES)
            .unwrap();
        for bad in [
            "https://evil.example/v2/Services?PageSize=2&Page=1",
            "https://verify.twilio.com.evil.example/v2/Services",
            "http://verify.twilio.com/v2/Services",
            "https://verify.twilio.com:8443/v2/Services",
            "https://user:canary-stolen@verify.twilio.com/v2/Services",
            "https://verify.twilio.com/v2/Services/VA0123456789abcdef0123456789abcdef",
            "https://verify.twilio.com/v1/Services",
            "https://verify.twilio.com/v2/Services#x",
            "/v2/Services?Page=1",
            "",
        ] {
            let err = client.page_url(bad, SERVICES).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
            assert!(!err.to_string().contains("evil"), "{bad}: {err}");
            assert!(!err.to_string().contains("canary"), "{bad}: {err}");
        }
    }

    #[test]
    fn service_fields_are_checked_when_set() {
        check_service_fields(None, None).unwrap();
        check_service_fields(Some(" x "), Some(4)).unwrap();
        check_service_fields(Some(&"Ş".repeat(32)), Some(10)).unwrap();
        for (name, length) in [
            (Some(""), None),
            (Some("  "), None),
            (Some(&*"x".repeat(33)), None),
            (None, Some(3)),
            (None, Some(11)),
        ] {
            let err = check_service_fields(name, length).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name:?} {length:?}");
        }
    }

    #[test]
    fn the_authorization_is_basic_and_never_shown() {
        let client = TwilioBuilder::new("AC0123456789abcdef0123456789abcdef", "canary")
            .build_client()
            .unwrap();
        let request = HttpRequest::get(FETCH_VERIFICATION, client.base_url.join("x"));
        let request = client.authorized(request).unwrap();
        assert_eq!(
            request.header_value("authorization").unwrap(),
            format!(
                "Basic {}",
                BASE64.encode("AC0123456789abcdef0123456789abcdef:canary")
            )
        );
        assert!(!format!("{client:?}").contains("canary"));
        assert!(!format!("{client:?}").contains("Basic"));
    }
}
