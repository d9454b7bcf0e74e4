//! [`Report`]: the result of a conformance run, one line per named check.

use std::fmt::{self, Write as _};

use phone_verify_core::ProviderId;

use crate::expected::Expected;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The verifier did what the contract asks.
    Passed,
    /// The check could not run: the harness does not support something it needs, or the
    /// check does not apply to the provider (the detail says which).
    Skipped,
    /// The verifier broke the contract (or the harness failed).
    Failed,
}

impl Status {
    /// `pass`, `skip` or `FAIL`, as shown in the report table.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "pass",
            Self::Skipped => "skip",
            Self::Failed => "FAIL",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The result of one named check, e.g. `otp.right_code_verifies[sms]`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckResult {
    /// The check's name: `group.what[channel]`.
    pub name: String,
    /// How it ended.
    pub status: Status,
    /// Why it failed or was skipped, or a note on a pass.
    pub detail: Option<String>,
}

impl CheckResult {
    /// A result for the check `name`.
    pub fn new(name: impl Into<String>, status: Status, detail: Option<String>) -> Self {
        Self {
            name: name.into(),
            status,
            detail,
        }
    }
}

/// The results of a conformance run, in the order the checks ran.
///
/// `Display` renders a table; [`assert_all_passed`](Report::assert_all_passed) panics with it
/// when a check failed.
#[derive(Debug, Clone)]
pub struct Report {
    provider: ProviderId,
    results: Vec<CheckResult>,
}

impl Report {
    /// An empty report for `provider`.
    pub fn new(provider: ProviderId) -> Self {
        Self {
            provider,
            results: Vec::new(),
        }
    }

    /// Adds a result.
    pub fn push(&mut self, result: CheckResult) {
        self.results.push(result);
    }

    /// The provider the verifier under test reported.
    pub fn provider(&self) -> &ProviderId {
        &self.provider
    }

    /// Every result, in the order the checks ran.
    pub fn results(&self) -> &[CheckResult] {
        &self.results
    }

    /// The result of the check `name`.
    pub fn get(&self, name: &str) -> Option<&CheckResult> {
        self.results.iter().find(|r| r.name == name)
    }

    /// The status of the check `name`, if it ran.
    pub fn status(&self, name: &str) -> Option<Status> {
        self.get(name).map(|r| r.status)
    }

    /// The checks that passed.
    pub fn passed(&self) -> impl Iterator<Item = &CheckResult> {
        self.with_status(Status::Passed)
    }

    /// The checks that were skipped.
    pub fn skipped(&self) -> impl Iterator<Item = &CheckResult> {
        self.with_status(Status::Skipped)
    }

    /// The checks that failed.
    pub fn failed(&self) -> impl Iterator<Item = &CheckResult> {
        self.with_status(Status::Failed)
    }

    fn with_status(&self, status: Status) -> impl Iterator<Item = &CheckResult> {
        self.results.iter().filter(move |r| r.status == status)
    }

    /// Whether no check failed (skipped checks do not count as failures).
    pub fn is_success(&self) -> bool {
        self.failed().next().is_none()
    }

    /// Panics, showing the whole table and then the failures, if any check failed. Skipped
    /// checks are allowed; use [`assert_passed`](Report::assert_passed) to insist on some.
    pub fn assert_all_passed(&self) {
        assert!(
            self.is_success(),
            "{}",
            self.failure_message(self.failed(), &[])
        );
    }

    /// Panics unless every check in `names` ran and passed, e.g. to make sure that checks
    /// the harness is expected to support were not skipped.
    pub fn assert_passed(&self, names: &[&str]) {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|name| self.get(name).is_none())
            .collect();
        let not_passed = || {
            self.results
                .iter()
                .filter(|r| names.contains(&r.name.as_str()) && r.status != Status::Passed)
        };
        assert!(
            missing.is_empty() && not_passed().next().is_none(),
            "{}",
            self.failure_message(not_passed(), &missing)
        );
    }

