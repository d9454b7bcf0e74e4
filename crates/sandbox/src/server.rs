//! The HTTP server: the route tree, per-connection serving (so a fault can reset the TCP
//! connection), and the provider middleware that applies faults and logs requests.
//!
//! # Emulating a provider
//!
//! Every emulator has one shape, so a new one (the Twilio emulator, a third party's) is three
//! steps:
//!
//! 1. **Add a folder** `src/<provider>/` with a `mod.rs` holding its state, its error type and a
//!    [`Wire`] constant (its error body for a bare status and a truncated JSON body in its own
//!    envelope), plus small modules named for what they hold (one per resource or flow).
//!    Emulators never call each other: what two of them need lives in a shared module
//!    (`validate`, `format`, `phone`, `otp`, `texts`, ...).
//! 2. **Write `router(app)`** listing the provider's routes as a `Router<App>` and ending with
//!    [`finish`]`(app, WIRE, routes)`, which adds the same 404/405 answers in the provider's
//!    error shape, the fault/logging middleware and the state, for every emulator alike.
//! 3. **Mount it here**: one line in [`emulators`] with the path prefix standing for the
//!    provider's host (and a [`Provider`] variant in `model.rs`, with its per-provider state slot
//!    in `state.rs`).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tower_service::Service;

use crate::faults::FaultAction;
use crate::model::{Provider, RequestRecord};
use crate::state::App;
use crate::{control, twilio, verifik, verifykit, verigator};

/// Every emulated provider host: the path prefix standing for the host, and its finished
/// router (see the module docs). A provider with two hosts has two entries.
fn emulators(app: &App) -> Vec<(&'static str, Router)> {
    vec![
        ("/verifykit/web-rest", verifykit::web_rest_router(app)),
        ("/verifykit/api", verifykit::api_router(app)),
        ("/verifik", verifik::router(app)),
        ("/verigator", verigator::router(app)),
        ("/twilio", twilio::router(app)),
    ]
}

/// The whole route tree: every emulator under its prefix, plus `/_sandbox`.
pub(crate) fn router(app: &App) -> Router {
    let emulators = emulators(app);
    let prefixes = emulators
        .iter()
        .map(|(prefix, _)| *prefix)
        .collect::<Vec<_>>()
        .join(", ");
    let not_found = serde_json::json!({
        "error": format!(
            "no such route; providers live under {prefixes}, the control API under /_sandbox"
        )
    });
    emulators
        .into_iter()
        .fold(Router::new(), |router, (prefix, emulator)| {
            router.nest(prefix, emulator)
        })
        .nest("/_sandbox", control::router(app))
        .fallback(|| async move { (StatusCode::NOT_FOUND, axum::Json(not_found)) })
}

/// What the sandbox itself answers in a provider's wire format: on unknown routes, wrong
/// methods and injected faults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wire {
    /// The provider emulated (its faults, its request log).
    pub(crate) provider: Provider,
    /// The provider's error response for a bare HTTP status.
    pub(crate) status_error: fn(StatusCode) -> Response,
    /// A JSON body in the provider's envelope, cut off mid-value (the `malformed_json` fault).
    pub(crate) malformed_json: &'static str,
}

/// The one ending of every emulator's `router(app)`: 404 for an unknown path and 405 for a
/// wrong method in the provider's error shape, the provider middleware (faults, request log)
/// in front of every route, and the sandbox state.
pub(crate) fn finish(app: &App, wire: Wire, routes: Router<App>) -> Router {
    let status_error = wire.status_error;
    routes
        .fallback(move || async move { status_error(StatusCode::NOT_FOUND) })
        .method_not_allowed_fallback(
            move || async move { status_error(StatusCode::METHOD_NOT_ALLOWED) },
        )
        .layer(from_fn_with_state((app.clone(), wire), provider_middleware))
        .with_state(app.clone())
}

/// Accepts connections until `shutdown` fires, then drops every open connection.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(error) => {
                    // Typically out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

/// Marks a response whose connection must be reset instead of answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResetConnection;

/// The error that makes hyper drop a connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection reset by fault injection")]
struct ConnectionResetByFault;

