//! The fault matrix: every provider × operation (start, check, resolve) × fault the sandbox can
//! inject, each against its own sandbox, asserting a typed outcome within a bound, that no send
//! is retried and no code check is retried after it may have been processed, and no panic.
//!
//! The matrix is rendered into the `fault-matrix` section of `docs/reliability.md`:
//! `UPDATE_RELIABILITY=1 cargo test -p phone-verify --all-features --test fault_matrix`
//! rewrites it; without the variable the test fails when the committed section differs.
//!
//! Determinism: each fault lasts for the whole operation (every attempt meets it), so an
//! outcome never depends on which attempt a fault hit. The only clocks involved are margins:
//! a held answer (30 s) and a dripped body (2 bytes a second, 60 bytes at least) against a 4 s
//! attempt timeout, and at most 3 attempts with sub-second backoff (or a 1 s `Retry-After`)
//! against a 30 s overall timeout, so every operation ends on the same branch however slow the
//! machine. The counts are read once the sandbox has logged the operation's requests.
#![cfg(all(
    feature = "verifykit",
    feature = "verifik",
    feature = "verigator",
    feature = "twilio"
))]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use phone_verify::http::{ConfigureHttp, RetryPolicy, Timeouts};
use phone_verify::providers::{twilio, verifik, verifykit, verigator};
use phone_verify::{
    CheckOutcome, CheckRequest, Code, ErrorKind, PhoneVerifier, RequestContext, SessionId,
    SessionResolver, StartRequest,
};
use phone_verify_sandbox::{Fault, FaultAction, Provider, Sandbox, SandboxConfig, SandboxHandle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Each attempt's timeout (and the connect timeout): long enough that a loaded machine does
/// not time out a request no fault holds (2 s did, on 2 cores with 6 busy processes), short
/// against the held answer's 30 s and the dripped body's.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(4);
/// The overall timeout: above the longest chain of attempts (Verifik's lost check, 1 attempt
/// and a read-back of 3: 16 s), so an operation always ends on its attempts' branch.
const OVERALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts of a retried operation (the kit's default, set explicitly: the matrix counts them).
const MAX_ATTEMPTS: u32 = 3;
/// The 10 MB body of the `oversized body` fault; the client's cap is the default 1 MiB.
const OVERSIZED_BYTES: u64 = 10 * 1024 * 1024;
/// A bound per cell that turns a hang into a failure (not a timing assertion: a cell needs at
/// most about 7 s).
const CELL_BOUND: Duration = Duration::from_secs(60);
/// Cells run at once (each with its own sandbox).
const PARALLEL_CELLS: usize = 12;

/// The matrix's faults, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    Status500,
    Status503,
    Unavailable503,
    RateLimited429,
    Timeout,
    ResetBefore,
    ResetAfter,
    TruncatedBody,
    MalformedJson,
    WrongContentType,
    OversizedBody,
    SlowDrip,
}

impl FaultKind {
    const ALL: [Self; 12] = [
        Self::Status500,
        Self::Status503,
        Self::Unavailable503,
        Self::RateLimited429,
        Self::Timeout,
        Self::ResetBefore,
        Self::ResetAfter,
        Self::TruncatedBody,
        Self::MalformedJson,
        Self::WrongContentType,
        Self::OversizedBody,
        Self::SlowDrip,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Status500 => "500",
            Self::Status503 => "503 without Retry-After",
            Self::Unavailable503 => "503 + Retry-After: 1",
            Self::RateLimited429 => "429 + Retry-After: 1",
            Self::Timeout => "timeout (answer held 30 s)",
            Self::ResetBefore => "reset before processing",
            Self::ResetAfter => "reset after processing",
            Self::TruncatedBody => "truncated body",
            Self::MalformedJson => "malformed JSON",
            Self::WrongContentType => "wrong content type (HTML)",
            Self::OversizedBody => "10 MB body",
            Self::SlowDrip => "slow drip (1 byte / 500 ms)",
        }
    }

    fn action(self) -> FaultAction {
        match self {
            Self::Status500 => FaultAction::Status {
                status: 500,
                body: None,
            },
            Self::Status503 => FaultAction::Status {
                status: 503,
                body: None,
            },
            Self::Unavailable503 => FaultAction::ServiceUnavailable {
                retry_after_secs: 1,
            },
            Self::RateLimited429 => FaultAction::RateLimited {
                retry_after_secs: 1,
            },
            Self::Timeout => FaultAction::Delay { ms: 30_000 },
            Self::ResetBefore => FaultAction::ConnectionReset,
            Self::ResetAfter => FaultAction::ResetAfterProcessing,
            Self::TruncatedBody => FaultAction::TruncatedBody,
            Self::MalformedJson => FaultAction::MalformedJson,
            Self::WrongContentType => FaultAction::WrongContentType,
            Self::OversizedBody => FaultAction::OversizedBody {
                bytes: OVERSIZED_BYTES,
            },
            Self::SlowDrip => FaultAction::SlowDrip {
                chunk_bytes: 1,
                interval_ms: 500,
            },
        }
    }

    /// Whether the provider surely did not process the request: a code check may then be
    /// retried (the kit retries a check only on 429 and 503 with `Retry-After`).
    fn refused_before_processing(self) -> bool {
        matches!(self, Self::Unavailable503 | Self::RateLimited429)
    }

    /// Whether the sandbox processes the request before the fault (its answer held back, cut
    /// short or padded): only then can a read-back find the code used.
    fn processed(self) -> bool {
        matches!(
            self,
            Self::Timeout
                | Self::ResetAfter
                | Self::TruncatedBody
                | Self::OversizedBody
                | Self::SlowDrip
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Start,
    Check,
    Resolve,
}

impl Op {
    const ALL: [Self; 3] = [Self::Start, Self::Check, Self::Resolve];

    fn label(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Check => "check",
            Self::Resolve => "resolve",
        }
    }
}

/// A provider of the matrix: how it is built against a sandbox and where its operations go.
#[derive(Debug, Clone, Copy)]
struct Target {
    provider: Provider,
    title: &'static str,
    phone: &'static str,
    /// `(method, path)` of each operation's request, as the provider sees it.
    start: (&'static str, &'static str),
    check: (&'static str, &'static str),
    /// The session lookup, or why there is none.
    resolve: Result<(&'static str, &'static str), &'static str>,
    /// Whether a check whose answer was lost is read back, and may then be `Verified`
    /// (Verifik reads the validation, Twilio the verification's attempts).
    reads_back_lost_checks: bool,
    /// Whether a check read back is, when the record shows it did not take effect, sent once
    /// more (Verifik).
    rechecks_after_read_back: bool,
}

const TARGETS: [Target; 4] = [
    Target {
        provider: Provider::VerifyKit,
        title: "VerifyKit",
        phone: "+905321234567",
        start: ("POST", "/v1.0/send-otp"),
        check: ("POST", "/v1.0/check-otp"),
        resolve: Ok(("POST", "/v1.0/result")),
        reads_back_lost_checks: false,
        rechecks_after_read_back: false,
    },
    Target {
        provider: Provider::Verifik,
        title: "Verifik (manual mode)",
        phone: "+573001234567",
        start: ("POST", "/v2/phone-validations/manual"),
        check: ("PUT", "/v2/phone-validations"),
        resolve: Ok(("GET", "/v2/phone-validations/*")),
        reads_back_lost_checks: true,
        rechecks_after_read_back: true,
    },
    Target {
        provider: Provider::Verigator,
        title: "Messente Verigator",
        phone: "+37251234567",
        start: ("POST", "/v1/service/service/*/users/*/auth"),
        check: ("PUT", "/v1/service/service/*/users/*/auth"),
        resolve: Err("Verigator has no sessions (no `SessionResolver`)"),
        reads_back_lost_checks: false,
        rechecks_after_read_back: false,
    },
    Target {
        provider: Provider::Twilio,
        title: "Twilio Verify",
        phone: "+15017122661",
        start: ("POST", "/v2/Services/*/Verifications"),
        check: ("POST", "/v2/Services/*/VerificationCheck"),
        resolve: Err("Twilio Verify has no sessions (no `SessionResolver`)"),
        reads_back_lost_checks: true,
        rechecks_after_read_back: false,
    },
];

impl Target {
    fn endpoint(&self, op: Op) -> Option<(&'static str, &'static str)> {
        match op {
            Op::Start => Some(self.start),
            Op::Check => Some(self.check),
            Op::Resolve => self.resolve.ok(),
        }
    }
}

/// Short timeouts and fast backoff, so the matrix stays quick; the margins are in the module
/// docs.
fn http<B: ConfigureHttp>(builder: B) -> B {
    builder
        .timeouts(
            Timeouts::default()
                .with_connect(ATTEMPT_TIMEOUT)
                .with_attempt(ATTEMPT_TIMEOUT)
                .with_overall(OVERALL_TIMEOUT),
        )
        .retry(
            RetryPolicy::default()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_backoff(Duration::from_millis(10), Duration::from_millis(40)),
        )
}

type Built = (Arc<dyn PhoneVerifier>, Option<Arc<dyn SessionResolver>>);

/// The provider built against `sandbox` (Verigator with a service created first).
async fn build(target: &Target, sandbox: &SandboxHandle) -> Built {
    let base = sandbox.base_url();
    match target.provider {
        Provider::VerifyKit => {
            let v = Arc::new(
                http(verifykit::VerifyKitBuilder::sandbox(&base))
                    .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
                    .build()
                    .unwrap(),
            );
            (v.clone(), Some(v))
        }
        Provider::Verifik => {
            let v = Arc::new(
                http(verifik::VerifikBuilder::sandbox(&base))
                    .build()
                    .unwrap(),
            );
            (v.clone(), Some(v))
        }
        Provider::Verigator => {
            let service = verigator::VerigatorBuilder::sandbox(&base)
                .build_client()
                .unwrap()
                .create_service("fault-matrix.example.com", "Fault matrix")
                .await
                .unwrap()
                .id;
            let v = http(verigator::VerigatorBuilder::sandbox(&base))
                .service_id(service)
                .build()
                .unwrap();
            (Arc::new(v), None)
        }
        Provider::Twilio => {
            let v = http(twilio::TwilioBuilder::sandbox(&base)).build().unwrap();
            (Arc::new(v), None)
        }
        other => unreachable!("the fault matrix builds no client for {other:?} yet"),
    }
}

/// What one cell observed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cell {
    /// `Ok` outcome (`started`, `Verified`, `Rejected(..)`, `Pending`, `resolved`) or error kind.
    outcome: Result<String, ErrorKind>,
    /// Requests to the faulted endpoint during the operation.
    requests: usize,
    /// Send requests during the operation (any send endpoint of the provider).
    sends: usize,
    /// Codes the sandbox delivered during the operation.
    delivered: usize,
}

