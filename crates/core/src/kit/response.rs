//! [`HttpResponse`]: a provider's answer, read in full within the size cap.

use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;

use super::request::{Operation, OperationKind};
use crate::error::{Error, ErrorKind, Result};
use crate::http::retry::parse_retry_after;
use crate::provider::ProviderId;

/// A provider's HTTP answer, any status. Provider crates decode it and map error bodies to
/// [`Error`]s.
#[derive(Clone)]
pub struct HttpResponse {
    pub(crate) provider: ProviderId,
    pub(crate) operation: Operation,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// When it arrived, for a `Retry-After` date; the HTTP client reads its clock only for an
    /// answer with that header, and leaves `UNIX_EPOCH` here otherwise.
    pub(crate) received_at: SystemTime,
}

impl HttpResponse {
    /// A response built by hand (for tests of provider error mapping).
    pub fn from_parts(
        provider: ProviderId,
        operation: Operation,
        status: u16,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        Self {
            provider,
            operation,
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers,
            body,
            received_at: SystemTime::now(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The raw body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The operation that produced it.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The `Retry-After` delay, if the provider sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")
            .and_then(|v| parse_retry_after(v, self.received_at))
    }

    /// Decodes the body as JSON; failures are [`ErrorKind::Decode`] errors built by
    /// [`undecodable`](Self::undecodable) (for a 2xx answer to a send or a code check,
    /// [`ErrorKind::MaybeSent`] or [`ErrorKind::OutcomeUnknown`]: see [`error`](Self::error)).
    /// serde's own message quotes the offending value, so it is redacted the same way and not
    /// kept as the error's source.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        self.json_scrubbed(&[])
    }

    /// [`json`](Self::json), with every one of `secrets` (credentials the provider might echo)
    /// scrubbed from the error before it is redacted.
    pub fn json_scrubbed<T: DeserializeOwned>(&self, secrets: &[&str]) -> Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| self.undecodable(ErrorKind::Decode, &e.to_string(), secrets))
    }

    /// The error for a body that is not what the provider documents: `kind` (usually
    /// [`ErrorKind::Decode`]), the operation, HTTP status, `cause` (e.g. serde's message, or
    /// "not a JSON object"), content type and the start of the body, each with `secrets`
    /// replaced by `<redacted>` and then passed through [`redacted_excerpt`].
    ///
    /// ```
    /// use phone_verify_core::{ErrorKind, ProviderId};
    /// use phone_verify_core::kit::{HttpResponse, Operation};
    ///
    /// let response = HttpResponse::from_parts(
    ///     ProviderId::new_static("acme"),
    ///     Operation::read("fetch"),
    ///     200,
    ///     Default::default(),
    ///     "<html>echo: canary-secret</html>".into(),
    /// );
    /// let err = response.undecodable(ErrorKind::Decode, "not JSON", &["canary-secret"]);
    /// assert!(err.to_string().contains("is not the expected JSON (not JSON;"));
    /// assert!(!err.to_string().contains("canary"));
    /// ```
    pub fn undecodable(&self, kind: ErrorKind, cause: &str, secrets: &[&str]) -> Error {
        let shown = |text: &str| redacted_excerpt(scrub_secrets(text, secrets).as_bytes());
        let start = String::from_utf8_lossy(&self.body[..self.body.len().min(1024)]);
        self.error(
            kind,
            format!(
                "{} answered HTTP {} with a body that is not the expected JSON ({}; \
                 content-type {}; body starts {:?})",
                self.operation.name,
                self.status.as_u16(),
                shown(cause),
                shown(self.header("content-type").unwrap_or("none")),
                shown(&start),
            ),
        )
    }

    /// An error about this response, with the provider, HTTP status and `Retry-After` filled
    /// in. Its kind is `kind` as [`kind_for_operation`](Self::kind_for_operation) sees it for
    /// this response: an unreadable 2xx answer to a send is [`ErrorKind::MaybeSent`], to a
    /// code check [`ErrorKind::OutcomeUnknown`].
    pub fn error(&self, kind: ErrorKind, message: impl Into<String>) -> Error {
        let mut err = Error::new(self.kind_for_operation(kind), message)
            .with_provider(self.provider.clone())
            .with_http_status(self.status.as_u16());
        if let Some(delay) = self.retry_after() {
            err = err.with_retry_after(delay);
        }
        err
    }

    /// The error kind the HTTP status suggests when the provider's body names no better one:
    /// [`kind_for_status`], except that a 503 with `Retry-After`, a refusal before processing,
    /// is [`ErrorKind::ProviderUnavailable`] for every operation (the free function, which sees
    /// no headers, leaves a send or a code check answered 503 in doubt).
    pub fn kind_for_status(&self) -> ErrorKind {
        status_kind(
            self.status.as_u16(),
            self.has_retry_after(),
            self.operation.kind,
        )
    }

    /// [`kind_for_operation`] of `kind` for this response's status and operation, with its
    /// headers seen: a [`ErrorKind::ProviderUnavailable`] answer of HTTP 503 with
    /// `Retry-After` was refused before processing and stays as it is.
    pub fn kind_for_operation(&self, kind: ErrorKind) -> ErrorKind {
        operation_kind(
            kind,
            self.status.as_u16(),
            self.has_retry_after(),
            self.operation.kind,
        )
    }

    /// Whether the answer has a `Retry-After` header (readable or not), as the retry policy
    /// sees it.
    fn has_retry_after(&self) -> bool {
        self.headers.contains_key(RETRY_AFTER)
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("provider", &self.provider)
            .field("operation", &self.operation.name)
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// Whether an answer of HTTP `status`, with a `Retry-After` header or without one, refused the
/// request before processing it: a 429, or a 503 with `Retry-After`. The one test of it: a code
/// check is retried after such an answer only, and a send or a code check answered otherwise
/// with a server error is left in doubt. A plain 503 is not one: proxies answer it after they
/// forwarded the request (Envoy's "upstream connect error or disconnect/reset before headers").
pub(crate) fn refused_before_processing(status: u16, retry_after: bool) -> bool {
    status == 429 || (status == 503 && retry_after)
}

/// The error kind for an HTTP status with no recognised provider error. A server error in
/// answer to a send leaves the send's outcome unknown ([`ErrorKind::MaybeSent`]); in answer to
/// a code check, the check's outcome ([`ErrorKind::OutcomeUnknown`]). A 503 is one too: this
/// function sees no headers, so it cannot tell a 503 with `Retry-After` (a refusal before
/// processing, [`ErrorKind::ProviderUnavailable`]) from a plain one, and takes the safe side;
/// [`HttpResponse::kind_for_status`] tells them apart.
///
/// ```
/// use phone_verify_core::ErrorKind;
/// use phone_verify_core::kit::{OperationKind, kind_for_status};
///
/// assert_eq!(kind_for_status(503, OperationKind::Send), ErrorKind::MaybeSent);
/// assert_eq!(kind_for_status(503, OperationKind::Consume), ErrorKind::OutcomeUnknown);
/// assert_eq!(kind_for_status(503, OperationKind::Read), ErrorKind::ProviderUnavailable);
/// assert_eq!(kind_for_status(429, OperationKind::Send), ErrorKind::RateLimited);
/// ```
pub fn kind_for_status(status: u16, operation: OperationKind) -> ErrorKind {
    status_kind(status, false, operation)
}

/// [`kind_for_status`], told whether the answer has a `Retry-After` header.
fn status_kind(status: u16, retry_after: bool, operation: OperationKind) -> ErrorKind {
    match status {
        400 | 422 => ErrorKind::InvalidInput,
        401 | 403 => ErrorKind::Unauthorized,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        410 => ErrorKind::Expired,
        429 => ErrorKind::RateLimited,
        500..=599 if refused_before_processing(status, retry_after) => {
            ErrorKind::ProviderUnavailable
        }
        500..=599 if operation == OperationKind::Send => ErrorKind::MaybeSent,
        500..=599 if operation == OperationKind::Consume => ErrorKind::OutcomeUnknown,
        500..=599 => ErrorKind::ProviderUnavailable,
        _ => ErrorKind::Provider,
    }
}

/// The kind of an answer whose body passed the size cap, given its HTTP `status`, whether it
/// has a `Retry-After` header and the operation it answers: a server error's, as its status
/// says ([`kind_for_status`]: a send or a code check so answered is in doubt, a lookup's
/// provider unavailable); otherwise [`ErrorKind::Decode`], in doubt for a 2xx answer to a send
/// or a code check ([`kind_for_operation`]).
pub(crate) fn over_limit_kind(
    status: u16,
    retry_after: bool,
    operation: OperationKind,
) -> ErrorKind {
    if status >= 500 {
        status_kind(status, retry_after, operation)
    } else {
        operation_kind(ErrorKind::Decode, status, retry_after, operation)
    }
}

/// The kind of an answer a provider classed as `kind`, given its HTTP `status` and the
/// operation it answers. Two answers leave a send's outcome unknown ([`ErrorKind::MaybeSent`])
/// and a code check's too ([`ErrorKind::OutcomeUnknown`]):
///
/// - a [`ErrorKind::ProviderUnavailable`] answer that was not refused before processing (a
///   429, or a 503 with `Retry-After`): the provider may have acted before it failed. This
///   function sees no headers, so a 503 is in doubt here;
///   [`HttpResponse::kind_for_operation`] keeps a 503 with `Retry-After` as it is;
/// - a [`ErrorKind::Decode`] answer with a 2xx status: the provider took the request (a
///   message went out, a code was used or counted), but what it answered cannot be read.
///
/// Every other kind, and every other operation, is kept. [`HttpResponse::error`] applies it to
/// every error it builds.
///
/// ```
/// use phone_verify_core::ErrorKind;
/// use phone_verify_core::kit::{OperationKind, kind_for_operation};
///
/// let unavailable = ErrorKind::ProviderUnavailable;
/// assert_eq!(kind_for_operation(unavailable, 500, OperationKind::Send), ErrorKind::MaybeSent);
/// assert_eq!(kind_for_operation(unavailable, 503, OperationKind::Send), ErrorKind::MaybeSent);
/// assert_eq!(kind_for_operation(unavailable, 503, OperationKind::Read), unavailable);
/// let unreadable = ErrorKind::Decode;
/// let check = OperationKind::Consume;
/// assert_eq!(kind_for_operation(unreadable, 200, check), ErrorKind::OutcomeUnknown);
/// assert_eq!(kind_for_operation(unreadable, 200, OperationKind::Read), unreadable);
/// ```
pub fn kind_for_operation(kind: ErrorKind, status: u16, operation: OperationKind) -> ErrorKind {
    operation_kind(kind, status, false, operation)
}

/// [`kind_for_operation`], told whether the answer has a `Retry-After` header.
fn operation_kind(
    kind: ErrorKind,
    status: u16,
    retry_after: bool,
    operation: OperationKind,
) -> ErrorKind {
    let doubtful = match kind {
        ErrorKind::ProviderUnavailable => !refused_before_processing(status, retry_after),
        ErrorKind::Decode => (200..300).contains(&status),
        _ => false,
    };
    if !doubtful {
        return kind;
    }
    match operation {
        OperationKind::Send => ErrorKind::MaybeSent,
        OperationKind::Consume => ErrorKind::OutcomeUnknown,
        _ => kind,
    }
}

/// `text` with every non-empty one of `secrets` replaced by `<redacted>`: for what a provider
/// wrote, in case it echoes a credential, before it goes into an error or a log. A secret is
/// also found percent-encoded (in a URL or a form it echoes) and, from
/// [`MIN_ENCODED_SECRET_LEN`] bytes on, base64-encoded wherever it starts in the encoded text
/// (an `Authorization: Basic` header it echoes): the characters the secret alone decides are
/// replaced, and one or two at each edge, shared with its neighbours, may stay.
///
/// ```
/// use phone_verify_core::kit::scrub_secrets;
///
/// assert_eq!(scrub_secrets("bad key k-123", &["k-123", ""]), "bad key <redacted>");
/// // `Basic base64("AC0123:auth-token-0123")`, echoed.
/// let echoed = "got Authorization: Basic QUMwMTIzOmF1dGgtdG9rZW4tMDEyMw==";
/// let scrubbed = scrub_secrets(echoed, &["auth-token-0123"]);
/// assert_eq!(scrubbed, "got Authorization: Basic QUMwMTIzOm<redacted>w==");
/// ```
pub fn scrub_secrets(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        for form in written_forms(secret) {
            if out.contains(&form) {
                out = out.replace(&form, "<redacted>");
            }
        }
    }
    out
}

