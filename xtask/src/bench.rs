//! `cargo xtask bench`: builds the benchmark binary in release mode and runs it.
//!
//! ```text
//! cargo xtask bench                 the full run; writes the results into docs/benchmarks.md
//! cargo xtask bench --skip-build    no cold builds (quick rerun); prints only, unless --write
//! cargo xtask bench -- <options>    anything after `--` goes to the binary (see its --help);
//!                                   a partial run, which prints only, unless --write
//! ```
//!
//! A partial run written replaces the whole results section: the comparison's targets then
//! read missed, naming the rows it did not measure. A flag given after `--` as well as before
//! (`--skip-build`), or one this task sets (`--root`, `--command`, `--write`), reaches the
//! binary once, as given after `--`.

use std::path::Path;

use anyhow::Result;
use xshell::{Shell, cmd};

/// The results file, relative to the workspace root.
const RESULTS: &str = "docs/benchmarks.md";

/// What `cargo xtask bench` was asked: its own flags and the options passed through.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Options {
    /// Skip the cold builds of the provider crates.
    pub(crate) skip_build: bool,
    /// Write the results file even with `--skip-build` or options for the binary.
    pub(crate) write: bool,
    /// Never write the results file.
    pub(crate) no_write: bool,
    /// Options for the benchmark binary.
    pub(crate) passthrough: Vec<String>,
}

impl Options {
    /// Reads the arguments after `bench`.
    pub(crate) fn parse(args: &[String]) -> Self {
        let mut options = Self::default();
        let mut rest = args.iter();
        for arg in rest.by_ref() {
            match arg.as_str() {
                "--skip-build" => options.skip_build = true,
                "--write" => options.write = true,
                "--no-write" => options.no_write = true,
                "--" => break,
                other => options.passthrough.push(other.to_owned()),
            }
        }
        options.passthrough.extend(rest.cloned());
        options
    }

    /// Whether this run writes the results file: full runs do; quick reruns and runs with
    /// options for the binary (a subset of the phases, providers or rounds) only when asked.
    pub(crate) fn writes(&self) -> bool {
        self.why_not_written().is_none()
    }

    /// Why this run leaves the results file alone; `None` when it writes it.
    pub(crate) fn why_not_written(&self) -> Option<&'static str> {
        if self.no_write {
            Some("--no-write")
        } else if self.passes("--write") {
            Some("the --write after -- sends the results to the file it names")
        } else if self.write {
            None
        } else if self.skip_build {
            Some("--skip-build leaves out the cold builds; add --write to write the results anyway")
        } else if !self.passthrough.is_empty() {
            Some(
                "options for the benchmark binary make it a partial run; add --write to replace \
                 the results with it (the comparison's targets then read missed, naming the \
                 rows it did not measure)",
            )
        } else {
            None
        }
    }

    /// Whether the options for the binary hold `flag`, as `--flag` or `--flag=value`.
    fn passes(&self, flag: &str) -> bool {
        self.passthrough.iter().any(|arg| {
            arg.strip_prefix(flag)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('='))
        })
    }

    /// The benchmark binary's arguments for a run against the workspace at `root`: the
    /// workspace, the command line, `--skip-build` and where to write, then the options after
    /// `--`. A flag those options already hold is not added again (the binary's parser refuses
    /// a flag given twice): theirs is kept.
    pub(crate) fn bench_args(&self, root: &Path) -> Vec<String> {
        let mut bench_args = Vec::new();
        if !self.passes("--root") {
            bench_args.extend(["--root".to_owned(), root.display().to_string()]);
        }
        if !self.passes("--command") {
            bench_args.extend(["--command".to_owned(), self.command_line()]);
        }
        if self.skip_build && !self.passes("--skip-build") {
            bench_args.push("--skip-build".to_owned());
        }
        // `writes` is false when the options hold `--write`.
        if self.writes() {
            bench_args.push("--write".to_owned());
            bench_args.push(root.join(RESULTS).display().to_string());
        }
        bench_args.extend(self.passthrough.iter().cloned());
        bench_args
    }

    /// The command line to record in the results.
    pub(crate) fn command_line(&self) -> String {
        let mut line = String::from("cargo xtask bench");
        if self.skip_build {
            line.push_str(" --skip-build");
        }
        if !self.passthrough.is_empty() {
            line.push_str(" -- ");
            line.push_str(&self.passthrough.join(" "));
        }
        line
    }
}

