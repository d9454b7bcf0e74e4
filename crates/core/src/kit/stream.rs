//! [`HttpStream`]: a provider's answer whose body is read piece by piece
//! ([`HttpClient::execute_streamed`]), for bodies too large to hold at once.

use std::fmt;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tracing::Instrument as _;

use super::client::HttpClient;
use super::deadline::{Deadline, after};
use super::request::{HttpRequest, Operation};
use super::response::HttpResponse;
use crate::error::{Error, ErrorKind, Result};

/// Streamed sending, defined here so that the client's module does not depend on the stream.
impl HttpClient {
    /// Sends `request` like [`execute`](Self::execute) (same checks, timeouts, retry policy
    /// and tracing), but leaves the body of a 2xx answer unread: [`HttpStream::chunk`] reads
    /// it piece by piece, for bodies too large to hold (a provider's full listing). `limit` caps
    /// the bytes read from that body (`None`: no cap; the per-attempt and overall timeouts
    /// still bound it). Retries happen only before the body is read; an error while reading
    /// it is not retried. A non-2xx answer is read in full within
    /// [`max_response_bytes`](crate::http::HttpConfig::max_response_bytes), as by `execute`.
    pub async fn execute_streamed(
        &self,
        request: HttpRequest,
        limit: Option<u64>,
    ) -> Result<HttpStream> {
        let mut deadline = self.timer()?;
        deadline.set(after(
            std::time::Instant::now(),
            self.config().timeouts.overall,
        ));
        let span = self.span(&request);
        let (head, body) = self.run(&request, true).instrument(span.clone()).await?;
        Ok(HttpStream::new(
            self.clone(),
            head,
            body,
            limit,
            deadline,
            span,
        ))
    }
}

/// An answer from [`HttpClient::execute_streamed`]: status and headers, and a body read with
/// [`chunk`](Self::chunk).
///
/// The body of a 2xx answer is read from the connection as it arrives, so memory stays
/// constant however large it is; it is bounded by the stream's byte limit (if any), the
/// per-attempt timeout (which covers the whole body, as for buffered answers) and the overall
/// deadline of the request. A read that fails is not retried: a read operation may simply be
/// started again. Any other status arrives already read in full, within the client's
/// [`max_response_bytes`](crate::http::HttpConfig::max_response_bytes), and
/// [`into_response`](Self::into_response) hands it over for the provider's error mapping.
///
/// Failures reading the body are [`ErrorKind::Timeout`] or [`ErrorKind::Transport`], or
/// [`ErrorKind::Decode`] past the limit; for a send or a code check, whose 2xx answer was
/// started (the provider took the request), each is [`ErrorKind::MaybeSent`] or
/// [`ErrorKind::OutcomeUnknown`] instead, as for buffered answers. `Debug` shows the
/// operation, status and bytes read, never headers or body.
pub struct HttpStream {
    client: HttpClient,
    head: HttpResponse,
    body: Option<reqwest::Response>,
    limit: Option<u64>,
    read: u64,
    /// The kind of the error that ended the body, if one did: every later read fails too.
    failed: Option<ErrorKind>,
    /// The request's overall deadline.
    deadline: Deadline,
    span: tracing::Span,
}

impl HttpStream {
    fn new(
        client: HttpClient,
        head: HttpResponse,
        body: Option<reqwest::Response>,
        limit: Option<u64>,
        deadline: Deadline,
        span: tracing::Span,
    ) -> Self {
        Self {
            client,
            head,
            body,
            limit,
            read: 0,
            failed: None,
            deadline,
            span,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.head.status
    }

    /// Whether the status is 2xx (the body is then streamed).
    pub fn is_success(&self) -> bool {
        self.head.is_success()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }

    /// The operation that produced it.
    pub fn operation(&self) -> Operation {
        self.head.operation
    }

    /// How many body bytes [`chunk`](Self::chunk) has returned so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The next piece of the body, `None` at its end. After an error, the stream is over and
    /// every later call fails again with the same kind: a body cut short never reads as a
    /// complete one.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        if let Some(kind) = self.failed {
            return Err(self.failed_again(kind));
        }
        let Some(body) = self.body.as_mut() else {
            // Not streamed (a non-2xx answer, read in full) or already over.
            let rest = std::mem::take(&mut self.head.body);
            self.read += rest.len() as u64;
            return Ok((!rest.is_empty()).then_some(rest));
        };
        let next = self
            .deadline
            .race(std::pin::pin!(body.chunk()))
            .instrument(self.span.clone())
            .await;
        let operation = self.head.operation;
        let status = self.head.status;
        let err = match next {
            Some(Ok(Some(chunk))) => {
                self.read += chunk.len() as u64;
                match self.limit {
                    Some(limit) if self.read > limit => {
                        self.client
                            .over_limit(operation, limit, status, &self.head.headers)
                    }
                    _ => return Ok(Some(chunk)),
                }
            }
            Some(Ok(None)) => {
                self.body = None;
                self.span.record("body_bytes", self.read);
                self.span
                    .in_scope(|| tracing::debug!(bytes = self.read, "body streamed"));
                return Ok(None);
            }
            Some(Err(err)) => {
                let host = body.url().host_str().map(str::to_owned);
                self.client
                    .body_error(operation.name, host.as_deref(), err)
                    .with_http_status(status.as_u16())
            }
            None => Error::new(
                ErrorKind::Timeout,
                format!(
                    "{} did not complete within {}s",
                    operation.name,
                    self.client.config().timeouts.overall.as_secs_f64()
                ),
            )
            .with_http_status(status.as_u16()),
        };
        self.body = None;
        self.span
            .in_scope(|| tracing::debug!(error = %err, bytes = self.read, "body failed"));
        let err = self
            .client
            .lost(operation.kind, operation.name, &self.span, err);
        self.failed = Some(err.kind());
        Err(err)
    }

    /// The error of every call after the body failed to read with `kind`.
    fn failed_again(&self, kind: ErrorKind) -> Error {
        Error::new(
            kind,
            format!(
                "{}: the body already failed to read",
                self.head.operation.name
            ),
        )
        .with_provider(self.head.provider.clone())
        .with_http_status(self.head.status.as_u16())
    }

    /// The answer as an [`HttpResponse`], its body what [`chunk`](Self::chunk) has not
    /// returned yet: for a non-2xx status, read in full on arrival; for a 2xx answer, the rest
    /// of the body, read now within the client's
    /// [`max_response_bytes`](crate::http::HttpConfig::max_response_bytes) (and the stream's
    /// limit). Fails as `chunk` does; after a read of the body failed, it fails again with the
    /// same kind, never handing over a body cut short as a complete one.
    pub async fn into_response(mut self) -> Result<HttpResponse> {
        if let Some(kind) = self.failed {
            return Err(self.failed_again(kind));
        }
        if self.body.is_none() {
            return Ok(self.head);
        }
        let cap = self.client.config().max_response_bytes;
        self.limit = Some(self.limit.map_or(cap as u64, |l| l.min(cap as u64)));
        let mut body = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            body.extend_from_slice(&chunk);
        }
        let mut response = self.head;
        response.body = Bytes::from(body);
        Ok(response)
    }
}

impl fmt::Debug for HttpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpStream")
            .field("provider", &self.head.provider)
            .field("operation", &self.head.operation.name)
            .field("status", &self.head.status)
            .field("bytes_read", &self.read)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}
