//! The provider layer every emulator ends with: the provider's wire format ([`Wire`]), the
//! 404/405 answers in its error shape, and the middleware that marks the request with the
//! provider's body format, applies injected faults and logs requests ([`finish`]).

use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use futures::FutureExt as _;

use crate::body::BodyFormat;
use crate::faults::FaultAction;
use crate::model::{Provider, RequestRecord};
use crate::state::{Common, Emulator, Route, truncate_logged};

/// What the sandbox itself answers in a provider's wire format: on unknown routes, wrong
/// methods and injected faults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wire {
    /// The provider emulated (its faults, its request log).
    pub(crate) provider: Provider,
    /// The provider's error response for an HTTP status: its own message for that status, or
    /// the message given.
    pub(crate) status_error: fn(StatusCode, Option<&str>) -> Response,
    /// A JSON body in the provider's envelope, cut off mid-value (the `malformed_json` fault).
    pub(crate) malformed_json: &'static str,
    /// How the provider's API takes request bodies (what its handlers' [`Input`](crate::body::Input)
    /// reads).
    pub(crate) body: BodyFormat,
}

/// The one ending of every emulator's `router(app)`: 404 for an unknown path and 405 for a
/// wrong method in the provider's error shape, the provider middleware (faults, request log)
/// in front of every route, and the emulator's state `app`.
pub(crate) fn finish<S: Send + 'static>(
    app: &Emulator<S>,
    wire: Wire,
    routes: Router<Emulator<S>>,
) -> Router {
    let status_error = wire.status_error;
    routes
        .fallback(move || async move { status_error(StatusCode::NOT_FOUND, None) })
        .method_not_allowed_fallback(move || async move {
            status_error(StatusCode::METHOD_NOT_ALLOWED, None)
        })
        .layer(from_fn_with_state(
            (Arc::clone(&app.common), wire),
            provider_middleware,
        ))
        .with_state(app.clone())
}

/// Marks a response whose connection must be reset instead of answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResetConnection;

/// Marks the answer of a `respond` fault, sent exactly as the fault gives it: an emulator adds
/// no header of its own to it (Twilio's request id, say).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verbatim;

/// Runs in front of every provider route: applies a matching injected fault and logs the
/// request with the status it got. Each request is served in its own task, so a client that
/// hangs up (say, its timeout during a `Delay` fault) does not cancel it: as with a real
/// provider, the request is still processed (a code still sent) and logged.
async fn provider_middleware(
    State((common, wire)): State<(Arc<Common>, Wire)>,
    req: Request,
    next: Next,
) -> Response {
    tokio::spawn(serve_provider_request(common, wire, req, next))
        .await
        .unwrap_or_else(|_| (wire.status_error)(StatusCode::INTERNAL_SERVER_ERROR, None))
}

/// Serves one provider request: marks it with the provider's body format, takes the first
/// matching fault, applies it (or runs the route), logs the request with its status (in the
/// request log and the `tracing` output, its method and path cut as the log cuts them), and
/// only then waits out a `Delay`.
async fn serve_provider_request(
    common: Arc<Common>,
    wire: Wire,
    mut req: Request,
    next: Next,
) -> Response {
    req.extensions_mut().insert(wire.body);
    let provider = wire.provider;
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let forwarded_for = req
        .headers()
        .get("x-vfk-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let route = route_of(&req);
    let fault = common.take_fault(provider, &method, &path);
    // From here on, as the request log keeps them (a method or path may be ~400 KB).
    let (method, path) = (truncate_logged(method), truncate_logged(path));
    let at = common.now();
    // A path whose percent-decoding is not UTF-8 names no resource the provider has: its own
    // 404, rather than the plain-text 400 of the routes' path extractors.
    let readable = percent_encoding::percent_decode_str(req.uri().path())
        .decode_utf8()
        .is_ok();
    let served = async {
        match &fault {
            None if !readable => (wire.status_error)(StatusCode::NOT_FOUND, None),
            None => next.run(req).await,
            Some(action) => apply_fault(wire, action, req, next).await,
        }
    };
    // A handler that panics (a sandbox bug) answers the provider's own 500 and is still
    // logged, instead of dropping the connection. The provider's lock it may have held is
    // taken over by the next request (`state::lock`).
    let response = AssertUnwindSafe(served)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            tracing::error!(%provider, %method, %path, "handler panicked; answered 500");
            (wire.status_error)(StatusCode::INTERNAL_SERVER_ERROR, None)
        });
    // A delayed answer is logged (and counted) as soon as the request took effect.
    let delay = match &fault {
        Some(FaultAction::Delay { ms }) => Some(Duration::from_millis(*ms)),
        _ => None,
    };
    let status = (response.extensions().get::<ResetConnection>().is_none())
        .then(|| response.status().as_u16());
    tracing::info!(%provider, %method, %path, status, fault = fault.as_ref().map(FaultAction::name), "request");
    common.log_request(
        RequestRecord {
            provider,
            method,
            path,
            status,
            at,
            fault: fault.as_ref().map(|f| f.name().to_owned()),
            forwarded_for,
        },
        &route,
    );
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    response
}

