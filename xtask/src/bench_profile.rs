//! `cargo xtask bench-profile`: where the SDK's extra CPU goes, measured in the comparison's
//! own interleaved slices.
//!
//! ```text
//! cargo xtask bench-profile [--provider verifykit] [--call resolve] [--concurrency 64]
//!                           [--rounds 7] [--calls 6000]
//! ```
//!
//! Runs one row of the SDK/raw comparison (concurrency 64 or 1) under `perf record -k
//! CLOCK_MONOTONIC`, with the benchmark's `--slice-log`, then gives each CPU sample to the side
//! whose timed slice it fell in. Both sides run in the same process, in alternating slices of
//! 20–50 ms, so the two profiles see the same machine. It prints each side's CPU per call, by
//! runtime (client, in-process sandbox), by component (the crate of the sampled function, the
//! kernel, the C library's allocator) and the functions whose time differs most. Needs `perf`
//! (Debian: `linux-perf`); the files stay in `target/bench-profile/`. The binary profiled is the
//! one just built, in `CARGO_TARGET_DIR` when that is set (relative to the workspace root).

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use xshell::{Shell, cmd};

/// Samples per second of CPU time.
const FREQUENCY: u32 = 2999;
/// Timed calls per round at the concurrency not profiled (the benchmark runs both).
const OTHER_CALLS: &str = "50";
/// The providers the benchmark measures, and whether each resolves sessions (has a `resolve`
/// row).
const PROVIDERS: [(&str, bool); 4] = [
    ("verifykit", true),
    ("verifik", true),
    ("verigator", false),
    ("twilio", false),
];

/// The usage `--help` prints.
const USAGE: &str = "cargo xtask bench-profile [--provider verifykit] [--call resolve] \
[--concurrency 64] [--rounds 7] [--calls 6000]

Profiles one row of the SDK/raw comparison under perf and prints where each side's CPU goes.
  --provider P      verifykit, verifik, verigator or twilio (default verifykit)
  --call C          check or resolve (default resolve; verifykit and verifik only)
  --concurrency N   1 or 64 (default 64)
  --rounds N        rounds of the comparison (default 7)
  --calls N         timed calls per side and round at that concurrency (default 6000)";

/// What to profile.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Options {
    provider: String,
    call: String,
    concurrency: usize,
    rounds: usize,
    calls: usize,
}

impl Options {
    /// Reads the arguments after `bench-profile`; `None` when they ask for `--help`.
    pub(crate) fn parse(args: &[String]) -> Result<Option<Self>> {
        let mut options = Self {
            provider: "verifykit".to_owned(),
            call: "resolve".to_owned(),
            concurrency: 64,
            rounds: 7,
            calls: 6000,
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .with_context(|| format!("{flag} needs a value"))
                    .cloned()
            };
            match flag.as_str() {
                "--provider" => options.provider = value()?,
                "--call" => options.call = value()?,
                "--concurrency" => {
                    options.concurrency = match value()?.as_str() {
                        "1" => 1,
                        "64" => 64,
                        other => bail!("--concurrency is 1 or 64 (the benchmark's), not {other}"),
                    };
                }
                "--rounds" => options.rounds = value()?.parse().context("--rounds")?,
                "--calls" => options.calls = value()?.parse().context("--calls")?,
                "--help" | "-h" => return Ok(None),
                other => bail!("unknown option {other}\n\nusage: {USAGE}"),
            }
        }
        // A name the benchmark does not know would profile a run that measured nothing.
        let Some(&(_, resolves)) = PROVIDERS.iter().find(|(id, _)| *id == options.provider) else {
            bail!(
                "--provider is one of {}, not {}",
                PROVIDERS.map(|(id, _)| id).join(", "),
                options.provider
            );
        };
        match options.call.as_str() {
            "check" => {}
            "resolve" if resolves => {}
            "resolve" => bail!(
                "{} has no session resolution: profile --call check",
                options.provider
            ),
            other => bail!("--call is check or resolve, not {other}"),
        }
        Ok(Some(options))
    }
}

