//! `cargo xtask fuzz`: runs every cargo-fuzz target in `fuzz/` for a while and reports what
//! libFuzzer found.
//!
//! ```text
//! cargo xtask fuzz                          every target, 60 s each
//! cargo xtask fuzz --seconds 600            every target, 10 minutes each
//! cargo xtask fuzz --target phone_parse     one target (repeatable)
//! ```
//!
//! Each target runs as `cargo +nightly fuzz run TARGET -- -max_total_time=N -timeout=10
//! -rss_limit_mb=… -max_len=… -print_final_stats=1`, starting from its corpus in
//! `fuzz/corpus/TARGET` (the committed seeds plus what earlier runs added, which git ignores).
//! libFuzzer's output goes to `fuzz/logs/TARGET.log`; the summary gives per target the
//! executions, coverage (`cov`, `ft`), corpus size and any crash (a panic, a sanitizer's error,
//! an input over the time or memory limit), whose input libFuzzer saves under
//! `fuzz/artifacts/TARGET/`. The task fails when a target crashes or its run fails otherwise
//! (`crashes ?` in the summary: see the log).

use std::fmt;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Every fuzz target (the `[[bin]]`s of `fuzz/Cargo.toml`; a unit test keeps them in step).
pub(crate) const TARGETS: &[&str] = &[
    "verifykit_decode",
    "verifik_decode",
    "verigator_decode",
    "twilio_decode",
    "handle_from_json",
    "phone_parse",
    "retry_after",
    "sandbox_bodies",
    "sealed_open",
];

/// Seconds per target when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 60;

/// libFuzzer's time limit per input, in seconds: an input that runs longer is a crash (a hang),
/// and `-max_total_time`, which libFuzzer checks only between inputs, holds within it.
const INPUT_TIMEOUT_SECS: u32 = 10;

/// libFuzzer's memory limit per target: the targets hold one input at a time, so more is a leak.
const RSS_LIMIT_MB: u32 = 2048;

/// The largest input libFuzzer makes: provider answers are small JSON documents.
const MAX_LEN: u32 = 16 * 1024;

/// What `cargo xtask fuzz` was asked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Options {
    /// Seconds each target runs.
    pub(crate) seconds: u64,
    /// The targets to run, in order (every target when none is named).
    pub(crate) targets: Vec<String>,
}

impl Options {
    /// Reads the arguments after `fuzz`: `--seconds N` and `--target NAME` (each also as
    /// `--flag=value`; `--target` repeatable).
    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let mut seconds = DEFAULT_SECONDS;
        let mut targets = Vec::new();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag, Some(value.to_owned())),
                None => (arg.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| rest.next().cloned())
                    .with_context(|| format!("{flag} needs a value"))
            };
            match flag {
                "--seconds" => {
                    let text = value()?;
                    seconds = text.parse().ok().filter(|s| *s > 0).with_context(|| {
                        format!("--seconds takes a positive number, not {text:?}")
                    })?;
                }
                "--target" => {
                    let name = value()?;
                    if !TARGETS.contains(&name.as_str()) {
                        bail!(
                            "no fuzz target {name:?}; the targets are {}",
                            TARGETS.join(", ")
                        );
                    }
                    targets.push(name);
                }
                other => bail!(
                    "unknown argument {other:?}; usage: cargo xtask fuzz [--seconds N] [--target NAME]..."
                ),
            }
        }
        if targets.is_empty() {
            targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
        }
        Ok(Self { seconds, targets })
    }
}

/// What one libFuzzer run reported.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Report {
    /// Inputs executed.
    pub(crate) execs: Option<u64>,
    /// Executions per second, on average.
    pub(crate) execs_per_sec: Option<u64>,
    /// Coverage: code edges reached (`cov:`).
    pub(crate) cov: Option<u64>,
    /// Features (edges with hit counts and more) reached (`ft:`).
    pub(crate) ft: Option<u64>,
    /// Corpus entries and total size, as libFuzzer shows them (`corp: 312/45Kb`).
    pub(crate) corpus: Option<String>,
    /// Peak memory, in MB.
    pub(crate) peak_rss_mb: Option<u64>,
    /// What was reported as the crash: the panic, or libFuzzer's or a sanitizer's `ERROR:` or
    /// `SUMMARY:` line (see [`CRASH_MARKERS`]).
    pub(crate) crash: Option<String>,
    /// Where libFuzzer saved the crashing input.
    pub(crate) artifact: Option<String>,
    /// Whether the run exited with a failure status (with or without a crash line read).
    pub(crate) failed: bool,
}

