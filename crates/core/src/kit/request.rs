//! [`Operation`] and [`HttpRequest`]: what a provider crate asks the HTTP layer to send.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use url::Url;

use super::header_list::HeaderList;
use crate::error::{Error, ErrorKind, Result};
use crate::phone::PhoneNumber;

/// The target of the HTTP layer's `phone_verify.http` span (the module that creates it).
pub(crate) const SPAN_TARGET: &str = "phone_verify_core::kit::client";

/// Whether an operation may be repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperationKind {
    /// Reads or checks provider state (checks, lookups, polls): retried on transient failures.
    Read,
    /// Sends a message to a person: never retried; an unknown outcome (a timeout or a
    /// connection lost after the request left, a server error other than a 503 with
    /// `Retry-After`) is [`ErrorKind::MaybeSent`].
    Send,
    /// Changes provider state without sending anything (create a user, blacklist a number):
    /// never retried.
    Write,
    /// Checks a one-time code, which the provider consumes (or counts as an attempt): retried
    /// only when the request surely never reached the provider (the connection was never made:
    /// DNS, TCP connect, TLS handshake) or the provider answered before processing it (429, or
    /// 503 with `Retry-After`). A timeout or a connection lost after the request left, and any
    /// other server error (a plain 503 included: a proxy answers it after forwarding the
    /// request), are [`ErrorKind::OutcomeUnknown`]: a blind retry could turn a success into a
    /// rejection, because the first attempt already used the code.
    Consume,
}

/// A named provider operation, e.g. `Operation::send("send-otp")`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The name used in logs and traces.
    pub name: &'static str,
    /// Whether it may be repeated.
    pub kind: OperationKind,
}

impl Operation {
    /// A safe, retried operation.
    pub const fn read(name: &'static str) -> Self {
        Self {
            name,
            kind: OperationKind::Read,
        }
    }

    /// An operation that sends a message: never retried.
    pub const fn send(name: &'static str) -> Self {
        Self {
            name,
            kind: OperationKind::Send,
        }
    }

    /// An operation that changes state: never retried.
    pub const fn write(name: &'static str) -> Self {
        Self {
            name,
            kind: OperationKind::Write,
        }
    }

    /// A code check that consumes the code: retried only when the request surely never
    /// reached the provider or was refused before processing (see [`OperationKind::Consume`]).
    pub const fn consume(name: &'static str) -> Self {
        Self {
            name,
            kind: OperationKind::Consume,
        }
    }

    /// Whether the HTTP layer may retry it after any transient failure (reads only; a
    /// [`consume`](Self::consume) is retried only in the narrower cases its kind documents).
    pub fn is_retryable(self) -> bool {
        self.kind == OperationKind::Read
    }
}

/// One request to a provider. `Debug` shows the operation, method, host and path only: never
/// the body, query or sensitive headers.
///
/// ```
/// use phone_verify_core::kit::{BaseUrl, HttpRequest, Operation};
/// use secrecy::SecretString;
///
/// let base = BaseUrl::parse("https://web-rest.verifykit.com/v1.0")?;
/// let key = SecretString::from("canary-key");
/// let request = HttpRequest::post(Operation::send("send-otp"), base.join("send-otp"))
///     .secret_header("x-vfk-server-key", &key)?
///     .json(&serde_json::json!({"phoneNumber": "+905321234567"}))?;
/// assert!(!format!("{request:?}").contains("canary"));
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone)]
pub struct HttpRequest {
    pub(crate) operation: Operation,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderList,
    pub(crate) body: Option<Bytes>,
    pub(crate) phone: Option<MaskedPhone>,
}

/// The phone number a request concerns, kept inline (a [`PhoneNumber`] does not allocate)
/// and masked only when shown (a span that records it, or `Debug`): most requests are never
/// logged.
#[derive(Clone)]
pub(crate) struct MaskedPhone(PhoneNumber);

