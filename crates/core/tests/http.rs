//! The shared HTTP layer against local servers: wiremock for HTTP behaviour, a raw TCP server
//! for connection resets and unframed bodies.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use phone_verify_core::http::{HttpConfig, RetryPolicy, Timeouts};
use phone_verify_core::kit::{BaseUrl, HttpClient, HttpRequest, HttpResponse, Operation};
use phone_verify_core::secrecy::SecretString;
use phone_verify_core::{ErrorKind, ProviderId};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod support;

use support::{FixedJitter, RecordingClock};

const CANARY: &str = "canary-7f3a9c-SECRET";

fn client(clock: &Arc<RecordingClock>) -> HttpClient {
    HttpClient::new(ProviderId::new_static("acme"), config(clock)).unwrap()
}

fn config(clock: &Arc<RecordingClock>) -> HttpConfig {
    HttpConfig::default()
        .with_timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(2))
                .with_attempt(Duration::from_millis(300))
                .with_overall(Duration::from_secs(20)),
        )
        .with_retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(200), Duration::from_secs(2)),
        )
        .with_max_response_bytes(1024)
        .with_clock(clock.clone())
        .with_jitter(Arc::new(FixedJitter(0.5)))
}

fn base(server: &MockServer) -> BaseUrl {
    BaseUrl::parse(&format!("{}/v1", server.uri())).unwrap()
}

fn check(base: &BaseUrl) -> HttpRequest {
    HttpRequest::post(Operation::read("check"), base.join("check"))
        .secret_header("x-api-key", &SecretString::from(CANARY))
        .unwrap()
}

fn send(base: &BaseUrl) -> HttpRequest {
    HttpRequest::post(Operation::send("send-otp"), base.join("send"))
        .secret_header("x-api-key", &SecretString::from(CANARY))
        .unwrap()
        .json(&serde_json::json!({"phone": "+905321234567"}))
        .unwrap()
}

async fn hits(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn safe_call_is_retried_after_503_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let response = client(&clock).execute(check(&base(&server))).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<serde_json::Value>().unwrap()["ok"], true);
    assert_eq!(hits(&server).await, 2);
    assert_eq!(
        *clock.sleeps.lock().unwrap(),
        [Duration::from_millis(100)],
        "half of the 200ms ceiling"
    );
}

#[tokio::test]
async fn safe_call_gives_up_after_max_attempts_with_growing_backoff() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let response = client(&clock).execute(check(&base(&server))).await.unwrap();
    assert_eq!(
        response.status(),
        502,
        "the last answer is returned for the provider crate to map"
    );
    assert_eq!(hits(&server).await, 3);
    assert_eq!(
        *clock.sleeps.lock().unwrap(),
        [Duration::from_millis(100), Duration::from_millis(200)]
    );
}

#[tokio::test]
async fn retry_after_is_honoured_in_seconds_and_as_a_date() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let in_five = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(5));
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", in_five.as_str()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let response = client(&clock).execute(check(&base(&server))).await.unwrap();
    assert_eq!(response.status(), 200);
    let sleeps = clock.sleeps.lock().unwrap().clone();
    assert_eq!(sleeps[0], Duration::from_secs(3));
    assert!(
        sleeps[1] > Duration::from_secs(3) && sleeps[1] <= Duration::from_secs(5),
        "{sleeps:?}"
    );
}

/// Delay-seconds past what a `u64` holds are the longest wait, not a header to ignore (which a
/// short backoff would retry, the error without the provider's delay).
#[tokio::test]
async fn retry_after_beyond_the_cap_is_not_waited_for() {
    for (header, wait) in [
        ("3600", Duration::from_secs(3600)),
        ("100000000000000000000", Duration::from_secs(u64::MAX)),
    ] {
        let server = MockServer::start().await;
        Mock::given(path("/v1/check"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", header))
            .mount(&server)
            .await;
        let clock = Arc::new(RecordingClock::default());
        let response = client(&clock).execute(check(&base(&server))).await.unwrap();
        assert_eq!(response.status(), 429, "{header}");
        assert_eq!(response.retry_after(), Some(wait), "{header}");
        let err = response.error(response.kind_for_status(), "too many requests");
        assert_eq!(err.kind(), ErrorKind::RateLimited, "{header}");
        assert_eq!(err.retry_after(), Some(wait), "{header}");
        assert_eq!(hits(&server).await, 1, "{header}");
        assert!(clock.sleeps.lock().unwrap().is_empty(), "{header}");
    }
}

/// With no cap on `Retry-After`, the longest wait a header can say is past the overall timeout:
/// the answer is returned at once, nothing overflows (adding the wait to the time spent, over a
/// second here, would).
#[tokio::test]
async fn an_uncapped_retry_after_of_the_largest_value_is_not_waited_for() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", u64::MAX.to_string().as_str())
                .set_delay(Duration::from_millis(1100)),
        )
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let uncapped = config(&clock)
        .with_timeouts(Timeouts::default().with_attempt(Duration::from_secs(10)))
        .with_retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_max_retry_after(Duration::MAX),
        );
    let client = HttpClient::new(ProviderId::new_static("acme"), uncapped).unwrap();
    let response = client.execute(check(&base(&server))).await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(hits(&server).await, 1);
    assert!(clock.sleeps.lock().unwrap().is_empty());
}

