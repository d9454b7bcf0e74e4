//! Wire-exact tests against a mock HTTP server: every endpoint's method, path, headers and JSON
//! body; every documented error code; hostile answers; retries; secrets.

use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy, Timeouts};
use phone_verify_core::secrecy::ExposeSecret;
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Error, ErrorKind, PhoneNumber,
    PhoneVerifier, PhoneVerifierExt, ProviderId, RejectReason, RequestContext, SessionId,
    SessionResolver, StartRequest, Verification,
};
use phone_verify_verifykit::{
    App, BlacklistType, MAX_REVERSE_FLOW_TTL, SendOtp, StartOptions, VerifyKitBuilder,
    VerifyKitClient,
};
use serde_json::{Value, json};
use time::macros::datetime;
use wiremock::matchers::{any, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Every endpoint on the wire
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn init_sends_lang_as_query_and_reads_both_answer_shapes() {
    let server = MockServer::start().await;
    mount_once(&server, endpoint("GET", "/web-rest/v1.0/init").and(query_param("lang", "tr")), ok(
            200,
            json!({
                "list": [
                    {"appPackage": "whatsapp", "name": "WhatsApp", "app": "whatsapp", "text": "Verify via WhatsApp", "textColour": "ffffff", "bgColour": "1bd741", "icon": "https://web-rest.verifykit.com/img/web/wa.png"},
                    {"appPackage": "telegram", "name": "Telegram", "app": "telegram"},
                    {"appPackage": "otp", "name": "Sms", "app": "otp", "text": "Click to verify via SMS"}
                ],
                "description": "Please tap on your preferred messaging app.",
                "localizationList": [{"key": "validation.chooseAppText", "value": "Select a messaging app."}],
                "messages": []
            }),
        )).await;
    mount_once(
        &server,
        endpoint("GET", "/web-rest/v1.0/init").and(query_param_is_missing("lang")),
        ok(
            200,
            json!({
                "list": [],
                "alternativeValidation": "otp",
                "alternativeValidationDescription": "Don't use any of these apps?",
                "description": "Please tap on your preferred messaging app.",
                "localizationList": [],
                "messages": []
            }),
        ),
    )
    .await;
    let client = client(&server);

    let recommended = client
        .init(Some(&"tr".parse().unwrap()), &context())
        .await
        .unwrap();
    assert_eq!(recommended.list.len(), 3);
    let whatsapp = recommended.method("whatsapp").unwrap();
    assert_eq!(whatsapp.bg_colour.as_deref(), Some("1bd741"));
    assert_eq!(whatsapp.app_package.as_deref(), Some("whatsapp"));
    assert!(recommended.offers_otp());
    assert_eq!(
        recommended.text("validation.chooseAppText"),
        Some("Select a messaging app.")
    );

    let basic = client.init(None, &context()).await.unwrap();
    assert!(basic.list.is_empty());
    assert!(basic.offers_otp());
    assert_eq!(
        basic.alternative_validation_description.as_deref(),
        Some("Don't use any of these apps?")
    );
    assert!(
        requests(&server).await.iter().all(|r| r.body.is_empty()),
        "GET requests have no body"
    );
}

#[tokio::test]
async fn start_sends_app_lang_deeplink_qr_code_and_phone() {
    let server = MockServer::start().await;
    let cases = [
        (
            StartOptions::new(App::WhatsApp).language("tr".parse().unwrap()),
            json!({"app": "whatsapp", "lang": "tr", "deeplink": true, "qrCode": false}),
        ),
        (
            StartOptions::new(App::Telegram)
                .deeplink(false)
                .qr_code(true),
            json!({"app": "telegram", "deeplink": false, "qrCode": true}),
        ),
        (
            // Both asked for: VerifyKit gives only the deeplink, so only the deeplink is asked.
            StartOptions::new(App::WhatsApp).qr_code(true),
            json!({"app": "whatsapp", "deeplink": true, "qrCode": false}),
        ),
        (
            StartOptions::whatsapp_otp(phone()),
            json!({"app": "whatsapp", "deeplink": true, "qrCode": false, "phoneNumber": PHONE}),
        ),
    ];
    let client = client(&server);
    for (options, body) in cases {
        server.reset().await;
        expect_post(
            &server,
            "/web-rest/v1.0/start",
            &body,
            ok(
                200,
                json!({
                    "deeplink": "https://wa.me/905395744034?text=111111",
                    "qrCode": "data:image/png;base64,iVBORw0KGgo=",
                    "reference": "111111"
                }),
            ),
        )
        .await;
        let started = client.start(&options, &context()).await.unwrap();
        assert_eq!(started.reference, "111111", "{body}");
        assert_eq!(
            started.deeplink.as_deref(),
            Some("https://wa.me/905395744034?text=111111")
        );
        assert_eq!(
            started.qr_code.as_deref(),
            Some("data:image/png;base64,iVBORw0KGgo=")
        );
        server.verify().await;
    }
}

#[tokio::test]
async fn check_and_check_whatsapp_send_the_reference_and_code() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/web-rest/v1.0/check",
        json!({"reference": "ref-1"}),
        ok(
            200,
            json!({"validationStatus": true, "sessionId": "QWERTY123456", "appPlatform": "web"}),
        ),
    )
    .await;
    expect_post(
        &server,
        "/web-rest/v1.0/check-whatsapp",
        json!({"reference": "ref-2", "code": "111111"}),
        ok(
            200,
            json!({"validationStatus": true, "sessionId": "SESSION2"}),
        ),
    )
    .await;
    let client = client(&server);
    let check = client.check("ref-1", &context()).await.unwrap();
    assert!(check.is_verified());
    assert_eq!(
        check.session_id.as_ref().map(SessionId::as_str),
        Some("QWERTY123456")
    );
    assert_eq!(check.app_platform.as_deref(), Some("web"));
    let wa = client
        .check_whatsapp("ref-2", &code("111111"), &context())
        .await
        .unwrap();
    assert_eq!(
        wa.session_id.as_ref().map(SessionId::as_str),
        Some("SESSION2")
    );
}

#[tokio::test]
async fn country_sends_the_optional_country_and_lang() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/web-rest/v1.0/country",
        json!({"countryCode": "TR", "lang": "en"}),
        ok(
            200,
            json!({"list": [
                {"phoneCode": "+90", "countryCode": "TR", "title": "Turkey"},
                {"phoneCode": 507, "countryCode": "PA", "title": "Panama"}
            ]}),
        ),
    )
    .await;
    expect_post(
        &server,
        "/web-rest/v1.0/country",
        json!({}),
        ok(200, json!({"list": []})),
    )
    .await;
    let client = client(&server);
    let list = client
        .country(Some("tr"), Some(&"en".parse().unwrap()), &context())
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].country_code, "TR");
    assert_eq!(list[1].phone_code.as_deref(), Some("507"));
    assert!(
        client
            .country(None, None, &context())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn send_otp_and_check_otp_send_every_field() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/web-rest/v1.0/send-otp",
        json!({
            "phoneNumber": PHONE, "countryCode": "TR", "mcc": "286", "mnc": "01", "lang": "tr"
        }),
        ok(
            201,
            json!({"reference": "123456", "timeout": 300, "length": 6}),
        ),
    )
    .await;
    expect_post(
        &server,
        "/web-rest/v1.0/check-otp",
        json!({
            "phoneNumber": PHONE, "countryCode": "TR", "reference": "123456", "code": "987654"
        }),
        ok(
            200,
            json!({"validationStatus": true, "sessionId": "QWERTY123456"}),
        ),
    )
    .await;
    let client = client(&server);
    let otp = SendOtp::new(phone())
        .mcc("286")
        .mnc("01")
        .language("tr".parse().unwrap());
    let sent = client.send_otp(&otp, &context()).await.unwrap();
    assert_eq!(sent.reference, "123456");
    assert_eq!(sent.validity(), Some(Duration::from_secs(300)));
    assert_eq!(sent.length, Some(6));
    let check = client
        .check_otp(&phone(), "TR", "123456", &code("987654"), &context())
        .await
        .unwrap();
    assert_eq!(check.validation_status, Some(true));
}

#[tokio::test]
async fn result_access_token_and_whatsapp_messages_use_the_api_host() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/api/v1.0/result",
        json!({"sessionId": "QWERTY123456"}),
        ok(
            200,
            json!({
                "validationType": "whatsapp",
                "validationDate": "2019-11-07 07:35:28",
                "phoneNumber": PHONE,
                "countryCode": "TR",
                "mobileNetwork": "Turkcell"
            }),
        ),
    )
    .await;
    mount_once(
        &server,
        endpoint("GET", "/api/v1.0/access-token"),
        ok(
            200,
            json!({"accessToken": "widget-token-abc", "timeout": "2026-11-22 18:30:00"}),
        ),
    )
    .await;
    expect_post(
        &server,
        "/api/v1.0/send-whatsapp-message",
        json!({"phoneNumber": PHONE, "message": "Your order has shipped."}),
        ok(
            200,
            json!({"phoneNumber": PHONE, "message": "Your order has shipped.", "status": "sent"}),
        ),
    )
    .await;
    let client = client(&server);

    let result = client
        .result(&SessionId::new("QWERTY123456").unwrap(), &context())
        .await
        .unwrap();
    assert_eq!(result.phone_number, PHONE);
    assert_eq!(result.validation_type.as_deref(), Some("whatsapp"));
    assert_eq!(
        result.validation_date,
        Some(datetime!(2019-11-07 07:35:28 UTC))
    );
    assert_eq!(result.mobile_network, Some(json!("Turkcell")));

    let token = client.access_token(&context()).await.unwrap();
    assert_eq!(token.access_token.expose_secret(), "widget-token-abc");
    assert_eq!(token.expires_at(), Some(datetime!(2026-11-22 18:30:00 UTC)));
    assert!(!format!("{token:?}").contains("widget-token-abc"));

    let sent = client
        .send_whatsapp_message(&phone(), "Your order has shipped.", &context())
        .await
        .unwrap();
    assert_eq!(sent.status.as_deref(), Some("sent"));
    assert_eq!(count(&server, "/web-rest/v1.0/result").await, 0);
}

#[tokio::test]
async fn blacklist_add_and_remove_send_type_and_numbers() {
    let server = MockServer::start().await;
    let numbers = [phone(), "+507 6264 7737".parse().unwrap()];
    expect_post(
        &server,
        "/web-rest/v1.0/blacklist/add",
        json!({"type": "otp", "msisdn": [PHONE, "+50762647737"]}),
        ok(
            200,
            json!({
                "totalCount": 2, "successCount": 1, "alreadyExistsCount": 1,
                "numberFormatCount": 0, "failCount": 0,
                "alreadyExistsList": ["+50762647737"], "numberFormatList": [], "failList": []
            }),
        ),
    )
    .await;
    expect_post(&server, "/web-rest/v1.0/blacklist/remove", json!({"type": "whatsapp", "msisdn": [PHONE]}), ok(
            200,
            json!({"totalCount": 1, "successCount": 0, "notExistsCount": 1, "notExistsList": [PHONE]}),
        )).await;
    let client = client(&server);
    let added = client
        .blacklist_add(BlacklistType::Otp, &numbers, &context())
        .await
        .unwrap();
    assert_eq!(
        (
            added.total_count,
            added.success_count,
            added.already_exists_count
        ),
        (2, 1, 1)
    );
    assert_eq!(added.already_exists_list, ["+50762647737"]);
    let removed = client
        .blacklist_remove(BlacklistType::WhatsApp, &numbers[..1], &context())
        .await
        .unwrap();
    assert_eq!(removed.not_exists_count, 1);
    assert_eq!(removed.not_exists_list, [PHONE]);
}

