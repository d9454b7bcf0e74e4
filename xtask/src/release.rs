//! `cargo xtask release <version> [--execute] [--publish]`.
//!
//! A dry run (the default) plans the lock-step version bump and the changelog moves, runs every
//! CI gate, and packages every crate with the new versions in a temporary git worktree, so a
//! broken manifest is found before anything is uploaded. It leaves the tree unchanged.
//! `--execute` then writes the bump, commits and tags `v<version>`; `--publish` (with a registry
//! token, and crates.io reachable) uploads in dependency order with `cargo publish --workspace`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use xshell::{Shell, cmd};

use crate::{changelog, version};

/// The files a release rewrites.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) old: String,
    pub(crate) internal: Vec<String>,
    pub(crate) files: Vec<(PathBuf, String)>,
}

pub(crate) fn run(root: &Path, new: &str, execute: bool, publish: bool) -> Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(root);
    let status = cmd!(sh, "git status --porcelain").read()?;
    ensure!(
        status.trim().is_empty(),
        "the working tree is not clean; commit or stash first:\n{status}"
    );
    if publish {
        ensure!(execute, "--publish needs --execute");
        ensure!(
            std::env::var_os("CARGO_REGISTRY_TOKEN").is_some(),
            "--publish needs a registry token in CARGO_REGISTRY_TOKEN; nothing was changed"
        );
        cmd!(sh, "cargo search phone-verify-core --limit 1").quiet().ignore_stdout().run().context(
            "crates.io cannot be reached, so nothing can be uploaded; nothing was changed. Retry with network",
        )?;
    }

    let plan = plan(root, new, &today())?;
    println!(
        "release {} -> {new} (internal dependencies: {}):",
        plan.old,
        plan.internal.join(", ")
    );
    for (path, _) in &plan.files {
        println!("  rewrite {}", path.display());
    }
    crate::ci::run(root)?;
    package_in_worktree(&sh, root, &plan)?;

    if !execute {
        let after = cmd!(sh, "git status --porcelain").read()?;
        ensure!(
            after.trim().is_empty(),
            "the dry run changed the tree:\n{after}"
        );
        println!(
            "dry run complete: nothing was changed. Re-run with --execute to commit and tag v{new}."
        );
        return Ok(());
    }
    for (path, contents) in &plan.files {
        fs::write(root.join(path), contents)?;
    }
    cmd!(sh, "cargo update --workspace --offline").run()?;
    let message = format!("release v{new}");
    cmd!(sh, "git commit --all --message {message}").run()?;
    let tag = format!("v{new}");
    cmd!(sh, "git tag --annotate {tag} --message {message}").run()?;
    println!("committed and tagged {tag}");
    if publish {
        cmd!(sh, "cargo publish --workspace --exclude xtask").run()?;
        println!("published {new}");
    } else {
        println!("not uploaded (add --publish to upload)");
    }
    Ok(())
}

/// Computes the bumped manifest and released changelogs without writing anything.
pub(crate) fn plan(root: &Path, new: &str, date: &str) -> Result<Plan> {
    let manifest = fs::read_to_string(root.join("Cargo.toml"))?;
    let bumped = version::bump_manifest(&manifest, new)?;
    let mut files = vec![(PathBuf::from("Cargo.toml"), bumped.manifest)];
    let mut problems = Vec::new();
    for dir in publishable_crates(root)? {
        let path = dir.join("CHANGELOG.md");
        let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        match fs::read_to_string(&path) {
            Ok(text) => match changelog::release(&text, new, date) {
                Ok(released) => files.push((relative, released)),
                Err(e) => problems.push(format!("{}: {e}", relative.display())),
            },
            Err(_) => problems.push(format!("{}: missing", relative.display())),
        }
    }
    if !problems.is_empty() {
        bail!("refusing to release {new}:\n  {}", problems.join("\n  "));
    }
    Ok(Plan {
        old: bumped.old,
        internal: bumped.internal,
        files,
    })
}

fn publishable_crates(root: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in fs::read_dir(root.join("crates"))? {
        let dir = entry?.path();
        let Ok(manifest) = fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        if !manifest
            .lines()
            .any(|l| l.trim().replace(' ', "") == "publish=false")
        {
            dirs.push(dir);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Packages every crate with the planned versions in a throw-away worktree.
fn package_in_worktree(sh: &Shell, root: &Path, plan: &Plan) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("phone-verify-release-{}", std::process::id()));
    cmd!(sh, "git worktree add --detach {dir} HEAD")
        .quiet()
        .run()?;
    let result = (|| -> Result<()> {
        for (path, contents) in &plan.files {
            fs::write(dir.join(path), contents)?;
        }
        let inner = Shell::new()?;
        inner.change_dir(&dir);
        let target = root.join("target/release-check");
        println!("== cargo package (new versions, temporary worktree)");
        cmd!(
            inner,
            "cargo package --workspace --exclude xtask --no-verify --allow-dirty"
        )
        .env("CARGO_TARGET_DIR", target)
        .run()?;
        Ok(())
    })();
    cmd!(sh, "git worktree remove --force {dir}")
        .quiet()
        .run()?;
    result
}

/// Today's UTC date as `YYYY-MM-DD`.
fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    civil_from_days(i64::try_from(days).unwrap_or(0))
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), "1970-01-01");
        assert_eq!(civil_from_days(20_414), "2025-11-22");
        assert_eq!(civil_from_days(11_016), "2000-02-29");
    }

    fn fixture(name: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("xtask-release-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for krate in ["core", "cli"] {
            fs::create_dir_all(root.join("crates").join(krate)).unwrap();
            fs::write(
                root.join("crates").join(krate).join("Cargo.toml"),
                "[package]\nname = \"x\"\n",
            )
            .unwrap();
            fs::write(
                root.join("crates").join(krate).join("CHANGELOG.md"),
                "# Changelog\n\n## [Unreleased]\n\n- Something.\n",
            )
            .unwrap();
        }
        fs::create_dir_all(root.join("crates/internal")).unwrap();
        fs::write(
            root.join("crates/internal/Cargo.toml"),
            "[package]\npublish = false\n",
        )
        .unwrap();
        fs::write(
            root.join("Cargo.toml"),
            "[workspace.package]\nversion = \"0.1.0\"\n\n[workspace.dependencies]\nx = { path = \"crates/core\", version = \"0.1.0\" }\n",
        )
        .unwrap();
        root
    }

    #[test]
    fn plans_a_release_without_writing() {
        let root = fixture("plan");
        let before = fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let plan = plan(&root, "0.2.0", "2026-11-22").unwrap();
        assert_eq!(plan.old, "0.1.0");
        assert_eq!(plan.internal, ["x"]);
        let paths: Vec<_> = plan
            .files
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "Cargo.toml",
                "crates/cli/CHANGELOG.md",
                "crates/core/CHANGELOG.md"
            ]
        );
        assert!(
            plan.files[1]
                .1
                .contains("## [0.2.0] - 2026-11-22\n\n- Something.")
        );
        assert_eq!(fs::read_to_string(root.join("Cargo.toml")).unwrap(), before);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn refuses_an_empty_unreleased_section() {
        let root = fixture("empty");
        fs::write(
            root.join("crates/cli/CHANGELOG.md"),
            "# Changelog\n\n## [Unreleased]\n\n",
        )
        .unwrap();
        let err = plan(&root, "0.2.0", "2026-11-22").unwrap_err().to_string();
        assert!(
            err.contains("crates/cli/CHANGELOG.md") && err.contains("empty"),
            "{err}"
        );
        fs::remove_dir_all(root).unwrap();
    }
}
