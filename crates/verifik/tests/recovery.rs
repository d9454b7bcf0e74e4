//! Wire-exact tests of a check whose answer is lost: `PUT /v2/phone-validations` uses the code
//! up, so the verifier reads the validation back instead of retrying blindly.

use phone_verify_core::{
    Channel, CheckOutcome, ErrorKind, PhoneNumber, PhoneVerifierExt, RejectReason, Result,
    Verification,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod common;
use common::*;

/// An SMS handle for Panama's test number, as `start` makes it.
fn handle() -> Verification {
    Verification::new(phone_verify_verifik::PROVIDER, ID, Channel::Sms)
        .with_phone(panama())
        .with_extra(phone_verify_verifik::EXTRA_COUNTRY_CODE, "+507")
        .with_extra(phone_verify_verifik::EXTRA_PHONE_GATEWAY, "sms")
}

/// The body every check of `handle()` with `otp` sends.
fn check_body(otp: &Value) -> Value {
    json!({"phone": "62647737", "countryCode": "+507", "otp": otp, "phoneGateway": "sms"})
}

/// `GET /v2/phone-validations/{ID}` answering a record with `status` for `phone`.
fn record(status: &str, phone: &str) -> ResponseTemplate {
    json_response(
        200,
        &json!({"success": true, "data": {
            "_id": ID, "status": status, "countryCode": "+507", "phone": phone,
            "phoneGateway": "sms", "type": "validation",
            "validatedAt": "2024-12-02T17:06:00.000Z"
        }}),
    )
}

fn already_validated() -> ResponseTemplate {
    json_response(
        409,
        &json!({"code": "phone_validation_already_validated",
                "message": "409:phone_validation_already_validated"}),
    )
}

/// Mounts the answers of the checks, in order, each used once.
async fn checks(server: &MockServer, otp: Value, answers: Vec<ResponseTemplate>) {
    for answer in answers {
        Mock::given(method("PUT"))
            .and(path("/v2/phone-validations"))
            .and(body_json(check_body(&otp)))
            .respond_with(answer)
            .up_to_n_times(1)
            .expect(1)
            .mount(server)
            .await;
    }
}

/// Mounts the answers of the read-backs, in order, each used once.
async fn reads(server: &MockServer, answers: Vec<ResponseTemplate>) {
    for answer in answers {
        Mock::given(method("GET"))
            .and(path(format!("/v2/phone-validations/{ID}")))
            .respond_with(answer)
            .up_to_n_times(1)
            .expect(1)
            .mount(server)
            .await;
    }
}

fn verified_phone(outcome: &CheckOutcome) -> Option<PhoneNumber> {
    outcome.verified().and_then(|v| v.phone.clone())
}

/// A validation of the handle's number, as `GET /v2/phone-validations` lists it.
fn listed(id: &str, status: &str, gateway: &str) -> Value {
    json!({
        "_id": id, "status": status, "countryCode": "+507", "phone": "62647737",
        "phoneGateway": gateway, "type": "validation",
        "validatedAt": "2024-12-02T17:08:00.000Z"
    })
}

/// Mounts the answer of `GET /v2/phone-validations` for the handle's number, newest first, one
/// (the phone's newest validation): a page holding `newest`.
async fn newest(server: &MockServer, newest: Value) {
    Mock::given(method("GET"))
        .and(path("/v2/phone-validations"))
        .and(query_param("countryCode", "+507"))
        .and(query_param("phone", "62647737"))
        .and(query_param("limit", "1"))
        .respond_with(json_response(
            200,
            &json!({"success": true, "data": [newest],
                    "pagination": {"page": 1, "limit": 1, "total": 2, "pages": 2}}),
        ))
        .mount(server)
        .await;
}

/// Checks `digits` (sent as `otp`) on a server whose checks answer `checked` and whose
/// read-backs answer `read`, each in order and each exactly once, and whose newest validation
/// of the phone is the handle's; returns the server (its expectations are verified when it
/// drops) and the check's result.
async fn check_with(
    digits: &str,
    otp: Value,
    checked: Vec<ResponseTemplate>,
    read: Vec<ResponseTemplate>,
) -> (MockServer, Result<CheckOutcome>) {
    let server = MockServer::start().await;
    checks(&server, otp, checked).await;
    reads(&server, read).await;
    newest(&server, listed(ID, "sent", "sms")).await;
    let result = verifier(&server).check_code(&handle(), &code(digits)).await;
    (server, result)
}

#[tokio::test]
async fn a_lost_answer_read_back_as_validated_is_verified_with_the_records_phone() {
    for status in [500, 502, 504] {
        let (_server, result) = check_with(
            "123456",
            json!(123_456),
            vec![ResponseTemplate::new(status)],
            vec![record("validated", "62647737")],
        )
        .await;
        let outcome = result.unwrap();
        let verified = outcome.verified().expect("verified");
        assert_eq!(verified.phone, Some(panama()), "{status}");
        assert_eq!(
            verified
                .session_id
                .as_ref()
                .map(phone_verify_core::SessionId::as_str),
            Some(ID)
        );
        assert_eq!(
            verified.verified_at,
            Some(time::macros::datetime!(2024-12-02 17:06 UTC))
        );
    }
}

#[tokio::test]
async fn a_record_without_a_number_is_the_handles_validation_and_half_a_number_proves_nothing() {
    let validated_without = |fields: &[&str]| {
        let mut data = json!({
            "_id": ID, "status": "validated", "countryCode": "+507", "phone": "62647737",
            "phoneGateway": "sms", "type": "validation"
        });
        for field in fields {
            data.as_object_mut().unwrap().remove(*field);
        }
        json_response(200, &json!({"success": true, "data": data}))
    };
    // Read by the handle's own id, a record that names no number is that validation.
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![ResponseTemplate::new(502)],
        vec![validated_without(&["countryCode", "phone"])],
    )
    .await;
    assert_eq!(verified_phone(&result.unwrap()), Some(panama()));
    // Half a number cannot be held to the handle's: the outcome stays unknown.
    for missing in ["countryCode", "phone"] {
        let (_server, result) = check_with(
            "123456",
            json!(123_456),
            vec![ResponseTemplate::new(502)],
            vec![validated_without(&[missing])],
        )
        .await;
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{missing}: {err}");
    }
}