#[tokio::test]
async fn forwarded_for_is_the_end_user_ip_of_each_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/web-rest/v1.0/check"))
        .respond_with(ok(200, json!({"validationStatus": false})))
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1.0/result"))
        .respond_with(ok(200, json!({"phoneNumber": PHONE})))
        .expect(1)
        .mount(&server)
        .await;
    let strict = strict_builder(&server).build_client().unwrap();
    assert_eq!(strict.fallback_end_user_ip(), None);
    // No IP and no fallback: refused before any request, naming what to set.
    let err = strict.check("r", &RequestContext::new()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("RequestContext::end_user_ip")
            && err.to_string().contains("fallback_end_user_ip"),
        "{err}"
    );
    assert!(requests(&server).await.is_empty());
    strict
        .check(
            "r",
            &RequestContext::new().end_user_ip("2001:db8::1".parse().unwrap()),
        )
        .await
        .unwrap();
    strict.check("r", &context()).await.unwrap();
    // The fallback fills in; the API host's `result` goes without any.
    let fallback = strict_builder(&server)
        .fallback_end_user_ip("192.0.2.1".parse().unwrap())
        .build_client()
        .unwrap();
    assert_eq!(
        fallback.fallback_end_user_ip(),
        Some("192.0.2.1".parse().unwrap())
    );
    fallback.check("r", &RequestContext::new()).await.unwrap();
    strict
        .result(&SessionId::new("S1").unwrap(), &RequestContext::new())
        .await
        .unwrap();
    let seen: Vec<Option<String>> = requests(&server)
        .await
        .iter()
        .map(|r| {
            assert_eq!(
                r.headers.get("x-vfk-server-key").unwrap().to_str().unwrap(),
                KEY
            );
            r.headers
                .get("x-vfk-forwarded-for")
                .map(|v| v.to_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        seen,
        [
            Some("2001:db8::1".to_owned()),
            Some(IP.to_owned()),
            Some("192.0.2.1".to_owned()),
            None
        ]
    );
}

#[tokio::test]
async fn the_verifier_refuses_every_web_rest_call_without_an_ip_before_sending() {
    let server = MockServer::start().await;
    let verifier = strict_builder(&server).build().unwrap();
    let client = verifier.client().clone();
    let none = RequestContext::new();
    let c = code("123456");
    let errors = [
        verifier
            .start(&StartRequest::sms(phone()))
            .await
            .unwrap_err(),
        verifier
            .start(&StartRequest::reverse(Channel::Telegram))
            .await
            .unwrap_err(),
        verifier.check_code(&sms_handle("r"), &c).await.unwrap_err(),
        verifier
            .poll(&reverse_handle("r", Channel::WhatsApp))
            .await
            .unwrap_err(),
        client.init(None, &none).await.unwrap_err(),
        client.country(None, None, &none).await.unwrap_err(),
        client.check_whatsapp("r", &c, &none).await.unwrap_err(),
        client.start_email(None, &none).await.unwrap_err(),
        client
            .check_email("r", "verify-x", &none)
            .await
            .unwrap_err(),
        client
            .blacklist_add(BlacklistType::Otp, &[phone()], &none)
            .await
            .unwrap_err(),
    ];
    for err in errors {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("end_user_ip"), "{err}");
    }
    assert!(requests(&server).await.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn an_injected_reqwest_client_is_used() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        endpoint("POST", "/web-rest/v1.0/check").and(header("x-injected", "yes")),
        ok(200, json!({"validationStatus": false})),
    )
    .await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-injected",
        reqwest::header::HeaderValue::from_static("yes"),
    );
    let injected = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = builder(&server)
        .reqwest_client(injected)
        .build_client()
        .unwrap();
    assert!(!client.check("r", &context()).await.unwrap().is_verified());
}

