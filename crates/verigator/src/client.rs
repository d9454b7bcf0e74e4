//! [`VerigatorClient`]: a typed client of the nine Verigator endpoints, on the kit's HTTP
//! layer; [`VerigatorBuilder::build_client`] makes one.

pub(crate) mod lookup;

use std::collections::HashMap;
use std::fmt;
use std::future::{Future as _, poll_fn};
use std::pin::pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::Poll;
use std::time::Instant;

use phone_verify_core::kit::{BaseUrl, HttpClient, HttpRequest, Operation, secret_header_value};
use phone_verify_core::reqwest::Url;
use phone_verify_core::reqwest::header::{HeaderName, HeaderValue};
use phone_verify_core::secrecy::{ExposeSecret, SecretString};
use phone_verify_core::{Code, Error, ErrorKind, PhoneNumber, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::config::{
    PROVIDER, VerigatorBuilder, VerigatorConfig, check_id, check_id_in_service, invalid,
};
use crate::errors;
use crate::wire::{
    AuthMethod, AuthStarted, CreateServiceBody, CreateUserBody, PinVerification, Service,
    StartAuthBody, User, UserList, VerifyPinBody,
};

pub(crate) const CREATE_SERVICE: Operation = Operation::write("create-service");
pub(crate) const GET_SERVICE: Operation = Operation::read("get-service");
pub(crate) const DELETE_SERVICE: Operation = Operation::write("delete-service");
pub(crate) const CREATE_USER: Operation = Operation::write("create-user");
pub(crate) const LIST_USERS: Operation = Operation::read("list-users");
pub(crate) const FIND_USER: Operation = Operation::read("find-user");
pub(crate) const GET_USER: Operation = Operation::read("get-user");
pub(crate) const DELETE_USER: Operation = Operation::write("delete-user");
pub(crate) const START_AUTH: Operation = Operation::send("start-auth");
pub(crate) const VERIFY_PIN: Operation = Operation::consume("verify-pin");

/// The most bytes of a user list [`VerigatorClient::find_user`] reads: 256 MiB, some three
/// million users at about 90 bytes each. It bounds what a misbehaving server can make the
/// client read; memory stays constant below it.
pub const MAX_USER_LIST_BYTES: u64 = 256 * 1024 * 1024;

/// The most user-list scans ([`VerigatorClient::find_user`]) a client (with its clones) runs
/// at once: 8. Each holds a thread of Tokio's blocking pool while it decodes the list, and
/// that pool also resolves host names for every request; a further scan, once its answer's
/// head has arrived, waits for one to end, until its request's overall timeout (then
/// [`ErrorKind::ProviderUnavailable`]).
pub const MAX_CONCURRENT_SCANS: usize = 8;

/// How an [`HttpRequest`] of a method is made: `HttpRequest::get`, `post`, `put`, `delete`.
type Method = fn(Operation, reqwest::Url) -> HttpRequest;

/// `service/service`: the path of the services, under the base URL.
const SERVICES: [&str; 2] = ["service", "service"];
/// The header Verigator authenticates with: `username:password`, plain text.
const AUTH_HEADER: &str = "x-service-auth";
/// [`AUTH_HEADER`] as a header name, built at compile time.
const AUTH_HEADER_NAME: HeaderName = HeaderName::from_static(AUTH_HEADER);
/// The longest service name or FQDN accepted.
const MAX_SERVICE_FIELD_LEN: usize = 253;

/// A typed client of every Verigator endpoint. Cheap to clone (the connection pool is
/// shared); `Debug` never shows the credentials.
///
/// | method | endpoint | operation |
/// |---|---|---|
/// | [`create_service`](Self::create_service) | `POST /service/service` | write |
/// | [`get_service`](Self::get_service) | `GET /service/service/{ServiceId}` | read |
/// | [`delete_service`](Self::delete_service) | `DELETE /service/service/{ServiceId}` | write |
/// | [`create_user`](Self::create_user) | `POST /service/service/{ServiceId}/users` | write |
/// | [`list_users`](Self::list_users) | `GET /service/service/{ServiceId}/users` | read |
/// | [`find_user`](Self::find_user) | `GET /service/service/{ServiceId}/users`, streamed | read |
/// | [`get_user`](Self::get_user) | `GET /service/service/{ServiceId}/users/{UserId}` | read |
/// | [`delete_user`](Self::delete_user) | `DELETE /service/service/{ServiceId}/users/{UserId}` | write |
/// | [`start_auth`](Self::start_auth) | `POST /service/service/{ServiceId}/users/{UserId}/auth` | send |
/// | [`verify_pin`](Self::verify_pin) | `PUT /service/service/{ServiceId}/users/{UserId}/auth` | consume |
///
/// Every request carries `X-Service-Auth: <username>:<password>`, as the official SDKs send
/// it, marked sensitive and never logged. Reads are retried on transient failures; writes are
/// not; starting an authentication (it sends an SMS) is never retried and fails with
/// [`ErrorKind::MaybeSent`](phone_verify_core::ErrorKind::MaybeSent) when its outcome is
/// unknown. Any 2xx is a success. Inputs are checked before anything is sent: ids must be 1 to
/// 128 ASCII letters, digits, `-` or `_`, and a malformed input fails with
/// [`ErrorKind::InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) and no request.
#[derive(Clone)]
pub struct VerigatorClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    base: BaseUrl,
    /// Each service's `{base}/service/service/{ServiceId}/users/`, joined the first time it is
    /// used (at most [`MAX_USERS_URLS`] kept): an authentication's URL is then the user's
    /// segments joined to it. Read under a shared lock, so concurrent checks never wait for each
    /// other.
    users_urls: RwLock<HashMap<Box<str>, BaseUrl>>,
    /// The user-list scans running: at most [`MAX_CONCURRENT_SCANS`].
    scans: Semaphore,
    /// `username:password`.
    service_auth: SecretString,
    /// `service_auth` as a sensitive header value, built once (`None`: characters a header
    /// cannot carry, refused on every request before anything is sent).
    auth_value: Option<HeaderValue>,
    username: SecretString,
    password: SecretString,
}

