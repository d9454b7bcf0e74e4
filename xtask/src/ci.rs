//! `cargo xtask ci`: every check CI makes, in one place.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

/// What a CI step does.
#[derive(Debug)]
enum Action {
    /// Fails unless the cargo subcommand `tool` is installed (`cargo <tool> --version`),
    /// saying how to `install` it.
    Needs {
        tool: &'static str,
        install: &'static str,
    },
    /// `cargo` with these arguments.
    Cargo(&'static [&'static str]),
    /// `cargo` with these arguments and rustdoc's warnings denied (`RUSTDOCFLAGS=-D warnings`).
    Rustdoc(&'static [&'static str]),
    /// `cargo xtask codegen --check`, in this process.
    CodegenCheck,
}

/// cargo-deny's advisories check, run offline when a local advisory database exists.
const ADVISORIES: &[&str] = &[
    "deny",
    "--offline",
    "--locked",
    "--log-level",
    "warn",
    "check",
    "advisories",
];

/// `cargo clippy -D warnings` of one package, all targets, without its default features and
/// with the `--features` given after it, if any: `clippy_feature_set!("phone-verify",
/// "--features", "router")`.
macro_rules! clippy_feature_set {
    ($package:literal $(, $features:literal)*) => {
        Action::Cargo(&[
            "clippy",
            "--locked",
            "--package",
            $package,
            "--no-default-features",
            $($features,)*
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
    };
}

/// CI's steps, in order, with their actions: fmt, clippy, clippy of each crate with optional
/// features in the feature sets applications build (none; the guard's `redis` alone; the
/// facade's providers, `router` and `guard` one at a time), the fuzz crate's fmt and check,
/// the tests (nextest; the guard's TLS tests again without `redis-tls`; doc tests), rustdoc,
/// the codegen freshness check and cargo-deny (bans, licenses, sources). The advisories ([`ADVISORIES`]) follow when a local advisory
/// database exists. Every cargo command that builds, tests or lints the code, or reads its
/// dependency graph, runs `--locked`: a `Cargo.lock` out of step with the manifests fails CI
/// instead of being rewritten.
fn steps() -> Vec<(&'static str, Vec<Action>)> {
    use Action::{Cargo, CodegenCheck, Needs, Rustdoc};
    vec![
        ("fmt", vec![Cargo(&["fmt", "--all", "--", "--check"])]),
        (
            "clippy",
            vec![Cargo(&[
                "clippy",
                "--locked",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ])],
        ),
        // The step above builds every crate with all its features on, which hides code that
        // is clean only with a feature on: an import used only under a feature's `cfg` (the
        // guard's `ExposeSecret`, used only by its Redis store) is unused, and denied, in an
        // application that leaves that feature off. One package at a time, so that no other
        // package's dependencies turn its features on; targets whose `required-features` are
        // off are skipped.
        (
            "clippy (feature sets)",
            vec![
                clippy_feature_set!("phone-verify-core"),
                clippy_feature_set!("phone-verify-guard"),
                clippy_feature_set!("phone-verify-guard", "--features", "redis"),
                clippy_feature_set!("phone-verify-router"),
                clippy_feature_set!("phone-verify-testkit"),
                clippy_feature_set!("phone-verify"),
                clippy_feature_set!("phone-verify", "--features", "verifykit"),
                clippy_feature_set!("phone-verify", "--features", "verifik"),
                clippy_feature_set!("phone-verify", "--features", "verigator"),
                clippy_feature_set!("phone-verify", "--features", "twilio"),
                clippy_feature_set!("phone-verify", "--features", "router"),
                clippy_feature_set!("phone-verify", "--features", "guard"),
            ],
        ),
        // `fuzz/` is a workspace of its own, which the other steps never see: formatted and
        // compiled here, on this toolchain (libfuzzer-sys's build script needs a C++
        // compiler), so a change to a crate's `fuzzing` module cannot break `cargo xtask fuzz`
        // unnoticed.
        (
            "fuzz crate (fmt, check)",
            vec![
                Cargo(&["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]),
                Cargo(&[
                    "check",
                    "--locked",
                    "--manifest-path",
                    "fuzz/Cargo.toml",
                    "--bins",
                ]),
            ],
        ),
        (
            "test",
            vec![
                Needs {
                    tool: "nextest",
                    install: "cargo install cargo-nextest --locked",
                },
                // Each test in its own process, killed after five minutes
                // (`.config/nextest.toml`), so a hang fails the run with the test's name
                // instead of stalling it.
                Cargo(&[
                    "nextest",
                    "run",
                    "--locked",
                    "--workspace",
                    "--all-features",
                ]),
                // The tests of code compiled only without a feature (the guard refusing TLS
                // settings and URLs without `redis-tls`), which the run above never builds.
                Cargo(&[
                    "nextest",
                    "run",
                    "--locked",
                    "--package",
                    "phone-verify-guard",
                    "--no-default-features",
                    "--features",
                    "redis",
                    "-E",
                    "test(/tls|configuration_and_credentials/)",
                ]),
                // nextest does not run doc tests.
                Cargo(&["test", "--locked", "--workspace", "--all-features", "--doc"]),
            ],
        ),
        (
            "doc",
            vec![Rustdoc(&[
                "doc",
                "--locked",
                "--workspace",
                "--no-deps",
                "--all-features",
            ])],
        ),
        ("codegen --check", vec![CodegenCheck]),
        (
            "cargo deny",
            vec![
                Needs {
                    tool: "deny",
                    install: "cargo install cargo-deny --locked",
                },
                Cargo(&[
                    "deny",
                    "--locked",
                    "--log-level",
                    "warn",
                    "check",
                    "bans",
                    "licenses",
                    "sources",
                ]),
            ],
        ),
    ]
}

/// Runs every step of [`steps`], then cargo-deny's advisories when a local advisory database
/// exists.
pub(crate) fn run(root: &Path) -> Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(root);
    for (name, actions) in steps() {
        step(name, || {
            for action in &actions {
                perform(&sh, root, action)?;
            }
            Ok(())
        })?;
    }
    let root_db = advisory_dbs_root();
    match root_db.as_deref().and_then(find_advisory_db) {
        Some(db) => step("cargo deny advisories (offline)", || {
            println!("advisory database: {}", db.display());
            Ok(cmd!(sh, "cargo {ADVISORIES...}").run()?)
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

/// Performs one action of a step, in `root`.
fn perform(sh: &Shell, root: &Path, action: &Action) -> Result<()> {
    match action {
        Action::Needs { tool, install } => cmd!(sh, "cargo {tool} --version")
            .quiet()
            .ignore_stdout()
            .run()
            .with_context(|| format!("cargo-{tool} is not installed: `{install}`"))?,
        Action::Cargo(args) => {
            let args = args.iter();
            cmd!(sh, "cargo {args...}").run()?;
        }
        Action::Rustdoc(args) => {
            let args = args.iter();
            cmd!(sh, "cargo {args...}")
                .env("RUSTDOCFLAGS", "-D warnings")
                .run()?;
        }
        Action::CodegenCheck => crate::codegen::run(root, true)?,
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

    /// The cargo subcommands that build, test or lint the code, or read its dependency graph:
    /// each runs `--locked`, so that a `Cargo.lock` out of step with the manifests fails CI
    /// instead of being rewritten (and then checked as rewritten).
    const RESOLVING: &[&str] = &["build", "check", "clippy", "test", "nextest", "doc", "deny"];

    /// Every `cargo` command line CI runs, with the advisories'.
    fn cargo_commands() -> Vec<&'static [&'static str]> {
        let mut commands: Vec<&'static [&'static str]> = steps()
            .into_iter()
            .flat_map(|(_, actions)| actions)
            .filter_map(|action| match action {
                Action::Cargo(args) | Action::Rustdoc(args) => Some(args),
                Action::Needs { .. } | Action::CodegenCheck => None,
            })
            .collect();
        commands.push(ADVISORIES);
        commands
    }

    #[test]
    fn every_build_test_and_lint_runs_locked() {
        let mut resolving = std::collections::BTreeSet::new();
        for args in cargo_commands() {
            let subcommand = args[0];
            if RESOLVING.contains(&subcommand) {
                assert!(args.contains(&"--locked"), "`cargo {}`", args.join(" "));
                resolving.insert(subcommand);
            } else {
                assert_eq!(
                    subcommand,
                    "fmt",
                    "`cargo {}` neither formats nor is known to resolve",
                    args.join(" ")
                );
            }
        }
        assert_eq!(
            resolving.into_iter().collect::<Vec<_>>(),
            ["check", "clippy", "deny", "doc", "nextest", "test"]
        );
    }

    /// The feature sets the "clippy (feature sets)" step lints: package and `--features`, if any.
    fn linted_feature_sets() -> Vec<(&'static str, Option<&'static str>)> {
        cargo_commands()
            .into_iter()
            .filter(|args| args[0] == "clippy" && args.contains(&"--no-default-features"))
            .map(|args| {
                let after = |flag: &str| {
                    let at = args.iter().position(|arg| *arg == flag)?;
                    args.get(at + 1).copied()
                };
                (after("--package").unwrap(), after("--features"))
            })
            .collect()
    }

    /// Each package under `crates/` with optional features (a `[features]` table with more than
    /// `default`), by name, with its features.
    fn packages_with_features() -> Vec<(String, Vec<String>)> {
        let mut packages = Vec::new();
        for entry in std::fs::read_dir(crate::project_root().join("crates")).unwrap() {
            let Ok(text) = std::fs::read_to_string(entry.unwrap().path().join("Cargo.toml")) else {
                continue;
            };
            let manifest: toml::Value = toml::from_str(&text).unwrap();
            let features: Vec<String> = manifest
                .get("features")
                .and_then(toml::Value::as_table)
                .map(|table| table.keys().filter(|f| *f != "default").cloned().collect())
                .unwrap_or_default();
            if !features.is_empty() {
                let name = manifest["package"]["name"].as_str().unwrap().to_owned();
                packages.push((name, features));
            }
        }
        packages.sort();
        packages
    }

    #[test]
    fn every_package_with_features_is_linted_without_them() {
        let sets = linted_feature_sets();
        let packages = packages_with_features();
        assert!(
            packages.iter().any(|(name, _)| name == "phone-verify"),
            "{packages:?}"
        );
        for (name, _) in &packages {
            assert!(
                sets.contains(&(name.as_str(), None)),
                "{name} has optional features and is not linted without them: {sets:?}"
            );
        }
        for (package, features) in sets {
            let Some((_, known)) = packages.iter().find(|(name, _)| name == package) else {
                panic!("{package} is linted without default features but has none");
            };
            for feature in features.into_iter().flat_map(|list| list.split(',')) {
                assert!(
                    known.iter().any(|known| known == feature),
                    "{package} has no feature {feature}: {known:?}"
                );
            }
        }
    }

    #[test]
    fn the_ci_script_starts_the_checks_locked() {
        let script = std::fs::read_to_string(crate::project_root().join(".ci/run")).unwrap();
        let cargo_lines: Vec<&str> = script
            .lines()
            .map(str::trim)
            .filter(|line| !line.starts_with('#') && !line.starts_with("echo "))
            .filter(|line| line.contains("cargo ") && !line.contains("--version"))
            .collect();
        assert!(
            cargo_lines.iter().any(|line| line.contains("xtask ci")),
            "{cargo_lines:?}"
        );
        // Building xtask without `--locked` would rewrite a stale `Cargo.lock` before any
        // check ran.
        for line in cargo_lines {
            let locked = line.contains("cargo --locked xtask ci")
                || (line.starts_with("cargo install ") && line.ends_with(" --locked"));
            assert!(locked, "{line}");
        }
    }

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