#[tokio::test]
async fn client_side_checks_send_nothing() {
    let server = MockServer::start().await;
    let client = client(&server);
    let ctx = context();
    let c = code("123456");
    let non_geographic: PhoneNumber = "+800 1234 5678".parse().unwrap();
    assert_eq!(non_geographic.region(), None);
    let failures: Vec<Error> = vec![
        client.check("", &ctx).await.unwrap_err(),
        client.check("   ", &ctx).await.unwrap_err(),
        client.check_whatsapp("", &c, &ctx).await.unwrap_err(),
        client
            .check_otp(&phone(), "TR", "", &c, &ctx)
            .await
            .unwrap_err(),
        client
            .check_otp(&phone(), "", "ref", &c, &ctx)
            .await
            .unwrap_err(),
        client
            .check_otp(&phone(), "TUR", "ref", &c, &ctx)
            .await
            .unwrap_err(),
        client
            .send_otp(&SendOtp::new(phone()).country_code(""), &ctx)
            .await
            .unwrap_err(),
        client
            .send_otp(&SendOtp::new(non_geographic), &ctx)
            .await
            .unwrap_err(),
        client
            .send_otp(&SendOtp::new(phone()).mcc("twelve"), &ctx)
            .await
            .unwrap_err(),
        client.country(Some(""), None, &ctx).await.unwrap_err(),
        client
            .start(
                &StartOptions::new(App::WhatsApp)
                    .deeplink(false)
                    .qr_code(false),
                &ctx,
            )
            .await
            .unwrap_err(),
        client
            .start(&StartOptions::new(App::Telegram).phone(phone()), &ctx)
            .await
            .unwrap_err(),
        client
            .result(&SessionId::new("abc-def").unwrap(), &ctx)
            .await
            .unwrap_err(),
        client
            .result(&SessionId::new("abc_def").unwrap(), &ctx)
            .await
            .unwrap_err(),
        client
            .send_whatsapp_message(&phone(), "too short", &ctx)
            .await
            .unwrap_err(),
        client
            .send_whatsapp_message(&phone(), "          x", &ctx)
            .await
            .unwrap_err(),
        client
            .blacklist_add(BlacklistType::Otp, &[], &ctx)
            .await
            .unwrap_err(),
        client
            .blacklist_remove(BlacklistType::Telegram, &[], &ctx)
            .await
            .unwrap_err(),
    ];
    for err in &failures {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(failures.len(), 18);
    for key in ["", "  "] {
        let err = VerifyKitBuilder::new(key)
            .web_rest_url(&server.uri())
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    assert!(requests(&server).await.is_empty(), "nothing was sent");
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// (code, HTTP status, documented message, kind for a read, kind for a send)
const DOCUMENTED: [(&str, u16, &str, ErrorKind, ErrorKind); 18] = [
    (
        "400007",
        400,
        "Invalid phone number, please check the phone number.",
        ErrorKind::InvalidInput,
        ErrorKind::InvalidInput,
    ),
    (
        "403004",
        403,
        "You must send either qrCode or deeplink parameter as true in order to start verification.",
        ErrorKind::InvalidInput,
        ErrorKind::InvalidInput,
    ),
    (
        "403011",
        403,
        "Validation type is not active.",
        ErrorKind::Unsupported,
        ErrorKind::Unsupported,
    ),
    (
        "403012",
        403,
        "Phone number is banned.",
        ErrorKind::Blocked,
        ErrorKind::Blocked,
    ),
    (
        "403013",
        403,
        "OTP Validation not found.",
        ErrorKind::NotFound,
        ErrorKind::NotFound,
    ),
    (
        "403014",
        403,
        "OTP code is invalid.",
        ErrorKind::InvalidInput,
        ErrorKind::InvalidInput,
    ),
    (
        "403015",
        403,
        "You have reached the limit of sending OTP code.",
        ErrorKind::RateLimited,
        ErrorKind::RateLimited,
    ),
    (
        "403036",
        403,
        "Validation not found.",
        ErrorKind::NotFound,
        ErrorKind::NotFound,
    ),
    (
        "403037",
        403,
        "Validation has expired.",
        ErrorKind::Expired,
        ErrorKind::Expired,
    ),
    (
        "403038",
        403,
        "Undefined application. Please check your credential parameters.",
        ErrorKind::Unauthorized,
        ErrorKind::Unauthorized,
    ),
    (
        "403041",
        403,
        "You have reached the limit of package validation count.",
        ErrorKind::QuotaExhausted,
        ErrorKind::QuotaExhausted,
    ),
    (
        "403042",
        403,
        "Please check your account balance on VerifyKit Dashboard.",
        ErrorKind::QuotaExhausted,
        ErrorKind::QuotaExhausted,
    ),
    (
        "403043",
        403,
        "Please check your account balance on VerifyKit Dashboard.",
        ErrorKind::QuotaExhausted,
        ErrorKind::QuotaExhausted,
    ),
    (
        "403047",
        403,
        "OTP setting is not active.",
        ErrorKind::Unsupported,
        ErrorKind::Unsupported,
    ),
    (
        "403048",
        403,
        "Email is invalid.",
        ErrorKind::InvalidInput,
        ErrorKind::InvalidInput,
    ),
    (
        "403049",
        403,
        "OTP can only be used with test numbers.",
        ErrorKind::Unsupported,
        ErrorKind::Unsupported,
    ),
    (
        "429001",
        429,
        "Too many requests. please try again later.",
        ErrorKind::RateLimited,
        ErrorKind::RateLimited,
    ),
    (
        "500008",
        500,
        "Internal server error.",
        ErrorKind::ProviderUnavailable,
        ErrorKind::MaybeSent,
    ),
];

fn assert_details(err: &Error, code: &str, status: u16, message: &str, request_id: &str) {
    assert_eq!(err.provider_code(), Some(code), "{err:?}");
    assert_eq!(err.provider_message(), Some(message), "{err:?}");
    assert_eq!(err.request_id(), Some(request_id), "{err:?}");
    assert_eq!(err.http_status(), Some(status), "{err:?}");
    assert_eq!(
        err.provider().map(ProviderId::as_str),
        Some("verifykit"),
        "{err:?}"
    );
    assert!(err.to_string().contains(code), "{err}");
}

#[tokio::test]
async fn every_documented_code_maps_to_its_kind_with_details_kept() {
    let server = MockServer::start().await;
    let client = client(&server);
    for (code_text, status, message, read_kind, send_kind) in DOCUMENTED {
        server.reset().await;
        let request_id = format!("app02-REQ-{code_text}");
        Mock::given(method("POST"))
            .and(path("/web-rest/v1.0/send-otp"))
            .respond_with(vk_error(status, code_text, message, &request_id))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/web-rest/v1.0/check"))
            .respond_with(vk_error(status, code_text, message, &request_id))
            .mount(&server)
            .await;

        let sent = client
            .send_otp(&SendOtp::new(phone()), &context())
            .await
            .unwrap_err();
        assert_eq!(sent.kind(), send_kind, "send-otp {code_text}");
        assert_details(&sent, code_text, status, message, &request_id);

        let read = client.check("ref", &context()).await.unwrap_err();
        assert_eq!(read.kind(), read_kind, "check {code_text}");
        assert_details(&read, code_text, status, message, &request_id);
        assert_eq!(count(&server, "/web-rest/v1.0/send-otp").await, 1);
    }
}

#[tokio::test]
async fn error_envelopes_with_numbers_strings_or_a_200_status_are_errors() {
    let server = MockServer::start().await;
    let client = client(&server);
    let bodies = [
        // Numbers where the docs show strings.
        (
            403,
            json!({"meta": {"requestId": "R1", "httpStatusCode": 403, "errorCode": 403_012, "errorMessage": "Phone number is banned."}}),
            ErrorKind::Blocked,
        ),
        // Strings where the README shows numbers.
        (
            403,
            json!({"meta": {"requestId": "R1", "httpStatusCode": "403", "errorCode": "403012", "errorMessage": "Phone number is banned."}}),
            ErrorKind::Blocked,
        ),
        // An error in a 200 answer: the PHP SDK ignores the status.
        (
            200,
            json!({"meta": {"requestId": "R1", "httpStatusCode": 403, "errorCode": "403012", "errorMessage": "Phone number is banned."}}),
            ErrorKind::Blocked,
        ),
        // An undocumented code: the status decides, 403 being VerifyKit's generic refusal.
        (
            403,
            json!({"meta": {"requestId": "R1", "httpStatusCode": 403, "errorCode": "403999", "errorMessage": "Something new."}}),
            ErrorKind::Provider,
        ),
        (
            404,
            json!({"meta": {"requestId": "R1", "errorCode": "404000", "errorMessage": "Not Found"}}),
            ErrorKind::NotFound,
        ),
    ];
    for (status, body, kind) in bodies {
        server.reset().await;
        Mock::given(method("POST"))
            .and(path("/web-rest/v1.0/send-otp"))
            .respond_with(ResponseTemplate::new(status).set_body_json(&body))
            .mount(&server)
            .await;
        let err = client
            .send_otp(&SendOtp::new(phone()), &context())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{body}");
        assert_eq!(err.request_id(), Some("R1"));
        assert_eq!(err.http_status(), Some(status));
    }
}

#[tokio::test]
async fn retry_after_of_a_rate_limit_is_kept() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/web-rest/v1.0/send-otp"))
        .respond_with(
            vk_error(
                429,
                "429001",
                "Too many requests. please try again later.",
                "R9",
            )
            .insert_header("retry-after", "30"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .send_otp(&SendOtp::new(phone()), &context())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
}

#[tokio::test]
async fn code_checks_turn_check_codes_into_rejections() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let cases = [
        ("403014", "OTP code is invalid.", RejectReason::WrongCode),
        ("403037", "Validation has expired.", RejectReason::Expired),
        (
            "403013",
            "OTP Validation not found.",
            RejectReason::NotFound,
        ),
        (
            "403015",
            "You have reached the limit of sending OTP code.",
            RejectReason::TooManyAttempts,
        ),
        ("403036", "Validation not found.", RejectReason::NotFound),
    ];
    let whatsapp = Verification::new(
        ProviderId::new_static("verifykit"),
        "wa-ref",
        Channel::WhatsApp,
    )
    .with_phone(phone())
    .with_extra("flow", "whatsapp_otp");
    for (code_text, message, reason) in cases {
        server.reset().await;
        for p in ["/web-rest/v1.0/check-otp", "/web-rest/v1.0/check-whatsapp"] {
            Mock::given(method("POST"))
                .and(path(p))
                .respond_with(vk_error(403, code_text, message, "R2"))
                .mount(&server)
                .await;
        }
        for handle in [sms_handle("sms-ref"), whatsapp.clone()] {
            let outcome = verifier
                .check_code(&handle, &code("123456"))
                .await
                .unwrap_or_else(|e| panic!("{code_text}: {e}"));
            assert_eq!(
                rejection(&outcome),
                (reason, Some(code_text.to_owned()), Some(message.to_owned())),
                "{code_text} on {:?}",
                handle.extra_str("flow")
            );
        }
    }
    // Codes without a meaning in a check stay errors.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/web-rest/v1.0/check-otp"))
        .respond_with(vk_error(
            403,
            "403038",
            "Undefined application. Please check your credential parameters.",
            "R3",
        ))
        .mount(&server)
        .await;
    let err = verifier
        .check_code(&sms_handle("sms-ref"), &code("123456"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.request_id(), Some("R3"));
}

#[tokio::test]
async fn polls_turn_error_codes_into_rejections_and_a_false_status_into_pending() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let handle = reverse_handle("rev-ref", Channel::WhatsApp);
    let cases: [(&str, &str, RejectReason); 3] = [
        ("403037", "Validation has expired.", RejectReason::Expired),
        (
            "403013",
            "OTP Validation not found.",
            RejectReason::NotFound,
        ),
        (
            "403015",
            "You have reached the limit of sending OTP code.",
            RejectReason::TooManyAttempts,
        ),
    ];
    for (code_text, message, reason) in cases {
        server.reset().await;
        expect_post(
            &server,
            "/web-rest/v1.0/check",
            json!({"reference": "rev-ref"}),
            vk_error(403, code_text, message, "R4"),
        )
        .await;
        let outcome = verifier
            .check(&handle, &CheckRequest::poll().context(context()))
            .await
            .unwrap();
        assert_eq!(
            rejection(&outcome),
            (reason, Some(code_text.to_owned()), Some(message.to_owned())),
            "{code_text}"
        );
        server.verify().await;
    }
    // 403036 "Validation not found." is pending in a poll: VerifyKit documents it as "in
    // progress" (check-email), and the handle's expiry ends the wait.
    server.reset().await;
    mount_once(
        &server,
        endpoint("POST", "/web-rest/v1.0/check"),
        vk_error(403, "403036", "Validation not found.", "R4"),
    )
    .await;
    let outcome = verifier
        .check(&handle, &CheckRequest::poll().context(context()))
        .await
        .unwrap();
    assert_eq!(outcome, CheckOutcome::Pending);
    server.verify().await;
    // Not completed yet: `validationStatus` false, or no status and no session.
    for pending in [json!({"validationStatus": false}), json!({})] {
        server.reset().await;
        mount_once(
            &server,
            endpoint("POST", "/web-rest/v1.0/check"),
            ok(200, pending.clone()),
        )
        .await;
        let outcome = verifier
            .check(&handle, &CheckRequest::poll().context(context()))
            .await
            .unwrap();
        assert_eq!(outcome, CheckOutcome::Pending, "{pending}");
        server.verify().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile answers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_answers_are_typed_errors() {
    let server = MockServer::start().await;
    let client = client(&server);
    let verifier = verifier(&server);
    let deep = "[".repeat(100_000);
    let huge = format!(
        "{{\"result\":{{\"reference\":\"{}\"}}}}",
        "a".repeat(2 * 1024 * 1024)
    );
    // (name, body, whether every endpoint must refuse it; the others are results that only
    // break `send-otp`'s `reference`: an odd `timeout` counts as absent, see
    // `an_odd_informational_field_never_loses_a_started_verification`)
    let bodies: Vec<(&str, Vec<u8>, bool)> = vec![
        ("empty", Vec::new(), true),
        ("html", b"<html><body>Gateway</body></html>".to_vec(), true),
        (
            "truncated",
            br#"{"meta":{"requestId":"R5"},"result":{"refer"#.to_vec(),
            true,
        ),
        ("not utf-8", vec![0xff, 0xfe, 0x7b, 0x00], true),
        ("array", b"[]".to_vec(), true),
        ("null", b"null".to_vec(), true),
        ("string", br#""result""#.to_vec(), true),
        (
            "no result",
            br#"{"meta":{"requestId":"R5","httpStatusCode":200}}"#.to_vec(),
            true,
        ),
        (
            "null result",
            br#"{"meta":{"requestId":"R5"},"result":null}"#.to_vec(),
            true,
        ),
        (
            "list result",
            br#"{"meta":{"requestId":"R5"},"result":[{"reference":"r"}]}"#.to_vec(),
            true,
        ),
        (
            "number result",
            br#"{"meta":{"requestId":"R5"},"result":42}"#.to_vec(),
            true,
        ),
        (
            "empty PHP array result",
            br#"{"meta":{"requestId":"R5"},"result":[]}"#.to_vec(),
            false,
        ),
        ("deep nesting", deep.into_bytes(), true),
        ("over the size cap", huge.into_bytes(), true),
        (
            "wrong type",
            br#"{"meta":{"requestId":"R5"},"result":{"reference":{"a":1},"timeout":300}}"#.to_vec(),
            false,
        ),
        (
            "empty reference",
            br#"{"result":{"reference":""}}"#.to_vec(),
            false,
        ),
    ];
    for (name, body, everywhere) in &bodies {
        server.reset().await;
        for p in [
            "/web-rest/v1.0/send-otp",
            "/web-rest/v1.0/check",
            "/api/v1.0/result",
        ] {
            Mock::given(method("POST"))
                .and(path(p))
                .respond_with(
                    ResponseTemplate::new(200).set_body_raw(body.clone(), "application/json"),
                )
                .mount(&server)
                .await;
        }
        let sent = client
            .send_otp(&SendOtp::new(phone()), &context())
            .await
            .unwrap_err();
        // VerifyKit answered 200 to a send: it took it, so the code may be on its way.
        assert_eq!(
            sent.kind(),
            ErrorKind::MaybeSent,
            "send-otp, {name}: {sent}"
        );
        let started = verifier
            .start(&StartRequest::sms(phone()))
            .await
            .expect_err(name);
        assert_eq!(started.kind(), ErrorKind::MaybeSent, "start, {name}");
        if !everywhere {
            continue;
        }
        let polled = verifier
            .poll(&reverse_handle("r", Channel::Telegram))
            .await
            .expect_err(name);
        assert_eq!(polled.kind(), ErrorKind::Decode, "check, {name}");
        let resolved = verifier
            .resolve(&SessionId::new("S1").unwrap(), &context())
            .await
            .expect_err(name);
        assert_eq!(resolved.kind(), ErrorKind::Decode, "result, {name}");
        let parses = serde_json::from_slice::<Value>(body).is_ok();
        if parses && body.starts_with(br#"{"meta":{"requestId":"R5""#) {
            assert_eq!(sent.request_id(), Some("R5"), "{name}");
        }
        assert!(!sent.to_string().contains(PHONE_DIGITS), "{name}: {sent}");
    }
}

#[tokio::test]
async fn malformed_results_of_each_endpoint_are_typed_errors() {
    let server = MockServer::start().await;
    let client = client(&server);
    let verifier = verifier(&server);
    let results = [
        json!({"validationStatus": "perhaps"}),
        json!({"sessionId": "has spaces in it"}),
        json!({"phoneNumber": {"e164": PHONE}}),
        json!({"phoneNumber": " ", "validationDate": "2019-11-07 07:35:28"}),
        json!({"list": "whatsapp"}),
        json!({"list": [{"countryCode": ["TR"]}]}),
        json!({"accessToken": 12}),
        json!({"failList": [{"number": PHONE}]}),
    ];
    for result in results {
        server.reset().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ok(200, result.clone()))
            .mount(&server)
            .await;
        let ctx = context();
        let session = SessionId::new("S1").unwrap();
        let kind = |r: Result<(), Error>| r.err().map(|e| e.kind());
        let outcomes: Vec<(&str, Option<ErrorKind>)> = vec![
            ("check", kind(client.check("r", &ctx).await.map(drop))),
            (
                "result",
                kind(client.result(&session, &ctx).await.map(drop)),
            ),
            (
                "resolve",
                kind(verifier.resolve(&session, &ctx).await.map(drop)),
            ),
            ("init", kind(client.init(None, &ctx).await.map(drop))),
            (
                "country",
                kind(client.country(None, None, &ctx).await.map(drop)),
            ),
            (
                "access-token",
                kind(client.access_token(&ctx).await.map(drop)),
            ),
            (
                "blacklist",
                kind(
                    client
                        .blacklist_add(BlacklistType::Otp, &[phone()], &ctx)
                        .await
                        .map(drop),
                ),
            ),
            (
                "send-whatsapp-message",
                kind(
                    client
                        .send_whatsapp_message(&phone(), "a message of some length", &ctx)
                        .await
                        .map(drop),
                ),
            ),
        ];
        // Each malformed result breaks at least the endpoint whose field it mangles; none
        // panics, and whatever fails fails with Decode. A WhatsApp message's report is
        // informational only: a message that went out never fails on its shape.
        let failed: Vec<_> = outcomes.iter().filter(|(_, k)| k.is_some()).collect();
        assert!(!failed.is_empty(), "{result}");
        for (name, k) in failed {
            assert_ne!(*name, "send-whatsapp-message", "{result}");
            assert_eq!(*k, Some(ErrorKind::Decode), "{name}: {result}");
        }
    }
    // A phone number VerifyKit reports that is not a phone number.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/api/v1.0/result"))
        .respond_with(ok(
            200,
            json!({"phoneNumber": "+1", "validationType": "otp"}),
        ))
        .mount(&server)
        .await;
    let err = verifier
        .resolve(&SessionId::new("S1").unwrap(), &context())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn server_errors_without_an_envelope_follow_the_status() {
    let server = MockServer::start().await;
    let client = client(&server);
    let unavailable = ErrorKind::ProviderUnavailable;
    let cases = [
        (502, None, ErrorKind::MaybeSent, unavailable),
        (500, None, ErrorKind::MaybeSent, unavailable),
        // A plain 503 may come from a proxy that forwarded the send; with `Retry-After`, it
        // was refused before processing.
        (503, None, ErrorKind::MaybeSent, unavailable),
        (503, Some("0"), unavailable, unavailable),
        (401, None, ErrorKind::Unauthorized, ErrorKind::Unauthorized),
    ];
    for (status, retry_after, send_kind, read_kind) in cases {
        server.reset().await;
        let mut answer =
            ResponseTemplate::new(status).set_body_raw("<html>Bad Gateway</html>", "text/html");
        if let Some(wait) = retry_after {
            answer = answer.insert_header("retry-after", wait);
        }
        Mock::given(wiremock::matchers::any())
            .respond_with(answer)
            .mount(&server)
            .await;
        let sent = client
            .send_otp(&SendOtp::new(phone()), &context())
            .await
            .unwrap_err();
        assert_eq!(sent.kind(), send_kind, "{status} {retry_after:?}");
        assert_eq!(sent.http_status(), Some(status));
        let read = client.check("r", &context()).await.unwrap_err();
        assert_eq!(read.kind(), read_kind, "{status}");
    }
}

// ---------------------------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sends_are_never_retried() {
    let server = MockServer::start().await;
    let client = builder(&server)
        .timeouts(
            Timeouts::default()
                .with_attempt(Duration::from_millis(300))
                .with_overall(Duration::from_secs(5)),
        )
        .build_client()
        .unwrap();
    let refused = || ResponseTemplate::new(503).insert_header("retry-after", "0");
    let slow = || ok(200, json!({"reference": "r"})).set_delay(Duration::from_secs(3));
    for (fault, kind) in [
        (refused(), ErrorKind::ProviderUnavailable),
        // A plain 503 may come from a proxy that forwarded the send.
        (ResponseTemplate::new(503), ErrorKind::MaybeSent),
        (ResponseTemplate::new(500), ErrorKind::MaybeSent),
        (slow(), ErrorKind::MaybeSent),
    ] {
        server.reset().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(fault)
            .mount(&server)
            .await;
        let ctx = context();
        let errors = [
            client
                .send_otp(&SendOtp::new(phone()), &ctx)
                .await
                .unwrap_err(),
            client
                .start(&StartOptions::new(App::WhatsApp), &ctx)
                .await
                .unwrap_err(),
            client
                .send_whatsapp_message(&phone(), "a message of some length", &ctx)
                .await
                .unwrap_err(),
        ];
        for err in &errors {
            assert_eq!(err.kind(), kind, "{err}");
        }
        for p in [
            "/web-rest/v1.0/send-otp",
            "/web-rest/v1.0/start",
            "/api/v1.0/send-whatsapp-message",
        ] {
            assert_eq!(count(&server, p).await, 1, "{p} under {kind}");
        }
    }
}

#[tokio::test]
async fn reads_are_retried_and_writes_are_not() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = client(&server);
    let ctx = context();
    let c = code("123456");
    let session = SessionId::new("S1").unwrap();
    let code_checks = [
        client
            .check_whatsapp("r", &c, &ctx)
            .await
            .unwrap_err()
            .kind(),
        client
            .check_otp(&phone(), "TR", "r", &c, &ctx)
            .await
            .unwrap_err()
            .kind(),
    ];
    // A plain 503 may come from a proxy that forwarded the check: the code may be used.
    assert_eq!(code_checks, [ErrorKind::OutcomeUnknown; 2]);
    let kinds = [
        client.init(None, &ctx).await.unwrap_err().kind(),
        client.check("r", &ctx).await.unwrap_err().kind(),
        client.country(None, None, &ctx).await.unwrap_err().kind(),
        client.result(&session, &ctx).await.unwrap_err().kind(),
        client.access_token(&ctx).await.unwrap_err().kind(),
        client
            .blacklist_add(BlacklistType::Otp, &[phone()], &ctx)
            .await
            .unwrap_err()
            .kind(),
        client
            .blacklist_remove(BlacklistType::Otp, &[phone()], &ctx)
            .await
            .unwrap_err()
            .kind(),
    ];
    assert!(kinds.iter().all(|k| *k == ErrorKind::ProviderUnavailable));
    for p in [
        "/web-rest/v1.0/init",
        "/web-rest/v1.0/check",
        "/web-rest/v1.0/country",
        "/api/v1.0/result",
        "/api/v1.0/access-token",
    ] {
        assert_eq!(count(&server, p).await, 3, "{p} is a read: 3 attempts");
    }
    for p in ["/web-rest/v1.0/check-whatsapp", "/web-rest/v1.0/check-otp"] {
        assert_eq!(
            count(&server, p).await,
            1,
            "{p} uses the code up: a 503 without Retry-After may have been processed"
        );
    }
    for p in [
        "/web-rest/v1.0/blacklist/add",
        "/web-rest/v1.0/blacklist/remove",
    ] {
        assert_eq!(count(&server, p).await, 1, "{p} is a write: 1 attempt");
    }
}

/// Mounts `template` on `p` and runs `check` once; returns the error and the attempts made.
async fn checked_once<F, Fut>(
    server: &MockServer,
    p: &str,
    template: ResponseTemplate,
    check: F,
) -> (Error, usize)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = phone_verify_core::Result<CheckOutcome>>,
{
    server.reset().await;
    Mock::given(method("POST"))
        .and(path(p))
        .respond_with(template)
        .mount(server)
        .await;
    let err = check().await.unwrap_err();
    (err, count(server, p).await)
}

#[tokio::test]
async fn a_server_error_answering_a_code_check_is_outcome_unknown_after_one_attempt() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let sms = sms_handle("sms-ref");
    let c = code("123456");
    let whatsapp = Verification::new(
        ProviderId::new_static("verifykit"),
        "wa-ref",
        Channel::WhatsApp,
    )
    .with_phone(phone())
    .with_extra("flow", "whatsapp_otp");
    let answers = [
        vk_error(500, "500008", "Internal server error.", "R500"),
        ResponseTemplate::new(500),
        ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"),
        ResponseTemplate::new(504),
        ResponseTemplate::new(520),
        // A 503 without Retry-After may come from a proxy that forwarded the check.
        ResponseTemplate::new(503),
        vk_error(503, "500008", "Internal server error.", "R503"),
        // 500008 in a 200 answer that states HTTP 500, as the PHP SDK would read it.
        ResponseTemplate::new(200).set_body_json(
            json!({"meta": {"httpStatusCode": 500, "errorCode": "500008", "errorMessage": "Internal server error."}}),
        ),
        // A server error carrying a check's documented refusal (wrong code, expired), whether
        // its `meta` states 500 or the refusal's own 403: the code may have been used.
        vk_error(500, "403014", "OTP code is invalid.", "R500"),
        vk_error(502, "403037", "Validation has expired.", "R502"),
        ResponseTemplate::new(500).set_body_json(
            json!({"meta": {"httpStatusCode": 403, "errorCode": "403014", "errorMessage": "OTP code is invalid."}}),
        ),
        // A server error with the body of a success: its `validationStatus: false` is no wrong
        // code.
        ResponseTemplate::new(500).set_body_json(
            json!({"meta": {"httpStatusCode": 500}, "result": {"validationStatus": false}}),
        ),
        ResponseTemplate::new(502).set_body_json(
            json!({"meta": {"requestId": "R502"}, "result": {"validationStatus": true, "sessionId": "S1"}}),
        ),
    ];
    for answer in answers {
        for (p, handle) in [
            ("/web-rest/v1.0/check-otp", &sms),
            ("/web-rest/v1.0/check-whatsapp", &whatsapp),
        ] {
            let (err, attempts) = checked_once(&server, p, answer.clone(), || {
                verifier.check_code(handle, &c)
            })
            .await;
            assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{p}: {err}");
            assert!(!err.is_retryable());
            assert_eq!(attempts, 1, "{p}: hit once");
        }
    }
    let client = client(&server);
    let (err, attempts) = checked_once(
        &server,
        "/web-rest/v1.0/check-email",
        vk_error(500, "500008", "Internal server error.", "R500"),
        || async {
            client
                .check_email("mail-ref", "verify-abc", &context())
                .await
                .map(|_| CheckOutcome::Pending)
        },
    )
    .await;
    assert_eq!(
        (err.kind(), err.provider_code(), err.request_id(), attempts),
        (ErrorKind::OutcomeUnknown, Some("500008"), Some("R500"), 1)
    );
}

#[tokio::test]
async fn a_code_check_refused_before_processing_is_retried() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    for refusal in [
        vk_error(
            429,
            "429001",
            "Too many requests. please try again later.",
            "R429",
        )
        .insert_header("retry-after", "0"),
        ResponseTemplate::new(429),
        ResponseTemplate::new(503).insert_header("retry-after", "0"),
    ] {
        server.reset().await;
        endpoint("POST", "/web-rest/v1.0/check-otp")
            .respond_with(refusal)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        endpoint("POST", "/web-rest/v1.0/check-otp")
            .respond_with(ok(
                200,
                json!({"validationStatus": true, "sessionId": "S1"}),
            ))
            .mount(&server)
            .await;
        let outcome = verifier
            .check_code(&sms_handle("sms-ref"), &code("123456"))
            .await
            .unwrap();
        assert!(outcome.is_verified());
        assert_eq!(count(&server, "/web-rest/v1.0/check-otp").await, 2);
    }
}

#[tokio::test]
async fn email_verification_on_the_wire() {
    let server = MockServer::start().await;
    expect_post(&server, "/web-rest/v1.0/start-email", json!({"email": "ada@example.com"}), ok(
            200,
            json!({"reference": 4242, "to": "verify@verifykit.com", "subject": "verify-abc123abc123",
                   "body": "Send this e-mail", "mailto": "mailto:verify@verifykit.com?subject=verify-abc123abc123"}),
        )).await;
    expect_post(
        &server,
        "/web-rest/v1.0/start-email",
        json!({}),
        ok(200, json!({"reference": "r2", "subject": "verify-x"})),
    )
    .await;
    expect_post(&server, "/web-rest/v1.0/check-email", json!({"reference": "4242", "code": "verify-abc123abc123"}), ok(
            200,
            json!({"emailVerify": true, "dkimVerify": "1", "spfVerify": true, "email": "ada@example.com",
                   "validationType": "email", "validationDate": "2026-11-22 18:00:00", "sessionId": "SESS1"}),
        )).await;
    expect_post(
        &server,
        "/web-rest/v1.0/check-email",
        json!({"reference": "r2", "code": "verify-x"}),
        vk_error(403, "403036", "Validation not found.", "R36"),
    )
    .await;
    let client = client(&server);
    let started = client
        .start_email(Some(" ada@example.com "), &context())
        .await
        .unwrap();
    assert_eq!(started.reference, "4242");
    assert_eq!(started.to.as_deref(), Some("verify@verifykit.com"));
    assert_eq!(started.subject, "verify-abc123abc123");
    let check = client
        .check_email(&started.reference, &started.subject, &context())
        .await
        .unwrap();
    assert!(check.is_verified());
    assert_eq!(check.email.as_deref(), Some("ada@example.com"));
    assert_eq!(
        check.validation_date,
        Some(datetime!(2026-11-22 18:00:00 UTC))
    );
    assert_eq!(check.session_id, Some(SessionId::new("SESS1").unwrap()));

    let anonymous = client.start_email(None, &context()).await.unwrap();
    let err = client
        .check_email(&anonymous.reference, &anonymous.subject, &context())
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.provider_code(), err.request_id()),
        (ErrorKind::NotFound, Some("403036"), Some("R36"))
    );
    assert_eq!(
        phone_verify_verifykit::errors::check_outcome(
            &err,
            phone_verify_verifykit::errors::Checked::Email
        ),
        Some(CheckOutcome::Pending),
        "in progress"
    );
    server.verify().await;

    // A failed DKIM or SPF check is not a verified address.
    let failed: phone_verify_verifykit::EmailCheck =
        serde_json::from_value(json!({"emailVerify": true, "spfVerify": false})).unwrap();
    assert!(!failed.is_verified());
}

