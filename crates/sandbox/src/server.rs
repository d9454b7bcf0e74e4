//! The HTTP server: the route tree and per-connection serving (so a fault can reset the TCP
//! connection; a request head must arrive within [`HEADER_READ_TIMEOUT`]). The provider layer every emulator ends with (fault injection, request log)
//! is in [`crate::wire`].
//!
//! # Emulating a provider
//!
//! Every emulator has one shape, so a new one (the Twilio emulator, a third party's) is three
//! steps:
//!
//! 1. **Add a folder** `src/<provider>/` with a `mod.rs` holding its routes and a
//!    [`Wire`](crate::wire::Wire) constant (its error body for a bare status, a truncated JSON
//!    body in its own envelope, and how its API takes request bodies: JSON or a form), a
//!    `state.rs` holding its state (importing neither `crate::state` nor the handlers), a
//!    `slot.rs` declaring its lock-protected slot with
//!    [`provider_slot!`](crate::state::provider_slot) and its handler state, an
//!    [`Emulator`](crate::state::Emulator) of that slot, plus small modules named for what they
//!    hold (its error type, one per resource or flow). Files import one way: the handlers
//!    import the slot, the state and the helpers, `mod.rs` imports the handlers, and nothing in
//!    the folder imports `mod.rs`. Emulators never call each other, nor import what composes
//!    them (`crate::app`, the control API, this module): what two of them need lives in a
//!    shared module below them (`state`, `wire`, `validate`, `format`, `phone`, `otp`, `texts`,
//!    ...).
//! 2. **Write `router(app)`** taking its handler state, listing the provider's routes as a
//!    `Router` over that state and ending with [`finish`](crate::wire::finish)`(app, WIRE,
//!    routes)`, which adds the same 404/405 answers in the provider's error shape, the
//!    fault/logging middleware and the state, for every emulator alike.
//! 3. **Mount it here**: one line in [`emulators`] with the path prefix standing for the
//!    provider's host (and a [`Provider`](crate::model::Provider) variant in `model.rs`, with its
//!    emulator in [`Shared`](crate::app::Shared)).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tower_service::Service;

use crate::app::App;
use crate::wire::ResetConnection;
use crate::{control, twilio, verifik, verifykit, verigator};

/// Every emulated provider host: the path prefix standing for the host, and its finished
/// router (see the module docs). A provider with two hosts has two entries.
fn emulators(app: &App) -> Vec<(&'static str, Router)> {
    vec![
        (
            "/verifykit/web-rest",
            verifykit::web_rest_router(&app.verifykit),
        ),
        ("/verifykit/api", verifykit::api_router(&app.verifykit)),
        ("/verifik", verifik::router(&app.verifik)),
        ("/verigator", verigator::router(&app.verigator)),
        ("/twilio", twilio::router(&app.twilio)),
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

/// How long a connection may take to send a request head, counted from when the server starts
/// waiting for it (so also how long a kept-alive connection may sit idle): past it hyper closes
/// the connection, so a client that stalls mid-head holds no task and no descriptor for long.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP/1 settings every connection is served with: a timer (hyper keeps no time limit
/// without one) and [`HEADER_READ_TIMEOUT`].
fn http1() -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
}

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
    if let Err(error) = http1().serve_connection(io, service).await {
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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::Duration;

    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tower_service::Service as _;

    use crate::{Fault, FaultAction, Provider, Sandbox, SandboxConfig, SandboxHandle};

    const PHONE: &str = "+905321234567";

    /// Serves one in-memory connection with the server's HTTP/1 settings and a handler that
    /// answers 204; returns the client's end. In memory, a paused clock moves only when every
    /// task waits, so the server has read what was sent before any timer fires.
    fn connection() -> tokio::io::DuplexStream {
        let (client, server) = tokio::io::duplex(4096);
        let service = hyper::service::service_fn(|_req| async {
            Ok::<_, Infallible>(
                hyper::Response::builder()
                    .status(204)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
        });
        tokio::spawn(super::http1().serve_connection(TokioIo::new(server), service));
        client
    }

    /// Reads until the server closes the connection; `None` if it has not after an hour of
    /// (paused) time, which is a hang, not a measured delay.
    async fn read_to_close(client: &mut tokio::io::DuplexStream) -> Option<String> {
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(3600), client.read_to_end(&mut answer))
            .await
            .ok()
            .map(|read| {
                read.unwrap();
                String::from_utf8_lossy(&answer).into_owned()
            })
    }

    #[tokio::test(start_paused = true)]
    async fn a_half_sent_request_head_is_dropped_after_the_header_timeout() {
        let mut client = connection();
        client
            .write_all(b"GET /_sandbox/clock HTTP/1.1\r\nhost: sandbox\r\nx-half: ")
            .await
            .unwrap();
        let started = tokio::time::Instant::now();
        assert_eq!(read_to_close(&mut client).await.as_deref(), Some(""));
        assert!(
            started.elapsed() >= super::HEADER_READ_TIMEOUT,
            "not before it"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_request_body_is_answered_and_the_connection_closed() {
        use base64::Engine as _;

        let (mut client, server) = tokio::io::duplex(4096);
        let router = super::router(&crate::app::Shared::new(SandboxConfig::default()));
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let mut router = router.clone();
                async move { router.call(req.map(axum::body::Body::new)).await }
            });
        tokio::spawn(super::http1().serve_connection(TokioIo::new(server), service));
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            crate::config::TWILIO_ACCOUNT_SID,
            crate::config::TWILIO_AUTH_TOKEN
        ));
        let head = format!(
            "POST /twilio/v2/Services/{}/Verifications HTTP/1.1\r\nhost: sandbox\r\n\
             authorization: Basic {credentials}\r\n\
             content-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\n",
            crate::config::TWILIO_SERVICE_SID
        );
        client.write_all(head.as_bytes()).await.unwrap();
        client.write_all(b"To=%2B1501").await.unwrap();
        let started = tokio::time::Instant::now();
        let answer = read_to_close(&mut client)
            .await
            .expect("answered, not held");
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(
            answer.contains("Invalid parameter: To"),
            "the body carried no field: {answer}"
        );
        assert!(
            started.elapsed() >= crate::body::BODY_READ_TIMEOUT,
            "not before it"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
        let mut client = connection();
        client
            .write_all(b"GET / HTTP/1.1\r\nhost: sandbox\r\n\r\n")
            .await
            .unwrap();
        let answer = read_to_close(&mut client).await.expect("closed, not held");
        assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    }

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
