//! [`Expected`] and the check names it is written with: the conformance checks a test
//! expects to run.

use std::fmt;

/// The checks every OTP channel gets, to expand with [`Expected::per_channel`]: the check
/// without a code and the start with a phone and a QR code refused, then the ten `otp.*`
/// checks (`otp.valid_until_expires_at`, like `otp.expired_is_rejected`, is skipped when the
/// handle has no `expires_at` or the harness cannot move the provider's clock).
pub const OTP_CHECKS: &[&str] = &[
    "input.otp_check_without_code_refused",
    "input.qr_code_with_phone_refused",
    "otp.right_code_verifies",
    "otp.wrong_code_rejected",
    "otp.right_code_after_wrong_code",
    "otp.code_single_use",
    "otp.malformed_code_refused",
    "otp.unknown_reference_rejected",
    "otp.expired_is_rejected",
    "otp.valid_until_expires_at",
    "otp.handle_json_round_trip",
    "otp.handle_in_fresh_client",
];

/// The checks every OTP channel that sends a message (all but TOTP) gets: exactly one send,
/// no retry after an injected 503 with `Retry-After` or a connection reset, and `MaybeSent`
/// after a 503 without `Retry-After` and after a 500, a 502 or a 504
/// ([`SendFault::SERVER_ERRORS`](crate::SendFault::SERVER_ERRORS)). The fault checks are
/// skipped when the harness cannot inject their [`SendFault`](crate::SendFault) or count
/// requests: list those then with [`Expected::skipped`].
pub const SEND_CHECKS: &[&str] = &[
    "send.exactly_once",
    "send.not_retried_after_503",
    "send.maybe_sent_after_plain_503",
    "send.not_retried_after_reset",
    "send.maybe_sent_after_500",
    "send.maybe_sent_after_502",
    "send.maybe_sent_after_504",
];

/// The checks every OTP channel gets: a check whose answer was lost, or that was answered
/// with a server error (a 503 without `Retry-After`, a 500, a 502, a 504:
/// [`CheckFault::SERVER_ERRORS`](crate::CheckFault::SERVER_ERRORS)), is never a rejection,
/// and (when the harness counts code checks) is not sent again; a wrong code's check whose
/// answer was lost is never `Verified`, nor is a wrong code's on a handle verified minutes
/// before (its success read back). They always run, and are skipped when the harness cannot
/// inject that [`CheckFault`](crate::CheckFault)
/// ([`Harness::inject_check_fault`](crate::Harness::inject_check_fault)).
pub const CHECK_FAULT_CHECKS: &[&str] = &[
    "otp.lost_answer_not_rejected",
    "otp.lost_answer_wrong_code_not_verified",
    "otp.used_code_lost_answer_not_verified",
    "otp.server_error_not_rejected",
    "otp.server_error_500_not_rejected",
    "otp.server_error_502_not_rejected",
    "otp.server_error_504_not_rejected",
];

/// The checks every reverse channel gets: a poll answered 503 is retried after its
/// `Retry-After`. They always run, and are skipped when the harness cannot inject lookup
/// faults ([`Harness::inject_lookup_fault`](crate::Harness::inject_lookup_fault)).
pub const REVERSE_FAULT_CHECKS: &[&str] = &["reverse.poll_retried_after_503"];

/// The checks every reverse channel gets besides [`REVERSE_FAULT_CHECKS`]: a poll answered 429
/// with `Retry-After: 1` is retried after that second, one answered 503 without
/// `Retry-After` after a backoff, one whose connection was reset before any answer at all;
/// each then verifies. They always run, and are skipped when the harness cannot inject
/// that lookup fault ([`Harness::inject_lookup_fault`](crate::Harness::inject_lookup_fault)
/// answering `Unsupported` for [`LookupFault::RateLimited`](crate::LookupFault::RateLimited),
/// [`ServiceUnavailableWithoutRetryAfter`](crate::LookupFault::ServiceUnavailableWithoutRetryAfter)
/// or [`ConnectionReset`](crate::LookupFault::ConnectionReset)): list those then with
/// [`Expected::skipped_per_channel`].
pub const REVERSE_RETRY_CHECKS: &[&str] = &[
    "reverse.poll_retried_after_429",
    "reverse.poll_retried_after_plain_503",
    "reverse.poll_retried_after_reset",
];

