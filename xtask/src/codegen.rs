//! `cargo xtask codegen [--check]`: each provider's documented errors live in one data file,
//! `crates/<provider>/errors.toml`; from it this generates the provider's code → kind table
//! (`crates/<provider>/src/error_table.rs`) and the error table of `docs/providers/<provider>.md`.
//! `--check` rewrites nothing and fails naming every stale file.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

/// Core `ErrorKind` variants, as data files name them (snake_case) and as Rust names them.
const KINDS: &[(&str, &str)] = &[
    ("invalid_input", "InvalidInput"),
    ("unauthorized", "Unauthorized"),
    ("not_found", "NotFound"),
    ("expired", "Expired"),
    ("rate_limited", "RateLimited"),
    ("quota_exhausted", "QuotaExhausted"),
    ("blocked", "Blocked"),
    ("conflict", "Conflict"),
    ("unsupported", "Unsupported"),
    ("provider_unavailable", "ProviderUnavailable"),
    ("timeout", "Timeout"),
    ("transport", "Transport"),
    ("decode", "Decode"),
    ("maybe_sent", "MaybeSent"),
    ("provider", "Provider"),
];

/// What an error means inside a check (`check = "..."`): a core `RejectReason`, or pending.
const OUTCOMES: &[(&str, &str)] = &[
    (
        "wrong_code",
        "Rejected(phone_verify_core::RejectReason::WrongCode)",
    ),
    (
        "expired",
        "Rejected(phone_verify_core::RejectReason::Expired)",
    ),
    (
        "too_many_attempts",
        "Rejected(phone_verify_core::RejectReason::TooManyAttempts)",
    ),
    (
        "not_found",
        "Rejected(phone_verify_core::RejectReason::NotFound)",
    ),
    ("pending_while_polling", "PendingWhilePolling"),
];

const BEGIN: &str = "<!-- BEGIN GENERATED: cargo xtask codegen -->";
const END: &str = "<!-- END GENERATED -->";

/// One provider's `errors.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorFile {
    /// The provider id, e.g. `verifykit` (default: the crate's directory name).
    #[serde(default)]
    pub(crate) provider: Option<String>,
    /// The provider's display name, e.g. `VerifyKit` (default: the provider id).
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// Where the table comes from.
    #[serde(default)]
    pub(crate) source: Option<String>,
    /// The documented errors.
    #[serde(rename = "error")]
    pub(crate) errors: Vec<ErrorEntry>,
}

/// A provider code: VerifyKit's are numbers, Verifik's are strings.
#[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(untagged)]
pub(crate) enum Code {
    /// A numeric code.
    Number(u64),
    /// A string code or reason.
    Text(String),
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

/// One documented error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorEntry {
    /// The provider's code or reason string.
    pub(crate) code: Code,
    /// The HTTP status it comes with.
    pub(crate) http_status: u16,
    /// The documented message.
    pub(crate) message: String,
    /// The core `ErrorKind`, snake_case.
    pub(crate) kind: String,
    /// In a check: what the error means there (see `OUTCOMES`).
    #[serde(default)]
    pub(crate) check: Option<String>,
    /// A remark for the docs.
    #[serde(default)]
    pub(crate) note: Option<String>,
}

/// A file codegen owns, with the contents it should have.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) path: PathBuf,
    pub(crate) contents: String,
}

pub(crate) fn run(root: &Path, check: bool) -> Result<()> {
    let outputs = generate(root)?;
    let stale = stale(root, &outputs);
    if check {
        if stale.is_empty() {
            println!("codegen: {} generated files are up to date", outputs.len());
            return Ok(());
        }
        for output in &stale {
            eprintln!(
                "stale: {} (run `cargo xtask codegen` to update it)",
                output.path.display()
            );
        }
        bail!(
            "{} generated file(s) are stale: run `cargo xtask codegen`",
            stale.len()
        );
    }
    for output in &stale {
        let path = root.join(&output.path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&path, &output.contents)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("updated {}", output.path.display());
    }
    if stale.is_empty() {
        println!("codegen: nothing to update");
    }
    Ok(())
}

