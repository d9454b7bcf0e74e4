//! `cargo xtask codegen [--check]`: each provider's documented errors live in one data file,
//! `crates/<provider>/errors.toml`; from it this generates the provider's code → kind table
//! (`crates/<provider>/src/error_table.rs`) and the error table of `docs/providers/<provider>.md`.
//! It also writes the feature table of the `phone-verify` facade, from the facade's
//! `[features]` and each provider crate's `description`, into the generated section of
//! `crates/phone-verify/README.md` and of the repository's `README.md`.
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

/// A provider code: VerifyKit's are numbers, Verifik's are strings. Either is matched as the
/// text it renders (`ErrorTable::lookup`), so `60200` and `"60200"` are the same code.
#[derive(Debug, Deserialize)]
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
        crate::files::replace(&path, output.contents.as_bytes())
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
    outputs.extend(feature_tables(root)?);
    Ok(outputs)
}

/// The facade crate, whose features the feature table describes.
const FACADE: &str = "crates/phone-verify";

/// The files that carry the facade's feature table in their generated section.
const FEATURE_TABLE_FILES: &[&str] = &["crates/phone-verify/README.md", "README.md"];

/// One feature of the facade's `[features]`, in manifest order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Feature {
    pub(crate) name: String,
    /// What it enables: other features, `dep:crate` or `crate/feature`.
    pub(crate) enables: Vec<String>,
    /// Its `## ` doc comment lines, joined.
    pub(crate) doc: String,
}

/// The feature table in every file of [`FEATURE_TABLE_FILES`], if the facade exists.
fn feature_tables(root: &Path) -> Result<Vec<Output>> {
    let manifest = root.join(FACADE).join("Cargo.toml");
    if !manifest.is_file() {
        return Ok(Vec::new());
    }
    let text = fs::read_to_string(&manifest)?;
    let features = parse_features(&text).with_context(|| format!("in {}", manifest.display()))?;
    let descriptions = package_descriptions(root)?;
    let section = render_feature_table(&features, &descriptions);
    let mut outputs = Vec::new();
    for file in FEATURE_TABLE_FILES {
        let path = root.join(file);
        let current =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let contents = splice_existing(&current, &section)
            .with_context(|| format!("in {}", path.display()))?;
        outputs.push(Output {
            path: PathBuf::from(file),
            contents,
        });
    }
    Ok(outputs)
}

/// The `[features]` of a manifest, in order, with their `## ` doc comments.
pub(crate) fn parse_features(manifest: &str) -> Result<Vec<Feature>> {
    #[derive(Deserialize)]
    struct Manifest {
        #[serde(default)]
        features: std::collections::BTreeMap<String, Vec<String>>,
    }
    let parsed: Manifest = toml::from_str(manifest).context("parsing the manifest")?;
    let mut features = Vec::new();
    let mut doc = Vec::new();
    let mut in_features = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_features = line == "[features]";
            doc.clear();
            continue;
        }
        if !in_features {
            continue;
        }
        if let Some(text) = line.strip_prefix("##") {
            doc.push(text.trim().to_owned());
            continue;
        }
        let name = line
            .split_once('=')
            .map(|(name, _)| name.trim().trim_matches('"'))
            .filter(|name| !name.is_empty() && !name.starts_with('#'));
        if let Some((name, enables)) = name.and_then(|n| parsed.features.get_key_value(n)) {
            features.push(Feature {
                name: name.clone(),
                enables: enables.clone(),
                doc: doc.join(" "),
            });
        }
        doc.clear();
    }
    ensure!(
        features.len() == parsed.features.len(),
        "some features could not be read: start each feature's line with `name =`"
    );
    Ok(features)
}

/// The `description` of every package under `crates/`, by package name.
fn package_descriptions(root: &Path) -> Result<std::collections::BTreeMap<String, String>> {
    #[derive(Deserialize)]
    struct Manifest {
        package: Option<Package>,
    }
    #[derive(Deserialize)]
    struct Package {
        name: String,
        description: Option<String>,
    }
    let mut out = std::collections::BTreeMap::new();
    for entry in fs::read_dir(root.join("crates"))? {
        let manifest = entry?.path().join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let text = fs::read_to_string(&manifest)?;
        let parsed: Manifest =
            toml::from_str(&text).with_context(|| format!("parsing {}", manifest.display()))?;
        if let Some(Package {
            name,
            description: Some(description),
        }) = parsed.package
        {
            out.insert(name, description);
        }
    }
    Ok(out)
}