impl Cell {
    fn render(&self, op: Op) -> String {
        let outcome = match &self.outcome {
            Ok(ok) => ok.clone(),
            Err(kind) => format!("`{kind:?}`"),
        };
        let requests = match self.requests {
            1 => "1 req".to_owned(),
            n => format!("{n} req"),
        };
        match op {
            Op::Start => format!("{outcome} ({requests}, sent {})", self.delivered),
            Op::Check | Op::Resolve => format!("{outcome} ({requests})"),
        }
    }
}

fn send_requests(sandbox: &SandboxHandle, target: &Target) -> usize {
    count(sandbox, target.provider, target.start)
}

fn count(sandbox: &SandboxHandle, provider: Provider, (method, path): (&str, &str)) -> usize {
    sandbox
        .requests_of(provider)
        .counts
        .iter()
        .filter(|(key, _)| {
            key.split_once(' ').is_some_and(|(m, p)| {
                m.eq_ignore_ascii_case(method)
                    && phone_verify_sandbox::faults::path_matches(path, p)
            })
        })
        .map(|(_, n)| n)
        .sum()
}

/// Runs one cell on a sandbox of its own.
async fn run_cell(target: Target, op: Op, fault: FaultKind) -> Cell {
    let sandbox = Sandbox::start(SandboxConfig::seeded(19)).await.unwrap();
    let (verifier, resolver) = build(&target, &sandbox).await;
    let user = RequestContext::new().end_user_ip("198.51.100.7".parse().unwrap());
    let phone = target.phone.parse().unwrap();
    let start = StartRequest::sms(phone).context(user.clone());
    // Everything before the faulted operation runs unfaulted.
    let mut handle = None;
    let mut session = None;
    if op != Op::Start {
        let started = verifier.start(&start).await.expect("setup: start");
        let code = sandbox.latest_code(target.phone).expect("setup: a code");
        if op == Op::Resolve {
            let check = CheckRequest::code(Code::new(&code).unwrap()).context(user.clone());
            let outcome = verifier
                .check(&started, &check)
                .await
                .expect("setup: check");
            let result = outcome.verified().expect("setup: the right code verifies");
            session = Some(result.session_id.clone().expect("setup: a session id"));
        }
        handle = Some((started, code));
    }
    let endpoint = target.endpoint(op).expect("an operation the provider has");
    let before = (
        count(&sandbox, target.provider, endpoint),
        send_requests(&sandbox, &target),
        sandbox.all_messages().len(),
    );
    sandbox.inject_fault(
        Fault::new(target.provider, fault.action())
            .method(endpoint.0)
            .path(endpoint.1)
            // Every attempt of the operation meets the fault.
            .times(10),
    );
    let outcome = match op {
        Op::Start => verifier
            .start(&start)
            .await
            .map(|_| "started".to_owned())
            .map_err(|e| e.kind()),
        Op::Check => {
            let (started, code) = handle.expect("started in setup");
            let check = CheckRequest::code(Code::new(&code).unwrap()).context(user);
            verifier
                .check(&started, &check)
                .await
                .map(|outcome| describe(&outcome))
                .map_err(|e| e.kind())
        }
        Op::Resolve => {
            let session: SessionId = session.expect("resolved in setup");
            resolver
                .expect("a provider with sessions")
                .resolve(&session, &user)
                .await
                .map(|_| "resolved".to_owned())
                .map_err(|e| e.kind())
        }
    };
    // The sandbox logs a request once it took effect; a client that timed out may return
    // first. Every operation reached the faulted endpoint at least once.
    while count(&sandbox, target.provider, endpoint) == before.0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cell = Cell {
        outcome,
        requests: count(&sandbox, target.provider, endpoint) - before.0,
        sends: send_requests(&sandbox, &target) - before.1,
        delivered: sandbox.all_messages().len() - before.2,
    };
    sandbox.shutdown().await;
    cell
}