#[tokio::test]
async fn a_lost_answer_read_back_as_not_validated_is_checked_once_more() {
    let (_server, result) = check_with(
        "012345",
        json!("012345"),
        vec![
            ResponseTemplate::new(504),
            json_response(200, &validated("validation")),
        ],
        vec![record("sent", "62647737")],
    )
    .await;
    let outcome = result.unwrap();
    assert_eq!(verified_phone(&outcome), Some(panama()));
}

#[tokio::test]
async fn an_already_validated_answer_after_a_lost_one_is_verified_once_read_back() {
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![ResponseTemplate::new(500), already_validated()],
        // Not validated at the first read (the lost check was still in flight), validated at
        // the second.
        vec![record("sent", "62647737"), record("validated", "62647737")],
    )
    .await;
    let outcome = result.unwrap();
    assert_eq!(verified_phone(&outcome), Some(panama()));
}

#[tokio::test]
async fn an_already_validated_answer_the_record_does_not_confirm_is_outcome_unknown() {
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![ResponseTemplate::new(500), already_validated()],
        vec![record("sent", "62647737"), record("sent", "62647737")],
    )
    .await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert!(!err.is_retryable());
}

/// A 200 whose body cannot be read (a proxy's page, a cut answer): Verifik took the check, so
/// the record is read back rather than the answer reported as an error.
#[tokio::test]
async fn an_unreadable_success_is_read_back() {
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![ResponseTemplate::new(200).set_body_string("<html>")],
        vec![record("validated", "62647737")],
    )
    .await;
    assert_eq!(verified_phone(&result.unwrap()), Some(panama()));
    // A record that proves nothing leaves the answer's own error.
    let server = MockServer::start().await;
    checks(
        &server,
        json!(123_456),
        vec![ResponseTemplate::new(200).set_body_string("{\"data\":")],
    )
    .await;
    reads(&server, vec![ResponseTemplate::new(500)]).await;
    let err = verifier(&server)
        .check_code(&handle(), &code("123456"))
        .await
        .unwrap_err();
    // Verifik took the check: what it did with the code is unknown.
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert!(err.to_string().contains("not the expected JSON"), "{err}");
}

fn not_found() -> ResponseTemplate {
    json_response(
        404,
        &json!({"code": "phone_validation_not_found", "message": "404:phone_validation_not_found"}),
    )
}

/// The lost check took effect between the read-back and the repeated check: Verifik finds no
/// validation waiting for a code. That is no rejection: the record decides.
#[tokio::test]
async fn a_not_found_answer_after_a_lost_one_is_read_back() {
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![ResponseTemplate::new(502), not_found()],
        vec![record("sent", "62647737"), record("validated", "62647737")],
    )
    .await;
    assert_eq!(verified_phone(&result.unwrap()), Some(panama()));
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![ResponseTemplate::new(502), not_found()],
        vec![record("sent", "62647737"), record("sent", "62647737")],
    )
    .await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
}

fn does_not_match() -> ResponseTemplate {
    json_response(
        403,
        &json!({"code": "otp_does_not_match", "message": "403:otp_does_not_match"}),
    )
}

#[tokio::test]
async fn the_repeated_checks_own_answer_is_the_outcome() {
    let (_server, result) = check_with(
        "654321",
        json!(654_321),
        vec![ResponseTemplate::new(502), does_not_match()],
        // Read once more after the refusal: still not validated.
        vec![record("sent", "62647737"), record("sent", "62647737")],
    )
    .await;
    let outcome = result.unwrap();
    assert_eq!(
        outcome.rejection().map(|r| r.reason),
        Some(RejectReason::WrongCode),
        "a real 403 to the repeated check"
    );
}