impl fmt::Display for MaskedPhone {
    /// The masked form, as [`PhoneNumber::masked`] writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_masked(f)
    }
}

impl fmt::Debug for MaskedPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl HttpRequest {
    /// A request with any method (and `Accept: application/json`).
    pub fn new(operation: Operation, method: Method, url: Url) -> Self {
        let mut headers = HeaderList::default();
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        Self {
            operation,
            method,
            url,
            headers,
            body: None,
            phone: None,
        }
    }

    /// A `GET` request.
    pub fn get(operation: Operation, url: Url) -> Self {
        Self::new(operation, Method::GET, url)
    }

    /// A `POST` request.
    pub fn post(operation: Operation, url: Url) -> Self {
        Self::new(operation, Method::POST, url)
    }

    /// A `PUT` request.
    pub fn put(operation: Operation, url: Url) -> Self {
        Self::new(operation, Method::PUT, url)
    }

    /// A `DELETE` request.
    pub fn delete(operation: Operation, url: Url) -> Self {
        Self::new(operation, Method::DELETE, url)
    }

    /// Adds a header. Its name is sent lowercase (`X-Api-Key` as `x-api-key`); a name or value
    /// no header can have is [`ErrorKind::InvalidInput`].
    pub fn header(mut self, name: &'static str, value: &str) -> Result<Self> {
        let value = HeaderValue::from_str(value).map_err(|_| {
            Error::invalid_input(format!("header {name} has a value that cannot be sent"))
        })?;
        self.headers.insert(header_name(name)?, value);
        Ok(self)
    }

    /// Adds a header whose value is a secret: it is marked sensitive and never shown. Its name
    /// is taken as by [`header`](Self::header).
    pub fn secret_header(mut self, name: &'static str, value: &SecretString) -> Result<Self> {
        let value = secret_header_value(name, value)?;
        self.headers.insert(header_name(name)?, value);
        Ok(self)
    }

    /// Adds a header prepared once (by a client, for every request it sends), such as an
    /// `Authorization` value from [`secret_header_value`]: no parsing or copying of the text
    /// per request. Mark credentials sensitive when preparing them.
    #[must_use]
    pub fn prepared_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Adds `Authorization: Bearer <token>`, marked sensitive.
    pub fn bearer(self, token: &SecretString) -> Result<Self> {
        let value = joined_secret(&[b"Bearer ", token.expose_secret().as_bytes()]);
        let value = sensitive_header_value("authorization", &value)?;
        Ok(self.prepared_header(reqwest::header::AUTHORIZATION, value))
    }

    /// Adds `Authorization: Basic <base64 of user:password>` (RFC 7617), marked sensitive.
    /// A `user` containing `:` cannot be told apart from the password and is refused.
    ///
    /// ```
    /// use phone_verify_core::kit::{BaseUrl, HttpRequest, Operation};
    /// use secrecy::SecretString;
    ///
    /// let url = BaseUrl::parse("https://verify.twilio.com/v2")?.join("Services");
    /// let request = HttpRequest::get(Operation::read("list"), url)
    ///     .basic_auth("AC123", &SecretString::from("canary"))?;
    /// assert!(!format!("{request:?}").contains("canary"));
    /// # Ok::<(), phone_verify_core::Error>(())
    /// ```
    pub fn basic_auth(self, user: &str, password: &SecretString) -> Result<Self> {
        let value = basic_auth_value(user, password)?;
        Ok(self.prepared_header(reqwest::header::AUTHORIZATION, value))
    }