/// What starts the line that reports a crash, in libFuzzer's output: its own errors (a
/// timeout, a deadly signal, out-of-memory) and AddressSanitizer's and LeakSanitizer's (a stack
/// overflow, a leak), which print no libFuzzer `ERROR:` line.
const CRASH_MARKERS: &[&str] = &[
    "ERROR: libFuzzer:",
    "ERROR: AddressSanitizer:",
    "ERROR: LeakSanitizer:",
    "SUMMARY: libFuzzer:",
    "SUMMARY: AddressSanitizer:",
    "SUMMARY: LeakSanitizer:",
];

impl Report {
    /// Reads libFuzzer's output, line by line: status lines (`#N  … cov: … ft: … corp: …`,
    /// the last one wins; a sanitizer's stack frames, `#N 0x…`, are not), the final stats
    /// (`stat::…`), and what it says of a crash.
    pub(crate) fn read_line(&mut self, line: &str) {
        let line = line.trim();
        if let Some(stat) = line.strip_prefix("stat::") {
            if let Some((name, value)) = stat.split_once(':') {
                let value = value.trim().parse().ok();
                match name.trim() {
                    "number_of_executed_units" => self.execs = value.or(self.execs),
                    "average_exec_per_sec" => self.execs_per_sec = value.or(self.execs_per_sec),
                    "peak_rss_mb" => self.peak_rss_mb = value.or(self.peak_rss_mb),
                    _ => {}
                }
            }
            return;
        }
        if let Some(status) = line.strip_prefix('#') {
            let mut words = status.split_whitespace();
            let Some(Ok(execs)) = words.next().map(str::parse::<u64>) else {
                return;
            };
            let words: Vec<&str> = words.collect();
            if words.first().is_some_and(|word| word.starts_with("0x")) {
                return;
            }
            self.execs = Some(execs);
            for pair in words.windows(2) {
                match pair[0] {
                    "cov:" => self.cov = pair[1].parse().ok().or(self.cov),
                    "ft:" => self.ft = pair[1].parse().ok().or(self.ft),
                    "corp:" => self.corpus = Some(pair[1].to_owned()),
                    "exec/s:" => self.execs_per_sec = pair[1].parse().ok().or(self.execs_per_sec),
                    _ => {}
                }
            }
            return;
        }
        if line.contains("panicked at") && self.crash.is_none() {
            self.crash = Some(line.to_owned());
        } else if CRASH_MARKERS.iter().any(|marker| line.contains(marker)) {
            self.crash.get_or_insert_with(|| line.to_owned());
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            self.artifact = Some(path.trim().to_owned());
        }
    }

    /// Reads a whole output.
    #[cfg(test)]
    pub(crate) fn read(output: &str) -> Self {
        let mut report = Self::default();
        for line in output.lines() {
            report.read_line(line);
        }
        report
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
        // A failed run without a crash line crashed in a way this reader does not know.
        let crashes = match (&self.crash, self.failed) {
            (Some(_), _) => "1",
            (None, true) => "?",
            (None, false) => "0",
        };
        write!(
            f,
            "execs {} ({}/s)  cov {}  ft {}  corpus {}  peak rss {} MB  crashes {}",
            show(self.execs),
            show(self.execs_per_sec),
            show(self.cov),
            show(self.ft),
            self.corpus.as_deref().unwrap_or("?"),
            show(self.peak_rss_mb),
            crashes,
        )
    }
}

/// Runs `cargo xtask fuzz` with the arguments after `fuzz`.
pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let options = Options::parse(args)?;
    check_tools()?;
    let fuzz_dir = root.join("fuzz");
    fs::create_dir_all(fuzz_dir.join("logs"))?;
    let mut failed = Vec::new();
    let mut summary = Vec::new();
    for target in &options.targets {
        println!("== fuzz {target} for {} s", options.seconds);
        let report = run_target(&fuzz_dir, target, options.seconds)?;
        println!("{target}: {report}");
        if report.crash.is_some() || report.failed {
            match &report.crash {
                Some(crash) => println!("  crash: {crash}"),
                None => println!("  failed without a crash line: see fuzz/logs/{target}.log"),
            }
            if let Some(artifact) = &report.artifact {
                println!(
                    "  input: {artifact}  (reproduce: cargo +nightly fuzz run {target} {artifact})"
                );
            }
            failed.push(target.clone());
        }
        summary.push(format!("{target:<18} {report}"));
    }
    println!("== fuzz summary ({} s per target)", options.seconds);
    for line in &summary {
        println!("{line}");
    }
    if !failed.is_empty() {
        bail!("fuzz targets failed: {}", failed.join(", "));
    }
    Ok(())
}

