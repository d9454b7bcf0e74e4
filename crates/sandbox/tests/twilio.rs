//! HTTP tests of the Twilio Verify v2 emulation: services, verifications, checks, verification
//! attempts, Basic auth, the send and check limits, expiry on the sandbox clock and Twilio's
//! error body.

mod common;

use std::time::Duration;

use common::{client, send, start_with};
use phone_verify_sandbox::config::{
    TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SECRET, TWILIO_API_KEY_SID, TWILIO_AUTH_TOKEN,
    TWILIO_SERVICE_SID,
};
use phone_verify_sandbox::{Channel, Fault, FaultAction, Provider, SandboxConfig, SandboxHandle};
use serde_json::{Value, json};

const PHONE: &str = "+15017122661";

/// Form parameters of one request.
type Form<'a> = Vec<(&'a str, &'a str)>;
const LANDLINE: &str = "+442079460000";

/// A sandbox plus a client that authenticates with the sandbox's Account SID.
struct Tw {
    sb: SandboxHandle,
    http: reqwest::Client,
}

impl Tw {
    async fn new() -> Self {
        Self::with(SandboxConfig::seeded(41)).await
    }

    async fn with(config: SandboxConfig) -> Self {
        Self {
            sb: start_with(config).await,
            http: client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sb.twilio_url())
    }

    /// `POST` of a form, authenticated.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        send(
            self.http
                .post(self.url(path))
                .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
                .form(form),
        )
        .await
    }

    /// `GET`, authenticated.
    async fn get(&self, path: &str) -> (u16, Value) {
        send(
            self.http
                .get(self.url(path))
                .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN)),
        )
        .await
    }

    /// `GET` of an absolute URL (a page URL the sandbox wrote), authenticated.
    async fn get_absolute(&self, url: &str) -> (u16, Value) {
        send(
            self.http
                .get(url)
                .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN)),
        )
        .await
    }

    /// `DELETE`, authenticated: the status and the body's exact text.
    async fn delete(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .delete(self.url(path))
            .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
            .send()
            .await
            .expect("answered");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a body"))
    }

    /// Creates a service named `name`; its SID.
    async fn create_service(&self, name: &str) -> String {
        let (status, service) = self.post("/Services", &[("FriendlyName", name)]).await;
        assert_eq!(status, 201, "{service}");
        service["sid"].as_str().expect("a sid").to_owned()
    }

    /// Starts an SMS verification on the default service.
    async fn start(&self, to: &str) -> (u16, Value) {
        self.post(
            &format!("/Services/{TWILIO_SERVICE_SID}/Verifications"),
            &[("To", to), ("Channel", "sms")],
        )
        .await
    }

    /// Checks `code` against verification `sid` of the default service.
    async fn check_sid(&self, sid: &str, code: &str) -> (u16, Value) {
        self.post(
            &format!("/Services/{TWILIO_SERVICE_SID}/VerificationCheck"),
            &[("VerificationSid", sid), ("Code", code)],
        )
        .await
    }

    /// Fetches verification `sid` of the default service.
    async fn fetch(&self, sid: &str) -> (u16, Value) {
        self.get(&format!(
            "/Services/{TWILIO_SERVICE_SID}/Verifications/{sid}"
        ))
        .await
    }

    fn code(&self, to: &str) -> String {
        self.sb.latest_code(to).expect("a code was sent")
    }
}