// ---------------------------------------------------------------------------------------------
// The verifier on the wire
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn capabilities_are_truthful() {
    let server = MockServer::start().await;
    let caps = verifier(&server).capabilities();
    let expected = Capabilities::new()
        .with_otp_channel(Channel::Sms)
        .with_otp_channel(Channel::WhatsApp)
        .with_reverse_channel(Channel::WhatsApp)
        .with_reverse_channel(Channel::Telegram)
        .with_qr_code(true)
        .with_session_resolution(true)
        .with_check_returns_session(true)
        .with_localized_messages(true);
    assert_eq!(caps, expected);
    // Both traits are in scope: the inherent `provider` is the id each of them reports.
    let verifier = verifier(&server);
    assert_eq!(verifier.provider().as_str(), "verifykit");
    assert_eq!(PhoneVerifier::provider(&verifier), verifier.provider());
    assert_eq!(SessionResolver::provider(&verifier), verifier.provider());
}

#[tokio::test]
async fn sms_flow_with_a_portable_handle() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/web-rest/v1.0/send-otp",
        json!({"phoneNumber": PHONE, "countryCode": "TR", "lang": "tr"}),
        ok(
            201,
            json!({"reference": "sms-ref-1", "timeout": 300, "length": 6}),
        ),
    )
    .await;
    expect_post(
        &server,
        "/web-rest/v1.0/check-otp",
        json!({
            "phoneNumber": PHONE, "countryCode": "TR", "reference": "sms-ref-1", "code": "918273"
        }),
        ok(
            200,
            json!({"validationStatus": true, "sessionId": "QWERTY123456"}),
        ),
    )
    .await;
    let handle = verifier(&server)
        .start(
            &StartRequest::sms(phone())
                .language("tr".parse().unwrap())
                .context(context()),
        )
        .await
        .unwrap();
    assert_eq!(handle.reference, "sms-ref-1");
    assert_eq!(handle.channel, Channel::Sms);
    assert_eq!(handle.phone, Some(phone()));
    assert_eq!(
        handle.expires_at,
        Some(handle.created_at + Duration::from_secs(300))
    );
    assert_eq!(handle.extra_str("flow"), Some("sms_otp"));
    assert_eq!(handle.extra_str("country_code"), Some("TR"));
    assert_eq!(handle.extras.get("code_length"), Some(&json!(6)));

    // Another process: a fresh verifier and the handle's JSON.
    let json = handle.to_json().unwrap();
    assert!(!json.contains(KEY));
    let restored = Verification::from_json(&json).unwrap();
    let outcome = verifier(&server)
        .check(
            &restored,
            &CheckRequest::code(code("918273")).context(context()),
        )
        .await
        .unwrap();
    let success = outcome.verified().expect("verified");
    assert_eq!(success.phone, Some(phone()));
    assert_eq!(success.channel, Channel::Sms);
    assert_eq!(
        success.session_id.as_ref().map(SessionId::as_str),
        Some("QWERTY123456")
    );
}