/// Builds the benchmark, profiles one row and prints the split.
pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let Some(options) = Options::parse(args)? else {
        println!("usage: {USAGE}");
        return Ok(());
    };
    let sh = Shell::new()?;
    sh.change_dir(root);
    if cmd!(sh, "perf --version")
        .quiet()
        .ignore_stdout()
        .run()
        .is_err()
    {
        bail!("`perf` is not installed (Debian: `apt-get install linux-perf`)");
    }
    cmd!(sh, "cargo build --release -p phone-verify-bench").run()?;
    let dir = root.join("target/bench-profile");
    sh.create_dir(&dir)?;
    let data = dir.join("perf.data");
    let slices = dir.join("slices.txt");
    let bench =
        target_dir(root, std::env::var_os("CARGO_TARGET_DIR")).join("release/phone-verify-bench");
    let (provider, call) = (&options.provider, &options.call);
    let (rounds, calls) = (options.rounds.to_string(), options.calls.to_string());
    let (calls_c1, calls_c64) = if options.concurrency == 1 {
        (calls.as_str(), OTHER_CALLS)
    } else {
        (OTHER_CALLS, calls.as_str())
    };
    let frequency = FREQUENCY.to_string();
    cmd!(
        sh,
        "perf record -k CLOCK_MONOTONIC -F {frequency} -o {data} -- {bench} --phases compare
         --providers {provider} --calls {call} --rounds {rounds} --calls-c1 {calls_c1}
         --calls-c64 {calls_c64} --slice-log {slices}"
    )
    .run()?;
    let script = cmd!(sh, "perf script -i {data} -F comm,time,ip,sym,dso")
        .quiet()
        .ignore_stderr()
        .read()?;
    let slices = parse_slices(&sh.read_file(&slices)?, options.concurrency)?;
    let split = Split::of(&script, &slices);
    let calls_per_side = options.rounds * options.calls;
    let concurrency = options.concurrency;
    println!(
        "\n{provider} {call} at concurrency {concurrency}: {rounds} rounds of {calls} calls per side"
    );
    print!("{}", split.report(calls_per_side, 25));
    Ok(())
}

/// Where `cargo build`, run at the workspace `root`, puts its output: `CARGO_TARGET_DIR`
/// (`configured`) when set, relative to `root` if relative, else `root/target`.
fn target_dir(root: &Path, configured: Option<OsString>) -> PathBuf {
    root.join(configured.unwrap_or_else(|| "target".into()))
}

/// A timed slice: its side and its start and end (nanoseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slice {
    sdk: bool,
    start: u64,
    end: u64,
}

/// The slices at `concurrency` from a slice log, by start.
fn parse_slices(log: &str, concurrency: usize) -> Result<Vec<Slice>> {
    let mut slices = Vec::new();
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [side, at, start, end] = fields[..] else {
            bail!("a slice log line is not `side concurrency start end`: {line:?}");
        };
        if at.parse::<usize>()? != concurrency {
            continue;
        }
        slices.push(Slice {
            sdk: side == "sdk",
            start: start.parse()?,
            end: end.parse()?,
        });
    }
    slices.sort_by_key(|s| s.start);
    Ok(slices)
}

/// One sample of `perf script -F comm,time,ip,sym,dso`: thread name, time (ns), function,
/// object.
fn parse_sample(line: &str) -> Option<(&str, u64, &str, &str)> {
    let mut rest = line.trim_start();
    let comm_end = rest.find(char::is_whitespace)?;
    let comm = &rest[..comm_end];
    rest = rest[comm_end..].trim_start();
    let (time, after) = rest.split_once(':')?;
    let seconds: f64 = time.trim().parse().ok()?;
    let after = after.trim_start();
    let (_ip, symbol_and_object) = after.split_once(char::is_whitespace)?;
    let open = symbol_and_object.rfind(" (")?;
    let symbol = symbol_and_object[..open].trim();
    let object = symbol_and_object[open + 2..]
        .trim_end()
        .trim_end_matches(')');
    // Sample times are microsecond-precise seconds: well within an f64's 53 bits.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let nanos = (seconds * 1e9).round() as u64;
    Some((comm, nanos, symbol, object))
}

/// Which runtime a thread belongs to.
fn runtime(comm: &str) -> &'static str {
    if comm.starts_with("bench-client") {
        "client"
    } else if comm.starts_with("bench-sandbox") {
        "sandbox"
    } else {
        "other"
    }
}

