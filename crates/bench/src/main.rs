//! `phone-verify-bench`: the numbers behind `docs/benchmarks.md`.
//!
//! Run it with `cargo xtask bench`, which builds it in release mode. In one run, against an
//! in-process sandbox on loopback, it measures:
//!
//! 1. each provider's `check` and `resolve` through the SDK against the same requests on a bare
//!    `reqwest::Client` (throughput at concurrency 1 and 64, p50/p99 latency, CPU per call);
//! 2. 10,000 concurrent complete flows through `Arc<dyn PhoneVerifier>`, and Verigator's
//!    `start` latency with 1,000 and 100,000 registered users (phase `verigator-scale`);
//! 3. the router's and the guard's own CPU per `start` and `check`, against the provider
//!    directly, the memory an application holds per pending verification, and the parse of
//!    new phone numbers from one region and from many (phase `numbers`);
//! 4. the sandbox alone, with keep-alive hyper connections;
//! 5. a soak: one sandbox under 1,000,000 requests of a realistic mix, its memory flat or not;
//! 6. the guard (phase `pumping`): an SMS-pumping simulation through `phone-verify-guard` to
//!    the sandbox, and its decision latency in memory and on Redis;
//! 7. each provider crate's default build: dependency count, TLS/C build tools, cold build time.
//!
//! The client side and the sandbox run on two Tokio runtimes whose threads are named
//! `bench-client` and `bench-sandbox`, so the CPU time of each side is read from
//! `/proc/self/task/*/schedstat`.

mod compare;
mod flows;
mod footprint;
mod memory;
mod numbers;
mod procfs;
mod pumping;
mod report;
mod router_overhead;
mod runner;
mod sandbox_alone;
mod slice_log;
mod soak;
mod stats;
mod table;
mod targets;
mod verigator_scale;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use clap::Parser;
use phone_verify_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

use crate::compare::{Call, HIGH_CONCURRENCY, Plan, RowKey, compare, required_rows};
use crate::procfs::{Machine, load_average};
use crate::report::{Results, machine_line, write_into};
use crate::runner::{CLIENT_THREADS, SANDBOX_THREADS, runtime};
use crate::sandbox_alone::{Endpoint, Measured, SIMPLE_PATH, hammer};
use crate::stats::Summary;
use crate::targets::{PROVIDERS, Phones, Side, Target};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "phone-verify benchmarks (run through `cargo xtask bench`)")]
struct Args {
    /// Rounds per side in the SDK/raw comparison (the sides alternate which goes first).
    #[arg(long, default_value_t = 9)]
    rounds: usize,
    /// Slices each round's timed calls at concurrency 1 are cut into, the two sides taking
    /// turns slice by slice (30 calls each by default: see docs/benchmarks.md, ninth pass).
    #[arg(long, default_value_t = 50)]
    slices_c1: usize,
    /// Slices each round's timed calls at concurrency 64 are cut into (600 calls each by
    /// default: a shorter slice would spend a larger share of itself filling and draining the
    /// 64 callers).
    #[arg(long, default_value_t = 10)]
    slices_c64: usize,
    /// Writes when each timed slice of the comparison ran, and for which side, to this file
    /// (`CLOCK_MONOTONIC` nanoseconds), to split a `perf record -k CLOCK_MONOTONIC` profile of
    /// the run by side: `cargo xtask bench-profile` does both.
    #[arg(long)]
    slice_log: Option<std::path::PathBuf>,
    /// Timed calls per round at concurrency 1.
    #[arg(long, default_value_t = 1500)]
    calls_c1: usize,
    /// Timed calls per round at concurrency 64.
    #[arg(long, default_value_t = 6000)]
    calls_c64: usize,
    /// Concurrent complete flows.
    #[arg(long, default_value_t = 10_000)]
    flows: usize,
    /// Provider calls in flight at most during the flows.
    #[arg(long, default_value_t = 512)]
    flow_call_cap: usize,
    /// Keep-alive connections for the sandbox-alone measurement.
    #[arg(long, default_value_t = 64)]
    sandbox_connections: usize,
    /// Seconds per sandbox-alone endpoint.
    #[arg(long, default_value_t = 3.0)]
    sandbox_secs: f64,
    /// Worker threads of the client runtime (default: one per CPU).
    #[arg(long)]
    client_threads: Option<usize>,
    /// Worker threads of the sandbox runtime (default: one per CPU).
    #[arg(long)]
    sandbox_threads: Option<usize>,
    /// Requests of the soak (a long-lived sandbox under a realistic mix).
    #[arg(long, default_value_t = 1_000_000)]
    soak_requests: usize,
    /// Keep-alive connections of the soak.
    #[arg(long, default_value_t = 64)]
    soak_connections: usize,
    /// Run the soak in this process and print its report as JSON (the parent runs this).
    #[arg(long, hide = true)]
    soak_child: bool,
    /// Legitimate users of the pumping simulation.
    #[arg(long, default_value_t = 2000)]
    pumping_users: usize,
    /// Attack attempts of the pumping simulation.
    #[arg(long, default_value_t = 10_000)]
    pumping_attack: usize,
    /// Phases to run (default: all).
    #[arg(long, value_delimiter = ',')]
    phases: Vec<Phase>,
    /// Compare only these calls (default: check and resolve).
    #[arg(long, value_delimiter = ',')]
    calls: Vec<Call>,
    /// Measure only one side of the comparison (a profiling aid: no ratio then, so never with
    /// `--write`).
    #[arg(long, conflicts_with = "write")]
    only_side: Option<Side>,
    /// Skip the cold builds (cargo tree still runs).
    #[arg(long)]
    skip_build: bool,
    /// Profile of the cold builds: `dev` or `release`.
    #[arg(long, default_value = "dev", value_parser = ["dev", "release"])]
    cold_profile: String,
    /// Providers to measure (default: all).
    #[arg(long, value_delimiter = ',', value_parser = PROVIDERS.map(|(id, _)| id))]
    providers: Vec<String>,
    /// The workspace root (default: the one this binary was built from).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Write the results into this markdown file, between its generated-section markers.
    #[arg(long)]
    write: Option<PathBuf>,
    /// The command line to record in the report.
    #[arg(long, default_value = "cargo xtask bench")]
    command: String,
}

