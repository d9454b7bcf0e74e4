//! [`HttpClient`]: the one HTTP path of every provider crate.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use tracing::Instrument as _;

use super::base_url::check_allowed;
use super::deadline::{Deadline, after};
use super::request::{HttpRequest, MaskedPhone, Operation, OperationKind, SPAN_TARGET};
use super::response::{HttpResponse, kind_for_operation};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{HttpConfig, HttpSettings};
use crate::provider::ProviderId;

/// Sends provider requests with timeouts, the size cap, the retry policy and tracing.
///
/// Cloning is cheap and shares the connection pool. Requests are never redirected and go only
/// to `https` or loopback URLs.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    config: HttpConfig,
    provider: ProviderId,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("provider", &self.provider)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client with its own connection pool, built from `config` by
    /// [`reqwest_builder`](Self::reqwest_builder).
    pub fn new(provider: ProviderId, config: HttpConfig) -> Result<Self> {
        let client = Self::reqwest_builder(&config).build().map_err(|e| {
            Error::new(ErrorKind::Transport, "cannot build the HTTP client").with_source(e)
        })?;
        Ok(Self::with_reqwest(provider, client, config))
    }

    /// The `reqwest` settings of [`new`](Self::new): `config`'s connect timeout and user agent,
    /// no redirects, and no retries inside reqwest. Every attempt is this client's, under its
    /// retry policy; reqwest's default policy would also resend an HTTP/2 request the server
    /// refused unprocessed, keeping a copy of every request to do so. Start from it to supply a
    /// client of your own to [`with_reqwest`](Self::with_reqwest) (a proxy, custom roots).
    pub fn reqwest_builder(config: &HttpConfig) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .connect_timeout(config.timeouts.connect)
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .user_agent(config.user_agent.clone())
            .pool_idle_timeout(Duration::from_secs(60))
    }

    /// A client on a caller-supplied `reqwest::Client` (shared pool, proxies, custom TLS). Its
    /// own connect timeout, redirect and retry policies apply: build it from
    /// [`reqwest_builder`](Self::reqwest_builder), or at least disable redirects on it.
    /// Per-attempt and overall timeouts, retries and the size cap still come from `config`.
    pub fn with_reqwest(provider: ProviderId, client: reqwest::Client, config: HttpConfig) -> Self {
        Self {
            client,
            config,
            provider,
        }
    }

    /// The provider this client talks to.
    pub fn provider(&self) -> &ProviderId {
        &self.provider
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Sends `request`, retrying it as its operation's kind allows (reads on any transient
    /// failure, code checks only when surely unprocessed, sends and writes never), and returns
    /// the answer with any HTTP status. Errors are transport failures, timeouts and oversized
    /// bodies only, the first two turned into [`ErrorKind::MaybeSent`] or
    /// [`ErrorKind::OutcomeUnknown`] when a send's or a code check's outcome is unknown.
    ///
    /// The future holds `request` once (an `async fn` would keep a second copy of it) and
    /// runs the attempts in a box of their own, under 1 KiB: the caller's future (often the
    /// box of an `#[async_trait]` method) stays small, and both allocations fit glibc's
    /// per-thread cache, where one of their combined size would not.
    #[allow(clippy::manual_async_fn)] // on purpose: see the line above
    pub fn execute(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse>> + Send + '_ {
        async move {
            Box::pin(self.run(&request, false))
                .await
                .map(|(response, _)| response)
        }
    }

    /// The `phone_verify.http` span of `request`.
    pub(super) fn span(&self, request: &HttpRequest) -> tracing::Span {
        tracing::debug_span!(
            target: SPAN_TARGET,
            "phone_verify.http",
            provider = %self.provider,
            operation = request.operation.name,
            method = %request.method,
            phone = %PhoneField(request.phone.as_ref()),
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
            body_bytes = tracing::field::Empty,
        )
    }

    /// The attempts of `request`; with `stream`, the body of a 2xx answer is left unread.
    pub(super) async fn run(
        &self,
        request: &HttpRequest,
        stream: bool,
    ) -> Result<(HttpResponse, Option<reqwest::Response>)> {
        check_allowed(&request.url).map_err(|e| e.with_provider(self.provider.clone()))?;
        let timer = self.timer()?;
        let operation = request.operation;
        // A streamed request runs inside its own span, which also covers reading the body.
        let span = if stream {
            tracing::Span::current()
        } else {
            self.span(request)
        };
        // A span nobody listens to is neither entered nor recorded into.
        let result = if span.is_disabled() {
            self.attempts(request, stream, &span, timer).await
        } else {
            self.attempts(request, stream, &span, timer)
                .instrument(span.clone())
                .await
        };
        result.map_err(|err| self.lost(operation.kind, operation.name, &span, err))
    }

    /// `err` as the caller must see it: a timeout or lost connection after a send or a code
    /// check left is [`ErrorKind::MaybeSent`] or [`ErrorKind::OutcomeUnknown`].
    pub(super) fn lost(
        &self,
        kind: OperationKind,
        name: &str,
        span: &tracing::Span,
        err: Error,
    ) -> Error {
        let err = err.with_provider(self.provider.clone());
        let unknown =
            matches!(err.kind(), ErrorKind::Timeout | ErrorKind::Transport) && !never_sent(&err);
        let (kind, what) = match kind {
            OperationKind::Send if unknown => {
                (ErrorKind::MaybeSent, "the message may have been sent")
            }
            OperationKind::Consume if unknown => (
                ErrorKind::OutcomeUnknown,
                "the answer was lost and the code may have been used; start a new verification",
            ),
            _ => return err,
        };
        span.in_scope(|| tracing::warn!(error = %err, "outcome unknown"));
        let message = format!("{name}: {what}: {}", err.message());
        Error::new(kind, message)
            .with_provider(self.provider.clone())
            .with_source(err)
    }

    /// A call's timer. Its only failure comes before any request: the thread that keeps
    /// deadlines cannot be started.
    pub(super) fn timer(&self) -> Result<Deadline> {
        Deadline::new().map_err(|e| {
            Error::new(
                ErrorKind::Transport,
                "cannot start the thread that keeps deadlines",
            )
            .with_provider(self.provider.clone())
            .with_source(e)
        })
    }

    /// The attempts, the waits between them and both timeouts, on one timer: each attempt runs
    /// until its own deadline (the attempt timeout, or the overall deadline if that comes first),
    /// each wait until the overall deadline.
    async fn attempts(
        &self,
        request: &HttpRequest,
        stream: bool,
        span: &tracing::Span,
        mut timer: Deadline,
    ) -> Result<(HttpResponse, Option<reqwest::Response>)> {
        let operation = request.operation;
        let timeouts = &self.config.timeouts;
        let started = Instant::now();
        let overall = after(started, timeouts.overall);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if !span.is_disabled() {
                span.record("attempts", attempt);
            }
            let until = after(
                if attempt == 1 {
                    started
                } else {
                    Instant::now()
                },
                timeouts.attempt,
            )
            .min(overall);
            // The attempt's future and its result end with this block: the wait before a
            // retry keeps room for neither.
            let delay = {
                let attempt_call = std::pin::pin!(self.attempt(request, stream));
                let result = match until_deadline(&mut timer, until, attempt_call).await {
                    Some(result) => result,
                    None if until < overall => Err(self.attempt_timed_out(request)),
                    None => return self.finish(span, Err(self.overall_timed_out(request))),
                };
                match self.retry_delay(operation.kind, attempt, started, &result) {
                    Some(delay) => delay,
                    None => return self.finish(span, result),
                }
            };
            if until_deadline(&mut timer, overall, self.config.clock.sleep(delay).as_mut())
                .await
                .is_none()
            {
                return self.finish(span, Err(self.overall_timed_out(request)));
            }
        }
    }

    /// The wait before another attempt after `result`, the `attempt`-th since `started`: `None`
    /// when the operation's kind, the retry policy or the overall timeout allows no other.
    fn retry_delay<T>(
        &self,
        kind: OperationKind,
        attempt: u32,
        started: Instant,
        result: &Result<(HttpResponse, T)>,
    ) -> Option<Duration> {
        if !may_retry(kind, result.as_ref().map(|(head, _)| head)) {
            return None;
        }
        let retry_after = result
            .as_ref()
            .ok()
            .and_then(|(head, _)| head.retry_after());
        let delay =
            self.config
                .retry
                .next_delay(attempt, retry_after, self.config.jitter.sample())?;
        if !ends_in_time(started.elapsed(), delay, self.config.timeouts.overall) {
            return None;
        }
        match result {
            Ok((response, _)) => tracing::warn!(
                status = response.status.as_u16(),
                delay_ms = delay.as_millis(),
                "retrying"
            ),
            Err(err) => tracing::warn!(error = %err, delay_ms = delay.as_millis(), "retrying"),
        }
        Some(delay)
    }

    /// An attempt that ran out of its own time (it may be retried, as a timeout).
    fn attempt_timed_out(&self, request: &HttpRequest) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{} timed out after {}s",
                request.operation.name,
                self.config.timeouts.attempt.as_secs_f64()
            ),
        )
        .with_provider(self.provider.clone())
    }

    /// The call ran out of its overall time.
    fn overall_timed_out(&self, request: &HttpRequest) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{} did not complete within {}s",
                request.operation.name,
                self.config.timeouts.overall.as_secs_f64()
            ),
        )
        .with_provider(self.provider.clone())
    }

    #[allow(clippy::unused_self)]
    fn finish<T>(
        &self,
        span: &tracing::Span,
        result: Result<(HttpResponse, T)>,
    ) -> Result<(HttpResponse, T)> {
        match &result {
            Ok((response, _)) => {
                if !span.is_disabled() {
                    span.record("status", response.status.as_u16());
                }
                tracing::debug!(status = response.status.as_u16(), "answered");
            }
            Err(err) => tracing::debug!(error = %err, "failed"),
        }
        result
    }

    /// What one attempt sends. The request is prepared once by the provider crate: each
    /// attempt copies its URL, builds its header map from the request's inline list (reqwest
    /// takes it: no map is kept beside it across the wait) and shares its body (`Bytes`);
    /// nothing is parsed again.
    fn prepare(&self, request: &HttpRequest, stream: bool) -> reqwest::Request {
        let mut prepared = reqwest::Request::new(request.method.clone(), request.url.clone());
        *prepared.headers_mut() = request.headers.to_map();
        *prepared.body_mut() = request.body.clone().map(reqwest::Body::from);
        if stream {
            // The body of a streamed answer is read after `attempts` returns: reqwest's own
            // timer bounds each read of it to the attempt timeout.
            *prepared.timeout_mut() = Some(self.config.timeouts.attempt);
        }
        prepared
    }

    async fn attempt(
        &self,
        request: &HttpRequest,
        stream: bool,
    ) -> Result<(HttpResponse, Option<reqwest::Response>)> {
        // Built in the call, not in a local: the call's future does not keep room for a
        // request that reqwest has already taken.
        let mut response = self
            .client
            .execute(self.prepare(request, stream))
            .await
            .map_err(|e| self.transport_error(request, e))?;
        let status = response.status();
        if stream && status.is_success() {
            let headers = std::mem::take(response.headers_mut());
            let head = HttpResponse {
                provider: self.provider.clone(),
                operation: request.operation,
                status,
                received_at: self.received_at(&headers),
                headers,
                body: Bytes::new(),
            };
            return Ok((head, Some(response)));
        }
        let cap = self.config.max_response_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > cap as u64)
        {
            return Err(self.too_large(request, cap, status));
        }
        let body = self.read_body(request, &mut response, cap, status).await?;
        // The headers are moved out only now: the wait for the body keeps no second map.
        let headers = std::mem::take(response.headers_mut());
        let response = HttpResponse {
            provider: self.provider.clone(),
            operation: request.operation,
            status,
            received_at: self.received_at(&headers),
            headers,
            body,
        };
        Ok((response, None))
    }

    /// When an answer with `headers` arrived, as [`HttpResponse::retry_after`] needs it: the
    /// clock is read only for an answer with a `Retry-After` header, the only one whose time
    /// is ever used ([`UNIX_EPOCH`](SystemTime::UNIX_EPOCH) otherwise).
    fn received_at(&self, headers: &HeaderMap) -> SystemTime {
        if headers.contains_key(RETRY_AFTER) {
            self.config.clock.now()
        } else {
            SystemTime::UNIX_EPOCH
        }
    }

    /// The whole body of `response`, at most `cap` bytes. A body that arrives in one chunk
    /// (the usual case for a provider's small JSON answer) is kept as it came, without a copy.
    async fn read_body(
        &self,
        request: &HttpRequest,
        response: &mut reqwest::Response,
        cap: usize,
        status: StatusCode,
    ) -> Result<Bytes> {
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(request, e))?
        {
            // Once a second chunk came, `rest` holds the first one too.
            let read = if rest.is_empty() {
                first.as_ref().map_or(0, Bytes::len)
            } else {
                rest.len()
            };
            if read + chunk.len() > cap {
                return Err(self.too_large(request, cap, status));
            }
            match &first {
                None => first = Some(chunk),
                Some(head) => {
                    if rest.is_empty() {
                        rest.extend_from_slice(head);
                    }
                    rest.extend_from_slice(&chunk);
                }
            }
        }
        Ok(if rest.is_empty() {
            first.unwrap_or_default()
        } else {
            rest.freeze()
        })
    }

    fn too_large(&self, request: &HttpRequest, cap: usize, status: StatusCode) -> Error {
        self.over_limit(request.operation, cap as u64, status)
    }

    /// The error for an answer whose body passed `cap` bytes: [`ErrorKind::Decode`], or as
    /// [`kind_for_operation`] sees it for a 2xx answer to a send or a code check.
    pub(super) fn over_limit(&self, operation: Operation, cap: u64, status: StatusCode) -> Error {
        let kind = kind_for_operation(ErrorKind::Decode, status.as_u16(), operation.kind);
        Error::new(
            kind,
            format!(
                "{} answered with a body over the {cap}-byte limit",
                operation.name
            ),
        )
        .with_provider(self.provider.clone())
        .with_http_status(status.as_u16())
    }

    fn transport_error(&self, request: &HttpRequest, err: reqwest::Error) -> Error {
        self.body_error(request.operation.name, request.url.host_str(), err)
    }

    /// A transport failure of `name` (to `host`) as an [`Error`]: `Timeout` or `Transport`.
    pub(super) fn body_error(&self, name: &str, host: Option<&str>, err: reqwest::Error) -> Error {
        // reqwest errors carry the URL, which may hold query parameters: keep only the cause.
        let err = err.without_url();
        let (kind, message) = if err.is_timeout() {
            (
                ErrorKind::Timeout,
                format!(
                    "{name} timed out after {}s",
                    self.config.timeouts.attempt.as_secs_f64()
                ),
            )
        } else if err.is_connect() {
            (
                ErrorKind::Transport,
                format!("{name}: cannot connect to {}", host.unwrap_or_default()),
            )
        } else {
            (
                ErrorKind::Transport,
                format!("{name}: connection failed: {}", root_cause(&err)),
            )
        };
        Error::new(kind, message)
            .with_provider(self.provider.clone())
            .with_source(err)
    }
}