/// Fails with the install command when cargo-fuzz or the nightly toolchain is missing.
fn check_tools() -> Result<()> {
    let works = |args: &[&str]| {
        nightly_cargo()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !works(&["--version"]) {
        bail!("the nightly toolchain is missing: `rustup toolchain install nightly`");
    }
    if !works(&["fuzz", "--version"]) {
        bail!("cargo-fuzz is missing: `cargo install cargo-fuzz --locked`");
    }
    Ok(())
}

/// `cargo +nightly`, without what `cargo run` and rustup set for xtask (`CARGO`, `CARGO_PKG_*`,
/// `RUSTUP_TOOLCHAIN`, `LD_LIBRARY_PATH`, …): cargo-fuzz runs the cargo `CARGO` names, rustup
/// would keep xtask's toolchain, and build scripts that watch the environment would rebuild
/// every dependency. The user's own settings (`CARGO_HOME`, `CARGO_NET_OFFLINE`,
/// `CARGO_BUILD_JOBS`, `CARGO_HTTP_*`, …) are passed on.
fn nightly_cargo() -> Command {
    let mut command = Command::new("cargo");
    command.arg("+nightly");
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if is_set_by_cargo_run(&name) {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Whether `cargo run` (or rustup's proxy before it) sets the environment variable `name` for
/// the program it runs: Cargo's variables for a crate (`CARGO`, `CARGO_PKG_*`,
/// `CARGO_MANIFEST_*`, …), the library path, rustup's toolchain and recursion count; and
/// `RUSTC` and `RUSTDOC`, which would name another toolchain's tools than nightly's.
fn is_set_by_cargo_run(name: &str) -> bool {
    [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_BIN_EXE_",
        "RUSTUP_TOOLCHAIN",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
        || matches!(
            name,
            "CARGO"
                | "CARGO_BIN_NAME"
                | "CARGO_CRATE_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
                | "RUSTC"
                | "RUSTDOC"
                | "LD_LIBRARY_PATH"
                | "RUST_RECURSION_COUNT"
        )
}

/// The arguments of `cargo fuzz` that run `target` for `seconds`.
fn fuzz_args(target: &str, seconds: u64) -> Vec<String> {
    let mut args: Vec<String> = ["fuzz", "run", target, "--"].map(str::to_owned).into();
    args.extend([
        format!("-max_total_time={seconds}"),
        format!("-timeout={INPUT_TIMEOUT_SECS}"),
        format!("-rss_limit_mb={RSS_LIMIT_MB}"),
        format!("-max_len={MAX_LEN}"),
        "-print_final_stats=1".to_owned(),
    ]);
    args
}

/// Runs one target, its output to `fuzz/logs/TARGET.log` and read as it comes.
fn run_target(fuzz_dir: &Path, target: &str, seconds: u64) -> Result<Report> {
    let mut child = nightly_cargo()
        .current_dir(fuzz_dir)
        .args(fuzz_args(target, seconds))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running cargo +nightly fuzz")?;
    let stdout = child.stdout.take().context("no stdout")?;
    // libFuzzer reports on stderr; cargo's own stdout is small: read it on the side.
    let stdout_reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let mut log = File::create(fuzz_dir.join("logs").join(format!("{target}.log")))?;
    let mut report = Report::default();
    let stderr = child.stderr.take().context("no stderr")?;
    for line in BufReader::new(stderr).lines() {
        let line = line?;
        writeln!(log, "{line}")?;
        report.read_line(&line);
    }
    let status = child.wait()?;
    for line in stdout_reader.join().unwrap_or_default() {
        writeln!(log, "{line}")?;
        report.read_line(&line);
    }
    report.failed = !status.success();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn options_default_to_every_target_for_a_minute() {
        let options = Options::parse(&[]).unwrap();
        assert_eq!(options.seconds, 60);
        assert_eq!(options.targets, TARGETS);
    }

    #[test]
    fn options_read_seconds_and_targets_in_both_forms() {
        let options = Options::parse(&args(&[
            "--seconds",
            "30",
            "--target",
            "phone_parse",
            "--target=retry_after",
        ]))
        .unwrap();
        assert_eq!(
            options,
            Options {
                seconds: 30,
                targets: args(&["phone_parse", "retry_after"]),
            }
        );
        assert_eq!(
            Options::parse(&args(&["--seconds=600"])).unwrap().seconds,
            600
        );
    }

    #[test]
    fn options_refuse_what_they_do_not_know() {
        for bad in [
            &["--seconds"][..],
            &["--seconds", "0"],
            &["--seconds", "ten"],
            &["--target", "nope"],
            &["--target"],
            &["--jobs", "2"],
            &["phone_parse"],
        ] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn what_cargo_run_sets_is_not_passed_on() {
        // What `cargo run` of a binary and rustup's proxy set (Cargo 1.95, rustup 1.29).
        for name in [
            "CARGO",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_PRE",
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_BIN_NAME",
            "CARGO_CRATE_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "RUSTUP_TOOLCHAIN",
            "RUSTUP_TOOLCHAIN_SOURCE",
            "RUST_RECURSION_COUNT",
            "LD_LIBRARY_PATH",
        ] {
            assert!(is_set_by_cargo_run(name), "{name}");
        }
        for name in ["CARGO_HOME", "RUSTUP_HOME", "PATH", "HOME"] {
            assert!(!is_set_by_cargo_run(name), "{name}");
        }
    }

    #[test]
    fn the_users_cargo_settings_are_passed_on() {
        for name in [
            "CARGO_NET_OFFLINE",
            "CARGO_BUILD_JOBS",
            "CARGO_HTTP_PROXY",
            "CARGO_HTTP_CAINFO",
            "CARGO_TARGET_DIR",
            "CARGO_TERM_COLOR",
            "CARGO_INCREMENTAL",
            "CARGO_REGISTRIES_CRATES_IO_PROTOCOL",
            "RUSTFLAGS",
        ] {
            assert!(!is_set_by_cargo_run(name), "{name}");
        }
    }

    #[test]
    fn libfuzzer_gets_a_time_limit_per_input() {
        assert_eq!(
            fuzz_args("phone_parse", 30),
            args(&[
                "fuzz",
                "run",
                "phone_parse",
                "--",
                "-max_total_time=30",
                "-timeout=10",
                "-rss_limit_mb=2048",
                "-max_len=16384",
                "-print_final_stats=1",
            ])
        );
    }

    #[test]
    fn targets_match_the_fuzz_crate() {
        let manifest = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/Cargo.toml"),
        )
        .unwrap();
        let manifest: toml::Value = toml::from_str(&manifest).unwrap();
        let bins: Vec<&str> = manifest["bin"]
            .as_array()
            .unwrap()
            .iter()
            .map(|bin| bin["name"].as_str().unwrap())
            .collect();
        assert_eq!(bins, TARGETS);
        for target in TARGETS {
            let seeds = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../fuzz/corpus")
                .join(target);
            let committed = std::fs::read_dir(&seeds)
                .unwrap_or_else(|e| panic!("{}: {e}", seeds.display()))
                .filter_map(Result::ok)
                .filter(|entry| entry.file_name().to_string_lossy().starts_with("seed-"))
                .count();
            assert!(committed > 0, "{target} has no seed corpus");
        }
    }

    /// The end of a clean run, as libFuzzer 18 prints it with `-print_final_stats=1`.
    const CLEAN: &str = "\
INFO: Running with entropic power schedule (0xFF, 100).
INFO: Seed: 2553157371
INFO:        8 files found in fuzz/corpus/phone_parse
#2\tINITED cov: 1480 ft: 1502 corp: 8/312b exec/s: 0 rss: 48Mb
#1024\tpulse  cov: 1702 ft: 2210 corp: 40/1911b lim: 17 exec/s: 512 rss: 52Mb
#51234\tNEW    cov: 1811 ft: 2650 corp: 96/6120b lim: 4096 exec/s: 1700 rss: 60Mb L: 40/120 MS: 2 ChangeBit-CopyPart-
#60713\tDONE   cov: 1811 ft: 2655 corp: 97/6180b lim: 4096 exec/s: 2023 rss: 61Mb
Done 60713 runs in 31 second(s)
stat::number_of_executed_units: 60713
stat::average_exec_per_sec:     1958
stat::new_units_added:          89
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              61
";

    #[test]
    fn a_clean_run_is_read() {
        let report = Report::read(CLEAN);
        assert_eq!(
            report,
            Report {
                execs: Some(60_713),
                execs_per_sec: Some(1958),
                cov: Some(1811),
                ft: Some(2655),
                corpus: Some("97/6180b".to_owned()),
                peak_rss_mb: Some(61),
                crash: None,
                artifact: None,
                failed: false,
            }
        );
        assert_eq!(
            report.to_string(),
            "execs 60713 (1958/s)  cov 1811  ft 2655  corpus 97/6180b  peak rss 61 MB  crashes 0"
        );
    }

    #[test]
    fn a_crash_is_read_with_its_input() {
        let output = "\
#1200\tNEW    cov: 900 ft: 1000 corp: 20/800b lim: 4096 exec/s: 600 rss: 50Mb
thread '<unnamed>' panicked at fuzz_targets/phone_parse.rs:20:5:
E.164 re-parse
==4242== ERROR: libFuzzer: deadly signal
SUMMARY: libFuzzer: deadly signal
MS: 1 ChangeByte-; base unit: 0123456789abcdef
artifact_prefix='/w/fuzz/artifacts/phone_parse/'; Test unit written to /w/fuzz/artifacts/phone_parse/crash-da39a3ee
stat::number_of_executed_units: 1234
";
        let report = Report::read(output);
        assert_eq!(report.execs, Some(1234));
        assert_eq!(report.cov, Some(900));
        assert_eq!(
            report.crash.as_deref(),
            Some("thread '<unnamed>' panicked at fuzz_targets/phone_parse.rs:20:5:")
        );
        assert_eq!(
            report.artifact.as_deref(),
            Some("/w/fuzz/artifacts/phone_parse/crash-da39a3ee")
        );
        assert!(report.to_string().ends_with("crashes 1"));
    }

    #[test]
    fn a_sanitizer_crash_is_read_with_its_input() {
        // AddressSanitizer's report has no libFuzzer `ERROR:` line, and its stack frames
        // start with `#N` as status lines do.
        let output = "\
#4096\tpulse  cov: 700 ft: 900 corp: 12/400b lim: 4096 exec/s: 2048 rss: 50Mb
==4242==ERROR: AddressSanitizer: stack-overflow on address 0x7ffc8a1b2f48 (pc 0x55d0c4 bp 0x7ffc sp 0x7ffc T0)
    #0 0x55d0c4a1 in core::fmt::write /rustc/library/core/src/fmt/mod.rs:1178:17
    #1 0x55d0c4b2 in serde_json::de::Deserializer::parse_value
SUMMARY: AddressSanitizer: stack-overflow /rustc/library/core/src/fmt/mod.rs:1178:17 in core::fmt::write
==4242==ABORTING
MS: 1 InsertRepeatedBytes-; base unit: 0123456789abcdef
artifact_prefix='/w/fuzz/artifacts/verifik_decode/'; Test unit written to /w/fuzz/artifacts/verifik_decode/crash-0badc0de
";
        let report = Report::read(output);
        assert_eq!(report.execs, Some(4096));
        assert_eq!(report.cov, Some(700));
        assert!(
            report.crash.as_deref().is_some_and(
                |crash| crash.starts_with("==4242==ERROR: AddressSanitizer: stack-overflow")
            ),
            "{report:?}"
        );
        assert_eq!(
            report.artifact.as_deref(),
            Some("/w/fuzz/artifacts/verifik_decode/crash-0badc0de")
        );
        assert!(report.to_string().ends_with("crashes 1"));
        let summary_only = Report::read("SUMMARY: AddressSanitizer: stack-overflow in f\n");
        assert!(summary_only.crash.is_some());
    }

    #[test]
    fn a_leak_and_a_timeout_are_crashes() {
        let leak = Report::read(
            "==99==ERROR: LeakSanitizer: detected memory leaks\n\
             SUMMARY: AddressSanitizer: 24 byte(s) leaked in 1 allocation(s).\n",
        );
        assert!(
            leak.crash
                .unwrap()
                .contains("LeakSanitizer: detected memory leaks")
        );
        let timeout = Report::read(
            "ALARM: working on the last Unit for 10 seconds\n\
             ==12== ERROR: libFuzzer: timeout after 10 seconds\n\
             SUMMARY: libFuzzer: timeout\n",
        );
        assert!(timeout.crash.unwrap().contains("timeout after 10 seconds"));
    }

    #[test]
    fn a_failed_run_without_a_crash_line_shows_unknown_crashes() {
        let mut report = Report::read(CLEAN);
        assert!(report.to_string().ends_with("crashes 0"));
        report.failed = true;
        assert!(report.to_string().ends_with("crashes ?"), "{report}");
        report.crash = Some("thread '<unnamed>' panicked at x.rs:1:1:".to_owned());
        assert!(report.to_string().ends_with("crashes 1"), "{report}");
    }

    #[test]
    fn an_out_of_memory_is_a_crash() {
        let report = Report::read(
            "==77== ERROR: libFuzzer: out-of-memory (used: 2100Mb; exceeds: 2048Mb)\n",
        );
        assert!(report.crash.unwrap().contains("out-of-memory"));
    }
}