/// The component a sampled function belongs to: `kernel`, `libc allocator`, `libc`, or the
/// crate of its path.
fn component(symbol: &str, object: &str) -> String {
    if object.contains("kernel") {
        return "kernel".to_owned();
    }
    if object.contains("libc") {
        let allocator = [
            "malloc",
            "free",
            "_int_",
            "unlink_chunk",
            "consolidate",
            "realloc",
        ];
        return if allocator.iter().any(|a| symbol.contains(a)) {
            "libc allocator".to_owned()
        } else {
            "libc".to_owned()
        };
    }
    let path = symbol
        .trim_start_matches(['<', '&', ' '])
        .trim_start_matches("mut ")
        .trim_start_matches("dyn ");
    match path.split_once("::") {
        Some((krate, _)) if !krate.contains([' ', '<']) => krate.to_owned(),
        _ => symbol.chars().take(40).collect(),
    }
}

/// Sample counts per side (`[raw, sdk]`), by key.
type Counts = HashMap<String, [u64; 2]>;

/// The samples that fell in timed slices, split by side.
#[derive(Debug, Default)]
struct Split {
    runtimes: Counts,
    components: Counts,
    functions: Counts,
}

impl Split {
    /// Splits `script` (the output of `perf script`) by `slices`.
    fn of(script: &str, slices: &[Slice]) -> Self {
        let mut split = Self::default();
        for (comm, time, symbol, object) in script.lines().filter_map(parse_sample) {
            let index = slices.partition_point(|s| s.start <= time);
            let Some(slice) = index.checked_sub(1).map(|i| slices[i]) else {
                continue;
            };
            if time > slice.end {
                continue;
            }
            let side = usize::from(slice.sdk);
            let runtime = runtime(comm);
            let component = format!("{runtime}: {}", component(symbol, object));
            split.runtimes.entry(runtime.to_owned()).or_default()[side] += 1;
            split.runtimes.entry("total".to_owned()).or_default()[side] += 1;
            split
                .functions
                .entry(format!("{runtime}: {symbol}"))
                .or_default()[side] += 1;
            split.components.entry(component).or_default()[side] += 1;
        }
        split
    }