/// The checks a verifier with `capabilities.session_resolution` gets besides
/// [`SESSION_FAULT_CHECKS`], once: a resolution answered 429 with `Retry-After: 1`, 503
/// without `Retry-After`, or cut by a connection reset before any answer, is retried and
/// finds the phone. Skipped as [`REVERSE_RETRY_CHECKS`] are, and without a resolver.
pub const SESSION_RETRY_CHECKS: &[&str] = &[
    "session.resolve_retried_after_429",
    "session.resolve_retried_after_plain_503",
    "session.resolve_retried_after_reset",
];

/// The check a verifier with `capabilities.session_resolution` gets, once: a resolution
/// answered 503 is retried after its `Retry-After`. It always runs, and is skipped when the
/// harness cannot inject lookup faults
/// ([`Harness::inject_lookup_fault`](crate::Harness::inject_lookup_fault)) or no resolver was
/// given.
pub const SESSION_FAULT_CHECKS: &[&str] = &["session.resolve_retried_after_503"];

/// The checks every OTP channel that sends a message (all but TOTP) gets: a send answered
/// with an unreadable body (truncated, malformed JSON, wrong content type, oversized, valid
/// JSON of the wrong shape) or one
/// that stalls is a `MaybeSent` error, sent once. They always run, and are skipped when the
/// harness cannot inject hostile answers
/// ([`Harness::inject_hostile_answer`](crate::Harness::inject_hostile_answer)); the stalled one
/// also without [`Harness::impatient_client`](crate::Harness::impatient_client).
pub const HOSTILE_SEND_CHECKS: &[&str] = &[
    "send.unreadable_answer_maybe_sent",
    "send.stalled_answer_maybe_sent",
];

/// The checks every OTP channel gets: a code check answered with an unreadable or a stalled
/// body is an `OutcomeUnknown` error (or `Verified` after a read-back), never a rejection; a
/// wrong code's check answered with an unreadable body is never `Verified`. Skipped as
/// [`HOSTILE_SEND_CHECKS`] are.
pub const HOSTILE_CHECK_CHECKS: &[&str] = &[
    "otp.unreadable_answer_not_rejected",
    "otp.unreadable_answer_wrong_code_not_verified",
    "otp.stalled_answer_not_rejected",
];

/// The checks every reverse channel gets: a completed flow's poll answered with an
/// unreadable or a stalled body is a typed error or, after a retry, `Verified` with the
/// user's phone; never pending, rejected nor another error. Skipped as
/// [`HOSTILE_SEND_CHECKS`] are.
pub const HOSTILE_POLL_CHECKS: &[&str] = &[
    "reverse.unreadable_poll_not_misread",
    "reverse.stalled_poll_not_misread",
];

/// The checks a verifier with `capabilities.session_resolution` gets, once: a resolution
/// answered with an unreadable or a stalled body is a typed error or, after a retry, the
/// verified phone; never `NotFound` nor another phone. Skipped as [`HOSTILE_SEND_CHECKS`]
/// are.
pub const HOSTILE_SESSION_CHECKS: &[&str] = &[
    "session.unreadable_resolution_not_misread",
    "session.stalled_resolution_not_misread",
];

/// The check every run gets, once: each documented provider error the harness lists
/// ([`Harness::documented_errors`](crate::Harness::documented_errors)), injected as the
/// provider's answer, ends in its typed result with the provider's code, message and request
/// id kept. It always runs, and is skipped, saying so, when the harness lists none or cannot
/// inject them ([`Harness::inject_documented_error`](crate::Harness::inject_documented_error)):
/// list it then with [`Expected::skipped`].
pub const DOCUMENTED_ERROR_CHECKS: &[&str] = &["errors.documented_codes_typed"];

/// The checks every OTP channel gets: the provider's limit of wrong codes holds, and no
/// sooner (the right code after one wrong code fewer verifies). They always run, and are
/// skipped, saying so, when the harness names no limit
/// ([`Harness::wrong_code_limit`](crate::Harness::wrong_code_limit): the provider sets none);
/// list them then with [`Expected::skipped_per_channel`]. A limit of one wrong code skips
/// `otp.right_code_within_limit`, which has no wrong code to give then.
pub const WRONG_CODE_LIMIT_CHECKS: &[&str] =
    &["otp.wrong_code_limit", "otp.right_code_within_limit"];

