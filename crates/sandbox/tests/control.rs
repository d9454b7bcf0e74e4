//! HTTP tests of the control API (`/_sandbox/...`) and of the Rust control handle: messages,
//! reverse-flow completion, clock, faults, test numbers, balances, request log, TOTP, reset.

mod common;

use std::time::Duration;

use common::{client, send, start, start_with};
use phone_verify_sandbox::{
    ControlError, Fault, FaultAction, Provider, Sandbox, SandboxConfig, SandboxHandle,
};
use serde_json::{Value, json};

const PHONE: &str = "+905321234567";

fn control(sb: &SandboxHandle, path: &str) -> String {
    format!("{}{path}", sb.control_url())
}

fn send_otp(http: &reqwest::Client, sb: &SandboxHandle, phone: &str) -> reqwest::RequestBuilder {
    http.post(format!("{}/send-otp", sb.verifykit_web_rest_url()))
        .header("X-Vfk-Server-Key", "sandbox-server-key")
        .json(&json!({"phoneNumber": phone, "countryCode": "TR"}))
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    send(http.post(url).json(&body)).await
}

#[tokio::test]
async fn messages_are_listed_newest_first_with_their_fields() {
    let (sb, http) = (start().await, client());
    assert_eq!(send(send_otp(&http, &sb, PHONE)).await.0, 201);
    assert_eq!(send(send_otp(&http, &sb, PHONE)).await.0, 201);
    assert_eq!(send(send_otp(&http, &sb, "+905329999999")).await.0, 201);

    for query in [
        "%2B905321234567",
        "+905321234567",
        "905321234567",
        "%2B90%20532%20123%2045%2067",
    ] {
        let (status, list) =
            send(http.get(control(&sb, &format!("/messages?phone={query}")))).await;
        assert_eq!(status, 200);
        assert_eq!(list.as_array().unwrap().len(), 2, "{query}");
    }
    let (_, list) = send(http.get(control(&sb, "/messages?phone=%2B905321234567"))).await;
    let newest = &list[0];
    for key in [
        "provider",
        "phone",
        "channel",
        "code",
        "text",
        "lang",
        "reference",
        "sent_at",
    ] {
        assert!(!newest[key].is_null(), "{key} in {newest}");
    }
    assert_eq!(
        (
            newest["provider"].as_str(),
            newest["phone"].as_str(),
            newest["channel"].as_str()
        ),
        (Some("verifykit"), Some(PHONE), Some("sms"))
    );
    let at = |m: &Value| {
        time::OffsetDateTime::parse(
            m["sent_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert!(at(&list[0]) >= at(&list[1]));
    assert_eq!(
        Some(newest["code"].as_str().unwrap().to_owned()),
        sb.latest_code(PHONE)
    );
    assert_ne!(list[0]["reference"], list[1]["reference"]);

    let (_, all) = send(http.get(control(&sb, "/messages"))).await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(all[0]["phone"], "+905329999999");
    let (_, none) = send(http.get(control(&sb, "/messages?phone=%2B905320000000"))).await;
    assert_eq!(none, json!([]));

    let (status, latest) =
        send(http.get(control(&sb, "/messages/latest?phone=%2B905321234567"))).await;
    assert_eq!((status, &latest), (200, newest));
    assert_eq!(
        send(http.get(control(&sb, "/messages/latest?phone=%2B905320000000")))
            .await
            .0,
        404
    );
    assert_eq!(
        send(http.get(control(&sb, "/messages/latest"))).await.0,
        400
    );
    assert_eq!(sb.all_messages().len(), 3);
}

#[tokio::test]
async fn reverse_flows_are_completed_over_http() {
    let (sb, http) = (start().await, client());
    let start_flow = || {
        send(
            http.post(format!("{}/start", sb.verifykit_web_rest_url()))
                .header("X-Vfk-Server-Key", "sandbox-server-key")
                .json(&json!({"app": "telegram"})),
        )
    };
    let (_, started) = start_flow().await;
    let reference = started["result"]["reference"].as_str().unwrap();
    let complete = |body: Value| post(&http, control(&sb, "/verifykit/complete"), body);

    assert_eq!(
        complete(json!({"reference": reference, "phone": "not a phone"}))
            .await
            .0,
        400
    );
    assert_eq!(
        complete(json!({"reference": "unknown", "phone": PHONE}))
            .await
            .0,
        404
    );
    assert_eq!(complete(json!({"phone": PHONE})).await.0, 400);
    assert_eq!(complete(json!({"reference": reference})).await.0, 400);
    let (status, done) = complete(json!({"reference": reference, "phone": PHONE})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["completed"], true);
    let session_id = done["sessionId"].as_str().unwrap();
    let (status, again) = complete(json!({"reference": reference, "phone": PHONE})).await;
    assert_eq!(status, 409);
    assert!(again["error"].is_string());

    let (_, checked) = send(
        http.post(format!("{}/check", sb.verifykit_web_rest_url()))
            .header("X-Vfk-Server-Key", "sandbox-server-key")
            .json(&json!({"reference": reference})),
    )
    .await;
    assert_eq!(checked["result"]["sessionId"], session_id);

    let (_, late) = start_flow().await;
    let (status, _) = post(
        &http,
        control(&sb, "/clock/advance"),
        json!({"seconds": 300}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        complete(json!({"reference": late["result"]["reference"], "phone": PHONE}))
            .await
            .0,
        410
    );

    let (_, email) = send(
        http.post(format!("{}/start-email", sb.verifykit_web_rest_url()))
            .header("X-Vfk-Server-Key", "sandbox-server-key")
            .json(&json!({})),
    )
    .await;
    let (status, done) =
        complete(json!({"reference": email["result"]["reference"], "email": "ada@example.com"}))
            .await;
    assert_eq!((status, done["completed"].as_bool()), (200, Some(true)));
    assert_eq!(
        complete(json!({"reference": email["result"]["reference"], "email": "nope"}))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn the_clock_advances_over_http_and_drives_expiry() {
    let (sb, http) = (start().await, client());
    let (status, clock) = send(http.get(control(&sb, "/clock"))).await;
    assert_eq!((status, clock["offset_seconds"].as_i64()), (200, Some(0)));
    let (_, sent) = send(send_otp(&http, &sb, PHONE)).await;
    let reference = sent["result"]["reference"].as_str().unwrap();
    let code = sb.latest_code(PHONE).unwrap();
    let (status, advanced) = post(
        &http,
        control(&sb, "/clock/advance"),
        json!({"seconds": 301}),
    )
    .await;
    assert_eq!(
        (status, advanced["offset_seconds"].as_i64()),
        (200, Some(301))
    );
    let (status, expired) = send(
        http.post(format!("{}/check-otp", sb.verifykit_web_rest_url()))
            .header("X-Vfk-Server-Key", "sandbox-server-key")
            .json(&json!({"phoneNumber": PHONE, "countryCode": "TR", "reference": reference, "code": code})),
    )
    .await;
    assert_eq!(
        (status, expired["meta"]["errorCode"].as_str()),
        (403, Some("403037"))
    );
    for bad in [json!({"seconds": -1}), json!({"seconds": "ten"}), json!({})] {
        assert_eq!(
            post(&http, control(&sb, "/clock/advance"), bad).await.0,
            400
        );
    }
    let before = sb.now();
    sb.advance_clock(Duration::from_secs(3600));
    assert!(sb.now() - before >= time::Duration::hours(1));
    let (status, _) = post(
        &http,
        control(&sb, "/clock/advance"),
        json!({"seconds": 1e12}),
    )
    .await;
    assert_eq!(status, 200, "huge jumps are capped, not a crash");
    assert_eq!(send(send_otp(&http, &sb, PHONE)).await.0, 201);
}

#[tokio::test]
async fn a_clock_advance_past_its_bound_is_refused_naming_the_bound() {
    let (sb, http) = (start().await, client());
    let (status, body) = post(
        &http,
        control(&sb, "/clock/advance"),
        json!({"seconds": 1e13}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(message.contains("from 0 to 1e12"), "{message}");
    let (_, clock) = send(http.get(control(&sb, "/clock"))).await;
    assert_eq!(
        clock["offset_seconds"], 0,
        "a refused advance moves nothing"
    );
}

#[tokio::test]
async fn hostile_input_gets_documented_errors_never_a_crash() {
    let (sb, http) = (start().await, client());
    let (vk, api, vf, vg) = (
        sb.verifykit_web_rest_url(),
        sb.verifykit_api_url(),
        sb.verifik_url(),
        sb.verigator_url(),
    );
    let sid = "00000000-0000-4000-8000-000000000000";
    let endpoints = [
        ("GET", format!("{vk}/init?lang=%FF%FE")),
        ("POST", format!("{vk}/start")),
        ("POST", format!("{vk}/check")),
        ("POST", format!("{vk}/check-whatsapp")),
        ("POST", format!("{vk}/country")),
        ("POST", format!("{vk}/send-otp")),
        ("POST", format!("{vk}/check-otp")),
        ("POST", format!("{vk}/start-email")),
        ("POST", format!("{vk}/check-email")),
        ("POST", format!("{vk}/blacklist/add")),
        ("POST", format!("{vk}/blacklist/remove")),
        ("POST", format!("{api}/result")),
        ("GET", format!("{api}/access-token")),
        ("POST", format!("{api}/send-whatsapp-message")),
        ("POST", format!("{vf}/projects/phone-login")),
        ("POST", format!("{vf}/projects/phone-login/confirm")),
        ("POST", format!("{vf}/projects/email-login?email=%00")),
        ("POST", format!("{vf}/projects/email-login/confirm")),
        (
            "GET",
            format!("{vf}/auth/session?expiresIn=99999999999999999999"),
        ),
        ("POST", format!("{vf}/phone-validations")),
        ("PUT", format!("{vf}/phone-validations")),
        (
            "GET",
            format!("{vf}/phone-validations?page=18446744073709551615&limit=100"),
        ),
        ("POST", format!("{vf}/phone-validations/validate")),
        ("POST", format!("{vf}/phone-validations/app-registration")),
        ("POST", format!("{vf}/phone-validations/manual")),
        ("GET", format!("{vf}/phone-validations/%E2%9C%93")),
        ("POST", format!("{vf}/phone-validations/x/validate")),
        ("POST", format!("{vg}/service/service")),
        ("GET", format!("{vg}/service/service/{sid}")),
        ("POST", format!("{vg}/service/service/{sid}/users")),
        ("PUT", format!("{vg}/service/service/{sid}/users/x/auth")),
        ("POST", format!("{}/verifykit/complete", sb.control_url())),
        ("POST", format!("{}/faults", sb.control_url())),
        ("POST", format!("{}/test-numbers", sb.control_url())),
        ("POST", format!("{}/balance", sb.control_url())),
        ("POST", format!("{}/verigator/totp", sb.control_url())),
        // Last: it revokes the token the other requests use.
        ("POST", format!("{vf}/auth/renew-and-revoke")),
    ];
    let long_phone = "9".repeat(5000);
    let bodies: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"[1,2,3]".to_vec(),
        b"null".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x80],
        "[".repeat(10_000).into_bytes(),
        json!({"phoneNumber": long_phone, "countryCode": "TR", "phone": long_phone, "msisdn": [long_phone, null, {}],
               "countryCode2": 1e308, "otp": -1, "code": [], "reference": {}, "type": 7, "app": true,
               "deeplink": "maybe", "qrCode": 5, "token": {"a": 1}, "seconds": "x", "expiresAt": "9999-99-99"})
        .to_string()
        .into_bytes(),
    ];
    for (method, url) in &endpoints {
        for body in &bodies {
            let response = http
                .request(method.parse().unwrap(), url)
                .header("X-Vfk-Server-Key", "sandbox-server-key")
                .header("X-Service-Auth", "sandbox:sandbox")
                .header("Authorization", "Bearer sandbox-token")
                .header("Content-Type", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("answered");
            let status = response.status().as_u16();
            assert!(status < 500, "{method} {url} answered {status}");
            let text = response.text().await.unwrap();
            assert!(
                text.is_empty() || serde_json::from_str::<Value>(&text).is_ok(),
                "{method} {url}: {text}"
            );
        }
    }
    assert_eq!(
        send(send_otp(&http, &sb, PHONE)).await.0,
        201,
        "still serving"
    );
}

#[tokio::test]
async fn a_connection_reset_is_an_error_and_the_request_is_logged_once() {
    let (sb, http) = (start().await, client());
    sb.inject_fault(
        Fault::new(Provider::VerifyKit, FaultAction::ConnectionReset)
            .method("POST")
            .path("/v1.0/send-otp"),
    );
    let error = send_otp(&http, &sb, PHONE)
        .send()
        .await
        .expect_err("the client sees an error, not a response");
    assert!(!error.is_status(), "{error:?}");
    assert_eq!(
        sb.request_count(Provider::VerifyKit, "POST", "/v1.0/send-otp"),
        1
    );
    let record = &sb.requests().requests[0];
    assert_eq!(
        (record.status, record.fault.as_deref()),
        (None, Some("connection_reset"))
    );
    assert!(
        sb.messages(PHONE).is_empty(),
        "the request was not processed"
    );

    assert_eq!(
        send(send_otp(&http, &sb, PHONE)).await.0,
        201,
        "one use only"
    );
    assert_eq!(
        sb.request_count(Provider::VerifyKit, "POST", "/v1.0/send-otp"),
        2
    );
    assert_eq!(sb.requests().counts["POST /v1.0/send-otp"], 2);
}

#[tokio::test]
async fn a_truncated_body_fails_while_reading_after_the_request_was_processed() {
    let (sb, http) = (start().await, client());
    sb.inject_fault(
        Fault::new(Provider::VerifyKit, FaultAction::TruncatedBody).path("/v1.0/send-otp"),
    );
    let response = send_otp(&http, &sb, PHONE)
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(response.status().as_u16(), 201);
    assert!(response.text().await.is_err(), "the body is cut short");
    assert_eq!(sb.messages(PHONE).len(), 1, "the code was sent");
    assert_eq!(
        sb.requests().requests[0].fault.as_deref(),
        Some("truncated_body")
    );
}

#[tokio::test]
async fn a_respond_fault_answers_its_status_headers_and_body_and_sends_nothing() {
    let (sb, http) = (start().await, client());
    let body = r#"{"code":60200,"message":"Invalid parameter","status":400}"#;
    let fault: Fault = serde_json::from_value(json!({
        "provider": "twilio",
        "action": {"type": "respond", "status": 400, "body": body,
                   "headers": [["Twilio-Request-Id", "RQ0123"], ["bad name", "x"]]},
    }))
    .unwrap();
    sb.inject_fault(fault);
    let response = http
        .post(format!("{}/Services/x/Verifications", sb.twilio_url()))
        .basic_auth(
            "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            Some("sandbox-auth-token"),
        )
        .form(&[("To", PHONE), ("Channel", "sms")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let headers = response.headers().clone();
    assert_eq!(headers["twilio-request-id"], "RQ0123");
    assert_eq!(headers["content-type"], "application/json");
    assert!(!headers.contains_key("bad name"));
    assert_eq!(response.text().await.unwrap(), body);
    assert!(sb.messages(PHONE).is_empty());
    let log = sb.requests();
    assert_eq!(
        log.requests.last().unwrap().fault.as_deref(),
        Some("respond")
    );
}

#[tokio::test]
async fn status_faults_use_each_providers_error_shape() {
    let (sb, http) = (start().await, client());
    for &provider in Provider::ALL {
        sb.inject_fault(Fault::new(
            provider,
            FaultAction::Status {
                status: 503,
                body: None,
            },
        ));
    }
    let (status, vk) = send(send_otp(&http, &sb, PHONE)).await;
    assert_eq!(
        (
            status,
            vk["meta"]["errorCode"].as_str(),
            vk["meta"]["httpStatusCode"].as_u64()
        ),
        (503, Some("500008"), Some(503))
    );
    let (status, vf) = send(
        http.get(format!("{}/phone-validations", sb.verifik_url()))
            .bearer_auth("sandbox-token"),
    )
    .await;
    assert_eq!(
        (status, vf),
        (
            503,
            json!({"code": "ServiceUnavailable", "message": "503:service_unavailable"})
        )
    );
    let (status, vg) = send(
        http.get(format!("{}/service/service/x", sb.verigator_url()))
            .header("X-Service-Auth", "sandbox:sandbox"),
    )
    .await;
    assert_eq!(
        (status, vg),
        (503, json!({"message": "Service Unavailable"}))
    );
    let (status, tw) = send(
        http.get(format!("{}/Services/x", sb.twilio_url()))
            .basic_auth(
                "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                Some("sandbox-auth-token"),
            ),
    )
    .await;
    assert_eq!(
        (status, tw),
        (
            503,
            json!({"code": 20503, "message": "Service unavailable", "more_info": "https://www.twilio.com/docs/errors/20503", "status": 503})
        )
    );
    assert!(sb.messages(PHONE).is_empty());

    sb.inject_fault(Fault::new(
        Provider::Verigator,
        FaultAction::Status {
            status: 500,
            body: Some("{\"oops\":1}".into()),
        },
    ));
    let (status, custom) = send(
        http.get(format!("{}/service/service/x", sb.verigator_url()))
            .header("X-Service-Auth", "sandbox:sandbox"),
    )
    .await;
    assert_eq!((status, custom), (500, json!({"oops": 1})));
    let statuses: Vec<Option<u16>> = sb.requests().requests.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [Some(503), Some(503), Some(503), Some(503), Some(500)]
    );
}

#[tokio::test]
async fn malformed_json_wrong_content_type_and_rate_limit_faults() {
    let (sb, http) = (start().await, client());
    sb.inject_fault(Fault::new(Provider::VerifyKit, FaultAction::MalformedJson));
    let response = send_otp(&http, &sb, PHONE).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.json::<Value>().await.is_err());

    sb.inject_fault(Fault::new(
        Provider::VerifyKit,
        FaultAction::WrongContentType,
    ));
    let response = send_otp(&http, &sb, PHONE).send().await.unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );

    sb.inject_fault(Fault::new(
        Provider::VerifyKit,
        FaultAction::RateLimited {
            retry_after_secs: 7,
        },
    ));
    let response = send_otp(&http, &sb, PHONE).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["meta"]["errorCode"], "429001");

    sb.inject_fault(Fault::new(
        Provider::Verifik,
        FaultAction::RateLimited {
            retry_after_secs: 3,
        },
    ));
    let (status, vf) = send(
        http.get(format!("{}/phone-validations", sb.verifik_url()))
            .bearer_auth("sandbox-token"),
    )
    .await;
    assert_eq!(
        (status, vf),
        (
            429,
            json!({"code": "TooManyRequests", "message": "429:too_many_requests"})
        )
    );

    assert!(
        sb.messages(PHONE).is_empty(),
        "none of these reached the handler"
    );
    let faults: Vec<Option<String>> = sb
        .requests()
        .requests
        .into_iter()
        .map(|r| r.fault)
        .collect();
    assert_eq!(
        faults,
        [
            Some("malformed_json".into()),
            Some("wrong_content_type".into()),
            Some("rate_limited".into()),
            Some("rate_limited".into())
        ]
    );
}

/// Every emulator's router ends the same way: an unknown path is 404 and a wrong method 405
/// in the provider's own error shape, both pass the provider middleware (logged under the
/// provider), and a `malformed_json` fault answers the provider's envelope cut short.
#[tokio::test]
async fn every_emulator_ends_the_same_way() {
    let (sb, http) = (start().await, client());
    // (provider, host URL, the host's version path, a route that only takes other methods)
    let hosts = [
        (
            Provider::VerifyKit,
            sb.verifykit_web_rest_url(),
            "/v1.0",
            "/send-otp",
        ),
        (
            Provider::VerifyKit,
            sb.verifykit_api_url(),
            "/v1.0",
            "/result",
        ),
        (
            Provider::Verifik,
            sb.verifik_url(),
            "/v2",
            "/app-registrations",
        ),
        (
            Provider::Verigator,
            sb.verigator_url(),
            "/v1",
            "/service/service",
        ),
        (
            Provider::Twilio,
            sb.twilio_url(),
            "/v2",
            "/Services/VA00000000000000000000000000000000/VerificationCheck",
        ),
    ];
    for (provider, url, _, post_only) in &hosts {
        let (status, not_found) = send(http.get(format!("{url}/no-such-route"))).await;
        let (status_405, not_allowed) = send(http.get(format!("{url}{post_only}"))).await;
        assert_eq!((status, status_405), (404, 405), "{url}");
        let shapes = match provider {
            Provider::VerifyKit => (
                json!({"httpStatusCode": 404, "errorCode": "404000"}),
                json!({"httpStatusCode": 405, "errorCode": "405000"}),
            ),
            Provider::Verifik => (
                json!({"code": "NotFound", "message": "404:not_found"}),
                json!({"code": "MethodNotAllowed", "message": "405:method_not_allowed"}),
            ),
            Provider::Verigator => (
                json!({"message": "Not Found"}),
                json!({"message": "Method Not Allowed"}),
            ),
            Provider::Twilio => (
                json!({"code": 20404, "status": 404}),
                json!({"code": 20004, "status": 405}),
            ),
            _ => unreachable!("no error shapes for {provider:?} yet"),
        };
        let seen = match provider {
            Provider::VerifyKit => {
                let pick = |body: &Value| {
                    json!({
                        "httpStatusCode": body["meta"]["httpStatusCode"],
                        "errorCode": body["meta"]["errorCode"],
                    })
                };
                (pick(&not_found), pick(&not_allowed))
            }
            Provider::Twilio => {
                let pick = |body: &Value| json!({"code": body["code"], "status": body["status"]});
                (pick(&not_found), pick(&not_allowed))
            }
            _ => (not_found, not_allowed),
        };
        assert_eq!(seen, shapes, "{url}");
    }
    for &provider in Provider::ALL {
        let logged: Vec<(String, Option<u16>)> = sb
            .requests_of(provider)
            .requests
            .into_iter()
            .map(|r| (r.path, r.status))
            .collect();
        let expected: Vec<(String, Option<u16>)> = hosts
            .iter()
            .filter(|(p, ..)| *p == provider)
            .flat_map(|(_, _, version, post_only)| {
                [
                    (format!("{version}/no-such-route"), Some(404)),
                    (format!("{version}{post_only}"), Some(405)),
                ]
            })
            .collect();
        assert_eq!(logged, expected, "{provider}");
    }

    let cut_short = [
        (
            Provider::VerifyKit,
            http.post(format!("{}/send-otp", sb.verifykit_web_rest_url())),
            r#"{"meta":{"requestId":"sandbox-fault","httpStatusCode":200},"result":{"reference":"#,
        ),
        (
            Provider::Verifik,
            http.get(format!("{}/phone-validations", sb.verifik_url())),
            r#"{"data":{"_id":"000000000000000000000000","status":"#,
        ),
        (
            Provider::Verigator,
            http.put(format!(
                "{}/service/service/s/users/u/auth",
                sb.verigator_url()
            )),
            r#"{"verified":tru"#,
        ),
        (
            Provider::Twilio,
            http.get(format!("{}/Services/VA0", sb.twilio_url())),
            r#"{"sid":"VE00000000000000000000000000000000","status":"pend"#,
        ),
    ];
    for (provider, request, body) in cut_short {
        sb.inject_fault(Fault::new(provider, FaultAction::MalformedJson));
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{provider}");
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.text().await.unwrap(), body, "{provider}");
    }

    let (status, body) = send(http.get(format!("{}/elsewhere", sb.base_url()))).await;
    assert_eq!(status, 404);
    let message = body["error"].as_str().unwrap();
    for prefix in [
        "/verifykit/web-rest",
        "/verifykit/api",
        "/verifik",
        "/verigator",
        "/twilio",
        "/_sandbox",
    ] {
        assert!(message.contains(prefix), "{prefix} in {message}");
    }
}

#[tokio::test]
async fn faults_over_http_match_method_path_and_count() {
    let (sb, http) = (start().await, client());
    let fault = json!({"provider": "verifykit", "method": "POST", "path": "/v1.0/send-*", "times": 2,
                       "action": {"type": "status", "status": 502}});
    let (status, echoed) = post(&http, control(&sb, "/faults"), fault).await;
    assert_eq!(status, 201);
    assert_eq!(echoed["times"], 2);
    assert_eq!(
        post(
            &http,
            control(&sb, "/faults"),
            json!({"action": {"type": "explode"}})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        post(
            &http,
            control(&sb, "/faults"),
            json!({"provider": "sinch", "action": {"type": "connection_reset"}})
        )
        .await
        .0,
        400
    );

    let init = http
        .get(format!("{}/init", sb.verifykit_web_rest_url()))
        .header("X-Vfk-Server-Key", "sandbox-server-key");
    assert_eq!(send(init).await.0, 200, "GET /init does not match");
    assert_eq!(
        send(
            http.get(format!("{}/phone-validations", sb.verifik_url()))
                .bearer_auth("sandbox-token")
        )
        .await
        .0,
        200
    );
    assert_eq!(send(send_otp(&http, &sb, PHONE)).await.0, 502);
    let (_, pending) = send(http.get(control(&sb, "/faults"))).await;
    assert_eq!(pending[0]["times"], 1);
    assert_eq!(send(send_otp(&http, &sb, PHONE)).await.0, 502);
    assert_eq!(send(send_otp(&http, &sb, PHONE)).await.0, 201);
    assert_eq!(send(http.get(control(&sb, "/faults"))).await.1, json!([]));

    sb.inject_fault(Fault::new(Provider::VerifyKit, FaultAction::ConnectionReset).times(3));
    assert_eq!(sb.pending_faults().len(), 1);
    assert_eq!(send(http.delete(control(&sb, "/faults"))).await.0, 204);
    assert!(sb.pending_faults().is_empty());
    sb.inject_fault(Fault::new(
        Provider::VerifyKit,
        FaultAction::ConnectionReset,
    ));
    sb.clear_faults();
    assert_eq!(send(send_otp(&http, &sb, PHONE)).await.0, 201);

    sb.inject_fault(Fault::new(
        Provider::VerifyKit,
        FaultAction::Delay { ms: 20 },
    ));
    assert_eq!(
        send(send_otp(&http, &sb, "+905320000011")).await.0,
        201,
        "a delay still answers"
    );
    assert_eq!(
        sb.requests().requests.last().unwrap().fault.as_deref(),
        Some("delay")
    );
}

#[tokio::test]
async fn test_numbers_get_fixed_codes_from_every_provider() {
    let (sb, http) = (start().await, client());
    let (status, added) = post(
        &http,
        control(&sb, "/test-numbers"),
        json!({"phone": "+90 532 000 00 00", "code": "123456"}),
    )
    .await;
    assert_eq!(
        (status, added),
        (201, json!({"phone": "+905320000000", "code": "123456"}))
    );
    sb.add_test_number("+573000000000", "654321").unwrap();
    let (_, list) = send(http.get(control(&sb, "/test-numbers"))).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    for bad in [
        json!({"phone": "nope", "code": "123456"}),
        json!({"phone": "+905320000000", "code": "12"}),
        json!({"phone": "+905320000000"}),
    ] {
        assert_eq!(post(&http, control(&sb, "/test-numbers"), bad).await.0, 400);
    }
    assert!(sb.add_test_number("+905320000000", "abcdef").is_err());

    send(send_otp(&http, &sb, "+905320000000")).await;
    assert_eq!(sb.latest_code("+905320000000").as_deref(), Some("123456"));
    send(
        http.post(format!("{}/phone-validations/manual", sb.verifik_url()))
            .bearer_auth("sandbox-token")
            .json(&json!({"phone": "3000000000", "countryCode": "+57", "phoneGateway": "sms"})),
    )
    .await;
    assert_eq!(sb.latest_code("+573000000000").as_deref(), Some("654321"));

    assert_eq!(
        send(http.delete(control(&sb, "/test-numbers?phone=%2B905320000000")))
            .await
            .0,
        204
    );
    assert_eq!(
        send(http.delete(control(&sb, "/test-numbers?phone=%2B905320000000")))
            .await
            .0,
        404
    );
    assert!(sb.remove_test_number("+57 300 000 0000"));
    assert!(!sb.remove_test_number("+573000000000"));
}

#[tokio::test]
async fn balances_are_set_and_read_over_http() {
    let (sb, http) = (start().await, client());
    let (status, all) = send(http.get(control(&sb, "/balance"))).await;
    assert_eq!(
        (status, all),
        (
            200,
            json!({"verifykit": null, "verifik": null, "verigator": null, "twilio": null})
        )
    );
    let (status, set) = post(
        &http,
        control(&sb, "/balance"),
        json!({"provider": "verifykit", "credits": 0}),
    )
    .await;
    assert_eq!((status, set["verifykit"].as_u64()), (200, Some(0)));
    let (status, body) = send(send_otp(&http, &sb, PHONE)).await;
    assert_eq!(
        (status, body["meta"]["errorCode"].as_str()),
        (403, Some("403042"))
    );
    post(
        &http,
        control(&sb, "/balance"),
        json!({"provider": "verifik", "credits": 5}),
    )
    .await;
    assert_eq!(sb.balance(Provider::Verifik), Some(5));
    post(
        &http,
        control(&sb, "/balance"),
        json!({"provider": "verifykit", "credits": null}),
    )
    .await;
    assert_eq!(send(send_otp(&http, &sb, PHONE)).await.0, 201);
    for bad in [
        json!({"provider": "verigator", "credits": 1}),
        json!({"provider": "twilio", "credits": 1}),
        json!({"provider": "nobody", "credits": 1}),
        json!({"provider": "verifik", "credits": -1}),
        json!({"credits": 1}),
    ] {
        assert_eq!(post(&http, control(&sb, "/balance"), bad).await.0, 400);
    }
}

#[tokio::test]
async fn the_request_log_counts_per_endpoint_and_filters_by_provider() {
    let (sb, http) = (start().await, client());
    send(send_otp(&http, &sb, PHONE)).await;
    send(send_otp(&http, &sb, PHONE)).await;
    send(
        http.get(format!("{}/phone-validations", sb.verifik_url()))
            .bearer_auth("sandbox-token"),
    )
    .await;
    send(http.get(control(&sb, "/messages"))).await;
    let (status, log) = send(http.get(control(&sb, "/requests"))).await;
    assert_eq!(status, 200);
    assert_eq!(
        log["counts"],
        json!({"POST /v1.0/send-otp": 2, "GET /v2/phone-validations": 1}),
        "control calls are not logged"
    );
    let first = &log["requests"][0];
    assert_eq!(
        (
            first["provider"].as_str(),
            first["method"].as_str(),
            first["status"].as_u64()
        ),
        (Some("verifykit"), Some("POST"), Some(201))
    );
    assert!(first["at"].is_string());
    let (_, verifik) = send(http.get(control(&sb, "/requests?provider=verifik"))).await;
    assert_eq!(verifik["requests"].as_array().unwrap().len(), 1);
    assert_eq!(
        send(http.get(control(&sb, "/requests?provider=nobody")))
            .await
            .0,
        400
    );
    assert_eq!(
        sb.request_count(Provider::Verifik, "get", "/v2/phone-validations"),
        1
    );
    assert_eq!(
        sb.request_count(Provider::Verifik, "POST", "/v2/phone-validations"),
        0
    );
}

#[tokio::test]
async fn verigator_totp_enrolment_over_http() {
    let (sb, http) = (start().await, client());
    let vg = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{}{path}", sb.verigator_url()))
            .header("X-Service-Auth", "sandbox:sandbox")
    };
    let (_, service) = send(
        vg(reqwest::Method::POST, "/service/service").json(&json!({"fqdn": "a.com", "name": "A"})),
    )
    .await;
    let sid = service["id"].as_str().unwrap();
    let (_, user) = send(
        vg(
            reqwest::Method::POST,
            &format!("/service/service/{sid}/users"),
        )
        .json(&json!({"id_in_service": "ada", "phone_number": "+37251234567"})),
    )
    .await;
    let uid = user["id"].as_str().unwrap();

    let code_url = control(
        &sb,
        &format!("/verigator/totp?service_id={sid}&user_id={uid}"),
    );
    assert_eq!(send(http.get(&code_url)).await.0, 409, "not enrolled yet");
    let (status, enrolled) = post(
        &http,
        control(&sb, "/verigator/totp"),
        json!({"service_id": sid, "user_id": uid}),
    )
    .await;
    assert_eq!(status, 201, "{enrolled}");
    assert!(
        enrolled["secret"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    );
    assert!(
        enrolled["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let (status, current) = send(http.get(&code_url)).await;
    assert_eq!(status, 200);
    let seconds = current["valid_for_seconds"].as_u64().unwrap();
    assert!((1..=30).contains(&seconds));
    let code = current["code"].as_str().unwrap();
    assert_eq!(code.len(), 6);

    send(
        vg(
            reqwest::Method::POST,
            &format!("/service/service/{sid}/users/{uid}/auth"),
        )
        .json(&json!({"method": "totp"})),
    )
    .await;
    let (_, verified) = send(
        vg(
            reqwest::Method::PUT,
            &format!("/service/service/{sid}/users/{uid}/auth"),
        )
        .json(&json!({"token": code})),
    )
    .await;
    assert_eq!(verified, json!({"verified": true, "method": "totp"}));

    assert_eq!(
        post(
            &http,
            control(&sb, "/verigator/totp"),
            json!({"service_id": sid, "user_id": "nope"})
        )
        .await
        .0,
        404
    );
    assert_eq!(
        post(
            &http,
            control(&sb, "/verigator/totp"),
            json!({"service_id": sid})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        send(http.get(control(&sb, "/verigator/totp?service_id=x")))
            .await
            .0,
        400
    );
    assert!(sb.totp_code("nope", uid).is_err());
}

#[tokio::test]
async fn reset_forgets_everything_but_the_configuration() {
    let config = SandboxConfig {
        test_numbers: vec![("+905320000000".into(), "111111".into())],
        ..SandboxConfig::seeded(5)
    };
    let (sb, http) = (start_with(config).await, client());
    let (_, first) = send(send_otp(&http, &sb, PHONE)).await;
    let first_code = sb.latest_code(PHONE).unwrap();
    sb.add_test_number("+905321111111", "222222").unwrap();
    sb.inject_fault(Fault::new(Provider::Verifik, FaultAction::ConnectionReset));
    sb.advance_clock(Duration::from_secs(100));
    sb.set_balance(Provider::VerifyKit, Some(0));

    assert_eq!(send(http.post(control(&sb, "/reset"))).await.0, 204);
    assert!(sb.all_messages().is_empty());
    assert!(sb.requests().requests.is_empty());
    assert!(sb.pending_faults().is_empty());
    assert_eq!(sb.balance(Provider::VerifyKit), None);
    let (_, clock) = send(http.get(control(&sb, "/clock"))).await;
    assert_eq!(clock["offset_seconds"], 0);
    let (_, numbers) = send(http.get(control(&sb, "/test-numbers"))).await;
    assert_eq!(
        numbers,
        json!([{"phone": "+905320000000", "code": "111111"}])
    );
    let (status, check) = send(
        http.post(format!("{}/check-otp", sb.verifykit_web_rest_url()))
            .header("X-Vfk-Server-Key", "sandbox-server-key")
            .json(&json!({"phoneNumber": PHONE, "countryCode": "TR", "reference": first["result"]["reference"], "code": first_code})),
    )
    .await;
    assert_eq!(
        (status, check["meta"]["errorCode"].as_str()),
        (403, Some("403013")),
        "flows are gone"
    );
    send(send_otp(&http, &sb, PHONE)).await;
    assert_eq!(
        sb.latest_code(PHONE),
        Some(first_code),
        "the seed starts over"
    );
    sb.reset();
    assert!(sb.all_messages().is_empty());
}

#[tokio::test]
async fn seeds_make_codes_reproducible_across_sandboxes() {
    let http = client();
    let mut codes = Vec::new();
    for seed in [99, 99, 100] {
        let sb = start_with(SandboxConfig::seeded(seed)).await;
        send(send_otp(&http, &sb, PHONE)).await;
        codes.push(sb.latest_code(PHONE).unwrap());
        sb.shutdown().await;
    }
    assert_eq!(codes[0], codes[1]);
    assert_ne!(codes[0], codes[2]);
}

#[tokio::test]
async fn info_unknown_routes_and_shutdown() {
    let (sb, http) = (start().await, client());
    let (status, info) = send(http.get(control(&sb, "/info"))).await;
    assert_eq!(status, 200);
    assert_eq!(
        info["credentials"]["verifykit_server_key"],
        "sandbox-server-key"
    );
    assert_eq!(info["credentials"]["verifik_token"], "sandbox-token");
    assert_eq!(
        info["credentials"]["verigator_service_auth"],
        "sandbox:sandbox"
    );
    assert_eq!(info["paths"]["verifik"], "/verifik/v2");
    assert_eq!(info["paths"]["twilio"], "/twilio/v2");
    assert_eq!(
        info["credentials"]["twilio_account_sid"],
        "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    );
    assert_eq!(
        info["credentials"]["twilio_service_sid"],
        "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    );
    let (status, body) = send(http.get(control(&sb, "/nope"))).await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
    let (status, body) = send(http.get(format!("{}/elsewhere", sb.base_url()))).await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("/_sandbox"));

    let url = sb.control_url();
    sb.shutdown().await;
    assert!(
        client().get(format!("{url}/info")).send().await.is_err(),
        "the server is gone"
    );
}

#[tokio::test]
async fn the_sandbox_binds_the_configured_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = SandboxConfig {
        listen: taken.local_addr().unwrap(),
        ..SandboxConfig::default()
    };
    assert!(
        Sandbox::start(config).await.is_err(),
        "an address in use is an error"
    );
}

#[tokio::test]
async fn past_their_capacity_the_log_and_outbox_keep_the_newest_and_counts_stay_exact() {
    let sb = start_with(SandboxConfig {
        request_log_capacity: 3,
        outbox_capacity: 2,
        ..SandboxConfig::seeded(7)
    })
    .await;
    let http = client();
    let phones: Vec<String> = (0..5).map(|i| format!("+9053212345{i:02}")).collect();
    for phone in &phones {
        assert_eq!(send(send_otp(&http, &sb, phone)).await.0, 201);
    }
    let (status, log) = send(http.get(format!("{}/requests", sb.control_url()))).await;
    assert_eq!(status, 200);
    assert_eq!(log["requests"].as_array().unwrap().len(), 3, "{log}");
    assert_eq!(log["counts"]["POST /v1.0/send-otp"], 5, "{log}");
    assert_eq!(
        sb.request_count(Provider::VerifyKit, "POST", "/v1.0/send-otp"),
        5
    );
    let (_, messages) = send(http.get(format!("{}/messages", sb.control_url()))).await;
    let recipients: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["phone"].as_str().unwrap())
        .collect();
    assert_eq!(recipients, [phones[4].as_str(), phones[3].as_str()]);
    assert!(
        sb.latest_code(&phones[0]).is_none(),
        "dropped from the outbox"
    );
}

#[tokio::test]
async fn past_their_capacity_provider_records_forget_the_oldest() {
    let sb = start_with(SandboxConfig {
        records_capacity: 2,
        ..SandboxConfig::seeded(7)
    })
    .await;
    let http = client();

    // VerifyKit: three SMS flows; the first is forgotten, as if it never existed.
    let mut flows = Vec::new();
    for i in 0..3 {
        let phone = format!("+9053212346{i:02}");
        let (status, sent) = send(send_otp(&http, &sb, &phone)).await;
        assert_eq!(status, 201, "{sent}");
        let reference = sent["result"]["reference"].as_str().unwrap().to_owned();
        let code = sb.latest_code(&phone).unwrap();
        flows.push((phone, reference, code));
    }
    let check = |(phone, reference, code): &(String, String, String)| {
        http.post(format!("{}/check-otp", sb.verifykit_web_rest_url()))
            .header("X-Vfk-Server-Key", "sandbox-server-key")
            .json(&json!({"phoneNumber": phone, "countryCode": "TR", "reference": reference, "code": code}))
    };
    let (status, forgotten) = send(check(&flows[0])).await;
    assert_eq!(
        (status, forgotten["meta"]["errorCode"].as_str()),
        (403, Some("403013")),
        "{forgotten}"
    );
    let (status, kept) = send(check(&flows[2])).await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["result"]["validationStatus"], true, "{kept}");

    // Verifik: three validations; the first is no longer found, listed or checkable.
    let verifik = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{}{path}", sb.verifik_url()))
            .bearer_auth("sandbox-token")
    };
    let mut ids = Vec::new();
    for i in 0..3 {
        let (status, created) = send(verifik(reqwest::Method::POST, "/phone-validations/manual").json(
            &json!({"phone": format!("32112345{i:02}"), "countryCode": "+57", "phoneGateway": "sms"}),
        ))
        .await;
        assert_eq!(status, 200, "{created}");
        ids.push(created["data"]["_id"].as_str().unwrap().to_owned());
    }
    let (status, _) = send(verifik(
        reqwest::Method::GET,
        &format!("/phone-validations/{}", ids[0]),
    ))
    .await;
    assert_eq!(status, 404);
    for id in &ids[1..] {
        let (status, found) = send(verifik(
            reqwest::Method::GET,
            &format!("/phone-validations/{id}"),
        ))
        .await;
        assert_eq!(status, 200, "{found}");
    }
    let (status, listed) = send(verifik(reqwest::Method::GET, "/phone-validations")).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["data"].as_array().unwrap().len(), 2, "{listed}");
    let code = sb.latest_code("+573211234502").unwrap();
    let (status, validated) = send(
        verifik(reqwest::Method::PUT, "/phone-validations")
            .json(&json!({"phone": "3211234502", "countryCode": "+57", "otp": code})),
    )
    .await;
    assert_eq!(status, 200, "{validated}");
}

#[tokio::test]
async fn the_request_log_keeps_at_most_256_bytes_of_a_method_or_forwarded_for() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let (sb, http) = (start().await, client());
    let huge = "9".repeat(100_000);
    let answered = http
        .get(format!("{}/Services", sb.twilio_url()))
        .header("X-Vfk-Forwarded-For", &huge)
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 401);
    // An extension method as long, which no HTTP client library sends.
    let method = "X".repeat(100_000);
    let mut stream = tokio::net::TcpStream::connect(sb.addr()).await.unwrap();
    let head = format!(
        "{method} /twilio/v2/Services HTTP/1.1\r\nhost: sandbox\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 405"), "{:?}", &answer[..20]);

    let log = sb.requests_of(Provider::Twilio).requests;
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[0].forwarded_for.as_deref(),
        Some(&huge[..256]),
        "cut to 256 bytes"
    );
    assert_eq!(log[1].method, method[..256]);
    assert_eq!(log[1].status, Some(405));
    let logged = serde_json::to_string(&sb.requests()).unwrap();
    assert!(logged.len() < 2_000, "{} bytes", logged.len());
}

