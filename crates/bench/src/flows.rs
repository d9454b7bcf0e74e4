//! Many concurrent complete flows through `Arc<dyn PhoneVerifier>`: start, read the code from
//! the sandbox, check, resolve; every flow with its own phone, and checks that nothing was lost
//! or crossed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use phone_verify_core::{
    CheckRequest, Code, PhoneNumber, PhoneVerifier, RequestContext, SessionResolver, StartRequest,
};
use phone_verify_sandbox::SandboxHandle;
use tokio::sync::Semaphore;

use crate::procfs::{current_rss, peak_rss, reset_peak_rss};
use crate::runner::CpuMark;
use crate::stats::{Batch, percentile};
use crate::targets::Phones;

/// What the flows gave.
#[derive(Clone, Debug)]
pub(crate) struct FlowReport {
    /// Provider id.
    pub(crate) provider: &'static str,
    /// Flows started.
    pub(crate) flows: usize,
    /// Flows that verified and resolved to their own phone.
    pub(crate) verified: usize,
    /// Flows that failed, were not verified, resolved to another phone or read a crossed code.
    pub(crate) lost: usize,
    /// A few failure reasons.
    pub(crate) failures: Vec<String>,
    /// Codes read from the sandbox whose message belonged to another verification.
    pub(crate) crossed: usize,
    /// Most flows between `start` and their end at the same time.
    pub(crate) peak_in_flight: usize,
    /// The cap on provider calls in flight.
    pub(crate) call_cap: usize,
    /// Wall time, CPU and per-flow latency.
    pub(crate) batch: Batch,
    /// Time spent reading codes from the sandbox (`SandboxHandle::messages`), in all.
    pub(crate) lookup_total: Duration,
    /// The longest single code look-up.
    pub(crate) lookup_max: Duration,
    /// Resident memory before the flows.
    pub(crate) rss_before: Option<u64>,
    /// Peak resident memory during the flows (`VmHWM`, reset before them when the kernel
    /// allows; otherwise the process's lifetime peak).
    pub(crate) peak_rss: Option<u64>,
    /// Whether `VmHWM` was reset before the flows.
    pub(crate) peak_reset: bool,
}

impl FlowReport {
    /// Verified flows per second.
    pub(crate) fn throughput(&self) -> f64 {
        self.batch.throughput()
    }

    /// Median flow latency.
    pub(crate) fn p50(&self) -> Duration {
        percentile(&self.batch.latencies, 50.0).unwrap_or_default()
    }

    /// 99th-percentile flow latency.
    pub(crate) fn p99(&self) -> Duration {
        percentile(&self.batch.latencies, 99.0).unwrap_or_default()
    }
}

/// The end of one flow.
enum Ending {
    Verified(Duration),
    Crossed(String),
    Failed(String),
}

/// Time spent reading codes from the sandbox, in nanoseconds: total and longest.
#[derive(Default)]
struct Lookups {
    total: AtomicU64,
    max: AtomicU64,
}

impl Lookups {
    fn record(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.total.fetch_add(ns, Ordering::Relaxed);
        self.max.fetch_max(ns, Ordering::Relaxed);
    }
}

/// Spawns `flows` complete flows at once. At most `call_cap` provider calls are in flight at a
/// time: every flow holds its verification open concurrently, but both ends of each loopback
/// connection live in this process, and an unbounded pool would open one socket pair per flow.
pub(crate) async fn run_flows(
    provider: &'static str,
    verifier: Arc<dyn PhoneVerifier>,
    resolver: Option<Arc<dyn SessionResolver>>,
    sandbox: Arc<SandboxHandle>,
    phones: &Phones,
    flows: usize,
    call_cap: usize,
) -> Result<FlowReport> {
    let context = RequestContext::new().end_user_ip([203, 0, 113, 7].into());
    let numbers: Vec<PhoneNumber> = (0..flows).map(|_| phones.next()).collect::<Result<_>>()?;
    let rss_before = current_rss();
    let peak_reset = reset_peak_rss();
    let gate = Arc::new(Semaphore::new(call_cap.max(1)));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let lookups = Arc::new(Lookups::default());
    let cpu = CpuMark::now();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for phone in numbers {
        let flow = Flow {
            verifier: Arc::clone(&verifier),
            resolver: resolver.clone(),
            sandbox: Arc::clone(&sandbox),
            gate: Arc::clone(&gate),
            context: context.clone(),
            lookups: Arc::clone(&lookups),
        };
        let in_flight = Arc::clone(&in_flight);
        let peak = Arc::clone(&peak);
        tasks.spawn(async move {
            let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
            peak.fetch_max(now, Ordering::Relaxed);
            let t0 = Instant::now();
            let ending = match flow.run(&phone).await {
                Ok(()) => Ending::Verified(t0.elapsed()),
                Err(e) if e.is::<CrossedCode>() => Ending::Crossed(format!("{e:#}")),
                Err(e) => Ending::Failed(format!("{e:#}")),
            };
            in_flight.fetch_sub(1, Ordering::Relaxed);
            ending
        });
    }
    let mut latencies = Vec::with_capacity(flows);
    let (mut crossed, mut lost, mut failures) = (0, 0, Vec::new());
    while let Some(done) = tasks.join_next().await {
        match done.context("a flow panicked")? {
            Ending::Verified(latency) => latencies.push(latency),
            Ending::Crossed(why) => {
                crossed += 1;
                lost += 1;
                failures.push(why);
            }
            Ending::Failed(why) => {
                lost += 1;
                failures.push(why);
            }
        }
    }
    let wall = started.elapsed();
    let (client_cpu, server_cpu) = cpu.elapsed();
    failures.truncate(5);
    latencies.sort_unstable();
    Ok(FlowReport {
        provider,
        flows,
        verified: latencies.len(),
        lost,
        failures,
        crossed,
        peak_in_flight: peak.load(Ordering::Relaxed),
        call_cap,
        batch: Batch {
            // Verified flows only: a flow that fails fast would otherwise add throughput.
            ops: latencies.len(),
            wall,
            latencies,
            client_cpu,
            server_cpu,
        },
        lookup_total: Duration::from_nanos(lookups.total.load(Ordering::Relaxed)),
        lookup_max: Duration::from_nanos(lookups.max.load(Ordering::Relaxed)),
        rss_before,
        peak_rss: peak_rss(),
        peak_reset,
    })
}