/// The privacy checks, once per run: no credential shown, no code shown, and no phone number,
/// code or credential logged. Without credentials named by
/// [`Harness::secrets`](crate::Harness::secrets), `privacy.secrets_not_shown` is skipped,
/// saying so: list it then with [`Expected::skipped`]; without an OTP channel whose codes the
/// harness reads, `privacy.codes_not_shown` is skipped.
pub const PRIVACY_CHECKS: &[&str] = &[
    "privacy.secrets_not_shown",
    "privacy.codes_not_shown",
    "privacy.phones_and_codes_not_logged",
];

/// The checks every reverse channel gets (with `capabilities.qr_code`, `reverse.qr_code` too).
/// `reverse.expired_is_rejected` is skipped when the handle has no `expires_at` or the harness
/// cannot move the provider's clock.
pub const REVERSE_CHECKS: &[&str] = &[
    "reverse.pending_then_verified",
    "reverse.handle_json_round_trip",
    "reverse.handle_in_fresh_client",
    "reverse.expired_is_rejected",
];

/// The conformance checks a test expects to run, by name: those that must pass, and those
/// that must be skipped because they do not apply to the provider (say, `otp.wrong_code_limit`
/// for a provider without a limit of wrong codes).
///
/// Writing the list out (rather than deriving it from the verifier's capabilities) is what
/// makes a check that silently stops running fail the test:
/// [`Report::assert_exactly`](crate::Report::assert_exactly) fails when a listed check did not
/// run or did not end as listed (passed, or [skipped](Expected::skipped)), and when a check ran
/// that is not listed.
///
/// ```
/// use phone_verify_testkit::{Expected, OTP_CHECKS, SEND_CHECKS};
///
/// let expected = Expected::new()
///     .checks(["input.unsupported_channel_refused[voice]", "input.foreign_handle_refused"])
///     .per_channel(OTP_CHECKS, ["sms", "whatsapp"])
///     .per_channel(SEND_CHECKS, ["sms"]);
/// assert_eq!(expected.len(), 2 + 2 * 12 + 7);
/// assert!(expected.names().iter().any(|n| n == "otp.right_code_verifies[whatsapp]"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    names: Vec<String>,
    skipped: Vec<String>,
}

impl Expected {
    /// No checks yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the check `name`, e.g. `session.resolves_verified_phone`, which must pass (a name
    /// listed twice counts once; a name listed as [skipped](Expected::skipped) moves here).
    #[must_use]
    pub fn check(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.skipped.retain(|n| *n != name);
        if !self.names.contains(&name) {
            self.names.push(name);
        }
        self
    }

    /// Adds the check `name` as one that must run and be skipped: a check that does not apply
    /// to the provider, such as `privacy.secrets_not_shown` when it has no credentials. The
    /// report gives the reason; the test fails if the check passes, fails or does not run
    /// (a name listed to pass moves here).
    ///
    /// ```
    /// use phone_verify_testkit::{Expected, WRONG_CODE_LIMIT_CHECKS};
    ///
    /// let expected = Expected::new()
    ///     .check("privacy.phones_and_codes_not_logged")
    ///     .skipped("privacy.secrets_not_shown") // no credentials
    ///     .skipped_per_channel(WRONG_CODE_LIMIT_CHECKS, ["sms"]); // no limit of wrong codes
    /// assert_eq!(expected.len(), 1);
    /// assert_eq!(
    ///     expected.skipped_names(),
    ///     [
    ///         "privacy.secrets_not_shown",
    ///         "otp.wrong_code_limit[sms]",
    ///         "otp.right_code_within_limit[sms]",
    ///     ]
    /// );
    /// ```
    #[must_use]
    pub fn skipped(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.names.retain(|n| *n != name);
        if !self.skipped.contains(&name) {
            self.skipped.push(name);
        }
        self
    }

    /// Adds `check[channel]` as [skipped](Expected::skipped) for every check in `checks` and
    /// every channel in `channels`.
    #[must_use]
    pub fn skipped_per_channel<I, S>(self, checks: &[&str], channels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: fmt::Display,
    {
        let channels: Vec<String> = channels.into_iter().map(|c| c.to_string()).collect();
        checks.iter().fold(self, |expected, check| {
            channels.iter().fold(expected, |expected, c| {
                expected.skipped(format!("{check}[{c}]"))
            })
        })
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

    /// The checks that must pass, in the order added.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The checks that must be [skipped](Expected::skipped), in the order added.
    pub fn skipped_names(&self) -> &[String] {
        &self.skipped
    }

    /// How many checks must pass (those listed as skipped are not counted).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no check was added, to pass or to be skipped.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.skipped.is_empty()
    }
}
