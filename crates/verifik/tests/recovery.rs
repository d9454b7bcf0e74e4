//! Wire-exact tests of a check whose answer is lost: `PUT /v2/phone-validations` uses the code
//! up, so the verifier reads the validation back instead of retrying blindly.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use phone_verify_core::http::{Clock, ConfigureHttp, HttpConfig, Sleep};
use phone_verify_core::{
    Channel, CheckOutcome, ErrorKind, PhoneNumber, PhoneVerifierExt, RejectReason, Result,
    Verification,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
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

/// `GET /v2/phone-validations/{ID}` answering a record with `status` for `phone`, validated
/// (if it is) just now: by the lost check.
fn record(status: &str, phone: &str) -> ResponseTemplate {
    json_response(
        200,
        &json!({"success": true, "data": {
            "_id": ID, "status": status, "countryCode": "+507", "phone": phone,
            "phoneGateway": "sms", "type": "validation",
            "validatedAt": date(minutes_from_now(0))
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

/// When the handle's validation was created, on Verifik's clock.
const CREATED: &str = "2024-12-02T17:05:36.788Z";
/// When the validation `Verifik::resend` made was created: after the handle's.
const RESENT: &str = "2024-12-02T17:06:10.000Z";
/// When `LATEST` was created: after `RESENT`.
const RESENT_AGAIN: &str = "2024-12-02T17:07:00.000Z";
/// Before the handle's validation was created.
const EARLIER: &str = "2024-12-01T09:00:00.000Z";

/// This machine's clock, to the second, moved by `minutes`: the checks of these tests are sent
/// moments after it is read.
fn minutes_from_now(minutes: i64) -> OffsetDateTime {
    (OffsetDateTime::now_utc() + time::Duration::minutes(minutes))
        .replace_nanosecond(0)
        .unwrap()
}

fn date(at: OffsetDateTime) -> Value {
    json!(at.format(&Rfc3339).unwrap())
}

/// A validation of the handle's number, as `GET /v2/phone-validations` lists it: the handle's
/// own (`ID`) created at `CREATED`, another at `RESENT`; one `validated` was validated just
/// now, after the lost check was sent.
fn listed(id: &str, status: &str, gateway: &str) -> Value {
    let mut record = json!({
        "_id": id, "status": status, "countryCode": "+507", "phone": "62647737",
        "phoneGateway": gateway, "type": "validation",
        "createdAt": if id == ID { CREATED } else { RESENT },
    });
    if status == "validated" {
        record["validatedAt"] = date(minutes_from_now(0));
    }
    record
}

/// `record` with `field` set to `value`, or removed when `value` is `null`.
fn with(mut record: Value, field: &str, value: Value) -> Value {
    let fields = record.as_object_mut().unwrap();
    if value.is_null() {
        fields.remove(field);
    } else {
        fields.insert(field.to_owned(), value);
    }
    record
}

/// Mounts the answer of `GET /v2/phone-validations` for the handle's number (one page of
/// 100): `records` in that order, of `total` validations in all.
async fn listing(server: &MockServer, records: Vec<Value>, total: usize) {
    Mock::given(method("GET"))
        .and(path("/v2/phone-validations"))
        .and(query_param("countryCode", "+507"))
        .and(query_param("phone", "62647737"))
        .and(query_param("limit", "100"))
        .respond_with(json_response(
            200,
            &json!({"success": true, "data": records,
                    "pagination": {"page": 1, "limit": 100, "total": total,
                                   "pages": total.div_ceil(100)}}),
        ))
        .mount(server)
        .await;
}

/// Checks `digits` (sent as `otp`) on a server whose checks answer `checked` and whose
/// read-backs answer `read`, each in order and each exactly once, and whose only validation of
/// the phone is the handle's; returns the server (its expectations are verified when it
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
    listing(&server, vec![listed(ID, "sent", "sms")], 1).await;
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
        let at = verified.verified_at.expect("the record's validatedAt");
        assert!(
            (OffsetDateTime::now_utc() - at).abs() < time::Duration::minutes(1),
            "{at}"
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

/// This machine's clock, five minutes ahead of Verifik's.
#[derive(Debug)]
struct FiveMinutesAhead;

impl Clock for FiveMinutesAhead {
    fn now(&self) -> SystemTime {
        SystemTime::now() + Duration::from_secs(300)
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The lost check took effect after the first read-back found the record `sent`, so the
/// repeated check is refused; the second read-back finds it validated. That validation is this
/// recovery's whatever the clocks say: with this machine's clock five minutes ahead, its
/// `validatedAt` is not taken for an earlier check's.
#[tokio::test]
async fn a_validation_after_a_not_validated_read_is_the_recoverys_whatever_the_clocks_say() {
    let server = MockServer::start().await;
    checks(
        &server,
        json!(123_456),
        vec![ResponseTemplate::new(502), does_not_match()],
    )
    .await;
    reads(
        &server,
        vec![record("sent", "62647737"), record("validated", "62647737")],
    )
    .await;
    listing(&server, vec![listed(ID, "sent", "sms")], 1).await;
    let verifier = builder(&server)
        .http_config(HttpConfig::default().with_clock(Arc::new(FiveMinutesAhead)))
        .build()
        .unwrap();
    let outcome = verifier.check_code(&handle(), &code("123456")).await;
    assert_eq!(verified_phone(&outcome.unwrap()), Some(panama()));
}

/// A validated record without `validatedAt`: its `updatedAt` bounds when it was validated.
/// Last updated ten minutes before the lost check, it was an earlier check's (a used code sent
/// again); updated just now, it may be this one's.
#[tokio::test]
async fn a_validated_record_last_updated_before_the_lost_check_is_an_earlier_checks() {
    let validated = |updated: OffsetDateTime| {
        json_response(
            200,
            &json!({"success": true, "data": {
                "_id": ID, "status": "validated", "countryCode": "+507", "phone": "62647737",
                "phoneGateway": "sms", "type": "validation", "updatedAt": date(updated)
            }}),
        )
    };
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![ResponseTemplate::new(500)],
        vec![validated(minutes_from_now(-10))],
    )
    .await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![ResponseTemplate::new(500)],
        vec![validated(minutes_from_now(0))],
    )
    .await;
    assert_eq!(verified_phone(&result.unwrap()), Some(panama()));
}

/// The validation `Verifik::resend` made after the handle's.
const NEWER: &str = "674de8df21c72be3cc42b8b9";
/// A validation of the phone made after `NEWER`.
const LATEST: &str = "674de8df21c72be3cc42b8c4";
/// A validation of the phone made before the handle's (a verification done long ago).
const OLDER: &str = "674de8df21c72be3cc42b8a0";

/// The handle's check after a resend, whose answer is lost: the record of the handle's
/// validation says `sent`, the phone's validations are listed as `page`, of `total` in all,
/// and a second check would answer 403 (Verifik matching the code against the handle's
/// validation). Returns the result and the number of checks sent.
async fn after_a_resend(page: Vec<Value>, total: usize) -> (Result<CheckOutcome>, usize) {
    after_a_resend_in(None, page, total).await
}

/// `after_a_resend`, in project-flow mode for `project` (the handle's and the verifier's) when
/// it is given.
async fn after_a_resend_in(
    project: Option<&str>,
    page: Vec<Value>,
    total: usize,
) -> (Result<CheckOutcome>, usize) {
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
    Mock::given(method("GET"))
        .and(path(format!("/v2/phone-validations/{ID}")))
        .respond_with(record("sent", "62647737"))
        .mount(&server)
        .await;
    listing(&server, page, total).await;
    let (verifier, handle) = match project {
        None => (verifier(&server), handle()),
        Some(project) => (
            builder(&server)
                .mode(phone_verify_verifik::Mode::project_flow(project).unwrap())
                .build()
                .unwrap(),
            handle()
                .with_extra(phone_verify_verifik::EXTRA_MODE, "project_flow")
                .with_extra(phone_verify_verifik::EXTRA_PROJECT, project),
        ),
    };
    let result = verifier.check_code(&handle, &code("123456")).await;
    let requests = requests(&server).await;
    for list in requests
        .iter()
        .filter(|r| r.url.path() == "/v2/phone-validations" && r.method.as_str() == "GET")
    {
        assert_eq!(
            list.url.query_pairs().find(|(name, _)| name == "limit"),
            Some(("limit".into(), "100".into())),
            "one page of 100, ordered here"
        );
    }
    let checks = requests
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count();
    (result, checks)
}

/// `after_a_resend` of every validation of the phone, listed as `page`: the lost check must be
/// `OutcomeUnknown`, and not checked again.
async fn assert_unknown_after_a_resend(page: Vec<Value>, total: usize) {
    let shown = format!("{page:?} of {total}");
    let (result, checks) = after_a_resend(page, total).await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{shown}: {err}");
    assert_eq!(checks, 1, "{shown}: not checked again");
}

#[tokio::test]
async fn a_lost_answer_after_a_resend_is_verified_when_the_newer_validation_is() {
    // Validated after the check was sent, or a minute before it on a clock running behind.
    for validated_at in [minutes_from_now(0), minutes_from_now(-1)] {
        let newer = with(
            listed(NEWER, "validated", "sms"),
            "validatedAt",
            date(validated_at),
        );
        let own = listed(ID, "sent", "sms");
        let older = with(listed(OLDER, "sent", "sms"), "createdAt", json!(EARLIER));
        // Whatever the order Verifik lists them in: the latest is found by `createdAt`.
        for page in [
            vec![newer.clone(), own.clone()],
            vec![own.clone(), older.clone(), newer.clone()],
        ] {
            let (result, checks) = after_a_resend(page, 2).await;
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
            assert_eq!(verified.verified_at, Some(validated_at));
            assert_eq!(checks, 1, "not checked again");
        }
    }
}

/// In project-flow mode the newer validation counts only when it is of the handle's project;
/// Verifik's ids are hex ObjectIds, the same id whatever the case it is written in.
#[tokio::test]
async fn a_lost_answer_after_a_resend_in_project_flow_mode_needs_the_same_project() {
    let own = || with(listed(ID, "sent", "sms"), "project", json!(PROJECT));
    let newer = |project: &str| with(listed(NEWER, "validated", "sms"), "project", json!(project));
    for theirs in [PROJECT.to_owned(), PROJECT.to_uppercase()] {
        let page = vec![newer(&theirs), own()];
        let (result, checks) = after_a_resend_in(Some(PROJECT), page, 2).await;
        let outcome = result.unwrap_or_else(|e| panic!("{theirs}: {e}"));
        assert!(outcome.verified().is_some(), "{theirs}: {outcome:?}");
        assert_eq!(checks, 1, "{theirs}: not checked again");
    }
    let page = vec![newer("507f1f77bcf86cd799439099"), own()];
    let (result, checks) = after_a_resend_in(Some(PROJECT), page, 2).await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(checks, 1, "another project's validation: not checked again");
}

#[tokio::test]
async fn a_lost_answer_after_a_resend_is_unknown_unless_the_newer_validation_is_validated() {
    let own = || listed(ID, "sent", "sms");
    let validated = || listed(NEWER, "validated", "sms");
    let latest = |status| {
        with(
            listed(LATEST, status, "sms"),
            "createdAt",
            json!(RESENT_AGAIN),
        )
    };
    for page in [
        vec![listed(NEWER, "sent", "sms"), own()],
        // Validated, but not where the check looked: another gateway, or no number.
        vec![listed(NEWER, "validated", "whatsapp"), own()],
        vec![with(validated(), "phone", Value::Null), own()],
        // The latest still waits for a code, whatever the one before it says.
        vec![validated(), own(), latest("sent")],
        vec![latest("sent"), validated(), own()],
    ] {
        let total = page.len();
        assert_unknown_after_a_resend(page, total).await;
    }
}

/// The order cannot be told: a creation time is missing, or two are alike.
#[tokio::test]
async fn a_lost_answer_after_a_resend_is_unknown_when_the_order_cannot_be_told() {
    let own = || listed(ID, "sent", "sms");
    let validated = || listed(NEWER, "validated", "sms");
    let tied = with(
        listed(LATEST, "validated", "sms"),
        "createdAt",
        json!(RESENT),
    );
    for page in [
        vec![with(validated(), "createdAt", Value::Null), own()],
        vec![validated(), with(own(), "createdAt", Value::Null)],
        vec![with(validated(), "createdAt", json!(CREATED)), own()],
        vec![validated(), tied, own()],
    ] {
        let total = page.len();
        assert_unknown_after_a_resend(page, total).await;
    }
}

/// A validation of the phone made before the handle's (a verification done long ago), validated
/// lately by its own check, is not what the lost check took, wherever Verifik lists it.
#[tokio::test]
async fn a_validated_record_created_before_the_handle_is_never_taken_for_the_lost_check() {
    let older = with(
        listed(OLDER, "validated", "sms"),
        "createdAt",
        json!(EARLIER),
    );
    // Listed without the handle's validation (the oldest first, say), or on a page that may
    // not hold every validation of the phone: nothing is certain.
    for (page, total) in [
        (vec![older.clone()], 1),
        (vec![older.clone()], 2),
        (vec![older.clone(), listed(ID, "sent", "sms")], 3),
    ] {
        assert_unknown_after_a_resend(page, total).await;
    }
    // Beside the handle's, on a page of every validation: the handle's is the latest, so the
    // repeated check meets it, and its real answer (403) is the outcome.
    let (result, checks) = after_a_resend(vec![older, listed(ID, "sent", "sms")], 2).await;
    assert_eq!(
        result.unwrap().rejection().map(|r| r.reason),
        Some(RejectReason::WrongCode)
    );
    assert_eq!(checks, 2);
}

/// A newer validation validated before the lost check was sent was validated by its own check
/// (another verification of the phone), not by this one.
#[tokio::test]
async fn a_newer_validation_validated_before_the_lost_check_is_outcome_unknown() {
    let validated = || listed(NEWER, "validated", "sms");
    for newer in [
        with(validated(), "validatedAt", date(minutes_from_now(-60))),
        // Beyond the two minutes allowed for Verifik's clock.
        with(validated(), "validatedAt", date(minutes_from_now(-3))),
        with(validated(), "validatedAt", Value::Null),
    ] {
        assert_unknown_after_a_resend(vec![newer, listed(ID, "sent", "sms")], 2).await;
    }
}

/// Only a page holding every validation of the phone tells which is the latest.
#[tokio::test]
async fn a_page_that_may_not_hold_every_validation_proves_nothing() {
    assert_unknown_after_a_resend(vec![listed(ID, "sent", "sms")], 2).await;
    // A full page, whatever its `total` says.
    let mut page = vec![listed(ID, "sent", "sms")];
    page.extend((0..99).map(|n| {
        with(
            listed(&format!("674de8df21c72be3cc42{n:04x}"), "sent", "sms"),
            "createdAt",
            json!(EARLIER),
        )
    }));
    assert_unknown_after_a_resend(page, 100).await;
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

/// The repeated check is refused without an outcome (a 429 whose `Retry-After` is too long to
/// wait, a 503 with `Retry-After`, a 401): the lost check may have validated meanwhile, so the
/// record is read once more, and otherwise the lost answer stays `OutcomeUnknown`. A retryable
/// error would have the caller check again, and Verifik answer `already_validated`: a
/// rejection of a right code.
#[tokio::test]
async fn a_repeated_check_refused_without_an_outcome_leaves_the_lost_answer_unknown() {
    let refusals = || {
        [
            ResponseTemplate::new(429).insert_header("retry-after", "60"),
            ResponseTemplate::new(503).insert_header("retry-after", "60"),
            json_response(
                401,
                &json!({"code": "Unauthorized", "message": "Invalid or expired token."}),
            ),
        ]
    };
    for refusal in refusals() {
        let (_server, result) = check_with(
            "123456",
            json!(123_456),
            vec![ResponseTemplate::new(502), refusal],
            vec![record("sent", "62647737"), record("sent", "62647737")],
        )
        .await;
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
        assert!(!err.is_retryable());
        assert_eq!(
            err.http_status(),
            Some(502),
            "the lost answer's error: {err}"
        );
    }
    // The record says the lost check validated: verified.
    for refusal in refusals() {
        let (_server, result) = check_with(
            "123456",
            json!(123_456),
            vec![ResponseTemplate::new(502), refusal],
            vec![record("sent", "62647737"), record("validated", "62647737")],
        )
        .await;
        assert_eq!(verified_phone(&result.unwrap()), Some(panama()));
    }
}

/// Verifik's real answers carry no `validatedAt` (SPEC §2.4: it appears only in generic
/// examples), and `updatedAt` is not taken for it: a record validated long ago may have been
/// updated since. A lost answer after a resend is then `OutcomeUnknown`, as documented, and
/// never checked again.
#[tokio::test]
async fn a_newer_validation_without_validated_at_is_outcome_unknown_even_when_just_updated() {
    let newer = with(
        with(
            listed(NEWER, "validated", "sms"),
            "validatedAt",
            Value::Null,
        ),
        "updatedAt",
        date(minutes_from_now(0)),
    );
    assert_unknown_after_a_resend(vec![newer, listed(ID, "sent", "sms")], 2).await;
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

// ---- the recovery's time bound ----------------------------------------------------------------

/// A verifier of `server` whose attempts last at most 1 s and whole calls 2 s.
fn one_of_two_seconds(server: &MockServer) -> phone_verify_verifik::Verifik {
    use phone_verify_core::http::Timeouts;
    builder(server)
        .timeouts(
            Timeouts::default()
                .with_attempt(Duration::from_secs(1))
                .with_overall(Duration::from_secs(2)),
        )
        .build()
        .unwrap()
}

/// A server whose checks answer after 1.5 s (past the 1 s attempt timeout: lost), whose
/// record of the handle's validation answers `status` after `read`, and whose listing (the
/// handle's validation alone: a repeated check would follow) answers after `list`.
async fn slow_server(status: &str, read: Duration, list: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .respond_with(
            json_response(200, &validated("validation")).set_delay(Duration::from_millis(1500)),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/phone-validations/{ID}")))
        .respond_with(record(status, "62647737").set_delay(read))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/phone-validations"))
        .respond_with(
            json_response(
                200,
                &json!({"success": true, "data": [listed(ID, "sent", "sms")],
                        "pagination": {"page": 1, "limit": 100, "total": 1, "pages": 1}}),
            )
            .set_delay(list),
        )
        .mount(&server)
        .await;
    server
}

/// The recovery of a lost answer keeps within what is left of the check's overall timeout
/// (at least a second, or the attempt timeout when shorter): an application that keeps the
/// SDK's overall timeout under its own deadline gets the typed error, never a check cut off
/// midway by its own deadline (perhaps during the repeated, consuming, check).
#[tokio::test]
async fn the_recovery_of_a_lost_answer_keeps_within_the_overall_timeout() {
    let bound = Duration::from_secs(3); // overall + attempt
    // The record reads `sent` at 1.9 s, and the listing would answer at 2.8 s: past the
    // deadline, so nothing more is learned and the lost answer stands.
    let server = slow_server(
        "sent",
        Duration::from_millis(900),
        Duration::from_millis(900),
    )
    .await;
    let started = std::time::Instant::now();
    let result = one_of_two_seconds(&server)
        .check_code(&handle(), &code("123456"))
        .await;
    let took = started.elapsed();
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert!(took < bound, "the check took {took:?}");
    // The record proves the check in time (read at 1.2 s): verified within the bound.
    let server = slow_server(
        "validated",
        Duration::from_millis(200),
        Duration::from_millis(900),
    )
    .await;
    let started = std::time::Instant::now();
    let result = one_of_two_seconds(&server)
        .check_code(&handle(), &code("123456"))
        .await;
    let took = started.elapsed();
    assert_eq!(verified_phone(&result.unwrap()), Some(panama()));
    assert!(took < bound, "the check took {took:?}");
}

/// The repeated check uses the code up: it starts only when a whole attempt fits in what is
/// left of the overall timeout, so that no deadline cuts it off midway.
#[tokio::test]
async fn a_repeated_check_starts_only_when_a_whole_attempt_fits() {
    // Lost at 1 s, read and listed by 1.6 s: 0.4 s left, less than an attempt.
    let server = slow_server(
        "sent",
        Duration::from_millis(300),
        Duration::from_millis(300),
    )
    .await;
    let started = std::time::Instant::now();
    let result = one_of_two_seconds(&server)
        .check_code(&handle(), &code("123456"))
        .await;
    let took = started.elapsed();
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    let checks = requests(&server)
        .await
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count();
    assert_eq!(checks, 1, "not checked again");
    assert!(took < Duration::from_secs(3), "the check took {took:?}");
}

// ---- unusable successes and the text of their errors ------------------------------------------

/// A 200 carrying an error envelope whose reason Verifik does not document: Verifik took the
/// check, and the answer cannot be used, so the outcome is unknown and the record is read back.
#[tokio::test]
async fn a_success_carrying_an_unknown_error_is_read_back() {
    let unknown = || {
        json_response(
            200,
            &json!({"code": "SomethingNew", "message": "unexpected"}),
        )
    };
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![unknown()],
        vec![record("validated", "62647737")],
    )
    .await;
    assert_eq!(verified_phone(&result.unwrap()), Some(panama()));
    let (_server, result) = check_with(
        "123456",
        json!(123_456),
        vec![unknown()],
        vec![ResponseTemplate::new(500)],
    )
    .await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(err.provider_code(), Some("SomethingNew"));
}

/// The status of a 200 that is not `validated` is Verifik's text: the error that quotes it
/// (`OutcomeUnknown`, without a read-back) shows neither the token, should Verifik echo it,
/// nor a phone number, and stays short.
#[tokio::test]
async fn the_status_of_an_unusable_success_is_shown_clean() {
    let long = format!("{TOKEN} +905321234567 {}", "x".repeat(100 * 1024));
    for status in [TOKEN, "+905321234567", long.as_str()] {
        let (_server, result) = check_with(
            "123456",
            json!(123_456),
            vec![json_response(
                200,
                &json!({"data": {"_id": ID, "status": status}}),
            )],
            vec![],
        )
        .await;
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(TOKEN), "{shown}");
            assert!(!shown.contains("5321234567"), "{shown}");
            assert!(shown.len() < 2048, "{} bytes", shown.len());
        }
    }
}

/// The repeated check is refused (a real 403), but the time runs out before the record is read
/// once more: the lost check may have validated meanwhile, so the refusal is not reported;
/// the lost answer's `OutcomeUnknown` stands.
#[tokio::test]
async fn a_refusal_the_time_leaves_unconfirmed_is_no_rejection() {
    let server = MockServer::start().await;
    checks(
        &server,
        json!(123_456),
        vec![
            ResponseTemplate::new(502),
            // Well within its 1 s attempt: a refusal, not a timeout.
            does_not_match().set_delay(Duration::from_millis(600)),
        ],
    )
    .await;
    reads(&server, vec![record("sent", "62647737")]).await;
    // The read after the refusal answers after 3 s: past the 1 s attempt, and the 2 s
    // overall timeout, by far.
    Mock::given(method("GET"))
        .and(path(format!("/v2/phone-validations/{ID}")))
        .respond_with(record("sent", "62647737").set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    listing(&server, vec![listed(ID, "sent", "sms")], 1).await;
    let started = std::time::Instant::now();
    let result = one_of_two_seconds(&server)
        .check_code(&handle(), &code("123456"))
        .await;
    let took = started.elapsed();
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(
        err.http_status(),
        Some(502),
        "the lost answer's error: {err}"
    );
    assert!(took < Duration::from_secs(3), "the check took {took:?}");
}
