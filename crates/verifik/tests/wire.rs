//! Wire-exact tests of every Verifik endpoint and error shape against a mock HTTP server.

use std::net::IpAddr;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy, Timeouts};
use phone_verify_core::{
    Channel, CheckOutcome, CheckRequest, ErrorKind, PhoneVerifier, PhoneVerifierExt, ProviderId,
    RejectReason, RequestContext, SessionId, SessionResolver, StartRequest, Verification,
};
use phone_verify_verifik::{
    CreateManualValidation, CreateProjectValidation, EXTRA_COUNTRY_CODE, EXTRA_MODE,
    EXTRA_PHONE_GATEWAY, EXTRA_PROJECT, EXTRA_PROJECT_FLOW, ListValidations, Mode, PhoneGateway,
    Populate, ValidatePhone, ValidationMethod, ValidationStatus, ValidationType, VerifikBuilder,
    VerifikPhone, WhatsAppTemplate,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

mod common;
use common::*;

fn assert_bearer_json(request: &Request) {
    assert_eq!(
        header_of(request, "authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(header_of(request, "content-type"), Some("application/json"));
    assert_eq!(header_of(request, "accept"), Some("application/json"));
}

// ---- token acquisition ----------------------------------------------------------------------

/// A client of `server` without a token.
fn without_token(server: &MockServer) -> phone_verify_verifik::VerifikClient {
    VerifikBuilder::without_token()
        .base_url(&format!("{}/v2", server.uri()))
        .build_client()
        .unwrap()
}

/// Expects one read of validation [`ID`] sent with `token`.
async fn read_once_with_token(server: &MockServer, token: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/v2/phone-validations/{ID}")))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(json_response(
            200,
            &json!({"success": true, "data": {"_id": ID}}),
        ))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn phone_login_sends_the_documented_body_without_a_token() {
    let server = MockServer::start().await;
    let answer = created(
        "whatsapp",
        &json!({"countryCode": "+1", "phone": "1234566663", "type": "login", "phoneData": {"title": "Verifik Client"}}),
    );
    Mock::given(method("POST"))
        .and(path("/v2/projects/phone-login"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"countryCode": "+1", "phone": 1_234_566_663_u64, "type": "login"}),
        ))
        .respond_with(json_response(200, &answer))
        .expect(1)
        .mount(&server)
        .await;
    let login = without_token(&server);
    let phone = VerifikPhone::new("+1", "1234566663").unwrap();
    let sent = login.phone_login(&phone).await.unwrap();
    assert_eq!(sent.id, ID);
    assert_eq!(sent.kind, Some(ValidationType::Login));
    assert_eq!(sent.title.as_deref(), Some("Verifik Client"));
    assert_eq!(sent.request_id.as_deref(), Some("Y0628"));
    assert_eq!(sent.signed_at, Some(datetime!(2024-12-02 17:05 UTC)));
    let seen = requests(&server).await;
    assert!(header_of(&seen[0], "authorization").is_none());
}