    /// Adds a query parameter.
    #[must_use]
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.url.query_pairs_mut().append_pair(name, value);
        self
    }

    /// Sets a JSON body (and `Content-Type: application/json`).
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            Error::new(ErrorKind::InvalidInput, "request body cannot be encoded").with_source(e)
        })?;
        self.body = Some(Bytes::from(bytes));
        self.headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(self)
    }

    /// Sets an `application/x-www-form-urlencoded` body of `pairs`, in order (a key may
    /// repeat), and that `Content-Type`.
    ///
    /// ```
    /// use phone_verify_core::kit::{BaseUrl, HttpRequest, Operation};
    ///
    /// let base = BaseUrl::parse("https://verify.twilio.com/v2")?;
    /// let request = HttpRequest::post(Operation::send("create-verification"), base.join("x"))
    ///     .form([("To", "+15017122661"), ("Channel", "sms")]);
    /// assert_eq!(request.body(), Some(&b"To=%2B15017122661&Channel=sms"[..]));
    /// # Ok::<(), phone_verify_core::Error>(())
    /// ```
    #[must_use]
    pub fn form<'a>(mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body = Some(Bytes::from(body.into_bytes()));
        self.headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self
    }

    /// Names the phone number concerned, for masked logging (masked only if a span records
    /// it: nothing is allocated here).
    #[must_use]
    pub fn phone(mut self, phone: &PhoneNumber) -> Self {
        self.phone = Some(MaskedPhone(phone.clone()));
        self
    }

    /// Names the phone number concerned like [`phone`](Self::phone), where finding it costs
    /// work (parsing a number from a provider's own form): `phone` is called only when a
    /// tracing subscriber records the request's span.
    #[must_use]
    pub fn phone_with(self, phone: impl FnOnce() -> Option<PhoneNumber>) -> Self {
        if tracing::span_enabled!(target: SPAN_TARGET, tracing::Level::DEBUG)
            && let Some(number) = phone()
        {
            return self.phone(&number);
        }
        self
    }

    /// The operation.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The body, if one was set.
    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }

    /// A header's value as text (a secret header too: for tests of request building).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("operation", &self.operation.name)
            .field("method", &self.method)
            .field("host", &self.url.host_str())
            .field("path", &self.url.path())
            .field("phone", &self.phone)
            .finish_non_exhaustive()
    }
}

/// `name` as a header name: a valid lowercase name (the usual case) as it is, without a copy
/// (`HeaderName::from_static`, which panics on any other); any other through
/// `HeaderName::from_bytes`, which lowercases it, or [`ErrorKind::InvalidInput`] for a name no
/// header can have (blank, a space in it).
fn header_name(name: &'static str) -> Result<HeaderName> {
    let lowercase = |b: u8| {
        matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'!' | b'#' | b'$' | b'%' | b'&' | b'\''
            | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
    };
    if !name.is_empty() && u16::try_from(name.len()).is_ok() && name.bytes().all(lowercase) {
        return Ok(HeaderName::from_static(name));
    }
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::invalid_input(format!("{name:?} is not a valid header name")))
}

/// A header value holding a secret, marked sensitive (never shown by `Debug`), for
/// [`HttpRequest::prepared_header`]: built once per client instead of once per request.
///
/// ```
/// use phone_verify_core::kit::secret_header_value;
/// use secrecy::SecretString;
///
/// let value = secret_header_value("authorization", &SecretString::from("Bearer canary"))?;
/// assert!(value.is_sensitive());
/// assert!(!format!("{value:?}").contains("canary"));
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
pub fn secret_header_value(name: &str, value: &SecretString) -> Result<HeaderValue> {
    sensitive_header_value(name, value.expose_secret().as_bytes())
}

