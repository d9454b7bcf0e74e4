//! `HttpClient::execute_streamed`: bodies read piece by piece, past the response cap, with the
//! layer's retries, timeouts and typed errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use phone_verify_core::http::{HttpConfig, RetryPolicy, Timeouts};
use phone_verify_core::kit::{BaseUrl, HttpClient, HttpRequest, HttpStream, Operation};
use phone_verify_core::secrecy::SecretString;
use phone_verify_core::{ErrorKind, ProviderId};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CANARY: &str = "canary-5d1e7b-SECRET";
/// The buffered-response cap of the test client.
const CAP: usize = 1024;

fn client() -> HttpClient {
    let config = HttpConfig::default()
        .with_timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(2))
                .with_attempt(Duration::from_millis(300))
                .with_overall(Duration::from_secs(20)),
        )
        .with_retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .with_max_response_bytes(CAP);
    HttpClient::new(ProviderId::new_static("acme"), config).unwrap()
}

fn listing(base: &BaseUrl) -> HttpRequest {
    HttpRequest::get(Operation::read("list"), base.join("list"))
        .secret_header("x-api-key", &SecretString::from(CANARY))
        .unwrap()
}

fn base(server: &MockServer) -> BaseUrl {
    BaseUrl::parse(&format!("{}/v1", server.uri())).unwrap()
}

/// A body of `len` bytes that is not all alike.
fn body(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| b'a' + u8::try_from(i % 26).unwrap())
        .collect()
}

async fn read_all(stream: &mut HttpStream) -> phone_verify_core::Result<Vec<u8>> {
    let mut all = Vec::new();
    while let Some(chunk) = stream.chunk().await? {
        all.extend_from_slice(&chunk);
    }
    Ok(all)
}

#[tokio::test]
async fn a_streamed_body_has_no_response_cap() {
    let server = MockServer::start().await;
    let big = body(64 * CAP);
    Mock::given(method("GET"))
        .and(path("/v1/list"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(big.clone()))
        .mount(&server)
        .await;
    let client = client();
    // Buffered, the body is over the cap ...
    let err = client.execute(listing(&base(&server))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    // ... streamed, it arrives whole.
    let mut stream = client
        .execute_streamed(listing(&base(&server)), None)
        .await
        .unwrap();
    assert!(stream.is_success());
    assert_eq!(stream.status().as_u16(), 200);
    assert_eq!(read_all(&mut stream).await.unwrap(), big);
    assert_eq!(stream.bytes_read(), big.len() as u64);
    assert_eq!(stream.chunk().await.unwrap(), None, "over after the end");
    let shown = format!("{stream:?}");
    assert!(shown.contains("list") && !shown.contains(CANARY), "{shown}");
}

#[tokio::test]
async fn the_stream_limit_is_enforced() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(body(16 * CAP)))
        .mount(&server)
        .await;
    let mut stream = client()
        .execute_streamed(listing(&base(&server)), Some(4 * CAP as u64))
        .await
        .unwrap();
    let err = read_all(&mut stream).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("4096-byte limit"), "{err}");
    assert_eq!(err.http_status(), Some(200));
    let again = stream.chunk().await.unwrap_err();
    assert_eq!(
        again.kind(),
        ErrorKind::Decode,
        "failed again after an error: {again}"
    );
}

/// A body that failed is never read as one that ended: every read after the error fails too,
/// where it gave `None`, the end of a complete body.
#[tokio::test]
async fn a_stream_that_failed_fails_again_instead_of_ending() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(body(100)))
        .mount(&server)
        .await;
    let mut stream = client()
        .execute_streamed(listing(&base(&server)), Some(10))
        .await
        .unwrap();
    let first = stream.chunk().await.unwrap_err();
    assert_eq!(first.kind(), ErrorKind::Decode, "{first}");
    for _ in 0..2 {
        let again = stream.chunk().await.unwrap_err();
        assert_eq!(again.kind(), ErrorKind::Decode, "{again}");
        assert_eq!(again.http_status(), Some(200));
        assert_eq!(again.provider().map(ProviderId::as_str), Some("acme"));
    }
    // A code check's lost body stays in doubt on every read.
    let (url, _) = partial_server(500, Duration::ZERO).await;
    let request = HttpRequest::put(Operation::consume("verify"), url.join("verify"));
    let mut stream = client().execute_streamed(request, None).await.unwrap();
    read_all(&mut stream).await.unwrap_err();
    let again = stream.chunk().await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::OutcomeUnknown, "{again}");
}

/// A body that failed is not handed over as a complete, empty answer either: `into_response`
/// fails again with the kind of the read that failed.
#[tokio::test]
async fn a_stream_that_failed_is_no_response() {
    let (url, _) = partial_server(500, Duration::ZERO).await;
    let mut stream = client()
        .execute_streamed(listing(&url), None)
        .await
        .unwrap();
    let first = read_all(&mut stream).await.unwrap_err();
    assert_eq!(first.kind(), ErrorKind::Transport, "{first}");
    let err = stream.into_response().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(err.http_status(), Some(200));
    assert_eq!(err.provider().map(ProviderId::as_str), Some("acme"));
    assert!(
        err.to_string()
            .contains("list: the body already failed to read"),
        "{err}"
    );
}

