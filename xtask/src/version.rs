//! Lock-step version bumps of the workspace manifest.

use anyhow::{Result, bail, ensure};

/// A `MAJOR.MINOR.PATCH[-pre]` version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    /// Empty for a release; a release sorts after its pre-releases.
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

    fn key(&self) -> (u64, u64, u64, bool) {
        (self.major, self.minor, self.patch, self.pre.is_empty())
    }

    pub(crate) fn is_newer_than(&self, other: &Self) -> bool {
        match self.key().cmp(&other.key()) {
            std::cmp::Ordering::Equal => self.pre > other.pre && !other.pre.is_empty(),
            ordering => ordering.is_gt(),
        }
    }
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
        new_version.is_newer_than(&Version::parse(&old)?),
        "{new} is not newer than the current version {old}"
    );
    Ok(Bumped {
        old,
        manifest: out,
        internal: internal.into_iter().map(|(n, _)| n).collect(),
    })
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
        assert!(v("0.2.0").is_newer_than(&v("0.1.9")));
        assert!(v("1.0.0").is_newer_than(&v("1.0.0-rc.1")));
        assert!(!v("1.0.0-rc.1").is_newer_than(&v("1.0.0")));
        assert!(v("1.0.0-rc.2").is_newer_than(&v("1.0.0-rc.1")));
        assert!(Version::parse("01.0.0").is_err());
        assert!(Version::parse("1.0.0-").is_err());
    }
}
