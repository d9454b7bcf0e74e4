//! The soak: a long-lived sandbox under a million requests, a realistic mix over the three
//! providers (sends that fill the outbox and the request log, checks, look-ups), watching the
//! process's resident memory.
//!
//! It runs in a child process of its own (`--soak-child`), so memory freed by earlier phases
//! and kept by the allocator cannot hide growth; the child prints its [`SoakReport`] as JSON.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use hyper::body::Body as _;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use phone_verify_sandbox::{Sandbox, SandboxConfig, SandboxHandle, SendLimit};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpStream;

use crate::procfs::{current_rss, peak_rss, reset_peak_rss};

/// Resident memory may grow by at most this much over the soak.
pub(crate) const SOAK_GROWTH_TARGET: u64 = 20 * 1024 * 1024;
/// Requests sent before the measured ones, so that the bounded stores (request log, outbox,
/// provider records: about 90,000 requests of the mix fill them at the default capacities)
/// are full when the "before" memory is read: what the soak then measures is growth, not
/// the filling of buffers whose size the configuration sets.
pub(crate) const WARMUP: usize = 100_000;
/// Numbers per provider each connection cycles through (test numbers with a fixed code).
const NUMBERS_PER_CONNECTION: usize = 4;
/// The fixed code of every soak number.
const CODE: &str = "135790";
/// At most this many failure examples are kept.
const EXAMPLES: usize = 5;
/// The requests of one round on a connection, in order (3 sends).
pub(crate) const MIX: &[&str] = &[
    "VerifyKit POST send-otp",
    "VerifyKit POST check-otp",
    "VerifyKit POST result",
    "VerifyKit GET init",
    "Verifik POST phone-validations/manual",
    "Verifik PUT phone-validations",
    "Verigator POST …/users/{id}/auth",
    "Verigator PUT …/users/{id}/auth",
    "Verigator GET …/users/{id}",
];

/// What the soak measured.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct SoakReport {
    /// Requests sent during the soak (setup excluded).
    pub(crate) requests: usize,
    /// Keep-alive connections.
    pub(crate) connections: usize,
    /// Requests answered with an unexpected status or body.
    pub(crate) failures: usize,
    /// A few of them.
    pub(crate) examples: Vec<String>,
    /// Wall time of the soak, seconds.
    pub(crate) wall_secs: f64,
    /// Requests of the warm-up before the measured ones.
    pub(crate) warmup: usize,
    /// Resident memory after setup, before the warm-up.
    pub(crate) rss_cold: Option<u64>,
    /// Resident memory after the warm-up, before the measured requests.
    pub(crate) rss_before: Option<u64>,
    /// Resident memory after the soak.
    pub(crate) rss_after: Option<u64>,
    /// Peak resident memory during the soak (`VmHWM`).
    pub(crate) peak_rss: Option<u64>,
    /// Whether `VmHWM` was reset before the soak (else it is the child's lifetime peak).
    pub(crate) peak_reset: bool,
    /// (requests done, resident memory) along the way.
    pub(crate) checkpoints: Vec<(usize, u64)>,
    /// Records in the request log at the end, and its capacity.
    pub(crate) log_len: usize,
    /// The request log's capacity.
    pub(crate) log_capacity: usize,
    /// Messages in the outbox at the end.
    pub(crate) outbox_len: usize,
    /// The outbox's capacity.
    pub(crate) outbox_capacity: usize,
    /// Requests the sandbox counted (its per-endpoint counts, summed).
    pub(crate) counted: usize,
    /// Requests it should have counted (setup and soak).
    pub(crate) sent_in_all: usize,
}

impl SoakReport {
    /// Requests per second.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn throughput(&self) -> f64 {
        if self.wall_secs > 0.0 {
            self.requests as f64 / self.wall_secs
        } else {
            0.0
        }
    }

    /// Resident memory growth over the soak (after minus before), when both were read.
    pub(crate) fn growth(&self) -> Option<i64> {
        let (before, after) = (self.rss_before?, self.rss_after?);
        Some(i64::try_from(after).ok()? - i64::try_from(before).ok()?)
    }

    /// Whether memory stayed within the target, the counts are exact and nothing failed.
    pub(crate) fn met(&self) -> bool {
        self.failures == 0
            && self.counted == self.sent_in_all
            && self
                .growth()
                .is_some_and(|g| g <= i64::try_from(SOAK_GROWTH_TARGET).unwrap_or(i64::MAX))
    }
}