/// `value` as the value of header `name`, marked sensitive; an error names the header, never
/// the value.
fn sensitive_header_value(name: &str, value: &[u8]) -> Result<HeaderValue> {
    let mut value = HeaderValue::from_bytes(value).map_err(|_| {
        Error::invalid_input(format!(
            "credential for header {name} has invalid characters"
        ))
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Whether `text` can be sent as a header value, checked in place without a copy: by `http`'s
/// rule, tabs and visible or non-ASCII bytes only (no other control character, no DEL). For a
/// credential checked long before its header is built.
///
/// ```
/// use phone_verify_core::kit::fits_header;
///
/// assert!(fits_header("k-123 \t é"));
/// assert!(!fits_header("line\nbreak"));
/// ```
pub fn fits_header(text: &str) -> bool {
    text.bytes().all(header_byte)
}

/// Whether `b` may stand in a header value: a tab, or a visible or non-ASCII byte (not DEL).
fn header_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// `parts` joined in a buffer of their full length, so that it never grows (which would leave
/// a copy behind), wiped when dropped.
fn joined_secret(parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    let mut joined = Zeroizing::new(Vec::with_capacity(parts.iter().map(|p| p.len()).sum()));
    for part in parts {
        joined.extend_from_slice(part);
    }
    joined
}

/// `Authorization: Basic <base64 of user:password>` (RFC 7617) as a sensitive header value, for
/// [`HttpRequest::prepared_header`]. A `user` containing `:` is refused. The pair and its
/// base64 are made in buffers wiped when dropped: no plain copy of the credentials is left
/// but the sensitive value itself.
pub fn basic_auth_value(user: &str, password: &SecretString) -> Result<HeaderValue> {
    const SCHEME: &[u8] = b"Basic ";
    if user.contains(':') {
        return Err(Error::invalid_input(
            "a Basic auth user name cannot contain ':'",
        ));
    }
    let pair = joined_secret(&[user.as_bytes(), b":", password.expose_secret().as_bytes()]);
    let too_long = || Error::invalid_input("the Basic auth credentials are too long");
    let encoded = base64::encoded_len(pair.len(), true).ok_or_else(too_long)?;
    let mut value = Zeroizing::new(vec![0; SCHEME.len() + encoded]);
    let (scheme, text) = value.split_at_mut(SCHEME.len());
    scheme.copy_from_slice(SCHEME);
    BASE64.encode_slice(&*pair, text).map_err(|_| too_long())?;
    sensitive_header_value("authorization", &value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://verify.twilio.com/v2/Services").unwrap()
    }

    #[test]
    fn only_reads_are_retried_after_any_transient_failure() {
        assert!(Operation::read("r").is_retryable());
        for operation in [
            Operation::send("s"),
            Operation::write("w"),
            Operation::consume("c"),
        ] {
            assert!(!operation.is_retryable(), "{operation:?}");
        }
        assert_eq!(Operation::consume("c").kind, OperationKind::Consume);
        assert_eq!(Operation::write("w").name, "w");
    }

    #[test]
    fn the_accessors_show_what_was_built() {
        let get = HttpRequest::get(Operation::read("list"), url()).query("PageSize", "2 0");
        assert_eq!(get.method(), Method::GET);
        assert_eq!(get.body(), None);
        assert_eq!(get.operation(), Operation::read("list"));
        assert_eq!(
            get.url().as_str(),
            "https://verify.twilio.com/v2/Services?PageSize=2+0"
        );
        let post = HttpRequest::post(Operation::send("send"), url())
            .json(&serde_json::json!({"to": "+1"}))
            .unwrap();
        assert_eq!(post.method(), Method::POST);
        assert_eq!(post.body(), Some(&br#"{"to":"+1"}"#[..]));
        assert_eq!(post.header_value("content-type"), Some("application/json"));
        let form = HttpRequest::put(Operation::write("w"), url()).form([("A", "1"), ("A", "&")]);
        assert_eq!(form.method(), Method::PUT);
        assert_eq!(form.body(), Some(&b"A=1&A=%26"[..]));
        assert_eq!(
            HttpRequest::delete(Operation::write("d"), url()).method(),
            Method::DELETE
        );
    }

    #[test]
    fn a_header_name_with_capitals_is_sent_lowercase_and_an_invalid_one_refused() {
        let secret = SecretString::from("canary");
        let request = HttpRequest::get(Operation::read("list"), url())
            .header("X-Api-Key", "v")
            .unwrap()
            .secret_header("X-Secret", &secret)
            .unwrap()
            .header("x-plain", "w")
            .unwrap();
        assert_eq!(request.header_value("x-api-key"), Some("v"));
        assert_eq!(request.header_value("x-secret"), Some("canary"));
        assert!(request.headers.get("x-secret").unwrap().is_sensitive());
        assert_eq!(request.header_value("x-plain"), Some("w"));
        let map = request.headers.to_map();
        assert!(
            map.keys()
                .all(|name| name.as_str() == name.as_str().to_lowercase())
        );
        for bad in ["bad name", "", "x:y", "caf\u{e9}"] {
            let err = HttpRequest::get(Operation::read("list"), url())
                .header(bad, "v")
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
            let err = HttpRequest::get(Operation::read("list"), url())
                .secret_header(bad, &secret)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn basic_auth_encodes_the_pair_and_hides_it() {
        let request = HttpRequest::get(Operation::read("list"), url())
            .basic_auth("Aladdin", &SecretString::from("open sesame"))
            .unwrap();
        assert_eq!(
            request.header_value("authorization"),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert!(request.headers.get("authorization").unwrap().is_sensitive());
        assert_eq!(request.header_value("accept"), Some("application/json"));
        assert!(!format!("{request:?}").contains("QWxhZGRpbj"));
        let err = HttpRequest::get(Operation::read("list"), url())
            .basic_auth("a:b", &SecretString::from("pw"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    /// The in-place check is `http`'s rule for a header value, byte by byte.
    #[test]
    fn fits_header_is_https_rule() {
        for b in 0..=u8::MAX {
            assert_eq!(
                header_byte(b),
                HeaderValue::from_bytes(&[b'B', b]).is_ok(),
                "{b:#x}"
            );
        }
        for text in [
            "",
            "k-123",
            "caf\u{e9}\t\u{1F511}",
            "a:b c",
            "\u{7f}",
            "a\rb",
        ] {
            assert_eq!(
                fits_header(text),
                HeaderValue::from_str(text).is_ok(),
                "{text:?}"
            );
        }
    }

    /// Every length of pair (each padding of base64) and any text encodes as `base64` does;
    /// a bearer token as it is; either header is sensitive, and an unsendable token refused.
    #[test]
    fn credentials_encode_as_before() {
        for password in ["", "p", "pw", "pwd", "pass", "p\u{e9}:\u{1F511}"] {
            let value = basic_auth_value("user", &SecretString::from(password)).unwrap();
            let expected = format!("Basic {}", BASE64.encode(format!("user:{password}")));
            assert_eq!(value.to_str().unwrap(), expected, "{password:?}");
            assert!(value.is_sensitive());
        }
        let request = HttpRequest::get(Operation::read("list"), url())
            .bearer(&SecretString::from("canary-token"))
            .unwrap();
        assert_eq!(
            request.header_value("authorization"),
            Some("Bearer canary-token")
        );
        assert!(request.headers.get("authorization").unwrap().is_sensitive());
        let err = HttpRequest::get(Operation::read("list"), url())
            .bearer(&SecretString::from("canary\ntoken"))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "credential for header authorization has invalid characters"
        );
    }

    #[test]
    fn the_phone_is_masked_like_phone_number_masked() {
        for text in [
            "+15017122661",
            "+905321234567",
            "+3725123456",
            "+4915123456789",
            // 17 digits: the longest number libphonenumber accepts.
            "+49301234567890123",
        ] {
            let phone: PhoneNumber = text.parse().unwrap();
            let request = HttpRequest::get(Operation::read("x"), url()).phone(&phone);
            let shown = request.phone.as_ref().map(ToString::to_string);
            assert_eq!(shown.as_deref(), Some(phone.masked().as_str()), "{text}");
            assert!(format!("{request:?}").contains(&phone.masked()));
        }
    }
}
