//! Keep a Changelog rewriting: `[Unreleased]` becomes the new version's section.

use anyhow::{Result, bail, ensure};

const UNRELEASED: &str = "## [Unreleased]";

/// Moves the `[Unreleased]` entries under `## [version] - date`, leaving an empty
/// `[Unreleased]` section above; refuses a changelog whose `[Unreleased]` has no entries.
pub(crate) fn release(text: &str, version: &str, date: &str) -> Result<String> {
    let Some(start) = text.find(UNRELEASED) else {
        bail!("no `{UNRELEASED}` section")
    };
    let body_start = text[start..]
        .find('\n')
        .map_or(text.len(), |i| start + i + 1);
    let body_end = text[body_start..]
        .find("\n## ")
        .map_or(text.len(), |i| body_start + i + 1);
    let body = &text[body_start..body_end];
    let has_entries = body.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with('#') && !l.starts_with("<!--")
    });
    ensure!(
        has_entries,
        "the `{UNRELEASED}` section is empty: describe the release first"
    );
    ensure!(
        !text.contains(&format!("## [{version}]")),
        "a `## [{version}]` section already exists"
    );
    let rest = text[body_end..].trim();
    let rest = if rest.is_empty() {
        String::new()
    } else {
        format!("\n{rest}\n")
    };
    Ok(format!(
        "{}{UNRELEASED}\n\n## [{version}] - {date}\n\n{}\n{rest}",
        &text[..start],
        body.trim()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n### Added\n\n- A thing.\n\n## [0.1.0] - 2026-01-01\n\n- First.\n";

    #[test]
    fn moves_unreleased_under_the_version() {
        let out = release(LOG, "0.2.0", "2026-11-22").unwrap();
        assert_eq!(
            out,
            "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n## [0.2.0] - 2026-11-22\n\n### Added\n\n- A thing.\n\n## [0.1.0] - 2026-01-01\n\n- First.\n"
        );
    }

    #[test]
    fn works_as_the_last_section() {
        let out = release(
            "# Changelog\n\n## [Unreleased]\n\n- Only.\n",
            "0.1.0",
            "2026-11-22",
        )
        .unwrap();
        assert_eq!(
            out,
            "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-11-22\n\n- Only.\n"
        );
    }

    #[test]
    fn refuses_empty_or_missing_sections() {
        let empty =
            "# Changelog\n\n## [Unreleased]\n\n### Added\n\n## [0.1.0] - 2026-01-01\n\n- First.\n";
        assert!(
            release(empty, "0.2.0", "2026-11-22")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(release("# Changelog\n", "0.2.0", "2026-11-22").is_err());
        assert!(
            release(LOG, "0.1.0", "2026-11-22").is_err(),
            "version already released"
        );
    }
}