#[tokio::test]
async fn a_delayed_answer_is_held_back_after_the_request_took_effect() {
    let (sb, http) = (start().await, client());
    // A kept-alive connection first, so the send is written as soon as it is made.
    let warm = http
        .get(format!("{}/init", sb.verifykit_web_rest_url()))
        .header("X-Vfk-Server-Key", "sandbox-server-key");
    assert_eq!(send(warm).await.0, 200);
    sb.inject_fault(
        Fault::new(Provider::VerifyKit, FaultAction::Delay { ms: 2_000 }).path("/v1.0/send-otp"),
    );
    let error = send_otp(&http, &sb, PHONE)
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .expect_err("the answer comes after the client gave up");
    assert!(error.is_timeout(), "{error}");
    // The request is logged as soon as it takes effect; the bound only turns a hang into a
    // failure.
    for _ in 0..1_000 {
        if sb.request_count(Provider::VerifyKit, "POST", "/v1.0/send-otp") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        sb.request_count(Provider::VerifyKit, "POST", "/v1.0/send-otp"),
        1
    );
    assert_eq!(
        sb.messages(PHONE).len(),
        1,
        "the code was sent though the client never got the answer"
    );
}

#[tokio::test]
async fn faults_the_sandbox_cannot_honour_are_refused() {
    let (sb, http) = (start().await, client());
    for bad in [
        json!({"provider": "verifykit", "paht": "/v1.0/send-otp", "action": {"type": "connection_reset"}}),
        json!({"action": {"type": "connection_reset", "times": 2}}),
        json!({"action": {"type": "delay", "ms": 5, "times": 2}}),
        json!({"times": 0, "action": {"type": "connection_reset"}}),
        json!({"action": {"type": "status", "status": 100}}),
        json!({"action": {"type": "status", "status": 199}}),
        json!({"action": {"type": "status", "status": 600}}),
        json!({"action": {"type": "respond", "status": 999, "body": "{}"}}),
        json!({"action": {"type": "echo_credentials", "status": 42}}),
    ] {
        let (status, refused) = post(&http, control(&sb, "/faults"), bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {refused}");
        assert!(refused["error"].is_string(), "{refused}");
    }
    assert!(sb.pending_faults().is_empty(), "nothing was queued");
    for fine in [200, 599] {
        let fault = json!({"provider": "verigator", "action": {"type": "status", "status": fine}});
        assert_eq!(post(&http, control(&sb, "/faults"), fault).await.0, 201);
    }
    assert_eq!(sb.pending_faults().len(), 2);

    // The handle refuses them too: `try_inject_fault` with the check's error, `inject_fault`
    // loudly.
    let unhonoured = [
        Fault::new(Provider::Twilio, FaultAction::ConnectionReset).times(0),
        Fault::new(
            Provider::Twilio,
            FaultAction::EchoCredentials { status: 1_000 },
        ),
        Fault::new(
            Provider::Twilio,
            FaultAction::Respond {
                status: 4290,
                headers: Vec::new(),
                body: "{}".into(),
            },
        ),
    ];
    for fault in unhonoured.clone() {
        let refused = sb.try_inject_fault(fault.clone());
        assert_eq!(refused, Err(fault.check().unwrap_err()));
        assert!(matches!(refused, Err(ControlError::InvalidRequest(_))));
    }
    for fault in unhonoured {
        let injected =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sb.inject_fault(fault)));
        assert!(injected.is_err());
    }
    assert_eq!(sb.pending_faults().len(), 2);
    let fine = Fault::new(Provider::Twilio, FaultAction::ConnectionReset);
    assert_eq!(sb.try_inject_fault(fine.clone()), Ok(()));
    let pending = sb.pending_faults();
    assert!(pending.len() == 3 && pending.contains(&fine), "{pending:?}");
}