impl HttpSettings {
    /// The client of `provider` these settings describe: the application's `reqwest::Client`
    /// if one was supplied, otherwise one built by [`HttpClient::new`] (the connect timeout, no
    /// redirects, no retries inside reqwest).
    pub fn client(&self, provider: ProviderId) -> Result<HttpClient> {
        match self.reqwest() {
            Some(client) => Ok(HttpClient::with_reqwest(
                provider,
                client.clone(),
                self.config().clone(),
            )),
            None => HttpClient::new(provider, self.config().clone()),
        }
    }
}

/// The span field of a request's phone: masked when a subscriber records it, `-` without one.
struct PhoneField<'a>(Option<&'a MaskedPhone>);

impl fmt::Display for PhoneField<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(phone) => phone.fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// Runs `future` until `deadline` on `timer` (set to it now): `None` when the deadline came
/// first. One timer serves every attempt and wait of a call; the future is polled where it was
/// pinned, never moved (an attempt's future is large). A plain function returning the race:
/// no state machine of its own between the call and the attempt.
fn until_deadline<'a, F: Future + ?Sized>(
    timer: &'a mut Deadline,
    deadline: Instant,
    future: Pin<&'a mut F>,
) -> impl Future<Output = Option<F::Output>> + 'a {
    timer.set(deadline);
    timer.race(future)
}

