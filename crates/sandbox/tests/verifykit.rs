//! HTTP tests of the VerifyKit emulation: every endpoint and every error code it emits.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::{client, is_php_date, send, start, start_with};
use phone_verify_sandbox::{
    Channel, InitTheme, Provider, RateLimit, SandboxConfig, SandboxHandle, SendLimit,
};
use serde_json::{Value, json};

const PHONE: &str = "+905321234567";

/// A sandbox plus a client that sends VerifyKit's headers.
struct Vk {
    sb: SandboxHandle,
    http: reqwest::Client,
    key: String,
}

impl Vk {
    async fn new() -> Self {
        Self::with(SandboxConfig::seeded(11)).await
    }

    async fn with(config: SandboxConfig) -> Self {
        let sb = start_with(config).await;
        Self {
            sb,
            http: client(),
            key: "sandbox-server-key".into(),
        }
    }

    fn web(&self, path: &str) -> String {
        format!("{}{path}", self.sb.verifykit_web_rest_url())
    }

    fn api(&self, path: &str) -> String {
        format!("{}{path}", self.sb.verifykit_api_url())
    }

    async fn post_url(&self, url: String, body: Value) -> (u16, Value) {
        send(
            self.http
                .post(url)
                .header("X-Vfk-Server-Key", &self.key)
                .header("X-Vfk-Forwarded-For", "203.0.113.7")
                .json(&body),
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_url(self.web(path), body).await
    }

    async fn api_post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_url(self.api(path), body).await
    }

    async fn get(&self, url: String) -> (u16, Value) {
        send(
            self.http
                .get(url)
                .header("X-Vfk-Server-Key", &self.key)
                .header("X-Vfk-Forwarded-For", "203.0.113.7"),
        )
        .await
    }