/// The outputs whose file is missing or differs.
pub(crate) fn stale<'a>(root: &Path, outputs: &'a [Output]) -> Vec<&'a Output> {
    outputs
        .iter()
        .filter(|o| {
            fs::read_to_string(root.join(&o.path)).ok().as_deref() != Some(o.contents.as_str())
        })
        .collect()
}

/// Everything codegen produces for the tree at `root`.
pub(crate) fn generate(root: &Path) -> Result<Vec<Output>> {
    let mut outputs = Vec::new();
    let crates = root.join("crates");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&crates)
        .with_context(|| format!("reading {}", crates.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("errors.toml").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let data_path = dir.join("errors.toml");
        let text = fs::read_to_string(&data_path)?;
        let mut file: ErrorFile =
            toml::from_str(&text).with_context(|| format!("parsing {}", data_path.display()))?;
        let dir_name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let provider = file.provider.get_or_insert(dir_name).clone();
        file.name.get_or_insert(provider);
        let relative_data = data_path
            .strip_prefix(root)
            .unwrap_or(&data_path)
            .to_path_buf();
        validate(&file).with_context(|| format!("in {}", relative_data.display()))?;
        let crate_dir = dir.strip_prefix(root).unwrap_or(&dir).to_path_buf();
        outputs.push(Output {
            path: crate_dir.join("src/error_table.rs"),
            contents: format_rust(root, &render_rust(&file, &relative_data))?,
        });
        let doc_path = PathBuf::from("docs/providers").join(format!("{}.md", provider_of(&file)));
        let current = fs::read_to_string(root.join(&doc_path)).ok();
        outputs.push(Output {
            contents: splice(
                current.as_deref(),
                name_of(&file),
                &render_markdown(&file, &relative_data),
            ),
            path: doc_path,
        });
    }
    Ok(outputs)
}

fn provider_of(file: &ErrorFile) -> &str {
    file.provider.as_deref().unwrap_or_default()
}

fn name_of(file: &ErrorFile) -> &str {
    file.name.as_deref().unwrap_or_else(|| provider_of(file))
}

fn rust_kind(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("Provider", |(_, r)| r)
}

fn validate(file: &ErrorFile) -> Result<()> {
    ensure!(!file.errors.is_empty(), "no [[error]] entries");
    let provider = provider_of(file);
    ensure!(
        !provider.is_empty()
            && provider
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "provider {provider:?} must be a lowercase id"
    );
    let mut seen = std::collections::BTreeSet::new();
    for entry in &file.errors {
        let code = &entry.code;
        ensure!(seen.insert(code), "code {code} is listed twice");
        ensure!(
            KINDS.iter().any(|(k, _)| *k == entry.kind),
            "code {code}: unknown kind {:?} (one of {:?})",
            entry.kind,
            KINDS.iter().map(|(k, _)| *k).collect::<Vec<_>>()
        );
        ensure!(
            (100..=599).contains(&entry.http_status),
            "code {code}: bad HTTP status"
        );
        if let Some(outcome) = &entry.check {
            ensure!(
                OUTCOMES.iter().any(|(name, _)| name == outcome),
                "code {code}: unknown check {outcome:?} (one of {:?})",
                OUTCOMES.iter().map(|(k, _)| *k).collect::<Vec<_>>()
            );
        }
    }
    Ok(())
}

