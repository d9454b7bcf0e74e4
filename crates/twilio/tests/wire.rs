//! Wire-exact tests of every Twilio Verify v2 endpoint the crate uses against a mock HTTP
//! server: method, path, HTTP Basic, form fields and values; answers parsed; every documented
//! error typed; hostile answers; sends never retried, checks retried only per the consume
//! rules; input checked before any request.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use phone_verify_core::http::{Clock, ConfigureHttp, HttpConfig, RetryPolicy, Sleep, Timeouts};
use phone_verify_core::kit::CheckRule;
use phone_verify_core::{
    Channel, CheckRequest, Code, ErrorKind, PhoneNumber, PhoneVerifier, PhoneVerifierExt,
    RejectReason, RequestContext, StartRequest, Verification,
};
use phone_verify_twilio::{
    CheckTarget, CreateService, CreateVerification, EXTRA_SERVICE_SID, RiskCheck, ServicePage,
    Twilio, TwilioBuilder, TwilioChannel, TwilioClient, TwilioCredentials, UpdateService,
    VerificationStatus, VerificationUpdate, errors,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "canary-token";
const KEY: &str = "SK0123456789abcdef0123456789abcdef";
const KEY_SECRET: &str = "canary-key-secret";
const SERVICE: &str = "VA0123456789abcdef0123456789abcdef";
const OTHER_SERVICE: &str = "VAfedcba9876543210fedcba9876543210";
const VE: &str = "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const PHONE: &str = "+15017122661";
const FORM: &str = "application/x-www-form-urlencoded";
const REQUEST_ID: &str = "RQbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{user}:{password}")))
}

fn phone() -> PhoneNumber {
    PhoneNumber::parse(PHONE).unwrap()
}

/// A builder for the mock server: quick retries, short attempts.
fn builder(server: &MockServer) -> TwilioBuilder {
    TwilioBuilder::new(ACCOUNT, TOKEN)
        .base_url(&format!("{}/v2", server.uri()))
        .service_sid(SERVICE)
        .retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(400)))
}

fn client(server: &MockServer) -> TwilioClient {
    builder(server).build_client().unwrap()
}

fn verifier(server: &MockServer) -> Twilio {
    builder(server).build().unwrap()
}

fn verifications_path() -> String {
    format!("/v2/Services/{SERVICE}/Verifications")
}

fn verification_path() -> String {
    format!("/v2/Services/{SERVICE}/Verifications/{VE}")
}

fn check_path() -> String {
    format!("/v2/Services/{SERVICE}/VerificationCheck")
}

/// A request to `verb path` with the account's Basic auth.
fn expect(verb: &str, p: &str) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(p))
        .and(header("authorization", basic(ACCOUNT, TOKEN).as_str()))
        .and(header("accept", "application/json"))
}

/// The same with exactly this form body.
fn expect_form(verb: &str, p: &str, form: &str) -> MockBuilder {
    expect(verb, p)
        .and(header("content-type", FORM))
        .and(body_string(form))
}