async fn serve_connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let reset = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(ResettableStream {
        inner: stream,
        reset: Arc::clone(&reset),
    });
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let mut router = router.clone();
        let reset = Arc::clone(&reset);
        async move {
            let Ok(response) = router.call(req.map(Body::new)).await;
            if response.extensions().get::<ResetConnection>().is_some() {
                reset.store(true, Ordering::SeqCst);
                return Err(ConnectionResetByFault);
            }
            Ok(response)
        }
    });
    if let Err(error) = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await
    {
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// A TCP stream that, when its fault flag is set, closes with RST (zero linger) on drop.
struct ResettableStream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Runs in front of every provider route: applies a matching injected fault and logs the
/// request with the status it got. Each request is served in its own task, so a client that
/// hangs up (say, its timeout during a `Delay` fault) does not cancel it: as with a real
/// provider, the request is still processed (a code still sent) and logged.
async fn provider_middleware(
    State((app, wire)): State<(App, Wire)>,
    req: Request,
    next: Next,
) -> Response {
    tokio::spawn(serve_provider_request(app, wire, req, next))
        .await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn serve_provider_request(app: App, wire: Wire, req: Request, next: Next) -> Response {
    let provider = wire.provider;
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let forwarded_for = req
        .headers()
        .get("x-vfk-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let fault = app.common.take_fault(provider, &method, &path);
    let at = app.common.now();
    let response = match &fault {
        None => next.run(req).await,
        Some(action) => apply_fault(wire, action, req, next).await,
    };
    // A delayed answer is logged (and counted) as soon as the request took effect.
    let delay = match &fault {
        Some(FaultAction::Delay { ms }) => Some(Duration::from_millis(*ms)),
        _ => None,
    };
    let status = (response.extensions().get::<ResetConnection>().is_none())
        .then(|| response.status().as_u16());
    tracing::info!(%provider, %method, %path, status, fault = fault.as_ref().map(FaultAction::name), "request");
    app.common.log_request(RequestRecord {
        provider,
        method,
        path,
        status,
        at,
        fault: fault.as_ref().map(|f| f.name().to_owned()),
        forwarded_for,
    });
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    response
}

async fn apply_fault(wire: Wire, action: &FaultAction, req: Request, next: Next) -> Response {
    match action {
        FaultAction::Status { status, body } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            match body {
                Some(body) => (status, body.clone()).into_response(),
                None => (wire.status_error)(status),
            }
        }
        // A slow provider: the request takes effect at once, the answer comes late (the
        // caller sleeps after logging the request).
        FaultAction::Delay { .. } => next.run(req).await,
        FaultAction::ConnectionReset => {
            let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            response.extensions_mut().insert(ResetConnection);
            response
        }
        FaultAction::TruncatedBody => truncate(next.run(req).await).await,
        FaultAction::MalformedJson => (
            [(header::CONTENT_TYPE, "application/json")],
            wire.malformed_json,
        )
            .into_response(),
        FaultAction::WrongContentType => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><head><title>Service notice</title></head><body><h1>We'll be right back</h1></body></html>",
        )
            .into_response(),
        FaultAction::RateLimited { retry_after_secs } => {
            let mut response = (wire.status_error)(StatusCode::TOO_MANY_REQUESTS);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            response
        }
        FaultAction::ServiceUnavailable { retry_after_secs } => {
            let mut response = (wire.status_error)(StatusCode::SERVICE_UNAVAILABLE);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            response
        }
        FaultAction::ResetAfterProcessing => {
            // The request takes effect; its answer is thrown away and the connection reset.
            drop(next.run(req).await);
            let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            response.extensions_mut().insert(ResetConnection);
            response
        }
        FaultAction::OversizedBody { bytes } => oversized(next.run(req).await, *bytes),
        FaultAction::SlowDrip {
            chunk_bytes,
            interval_ms,
        } => drip(next.run(req).await, *chunk_bytes, Duration::from_millis(*interval_ms)).await,
    }
}

/// Keeps status and headers but replaces the body by `bytes` bytes of valid JSON,
/// `{"padding":"aaa…"}`, produced as it is sent (never held in memory) and without
/// `Content-Length`, so only the client's own cap stops it.
fn oversized(response: Response, bytes: u64) -> Response {
    const OPEN: &[u8] = br#"{"padding":""#;
    const CLOSE: &[u8] = br#""}"#;
    static PADDING: [u8; 64 * 1024] = [b'a'; 64 * 1024];
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut padding = bytes.saturating_sub((OPEN.len() + CLOSE.len()) as u64);
    let pieces = std::iter::once(bytes::Bytes::from_static(OPEN))
        .chain(std::iter::from_fn(move || {
            if padding == 0 {
                return None;
            }
            let take = usize::try_from(padding)
                .unwrap_or(usize::MAX)
                .min(PADDING.len());
            padding -= take as u64;
            Some(bytes::Bytes::from_static(&PADDING[..take]))
        }))
        .chain(std::iter::once(bytes::Bytes::from_static(CLOSE)))
        .map(Ok::<_, io::Error>);
    Response::from_parts(parts, Body::from_stream(futures::stream::iter(pieces)))
}

/// Keeps status and headers (announcing the full length) and sends the body `chunk_bytes`
/// at a time, waiting `interval` before each chunk.
async fn drip(response: Response, chunk_bytes: usize, interval: Duration) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let chunk_bytes = chunk_bytes.max(1);
    let chunks = futures::stream::unfold(bytes, move |mut rest| async move {
        if rest.is_empty() {
            return None;
        }
        tokio::time::sleep(interval).await;
        let chunk = rest.split_to(chunk_bytes.min(rest.len()));
        Some((Ok::<_, io::Error>(chunk), rest))
    });
    Response::from_parts(parts, Body::from_stream(chunks))
}

