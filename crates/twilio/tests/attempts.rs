//! The Verification Attempts API against a mock server, wire-exact, and the verifier's
//! read-back of a check whose answer was lost.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use phone_verify_core::http::{Clock, ConfigureHttp, HttpConfig, RetryPolicy, Sleep, Timeouts};
use phone_verify_core::{
    Channel, CheckOutcome, CheckRequest, Code, ErrorKind, PhoneNumber, PhoneVerifier, Verification,
};
use phone_verify_twilio::{
    ConversionStatus, EXTRA_SERVICE_SID, ListAttempts, Twilio, TwilioBuilder, TwilioChannel,
    TwilioClient,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "canary-token";
const SERVICE: &str = "VA0123456789abcdef0123456789abcdef";
const VE: &str = "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const OTHER_VE: &str = "VEbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const VL: &str = "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const VL_2: &str = "VLcccccccccccccccccccccccccccccccc";
const PHONE: &str = "+15017122661";

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

/// A `GET` of `p` with the account's Basic auth.
fn expect_get(p: &str) -> MockBuilder {
    let basic = format!(
        "Basic {}",
        BASE64.encode(format!("{ACCOUNT}:{TOKEN}").as_bytes())
    );
    Mock::given(method("GET"))
        .and(path(p))
        .and(header("authorization", basic.as_str()))
        .and(header("accept", "application/json"))
}

/// A request whose query is exactly `query`.
fn with_query(query: &'static str) -> impl Fn(&Request) -> bool + Send + Sync {
    move |request: &Request| request.url.query() == Some(query)
}

/// An attempt of `verification` (sent to `to`) with `conversion`, as Twilio writes one.
fn attempt_json(sid: &str, verification: &str, to: &str, conversion: &str) -> Value {
    json!({
        "sid": sid,
        "account_sid": ACCOUNT,
        "service_sid": SERVICE,
        "verification_sid": verification,
        "date_created": "2026-12-07T10:00:00Z",
        "date_updated": "2026-12-07T10:01:30Z",
        "conversion_status": conversion,
        "channel": "sms",
        "price": {"value": "0.0500", "currency": "usd"},
        "channel_data": {"to": to, "status": "delivered", "error_codes": []},
        "url": format!("https://verify.twilio.com/v2/Attempts/{sid}")
    })
}

/// A page of `attempts`, with `next` as its `next_page_url`.
fn page_json(server: &MockServer, attempts: &[Value], next: Option<&str>) -> Value {
    let list = format!("{}/v2/Attempts", server.uri());
    json!({
        "attempts": attempts,
        "meta": {
            "page": 0,
            "page_size": 50,
            "first_page_url": format!("{list}?PageSize=50&Page=0"),
            "previous_page_url": null,
            "url": format!("{list}?PageSize=50&Page=0"),
            "next_page_url": next,
            "key": "attempts"
        }
    })
}

#[tokio::test]
async fn attempts_are_listed_page_by_page_and_fetched_wire_exact() {
    let server = MockServer::start().await;
    let client = client(&server);
    let next = format!(
        "{}/v2/Attempts?PageSize=1&Page=1&PageToken=PT{VL}",
        server.uri()
    );
    expect_get("/v2/Attempts")
        .and(with_query(
            "VerificationSid=VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&VerifyServiceSid=\
             VA0123456789abcdef0123456789abcdef&Status=converted&Channel=sms&ChannelData.To=\
             %2B15017122661&Country=US&DateCreatedAfter=2026-12-07T10%3A30%3A15Z&\
             DateCreatedBefore=2026-12-08T00%3A00%3A00Z&PageSize=1",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_json(
            &server,
            &[attempt_json(VL, VE, PHONE, "converted")],
            Some(next.as_str()),
        )))
        .expect(1)
        .mount(&server)
        .await;
    expect_get("/v2/Attempts")
        .and(with_query(
            "PageSize=1&Page=1&PageToken=PTVLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_json(
            &server,
            &[attempt_json(VL_2, VE, PHONE, "unconverted")],
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;
    expect_get(&format!("/v2/Attempts/{VL}"))
        .respond_with(ResponseTemplate::new(200).set_body_json(attempt_json(
            VL,
            VE,
            PHONE,
            "converted",
        )))
        .expect(1)
        .mount(&server)
        .await;

    let mut filter = ListAttempts::of_verification(VE);
    filter.service_sid = Some(SERVICE.into());
    filter.conversion_status = Some(ConversionStatus::Converted);
    filter.channel = Some(TwilioChannel::Sms);
    filter.to = Some(PHONE.into());
    filter.country = Some("US".into());
    filter.created_after = Some(datetime!(2026-12-07 12:30:15.5 +02:00));
    filter.created_before = Some(datetime!(2026-12-08 00:00 UTC));
    filter.page_size = Some(1);
    let first = client.list_attempts(&filter).await.unwrap();
    let attempt = &first.attempts[0];
    assert_eq!(attempt.sid.as_deref(), Some(VL));
    assert_eq!(attempt.verification_sid.as_deref(), Some(VE));
    assert_eq!(attempt.service_sid.as_deref(), Some(SERVICE));
    assert!(attempt.is_converted());
    assert_eq!(attempt.to(), Some(PHONE));
    assert_eq!(attempt.channel.as_deref(), Some("sms"));
    assert_eq!(attempt.date_created, Some(datetime!(2026-12-07 10:00 UTC)));
    assert_eq!(
        attempt.date_updated,
        Some(datetime!(2026-12-07 10:01:30 UTC))
    );
    assert_eq!(first.meta.key.as_deref(), Some("attempts"));
    let second = client
        .next_attempts_page(&first)
        .await
        .unwrap()
        .expect("a second page");
    assert_eq!(second.attempts[0].sid.as_deref(), Some(VL_2));
    assert_eq!(
        second.attempts[0].conversion_status,
        Some(ConversionStatus::Unconverted)
    );
    // The last page has no next one: nothing is asked.
    assert_eq!(client.next_attempts_page(&second).await.unwrap(), None);
    let fetched = client.fetch_attempt(VL).await.unwrap();
    assert_eq!(&fetched, attempt);
    server.verify().await;
}

#[tokio::test]
async fn attempt_input_is_checked_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"attempts": []})))
        .expect(0)
        .mount(&server)
        .await;
    let client = client(&server);
    let with = |change: &dyn Fn(&mut ListAttempts)| {
        let mut filter = ListAttempts::default();
        change(&mut filter);
        filter
    };
    let refused = [
        with(&|f| f.verification_sid = Some("VE123".into())),
        with(&|f| f.verification_sid = Some(SERVICE.into())),
        with(&|f| f.service_sid = Some(VE.into())),
        with(&|f| f.conversion_status = Some(ConversionStatus::Other("pending".into()))),
        with(&|f| f.to = Some("12125550100".into())),
        with(&|f| f.to = Some("+1 212 555 0100".into())),
        with(&|f| f.country = Some("USA".into())),
        with(&|f| f.country = Some("U1".into())),
        with(&|f| f.page_size = Some(0)),
        with(&|f| f.page_size = Some(1001)),
        with(&|f| f.created_before = Some(datetime!(-0001-06-01 00:00 UTC))),
    ];
    for filter in &refused {
        let err = client.list_attempts(filter).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{filter:?}: {err}");
        assert!(!err.to_string().contains("555"), "{err}");
    }
    for bad in ["", "VL123", VE, "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaz"] {
        let err = client.fetch_attempt(bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    // A page URL must be this client's list of attempts: not the services', nor another
    // host's.
    for url in [
        format!("{}/v2/Services?Page=1", server.uri()),
        format!("{}/v2/Attempts/{VL}", server.uri()),
        "https://evil.example/v2/Attempts?Page=1".to_owned(),
    ] {
        let err = client.attempts_page(&url).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{url}");
        assert!(!err.to_string().contains("evil"), "{err}");
    }
    server.verify().await;
}

#[tokio::test]
async fn attempt_lists_are_retried_as_reads() {
    let server = MockServer::start().await;
    expect_get("/v2/Attempts")
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    expect_get("/v2/Attempts")
        .respond_with(ResponseTemplate::new(200).set_body_json(page_json(&server, &[], None)))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .list_attempts(&ListAttempts::default())
        .await
        .unwrap();
    assert!(page.attempts.is_empty());
    server.verify().await;
}

fn handle() -> Verification {
    Verification::new(phone_verify_twilio::PROVIDER, VE, Channel::Sms)
        .with_phone(PhoneNumber::parse(PHONE).unwrap())
        .with_expires_at(OffsetDateTime::now_utc() + Duration::from_secs(600))
        .with_extra(EXTRA_SERVICE_SID, SERVICE)
}

fn check_request() -> CheckRequest {
    CheckRequest::code(Code::new("123456").unwrap())
}

/// `attempt` (an [`attempt_json`]) last updated `ago` before now.
fn updated_ago(mut attempt: Value, ago: Duration) -> Value {
    let at = OffsetDateTime::now_utc() - ago;
    attempt["date_updated"] = json!(at.format(&Rfc3339).unwrap());
    attempt
}

/// An attempt of the handle's verification, to its number, converted a moment ago.
fn converted_now(sid: &str) -> Value {
    updated_ago(attempt_json(sid, VE, PHONE, "converted"), Duration::ZERO)
}

/// A check answered with a body that cannot be read (so its outcome is unknown), and the
/// verification's attempts listed as `attempts`, by a verifier on `clock` (the system's when
/// `None`); returns the check's result and how many attempt lists were asked for.
async fn lost_check_on(
    attempts: ResponseTemplate,
    clock: Option<Arc<dyn Clock>>,
) -> (phone_verify_core::Result<CheckOutcome>, usize) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v2/Services/{SERVICE}/VerificationCheck")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string(format!(r#"{{"sid":"{VE}","status":"appr"#)),
        )
        .expect(1)
        .mount(&server)
        .await;
    expect_get("/v2/Attempts")
        .and(with_query(
            "VerificationSid=VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ))
        .respond_with(attempts)
        .mount(&server)
        .await;
    let mut builder = builder(&server);
    if let Some(clock) = clock {
        builder = builder.http_config(HttpConfig::default().with_clock(clock));
    }
    let verifier: Twilio = builder.build().unwrap();
    let outcome = verifier.check(&handle(), &check_request()).await;
    let lists = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v2/Attempts")
        .count();
    server.verify().await;
    (outcome, lists)
}

async fn lost_check_then(
    attempts: ResponseTemplate,
) -> (phone_verify_core::Result<CheckOutcome>, usize) {
    lost_check_on(attempts, None).await
}

#[tokio::test]
async fn a_lost_check_answer_is_verified_when_the_attempts_say_converted() {
    let server = MockServer::start().await;
    let page = page_json(
        &server,
        &[
            attempt_json(VL_2, VE, PHONE, "unconverted"),
            converted_now(VL),
        ],
        None,
    );
    let before = OffsetDateTime::now_utc();
    let (outcome, lists) = lost_check_then(ResponseTemplate::new(200).set_body_json(page)).await;
    let Ok(CheckOutcome::Verified(verified)) = outcome else {
        panic!("expected Verified, got {outcome:?}");
    };
    assert_eq!(lists, 1);
    assert_eq!(verified.phone.as_ref().map(PhoneNumber::e164), Some(PHONE));
    assert_eq!(verified.channel, Channel::Sms);
    // When the read-back learned it, on the verifier's clock.
    let at = verified.verified_at.expect("a verification time");
    assert!(before <= at && at <= OffsetDateTime::now_utc(), "{at}");
}

#[tokio::test]
async fn a_lost_check_answer_stays_unknown_unless_an_attempt_of_the_handle_converted_since() {
    let server = MockServer::start().await;
    let page = |attempts: &[Value]| {
        ResponseTemplate::new(200).set_body_json(page_json(&server, attempts, None))
    };
    let answers = [
        (
            "only unconverted attempts (a wrong code, an unprocessed check or a late record)",
            page(&[updated_ago(
                attempt_json(VL, VE, PHONE, "unconverted"),
                Duration::ZERO,
            )]),
        ),
        ("no attempt", page(&[])),
        (
            "a converted attempt of another verification",
            page(&[updated_ago(
                attempt_json(VL, OTHER_VE, PHONE, "converted"),
                Duration::ZERO,
            )]),
        ),
        ("a converted attempt without its verification", {
            let mut attempt = converted_now(VL);
            attempt["verification_sid"] = Value::Null;
            page(&[attempt])
        }),
        (
            "a converted attempt sent to another number",
            page(&[updated_ago(
                attempt_json(VL, VE, "+15017122662", "converted"),
                Duration::ZERO,
            )]),
        ),
        (
            "a converted attempt to the number beside one to another number",
            page(&[
                converted_now(VL),
                attempt_json(VL_2, VE, "+15017122662", "unconverted"),
            ]),
        ),
        (
            "a conversion before the check (an earlier check's, past the clock skew)",
            page(&[updated_ago(
                attempt_json(VL, VE, PHONE, "converted"),
                Duration::from_secs(300),
            )]),
        ),
        ("a conversion without a date", {
            let mut attempt = converted_now(VL);
            attempt["date_updated"] = Value::Null;
            page(&[attempt])
        }),
        (
            "a refused read (no access to the Attempts API)",
            ResponseTemplate::new(403).set_body_json(json!({
                "code": 20003, "message": "Authenticate", "status": 403
            })),
        ),
        (
            "an unreadable page",
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string(r#"{"attempts": [{"conversion_status": "conv"#),
        ),
    ];
    for (what, answer) in answers {
        let (outcome, lists) = lost_check_then(answer).await;
        let err = outcome.expect_err(what);
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{what}: {err}");
        assert!(lists >= 1, "{what}: the attempts were read");
    }
    // Within the clock skew, a conversion counts (Twilio's clock may run behind).
    let (outcome, _) = lost_check_then(page(&[updated_ago(
        attempt_json(VL, VE, PHONE, "converted"),
        Duration::from_secs(60),
    )]))
    .await;
    assert!(
        matches!(outcome, Ok(CheckOutcome::Verified(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_rate_limited_read_back_ends_unknown_without_waiting_for_retry_after() {
    let server = MockServer::start().await;
    let limited = ResponseTemplate::new(429)
        .insert_header("retry-after", "60")
        .set_body_json(json!({"code": 20429, "message": "Too many requests", "status": 429}));
    let (outcome, lists) = lost_check_then(limited).await;
    drop(server);
    let err = outcome.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(
        lists, 1,
        "a Retry-After past the policy's limit is not waited for"
    );
}

/// The system's time, and sleeps that are over at once: any wait runs out immediately.
#[derive(Debug)]
struct NoWaiting;

impl Clock for NoWaiting {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn sleep(&self, _: Duration) -> Sleep {
        Box::pin(std::future::ready(()))
    }
}

#[tokio::test]
async fn a_read_back_is_given_up_when_its_time_runs_out() {
    // The read-back runs against what is left of the overall timeout, on the HTTP settings'
    // clock: on a clock whose waits end at once, a converted attempt that is slow to come
    // counts for nothing.
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(page_json(&server, &[converted_now(VL)], None))
        .set_delay(Duration::from_millis(200));
    let (outcome, lists) = lost_check_on(slow.clone(), Some(Arc::new(NoWaiting))).await;
    let err = outcome.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert!(lists <= 1, "the read is not retried: {lists}");
    // The same answer, with time to come: verified.
    let (outcome, _) = lost_check_then(slow).await;
    assert!(
        matches!(outcome, Ok(CheckOutcome::Verified(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_check_with_a_known_outcome_reads_no_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v2/Services/{SERVICE}/VerificationCheck")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sid": VE, "to": PHONE, "channel": "sms", "status": "pending", "valid": false
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/Attempts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"attempts": []})))
        .expect(0)
        .mount(&server)
        .await;
    let verifier: Twilio = builder(&server).build().unwrap();
    let outcome = verifier.check(&handle(), &check_request()).await.unwrap();
    assert!(matches!(outcome, CheckOutcome::Rejected(_)), "{outcome:?}");
    server.verify().await;
}