fn verification_json(status: &str) -> Value {
    json!({
        "sid": VE,
        "service_sid": SERVICE,
        "account_sid": ACCOUNT,
        "to": PHONE,
        "channel": "sms",
        "status": status,
        "valid": status == "approved",
        "lookup": {},
        "amount": null,
        "payee": null,
        "send_code_attempts": [{"time": "2015-07-30T20:00:00Z", "channel": "SMS", "attempt_sid": "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}],
        "date_created": "2015-07-30T20:00:00Z",
        "date_updated": "2015-07-30T20:00:00Z",
        "sna": null,
        "url": format!("https://verify.twilio.com/v2/Services/{SERVICE}/Verifications/{VE}")
    })
}

fn check_json(status: &str, valid: bool) -> Value {
    json!({
        "sid": VE,
        "service_sid": SERVICE,
        "account_sid": ACCOUNT,
        "to": PHONE,
        "channel": "sms",
        "status": status,
        "valid": valid,
        "amount": null,
        "payee": null,
        "date_created": "2015-07-30T20:00:00Z",
        "date_updated": "2015-07-30T20:00:30Z",
        "sna_attempts_error_codes": []
    })
}

fn service_json() -> Value {
    json!({
        "sid": SERVICE,
        "account_sid": ACCOUNT,
        "friendly_name": "Shop",
        "code_length": 6,
        "lookup_enabled": false,
        "custom_code_enabled": true,
        "date_created": "2015-07-30T20:00:00Z",
        "url": format!("https://verify.twilio.com/v2/Services/{SERVICE}")
    })
}

/// Twilio's error answer for `code`.
fn twilio_error(code: u32, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("twilio-request-id", REQUEST_ID)
        .set_body_json(json!({
            "code": code,
            "message": format!("Twilio says {code}"),
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status
        }))
}

fn code() -> Code {
    Code::new("123456").unwrap()
}

fn handle() -> Verification {
    Verification::new(phone_verify_twilio::PROVIDER, VE, Channel::Sms)
        .with_phone(phone())
        .with_expires_at(OffsetDateTime::now_utc() + Duration::from_secs(600))
        .with_extra(EXTRA_SERVICE_SID, SERVICE)
}

#[tokio::test]
async fn every_endpoint_is_wire_exact() {
    let server = MockServer::start().await;
    let client = client(&server);

    expect_form(
        "POST",
        "/v2/Services",
        "FriendlyName=My+Shop&CodeLength=8&CustomCodeEnabled=true",
    )
    .respond_with(ResponseTemplate::new(201).set_body_json(service_json()))
    .expect(1)
    .mount(&server)
    .await;
    let mut create = CreateService::new("My Shop");
    create.code_length = Some(8);
    create.custom_code_enabled = Some(true);
    let service = client.create_service(&create).await.unwrap();
    assert_eq!(service.sid, SERVICE);
    assert_eq!(service.code_length, Some(6));
    assert_eq!(service.custom_code_enabled, Some(true));
    // The longest name Twilio takes: 32 characters, counted as characters, not bytes.
    expect_form(
        "POST",
        "/v2/Services",
        &format!("FriendlyName={}", "%C5%9E".repeat(32)),
    )
    .respond_with(ResponseTemplate::new(201).set_body_json(service_json()))
    .expect(1)
    .mount(&server)
    .await;
    client
        .create_service(&CreateService::new("Ş".repeat(32)))
        .await
        .unwrap();

    expect("GET", &format!("/v2/Services/{SERVICE}"))
        .respond_with(ResponseTemplate::new(200).set_body_json(service_json()))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        client
            .fetch_service(SERVICE)
            .await
            .unwrap()
            .friendly_name
            .as_deref(),
        Some("Shop")
    );

    expect_form(
        "POST",
        &verifications_path(),
        "To=%2B15017122661&Channel=whatsapp&Locale=pt-BR&CustomCode=867530&DeviceIp=203.0.113.7\
         &RiskCheck=disable&Tags=%7B%22order%22%3A%2242%22%7D",
    )
    .respond_with(ResponseTemplate::new(201).set_body_json(verification_json("pending")))
    .expect(1)
    .mount(&server)
    .await;
    let mut start = CreateVerification::new(PHONE, TwilioChannel::Whatsapp);
    start.locale = Some("pt-BR".into());
    start.custom_code = Some("867530".into());
    start.device_ip = Some("203.0.113.7".parse().unwrap());
    start.risk_check = Some(RiskCheck::Disable);
    start.tags = Some(serde_json::from_str(r#"{"order":"42"}"#).unwrap());
    let started = client.create_verification(SERVICE, &start).await.unwrap();
    assert_eq!(started.sid, VE);
    assert_eq!(started.status, Some(VerificationStatus::Pending));
    assert_eq!(started.send_code_attempts.len(), 1);

    expect_form(
        "POST",
        &verifications_path(),
        "To=user%40example.com&Channel=email",
    )
    .respond_with(ResponseTemplate::new(201).set_body_json(verification_json("pending")))
    .expect(1)
    .mount(&server)
    .await;
    let email = CreateVerification::new("user@example.com", TwilioChannel::Email);
    client.create_verification(SERVICE, &email).await.unwrap();

    expect("GET", &verification_path())
        .respond_with(ResponseTemplate::new(200).set_body_json(verification_json("pending")))
        .expect(1)
        .mount(&server)
        .await;
    let fetched = client.fetch_verification(SERVICE, VE).await.unwrap();
    assert_eq!(fetched.to.as_deref(), Some(PHONE));

    for (update, status) in [
        (VerificationUpdate::Canceled, "canceled"),
        (VerificationUpdate::Approved, "approved"),
    ] {
        expect_form("POST", &verification_path(), &format!("Status={status}"))
            .respond_with(ResponseTemplate::new(200).set_body_json(verification_json(status)))
            .expect(1)
            .mount(&server)
            .await;
        let updated = client
            .update_verification(SERVICE, VE, update)
            .await
            .unwrap();
        assert_eq!(updated.status, Some(VerificationStatus::parse(status)));
    }

    expect_form(
        "POST",
        &check_path(),
        &format!("Code=123456&VerificationSid={VE}"),
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(check_json("approved", true)))
    .expect(1)
    .mount(&server)
    .await;
    let checked = client
        .check_verification(SERVICE, &code(), &CheckTarget::VerificationSid(VE.into()))
        .await
        .unwrap();
    assert_eq!(checked.valid, Some(true));
    assert_eq!(checked.status, Some(VerificationStatus::Approved));

    expect_form("POST", &check_path(), "Code=123456&To=%2B15017122661")
        .respond_with(ResponseTemplate::new(200).set_body_json(check_json("pending", false)))
        .expect(1)
        .mount(&server)
        .await;
    let checked = client
        .check_verification(SERVICE, &code(), &CheckTarget::To(PHONE.into()))
        .await
        .unwrap();
    assert_eq!(checked.status, Some(VerificationStatus::Pending));
    server.verify().await;
}

#[tokio::test]
async fn an_api_key_authenticates_with_its_sid_and_secret() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/Services/{SERVICE}")))
        .and(header("authorization", basic(KEY, KEY_SECRET).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(service_json()))
        .expect(1)
        .mount(&server)
        .await;
    let client = TwilioBuilder::api_key(KEY, KEY_SECRET)
        .base_url(&format!("{}/v2", server.uri()))
        .build_client()
        .unwrap();
    client.fetch_service(SERVICE).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn start_sends_locale_and_device_ip_and_a_fresh_process_checks_the_handle() {
    let server = MockServer::start().await;
    expect_form(
        "POST",
        &verifications_path(),
        "To=%2B15017122661&Channel=call&Locale=es&DeviceIp=2001%3Adb8%3A%3A7",
    )
    .respond_with(ResponseTemplate::new(201).set_body_json(verification_json("pending")))
    .expect(1)
    .mount(&server)
    .await;
    let start = StartRequest::otp(Channel::Voice, phone())
        .language("es".parse().unwrap())
        .context(RequestContext::new().end_user_ip("2001:db8::7".parse().unwrap()));
    let handle = verifier(&server).start(&start).await.unwrap();
    assert_eq!(handle.reference, VE);
    assert_eq!(handle.channel, Channel::Voice);
    assert_eq!(handle.extra_str(EXTRA_SERVICE_SID), Some(SERVICE));
    assert_eq!(handle.created_at.unix_timestamp(), 1_438_286_400);
    assert_eq!(
        handle.expires_at.unwrap() - handle.created_at,
        Duration::from_secs(600)
    );
    let saved = handle.to_json().unwrap();
    assert!(!saved.contains(TOKEN));

    // Another process, configured with another service: the handle's service is checked.
    expect_form(
        "POST",
        &check_path(),
        &format!("Code=123456&VerificationSid={VE}"),
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(check_json("approved", true)))
    .expect(1)
    .mount(&server)
    .await;
    let elsewhere = builder(&server).service_sid(OTHER_SERVICE).build().unwrap();
    let outcome = elsewhere
        .check_code(&Verification::from_json(&saved).unwrap(), &code())
        .await
        .unwrap();
    let verified = outcome.verified().expect("verified");
    assert_eq!(verified.phone.as_ref().map(PhoneNumber::e164), Some(PHONE));
    assert_eq!(verified.channel, Channel::Voice);
    assert_eq!(
        verified.verified_at.unwrap().unix_timestamp(),
        1_438_286_430
    );
    server.verify().await;
}

/// Core's `Language` takes tags Twilio's `Locale` does not: the verifier sends their primary
/// subtag (Twilio's locales are a language and at most a region) rather than failing the start
/// with `InvalidInput`, which a router would not fail over on.
#[tokio::test]
async fn start_sends_a_long_language_tag_as_its_primary_subtag() {
    for (tag, locale) in [("zh-cmn-Hans-CN", "zh"), ("pt-br", "pt-BR")] {
        let server = MockServer::start().await;
        expect_form(
            "POST",
            &verifications_path(),
            &format!("To=%2B15017122661&Channel=sms&Locale={locale}"),
        )
        .respond_with(ResponseTemplate::new(201).set_body_json(verification_json("pending")))
        .expect(1)
        .mount(&server)
        .await;
        let start = StartRequest::sms(phone()).language(tag.parse().unwrap());
        let handle = verifier(&server).start(&start).await.unwrap();
        assert_eq!(handle.reference, VE, "{tag}");
        server.verify().await;
    }
}

/// Twilio takes at most 10 tags, each key and value at most 128 characters: more is refused
/// before anything is sent.
#[tokio::test]
async fn too_many_or_too_long_tags_are_refused_before_any_request() {
    let server = MockServer::start().await;
    let client = client(&server);
    let eleven: serde_json::Map<String, Value> =
        (0..11).map(|n| (format!("k{n}"), json!("v"))).collect();
    let long_value: serde_json::Map<String, Value> = [("order".to_owned(), json!("x".repeat(129)))]
        .into_iter()
        .collect();
    for tags in [eleven, long_value] {
        let mut create = CreateVerification::new(PHONE, TwilioChannel::Sms);
        create.tags = Some(tags);
        let err = client
            .create_verification(SERVICE, &create)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("Tags"), "{err}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_creation_date_at_the_end_of_time_still_gives_a_handle() {
    // The code went out: a `date_created` whose 10 minutes run past what a date holds must not
    // lose the verification.
    let server = MockServer::start().await;
    let mut answer = verification_json("pending");
    answer["date_created"] = json!("9999-12-31T23:59:59Z");
    expect("POST", &verifications_path())
        .respond_with(ResponseTemplate::new(201).set_body_json(answer))
        .expect(1)
        .mount(&server)
        .await;
    let handle = verifier(&server)
        .start(&StartRequest::sms(phone()))
        .await
        .unwrap();
    assert_eq!(handle.reference, VE);
    assert_eq!(handle.created_at, datetime!(9999-12-31 23:59:59 UTC));
    assert_eq!(
        handle.expires_at,
        Some(datetime!(9999-12-31 23:59:59.999_999_999 UTC))
    );
    assert_eq!(
        Verification::from_json(&handle.to_json().unwrap()).unwrap(),
        handle
    );
    server.verify().await;
}

#[tokio::test]
async fn checks_turn_statuses_and_documented_refusals_into_outcomes() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    // Every answer is asked once: a 429 answering a check is re-asked by the kit's consume rule
    // (Twilio's 20429 is never processed), but 60202 is a final 429, refused after processing.
    let answers = [
        (
            ResponseTemplate::new(200).set_body_json(check_json("pending", false)),
            RejectReason::WrongCode,
            "pending",
            1..=1,
        ),
        (
            ResponseTemplate::new(200).set_body_json(check_json("max_attempts_reached", false)),
            RejectReason::TooManyAttempts,
            "max_attempts_reached",
            1..=1,
        ),
        (
            twilio_error(60202, 429),
            RejectReason::TooManyAttempts,
            "60202",
            1..=1,
        ),
        (
            twilio_error(20404, 404),
            RejectReason::NotFound,
            "20404",
            1..=1,
        ),
    ];
    for (answer, reason, provider_code, asked) in answers {
        expect("POST", &check_path())
            .respond_with(answer)
            .expect(asked)
            .mount(&server)
            .await;
        let outcome = verifier.check_code(&handle(), &code()).await.unwrap();
        let rejection = outcome.rejection().expect("rejected");
        assert_eq!(rejection.reason, reason, "{provider_code}");
        assert_eq!(rejection.provider_code.as_deref(), Some(provider_code));
        server.verify().await;
        server.reset().await;
    }

    // 20404 for a handle past its 10 minutes: the verification expired.
    expect("POST", &check_path())
        .respond_with(twilio_error(20404, 404))
        .expect(1)
        .mount(&server)
        .await;
    let old = handle().with_expires_at(OffsetDateTime::now_utc() - Duration::from_secs(1));
    let outcome = verifier.check_code(&old, &code()).await.unwrap();
    assert_eq!(outcome.rejection().unwrap().reason, RejectReason::Expired);
    server.verify().await;
}

#[tokio::test]
async fn answers_to_checks_and_sends_keep_the_request_id() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let answered = |body: Value| {
        ResponseTemplate::new(200)
            .insert_header("twilio-request-id", REQUEST_ID)
            .set_body_json(body)
    };
    // Every rejection a 200 stands for names the request.
    for (status, reason) in [
        ("pending", RejectReason::WrongCode),
        ("max_attempts_reached", RejectReason::TooManyAttempts),
        ("expired", RejectReason::Expired),
        ("canceled", RejectReason::NotFound),
        ("deleted", RejectReason::NotFound),
        ("failed", RejectReason::NotFound),
    ] {
        expect("POST", &check_path())
            .respond_with(answered(json!({"status": status, "valid": false})))
            .expect(1)
            .mount(&server)
            .await;
        let outcome = verifier.check_code(&handle(), &code()).await.unwrap();
        let rejection = outcome.rejection().expect("rejected");
        assert_eq!(rejection.reason, reason, "{status}");
        assert_eq!(
            rejection.request_id.as_deref(),
            Some(REQUEST_ID),
            "{status}"
        );
        server.verify().await;
        server.reset().await;
    }
    // So does every error a 200 to a check stands for.
    let mut other = check_json("approved", true);
    other["sid"] = json!("VEcccccccccccccccccccccccccccccccc");
    for body in [
        other,
        check_json("approved", false),
        json!({"status": "mystery"}),
    ] {
        expect("POST", &check_path())
            .respond_with(answered(body.clone()))
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier.check_code(&handle(), &code()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{body}: {err}");
        assert_eq!(err.request_id(), Some(REQUEST_ID), "{body}");
        server.verify().await;
        server.reset().await;
    }
    // And the error a 201 without a usable verification SID stands for.
    let mut escaped = verification_json("pending");
    escaped["sid"] = json!("../../Services/other");
    expect("POST", &verifications_path())
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("twilio-request-id", REQUEST_ID)
                .set_body_json(escaped),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = verifier
        .start(&StartRequest::sms(phone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    assert_eq!(err.request_id(), Some(REQUEST_ID));
    server.verify().await;
    server.reset().await;
    // An answer without the header (or with one that is not an id) names none.
    expect("POST", &check_path())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("twilio-request-id", "not an id;")
                .set_body_json(check_json("pending", false)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let outcome = verifier.check_code(&handle(), &code()).await.unwrap();
    assert_eq!(outcome.rejection().unwrap().request_id, None);
    server.verify().await;
}

/// A clock stopped at one instant, for the dates Twilio's answer leaves out.
#[derive(Debug)]
struct StoppedClock(OffsetDateTime);

impl Clock for StoppedClock {
    fn now(&self) -> SystemTime {
        self.0.into()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

#[tokio::test]
async fn dates_twilio_leaves_out_come_from_the_configured_clock() {
    let server = MockServer::start().await;
    let now = datetime!(2031-05-06 07:08:09 UTC);
    let verifier = builder(&server)
        .http_config(HttpConfig::default().with_clock(Arc::new(StoppedClock(now))))
        .build()
        .unwrap();
    let mut started = verification_json("pending");
    started["date_created"] = Value::Null;
    expect("POST", &verifications_path())
        .respond_with(ResponseTemplate::new(201).set_body_json(started))
        .expect(1)
        .mount(&server)
        .await;
    let handle = verifier.start(&StartRequest::sms(phone())).await.unwrap();
    assert_eq!(handle.created_at, now);
    assert_eq!(handle.expires_at, Some(now + Duration::from_secs(600)));

    let mut checked = check_json("approved", true);
    checked["date_updated"] = Value::Null;
    expect("POST", &check_path())
        .respond_with(ResponseTemplate::new(200).set_body_json(checked))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = verifier.check_code(&handle, &code()).await.unwrap();
    assert_eq!(outcome.verified().expect("verified").verified_at, Some(now));
    server.verify().await;
}

/// Every code of `errors.toml` with its documented status and kind, written out from Twilio's
/// documentation (`errors::documented_errors` must list the same).
const DOCUMENTED: [(u32, u16, ErrorKind); 11] = [
    (60200, 400, ErrorKind::InvalidInput),
    (60202, 429, ErrorKind::RateLimited),
    (60203, 429, ErrorKind::RateLimited),
    (20404, 404, ErrorKind::NotFound),
    (20003, 401, ErrorKind::Unauthorized),
    (20429, 429, ErrorKind::RateLimited),
    (60212, 429, ErrorKind::RateLimited),
    (60205, 403, ErrorKind::Unsupported),
    (60410, 403, ErrorKind::Blocked),
    (60605, 403, ErrorKind::Blocked),
    (60206, 400, ErrorKind::InvalidInput),
];

/// The public list of documented errors is the one the client maps: the same codes, statuses
/// and kinds as `DOCUMENTED`, which the next test sends through the verifier.
#[test]
fn the_public_error_list_is_what_the_client_maps() {
    let public: Vec<(u32, u16, ErrorKind)> = errors::documented_errors()
        .iter()
        .map(|spec| (spec.code.parse().unwrap(), spec.http_status, spec.kind))
        .collect();
    assert_eq!(public, DOCUMENTED);
}

/// `errors::lookup` finds a documented code as Twilio sends it, with its kind and check rule.
#[test]
fn a_documented_code_is_looked_up() {
    let spec = errors::lookup(" 60202 ").expect("a documented code");
    assert_eq!(spec.code, "60202");
    assert_eq!(spec.http_status, 429);
    assert_eq!(spec.kind, ErrorKind::RateLimited);
    assert_eq!(
        spec.check,
        Some(CheckRule::Rejected(RejectReason::TooManyAttempts))
    );
    assert!(errors::lookup("99999").is_none());
}

#[tokio::test]
async fn every_documented_error_is_typed_with_code_message_and_request_id() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let start = StartRequest::sms(phone());
    for (code, status, kind) in DOCUMENTED {
        // A send is never retried, whatever the answer: one request each.
        expect("POST", &verifications_path())
            .respond_with(twilio_error(code, status))
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier.start(&start).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{code}");
        let code_text = code.to_string();
        assert_eq!(err.provider_code(), Some(code_text.as_str()));
        let said = format!("Twilio says {code}");
        assert_eq!(err.provider_message(), Some(said.as_str()));
        assert_eq!(err.http_status(), Some(status));
        assert_eq!(err.request_id(), Some(REQUEST_ID));
        assert_eq!(
            err.provider().map(phone_verify_core::ProviderId::as_str),
            Some("twilio")
        );
        assert!(!err.to_string().contains(TOKEN));
        server.verify().await;
        server.reset().await;
    }
}

#[tokio::test]
async fn sends_are_never_retried() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let start = StartRequest::sms(phone());
    for (answer, kind) in [
        // A plain 503 may come from a proxy that forwarded the send: in doubt.
        (ResponseTemplate::new(503), ErrorKind::MaybeSent),
        (twilio_error(20503, 503), ErrorKind::MaybeSent),
        // A 503 with `Retry-After` was refused before processing, whatever code it carries.
        (
            ResponseTemplate::new(503).insert_header("retry-after", "0"),
            ErrorKind::ProviderUnavailable,
        ),
        (
            twilio_error(20429, 503).insert_header("retry-after", "0"),
            ErrorKind::ProviderUnavailable,
        ),
        (ResponseTemplate::new(500), ErrorKind::MaybeSent),
        (ResponseTemplate::new(502), ErrorKind::MaybeSent),
        (
            twilio_error(20429, 429).insert_header("retry-after", "0"),
            ErrorKind::RateLimited,
        ),
        (
            ResponseTemplate::new(201)
                .set_body_json(verification_json("pending"))
                .set_delay(Duration::from_secs(3)),
            ErrorKind::MaybeSent,
        ),
    ] {
        expect("POST", &verifications_path())
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier.start(&start).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        server.verify().await;
        server.reset().await;
    }
}

#[tokio::test]
async fn checks_are_retried_only_when_twilio_surely_did_not_process_them() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    // Refused before processing (429, or 503, with Retry-After): retried, and the retry
    // answers.
    for refusal in [
        twilio_error(20429, 429).insert_header("retry-after", "0"),
        twilio_error(20503, 503).insert_header("retry-after", "0"),
    ] {
        expect("POST", &check_path())
            .respond_with(refusal)
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        expect("POST", &check_path())
            .respond_with(ResponseTemplate::new(200).set_body_json(check_json("approved", true)))
            .expect(1)
            .mount(&server)
            .await;
        assert!(
            verifier
                .check_code(&handle(), &code())
                .await
                .unwrap()
                .is_verified()
        );
        server.verify().await;
        server.reset().await;
    }

    // A server error or a lost answer: the attempt may have counted. One request, never a
    // rejection.
    for answer in [
        ResponseTemplate::new(500),
        ResponseTemplate::new(502),
        ResponseTemplate::new(504),
        // A plain 503 may come from a proxy that forwarded the check.
        ResponseTemplate::new(503),
        twilio_error(20503, 503),
        ResponseTemplate::new(200)
            .set_body_json(check_json("approved", true))
            .set_delay(Duration::from_secs(3)),
        // A server error carrying a documented refusal is still a server error.
        twilio_error(20404, 500),
        twilio_error(60202, 502),
    ] {
        expect("POST", &check_path())
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier.check_code(&handle(), &code()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
        assert!(!err.is_retryable());
        server.verify().await;
        server.reset().await;
    }
}

#[tokio::test]
async fn reads_are_retried() {
    let server = MockServer::start().await;
    expect("GET", &verification_path())
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    expect("GET", &verification_path())
        .respond_with(ResponseTemplate::new(200).set_body_json(verification_json("pending")))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .fetch_verification(SERVICE, VE)
        .await
        .unwrap();
    server.verify().await;
}

#[tokio::test]
async fn hostile_answers_are_typed_errors() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let huge = format!("{{\"sid\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let mut escaped = verification_json("pending");
    escaped["sid"] = json!("../../Services/other");
    let mut wrong_type = verification_json("pending");
    wrong_type["status"] = json!({"nested": true});
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"<html>Service Unavailable</html>".to_vec()),
        ("truncated", br#"{"sid":"VEaaaa","status":"pen"#.to_vec()),
        ("empty", Vec::new()),
        ("an array", b"[]".to_vec()),
        ("deeply nested", nested.into_bytes()),
        ("over the size cap", huge.into_bytes()),
        ("a path-escaping sid", escaped.to_string().into_bytes()),
        (
            "a status of the wrong type",
            wrong_type.to_string().into_bytes(),
        ),
    ];
    for (what, body) in bodies {
        expect("POST", &verifications_path())
            .respond_with(ResponseTemplate::new(201).set_body_raw(body, "application/json"))
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier
            .start(&StartRequest::sms(phone()))
            .await
            .unwrap_err();
        // Twilio answered 201: it took the send, so the code may be on its way.
        assert_eq!(err.kind(), ErrorKind::MaybeSent, "{what}: {err}");
        assert!(!err.to_string().contains(TOKEN));
        server.verify().await;
        server.reset().await;
    }

    // A check answer for another verification, or one that contradicts itself.
    let mut other = check_json("approved", true);
    other["sid"] = json!("VEcccccccccccccccccccccccccccccccc");
    for body in [
        other,
        check_json("approved", false),
        check_json("pending", true),
    ] {
        expect("POST", &check_path())
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier.check_code(&handle(), &code()).await.unwrap_err();
        // Twilio took the check: what it did with the code is unknown.
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
        server.verify().await;
        server.reset().await;
    }

    // An error answer that is not Twilio's body: the status decides, no code is invented.
    expect("POST", &verifications_path())
        .respond_with(ResponseTemplate::new(400).set_body_string("Bad Request"))
        .expect(1)
        .mount(&server)
        .await;
    let err = verifier
        .start(&StartRequest::sms(phone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.provider_code(), None);
    server.verify().await;
}

#[tokio::test]
async fn input_is_checked_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let verifier = verifier(&server);
    let client = verifier.client();

    for channel in [Channel::Telegram, Channel::Email, Channel::Totp] {
        let err = verifier
            .start(&StartRequest::otp(channel.clone(), phone()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{channel}");
    }
    let err = verifier
        .start(&StartRequest::new(Channel::Sms, None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let foreign = Verification::new(
        phone_verify_core::ProviderId::new_static("verifykit"),
        VE,
        Channel::Sms,
    );
    let bad_reference = Verification::new(phone_verify_twilio::PROVIDER, "../VE", Channel::Sms);
    let bad_service = handle().with_extra(EXTRA_SERVICE_SID, "VA/../../x");
    for h in [foreign, bad_reference, bad_service] {
        let err = verifier.check_code(&h, &code()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{h:?}");
    }
    let err = verifier
        .check(&handle(), &CheckRequest::poll())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let mut bad_code = CreateVerification::new(PHONE, TwilioChannel::Sms);
    bad_code.custom_code = Some("12".into());
    let mut bad_locale = CreateVerification::new(PHONE, TwilioChannel::Sms);
    bad_locale.locale = Some("en_US".into());
    for create in [
        CreateVerification::new("5017122661", TwilioChannel::Sms),
        CreateVerification::new("+1 501 712 2661", TwilioChannel::Sms),
        CreateVerification::new("not-an-address", TwilioChannel::Email),
        bad_code,
        bad_locale,
    ] {
        let err = client
            .create_verification(SERVICE, &create)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{create:?}");
    }
    let sms = CreateVerification::new(PHONE, TwilioChannel::Sms);
    assert!(client.create_verification("VA123", &sms).await.is_err());
    assert!(client.fetch_verification(SERVICE, "VE1").await.is_err());
    assert!(
        client
            .check_verification(SERVICE, &code(), &CheckTarget::To("+1 555".into()))
            .await
            .is_err()
    );
    assert!(
        client
            .create_service(&CreateService::new("x".repeat(33)))
            .await
            .is_err()
    );
    server.verify().await;
}

#[tokio::test]
async fn a_client_of_a_config_checks_it_and_sends_with_its_http_settings() {
    let server = MockServer::start().await;
    // The configuration's HTTP settings are the client's: its User-Agent goes out.
    expect("GET", &format!("/v2/Services/{SERVICE}"))
        .and(header("user-agent", "probe/1.0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(service_json()))
        .expect(1)
        .mount(&server)
        .await;
    let config = builder(&server).user_agent("probe/1.0").config().unwrap();
    let client = TwilioClient::new(config.clone()).unwrap();
    assert_eq!(client.service_sid(), Some(SERVICE));
    client.fetch_service(SERVICE).await.unwrap();
    server.verify().await;
    server.reset().await;

    // Public fields changed after the builder checked them are checked again, before any
    // request: a service SID that would leave its path, a malformed SID, a blank secret.
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let mut escaping = config.clone();
    escaping.service_sid = Some("VA/../../Services/x".into());
    let mut malformed = config.clone();
    malformed.credentials = TwilioCredentials::AuthToken {
        account_sid: "AC123".into(),
        auth_token: TOKEN.into(),
    };
    let mut blank = config;
    blank.credentials = TwilioCredentials::ApiKey {
        key_sid: KEY.into(),
        secret: " ".into(),
    };
    for config in [escaping, malformed, blank] {
        let err = TwilioClient::new(config).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(!err.to_string().contains(TOKEN), "{err}");
    }
    server.verify().await;
}

const SERVICE_B: &str = "VAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// A request whose query is exactly `query` (`None`: no query at all).
fn with_query(query: Option<&'static str>) -> impl Fn(&Request) -> bool + Send + Sync {
    move |request: &Request| request.url.query() == query
}

/// A list page of `sids` (as `service_json` with each SID), page `page` of pages of 2, with
/// `next` as its `next_page_url`.
fn page_json(server: &MockServer, sids: &[&str], page: u64, next: Option<&str>) -> Value {
    let services: Vec<Value> = sids
        .iter()
        .map(|sid| {
            let mut service = service_json();
            service["sid"] = json!(sid);
            service
        })
        .collect();
    let list = format!("{}/v2/Services", server.uri());
    json!({
        "services": services,
        "meta": {
            "page": page,
            "page_size": 2,
            "first_page_url": format!("{list}?PageSize=2&Page=0"),
            "previous_page_url": null,
            "url": format!("{list}?PageSize=2&Page={page}"),
            "next_page_url": next,
            "key": "services"
        }
    })
}

#[tokio::test]
async fn services_are_listed_page_by_page_wire_exact() {
    let server = MockServer::start().await;
    let client = client(&server);
    let next = format!(
        "{}/v2/Services?PageSize=2&Page=1&PageToken=PA{SERVICE_B}",
        server.uri()
    );
    expect("GET", "/v2/Services")
        .and(with_query(Some("PageSize=2")))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_json(
            &server,
            &[SERVICE, SERVICE_B],
            0,
            Some(next.as_str()),
        )))
        .expect(1)
        .mount(&server)
        .await;
    expect("GET", "/v2/Services")
        .and(with_query(Some(
            "PageSize=2&Page=1&PageToken=PAVAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_json(
            &server,
            &[OTHER_SERVICE],
            1,
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;
    expect("GET", "/v2/Services")
        .and(with_query(None))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_json(
            &server,
            &[SERVICE],
            0,
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let first = client.list_services(Some(2)).await.unwrap();
    let sids: Vec<&str> = first.services.iter().map(|s| s.sid.as_str()).collect();
    assert_eq!(sids, [SERVICE, SERVICE_B]);
    assert_eq!(first.services[0].friendly_name.as_deref(), Some("Shop"));
    assert_eq!((first.meta.page, first.meta.page_size), (Some(0), Some(2)));
    assert_eq!(first.meta.key.as_deref(), Some("services"));
    assert_eq!(first.next_page_url(), Some(next.as_str()));
    assert_eq!(first.meta.previous_page_url, None);
    let second = client
        .next_services_page(&first)
        .await
        .unwrap()
        .expect("a second page");
    assert_eq!(second.services[0].sid, OTHER_SERVICE);
    assert_eq!(second.meta.page, Some(1));
    // The last page has no next one: nothing is asked.
    assert_eq!(client.next_services_page(&second).await.unwrap(), None);
    // Without a page size, none is sent (Twilio's default, 50).
    let default = client.list_services(None).await.unwrap();
    assert_eq!(default.services.len(), 1);
    server.verify().await;
}

#[tokio::test]
async fn a_page_url_on_another_host_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"services": []})))
        .expect(0)
        .mount(&elsewhere)
        .await;
    // The answer points the next page at another server (another port of the same loopback
    // host, a look-alike host, another scheme): the credentials must not follow.
    for hostile in [
        format!("{}/v2/Services?PageSize=2&Page=1", elsewhere.uri()),
        format!(
            "{}/v2/Services?Page=1",
            server.uri().replace("127.0.0.1", "localhost")
        ),
        "https://evil.example/v2/Services?Page=1".to_owned(),
        format!("{}/v2/Services/{SERVICE}", server.uri()),
        format!(
            "{}/v2/Services?Page=1",
            server
                .uri()
                .replace("http://", "http://AC0123456789abcdef0123456789abcdef:x@")
        ),
    ] {
        expect("GET", "/v2/Services")
            .respond_with(ResponseTemplate::new(200).set_body_json(page_json(
                &server,
                &[SERVICE],
                0,
                Some(hostile.as_str()),
            )))
            .expect(1)
            .mount(&server)
            .await;
        let client = client(&server);
        let page = client.list_services(None).await.unwrap();
        assert_eq!(page.next_page_url(), Some(hostile.as_str()));
        let err = client.next_services_page(&page).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{hostile}: {err}");
        assert!(!err.to_string().contains(TOKEN), "{err}");
        let err = client.services_page(&hostile).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{hostile}: {err}");
        // One request: the list itself.
        server.verify().await;
        server.reset().await;
    }
    elsewhere.verify().await;
}

#[tokio::test]
async fn a_service_update_sends_exactly_the_fields_set() {
    let server = MockServer::start().await;
    let client = client(&server);
    let service_path = format!("/v2/Services/{SERVICE}");
    let mut answer = service_json();
    answer["friendly_name"] = json!("Shop 2");
    answer["code_length"] = json!(7);
    expect_form(
        "POST",
        &service_path,
        "FriendlyName=Shop+2&CodeLength=7&LookupEnabled=true&SkipSmsToLandlines=false\
         &DtmfInputRequired=true&DoNotShareWarningEnabled=true&CustomCodeEnabled=false",
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(answer))
    .expect(1)
    .mount(&server)
    .await;
    let mut update = UpdateService::new();
    update.friendly_name = Some("Shop 2".into());
    update.code_length = Some(7);
    update.lookup_enabled = Some(true);
    update.skip_sms_to_landlines = Some(false);
    update.dtmf_input_required = Some(true);
    update.do_not_share_warning_enabled = Some(true);
    update.custom_code_enabled = Some(false);
    let updated = client.update_service(SERVICE, &update).await.unwrap();
    assert_eq!(updated.friendly_name.as_deref(), Some("Shop 2"));
    assert_eq!(updated.code_length, Some(7));

    // One field, one form field.
    expect_form("POST", &service_path, "LookupEnabled=false")
        .respond_with(ResponseTemplate::new(200).set_body_json(service_json()))
        .expect(1)
        .mount(&server)
        .await;
    let mut one = UpdateService::new();
    one.lookup_enabled = Some(false);
    client.update_service(SERVICE, &one).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn a_delete_is_a_204_without_a_body_and_20404_is_not_found() {
    let server = MockServer::start().await;
    let client = client(&server);
    let service_path = format!("/v2/Services/{SERVICE}");
    expect("DELETE", &service_path)
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    expect("DELETE", &service_path)
        .respond_with(twilio_error(20404, 404))
        .expect(1)
        .mount(&server)
        .await;
    client.delete_service(SERVICE).await.unwrap();
    let err = client.delete_service(SERVICE).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.provider_code(), Some("20404"));
    assert_eq!(err.provider_message(), Some("Twilio says 20404"));
    assert_eq!(err.http_status(), Some(404));
    assert_eq!(err.request_id(), Some(REQUEST_ID));
    server.verify().await;
}

#[tokio::test]
async fn lists_are_retried_as_reads_and_honour_retry_after() {
    let server = MockServer::start().await;
    expect("GET", "/v2/Services")
        .respond_with(twilio_error(20429, 429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    expect("GET", "/v2/Services")
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    expect("GET", "/v2/Services")
        .respond_with(ResponseTemplate::new(200).set_body_json(page_json(
            &server,
            &[SERVICE],
            0,
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let page = client(&server).list_services(None).await.unwrap();
    assert_eq!(page.services.len(), 1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 is waited for"
    );
    server.verify().await;
}

#[tokio::test]
async fn service_updates_and_deletes_are_never_retried() {
    let server = MockServer::start().await;
    let client = client(&server);
    let service_path = format!("/v2/Services/{SERVICE}");
    let mut update = UpdateService::new();
    update.code_length = Some(5);
    for (answer, kind) in [
        (ResponseTemplate::new(503), ErrorKind::ProviderUnavailable),
        (ResponseTemplate::new(502), ErrorKind::ProviderUnavailable),
        (
            twilio_error(20429, 429).insert_header("retry-after", "0"),
            ErrorKind::RateLimited,
        ),
        (
            ResponseTemplate::new(200)
                .set_body_json(service_json())
                .set_delay(Duration::from_secs(3)),
            ErrorKind::Timeout,
        ),
    ] {
        expect("POST", &service_path)
            .respond_with(answer.clone())
            .expect(1)
            .mount(&server)
            .await;
        expect("DELETE", &service_path)
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        let err = client.update_service(SERVICE, &update).await.unwrap_err();
        assert_eq!(err.kind(), kind, "update: {err}");
        let err = client.delete_service(SERVICE).await.unwrap_err();
        assert_eq!(err.kind(), kind, "delete: {err}");
        server.verify().await;
        server.reset().await;
    }
}

#[tokio::test]
async fn service_input_is_checked_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let client = client(&server);
    for size in [0, 1001, u32::MAX] {
        let err = client.list_services(Some(size)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{size}");
    }
    let err = client
        .update_service(SERVICE, &UpdateService::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("at least one field"), "{err}");
    let named = |name: &str| {
        let mut update = UpdateService::new();
        update.friendly_name = Some(name.to_owned());
        update
    };
    let mut too_short = UpdateService::new();
    too_short.code_length = Some(3);
    let mut too_long = UpdateService::new();
    too_long.code_length = Some(11);
    for update in [
        named(""),
        named("  "),
        named(&"x".repeat(33)),
        too_short,
        too_long,
    ] {
        let err = client.update_service(SERVICE, &update).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{update:?}");
    }
    let mut fine = UpdateService::new();
    fine.lookup_enabled = Some(true);
    for sid in [
        "VA123",
        "VE0123456789abcdef0123456789abcdef",
        "VA/../../Services",
        "",
    ] {
        let err = client.update_service(sid, &fine).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{sid}");
        let err = client.delete_service(sid).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{sid}");
    }
    // A page whose next URL is elsewhere, as an application might have kept it.
    let page: ServicePage = serde_json::from_value(json!({
        "services": [],
        "meta": {"next_page_url": "https://evil.example/v2/Services?Page=1"}
    }))
    .unwrap();
    let err = client.next_services_page(&page).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    server.verify().await;
}
