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
use axum::extract::{DefaultBodyLimit, Request};
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
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(bounded))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// The largest request body taken: the app's forms hold a few short fields.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// How long one request may take, its body read included: more than the SDK's overall
/// deadline (30 s) after a wait for the visitor's session, so that no provider call is cut
/// off, and a client that sends its body slowly is let go.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Ends a request that takes longer than [`REQUEST_TIMEOUT`] with 408.
async fn bounded(request: Request, next: Next) -> Response {
    tokio::time::timeout(REQUEST_TIMEOUT, next.run(request))
        .await
        .unwrap_or_else(|_| {
            (StatusCode::REQUEST_TIMEOUT, "the request took too long").into_response()
        })
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
    use tower::ServiceExt as _;

    use super::*;

    /// A router whose one page takes `took`, behind [`bounded`].
    fn taking(took: Duration) -> Router {
        Router::new()
            .route(
                "/",
                get(move || async move {
                    tokio::time::sleep(took).await;
                    "done"
                }),
            )
            .layer(middleware::from_fn(bounded))
    }

    async fn status_of(router: Router) -> StatusCode {
        let request = Request::get("/").body(Body::empty()).unwrap();
        router.oneshot(request).await.unwrap().status()
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_ends_at_its_timeout_and_not_before() {
        let started = tokio::time::Instant::now();
        let late = REQUEST_TIMEOUT + Duration::from_secs(1);
        assert_eq!(status_of(taking(late)).await, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(started.elapsed(), REQUEST_TIMEOUT);
        let in_time = REQUEST_TIMEOUT.checked_sub(Duration::from_secs(1)).unwrap();
        assert_eq!(status_of(taking(in_time)).await, StatusCode::OK);
    }
}