/// A code read from the sandbox that belonged to another verification.
#[derive(Debug)]
struct CrossedCode(String);

impl std::fmt::Display for CrossedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CrossedCode {}

/// What one flow needs.
struct Flow {
    verifier: Arc<dyn PhoneVerifier>,
    resolver: Option<Arc<dyn SessionResolver>>,
    sandbox: Arc<SandboxHandle>,
    gate: Arc<Semaphore>,
    context: RequestContext,
    lookups: Arc<Lookups>,
}

impl Flow {
    async fn run(&self, phone: &PhoneNumber) -> Result<()> {
        let request = StartRequest::sms(phone.clone()).end_user_ip([203, 0, 113, 7].into());
        let handle = {
            let _permit = self.gate.acquire().await?;
            self.verifier.start(&request).await.context("start")?
        };
        // Read the code the sandbox "sent" to this phone, and make sure it is this
        // verification's message.
        let t0 = Instant::now();
        let messages = self.sandbox.messages(phone.e164());
        self.lookups.record(t0.elapsed());
        let message = messages
            .into_iter()
            .find(|m| m.code.is_some())
            .context("no message was sent to the phone")?;
        if message.reference.as_deref() != Some(handle.reference.as_str()) {
            return Err(CrossedCode(format!(
                "the newest message to {} belongs to another verification",
                phone.masked()
            ))
            .into());
        }
        let code = Code::new(message.code.as_deref().unwrap_or_default())?;
        let outcome = {
            let _permit = self.gate.acquire().await?;
            self.verifier
                .check(
                    &handle,
                    &CheckRequest::code(code).context(self.context.clone()),
                )
                .await
                .context("check")?
        };
        let Some(verified) = outcome.verified() else {
            bail!("check did not verify: {outcome:?}");
        };
        if let Some(reported) = &verified.phone {
            ensure!(reported == phone, "check reported another phone");
        }
        if let Some(resolver) = &self.resolver {
            let session = verified
                .session_id
                .as_ref()
                .context("a verified check without a session id")?;
            let resolved = {
                let _permit = self.gate.acquire().await?;
                resolver
                    .resolve(session, &self.context)
                    .await
                    .context("resolve")?
            };
            ensure!(
                &resolved.phone == phone,
                "the session resolved to another phone"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use phone_verify_core::{Capabilities, Channel, CheckOutcome, Error, ProviderId, Verification};
    use phone_verify_sandbox::{Sandbox, SandboxConfig};

    use super::*;

    /// A provider that refuses every request at once.
    #[derive(Debug)]
    struct Refusing;

    #[async_trait]
    impl PhoneVerifier for Refusing {
        fn provider(&self) -> ProviderId {
            ProviderId::new_static("refusing")
        }

        fn capabilities(&self) -> Capabilities {
            Capabilities::new().with_otp_channel(Channel::Sms)
        }

        async fn start(&self, _: &StartRequest) -> phone_verify_core::Result<Verification> {
            Err(Error::invalid_input("refused"))
        }

        async fn check(
            &self,
            _: &Verification,
            _: &CheckRequest,
        ) -> phone_verify_core::Result<CheckOutcome> {
            Err(Error::invalid_input("refused"))
        }
    }

    #[test]
    fn failed_flows_add_no_throughput() {
        let rt = crate::runner::runtime("test-flows", 2).unwrap();
        rt.block_on(async {
            let sandbox = Arc::new(Sandbox::start(SandboxConfig::seeded(1)).await.unwrap());
            let report = run_flows(
                "refusing",
                Arc::new(Refusing),
                None,
                sandbox,
                &Phones::turkish(),
                20,
                4,
            )
            .await
            .unwrap();
            assert_eq!((report.flows, report.verified, report.lost), (20, 0, 20));
            assert_eq!(report.batch.ops, 0);
            assert!(
                report.throughput().abs() < f64::EPSILON,
                "{}",
                report.throughput()
            );
        });
    }
}