/// The shortest secret, in bytes, that [`scrub_secrets`] also finds base64-encoded: the
/// encoded fragments of a shorter one would be found in other text by chance.
pub const MIN_ENCODED_SECRET_LEN: usize = 12;

/// The forms `secret` may take in what a provider writes back: as it is; percent-encoded
/// (RFC 3986: all but the unreserved characters), where that differs; and, from
/// [`MIN_ENCODED_SECRET_LEN`] bytes on, its base64, standard and URL-safe alphabets, at each of
/// the three byte offsets it may start at, cut to the characters it alone decides (character
/// `j` of an encoding holds bits `6j..6j + 6`).
fn written_forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let mut forms = vec![secret.to_owned()];
    let encoded = utf8_percent_encode(secret, NOT_UNRESERVED).to_string();
    if encoded != secret {
        forms.push(encoded);
    }
    if secret.len() >= MIN_ENCODED_SECRET_LEN {
        for offset in 0..3 {
            let mut bytes = vec![0; offset];
            bytes.extend_from_slice(secret.as_bytes());
            let (first, end) = ((8 * offset).div_ceil(6), 8 * bytes.len() / 6);
            for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                let fragment = engine.encode(&bytes)[first..end].to_owned();
                if !forms.contains(&fragment) {
                    forms.push(fragment);
                }
            }
        }
    }
    forms
}