fn describe(outcome: &CheckOutcome) -> String {
    match outcome {
        CheckOutcome::Verified(_) => "Verified".to_owned(),
        CheckOutcome::Pending => "Pending".to_owned(),
        CheckOutcome::Rejected(rejection) => format!("Rejected({:?})", rejection.reason),
        other => format!("{other:?}"),
    }
}

/// The standards each cell must meet, whatever the provider.
fn assert_cell(target: &Target, op: Op, fault: FaultKind, cell: &Cell) {
    let at = format!(
        "{} {} under {}: {cell:?}",
        target.title,
        op.label(),
        fault.label()
    );
    let kind = cell.outcome.as_ref().err().copied();
    match op {
        Op::Start => {
            assert!(cell.sends <= 1, "a send was retried: {at}");
            assert_eq!(cell.requests, cell.sends, "{at}");
            assert!(cell.outcome.is_err(), "a faulted send cannot succeed: {at}");
        }
        Op::Check | Op::Resolve => assert_eq!(cell.sends, 0, "nothing is sent: {at}"),
    }
    if op == Op::Check {
        assert!(
            !cell
                .outcome
                .as_ref()
                .is_ok_and(|o| o.starts_with("Rejected")),
            "a fault is never a wrong code: {at}"
        );
        let max = if fault.refused_before_processing() {
            MAX_ATTEMPTS as usize
        } else if target.rechecks_after_read_back {
            2
        } else {
            1
        };
        assert!(
            cell.requests <= max,
            "a code check that may have been processed was retried: {at}"
        );
    }
    if op == Op::Resolve {
        assert!((1..=MAX_ATTEMPTS as usize).contains(&cell.requests), "{at}");
    }
    // What the standards fix, per fault class.
    match fault {
        FaultKind::RateLimited429 => assert_eq!(kind, Some(ErrorKind::RateLimited), "{at}"),
        // Refused before processing, saying when to come back.
        FaultKind::Unavailable503 => {
            assert_eq!(kind, Some(ErrorKind::ProviderUnavailable), "{at}");
        }
        // The answer was lost, or is a 2xx that cannot be read (or would not fit), or a server
        // error other than a 503 with `Retry-After` (a proxy answers a plain 503 after
        // forwarding the request): either way the provider may have taken the request, so a
        // send may have gone out and a code may have been used. Verifik and Twilio read the
        // check back.
        FaultKind::Status500
        | FaultKind::Status503
        | FaultKind::Timeout
        | FaultKind::ResetBefore
        | FaultKind::ResetAfter
        | FaultKind::TruncatedBody
        | FaultKind::SlowDrip
        | FaultKind::MalformedJson
        | FaultKind::WrongContentType
        | FaultKind::OversizedBody => match op {
            Op::Start => assert_eq!(kind, Some(ErrorKind::MaybeSent), "{at}"),
            // Never a rejection; Verifik and Twilio may read the code's fate back.
            // A check the provider processed, or (Verifik) one sent once more after the
            // read-back.
            Op::Check => assert!(
                kind == Some(ErrorKind::OutcomeUnknown)
                    || (target.reads_back_lost_checks
                        && (fault.processed() || target.rechecks_after_read_back)
                        && cell.outcome.as_deref() == Ok("Verified")),
                "{at}"
            ),
            // A lookup retried on transient failures ends on the last one's kind; a 500 and an
            // unreadable answer are not retried.
            Op::Resolve => assert_eq!(
                kind,
                Some(match fault {
                    FaultKind::Status500 | FaultKind::Status503 => ErrorKind::ProviderUnavailable,
                    FaultKind::Timeout | FaultKind::SlowDrip => ErrorKind::Timeout,
                    FaultKind::MalformedJson
                    | FaultKind::WrongContentType
                    | FaultKind::OversizedBody => ErrorKind::Decode,
                    _ => ErrorKind::Transport,
                }),
                "{at}"
            ),
        },
    }
}