    /// Panics, showing the table and what is wrong, unless exactly the `expected` checks ran
    /// and each ended as listed: every check to pass passed, every check listed as
    /// [skipped](Expected::skipped) was skipped, none is missing, and no check ran that is
    /// not listed (so a check that stops running, or a new one, is noticed).
    pub fn assert_exactly(&self, expected: &Expected) {
        let (names, skips) = (expected.names(), expected.skipped_names());
        let missing: Vec<&str> = names
            .iter()
            .chain(skips)
            .map(String::as_str)
            .filter(|name| self.get(name).is_none())
            .collect();
        let listed = |r: &CheckResult| names.contains(&r.name) || skips.contains(&r.name);
        let as_listed = |r: &CheckResult| {
            (names.contains(&r.name) && r.status == Status::Passed)
                || (skips.contains(&r.name) && r.status == Status::Skipped)
        };
        let bad = || self.results.iter().filter(|r| !as_listed(r));
        if missing.is_empty() && bad().next().is_none() {
            return;
        }
        // Listed to pass and did not; unlisted ones that failed or were skipped too.
        let mut message = self.failure_message(
            bad().filter(|r| r.status != Status::Passed && !skips.contains(&r.name)),
            &missing,
        );
        let not_skipped: Vec<&str> = self
            .results
            .iter()
            .filter(|r| skips.contains(&r.name) && r.status != Status::Skipped)
            .map(|r| r.name.as_str())
            .collect();
        if !not_skipped.is_empty() {
            let _ = writeln!(
                message,
                "checks expected to be skipped that were not: {}",
                not_skipped.join(", ")
            );
        }
        let unlisted: Vec<&str> = self
            .results
            .iter()
            .filter(|r| !listed(r))
            .map(|r| r.name.as_str())
            .collect();
        if !unlisted.is_empty() {
            let _ = writeln!(
                message,
                "checks that ran but are not expected: {}",
                unlisted.join(", ")
            );
        }
        panic!("{message}");
    }

