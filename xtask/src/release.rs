//! `cargo xtask release <version> [--execute] [--publish]`.
//!
//! A dry run (the default) plans the lock-step version bump, the changelog moves and the install
//! snippets' `MAJOR.MINOR` requirements in the READMEs, refuses a version whose tag exists, runs
//! every CI gate, and packages every crate with the new versions in a temporary git worktree, so
//! a broken manifest is found before anything is uploaded. It leaves the tree unchanged.
//! `--execute` then writes the plan, updates `Cargo.lock`, commits and tags `v<version>`,
//! putting every file back if the update or the commit fails; `--publish` (with a registry
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
    let tag = format!("v{new}");
    let message = format!("release {tag}");
    commit(&sh, root, &plan, &message)?;
    cmd!(sh, "git tag --annotate {tag} --message {message}")
        .run()
        .with_context(|| {
            format!(
                "committed `{message}` but could not tag it: tag it with `git tag --annotate \
                 {tag}`, or undo the commit with `git reset --hard HEAD~1`"
            )
        })?;
    println!("committed and tagged {tag}");
    if publish {
        cmd!(sh, "cargo publish --workspace --exclude xtask").run()?;
        println!("published {new}");
    } else {
        println!("not uploaded (add --publish to upload)");
    }
    Ok(())
}

/// The fuzz crate's manifest: a workspace of its own, with its own lockfile.
const FUZZ_MANIFEST: &str = "fuzz/Cargo.toml";

/// Writes the planned files, updates `Cargo.lock` (and the fuzz crate's, which records the
/// path crates' versions too) and commits them all; when any step fails, puts every file back
/// as it was, so that the tree is clean for a rerun.
fn commit(sh: &Shell, root: &Path, plan: &Plan, message: &str) -> Result<()> {
    let locks = lockfiles(root);
    let saved: Vec<(&PathBuf, Option<Vec<u8>>)> = plan
        .files
        .iter()
        .map(|(path, _)| path)
        .chain(&locks)
        .map(|path| (path, fs::read(root.join(path)).ok()))
        .collect();
    let result = (|| -> Result<()> {
        for (path, contents) in &plan.files {
            fs::write(root.join(path), contents)?;
        }
        cmd!(sh, "cargo update --workspace --offline").run()?;
        if root.join(FUZZ_MANIFEST).exists() {
            cmd!(
                sh,
                "cargo update --workspace --offline --manifest-path {FUZZ_MANIFEST}"
            )
            .run()?;
        }
        cmd!(sh, "git commit --all --message {message}").run()?;
        Ok(())
    })();
    if let Err(error) = result {
        for (path, contents) in saved {
            let path = root.join(path);
            match contents {
                Some(contents) => fs::write(&path, contents),
                None if path.exists() => fs::remove_file(&path),
                None => Ok(()),
            }
            .with_context(|| format!("{error:#}; and {} could not be restored", path.display()))?;
        }
        return Err(
            error.context("nothing was committed; every file the release rewrote is restored")
        );
    }
    Ok(())
}

/// The lockfiles a release updates: the workspace's, and the fuzz crate's when there is one.
fn lockfiles(root: &Path) -> Vec<PathBuf> {
    let mut locks = vec![PathBuf::from("Cargo.lock")];
    if root.join(FUZZ_MANIFEST).exists() {
        locks.push(PathBuf::from("fuzz/Cargo.lock"));
    }
    locks
}

/// Computes the bumped manifest, released changelogs and rewritten install snippets without
/// writing anything; refuses a version whose tag `v<new>` already exists.
pub(crate) fn plan(root: &Path, new: &str, date: &str) -> Result<Plan> {
    ensure!(
        !tag_exists(root, &format!("v{new}"))?,
        "the tag v{new} already exists: release another version, or delete the tag with \
         `git tag --delete v{new}`; nothing was changed"
    );
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
    if let Some(requirement) = version::Version::parse(new)?.requirement() {
        for path in readmes(root)? {
            let text = fs::read_to_string(root.join(&path))?;
            if let Some(rewritten) = version::rewrite_requirements(&text, &requirement) {
                files.push((path, rewritten));
            }
        }
    }
    Ok(Plan {
        old: bumped.old,
        internal: bumped.internal,
        files,
    })
}