impl fmt::Debug for VerigatorClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerigatorClient")
            .field("base_url", &self.inner.base)
            .field("http", &self.inner.http)
            .finish_non_exhaustive()
    }
}

impl VerigatorBuilder {
    /// Builds the typed client of every endpoint (no service id needed).
    pub fn build_client(&self) -> Result<VerigatorClient> {
        VerigatorClient::new(self.config()?)
    }
}

impl VerigatorClient {
    /// A client of `config`: on the application's `reqwest::Client` if its HTTP settings hold
    /// one, otherwise with a connection pool of its own. The configuration is checked as
    /// [`VerigatorBuilder::config`] checks it (its fields are public, so they may have changed
    /// since): a username with `:`, an empty credential or a malformed service id fails with
    /// [`ErrorKind::InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) before any
    /// request.
    pub fn new(config: VerigatorConfig) -> Result<Self> {
        config.validate()?;
        let http = config.http.client(PROVIDER)?;
        // `user:password` in a buffer of its exact length: it never grows (a growth would leave
        // a copy behind), and becomes the secret without another copy.
        let (user, password) = (
            config.username.expose_secret(),
            config.password.expose_secret(),
        );
        let mut pair = String::with_capacity(user.len() + 1 + password.len());
        pair.push_str(user);
        pair.push(':');
        pair.push_str(password);
        let service_auth = SecretString::from(pair);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base: config.base_url,
                users_urls: RwLock::default(),
                scans: Semaphore::new(MAX_CONCURRENT_SCANS),
                auth_value: secret_header_value(AUTH_HEADER, &service_auth).ok(),
                service_auth,
                username: config.username,
                password: config.password,
            }),
        })
    }

    /// The base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.inner.base
    }

    /// `POST /service/service`: registers a service. `fqdn` is its domain (e.g.
    /// `coffeeshop.com`), `name` the issuer shown in the Verigator app. Verigator answers 409
    /// ([`ErrorKind::Conflict`](phone_verify_core::ErrorKind::Conflict)) when the service
    /// exists.
    pub async fn create_service(&self, fqdn: &str, name: &str) -> Result<Service> {
        let body = CreateServiceBody {
            fqdn: service_field("fqdn", fqdn)?,
            name: service_field("name", name)?,
        };
        let url = self.url(&SERVICES)?;
        self.send_json(CREATE_SERVICE, HttpRequest::post, url, &body, None)
            .await
    }

    /// `GET /service/service/{ServiceId}`.
    pub async fn get_service(&self, service_id: &str) -> Result<Service> {
        self.get(GET_SERVICE, self.service_url(service_id)?).await
    }

    /// `DELETE /service/service/{ServiceId}`: deletes the service and its users.
    pub async fn delete_service(&self, service_id: &str) -> Result<()> {
        self.delete(DELETE_SERVICE, self.service_url(service_id)?)
            .await
    }

    /// `POST /service/service/{ServiceId}/users`: registers a user with `id_in_service` (a
    /// username, e-mail address or, as [`Verigator`](crate::Verigator) does, the phone) and
    /// the phone Verigator sends PINs to. Verigator answers 409
    /// ([`ErrorKind::Conflict`](phone_verify_core::ErrorKind::Conflict)) when a user with that
    /// `id_in_service` exists.
    pub async fn create_user(
        &self,
        service_id: &str,
        id_in_service: &str,
        phone: &PhoneNumber,
    ) -> Result<User> {
        let url = self.users_url(service_id)?;
        check_id_in_service(id_in_service)?;
        let body = CreateUserBody {
            id_in_service,
            phone_number: phone.e164(),
        };
        self.send_json(CREATE_USER, HttpRequest::post, url, &body, Some(phone))
            .await
    }

    /// `GET /service/service/{ServiceId}/users`: every user of the service, held in memory.
    /// The answer is subject to the HTTP layer's response-size cap (1 MiB by default, about
    /// 10,000 users): to find one user in a large service use [`find_user`](Self::find_user).
    pub async fn list_users(&self, service_id: &str) -> Result<UserList> {
        self.get(LIST_USERS, self.users_url(service_id)?).await
    }

    /// The user registered with `id_in_service`, if any: `GET /service/service/{ServiceId}/users`
    /// (Verigator has no search), its answer streamed and scanned user by user, so memory
    /// stays constant and no response-size cap applies (the body is bounded by
    /// [`MAX_USER_LIST_BYTES`] and the timeouts). Stops reading at the match, and a failure
    /// reading the body after it does not lose it. Time is linear in the number of users
    /// before it.
    ///
    /// Each listed user is read for its `id` and `id_in_service` only: other fields (`ctime`)
    /// are skipped, so the user found has no `ctime`, and a user with unexpected fields does
    /// not hide the others. Only the match's id must be one a URL can take (else `Decode`).
    ///
    /// A client (with its clones) runs at most [`MAX_CONCURRENT_SCANS`] scans at once, since
    /// each holds a thread of Tokio's blocking pool while it decodes; a further scan, once its
    /// answer's head has arrived, waits for one to end, within the request's overall timeout
    /// (counted from the request's start), and fails with
    /// [`ErrorKind::ProviderUnavailable`] when none ended in time.
    pub async fn find_user(&self, service_id: &str, id_in_service: &str) -> Result<Option<User>> {
        let url = self.users_url(service_id)?;
        check_id_in_service(id_in_service)?;
        let request = self.request(FIND_USER, HttpRequest::get, url)?;
        let started = Instant::now();
        let stream = self
            .inner
            .http
            .execute_streamed(request, Some(MAX_USER_LIST_BYTES))
            .await?;
        if !stream.is_success() {
            let response = stream.into_response().await?;
            return Err(errors::provider_error(&response, &self.secrets()));
        }
        // The decode is what the permit protects: held from here until the scan ends.
        let _scan = self.scan_permit(started).await?;
        lookup::find_user(stream, id_in_service, &self.secrets()).await
    }

    /// A permit to scan a user list, waited for until the overall deadline of the request that
    /// `started` then (on the HTTP settings' clock), else [`ErrorKind::ProviderUnavailable`].
    /// No wait, and no timer, when a permit is free.
    async fn scan_permit(&self, started: Instant) -> Result<SemaphorePermit<'_>> {
        let scans = &self.inner.scans;
        if let Ok(permit) = scans.try_acquire() {
            return Ok(permit);
        }
        let config = self.inner.http.config();
        let overall = config.timeouts.overall;
        let mut acquire = pin!(scans.acquire());
        let mut deadline = config
            .clock()
            .sleep(overall.saturating_sub(started.elapsed()));
        // The semaphore is never closed: acquiring ends only with a permit.
        let permit = poll_fn(|cx| match acquire.as_mut().poll(cx) {
            Poll::Ready(permit) => Poll::Ready(permit.ok()),
            Poll::Pending => deadline.as_mut().poll(cx).map(|()| None),
        })
        .await;
        permit.ok_or_else(|| {
            Error::new(
                ErrorKind::ProviderUnavailable,
                format!(
                    "list-users: no user-list scan came free within the overall timeout \
                     ({}s; a client runs at most {MAX_CONCURRENT_SCANS} at once)",
                    overall.as_secs_f64()
                ),
            )
            .with_provider(PROVIDER)
        })
    }

    /// `GET /service/service/{ServiceId}/users/{UserId}`.
    pub async fn get_user(&self, service_id: &str, user_id: &str) -> Result<User> {
        self.get(GET_USER, self.user_url(service_id, user_id)?)
            .await
    }

    /// `DELETE /service/service/{ServiceId}/users/{UserId}`.
    pub async fn delete_user(&self, service_id: &str, user_id: &str) -> Result<()> {
        self.delete(DELETE_USER, self.user_url(service_id, user_id)?)
            .await
    }

    /// `POST /service/service/{ServiceId}/users/{UserId}/auth`: starts an authentication (a
    /// send: never retried). With [`AuthMethod::Totp`], Verigator falls back to SMS for a user
    /// without the authenticator app; [`AuthStarted::method`] says which method it used.
    pub async fn start_auth(
        &self,
        service_id: &str,
        user_id: &str,
        method: AuthMethod,
    ) -> Result<AuthStarted> {
        self.start_auth_for(service_id, user_id, method, None).await
    }

    /// [`start_auth`](Self::start_auth), naming the phone for masked logging.
    pub(crate) async fn start_auth_for(
        &self,
        service_id: &str,
        user_id: &str,
        method: AuthMethod,
        phone: Option<&PhoneNumber>,
    ) -> Result<AuthStarted> {
        let url = self.auth_url(service_id, user_id)?;
        let body = StartAuthBody { method };
        self.send_json(START_AUTH, HttpRequest::post, url, &body, phone)
            .await
    }

    /// `PUT /service/service/{ServiceId}/users/{UserId}/auth`: checks the PIN the user typed
    /// (`token`). `method`, when given, is sent too, as Verigator's documentation lists it; the
    /// official SDKs send the token alone.
    ///
    /// A wrong, expired or throttled PIN is not an error: Verigator answers 200 with
    /// [`PinVerification::verified`] false and the reason in [`PinVerification::status`]. A
    /// user without a pending authentication (none started, or its PIN already verified) is a
    /// 404 ([`ErrorKind::NotFound`](phone_verify_core::ErrorKind::NotFound)), with provider
    /// code `404` when Verigator wrote it (no body or a JSON object) and none otherwise.
    pub async fn verify_pin(
        &self,
        service_id: &str,
        user_id: &str,
        token: &Code,
        method: Option<AuthMethod>,
    ) -> Result<PinVerification> {
        let url = self.auth_url(service_id, user_id)?;
        let body = VerifyPinBody {
            token: token.expose(),
            method,
        };
        self.send_json(VERIFY_PIN, HttpRequest::put, url, &body, None)
            .await
    }

    /// The URL of `service/service/{ServiceId}/users/{UserId}/auth` (the path of every PIN
    /// sent and checked), the ids checked first: the user's segments joined to the service's
    /// users' URL, kept per service (`Inner::users_urls`).
    fn auth_url(&self, service_id: &str, user_id: &str) -> Result<Url> {
        let user = check_id("user id", user_id)?;
        let service = check_id("service id", service_id)?;
        let segments = [user, "auth"];
        let urls = &self.inner.users_urls;
        if let Some(users) = urls
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(service)
        {
            return users.join_segments(&segments).map_err(url_error);
        }
        let users = BaseUrl::parse(self.users_url(service)?.as_str()).map_err(url_error)?;
        let url = users.join_segments(&segments).map_err(url_error)?;
        let mut urls = urls.write().unwrap_or_else(PoisonError::into_inner);
        if urls.len() >= MAX_USERS_URLS {
            urls.clear();
        }
        urls.insert(service.into(), users);
        Ok(url)
    }

    /// The URL of `segments` (checked ids and fixed names) under the base URL.
    fn url(&self, segments: &[&str]) -> Result<Url> {
        self.inner.base.join_segments(segments).map_err(url_error)
    }

    /// `{base}/service/service/{ServiceId}`, the id checked first.
    fn service_url(&self, service_id: &str) -> Result<Url> {
        let service = check_id("service id", service_id)?;
        self.url(&[SERVICES[0], SERVICES[1], service])
    }

    /// `{base}/service/service/{ServiceId}/users`, the id checked first.
    fn users_url(&self, service_id: &str) -> Result<Url> {
        let service = check_id("service id", service_id)?;
        self.url(&[SERVICES[0], SERVICES[1], service, "users"])
    }

    /// `{base}/service/service/{ServiceId}/users/{UserId}`, the user id checked first.
    fn user_url(&self, service_id: &str, user_id: &str) -> Result<Url> {
        let user = check_id("user id", user_id)?;
        let service = check_id("service id", service_id)?;
        self.url(&[SERVICES[0], SERVICES[1], service, "users", user])
    }

    /// A request of `operation` to `url`, authenticated.
    fn request(&self, operation: Operation, method: Method, url: Url) -> Result<HttpRequest> {
        let request = method(operation, url);
        match &self.inner.auth_value {
            Some(value) => Ok(request.prepared_header(AUTH_HEADER_NAME, value.clone())),
            None => request.secret_header(AUTH_HEADER, &self.inner.service_auth),
        }
    }

    /// `GET url`, its answer decoded.
    async fn get<T: DeserializeOwned>(&self, operation: Operation, url: Url) -> Result<T> {
        let request = self.request(operation, HttpRequest::get, url)?;
        self.call(request).await
    }

    /// `DELETE url`; any 2xx is a success, its body ignored.
    async fn delete(&self, operation: Operation, url: Url) -> Result<()> {
        let request = self.request(operation, HttpRequest::delete, url)?;
        let response = self.inner.http.execute(request).await?;
        errors::answer_without_body(&response, &self.secrets())
    }

    /// `POST` or `PUT` of the JSON `body` to `url`, its answer decoded; `phone`, when given, is
    /// named (masked) in the logs.
    async fn send_json<T: DeserializeOwned>(
        &self,
        operation: Operation,
        method: Method,
        url: Url,
        body: &impl Serialize,
        phone: Option<&PhoneNumber>,
    ) -> Result<T> {
        let mut request = self.request(operation, method, url)?.json(body)?;
        if let Some(phone) = phone {
            request = request.phone(phone);
        }
        // Executed here rather than through `call`: one future less to build and move.
        let response = self.inner.http.execute(request).await?;
        errors::answer(&response, &self.secrets())
    }

    /// Runs `request`: the decoded body of a 2xx answer, or the error the answer stands for.
    async fn call<T: DeserializeOwned>(&self, request: HttpRequest) -> Result<T> {
        let response = self.inner.http.execute(request).await?;
        let secrets = self.secrets();
        errors::answer(&response, &secrets)
    }

    /// What must never be echoed back in an error.
    fn secrets(&self) -> [&str; 3] {
        [
            self.inner.service_auth.expose_secret(),
            self.inner.username.expose_secret(),
            self.inner.password.expose_secret(),
        ]
    }
}

