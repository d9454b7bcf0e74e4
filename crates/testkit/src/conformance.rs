//! [`Conformance`]: a provider crate's conformance test in a few lines.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::{PhoneVerifier, SessionResolver};

use crate::expected::Expected;
use crate::harness::Harness;
use crate::report::Report;
use crate::suite::{DEFAULT_CHECK_TIMEOUT, run_with_timeout};

/// A conformance run ready to go: the verifier under test, its session resolver if any, and
/// the harness of its test environment.
///
/// [`assert_conforms`](Conformance::assert_conforms) runs the suite, prints the report and
/// asserts it against an [`Expected`] list; a provider crate's whole conformance test is then
/// this and the code that builds the verifier and the harness. With the `sandbox` feature,
/// `sandbox::run_conformance` starts the sandbox too.
///
/// ```
/// use std::sync::Arc;
/// use phone_verify_testkit::memory::{InMemoryHarness, InMemoryVerifier};
/// use phone_verify_testkit::{Conformance, Expected, OTP_CHECKS, REVERSE_CHECKS, SEND_CHECKS};
/// use phone_verify_testkit::{CHECK_FAULT_CHECKS, WRONG_CODE_LIMIT_CHECKS};
/// use phone_verify_testkit::{REVERSE_FAULT_CHECKS, SESSION_FAULT_CHECKS};
/// use phone_verify_testkit::{REVERSE_RETRY_CHECKS, SESSION_RETRY_CHECKS};
/// use phone_verify_testkit::{HOSTILE_CHECK_CHECKS, HOSTILE_POLL_CHECKS, HOSTILE_SEND_CHECKS};
/// use phone_verify_testkit::{DOCUMENTED_ERROR_CHECKS, HOSTILE_SESSION_CHECKS};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let verifier = Arc::new(InMemoryVerifier::new());
/// let harness = InMemoryHarness::new(&verifier);
/// let expected = Expected::new()
///     .checks(["input.unsupported_channel_refused[telegram]", "input.foreign_handle_refused"])
///     .checks(["input.qr_code_refused[whatsapp]", "session.resolves_verified_phone"])
///     .checks(["session.unknown_is_not_found", "privacy.phones_and_codes_not_logged"])
///     .check("privacy.codes_not_shown")
///     .checks(["input.hostile_handle_refused", "input.malformed_session_refused"])
///     .check("handle.no_reserved_extras")
///     .skipped("privacy.secrets_not_shown") // no credentials: skipped, saying so
///     .checks(SESSION_FAULT_CHECKS.iter().copied())
///     .checks(SESSION_RETRY_CHECKS.iter().copied())
///     .per_channel(&["input.otp_without_phone_refused"], ["sms", "voice"])
///     .per_channel(OTP_CHECKS, ["sms", "whatsapp", "voice"])
///     .per_channel(CHECK_FAULT_CHECKS, ["sms", "whatsapp", "voice"])
///     .per_channel(WRONG_CODE_LIMIT_CHECKS, ["sms", "whatsapp", "voice"])
///     .per_channel(SEND_CHECKS, ["sms", "whatsapp", "voice"])
///     .per_channel(REVERSE_CHECKS, ["whatsapp"])
///     .per_channel(REVERSE_FAULT_CHECKS, ["whatsapp"])
///     .per_channel(REVERSE_RETRY_CHECKS, ["whatsapp"])
///     .per_channel(HOSTILE_CHECK_CHECKS, ["sms", "whatsapp", "voice"])
///     .per_channel(HOSTILE_SEND_CHECKS, ["sms", "whatsapp", "voice"])
///     .per_channel(HOSTILE_POLL_CHECKS, ["whatsapp"])
///     .checks(HOSTILE_SESSION_CHECKS.iter().copied())
///     .checks(DOCUMENTED_ERROR_CHECKS.iter().copied());
/// Conformance::resolving(verifier, harness).assert_conforms(&expected).await;
/// # });
/// ```
pub struct Conformance {
    verifier: Arc<dyn PhoneVerifier>,
    resolver: Option<Arc<dyn SessionResolver>>,
    harness: Box<dyn Harness>,
    check_timeout: Duration,
}

impl Conformance {
    /// `verifier`, without a session resolver, on `harness`.
    pub fn new(verifier: Arc<dyn PhoneVerifier>, harness: impl Harness + 'static) -> Self {
        Self {
            verifier,
            resolver: None,
            harness: Box::new(harness),
            check_timeout: DEFAULT_CHECK_TIMEOUT,
        }
    }

    /// `verifier`, which is its own session resolver, on `harness`.
    pub fn resolving<V>(verifier: Arc<V>, harness: impl Harness + 'static) -> Self
    where
        V: PhoneVerifier + SessionResolver + 'static,
    {
        Self::new(verifier.clone(), harness).with_resolver(verifier)
    }

    /// Sets the session resolver the `session.*` checks use.
    #[must_use]
    pub fn with_resolver(mut self, resolver: Arc<dyn SessionResolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Sets how long one check may take before it fails ([`run_with_timeout`]); by default
    /// [`DEFAULT_CHECK_TIMEOUT`], 60 seconds.
    #[must_use]
    pub fn with_check_timeout(mut self, timeout: Duration) -> Self {
        self.check_timeout = timeout;
        self
    }

    /// The harness.
    pub fn harness(&self) -> &dyn Harness {
        &*self.harness
    }

    /// Runs the suite ([`run_with_timeout`], with the
    /// [check timeout](Conformance::with_check_timeout)) and returns its report.
    pub async fn run(&self) -> Report {
        run_with_timeout(
            &*self.verifier,
            self.resolver.as_deref(),
            &*self.harness,
            self.check_timeout,
        )
        .await
    }

    /// Runs the suite, prints the report, and panics with it unless exactly the `expected`
    /// checks ran and passed ([`Report::assert_exactly`]).
    pub async fn assert_conforms(&self, expected: &Expected) -> Report {
        let report = self.run().await;
        println!("{report}");
        report.assert_exactly(expected);
        report
    }
}

impl fmt::Debug for Conformance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conformance")
            .field("verifier", &self.verifier)
            .field(
                "resolver",
                &self
                    .resolver
                    .as_ref()
                    .map(|r| SessionResolver::provider(&**r)),
            )
            .field("check_timeout", &self.check_timeout)
            .finish_non_exhaustive()
    }
}