/// A provider's free text (its error message) as an error keeps it: `secrets` replaced by
/// `<redacted>`, trimmed, control characters as spaces (one line, no terminal escapes),
/// phone-like digit runs masked ([`mask_numbers`](crate::kit::mask_numbers)), then cut to at
/// most `max_chars` characters (after the scrub and the mask, so that no part of a secret or
/// of a number cut at the limit stays in clear); `None` when blank.
///
/// ```
/// use phone_verify_core::kit::provider_text;
///
/// let kept = provider_text(" key k-123 refused for\n+905321234567\u{1b}[0m ", &["k-123"], 200);
/// assert_eq!(kept.as_deref(), Some("key <redacted> refused for +**********67 [0m"));
/// assert_eq!(provider_text("abcdef", &[], 3).as_deref(), Some("abc"));
/// assert_eq!(provider_text(" \n ", &[], 200), None);
/// ```
pub fn provider_text(text: &str, secrets: &[&str], max_chars: usize) -> Option<String> {
    let scrubbed = scrub_secrets(text, secrets);
    let trimmed = scrubbed.trim();
    if trimmed.is_empty() {
        return None;
    }
    let line: String = trimmed
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut masked = crate::phone::mask_numbers(&line);
    if let Some((end, _)) = masked.char_indices().nth(max_chars) {
        masked.truncate(end);
    }
    Some(masked)
}

