//! `cargo xtask`: repository automation for phone-verify.
//!
//! ```text
//! cargo xtask bench [--skip-build] [--write | --no-write] [-- <bench options>]
//!                                           benchmarks; a full run writes docs/benchmarks.md
//! cargo xtask bench-profile [--provider P] [--call C]   the SDK/raw gap split by component (perf)
//! cargo xtask codegen [--check]             regenerate (or check) error tables and feature tables
//! cargo xtask fuzz [--seconds N] [--target NAME]   run the cargo-fuzz targets (nightly)
//! cargo xtask ci                            everything CI checks
//! cargo xtask release <version> [--execute] [--publish]
//! cargo xtask help                          the tasks and their options
//! ```
//!
//! An option a task does not know is refused, with the task's usage.

mod bench;
mod bench_profile;
mod changelog;
mod ci;
mod codegen;
mod files;
mod fuzz;
mod release;
mod version;

use std::path::PathBuf;

use anyhow::{Result, bail};

/// What `cargo xtask help` prints.
const USAGE: &str = "usage:
  cargo xtask bench [--skip-build] [--write | --no-write] [-- <bench options>]
  cargo xtask bench-profile [--provider P] [--call C] [--concurrency 1|64] [--rounds N] [--calls N]
  cargo xtask codegen [--check]
  cargo xtask ci
  cargo xtask fuzz [--seconds N] [--target NAME]
  cargo xtask release <version> [--execute] [--publish]
  cargo xtask help";

/// A task and its options, as read from the command line.
#[derive(Debug, PartialEq, Eq)]
enum Task {
    /// Print the usage.
    Help,
    /// `bench`, with the arguments after it (its own parser reads them).
    Bench(Vec<String>),
    /// `bench-profile`, with the arguments after it (its own parser reads them).
    BenchProfile(Vec<String>),
    /// `codegen`: regenerate, or only check with `--check`.
    Codegen { check: bool },
    /// `ci`.
    Ci,
    /// `fuzz`, with the arguments after it (its own parser reads them).
    Fuzz(Vec<String>),
    /// `release <version>`.
    Release {
        version: String,
        execute: bool,
        publish: bool,
    },
}

impl Task {
    /// Reads the command line after `cargo xtask`: the task first, then its options.
    fn parse(args: &[String]) -> Result<Self> {
        let Some((task, rest)) = args.split_first() else {
            bail!("no task given\n\n{USAGE}")
        };
        let asks_help = rest.iter().any(|a| a == "--help" || a == "-h");
        Ok(match task.as_str() {
            "help" | "--help" | "-h" => Self::Help,
            "bench" => Self::Bench(rest.to_vec()),
            "bench-profile" => Self::BenchProfile(rest.to_vec()),
            "fuzz" => Self::Fuzz(rest.to_vec()),
            "codegen" | "ci" | "release" if asks_help => Self::Help,
            "codegen" => {
                let ([check], []) = read_args(task, rest, ["--check"])?;
                Self::Codegen { check }
            }
            "ci" => {
                let ([], []) = read_args(task, rest, [])?;
                Self::Ci
            }
            "release" => {
                let ([execute, publish], [version]) =
                    read_args(task, rest, ["--execute", "--publish"])?;
                Self::Release {
                    version: version.to_owned(),
                    execute,
                    publish,
                }
            }
            other => bail!("unknown task `{other}`\n\n{USAGE}"),
        })
    }
}

