//! HTTP tests of the Verifik emulation: tokens, phone validations and every documented error.

mod common;

use std::time::Duration;

use common::{client, is_object_id, send, start_with};
use phone_verify_sandbox::{Channel, Provider, SandboxConfig, SandboxHandle};
use serde_json::{Value, json};

/// A sandbox plus a client that sends a bearer token.
struct Vf {
    sb: SandboxHandle,
    http: reqwest::Client,
    token: String,
}

impl Vf {
    async fn new() -> Self {
        Self::with(SandboxConfig::seeded(21)).await
    }

    async fn with(config: SandboxConfig) -> Self {
        Self {
            sb: start_with(config).await,
            http: client(),
            token: "sandbox-token".into(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sb.verifik_url())
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            rb = rb.json(&body);
        }
        send(rb).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn put(&self, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PUT, "/phone-validations", Some(body))
            .await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Sends `body` to `path` with `token` instead of the account token.
    async fn post_as(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        send(
            self.http
                .post(self.url(path))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    /// An app registration for `+57 national`; returns its `_id` and JWT.
    async fn register(&self, national: &str) -> (String, String) {
        let (status, body) = self
            .post(
                "/app-registrations",
                json!({"project": "507f1f77bcf86cd799439011", "projectFlow": "507f1f77bcf86cd799439015",
                       "fullName": "Ana Pérez", "phone": national, "countryCode": "+57", "language": "es"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let data = &body["data"];
        (
            data["_id"].as_str().unwrap().to_owned(),
            data["token"].as_str().unwrap().to_owned(),
        )
    }

    /// A manual WhatsApp validation for `+57 national`; returns its `_id` and code.
    async fn manual(&self, national: &str) -> (String, String) {
        let (status, body) = self
            .post(
                "/phone-validations/manual",
                json!({"phone": national, "countryCode": "+57", "phoneGateway": "whatsapp"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let code = self.sb.latest_code(&format!("+57{national}")).unwrap();
        (body["data"]["_id"].as_str().unwrap().to_owned(), code)
    }
}

/// Asserts Verifik's documented error shape `{"code": code, "message": message}`.
#[track_caller]
fn assert_vf_error(got: &(u16, Value), status: u16, code: &str, message: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1, json!({"code": code, "message": message}));
}

#[track_caller]
fn assert_reason(got: &(u16, Value), status: u16, reason: &str) {
    assert_vf_error(got, status, reason, &format!("{status}:{reason}"));
}

#[tokio::test]
async fn phone_login_and_confirm_issue_a_working_token() {
    let vf = Vf::new().await;
    let (status, body) = vf
        .post(
            "/projects/phone-login",
            json!({"countryCode": "+507", "phone": 62_647_737, "type": "login"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["status"], "sent");
    assert_eq!(data["type"], "login");
    assert_eq!(data["phone"], "62647737");
    assert_eq!(data["phoneGateway"], "whatsapp");
    assert!(is_object_id(data["_id"].as_str().unwrap()));
    assert!(data["otp"].as_str().unwrap().starts_with("$2a$10$"));
    assert!(data["expiresAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["signature"]["message"], "Certified by Verifik.co");
    assert!(body["id"].is_string());
    let message = &vf.sb.messages("+50762647737")[0];
    assert_eq!(
        (message.provider, message.channel),
        (Provider::Verifik, Channel::Whatsapp)
    );
    let code = message.code.clone().unwrap();
    assert_ne!(data["otp"], code.as_str(), "the code is never echoed");

    let confirm = |otp: &str| {
        vf.post(
            "/projects/phone-login/confirm",
            json!({"countryCode": "+507", "phone": 62_647_737, "otp": otp}),
        )
    };
    assert_vf_error(
        &confirm("000000x").await,
        400,
        "BadRequest",
        "Invalid OTP code.",
    );
    let (status, token) = confirm(&code).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["data"]["tokenType"], "bearer");
    let jwt = token["data"]["accessToken"].as_str().unwrap();
    assert_eq!(jwt.split('.').count(), 3);
    assert_vf_error(
        &confirm(&code).await,
        400,
        "BadRequest",
        "Invalid OTP code.",
    );

    let (status, _) = send(vf.http.get(vf.url("/phone-validations")).bearer_auth(jwt)).await;
    assert_eq!(status, 200, "issued tokens authorize requests");
}

#[tokio::test]
async fn phone_login_validates_its_input() {
    let vf = Vf::new().await;
    assert_vf_error(
        &vf.post("/projects/phone-login", json!({})).await,
        409,
        "MissingParameter",
        "missing countryCode\n. missing phone\n. missing type\n",
    );
    assert_vf_error(
        &vf.post(
            "/projects/phone-login",
            json!({"countryCode": "+1", "phone": "123", "type": "login"}),
        )
        .await,
        400,
        "BadRequest",
        "Invalid phone number format.",
    );
    assert_vf_error(
        &vf.post(
            "/projects/phone-login",
            json!({"countryCode": "57", "phone": "3211234567", "type": "login"}),
        )
        .await,
        409,
        "MissingParameter",
        "Invalid countryCode format. CountryCode should be in the format + followed by 1 to 3 digits.",
    );
    let (status, _) = vf
        .post(
            "/projects/phone-login",
            json!({"countryCode": "+57", "phone": "3211234567", "type": "validation"}),
        )
        .await;
    assert_eq!(status, 409);
    assert_vf_error(
        &vf.post(
            "/projects/phone-login/confirm",
            json!({"countryCode": "+57"}),
        )
        .await,
        409,
        "MissingParameter",
        "missing phone\n. missing otp\n",
    );
}

#[tokio::test]
async fn email_login_and_confirm() {
    let vf = Vf::new().await;
    let (status, body) = send(
        vf.http
            .post(vf.url("/projects/email-login?email=Ada@Example.com")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "sent");
    assert_eq!(body["data"]["email"], "ada@example.com");
    let mail = &vf.sb.messages("ada@example.com")[0];
    assert_eq!(mail.channel, Channel::Email);
    assert_eq!(mail.phone, None);
    let code = mail.code.clone().unwrap();

    let confirm = |otp: &str| {
        vf.post(
            "/projects/email-login/confirm",
            json!({"email": "ada@example.com", "otp": otp}),
        )
    };
    let (status, wrong) = confirm("x").await;
    assert_eq!(
        (status, wrong),
        (400, json!({"message": "invalid_otp", "code": "ERROR"}))
    );
    let (status, ok) = confirm(&code).await;
    assert_eq!(status, 200);
    assert!(ok["data"]["accessToken"].is_string());

    let (status, bad) = send(vf.http.post(vf.url("/projects/email-login?email=nobody"))).await;
    assert_eq!(
        (status, bad),
        (404, json!({"code": "NotFound", "message": "invalid_email"}))
    );
    assert_eq!(
        send(vf.http.post(vf.url("/projects/email-login"))).await.0,
        404
    );
    assert_eq!(
        vf.post("/projects/email-login/confirm", json!({})).await.0,
        409
    );
}

#[tokio::test]
async fn sessions_renew_and_renew_and_revoke_revokes_older_tokens() {
    let vf = Vf::new().await;
    let (status, renewed) = send(
        vf.http
            .get(vf.url("/auth/session?origin=refresh&expiresIn=120"))
            .header("Authorization", "sandbox-token"),
    )
    .await;
    assert_eq!(status, 200, "bare token accepted: {renewed}");
    assert_eq!(renewed["tokenType"], "bearer");
    let renewed = renewed["accessToken"].as_str().unwrap().to_owned();
    let (status, missing) = send(vf.http.get(vf.url("/auth/session"))).await;
    assert_eq!(
        (status, missing["message"].as_str()),
        (409, Some("missing Authorization header"))
    );
    let (status, _) = send(
        vf.http
            .get(vf.url("/auth/session"))
            .header("Authorization", "nope"),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = send(
        vf.http
            .get(vf.url("/auth/session?expiresIn=zero"))
            .bearer_auth("sandbox-token"),
    )
    .await;
    assert_eq!(status, 409);

    let (status, revoked) = send(
        vf.http
            .post(vf.url("/auth/renew-and-revoke"))
            .header("Authorization", renewed.as_str()),
    )
    .await;
    assert_eq!(status, 200);
    let newest = revoked["token"].as_str().unwrap();
    for old in ["sandbox-token", renewed.as_str()] {
        let got = send(vf.http.get(vf.url("/phone-validations")).bearer_auth(old)).await;
        assert_vf_error(&got, 401, "Unauthorized", "Invalid or expired token.");
    }
    assert_eq!(
        send(
            vf.http
                .get(vf.url("/phone-validations"))
                .bearer_auth(newest)
        )
        .await
        .0,
        200
    );
    vf.sb.advance_clock(Duration::from_secs(31 * 24 * 3600));
    assert_eq!(
        send(
            vf.http
                .get(vf.url("/phone-validations"))
                .bearer_auth(newest)
        )
        .await
        .0,
        401,
        "30-day tokens expire"
    );
    vf.sb.reset();
    assert_eq!(
        send(
            vf.http
                .get(vf.url("/phone-validations"))
                .bearer_auth("sandbox-token")
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn project_validation_create_then_validate() {
    let vf = Vf::new().await;
    let (status, created) = vf
        .post(
            "/phone-validations",
            json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode", "phone": "6264 7737",
                   "countryCode": "+507", "type": "validation", "requires2FA": true, "ipAddress": "192.0.2.1",
                   "redirectUrl": "https://example.com/done"}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let data = &created["data"];
    for (key, want) in [
        ("status", json!("sent")),
        ("phone", json!("62647737")),
        ("countryCode", json!("+507")),
        ("project", json!("507f1f77bcf86cd799439011")),
        ("phoneGateway", json!("whatsapp")),
        ("requires2FA", json!(true)),
        ("ipAddress", json!("192.0.2.1")),
        ("redirectUrl", json!("https://example.com/done")),
        ("type", json!("validation")),
        ("new", json!(true)),
        ("__v", json!(0)),
    ] {
        assert_eq!(data[key], want, "{key}");
    }
    let id = data["_id"].as_str().unwrap();
    assert!(is_object_id(id) && is_object_id(data["client"].as_str().unwrap()));
    let code = vf.sb.latest_code("+50762647737").unwrap();

    let body = |otp: Value| json!({"phone": "62647737", "countryCode": "+507", "otp": otp});
    assert_reason(
        &vf.put(body(json!("999999x"))).await,
        403,
        "otp_does_not_match",
    );
    // A number where that keeps every digit (a leading zero would be lost: see
    // `a_leading_zero_code_sent_as_a_number_is_refused`).
    let otp = if code.starts_with('0') {
        json!(code)
    } else {
        json!(code.parse::<u64>().unwrap())
    };
    let (status, ok) = vf.put(body(otp)).await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(
        ok["data"],
        json!({"_id": id, "status": "validated", "countryCode": "+507", "phone": "62647737", "type": "validation",
               "showFaceLivenessRecommendation": false})
    );
    assert_reason(
        &vf.put(body(json!(code))).await,
        409,
        "phone_validation_already_validated",
    );
    let (_, fetched) = vf.get(&format!("/phone-validations/{id}")).await;
    assert_eq!(fetched["data"]["status"], "validated");
    assert!(fetched["data"]["validatedAt"].is_string());
}

#[tokio::test]
async fn validate_reports_missing_parameters_and_unknown_numbers() {
    let vf = Vf::new().await;
    assert_vf_error(
        &vf.put(json!({})).await,
        409,
        "MissingParameter",
        "missing phone\n. missing countryCode\n. missing otp",
    );
    assert_vf_error(
        &vf.put(json!({"phone": "62647737"})).await,
        409,
        "MissingParameter",
        "missing countryCode\n. missing otp",
    );
    assert_vf_error(
        &vf.put(json!({"phone": "62647737", "countryCode": "507", "otp": 123_456}))
            .await,
        409,
        "MissingParameter",
        "Invalid countryCode format. CountryCode should be in the format + followed by 1 to 3 digits.",
    );
    assert_reason(
        &vf.put(json!({"phone": "62647737", "countryCode": "+507", "otp": 123_456}))
            .await,
        404,
        "phone_validation_not_found",
    );
    let bad_json = send(
        vf.http
            .put(vf.url("/phone-validations"))
            .bearer_auth("sandbox-token")
            .header("Content-Type", "application/json")
            .body("{oops"),
    )
    .await;
    assert_vf_error(
        &bad_json,
        409,
        "MissingParameter",
        "missing phone\n. missing countryCode\n. missing otp",
    );
}

#[tokio::test]
async fn codes_expire_after_ten_minutes_with_412() {
    let vf = Vf::new().await;
    let (_, code) = vf.manual("3211234567").await;
    vf.sb.advance_clock(Duration::from_secs(600));
    assert_reason(
        &vf.put(json!({"phone": "3211234567", "countryCode": "+57", "otp": code}))
            .await,
        412,
        "phoneValidation_has_expired",
    );
}

#[tokio::test]
async fn the_resend_cooldown_is_409_unless_forced_and_a_resend_replaces_the_code() {
    let vf = Vf::new().await;
    let (_, first_code) = vf.manual("3211234567").await;
    let again = json!({"phone": "3211234567", "countryCode": "+57", "phoneGateway": "whatsapp"});
    assert_reason(
        &vf.post("/phone-validations/manual", again.clone()).await,
        409,
        "otp_recently_sent",
    );
    let (status, _) = vf
        .post(
            "/phone-validations/manual",
            json!({"phone": "3211234567", "countryCode": "+57", "phoneGateway": "sms"}),
        )
        .await;
    assert_eq!(status, 200, "the cooldown is per gateway");
    let mut forced = again.clone();
    forced["force"] = json!(true);
    let (status, _) = vf.post("/phone-validations/manual", forced).await;
    assert_eq!(status, 200);
    let second_code = vf.sb.latest_code("+573211234567").unwrap();
    assert_ne!(first_code, second_code, "seeded codes differ");
    assert_reason(
        &vf.put(json!({"phone": "3211234567", "countryCode": "+57", "otp": first_code}))
            .await,
        403,
        "otp_does_not_match",
    );
    let (status, _) = vf
        .put(json!({"phone": "3211234567", "countryCode": "+57", "otp": second_code}))
        .await;
    assert_eq!(status, 200);
    vf.sb.advance_clock(Duration::from_secs(120));
    let (status, _) = vf.post("/phone-validations/manual", again).await;
    assert_eq!(status, 200, "the cooldown is over");
}

#[tokio::test]
async fn validate_takes_the_most_recent_sent_validation_that_has_not_expired() {
    let vf = Vf::new().await;
    let (first, first_code) = vf.manual("3211234567").await;
    let (status, resent) = vf
        .post(
            "/phone-validations/manual",
            json!({"phone": "3211234567", "countryCode": "+57", "phoneGateway": "whatsapp", "force": true}),
        )
        .await;
    assert_eq!(status, 200, "{resent}");
    let second = resent["data"]["_id"].as_str().unwrap().to_owned();
    let second_code = vf.sb.latest_code("+573211234567").unwrap();
    assert_ne!(first_code, second_code, "seeded codes differ");
    let body = |otp: &str| json!({"phone": "3211234567", "countryCode": "+57", "otp": otp});
    let (status, ok) = vf.put(body(&second_code)).await;
    assert_eq!((status, ok["data"]["_id"].as_str()), (200, Some(&*second)));
    // The newest is validated: the older one, still waiting for its code, is the one checked.
    assert_reason(&vf.put(body(&second_code)).await, 403, "otp_does_not_match");
    let (status, ok) = vf.put(body(&first_code)).await;
    assert_eq!((status, ok["data"]["_id"].as_str()), (200, Some(&*first)));
    // None waits for a code: the newest says why.
    assert_reason(
        &vf.put(body(&first_code)).await,
        409,
        "phone_validation_already_validated",
    );
}

#[tokio::test]
async fn only_the_manual_endpoint_has_a_resend_cooldown() {
    let vf = Vf::new().await;
    let project = json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode",
                         "phone": "3211234567", "countryCode": "+57", "type": "validation", "phoneGateway": "sms"});
    for _ in 0..2 {
        let (status, body) = vf.post("/phone-validations", project.clone()).await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, registration) = vf.register("3211234567").await;
    for _ in 0..2 {
        let (status, body) = vf
            .post_as(
                &registration,
                "/phone-validations/app-registration",
                project.clone(),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(vf.sb.messages("+573211234567").len(), 4);
    // The manual endpoint keeps its cooldown per phone and gateway, whatever sent the last
    // code; `force` skips it.
    let manual = json!({"phone": "3211234567", "countryCode": "+57", "phoneGateway": "sms"});
    assert_reason(
        &vf.post("/phone-validations/manual", manual.clone()).await,
        409,
        "otp_recently_sent",
    );
    let mut forced = manual;
    forced["force"] = json!(true);
    assert_eq!(vf.post("/phone-validations/manual", forced).await.0, 200);
    assert_eq!(vf.sb.messages("+573211234567").len(), 5);
}

#[tokio::test]
async fn stored_fields_are_bounded_in_size() {
    let vf = Vf::new().await;
    let base = json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode",
                      "phone": "3211234567", "countryCode": "+57", "type": "validation"});
    let with = |key: &str, value: String| {
        let mut body = base.clone();
        body[key] = json!(value);
        body
    };
    let long_url = format!("https://example.com/{}", "a".repeat(2_048));
    for (key, value, message) in [
        (
            "title",
            "A".repeat(16),
            "Invalid title. The title must have between 1 and 15 characters.",
        ),
        (
            "redirectUrl",
            long_url.clone(),
            "Invalid redirectUrl. It must have at most 2048 characters.",
        ),
        (
            "webhookUrl",
            long_url.clone(),
            "Invalid webhookUrl. It must have at most 2048 characters.",
        ),
        (
            "identityUrl",
            long_url.clone(),
            "Invalid identityUrl. It must have at most 2048 characters.",
        ),
        (
            "ipAddress",
            "1".repeat(65),
            "Invalid ipAddress. It must have at most 64 characters.",
        ),
    ] {
        assert_vf_error(
            &vf.post("/phone-validations", with(key, value)).await,
            409,
            "MissingParameter",
            message,
        );
    }
    let manual = json!({"phone": "3211234567", "countryCode": "+57", "phoneGateway": "sms",
                        "ipAddress": "1".repeat(65)});
    assert_eq!(vf.post("/phone-validations/manual", manual).await.0, 409);
    let manual = json!({"phone": "3211234567", "countryCode": "+57", "phoneGateway": "sms",
                        "language": "x".repeat(36)});
    assert_eq!(vf.post("/phone-validations/manual", manual).await.0, 409);
    assert!(
        vf.sb.messages("+573211234567").is_empty(),
        "nothing was sent"
    );
    // The phone login stores a language too: bounded the same way.
    let login = json!({"countryCode": "+507", "phone": 62_647_737, "type": "login",
                       "language": "x".repeat(36)});
    assert_eq!(vf.post("/projects/phone-login", login).await.0, 409);
    assert!(vf.sb.messages("+50762647737").is_empty(), "no login code");
    // At the limits, everything is stored and returned.
    let mut body = with("title", "Ácme Ünïcode 15".into());
    body["redirectUrl"] = json!(long_url[..2_048]);
    body["ipAddress"] = json!("2001:db8::1");
    let (status, ok) = vf.post("/phone-validations", body).await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(
        ok["data"]["redirectUrl"].as_str().map(str::len),
        Some(2_048)
    );
}

#[tokio::test]
async fn no_credits_is_403_insufficient_credits() {
    let vf = Vf::new().await;
    vf.sb.set_balance(Provider::Verifik, Some(1));
    vf.manual("3211234567").await;
    assert_eq!(vf.sb.balance(Provider::Verifik), Some(0));
    let manual = json!({"phone": "3217654321", "countryCode": "+57", "phoneGateway": "sms"});
    assert_reason(
        &vf.post("/phone-validations/manual", manual).await,
        403,
        "insufficient_credits",
    );
    let project = json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode", "phone": "3217654321",
                         "countryCode": "+57", "type": "validation"});
    assert_reason(
        &vf.post("/phone-validations", project.clone()).await,
        403,
        "insufficient_credits",
    );
    let (_, registration) = vf.register("3217654321").await;
    assert_reason(
        &vf.post_as(
            &registration,
            "/phone-validations/app-registration",
            project,
        )
        .await,
        403,
        "insufficient_credits",
    );
    assert!(vf.sb.messages("+573217654321").is_empty());
}

#[tokio::test]
async fn create_validates_fields_and_projects() {
    let vf = Vf::new().await;
    assert_vf_error(
        &vf.post("/phone-validations", json!({})).await,
        409,
        "MissingParameter",
        "missing project\n. missing validationMethod\n. missing phone\n. missing countryCode\n. missing type",
    );
    let base = json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode", "phone": "3211234567",
                      "countryCode": "+57", "type": "onboarding"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    assert_reason(
        &vf.post(
            "/phone-validations",
            with("project", json!("000000000000000000000000")),
        )
        .await,
        404,
        "project_not_found",
    );
    let (registration_id, registration) = vf.register("3211234567").await;
    assert_reason(
        &vf.post_as(
            &registration,
            "/phone-validations/app-registration",
            with("project", json!("000000000000000000000000")),
        )
        .await,
        404,
        "project_not_found",
    );
    assert_eq!(
        vf.post("/phone-validations", with("countryCode", json!("+5777")))
            .await
            .0,
        409
    );
    assert_eq!(
        vf.post(
            "/phone-validations",
            with("validationMethod", json!("carrierPigeon"))
        )
        .await
        .0,
        409
    );
    assert_eq!(
        vf.post("/phone-validations", with("type", json!("party")))
            .await
            .0,
        409
    );
    assert_eq!(
        vf.post("/phone-validations", with("expiresAt", json!("tomorrow")))
            .await
            .0,
        409
    );
    assert_vf_error(
        &vf.post("/phone-validations", with("phone", json!("12")))
            .await,
        400,
        "BadRequest",
        "Invalid phone number format.",
    );
    assert_eq!(
        vf.post_as(
            &registration,
            "/phone-validations/app-registration",
            with("validationMethod", json!("manual"))
        )
        .await
        .0,
        409
    );

    let (status, manual_method) = vf
        .post(
            "/phone-validations",
            with("validationMethod", json!("manual")),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(manual_method["data"]["status"], "new");
    assert!(
        vf.sb.messages("+573211234567").is_empty(),
        "the manual method sends nothing"
    );

    let (status, reg) = vf
        .post_as(
            &registration,
            "/phone-validations/app-registration",
            base.clone(),
        )
        .await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["data"]["source"], "app-registration");
    assert_eq!(reg["data"]["appRegistration"], registration_id.as_str());
    let code = vf.sb.latest_code("+573211234567").unwrap();
    let body = json!({"phone": "3211234567", "countryCode": "+57", "otp": code});
    assert_vf_error(
        &vf.put(body.clone()).await,
        401,
        "Unauthorized",
        "Invalid or expired token.",
    );
    let (status, ok) = send(
        vf.http
            .put(vf.url("/phone-validations"))
            .bearer_auth(&registration)
            .json(&body),
    )
    .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["data"]["type"], "onboarding");
}

#[tokio::test]
async fn a_custom_expiry_is_honoured() {
    let vf = Vf::new().await;
    let expires = (vf.sb.now() + time::Duration::minutes(30))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body = json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode", "phone": "3211234567",
                      "countryCode": "+57", "type": "validation", "expiresAt": expires});
    assert_eq!(vf.post("/phone-validations", body).await.0, 200);
    let code = vf.sb.latest_code("+573211234567").unwrap();
    vf.sb.advance_clock(Duration::from_secs(20 * 60));
    assert_eq!(
        vf.put(json!({"phone": "3211234567", "countryCode": "+57", "otp": code}))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn an_expiry_past_year_9999_in_utc_is_refused_before_anything_is_sent() {
    let vf = Vf::new().await;
    let body = |expires: &str| {
        json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode", "phone": "3211234567",
               "countryCode": "+57", "type": "validation", "expiresAt": expires})
    };
    // 23:59:59 at -01:00 is 00:59:59 on 10000-01-01 in UTC: past the last representable date.
    assert_vf_error(
        &vf.post("/phone-validations", body("9999-12-31T23:59:59-01:00"))
            .await,
        409,
        "MissingParameter",
        "Invalid expiresAt. Use an ISO-8601 date such as 2024-12-31T23:59:59.000Z.",
    );
    assert!(
        vf.sb.messages("+573211234567").is_empty(),
        "nothing was sent"
    );
    let (status, list) = vf.get("/phone-validations").await;
    assert_eq!(
        (status, list["pagination"]["total"].as_u64()),
        (200, Some(0))
    );
    // The same wall-clock date in UTC is in range and accepted; the sandbox still answers.
    let (status, ok) = vf
        .post("/phone-validations", body("9999-12-31T23:59:59Z"))
        .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["data"]["expiresAt"], "9999-12-31T23:59:59.000Z");
    assert_eq!(vf.sb.messages("+573211234567").len(), 1);
}

#[tokio::test]
async fn manual_validations_send_by_sms_in_the_requested_language() {
    let vf = Vf::new().await;
    let (status, body) = vf
        .post(
            "/phone-validations/manual",
            json!({"phone": "321 123 4567", "countryCode": "+57", "phoneGateway": "sms", "title": "Acme", "language": "es"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["source"], "manual");
    assert_eq!(data["sent"], true);
    assert_eq!(data["appRegistration"], Value::Null);
    assert_eq!(data["phoneData"], json!({"title": "Acme"}));
    assert!(
        data["providerConfirmation"]["sid"]
            .as_str()
            .unwrap()
            .starts_with("SM")
    );
    let sms = &vf.sb.messages("+573211234567")[0];
    assert_eq!(sms.channel, Channel::Sms);
    assert!(
        sms.text.starts_with("Acme: tu código de verificación es"),
        "{}",
        sms.text
    );

    assert_vf_error(
        &vf.post("/phone-validations/manual", json!({})).await,
        409,
        "MissingParameter",
        "missing phone\n. missing countryCode\n. missing phoneGateway",
    );
    let base = json!({"phone": "3217654321", "countryCode": "+57", "phoneGateway": "telegram"});
    assert_eq!(vf.post("/phone-validations/manual", base).await.0, 409);
    let long = json!({"phone": "3217654321", "countryCode": "+57", "phoneGateway": "sms", "title": "A very long brand name"});
    assert_eq!(vf.post("/phone-validations/manual", long).await.0, 409);
}

#[tokio::test]
async fn login_validations_return_an_app_login_and_a_token() {
    let vf = Vf::new().await;
    let body = json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode", "phone": "3211234567",
                      "countryCode": "+57", "type": "login"});
    vf.post("/phone-validations", body).await;
    let code = vf.sb.latest_code("+573211234567").unwrap();
    let (status, ok) = vf.put(json!({"phone": "3211234567", "countryCode": "+57", "otp": code, "phoneGateway": "whatsapp"})).await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["data"]["appLogin"]["status"], "validated");
    let token = ok["data"]["token"].as_str().unwrap();
    assert_eq!(
        send(vf.http.get(vf.url("/phone-validations")).bearer_auth(token))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn validate_narrows_by_project_and_gateway() {
    let vf = Vf::new().await;
    let (_, code) = vf.manual("3211234567").await;
    let body = |extra: (&str, &str)| {
        let mut b = json!({"phone": "3211234567", "countryCode": "+57", "otp": code});
        b[extra.0] = json!(extra.1);
        b
    };
    assert_reason(
        &vf.put(body(("project", "507f1f77bcf86cd799439011"))).await,
        404,
        "phone_validation_not_found",
    );
    assert_reason(
        &vf.put(body(("phoneGateway", "sms"))).await,
        404,
        "phone_validation_not_found",
    );
    assert_eq!(vf.put(body(("phoneGateway", "whatsapp"))).await.0, 200);
}

#[tokio::test]
async fn the_alternative_validate_routes_work() {
    let vf = Vf::new().await;
    let (_, code) = vf.manual("3211234567").await;
    let (status, _) = vf
        .post(
            "/phone-validations/validate",
            json!({"phone": "3211234567", "countryCode": "+57", "otp": code}),
        )
        .await;
    assert_eq!(status, 200, "POST /validate is the same as PUT");

    let (id, code) = vf.manual("3217654321").await;
    let path = format!("/phone-validations/{id}/validate");
    assert_reason(
        &vf.post(&path, json!({"verificationCode": "x"})).await,
        400,
        "INVALID_CODE",
    );
    assert_eq!(vf.post(&path, json!({})).await.0, 409);
    assert_eq!(
        vf.post(&path, json!({"verificationCode": code})).await.0,
        200
    );
    assert_reason(
        &vf.post(&path, json!({"verificationCode": code})).await,
        409,
        "phone_validation_already_validated",
    );
    assert_reason(
        &vf.post(
            "/phone-validations/000000000000000000000000/validate",
            json!({"verificationCode": code}),
        )
        .await,
        404,
        "phone_validation_not_found",
    );

    let (late_id, late_code) = vf.manual("3001234567").await;
    vf.sb.advance_clock(Duration::from_secs(601));
    assert_reason(
        &vf.post(
            &format!("/phone-validations/{late_id}/validate"),
            json!({"verificationCode": late_code}),
        )
        .await,
        409,
        "CODE_EXPIRED",
    );
}

#[tokio::test]
async fn list_paginates_and_filters_and_get_reads_one() {
    let vf = Vf::new().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let (id, code) = vf.manual(&format!("32112345{n:02}")).await;
        if n == 0 {
            vf.put(json!({"phone": "3211234500", "countryCode": "+57", "otp": code}))
                .await;
        }
        ids.push(id);
    }
    let (status, page) = vf.get("/phone-validations?page=2&limit=2").await;
    assert_eq!(status, 200);
    assert_eq!(page["success"], true);
    assert_eq!(
        page["pagination"],
        json!({"page": 2, "limit": 2, "total": 5, "pages": 3})
    );
    let page_ids: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["_id"].as_str().unwrap())
        .collect();
    assert_eq!(page_ids, [ids[2].as_str(), ids[1].as_str()], "newest first");
    assert!(page["signature"].is_object());

    let (_, validated) = vf.get("/phone-validations?status=validated").await;
    assert_eq!(validated["pagination"]["total"], 1);
    assert_eq!(validated["data"][0]["_id"], ids[0].as_str());
    let (_, by_phone) = vf
        .get("/phone-validations?phone=3211234503&countryCode=%2B57")
        .await;
    assert_eq!(by_phone["pagination"]["total"], 1);
    let (_, none) = vf
        .get("/phone-validations?project=507f1f77bcf86cd799439011&type=validation")
        .await;
    assert_eq!(none["pagination"]["total"], 0);
    let (_, default_page) = vf
        .get("/phone-validations?populates[]=client&populates[]=project")
        .await;
    assert_eq!(default_page["pagination"]["limit"], 10);

    for bad in ["limit=0", "limit=101", "page=0", "page=x", "status=lost"] {
        assert_reason(
            &vf.get(&format!("/phone-validations?{bad}")).await,
            400,
            "INVALID_PARAMETERS",
        );
    }

    let (status, one) = vf.get(&format!("/phone-validations/{}", ids[3])).await;
    assert_eq!(status, 200);
    assert_eq!(one["success"], true);
    assert_eq!(one["data"]["_id"], ids[3].as_str());
    assert_eq!(one["data"]["phone"], "3211234503");
    assert_reason(
        &vf.get("/phone-validations/000000000000000000000000").await,
        404,
        "phone_validation_not_found",
    );
}

#[tokio::test]
async fn authorization_is_required() {
    let vf = Vf::new().await;
    let (status, body) = send(vf.http.get(vf.url("/phone-validations"))).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (409, Some("missing Authorization header"))
    );
    for rb in [
        vf.http.get(vf.url("/phone-validations")),
        vf.http.post(vf.url("/phone-validations")).json(&json!({})),
        vf.http.put(vf.url("/phone-validations")).json(&json!({})),
        vf.http
            .post(vf.url("/phone-validations/manual"))
            .json(&json!({})),
        vf.http
            .post(vf.url("/phone-validations/app-registration"))
            .json(&json!({})),
        vf.http
            .get(vf.url("/phone-validations/000000000000000000000000")),
        vf.http.post(vf.url("/auth/renew-and-revoke")),
    ] {
        assert_vf_error(
            &send(rb.bearer_auth("wrong")).await,
            401,
            "Unauthorized",
            "Invalid or expired token.",
        );
    }
    let (status, body) = vf.get("/no-such-thing").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("404:not_found"))
    );
}

#[tokio::test]
async fn a_leading_zero_code_sent_as_a_number_is_refused() {
    let config = SandboxConfig {
        test_numbers: vec![
            ("+573211234567".into(), "012345".into()),
            ("+573001234567".into(), "123456".into()),
        ],
        ..SandboxConfig::seeded(22)
    };
    let vf = Vf {
        sb: start_with(config).await,
        http: client(),
        token: "sandbox-token".into(),
    };
    let (_, code) = vf.manual("3211234567").await;
    assert_eq!(code, "012345");
    // The number 12345 is the digits "12345": not the code, and nothing pads it back.
    for otp in [json!(12_345), json!(12_345.0), json!("12345")] {
        assert_reason(
            &vf.put(json!({"phone": "3211234567", "countryCode": "+57", "otp": otp}))
                .await,
            403,
            "otp_does_not_match",
        );
    }
    let (status, body) = vf
        .put(json!({"phone": "3211234567", "countryCode": "+57", "otp": "012345"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "validated");
    // A code without a leading zero matches as a number, as Verifik documents it.
    let (_, code) = vf.manual("3001234567").await;
    assert_eq!(code, "123456");
    let (status, _) = vf
        .put(json!({"phone": "3001234567", "countryCode": "+57", "otp": 123_456}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn app_registrations_issue_the_token_their_validations_need() {
    let vf = Vf::new().await;
    assert_vf_error(
        &vf.post("/app-registrations", json!({})).await,
        409,
        "MissingParameter",
        "missing project\n. missing projectFlow\n. missing fullName\n. missing email or phone",
    );
    let base = json!({"project": "507f1f77bcf86cd799439011", "projectFlow": "507f1f77bcf86cd799439015",
                      "fullName": "Ana", "email": "ana@acme.test"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    assert_reason(
        &vf.post(
            "/app-registrations",
            with("project", json!("000000000000000000000000")),
        )
        .await,
        404,
        "project_not_found",
    );
    assert_reason(
        &vf.post(
            "/app-registrations",
            with("projectFlow", json!("000000000000000000000000")),
        )
        .await,
        404,
        "projectFlow_not_found",
    );
    assert_vf_error(
        &vf.post_as("wrong", "/app-registrations", base.clone())
            .await,
        401,
        "Unauthorized",
        "Invalid or expired token.",
    );
    let (status, created) = vf.post("/app-registrations", base.clone()).await;
    assert_eq!(status, 200, "{created}");
    let data = &created["data"];
    assert!(is_object_id(data["_id"].as_str().unwrap()));
    assert_eq!(data["status"], "new");
    assert_eq!(data["fullName"], "Ana");
    assert_eq!(data["language"], "en");
    assert_eq!(data["token"].as_str().unwrap().split('.').count(), 3);
    assert_reason(
        &vf.post("/app-registrations", base.clone()).await,
        409,
        "email_is_registered_already",
    );

    let (id, token) = vf.register("3005556677").await;
    assert_reason(
        &vf.post(
            "/app-registrations",
            json!({"project": "507f1f77bcf86cd799439011", "projectFlow": "507f1f77bcf86cd799439015",
                   "fullName": "Ana", "phone": "300 555 6677", "countryCode": "+57"}),
        )
        .await,
        409,
        "phone_is_registered_already",
    );
    let validation = json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode",
                            "phone": "3005556677", "countryCode": "+57", "type": "onboarding"});
    // The account token does not create app-registration validations; the registration's does.
    assert_vf_error(
        &vf.post("/phone-validations/app-registration", validation.clone())
            .await,
        401,
        "Unauthorized",
        "Invalid or expired token.",
    );
    let (status, created) = vf
        .post_as(&token, "/phone-validations/app-registration", validation)
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["data"]["appRegistration"], id.as_str());
    // A registration's token is not an account token.
    assert_eq!(
        send(
            vf.http
                .get(vf.url("/phone-validations"))
                .bearer_auth(&token)
        )
        .await
        .0,
        401
    );
    // Validating needs the registration's token too, on both validate routes.
    let code = vf.sb.latest_code("+573005556677").unwrap();
    let check = json!({"phone": "3005556677", "countryCode": "+57", "otp": code});
    assert_eq!(vf.put(check.clone()).await.0, 401);
    assert_eq!(
        vf.post("/phone-validations/validate", check.clone())
            .await
            .0,
        401
    );
    let (status, ok) = vf
        .post_as(&token, "/phone-validations/validate", check)
        .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["data"]["type"], "onboarding");

    // The token lasts 120 minutes.
    let (_, late) = vf.register("3005556688").await;
    vf.sb.advance_clock(Duration::from_secs(121 * 60));
    assert_eq!(
        vf.post_as(
            &late,
            "/phone-validations/app-registration",
            json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode",
                   "phone": "3005556688", "countryCode": "+57", "type": "onboarding"}),
        )
        .await
        .0,
        401
    );
}

#[tokio::test]
async fn project_validations_take_a_flow_a_gateway_and_a_language() {
    let vf = Vf::new().await;
    let base = json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode",
                      "phone": "3211234567", "countryCode": "+57", "type": "validation"});
    let with = |pairs: &[(&str, Value)]| {
        let mut body = base.clone();
        for (key, value) in pairs {
            body[*key] = value.clone();
        }
        body
    };
    assert_reason(
        &vf.post(
            "/phone-validations",
            with(&[("projectFlow", json!("000000000000000000000000"))]),
        )
        .await,
        404,
        "projectFlow_not_found",
    );
    assert_eq!(
        vf.post(
            "/phone-validations",
            with(&[("language", json!("español"))])
        )
        .await
        .0,
        409
    );
    assert_eq!(
        vf.post(
            "/phone-validations",
            with(&[("phoneGateway", json!("telegram"))])
        )
        .await
        .0,
        409
    );
    let (status, created) = vf
        .post(
            "/phone-validations",
            with(&[
                ("projectFlow", json!("507f1f77bcf86cd799439015")),
                ("phoneGateway", json!("sms")),
                ("language", json!("es")),
            ]),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["data"]["phoneGateway"], "sms");
    assert_eq!(created["data"]["language"], "es");
    assert_eq!(created["data"]["projectFlow"], "507f1f77bcf86cd799439015");
    let message = &vf.sb.messages("+573211234567")[0];
    assert_eq!(
        (message.channel, message.lang.as_str()),
        (Channel::Sms, "es")
    );
    // Without them: WhatsApp and English.
    let (status, created) = vf
        .post(
            "/phone-validations",
            with(&[("phone", json!("3001112233"))]),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["data"]["phoneGateway"], "whatsapp");
    assert_eq!(created["data"]["language"], "en");
    assert_eq!(
        vf.sb.messages("+573001112233")[0].channel,
        Channel::Whatsapp
    );
}

#[tokio::test]
async fn bodies_are_read_only_when_sent_as_json() {
    let vf = Vf::new().await;
    let manual = json!({"phone": "3001234567", "countryCode": "+57", "phoneGateway": "sms"});
    let missing = "missing phone\n. missing countryCode\n. missing phoneGateway";
    // Valid JSON without `Content-Type: application/json` (a client that dropped the header)
    // reads as an empty body: the missing-field error, and nothing is sent.
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = vf
            .http
            .post(vf.url("/phone-validations/manual"))
            .bearer_auth(&vf.token)
            .body(manual.to_string());
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let got = send(request).await;
        assert_eq!(got.0, 409, "{content_type:?}: {}", got.1);
        assert_eq!(got.1["code"], "MissingParameter", "{content_type:?}");
    }
    // Verifik takes JSON only: a form carrying every field is refused the same way.
    let form = send(
        vf.http
            .post(vf.url("/phone-validations/manual"))
            .bearer_auth(&vf.token)
            .form(&[
                ("phone", "3001234567"),
                ("countryCode", "+57"),
                ("phoneGateway", "sms"),
            ]),
    )
    .await;
    assert_eq!(form.0, 409, "{}", form.1);
    assert!(vf.sb.all_messages().is_empty(), "nothing was sent");
    assert_vf_error(
        &send(
            vf.http
                .post(vf.url("/phone-validations/manual"))
                .bearer_auth(&vf.token)
                .body("{}"),
        )
        .await,
        409,
        "MissingParameter",
        missing,
    );
    // A JSON type with parameters, in any case, is JSON.
    let (status, body) = send(
        vf.http
            .post(vf.url("/phone-validations/manual"))
            .bearer_auth(&vf.token)
            .header("Content-Type", "Application/JSON; charset=UTF-8")
            .body(manual.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(vf.sb.all_messages().len(), 1);
}

#[tokio::test]
async fn e_mail_addresses_over_254_bytes_are_refused_before_anything_is_stored() {
    let vf = Vf::new().await;
    let long = format!("{}@example.com", "a".repeat(288));
    assert_eq!(long.len(), 300);
    let (status, body) = send(
        vf.http
            .post(vf.url(&format!("/projects/email-login?email={long}"))),
    )
    .await;
    assert_eq!(
        (status, body),
        (404, json!({"code": "NotFound", "message": "invalid_email"}))
    );
    let registration = json!({"project": "507f1f77bcf86cd799439011",
        "projectFlow": "507f1f77bcf86cd799439015", "fullName": "Ana", "email": long});
    assert_vf_error(
        &vf.post("/app-registrations", registration).await,
        400,
        "BadRequest",
        "Invalid email format.",
    );
    assert!(vf.sb.all_messages().is_empty(), "nothing was sent");
    let longest = format!("{}@example.com", "a".repeat(242));
    let (status, _) = send(
        vf.http
            .post(vf.url(&format!("/projects/email-login?email={longest}"))),
    )
    .await;
    assert_eq!(status, 200, "254 bytes is within the limit");
}

#[tokio::test]
async fn a_restarted_login_is_the_newest_and_the_oldest_is_forgotten_first() {
    let vf = Vf::with(SandboxConfig {
        records_capacity: 2,
        ..SandboxConfig::seeded(21)
    })
    .await;
    let vf = &vf;
    let login = |national: &'static str| async move {
        let body = json!({"countryCode": "+57", "phone": national, "type": "login"});
        let (status, started) = vf.post("/projects/phone-login", body).await;
        assert_eq!(status, 200, "{started}");
    };
    let confirm = |national: &'static str| async move {
        let otp = vf.sb.latest_code(&format!("+57{national}")).unwrap();
        let body = json!({"countryCode": "+57", "phone": national, "otp": otp});
        vf.post("/projects/phone-login/confirm", body).await.0
    };
    let [a, b, c] = ["3211234501", "3211234502", "3211234503"];
    for national in [a, b, a, c] {
        login(national).await;
    }
    assert_eq!(confirm(a).await, 200, "restarted after b: newer than b");
    assert_eq!(confirm(b).await, 400, "the oldest, forgotten");
    assert_eq!(confirm(c).await, 200);

    let email_login = |email: &'static str| async move {
        let url = vf.url(&format!("/projects/email-login?email={email}"));
        assert_eq!(send(vf.http.post(url)).await.0, 200);
    };
    let email_confirm = |email: &'static str| async move {
        let otp = vf.sb.latest_code(email).unwrap();
        let body = json!({"email": email, "otp": otp});
        vf.post("/projects/email-login/confirm", body).await.0
    };
    let [a, b, c] = ["a@acme.test", "b@acme.test", "c@acme.test"];
    for email in [a, b, a, c] {
        email_login(email).await;
    }
    assert_eq!(
        email_confirm(a).await,
        200,
        "restarted after b: newer than b"
    );
    assert_eq!(email_confirm(b).await, 400, "the oldest, forgotten");
    assert_eq!(email_confirm(c).await, 200);
}