/// Builds `phone-verify-bench` in release mode and runs it against the workspace at `root`.
pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let options = Options::parse(args);
    let sh = Shell::new()?;
    sh.change_dir(root);
    let bench_args = options.bench_args(root);
    cmd!(
        sh,
        "cargo run --release -p phone-verify-bench -- {bench_args...}"
    )
    .run()?;
    if let Some(why) = options.why_not_written() {
        eprintln!("{RESULTS} was not written: {why}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn full_runs_write_quick_ones_print() {
        let full = Options::parse(&[]);
        assert!(full.writes());
        assert_eq!(full.command_line(), "cargo xtask bench");
        let quick = Options::parse(&args(&["--skip-build"]));
        assert!(quick.skip_build && !quick.writes());
        assert!(Options::parse(&args(&["--skip-build", "--write"])).writes());
        assert!(!Options::parse(&args(&["--no-write"])).writes());
    }

    #[test]
    fn passes_the_rest_through() {
        let o = Options::parse(&args(&[
            "--skip-build",
            "--",
            "--rounds",
            "5",
            "--skip-build",
        ]));
        assert!(o.skip_build);
        assert_eq!(o.passthrough, args(&["--rounds", "5", "--skip-build"]));
        assert_eq!(
            o.command_line(),
            "cargo xtask bench --skip-build -- --rounds 5 --skip-build"
        );
        // The binary gets `--skip-build` once: its parser refuses it twice.
        let bench_args = o.bench_args(Path::new("/work/repo"));
        assert_eq!(
            bench_args.iter().filter(|a| *a == "--skip-build").count(),
            1,
            "{bench_args:?}"
        );
        assert_eq!(bench_args[..2], args(&["--root", "/work/repo"]));
        // A `--root`, `--command` or `--write` after `--` is the one the binary gets.
        let theirs = Options::parse(&args(&[
            "--write",
            "--",
            "--root=/elsewhere",
            "--command",
            "mine",
            "--write",
            "other.md",
        ]));
        assert!(!theirs.writes());
        assert!(
            theirs
                .why_not_written()
                .unwrap()
                .contains("--write after --")
        );
        assert_eq!(
            theirs.bench_args(Path::new("/work/repo")),
            args(&[
                "--root=/elsewhere",
                "--command",
                "mine",
                "--write",
                "other.md"
            ])
        );
        // A flag that only starts with the same letters is another flag.
        assert!(!Options::parse(&args(&["--", "--rooted"])).passes("--root"));
        let loose = Options::parse(&args(&["--providers", "verifykit"]));
        assert_eq!(loose.passthrough, args(&["--providers", "verifykit"]));
    }

    /// The flags of `bench_args` (`--name`, or the name of `--name=value`) given more than once:
    /// the benchmark's parser (clap) refuses each of them.
    fn repeated_flags(bench_args: &[String]) -> Vec<String> {
        let mut seen = Vec::new();
        let mut repeated = Vec::new();
        for arg in bench_args.iter().filter(|arg| arg.starts_with("--")) {
            let flag = arg.split('=').next().unwrap_or(arg).to_owned();
            if seen.contains(&flag) {
                repeated.push(flag);
            } else {
                seen.push(flag);
            }
        }
        repeated
    }

    #[test]
    fn no_flag_reaches_the_binary_twice() {
        let root = Path::new("/work/repo");
        for given in [
            &["--skip-build", "--", "--rounds", "5", "--skip-build"][..],
            &[
                "--skip-build",
                "--write",
                "--",
                "--skip-build",
                "--phases",
                "router",
            ],
            &["--", "--root", "/elsewhere"],
            &["--", "--root=/elsewhere"],
            &["--", "--command", "cargo xtask bench (again)"],
            &["--write", "--", "--write", "other.md"],
            &["--write", "--", "--write=other.md"],
            &[],
            &["--skip-build"],
        ] {
            let bench_args = Options::parse(&args(given)).bench_args(root);
            assert_eq!(
                repeated_flags(&bench_args),
                Vec::<String>::new(),
                "{given:?} → {bench_args:?}"
            );
        }
    }

    #[test]
    fn partial_runs_print_unless_asked_to_write() {
        for partial in [
            &["--", "--phases", "router"][..],
            &["--", "--skip-build"],
            &["--", "--rounds", "1"],
            &["--providers", "verifykit"],
        ] {
            assert!(!Options::parse(&args(partial)).writes(), "{partial:?}");
        }
        let partial = Options::parse(&args(&["--", "--phases", "router"]));
        assert!(partial.why_not_written().unwrap().contains("partial run"));
        assert!(Options::parse(&args(&["--write", "--", "--phases", "router"])).writes());
        assert!(!Options::parse(&args(&["--write", "--no-write", "--", "--help"])).writes());
    }
}
