//! The providers under test: for each, the SDK's `check` and `resolve` and the same requests
//! written by hand on a bare `reqwest::Client`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result};
use async_trait::async_trait;
use phone_verify_core::{
    CheckRequest, Code, PhoneNumber, PhoneVerifier, RequestContext, SessionResolver, Verification,
};
use phone_verify_sandbox::{SandboxConfig, SandboxHandle};
use reqwest::header::HeaderValue;

pub(crate) mod twilio;
pub(crate) mod verifik;
pub(crate) mod verifykit;
pub(crate) mod verigator;

/// One benchmarked call: `op(i)` runs the `i`-th prepared request.
pub(crate) type Op =
    Arc<dyn Fn(usize) -> Pin<Box<dyn Future<Output = Result<()>> + Send>> + Send + Sync>;

/// Which client makes the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Side {
    /// The provider crate, through `Arc<dyn PhoneVerifier>` / `Arc<dyn SessionResolver>`.
    Sdk,
    /// The same HTTP requests on a bare `reqwest::Client`, decoded into minimal structs.
    Raw,
    /// Raw reqwest again, on a second client with its own pool: the other side of an A/A run
    /// (`--raw-twin`), which measures the comparison's noise and bias.
    #[value(skip)]
    Twin,
}

impl Side {
    /// `sdk` or `raw`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Sdk => "sdk",
            Self::Raw => "raw",
            Self::Twin => "raw twin",
        }
    }

    /// The other side.
    pub(crate) fn other(self) -> Self {
        match self {
            Self::Sdk => Self::Raw,
            Self::Raw | Self::Twin => Self::Sdk,
        }
    }
}

/// A provider under test.
#[async_trait]
pub(crate) trait Target: Send + Sync {
    /// The provider's id.
    fn name(&self) -> &'static str;

    /// Whether the provider resolves sessions: its verifier's own capabilities say so
    /// (`Capabilities::session_resolution`; Verigator and Twilio do not).
    fn resolves(&self) -> bool {
        self.verifier().capabilities().session_resolution
    }

    /// Starts `n` fresh verifications (with the SDK, not timed), reads their codes from the
    /// sandbox, and returns the call that checks the `i`-th one with its right code.
    async fn check_op(&self, side: Side, n: usize) -> Result<Op>;

    /// Verifies `pool` phones (not timed) and returns the call that resolves session
    /// `i % pool`.
    async fn resolve_op(&self, side: Side, pool: usize) -> Result<Op>;

    /// The verifier and resolver, as an application holds them, for the concurrent flows.
    fn verifier(&self) -> Arc<dyn PhoneVerifier>;

    /// The session resolver, if the provider has one.
    fn resolver(&self) -> Option<Arc<dyn SessionResolver>>;
}

/// Every provider the benchmark measures: its id and its crate.
pub(crate) const PROVIDERS: [(&str, &str); 4] = [
    ("verifykit", "phone-verify-verifykit"),
    ("verifik", "phone-verify-verifik"),
    ("verigator", "phone-verify-verigator"),
    ("twilio", "phone-verify-twilio"),
];

/// Whether provider `id` resolves sessions, from the capabilities of the verifier its target
/// measures ([`Target::resolves`]), built the same way without a sandbox: building a verifier
/// sends nothing, so this address is never contacted.
pub(crate) fn resolves_sessions(id: &str) -> Result<bool> {
    const NOWHERE: &str = "http://127.0.0.1:9";
    let config = SandboxConfig::seeded(0);
    let capabilities = match id {
        "verifykit" => verifykit::sdk(NOWHERE, &config)?.capabilities(),
        "verifik" => verifik::sdk(NOWHERE, &config)?.capabilities(),
        "verigator" => verigator::sdk(
            &phone_verify_verigator::VerigatorBuilder::sandbox(NOWHERE),
            "bench-capabilities".to_owned(),
        )?
        .capabilities(),
        "twilio" => twilio::sdk(NOWHERE)?.capabilities(),
        other => anyhow::bail!("unknown provider {other}"),
    };
    Ok(capabilities.session_resolution)
}

/// The raw side's client: a bare `reqwest::Client` that sends the headers every SDK request
/// carries besides the provider's own (the SDK's default `User-Agent`, `Accept:
/// application/json`), as a hand-written client that sends the same requests would set them
/// once. Without them the raw side's requests had one header fewer than the SDK's, which cost
/// the server up to 3 µs per call (docs/benchmarks.md, "Issue 18, sixth pass").
pub(crate) fn raw_client() -> Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    reqwest::Client::builder()
        .user_agent(phone_verify_core::http::HttpConfig::default().user_agent)
        .default_headers(headers)
        .build()
        .context("building the raw side's reqwest client")
}