#[tokio::test]
async fn whatsapp_otp_flow() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/web-rest/v1.0/start",
        json!({"app": "whatsapp", "deeplink": true, "qrCode": false, "phoneNumber": PHONE}),
        ok(
            200,
            json!({"reference": "wa-ref", "deeplink": "https://wa.me/x"}),
        ),
    )
    .await;
    expect_post(
        &server,
        "/web-rest/v1.0/check-whatsapp",
        json!({"reference": "wa-ref", "code": "246810"}),
        ok(
            200,
            json!({"validationStatus": true, "sessionId": "WASESSION1"}),
        ),
    )
    .await;
    let verifier = verifier(&server);
    let handle = verifier
        .start(&StartRequest::otp(Channel::WhatsApp, phone()).end_user_ip(IP.parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(handle.channel, Channel::WhatsApp);
    assert_eq!(handle.extra_str("flow"), Some("whatsapp_otp"));
    assert!(handle.reverse.is_none());
    assert_eq!(
        handle.expires_at,
        Some(handle.created_at + Duration::from_secs(300))
    );
    let handle = Verification::from_json(&handle.to_json().unwrap()).unwrap();
    let outcome = verifier
        .check(
            &handle,
            &CheckRequest::code(code("246810")).context(context()),
        )
        .await
        .unwrap();
    let success = outcome.verified().unwrap();
    assert_eq!(success.channel, Channel::WhatsApp);
    assert_eq!(success.phone, Some(phone()));
    assert_eq!(
        success.session_id.as_ref().map(SessionId::as_str),
        Some("WASESSION1")
    );
}

#[tokio::test]
async fn reverse_flow_polls_then_fills_the_phone_from_result() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/web-rest/v1.0/start",
        json!({"app": "telegram", "deeplink": false, "qrCode": true, "lang": "en"}),
        ok(
            200,
            json!({"reference": "tg-ref", "qrCode": "iVBORw0KGgo="}),
        ),
    )
    .await;
    let verifier = verifier(&server);
    let handle = verifier
        .start(
            &StartRequest::reverse(Channel::Telegram)
                .qr_code(true)
                .language("en".parse().unwrap())
                .context(context()),
        )
        .await
        .unwrap();
    assert_eq!(handle.channel, Channel::Telegram);
    assert_eq!(handle.phone, None);
    let reverse = handle.reverse.clone().unwrap();
    assert_eq!(reverse.qr_code.as_deref(), Some("iVBORw0KGgo="));
    assert_eq!(reverse.deeplink, None);
    assert_eq!(handle.extra_str("flow"), Some("reverse"));
    assert_eq!(handle.extra_str("app"), Some("telegram"));
    assert_eq!(
        handle.expires_at,
        Some(handle.created_at + Duration::from_secs(600)),
        "VerifyKit states no Telegram window: the default reverse-flow lifetime"
    );
    let handle = Verification::from_json(&handle.to_json().unwrap()).unwrap();
    let poll = CheckRequest::poll().context(context());

    // Not completed: validationStatus false (as the sandbox answers).
    server.reset().await;
    expect_post(
        &server,
        "/web-rest/v1.0/check",
        json!({"reference": "tg-ref"}),
        ok(200, json!({"validationStatus": false})),
    )
    .await;
    assert_eq!(
        verifier.check(&handle, &poll).await.unwrap(),
        CheckOutcome::Pending
    );

    // Completed: the session, then `result` for the phone the user wrote from.
    server.reset().await;
    mount_once(
        &server,
        endpoint("POST", "/web-rest/v1.0/check"),
        ok(
            200,
            json!({"validationStatus": true, "sessionId": "TGSESSION9"}),
        ),
    )
    .await;
    expect_post(
        &server,
        "/api/v1.0/result",
        json!({"sessionId": "TGSESSION9"}),
        ok(
            200,
            json!({
                "validationType": "telegram",
                "validationDate": "2026-11-22 18:04:05",
                "phoneNumber": "+50762647737",
                "countryCode": "PA"
            }),
        ),
    )
    .await;
    let outcome = verifier.check(&handle, &poll).await.unwrap();
    let success = outcome.verified().expect("verified");
    assert_eq!(success.phone, Some("+507 6264 7737".parse().unwrap()));
    assert_eq!(success.channel, Channel::Telegram);
    assert_eq!(
        success.verified_at,
        Some(datetime!(2026-11-22 18:04:05 UTC))
    );
    assert_eq!(
        success.session_id.as_ref().map(SessionId::as_str),
        Some("TGSESSION9")
    );
    server.verify().await;

    // When `check` reports the phone itself, `result` is not asked.
    server.reset().await;
    mount_once(&server, endpoint("POST", "/web-rest/v1.0/check"), ok(
            200,
            json!({"validationStatus": true, "sessionId": "TGSESSION9", "phoneNumber": "905321234567"}),
        )).await;
    let outcome = verifier.check(&handle, &poll).await.unwrap();
    assert_eq!(outcome.verified().unwrap().phone, Some(phone()));
    assert_eq!(count(&server, "/api/v1.0/result").await, 0);
}