    async fn send_otp(&self, phone: &str) -> String {
        let (status, body) = self
            .post(
                "/send-otp",
                json!({"phoneNumber": phone, "countryCode": "TR"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["result"]["reference"].as_str().unwrap().to_owned()
    }

    async fn check_otp(&self, phone: &str, reference: &str, code: &str) -> (u16, Value) {
        self.post("/check-otp", json!({"phoneNumber": phone, "countryCode": "TR", "reference": reference, "code": code}))
            .await
    }
}

/// Asserts a VerifyKit error envelope: HTTP status, `meta.errorCode`, no `result`.
#[track_caller]
fn assert_vk_error(got: &(u16, Value), status: u16, code: &str) {
    let (got_status, body) = got;
    assert_eq!(*got_status, status, "{body}");
    assert_eq!(body["meta"]["errorCode"], code, "{body}");
    assert_eq!(body["meta"]["httpStatusCode"], status, "{body}");
    assert!(
        body["meta"]["errorMessage"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body["meta"]["requestId"].is_string(), "{body}");
    assert!(body.get("result").is_none(), "{body}");
}

#[tokio::test]
async fn send_otp_check_otp_result_walks_the_whole_flow() {
    let vk = Vk::new().await;
    let (status, body) = vk
        .post(
            "/send-otp",
            json!({"phoneNumber": PHONE, "countryCode": "TR", "mcc": "286", "mnc": "01"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(body["meta"]["httpStatusCode"], 201);
    assert_eq!(body["result"]["timeout"], 300);
    assert_eq!(body["result"]["length"], 6);
    let reference = body["result"]["reference"].as_str().unwrap();

    let messages = vk.sb.messages(PHONE);
    assert_eq!(messages.len(), 1);
    let sms = &messages[0];
    assert_eq!(
        (sms.provider, sms.channel),
        (Provider::VerifyKit, Channel::Sms)
    );
    let code = sms.code.clone().unwrap();
    assert_eq!(code.len(), 6);
    assert!(sms.text.contains(&code));
    assert_eq!(sms.reference.as_deref(), Some(reference));

    assert_vk_error(
        &vk.check_otp(PHONE, reference, "000000x").await,
        403,
        "403014",
    );
    let (status, ok) = vk.check_otp(PHONE, reference, &code).await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["result"]["validationStatus"], true);
    let session_id = ok["result"]["sessionId"].as_str().unwrap();
    assert!(session_id.bytes().all(|b| b.is_ascii_alphanumeric()));

    assert_vk_error(&vk.check_otp(PHONE, reference, &code).await, 403, "403013");

    let (status, result) = vk
        .api_post("/result", json!({"sessionId": session_id}))
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["result"]["validationType"], "otp");
    assert_eq!(result["result"]["phoneNumber"], PHONE);
    assert_eq!(result["result"]["countryCode"], "TR");
    assert!(result["result"]["mobileNetwork"].is_string());
    let date = result["result"]["validationDate"].as_str().unwrap();
    assert!(is_php_date(date), "{date}");
    let (status, _) = vk
        .api_post("/result", json!({"sessionId": session_id}))
        .await;
    assert_eq!(status, 200, "result can be read again");
    assert_vk_error(
        &vk.api_post("/result", json!({"sessionId": "nope"})).await,
        403,
        "403036",
    );
    assert_vk_error(&vk.api_post("/result", json!({})).await, 403, "403036");
}

#[tokio::test]
async fn send_otp_takes_national_numbers_and_rejects_bad_ones_with_400007() {
    let vk = Vk::new().await;
    let (status, _) = vk
        .post(
            "/send-otp",
            json!({"phoneNumber": "532 123 45 68", "countryCode": "tr"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(vk.sb.messages("+905321234568").len(), 1);
    for body in [
        json!({"phoneNumber": "+90 000 000 00 00", "countryCode": "TR"}),
        json!({"phoneNumber": "+34612345678", "countryCode": "TR"}),
        json!({"phoneNumber": PHONE, "countryCode": "XX"}),
        json!({"phoneNumber": PHONE}),
        json!({"countryCode": "TR"}),
        json!({"phoneNumber": ["+905321234567"], "countryCode": "TR"}),
    ] {
        assert_vk_error(&vk.post("/send-otp", body.clone()).await, 400, "400007");
    }
    let raw = send(
        vk.http
            .post(vk.web("/send-otp"))
            .header("X-Vfk-Server-Key", &vk.key)
            .header("Content-Type", "application/json")
            .body("{\"phoneNumber\": \"+9053"),
    )
    .await;
    assert_vk_error(&raw, 400, "400007");
    assert_vk_error(
        &vk.check_otp("+90 000 000 00 00", "ref", "123456").await,
        400,
        "400007",
    );
}

#[tokio::test]
async fn a_wrong_or_missing_server_key_is_403038_everywhere() {
    let vk = Vk::new().await;
    let web_posts = [
        "/start",
        "/check",
        "/check-whatsapp",
        "/country",
        "/send-otp",
        "/check-otp",
        "/start-email",
        "/check-email",
        "/blacklist/add",
        "/blacklist/remove",
    ];
    for key in [None, Some("wrong-key")] {
        let with_key = |rb: reqwest::RequestBuilder| match key {
            Some(k) => rb.header("X-Vfk-Server-Key", k),
            None => rb,
        };
        for path in web_posts {
            let got = send(with_key(vk.http.post(vk.web(path))).json(&json!({}))).await;
            assert_vk_error(&got, 403, "403038");
        }
        assert_vk_error(
            &send(with_key(vk.http.get(vk.web("/init")))).await,
            403,
            "403038",
        );
        for path in ["/result", "/send-whatsapp-message"] {
            assert_vk_error(
                &send(with_key(vk.http.post(vk.api(path))).json(&json!({}))).await,
                403,
                "403038",
            );
        }
        assert_vk_error(
            &send(with_key(vk.http.get(vk.api("/access-token")))).await,
            403,
            "403038",
        );
    }
    assert!(vk.sb.all_messages().is_empty());
}

#[tokio::test]
async fn an_expired_code_is_403037() {
    let vk = Vk::new().await;
    let reference = vk.send_otp(PHONE).await;
    let code = vk.sb.latest_code(PHONE).unwrap();
    vk.sb.advance_clock(Duration::from_secs(299));
    vk.sb.advance_clock(Duration::from_secs(1));
    assert_vk_error(&vk.check_otp(PHONE, &reference, &code).await, 403, "403037");
}

#[tokio::test]
async fn a_resend_replaces_the_old_code() {
    let vk = Vk::new().await;
    let first = vk.send_otp(PHONE).await;
    let first_code = vk.sb.latest_code(PHONE).unwrap();
    let second = vk.send_otp(PHONE).await;
    let second_code = vk.sb.latest_code(PHONE).unwrap();
    assert_ne!(first, second);
    assert_eq!(
        vk.sb.messages(PHONE)[0].reference.as_deref(),
        Some(second.as_str()),
        "newest first"
    );
    assert_vk_error(
        &vk.check_otp(PHONE, &first, &first_code).await,
        403,
        "403013",
    );
    let (status, _) = vk.check_otp(PHONE, &second, &second_code).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn too_many_wrong_codes_discard_the_otp() {
    let vk = Vk::new().await;
    let reference = vk.send_otp(PHONE).await;
    let code = vk.sb.latest_code(PHONE).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_vk_error(&vk.check_otp(PHONE, &reference, wrong).await, 403, "403014");
    }
    assert_vk_error(&vk.check_otp(PHONE, &reference, &code).await, 403, "403013");
    assert_vk_error(&vk.check_otp(PHONE, &reference, "").await, 403, "403014");
    assert_vk_error(
        &vk.check_otp(PHONE, "unknown-reference", &code).await,
        403,
        "403013",
    );
    let other_phone_check = vk.check_otp("+905321234599", &reference, &code).await;
    assert_vk_error(&other_phone_check, 403, "403013");
}

#[tokio::test]
async fn the_send_limit_is_403015_and_slides_with_the_clock() {
    let config = SandboxConfig {
        verifykit_send_limit: SendLimit {
            max_sends: 2,
            window: Duration::from_secs(600),
        },
        ..SandboxConfig::seeded(1)
    };
    let vk = Vk::with(config).await;
    vk.send_otp(PHONE).await;
    vk.send_otp(PHONE).await;
    let body = json!({"phoneNumber": PHONE, "countryCode": "TR"});
    assert_vk_error(&vk.post("/send-otp", body.clone()).await, 403, "403015");
    assert_vk_error(
        &vk.post("/start", json!({"app": "whatsapp", "phoneNumber": PHONE}))
            .await,
        403,
        "403015",
    );
    vk.sb.advance_clock(Duration::from_secs(600));
    vk.send_otp(PHONE).await;
}

#[tokio::test]
async fn blacklisted_numbers_are_banned_with_403012() {
    let vk = Vk::new().await;
    let (status, add) = vk
        .post("/blacklist/add", json!({"type": "otp", "msisdn": ["905321234567", "+905321234567", 905_321_234_568_u64, "12"]}))
        .await;
    assert_eq!(status, 200, "{add}");
    assert_eq!(add["result"]["totalCount"], 4);
    assert_eq!(add["result"]["successCount"], 2);
    assert_eq!(add["result"]["alreadyExistsCount"], 1);
    assert_eq!(add["result"]["numberFormatCount"], 1);
    assert_eq!(add["result"]["numberFormatList"], json!(["12"]));
    assert_eq!(add["result"]["failCount"], 0);
    let body = json!({"phoneNumber": PHONE, "countryCode": "TR"});
    assert_vk_error(&vk.post("/send-otp", body.clone()).await, 403, "403012");
    let (status, _) = vk
        .post("/start", json!({"app": "whatsapp", "phoneNumber": PHONE}))
        .await;
    assert_eq!(status, 200, "the otp ban does not cover WhatsApp");

    let (status, removed) = vk
        .post(
            "/blacklist/remove",
            json!({"type": "otp", "msisdn": ["905321234567", "905321234599"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(removed["result"]["successCount"], 1);
    assert_eq!(removed["result"]["notExistsCount"], 1);
    assert_eq!(removed["result"]["notExistsList"], json!(["905321234599"]));
    vk.send_otp(PHONE).await;

    assert_vk_error(
        &vk.post(
            "/blacklist/add",
            json!({"type": "pigeon", "msisdn": ["905321234567"]}),
        )
        .await,
        403,
        "403011",
    );
    assert_vk_error(
        &vk.post("/blacklist/add", json!({"type": "otp"})).await,
        400,
        "400007",
    );
    let (status, _) = vk
        .post(
            "/blacklist/add",
            json!({"type": "whatsapp", "msisdn": "905321234567"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_vk_error(
        &vk.post("/start", json!({"app": "whatsapp", "phoneNumber": PHONE}))
            .await,
        403,
        "403012",
    );
}

#[tokio::test]
async fn the_blacklist_and_its_requests_are_bounded() {
    let vk = Vk::new().await;
    let too_many: Vec<String> = (0..1_001).map(|i| format!("90532{i:07}")).collect();
    assert_vk_error(
        &vk.post("/blacklist/add", json!({"type": "otp", "msisdn": too_many}))
            .await,
        400,
        "400007",
    );
    for batch in 0..10 {
        let numbers: Vec<String> = (0..1_000)
            .map(|i| format!("90532{:07}", batch * 1_000 + i))
            .collect();
        let (status, add) = vk
            .post("/blacklist/add", json!({"type": "otp", "msisdn": numbers}))
            .await;
        assert_eq!(status, 200, "{add}");
        assert_eq!(
            add["result"]["successCount"], 1_000,
            "{}",
            add["result"]["failList"]
        );
    }
    // Full: a new number fails, one already there is still "already exists".
    let (status, add) = vk
        .post(
            "/blacklist/add",
            json!({"type": "telegram", "msisdn": ["905329999999", "905320000007"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(add["result"]["successCount"], 0);
    assert_eq!(add["result"]["failCount"], 2);
    assert_eq!(
        add["result"]["failList"],
        json!(["905329999999", "905320000007"])
    );
    let (_, again) = vk
        .post(
            "/blacklist/add",
            json!({"type": "otp", "msisdn": ["905320000007"]}),
        )
        .await;
    assert_eq!(again["result"]["alreadyExistsCount"], 1);
    assert_eq!(again["result"]["failCount"], 0);
    // Removing one makes room for one.
    let (_, removed) = vk
        .post(
            "/blacklist/remove",
            json!({"type": "otp", "msisdn": ["905320000007"]}),
        )
        .await;
    assert_eq!(removed["result"]["successCount"], 1);
    let (_, add) = vk
        .post(
            "/blacklist/add",
            json!({"type": "telegram", "msisdn": ["905329999999", "905329999998"]}),
        )
        .await;
    assert_eq!(add["result"]["successCount"], 1);
    assert_eq!(add["result"]["failList"], json!(["905329999998"]));
}

#[tokio::test]
async fn an_empty_balance_is_403042() {
    let vk = Vk::new().await;
    vk.sb.set_balance(Provider::VerifyKit, Some(1));
    vk.send_otp(PHONE).await;
    assert_eq!(vk.sb.balance(Provider::VerifyKit), Some(0));
    let body = json!({"phoneNumber": PHONE, "countryCode": "TR"});
    assert_vk_error(&vk.post("/send-otp", body.clone()).await, 403, "403042");
    assert_vk_error(
        &vk.post("/start", json!({"app": "whatsapp"})).await,
        403,
        "403042",
    );
    assert_vk_error(&vk.post("/start-email", json!({})).await, 403, "403042");
    vk.sb.set_balance(Provider::VerifyKit, None);
    vk.send_otp(PHONE).await;
}

#[tokio::test]
async fn the_rate_limit_is_429001_with_retry_after_per_end_user_ip() {
    let config = SandboxConfig {
        verifykit_rate_limit: Some(RateLimit {
            max_requests: 3,
            window: Duration::from_secs(60),
        }),
        ..SandboxConfig::seeded(2)
    };
    let vk = Vk::with(config).await;
    let init = |ip: &'static str| {
        vk.http
            .get(vk.web("/init"))
            .header("X-Vfk-Server-Key", &vk.key)
            .header("X-Vfk-Forwarded-For", ip)
    };
    for _ in 0..3 {
        assert_eq!(send(init("198.51.100.1")).await.0, 200);
    }
    let response = init("198.51.100.1").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=61).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_vk_error(&(429, body), 429, "429001");
    assert_eq!(
        send(init("198.51.100.2")).await.0,
        200,
        "another end user is not limited"
    );
    vk.sb.advance_clock(Duration::from_secs(61));
    assert_eq!(send(init("198.51.100.1")).await.0, 200);
    // On the api host, which does not insist on the header, every request without an IP
    // address in it counts under one key, however the header varies.
    let token = |ip: String| {
        vk.http
            .get(vk.api("/access-token"))
            .header("X-Vfk-Server-Key", &vk.key)
            .header("X-Vfk-Forwarded-For", ip)
    };
    for i in 0..3 {
        assert_eq!(send(token(format!("not-an-ip-{i}"))).await.0, 200);
    }
    assert_eq!(send(token("x".repeat(10_000))).await.0, 429);
}

#[tokio::test]
async fn start_returns_deeplinks_and_qr_codes() {
    let vk = Vk::new().await;
    let (status, wa) = vk
        .post("/start", json!({"app": "whatsapp", "lang": "tr"}))
        .await;
    assert_eq!(status, 200, "{wa}");
    let reference = wa["result"]["reference"].as_str().unwrap();
    let link = wa["result"]["deeplink"].as_str().unwrap();
    assert!(
        link.starts_with("https://wa.me/") && link.contains("?text=") && link.contains(reference),
        "{link}"
    );
    assert!(link.contains("Do%C4%9Frulama"), "Turkish text: {link}");
    assert!(wa["result"].get("qrCode").is_none());

    let (_, tg) = vk.post("/start", json!({"app": "telegram"})).await;
    let tg_ref = tg["result"]["reference"].as_str().unwrap();
    assert_eq!(
        tg["result"]["deeplink"],
        format!("https://t.me/VerifyKitSandboxBot?start={tg_ref}")
    );

    let (_, both) = vk
        .post(
            "/start",
            json!({"app": "whatsapp", "deeplink": true, "qrCode": true}),
        )
        .await;
    assert!(both["result"]["deeplink"].is_string());
    assert!(
        both["result"].get("qrCode").is_none(),
        "both true gives only the deeplink"
    );

    let (status, qr) = vk
        .post(
            "/start",
            json!({"app": "whatsapp", "deeplink": false, "qrCode": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(qr["result"].get("deeplink").is_none());
    let data = qr["result"]["qrCode"].as_str().unwrap();
    let png = base64::engine::general_purpose::STANDARD
        .decode(
            data.strip_prefix("data:image/png;base64,")
                .expect("data URI"),
        )
        .unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let reader = decoder.read_info().expect("a PNG");
    assert!(reader.info().width >= 100 && reader.info().width == reader.info().height);

    assert_vk_error(
        &vk.post("/start", json!({"app": "whatsapp", "deeplink": false}))
            .await,
        403,
        "403004",
    );
    assert_vk_error(
        &vk.post(
            "/start",
            json!({"app": "whatsapp", "deeplink": false, "qrCode": false}),
        )
        .await,
        403,
        "403004",
    );
    assert_vk_error(
        &vk.post("/start", json!({"app": "flashcall"})).await,
        403,
        "403011",
    );
    assert_vk_error(&vk.post("/start", json!({})).await, 403, "403011");
    assert_vk_error(
        &vk.post(
            "/start",
            json!({"app": "whatsapp", "phoneNumber": "+90 12"}),
        )
        .await,
        400,
        "400007",
    );

    let only_wa = SandboxConfig {
        verifykit_methods: vec!["whatsapp".into()],
        ..SandboxConfig::seeded(3)
    };
    let vk2 = Vk::with(only_wa).await;
    assert_vk_error(
        &vk2.post("/start", json!({"app": "telegram"})).await,
        403,
        "403011",
    );
}

#[tokio::test]
async fn check_polls_a_reverse_flow_until_the_user_completes_it() {
    let vk = Vk::new().await;
    let (_, started) = vk.post("/start", json!({"app": "whatsapp"})).await;
    let reference = started["result"]["reference"].as_str().unwrap().to_owned();
    let check = || vk.post("/check", json!({"reference": reference}));
    // Pending is not an error: a reference the sandbox issued answers `validationStatus`
    // false until the user completes the flow; only an unknown one is 403036.
    for _ in 0..2 {
        let (status, pending) = check().await;
        assert_eq!(status, 200, "{pending}");
        assert_eq!(pending["result"]["validationStatus"], false);
        assert!(pending["result"].get("sessionId").is_none(), "{pending}");
    }

    let session_id = vk
        .sb
        .complete_reverse_flow(&reference, "+90 532 765 43 21")
        .unwrap();
    let (status, done) = check().await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["result"]["validationStatus"], true);
    assert_eq!(done["result"]["sessionId"], session_id.as_str());
    assert_eq!(done["result"]["appPlatform"], "web");
    assert!(
        vk.sb
            .complete_reverse_flow(&reference, "+905327654321")
            .is_err(),
        "only once"
    );

    let (_, result) = vk
        .api_post("/result", json!({"sessionId": session_id}))
        .await;
    assert_eq!(result["result"]["validationType"], "whatsapp");
    assert_eq!(result["result"]["phoneNumber"], "+905327654321");
    assert_eq!(result["result"]["countryCode"], "TR");

    let (_, later) = vk.post("/start", json!({"app": "telegram"})).await;
    let late_ref = later["result"]["reference"].as_str().unwrap();
    vk.sb.advance_clock(Duration::from_secs(301));
    assert_vk_error(
        &vk.post("/check", json!({"reference": late_ref})).await,
        403,
        "403037",
    );
    assert!(
        vk.sb
            .complete_reverse_flow(late_ref, "+905327654321")
            .is_err()
    );
    assert_vk_error(
        &vk.post("/check", json!({"reference": "nope"})).await,
        403,
        "403036",
    );
    assert_vk_error(&vk.post("/check", json!({})).await, 403, "403036");

    let (_, banned) = vk.post("/start", json!({"app": "whatsapp"})).await;
    let banned_ref = banned["result"]["reference"].as_str().unwrap();
    vk.post(
        "/blacklist/add",
        json!({"type": "whatsapp", "msisdn": ["905320000001"]}),
    )
    .await;
    vk.sb
        .complete_reverse_flow(banned_ref, "+905320000001")
        .unwrap();
    assert_vk_error(
        &vk.post("/check", json!({"reference": banned_ref})).await,
        403,
        "403012",
    );
}

#[tokio::test]
async fn start_with_a_phone_number_sends_a_whatsapp_code_for_check_whatsapp() {
    let vk = Vk::new().await;
    let (status, started) = vk
        .post(
            "/start",
            json!({"app": "whatsapp", "phoneNumber": PHONE, "lang": "es"}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let reference = started["result"]["reference"].as_str().unwrap().to_owned();
    let message = &vk.sb.messages(PHONE)[0];
    assert_eq!(message.channel, Channel::Whatsapp);
    assert_eq!(message.lang, "es");
    assert!(message.text.contains("código"), "{}", message.text);
    let code = message.code.clone().unwrap();

    let check = |code: &str| {
        vk.post(
            "/check-whatsapp",
            json!({"reference": reference, "code": code}),
        )
    };
    assert_vk_error(&check("999999x").await, 403, "403014");
    let (status, pending) = vk.post("/check", json!({"reference": reference})).await;
    assert_eq!(
        (status, &pending["result"]["validationStatus"]),
        (200, &json!(false)),
        "{pending}"
    );
    let (status, ok) = check(&code).await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["result"]["validationStatus"], true);
    let session_id = ok["result"]["sessionId"].as_str().unwrap();
    assert_vk_error(&check(&code).await, 403, "403013");
    let (_, polled) = vk.post("/check", json!({"reference": reference})).await;
    assert_eq!(polled["result"]["sessionId"], session_id);
    let (_, result) = vk
        .api_post("/result", json!({"sessionId": session_id}))
        .await;
    assert_eq!(result["result"]["validationType"], "whatsapp");
    assert_eq!(result["result"]["phoneNumber"], PHONE);

    let (_, plain) = vk.post("/start", json!({"app": "whatsapp"})).await;
    let plain_ref = plain["result"]["reference"].as_str().unwrap();
    assert_vk_error(
        &vk.post(
            "/check-whatsapp",
            json!({"reference": plain_ref, "code": "123456"}),
        )
        .await,
        403,
        "403013",
    );
    assert!(
        vk.sb.complete_reverse_flow(&reference, PHONE).is_err(),
        "OTP flows are not completed by message"
    );
    assert_vk_error(
        &vk.post("/check-whatsapp", json!({"reference": "nope", "code": "1"}))
            .await,
        403,
        "403013",
    );

    let (_, again) = vk
        .post(
            "/start",
            json!({"app": "whatsapp", "phoneNumber": "+905329876543"}),
        )
        .await;
    let again_ref = again["result"]["reference"].as_str().unwrap();
    let again_code = vk.sb.latest_code("+905329876543").unwrap();
    vk.sb.advance_clock(Duration::from_secs(300));
    assert_vk_error(
        &vk.post(
            "/check-whatsapp",
            json!({"reference": again_ref, "code": again_code}),
        )
        .await,
        403,
        "403037",
    );
}

#[tokio::test]
async fn init_answers_both_theme_shapes_in_the_requested_language() {
    let vk = Vk::new().await;
    let (status, rec) = vk.get(vk.web("/init?lang=en")).await;
    assert_eq!(status, 200);
    let apps: Vec<&str> = rec["result"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["app"].as_str().unwrap())
        .collect();
    assert_eq!(apps, ["whatsapp", "telegram", "otp"]);
    assert!(rec["result"].get("alternativeValidation").is_none());
    for entry in rec["result"]["list"].as_array().unwrap() {
        for key in [
            "appPackage",
            "name",
            "app",
            "text",
            "textColour",
            "bgColour",
            "icon",
        ] {
            assert!(entry[key].is_string(), "{key} in {entry}");
        }
    }
    assert!(
        rec["result"]["localizationList"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["key"] == "validation.chooseAppText")
    );
    assert_eq!(rec["result"]["messages"], json!([]));

    let (_, tr) = vk.get(vk.web("/init?lang=tr")).await;
    assert!(
        tr["result"]["description"]
            .as_str()
            .unwrap()
            .contains("Lütfen")
    );
    let (_, de) = vk.get(vk.web("/init?lang=de")).await;
    assert_eq!(
        de["result"]["description"], rec["result"]["description"],
        "unknown languages fall back to English"
    );

    let basic = Vk::with(SandboxConfig {
        init_theme: InitTheme::Basic,
        ..SandboxConfig::seeded(4)
    })
    .await;
    let (_, b) = basic.get(basic.web("/init")).await;
    let apps: Vec<&str> = b["result"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["app"].as_str().unwrap())
        .collect();
    assert_eq!(apps, ["whatsapp", "telegram"]);
    assert_eq!(b["result"]["alternativeValidation"], "otp");
    assert_eq!(
        b["result"]["alternativeValidationDescription"],
        "Don't use any of these apps?"
    );
}

#[tokio::test]
async fn country_lists_every_country_with_the_requested_one_first() {
    let vk = Vk::new().await;
    let (status, all) = vk.post("/country", json!({})).await;
    assert_eq!(status, 200);
    let list = all["result"]["list"].as_array().unwrap();
    assert!(list.len() > 200);
    let tr = list.iter().find(|c| c["countryCode"] == "TR").unwrap();
    assert_eq!(tr["phoneCode"], "+90");
    assert!(tr["title"].is_string());
    let (_, first) = vk.post("/country", json!({"countryCode": "co"})).await;
    assert_eq!(first["result"]["list"][0]["countryCode"], "CO");
    assert_eq!(first["result"]["list"][0]["phoneCode"], "+57");
    assert_eq!(
        first["result"]["list"].as_array().unwrap().len(),
        list.len()
    );
}

#[tokio::test]
async fn access_token_and_whatsapp_session_messages() {
    let vk = Vk::new().await;
    let (status, token) = vk.get(vk.api("/access-token")).await;
    assert_eq!(status, 200);
    assert!(token["result"]["accessToken"].as_str().unwrap().len() >= 32);
    assert!(is_php_date(token["result"]["timeout"].as_str().unwrap()));

    let msg = json!({"phoneNumber": PHONE, "message": "Your order has shipped."});
    assert_vk_error(
        &vk.api_post("/send-whatsapp-message", msg.clone()).await,
        403,
        "403036",
    );
    let (_, started) = vk.post("/start", json!({"app": "whatsapp"})).await;
    vk.sb
        .complete_reverse_flow(started["result"]["reference"].as_str().unwrap(), PHONE)
        .unwrap();
    let (status, sent) = vk.api_post("/send-whatsapp-message", msg.clone()).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(
        sent["result"],
        json!({"phoneNumber": PHONE, "message": "Your order has shipped.", "status": "sent"})
    );
    let out = &vk.sb.messages(PHONE)[0];
    assert_eq!(
        (out.channel, out.code.as_deref()),
        (Channel::Whatsapp, None)
    );
    assert_vk_error(
        &vk.api_post(
            "/send-whatsapp-message",
            json!({"phoneNumber": PHONE, "message": "short"}),
        )
        .await,
        400,
        "400000",
    );
    assert_vk_error(
        &vk.api_post(
            "/send-whatsapp-message",
            json!({"phoneNumber": "+1", "message": "long enough text"}),
        )
        .await,
        400,
        "400007",
    );
    vk.sb.advance_clock(Duration::from_secs(24 * 3600));
    assert_vk_error(
        &vk.api_post("/send-whatsapp-message", msg.clone()).await,
        403,
        "403036",
    );
}

#[tokio::test]
async fn email_verification_start_check_and_complete() {
    let vk = Vk::new().await;
    let (status, started) = vk
        .post("/start-email", json!({"email": "ada@example.com"}))
        .await;
    assert_eq!(status, 200, "{started}");
    let r = &started["result"];
    let reference = r["reference"].as_str().unwrap().to_owned();
    let subject = r["subject"].as_str().unwrap().to_owned();
    assert!(subject.starts_with("verify-"));
    assert!(r["mailto"].as_str().unwrap().starts_with(&format!(
        "mailto:{}?subject={subject}",
        r["to"].as_str().unwrap()
    )));
    assert!(r["body"].is_string());

    let check = |code: &str| {
        vk.post(
            "/check-email",
            json!({"reference": reference, "code": code}),
        )
    };
    assert_vk_error(&check(&subject).await, 403, "403036");
    assert_vk_error(&check("verify-wrong").await, 403, "403014");
    vk.sb
        .complete_email_flow(&reference, "ada@example.com")
        .unwrap();
    let (status, done) = check(&subject).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["result"]["emailVerify"], true);
    assert_eq!(done["result"]["email"], "ada@example.com");
    assert_eq!(done["result"]["validationType"], "email");
    assert!(is_php_date(
        done["result"]["validationDate"].as_str().unwrap()
    ));

    assert_vk_error(
        &vk.post("/start-email", json!({"email": "not-an-email"}))
            .await,
        403,
        "403048",
    );
    assert_vk_error(
        &vk.post("/check-email", json!({"reference": "nope", "code": "x"}))
            .await,
        403,
        "403036",
    );
    let (_, late) = vk.post("/start-email", json!({})).await;
    let late_ref = late["result"]["reference"].as_str().unwrap();
    let late_subject = late["result"]["subject"].as_str().unwrap();
    vk.sb.advance_clock(Duration::from_secs(300));
    assert_vk_error(
        &vk.post(
            "/check-email",
            json!({"reference": late_ref, "code": late_subject}),
        )
        .await,
        403,
        "403037",
    );
}

#[tokio::test]
async fn otp_settings_give_403047_and_403049() {
    let no_otp = Vk::with(SandboxConfig {
        verifykit_methods: vec!["whatsapp".into()],
        ..SandboxConfig::seeded(5)
    })
    .await;
    assert_vk_error(
        &no_otp
            .post(
                "/send-otp",
                json!({"phoneNumber": PHONE, "countryCode": "TR"}),
            )
            .await,
        403,
        "403047",
    );

    let test_only = Vk::with(SandboxConfig {
        verifykit_otp_test_numbers_only: true,
        test_numbers: vec![("+905320000000".into(), "424242".into())],
        ..SandboxConfig::seeded(6)
    })
    .await;
    assert_vk_error(
        &test_only
            .post(
                "/send-otp",
                json!({"phoneNumber": PHONE, "countryCode": "TR"}),
            )
            .await,
        403,
        "403049",
    );
    let reference = test_only.send_otp("+905320000000").await;
    assert_eq!(
        test_only.sb.latest_code("+905320000000").as_deref(),
        Some("424242")
    );
    let (status, _) = test_only
        .check_otp("+905320000000", &reference, "424242")
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn sms_texts_follow_the_requested_language() {
    let vk = Vk::new().await;
    for (lang, phone, word) in [
        ("en", "+905321110001", "verification code"),
        ("tr", "+905321110002", "doğrulama kodunuz"),
        ("es", "+905321110003", "código de verificación"),
    ] {
        let (status, _) = vk
            .post(
                "/send-otp",
                json!({"phoneNumber": phone, "countryCode": "TR", "lang": lang}),
            )
            .await;
        assert_eq!(status, 201);
        let m = &vk.sb.messages(phone)[0];
        assert_eq!(m.lang, lang);
        assert!(m.text.contains(word), "{}", m.text);
    }
    let (status, _) = send(
        vk.http
            .post(vk.web("/send-otp?lang=tr"))
            .header("X-Vfk-Server-Key", &vk.key)
            .json(&json!({"phoneNumber": "+905321110004", "countryCode": "TR"})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        vk.sb.messages("+905321110004")[0].lang,
        "tr",
        "lang as a query parameter"
    );
}

#[tokio::test]
async fn forwarded_for_is_recorded_and_unknown_routes_keep_the_envelope() {
    let vk = Vk::new().await;
    vk.send_otp(PHONE).await;
    let log = vk.sb.requests();
    assert_eq!(
        log.requests[0].forwarded_for.as_deref(),
        Some("203.0.113.7")
    );
    assert_eq!(log.requests[0].path, "/v1.0/send-otp");
    assert_eq!(
        vk.sb
            .request_count(Provider::VerifyKit, "POST", "/v1.0/send-otp"),
        1
    );

    let (status, body) = vk.post("/no-such-endpoint", json!({})).await;
    assert_eq!(status, 404);
    assert!(body["meta"]["errorCode"].is_string());
    let (status, body) = vk.get(vk.web("/send-otp")).await;
    assert_eq!(status, 405);
    assert_eq!(body["meta"]["httpStatusCode"], 405);
}

#[tokio::test]
async fn web_rest_requests_without_the_end_users_ip_are_refused_with_403() {
    let vk = Vk::new().await;
    // Not the shared client: it sends an IP by default.
    let http = reqwest::Client::new();
    let bare = |url: String, ip: Option<&str>| {
        let mut request = http
            .post(url)
            .header("X-Vfk-Server-Key", "sandbox-server-key")
            .json(&json!({"phoneNumber": PHONE, "countryCode": "TR", "app": "whatsapp"}));
        if let Some(ip) = ip {
            request = request.header("X-Vfk-Forwarded-For", ip);
        }
        send(request)
    };
    for path in [
        "/send-otp",
        "/check-otp",
        "/start",
        "/check",
        "/check-whatsapp",
        "/country",
        "/start-email",
        "/check-email",
        "/blacklist/add",
    ] {
        for ip in [None, Some("not-an-ip"), Some("")] {
            let answer = bare(vk.web(path), ip).await;
            assert_vk_error(&answer, 403, "403000");
            assert!(
                answer.1["meta"]["errorMessage"]
                    .as_str()
                    .is_some_and(|m| m.contains("X-Vfk-Forwarded-For")),
                "{path}: {}",
                answer.1
            );
        }
    }
    assert!(vk.sb.messages(PHONE).is_empty(), "nothing was sent");
    // A wrong or missing server key is refused first, with the documented 403038.
    for key in [Some("wrong-key"), None] {
        let mut request = http
            .post(vk.web("/send-otp"))
            .json(&json!({"phoneNumber": PHONE, "countryCode": "TR"}));
        if let Some(key) = key {
            request = request.header("X-Vfk-Server-Key", key);
        }
        assert_vk_error(&send(request).await, 403, "403038");
    }
    // IPv6 is an IP too.
    let (status, body) = bare(vk.web("/send-otp"), Some("2001:db8::1")).await;
    assert_eq!(status, 201, "{body}");
    // The API host does not insist: VerifyKit's Python and Node SDKs call `result` without it.
    let (status, body) = bare(vk.api("/result"), None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["meta"]["errorCode"], "403036", "{body}");
}

#[tokio::test]
async fn default_sandbox_uses_documented_credentials() {
    let sb = start().await;
    assert_eq!(sb.config().verifykit_server_key, "sandbox-server-key");
    assert!(
        sb.verifykit_web_rest_url()
            .ends_with("/verifykit/web-rest/v1.0")
    );
    assert!(sb.verifykit_api_url().ends_with("/verifykit/api/v1.0"));
    assert!(sb.addr().ip().is_loopback());
}

#[tokio::test]
async fn bodies_are_read_only_when_sent_as_json() {
    let vk = Vk::new().await;
    let body = json!({"phoneNumber": PHONE, "countryCode": "TR"});
    let send_otp = |content_type: Option<&str>, body: String| {
        let mut request = vk
            .http
            .post(vk.web("/send-otp"))
            .header("X-Vfk-Server-Key", &vk.key)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        send(request)
    };
    // VerifyKit documents JSON bodies: JSON under another type, or a form, carries no field.
    for content_type in [None, Some("text/plain")] {
        assert_vk_error(
            &send_otp(content_type, body.to_string()).await,
            400,
            "400007",
        );
    }
    assert_vk_error(
        &send_otp(
            Some("application/x-www-form-urlencoded"),
            format!("phoneNumber=%2B{}&countryCode=TR", &PHONE[1..]),
        )
        .await,
        400,
        "400007",
    );
    assert!(vk.sb.all_messages().is_empty(), "nothing was sent");
    // The PHP SDK's `application/json;` is JSON.
    let (status, sent) = send_otp(Some("application/json;"), body.to_string()).await;
    assert_eq!(status, 201, "{sent}");
}

#[tokio::test]
async fn a_resend_keeps_the_number_and_its_live_otp_aging_together() {
    let vk = Vk::with(SandboxConfig {
        records_capacity: 3,
        ..SandboxConfig::seeded(11)
    })
    .await;
    let [a, b, c, d] = [
        "+905321234561",
        "+905321234562",
        "+905321234563",
        "+905321234564",
    ];
    for phone in [a, b, c] {
        vk.send_otp(phone).await;
    }
    let resent = vk.send_otp(a).await;
    let resent_code = vk.sb.latest_code(a).unwrap();
    vk.send_otp(d).await;
    // The resend is still the live OTP of `a`: the next send replaces it.
    let newest = vk.send_otp(a).await;
    assert_vk_error(&vk.check_otp(a, &resent, &resent_code).await, 403, "403013");
    let (status, checked) = vk
        .check_otp(a, &newest, &vk.sb.latest_code(a).unwrap())
        .await;
    assert_eq!(status, 200, "{checked}");
}

#[tokio::test]
async fn session_messages_over_4096_characters_are_refused() {
    let vk = Vk::new().await;
    let (_, started) = vk.post("/start", json!({"app": "whatsapp"})).await;
    vk.sb
        .complete_reverse_flow(started["result"]["reference"].as_str().unwrap(), PHONE)
        .unwrap();
    let message = |chars: usize| json!({"phoneNumber": PHONE, "message": "ş".repeat(chars)});
    assert_vk_error(
        &vk.api_post("/send-whatsapp-message", message(4097)).await,
        400,
        "400000",
    );
    assert!(vk.sb.messages(PHONE).is_empty(), "nothing was sent");
    let (status, sent) = vk.api_post("/send-whatsapp-message", message(4096)).await;
    assert_eq!(status, 200, "{sent}");
}

#[tokio::test]
async fn a_repeated_whatsapp_verification_is_the_newest_and_the_oldest_is_forgotten_first() {
    let vk = Vk::with(SandboxConfig {
        records_capacity: 2,
        ..SandboxConfig::seeded(11)
    })
    .await;
    let [a, b, c] = ["+905321234561", "+905321234562", "+905321234563"];
    for phone in [a, b, a, c] {
        let (status, started) = vk.post("/start", json!({"app": "whatsapp"})).await;
        assert_eq!(status, 200, "{started}");
        vk.sb
            .complete_reverse_flow(started["result"]["reference"].as_str().unwrap(), phone)
            .unwrap();
    }
    let message = |phone: &str| json!({"phoneNumber": phone, "message": "Your order has shipped."});
    let (status, sent) = vk.api_post("/send-whatsapp-message", message(a)).await;
    assert_eq!(status, 200, "verified again after b: newer than b: {sent}");
    assert_vk_error(
        &vk.api_post("/send-whatsapp-message", message(b)).await,
        403,
        "403036",
    );
    let (status, sent) = vk.api_post("/send-whatsapp-message", message(c)).await;
    assert_eq!(status, 200, "{sent}");
}
