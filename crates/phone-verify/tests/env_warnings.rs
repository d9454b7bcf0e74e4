//! `Registry::build_from_env` logs, by name and never by value, the variables under the
//! provider's prefix that it did not read: a mistyped variable is otherwise silently ignored.
//! Its own test binary, as `tracing` caches callsite interest globally; the test runs itself
//! again as a child process with the variables set (setting them here needs `unsafe`).

use std::sync::Arc;

use phone_verify::{Provider, Registry};
use phone_verify_testkit::logs::LogCapture;
use phone_verify_testkit::memory::InMemoryVerifier;

/// The variable that tells the child run which provider to build from its environment.
const CHILD: &str = "PHONE_VERIFY_FACADE_TEST_CHILD";

/// `acme`, which reads `ACME_KEY` and `ACME_REGION`, beside `acme-eu`, whose variables share
/// `acme`'s prefix; and the built-in providers.
fn registry() -> Registry {
    let mut registry = Registry::with_builtin();
    for name in ["acme", "acme-eu"] {
        registry
            .register(name, |settings| {
                settings.require_secret(&format!("{}KEY", settings.prefix()))?;
                settings.get(&format!("{}REGION", settings.prefix()));
                Ok(Provider::new(Arc::new(InMemoryVerifier::new())))
            })
            .unwrap();
    }
    registry
}

/// Runs this test again with `vars` set, then returns what its child run logged.
fn child_logs(test: &str, vars: &[(&str, &str)]) -> String {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// In the child run: builds the provider of `PHONE_VERIFY_PROVIDER` from the environment
/// under a capturing subscriber and prints the logs for the parent.
fn build_and_print_logs() {
    let capture = LogCapture::new();
    let guard = capture.set_default(tracing::Level::INFO);
    let built = registry().build_from_env();
    drop(guard);
    let logs = capture.text();
    println!("built: {}\n<logs>{logs}</logs>", built.is_ok());
}

#[test]
fn unread_variables_under_the_prefix_are_logged_by_name() {
    if std::env::var_os(CHILD).is_some() {
        return build_and_print_logs();
    }
    let logs = child_logs(
        "unread_variables_under_the_prefix_are_logged_by_name",
        &[
            ("PHONE_VERIFY_PROVIDER", "acme"),
            ("ACME_KEY", "canary-key"),
            ("ACME_KYE", "canary-typo"),
            ("ACME_MAX_ATTEMPT", "canary-max"),
            ("ACME_EU_KEY", "canary-eu"),
        ],
    );
    assert!(logs.contains("built: true"), "{logs}");
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("ACME_KYE, ACME_MAX_ATTEMPT"), "{logs}");
    assert!(logs.contains("acme"), "{logs}");
    // Another provider's variables are not this one's; values never show.
    assert!(!logs.contains("ACME_EU_KEY"), "{logs}");
    assert!(!logs.contains("canary"), "{logs}");
}

/// A failed build warns too: the mistyped variable is often why it failed.
#[test]
fn a_failed_build_also_names_the_unread_variables() {
    if std::env::var_os(CHILD).is_some() {
        return build_and_print_logs();
    }
    let logs = child_logs(
        "a_failed_build_also_names_the_unread_variables",
        &[
            ("PHONE_VERIFY_PROVIDER", "acme"),
            ("ACME_KYE", "canary-typo"),
        ],
    );
    assert!(logs.contains("built: false"), "{logs}");
    assert!(logs.contains("ACME_KYE"), "{logs}");
    assert!(logs.contains("not read before the build failed"), "{logs}");
    // The build stopped at its error, so a variable it reads later is no typo.
    assert!(!logs.contains("a typo"), "{logs}");
    assert!(!logs.contains("canary"), "{logs}");
}

/// A built-in provider: VerifyKit's variable without its `S`.
#[cfg(feature = "verifykit")]
#[test]
fn a_builtin_providers_mistyped_variable_is_logged() {
    if std::env::var_os(CHILD).is_some() {
        return build_and_print_logs();
    }
    let logs = child_logs(
        "a_builtin_providers_mistyped_variable_is_logged",
        &[
            ("PHONE_VERIFY_PROVIDER", "verifykit"),
            ("VERIFYKIT_SERVER_KEY", "canary-key"),
            ("VERIFYKIT_MAX_ATTEMPT", "2"),
        ],
    );
    assert!(logs.contains("built: true"), "{logs}");
    assert!(logs.contains("VERIFYKIT_MAX_ATTEMPT"), "{logs}");
    assert!(!logs.contains("VERIFYKIT_SERVER_KEY"), "{logs}");
    assert!(!logs.contains("canary"), "{logs}");
}