/// A provider's code or request id as an error keeps it: trimmed, control characters dropped,
/// at most 64 characters; `None` when blank.
///
/// ```
/// use phone_verify_core::kit::provider_code;
///
/// assert_eq!(provider_code(" 60200\n\u{7}").as_deref(), Some("60200"));
/// assert_eq!(provider_code(&"9".repeat(100)).map(|c| c.len()), Some(64));
/// assert_eq!(provider_code(" \t"), None);
/// ```
pub fn provider_code(text: &str) -> Option<String> {
    provider_code_scrubbed(text, &[])
}

/// [`provider_code`] of a code or request id that may echo a credential: control characters
/// dropped first, then `secrets` replaced by `<redacted>` (so that a control character inside
/// one cannot hide it from the scrub), then cut to 64 characters. An id holding no secret as
/// it is, and no control character, is kept as it is: it is read on every call, and
/// [`scrub_secrets`]'s search for encoded forms is left to the rare answers that need it.
///
/// ```
/// use phone_verify_core::kit::provider_code_scrubbed;
///
/// let kept = provider_code_scrubbed("req-k\u{1}-123", &["k-123"]);
/// assert_eq!(kept.as_deref(), Some("req-<redacted>"));
/// ```
pub fn provider_code_scrubbed(text: &str, secrets: &[&str]) -> Option<String> {
    let trimmed = text.trim();
    // The usual id (a success's request id, on every check): clean, no credential in it, kept
    // in one allocation.
    if !trimmed.chars().any(char::is_control)
        && !secrets
            .iter()
            .any(|secret| !secret.is_empty() && trimmed.contains(secret))
    {
        let code: String = trimmed.chars().take(64).collect();
        return (!code.is_empty()).then_some(code);
    }
    let cleaned: String = trimmed.chars().filter(|c| !c.is_control()).collect();
    let code: String = scrub_secrets(cleaned.trim(), secrets)
        .chars()
        .take(64)
        .collect();
    (!code.is_empty()).then_some(code)
}

