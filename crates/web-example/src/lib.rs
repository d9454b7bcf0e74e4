#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod assets;
pub mod backend;
pub mod handlers;
pub mod messages;
pub mod pages;
pub mod proxy;
pub mod screens;
pub mod session;
pub mod state;
mod token;
pub mod visitor;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

pub use backend::{Backend, Choice, Target};
pub use proxy::{ProxyHeader, TrustedProxies};
pub use session::Sessions;
pub use state::{AppState, Inner};

/// The content security policy: everything from this origin, QR codes as `data:` images,
/// icons from https (VerifyKit's), no inline script, no framing.
const CSP: &str = "default-src 'self'; img-src 'self' data: https:; script-src 'self'; \
                   style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; \
                   base-uri 'none'";

/// The app's routes.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(handlers::home))
        .route("/start", post(handlers::start))
        .route(
            "/verify",
            get(handlers::verify_page).post(handlers::check_code),
        )
        .route("/verify/status", get(handlers::status))
        .route("/done", get(handlers::done))
        .route("/restart", post(handlers::restart))
        .route("/sandbox/reply", post(handlers::sandbox_reply))
        .route("/sandbox/clock", post(handlers::sandbox_clock))
        .route("/assets/app.css", get(assets::css))
        .route("/assets/app.js", get(assets::js))
        .route("/assets/icons/{file}", get(assets::icon))
        .layer(middleware::from_fn(read_body))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// The largest request body taken: the app's forms hold a few short fields.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// How long a client may take to send a request's body: a client that sends it slowly is let
/// go before the request does anything.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads the request's body whole before the handler runs: 413 past [`MAX_BODY_BYTES`], 408
/// when it is not all there within [`BODY_TIMEOUT`], 400 when it breaks off. Nothing here
/// bounds the handler itself: its wait for the visitor's session is bounded
/// ([`session::LOCK_WAIT`]), and a provider call by the SDK's own deadlines. A visitor who
/// closes the connection ends the handler (the server drops it) with its provider call: the
/// session's new id can only be given in the request's own response (session fixation). A
/// code sent then stays valid, and the visitor asks again after the resend cooldown; a code
/// check cut short closes the form instead of checking the code again (it may have been used).
async fn read_body(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(BODY_TIMEOUT, at_most(body, MAX_BODY_BYTES)).await {
        Ok(Ok(Some(bytes))) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Ok(None)) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        )
            .into_response(),
        Ok(Err(_)) => (StatusCode::BAD_REQUEST, "the request body broke off").into_response(),
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            "the request body took too long",
        )
            .into_response(),
    }
}

/// `body`'s bytes (read by axum's [`to_bytes`](axum::body::to_bytes), which stops at `limit`),
/// or `None` once they pass `limit`.
async fn at_most(body: Body, limit: usize) -> Result<Option<Bytes>, axum::Error> {
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if over_limit(&err) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Whether a body read failed on its length limit rather than the connection.
fn over_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// Headers on every answer: the CSP, no framing, no MIME sniffing, no referrer, no caching of
/// pages.
async fn security_headers(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A running app: its address; dropping it does not stop it, [`shutdown`](Self::shutdown)
/// does.
#[derive(Debug)]
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The shared state (the backend's sandbox included).
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<io::Result<()>>,
}

impl Running {
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits for the server to end.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await.map_err(io::Error::other)?
    }
}

/// Binds `addr` and serves the app with `state` in the background; the peer address of each
/// connection is the end user's IP, unless it is one of the state's trusted proxies
/// ([`TrustedProxies::visitor_ip`]).
pub async fn serve(addr: SocketAddr, state: AppState) -> io::Result<Running> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let router = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(Running {
        addr,
        state,
        shutdown: Some(tx),
        task,
    })
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tower::ServiceExt as _;

    use super::*;

    /// A router whose one route takes `took` and then answers the body's length, behind
    /// [`read_body`].
    fn taking(took: Duration) -> Router {
        Router::new()
            .route(
                "/",
                post(move |body: Bytes| async move {
                    tokio::time::sleep(took).await;
                    body.len().to_string()
                }),
            )
            .layer(middleware::from_fn(read_body))
    }

    async fn status_of(router: Router, body: Body) -> StatusCode {
        let request = Request::post("/").body(body).unwrap();
        router.oneshot(request).await.unwrap().status()
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_not_sent_in_time_ends_the_request() {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let server = axum::serve(listener, taking(Duration::ZERO));
        tokio::spawn(async move { server.await });
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        // Ten bytes announced, five sent, and then nothing.
        let request = "POST / HTTP/1.1\r\nhost: app\r\ncontent-length: 10\r\n\r\nphone";
        client.write_all(request.as_bytes()).await.unwrap();
        let mut answer = vec![0; 64];
        let read = client.read(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer[..read]);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_handler_taking_long_is_not_cut_off() {
        // However long it takes (a provider call, a wait for the session), nothing here ends
        // it: its own bounds do.
        let long = Duration::from_secs(600);
        assert_eq!(
            status_of(taking(long), Body::from("phone=1")).await,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_and_one_at_it_is_read() {
        let router = taking(Duration::ZERO);
        let at_limit = Body::from(vec![b'a'; MAX_BODY_BYTES]);
        assert_eq!(status_of(router.clone(), at_limit).await, StatusCode::OK);
        let over = Body::from(vec![b'a'; MAX_BODY_BYTES + 1]);
        assert_eq!(status_of(router, over).await, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