/// The generated section: one row per feature except `default`.
pub(crate) fn render_feature_table(
    features: &[Feature],
    descriptions: &std::collections::BTreeMap<String, String>,
) -> String {
    let defaults: Vec<&str> = features
        .iter()
        .find(|f| f.name == "default")
        .map(|f| f.enables.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}");
    let _ = writeln!(
        out,
        "<!-- generated from the [features] of `{FACADE}/Cargo.toml` and the provider crates' \
         descriptions by `cargo xtask codegen`: do not edit this section -->\n"
    );
    out.push_str("| feature | default | enables |\n|---|---|---|\n");
    for feature in features.iter().filter(|f| f.name != "default") {
        let provider = feature.enables.iter().find_map(|e| {
            let krate = e.strip_prefix("dep:")?;
            // Provider crates only: other crates (the router) are described by the feature's doc.
            descriptions
                .get(krate)
                .filter(|d| d.contains(" provider for phone-verify: "))
                .map(|d| (krate, d))
        });
        let what = match provider {
            Some((krate, description)) => {
                let summary = match description.split_once(" provider for phone-verify: ") {
                    Some((name, rest)) => format!("**{name}**: {rest}"),
                    None => description.clone(),
                };
                format!(
                    "{summary}; [`{krate}`](https://docs.rs/{krate}) as `providers::{}`",
                    feature.name
                )
            }
            None if !feature.doc.is_empty() => feature.doc.clone(),
            None => feature
                .enables
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let default = if defaults.contains(&feature.name.as_str()) {
            "yes"
        } else {
            "no"
        };
        let _ = writeln!(
            out,
            "| `{}` | {default} | {} |",
            feature.name,
            what.replace('|', "\\|")
        );
    }
    let _ = writeln!(out, "{END}");
    out
}

/// Replaces the generated section of a file that must already have one.
fn splice_existing(current: &str, section: &str) -> Result<String> {
    match (current.find(BEGIN), current.find(END)) {
        (Some(start), Some(end)) if start < end => {
            let after = &current[end + END.len()..];
            let after = after.strip_prefix('\n').unwrap_or(after);
            Ok(format!("{}{section}{after}", &current[..start]))
        }
        _ => bail!("the file has no `{BEGIN}` … `{END}` section for the feature table"),
    }
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
        // As the table holds it, and `ErrorTable::lookup` compares it with a provider's code
        // (trimmed): a code with blanks around it would never match, and of two codes that
        // read alike the second would never be found.
        let code = entry.code.to_string();
        ensure!(
            !code.is_empty() && code.trim() == code,
            "code {code:?} is empty or has blanks around it: it would never match"
        );
        ensure!(
            seen.insert(code.clone()),
            "code {code} is listed twice (as a number and as text, they read the same)"
        );
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
    out.push_str(
        "\nuse phone_verify_core::ErrorKind;\nuse phone_verify_core::kit::{ErrorSpec, ErrorTable};\n\n",
    );
    let _ = writeln!(
        out,
        "/// Every documented {name} error, in the order of `{}`.",
        data.display()
    );
    out.push_str("pub(crate) static ERRORS: ErrorTable = ErrorTable::new(&[\n");
    for e in &file.errors {
        let check = e.check.as_deref().map_or_else(
            || "None".to_owned(),
            |name| {
                let variant = OUTCOMES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("PendingWhilePolling", |(_, v)| v);
                format!("Some(phone_verify_core::kit::CheckRule::{variant})")
            },
        );
        let _ = writeln!(
            out,
            "ErrorSpec::new({:?}, {}, {:?}, ErrorKind::{}, {check}),",
            e.code.to_string(),
            e.http_status,
            e.message,
            rust_kind(&e.kind)
        );
    }
    out.push_str("]);\n");
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
        assert!(
            rust.contains("static ERRORS: ErrorTable = ErrorTable::new(&["),
            "{rust}"
        );
        assert!(rust.contains("\"E1\","));
        assert!(rust.contains("\"429001\","));
        assert!(rust.contains("CheckRule::Rejected(") && rust.contains("RejectReason::WrongCode"));
        assert!(rust.contains("ErrorKind::RateLimited,"));
        assert!(
            !rust.contains("struct ErrorSpec"),
            "the types live in the kit"
        );
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
        // Each file is replaced whole, never rewritten in place (`files::replace`): a link
        // to the old one keeps its text.
        let old = root.join("old_error_table.rs");
        fs::hard_link(&table, &old).unwrap();
        run(&root, false).unwrap();
        assert!(fs::read_to_string(&old).unwrap().contains("Slow down."));
        assert!(fs::read_to_string(&table).unwrap().contains("Too fast."));
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
            ("code = 429001", "code = \" 429001\""),
            ("code = 429001", "code = \"429001 \""),
            ("code = 429001", "code = \"\""),
            ("http_status = 429", "http_status = 42"),
        ] {
            fs::write(&data, good.replace(from, to)).unwrap();
            assert!(generate(&root).is_err(), "{from} -> {to}");
        }
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_code_as_a_number_and_as_text_is_listed_twice() {
        let root = temp_root("same-code");
        let data = root.join("crates/acme/errors.toml");
        let text = fs::read_to_string(&data).unwrap();
        fs::write(&data, text.replace("code = \"E1\"", "code = 429001")).unwrap();
        assert!(generate(&root).is_err(), "the same number twice");
        fs::write(
            &data,
            text.replace("code = \"E1\"", "code = 1")
                .replace("code = 429001", "code = \"1\""),
        )
        .unwrap();
        let err = generate(&root).unwrap_err();
        assert!(
            format!("{err:#}").contains("code 1 is listed twice"),
            "{err:#}"
        );
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn generates_the_facade_feature_table() {
        let root = temp_root("features");
        fs::create_dir_all(root.join("crates/phone-verify")).unwrap();
        fs::write(
            root.join("crates/phone-verify/Cargo.toml"),
            r#"[package]
name = "phone-verify"

[features]
## Nothing by default.
default = ["acme"]
## Acme.
acme = ["dep:acme-sms"]
plain = ["dep:not-in-crates"]
## Mocks for | tests.
mock = ["phone-verify-core/mock"]
everything = ["acme", "mock"]

[dependencies]
acme-sms = { path = "../acme", optional = true }
"#,
        )
        .unwrap();
        fs::write(
            root.join("crates/acme/Cargo.toml"),
            "[package]\nname = \"acme-sms\"\ndescription = \"Acme provider for phone-verify: SMS codes and sessions\"\n",
        )
        .unwrap();
        let readme = "# Facade\n\nIntro.\n\n<!-- BEGIN GENERATED: cargo xtask codegen -->\nold\n<!-- END GENERATED -->\n\nOutro.\n";
        fs::write(root.join("crates/phone-verify/README.md"), readme).unwrap();
        fs::write(root.join("README.md"), readme).unwrap();

        let outputs = generate(&root).unwrap();
        let paths: Vec<_> = outputs.iter().map(|o| o.path.clone()).collect();
        assert_eq!(
            paths[2..],
            [
                PathBuf::from("crates/phone-verify/README.md"),
                PathBuf::from("README.md")
            ]
        );
        let doc = &outputs[2].contents;
        assert!(
            doc.starts_with("# Facade\n\nIntro.\n\n<!-- BEGIN GENERATED"),
            "{doc}"
        );
        assert!(doc.ends_with("<!-- END GENERATED -->\n\nOutro.\n"), "{doc}");
        assert!(!doc.contains("\nold\n"));
        assert!(!doc.contains("| `default` |"));
        assert!(
            doc.contains(
                "| `acme` | yes | **Acme**: SMS codes and sessions; \
                 [`acme-sms`](https://docs.rs/acme-sms) as `providers::acme` |"
            ),
            "{doc}"
        );
        assert!(
            doc.contains("| `plain` | no | `dep:not-in-crates` |"),
            "{doc}"
        );
        assert!(
            doc.contains("| `mock` | no | Mocks for \\| tests. |"),
            "{doc}"
        );
        assert!(
            doc.contains("| `everything` | no | `acme`, `mock` |"),
            "{doc}"
        );
        assert_eq!(outputs[3].contents, *doc);

        // The facade's features and the providers' descriptions are both sources.
        run(&root, false).unwrap();
        run(&root, true).unwrap();
        let acme = root.join("crates/acme/Cargo.toml");
        let text = fs::read_to_string(&acme).unwrap();
        fs::write(&acme, text.replace("SMS codes", "voice codes")).unwrap();
        assert_eq!(stale(&root, &generate(&root).unwrap()).len(), 2);
        run(&root, false).unwrap();
        assert!(
            fs::read_to_string(root.join("README.md"))
                .unwrap()
                .contains("**Acme**: voice codes and sessions")
        );

        // A README without the generated section is an error, not a silent append.
        fs::write(root.join("README.md"), "# Facade\n").unwrap();
        let err = generate(&root).unwrap_err();
        assert!(format!("{err:#}").contains("README.md"), "{err:#}");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn features_keep_manifest_order_and_docs() {
        let features = parse_features(
            "[package]\nname = \"x\"\n\n[features]\n## First\n## line two.\nb = []\n# not a doc\na = [\"b\"]\n\n[dependencies]\n",
        )
        .unwrap();
        assert_eq!(
            features,
            [
                Feature {
                    name: "b".into(),
                    enables: vec![],
                    doc: "First line two.".into()
                },
                Feature {
                    name: "a".into(),
                    enables: vec!["b".into()],
                    doc: String::new()
                },
            ]
        );
        let multi_line = parse_features("[features]\na = [\n  \"b\",\n]\nb = []\n").unwrap();
        assert_eq!(multi_line[0].enables, ["b"]);
        assert!(parse_features("[features]\n\"a\".x = []\n").is_err());
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