fn render(cells: &[(Target, Op, FaultKind, Cell)]) -> String {
    let mut out = String::new();
    out.push_str(
        "Generated by `UPDATE_RELIABILITY=1 cargo test -p phone-verify --all-features --test \
         fault_matrix` (without the variable the test fails when this section is stale). Each \
         cell runs against a sandbox of its own, the provider built with a 4 s attempt \
         timeout, a 30 s overall timeout and at most 3 attempts; the fault is injected on the \
         operation's endpoint for every attempt of that operation. A cell is the outcome (an \
         `ErrorKind`, or the `Ok` result), the requests that reached the faulted endpoint and, \
         for `start`, the codes the sandbox delivered. `start` is never retried; a check is \
         retried only on 429 and 503 with `Retry-After` (refused before processing); lookups on \
         any transient failure. Verifik reads a check whose answer was lost back (and checks \
         once more only if the record shows it did not take effect), and Twilio reads the \
         verification's attempts (a `converted` one is the code approved), so a check that took \
         effect before its answer was lost, or was answered with an unreadable 2xx, comes back \
         `Verified`.\n\n\
         Asserted for every cell, besides the table itself: an outcome within a bound, no \
         panic, at most one send request per `start` and none during `check` or `resolve`; a \
         faulted `start` never succeeds and is `MaybeSent` whenever the request left and no \
         readable refusal came back; a `check` is never `Rejected` by a fault and is not \
         retried after it may have been processed; 429 is `RateLimited`, 503 with \
         `Retry-After` `ProviderUnavailable`; a 503 without `Retry-After`, which a proxy may \
         answer after forwarding the request, is in doubt like a 500: `MaybeSent` for a \
         `start`, `OutcomeUnknown` for a `check`; an unreadable or oversized 2xx body is \
         `MaybeSent` for a `start` (the provider took it), `OutcomeUnknown` for a `check` (or, \
         for a Verifik or Twilio check read back, `Verified`) and `Decode` for a `resolve`.\n",
    );
    for target in TARGETS {
        let _ = write!(out, "\n### {}\n\n", target.title);
        out.push_str("| fault | start | check | resolve |\n|---|---|---|---|\n");
        for fault in FaultKind::ALL {
            let _ = write!(out, "| {} |", fault.label());
            for op in Op::ALL {
                let text = cells
                    .iter()
                    .find(|(t, o, f, _)| t.provider == target.provider && *o == op && *f == fault)
                    .map_or_else(|| "n/a".to_owned(), |(_, _, _, cell)| cell.render(op));
                let _ = write!(out, " {text} |");
            }
            out.push('\n');
        }
        if let Err(reason) = target.resolve {
            let _ = writeln!(out, "\n`resolve` n/a: {reason}.");
        }
    }
    out
}

