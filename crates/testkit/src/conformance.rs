//! [`Conformance`] and [`Expected`]: a provider crate's conformance test in a few lines.

use std::fmt;
use std::sync::Arc;

use phone_verify_core::{PhoneVerifier, SessionResolver};

use crate::harness::Harness;
use crate::report::Report;

/// The checks every OTP channel gets, to expand with [`Expected::per_channel`]: the check
/// without a code refused, then the seven `otp.*` checks.
pub const OTP_CHECKS: &[&str] = &[
    "input.otp_check_without_code_refused",
    "otp.right_code_verifies",
    "otp.wrong_code_rejected",
    "otp.right_code_after_wrong_code",
    "otp.malformed_code_refused",
    "otp.expired_is_rejected",
    "otp.handle_json_round_trip",
    "otp.handle_in_fresh_client",
];

/// The checks every OTP channel that sends a message (all but TOTP) gets: exactly one send,
/// and no retry after an injected 503 or connection reset.
pub const SEND_CHECKS: &[&str] = &[
    "send.exactly_once",
    "send.not_retried_after_503",
    "send.not_retried_after_reset",
];

/// The checks every reverse channel gets (with `capabilities.qr_code`, `reverse.qr_code` too).
pub const REVERSE_CHECKS: &[&str] = &[
    "reverse.pending_then_verified",
    "reverse.handle_json_round_trip",
    "reverse.handle_in_fresh_client",
];

/// The conformance checks a test expects to run, by name, all of which must pass.
///
/// Writing the list out (rather than deriving it from the verifier's capabilities) is what
/// makes a check that silently stops running fail the test:
/// [`Report::assert_exactly`] fails when a listed check did not run or did not pass, and when
/// a check ran that is not listed.
///
/// ```
/// use phone_verify_testkit::{Expected, OTP_CHECKS, SEND_CHECKS};
///
/// let expected = Expected::new()
///     .checks(["input.unsupported_channel_refused[voice]", "input.foreign_handle_refused"])
///     .per_channel(OTP_CHECKS, ["sms", "whatsapp"])
///     .per_channel(SEND_CHECKS, ["sms"]);
/// assert_eq!(expected.len(), 2 + 2 * 8 + 3);
/// assert!(expected.names().iter().any(|n| n == "otp.right_code_verifies[whatsapp]"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    names: Vec<String>,
}

impl Expected {
    /// No checks yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the check `name`, e.g. `session.resolves_verified_phone` (a name listed twice
    /// counts once).
    #[must_use]
    pub fn check(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        if !self.names.contains(&name) {
            self.names.push(name);
        }
        self
    }

    /// Adds every check in `names`.
    #[must_use]
    pub fn checks<I, S>(self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        names.into_iter().fold(self, Self::check)
    }

    /// Adds `check[channel]` for every check in `checks` and every channel in `channels`,
    /// e.g. with [`OTP_CHECKS`], [`SEND_CHECKS`] or [`REVERSE_CHECKS`].
    #[must_use]
    pub fn per_channel<I, S>(self, checks: &[&str], channels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: fmt::Display,
    {
        let channels: Vec<String> = channels.into_iter().map(|c| c.to_string()).collect();
        checks.iter().fold(self, |expected, check| {
            channels.iter().fold(expected, |expected, c| {
                expected.check(format!("{check}[{c}]"))
            })
        })
    }

    /// The checks, in the order added.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// How many checks.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no check was added.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

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
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let verifier = Arc::new(InMemoryVerifier::new());
/// let harness = InMemoryHarness::new(&verifier);
/// let expected = Expected::new()
///     .checks(["input.unsupported_channel_refused[telegram]", "input.foreign_handle_refused"])
///     .checks(["input.qr_code_refused[whatsapp]", "session.resolves_verified_phone"])
///     .check("session.unknown_is_not_found")
///     .per_channel(&["input.otp_without_phone_refused"], ["sms", "voice"])
///     .per_channel(OTP_CHECKS, ["sms", "whatsapp", "voice"])
///     .per_channel(SEND_CHECKS, ["sms", "whatsapp", "voice"])
///     .per_channel(REVERSE_CHECKS, ["whatsapp"]);
/// Conformance::resolving(verifier, harness).assert_conforms(&expected).await;
/// # });
/// ```
pub struct Conformance {
    verifier: Arc<dyn PhoneVerifier>,
    resolver: Option<Arc<dyn SessionResolver>>,
    harness: Box<dyn Harness>,
}

impl Conformance {
    /// `verifier`, without a session resolver, on `harness`.
    pub fn new(verifier: Arc<dyn PhoneVerifier>, harness: impl Harness + 'static) -> Self {
        Self {
            verifier,
            resolver: None,
            harness: Box::new(harness),
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

    /// The harness.
    pub fn harness(&self) -> &dyn Harness {
        &*self.harness
    }

    /// Runs the suite ([`run`](crate::run)) and returns its report.
    pub async fn run(&self) -> Report {
        crate::run(&*self.verifier, self.resolver.as_deref(), &*self.harness).await
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
            .finish_non_exhaustive()
    }
}
