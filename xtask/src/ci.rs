//! `cargo xtask ci`: every check CI makes, in one place.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

/// Runs fmt, clippy, the fuzz crate's fmt and check, the tests (nextest, then doc tests),
/// rustdoc, the codegen freshness check and cargo-deny (bans, licenses, sources; advisories too
/// when a local advisory database exists).
pub(crate) fn run(root: &Path) -> Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(root);
    step("fmt", || Ok(cmd!(sh, "cargo fmt --all -- --check").run()?))?;
    step("clippy", || {
        Ok(cmd!(
            sh,
            "cargo clippy --workspace --all-targets --all-features -- -D warnings"
        )
        .run()?)
    })?;
    // `fuzz/` is a workspace of its own, which the steps above never see: formatted and
    // compiled here, on this toolchain (libfuzzer-sys's build script needs a C++ compiler), so
    // a change to a crate's `fuzzing` module cannot break `cargo xtask fuzz` unnoticed;
    // `--locked`, so that a lockfile out of step fails here instead of being rewritten.
    step("fuzz crate (fmt, check)", || {
        cmd!(sh, "cargo fmt --manifest-path fuzz/Cargo.toml -- --check").run()?;
        Ok(cmd!(
            sh,
            "cargo check --locked --manifest-path fuzz/Cargo.toml --bins"
        )
        .run()?)
    })?;
    step("test", || {
        cmd!(sh, "cargo nextest --version")
            .quiet()
            .ignore_stdout()
            .run()
            .context("cargo-nextest is not installed: `cargo install cargo-nextest --locked`")?;
        // Each test in its own process, killed after five minutes (`.config/nextest.toml`), so
        // a hang fails the run with the test's name instead of stalling it.
        cmd!(sh, "cargo nextest run --workspace --all-features").run()?;
        // nextest does not run doc tests.
        Ok(cmd!(sh, "cargo test --workspace --all-features --doc").run()?)
    })?;
    step("doc", || {
        Ok(cmd!(sh, "cargo doc --workspace --no-deps --all-features")
            .env("RUSTDOCFLAGS", "-D warnings")
            .run()?)
    })?;
    step("codegen --check", || crate::codegen::run(root, true))?;
    step("cargo deny", || {
        cmd!(sh, "cargo deny --version")
            .quiet()
            .ignore_stdout()
            .run()
            .context("cargo-deny is not installed: `cargo install cargo-deny --locked`")?;
        Ok(cmd!(
            sh,
            "cargo deny --log-level warn check bans licenses sources"
        )
        .run()?)
    })?;
    let root_db = advisory_dbs_root();
    match root_db.as_deref().and_then(find_advisory_db) {
        Some(db) => step("cargo deny advisories (offline)", || {
            println!("advisory database: {}", db.display());
            Ok(cmd!(sh, "cargo deny --offline --log-level warn check advisories").run()?)
        })?,
        None => println!(
            "note: advisories NOT checked: no advisory database under {} (cargo-deny's default \
             db-path) and CI has no network to fetch one; run `cargo deny fetch` where the \
             network is available and `cargo xtask ci` then checks advisories offline",
            root_db.map_or_else(
                || "$CARGO_HOME/advisory-dbs".to_owned(),
                |p| p.display().to_string()
            )
        ),
    }
    Ok(())
}

/// cargo-deny's default `db-path`: `$CARGO_HOME/advisory-dbs`, or `~/.cargo/advisory-dbs`.
fn advisory_dbs_root() -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))?;
    Some(cargo_home.join("advisory-dbs"))
}

/// A fetched advisory database under `root`: a directory (`advisory-db-<hash>`) holding the
/// advisories' `crates` directory.
fn find_advisory_db(root: &Path) -> Option<PathBuf> {
    let mut dbs: Vec<PathBuf> = std::fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("crates").is_dir())
        .collect();
    dbs.sort();
    dbs.into_iter().next()
}

fn step(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("== {name}");
    f().with_context(|| format!("`{name}` failed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advisory_database_is_a_directory_with_crates() {
        let root = std::env::temp_dir().join(format!("xtask-advisory-dbs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(find_advisory_db(&root), None, "no root");
        std::fs::create_dir_all(root.join("advisory-db-empty")).unwrap();
        assert_eq!(
            find_advisory_db(&root),
            None,
            "an empty clone is not a database"
        );
        let db = root.join("advisory-db-3157b0e258782691");
        std::fs::create_dir_all(db.join("crates")).unwrap();
        assert_eq!(find_advisory_db(&root), Some(db));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