#[tokio::test]
async fn reverse_whatsapp_start_asks_for_a_deeplink() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/web-rest/v1.0/start",
        json!({"app": "whatsapp", "deeplink": true, "qrCode": false}),
        ok(
            200,
            json!({"reference": "wa-rev", "deeplink": "https://wa.me/905395744034?text=ABC"}),
        ),
    )
    .await;
    let handle = verifier(&server)
        .start(&StartRequest::reverse(Channel::WhatsApp).context(context()))
        .await
        .unwrap();
    assert_eq!(handle.channel, Channel::WhatsApp);
    assert_eq!(
        handle.expires_at,
        Some(handle.created_at + Duration::from_secs(600))
    );
    assert_eq!(
        handle.reverse.unwrap().deeplink.as_deref(),
        Some("https://wa.me/905395744034?text=ABC")
    );
}

#[tokio::test]
async fn sessions_resolve_to_the_reported_phone() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        "/api/v1.0/result",
        json!({"sessionId": "QWERTY123456"}),
        ok(
            200,
            json!({
                "validationType": "otp",
                "validationDate": "2019-11-07 07:35:28",
                "phoneNumber": PHONE,
                "countryCode": "TR",
                "mobileNetwork": {"mcc": "286", "mnc": "01", "name": "Turkcell"}
            }),
        ),
    )
    .await;
    expect_post(
        &server,
        "/api/v1.0/result",
        json!({"sessionId": "UNKNOWN1"}),
        vk_error(403, "403036", "Validation not found.", "R7"),
    )
    .await;
    expect_post(
        &server,
        "/api/v1.0/result",
        json!({"sessionId": "OLD1"}),
        vk_error(403, "403037", "Validation has expired.", "R8"),
    )
    .await;
    let verifier = verifier(&server);
    let success = verifier
        .resolve(&SessionId::new("QWERTY123456").unwrap(), &context())
        .await
        .unwrap();
    assert_eq!(success.phone, phone());
    assert_eq!(success.channel, Channel::Sms);
    assert_eq!(
        success.verified_at,
        Some(datetime!(2019-11-07 07:35:28 UTC))
    );
    assert_eq!(success.provider.as_str(), "verifykit");
    assert_eq!(
        success.extras.get("mobile_network"),
        Some(&json!({"mcc": "286", "mnc": "01", "name": "Turkcell"}))
    );
    assert_eq!(success.extras.get("country_code"), Some(&json!("TR")));

    let unknown = verifier
        .resolve(&SessionId::new("UNKNOWN1").unwrap(), &context())
        .await
        .unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert_eq!(unknown.request_id(), Some("R7"));
    let expired = verifier
        .resolve(&SessionId::new("OLD1").unwrap(), &context())
        .await
        .unwrap_err();
    assert_eq!(expired.kind(), ErrorKind::Expired);
}

#[tokio::test]
async fn the_verifier_refuses_bad_input_before_any_request() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let foreign = Verification::new(ProviderId::new_static("verifik"), "ref", Channel::Sms)
        .with_phone(phone());
    let errors = [
        verifier
            .check_code(&foreign, &code("123456"))
            .await
            .unwrap_err(),
        verifier
            .start(&StartRequest::new(Channel::Sms, None))
            .await
            .unwrap_err(),
        verifier
            .start(&StartRequest::otp(Channel::Telegram, phone()))
            .await
            .unwrap_err(),
        verifier
            .start(&StartRequest::sms("+800 1234 5678".parse().unwrap()))
            .await
            .unwrap_err(),
        verifier
            .check(
                &reverse_handle("r", Channel::WhatsApp),
                &CheckRequest::code(code("123456")),
            )
            .await
            .unwrap_err(),
        verifier.poll(&sms_handle("r")).await.unwrap_err(),
        verifier
            .check_code(
                &Verification::new(ProviderId::new_static("verifykit"), "r", Channel::Sms),
                &code("123456"),
            )
            .await
            .unwrap_err(),
        verifier
            .check_code(
                &sms_handle("r").with_extra("flow", "carrier_pigeon"),
                &code("123456"),
            )
            .await
            .unwrap_err(),
        verifier
            .resolve(&SessionId::new("not-alphanumeric").unwrap(), &context())
            .await
            .unwrap_err(),
    ];
    for err in &errors {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    for channel in [Channel::Voice, Channel::Email, Channel::FlashCall] {
        let err = verifier
            .start(&StartRequest::otp(channel, phone()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
    }
    assert!(requests(&server).await.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn start_errors_are_typed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/web-rest/v1.0/send-otp"))
        .respond_with(vk_error(403, "403012", "Phone number is banned.", "R10"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/web-rest/v1.0/start"))
        .respond_with(vk_error(500, "500008", "Internal server error.", "R11"))
        .mount(&server)
        .await;
    let verifier = verifier(&server);
    let banned = verifier
        .start(&StartRequest::sms(phone()))
        .await
        .unwrap_err();
    assert_eq!(banned.kind(), ErrorKind::Blocked);
    assert_eq!(banned.provider_code(), Some("403012"));
    let unknown = verifier
        .start(&StartRequest::reverse(Channel::WhatsApp))
        .await
        .unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::MaybeSent);
    assert_eq!(unknown.request_id(), Some("R11"));
    assert_eq!(count(&server, "/web-rest/v1.0/start").await, 1);
}

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_server_key_never_appears_in_debug_or_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/web-rest/v1.0/send-otp"))
        .respond_with(vk_error(
            403,
            "403038",
            "Undefined application. Please check your credential parameters.",
            "R12",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/web-rest/v1.0/check"))
        .respond_with(ResponseTemplate::new(200).set_body_string("not json"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/web-rest/v1.0/check-otp"))
        .respond_with(ok(200, json!({})).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let b = builder(&server).timeouts(
        Timeouts::default()
            .with_attempt(Duration::from_millis(200))
            .with_overall(Duration::from_secs(2)),
    );
    let client = b.build_client().unwrap();
    let verifier = b.build().unwrap();
    assert_no_key(&format!(
        "{b:?} {:?} {client:?} {verifier:?}",
        b.config().unwrap()
    ));
    // What `Debug` does show: where requests go, and the fallback IP.
    let shown = format!("{client:?}");
    assert!(shown.starts_with("VerifyKitClient {"), "{shown}");
    assert!(
        shown.contains(&format!("{}/web-rest/v1.0", server.uri())),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("{}/api/v1.0", server.uri())),
        "{shown}"
    );
    assert!(shown.contains(IP), "{shown}");

    // A port nothing listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = VerifyKitBuilder::new(KEY)
        .web_rest_url(&format!("http://127.0.0.1:{closed}/v1.0"))
        .retry(RetryPolicy::never())
        .build_client()
        .unwrap();

    let ctx = context();
    let errors = [
        client
            .send_otp(&SendOtp::new(phone()), &ctx)
            .await
            .unwrap_err(),
        client.check("r", &ctx).await.unwrap_err(),
        client
            .check_otp(&phone(), "TR", "r", &code("123456"), &ctx)
            .await
            .unwrap_err(),
        unreachable.check("r", &ctx).await.unwrap_err(),
        unreachable
            .send_otp(&SendOtp::new(phone()), &ctx)
            .await
            .unwrap_err(),
        client.check("", &ctx).await.unwrap_err(),
        VerifyKitBuilder::new(format!("{KEY}\n"))
            .build()
            .unwrap_err(),
    ];
    let kinds: Vec<ErrorKind> = errors.iter().map(Error::kind).collect();
    assert_eq!(
        kinds,
        [
            ErrorKind::Unauthorized,
            ErrorKind::Decode,
            // A code check that timed out after sending: the code may be used up.
            ErrorKind::OutcomeUnknown,
            ErrorKind::Transport,
            ErrorKind::Transport,
            ErrorKind::InvalidInput,
            ErrorKind::InvalidInput,
        ]
    );
    for err in &errors {
        assert_no_key(&format!("{err} {err:?}"));
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            assert_no_key(&format!("{cause} {cause:?}"));
            source = cause.source();
        }
    }
}

#[tokio::test]
async fn a_reverse_handle_without_an_expiry_gets_the_configured_lifetime() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    // Written before reverse flows had an expiry: created 11 minutes ago, no `expires_at`.
    let mut old = reverse_handle("old-ref", Channel::Telegram);
    old.created_at -= std::time::Duration::from_secs(11 * 60);
    assert_eq!(old.expires_at, None);
    // Still pending (403036, or a false status) past its lifetime: expired.
    for answer in [
        vk_error(403, "403036", "Validation is in progress.", "R1"),
        ok(200, json!({"validationStatus": false})),
    ] {
        server.reset().await;
        mount_once(&server, endpoint("POST", "/web-rest/v1.0/check"), answer).await;
        let outcome = verifier
            .check(&old, &CheckRequest::poll().context(context()))
            .await
            .unwrap();
        assert_eq!(rejection(&outcome).0, RejectReason::Expired);
    }
    // Completed just before the expiry and polled just after: VerifyKit is asked, verified.
    server.reset().await;
    mount_once(
        &server,
        endpoint("POST", "/web-rest/v1.0/check"),
        ok(
            200,
            json!({"validationStatus": true, "sessionId": "QWERTY123456", "phoneNumber": PHONE}),
        ),
    )
    .await;
    let outcome = verifier
        .check(&old, &CheckRequest::poll().context(context()))
        .await
        .unwrap();
    assert!(outcome.is_verified(), "{outcome:?}");
}

#[tokio::test]
async fn a_validity_past_what_a_date_holds_still_gives_a_handle() {
    // The code went out: a `timeout` too large for a date must not lose the reference.
    let last = datetime!(9999-12-31 23:59:59.999_999_999 UTC);
    for timeout in [json!(400_000_000_000_u64), json!(u64::MAX)] {
        let server = MockServer::start().await;
        expect_post(
            &server,
            "/web-rest/v1.0/send-otp",
            json!({"phoneNumber": PHONE, "countryCode": "TR"}),
            ok(201, json!({"reference": "sms-ref-far", "timeout": timeout})),
        )
        .await;
        let handle = verifier(&server)
            .start(&StartRequest::sms(phone()).context(context()))
            .await
            .unwrap();
        assert_eq!(handle.reference, "sms-ref-far");
        assert_eq!(handle.expires_at, Some(last), "{timeout}");
        let restored = Verification::from_json(&handle.to_json().unwrap()).unwrap();
        assert_eq!(restored, handle);
    }
}

#[tokio::test]
async fn a_reverse_handle_created_at_the_end_of_time_is_polled_without_a_panic() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        endpoint("POST", "/web-rest/v1.0/check"),
        ok(200, json!({"validationStatus": false})),
    )
    .await;
    // Stored without an expiry, created late on the last day a date holds: its configured
    // lifetime ends past it.
    let late = reverse_handle("late-ref", Channel::WhatsApp)
        .with_created_at(datetime!(9999-12-31 23:00:00 UTC));
    let outcome = verifier(&server)
        .check(&late, &CheckRequest::poll().context(context()))
        .await
        .unwrap();
    assert_eq!(outcome, CheckOutcome::Pending);
}

#[tokio::test]
async fn a_code_check_answered_with_nothing_is_outcome_unknown_not_a_wrong_code() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let sms = sms_handle("sms-ref");
    let c = code("123456");
    for result in [
        json!({}),
        json!({"validationStatus": null}),
        json!({"validationStatus": "", "sessionId": null}),
        // A session id means completed: with `false` the answer contradicts itself.
        json!({"validationStatus": false, "sessionId": "S1"}),
    ] {
        let (err, attempts) = checked_once(
            &server,
            "/web-rest/v1.0/check-otp",
            ok(200, result.clone()),
            || verifier.check_code(&sms, &c),
        )
        .await;
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{result}: {err}");
        assert_eq!(attempts, 1, "{result}");
    }
}

#[tokio::test]
async fn a_wrong_code_keeps_the_answers_request_id() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let whatsapp = Verification::new(
        ProviderId::new_static("verifykit"),
        "wa-ref",
        Channel::WhatsApp,
    )
    .with_phone(phone())
    .with_extra("flow", "whatsapp_otp");
    for (p, handle) in [
        ("/web-rest/v1.0/check-otp", sms_handle("sms-ref")),
        ("/web-rest/v1.0/check-whatsapp", whatsapp),
    ] {
        server.reset().await;
        mount_once(
            &server,
            endpoint("POST", p),
            ResponseTemplate::new(200).set_body_json(
                json!({"meta": {"requestId": " R7 "}, "result": {"validationStatus": false}}),
            ),
        )
        .await;
        let outcome = verifier.check_code(&handle, &code("123456")).await.unwrap();
        let rejection = outcome.rejection().expect("a rejection");
        assert_eq!(rejection.reason, RejectReason::WrongCode, "{p}");
        assert_eq!(rejection.request_id.as_deref(), Some("R7"), "{p}");
        server.verify().await;
    }
}

#[tokio::test]
async fn a_poll_verified_by_nobody_named_is_a_decode_error() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let handle = reverse_handle("rev-ref", Channel::WhatsApp);
    mount_once(
        &server,
        endpoint("POST", "/web-rest/v1.0/check"),
        ResponseTemplate::new(200).set_body_json(
            json!({"meta": {"requestId": "R8"}, "result": {"validationStatus": true}}),
        ),
    )
    .await;
    let err = verifier
        .check(&handle, &CheckRequest::poll().context(context()))
        .await
        .unwrap_err();
    // A poll is a read: the next one may name the session.
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert_eq!(err.request_id(), Some("R8"));
    assert_eq!(count(&server, "/api/v1.0/result").await, 0);
    server.verify().await;
}