/// How many services' users URLs a client keeps (emptied when full).
const MAX_USERS_URLS: usize = 64;

/// A URL that could not be joined (never with checked ids).
fn url_error(error: impl fmt::Display) -> phone_verify_core::Error {
    invalid(format!("a Verigator URL could not be built: {error}"))
}

fn service_field<'a>(what: &str, value: &'a str) -> Result<&'a str> {
    let trimmed = value.trim();
    if trimmed.is_empty()
        || trimmed.len() > MAX_SERVICE_FIELD_LEN
        || trimmed.chars().any(char::is_control)
    {
        return Err(invalid(format!(
            "a Verigator service {what} must be 1 to {MAX_SERVICE_FIELD_LEN} bytes without \
             control characters"
        )));
    }
    Ok(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The services' path, as text.
    const SERVICES_PATH: &str = "service/service";

    #[test]
    fn auth_urls_are_the_joined_paths() {
        let ids = [
            "s-1",
            "u_2",
            "0",
            "-",
            "_",
            "a",
            "2a3f0b9e-5d1c-4e8a-9f00-1b2c3d4e5f60",
            "ABCxyz_09-",
        ];
        for base in [
            "https://api.verigator.com/v1",
            "https://api.verigator.com/v1/",
            "https://api.verigator.com",
            "http://127.0.0.1:8025/verigator/v1",
            "http://localhost:9/a%20b/",
        ] {
            let client = VerigatorBuilder::new("user", "password")
                .base_url(base)
                .build_client()
                .unwrap();
            let base = client.base_url();
            for service in ids {
                for user in ids {
                    let url = client.auth_url(service, user).unwrap();
                    let path = format!("{SERVICES_PATH}/{service}/users/{user}/auth");
                    assert_eq!(url, base.join(&path), "{base} {service} {user}");
                }
            }
            // A kept service URL is reused only for that service.
            for (service, user) in [("s-1", "u"), ("s-2", "u"), ("s-1", "v"), ("s-1", "v")] {
                let path = format!("{SERVICES_PATH}/{service}/users/{user}/auth");
                assert_eq!(client.auth_url(service, user).unwrap(), base.join(&path));
            }
            let long = "a".repeat(crate::MAX_ID_LEN);
            assert!(client.auth_url(&long, &long).is_ok());
            for bad in [
                "", "a/b", "..", ".", "a?b", "a#b", "é", "a:b", "a%2F", "a b", "a\\b",
            ] {
                assert!(client.auth_url(bad, "u").is_err(), "{bad:?}");
                assert!(client.auth_url("s", bad).is_err(), "{bad:?}");
            }
            assert!(client.auth_url(&format!("{long}a"), "u").is_err());
            // Past the bound the kept URLs are dropped and joined again, still right.
            // Each new service is kept until the bound, which then starts over.
            for n in 0..(MAX_USERS_URLS * 2 + 3) {
                let before = client.inner.users_urls.read().unwrap().len();
                let service = format!("s{n}");
                let path = format!("{SERVICES_PATH}/{service}/users/u/auth");
                assert_eq!(client.auth_url(&service, "u").unwrap(), base.join(&path));
                let kept = client.inner.users_urls.read().unwrap().len();
                let expected = if before < MAX_USERS_URLS {
                    before + 1
                } else {
                    1
                };
                assert_eq!(kept, expected, "{n}");
            }
        }
    }

    #[test]
    fn paths_are_checked() {
        let client = VerigatorBuilder::new("user", "password")
            .base_url("https://api.verigator.com/v1")
            .build_client()
            .unwrap();
        let url = |url: Result<Url>| url.unwrap().to_string();
        let base = "https://api.verigator.com/v1/service/service";
        assert_eq!(url(client.url(&SERVICES)), base);
        assert_eq!(url(client.service_url("s-1")), format!("{base}/s-1"));
        assert_eq!(
            url(client.user_url("s-1", "u_2")),
            format!("{base}/s-1/users/u_2")
        );
        assert_eq!(url(client.users_url("s-1")), format!("{base}/s-1/users"));
        for bad in ["", "a/b", "..", "a?b", "a#b", "é"] {
            assert!(client.service_url(bad).is_err(), "{bad:?}");
            assert!(client.users_url(bad).is_err(), "{bad:?}");
            assert!(client.user_url("s", bad).is_err(), "{bad:?}");
            assert!(client.user_url(bad, "u").is_err(), "{bad:?}");
        }
        assert_eq!(service_field("name", " Coffee ").unwrap(), "Coffee");
        assert!(service_field("name", " ").is_err());
        assert!(service_field("fqdn", "a\tb").is_err());
        assert!(service_field("fqdn", &"a".repeat(254)).is_err());
        let longest = "a".repeat(MAX_SERVICE_FIELD_LEN);
        assert_eq!(service_field("fqdn", &longest).unwrap(), longest);
    }
}