/// A phase of the run (`--phases`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Phase {
    /// SDK against raw reqwest, and the memory per pending verification.
    Compare,
    /// Raw reqwest against itself: the comparison's noise floor.
    NoiseFloor,
    /// The router's and the guard's own cost per call.
    Router,
    /// The parse of new phone numbers.
    Numbers,
    /// Concurrent complete flows.
    Flows,
    /// Verigator's `start` against 1,000 and 100,000 registered users.
    VerigatorScale,
    /// The sandbox alone.
    Sandbox,
    /// A long-lived sandbox under a realistic mix.
    Soak,
    /// The guard's SMS-pumping simulation and decision latency.
    Pumping,
    /// Each provider crate's build footprint.
    Footprint,
}

impl Args {
    /// Whether this run has `phase`.
    fn runs(&self, phase: Phase) -> bool {
        self.phases.is_empty() || self.phases.contains(&phase)
    }

    /// Whether this run measures provider `id`.
    fn measures(&self, id: &str) -> bool {
        self.providers.is_empty() || self.providers.iter().any(|p| p == id)
    }

    /// Whether the comparison's targets are in this run's targets table: when it compares, and
    /// whenever it is written (the written section replaces the whole previous one, so a
    /// target it did not measure reads missed rather than disappearing).
    fn judges_the_comparison(&self) -> bool {
        self.runs(Phase::Compare) || self.write.is_some()
    }

