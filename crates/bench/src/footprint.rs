//! Each provider crate's default build: what `cargo tree` lists, whether a C TLS stack or C
//! build tool is in it, and how long a cold build of that crate alone takes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

/// Crates that must stay out of a default build (C TLS stacks and their build tool).
pub(crate) const UNWANTED: &[&str] =
    &["aws-lc-sys", "aws-lc-rs", "openssl", "openssl-sys", "cmake"];

/// One crate of a `cargo tree --prefix none` listing.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TreeCrate {
    /// Package name.
    pub(crate) name: String,
    /// Version, without the `v`.
    pub(crate) version: String,
}

/// The distinct crates of `cargo tree --prefix none` output (repeats marked `(*)` and section
/// headers such as `[build-dependencies]` are skipped).
pub(crate) fn parse_tree(output: &str) -> BTreeSet<TreeCrate> {
    output
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let version = words.next()?.strip_prefix('v')?;
            if name.starts_with('[') {
                return None;
            }
            Some(TreeCrate {
                name: name.to_owned(),
                version: version.to_owned(),
            })
        })
        .collect()
}

/// The unwanted crates present in `crates`.
pub(crate) fn unwanted_in(crates: &BTreeSet<TreeCrate>) -> Vec<String> {
    crates
        .iter()
        .filter(|c| UNWANTED.contains(&c.name.as_str()))
        .map(|c| c.name.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// How many `Compiling …` lines a cargo build printed.
pub(crate) fn compiled_units(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling "))
        .count()
}

/// A provider crate's footprint.
#[derive(Clone, Debug)]
pub(crate) struct Footprint {
    /// Package name.
    pub(crate) package: String,
    /// Distinct crates in `cargo tree -e normal` (the crate itself included).
    pub(crate) normal: usize,
    /// Distinct crates in `cargo tree -e normal,build` (build scripts' dependencies too).
    pub(crate) with_build: usize,
    /// Unwanted crates among normal and build dependencies.
    pub(crate) unwanted: Vec<String>,
    /// The cold build, unless skipped.
    pub(crate) cold: Option<ColdBuild>,
}

/// A timed build in an empty target directory.
#[derive(Clone, Debug)]
pub(crate) struct ColdBuild {
    /// `dev` or `release`.
    pub(crate) profile: &'static str,
    /// Wall time.
    pub(crate) time: Duration,
    /// Crates compiled (`Compiling` lines).
    pub(crate) units: usize,
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn tree(root: &Path, package: &str, edges: &str) -> Result<BTreeSet<TreeCrate>> {
    let output = Command::new(cargo())
        .current_dir(root)
        .args(["tree", "-p", package, "-e", edges, "--prefix", "none"])
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("running cargo tree -p {package}"))?;
    if !output.status.success() {
        bail!(
            "cargo tree -p {package} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(parse_tree(&String::from_utf8_lossy(&output.stdout)))
}

/// Measures `package`: its trees and, unless `cold` is `None`, a build in a fresh
/// `target/bench-cold/<package>` (removed afterwards) with the given profile.
pub(crate) fn measure(root: &Path, package: &str, cold: Option<&'static str>) -> Result<Footprint> {
    let normal = tree(root, package, "normal")?;
    let with_build = tree(root, package, "normal,build")?;
    let mut unwanted = unwanted_in(&with_build);
    unwanted.extend(unwanted_in(&normal));
    unwanted.sort();
    unwanted.dedup();
    let cold = cold
        .map(|profile| cold_build(root, package, profile))
        .transpose()?;
    Ok(Footprint {
        package: package.to_owned(),
        normal: normal.len(),
        with_build: with_build.len(),
        unwanted,
        cold,
    })
}

fn cold_build(root: &Path, package: &str, profile: &'static str) -> Result<ColdBuild> {
    let dir = root.join("target").join("bench-cold").join(package);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let mut command = Command::new(cargo());
    command
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &dir)
        .args(["build", "-p", package]);
    if profile == "release" {
        command.arg("--release");
    }
    eprintln!("  cold {profile} build of {package} …");
    let started = Instant::now();
    let output = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("running cargo build -p {package}"))?;
    let time = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("cargo build -p {package} failed:\n{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ColdBuild {
        profile,
        time,
        units: compiled_units(&stderr),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "\
phone-verify-verifykit v0.1.0 (/work/main/crates/verifykit)
async-trait v0.1.89 (proc-macro)
proc-macro2 v1.0.95
unicode-ident v1.0.18
phone-verify-core v0.1.0 (/work/main/crates/core)
async-trait v0.1.89 (proc-macro) (*)
tokio v1.47.1
bytes v1.10.1
reqwest v0.12.28
tokio v1.47.1 (*)
rustls v0.23.31
ring v0.17.14

[build-dependencies]
cc v1.2.30
";

    #[test]
    fn parses_and_deduplicates_cargo_tree() {
        let crates = parse_tree(TREE);
        assert_eq!(crates.len(), 11);
        assert!(crates.contains(&TreeCrate {
            name: "tokio".into(),
            version: "1.47.1".into()
        }));
        assert!(crates.iter().all(|c| !c.name.starts_with('[')));
        assert!(unwanted_in(&crates).is_empty());
        assert_eq!(parse_tree(""), BTreeSet::new());
    }

    #[test]
    fn two_versions_of_a_crate_count_twice() {
        let crates = parse_tree("rand v0.8.5\nrand v0.9.1\nrand v0.9.1 (*)\n");
        assert_eq!(crates.len(), 2);
    }

    #[test]
    fn finds_unwanted_crates() {
        let crates = parse_tree(
            "reqwest v0.13.0\naws-lc-rs v1.13.0\naws-lc-sys v0.29.0\ncmake v0.1.54\nopenssl-sys v0.9.109\n",
        );
        assert_eq!(
            unwanted_in(&crates),
            vec!["aws-lc-rs", "aws-lc-sys", "cmake", "openssl-sys"]
        );
    }

    #[test]
    fn counts_compiled_units() {
        let stderr =
            "   Compiling libc v0.2.174\n   Compiling ring v0.17.14\n    Finished `dev` profile\n";
        assert_eq!(compiled_units(stderr), 2);
    }
}