/// Keeps status and headers, announces the full length, sends half the body, then fails the
/// body stream so hyper drops the connection mid-body. The stream waits a moment before failing
/// so hyper flushes the head and the first half to the socket first.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(bytes.len().max(1)),
    );
    let chunks = futures::stream::unfold(Some(Some(half)), |step| async move {
        if let Some(half) = step? {
            return Some((Ok(half), Some(None)));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let error = io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "body truncated by fault injection",
        );
        Some((Err::<bytes::Bytes, io::Error>(error), None))
    });
    Response::from_parts(parts, Body::from_stream(chunks))
}

#[cfg(test)]
mod tests {
    use crate::{Fault, FaultAction, Provider, Sandbox, SandboxConfig, SandboxHandle};

    const PHONE: &str = "+905321234567";

    async fn send_otp(sandbox: &SandboxHandle) -> reqwest::Result<reqwest::Response> {
        reqwest::Client::new()
            .post(format!("{}/send-otp", sandbox.verifykit_web_rest_url()))
            .header("X-Vfk-Server-Key", "sandbox-server-key")
            .header("X-Vfk-Forwarded-For", "127.0.0.1")
            .json(&serde_json::json!({"phoneNumber": PHONE, "countryCode": "TR"}))
            .send()
            .await
    }

    fn inject(sandbox: &SandboxHandle, action: FaultAction) {
        sandbox.inject_fault(Fault::new(Provider::VerifyKit, action).path("/v1.0/send-otp"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn service_unavailable_answers_503_with_retry_after_unprocessed() {
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        inject(
            &sandbox,
            FaultAction::ServiceUnavailable {
                retry_after_secs: 4,
            },
        );
        let response = send_otp(&sandbox).await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "4");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            body["meta"]["httpStatusCode"], 503,
            "VerifyKit's envelope: {body}"
        );
        assert!(sandbox.messages(PHONE).is_empty(), "not processed");
        let log = sandbox.requests().requests;
        assert_eq!(log[0].fault.as_deref(), Some("service_unavailable"));
        assert_eq!(log[0].status, Some(503));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reset_after_processing_sends_the_code_and_no_answer() {
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        inject(&sandbox, FaultAction::ResetAfterProcessing);
        let error = send_otp(&sandbox).await.unwrap_err();
        assert!(!error.is_status(), "no HTTP answer: {error}");
        assert_eq!(sandbox.messages(PHONE).len(), 1, "the code went out");
        let log = sandbox.requests().requests;
        assert_eq!(log[0].fault.as_deref(), Some("reset_after_processing"));
        assert_eq!(log[0].status, None);
        // The fault is used up: the next request is answered.
        assert_eq!(send_otp(&sandbox).await.unwrap().status(), 201);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn oversized_body_streams_exactly_that_many_bytes_of_json() {
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        let bytes = 200_000;
        inject(&sandbox, FaultAction::OversizedBody { bytes });
        let response = send_otp(&sandbox).await.unwrap();
        assert_eq!(response.status(), 201, "the request's own status");
        assert!(response.headers().get("content-length").is_none());
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = response.bytes().await.unwrap();
        assert_eq!(body.len() as u64, bytes);
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(json["padding"].as_str().unwrap().bytes().all(|b| b == b'a'));
        assert_eq!(sandbox.messages(PHONE).len(), 1, "processed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_drip_announces_the_length_and_delivers_the_whole_body() {
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        inject(
            &sandbox,
            FaultAction::SlowDrip {
                chunk_bytes: 7,
                interval_ms: 1,
            },
        );
        let response = send_otp(&sandbox).await.unwrap();
        assert_eq!(response.status(), 201);
        let announced: usize = response.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(serde_json::to_vec(&body).unwrap().len(), announced);
        assert!(body["result"]["reference"].is_string(), "{body}");
        assert_eq!(sandbox.messages(PHONE).len(), 1, "processed");
        assert_eq!(
            sandbox.requests().requests[0].fault.as_deref(),
            Some("slow_drip")
        );
    }
}