    /// The tables, in microseconds of CPU per call with `calls` calls per side; the `top`
    /// functions that differ most.
    fn report(&self, calls: usize, top: usize) -> String {
        // Counts and calls are far below 2^52: exact as f64.
        #[allow(clippy::cast_precision_loss)]
        let us = |samples: u64| samples as f64 * 1e6 / f64::from(FREQUENCY) / calls.max(1) as f64;
        let row = |name: &str, [raw, sdk]: [u64; 2]| {
            format!(
                "{name:<88} {:>8.2} {:>8.2} {:>+8.2}\n",
                us(raw),
                us(sdk),
                us(sdk) - us(raw)
            )
        };
        let header =
            |title: &str| format!("\n{title:<88} {:>8} {:>8} {:>8}\n", "raw", "SDK", "SDK−raw");
        let mut out = header("CPU per call (µs)");
        for name in ["total", "client", "sandbox", "other"] {
            if let Some(counts) = self.runtimes.get(name) {
                out.push_str(&row(name, *counts));
            }
        }
        for (title, counts, limit) in [
            ("components, by difference", &self.components, 15),
            ("functions, by difference", &self.functions, top),
        ] {
            out.push_str(&header(title));
            let mut rows: Vec<(&String, &[u64; 2])> = counts.iter().collect();
            rows.sort_by_key(|(name, [raw, sdk])| (std::cmp::Reverse(raw.abs_diff(*sdk)), *name));
            for (name, counts) in rows.into_iter().take(limit) {
                let name: String = name.chars().take(88).collect();
                out.push_str(&row(&name, *counts));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "\
    bench-client  10.000001:      7f3d52946645 malloc (/usr/lib/x86_64-linux-gnu/libc.so.6)
    bench-client  10.000002:  ffffffff82235526 tcp_ack ([kernel.kallsyms])
    bench-client  20.000001:      55d0 <core::pin::Pin<P> as core::future::future::Future>::poll (/w/phone-verify-bench)
   bench-sandbox  20.000002:      55d1 hyper::proto::h1::role::parse (/w/phone-verify-bench)
    bench-client  30.000000:      55d2 phone_verify_core::kit::client::HttpClient::prepare (/w/phone-verify-bench)
";

    #[test]
    fn reads_perf_script_samples() {
        let (comm, time, symbol, object) = parse_sample(SCRIPT.lines().nth(2).unwrap()).unwrap();
        assert_eq!(comm, "bench-client");
        assert_eq!(time, 20_000_001_000);
        assert_eq!(
            symbol,
            "<core::pin::Pin<P> as core::future::future::Future>::poll"
        );
        assert_eq!(object, "/w/phone-verify-bench");
        assert_eq!(parse_sample("garbage"), None);
    }

    #[test]
    fn names_components() {
        assert_eq!(component("tcp_ack", "[kernel.kallsyms]"), "kernel");
        assert_eq!(component("_int_malloc", "/lib/libc.so.6"), "libc allocator");
        assert_eq!(component("__memmove_avx512", "/lib/libc.so.6"), "libc");
        assert_eq!(
            component("<core::pin::Pin<P> as Future>::poll", "/b"),
            "core"
        );
        assert_eq!(
            component("<&mut serde_json::de::Deserializer<R>>::x", "/b"),
            "serde_json"
        );
        assert_eq!(component("hyper::proto::h1::role::parse", "/b"), "hyper");
    }

    #[test]
    fn gives_samples_to_the_side_of_their_slice_and_drops_the_rest() {
        let slices = parse_slices(
            "raw 64 9000000000 11000000000\nsdk 1 19000000000 21000000000\n\
             sdk 64 19000000000 21000000000\n",
            64,
        )
        .unwrap();
        assert_eq!(slices.len(), 2, "the concurrency-1 slice is left out");
        let split = Split::of(SCRIPT, &slices);
        assert_eq!(
            split.runtimes["total"],
            [2, 2],
            "the sample at 30 s is in no slice"
        );
        assert_eq!(split.runtimes["client"], [2, 1]);
        assert_eq!(split.runtimes["sandbox"], [0, 1]);
        assert_eq!(split.components["client: libc allocator"], [1, 0]);
        assert_eq!(split.components["client: core"], [0, 1]);
        let report = split.report(1, 10);
        assert!(report.contains("client: kernel"), "{report}");
    }

    #[test]
    fn profiles_the_binary_where_cargo_built_it() {
        let root = Path::new("/w");
        assert_eq!(target_dir(root, None), Path::new("/w/target"));
        assert_eq!(
            target_dir(root, Some("target/lto".into())),
            Path::new("/w/target/lto")
        );
        assert_eq!(
            target_dir(root, Some("/tmp/lto".into())),
            Path::new("/tmp/lto")
        );
    }

    #[test]
    fn reads_its_options() {
        let args: Vec<String> = ["--provider", "twilio", "--call", "check", "--rounds", "3"]
            .map(String::from)
            .to_vec();
        let options = Options::parse(&args).unwrap();
        assert_eq!(
            options,
            Some(Options {
                provider: "twilio".to_owned(),
                call: "check".to_owned(),
                concurrency: 64,
                rounds: 3,
                calls: 6000,
            })
        );
        let args: Vec<String> = ["--concurrency", "1"].map(String::from).to_vec();
        assert_eq!(Options::parse(&args).unwrap().unwrap().concurrency, 1);
        assert_eq!(Options::parse(&["--help".to_owned()]).unwrap(), None);
        let args: Vec<String> = ["--concurrency", "8"].map(String::from).to_vec();
        assert!(Options::parse(&args).is_err());
        assert!(Options::parse(&["--rounds".to_owned()]).is_err());
        let err = Options::parse(&["--what".to_owned()]).unwrap_err();
        assert!(err.to_string().contains("usage:"), "{err}");
    }

    #[test]
    fn refuses_a_row_the_benchmark_does_not_have() {
        let parse = |list: &[&str]| {
            Options::parse(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
        };
        let err = parse(&["--provider", "twillio", "--call", "check"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("one of verifykit, verifik, verigator, twilio, not twillio"),
            "{err}"
        );
        assert!(parse(&["--call", "resolv"]).is_err());
        let err = parse(&["--provider", "verigator"]).unwrap_err();
        assert!(err.to_string().contains("no session resolution"), "{err}");
        assert!(parse(&["--provider", "verigator", "--call", "check"]).is_ok());
        assert!(parse(&["--provider", "verifik"]).is_ok());
    }
}