/// What `req` matched among its provider's routes, for the request counts: the route's
/// pattern relative to the provider's prefix, or [`Route::Unmatched`] for the 404 fallback and
/// for a method outside the standard ones (a 405 from a route, but arbitrary tokens would each
/// make a key).
fn route_of(req: &Request) -> Route {
    use axum::http::Method;
    const STANDARD: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    let Some(matched) = req.extensions().get::<MatchedPath>() else {
        return Route::Unmatched;
    };
    if !STANDARD.contains(req.method()) {
        return Route::Unmatched;
    }
    // The pattern carries the prefix the provider is nested under (`/twilio`), the request's
    // path does not: keep as many trailing segments of the pattern as the path has (no route
    // has a wildcard segment).
    let segments = req.uri().path().split('/').skip(1).count();
    let pattern: Vec<&str> = matched.as_str().split('/').skip(1).collect();
    let relative = pattern[pattern.len().saturating_sub(segments)..].join("/");
    Route::Matched(format!("/{relative}"))
}

/// Answers the request as the fault `action` says, in the provider's `wire` format.
async fn apply_fault(wire: Wire, action: &FaultAction, req: Request, next: Next) -> Response {
    match action {
        FaultAction::Status { status, body } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            match body {
                Some(body) => json_body(status, body),
                None => (wire.status_error)(status, None),
            }
        }
        FaultAction::Respond {
            status,
            headers,
            body,
        } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = json_body(status, body);
            response.extensions_mut().insert(Verbatim);
            let map = response.headers_mut();
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    header::HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(value),
                ) {
                    map.insert(name, value);
                }
            }
            response
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
            let mut response = (wire.status_error)(StatusCode::TOO_MANY_REQUESTS, None);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            response
        }
        FaultAction::ServiceUnavailable { retry_after_secs } => {
            let mut response = (wire.status_error)(StatusCode::SERVICE_UNAVAILABLE, None);
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
        FaultAction::EchoCredentials { status } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::UNAUTHORIZED);
            let message = format!("credentials refused: {}", credentials(req.headers()));
            (wire.status_error)(status, Some(&message))
        }
        FaultAction::OversizedBody { bytes } => oversized(next.run(req).await, *bytes).await,
        FaultAction::SlowDrip {
            chunk_bytes,
            interval_ms,
        } => drip(next.run(req).await, *chunk_bytes, Duration::from_millis(*interval_ms)).await,
    }
}

/// `status` with `body` as given, sent as `application/json` (the `status` and `respond`
/// faults' own bodies).
fn json_body(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_owned(),
    )
        .into_response()
}

/// Every credential `headers` carry, as a provider that echoes them would quote them:
/// `Authorization` (a Basic one decoded to `user:password`), `X-Vfk-Server-Key`,
/// `X-Service-Auth`.
fn credentials(headers: &header::HeaderMap) -> String {
    use base64::Engine as _;
    let mut quoted = Vec::new();
    for name in ["authorization", "x-vfk-server-key", "x-service-auth"] {
        for value in headers.get_all(name) {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let decoded = value
                .strip_prefix("Basic ")
                .and_then(|b| {
                    base64::engine::general_purpose::STANDARD
                        .decode(b.trim())
                        .ok()
                })
                .map(|raw| String::from_utf8_lossy(&raw).into_owned());
            quoted.push(format!("{name}={value}"));
            quoted.extend(decoded.map(|d| format!("({d})")));
        }
    }
    if quoted.is_empty() {
        "none sent".to_owned()
    } else {
        quoted.join(" ")
    }
}

