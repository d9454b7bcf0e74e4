//! `cargo xtask ci`: every check CI makes, in one place.

use std::path::Path;

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

/// Runs fmt, clippy, the tests (nextest, then doc tests), rustdoc, the codegen freshness check and cargo-deny.
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
    println!(
        "note: `cargo deny check advisories` is not run here: it fetches the advisory database over the network"
    );
    Ok(())
}

fn step(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("== {name}");
    f().with_context(|| format!("`{name}` failed"))
}