#[tokio::test]
async fn a_qr_code_asked_for_a_code_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    for request in [
        StartRequest::sms(phone()),
        StartRequest::otp(Channel::WhatsApp, phone()),
    ] {
        let err = verifier
            .start(&request.qr_code(true).context(context()))
            .await
            .unwrap_err();
        // Refused by the core's `StartRequest::validate`, as every request error is.
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert!(err.to_string().contains("QR code"), "{err}");
    }
    assert!(requests(&server).await.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_server_error_with_the_body_of_a_success_answering_a_send_is_maybe_sent() {
    let server = MockServer::start().await;
    let client = client(&server);
    Mock::given(method("POST"))
        .and(path("/web-rest/v1.0/send-otp"))
        .respond_with(ResponseTemplate::new(500).set_body_json(
            json!({"meta": {"requestId": "R9", "httpStatusCode": 201}, "result": {"reference": "r", "timeout": 300}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client
        .send_otp(&SendOtp::new(phone()).country_code("TR"), &context())
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.http_status(), err.request_id()),
        (ErrorKind::MaybeSent, Some(500), Some("R9"))
    );
    // A lookup is read as the PHP SDK reads it: the body decides.
    Mock::given(method("POST"))
        .and(path("/api/v1.0/result"))
        .respond_with(ResponseTemplate::new(500).set_body_json(
            json!({"meta": {"httpStatusCode": 200}, "result": {"phoneNumber": PHONE}}),
        ))
        .mount(&server)
        .await;
    let result = client
        .result(&SessionId::new("S1").unwrap(), &context())
        .await
        .unwrap();
    assert_eq!(result.phone_number, PHONE);
}

#[tokio::test]
async fn a_changed_config_is_checked_again_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok(200, json!({"validationStatus": true})))
        .expect(0)
        .mount(&server)
        .await;
    let config = builder(&server).config().unwrap();
    VerifyKitClient::new(config.clone()).unwrap();
    // The fields are public: what is set after the builder's checks is checked again.
    let mut empty = config.clone();
    empty.server_key = "".into();
    let mut blank = config.clone();
    blank.server_key = "  ".into();
    let mut control = config.clone();
    control.server_key = "canary\nkey".into();
    let mut zero = config.clone();
    zero.reverse_flow_ttl = Duration::ZERO;
    let mut forever = config;
    forever.reverse_flow_ttl = MAX_REVERSE_FLOW_TTL + Duration::from_secs(1);
    for config in [empty, blank, control, zero, forever] {
        let client = VerifyKitClient::new(config);
        if let Ok(client) = &client {
            // What an unchecked client would send.
            let _ = client
                .check_whatsapp("ref-1", &code("123456"), &context())
                .await;
        }
        let err = client.map(drop).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(!err.to_string().contains("canary"), "{err}");
    }
    server.verify().await;
}

/// The WhatsApp-as-OTP handle of `reference`, as the verifier writes it.
fn whatsapp_otp_handle(reference: &str) -> Verification {
    Verification::new(
        ProviderId::new_static("verifykit"),
        reference,
        Channel::WhatsApp,
    )
    .with_phone(phone())
    .with_extra("flow", "whatsapp_otp")
}

/// Mounts `answer` on `p` (every request) and checks the code of the handle `p` checks, once;
/// `check-email` through the typed client, its error read as the typed client's caller reads
/// it (`errors::check_outcome` with `Checked::Email`).
async fn code_checked(
    server: &MockServer,
    verifier: &phone_verify_verifykit::VerifyKit,
    p: &str,
    answer: ResponseTemplate,
) -> (phone_verify_core::Result<CheckOutcome>, usize) {
    use phone_verify_verifykit::errors::{Checked, check_outcome};

    server.reset().await;
    Mock::given(method("POST"))
        .and(path(p))
        .respond_with(answer)
        .mount(server)
        .await;
    let outcome = match p {
        "/web-rest/v1.0/check-otp" => {
            verifier
                .check_code(&sms_handle("sms-ref"), &code("123456"))
                .await
        }
        "/web-rest/v1.0/check-whatsapp" => {
            verifier
                .check_code(&whatsapp_otp_handle("wa-ref"), &code("123456"))
                .await
        }
        _ => match verifier
            .client()
            .check_email("mail-ref", "verify-abc", &context())
            .await
        {
            Ok(check) if check.is_verified() => Ok(CheckOutcome::Verified(
                phone_verify_core::Verified::new(Channel::Email),
            )),
            Ok(_) => Ok(CheckOutcome::Pending),
            Err(err) => check_outcome(&err, Checked::Email).ok_or(err),
        },
    };
    (outcome, count(server, p).await)
}

const CODE_CHECKS: [&str; 3] = [
    "/web-rest/v1.0/check-otp",
    "/web-rest/v1.0/check-whatsapp",
    "/web-rest/v1.0/check-email",
];

/// The result of a success of the code check at `p`: `check-email` reports `emailVerify`.
fn verified_result(p: &str) -> Value {
    if p.ends_with("check-email") {
        json!({"emailVerify": true, "sessionId": "S1"})
    } else {
        json!({"validationStatus": true, "sessionId": "S1"})
    }
}

/// An error `meta` with a `result` that reports success contradicts itself: the code may have
/// been used, so the check's outcome is unknown, never a rejection, and the error keeps
/// VerifyKit's code, message and request id.
#[tokio::test]
async fn a_code_check_answered_an_error_with_a_successful_result_is_outcome_unknown() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    for p in CODE_CHECKS {
        let success = verified_result(p);
        let mut answers = vec![
            // The brief's answer: a wrong code and a completed verification at once.
            (
                200,
                json!({"meta": {"requestId": "R1", "errorCode": "403014", "errorMessage": "OTP code is invalid."},
                       "result": success.clone()}),
                Some("403014"),
                Some("OTP code is invalid."),
            ),
            // Only a message, no code: was `ErrorKind::Provider`.
            (
                200,
                json!({"meta": {"requestId": "R1", "errorMessage": "OTP code is invalid."},
                       "result": success.clone()}),
                None,
                Some("OTP code is invalid."),
            ),
            // Only a code, in the refusal's own status.
            (
                403,
                json!({"meta": {"requestId": "R1", "httpStatusCode": 403, "errorCode": 403_013},
                       "result": success.clone()}),
                Some("403013"),
                None,
            ),
            // A session id alone reports a completed verification, whatever the status says.
            (
                200,
                json!({"meta": {"requestId": "R1", "errorCode": "403037", "errorMessage": "Validation has expired."},
                       "result": {"validationStatus": false, "emailVerify": false, "sessionId": "S1"}}),
                Some("403037"),
                Some("Validation has expired."),
            ),
        ];
        if !p.ends_with("check-email") {
            // `validationStatus` as text, without a session id.
            answers.push((
                200,
                json!({"meta": {"requestId": "R1", "errorCode": "403014", "errorMessage": "OTP code is invalid."},
                       "result": {"validationStatus": "true"}}),
                Some("403014"),
                Some("OTP code is invalid."),
            ));
        }
        for (status, body, code, message) in answers {
            let (outcome, attempts) = code_checked(
                &server,
                &verifier,
                p,
                ResponseTemplate::new(status).set_body_json(body.clone()),
            )
            .await;
            let err = outcome.expect_err(&format!("{p}: {body}"));
            assert_eq!(
                (
                    err.kind(),
                    err.provider_code(),
                    err.provider_message(),
                    err.request_id(),
                    err.http_status(),
                ),
                (
                    ErrorKind::OutcomeUnknown,
                    code,
                    message,
                    Some("R1"),
                    Some(status)
                ),
                "{p}: {body}: {err}"
            );
            assert!(!err.is_retryable(), "{p}: {body}");
            assert_eq!(attempts, 1, "{p}: {body}");
        }
    }
}