/// The same past the stream's limit: not the bytes read so far, nor an empty body.
#[tokio::test]
async fn a_stream_past_its_limit_is_no_response() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(body(100)))
        .mount(&server)
        .await;
    let mut stream = client()
        .execute_streamed(listing(&base(&server)), Some(10))
        .await
        .unwrap();
    let first = stream.chunk().await.unwrap_err();
    assert_eq!(first.kind(), ErrorKind::Decode, "{first}");
    let err = stream.into_response().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert_eq!(err.http_status(), Some(200));
    assert!(!err.to_string().contains(CANARY), "{err}");
}

/// A code check's lost body stays in doubt.
#[tokio::test]
async fn a_lost_body_of_a_code_check_is_no_response() {
    let (url, _) = partial_server(500, Duration::ZERO).await;
    let request = HttpRequest::put(Operation::consume("verify"), url.join("verify"));
    let mut stream = client().execute_streamed(request, None).await.unwrap();
    read_all(&mut stream).await.unwrap_err();
    let err = stream.into_response().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
}

#[tokio::test]
async fn a_body_exactly_at_the_limit_is_read_whole() {
    let server = MockServer::start().await;
    let whole = body(3 * CAP);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(whole.clone()))
        .mount(&server)
        .await;
    let len = whole.len() as u64;
    let mut stream = client()
        .execute_streamed(listing(&base(&server)), Some(len))
        .await
        .unwrap();
    assert_eq!(read_all(&mut stream).await.unwrap(), whole);
    assert_eq!(stream.bytes_read(), len);
    // One byte less, and it is refused.
    let mut stream = client()
        .execute_streamed(listing(&base(&server)), Some(len - 1))
        .await
        .unwrap();
    let err = read_all(&mut stream).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("3071-byte limit"), "{err}");
}

#[tokio::test]
async fn streamed_reads_are_retried_before_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(body(2 * CAP)))
        .expect(1)
        .mount(&server)
        .await;
    let mut stream = client()
        .execute_streamed(listing(&base(&server)), None)
        .await
        .unwrap();
    assert_eq!(read_all(&mut stream).await.unwrap(), body(2 * CAP));
    server.verify().await;
}

#[tokio::test]
async fn error_answers_arrive_read_in_full() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_string(r#"{"message":"gone"}"#))
        .expect(2)
        .mount(&server)
        .await;
    let stream = client()
        .execute_streamed(listing(&base(&server)), None)
        .await
        .unwrap();
    assert!(!stream.is_success());
    let response = stream.into_response().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.body().as_ref(), br#"{"message":"gone"}"#);

    // Read piece by piece, the whole body comes as one piece, counted.
    let mut stream = client()
        .execute_streamed(listing(&base(&server)), None)
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 404);
    assert_eq!(stream.operation().name, "list");
    assert_eq!(
        stream
            .headers()
            .get("content-length")
            .map(reqwest::header::HeaderValue::as_bytes),
        Some(&b"18"[..])
    );
    assert_eq!(
        read_all(&mut stream).await.unwrap(),
        br#"{"message":"gone"}"#
    );
    assert_eq!(stream.bytes_read(), 18);
    assert_eq!(stream.chunk().await.unwrap(), None, "over after the end");
    assert_eq!(stream.bytes_read(), 18);
    // Each of the two error answers was asked for once: a 404 is not retried.
    server.verify().await;

    // A 2xx turned into a response is held to the buffered cap.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(body(2 * CAP)))
        .mount(&server)
        .await;
    let stream = client()
        .execute_streamed(listing(&base(&server)), None)
        .await
        .unwrap();
    let err = stream.into_response().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
}

/// A server that answers each request with `head` and `part` of a longer body, then keeps
/// the connection open for `hold` or closes it.
async fn partial_server(part: usize, hold: Duration) -> (BaseUrl, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = BaseUrl::parse(&format!("http://{}/v1", listener.local_addr().unwrap())).unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
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
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    part * 10
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body(part)).await;
                let _ = stream.flush().await;
                tokio::time::sleep(hold).await;
            });
        }
    });
    (url, count)
}

#[tokio::test]
async fn a_body_cut_short_is_a_transport_error_and_not_retried() {
    let (url, count) = partial_server(500, Duration::ZERO).await;
    let mut stream = client()
        .execute_streamed(listing(&url), None)
        .await
        .unwrap();
    let err = read_all(&mut stream).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(err.provider().map(ProviderId::as_str), Some("acme"));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_stalled_body_times_out() {
    let (url, count) = partial_server(500, Duration::from_secs(3)).await;
    let mut stream = client()
        .execute_streamed(listing(&url), None)
        .await
        .unwrap();
    let err = read_all(&mut stream).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.is_retryable());
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_body_still_coming_at_the_overall_deadline_times_out() {
    let (url, count) = partial_server(500, Duration::from_secs(3)).await;
    let config = HttpConfig::default().with_timeouts(
        Timeouts::default()
            .with_attempt(Duration::from_secs(10))
            .with_overall(Duration::from_millis(400)),
    );
    let client = HttpClient::new(ProviderId::new_static("acme"), config).unwrap();
    let mut stream = client.execute_streamed(listing(&url), None).await.unwrap();
    // The server holds the body for 3 s and then closes (a transport error): a timeout is
    // the stream's own deadline ending the read.
    let err = read_all(&mut stream).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("did not complete within"), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_lost_body_of_a_code_check_is_outcome_unknown() {
    let (url, _) = partial_server(500, Duration::ZERO).await;
    let request = HttpRequest::put(Operation::consume("verify"), url.join("verify"));
    let mut stream = client().execute_streamed(request, None).await.unwrap();
    let err = read_all(&mut stream).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
}
