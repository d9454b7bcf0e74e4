//! Lock-step version bumps of the workspace manifest, semver precedence, and the version
//! requirements of the READMEs' install snippets.

use std::cmp::Ordering;

use anyhow::{Result, bail, ensure};

/// A `MAJOR.MINOR.PATCH[-pre]` version, ordered by semver precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    /// The dot-separated pre-release identifiers; empty for a release.
    pre: Vec<String>,
}

impl Version {
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        ensure!(
            parts.len() == 3,
            "{text:?} is not a MAJOR.MINOR.PATCH version"
        );
        let num = |s: &str| -> Result<u64> {
            ensure!(
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
                "{text:?}: {s:?} is not a number"
            );
            ensure!(
                s == "0" || !s.starts_with('0'),
                "{text:?}: leading zero in {s:?}"
            );
            Ok(s.parse()?)
        };
        let pre = match pre {
            Some(p) => {
                ensure!(
                    !p.is_empty()
                        && p.split('.').all(|id| !id.is_empty()
                            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')),
                    "{text:?}: bad pre-release {p:?}"
                );
                ensure!(
                    p.split('.')
                        .all(|id| !is_numeric(id) || id == "0" || !id.starts_with('0')),
                    "{text:?}: leading zero in a numeric pre-release identifier of {p:?}"
                );
                p.split('.').map(str::to_owned).collect()
            }
            None => Vec::new(),
        };
        Ok(Self {
            major: num(parts[0])?,
            minor: num(parts[1])?,
            patch: num(parts[2])?,
            pre,
        })
    }

    /// The `MAJOR.MINOR` requirement an install snippet gives for this version; `None` for a
    /// pre-release, which such a requirement does not match.
    pub(crate) fn requirement(&self) -> Option<String> {
        self.pre
            .is_empty()
            .then(|| format!("{}.{}", self.major, self.minor))
    }

    /// The pre-release identifiers, as they are ordered.
    fn identifiers(&self) -> impl Iterator<Item = Identifier<'_>> {
        self.pre.iter().map(String::as_str).map(Identifier::of)
    }
}