#[tokio::test]
async fn phone_login_confirm_installs_a_30_day_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/phone-login/confirm"))
        .and(body_json(
            json!({"countryCode": "+39", "phone": "0669821234", "otp": "123456"}),
        ))
        .respond_with(json_response(
            200,
            &json!({"data": {"accessToken": "jwt-from-login", "tokenType": "bearer"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    read_once_with_token(&server, "jwt-from-login").await;
    let login = without_token(&server);
    let shared = login.clone();
    assert!(!login.has_token());
    let err = login.get_validation(ID).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "no token, no request");
    // An Italian number keeps its leading zero: it goes as a string.
    let phone = VerifikPhone::new("+39", "06 6982 1234").unwrap();
    let token = login
        .phone_login_confirm(&phone, &code("123456"))
        .await
        .unwrap();
    assert_eq!(token.secret().expose_secret(), "jwt-from-login");
    assert_eq!(token.token_type(), "bearer");
    assert_eq!(
        token.expires_at() - token.issued_at(),
        time::Duration::days(30)
    );
    assert_eq!(shared.token_expires_at(), Some(token.expires_at()));
    assert!(!format!("{token:?}{shared:?}").contains("jwt-from-login"));
    shared.get_validation(ID).await.unwrap();
}

#[tokio::test]
async fn tokens_installed_later_are_sent_by_the_client_and_its_clones() {
    let server = MockServer::start().await;
    for token in ["set-by-hand", "obtained-elsewhere"] {
        read_once_with_token(&server, token).await;
    }
    let client = without_token(&server);
    let clone = client.clone();
    assert!(!client.has_token());
    assert!(
        format!("{client:?}").contains("has_token: false"),
        "{client:?}"
    );
    // Refused before anything is installed: the client stays without a token.
    for bad in ["", "  ", "line\nbreak"] {
        let err = client.set_token(SecretString::from(bad)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        assert!(!client.has_token());
    }

    client.set_token(SecretString::from("set-by-hand")).unwrap();
    assert!(clone.has_token());
    assert_eq!(clone.token_expires_at(), None);
    let shown = format!("{client:?}");
    assert!(shown.starts_with("VerifikClient {"), "{shown}");
    assert!(
        shown.contains("has_token: true") && !shown.contains("set-by-hand"),
        "{shown}"
    );
    assert!(shown.contains(&server.uri()), "{shown}");
    clone.get_validation(ID).await.unwrap();

    let issued = OffsetDateTime::now_utc();
    let token = phone_verify_verifik::AccessToken::new(
        SecretString::from("obtained-elsewhere"),
        issued,
        Duration::from_secs(3600),
    );
    clone.set_access_token(&token).unwrap();
    assert_eq!(client.token_expires_at(), Some(token.expires_at()));
    client.get_validation(ID).await.unwrap();
    let blank = phone_verify_verifik::AccessToken::new(
        SecretString::from(" "),
        issued,
        Duration::from_secs(3600),
    );
    let err = client.set_access_token(&blank).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(client.token_expires_at(), Some(token.expires_at()));
    server.verify().await;
}

#[tokio::test]
async fn phone_login_confirm_with_a_wrong_code_is_bad_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/phone-login/confirm"))
        .respond_with(json_response(
            400,
            &json!({"code": "BadRequest", "message": "Invalid OTP code."}),
        ))
        .mount(&server)
        .await;
    let err = client(&server)
        .phone_login_confirm(
            &VerifikPhone::new("+1", "1234566663").unwrap(),
            &code("000000"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.provider_code(), Some("BadRequest"));
    assert_eq!(err.provider_message(), Some("Invalid OTP code."));
    assert_eq!(err.http_status(), Some(400));
}

#[tokio::test]
async fn email_login_puts_the_address_in_the_query() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/email-login"))
        .and(query_param("email", "ana+1@acme.test"))
        .respond_with(json_response(200, &json!({
            "data": {"status": "sent", "email": "ana+1@acme.test", "expiresAt": "2024-05-29T03:51:26.000Z"},
            "signature": {"dateTime": "May 29, 2024 3:41 AM", "message": "Certified by Verifik.co"},
            "id": "EML01"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/email-login"))
        .and(query_param("email", "nobody@acme.test"))
        .respond_with(json_response(
            404,
            &json!({"code": "NotFound", "message": "invalid_email"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let sent = client.email_login(" ana+1@acme.test ").await.unwrap();
    assert_eq!(sent.status.as_deref(), Some("sent"));
    assert_eq!(sent.expires_at, Some(datetime!(2024-05-29 03:51:26 UTC)));
    assert_eq!(sent.request_id.as_deref(), Some("EML01"));
    let err = client.email_login("nobody@acme.test").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.provider_code(), Some("invalid_email"));
    let bad = client.email_login("not-an-address").await.unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidInput);
    assert_eq!(requests(&server).await.len(), 2);
    assert!(requests(&server).await[0].body.is_empty());
}

#[tokio::test]
async fn email_login_confirm_exchanges_the_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/email-login/confirm"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"email": "ana@acme.test", "otp": "654321"}),
        ))
        .respond_with(json_response(
            200,
            &json!({"data": {"accessToken": "jwt-email", "tokenType": "bearer"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/email-login/confirm"))
        .and(body_json(
            json!({"email": "ana@acme.test", "otp": "111111"}),
        ))
        .respond_with(json_response(
            400,
            &json!({"message": "invalid_otp", "code": "ERROR"}),
        ))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client
        .email_login_confirm("ana@acme.test", &code("111111"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.provider_code(), Some("invalid_otp"));
    let token = client
        .email_login_confirm("ana@acme.test", &code("654321"))
        .await
        .unwrap();
    assert_eq!(token.secret().expose_secret(), "jwt-email");
}

#[tokio::test]
async fn renew_session_uses_the_bare_token_and_counts_months() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/auth/session"))
        .and(query_param("origin", "refresh"))
        .and(query_param("expiresIn", "120"))
        .and(header("authorization", TOKEN))
        .respond_with(json_response(
            200,
            &json!({"accessToken": "jwt-renewed", "tokenType": "bearer"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/auth/session"))
        .and(header("authorization", "jwt-renewed"))
        .respond_with(json_response(
            409,
            &json!({"code": "MissingParameter", "message": "missing Authorization header"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let token = client.renew_session(120).await.unwrap();
    assert_eq!(token.secret().expose_secret(), "jwt-renewed");
    assert_eq!(
        token.expires_at() - token.issued_at(),
        time::Duration::days(120 * 30)
    );
    let err = client.renew_session(1).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.provider_code(), Some("MissingParameter"));
    for months in [0, 1201] {
        assert_eq!(
            client.renew_session(months).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn renew_and_revoke_installs_the_new_token_and_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/auth/renew-and-revoke"))
        .and(header("authorization", TOKEN))
        .respond_with(json_response(200, &json!({"token": "jwt-after-revoke"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/auth/renew-and-revoke"))
        .and(header("authorization", "jwt-after-revoke"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let token = client.renew_and_revoke().await.unwrap();
    assert_eq!(token.secret().expose_secret(), "jwt-after-revoke");
    assert_eq!(
        token.expires_at() - token.issued_at(),
        time::Duration::days(30)
    );
    let err = client.renew_and_revoke().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
}

#[tokio::test]
async fn unauthorized_answers_keep_their_reason() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/phone-validations"))
        .respond_with(json_response(401, &json!({
            "code": "Unauthorized",
            "message": "Invalid or expired token.",
            "signature": {"dateTime": "May 29, 2024 3:41 AM", "message": "Certified by Verifik.co"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .list_validations(&ListValidations::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.provider_code(), Some("Unauthorized"));
    assert_eq!(err.provider_message(), Some("Invalid or expired token."));
    assert_eq!(err.http_status(), Some(401));
    assert_eq!(err.provider().map(ProviderId::as_str), Some("verifik"));
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}

// ---- phone validations ----------------------------------------------------------------------

#[tokio::test]
async fn project_create_sends_every_field() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({
            "project": PROJECT,
            "validationMethod": "verificationCode",
            "phone": "62647737",
            "countryCode": "+507",
            "type": "login",
            "expiresAt": "2024-12-31T23:59:59.000Z",
            "redirectUrl": "https://yourapp.com/success",
            "webhookUrl": "https://yourapp.com/webhook",
            "identityUrl": "https://yourapp.com/identity",
            "requires2FA": false,
            "ipAddress": "192.168.1.1"
        })))
        .respond_with(json_response(
            200,
            &created("whatsapp", &json!({"type": "login"})),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateProjectValidation::new(
        PROJECT,
        VerifikPhone::new("+507", "6264 7737").unwrap(),
        ValidationType::Login,
    )
    .expires_at(datetime!(2024-12-31 23:59:59 UTC))
    .redirect_url("https://yourapp.com/success")
    .webhook_url("https://yourapp.com/webhook")
    .identity_url("https://yourapp.com/identity")
    .requires_2fa(false)
    .ip_address("192.168.1.1".parse().unwrap());
    let created = client(&server)
        .create_project_validation(&request)
        .await
        .unwrap();
    assert_eq!(created.id, ID);
    assert_eq!(created.status, Some(ValidationStatus::Sent));
    assert_eq!(created.project.as_deref(), Some(PROJECT));
    assert_bearer_json(&requests(&server).await[0]);
}

#[tokio::test]
async fn app_registration_create_uses_the_registration_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations/app-registration"))
        .and(header("authorization", "Bearer registration-jwt"))
        .and(body_json(json!({
            "project": PROJECT,
            "validationMethod": "verificationCode",
            "phone": "62647737",
            "countryCode": "+507",
            "type": "onboarding"
        })))
        .respond_with(json_response(
            200,
            &created("whatsapp", &json!({"type": "onboarding"})),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .and(header("authorization", "Bearer registration-jwt"))
        .and(body_json(
            json!({"phone": "62647737", "countryCode": "+507", "otp": 123_456}),
        ))
        .respond_with(json_response(200, &validated("onboarding")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations/app-registration"))
        .and(body_json(json!({
            "project": "507f1f77bcf86cd799439099",
            "validationMethod": "verificationCode",
            "phone": "62647737",
            "countryCode": "+507",
            "type": "onboarding"
        })))
        .respond_with(json_response(
            404,
            &json!({"code": "project_not_found", "message": "404:project_not_found"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let registration = SecretString::from("registration-jwt".to_owned());
    let phone = VerifikPhone::new("+507", "62647737").unwrap();
    let request = CreateProjectValidation::new(PROJECT, phone.clone(), ValidationType::Onboarding);
    let created = client
        .create_app_registration_validation(&registration, &request)
        .await
        .unwrap();
    assert_eq!(created.kind, Some(ValidationType::Onboarding));
    let validated = client
        .with_token(registration.clone())
        .unwrap()
        .validate(&ValidatePhone::new(phone.clone(), code("123456")))
        .await
        .unwrap();
    assert!(validated.is_validated());
    let manual = request.clone().validation_method(ValidationMethod::Manual);
    let err = client
        .create_app_registration_validation(&registration, &manual)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "refused before sending"
    );
    let unknown = CreateProjectValidation::new(
        "507f1f77bcf86cd799439099",
        phone,
        ValidationType::Onboarding,
    );
    let err = client
        .create_app_registration_validation(&registration, &unknown)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.provider_code(), Some("project_not_found"));
    assert_eq!(err.provider_message(), Some("404:project_not_found"));
}

#[tokio::test]
async fn manual_create_sends_every_field() {
    let server = MockServer::start().await;
    let answer = created(
        "sms",
        &json!({"source": "manual", "project": null, "projectFlow": null, "sent": true, "otp": 626_673,
                "phoneData": {"title": "Acme"}, "providerConfirmation": {"sid": "SM1", "status": "queued"}}),
    );
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations/manual"))
        .and(body_json(json!({
            "phone": "3001234567",
            "countryCode": "+57",
            "phoneGateway": "sms",
            "title": "Acme",
            "language": "es",
            "whatsappTemplate": "flow2",
            "force": true,
            "ipAddress": "203.0.113.7"
        })))
        .respond_with(json_response(200, &answer))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateManualValidation::new(
        VerifikPhone::new("+57", "300 123 4567").unwrap(),
        PhoneGateway::Sms,
    )
    .title("Acme")
    .language("es")
    .whatsapp_template(WhatsAppTemplate::Flow2)
    .force(true)
    .ip_address("203.0.113.7".parse().unwrap());
    let created = client(&server)
        .create_manual_validation(&request)
        .await
        .unwrap();
    assert_eq!(created.sent, Some(true));
    assert_eq!(created.source.as_deref(), Some("manual"));
    assert_eq!(created.title.as_deref(), Some("Acme"));
    assert!(
        !format!("{created:?}").contains("626673"),
        "the code is never read"
    );
    assert_bearer_json(&requests(&server).await[0]);
}

#[tokio::test]
async fn manual_create_refuses_bad_input_before_sending_and_unsent_answers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations/manual"))
        .respond_with(json_response(
            200,
            &created("whatsapp", &json!({"sent": false})),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let phone = VerifikPhone::new("+507", "62647737").unwrap();
    for request in [
        CreateManualValidation::new(phone.clone(), PhoneGateway::None),
        CreateManualValidation::new(phone.clone(), PhoneGateway::Sms).title("A title too long!"),
        CreateManualValidation::new(phone.clone(), PhoneGateway::Sms).title(""),
        CreateManualValidation::new(phone.clone(), PhoneGateway::Sms).language("english please"),
        CreateManualValidation::new(phone.clone(), PhoneGateway::WhatsApp)
            .whatsapp_template(WhatsAppTemplate::Other("fancy".into())),
    ] {
        let err = client.create_manual_validation(&request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{request:?}");
    }
    assert!(requests(&server).await.is_empty());
    let err = client
        .create_manual_validation(&CreateManualValidation::new(phone, PhoneGateway::WhatsApp))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.request_id(), Some("Y0628"));
}

#[tokio::test]
async fn validate_sends_the_code_as_a_number_with_the_filters() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .and(body_json(json!({
            "phone": "62647737",
            "countryCode": "+507",
            "otp": 123_456,
            "project": PROJECT,
            "projectFlow": "507f1f77bcf86cd799439015",
            "phoneGateway": "none"
        })))
        .respond_with(json_response(200, &json!({"data": {
            "_id": ID, "status": "validated", "countryCode": "+507", "phone": "62647737", "type": "login",
            "showFaceLivenessRecommendation": true,
            "appLogin": {"id": "66aa", "status": "validated"}, "token": "login-jwt-canary"
        }, "id": "V1"})))
        .expect(1)
        .mount(&server)
        .await;
    let request = ValidatePhone::new(
        VerifikPhone::new("+507", "62647737").unwrap(),
        code("123456"),
    )
    .project(PROJECT)
    .project_flow("507f1f77bcf86cd799439015")
    .gateway(PhoneGateway::None);
    let validated = client(&server).validate(&request).await.unwrap();
    assert_eq!(validated.id, ID);
    assert_eq!(validated.show_face_liveness_recommendation, Some(true));
    assert_eq!(
        validated.token.as_ref().unwrap().expose_secret(),
        "login-jwt-canary"
    );
    assert_eq!(validated.request_id.as_deref(), Some("V1"));
    assert_eq!(validated.phone_number(), Some(panama()));
    assert!(!format!("{validated:?}").contains("canary"));
    assert_bearer_json(&requests(&server).await[0]);
}

#[tokio::test]
async fn list_sends_pagination_and_filters() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/phone-validations"))
        .and(query_param("page", "2"))
        .and(query_param("limit", "50"))
        .and(query_param("project", PROJECT))
        .and(query_param("status", "validated"))
        .and(query_param("type", "login"))
        .and(query_param("countryCode", "+507"))
        .and(query_param("phone", "62647737"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_response(200, &json!({
            "success": true,
            "data": [{"_id": ID, "status": "validated", "project": {"_id": PROJECT, "name": "Demo"}}, {"_id": "b2"}],
            "pagination": {"page": 2, "limit": 50, "total": 52, "pages": 2},
            "signature": {"dateTime": "May 29, 2024 3:41 AM", "message": "Certified by Verifik.co"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let query = ListValidations::new()
        .page(2)
        .limit(50)
        .project(PROJECT)
        .status(ValidationStatus::Validated)
        .validation_type(ValidationType::Login)
        .phone(&VerifikPhone::new("+507", "62647737").unwrap())
        .populate(Populate::Project)
        .populate(Populate::Client);
    let client = client(&server);
    let page = client.list_validations(&query).await.unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[0].project.as_deref(), Some(PROJECT));
    let pagination = page.pagination.unwrap();
    assert_eq!((pagination.total, pagination.pages), (52, 2));
    let seen = requests(&server).await;
    let pairs: Vec<(String, String)> = seen[0]
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let populates: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "populates[]")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(populates, ["project", "client"]);
    for bad in [
        ListValidations::new().page(0),
        ListValidations::new().limit(0),
        ListValidations::new().limit(101),
        ListValidations::new().country_code("507"),
        ListValidations::new().project("a/b"),
    ] {
        let err = client.list_validations(&bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn list_errors_in_envelope_c() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/phone-validations"))
        .respond_with(json_response(
            400,
            &json!({"success": false, "error": "Invalid parameters", "code": "INVALID_PARAMETERS"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .list_validations(&ListValidations::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.provider_code(), Some("INVALID_PARAMETERS"));
    assert_eq!(err.provider_message(), Some("Invalid parameters"));
}

#[tokio::test]
async fn get_by_id_reads_the_validation() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/phone-validations/{ID}")))
        .respond_with(json_response(200, &created("sms", &json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/phone-validations/000000000000000000000000"))
        .respond_with(json_response(404, &json!({"success": false, "error": "Phone validation not found", "code": "PHONE_VALIDATION_NOT_FOUND"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let found = client.get_validation(ID).await.unwrap();
    assert_eq!(found.phone_gateway, Some(PhoneGateway::Sms));
    assert_eq!(found.phone_number(), Some(panama()));
    // The envelope's request id and signature date are kept with the validation.
    assert_eq!(found.request_id.as_deref(), Some("Y0628"));
    assert_eq!(found.signed_at, Some(datetime!(2024-12-02 17:05 UTC)));
    let err = client
        .get_validation("000000000000000000000000")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.provider_code(), Some("PHONE_VALIDATION_NOT_FOUND"));
    for bad in ["", "../../auth/session", "a b", "x?y=1"] {
        let err = client.get_validation(bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    assert_eq!(requests(&server).await.len(), 2);
}

// ---- the verifier ---------------------------------------------------------------------------

#[tokio::test]
async fn verifier_manual_flow_start_then_check() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations/manual"))
        .and(body_json(json!({
            "phone": "62647737",
            "countryCode": "+507",
            "phoneGateway": "whatsapp",
            "title": "Acme",
            "language": "pt",
            "ipAddress": "203.0.113.7"
        })))
        .respond_with(json_response(
            200,
            &created(
                "whatsapp",
                &json!({"project": null, "projectFlow": null, "sent": true}),
            ),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .and(body_json(json!({"phone": "62647737", "countryCode": "+507", "otp": 987_654, "phoneGateway": "whatsapp"})))
        .respond_with(json_response(200, &validated("validation")))
        .expect(1)
        .mount(&server)
        .await;
    let first = builder(&server)
        .mode(Mode::manual().with_title("Acme").unwrap())
        .build()
        .unwrap();
    let ip: IpAddr = "203.0.113.7".parse().unwrap();
    let request = StartRequest::otp(Channel::WhatsApp, panama())
        .language("pt-BR".parse().unwrap())
        .end_user_ip(ip);
    let handle = first.start(&request).await.unwrap();
    assert_eq!(handle.reference, ID);
    assert_eq!(handle.channel, Channel::WhatsApp);
    assert_eq!(handle.phone, Some(panama()));
    assert_eq!(handle.created_at, datetime!(2024-12-02 17:05:36.788 UTC));
    assert_eq!(handle.expires_at, Some(datetime!(2024-12-02 17:15:35 UTC)));
    assert_eq!(handle.extra_str(EXTRA_COUNTRY_CODE), Some("+507"));
    assert_eq!(handle.extra_str(EXTRA_PHONE_GATEWAY), Some("whatsapp"));
    assert_eq!(handle.extra_str(EXTRA_MODE), Some("manual"));
    assert_eq!(handle.extra_str(EXTRA_PROJECT), None);
    // Another process checks the JSON form of the handle with a fresh verifier.
    let parsed = Verification::from_json(&handle.to_json().unwrap()).unwrap();
    let outcome = verifier(&server)
        .check_code(&parsed, &code("987654"))
        .await
        .unwrap();
    let verified = outcome.verified().expect("verified");
    assert_eq!(verified.phone, Some(panama()));
    assert_eq!(verified.channel, Channel::WhatsApp);
    assert_eq!(
        verified.session_id.as_ref().map(SessionId::as_str),
        Some(ID)
    );
}

#[tokio::test]
async fn verifier_project_flow_start_then_check() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations"))
        .and(body_json(json!({
            "project": PROJECT,
            "validationMethod": "verificationCode",
            "phone": "62647737",
            "countryCode": "+507",
            "type": "validation",
            "webhookUrl": "https://acme.test/hook",
            "requires2FA": true,
            "phoneGateway": "sms",
            "language": "es"
        })))
        .respond_with(json_response(200, &created("sms", &json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .and(body_json(json!({
            "phone": "62647737", "countryCode": "+507", "otp": 4321,
            "project": PROJECT, "projectFlow": "507f1f77bcf86cd799439015", "phoneGateway": "sms"
        })))
        .respond_with(json_response(
            403,
            &json!({"message": "otp_does_not_match", "code": "Forbidden"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let mode = Mode::project_flow(PROJECT)
        .unwrap()
        .with_channel(Channel::Sms)
        .unwrap()
        .with_webhook_url("https://acme.test/hook")
        .unwrap()
        .with_requires_2fa(true)
        .unwrap();
    let verifier = builder(&server).mode(mode.clone()).build().unwrap();
    assert_eq!(verifier.mode(), &mode);
    let caps = verifier.capabilities();
    assert_eq!(caps.otp_channels, [Channel::Sms]);
    assert!(caps.session_resolution && caps.check_returns_session && caps.localized_messages);
    let handle = verifier
        .start(&StartRequest::sms(panama()).language("es-PA".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(handle.extra_str(EXTRA_MODE), Some("project_flow"));
    assert_eq!(handle.extra_str(EXTRA_PROJECT), Some(PROJECT));
    assert_eq!(
        handle.extra_str(EXTRA_PROJECT_FLOW),
        Some("507f1f77bcf86cd799439015")
    );
    let outcome = verifier.check_code(&handle, &code("4321")).await.unwrap();
    let rejection = outcome.rejection().expect("rejected");
    assert_eq!(rejection.reason, RejectReason::WrongCode);
    assert_eq!(
        rejection.provider_code.as_deref(),
        Some("otp_does_not_match")
    );
    assert_eq!(rejection.message.as_deref(), Some("otp_does_not_match"));
    let err = verifier
        .start(&StartRequest::otp(Channel::WhatsApp, panama()))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Unsupported,
        "not the project's channel"
    );
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn verifier_refuses_bad_input_before_any_request() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let caps = verifier.capabilities();
    assert_eq!(caps.otp_channels, [Channel::Sms, Channel::WhatsApp]);
    assert!(caps.reverse_channels.is_empty() && !caps.qr_code);
    assert!(caps.session_resolution && caps.check_returns_session && caps.localized_messages);
    for request in [
        StartRequest::otp(Channel::Voice, panama()),
        StartRequest::new(Channel::Sms, None),
        StartRequest::reverse(Channel::WhatsApp),
        StartRequest::sms(panama()).qr_code(true),
    ] {
        let err = verifier.start(&request).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported),
            "{request:?}: {err}"
        );
    }
    let handle = Verification::new(phone_verify_verifik::PROVIDER, ID, Channel::Sms)
        .with_phone(panama())
        .with_extra(EXTRA_PHONE_GATEWAY, "sms");
    let mut foreign = handle.clone();
    foreign.provider = ProviderId::new_static("verifykit");
    let cases = [
        (foreign, CheckRequest::code(code("123456"))),
        (handle.clone(), CheckRequest::poll()),
        (handle.clone(), CheckRequest::code(code("12AB56"))),
        (
            handle.clone().with_extra(EXTRA_PHONE_GATEWAY, "telegram"),
            CheckRequest::code(code("123456")),
        ),
        (
            handle.clone().with_extra(EXTRA_PROJECT, "../x"),
            CheckRequest::code(code("123456")),
        ),
        (
            Verification::new(phone_verify_verifik::PROVIDER, ID, Channel::Sms),
            CheckRequest::code(code("123456")),
        ),
    ];
    for (handle, request) in cases {
        let err = verifier.check(&handle, &request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{handle:?}: {err}");
    }
    for bad in ["../../auth/session", "a%2Fb", "x.y"] {
        let err = verifier
            .resolve(&SessionId::new(bad).unwrap(), &RequestContext::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
    }
    assert!(requests(&server).await.is_empty());
}

/// A mode whose public fields were set past the `with_*` checks, in a verifier made by
/// `Verifik::new`: no channel offered, every start refused before any request.
#[tokio::test]
async fn a_verifier_with_a_mode_changed_on_its_fields_starts_nothing() {
    let server = MockServer::start().await;
    let mut mode = Mode::project_flow(PROJECT).unwrap();
    if let Mode::ProjectFlow(project) = &mut mode {
        project.channel = Channel::Telegram;
    }
    let verifier = phone_verify_verifik::Verifik::new(client(&server), mode.clone());
    assert!(verifier.capabilities().otp_channels.is_empty());
    for request in [
        StartRequest::otp(Channel::Telegram, panama()),
        StartRequest::sms(panama()),
    ] {
        let err = verifier.start(&request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{request:?}: {err}");
    }
    let mut manual = Mode::manual();
    if let Mode::Manual(settings) = &mut manual {
        settings.title = Some("A title far too long".to_owned());
    }
    let verifier = phone_verify_verifik::Verifik::new(client(&server), manual.clone());
    let err = verifier
        .start(&StartRequest::sms(panama()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    // The builder refuses both, and so does a client of a configuration changed after its
    // checks.
    for mode in [mode, manual] {
        let err = builder(&server).mode(mode.clone()).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        let mut config = builder(&server).config().unwrap();
        config.mode = mode;
        let err = phone_verify_verifik::VerifikClient::new(config).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert!(requests(&server).await.is_empty());
}

/// A create answered with a validation id a check would refuse: the handle could never be
/// checked, and Verifik took the request, so the code may be on its way.
#[tokio::test]
async fn a_created_validation_whose_id_cannot_be_checked_is_maybe_sent() {
    for (mode, extra) in [
        (Mode::manual(), json!({"sent": true, "_id": "a/b"})),
        (Mode::manual(), json!({"sent": true, "_id": "x".repeat(65)})),
        (
            Mode::project_flow(PROJECT).unwrap(),
            json!({"projectFlow": "../flow"}),
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(json_response(200, &created("sms", &extra)))
            .expect(1)
            .mount(&server)
            .await;
        let channel = mode.channels()[0].clone();
        let verifier = builder(&server).mode(mode).build().unwrap();
        let err = verifier
            .start(&StartRequest::otp(channel, panama()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MaybeSent, "{extra}: {err}");
        assert_eq!(err.request_id(), Some("Y0628"), "{extra}");
        assert!(!err.is_retryable());
    }
}

/// Verifik looks for the phone's latest sent, unexpired validation: past the handle's expiry
/// (on the verifier's clock), `phone_validation_not_found` is the code expired.
#[tokio::test]
async fn a_validation_not_found_past_the_handles_expiry_is_expired() {
    let not_found = json!({"code": "phone_validation_not_found", "message": "404:phone_validation_not_found", "id": "R404"});
    let handle = Verification::new(phone_verify_verifik::PROVIDER, ID, Channel::Sms)
        .with_phone(panama())
        .with_extra(EXTRA_PHONE_GATEWAY, "sms")
        .with_created_at(OffsetDateTime::now_utc() - time::Duration::minutes(20));
    for (expires_in, reason) in [
        (time::Duration::minutes(-10), RejectReason::Expired),
        (time::Duration::minutes(10), RejectReason::NotFound),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path("/v2/phone-validations"))
            .respond_with(json_response(404, &not_found))
            .expect(1)
            .mount(&server)
            .await;
        let handle = handle
            .clone()
            .with_expires_at(OffsetDateTime::now_utc() + expires_in);
        let outcome = verifier(&server)
            .check_code(&handle, &code("123456"))
            .await
            .unwrap();
        let rejection = outcome.rejection().expect("rejected");
        assert_eq!(rejection.reason, reason, "{expires_in}");
        assert_eq!(
            rejection.provider_code.as_deref(),
            Some("phone_validation_not_found")
        );
        assert_eq!(rejection.request_id.as_deref(), Some("R404"));
    }
}

/// A lost answer to renew-and-revoke may have revoked the installed token: its error says so,
/// as an unusable 2xx answer's does; a refusal before processing does not.
#[tokio::test]
async fn a_lost_renew_and_revoke_answer_says_the_token_may_be_revoked() {
    let answers = [
        (ResponseTemplate::new(502), true),
        (ResponseTemplate::new(503).set_body_string("busy"), true),
        (
            ResponseTemplate::new(200)
                .set_body_json(json!({"token": "late"}))
                .set_delay(Duration::from_secs(3)),
            true,
        ),
        (
            ResponseTemplate::new(503).insert_header("retry-after", "60"),
            false,
        ),
        (
            json_response(
                401,
                &json!({"code": "Unauthorized", "message": "Invalid or expired token."}),
            ),
            false,
        ),
        // A 2xx Verifik answered, but that cannot be used: it took the call.
        (ResponseTemplate::new(200).set_body_string("not-json"), true),
        (json_response(200, &json!({"data": 5})), true),
        (json_response(200, &json!({"token": 5})), true),
    ];
    for (answer, in_doubt) in answers {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v2/auth/renew-and-revoke"))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        let client = builder(&server)
            .timeouts(Timeouts::default().with_attempt(Duration::from_millis(300)))
            .build_client()
            .unwrap();
        let err = client.renew_and_revoke().await.unwrap_err();
        assert_eq!(
            err.to_string()
                .contains("may have revoked every older token"),
            in_doubt,
            "{err}"
        );
        assert!(!err.to_string().contains(TOKEN), "{err}");
        assert!(client.has_token());
    }
}

/// A connection never made sent nothing: renew-and-revoke's error does not say the token may
/// be revoked.
#[tokio::test]
async fn renew_and_revoke_without_a_connection_leaves_the_token_in_no_doubt() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let client = VerifikBuilder::new(TOKEN)
        .base_url(&format!("http://{addr}/v2"))
        .build_client()
        .unwrap();
    let err = client.renew_and_revoke().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(
        !err.to_string()
            .contains("may have revoked every older token"),
        "{err}"
    );
    assert!(client.has_token());
}

#[tokio::test]
async fn resend_forces_a_new_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations/manual"))
        .and(body_json(
            json!({"phone": "62647737", "countryCode": "+507", "phoneGateway": "sms"}),
        ))
        .respond_with(json_response(200, &created("sms", &json!({"sent": true}))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations/manual"))
        .and(body_json(json!({"phone": "62647737", "countryCode": "+507", "phoneGateway": "sms", "force": true})))
        .respond_with(json_response(200, &created("sms", &json!({"sent": true, "_id": "674de8df21c72be3cc42b8a8"}))))
        .expect(1)
        .mount(&server)
        .await;
    let verifier = verifier(&server);
    let first = verifier.start(&StartRequest::sms(panama())).await.unwrap();
    let second = verifier
        .resend(&first, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(second.reference, "674de8df21c72be3cc42b8a8");
    assert_eq!(second.channel, Channel::Sms);
}

#[tokio::test]
async fn resolver_resolves_only_validated_validations() {
    let server = MockServer::start().await;
    let record = |id: &str, status: &str, expires: &str, signed: &str| {
        json!({"success": true, "signature": {"dateTime": signed, "message": "Certified by Verifik.co"}, "data": {
            "_id": id, "status": status, "countryCode": "+507", "phone": "62647737", "phoneGateway": "whatsapp",
            "type": "validation", "project": PROJECT, "expiresAt": expires, "validatedAt": "2024-12-02T17:06:00.000Z",
            "validationMethod": "verificationCode"
        }, "id": format!("REQ-{}", &id[id.len() - 1..])})
    };
    // Validated at 17:06, read at 17:10 on Verifik's clock: within the 15 minutes a session
    // resolves for.
    let cases = [
        (
            "aaaaaaaaaaaaaaaaaaaaaaa1",
            "validated",
            "2024-12-02T17:15:35.000Z",
            "December 2, 2024 5:10 PM",
        ),
        (
            "aaaaaaaaaaaaaaaaaaaaaaa2",
            "sent",
            "2024-12-02T17:15:35.000Z",
            "December 2, 2024 5:10 PM",
        ),
        (
            "aaaaaaaaaaaaaaaaaaaaaaa3",
            "sent",
            "2024-12-02T17:15:35.000Z",
            "December 2, 2024 5:20 PM",
        ),
    ];
    for (id, status, expires, signed) in cases {
        Mock::given(method("GET"))
            .and(path(format!("/v2/phone-validations/{id}")))
            .respond_with(json_response(200, &record(id, status, expires, signed)))
            .mount(&server)
            .await;
    }
    // Validated another way than by a code: the method is kept as an extra.
    let mut manual = record(
        "aaaaaaaaaaaaaaaaaaaaaaa5",
        "validated",
        "2024-12-02T17:15:35.000Z",
        "December 2, 2024 5:10 PM",
    );
    manual["data"]["validationMethod"] = json!("manual");
    Mock::given(method("GET"))
        .and(path("/v2/phone-validations/aaaaaaaaaaaaaaaaaaaaaaa5"))
        .respond_with(json_response(200, &manual))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/phone-validations/aaaaaaaaaaaaaaaaaaaaaaa4"))
        .respond_with(json_response(404, &json!({"code": "phone_validation_not_found", "message": "404:phone_validation_not_found"})))
        .mount(&server)
        .await;
    let verifier = verifier(&server);
    let resolve = |id: &str| {
        let verifier = verifier.clone();
        let session = SessionId::new(id).unwrap();
        async move { verifier.resolve(&session, &RequestContext::new()).await }
    };
    let found = resolve("aaaaaaaaaaaaaaaaaaaaaaa1").await.unwrap();
    assert_eq!(found.phone, panama());
    assert_eq!(found.channel, Channel::WhatsApp);
    assert_eq!(found.provider.as_str(), "verifik");
    assert_eq!(found.verified_at, Some(datetime!(2024-12-02 17:06 UTC)));
    assert_eq!(found.extras.get("type"), Some(&json!("validation")));
    assert_eq!(found.extras.get("project"), Some(&json!(PROJECT)));
    assert_eq!(
        found.extras.get("validation_method"),
        None,
        "the usual method"
    );
    let manual = resolve("aaaaaaaaaaaaaaaaaaaaaaa5").await.unwrap();
    assert_eq!(
        manual.extras.get("validation_method"),
        Some(&json!("manual"))
    );
    let pending = resolve("aaaaaaaaaaaaaaaaaaaaaaa2").await.unwrap_err();
    assert_eq!(pending.kind(), ErrorKind::NotFound);
    assert!(pending.to_string().contains("not verified"), "{pending}");
    assert_eq!(pending.provider_code(), Some("sent"));
    assert_eq!(pending.request_id(), Some("REQ-2"));
    let expired = resolve("aaaaaaaaaaaaaaaaaaaaaaa3").await.unwrap_err();
    assert_eq!(expired.kind(), ErrorKind::Expired, "on Verifik's clock");
    assert_eq!(expired.request_id(), Some("REQ-3"));
    let unknown = resolve("aaaaaaaaaaaaaaaaaaaaaaa4").await.unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert_eq!(unknown.provider_code(), Some("phone_validation_not_found"));
}

/// A validated record of `GET /v2/phone-validations/{id}` (its `id` `REQ-9`), with `dates`
/// (`validatedAt`, `updatedAt`, `createdAt`, `project`: each left out when `None`), read when
/// Verifik's clock said `signed` (no signature when `None`).
fn validated_record(dates: [Option<&str>; 4], signed: Option<&str>) -> Value {
    let mut data = json!({
        "_id": ID, "status": "validated", "countryCode": "+507", "phone": "62647737",
        "phoneGateway": "sms", "type": "validation",
    });
    for (field, value) in ["validatedAt", "updatedAt", "createdAt", "project"]
        .into_iter()
        .zip(dates)
    {
        if let Some(value) = value {
            data[field] = json!(value);
        }
    }
    let mut body = json!({"success": true, "data": data, "id": "REQ-9"});
    if let Some(signed) = signed {
        body["signature"] = json!({"dateTime": signed, "message": "Certified by Verifik.co"});
    }
    body
}

/// Resolves `ID` with `verifier` on a server answering `body`.
async fn resolve_record(
    verifier: impl FnOnce(&MockServer) -> phone_verify_verifik::Verifik,
    body: &Value,
) -> phone_verify_core::Result<phone_verify_core::ResolvedSession> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/phone-validations/{ID}")))
        .respond_with(json_response(200, body))
        .expect(1)
        .mount(&server)
        .await;
    let verifier = verifier(&server);
    verifier
        .resolve(&SessionId::new(ID).unwrap(), &RequestContext::new())
        .await
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Verifik's ids can be guessed from one another (ObjectIds): a validated record resolves only
/// within the resolve max age (15 minutes by default) of its validation, measured on Verifik's
/// clock (the answer's signature) from `validatedAt`, else `updatedAt`, else `createdAt`.
#[tokio::test]
async fn resolver_refuses_validations_older_than_the_max_age() {
    const VALIDATED: &str = "2024-12-02T17:06:00.000Z";
    const DAY_BEFORE: &str = "2024-12-01T17:06:00.000Z";
    const SOON: &str = "December 2, 2024 5:10 PM";
    const DAY_AFTER: &str = "December 3, 2024 5:06 PM";
    let fresh = [
        [Some(VALIDATED), None, None, None],
        [Some(VALIDATED), Some(DAY_BEFORE), Some(DAY_BEFORE), None],
        [None, Some(VALIDATED), Some(DAY_BEFORE), None],
        [None, None, Some(VALIDATED), None],
        // A validation time up to two minutes ahead of Verifik's clock (seconds past its
        // minute, or a clock between them).
        [Some("2024-12-02T17:11:30.000Z"), None, None, None],
    ];
    for dates in fresh {
        let resolved = resolve_record(verifier, &validated_record(dates, Some(SOON))).await;
        assert_eq!(resolved.unwrap().phone, panama(), "{dates:?}");
    }
    let stale = [
        ([Some(VALIDATED), None, None, None], DAY_AFTER),
        ([Some(DAY_BEFORE), Some(VALIDATED), None, None], SOON),
        ([None, Some(DAY_BEFORE), Some(VALIDATED), None], SOON),
        ([None, None, Some(DAY_BEFORE), None], SOON),
        // No date to tell its age by, or one ahead of Verifik's clock.
        ([None, None, None, None], SOON),
        ([Some("2024-12-02T18:06:00.000Z"), None, None, None], SOON),
        // Sixteen minutes.
        (
            [Some(VALIDATED), None, None, None],
            "December 2, 2024 5:22 PM",
        ),
    ];
    for (dates, signed) in stale {
        let err = resolve_record(verifier, &validated_record(dates, Some(signed)))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Expired,
            "{dates:?} at {signed}: {err}"
        );
        assert_eq!(err.request_id(), Some("REQ-9"));
        assert!(!err.to_string().contains("62647737"), "{err}");
    }
    // Without a signature, this machine's clock is Verifik's.
    let now = OffsetDateTime::now_utc();
    let minutes_ago = |minutes| rfc3339(now - time::Duration::minutes(minutes));
    let recent = minutes_ago(1);
    let body = validated_record([Some(&recent), None, None, None], None);
    let resolved = resolve_record(verifier, &body).await.unwrap();
    assert_eq!(resolved.phone, panama());
    let old = minutes_ago(60);
    let err = resolve_record(
        verifier,
        &validated_record([Some(&old), None, None, None], None),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired, "{err}");
    // The max age is a setting: one minute refuses the record of four minutes ago.
    let strict = |server: &MockServer| {
        builder(server)
            .resolve_max_age(Duration::from_secs(60))
            .build()
            .unwrap()
    };
    let err = resolve_record(
        strict,
        &validated_record([Some(VALIDATED), None, None, None], Some(SOON)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired, "{err}");
}

/// In project-flow mode a validation of another project is unknown to the verifier.
#[tokio::test]
async fn a_project_verifier_resolves_only_its_projects_validations() {
    const VALIDATED: &str = "2024-12-02T17:06:00.000Z";
    const SOON: &str = "December 2, 2024 5:10 PM";
    // An ObjectId is hex: configured in capitals, it names the same project.
    let upper = PROJECT.to_ascii_uppercase();
    for configured in [PROJECT, upper.as_str()] {
        let project = |server: &MockServer| {
            builder(server)
                .mode(Mode::project_flow(configured).unwrap())
                .build()
                .unwrap()
        };
        for (theirs, found) in [
            (Some(PROJECT), true),
            (Some(upper.as_str()), true),
            (None, true),
            (Some("507f1f77bcf86cd7994390ff"), false),
        ] {
            let body = validated_record([Some(VALIDATED), None, None, theirs], Some(SOON));
            match resolve_record(project, &body).await {
                Ok(resolved) => assert!(found, "{configured} {theirs:?}: {resolved:?}"),
                Err(err) => {
                    assert!(!found, "{configured} {theirs:?}: {err}");
                    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
                    assert_eq!(err.request_id(), Some("REQ-9"));
                }
            }
        }
    }
    // A manual verifier has no project to hold a record to.
    let other = validated_record(
        [
            Some(VALIDATED),
            None,
            None,
            Some("507f1f77bcf86cd7994390ff"),
        ],
        Some(SOON),
    );
    resolve_record(verifier, &other).await.unwrap();
}

// ---- every documented reason ----------------------------------------------------------------

#[derive(Deserialize)]
struct ErrorFile {
    error: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    code: String,
    http_status: u16,
    kind: String,
    check: Option<String>,
}

fn kind_named(name: &str) -> ErrorKind {
    match name {
        "invalid_input" => ErrorKind::InvalidInput,
        "unauthorized" => ErrorKind::Unauthorized,
        "not_found" => ErrorKind::NotFound,
        "expired" => ErrorKind::Expired,
        "rate_limited" => ErrorKind::RateLimited,
        "quota_exhausted" => ErrorKind::QuotaExhausted,
        "blocked" => ErrorKind::Blocked,
        "conflict" => ErrorKind::Conflict,
        "unsupported" => ErrorKind::Unsupported,
        "provider_unavailable" => ErrorKind::ProviderUnavailable,
        "maybe_sent" => ErrorKind::MaybeSent,
        "provider" => ErrorKind::Provider,
        other => panic!("errors.toml names kind {other:?}"),
    }
}

fn reason_named(name: &str) -> RejectReason {
    match name {
        "wrong_code" => RejectReason::WrongCode,
        "expired" => RejectReason::Expired,
        "too_many_attempts" => RejectReason::TooManyAttempts,
        "not_found" | "pending_while_polling" => RejectReason::NotFound,
        other => panic!("errors.toml names check {other:?}"),
    }
}

fn documented_errors() -> Vec<Entry> {
    let text = include_str!("../errors.toml");
    let file: ErrorFile = toml::from_str(text).unwrap();
    file.error
}

fn envelopes(entry: &Entry) -> Vec<Value> {
    vec![
        json!({"code": entry.code, "message": format!("{}:{}", entry.http_status, entry.code)}),
        json!({"message": entry.code, "code": "Whatever", "id": "REQ-9"}),
        json!({"success": false, "error": "described", "code": entry.code, "id": "REQ-9"}),
    ]
}

#[tokio::test]
async fn every_documented_reason_in_a_check() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let handle = Verification::new(phone_verify_verifik::PROVIDER, ID, Channel::Sms)
        .with_phone(panama())
        .with_extra(EXTRA_PHONE_GATEWAY, "sms");
    let entries = documented_errors();
    assert!(entries.len() >= 20);
    for entry in &entries {
        for body in envelopes(entry) {
            server.reset().await;
            Mock::given(method("PUT"))
                .and(path("/v2/phone-validations"))
                .respond_with(json_response(entry.http_status, &body))
                .mount(&server)
                .await;
            let outcome = verifier.check_code(&handle, &code("123456")).await;
            if let Some(check) = &entry.check {
                let outcome = outcome.unwrap_or_else(|e| panic!("{body}: {e}"));
                let rejection = outcome.rejection().unwrap_or_else(|| panic!("{body}"));
                assert_eq!(rejection.reason, reason_named(check), "{body}");
                assert_eq!(
                    rejection.provider_code.as_deref(),
                    Some(entry.code.as_str())
                );
                assert!(rejection.message.is_some(), "{body}");
            } else {
                let err = outcome.expect_err(&body.to_string());
                assert_eq!(err.kind(), kind_named(&entry.kind), "{body}");
                assert_eq!(err.provider_code(), Some(entry.code.as_str()), "{body}");
                assert_eq!(err.http_status(), Some(entry.http_status));
                assert!(err.provider_message().is_some(), "{body}");
                if body.get("id").is_some() {
                    assert_eq!(err.request_id(), Some("REQ-9"));
                }
            }
        }
    }
}

#[tokio::test]
async fn every_documented_reason_answering_a_send_is_an_error() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    for entry in documented_errors() {
        server.reset().await;
        let body =
            json!({"code": entry.code, "message": format!("{}:{}", entry.http_status, entry.code)});
        Mock::given(method("POST"))
            .and(path("/v2/phone-validations/manual"))
            .respond_with(json_response(entry.http_status, &body))
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier
            .start(&StartRequest::sms(panama()))
            .await
            .expect_err(&entry.code);
        assert_eq!(err.kind(), kind_named(&entry.kind), "{}", entry.code);
        assert_eq!(err.provider_code(), Some(entry.code.as_str()));
        assert_eq!(err.provider_message(), body["message"].as_str());
    }
}

// ---- hostile answers, retries and secrets ---------------------------------------------------

#[tokio::test]
async fn hostile_answers_are_typed_errors() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let handle = Verification::new(phone_verify_verifik::PROVIDER, ID, Channel::Sms)
        .with_phone(panama())
        .with_extra(EXTRA_PHONE_GATEWAY, "sms");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let huge = format!("{{\"data\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    // A 200 Verifik answered to a check it took, but that cannot be used: what it did with the
    // code is unknown (the record, read back, proves nothing here: it is not found).
    let cases: Vec<(ResponseTemplate, ErrorKind)> = vec![
        (
            ResponseTemplate::new(200).set_body_string("not json"),
            ErrorKind::OutcomeUnknown,
        ),
        (ResponseTemplate::new(200), ErrorKind::OutcomeUnknown),
        (
            ResponseTemplate::new(200).set_body_string("[1,2]"),
            ErrorKind::OutcomeUnknown,
        ),
        (
            ResponseTemplate::new(200).set_body_string(deep),
            ErrorKind::OutcomeUnknown,
        ),
        (
            ResponseTemplate::new(200).set_body_string(huge),
            ErrorKind::OutcomeUnknown,
        ),
        (
            ResponseTemplate::new(200).set_body_bytes(vec![0xff, 0xfe, b'{']),
            ErrorKind::OutcomeUnknown,
        ),
        (
            json_response(200, &json!({"data": null})),
            ErrorKind::OutcomeUnknown,
        ),
        (
            json_response(200, &json!({"data": {"status": "validated"}})),
            ErrorKind::OutcomeUnknown,
        ),
        (
            json_response(200, &json!({"data": {"_id": ["x"]}})),
            ErrorKind::OutcomeUnknown,
        ),
        (
            // Verifik documents only `validated` for a 200: the code may have been used.
            json_response(200, &json!({"data": {"_id": ID, "status": "sent"}})),
            ErrorKind::OutcomeUnknown,
        ),
        (
            json_response(200, &json!({"data": {"_id": ID, "status": "Validated!"}})),
            ErrorKind::OutcomeUnknown,
        ),
        (
            json_response(
                200,
                &json!({"data": {"_id": ID, "countryCode": "+507", "phone": "1"}}),
            ),
            ErrorKind::OutcomeUnknown,
        ),
        (
            json_response(200, &json!({"data": {"_id": "has space"}})),
            ErrorKind::OutcomeUnknown,
        ),
        (
            json_response(200, &json!({"success": false})),
            ErrorKind::OutcomeUnknown,
        ),
        (
            // An error envelope no table lists, in a 200: Verifik took the check.
            json_response(200, &json!({"code": 42, "message": {"deep": true}})),
            ErrorKind::OutcomeUnknown,
        ),
        (
            ResponseTemplate::new(404).set_body_string("<html>nope</html>"),
            ErrorKind::NotFound,
        ),
        (
            ResponseTemplate::new(418).set_body_string("teapot"),
            ErrorKind::Provider,
        ),
    ];
    for (template, kind) in cases {
        server.reset().await;
        Mock::given(method("PUT"))
            .and(path("/v2/phone-validations"))
            .respond_with(template)
            .mount(&server)
            .await;
        let result = verifier.check_code(&handle, &code("123456")).await;
        let err = result.expect_err("a hostile answer");
        assert_eq!(err.kind(), kind, "{err}");
        assert!(!err.to_string().contains('\n'));
    }
}

#[tokio::test]
async fn sends_are_never_retried_and_server_errors_are_maybe_sent() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let cases = [
        // A plain 503 may come from a proxy that forwarded the send: in doubt.
        (503, None, ErrorKind::MaybeSent),
        // With `Retry-After`, refused before processing: nothing was sent.
        (503, Some("0"), ErrorKind::ProviderUnavailable),
        (502, None, ErrorKind::MaybeSent),
        (500, None, ErrorKind::MaybeSent),
        (504, None, ErrorKind::MaybeSent),
        (429, None, ErrorKind::RateLimited),
    ];
    for (status, retry_after, kind) in cases {
        server.reset().await;
        let mut answer = ResponseTemplate::new(status).set_body_string("<html>busy</html>");
        if let Some(wait) = retry_after {
            answer = answer.insert_header("retry-after", wait);
        }
        Mock::given(method("POST"))
            .and(path("/v2/phone-validations/manual"))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier
            .start(&StartRequest::sms(panama()))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            kind,
            "HTTP {status}, Retry-After {retry_after:?}"
        );
        server.verify().await;
    }
    // A timeout after the request left: the outcome is unknown.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations/manual"))
        .respond_with(
            json_response(200, &created("sms", &json!({"sent": true})))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let slow = builder(&server)
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(300)))
        .build()
        .unwrap();
    let err = slow.start(&StartRequest::sms(panama())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
}

#[tokio::test]
async fn checks_are_retried_only_when_verifik_refused_them_unprocessed() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .respond_with(json_response(200, &validated("validation")))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let handle = Verification::new(phone_verify_verifik::PROVIDER, ID, Channel::Sms)
        .with_phone(panama())
        .with_extra(EXTRA_PHONE_GATEWAY, "sms");
    let verifier = verifier(&server);
    let outcome = verifier.check_code(&handle, &code("123456")).await.unwrap();
    assert!(outcome.is_verified());
    // 503 without Retry-After: a proxy may answer so after forwarding the check, which may
    // have used the code. Not retried, and never a rejection: the validation is read back
    // (a GET nothing answers here, so it does not tell), and the outcome stays unknown.
    let err = verifier
        .check_code(&handle, &code("123456"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    let checks = requests(&server).await;
    let checks = checks.iter().filter(|r| r.method == "PUT").count();
    assert_eq!(checks, 4);
}

#[tokio::test]
async fn login_confirmations_use_the_code_up_and_are_retried_only_when_unprocessed() {
    let server = MockServer::start().await;
    for confirm in ["phone-login", "email-login"] {
        // 503 with Retry-After: refused before processing, retried.
        Mock::given(method("POST"))
            .and(path(format!("/v2/projects/{confirm}/confirm")))
            .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/v2/projects/{confirm}/confirm")))
            .respond_with(json_response(
                200,
                &json!({"data": {"accessToken": "jwt-from-login", "tokenType": "bearer"}}),
            ))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        // 502: the code may have been used up; a repeat could only fail.
        Mock::given(method("POST"))
            .and(path(format!("/v2/projects/{confirm}/confirm")))
            .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
            .expect(1)
            .mount(&server)
            .await;
    }
    let login = VerifikBuilder::without_token()
        .base_url(&format!("{}/v2", server.uri()))
        .retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .build_client()
        .unwrap();
    let phone = VerifikPhone::new("+1", "1234566663").unwrap();
    let token = login
        .phone_login_confirm(&phone, &code("123456"))
        .await
        .unwrap();
    assert_eq!(token.secret().expose_secret(), "jwt-from-login");
    let err = login
        .phone_login_confirm(&phone, &code("123456"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(err.http_status(), Some(502));
    assert_eq!(requests(&server).await.len(), 3, "the 502 is not retried");
    let token = login
        .email_login_confirm("ana@acme.test", &code("654321"))
        .await
        .unwrap();
    assert_eq!(token.secret().expose_secret(), "jwt-from-login");
    let err = login
        .email_login_confirm("ana@acme.test", &code("654321"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(requests(&server).await.len(), 6, "the 502 is not retried");
}

#[tokio::test]
async fn a_token_answer_without_a_usable_token_keeps_its_doubt_status_and_request_id() {
    let server = MockServer::start().await;
    for confirm in ["phone-login", "email-login"] {
        Mock::given(method("POST"))
            .and(path(format!("/v2/projects/{confirm}/confirm")))
            .respond_with(json_response(
                200,
                &json!({"data": {"tokenType": "bearer"}, "id": "Y0700"}),
            ))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v2/auth/renew-and-revoke"))
        .respond_with(json_response(200, &json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let login = without_token(&server);
    let phone = VerifikPhone::new("+1", "1234566663").unwrap();
    // A login confirmation used the code up: what became of it is unknown.
    for err in [
        login
            .phone_login_confirm(&phone, &code("123456"))
            .await
            .unwrap_err(),
        login
            .email_login_confirm("ana@acme.test", &code("654321"))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
        assert_eq!(err.http_status(), Some(200), "{err}");
        assert_eq!(err.request_id(), Some("Y0700"), "{err}");
        assert!(!err.is_retryable());
    }
    assert!(!login.has_token());
    // Renew-and-revoke took effect: the error says the older tokens may be gone.
    let client = client(&server);
    let err = client.renew_and_revoke().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert_eq!(err.http_status(), Some(200));
    assert!(err.to_string().contains("revoked"), "{err}");
    assert!(!err.to_string().contains(TOKEN), "{err}");
}

#[tokio::test]
async fn a_registration_token_echoed_in_an_error_is_scrubbed() {
    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.registration-jwt-4711";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations/app-registration"))
        .respond_with(json_response(
            401,
            &json!({"code": "Unauthorized", "message": format!("401:token {JWT} expired")}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let registration = SecretString::from(JWT.to_owned());
    let phone = VerifikPhone::new("+507", "62647737").unwrap();
    let request = CreateProjectValidation::new(PROJECT, phone, ValidationType::Onboarding);
    let err = client(&server)
        .create_app_registration_validation(&registration, &request)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    let shown = format!("{err} {err:?} {:?}", err.provider_message());
    for part in ["eyJhbGciOiJIUzI1NiJ9", "registration-jwt"] {
        assert!(!shown.contains(part), "{shown}");
    }
    assert!(
        err.provider_message()
            .is_some_and(|m| m.contains("<redacted>"))
    );
}

#[tokio::test]
async fn codes_keep_their_digits_on_the_wire() {
    let server = MockServer::start().await;
    for otp in [json!("012345"), json!(123_456), json!("0000")] {
        Mock::given(method("PUT"))
            .and(path("/v2/phone-validations"))
            .and(body_json(
                json!({"phone": "62647737", "countryCode": "+507", "otp": otp}),
            ))
            .respond_with(json_response(200, &validated("validation")))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations/validate"))
        .and(body_json(json!({
            "phone": "62647737", "countryCode": "+507", "otp": "012345",
            "project": PROJECT, "phoneGateway": "whatsapp"
        })))
        .respond_with(json_response(200, &validated("validation")))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let phone = VerifikPhone::new("+507", "62647737").unwrap();
    for digits in ["012345", "123456", "0000"] {
        let validated = client
            .validate(&ValidatePhone::new(phone.clone(), code(digits)))
            .await
            .unwrap();
        assert!(validated.is_validated(), "{digits}");
    }
    let request = ValidatePhone::new(phone.clone(), code("012345"))
        .project(PROJECT)
        .gateway(PhoneGateway::WhatsApp);
    let validated = client.validate_by_post(&request).await.unwrap();
    assert_eq!(validated.id, ID);
    let sent = requests(&server).await;
    assert_bearer_json(&sent[3]);
    let body = std::str::from_utf8(&sent[0].body).unwrap();
    assert!(body.contains(r#""otp":"012345""#), "{body}");
    let body = std::str::from_utf8(&sent[1].body).unwrap();
    assert!(body.contains(r#""otp":123456"#), "{body}");
    // Letters never leave the machine.
    let err = client
        .validate_by_post(&ValidatePhone::new(phone, code("12AB56")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(requests(&server).await.len(), 4);
}

#[tokio::test]
async fn app_registrations_send_the_documented_body_and_return_their_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/app-registrations"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({
            "project": PROJECT,
            "projectFlow": "507f1f77bcf86cd799439015",
            "fullName": "Ana Pérez",
            "email": "ana@acme.test",
            "phone": "62647737",
            "countryCode": "+507",
            "language": "es"
        })))
        .respond_with(json_response(
            200,
            &json!({"success": true, "data": {
            "_id": "65a4f2b0c0ffee0000000001", "client": "507f1f77bcf86cd799439013",
            "project": PROJECT, "projectFlow": "507f1f77bcf86cd799439015", "status": "new",
            "email": "ana@acme.test", "phone": "62647737", "countryCode": "+507",
            "fullName": "Ana Pérez", "language": "es", "token": "registration-jwt-canary",
            "createdAt": "2024-01-15T10:30:00Z", "updatedAt": "2024-01-15T10:30:00Z"
        }, "id": "AR001"}),
        ))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/app-registrations"))
        .respond_with(json_response(
            409,
            &json!({"code": "phone_is_registered_already", "message": "409:phone_is_registered_already"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let request = phone_verify_verifik::CreateAppRegistration::new(
        PROJECT,
        "507f1f77bcf86cd799439015",
        " Ana Pérez ",
    )
    .email(" ana@acme.test ")
    .phone(VerifikPhone::new("+507", "6264 7737").unwrap())
    .language("es-PA");
    let registration = client.create_app_registration(&request).await.unwrap();
    assert_eq!(registration.id, "65a4f2b0c0ffee0000000001");
    assert_eq!(
        registration.token.expose_secret(),
        "registration-jwt-canary"
    );
    assert_eq!(registration.request_id.as_deref(), Some("AR001"));
    assert_eq!(registration.phone_number(), Some(panama()));
    assert!(!format!("{registration:?}{request:?}").contains("canary"));
    assert!(!format!("{request:?}").contains("ana@"));
    assert_bearer_json(&requests(&server).await[0]);

    let err = client.create_app_registration(&request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.provider_code(), Some("phone_is_registered_already"));
    assert_eq!(err.http_status(), Some(409));

    // Checked before any request.
    let bad = [
        phone_verify_verifik::CreateAppRegistration::new(
            PROJECT,
            "507f1f77bcf86cd799439015",
            "Ana",
        ),
        phone_verify_verifik::CreateAppRegistration::new(PROJECT, "../flow", "Ana")
            .email("ana@acme.test"),
        phone_verify_verifik::CreateAppRegistration::new(PROJECT, "507f1f77bcf86cd799439015", " ")
            .email("ana@acme.test"),
        phone_verify_verifik::CreateAppRegistration::new(
            PROJECT,
            "507f1f77bcf86cd799439015",
            "Ana",
        )
        .email("not-an-address"),
        phone_verify_verifik::CreateAppRegistration::new(
            PROJECT,
            "507f1f77bcf86cd799439015",
            "Ana",
        )
        .email("ana@acme.test")
        .language("??"),
    ];
    for request in &bad {
        let err = client.create_app_registration(request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{request:?}");
    }
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn project_create_sends_the_flow_the_gateway_and_the_language_only_when_set() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations"))
        .and(body_json(json!({
            "project": PROJECT, "validationMethod": "verificationCode", "phone": "62647737",
            "countryCode": "+507", "type": "validation",
            "projectFlow": "507f1f77bcf86cd799439015", "phoneGateway": "sms", "language": "pt"
        })))
        .respond_with(json_response(
            200,
            &created("sms", &json!({"language": "pt"})),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/phone-validations"))
        .and(body_json(json!({
            "project": PROJECT, "validationMethod": "verificationCode", "phone": "62647737",
            "countryCode": "+507", "type": "validation"
        })))
        .respond_with(json_response(200, &created("whatsapp", &json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let phone = VerifikPhone::new("+507", "62647737").unwrap();
    let plain = CreateProjectValidation::new(PROJECT, phone, ValidationType::Validation);
    let created = client
        .create_project_validation(
            &plain
                .clone()
                .project_flow("507f1f77bcf86cd799439015")
                .gateway(PhoneGateway::Sms)
                .language("pt-BR"),
        )
        .await
        .unwrap();
    assert_eq!(created.phone_gateway, Some(PhoneGateway::Sms));
    assert_eq!(created.language.as_deref(), Some("pt"));
    client.create_project_validation(&plain).await.unwrap();
    for bad in [
        plain.clone().gateway(PhoneGateway::None),
        plain
            .clone()
            .gateway(PhoneGateway::Other("telegram".into())),
        plain.clone().language("x"),
        plain.clone().project_flow("a/b"),
    ] {
        let err = client.create_project_validation(&bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn injected_reqwest_clients_are_used() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/phone-validations/{ID}")))
        .and(header("user-agent", "acme-backend/1.0"))
        .respond_with(json_response(
            200,
            &json!({"success": true, "data": {"_id": ID}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let reqwest = reqwest::Client::builder()
        .user_agent("acme-backend/1.0")
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = builder(&server)
        .reqwest_client(reqwest)
        .build_client()
        .unwrap();
    let found = client.get_validation(ID).await.unwrap();
    assert_eq!(found.id, ID);
}

#[tokio::test]
async fn handles_without_extras_still_check() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/v2/phone-validations"))
        .and(body_json(json!({"phone": "62647737", "countryCode": "+507", "otp": 123_456, "phoneGateway": "sms"})))
        .respond_with(json_response(412, &json!({"code": "phoneValidation_has_expired", "message": "412:phoneValidation_has_expired"})))
        .expect(1)
        .mount(&server)
        .await;
    let handle = Verification::new(phone_verify_verifik::PROVIDER, ID, Channel::Sms)
        .with_phone(panama())
        .with_created_at(OffsetDateTime::UNIX_EPOCH);
    let outcome = verifier(&server)
        .check_code(&handle, &code("123456"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        CheckOutcome::Rejected(
            phone_verify_core::Rejection::new(RejectReason::Expired)
                .with_provider_code("phoneValidation_has_expired")
                .with_message("412:phoneValidation_has_expired")
        )
    );
}

// ---- token races, unusable successes and provider text ----------------------------------------

/// A renewal whose answer arrives last does not replace a token that a token call started after
/// it installed: renew-and-revoke's token (which revoked every older one, the renewal's
/// included) stays, and the next call sends it.
#[tokio::test]
async fn a_token_minted_earlier_never_replaces_one_a_later_call_installed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/auth/session"))
        .and(header("authorization", TOKEN))
        .respond_with(
            json_response(
                200,
                &json!({"accessToken": "jwt-t1", "tokenType": "bearer"}),
            )
            .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/auth/renew-and-revoke"))
        .and(header("authorization", TOKEN))
        .respond_with(json_response(200, &json!({"token": "jwt-t2"})))
        .expect(1)
        .mount(&server)
        .await;
    read_once_with_token(&server, "jwt-t2").await;
    let client = client(&server);
    let (renewed, revoked) = tokio::join!(client.renew_session(1), client.renew_and_revoke());
    // Both calls minted their token and return it.
    assert_eq!(renewed.unwrap().secret().expose_secret(), "jwt-t1");
    assert_eq!(revoked.unwrap().secret().expose_secret(), "jwt-t2");
    client.get_validation(ID).await.unwrap();
    // A token installed by hand after a call started is not replaced by that call's either.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/v2/auth/session"))
        .respond_with(
            json_response(
                200,
                &json!({"accessToken": "jwt-t3", "tokenType": "bearer"}),
            )
            .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;
    read_once_with_token(&server, "jwt-by-hand").await;
    let by_hand = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        client.set_token(SecretString::from("jwt-by-hand")).unwrap();
    };
    let (renewed, ()) = tokio::join!(client.renew_session(1), by_hand);
    assert_eq!(renewed.unwrap().secret().expose_secret(), "jwt-t3");
    client.get_validation(ID).await.unwrap();
    // Renew-and-revoke counts from its answer: a renewal started after it, with the old token,
    // was processed before the revocation (or refused), so its token is revoked too, in
    // either order of the answers.
    for revoke_answers_last in [true, false] {
        server.reset().await;
        // The renewal starts at 50 ms, with the old token, before the revocation answers.
        let (revoke_delay, renew_delay) = if revoke_answers_last {
            (400, 0)
        } else {
            (400, 800)
        };
        Mock::given(method("POST"))
            .and(path("/v2/auth/renew-and-revoke"))
            .respond_with(
                json_response(200, &json!({"token": "jwt-rr"}))
                    .set_delay(Duration::from_millis(revoke_delay)),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v2/auth/session"))
            .and(header("authorization", TOKEN))
            .respond_with(
                json_response(200, &json!({"accessToken": "jwt-s", "tokenType": "bearer"}))
                    .set_delay(Duration::from_millis(renew_delay)),
            )
            .expect(1)
            .mount(&server)
            .await;
        read_once_with_token(&server, "jwt-rr").await;
        let client = common::client(&server);
        let renewal = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            client.renew_session(1).await
        };
        let (revoked, renewed) = tokio::join!(client.renew_and_revoke(), renewal);
        assert_eq!(revoked.unwrap().secret().expose_secret(), "jwt-rr");
        assert_eq!(renewed.unwrap().secret().expose_secret(), "jwt-s");
        client
            .get_validation(ID)
            .await
            .unwrap_or_else(|err| panic!("revoke answers last {revoke_answers_last}: {err}"));
    }
}

/// An error is scrubbed of the token its request was sent with, even when another call
/// installed a new token while the answer was on its way.
#[tokio::test]
async fn an_error_is_scrubbed_of_the_token_its_request_carried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/auth/session"))
        .and(header("authorization", TOKEN))
        .respond_with(
            json_response(
                400,
                &json!({"code": format!("Bad-{TOKEN}"), "message": format!("token {TOKEN} refused")}),
            )
            .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/auth/renew-and-revoke"))
        .and(header("authorization", TOKEN))
        .respond_with(json_response(200, &json!({"token": "jwt-t2"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let (renewed, revoked) = tokio::join!(client.renew_session(1), client.renew_and_revoke());
    revoked.unwrap();
    let err = renewed.unwrap_err();
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(TOKEN), "{shown}");
    }
    assert_eq!(err.provider_code(), Some("Bad-<redacted>"));
}

/// A 2xx answer to a send that carries an error envelope with a reason Verifik does not
/// document: Verifik took the request, and the answer cannot be used, so the code may be on
/// its way (`MaybeSent`), in either mode.
#[tokio::test]
async fn a_success_carrying_an_unknown_error_answering_a_send_is_maybe_sent() {
    let unknown = json_response(
        200,
        &json!({"code": "SomethingNew", "message": "unexpected"}),
    );
    for (create, mode) in [
        ("/v2/phone-validations/manual", Mode::manual()),
        (
            "/v2/phone-validations",
            Mode::project_flow(PROJECT).unwrap(),
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(create))
            .respond_with(unknown.clone())
            .expect(1)
            .mount(&server)
            .await;
        let verifier = builder(&server).mode(mode).build().unwrap();
        let request = StartRequest::otp(verifier.mode().channels()[0].clone(), panama());
        let err = verifier.start(&request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MaybeSent, "{create}: {err}");
        assert_eq!(err.provider_code(), Some("SomethingNew"));
    }
}

/// The status of a record that is not validated is Verifik's text: `resolve`'s error shows
/// neither the token, should Verifik echo it, nor a phone number, and stays short.
#[tokio::test]
async fn the_status_of_an_unvalidated_record_is_shown_clean() {
    let long = format!("{TOKEN} +905321234567 {}", "x".repeat(100 * 1024));
    for status in [TOKEN, "+905321234567", long.as_str()] {
        let body = json!({"success": true, "data": {
            "_id": ID, "status": status, "countryCode": "+507", "phone": "62647737",
            "phoneGateway": "sms", "type": "validation"
        }});
        let err = resolve_record(verifier, &body).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        let code = err.provider_code().unwrap_or_default().to_owned();
        for shown in [err.to_string(), format!("{err:?}"), code] {
            assert!(!shown.contains(TOKEN), "{shown}");
            assert!(!shown.contains("5321234567"), "{shown}");
            assert!(shown.len() < 2048, "{} bytes", shown.len());
        }
    }
}
