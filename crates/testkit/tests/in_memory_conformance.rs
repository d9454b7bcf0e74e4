//! The in-memory provider passes the whole conformance suite; only the check of credentials,
//! which it has none of, is skipped.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::time::OffsetDateTime;

use phone_verify_testkit::memory::{InMemoryHarness, InMemoryVerifier};
use phone_verify_testkit::{
    CHECK_FAULT_CHECKS, Conformance, DOCUMENTED_ERROR_CHECKS, Expected, HOSTILE_CHECK_CHECKS,
    HOSTILE_POLL_CHECKS, HOSTILE_SEND_CHECKS, HOSTILE_SESSION_CHECKS, OTP_CHECKS, REVERSE_CHECKS,
    REVERSE_FAULT_CHECKS, REVERSE_RETRY_CHECKS, SEND_CHECKS, SESSION_FAULT_CHECKS,
    SESSION_RETRY_CHECKS, WRONG_CODE_LIMIT_CHECKS,
};

#[tokio::test]
async fn in_memory_provider_conforms() {
    let verifier = Arc::new(InMemoryVerifier::with_seed(7));
    let harness = InMemoryHarness::new(&verifier);
    // Every check its capabilities call for, each run and passed but the one that does not
    // apply.
    let expected = Expected::new()
        .checks([
            "input.unsupported_channel_refused[telegram]",
            "input.otp_without_phone_refused[sms]",
            "input.otp_without_phone_refused[voice]",
            "input.foreign_handle_refused",
            "input.hostile_handle_refused",
            "handle.no_reserved_extras",
            "input.malformed_session_refused",
            "input.qr_code_refused[whatsapp]",
            "session.resolves_verified_phone",
            "session.unknown_is_not_found",
            "privacy.codes_not_shown",
            "privacy.phones_and_codes_not_logged",
        ])
        // The in-memory provider has no credentials: nothing to search for.
        .skipped("privacy.secrets_not_shown")
        .per_channel(OTP_CHECKS, ["sms", "whatsapp", "voice"])
        .per_channel(CHECK_FAULT_CHECKS, ["sms", "whatsapp", "voice"])
        .per_channel(WRONG_CODE_LIMIT_CHECKS, ["sms", "whatsapp", "voice"])
        .per_channel(SEND_CHECKS, ["sms", "whatsapp", "voice"])
        .per_channel(REVERSE_CHECKS, ["whatsapp"])
        .per_channel(REVERSE_FAULT_CHECKS, ["whatsapp"])
        .checks(SESSION_FAULT_CHECKS.iter().copied())
        // Polls and resolutions answered 429, 503 without Retry-After, or reset: retried.
        .per_channel(REVERSE_RETRY_CHECKS, ["whatsapp"])
        .checks(SESSION_RETRY_CHECKS.iter().copied())
        // Unreadable and stalled answers (the in-memory client makes the errors an HTTP
        // client would).
        .per_channel(HOSTILE_CHECK_CHECKS, ["sms", "whatsapp", "voice"])
        .per_channel(HOSTILE_SEND_CHECKS, ["sms", "whatsapp", "voice"])
        .per_channel(HOSTILE_POLL_CHECKS, ["whatsapp"])
        .checks(HOSTILE_SESSION_CHECKS.iter().copied())
        // Its documented errors (`memory::documented_errors`), each typed as documented.
        .checks(DOCUMENTED_ERROR_CHECKS.iter().copied());
    assert_eq!(expected.len(), 128);
    let state = verifier.state().clone();
    let report = Conformance::resolving(verifier, harness)
        .assert_conforms(&expected)
        .await;
    assert_eq!(report.provider(), &InMemoryVerifier::PROVIDER);

    // Each expiry check moved the provider's clock by a verification's lifetime (10 minutes)
    // and a minute, each validity check by its lifetime less a minute (or a second less: the
    // time left is read in whole seconds, a moment after the start), not by the offset
    // earlier checks had already added as well.
    let count = |check: &str| {
        report
            .results()
            .iter()
            .filter(|r| r.name.contains(check))
            .count()
    };
    let expiry_checks = count(".expired_is_rejected[");
    let validity_checks = count(".valid_until_expires_at[");
    assert_eq!((expiry_checks, validity_checks), (4, 3), "{report}");
    let each = Duration::from_secs(11 * 60);
    let short = Duration::from_secs(9 * 60);
    let all = each * 4 + short * 3;
    let now = OffsetDateTime::now_utc();
    let moved = (state.now() - now).unsigned_abs();
    assert!(
        moved + Duration::from_secs(3) >= all && moved < all + each,
        "the provider's clock moved {moved:?} in {expiry_checks} expiry and {validity_checks} \
         validity checks"
    );
}