/// A short excerpt of a body for error messages: at most 96 characters, control characters
/// replaced, runs of 4+ digits (codes, phone numbers), phone numbers written with separators
/// (`+90 532 123 45 67`: digit groups joined by spaces, dashes, dots or brackets, 7+ digits in
/// all) and long token-like runs redacted. Only the first 384 bytes are read; a run the cut
/// ends is redacted whatever its length, and so are the digits of the groups it ends (the
/// head of a number written with separators), as the rest is not seen.
///
/// ```
/// use phone_verify_core::kit::redacted_excerpt;
///
/// let shown = redacted_excerpt(br#"{"code":"123456","phone":"+905321234567","token":"eyJhbGciOiJIUzI1NiJ9.abc"}"#);
/// assert!(!shown.contains("123456") && !shown.contains("5321234567") && !shown.contains("eyJ"));
/// assert_eq!(redacted_excerpt(br#"{"phone":"+90 532 123 45 67"}"#), r#"{"phone":"+## ### ### ## ##"}"#);
/// ```
pub fn redacted_excerpt(body: &[u8]) -> String {
    const MAX: usize = 96;
    let read = body.len().min(4 * MAX);
    let text = String::from_utf8_lossy(&body[..read]);
    // A token the cut splits would show its head as a short run.
    let cut_in_a_run = body.get(read).is_some_and(|&b| is_run_char(char::from(b)));
    // The head of a number in groups that the cut ends: the trailing digits and separators.
    let cut_groups_from = if body.len() > read {
        let tail = text.trim_end_matches(|c: char| c.is_ascii_digit() || " +-.()".contains(c));
        tail.len()
    } else {
        text.len()
    };
    let numbers = crate::phone::number_spans(&text);
    let mut numbers = numbers.iter().peekable();
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if run.len() >= 16 {
            out.push_str("<redacted>");
        } else if digits >= 4 && run.chars().all(|c| c.is_ascii_digit()) {
            out.extend(std::iter::repeat_n('#', run.len()));
        } else if digits >= 4 {
            out.extend(
                run.chars()
                    .map(|c| if c.is_ascii_digit() { '#' } else { c }),
            );
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for (at, c) in text.char_indices() {
        while numbers.next_if(|span| span.end <= at).is_some() {}
        if c.is_ascii_digit()
            && (at >= cut_groups_from || numbers.peek().is_some_and(|span| span.contains(&at)))
        {
            // A digit of a number written in groups (or of groups the cut ends): masked
            // whatever run it falls in.
            run.push('#');
        } else if is_run_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(if c.is_control() { ' ' } else { c });
        }
    }
    if cut_in_a_run && !run.is_empty() {
        out.push_str("<redacted>");
    } else {
        flush(&mut run, &mut out);
    }
    if out.chars().count() > MAX {
        out = out.chars().take(MAX).collect::<String>() + "…";
    }
    out
}