/// Whether the tag `tag` exists in the repository at `root`.
fn tag_exists(root: &Path, tag: &str) -> Result<bool> {
    let sh = Shell::new()?;
    sh.change_dir(root);
    let reference = format!("refs/tags/{tag}");
    let output = cmd!(sh, "git rev-parse --quiet --verify {reference}")
        .quiet()
        .ignore_status()
        .output()?;
    match output.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => bail!(
            "git could not look up the tag {tag}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    }
}

/// The READMEs whose install snippets a release updates: the repository's and each crate's,
/// relative to `root`.
fn readmes(root: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = vec![PathBuf::from("README.md")];
    let mut crates = Vec::new();
    for entry in fs::read_dir(root.join("crates"))? {
        crates.push(
            Path::new("crates")
                .join(entry?.file_name())
                .join("README.md"),
        );
    }
    crates.sort();
    paths.extend(crates);
    paths.retain(|path| root.join(path).is_file());
    Ok(paths)
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
        fs::write(root.join("README.md"), README).unwrap();
        fs::write(root.join("crates/core/README.md"), "No snippet.\n").unwrap();
        git(&root, &["init", "--quiet"]);
        git(&root, &["add", "--all"]);
        git(&root, &["commit", "--quiet", "--message", "fixture"]);
        root
    }

    /// The fixture's README, with an install snippet.
    const README: &str = "```toml\nphone-verify = { version = \"0.1\", features = [\"x\"] }\n```\n";

    fn git(root: &Path, args: &[&str]) {
        let status = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=xtask",
                "-c",
                "user.email=xtask@example.invalid",
            ])
            .args(args)
            .current_dir(root)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
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
                "crates/core/CHANGELOG.md",
                "README.md"
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
    fn plans_the_install_snippets_of_a_minor_release_only() {
        let root = fixture("snippets");
        let plan = plan(&root, "0.2.0", "2026-11-22").unwrap();
        let (path, readme) = plan.files.last().unwrap();
        assert_eq!(path, Path::new("README.md"));
        assert_eq!(readme, &README.replace("\"0.1\"", "\"0.2\""));
        for unchanged in ["0.1.1", "0.2.0-rc.1"] {
            let plan = super::plan(&root, unchanged, "2026-11-22").unwrap();
            assert!(
                plan.files.iter().all(|(p, _)| !p.ends_with("README.md")),
                "{unchanged}"
            );
        }
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn refuses_a_version_whose_tag_exists() {
        let root = fixture("tagged");
        git(&root, &["tag", "v0.2.0"]);
        let err = plan(&root, "0.2.0", "2026-11-22").unwrap_err().to_string();
        assert!(err.contains("v0.2.0 already exists"), "{err}");
        assert!(plan(&root, "0.3.0", "2026-11-22").is_ok());
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_failed_commit_restores_every_file() {
        // The fixture is no Cargo workspace, so `cargo update` fails after the files are written.
        let root = fixture("restore");
        let plan = plan(&root, "0.2.0", "2026-11-22").unwrap();
        let sh = Shell::new().unwrap();
        sh.change_dir(&root);
        let err = commit(&sh, &root, &plan, "release v0.2.0").unwrap_err();
        assert!(format!("{err:#}").contains("restored"), "{err:#}");
        let status = std::process::Command::new("git")
            .args(["status", "--porcelain"])
            .current_dir(&root)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&status.stdout),
            "",
            "the tree is clean"
        );
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_fuzz_crates_lockfile_is_updated_and_restored_with_the_workspaces() {
        let root = fixture("fuzz-lock");
        assert_eq!(lockfiles(&root), [PathBuf::from("Cargo.lock")]);
        fs::create_dir_all(root.join("fuzz")).unwrap();
        fs::write(root.join(FUZZ_MANIFEST), "[package]\nname = \"fuzz\"\n").unwrap();
        assert_eq!(
            lockfiles(&root),
            [
                PathBuf::from("Cargo.lock"),
                PathBuf::from("fuzz/Cargo.lock")
            ]
        );
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
