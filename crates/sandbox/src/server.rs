//! The HTTP server: the route tree, per-connection serving (so a fault can reset the TCP
//! connection), and the provider middleware that applies faults and logs requests.

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
use axum::middleware::Next;
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

/// The whole route tree: one prefix per provider host plus `/_sandbox`.
pub(crate) fn router(app: &App) -> Router {
    Router::new()
        .nest("/verifykit/web-rest", verifykit::web_rest_router(app))
        .nest("/verifykit/api", verifykit::api_router(app))
        .nest("/verifik", verifik::router(app))
        .nest("/verigator", verigator::router(app))
        .nest("/twilio", twilio::router(app))
        .nest("/_sandbox", control::router(app))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(serde_json::json!({
                    "error": "no such route; providers live under /verifykit/web-rest/v1.0, /verifykit/api/v1.0, /verifik/v2, /verigator/v1 and /twilio/v2, the control API under /_sandbox"
                })),
            )
        })
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
pub(crate) async fn provider_middleware(
    State((app, provider)): State<(App, Provider)>,
    req: Request,
    next: Next,
) -> Response {
    tokio::spawn(serve_provider_request(app, provider, req, next))
        .await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn serve_provider_request(
    app: App,
    provider: Provider,
    req: Request,
    next: Next,
) -> Response {
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
        Some(action) => apply_fault(provider, action, req, next).await,
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

async fn apply_fault(
    provider: Provider,
    action: &FaultAction,
    req: Request,
    next: Next,
) -> Response {
    match action {
        FaultAction::Status { status, body } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            match body {
                Some(body) => (status, body.clone()).into_response(),
                None => status_error(provider, status),
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
        FaultAction::MalformedJson => {
            let body = match provider {
                Provider::VerifyKit => r#"{"meta":{"requestId":"sandbox-fault","httpStatusCode":200},"result":{"reference":"#,
                Provider::Verifik => r#"{"data":{"_id":"000000000000000000000000","status":"#,
                Provider::Verigator => r#"{"verified":tru"#,
                Provider::Twilio => r#"{"sid":"VE00000000000000000000000000000000","status":"pend"#,
            };
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        FaultAction::WrongContentType => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><head><title>Service notice</title></head><body><h1>We'll be right back</h1></body></html>",
        )
            .into_response(),
        FaultAction::RateLimited { retry_after_secs } => {
            let mut response = status_error(provider, StatusCode::TOO_MANY_REQUESTS);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            response
        }
    }
}

/// The provider's own error body for a bare status.
fn status_error(provider: Provider, status: StatusCode) -> Response {
    match provider {
        Provider::VerifyKit => verifykit::status_error(status),
        Provider::Verifik => verifik::status_error(status),
        Provider::Verigator => verigator::status_error(status),
        Provider::Twilio => twilio::status_error(status),
    }
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