/// Runs the soak in a child process (this binary with `--soak-child`) and reads its report.
pub(crate) fn run_in_child(
    requests: usize,
    connections: usize,
    threads: (usize, usize),
) -> Result<SoakReport> {
    let exe = std::env::current_exe().context("locating the bench binary")?;
    let output = Command::new(exe)
        .args([
            "--soak-child",
            "--soak-requests",
            &requests.to_string(),
            "--soak-connections",
            &connections.to_string(),
            "--client-threads",
            &threads.0.to_string(),
            "--sandbox-threads",
            &threads.1.to_string(),
        ])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running the soak child")?;
    ensure!(
        output.status.success(),
        "the soak child failed ({})",
        output.status
    );
    serde_json::from_slice(&output.stdout).context("reading the soak child's report")
}

/// The sandbox configuration of the soak: default bounds, test numbers with a fixed code, and
/// no VerifyKit send limit (each number is sent a code many times an hour).
fn config(connections: usize) -> SandboxConfig {
    let mut test_numbers = Vec::new();
    for c in 0..connections {
        for i in 0..NUMBERS_PER_CONNECTION {
            for prefix in ["532", "533", "534"] {
                test_numbers.push((format!("+90{}", national(prefix, c, i)), CODE.to_owned()));
            }
        }
    }
    SandboxConfig {
        test_numbers,
        verifykit_send_limit: SendLimit {
            max_sends: u32::MAX,
            window: Duration::from_secs(3600),
        },
        ..SandboxConfig::seeded(5)
    }
}

/// The national number `i` of connection `c` under a Turkish mobile prefix.
fn national(prefix: &str, c: usize, i: usize) -> String {
    format!("{prefix}{c:03}{i:04}")
}