const BEGIN: &str = "<!-- fault-matrix:begin (generated by `cargo test -p phone-verify --test fault_matrix`; do not edit) -->";
const END: &str = "<!-- fault-matrix:end -->";

fn reliability_doc() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/reliability.md")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_operation_and_fault_has_a_typed_outcome() {
    let permits = Arc::new(Semaphore::new(PARALLEL_CELLS));
    let mut cells = JoinSet::new();
    for target in TARGETS {
        for op in Op::ALL {
            if target.endpoint(op).is_none() {
                continue;
            }
            for fault in FaultKind::ALL {
                let permits = Arc::clone(&permits);
                cells.spawn(async move {
                    let _permit = permits.acquire_owned().await.unwrap();
                    let cell = tokio::time::timeout(CELL_BOUND, run_cell(target, op, fault))
                        .await
                        .unwrap_or_else(|_| {
                            panic!(
                                "{} {} under {} did not finish within {CELL_BOUND:?}",
                                target.title,
                                op.label(),
                                fault.label()
                            )
                        });
                    (target, op, fault, cell)
                });
            }
        }
    }
    let mut results = Vec::new();
    while let Some(joined) = cells.join_next().await {
        // A panic inside a cell (the SDK's or an assertion's) fails the test here.
        results.push(joined.unwrap());
    }
    assert_eq!(results.len(), 2 * 3 * 12 + 2 * 2 * 12);
    for (target, op, fault, cell) in &results {
        assert_cell(target, *op, *fault, cell);
    }
    let table = render(&results);
    let path = reliability_doc();
    let doc = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = doc
        .split_once(BEGIN)
        .expect("the fault-matrix begin marker");
    let (_, tail) = rest.split_once(END).expect("the fault-matrix end marker");
    let updated = format!("{head}{BEGIN}\n{table}{END}{tail}");
    if std::env::var_os("UPDATE_RELIABILITY").is_some_and(|v| v == "1") {
        std::fs::write(&path, updated).unwrap();
    } else {
        assert!(
            doc == updated,
            "docs/reliability.md's fault matrix is stale; regenerate it with\n  \
             UPDATE_RELIABILITY=1 cargo test -p phone-verify --all-features --test fault_matrix\n\
             generated:\n{table}"
        );
    }
}