/// Whether `c` belongs to a run [`redacted_excerpt`] judges as one (a token, a code, a word).
fn is_run_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '/' | '=')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret echoed percent-encoded, or base64-encoded at any offset and in either
    /// alphabet, is scrubbed; a short one only as it is. (Only the verbatim form was: a Basic
    /// `Authorization` header echoed in an error showed the credentials.)
    #[test]
    fn secrets_are_scrubbed_percent_and_base64_encoded() {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        let secret = "tok/en+secret?0123";
        for prefix in ["", "a", "ab", "user:"] {
            for engine in [&STANDARD, &URL_SAFE] {
                let echoed = engine.encode(format!("{prefix}{secret}"));
                let scrubbed = scrub_secrets(&format!("auth {echoed} end"), &[secret]);
                assert!(scrubbed.contains("<redacted>"), "{prefix:?}: {scrubbed}");
                assert!(scrubbed.len() < echoed.len(), "{prefix:?}: {scrubbed}");
            }
        }
        assert_eq!(
            scrub_secrets("k=tok%2Fen%2Bsecret%3F0123", &[secret]),
            "k=<redacted>"
        );
        // Short: as it is only.
        assert_eq!(
            scrub_secrets("a2V5LTEy key-12", &["key-12"]),
            "a2V5LTEy <redacted>"
        );
    }

    #[test]
    fn redacted_excerpt_redacts_and_truncates() {
        assert_eq!(
            redacted_excerpt(b"<html>Bad Gateway</html>"),
            "<html>Bad Gateway</html>"
        );
        assert_eq!(redacted_excerpt(b"{\"otp\":123456}"), "{\"otp\":######}");
        assert_eq!(redacted_excerpt(b"line\nbreak"), "line break");
        assert!(redacted_excerpt(&[b'a'; 1000]).len() < 120);
        assert_eq!(redacted_excerpt(b"key=abcdefghijklmnopqrstu"), "<redacted>");
        assert_eq!(redacted_excerpt(&[0xff, 0xfe]), "\u{fffd}\u{fffd}");
    }

    /// A phone number written in groups is masked whole, though spaces and brackets split it
    /// into runs of fewer than four digits.
    #[test]
    fn redacted_excerpt_masks_numbers_written_with_separators() {
        assert_eq!(
            redacted_excerpt(br#"{"phone":"+90 532 123 45 67"}"#),
            r#"{"phone":"+## ### ### ## ##"}"#
        );
        assert_eq!(
            redacted_excerpt(b"to +1 (501) 712-2661 failed"),
            "to +# (###) ###-#### failed"
        );
        assert_eq!(
            redacted_excerpt(b"06.12.34.56.78 and 0532-123-45-67"),
            "##.##.##.##.## and ####-###-##-##"
        );
        // Fewer than seven digits in all, or groups too far apart: kept.
        assert_eq!(
            redacted_excerpt(b"retry 1 of 3 in 30 s"),
            "retry 1 of 3 in 30 s"
        );
        assert_eq!(redacted_excerpt(b"v 1.2 (12 34)"), "v 1.2 (12 34)");
        assert_eq!(redacted_excerpt(b"12 - 345 - 67"), "12 - 345 - 67");
    }

    #[test]
    fn redacted_excerpt_masks_only_runs_of_four_digits_or_more() {
        assert_eq!(redacted_excerpt(b"retry in 30 s"), "retry in 30 s");
        assert_eq!(
            redacted_excerpt(b"api v2 user ab1234"),
            "api v2 user ab####"
        );
    }

    /// A token the 384-byte cut splits is redacted: its head alone is a short run.
    #[test]
    fn redacted_excerpt_redacts_a_token_the_cut_splits() {
        let body = format!("{} sk_live_4eC39HqLyjWDarjtT1zdp7dc", "x".repeat(369));
        assert_eq!(redacted_excerpt(body.as_bytes()), "<redacted> <redacted>");
        // A run that ends at the cut, the next byte no part of it, is judged as it is.
        let body = format!("{} sk_live_4eC39H and more", "x".repeat(369));
        assert_eq!(
            redacted_excerpt(body.as_bytes()),
            "<redacted> sk_live_4eC39H"
        );
        // So is the last run of a body that is not cut.
        let body = format!("{} sk_live_4eC39H", "x".repeat(369));
        assert_eq!(
            redacted_excerpt(body.as_bytes()),
            "<redacted> sk_live_4eC39H"
        );
        // A cut after a separator leaves no run to redact.
        let body = format!("{} word {}", "x".repeat(378), "y".repeat(40));
        assert_eq!(redacted_excerpt(body.as_bytes()), "<redacted> word ");
    }

    /// The head of a number written in groups that the 384-byte cut ends is masked: its
    /// groups alone are too short, or too few digits, to be judged a number.
    #[test]
    fn redacted_excerpt_masks_the_groups_the_cut_ends() {
        // Six 40-byte tokens shrink to 66 characters, so the end of the 384 bytes is shown.
        let tokens = format!("{} ", "t".repeat(40)).repeat(6);
        let pad = "x".repeat(384 - tokens.len() - "to +90 53".len());
        let body = format!("{tokens}{pad} to +90 532 123 45 67 failed");
        let shown = redacted_excerpt(body.as_bytes());
        assert!(shown.ends_with(" to +## <redacted>"), "{shown}");
        assert!(!shown.contains("90") && !shown.contains("53"), "{shown}");
        // Groups the body ends with, not cut, are judged as they are.
        let body = format!("{tokens}{pad} to 12 34");
        assert!(redacted_excerpt(body.as_bytes()).ends_with("to 12 34"));
    }

    #[test]
    fn redacted_excerpt_keeps_96_characters_of_the_first_384_bytes() {
        let exact = "ab ".repeat(32);
        assert_eq!(redacted_excerpt(exact.as_bytes()), exact, "96: kept whole");
        let long = "ab ".repeat(33);
        let shown = redacted_excerpt(long.as_bytes());
        assert_eq!(shown, format!("{}…", &long[..96]));
        // Tokens of 17 bytes shrink to 11 characters: 100 bytes would show fewer than 96.
        let tokens = "abcdefghijklmnopq ".repeat(20);
        let shown = redacted_excerpt(tokens.as_bytes());
        assert_eq!(shown.chars().count(), 97, "{shown}");
        assert!(shown.ends_with('…'), "{shown}");
    }

    #[test]
    fn provider_text_is_scrubbed_trimmed_one_line_cut_and_masked() {
        assert_eq!(
            provider_text(" key k-123 refused for\n+905321234567 ", &["k-123"], 200).as_deref(),
            Some("key <redacted> refused for +**********67")
        );
        assert_eq!(provider_text("abcdef", &[], 3).as_deref(), Some("abc"));
        assert_eq!(provider_text(" \n ", &[], 200), None);
    }

    #[test]
    fn provider_text_masks_a_number_the_limit_cuts() {
        let text = format!("{} +905321234567", "x".repeat(193));
        let kept = provider_text(&text, &[], 200).unwrap();
        assert_eq!(kept.chars().count(), 200);
        assert!(!kept.contains("90532"), "{kept}");
        assert!(kept.ends_with(" +*****"), "{kept}");
    }

    #[test]
    fn provider_code_is_trimmed_without_control_characters_and_cut() {
        assert_eq!(provider_code(" 60\u{7}200\n").as_deref(), Some("60200"));
        assert_eq!(provider_code(&"9".repeat(100)).map(|c| c.len()), Some(64));
        assert_eq!(provider_code(" \t"), None);
        assert_eq!(provider_code("\u{7}"), None);
    }

    /// A clean code holding a credential takes the slow path and is scrubbed; one without
    /// a credential (an empty secret matches nothing) is kept as it is.
    #[test]
    fn provider_code_scrubbed_redacts_a_credential_in_a_clean_code() {
        assert_eq!(
            provider_code_scrubbed(" req-k-123 ", &["k-123"]).as_deref(),
            Some("req-<redacted>")
        );
        assert_eq!(
            provider_code_scrubbed("req-k\u{1}-123", &["", "k-123"]).as_deref(),
            Some("req-<redacted>")
        );
        assert_eq!(
            provider_code_scrubbed("RQ-7f3a", &["", "k-123"]).as_deref(),
            Some("RQ-7f3a")
        );
    }

    #[test]
    fn scrub_secrets_replaces_every_non_empty_secret() {
        assert_eq!(
            scrub_secrets("k-1 and k-2, k-1", &["k-1", "", "k-2"]),
            "<redacted> and <redacted>, <redacted>"
        );
        assert_eq!(scrub_secrets("nothing here", &[""]), "nothing here");
    }

    #[test]
    fn a_response_shows_its_parts_but_never_its_body() {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "req-1".parse().unwrap());
        let response = HttpResponse::from_parts(
            ProviderId::new_static("acme"),
            Operation::read("lookup"),
            404,
            headers,
            Bytes::from_static(b"secret-body"),
        );
        assert!(!response.is_success());
        assert_eq!(response.headers().len(), 1);
        assert_eq!(response.header("x-request-id"), Some("req-1"));
        assert_eq!(response.operation(), Operation::read("lookup"));
        let shown = format!("{response:?}");
        assert!(
            shown.contains("lookup") && shown.contains("404") && shown.contains("body_len: 11"),
            "{shown}"
        );
        assert!(!shown.contains("secret-body"), "{shown}");
    }

    #[test]
    fn decode_errors_do_not_quote_values() {
        #[derive(Debug, serde::Deserialize)]
        struct Wire {
            #[allow(dead_code)]
            count: u64,
        }
        let response = HttpResponse::from_parts(
            ProviderId::new_static("acme"),
            Operation::read("check"),
            200,
            HeaderMap::new(),
            Bytes::from_static(br#"{"count":"+905321234567"}"#),
        );
        let err = response.json::<Wire>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("invalid type"), "{shown}");
        assert!(!shown.contains("5321234567"), "{shown}");
    }

    #[test]
    fn kind_for_operation_keeps_doubt() {
        use OperationKind::{Consume, Read, Send, Write};
        let unavailable = ErrorKind::ProviderUnavailable;
        assert_eq!(
            kind_for_operation(unavailable, 500, Send),
            ErrorKind::MaybeSent
        );
        assert_eq!(
            kind_for_operation(unavailable, 200, Send),
            ErrorKind::MaybeSent
        );
        assert_eq!(
            kind_for_operation(unavailable, 502, Consume),
            ErrorKind::OutcomeUnknown
        );
        // Without its headers, a 503 may have been processed (a proxy's, after forwarding).
        assert_eq!(
            kind_for_operation(unavailable, 503, Send),
            ErrorKind::MaybeSent
        );
        assert_eq!(
            kind_for_operation(unavailable, 503, Consume),
            ErrorKind::OutcomeUnknown
        );
        assert_eq!(kind_for_operation(unavailable, 503, Read), unavailable);
        assert_eq!(kind_for_operation(unavailable, 429, Send), unavailable);
        assert_eq!(kind_for_operation(unavailable, 500, Read), unavailable);
        assert_eq!(kind_for_operation(unavailable, 500, Write), unavailable);
        assert_eq!(
            kind_for_operation(ErrorKind::RateLimited, 500, Send),
            ErrorKind::RateLimited
        );
        // A 2xx answer that cannot be read: taken, with an unknown effect.
        let unreadable = ErrorKind::Decode;
        assert_eq!(
            kind_for_operation(unreadable, 200, Send),
            ErrorKind::MaybeSent
        );
        assert_eq!(
            kind_for_operation(unreadable, 201, Consume),
            ErrorKind::OutcomeUnknown
        );
        assert_eq!(kind_for_operation(unreadable, 200, Read), unreadable);
        assert_eq!(kind_for_operation(unreadable, 200, Write), unreadable);
        assert_eq!(kind_for_operation(unreadable, 400, Send), unreadable);
        assert_eq!(kind_for_operation(unreadable, 500, Consume), unreadable);
    }

    #[test]
    fn an_unreadable_answer_to_a_check_is_of_unknown_effect() {
        let answer = |operation, status| {
            HttpResponse::from_parts(
                ProviderId::new_static("acme"),
                operation,
                status,
                HeaderMap::new(),
                Bytes::from_static(b"<html>oops</html>"),
            )
        };
        let kind =
            |response: HttpResponse| response.json::<serde_json::Value>().unwrap_err().kind();
        assert_eq!(
            kind(answer(Operation::consume("check"), 200)),
            ErrorKind::OutcomeUnknown
        );
        assert_eq!(
            kind(answer(Operation::send("send"), 200)),
            ErrorKind::MaybeSent
        );
        assert_eq!(kind(answer(Operation::read("get"), 200)), ErrorKind::Decode);
        assert_eq!(
            kind(answer(Operation::consume("check"), 400)),
            ErrorKind::Decode
        );
    }

    #[test]
    fn undecodable_scrubs_then_redacts() {
        let response = HttpResponse::from_parts(
            ProviderId::new_static("acme"),
            Operation::send("send"),
            502,
            HeaderMap::new(),
            Bytes::from_static(b"<html>user sk:pw +905321234567</html>"),
        );
        let err = response.undecodable(ErrorKind::MaybeSent, "not JSON", &["sk:pw", ""]);
        assert_eq!(err.kind(), ErrorKind::MaybeSent);
        assert_eq!(err.http_status(), Some(502));
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("send answered HTTP 502"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(!shown.contains("sk:pw"), "{shown}");
        assert!(!shown.contains("5321234567"), "{shown}");
        let secret = response
            .json_scrubbed::<serde_json::Value>(&["sk:pw"])
            .unwrap_err();
        assert_eq!(secret.kind(), ErrorKind::Decode);
        assert!(!secret.to_string().contains("sk:pw"));
    }

    #[test]
    fn fallback_kinds() {
        use OperationKind::{Consume, Read, Send};
        assert_eq!(kind_for_status(400, Read), ErrorKind::InvalidInput);
        assert_eq!(kind_for_status(401, Read), ErrorKind::Unauthorized);
        assert_eq!(kind_for_status(404, Read), ErrorKind::NotFound);
        assert_eq!(kind_for_status(409, Read), ErrorKind::Conflict);
        assert_eq!(kind_for_status(410, Consume), ErrorKind::Expired);
        assert_eq!(kind_for_status(422, Send), ErrorKind::InvalidInput);
        assert_eq!(kind_for_status(403, Consume), ErrorKind::Unauthorized);
        assert_eq!(kind_for_status(429, Send), ErrorKind::RateLimited);
        assert_eq!(kind_for_status(500, Read), ErrorKind::ProviderUnavailable);
        assert_eq!(kind_for_status(500, Send), ErrorKind::MaybeSent);
        assert_eq!(kind_for_status(503, Send), ErrorKind::MaybeSent);
        assert_eq!(kind_for_status(503, Read), ErrorKind::ProviderUnavailable);
        assert_eq!(
            kind_for_status(503, OperationKind::Write),
            ErrorKind::ProviderUnavailable
        );
        assert_eq!(kind_for_status(302, Read), ErrorKind::Provider);
        assert_eq!(kind_for_status(500, Consume), ErrorKind::OutcomeUnknown);
        assert_eq!(kind_for_status(504, Consume), ErrorKind::OutcomeUnknown);
        assert_eq!(kind_for_status(503, Consume), ErrorKind::OutcomeUnknown);
        assert_eq!(kind_for_status(429, Consume), ErrorKind::RateLimited);
    }

    /// A 503 with `Retry-After` was refused before processing; a plain one may have been
    /// processed (a proxy's, after it forwarded the request): the response's methods, which see
    /// the headers, tell them apart.
    #[test]
    fn a_503_is_a_refusal_only_with_retry_after() {
        use OperationKind::{Consume, Read, Send, Write};
        let answer = |operation: OperationKind, retry_after: bool| {
            let mut headers = HeaderMap::new();
            if retry_after {
                headers.insert(RETRY_AFTER, "1".parse().unwrap());
            }
            let operation = match operation {
                Send => Operation::send("send"),
                Consume => Operation::consume("check"),
                Read => Operation::read("get"),
                _ => Operation::write("put"),
            };
            HttpResponse::from_parts(
                ProviderId::new_static("acme"),
                operation,
                503,
                headers,
                Bytes::new(),
            )
        };
        let unavailable = ErrorKind::ProviderUnavailable;
        for (operation, plain) in [
            (Send, ErrorKind::MaybeSent),
            (Consume, ErrorKind::OutcomeUnknown),
            (Read, unavailable),
            (Write, unavailable),
        ] {
            let refused = answer(operation, true);
            assert_eq!(refused.kind_for_status(), unavailable, "{operation:?}");
            assert_eq!(refused.kind_for_operation(unavailable), unavailable);
            assert_eq!(refused.error(unavailable, "busy").kind(), unavailable);
            let doubtful = answer(operation, false);
            assert_eq!(doubtful.kind_for_status(), plain, "{operation:?}");
            assert_eq!(doubtful.kind_for_operation(unavailable), plain);
            assert_eq!(doubtful.error(unavailable, "busy").kind(), plain);
        }
    }
}