fn render_rust(file: &ErrorFile, data: &Path) -> String {
    let name = name_of(file);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// @generated by `cargo xtask codegen` from `{}`: do not edit.",
        data.display()
    );
    let _ = writeln!(
        out,
        "//! The documented {name} errors and what they map to."
    );
    out.push_str("#![allow(dead_code)]\n\nuse phone_verify_core::ErrorKind;\n\n");
    out.push_str(
        "/// What a documented error means inside a check.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq)]\n\
         pub(crate) enum CheckOutcome {\n\
         /// The check is rejected with this reason (an outcome, not an error).\n\
         Rejected(phone_verify_core::RejectReason),\n\
         /// Polling a reverse flow: not completed yet. Checking a code: no such verification.\n\
         PendingWhilePolling,\n}\n\n",
    );
    out.push_str(
        "/// One documented error.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq)]\n\
         pub(crate) struct ErrorSpec {\n\
         /// The provider's code or reason.\n pub(crate) code: &'static str,\n\
         /// The HTTP status it comes with.\n pub(crate) http_status: u16,\n\
         /// The documented message.\n pub(crate) message: &'static str,\n\
         /// The core error kind.\n pub(crate) kind: ErrorKind,\n\
         /// What it means in a check, if it is an outcome there.\n pub(crate) check: Option<CheckOutcome>,\n}\n\n",
    );
    let _ = writeln!(
        out,
        "/// Every documented {name} error, in the order of `{}`.",
        data.display()
    );
    out.push_str("pub(crate) const ERRORS: &[ErrorSpec] = &[\n");
    for e in &file.errors {
        let check = e.check.as_deref().map_or_else(
            || "None".to_owned(),
            |name| {
                let variant = OUTCOMES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("PendingWhilePolling", |(_, v)| v);
                format!("Some(CheckOutcome::{variant})")
            },
        );
        let _ = writeln!(
            out,
            "ErrorSpec {{ code: {:?}, http_status: {}, message: {:?}, kind: ErrorKind::{}, check: {check} }},",
            e.code.to_string(),
            e.http_status,
            e.message,
            rust_kind(&e.kind)
        );
    }
    out.push_str("];\n\n");
    out.push_str(
        "/// The documented error with `code`.\n\
         pub(crate) fn lookup(code: &str) -> Option<&'static ErrorSpec> {\n\
         ERRORS.iter().find(|e| e.code == code)\n}\n",
    );
    out
}

/// Runs rustfmt over generated code, with the workspace's rustfmt.toml, so `cargo fmt --check`
/// agrees with `codegen --check`.
fn format_rust(root: &Path, code: &str) -> Result<String> {
    let sh = xshell::Shell::new()?;
    sh.change_dir(root);
    let formatted = xshell::cmd!(sh, "rustfmt --edition 2024 --emit stdout --quiet")
        .stdin(code)
        .read()
        .context("running rustfmt on generated code")?;
    Ok(formatted + "\n")
}

fn render_markdown(file: &ErrorFile, data: &Path) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}");
    let _ = writeln!(
        out,
        "<!-- generated from `{}` by `cargo xtask codegen`: do not edit this section -->\n",
        data.display()
    );
    if let Some(source) = &file.source {
        let _ = writeln!(out, "Source: {source}\n");
    }
    out.push_str(
        "| HTTP | code | documented message | error kind | in a check |\n|---|---|---|---|---|\n",
    );
    for e in &file.errors {
        let check = e
            .check
            .as_deref()
            .map_or_else(|| "error".to_owned(), |o| format!("`{o}`"));
        let note = e
            .note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let message = e.message.replace('|', "\\|").replace('\n', " ");
        let _ = writeln!(
            out,
            "| {} | `{}` | {message}{note} | `{}` | {check} |",
            e.http_status, e.code, e.kind
        );
    }
    let _ = writeln!(out, "{END}");
    out
}

