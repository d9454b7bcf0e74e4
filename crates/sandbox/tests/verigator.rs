//! HTTP tests of the Messente Verigator emulation: services, users, SMS/TOTP authentication,
//! PIN verification and every documented status code.

mod common;

use std::time::Duration;

use common::{client, send, start_with};
use phone_verify_sandbox::{Channel, Provider, SandboxConfig, SandboxHandle};
use serde_json::{Value, json};

/// A sandbox plus a client that sends `X-Service-Auth`.
struct Vg {
    sb: SandboxHandle,
    http: reqwest::Client,
}

impl Vg {
    async fn new() -> Self {
        Self::with(SandboxConfig::seeded(31)).await
    }

    async fn with(config: SandboxConfig) -> Self {
        Self {
            sb: start_with(config).await,
            http: client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sb.verigator_url())
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, self.url(path))
            .header("X-Service-Auth", "sandbox:sandbox");
        if let Some(body) = body {
            rb = rb.json(&body);
        }
        send(rb).await
    }

    async fn service(&self, fqdn: &str) -> String {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/service/service",
                Some(json!({"fqdn": fqdn, "name": "Coffee Shop"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    async fn user(&self, sid: &str, name: &str, phone: &str) -> String {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                &format!("/service/service/{sid}/users"),
                Some(json!({"id_in_service": name, "phone_number": phone})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    async fn get_user(&self, sid: &str, uid: &str) -> (u16, Value) {
        let path = format!("/service/service/{sid}/users/{uid}");
        self.call(reqwest::Method::GET, &path, None).await
    }

    async fn start_auth(&self, sid: &str, uid: &str, method: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            &format!("/service/service/{sid}/users/{uid}/auth"),
            Some(json!({"method": method})),
        )
        .await
    }

    async fn verify(&self, sid: &str, uid: &str, token: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::PUT,
            &format!("/service/service/{sid}/users/{uid}/auth"),
            Some(json!({"token": token})),
        )
        .await
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.split('-').map(str::len).eq([8, 4, 4, 4, 12])
        && s.replace('-', "").bytes().all(|b| b.is_ascii_hexdigit())
}

#[track_caller]
fn assert_failed(got: &(u16, Value), method: &str, result: &str) {
    assert_eq!(got.0, 200, "{}", got.1);
    assert_eq!(
        got.1,
        json!({"verified": false, "method": method, "status": {
            "throttled": result == "THROTTLED", "expired": result == "EXPIRED", "invalid": result == "INVALID", "result": result}})
    );
}

#[tokio::test]
async fn services_are_created_read_and_deleted() {
    let vg = Vg::new().await;
    let (status, created) = vg
        .call(
            reqwest::Method::POST,
            "/service/service",
            Some(json!({"fqdn": "coffeeshop.com", "name": "Coffee Shop"})),
        )
        .await;
    assert_eq!(status, 201);
    let sid = created["id"].as_str().unwrap();
    assert!(is_uuid(sid));
    assert_eq!(created["name"], "Coffee Shop");
    assert!(
        time::OffsetDateTime::parse(
            created["ctime"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );

    let (status, got) = vg
        .call(
            reqwest::Method::GET,
            &format!("/service/service/{sid}"),
            None,
        )
        .await;
    assert_eq!((status, &got), (200, &created));
    let (status, _) = vg
        .call(
            reqwest::Method::POST,
            "/service/service",
            Some(json!({"fqdn": "COFFEESHOP.com", "name": "Again"})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        vg.call(
            reqwest::Method::POST,
            "/service/service",
            Some(json!({"fqdn": "x.com"}))
        )
        .await
        .0,
        422
    );
    assert_eq!(
        vg.call(
            reqwest::Method::POST,
            "/service/service",
            Some(json!({"name": "x"}))
        )
        .await
        .0,
        422
    );

    let (status, body) = vg
        .call(
            reqwest::Method::DELETE,
            &format!("/service/service/{sid}"),
            None,
        )
        .await;
    assert_eq!((status, body), (202, Value::Null));
    let (status, body) = vg
        .call(
            reqwest::Method::GET,
            &format!("/service/service/{sid}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert!(body["message"].is_string());
    assert_eq!(
        vg.call(
            reqwest::Method::DELETE,
            &format!("/service/service/{sid}"),
            None
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn users_are_created_listed_read_and_deleted() {
    let vg = Vg::new().await;
    let sid = vg.service("coffeeshop.com").await;
    let users = format!("/service/service/{sid}/users");
    let (status, ada) = vg
        .call(
            reqwest::Method::POST,
            &users,
            Some(json!({"id_in_service": "ada@example.com", "phone_number": "+37251234567"})),
        )
        .await;
    assert_eq!(status, 201, "{ada}");
    let uid = ada["id"].as_str().unwrap().to_owned();
    assert!(is_uuid(&uid));
    assert_eq!(ada["id_in_service"], "ada@example.com");
    assert!(ada["ctime"].is_string());
    vg.user(&sid, "bob", "+37251234568").await;

    let dup = json!({"id_in_service": "ada@example.com", "phone_number": "+37251234569"});
    assert_eq!(
        vg.call(reqwest::Method::POST, &users, Some(dup)).await.0,
        409
    );
    let bad_phone = json!({"id_in_service": "carol", "phone_number": "12345"});
    assert_eq!(
        vg.call(reqwest::Method::POST, &users, Some(bad_phone))
            .await
            .0,
        422
    );
    assert_eq!(
        vg.call(
            reqwest::Method::POST,
            &users,
            Some(json!({"id_in_service": "carol"}))
        )
        .await
        .0,
        422
    );
    let nowhere = json!({"id_in_service": "carol", "phone_number": "+37251234569"});
    assert_eq!(
        vg.call(
            reqwest::Method::POST,
            "/service/service/nope/users",
            Some(nowhere)
        )
        .await
        .0,
        404
    );

    let (status, list) = vg.call(reqwest::Method::GET, &users, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["users"].as_array().unwrap().len(), 2);
    assert_eq!(list["users"][0], ada);
    assert_eq!(
        (list["total"].as_u64(), list["count"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        vg.call(reqwest::Method::GET, "/service/service/nope/users", None)
            .await
            .0,
        404
    );

    let user_path = format!("{users}/{uid}");
    assert_eq!(
        vg.call(reqwest::Method::GET, &user_path, None).await,
        (200, ada.clone())
    );
    assert_eq!(
        vg.call(reqwest::Method::DELETE, &user_path, None).await,
        (202, Value::Null)
    );
    assert_eq!(vg.call(reqwest::Method::GET, &user_path, None).await.0, 404);
    assert_eq!(
        vg.call(reqwest::Method::DELETE, &user_path, None).await.0,
        404
    );
}

#[tokio::test]
async fn sms_authentication_verifies_a_pin_once() {
    let vg = Vg::new().await;
    let sid = vg.service("coffeeshop.com").await;
    let uid = vg.user(&sid, "ada", "+37251234567").await;
    let (status, started) = vg.start_auth(&sid, &uid, "sms").await;
    assert_eq!(status, 201);
    assert_eq!(started["method"], "sms");
    let sms = &vg.sb.messages("+37251234567")[0];
    assert_eq!(
        (sms.provider, sms.channel),
        (Provider::Verigator, Channel::Sms)
    );
    assert!(sms.text.starts_with("Coffee Shop:"), "{}", sms.text);
    let pin = sms.code.clone().unwrap();
    assert_eq!(pin.len(), 6);

    assert_failed(&vg.verify(&sid, &uid, "000000x").await, "sms", "INVALID");
    assert_eq!(
        vg.verify(&sid, &uid, &pin).await,
        (200, json!({"verified": true, "method": "sms"}))
    );
    assert_eq!(
        vg.verify(&sid, &uid, &pin).await.0,
        404,
        "a PIN is single use"
    );

    vg.start_auth(&sid, &uid, "sms").await;
    let first = vg.sb.latest_code("+37251234567").unwrap();
    vg.start_auth(&sid, &uid, "sms").await;
    let second = vg.sb.latest_code("+37251234567").unwrap();
    assert_ne!(first, second);
    assert_failed(&vg.verify(&sid, &uid, &first).await, "sms", "INVALID");
    assert_eq!(
        vg.verify(&sid, &uid, &second).await.1["verified"],
        true,
        "a new start replaces the PIN"
    );
}

#[tokio::test]
async fn totp_falls_back_to_sms_without_an_authenticator() {
    let vg = Vg::new().await;
    let sid = vg.service("coffeeshop.com").await;
    let uid = vg.user(&sid, "ada", "+37251234567").await;
    let (status, started) = vg.start_auth(&sid, &uid, "totp").await;
    assert_eq!((status, started["method"].as_str()), (201, Some("sms")));
    let pin = vg.sb.latest_code("+37251234567").unwrap();
    assert_eq!(
        vg.verify(&sid, &uid, &pin).await.1,
        json!({"verified": true, "method": "sms"})
    );
}

#[tokio::test]
async fn enrolled_users_verify_rfc6238_codes() {
    let vg = Vg::new().await;
    let sid = vg.service("coffeeshop.com").await;
    let uid = vg.user(&sid, "ada", "+37251234567").await;
    let enrollment = vg.sb.enroll_totp(&sid, &uid).unwrap();
    assert_eq!(enrollment.secret.len(), 32, "160-bit secret in base32");
    assert!(
        enrollment
            .otpauth_uri
            .starts_with("otpauth://totp/Coffee%20Shop:ada?secret=")
    );
    assert!(
        enrollment
            .otpauth_uri
            .contains("algorithm=SHA1&digits=6&period=30")
    );

    let (status, started) = vg.start_auth(&sid, &uid, "totp").await;
    assert_eq!((status, started["method"].as_str()), (201, Some("totp")));
    assert!(
        vg.sb.messages("+37251234567").is_empty(),
        "TOTP sends no SMS"
    );
    let code = vg.sb.totp_code(&sid, &uid).unwrap();
    assert_failed(&vg.verify(&sid, &uid, "000000x").await, "totp", "INVALID");
    assert_eq!(
        vg.verify(&sid, &uid, &code).await.1,
        json!({"verified": true, "method": "totp"})
    );

    vg.start_auth(&sid, &uid, "totp").await;
    assert_failed(&vg.verify(&sid, &uid, &code).await, "totp", "INVALID");
    vg.sb.advance_clock(Duration::from_secs(90));
    let next = vg.sb.totp_code(&sid, &uid).unwrap();
    assert_eq!(
        vg.verify(&sid, &uid, &next).await.1["verified"],
        true,
        "codes follow the sandbox clock"
    );

    let (_, sms_started) = vg.start_auth(&sid, &uid, "sms").await;
    assert_eq!(
        sms_started["method"], "sms",
        "sms stays available to enrolled users"
    );
}

#[tokio::test]
async fn wrong_pins_throttle_after_five_attempts() {
    let vg = Vg::new().await;
    let sid = vg.service("coffeeshop.com").await;
    let uid = vg.user(&sid, "ada", "+37251234567").await;
    vg.start_auth(&sid, &uid, "sms").await;
    let pin = vg.sb.latest_code("+37251234567").unwrap();
    for _ in 0..5 {
        assert_failed(&vg.verify(&sid, &uid, "bad").await, "sms", "INVALID");
    }
    assert_failed(&vg.verify(&sid, &uid, &pin).await, "sms", "THROTTLED");

    vg.sb.enroll_totp(&sid, &uid).unwrap();
    vg.start_auth(&sid, &uid, "totp").await;
    for _ in 0..5 {
        assert_failed(&vg.verify(&sid, &uid, "bad").await, "totp", "INVALID");
    }
    let code = vg.sb.totp_code(&sid, &uid).unwrap();
    assert_failed(&vg.verify(&sid, &uid, &code).await, "totp", "THROTTLED");
}

#[tokio::test]
async fn pins_expire_after_the_configured_ttl() {
    let vg = Vg::new().await;
    let sid = vg.service("coffeeshop.com").await;
    let uid = vg.user(&sid, "ada", "+37251234567").await;
    vg.start_auth(&sid, &uid, "sms").await;
    let pin = vg.sb.latest_code("+37251234567").unwrap();
    vg.sb.advance_clock(Duration::from_secs(300));
    assert_failed(&vg.verify(&sid, &uid, &pin).await, "sms", "EXPIRED");

    let short = Vg::with(SandboxConfig {
        verigator_pin_ttl: Duration::from_secs(60),
        ..SandboxConfig::seeded(32)
    })
    .await;
    let sid = short.service("coffeeshop.com").await;
    let uid = short.user(&sid, "ada", "+37251234567").await;
    short.start_auth(&sid, &uid, "sms").await;
    let pin = short.sb.latest_code("+37251234567").unwrap();
    short.sb.advance_clock(Duration::from_secs(60));
    assert_failed(&short.verify(&sid, &uid, &pin).await, "sms", "EXPIRED");
}

#[tokio::test]
async fn auth_errors_are_404_and_422() {
    let vg = Vg::new().await;
    let sid = vg.service("coffeeshop.com").await;
    let uid = vg.user(&sid, "ada", "+37251234567").await;
    assert_eq!(
        vg.verify(&sid, &uid, "123456").await.0,
        404,
        "nothing started"
    );
    assert_eq!(vg.start_auth(&sid, "nope", "sms").await.0, 404);
    assert_eq!(vg.start_auth("nope", &uid, "sms").await.0, 404);
    assert_eq!(vg.verify(&sid, "nope", "123456").await.0, 404);
    assert_eq!(vg.start_auth(&sid, &uid, "carrier-pigeon").await.0, 422);
    let auth = format!("/service/service/{sid}/users/{uid}/auth");
    assert_eq!(
        vg.call(reqwest::Method::POST, &auth, Some(json!({})))
            .await
            .0,
        422
    );
    vg.start_auth(&sid, &uid, "sms").await;
    assert_eq!(
        vg.call(reqwest::Method::PUT, &auth, Some(json!({"method": "sms"})))
            .await
            .0,
        422
    );
    let (status, body) = send(
        vg.http
            .put(vg.url(&auth))
            .header("X-Service-Auth", "sandbox:sandbox")
            .header("Content-Type", "application/json")
            .body("{"),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["message"].as_str().unwrap().contains("JSON"));
    let pin = vg.sb.latest_code("+37251234567").unwrap();
    // Verigator's bodies are JSON: a form carrying the right PIN is refused the same way and
    // does not use the PIN up.
    let form_put = |path: &str, form: String| {
        send(
            vg.http
                .put(vg.url(path))
                .header("X-Service-Auth", "sandbox:sandbox")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form),
        )
    };
    let (status, body) = form_put(&auth, format!("token={pin}")).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("JSON"));
    let (status, body) = send(
        vg.http
            .post(vg.url("/service/service"))
            .header("X-Service-Auth", "sandbox:sandbox")
            .form(&[("fqdn", "form.example"), ("name", "Form")]),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let with_method = json!({"method": "sms", "token": pin});
    assert_eq!(
        vg.call(reqwest::Method::PUT, &auth, Some(with_method))
            .await
            .1["verified"],
        true,
        "docs' {{method, token}} body"
    );
}

#[tokio::test]
async fn x_service_auth_is_required_everywhere() {
    let vg = Vg::new().await;
    let sid = vg.service("coffeeshop.com").await;
    let uid = vg.user(&sid, "ada", "+37251234567").await;
    let paths = [
        (reqwest::Method::POST, "/service/service".to_owned()),
        (reqwest::Method::GET, format!("/service/service/{sid}")),
        (reqwest::Method::DELETE, format!("/service/service/{sid}")),
        (
            reqwest::Method::POST,
            format!("/service/service/{sid}/users"),
        ),
        (
            reqwest::Method::GET,
            format!("/service/service/{sid}/users"),
        ),
        (
            reqwest::Method::GET,
            format!("/service/service/{sid}/users/{uid}"),
        ),
        (
            reqwest::Method::DELETE,
            format!("/service/service/{sid}/users/{uid}"),
        ),
        (
            reqwest::Method::POST,
            format!("/service/service/{sid}/users/{uid}/auth"),
        ),
        (
            reqwest::Method::PUT,
            format!("/service/service/{sid}/users/{uid}/auth"),
        ),
    ];
    for auth in [None, Some("sandbox:wrong"), Some("c2FuZGJveDpzYW5kYm94")] {
        for (method, path) in &paths {
            let mut rb = vg
                .http
                .request(method.clone(), vg.url(path))
                .json(&json!({}));
            if let Some(value) = auth {
                rb = rb.header("X-Service-Auth", value);
            }
            let (status, body) = send(rb).await;
            assert_eq!(status, 401, "{method} {path} with {auth:?}");
            assert!(body["message"].is_string());
        }
    }
    assert_eq!(
        vg.call(
            reqwest::Method::GET,
            &format!("/service/service/{sid}/users/{uid}"),
            None
        )
        .await
        .0,
        200,
        "nothing was deleted"
    );
    let (status, _) = vg.call(reqwest::Method::GET, "/unknown", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn custom_credentials_replace_the_defaults() {
    let config = SandboxConfig {
        verigator_username: "api-user".into(),
        verigator_password: "s3cret".into(),
        ..SandboxConfig::seeded(33)
    };
    let vg = Vg::with(config).await;
    let url = vg.url("/service/service");
    let body = json!({"fqdn": "a.com", "name": "A"});
    assert_eq!(
        send(
            vg.http
                .post(&url)
                .header("X-Service-Auth", "sandbox:sandbox")
                .json(&body)
        )
        .await
        .0,
        401
    );
    assert_eq!(
        send(
            vg.http
                .post(&url)
                .header("X-Service-Auth", "api-user:s3cret")
                .json(&body)
        )
        .await
        .0,
        201
    );
}

#[tokio::test]
async fn seeded_users_are_indexed_like_created_ones() {
    let vg = Vg::new().await;
    let sid = vg.service("seeded.example").await;
    let phones: Vec<phone_verify_core::PhoneNumber> = (0..5_000u32)
        .map(|i| format!("+3725{:07}", 2_000_000 + i).parse().unwrap())
        .collect();
    let ids = vg
        .sb
        .seed_verigator_users(
            &sid,
            phones.iter().map(|p| (p.e164().to_owned(), p.clone())),
        )
        .unwrap();
    assert_eq!(ids.len(), 5_000);
    assert!(ids.iter().all(|id| is_uuid(id)));
    // Taken or repeated ids register nothing.
    let again = vg
        .sb
        .seed_verigator_users(&sid, [(phones[0].e164().to_owned(), phones[0].clone())]);
    assert!(again.is_err());
    let twice = [
        ("new".to_owned(), phones[1].clone()),
        ("new".to_owned(), phones[2].clone()),
    ];
    assert!(vg.sb.seed_verigator_users(&sid, twice).is_err());
    assert!(vg.sb.seed_verigator_users("no-such-service", []).is_err());

    // The API sees them: a duplicate registration is refused, one more is listed last.
    let users = format!("/service/service/{sid}/users");
    let (status, _) = vg
        .call(
            reqwest::Method::POST,
            &users,
            Some(json!({"id_in_service": phones[4_999].e164(), "phone_number": phones[4_999].e164()})),
        )
        .await;
    assert_eq!(status, 409);
    let newest = vg.user(&sid, "alice", "+37259999999").await;
    let (status, list) = vg.call(reqwest::Method::GET, &users, None).await;
    assert_eq!(status, 200);
    let listed = list["users"].as_array().unwrap();
    assert_eq!(listed.len(), 5_001);
    assert_eq!(list["total"], 5_001);
    assert_eq!(listed[0]["id"], ids[0].as_str());
    assert_eq!(listed[0]["id_in_service"], phones[0].e164());
    assert_eq!(listed[5_000]["id"], newest.as_str());

    // A seeded user authenticates, and deleting it frees its id_in_service.
    let (status, _) = vg.start_auth(&sid, &ids[7], "sms").await;
    assert_eq!(status, 201);
    assert_eq!(vg.sb.messages(phones[7].e164()).len(), 1);
    let (status, _) = vg
        .call(
            reqwest::Method::DELETE,
            &format!("{users}/{}", ids[7]),
            None,
        )
        .await;
    assert_eq!(status, 202);
    let (status, _) = vg
        .call(reqwest::Method::GET, &format!("{users}/{}", ids[7]), None)
        .await;
    assert_eq!(status, 404);
    vg.user(&sid, phones[7].e164(), phones[7].e164()).await;
}

#[tokio::test]
async fn stored_fields_over_256_bytes_are_refused_with_422() {
    let vg = Vg::new().await;
    let longest = "é".repeat(128);
    let over = format!("{longest}a");
    for (body, message) in [
        (
            json!({"fqdn": over, "name": "Shop"}),
            "Invalid data: fqdn is longer than 256 bytes",
        ),
        (
            json!({"fqdn": "shop.example", "name": over}),
            "Invalid data: name is longer than 256 bytes",
        ),
    ] {
        let got = vg
            .call(reqwest::Method::POST, "/service/service", Some(body))
            .await;
        assert_eq!(got, (422, json!({"message": message})));
    }
    let (status, created) = vg
        .call(
            reqwest::Method::POST,
            "/service/service",
            Some(json!({"fqdn": longest, "name": longest})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], longest.as_str());
    let sid = created["id"].as_str().unwrap();

    let users = format!("/service/service/{sid}/users");
    let got = vg
        .call(
            reqwest::Method::POST,
            &users,
            Some(json!({"id_in_service": over, "phone_number": "+37251234567"})),
        )
        .await;
    assert_eq!(
        got,
        (
            422,
            json!({"message": "Invalid data: id_in_service is longer than 256 bytes"})
        )
    );
    let (_, list) = vg.call(reqwest::Method::GET, &users, None).await;
    assert_eq!(list["total"], 0, "nothing stored");
    vg.user(sid, &longest, "+37251234567").await;

    // Seeding takes the same limit, registering none.
    let phone: phone_verify_core::PhoneNumber = "+37251234568".parse().unwrap();
    let seeded = vg
        .sb
        .seed_verigator_users(sid, [("ok".to_owned(), phone.clone()), (over, phone)]);
    assert!(seeded.unwrap_err().to_string().contains("at most 256"));
    let (_, list) = vg.call(reqwest::Method::GET, &users, None).await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn services_past_the_records_capacity_forget_the_oldest_with_its_users() {
    let vg = Vg::with(SandboxConfig {
        records_capacity: 2,
        ..SandboxConfig::seeded(32)
    })
    .await;
    let first = vg.service("first.example").await;
    let uid = vg.user(&first, "alice", "+37251234567").await;
    let second = vg.service("second.example").await;
    let third = vg.service("third.example").await;
    for path in [
        format!("/service/service/{first}"),
        format!("/service/service/{first}/users/{uid}"),
    ] {
        let got = vg.call(reqwest::Method::GET, &path, None).await;
        assert_eq!(
            got,
            (404, json!({"message": "Service not found"})),
            "{path}"
        );
    }
    assert_eq!(vg.start_auth(&first, &uid, "sms").await.0, 404);
    for sid in [&second, &third] {
        let path = format!("/service/service/{sid}");
        assert_eq!(vg.call(reqwest::Method::GET, &path, None).await.0, 200);
    }
    // The forgotten service's fqdn is free again; creating it forgets the next oldest.
    vg.service("first.example").await;
    let path = format!("/service/service/{second}");
    assert_eq!(vg.call(reqwest::Method::GET, &path, None).await.0, 404);
}

/// The users Verigator keeps across its services (the crate README's "Long-running instances").
const MAX_USERS: usize = 200_000;

#[tokio::test]
async fn users_past_200_000_registrations_forget_the_oldest_of_any_service() {
    let vg = Vg::new().await;
    let small = vg.service("small.example").await;
    let oldest = vg.user(&small, "oldest", "+37251234567").await;
    let large = vg.service("large.example").await;
    let phone: phone_verify_core::PhoneNumber = "+37251234568".parse().unwrap();
    let batch = |n: usize, tag: &str| -> Vec<(String, phone_verify_core::PhoneNumber)> {
        (0..n)
            .map(|i| (format!("{tag}{i}"), phone.clone()))
            .collect()
    };
    let too_many = vg
        .sb
        .seed_verigator_users(&large, batch(MAX_USERS + 1, "x"));
    assert!(too_many.unwrap_err().to_string().contains("at most 200000"));
    // As many as the cap allows with the one registered first: everyone is kept.
    let seeded = vg
        .sb
        .seed_verigator_users(&large, batch(MAX_USERS - 1, "s"))
        .unwrap();
    assert_eq!(vg.get_user(&small, &oldest).await.0, 200);
    assert_eq!(vg.get_user(&large, &seeded[0]).await.0, 200);

    // One more registration forgets the oldest user, in another service; the next one the
    // oldest seeded user.
    vg.user(&large, "newer", "+37251234569").await;
    assert_eq!(
        vg.get_user(&small, &oldest).await,
        (404, json!({"message": "User not found"}))
    );
    assert_eq!(vg.start_auth(&small, &oldest, "sms").await.0, 404);
    assert_eq!(vg.get_user(&large, &seeded[0]).await.0, 200);
    vg.user(&small, "oldest", "+37251234567").await;
    assert_eq!(vg.get_user(&large, &seeded[0]).await.0, 404);
    assert_eq!(vg.get_user(&large, &seeded[1]).await.0, 200);
    // The forgotten user's id_in_service is free again.
    vg.user(&large, "s0", "+37251234568").await;
    assert_eq!(vg.get_user(&large, &seeded[1]).await.0, 404);
}
