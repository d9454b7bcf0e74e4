//! The in-memory provider passes the whole conformance suite, with nothing skipped.

use phone_verify_testkit::memory::{InMemoryHarness, InMemoryVerifier};
use phone_verify_testkit::run;

#[tokio::test]
async fn in_memory_provider_conforms() {
    let verifier = InMemoryVerifier::with_seed(7);
    let harness = InMemoryHarness::new(&verifier);
    let report = run(&verifier, Some(&verifier), &harness).await;
    println!("{report}");
    report.assert_all_passed();

    // The in-memory harness supports everything, so nothing may be skipped...
    let skipped: Vec<_> = report.skipped().map(|r| r.name.as_str()).collect();
    assert!(skipped.is_empty(), "skipped: {skipped:?}\n{report}");
    // ...and every check its capabilities call for ran.
    let mut expected = vec![
        "input.unsupported_channel_refused[telegram]".to_owned(),
        "input.otp_without_phone_refused[sms]".to_owned(),
        "input.otp_without_phone_refused[voice]".to_owned(),
        "input.foreign_handle_refused".to_owned(),
        "input.qr_code_refused[whatsapp]".to_owned(),
        "session.resolves_verified_phone".to_owned(),
        "session.unknown_is_not_found".to_owned(),
    ];
    for c in ["sms", "whatsapp", "voice"] {
        for check in [
            "input.otp_check_without_code_refused",
            "otp.right_code_verifies",
            "otp.wrong_code_rejected",
            "otp.right_code_after_wrong_code",
            "otp.malformed_code_refused",
            "otp.expired_is_rejected",
            "otp.handle_json_round_trip",
            "otp.handle_in_fresh_client",
            "send.exactly_once",
            "send.not_retried_after_503",
            "send.not_retried_after_reset",
        ] {
            expected.push(format!("{check}[{c}]"));
        }
    }
    for check in [
        "reverse.pending_then_verified",
        "reverse.handle_json_round_trip",
        "reverse.handle_in_fresh_client",
    ] {
        expected.push(format!("{check}[whatsapp]"));
    }
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    report.assert_passed(&expected);
    assert_eq!(report.results().len(), expected.len(), "{report}");
}