/// Replaces the generated section of a doc (or makes a new doc around it).
fn splice(current: Option<&str>, name: &str, section: &str) -> String {
    if let Some(text) = current {
        if let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END))
            && start < end
        {
            let after = &text[end + END.len()..];
            let after = after.strip_prefix('\n').unwrap_or(after);
            return format!("{}{section}{after}", &text[..start]);
        }
        return format!("{}\n\n## Errors\n\n{section}", text.trim_end());
    }
    format!("# {name}\n\n## Errors\n\n{section}")
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn temp_root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("crates/acme/src")).unwrap();
        fs::write(
            dir.join("crates/acme/errors.toml"),
            r#"name = "Acme"
source = "the Acme docs."

[[error]]
code = "E1"
http_status = 403
message = "Code is | wrong."
kind = "invalid_input"
check = "wrong_code"

[[error]]
code = 429001
http_status = 429
message = "Slow down."
kind = "rate_limited"
note = "retry later"
"#,
        )
        .unwrap();
        dir
    }

    #[test]
    fn generates_rust_and_docs() {
        let root = temp_root("gen");
        let outputs = generate(&root).unwrap();
        assert_eq!(outputs.len(), 2);
        let rust = &outputs[0].contents;
        assert!(
            rust.starts_with(
                "// @generated by `cargo xtask codegen` from `crates/acme/errors.toml`"
            )
        );
        assert!(rust.contains("code: \"E1\""));
        assert!(rust.contains("code: \"429001\""));
        assert!(rust.contains("RejectReason::WrongCode"));
        assert!(rust.contains("kind: ErrorKind::RateLimited"));
        let doc = &outputs[1].contents;
        assert!(doc.starts_with("# Acme\n"));
        assert!(
            doc.contains("| 403 | `E1` | Code is \\| wrong. | `invalid_input` | `wrong_code` |"),
            "{doc}"
        );
        assert!(doc.contains("| 429 | `429001` |"));
        assert!(doc.contains("Slow down. (retry later)"));
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn check_finds_stale_files_and_codegen_fixes_them() {
        let root = temp_root("check");
        assert!(run(&root, true).is_err(), "missing outputs are stale");
        run(&root, false).unwrap();
        run(&root, true).unwrap();

        // A hand edit of a generated file is caught...
        let table = root.join("crates/acme/src/error_table.rs");
        fs::write(
            &table,
            fs::read_to_string(&table)
                .unwrap()
                .replace("Slow down.", "Slower."),
        )
        .unwrap();
        let outputs = generate(&root).unwrap();
        let stale_paths: Vec<_> = stale(&root, &outputs)
            .iter()
            .map(|o| o.path.clone())
            .collect();
        assert_eq!(
            stale_paths,
            [PathBuf::from("crates/acme/src/error_table.rs")]
        );
        // ...and so is an edit of the data file, in both outputs.
        run(&root, false).unwrap();
        let data = root.join("crates/acme/errors.toml");
        fs::write(
            &data,
            fs::read_to_string(&data)
                .unwrap()
                .replace("Slow down.", "Too fast."),
        )
        .unwrap();
        let outputs = generate(&root).unwrap();
        assert_eq!(stale(&root, &outputs).len(), 2);
        run(&root, false).unwrap();
        run(&root, true).unwrap();
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn hand_written_doc_text_is_kept() {
        let section =
            "<!-- BEGIN GENERATED: cargo xtask codegen -->\nnew\n<!-- END GENERATED -->\n";
        let doc = "# Acme\n\nIntro.\n\n<!-- BEGIN GENERATED: cargo xtask codegen -->\nold\n<!-- END GENERATED -->\n\nOutro.\n";
        assert_eq!(
            splice(Some(doc), "Acme", section),
            format!("# Acme\n\nIntro.\n\n{section}\nOutro.\n")
        );
        assert_eq!(
            splice(Some("# Acme\n"), "Acme", section),
            format!("# Acme\n\n## Errors\n\n{section}")
        );
    }

    #[test]
    fn bad_data_is_refused() {
        let root = temp_root("bad");
        let data = root.join("crates/acme/errors.toml");
        let good = fs::read_to_string(&data).unwrap();
        for (from, to) in [
            ("\"invalid_input\"", "\"oops\""),
            ("\"wrong_code\"", "\"maybe\""),
            ("code = 429001", "code = \"E1\""),
            ("http_status = 429", "http_status = 42"),
        ] {
            fs::write(&data, good.replace(from, to)).unwrap();
            assert!(generate(&root).is_err(), "{from} -> {to}");
        }
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_repository_is_fresh() {
        let root = crate::project_root();
        let outputs = generate(&root).unwrap();
        let stale: Vec<_> = stale(&root, &outputs)
            .iter()
            .map(|o| o.path.display().to_string())
            .collect();
        assert!(
            stale.is_empty(),
            "stale generated files {stale:?}: run `cargo xtask codegen`"
        );
    }
}