/// The lost check took effect after the reads, and the repeated one met an older validation of
/// the phone (Verifik checks the most recent one still waiting for a code): its refusal is no
/// rejection once the record says validated.
#[tokio::test]
async fn a_refusal_of_the_repeated_check_is_read_back_once_more() {
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![ResponseTemplate::new(502), does_not_match()],
        vec![record("sent", "62647737"), record("validated", "62647737")],
    )
    .await;
    assert_eq!(verified_phone(&result.unwrap()), Some(panama()));
}

/// The validation `Verifik::resend` made after the handle's.
const NEWER: &str = "674de8df21c72be3cc42b8b9";

/// The handle's check after a resend, whose answer is lost: the record of the handle's
/// validation says `sent`, the phone's newest validation is `newer`, and the second check (never
/// to be sent) would answer 403 (Verifik matching the code against the handle's older
/// validation). Returns the result and the number of checks sent.
async fn after_a_resend(newer: Value) -> (Result<CheckOutcome>, usize) {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .respond_with(ResponseTemplate::new(504))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .respond_with(does_not_match())
        .mount(&server)
        .await;
    reads(&server, vec![record("sent", "62647737")]).await;
    newest(&server, newer).await;
    let result = verifier(&server)
        .check_code(&handle(), &code("123456"))
        .await;
    let checks = requests(&server)
        .await
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count();
    (result, checks)
}

#[tokio::test]
async fn a_lost_answer_after_a_resend_is_verified_when_the_newer_validation_is() {
    let (result, checks) = after_a_resend(listed(NEWER, "validated", "sms")).await;
    let outcome = result.unwrap();
    let verified = outcome.verified().expect("verified, never rejected");
    assert_eq!(verified.phone, Some(panama()));
    assert_eq!(
        verified
            .session_id
            .as_ref()
            .map(phone_verify_core::SessionId::as_str),
        Some(NEWER),
        "the validation Verifik validated"
    );
    assert_eq!(
        verified.verified_at,
        Some(time::macros::datetime!(2024-12-02 17:08 UTC))
    );
    assert_eq!(checks, 1, "not checked again");
}

#[tokio::test]
async fn a_lost_answer_after_a_resend_is_unknown_unless_the_newer_validation_is_validated() {
    let mut no_number = listed(NEWER, "validated", "sms");
    no_number.as_object_mut().unwrap().remove("phone");
    for newer in [
        listed(NEWER, "sent", "sms"),
        // Validated, but not where the check looked: another gateway, or no number.
        listed(NEWER, "validated", "whatsapp"),
        no_number,
    ] {
        let (result, checks) = after_a_resend(newer.clone()).await;
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{newer}: {err}");
        assert_eq!(checks, 1, "{newer}: not checked again");
    }
}

#[tokio::test]
async fn a_failed_read_of_the_newest_validation_leaves_the_outcome_unknown() {
    for list in [
        json_response(
            404,
            &json!({"code": "NotFound", "message": "404:not_found"}),
        ),
        json_response(200, &json!({"success": true, "data": []})),
    ] {
        let server = MockServer::start().await;
        checks(&server, json!(123_456), vec![ResponseTemplate::new(500)]).await;
        reads(&server, vec![record("sent", "62647737")]).await;
        Mock::given(method("GET"))
            .and(path("/v2/phone-validations"))
            .respond_with(list)
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier(&server)
            .check_code(&handle(), &code("123456"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    }
}

#[tokio::test]
async fn a_read_back_that_proves_nothing_leaves_the_outcome_unknown() {
    let unreadable = [
        json_response(
            404,
            &json!({"code": "phone_validation_not_found", "message": "404:phone_validation_not_found"}),
        ),
        // Another phone than the handle's.
        record("validated", "62647738"),
        ResponseTemplate::new(200).set_body_string("<html>"),
    ];
    for answer in unreadable {
        let (_server, result) = check_with(
            "123456",
            json!(123_456),
            vec![ResponseTemplate::new(500)],
            vec![answer],
        )
        .await;
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    }
}

#[tokio::test]
async fn a_second_lost_answer_is_read_back_once_more() {
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![ResponseTemplate::new(500), ResponseTemplate::new(504)],
        vec![record("sent", "62647737"), record("validated", "62647737")],
    )
    .await;
    let outcome = result.unwrap();
    assert!(outcome.is_verified());

    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![ResponseTemplate::new(500), ResponseTemplate::new(504)],
        vec![record("sent", "62647737"), record("sent", "62647737")],
    )
    .await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
}

#[tokio::test]
async fn an_already_validated_answer_without_a_lost_one_stays_a_rejection() {
    let (server, result) =
        check_with("123456", json!(123_456), vec![already_validated()], vec![]).await;
    let outcome = result.unwrap();
    assert_eq!(
        outcome.rejection().map(|r| r.reason),
        Some(RejectReason::NotFound)
    );
    assert!(
        requests(&server)
            .await
            .iter()
            .all(|r| r.method.as_str() == "PUT")
    );
}