#[tokio::test]
async fn timeouts_are_typed_and_safe_calls_retry_them() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let err = client(&clock)
        .execute(check(&base(&server)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_retryable());
    assert_eq!(hits(&server).await, 3);
}

#[tokio::test]
async fn the_overall_timeout_bounds_all_attempts() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let config = HttpConfig::default().with_timeouts(
        Timeouts::default()
            .with_attempt(Duration::from_secs(10))
            .with_overall(Duration::from_millis(300)),
    );
    let client = HttpClient::new(ProviderId::new_static("acme"), config).unwrap();
    let err = client.execute(check(&base(&server))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("did not complete"), "{err}");
}

#[tokio::test]
async fn a_send_is_hit_exactly_once_under_server_errors() {
    for status in [500, 502, 503, 504, 429] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/send"))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "1"))
            .mount(&server)
            .await;
        let clock = Arc::new(RecordingClock::default());
        let response = client(&clock).execute(send(&base(&server))).await.unwrap();
        assert_eq!(response.status(), status);
        assert_eq!(hits(&server).await, 1, "status {status}");
        assert!(clock.sleeps.lock().unwrap().is_empty());
        let expected = match status {
            503 => ErrorKind::ProviderUnavailable,
            429 => ErrorKind::RateLimited,
            _ => ErrorKind::MaybeSent,
        };
        assert_eq!(response.kind_for_status(), expected, "status {status}");
    }
}

#[tokio::test]
async fn a_send_that_times_out_may_have_been_sent_and_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/send"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let err = client(&clock)
        .execute(send(&base(&server)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
    assert!(!err.is_retryable());
    assert_eq!(hits(&server).await, 1);
}

/// A raw server: counts requests, reads each request head, then runs `respond`.
async fn raw_server(
    respond: fn(&mut tokio::net::TcpStream) -> Option<Vec<u8>>,
) -> (BaseUrl, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = BaseUrl::parse(&format!("http://{}/v1", listener.local_addr().unwrap())).unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut read = 0;
                while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read += n,
                    }
                }
                seen.fetch_add(1, Ordering::SeqCst);
                if let Some(bytes) = respond(&mut stream) {
                    let _ = stream.write_all(&bytes).await;
                    let _ = stream.shutdown().await;
                }
                // Otherwise the stream is dropped here: the connection is closed mid-request.
            });
        }
    });
    (url, count)
}