/// Keeps status and headers and the answer's own body, padded to `bytes` bytes and sent
/// without `Content-Length`, so only the client's own cap stops it: a JSON object gets a
/// first field `"padding":"aaa…"` (the fields of the answer follow it), any other body
/// leading whitespace. A client without a cap reads the real answer; the padding is produced
/// as it is sent (never held in memory).
async fn oversized(response: Response, bytes: u64) -> Response {
    const FIELD: &[u8] = br#""padding":""#;
    static LETTERS: [u8; 64 * 1024] = [b'a'; 64 * 1024];
    static SPACES: [u8; 64 * 1024] = [b' '; 64 * 1024];
    let (mut parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // The first byte at or after `from` that is not whitespace.
    let first = |from: usize| {
        body[from..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|n| from + n)
    };
    let object = first(0).filter(|&at| body[at] == b'{');
    let (open, close, fill): (&'static [u8], &'static [u8], &'static [u8]) = match object {
        Some(at) if first(at + 1).is_some_and(|next| body[next] == b'}') => {
            (FIELD, b"\"", &LETTERS)
        }
        Some(_) => (FIELD, b"\",", &LETTERS),
        None => (b"", b"", &SPACES),
    };
    let (head, tail) = match object {
        Some(at) => (body.slice(..=at), body.slice(at + 1..)),
        None => (bytes::Bytes::new(), body),
    };
    let around = head.len() + open.len() + close.len() + tail.len();
    let mut padding = bytes.saturating_sub(around as u64);
    let pieces = [head, bytes::Bytes::from_static(open)]
        .into_iter()
        .chain(std::iter::from_fn(move || {
            if padding == 0 {
                return None;
            }
            let take = usize::try_from(padding)
                .unwrap_or(usize::MAX)
                .min(fill.len());
            padding -= take as u64;
            Some(bytes::Bytes::from_static(&fill[..take]))
        }))
        .chain([bytes::Bytes::from_static(close), tail])
        .filter(|piece| !piece.is_empty())
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
    use axum::routing::get;
    use tower_service::Service as _;

    use super::*;
    use crate::config::SandboxConfig;
    use crate::model::RequestLog;

    fn teapot_error(status: StatusCode, _said: Option<&str>) -> Response {
        (
            status,
            axum::Json(serde_json::json!({"own": status.as_u16()})),
        )
            .into_response()
    }

    /// A handler with a bug.
    async fn explode() -> &'static str {
        panic!("a sandbox bug")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_the_providers_500_and_is_logged() {
        let config = Arc::new(SandboxConfig::default());
        let common = Arc::new(Common::new(&config));
        let app = Emulator::new(&config, &common, ());
        let wire = Wire {
            provider: Provider::Verifik,
            status_error: teapot_error,
            malformed_json: "{",
            body: BodyFormat::Json,
        };
        let boom = Router::new().route("/boom", get(explode));
        let mut router = finish(&app, wire, boom);
        let response = router
            .call(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], br#"{"own":500}"#);
        let log = common.request_log(Some(Provider::Verifik));
        assert_eq!(log.requests.len(), 1);
        assert_eq!(log.requests[0].status, Some(500));
    }

    /// An oversized answer is the handler's own, padded: a client without a size cap reads it
    /// (and takes it for the answer it is), a capped one refuses it.
    #[tokio::test]
    async fn an_oversized_answer_is_the_real_one_padded() {
        let answers: [(&'static str, &'static str); 3] = [
            ("/object", r#"{"result":{"reference":"r1"},"ok":true}"#),
            ("/empty", " {} "),
            ("/array", "[1,2]"),
        ];
        let config = Arc::new(SandboxConfig::default());
        let common = Arc::new(Common::new(&config));
        let app = Emulator::new(&config, &common, ());
        let wire = Wire {
            provider: Provider::Verifik,
            status_error: teapot_error,
            malformed_json: "{",
            body: BodyFormat::Json,
        };
        let handlers = answers
            .into_iter()
            .fold(Router::new(), |routes, (path, body)| {
                routes.route(
                    path,
                    get(move || async move { (StatusCode::CREATED, body) }),
                )
            });
        let mut router = finish(&app, wire, handlers);
        let bytes = 200_000;
        for (path, real) in answers {
            common
                .push_fault(
                    crate::faults::Fault::new(
                        Provider::Verifik,
                        FaultAction::OversizedBody { bytes },
                    )
                    .path(path),
                )
                .unwrap();
            let response = router
                .call(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::CREATED, "{path}");
            assert!(response.headers().get(header::CONTENT_LENGTH).is_none());
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            assert_eq!(body.len() as u64, bytes, "{path}");
            // Read without a cap: the real answer, with the padding as a first field of an
            // object (a client ignores a field it does not know).
            let mut uncapped: serde_json::Value = serde_json::from_slice(&body).unwrap();
            if let Some(fields) = uncapped.as_object_mut() {
                let padding = fields.remove("padding").unwrap_or_default();
                let padding = padding.as_str().unwrap_or_default();
                assert!(padding.len() > 100_000 && padding.bytes().all(|b| b == b'a'));
            }
            let answer: serde_json::Value = serde_json::from_str(real).unwrap();
            assert!(uncapped == answer, "{path}: {:.200}", uncapped.to_string());
            // A capped client stops at its cap.
            let capped = axum::body::to_bytes(Body::from(body), 1024 * 1024 / 8).await;
            assert!(capped.is_err(), "{path}");
        }
    }

    async fn status_of(router: &mut Router, method: &str, uri: &str) -> StatusCode {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        router.call(request).await.unwrap().status()
    }

    /// A `tracing` writer into a shared buffer.
    #[derive(Debug, Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_traced_method_and_path_are_cut_as_the_request_log_cuts_them() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        // The test's runtime runs every task on this thread.
        let _traced = tracing::subscriber::set_default(subscriber);
        let app = crate::app::Shared::new(SandboxConfig::default());
        let mut router = crate::server::router(&app);
        let method = "X".repeat(100_000);
        let path = format!("/v2/{}", "a".repeat(60_000)); // `http`'s longest URI is 64 KiB
        let status = status_of(&mut router, &method, &format!("/twilio{path}")).await;
        assert!(status.is_client_error(), "{status}");
        let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let kept = crate::state::MAX_LOGGED_TEXT;
        assert!(
            output.contains(&format!("method={} ", &method[..kept])),
            "{output:.400}"
        );
        assert!(
            output.contains(&format!("path={} ", &path[..kept])),
            "{output:.400}"
        );
        assert!(output.len() < 2_000, "{} bytes traced", output.len());
    }

    #[tokio::test]
    async fn counts_go_by_path_then_by_route_and_junk_shares_one_key() {
        let app = crate::app::Shared::new(SandboxConfig::default());
        let mut router = crate::server::router(&app);
        for i in 0..crate::state::MAX_COUNTED_PATHS + 3 {
            let uri = format!("/twilio/v2/Services/VA{i}");
            assert_eq!(status_of(&mut router, "GET", &uri).await, 401);
        }
        for junk in [
            "/twilio/nope",
            "/twilio/v2/Services/x/y/z/w",
            "/twilio/a%20b",
        ] {
            assert_eq!(status_of(&mut router, "GET", junk).await, 404);
        }
        assert_eq!(
            status_of(&mut router, "BREW", "/twilio/v2/Services").await,
            405
        );
        let counts = app.common.request_log(Some(Provider::Twilio)).counts;
        assert_eq!(counts["GET /v2/Services/VA0"], 1);
        assert_eq!(
            counts["GET /v2/Services/{sid}"], 3,
            "past the bound: the route"
        );
        assert_eq!(counts[RequestLog::UNMATCHED], 4);
        assert_eq!(counts.len(), crate::state::MAX_COUNTED_PATHS + 2);
        let long = format!("/verifik/v2/phone-validations/{}", "a".repeat(1_000));
        status_of(&mut router, "GET", &long).await;
        let logged = app.common.request_log(Some(Provider::Verifik));
        assert_eq!(logged.requests[0].path.len(), crate::state::MAX_LOGGED_TEXT);
    }
}