/// `url`, parsed once: the raw side sends a clone of it, as the SDK does its joined URLs.
pub(crate) fn parse_url(url: &str) -> Result<reqwest::Url> {
    url.parse()
        .with_context(|| format!("{url} is not a valid URL"))
}

/// A credential's header value, built once and marked sensitive (as reqwest marks the value
/// of `basic_auth`, and the SDK its credentials).
pub(crate) fn secret_value(value: &str) -> Result<HeaderValue> {
    let mut value = HeaderValue::from_str(value).context("a credential that is no header value")?;
    value.set_sensitive(true);
    Ok(value)
}

/// The `Authorization: Basic …` value of `user` and `password`, encoded once, by reqwest's own
/// `basic_auth` on `client`, which would otherwise encode it again on every request.
pub(crate) fn basic_authorization(
    client: &reqwest::Client,
    user: &str,
    password: &str,
) -> Result<HeaderValue> {
    let request = client
        .get("http://localhost/")
        .basic_auth(user, Some(password))
        .build()?;
    request
        .headers()
        .get(reqwest::header::AUTHORIZATION)
        .cloned()
        .context("reqwest set no Authorization header")
}

/// Boxes an async block into an [`Op`] result.
pub(crate) fn boxed<F>(future: F) -> Pin<Box<dyn Future<Output = Result<()>> + Send>>
where
    F: Future<Output = Result<()>> + Send + 'static,
{
    Box::pin(future)
}

/// The SDK side of a `check` comparison: each call checks one started verification with its
/// code through `Arc<dyn PhoneVerifier>` (with `context`, for providers that need one).
pub(crate) fn sdk_check_op(
    verifier: Arc<dyn PhoneVerifier>,
    started: Vec<(Verification, String)>,
    context: Option<RequestContext>,
) -> Op {
    let items = Arc::new(started);
    Arc::new(move |i| {
        let verifier = Arc::clone(&verifier);
        let items = Arc::clone(&items);
        let context = context.clone();
        boxed(async move {
            let (handle, code) = &items[i];
            let mut request = CheckRequest::code(Code::new(code)?);
            if let Some(context) = context {
                request = request.context(context);
            }
            let outcome = verifier.check(handle, &request).await?;
            anyhow::ensure!(outcome.is_verified(), "not verified: {outcome:?}");
            Ok(())
        })
    })
}

/// Distinct, valid phone numbers for the whole run, so no provider's per-number send limit or
/// "newer code replaces the older" rule ties two verifications together.
#[derive(Debug)]
pub(crate) struct Phones {
    next: AtomicU64,
    prefix: &'static str,
}

impl Phones {
    /// Turkish mobile numbers `+90 532 xxx xx xx`.
    pub(crate) fn turkish() -> Self {
        Self::with_prefix("+90532")
    }

    /// Numbers `prefix` followed by 7 digits.
    pub(crate) fn with_prefix(prefix: &'static str) -> Self {
        Self {
            next: AtomicU64::new(1_000_000),
            prefix,
        }
    }

    /// The next number.
    pub(crate) fn next(&self) -> Result<PhoneNumber> {
        let n = self.next.fetch_add(1, Ordering::Relaxed) % 10_000_000;
        let text = format!("{}{n:07}", self.prefix);
        text.parse::<PhoneNumber>()
            .with_context(|| format!("{text} is not a valid phone number"))
    }
}

/// The code of the newest message the sandbox sent for each of the provider's references.
pub(crate) fn codes_by_reference(sandbox: &SandboxHandle) -> HashMap<String, String> {
    let mut codes = HashMap::new();
    // Newest first: keep the first code seen for each reference.
    for message in sandbox.all_messages() {
        if let (Some(reference), Some(code)) = (message.reference, message.code) {
            codes.entry(reference).or_insert(code);
        }
    }
    codes
}