/// Whether a wait of `delay`, `elapsed` into a call, ends before its `overall` timeout: a
/// retry that would start at the deadline or after it is not made. Checked: a `Retry-After`
/// near `u64::MAX` seconds under an uncapped policy must not overflow; a wait that long is
/// past any overall timeout.
fn ends_in_time(elapsed: Duration, delay: Duration, overall: Duration) -> bool {
    elapsed.checked_add(delay).is_some_and(|end| end < overall)
}

/// Whether the request certainly never reached the provider: the connection was not made, or
/// an HTTP/2 server refused the stream before processing it (`REFUSED_STREAM`, or a graceful
/// `GOAWAY` that left it out: RFC 9113, section 8.7).
fn never_sent(err: &Error) -> bool {
    let Some(reqwest) =
        std::error::Error::source(err).and_then(|source| source.downcast_ref::<reqwest::Error>())
    else {
        return false;
    };
    if reqwest.is_connect() {
        return true;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(reqwest);
    while let Some(current) = cause {
        if let Some(h2) = current.downcast_ref::<h2::Error>() {
            return h2.is_remote()
                && ((h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM))
                    || (h2.is_go_away() && h2.reason() == Some(h2::Reason::NO_ERROR)));
        }
        cause = current.source();
    }
    false
}

/// Whether an attempt's result allows another attempt of an operation of `kind`.
///
/// Reads are retried on any transient failure. A code check ([`OperationKind::Consume`]) is
/// retried only when the provider surely did not process it: the connection was never made or
/// the stream was refused ([`never_sent`]), or it answered 429, or 503 with `Retry-After`.
/// Sends and writes are never retried.
fn may_retry(kind: OperationKind, result: Result<&HttpResponse, &Error>) -> bool {
    match (kind, result) {
        (OperationKind::Read, Ok(response)) => {
            matches!(response.status.as_u16(), 429 | 502 | 503 | 504)
        }
        (OperationKind::Read, Err(err)) => {
            matches!(err.kind(), ErrorKind::Timeout | ErrorKind::Transport)
        }
        (OperationKind::Consume, Ok(response)) => match response.status.as_u16() {
            429 => true,
            503 => response.headers.contains_key(RETRY_AFTER),
            _ => false,
        },
        (OperationKind::Consume, Err(err)) => never_sent(err),
        _ => false,
    }
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_must_end_before_the_overall_deadline() {
        let second = Duration::from_secs(1);
        let overall = Duration::from_secs(10);
        assert!(ends_in_time(Duration::ZERO, second, overall));
        assert!(ends_in_time(
            Duration::from_secs(9) - Duration::from_nanos(1),
            second,
            overall
        ));
        // Ending at the deadline leaves no time for the attempt: no retry.
        assert!(!ends_in_time(Duration::from_secs(9), second, overall));
        assert!(!ends_in_time(Duration::from_secs(9), 2 * second, overall));
        // A `Retry-After` too long to add is past any deadline, not a panic.
        assert!(!ends_in_time(second, Duration::MAX, overall));
    }
}