impl Ord for Version {
    /// Semver precedence: the numbers, then a release above its pre-releases, and between
    /// pre-releases their identifiers pairwise (numeric ones by value and below alphanumeric
    /// ones, those in ASCII order), the shorter list lower when all before are equal.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.identifiers().cmp(other.identifiers()),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A pre-release identifier as semver orders it: numeric ones first, by value (their digits
/// have no leading zero, so the longer is the larger), then alphanumeric ones in ASCII order.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Identifier<'a> {
    Numeric { digits: usize, text: &'a str },
    Alphanumeric(&'a str),
}

impl<'a> Identifier<'a> {
    fn of(id: &'a str) -> Self {
        if is_numeric(id) {
            Self::Numeric {
                digits: id.len(),
                text: id,
            }
        } else {
            Self::Alphanumeric(id)
        }
    }
}

/// Whether a pre-release identifier is all digits.
fn is_numeric(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// The result of a bump: the old version and the new manifest text.
#[derive(Debug)]
pub(crate) struct Bumped {
    pub(crate) old: String,
    pub(crate) manifest: String,
    /// Internal dependencies whose `version` was rewritten.
    pub(crate) internal: Vec<String>,
}

/// Sets `[workspace.package] version` and the `version` of every internal (`path`) dependency
/// in `[workspace.dependencies]` to `new`; they must all equal the old version.
pub(crate) fn bump_manifest(manifest: &str, new: &str) -> Result<Bumped> {
    let new_version = Version::parse(new)?;
    let mut section = String::new();
    let mut old: Option<String> = None;
    let mut internal = Vec::new();
    let mut out = String::with_capacity(manifest.len());
    for line in manifest.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            trimmed.clone_into(&mut section);
        }
        let rewritten = if section == "[workspace.package]"
            && trimmed.starts_with("version")
            && trimmed.contains('=')
        {
            let current = quoted_after(trimmed, "=").unwrap_or_default();
            old = Some(current.clone());
            Some(line.replacen(&format!("\"{current}\""), &format!("\"{new}\""), 1))
        } else if section == "[workspace.dependencies]" && trimmed.contains("path = ") {
            let name = trimmed
                .split(['=', ' '])
                .next()
                .unwrap_or_default()
                .to_owned();
            let Some(current) = quoted_after(trimmed, "version = ") else {
                bail!("internal dependency {name} has no `version`: it could not be published");
            };
            internal.push((name, current.clone()));
            Some(line.replacen(
                &format!("version = \"{current}\""),
                &format!("version = \"{new}\""),
                1,
            ))
        } else {
            None
        };
        out.push_str(rewritten.as_deref().unwrap_or(line));
    }
    let Some(old) = old else {
        bail!("no `version` in [workspace.package]")
    };
    for (name, version) in &internal {
        ensure!(
            version == &old,
            "{name} is at {version}, not the workspace's {old}: versions are out of lock-step"
        );
    }
    ensure!(
        new_version > Version::parse(&old)?,
        "{new} is not newer than the current version {old}"
    );
    Ok(Bumped {
        old,
        manifest: out,
        internal: internal.into_iter().map(|(n, _)| n).collect(),
    })
}

/// Sets to `requirement` the `MAJOR.MINOR` version requirement of every `phone-verify` crate in
/// the install snippets of `text` (`phone-verify = { version = "0.1", ... }`,
/// `phone-verify-testkit = "0.1"`); `None` when none differs.
pub(crate) fn rewrite_requirements(text: &str, requirement: &str) -> Option<String> {
    const NAME: &str = "phone-verify";
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in text.match_indices(NAME) {
        if text[..at].chars().next_back().is_some_and(name_char) {
            continue;
        }
        let after = &text[at + NAME.len()..];
        let tail = after.trim_start_matches(name_char);
        let Some(value) = [" = \"", " = { version = \""]
            .iter()
            .find_map(|prefix| tail.strip_prefix(prefix))
        else {
            continue;
        };
        let Some(current) = value.split('"').next().filter(|v| is_major_minor(v)) else {
            continue;
        };
        if current != requirement {
            let start = text.len() - value.len();
            out.push_str(&text[copied..start]);
            out.push_str(requirement);
            copied = start + current.len();
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Whether `text` is a `MAJOR.MINOR` requirement.
fn is_major_minor(text: &str) -> bool {
    text.split_once('.')
        .is_some_and(|(major, minor)| is_numeric(major) && is_numeric(minor))
}

fn quoted_after(line: &str, marker: &str) -> Option<String> {
    let rest = &line[line.find(marker)? + marker.len()..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"[workspace]
members = ["crates/*"]

[workspace.package]
version = "0.1.0"
edition = "2024"

[workspace.dependencies]
phone-verify-core = { path = "crates/core", version = "0.1.0" }
phone-verify-verifik = { path = "crates/verifik", version = "0.1.0" }
serde = { version = "0.1.0", features = ["derive"] }
"#;

    #[test]
    fn bumps_in_lock_step() {
        let bumped = bump_manifest(MANIFEST, "0.2.0").unwrap();
        assert_eq!(bumped.old, "0.1.0");
        assert_eq!(
            bumped.internal,
            ["phone-verify-core", "phone-verify-verifik"]
        );
        assert!(
            bumped
                .manifest
                .contains("[workspace.package]\nversion = \"0.2.0\"")
        );
        assert!(
            bumped
                .manifest
                .contains(r#"phone-verify-core = { path = "crates/core", version = "0.2.0" }"#)
        );
        assert!(
            bumped.manifest.contains(
                r#"phone-verify-verifik = { path = "crates/verifik", version = "0.2.0" }"#
            )
        );
        assert!(
            bumped
                .manifest
                .contains(r#"serde = { version = "0.1.0", features = ["derive"] }"#),
            "external deps untouched"
        );
        assert_eq!(bumped.manifest.len(), MANIFEST.len());
    }

    #[test]
    fn refuses_bad_bumps() {
        assert!(bump_manifest(MANIFEST, "0.1.0").is_err(), "same version");
        assert!(bump_manifest(MANIFEST, "0.0.9").is_err(), "older version");
        assert!(bump_manifest(MANIFEST, "0.2").is_err(), "not semver");
        assert!(bump_manifest(MANIFEST, "v0.2.0").is_err(), "prefix");
        let skewed = MANIFEST.replacen(
            r#"crates/verifik", version = "0.1.0""#,
            r#"crates/verifik", version = "0.0.5""#,
            1,
        );
        assert!(
            bump_manifest(&skewed, "0.2.0")
                .unwrap_err()
                .to_string()
                .contains("lock-step")
        );
        let unversioned = MANIFEST.replacen(r#", version = "0.1.0" }"#, " }", 1);
        assert!(bump_manifest(&unversioned, "0.2.0").is_err());
    }

    #[test]
    fn orders_versions() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("0.2.0") > v("0.1.9"));
        assert!(v("1.0.0") > v("1.0.0-rc.1"));
        assert!(v("1.0.0-rc.1") < v("1.0.0"));
        assert!(v("1.0.0-rc.2") > v("1.0.0-rc.1"));
        assert!(Version::parse("01.0.0").is_err());
        assert!(Version::parse("1.0.0-").is_err());
    }

    #[test]
    fn orders_pre_releases_by_semver_precedence() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("1.0.0-rc.10") > v("1.0.0-rc.9"));
        assert!(v("1.0.0-rc.9") < v("1.0.0-rc.10"));
        // The semver specification's example, item 11.
        let ascending = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for (i, older) in ascending.iter().enumerate() {
            for newer in &ascending[i + 1..] {
                assert!(v(newer) > v(older), "{newer} > {older}");
            }
            assert_eq!(v(older).cmp(&v(older)), Ordering::Equal, "{older}");
        }
        assert!(v("1.0.0-1") > v("1.0.0-0"));
        assert!(v("1.0.0-a") > v("1.0.0-999"), "numeric < alphanumeric");
        assert!(v("1.0.0-B") > v("1.0.0-A"), "ASCII order");
        assert!(v("1.0.0-a") > v("1.0.0-B"), "ASCII order: lower case after");
        assert!(v("1.0.0-rc.18446744073709551616") > v("1.0.0-rc.9"));
        assert!(Version::parse("1.0.0-rc.01").is_err(), "leading zero");
    }

    #[test]
    fn install_snippets_require_the_release_s_major_minor() {
        assert_eq!(
            Version::parse("0.2.0").unwrap().requirement().as_deref(),
            Some("0.2")
        );
        assert_eq!(
            Version::parse("1.4.2").unwrap().requirement().as_deref(),
            Some("1.4")
        );
        assert_eq!(Version::parse("0.2.0-rc.1").unwrap().requirement(), None);
        let text = "With `phone-verify = { version = \"0.1\", features = [\"verifykit\"] }`, and\n\
                    ```toml\nphone-verify-testkit = \"0.1\"\ntokio = { version = \"1\" }\n\
                    my-phone-verify = \"0.1\"\nphone-verify-core = \"0.1.3\"\n```\n";
        assert_eq!(
            rewrite_requirements(text, "0.2").unwrap(),
            text.replacen("version = \"0.1\"", "version = \"0.2\"", 1)
                .replacen("testkit = \"0.1\"", "testkit = \"0.2\"", 1),
            "only `phone-verify` crates' MAJOR.MINOR requirements"
        );
        assert_eq!(rewrite_requirements(text, "0.1"), None, "unchanged");
        assert_eq!(rewrite_requirements("no snippet here", "0.2"), None);
    }
}