/// An error `meta` without a result that reports success keeps its mapping: a rejection for a
/// check's documented refusal, the kind of the code (or of the status) otherwise.
#[tokio::test]
async fn a_code_check_answered_an_error_without_a_successful_result_keeps_its_mapping() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    for p in ["/web-rest/v1.0/check-otp", "/web-rest/v1.0/check-whatsapp"] {
        for result in [
            None,
            Some(json!({})),
            Some(json!({"validationStatus": false, "sessionId": null})),
            Some(json!({"validationStatus": "", "sessionId": " "})),
        ] {
            let mut body = json!({"meta": {"requestId": "R1", "errorCode": "403014", "errorMessage": "OTP code is invalid."}});
            if let Some(result) = &result {
                body["result"] = result.clone();
            }
            let (outcome, _) = code_checked(
                &server,
                &verifier,
                p,
                ResponseTemplate::new(200).set_body_json(&body),
            )
            .await;
            let outcome = outcome.unwrap_or_else(|e| panic!("{p}: {body}: {e}"));
            assert_eq!(
                rejection(&outcome),
                (
                    RejectReason::WrongCode,
                    Some("403014".to_owned()),
                    Some("OTP code is invalid.".to_owned())
                ),
                "{p}: {body}"
            );
            let mut body = json!({"meta": {"requestId": "R1", "errorMessage": "Something new."}});
            if let Some(result) = &result {
                body["result"] = result.clone();
            }
            let (outcome, _) = code_checked(
                &server,
                &verifier,
                p,
                ResponseTemplate::new(200).set_body_json(&body),
            )
            .await;
            let err = outcome.expect_err(p);
            assert_eq!(err.kind(), ErrorKind::Provider, "{p}: {body}: {err}");
            assert_eq!(err.provider_message(), Some("Something new."));
        }
    }
}

/// A code check answered with a client error (4xx) whose body reports success contradicts
/// itself (VerifyKit's Python and Node SDKs take any status but 200 for a failure): its outcome
/// is unknown, never `Verified`. A start keeps reading such a body as the PHP SDK does.
#[tokio::test]
async fn a_code_check_answered_a_client_error_with_a_successful_body_is_outcome_unknown() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    for p in CODE_CHECKS {
        for status in [400, 403, 404, 409, 422] {
            let body = json!({"meta": {"requestId": "R403"}, "result": verified_result(p)});
            let (outcome, attempts) = code_checked(
                &server,
                &verifier,
                p,
                ResponseTemplate::new(status).set_body_json(&body),
            )
            .await;
            let err = outcome.expect_err(&format!("{p}: {status}"));
            assert_eq!(
                (err.kind(), err.http_status(), err.request_id()),
                (ErrorKind::OutcomeUnknown, Some(status), Some("R403")),
                "{p}: {status}: {err}"
            );
            assert_eq!(attempts, 1, "{p}: {status}");
        }
        // A 429, or a 503 with `Retry-After`, which would be sent again: not when its result
        // reports success (the code may be used, and a second check would meet it used).
        for status in [429, 503] {
            let body = json!({"meta": {"requestId": "R429"}, "result": verified_result(p)});
            let (outcome, attempts) = code_checked(
                &server,
                &verifier,
                p,
                ResponseTemplate::new(status)
                    .insert_header("Retry-After", "0")
                    .set_body_json(&body),
            )
            .await;
            let err = outcome.expect_err(&format!("{p}: {status}"));
            assert_eq!(
                (err.kind(), err.http_status(), attempts),
                (ErrorKind::OutcomeUnknown, Some(status), 1),
                "{p}: {status}: {err}"
            );
        }
        // Without `meta` at all, a session id alone.
        let (outcome, _) = code_checked(
            &server,
            &verifier,
            p,
            ResponseTemplate::new(403).set_body_json(json!({"result": {"sessionId": "S"}})),
        )
        .await;
        assert_eq!(
            outcome.map_err(|e| e.kind()),
            Err(ErrorKind::OutcomeUnknown),
            "{p}"
        );
    }
    // A client error whose body is no success keeps its reading: `false` is a wrong code.
    for p in ["/web-rest/v1.0/check-otp", "/web-rest/v1.0/check-whatsapp"] {
        let (outcome, _) = code_checked(
            &server,
            &verifier,
            p,
            ResponseTemplate::new(403)
                .set_body_json(json!({"result": {"validationStatus": false}})),
        )
        .await;
        let outcome = outcome.unwrap();
        assert_eq!(
            outcome.rejection().map(|r| r.reason),
            Some(RejectReason::WrongCode),
            "{p}"
        );
    }
    // A start answered 403 with a success body gives a handle: one that can be checked is
    // better than `MaybeSent`.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/web-rest/v1.0/send-otp"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"meta": {"requestId": "R9"}, "result": {"reference": "r-403", "timeout": 300}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let handle = verifier
        .start(&StartRequest::sms(phone()).context(context()))
        .await
        .unwrap();
    assert_eq!(handle.reference, "r-403");
    server.verify().await;
}

/// A send answered with an error in `meta` beside a started verification's reference
/// contradicts itself: the message may have gone out, so it is `MaybeSent` (never a refusal
/// that invites a second send), VerifyKit's code, message and request id kept. An error
/// without a reference keeps its mapping.
#[tokio::test]
async fn a_send_answered_an_error_with_a_reference_is_maybe_sent() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let error =
        json!({"requestId": "R7", "errorCode": "403015", "errorMessage": "Too many requests."});
    for (status, result, kind) in [
        (200, json!({"reference": "r-1"}), ErrorKind::MaybeSent),
        (
            400,
            json!({"reference": 12345, "timeout": 300}),
            ErrorKind::MaybeSent,
        ),
        (200, json!({"reference": " "}), ErrorKind::RateLimited),
        (400, json!({}), ErrorKind::RateLimited),
    ] {
        server.reset().await;
        Mock::given(method("POST"))
            .and(path("/web-rest/v1.0/send-otp"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(json!({"meta": error, "result": result})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier
            .start(&StartRequest::sms(phone()).context(context()))
            .await
            .unwrap_err();
        assert_eq!(
            (
                err.kind(),
                err.provider_code(),
                err.provider_message(),
                err.request_id()
            ),
            (kind, Some("403015"), Some("Too many requests."), Some("R7")),
            "{status} {result}: {err}"
        );
        server.verify().await;
    }
}

/// A started verification whose answer has an informational field of an unexpected type keeps
/// its reference: only the fields a handle needs decide.
#[tokio::test]
async fn an_odd_informational_field_never_loses_a_started_verification() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    for (result, expires_in, length) in [
        (
            json!({"reference": "sms-1", "timeout": 300, "length": 6.0}),
            Some(300),
            None,
        ),
        (
            json!({"reference": "sms-1", "timeout": "five minutes", "length": "6"}),
            None,
            Some(6),
        ),
        (
            json!({"reference": "sms-1", "timeout": {"seconds": 300}, "length": [6]}),
            None,
            None,
        ),
        (
            json!({"reference": "sms-1", "timeout": 300.5, "length": true}),
            None,
            None,
        ),
        (
            json!({"reference": "sms-1", "timeout": -300, "length": "six"}),
            None,
            None,
        ),
    ] {
        server.reset().await;
        expect_post(
            &server,
            "/web-rest/v1.0/send-otp",
            json!({"phoneNumber": PHONE, "countryCode": "TR"}),
            ok(201, result.clone()),
        )
        .await;
        let handle = verifier
            .start(&StartRequest::sms(phone()).context(context()))
            .await
            .unwrap_or_else(|e| panic!("{result}: {e}"));
        assert_eq!(handle.reference, "sms-1", "{result}");
        assert_eq!(
            handle.expires_at,
            expires_in.map(|s| handle.created_at + Duration::from_secs(s)),
            "{result}"
        );
        assert_eq!(
            handle.extras.get("code_length"),
            length.map(|n: u64| json!(n)).as_ref(),
            "{result}"
        );
        server.verify().await;
    }
    // WhatsApp as OTP: the deeplink and QR code are not what its handle needs.
    server.reset().await;
    expect_post(
        &server,
        "/web-rest/v1.0/start",
        json!({"app": "whatsapp", "deeplink": true, "qrCode": false, "phoneNumber": PHONE}),
        ok(
            200,
            json!({"reference": "wa-1", "deeplink": {"url": "https://wa.me/x"}, "qrCode": [1]}),
        ),
    )
    .await;
    let handle = verifier
        .start(&StartRequest::otp(Channel::WhatsApp, phone()).context(context()))
        .await
        .unwrap();
    assert_eq!(handle.reference, "wa-1");
    server.verify().await;
    // An e-mail verification keeps its reference and subject.
    server.reset().await;
    expect_post(
        &server,
        "/web-rest/v1.0/start-email",
        json!({}),
        ok(
            200,
            json!({"reference": "m-1", "subject": "verify-x", "to": ["a@b"], "body": {}, "mailto": 7}),
        ),
    )
    .await;
    let started = verifier
        .client()
        .start_email(None, &context())
        .await
        .unwrap();
    assert_eq!(
        (started.reference.as_str(), started.subject.as_str()),
        ("m-1", "verify-x")
    );
    assert_eq!(started.to, None);
    assert_eq!(started.mailto.as_deref(), Some("7"));
    server.verify().await;
    // A WhatsApp message that went out is not `MaybeSent` for its report's shape.
    server.reset().await;
    expect_post(
        &server,
        "/api/v1.0/send-whatsapp-message",
        json!({"phoneNumber": PHONE, "message": "a message of some length"}),
        ok(
            200,
            json!({"phoneNumber": {"e164": PHONE}, "message": [], "status": {"nested": true}}),
        ),
    )
    .await;
    let sent = verifier
        .client()
        .send_whatsapp_message(&phone(), "a message of some length", &context())
        .await
        .unwrap();
    assert_eq!(
        (sent.phone_number, sent.message, sent.status),
        (None, None, None)
    );
    server.verify().await;
}

/// A check's informational fields of an unexpected type are absent; the fields its outcome
/// depends on still decide.
#[tokio::test]
async fn an_odd_informational_field_never_loses_a_check() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    for p in ["/web-rest/v1.0/check-otp", "/web-rest/v1.0/check-whatsapp"] {
        let (outcome, _) = code_checked(
            &server,
            &verifier,
            p,
            ok(
                200,
                json!({"validationStatus": true, "sessionId": "S1", "appPlatform": {"os": "ios"}}),
            ),
        )
        .await;
        let checked = outcome.unwrap_or_else(|e| panic!("{p}: {e}"));
        assert!(checked.is_verified(), "{p}");
    }
    let (outcome, _) = code_checked(
        &server,
        &verifier,
        "/web-rest/v1.0/check-email",
        ok(
            200,
            json!({"emailVerify": true, "email": ["ada@example.com"], "validationType": {},
                   "validationDate": "yesterday", "sessionId": "not a session"}),
        ),
    )
    .await;
    assert!(outcome.unwrap().is_verified());
    // A session's phone decides; when and how it was verified are informational.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/api/v1.0/result"))
        .respond_with(ok(
            200,
            json!({"phoneNumber": PHONE, "validationType": ["otp"], "validationDate": "yesterday",
                   "countryCode": {"iso": "TR"}}),
        ))
        .mount(&server)
        .await;
    let resolved = verifier
        .resolve(&SessionId::new("S1").unwrap(), &context())
        .await
        .unwrap();
    assert_eq!(resolved.phone, phone());
    assert_eq!(resolved.verified_at, None);
}
