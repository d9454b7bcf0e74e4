//! `cargo xtask`: repository automation for phone-verify.
//!
//! ```text
//! cargo xtask bench [--skip-build]          benchmarks; a full run writes docs/benchmarks.md
//! cargo xtask bench-profile [--provider P] [--call C]   the SDK/raw gap split by component (perf)
//! cargo xtask codegen [--check]             regenerate (or check) error tables and feature tables
//! cargo xtask fuzz [--seconds N] [--target NAME]   run the cargo-fuzz targets (nightly)
//! cargo xtask ci                            everything CI checks
//! cargo xtask release <version> [--execute] [--publish]
//! cargo xtask help                          the tasks and their options
//! ```

mod bench;
mod bench_profile;
mod changelog;
mod ci;
mod codegen;
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

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let positional: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let root = project_root();
    if matches!(
        args.first().map(String::as_str),
        Some("help" | "--help" | "-h")
    ) {
        println!("{USAGE}");
        return Ok(());
    }
    match positional.first().copied() {
        Some("bench") => {
            let after = args.iter().position(|a| a == "bench").map_or(0, |i| i + 1);
            bench::run(&root, &args[after..])
        }
        Some("bench-profile") => {
            let after = args
                .iter()
                .position(|a| a == "bench-profile")
                .map_or(0, |i| i + 1);
            bench_profile::run(&root, &args[after..])
        }
        Some("codegen") => codegen::run(&root, flag("--check")),
        Some("ci") => ci::run(&root),
        Some("fuzz") => {
            let after = args.iter().position(|a| a == "fuzz").map_or(0, |i| i + 1);
            fuzz::run(&root, &args[after..])
        }
        Some("release") => {
            let Some(version) = positional.get(1) else {
                bail!("usage: cargo xtask release <version> [--execute] [--publish]")
            };
            release::run(&root, version, flag("--execute"), flag("--publish"))
        }
        other => {
            eprintln!("{USAGE}");
            match other {
                Some(task) => bail!("unknown task `{task}`"),
                None => bail!("no task given"),
            }
        }
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