    /// Refuses what the parser cannot: more Verigator flows than the sandbox keeps users.
    fn check(&self) -> Result<()> {
        let most = targets::verigator::MAX_FLOWS;
        anyhow::ensure!(
            self.flows <= most || !self.runs(Phase::Flows) || !self.measures("verigator"),
            "--flows {} is more than Verigator's flows can be: each registers a user, and the \
             sandbox keeps {} of them; ask for fewer, or leave verigator out (--providers) or \
             the flows out (--phases)",
            stats::count(self.flows),
            stats::count(most)
        );
        Ok(())
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    args.check()?;
    let root = args.root.clone().unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .unwrap_or_else(|_| PathBuf::from("."))
    });
    let started = Instant::now();
    let machine = Machine::read();
    let mut results = Results {
        context: vec![
            ("date".into(), now_rfc3339()),
            ("command".into(), format!("`{}`", args.command)),
            ("toolchain".into(), toolchain(&root)),
            ("machine".into(), machine_line(&machine)),
            ("load at start".into(), load_text()),
        ],
        ..Results::default()
    };
    let bench = Bench {
        sandbox_rt: runtime(
            SANDBOX_THREADS,
            args.sandbox_threads.unwrap_or(machine.cpus),
        )?,
        client_rt: runtime(CLIENT_THREADS, args.client_threads.unwrap_or(machine.cpus))?,
        phones: Arc::new(Phones::turkish()),
    };
    if args.soak_child {
        let report = bench.client_rt.block_on(soak::run(
            bench.sandbox_rt.handle(),
            args.soak_requests,
            args.soak_connections,
        ))?;
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let providers: Vec<(&str, &str)> = PROVIDERS
        .into_iter()
        .filter(|(id, _)| args.measures(id))
        .collect();

    // The comparison's targets judge every provider's rows, not only this run's: a run that
    // leaves some out (`--providers`, `--calls`, `--only-side`, or, written, `--phases`) misses
    // them, named, rather than passing on the rows it has or dropping a target.
    if args.judges_the_comparison() {
        results.required = comparison_rows()?;
    }
    // Flows first: the first provider's run in a fresh process, each later one's after the
    // earlier ones' (docs/benchmarks.md says so); the peak memory is reset before each.
    if args.runs(Phase::Flows) {
        for (id, _) in &providers {
            bench.flows(id, &args, &mut results)?;
        }
    }
    if args.runs(Phase::VerigatorScale) && args.measures("verigator") {
        eprintln!("== Verigator start latency against registered users");
        let sandbox = bench.start_sandbox(4)?;
        results.verigator_scale = bench
            .client_rt
            .block_on(verigator_scale::measure(&sandbox, &bench.phones))?;
        bench.shutdown(sandbox);
    }
    if args.runs(Phase::Compare) || args.runs(Phase::NoiseFloor) {
        let plan = Plan {
            rounds: args.rounds.max(1),
            calls_c1: args.calls_c1,
            calls_high: args.calls_c64,
            high: HIGH_CONCURRENCY,
            session_pool: 256,
            calls: args.calls.clone(),
            only: args.only_side,
            raw_twin: false,
            slices_c1: args.slices_c1.max(1),
            slices_high: args.slices_c64.max(1),
            slice_log: args
                .slice_log
                .as_deref()
                .map(slice_log::SliceLog::create)
                .transpose()?
                .map(Arc::new),
        };
        // The same comparison with raw reqwest in the SDK's place, on a client of its own.
        let twin_plan = Plan {
            raw_twin: true,
            only: None,
            slice_log: None,
            ..plan.clone()
        };
        for (id, _) in &providers {
            // Both sides' verifications are started before either is timed: keep them all.
            let pending = 2 * (plan.calls_c1.max(plan.calls_high) + 4 * plan.high);
            let sandbox = bench.start_sandbox_keeping(1, pending)?;
            let target = bench
                .client_rt
                .block_on(make_target(id, &sandbox, &bench.phones))?;
            if args.runs(Phase::Compare) {
                eprintln!("== SDK against raw reqwest: {id}");
                if !target.resolves() {
                    results.no_resolution.push(target.name());
                }
                results.handles.push(
                    bench
                        .client_rt
                        .block_on(memory::measure(&target, &bench.phones))?,
                );
                let lines = bench.client_rt.block_on(compare(&target, &plan))?;
                results.comparisons.extend(lines);
            }
            if args.runs(Phase::NoiseFloor) {
                eprintln!("== raw reqwest against raw reqwest (the noise floor): {id}");
                let lines = bench.client_rt.block_on(compare(&target, &twin_plan))?;
                results.noise_floor.extend(lines);
            }
            drop(target);
            bench.shutdown(sandbox);
        }
    }
    if args.runs(Phase::Router) {
        eprintln!("== router overhead against the provider directly");
        results.router_overhead = bench.client_rt.block_on(router_overhead::measure(
            args.rounds.max(1),
            args.calls_c1 * 20,
            args.calls_c64 * 20,
            64,
        ))?;
    }
    if args.runs(Phase::Numbers) {
        eprintln!("== new numbers parsed");
        results.numbers = numbers::measure();
    }
    if args.runs(Phase::Sandbox) {
        eprintln!("== the sandbox alone");
        let sandbox = bench.start_sandbox(3)?;
        results.sandbox = bench.client_rt.block_on(sandbox_alone(&sandbox, &args))?;
        bench.shutdown(sandbox);
    }
    if args.runs(Phase::Soak) {
        eprintln!(
            "== soak: {} requests against one sandbox",
            stats::count(args.soak_requests)
        );
        let threads = (
            args.client_threads.unwrap_or(machine.cpus),
            args.sandbox_threads.unwrap_or(machine.cpus),
        );
        let report = soak::run_in_child(args.soak_requests, args.soak_connections, threads)?;
        eprintln!(
            "  {:.0} requests/s, {} failures, RSS {} → {}",
            report.throughput(),
            report.failures,
            report
                .rss_before
                .map_or_else(|| "?".to_owned(), procfs::mib),
            report.rss_after.map_or_else(|| "?".to_owned(), procfs::mib),
        );
        results.soak = Some(report);
    }
    if args.runs(Phase::Pumping) {
        eprintln!("== guard: SMS-pumping simulation");
        let sandbox = bench.start_sandbox(5)?;
        let report = bench.client_rt.block_on(pumping::run(
            &sandbox,
            args.pumping_users,
            args.pumping_attack,
        ))?;
        results.pumping = Some(report);
        bench.shutdown(sandbox);
    }
    if args.runs(Phase::Footprint) {
        results.builds_skipped = args.skip_build;
        let profile: &'static str = if args.cold_profile == "release" {
            "release"
        } else {
            "dev"
        };
        for (id, package) in &providers {
            eprintln!("== build footprint: {package}");
            let cold = (!args.skip_build).then_some(profile);
            results.footprints.push(
                footprint::measure(&root, package, cold)
                    .map_err(|e| ((*package).to_owned(), format!("{id}: {e:#}"))),
            );
        }
    }

    results.context.push(("load at end".into(), load_text()));
    results.context.push((
        "run time".into(),
        format!("{:.0} s", started.elapsed().as_secs_f64()),
    ));
    let section = results.render();
    println!("{section}");
    if let Some(path) = &args.write {
        write_into(path, &section)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The two runtimes and the phone numbers shared by every phase.
struct Bench {
    sandbox_rt: tokio::runtime::Runtime,
    client_rt: tokio::runtime::Runtime,
    phones: Arc<Phones>,
}

impl Bench {
    /// A fresh sandbox on the sandbox runtime.
    fn start_sandbox(&self, seed: u64) -> Result<Arc<SandboxHandle>> {
        self.start_sandbox_keeping(seed, 0)
    }

    /// A seeded sandbox that keeps at least `records` records of each kind and messages
    /// ([`sandbox_config`]).
    fn start_sandbox_keeping(&self, seed: u64, records: usize) -> Result<Arc<SandboxHandle>> {
        let handle = self
            .sandbox_rt
            .block_on(Sandbox::start(sandbox_config(seed, records)))
            .context("starting the sandbox")?;
        Ok(Arc::new(handle))
    }

    /// Stops a sandbox and waits for its connections to close.
    fn shutdown(&self, sandbox: Arc<SandboxHandle>) {
        if let Ok(handle) = Arc::try_unwrap(sandbox) {
            self.sandbox_rt.block_on(handle.shutdown());
        }
    }

    /// The concurrent complete flows of provider `id`, on a sandbox that keeps every flow's
    /// records: all the starts land before most checks, and a record forgotten before its
    /// check would count as the SDK's loss.
    fn flows(&self, id: &str, args: &Args, results: &mut Results) -> Result<()> {
        let flows = args.flows;
        let sandbox = self.start_sandbox_keeping(2, flows)?;
        let target = self
            .client_rt
            .block_on(make_target(id, &sandbox, &self.phones))?;
        eprintln!("== {flows} concurrent flows: {id}");
        let report = self.client_rt.block_on(flows::run_flows(
            target.name(),
            target.verifier(),
            target.resolver(),
            Arc::clone(&sandbox),
            &self.phones,
            flows,
            args.flow_call_cap,
        ))?;
        eprintln!(
            "  {} verified, {} lost, {:.0} verified flows/s",
            report.verified,
            report.lost,
            report.throughput()
        );
        results.flows.push(report);
        drop(target);
        self.shutdown(sandbox);
        Ok(())
    }
}

/// A seeded sandbox's configuration that keeps at least `records` records of each kind (the
/// default keeps 10,000) and as many sent messages: both sides of a round, or all the flows,
/// start their verifications before they read their codes and check them.
fn sandbox_config(seed: u64, records: usize) -> SandboxConfig {
    let mut config = SandboxConfig::seeded(seed);
    config.records_capacity = config.records_capacity.max(records);
    config.outbox_capacity = config.outbox_capacity.max(records);
    config
}

/// Every row the comparison's targets need: each provider's `check`, and `resolve` for those
/// whose verifier resolves sessions, at concurrency 1 and [`HIGH_CONCURRENCY`].
fn comparison_rows() -> Result<Vec<RowKey>> {
    let providers = PROVIDERS
        .iter()
        .map(|(id, _)| Ok((*id, targets::resolves_sessions(id)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(required_rows(&providers, HIGH_CONCURRENCY))
}

async fn make_target(
    id: &str,
    sandbox: &Arc<SandboxHandle>,
    phones: &Arc<Phones>,
) -> Result<Arc<dyn Target>> {
    let (sandbox, phones) = (Arc::clone(sandbox), Arc::clone(phones));
    Ok(match id {
        "verifykit" => Arc::new(targets::verifykit::VerifyKitTarget::new(sandbox, phones)?),
        "verifik" => Arc::new(targets::verifik::VerifikTarget::new(sandbox, phones)?),
        "verigator" => Arc::new(targets::verigator::VerigatorTarget::new(sandbox, phones).await?),
        "twilio" => Arc::new(targets::twilio::TwilioTarget::new(sandbox, phones)?),
        other => anyhow::bail!("unknown provider {other}"),
    })
}

/// Now, UTC, to the second.
fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Requests per second of simple endpoints with keep-alive hyper connections.
async fn sandbox_alone(sandbox: &SandboxHandle, args: &Args) -> Result<Vec<Measured>> {
    let endpoints = [
        Endpoint {
            label: "control API",
            path: SIMPLE_PATH.into(),
            headers: Vec::new(),
        },
        Endpoint {
            label: "VerifyKit",
            path: "/verifykit/web-rest/v1.0/init".into(),
            headers: vec![
                (
                    "x-vfk-server-key",
                    sandbox.config().verifykit_server_key.clone(),
                ),
                ("x-vfk-forwarded-for", "127.0.0.1".to_owned()),
            ],
        },
    ];
    let mut out = Vec::new();
    for endpoint in &endpoints {
        let batch = hammer(
            sandbox.addr(),
            endpoint,
            args.sandbox_connections,
            Duration::from_secs_f64(args.sandbox_secs),
        )
        .await?;
        let summary = Summary::of(&[batch]);
        eprintln!(
            "  {} {}: {:.0} requests/s",
            endpoint.label, endpoint.path, summary.throughput
        );
        out.push(Measured {
            label: endpoint.label,
            path: endpoint.path.clone(),
            connections: args.sandbox_connections,
            summary,
        });
    }
    Ok(out)
}

/// `rustc --version` as the workspace's toolchain file selects it.
fn toolchain(root: &Path) -> String {
    Command::new("rustc")
        .current_dir(root)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        )
}

fn load_text() -> String {
    load_average().map_or_else(
        || "unknown".to_owned(),
        |(one, five, fifteen)| format!("{one:.2} / {five:.2} / {fifteen:.2} (1 / 5 / 15 min)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("phone-verify-bench").chain(args.iter().copied()))
    }

    #[test]
    fn phases_and_providers_are_names_it_knows() {
        let args = parse(&["--phases", "compare,noise-floor", "--providers", "twilio"]).unwrap();
        assert_eq!(args.phases, [Phase::Compare, Phase::NoiseFloor]);
        assert!(args.runs(Phase::NoiseFloor) && !args.runs(Phase::Flows));
        assert!(args.measures("twilio") && !args.measures("verifik"));
        let all = parse(&[]).unwrap();
        assert!(all.runs(Phase::Soak) && all.measures("verigator"));
        for typo in [
            &["--phases", "compare,noise_floor"][..],
            &["--phases", "flow"],
            &["--providers", "verifykit,twillio"],
            &["--providers", "VerifyKit"],
        ] {
            let err = parse(typo).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue, "{typo:?}");
        }
        let err = parse(&["--phases", "noise_floor"]).unwrap_err().to_string();
        assert!(
            err.contains("noise-floor"),
            "the known names are listed: {err}"
        );
    }

    #[test]
    fn a_written_run_always_judges_the_comparison() {
        assert!(parse(&[]).unwrap().judges_the_comparison());
        assert!(
            parse(&["--phases", "compare", "--providers", "twilio"])
                .unwrap()
                .judges_the_comparison()
        );
        assert!(
            !parse(&["--phases", "router"])
                .unwrap()
                .judges_the_comparison()
        );
        assert!(
            parse(&["--phases", "router", "--write", "docs/benchmarks.md"])
                .unwrap()
                .judges_the_comparison()
        );
    }

    #[test]
    fn a_one_sided_run_is_never_written() {
        let err = parse(&["--only-side", "sdk", "--write", "docs/benchmarks.md"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(parse(&["--only-side", "raw"]).is_ok());
    }

    #[test]
    fn verigator_flows_stop_at_the_users_the_sandbox_keeps() {
        let most = targets::verigator::MAX_FLOWS.to_string();
        let more = (targets::verigator::MAX_FLOWS + 1).to_string();
        parse(&["--flows", &most]).unwrap().check().unwrap();
        let err = parse(&["--flows", &more]).unwrap().check().unwrap_err();
        assert!(err.to_string().contains("200,000"), "{err}");
        parse(&["--flows", &more, "--providers", "verifykit"])
            .unwrap()
            .check()
            .unwrap();
        parse(&["--flows", &more, "--phases", "compare"])
            .unwrap()
            .check()
            .unwrap();
    }

    #[test]
    fn the_sandbox_keeps_every_flow() {
        // The default keeps 10,000 records: the flows past them lost their records before
        // their checks, and counted as the SDK's losses.
        let config = sandbox_config(2, 40_000);
        assert!(
            config.records_capacity >= 40_000,
            "{}",
            config.records_capacity
        );
        assert!(
            config.outbox_capacity >= 40_000,
            "{}",
            config.outbox_capacity
        );
        let default = SandboxConfig::seeded(2);
        let small = sandbox_config(2, 10);
        assert_eq!(small.records_capacity, default.records_capacity);
        assert_eq!(small.outbox_capacity, default.outbox_capacity);
        assert_eq!(small.seed, Some(2));
    }

    #[test]
    fn every_target_resolves_as_its_verifier_says() {
        let rt = runtime("test-targets", 2).unwrap();
        let sandbox = Arc::new(
            rt.block_on(Sandbox::start(SandboxConfig::seeded(7)))
                .unwrap(),
        );
        let phones = Arc::new(Phones::turkish());
        let mut resolving = Vec::new();
        for (id, _) in PROVIDERS {
            let target = rt.block_on(make_target(id, &sandbox, &phones)).unwrap();
            let resolves = targets::resolves_sessions(id).unwrap();
            assert_eq!(target.resolves(), resolves, "{id}");
            assert_eq!(target.resolver().is_some(), resolves, "{id}");
            if resolves {
                resolving.push(id);
            }
        }
        assert_eq!(resolving, ["verifykit", "verifik"]);
        if let Ok(handle) = Arc::try_unwrap(sandbox) {
            rt.block_on(handle.shutdown());
        }
    }

    #[test]
    fn the_targets_need_every_providers_rows() {
        let rows: Vec<String> = comparison_rows()
            .unwrap()
            .into_iter()
            .map(RowKey::name)
            .collect();
        assert_eq!(
            rows,
            [
                "verifykit check c=1",
                "verifykit check c=64",
                "verifik check c=1",
                "verifik check c=64",
                "verigator check c=1",
                "verigator check c=64",
                "twilio check c=1",
                "twilio check c=64",
                "verifykit resolve c=1",
                "verifykit resolve c=64",
                "verifik resolve c=1",
                "verifik resolve c=64",
            ]
        );
    }

    /// `cargo xtask bench-profile`'s own list of the providers and whether each resolves
    /// sessions (`PROVIDERS` in xtask/src/bench_profile.rs, which cannot read this crate's).
    fn profile_providers(source: &str) -> Vec<(String, bool)> {
        let start = source
            .find("const PROVIDERS: [(&str, bool); 4] = [")
            .expect("bench-profile's PROVIDERS");
        let list = &source[start..];
        let list = &list[list.find('[').unwrap_or(0)..list.find("];").unwrap_or(0)];
        list.lines()
            .filter_map(|line| {
                let line = line.trim().strip_prefix("(\"")?;
                let (id, rest) = line.split_once('"')?;
                Some((id.to_owned(), rest.contains("true")))
            })
            .collect()
    }

    #[test]
    fn bench_profile_knows_which_providers_resolve() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../xtask/src/bench_profile.rs");
        let source = std::fs::read_to_string(&path).unwrap();
        let expected: Vec<(String, bool)> = PROVIDERS
            .iter()
            .map(|(id, _)| ((*id).to_owned(), targets::resolves_sessions(id).unwrap()))
            .collect();
        assert_eq!(profile_providers(&source), expected, "{}", path.display());
        // A list that says otherwise is caught.
        let wrong = source.replace("(\"twilio\", false)", "(\"twilio\", true)");
        assert_ne!(profile_providers(&wrong), expected);
    }
}