#[tokio::test]
async fn the_account_token_validates_its_own_validation_past_a_newer_app_registration_one() {
    let vf = Vf::new().await;
    let national = "3005550101";
    let (own, own_code) = vf.manual(national).await;
    let (registration, token) = vf.register(national).await;
    let onboarding = json!({"project": "507f1f77bcf86cd799439011", "validationMethod": "verificationCode",
                            "phone": national, "countryCode": "+57", "type": "onboarding"});
    let (status, created) = vf
        .post_as(&token, "/phone-validations/app-registration", onboarding)
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["data"]["appRegistration"], registration.as_str());
    let registration_code = vf.sb.latest_code(&format!("+57{national}")).unwrap();

    let (status, validated) = vf
        .put(json!({"phone": national, "countryCode": "+57", "otp": own_code}))
        .await;
    assert_eq!(status, 200, "{validated}");
    assert_eq!(validated["data"]["_id"], own.as_str());
    // The registration's own validation is still its JWT's to validate.
    let (status, validated) = vf
        .post_as(
            &token,
            "/phone-validations/validate",
            json!({"phone": national, "countryCode": "+57", "otp": registration_code}),
        )
        .await;
    assert_eq!(status, 200, "{validated}");
    assert_eq!(validated["data"]["type"], "onboarding");
    // With the account's validation used, the account token meets the answer for it.
    assert_reason(
        &vf.put(json!({"phone": national, "countryCode": "+57", "otp": own_code}))
            .await,
        409,
        "phone_validation_already_validated",
    );
}