#[tokio::test]
async fn numbers_in_a_control_form_are_read() {
    let (sb, http) = (start().await, client());
    let form = |path: &str, pairs: &[(&str, &str)]| send(http.post(control(&sb, path)).form(pairs));
    let (status, clock) = form("/clock/advance", &[("seconds", "301")]).await;
    assert_eq!(
        (status, clock["offset_seconds"].as_i64()),
        (200, Some(301)),
        "{clock}"
    );
    let (status, balances) = form("/balance", &[("provider", "verifik"), ("credits", "5")]).await;
    assert_eq!((status, balances["verifik"].as_u64()), (200, Some(5)));
    for seconds in ["-1", "ten", "NaN", "inf", ""] {
        let (status, _) = form("/clock/advance", &[("seconds", seconds)]).await;
        assert_eq!(status, 400, "{seconds:?}");
    }
    for credits in ["-1", "1.5", "five", ""] {
        let (status, _) = form("/balance", &[("provider", "verifik"), ("credits", credits)]).await;
        assert_eq!(status, 400, "{credits:?}");
    }
    assert_eq!(sb.balance(Provider::Verifik), Some(5));
}

#[tokio::test]
async fn a_status_faults_own_body_is_sent_as_json() {
    let (sb, http) = (start().await, client());
    sb.inject_fault(Fault::new(
        Provider::Verifik,
        FaultAction::Status {
            status: 502,
            body: Some(r#"{"code":"BadGateway","message":"502:bad_gateway"}"#.into()),
        },
    ));
    let response = http
        .get(format!("{}/phone-validations", sb.verifik_url()))
        .bearer_auth("sandbox-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 502);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"code": "BadGateway", "message": "502:bad_gateway"})
    );
}

/// Faults and test numbers are bounded (every provider request scans the faults): past
/// 10,000 pending, a new one is refused with 400 until some are cleared.
#[tokio::test]
async fn pending_faults_and_test_numbers_are_bounded() {
    let (sb, http) = (start().await, client());
    let never = || Fault::new(Provider::Verigator, FaultAction::ConnectionReset).path("/never");
    for _ in 0..10_000 {
        sb.try_inject_fault(never()).unwrap();
    }
    let refused = sb.try_inject_fault(never());
    assert!(
        matches!(refused, Err(ControlError::InvalidRequest(_))),
        "{refused:?}"
    );
    let fault =
        json!({"provider": "verigator", "path": "/never", "action": {"type": "connection_reset"}});
    let (status, body) = post(&http, control(&sb, "/faults"), fault.clone()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(sb.pending_faults().len(), 10_000);
    sb.clear_faults();
    assert_eq!(post(&http, control(&sb, "/faults"), fault).await.0, 201);

    let number = |i: u32| format!("+90532{i:07}");
    let (_, list) = send(http.get(control(&sb, "/test-numbers"))).await;
    let before = list.as_array().unwrap().len();
    for i in 0..u32::try_from(10_000 - before).unwrap() {
        sb.add_test_number(&number(i), "123456").unwrap();
    }
    let refused = sb.add_test_number(&number(20_000), "123456");
    assert!(
        matches!(refused, Err(ControlError::InvalidRequest(_))),
        "{refused:?}"
    );
    let body = json!({"phone": number(20_001), "code": "123456"});
    let (status, answer) = post(&http, control(&sb, "/test-numbers"), body).await;
    assert_eq!(status, 400, "{answer}");
    // A number set already gets its new code.
    sb.add_test_number(&number(0), "654321").unwrap();
    assert!(sb.remove_test_number(&number(1)));
    sb.add_test_number(&number(20_000), "123456").unwrap();
}

/// The handle's `Debug` shows its address, not the state: codes, numbers, secrets.
#[tokio::test]
async fn the_handles_debug_shows_no_state() {
    let sb = start().await;
    sb.add_test_number("+573000000000", "654321").unwrap();
    let shown = format!("{sb:?}");
    assert!(shown.contains(&sb.addr().to_string()), "{shown}");
    for hidden in ["573000000000", "654321", "outbox", "key"] {
        assert!(!shown.contains(hidden), "{hidden} in {shown}");
    }
}

/// One provider's faults (and those of none) are taken in one step; the others stay, with the
/// uses they have left and in their order.
#[tokio::test]
async fn one_providers_faults_are_taken_and_the_others_kept() {
    let sb = start().await;
    let reset = |provider| Fault::new(provider, FaultAction::ConnectionReset);
    let verifik_first = reset(Provider::Verifik).path("/first").times(3);
    let verifik_second = reset(Provider::Verifik).path("/second");
    let twilio = reset(Provider::Twilio).path("/twilio").times(2);
    let anyone = Fault {
        provider: None,
        ..reset(Provider::Twilio).path("/anyone")
    };
    for fault in [&verifik_first, &twilio, &anyone, &verifik_second] {
        sb.inject_fault(fault.clone());
    }
    assert_eq!(sb.take_faults_for(Provider::Twilio), [twilio, anyone]);
    assert_eq!(
        sb.pending_faults(),
        [verifik_first.clone(), verifik_second.clone()]
    );
    assert_eq!(sb.take_faults_for(Provider::Twilio), []);
    assert_eq!(
        sb.take_faults_for(Provider::Verifik),
        [verifik_first, verifik_second]
    );
    assert!(sb.pending_faults().is_empty());
}