/// Twilio's error body for `code` with `status`.
fn error(code: u32, status: u16, message: &str) -> Value {
    json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn is_twilio_date(s: &str) -> bool {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
        && s.len() == 20
        && s.ends_with('Z')
}

fn wrong(code: &str) -> String {
    code.chars()
        .map(|c| if c == '9' { '0' } else { '9' })
        .collect()
}

#[tokio::test]
async fn services_are_created_and_fetched_in_twilios_shape() {
    let tw = Tw::new().await;
    let (status, service) = tw
        .post(
            "/Services",
            &[
                ("FriendlyName", "My App"),
                ("CodeLength", "8"),
                ("CustomCodeEnabled", "true"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{service}");
    let sid = service["sid"].as_str().unwrap().to_owned();
    assert!(is_sid(&sid, "VA"), "{sid}");
    assert_eq!(service["account_sid"], TWILIO_ACCOUNT_SID);
    assert_eq!(service["friendly_name"], "My App");
    assert_eq!(service["code_length"], 8);
    assert_eq!(service["custom_code_enabled"], true);
    assert_eq!(service["lookup_enabled"], false);
    assert!(is_twilio_date(service["date_created"].as_str().unwrap()));
    assert_eq!(service["url"], tw.url(&format!("/Services/{sid}")));
    assert_eq!(
        service["links"]["verification_checks"],
        tw.url(&format!("/Services/{sid}/VerificationCheck"))
    );
    assert_eq!(
        keys(&service),
        [
            "account_sid",
            "code_length",
            "custom_code_enabled",
            "date_created",
            "date_updated",
            "default_template_sid",
            "do_not_share_warning_enabled",
            "dtmf_input_required",
            "friendly_name",
            "links",
            "lookup_enabled",
            "passkeys",
            "psd2_enabled",
            "push",
            "sid",
            "skip_sms_to_landlines",
            "totp",
            "tts_name",
            "url",
            "verify_event_subscription_enabled",
            "whatsapp",
        ]
    );
    let (status, fetched) = tw.get(&format!("/Services/{sid}")).await;
    assert_eq!((status, &fetched), (200, &service));

    // Its codes have its length.
    let (status, _) = tw
        .post(
            &format!("/Services/{sid}/Verifications"),
            &[("To", PHONE), ("Channel", "sms")],
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(tw.code(PHONE).len(), 8);

    let (status, default) = tw.get(&format!("/Services/{TWILIO_SERVICE_SID}")).await;
    assert_eq!((status, default["code_length"].as_u64()), (200, Some(6)));
    let unknown = "VAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    assert_eq!(
        tw.get(&format!("/Services/{unknown}")).await,
        (
            404,
            error(
                20404,
                404,
                &format!("The requested resource /v2/Services/{unknown} was not found")
            )
        )
    );
    for (form, param) in [
        (vec![("CodeLength", "6")], "Invalid parameter: FriendlyName"),
        (
            vec![("FriendlyName", "x"), ("CodeLength", "3")],
            "Invalid parameter `CodeLength`: 3",
        ),
        (
            vec![("FriendlyName", "x"), ("CodeLength", "11")],
            "Invalid parameter `CodeLength`: 11",
        ),
    ] {
        assert_eq!(
            tw.post("/Services", &form).await,
            (400, error(60200, 400, param))
        );
    }
}

#[tokio::test]
async fn basic_auth_takes_the_account_or_an_api_key_and_nothing_else() {
    let tw = Tw::new().await;
    let path = tw.url(&format!("/Services/{TWILIO_SERVICE_SID}"));
    let (status, _) = send(
        tw.http
            .get(&path)
            .basic_auth(TWILIO_API_KEY_SID, Some(TWILIO_API_KEY_SECRET)),
    )
    .await;
    assert_eq!(status, 200);
    for request in [
        tw.http.get(&path),
        tw.http
            .get(&path)
            .basic_auth(TWILIO_ACCOUNT_SID, Some("wrong-token")),
        tw.http
            .get(&path)
            .basic_auth(TWILIO_API_KEY_SID, Some(TWILIO_AUTH_TOKEN)),
        tw.http.get(&path).bearer_auth(TWILIO_AUTH_TOKEN),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"Twilio API\""
        );
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            error(20003, 401, "Authenticate")
        );
    }
    // Refused before anything is sent.
    let (status, _) = send(
        tw.http
            .post(tw.url(&format!("/Services/{TWILIO_SERVICE_SID}/Verifications")))
            .basic_auth(TWILIO_ACCOUNT_SID, Some("wrong-token"))
            .form(&[("To", PHONE), ("Channel", "sms")]),
    )
    .await;
    assert_eq!(status, 401);
    assert!(tw.sb.messages(PHONE).is_empty());
    let log = tw.sb.requests_of(Provider::Twilio);
    assert_eq!(log.requests.len(), 6);
    assert_eq!(
        log.counts[&format!("GET /v2/Services/{TWILIO_SERVICE_SID}")],
        5
    );
}

#[tokio::test]
async fn a_verification_is_sent_fetched_and_approved() {
    let tw = Tw::new().await;
    let (status, started) = tw.start(PHONE).await;
    assert_eq!(status, 201, "{started}");
    let sid = started["sid"].as_str().unwrap().to_owned();
    assert!(is_sid(&sid, "VE"), "{sid}");
    assert_eq!(
        keys(&started),
        [
            "account_sid",
            "amount",
            "channel",
            "date_created",
            "date_updated",
            "lookup",
            "payee",
            "send_code_attempts",
            "service_sid",
            "sid",
            "sna",
            "status",
            "to",
            "url",
            "valid",
        ]
    );
    assert_eq!(started["service_sid"], TWILIO_SERVICE_SID);
    assert_eq!(started["account_sid"], TWILIO_ACCOUNT_SID);
    assert_eq!(started["to"], PHONE);
    assert_eq!(started["channel"], "sms");
    assert_eq!(started["status"], "pending");
    assert_eq!(started["valid"], false);
    assert_eq!(started["lookup"], json!({}));
    assert_eq!(
        (&started["amount"], &started["payee"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(started["sna"], Value::Null);
    assert!(is_twilio_date(started["date_created"].as_str().unwrap()));
    assert_eq!(
        started["url"],
        tw.url(&format!(
            "/Services/{TWILIO_SERVICE_SID}/Verifications/{sid}"
        ))
    );
    let attempts = started["send_code_attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["channel"], "SMS");
    assert!(is_sid(attempts[0]["attempt_sid"].as_str().unwrap(), "VL"));
    assert!(is_twilio_date(attempts[0]["time"].as_str().unwrap()));

    let messages = tw.sb.messages(PHONE);
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(
        (
            message.provider,
            message.channel,
            message.reference.as_deref()
        ),
        (Provider::Twilio, Channel::Sms, Some(sid.as_str()))
    );
    let code = message.code.clone().unwrap();
    assert_eq!(code.len(), 6);
    assert!(message.text.contains(&code) && message.text.contains("Sandbox Verify"));

    assert_eq!(tw.fetch(&sid).await, (200, started.clone()));

    let (status, rejected) = tw.check_sid(&sid, &wrong(&code)).await;
    assert_eq!(status, 200);
    assert_eq!(
        (rejected["status"].as_str(), rejected["valid"].as_bool()),
        (Some("pending"), Some(false))
    );
    let (status, approved) = tw.check_sid(&sid, &code).await;
    assert_eq!(status, 200);
    assert_eq!(
        keys(&approved),
        [
            "account_sid",
            "amount",
            "channel",
            "date_created",
            "date_updated",
            "payee",
            "service_sid",
            "sid",
            "sna_attempts_error_codes",
            "status",
            "to",
            "valid",
        ]
    );
    assert_eq!(
        (
            approved["sid"].as_str(),
            approved["status"].as_str(),
            approved["valid"].as_bool(),
            approved["to"].as_str()
        ),
        (
            Some(sid.as_str()),
            Some("approved"),
            Some(true),
            Some(PHONE)
        )
    );
    assert_eq!(approved["sna_attempts_error_codes"], json!([]));

    // An approved verification is deleted for the API.
    let check_path = format!("/v2/Services/{TWILIO_SERVICE_SID}/VerificationCheck");
    assert_eq!(
        tw.check_sid(&sid, &code).await,
        (
            404,
            error(
                20404,
                404,
                &format!("The requested resource {check_path} was not found")
            )
        )
    );
    assert_eq!(tw.fetch(&sid).await.0, 404);
    // A new one to the same number gets a new SID.
    let (status, again) = tw.start(PHONE).await;
    assert_eq!(status, 201);
    assert_ne!(again["sid"].as_str(), Some(sid.as_str()));
    assert_eq!(
        tw.sb.request_count(
            Provider::Twilio,
            "POST",
            &format!("/v2/Services/{TWILIO_SERVICE_SID}/Verifications")
        ),
        2
    );
}

#[tokio::test]
async fn checks_by_to_and_every_channel() {
    let tw = Tw::new().await;
    let service = format!("/Services/{TWILIO_SERVICE_SID}");
    for (channel, to, outbox, label) in [
        ("whatsapp", "+905321234567", Channel::Whatsapp, "whatsapp"),
        ("call", "+573001234567", Channel::Call, "CALL"),
        ("email", "Ada@Example.com", Channel::Email, "EMAIL"),
    ] {
        let (status, started) = tw
            .post(
                &format!("{service}/Verifications"),
                &[("To", to), ("Channel", channel)],
            )
            .await;
        assert_eq!(status, 201, "{started}");
        assert_eq!(started["channel"], channel);
        assert_eq!(started["send_code_attempts"][0]["channel"], label);
        let message = tw.sb.messages(to).remove(0);
        assert_eq!(message.channel, outbox);
        if channel == "email" {
            assert_eq!(started["to"], "ada@example.com");
            assert_eq!(
                (message.phone, message.email.as_deref()),
                (None, Some("ada@example.com"))
            );
        }
        let code = message.code.unwrap();
        let (status, checked) = tw
            .post(
                &format!("{service}/VerificationCheck"),
                &[("To", to), ("Code", &code)],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            (checked["status"].as_str(), checked["channel"].as_str()),
            (Some("approved"), Some(channel))
        );
    }
    // Nothing pending for that number: 20404.
    let (status, body) = tw
        .post(
            &format!("{service}/VerificationCheck"),
            &[("To", "+905321234567"), ("Code", "123456")],
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(20404)));
}

#[tokio::test]
async fn five_sends_share_one_sid_and_the_sixth_is_60203() {
    let tw = Tw::new().await;
    let (_, first) = tw.start(PHONE).await;
    let sid = first["sid"].as_str().unwrap().to_owned();
    for n in 2..=5 {
        let channel = if n == 3 { "call" } else { "sms" };
        let (status, resent) = tw
            .post(
                &format!("/Services/{TWILIO_SERVICE_SID}/Verifications"),
                &[("To", PHONE), ("Channel", channel)],
            )
            .await;
        assert_eq!(status, 201);
        assert_eq!(resent["sid"].as_str(), Some(sid.as_str()));
        assert_eq!(resent["send_code_attempts"].as_array().unwrap().len(), n);
        assert_eq!(resent["channel"], channel);
    }
    let codes: Vec<String> = tw
        .sb
        .messages(PHONE)
        .into_iter()
        .filter_map(|m| m.code)
        .collect();
    assert_eq!(codes.len(), 5);
    assert!(
        codes.iter().all(|c| *c == codes[0]),
        "the same code is resent"
    );
    assert_eq!(
        tw.start(PHONE).await,
        (429, error(60203, 429, "Max send attempts reached"))
    );
    assert_eq!(tw.sb.messages(PHONE).len(), 5, "the sixth was not sent");

    // Canceling ends it; the next start is a new verification.
    let (status, canceled) = tw
        .post(
            &format!("/Services/{TWILIO_SERVICE_SID}/Verifications/{sid}"),
            &[("Status", "canceled")],
        )
        .await;
    assert_eq!(
        (
            status,
            canceled["status"].as_str(),
            canceled["valid"].as_bool()
        ),
        (200, Some("canceled"), Some(false))
    );
    assert_eq!(tw.check_sid(&sid, &codes[0]).await.0, 404);
    let (status, fresh) = tw.start(PHONE).await;
    assert_eq!(status, 201);
    assert_ne!(fresh["sid"].as_str(), Some(sid.as_str()));
}

#[tokio::test]
async fn five_wrong_codes_lock_the_verification_with_60202() {
    let tw = Tw::new().await;
    let (_, started) = tw.start(PHONE).await;
    let sid = started["sid"].as_str().unwrap().to_owned();
    let code = tw.code(PHONE);
    for n in 1..=5 {
        let (status, body) = tw.check_sid(&sid, &wrong(&code)).await;
        let expected = if n < 5 {
            "pending"
        } else {
            "max_attempts_reached"
        };
        assert_eq!(
            (status, body["status"].as_str(), body["valid"].as_bool()),
            (200, Some(expected), Some(false)),
            "check {n}"
        );
    }
    let locked = error(60202, 429, "Max check attempts reached");
    assert_eq!(tw.check_sid(&sid, &code).await, (429, locked.clone()));
    let (status, fetched) = tw.fetch(&sid).await;
    assert_eq!(
        (status, fetched["status"].as_str()),
        (200, Some("max_attempts_reached"))
    );
    assert_eq!(tw.start(PHONE).await, (429, locked));
    assert_eq!(tw.sb.messages(PHONE).len(), 1);

    // After its 10 minutes a new verification can start.
    tw.sb.advance_clock(Duration::from_secs(600));
    assert_eq!(tw.fetch(&sid).await.0, 404);
    let (status, fresh) = tw.start(PHONE).await;
    assert_eq!(status, 201);
    assert_ne!(fresh["sid"].as_str(), Some(sid.as_str()));
}

#[tokio::test]
async fn verifications_expire_after_ten_minutes_on_the_sandbox_clock() {
    let tw = Tw::new().await;
    let (_, started) = tw.start(PHONE).await;
    let sid = started["sid"].as_str().unwrap().to_owned();
    let code = tw.code(PHONE);
    tw.sb.advance_clock(Duration::from_secs(9 * 60));
    assert_eq!(tw.fetch(&sid).await.0, 200);
    tw.sb.advance_clock(Duration::from_secs(60));
    let path = format!("/v2/Services/{TWILIO_SERVICE_SID}/Verifications/{sid}");
    assert_eq!(
        tw.fetch(&sid).await,
        (
            404,
            error(
                20404,
                404,
                &format!("The requested resource {path} was not found")
            )
        )
    );
    assert_eq!(tw.check_sid(&sid, &code).await.0, 404);
    let (status, by_to) = tw
        .post(
            &format!("/Services/{TWILIO_SERVICE_SID}/VerificationCheck"),
            &[("To", PHONE), ("Code", &code)],
        )
        .await;
    assert_eq!((status, by_to["code"].as_u64()), (404, Some(20404)));
    let (status, fresh) = tw.start(PHONE).await;
    assert_eq!(status, 201);
    assert_ne!(fresh["sid"].as_str(), Some(sid.as_str()));
}

#[tokio::test]
async fn updates_approve_or_cancel_and_nothing_else() {
    let tw = Tw::new().await;
    let (_, started) = tw.start(PHONE).await;
    let sid = started["sid"].as_str().unwrap().to_owned();
    let path = format!("/Services/{TWILIO_SERVICE_SID}/Verifications/{sid}");
    assert_eq!(
        tw.post(&path, &[("Status", "pending")]).await,
        (
            400,
            error(60200, 400, "Invalid parameter `Status`: pending")
        )
    );
    assert_eq!(
        tw.post(&path, &[]).await,
        (400, error(60200, 400, "Invalid parameter: Status"))
    );
    let (status, approved) = tw.post(&path, &[("Status", "approved")]).await;
    assert_eq!(
        (
            status,
            approved["status"].as_str(),
            approved["valid"].as_bool()
        ),
        (200, Some("approved"), Some(true))
    );
    assert_eq!(tw.post(&path, &[("Status", "canceled")]).await.0, 404);
    assert_eq!(tw.fetch(&sid).await.0, 404);
    let other =
        format!("/Services/{TWILIO_SERVICE_SID}/Verifications/VEbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    assert_eq!(tw.post(&other, &[("Status", "canceled")]).await.0, 404);
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent() {
    let tw = Tw::new().await;
    let verifications = format!("/Services/{TWILIO_SERVICE_SID}/Verifications");
    let cases: Vec<(Form<'_>, u16, Value)> = vec![
        (
            vec![("Channel", "sms")],
            400,
            error(60200, 400, "Invalid parameter: To"),
        ),
        (
            vec![("To", PHONE)],
            400,
            error(60200, 400, "Invalid parameter: Channel"),
        ),
        (
            vec![("To", "5017122661"), ("Channel", "sms")],
            400,
            error(60200, 400, "Invalid parameter `To`: 5017122661"),
        ),
        (
            vec![("To", "+1 501 712 2661"), ("Channel", "sms")],
            400,
            error(60200, 400, "Invalid parameter `To`: +1 501 712 2661"),
        ),
        (
            vec![("To", PHONE), ("Channel", "email")],
            400,
            error(60200, 400, &format!("Invalid parameter `To`: {PHONE}")),
        ),
        (
            vec![("To", PHONE), ("Channel", "telegram")],
            400,
            error(60200, 400, "Invalid parameter `Channel`: telegram"),
        ),
        (
            vec![("To", PHONE), ("Channel", "sna")],
            400,
            error(60223, 400, "Delivery channel disabled: SNA"),
        ),
        (
            vec![("To", PHONE), ("Channel", "sms"), ("DeviceIp", "300.1.1.1")],
            400,
            error(60200, 400, "Invalid parameter `DeviceIp`: 300.1.1.1"),
        ),
        (
            vec![("To", PHONE), ("Channel", "sms"), ("RiskCheck", "off")],
            400,
            error(60200, 400, "Invalid parameter `RiskCheck`: off"),
        ),
        (
            vec![("To", PHONE), ("Channel", "sms"), ("Tags", "[1]")],
            400,
            error(60200, 400, "Invalid parameter `Tags`: [1]"),
        ),
        (
            vec![("To", PHONE), ("Channel", "sms"), ("CustomCode", "12")],
            400,
            error(60200, 400, "Invalid parameter `CustomCode`: 12"),
        ),
        (
            vec![("To", PHONE), ("Channel", "sms"), ("Amount", "10")],
            400,
            error(60200, 400, "Invalid parameter: Amount"),
        ),
    ];
    for (form, status, body) in cases {
        assert_eq!(
            tw.post(&verifications, &form).await,
            (status, body),
            "{form:?}"
        );
    }
    // A JSON body carries no form parameter.
    let (status, body) = send(
        tw.http
            .post(tw.url(&verifications))
            .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
            .json(&json!({"To": PHONE, "Channel": "sms"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (400, error(60200, 400, "Invalid parameter: To"))
    );
    // Unknown service.
    let unknown = "/Services/VAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/Verifications";
    let (status, body) = tw.post(unknown, &[("To", PHONE), ("Channel", "sms")]).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            404,
            Some(format!("The requested resource /v2{unknown} was not found").as_str())
        )
    );
    // Custom codes need a service that allows them.
    let (_, service) = tw.post("/Services", &[("FriendlyName", "Plain")]).await;
    let plain = format!(
        "/Services/{}/Verifications",
        service["sid"].as_str().unwrap()
    );
    assert_eq!(
        tw.post(
            &plain,
            &[("To", PHONE), ("Channel", "sms"), ("CustomCode", "4321")]
        )
        .await,
        (400, error(60200, 400, "Invalid parameter: CustomCode"))
    );
    // Checks need a code and a target.
    let checks = format!("/Services/{TWILIO_SERVICE_SID}/VerificationCheck");
    assert_eq!(
        tw.post(&checks, &[("To", PHONE)]).await,
        (400, error(60200, 400, "Invalid parameter: Code"))
    );
    assert_eq!(
        tw.post(&checks, &[("Code", "123456")]).await,
        (400, error(60200, 400, "Invalid parameter: To"))
    );
    assert_eq!(
        tw.post(&checks, &[("To", PHONE), ("Code", "12")]).await,
        (400, error(60200, 400, "Invalid parameter `Code`: 12"))
    );
    assert!(tw.sb.all_messages().is_empty());
}

#[tokio::test]
async fn custom_codes_locales_and_the_optional_fields() {
    let tw = Tw::new().await;
    let (status, started) = tw
        .post(
            &format!("/Services/{TWILIO_SERVICE_SID}/Verifications"),
            &[
                ("To", PHONE),
                ("Channel", "sms"),
                ("CustomCode", "4321"),
                ("Locale", "es"),
                ("DeviceIp", "203.0.113.7"),
                ("RiskCheck", "disable"),
                ("Tags", "{\"campaign\":\"signup\"}"),
                ("CustomFriendlyName", "Shop"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{started}");
    let message = tw.sb.messages(PHONE).remove(0);
    assert_eq!(message.code.as_deref(), Some("4321"));
    assert_eq!(message.lang, "es");
    assert!(message.text.contains("código"), "{}", message.text);
    let (status, checked) = tw.check_sid(started["sid"].as_str().unwrap(), "4321").await;
    assert_eq!((status, checked["valid"].as_bool()), (200, Some(true)));

    // A PSD2 service echoes the amount and the payee.
    let (_, psd2) = tw
        .post(
            "/Services",
            &[("FriendlyName", "Bank"), ("Psd2Enabled", "true")],
        )
        .await;
    let (status, started) = tw
        .post(
            &format!("/Services/{}/Verifications", psd2["sid"].as_str().unwrap()),
            &[
                ("To", PHONE),
                ("Channel", "sms"),
                ("Amount", "€39.99"),
                ("Payee", "Acme Inc."),
            ],
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        (started["amount"].as_str(), started["payee"].as_str()),
        (Some("€39.99"), Some("Acme Inc."))
    );
}

#[tokio::test]
async fn a_service_that_skips_landlines_answers_60205_for_sms_to_one() {
    let tw = Tw::new().await;
    let (status, service) = tw
        .post(
            "/Services",
            &[
                ("FriendlyName", "Lookup"),
                ("LookupEnabled", "true"),
                ("SkipSmsToLandlines", "true"),
            ],
        )
        .await;
    assert_eq!(status, 201);
    let verifications = format!(
        "/Services/{}/Verifications",
        service["sid"].as_str().unwrap()
    );
    assert_eq!(
        tw.post(&verifications, &[("To", LANDLINE), ("Channel", "sms")])
            .await,
        (
            403,
            error(60205, 403, "SMS is not supported by landline phone number")
        )
    );
    assert!(tw.sb.messages(LANDLINE).is_empty());
    let (status, call) = tw
        .post(&verifications, &[("To", LANDLINE), ("Channel", "call")])
        .await;
    assert_eq!(status, 201, "a call reaches a landline");
    assert_eq!(call["lookup"]["carrier"]["type"], "landline");
    let (status, mobile) = tw
        .post(&verifications, &[("To", PHONE), ("Channel", "sms")])
        .await;
    assert_eq!(
        (status, mobile["lookup"]["carrier"]["type"].as_str()),
        (201, Some("mobile"))
    );
    // The default service sends SMS to landlines.
    assert_eq!(tw.start(LANDLINE).await.0, 201);
}

#[tokio::test]
async fn faults_and_unknown_routes_answer_twilios_error_body() {
    let tw = Tw::new().await;
    tw.sb.inject_fault(
        Fault::new(
            Provider::Twilio,
            FaultAction::RateLimited {
                retry_after_secs: 3,
            },
        )
        .path("/v2/Services/*/Verifications"),
    );
    let response = tw
        .http
        .post(tw.url(&format!("/Services/{TWILIO_SERVICE_SID}/Verifications")))
        .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
        .form(&[("To", PHONE), ("Channel", "sms")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "3");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        error(20429, 429, "Too many requests")
    );
    assert!(tw.sb.messages(PHONE).is_empty(), "not processed");

    tw.sb.inject_fault(Fault::new(
        Provider::Twilio,
        FaultAction::Status {
            status: 503,
            body: None,
        },
    ));
    assert_eq!(
        tw.start(PHONE).await,
        (503, error(20503, 503, "Service unavailable"))
    );
    tw.sb
        .inject_fault(Fault::new(Provider::Twilio, FaultAction::MalformedJson));
    let response = tw
        .http
        .get(tw.url(&format!("/Services/{TWILIO_SERVICE_SID}")))
        .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.json::<Value>().await.is_err());

    assert_eq!(
        tw.get("/Nowhere").await,
        (
            404,
            error(20404, 404, "The requested resource was not found")
        )
    );
    assert_eq!(
        send(
            tw.http
                .put(tw.url("/Services"))
                .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
        )
        .await,
        (405, error(20004, 405, "Method not allowed"))
    );
    let faults: Vec<Option<String>> = tw
        .sb
        .requests_of(Provider::Twilio)
        .requests
        .iter()
        .map(|r| r.fault.clone())
        .collect();
    assert_eq!(
        faults,
        [
            Some("rate_limited".to_owned()),
            Some("status".to_owned()),
            Some("malformed_json".to_owned()),
            None,
            None
        ]
    );
}

#[tokio::test]
async fn records_are_bounded_and_reset_starts_over() {
    let tw = Tw::with(SandboxConfig {
        records_capacity: 2,
        ..SandboxConfig::seeded(5)
    })
    .await;
    let mut sids = Vec::new();
    for to in ["+15017122661", "+905321234567", "+573001234567"] {
        let (status, started) = tw.start(to).await;
        assert_eq!(status, 201);
        sids.push(started["sid"].as_str().unwrap().to_owned());
    }
    assert_eq!(tw.fetch(&sids[0]).await.0, 404, "the oldest is forgotten");
    assert_eq!(tw.fetch(&sids[2]).await.0, 200);
    let mut services = Vec::new();
    for name in ["a", "b", "c"] {
        let (_, service) = tw.post("/Services", &[("FriendlyName", name)]).await;
        services.push(service["sid"].as_str().unwrap().to_owned());
    }
    assert_eq!(tw.get(&format!("/Services/{}", services[0])).await.0, 404);
    assert_eq!(tw.get(&format!("/Services/{}", services[2])).await.0, 200);
    assert_eq!(
        tw.get(&format!("/Services/{TWILIO_SERVICE_SID}")).await.0,
        200,
        "the default service stays"
    );
    tw.sb.reset();
    assert_eq!(tw.fetch(&sids[2]).await.0, 404);
    assert_eq!(tw.get(&format!("/Services/{}", services[2])).await.0, 404);
    assert_eq!(tw.start("+15017122661").await.0, 201);
}

#[tokio::test]
async fn a_seed_gives_the_same_sids_and_codes() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let tw = Tw::with(SandboxConfig::seeded(77)).await;
        let (_, started) = tw.start(PHONE).await;
        runs.push((started["sid"].clone(), tw.code(PHONE)));
    }
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test]
async fn answers_before_a_verification_leave_a_seeds_sids_and_codes_as_they_are() {
    let mut runs = Vec::new();
    for list_first in [true, false] {
        let tw = Tw::with(SandboxConfig::seeded(7)).await;
        if list_first {
            // An answer, with its request id, before the verification.
            assert_eq!(tw.get("/Services").await.0, 200);
        }
        let (status, started) = tw.start(PHONE).await;
        assert_eq!(status, 201, "{started}");
        runs.push((started["sid"].clone(), tw.code(PHONE)));
    }
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test]
async fn echoed_credentials_come_back_in_twilios_error_body() {
    let tw = Tw::new().await;
    tw.sb.inject_fault(
        Fault::new(
            Provider::Twilio,
            FaultAction::EchoCredentials { status: 401 },
        )
        .path("/v2/Services/*/Verifications"),
    );
    let (status, body) = tw
        .post(
            &format!("/Services/{TWILIO_SERVICE_SID}/Verifications"),
            &[("To", PHONE), ("Channel", "sms")],
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(20003)));
    let message = body["message"].as_str().unwrap();
    // The Basic header as sent, and decoded: the auth token in clear.
    assert!(message.contains("authorization=Basic "), "{message}");
    assert!(
        message.contains(&format!("({TWILIO_ACCOUNT_SID}:{TWILIO_AUTH_TOKEN})")),
        "{message}"
    );
    assert!(tw.sb.messages(PHONE).is_empty(), "not processed");
}

/// A path whose percent-decoding is not UTF-8 gets the provider's own JSON 404, not the path
/// extractor's plain-text 400.
#[tokio::test]
async fn a_path_that_is_not_utf8_is_the_providers_own_not_found() {
    let tw = Tw::new().await;
    for path in ["/Services/%FF", "/Services/VA%C3%28/Verifications"] {
        let (status, body) = tw.get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["status"], 404, "{path}: {body}");
        assert!(body["code"].is_number(), "{path}: {body}");
    }
}

/// The SIDs of a list page's services.
fn page_sids(page: &Value) -> Vec<String> {
    page["services"]
        .as_array()
        .expect("a services array")
        .iter()
        .map(|s| s["sid"].as_str().expect("a sid").to_owned())
        .collect()
}

#[tokio::test]
async fn services_are_listed_in_pages_with_twilios_meta() {
    let tw = Tw::new().await;
    let mut expected = vec![TWILIO_SERVICE_SID.to_owned()];
    for name in ["a", "b", "c", "d"] {
        expected.push(tw.create_service(name).await);
    }
    expected.sort();

    // Twilio's default page size holds them all.
    let (status, all) = tw.get("/Services").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(page_sids(&all), expected, "listed by SID");
    assert_eq!(all["meta"]["page_size"], 50);
    assert_eq!(all["meta"]["next_page_url"], Value::Null);
    let (_, fetched) = tw.get(&format!("/Services/{}", expected[0])).await;
    assert_eq!(all["services"][0], fetched, "the same resource as a fetch");

    // Pages of two, followed by their next_page_url to the end.
    let (status, first) = tw.get("/Services?PageSize=2").await;
    assert_eq!(status, 200, "{first}");
    let meta = &first["meta"];
    assert_eq!(
        keys(meta),
        [
            "first_page_url",
            "key",
            "next_page_url",
            "page",
            "page_size",
            "previous_page_url",
            "url"
        ]
    );
    assert_eq!(
        (meta["page"].as_u64(), meta["page_size"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(meta["key"], "services");
    assert_eq!(
        meta["first_page_url"],
        tw.url("/Services?PageSize=2&Page=0")
    );
    assert_eq!(meta["url"], meta["first_page_url"]);
    assert_eq!(meta["previous_page_url"], Value::Null);
    assert_eq!(
        meta["next_page_url"],
        tw.url(&format!(
            "/Services?PageSize=2&Page=1&PageToken=PA{}",
            expected[1]
        ))
    );
    let mut pages = vec![first];
    while let Some(next) = pages.last().unwrap()["meta"]["next_page_url"].as_str() {
        let (status, page) = tw.get_absolute(next).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["meta"]["url"], next);
        pages.push(page);
        assert!(pages.len() <= 3, "three pages of 2, 2 and 1");
    }
    assert_eq!(pages.len(), 3);
    let listed: Vec<String> = pages.iter().flat_map(page_sids).collect();
    assert_eq!(listed, expected);
    assert_eq!(pages[2]["meta"]["page"], 2);
    // Back from the last page with its previous_page_url.
    let previous = pages[2]["meta"]["previous_page_url"].as_str().unwrap();
    assert_eq!(
        previous,
        tw.url(&format!(
            "/Services?PageSize=2&Page=1&PageToken=PB{}",
            expected[4]
        ))
    );
    let (status, back) = tw.get_absolute(previous).await;
    assert_eq!(status, 200);
    assert_eq!(page_sids(&back), page_sids(&pages[1]));

    // A service deleted between two pages does not move the next one.
    let next = pages[0]["meta"]["next_page_url"].as_str().unwrap();
    assert_eq!(
        tw.delete(&format!("/Services/{}", expected[1])).await.0,
        204
    );
    let (_, after_delete) = tw.get_absolute(next).await;
    assert_eq!(page_sids(&after_delete), expected[2..4]);

    for (query, message) in [
        ("PageSize=0", "Invalid parameter `PageSize`: 0"),
        ("PageSize=1001", "Invalid parameter `PageSize`: 1001"),
        ("PageSize=two", "Invalid parameter `PageSize`: two"),
        ("Page=-1", "Invalid parameter `Page`: -1"),
        ("PageToken=nope", "Invalid parameter `PageToken`: nope"),
    ] {
        assert_eq!(
            tw.get(&format!("/Services?{query}")).await,
            (400, error(60200, 400, message)),
            "{query}"
        );
    }
    let (status, _) = send(
        tw.http
            .get(tw.url("/Services"))
            .basic_auth(TWILIO_ACCOUNT_SID, Some("wrong-token")),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn services_are_updated_then_deleted_with_their_verifications() {
    let tw = Tw::new().await;
    let sid = tw.create_service("Shop").await;
    let path = format!("/Services/{sid}");
    let (status, updated) = tw
        .post(
            &path,
            &[
                ("FriendlyName", "Shop 2"),
                ("CodeLength", "4"),
                ("LookupEnabled", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["friendly_name"], "Shop 2");
    assert_eq!(updated["code_length"], 4);
    assert_eq!(updated["lookup_enabled"], true);
    assert_eq!(updated["custom_code_enabled"], false, "unchanged");
    assert!(is_twilio_date(updated["date_updated"].as_str().unwrap()));
    assert_eq!(tw.get(&path).await, (200, updated.clone()));
    // Its codes now have the new length.
    let (status, started) = tw
        .post(
            &format!("{path}/Verifications"),
            &[("To", PHONE), ("Channel", "sms")],
        )
        .await;
    assert_eq!(status, 201, "{started}");
    assert_eq!(tw.code(PHONE).len(), 4);

    // An invalid setting changes nothing, not even the valid ones beside it.
    assert_eq!(
        tw.post(&path, &[("FriendlyName", "Shop 3"), ("CodeLength", "11")])
            .await,
        (400, error(60200, 400, "Invalid parameter `CodeLength`: 11"))
    );
    assert_eq!(tw.get(&path).await, (200, updated));
    let unknown = "VAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    let not_found = |sid: &str| {
        (
            404,
            error(
                20404,
                404,
                &format!("The requested resource /v2/Services/{sid} was not found"),
            ),
        )
    };
    assert_eq!(
        tw.post(&format!("/Services/{unknown}"), &[("CodeLength", "5")])
            .await,
        not_found(unknown)
    );

    // Unauthenticated: refused, and the service stays.
    let response = tw
        .http
        .delete(tw.url(&path))
        .basic_auth(TWILIO_ACCOUNT_SID, Some("wrong-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(tw.get(&path).await.0, 200);

    // 204 without a body; then the service and its verification are gone.
    assert_eq!(tw.delete(&path).await, (204, String::new()));
    assert_eq!(tw.get(&path).await, not_found(&sid));
    let verification = started["sid"].as_str().unwrap();
    assert_eq!(
        tw.get(&format!("{path}/Verifications/{verification}"))
            .await
            .0,
        404
    );
    assert_eq!(
        tw.post(&path, &[("CodeLength", "5")]).await,
        not_found(&sid)
    );
    let (status, body) = tw.delete(&path).await;
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        not_found(&sid).1
    );
    let (_, list) = tw.get("/Services").await;
    assert_eq!(page_sids(&list), [TWILIO_SERVICE_SID]);
    let log = tw.sb.requests_of(Provider::Twilio);
    assert_eq!(log.counts[&format!("DELETE /v2/Services/{sid}")], 3);
}

#[tokio::test]
async fn the_default_service_can_be_updated_and_deleted_until_a_reset() {
    let tw = Tw::new().await;
    let path = format!("/Services/{TWILIO_SERVICE_SID}");
    let (status, updated) = tw.post(&path, &[("CodeLength", "8")]).await;
    assert_eq!((status, updated["code_length"].as_u64()), (200, Some(8)));
    assert_eq!(tw.start(PHONE).await.0, 201);
    assert_eq!(tw.code(PHONE).len(), 8);
    assert_eq!(tw.delete(&path).await.0, 204);
    assert_eq!(tw.get(&path).await.0, 404);
    assert_eq!(tw.start(PHONE).await.0, 404);
    let (_, list) = tw.get("/Services").await;
    assert_eq!(page_sids(&list), Vec::<String>::new());
    assert_eq!(list["meta"]["next_page_url"], Value::Null);
    tw.sb.reset();
    let (status, default) = tw.get(&path).await;
    assert_eq!((status, default["code_length"].as_u64()), (200, Some(6)));
}

#[tokio::test]
async fn a_psd2_verification_is_bound_to_its_amount_and_payee() {
    let tw = Tw::new().await;
    let (_, psd2) = tw
        .post(
            "/Services",
            &[("FriendlyName", "Bank"), ("Psd2Enabled", "true")],
        )
        .await;
    let service = psd2["sid"].as_str().unwrap();
    let verifications = format!("/Services/{service}/Verifications");
    let checks = format!("/Services/{service}/VerificationCheck");
    let required = error(60206, 400, "'Amount' & 'Payee' params are required");
    for partial in [
        vec![("To", PHONE), ("Channel", "sms")],
        vec![("To", PHONE), ("Channel", "sms"), ("Amount", "€39.99")],
        vec![("To", PHONE), ("Channel", "sms"), ("Payee", "Acme Inc.")],
    ] {
        assert_eq!(
            tw.post(&verifications, &partial).await,
            (400, required.clone()),
            "{partial:?}"
        );
    }
    assert!(tw.sb.all_messages().is_empty(), "nothing was sent");

    let transaction = |amount| {
        vec![
            ("To", PHONE),
            ("Channel", "sms"),
            ("Amount", amount),
            ("Payee", "Acme Inc."),
        ]
    };
    let (status, started) = tw.post(&verifications, &transaction("€39.99")).await;
    assert_eq!(status, 201, "{started}");
    let sid = started["sid"].as_str().unwrap().to_owned();
    let code = tw.code(PHONE);
    // The right code without the transaction, or half of it, is refused before it counts.
    for partial in [
        vec![],
        vec![("Amount", "€39.99")],
        vec![("Payee", "Acme Inc.")],
    ] {
        let mut form = vec![("VerificationSid", sid.as_str()), ("Code", code.as_str())];
        form.extend(partial.iter().copied());
        assert_eq!(
            tw.post(&checks, &form).await,
            (400, required.clone()),
            "{partial:?}"
        );
    }
    // The right code for another transaction is a wrong code.
    for other in [
        vec![("Amount", "€40.00"), ("Payee", "Acme Inc.")],
        vec![("Amount", "€39.99"), ("Payee", "Mallory Ltd.")],
    ] {
        let mut form = vec![("VerificationSid", sid.as_str()), ("Code", code.as_str())];
        form.extend(other.iter().copied());
        let (status, checked) = tw.post(&checks, &form).await;
        assert_eq!(
            (
                status,
                checked["status"].as_str(),
                checked["valid"].as_bool()
            ),
            (200, Some("pending"), Some(false)),
            "{other:?}"
        );
    }
    // The same transaction again is a resend; another amount is a new verification.
    let (_, resent) = tw.post(&verifications, &transaction("€39.99")).await;
    assert_eq!(resent["sid"], sid.as_str());
    let (status, other) = tw.post(&verifications, &transaction("€99.00")).await;
    assert_eq!(status, 201, "{other}");
    assert_ne!(other["sid"], sid.as_str(), "a new verification");
    assert_eq!(other["amount"], "€99.00");
    let form = [
        ("VerificationSid", sid.as_str()),
        ("Code", code.as_str()),
        ("Amount", "€39.99"),
        ("Payee", "Acme Inc."),
    ];
    let (status, checked) = tw.post(&checks, &form).await;
    assert_eq!(
        (
            status,
            checked["status"].as_str(),
            checked["amount"].as_str()
        ),
        (200, Some("approved"), Some("€39.99")),
        "{checked}"
    );
}

#[tokio::test]
async fn a_psd2_check_without_amount_and_payee_answers_60206_and_uses_no_attempt() {
    let tw = Tw::new().await;
    let (_, psd2) = tw
        .post(
            "/Services",
            &[("FriendlyName", "Bank"), ("Psd2Enabled", "true")],
        )
        .await;
    let service = psd2["sid"].as_str().unwrap();
    let (status, started) = tw
        .post(
            &format!("/Services/{service}/Verifications"),
            &[
                ("To", PHONE),
                ("Channel", "sms"),
                ("Amount", "€39.99"),
                ("Payee", "Acme Inc."),
            ],
        )
        .await;
    assert_eq!(status, 201, "{started}");
    let sid = started["sid"].as_str().unwrap();
    let code = tw.code(PHONE);
    let checks = format!("/Services/{service}/VerificationCheck");
    // As many as the attempt limit: counted, the last would lock the verification.
    for _ in 0..5 {
        assert_eq!(
            tw.post(&checks, &[("VerificationSid", sid), ("Code", &code)])
                .await,
            (
                400,
                error(60206, 400, "'Amount' & 'Payee' params are required")
            )
        );
    }
    let form = [
        ("VerificationSid", sid),
        ("Code", code.as_str()),
        ("Amount", "€39.99"),
        ("Payee", "Acme Inc."),
    ];
    let (status, checked) = tw.post(&checks, &form).await;
    assert_eq!(
        (
            status,
            checked["status"].as_str(),
            checked["valid"].as_bool()
        ),
        (200, Some("approved"), Some(true)),
        "{checked}"
    );
}

#[tokio::test]
async fn a_check_with_amount_or_payee_on_a_service_without_psd2_answers_60200() {
    let tw = Tw::new().await;
    let (status, started) = tw.start(PHONE).await;
    assert_eq!(status, 201, "{started}");
    let sid = started["sid"].as_str().unwrap();
    let code = tw.code(PHONE);
    let checks = format!("/Services/{TWILIO_SERVICE_SID}/VerificationCheck");
    for (transaction, name) in [
        (vec![("Amount", "€39.99"), ("Payee", "Acme Inc.")], "Amount"),
        (vec![("Amount", "€39.99")], "Amount"),
        (vec![("Payee", "Acme Inc.")], "Payee"),
    ] {
        let mut form = vec![("VerificationSid", sid), ("Code", code.as_str())];
        form.extend(transaction.iter().copied());
        assert_eq!(
            tw.post(&checks, &form).await,
            (
                400,
                error(60200, 400, &format!("Invalid parameter: {name}"))
            ),
            "{transaction:?}"
        );
    }
    let (status, checked) = tw.check_sid(sid, &code).await;
    assert_eq!(
        (status, checked["status"].as_str()),
        (200, Some("approved")),
        "not consumed: {checked}"
    );
}

#[tokio::test]
async fn stored_text_parameters_and_e_mail_addresses_are_bounded() {
    let tw = Tw::new().await;
    let long_email = format!("{}@example.com", "a".repeat(288));
    let long_text = "n".repeat(257);
    let verifications = format!("/Services/{TWILIO_SERVICE_SID}/Verifications");
    assert_eq!(
        tw.post(&verifications, &[("To", &long_email), ("Channel", "email")])
            .await,
        (
            400,
            error(60200, 400, &format!("Invalid parameter `To`: {long_email}"))
        )
    );
    assert_eq!(
        tw.post(
            "/Services",
            &[("FriendlyName", "Long"), ("TtsName", &long_text)]
        )
        .await,
        (400, error(60200, 400, "Invalid parameter: TtsName"))
    );
    assert_eq!(
        tw.post(
            &format!("/Services/{TWILIO_SERVICE_SID}"),
            &[("TtsName", &long_text)]
        )
        .await,
        (400, error(60200, 400, "Invalid parameter: TtsName"))
    );
    let (_, psd2) = tw
        .post(
            "/Services",
            &[("FriendlyName", "Bank"), ("Psd2Enabled", "true")],
        )
        .await;
    let psd2 = format!("/Services/{}/Verifications", psd2["sid"].as_str().unwrap());
    for (amount, payee, name) in [
        (long_text.as_str(), "Acme Inc.", "Amount"),
        ("€39.99", long_text.as_str(), "Payee"),
    ] {
        assert_eq!(
            tw.post(
                &psd2,
                &[
                    ("To", PHONE),
                    ("Channel", "sms"),
                    ("Amount", amount),
                    ("Payee", payee)
                ]
            )
            .await,
            (
                400,
                error(60200, 400, &format!("Invalid parameter: {name}"))
            )
        );
    }
    assert!(tw.sb.all_messages().is_empty(), "nothing was sent");
    let (status, _) = tw
        .post(
            "/Services",
            &[("FriendlyName", "Fits"), ("TtsName", &"n".repeat(256))],
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn the_newest_verification_of_a_number_is_forgotten_no_sooner_than_it() {
    let tw = Tw::with(SandboxConfig {
        records_capacity: 3,
        ..SandboxConfig::seeded(5)
    })
    .await;
    let [a, b, c, d] = [PHONE, "+905321234567", "+573001234567", "+34612345678"];
    let mut first = String::new();
    for to in [a, b, c] {
        let (status, started) = tw.start(to).await;
        assert_eq!(status, 201, "{started}");
        if to == a {
            first = started["sid"].as_str().unwrap().to_owned();
        }
    }
    let cancel = format!("/Services/{TWILIO_SERVICE_SID}/Verifications/{first}");
    assert_eq!(tw.post(&cancel, &[("Status", "canceled")]).await.0, 200);
    let (_, second) = tw.start(a).await;
    assert_eq!(tw.start(d).await.0, 201);
    // The second verification of `a` is still its newest: starting again resends it.
    let (status, again) = tw.start(a).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(
        again["sid"], second["sid"],
        "a resend, not a second pending code"
    );
    let (status, checked) = tw
        .post(
            &format!("/Services/{TWILIO_SERVICE_SID}/VerificationCheck"),
            &[("To", a), ("Code", &tw.code(a))],
        )
        .await;
    assert_eq!((status, checked["valid"].as_bool()), (200, Some(true)));
}

#[tokio::test]
async fn a_huge_host_is_never_repeated_in_urls() {
    use base64::Engine as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let tw = Tw::new().await;
    let credentials = base64::engine::general_purpose::STANDARD
        .encode(format!("{TWILIO_ACCOUNT_SID}:{TWILIO_AUTH_TOKEN}"));
    let host = "h".repeat(100_000);
    let mut stream = tokio::net::TcpStream::connect(tw.sb.addr()).await.unwrap();
    let head = format!(
        "GET /twilio/v2/Services HTTP/1.1\r\nhost: {host}\r\nauthorization: Basic {credentials}\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{:?}", &answer[..20]);
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let body = &answer[split + 4..];
    assert!(body.len() < 20_000, "{} bytes", body.len());
    let listed: Value = serde_json::from_slice(body).unwrap();
    let url = listed["services"][0]["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://verify.twilio.com/v2/Services/"),
        "{url}"
    );
    let page = listed["meta"]["url"].as_str().unwrap();
    assert!(
        page.starts_with("https://verify.twilio.com/v2/Services?"),
        "{page}"
    );
    // A usable host still names the sandbox.
    let (status, listed) = tw.get("/Services").await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(
        listed["services"][0]["url"],
        format!("{}/Services/{TWILIO_SERVICE_SID}", tw.sb.twilio_url())
    );
}

#[tokio::test]
async fn every_answer_carries_a_twilio_request_id() {
    let tw = Tw::new().await;
    let auth = |request: reqwest::RequestBuilder| {
        request.basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
    };
    let verifications = tw.url(&format!("/Services/{TWILIO_SERVICE_SID}/Verifications"));
    tw.sb.inject_fault(
        Fault::new(
            Provider::Twilio,
            FaultAction::RateLimited {
                retry_after_secs: 1,
            },
        )
        .path("/v2/Services"),
    );
    let requests = [
        (auth(tw.http.get(tw.url("/Services"))), 429),
        (
            auth(tw.http.post(&verifications)).form(&[("To", PHONE), ("Channel", "sms")]),
            201,
        ),
        (
            auth(
                tw.http
                    .get(tw.url(&format!("/Services/{TWILIO_SERVICE_SID}"))),
            ),
            200,
        ),
        (
            auth(tw.http.get(format!(
                "{verifications}/VE00000000000000000000000000000000"
            ))),
            404,
        ),
        (tw.http.get(tw.url("/Services")), 401),
        (auth(tw.http.post(&verifications)).form(&[("To", "x")]), 400),
        (auth(tw.http.get(tw.url("/nowhere"))), 404),
        (auth(tw.http.put(tw.url("/Services"))), 405),
    ];
    let mut seen = std::collections::HashSet::new();
    for (request, expected) in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "{}", response.url());
        let id = response.headers()["twilio-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            id.len() == 34
                && id.starts_with("RQ")
                && id[2..]
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{id}"
        );
        assert!(seen.insert(id), "a new id for every answer");
    }
    // A `respond` fault's answer is exactly its own.
    tw.sb.inject_fault(Fault::new(
        Provider::Twilio,
        FaultAction::Respond {
            status: 500,
            headers: Vec::new(),
            body: "{}".into(),
        },
    ));
    let verbatim = auth(tw.http.get(tw.url("/Services"))).send().await.unwrap();
    assert_eq!(verbatim.status().as_u16(), 500);
    assert!(!verbatim.headers().contains_key("twilio-request-id"));
}

impl Tw {
    /// `GET /Attempts` with `query` (encoded), authenticated.
    async fn attempts(&self, query: &[(&str, &str)]) -> (u16, Value) {
        send(
            self.http
                .get(self.url("/Attempts"))
                .query(query)
                .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN)),
        )
        .await
    }

    /// The SIDs of the attempts `query` lists (one page, which must be the only one).
    async fn attempt_sids(&self, query: &[(&str, &str)]) -> Vec<String> {
        let (status, page) = self.attempts(query).await;
        assert_eq!(status, 200, "{query:?}: {page}");
        assert_eq!(page["meta"]["next_page_url"], Value::Null, "{query:?}");
        attempt_sids(&page)
    }
}

/// The SIDs of a list page's attempts.
fn attempt_sids(page: &Value) -> Vec<String> {
    page["attempts"]
        .as_array()
        .expect("an attempts array")
        .iter()
        .map(|a| a["sid"].as_str().expect("a sid").to_owned())
        .collect()
}

/// The `attempt_sid`s of a Verification's `send_code_attempts`, newest first.
fn sent_attempts(verification: &Value) -> Vec<String> {
    let mut sids: Vec<String> = verification["send_code_attempts"]
        .as_array()
        .expect("send_code_attempts")
        .iter()
        .map(|a| {
            a["attempt_sid"]
                .as_str()
                .expect("an attempt_sid")
                .to_owned()
        })
        .collect();
    sids.reverse();
    sids
}

#[tokio::test]
async fn attempts_of_a_verification_read_converted_once_it_is_approved() {
    let tw = Tw::new().await;
    let (_, started) = tw.start(PHONE).await;
    let sid = started["sid"].as_str().unwrap().to_owned();
    let by_sid = [("VerificationSid", sid.as_str())];
    let (status, listed) = tw.attempts(&by_sid).await;
    assert_eq!(status, 200, "{listed}");
    let first = &listed["attempts"][0];
    assert_eq!(attempt_sids(&listed), sent_attempts(&started));
    assert_eq!(
        keys(first),
        [
            "account_sid",
            "channel",
            "channel_data",
            "conversion_status",
            "date_created",
            "date_updated",
            "price",
            "service_sid",
            "sid",
            "url",
            "verification_sid"
        ]
    );
    let attempt_sid = first["sid"].as_str().unwrap();
    assert!(is_sid(attempt_sid, "VL"), "{attempt_sid}");
    assert_eq!(first["account_sid"], TWILIO_ACCOUNT_SID);
    assert_eq!(first["service_sid"], TWILIO_SERVICE_SID);
    assert_eq!(first["verification_sid"], sid);
    assert_eq!(first["conversion_status"], "unconverted");
    assert_eq!(first["channel"], "sms");
    assert_eq!(
        first["channel_data"],
        json!({"to": PHONE, "status": "delivered"})
    );
    assert_eq!(first["price"], Value::Null);
    assert_eq!(
        first["date_created"],
        started["send_code_attempts"][0]["time"]
    );
    assert_eq!(first["date_updated"], first["date_created"]);
    assert_eq!(first["url"], tw.url(&format!("/Attempts/{attempt_sid}")));
    assert_eq!(
        tw.get(&format!("/Attempts/{attempt_sid}")).await,
        (200, first.clone()),
        "a fetch answers the listed resource"
    );

    // A resend is a second attempt, listed first.
    tw.sb.advance_clock(Duration::from_secs(60));
    let (status, resent) = tw
        .post(
            &format!("/Services/{TWILIO_SERVICE_SID}/Verifications"),
            &[("To", PHONE), ("Channel", "call")],
        )
        .await;
    assert_eq!((status, &resent["sid"]), (201, &started["sid"]));
    let (_, listed) = tw.attempts(&by_sid).await;
    assert_eq!(attempt_sids(&listed), sent_attempts(&resent));
    assert_eq!(listed["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(listed["attempts"][0]["channel"], "call");
    assert_eq!(listed["attempts"][1], first.clone());

    // Approved by its code: every attempt converted, updated at the approval.
    tw.sb.advance_clock(Duration::from_secs(60));
    let (status, checked) = tw.check_sid(&sid, &tw.code(PHONE)).await;
    assert_eq!(
        (status, checked["status"].as_str()),
        (200, Some("approved"))
    );
    assert_eq!(tw.fetch(&sid).await.0, 404, "gone for the API");
    let (_, listed) = tw.attempts(&by_sid).await;
    for attempt in listed["attempts"].as_array().unwrap() {
        assert_eq!(attempt["conversion_status"], "converted", "{attempt}");
        assert_eq!(
            attempt["date_updated"], checked["date_updated"],
            "{attempt}"
        );
        assert_ne!(attempt["date_created"], attempt["date_updated"]);
    }
    let (_, fetched) = tw.get(&format!("/Attempts/{attempt_sid}")).await;
    assert_eq!(fetched["conversion_status"], "converted");
}

#[tokio::test]
async fn attempts_of_a_verification_approved_by_an_update_read_converted() {
    let tw = Tw::new().await;
    let (_, approved) = tw.start(PHONE).await;
    let (_, canceled) = tw.start(LANDLINE).await;
    let path = |sid: &Value| {
        format!(
            "/Services/{TWILIO_SERVICE_SID}/Verifications/{}",
            sid.as_str().unwrap()
        )
    };
    tw.sb.advance_clock(Duration::from_secs(60));
    let (status, updated) = tw
        .post(&path(&approved["sid"]), &[("Status", "approved")])
        .await;
    assert_eq!(status, 200, "{updated}");
    let canceling = tw
        .post(&path(&canceled["sid"]), &[("Status", "canceled")])
        .await;
    assert_eq!(canceling.0, 200);
    let (_, listed) = tw.attempts(&[]).await;
    let by_verification = |sid: &Value| {
        listed["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["verification_sid"] == *sid)
            .unwrap()
            .clone()
    };
    let converted = by_verification(&approved["sid"]);
    assert_eq!(converted["conversion_status"], "converted");
    assert_eq!(converted["date_updated"], updated["date_updated"]);
    let unconverted = by_verification(&canceled["sid"]);
    assert_eq!(unconverted["conversion_status"], "unconverted");
    assert_eq!(unconverted["date_updated"], unconverted["date_created"]);
}

#[tokio::test]
async fn attempts_are_filtered_by_every_documented_filter() {
    let tw = Tw::new().await;
    let service = tw.create_service("Other").await;
    let turkish = "+905321234567";
    let (_, sms) = tw.start(PHONE).await;
    tw.sb.advance_clock(Duration::from_secs(60));
    let (status, whatsapp) = tw
        .post(
            &format!("/Services/{service}/Verifications"),
            &[("To", turkish), ("Channel", "whatsapp")],
        )
        .await;
    assert_eq!(status, 201, "{whatsapp}");
    tw.sb.advance_clock(Duration::from_secs(60));
    let (_, email) = tw
        .post(
            &format!("/Services/{TWILIO_SERVICE_SID}/Verifications"),
            &[("To", "ada@example.com"), ("Channel", "email")],
        )
        .await;
    let (status, _) = tw
        .check_sid(sms["sid"].as_str().unwrap(), &tw.code(PHONE))
        .await;
    assert_eq!(status, 200);
    let attempt = |verification: &Value| sent_attempts(verification)[0].clone();
    let owned = [attempt(&sms), attempt(&whatsapp), attempt(&email)];
    let [sms, whatsapp, email] = [&owned[0], &owned[1], &owned[2]].map(String::as_str);

    // Newest first.
    assert_eq!(tw.attempt_sids(&[]).await, [email, whatsapp, sms]);
    let (_, listed) = tw.attempts(&[]).await;
    let verification_sid = listed["attempts"][1]["verification_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    for (query, expected) in [
        (
            vec![("VerificationSid", verification_sid.as_str())],
            vec![whatsapp],
        ),
        (vec![("VerifyServiceSid", service.as_str())], vec![whatsapp]),
        (
            vec![("VerifyServiceSid", TWILIO_SERVICE_SID)],
            vec![email, sms],
        ),
        (vec![("Status", "converted")], vec![sms]),
        (vec![("Status", "CONVERTED")], vec![sms]),
        (vec![("Status", "unconverted")], vec![email, whatsapp]),
        (vec![("Status", "UNCONVERTED")], vec![email, whatsapp]),
        (vec![("Channel", "whatsapp")], vec![whatsapp]),
        (vec![("Channel", "email")], vec![email]),
        (vec![("Channel", "call")], Vec::<&str>::new()),
        (vec![("Channel", "rbm")], Vec::<&str>::new()),
        (vec![("ChannelData.To", turkish)], vec![whatsapp]),
        (vec![("ChannelData.To", PHONE)], vec![sms]),
        (vec![("Country", "TR")], vec![whatsapp]),
        (vec![("Country", "us")], vec![sms]),
        (vec![("Country", "GB")], Vec::<&str>::new()),
        (
            vec![("Status", "unconverted"), ("Channel", "email")],
            vec![email],
        ),
        (vec![("VerificationSid", "")], vec![email, whatsapp, sms]),
    ] {
        assert_eq!(tw.attempt_sids(&query).await, expected, "{query:?}");
    }

    // Dates: created at or after `DateCreatedAfter`, before `DateCreatedBefore`.
    let created = |i: usize| {
        listed["attempts"][i]["date_created"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (newest, middle) = (created(0), created(1));
    assert_eq!(
        tw.attempt_sids(&[("DateCreatedAfter", &middle)]).await,
        [email, whatsapp]
    );
    assert_eq!(
        tw.attempt_sids(&[("DateCreatedAfter", &newest)]).await,
        [email]
    );
    assert_eq!(
        tw.attempt_sids(&[("DateCreatedBefore", &middle)]).await,
        [sms]
    );
    assert_eq!(
        tw.attempt_sids(&[
            ("DateCreatedAfter", &middle),
            ("DateCreatedBefore", &newest)
        ])
        .await,
        [whatsapp]
    );
}

#[tokio::test]
async fn attempts_are_listed_in_pages_with_the_filters_repeated() {
    let tw = Tw::new().await;
    let mut expected = Vec::new();
    for to in [
        PHONE,
        "+905321234567",
        "+573001234567",
        "+34612345678",
        LANDLINE,
    ] {
        let (status, started) = tw.start(to).await;
        assert_eq!(status, 201, "{started}");
        expected.extend(sent_attempts(&started));
        tw.sb.advance_clock(Duration::from_secs(1));
    }
    expected.reverse();
    let query = [("Channel", "sms"), ("PageSize", "2")];
    let (status, first) = tw.attempts(&query).await;
    assert_eq!(status, 200, "{first}");
    let meta = &first["meta"];
    assert_eq!(meta["key"], "attempts");
    assert_eq!(meta["page_size"], 2);
    assert_eq!(
        meta["first_page_url"],
        tw.url("/Attempts?Channel=sms&PageSize=2&Page=0")
    );
    assert_eq!(meta["url"], meta["first_page_url"]);
    assert_eq!(meta["previous_page_url"], Value::Null);
    let mut pages = vec![first];
    while let Some(next) = pages.last().unwrap()["meta"]["next_page_url"].as_str() {
        assert!(next.contains("Channel=sms&PageSize=2&"), "{next}");
        let (status, page) = tw.get_absolute(next).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["meta"]["url"], next);
        pages.push(page);
        assert!(pages.len() <= 3, "three pages of 2, 2 and 1");
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[2]["meta"]["page"], 2);
    let listed: Vec<String> = pages.iter().flat_map(attempt_sids).collect();
    assert_eq!(listed, expected);
    let previous = pages[2]["meta"]["previous_page_url"].as_str().unwrap();
    let (_, back) = tw.get_absolute(previous).await;
    assert_eq!(attempt_sids(&back), attempt_sids(&pages[1]));
    // `Page` alone is an offset.
    let (_, third) = tw.attempts(&[("PageSize", "2"), ("Page", "2")]).await;
    assert_eq!(attempt_sids(&third), expected[4..]);
    // An E.164 filter is encoded in the page URLs.
    let (_, by_to) = tw
        .attempts(&[("ChannelData.To", PHONE), ("PageSize", "1")])
        .await;
    assert_eq!(
        by_to["meta"]["url"],
        tw.url("/Attempts?ChannelData.To=%2B15017122661&PageSize=1&Page=0")
    );
}

#[tokio::test]
async fn attempts_answer_60200_20003_and_20404_as_twilio_does() {
    let tw = Tw::new().await;
    let (_, started) = tw.start(PHONE).await;
    let attempt = sent_attempts(&started)[0].clone();
    for (key, bad) in [
        ("VerificationSid", "VE123"),
        ("VerificationSid", attempt.as_str()),
        ("VerifyServiceSid", "VAnothexnothexnothexnothexnothexno"),
        ("Status", "approved"),
        ("Channel", "telegram"),
        ("ChannelData.To", "15017122661"),
        ("ChannelData.To", " 15017122661"),
        ("Country", "USA"),
        ("DateCreatedAfter", "2024-01-01"),
        ("DateCreatedBefore", "2024-01-01T00:00:00+00:00"),
        ("PageSize", "0"),
        ("PageSize", "1001"),
        ("Page", "-1"),
        ("PageToken", "nope"),
        ("PageToken", "PAVA0123456789abcdef0123456789abcdef1"),
    ] {
        // A `+` the client did not encode reads as a space, which is trimmed.
        let message = format!("Invalid parameter `{key}`: {}", bad.trim());
        assert_eq!(
            tw.attempts(&[(key, bad)]).await,
            (400, error(60200, 400, &message)),
            "{key}={bad}"
        );
    }
    for path in ["/Attempts".to_owned(), format!("/Attempts/{attempt}")] {
        let response = tw.http.get(tw.url(&path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{path}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"Twilio API\""
        );
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            error(20003, 401, "Authenticate")
        );
    }
    for unknown in ["VLbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "VL123", "nope"] {
        assert_eq!(
            tw.get(&format!("/Attempts/{unknown}")).await,
            (
                404,
                error(
                    20404,
                    404,
                    &format!("The requested resource /v2/Attempts/{unknown} was not found")
                )
            ),
            "{unknown}"
        );
    }
    let log = tw.sb.requests_of(Provider::Twilio);
    assert_eq!(
        log.counts["GET /v2/Attempts"], 16,
        "15 malformed, 1 unauthenticated"
    );
    assert_eq!(log.counts[&format!("GET /v2/Attempts/{attempt}")], 1);
}

#[tokio::test]
async fn attempts_outlive_their_verification_and_service_but_not_the_records_bound() {
    let tw = Tw::with(SandboxConfig {
        records_capacity: 2,
        ..SandboxConfig::seeded(5)
    })
    .await;
    let service = tw.create_service("Shop").await;
    let (status, started) = tw
        .post(
            &format!("/Services/{service}/Verifications"),
            &[("To", PHONE), ("Channel", "sms")],
        )
        .await;
    assert_eq!(status, 201, "{started}");
    let first = sent_attempts(&started)[0].clone();
    assert_eq!(tw.delete(&format!("/Services/{service}")).await.0, 204);
    let (status, kept) = tw.get(&format!("/Attempts/{first}")).await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["service_sid"], service);
    assert_eq!(kept["conversion_status"], "unconverted");
    let verification = format!(
        "/Services/{service}/Verifications/{}",
        started["sid"].as_str().unwrap()
    );
    assert_eq!(
        tw.get(&verification).await.0,
        404,
        "its verification is gone, its record kept"
    );

    // Two more verifications: the first is forgotten with its attempt.
    let mut newer = Vec::new();
    for to in ["+905321234567", "+573001234567"] {
        tw.sb.advance_clock(Duration::from_secs(1));
        let (_, started) = tw.start(to).await;
        newer.extend(sent_attempts(&started));
    }
    newer.reverse();
    assert_eq!(tw.get(&format!("/Attempts/{first}")).await.0, 404);
    assert_eq!(tw.attempt_sids(&[]).await, newer);

    tw.sb.reset();
    assert_eq!(tw.attempt_sids(&[]).await, Vec::<String>::new());
    assert_eq!(tw.get(&format!("/Attempts/{}", newer[0])).await.0, 404);
}

#[tokio::test]
async fn attempts_routes_take_faults_and_request_ids_as_the_others() {
    let tw = Tw::new().await;
    tw.sb.inject_fault(
        Fault::new(
            Provider::Twilio,
            FaultAction::RateLimited {
                retry_after_secs: 2,
            },
        )
        .path("/v2/Attempts"),
    );
    let response = tw
        .http
        .get(tw.url("/Attempts"))
        .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "2");
    assert!(response.headers().contains_key("twilio-request-id"));
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        error(20429, 429, "Too many requests")
    );
    let response = tw
        .http
        .get(tw.url("/Attempts"))
        .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "the fault was used once");
    assert!(response.headers().contains_key("twilio-request-id"));
    assert_eq!(
        send(
            tw.http
                .post(tw.url("/Attempts"))
                .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
        )
        .await,
        (405, error(20004, 405, "Method not allowed"))
    );
    let faults: Vec<Option<String>> = tw
        .sb
        .requests_of(Provider::Twilio)
        .requests
        .iter()
        .map(|r| r.fault.clone())
        .collect();
    assert_eq!(faults, [Some("rate_limited".to_owned()), None, None]);
}