/// Reads the arguments of `task`: which of its `flags` were given, and exactly `P` positional
/// arguments; refuses any other flag and any other number of positional arguments.
fn read_args<'a, const F: usize, const P: usize>(
    task: &str,
    args: &'a [String],
    flags: [&str; F],
) -> Result<([bool; F], [&'a str; P])> {
    let usage = usage_of(task);
    let mut given = [false; F];
    let mut positional = Vec::new();
    for arg in args {
        if !arg.starts_with('-') {
            positional.push(arg.as_str());
        } else if let Some(i) = flags.iter().position(|f| f == arg) {
            given[i] = true;
        } else {
            bail!("`cargo xtask {task}` has no option `{arg}`; usage: {usage}");
        }
    }
    let Ok(positional) = <[&str; P]>::try_from(positional.as_slice()) else {
        bail!(
            "`cargo xtask {task}` takes {P} argument(s), not `{}`; usage: {usage}",
            positional.join(" ")
        );
    };
    Ok((given, positional))
}

/// The usage line of `task`.
fn usage_of(task: &str) -> &'static str {
    USAGE
        .lines()
        .map(str::trim)
        .find(|line| {
            line.strip_prefix("cargo xtask ")
                .and_then(|rest| rest.strip_prefix(task))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        })
        .unwrap_or(USAGE)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    match Task::parse(&args)? {
        Task::Help => {
            println!("{USAGE}");
            Ok(())
        }
        Task::Bench(args) => bench::run(&root, &args),
        Task::BenchProfile(args) => bench_profile::run(&root, &args),
        Task::Codegen { check } => codegen::run(&root, check),
        Task::Ci => ci::run(&root),
        Task::Fuzz(args) => fuzz::run(&root, &args),
        Task::Release {
            version,
            execute,
            publish,
        } => release::run(&root, &version, execute, publish),
    }
}

/// The workspace root (the parent of `xtask/`).
fn project_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(list: &[&str]) -> Result<Task> {
        Task::parse(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    fn refusal(list: &[&str]) -> String {
        parse(list).unwrap_err().to_string()
    }

    #[test]
    fn reads_every_documented_command_line() {
        assert_eq!(parse(&["ci"]).unwrap(), Task::Ci);
        assert_eq!(parse(&["codegen"]).unwrap(), Task::Codegen { check: false });
        assert_eq!(
            parse(&["codegen", "--check"]).unwrap(),
            Task::Codegen { check: true }
        );
        assert_eq!(
            parse(&["release", "0.2.0", "--execute", "--publish"]).unwrap(),
            Task::Release {
                version: "0.2.0".to_owned(),
                execute: true,
                publish: true
            }
        );
        assert_eq!(
            parse(&["release", "--execute", "0.2.0"]).unwrap(),
            Task::Release {
                version: "0.2.0".to_owned(),
                execute: true,
                publish: false
            }
        );
        assert_eq!(
            parse(&["bench", "--skip-build", "--", "--phases", "router"]).unwrap(),
            Task::Bench(vec![
                "--skip-build".to_owned(),
                "--".to_owned(),
                "--phases".to_owned(),
                "router".to_owned()
            ])
        );
        assert_eq!(
            parse(&["bench-profile", "--concurrency", "1"]).unwrap(),
            Task::BenchProfile(vec!["--concurrency".to_owned(), "1".to_owned()])
        );
        assert_eq!(
            parse(&["fuzz", "--seconds", "600"]).unwrap(),
            Task::Fuzz(vec!["--seconds".to_owned(), "600".to_owned()])
        );
        for help in [&["help"][..], &["--help"], &["-h"], &["codegen", "--help"]] {
            assert_eq!(parse(help).unwrap(), Task::Help, "{help:?}");
        }
    }

    #[test]
    fn refuses_what_a_task_does_not_know() {
        let err = refusal(&["codegen", "--chek"]);
        assert!(
            err.contains("`--chek`") && err.contains("cargo xtask codegen [--check]"),
            "{err}"
        );
        assert!(refusal(&["ci", "--fast"]).contains("usage: cargo xtask ci"));
        let err = refusal(&["release", "0.2.0", "--exec"]);
        assert!(
            err.contains("`--exec`")
                && err.contains("cargo xtask release <version> [--execute] [--publish]"),
            "{err}"
        );
        assert!(refusal(&["release", "--execute"]).contains("takes 1 argument"));
        assert!(refusal(&["release", "0.2.0", "0.3.0"]).contains("`0.2.0 0.3.0`"));
        assert!(refusal(&["codegen", "check"]).contains("takes 0 argument"));
        assert!(refusal(&["--check", "codegen"]).contains("unknown task `--check`"));
        assert!(refusal(&[]).contains("no task given"));
    }
}