/// Runs `make(i)` for `i` in `0..n`, `concurrency` at a time, keeping the results in order.
pub(crate) async fn prepare<T, F, Fut>(n: usize, concurrency: usize, make: F) -> Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    let make = Arc::new(make);
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = 0;
    while next < n || !tasks.is_empty() {
        while next < n && tasks.len() < concurrency.max(1) {
            let make = Arc::clone(&make);
            let i = next;
            tasks.spawn(async move { (i, make(i).await) });
            next += 1;
        }
        if let Some(done) = tasks.join_next().await {
            let (i, value) = done.context("a preparation task panicked")?;
            results[i] = Some(value.with_context(|| format!("preparing item {i}"))?);
        }
    }
    Ok(results.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_distinct_and_valid() {
        let phones = Phones::turkish();
        let a = phones.next().unwrap();
        let b = phones.next().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.e164(), "+905321000000");
        assert_eq!(a.region(), Some("TR"));
    }

    /// A request as it arrived: its request line, its header names (lowercase) with their
    /// values in the order sent, and its body.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) struct Captured {
        pub(crate) line: String,
        pub(crate) headers: Vec<(String, String)>,
        pub(crate) body: String,
    }

    impl Captured {
        /// The same request with its headers sorted: what two clients that order headers
        /// differently both send.
        pub(crate) fn sorted(mut self) -> Self {
            self.headers.sort();
            self
        }

        /// The header names, in the order sent.
        pub(crate) fn names(&self) -> Vec<&str> {
            self.headers.iter().map(|(name, _)| name.as_str()).collect()
        }
    }

    /// The next request to `listener`, answered `{}` (its body read by its `Content-Length`).
    async fn request_of_one(listener: &tokio::net::TcpListener) -> Captured {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        let mut buf = [0u8; 1024];
        let head_end = loop {
            if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            let n = socket.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "the connection closed before the request's head ended"
            );
            received.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8(received[..head_end].to_vec()).unwrap();
        let mut lines = head.lines();
        let line = lines.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .map_or(0, |(_, value)| value.parse().unwrap());
        let mut body = received[head_end + 4..].to_vec();
        while body.len() < length {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "the connection closed before the request's body ended"
            );
            body.extend_from_slice(&buf[..n]);
        }
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            )
            .await
            .unwrap();
        Captured {
            line,
            headers,
            body: String::from_utf8(body).unwrap(),
        }
    }

    /// A listener that records the requests sent to it, in place of the sandbox.
    pub(crate) struct Capture {
        listener: tokio::net::TcpListener,
        base: String,
    }

    impl Capture {
        /// A listener on a free loopback port.
        pub(crate) async fn new() -> Self {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            Self { listener, base }
        }

        /// Its base URL, in the sandbox's place.
        pub(crate) fn base(&self) -> &str {
            &self.base
        }

        /// `url`, one of `sandbox`'s, on this listener instead.
        pub(crate) fn url(&self, url: &str, sandbox: &SandboxHandle) -> String {
            url.replacen(&sandbox.base_url(), &self.base, 1)
        }

        /// The first request `call` sends (its answer is `{}`; the call is then dropped). A
        /// call that ends without one fails the test.
        pub(crate) async fn request_of<T: std::fmt::Debug + Send + 'static>(
            &self,
            call: impl Future<Output = T> + Send + 'static,
        ) -> Captured {
            let mut call = tokio::spawn(call);
            tokio::select! {
                request = request_of_one(&self.listener) => {
                    call.abort();
                    request
                }
                ended = &mut call => panic!("the call sent no request: {ended:?}"),
            }
        }
    }

    #[test]
    fn the_twin_is_no_side_to_choose_on_the_command_line() {
        use clap::ValueEnum as _;
        assert_eq!(Side::from_str("sdk", true), Ok(Side::Sdk));
        assert_eq!(Side::from_str("raw", true), Ok(Side::Raw));
        assert!(Side::from_str("twin", true).is_err());
        assert_eq!(Side::Twin.other(), Side::Sdk);
    }

    #[test]
    fn the_raw_client_sends_the_headers_the_sdk_adds() {
        use phone_verify_core::ProviderId;
        use phone_verify_core::http::HttpConfig;
        use phone_verify_core::kit::{HttpClient, HttpRequest, Operation};

        let rt = crate::runner::runtime("test-raw-client", 2).unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url: reqwest::Url = format!("http://{}/probe", listener.local_addr().unwrap())
                .parse()
                .unwrap();
            let raw_url = url.clone();
            let client = raw_client().unwrap();
            let raw = tokio::spawn(async move { client.get(raw_url).send().await });
            let raw_request = request_of_one(&listener).await;
            raw.await.unwrap().unwrap();

            let sdk =
                HttpClient::new(ProviderId::new_static("probe"), HttpConfig::default()).unwrap();
            let request = HttpRequest::get(Operation::read("probe"), url);
            let sdk_call = tokio::spawn(async move { sdk.execute(request).await });
            let sdk_request = request_of_one(&listener).await;
            sdk_call.await.unwrap().unwrap();

            assert_eq!(raw_request, sdk_request);
            assert!(
                sdk_request
                    .headers
                    .iter()
                    .any(|(name, _)| name == "user-agent"),
                "{sdk_request:?}"
            );
        });
    }

    #[test]
    fn prepare_keeps_order() {
        let rt = crate::runner::runtime("test-prepare", 2).unwrap();
        let out = rt
            .block_on(prepare(50, 7, |i| async move { Ok(i * 2) }))
            .unwrap();
        assert_eq!(out, (0..50).map(|i| i * 2).collect::<Vec<_>>());
    }
}