    fn failure_message<'a>(
        &self,
        bad: impl Iterator<Item = &'a CheckResult>,
        missing: &[&str],
    ) -> String {
        let mut message = format!("conformance checks did not pass\n\n{self}\n");
        for result in bad {
            let detail = result.detail.as_deref().unwrap_or("-");
            let _ = writeln!(message, "{} {}: {detail}", result.status, result.name);
        }
        if !missing.is_empty() {
            let _ = writeln!(message, "checks that did not run: {}", missing.join(", "));
        }
        message
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |status| self.with_status(status).count();
        writeln!(
            f,
            "conformance of provider `{}`: {} passed, {} skipped, {} failed",
            self.provider,
            count(Status::Passed),
            count(Status::Skipped),
            count(Status::Failed)
        )?;
        let width = self
            .results
            .iter()
            .map(|r| r.name.len())
            .chain([5])
            .max()
            .unwrap_or_default();
        let mut line = |status: &str, name: &str, detail: &str| {
            let line = format!("  {status:<6}  {name:<width$}  {detail}");
            writeln!(f, "{}", line.trim_end())
        };
        line("status", "check", "detail")?;
        for result in &self.results {
            let detail = result.detail.as_deref().unwrap_or("").replace('\n', " ");
            line(result.status.as_str(), &result.name, &detail)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut report = Report::new(ProviderId::new_static("acme"));
        report.push(CheckResult::new(
            "otp.right_code_verifies[sms]",
            Status::Passed,
            None,
        ));
        report.push(CheckResult::new(
            "otp.expired_is_rejected[sms]",
            Status::Skipped,
            Some("unsupported by this harness: advancing time".into()),
        ));
        report
    }

    #[test]
    fn renders_a_table() {
        let table = sample().to_string();
        assert!(table.starts_with("conformance of provider `acme`: 1 passed, 1 skipped, 0 failed"));
        assert!(
            table.contains("\n  pass    otp.right_code_verifies[sms]\n"),
            "{table}"
        );
        assert!(
            table.contains("\n  skip    otp.expired_is_rejected[sms]  unsupported by this harness"),
            "{table}"
        );
    }

    #[test]
    fn skips_are_not_failures() {
        let report = sample();
        assert!(report.is_success());
        report.assert_all_passed();
        report.assert_passed(&["otp.right_code_verifies[sms]"]);
    }

    #[test]
    fn failures_panic_with_the_table() {
        let mut report = sample();
        report.push(CheckResult::new(
            "otp.wrong_code_rejected[sms]",
            Status::Failed,
            Some("expected rejected (wrong_code), got verified".into()),
        ));
        assert!(!report.is_success());
        let panic = std::panic::catch_unwind(|| report.assert_all_passed()).unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains("1 failed"), "{message}");
        assert!(
            message.contains(
                "FAIL otp.wrong_code_rejected[sms]: expected rejected (wrong_code), got verified"
            ),
            "{message}"
        );
    }

    fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let panic = std::panic::catch_unwind(f).unwrap_err();
        panic.downcast_ref::<String>().unwrap().clone()
    }

    #[test]
    fn assert_exactly_wants_the_listed_checks_passed_and_no_others() {
        let mut report = Report::new(ProviderId::new_static("acme"));
        report.push(CheckResult::new("a[sms]", Status::Passed, None));
        report.push(CheckResult::new("b[sms]", Status::Passed, None));
        report.assert_exactly(&Expected::new().per_channel(&["a", "b"], ["sms"]));

        let missing = panic_message(|| {
            report.assert_exactly(&Expected::new().checks(["a[sms]", "b[sms]", "c"]));
        });
        assert!(missing.contains("did not run: c"), "{missing}");
        let unlisted = panic_message(|| report.assert_exactly(&Expected::new().check("a[sms]")));
        assert!(
            unlisted.contains("ran but are not expected: b[sms]"),
            "{unlisted}"
        );

        let skipped = sample();
        let message = panic_message(|| {
            skipped.assert_exactly(&Expected::new().checks([
                "otp.right_code_verifies[sms]",
                "otp.expired_is_rejected[sms]",
            ]));
        });
        assert!(
            message.contains("skip otp.expired_is_rejected[sms]"),
            "{message}"
        );
    }

    #[test]
    fn assert_exactly_wants_the_checks_listed_as_skipped_skipped() {
        let report = sample();
        let expected = Expected::new()
            .check("otp.right_code_verifies[sms]")
            .skipped("otp.expired_is_rejected[sms]");
        report.assert_exactly(&expected);

        let passed = panic_message(|| {
            report.assert_exactly(
                &Expected::new()
                    .skipped("otp.right_code_verifies[sms]")
                    .skipped("otp.expired_is_rejected[sms]"),
            );
        });
        assert!(
            passed.contains("expected to be skipped that were not: otp.right_code_verifies[sms]"),
            "{passed}"
        );
        let missing = panic_message(|| report.assert_exactly(&expected.clone().skipped("x")));
        assert!(missing.contains("did not run: x"), "{missing}");
    }

    #[test]
    fn assert_passed_refuses_skipped_and_missing_checks() {
        let report = sample();
        let skipped = std::panic::catch_unwind(|| {
            report.assert_passed(&["otp.expired_is_rejected[sms]"]);
        })
        .unwrap_err();
        assert!(
            skipped
                .downcast_ref::<String>()
                .unwrap()
                .contains("skip otp.expired_is_rejected[sms]")
        );
        let missing =
            std::panic::catch_unwind(|| report.assert_passed(&["session.unknown_is_not_found"]))
                .unwrap_err();
        assert!(
            missing
                .downcast_ref::<String>()
                .unwrap()
                .contains("did not run: session.unknown_is_not_found")
        );
    }
}