#[tokio::test]
async fn a_connection_reset_fails_a_send_once_and_is_retried_for_a_check() {
    let (url, count) = raw_server(|_| None).await;
    let clock = Arc::new(RecordingClock::default());
    let err = client(&clock).execute(send(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1);

    let err = client(&clock).execute(check(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1 + 3);
}

#[tokio::test]
async fn a_refused_connection_is_not_a_maybe_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = BaseUrl::parse(&format!("http://{}/v1", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let clock = Arc::new(RecordingClock::default());
    let err = client(&clock).execute(send(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "nothing was sent: {err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_or_without_a_length() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(4096)))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let err = client(&clock)
        .execute(check(&base(&server)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("1024-byte limit"), "{err}");

    let (url, _) = raw_server(|_| {
        let mut out = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..8 {
            write!(out, "200\r\n{}\r\n", "a".repeat(512)).unwrap();
        }
        out.extend_from_slice(b"0\r\n\r\n");
        Some(out)
    })
    .await;
    let err = client(&clock).execute(check(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn non_json_and_truncated_bodies_are_typed_decode_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("<html>502 Bad Gateway, code 987654</html>"),
        )
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let response = client(&clock).execute(check(&base(&server))).await.unwrap();
    let err = response.json::<serde_json::Value>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let shown = err.to_string();
    assert!(
        shown.contains("Bad Gateway") && !shown.contains("987654"),
        "{shown}"
    );

    let (url, _) = raw_server(|_| {
        Some(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":".to_vec())
    })
    .await;
    let result = client(&clock).execute(send(&url)).await;
    let err = match result {
        Ok(response) => response.json::<serde_json::Value>().unwrap_err(),
        Err(err) => err,
    };
    assert!(
        matches!(err.kind(), ErrorKind::MaybeSent | ErrorKind::Decode),
        "{err}"
    );
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_before_any_request() {
    assert!(BaseUrl::parse("http://api.example.com/v1").is_err());
    let url = "http://api.example.com/v1/check".parse().unwrap();
    let clock = Arc::new(RecordingClock::default());
    let err = client(&clock)
        .execute(HttpRequest::get(Operation::read("check"), url))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("https"), "{err}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "https://evil.example/"))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let response = client(&clock).execute(check(&base(&server))).await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.kind_for_status(), ErrorKind::Provider);
}

fn consume(base: &BaseUrl) -> HttpRequest {
    HttpRequest::post(Operation::consume("check-otp"), base.join("check-otp"))
        .secret_header("x-api-key", &SecretString::from(CANARY))
        .unwrap()
        .json(&serde_json::json!({"code": "012345"}))
        .unwrap()
}

#[tokio::test]
async fn a_code_check_whose_answer_is_lost_is_not_retried_and_its_outcome_is_unknown() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check-otp"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let err = client(&clock)
        .execute(consume(&base(&server)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert!(!err.is_retryable());
    assert!(
        err.to_string().contains("start a new verification"),
        "{err}"
    );
    assert_eq!(
        hits(&server).await,
        1,
        "a lost answer is never retried blindly"
    );

    let (url, count) = raw_server(|_| None).await;
    let err = client(&clock).execute(consume(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1, "a reset is not retried");
    assert!(clock.sleeps.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_code_check_is_retried_only_when_the_provider_refused_it_before_processing() {
    for (status, retry_after, retried) in [
        (429, None, true),
        (503, Some("1"), true),
        (503, None, false),
        (500, None, false),
        (502, None, false),
        (504, Some("1"), false),
    ] {
        let server = MockServer::start().await;
        let mut first = ResponseTemplate::new(status);
        if let Some(value) = retry_after {
            first = first.insert_header("retry-after", value);
        }
        Mock::given(path("/v1/check-otp"))
            .respond_with(first)
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/v1/check-otp"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        let clock = Arc::new(RecordingClock::default());
        let response = client(&clock)
            .execute(consume(&base(&server)))
            .await
            .unwrap();
        let label = format!("{status} retry-after {retry_after:?}");
        if retried {
            assert_eq!(response.status(), 200, "{label}");
            assert_eq!(hits(&server).await, 2, "{label}");
        } else {
            assert_eq!(response.status(), status, "{label}: answered as is");
            assert_eq!(hits(&server).await, 1, "{label}");
        }
    }
}

/// The test provider's final refusal: a body saying `final`.
fn final_answer(response: &HttpResponse) -> bool {
    response.body().starts_with(b"final")
}

#[tokio::test]
async fn a_refusal_the_provider_calls_final_is_not_retried() {
    for (operation, status, body, asked) in [
        (Operation::consume("check-otp"), 429, "final", 1),
        (Operation::consume("check-otp"), 429, "busy", 2),
        (Operation::consume("check-otp"), 503, "final", 1),
        (Operation::read("fetch"), 429, "final", 1),
        (Operation::read("fetch"), 502, "busy", 2),
    ] {
        let server = MockServer::start().await;
        Mock::given(path("/v1/check-otp"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("retry-after", "1")
                    .set_body_string(body),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/v1/check-otp"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        let clock = Arc::new(RecordingClock::default());
        let request = HttpRequest::post(operation, base(&server).join("check-otp"));
        let response = client(&clock)
            .with_final_refusals(final_answer)
            .execute(request)
            .await
            .unwrap();
        let label = format!("{} {status} {body}", operation.name);
        assert_eq!(hits(&server).await, asked, "{label}");
        let expected = if asked == 1 { status } else { 200 };
        assert_eq!(response.status(), expected, "{label}");
    }
}

#[tokio::test]
async fn a_code_check_is_retried_when_the_connection_was_never_made() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = BaseUrl::parse(&format!("http://{}/v1", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let clock = Arc::new(RecordingClock::default());
    let err = client(&clock).execute(consume(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "nothing arrived: {err}");
    assert_eq!(
        clock.sleeps.lock().unwrap().len(),
        2,
        "three attempts, two backoffs"
    );
}

/// An HTTP/2 server (cleartext, prior knowledge) that refuses every stream unprocessed
/// (`RST_STREAM` with `REFUSED_STREAM`), counting the streams.
async fn refusing_h2_server() -> (BaseUrl, Arc<AtomicUsize>) {
    resetting_h2_server(h2::Reason::REFUSED_STREAM).await
}

/// An HTTP/2 server (cleartext, prior knowledge) that resets every stream with `reason`
/// before answering, counting the streams.
async fn resetting_h2_server(reason: h2::Reason) -> (BaseUrl, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = BaseUrl::parse(&format!("http://{}/v1", listener.local_addr().unwrap())).unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok(mut connection) = h2::server::handshake(socket).await else {
                    return;
                };
                while let Some(Ok((_request, mut respond))) = connection.accept().await {
                    seen.fetch_add(1, Ordering::SeqCst);
                    respond.send_reset(reason);
                }
            });
        }
    });
    (url, count)
}

/// A client of [`phone_verify_core::http::reqwest_builder`]'s settings that speaks HTTP/2 in
/// clear text.
fn h2_client(clock: &Arc<RecordingClock>) -> HttpClient {
    let config = config(clock);
    let reqwest = phone_verify_core::http::reqwest_builder(&config)
        .http2_prior_knowledge()
        .build()
        .unwrap();
    HttpClient::with_reqwest(ProviderId::new_static("acme"), reqwest, config).unwrap()
}

#[tokio::test]
async fn a_stream_refused_unprocessed_is_not_sent_and_only_the_policy_retries_it() {
    let (url, count) = refusing_h2_server().await;
    let clock = Arc::new(RecordingClock::default());
    // A send: one stream (reqwest's own default policy would resend it twice), and the caller
    // learns that nothing was sent.
    let err = h2_client(&clock).execute(send(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "nothing was sent: {err}");
    assert!(err.is_retryable());
    assert_eq!(count.load(Ordering::SeqCst), 1);
    // A code check the server surely did not process: retried, by the client's policy only.
    let err = h2_client(&clock).execute(consume(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "nothing arrived: {err}");
    assert_eq!(count.load(Ordering::SeqCst), 1 + 3);
    assert_eq!(
        clock.sleeps.lock().unwrap().len(),
        2,
        "three attempts, two backoffs"
    );
}

/// A resolver that never answers: a connection that cannot be made, stalled.
struct NeverResolves;

impl reqwest::dns::Resolve for NeverResolves {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(std::future::pending())
    }
}

/// A connection still being made when an attempt timeout shorter than the connect timeout runs
/// out fails as a connection never made (a send was surely not sent), not as a lost answer.
#[tokio::test]
async fn a_stalled_connection_is_not_sent_under_an_attempt_timeout_shorter_than_the_connect_one() {
    let config = HttpConfig::default().with_timeouts(
        Timeouts::default()
            .with_connect(Duration::from_secs(10))
            .with_attempt(Duration::from_secs(5))
            .with_overall(Duration::from_secs(20)),
    );
    let reqwest = phone_verify_core::http::reqwest_builder(&config)
        .dns_resolver(Arc::new(NeverResolves))
        .build()
        .unwrap();
    let client = HttpClient::with_reqwest(ProviderId::new_static("acme"), reqwest, config).unwrap();
    let url = BaseUrl::parse("http://localhost:9/v1").unwrap();
    let err = client.execute(send(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "nothing was sent: {err}");
}

/// A call's deadlines follow the system's clock: under a paused Tokio clock, which jumps to
/// the next Tokio timer whenever the runtime waits, a slow answer is not a timeout.
#[tokio::test(start_paused = true)]
async fn a_paused_tokio_clock_does_not_fire_a_calls_timeout() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"ok": true}))
                .set_delay(Duration::from_millis(200)),
        )
        .mount(&server)
        .await;
    let client = HttpClient::new(ProviderId::new_static("acme"), HttpConfig::default()).unwrap();
    let response = client.execute(check(&base(&server))).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(hits(&server).await, 1);
}

/// A stream the server reset for any reason but `REFUSED_STREAM` may have been processed: a
/// send's outcome is unknown, and a code check is neither retried nor taken as a rejection.
#[tokio::test]
async fn a_stream_reset_for_another_reason_may_have_been_processed() {
    for reason in [h2::Reason::INTERNAL_ERROR, h2::Reason::NO_ERROR] {
        let (url, count) = resetting_h2_server(reason).await;
        let clock = Arc::new(RecordingClock::default());
        let err = h2_client(&clock).execute(send(&url)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MaybeSent, "{reason:?}: {err}");
        assert_eq!(count.load(Ordering::SeqCst), 1, "{reason:?}");
        let err = h2_client(&clock).execute(consume(&url)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{reason:?}: {err}");
        assert_eq!(
            count.load(Ordering::SeqCst),
            1 + 1,
            "{reason:?}: not retried"
        );
        assert!(clock.sleeps.lock().unwrap().is_empty(), "{reason:?}");
    }
}

/// A stream reset after the answer's head, even with `REFUSED_STREAM`, was processed: the head
/// proves it. A send's outcome is unknown, and a code check is neither retried nor taken as a
/// rejection; a streamed body cut so is the same.
#[tokio::test]
async fn a_stream_refused_after_the_answers_head_was_processed() {
    let (url, count) = refusing_mid_body_h2_server().await;
    let clock = Arc::new(RecordingClock::default());
    let err = h2_client(&clock).execute(send(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let err = h2_client(&clock).execute(consume(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1 + 1, "not retried");
    assert!(clock.sleeps.lock().unwrap().is_empty());
    let mut stream = h2_client(&clock)
        .execute_streamed(send(&url), None)
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let err = loop {
        match stream.chunk().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("a body cut short read as a whole one"),
            Err(err) => break err,
        }
    };
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1 + 1 + 1);
}

/// An HTTP/2 server written frame by frame that answers each request's `HEADERS` with a
/// graceful `GOAWAY` (`NO_ERROR`) whose last stream id, 0, leaves that request out: the
/// request was surely not processed (RFC 9113, section 8.7). Counts the requests.
async fn going_away_h2_server() -> (BaseUrl, Arc<AtomicUsize>) {
    // Length 8, type GOAWAY, no flags, stream 0; last stream id 0, error code NO_ERROR.
    const GOAWAY: [u8; 17] = [0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    framed_h2_server(|_| GOAWAY.to_vec()).await
}

/// An HTTP/2 server written frame by frame that answers each request with a `200` head and
/// the start of a JSON body, then resets the stream with `REFUSED_STREAM`, all in one write
/// (the `h2` crate's server drops a stream's queued frames when it resets it). Counts the
/// requests.
async fn refusing_mid_body_h2_server() -> (BaseUrl, Arc<AtomicUsize>) {
    framed_h2_server(|stream| {
        let mut frames = Vec::new();
        // HEADERS, END_HEADERS: `:status: 200` (HPACK static index 8).
        frames.extend([0, 0, 1, 1, 4]);
        frames.extend(stream);
        frames.push(0x88);
        // DATA, no flags: `{"a`.
        frames.extend([0, 0, 3, 0, 0]);
        frames.extend(stream);
        frames.extend(b"{\"a");
        // RST_STREAM: REFUSED_STREAM (7).
        frames.extend([0, 0, 4, 3, 0]);
        frames.extend(stream);
        frames.extend([0, 0, 0, 7]);
        frames
    })
    .await
}

/// An HTTP/2 server (cleartext, prior knowledge) written frame by frame: it settles the
/// connection's settings and writes `reply(stream id)` for each request's `HEADERS`, counting
/// the requests; it ignores every other frame.
async fn framed_h2_server(reply: fn([u8; 4]) -> Vec<u8>) -> (BaseUrl, Arc<AtomicUsize>) {
    const SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];
    const SETTINGS_ACK: [u8; 9] = [0, 0, 0, 4, 1, 0, 0, 0, 0];
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = BaseUrl::parse(&format!("http://{}/v1", listener.local_addr().unwrap())).unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut preface = [0u8; 24];
                if socket.read_exact(&mut preface).await.is_err()
                    || socket.write_all(&SETTINGS).await.is_err()
                {
                    return;
                }
                let mut head = [0u8; 9];
                while socket.read_exact(&mut head).await.is_ok() {
                    let len = usize::from(head[0]) << 16
                        | usize::from(head[1]) << 8
                        | usize::from(head[2]);
                    let mut payload = vec![0u8; len];
                    if socket.read_exact(&mut payload).await.is_err() {
                        return;
                    }
                    let answer = match (head[3], head[4] & 1) {
                        (4, 0) => SETTINGS_ACK.to_vec(),
                        (1, _) => {
                            seen.fetch_add(1, Ordering::SeqCst);
                            reply([head[5] & 0x7f, head[6], head[7], head[8]])
                        }
                        _ => continue,
                    };
                    if socket.write_all(&answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, count)
}

#[tokio::test]
async fn a_stream_left_out_by_a_graceful_goaway_is_not_sent_and_only_the_policy_retries_it() {
    let (url, count) = going_away_h2_server().await;
    let clock = Arc::new(RecordingClock::default());
    let err = h2_client(&clock).execute(send(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "nothing was sent: {err}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let err = h2_client(&clock).execute(consume(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "nothing arrived: {err}");
    assert_eq!(count.load(Ordering::SeqCst), 1 + 3);
    assert_eq!(
        clock.sleeps.lock().unwrap().len(),
        2,
        "three attempts, two backoffs"
    );
}

/// A raw server's chunked answer: 200, then for each of `letters` one chunk of `len` bytes of it.
fn chunked(letters: &[&str], len: usize) -> Vec<u8> {
    let mut out =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    for letter in letters {
        write!(out, "{len:x}\r\n{}\r\n", letter.repeat(len)).unwrap();
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// The cap is a limit, not a bound to stay under: a body of exactly `max_response_bytes` is
/// read whole, whether its length is announced or it arrives in chunks.
#[tokio::test]
async fn a_body_of_exactly_the_cap_is_read_whole_with_or_without_a_length() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(1024)))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let response = client(&clock).execute(check(&base(&server))).await.unwrap();
    assert_eq!(response.body().as_ref(), "x".repeat(1024).as_bytes());

    let (url, _) = raw_server(|_| Some(chunked(&["a", "b"], 512))).await;
    let response = client(&clock).execute(check(&url)).await.unwrap();
    let expected = ["a", "b"].map(|l| l.repeat(512)).concat();
    assert_eq!(response.body().as_ref(), expected.as_bytes());
}

/// A body under the cap that arrives in several small chunks is read whole, in order: what
/// counts against the cap is the bytes read so far.
#[tokio::test]
async fn a_chunked_body_under_the_cap_is_read_whole() {
    let (url, _) = raw_server(|_| Some(chunked(&["a", "b", "c"], 100))).await;
    let clock = Arc::new(RecordingClock::default());
    let response = client(&clock).execute(check(&url)).await.unwrap();
    let expected = ["a", "b", "c"].map(|l| l.repeat(100)).concat();
    assert_eq!(response.body().as_ref(), expected.as_bytes());
}

/// A body of exactly the cap in four chunks of 256 bytes.
#[tokio::test]
async fn a_body_of_exactly_the_cap_in_many_chunks_is_read_whole() {
    let (url, _) = raw_server(|_| Some(chunked(&["a", "b", "c", "d"], 256))).await;
    let clock = Arc::new(RecordingClock::default());
    let response = client(&clock).execute(check(&url)).await.unwrap();
    let expected = ["a", "b", "c", "d"].map(|l| l.repeat(256)).concat();
    assert_eq!(response.body().as_ref(), expected.as_bytes());
}

/// Each attempt has the whole attempt timeout from its own start: a retry that follows a slow
/// first answer is not cut short by the first attempt's deadline.
#[tokio::test]
async fn a_retry_has_its_own_attempt_timeout() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(1500)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(1)))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let config = config(&clock).with_timeouts(
        Timeouts::default()
            .with_attempt(Duration::from_secs(2))
            .with_overall(Duration::from_secs(20)),
    );
    let client = HttpClient::new(ProviderId::new_static("acme"), config).unwrap();
    let response = client.execute(check(&base(&server))).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(hits(&server).await, 2);
}

/// An answer over the cap with a refusal status is a refusal whose body could not be read
/// (`Decode`), not a send or code check of unknown outcome: only a lost answer (timeout,
/// connection) or a 2xx one is in doubt.
#[tokio::test]
async fn an_oversized_refusal_of_a_send_or_a_check_is_not_in_doubt() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/send"))
        .respond_with(ResponseTemplate::new(400).set_body_string("x".repeat(4096)))
        .mount(&server)
        .await;
    Mock::given(path("/v1/check-otp"))
        .respond_with(ResponseTemplate::new(400).set_body_string("x".repeat(4096)))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    for (name, request) in [
        ("send", send(&base(&server))),
        ("check", consume(&base(&server))),
    ] {
        let err = client(&clock).execute(request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{name}: {err}");
        assert_eq!(err.http_status(), Some(400), "{name}");
    }
    assert_eq!(hits(&server).await, 2);
}

/// A lost connection's error names the cause at the end of its source chain.
#[tokio::test]
async fn a_lost_connection_names_its_root_cause() {
    let (url, _) = raw_server(|_| None).await;
    let clock = Arc::new(RecordingClock::default());
    let err = client(&clock).execute(check(&url)).await.unwrap_err();
    let mut root: &dyn std::error::Error = &err;
    while let Some(next) = root.source() {
        root = next;
    }
    let root = root.to_string();
    assert!(!root.is_empty());
    assert_eq!(err.message(), format!("check: connection failed: {root}"));
}

#[test]
fn a_client_keeps_its_settings_and_shows_them() {
    let clock = Arc::new(RecordingClock::default());
    let client = client(&clock);
    assert_eq!(client.provider(), &ProviderId::new_static("acme"));
    assert_eq!(client.config().max_response_bytes, 1024);
    assert_eq!(client.config().timeouts.attempt, Duration::from_millis(300));
    let shown = format!("{client:?}");
    assert!(
        shown.starts_with("HttpClient") && shown.contains("acme") && shown.contains("1024"),
        "{shown}"
    );
}

/// A `Retry-After` within the cap but past the overall timeout is not waited for: the answer is
/// returned at once, as no retry could finish in time.
#[tokio::test]
async fn a_retry_after_past_the_overall_timeout_is_not_waited_for() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let config = config(&clock).with_retry(
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_max_retry_after(Duration::from_secs(60)),
    );
    assert_eq!(config.timeouts.overall, Duration::from_secs(20));
    let client = HttpClient::new(ProviderId::new_static("acme"), config).unwrap();
    let response = client.execute(check(&base(&server))).await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(hits(&server).await, 1);
    assert!(clock.sleeps.lock().unwrap().is_empty());
}

/// A plain 503 may come from a proxy that had forwarded the request (Envoy's "upstream connect
/// error or disconnect/reset before headers"): a send so answered may have gone out and a code
/// check may have used the code. Only a 503 with `Retry-After` was refused before processing.
#[tokio::test]
async fn a_plain_503_to_a_send_or_a_check_may_have_been_processed() {
    for (operation, retry_after, expected, attempts) in [
        ("send", false, ErrorKind::MaybeSent, 1),
        ("send", true, ErrorKind::ProviderUnavailable, 1),
        ("check", false, ErrorKind::OutcomeUnknown, 1),
        ("check", true, ErrorKind::ProviderUnavailable, 3),
        ("read", false, ErrorKind::ProviderUnavailable, 3),
    ] {
        let server = MockServer::start().await;
        let mut answer = ResponseTemplate::new(503);
        if retry_after {
            answer = answer.insert_header("retry-after", "0");
        }
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let request = match operation {
            "send" => send(&base(&server)),
            "check" => consume(&base(&server)),
            _ => check(&base(&server)),
        };
        let clock = Arc::new(RecordingClock::default());
        let response = client(&clock).execute(request).await.unwrap();
        let label = format!("{operation}, retry-after {retry_after}");
        assert_eq!(response.status(), 503, "{label}");
        assert_eq!(response.kind_for_status(), expected, "{label}");
        let err = response.error(ErrorKind::ProviderUnavailable, "unavailable");
        assert_eq!(err.kind(), expected, "{label}");
        assert_eq!(hits(&server).await, attempts, "{label}");
    }
}

/// A server error whose body is over the cap leaves a send or a code check in doubt as the
/// same error with a small body would: the provider may have acted before it failed.
#[tokio::test]
async fn an_oversized_server_error_to_a_send_or_a_check_is_in_doubt() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/send"))
        .respond_with(ResponseTemplate::new(500).set_body_string("x".repeat(4096)))
        .mount(&server)
        .await;
    Mock::given(path("/v1/check-otp"))
        .respond_with(ResponseTemplate::new(500).set_body_string("x".repeat(4096)))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    for (name, request, expected) in [
        ("send", send(&base(&server)), ErrorKind::MaybeSent),
        ("check", consume(&base(&server)), ErrorKind::OutcomeUnknown),
    ] {
        let err = client(&clock).execute(request).await.unwrap_err();
        assert_eq!(err.kind(), expected, "{name}: {err}");
        assert_eq!(err.http_status(), Some(500), "{name}");
    }
    assert_eq!(hits(&server).await, 2);
}

/// A lookup answered 502 with a large page (a proxy's HTML) is retried like any 502, its
/// answer's `Retry-After` waited for.
#[tokio::test]
async fn an_oversized_bad_gateway_to_a_lookup_is_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(
            ResponseTemplate::new(502)
                .insert_header("retry-after", "2")
                .set_body_string("<html>".repeat(1000)),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let response = client(&clock).execute(check(&base(&server))).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(hits(&server).await, 2);
    assert_eq!(*clock.sleeps.lock().unwrap(), [Duration::from_secs(2)]);
    // Always oversized: the last error, a provider unavailable, not a decode error.
    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>".repeat(1000)))
        .mount(&server)
        .await;
    let err = client(&clock)
        .execute(check(&base(&server)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable, "{err}");
    assert_eq!(hits(&server).await, 3);
}

/// A code check is retried only if a whole attempt fits before the overall deadline: a retry
/// the deadline cut short would turn a known refusal (a 429, the code unused) into "the code
/// may have been used".
#[tokio::test]
async fn a_code_check_is_not_retried_when_an_attempt_would_not_fit_the_overall_deadline() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check-otp"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/check-otp"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let config = config(&clock).with_timeouts(
        Timeouts::default()
            .with_attempt(Duration::from_secs(10))
            .with_overall(Duration::from_secs(2)),
    );
    let client = HttpClient::new(ProviderId::new_static("acme"), config).unwrap();
    let response = client.execute(consume(&base(&server))).await.unwrap();
    assert_eq!(response.status(), 429, "the refusal, as answered");
    assert_eq!(response.kind_for_status(), ErrorKind::RateLimited);
    assert_eq!(hits(&server).await, 1);
    assert!(clock.sleeps.lock().unwrap().is_empty());
}

/// A clock whose waits never end: the overall deadline ends them.
#[derive(Debug, Default)]
struct StalledClock;

impl phone_verify_core::http::Clock for StalledClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn sleep(&self, _: Duration) -> phone_verify_core::http::Sleep {
        Box::pin(std::future::pending())
    }
}

/// The overall deadline passing while a code check waits to be retried ends the call with a
/// timeout, not an unknown outcome: no attempt was in flight, and the last one was refused
/// before processing.
#[tokio::test]
async fn the_deadline_passing_between_attempts_of_a_code_check_leaves_no_doubt() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/check-otp"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let config = config(&clock)
        .with_timeouts(
            Timeouts::default()
                .with_attempt(Duration::from_millis(300))
                .with_overall(Duration::from_secs(1)),
        )
        .with_clock(Arc::new(StalledClock));
    let client = HttpClient::new(ProviderId::new_static("acme"), config).unwrap();
    let err = client.execute(consume(&base(&server))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.is_retryable());
    assert_eq!(hits(&server).await, 1);
}

/// A caller's client that follows redirects resends the request (body, key headers) to the
/// new location; the answer it brings back is refused, and a send or a check so redirected is
/// in doubt.
#[tokio::test]
async fn an_answer_reached_through_a_redirect_is_refused() {
    let server = MockServer::start().await;
    for (from, to) in [
        ("/v1/send", "/v2/send"),
        ("/v1/check-otp", "/v2/check-otp"),
        ("/v1/check", "/v2/check"),
    ] {
        Mock::given(path(from))
            .respond_with(ResponseTemplate::new(307).insert_header("location", to))
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    let clock = Arc::new(RecordingClock::default());
    let following = HttpClient::with_reqwest(
        ProviderId::new_static("acme"),
        reqwest::Client::new(),
        config(&clock),
    )
    .unwrap();
    for (request, expected) in [
        (send(&base(&server)), ErrorKind::MaybeSent),
        (consume(&base(&server)), ErrorKind::OutcomeUnknown),
        (check(&base(&server)), ErrorKind::InvalidInput),
    ] {
        let err = following.execute(request).await.unwrap_err();
        assert_eq!(err.kind(), expected, "{err}");
        assert!(err.to_string().contains("followed a redirect"), "{err}");
        assert!(!err.is_retryable());
    }
    assert_eq!(
        hits(&server).await,
        3 * 2,
        "each request once, redirect followed once"
    );
    assert!(clock.sleeps.lock().unwrap().is_empty());
}

#[test]
fn a_user_agent_that_is_not_a_header_value_is_invalid_input() {
    let config = HttpConfig::default().with_user_agent("acme\nInjected: yes");
    let err = HttpClient::new(ProviderId::new_static("acme"), config).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(!err.is_retryable());
}
