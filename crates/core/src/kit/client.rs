//! [`HttpClient`]: the one HTTP path of every provider crate.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use tracing::Instrument as _;

use super::base_url::check_allowed;
use super::deadline::{Deadline, after};
use super::request::{HttpRequest, MaskedPhone, Operation, OperationKind, SPAN_TARGET};
use super::response::{HttpResponse, over_limit_kind, refused_before_processing};
use crate::error::{Error, ErrorKind, Result};
use crate::http::retry::parse_retry_after;
use crate::http::{HttpConfig, HttpSettings};
use crate::provider::ProviderId;

/// Sends provider requests with timeouts, the size cap, the retry policy and tracing.
///
/// Cloning is cheap and shares the connection pool. Requests go only to `https` or loopback
/// URLs. The client [`new`](Self::new) builds never follows a redirect (a 3xx answer is
/// returned as it is); an answer that a caller's client ([`with_reqwest`](Self::with_reqwest))
/// reached by following one is refused.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    config: HttpConfig,
    provider: ProviderId,
    /// Which 429 and 503 answers refuse a request after processing it, if the provider has
    /// such answers ([`with_final_refusals`](Self::with_final_refusals)).
    final_refusal: Option<fn(&HttpResponse) -> bool>,
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
    /// [`http::reqwest_builder`](crate::http::reqwest_builder). Settings
    /// [`with_reqwest`](Self::with_reqwest) refuses, and a user agent that is not a valid header
    /// value (a line break in it), are [`ErrorKind::InvalidInput`].
    pub fn new(provider: ProviderId, config: HttpConfig) -> Result<Self> {
        check_config(&config, &provider, true)?;
        HeaderValue::from_str(&config.user_agent).map_err(|e| {
            Error::invalid_input("the HTTP user agent is not a valid header value")
                .with_provider(provider.clone())
                .with_source(e)
        })?;
        let client = crate::http::reqwest_builder(&config).build().map_err(|e| {
            Error::new(ErrorKind::Transport, "cannot build the HTTP client").with_source(e)
        })?;
        Self::with_reqwest(provider, client, config)
    }

    /// A client on a caller-supplied `reqwest::Client` (shared pool, proxies, custom TLS). Its
    /// own connect timeout, redirect and retry policies apply: build it from
    /// [`http::reqwest_builder`](crate::http::reqwest_builder), or at least disable redirects on
    /// it and give it a connect timeout shorter than `config`'s attempt timeout (a connection
    /// still being made at the attempt's deadline leaves a send [`ErrorKind::MaybeSent`], where a
    /// connect error is known to have sent nothing). Per-attempt and overall timeouts, retries
    /// and the size cap still come from `config`.
    ///
    /// A redirect such a client follows is seen only once it has been followed: the request,
    /// body and custom headers (a phone, a code, an API key) included, went to the new location
    /// too. Its answer is refused, never retried: [`ErrorKind::MaybeSent`] for a send and
    /// [`ErrorKind::OutcomeUnknown`] for a code check (the new location may have acted on it),
    /// [`ErrorKind::InvalidInput`] for any other operation (a misconfigured client).
    ///
    /// Settings under which every call would fail are [`ErrorKind::InvalidInput`], naming the
    /// setting, before any request: a zero attempt or overall timeout (every call timing out,
    /// which looks like an outage), or a `max_response_bytes` of zero (every answer over the
    /// cap: a sent code reported as maybe sent, a used one as an unknown outcome). The connect
    /// timeout is the supplied client's own: `config`'s is not read, nor checked, here.
    pub fn with_reqwest(
        provider: ProviderId,
        client: reqwest::Client,
        config: HttpConfig,
    ) -> Result<Self> {
        check_config(&config, &provider, false)?;
        Ok(Self {
            client,
            config,
            provider,
            final_refusal: None,
        })
    }

    /// This client, told by `is_final` which of the provider's 429 and 503 answers refuse a
    /// request after processing it, so that asking again cannot change the answer (Twilio's
    /// `60202`: the verification's check attempts are used up). Such an answer is returned as
    /// it is, never retried: a code check is retried only when the provider surely did not
    /// process it. `is_final` sees only answers that would otherwise be retried (a 429, or a
    /// 503 with `Retry-After`, to a code check; a 429, 502, 503 or 504 to a read), their body
    /// read.
    #[must_use]
    pub fn with_final_refusals(mut self, is_final: fn(&HttpResponse) -> bool) -> Self {
        self.final_refusal = Some(is_final);
        self
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
    /// the answer with any HTTP status. Errors are, before any request,
    /// [`ErrorKind::InvalidInput`] for a URL it never sends to (not `https`, but for `http` to
    /// a loopback host; credentials in it) and [`ErrorKind::Transport`] when the thread that
    /// keeps deadlines cannot be started; then transport failures, timeouts, oversized bodies
    /// and answers reached through a redirect only, turned into [`ErrorKind::MaybeSent`] or
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
                // No attempt was in flight: the last one is known not to have been processed
                // (a code check waits only after such an attempt).
                let err = self.overall_timed_out(request).with_source(BetweenAttempts);
                return self.finish(span, Err(err));
            }
        }
    }

    /// The wait before another attempt after `result`, the `attempt`-th since `started`: `None`
    /// when the operation's kind, the retry policy or the overall timeout allows no other. A
    /// code check is retried only if the wait and a whole attempt after it end before the
    /// overall deadline: a retry the deadline cut short would leave the check's outcome unknown,
    /// where the answer in hand (a refusal before processing) is known.
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
        if let (Ok((response, _)), Some(is_final)) = (result, self.final_refusal)
            && is_final(response)
        {
            return None;
        }
        let retry_after = match result {
            Ok((head, _)) => head.retry_after(),
            // An answer over the size cap keeps its `Retry-After` in the error.
            Err(err) => err.retry_after(),
        };
        let delay =
            self.config
                .retry
                .next_delay(attempt, retry_after, self.config.jitter.sample())?;
        let timeouts = &self.config.timeouts;
        let room = match kind {
            OperationKind::Consume => timeouts.attempt,
            _ => Duration::ZERO,
        };
        if !ends_in_time(started.elapsed(), delay, room, timeouts.overall) {
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
        if response.url() != &request.url {
            return Err(self.redirected(request, response.url()));
        }
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
            return Err(self.over_limit(request.operation, cap as u64, status, response.headers()));
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
            .map_err(|e| self.body_error(request.operation.name, request.url.host_str(), e))?
        {
            // Once a second chunk came, `rest` holds the first one too.
            let read = if rest.is_empty() {
                first.as_ref().map_or(0, Bytes::len)
            } else {
                rest.len()
            };
            if read + chunk.len() > cap {
                let headers = response.headers();
                return Err(self.over_limit(request.operation, cap as u64, status, headers));
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

    /// The error for an answer (`status`, `headers`) whose body passed `cap` bytes: a server
    /// error's kind for its status and operation (a send or a code check so answered is in
    /// doubt, a lookup's provider unavailable and retried), otherwise [`ErrorKind::Decode`], in
    /// doubt for a 2xx answer to a send or a code check. It keeps the answer's `Retry-After`.
    pub(super) fn over_limit(
        &self,
        operation: Operation,
        cap: u64,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Error {
        let kind = over_limit_kind(
            status.as_u16(),
            headers.contains_key(RETRY_AFTER),
            operation.kind,
        );
        let err = Error::new(
            kind,
            format!(
                "{} answered with a body over the {cap}-byte limit",
                operation.name
            ),
        )
        .with_provider(self.provider.clone())
        .with_http_status(status.as_u16());
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, self.received_at(headers)));
        match retry_after {
            Some(delay) => err.with_retry_after(delay),
            None => err,
        }
    }

    /// The error for an answer a caller's client reached by following a redirect to `to`: the
    /// request went there too, so a send's or a code check's outcome is unknown; any other
    /// operation's is a misconfigured client's [`ErrorKind::InvalidInput`].
    fn redirected(&self, request: &HttpRequest, to: &reqwest::Url) -> Error {
        let operation = request.operation;
        let (kind, what) = match operation.kind {
            OperationKind::Send => (ErrorKind::MaybeSent, ": the message may have been sent"),
            OperationKind::Consume => (
                ErrorKind::OutcomeUnknown,
                ": the code may have been used; start a new verification",
            ),
            _ => (ErrorKind::InvalidInput, ""),
        };
        Error::new(
            kind,
            format!(
                "{}: the supplied reqwest client followed a redirect to {}; build it from \
                 http::reqwest_builder, which follows none{what}",
                operation.name,
                to.host_str().unwrap_or_default()
            ),
        )
        .with_provider(self.provider.clone())
    }

    /// A failure of `request` before the head of its answer arrived, as an [`Error`]: a
    /// connection that was never made is told apart ([`never_sent`]).
    fn transport_error(&self, request: &HttpRequest, err: reqwest::Error) -> Error {
        // reqwest errors carry the URL, which may hold query parameters: keep only the cause.
        let err = err.without_url();
        self.failure(request.operation.name, request.url.host_str(), &err)
            .with_source(err)
    }

    /// A failure reading the body of an answer to `name` (to `host`) whose head had arrived, as
    /// an [`Error`]: its source is an [`AfterHeaders`], so the request never reads as unsent,
    /// whatever ended the body (an HTTP/2 `REFUSED_STREAM` reset included).
    pub(super) fn body_error(&self, name: &str, host: Option<&str>, err: reqwest::Error) -> Error {
        let err = err.without_url();
        self.failure(name, host, &err)
            .with_source(AfterHeaders(err))
    }

    /// The error of transport failure `err` of `name` (to `host`), without its source:
    /// `Transport` for a connection never made (its connect timeout included: nothing was
    /// sent), `Timeout` for a request that ran out of time, `Transport` for any other failure.
    fn failure(&self, name: &str, host: Option<&str>, err: &reqwest::Error) -> Error {
        let (kind, message) = if err.is_connect() {
            let what = if err.is_timeout() {
                "timed out connecting to"
            } else {
                "cannot connect to"
            };
            (
                ErrorKind::Transport,
                format!("{name}: {what} {}", host.unwrap_or_default()),
            )
        } else if err.is_timeout() {
            (
                ErrorKind::Timeout,
                format!(
                    "{name} timed out after {}s",
                    self.config.timeouts.attempt.as_secs_f64()
                ),
            )
        } else {
            (
                ErrorKind::Transport,
                format!("{name}: connection failed: {}", root_cause(err)),
            )
        };
        Error::new(kind, message).with_provider(self.provider.clone())
    }
}

impl HttpSettings {
    /// The client of `provider` these settings describe: the application's `reqwest::Client`
    /// if one was supplied, otherwise one built by [`HttpClient::new`] (the connect timeout, no
    /// redirects, no retries inside reqwest).
    pub fn client(&self, provider: ProviderId) -> Result<HttpClient> {
        match self.reqwest() {
            Some(client) => {
                HttpClient::with_reqwest(provider, client.clone(), self.config().clone())
            }
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

/// Refuses `config` where no call could succeed: a zero attempt or overall timeout, a zero
/// response size cap, or, for a client this crate builds (`connect`), a zero connect timeout (a
/// supplied client keeps its own, and never reads it). An attempt timeout above the overall
/// one is not refused: each attempt ends at the overall deadline if that comes first.
fn check_config(config: &HttpConfig, provider: &ProviderId, connect: bool) -> Result<()> {
    let timeouts = &config.timeouts;
    let zero = [
        ("timeouts.connect", connect && timeouts.connect.is_zero()),
        ("timeouts.attempt", timeouts.attempt.is_zero()),
        ("timeouts.overall", timeouts.overall.is_zero()),
        ("max_response_bytes", config.max_response_bytes == 0),
    ]
    .into_iter()
    .find_map(|(name, zero)| zero.then_some(name));
    match zero {
        Some(name) => Err(
            Error::invalid_input(format!("the HTTP setting {name} must be above 0"))
                .with_provider(provider.clone()),
        ),
        None => Ok(()),
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

/// Whether a wait of `delay`, `elapsed` into a call, and `room` for the attempt after it, end
/// before its `overall` timeout: a retry that would start at the deadline or after it (or, with
/// a whole attempt timeout as `room`, end past it) is not made. Checked: a `Retry-After` near
/// `u64::MAX` seconds under an uncapped policy must not overflow; a wait that long is past any
/// overall timeout.
fn ends_in_time(elapsed: Duration, delay: Duration, room: Duration, overall: Duration) -> bool {
    elapsed
        .checked_add(delay)
        .and_then(|end| end.checked_add(room))
        .is_some_and(|end| end < overall)
}

/// The source of the error of a call whose overall deadline passed while it waited to retry:
/// no attempt was in flight, and the last one was not processed (a code check is retried only
/// after such an attempt), so the error is not an unknown outcome.
#[derive(Debug)]
struct BetweenAttempts;

impl fmt::Display for BetweenAttempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the deadline passed between attempts")
    }
}

impl std::error::Error for BetweenAttempts {}

/// The source of an error while reading an answer's body, in place of the `reqwest::Error` it
/// shows: the answer's head had arrived, so the request was not refused unprocessed, even when
/// the body ended with an HTTP/2 `REFUSED_STREAM` reset ([`never_sent`] finds no
/// `reqwest::Error` here). `Display` and `source` are the `reqwest::Error`'s.
#[derive(Debug)]
struct AfterHeaders(reqwest::Error);

impl fmt::Display for AfterHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for AfterHeaders {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Whether the request certainly never reached the provider: the connection was not made, or
/// an HTTP/2 server refused the stream before processing it (`REFUSED_STREAM`, or a graceful
/// `GOAWAY` that left it out: RFC 9113, section 8.7) before any answer's head; or the call ran
/// out of time between attempts ([`BetweenAttempts`]), after one that was not processed. A
/// failure reading a body ([`AfterHeaders`]) is never one: the head proves the request arrived.
fn never_sent(err: &Error) -> bool {
    let source = std::error::Error::source(err);
    if source
        .and_then(|source| source.downcast_ref::<BetweenAttempts>())
        .is_some()
    {
        return true;
    }
    source.is_some_and(attempt_unsent)
}

/// Whether a call that failed with `err`, an error of [`HttpClient::execute`] or
/// [`HttpClient::execute_streamed`] (or one that has such an error in its chain of
/// [`Error`] sources), surely never reached the provider: its connection was never made (DNS,
/// TCP, TLS, the connect timeout), or an HTTP/2 server refused its stream unprocessed
/// (`REFUSED_STREAM`, a graceful `GOAWAY`) before any answer's head. An attempt's timeout, a
/// connection lost after the request left, a body cut short and an answer are never so. It
/// tells of the call's last attempt: an earlier one of a retried read may have been processed.
///
/// For a provider crate's messages, e.g. not to say that a write may have taken effect when
/// nothing was sent; whether to retry is the client's decision.
pub fn surely_unsent(err: &Error) -> bool {
    let mut current: &Error = err;
    loop {
        let Some(source) = std::error::Error::source(current) else {
            return false;
        };
        match source.downcast_ref::<Error>() {
            Some(inner) => current = inner,
            None => return attempt_unsent(source),
        }
    }
}

/// Whether `source`, the source of an attempt's error, shows a request that never reached the
/// provider (see [`never_sent`]).
fn attempt_unsent(source: &(dyn std::error::Error + 'static)) -> bool {
    let Some(reqwest) = source.downcast_ref::<reqwest::Error>() else {
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
/// Reads are retried on any transient failure: a timeout, a transport error, or an answer of
/// 429, 502, 503 or 504 (its body read, or over the size cap). A code check
/// ([`OperationKind::Consume`]) is retried only when the provider surely did not process it:
/// the connection was never made or the stream was refused ([`never_sent`]), or it refused the
/// request before processing ([`refused_before_processing`]: 429, or 503 with
/// `Retry-After`). Sends and writes are never retried.
fn may_retry(kind: OperationKind, result: Result<&HttpResponse, &Error>) -> bool {
    let transient = |status: u16| matches!(status, 429 | 502 | 503 | 504);
    match (kind, result) {
        (OperationKind::Read, Ok(response)) => transient(response.status.as_u16()),
        (OperationKind::Read, Err(err)) => {
            matches!(err.kind(), ErrorKind::Timeout | ErrorKind::Transport)
                || err.http_status().is_some_and(transient)
        }
        (OperationKind::Consume, Ok(response)) => refused_before_processing(
            response.status.as_u16(),
            response.headers.contains_key(RETRY_AFTER),
        ),
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
    use crate::http::Timeouts;

    #[test]
    fn a_wait_must_end_before_the_overall_deadline() {
        let second = Duration::from_secs(1);
        let overall = Duration::from_secs(10);
        let none = Duration::ZERO;
        assert!(ends_in_time(Duration::ZERO, second, none, overall));
        assert!(ends_in_time(
            Duration::from_secs(9) - Duration::from_nanos(1),
            second,
            none,
            overall
        ));
        // Ending at the deadline leaves no time for the attempt: no retry.
        assert!(!ends_in_time(Duration::from_secs(9), second, none, overall));
        assert!(!ends_in_time(
            Duration::from_secs(9),
            2 * second,
            none,
            overall
        ));
        // A `Retry-After` too long to add is past any deadline, not a panic.
        assert!(!ends_in_time(second, Duration::MAX, none, overall));
        assert!(!ends_in_time(second, second, Duration::MAX, overall));
    }

    /// A zero timeout or size cap is refused before any request, naming the setting, by both
    /// constructors; an attempt timeout above the overall one is not (the overall deadline
    /// ends the attempt).
    #[test]
    fn settings_under_which_every_call_fails_are_refused() {
        let acme = || ProviderId::new_static("acme");
        let timeouts = Timeouts::default();
        for (config, name) in [
            (
                HttpConfig::default().with_timeouts(timeouts.with_connect(Duration::ZERO)),
                "timeouts.connect",
            ),
            (
                HttpConfig::default().with_timeouts(timeouts.with_attempt(Duration::ZERO)),
                "timeouts.attempt",
            ),
            (
                HttpConfig::default().with_timeouts(timeouts.with_overall(Duration::ZERO)),
                "timeouts.overall",
            ),
            (
                HttpConfig::default().with_max_response_bytes(0),
                "max_response_bytes",
            ),
        ] {
            let built = HttpClient::new(acme(), config.clone()).unwrap_err();
            let supplied = HttpClient::with_reqwest(acme(), reqwest::Client::new(), config);
            // A supplied client keeps its own connect timeout: the config's is never read.
            let supplied = match name {
                "timeouts.connect" => {
                    supplied.unwrap();
                    None
                }
                _ => Some(supplied.unwrap_err()),
            };
            for err in std::iter::once(built).chain(supplied) {
                assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
                assert!(err.message().contains(name), "{name}: {err}");
                assert_eq!(err.provider().map(ProviderId::as_str), Some("acme"));
            }
        }
        let long_attempt = timeouts
            .with_attempt(Duration::from_secs(60))
            .with_overall(Duration::from_secs(1));
        let config = HttpConfig::default()
            .with_timeouts(long_attempt)
            .with_max_response_bytes(1);
        HttpClient::new(acme(), config.clone()).unwrap();
        HttpClient::with_reqwest(acme(), reqwest::Client::new(), config).unwrap();
    }

    /// A connection never made is surely unsent, also under a provider's wrapping error; a
    /// connection closed after the request left, a timeout without a source, and a deadline
    /// between attempts (unsent only for a code check, which waits only after an unprocessed
    /// attempt) are not.
    #[tokio::test]
    async fn only_a_connection_never_made_is_surely_unsent() {
        let client =
            HttpClient::new(ProviderId::new_static("acme"), HttpConfig::default()).unwrap();
        let call = |addr: std::net::SocketAddr| {
            let url = super::super::BaseUrl::parse(&format!("http://{addr}/v1"))
                .unwrap()
                .join("revoke");
            client.execute(HttpRequest::post(Operation::write("revoke"), url))
        };
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let refused = call(addr).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Transport, "{refused}");
        assert!(surely_unsent(&refused), "{refused:?}");
        let wrapped = Error::new(ErrorKind::Transport, "renewal failed").with_source(refused);
        assert!(surely_unsent(&wrapped));

        // A server that takes the request and closes the connection without an answer.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            use tokio::io::AsyncReadExt as _;
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
        });
        let lost = call(addr).await.unwrap_err();
        server.await.unwrap();
        assert_eq!(lost.kind(), ErrorKind::Transport, "{lost}");
        assert!(!surely_unsent(&lost), "{lost:?}");

        assert!(!surely_unsent(&Error::new(ErrorKind::Timeout, "timed out")));
        let io = Error::new(ErrorKind::Transport, "io").with_source(std::io::Error::other("x"));
        assert!(!surely_unsent(&io));
        let between = Error::new(ErrorKind::Timeout, "late").with_source(BetweenAttempts);
        assert!(never_sent(&between));
        assert!(!surely_unsent(&between));
    }

    /// A code check's retry needs room for a whole attempt before the overall deadline.
    #[test]
    fn a_retry_with_room_for_an_attempt_must_end_before_the_overall_deadline() {
        let second = Duration::from_secs(1);
        let overall = Duration::from_secs(10);
        assert!(ends_in_time(second, second, 7 * second, overall));
        assert!(!ends_in_time(second, second, 8 * second, overall));
        assert!(!ends_in_time(
            Duration::from_millis(700),
            Duration::from_millis(100),
            10 * second,
            second
        ));
    }
}