/// The soak itself, in this process: a sandbox on `sandbox_rt`, the clients on the current
/// runtime.
pub(crate) async fn run(
    sandbox_rt: &tokio::runtime::Handle,
    requests: usize,
    connections: usize,
) -> Result<SoakReport> {
    ensure!(
        connections > 0 && connections < 1000,
        "1 to 999 connections"
    );
    let config = config(connections);
    let sandbox = sandbox_rt
        .spawn(Sandbox::start(config))
        .await?
        .context("starting the sandbox")?;
    let (service, users) = setup(&sandbox, connections).await?;
    let setup_requests = sandbox.requests().counts.values().sum::<usize>();

    let failures = Arc::new(AtomicUsize::new(0));
    let examples = Arc::new(std::sync::Mutex::new(Vec::new()));
    let drive = |budget: usize, done: &Arc<AtomicUsize>| {
        let tasks: Vec<_> = users
            .iter()
            .enumerate()
            .map(|(c, users)| {
                let worker = Worker {
                    addr: sandbox.addr(),
                    c,
                    service: service.clone(),
                    users: users.clone(),
                    key: sandbox.config().verifykit_server_key.clone(),
                    token: sandbox.config().verifik_token.clone(),
                    auth: sandbox.config().verigator_service_auth(),
                    budget,
                    done: Arc::clone(done),
                    failures: Arc::clone(&failures),
                    examples: Arc::clone(&examples),
                };
                tokio::spawn(worker.run())
            })
            .collect();
        async move {
            for task in tasks {
                task.await.context("a soak connection panicked")??;
            }
            anyhow::Ok(())
        }
    };
    let rss_cold = current_rss();
    let warmed = Arc::new(AtomicUsize::new(0));
    drive(WARMUP, &warmed).await?;
    // The warm-up's budget may run out in the middle of a round, leaving a code sent and not
    // checked: move the sandbox clock past every code's lifetime and resend cooldown, so the
    // measured rounds start from a clean slate on the same numbers.
    sandbox.advance_clock(Duration::from_secs(3600));

    let done = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let rss_before = current_rss();
    let peak_reset = reset_peak_rss();
    let sampler = {
        let (done, finished) = (Arc::clone(&done), Arc::clone(&finished));
        tokio::spawn(async move {
            let mut checkpoints = Vec::new();
            let mut marks = Marks::new(requests);
            while !finished.load(Ordering::Relaxed) {
                if let Some(at) = marks.reached(done.load(Ordering::Relaxed)) {
                    checkpoints.push((at, current_rss().unwrap_or(0)));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            checkpoints
        })
    };
    let started = Instant::now();
    drive(requests, &done).await?;
    let wall = started.elapsed();
    finished.store(true, Ordering::Relaxed);
    let rss_after = current_rss();
    let peak = peak_rss();
    let checkpoints = sampler.await.unwrap_or_default();

    let log = sandbox.requests();
    let report = SoakReport {
        requests: done.load(Ordering::Relaxed).min(requests),
        connections,
        failures: failures.load(Ordering::Relaxed),
        examples: examples.lock().map(|e| e.clone()).unwrap_or_default(),
        wall_secs: wall.as_secs_f64(),
        warmup: warmed.load(Ordering::Relaxed).min(WARMUP),
        rss_cold,
        rss_before,
        rss_after,
        peak_rss: peak,
        peak_reset,
        checkpoints,
        log_len: log.requests.len(),
        log_capacity: sandbox.config().request_log_capacity,
        outbox_len: sandbox.all_messages().len(),
        outbox_capacity: sandbox.config().outbox_capacity,
        counted: log.counts.values().sum(),
        sent_in_all: setup_requests
            + warmed.load(Ordering::Relaxed).min(WARMUP)
            + done.load(Ordering::Relaxed).min(requests),
    };
    drop(log);
    sandbox_rt.spawn(sandbox.shutdown()).await?;
    Ok(report)
}

/// Where the soak's RSS is sampled: every tenth of its request budget.
#[derive(Debug)]
struct Marks {
    step: usize,
    next: usize,
    budget: usize,
}

impl Marks {
    /// The marks of a soak of `budget` requests.
    fn new(budget: usize) -> Self {
        let step = (budget / 10).max(1);
        Self {
            step,
            next: step,
            budget,
        }
    }

    /// The count to sample at, when `done` (which each connection increments before it checks
    /// the budget, so it may run past it) reached the next mark: at most the budget.
    fn reached(&mut self, done: usize) -> Option<usize> {
        let done = done.min(self.budget);
        if done < self.next {
            return None;
        }
        self.next = (done / self.step + 1) * self.step;
        Some(done)
    }
}

/// A Verigator service and, per connection, its users (ids) in number order.
async fn setup(sandbox: &SandboxHandle, connections: usize) -> Result<(String, Vec<Vec<String>>)> {
    let http = reqwest::Client::new();
    let auth = sandbox.config().verigator_service_auth();
    let service: Value = http
        .post(format!("{}/service/service", sandbox.verigator_url()))
        .header("X-Service-Auth", &auth)
        .json(&json!({"fqdn": "soak.example", "name": "Soak"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let sid = service["id"].as_str().context("no service id")?.to_owned();
    let mut users = Vec::new();
    for c in 0..connections {
        let mut mine = Vec::new();
        for i in 0..NUMBERS_PER_CONNECTION {
            let user: Value = http
                .post(format!(
                    "{}/service/service/{sid}/users",
                    sandbox.verigator_url()
                ))
                .header("X-Service-Auth", &auth)
                .json(&json!({
                    "id_in_service": format!("soak-{c}-{i}"),
                    "phone_number": format!("+90{}", national("534", c, i)),
                }))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            mine.push(user["id"].as_str().context("no user id")?.to_owned());
        }
        users.push(mine);
    }
    Ok((sid, users))
}

/// One keep-alive connection running rounds of the mix until the shared budget is spent.
struct Worker {
    addr: SocketAddr,
    c: usize,
    service: String,
    users: Vec<String>,
    key: String,
    token: String,
    auth: String,
    budget: usize,
    done: Arc<AtomicUsize>,
    failures: Arc<AtomicUsize>,
    examples: Arc<std::sync::Mutex<Vec<String>>>,
}

/// A request of the mix.
struct Call<'a> {
    method: hyper::Method,
    path: String,
    headers: Vec<(&'static str, &'a str)>,
    body: Option<Value>,
    expect: u16,
}

impl Worker {
    async fn run(self) -> Result<()> {
        let stream = TcpStream::connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let driver = tokio::spawn(conn);
        let mut round = 0usize;
        'rounds: loop {
            let i = round % NUMBERS_PER_CONNECTION;
            round += 1;
            let vk_phone = format!("+90{}", national("532", self.c, i));
            let vf_national = national("533", self.c, i);
            let uid = &self.users[i];
            let vk = [("x-vfk-server-key", self.key.as_str())];
            let bearer = format!("Bearer {}", self.token);
            let vf = [("authorization", bearer.as_str())];
            let vg = [("x-service-auth", self.auth.as_str())];
            let user_path = format!("/verigator/v1/service/service/{}/users/{uid}", self.service);

            // VerifyKit: send, check, resolve, and the widget's init.
            let Some(sent) = self
                .call(
                    &mut sender,
                    Call {
                        method: hyper::Method::POST,
                        path: "/verifykit/web-rest/v1.0/send-otp".into(),
                        headers: vk.to_vec(),
                        body: Some(json!({"phoneNumber": vk_phone, "countryCode": "TR"})),
                        expect: 201,
                    },
                )
                .await?
            else {
                break 'rounds;
            };
            let reference = sent["result"]["reference"].as_str().unwrap_or_default();
            let Some(checked) = self
                .call(
                    &mut sender,
                    Call {
                        method: hyper::Method::POST,
                        path: "/verifykit/web-rest/v1.0/check-otp".into(),
                        headers: vk.to_vec(),
                        body: Some(json!({
                            "phoneNumber": vk_phone, "countryCode": "TR",
                            "reference": reference, "code": CODE,
                        })),
                        expect: 200,
                    },
                )
                .await?
            else {
                break 'rounds;
            };
            let session = checked["result"]["sessionId"].as_str().unwrap_or_default();
            let calls = [
                Call {
                    method: hyper::Method::POST,
                    path: "/verifykit/api/v1.0/result".into(),
                    headers: vk.to_vec(),
                    body: Some(json!({"sessionId": session})),
                    expect: 200,
                },
                Call {
                    method: hyper::Method::GET,
                    path: "/verifykit/web-rest/v1.0/init".into(),
                    headers: vk.to_vec(),
                    body: None,
                    expect: 200,
                },
                // Verifik: send and check.
                Call {
                    method: hyper::Method::POST,
                    path: "/verifik/v2/phone-validations/manual".into(),
                    headers: vf.to_vec(),
                    body: Some(json!({
                        "phone": vf_national, "countryCode": "+90", "phoneGateway": "sms",
                    })),
                    expect: 200,
                },
                Call {
                    method: hyper::Method::PUT,
                    path: "/verifik/v2/phone-validations".into(),
                    headers: vf.to_vec(),
                    body: Some(json!({"phone": vf_national, "countryCode": "+90", "otp": CODE})),
                    expect: 200,
                },
                // Verigator: send, check, look the user up.
                Call {
                    method: hyper::Method::POST,
                    path: format!("{user_path}/auth"),
                    headers: vg.to_vec(),
                    body: Some(json!({"method": "sms"})),
                    expect: 201,
                },
                Call {
                    method: hyper::Method::PUT,
                    path: format!("{user_path}/auth"),
                    headers: vg.to_vec(),
                    body: Some(json!({"token": CODE})),
                    expect: 200,
                },
                Call {
                    method: hyper::Method::GET,
                    path: user_path.clone(),
                    headers: vg.to_vec(),
                    body: None,
                    expect: 200,
                },
            ];
            for call in calls {
                if self.call(&mut sender, call).await?.is_none() {
                    break 'rounds;
                }
            }
        }
        drop(sender);
        let _ = driver.await;
        Ok(())
    }

    /// Sends `call` if the budget allows (`None` when it is spent); a wrong status counts as a
    /// failure and answers `Some(Value::Null)` so the round goes on.
    async fn call(
        &self,
        sender: &mut SendRequest<String>,
        call: Call<'_>,
    ) -> Result<Option<Value>> {
        if self.done.fetch_add(1, Ordering::Relaxed) >= self.budget {
            return Ok(None);
        }
        sender.ready().await?;
        let mut request = hyper::Request::builder()
            .method(call.method.clone())
            .uri(call.path.as_str())
            .header("host", self.addr.to_string())
            .header("x-vfk-forwarded-for", "203.0.113.7");
        for (name, value) in &call.headers {
            request = request.header(*name, *value);
        }
        let body = match &call.body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                body.to_string()
            }
            None => String::new(),
        };
        let response = sender.send_request(request.body(body)?).await?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            if let Some(data) = frame?.data_ref() {
                bytes.extend_from_slice(data);
            }
        }
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let wrong = status != call.expect || (value.get("verified") == Some(&Value::Bool(false)));
        if wrong {
            self.failures.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut examples) = self.examples.lock()
                && examples.len() < EXAMPLES
            {
                let text = String::from_utf8_lossy(&bytes);
                examples.push(format!(
                    "{} {} → {status}: {}",
                    call.method,
                    call.path,
                    text.chars().take(160).collect::<String>()
                ));
            }
            return Ok(Some(Value::Null));
        }
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_never_count_past_the_budget() {
        let mut marks = Marks::new(100);
        assert_eq!(marks.reached(5), None);
        assert_eq!(marks.reached(10), Some(10));
        assert_eq!(marks.reached(12), None);
        assert_eq!(marks.reached(25), Some(25));
        // The connections count a request before they find the budget spent.
        assert_eq!(marks.reached(163), Some(100));
        assert_eq!(marks.reached(170), None);
    }
}
